import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closestNames, editDistance, unknownNameHint } from "./suggest.js";

/** The optimal string alignment distance by its definition, memoised recursion, no early exit. */
function slowDistance(a: string, b: string): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let v = Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d(i - 2, j - 2) + 1);
    memo.set(k, v);
    return v;
  };
  return d(a.length, b.length);
}

describe("editDistance", () => {
  it("agrees with the definition, capped at limit + 1", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "-", "."), maxLength: 9 });
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, limit) => {
        expect(editDistance(a, b, limit)).toBe(Math.min(slowDistance(a, b), limit + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it("counts a swap of neighbours as one edit", () => {
    expect(editDistance("web-1", "wbe-1", 3)).toBe(1);
    expect(editDistance("ovn-defualt", "ovn-default", 3)).toBe(1);
  });
});

describe("closestNames", () => {
  const pods = ["web-1.default", "web-2.default", "db-0.default", "client.shop", "Web-1.default"];
  it("finds typos and names given without their suffix, closest first", () => {
    expect(closestNames("web-9.default", pods)).toEqual(["web-1.default", "web-2.default", "Web-1.default"]);
    expect(closestNames("db-0", pods)).toEqual(["db-0.default"]);
    expect(closestNames("clinet.shop", pods)).toEqual(["client.shop"]);
    expect(closestNames("web-9", pods)).toEqual(["web-1.default", "web-2.default", "Web-1.default"]);
    expect(closestNames("clinet", pods)).toEqual(["client.shop"]);
  });
  it("ignores case, but never offers the name itself", () => {
    expect(closestNames("WEB-1.DEFAULT", ["web-1.default"])).toEqual(["web-1.default"]);
    expect(closestNames("web-1.default", ["web-1.default"])).toEqual([]);
  });
  it("offers nothing that is far off", () => {
    expect(closestNames("frontend", pods)).toEqual([]);
    expect(closestNames("ab", ["xy", "abcd"])).toEqual([]);
    expect(closestNames("b", ["a"])).toEqual([]);
    expect(closestNames("pod/default/pod-snt", ["pod/default/pod-eip", "pod/default/pod-snat"])).toEqual(["pod/default/pod-snat"]);
  });
});

describe("unknownNameHint", () => {
  it("says did you mean, else lists what there is", () => {
    expect(unknownNameHint("ovn-defualt", ["join", "ovn-default"], "datapaths")).toBe("did you mean ovn-default?");
    expect(unknownNameHint("web-9.default", ["web-1.default", "web-2.default"], "ports")).toBe("did you mean web-1.default or web-2.default?");
    expect(unknownNameHint("zz", ["a1", "b2", "c3"], "ports", 2)).toBe("ports: a1, b2, ... (3 in all)");
    expect(unknownNameHint("zz", [], "ports")).toBe("there are no ports");
  });
});
