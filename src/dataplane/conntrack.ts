/**
 * Connection tracking with Open vSwitch's `ct_state` semantics, and the ovn-trace stand-in for it.
 *
 * What
 * ----
 * `Conntrack` is a table of connections per zone that lives across packets (a replay of many
 * packets builds it up; `clear()` empties it). `execute(key, request)` runs one `ct` / `ct_lb`
 * action on a flow key: it looks the packet up, fills in the key's conntrack fields (`ct_state`,
 * `ct_zone`, `ct_mark`, `ct_label`, and the original-direction tuple `ct_nw_*` / `ct_ipv6_*` /
 * `ct_tp_*`), commits, and applies NAT to the packet's headers.
 *
 * Semantics implemented
 * ---------------------
 * - Every tracked packet gets `trk`. A packet of no known connection is `new`; a packet of a
 *   committed connection is `est`, and in the reply direction also `rpl`, except that a
 *   connection of a protocol other than TCP stays `new` for its original direction until its
 *   first reply, as OVS's UDP, ICMP and other connections do (state FIRST, then MULTIPLE or
 *   REPLY/BIDIR). TCP follows its windows (below), or without them is `est` once committed.
 * - `commit` creates the connection for a `new` packet (the committing packet itself stays `new`);
 *   `force` first ends a connection that the packet belongs to in the reply direction, so the
 *   packet starts a fresh one. `setMark` / `setLabel` need `commit`, as in OVS; they are stored in
 *   the connection and every later packet of it reads them back.
 * - `inv`: a packet that is not IPv4/IPv6; an ICMP error that belongs to no known connection; and
 *   a TCP packet of no connection that may not start one (`tcpNew`): with `ovs`, the rule of OVS's
 *   userspace conntrack (`tcp_valid_new`: flags that are invalid together, such as SYN with FIN or
 *   RST, FIN or PSH or URG without ACK, or no SYN, ACK or RST at all, and a SYN+ACK, which would
 *   be a half-open connection; a plain ACK starts one, so a connection captured mid-stream is
 *   picked up), which `replay` uses; with `syn`, anything but a plain SYN. The default, `any`,
 *   lets every TCP packet start one, because ovn-trace microflows rarely give `tcp.flags`. With
 *   `ovs` also a TCP or UDP packet with port 0 (OVS's `extract_l4_tcp` / `extract_l4_udp`: port 0
 *   is no port), known connection or not; not a later fragment, which carries no ports.
 * - TCP windows (with `tcpSegment`, which `replay` fills from each packet's TCP header): every
 *   packet of a TCP connection committed with a known segment is held to its windows as OVS
 *   holds it (conntrack-tcp.ts): out of window is `inv` (the connection's mark, label and NAT
 *   still apply, as OVS writes them), a retransmitted SYN `new`, and a SYN after both ends closed
 *   ends the connection and is new. Without a segment (traces, synthetic keys), no window.
 * - ICMP (with `icmp`, which `replay` fills from each packet's ICMP message): as OVS keys it
 *   (conntrack-icmp.ts). A query is a connection of its own identifier, which only a request
 *   starts; an error is `rel` (and `rpl` backwards) to the connection of the packet it quotes, and
 *   `inv` when there is none; other ICMP messages are `inv`.
 *   Without it (traces, keys made by hand), from the key alone: ICMP messages between two hosts are
 *   one connection, and an error (v4 types 3, 4, 5, 11, 12; v6 types 1..4) is `rel` to the oldest
 *   committed connection between its two addresses in the zone — an approximation.
 * - Timeouts (with `clock`, which `replay` sets to each packet's capture time): a connection
 *   expires as OVS's default timeout policy has it (`conntrack-tp.c`), and from then on no lookup
 *   finds it (a packet of it is new again, an ICMP error about it invalid, its reply tuple free
 *   for a NAT binding); `sweep()` removes expired ones. A commit gives a TCP connection 30 s and
 *   any other 60 s; each later packet of it (not an ICMP error) refreshes it: TCP as its window
 *   update says (conntrack-tcp.ts), ICMP and other protocols 60 s until the first reply and 30 s
 *   from then on. Without a clock, connections never expire.
 * - NAT: a connection may carry a binding (DNAT from `ct_lb` or `ct(nat(dst=..))`, SNAT from
 *   `ct(nat(src=..))`). A packet whose `ct` asks for NAT (`nat` present, or `ct_lb`) is rewritten:
 *   original-direction packets towards the translated addresses, reply packets back (un-NAT), and
 *   `ct_state` gets the translation the packet's direction makes, as OVS sets it: `dnat` forwards
 *   on a DNAT and backwards on an SNAT (the reply's destination is restored), `snat` otherwise.
 *   The binding is stored only on commit.
 * - Load balancing: a `new` packet through `ct_lb` with backends gets the one OVS 3.1 would pick
 *   (`chooseBackend`: by the packet's `dp_hash`, which it computes from the 5-tuple when the
 *   packet has none and leaves in the key; by the LB's selection fields; or, past 256 backends,
 *   by OVS's default method, a hash of the packet with no `dp_hash`) unless
 *   `preferBackend` names the address of one of them (ovn-trace's `--lb-dst`: the first backend
 *   with that address, whatever its port). The connection is committed with the DNAT binding and
 *   the `natted` bit (`ct_mark` bit 1 for `ct_lb_mark`, `ct_label` bit 1 for `ct_lb`), so every
 *   later packet of the connection goes to the same backend and replies are un-NATed.
 *   `ct_lb` without backends only restores the binding of an existing connection.
 * - The datapath's state (with `md`, which the datapath sets before each `execute`): OVS keeps a
 *   packet's `ct_state` and `ct_zone` beside the flow (`md.ct_state`), from one `ct` to the next
 *   unless a `ct_clear` reaches the datapath between them (datapath.ts). A `ct` in another zone
 *   starts afresh (`process_one`); in the same zone the new bits are added to the packet's (`est`
 *   replacing `new`; `inv` alone replaces them all, and a new connection starts from `new`), and a
 *   packet that a `ct` of the zone translated (`snat` or `dnat`) is looked up by its reverse tuple
 *   (`initial_conn_lookup`: the direction found is the one it does not travel in; not found, it
 *   belongs to no connection, and starts one only if no connection has its own tuple either) and
 *   not translated again (`handle_nat`); an ICMP error (with `icmp`) likewise. Not modelled: the
 *   lookup by the packet's original tuple that OVS makes for a `ct` without NAT when the packet was
 *   translated (`check_orig_tuple`).
 * - The all-zero SNAT (with `zeroSnat`, which `replay` sets): OVN's `ct_commit` asks OVS for a
 *   source NAT without a range where the datapath has it, as OVS 3.1's userspace datapath does, so
 *   that a firewall-only connection cannot take the reply tuple of a translated one. A commit
 *   without NAT or load balancer binds the connection to the packet's own tuple as an SNAT (later
 *   packets through a `ct` with NAT get `snat`, or `dnat` backwards, and translate to the same
 *   tuple); when another connection of the zone already holds the reply tuple, a TCP or UDP
 *   connection gets the next free source port and the packet is translated, and a connection of
 *   another protocol is not committed (`nat_get_unique_tuple`).
 *
 * ovn-trace mode (`traceCt*` below): instead of a table, each conntrack action takes its state from
 * a list given by the user (`--ct`), consumed in order; when the list runs out the state is
 * `est|trk` (ovn-trace's default). As ovn-trace does: `ct_next` replaces `ct_state`; a NAT action
 * consumes a state only when the packet is not yet tracked; `ct_lb` ORs the next state in, DNATs to
 * the `--lb-dst` backend when it is one of its backends (or to any address when it has none), and
 * consumes `--lb-dst` once; a plain `ct_commit` does nothing. Where ovn-trace would choose a backend
 * at random, this picks the same deterministic hash as the real table.
 *
 * The table
 * ---------
 * Connections are indexed by (zone, tuple) in both directions in `ConnTable` (conn-table.ts), an
 * open-addressing hash table over typed arrays: a lookup turns the packet's zone and tuple into a
 * few words, hashes them and compares words, without making or reading tuple objects. When several
 * connections have a direction with the same tuple (possible only through NAT bindings), a packet
 * belongs to the one committed first. An ICMP error is related to the oldest connection that
 * matches it. The `Connection` records (with their `Tuple` objects) are made once, at commit, for
 * traces, tests and `connections()`.
 *
 * Per-packet cost: a packet of a known connection, or a new one that is not committed, allocates
 * nothing; an ICMP error finds its related connection with one lookup of its address pair.
 */
