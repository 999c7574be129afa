/**
 * One subtable of the tuple-space classifier: every rule whose match has one particular mask.
 *
 * What: since all rules here share the mask, a key can match at most one distinct masked value,
 * so a lookup is one hash probe: hash the key's masked words, find the node with equal masked
 * words, and its first rule is the subtable's answer.
 *
 * Design:
 * - Only the words the mask touches are hashed and compared (`words`, `wmask`), in key order, with
 *   `hashAdd`/`hashFinish` from base; compared word by word, never as strings.
 * - A node groups the rules with equal masked values (identical matches), sorted by priority
 *   (highest first) and then by insertion sequence (earliest first), so `entries[0]` wins.
 * - Staged lookup (optional, as in OVS): the mask's words are split into stages by flow segment
 *   (metadata, tunnel, L2, L3, L4). For every stage but the last, a counting set holds the hash
 *   of each node's masked words up to the end of that stage. A key whose partial hash is absent
 *   cannot match any node, so the probe stops there and only the words of the stages seen so far
 *   were examined. Hash collisions in these sets only cost a later stop, never a wrong miss.
 * - Ports check (OVS's ports trie, staged lookup only): when the mask covers leading bits of the
 *   transport-ports word (`tp_src`, the high half), the stage that word opens first compares those
 *   bits with the nodes' (a sorted array, binary search). A key whose bits equal no node's cannot
 *   match, and the megaflow gets only the leading bits up to the first one in which it differs
 *   from every node's, not the whole ports word: a UDP flow probing a DHCPv6 rule's subtable
 *   (`udp.src == 546 && udp.dst == 547`) no longer makes a megaflow per source port.
 * - One node (a table's catch-all, whose mask is empty, or a rule alone with its mask: two
 *   thirds of the probes of an OVN pipeline): the key is compared with it directly, stage by
 *   stage, without hashing; a key that differs examined the words up to the end of that stage.
 * - `maxPriority`, `maxCount` and `minSeqAtMax` (the earliest insertion among the rules at
 *   `maxPriority`) let the classifier skip the subtable without probing it.
 *
 * Invariants: `nodes[i]` is live exactly when the full-hash index holds an entry with value `i`;
 * each partial set holds, per hash, the number of live nodes with that partial hash; a live node
 * has at least one entry; `nRules` is the number of entries over all nodes.
 */
import { hashAdd, hashFinish } from "../base/index.js";
import { KEY_WORDS, SEGMENTS, W, type Match } from "../flow/index.js";
import { HashIndex } from "./hash-index.js";

/** What the classifier needs of a rule: a priority (higher wins) and a match. */
export interface Classifiable {
  readonly priority: number;
  readonly match: Match;
}

export interface Entry<R> {
  readonly rule: R;
  readonly priority: number;
  /** Insertion sequence number; lower was inserted earlier and wins priority ties. */
  readonly seq: number;
}

export interface Node<R> {
  /** Masked key values at `words`, compactly. */
  readonly vals: Uint32Array;
  readonly hash: number;
  /** Sorted by priority descending, then seq ascending. */
  readonly entries: Entry<R>[];
}

const BASIS = 0x6f766e73;

// Module-level aliases for the inner loop: some loaders (vitest's, or tsx compiling to CommonJS)
// turn every use of an imported function into a property read or a getter call; a constant of
// this module is read once and calls through it inline.
const mix = hashAdd;
const finish = hashFinish;

function segmentIndex(word: number): number {
  for (let i = 0; i < SEGMENTS.length; i++) if (word >= SEGMENTS[i]!.start && word < SEGMENTS[i]!.end) return i;
  return SEGMENTS.length;
}

