/**
 * A Kubernetes node's host side as a node of the simulated network: the host's `ovn0` interface
 * (an OVS internal port that is OVN's switch port `node-<node>` on `join`), its NIC with the
 * node's InternalIP, its routing table, and the nat table kube-ovn-cni keeps in it (Kube-OVN's
 * `natOutgoing`, which is host iptables, not OVN).
 *
 * What
 * ----
 * `NodeHostConfig` is the host as plain data (addresses as text, model paths for provenance);
 * `compile/` builds it from the model. `createNodeHost(config)` checks it and returns a
 * `NodeHostNode`, whose `process(key, iface)` takes one packet arriving on `ovn0` or on the NIC and
 * says what the host does with it: every nat rule that matched (with the ipset members that made
 * the set matches hold, and so the resource behind them), the conntrack state, each translation,
 * the route, and the verdict (out of `ovn0` back into OVN, out of the NIC and so out of the
 * cluster, delivered locally, or dropped with a reason). The node keeps its connection table
 * across calls, so the reply to a MASQUERADEd packet is translated back to the pod.
 *
 * The nat table (Kube-OVN v1.13 `pkg/daemon/gateway_linux.go` `setIptables`, IPv4)
 * --------------------------------------------------------------------------------
 * `nodeHostRules` writes, as `iptables -S -t nat` prints them (`--random-fully` when configured):
 * ```
 * -A PREROUTING -m comment --comment "kube-ovn prerouting rules" -j OVN-PREROUTING
 * -A POSTROUTING -m comment --comment "kube-ovn postrouting rules" -j OVN-POSTROUTING
 * -A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff
 * -A OVN-MASQUERADE -j MASQUERADE
 * -A OVN-POSTROUTING  1 -m set --match-set ovn40services src -m set --match-set ovn40subnets dst -m mark --mark 0x4000/0x4000 -j SNAT --to-source NODE_IP
 *                     2 -m mark --mark 0x4000/0x4000 -j OVN-MASQUERADE
 *                     3 -m set --match-set ovn40subnets src -m set --match-set ovn40subnets dst -j OVN-MASQUERADE
 *                     4 -m mark --mark 0x80000/0x80000 -m set --match-set ovn40subnets-distributed-gw dst -j RETURN
 *                     5 -m mark --mark 0x80000/0x80000 -j OVN-MASQUERADE
 *                     6 -p tcp -m tcp --tcp-flags SYN NONE -m conntrack --ctstate NEW -j RETURN
 *                     7 -m set ! --match-set ovn40subnets src -m set ! --match-set ovn40other-node src -m set --match-set ovn40subnets-nat dst -j RETURN
 *                     8 -m set --match-set ovn40subnets-nat-policy src -m set ! --match-set ovn40subnets dst -j OVN-NAT-POLICY
 *                     9 -m mark --mark 0x90001/0x90001 -j OVN-MASQUERADE
 *                    10 -m mark --mark 0x90002/0x90002 -j RETURN
 *                    11 -s CIDR -m set ! --match-set ovn40subnets dst -j SNAT --to-source IP   (one per centralized SNAT)
 *                    12 -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE
 * -A OVN-PREROUTING -i ovn0 -m set --match-set ovn40subnets src -m set --match-set ovn40services dst -j MARK --set-xmark 0x4000/0x4000
 * ```
 * The chain `OVN-NAT-POLICY` (natOutgoingPolicyRules) is empty: those rules are not modelled. The
 * marks 0x4000 (set by the PREROUTING rule above and by kube-proxy), 0x80000 (kube-proxy's NodePort
 * with `externalTrafficPolicy: Local`) and 0x9000x (nat policy) are honoured by the rules, but only
 * the PREROUTING rule ever sets one here: kube-proxy is not simulated. The ipsets are the config's;
 * a set the rules name that the config lacks is empty.
 *
 * Packet path (Linux's, for IPv4)
 * -------------------------------
 * 1. Link layer: a unicast frame not addressed to the interface's MAC is dropped; a broadcast or
 *    multicast frame is only delivered locally. ARP is answered by the kernel (reported as local;
 *    the answer is not generated).
 * 2. PREROUTING: a NEW connection goes through the nat PREROUTING chain (only the mark rule); a
 *    reply of a stored connection has its SNAT undone (the destination restored).
 * 3. The host's own addresses (the NIC's and ovn0's) are delivered locally. A destination in
 *    `ovn40services` is a Service address: kube-proxy on the node translates it (or rejects it when
 *    it has no endpoints), which is not simulated, so the walk stops there with a note.
 * 4. Routing: the longest prefix among ovn0's network, the NIC's network, the pod subnets via the
 *    join gateway on ovn0, and the default route out of the NIC (via its gateway, or on-link).
 *    TTL minus one; a packet whose TTL is 1 or less is dropped.
 * 5. POSTROUTING: a NEW connection goes through the nat POSTROUTING chain (with `-o` the chosen
 *    interface, the packet's TCP flags and mark); SNAT takes the rule's address, MASQUERADE the
 *    outgoing interface's own (the InternalIP out of the NIC, the join IP out of ovn0). A later
 *    packet is translated from its connection. A NEW connection is then stored.
 * 6. Link layer out: out of ovn0 to the join gateway (the router port) or a join address OVN
 *    knows; an unknown next hop there is dropped. Out of the NIC to the next hop's MAC when known
 *    (the gateway's MAC, if configured), else with destination MAC 00:00:00:00:00:00 and
 *    `unresolved` set: the packet has left the simulated network either way.
 *
 * Not modelled: the filter and mangle tables, kube-proxy, natOutgoingPolicyRules, IPv6, host
 * routing policy (`externalEgressGateway`), rp_filter, ICMP errors, conntrack timeouts.
 */
