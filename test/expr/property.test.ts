/**
 * Normalization against direct evaluation: for random expressions over many fields and random
 * flow keys, some normalized match matches the key exactly when `evaluate` says the expression
 * holds. Keys are random words with "interesting" values (the constants the expressions use,
 * EtherTypes, protocols, ports) planted in the fields, so that both outcomes occur often.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate, normalize, parseExpr, type NormalizeContext } from "../../src/expr/index.js";
import { field, matchesKey, newKey, setField, KEY_WORDS, type Match } from "../../src/flow/index.js";

const PORTS: Record<string, number> = { p1: 1, p2: 2, p3: 3 };
const SETS: Record<string, string[]> = {
  as4: ["10.0.0.1", "10.0.0.0/30", "192.168.0.0/16", "bogus"],
  as6: ["::1", "fd00::/64"],
  asmac: ["00:00:00:00:00:01", "02:00:00:00:00:00/02:00:00:00:00:00"],
  ports: ["80", "443"],
  empty: [],
};
const CTX: NormalizeContext = {
  portKey: (n) => PORTS[n],
  addressSet: (n) => SETS[n],
  portGroup: (n) => ({ pg: ["p1", "p3", "ghost"], none: [] } as Record<string, string[]>)[n],
  isChassisResident: (p) => p === "p1",
};

/** Atoms that may appear under any number of `!`. */
const NEGATABLE = [
  "ip4.src == 10.0.0.1",
  "ip4.src == 10.0.0.0/8",
  "ip4.src != 10.0.0.2",
  "ip4.dst < 10.0.0.5",
  "ip4.dst >= 192.168.0.0",
  "ip4.src == $as4",
  "ip4.src != $as4",
  "ip4.src == $empty",
  "ip4.dst != {10.0.0.1, 10.0.0.3}",
  "ip6.src == ::1",
  "ip6.src == fd00::/64",
  "ip6.dst == $as6",
  "ip6.src != ::1",
  "ip6.label == 0x12345",
  "ip6.label > 0x80000",
  "nd.target == fe80::1",
  "tcp.dst == 80",
  "tcp.dst != 80",
  "tcp.dst == {80, 443}",
  "tcp.dst >= 1000",
  "tcp.dst < 1010",
  "1000 <= tcp.dst <= 1010",
  "tcp.src > 1023",
  "tcp.src <= 3",
  "udp.dst == 53",
  "udp.src != 53",
  "udp.dst == $ports",
  "sctp.dst == 80",
  "tcp.flags == 0x2",
  "tcp.flags[1]",
  "eth.src == 00:00:00:00:00:01",
  "eth.src == $asmac",
  "eth.dst == ff:ff:ff:ff:ff:ff",
  "eth.dst[40]",
  "eth.dst == 01:00:00:00:00:00/01:00:00:00:00:00",
  "eth.src[0..15] > 0x1111",
  "vlan.tci == 0x1005",
  "vlan.vid == 5",
  "vlan.pcp > 3",
  "vlan.tci[12]",
  "reg0 == 1",
  "reg0[0..7] == 0x5",
  "reg0[3]",
  "reg1 >= 0x80000000",
  "reg9 != 0",
  "xreg0 == 5",
  "xxreg0[96..127] == 1",
  "xxreg1 > 1",
  "ct_mark == 5",
  "ct_mark.blocked",
  "ct_mark.blocked == 1",
  "ct_label[0..31] == 7",
  "ct_label.blocked",
  "ct_label == 1",
  "ct_label > 0",
  "ct_state == 0x21",
  "ct_state[9]",
  "ct.est",
  "ct.new",
  "ct.trk",
  "ct.rel",
  "ct.inv",
  "ct.rpl",
  "flags.loopback",
  "flags == 0x1/0x1",
  "pkt.mark == 0x10",
  "ip.frag == 1",
  "ip.frag[1]",
  "arp.spa == 10.0.0.1",
  "arp.tpa == 10.0.0.0/24",
  "arp.sha == 00:00:00:00:00:01",
  "nd.sll == 00:00:00:00:00:01",
  "nd.tll == 00:00:00:00:00:02",
  "eth.bcast",
  "eth.mcast",
  "eth.mcastv6",
  "vlan.present",
  "ip.first_frag",
  "ip.later_frag",
  "ip.is_frag",
  "ip4.mcast",
  "ip4.src_mcast",
  "ip6.mcast",
  "ip6.mcast_flood",
  "ip6.mcast_sol_node",
  "ip6.mcast_rsvd",
  'is_chassis_resident("p1")',
  'is_chassis_resident("p9")',
  "0",
  "1",
];

