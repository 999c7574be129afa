/**
 * Hashing of 32-bit words, for hash tables keyed by flow keys and masks.
 *
 * The mixing function is the 32-bit finalizer of MurmurHash3 applied word by word, which is what
 * OVS's `hash_add`/`hash_finish` amount to. Everything is 32-bit arithmetic with `Math.imul`.
 *
 * Results are signed 32-bit integers (`| 0`), not unsigned: Node's V8 keeps those as small
 * integers, whereas an unsigned value above 2^31 returned from a call that is not inlined becomes
 * a heap number, an allocation per call on a hot path. Take a bucket index with `hash & mask`.
 */

/** Adds one 32-bit word to a running hash. */
export function hashAdd(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Finishes a running hash; `nBytes` is the number of bytes that were added. */
export function hashFinish(hash: number, nBytes: number): number {
  return mix32(hash ^ nBytes);
}

/**
 * MurmurHash3's 32-bit finalizer: every output bit depends on every input bit. Finishes hashes
 * built some other way (sums of per-word products, say).
 */
export function mix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hashes `words[from..to)` with `basis`. */
export function hashWords(words: Uint32Array, from: number, to: number, basis: number): number {
  let h = basis | 0;
  for (let i = from; i < to; i++) h = hashAdd(h, words[i]!);
  return hashFinish(h, (to - from) * 4);
}

/** Hashes `words[i] & mask[i]` over `[from, to)` with `basis`. */
export function hashMaskedWords(words: Uint32Array, mask: Uint32Array, from: number, to: number, basis: number): number {
  let h = basis | 0;
  for (let i = from; i < to; i++) h = hashAdd(h, words[i]! & mask[i]!);
  return hashFinish(h, (to - from) * 4);
}
