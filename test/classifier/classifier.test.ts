/**
 * The tuple-space classifier against its linear twin, and the megaflow contract.
 *
 * Rule sets of 1,500 ACL-like rules over ~30 mask shapes, keys biased towards the rules; seeded
 * PRNG loops, so a failure names its seed. Both staged and unstaged lookup are checked.
 */
import { describe, expect, it } from "vitest";
import { Classifier, LinearClassifier } from "../../src/classifier/index.js";
import { KEY_WORDS, catchAll, constrainField, field, matchesKey } from "../../src/flow/index.js";
import { makeRule as makeOfpRule, makeTable, next, type Rule } from "../../src/ofp/index.js";
import { SMALL_POOLS, agreeOn, fillPoolKey, makeKey, makeRule, makeRules, makeShapes, popcount, prng, type TestRule } from "./acl-rules.js";

const MODES = [
  { name: "staged", staged: true },
  { name: "unstaged", staged: false },
] as const;

function setup(seed: number, n: number, shapes = 30, banded = false) {
  const rand = prng(seed);
  const sh = makeShapes(rand, shapes);
  const rules = makeRules(rand, sh, n, 0, SMALL_POOLS, banded);
  return { rand, shapes: sh, rules };
}

describe.each(MODES)("tuple-space classifier ($name) vs linear twin", ({ staged }) => {
  it.each([
    [1, false],
    [2, false],
    [3, false],
    [4, true],
    [5, true],
  ])("returns the linear twin's rule on 1,500 random rules (seed %i, priorities banded by shape: %s)", (seed, banded) => {
    const { rand, shapes, rules } = setup(seed, 1500, 30, banded);
    expect(shapes.length).toBeGreaterThanOrEqual(20);
    const ts = Classifier.from(rules, { staged, rankInterval: 512 });
    const lin = LinearClassifier.from(rules);
    expect(ts.size).toBe(1500);
    expect(ts.subtableCount).toBe(new Set(rules.map((r) => r.match.mask.join(","))).size);
    let hits = 0;
    const key = new Uint32Array(KEY_WORDS);
    for (let i = 0; i < 4000; i++) {
      makeKey(rand, rules, key);
      const want = lin.lookup(key);
      const got = ts.lookup(key);
      if (got !== want) expect.fail(`seed ${seed} key ${i}: got rule ${got?.id}, want ${want?.id}`);
      if (want) hits++;
    }
    // The keys must exercise real matches, not only misses.
    expect(hits).toBeGreaterThan(2000);
    expect(ts.stats().lookups).toBe(4000);
  });

  it("agrees through interleaved inserts, removes and re-inserts", () => {
    const { rand, shapes, rules } = setup(7, 1200);
    const ts = new Classifier<TestRule>({ staged, rankInterval: 64 });
    const lin = new LinearClassifier<TestRule>();
    const present: TestRule[] = [];
    const removed: TestRule[] = [];
    let nextId = 10_000;
    for (const r of rules) {
      ts.insert(r);
      lin.insert(r);
      present.push(r);
    }
    const key = new Uint32Array(KEY_WORDS);
    for (let step = 0; step < 3000; step++) {
      const op = rand() % 10;
      if (op < 3 && present.length > 0) {
        const r = present.splice(rand() % present.length, 1)[0]!;
        expect(ts.remove(r)).toBe(true);
        expect(lin.remove(r)).toBe(true);
        expect(ts.remove(r)).toBe(false);
        removed.push(r);
      } else if (op < 5 && removed.length > 0) {
        const r = removed.splice(rand() % removed.length, 1)[0]!;
        expect(ts.insert(r)).toBe(true);
        lin.insert(r);
        present.push(r);
      } else if (op < 7) {
        const r = makeRule(rand, shapes[rand() % shapes.length]!, nextId++);
        ts.insert(r);
        lin.insert(r);
        present.push(r);
      }
      for (let k = 0; k < 4; k++) {
        makeKey(rand, present, key);
        const want = lin.lookup(key);
        const got = ts.lookup(key);
        if (got !== want) expect.fail(`step ${step}: got rule ${got?.id}, want ${want?.id}`);
      }
      expect(ts.size).toBe(lin.size);
    }
    expect(ts.rules()).toEqual(lin.rules());
    const order = ts.describe().map((s) => s.maxPriority);
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });

  it("empties completely: removing every rule drops every subtable", () => {
    const { rules } = setup(11, 300);
    const ts = Classifier.from(rules, { staged });
    for (const r of rules) expect(ts.remove(r)).toBe(true);
    expect(ts.size).toBe(0);
    expect(ts.subtableCount).toBe(0);
    expect(ts.lookup(new Uint32Array(KEY_WORDS))).toBeUndefined();
  });
});