/** Atoms on nominal symbols: only under an even number of `!`. */
const POSITIVE = [
  "eth.type == 0x800",
  "eth.type == {0x800, 0x86dd}",
  "eth.type == 0x806",
  "ip.proto == 6",
  "ip.proto == {6, 17}",
  "icmp4.type == 8",
  "icmp4.code == 0",
  "icmp6.type == 135",
  "ip.ttl == 255",
  "ip.dscp == 46",
  "ip.ecn == 3",
  "arp.op == 1",
  "arp.op == 256",
  "ip",
  "ip4",
  "ip6",
  "tcp",
  "udp",
  "sctp",
  "icmp",
  "icmp4",
  "icmp6",
  "arp",
  "rarp",
  "igmp",
  "nd",
  "nd_ns",
  "nd_na",
  "nd_rs",
  "mldv1",
  "mldv2",
  'inport == "p1"',
  'inport == "ghost"',
  'outport == {"p2", "p3"}',
  "inport == @pg",
  "outport == @none",
];

type Gen = fc.GeneratorValue;

function genExpr(g: Gen, depth: number, neg: boolean): string {
  const r = g(fc.integer, { min: 0, max: 9 });
  if (depth >= 4 || r < 4) {
    const pool = neg ? NEGATABLE : g(fc.boolean) ? NEGATABLE : POSITIVE;
    return pool[g(fc.integer, { min: 0, max: pool.length - 1 })]!;
  }
  if (r < 6) return `(${genExpr(g, depth + 1, neg)} && ${genExpr(g, depth + 1, neg)})`;
  if (r < 8) return `(${genExpr(g, depth + 1, neg)} || ${genExpr(g, depth + 1, neg)})`;
  return `!(${genExpr(g, depth + 1, !neg)})`;
}

/** A small deterministic PRNG (mulberry32) for keys. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function setWide(key: Uint32Array, name: string, words: number[]): void {
  const d = field(name);
  for (let i = 0; i < d.nwords; i++) key[d.word + i] = words[i]! >>> 0;
}

/** Packet profiles: EtherType, IP protocol, L4 source/destination (or ICMP type/code), TTL. */
const PROFILES: readonly [number, number, number[], number[], number][] = [
  [0x800, 6, [1024, 3, 80], [80, 443, 1000, 1005, 1010, 1011, 999], 64],
  [0x86dd, 6, [1024, 3], [80, 443, 1000, 1010], 64],
  [0x800, 17, [53, 1024], [53, 80, 443], 64],
  [0x86dd, 17, [53], [53, 443], 64],
  [0x800, 132, [5], [80, 81], 64],
  [0x800, 1, [8, 0], [0], 64],
  [0x86dd, 58, [135, 136, 133, 134], [0], 255],
  [0x86dd, 58, [130, 131, 143], [0], 1],
  [0x800, 2, [0x11], [0], 1],
  [0x806, 1, [0], [0], 0],
  [0x806, 2, [0], [0], 0],
  [0x8035, 3, [0], [0], 0],
];

function randomKey(rnd: () => number): Uint32Array {
  const key = newKey();
  for (let i = 0; i < KEY_WORDS; i++) key[i] = rnd();
  const pick = <T>(xs: readonly T[]): T => xs[rnd() % xs.length]!;
  const maybe = (p: number): boolean => rnd() / 2 ** 32 < p;
  if (maybe(0.9)) {
    const [et, proto, srcs, dsts, ttl] = pick(PROFILES);
    setField(key, field("eth_type"), et);
    if (maybe(0.95)) setField(key, field("nw_proto"), proto);
    if (maybe(0.9)) setField(key, field("tp_src"), pick(srcs));
    if (maybe(0.9)) setField(key, field("tp_dst"), pick(dsts));
    if (maybe(0.9)) setField(key, field("nw_ttl"), ttl);
  }
  if (maybe(0.7)) setField(key, field("nw_src"), pick([0x0a000001, 0x0a000002, 0x0a000003, 0xc0a80101, 0x0a0000ff]));
  if (maybe(0.7)) setField(key, field("nw_dst"), pick([0x0a000001, 0x0a000003, 0x0a000004, 0xc0a80000, 0xe0000001, 0x0a0000ff]));
  if (maybe(0.6)) setWide(key, "ipv6_src", pick([[0, 0, 0, 1], [0xfd000000, 0, 0, 5], [0xfe800000, 0, 0, 1]]));
  if (maybe(0.6)) setWide(key, "ipv6_dst", pick([[0xff020000, 0, 0, 1], [0xff020000, 0, 1, 0xff000001], [0xff020000, 0, 0, 0x16], [0xff050000, 0, 0, 2], [0xff000000, 0, 0, 0], [0, 0, 0, 1]]));
  if (maybe(0.5)) setWide(key, "nd_target", [0xfe800000, 0, 0, 1]);
  if (maybe(0.6)) setWide(key, "eth_dst", pick([[0xffff, 0xffffffff], [0x0100, 0x5e000001], [0x3333, 0xff000001], [0, 1]]));
  if (maybe(0.6)) setWide(key, "eth_src", pick([[0, 1], [0x0200, 5], [0, 0x1111]]));
  if (maybe(0.4)) setWide(key, "arp_sha", [0, 1]);
  if (maybe(0.4)) setWide(key, "arp_tha", [0, 2]);
  if (maybe(0.7)) setField(key, field("reg14"), pick([1, 2, 3, 4]));
  if (maybe(0.7)) setField(key, field("reg15"), pick([1, 2, 3, 4]));
  if (maybe(0.5)) setField(key, field("reg0"), pick([1, 5, 0x105, 8]));
  if (maybe(0.3)) setField(key, field("reg9"), 0);
  if (maybe(0.2)) {
    setField(key, field("reg0"), 0);
    setField(key, field("reg1"), 5);
  }
  if (maybe(0.2)) for (const [r, v] of [["reg4", 0], ["reg5", 0], ["reg6", 0], ["reg7", rnd() & 1]] as const) setField(key, field(r), v);
  if (maybe(0.5)) setField(key, field("ct_mark"), pick([5, 1, 0]));
  if (maybe(0.6)) setField(key, field("ct_state"), pick([0x21, 0x22, 0x24, 0x00, 0x30, 0x2a]));
  if (maybe(0.5)) setWide(key, "ct_label", pick([[0, 0, 0, 7], [0, 0, 0, 1], [0, 0, 0, 0]]));
  if (maybe(0.5)) setField(key, field("vlan_tci"), pick([0x1005, 0x0005, 0x7005]));
  if (maybe(0.3)) setField(key, field("ipv6_label"), 0x12345);
  if (maybe(0.4)) setField(key, field("pkt_mark"), 0x10);
  if (maybe(0.4)) setField(key, field("tcp_flags"), 2);
  if (maybe(0.4)) setField(key, field("nw_tos"), pick([46 << 2, 3, (46 << 2) | 3]));
  // MLD: link-local source, all-MLDv2-routers destination.
  const icmpType = key[field("tp_src").word]! >>> 16;
  if (icmpType === 143 || (icmpType >= 130 && icmpType <= 132)) {
    if (maybe(0.7)) setWide(key, "ipv6_src", [0xfe800000, 0, 0, 1]);
    if (maybe(0.5)) setWide(key, "ipv6_dst", [0xff020000, 0, 0, 0x16]);
  }
  return key;
}

