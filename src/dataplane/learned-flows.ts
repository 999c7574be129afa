/**
 * Flows that ovn-controller's OpenFlow `learn` actions install, kept by their match in one or
 * more tables, and expiring on the captures' clock (conntrack's `CtClock`): what lb-affinity.ts
 * and ecmp-nh.ts share.
 *
 * A flow is gone once the clock is past the time `end(flow)` gives (OVS's `rule_expire` compares
 * `now > used + idle` and `now > modified + hard` the same way); without a clock nothing expires.
 * Flows wait for their end in a queue ordered by it, so that expiry costs a logarithm per flow, not
 * a look at every flow.
 * Expired flows leave when `version` (or `hasChanges`) is next read, which the datapath does before
 * every pass. `version` moves whenever a flow comes, changes what it does (`changed`) or expires.
 *
 * Revalidation. A flow is known by its match, as text (`id`). A lookup in translation records a
 * `LearnedProbe`: the ids of the flows that could answer it, or none at all when the table was
 * empty (then the lookup examined no bits, and any flow learned later may answer the megaflow's
 * packets). The table keeps the ids of the flows that came, changed or went since the datapath
 * last took them (`takeChanges`); the datapath then removes the megaflows whose probes name one
 * of them, or that probed the table while it was empty, as OVS's revalidators remove the
 * megaflows whose translation a flow table change alters, and keeps the rest.
 */
import type { CallAction } from "../ofp/index.js";
import type { CtClock } from "./conntrack.js";

