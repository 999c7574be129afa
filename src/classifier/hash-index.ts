/**
 * An open-addressing hash index from 32-bit hashes to small non-negative integers.
 *
 * What: the storage under every subtable. It maps a hash to one or more integer values (node
 * numbers, or counts); several entries may share a hash, and callers walk them with
 * `first`/`nextSlot` and compare the real keys themselves. It never hashes anything: callers bring
 * the hash.
 *
 * Design: linear probing over two typed arrays (`hashes`, `vals`), capacity a power of two, load
 * at most one half; removal shifts later entries of the probe run back (no tombstones), so a probe
 * stops at the first empty slot. Lookups allocate nothing; only growth allocates. Hashes are
 * stored as int32 (any u32 or int32 given is taken `| 0`), so they stay small integers for V8 and are
 * never boxed when they cross a call.
 *
 * Invariant: every stored entry is reachable from its home slot `hash & (capacity - 1)` without
 * crossing an empty slot.
 */

const EMPTY = -1;

export class HashIndex {
  /** Hash of the entry in each slot, as int32 (meaningless where `vals` is EMPTY). */
  hashes: Int32Array;
  /** Value of the entry in each slot, or EMPTY. */
  vals: Int32Array;
  private capMask: number;
  private count = 0;

  constructor(initialCapacity = 8) {
    let cap = 8;
    while (cap < initialCapacity * 2) cap *= 2;
    this.hashes = new Int32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.capMask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The first slot holding `hash`, or -1. */
  first(hash: number): number {
    const h = hash | 0;
    const vals = this.vals;
    const hashes = this.hashes;
    const m = this.capMask;
    for (let i = h & m; ; i = (i + 1) & m) {
      if (vals[i] === EMPTY) return -1;
      if (hashes[i] === h) return i;
    }
  }

  /** The next slot after `slot` holding `hash`, or -1. */
  nextSlot(slot: number, hash: number): number {
    const h = hash | 0;
    const vals = this.vals;
    const hashes = this.hashes;
    const m = this.capMask;
    for (let i = (slot + 1) & m; ; i = (i + 1) & m) {
      if (vals[i] === EMPTY) return -1;
      if (hashes[i] === h) return i;
    }
  }

  /** Adds an entry (duplicates allowed). `val` must be >= 0. */
  insert(hash: number, val: number): void {
    if ((this.count + 1) * 2 > this.vals.length) this.grow();
    this.place(hash | 0, val);
    this.count++;
  }

  /** Removes the entry (`hash`, `val`); false when there is none. */
  remove(hash: number, val: number): boolean {
    const h = hash | 0;
    for (let s = this.first(h); s >= 0; s = this.nextSlot(s, h)) {
      if (this.vals[s] === val) {
        this.removeSlot(s);
        return true;
      }
    }
    return false;
  }

  /** Adds one to the count stored under `hash` (a counting set with one entry per hash). */
  addCount(hash: number): void {
    const s = this.first(hash | 0);
    if (s >= 0) this.vals[s]!++;
    else this.insert(hash, 1);
  }

  /** Takes one from the count under `hash`, dropping the entry at zero. */
  subCount(hash: number): void {
    const s = this.first(hash | 0);
    if (s < 0) throw new Error("hash index: count below zero");
    if (--this.vals[s]! === 0) this.removeSlot(s);
  }

  /** Empties slot `s` and shifts the rest of its probe run back so no probe stops early. */
  removeSlot(s: number): void {
    const vals = this.vals;
    const hashes = this.hashes;
    const m = this.capMask;
    let hole = s;
    for (let j = (s + 1) & m; vals[j] !== EMPTY; j = (j + 1) & m) {
      const home = hashes[j]! & m;
      // The entry at j may move into the hole only if its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        vals[hole] = vals[j]!;
        hashes[hole] = hashes[j]!;
        hole = j;
      }
    }
    vals[hole] = EMPTY;
    this.count--;
  }

  private place(hash: number, val: number): void {
    const m = this.capMask;
    let i = hash & m;
    while (this.vals[i] !== EMPTY) i = (i + 1) & m;
    this.hashes[i] = hash;
    this.vals[i] = val;
  }

  private grow(): void {
    const oldH = this.hashes;
    const oldV = this.vals;
    const cap = oldV.length * 2;
    this.hashes = new Int32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.capMask = cap - 1;
    for (let i = 0; i < oldV.length; i++) if (oldV[i] !== EMPTY) this.place(oldH[i]!, oldV[i]!);
  }
}
