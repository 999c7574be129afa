/**
 * A Kubernetes node's host side (Kube-OVN natOutgoing, kube-ovn-mapping.md §1.6-§1.7): the host's
 * nat rules as `iptables -S` prints them, the new iptables matches and targets, the rule table
 * against a direct reading of the doc's rule list (its slow twin), the host on direct packets, the
 * config compiled from a model, and the walk OVN → host → outside → host → OVN.
 *
 * Expected rule texts are Kube-OVN v1.13's (`pkg/daemon/gateway_linux.go`, which compares its
 * strings with `iptables -S` output, so they are in that form) filled in for the node; the
 * reference evaluator follows the numbered list of §1.7, not ovnsim's code.
 */
import fc from "fast-check";
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { formatIpv4, parseIpv4 } from "../../src/base/index.js";
import { compileNetwork, nodeHostConfig } from "../../src/compile/index.js";
import {
  LogicalExecutor,
  NODE_HOST_CHAINS,
  buildNatTable,
  createNodeHost,
  formatIptRule,
  replyKey,
  walkNetwork,
  type NodeHostConfig,
  type NodeHostNode,
  type NodeHostStep,
  type WalkEnd,
} from "../../src/dataplane/index.js";
import { W, field, getField, newKey, setField } from "../../src/flow/index.js";
import {
  Chassis,
  Encap,
  IpsetEntry,
  LogicalRouter,
  LogicalSwitch,
  Network,
  NodeHost,
  NodeHostIpset,
  NodeHostSnat,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
  validateNetwork,
} from "../../src/model/index.js";
import { loadScenario } from "../../src/scenario/index.js";
import { renderWalk } from "../../src/trace/index.js";

const ip = (s: string): number => parseIpv4(s)!;

const MAC = {
  join: "0a:00:00:00:00:01",
  def: "0a:00:00:00:10:01",
  sub2: "0a:00:00:00:11:01",
  node1: "0a:00:00:64:00:02",
  node2: "0a:00:00:64:00:03",
  pod1: "0a:00:00:10:00:02",
  pod2: "0a:00:00:11:00:02",
  nic1: "02:00:c0:a8:00:0b",
  gw: "0a:00:00:00:fe:fe",
} as const;

// ---------------------------------------------------------------------------------------------
// §1.7's rules, filled in for node n1 (InternalIP 192.168.0.11) with a centralized SNAT.

const EXPECTED_RULES = [
  "-A PREROUTING -m comment --comment \"kube-ovn prerouting rules\" -j OVN-PREROUTING",
  "-A POSTROUTING -m comment --comment \"kube-ovn postrouting rules\" -j OVN-POSTROUTING",
  "-A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff",
  "-A OVN-MASQUERADE -j MASQUERADE --random-fully",
  // 1
  "-A OVN-POSTROUTING -m set --match-set ovn40services src -m set --match-set ovn40subnets dst -m mark --mark 0x4000/0x4000 -j SNAT --to-source 192.168.0.11 --random-fully",
  // 2
  "-A OVN-POSTROUTING -m mark --mark 0x4000/0x4000 -j OVN-MASQUERADE",
  // 3: hairpin through the host
  "-A OVN-POSTROUTING -m set --match-set ovn40subnets src -m set --match-set ovn40subnets dst -j OVN-MASQUERADE",
  // 4, 5
  "-A OVN-POSTROUTING -m mark --mark 0x80000/0x80000 -m set --match-set ovn40subnets-distributed-gw dst -j RETURN",
  "-A OVN-POSTROUTING -m mark --mark 0x80000/0x80000 -j OVN-MASQUERADE",
  // 6: TCP without SYN starting a connection
  "-A OVN-POSTROUTING -p tcp -m tcp --tcp-flags SYN NONE -m conntrack --ctstate NEW -j RETURN",
  // 7: routed traffic into natOutgoing subnets
  "-A OVN-POSTROUTING -m set ! --match-set ovn40subnets src -m set ! --match-set ovn40other-node src -m set --match-set ovn40subnets-nat dst -j RETURN",
  // 8, 9, 10
  "-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat-policy src -m set ! --match-set ovn40subnets dst -j OVN-NAT-POLICY",
  "-A OVN-POSTROUTING -m mark --mark 0x90001/0x90001 -j OVN-MASQUERADE",
  "-A OVN-POSTROUTING -m mark --mark 0x90002/0x90002 -j RETURN",
  // 11: the centralized subnet with gatewayNode n1:172.18.0.100
  "-A OVN-POSTROUTING -s 10.18.0.0/16 -m set ! --match-set ovn40subnets dst -j SNAT --to-source 172.18.0.100 --random-fully",
  // 12: natOutgoing
  "-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE",
  "-A OVN-PREROUTING -i ovn0 -m set --match-set ovn40subnets src -m set --match-set ovn40services dst -j MARK --set-xmark 0x4000/0x4000",
];

