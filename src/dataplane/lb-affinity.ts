/**
 * ovn-controller's load balancer affinity table (OpenFlow table 78, `OFTABLE_CHK_LB_AFFINITY`)
 * and the two actions over it, `chk_lb_aff()` and `commit_lb_aff(...)` (compile/lb-affinity.ts
 * has the logical flows that use them).
 *
 * What ovn-controller 23.03 installs:
 * - `commit_lb_aff(vip = "V[:VP]", backend = "B[:BP]"[, proto = P], timeout = T)` is an OpenFlow
 *   `learn`: a flow in table 78 matching the datapath (`metadata`), the VIP's family, the packet's
 *   source address, the VIP address and, when the VIP has a port, the protocol and that port as
 *   destination; its actions set flag bit 14 (`MLF_USE_LB_AFF_SESSION_BIT`), load B into `reg4`
 *   (IPv6: `xxreg0` on a switch, `xxreg1` on a router) and BP, when there is one, into
 *   `reg8[0..15]`. The learned flow has an idle timeout of T seconds. Learning it again replaces
 *   its backend and restarts the timeout.
 * - `R = chk_lb_aff()` clears flag bit 14, looks the packet up in table 78, and copies the flag
 *   bit into R: 1, with the backend loaded, when a learned flow matches.
 *
 * Here the learned flows are kept by their match: a learned flow with a port and one without
 * (two VIPs of one address, one with a port) can both match a packet, at one priority, where OVS
 * leaves the choice open; the one with the port is taken. The idle timeout runs on the captures'
 * clock (conntrack's, `CtClock`): a flow not used for more than T seconds is gone, as OVS's rule
 * expiry (`rule_expire`: `now > used + idle`) removes it; OVS checks about once a second and learns
 * a rule's use from datapath statistics, so its expiry can come up to about a second later. Use is
 * a lookup that matches (the flow cache repeats it for every packet of a megaflow that made it,
 * as OVS's statistics reach the learned rule) or a learn. Without a clock nothing expires.
 *
 * `version` moves whenever a learned flow comes, changes backend or expires, and the megaflows
 * that looked up its match (with its port and without), or looked into the table while it was
 * empty, are revalidated (learned-flows.ts). A lookup marks every field a learned flow can match
 * (`wc`), so a megaflow never depends on the table by a bit it does not match.
 *
 * In `trace` mode (ovn-trace 23.03) both actions do nothing, and `chk_lb_aff` leaves R as it was.
 */
import { W, field, getField, type FieldDef } from "../flow/index.js";
import { parseIpAddr, type CallAction, type IpAddr } from "../ofp/index.js";
import type { CtClock } from "./conntrack.js";
import type { CallContext, CallHandler } from "./execute.js";
import { unwildcard, writeSmall } from "./key-bits.js";
import { LearnedFlows, namedArg, parsedOnce, type LearnedProbe, type Queued } from "./learned-flows.js";

const NO_IDS: readonly string[] = [];

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
/** `MLF_USE_LB_AFF_SESSION_BIT`: the bit of the logical flags (reg10) a learned flow sets. */
const FLAG_BIT = 14;
const REG4 = W.REG0 + 4;
const REG10 = W.REG0 + 10;
const F_REG8 = field("reg8");
const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_TP_DST = field("tp_dst");
/** What any lookup reads: the datapath and family; then the addresses, protocol and port. */
const READS: readonly FieldDef[] = ["metadata", "eth_type"].map(field);
const READS_V4: readonly FieldDef[] = ["nw_src", "nw_dst", "nw_proto", "tp_dst"].map(field);
const READS_V6: readonly FieldDef[] = ["ipv6_src", "ipv6_dst", "nw_proto", "tp_dst"].map(field);

const PROTOS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** What `commit_lb_aff` learns, parsed from the action's text. */
interface Commit {
  readonly v6: boolean;
  /** Address words, most significant first (IPv4: one word). */
  readonly vip: readonly number[];
  readonly vipPort: number;
  readonly backend: readonly number[];
  readonly backendPort: number;
  /** 0 without a port. */
  readonly proto: number;
  readonly timeoutMs: number;
}

interface Learned extends Queued {
  readonly backend: readonly number[];
  readonly backendPort: number;
  readonly v6: boolean;
  timeoutMs: number;
  used: number;
}

/** "IP", "IP:PORT" or "[IP6]:PORT" as address words and a port (0: none); undefined when it does not parse. */
function endpoint(text: string): { v6: boolean; words: IpAddr; port: number } | undefined {
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const colon = text.indexOf(":");
  const [ip, port] = br ? [br[1]!, br[2]] : colon >= 0 && colon === text.lastIndexOf(":") ? [text.slice(0, colon), text.slice(colon + 1)] : [text, undefined];
  const words = parseIpAddr(ip);
  return words === undefined ? undefined : { v6: words.length === 4, words, port: port === undefined ? 0 : Number(port) };
}

function parseCommit(a: CallAction): Commit | undefined {
  const named = (n: string): string | undefined => namedArg(a, n);
  const vip = endpoint(named("vip") ?? "");
  const backend = endpoint(named("backend") ?? "");
  const timeout = Number(named("timeout"));
  const protoName = named("proto");
  if (!vip || !backend || vip.v6 !== backend.v6 || !Number.isInteger(timeout)) return undefined;
  return { v6: vip.v6, vip: vip.words, vipPort: vip.port, backend: backend.words, backendPort: backend.port, proto: protoName === undefined || vip.port === 0 ? 0 : (PROTOS[protoName] ?? 0), timeoutMs: timeout * 1000 };
}

