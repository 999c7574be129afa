/**
 * Kube-OVN's VPC NAT gateway as a node of the simulated network: a Linux network namespace with
 * `eth0` on a VPC switch (inside OVN) and `net1` on an external network (outside OVN), routing
 * between them through an iptables nat table and its own connection tracking.
 *
 * What
 * ----
 * `NatGatewayConfig` is the gateway as plain data (addresses as text, model paths for
 * provenance); `compile/` builds it from the model. `createNatGateway(config)` checks it and
 * returns a `NatGatewayNode`, whose `process(key, iface)` takes one packet arriving on an
 * interface and says what the namespace does with it: every nat rule that matched, the
 * conntrack state, each translation, the route, and the verdict (out of `eth0` or `net1` with the
 * rewritten packet, delivered locally, or dropped with a reason). The node keeps its connection
 * table across calls, so a reply sent after a request is translated back.
 *
 * The nat table (Kube-OVN's `nat-gateway.sh init` and rule operations, v1.12/v1.13)
 * ------------------------------------------------------------------------------------
 * ```
 * PREROUTING  → DNAT_FILTER → EXCLUSIVE_DNAT (one rule per FIP), then SHARED_DNAT (DNAT rules)
 * POSTROUTING → SNAT_FILTER → EXCLUSIVE_SNAT (one rule per FIP), then SHARED_SNAT (SNAT rules)
 * ```
 * FIP: `-A EXCLUSIVE_DNAT -d EIP -j DNAT --to-destination IP` and
 * `-A EXCLUSIVE_SNAT -s IP -j SNAT --to-source EIP` (no interface restriction). DNAT rule:
 * `-A SHARED_DNAT -p PROTO -d EIP --dport EPORT -j DNAT --to-destination IP:IPORT`. SNAT rule:
 * `-A SHARED_SNAT -o net1 -s CIDR -j SNAT --to-source EIP`. Rules are appended in the order the
 * config lists them, so within a chain the first one wins, and FIPs win over DNAT/SNAT rules for
 * the same address because their chains come first.
 *
 * Packet path (Linux's, for IPv4)
 * -------------------------------
 * 1. Link layer: a unicast frame not addressed to the interface's MAC is not for this host and is
 *    dropped; a broadcast or multicast frame is only delivered locally, never forwarded. ARP is
 *    answered by the kernel (reported as local; the answer is not generated).
 * 2. PREROUTING: conntrack looks the packet up. The first packet of a connection (NEW) goes
 *    through the nat PREROUTING chain (DNAT); a later packet of it is translated from the
 *    connection instead (original direction: the DNAT again; reply direction: the SNAT undone,
 *    i.e. the destination restored).
 * 3. Routing on the (translated) destination: the pod's own addresses (eth0's, net1's and every
 *    EIP) are delivered locally, and the walk stops there; otherwise the longest matching prefix
 *    among the connected prefixes of eth0 and net1 and the configured routes picks the interface
 *    and the next hop (the gateway of the route, or the destination itself on a connected
 *    prefix). No route: dropped (Linux answers ICMP network unreachable, not generated here).
 * 4. Forwarding: the TTL is decremented; a packet whose TTL is 1 or less is dropped (Linux
 *    answers ICMP time exceeded, not generated here).
 * 5. POSTROUTING: a NEW connection goes through the nat POSTROUTING chain (SNAT, matching `-o` on
 *    the chosen interface); a later packet is translated from the connection (original: the SNAT
 *    again; reply: the DNAT undone, i.e. the source restored). A NEW connection is then stored.
 * 6. Link layer out: source MAC = the interface's MAC; destination MAC = the next hop's, from the
 *    neighbour table (on eth0: the VPC gateway, i.e. the router port, and the addresses the VPC
 *    switch knows; on net1: the external gateway, default `DEFAULT_EXTERNAL_GATEWAY_MAC`). An
 *    unknown next hop on eth0 is dropped (OVN answers ARP only for addresses it knows); on net1,
 *    outside OVN, the packet leaves with destination MAC 00:00:00:00:00:00 and `unresolved` set.
 *
 * Local delivery of traffic to an EIP that no DNAT or FIP rule translates: Linux hands it to the
 * pod's own stack, where nothing listens on such ports, so a TCP SYN is answered with a RST and a
 * UDP datagram with ICMP port unreachable (an ICMP echo request gets an echo reply). The node
 * reports `local` with that note and does not build the answer.
 *
 * Not modelled: the filter and mangle tables, Kube-OVN master's HAIRPIN_SNAT chain and VPC_MARK,
 * QoS, IPv6, ICMP errors related to a connection, conntrack timeouts, rp_filter.
 */
