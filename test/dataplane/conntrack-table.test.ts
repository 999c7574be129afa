/**
 * The connection table against a slow twin: random sequences of conntrack actions (zones, IPv4
 * and IPv6 packets from small pools so that connections recur in both directions, commit, force,
 * NAT, ct_lb with backends, ICMP errors, non-IP packets, strict TCP) run through `Conntrack` and
 * through `TwinConntrack` below, and every outcome, every word of the key after each action, and
 * the connection list at the end must agree.
 *
 * The twin follows the rules of conntrack.ts's module header with the plainest data structure: a
 * `Map` from a string of zone and tuple to the list of (connection, direction) with that tuple, in
 * commit order (a packet belongs to the first), and a list of connections oldest first (an ICMP
 * error is related to the first that has both of its addresses; a NAT binding whose reply tuple is
 * taken moves its source port by a plain search of its class). Load-balancer backend choice
 * uses the module's exported `chooseBackend`, which is not what is under test here.
 *
 * Random tuples almost never share a 32-bit hash, so the last tests build pairs that do (by a
 * birthday search with the table's own hash function) to check that the table compares the
 * tuples themselves, and that among equal tuples the first committed wins even when a removed
 * entry lies in front of it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CT, KEY_WORDS, W, field, getField, newKey, setField, type FieldDef } from "../../src/flow/index.js";
import { Conntrack, CtClock, chooseBackend, lbDpHash, type Connection, type CtOutcome, type CtRequest, type Tuple } from "../../src/dataplane/index.js";
import type { Backend, IpAddr } from "../../src/ofp/index.js";
import { HEAD_V6, TUPLE_WORDS, hashTupleWords } from "../../src/dataplane/conn-table.js";

// ---------------------------------------------------------------------------------------------
// The twin

interface TwinConn {
  id: number;
  zone: number;
  orig: Tuple;
  reply: Tuple;
  mark: number;
  label: number[];
  nat?: "dnat" | "snat";
  backend?: Backend;
  /** Whether the reply direction has sent a packet. */
  replied: boolean;
  /** When it expires (milliseconds on the clock; Infinity without one). */
  expires: number;
}

interface TwinOutcome {
  state: number;
  committed: boolean;
  connection: TwinConn | undefined;
  backend: Backend | undefined;
  nat: CtOutcome["nat"];
  note: string | undefined;
}

/** The protocols OVS 3.1's userspace conntrack keys by their ports (`extract_l4`): SCTP is not one of them. */
const PORTED = new Set([6, 17]);

function tupleText(zone: number, t: Tuple): string {
  return `${zone} ${t.v6 ? 6 : 4} ${t.proto} ${t.src.join(".")} > ${t.dst.join(".")} ${t.sport} > ${t.dport}`;
}

function sameTuple(a: Tuple, b: Tuple): boolean {
  return tupleText(0, a) === tupleText(0, b);
}

function reversed(t: Tuple): Tuple {
  return { v6: t.v6, proto: t.proto, src: [...t.dst], dst: [...t.src], sport: t.dport, dport: t.sport, icmp: 0 };
}

function fourWords(ip: IpAddr): number[] {
  return ip.length === 1 ? [0, 0, 0, ip[0]! >>> 0] : ip.map((w) => w >>> 0);
}

function isIcmpErrorPacket(t: Tuple, type: number): boolean {
  if (!t.v6 && t.proto === 1) return [3, 4, 5, 11, 12].includes(type);
  if (t.v6 && t.proto === 58) return type >= 1 && type <= 4;
  return false;
}

type TcpNew = "any" | "ovs" | "syn";

/**
 * May a TCP packet with these flags start a connection? `syn`: a plain SYN only. `ovs`: OVS's
 * userspace conntrack refuses SYN with RST or FIN, a packet with none of SYN, ACK and RST, FIN or
 * PSH or URG without ACK, and a SYN+ACK (a half-open connection).
 */
function mayStart(rule: TcpNew, flags: number): boolean {
  const fin = (flags & 0x01) !== 0;
  const syn = (flags & 0x02) !== 0;
  const rst = (flags & 0x04) !== 0;
  const psh = (flags & 0x08) !== 0;
  const ack = (flags & 0x10) !== 0;
  const urg = (flags & 0x20) !== 0;
  if (rule === "any") return true;
  if (rule === "syn") return syn && !ack && !rst && !fin;
  const refused = (syn && (rst || fin)) || (!syn && !ack && !rst) || (!ack && (fin || psh || urg)) || (syn && ack);
  return !refused;
}

class TwinConntrack {
  private readonly byTuple = new Map<string, { conn: TwinConn; reply: boolean }[]>();
  /** Live connections, oldest first. */
  conns: TwinConn[] = [];
  private nextId = 1;

  private readonly tcpNew: TcpNew;
  private readonly clock: CtClock | undefined;

