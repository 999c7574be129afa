/**
 * OVN-IC end to end: a pod in az1 to a pod in az2 and back, across the two zones' gateway chassis
 * and the transit switch. The hop list must be hv -> gw (the router's chassis-redirect port) ->
 * other zone's gw (the transit switch's key) -> other zone's hv; the Geneve headers are checked by
 * decoding the wire bytes, and the keys they carry against each zone's own compiled program.
 * Also an untagged provider network (Kube-OVN's VLAN id 0), which fabric.test.ts's VLANs do not cover.
 */
import { join, resolve } from "node:path";
import { List } from "immutable";
import { describe, expect, it } from "vitest";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { compileMicroflow, compileNetwork, compilePhysical } from "../../src/compile/index.js";
import { Fabric, LogicalExecutor, type FabricResult, type WireHop } from "../../src/dataplane/index.js";
import type { Network } from "../../src/model/index.js";
import { flowId, type LogicalDatapath, type PhysicalPlan } from "../../src/ofp/index.js";
import { formatIpv4 } from "../../src/base/index.js";
import { decodeFrame, findLayer, ovnMetadataOf } from "../../src/packet/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const SCEN = resolve(import.meta.dirname, "../../scenarios");

function load(file: string): Network {
  const r = loadNetworkFile(join(SCEN, file));
  if (!r.ok) throw new Error(JSON.stringify(r.diags));
  return r.value.network;
}

const az1 = load("ovn-ic-az1.yaml");
const az2 = load("ovn-ic-az2.yaml");

function plan(n: Network): PhysicalPlan {
  const p = compilePhysical(n);
  if (!p.ok) throw new Error(JSON.stringify(p.diags));
  return p.value;
}

function keysOf(n: Network): { dp: (name: string) => number; port: (name: string) => number } {
  const c = compileNetwork(n);
  if (!c.ok) throw new Error("compile");
  const prog = c.value.program;
  return { dp: (name) => prog.datapathByName.get(name)!, port: (name) => prog.portByName.get(name)!.key };
}

/** A trace from `from` in `net`, over the zones `zones` (default: both bundled ones). */
function run(net: Network, from: string, to: string, zones: readonly Network[] = [az1, az2]): FabricResult {
  const fabric = new Fabric(zones.map(plan), { executorOptions: () => ({ ct: { kind: "trace" } }) });
  const c = compileNetwork(net);
  if (!c.ok) throw new Error("compile");
  const mf = compileMicroflow(c.value.program, undefined, friendlyMicroflow(net, from, to, { tcp: 80 }));
  if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
  const r = fabric.trace(from, mf.value.key);
  if (!r) throw new Error(`${from} is not bound`);
  return r;
}

function geneveOf(h: WireHop): { src: string; dst: string; vni: number; inport: number; outport: number; innerDst: string | undefined } {
  const d = decodeFrame(h.frame, 0, h.frame.length, 1);
  const ip = findLayer(d.layers, "ipv4")!;
  const g = findLayer(d.layers, "geneve")!;
  const md = ovnMetadataOf(g.repr)!;
  const inner = findLayer(d.layers, "ipv4", d.layers.indexOf(g));
  return { src: formatIpv4(ip.repr.src), dst: formatIpv4(ip.repr.dst), vni: g.repr.vni, inport: md.ingressPort, outport: md.egressPort, innerDst: inner && formatIpv4(inner.repr.dst) };
}

