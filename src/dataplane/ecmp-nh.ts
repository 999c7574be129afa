/**
 * ovn-controller's tables of symmetric ECMP replies (OpenFlow tables 76, `OFTABLE_ECMP_NH_MAC`, and
 * 77, `OFTABLE_ECMP_NH`) and the three actions over them, `commit_ecmp_nh(...)`,
 * `chk_ecmp_nh_mac()` and `chk_ecmp_nh()`. northd uses them on a gateway router whose ECMP static
 * routes have `options:ecmp_symmetric_reply=true` (compile/router.ts `symmetricReplyFlows`).
 *
 * What ovn-controller 23.03 installs:
 * - `commit_ecmp_nh(ipv6 = B, proto = P)` is two OpenFlow `learn`s, each with an idle timeout of
 *   20 s and a hard timeout of 30 s:
 *   - into table 76, a flow matching the datapath, the packet's Ethernet source, the family (B),
 *     the packet's addresses and ports as they are, and protocol P;
 *   - into table 77, a flow matching the datapath, the family, protocol P, and the packet's
 *     addresses and ports swapped: what a reply carries.
 *   Both set flag bit 13 (`MLF_LOOKUP_COMMIT_ECMP_NH_BIT`). Learning a flow that is there already
 *   refreshes it: its hard timeout starts again (OVS's `ofproto_flow_mod_learn_refresh` sets the
 *   rule's `modified` time).
 * - `R = chk_ecmp_nh_mac()` and `R = chk_ecmp_nh()` clear flag bit 13, look the packet up in
 *   table 76 or 77, and copy the bit into R: 1 when a learned flow matches.
 *
 * A learned flow is gone once it has not been used for 20 s or was learned more than 30 s ago, on
 * the captures' clock (learned-flows.ts). Use is a lookup that matches (the flow cache repeats it
 * for every packet of a megaflow that made it, as OVS's statistics reach the learned rule) or a
 * learn. OVS checks for expiry about once a second, so its flows can outlive these by up to about
 * a second.
 *
 * `version` moves whenever a learned flow comes or expires (learning one that is there changes
 * nothing a lookup answers), and the megaflows that probed its match, or probed its table while it
 * was empty, are revalidated (learned-flows.ts). A lookup in a table that holds a flow marks every
 * field a learned flow matches (`wc`); in an empty one it marks nothing, as OVS's classifier has no
 * subtable to probe.
 *
 * In `trace` mode (ovn-trace 23.03) the three actions do nothing, and the checks leave R as it was.
 */
import { W, field, getField, type FieldDef } from "../flow/index.js";
import type { CallAction } from "../ofp/index.js";
import type { CtClock } from "./conntrack.js";
import type { CallContext, CallHandler } from "./execute.js";
import { unwildcard } from "./key-bits.js";
import { LearnedFlows, namedArg, parsedOnce, type LearnedProbe, type Queued } from "./learned-flows.js";

const NO_IDS: readonly string[] = [];

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
/** `MLF_LOOKUP_COMMIT_ECMP_NH_BIT`: the bit of the logical flags (reg10) a learned flow sets. */
const FLAG_BIT = 13;
const REG10 = W.REG0 + 10;
/** `learn(idle_timeout=20, hard_timeout=30, ...)`, in milliseconds. */
const IDLE_MS = 20_000;
const HARD_MS = 30_000;
const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const READS_V4: readonly FieldDef[] = ["metadata", "eth_type", "nw_src", "nw_dst", "nw_proto", "tp_src", "tp_dst"].map(field);
const READS_V6: readonly FieldDef[] = ["metadata", "eth_type", "ipv6_src", "ipv6_dst", "nw_proto", "tp_src", "tp_dst"].map(field);
const F_ETH_SRC = field("eth_src");

const PROTOS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

interface Learned extends Queued {
  used: number;
  modified: number;
}

/** `commit_ecmp_nh`'s arguments. */
interface Commit {
  readonly v6: boolean;
  readonly proto: number;
}

function parseCommit(a: CallAction): Commit | undefined {
  const v6 = namedArg(a, "ipv6");
  const proto = PROTOS[namedArg(a, "proto") ?? ""];
  if ((v6 !== "true" && v6 !== "false") || proto === undefined) return undefined;
  return { v6: v6 === "true", proto };
}

export class EcmpNextHopTable extends LearnedFlows<Learned> {
  private readonly parsed = new WeakMap<CallAction, Commit | null>();

  constructor(clock?: CtClock) {
    super(clock, 2);
  }

  /** Table 76, with the Ethernet source. */
  private get withMac(): Map<string, Learned> {
    return this.tables[0]!;
  }

  /** Table 77. */
  private get replies(): Map<string, Learned> {
    return this.tables[1]!;
  }

  protected end(f: Learned): number {
    return Math.min(f.used + IDLE_MS, f.modified + HARD_MS);
  }