describe("normalize agrees with evaluate", () => {
  it("on random expressions and random keys", () => {
    let checked = 0;
    let holding = 0;
    let runs = 0;
    let skipped = 0;
    fc.assert(
      fc.property(fc.gen(), fc.integer(), (g, seed) => {
        runs++;
        const text = genExpr(g, 0, false);
        const p = parseExpr(text);
        if (!p.ok) throw new Error(`generated an invalid expression: ${text}: ${p.diags[0]!.message}`);
        const n = normalize(p.value, CTX, { maxMatches: 1000 });
        if (!n.ok) {
          expect(n.diags[0]!.code).toMatch(/^expr\.too-/);
          skipped++;
          return;
        }
        const matches: Match[] = n.value;
        const rnd = prng(seed);
        for (let i = 0; i < 30; i++) {
          const key = randomKey(rnd);
          const e = evaluate(p.value, key, CTX);
          expect(e.ok).toBe(true);
          if (!e.ok) return;
          const viaMatches = matches.some((m) => matchesKey(m, key));
          if (viaMatches !== e.value) throw new Error(`disagree on ${text}: evaluate=${e.value} matches=${viaMatches}`);
          checked++;
          if (e.value) holding++;
        }
      }),
      { numRuns: 2000 },
    );
    // Both outcomes must be common, or the test would prove little.
    expect(runs).toBe(2000);
    expect(checked).toBeGreaterThan(40_000);
    expect(holding / checked).toBeGreaterThan(0.1);
    expect(holding / checked).toBeLessThan(0.9);
    expect(skipped).toBeLessThan(2000 * 0.1);
  });

  it("on every atom alone, against many keys", () => {
    for (const text of [...NEGATABLE, ...POSITIVE, ...NEGATABLE.map((t) => `!(${t})`)]) {
      const p = parseExpr(text);
      expect(p.ok, text).toBe(true);
      if (!p.ok) continue;
      const n = normalize(p.value, CTX);
      if (!n.ok) {
        // Only the negations of the multicast-group predicates are this large.
        expect(text, n.diags[0]!.message).toMatch(/^!\(ip6\.mcast_flood\)$/);
        continue;
      }
      const rnd = prng(text.length * 7919);
      let yes = 0;
      for (let i = 0; i < 200; i++) {
        const key = randomKey(rnd);
        const e = evaluate(p.value, key, CTX);
        expect(e.ok && e.value === n.value.some((m) => matchesKey(m, key)), `${text} key ${i}`).toBe(true);
        if (e.ok && e.value) yes++;
      }
      const alwaysFalse = ["0", "!(1)", 'inport == "ghost"', "outport == @none", "ip4.src == $empty", 'is_chassis_resident("p9")', '!(is_chassis_resident("p1"))', "arp.op == 256", "ct_state[9]"];
      if (alwaysFalse.includes(text)) expect(yes, `${text} held`).toBe(0);
      else expect(yes, `${text} never held`).toBeGreaterThan(0);
    }
  });
});
