/**
 * The linear reference classifier: the obviously correct twin of the tuple-space classifier.
 *
 * What: the same interface and the same answers as `Classifier`, computed the slow way. Rules live
 * in one array in insertion order (a removal closes the gap, a re-insertion appends). A lookup
 * tests every rule with `matchesKey` and keeps the first one of the highest priority, which is
 * exactly the documented tie-break: highest priority, then earliest (current) insertion.
 *
 * Megaflow contract, trivially: a lookup ORs into `wc` the masks of all rules. Any key agreeing
 * with the looked-up key on those bits agrees with it on every bit any rule looks at, so every
 * rule matches both keys or neither, and the answer is the same.
 *
 * For tests and as a baseline in benchmarks; not for hot paths (it is O(rules) per lookup).
 */
import { KEY_WORDS, matchesKey } from "../flow/index.js";
import type { Rule } from "../ofp/index.js";
import type { Classifiable } from "./subtable.js";

export class LinearClassifier<R extends Classifiable = Rule> {
  private readonly list: R[] = [];

  static from<R extends Classifiable = Rule>(rules: Iterable<R>): LinearClassifier<R> {
    const c = new LinearClassifier<R>();
    for (const r of rules) c.insert(r);
    return c;
  }

  get size(): number {
    return this.list.length;
  }

  /** Adds `rule` at the end; false when this very rule object is already present. */
  insert(rule: R): boolean {
    if (this.list.includes(rule)) return false;
    this.list.push(rule);
    return true;
  }

  /** Removes `rule`; false when it is not present. */
  remove(rule: R): boolean {
    const i = this.list.indexOf(rule);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /** The first rule of the highest priority that matches `key`; ORs every rule's mask into `wc`. */
  lookup(key: Uint32Array, wc?: Uint32Array): R | undefined {
    let best: R | undefined;
    for (const r of this.list) {
      if (wc) for (let i = 0; i < KEY_WORDS; i++) wc[i]! |= r.match.mask[i]!;
      if ((best === undefined || r.priority > best.priority) && matchesKey(r.match, key)) best = r;
    }
    return best;
  }

  /** Every rule in insertion order. */
  rules(): R[] {
    return [...this.list];
  }
}
