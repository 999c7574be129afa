/**
 * `MatchCache` against its slow twin `compileMatch`: for many datapath contexts (port names and
 * keys, residency) sharing one set of address sets and port groups, every match text compiled
 * through one cache, in an interleaved order, gives exactly what a fresh `compileMatch` gives
 * (the matches, or the diagnostics with this call's file name). Contexts whose ports differ in
 * name but not in key share the cached result; contexts that differ in a key do not.
 */
import { describe, expect, it } from "vitest";
import { compileMatch, MatchCache, type NormalizeContext } from "../../src/expr/index.js";

const SETS: Record<string, string[]> = {
  as4: ["10.0.0.1", "10.0.0.0/30", "192.168.0.0/16", "bogus"],
  big: Array.from({ length: 40 }, (_, i) => `10.1.${i}.1`),
};
/** One port group across every datapath: each datapath knows only some of its members. */
const GROUPS: Record<string, string[]> = {
  pg: Array.from({ length: 6 }, (_, d) => [`d${d}-a`, `d${d}-b`]).flat(),
  empty: [],
};

const TEXTS = [
  "ip4 && tcp.dst == 80",
  "outport == @pg && ip4.src == $as4",
  "inport == @pg && ip4",
  "outport == @pg && ip4.src == $big && tcp.dst == 9000",
  'inport == "a" || outport == "b"',
  'inport != "a" && ip4',
  'outport == "ghost"',
  'is_chassis_resident("a") && eth.dst == 00:00:00:00:00:01',
  '!is_chassis_resident("b") && inport == @pg',
  "outport == @empty",
  "ip4.src == $nosuch",
  "tcp.dst > 1000 && tcp.dst <= 2000",
  "ip4.src ==",
  "nosuchfield == 1",
  "ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.1.1, 10.0.1.2} && tcp.dst == {1, 2, 3}",
];

/** Datapath `d`: ports `d{d}-a`, `d{d}-b`, "a", "b" with keys from `keys`; "a" is resident when `resident`. */
function datapath(d: number, keys: readonly number[], resident: boolean): NormalizeContext {
  const ports = new Map<string, number>([
    [`d${d}-a`, keys[0]!],
    [`d${d}-b`, keys[1]!],
    ["a", keys[2]!],
    ["b", keys[3]!],
  ]);
  return {
    portKey: (n) => ports.get(n),
    addressSet: (n) => SETS[n],
    portGroup: (n) => GROUPS[n],
    isChassisResident: (p) => resident && p === "a",
  };
}

describe("MatchCache", () => {
  it("gives what compileMatch gives, matches and diagnostics, over many contexts in any order", () => {
    const contexts = [
      datapath(0, [1, 2, 3, 4], true),
      datapath(1, [1, 2, 3, 4], true),
      datapath(2, [2, 1, 3, 4], false),
      datapath(3, [5, 6, 7, 8], true),
      datapath(4, [1, 2, 3, 4], false),
      datapath(5, [1, 9, 3, 4], true),
    ];
    const cache = new MatchCache();
    let compared = 0;
    for (let round = 0; round < 2; round++) {
      for (const [ti, text] of TEXTS.entries()) {
        for (const [ci, ctx] of contexts.entries()) {
          const opts = { file: `dp${ci} flow${ti} round${round}`, maxMatches: 50 };
          const want = compileMatch(text, ctx, opts);
          const got = cache.compile(text, ctx, opts);
          expect(got, `${text} in dp${ci}`).toEqual(want);
          compared++;
        }
      }
    }
    expect(compared).toBe(TEXTS.length * contexts.length * 2);
  });

  it("shares one result between datapaths whose ports have the same keys, not between others", () => {
    const cache = new MatchCache();
    const text = "outport == @pg && ip4.src == $as4";
    const r0 = cache.compile(text, datapath(0, [1, 2, 3, 4], true));
    const r1 = cache.compile(text, datapath(1, [1, 2, 3, 4], true));
    const r2 = cache.compile(text, datapath(2, [2, 1, 3, 4], true));
    expect(r0.ok && r1.ok && r2.ok).toBe(true);
    if (!r0.ok || !r1.ok || !r2.ok) return;
    expect(r1.value).toBe(r0.value);
    expect(r2.value).not.toBe(r0.value);
    // Swapping the two members' keys gives the same set of matches (the group is a disjunction).
    expect(r2.value).toEqual(r0.value);
    const r3 = cache.compile(text, datapath(3, [5, 6, 7, 8], true));
    expect(r3.ok && r3.value).not.toEqual(r0.value);
  });

  it("a bound exceeded is reported for the flow at hand, not from a cached earlier flow", () => {
    const cache = new MatchCache();
    const text = "outport == @pg && ip4.src == $big";
    const ctx = datapath(0, [1, 2, 3, 4], true);
    const first = cache.compile(text, ctx, { file: "first", maxMatches: 10 });
    const second = cache.compile(text, ctx, { file: "second", maxMatches: 10 });
    expect(first.ok || second.ok).toBe(false);
    if (first.ok || second.ok) return;
    expect(first.diags[0]!.code).toBe("expr.too-many-matches");
    expect(second.diags[0]!.loc?.file).toBe("second");
  });
});