/** The text of `a`'s argument `name = TEXT`, trimmed and unquoted; undefined when it has none. */
export function namedArg(a: CallAction, name: string): string | undefined {
  const x = a.args.find((y) => y.kind === "text" && y.name === name);
  if (x === undefined || x.kind !== "text") return undefined;
  const t = x.text.trim();
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** `parse(a)`, parsed once per action and kept in `cache`; undefined when it does not parse. */
export function parsedOnce<C>(cache: WeakMap<CallAction, C | null>, a: CallAction, parse: (a: CallAction) => C | undefined): C | undefined {
  let c = cache.get(a);
  if (c === undefined) {
    c = parse(a) ?? null;
    cache.set(a, c);
  }
  return c ?? undefined;
}

/**
 * A lookup that a translation made in a table of learned flows: the ids of the flows that could
 * have answered it, or undefined when the table was empty (any flow learned later could).
 */
export interface LearnedProbe {
  readonly table: LearnedFlows<Queued>;
  readonly ids: readonly string[] | undefined;
}

/** Changes kept for the datapath before it is told to revalidate everything instead. */
const MAX_PENDING = 4096;

/** What the table keeps of each flow for its expiry: when its entry in the queue says it expires. */
export interface Queued {
  queued: number;
}

/** An entry of the expiry queue: flow `id` of table `table` expires at `end`, unless it was used since. */
interface Due {
  readonly end: number;
  readonly table: number;
  readonly id: string;
}

export abstract class LearnedFlows<F extends Queued> {
  protected readonly clock: CtClock | undefined;
  /** The tables, each a map of flows by match. */
  protected readonly tables: Map<string, F>[];
  private changes = 0;
  /**
   * The expiry queue, a binary min-heap by `end`: one live entry per flow, at `F.queued` (an entry
   * whose time is not its flow's `queued` is stale and skipped). A flow used since its entry was
   * queued is queued again, at its new end, when the entry comes up, so use costs nothing here.
   */
  private readonly due: Due[] = [];
  /** The ids of the flows that came, changed or went since `takeChanges`; `overflowed` past `MAX_PENDING`. */
  private pending: string[] = [];
  private overflowed = false;

  constructor(clock: CtClock | undefined, tables: number) {
    this.clock = clock;
    this.tables = Array.from({ length: tables }, () => new Map<string, F>());
  }

  /** When flow `f` expires, on the clock: it is gone once the clock is past it. */
  protected abstract end(f: F): number;

  /** Moves when a learned flow comes, changes or expires (see the module header). */
  get version(): number {
    const due = this.due;
    if (this.clock !== undefined && due.length > 0 && this.clock.now > due[0]!.end) this.expire();
    return this.changes;
  }

  /** Learned flows now, in all tables (expired ones removed). */
  get size(): number {
    void this.version;
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /** The clock's time (0 without one). */
  protected now(): number {
    return this.clock?.now ?? 0;
  }

  /** The flow `id` came or changed what a lookup answers: the version moves. */
  protected changed(id: string): void {
    this.changes++;
    this.note(id);
  }

  private note(id: string): void {
    if (this.overflowed) return;
    if (this.pending.length >= MAX_PENDING) {
      this.overflowed = true;
      this.pending = [];
    } else this.pending.push(id);
  }

  /** Whether flows came, changed or went since `takeChanges` (expired ones removed first). */
  get hasChanges(): boolean {
    void this.version;
    return this.pending.length > 0 || this.overflowed;
  }

  /**
   * The ids of the flows that came, changed or went since the last call, which it forgets; or
   * undefined when there were too many to keep (the caller revalidates every probe of the table).
   */
  takeChanges(): readonly string[] | undefined {
    void this.version;
    const out = this.overflowed ? undefined : this.pending;
    this.pending = [];
    this.overflowed = false;
    return out;
  }

  /**
   * `probes` (a translation's, when given) gets a lookup of `ids` in `table`, or of anything when
   * that table is empty (the lookup examined nothing).
   */
  protected probed(probes: LearnedProbe[] | undefined, table: Map<string, F>, ids: readonly string[]): void {
    if (probes !== undefined) probes.push({ table: this, ids: table.size === 0 ? undefined : ids });
  }

  /**
   * Flow `f`, `id` in table `table`, was learned or learned again: it is queued to expire at its
   * `end`, unless an entry for an earlier time is queued already (which queues it again when it
   * comes up). A new flow has `queued` Infinity.
   */
  protected learned(f: F, table: number, id: string): void {
    const end = this.end(f);
    if (end >= f.queued) return;
    f.queued = end;
    this.push({ end, table, id });
  }

  /** Removes the flows past their end, the earliest first; requeues those used since they were queued. */
  private expire(): void {
    const now = this.clock!.now;
    const due = this.due;
    while (due.length > 0 && now > due[0]!.end) {
      const e = this.pop();
      const t = this.tables[e.table]!;
      const f = t.get(e.id);
      if (f === undefined || f.queued !== e.end) continue;
      const end = this.end(f);
      if (now > end) {
        t.delete(e.id);
        this.changes++;
        this.note(e.id);
      } else {
        f.queued = end;
        this.push({ end, table: e.table, id: e.id });
      }
    }
  }

  private push(e: Due): void {
    const h = this.due;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (h[up]!.end <= e.end) break;
      h[i] = h[up]!;
      i = up;
    }
    h[i] = e;
  }

  private pop(): Due {
    const h = this.due;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1]!.end < h[l]!.end ? l + 1 : l;
        if (h[c]!.end >= last.end) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/**
 * Megaflows (`M`) by the learned flows their probes name, for revalidation in time proportional
 * to the changes rather than to the megaflows: per table, the megaflows that probed each id, and
 * those that probed it while it was empty (any change affects them). Entries of megaflows that
 * are gone (`dead`) are skipped, and swept out whenever the entries have doubled since the last
 * sweep.
 */
export class ProbeIndex<M extends { readonly dead: boolean }> {
  private readonly byTable = new Map<LearnedFlows<Queued>, { readonly ids: Map<string, Set<M>>; readonly any: Set<M> }>();
  /** Entries over all sets, of live megaflows or not. */
  private entries = 0;
  /** `entries` past which `add` sweeps: twice what was left after the last sweep (amortised). */
  private sweepAt = 4096;

  /** Indexes megaflow `m` under its `probes`. */
  add(m: M, probes: readonly LearnedProbe[]): void {
    for (const p of probes) {
      let t = this.byTable.get(p.table);
      if (t === undefined) {
        t = { ids: new Map(), any: new Set() };
        this.byTable.set(p.table, t);
      }
      if (p.ids === undefined) t.any.add(m);
      else {
        for (const id of p.ids) {
          let s = t.ids.get(id);
          if (s === undefined) {
            s = new Set();
            t.ids.set(id, s);
          }
          s.add(m);
        }
      }
      this.entries += p.ids === undefined ? 1 : p.ids.length;
    }
    if (this.entries > this.sweepAt) this.sweep();
  }

  /**
   * Calls `remove` for each live megaflow that a change of table `table` may answer otherwise:
   * those that probed one of `ids` (undefined: any id) or probed the table while it was empty.
   */
  affected(table: LearnedFlows<Queued>, ids: readonly string[] | undefined, remove: (m: M) => void): void {
    const t = this.byTable.get(table);
    if (t === undefined) return;
    const hit = (s: Set<M> | undefined): void => {
      if (s === undefined) return;
      for (const m of s) if (!m.dead) remove(m);
      this.entries -= s.size;
      s.clear();
    };
    hit(t.any);
    if (ids === undefined) {
      for (const s of t.ids.values()) hit(s);
      t.ids.clear();
    } else {
      for (const id of ids) {
        hit(t.ids.get(id));
        t.ids.delete(id);
      }
    }
  }

  /** Forgets everything (the cache was flushed). */
  clear(): void {
    this.byTable.clear();
    this.entries = 0;
    this.sweepAt = 4096;
  }

  /** Drops the entries of megaflows that are gone. */
  private sweep(): void {
    let entries = 0;
    for (const t of this.byTable.values()) {
      for (const m of t.any) if (m.dead) t.any.delete(m);
      entries += t.any.size;
      for (const [id, s] of t.ids) {
        for (const m of s) if (m.dead) s.delete(m);
        if (s.size === 0) t.ids.delete(id);
        else entries += s.size;
      }
    }
    this.entries = entries;
    this.sweepAt = 2 * entries + 4096;
  }
}