describe.each(MODES)("megaflow soundness ($name)", ({ staged }) => {
  it.each([
    [21, false],
    [22, true],
  ])("every key agreeing on the un-wildcarded bits gets the same rule (seed %i, banded %s)", (seed, banded) => {
    const { rand, rules } = setup(seed, 1500, 30, banded);
    const ts = Classifier.from(rules, { staged });
    const lin = LinearClassifier.from(rules);
    const key = new Uint32Array(KEY_WORDS);
    const other = new Uint32Array(KEY_WORDS);
    let cases = 0;
    let widened = 0;
    for (let i = 0; i < 400; i++) {
      makeKey(rand, rules, key);
      const wc = new Uint32Array(KEY_WORDS);
      const r = ts.lookup(key, wc);
      expect(r).toBe(lin.lookup(key));
      for (let v = 0; v < 12; v++) {
        // Alternate the filler between rule-biased, pool-only and fully random keys.
        if (v % 3 === 0) makeKey(rand, rules, other);
        else if (v % 3 === 1) fillPoolKey(rand, other);
        else for (let w = 0; w < KEY_WORDS; w++) other[w] = rand();
        const k2 = agreeOn(key, wc, other);
        const want = lin.lookup(k2);
        if (want !== r) expect.fail(`seed ${seed} key ${i} variant ${v}: megaflow gives rule ${r?.id}, the key deserves ${want?.id}`);
        if (ts.lookup(k2) !== r) expect.fail(`seed ${seed} key ${i} variant ${v}: the classifier disagrees with itself`);
        if (k2.some((x, w) => x !== key[w])) widened++;
        cases++;
      }
    }
    expect(cases).toBe(4800);
    // The variants really differ from the looked-up key (the megaflows are not exact matches).
    expect(widened).toBeGreaterThan(cases * 0.9);
  });

  it("holds on many small rule sets, where one subtable's mistake is not covered by another's mask", () => {
    let cases = 0;
    for (let seed = 100; seed < 400; seed++) {
      const rand = prng(seed);
      const shapes = makeShapes(rand, 1 + (rand() % 5));
      const rules = makeRules(rand, shapes, 1 + (rand() % 40));
      const ts = Classifier.from(rules, { staged });
      const lin = LinearClassifier.from(rules);
      const key = new Uint32Array(KEY_WORDS);
      const other = new Uint32Array(KEY_WORDS);
      for (let i = 0; i < 10; i++) {
        makeKey(rand, rules, key);
        const wc = new Uint32Array(KEY_WORDS);
        const r = ts.lookup(key, wc);
        for (let v = 0; v < 8; v++) {
          if (v % 2 === 0) makeKey(rand, rules, other);
          else fillPoolKey(rand, other);
          const want = lin.lookup(agreeOn(key, wc, other));
          if (want !== r) expect.fail(`seed ${seed} key ${i} variant ${v}: megaflow gives rule ${r?.id}, the key deserves ${want?.id}`);
          cases++;
        }
      }
    }
    expect(cases).toBe(24_000);
  });

  it("only adds bits to the caller's mask", () => {
    const { rand, rules } = setup(5, 500);
    const ts = Classifier.from(rules, { staged });
    const key = makeKey(rand, rules);
    const wc = new Uint32Array(KEY_WORDS);
    wc[field("eth_src").word] = 0xabcd;
    const before = Uint32Array.from(wc);
    ts.lookup(key, wc);
    for (let i = 0; i < KEY_WORDS; i++) expect((wc[i]! & before[i]!) >>> 0).toBe(before[i]);
  });
});