  constructor(tcpNew: TcpNew, clock?: CtClock) {
    this.tcpNew = tcpNew;
    this.clock = clock;
  }

  /**
   * OVS's default timeouts, written out: a new connection lasts 30 s (TCP) or 60 s; each later
   * packet of it that is not an ICMP error gives it 24 h (TCP without window tracking, as here),
   * or 60 s until its first reply and 30 s from then on (UDP, ICMP and the rest).
   */
  private expiry(proto: number, replied: boolean | undefined): number {
    if (!this.clock) return Infinity;
    if (replied === undefined) return this.clock.now + (proto === 6 ? 30_000 : 60_000);
    return this.clock.now + (proto === 6 ? 86_400_000 : replied ? 30_000 : 60_000);
  }

  private tupleOfKey(key: Uint32Array): Tuple | undefined {
    const et = getField(key, field("eth_type"));
    if (et !== 0x0800 && et !== 0x86dd) return undefined;
    const v6 = et === 0x86dd;
    const proto = getField(key, field("nw_proto"));
    const src = v6 ? Array.from(key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4)) : [0, 0, 0, key[W.NW_SRC]!];
    const dst = v6 ? Array.from(key.subarray(W.IPV6_DST, W.IPV6_DST + 4)) : [0, 0, 0, key[W.NW_DST]!];
    const ported = PORTED.has(proto);
    return { v6, proto, src, dst, sport: ported ? getField(key, field("tp_src")) : 0, dport: ported ? getField(key, field("tp_dst")) : 0, icmp: 0 };
  }

  private writeCt(key: Uint32Array, state: number, zone: number, mark: number, label: readonly number[], t: Tuple | undefined): void {
    // ct_state and ct_zone share a word with nothing else.
    key[W.CT_STATE_ZONE] = 0;
    setField(key, field("ct_state"), state);
    setField(key, field("ct_zone"), zone);
    key[W.CT_MARK] = mark;
    for (let i = 0; i < 4; i++) key[W.CT_LABEL + i] = label[i]!;
    // ct_nw_proto and the two ct_tp fields are alone in their words: clear the whole words.
    for (const f of ["ct_nw_src", "ct_nw_dst", "ct_nw_proto", "ct_tp_src"]) key[field(f).word] = 0;
    for (let i = 0; i < 4; i++) key[W.CT_IPV6_SRC + i] = key[W.CT_IPV6_DST + i] = 0;
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
    setField(key, field("ct_nw_proto"), t.proto);
    setField(key, field("ct_tp_src"), t.sport);
    setField(key, field("ct_tp_dst"), t.dport);
  }

  /** Rewrites the packet's addresses (and ports, for TCP/UDP) to those of `t`. */
  private writeHeaders(key: Uint32Array, t: Tuple): void {
    if (t.v6) {
      for (let i = 0; i < 4; i++) {
        key[W.IPV6_SRC + i] = t.src[i]!;
        key[W.IPV6_DST + i] = t.dst[i]!;
      }
    } else {
      key[W.NW_SRC] = t.src[3]!;
      key[W.NW_DST] = t.dst[3]!;
    }
    if (PORTED.has(t.proto)) {
      setField(key, field("tp_src"), t.sport);
      setField(key, field("tp_dst"), t.dport);
    }
  }

  private applyMarks(c: TwinConn, req: CtRequest): void {
    if (req.setMark) c.mark = ((c.mark & ~req.setMark.mask) | (req.setMark.value & req.setMark.mask)) >>> 0;
    if (req.setLabel) {
      const { value, mask } = req.setLabel;
      c.label = c.label.map((w, i) => ((w & ~mask[i]!) | (value[i]! & mask[i]!)) >>> 0);
    }
  }

  execute(key: Uint32Array, req: CtRequest): TwinOutcome {
    // Expired connections go first, all of them, as a sweeper would remove them.
    const clock = this.clock;
    if (clock) for (const c of this.conns.filter((c) => c.expires <= clock.now)) this.forget(c);
    const zone = req.zone & 0xffff;
    const none = [0, 0, 0, 0];
    const result = (state: number, committed: boolean, connection?: TwinConn, backend?: Backend, nat?: CtOutcome["nat"], note?: string): TwinOutcome => ({ state, committed, connection, backend, nat, note });
    const t = this.tupleOfKey(key);
    if (!t) {
      this.writeCt(key, CT.TRK | CT.INV, zone, 0, none, undefined);
      return result(CT.TRK | CT.INV, false);
    }
    if (isIcmpErrorPacket(t, getField(key, field("tp_src")))) {
      const rel = this.conns.find((c) => {
        if (c.zone !== zone || c.orig.v6 !== t.v6) return false;
        const ends = [c.orig.src, c.orig.dst, c.reply.src, c.reply.dst].map((a) => a.join("."));
        return ends.includes(t.src.join(".")) && ends.includes(t.dst.join("."));
      });
      const state = rel ? CT.TRK | CT.REL : CT.TRK | CT.INV;
      this.writeCt(key, state, zone, rel ? rel.mark : 0, rel ? rel.label : none, rel?.orig);
      return result(state, false, rel);
    }
    // OVS keys no TCP or UDP packet with port 0, which `ovs` follows; a later fragment carries none.
    if (this.tcpNew === "ovs" && (t.proto === 6 || t.proto === 17) && (t.sport === 0 || t.dport === 0) && (getField(key, field("nw_frag")) & 2) === 0) {
      this.writeCt(key, CT.TRK | CT.INV, zone, 0, none, undefined);
      return result(CT.TRK | CT.INV, false);
    }
    let hit = this.byTuple.get(tupleText(zone, t))?.[0];
    if (hit && hit.reply && req.force && req.commit) {
      this.forget(hit.conn);
      hit = undefined;
    }
    const wantsNat = req.nat !== undefined || req.lb !== undefined;
    if (hit) {
      const c = hit.conn;
      // TCP is est once committed (no segments here); other protocols only once a reply was seen.
      if (hit.reply) c.replied = true;
      c.expires = this.expiry(t.proto, c.replied);
      let state = t.proto === 6 || c.replied ? CT.TRK | CT.EST | (hit.reply ? CT.RPL : 0) : CT.TRK | CT.NEW;
      let nat: CtOutcome["nat"];
      if (wantsNat && c.nat) {
        // The packet takes the addresses of the other direction, reversed.
        this.writeHeaders(key, reversed(hit.reply ? c.orig : c.reply));
        // The translation this direction makes: a reply to a DNAT has its source rewritten.
        state |= (c.nat === "dnat") !== hit.reply ? CT.DNAT : CT.SNAT;
        nat = hit.reply ? (c.nat === "dnat" ? "undnat" : "unsnat") : c.nat;
      }
      if (req.commit) this.applyMarks(c, req);
      this.writeCt(key, state, zone, c.mark, c.label, c.orig);
      return result(state, false, c, c.backend, nat);
    }
    if (t.proto === 6 && !mayStart(this.tcpNew, getField(key, field("tcp_flags")))) {
      this.writeCt(key, CT.TRK | CT.INV, zone, 0, none, undefined);
      return result(CT.TRK | CT.INV, false);
    }
    let state = CT.TRK | CT.NEW;
    let translated: Tuple | undefined;
    let natKind: "dnat" | "snat" | undefined;
    let backend: Backend | undefined;
    let note: string | undefined;
    let commit = req.commit;
    let mark = 0;
    const label = [0, 0, 0, 0];
    if (req.lb) {
      if (req.lb.backends.length > 0) {
        // The group's dp_hash stays with the packet.
        // A dp_hash group (no selection fields, at most 256 buckets) leaves the packet its dp_hash.
        if (!req.lb.hashFields?.length && req.lb.backends.length <= 256 && key[W.DP_HASH] === 0) key[W.DP_HASH] = lbDpHash(key);
        backend = chooseBackend(key, t, req.lb.backends, req.lb.hashFields, req.lb.preferBackend);
        if (backend) {
          translated = { ...t, dst: fourWords(backend.ip), dport: backend.port && PORTED.has(t.proto) ? backend.port : t.dport };
          natKind = "dnat";
          commit = true;
          if (req.lb.mark) mark = 2;
          else label[3] = 2;
        } else {
          note = "no backend of the packet's address family";
        }
      }
    } else if (req.nat && req.nat.kind !== "restore" && req.nat.range) {
      const r = req.nat.range;
      natKind = req.nat.kind;
      const port = r.portMin !== undefined && PORTED.has(t.proto) ? r.portMin : undefined;
      translated = natKind === "dnat" ? { ...t, dst: fourWords(r.ipMin), dport: port ?? t.dport } : { ...t, src: fourWords(r.ipMin), sport: port ?? t.sport };
    }
    const rangedSnat = natKind === "snat" && req.nat !== undefined && req.nat.kind !== "restore" && req.nat.range?.portMin !== undefined;
    if (translated && commit && (t.proto === 6 || t.proto === 17) && !rangedSnat) {
      // OVS's unique tuple: a taken reply tuple moves the source port to the next free one of its
      // class, counting up from it and then from the bottom of the class.
      const tr: Tuple = translated;
      const taken = (sport: number): boolean => (this.byTuple.get(tupleText(zone, reversed({ ...tr, sport }))) ?? []).length > 0;
      if (taken(tr.sport)) {
        const [min, max] = tr.sport < 512 ? [1, 511] : tr.sport < 1024 ? [600, 1023] : [1024, 65535];
        const after = Array.from({ length: max - min + 1 }, (_, i) => min + i).filter((p) => p > tr.sport);
        const before = Array.from({ length: max - min + 1 }, (_, i) => min + i).filter((p) => p < tr.sport);
        const free = [...after, ...before].find((p) => !taken(p));
        if (free !== undefined) translated = { ...tr, sport: free };
      }
    }
    if (translated && commit && t.proto !== 6 && t.proto !== 17 && (this.byTuple.get(tupleText(zone, reversed(translated))) ?? []).length > 0) {
      // No ports to vary: OVS gives up on the binding, and the packet stays new, untranslated and
      // uncommitted.
      note = `${natKind === "dnat" ? "DNAT" : "SNAT"} not done: another connection holds the reply tuple`;
      translated = undefined;
      natKind = undefined;
      backend = undefined;
      commit = false;
      mark = 0;
      label[3] = 0;
    }
    if (translated) {
      this.writeHeaders(key, translated);
      state |= natKind === "dnat" ? CT.DNAT : CT.SNAT;
    }
    let conn: TwinConn | undefined;
    if (commit) {
      conn = { id: this.nextId++, zone, orig: t, reply: reversed(translated ?? t), mark, label, replied: false, expires: this.expiry(t.proto, undefined) };
      if (natKind) conn.nat = natKind;
      if (backend) conn.backend = backend;
      this.applyMarks(conn, req);
      this.conns.push(conn);
      this.entry(tupleText(zone, conn.orig)).push({ conn, reply: false });
      if (!sameTuple(conn.reply, conn.orig)) this.entry(tupleText(zone, conn.reply)).push({ conn, reply: true });
    }
    this.writeCt(key, state, zone, conn ? conn.mark : 0, conn ? conn.label : none, t);
    return result(state, commit, conn, backend, natKind, note);
  }

  private entry(k: string): { conn: TwinConn; reply: boolean }[] {
    let l = this.byTuple.get(k);
    if (!l) this.byTuple.set(k, (l = []));
    return l;
  }

  private forget(c: TwinConn): void {
    for (const [k, l] of this.byTuple) {
      const rest = l.filter((e) => e.conn !== c);
      if (rest.length === 0) this.byTuple.delete(k);
      else this.byTuple.set(k, rest);
    }
    this.conns = this.conns.filter((x) => x !== c);
  }
}