/** Node n1's host as plain config: ovn-default 10.16/16 (natOutgoing), sub2 10.17/16, central 10.18/16, join 100.64/16. */
function hostConfig(over: Partial<NodeHostConfig> = {}): NodeHostConfig {
  const m = (address: string, owner: string) => ({ address, owner });
  return {
    name: "n1",
    port: "node-n1",
    ovn0Mac: MAC.node1,
    ovn0Cidr: "100.64.0.2/16",
    joinGatewayIp: "100.64.0.1",
    joinGatewayMac: MAC.join,
    nic: "eth0",
    nicMac: MAC.nic1,
    nicCidr: "192.168.0.11/24",
    gateway: "192.168.0.1",
    gatewayMac: MAC.gw,
    ovn0Routes: [{ cidr: "10.16.0.0/16" }, { cidr: "10.17.0.0/16" }, { cidr: "10.18.0.0/16" }],
    ipsets: [
      { name: "ovn40services", members: [m("10.96.0.0/12", "SVC_CIDR")] },
      { name: "ovn40subnets", members: [m("100.64.0.0/16", "Subnet/join"), m("10.16.0.0/16", "Subnet/ovn-default"), m("10.17.0.0/16", "Subnet/sub2"), m("10.18.0.0/16", "Subnet/central")] },
      { name: "ovn40subnets-nat", members: [m("10.16.0.0/16", "Subnet/ovn-default"), m("10.18.0.0/16", "Subnet/central")] },
      { name: "ovn40subnets-distributed-gw", members: [m("100.64.0.0/16", "Subnet/join"), m("10.16.0.0/16", "Subnet/ovn-default"), m("10.17.0.0/16", "Subnet/sub2")] },
      { name: "ovn40other-node", members: [m("192.168.0.12", "Node/n2")] },
    ],
    centralizedSnats: [{ cidr: "10.18.0.0/16", ip: "172.18.0.100", owner: "Subnet/central" }],
    randomFully: true,
    neighbors: [],
    path: ["nodeHosts[n1]"],
    ...over,
  };
}

function host(over: Partial<NodeHostConfig> = {}): NodeHostNode {
  const h = createNodeHost(hostConfig(over));
  if (!h.ok) throw new Error(h.diags.map((d) => d.message).join("; "));
  return h.value;
}

