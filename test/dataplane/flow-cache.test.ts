/**
 * The flow cache against a slow twin: a plain list of live megaflows, each matched by comparing
 * every word of the key under its mask. Random sequences of installs, lookups and flushes (keys
 * from small pools, so that megaflows recur and overlap; lookups of keys seen before, so that the
 * exact-match cache answers, also for megaflows gone since; a small flow limit, so that eviction
 * runs) go through `FlowCache` and through the twin; after every step:
 * - a lookup answers a megaflow exactly when the twin has a live one that matches, and the one it
 *   answers is among those;
 * - the live megaflows are the twin's, who evicts the least recently used eighth at the limit.
 *
 * The exact-match cache's insertion probability is checked on its own: a megaflow hit inserts with
 * probability 1/N, so looking each of many keys up twice in a row gives an exact-match hit on the
 * second lookup about once in N.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KEY_WORDS, W } from "../../src/flow/index.js";
import { FlowCache, megaflowHasher, type Megaflow } from "../../src/dataplane/index.js";

/**
 * Words the random keys and masks vary: recirc_id (always exact in a mask), then a few others;
 * `ct_mark` is outside the exact-match cache's hash, so keys that differ only there share a slot
 * and a hash, and only the check against the megaflow tells them apart.
 */
const WORDS = [W.RECIRC_ID, W.IN_PORT, W.REG0 + 14, W.NW_SRC, W.NW_DST, W.TP, W.TCP_FLAGS, W.CT_MARK] as const;

function keyOf(values: readonly number[]): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  WORDS.forEach((w, i) => (k[w] = values[i]! >>> 0));
  return k;
}

/**
 * A mask over `WORDS` (recirc_id exact, the rest from `values`); `wide` also covers 40 more words,
 * more than the cache makes specialised lookup code for, so that its generic lookup runs too.
 */
function maskOf(values: readonly number[], wide = false): Uint32Array {
  const m = new Uint32Array(KEY_WORDS);
  if (wide) m.fill(0xffffffff, W.REG0, W.REG0 + 40);
  m[W.RECIRC_ID] = 0xffffffff;
  WORDS.forEach((w, i) => {
    if (i > 0) m[w] = values[i - 1]! >>> 0;
  });
  return m;
}

function matches(f: { mask: Uint32Array; value: Uint32Array }, key: Uint32Array): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (((key[i]! & f.mask[i]!) >>> 0) !== f.value[i]) return false;
  return true;
}

interface TwinFlow {
  id: number;
  mask: Uint32Array;
  value: Uint32Array;
  lastUsed: number;
}

/** The slow twin: live megaflows in install order, and the cache's clock (one tick per lookup). */
class Twin {
  flows: TwinFlow[] = [];
  clock = 0;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  matching(key: Uint32Array): TwinFlow[] {
    return this.flows.filter((f) => matches(f, key));
  }

  install(id: number, key: Uint32Array, mask: Uint32Array): void {
    if (this.flows.length >= this.limit) {
      const byAge = [...this.flows].sort((a, b) => a.lastUsed - b.lastUsed);
      const gone = new Set(byAge.slice(0, Math.max(1, byAge.length >>> 3)).map((f) => f.id));
      this.flows = this.flows.filter((f) => !gone.has(f.id));
    }
    const value = new Uint32Array(KEY_WORDS);
    for (let i = 0; i < KEY_WORDS; i++) value[i] = (key[i]! & mask[i]!) >>> 0;
    this.flows.push({ id, mask, value, lastUsed: this.clock });
  }
}

// Small pools, so that keys repeat and megaflows overlap.
const word = fc.constantFrom(0, 1, 2, 0x0a000001, 0x0a000002, 0xffffffff, 0x80000000);
const keyArb = fc.tuple(fc.constantFrom(0, 1, 3), word, word, word, word, word, word, word);
const maskWord = fc.constantFrom(0, 0xffffffff, 0xff, 0xffff0000, 0x80000000);
const maskArb = fc.tuple(maskWord, maskWord, maskWord, maskWord, maskWord, maskWord, maskWord);
const opArb = fc.oneof(
  { weight: 30, arbitrary: fc.record({ op: fc.constant("install" as const), key: keyArb, mask: maskArb, wide: fc.boolean() }) },
  { weight: 60, arbitrary: fc.record({ op: fc.constant("lookup" as const), key: keyArb }) },
  // A key seen before (installed or looked up), `back` steps ago: exact-match hits, also on
  // megaflows evicted or flushed since.
  { weight: 20, arbitrary: fc.record({ op: fc.constant("lookup-again" as const), back: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("flush" as const) }) },
);

