/**
 * The tuple-space classifier: finds the highest-priority rule whose match a flow key satisfies.
 *
 * What
 * ----
 * A set of rules (`{ priority, match }`, normally `ofp` rules of one table) and one query,
 * `lookup(key, wc?)`, that returns the winning rule or undefined. Rules are added and removed one
 * at a time (`insert`, `remove`); one `Classifier` serves one table, and a program has as many
 * as it has tables.
 *
 * Which rule wins: the highest priority. Between matching rules of equal priority (OVS leaves the
 * choice undefined) the one inserted first wins, where "inserted" counts the latest insertion of
 * a rule that is present now: removing a rule and inserting it again puts it last. The linear
 * reference classifier (`linear.ts`) implements the same rule by plain scanning; the property
 * tests hold the two to it.
 *
 * The megaflow contract (after OVS `lib/classifier.h`)
 * ----------------------------------------------------
 * A lookup given a wildcard mask `wc` ORs into it every bit of `key` that the lookup examined.
 * The promise: every key that agrees with `key` on all bits set in `wc` afterwards gets the same
 * answer from this classifier (same rule, or none), as long as the rules do not change. A datapath
 * flow cache can therefore install `(key & wc, wc)` as a megaflow. Extra 1-bits in `wc` are
 * allowed (they only make the megaflow narrower); a missing 1-bit is a bug, because some packet
 * that differs only in that bit could deserve another rule. The caller zeroes `wc` (or passes
 * the mask of an earlier table's lookup to accumulate into); the classifier only ever sets bits.
 *
 * Design
 * ------
 * - Tuple-space search: one `Subtable` per distinct mask. Inside a subtable every rule has the
 *   same mask, so a key matches at most one masked value: hash the key's masked words, probe one
 *   hash table, compare words. The number of probes is the number of distinct masks, not rules.
 * - Early exit: subtables are kept in descending order of their highest priority. A lookup stops
 *   at the first subtable whose highest priority is below the best match found so far, and skips
 *   one whose highest priority equals it unless that subtable holds an earlier-inserted rule at
 *   that priority (the tie-break needs it). Subtables not probed examine no bits and add nothing
 *   to `wc`: skipping them depends on priorities alone, never on the key.
 * - Ranked by hits: among subtables of equal highest priority, those that matched more lookups
 *   recently come first, so the usual winner is found early and the rest are skipped. Every
 *   `rankInterval` lookups the order is refreshed (an insertion sort over the nearly sorted list,
 *   no allocation) and the hit counts are halved, so the ranking follows the traffic. The ranking
 *   changes only speed and `wc`, never which rule wins.
 * - Un-wildcarding: a probed subtable ORs its whole mask into `wc` (a hit or a miss after all
 *   stages). With staged lookup (the default, as OVS does) a subtable's mask is split by flow
 *   segment (metadata, tunnel, L2, L3, L4); a key whose metadata already matches no rule of the
 *   subtable is ruled out after the first stage and only that stage's bits are added. The property
 *   tests check the contract in both modes.
 * - Counters: `lookups`, `probes` (subtables probed, summed) and `lastProbes`; their ratio is the
 *   average number of subtables probed per lookup that the benchmark reports.
 *
 * Hot path: `lookup` allocates nothing — no closures, arrays or objects. It walks the subtable
 * array with an index, hashes into locals, probes typed-array hash indexes and ORs into the
 * caller's `wc`. (test/classifier/alloc.test.ts runs it under `--trace-gc` to prove it.)
 *
 * Trade-offs
 * ----------
 * - No prefix tries (OVS uses them to un-wildcard fewer address bits); megaflows for address
 *   prefixes are as wide as the masks of the subtables probed, which is sound but narrower than
 *   OVS would make them.
 * - The deterministic tie-break costs probes: OVS stops at the first subtable whose priority does
 *   not exceed the best match; we must still probe an equal-priority subtable holding an earlier
 *   rule. With few equal-priority overlaps this is rare.
 * - Removing the highest-priority rule of a subtable rescans that subtable's nodes to find the new
 *   maximum; removal is rarer than lookup by orders of magnitude.
 * - A rule's match must not change while it is in a classifier (ofp rules are frozen).
 */
