/**
 * The network walk between OVN's pipelines and NAT gateway nodes: on a compiled switch-only
 * network (the gateway's lan port and the pod on one switch), checked against the same steps
 * composed by hand; state kept across walks (the gateway's connections and OVN's conntrack); and
 * on hand-made programs: branching, loops ended by the hop limit or the TTL, and the named stops.
 */
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { formatIpv4, parseIpv4 } from "../../src/base/index.js";
import { compileNetwork } from "../../src/compile/index.js";
import { LogicalExecutor, createNatGateway, walkNetwork, type NatGatewayConfig, type NatGatewayNode, type WalkResult } from "../../src/dataplane/index.js";
import { W, field, getField, newKey, setField } from "../../src/flow/index.js";
import { Acl, LogicalSwitch, Network, SwitchPort } from "../../src/model/index.js";
import { TraceRecorder, renderWalk } from "../../src/trace/index.js";
import { makeLogicalProgram, output, setOutport, type DpSpec } from "./build.js";

const ip = (s: string): number => parseIpv4(s)!;

const MAC = {
  pod: "00:00:00:00:01:02",
  lan: "00:00:00:00:01:fe",
  net1: "00:00:00:00:ee:01",
  extGw: "00:00:00:00:ee:fe",
  vpcGw: "00:00:00:aa:01:01",
} as const;

function macWords(mac: string): [number, number] {
  const b = mac.split(":").map((h) => parseInt(h, 16));
  return [((b[0]! << 8) | b[1]!) >>> 0, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

function pkt(ethSrc: string, ethDst: string, src: string, dst: string, sport: number, dport: number, proto = 17, ttl = 64): Uint32Array {
  const k = newKey();
  [k[W.ETH_SRC], k[W.ETH_SRC + 1]] = macWords(ethSrc);
  [k[W.ETH_DST], k[W.ETH_DST + 1]] = macWords(ethDst);
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), proto);
  setField(k, field("nw_ttl"), ttl);
  k[W.NW_SRC] = ip(src);
  k[W.NW_DST] = ip(dst);
  setField(k, field("tp_src"), sport);
  setField(k, field("tp_dst"), dport);
  return k;
}

function l34(k: Uint32Array): string {
  return `${formatIpv4(k[W.NW_SRC]!)}:${getField(k, field("tp_src"))} > ${formatIpv4(k[W.NW_DST]!)}:${getField(k, field("tp_dst"))} ttl ${getField(k, field("nw_ttl"))}`;
}

/** A gateway config written by hand (no router in this network). */
function handConfig(over: Partial<NatGatewayConfig> = {}): NatGatewayConfig {
  return {
    name: "gw1",
    lanPort: "natgw-lan",
    lanMac: MAC.lan,
    lanCidr: "10.0.1.254/24",
    vpcGatewayIp: "10.0.1.1",
    vpcGatewayMac: MAC.vpcGw,
    externalMac: MAC.net1,
    externalCidr: "172.16.3.200/24",
    externalGateway: "172.16.3.1",
    externalGatewayMac: MAC.extGw,
    eips: [{ ip: "172.16.3.203" }, { ip: "172.16.3.208" }],
    fips: [],
    dnats: [{ eip: "172.16.3.203", protocol: "tcp", externalPort: 8888, internalIp: "10.0.1.2", internalPort: 80 }],
    snats: [{ eip: "172.16.3.208", internalCidr: "10.0.1.0/24" }],
    routes: [{ cidr: "0.0.0.0/0", dev: "net1", via: "172.16.3.1" }],
    neighbors: [{ ip: "10.0.1.2", mac: MAC.pod, dev: "eth0" }],
    ...over,
  };
}

function node(c: NatGatewayConfig): NatGatewayNode {
  const n = createNatGateway(c);
  if (!n.ok) throw new Error(n.diags.map((d) => d.message).join("; "));
  return n.value;
}