import { error, fail, formatIpv4, formatMac, ok, parseIpv4, parseMac, type Diagnostic, type Result } from "../base/index.js";
import { W, field, getField, setField } from "../flow/index.js";
import { buildNatTable, formatPrefix4, parsePrefix4, prefixContains, type IptRuleSpec, type NatHook, type NatTable, type Prefix4, type RuleHit } from "./iptables.js";
import { NfConntrack, hasPorts, invertTuple, type NfConnection, type NfTuple } from "./iptables-conntrack.js";

/** The interfaces of the gateway pod. */
export type NatGatewayIface = "eth0" | "net1";

/** The MAC used for the external network's gateway when the config gives none. */
export const DEFAULT_EXTERNAL_GATEWAY_MAC = "02:00:00:00:ff:01";

/** Kube-OVN's chain names, in creation order. */
export const NAT_GATEWAY_CHAINS = ["DNAT_FILTER", "SNAT_FILTER", "EXCLUSIVE_DNAT", "EXCLUSIVE_SNAT", "SHARED_DNAT", "SHARED_SNAT"] as const;

type Path = readonly (string | number)[];

export interface NatGatewayEipConfig {
  readonly ip: string;
  readonly path?: Path;
}

export interface NatGatewayFipConfig {
  readonly eip: string;
  readonly internalIp: string;
  readonly path?: Path;
}

export interface NatGatewayDnatConfig {
  readonly eip: string;
  readonly protocol: "tcp" | "udp";
  readonly externalPort: number;
  readonly internalIp: string;
  readonly internalPort: number;
  readonly path?: Path;
}

export interface NatGatewaySnatConfig {
  readonly eip: string;
  readonly internalCidr: string;
  readonly randomFully?: boolean;
  readonly path?: Path;
}

export interface NatGatewayRouteConfig {
  /** Destination prefix (`0.0.0.0/0` for the default route). */
  readonly cidr: string;
  readonly dev: NatGatewayIface;
  /** The gateway; absent for an on-link route. */
  readonly via?: string;
  readonly path?: Path;
}

export interface NatGatewayNeighborConfig {
  readonly ip: string;
  readonly mac: string;
  readonly dev: NatGatewayIface;
}

/** A NAT gateway as plain data. */
export interface NatGatewayConfig {
  readonly name: string;
  /** The OVN switch port `eth0` is (`vpc-nat-gw-<name>-0.kube-system`). */
  readonly lanPort: string;
  readonly lanMac: string;
  /** eth0's "address/prefix"; the prefix is eth0's connected network. */
  readonly lanCidr: string;
  /** The VPC router port on the lan switch: the next hop of the VPC routes. */
  readonly vpcGatewayIp: string;
  readonly vpcGatewayMac: string;
  readonly externalMac: string;
  /** net1's "address/prefix". */
  readonly externalCidr: string;
  readonly externalGateway: string;
  readonly externalGatewayMac?: string;
  readonly eips: readonly NatGatewayEipConfig[];
  readonly fips: readonly NatGatewayFipConfig[];
  readonly dnats: readonly NatGatewayDnatConfig[];
  readonly snats: readonly NatGatewaySnatConfig[];
  /** Routes besides the connected ones (eth0's and net1's prefixes, which are implied). */
  readonly routes: readonly NatGatewayRouteConfig[];
  /** Known neighbours besides the two gateways. */
  readonly neighbors: readonly NatGatewayNeighborConfig[];
  /** Where the gateway is in the model, for diagnostics. */
  readonly path?: Path;
}