// ---------------------------------------------------------------------------------------------
// Random packets and requests

const V4 = [0x0a000001, 0x0a000002, 0x0a000003, 0xc0000201];
const V6 = [
  [0x20010db8, 0, 0, 1],
  [0x20010db8, 0, 0, 2],
  [0x20010db8, 0, 0x10, 1],
  [0xfd000000, 0, 0, 0xc0000201],
];
const PORTS = [1000, 80, 5000, 0];
const BACKENDS: readonly Backend[] = [{ ip: [0x0a010001] }, { ip: [0x0a010002], port: 8080 }, { ip: [0x0a000002], port: 80 }, { ip: V6[1]!, port: 80 }, { ip: [0x20010db8, 0, 0, 9] }];

type PacketKind = "tcp" | "udp" | "sctp" | "gre" | "echo" | "echo-reply" | "icmp-error" | "non-ip";

interface PacketSpec {
  readonly v6: boolean;
  readonly kind: PacketKind;
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly flags: number;
  readonly junk: number;
}

function packetKey(p: PacketSpec): Uint32Array {
  const k = newKey();
  // Stale conntrack fields from an earlier action: every one must be overwritten.
  for (let i = W.CT_STATE_ZONE; i < W.CT_IPV6_DST + 4; i++) k[i] = Math.imul(p.junk, i + 1) >>> 0;
  setField(k, field("eth_type"), p.kind === "non-ip" ? 0x0806 : p.v6 ? 0x86dd : 0x0800);
  const icmp = p.v6 ? 58 : 1;
  const proto = { tcp: 6, udp: 17, sctp: 132, gre: 47, echo: icmp, "echo-reply": icmp, "icmp-error": icmp, "non-ip": 6 }[p.kind];
  setField(k, field("nw_proto"), proto);
  if (p.v6) {
    k.set(V6[p.src]!, W.IPV6_SRC);
    k.set(V6[p.dst]!, W.IPV6_DST);
  } else {
    k[W.NW_SRC] = V4[p.src]!;
    k[W.NW_DST] = V4[p.dst]!;
  }
  const icmpType = { echo: p.v6 ? 128 : 8, "echo-reply": p.v6 ? 129 : 0, "icmp-error": p.v6 ? 1 + (p.sport % 4) : [3, 11, 12][p.sport % 3]! } as Record<string, number>;
  setField(k, field("tp_src"), icmpType[p.kind] ?? PORTS[p.sport]!);
  setField(k, field("tp_dst"), icmpType[p.kind] !== undefined ? p.dport : PORTS[p.dport]!);
  if (p.kind === "tcp") k[W.TCP_FLAGS] = p.flags;
  return k;
}