import { error, fail, formatIpv4, ok, parseIpv4, parseMac, type Diagnostic, type Result } from "../base/index.js";
import { W, field, getField, setField } from "../flow/index.js";
import { buildNatTable, formatPrefix4, parsePrefix4, prefixContains, type IpsetMember, type IptRuleSpec, type NatHook, type NatTable, type Prefix4, type RuleHit } from "./iptables.js";
import { NfConntrack, hasPorts, invertTuple, type NfConnection, type NfTuple } from "./iptables-conntrack.js";
import { macWordsText, type NatCtState, type NatRewrite } from "./iptables-natgw.js";

type Path = readonly (string | number)[];

/** The name of the host's OVS internal port into OVN. */
export const OVN0 = "ovn0";

/** The chains kube-ovn-cni creates in the nat table, in `iptables -S` order (sorted by name). */
export const NODE_HOST_CHAINS = ["OVN-MASQUERADE", "OVN-NAT-POLICY", "OVN-POSTROUTING", "OVN-PREROUTING"] as const;

/** The ipsets the rules name (`ovn40` is Kube-OVN's IPv4 prefix). */
export const NODE_HOST_IPSETS = ["ovn40services", "ovn40subnets", "ovn40subnets-nat", "ovn40subnets-distributed-gw", "ovn40other-node", "ovn40subnets-nat-policy"] as const;

export interface NodeHostIpsetConfig {
  readonly name: string;
  readonly members: readonly { readonly address: string; readonly owner?: string; readonly path?: Path }[];
}

export interface NodeHostSnatConfig {
  readonly cidr: string;
  readonly ip: string;
  readonly owner?: string;
  readonly path?: Path;
}

/** A node's host side as plain data. */
export interface NodeHostConfig {
  /** The node's name. */
  readonly name: string;
  /** The OVN switch port ovn0 is (`node-<node>`). */
  readonly port: string;
  readonly ovn0Mac: string;
  /** ovn0's "address/prefix" (the join IP in the join network). */
  readonly ovn0Cidr: string;
  /** The join network's gateway (the router port) and its MAC: the next hop of the pod routes. */
  readonly joinGatewayIp: string;
  readonly joinGatewayMac: string;
  /** The NIC's name, MAC and "address/prefix" (the InternalIP). */
  readonly nic: string;
  readonly nicMac: string;
  readonly nicCidr: string;
  /** The default route's next hop; absent for an on-link default route. */
  readonly gateway?: string;
  readonly gatewayMac?: string;
  /** Prefixes routed via the join gateway on ovn0. */
  readonly ovn0Routes: readonly { readonly cidr: string; readonly path?: Path }[];
  readonly ipsets: readonly NodeHostIpsetConfig[];
  readonly centralizedSnats: readonly NodeHostSnatConfig[];
  readonly randomFully: boolean;
  /** Known neighbours besides the gateways (on ovn0: the addresses the join switch knows). */
  readonly neighbors: readonly { readonly ip: string; readonly mac: string; readonly dev: string }[];
  /** Where the host is in the model, for diagnostics and provenance. */
  readonly path?: Path;
}

