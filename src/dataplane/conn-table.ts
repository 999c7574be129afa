/**
 * The index of the connection table: an open-addressing hash table from (zone, tuple) to the
 * connection it belongs to, over typed arrays, so a lookup compares words and never dereferences
 * an object until it has a hit.
 *
 * What
 * ----
 * A connection lives in a numbered slot `s` and has two entries: `2s`, its original direction,
 * and `2s + 1`, its reply direction. Each entry's zone and tuple are stored as `TUPLE_WORDS` words
 * (see "Tuple words") in one flat `Uint32Array`; the reply entry is always stored, and it is put in
 * the index only when the caller says it differs from the original one. `find()` looks up the
 * tuple words in `probe` and returns the matching entry, or -1. The table knows nothing of
 * conntrack rules: `conntrack.ts` decides what to look up, what to add and what to remove.
 *
 * Tuple words
 * -----------
 * Word 0 (`head`): zone in bits 16-31, an ICMP query's class in bits 10-12 (its family, and
 * whether the tuple's source sent the request; 0 for anything else), `HEAD_V6` for IPv6,
 * `HEAD_WIDE_V4` for an IPv4 tuple whose addresses do not fit in one word (only a NAT binding to
 * an address of the other family makes one: it can never equal a packet's tuple), protocol in
 * bits 0-7. Word 1: source port in bits 16-31, destination port in bits 0-15 (an ICMP query's
 * identifier in both; 0 for other protocols without ports). Then the addresses:
 * an ordinary IPv4 tuple has its source in word 2 and its destination in word 3 (words 4-9 are
 * left as they happen to be, and neither hashed nor compared); a wide tuple (`HEAD_V6` or
 * `HEAD_WIDE_V4`) has the source in words 2-5 and the destination in words 6-9, most significant
 * first.
 *
 * Invariants
 * ----------
 * - `slots` holds `cap` pairs [hash, entry]; entry `EMPTY` (-1) ends a probe sequence, `TOMB`
 *   (-2) is a removed entry that a probe steps over. Linear probing from `hash & mask`.
 * - The index is never more than half full counting tombstones (`used <= cap / 2`), so every probe
 *   meets an `EMPTY` slot. Before an insert that would break this, the index is rebuilt at a size
 *   fitted to the live entries (at most a quarter full), which also drops the tombstones.
 * - New entries go into the first `EMPTY` slot of their probe sequence, never into a tombstone, and
 *   a rebuild re-inserts entries in the order they were first inserted (oldest connection first,
 *   original before reply). So among entries with equal tuple words, `find()` returns the one
 *   inserted first, whatever removals and rebuilds happened in between.
 * - `age[0 .. ageLen)` lists the slots of the connections oldest first (in the order `add` was
 *   called), with -1 for removed ones; `agePos[s]` is slot `s`'s place in it. The holes are
 *   squeezed out once they are half of the list.
 * - Capacity grows with the number of connections (slots and index both double as needed); there
 *   is no fixed limit. `clear()` gives the memory back.
 *
 * Per-lookup cost: a hash of 4 words (10 for IPv6) by independent multiply-adds and one final mix,
 * then, per probed slot, one hash compare and, on equal hashes, 4 (10) word compares. `find` and
 * `value` allocate nothing; `add` allocates only when it grows the arrays or rebuilds the index.
 */
import { mix32 } from "../base/index.js";

/** Words per stored tuple. */
export const TUPLE_WORDS = 10;
/** `head` bit: an IPv6 tuple. */
export const HEAD_V6 = 0x100;
/** `head` bit: an IPv4 tuple with an address wider than 32 bits (never matches a packet). */
export const HEAD_WIDE_V4 = 0x200;
/** `head` bits `HEAD_ICMP_BITS << HEAD_ICMP_SHIFT`: an ICMP query's class (conntrack-icmp.ts), 0 otherwise. */
export const HEAD_ICMP_SHIFT = 10;
export const HEAD_ICMP_BITS = 0x7;
const HEAD_WIDE = HEAD_V6 | HEAD_WIDE_V4;

const EMPTY = -1;
const TOMB = -2;
const MIN_INDEX = 64;
const MIN_SLOTS = 32;

/**
 * Hashes the tuple words at `w[o ..]`: every word times its own odd constant, summed, then the
 * 32-bit finaliser of MurmurHash3. Small integer result (`| 0`).
 */
