/**
 * The Linux network stack shared by the simulated non-OVN boxes (the NAT gateway pod of
 * iptables-natgw.ts and the node host of node-host.ts): interfaces with MACs and addresses, a
 * routing table, a neighbour table, an iptables nat table and netfilter connection tracking.
 *
 * What
 * ----
 * `LinuxBox<I>` (generic over the interface name type `I`) holds those tables and runs one packet
 * through them with `run(key, iface)`, returning a `LinuxBoxStep`: every nat rule that matched,
 * the conntrack state, each translation, the route, the TTL change, the packet's mark when not 0,
 * and the verdict. The subclasses add their own names and fields to the step. What differs between
 * the boxes is given as `LinuxBoxOptions`: the interface into OVN (where an unknown next hop is
 * dropped, since OVN answers ARP only for addresses it knows; elsewhere the packet leaves with a
 * zero destination MAC), how notes name the box, and a stop before routing (the node host's
 * Service addresses, by overriding `intercept`). The connection table lives across `run` calls.
 *
 * Packet path (Linux's, for IPv4)
 * -------------------------------
 * 1. Link layer: an unknown interface drops; a unicast frame not addressed to the interface's MAC
 *    is dropped; a broadcast or multicast frame is only delivered locally. ARP is reported as local
 *    (the kernel's answer is not generated). Anything else but IPv4 is dropped.
 * 2. PREROUTING: conntrack looks the packet up. A NEW packet goes through the nat PREROUTING
 *    chain (DNAT, MARK); a later one is translated from its connection (original: the DNAT again;
 *    reply: the SNAT undone).
 * 3. The box's own addresses are delivered locally; a group frame for another address is dropped;
 *    then `intercept` may stop the walk with a local note.
 * 4. Routing: longest prefix, a connected route first on a tie; no route drops. TTL minus one; a
 *    TTL of 1 or less drops.
 * 5. POSTROUTING: a NEW packet goes through the nat POSTROUTING chain (`-o` the chosen
 *    interface); SNAT takes the rule's address, MASQUERADE the outgoing interface's own, with a
 *    free source port; the connection is then stored. A later packet is translated from its
 *    connection (original: the SNAT again; reply: the DNAT undone).
 * 6. Link layer out: the outgoing interface's MAC as source, the next hop's from the neighbour
 *    table as destination.
 *
 * Invariants: `run` never modifies the key it is given; the step's `inKey` and `key` are copies.
 */
import { error, formatIpv4, formatMac, parseIpv4, parseMac, type Diagnostic } from "../base/index.js";
import { W, field, getField, setField } from "../flow/index.js";
import { formatPrefix4, parsePrefix4, prefixContains, type NatHook, type NatTable, type Prefix4, type RuleHit } from "./iptables.js";
import { NfConntrack, hasPorts, invertTuple, type NfConnection, type NfTuple } from "./iptables-conntrack.js";

type Path = readonly (string | number)[];

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

/** Why a box drops a packet. */
export type LinuxBoxDropReason = "not-ipv4" | "l2-not-host" | "no-route" | "ttl-exceeded" | "neighbor-unresolved" | "no-free-port";

/** The descriptions of the drop reasons, for a box called `who` whose interface into OVN is `ovnIface`. */
export function linuxBoxDropReasons(who: string, ovnIface: string, arp: string): Readonly<Record<LinuxBoxDropReason, string>> {
  return {
    "not-ipv4": `not an IPv4 packet (the ${who}'s nat rules are IPv4 only)`,
    "l2-not-host": "the frame is not addressed to this interface (or is broadcast and not for a local address)",
    "no-route": "no route to the destination (Linux answers ICMP network unreachable)",
    "ttl-exceeded": "the TTL would reach 0 (Linux answers ICMP time exceeded)",
    "neighbor-unresolved": `the next hop's MAC is unknown on ${ovnIface} (${arp} answers ARP for it)`,
    "no-free-port": "SNAT found no free source port",
  };
}

/** The route a packet took, as text. */
export interface LinuxRouteChoice<I extends string> {
  readonly prefix: string;
  readonly dev: I;
  readonly via?: string;
  readonly connected: boolean;
  readonly path?: Path;
}