describe("OVN-IC: az1 to az2 across the transit switch", () => {
  it("p1a (hv1, az1) reaches p2b (hv2, az2) through gw1 and gw2", () => {
    const r = run(az1, "p1a", "10.2.1.3");
    const chassis = r.hops.filter((h) => h.kind === "chassis").map((h) => (h.kind === "chassis" ? `${h.zone}/${h.chassis}` : ""));
    expect(chassis).toEqual(["ovn-ic-az1/hv1", "ovn-ic-az1/gw1", "ovn-ic-az2/gw2", "ovn-ic-az2/hv2"]);
    const wires = r.hops.filter((h): h is WireHop => h.kind === "wire").map(geneveOf);
    const k1 = keysOf(az1);
    const k2 = keysOf(az2);
    // hv1 -> gw1: the router's datapath, out to the chassis-redirect port of its ts port.
    expect(wires[0]).toMatchObject({ src: "192.168.1.11", dst: "192.168.1.21", vni: k1.dp("lr1"), inport: k1.port("lr1-ls1"), outport: k1.port("cr-lr1-ts"), innerDst: "10.2.1.3" });
    // gw1 -> gw2: the transit switch, whose keys both zones share.
    expect(k1.dp("ts")).toBe(k2.dp("ts"));
    expect(wires[1]).toMatchObject({ src: "192.168.1.21", dst: "192.168.2.21", vni: k1.dp("ts"), inport: k1.port("ts-az1"), outport: k2.port("ts-az2") });
    expect(k1.port("ts-az2")).toBe(k2.port("ts-az2"));
    // gw2 -> hv2: az2's switch, from its router port to the pod.
    expect(wires[2]).toMatchObject({ src: "192.168.2.21", dst: "192.168.2.11", vni: k2.dp("ls2"), inport: k2.port("ls2-lr"), outport: k2.port("p2b") });
    const last = r.hops[r.hops.length - 1]!;
    expect(last).toMatchObject({ kind: "deliver", chassis: "hv2", port: "p2b" });
    // Two routers on the way: TTL 64 -> 62.
    const d = decodeFrame(last.kind === "deliver" ? last.frame : new Uint8Array(), 0, last.kind === "deliver" ? last.frame.length : 0, 1);
    expect(findLayer(d.layers, "ipv4")!.repr.ttl).toBe(62);
  });

  it("and back: p2a (hv2, az2) reaches p1a (hv1, az1)", () => {
    const r = run(az2, "p2a", "10.1.1.2");
    const chassis = r.hops.filter((h) => h.kind === "chassis").map((h) => (h.kind === "chassis" ? h.chassis : ""));
    expect(chassis).toEqual(["hv2", "gw2", "gw1", "hv1"]);
    expect(r.hops[r.hops.length - 1]).toMatchObject({ kind: "deliver", chassis: "hv1", port: "p1a" });
  });

  it("a pod on the gateway chassis itself sends straight over the transit switch", () => {
    const r = run(az1, "p1c", "10.2.1.2");
    const chassis = r.hops.filter((h) => h.kind === "chassis").map((h) => (h.kind === "chassis" ? h.chassis : ""));
    expect(chassis).toEqual(["gw1", "gw2", "hv2"]);
  });

  it("a gateway that is no interconnection gateway (no ovn-is-interconn) has no tunnel to the other zone", () => {
    const plain = az1.setIn(["chassis", "gw1", "isInterconn"], false);
    expect(plan(plain).chassis.get("gw1")!.tunnels.has("gw2")).toBe(false);
    expect(plan(az1).chassis.get("gw1")!.tunnels.has("gw2")).toBe(true);
    const r = run(plain, "p1a", "10.2.1.3", [plain, az2]);
    const chassis = r.hops.filter((h) => h.kind === "chassis").map((h) => (h.kind === "chassis" ? h.chassis : ""));
    expect(chassis).toEqual(["hv1", "gw1"]);
    const last = r.hops[r.hops.length - 1]!;
    expect(JSON.stringify(last)).toMatch(/is-interconn/);
    // A flood that reaches nobody says why: its remote port has no tunnel.
    const arp = plain.setIn(["switches", "ts", "ports", "ts-az2", "addresses"], List(["00:00:00:ff:00:02"]));
    const f = run(arp, "p1a", "10.2.1.3", [arp, az2]);
    expect(JSON.stringify(f.hops[f.hops.length - 1])).toMatch(/empty-multicast.*_MC_flood_l2: remote port ts-az2 is on chassis gw2, which has no tunnel from gw1 .*is-interconn/);
  });

  it("without the other zone loaded, the path ends at the zone boundary with a reason", () => {
    const fabric = new Fabric([plan(az1)], { executorOptions: () => ({ ct: { kind: "trace" } }) });
    const c = compileNetwork(az1);
    if (!c.ok) throw new Error("compile");
    const mf = compileMicroflow(c.value.program, undefined, friendlyMicroflow(az1, "p1a", "10.2.1.3", { tcp: 80 }));
    if (!mf.ok) throw new Error("mf");
    const r = fabric.trace("p1a", mf.value.key)!;
    const last = r.hops[r.hops.length - 1]!;
    expect(last.kind).toBe("drop");
    expect(last.kind === "drop" ? last.reason : "").toMatch(/gw2 is not simulated/);
  });
});

