/**
 * A match: a value and a mask over the flow key layout.
 *
 * A key `k` matches `(value, mask)` when `(k[i] & mask[i]) === value[i]` for every word `i`. The
 * value is kept normalized (`value[i] & ~mask[i] === 0`), so two matches are equal exactly when
 * their words are equal. This is the common currency of the expression compiler (`expr/`), the
 * compiled rules (`ofp/`) and the classifier.
 */
import { KEY_WORDS, type FieldDef } from "./layout.js";

export interface Match {
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
}

/** The match-everything match (all-zero mask). */
export function catchAll(): Match {
  return { value: new Uint32Array(KEY_WORDS), mask: new Uint32Array(KEY_WORDS) };
}

/** True when `key` matches `m`. */
export function matchesKey(m: Match, key: Uint32Array): boolean {
  const v = m.value;
  const mk = m.mask;
  for (let i = 0; i < KEY_WORDS; i++) if (((key[i]! & mk[i]!) ^ v[i]!) !== 0) return false;
  return true;
}

/**
 * The conjunction of two matches, or undefined when they contradict (some bit is required to be
 * both 0 and 1).
 */
export function intersect(a: Match, b: Match): Match | undefined {
  const value = new Uint32Array(KEY_WORDS);
  const mask = new Uint32Array(KEY_WORDS);
  for (let i = 0; i < KEY_WORDS; i++) {
    const both = a.mask[i]! & b.mask[i]!;
    if (((a.value[i]! ^ b.value[i]!) & both) !== 0) return undefined;
    mask[i] = (a.mask[i]! | b.mask[i]!) >>> 0;
    value[i] = (a.value[i]! | b.value[i]!) >>> 0;
  }
  return { value, mask };
}

/** Word-wise equality of two matches. */
export function matchEquals(a: Match, b: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a.mask[i] !== b.mask[i] || a.value[i] !== b.value[i]) return false;
  return true;
}

/**
 * Constrains field `d` to `value` under `mask` (both given in the field's own bit positions,
 * i.e. not shifted). Wide fields take `words`, most significant first. Returns false when the
 * constraint contradicts one already in `m` (the match is then left partly updated: callers
 * discard it).
 */
export function constrainField(m: Match, d: FieldDef, value: number, mask: number): boolean {
  const shiftedMask = d.width === 32 ? mask >>> 0 : ((mask & ((1 << d.width) - 1)) << d.shift) >>> 0;
  const shiftedValue = (((value << (d.width === 32 ? 0 : d.shift)) >>> 0) & shiftedMask) >>> 0;
  const mv = m.value as Uint32Array;
  const mm = m.mask as Uint32Array;
  const both = mm[d.word]! & shiftedMask;
  if (((mv[d.word]! ^ shiftedValue) & both) !== 0) return false;
  mm[d.word] = (mm[d.word]! | shiftedMask) >>> 0;
  mv[d.word] = (mv[d.word]! | shiftedValue) >>> 0;
  return true;
}

/** Like `constrainField` for a field of any width: `value` and `mask` are word arrays, most significant first. */
export function constrainWide(m: Match, d: FieldDef, value: readonly number[], mask: readonly number[]): boolean {
  if (d.nwords === 1) return constrainField(m, d, value[0] ?? 0, mask[0] ?? 0);
  const mv = m.value as Uint32Array;
  const mm = m.mask as Uint32Array;
  for (let i = 0; i < d.nwords; i++) {
    const w = d.word + i;
    const mk = (mask[i] ?? 0) >>> 0;
    const v = ((value[i] ?? 0) & mk) >>> 0;
    if (((mv[w]! ^ v) & mm[w]! & mk) !== 0) return false;
    mm[w] = (mm[w]! | mk) >>> 0;
    mv[w] = (mv[w]! | v) >>> 0;
  }
  return true;
}