const packetArb: fc.Arbitrary<PacketSpec> = fc.record({
  v6: fc.boolean(),
  kind: fc.constantFrom<PacketKind>("tcp", "tcp", "tcp", "udp", "udp", "sctp", "gre", "echo", "echo-reply", "icmp-error", "non-ip"),
  src: fc.nat(3),
  dst: fc.nat(3),
  sport: fc.nat(3),
  dport: fc.nat(3),
  flags: fc.constantFrom(0, 0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x08, 0x03, 0x06, 0x01, 0x14, 0x20, 0x30),
  junk: fc.integer(),
});

const addrArb: fc.Arbitrary<IpAddr> = fc.oneof(
  fc.nat(3).map((i) => [V4[i]!]),
  fc.nat(3).map((i) => V6[i]!),
);

const natArb: fc.Arbitrary<CtRequest["nat"]> = fc.oneof(
  fc.constant(undefined),
  fc.constant(undefined),
  fc.constant({ kind: "restore" as const }),
  fc.record({ kind: fc.constantFrom("snat" as const, "dnat" as const) }),
  fc.record({ kind: fc.constantFrom("snat" as const, "dnat" as const), range: fc.record({ ipMin: addrArb, portMin: fc.option(fc.constantFrom(5000, 1000, 80), { nil: undefined }) }) }).map((n) => ({
    kind: n.kind,
    range: n.range.portMin === undefined ? { ipMin: n.range.ipMin } : { ipMin: n.range.ipMin, portMin: n.range.portMin },
  })),
);