export const NAT_GATEWAY_DROP_REASONS = {
  "not-ipv4": "not an IPv4 packet (the gateway's nat rules are IPv4 only)",
  "l2-not-host": "the frame is not addressed to this interface (or is broadcast and not for a local address)",
  "no-route": "no route to the destination (Linux answers ICMP network unreachable)",
  "ttl-exceeded": "the TTL would reach 0 (Linux answers ICMP time exceeded)",
  "neighbor-unresolved": "the next hop's MAC is unknown on eth0 (nothing answers ARP for it)",
  "no-free-port": "SNAT found no free source port",
} as const;

export type NatGatewayDropReason = keyof typeof NAT_GATEWAY_DROP_REASONS;

/** Linux conntrack's view of a packet: the first of a connection, a later one, or a reply. */
export type NatCtState = "new" | "established" | "reply";

/** One address/port translation of the packet. */
export interface NatRewrite {
  readonly hook: NatHook;
  /** `dnat`/`snat` from a rule or a connection's original direction; `un-*` in reply. */
  readonly kind: "dnat" | "snat" | "un-dnat" | "un-snat";
  /** Which end of the packet changed. */
  readonly end: "src" | "dst";
  readonly fromIp: number;
  readonly toIp: number;
  /** Ports, for protocols that have them. */
  readonly fromPort?: number;
  readonly toPort?: number;
  /** From a rule (NEW connection) or from the connection. */
  readonly by: "rule" | "conntrack";
}

export interface NatRouteChoice {
  readonly prefix: string;
  readonly dev: NatGatewayIface;
  readonly via?: string;
  readonly connected: boolean;
  readonly path?: Path;
}

export type NatGatewayVerdict =
  | {
      readonly kind: "forward";
      readonly iface: NatGatewayIface;
      readonly nextHop: number;
      /** net1 only: the next hop's MAC is unknown; the packet leaves with a zero destination MAC. */
      readonly unresolved: boolean;
    }
  | { readonly kind: "local"; readonly note: string }
  | { readonly kind: "drop"; readonly reason: NatGatewayDropReason; readonly detail: string };

/** What the gateway did with one packet. */
export interface NatGatewayStep {
  readonly gateway: string;
  readonly iface: NatGatewayIface;
  /** The packet as it arrived (a copy). */
  readonly inKey: Uint32Array;
  /** The packet as it leaves, or as it was when delivered locally or dropped (a copy). */
  readonly key: Uint32Array;
  readonly ct?: NatCtState;
  /** The connection (`NfConnection.id`) the packet belongs to, once known. */
  readonly connection?: number;
  readonly hits: readonly RuleHit[];
  readonly rewrites: readonly NatRewrite[];
  readonly route?: NatRouteChoice;
  readonly ttl?: { readonly before: number; readonly after: number };
  readonly verdict: NatGatewayVerdict;
}

interface Route {
  readonly prefix: Prefix4;
  readonly dev: NatGatewayIface;
  readonly via?: number;
  readonly connected: boolean;
  readonly path?: Path;
}

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TTL = field("nw_ttl");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;

