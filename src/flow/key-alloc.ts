/**
 * Short-lived flow keys without a backing store of their own.
 *
 * What: `transientKey()` returns a zeroed key and `copyKey(k)` a copy of one, each a view of
 * `KEY_WORDS` words into a shared slab of `SLAB_KEYS` keys; a used-up slab is replaced by a fresh
 * one, and the garbage collector frees a slab once no view of it is reachable.
 *
 * Why: a `Uint32Array` of 74 words gets its own off-heap buffer, which costs several hundred
 * nanoseconds to make and more to collect; a view into a slab costs a fraction of that. The slow
 * path copies the key at every pipeline, output and deferred action.
 *
 * Invariant: a view keeps its whole slab alive, so keys that live long (a megaflow's masked key,
 * anything stored per connection) are allocated on their own, not here. Each slab region is handed
 * out once, so a new key is all zeros.
 */
import { KEY_WORDS } from "./layout.js";

const SLAB_KEYS = 256;

let slab = new ArrayBuffer(SLAB_KEYS * KEY_WORDS * 4);
let next = 0;

/** A zeroed key (a view into the current slab). */
export function transientKey(): Uint32Array {
  if (next === SLAB_KEYS) {
    slab = new ArrayBuffer(SLAB_KEYS * KEY_WORDS * 4);
    next = 0;
  }
  const at = next * KEY_WORDS * 4;
  next++;
  // The view is made from the buffer: `subarray` looks up the species constructor first, and
  // cost about 70 ns against 52 for this.
  return new Uint32Array(slab, at, KEY_WORDS);
}

/** A copy of `key` (its first `KEY_WORDS` words), as a view into the current slab. */
export function copyKey(key: Uint32Array): Uint32Array {
  const k = transientKey();
  k.set(key.length === KEY_WORDS ? key : key.subarray(0, KEY_WORDS));
  return k;
}
