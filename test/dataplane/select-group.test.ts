/**
 * The bucket table of a dp_hash select group (OVS's Webster method), and the quick path for equal
 * weights against it; when the table is too large, the default method's best-scoring bucket. Which bucket real OVS takes for real packets is the `select-groups` oracle's
 * (test/ovn/ovs-replay-more.test.ts).
 */
import { describe, expect, it } from "vitest";
import { bestBucket, dpHashBucket, dpHashFits, dpHashTable } from "../../src/dataplane/select-group.js";
import { hashInt } from "../../src/flow/index.js";

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

  it("the table holds at most 256 slots: 256 equal buckets fit, 257 do not, nor weights 1 and 300", () => {
    expect(dpHashFits(new Array<number>(256).fill(100))).toBe(true);
    expect(dpHashFits(new Array<number>(257).fill(100))).toBe(false);
    expect(dpHashFits([1, 255])).toBe(true);
    expect(dpHashFits([1, 300])).toBe(false);
    expect(dpHashFits([])).toBe(false);
  });

  it("the default method takes the bucket of the highest score, hash_int(id) times weight, the later on a tie", () => {
    for (let basis = 0; basis < 500; basis++) {
      const weights = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 50 : 100));
      const scores = weights.map((w, i) => (hashInt(i, basis) & 0xffff) * w);
      const top = Math.max(...scores);
      expect(bestBucket(weights, basis)).toBe(scores.lastIndexOf(top));
    }
    expect(bestBucket([], 1)).toBe(-1);
  });

  it("no buckets, or no weight: no bucket", () => {
    expect(dpHashBucket([], 5)).toBe(-1);
    expect(dpHashBucket([0, 0], 5)).toBe(-1);
  });
});