const HASH_FIELDS: readonly (readonly FieldDef[] | undefined)[] = [undefined, [field("nw_src")], [field("ipv6_src"), field("tp_src")]];

const lbArb: fc.Arbitrary<CtRequest["lb"]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc
      .record({ backends: fc.subarray([...BACKENDS]), hash: fc.nat(2), mark: fc.option(fc.boolean(), { nil: undefined }), prefer: fc.option(fc.constantFrom(...BACKENDS), { nil: undefined }) })
      .map((l) => {
        const hashFields = HASH_FIELDS[l.hash];
        return { backends: l.backends, ...(hashFields ? { hashFields } : {}), ...(l.mark !== undefined ? { mark: l.mark } : {}), ...(l.prefer ? { preferBackend: l.prefer } : {}) };
      }),
  },
);

const reqArb: fc.Arbitrary<CtRequest> = fc
  .record({
    zone: fc.constantFrom(0, 1, 0x8001, 0x10001),
    commit: fc.boolean(),
    force: fc.option(fc.boolean(), { nil: undefined }),
    nat: natArb,
    setMark: fc.option(fc.record({ value: fc.constantFrom(0, 1, 0x10, 0xffffffff), mask: fc.constantFrom(1, 0xf0, 0xffffffff) }), { nil: undefined }),
    setLabel: fc.option(fc.record({ value: fc.array(fc.constantFrom(0, 1, 5, 0xffffffff), { minLength: 4, maxLength: 4 }), mask: fc.array(fc.constantFrom(0, 0xff, 0xffffffff), { minLength: 4, maxLength: 4 }) }), { nil: undefined }),
    lb: lbArb,
  })
  .map((r) => ({
    zone: r.zone,
    commit: r.commit,
    ...(r.force !== undefined ? { force: r.force } : {}),
    ...(r.nat ? { nat: r.nat } : {}),
    ...(r.setMark ? { setMark: r.setMark } : {}),
    ...(r.setLabel ? { setLabel: r.setLabel } : {}),
    ...(r.lb ? { lb: r.lb } : {}),
  }));

// ---------------------------------------------------------------------------------------------
// Comparison

function connView(c: Connection | TwinConn | undefined): unknown {
  if (!c) return undefined;
  return { id: c.id, zone: c.zone, orig: c.orig, reply: c.reply, mark: c.mark, label: [...c.label], nat: c.nat, backend: c.backend, expires: c.expires };
}

/**
 * Runs `steps` through both tables and fails at the first difference; counts the removals. With
 * `timed`, both expire connections on one clock, which each step moves on by its `dt` first.
 */