export class Subtable<R extends Classifiable> {
  readonly mask: Uint32Array;
  /** Hash of the whole mask, for finding the subtable of a mask. */
  readonly maskHash: number;
  /** Indices of the key words the mask touches, ascending. */
  readonly words: Int32Array;
  /** The mask's value at each of `words`. */
  readonly wmask: Uint32Array;
  /** End (exclusive, as an index into `words`) of each stage; the last is `words.length`. */
  readonly stageEnds: Int32Array;
  /** One counting set of partial hashes per stage except the last. */
  private readonly partial: HashIndex[];
  private readonly index = new HashIndex();
  private readonly nodes: (Node<R> | undefined)[] = [];
  private readonly freeNodes: number[] = [];
  /**
   * The ports check (see the module header): the stage that starts at the transport-ports word,
   * the number of leading mask bits of that word (0: no check), and the nodes' values of those
   * bits, sorted and distinct (rebuilt at the first lookup after a node comes or goes).
   */
  private readonly portsStage: number;
  private readonly portsBits: number;
  /** Where the ports word is in `words` (meaningful when `portsStage` is not -1). */
  private readonly portsAt: number;
  private portsValues: Uint32Array = new Uint32Array(0);
  private portsDirty = true;
  /** The node, when there is exactly one (else undefined). */
  private single: Node<R> | undefined = undefined;

  maxPriority = -1;
  maxCount = 0;
  minSeqAtMax = 0;
  nRules = 0;
  /** Lookups in which this subtable held a matching rule (decayed by the classifier's ranking). */
  hits = 0;

