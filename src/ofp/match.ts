/**
 * The match of a compiled rule: the flow layer's `Match` (a value and a mask over the flow key),
 * re-exported so that users of `ofp` need not reach into `flow` for the type, plus the checks a
 * rule's match must pass.
 *
 * Invariant of a rule's match: both arrays have `KEY_WORDS` words and the value is normalized
 * (`value[i] & ~mask[i] === 0`), so equal matches have equal words.
 */
import { KEY_WORDS, type Match } from "../flow/index.js";

export type { Match } from "../flow/index.js";

/** True when `m` has the layout's length and a normalized value. */
export function isNormalizedMatch(m: Match): boolean {
  if (m.value.length !== KEY_WORDS || m.mask.length !== KEY_WORDS) return false;
  for (let i = 0; i < KEY_WORDS; i++) if ((m.value[i]! & ~m.mask[i]!) !== 0) return false;
  return true;
}

/** Matches per slab: the copies are views into shared buffers of this many matches. */
const SLAB_MATCHES = 128;
let slab: ArrayBuffer | undefined;
let slabUsed = SLAB_MATCHES;

/**
 * A fresh copy of `m` with its value normalized under its mask. Its arrays are views into a
 * buffer shared with other copies (one allocation per `SLAB_MATCHES` copies instead of two per
 * copy); the views never overlap.
 */
export function copyMatch(m: Match): Match {
  if (slab === undefined || slabUsed === SLAB_MATCHES) {
    slab = new ArrayBuffer(SLAB_MATCHES * KEY_WORDS * 8);
    slabUsed = 0;
  }
  const ofs = slabUsed++ * KEY_WORDS * 8;
  const value = new Uint32Array(slab, ofs, KEY_WORDS);
  const mask = new Uint32Array(slab, ofs + KEY_WORDS * 4, KEY_WORDS);
  for (let i = 0; i < KEY_WORDS; i++) {
    const mk = m.mask[i] ?? 0;
    mask[i] = mk;
    value[i] = ((m.value[i] ?? 0) & mk) >>> 0;
  }
  return { value, mask };
}