export class LbAffinityTable extends LearnedFlows<Learned> {
  private readonly parsed = new WeakMap<CallAction, Commit | null>();

  constructor(clock?: CtClock) {
    super(clock, 1);
  }

  private get flows(): Map<string, Learned> {
    return this.tables[0]!;
  }

  protected end(f: Learned): number {
    return f.used + f.timeoutMs;
  }

  private static id(datapath: number, v6: boolean, src: readonly number[] | Uint32Array, dst: readonly number[] | Uint32Array, proto: number, port: number): string {
    return `${datapath}/${v6 ? 6 : 4}/${Array.prototype.join.call(src, ".")}/${Array.prototype.join.call(dst, ".")}/${proto}/${port}`;
  }

  /** `commit_lb_aff` on the packet `key` in datapath `datapath`. */
  commit(a: CallAction, datapath: number, key: Uint32Array): void {
    const c = parsedOnce(this.parsed, a, parseCommit);
    if (c === undefined) return;
    const src = c.v6 ? key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4) : key.subarray(W.NW_SRC, W.NW_SRC + 1);
    const id = LbAffinityTable.id(datapath, c.v6, src, c.vip, c.proto, c.proto === 0 ? 0 : c.vipPort);
    const now = this.now();
    const had = this.flows.get(id);
    let f = had;
    if (f !== undefined && f.backendPort === c.backendPort && f.backend.every((w, i) => w === c.backend[i])) {
      f.used = now;
      f.timeoutMs = c.timeoutMs;
    } else {
      f = { backend: c.backend, backendPort: c.backendPort, v6: c.v6, timeoutMs: c.timeoutMs, used: now, queued: Infinity };
      this.flows.set(id, f);
      this.changed(id);
    }
    this.learned(f, 0, id);
  }

  /**
   * `chk_lb_aff()` on `key` in datapath `datapath` (a switch or not): 1 with the backend loaded
   * when a learned flow matches (and is used), else 0; the flag bit as the learned flow leaves it.
   */
  check(key: Uint32Array, datapath: number, isSwitch: boolean, wc: Uint32Array | undefined, probes?: LearnedProbe[]): bigint {
    key[REG10] = (key[REG10]! & ~(1 << FLAG_BIT)) >>> 0;
    const et = getField(key, F_ETH_TYPE);
    if (wc !== undefined) for (const d of READS) unwildcard(wc, d);
    // No learned flow matches another family.
    if (et !== ETH_IP && et !== ETH_IPV6) return 0n;
    // An empty table examines nothing more; the flows learned later revalidate the megaflows made
    // before them (learned-flows.ts).
    if (this.size === 0) {
      this.probed(probes, this.flows, NO_IDS);
      return 0n;
    }
    const v6 = et === ETH_IPV6;
    if (wc !== undefined) for (const d of v6 ? READS_V6 : READS_V4) unwildcard(wc, d);
    const src = v6 ? key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4) : key.subarray(W.NW_SRC, W.NW_SRC + 1);
    const dst = v6 ? key.subarray(W.IPV6_DST, W.IPV6_DST + 4) : key.subarray(W.NW_DST, W.NW_DST + 1);
    const proto = getField(key, F_NW_PROTO);
    const withPort = LbAffinityTable.id(datapath, v6, src, dst, proto, getField(key, F_TP_DST));
    const withoutPort = LbAffinityTable.id(datapath, v6, src, dst, 0, 0);
    if (probes !== undefined) this.probed(probes, this.flows, [withPort, withoutPort]);
    const f = this.flows.get(withPort) ?? this.flows.get(withoutPort);
    if (f === undefined) return 0n;
    f.used = this.now();
    key[REG10] = (key[REG10]! | (1 << FLAG_BIT)) >>> 0;
    if (!f.v6) key[REG4] = f.backend[0]!;
    else {
      // xxreg0 is reg0..reg3 and xxreg1 reg4..reg7, the most significant word first.
      const at = isSwitch ? W.REG0 : REG4;
      for (let i = 0; i < 4; i++) key[at + i] = f.backend[i]!;
    }
    if (f.backendPort !== 0) writeSmall(key, F_REG8, 0, 16, f.backendPort);
    return 1n;
  }
}

/**
 * The `call` handlers over `table` (`table` mode): `chk_lb_aff` and `commit_lb_aff` as
 * ovn-controller installs them.
 */
export function lbAffinityCalls(table: LbAffinityTable): Readonly<Record<string, CallHandler>> {
  return Object.freeze({
    chk_lb_aff: (_a: CallAction, c: CallContext): bigint => table.check(c.key, c.datapath.key, c.datapath.kind === "switch", c.wc, c.probes),
    commit_lb_aff: (a: CallAction, c: CallContext): undefined => {
      table.commit(a, c.datapath.key, c.key);
      return undefined;
    },
  });
}

/** ovn-trace's: both actions do nothing (`chk_lb_aff` writes no result). */
export const TRACE_LB_AFFINITY_CALLS: Readonly<Record<string, CallHandler>> = Object.freeze({
  chk_lb_aff: (): undefined => undefined,
  commit_lb_aff: (): undefined => undefined,
});