function macWords(mac: string): [number, number] {
  const b = mac.split(":").map((h) => parseInt(h, 16));
  return [((b[0]! << 8) | b[1]!) >>> 0, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

function macAt(k: Uint32Array, word: number): string {
  const hi = k[word]!;
  const lo = k[word + 1]!;
  return [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

interface Pkt {
  readonly src: string;
  readonly dst: string;
  readonly proto?: number;
  readonly sport?: number;
  readonly dport?: number;
  readonly flags?: number;
  readonly ttl?: number;
  readonly ethSrc?: string;
  readonly ethDst?: string;
}

/** A packet as the join gateway (the router port) hands it to ovn0 (TTL already decremented by OVN). */
function fromOvn(p: Pkt): Uint32Array {
  return key({ ethSrc: MAC.join, ethDst: MAC.node1, ttl: 63, ...p });
}

function key(p: Pkt): Uint32Array {
  const k = newKey();
  const [sh, sl] = macWords(p.ethSrc ?? MAC.gw);
  const [dh, dl] = macWords(p.ethDst ?? MAC.nic1);
  k[W.ETH_SRC] = sh;
  k[W.ETH_SRC + 1] = sl;
  k[W.ETH_DST] = dh;
  k[W.ETH_DST + 1] = dl;
  setField(k, field("eth_type"), 0x0800);
  const proto = p.proto ?? 6;
  setField(k, field("nw_proto"), proto);
  setField(k, field("nw_ttl"), p.ttl ?? 64);
  k[W.NW_SRC] = ip(p.src);
  k[W.NW_DST] = ip(p.dst);
  setField(k, field("tp_src"), p.sport ?? 40000);
  setField(k, field("tp_dst"), p.dport ?? 443);
  if (proto === 6) setField(k, field("tcp_flags"), p.flags ?? 0x02);
  return k;
}

function l34(k: Uint32Array): string {
  return `${formatIpv4(k[W.NW_SRC]!)}:${getField(k, field("tp_src"))} > ${formatIpv4(k[W.NW_DST]!)}:${getField(k, field("tp_dst"))} ttl ${getField(k, field("nw_ttl"))}`;
}

/** The deciding rule of the step's POSTROUTING (its chain and number), or "none". */
function decidedBy(s: NodeHostStep): string {
  const hits = s.hits.filter((h) => h.hook === "POSTROUTING" && h.chain === "OVN-POSTROUTING");
  return hits.length ? `${hits[hits.length - 1]!.index} ${hits[hits.length - 1]!.target}` : "none";
}

// ---------------------------------------------------------------------------------------------

describe("the host's nat rules", () => {
  it("are §1.7's rules filled in for the node, as iptables -S prints them", () => {
    const h = host();
    const dump = h.iptablesSave();
    expect(dump.filter((l) => l.startsWith("-A "))).toEqual(EXPECTED_RULES);
    expect(dump.filter((l) => l.startsWith("-N "))).toEqual(["-N OVN-MASQUERADE", "-N OVN-NAT-POLICY", "-N OVN-POSTROUTING", "-N OVN-PREROUTING"]);
    // The doc's numbering: rules 1..12 of OVN-POSTROUTING, rule 11 only with a centralized SNAT.
    const post = h.table.rules("OVN-POSTROUTING");
    expect(post.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(post[0]!.path).toEqual(["nodeHosts[n1]", "address"]);
    expect(post[10]!.owner).toBe("Subnet/central");
  });

  it("without a centralized SNAT or --random-fully, rule 11 is absent and the targets carry no flag", () => {
    const h = host({ centralizedSnats: [], randomFully: false });
    const post = h.table.rules("OVN-POSTROUTING").map((r) => r.text);
    expect(post).toHaveLength(11);
    expect(post[10]).toBe("-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE");
    expect(post[0]).toBe("-A OVN-POSTROUTING -m set --match-set ovn40services src -m set --match-set ovn40subnets dst -m mark --mark 0x4000/0x4000 -j SNAT --to-source 192.168.0.11");
    expect(h.table.rules("OVN-MASQUERADE").map((r) => r.text)).toEqual(["-A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff", "-A OVN-MASQUERADE -j MASQUERADE"]);
  });
});

describe("iptables matches and targets", () => {
  it("print as iptables -S does", () => {
    expect(formatIptRule({ chain: "X", match: { modules: [{ kind: "mark", value: 0x10, mask: 0xffffffff, negate: true }] }, target: { kind: "RETURN" } })).toBe("-A X -m mark ! --mark 0x10 -j RETURN");
    expect(formatIptRule({ chain: "X", match: { proto: "tcp", modules: [{ kind: "tcp-flags", mask: 0x17, comp: 0x02 }] }, target: { kind: "RETURN" } })).toBe("-A X -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j RETURN");
    expect(formatIptRule({ chain: "X", match: { proto: "tcp", modules: [{ kind: "tcp-flags", mask: 0x3f, comp: 0 }] }, target: { kind: "RETURN" } })).toBe("-A X -p tcp -m tcp --tcp-flags ALL NONE -j RETURN");
    expect(formatIptRule({ chain: "X", match: { modules: [{ kind: "comment", text: "plain-word_1" }, { kind: "ctstate", states: ["NEW", "ESTABLISHED"] }] }, target: { kind: "MASQUERADE" } })).toBe(
      "-A X -m comment --comment plain-word_1 -m conntrack --ctstate NEW,ESTABLISHED -j MASQUERADE",
    );
  });

  it("building refuses what iptables would, each with a diagnostic", () => {
    const codes = (chains: string[], rules: Parameters<typeof buildNatTable>[1], sets = new Map()): string[] => {
      const r = buildNatTable(chains, rules, sets);
      return r.ok ? [] : r.diags.map((d) => d.code).sort();
    };
    expect(codes([], [{ chain: "POSTROUTING", match: { modules: [{ kind: "set", set: "nope", dir: "src" }] }, target: { kind: "RETURN" } }])).toEqual(["iptables.no-set"]);
    expect(codes([], [{ chain: "POSTROUTING", match: { proto: "udp", modules: [{ kind: "tcp-flags", mask: 2, comp: 0 }] }, target: { kind: "RETURN" } }])).toEqual(["iptables.tcp-flags-needs-proto"]);
    expect(codes([], [{ chain: "PREROUTING", match: {}, target: { kind: "MASQUERADE" } }])).toEqual(["iptables.bad-target"]);
    expect(codes([], [{ chain: "PREROUTING", match: {}, target: { kind: "MARK", value: -1, mask: 1 } }])).toEqual(["iptables.bad-mark"]);
    expect(codes([], [{ chain: "PREROUTING", match: { modules: [{ kind: "ctstate", states: [] }] }, target: { kind: "RETURN" } }])).toEqual(["iptables.bad-ctstate"]);
  });

  it("RETURN ends a user chain and resumes the caller; MARK changes the mark later rules see", () => {
    const t = buildNatTable(["A"], [
      { chain: "POSTROUTING", match: {}, target: { kind: "MARK", value: 0x4, mask: 0x4 } },
      { chain: "POSTROUTING", match: {}, target: { kind: "jump", chain: "A" } },
      { chain: "POSTROUTING", match: { modules: [{ kind: "mark", value: 0x4, mask: 0x4 }] }, target: { kind: "SNAT", toIp: 1 } },
      { chain: "A", match: {}, target: { kind: "RETURN" } },
      { chain: "A", match: {}, target: { kind: "SNAT", toIp: 2 } },
    ]);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    const d = t.value.evaluate("POSTROUTING", { proto: 17, src: 0, dst: 0, dport: 0 });
    expect(d.hits.map((h) => `${h.chain}:${h.index}:${h.target}`)).toEqual(["POSTROUTING:1:MARK", "POSTROUTING:2:jump", "A:1:RETURN", "POSTROUTING:3:SNAT"]);
    expect(d.rule?.target).toEqual({ kind: "SNAT", toIp: 1 });
    expect(d.mark).toBe(4);
    // RETURN in a built-in chain is its policy: no translation.
    const u = buildNatTable([], [
      { chain: "POSTROUTING", match: {}, target: { kind: "RETURN" } },
      { chain: "POSTROUTING", match: {}, target: { kind: "MASQUERADE" } },
    ]);
    expect(u.ok && u.value.evaluate("POSTROUTING", { proto: 17, src: 0, dst: 0, dport: 0 }).rule).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The slow twin: §1.7's list read directly, against the table.

const SETS: Record<string, string[]> = {
  "ovn40services": ["10.96.0.0/12"],
  "ovn40subnets": ["100.64.0.0/16", "10.16.0.0/16", "10.17.0.0/16", "10.18.0.0/16"],
  "ovn40subnets-nat": ["10.16.0.0/16", "10.18.0.0/16"],
  "ovn40subnets-distributed-gw": ["100.64.0.0/16", "10.16.0.0/16", "10.17.0.0/16"],
  "ovn40other-node": ["192.168.0.12"],
  "ovn40subnets-nat-policy": ["10.17.0.0/16"],
};

function inSet(name: string, addr: number): boolean {
  return SETS[name]!.some((c) => {
    const [a, l = "32"] = c.split("/");
    const len = Number(l);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return ((addr & mask) >>> 0) === ((ip(a!) & mask) >>> 0);
  });
}

type Outcome = "none" | "masquerade" | `snat ${string}`;

/** kube-ovn-mapping.md §1.7, OVN-POSTROUTING 1..12 in order; OVN-NAT-POLICY is empty. */
function reference(p: { proto: number; src: number; dst: number; flags: number; mark: number }): Outcome {
  const has = (m: number): boolean => (p.mark & m) === m;
  if (inSet("ovn40services", p.src) && inSet("ovn40subnets", p.dst) && has(0x4000)) return "snat 192.168.0.11";
  if (has(0x4000)) return "masquerade";
  if (inSet("ovn40subnets", p.src) && inSet("ovn40subnets", p.dst)) return "masquerade";
  if (has(0x80000) && inSet("ovn40subnets-distributed-gw", p.dst)) return "none";
  if (has(0x80000)) return "masquerade";
  if (p.proto === 6 && (p.flags & 0x02) === 0) return "none";
  if (!inSet("ovn40subnets", p.src) && !inSet("ovn40other-node", p.src) && inSet("ovn40subnets-nat", p.dst)) return "none";
  if (has(0x90001)) return "masquerade";
  if (has(0x90002)) return "none";
  const [net, len] = ["10.18.0.0", 16];
  if (((p.src >>> (32 - len)) === (ip(net) >>> (32 - len))) && !inSet("ovn40subnets", p.dst)) return "snat 172.18.0.100";
  if (inSet("ovn40subnets-nat", p.src) && !inSet("ovn40subnets", p.dst)) return "masquerade";
  return "none";
}

describe("the rule table against §1.7 read directly", () => {
  const h = host({ ipsets: Object.entries(SETS).map(([name, cs]) => ({ name, members: cs.map((address) => ({ address })) })) });
  const addrs = ["10.16.0.2", "10.17.0.2", "10.18.0.2", "100.64.0.3", "10.96.0.10", "192.168.0.12", "192.168.0.99", "8.8.8.8"].map(ip);
  it("decides the same translation for every packet", () => {
    fc.assert(
      fc.property(
        fc.record({
          proto: fc.constantFrom(6, 17, 1),
          src: fc.constantFrom(...addrs),
          dst: fc.constantFrom(...addrs),
          flags: fc.constantFrom(0, 0x02, 0x10, 0x12, 0x04),
          mark: fc.constantFrom(0, 0x4000, 0x80000, 0x90001, 0x90002, 0x84000, 0x99003),
          out: fc.constantFrom("eth0", "ovn0"),
        }),
        (p) => {
          const d = h.table.evaluate("POSTROUTING", { proto: p.proto, src: p.src, dst: p.dst, dport: 80, outIface: p.out, tcpFlags: p.flags, mark: p.mark });
          const t = d.rule?.target;
          const got: Outcome = t?.kind === "SNAT" ? `snat ${formatIpv4(t.toIp)}` : t?.kind === "MASQUERADE" ? "masquerade" : "none";
          expect(got).toBe(reference(p));
          // OVN-MASQUERADE clears the mark before it translates.
          if (t?.kind === "MASQUERADE") expect(d.mark).toBe(0);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The host on direct packets

describe("the host on direct packets", () => {
  it("a natOutgoing pod's packet for the outside leaves the NIC MASQUERADEd to the InternalIP, and the reply is undone", () => {
    const h = host();
    const out = h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8" }), "ovn0");
    expect(out.verdict).toMatchObject({ kind: "forward", iface: "eth0", leaves: true, unresolved: false });
    expect(l34(out.key)).toBe("192.168.0.11:40000 > 8.8.8.8:443 ttl 62");
    expect(out.route).toMatchObject({ prefix: "0.0.0.0/0", via: "192.168.0.1", dev: "eth0" });
    expect(macAt(out.key, W.ETH_SRC)).toBe(MAC.nic1);
    expect(macAt(out.key, W.ETH_DST)).toBe(MAC.gw);
    expect(decidedBy(out)).toBe("12 jump");
    const nat = out.hits.find((x) => x.chain === "OVN-POSTROUTING")!;
    expect(nat.sets?.[0]).toMatchObject({ set: "ovn40subnets-nat", dir: "src", negate: false, member: { owner: "Subnet/ovn-default" } });
    expect(out.hits.at(-1)).toMatchObject({ chain: "OVN-MASQUERADE", index: 2, target: "MASQUERADE" });
    // The reply, from the gateway to the NIC.
    const back = h.process(key({ src: "8.8.8.8", dst: "192.168.0.11", sport: 443, dport: 40000, flags: 0x12 }), "eth0");
    expect(back.ct).toBe("reply");
    expect(back.verdict).toMatchObject({ kind: "forward", iface: "ovn0", leaves: false });
    expect(l34(back.key)).toBe("8.8.8.8:443 > 10.16.0.2:40000 ttl 63");
    expect(back.route).toMatchObject({ prefix: "10.16.0.0/16", via: "100.64.0.1", dev: "ovn0" });
    expect(macAt(back.key, W.ETH_DST)).toBe(MAC.join);
    expect(macAt(back.key, W.ETH_SRC)).toBe(MAC.node1);
    // The next packet of the connection is translated from conntrack, without the rules.
    const again = h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8", flags: 0x10 }), "ovn0");
    expect(again.ct).toBe("established");
    expect(again.hits).toEqual([]);
    expect(l34(again.key)).toBe("192.168.0.11:40000 > 8.8.8.8:443 ttl 62");
  });

  it("a subnet without natOutgoing leaves with the pod's address", () => {
    const s = host().process(fromOvn({ src: "10.17.0.2", dst: "8.8.8.8", proto: 17, dport: 53 }), "ovn0");
    expect(s.verdict).toMatchObject({ kind: "forward", iface: "eth0" });
    expect(l34(s.key)).toBe("10.17.0.2:40000 > 8.8.8.8:53 ttl 62");
    expect(s.rewrites).toEqual([]);
  });

  it("a centralized subnet with node:ip is SNATed to that address by rule 11", () => {
    const s = host().process(fromOvn({ src: "10.18.0.5", dst: "1.1.1.1" }), "ovn0");
    expect(decidedBy(s)).toBe("11 SNAT");
    expect(l34(s.key)).toBe("172.18.0.100:40000 > 1.1.1.1:443 ttl 62");
  });

  it("a TCP packet without SYN that starts a connection is not NATed (rule 6)", () => {
    const s = host().process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8", flags: 0x10 }), "ovn0");
    expect(decidedBy(s)).toBe("6 RETURN");
    expect(l34(s.key)).toBe("10.16.0.2:40000 > 8.8.8.8:443 ttl 62");
  });

  it("routed traffic from outside into a natOutgoing subnet keeps its source (rule 7) and goes into OVN via ovn0", () => {
    const s = host().process(key({ src: "203.0.113.9", dst: "10.16.0.2" }), "eth0");
    expect(decidedBy(s)).toBe("7 RETURN");
    expect(s.verdict).toMatchObject({ kind: "forward", iface: "ovn0", leaves: false });
    expect(l34(s.key)).toBe("203.0.113.9:40000 > 10.16.0.2:443 ttl 63");
  });

  it("between two subnets through the host, the packet is MASQUERADEd to ovn0's address (rule 3)", () => {
    const s = host().process(fromOvn({ src: "10.16.0.2", dst: "10.17.0.2" }), "ovn0");
    expect(decidedBy(s)).toBe("3 jump");
    expect(s.verdict).toMatchObject({ kind: "forward", iface: "ovn0" });
    expect(l34(s.key)).toBe("100.64.0.2:40000 > 10.17.0.2:443 ttl 62");
  });

  it("two pods with the same source port towards one server get distinct ports on the node address", () => {
    const h = host();
    const a = h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8" }), "ovn0");
    const b = h.process(fromOvn({ src: "10.16.0.3", dst: "8.8.8.8" }), "ovn0");
    expect(l34(a.key)).toBe("192.168.0.11:40000 > 8.8.8.8:443 ttl 62");
    expect(l34(b.key)).toBe("192.168.0.11:40001 > 8.8.8.8:443 ttl 62");
    const back = h.process(key({ src: "8.8.8.8", dst: "192.168.0.11", sport: 443, dport: 40001 }), "eth0");
    expect(l34(back.key)).toBe("8.8.8.8:443 > 10.16.0.3:40000 ttl 63");
  });

  it("its own addresses are delivered locally, Service addresses stop at kube-proxy, and it drops what Linux drops", () => {
    const h = host();
    expect(h.process(fromOvn({ src: "10.16.0.2", dst: "192.168.0.11" }), "ovn0").verdict).toMatchObject({ kind: "local" });
    expect(h.process(fromOvn({ src: "10.16.0.2", dst: "100.64.0.2" }), "ovn0").verdict).toMatchObject({ kind: "local" });
    const svc = h.process(fromOvn({ src: "10.16.0.2", dst: "10.96.0.10" }), "ovn0");
    expect(svc.verdict.kind === "local" && svc.verdict.note).toMatch(/Service address .*kube-proxy/);
    expect(svc.hits.map((x) => x.chain)).toEqual(["PREROUTING", "OVN-PREROUTING"]);
    expect(svc.mark).toBe(0x4000);
    expect(h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8", ethDst: "0a:00:00:00:00:99" }), "ovn0").verdict).toMatchObject({ kind: "drop", reason: "l2-not-host" });
    expect(h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8", ttl: 1 }), "ovn0").verdict).toMatchObject({ kind: "drop", reason: "ttl-exceeded" });
    expect(h.process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8" }), "eth7").verdict).toMatchObject({ kind: "drop", reason: "l2-not-host" });
  });

  it("without a gateway MAC the packet still leaves, with destination MAC 0", () => {
    const s = host({ gateway: undefined, gatewayMac: undefined }).process(fromOvn({ src: "10.16.0.2", dst: "8.8.8.8" }), "ovn0");
    expect(s.verdict).toMatchObject({ kind: "forward", iface: "eth0", unresolved: true });
    expect(s.route).toMatchObject({ prefix: "0.0.0.0/0", dev: "eth0" });
    expect(s.route?.via).toBeUndefined();
  });

  it("a bad config is a diagnostic per problem, with its path", () => {
    const r = createNodeHost(hostConfig({ nicCidr: "192.168.0", ovn0Mac: "zz", centralizedSnats: [{ cidr: "10.18.0.0/16", ip: "x", path: ["nodeHosts[n1]", "centralizedSnats", 0] }] }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags.map((d) => `${d.code} ${JSON.stringify(d.path)}`).sort()).toEqual([
      'nodehost.bad-cidr ["nodeHosts[n1]","address"]',
      'nodehost.bad-ip ["nodeHosts[n1]","centralizedSnats",0]',
      'nodehost.bad-mac ["nodeHosts[n1]","port"]',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// From a model network, through OVN and the host

function network(): Network {
  const rport = (name: string, rp: string): [string, SwitchPort] => [name, SwitchPort({ name, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", rp]]) })];
  const vif = (name: string, addr: string, chassis: string): [string, SwitchPort] => [name, SwitchPort({ name, addresses: List([addr]), chassis })];
  const entries = (xs: [string, string][]) => List(xs.map(([address, owner]) => IpsetEntry({ address, owner })));
  const ipsets = (other: string) =>
    OrderedMap([
      ["ovn40services", NodeHostIpset({ name: "ovn40services", members: entries([["10.96.0.0/12", "SVC_CIDR"]]) })],
      ["ovn40subnets", NodeHostIpset({ name: "ovn40subnets", members: entries([["100.64.0.0/16", "Subnet/join"], ["10.16.0.0/16", "Subnet/ovn-default"], ["10.17.0.0/16", "Subnet/sub2"]]) })],
      ["ovn40subnets-nat", NodeHostIpset({ name: "ovn40subnets-nat", members: entries([["10.16.0.0/16", "Subnet/ovn-default (natOutgoing: true)"]]) })],
      ["ovn40other-node", NodeHostIpset({ name: "ovn40other-node", members: entries([[other, "Node/other"]]) })],
    ]);
  return Network({
    name: "natout",
    chassis: OrderedMap([
      ["n1", Chassis({ name: "n1", encaps: List([Encap({ type: "geneve", ip: "192.168.0.11" })]) })],
      ["n2", Chassis({ name: "n2", encaps: List([Encap({ type: "geneve", ip: "192.168.0.12" })]) })],
    ]),
    switches: OrderedMap([
      ["join", LogicalSwitch({ name: "join", ports: OrderedMap([rport("join-ovn-cluster", "ovn-cluster-join"), vif("node-n1", `${MAC.node1} 100.64.0.2`, "n1"), vif("node-n2", `${MAC.node2} 100.64.0.3`, "n2")]) })],
      ["ovn-default", LogicalSwitch({ name: "ovn-default", ports: OrderedMap([rport("ovn-default-ovn-cluster", "ovn-cluster-ovn-default"), vif("p1.default", `${MAC.pod1} 10.16.0.2`, "n1")]) })],
      ["sub2", LogicalSwitch({ name: "sub2", ports: OrderedMap([rport("sub2-ovn-cluster", "ovn-cluster-sub2"), vif("p2.ns2", `${MAC.pod2} 10.17.0.2`, "n1")]) })],
    ]),
    routers: OrderedMap([
      [
        "ovn-cluster",
        LogicalRouter({
          name: "ovn-cluster",
          ports: OrderedMap([
            ["ovn-cluster-join", RouterPort({ name: "ovn-cluster-join", mac: MAC.join, networks: List(["100.64.0.1/16"]) })],
            ["ovn-cluster-ovn-default", RouterPort({ name: "ovn-cluster-ovn-default", mac: MAC.def, networks: List(["10.16.0.1/16"]) })],
            ["ovn-cluster-sub2", RouterPort({ name: "ovn-cluster-sub2", mac: MAC.sub2, networks: List(["10.17.0.1/16"]) })],
          ]),
          staticRoutes: List([StaticRoute({ ipPrefix: "0.0.0.0/0", nexthop: "100.64.0.1" })]),
          policies: List([
            RouterPolicy({ priority: 31000, match: "ip4.dst == 100.64.0.0/16", action: "allow" }),
            RouterPolicy({ priority: 31000, match: "ip4.dst == 10.16.0.0/16", action: "allow" }),
            RouterPolicy({ priority: 31000, match: "ip4.dst == 10.17.0.0/16", action: "allow" }),
            RouterPolicy({ priority: 29000, match: "ip4.src == 10.16.0.0/16", action: "reroute", nexthops: List(["100.64.0.2"]) }),
            RouterPolicy({ priority: 29000, match: "ip4.src == 10.17.0.0/16", action: "reroute", nexthops: List(["100.64.0.3"]) }),
          ]),
        }),
      ],
    ]),
    nodeHosts: OrderedMap([
      ["n1", NodeHost({ name: "n1", port: "node-n1", address: "192.168.0.11/24", gateway: "192.168.0.1", ovn0Routes: List(["10.16.0.0/16", "10.17.0.0/16"]), ipsets: ipsets("192.168.0.12"), randomFully: true })],
      ["n2", NodeHost({ name: "n2", port: "node-n2", nic: "ens5", address: "192.168.0.12/24", ovn0Routes: List(["10.16.0.0/16", "10.17.0.0/16"]), ipsets: ipsets("192.168.0.11"), centralizedSnats: List([NodeHostSnat({ cidr: "10.17.0.0/16", ip: "172.18.0.100", owner: "Subnet/sub2" })]) })],
    ]),
  });
}

function hostsOf(net: Network): NodeHostNode[] {
  return [...net.nodeHosts.keys()].map((n) => {
    const c = nodeHostConfig(net, n);
    if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
    const h = createNodeHost(c.value);
    if (!h.ok) throw new Error(h.diags.map((d) => d.message).join("; "));
    return h.value;
  });
}

function endText(e: WalkEnd): string {
  switch (e.kind) {
    case "delivered":
      return `delivered ${e.output.portName} ${l34(e.output.key)}`;
    case "left":
      return `left ${e.node} ${e.gateway} ${e.iface} ${l34(e.key)}`;
    case "local":
      return `local ${e.gateway}`;
    case "ovn-drop":
      return `ovn-drop ${e.drop.reason}`;
    case "node-drop":
      return `node-drop ${e.gateway} ${e.reason}`;
    case "walk-drop":
      return `walk-drop ${e.reason}`;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

describe("nodeHostConfig (model → host config)", () => {
  it("reads ovn0, the join gateway, the NIC (MAC from its chassis), routes, sets and rules, each with its path", () => {
    const net = network();
    expect(validateNetwork(net)).toEqual([]);
    const c = nodeHostConfig(net, "n2");
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const v = c.value;
    expect([v.port, v.ovn0Mac, v.ovn0Cidr, v.joinGatewayIp, v.joinGatewayMac]).toEqual(["node-n2", MAC.node2, "100.64.0.3/16", "100.64.0.1", MAC.join]);
    // The chassis n2 has no MAC of its own: 02:00 + its encap IP 192.168.0.12.
    expect([v.nic, v.nicMac, v.nicCidr, v.gateway]).toEqual(["ens5", "02:00:c0:a8:00:0c", "192.168.0.12/24", undefined]);
    expect(v.neighbors).toEqual([{ ip: "100.64.0.2", mac: MAC.node1, dev: "ovn0" }]);
    expect(v.ovn0Routes).toEqual([
      { cidr: "10.16.0.0/16", path: ["nodeHosts[n2]", "ovn0Routes", 0] },
      { cidr: "10.17.0.0/16", path: ["nodeHosts[n2]", "ovn0Routes", 1] },
    ]);
    expect(v.ipsets.find((s) => s.name === "ovn40subnets-nat")!.members).toEqual([{ address: "10.16.0.0/16", owner: "Subnet/ovn-default (natOutgoing: true)", path: ["nodeHosts[n2]", "ipsets[ovn40subnets-nat]", "members", 0] }]);
    expect(v.centralizedSnats).toEqual([{ cidr: "10.17.0.0/16", ip: "172.18.0.100", owner: "Subnet/sub2", path: ["nodeHosts[n2]", "centralizedSnats", 0] }]);
  });

  it("a missing or unattached ovn0 port is a diagnostic with its path", () => {
    const net = network();
    const missing = nodeHostConfig(net.setIn(["nodeHosts", "n1", "port"], "ghost"), "n1");
    expect(!missing.ok && missing.diags.map((d) => [d.code, d.path])).toEqual([["nodehost.no-port", ["nodeHosts[n1]", "port"]]]);
    const noRouter = nodeHostConfig(net.setIn(["switches", "join", "ports"], net.switches.get("join")!.ports.delete("join-ovn-cluster")), "n1");
    expect(!noRouter.ok && noRouter.diags.map((d) => d.code)).toEqual(["nodehost.no-router-port"]);
    expect(nodeHostConfig(net, "n9").ok).toBe(false);
    // The model's own checks.
    const bad = net.setIn(["nodeHosts", "n1", "address"], "192.168.0.0/24").setIn(["nodeHosts", "n2", "port"], "node-n1").setIn(["nodeHosts", "n1", "ovn0Routes"], List(["10.16.0.0/33"]));
    expect(
      validateNetwork(bad)
        .map((d) => `${d.code} ${(d.path ?? []).join(".")}`)
        .sort(),
    ).toEqual(["model.bad-cidr nodeHosts[n1].address", "model.bad-cidr nodeHosts[n1].ovn0Routes.0", "model.duplicate-port nodeHosts[n2].port"]);
  });
});

describe("the walk: a pod, OVN, the node's host, the outside, and back", () => {
  const net = network();
  const c = compileNetwork(net);
  if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
  const program = c.value.program;
  const pod1 = (dst: string, proto = 6): Uint32Array => {
    const k = key({ src: "10.16.0.2", dst, proto, ethSrc: MAC.pod1, ethDst: MAC.def, dport: 443 });
    const port = program.portByName.get("p1.default")!;
    setField(k, field("metadata"), port.datapath);
    return k;
  };
  const start = (name: string, k: Uint32Array) => {
    const port = program.portByName.get(name)!;
    return { kind: "ovn" as const, datapath: port.datapath, inport: port.key, key: k };
  };

  it("leaves n1's NIC MASQUERADEd to 192.168.0.11; the answer comes back to the pod through ovn0", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" } });
    const hosts = hostsOf(net);
    const out = walkNetwork(exec, hosts, start("p1.default", pod1("8.8.8.8")));
    expect(out.ends.map(endText)).toEqual(["left node-host n1 eth0 192.168.0.11:40000 > 8.8.8.8:443 ttl 62"]);
    expect(out.hops.map((h) => h.kind)).toEqual(["ovn", "host"]);
    const text = renderWalk(out);
    expect(text).toContain("host n1: POSTROUTING OVN-POSTROUTING rule 11: -A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE");
    expect(text).toContain("src 10.16.0.2 in ovn40subnets-nat by 10.16.0.0/16 from Subnet/ovn-default (natOutgoing: true)");
    expect(text).toContain("-A OVN-MASQUERADE -j MASQUERADE --random-fully → ip4.src = 192.168.0.11");
    expect(text).toContain("=> left the cluster on eth0 of node n1: tcp 192.168.0.11:40000 > 8.8.8.8:443 ttl 62");
    const left = out.ends[0]!;
    if (left.kind !== "left") return;
    const back = walkNetwork(exec, hosts, { kind: "host", host: left.gateway, iface: left.iface, key: replyKey(left.key) });
    expect(back.hops.map((h) => h.kind)).toEqual(["host", "ovn"]);
    expect(back.ends.map(endText)).toEqual(["delivered p1.default 8.8.8.8:443 > 10.16.0.2:40000 ttl 62"]);
    // The answer to a SYN is a SYN+ACK.
    const hop = back.hops[0]!;
    expect(hop.kind === "host" && getField(hop.step.inKey, field("tcp_flags"))).toBe(0x12);
  });

  it("a fresh host has no connection for the answer: it is routed to the node address itself", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" } });
    const reply = key({ src: "8.8.8.8", dst: "192.168.0.11", sport: 443, dport: 40000, ethDst: "02:00:c0:a8:00:0b" });
    const back = walkNetwork(exec, hostsOf(net), { kind: "host", host: "n1", iface: "eth0", key: reply });
    expect(back.ends.map(endText)).toEqual(["local n1"]);
  });

  it("pod → another subnet does not go through a host and keeps its source", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" } });
    const out = walkNetwork(exec, hostsOf(net), start("p1.default", pod1("10.17.0.2")));
    expect(out.ends.map(endText)).toEqual(["delivered p2.ns2 10.16.0.2:40000 > 10.17.0.2:443 ttl 63"]);
  });

  it("a subnet rerouted to another node leaves there, SNATed to the centralized address", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" } });
    const k = key({ src: "10.17.0.2", dst: "1.1.1.1", proto: 17, ethSrc: MAC.pod2, ethDst: MAC.sub2, dport: 53 });
    const out = walkNetwork(exec, hostsOf(net), start("p2.ns2", k));
    expect(out.ends.map(endText)).toEqual(["left node-host n2 ens5 172.18.0.100:40000 > 1.1.1.1:53 ttl 62"]);
    expect(renderWalk(out)).toContain("-j SNAT --to-source 172.18.0.100 → ip4.src = 172.18.0.100 (Subnet/sub2)  [nodeHosts[n2].centralizedSnats[0]]");
  });

  it("an unknown host to start from ends the walk with a named drop", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" } });
    const out = walkNetwork(exec, hostsOf(net), { kind: "host", host: "n9", iface: "eth0", key: newKey() });
    expect(out.ends.map(endText)).toEqual(["walk-drop unknown-host"]);
    expect(NODE_HOST_CHAINS).toContain("OVN-POSTROUTING");
  });
});

describe("node hosts in scenario YAML", () => {
  it("every problem is reported at its line and column, with its model path", () => {
    const text = [
      "name: bad",
      "switches:",
      "  - name: join",
      "    ports:",
      '      - {name: node-n1, addresses: ["0a:00:00:64:00:02 100.64.0.2"]}',
      "nodeHosts:",
      "  - name: n1",
      "    port: node-n1",
      "    address: 192.168.0.0/24",
      "    ipsets:",
      "      - {name: ovn40subnets, members: [{address: 10.16.0.0/33}]}",
      "    centralizedSnats: [{cidr: 10.18.0.0/16, ip: nope}]",
      "  - name: n2",
      "    port: ghost",
      "    address: 192.168.0.12/24",
      "    bogus: 1",
      "",
    ].join("\n");
    const r = loadScenario(text, "bad.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags.map((d) => `${d.loc?.line}:${d.loc?.column} ${d.code}`)).toEqual([
      "9:14 model.bad-cidr",
      "11:50 model.bad-cidr",
      "12:49 model.bad-ip",
      "14:11 model.dangling-port",
      "16:5 scenario.unknown-field",
    ]);
  });
});
