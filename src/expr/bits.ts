/**
 * Bit helpers over `bigint`, for constants and masks of any width (OVN constants reach 1024 bits,
 * IPv6 addresses and `ct_label` are 128).
 *
 * All values are non-negative. Bit 0 is the least significant bit, as in OVN's subfield notation
 * (`ct_label[96..127]` is the top 32 bits of a 128-bit field). Nothing here is on a hot path.
 */

/** `n` one-bits: bits `[0, n)`. */
export function ones(n: number): bigint {
  return n <= 0 ? 0n : (1n << BigInt(n)) - 1n;
}

/** One-bits at `[ofs, ofs + n)`. */
export function bitRange(ofs: number, n: number): bigint {
  return ones(n) << BigInt(ofs);
}

/** Number of significant bits (0 for 0). */
export function bitWidth(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** True when bit `i` of `v` is set. */
export function testBit(v: bigint, i: number): boolean {
  return ((v >> BigInt(i)) & 1n) === 1n;
}

/** Big-endian bytes to a bigint. */
export function bytesToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** A bigint to `n` big-endian bytes (high bits beyond `8n` are dropped). */
export function bigintToBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A bigint to `nwords` 32-bit words, most significant first (the layout's order for wide fields). */
export function bigintToWords(v: bigint, nwords: number): number[] {
  const out = new Array<number>(nwords).fill(0);
  for (let i = nwords - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  return out;
}

/** 32-bit words, most significant first, to a bigint. */
export function wordsToBigint(words: ArrayLike<number>, from = 0, n = words.length - from): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 32n) | BigInt(words[from + i]! >>> 0);
  return v;
}

/**
 * When the one-bits of `mask` (within `[0, width)`) form a single contiguous run, returns its first
 * bit and length; otherwise `undefined`. A zero mask has no run.
 */
export function contiguousRun(mask: bigint, width: number): { ofs: number; n: number } | undefined {
  const m = mask & ones(width);
  if (m === 0n) return undefined;
  let ofs = 0;
  while (!testBit(m, ofs)) ofs++;
  const run = m >> BigInt(ofs);
  if ((run & (run + 1n)) !== 0n) return undefined;
  return { ofs, n: bitWidth(run) };
}

/** `0x...` in lowercase hex, or `0` for zero (the way OVS prints subfield values). */
export function formatHex(v: bigint): string {
  return v === 0n ? "0" : "0x" + v.toString(16);
}
