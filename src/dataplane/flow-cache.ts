/**
 * The datapath flow cache: an exact-match cache in front of a megaflow classifier, as OVS's
 * dpif-netdev has them (`emc` and `dpcls`). It maps a flow key to the `Megaflow` whose actions the
 * slow path computed for some earlier packet that agreed with this one on every bit it examined.
 *
 * Exact-match cache (EMC)
 * -----------------------
 * - Key: the flow key's hash. Value: the megaflow it hit.
 * - Capacity: `emcEntries` (default 8192, a power of two). Each key has two candidate slots (from
 *   two parts of its hash). The hash covers only the words that tell flows apart (pass, port,
 *   datapath, conntrack state, MACs, addresses, ports), as OVS's EMC uses the packet's 5-tuple
 *   hash; each slot keeps its hash and its megaflow, and a hit compares the hash, then checks the
 *   key against the megaflow's own mask and value, as OVS's signature-match cache checks its
 *   candidate. That check is exactly the condition under which the megaflow's actions are the
 *   packet's; OVS's EMC instead compares a stored copy of the whole key, which here would be 74
 *   words a slot (2.4 MB a cache, read on every hit). The one difference in what is counted: a key
 *   that shares a hash with the inserted one and matches the same megaflow is an EMC hit here,
 *   where OVS would count a megaflow hit; the same words are hashed, so that takes keys that
 *   differ only in words outside the hash.
 * - Insertion: after a megaflow hit or an install, with probability 1 / `emcInsertInvProb`
 *   (default 100, OVS's `emc-insert-inv-prob`; 1 inserts always, 0 disables the EMC). The draw
 *   comes from a seeded generator, so runs repeat exactly. A new entry takes an empty candidate,
 *   else the one whose megaflow is dead, else the second one.
 * - Invalidation: an entry whose megaflow has been removed (`dead`) is a miss; `flush()` empties it.
 *
 * Megaflow classifier
 * -------------------
 * - Key: the flow key under each subtable's mask. One subtable per distinct mask, each an
 *   open-addressing hash table of masked keys (a tag per slot, and the masked words of each entry
 *   stored side by side, so a probe reads one short run of memory); a lookup probes subtables in
 *   order and stops at the first hit (megaflows are not prioritised: each one is exact for the
 *   packets it matches, so any match is a correct one). Every megaflow matches `recirc_id` exactly,
 *   so subtables are kept in one list per `recirc_id` (as dpif-netdev keeps one classifier per
 *   input port) and a lookup probes only its pass's list. Every `rankInterval` lookups the lists
 *   are re-sorted by their subtables' recent hits (halved at each sort), as dpcls ranks its
 *   subtables. A subtable whose mask has at most 32 words looks up through code made for its mask
 *   (`specialisedFind`: constant word indices, each word read once), as dpcls specialises its
 *   subtable lookups (bench case `cache/lookup-64-masks`: 1.35 to 1.5 times the lookups per second
 *   of the generic lookup).
 * - Capacity: `flowLimit` megaflows (default 200000, OVS's flow limit). An install that would pass
 *   it first evicts the least recently used eighth of the megaflows, as a revalidator would.
 * - Invalidation: `flush()` removes every megaflow (the caller does it when the network or the
 *   state the slow path read changes), `remove(f)` one (when what its translation read changed);
 *   a removed megaflow is marked `dead` for the EMC.
 *
 * Hot path: `lookup` allocates nothing. Installs allocate (the megaflow, and a subtable for a new
 * mask).
 */
import { mix32 } from "../base/index.js";
import { KEY_WORDS, W } from "../flow/index.js";

export interface FlowCacheOptions {
  readonly emcEntries?: number;
  readonly emcInsertInvProb?: number;
  readonly flowLimit?: number;
  readonly rankInterval?: number;
  readonly seed?: number;
  /**
   * Look subtables up through code made for each mask (default true); false uses the generic
   * lookup for every mask, the reference that tests and benchmarks compare it with.
   */
  readonly specialise?: boolean;
}