describe("OVN-IC: broadcast on the transit switch", () => {
  // az1 without the other zone's router address on its remote port: lr1 must resolve it by ARP.
  const unresolved = az1.setIn(["switches", "ts", "ports", "ts-az2", "addresses"], List(["00:00:00:ff:00:02"]));

  it("an ARP request to the other zone goes to its remote port's own key, and its router answers", () => {
    const r = run(unresolved, "p1a", "10.2.1.2", [unresolved, az2]);
    const wires = r.hops.filter((h): h is WireHop => h.kind === "wire").map((w) => ({ ...geneveOf(w), arp: findLayer(decodeFrame(w.frame, 0, w.frame.length, 1).layers, "arp")?.repr }));
    const k1 = keysOf(az1);
    const k2 = keysOf(az2);
    // gw1 -> gw2: the flood's copy for the remote port carries that port's key, not the group's
    // (physical.c: a remote port in a multicast group is tunnelled to as a port).
    expect(wires[1]).toMatchObject({ src: "192.168.1.21", dst: "192.168.2.21", vni: k1.dp("ts"), inport: k1.port("ts-az1"), outport: k1.port("ts-az2") });
    expect(wires[1]!.arp).toMatchObject({ op: 1 });
    // gw2 -> gw1: az2's router, reached through its transit switch port, answers.
    expect(wires[2]).toMatchObject({ src: "192.168.2.21", dst: "192.168.1.21", vni: k2.dp("ts"), inport: k2.port("ts-az2"), outport: k2.port("ts-az1") });
    expect(wires[2]!.arp).toMatchObject({ op: 2 });
    expect(formatIpv4(wires[2]!.arp!.spa)).toBe("169.254.100.2");
    expect(r.hops.filter((h) => h.kind === "chassis").map((h) => (h.kind === "chassis" ? `${h.zone}/${h.chassis}` : ""))).toEqual(["ovn-ic-az1/hv1", "ovn-ic-az1/gw1", "ovn-ic-az2/gw2", "ovn-ic-az1/gw1"]);
  });

  it("a flood from a tunnel reaches a router port on the transit switch only", () => {
    // Local output serves packets from tunnels too. On a transit switch it has the router port (the
    // sender is in another zone); elsewhere the router port is in remote output, served on the chassis
    // where the packet entered.
    const p = plan(az1);
    const gw1 = p.chassis.get("gw1")!;
    const ts = gw1.program.datapaths.get(keysOf(az1).dp("ts"))!;
    const ls1 = gw1.program.datapaths.get(keysOf(az1).dp("ls1"))!;
    expect(ts.transit).toBe(true);
    expect(ls1.transit).toBeUndefined();
    const flood = (dp: number): { local: string | undefined; remote: string | undefined } => ({ local: gw1.flows.get(flowId.local(dp, 32768))?.actions, remote: gw1.flows.get(flowId.remote(dp, 32768))?.actions });
    const rp = keysOf(az1).port("ts-az1");
    // ts: the router port in local output (served also for packets from a tunnel); the remote
    // port in remote output, tunnelled with its own key.
    expect(flood(ts.key).local).toContain(`load:0x${rp.toString(16)}->NXM_NX_REG15[]`);
    expect(flood(ts.key).remote).toContain(`load:0x${keysOf(az1).port("ts-az2").toString(16)}->NXM_NX_REG15[]`);
    expect(flood(ts.key).remote).toContain(`set_field:0x${keysOf(az1).port("ts-az2").toString(16)}->tun_metadata0`);
    // ls1: its router port only in remote output.
    const lp = keysOf(az1).port("ls1-lr");
    expect(flood(ls1.key).remote).toContain(`load:0x${lp.toString(16)}->NXM_NX_REG15[]`);
    expect(flood(ls1.key).local ?? "").not.toContain(`load:0x${lp.toString(16)}->NXM_NX_REG15[]`);
    // The executor does what the flows say: a broadcast from a tunnel to each switch's flood group.
    const exec = new LogicalExecutor(gw1.program, { ct: { kind: "trace" }, placement: gw1.placement });
    const bcast = (dp: LogicalDatapath, inport: string): string[] => {
      const mf = compileMicroflow(gw1.program, undefined, `inport == "${inport}" && eth.src == 00:00:00:ff:00:02 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ff:00:02 && arp.spa == 169.254.100.2 && arp.tpa == 169.254.100.1`);
      if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
      const r = exec.runFromTunnel(mf.value.key, { datapath: dp.key, inport: keysOf(az1).port(inport), outport: 32768 });
      return [...r.outputs.map((o) => `output ${o.portName}`), ...r.tunnels.map((t) => `tunnel ${t.outportName}`), ...r.drops.map((d) => `drop ${d.datapathName} ${d.reason}`)];
    };
    // lr1 gets the request for its own address and answers it, back over the transit switch.
    expect(bcast(ts, "ts-az2")).toEqual(["tunnel ts-az2"]);
    expect(bcast(ls1, "p1a")).toEqual(["drop ls1 empty-multicast"]);
  });
});