/** A verdict; `F` adds fields to the forward verdict. */
export type LinuxBoxVerdict<I extends string, F extends object = Record<never, never>> =
  | ({
      readonly kind: "forward";
      readonly iface: I;
      readonly nextHop: number;
      /** Off the interface into OVN only: the next hop's MAC is unknown; the packet leaves with a zero destination MAC. */
      readonly unresolved: boolean;
    } & F)
  | { readonly kind: "local"; readonly note: string }
  | { readonly kind: "drop"; readonly reason: LinuxBoxDropReason; readonly detail: string };

/** What a box did with one packet. */
export interface LinuxBoxStep<I extends string> {
  readonly iface: I;
  /** The packet as it arrived (a copy). */
  readonly inKey: Uint32Array;
  /** The packet as it leaves, or as it was when delivered locally or dropped (a copy). */
  readonly key: Uint32Array;
  readonly ct?: NatCtState;
  /** The connection (`NfConnection.id`) the packet belongs to, once known. */
  readonly connection?: number;
  readonly hits: readonly RuleHit[];
  readonly rewrites: readonly NatRewrite[];
  readonly route?: LinuxRouteChoice<I>;
  readonly ttl?: { readonly before: number; readonly after: number };
  /** The packet's mark after the nat rules, when not 0. */
  readonly mark?: number;
  readonly verdict: LinuxBoxVerdict<I>;
}

/** One entry of the routing table. */
export interface LinuxRoute<I extends string> {
  readonly prefix: Prefix4;
  readonly dev: I;
  readonly via?: number;
  readonly connected: boolean;
  readonly path?: Path;
}

/** A MAC as the key's two words (16-bit high word, 32-bit low word). */
export type MacWords = [number, number];

/** The tables of a box, already checked. */
export interface LinuxBoxParts<I extends string> {
  readonly name: string;
  readonly table: NatTable;
  /** Each interface's address (MASQUERADE's source); each is local. */
  readonly addrs: Readonly<Record<I, number>>;
  /** Local addresses besides the interfaces' own. */
  readonly extraLocals?: readonly number[];
  readonly routes: readonly LinuxRoute<I>[];
  /** Keyed `dev/ip` (the IP as a number). */
  readonly neighbors: ReadonlyMap<string, MacWords>;
  readonly macs: Readonly<Record<I, MacWords>>;
}