export interface Megaflow<A> {
  readonly id: number;
  /** The mask (shared with its subtable) and the masked key. */
  readonly mask: Uint32Array;
  readonly value: Uint32Array;
  /** The masked key's words compactly, at the subtable's `words` under its `maskWords`. */
  readonly compact: Int32Array;
  readonly words: Int32Array;
  readonly maskWords: Uint32Array;
  readonly actions: A;
  hits: number;
  lastUsed: number;
  dead: boolean;
}

export interface FlowCacheStats {
  readonly lookups: number;
  readonly emcHits: number;
  readonly megaflowHits: number;
  readonly misses: number;
  /** Subtables probed by lookups that the EMC did not answer, summed. */
  readonly subtableProbes: number;
  /** Subtables probed per megaflow hit, on average (the hit's own probe included). */
  readonly avgSubtablesPerHit: number;
  readonly installed: number;
  readonly evicted: number;
  readonly flushes: number;
  /** Megaflows removed one by one because what their translation read changed (`remove`). */
  readonly revalidated: number;
  readonly megaflows: number;
  readonly masks: number;
}

const EMPTY = 0;
const TOMB = 1;

/** A subtable hash's starting sum, and the multiplier that joins its two sums before the mix. */
const HASH_START = 0x2545f491;
const HASH_JOIN = 0x85ebca6b | 0;

class Subtable<A> {
  readonly mask: Uint32Array;
  /** Words of the mask that are not zero, and the mask and hash multiplier of each. */
  readonly words: Int32Array;
  readonly maskWords: Uint32Array;
  private readonly muls: Int32Array;
  private readonly n: number;
  slots: (Megaflow<A> | undefined)[];
  /** Per slot: EMPTY, TOMB, or 2 + (hash >>> 2) for a live entry. */
  tags: Int32Array;
  /** Per slot: the masked key, `n` words (only the mask's words, as int32), next to each other. */
  values: Int32Array;
  size = 0;
  used = 0;
  hits = 0;

