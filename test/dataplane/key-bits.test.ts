/**
 * The action interpreter's number-only writes against the bigint ones they stand in for:
 * `writeSmall` (a range of at most 32 bits of a one-word field) and `writeWholeWide` (all of a
 * field of several words) must leave every word of the key as `writeBits` does, for every field of
 * the layout, random keys, ranges and values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIELDS, KEY_WORDS } from "../../src/flow/index.js";
import { readBits, readSmall, wordsToBig, writeBits, writeSmall, writeWholeWide } from "../../src/dataplane/key-bits.js";

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

  it("writeSmall writes what writeBits writes, and readSmall reads it back as readBits does", () => {
    const range = fc.constantFrom(...narrow).chain((d) =>
      fc.integer({ min: 0, max: d.width - 1 }).chain((ofs) => fc.record({ d: fc.constant(d), ofs: fc.constant(ofs), nbits: fc.integer({ min: 1, max: d.width - ofs }) })),
    );
    fc.assert(
      fc.property(anyKey, range, u32, (key, { d, ofs, nbits }, v) => {
        const a = Uint32Array.from(key);
        const b = Uint32Array.from(key);
        writeSmall(a, d, ofs, nbits, v);
        writeBits(b, d, ofs, nbits, BigInt(v));
        expect(a).toEqual(b);
        expect(BigInt(readSmall(a, d, ofs, nbits))).toBe(readBits(a, d, ofs, nbits));
      }),
      { numRuns: 2000 },
    );
  });

  it("writeWholeWide writes what writeBits writes for the whole field", () => {
    const value = fc.constantFrom(...wide).chain((d) => fc.record({ d: fc.constant(d), words: fc.array(u32, { minLength: d.nwords, maxLength: d.nwords }) }));
    fc.assert(
      fc.property(anyKey, value, (key, { d, words }) => {
        const a = Uint32Array.from(key);
        const b = Uint32Array.from(key);
        writeWholeWide(a, d, words);
        writeBits(b, d, 0, d.width, wordsToBig(words));
        expect(a).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });
});