export function hashTupleWords(w: Uint32Array, o: number): number {
  const head = w[o]!;
  let h = (Math.imul(head, 0x9e3779b1) + Math.imul(w[o + 1]!, 0x85ebca77)) | 0;
  h = (h + Math.imul(w[o + 2]!, 0xc2b2ae3d)) | 0;
  h = (h + Math.imul(w[o + 3]!, 0x27d4eb2f)) | 0;
  if ((head & HEAD_WIDE) !== 0) {
    h = (h + Math.imul(w[o + 4]!, 0x165667b1)) | 0;
    h = (h + Math.imul(w[o + 5]!, 0xd3a2646d)) | 0;
    h = (h + Math.imul(w[o + 6]!, 0xfd7046c5)) | 0;
    h = (h + Math.imul(w[o + 7]!, 0xb55a4f09)) | 0;
    h = (h + Math.imul(w[o + 8]!, 0x7feb352d)) | 0;
    h = (h + Math.imul(w[o + 9]!, 0x846ca68b)) | 0;
  }
  return mix32(h);
}

/** True when the tuple words at `a[ao ..]` and `b[bo ..]` are equal. */
function sameWords(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  const head = a[ao]!;
  if (head !== b[bo] || a[ao + 1] !== b[bo + 1] || a[ao + 2] !== b[bo + 2] || a[ao + 3] !== b[bo + 3]) return false;
  if ((head & HEAD_WIDE) === 0) return true;
  return a[ao + 4] === b[bo + 4] && a[ao + 5] === b[bo + 5] && a[ao + 6] === b[bo + 6] && a[ao + 7] === b[bo + 7] && a[ao + 8] === b[bo + 8] && a[ao + 9] === b[bo + 9];
}

