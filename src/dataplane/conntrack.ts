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
 *   committed connection is `est`, and in the reply direction also `rpl`. (Deliberate
 *   simplification: OVS reports `new` again for further original-direction packets of a
 *   connectionless protocol until a reply is seen; here every packet after the commit is `est`.)
 * - `commit` creates the connection for a `new` packet (the committing packet itself stays `new`);
 *   `force` first ends a connection that the packet belongs to in the reply direction, so the
 *   packet starts a fresh one. `setMark` / `setLabel` need `commit`, as in OVS; they are stored in
 *   the connection and every later packet of it reads them back.
 * - `inv`: a packet that is not IPv4/IPv6; an ICMP error that belongs to no known connection; and,
 *   with `tcpStrict`, a TCP packet of no connection that is not a plain SYN (OVS's userspace
 *   conntrack rule). `tcpStrict` is off by default, because ovn-trace microflows rarely give
 *   `tcp.flags`.
 * - `rel`: an ICMP (v4 types 3, 4, 5, 11, 12; v6 types 1..4) error between two hosts that have a
 *   committed connection in the zone. The flow key does not hold the embedded header of the error,
 *   so "belongs to" is judged by the two addresses alone — an approximation.
 * - NAT: a connection may carry a binding (DNAT from `ct_lb` or `ct(nat(dst=..))`, SNAT from
 *   `ct(nat(src=..))`). A packet whose `ct` asks for NAT (`nat` present, or `ct_lb`) is rewritten:
 *   original-direction packets towards the translated addresses, reply packets back (un-NAT), and
 *   `ct_state` gets `dnat` / `snat`. The binding is stored only on commit.
 * - Load balancing: a `new` packet through `ct_lb` with backends gets one by a deterministic hash of
 *   its 5-tuple (or of `hashFields`, the LB's selection fields) modulo the number of backends of
 *   its address family — stable across runs — unless `preferBackend` names one of them (ovn-trace's
 *   `--lb-dst`). The connection is committed with the DNAT binding and the `natted` bit
 *   (`ct_mark` bit 1 for `ct_lb_mark`, `ct_label` bit 1 for `ct_lb`), so every later packet of the
 *   connection goes to the same backend and replies are un-NATed.
 *   `ct_lb` without backends only restores the binding of an existing connection.
 *
 * ovn-trace mode (`traceCt*` below): instead of a table, each conntrack action takes its state from
 * a list given by the user (`--ct`), consumed in order; when the list runs out the state is
 * `est|trk` (ovn-trace's default). As ovn-trace does: `ct_next` replaces `ct_state`; a NAT action
 * consumes a state only when the packet is not yet tracked; `ct_lb` ORs the next state in, DNATs to
 * the `--lb-dst` backend when it is one of its backends (or to any address when it has none), and
 * consumes `--lb-dst` once; a plain `ct_commit` does nothing. Where ovn-trace would choose a backend
 * at random, this picks the same deterministic hash as the real table.
 *
 * Per-packet cost: a lookup hashes the tuple words into a numeric bucket key; no strings.
 */
import { hashAdd, hashFinish } from "../base/index.js";
import { CT, CT_STATE_NAMES, W, getField, field, type FieldDef } from "../flow/index.js";
import type { Backend, CtNat, CtSetLabel, CtSetMark, IpAddr } from "../ofp/index.js";
import { readFieldWords } from "./key-bits.js";

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_SCTP = 132;
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
  /** Mark TCP packets of no connection that are not a plain SYN invalid (default false). */
  readonly tcpStrict?: boolean;
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

function isIcmpError(v6: boolean, proto: number, type: number): boolean {
  if (!v6 && proto === PROTO_ICMP) return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  if (v6 && proto === PROTO_ICMPV6) return type >= 1 && type <= 4;
  return false;
}

function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP;
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
  return { v6, proto, src, dst, sport: ports ? getField(key, F_TP_SRC) : 0, dport: ports ? getField(key, F_TP_DST) : 0 };
}

/** A tuple being filled in place (the lookup scratch; never stored). */
interface MutableTuple {
  v6: boolean;
  proto: number;
  readonly src: number[];
  readonly dst: number[];
  sport: number;
  dport: number;
}

function newScratchTuple(): MutableTuple {
  return { v6: false, proto: 0, src: [0, 0, 0, 0], dst: [0, 0, 0, 0], sport: 0, dport: 0 };
}

/** Fills `t` with the packet's tuple; false (and `t` unchanged) for a packet that is not IP. */
function tupleInto(key: Uint32Array, t: MutableTuple): boolean {
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
  t.sport = ports ? getField(key, F_TP_SRC) : 0;
  t.dport = ports ? getField(key, F_TP_DST) : 0;
  return true;
}

/** A stored copy of a tuple. */
function copyTuple(t: Tuple): Tuple {
  return { v6: t.v6, proto: t.proto, src: [...t.src], dst: [...t.dst], sport: t.sport, dport: t.dport };
}

function reverse(t: Tuple): Tuple {
  return { v6: t.v6, proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

function sameAddr(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

function sameTuple(a: Tuple, b: Tuple): boolean {
  return a.v6 === b.v6 && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport && sameAddr(a.src, b.src) && sameAddr(a.dst, b.dst);
}

function hashTuple(zone: number, t: Tuple): number {
  let h = hashAdd(0, zone);
  h = hashAdd(h, (t.v6 ? 0x10000 : 0) | t.proto);
  for (let i = 0; i < 4; i++) h = hashAdd(h, t.src[i]!);
  for (let i = 0; i < 4; i++) h = hashAdd(h, t.dst[i]!);
  h = hashAdd(h, ((t.sport << 16) | t.dport) >>> 0);
  return hashFinish(h, 48);
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
  for (let i = 0; i < 4; i++) key[W.CT_LABEL + i] = label ? label[i]! : 0;
}

/** Writes the original-direction tuple into the key's `ct_*` tuple fields. */
function writeCtTuple(key: Uint32Array, t: Tuple | undefined): void {
  key[W.CT_NW_SRC] = 0;
  key[W.CT_NW_DST] = 0;
  key[W.CT_NW_PROTO] = 0;
  key[W.CT_TP] = 0;
  key.fill(0, W.CT_IPV6_SRC, W.CT_IPV6_DST + 4);
  if (!t) return;
  if (t.v6) {
    for (let i = 0; i < 4; i++) {
      key[W.CT_IPV6_SRC + i] = t.src[i]!;
      key[W.CT_IPV6_DST + i] = t.dst[i]!;
    }
  } else {
    key[W.CT_NW_SRC] = t.src[3]!;
    key[W.CT_NW_DST] = t.dst[3]!;
  }
  key[W.CT_NW_PROTO] = t.proto;
  key[W.CT_TP] = (((t.sport & 0xffff) << 16) | (t.dport & 0xffff)) >>> 0;
}

/** Sets `ct_state` and `ct_zone`. */
function writeStateZone(key: Uint32Array, state: number, zone: number): void {
  key[W.CT_STATE_ZONE] = (((zone & 0xffff) << 16) | (state & 0xff)) >>> 0;
}

/** Forgets the packet's conntrack state, as OVN's `ct_clear` does. */
export function clearCtFields(key: Uint32Array): void {
  key[W.CT_STATE_ZONE] = 0;
  key[W.CT_MARK] = 0;
  key.fill(0, W.CT_LABEL, W.CT_LABEL + 4);
  writeCtTuple(key, undefined);
}

/**
 * Chooses a backend of the packet's address family: `prefer` when it is one of them, else a
 * deterministic hash of `hashFields` (or the 5-tuple) modulo their number. Undefined when the
 * family has no backend.
 */
export function chooseBackend(key: Uint32Array, t: Tuple, backends: readonly Backend[], hashFields?: readonly FieldDef[], prefer?: Backend): Backend | undefined {
  const fam = backends.filter((b) => (b.ip.length === 4) === t.v6);
  if (fam.length === 0) return undefined;
  if (prefer) {
    const p = addr4(prefer.ip);
    const same = fam.filter((b) => sameAddr(addr4(b.ip), p));
    const hit = same.find((b) => b.port === prefer.port) ?? same[0];
    if (hit) return hit;
  }
  let h = 0;
  if (hashFields && hashFields.length > 0) {
    for (const f of hashFields) for (const w of readFieldWords(key, f)) h = hashAdd(h, w);
  } else {
    for (let i = 0; i < 4; i++) h = hashAdd(h, t.src[i]!);
    for (let i = 0; i < 4; i++) h = hashAdd(h, t.dst[i]!);
    h = hashAdd(h, t.proto);
    h = hashAdd(h, ((t.sport << 16) | t.dport) >>> 0);
  }
  return fam[(hashFinish(h, 40) >>> 0) % fam.length];
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
  private readonly buckets = new Map<number, { conn: Connection; reply: boolean }[]>();
  private readonly tcpStrict: boolean;
  private readonly scratch: MutableTuple = newScratchTuple();
  private readonly outcome: MutableOutcome = { state: 0, committed: false, connection: undefined, backend: undefined, nat: undefined, note: undefined };
  private nextId = 1;
  private count = 0;

  constructor(options: ConntrackOptions = {}) {
    this.tcpStrict = options.tcpStrict ?? false;
  }

  /** Number of connections. */
  get size(): number {
    return this.count;
  }

  /** Forgets every connection. */
  clear(): void {
    this.buckets.clear();
    this.count = 0;
  }

  /** Every connection, oldest first. */
  connections(): Connection[] {
    const seen = new Set<Connection>();
    for (const list of this.buckets.values()) for (const e of list) seen.add(e.conn);
    return [...seen].sort((a, b) => a.id - b.id);
  }

  private find(zone: number, t: Tuple): { conn: Connection; reply: boolean } | undefined {
    const list = this.buckets.get(hashTuple(zone, t));
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const want = e.reply ? e.conn.reply : e.conn.orig;
      if (e.conn.zone === zone && sameTuple(want, t)) return e;
    }
    return undefined;
  }

  private index(zone: number, t: Tuple, conn: Connection, reply: boolean): void {
    const h = hashTuple(zone, t);
    const list = this.buckets.get(h);
    if (list) list.push({ conn, reply });
    else this.buckets.set(h, [{ conn, reply }]);
  }

  private unindex(zone: number, t: Tuple, conn: Connection): void {
    const h = hashTuple(zone, t);
    const list = this.buckets.get(h);
    if (!list) return;
    const rest = list.filter((e) => e.conn !== conn);
    if (rest.length === 0) this.buckets.delete(h);
    else this.buckets.set(h, rest);
  }

  private remove(conn: Connection): void {
    this.unindex(conn.zone, conn.orig, conn);
    this.unindex(conn.zone, conn.reply, conn);
    this.count--;
  }

  private related(zone: number, t: Tuple): Connection | undefined {
    for (const list of this.buckets.values()) {
      for (const e of list) {
        const c = e.conn;
        if (c.zone !== zone || c.orig.v6 !== t.v6) continue;
        const ends = [c.orig.src, c.orig.dst, c.reply.src, c.reply.dst];
        if (ends.some((a) => sameAddr(a, t.src)) && ends.some((a) => sameAddr(a, t.dst))) return c;
      }
    }
    return undefined;
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
   * Runs one conntrack action on `key` (see the module header); updates `key` in place. The
   * outcome object belongs to this table and is overwritten by the next call: read it at once.
   * A packet of a known connection allocates nothing (the flow cache's hit path relies on it);
   * creating a connection allocates its record.
   */
  execute(key: Uint32Array, req: CtRequest): CtOutcome {
    const zone = req.zone & 0xffff;
    const t = this.scratch;
    if (!tupleInto(key, t)) {
      writeStateZone(key, CT.TRK | CT.INV, zone);
      key[W.CT_MARK] = 0;
      writeLabel(key, undefined);
      writeCtTuple(key, undefined);
      return this.out(CT.TRK | CT.INV, false);
    }
    const type = getField(key, F_TP_SRC);
    if (isIcmpError(t.v6, t.proto, type)) {
      const rel = this.related(zone, t);
      const state = rel ? CT.TRK | CT.REL : CT.TRK | CT.INV;
      writeStateZone(key, state, zone);
      key[W.CT_MARK] = rel ? rel.mark : 0;
      writeLabel(key, rel?.label);
      writeCtTuple(key, rel?.orig);
      return this.out(state, false, rel);
    }

    let hit = this.find(zone, t);
    if (hit && hit.reply && req.force && req.commit) {
      this.remove(hit.conn);
      hit = undefined;
    }

    const wantsNat = req.nat !== undefined || req.lb !== undefined;
    if (hit) {
      const c = hit.conn;
      let state: number = CT.TRK | CT.EST | (hit.reply ? CT.RPL : 0);
      let nat: CtOutcome["nat"];
      if (wantsNat && c.nat) {
        writeHeadersReversed(key, hit.reply ? c.orig : c.reply);
        state |= c.nat === "dnat" ? CT.DNAT : CT.SNAT;
        nat = hit.reply ? (c.nat === "dnat" ? "undnat" : "unsnat") : c.nat;
      }
      if (req.commit) this.applyMarks(c, req);
      writeStateZone(key, state, zone);
      key[W.CT_MARK] = c.mark;
      writeLabel(key, c.label);
      writeCtTuple(key, c.orig);
      return this.out(state, false, c, c.backend, nat);
    }

    if (this.tcpStrict && t.proto === PROTO_TCP) {
      const fl = getField(key, F_TCP_FLAGS);
      if ((fl & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) !== TCP_SYN) {
        writeStateZone(key, CT.TRK | CT.INV, zone);
        key[W.CT_MARK] = 0;
        writeLabel(key, undefined);
        writeCtTuple(key, undefined);
        return this.out(CT.TRK | CT.INV, false);
      }
    }

    // A new connection: work out its NAT binding, if any. The scratch tuple is copied only for a
    // connection that is committed or translated, so a new packet that is not committed (a plain
    // `ct_next`) allocates nothing.
    let state: number = CT.TRK | CT.NEW;
    let translated: Tuple = t;
    let natKind: "dnat" | "snat" | undefined;
    let backend: Backend | undefined;
    let note: string | undefined;
    let commit = req.commit;
    let mark = 0;
    let lbLabel = false;
    if (req.lb) {
      if (req.lb.backends.length > 0) {
        backend = chooseBackend(key, t, req.lb.backends, req.lb.hashFields, req.lb.preferBackend);
        if (backend) {
          translated = { ...copyTuple(t), dst: addr4(backend.ip), dport: backend.port !== undefined && backend.port !== 0 ? backend.port : t.dport };
          natKind = "dnat";
          commit = true;
          if (req.lb.mark) mark |= 2;
          else lbLabel = true;
        } else {
          note = "no backend of the packet's address family";
        }
      }
    } else if (req.nat && req.nat.kind !== "restore" && req.nat.range) {
      const r = req.nat.range;
      const ip = addr4(r.ipMin);
      if (req.nat.kind === "dnat") {
        translated = { ...copyTuple(t), dst: ip, dport: r.portMin !== undefined && hasPorts(t.proto) ? r.portMin : t.dport };
      } else {
        translated = { ...copyTuple(t), src: ip, sport: r.portMin !== undefined && hasPorts(t.proto) ? r.portMin : t.sport };
      }
      natKind = req.nat.kind;
    }
    if (natKind) {
      writeHeaders(key, translated);
      state |= natKind === "dnat" ? CT.DNAT : CT.SNAT;
    }

    let conn: Connection | undefined;
    if (commit) {
      const orig = copyTuple(t);
      const label = [0, 0, 0, lbLabel ? 2 : 0];
      conn = { id: this.nextId++, zone, orig, reply: reverse(translated === t ? orig : translated), mark, label, ...(natKind ? { nat: natKind } : {}), ...(backend ? { backend } : {}) };
      this.applyMarks(conn, req);
      this.index(zone, conn.orig, conn, false);
      if (!sameTuple(conn.reply, conn.orig)) this.index(zone, conn.reply, conn, true);
      this.count++;
    }
    writeStateZone(key, state, zone);
    key[W.CT_MARK] = conn ? conn.mark : 0;
    writeLabel(key, conn?.label);
    writeCtTuple(key, t);
    return this.out(state, commit, conn, backend, natKind, note);
  }

  private applyMarks(c: Connection, req: CtRequest): void {
    if (req.setMark) c.mark = ((c.mark & ~req.setMark.mask) | (req.setMark.value & req.setMark.mask)) >>> 0;
    if (req.setLabel) {
      const v = req.setLabel.value;
      const m = req.setLabel.mask;
      c.label = c.label.map((w, i) => ((w & ~(m[i] ?? 0)) | ((v[i] ?? 0) & (m[i] ?? 0))) >>> 0);
    }
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