export const NODE_HOST_DROP_REASONS = {
  "not-ipv4": "not an IPv4 packet (the host's nat rules are IPv4 only)",
  "l2-not-host": "the frame is not addressed to this interface (or is broadcast and not for a local address)",
  "no-route": "no route to the destination (Linux answers ICMP network unreachable)",
  "ttl-exceeded": "the TTL would reach 0 (Linux answers ICMP time exceeded)",
  "neighbor-unresolved": "the next hop's MAC is unknown on ovn0 (nothing in OVN answers ARP for it)",
  "no-free-port": "SNAT found no free source port",
} as const;

export type NodeHostDropReason = keyof typeof NODE_HOST_DROP_REASONS;

export interface HostRouteChoice {
  readonly prefix: string;
  readonly dev: string;
  readonly via?: string;
  readonly connected: boolean;
  readonly path?: Path;
}

export type NodeHostVerdict =
  | {
      readonly kind: "forward";
      readonly iface: string;
      readonly nextHop: number;
      /** Out of the NIC: the next hop's MAC is unknown; the packet leaves with a zero destination MAC. */
      readonly unresolved: boolean;
      /** Out of the NIC, i.e. out of the simulated network; false: back into OVN through ovn0. */
      readonly leaves: boolean;
    }
  | { readonly kind: "local"; readonly note: string }
  | { readonly kind: "drop"; readonly reason: NodeHostDropReason; readonly detail: string };

/** What the host did with one packet. */
export interface NodeHostStep {
  readonly host: string;
  readonly iface: string;
  /** The packet as it arrived (a copy). */
  readonly inKey: Uint32Array;
  /** The packet as it leaves, or as it was when delivered locally or dropped (a copy). */
  readonly key: Uint32Array;
  readonly ct?: NatCtState;
  readonly connection?: number;
  readonly hits: readonly RuleHit[];
  readonly rewrites: readonly NatRewrite[];
  readonly route?: HostRouteChoice;
  readonly ttl?: { readonly before: number; readonly after: number };
  /** The packet's mark after the nat rules, when not 0. */
  readonly mark?: number;
  readonly verdict: NodeHostVerdict;
}

interface Route {
  readonly prefix: Prefix4;
  readonly dev: string;
  readonly via?: number;
  readonly connected: boolean;
  readonly path?: Path;
}

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TTL = field("nw_ttl");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_TCP_FLAGS = field("tcp_flags");
const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;

const MARK_SERVICE = { value: 0x4000, mask: 0x4000 } as const;
const MARK_NODEPORT_LOCAL = { value: 0x80000, mask: 0x80000 } as const;
const MARK_POLICY_NAT = { value: 0x90001, mask: 0x90001 } as const;
const MARK_POLICY_FORWARD = { value: 0x90002, mask: 0x90002 } as const;