function runBoth(tcpNew: TcpNew, steps: readonly { key: Uint32Array; req: CtRequest; dt?: number }[], timed = false): number {
  const clock = timed ? new CtClock() : undefined;
  const ct = new Conntrack(clock ? { tcpNew, clock } : { tcpNew });
  const twin = new TwinConntrack(tcpNew, clock);
  let removals = 0;
  steps.forEach(({ key, req, dt }, i) => {
    // The table is swept only after the step, for the size compared below: during the step its
    // lookups must pass over what expired, which the twin removed before the step.
    if (clock) clock.now += dt ?? 0;
    const before = twin.conns.length;
    const k1 = key.slice();
    const k2 = key.slice();
    const o = ct.execute(k1, req);
    const got = { state: o.state, committed: o.committed, connection: connView(o.connection), backend: o.backend, nat: o.nat, note: o.note };
    const t = twin.execute(k2, req);
    const want = { state: t.state, committed: t.committed, connection: connView(t.connection), backend: t.backend, nat: t.nat, note: t.note };
    expect(got, `step ${i}`).toEqual(want);
    for (let w = 0; w < KEY_WORDS; w++) if (k1[w] !== k2[w]) expect.fail(`step ${i}: key word ${w} is ${k1[w]}, the twin has ${k2[w]}`);
    if (clock) ct.sweep();
    expect(ct.size, `step ${i}: size`).toBe(twin.conns.length);
    if (twin.conns.length < before + (t.committed ? 1 : 0)) removals++;
  });
  expect(ct.connections().map(connView)).toEqual(twin.conns.map(connView));
  return removals;
}

/**
 * Runs `runs` random sequences of `steps` TCP/UDP packets of `flows` flows (IPv4 or IPv6, either
 * direction; half of them forced commits, the others with requests from `reqs`) through both
 * tables; returns the number of removals seen.
 */
function longRuns(flows: number, steps: number, runs: number, reqs: fc.Arbitrary<CtRequest>): number {
  const step = fc.record({ flow: fc.nat(flows - 1), v6: fc.boolean(), udp: fc.boolean(), reverse: fc.boolean(), force: fc.boolean(), req: reqs });
  let removals = 0;
  fc.assert(
    fc.property(fc.array(step, { minLength: steps, maxLength: steps }), (seq) => {
      const list = seq.map(({ flow, v6, udp, reverse, force, req }) => {
        const k = newKey();
        setField(k, field("eth_type"), v6 ? 0x86dd : 0x0800);
        setField(k, field("nw_proto"), udp ? 17 : 6);
        const a = flow % 400;
        const b = (flow * 7 + 1) % 400;
        const [x, y] = reverse ? [b, a] : [a, b];
        if (v6) {
          k.set([0x20010db8, 0, x >>> 8, x], W.IPV6_SRC);
          k.set([0x20010db8, 0, y >>> 8, y], W.IPV6_DST);
        } else {
          k[W.NW_SRC] = 0x0a000000 + x;
          k[W.NW_DST] = 0x0a000000 + y;
        }
        const sport = 1024 + (flow % 97);
        setField(k, field("tp_src"), reverse ? 80 : sport);
        setField(k, field("tp_dst"), reverse ? sport : 80);
        return { key: k, req: force ? { ...req, commit: true, force: true } : req };
      });
      removals += runBoth("any", list);
    }),
    // No shrinking: cutting down thousands of steps one by one would take far too long, and the
    // failure message names the first step that differs.
    { numRuns: runs, endOnFailure: true },
  );
  return removals;
}

