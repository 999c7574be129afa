/**
 * The bucket table of a dp_hash select group (OVS's Webster method), and the quick path for equal
 * weights against it. Which bucket real OVS takes for real packets is the `select-groups` oracle's
 * (test/ovn/ovs-replay-more.test.ts).
 */
import { describe, expect, it } from "vitest";
import { dpHashBucket, dpHashTable } from "../../src/dataplane/select-group.js";

describe("dp_hash select groups", () => {
  it("equal weights: the quick path is the table's bucket, for every group size up to 40", () => {
    for (let n = 1; n <= 40; n++) {
      const weights = new Array<number>(n).fill(100);
      const table = dpHashTable(weights);
      expect(table.length).toBe(Math.max(16, 2 ** Math.ceil(Math.log2(n))));
      for (let h = -300; h < 1200; h += 7) expect(dpHashBucket(weights, h), `n=${n} h=${h}`).toBe(table[h & (table.length - 1)]);
    }
  });

  it("unequal weights: slots in proportion to the weights, the table as large as the smallest weight needs", () => {
    for (const weights of [[100, 50], [1, 2, 3], [3, 1], [100, 100, 1], [7, 5, 3, 2], [10, 0, 10]]) {
      const table = dpHashTable(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      const min = Math.min(...weights.filter((w) => w > 0));
      expect(table.length).toBe(Math.max(16, 2 ** Math.ceil(Math.log2(Math.ceil(total / min)))));
      for (let b = 0; b < weights.length; b++) {
        const got = table.filter((x) => x === b).length;
        expect(Math.abs(got - (table.length * weights[b]!) / total), `${weights} bucket ${b}`).toBeLessThanOrEqual(1);
      }
      for (let h = 0; h < 64; h++) expect(dpHashBucket(weights, h)).toBe(table[h & (table.length - 1)]);
    }
  });

  it("Webster's order: ties go to the earlier bucket, and each slot to the highest remaining quotient", () => {
    // Weights 1 and 2: quotients 1 and 2, then 1 and 0.67, then 0.33 and 0.67, 0.33 and 0.4, ...
    expect([...dpHashTable([1, 2])].slice(0, 6)).toEqual([1, 0, 1, 1, 0, 1]);
    expect([...dpHashTable([5, 5, 5])].slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it("no buckets, or no weight: no bucket", () => {
    expect(dpHashBucket([], 5)).toBe(-1);
    expect(dpHashBucket([0, 0], 5)).toBe(-1);
  });
});
