/**
 * Reading and writing fields and bit ranges of a flow key, for the action interpreter, and marking
 * a whole field in a megaflow's wildcard mask (`unwildcard`).
 *
 * Bit `i` of a field (counted from its least significant bit) lives, for a field of at most 32
 * bits, at bit `shift + i` of its word; for a wide field at bit `i mod 32` of word
 * `word + nwords - 1 - floor(i / 32)` (the layout puts the most significant word first). Values
 * travel as bigints only for ranges that cross a word boundary; a range inside one key word (any
 * register, which is a range of `xxreg0`..`xxreg3` here) is read and written as a number.
 */
import { fieldWordMask, type FieldDef } from "../flow/index.js";

/** Where bit `i` of field `d` lives: [word index, bit in word]. */
function bitPos(d: FieldDef, i: number): [number, number] {
  if (d.nwords === 1) return [d.word, d.shift + i];
  return [d.word + d.nwords - 1 - Math.floor(i / 32), i % 32];
}

/** True when bits `ofs .. ofs+nbits-1` of field `d` sit in one word of the key (a register of `xxreg0`, say). */
export function inOneWord(d: FieldDef, ofs: number, nbits: number): boolean {
  return d.nwords === 1 ? nbits <= 32 : (ofs & 31) + nbits <= 32;
}

/** Reads bits `ofs .. ofs+nbits-1` of field `d` as a bigint. */
export function readBits(key: Uint32Array, d: FieldDef, ofs: number, nbits: number): bigint {
  if (inOneWord(d, ofs, nbits)) return BigInt(readSmall(key, d, ofs, nbits));
  let v = 0n;
  for (let i = nbits - 1; i >= 0; i--) {
    const [w, b] = bitPos(d, ofs + i);
    v = (v << 1n) | BigInt((key[w]! >>> b) & 1);
  }
  return v;
}

/** Reads bits `ofs .. ofs+nbits-1` of field `d`, which sit in one word (`inOneWord`), as an unsigned number. */
export function readSmall(key: Uint32Array, d: FieldDef, ofs: number, nbits: number): number {
  const one = d.nwords === 1;
  const v = key[one ? d.word : d.word + d.nwords - 1 - (ofs >>> 5)]! >>> (one ? d.shift + ofs : ofs & 31);
  return nbits >= 32 ? v >>> 0 : (v & ((2 ** nbits - 1) >>> 0)) >>> 0;
}

/** Writes the low `nbits` bits of `v` into bits `ofs .. ofs+nbits-1` of field `d`. */
export function writeBits(key: Uint32Array, d: FieldDef, ofs: number, nbits: number, v: bigint): void {
  if (inOneWord(d, ofs, nbits)) {
    writeSmall(key, d, ofs, nbits, Number(BigInt.asUintN(32, v)));
    return;
  }
  for (let i = 0; i < nbits; i++) {
    const [w, b] = bitPos(d, ofs + i);
    const bit = Number((v >> BigInt(i)) & 1n);
    key[w] = bit ? (key[w]! | (1 << b)) >>> 0 : (key[w]! & ~(1 << b)) >>> 0;
  }
}

/** Writes the low `nbits` bits of number `v` into bits `ofs .. ofs+nbits-1` of field `d`, which sit in one word (`inOneWord`). */
export function writeSmall(key: Uint32Array, d: FieldDef, ofs: number, nbits: number, v: number): void {
  const one = d.nwords === 1;
  const w = one ? d.word : d.word + d.nwords - 1 - (ofs >>> 5);
  const pos = one ? d.shift + ofs : ofs & 31;
  const m = nbits >= 32 ? 0xffffffff : (2 ** nbits - 1) >>> 0;
  const wm = (m << pos) >>> 0;
  key[w] = ((key[w]! & ~wm) | ((v << pos) & wm)) >>> 0;
}

/**
 * Writes all of wide field `d` (more than one word) from `words`, right-aligned and most
 * significant first as the key holds it; bits of the first word above the field's are kept.
 */
export function writeWholeWide(key: Uint32Array, d: FieldDef, words: readonly number[]): void {
  const top = d.width % 32;
  const m = top === 0 ? 0xffffffff : (2 ** top - 1) >>> 0;
  key[d.word] = ((key[d.word]! & ~m) | (words[0]! & m)) >>> 0;
  for (let i = 1; i < d.nwords; i++) key[d.word + i] = words[i]! >>> 0;
}

/** Right-aligned words (most significant first) as a bigint. */
export function wordsToBig(words: readonly number[]): bigint {
  let v = 0n;
  for (const w of words) v = (v << 32n) | BigInt(w >>> 0);
  return v;
}

/** The whole field as words, most significant first (`field.nwords` words, right-aligned). */
export function readFieldWords(key: Uint32Array, d: FieldDef): number[] {
  if (d.nwords === 1) return [readSmall(key, d, 0, d.width)];
  const out: number[] = [];
  for (let i = 0; i < d.nwords; i++) out.push(key[d.word + i]!);
  return out;
}

/** Writes `value` under `mask` (both in the field's own bit positions, `d.nwords` words). */
export function setFieldMasked(key: Uint32Array, d: FieldDef, value: readonly number[], mask: readonly number[]): void {
  if (d.nwords === 1) {
    const fm = d.width >= 32 ? 0xffffffff : (2 ** d.width - 1) >>> 0;
    const m = (((mask[0] ?? 0) & fm) << d.shift) >>> 0;
    const v = (((value[0] ?? 0) << d.shift) >>> 0) & m;
    key[d.word] = ((key[d.word]! & ~m) | v) >>> 0;
    return;
  }
  for (let i = 0; i < d.nwords; i++) {
    const m = (mask[i] ?? 0) >>> 0;
    key[d.word + i] = ((key[d.word + i]! & ~m) | ((value[i] ?? 0) & m)) >>> 0;
  }
}

/** ORs field `d` (all of it) into the wildcard mask `wc`. */
export function unwildcard(wc: Uint32Array, d: FieldDef): void {
  if (d.nwords === 1) wc[d.word] = (wc[d.word]! | fieldWordMask(d)) >>> 0;
  else for (let i = 0; i < d.nwords; i++) wc[d.word + i] = 0xffffffff;
}