describe("an untagged provider network (Kube-OVN's VLAN id 0: no tag on the localnet port)", () => {
  const yaml = `
name: untagged
chassis:
  - {name: n1, encaps: [{type: geneve, ip: 192.168.9.1}], bridgeMappings: {phys: br-phys}, nics: {br-phys: eth1}}
  - {name: n2, encaps: [{type: geneve, ip: 192.168.9.2}], bridgeMappings: {phys: br-phys}, nics: {br-phys: eth1}}
switches:
  - name: flat
    ports:
      - {name: localnet.flat, type: localnet, addresses: [unknown], options: {network_name: phys}}
      - {name: a, addresses: ["00:00:00:00:09:0a 10.9.0.10"], chassis: n1}
      - {name: b, addresses: ["00:00:00:00:09:0b 10.9.0.11"], chassis: n2}
`;
  it("puts the frame on the wire without an 802.1Q header and classifies it by the absence of one", async () => {
    const { loadNetworkText } = await import("../../src/scenario/index.js");
    const l = loadNetworkText(yaml, "untagged.yaml");
    if (!l.ok) throw new Error(JSON.stringify(l.diags));
    const net = l.value.network;
    const p = plan(net);
    const fabric = new Fabric([p], { executorOptions: () => ({ ct: { kind: "trace" } }) });
    const c = compileNetwork(net);
    if (!c.ok) throw new Error("compile");
    const mf = compileMicroflow(c.value.program, undefined, friendlyMicroflow(net, "a", "b", { udp: 53 }));
    if (!mf.ok) throw new Error("mf");
    const r = fabric.trace("a", mf.value.key)!;
    expect(r.hops.map((h) => h.kind)).toEqual(["chassis", "wire", "chassis", "deliver"]);
    const wire = r.hops[1] as WireHop;
    expect(wire.medium).toBe("provider");
    expect(wire.vlan).toBe(0);
    const d = decodeFrame(wire.frame, 0, wire.frame.length, 1);
    expect(d.layers.map((x) => x.kind)).toEqual(["ethernet", "ipv4", "udp"]);
    // Table 0 on the receiver matches untagged frames only.
    const flow = [...p.chassis.get("n2")!.flows.values()].find((f) => f.note.includes("localnet.flat"))!;
    expect(flow.match).toContain("vlan_tci=0x0000/0x1000");
    expect(flow.actions).not.toContain("strip_vlan");
  });
});