describe("Conntrack against a slow twin", () => {
  it("agrees on random action sequences: outcomes, key words and the connection list", () => {
    fc.assert(
      fc.property(fc.constantFrom<TcpNew>("any", "ovs", "syn"), fc.array(fc.record({ p: packetArb, req: reqArb }), { minLength: 1, maxLength: 150, size: "max" }), (tcpNew, seq) => {
        runBoth(
          tcpNew,
          seq.map(({ p, req }) => ({ key: packetKey(p), req })),
        );
      }),
      { numRuns: 800 },
    );
  });

  it("agrees on long sequences over many hosts (growth, removals, index rebuilds)", () => {
    // Thousands of connections from 1500 flows, each seen in either direction, with frequent
    // `force` commits: the table grows several times, and forced commits of reply packets end
    // connections.
    const removals = longRuns(1500, 4000, 3, reqArb);
    expect(removals).toBeGreaterThan(300);
  });

  it("agrees when connections churn (most of them ended and replaced, tombstones, rebuilds)", () => {
    // 10 flows without NAT, half the steps forced commits: a flow seen in the other direction is
    // ended and committed afresh again and again, so the number of connections stays small while
    // removed ones pile up as tombstones in the index and holes in the age list.
    const plain = fc.record({ zone: fc.constantFrom(0, 1), commit: fc.boolean() });
    const removals = longRuns(10, 3000, 3, plain);
    expect(removals).toBeGreaterThan(1500);
  });

  it("with a clock, passes over an expired connection to a later one with the same tuple", () => {
    // GRE has no ports to move: an SNAT binding whose reply tuple a live connection holds is not
    // made (OVS's nat_get_unique_tuple gives up), but once that connection has expired a second
    // one takes the tuple, B → A becoming the second's reply.
    const gre = (src: number, dst: number): Uint32Array => {
      const k = newKey();
      setField(k, field("eth_type"), 0x0800);
      setField(k, field("nw_proto"), 47);
      k[W.NW_SRC] = src;
      k[W.NW_DST] = dst;
      return k;
    };
    const [a, b, d] = [0x0a000001, 0x0a000002, 0x0a000004];
    const snatToA: CtRequest = { zone: 0, commit: true, nat: { kind: "snat", range: { ipMin: [a] } } };
    const restore: CtRequest = { zone: 0, commit: false, nat: { kind: "restore" } };
    const steps = [
      { key: gre(a, b), req: { zone: 0, commit: true }, dt: 0 },
      { key: gre(d, b), req: snatToA, dt: 30_000 },
      { key: gre(b, a), req: restore, dt: 10_000 },
      { key: gre(d, b), req: snatToA, dt: 30_000 },
      { key: gre(b, a), req: restore, dt: 0 },
    ];
    runBoth("any", steps, true);
    const clock = new CtClock();
    const ct = new Conntrack({ clock });
    const states = steps.map(({ key, req, dt }) => {
      clock.now += dt;
      const k = key.slice();
      const o = ct.execute(k, req);
      return { st: o.state, src: k[W.NW_SRC], dst: k[W.NW_DST], committed: o.committed, note: o.note };
    });
    // At 30 s the first connection holds B → A: D's packet stays new, untranslated, uncommitted.
    expect(states[1]).toEqual({ st: CT.TRK | CT.NEW, src: d, dst: b, committed: false, note: "SNAT not done: another connection holds the reply tuple" });
    // At 40 s, the first connection's reply, which gives it 30 s more; at 70 s it has expired
    // (OVS: once the time reaches the expiry), D's packet is bound, and B → A is its reply,
    // un-SNATed to D.
    expect(states[2]).toEqual({ st: CT.TRK | CT.EST | CT.RPL, src: b, dst: a, committed: false, note: undefined });
    expect(states[3]).toEqual({ st: CT.TRK | CT.NEW | CT.SNAT, src: a, dst: b, committed: true, note: undefined });
    expect(states[4]).toEqual({ st: CT.TRK | CT.EST | CT.RPL | CT.DNAT, src: b, dst: d, committed: false, note: undefined });
  });

  it("agrees with a clock: connections expire by OVS's default timeouts", () => {
    // Steps 0 to 61 s apart, around the timeouts (30 s, 60 s): connections expire, are found
    // again just before, and start afresh after.
    const dt = fc.constantFrom(0, 0, 0, 1, 999, 29_999, 30_000, 59_999, 60_000, 61_000);
    let expired = 0;
    fc.assert(
      fc.property(fc.constantFrom<TcpNew>("any", "ovs"), fc.array(fc.record({ p: packetArb, req: reqArb, dt }), { minLength: 1, maxLength: 150, size: "max" }), (tcpNew, seq) => {
        expired += runBoth(
          tcpNew,
          seq.map(({ p, req, dt }) => ({ key: packetKey(p), req, dt })),
          true,
        );
      }),
      { numRuns: 600 },
    );
    expect(expired).toBeGreaterThan(100);
  });

  it("clear() forgets everything and the table works again afterwards", () => {
    const ct = new Conntrack();
    const twin = new TwinConntrack("any");
    const key = (i: number): Uint32Array => packetKey({ v6: i % 2 === 0, kind: "tcp", src: i % 4, dst: (i + 1) % 4, sport: i % 3, dport: 1, flags: 2, junk: i });
    for (let i = 0; i < 40; i++) ct.execute(key(i), { zone: i % 3, commit: true });
    const made = ct.size;
    expect(made).toBeGreaterThan(0);
    ct.clear();
    expect(ct.size).toBe(0);
    expect(ct.connections()).toEqual([]);
    for (let i = 0; i < 40; i++) {
      const a = key(i);
      const b = key(i);
      const o = ct.execute(a, { zone: i % 3, commit: i % 2 === 0 });
      const t = twin.execute(b, { zone: i % 3, commit: i % 2 === 0 });
      expect(o.state).toBe(t.state);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
    // Connection ids keep counting after a clear, so they stay unique in a trace.
    expect(ct.connections()[0]!.id).toBe(made + 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Hash collisions

/** A small deterministic generator of 32-bit words (xorshift32). */
function words32(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * Two different tuples (as table tuple words, conn-table.ts layout) with the same 32-bit hash,
 * found by a birthday search over tuples that `fill` makes from random words. `fill` must vary at
 * least two words: the hash of tuples differing in one word only never collides.
 */
function collidingTuples(fill: (w: Uint32Array, next: () => number) => void): [Uint32Array, Uint32Array] {
  const next = words32(0x9e3779b9);
  const seen = new Map<number, Uint32Array>();
  for (let i = 0; i < 1 << 19; i++) {
    const w = new Uint32Array(TUPLE_WORDS);
    fill(w, next);
    const h = hashTupleWords(w, 0);
    const other = seen.get(h);
    if (other && other.some((x, j) => x !== w[j])) return [other, w];
    seen.set(h, w);
  }
  throw new Error("no collision found");
}

function v4Key(w: Uint32Array): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), w[0]! & 0xff);
  k[W.NW_SRC] = w[2]!;
  k[W.NW_DST] = w[3]!;
  k[W.TP] = w[1]!;
  return k;
}

function v6Key(w: Uint32Array): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), 0x86dd);
  setField(k, field("nw_proto"), w[0]! & 0xff);
  k.set(w.subarray(2, 6), W.IPV6_SRC);
  k.set(w.subarray(6, 10), W.IPV6_DST);
  k[W.TP] = w[1]!;
  return k;
}

const TCP_1000_80 = (1000 << 16) | 80;

describe("Conntrack with colliding hashes", () => {
  // IPv4: zone 5, TCP 1000 > 80, random addresses.
  const [a4, b4] = collidingTuples((w, next) => {
    w[0] = (5 << 16) | 6;
    w[1] = TCP_1000_80;
    w[2] = next();
    w[3] = next();
  });
  // IPv6: the same first two address words, the rest random.
  const [a6, b6] = collidingTuples((w, next) => {
    w[0] = (5 << 16) | HEAD_V6 | 6;
    w[1] = TCP_1000_80;
    w.set([0x20010db8, 0, next(), next(), 0x20010db8, 0, 0, next()], 2);
  });

  it("keeps tuples with equal hashes apart (IPv4 and IPv6)", () => {
    for (const [a, b, key] of [[a4, b4, v4Key], [a6, b6, v6Key]] as const) {
      const ct = new Conntrack();
      expect(ct.execute(key(a), { zone: 5, commit: true }).state).toBe(CT.TRK | CT.NEW);
      expect(ct.execute(key(b), { zone: 5, commit: false }).state).toBe(CT.TRK | CT.NEW);
      expect(ct.execute(key(b), { zone: 5, commit: true }).connection!.id).toBe(2);
      expect(ct.execute(key(a), { zone: 5, commit: false }).connection!.id).toBe(1);
      expect(ct.execute(key(b), { zone: 5, commit: false }).connection!.id).toBe(2);
    }
  });

  it("a tuple indexed twice belongs to the first connection, even past a removed entry", () => {
    // Connection 1 has tuple a, connection 2 tuple b, both with the same hash, so b's entry lies
    // past a's in the index. Ending connection 1 (a forced commit of its reply, which starts
    // connection 3 with an SNAT binding, so that no new entry has tuple a) leaves a removed entry
    // in front of b's. Connection 4 is then committed with an SNAT binding to a port range whose
    // reply tuple is b (only a ranged SNAT keeps a taken reply tuple; other bindings move to a
    // free source port): a packet with tuple b still belongs to connection 2, in the original
    // direction.
    const src = b4[2]!;
    const dst = b4[3]!;
    const steps: { key: Uint32Array; req: CtRequest }[] = [
      { key: v4Key(a4), req: { zone: 5, commit: true } },
      { key: v4Key(b4), req: { zone: 5, commit: true } },
      { key: tcpPacket(a4[3]!, a4[2]!, 80, 1000), req: { zone: 5, commit: true, force: true, nat: { kind: "snat", range: { ipMin: [0xc6336402] } } } },
      { key: tcpPacket(0xc6336401, src, 443, 1000), req: { zone: 5, commit: true, nat: { kind: "snat", range: { ipMin: [dst], portMin: 80 } } } },
      { key: v4Key(b4), req: { zone: 5, commit: false } },
      { key: tcpPacket(dst, src, 80, 1000), req: { zone: 5, commit: false } },
    ];
    runBoth("any", steps);
    const ct = new Conntrack();
    const outs = steps.map(({ key, req }) => {
      const o = ct.execute(key.slice(), req);
      return { state: o.state, id: o.connection?.id };
    });
    expect(outs[2]).toEqual({ state: CT.TRK | CT.NEW | CT.SNAT, id: 3 });
    expect(outs[3]).toEqual({ state: CT.TRK | CT.NEW | CT.SNAT, id: 4 });
    expect(outs[4]).toEqual({ state: CT.TRK | CT.EST, id: 2 });
    expect(outs[5]).toEqual({ state: CT.TRK | CT.EST | CT.RPL, id: 2 });
    // The tuple is indexed twice: connection 4 replies with connection 2's original tuple.
    const [c2, , c4] = ct.connections();
    expect([c2!.id, c4!.id]).toEqual([2, 4]);
    expect(c4!.reply).toEqual(c2!.orig);
  });
});

function tcpPacket(src: number, dst: number, sport: number, dport: number): Uint32Array {
  const w = new Uint32Array(TUPLE_WORDS);
  w[0] = 6;
  w[1] = ((sport << 16) | dport) >>> 0;
  w[2] = src;
  w[3] = dst;
  return v4Key(w);
}