  constructor(mask: Uint32Array, specialise = true) {
    this.mask = mask;
    const ws: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) ws.push(i);
    this.words = Int32Array.from(ws);
    this.n = ws.length;
    this.maskWords = Uint32Array.from(ws, (w) => mask[w]!);
    this.muls = Int32Array.from(ws, (w) => WORD_MUL[w]!);
    this.slots = new Array<Megaflow<A> | undefined>(16).fill(undefined);
    this.tags = new Int32Array(16);
    this.values = new Int32Array(16 * this.n);
    this.probe = specialise && this.n <= SPECIALISE_MAX_WORDS ? specialisedFind<A>(ws, this.maskWords, this.muls) : genericFind;
  }

  /**
   * The hash of `key` under the mask: a sum of per-word products (independent of each other, so
   * the processor overlaps them) and one final mix. `specialisedFind` computes the same sums.
   */
  hash(key: Uint32Array): number {
    const ws = this.words;
    const mw = this.maskWords;
    const mu = this.muls;
    let a = HASH_START;
    let b = 0;
    const n = this.n;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      a = (a + Math.imul(key[ws[i]!]! & mw[i]!, mu[i]!)) | 0;
      b = (b + Math.imul(key[ws[i + 1]!]! & mw[i + 1]!, mu[i + 1]!)) | 0;
    }
    if (i < n) a = (a + Math.imul(key[ws[i]!]! & mw[i]!, mu[i]!)) | 0;
    return mix32(a ^ Math.imul(b, HASH_JOIN));
  }

  /** The lookup: code made for this mask (see `specialisedFind`), or `genericFind`. */
  readonly probe: (st: Subtable<A>, key: Uint32Array) => Megaflow<A> | undefined;

  find(key: Uint32Array): Megaflow<A> | undefined {
    return this.probe(this, key);
  }

  /** `find` for any mask: the mask's words are read through index arrays. */
  findGeneric(key: Uint32Array): Megaflow<A> | undefined {
    const h = this.hash(key);
    const tag = 2 + (h >>> 2);
    const tags = this.tags;
    const cap = tags.length - 1;
    const ws = this.words;
    const mw = this.maskWords;
    const vs = this.values;
    const n = this.n;
    for (let i = h & cap; ; i = (i + 1) & cap) {
      const t = tags[i]!;
      if (t === EMPTY) return undefined;
      if (t !== tag) continue;
      const base = i * n;
      let j = 0;
      for (; j < n; j++) if ((key[ws[j]!]! & mw[j]!) !== vs[base + j]) break;
      if (j === n) return this.slots[i];
    }
  }

  add(f: Megaflow<A>): void {
    if ((this.used + 1) * 2 > this.tags.length) this.rehash(this.size * 4 > this.tags.length ? this.tags.length * 2 : this.tags.length);
    const h = this.hash(f.value);
    const cap = this.tags.length - 1;
    let i = h & cap;
    while (this.tags[i]! > TOMB) i = (i + 1) & cap;
    if (this.tags[i] === EMPTY) this.used++;
    this.tags[i] = 2 + (h >>> 2);
    this.slots[i] = f;
    const n = this.n;
    for (let j = 0; j < n; j++) this.values[i * n + j] = f.value[this.words[j]!]! | 0;
    this.size++;
  }

  remove(f: Megaflow<A>): void {
    const h = this.hash(f.value);
    const cap = this.tags.length - 1;
    for (let i = h & cap; this.tags[i] !== EMPTY; i = (i + 1) & cap) {
      if (this.slots[i] === f) {
        this.tags[i] = TOMB;
        this.slots[i] = undefined;
        this.size--;
        return;
      }
    }
  }

  private rehash(cap: number): void {
    const old = this.slots;
    this.slots = new Array<Megaflow<A> | undefined>(cap).fill(undefined);
    this.tags = new Int32Array(cap);
    this.values = new Int32Array(cap * this.n);
    this.size = 0;
    this.used = 0;
    for (const f of old) if (f) this.add(f);
  }
}

export class FlowCache<A> {
  private readonly emcMask: number;
  private readonly emcFlows: (Megaflow<A> | undefined)[];
  /** Per EMC slot: the hash of its key, compared before the key. */
  private readonly emcHashes: Int32Array;
  private readonly emcInsertInvProb: number;
  /** A draw inserts into the EMC when its low 31 bits are below this: 2^31 / emcInsertInvProb. */
  private readonly emcInsertBelow: number;
  private readonly flowLimit: number;
  private readonly rankInterval: number;
  private readonly specialise: boolean;
  private rng: number;
  private readonly subtables: Subtable<A>[] = [];
  /** Subtables by `recirc_id` (word 0 of the key; its mask is always exact). */
  private readonly byRecirc: Subtable<A>[][] = [];
  private readonly byMask = new Map<number, Subtable<A>[]>();
  private readonly flows = new Set<Megaflow<A>>();
  private sinceRank = 0;
  private clock = 0;
  private nextId = 1;

  lookups = 0;
  emcHits = 0;
  megaflowHits = 0;
  misses = 0;
  subtableProbes = 0;
  hitProbes = 0;
  installed = 0;
  evicted = 0;
  flushes = 0;
  revalidated = 0;

  constructor(opts: FlowCacheOptions = {}) {
    const n = opts.emcEntries ?? 8192;
    if (n !== 0 && (n & (n - 1)) !== 0) throw new RangeError(`emcEntries must be a power of two, not ${n}`);
    this.emcMask = n - 1;
    this.emcFlows = new Array<Megaflow<A> | undefined>(n).fill(undefined);
    this.emcHashes = new Int32Array(n);
    this.emcInsertInvProb = n === 0 ? 0 : (opts.emcInsertInvProb ?? 100);
    this.emcInsertBelow = this.emcInsertInvProb > 1 ? Math.floor(0x80000000 / this.emcInsertInvProb) : 0x80000000;
    this.flowLimit = opts.flowLimit ?? 200000;
    this.rankInterval = opts.rankInterval ?? 1024;
    this.specialise = opts.specialise ?? true;
    this.rng = (opts.seed ?? 0x5eed) | 0 || 1;
  }