import { hashWords } from "../base/index.js";
import { KEY_WORDS } from "../flow/index.js";
import type { Rule } from "../ofp/index.js";
import { Subtable, type Classifiable, type Entry } from "./subtable.js";

export type { Classifiable } from "./subtable.js";

export interface ClassifierOptions {
  /** Staged lookup by flow segment (default true). */
  readonly staged?: boolean;
  /** Lookups between refreshes of the subtable ranking; 0 turns ranking off (default 4096). */
  readonly rankInterval?: number;
}

export interface ClassifierStats {
  readonly rules: number;
  readonly subtables: number;
  readonly lookups: number;
  /** Subtables probed, summed over lookups. */
  readonly probes: number;
  /** `probes / lookups` (0 before the first lookup). */
  readonly avgProbes: number;
}

/** One subtable as `describe()` reports it, in probe order. */
export interface SubtableInfo {
  readonly mask: Uint32Array;
  readonly maxPriority: number;
  readonly rules: number;
  readonly hits: number;
  readonly stages: number;
}

export class Classifier<R extends Classifiable = Rule> {
  private readonly staged: boolean;
  private readonly rankInterval: number;
  /** Probe order: highest priority first; within equal highest priority, most hits first. */
  private readonly order: Subtable<R>[] = [];
  private readonly byMask = new Map<number, Subtable<R>[]>();
  private nextSeq = 0;
  private count = 0;
  private sinceRank = 0;

  /** Lookups so far. */
  lookups = 0;
  /** Subtables probed, summed over all lookups. */
  probes = 0;
  /** Subtables probed by the latest lookup. */
  lastProbes = 0;

  constructor(options: ClassifierOptions = {}) {
    this.staged = options.staged ?? true;
    this.rankInterval = options.rankInterval ?? 4096;
  }

  /** A classifier holding `rules`, inserted in order. */
  static from<R extends Classifiable = Rule>(rules: Iterable<R>, options?: ClassifierOptions): Classifier<R> {
    const c = new Classifier<R>(options);
    for (const r of rules) c.insert(r);
    return c;
  }

  /** Number of rules. */
  get size(): number {
    return this.count;
  }

  /** Number of subtables (distinct masks). */
  get subtableCount(): number {
    return this.order.length;
  }

  /**
   * The winning rule for `key` (a `KEY_WORDS`-word flow key), or undefined. When `wc` is given,
   * ORs into it every key bit examined (see the megaflow contract above). Allocates nothing.
   */
  lookup(key: Uint32Array, wc?: Uint32Array): R | undefined {
    const order = this.order;
    const n = order.length;
    let best: Entry<R> | undefined = undefined;
    let bestPriority = -1;
    let bestSeq = 0;
    let probes = 0;
    for (let i = 0; i < n; i++) {
      const st = order[i]!;
      const max = st.maxPriority;
      if (max < bestPriority) break;
      if (max === bestPriority && st.minSeqAtMax > bestSeq) continue;
      probes++;
      const node = st.find(key, wc);
      if (node === undefined) continue;
      st.hits++;
      const e = node.entries[0]!;
      if (e.priority > bestPriority || (e.priority === bestPriority && e.seq < bestSeq)) {
        best = e;
        bestPriority = e.priority;
        bestSeq = e.seq;
      }
    }
    this.lookups++;
    this.probes += probes;
    this.lastProbes = probes;
    if (this.rankInterval > 0 && ++this.sinceRank >= this.rankInterval) this.rerank();
    return best === undefined ? undefined : best.rule;
  }