describe("flow cache against a list of megaflows", () => {
  it("answers what the list answers, and evicts the least recently used eighth at the limit", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 300, size: "max" }), fc.constantFrom(0, 1, 2, 100), fc.constantFrom(8, 24, 1000), fc.boolean(), (ops, invProb, limit, specialise) => {
        const cache = new FlowCache<string>({ emcEntries: 16, emcInsertInvProb: invProb, flowLimit: limit, rankInterval: 7, specialise });
        const twin = new Twin(limit);
        const seen: Uint32Array[] = [keyOf([0, 0, 0, 0, 0, 0, 0, 0])];
        for (const o of ops) {
          if (o.op === "flush") {
            cache.flush();
            twin.flows = [];
            continue;
          }
          if (o.op === "install") {
            const key = keyOf(o.key);
            const mask = maskOf(o.mask, o.wide);
            // The cache counts an install as a use at the current clock, as the twin does.
            const f = cache.install(key, mask, "a");
            twin.install(f.id, key, mask);
            expect(matches(f, key)).toBe(true);
            seen.push(key);
          } else {
            const key = o.op === "lookup" ? keyOf(o.key) : seen[Math.max(0, seen.length - 1 - o.back)]!;
            if (o.op === "lookup") seen.push(key);
            twin.clock++;
            const got: Megaflow<string> | undefined = cache.lookup(key);
            const want = twin.matching(key);
            if (want.length === 0) {
              expect(got).toBeUndefined();
            } else {
              expect(got).toBeDefined();
              const hit = want.find((f) => f.id === got!.id);
              expect(hit, `lookup answered megaflow ${got!.id}, not one of ${want.map((f) => f.id).join(",")}`).toBeDefined();
              hit!.lastUsed = twin.clock;
            }
          }
          expect(cache.megaflows().map((f) => f.id)).toEqual(twin.flows.map((f) => f.id));
        }
        const s = cache.stats();
        expect(s.emcHits + s.megaflowHits + s.misses).toBe(s.lookups);
        if (invProb === 0) expect(s.emcHits).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe("exact-match cache insertion", () => {
  /** Looks each of `n` keys up twice in a row under one wide megaflow; returns the EMC hits. */
  function secondLookupHits(invProb: number, n: number): number {
    const cache = new FlowCache<string>({ emcInsertInvProb: invProb, emcEntries: 8192 });
    cache.install(keyOf([0, 0, 0, 0, 0, 0, 0, 0]), maskOf([0, 0, 0, 0, 0, 0, 0]), "all");
    const before = cache.stats().emcHits;
    // Keys from 1: the install's own key (all zero) went into the EMC at install.
    for (let i = 1; i <= n; i++) {
      const key = keyOf([0, i, 0, i * 7919, 0, i, 0, 0]);
      cache.lookup(key);
      cache.lookup(key);
    }
    expect(cache.stats().misses).toBe(0);
    return cache.stats().emcHits - before;
  }

  it("inserts about once in N megaflow hits", () => {
    const n = 40000;
    for (const p of [2, 4, 10, 100]) {
      const hits = secondLookupHits(p, n);
      const mean = n / p;
      const sd = Math.sqrt(n * (1 / p) * (1 - 1 / p));
      // Six standard deviations: a fair draw never fails this; a wrong threshold does.
      expect(Math.abs(hits - mean), `1/${p}: ${hits} exact-match hits of ${n}, expected about ${mean}`).toBeLessThan(6 * sd);
    }
  });

  it("inserts every hit with N = 1 and none with N = 0", () => {
    expect(secondLookupHits(1, 1000)).toBe(1000);
    expect(secondLookupHits(0, 1000)).toBe(0);
  });
});

describe("megaflows whose masked keys share a hash", () => {
  /**
   * Two keys with the same hash under `mask` (a birthday search over nw_src and nw_dst; with one
   * word the hash is a bijection and never collides). About 2^16 keys find a 32-bit collision.
   */
  function collidingPair(mask: Uint32Array): [Uint32Array, Uint32Array] {
    const at = (i: number): Uint32Array => keyOf([0, 0, 0, i, Math.imul(i, 0x9e3779b1), 0, 0, 0]);
    const hash = megaflowHasher(mask);
    const seen = new Map<number, number>();
    for (let i = 1; i < 1 << 22; i++) {
      const h = hash(at(i));
      const other = seen.get(h);
      if (other !== undefined) return [at(other), at(i)];
      seen.set(h, i);
    }
    throw new Error("no colliding pair found");
  }

  // Narrow masks get specialised lookup code unless `specialise` is off; a wide one (over 32
  // words) always gets the generic lookup.
  const cases = [
    { wide: false, specialise: true, name: "specialised lookup" },
    { wide: false, specialise: false, name: "generic lookup" },
    { wide: true, specialise: true, name: "generic lookup for a wide mask" },
  ];
  for (const { wide, specialise, name } of cases) {
    it(`are told apart by their words, not their hash (${name})`, () => {
      const mask = maskOf([0, 0, 0xffffffff, 0xffffffff, 0, 0, 0], wide);
      const [a, b] = collidingPair(mask);
      expect(megaflowHasher(mask)(a)).toBe(megaflowHasher(mask)(b));
      const cache = new FlowCache<string>({ emcInsertInvProb: 0, specialise });
      const fa = cache.install(a, mask, "a");
      expect(cache.lookup(a)).toBe(fa);
      expect(cache.lookup(b)).toBeUndefined();
      const fb = cache.install(b, mask, "b");
      expect(cache.lookup(b)).toBe(fb);
      expect(cache.lookup(a)).toBe(fa);
    });
  }
});

describe("exact-match cache entries", () => {
  it("answer a key with their hash only when it matches their megaflow", () => {
    // Three keys with one EMC hash: they differ only in ct_mark and reg0, outside the hash.
    const a = keyOf([0, 5, 0, 0x0a000001, 0x0a000002, 0x00500050, 0x02, 7]);
    const b = Uint32Array.from(a);
    b[W.CT_MARK] = 8;
    const c = Uint32Array.from(a);
    c[W.REG0] = 99;
    const cache = new FlowCache<string>({ emcInsertInvProb: 1, emcEntries: 16 });
    // The megaflow reads ct_mark and not reg0; its install puts it into the EMC under a's hash.
    const fa = cache.install(a, maskOf([0xffffffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff]), "mark 7");
    const before = cache.stats();
    expect(cache.lookup(b)).toBeUndefined();
    expect(cache.lookup(c)).toBe(fa);
    expect(cache.lookup(a)).toBe(fa);
    const after = cache.stats();
    expect(after.misses - before.misses).toBe(1);
    expect(after.emcHits - before.emcHits).toBe(2);
    const fb = cache.install(b, maskOf([0xffffffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff]), "mark 8");
    expect(cache.lookup(b)).toBe(fb);
    expect(cache.lookup(a)).toBe(fa);
  });
});