  /** Number of live megaflows. */
  get size(): number {
    return this.flows.size;
  }

  /** The megaflow for `key`, or undefined (an upcall is needed). */
  lookup(key: Uint32Array): Megaflow<A> | undefined {
    this.lookups++;
    this.clock++;
    let h = 0;
    if (this.emcInsertInvProb !== 0) {
      h = emcHash(key);
      const a = h & this.emcMask;
      const b = (h >>> 16) & this.emcMask;
      const f = this.emcMatch(a, h, key) ? this.emcFlows[a] : this.emcMatch(b, h, key) ? this.emcFlows[b] : undefined;
      if (f !== undefined && !f.dead) {
        this.emcHits++;
        f.hits++;
        f.lastUsed = this.clock;
        return f;
      }
    }
    if (++this.sinceRank >= this.rankInterval) this.rank();
    const subs = this.byRecirc[key[0]!] ?? NONE;
    for (let i = 0; i < subs.length; i++) {
      const st = subs[i]!;
      const f = st.find(key);
      if (f !== undefined) {
        st.hits++;
        this.subtableProbes += i + 1;
        this.hitProbes += i + 1;
        this.megaflowHits++;
        f.hits++;
        f.lastUsed = this.clock;
        if (this.emcInsertInvProb !== 0) this.maybeEmcInsert(h, key, f);
        return f;
      }
    }
    this.subtableProbes += subs.length;
    this.misses++;
    return undefined;
  }

  /** Installs a megaflow for the packets that agree with `key` on `mask`; returns it. */
  install(key: Uint32Array, mask: Uint32Array, actions: A): Megaflow<A> {
    if (this.flows.size >= this.flowLimit) this.evict();
    const st = this.subtableFor(mask);
    const rl = this.recircList(key[0]!);
    if (!rl.includes(st)) rl.push(st);
    const value = new Uint32Array(KEY_WORDS);
    for (let i = 0; i < KEY_WORDS; i++) value[i] = (key[i]! & st.mask[i]!) >>> 0;
    const compact = Int32Array.from(st.words, (w) => value[w]! | 0);
    const f: Megaflow<A> = { id: this.nextId++, mask: st.mask, value, compact, words: st.words, maskWords: st.maskWords, actions, hits: 0, lastUsed: this.clock, dead: false };
    st.add(f);
    this.flows.add(f);
    this.installed++;
    if (this.emcInsertInvProb !== 0) this.maybeEmcInsert(emcHash(key), key, f);
    return f;
  }

  /**
   * Removes megaflow `f` (when it is still installed), as a revalidator removes one whose
   * translation has changed; the EMC then misses on it.
   */
  remove(f: Megaflow<A>): void {
    if (f.dead || !this.flows.delete(f)) return;
    f.dead = true;
    const st = this.subtableFor(f.mask);
    st.remove(f);
    this.revalidated++;
    if (st.size === 0) this.dropEmptySubtables();
  }

  /** Removes every megaflow and empties the EMC. */
  flush(): void {
    for (const f of this.flows) f.dead = true;
    this.flows.clear();
    this.subtables.length = 0;
    this.byRecirc.length = 0;
    this.byMask.clear();
    this.emcFlows.fill(undefined);
    this.flushes++;
  }

  /** Every live megaflow, in install order. */
  megaflows(): Megaflow<A>[] {
    return [...this.flows];
  }

