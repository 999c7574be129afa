/**
 * Timestamp conversion against an obviously correct BigInt twin, for random 64-bit counts and
 * every resolution class (decimal up to ns, binary up to 2^-32, and the BigInt fallback).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Timebase, splitUnits } from "./timestamp.js";

function reference(hi: number, lo: number, tsresol: number, offset: number): [number, number] {
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const n = BigInt(tsresol & 0x7f);
  const per = (tsresol & 0x80) !== 0 ? 1n << n : 10n ** n;
  return [Number(units / per) + offset, Number(((units % per) * 1_000_000_000n) / per)];
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const resol = fc.oneof(
  fc.integer({ min: 0, max: 9 }),
  fc.integer({ min: 0, max: 32 }).map((n) => 0x80 | n),
  fc.integer({ min: 10, max: 30 }),
  fc.integer({ min: 33, max: 80 }).map((n) => 0x80 | n),
);

describe("Timebase.toEpoch", () => {
  it("equals the BigInt reference for random counts and resolutions", () => {
    fc.assert(
      fc.property(u32, u32, resol, fc.integer({ min: -1_000_000, max: 1_000_000 }), (hi, lo, r, off) => {
        const [sec, nsec] = reference(hi, lo, r, off);
        // Seconds of 2^53 and more cannot be exact as numbers (and never occur in real files).
        fc.pre(Math.abs(sec) < 2 ** 53);
        const out = { tsSec: -1, tsNsec: -1 };
        new Timebase(r, off).toEpoch(hi, lo, out);
        expect(out.tsSec).toBe(sec);
        expect(out.tsNsec).toBe(nsec);
      }),
      { numRuns: 5000 },
    );
  });

  it("handles the edges of each fast path", () => {
    const cases: [number, number, number][] = [
      [0xffffffff, 0xffffffff, 6],
      [0xffffffff, 0xffffffff, 9],
      [0xffffffff, 0xffffffff, 0x80 | 32],
      [0, 0xffffffff, 0x80 | 31],
      [1, 0, 0x80 | 0],
      [0, 999_999_999, 9],
      [0x17, 0x2d9bb9d5, 9],
    ];
    for (const [hi, lo, r] of cases) {
      const out = { tsSec: 0, tsNsec: 0 };
      new Timebase(r).toEpoch(hi, lo, out);
      expect([out.tsSec, out.tsNsec]).toEqual(reference(hi, lo, r, 0));
    }
  });
});

describe("splitUnits", () => {
  it("equals sec * 10^d + floor(nsec / 10^(9-d)) split into words", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 37 - 1 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 9 }), (sec, nsec, d) => {
        const out = { hi: -1, lo: -1 };
        splitUnits(sec, nsec, d, out);
        const units = BigInt(sec) * 10n ** BigInt(d) + BigInt(nsec) / 10n ** BigInt(9 - d);
        expect(out.hi).toBe(Number(units >> 32n));
        expect(out.lo).toBe(Number(units & 0xffffffffn));
      }),
      { numRuns: 5000 },
    );
  });

  it("round-trips through Timebase for us and ns", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(6, 9), (sec, nsec, d) => {
        const w = { hi: 0, lo: 0 };
        splitUnits(sec, nsec, d, w);
        const out = { tsSec: 0, tsNsec: 0 };
        new Timebase(d).toEpoch(w.hi, w.lo, out);
        expect(out.tsSec).toBe(sec);
        expect(out.tsNsec).toBe(d === 9 ? nsec : Math.floor(nsec / 1000) * 1000);
      }),
    );
  });
});