/** What differs between the boxes. */
export interface LinuxBoxOptions<I extends string> {
  /** The interface into OVN: an unknown next hop there is dropped. */
  readonly ovnIface: I;
  /** The note for ARP. */
  readonly arpNote: string;
  /** How local-delivery notes name the box ("the gateway pod", "node n-1"). */
  readonly self: string;
  /** Whether processes may listen on the box's addresses (changes the local-delivery notes). */
  readonly listeners: boolean;
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

/** A MAC as the key's two words. */
export function macWords(b: Uint8Array): MacWords {
  return [((b[0]! << 8) | b[1]!) >>> 0, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

/** The text of a MAC held in two key words. */
export function macWordsText(hi: number, lo: number): string {
  const b = new Uint8Array([(hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]);
  return formatMac(b);
}

/** The network of a prefix (host bits cleared). */
export function networkOf(p: Prefix4): Prefix4 {
  return { addr: (p.addr & (p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0)) >>> 0, len: p.len };
}

/** Parsers of config text that add a diagnostic (`<code>.bad-ip`, ...) to `diags` on bad input. */
export interface ConfigReader {
  readonly ip4: (text: string, path: Path | undefined, what: string) => number | undefined;
  readonly prefix: (text: string, path: Path | undefined, what: string) => Prefix4 | undefined;
  readonly mac: (text: string, path: Path | undefined, what: string) => MacWords | undefined;
}

/** A `ConfigReader` whose diagnostics have codes `<code>.*` and default to path `base`. */
export function configReader(code: string, base: Path, diags: Diagnostic[]): ConfigReader {
  return {
    ip4: (text, path, what) => {
      const v = parseIpv4(text.trim());
      if (v === undefined) diags.push(error(`${code}.bad-ip`, `${what} "${text}" is not an IPv4 address`, { path: path ?? base }));
      return v;
    },
    prefix: (text, path, what) => {
      const v = parsePrefix4(text);
      if (v === undefined) diags.push(error(`${code}.bad-cidr`, `${what} "${text}" is not an IPv4 address or prefix`, { path: path ?? base }));
      return v;
    },
    mac: (text, path, what) => {
      const b = parseMac(text.trim());
      if (!b) {
        diags.push(error(`${code}.bad-mac`, `${what} "${text}" is not a MAC address`, { path: path ?? base }));
        return undefined;
      }
      return macWords(b);
    },
  };
}

/** Adds the configured neighbours to `table` (keyed `dev/ip`); an entry already there wins. */
export function addNeighbors(table: Map<string, MacWords>, entries: readonly { readonly ip: string; readonly mac: string; readonly dev: string }[], read: ConfigReader, base: Path): void {
  for (const n of entries) {
    const v = read.ip4(n.ip, base, "neighbour");
    const m = read.mac(n.mac, base, "neighbour MAC");
    if (v !== undefined && m && !table.has(`${n.dev}/${v}`)) table.set(`${n.dev}/${v}`, m);
  }
}

type Extra<I extends string> = Partial<Pick<LinuxBoxStep<I>, "ct" | "connection" | "route" | "ttl">>;

/** A Linux box's network stack; see the module header. */
export class LinuxBox<I extends string> {
  readonly name: string;
  readonly table: NatTable;
  /** The box's connection table; lives across `run` calls. */
  readonly conntrack = new NfConntrack();
  protected readonly addrs: Readonly<Record<I, number>>;
  private readonly locals: readonly number[];
  private readonly routes: readonly LinuxRoute<I>[];
  private readonly neighbors: ReadonlyMap<string, MacWords>;
  private readonly macs: Readonly<Record<I, MacWords>>;
  private readonly options: LinuxBoxOptions<I>;

  constructor(parts: LinuxBoxParts<I>, options: LinuxBoxOptions<I>) {
    this.name = parts.name;
    this.table = parts.table;
    this.addrs = parts.addrs;
    this.locals = [...Object.values<number>(parts.addrs), ...(parts.extraLocals ?? [])];
    this.routes = parts.routes;
    this.neighbors = parts.neighbors;
    this.macs = parts.macs;
    this.options = options;
  }

  /** The MAC of an interface, as text ("" for an unknown interface). */
  macOf(iface: I): string {
    const m = this.macs[iface] as MacWords | undefined;
    return m ? macWordsText(m[0], m[1]) : "";
  }

  /** The route the box would use for `dst` (longest prefix; connected first on a tie). */
  lookupRoute(dst: number): LinuxRoute<I> | undefined {
    let best: LinuxRoute<I> | undefined;
    for (const r of this.routes) {
      if (!prefixContains(r.prefix, dst)) continue;
      if (!best || r.prefix.len > best.prefix.len || (r.prefix.len === best.prefix.len && r.connected && !best.connected)) best = r;
    }
    return best;
  }

  /** True when `ip` is one of the box's own addresses. */
  isLocal(ip: number): boolean {
    return this.locals.includes(ip >>> 0);
  }

  /** Forgets every connection. */
  clearConnections(): void {
    this.conntrack.clear();
  }

  /** Stops a packet after the local checks, before routing, with a local note; undefined goes on. */
  protected intercept(_dst: number, _ct: NatCtState): string | undefined {
    return undefined;
  }

  /** Runs one packet arriving on `iface` through the box; see the module header. `key` is not modified. */
  protected run(key: Uint32Array, iface: I): LinuxBoxStep<I> {
    const inKey = key.slice();
    const k = key.slice();
    const hits: RuleHit[] = [];
    const rewrites: NatRewrite[] = [];
    let pktMark = 0;
    const done = (verdict: LinuxBoxVerdict<I>, extra: Extra<I> = {}): LinuxBoxStep<I> => ({
      iface,
      inKey,
      key: k,
      hits,
      rewrites,
      ...extra,
      ...(pktMark !== 0 ? { mark: pktMark } : {}),
      verdict,
    });
    const mine = this.macs[iface] as MacWords | undefined;
    if (!mine) return done({ kind: "drop", reason: "l2-not-host", detail: `the host has no interface ${iface}` });
    const ethType = getField(k, F_ETH_TYPE);
    const [myHi, myLo] = mine;
    const dstHi = k[W.ETH_DST]!;
    const dstLo = k[W.ETH_DST + 1]!;
    const group = (dstHi & 0x0100) !== 0;
    if (!group && (dstHi !== myHi || dstLo !== myLo)) {
      return done({ kind: "drop", reason: "l2-not-host", detail: `eth.dst ${macWordsText(dstHi, dstLo)} is not ${iface}'s MAC ${macWordsText(myHi, myLo)}` });
    }
    if (ethType === ETH_ARP) return done({ kind: "local", note: this.options.arpNote });
    if (ethType !== ETH_IP) return done({ kind: "drop", reason: "not-ipv4", detail: `eth.type 0x${ethType.toString(16).padStart(4, "0")}` });

    const proto = getField(k, F_NW_PROTO);
    const ports = hasPorts(proto);
    const tuple: NfTuple = { proto, src: k[W.NW_SRC]!, sport: ports ? getField(k, F_TP_SRC) : 0, dst: k[W.NW_DST]!, dport: ports ? getField(k, F_TP_DST) : 0 };
    const found = this.conntrack.lookup(tuple);
    const conn: NfConnection | undefined = found?.conn;
    const ct: NatCtState = !found ? "new" : found.dir === "original" ? "established" : "reply";
    const connId = conn ? { connection: conn.id } : {};
    const tcpFlags = proto === PROTO_TCP ? getField(k, F_TCP_FLAGS) : 0;

    // PREROUTING: destination translation and marks.
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
      const t = d.rule?.target;
      if (t?.kind === "DNAT") this.rewrite(k, rewrites, "PREROUTING", "dnat", "dst", t.toIp, t.toPort ?? tuple.dport, ports, "rule");
    }

    // Local delivery.
    const dst = k[W.NW_DST]!;
    if (this.isLocal(dst)) return done({ kind: "local", note: localNote(this.options, proto, getField(k, F_TP_SRC), dst, getField(k, F_TP_DST)) }, { ct, ...connId });
    if (group) {
      const what = dstHi === 0xffff && dstLo === 0xffffffff ? "broadcast" : "multicast";
      return done({ kind: "drop", reason: "l2-not-host", detail: `a ${what} frame for ${formatIpv4(dst)}, which is not a local address, is not forwarded` }, { ct, ...connId });
    }
    const stop = this.intercept(dst, ct);
    if (stop !== undefined) return done({ kind: "local", note: stop }, { ct, ...connId });

    // Routing.
    const r = this.lookupRoute(dst);
    if (!r) return done({ kind: "drop", reason: "no-route", detail: `no route to ${formatIpv4(dst)}` }, { ct, ...connId });
    const route: LinuxRouteChoice<I> = {
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
    const [srcHi, srcLo] = this.macs[r.dev];
    k[W.ETH_SRC] = srcHi;
    k[W.ETH_SRC + 1] = srcLo;
    const extra = { ct, route, ttl: ttlChange, ...(connection !== undefined ? { connection } : {}) };
    if (!nb) {
      if (r.dev === this.options.ovnIface) return done({ kind: "drop", reason: "neighbor-unresolved", detail: `no MAC known for next hop ${formatIpv4(nextHop)} on ${r.dev}` }, extra);
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
}

/** What Linux does with a packet for one of the box's own addresses. */
function localNote(o: LinuxBoxOptions<string>, proto: number, tpSrc: number, dst: number, dport: number): string {
  const to = formatIpv4(dst);
  const head = `delivered to ${o.self} itself`;
  if (proto === PROTO_TCP) return `${head} (${to}:${dport}); ${o.listeners ? "a process listening there answers, otherwise" : "nothing listens there, so"} Linux answers a SYN with a TCP RST (not simulated)`;
  if (proto === PROTO_UDP) return `${head} (${to}:${dport}); ${o.listeners ? "a process listening there gets it, otherwise" : "nothing listens there, so"} Linux answers ICMP port unreachable (not simulated)`;
  if (proto === PROTO_ICMP && tpSrc === 8) return `${head} (${to}); Linux answers the echo request (not simulated)`;
  return `${head} (${to})`;
}