describe("megaflow check has teeth", () => {
  it("dropping an examined bit from the mask is caught", () => {
    const { rand, rules } = setup(31, 1500);
    const ts = Classifier.from(rules);
    const lin = LinearClassifier.from(rules);
    const key = new Uint32Array(KEY_WORDS);
    const other = new Uint32Array(KEY_WORDS);
    let caught = 0;
    for (let i = 0; i < 200; i++) {
      makeKey(rand, rules, key);
      const wc = new Uint32Array(KEY_WORDS);
      const r = ts.lookup(key, wc);
      // Clear one set bit of a word that a rule of the answer's own mask examines.
      if (!r) continue;
      const words = [...r.match.mask.keys()].filter((w) => (r.match.mask[w]! & wc[w]!) !== 0);
      const w = words[rand() % words.length]!;
      const bits = wc[w]! & r.match.mask[w]!;
      const bit = bits & -bits;
      wc[w] = (wc[w]! & ~bit) >>> 0;
      for (let v = 0; v < 8; v++) {
        fillPoolKey(rand, other);
        other[w] = (key[w]! ^ bit) >>> 0;
        if (lin.lookup(agreeOn(key, wc, other)) !== r) {
          caught++;
          break;
        }
      }
    }
    expect(caught).toBeGreaterThan(100);
  });
});

describe("staged lookup", () => {
  it("un-wildcards fewer bits than whole-mask probing on the same rules", () => {
    const { rand, rules } = setup(41, 1500);
    const staged = Classifier.from(rules, { staged: true });
    const whole = Classifier.from(rules, { staged: false });
    const key = new Uint32Array(KEY_WORDS);
    let bitsStaged = 0;
    let bitsWhole = 0;
    let narrower = 0;
    for (let i = 0; i < 1000; i++) {
      makeKey(rand, rules, key);
      const a = new Uint32Array(KEY_WORDS);
      const b = new Uint32Array(KEY_WORDS);
      expect(staged.lookup(key, a)).toBe(whole.lookup(key, b));
      // Staged examines a subset of what whole-mask probing examines.
      for (let w = 0; w < KEY_WORDS; w++) expect((a[w]! & ~b[w]!) >>> 0).toBe(0);
      bitsStaged += popcount(a);
      bitsWhole += popcount(b);
      if (popcount(a) < popcount(b)) narrower++;
    }
    expect(bitsStaged).toBeLessThan(bitsWhole);
    expect(narrower).toBeGreaterThan(0);
  });

  it("a key ruled out by its metadata un-wildcards only the metadata stage", () => {
    const m = catchAll();
    constrainField(m, field("metadata"), 1, 0xffffffff);
    constrainField(m, field("eth_type"), 0x0800, 0xffff);
    constrainField(m, field("nw_dst"), 0x0a000001, 0xffffffff);
    const c = Classifier.from([{ priority: 1, match: m }]);
    const key = new Uint32Array(KEY_WORDS);
    key[field("metadata").word] = 2;
    key[field("eth_type").word] = 0x0800;
    key[field("nw_dst").word] = 0x0a000001;
    const wc = new Uint32Array(KEY_WORDS);
    expect(c.lookup(key, wc)).toBeUndefined();
    const expected = new Uint32Array(KEY_WORDS);
    expected[field("metadata").word] = 0xffffffff;
    expect([...wc]).toEqual([...expected]);
    // With the right datapath every stage is examined.
    key[field("metadata").word] = 1;
    wc.fill(0);
    expect(c.lookup(key, wc)).toBeDefined();
    expect([...wc]).toEqual([...m.mask]);
  });
});

