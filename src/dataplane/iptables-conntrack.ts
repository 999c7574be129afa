/**
 * Linux netfilter connection tracking, as far as NAT needs it, for one network namespace.
 *
 * What
 * ----
 * A table of connections, each with its original-direction tuple (as the first packet arrived)
 * and its reply-direction tuple (what a reply looks like on the wire after NAT), plus which
 * translations were applied. A packet whose tuple equals a connection's original tuple belongs to
 * it in the original direction; one that equals a reply tuple, in the reply direction. Nothing
 * else is "known": such a packet is NEW.
 *
 * Semantics (Linux's, simplified)
 * -------------------------------
 * - Tuples are (protocol, source, source port, destination, destination port). ICMP has no ports
 *   in the flow key (its echo identifier is not in the layout), so ICMP tuples use port 0: two
 *   hosts pinging the same destination through the same SNAT address share a reply tuple, where
 *   Linux would give them distinct identifiers. Other protocols use port 0 too.
 * - Source port choice on SNAT: the original port is kept unless the resulting reply tuple is
 *   already some connection's reply tuple; then the next free port upwards in the same range is
 *   taken (1-511, 600-1023 or 1024-65535, as Linux groups ports when no range is given),
 *   wrapping around. Linux starts its search at a hashed or random offset instead; the result is
 *   the same as long as nothing clashes, and deterministic here. `--random-fully` is not modelled.
 * - Entries never expire and TCP state is not followed; `clear()` empties the table.
 */
import { hashAdd, hashFinish } from "../base/index.js";

/** One direction of a connection. */
export interface NfTuple {
  readonly proto: number;
  readonly src: number;
  readonly sport: number;
  readonly dst: number;
  readonly dport: number;
}

export interface NfConnection {
  /** Creation order, from 1. */
  readonly id: number;
  readonly orig: NfTuple;
  readonly reply: NfTuple;
  /** The destination was translated (DNAT) in the original direction. */
  readonly dnat: boolean;
  /** The source was translated (SNAT) in the original direction. */
  readonly snat: boolean;
  /** A reply-direction packet has been seen (Linux's ASSURED/SEEN_REPLY, roughly). */
  seenReply: boolean;
}

export type NfDirection = "original" | "reply";

export interface NfLookup {
  readonly conn: NfConnection;
  readonly dir: NfDirection;
}

function hashTuple(t: NfTuple): number {
  let h = hashAdd(0, t.proto);
  h = hashAdd(h, t.src);
  h = hashAdd(h, t.dst);
  h = hashAdd(h, ((t.sport << 16) | t.dport) >>> 0);
  return hashFinish(h, 16);
}

export function tupleEquals(a: NfTuple, b: NfTuple): boolean {
  return a.proto === b.proto && a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport;
}

/** The tuple of the opposite direction, before any translation. */
export function invertTuple(t: NfTuple): NfTuple {
  return { proto: t.proto, src: t.dst, sport: t.dport, dst: t.src, dport: t.sport };
}

/** Protocols whose tuples carry ports. */
export function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132;
}

/** The port range Linux searches for a clash-free source port, given the original one. */
export function portRangeOf(port: number): { readonly lo: number; readonly hi: number } {
  if (port < 512) return { lo: 1, hi: 511 };
  if (port < 1024) return { lo: 600, hi: 1023 };
  return { lo: 1024, hi: 65535 };
}

export class NfConntrack {
  /** Tuple hash → connections having that tuple in either direction. */
  private readonly buckets = new Map<number, NfLookup[]>();
  private readonly all: NfConnection[] = [];

  /** The connection and direction `t` belongs to, if any. */
  lookup(t: NfTuple): NfLookup | undefined {
    const b = this.buckets.get(hashTuple(t));
    if (!b) return undefined;
    for (const e of b) {
      const own = e.dir === "original" ? e.conn.orig : e.conn.reply;
      if (tupleEquals(own, t)) return e;
    }
    return undefined;
  }

  /** True when some connection uses `t` as a tuple (either direction). */
  inUse(t: NfTuple): boolean {
    return this.lookup(t) !== undefined;
  }

  /** Adds a connection; returns it. */
  add(orig: NfTuple, reply: NfTuple, dnat: boolean, snat: boolean): NfConnection {
    const conn: NfConnection = { id: this.all.length + 1, orig, reply, dnat, snat, seenReply: false };
    this.all.push(conn);
    this.index(orig, { conn, dir: "original" });
    this.index(reply, { conn, dir: "reply" });
    return conn;
  }

  /**
   * The source port SNAT to `toIp` gives a connection whose reply comes from `peer`:`peerPort`
   * (see the module header). Undefined when every port of the range is taken.
   */
  chooseSourcePort(proto: number, toIp: number, sport: number, peer: number, peerPort: number): number | undefined {
    const taken = (p: number): boolean => this.inUse({ proto, src: peer, sport: peerPort, dst: toIp, dport: p });
    if (!hasPorts(proto) || !taken(sport)) return sport;
    const { lo, hi } = portRangeOf(sport);
    const n = hi - lo + 1;
    for (let i = 1; i <= n; i++) {
      const p = lo + ((sport - lo + i) % n + n) % n;
      if (!taken(p)) return p;
    }
    return undefined;
  }

  /** Every connection, oldest first. */
  connections(): readonly NfConnection[] {
    return this.all;
  }

  get size(): number {
    return this.all.length;
  }

  clear(): void {
    this.buckets.clear();
    this.all.length = 0;
  }

  private index(t: NfTuple, e: NfLookup): void {
    const h = hashTuple(t);
    const b = this.buckets.get(h);
    if (b) b.push(e);
    else this.buckets.set(h, [e]);
  }
}
