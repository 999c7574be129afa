/**
 * Flows that ovn-controller's OpenFlow `learn` actions install, kept by their match in one or
 * more tables, and expiring on the captures' clock (conntrack's `CtClock`): what lb-affinity.ts
 * and ecmp-nh.ts share.
 *
 * A flow is gone once the clock is past the time `end(flow)` gives (OVS's `rule_expire` compares
 * `now > used + idle` and `now > modified + hard` the same way); without a clock nothing expires.
 * Expired flows leave when `version` is next read, which the datapath does before every pass.
 * `version` moves whenever a flow comes, changes what it does (`changed`) or expires: the flow
 * cache drops its megaflows then, as OVS revalidates them after a flow table change, since some
 * of them read the table.
 */
import type { CtClock } from "./conntrack.js";

export abstract class LearnedFlows<F> {
  protected readonly clock: CtClock | undefined;
  /** The tables, each a map of flows by match. */
  protected readonly tables: Map<string, F>[];
  private changes = 0;
  /** The earliest time a learned flow may have expired by (Infinity: none can). */
  private nextExpiry = Infinity;

  constructor(clock: CtClock | undefined, tables: number) {
    this.clock = clock;
    this.tables = Array.from({ length: tables }, () => new Map<string, F>());
  }

  /** When flow `f` expires, on the clock: it is gone once the clock is past it. */
  protected abstract end(f: F): number;

  /** Moves when a learned flow comes, changes or expires (see the module header). */
  get version(): number {
    if (this.clock !== undefined && this.clock.now > this.nextExpiry) this.expire();
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

  /** Something learned changed what a lookup answers: the version moves. */
  protected changed(): void {
    this.changes++;
  }

  /** Flow `f` was learned or learned again: it expires no earlier than its `end` now says. */
  protected learned(f: F): void {
    const end = this.end(f);
    if (end < this.nextExpiry) this.nextExpiry = end;
  }

  private expire(): void {
    const now = this.clock!.now;
    let next = Infinity;
    for (const t of this.tables) {
      for (const [k, f] of t) {
        const end = this.end(f);
        if (now > end) {
          t.delete(k);
          this.changes++;
        } else if (end < next) next = end;
      }
    }
    this.nextExpiry = next;
  }
}
