/**
 * The action interpreter's number-only reads and writes against bit-by-bit twins:
 * `writeSmall` (a range that sits in one key word: of a one-word field, or of a wide one such as
 * a register inside `xxreg0`) and `writeWholeWide` (all of a field of several words) must leave
 * every word of the key as a bit-at-a-time write does, and `readSmall` read what a bit-at-a-time
 * read reads, for every field of the layout, random keys, ranges and values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIELDS, KEY_WORDS } from "../../src/flow/index.js";
import { inOneWord, readSmall, wordsToBig, writeSmall, writeWholeWide } from "../../src/dataplane/key-bits.js";
import type { FieldDef } from "../../src/flow/index.js";

/** Where bit `i` of `d` lives, from the layout's rule alone: [word, bit]. */
function bitAt(d: FieldDef, i: number): [number, number] {
  return d.nwords === 1 ? [d.word, d.shift + i] : [d.word + d.nwords - 1 - Math.floor(i / 32), i % 32];
}

/** The slow twins: one bit at a time. */
function slowWrite(key: Uint32Array, d: FieldDef, ofs: number, nbits: number, v: bigint): void {
  for (let i = 0; i < nbits; i++) {
    const [w, b] = bitAt(d, ofs + i);
    key[w] = ((v >> BigInt(i)) & 1n) === 1n ? (key[w]! | (1 << b)) >>> 0 : (key[w]! & ~(1 << b)) >>> 0;
  }
}
function slowRead(key: Uint32Array, d: FieldDef, ofs: number, nbits: number): bigint {
  let v = 0n;
  for (let i = nbits - 1; i >= 0; i--) {
    const [w, b] = bitAt(d, ofs + i);
    v = (v << 1n) | BigInt((key[w]! >>> b) & 1);
  }
  return v;
}

const fields = [...FIELDS.values()];
const narrow = fields.filter((d) => d.nwords === 1);
const wide = fields.filter((d) => d.nwords > 1);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const anyKey = fc.array(u32, { minLength: KEY_WORDS, maxLength: KEY_WORDS }).map((ws) => Uint32Array.from(ws));

describe("key-bits: number-only writes", () => {
  it("the layout has fields of both kinds", () => {
    expect(narrow.length).toBeGreaterThan(10);
    expect(wide.map((d) => d.name)).toEqual(expect.arrayContaining(["eth_src", "eth_dst", "ipv6_src"]));
  });

  it("writeSmall writes what a bit-at-a-time write writes, and readSmall reads it back", () => {
    // Ranges that sit in one word: of a one-word field, or inside one word of a wide field.
    const room = (d: FieldDef, ofs: number): number => (d.nwords === 1 ? d.width - ofs : Math.min(32 - (ofs % 32), d.width - ofs));
    const range = fc.constantFrom(...fields).chain((d) =>
      fc.integer({ min: 0, max: d.width - 1 }).chain((ofs) => fc.record({ d: fc.constant(d), ofs: fc.constant(ofs), nbits: fc.integer({ min: 1, max: room(d, ofs) }) })),
    );
    fc.assert(
      fc.property(anyKey, range, u32, (key, { d, ofs, nbits }, v) => {
        const a = Uint32Array.from(key);
        const b = Uint32Array.from(key);
        expect(inOneWord(d, ofs, nbits)).toBe(true);
        writeSmall(a, d, ofs, nbits, v);
        slowWrite(b, d, ofs, nbits, BigInt(v));
        expect(a).toEqual(b);
        expect(BigInt(readSmall(a, d, ofs, nbits))).toBe(slowRead(a, d, ofs, nbits));
        expect(BigInt(readSmall(key, d, ofs, nbits))).toBe(slowRead(key, d, ofs, nbits));
      }),
      { numRuns: 2000 },
    );
  });

  it("a range across a word boundary of a wide field is not in one word", () => {
    for (const d of wide) expect(inOneWord(d, 31, 2)).toBe(false);
    for (const d of narrow) expect(inOneWord(d, 0, d.width)).toBe(true);
  });

  it("writeWholeWide writes what a bit-at-a-time write writes for the whole field", () => {
    const value = fc.constantFrom(...wide).chain((d) => fc.record({ d: fc.constant(d), words: fc.array(u32, { minLength: d.nwords, maxLength: d.nwords }) }));
    fc.assert(
      fc.property(anyKey, value, (key, { d, words }) => {
        const a = Uint32Array.from(key);
        const b = Uint32Array.from(key);
        writeWholeWide(a, d, words);
        slowWrite(b, d, 0, d.width, wordsToBig(words));
        expect(a).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });
});
