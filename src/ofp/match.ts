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

/** A fresh copy of `m` with its value normalized under its mask. */
export function copyMatch(m: Match): Match {
  const value = new Uint32Array(KEY_WORDS);
  const mask = new Uint32Array(KEY_WORDS);
  for (let i = 0; i < KEY_WORDS; i++) {
    const mk = m.mask[i] ?? 0;
    mask[i] = mk;
    value[i] = ((m.value[i] ?? 0) & mk) >>> 0;
  }
  return { value, mask };
}