import { hashAdd, hashFinish, mix32 } from "../base/index.js";
import { CT, CT_STATE_NAMES, FRAG, W, bswap16, bswap32, flowHash5Tuple, flowHashSymmetricL4, getField, field, hashInt, type FieldDef } from "../flow/index.js";
import type { Backend, CtNat, CtSetLabel, CtSetMark, IpAddr } from "../ofp/index.js";
import { ConnTable, HEAD_ICMP_BITS, HEAD_ICMP_SHIFT, HEAD_V6, HEAD_WIDE_V4, TUPLE_WORDS } from "./conn-table.js";
import { ICMP_BAD, ICMP_ERROR, ICMP_NONE, ICMP_QUERY, ICMP_REQUEST, IcmpMessage, icmpQueryClass, icmpQueryType, isIcmpErrorType, ovsIcmp6UdpQuirk } from "./conntrack-icmp.js";
import { bestBucket, dpHashBucket, dpHashFits } from "./select-group.js";
import { TCP_TIMEOUT, TCP_UPDATE, TcpSegment, TcpTrack, tcpInvalidFlags, tcpUpdate } from "./conntrack-tcp.js";

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_TCP_FLAGS = field("tcp_flags");

/** A connection's tuple in one direction. Addresses are four words (IPv4 in the last). */
export interface Tuple {
  readonly v6: boolean;
  readonly proto: number;
  readonly src: readonly number[];
  readonly dst: readonly number[];
  readonly sport: number;
  readonly dport: number;
  /**
   * An ICMP query's class (conntrack-icmp.ts `icmpQueryClass`: its family, and `ICMP_REQUEST` when
   * the tuple's source sent the request), with its identifier as both ports; 0 for everything else
   * and for ICMP read from the key alone.
   */
  readonly icmp: number;
}

export interface Connection {
  readonly id: number;
  readonly zone: number;
  /** The tuple of the packet that committed it (before NAT). */
  readonly orig: Tuple;
  /** The tuple replies carry (after NAT, reversed). */
  reply: Tuple;
  mark: number;
  /** Four words, most significant first. */
  label: number[];
  nat?: "dnat" | "snat";
  backend?: Backend;
  /** TCP window tracking (with `ConntrackOptions.tcpSegment`, for a connection whose committing segment was known). */
  tcp?: TcpTrack;
  /** A packet of the reply direction was seen (kept for protocols other than TCP, which stay `new` until then). */
  replied: boolean;
  /**
   * When it expires, on the table's clock (`ConntrackOptions.clock`, milliseconds): from then on no
   * packet finds it. Infinity without a clock.
   */
  expires: number;
}

export interface CtRequest {
  readonly zone: number;
  readonly commit: boolean;
  readonly force?: boolean;
  readonly nat?: CtNat;
  readonly setMark?: CtSetMark;
  readonly setLabel?: CtSetLabel;
  /** Present for `ct_lb`. */
  readonly lb?: {
    readonly backends: readonly Backend[];
    readonly hashFields?: readonly FieldDef[];
    readonly mark?: boolean;
    /** Use this backend for a new connection when it is one of `backends` (ovn-trace `--lb-dst`). */
    readonly preferBackend?: Backend;
  };
}

export interface CtOutcome {
  readonly state: number;
  readonly committed: boolean;
  readonly connection: Connection | undefined;
  readonly backend: Backend | undefined;
  readonly nat: "dnat" | "snat" | "undnat" | "unsnat" | undefined;
  readonly note: string | undefined;
}

export interface ConntrackOptions {
  /**
   * Which TCP packets of no connection may start one (see the module header): `any` (default),
   * `ovs` (OVS's userspace conntrack, which also finds TCP and UDP with port 0 invalid) or `syn` (a
   * plain SYN only); the others are invalid.
   */
  readonly tcpNew?: "any" | "ovs" | "syn";
  /**
   * Track TCP windows as OVS does (conntrack-tcp.ts), from this segment: the caller fills it in
   * for every packet (the flow key holds no sequence numbers). Without it, no window is tracked.
   */
  readonly tcpSegment?: TcpSegment;
  /**
   * Treat ICMP as OVS does (conntrack-icmp.ts), from this message: the caller fills it in for every
   * packet. Without it, ICMP is judged from the key alone (see the module header).
   */
  readonly icmp?: IcmpMessage;
  /**
   * Expire connections as OVS's default timeout policy does, on this clock: the caller sets the
   * time of each packet (the replay: its capture time). Without it, connections never expire.
   */
  readonly clock?: CtClock;
  /**
   * Give a plain commit (no NAT, no load balancer) OVS's all-zero SNAT, as OVN's `ct_commit` asks
   * for it where the datapath has it (see the module header).
   */
  readonly zeroSnat?: boolean;
}

/** The time conntrack's timeouts run on, in milliseconds (`ConntrackOptions.clock`). */
export class CtClock {
  now = 0;
}

/**
 * OVS's default timeouts (`conntrack-tp.c`) for connections other than TCP, in milliseconds
 * (TCP's, by state, are in conntrack-tcp.ts): ICMP 60 s until a reply and 30 s after; other
 * protocols, UDP among them, 60 s while only the original direction has sent (`udp_first`, then
 * `udp_single`) and 30 s once both have (`udp_multiple`).
 */
export const TIMEOUT = { ICMP_FIRST: 60_000, ICMP_REPLY: 30_000, OTHER_FIRST: 60_000, OTHER_BIDIR: 30_000 } as const;

/** The timeout of an ICMP (`icmp`) or other connection that is not TCP, before or after its first reply. */
function nonTcpTimeout(icmp: boolean, replied: boolean): number {
  if (icmp) return replied ? TIMEOUT.ICMP_REPLY : TIMEOUT.ICMP_FIRST;
  return replied ? TIMEOUT.OTHER_BIDIR : TIMEOUT.OTHER_FIRST;
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** Whether a TCP packet with `flags` may start a connection under rule `rule` (`ConntrackOptions.tcpNew`). */
function tcpMayStart(flags: number, rule: "ovs" | "syn"): boolean {
  if (rule === "syn") return (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
  // OVS conntrack-tcp.c: tcp_invalid_flags, then no SYN+ACK.
  return !tcpInvalidFlags(flags) && (flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK);
}

function isIcmp(v6: boolean, proto: number): boolean {
  return v6 ? proto === PROTO_ICMPV6 : proto === PROTO_ICMP;
}

/**
 * Whether conntrack keys the protocol by its ports: TCP and UDP only. OVS 3.1's userspace conntrack
 * (`extract_l4`) reads no ports of any other protocol, SCTP included: an SCTP association is keyed
 * by its addresses alone, and NAT (`nat_get_unique_tuple`, `pat_packet`) leaves its ports as they
 * are. (The kernel's conntrack keys and translates SCTP ports; replay models the userspace one.)
 */
function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP;
}

/** The packet's tuple, or undefined for a packet that is not IP. */
export function tupleOf(key: Uint32Array): Tuple | undefined {
  const et = getField(key, F_ETH_TYPE);
  if (et !== ETH_IP && et !== ETH_IPV6) return undefined;
  const v6 = et === ETH_IPV6;
  const proto = getField(key, F_NW_PROTO);
  const src = v6 ? Array.from(key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4)) : [0, 0, 0, key[W.NW_SRC]!];
  const dst = v6 ? Array.from(key.subarray(W.IPV6_DST, W.IPV6_DST + 4)) : [0, 0, 0, key[W.NW_DST]!];
  const ports = hasPorts(proto);
  return { v6, proto, src, dst, sport: ports ? getField(key, F_TP_SRC) : 0, dport: ports ? getField(key, F_TP_DST) : 0, icmp: 0 };
}

/** A tuple being filled in place (the lookup scratch; never stored). */
interface MutableTuple {
  v6: boolean;
  proto: number;
  readonly src: number[];
  readonly dst: number[];
  sport: number;
  dport: number;
  icmp: number;
}

function newScratchTuple(): MutableTuple {
  return { v6: false, proto: 0, src: [0, 0, 0, 0], dst: [0, 0, 0, 0], sport: 0, dport: 0, icmp: 0 };
}

/**
 * Fills `t` with the packet's tuple; false (and `t` unchanged) for a packet that is not IP. An
 * ICMP query of class `icmpCls` (nonzero) has its identifier `icmpId` as both ports.
 */
function tupleInto(key: Uint32Array, t: MutableTuple, icmpCls = 0, icmpId = 0): boolean {
  const et = getField(key, F_ETH_TYPE);
  if (et !== ETH_IP && et !== ETH_IPV6) return false;
  const v6 = et === ETH_IPV6;
  t.v6 = v6;
  t.proto = getField(key, F_NW_PROTO);
  for (let i = 0; i < 4; i++) {
    t.src[i] = v6 ? key[W.IPV6_SRC + i]! : i === 3 ? key[W.NW_SRC]! : 0;
    t.dst[i] = v6 ? key[W.IPV6_DST + i]! : i === 3 ? key[W.NW_DST]! : 0;
  }
  const ports = hasPorts(t.proto);
  t.sport = ports ? getField(key, F_TP_SRC) : icmpCls !== 0 ? icmpId : 0;
  t.dport = ports ? getField(key, F_TP_DST) : icmpCls !== 0 ? icmpId : 0;
  t.icmp = icmpCls;
  return true;
}

/** A stored copy of a tuple. */
function copyTuple(t: Tuple): Tuple {
  return { v6: t.v6, proto: t.proto, src: [...t.src], dst: [...t.dst], sport: t.sport, dport: t.dport, icmp: t.icmp };
}