  /** The match of a learned flow, or of a packet looked up: every field it has, as text. */
  private static id(datapath: number, mac: string, v6: boolean, src: ArrayLike<number>, dst: ArrayLike<number>, proto: number, sport: number, dport: number): string {
    return `${datapath}/${mac}/${v6 ? 6 : 4}/${Array.prototype.join.call(src, ".")}/${Array.prototype.join.call(dst, ".")}/${proto}/${sport}/${dport}`;
  }

  private static addrs(key: Uint32Array, v6: boolean): [Uint32Array, Uint32Array] {
    return v6 ? [key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4), key.subarray(W.IPV6_DST, W.IPV6_DST + 4)] : [key.subarray(W.NW_SRC, W.NW_SRC + 1), key.subarray(W.NW_DST, W.NW_DST + 1)];
  }

  /** Learns flow `id` in table `at` (0: table 76, 1: table 77) at time `now`. */
  private learn(at: number, id: string, now: number): void {
    const table = this.tables[at]!;
    let f = table.get(id);
    if (f !== undefined) {
      f.used = now;
      f.modified = now;
    } else {
      f = { used: now, modified: now, queued: Infinity };
      table.set(id, f);
      this.changed(id);
    }
    this.learned(f, at, id);
  }

  /** `commit_ecmp_nh(...)` on the packet `key` in datapath `datapath`. */
  commit(a: CallAction, datapath: number, key: Uint32Array): void {
    const c = parsedOnce(this.parsed, a, parseCommit);
    if (c === undefined) return;
    const [src, dst] = EcmpNextHopTable.addrs(key, c.v6);
    const sport = getField(key, F_TP_SRC);
    const dport = getField(key, F_TP_DST);
    const mac = `${key[W.ETH_SRC]}.${key[W.ETH_SRC + 1]}`;
    const now = this.now();
    this.learn(0, EcmpNextHopTable.id(datapath, mac, c.v6, src, dst, c.proto, sport, dport), now);
    this.learn(1, EcmpNextHopTable.id(datapath, "", c.v6, dst, src, c.proto, dport, sport), now);
  }

  /**
   * `chk_ecmp_nh_mac()` (`withMac`) or `chk_ecmp_nh()` on `key` in datapath `datapath`: 1 when a
   * learned flow matches (and is used), else 0; the flag bit as the learned flow leaves it.
   */
  check(key: Uint32Array, datapath: number, withMac: boolean, wc: Uint32Array | undefined, probes?: LearnedProbe[]): bigint {
    key[REG10] = (key[REG10]! & ~(1 << FLAG_BIT)) >>> 0;
    void this.version;
    const table = withMac ? this.withMac : this.replies;
    if (table.size === 0) {
      // Nothing examined; the flows learned later revalidate the megaflows made before them.
      this.probed(probes, table, NO_IDS);
      return 0n;
    }
    const et = getField(key, F_ETH_TYPE);
    const v6 = et === ETH_IPV6;
    if (wc !== undefined) {
      for (const d of v6 ? READS_V6 : READS_V4) unwildcard(wc, d);
      if (withMac) unwildcard(wc, F_ETH_SRC);
    }
    // No learned flow matches another family.
    if (et !== ETH_IP && et !== ETH_IPV6) return 0n;
    const [src, dst] = EcmpNextHopTable.addrs(key, v6);
    const mac = withMac ? `${key[W.ETH_SRC]}.${key[W.ETH_SRC + 1]}` : "";
    const id = EcmpNextHopTable.id(datapath, mac, v6, src, dst, getField(key, F_NW_PROTO), getField(key, F_TP_SRC), getField(key, F_TP_DST));
    if (probes !== undefined) this.probed(probes, table, [id]);
    const f = table.get(id);
    if (f === undefined) return 0n;
    f.used = this.now();
    key[REG10] = (key[REG10]! | (1 << FLAG_BIT)) >>> 0;
    return 1n;
  }
}

/**
 * The `call` handlers over `table` (`table` mode): `commit_ecmp_nh`, `chk_ecmp_nh_mac` and
 * `chk_ecmp_nh` as ovn-controller installs them.
 */
export function ecmpNextHopCalls(table: EcmpNextHopTable): Readonly<Record<string, CallHandler>> {
  return Object.freeze({
    chk_ecmp_nh_mac: (_a: CallAction, c: CallContext): bigint => table.check(c.key, c.datapath.key, true, c.wc, c.probes),
    chk_ecmp_nh: (_a: CallAction, c: CallContext): bigint => table.check(c.key, c.datapath.key, false, c.wc, c.probes),
    commit_ecmp_nh: (a: CallAction, c: CallContext): undefined => {
      table.commit(a, c.datapath.key, c.key);
      return undefined;
    },
  });
}

/** ovn-trace's: the three actions do nothing (the checks write no result). */
export const TRACE_ECMP_NH_CALLS: Readonly<Record<string, CallHandler>> = Object.freeze({
  chk_ecmp_nh_mac: (): undefined => undefined,
  chk_ecmp_nh: (): undefined => undefined,
  commit_ecmp_nh: (): undefined => undefined,
});