/** A MAC as the key's two words (16-bit high word, 32-bit low word). */
function macWords(b: Uint8Array): [number, number] {
  return [((b[0]! << 8) | b[1]!) >>> 0, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

/** The text of a MAC held in two key words. */
export function macWordsText(hi: number, lo: number): string {
  const b = new Uint8Array([(hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]);
  return formatMac(b);
}

/** Builds the gateway's nat rules as Kube-OVN does (see the module header). */
export function natGatewayRules(c: Pick<NatGatewayConfig, "fips" | "dnats" | "snats">, parse: (text: string, path: Path | undefined, what: string) => Prefix4 | undefined): IptRuleSpec[] {
  const rules: IptRuleSpec[] = [
    { chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "DNAT_FILTER" } },
    { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "EXCLUSIVE_DNAT" } },
    { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "SHARED_DNAT" } },
    { chain: "POSTROUTING", match: {}, target: { kind: "jump", chain: "SNAT_FILTER" } },
    { chain: "SNAT_FILTER", match: {}, target: { kind: "jump", chain: "EXCLUSIVE_SNAT" } },
    { chain: "SNAT_FILTER", match: {}, target: { kind: "jump", chain: "SHARED_SNAT" } },
  ];
  const host = (p: Prefix4 | undefined): Prefix4 | undefined => (p ? { addr: p.addr, len: 32 } : undefined);
  for (const f of c.fips) {
    const eip = host(parse(f.eip, f.path, "FIP EIP"));
    const inner = host(parse(f.internalIp, f.path, "FIP internal IP"));
    if (!eip || !inner) continue;
    const p = f.path ? { path: f.path } : {};
    rules.push({ chain: "EXCLUSIVE_DNAT", match: { dst: eip }, target: { kind: "DNAT", toIp: inner.addr }, ...p });
    rules.push({ chain: "EXCLUSIVE_SNAT", match: { src: inner }, target: { kind: "SNAT", toIp: eip.addr }, ...p });
  }
  for (const d of c.dnats) {
    const eip = host(parse(d.eip, d.path, "DNAT EIP"));
    const inner = host(parse(d.internalIp, d.path, "DNAT internal IP"));
    if (!eip || !inner) continue;
    rules.push({ chain: "SHARED_DNAT", match: { proto: d.protocol, dst: eip, dport: d.externalPort }, target: { kind: "DNAT", toIp: inner.addr, toPort: d.internalPort }, ...(d.path ? { path: d.path } : {}) });
  }
  for (const s of c.snats) {
    const eip = host(parse(s.eip, s.path, "SNAT EIP"));
    const cidr = parse(s.internalCidr, s.path, "SNAT internal CIDR");
    if (!eip || !cidr) continue;
    rules.push({ chain: "SHARED_SNAT", match: { outIface: "net1", src: cidr }, target: { kind: "SNAT", toIp: eip.addr, ...(s.randomFully ? { randomFully: true } : {}) }, ...(s.path ? { path: s.path } : {}) });
  }
  return rules;
}