/** A rule matching `name == value` (plus more fields), for hand-built cases. */
function rule(id: number, priority: number, ...fields: [string, number][]): TestRule {
  const m = catchAll();
  for (const [n, v] of fields) constrainField(m, field(n), v, 0xffffffff);
  return { id, priority, match: m };
}

function keyOf(...fields: [string, number][]): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  for (const [n, v] of fields) constrainField({ value: k, mask: new Uint32Array(KEY_WORDS) }, field(n), v, 0xffffffff);
  return k;
}

describe("priorities, ties and counters", () => {
  it("stops probing once no remaining subtable can beat the best match", () => {
    const hi = rule(1, 30, ["reg14", 1]);
    const mid = rule(2, 20, ["reg15", 2]);
    const lo = rule(3, 10, ["metadata", 3]);
    const c = Classifier.from([lo, mid, hi]);
    expect(c.describe().map((s) => s.maxPriority)).toEqual([30, 20, 10]);
    expect(c.lookup(keyOf(["reg14", 1], ["reg15", 2], ["metadata", 3]))).toBe(hi);
    expect(c.lastProbes).toBe(1);
    expect(c.lookup(keyOf(["metadata", 3]))).toBe(lo);
    expect(c.lastProbes).toBe(3);
    expect(c.lookup(keyOf(["reg15", 2], ["metadata", 3]))).toBe(mid);
    expect(c.lastProbes).toBe(2);
    expect(c.stats()).toEqual({ rules: 3, subtables: 3, lookups: 3, probes: 6, avgProbes: 2 });
    c.resetStats();
    expect(c.stats().lookups).toBe(0);
  });

  it("breaks priority ties by insertion order, across and within subtables", () => {
    const a = rule(1, 5, ["reg14", 1]);
    const b = rule(2, 5, ["reg15", 2]);
    const b2 = rule(3, 5, ["reg15", 2]);
    const c = new Classifier<TestRule>({ rankInterval: 0 });
    c.insert(b);
    c.insert(a);
    c.insert(b2);
    const both = keyOf(["reg14", 1], ["reg15", 2]);
    expect(c.lookup(both)).toBe(b);
    c.remove(b);
    // a was inserted before b2.
    expect(c.lookup(both)).toBe(a);
    c.insert(b);
    expect(c.lookup(both)).toBe(a);
    c.remove(a);
    expect(c.lookup(both)).toBe(b2);
    expect(LinearClassifier.from(c.rules()).lookup(both)).toBe(b2);
  });

  it("skips an equal-priority subtable only when it holds no earlier rule", () => {
    const first = rule(1, 5, ["reg14", 1]);
    const second = rule(2, 5, ["reg15", 2]);
    const c = new Classifier<TestRule>({ rankInterval: 0 });
    c.insert(first);
    c.insert(second);
    // first's subtable is probed first (same priority, placed first): second's is skipped.
    expect(c.lookup(keyOf(["reg14", 1], ["reg15", 2]))).toBe(first);
    expect(c.lastProbes).toBe(1);
    // Rank second's subtable first: now both must be probed to honour the tie-break.
    for (let i = 0; i < 5; i++) c.lookup(keyOf(["reg15", 2]));
    c.rerank();
    expect(c.describe()[0]!.mask[field("reg15").word]).toBe(0xffffffff);
    expect(c.lookup(keyOf(["reg14", 1], ["reg15", 2]))).toBe(first);
    expect(c.lastProbes).toBe(2);
  });

  it("ranks equal-priority subtables by hits, never across priorities, and halves hits", () => {
    const top = rule(1, 100, ["metadata", 9]);
    const s1 = rule(2, 10, ["reg14", 1]);
    const s2 = rule(3, 10, ["reg15", 1]);
    const s3 = rule(4, 10, ["reg13", 1]);
    const c = new Classifier<TestRule>({ rankInterval: 100 });
    for (const r of [s1, s2, s3, top]) c.insert(r);
    const idOf = (info: { mask: Uint32Array }) => [s1, s2, s3, top].find((r) => r.match.mask.every((w, i) => w === info.mask[i]))!.id;
    expect(c.describe().map(idOf)).toEqual([top.id, s1.id, s2.id, s3.id]);
    // 60 lookups hit s3, 40 hit s2: at the 100th lookup the ranking refreshes.
    for (let i = 0; i < 60; i++) c.lookup(keyOf(["reg13", 1]));
    for (let i = 0; i < 40; i++) c.lookup(keyOf(["reg15", 1]));
    const info = c.describe();
    expect(info.map(idOf)).toEqual([top.id, s3.id, s2.id, s1.id]);
    expect(info.map((s) => s.hits)).toEqual([0, 30, 20, 0]);
    // Ranking never changes the answer.
    expect(c.lookup(keyOf(["reg14", 1], ["reg15", 1], ["reg13", 1]))).toBe(s1);
  });

  it("keeps the highest priority right when the top rule of a subtable goes", () => {
    const r1 = rule(1, 50, ["reg14", 1]);
    const r2 = rule(2, 40, ["reg14", 2]);
    const other = rule(3, 45, ["reg15", 1]);
    const c = Classifier.from([r1, r2, other]);
    expect(c.describe().map((s) => s.maxPriority)).toEqual([50, 45]);
    c.remove(r1);
    expect(c.describe().map((s) => s.maxPriority)).toEqual([45, 40]);
    expect(c.lookup(keyOf(["reg14", 2], ["reg15", 1]))).toBe(other);
  });

  it("refuses duplicates and unknown rules", () => {
    const r = rule(1, 1, ["reg0", 1]);
    const c = new Classifier<TestRule>();
    expect(c.insert(r)).toBe(true);
    expect(c.insert(r)).toBe(false);
    expect(c.size).toBe(1);
    expect(c.remove(rule(2, 1, ["reg0", 1]))).toBe(false);
    expect(c.remove(rule(3, 1, ["reg1", 1]))).toBe(false);
    expect(c.size).toBe(1);
  });

  it("a catch-all rule matches everything and examines nothing", () => {
    const any = { id: 1, priority: 0, match: catchAll() };
    const c = Classifier.from([any]);
    const wc = new Uint32Array(KEY_WORDS);
    const key = keyOf(["reg0", 7]);
    expect(c.lookup(key, wc)).toBe(any);
    expect(wc.every((w) => w === 0)).toBe(true);
    expect(matchesKey(any.match, key)).toBe(true);
  });
});

describe("with compiled ofp rules", () => {
  it("classifies a table's rules by default type, first-listed winning ties", () => {
    const mk = (id: number, priority: number, f: [string, number][]) => {
      const m = catchAll();
      for (const [n, v] of f) constrainField(m, field(n), v, 0xffffffff);
      return makeOfpRule({ id, table: 4, priority, match: m, actions: [next()], provenance: { source: "test", stage: "ls_in_acl" } });
    };
    const table = makeTable({ id: 4, name: "ls_in_acl", rules: [mk(1, 1001, [["reg14", 1]]), mk(2, 1001, [["reg15", 2]]), mk(3, 0, [])] });
    const c: Classifier = Classifier.from(table.rules);
    const hit: Rule | undefined = c.lookup(keyOf(["reg14", 1], ["reg15", 2]));
    expect(hit?.id).toBe(1);
    expect(c.lookup(keyOf(["reg15", 2]))?.id).toBe(2);
    expect(c.lookup(keyOf())?.id).toBe(3);
    expect(LinearClassifier.from(table.rules).lookup(keyOf(["reg14", 1], ["reg15", 2]))?.id).toBe(1);
  });
});