  stats(): FlowCacheStats {
    return {
      lookups: this.lookups,
      emcHits: this.emcHits,
      megaflowHits: this.megaflowHits,
      misses: this.misses,
      subtableProbes: this.subtableProbes,
      avgSubtablesPerHit: this.megaflowHits === 0 ? 0 : this.hitProbes / this.megaflowHits,
      installed: this.installed,
      evicted: this.evicted,
      flushes: this.flushes,
      revalidated: this.revalidated,
      megaflows: this.flows.size,
      masks: this.subtables.length,
    };
  }

  /** True when EMC slot `slot` has hash `h` and a megaflow that `key` matches. */
  private emcMatch(slot: number, h: number, key: Uint32Array): boolean {
    const f = this.emcFlows[slot];
    if (this.emcHashes[slot] !== h || f === undefined) return false;
    const ws = f.words;
    const mw = f.maskWords;
    const vs = f.compact;
    for (let i = 0; i < ws.length; i++) if ((key[ws[i]!]! & mw[i]!) !== vs[i]) return false;
    return true;
  }

  private maybeEmcInsert(h: number, key: Uint32Array, f: Megaflow<A>): void {
    const p = this.emcInsertInvProb;
    if (p === 0) return;
    if (p > 1) {
      // xorshift32: a seeded, repeatable draw, kept when its low 31 bits fall below 2^31 / p (as
      // OVS compares a random 32-bit number with UINT32_MAX / p). A remainder by p took 40% of this
      // function's time in a replay profile: V8 computes `(x >>> 0) % p` in floating point.
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x;
      if ((x & 0x7fffffff) >= this.emcInsertBelow) return;
    }
    const a = h & this.emcMask;
    const b = (h >>> 16) & this.emcMask;
    const fa = this.emcFlows[a];
    const slot = fa === undefined || fa.dead || this.emcMatch(a, h, key) ? a : b;
    this.emcHashes[slot] = h;
    this.emcFlows[slot] = f;
  }

  private subtableFor(mask: Uint32Array): Subtable<A> {
    let h = 0x1b873593;
    for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ mask[i]!, 0x9e3779b1) ^ (h >>> 15);
    const list = this.byMask.get(h);
    if (list) {
      for (const st of list) {
        let same = true;
        for (let i = 0; i < KEY_WORDS && same; i++) same = st.mask[i] === mask[i];
        if (same) return st;
      }
    }
    const st = new Subtable<A>(Uint32Array.from(mask.subarray(0, KEY_WORDS)), this.specialise);
    if (list) list.push(st);
    else this.byMask.set(h, [st]);
    this.subtables.push(st);
    return st;
  }

  /** The subtable list of the pass `recirc` (made on first use). */
  private recircList(recirc: number): Subtable<A>[] {
    let l = this.byRecirc[recirc];
    if (l === undefined) {
      for (let i = this.byRecirc.length; i < recirc; i++) this.byRecirc[i] ??= [];
      l = [];
      this.byRecirc[recirc] = l;
    }
    return l;
  }

  private rank(): void {
    this.sinceRank = 0;
    for (let r = 0; r < this.byRecirc.length; r++) {
      const s = this.byRecirc[r];
      if (s === undefined) continue;
      // Insertion sort: the order changes little between rankings, and this allocates nothing.
      for (let i = 1; i < s.length; i++) {
        const x = s[i]!;
        let j = i - 1;
        while (j >= 0 && s[j]!.hits < x.hits) {
          s[j + 1] = s[j]!;
          j--;
        }
        s[j + 1] = x;
      }
    }
    for (let i = 0; i < this.subtables.length; i++) this.subtables[i]!.hits >>>= 1;
  }

  private evict(): void {
    const all = [...this.flows].sort((a, b) => a.lastUsed - b.lastUsed);
    const n = Math.max(1, all.length >>> 3);
    for (let i = 0; i < n; i++) {
      const f = all[i]!;
      f.dead = true;
      this.flows.delete(f);
      const st = this.subtableFor(f.mask);
      st.remove(f);
      this.evicted++;
    }
    this.dropEmptySubtables();
  }

  /** Takes the subtables that hold no megaflow out of every list. */
  private dropEmptySubtables(): void {
    for (let i = this.subtables.length - 1; i >= 0; i--) {
      const st = this.subtables[i]!;
      if (st.size > 0) continue;
      this.subtables.splice(i, 1);
      for (const l of this.byRecirc) {
        const j = l ? l.indexOf(st) : -1;
        if (j >= 0) l!.splice(j, 1);
      }
      for (const [h, list] of this.byMask) {
        const j = list.indexOf(st);
        if (j < 0) continue;
        list.splice(j, 1);
        if (list.length === 0) this.byMask.delete(h);
      }
    }
  }
}