/** One switch: the pod, the gateway's lan port; with `acls`, the pod only accepts replies. */
function switchNetwork(acls = false): Network {
  const vif = (name: string, addr: string): [string, SwitchPort] => [name, SwitchPort({ name, addresses: List([addr]) })];
  return Network({
    name: "sw-natgw",
    switches: OrderedMap([
      [
        "ls1",
        LogicalSwitch({
          name: "ls1",
          ports: OrderedMap([vif("pod1", `${MAC.pod} 10.0.1.2`), vif("natgw-lan", `${MAC.lan} 10.0.1.254`)]),
          acls: acls
            ? List([
                Acl({ direction: "from-lport", priority: 1000, match: 'inport == "pod1" && ip4', action: "allow-related" }),
                Acl({ direction: "to-lport", priority: 900, match: 'outport == "pod1" && ip4', action: "drop" }),
              ])
            : List(),
        }),
      ],
    ]),
  });
}

function compiled(net: Network) {
  const c = compileNetwork(net);
  if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
  return c.value.program;
}

describe("walkNetwork on a compiled switch with a NAT gateway", () => {
  it("pod → 8.8.8.8 leaves net1 SNATed; the reply comes back to the pod through the switch", () => {
    const program = compiled(switchNetwork());
    const ex = new LogicalExecutor(program, { classifier: "linear" });
    const g = node(handConfig());
    const pod = program.portByName.get("pod1")!;
    const w = walkNetwork(ex, [g], { kind: "ovn", datapath: pod.datapath, inport: pod.key, key: pkt(MAC.pod, MAC.lan, "10.0.1.2", "8.8.8.8", 40000, 53) });
    expect(w.hops.map((h) => h.kind)).toEqual(["ovn", "node"]);
    expect(w.hops[1]!.parent).toBe(0);
    expect(w.ends).toHaveLength(1);
    const end = w.ends[0]!;
    expect(end.kind, renderWalk(w)).toBe("left");
    if (end.kind === "left") {
      expect(end.gateway).toBe("gw1");
      expect(l34(end.key)).toBe("172.16.3.208:40000 > 8.8.8.8:53 ttl 63");
    }
    const r = walkNetwork(ex, [g], { kind: "node", gateway: "gw1", iface: "net1", key: pkt(MAC.extGw, MAC.net1, "8.8.8.8", "172.16.3.208", 53, 40000) });
    expect(r.hops.map((h) => h.kind)).toEqual(["node", "ovn"]);
    const back = r.ends[0]!;
    expect(back.kind, renderWalk(r)).toBe("delivered");
    if (back.kind === "delivered") {
      expect(back.output.portName).toBe("pod1");
      expect(l34(back.output.key)).toBe("8.8.8.8:53 > 10.0.1.2:40000 ttl 63");
    }
    // The OVN segment re-entered at the lan port.
    const seg = r.hops[1]!;
    if (seg.kind === "ovn") expect(seg.inportName).toBe("natgw-lan");
  });

  it("equals the same steps composed by hand (executor run, wire packet, gateway)", () => {
    const program = compiled(switchNetwork());
    const walkEx = new LogicalExecutor(program, { classifier: "linear" });
    const walkGw = node(handConfig());
    const handEx = new LogicalExecutor(program, { classifier: "linear" });
    const handGw = node(handConfig());
    const pod = program.portByName.get("pod1")!;
    const lan = program.portByName.get("natgw-lan")!;
    const probes = [
      pkt(MAC.pod, MAC.lan, "10.0.1.2", "8.8.8.8", 1000, 53),
      pkt(MAC.pod, MAC.lan, "10.0.1.2", "1.1.1.1", 2000, 443, 6),
      pkt(MAC.pod, MAC.lan, "10.0.1.2", "172.16.3.208", 2000, 22, 6),
    ];
    for (const k of probes) {
      const w = walkNetwork(walkEx, [walkGw], { kind: "ovn", datapath: pod.datapath, inport: pod.key, key: k });
      const run = handEx.run(k, { datapath: pod.datapath, inport: pod.key });
      expect(run.outputs.map((o) => o.portName)).toEqual(["natgw-lan"]);
      const wire = run.outputs[0]!.key.slice();
      wire.fill(0, 0, W.ETH_DST);
      const step = handGw.process(wire, "eth0");
      const walked = w.hops[1];
      expect(walked?.kind).toBe("node");
      if (walked?.kind === "node") {
        expect(Array.from(walked.step.key)).toEqual(Array.from(step.key));
        expect(walked.step.verdict).toEqual(step.verdict);
        expect(walked.step.hits).toEqual(step.hits);
      }
    }
    // And the inbound direction: a DNAT into the switch.
    const inbound = pkt(MAC.extGw, MAC.net1, "203.0.113.5", "172.16.3.203", 33333, 8888, 6);
    const w = walkNetwork(walkEx, [walkGw], { kind: "node", gateway: "gw1", iface: "net1", key: inbound });
    const step = handGw.process(inbound, "net1");
    const run = handEx.run(step.key, { datapath: lan.datapath, inport: lan.key });
    const end = w.ends[0]!;
    expect(end.kind).toBe("delivered");
    if (end.kind === "delivered") expect(Array.from(end.output.key)).toEqual(Array.from(run.outputs[0]!.key));
    expect(run.outputs[0]!.portName).toBe("pod1");
    expect(l34(run.outputs[0]!.key)).toBe("203.0.113.5:33333 > 10.0.1.2:80 ttl 63");
  });

  it("keeps OVN's conntrack across walks: the pod's stateful ACLs admit the reply only after the request", () => {
    const program = compiled(switchNetwork(true));
    const pod = program.portByName.get("pod1")!;
    const reply = () => pkt(MAC.extGw, MAC.net1, "8.8.8.8", "172.16.3.208", 53, 40000);
    const request = () => pkt(MAC.pod, MAC.lan, "10.0.1.2", "8.8.8.8", 40000, 53);
    // With both state tables fresh, the "reply" is not one: the gateway delivers it locally.
    const fresh = walkNetwork(new LogicalExecutor(program, { classifier: "linear" }), [node(handConfig())], { kind: "node", gateway: "gw1", iface: "net1", key: reply() });
    expect(fresh.ends.map((e) => e.kind)).toEqual(["local"]);
    // The gateway remembers the connection but OVN does not: the to-lport drop ACL stops it.
    const gwOnly = node(handConfig());
    walkNetwork(new LogicalExecutor(program, { classifier: "linear" }), [gwOnly], { kind: "ovn", datapath: pod.datapath, inport: pod.key, key: request() });
    const dropped = walkNetwork(new LogicalExecutor(program, { classifier: "linear" }), [gwOnly], { kind: "node", gateway: "gw1", iface: "net1", key: reply() });
    expect(dropped.ends.map((e) => e.kind), renderWalk(dropped)).toEqual(["ovn-drop"]);
    const d = dropped.ends[0]!;
    if (d.kind === "ovn-drop") expect(d.drop.stage).toBe("ls_out_acl");
    // Both remember it: the reply reaches the pod.
    const ex = new LogicalExecutor(program, { classifier: "linear" });
    const g = node(handConfig());
    const req = walkNetwork(ex, [g], { kind: "ovn", datapath: pod.datapath, inport: pod.key, key: request() });
    expect(req.ends.map((e) => e.kind)).toEqual(["left"]);
    const ok = walkNetwork(ex, [g], { kind: "node", gateway: "gw1", iface: "net1", key: reply() });
    expect(ok.ends.map((e) => e.kind), renderWalk(ok)).toEqual(["delivered"]);
  });

  it("renders OVN segments through a recorder and gateway segments as lines", () => {
    const program = compiled(switchNetwork());
    const ex = new LogicalExecutor(program, { classifier: "linear" });
    const pod = program.portByName.get("pod1")!;
    const w = walkNetwork(ex, [node(handConfig())], { kind: "ovn", datapath: pod.datapath, inport: pod.key, key: pkt(MAC.pod, MAC.lan, "10.0.1.2", "8.8.8.8", 40000, 53) }, { ovnSink: (k) => new TraceRecorder(program, k) });
    const text = renderWalk(w, { ovn: "minimal" });
    expect(text).toContain('output("natgw-lan");');
    expect(text).toContain("vpc-nat-gw gw1: POSTROUTING SHARED_SNAT rule 1: -A SHARED_SNAT -o net1 -s 10.0.1.0/24 -j SNAT --to-source 172.16.3.208 → ip4.src = 172.16.3.208");
    expect(text.trimEnd().split("\n").pop()).toBe("=> left the cluster on net1 of NAT gateway gw1: udp 172.16.3.208:40000 > 8.8.8.8:53 ttl 63");
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-made programs

/** Ports 1 (lanA), 2 (lanB), 3 (vm), 4 (vm2); each lan port sends to the other; vm2 floods. */
function loopProgram() {
  const dp: DpSpec = {
    key: 1,
    name: "sw",
    ports: [
      { name: "lanA", key: 1, type: "" },
      { name: "lanB", key: 2, type: "" },
      { name: "vm", key: 3, type: "" },
      { name: "vm2", key: 4, type: "" },
    ],
    multicast: [{ name: "_MC_flood", key: 32768, ports: [1, 3, 4] }],
    ingress: [
      { table: 0, priority: 10, match: { reg14: 1 }, actions: [setOutport(2), output] },
      { table: 0, priority: 10, match: { reg14: 2 }, actions: [setOutport(1), output] },
      { table: 0, priority: 10, match: { reg14: 4 }, actions: [setOutport(32768), output] },
    ],
    egress: [{ table: 0, priority: 0, actions: [output] }],
  };
  return makeLogicalProgram([dp]);
}

/** Two gateways whose default routes point at each other through the switch. */
function pingPong(): NatGatewayNode[] {
  const a = handConfig({ name: "A", lanPort: "lanA", lanMac: "00:00:00:00:0a:01", lanCidr: "10.0.0.1/24", snats: [], dnats: [], routes: [{ cidr: "0.0.0.0/0", dev: "eth0", via: "10.0.0.2" }], neighbors: [{ ip: "10.0.0.2", mac: "00:00:00:00:0b:01", dev: "eth0" }] });
  const b = handConfig({ name: "B", lanPort: "lanB", lanMac: "00:00:00:00:0b:01", lanCidr: "10.0.0.2/24", externalMac: "00:00:00:00:ee:02", snats: [], dnats: [], routes: [{ cidr: "0.0.0.0/0", dev: "eth0", via: "10.0.0.1" }], neighbors: [{ ip: "10.0.0.1", mac: "00:00:00:00:0a:01", dev: "eth0" }] });
  return [node(a), node(b)];
}

function kinds(w: WalkResult): string[] {
  return w.ends.map((e) => (e.kind === "walk-drop" ? `walk-drop:${e.reason}` : e.kind === "node-drop" ? `node-drop:${e.reason}` : e.kind));
}

describe("walkNetwork on hand-made programs", () => {
  it("ends a loop between two gateways with the hop limit", () => {
    const ex = new LogicalExecutor(loopProgram(), { classifier: "linear" });
    const w = walkNetwork(ex, pingPong(), { kind: "node", gateway: "A", iface: "net1", key: pkt(MAC.extGw, MAC.net1, "1.2.3.4", "9.9.9.9", 1, 2) }, { maxHops: 16 });
    expect(kinds(w)).toEqual(["walk-drop:hop-limit"]);
    expect(w.hops).toHaveLength(16);
    expect(w.hops.map((h) => (h.kind === "node" ? h.step.gateway : "ovn")).slice(0, 5)).toEqual(["A", "ovn", "B", "ovn", "A"]);
  });

  it("with a high hop limit, the TTL ends the loop instead, in a gateway", () => {
    const ex = new LogicalExecutor(loopProgram(), { classifier: "linear" });
    const w = walkNetwork(ex, pingPong(), { kind: "node", gateway: "A", iface: "net1", key: pkt(MAC.extGw, MAC.net1, "1.2.3.4", "9.9.9.9", 1, 2, 17, 5) }, { maxHops: 1000 });
    expect(kinds(w)).toEqual(["node-drop:ttl-exceeded"]);
    // TTL 5: the gateways forward at 5, 4, 3, 2 and drop at 1: five gateway passes, four OVN ones.
    expect(w.hops.filter((h) => h.kind === "node")).toHaveLength(5);
    expect(w.hops.filter((h) => h.kind === "ovn")).toHaveLength(4);
  });

  it("follows every branch of a flood, depth first in output order", () => {
    const ex = new LogicalExecutor(loopProgram(), { classifier: "linear" });
    const [a] = pingPong();
    const k = pkt("00:00:00:00:99:99", "ff:ff:ff:ff:ff:ff", "10.0.0.9", "10.0.0.1", 1, 2);
    const w = walkNetwork(ex, [a!], { kind: "ovn", datapath: 1, inport: 4, key: k });
    // lanA gets a copy (gateway A: broadcast to its own address is delivered locally), vm another.
    expect(kinds(w)).toEqual(["local", "delivered"]);
    expect(w.hops.map((h) => h.kind)).toEqual(["ovn", "node"]);
    const d = w.ends[1]!;
    if (d.kind === "delivered") expect(d.output.portName).toBe("vm");
  });

  it("names the stops: unknown gateway, lan port missing from the program, OVN drops", () => {
    const ex = new LogicalExecutor(loopProgram(), { classifier: "linear" });
    const k = pkt(MAC.extGw, MAC.net1, "1.2.3.4", "10.0.1.2", 1, 2);
    expect(kinds(walkNetwork(ex, [], { kind: "node", gateway: "nope", iface: "net1", key: k }))).toEqual(["walk-drop:unknown-gateway"]);
    // gw1's lan port "natgw-lan" is not in this program; its route to 10.0.1.2 is eth0.
    expect(kinds(walkNetwork(ex, [node(handConfig())], { kind: "node", gateway: "gw1", iface: "net1", key: k }))).toEqual(["walk-drop:gateway-port-missing"]);
    // Port 3 (vm) has no ingress rule: OVN's implicit drop.
    const w = walkNetwork(ex, [], { kind: "ovn", datapath: 1, inport: 3, key: k });
    expect(kinds(w)).toEqual(["ovn-drop"]);
    const e = w.ends[0]!;
    if (e.kind === "ovn-drop") expect(e.drop.reason).toBe("no-match");
    // A datapath that does not exist is the executor's drop too.
    expect(kinds(walkNetwork(ex, [], { kind: "ovn", datapath: 99, inport: 1, key: k }))).toEqual(["ovn-drop"]);
  });

  it("hands the gateway only what is on the wire (no registers or logical metadata)", () => {
    const ex = new LogicalExecutor(loopProgram(), { classifier: "linear" });
    const [a, b] = pingPong();
    const w = walkNetwork(ex, [a!, b!], { kind: "node", gateway: "A", iface: "net1", key: pkt(MAC.extGw, MAC.net1, "1.2.3.4", "9.9.9.9", 1, 2) }, { maxHops: 3 });
    const atB = w.hops[2]!;
    expect(atB.kind).toBe("node");
    if (atB.kind === "node") {
      expect(Array.from(atB.step.inKey.subarray(0, W.ETH_DST)).every((x) => x === 0)).toBe(true);
      expect(l34(atB.step.inKey)).toBe("1.2.3.4:1 > 9.9.9.9:2 ttl 63");
    }
  });
});