/** The smallest power of two that is at least `n`. */
function pow2AtLeast(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

export class ConnTable<T> {
  /** The tuple words `find()` looks up; the caller fills it. */
  readonly probe = new Uint32Array(TUPLE_WORDS);
  /** [hash, entry] pairs. */
  private slots = new Int32Array(2 * MIN_INDEX).fill(EMPTY);
  private mask = MIN_INDEX - 1;
  /** Index slots that are not `EMPTY` (live entries plus tombstones). */
  private used = 0;
  /** Live entries in the index. */
  private indexed = 0;
  /** Tuple words of every entry, `TUPLE_WORDS` per entry, two entries per connection slot. */
  private store = new Uint32Array(2 * MIN_SLOTS * TUPLE_WORDS);
  /** Hash of every entry's tuple words. */
  private hashes = new Int32Array(2 * MIN_SLOTS);
  /** 1 when the slot's reply entry is in the index. */
  private replyIndexed = new Uint8Array(MIN_SLOTS);
  /** The connection of each slot (undefined for a free slot). */
  private vals: (T | undefined)[] = [];
  /** Slots below this have been used at least once. */
  private highWater = 0;
  private free: number[] = [];
  private age = new Int32Array(MIN_SLOTS);
  private ageLen = 0;
  private ageHoles = 0;
  private agePos = new Int32Array(MIN_SLOTS);
  private live = 0;

  /** Number of connections. */
  get size(): number {
    return this.live;
  }

  /** The stored tuple words of every entry (entry `e` at `e * TUPLE_WORDS`); read only. */
  get words(): Uint32Array {
    return this.store;
  }

  /** Forgets every connection and gives the memory back. */
  clear(): void {
    this.slots = new Int32Array(2 * MIN_INDEX).fill(EMPTY);
    this.mask = MIN_INDEX - 1;
    this.used = 0;
    this.indexed = 0;
    this.store = new Uint32Array(2 * MIN_SLOTS * TUPLE_WORDS);
    this.hashes = new Int32Array(2 * MIN_SLOTS);
    this.replyIndexed = new Uint8Array(MIN_SLOTS);
    this.vals = [];
    this.highWater = 0;
    this.free = [];
    this.age = new Int32Array(MIN_SLOTS);
    this.ageLen = 0;
    this.ageHoles = 0;
    this.agePos = new Int32Array(MIN_SLOTS);
    this.live = 0;
  }

  /** The entry whose tuple words equal `p` (default `probe`; the first inserted of equal ones), or -1. */
  find(p: Uint32Array = this.probe): number {
    const h = hashTupleWords(p, 0);
    const s = this.slots;
    const m = this.mask;
    const w = this.store;
    let i = h & m;
    for (;;) {
      const e = s[2 * i + 1]!;
      if (e === EMPTY) return -1;
      if (e >= 0 && s[2 * i] === h && sameWords(w, e * TUPLE_WORDS, p, 0)) return e;
      i = (i + 1) & m;
    }
  }

  /** The connection entry `e` belongs to. */
  value(e: number): T | undefined {
    return this.vals[e >> 1];
  }

  /**
   * Adds a connection: `orig` and `reply` hold the tuple words of its two directions; the reply
   * entry goes into the index only when `indexReply`. Returns the connection's slot.
   */
  add(v: T, orig: Uint32Array, reply: Uint32Array, indexReply: boolean): number {
    const s = this.takeSlot();
    const eo = 2 * s;
    const w = this.store;
    const o = eo * TUPLE_WORDS;
    for (let i = 0; i < TUPLE_WORDS; i++) {
      w[o + i] = orig[i]!;
      w[o + TUPLE_WORDS + i] = reply[i]!;
    }
    this.hashes[eo] = hashTupleWords(w, o);
    this.hashes[eo + 1] = hashTupleWords(w, o + TUPLE_WORDS);
    this.replyIndexed[s] = indexReply ? 1 : 0;
    this.vals[s] = v;
    if (this.ageLen === this.age.length) this.growAge();
    this.agePos[s] = this.ageLen;
    this.age[this.ageLen++] = s;
    this.live++;
    const n = indexReply ? 2 : 1;
    if (this.used + n > (this.mask + 1) >> 1) this.rebuild(this.indexed + n);
    else {
      this.place(eo);
      if (indexReply) this.place(eo + 1);
    }
    return s;
  }

  /** Removes the connection entry `e` belongs to (both of its directions). */
  remove(e: number): void {
    const s = e >> 1;
    if (this.vals[s] === undefined) return;
    this.unplace(2 * s);
    if (this.replyIndexed[s] === 1) this.unplace(2 * s + 1);
    this.replyIndexed[s] = 0;
    this.vals[s] = undefined;
    this.free.push(s);
    this.age[this.agePos[s]!] = -1;
    this.ageHoles++;
    this.live--;
    if (this.ageHoles > 16 && 2 * this.ageHoles > this.ageLen) this.squeezeAge();
  }

  /** Removes every connection for which `pred` holds; returns them, oldest first. */
  removeWhere(pred: (v: T) => boolean): T[] {
    const slots: number[] = [];
    for (let i = 0; i < this.ageLen; i++) {
      const s = this.age[i]!;
      if (s >= 0 && pred(this.vals[s]!)) slots.push(s);
    }
    const out = slots.map((s) => this.vals[s]!);
    for (const s of slots) this.remove(2 * s);
    return out;
  }

  /** Every connection, oldest first. */
  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.ageLen; i++) {
      const s = this.age[i]!;
      if (s >= 0) out.push(this.vals[s]!);
    }
    return out;
  }

  private takeSlot(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.highWater === this.replyIndexed.length) this.growSlots();
    return this.highWater++;
  }

  private growSlots(): void {
    const n = 2 * this.replyIndexed.length;
    const store = new Uint32Array(2 * n * TUPLE_WORDS);
    store.set(this.store);
    this.store = store;
    const hashes = new Int32Array(2 * n);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const ri = new Uint8Array(n);
    ri.set(this.replyIndexed);
    this.replyIndexed = ri;
    const pos = new Int32Array(n);
    pos.set(this.agePos);
    this.agePos = pos;
  }

  private growAge(): void {
    const age = new Int32Array(2 * this.age.length);
    age.set(this.age);
    this.age = age;
  }

  private squeezeAge(): void {
    let j = 0;
    for (let i = 0; i < this.ageLen; i++) {
      const s = this.age[i]!;
      if (s < 0) continue;
      this.age[j] = s;
      this.agePos[s] = j++;
    }
    this.ageLen = j;
    this.ageHoles = 0;
  }

  /** Puts entry `e` into the first empty slot of its probe sequence. */
  private place(e: number): void {
    const h = this.hashes[e]!;
    const s = this.slots;
    const m = this.mask;
    let i = h & m;
    while (s[2 * i + 1] !== EMPTY) i = (i + 1) & m;
    s[2 * i] = h;
    s[2 * i + 1] = e;
    this.used++;
    this.indexed++;
  }

  /** Turns entry `e`'s index slot into a tombstone. */
  private unplace(e: number): void {
    const s = this.slots;
    const m = this.mask;
    let i = this.hashes[e]! & m;
    for (;;) {
      const x = s[2 * i + 1]!;
      if (x === e) break;
      if (x === EMPTY) return;
      i = (i + 1) & m;
    }
    s[2 * i + 1] = TOMB;
    this.indexed--;
  }

  /** Rebuilds the index for `want` live entries, oldest connection first, dropping tombstones. */
  private rebuild(want: number): void {
    const cap = pow2AtLeast(Math.max(MIN_INDEX, 4 * want));
    this.slots = new Int32Array(2 * cap).fill(EMPTY);
    this.mask = cap - 1;
    this.used = 0;
    this.indexed = 0;
    for (let i = 0; i < this.ageLen; i++) {
      const s = this.age[i]!;
      if (s < 0) continue;
      this.place(2 * s);
      if (this.replyIndexed[s] === 1) this.place(2 * s + 1);
    }
  }
}