/** The statistics of several caches as one (subtables per hit weighted by hits). */
export function sumCacheStats(all: readonly FlowCacheStats[]): FlowCacheStats {
  const sum = (f: (s: FlowCacheStats) => number): number => all.reduce((a, s) => a + f(s), 0);
  const hits = sum((s) => s.megaflowHits);
  return {
    lookups: sum((s) => s.lookups),
    emcHits: sum((s) => s.emcHits),
    megaflowHits: hits,
    misses: sum((s) => s.misses),
    subtableProbes: sum((s) => s.subtableProbes),
    avgSubtablesPerHit: hits === 0 ? 0 : sum((s) => s.avgSubtablesPerHit * s.megaflowHits) / hits,
    installed: sum((s) => s.installed),
    evicted: sum((s) => s.evicted),
    flushes: sum((s) => s.flushes),
    revalidated: sum((s) => s.revalidated),
    megaflows: sum((s) => s.megaflows),
    masks: sum((s) => s.masks),
  };
}

/** Masks of up to this many words get a lookup function of their own. */
const SPECIALISE_MAX_WORDS = 32;

function genericFind<A>(st: Subtable<A>, key: Uint32Array): Megaflow<A> | undefined {
  return st.findGeneric(key);
}

/**
 * A subtable's lookup as code made for its mask, as dpif-netdev specialises its subtable lookups
 * by miniflow shape: each masked word is read once, by constant index, into a local that both the
 * hash (the sums of `Subtable.hash`, in the same order) and the slot compare use. The generic
 * lookup reads the word index, the key word, the mask and the multiplier from four arrays for
 * the hash and again for the compare. The source holds only numbers from the mask.
 */
function specialisedFind<A>(words: readonly number[], maskWords: Uint32Array, muls: Int32Array): (st: Subtable<A>, key: Uint32Array) => Megaflow<A> | undefined {
  const n = words.length;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`const k${i} = key[${words[i]!}] & ${maskWords[i]! | 0};`);
  lines.push(`let a = ${HASH_START};`, "let b = 0;");
  for (let i = 0; i < n; i++) lines.push(`${i % 2 === 0 ? "a" : "b"} = (${i % 2 === 0 ? "a" : "b"} + Math.imul(k${i}, ${muls[i]!})) | 0;`);
  lines.push(
    `const h = mix32(a ^ Math.imul(b, ${HASH_JOIN}));`,
    "const tag = 2 + (h >>> 2);",
    "const tags = st.tags;",
    "const vs = st.values;",
    "const cap = tags.length - 1;",
    "for (let i = h & cap; ; i = (i + 1) & cap) {",
    "  const t = tags[i];",
    `  if (t === ${EMPTY}) return undefined;`,
    "  if (t !== tag) continue;",
    `  const base = i * ${n};`,
    `  if (${n === 0 ? "true" : Array.from({ length: n }, (_, i) => `vs[base + ${i}] === k${i}`).join(" && ")}) return st.slots[i];`,
    "}",
  );
  const source = lines.join("\n");
  let find = specialised.get(source);
  if (find === undefined) {
    const make = new Function("mix32", `return function find(st, key) {\n${source}\n};`) as (m: typeof mix32) => SpecialisedFind;
    find = make(mix32);
    if (specialised.size >= SPECIALISED_KEPT) specialised.clear();
    specialised.set(source, find);
  }
  return find as (st: Subtable<A>, key: Uint32Array) => Megaflow<A> | undefined;
}