/** Checks `config` and builds the node; every problem is a diagnostic with the config's paths. */
export function createNatGateway(config: NatGatewayConfig): Result<NatGatewayNode> {
  const diags: Diagnostic[] = [];
  const base = config.path ?? [];
  const ip4 = (text: string, path: Path | undefined, what: string): number | undefined => {
    const v = parseIpv4(text.trim());
    if (v === undefined) diags.push(error("natgw.bad-ip", `${what} "${text}" is not an IPv4 address`, { path: path ?? base }));
    return v;
  };
  const prefix = (text: string, path: Path | undefined, what: string): Prefix4 | undefined => {
    const v = parsePrefix4(text);
    if (v === undefined) diags.push(error("natgw.bad-cidr", `${what} "${text}" is not an IPv4 address or prefix`, { path: path ?? base }));
    return v;
  };
  const mac = (text: string, path: Path | undefined, what: string): [number, number] | undefined => {
    const b = parseMac(text.trim());
    if (!b) {
      diags.push(error("natgw.bad-mac", `${what} "${text}" is not a MAC address`, { path: path ?? base }));
      return undefined;
    }
    return macWords(b);
  };
  const lan = prefix(config.lanCidr, [...base, "lanIp"], "eth0 address");
  const ext = prefix(config.externalCidr, [...base, "externalCidr"], "net1 address");
  const lanMac = mac(config.lanMac, [...base, "lanPort"], "eth0 MAC");
  const extMac = mac(config.externalMac, [...base, "externalMac"], "net1 MAC");
  const vpcGwIp = ip4(config.vpcGatewayIp, base, "VPC gateway");
  const vpcGwMac = mac(config.vpcGatewayMac, base, "VPC gateway MAC");
  const extGwIp = ip4(config.externalGateway, [...base, "externalGateway"], "external gateway");
  const extGwMac = mac(config.externalGatewayMac ?? DEFAULT_EXTERNAL_GATEWAY_MAC, base, "external gateway MAC");
  const locals: number[] = [];
  if (lan) locals.push(lan.addr);
  if (ext) locals.push(ext.addr);
  for (const e of config.eips) {
    const v = ip4(e.ip, e.path, "EIP");
    if (v !== undefined) locals.push(v);
  }
  const routes: Route[] = [];
  const network = (p: Prefix4): Prefix4 => ({ addr: (p.addr & (p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0)) >>> 0, len: p.len });
  if (lan) routes.push({ prefix: network(lan), dev: "eth0", connected: true });
  if (ext) routes.push({ prefix: network(ext), dev: "net1", connected: true });
  for (const r of config.routes) {
    const p = prefix(r.cidr, r.path, "route destination");
    const via = r.via !== undefined ? ip4(r.via, r.path, "route gateway") : undefined;
    if (p) routes.push({ prefix: network(p), dev: r.dev, connected: false, ...(via !== undefined ? { via } : {}), ...(r.path ? { path: r.path } : {}) });
  }
  const neighbors = new Map<string, [number, number]>();
  if (vpcGwIp !== undefined && vpcGwMac) neighbors.set(`eth0/${vpcGwIp}`, vpcGwMac);
  if (extGwIp !== undefined && extGwMac) neighbors.set(`net1/${extGwIp}`, extGwMac);
  for (const n of config.neighbors) {
    const v = ip4(n.ip, base, "neighbour");
    const m = mac(n.mac, base, "neighbour MAC");
    if (v !== undefined && m && !neighbors.has(`${n.dev}/${v}`)) neighbors.set(`${n.dev}/${v}`, m);
  }
  const rules = natGatewayRules(config, prefix);
  if (diags.length > 0) return fail(...diags);
  const table = buildNatTable(NAT_GATEWAY_CHAINS, rules);
  if (!table.ok) return table;
  return ok(
    new NatGatewayNode({
      name: config.name,
      lanPort: config.lanPort,
      table: table.value,
      locals,
      routes,
      neighbors,
      macs: { eth0: lanMac!, net1: extMac! },
    }),
  );
}

interface NodeParts {
  readonly name: string;
  readonly lanPort: string;
  readonly table: NatTable;
  readonly locals: readonly number[];
  readonly routes: readonly Route[];
  readonly neighbors: ReadonlyMap<string, [number, number]>;
  readonly macs: Readonly<Record<NatGatewayIface, [number, number]>>;
}

/** A NAT gateway pod's network namespace; see the module header. */
export class NatGatewayNode {
  readonly name: string;
  /** The OVN switch port of eth0. */
  readonly lanPort: string;
  readonly table: NatTable;
  /** The namespace's connection table; lives across `process` calls. */
  readonly conntrack = new NfConntrack();
  private readonly locals: readonly number[];
  private readonly routes: readonly Route[];
  private readonly neighbors: ReadonlyMap<string, [number, number]>;
  private readonly macs: Readonly<Record<NatGatewayIface, [number, number]>>;

  constructor(parts: NodeParts) {
    this.name = parts.name;
    this.lanPort = parts.lanPort;
    this.table = parts.table;
    this.locals = parts.locals;
    this.routes = parts.routes;
    this.neighbors = parts.neighbors;
    this.macs = parts.macs;
  }

  /** The MAC of an interface, as text. */
  macOf(iface: NatGatewayIface): string {
    const m = this.macs[iface];
    return macWordsText(m[0], m[1]);
  }

