/**
 * The open-addressing hash index against a plain model (a list of (hash, value) pairs), with hashes
 * drawn from a tiny range so probe runs collide, wrap around the table end and get shifted back on
 * removal.
 */
import { describe, expect, it } from "vitest";
import { HashIndex } from "../../src/classifier/index.js";
import { prng } from "./acl-rules.js";

function entriesFor(ix: HashIndex, hash: number): number[] {
  const out: number[] = [];
  for (let s = ix.first(hash); s >= 0; s = ix.nextSlot(s, hash)) out.push(ix.vals[s]!);
  return out.sort((a, b) => a - b);
}

describe("HashIndex", () => {
  it.each([1, 2, 3, 4])("matches a list model under random inserts and removes (seed %i)", (seed) => {
    const rand = prng(seed);
    const ix = new HashIndex();
    let model: [number, number][] = [];
    // Hashes near the top of the u32 range and near 0, so home slots cluster at both table ends.
    const hashOf = () => (rand() % 2 ? rand() % 24 : (0xffffffff - (rand() % 24)) >>> 0);
    for (let step = 0; step < 20_000; step++) {
      if (rand() % 3 !== 0 || model.length === 0) {
        const h = hashOf();
        const v = rand() % 1000;
        ix.insert(h, v);
        model.push([h, v]);
      } else {
        const [h, v] = model[rand() % model.length]!;
        expect(ix.remove(h, v)).toBe(true);
        const i = model.findIndex(([a, b]) => a === h && b === v);
        model.splice(i, 1);
      }
      if (step % 97 === 0) {
        expect(ix.size).toBe(model.length);
        for (let k = 0; k < 6; k++) {
          const h = hashOf();
          const want = model.filter(([a]) => a === h).map(([, b]) => b).sort((a, b) => a - b);
          expect(entriesFor(ix, h)).toEqual(want);
        }
      }
      if (model.length > 300) model = drain(ix, model, rand);
    }
    expect(ix.remove(12345, 1)).toBe(false);
  });

  it("keeps counts per hash", () => {
    const ix = new HashIndex();
    ix.addCount(7);
    ix.addCount(7);
    ix.addCount(7 + 8);
    expect(ix.vals[ix.first(7)]).toBe(2);
    ix.subCount(7);
    expect(ix.vals[ix.first(7)]).toBe(1);
    ix.subCount(7);
    expect(ix.first(7)).toBe(-1);
    expect(ix.vals[ix.first(15)]).toBe(1);
    expect(() => ix.subCount(7)).toThrow();
  });
});

function drain(ix: HashIndex, model: [number, number][], rand: () => number): [number, number][] {
  while (model.length > 50) {
    const [h, v] = model.splice(rand() % model.length, 1)[0]!;
    expect(ix.remove(h, v)).toBe(true);
  }
  return model;
}