  constructor(mask: Uint32Array, maskHash: number, staged: boolean) {
    this.mask = Uint32Array.from(mask);
    this.maskHash = maskHash;
    const words: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) words.push(i);
    this.words = Int32Array.from(words);
    this.wmask = Uint32Array.from(words.map((w) => mask[w]!));
    const ends: number[] = [];
    if (staged) {
      for (let i = 1; i < words.length; i++) if (segmentIndex(words[i]!) !== segmentIndex(words[i - 1]!)) ends.push(i);
    }
    ends.push(words.length);
    this.stageEnds = Int32Array.from(ends);
    this.partial = ends.slice(0, -1).map(() => new HashIndex());
    // The ports check needs the ports word to open a stage of its own, so that nothing after
    // it was examined when the check rules a key out.
    // With no leading bits of the ports word in the mask there is nothing to check: no stage.
    const at = words.indexOf(W.TP);
    const stage = at < 0 ? -1 : at === 0 ? 0 : ends.indexOf(at) + 1;
    const bits = staged && stage > 0 ? Math.clz32(~mask[W.TP]! >>> 0) : 0;
    this.portsAt = at;
    this.portsBits = bits;
    this.portsStage = bits > 0 ? stage : -1;
  }

  /** Number of stages (1 when unstaged or when the mask sits in one segment). */
  get stages(): number {
    return this.stageEnds.length;
  }

  /**
   * The node matching `key`, or undefined. ORs into `wc` (when given) the mask bits of every word
   * it examined: all of them when it reached the last stage, else those of the stages up to the
   * one that ruled the key out. Allocates nothing.
   *
   * Written with one call site per helper (one hash step, one finish, one probe) and with hashes
   * kept in int32 range: V8 inlines the helpers in the order of call frequency until a budget runs
   * out, and a u32 above 2^31 that crosses a call that was not inlined is boxed on the heap. One
   * site each keeps the inner loop within the budget and the values unboxed.
   */
  find(key: Uint32Array, wc: Uint32Array | undefined): Node<R> | undefined {
    const one = this.single;
    if (one !== undefined && this.portsStage < 0) return this.findSingle(one, key, wc);
    const words = this.words;
    const wmask = this.wmask;
    const ends = this.stageEnds;
    const last = ends.length - 1;
    let h = BASIS;
    let i = 0;
    for (let s = 0; ; s++) {
      if (s === this.portsStage && wc !== undefined) {
        // The leading bits of the ports word against the nodes' (OVS's ports trie): when no node
        // has the key's value there, the key cannot match, and the megaflow needs only the bits up
        // to the first one in which the key differs from every node's.
        const common = this.portsCommon(key[W.TP]! >>> (32 - this.portsBits));
        if (common < this.portsBits) {
          // The earlier stages were examined, and are marked as OVS marks them; the conclusion
          // itself rests on the ports bits alone.
          for (let j = 0; j < i; j++) wc[words[j]!]! |= wmask[j]!;
          wc[W.TP] = (wc[W.TP]! | (0xffffffff << (31 - common))) >>> 0;
          return undefined;
        }
      }
      const end = ends[s]!;
      for (; i < end; i++) h = mix(h, key[words[i]!]! & wmask[i]!);
      const sh = finish(h, end * 4) | 0;
      const ix = s < last ? this.partial[s]! : this.index;
      let slot = ix.first(sh);
      if (s < last && slot >= 0) continue;
      if (wc !== undefined) for (let j = 0; j < end; j++) wc[words[j]!]! |= wmask[j]!;
      for (; slot >= 0; slot = ix.nextSlot(slot, sh)) {
        const node = this.nodes[ix.vals[slot]!]!;
        const vals = node.vals;
        let j = 0;
        while (j < end && ((key[words[j]!]! & wmask[j]!) ^ vals[j]!) === 0) j++;
        if (j === end) return node;
      }
      return undefined;
    }
  }

  /**
   * `find` in a subtable of one node (a table's catch-all, or a rule with a mask of its own): the
   * key's masked words are compared with the node's directly, stage by stage, with no hash. A
   * key that differs in some stage examined the words up to that stage's end, which is what `wc`
   * gets: no more than the hashed lookup would mark (that one may go on past a stage whose partial
   * hash collides), so the megaflow contract holds as it does there.
   */
  private findSingle(node: Node<R>, key: Uint32Array, wc: Uint32Array | undefined): Node<R> | undefined {
    const words = this.words;
    const wmask = this.wmask;
    const ends = this.stageEnds;
    const vals = node.vals;
    let i = 0;
    for (let s = 0; s < ends.length; s++) {
      const end = ends[s]!;
      for (; i < end; i++) {
        if (((key[words[i]!]! & wmask[i]!) ^ vals[i]!) !== 0) {
          if (wc !== undefined) for (let j = 0; j < end; j++) wc[words[j]!]! |= wmask[j]!;
          return undefined;
        }
      }
    }
    if (wc !== undefined) for (let j = 0; j < words.length; j++) wc[words[j]!]! |= wmask[j]!;
    return node;
  }

  /**
   * The longest run of leading bits (of the `portsBits` checked) that `v` shares with a node's
   * ports value; `portsBits` when a node has exactly `v`. The closest values in sorted order share
   * the longest prefix, so a binary search finds it.
   */
  private portsCommon(v: number): number {
    if (this.portsDirty) this.rebuildPorts();
    const vs = this.portsValues;
    const n = this.portsBits;
    let lo = 0;
    let hi = vs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (vs[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    let best = 0;
    if (lo < vs.length) best = n - (32 - Math.clz32((vs[lo]! ^ v) >>> 0));
    if (lo > 0) {
      const c = n - (32 - Math.clz32((vs[lo - 1]! ^ v) >>> 0));
      if (c > best) best = c;
    }
    return best;
  }

  private rebuildPorts(): void {
    const shift = 32 - this.portsBits;
    const set = new Set<number>();
    for (const node of this.nodes) if (node) set.add(node.vals[this.portsAt]! >>> shift);
    this.portsValues = Uint32Array.from([...set].sort((a, b) => a - b));
    this.portsDirty = false;
  }

  /** Masked values of `m` at this subtable's words, and their stage hashes. */
  private valuesOf(m: Match): { vals: Uint32Array; hash: number; partials: number[] } {
    const n = this.words.length;
    const vals = new Uint32Array(n);
    const partials: number[] = [];
    let h = BASIS;
    let s = 0;
    for (let i = 0; i < n; i++) {
      vals[i] = m.value[this.words[i]!]! & this.wmask[i]!;
      h = hashAdd(h, vals[i]!);
      if (s < this.stageEnds.length - 1 && i + 1 === this.stageEnds[s]) {
        partials.push(hashFinish(h, (i + 1) * 4) | 0);
        s++;
      }
    }
    return { vals, hash: hashFinish(h, n * 4) | 0, partials };
  }

  private findNode(vals: Uint32Array, hash: number): number {
    for (let slot = this.index.first(hash); slot >= 0; slot = this.index.nextSlot(slot, hash)) {
      const id = this.index.vals[slot]!;
      const node = this.nodes[id]!;
      let j = 0;
      while (j < vals.length && node.vals[j] === vals[j]) j++;
      if (j === vals.length) return id;
    }
    return -1;
  }

  /** Adds `rule` with sequence number `seq`; false when this very rule is already here. */
  insert(rule: R, seq: number): boolean {
    const { vals, hash, partials } = this.valuesOf(rule.match);
    let id = this.findNode(vals, hash);
    if (id < 0) {
      id = this.freeNodes.pop() ?? this.nodes.length;
      const node: Node<R> = { vals, hash, entries: [] };
      this.nodes[id] = node;
      this.index.insert(hash, id);
      this.single = this.index.size === 1 ? node : undefined;
      for (let s = 0; s < partials.length; s++) this.partial[s]!.addCount(partials[s]!);
      this.portsDirty = true;
    }
    const entries = this.nodes[id]!.entries;
    if (entries.some((e) => e.rule === rule)) return false;
    const p = rule.priority;
    let at = entries.length;
    while (at > 0 && (entries[at - 1]!.priority < p || (entries[at - 1]!.priority === p && entries[at - 1]!.seq > seq))) at--;
    entries.splice(at, 0, { rule, priority: p, seq });
    this.nRules++;
    if (p > this.maxPriority) {
      this.maxPriority = p;
      this.maxCount = 1;
      this.minSeqAtMax = seq;
    } else if (p === this.maxPriority) {
      this.maxCount++;
      if (seq < this.minSeqAtMax) this.minSeqAtMax = seq;
    }
    return true;
  }

  /** Removes `rule` (the same object that was inserted); false when it is not here. */
  remove(rule: R): boolean {
    const { vals, hash, partials } = this.valuesOf(rule.match);
    const id = this.findNode(vals, hash);
    if (id < 0) return false;
    const node = this.nodes[id]!;
    const at = node.entries.findIndex((e) => e.rule === rule);
    if (at < 0) return false;
    const [gone] = node.entries.splice(at, 1);
    this.nRules--;
    if (node.entries.length === 0) {
      this.index.remove(hash, id);
      for (let s = 0; s < partials.length; s++) this.partial[s]!.subCount(partials[s]!);
      this.nodes[id] = undefined;
      this.freeNodes.push(id);
      this.single = this.index.size === 1 ? this.nodes.find((n) => n !== undefined) : undefined;
      this.portsDirty = true;
    }
    if (gone!.priority === this.maxPriority) {
      this.maxCount--;
      if (this.maxCount === 0 || gone!.seq === this.minSeqAtMax) this.recomputeMax();
    }
    return true;
  }

  /** Recomputes the priority summary from the nodes' first entries (each node's best). */
  private recomputeMax(): void {
    let max = -1;
    let count = 0;
    let minSeq = 0;
    for (const node of this.nodes) {
      if (!node) continue;
      for (const e of node.entries) {
        if (e.priority < max) break;
        if (e.priority > max) {
          max = e.priority;
          count = 0;
          minSeq = e.seq;
        }
        count++;
        if (e.seq < minSeq) minSeq = e.seq;
      }
    }
    this.maxPriority = max;
    this.maxCount = count;
    this.minSeqAtMax = minSeq;
  }

  /** Every rule, with its sequence number (for iteration and tests; allocates). */
  entries(): Entry<R>[] {
    const out: Entry<R>[] = [];
    for (const node of this.nodes) if (node) out.push(...node.entries);
    return out;
  }
}