  /** The route the namespace would use for `dst` (longest prefix; connected first on a tie). */
  lookupRoute(dst: number): Route | undefined {
    let best: Route | undefined;
    for (const r of this.routes) {
      if (!prefixContains(r.prefix, dst)) continue;
      if (!best || r.prefix.len > best.prefix.len || (r.prefix.len === best.prefix.len && r.connected && !best.connected)) best = r;
    }
    return best;
  }

  /** True when `ip` is one of the namespace's own addresses. */
  isLocal(ip: number): boolean {
    return this.locals.includes(ip >>> 0);
  }

  /** Processes one packet arriving on `iface`; see the module header. `key` is not modified. */
  process(key: Uint32Array, iface: NatGatewayIface): NatGatewayStep {
    const inKey = key.slice();
    const k = key.slice();
    const hits: RuleHit[] = [];
    const rewrites: NatRewrite[] = [];
    const done = (verdict: NatGatewayVerdict, extra: Partial<Pick<NatGatewayStep, "ct" | "connection" | "route" | "ttl">> = {}): NatGatewayStep => ({
      gateway: this.name,
      iface,
      inKey,
      key: k,
      hits,
      rewrites,
      ...extra,
      verdict,
    });
    const ethType = getField(k, F_ETH_TYPE);
    const [myHi, myLo] = this.macs[iface];
    const dstHi = k[W.ETH_DST]!;
    const dstLo = k[W.ETH_DST + 1]!;
    const group = (dstHi & 0x0100) !== 0;
    if (!group && (dstHi !== myHi || dstLo !== myLo)) {
      return done({ kind: "drop", reason: "l2-not-host", detail: `eth.dst ${macWordsText(dstHi, dstLo)} is not ${iface}'s MAC ${macWordsText(myHi, myLo)}` });
    }
    if (ethType === ETH_ARP) return done({ kind: "local", note: "ARP is answered by the pod's kernel (the answer is not simulated)" });
    if (ethType !== ETH_IP) return done({ kind: "drop", reason: "not-ipv4", detail: `eth.type 0x${ethType.toString(16).padStart(4, "0")}` });

    const proto = getField(k, F_NW_PROTO);
    const ports = hasPorts(proto);
    const tuple: NfTuple = { proto, src: k[W.NW_SRC]!, sport: ports ? getField(k, F_TP_SRC) : 0, dst: k[W.NW_DST]!, dport: ports ? getField(k, F_TP_DST) : 0 };
    const found = this.conntrack.lookup(tuple);
    const conn: NfConnection | undefined = found?.conn;
    const ct: NatCtState = !found ? "new" : found.dir === "original" ? "established" : "reply";
    const connId = conn ? { connection: conn.id } : {};

    // PREROUTING: destination translation.
    if (found && conn) {
      if (found.dir === "original" && conn.dnat) this.rewrite(k, rewrites, "PREROUTING", "dnat", "dst", conn.reply.src, conn.reply.sport, ports, "conntrack");
      if (found.dir === "reply") {
        conn.seenReply = true;
        if (conn.snat) this.rewrite(k, rewrites, "PREROUTING", "un-snat", "dst", conn.orig.src, conn.orig.sport, ports, "conntrack");
      }
    } else {
      const d = this.table.evaluate("PREROUTING", { proto, src: tuple.src, dst: tuple.dst, dport: tuple.dport, inIface: iface });
      hits.push(...d.hits);
      const t = d.rule?.target;
      if (t?.kind === "DNAT") this.rewrite(k, rewrites, "PREROUTING", "dnat", "dst", t.toIp, t.toPort ?? tuple.dport, ports, "rule");
    }

    // Routing.
    const dst = k[W.NW_DST]!;
    if (this.isLocal(dst)) return done({ kind: "local", note: localNote(proto, getField(k, F_TP_SRC), dst, getField(k, F_TP_DST)) }, { ct, ...connId });
    if (group) {
      const what = dstHi === 0xffff && dstLo === 0xffffffff ? "broadcast" : "multicast";
      return done({ kind: "drop", reason: "l2-not-host", detail: `a ${what} frame for ${formatIpv4(dst)}, which is not a local address, is not forwarded` }, { ct, ...connId });
    }
    const r = this.lookupRoute(dst);
    if (!r) return done({ kind: "drop", reason: "no-route", detail: `no route to ${formatIpv4(dst)}` }, { ct, ...connId });
    const route: NatRouteChoice = {
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
      const d = this.table.evaluate("POSTROUTING", { proto, src: k[W.NW_SRC]!, dst, dport: ports ? getField(k, F_TP_DST) : 0, outIface: r.dev });
      hits.push(...d.hits);
      const t = d.rule?.target;
      if (t?.kind === "SNAT") {
        const sport = ports ? getField(k, F_TP_SRC) : 0;
        const dport = ports ? getField(k, F_TP_DST) : 0;
        const port = this.conntrack.chooseSourcePort(proto, t.toIp, sport, dst, dport);
        if (port === undefined) return done({ kind: "drop", reason: "no-free-port", detail: `every source port towards ${formatIpv4(dst)}:${dport} from ${formatIpv4(t.toIp)} is taken` }, { ct, route, ttl: ttlChange });
        this.rewrite(k, rewrites, "POSTROUTING", "snat", "src", t.toIp, port, ports, "rule");
      }
      const after: NfTuple = { proto, src: k[W.NW_SRC]!, sport: ports ? getField(k, F_TP_SRC) : 0, dst: k[W.NW_DST]!, dport: ports ? getField(k, F_TP_DST) : 0 };
      const dnat = after.dst !== tuple.dst || after.dport !== tuple.dport;
      const snat = after.src !== tuple.src || after.sport !== tuple.sport;
      connection = this.conntrack.add(tuple, invertTuple(after), dnat, snat).id;
    }

    // Link layer out.
    const nextHop = r.via ?? dst;
    const nb = this.neighbors.get(`${r.dev}/${nextHop}`);
    const [srcHi, srcLo] = this.macs[r.dev];
    k[W.ETH_SRC] = srcHi;
    k[W.ETH_SRC + 1] = srcLo;
    const extra = { ct, route, ttl: ttlChange, ...(connection !== undefined ? { connection } : {}) };
    if (!nb) {
      if (r.dev === "eth0") return done({ kind: "drop", reason: "neighbor-unresolved", detail: `no MAC known for next hop ${formatIpv4(nextHop)} on eth0` }, extra);
      k[W.ETH_DST] = 0;
      k[W.ETH_DST + 1] = 0;
      return done({ kind: "forward", iface: r.dev, nextHop, unresolved: true }, extra);
    }
    k[W.ETH_DST] = nb[0];
    k[W.ETH_DST + 1] = nb[1];
    return done({ kind: "forward", iface: r.dev, nextHop, unresolved: false }, extra);
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

/** What Linux does with a packet for one of its own addresses that nothing listens to. */
function localNote(proto: number, tpSrc: number, dst: number, dport: number): string {
  const to = formatIpv4(dst);
  if (proto === PROTO_TCP) return `delivered to the gateway pod itself (${to}:${dport}); nothing listens there, so Linux answers a SYN with a TCP RST (not simulated)`;
  if (proto === PROTO_UDP) return `delivered to the gateway pod itself (${to}:${dport}); nothing listens there, so Linux answers ICMP port unreachable (not simulated)`;
  if (proto === PROTO_ICMP && tpSrc === 8) return `delivered to the gateway pod itself (${to}); Linux answers the echo request (not simulated)`;
  return `delivered to the gateway pod itself (${to})`;
}

/** The description of a gateway drop reason. */
export function describeNatGatewayDrop(r: NatGatewayDropReason): string {
  return NAT_GATEWAY_DROP_REASONS[r];
}
