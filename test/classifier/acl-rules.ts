/**
 * Random ACL-like rule sets and packets for classifier tests and benchmarks.
 *
 * Rules are drawn from a fixed family of mask shapes like those an OVN ACL stage produces:
 * datapath (`metadata`), logical in/out port (`reg14`/`reg15`), conntrack state bits, `ip` plus
 * `nw_proto`, source and destination prefixes of several lengths, and exact or masked destination
 * ports. Values come from small pools so rules overlap often (the interesting case for priorities
 * and ties); priorities come from a small set, so ties are common too.
 *
 * Keys are biased towards rules: most take a rule's value on its mask and pool values elsewhere,
 * so they hit that rule or an overlapping one; some are pool-only and a few have random words.
 * Everything is driven by a seeded PRNG, so a failing seed reproduces.
 */
import { CT, KEY_WORDS, catchAll, constrainField, field, type Match } from "../../src/flow/index.js";

/** mulberry32: a small seeded PRNG returning u32s. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface TestRule {
  readonly id: number;
  readonly priority: number;
  readonly match: Match;
}

/** A mask shape: which fields a rule constrains, and how. */
export interface Shape {
  readonly metadata: boolean;
  readonly inport: boolean;
  readonly outport: boolean;
  /** ct_state mask bits (0: not matched). */
  readonly ct: number;
  /** eth_type + nw_proto. */
  readonly l3: boolean;
  readonly proto: boolean;
  /** Prefix lengths (0: not matched). */
  readonly src: number;
  readonly dst: number;
  /** tp_dst mask (0: not matched). */
  readonly tp: number;
}

const CT_MASKS = [0, CT.TRK, CT.TRK | CT.EST | CT.NEW, CT.TRK | CT.EST | CT.REL | CT.NEW | CT.INV];
const PREFIXES = [0, 8, 16, 24, 32];
const TP_MASKS = [0, 0xffff, 0xfff0, 0xff00];

/** `n` distinct ACL-like shapes drawn with `rand`. */
export function makeShapes(rand: () => number, n: number): Shape[] {
  const seen = new Set<string>();
  const out: Shape[] = [];
  for (let tries = 0; out.length < n && tries < n * 100; tries++) {
    const l3 = rand() % 8 !== 0;
    const proto = l3 && rand() % 3 !== 0;
    const s: Shape = {
      metadata: rand() % 6 !== 0,
      inport: rand() % 3 === 0,
      outport: rand() % 4 === 0,
      ct: CT_MASKS[rand() % CT_MASKS.length]!,
      l3,
      proto,
      src: l3 ? PREFIXES[rand() % PREFIXES.length]! : 0,
      dst: l3 ? PREFIXES[rand() % PREFIXES.length]! : 0,
      tp: proto ? TP_MASKS[rand() % TP_MASKS.length]! : 0,
    };
    const k = JSON.stringify(s);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(s);
  }
  return out;
}

/**
 * How many distinct values each field draws from. The defaults are small, so rules overlap a lot
 * (tests); benchmarks use wider pools, closer to a real deployment's spread of datapaths and ports.
 */
export interface Pools {
  readonly datapaths: number;
  readonly ports: number;
  /** Distinct /16 and /24 parts of 10.x.y.z addresses, and host numbers. */
  readonly nets16: number;
  readonly nets24: number;
  readonly hosts: number;
}

export const SMALL_POOLS: Pools = { datapaths: 4, ports: 8, nets16: 4, nets24: 4, hosts: 8 };
export const WIDE_POOLS: Pools = { datapaths: 64, ports: 512, nets16: 16, nets24: 64, hosts: 256 };

const PROTOS = [6, 17, 1];
const PORTS = [22, 53, 80, 443, 8080, 1000, 1001, 1007, 1015, 6443];
const PRIORITIES = [0, 1, 1000, 1001, 1001, 1002, 2000, 2001, 65535];

/** First octets of pool addresses: both halves of the address space, so words with bit 31 set occur. */
const FIRST_OCTETS = [10, 172, 192, 224];

function poolAddr(rand: () => number, p: Pools): number {
  return ((FIRST_OCTETS[rand() % FIRST_OCTETS.length]! << 24) | ((rand() % p.nets16) << 16) | ((rand() % p.nets24) << 8) | rand() % p.hosts) >>> 0;
}