/** A MAC as the key's two words (16-bit high word, 32-bit low word). */
function macWords(b: Uint8Array): [number, number] {
  return [((b[0]! << 8) | b[1]!) >>> 0, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

const set = (name: string, dir: "src" | "dst", negate = false) => ({ kind: "set", set: name, dir, ...(negate ? { negate: true } : {}) }) as const;
const mark = (m: { value: number; mask: number }) => ({ kind: "mark", value: m.value, mask: m.mask }) as const;

/**
 * The host's nat rules as kube-ovn-cni writes them (see the module header), for a node whose
 * InternalIP is `nodeIp` and whose centralized SNATs are `snats` (already parsed).
 */
export function nodeHostRules(nodeIp: number, snats: readonly { readonly cidr: Prefix4; readonly ip: number; readonly owner?: string; readonly path?: Path }[], randomFully: boolean, path?: Path): IptRuleSpec[] {
  const rf = randomFully ? { randomFully: true } : {};
  const masq = { kind: "jump", chain: "OVN-MASQUERADE" } as const;
  const post = "OVN-POSTROUTING";
  const rules: IptRuleSpec[] = [
    { chain: "PREROUTING", match: { modules: [{ kind: "comment", text: "kube-ovn prerouting rules" }] }, target: { kind: "jump", chain: "OVN-PREROUTING" } },
    { chain: "POSTROUTING", match: { modules: [{ kind: "comment", text: "kube-ovn postrouting rules" }] }, target: { kind: "jump", chain: post } },
    { chain: "OVN-MASQUERADE", match: {}, target: { kind: "MARK", value: 0, mask: 0xffffffff } },
    { chain: "OVN-MASQUERADE", match: {}, target: { kind: "MASQUERADE", ...rf } },
    { chain: post, match: { modules: [set("ovn40services", "src"), set("ovn40subnets", "dst"), mark(MARK_SERVICE)] }, target: { kind: "SNAT", toIp: nodeIp, ...rf }, ...(path ? { path: [...path, "address"] } : {}) },
    { chain: post, match: { modules: [mark(MARK_SERVICE)] }, target: masq },
    { chain: post, match: { modules: [set("ovn40subnets", "src"), set("ovn40subnets", "dst")] }, target: masq },
    { chain: post, match: { modules: [mark(MARK_NODEPORT_LOCAL), set("ovn40subnets-distributed-gw", "dst")] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [mark(MARK_NODEPORT_LOCAL)] }, target: masq },
    { chain: post, match: { proto: "tcp", modules: [{ kind: "tcp-flags", mask: 0x02, comp: 0 }, { kind: "ctstate", states: ["NEW"] }] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [set("ovn40subnets", "src", true), set("ovn40other-node", "src", true), set("ovn40subnets-nat", "dst")] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [set("ovn40subnets-nat-policy", "src"), set("ovn40subnets", "dst", true)] }, target: { kind: "jump", chain: "OVN-NAT-POLICY" } },
    { chain: post, match: { modules: [mark(MARK_POLICY_NAT)] }, target: masq },
    { chain: post, match: { modules: [mark(MARK_POLICY_FORWARD)] }, target: { kind: "RETURN" } },
  ];
  for (const s of snats) rules.push({ chain: post, match: { src: s.cidr, modules: [set("ovn40subnets", "dst", true)] }, target: { kind: "SNAT", toIp: s.ip, ...rf }, ...(s.path ? { path: s.path } : {}), ...(s.owner ? { owner: s.owner } : {}) });
  rules.push({ chain: post, match: { modules: [set("ovn40subnets-nat", "src"), set("ovn40subnets", "dst", true)] }, target: masq });
  rules.push({ chain: "OVN-PREROUTING", match: { inIface: OVN0, modules: [set("ovn40subnets", "src"), set("ovn40services", "dst")] }, target: { kind: "MARK", value: MARK_SERVICE.value, mask: MARK_SERVICE.mask } });
  return rules;
}

const network = (p: Prefix4): Prefix4 => ({ addr: (p.addr & (p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0)) >>> 0, len: p.len });

/** Checks `config` and builds the node; every problem is a diagnostic with the config's paths. */
export function createNodeHost(config: NodeHostConfig): Result<NodeHostNode> {
  const diags: Diagnostic[] = [];
  const base = config.path ?? [];
  const ip4 = (text: string, path: Path | undefined, what: string): number | undefined => {
    const v = parseIpv4(text.trim());
    if (v === undefined) diags.push(error("nodehost.bad-ip", `${what} "${text}" is not an IPv4 address`, { path: path ?? base }));
    return v;
  };
  const prefix = (text: string, path: Path | undefined, what: string): Prefix4 | undefined => {
    const v = parsePrefix4(text);
    if (v === undefined) diags.push(error("nodehost.bad-cidr", `${what} "${text}" is not an IPv4 address or prefix`, { path: path ?? base }));
    return v;
  };
  const mac = (text: string, path: Path | undefined, what: string): [number, number] | undefined => {
    const b = parseMac(text.trim());
    if (!b) {
      diags.push(error("nodehost.bad-mac", `${what} "${text}" is not a MAC address`, { path: path ?? base }));
      return undefined;
    }
    return macWords(b);
  };
  if (config.nic === OVN0) diags.push(error("nodehost.bad-nic", `the NIC may not be called ${OVN0}`, { path: [...base, "nic"] }));
  const ovn0 = prefix(config.ovn0Cidr, [...base, "port"], "ovn0 address");
  const nic = prefix(config.nicCidr, [...base, "address"], "NIC address");
  const ovn0Mac = mac(config.ovn0Mac, [...base, "port"], "ovn0 MAC");
  const nicMac = mac(config.nicMac, [...base, "nicMac"], "NIC MAC");
  const joinGwIp = ip4(config.joinGatewayIp, [...base, "port"], "join gateway");
  const joinGwMac = mac(config.joinGatewayMac, [...base, "port"], "join gateway MAC");
  const gwIp = config.gateway !== undefined ? ip4(config.gateway, [...base, "gateway"], "gateway") : undefined;
  const gwMac = config.gatewayMac !== undefined ? mac(config.gatewayMac, [...base, "gatewayMac"], "gateway MAC") : undefined;

  const routes: Route[] = [];
  if (ovn0) routes.push({ prefix: network(ovn0), dev: OVN0, connected: true });
  if (nic) routes.push({ prefix: network(nic), dev: config.nic, connected: true });
  for (const r of config.ovn0Routes) {
    const p = prefix(r.cidr, r.path, "route destination");
    if (p && joinGwIp !== undefined) routes.push({ prefix: network(p), dev: OVN0, via: joinGwIp, connected: false, ...(r.path ? { path: r.path } : {}) });
  }
  routes.push({ prefix: { addr: 0, len: 0 }, dev: config.nic, connected: false, ...(gwIp !== undefined ? { via: gwIp, path: [...base, "gateway"] } : {}) });

  const neighbors = new Map<string, [number, number]>();
  if (joinGwIp !== undefined && joinGwMac) neighbors.set(`${OVN0}/${joinGwIp}`, joinGwMac);
  if (gwIp !== undefined && gwMac) neighbors.set(`${config.nic}/${gwIp}`, gwMac);
  for (const n of config.neighbors) {
    const v = ip4(n.ip, base, "neighbour");
    const m = mac(n.mac, base, "neighbour MAC");
    if (v !== undefined && m && !neighbors.has(`${n.dev}/${v}`)) neighbors.set(`${n.dev}/${v}`, m);
  }

  const ipsets = new Map<string, IpsetMember[]>();
  for (const name of NODE_HOST_IPSETS) ipsets.set(name, []);
  for (const s of config.ipsets) {
    const members: IpsetMember[] = ipsets.get(s.name) ?? [];
    for (const m of s.members) {
      const p = prefix(m.address, m.path, `ipset ${s.name} member`);
      if (p) members.push({ prefix: network(p), ...(m.owner ? { owner: m.owner } : {}), ...(m.path ? { path: m.path } : {}) });
    }
    ipsets.set(s.name, members);
  }
  const snats: { cidr: Prefix4; ip: number; owner?: string; path?: Path }[] = [];
  for (const s of config.centralizedSnats) {
    const c = prefix(s.cidr, s.path, "SNAT source");
    const ip = ip4(s.ip, s.path, "SNAT address");
    if (c && ip !== undefined) snats.push({ cidr: network(c), ip, ...(s.owner ? { owner: s.owner } : {}), ...(s.path ? { path: s.path } : {}) });
  }
  if (diags.length > 0 || !ovn0 || !nic || !ovn0Mac || !nicMac) return fail(...diags);
  const table = buildNatTable(NODE_HOST_CHAINS, nodeHostRules(nic.addr, snats, config.randomFully, config.path), ipsets);
  if (!table.ok) return table;
  return ok(
    new NodeHostNode({
      name: config.name,
      port: config.port,
      nic: config.nic,
      table: table.value,
      addrs: { [OVN0]: ovn0.addr, [config.nic]: nic.addr },
      routes,
      neighbors,
      macs: { [OVN0]: ovn0Mac, [config.nic]: nicMac },
    }),
  );
}

interface HostParts {
  readonly name: string;
  readonly port: string;
  readonly nic: string;
  readonly table: NatTable;
  readonly addrs: Readonly<Record<string, number>>;
  readonly routes: readonly Route[];
  readonly neighbors: ReadonlyMap<string, [number, number]>;
  readonly macs: Readonly<Record<string, [number, number]>>;
}

/** A node's host network stack; see the module header. */
export class NodeHostNode {
  /** The node's name. */
  readonly name: string;
  /** The OVN switch port of ovn0. */
  readonly port: string;
  /** The NIC's name. */
  readonly nic: string;
  readonly table: NatTable;
  /** The host's connection table; lives across `process` calls. */
  readonly conntrack = new NfConntrack();
  private readonly addrs: Readonly<Record<string, number>>;
  private readonly routes: readonly Route[];
  private readonly neighbors: ReadonlyMap<string, [number, number]>;
  private readonly macs: Readonly<Record<string, [number, number]>>;

  constructor(parts: HostParts) {
    this.name = parts.name;
    this.port = parts.port;
    this.nic = parts.nic;
    this.table = parts.table;
    this.addrs = parts.addrs;
    this.routes = parts.routes;
    this.neighbors = parts.neighbors;
    this.macs = parts.macs;
  }

  /** The interfaces: ovn0 and the NIC. */
  get interfaces(): readonly string[] {
    return [OVN0, this.nic];
  }

  /** The MAC of an interface, as text ("" for an unknown interface). */
  macOf(iface: string): string {
    const m = this.macs[iface];
    return m ? macWordsText(m[0], m[1]) : "";
  }

  /** The IPv4 address of an interface (the InternalIP for the NIC, the join IP for ovn0). */
  addressOf(iface: string): number | undefined {
    return this.addrs[iface];
  }

  /** The route the host would use for `dst` (longest prefix; connected first on a tie). */
  lookupRoute(dst: number): Route | undefined {
    let best: Route | undefined;
    for (const r of this.routes) {
      if (!prefixContains(r.prefix, dst)) continue;
      if (!best || r.prefix.len > best.prefix.len || (r.prefix.len === best.prefix.len && r.connected && !best.connected)) best = r;
    }
    return best;
  }

  /** True when `ip` is one of the host's own addresses. */
  isLocal(ip: number): boolean {
    return Object.values(this.addrs).includes(ip >>> 0);
  }

  /** The nat table as `iptables -t nat -S` prints it. */
  iptablesSave(): string[] {
    return this.table.dump();
  }

  /** Processes one packet arriving on `iface` (ovn0 or the NIC); see the module header. `key` is not modified. */
  process(key: Uint32Array, iface: string): NodeHostStep {
    const inKey = key.slice();
    const k = key.slice();
    const hits: RuleHit[] = [];
    const rewrites: NatRewrite[] = [];
    let pktMark = 0;
    const done = (verdict: NodeHostVerdict, extra: Partial<Pick<NodeHostStep, "ct" | "connection" | "route" | "ttl">> = {}): NodeHostStep => ({
      host: this.name,
      iface,
      inKey,
      key: k,
      hits,
      rewrites,
      ...extra,
      ...(pktMark !== 0 ? { mark: pktMark } : {}),
      verdict,
    });
    const mine = this.macs[iface];
    if (!mine) return done({ kind: "drop", reason: "l2-not-host", detail: `the host has no interface ${iface}` });
    const ethType = getField(k, F_ETH_TYPE);
    const [myHi, myLo] = mine;
    const dstHi = k[W.ETH_DST]!;
    const dstLo = k[W.ETH_DST + 1]!;
    const group = (dstHi & 0x0100) !== 0;
    if (!group && (dstHi !== myHi || dstLo !== myLo)) {
      return done({ kind: "drop", reason: "l2-not-host", detail: `eth.dst ${macWordsText(dstHi, dstLo)} is not ${iface}'s MAC ${macWordsText(myHi, myLo)}` });
    }
    if (ethType === ETH_ARP) return done({ kind: "local", note: `ARP is answered by node ${this.name}'s kernel (the answer is not simulated)` });
    if (ethType !== ETH_IP) return done({ kind: "drop", reason: "not-ipv4", detail: `eth.type 0x${ethType.toString(16).padStart(4, "0")}` });

    const proto = getField(k, F_NW_PROTO);
    const ports = hasPorts(proto);
    const tuple: NfTuple = { proto, src: k[W.NW_SRC]!, sport: ports ? getField(k, F_TP_SRC) : 0, dst: k[W.NW_DST]!, dport: ports ? getField(k, F_TP_DST) : 0 };
    const found = this.conntrack.lookup(tuple);
    const conn: NfConnection | undefined = found?.conn;
    const ct: NatCtState = !found ? "new" : found.dir === "original" ? "established" : "reply";
    const connId = conn ? { connection: conn.id } : {};
    const tcpFlags = proto === PROTO_TCP ? getField(k, F_TCP_FLAGS) : 0;

    // PREROUTING: the service mark for a NEW connection; a reply's SNAT undone.
    if (found && conn) {
      if (found.dir === "original" && conn.dnat) this.rewrite(k, rewrites, "PREROUTING", "dnat", "dst", conn.reply.src, conn.reply.sport, ports, "conntrack");
      if (found.dir === "reply") {
        conn.seenReply = true;
        if (conn.snat) this.rewrite(k, rewrites, "PREROUTING", "un-snat", "dst", conn.orig.src, conn.orig.sport, ports, "conntrack");
      }
    } else {
      const d = this.table.evaluate("PREROUTING", { proto, src: tuple.src, dst: tuple.dst, dport: tuple.dport, inIface: iface, tcpFlags, mark: pktMark });
      hits.push(...d.hits);
      pktMark = d.mark;
    }

    // Local delivery and Service addresses.
    const dst = k[W.NW_DST]!;
    if (this.isLocal(dst)) return done({ kind: "local", note: localNote(this.name, proto, getField(k, F_TP_SRC), dst, getField(k, F_TP_DST)) }, { ct, ...connId });
    if (group) {
      const what = dstHi === 0xffff && dstLo === 0xffffffff ? "broadcast" : "multicast";
      return done({ kind: "drop", reason: "l2-not-host", detail: `a ${what} frame for ${formatIpv4(dst)}, which is not a local address, is not forwarded` }, { ct, ...connId });
    }
    const svc = this.table.lookupSet("ovn40services", dst);
    if (svc && ct === "new") {
      return done({ kind: "local", note: `${formatIpv4(dst)} is a Service address (${formatPrefix4(svc.prefix)} in ovn40services${svc.owner ? `, ${svc.owner}` : ""}): kube-proxy on node ${this.name} translates it, or rejects it when it has no endpoints (not simulated)` }, { ct, ...connId });
    }

    // Routing.
    const r = this.lookupRoute(dst);
    if (!r) return done({ kind: "drop", reason: "no-route", detail: `no route to ${formatIpv4(dst)}` }, { ct, ...connId });
    const route: HostRouteChoice = {
      prefix: formatPrefix4(r.prefix),
      dev: r.dev,
      connected: r.connected,
      ...(r.via !== undefined ? { via: formatIpv4(r.via) } : {}),
      ...(r.path ? { path: r.path } : {}),
    };
    const ttl = getField(k, F_NW_TTL);
    if (ttl <= 1) return done({ kind: "drop", reason: "ttl-exceeded", detail: `ip.ttl ${ttl}` }, { ct, ...connId, route });
    setField(k, F_NW_TTL, ttl - 1);
    const ttlChange = { before: ttl, after: ttl - 1 };

    // POSTROUTING: source translation, and the connection is stored.
    let connection = conn?.id;
    if (found && conn) {
      if (found.dir === "original" && conn.snat) this.rewrite(k, rewrites, "POSTROUTING", "snat", "src", conn.reply.dst, conn.reply.dport, ports, "conntrack");
      if (found.dir === "reply" && conn.dnat) this.rewrite(k, rewrites, "POSTROUTING", "un-dnat", "src", conn.orig.dst, conn.orig.dport, ports, "conntrack");
    } else {
      const d = this.table.evaluate("POSTROUTING", { proto, src: k[W.NW_SRC]!, dst, dport: ports ? getField(k, F_TP_DST) : 0, outIface: r.dev, tcpFlags, mark: pktMark });
      hits.push(...d.hits);
      pktMark = d.mark;
      const t = d.rule?.target;
      const toIp = t?.kind === "SNAT" ? t.toIp : t?.kind === "MASQUERADE" ? this.addrs[r.dev] : undefined;
      if (toIp !== undefined) {
        const sport = ports ? getField(k, F_TP_SRC) : 0;
        const dport = ports ? getField(k, F_TP_DST) : 0;
        const port = this.conntrack.chooseSourcePort(proto, toIp, sport, dst, dport);
        if (port === undefined) return done({ kind: "drop", reason: "no-free-port", detail: `every source port towards ${formatIpv4(dst)}:${dport} from ${formatIpv4(toIp)} is taken` }, { ct, route, ttl: ttlChange });
        this.rewrite(k, rewrites, "POSTROUTING", "snat", "src", toIp, port, ports, "rule");
      }
      const after: NfTuple = { proto, src: k[W.NW_SRC]!, sport: ports ? getField(k, F_TP_SRC) : 0, dst: k[W.NW_DST]!, dport: ports ? getField(k, F_TP_DST) : 0 };
      const dnat = after.dst !== tuple.dst || after.dport !== tuple.dport;
      const snat = after.src !== tuple.src || after.sport !== tuple.sport;
      connection = this.conntrack.add(tuple, invertTuple(after), dnat, snat).id;
    }

    // Link layer out.
    const nextHop = r.via ?? dst;
    const nb = this.neighbors.get(`${r.dev}/${nextHop}`);
    const [srcHi, srcLo] = this.macs[r.dev]!;
    k[W.ETH_SRC] = srcHi;
    k[W.ETH_SRC + 1] = srcLo;
    const extra = { ct, route, ttl: ttlChange, ...(connection !== undefined ? { connection } : {}) };
    const leaves = r.dev !== OVN0;
    if (!nb) {
      if (!leaves) return done({ kind: "drop", reason: "neighbor-unresolved", detail: `no MAC known for next hop ${formatIpv4(nextHop)} on ${OVN0}` }, extra);
      k[W.ETH_DST] = 0;
      k[W.ETH_DST + 1] = 0;
      return done({ kind: "forward", iface: r.dev, nextHop, unresolved: true, leaves }, extra);
    }
    k[W.ETH_DST] = nb[0];
    k[W.ETH_DST + 1] = nb[1];
    return done({ kind: "forward", iface: r.dev, nextHop, unresolved: false, leaves }, extra);
  }

  private rewrite(k: Uint32Array, out: NatRewrite[], hook: NatHook, kind: NatRewrite["kind"], end: "src" | "dst", ip: number, port: number, ports: boolean, by: "rule" | "conntrack"): void {
    const ipWord = end === "src" ? W.NW_SRC : W.NW_DST;
    const portField = end === "src" ? F_TP_SRC : F_TP_DST;
    const fromIp = k[ipWord]!;
    const fromPort = getField(k, portField);
    k[ipWord] = ip >>> 0;
    if (ports) setField(k, portField, port);
    out.push({ hook, kind, end, fromIp, toIp: ip >>> 0, ...(ports ? { fromPort, toPort: port } : {}), by });
  }

  /** Forgets every connection. */
  clearConnections(): void {
    this.conntrack.clear();
  }
}

/** What the host does with a packet for one of its own addresses. */
function localNote(host: string, proto: number, tpSrc: number, dst: number, dport: number): string {
  const to = formatIpv4(dst);
  if (proto === PROTO_TCP) return `delivered to node ${host} itself (${to}:${dport}); a process listening there answers, otherwise Linux answers a SYN with a TCP RST (not simulated)`;
  if (proto === PROTO_UDP) return `delivered to node ${host} itself (${to}:${dport}); a process listening there gets it, otherwise Linux answers ICMP port unreachable (not simulated)`;
  if (proto === PROTO_ICMP && tpSrc === 8) return `delivered to node ${host} itself (${to}); Linux answers the echo request (not simulated)`;
  return `delivered to node ${host} itself (${to})`;
}

/** The description of a host drop reason. */
export function describeNodeHostDrop(r: NodeHostDropReason): string {
  return NODE_HOST_DROP_REASONS[r];
}