/** The tuple of the other direction: ends swapped, and of an ICMP query the request's side. */
function reverse(t: Tuple): Tuple {
  return { v6: t.v6, proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport, icmp: t.icmp === 0 ? 0 : t.icmp ^ ICMP_REQUEST };
}

function sameAddr(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** A hash of one address (four words). */
function addrHash(a: readonly number[]): number {
  return mix32((Math.imul(a[0]!, 0x9e3779b1) + Math.imul(a[1]!, 0x85ebca77) + Math.imul(a[2]!, 0xc2b2ae3d) + Math.imul(a[3]!, 0x27d4eb2f)) | 0);
}

/**
 * A hash of an unordered address pair in a zone and address family, the same for (a, b) and
 * (b, a). Different pairs may share one; the lookup checks the addresses.
 */
function pairHash(zone: number, v6: boolean, a: readonly number[], b: readonly number[]): number {
  const x = addrHash(a);
  const y = addrHash(b);
  return mix32((Math.imul(Math.min(x, y), 0x165667b1) + Math.imul(Math.max(x, y), 0xd3a2646d) + Math.imul(zone * 2 + (v6 ? 1 : 0), 0x27d4eb2f)) | 0);
}

/** True when `a` is one of the addresses of `c`'s two directions. */
function hasAddr(c: Connection, a: readonly number[]): boolean {
  return sameAddr(c.orig.src, a) || sameAddr(c.orig.dst, a) || sameAddr(c.reply.src, a) || sameAddr(c.reply.dst, a);
}

/**
 * Connections by address pair, for ICMP errors: each connection under the hash of every unordered
 * pair of the addresses of its two directions (an address with itself too), oldest first, so that
 * the connection an error is related to takes one lookup, not a scan of every connection.
 */
class PairIndex {
  private readonly lists = new Map<number, Connection[]>();

  /** An index of `conns` (oldest first). */
  constructor(conns: Iterable<Connection>) {
    for (const c of conns) this.add(c);
  }

  /**
   * The oldest connection in `zone`, of `t`'s family, that has both of `t`'s addresses and has not
   * expired at `now`.
   */
  find(zone: number, t: Tuple, now: number): Connection | undefined {
    const l = this.lists.get(pairHash(zone, t.v6, t.src, t.dst));
    // Pairs that share a hash share a list: the first connection that really has both addresses.
    if (l !== undefined) for (const c of l) if (c.zone === zone && c.orig.v6 === t.v6 && c.expires > now && hasAddr(c, t.src) && hasAddr(c, t.dst)) return c;
    return undefined;
  }

  /** Adds a connection newer than every one in the index. */
  add(c: Connection): void {
    for (const h of pairHashes(c)) {
      const l = this.lists.get(h);
      if (l) l.push(c);
      else this.lists.set(h, [c]);
    }
  }

  remove(c: Connection): void {
    for (const h of pairHashes(c)) {
      const l = this.lists.get(h);
      const i = l ? l.indexOf(c) : -1;
      if (i < 0) continue;
      l!.splice(i, 1);
      if (l!.length === 0) this.lists.delete(h);
    }
  }
}

/** The distinct pair hashes of a connection's addresses (`PairIndex`). */
function pairHashes(c: Connection): number[] {
  const addrs: (readonly number[])[] = [];
  for (const a of [c.orig.src, c.orig.dst, c.reply.src, c.reply.dst]) if (!addrs.some((b) => sameAddr(a, b))) addrs.push(a);
  const hs: number[] = [];
  for (let i = 0; i < addrs.length; i++) {
    for (let j = i; j < addrs.length; j++) {
      const h = pairHash(c.zone, c.orig.v6, addrs[i]!, addrs[j]!);
      if (!hs.includes(h)) hs.push(h);
    }
  }
  return hs;
}

/** Turns the tuple words `w` (`packetWords`) into those of the other direction. */
function reverseWords(w: Uint32Array): void {
  w[1] = (((w[1]! & 0xffff) << 16) | (w[1]! >>> 16)) >>> 0;
  if ((w[0]! & (HEAD_V6 | HEAD_WIDE_V4)) !== 0) {
    for (let i = 2; i < 6; i++) {
      const a = w[i]!;
      w[i] = w[i + 4]!;
      w[i + 4] = a;
    }
  } else {
    const a = w[2]!;
    w[2] = w[3]!;
    w[3] = a;
  }
  if (((w[0]! >>> HEAD_ICMP_SHIFT) & HEAD_ICMP_BITS) !== 0) w[0] = (w[0]! ^ (ICMP_REQUEST << HEAD_ICMP_SHIFT)) >>> 0;
}

function sameTuple(a: Tuple, b: Tuple): boolean {
  return a.v6 === b.v6 && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport && a.icmp === b.icmp && sameAddr(a.src, b.src) && sameAddr(a.dst, b.dst);
}

/**
 * Fills `w` with the table's tuple words (conn-table.ts) of the packet in `key`, in `zone`; an
 * ICMP query of class `icmpCls` (nonzero) with its identifier `icmpId`.
 */
function packetWords(w: Uint32Array, key: Uint32Array, zone: number, v6: boolean, proto: number, icmpCls: number, icmpId: number): void {
  w[1] = hasPorts(proto) ? key[W.TP]! : icmpCls !== 0 ? ((icmpId << 16) | icmpId) >>> 0 : 0;
  const cls = icmpCls << HEAD_ICMP_SHIFT;
  if (v6) {
    w[0] = (zone << 16) | HEAD_V6 | cls | proto;
    w[2] = key[W.IPV6_SRC]!;
    w[3] = key[W.IPV6_SRC + 1]!;
    w[4] = key[W.IPV6_SRC + 2]!;
    w[5] = key[W.IPV6_SRC + 3]!;
    w[6] = key[W.IPV6_DST]!;
    w[7] = key[W.IPV6_DST + 1]!;
    w[8] = key[W.IPV6_DST + 2]!;
    w[9] = key[W.IPV6_DST + 3]!;
  } else {
    w[0] = (zone << 16) | cls | proto;
    w[2] = key[W.NW_SRC]!;
    w[3] = key[W.NW_DST]!;
  }
}

/** Fills `w` with the table's tuple words of a stored tuple, in `zone`. */
function tupleWords(w: Uint32Array, zone: number, t: Tuple): void {
  fieldWords(w, zone, t.v6, t.proto, t.icmp, t.src, t.dst, t.sport, t.dport);
}

/** `tupleWords` of a tuple given field by field (addresses as four words). */
function fieldWords(w: Uint32Array, zone: number, v6: boolean, proto: number, icmp: number, s: readonly number[], d: readonly number[], sport: number, dport: number): void {
  const wide = v6 || (s[0]! | s[1]! | s[2]! | d[0]! | d[1]! | d[2]!) !== 0;
  w[0] = (zone << 16) | (v6 ? HEAD_V6 : wide ? HEAD_WIDE_V4 : 0) | (icmp << HEAD_ICMP_SHIFT) | (proto & 0xff);
  w[1] = ((sport & 0xffff) << 16) | (dport & 0xffff);
  if (wide) {
    for (let i = 0; i < 4; i++) {
      w[2 + i] = s[i]!;
      w[6 + i] = d[i]!;
    }
  } else {
    w[2] = s[3]!;
    w[3] = d[3]!;
  }
}

/** An address as the four-word form tuples use. */
function addr4(ip: IpAddr): number[] {
  return ip.length === 1 ? [0, 0, 0, ip[0]! >>> 0] : ip.map((w) => w >>> 0);
}

/** Writes a tuple's addresses and ports into the packet headers. */
function writeHeaders(key: Uint32Array, t: Tuple): void {
  if (t.v6) {
    key.set(t.src, W.IPV6_SRC);
    key.set(t.dst, W.IPV6_DST);
  } else {
    key[W.NW_SRC] = t.src[3]!;
    key[W.NW_DST] = t.dst[3]!;
  }
  if (hasPorts(t.proto)) key[W.TP] = (((t.sport & 0xffff) << 16) | (t.dport & 0xffff)) >>> 0;
}

/** Writes one address (four words, IPv4 in the last) into the packet's IPv4 or IPv6 field. */
function writeAddr(key: Uint32Array, v6: boolean, w4: number, w6: number, a: readonly number[]): void {
  if (v6) for (let i = 0; i < 4; i++) key[w6 + i] = a[i]!;
  else key[w4] = a[3]!;
}

/**
 * Gives `m`'s quoted packet (read by `quoteOwnOf` from the frame as it came in) the addresses and
 * ports of `q`, the key of the packet an error was made from as it was at the action that made it:
 * a router or NAT before that action changed them. An ICMP query's identifier, which no key holds,
 * stays the frame's.
 */
function readQuoted(q: Uint32Array, m: IcmpMessage): void {
  readAddr(q, m.innerV6, W.NW_SRC, W.IPV6_SRC, m.innerSrc);
  readAddr(q, m.innerV6, W.NW_DST, W.IPV6_DST, m.innerDst);
  // The ports that conntrack reads of a quoted packet: TCP's and UDP's.
  if (hasPorts(m.innerProto)) {
    m.innerSport = q[W.TP]! >>> 16;
    m.innerDport = q[W.TP]! & 0xffff;
  }
}

/** Writes the tuple of `m`'s quoted packet (after NAT of it) into the key `q` of that packet. */
function writeQuoted(q: Uint32Array, m: IcmpMessage): void {
  writeAddr(q, m.innerV6, W.NW_SRC, W.IPV6_SRC, m.innerSrc);
  writeAddr(q, m.innerV6, W.NW_DST, W.IPV6_DST, m.innerDst);
  if (hasPorts(m.innerProto)) q[W.TP] = ((m.innerSport << 16) | m.innerDport) >>> 0;
}

/** Reads one address of the packet's IPv4 or IPv6 field into `a` (four words, IPv4 in the last, the rest 0). */
function readAddr(key: Uint32Array, v6: boolean, w4: number, w6: number, a: number[]): void {
  if (v6) for (let i = 0; i < 4; i++) a[i] = key[w6 + i]!;
  else {
    a[0] = a[1] = a[2] = 0;
    a[3] = key[w4]!;
  }
}

/** Writes the reverse of `t` (its destination as source) into the packet headers. */
function writeHeadersReversed(key: Uint32Array, t: Tuple): void {
  if (t.v6) {
    for (let i = 0; i < 4; i++) {
      key[W.IPV6_SRC + i] = t.dst[i]!;
      key[W.IPV6_DST + i] = t.src[i]!;
    }
  } else {
    key[W.NW_SRC] = t.dst[3]!;
    key[W.NW_DST] = t.src[3]!;
  }
  if (hasPorts(t.proto)) key[W.TP] = (((t.dport & 0xffff) << 16) | (t.sport & 0xffff)) >>> 0;
}

function writeLabel(key: Uint32Array, label: readonly number[] | undefined): void {
  if (label) {
    key[W.CT_LABEL] = label[0]!;
    key[W.CT_LABEL + 1] = label[1]!;
    key[W.CT_LABEL + 2] = label[2]!;
    key[W.CT_LABEL + 3] = label[3]!;
  } else {
    key[W.CT_LABEL] = 0;
    key[W.CT_LABEL + 1] = 0;
    key[W.CT_LABEL + 2] = 0;
    key[W.CT_LABEL + 3] = 0;
  }
}

/** Zeroes the key's IPv6 `ct_*` address fields. */
function zeroCtIpv6(key: Uint32Array): void {
  key[W.CT_IPV6_SRC] = 0;
  key[W.CT_IPV6_SRC + 1] = 0;
  key[W.CT_IPV6_SRC + 2] = 0;
  key[W.CT_IPV6_SRC + 3] = 0;
  key[W.CT_IPV6_DST] = 0;
  key[W.CT_IPV6_DST + 1] = 0;
  key[W.CT_IPV6_DST + 2] = 0;
  key[W.CT_IPV6_DST + 3] = 0;
}

/** Writes the original-direction tuple into the key's `ct_*` tuple fields (zeroes them for none). */
function writeCtTuple(key: Uint32Array, t: Tuple | undefined): void {
  if (!t) {
    key[W.CT_NW_SRC] = 0;
    key[W.CT_NW_DST] = 0;
    key[W.CT_NW_PROTO] = 0;
    key[W.CT_TP] = 0;
    zeroCtIpv6(key);
    return;
  }
  if (t.v6) {
    key[W.CT_NW_SRC] = 0;
    key[W.CT_NW_DST] = 0;
    for (let i = 0; i < 4; i++) {
      key[W.CT_IPV6_SRC + i] = t.src[i]!;
      key[W.CT_IPV6_DST + i] = t.dst[i]!;
    }
  } else {
    key[W.CT_NW_SRC] = t.src[3]!;
    key[W.CT_NW_DST] = t.dst[3]!;
    zeroCtIpv6(key);
  }
  key[W.CT_NW_PROTO] = t.proto;
  // OVS gives an ICMP query's original tuple the request's type and code as its "ports".
  key[W.CT_TP] = t.icmp !== 0 ? (icmpQueryType(t.v6, t.icmp) << 16) >>> 0 : (((t.sport & 0xffff) << 16) | (t.dport & 0xffff)) >>> 0;
}

/**
 * `writeCtTuple` from a packet's tuple words (`w[o ..]`, conn-table.ts layout; never a wide IPv4
 * tuple, which only NAT bindings make).
 */
function writeCtTupleWords(key: Uint32Array, w: Uint32Array, o: number): void {
  const head = w[o]!;
  key[W.CT_NW_PROTO] = head & 0xff;
  const cls = (head >>> HEAD_ICMP_SHIFT) & HEAD_ICMP_BITS;
  key[W.CT_TP] = cls !== 0 ? (icmpQueryType((head & HEAD_V6) !== 0, cls) << 16) >>> 0 : w[o + 1]!;
  if ((head & HEAD_V6) !== 0) {
    key[W.CT_NW_SRC] = 0;
    key[W.CT_NW_DST] = 0;
    key[W.CT_IPV6_SRC] = w[o + 2]!;
    key[W.CT_IPV6_SRC + 1] = w[o + 3]!;
    key[W.CT_IPV6_SRC + 2] = w[o + 4]!;
    key[W.CT_IPV6_SRC + 3] = w[o + 5]!;
    key[W.CT_IPV6_DST] = w[o + 6]!;
    key[W.CT_IPV6_DST + 1] = w[o + 7]!;
    key[W.CT_IPV6_DST + 2] = w[o + 8]!;
    key[W.CT_IPV6_DST + 3] = w[o + 9]!;
  } else {
    key[W.CT_NW_SRC] = w[o + 2]!;
    key[W.CT_NW_DST] = w[o + 3]!;
    zeroCtIpv6(key);
  }
}

/** Sets `ct_state` and `ct_zone`. */
function writeStateZone(key: Uint32Array, state: number, zone: number): void {
  key[W.CT_STATE_ZONE] = (((zone & 0xffff) << 16) | (state & 0xff)) >>> 0;
}

/** Forgets the packet's conntrack state, as OVN's `ct_clear` does. */
export function clearCtFields(key: Uint32Array): void {
  key[W.CT_STATE_ZONE] = 0;
  key[W.CT_MARK] = 0;
  writeLabel(key, undefined);
  writeCtTuple(key, undefined);
}

/**
 * Chooses a backend of the packet's address family as OVS 3.1 picks a bucket of the group
 * ovn-controller 23.03 makes of `ct_lb_mark(backends=...)`: one bucket of weight 100 per backend,
 * in the action's order (select-group.ts). `prefer` (ovn-trace's `--lb-dst`) wins when it is one
 * of them. With `hashFields` (the load balancer's `selection_fields`, `selection_method=hash`) the
 * bucket is the best-scoring one for OVS's hash of those fields (`hashFieldsBasis`); otherwise
 * (`selection_method=dp_hash`) the one the packet's `dp_hash` maps to (`lbDpHash`), or, when the
 * group is too large for a `dp_hash` table, the best-scoring one for `flow_hash_symmetric_l4` of
 * the packet as it is here. Undefined when the family has no backend.
 */
export function chooseBackend(key: Uint32Array, t: Tuple, backends: readonly Backend[], hashFields?: readonly FieldDef[], prefer?: Backend): Backend | undefined {
  const fam = backends.filter((b) => (b.ip.length === 4) === t.v6);
  if (fam.length === 0) return undefined;
  if (prefer) {
    // ovn-trace's `--lb-dst` takes the first backend with its address, whatever its port
    // (execute_ct_lb): of 10.2.0.11:8000 and 10.2.0.11:53, `--lb-dst 10.2.0.11:53` picks :8000.
    const p = addr4(prefer.ip);
    const hit = fam.find((b) => sameAddr(addr4(b.ip), p));
    if (hit) return hit;
  }
  const weights = LB_WEIGHTS(fam.length);
  if (hashFields && hashFields.length > 0) return fam[Math.max(0, bestBucket(weights, hashFieldsBasis(key, hashFields)))];
  // More backends than a dp_hash table holds (the group has a bucket for every backend listed):
  // OVS's default method, on the packet as it is here.
  if (!dpHashFits(LB_WEIGHTS(backends.length))) return fam[Math.max(0, bestBucket(weights, flowHashSymmetricL4(key, 0)))];
  const i = dpHashBucket(weights, lbDpHash(key));
  return fam[i < 0 ? 0 : i];
}

/**
 * True when `req` is a load balancer's whose group picks by `dp_hash` (so OVS recirculates once to
 * compute it, unless the packet has one already).
 */
export function lbHashRecirc(req: CtRequest): boolean {
  const lb = req.lb;
  return lb !== undefined && lb.backends.length > 0 && lb.preferBackend === undefined && lbUsesDpHash(lb.backends, lb.hashFields);
}

/**
 * True when a load balancer's group, a bucket for each of `backends`, picks by `dp_hash`
 * (select-group.ts): it has no selection fields and no more buckets than a `dp_hash` table holds.
 */
function lbUsesDpHash(backends: readonly Backend[], hashFields: readonly FieldDef[] | undefined): boolean {
  return (hashFields === undefined || hashFields.length === 0) && dpHashFits(LB_WEIGHTS(backends.length));
}

/**
 * The `dp_hash` a load balancer's group selects by: the packet's own when an earlier group on this
 * chassis gave it one, else what the datapath's L4 hash action computes, OVS's `hash_int` of the
 * packet's RSS hash (its 5-tuple hash). OVS takes the RSS hash of the packet as it reached this
 * chassis's datapath; this takes the packet as it is at the load balancer, which differs only
 * where NAT on the same chassis changed its addresses or ports before it.
 */
export function lbDpHash(key: Uint32Array): number {
  const had = key[W.DP_HASH]!;
  return had !== 0 ? had : hashInt(flowHash5Tuple(key, 0), 0);
}

const lbWeights: number[][] = [];
function LB_WEIGHTS(n: number): readonly number[] {
  return (lbWeights[n] ??= new Array<number>(n).fill(100));
}

/** OVS's order of the fields a load balancer may hash (their `mf_field_id` order). */
const HASH_FIELD_ORDER: Readonly<Record<string, number>> = { eth_src: 0, eth_dst: 1, nw_src: 2, nw_dst: 3, ipv6_src: 4, ipv6_dst: 5, tp_src: 6, tp_dst: 7 };

/**
 * `pick_hash_fields_select_group`'s hash: from `hash_uint64(0)`, each field in OVS's field order
 * (each once) whose prerequisites the packet meets is hashed as its bytes in network order
 * (`hash_bytes`), each result the basis of the next. A port field stands for the port of the
 * packet's own protocol: northd names `tp_src`/`tp_dst` after the load balancer's protocol
 * (`udp_src`), which is the protocol of every packet its flows send here.
 */
function hashFieldsBasis(key: Uint32Array, fields: readonly FieldDef[]): number {
  const sorted = [...new Set(fields.map((f) => f.name))].sort((a, b) => (HASH_FIELD_ORDER[a] ?? 99) - (HASH_FIELD_ORDER[b] ?? 99));
  const type = key[W.ETH_TYPE]! & 0xffff;
  const nw = key[W.NW]!;
  const proto = nw & 0xff;
  const ports = (type === 0x0800 || type === 0x86dd) && (proto === 6 || proto === 17 || proto === 132) && (nw & (FRAG.LATER << 24)) === 0;
  let basis = hashFinish(hashAdd(hashAdd(0, 0), 0), 8);
  for (const name of sorted) {
    const f = field(name);
    if (name === "eth_src" || name === "eth_dst") {
      const hi = key[f.word]! & 0xffff;
      const lo = key[f.word + 1]!;
      basis = hashFinish(hashAdd(hashAdd(basis, bswap16(hi) | (bswap16(lo >>> 16) << 16)), bswap16(lo & 0xffff)), 6);
    } else if (name === "nw_src" || name === "nw_dst") {
      if (type === 0x0800) basis = hashFinish(hashAdd(basis, bswap32(key[f.word]!)), 4);
    } else if (name === "ipv6_src" || name === "ipv6_dst") {
      if (type !== 0x86dd) continue;
      let h = basis;
      for (let i = 0; i < 4; i++) h = hashAdd(h, bswap32(key[f.word + i]!));
      basis = hashFinish(h, 16);
    } else if (name === "tp_src" || name === "tp_dst") {
      if (ports) basis = hashFinish(hashAdd(basis, bswap16(getField(key, f))), 2);
    }
  }
  return basis;
}

/** What `execute` reports; one object per `Conntrack`, overwritten by the next call. */
interface MutableOutcome {
  state: number;
  committed: boolean;
  connection: Connection | undefined;
  backend: Backend | undefined;
  nat: CtOutcome["nat"];
  note: string | undefined;
}

export class Conntrack {
  private readonly table = new ConnTable<Connection>();
  /** For ICMP errors (see `PairIndex`): built at the first one, so a capture without pays nothing. */
  private byPair: PairIndex | undefined;
  private readonly tcpNew: "any" | "ovs" | "syn";
  private readonly segment: TcpSegment | undefined;
  private readonly icmp: IcmpMessage | undefined;
  private readonly zeroSnat: boolean;
  /**
   * The conntrack state the packet carries into the next `execute` (OVS's `md.ct_state` and
   * `md.ct_zone`, as `W.CT_STATE_ZONE` holds them), set by the caller just before; 0: none.
   * `execute` reads it and sets it back to 0 (see the module header).
   */
  md = 0;
  /** The clock its timeouts run on (`ConntrackOptions.clock`), which fragment lists share. */
  readonly clock: CtClock | undefined;
  private readonly scratch: MutableTuple = newScratchTuple();
  /** A TCP reset OVN makes from the packet being processed (see `execute`). */
  private readonly madeSegment = new TcpSegment();
  /** An ICMP error OVN makes from the packet being processed (`IcmpMessage.quoteOwnOf`). */
  private readonly madeIcmp = new IcmpMessage();
  /** The reply tuple words of a connection being committed. */
  private readonly replyWords = new Uint32Array(TUPLE_WORDS);
  /**
   * The connection the packet being processed carries from its last `ct` (OVS's `md.conn`): its
   * segment's serial (-1: none), zone and record. A `ct` in that zone answers from it without
   * updating TCP's states (`process_one_fast`).
   */
  private cachedSerial = -1;
  private cachedZone = -1;
  private cachedConnection: Connection | undefined;
  private readonly outcome: MutableOutcome = { state: 0, committed: false, connection: undefined, backend: undefined, nat: undefined, note: undefined };
  private nextId = 1;
  /**
   * Once OVN has made an answer (an ICMP error, a reset) to the packet being processed: that packet
   * as it was where the answer was made, as a key (the datapath's `DatapathGroup.quote`), which this
   * conntrack reads an error's quoted tuple from and writes its NAT of that tuple back to; a reset
   * is then taken for a segment of its own. Undefined before: the frame's own IP packet is the quote.
   */
  madeQuote: Uint32Array | undefined = undefined;
  /** Connections committed so far. */
  created = 0;
  /** Connections that expired on the clock and were removed (by a lookup or `sweep`). */
  expired = 0;

  constructor(options: ConntrackOptions = {}) {
    this.tcpNew = options.tcpNew ?? "any";
    this.segment = options.tcpSegment;
    this.icmp = options.icmp;
    this.clock = options.clock;
    this.zeroSnat = options.zeroSnat ?? false;
  }

  /**
   * The packet being processed forgets the connection its last `ct` found, as OVS's datapath
   * `ct_clear` resets `md.conn` with `md.ct_state` (the datapath calls it where one reached it).
   */
  forgetConnection(): void {
    this.cachedSerial = -1;
  }

  /** Number of connections. */
  get size(): number {
    return this.table.size;
  }

  /** Forgets every connection. */
  clear(): void {
    this.table.clear();
    this.byPair = undefined;
  }

  /** Every connection, oldest first (with a clock, expired ones too until `sweep`). */
  connections(): Connection[] {
    return this.table.values();
  }

  /**
   * Removes every connection that has expired on the clock, as OVS's conntrack sweeper does. Lookups
   * never find an expired connection, so this changes only what `size` and `connections` count.
   */
  sweep(): void {
    const clock = this.clock;
    if (clock === undefined) return;
    const now = clock.now;
    for (const c of this.table.removeWhere((c) => c.expires <= now)) {
      this.byPair?.remove(c);
      this.expired++;
    }
  }

  /**
   * The oldest connection in `zone`, of `t`'s address family, that has both of `t`'s addresses
   * among the addresses of its two directions.
   */
  private related(zone: number, t: Tuple): Connection | undefined {
    if (this.byPair === undefined) this.byPair = new PairIndex(this.table.values());
    return this.byPair.find(zone, t, this.clock === undefined ? -Infinity : this.clock.now);
  }

  /**
   * The entry of the tuple words `p` (`ConnTable.find`) whose connection has not expired, or -1:
   * OVS's lookups pass over expired connections to a later one with the same tuple (NAT bindings
   * can share one), and each expired one, which no packet can find again, leaves the table.
   */
  private findLive(p: Uint32Array = this.table.probe): number {
    const clock = this.clock;
    for (;;) {
      const hit = this.table.find(p);
      if (hit < 0 || clock === undefined || this.table.value(hit)!.expires > clock.now) return hit;
      this.removeEntry(hit);
      this.expired++;
    }
  }

  /** Removes the connection of entry `e` from the table and the pair index. */
  private removeEntry(e: number): void {
    const c = this.table.value(e);
    this.table.remove(e);
    if (c) this.byPair?.remove(c);
  }

  private out(state: number, committed: boolean, connection?: Connection, backend?: Backend, nat?: CtOutcome["nat"], note?: string): CtOutcome {
    const o = this.outcome;
    o.state = state;
    o.committed = committed;
    o.connection = connection;
    o.backend = backend;
    o.nat = nat;
    o.note = note;
    return o;
  }

  /**
   * `tr`, or `tr` with another source port when some connection of `zone` already has the tuple
   * that its replies would carry: the next free port after the packet's own in its class (1-511,
   * 600-1023, 1024-65535), as OVS tries them. OVS tries 128 in order and then random ones; this
   * goes on in order, so that results repeat. When every port is taken `tr` is kept.
   */
  private uniqueSource(zone: number, tr: Tuple): Tuple {
    if (!this.replyTaken(zone, tr)) return tr;
    const cur = tr.sport;
    const min = cur < 512 ? 1 : cur < 1024 ? 600 : 1024;
    const max = cur < 512 ? 511 : cur < 1024 ? 1023 : 65535;
    let p = cur;
    for (let n = min; n <= max; n++) {
      p = p < min || p >= max ? min : p + 1;
      const c: Tuple = { v6: tr.v6, proto: tr.proto, src: tr.src, dst: tr.dst, sport: p, dport: tr.dport, icmp: tr.icmp };
      if (!this.replyTaken(zone, c)) return c;
    }
    return tr;
  }

  /** Whether a live connection of `zone` has, in either direction, the tuple that replies to `tr` carry. */
  private replyTaken(zone: number, tr: Tuple): boolean {
    // `reverse(tr)`'s words, without making it.
    fieldWords(this.replyWords, zone, tr.v6, tr.proto, tr.icmp === 0 ? 0 : tr.icmp ^ ICMP_REQUEST, tr.dst, tr.src, tr.dport, tr.sport);
    return this.findLive(this.replyWords) >= 0;
  }

  /** Marks the packet invalid: `trk|inv`, no mark, label or tuple. */
  private invalid(key: Uint32Array, zone: number): CtOutcome {
    writeStateZone(key, CT.TRK | CT.INV, zone);
    key[W.CT_MARK] = 0;
    writeLabel(key, undefined);
    writeCtTuple(key, undefined);
    return this.out(CT.TRK | CT.INV, false);
  }

  /**
   * Marks `key` invalid in `zone` without a lookup: a packet conntrack cannot key (an IPv4 fragment
   * OVS does not reassemble, ipf.ts).
   */
  markInvalid(key: Uint32Array, zone: number): CtOutcome {
    return this.invalid(key, zone & 0xffff);
  }

  /**
   * An ICMP error whose quoted packet `m` holds (conntrack-icmp.ts): related to the connection
   * one of whose directions is the quoted tuple reversed, in that direction, provided the quoted
   * packet came from the error's destination; else invalid. NAT translates the error's outer
   * header as it would a packet of that direction (one address), and the quoted packet back,
   * as `nat_packet` does for a related packet.
   */
  private quoted(key: Uint32Array, req: CtRequest, zone: number, v6: boolean, m: IcmpMessage, base: number): CtOutcome {
    const qs = m.innerSrc;
    const qd = m.innerDst;
    if (v6 ? qs[0] !== key[W.IPV6_DST] || qs[1] !== key[W.IPV6_DST + 1] || qs[2] !== key[W.IPV6_DST + 2] || qs[3] !== key[W.IPV6_DST + 3] : qs[3] !== key[W.NW_DST]) return this.invalid(key, zone);
    const tb = this.table;
    // The quoted tuple reversed: the direction of the connection the error travels in.
    fieldWords(tb.probe, zone, v6, m.innerProto, m.innerCls === 0 ? 0 : m.innerCls ^ ICMP_REQUEST, qd, qs, m.innerDport, m.innerSport);
    // An error this zone translated: looked up the other way, and not translated again, as any
    // packet (`run`).
    const natted = (base & (CT.SNAT | CT.DNAT)) !== 0;
    if (natted) reverseWords(tb.probe);
    let hit = this.findLive();
    if (hit < 0) return this.invalid(key, zone);
    if (natted) hit ^= 1;
    const c = tb.value(hit)!;
    const isReply = (hit & 1) === 1;
    let state: number = base | CT.TRK | CT.REL | (isReply ? CT.RPL : 0);
    let nat: CtOutcome["nat"];
    if ((req.nat !== undefined || req.lb !== undefined) && c.nat && !natted) {
      // Forwards, a DNAT rewrites the destination and an SNAT the source; backwards, the other.
      const dst = (c.nat === "dnat") !== isReply;
      const to = isReply ? c.orig : c.reply;
      if (v6 && m.innerProto === PROTO_UDP) {
        // OVS 3.1 updates the UDP checksum's place in the ICMPv6 message too (`ovsIcmp6UdpQuirk`):
        // for an error OVN made, in its key's rest-of-header word; for one that came in, where
        // the frame is written (`rewriteQuoted`).
        const at = dst ? W.IPV6_DST : W.IPV6_SRC;
        const old = [key[at]!, key[at + 1]!, key[at + 2]!, key[at + 3]!];
        const now = dst ? to.src : to.dst;
        if (m === this.madeIcmp) {
          const rest = key[W.TCP_FLAGS]!;
          key[W.TCP_FLAGS] = ((rest & 0xffff0000) | ovsIcmp6UdpQuirk(rest & 0xffff, old, now)) >>> 0;
        } else m.outerFixes.push(...old, ...now);
      }
      if (dst) writeAddr(key, v6, W.NW_DST, W.IPV6_DST, to.src);
      else writeAddr(key, v6, W.NW_SRC, W.IPV6_SRC, to.dst);
      state |= dst ? CT.DNAT : CT.SNAT;
      nat = isReply ? (c.nat === "dnat" ? "undnat" : "unsnat") : c.nat;
      // The quoted packet is one of the other direction, as it was before translation.
      for (let i = 0; i < 4; i++) {
        qs[i] = to.src[i]!;
        qd[i] = to.dst[i]!;
      }
      if (hasPorts(m.innerProto)) {
        m.innerSport = to.sport;
        m.innerDport = to.dport;
      }
      m.innerChanged = true;
    }
    return this.known(key, req, zone, state, hit, nat);
  }

  /**
   * The outcome for a packet of the connection of entry `hit` with `state`: a commit's marks
   * applied, the connection's mark, label and original tuple written into the key.
   */
  private known(key: Uint32Array, req: CtRequest, zone: number, state: number, hit: number, nat: CtOutcome["nat"]): CtOutcome {
    const tb = this.table;
    const c = tb.value(hit)!;
    if (req.commit) applyMarks(c, req);
    writeStateZone(key, state, zone);
    key[W.CT_MARK] = c.mark;
    writeLabel(key, c.label);
    writeCtTupleWords(key, tb.words, (hit & ~1) * TUPLE_WORDS);
    return this.out(state, false, c, c.backend, nat);
  }

  /**
   * Runs one conntrack action on `key` (see the module header); updates `key` in place. The
   * outcome object belongs to this table and is overwritten by the next call: read it at once.
   * A packet of a known connection, and a new packet that is not committed, allocates nothing (the
   * flow cache's hit path relies on it); creating a connection allocates its record.
   */
  execute(key: Uint32Array, req: CtRequest): CtOutcome {
    const out = this.run(key, req);
    // The connection the packet now carries (OVS's `md.conn`, `set_cached_conn`): none after any
    // NAT, which OVN's `ct_commit` also asks for (the all-zero SNAT of OVS 3.1).
    const seg = this.segment;
    if (seg !== undefined && out.connection !== undefined && !req.commit && req.nat === undefined && req.lb === undefined) {
      this.cachedSerial = seg.serial;
      this.cachedZone = req.zone & 0xffff;
      this.cachedConnection = out.connection;
    } else this.cachedSerial = -1;
    return out;
  }

  private run(key: Uint32Array, req: CtRequest): CtOutcome {
    const zone = req.zone & 0xffff;
    // The state the packet already has in this zone (OVS's `process_one` forgets it on entering
    // another), and whether a `ct` of this zone translated it.
    const md = this.md;
    this.md = 0;
    const base = (md & 0xff) !== 0 && md >>> 16 === zone ? md & 0xff : 0;
    const natted = (base & (CT.SNAT | CT.DNAT)) !== 0;
    const et = getField(key, F_ETH_TYPE);
    if (et !== ETH_IP && et !== ETH_IPV6) return this.invalid(key, zone);
    const v6 = et === ETH_IPV6;
    const proto = getField(key, F_NW_PROTO);
    // ICMP as OVS keys it (conntrack-icmp.ts), when the message was read: a query's class and
    // identifier, an error's quoted packet, or invalid.
    let icmpCls = 0;
    let icmpId = 0;
    const msg = this.icmp;
    const icmp = isIcmp(v6, proto);
    const type = icmp ? getField(key, F_TP_SRC) : 0;
    if (icmp && msg !== undefined && msg.kind !== ICMP_NONE) {
      const cls = icmpQueryClass(v6, type);
      if (msg.kind === ICMP_BAD || (cls === 0 && !isIcmpErrorType(v6, type)) || (cls !== 0 && getField(key, F_TP_DST) !== 0)) return this.invalid(key, zone);
      // The key's type, not the frame's: a router answering a ping turns the request into a reply.
      if (cls !== 0 && msg.kind === ICMP_QUERY) {
        icmpCls = cls;
        icmpId = msg.id;
      } else if (cls === 0 && msg.kind === ICMP_ERROR) return this.quoted(key, req, zone, v6, msg, base);
    }
    if (icmpCls === 0 && icmp && msg !== undefined && msg.kind !== ICMP_ERROR && isIcmpErrorType(v6, type) && this.madeIcmp.quoteOwnOf(msg)) {
      // An error that OVN made from the packet being processed (not one that came in): it quotes
      // that packet, as it was where the error was made, and NAT here translates that quote.
      const q = this.madeQuote;
      if (q !== undefined) readQuoted(q, this.madeIcmp);
      const out = this.quoted(key, req, zone, v6, this.madeIcmp, base);
      if (q !== undefined && this.madeIcmp.innerChanged) writeQuoted(q, this.madeIcmp);
      return out;
    }
    if (icmpCls === 0 && icmp && isIcmpErrorType(v6, type)) {
      const t = this.scratch;
      tupleInto(key, t);
      const rel = this.related(zone, t);
      const state = rel ? CT.TRK | CT.REL : CT.TRK | CT.INV;
      writeStateZone(key, state, zone);
      key[W.CT_MARK] = rel ? rel.mark : 0;
      writeLabel(key, rel?.label);
      writeCtTuple(key, rel?.orig);
      return this.out(state, false, rel);
    }

    if (this.tcpNew === "ovs" && (proto === PROTO_TCP || proto === PROTO_UDP) && (getField(key, F_TP_SRC) === 0 || getField(key, F_TP_DST) === 0) && ((key[W.NW]! >>> 24) & FRAG.LATER) === 0) return this.invalid(key, zone);

    const tb = this.table;
    const probe = tb.probe;
    packetWords(probe, key, zone, v6, proto, icmpCls, icmpId);
    // A packet this zone translated is looked up by its reverse tuple (OVS's
    // `initial_conn_lookup`), which is the direction it does not travel in; not found, it belongs
    // to no connection.
    if (natted) reverseWords(probe);
    let hit = this.findLive();
    if (natted) {
      if (hit >= 0) hit ^= 1;
      else {
        reverseWords(probe);
        // OVS makes no connection for a packet whose own tuple has one (the check before
        // `conn_not_found`): it stays as it was, tracked, with no connection's mark or label.
        if (this.findLive() >= 0) {
          writeStateZone(key, base | CT.TRK, zone);
          key[W.CT_MARK] = 0;
          writeLabel(key, undefined);
          writeCtTupleWords(key, probe, 0);
          return this.out(base | CT.TRK, false);
        }
      }
    }
    if (hit >= 0 && (hit & 1) === 1 && req.force && req.commit) {
      this.removeEntry(hit);
      hit = -1;
    }

    // TCP windows: once per packet and connection (see conntrack-tcp.ts).
    let tcpResult: number = TCP_UPDATE.VALID;
    const seg = this.segment;
    if (hit >= 0 && seg !== undefined && proto === PROTO_TCP) {
      const tcp = tb.value(hit)!.tcp;
      if (tcp !== undefined) {
        const flags = getField(key, F_TCP_FLAGS);
        if (seg.present && (flags & TCP_RST) !== 0 && (this.madeQuote !== undefined || (seg.flags >= 0 && (seg.flags & TCP_RST) === 0))) {
          // A reset OVN made from the packet being processed (`tcp_reset`), not that packet (one
          // has been made, or the packet was no reset): its own segment, as ovn-controller builds
          // it (sequence 0, acknowledging the packet's).
          const made = this.madeSegment;
          made.present = true;
          made.seq = 0;
          made.ack = (seg.seq + 1) >>> 0;
          made.win = 0;
          made.payload = 0;
          made.wscale = 0;
          tcpResult = tcpUpdate(tcp, (hit & 1) === 1, made, flags);
          tcp.last = tcpResult;
        } else if (tcp.serial === seg.serial && this.cachedSerial === seg.serial && this.cachedZone === zone && this.cachedConnection === tb.value(hit) && req.force !== true) tcpResult = tcp.last;
        else if (seg.present) {
          tcpResult = tcpUpdate(tcp, (hit & 1) === 1, seg, getField(key, F_TCP_FLAGS));
          tcp.serial = seg.serial;
          tcp.last = tcpResult;
          if (this.clock !== undefined && tcp.timeout !== 0) tb.value(hit)!.expires = this.clock.now + tcp.timeout;
        }
        if (tcpResult === TCP_UPDATE.NEW) {
          // A SYN after both ends closed: the old connection ends, and this packet is new.
          this.removeEntry(hit);
          hit = -1;
        }
      }
    }

    const wantsNat = req.nat !== undefined || req.lb !== undefined;
    if (hit >= 0) {
      const c = tb.value(hit)!;
      const isReply = (hit & 1) === 1;
      // Without TCP's states, a connection is new until its first reply (OVS's `other` and `icmp`
      // connection states: FIRST, then MULTIPLE or REPLY).
      if (isReply && proto !== PROTO_TCP) c.replied = true;
      if (tcpResult === TCP_UPDATE.VALID && !isReply && !c.replied && proto !== PROTO_TCP) tcpResult = TCP_UPDATE.VALID_NEW;
      // Every packet of a connection refreshes its expiry (TCP's segments as their update said).
      const clock = this.clock;
      if (clock !== undefined && proto !== PROTO_TCP) c.expires = clock.now + nonTcpTimeout(icmp, c.replied);
      else if (clock !== undefined && c.tcp === undefined) c.expires = clock.now + TCP_TIMEOUT.ESTABLISHED;
      // Added to what the packet has in the zone, as OVS's `conn_update_state` adds it.
      let state: number =
        tcpResult === TCP_UPDATE.VALID ? ((base | CT.TRK | CT.EST | (isReply ? CT.RPL : 0)) & ~CT.NEW) : tcpResult === TCP_UPDATE.INVALID ? CT.TRK | CT.INV : base | CT.TRK | CT.NEW;
      let nat: CtOutcome["nat"];
      // Not translated twice in one zone (OVS's `handle_nat`).
      if (wantsNat && c.nat && !natted) {
        writeHeadersReversed(key, isReply ? c.orig : c.reply);
        // As OVS sets them: the NAT this direction applies (a reply un-DNATs its source).
        state |= (c.nat === "dnat") !== isReply ? CT.DNAT : CT.SNAT;
        nat = isReply ? (c.nat === "dnat" ? "undnat" : "unsnat") : c.nat;
      }
      return this.known(key, req, zone, state, hit, nat);
    }

    if (this.tcpNew !== "any" && proto === PROTO_TCP && !tcpMayStart(getField(key, F_TCP_FLAGS), this.tcpNew)) return this.invalid(key, zone);
    // Only an ICMP request starts a connection (OVS's `icmp4_valid_new`, `icmp6_valid_new`).
    if (icmpCls !== 0 && (icmpCls & ICMP_REQUEST) === 0) return this.invalid(key, zone);

    // A new connection: work out its NAT binding, if any. Tuple objects are made only for a
    // connection that is committed or translated, so a new packet that is not committed (a plain
    // `ct_next`) allocates nothing.
    let state: number = CT.TRK | CT.NEW;
    let natKind: "dnat" | "snat" | undefined;
    let backend: Backend | undefined;
    let note: string | undefined;
    let commit = req.commit;
    let mark = 0;
    let lbLabel = false;
    let t: MutableTuple | undefined;
    let translated: Tuple | undefined;
    if (req.lb) {
      if (req.lb.backends.length > 0) {
        t = this.scratch;
        tupleInto(key, t, icmpCls, icmpId);
        // The group's dp_hash selection leaves the packet its dp_hash (a later group reuses it).
        if (key[W.DP_HASH] === 0 && lbUsesDpHash(req.lb.backends, req.lb.hashFields)) key[W.DP_HASH] = lbDpHash(key);
        backend = chooseBackend(key, t, req.lb.backends, req.lb.hashFields, req.lb.preferBackend);
        if (backend) {
          const dport = backend.port !== undefined && backend.port !== 0 && hasPorts(t.proto) ? backend.port : t.dport;
          translated = { v6: t.v6, proto: t.proto, src: [...t.src], dst: addr4(backend.ip), sport: t.sport, dport, icmp: t.icmp };
          natKind = "dnat";
          commit = true;
          if (req.lb.mark) mark |= 2;
          else lbLabel = true;
        } else {
          note = "no backend of the packet's address family";
        }
      }
    } else if (req.nat && req.nat.kind !== "restore" && req.nat.range) {
      t = this.scratch;
      tupleInto(key, t, icmpCls, icmpId);
      const r = req.nat.range;
      const ip = addr4(r.ipMin);
      if (req.nat.kind === "dnat") {
        const dport = r.portMin !== undefined && hasPorts(t.proto) ? r.portMin : t.dport;
        translated = { v6: t.v6, proto: t.proto, src: [...t.src], dst: ip, sport: t.sport, dport, icmp: t.icmp };
      } else {
        const sport = r.portMin !== undefined && hasPorts(t.proto) ? r.portMin : t.sport;
        translated = { v6: t.v6, proto: t.proto, src: ip, dst: [...t.dst], sport, dport: t.dport, icmp: t.icmp };
      }
      natKind = req.nat.kind;
    } else if (commit && req.nat === undefined && this.zeroSnat) {
      // OVN's `ct_commit`: the all-zero SNAT, to the packet's own tuple (another source port below
      // when its reply tuple is taken).
      t = this.scratch;
      tupleInto(key, t, icmpCls, icmpId);
      // The scratch tuple itself: the connection below copies what it keeps.
      translated = t;
      natKind = "snat";
    }
    // OVS varies only TCP and UDP ports to find a free tuple (`nat_get_unique_tuple`): for any
    // other protocol (ICMP, SCTP, ...), a reply tuple another connection holds leaves it nothing
    // to translate to. It then translates and commits nothing, and the packet goes on as new
    // (`nat_res_exhaustion`).
    if (translated && commit && !hasPorts(proto) && this.replyTaken(zone, translated)) {
      if (req.lb || req.nat) note = `${natKind === "dnat" ? "DNAT" : "SNAT"} not done: another connection holds the reply tuple`;
      translated = undefined;
      natKind = undefined;
      backend = undefined;
      commit = false;
      mark = 0;
      lbLabel = false;
    }
    // A binding whose reply tuple another connection already has gets another source port, as
    // OVS's `nat_get_unique_tuple` gives it (not for an SNAT to a port range, where OVS picks by a
    // hash of its own).
    if (translated && commit && (translated.proto === PROTO_TCP || translated.proto === PROTO_UDP) && !(natKind === "snat" && req.nat !== undefined && req.nat.kind !== "restore" && req.nat.range?.portMin !== undefined)) {
      translated = this.uniqueSource(zone, translated);
    }
    if (translated) {
      writeHeaders(key, translated);
      state |= natKind === "dnat" ? CT.DNAT : CT.SNAT;
    }

    let conn: Connection | undefined;
    if (commit) {
      if (!t) {
        t = this.scratch;
        tupleInto(key, t, icmpCls, icmpId);
      }
      const orig = copyTuple(t);
      // The reply tuple shares its addresses with what it reverses: never the scratch tuple's (an
      // all-zero SNAT's translation is the scratch tuple, or one with its addresses).
      const from = translated === undefined || translated === t ? orig : translated.src === t.src || translated.dst === t.dst ? copyTuple(translated) : translated;
      // Every field present from the start, so that every connection has one shape and the hit
      // path reads them without polymorphic lookups.
      const c: Connection = {
        id: this.nextId++,
        zone,
        orig,
        reply: reverse(from),
        mark,
        label: [0, 0, 0, lbLabel ? 2 : 0],
        nat: natKind,
        backend,
        tcp: seg !== undefined && seg.present && proto === PROTO_TCP ? new TcpTrack(seg, getField(key, F_TCP_FLAGS)) : undefined,
        replied: false,
        expires: this.clock === undefined ? Infinity : this.clock.now + (proto === PROTO_TCP ? TCP_TIMEOUT.FIRST_PACKET : nonTcpTimeout(icmp, false)),
      };
      applyMarks(c, req);
      const rw = this.replyWords;
      tupleWords(rw, zone, c.reply);
      tb.add(c, probe, rw, !sameTuple(c.reply, orig));
      this.created++;
      this.byPair?.add(c);
      conn = c;
    }
    writeStateZone(key, state, zone);
    key[W.CT_MARK] = conn ? conn.mark : 0;
    writeLabel(key, conn?.label);
    writeCtTupleWords(key, probe, 0);
    // An all-zero SNAT that kept the packet's tuple translated nothing to speak of.
    const shown = natKind === "snat" && req.nat === undefined && translated !== undefined && translated.sport === t!.sport ? undefined : natKind;
    return this.out(state, commit, conn, backend, shown, note);
  }
}

/** Applies a commit's `setMark` / `setLabel` to a connection (the label in place). */
function applyMarks(c: Connection, req: CtRequest): void {
  if (req.setMark) c.mark = ((c.mark & ~req.setMark.mask) | (req.setMark.value & req.setMark.mask)) >>> 0;
  if (req.setLabel) {
    const v = req.setLabel.value;
    const m = req.setLabel.mask;
    const l = c.label;
    for (let i = 0; i < 4; i++) l[i] = ((l[i]! & ~(m[i] ?? 0)) | ((v[i] ?? 0) & (m[i] ?? 0))) >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------
// ovn-trace mode

/** ovn-trace's state when the `--ct` list is used up: `est|trk`. */
export const TRACE_DEFAULT_CT_STATE: number = CT.EST | CT.TRK;

const CT_FLAG_NAMES: Readonly<Record<string, number>> = Object.fromEntries(CT_STATE_NAMES);

/**
 * Parses one ovn-trace `--ct` value: flags separated by `,`, `|`, `+` or spaces (`new`, `est`,
 * `rel`, `rpl`, `inv`, `trk`, `snat`, `dnat`). `trk` is implied, as in ovn-trace. Returns the
 * bits, or the unknown flag name.
 */
export function parseCtState(text: string): { ok: true; state: number } | { ok: false; bad: string } {
  let state: number = CT.TRK;
  for (const part of text.split(/[,|+\s]+/)) {
    if (part === "") continue;
    const bit = CT_FLAG_NAMES[part.toLowerCase()];
    if (bit === undefined) return { ok: false, bad: part };
    state |= bit;
  }
  return { ok: true, state };
}

/** The `--ct` list being consumed by one traced packet. */
export class CtStateQueue {
  private idx = 0;
  /** True after the first state taken from the default rather than the list. */
  usedDefault = false;
  private readonly states: readonly number[];
  constructor(states: readonly number[]) {
    this.states = states;
  }
  next(): { state: number; assumed: boolean } {
    if (this.idx < this.states.length) return { state: this.states[this.idx++]!, assumed: false };
    this.usedDefault = true;
    return { state: TRACE_DEFAULT_CT_STATE, assumed: true };
  }
}

/** Sets `ct_state` (keeping `ct_zone`). */
export function setCtState(key: Uint32Array, state: number): void {
  key[W.CT_STATE_ZONE] = ((key[W.CT_STATE_ZONE]! & 0xffff0000) | (state & 0xff)) >>> 0;
}

/** The current `ct_state`. */
export function ctStateOf(key: Uint32Array): number {
  return key[W.CT_STATE_ZONE]! & 0xff;
}

/**
 * ovn-trace's `ct_lb`: DNATs `key` to the chosen destination (saving the original destination in
 * the `ct_*` tuple fields) and ORs `dnat` in. Returns the backend, or undefined when none applies.
 */
export function traceLbDnat(key: Uint32Array, backends: readonly Backend[], lbDst: Backend | undefined, hashFields?: readonly FieldDef[]): Backend | undefined {
  const t = tupleOf(key);
  if (!t) return undefined;
  let dst: Backend | undefined;
  if (backends.length > 0) dst = chooseBackend(key, t, backends, hashFields, lbDst);
  else if (lbDst && (lbDst.ip.length === 4) === t.v6) dst = lbDst;
  if (!dst) return undefined;
  if (t.v6) {
    key.set(key.subarray(W.IPV6_DST, W.IPV6_DST + 4), W.CT_IPV6_DST);
    key.set(addr4(dst.ip), W.IPV6_DST);
  } else {
    key[W.CT_NW_DST] = key[W.NW_DST]!;
    key[W.NW_DST] = dst.ip[0]! >>> 0;
  }
  key[W.CT_TP] = ((key[W.CT_TP]! & 0xffff0000) | getField(key, F_TP_DST)) >>> 0;
  if (dst.port !== undefined && dst.port !== 0) key[W.TP] = ((key[W.TP]! & 0xffff0000) | (dst.port & 0xffff)) >>> 0;
  setCtState(key, ctStateOf(key) | CT.DNAT);
  return dst;
}

/** True when `lbDst` is one of `backends` by address (how ovn-trace decides `--lb-dst` applies). */
export function lbDstMatches(backends: readonly Backend[], lbDst: Backend): boolean {
  const p = addr4(lbDst.ip);
  return backends.some((b) => sameAddr(addr4(b.ip), p));
}

/**
 * ovn-trace's `ct_dnat(ip)` / `ct_snat(ip)`: rewrites the address and ORs in `dnat`/`snat`.
 * Without an address it changes nothing (ovn-trace assumes no binding).
 */
export function traceNat(key: Uint32Array, nat: CtNat): boolean {
  if (nat.kind === "restore" || !nat.range) return false;
  const t = tupleOf(key);
  if (!t) return false;
  const ip = addr4(nat.range.ipMin);
  if ((nat.range.ipMin.length === 4) !== t.v6) return false;
  if (nat.kind === "dnat") {
    if (t.v6) key.set(ip, W.IPV6_DST);
    else key[W.NW_DST] = ip[3]!;
  } else {
    if (t.v6) key.set(ip, W.IPV6_SRC);
    else key[W.NW_SRC] = ip[3]!;
  }
  setCtState(key, ctStateOf(key) | (nat.kind === "dnat" ? CT.DNAT : CT.SNAT));
  return true;
}