function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** One rule of shape `s` with pool values. */
export function makeRule(rand: () => number, s: Shape, id: number, priority?: number, p: Pools = SMALL_POOLS): TestRule {
  const m = catchAll();
  if (s.metadata) constrainField(m, field("metadata"), 1 + (rand() % p.datapaths), 0xffffffff);
  if (s.inport) constrainField(m, field("reg14"), 1 + (rand() % p.ports), 0xffffffff);
  if (s.outport) constrainField(m, field("reg15"), 1 + (rand() % p.ports), 0xffffffff);
  if (s.ct) constrainField(m, field("ct_state"), (rand() | CT.TRK) & s.ct, s.ct);
  if (s.l3) constrainField(m, field("eth_type"), 0x0800, 0xffff);
  if (s.proto) constrainField(m, field("nw_proto"), PROTOS[rand() % PROTOS.length]!, 0xff);
  if (s.src) constrainField(m, field("nw_src"), poolAddr(rand, p), prefixMask(s.src));
  if (s.dst) constrainField(m, field("nw_dst"), poolAddr(rand, p), prefixMask(s.dst));
  if (s.tp) constrainField(m, field("tp_dst"), PORTS[rand() % PORTS.length]!, s.tp);
  return { id, priority: priority ?? PRIORITIES[rand() % PRIORITIES.length]!, match: m };
}

/**
 * `n` rules over `shapes`, ids from `firstId`. Priorities are drawn from one small set for every
 * shape, unless `banded`: then each shape has its own band of three priorities (shape i gets
 * 100 * (i + 1) .. 100 * (i + 1) + 2), as when each kind of rule sits at its own level.
 */
export function makeRules(rand: () => number, shapes: readonly Shape[], n: number, firstId = 0, p: Pools = SMALL_POOLS, banded = false): TestRule[] {
  const out: TestRule[] = [];
  for (let i = 0; i < n; i++) {
    const si = rand() % shapes.length;
    out.push(makeRule(rand, shapes[si]!, firstId + i, banded ? 100 * (si + 1) + (rand() % 3) : undefined, p));
  }
  return out;
}

/** Writes a key with every field from the pools (and random noise in fields no rule reads). */
export function fillPoolKey(rand: () => number, key: Uint32Array, p: Pools = SMALL_POOLS): void {
  key.fill(0);
  const set = (name: string, v: number) => {
    const d = field(name);
    constrainField({ value: key, mask: new Uint32Array(KEY_WORDS) }, d, v, 0xffffffff);
  };
  set("metadata", 1 + (rand() % (p.datapaths + 1)));
  set("reg14", 1 + (rand() % (p.ports + 1)));
  set("reg15", 1 + (rand() % (p.ports + 1)));
  set("ct_state", rand() & 0xff);
  set("eth_type", rand() % 10 === 0 ? 0x86dd : 0x0800);
  set("nw_proto", rand() % 10 === 0 ? rand() & 0xff : PROTOS[rand() % PROTOS.length]!);
  set("nw_src", rand() % 10 === 0 ? rand() : poolAddr(rand, p));
  set("nw_dst", rand() % 10 === 0 ? rand() : poolAddr(rand, p));
  set("tp_src", rand() & 0xffff);
  set("tp_dst", rand() % 5 === 0 ? rand() & 0xffff : PORTS[rand() % PORTS.length]!);
  key[field("eth_src").word + 1] = rand();
  key[field("tun_id").word] = rand();
}

/** A key biased towards `rules`: usually one rule's value on its mask, pool values elsewhere. */
export function makeKey(rand: () => number, rules: readonly TestRule[], key: Uint32Array = new Uint32Array(KEY_WORDS), p: Pools = SMALL_POOLS): Uint32Array {
  fillPoolKey(rand, key, p);
  if (rules.length > 0 && rand() % 5 !== 0) {
    const r = rules[rand() % rules.length]!;
    for (let i = 0; i < KEY_WORDS; i++) key[i] = ((key[i]! & ~r.match.mask[i]!) | r.match.value[i]!) >>> 0;
  }
  return key;
}

/** `key` on the bits of `wc`, `other` elsewhere. */
export function agreeOn(key: Uint32Array, wc: Uint32Array, other: Uint32Array): Uint32Array {
  const out = new Uint32Array(KEY_WORDS);
  for (let i = 0; i < KEY_WORDS; i++) out[i] = ((key[i]! & wc[i]!) | (other[i]! & ~wc[i]!)) >>> 0;
  return out;
}

/** Number of 1-bits in a mask. */
export function popcount(wc: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < wc.length; i++) {
    let v = wc[i]!;
    while (v) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}