  /** Adds `rule`; false (and no change) when this very rule object is already present. */
  insert(rule: R): boolean {
    const mask = rule.match.mask;
    const mh = hashWords(mask, 0, KEY_WORDS, 0);
    let st = this.findSubtable(mask, mh);
    let fresh = false;
    if (!st) {
      st = new Subtable<R>(mask, mh, this.staged);
      const list = this.byMask.get(mh);
      if (list) list.push(st);
      else this.byMask.set(mh, [st]);
      fresh = true;
    }
    const before = st.maxPriority;
    if (!st.insert(rule, this.nextSeq)) return false;
    this.nextSeq++;
    this.count++;
    if (fresh) this.place(st);
    else if (st.maxPriority !== before) this.reposition(st);
    return true;
  }

  /** Removes `rule` (the object inserted); false when it is not present. */
  remove(rule: R): boolean {
    const mask = rule.match.mask;
    const mh = hashWords(mask, 0, KEY_WORDS, 0);
    const st = this.findSubtable(mask, mh);
    if (!st) return false;
    const before = st.maxPriority;
    if (!st.remove(rule)) return false;
    this.count--;
    if (st.nRules === 0) {
      this.order.splice(this.order.indexOf(st), 1);
      const list = this.byMask.get(mh)!;
      list.splice(list.indexOf(st), 1);
      if (list.length === 0) this.byMask.delete(mh);
    } else if (st.maxPriority !== before) {
      this.reposition(st);
    }
    return true;
  }

  /** Every rule, in insertion order (allocates; not for hot paths). */
  rules(): R[] {
    const all: Entry<R>[] = [];
    for (const st of this.order) all.push(...st.entries());
    return all.sort((a, b) => a.seq - b.seq).map((e) => e.rule);
  }

  /** Counters since construction or the last `resetStats`. */
  stats(): ClassifierStats {
    return {
      rules: this.count,
      subtables: this.order.length,
      lookups: this.lookups,
      probes: this.probes,
      avgProbes: this.lookups === 0 ? 0 : this.probes / this.lookups,
    };
  }

  resetStats(): void {
    this.lookups = 0;
    this.probes = 0;
    this.lastProbes = 0;
  }

  /** The subtables in probe order (allocates; for tests and diagnostics). */
  describe(): SubtableInfo[] {
    return this.order.map((st) => ({ mask: Uint32Array.from(st.mask), maxPriority: st.maxPriority, rules: st.nRules, hits: st.hits, stages: st.stages }));
  }

  /**
   * Refreshes the probe order: highest priority first, then most hits; then halves every hit count
   * so old traffic fades. Called every `rankInterval` lookups; callable directly. Allocates nothing.
   */
  rerank(): void {
    const a = this.order;
    for (let i = 1; i < a.length; i++) {
      const x = a[i]!;
      let j = i - 1;
      while (j >= 0 && before(x, a[j]!)) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = x;
    }
    for (let i = 0; i < a.length; i++) a[i]!.hits >>>= 1;
    this.sinceRank = 0;
  }

  private findSubtable(mask: Uint32Array, mh: number): Subtable<R> | undefined {
    const list = this.byMask.get(mh);
    if (!list) return undefined;
    for (const st of list) {
      let i = 0;
      while (i < KEY_WORDS && st.mask[i] === mask[i]) i++;
      if (i === KEY_WORDS) return st;
    }
    return undefined;
  }

  /** Puts `st` after every subtable whose highest priority is at least its own. */
  private place(st: Subtable<R>): void {
    const a = this.order;
    let at = a.length;
    while (at > 0 && a[at - 1]!.maxPriority < st.maxPriority) at--;
    a.splice(at, 0, st);
  }

  private reposition(st: Subtable<R>): void {
    this.order.splice(this.order.indexOf(st), 1);
    this.place(st);
  }
}

/** True when `x` should be probed before `y`. */
function before<R extends Classifiable>(x: Subtable<R>, y: Subtable<R>): boolean {
  return x.maxPriority > y.maxPriority || (x.maxPriority === y.maxPriority && x.hits > y.hits);
}