type SpecialisedFind = (st: Subtable<unknown>, key: Uint32Array) => Megaflow<unknown> | undefined;

/**
 * Lookup functions already made, by source: a mask seen again (another chassis, another replay of
 * the same network) reuses its function, which V8 has then already optimised. Bounded: past
 * `SPECIALISED_KEPT` functions the map starts again.
 */
const specialised = new Map<string, SpecialisedFind>();
const SPECIALISED_KEPT = 4096;

/**
 * The hash that a subtable with `mask` gives keys (for tests that need two keys in one slot): the
 * subtable's own `hash`, which places entries and which its lookup must agree with.
 */
export function megaflowHasher(mask: Uint32Array): (key: Uint32Array) => number {
  const st = new Subtable<never>(mask);
  return (key) => st.hash(key);
}

const NONE: readonly never[] = [];

/** Odd multipliers, one per key word (from a fixed generator, so hashes repeat across runs). */
const WORD_MUL = ((): Int32Array => {
  const m = new Int32Array(KEY_WORDS);
  let x = 0x9e3779b9;
  for (let i = 0; i < KEY_WORDS; i++) {
    x = (Math.imul(x ^ (x >>> 16), 0x7feb352d) + 0x632be5ab) | 0;
    m[i] = x | 1;
  }
  return m;
})();

/**
 * The EMC's hash: the words that tell flows apart (the pass, port and datapath, conntrack state,
 * addresses and ports), as OVS hashes the 5-tuple rather than the whole flow. Keys that differ
 * only elsewhere share a hash; the full compare sorts them out.
 */
function emcHash(key: Uint32Array): number {
  let a = Math.imul(key[W.RECIRC_ID]!, WORD_MUL[W.RECIRC_ID]!);
  let b = Math.imul(key[W.METADATA]!, WORD_MUL[W.METADATA]!);
  a = (a + Math.imul(key[W.IN_PORT]!, WORD_MUL[W.IN_PORT]!)) | 0;
  b = (b + Math.imul(key[W.CT_STATE_ZONE]!, WORD_MUL[W.CT_STATE_ZONE]!)) | 0;
  a = (a + Math.imul(key[W.REG0 + 14]!, WORD_MUL[W.REG0 + 14]!)) | 0;
  b = (b + Math.imul(key[W.REG0 + 15]!, WORD_MUL[W.REG0 + 15]!)) | 0;
  a = (a + Math.imul(key[W.ETH_SRC + 1]!, WORD_MUL[W.ETH_SRC + 1]!)) | 0;
  b = (b + Math.imul(key[W.ETH_DST + 1]!, WORD_MUL[W.ETH_DST + 1]!)) | 0;
  a = (a + Math.imul(key[W.NW_SRC]!, WORD_MUL[W.NW_SRC]!)) | 0;
  b = (b + Math.imul(key[W.NW_DST]!, WORD_MUL[W.NW_DST]!)) | 0;
  a = (a + Math.imul(key[W.TP]!, WORD_MUL[W.TP]!)) | 0;
  b = (b + Math.imul(key[W.NW]!, WORD_MUL[W.NW]!)) | 0;
  a = (a + Math.imul(key[W.IPV6_SRC + 3]!, WORD_MUL[W.IPV6_SRC + 3]!)) | 0;
  b = (b + Math.imul(key[W.IPV6_DST + 3]!, WORD_MUL[W.IPV6_DST + 3]!)) | 0;
  a = (a + Math.imul(key[W.TCP_FLAGS]!, WORD_MUL[W.TCP_FLAGS]!)) | 0;
  return mix32(a ^ Math.imul(b, 0x27d4eb2f));
}
