/**
 * The logical-level executor: runs a compiled `LogicalProgram` on a flow key, as ovn-trace
 * interprets logical flows, but with real conntrack state (or ovn-trace's assumed states).
 *
 * What
 * ----
 * `LogicalExecutor.run(key, { datapath, inport })` injects a packet into the ingress pipeline of a
 * datapath and follows it through every table, pipeline and datapath it reaches. The result lists
 * every delivery (`outputs`) and every drop (`drops`), each with a copy of the packet as it was at
 * that point; a packet may have several of each (floods, clones).
 *
 * Semantics (OVN's, as ovn-trace implements them)
 * -----------------------------------------------
 * - Lookup: per datapath, pipeline and table one `Classifier`, built when a packet first meets the
 *   datapath (a trace on a large network meets a few); the highest-priority matching rule wins. A
 *   miss is an implicit drop (`no-match`, naming the table and stage). A rule with no actions is
 *   OVN's `drop;`. A rule whose actions end without sending the packet anywhere (no `next`,
 *   `output`, `clone`, recirculating `ct`, ...) drops it too (`actions-end`; a rule that only logs
 *   is OVN's logged `drop`, and its reason is a drop's).
 * - `next` goes to the following table (or the one named) of the same pipeline. Actions are
 *   subroutines: after a nested `next`, `output` or `clone` returns, the rule's remaining actions
 *   run. A `next` that is the last action is a jump and costs no nesting depth.
 * - `output` in the ingress pipeline runs the egress pipeline of the same datapath with reg0..reg9
 *   cleared, as ovn-controller's flows clear them (flags and zones, reg10..reg13, go on), or in
 *   `crossing: "ovn-trace"` mode every register but `inport` (reg14) and `outport` (reg15), as
 *   ovn-trace clears them. For a multicast group (key >= 32768) it runs once per member port,
 *   skipping the input port unless `flags.loopback` (reg10 bit 0) is set; a unicast output to the
 *   input port without loopback is dropped (`loopback`).
 *   Outport 0 is `null-outport`; a key the datapath does not have is `unknown-port`.
 * - `output` in the egress pipeline delivers: to the outside for a VIF, localnet, remote or any
 *   other port without a peer (an `outputs` entry), or, for a patch port, into the peer datapath's
 *   ingress pipeline with `inport` = the peer port. Crossing resets state as ovn-controller does
 *   (conntrack fields and every register cleared) or, in `crossing: "ovn-trace"` mode, as
 *   ovn-trace does (only `inport` set and `outport` cleared). With a chassis's `chassisMacs`, a
 *   localnet port's output from a router port MAC leaves with the chassis's MAC, and a packet
 *   injected at a localnet port from another chassis's MAC starts with the router port's.
 * - Conntrack: `ct` / `ct_lb` with a `table` fork the packet, as OVS recirculation and ovn-trace
 *   do: a copy with the conntrack result continues in that table, and the actions after it run on
 *   the packet as it was. Without `table`, the result applies in place (a plain `ct_commit` leaves
 *   the `ct_*` fields alone, as ovn-trace does). In `crossing: "ovn-controller"` mode the packet
 *   is untracked after either, its `ct_*` fields cleared, as OVS leaves it after any `ct` action
 *   (only a recirculated copy sees a result). State comes from a
 *   `Conntrack` table (mode `table`, the default; it lives across `run` calls) or from ovn-trace's
 *   `--ct` list (mode `trace`); see conntrack.ts.
 * - `dec_ttl` drops a packet whose TTL would reach 0 (`ttl-exceeded`, as OVS's `dec_ttl` does)
 *   and a non-IP packet (`not-ip`).
 * - Generated packets (`arp_reply`, `icmp4_error`, `icmp4_echo_reply`, `icmp6_error`,
 *   `icmp6_echo_reply`, `nd_na`) run their nested actions on a new key built from the current one;
 *   the current packet then continues. `controller`, `log` and `note` are reported and change
 *   nothing. `push_vlan` / `pop_vlan` / `decap` edit the key; `encap` has no meaning at the
 *   logical level and drops (`unsupported-action`).
 * - Limits (limits.ts) end a branch with a `loop-*` drop; nothing can run forever.
 *
 * The input key is not modified. Trace events are built only when a sink is given.
 */
import { Classifier, LinearClassifier } from "../classifier/index.js";
import { CT, W, copyKey, field, flowHashSymmetricL3L4, flowHashSymmetricL4, getField, setField, type FieldDef } from "../flow/index.js";
import { macAt, servedWhereEntered, setMacAt, type Action, type ChassisMacRules, type LocalnetAttachment, type Backend, type CallAction, type CtAction, type GeneratedPacket, type MoveAction, type CtLbAction, type LogicalDatapath, type LogicalPort, type LogicalProgram, type Pipeline, type Placement, type Program, type ProgramLoadBalancer, type Rule } from "../ofp/index.js";
import { Conntrack, CtStateQueue, type Connection, type CtOutcome, type CtRequest, clearCtFields, ctStateOf, lbDstMatches, setCtState, traceLbDnat, traceNat } from "./conntrack.js";
import { isDropReason, type DropReason } from "./drop-reason.js";
import { readBits, readFieldWords, readSmall, setFieldMasked, unwildcard, wordsToBig, writeBits, writeSmall, writeWholeWide, inOneWord } from "./key-bits.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { EcmpNextHopTable, TRACE_ECMP_NH_CALLS, ecmpNextHopCalls } from "./ecmp-nh.js";
import type { LearnedFlows, LearnedProbe, Queued } from "./learned-flows.js";
import { LbAffinityTable, TRACE_LB_AFFINITY_CALLS, lbAffinityCalls } from "./lb-affinity.js";
import { LbHairpin, type HairpinSnat } from "./lb-hairpin.js";
import { macWordsText } from "./linux-box.js";
import { MacBindingTable, macBindingCalls, type MacBindingEntry } from "./mac-binding.js";
import { l2Length, madeL3Length } from "./packet-length.js";
import { bestBucket, dpHashBucket, dpHashFits } from "./select-group.js";
import type { DropRecord, FieldChange, LimitEvent, OutputRecord, TraceSink, TunnelRecord } from "./trace-sink.js";

/** Where conntrack state comes from. */
export type CtMode =
  /** A real connection table (a fresh one when `conntrack` is not given). */
  | { readonly kind: "table"; readonly conntrack?: Conntrack }
  /** ovn-trace's `--ct`: states consumed in order by successive conntrack actions. */
  | { readonly kind: "trace"; readonly states?: readonly number[] };

export interface ExecutorOptions {
  readonly limits?: Partial<Limits>;
  readonly ct?: CtMode;
  /** ovn-trace's `--lb-dst`: the backend `ct_lb` picks for new connections when it has it. */
  readonly lbDst?: Backend;
  /**
   * Whose rules a packet's registers follow from ingress into egress and across a patch port, and
   * its `ct_*` fields after a `ct` that does not recirculate: ovn-controller's flows in OVS or
   * ovn-trace's; defaults to `ovn-trace` in trace mode.
   */
  readonly crossing?: "ovn-controller" | "ovn-trace";
  /**
   * Which classifier serves each table: the tuple-space `Classifier` (default) or its linear
   * reference twin (for differential tests).
   */
  readonly classifier?: "tuple" | "linear";
  /**
   * Handlers for `call` actions by function name, over the defaults (`DEFAULT_CALLS`) and the
   * neighbour-table handlers (`macBindings`).
   */
  readonly calls?: Readonly<Record<string, CallHandler>>;
  /**
   * The learned neighbour table (OVN's Southbound `MAC_Binding`, which is what ovn-trace reads):
   * `get_arp` / `get_nd` set `eth.dst` from it, `lookup_arp` / `lookup_nd` (and their `_ip`
   * forms) test it. In `table` mode `put_arp` / `put_nd` also learn into it (as ovn-controller
   * does), so later packets of the same executor see what earlier ones taught; in `trace` mode
   * they change nothing, as in ovn-trace. Without it the table starts empty. See mac-binding.ts.
   */
  readonly macBindings?: readonly MacBindingEntry[] | MacBindingTable;
  /**
   * ovn-trace's `--select-id`: the member `select()` picks when it is one of its choices (ECMP
   * routes and policies). Otherwise the pick is OVS's (`chooseMember`).
   */
  readonly selectId?: number;
  /**
   * The distributed port a chassis-redirect port stands for, by port name (`cr-lrp1` → `lrp1`,
   * the Southbound `options:distributed-port`). Output to a chassis-redirect port runs the egress
   * pipeline for its distributed port, as ovn-controller does on the gateway chassis and ovn-trace
   * does always. Default: northd's naming, `cr-NAME` → the port `NAME` of the same datapath.
   */
  readonly chassisRedirects?: ReadonlyMap<string, string>;
  /**
   * Names of the datapaths with a local `l3gateway` port: gateway routers (`options:chassis`) and
   * the switches attached to them. In `trace` mode a `ct_snat;` without an address on one of them
   * ends the branch with `trace-unsnat`, as ovn-trace does (it has no connection to un-SNAT, and
   * stops there rather than send the packet on unchanged). Other modes ignore this.
   */
  readonly gatewayRouters?: ReadonlySet<string>;
  /**
   * One chassis's view of where ports are (`compile/physical.ts`): datapath key → port key →
   * placement; ports absent are local. With it, an ingress `output` to a port on another chassis
   * becomes a `tunnels` entry (the egress pipeline runs there, via `runFromTunnel`), output to a
   * port behind a localnet port goes out that localnet port, and output to an unbound port is
   * dropped, as ovn-controller's tables 37 and 38 do. Without it every port is local, as in
   * ovn-trace.
   */
  readonly placement?: ReadonlyMap<number, ReadonlyMap<number, Placement>>;
  /**
   * The chassis's chassis-MAC rewrites (`PhysicalChassis.chassisMacs`), which come with
   * `placement`: a packet injected at a localnet port with another chassis's MAC as its source gets
   * the switch's router port MAC instead before its pipeline, and output to a localnet port from a
   * router port MAC there leaves with this chassis's MAC. Every packet that enters the chassis (not
   * a resumed pass) has its source MAC examined, as table 0 does.
   */
  readonly chassisMacs?: ChassisMacRules;
  /**
   * The chassis's localnet attachments (`PhysicalChassis.localnets`), which come with
   * `placement`: output to a localnet port addressed to a MAC its provider bridge has learned
   * behind that port (`LocalnetAttachment.learned`) goes nowhere.
   */
  readonly localnets?: ReadonlyMap<number, LocalnetAttachment>;
  /**
   * What the provider bridges have learned so far, where that changes as packets go (replay's
   * provider networks): the MAC in key words `hi`/`lo` as learned behind the patch port of
   * localnet port `port` of `datapath`, or undefined. Given, it replaces `localnets`' `learned`
   * lists (the announced MACs), and a flow cache must drop its megaflows whenever it changes.
   */
  readonly learnedBehind?: (datapath: number, port: number, hi: number, lo: number) => string | undefined;
  /**
   * `table` mode, where the packets are frames (replay): the L3 length of the packet `key`
   * describes, as OVS's `check_pkt_len` measures it (packet-length.ts), which `check_pkt_larger`
   * compares with its argument. A pass that asks for it cannot become a megaflow (`XlateRecord.slow`).
   * Without it `check_pkt_larger` answers 0, as ovn-trace leaves its result.
   */
  readonly packetL3Length?: (key: Uint32Array) => number;
}

/** What a `call` handler sees: the packet and where it is. */
export interface CallContext {
  readonly key: Uint32Array;
  readonly datapath: LogicalDatapath;
  readonly pipeline: Pipeline;
  /**
   * Present when the flow cache translates the pass: the handler must OR into it every bit of
   * `key` it reads besides its field arguments (the executor adds those), or the megaflow would
   * match packets the handler would answer differently.
   */
  readonly wc?: Uint32Array;
  /**
   * Present when the flow cache translates the pass: a handler that looks a packet up in a table
   * of learned flows records the lookup (learned-flows.ts), so that the megaflow is revalidated
   * when a flow it could meet comes or goes.
   */
  readonly probes?: LearnedProbe[];
}

/**
 * Computes a `call` action's result (written into its `result` bit range when it has one), and may
 * edit the key. Undefined means "no result": the range is left alone.
 */
export type CallHandler = (action: CallAction, ctx: CallContext) => bigint | undefined;

/**
 * ovn-trace's `chk_lb_hairpin` (`reply` false) and `chk_lb_hairpin_reply` (`reply` true): 1 when
 * the packet was DNATed, its source equals its new destination, and its destination before the
 * DNAT (`ct_nw_dst` / `ct_ipv6_dst`) is a VIP of one of the switches' load balancers whose port is
 * `ct_tp_dst` (for `chk_lb_hairpin`) or the packet's own destination port (for
 * `chk_lb_hairpin_reply`); a VIP without a port stands for port 0, as ovn-trace compares them.
 * Where several VIPs share an address, ovn-trace checks the port of whichever it meets first; here
 * any of them will do.
 */
function traceHairpinCall(lbs: readonly ProgramLoadBalancer[], reply: boolean): CallHandler {
  const vipKey = (ip: readonly number[], port: number): string => `${ip.map((w) => w >>> 0).join(".")}/${port}`;
  const vips = new Set<string>();
  for (const lb of lbs) for (const v of lb.vips) vips.add(vipKey(v.ip, v.port ?? 0));
  const plain = DEFAULT_CALLS.chk_lb_hairpin!;
  return (a: CallAction, c: CallContext): bigint => {
    if (plain(a, c) === 0n) return 0n;
    const k = c.key;
    if (c.wc) for (const f of reply ? HAIRPIN_REPLY_VIP_READS : HAIRPIN_VIP_READS) unwildcard(c.wc, f);
    const v6 = getField(k, F_ETH_TYPE) === ETH_IPV6;
    const ip = v6 ? [k[W.CT_IPV6_DST]!, k[W.CT_IPV6_DST + 1]!, k[W.CT_IPV6_DST + 2]!, k[W.CT_IPV6_DST + 3]!] : [k[W.CT_NW_DST]!];
    const port = reply ? getField(k, F_TP_DST) : k[W.CT_TP]! & 0xffff;
    return vips.has(vipKey(ip, port)) ? 1n : 0n;
  };
}

/**
 * Default `call` handlers, as ovn-trace models these functions when no state says otherwise:
 * learning actions (`put_arp`, `put_nd`, `put_fdb`) change nothing; lookups in learned tables
 * (`lookup_arp`, `lookup_nd`, `lookup_fdb`, `get_fdb`, `lookup_arp_ip`, `lookup_nd_ip`) find
 * nothing (0); `chk_lb_hairpin` is 1 when the packet was DNATed and its source equals its new
 * destination, and `chk_lb_hairpin_reply` 0 (in `trace` mode `traceHairpinCall` answers both as
 * ovn-trace does, with its check of the VIP and port). In `table` mode ovn-controller's hairpin
 * tables answer both instead (lb-hairpin.ts). Port security checks (`check_in_port_sec`, `check_out_port_sec`) need the ports' security addresses, which
 * `LogicalPort` does not carry: the default answers 0 (allowed), and a caller with the model
 * supplies a real handler. Any other function answers 0.
 */
export const DEFAULT_CALLS: Readonly<Record<string, CallHandler>> = Object.freeze({
  chk_lb_hairpin: (_a: CallAction, c: CallContext): bigint => {
    const k = c.key;
    if (c.wc) unwildcard(c.wc, F_CT_STATE);
    if ((ctStateOf(k) & CT.DNAT) === 0) return 0n;
    // The megaflow matches the addresses of the packet's own family only.
    if (c.wc) unwildcard(c.wc, F_ETH_TYPE);
    const et = getField(k, F_ETH_TYPE);
    if (et === ETH_IP) {
      if (c.wc) for (const f of HAIRPIN_READS_V4) unwildcard(c.wc, f);
      return k[W.NW_SRC] === k[W.NW_DST] ? 1n : 0n;
    }
    if (et === ETH_IPV6) {
      if (c.wc) for (const f of HAIRPIN_READS_V6) unwildcard(c.wc, f);
      for (let i = 0; i < 4; i++) if (k[W.IPV6_SRC + i] !== k[W.IPV6_DST + i]) return 0n;
      return 1n;
    }
    return 0n;
  },
});

/**
 * What one pass of the slow path records for the flow cache (dataplane/datapath.ts): the bits of
 * the key it examined and the stateful actions it deferred. With it, the executor runs as
 * ovs-vswitchd's translation does: a recirculating `ct` / `ct_lb` (one with a `table`, or OVN's
 * forms followed by `next`) ends the pass there (the continuation becomes a `resume` effect, run
 * later as a new pass on the conntrack result); a `ct` that does not recirculate (`ct_commit`,
 * the hairpin's `ct_snat_to_vip`) is recorded and the pass goes on with the packet untracked, its
 * `ct_*` fields cleared, as OVS's translation leaves it after any `ct`; learning actions
 * (`put_arp`, `put_nd`) are recorded instead of applied. Everything else runs as usual.
 */
export interface XlateRecord {
  /** Every bit of the key that a lookup or an action examined (ORed in; the caller zeroes it). */
  readonly wc: Uint32Array;
  /** Select groups that computed `dp_hash` in this pass: OVS recirculates for each (datapath.ts). */
  hashRecircs: number;
  /** Conntrack and learning actions, in the order the pass met them. */
  readonly effects: XlateEffect[];
  /**
   * For each output, tunnel and drop of the pass, in order: how many effects the pass had met
   * before it (where it stands among them: OVS's datapath runs its actions in that order).
   */
  readonly outputsAt: number[];
  readonly tunnelsAt: number[];
  readonly dropsAt: number[];
  /**
   * The conntrack state the packet carries in the datapath at this point of the pass (OVS's
   * `md.ct_state`, which the flow's `ct_*` fields do not always show): `MD_PASS` what the pass
   * started with, `MD_CLEARED` none, or the index of the `ct` effect that set it.
   */
  md: number;
  /**
   * Whether a `ct_clear` here would reach the datapath: OVS's xlate emits one only while the flow
   * is tracked from a recirculation (`ctx->conntracked`), that is, in a pass resumed after a `ct`
   * and before its next `ct` or `ct_clear`.
   */
  conntracked: boolean;
  /** Set when something read bits that cannot be accounted for: the megaflow must be exact. */
  exact: boolean;
  /**
   * Set when the pass read what no flow key holds (the packet's length, for `check_pkt_larger`):
   * its actions are this packet's alone unless the datapath makes a branch of them (datapath.ts).
   */
  slow: boolean;
  /** `check_pkt_larger` actions the pass ran, and the first one's limit in bytes. */
  lengthChecks: number;
  lengthLimit: number;
  /** Set when a `check_pkt_larger` measured a packet the pass made (a generating action's), not its own. */
  lengthOfMade: boolean;
  /** The answer the pass's first `check_pkt_larger` gives, whatever the length (undefined: measure). */
  readonly forceLarger: boolean | undefined;
  /** Lookups in tables of learned flows (learned-flows.ts), with `track`. */
  readonly probes: LearnedProbe[];
  /**
   * False when only the effects are wanted (the slow path without a cache): nothing marks `wc`,
   * which nothing would read.
   */
  readonly track: boolean;
}

export type XlateEffect =
  | {
      readonly kind: "ct";
      /** The packet as the action saw it. */
      readonly key: Uint32Array;
      readonly action: CtAction | CtLbAction;
      readonly zone: number;
      /** Where the conntrack result continues; undefined for a `ct` without a table. */
      readonly resume: Resume | undefined;
      /** For a packet OVN made: the packet it was made from, as at the action that made it. */
      readonly quote: Uint32Array | undefined;
      /** The datapath conntrack state the action meets (`XlateRecord.md`). */
      readonly mdFrom: number;
    }
  | { readonly kind: "learn"; readonly key: Uint32Array; readonly action: CallAction; readonly datapath: number; readonly pipeline: Pipeline }
  /**
   * A packet that waits for its next hop's MAC (an `arp { }` or `nd_ns { }` in a router): as
   * ovn-controller buffers it and sends it on when the neighbour is learned (datapath.ts).
   */
  | {
      readonly kind: "buffer";
      readonly key: Uint32Array;
      readonly datapath: number;
      readonly v6: boolean;
      /** For a packet OVN made (an ICMP error routed on): the packet it was made from, as at the action that made it. */
      readonly quote: Uint32Array | undefined;
    };

/** `XlateRecord.md`: the state the pass started with (the key's `ct_*` fields). */
export const MD_PASS = -2;
/** `XlateRecord.md`: no state (a `ct_clear` reached the datapath). */
export const MD_CLEARED = -1;

/** Records conntrack effect `e` of a pass in translation: it meets the datapath state, and sets it. */
function pushCt(xl: XlateRecord, e: Omit<Extract<XlateEffect, { kind: "ct" }>, "kind" | "mdFrom">): void {
  xl.effects.push({ kind: "ct", key: e.key, action: e.action, zone: e.zone, resume: e.resume, quote: e.quote, mdFrom: xl.md });
  xl.md = xl.effects.length - 1;
  xl.conntracked = false;
}

/** The datapath conntrack state of a packet in translation (`XlateRecord.md`, `conntracked`). */
interface MdState {
  readonly md: number;
  readonly conntracked: boolean;
}

/**
 * Enters a datapath clone of the packet in translation `xl`: the clone starts with the packet's
 * conntrack state, or none when `clear`. Returns the state to restore after (`afterClone`).
 */
function inClone(xl: XlateRecord | undefined, clear: boolean): MdState | undefined {
  if (xl === undefined) return undefined;
  const saved = { md: xl.md, conntracked: xl.conntracked };
  if (clear) {
    xl.md = MD_CLEARED;
    xl.conntracked = false;
  }
  return saved;
}

/** Leaves a datapath clone: the packet's conntrack state is again `saved` (`inClone`). */
function afterClone(xl: XlateRecord | undefined, saved: MdState | undefined): void {
  if (xl === undefined || saved === undefined) return;
  xl.md = saved.md;
  xl.conntracked = saved.conntracked;
}

/** A place in the logical pipelines where a pass can start again. */
export interface Resume {
  readonly datapath: number;
  readonly pipeline: Pipeline;
  readonly table: number;
}

/** Calls that only learn into a table: deferred by translation, run when the pass is executed. */
const LEARNING_CALLS: ReadonlySet<string> = new Set(["put_arp", "put_nd", "put_fdb", "commit_lb_aff", "commit_ecmp_nh"]);

/**
 * Calls that look up a learned flow whose use keeps it alive: a translation that finds one has each
 * packet it stands for use it again (lb-affinity.ts, ecmp-nh.ts).
 */
const LEARNED_LOOKUPS: ReadonlySet<string> = new Set(["chk_lb_aff", "chk_ecmp_nh_mac", "chk_ecmp_nh"]);

/**
 * For each table of a pipeline, the number of tables in a row starting there that are pass-throughs:
 * a single rule with an empty match whose actions are exactly a plain `next;` (to the following
 * table of the same pipeline). Such a table gives every packet that rule, examines no key bits
 * and changes nothing, so the executor may step over the whole run at once. A third of the tables
 * an OVN pipeline visits are such stages (the ones a network's features leave unused).
 */
export function passThroughRuns(tables: readonly ({ readonly rules: readonly Rule[] } | undefined)[]): Int32Array {
  const n = tables.length;
  const runs = new Int32Array(n);
  for (let t = n - 1; t >= 0; t--) {
    const rules = tables[t]?.rules;
    const r = rules?.length === 1 ? rules[0]! : undefined;
    const a = r?.actions.length === 1 ? r.actions[0]! : undefined;
    const pass = r !== undefined && a?.kind === "next" && a.table === undefined && a.pipeline === undefined && r.match.mask.every((w) => w === 0);
    runs[t] = pass ? 1 + (t + 1 < n ? runs[t + 1]! : 0) : 0;
  }
  return runs;
}

/** Per-run overrides. */
export interface RunOptions {
  /** ovn-trace mode: the `--ct` states for this packet (else the executor's). */
  readonly ctStates?: readonly number[];
  readonly lbDst?: Backend;
  /** `--select-id` for this packet (else the executor's). */
  readonly selectId?: number;
  /** Run as the flow cache's translation (table mode only); see `XlateRecord`. */
  readonly xlate?: XlateRecord;
  /**
   * The packet's length in bytes, Ethernet header included, which `check_pkt_larger` (a gateway
   * port's MTU) compares where the executor has no `packetL3Length`: `trace --length`. A packet a
   * generating action makes has its own (packet-length.ts). Without either, no packet is larger,
   * as ovn-trace takes it.
   */
  readonly frameLength?: number;
}

export interface Injection {
  /** Datapath key. */
  readonly datapath: number;
  /** Logical input port key. */
  readonly inport: number;
}

export interface ExecResult {
  readonly outputs: readonly OutputRecord[];
  /** Packets sent to other chassis (only with `placement`). */
  readonly tunnels: readonly TunnelRecord[];
  readonly drops: readonly DropRecord[];
  /** Table lookups done. */
  readonly lookups: number;
  /** Limits hit, in order. */
  readonly limitHits: readonly LimitEvent[];
  /** ovn-trace mode: true when some conntrack action used the default state (the `--ct` list ran out). */
  readonly ctDefaultUsed: boolean;
}

/** What the executor needs of a classifier. */
interface Lookup {
  lookup(key: Uint32Array, wc?: Uint32Array): Rule | undefined;
}

interface CompiledDatapath {
  readonly dp: LogicalDatapath;
  readonly ingress: readonly (Lookup | undefined)[];
  readonly egress: readonly (Lookup | undefined)[];
  /**
   * Per pipeline and table, how many tables in a row from there hold nothing but a catch-all
   * `next;` (0 for any other table): see `passThroughRuns`.
   */
  readonly ingressSkip: Int32Array;
  readonly egressSkip: Int32Array;
}

interface Frame {
  readonly cdp: CompiledDatapath;
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly rule?: Rule;
}

/**
 * The frame of the table `runPipeline` is at, one per depth and reused: a pipeline nested in
 * another runs at a greater depth, and nothing keeps a frame past its table (a drop copies what
 * it reads).
 */
class TableFrame implements Frame {
  cdp: CompiledDatapath;
  pipeline: Pipeline;
  table: number;
  rule: Rule | undefined;
  constructor(cdp: CompiledDatapath, pipeline: Pipeline, table: number, rule: Rule | undefined) {
    this.cdp = cdp;
    this.pipeline = pipeline;
    this.table = table;
    this.rule = rule;
  }
}

interface Ctx {
  readonly sink: TraceSink | undefined;
  readonly outputs: OutputRecord[];
  readonly tunnels: TunnelRecord[];
  readonly drops: DropRecord[];
  readonly limitHits: LimitEvent[];
  /**
   * The next `output` handles a packet that came from a tunnel (ovn-controller's local output
   * table): no multicast members served where packets enter (`servedWhereEntered`), no tunnels.
   * Only that first output; cleared as it starts.
   */
  fromTunnel: boolean;
  lookups: number;
  branches: number;
  readonly ctQueue: CtStateQueue | undefined;
  lbDst: Backend | undefined;
  readonly selectId: number | undefined;
  readonly xl: XlateRecord | undefined;
  /**
   * Where every lookup and action marks the bits it examined: `xl.wc` when the translation tracks
   * them, else undefined (and nothing is marked).
   */
  readonly wc: Uint32Array | undefined;
  /**
   * `table` mode, inside a generating action's nested actions: the packet it was made from, as it
   * was at that action (what ovn-controller quotes in an ICMP error); recorded with each packet.
   */
  quote: Uint32Array | undefined;
  /**
   * With packet lengths, inside a generating action's nested actions: the L3 length of the packet
   * it made (packet-length.ts); -1 for the packet the pass started with, which `packetL3Length` or
   * `frameLength` tells.
   */
  l3: number;
  /** `RunOptions.frameLength`, or -1. */
  readonly frameLength: number;
  /** OpenFlow's stack (`push`, `pop`), made at the first `push` of the run. */
  stack: bigint[] | undefined;
}

const REG10 = W.REG0 + 10;
const REG11 = W.REG0 + 11;
const REG12 = W.REG0 + 12;
const REG13 = W.REG0 + 13;
const REG14 = W.REG0 + 14;
const REG15 = W.REG0 + 15;
const MC_MIN = 32768;
const F_ETH_TYPE = field("eth_type");
const F_NW_TTL = field("nw_ttl");
const F_NW_PROTO = field("nw_proto");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_VLAN_TCI = field("vlan_tci");
const F_ETH_SRC = field("eth_src");
const F_ETH_DST = field("eth_dst");

const F_CT_STATE = field("ct_state");
const F_REG12 = field("reg12");
const HAIRPIN_READS_V4: readonly FieldDef[] = ["nw_src", "nw_dst"].map(field);
const HAIRPIN_READS_V6: readonly FieldDef[] = ["ipv6_src", "ipv6_dst"].map(field);
const HAIRPIN_VIP_READS: readonly FieldDef[] = ["ct_nw_dst", "ct_ipv6_dst", "ct_tp_dst"].map(field);
const HAIRPIN_REPLY_VIP_READS: readonly FieldDef[] = ["ct_nw_dst", "ct_ipv6_dst", "tp_dst"].map(field);

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;

/** Functions without a result that write a packet field (reported to the trace as a change). */
const PACKET_WRITING_CALLS: Readonly<Record<string, FieldDef | undefined>> = { get_arp: field("eth_dst"), get_nd: field("eth_dst") };

export class LogicalExecutor {
  /** Each datapath's table lookups, built when a packet first meets it (`compiled`). */
  private readonly dps = new Map<number, CompiledDatapath>();
  /** `runPipeline`'s frames, by depth. */
  private readonly frames: TableFrame[] = [];
  private readonly linear: boolean;
  private readonly limits: Limits;
  private readonly ctMode: CtMode;
  private readonly conntrack_: Conntrack | undefined;
  private readonly lbDst: Backend | undefined;
  private readonly crossing: "ovn-controller" | "ovn-trace";

  readonly program: LogicalProgram;
  private readonly calls: Readonly<Record<string, CallHandler>>;
  /** The neighbour table `get_arp` and friends consult. */
  readonly macBindings: MacBindingTable;
  /**
   * `table` mode: ovn-controller's load-balancer hairpin tables (lb-hairpin.ts), which answer
   * `chk_lb_hairpin`, `chk_lb_hairpin_reply` and `ct_snat_to_vip`. Undefined in `trace` mode,
   * where those answer as ovn-trace does.
   */
  readonly hairpin: LbHairpin | undefined;
  /** `table` mode: ovn-controller's load balancer affinity table (lb-affinity.ts). */
  readonly affinity: LbAffinityTable | undefined;
  /** `table` mode: ovn-controller's tables of symmetric ECMP replies (ecmp-nh.ts). */
  readonly ecmpNextHops: EcmpNextHopTable | undefined;
  /** `affinity` and `ecmpNextHops`, when there are. */
  private readonly learnedTables: readonly LearnedFlows<Queued>[];
  private readonly selectId: number | undefined;
  private readonly gatewayRouters: ReadonlySet<number>;
  /**
   * `table` mode: each datapath's DNAT and SNAT conntrack zones, which ovn-controller loads into
   * reg11 / reg12 before its pipelines run (logical flows only read them): routers' NAT and a
   * switch's hairpin SNAT (`ct_snat_to_vip`, `ct_snat`) use them. Without this every datapath
   * would share zone 0 for both, and a connection's DNAT and SNAT entries would collide.
   * Undefined in `trace` mode, where zones do not matter.
   */
  private readonly datapathZones: Map<number, readonly [number, number]> | undefined;
  /**
   * `table` mode: the conntrack zone of each switch port that is not a patch (datapath key → port
   * key → zone), which ovn-controller loads into reg13 before a switch's ingress pipeline (the
   * input port's zone) and before its egress pipeline (the output port's, where it has one).
   * Without it, the from-lport and to-lport conntrack of one packet would meet in one zone, and
   * the second would see the connection the first committed.
   */
  private readonly portZones: Map<number, Map<number, number>> | undefined;
  /** Chassis-redirect port → its distributed port, by datapath key and port key. */
  private readonly redirects = new Map<number, Map<number, number>>();
  private readonly placement: ReadonlyMap<number, ReadonlyMap<number, Placement>> | undefined;
  private readonly chassisMacs: ChassisMacRules | undefined;
  private readonly localnets: ReadonlyMap<number, LocalnetAttachment> | undefined;
  private readonly learnedBehind: ExecutorOptions["learnedBehind"];
  private readonly packetL3Length: ExecutorOptions["packetL3Length"];

  constructor(program: LogicalProgram, opts: ExecutorOptions = {}) {
    this.program = program;
    this.ctMode = opts.ct ?? { kind: "table" };
    this.macBindings = opts.macBindings instanceof MacBindingTable ? opts.macBindings : new MacBindingTable(program, opts.macBindings ?? []);
    const hairpin = this.ctMode.kind === "table" ? new LbHairpin(program.loadBalancers ?? []) : undefined;
    this.hairpin = hairpin;
    const hairpinCalls: Record<string, CallHandler> = hairpin
      ? { chk_lb_hairpin: (_a, c) => (hairpin.check(c.key, c.wc) ? 1n : 0n), chk_lb_hairpin_reply: (_a, c) => (hairpin.checkReply(c.key, c.wc) ? 1n : 0n) }
      : { chk_lb_hairpin: traceHairpinCall(program.loadBalancers ?? [], false), chk_lb_hairpin_reply: traceHairpinCall(program.loadBalancers ?? [], true) };
    this.conntrack_ = this.ctMode.kind === "table" ? (this.ctMode.conntrack ?? new Conntrack()) : undefined;
    this.affinity = this.ctMode.kind === "table" ? new LbAffinityTable(this.conntrack_!.clock) : undefined;
    const affinityCalls = this.affinity ? lbAffinityCalls(this.affinity) : TRACE_LB_AFFINITY_CALLS;
    this.ecmpNextHops = this.ctMode.kind === "table" ? new EcmpNextHopTable(this.conntrack_!.clock) : undefined;
    const ecmpCalls = this.ecmpNextHops ? ecmpNextHopCalls(this.ecmpNextHops) : TRACE_ECMP_NH_CALLS;
    this.learnedTables = this.affinity && this.ecmpNextHops ? [this.affinity, this.ecmpNextHops] : [];
    this.calls = { ...DEFAULT_CALLS, ...hairpinCalls, ...affinityCalls, ...ecmpCalls, ...macBindingCalls(this.macBindings, { learn: this.ctMode.kind === "table" }), ...opts.calls };
    this.selectId = opts.selectId;
    this.datapathZones = this.ctMode.kind === "table" ? assignDatapathZones(program) : undefined;
    this.portZones = this.ctMode.kind === "table" ? assignPortZones(program) : undefined;
    this.gatewayRouters = new Set([...(opts.gatewayRouters ?? [])].map((n) => program.datapathByName.get(n)).filter((k): k is number => k !== undefined));
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.lbDst = opts.lbDst;
    this.placement = opts.placement;
    const cm = opts.chassisMacs;
    this.chassisMacs = cm !== undefined && (cm.remote.length > 0 || cm.egress.size > 0) ? cm : undefined;
    this.localnets = opts.localnets;
    this.learnedBehind = opts.learnedBehind;
    this.packetL3Length = this.ctMode.kind === "table" ? opts.packetL3Length : undefined;
    this.crossing = opts.crossing ?? (this.ctMode.kind === "trace" ? "ovn-trace" : "ovn-controller");
    this.linear = opts.classifier === "linear";
    for (const [k, dp] of program.datapaths) {
      for (const p of dp.ports.values()) {
        if (p.type !== "chassisredirect") continue;
        const name = opts.chassisRedirects?.get(p.name) ?? (p.name.startsWith("cr-") ? p.name.slice(3) : undefined);
        const dist = name === undefined ? undefined : program.portByName.get(name);
        if (!dist || dist.datapath !== k) continue;
        let m = this.redirects.get(k);
        if (!m) this.redirects.set(k, (m = new Map()));
        m.set(p.key, dist.key);
      }
    }
  }

  /**
   * Moves whenever the state the executor learns from packets changes (neighbours, hairpin reply
   * flows): a flow cache drops its megaflows then, since some of them read that state.
   */
  get learnedVersion(): number {
    return this.macBindings.version + (this.hairpin?.version ?? 0);
  }

  /** The tables of flows ovn-controller learns whose changes revalidate megaflows one by one (`table` mode). */
  get learnedFlows(): readonly LearnedFlows<Queued>[] {
    return this.learnedTables;
  }

  /** Whether a table of `learnedFlows` changed since its changes were last taken (expired flows removed first). */
  learnedFlowsChanged(): boolean {
    const ts = this.learnedTables;
    for (let i = 0; i < ts.length; i++) if (ts[i]!.hasChanges) return true;
    return false;
  }

  /** The connection table (mode `table`), shared by every run. */
  get connections(): Conntrack | undefined {
    return this.conntrack_;
  }

  /**
   * Datapath `k`'s table lookups, or undefined when the program has no such datapath. Built on
   * first use: a trace on a large network meets a few of its datapaths.
   */
  private compiled(k: number): CompiledDatapath | undefined {
    let c = this.dps.get(k);
    if (c !== undefined) return c;
    const dp = this.program.datapaths.get(k);
    if (dp === undefined) return undefined;
    const build = (prog: Program): (Lookup | undefined)[] => prog.byId.map((t) => (t ? (this.linear ? LinearClassifier.from<Rule>(t.rules) : Classifier.from<Rule>(t.rules)) : undefined));
    c = { dp, ingress: build(dp.ingress), egress: build(dp.egress), ingressSkip: passThroughRuns(dp.ingress.byId), egressSkip: passThroughRuns(dp.egress.byId) };
    this.dps.set(k, c);
    return c;
  }

  /** Runs one packet; see the module header. */
  run(key: Uint32Array, inject: Injection, sink?: TraceSink, runOpts: RunOptions = {}): ExecResult {
    const ctx = this.newCtx(sink, runOpts, false);
    const k = copyKey(key);
    const cdp = this.compiled(inject.datapath);
    if (!cdp) return this.unknownDatapath(ctx, inject.datapath, "ingress", `datapath ${inject.datapath}`, k);
    k[W.METADATA] = inject.datapath >>> 0;
    k[REG14] = inject.inport >>> 0;
    if (this.chassisMacs !== undefined) this.chassisMacIn(ctx, k, inject);
    if (sink) sink.enter({ kind: "pipeline", datapath: cdp.dp.key, datapathName: cdp.dp.name, pipeline: "ingress", inport: inject.inport, outport: k[REG15]! });
    this.runPipeline(ctx, cdp, "ingress", 0, k, 0, 0);
    if (sink) sink.leave();
    return this.result(ctx);
  }

  /**
   * Runs a packet that arrived through a tunnel: its ingress pipeline ran on the sending chassis,
   * so it starts at ovn-controller's local output table for `outport` of `datapath`, with `inport`
   * as the encapsulation carried it (0 for VXLAN). A multicast group goes to its local members but
   * those served where the packet entered (`servedWhereEntered`).
   */
  runFromTunnel(key: Uint32Array, at: Injection & { readonly outport: number }, sink?: TraceSink, runOpts: RunOptions = {}): ExecResult {
    const ctx = this.newCtx(sink, runOpts, true);
    const k = copyKey(key);
    const cdp = this.compiled(at.datapath);
    if (!cdp) return this.unknownDatapath(ctx, at.datapath, "egress", `datapath ${at.datapath} (from a tunnel)`, k);
    k[W.METADATA] = at.datapath >>> 0;
    k[REG14] = at.inport >>> 0;
    k[REG15] = at.outport >>> 0;
    if (this.chassisMacs !== undefined && this.chassisMacs.remote.length > 0 && ctx.wc) unwildcard(ctx.wc, F_ETH_SRC);
    this.output(ctx, { cdp, pipeline: "ingress", table: cdp.dp.ingress.byId.length }, k, at.outport, 0, 0);
    return this.result(ctx);
  }

  /**
   * Runs a pass that starts again at `at` (a recirculation: the flow cache runs a `resume` effect's
   * conntrack result from here). The key carries the registers and metadata of the pass that
   * stopped; only `metadata` is set from `at`.
   */
  resume(key: Uint32Array, at: Resume, sink?: TraceSink, runOpts: RunOptions = {}): ExecResult {
    const ctx = this.newCtx(sink, runOpts, false);
    const k = copyKey(key);
    const cdp = this.compiled(at.datapath);
    if (!cdp) return this.unknownDatapath(ctx, at.datapath, at.pipeline, `datapath ${at.datapath}`, k);
    this.runPipeline(ctx, cdp, at.pipeline, at.table, k, 0, 0);
    return this.result(ctx);
  }

  /**
   * Table 0's chassis-MAC conjunction (priority 180): a frame from localnet port `at` whose source
   * is another chassis's MAC was routed there by a router port of this switch, whose MAC it gets
   * back. The lookup examines the source MAC of whatever comes in, on any port.
   */
  private chassisMacIn(ctx: Ctx, k: Uint32Array, at: Injection): void {
    const cm = this.chassisMacs!;
    if (cm.remote.length === 0) return;
    if (ctx.wc) unwildcard(ctx.wc, F_ETH_SRC);
    const back = cm.ingress.get(at.datapath)?.get(at.inport);
    if (back !== undefined && macAt(cm.remote, k, W.ETH_SRC) !== undefined) setMacAt(k, W.ETH_SRC, back.words);
  }

  /** The result of a run injected into a datapath the program does not have. */
  private unknownDatapath(ctx: Ctx, datapath: number, pipeline: Pipeline, detail: string, key: Uint32Array): ExecResult {
    const rec: DropRecord = { reason: "unknown-datapath", detail, datapath, datapathName: "", pipeline, table: 0, key };
    ctx.drops.push(rec);
    ctx.xl?.dropsAt.push(ctx.xl.effects.length);
    ctx.sink?.drop(rec);
    return this.result(ctx);
  }

  private newCtx(sink: TraceSink | undefined, runOpts: RunOptions, fromTunnel: boolean): Ctx {
    return {
      sink,
      outputs: [],
      tunnels: [],
      fromTunnel,
      drops: [],
      limitHits: [],
      lookups: 0,
      branches: 0,
      ctQueue: this.ctMode.kind === "trace" ? new CtStateQueue(runOpts.ctStates ?? this.ctMode.states ?? []) : undefined,
      lbDst: runOpts.lbDst ?? this.lbDst,
      selectId: runOpts.selectId ?? this.selectId,
      xl: this.ctMode.kind === "table" ? runOpts.xlate : undefined,
      wc: this.ctMode.kind === "table" && runOpts.xlate?.track ? runOpts.xlate.wc : undefined,
      quote: undefined,
      l3: -1,
      frameLength: this.packetL3Length === undefined ? (runOpts.frameLength ?? -1) : -1,
      stack: undefined,
    };
  }

  private result(ctx: Ctx): ExecResult {
    return { outputs: ctx.outputs, tunnels: ctx.tunnels, drops: ctx.drops, lookups: ctx.lookups, limitHits: ctx.limitHits, ctDefaultUsed: ctx.ctQueue?.usedDefault ?? false };
  }

  // -------------------------------------------------------------------------------------------
  // Tables

  private stageName(cdp: CompiledDatapath, pl: Pipeline, t: number): string {
    const names = pl === "ingress" ? cdp.dp.stageNames.ingress : cdp.dp.stageNames.egress;
    const prog = pl === "ingress" ? cdp.dp.ingress : cdp.dp.egress;
    return names[t] ?? prog.byId[t]?.name ?? `table ${t}`;
  }

  private runPipeline(ctx: Ctx, cdp: CompiledDatapath, pl: Pipeline, table: number, key: Uint32Array, depth: number, crossings: number): void {
    key[W.METADATA] = cdp.dp.key >>> 0;
    if (table === 0) {
      const zones = this.datapathZones?.get(cdp.dp.key);
      if (zones) {
        key[REG11] = zones[0];
        key[REG12] = zones[1];
      }
      const ports = this.portZones?.get(cdp.dp.key);
      if (ports) {
        // Into the ingress pipeline, the input port's zone, or 0 from a patch (physical.c clears
        // reg13 there and loads the peer's zone, which a patch port has not). Before the egress
        // pipeline, the output port's zone; a patch port to a distributed router has none, and
        // reg13 keeps the zone its ingress ran in, so a packet's to-lport conntrack towards such a
        // router is in its input port's zone (a gateway router's l3gateway port has a zone).
        const zone = ports.get(pl === "ingress" ? key[REG14]! : key[REG15]!);
        if (zone !== undefined || pl === "ingress") key[REG13] = zone ?? 0;
        if (ctx.wc) ctx.wc[pl === "ingress" ? REG14 : REG15] = 0xffffffff;
      }
    }
    if (depth > this.limits.maxDepth) {
      this.limitDrop(ctx, { cdp, pipeline: pl, table }, key, "maxDepth", "loop-depth");
      return;
    }
    const classifiers = pl === "ingress" ? cdp.ingress : cdp.egress;
    const skips = pl === "ingress" ? cdp.ingressSkip : cdp.egressSkip;
    const maxLookups = this.limits.maxLookups;
    let t = table;
    for (;;) {
      // Tables that only pass the packet on are stepped over without a lookup (they examine no
      // bits and change nothing), but still counted as lookups; a trace sees every table.
      if (ctx.sink === undefined && t >= 0 && t < skips.length) {
        const s = skips[t]!;
        if (s > 0 && ctx.lookups + s <= maxLookups) {
          ctx.lookups += s;
          t += s;
        }
      }
      if (ctx.lookups >= maxLookups) {
        this.limitDrop(ctx, { cdp, pipeline: pl, table: t }, key, "maxLookups", "loop-lookups");
        return;
      }
      ctx.lookups++;
      const cls = t >= 0 && t < classifiers.length ? classifiers[t] : undefined;
      const rule = cls?.lookup(key, ctx.wc);
      if (ctx.sink) ctx.sink.table({ datapathName: cdp.dp.name, pipeline: pl, table: t, stage: this.stageName(cdp, pl, t), rule });
      if (!rule) {
        this.drop(ctx, { cdp, pipeline: pl, table: t }, key, "no-match", `table ${t} (${this.stageName(cdp, pl, t)})`);
        return;
      }
      let frame = this.frames[depth];
      if (frame === undefined) {
        frame = new TableFrame(cdp, pl, t, rule);
        this.frames[depth] = frame;
      } else {
        frame.cdp = cdp;
        frame.pipeline = pl;
        frame.table = t;
        frame.rule = rule;
      }
      if (rule.actions.length === 0) {
        this.drop(ctx, frame, key, classifyDrop(undefined, rule));
        return;
      }
      const next = this.runActions(ctx, frame, rule.actions, key, depth, crossings, true);
      if (next < 0) return;
      t = next;
    }
  }

  /**
   * Runs `actions` on `key`. With `top` (a rule's own list), returns the table of a final `next`
   * for the caller to jump to, and drops the packet when the list sends it nowhere; otherwise
   * returns -1.
   */
  private runActions(ctx: Ctx, frame: Frame, actions: readonly Action[], key: Uint32Array, depth: number, crossings: number, top: boolean): number {
    const sink = ctx.sink;
    let sent = false;
    // A `log(...)` met in this list: see `ct` below.
    let logged = false;
    const n = actions.length;
    for (let i = 0; i < n; i++) {
      const a = actions[i]!;
      const last = i === n - 1;
      switch (a.kind) {
        case "set_field": {
          const before = sink ? readFieldWords(key, a.field) : undefined;
          setFieldMasked(key, a.field, a.value, a.mask);
          if (sink) sink.action({ action: a, change: { field: a.field, before: before!, after: readFieldWords(key, a.field) } });
          break;
        }
        case "load": {
          const before = sink ? readFieldWords(key, a.dst.field) : undefined;
          // Without a bigint where possible: a range that sits in one key word takes the value's
          // last (lowest) word, and a whole wide field (a MAC, an IPv6 address) takes the words
          // as they are, since both are right-aligned, most significant first.
          if (inOneWord(a.dst.field, a.dst.ofs, a.dst.nbits)) writeSmall(key, a.dst.field, a.dst.ofs, a.dst.nbits, a.value[a.value.length - 1] ?? 0);
          else if (a.dst.ofs === 0 && a.dst.nbits === a.dst.field.width && a.value.length === a.dst.field.nwords) writeWholeWide(key, a.dst.field, a.value);
          else writeBits(key, a.dst.field, a.dst.ofs, a.dst.nbits, wordsToBig(a.value));
          if (sink) sink.action({ action: a, change: { field: a.dst.field, before: before!, after: readFieldWords(key, a.dst.field) } });
          break;
        }
        case "move": {
          if (ctx.wc) unwildcard(ctx.wc, a.src.field);
          const before = sink ? readFieldWords(key, a.dst.field) : undefined;
          if (inOneWord(a.src.field, a.src.ofs, a.src.nbits) && inOneWord(a.dst.field, a.dst.ofs, a.dst.nbits)) writeSmall(key, a.dst.field, a.dst.ofs, a.dst.nbits, readSmall(key, a.src.field, a.src.ofs, a.src.nbits));
          else writeBits(key, a.dst.field, a.dst.ofs, a.dst.nbits, readBits(key, a.src.field, a.src.ofs, a.src.nbits));
          if (sink) sink.action({ action: a, change: { field: a.dst.field, before: before!, after: readFieldWords(key, a.dst.field) } });
          break;
        }
        case "exchange": {
          if (ctx.wc) {
            unwildcard(ctx.wc, a.a.field);
            unwildcard(ctx.wc, a.b.field);
          }
          const before = sink ? readFieldWords(key, a.a.field) : undefined;
          const before2 = sink ? readFieldWords(key, a.b.field) : undefined;
          const va = readBits(key, a.a.field, a.a.ofs, a.a.nbits);
          const vb = readBits(key, a.b.field, a.b.ofs, a.b.nbits);
          writeBits(key, a.a.field, a.a.ofs, a.a.nbits, vb);
          writeBits(key, a.b.field, a.b.ofs, a.b.nbits, va);
          if (sink) {
            sink.action({
              action: a,
              change: { field: a.a.field, before: before!, after: readFieldWords(key, a.a.field) },
              change2: { field: a.b.field, before: before2!, after: readFieldWords(key, a.b.field) },
            });
          }
          break;
        }
        case "stack": {
          const f = a.field;
          if (a.push) {
            if (ctx.wc) unwildcard(ctx.wc, f.field);
            (ctx.stack ??= []).push(readBits(key, f.field, f.ofs, f.nbits));
            if (sink) sink.action({ action: a });
            break;
          }
          // OVS leaves the field as it was when the stack is empty.
          const v = ctx.stack?.pop();
          const before = sink ? readFieldWords(key, f.field) : undefined;
          if (v !== undefined) writeBits(key, f.field, f.ofs, f.nbits, v & ((1n << BigInt(f.nbits)) - 1n));
          if (sink) sink.action({ action: a, change: { field: f.field, before: before!, after: readFieldWords(key, f.field) } });
          break;
        }
        case "next":
        case "resubmit": {
          if (sink) sink.action({ action: a });
          const other = a.kind === "next" && a.pipeline !== undefined && a.pipeline !== frame.pipeline;
          const pl: Pipeline = other ? a.pipeline! : frame.pipeline;
          const target = a.kind === "next" ? (a.table ?? (other ? 0 : frame.table + 1)) : a.table;
          if (last && top && !other) return target;
          sent = true;
          if (sink) {
            if (other) sink.enter({ kind: "pipeline", datapath: frame.cdp.dp.key, datapathName: frame.cdp.dp.name, pipeline: pl, inport: key[REG14]!, outport: key[REG15]! });
            else sink.enter({ kind: "resubmit", table: target });
          }
          this.runPipeline(ctx, frame.cdp, pl, target, key, depth + 1, crossings);
          if (sink) sink.leave();
          break;
        }
        case "call": {
          if (a.fn === "select" && a.result) {
            // select() picks a member and, like a recirculating ct, continues in the next table
            // with it (ovn-trace's execute_select); the rest of the rule runs on the packet as it was.
            if (sink) sink.action({ action: a });
            const copy = copyKey(key);
            const before = sink ? readFieldWords(copy, a.result.field) : undefined;
            const hadHash = key[W.DP_HASH] !== 0;
            const choice = chooseMember(a, key, ctx.selectId, ctx.wc);
            if (ctx.xl && !hadHash && choice.dpHash !== undefined) ctx.xl.hashRecircs++;
            writeBits(copy, a.result.field, a.result.ofs, a.result.nbits, BigInt(choice.id));
            if (choice.dpHash !== undefined) copy[W.DP_HASH] = choice.dpHash;
            if (sink?.select) sink.select({ action: a, id: choice.id, chosen: choice.chosen, change: { field: a.result.field, before: before!, after: readFieldWords(copy, a.result.field) } });
            sent = true;
            const target = frame.table + 1;
            if (last && top) {
              key.set(copy);
              return target;
            }
            if (!this.takeBranch(ctx, frame, key)) return -1;
            if (sink) sink.enter({ kind: "resubmit", table: target });
            this.runPipeline(ctx, frame.cdp, frame.pipeline, target, copy, depth + 1, crossings);
            if (sink) sink.leave();
            break;
          }
          if (a.fn === "check_pkt_larger" && (this.packetL3Length !== undefined || ctx.frameLength >= 0)) {
            this.checkPktLarger(ctx, a, key);
            break;
          }
          if (a.fn === "ct_snat_to_vip" && this.hairpin) {
            if (sink) sink.action({ action: a });
            const snat = this.hairpin.snatAction(key, ctx.wc);
            if (snat) this.snatToVip(ctx, snat, key);
            break;
          }
          const h = this.calls[a.fn];
          const xl = ctx.xl;
          if (xl && h) {
            if (LEARNING_CALLS.has(a.fn)) {
              if (sink) sink.action({ action: a });
              xl.effects.push({ kind: "learn", key: copyKey(key), action: a, datapath: frame.cdp.dp.key, pipeline: frame.pipeline });
              break;
            }
            const wc = ctx.wc;
            if (wc) for (const arg of a.args) if (arg.kind === "field") unwildcard(wc, arg.src.field);
          }
          const watched = a.result ? a.result.field : PACKET_WRITING_CALLS[a.fn];
          const before = sink && watched ? readFieldWords(key, watched) : undefined;
          const v = h ? h(a, ctx.wc ? { key, datapath: frame.cdp.dp, pipeline: frame.pipeline, wc: ctx.wc, probes: xl?.probes } : { key, datapath: frame.cdp.dp, pipeline: frame.pipeline }) : 0n;
          // A learned flow that matched is used by every packet the megaflow carries, as OVS's
          // statistics reach it: its idle timeout restarts with each (lb-affinity.ts, ecmp-nh.ts).
          if (xl && v === 1n && LEARNED_LOOKUPS.has(a.fn)) xl.effects.push({ kind: "learn", key: copyKey(key), action: a, datapath: frame.cdp.dp.key, pipeline: frame.pipeline });
          if (a.result && v !== undefined) writeBits(key, a.result.field, a.result.ofs, a.result.nbits, v);
          if (sink) sink.action(watched ? { action: a, change: { field: watched, before: before!, after: readFieldWords(key, watched) } } : { action: a });
          break;
        }
        case "output": {
          if (sink) sink.action({ action: a });
          sent = true;
          if (ctx.wc) {
            // The output port is read from the key: the megaflow matches it.
            if (a.to.kind === "field") unwildcard(ctx.wc, a.to.src.field);
            else if (a.to.kind === "outport") ctx.wc[REG15] = 0xffffffff;
            else if (a.to.kind === "in_port") ctx.wc[REG14] = 0xffffffff;
          }
          this.output(ctx, frame, key, this.outputKey(a.to, key), depth, crossings);
          break;
        }
        case "drop":
          if (sink) sink.action({ action: a });
          this.drop(ctx, frame, key, classifyDrop(a.reason, frame.rule), a.reason);
          return -1;
        case "ct":
        case "ct_lb": {
          // ovn-controller 23.03 installs no `ct_commit { }` that follows a `log(...)` in the same
          // actions (a logged reject ACL's commit of `ct_mark.blocked`: real OVS's flow has the
          // two controller actions and no ct). ovn-trace, reading the logical flow, shows it.
          if (logged && a.kind === "ct" && a.commit && a.table === undefined && this.ctMode.kind === "table") break;
          if (sink) sink.action({ action: a });
          if (ctx.ctQueue && a.kind === "ct" && a.nat?.kind === "restore" && this.gatewayRouters.has(frame.cdp.dp.key) && isSnatZone(a)) {
            this.drop(ctx, frame, key, "trace-unsnat");
            return -1;
          }
          if (ctx.xl) {
            // Translation: the conntrack action runs when the pass is executed; a recirculating
            // one ends the pass here and its continuation is a later pass.
            // OVN's recirculating forms (`ct_next`, `ct_lb_mark`, `ct_dnat`, ...) are a `ct` then a
            // `next`: the pass resumes where that `next` goes. `ct_commit` (a commit without NAT)
            // does not recirculate, `next` or not: the pass goes on, as OVS's ct(commit) without a
            // table leaves it.
            const zone = a.zone.kind === "const" ? a.zone.zone : readSmall(key, a.zone.src.field, a.zone.src.ofs, Math.min(32, a.zone.src.nbits));
            if (a.zone.kind === "field" && ctx.wc) unwildcard(ctx.wc, a.zone.src.field);
            const nx = actions[i + 1];
            let resume: Resume | undefined;
            if (a.table !== undefined) resume = { datapath: frame.cdp.dp.key, pipeline: frame.pipeline, table: a.table };
            else if (nx?.kind === "next" && !isPlainCommit(a)) {
              const other = nx.pipeline !== undefined && nx.pipeline !== frame.pipeline;
              resume = { datapath: frame.cdp.dp.key, pipeline: other ? nx.pipeline! : frame.pipeline, table: nx.table ?? (other ? 0 : frame.table + 1) };
              i++;
            }
            pushCt(ctx.xl, { key: copyKey(key), action: a, zone, resume, quote: ctx.quote });
            if (this.crossing === "ovn-controller") clearCtFields(key);
            if (resume === undefined) break;
            sent = true;
            if (i >= n - 1 && top) return -1;
            break;
          }
          if (a.table === undefined) {
            // A plain commit leaves the packet's ct fields as they were for the rest of the pass
            // (ovn-trace); OVS leaves the packet untracked after any ct action.
            this.applyCt(ctx, a, isPlainCommit(a) ? copyKey(key) : key);
            // OVN's recirculating forms (a `ct` then `next`) go on with the result.
            if (this.crossing === "ovn-controller" && (isPlainCommit(a) || actions[i + 1]?.kind !== "next")) clearCtFields(key);
            break;
          }
          sent = true;
          if (last && top) {
            this.applyCt(ctx, a, key);
            return a.table;
          }
          if (!this.takeBranch(ctx, frame, key)) return -1;
          const copy = copyKey(key);
          this.applyCt(ctx, a, copy);
          if (sink) sink.enter({ kind: "ct-fork", table: a.table });
          this.runPipeline(ctx, frame.cdp, frame.pipeline, a.table, copy, depth + 1, crossings);
          if (sink) sink.leave();
          if (this.crossing === "ovn-controller") clearCtFields(key);
          break;
        }
        case "ct_clear":
          if (sink) sink.action({ action: a });
          clearCtFields(key);
          if (ctx.xl?.conntracked === true) {
            ctx.xl.md = MD_CLEARED;
            ctx.xl.conntracked = false;
          }
          break;
        case "encap":
          if (sink) sink.action({ action: a });
          this.drop(ctx, frame, key, "unsupported-action", "encap");
          return -1;
        case "decap":
          key.fill(0, W.TUN_ID, W.TUN_MD0 + 1);
          if (sink) sink.action({ action: a });
          break;
        case "push_vlan": {
          if (ctx.wc) ctx.wc[W.VLAN0] = 0xffffffff;
          const before = sink ? readFieldWords(key, F_VLAN_TCI) : undefined;
          key[W.VLAN1] = key[W.VLAN0]!;
          key[W.VLAN0] = ((a.tpid << 16) | ((a.pcp ?? 0) << 13) | 0x1000 | (a.vid & 0xfff)) >>> 0;
          if (sink) sink.action({ action: a, change: { field: F_VLAN_TCI, before: before!, after: readFieldWords(key, F_VLAN_TCI) } });
          break;
        }
        case "pop_vlan": {
          if (ctx.wc) ctx.wc[W.VLAN1] = 0xffffffff;
          const before = sink ? readFieldWords(key, F_VLAN_TCI) : undefined;
          key[W.VLAN0] = key[W.VLAN1]!;
          key[W.VLAN1] = 0;
          if (sink) sink.action({ action: a, change: { field: F_VLAN_TCI, before: before!, after: readFieldWords(key, F_VLAN_TCI) } });
          break;
        }
        case "dec_ttl": {
          if (ctx.wc) {
            unwildcard(ctx.wc, F_ETH_TYPE);
            unwildcard(ctx.wc, F_NW_TTL);
          }
          const et = getField(key, F_ETH_TYPE);
          if (et !== ETH_IP && et !== ETH_IPV6) {
            if (sink) sink.action({ action: a });
            this.drop(ctx, frame, key, "not-ip");
            return -1;
          }
          const ttl = getField(key, F_NW_TTL);
          if (ttl <= 1) {
            if (sink) sink.action({ action: a });
            this.drop(ctx, frame, key, "ttl-exceeded", `ttl ${ttl}`);
            return -1;
          }
          setField(key, F_NW_TTL, ttl - 1);
          if (sink) sink.action({ action: a, change: { field: F_NW_TTL, before: [ttl], after: [ttl - 1] } });
          break;
        }
        case "clone":
        case "generate":
        case "arp_reply":
        case "icmp4_error":
        case "icmp4_echo_reply":
        case "icmp6_error":
        case "icmp6_echo_reply":
        case "nd_na": {
          if (sink) sink.action({ action: a });
          // A generated packet is built from many fields of this one: match it exactly.
          if (ctx.xl && a.kind !== "clone") ctx.xl.exact = true;
          const copy = copyKey(key);
          if (a.kind === "generate" && (a.packet === "arp" || a.packet === "nd_ns") && ctx.xl && this.ctMode.kind === "table") {
            ctx.xl.effects.push({ kind: "buffer", key: copyKey(key), datapath: frame.cdp.dp.key, v6: a.packet === "nd_ns", quote: ctx.quote });
          }
          if (a.kind === "generate") {
            if (!buildGeneratedPacket(a.packet, copy, this.ctMode.kind === "table")) break;
          } else if (a.kind !== "clone") buildGenerated(a, copy);
          // ovn-controller sends the packet it made with the registers and metadata of this one
          // (pinctrl.c reload_metadata), not its conntrack state: in replay it starts untracked.
          // ovn-trace keeps the state.
          if (this.crossing === "ovn-controller" && a.kind !== "clone") clearCtFields(copy);
          sent = true;
          if (!this.takeBranch(ctx, frame, key)) return -1;
          if (sink) sink.enter(a.kind === "clone" ? { kind: "clone" } : { kind: "generated", action: a.kind });
          // What the packets made here quote: this one as it is now (an ICMP error, or a reset,
          // which answers it).
          const outer = ctx.quote;
          if (this.ctMode.kind === "table" && answers(a)) ctx.quote = copyKey(key);
          const outerL3 = ctx.l3;
          if ((this.packetL3Length !== undefined || ctx.frameLength >= 0) && a.kind !== "clone") ctx.l3 = madeL3Length(a.kind === "generate" ? a.packet : a.kind, getField(key, F_ETH_TYPE) === ETH_IPV6, getField(key, F_NW_PROTO), this.l3Of(ctx, key));
          // The datapath's clone has the packet's conntrack state, and keeps its own; a packet
          // ovn-controller made starts with none.
          const xl = ctx.xl;
          const md = inClone(xl, a.kind !== "clone");
          if (depth + 1 > this.limits.maxDepth) this.limitDrop(ctx, frame, copy, "maxDepth", "loop-depth");
          else this.runActions(ctx, frame, a.actions, copy, depth + 1, crossings, false);
          afterClone(xl, md);
          ctx.quote = outer;
          ctx.l3 = outerL3;
          if (sink) sink.leave();
          break;
        }
        case "log":
          logged = true;
          if (sink) sink.action({ action: a, key });
          break;
        case "controller":
          if (sink) sink.action({ action: a });
          break;
        case "note":
          if (sink) sink.action({ action: a });
          // ovn-controller writes the MTU into the ICMP error it made (pinctrl.c), kept in the
          // key's `tcp_flags` word as the rest of the ICMP header; ovn-trace only prints it.
          if (a.icmpFragMtu !== undefined && this.ctMode.kind === "table" && getField(key, F_NW_PROTO) === (a.icmpFragMtu.v6 ? 58 : 1)) key[W.TCP_FLAGS] = a.icmpFragMtu.v6 ? a.icmpFragMtu.mtu >>> 0 : a.icmpFragMtu.mtu & 0xffff;
          break;
        default: {
          const _never: never = a;
          return _never;
        }
      }
    }
    // Only logging, as OVN writes a logged drop (`log(...); /* drop */`): a drop like any other.
    // OVN 23.03's affinity learning flow ends after `commit_lb_aff` (lb-affinity.ts).
    if (top && !sent) this.drop(ctx, frame, key, actions.every((a) => a.kind === "log" || a.kind === "note") ? classifyDrop(undefined, frame.rule) : actions.some((a) => a.kind === "call" && a.fn === "commit_lb_aff") ? "lb-affinity-learn" : "actions-end");
    return -1;
  }

  private outputKey(to: Extract<Action, { kind: "output" }>["to"], key: Uint32Array): number {
    switch (to.kind) {
      case "outport":
        return key[REG15]!;
      case "port":
        return to.port;
      case "field":
        return Number(readBits(key, to.src.field, to.src.ofs, to.src.nbits));
      case "in_port":
        return key[REG14]!;
      default: {
        const _never: never = to;
        return _never;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Output

  private output(ctx: Ctx, frame: Frame, key: Uint32Array, outKeyIn: number, depth: number, crossings: number): void {
    let outKey = outKeyIn;
    const fromTunnel = ctx.fromTunnel;
    ctx.fromTunnel = false;
    if (frame.pipeline === "egress") {
      this.deliver(ctx, frame, key, outKey, depth, crossings);
      return;
    }
    const dp = frame.cdp.dp;
    const sink = ctx.sink;
    if (outKey === 0) {
      this.drop(ctx, frame, key, "null-outport");
      return;
    }
    const inKey = key[REG14]!;
    const loopback = (key[REG10]! & 1) !== 0;
    if (ctx.wc) {
      // Output compares the input port with the output port(s), unless flags.loopback is set.
      ctx.wc[REG14] = 0xffffffff;
      ctx.wc[REG10] = (ctx.wc[REG10]! | 1) >>> 0;
    }
    const egressKey = copyKey(key);
    // ovn-controller's flows into the egress pipeline clear reg0..reg9 and keep the flags (reg10)
    // and the zones (reg11..reg13), which the egress pipeline reads (`flags.force_snat_for_lb`) or
    // reloads only where the output port has a zone; ovn-trace clears all but the two ports.
    const cleared = this.crossing === "ovn-controller" ? 10 : 14;
    for (let r = 0; r < cleared; r++) egressKey[W.REG0 + r] = 0;
    egressKey[REG15] = outKey >>> 0;

    const places = this.placement?.get(dp.key);
    if (outKey >= MC_MIN) {
      const g = dp.multicast.get(outKey);
      if (!g) {
        this.drop(ctx, frame, key, "unknown-port", `multicast group ${outKey}`);
        return;
      }
      if (sink) sink.enter({ kind: "multicast", datapathName: dp.name, group: g.name, groupKey: g.key });
      let ran = 0;
      let stopped = false;
      const remote: string[] = [];
      const remotePorts: { readonly port: number; readonly name: string; readonly chassis: string }[] = [];
      // Why a member has no flow here (the first such), for a group that reaches nobody.
      let unreached: string | undefined;
      for (const p of g.ports) {
        const place = places?.get(p);
        const member = dp.ports.get(p);
        if (place !== undefined && place.kind !== "local") {
          // Another chassis's member: one tunnel copy per chassis (not behind a localnet port,
          // which reaches it; never from a tunnel). A remote port (OVN-IC's, in another zone) has
          // a copy of its own, addressed to it rather than to the group, as physical.c sends it.
          // Unbound members get nothing.
          if (place.kind === "none") unreached ??= place.why;
          if (place.kind !== "tunnel" || fromTunnel) continue;
          if (member?.type === "remote") remotePorts.push({ port: p, name: member.name, chassis: place.chassis });
          else if (!remote.includes(place.chassis)) remote.push(place.chassis);
          continue;
        }
        // A packet from a tunnel does not go to a router port or a localport: the sender's chassis
        // served those (but a transit switch's router port, the sender being in another zone).
        if (fromTunnel && member && servedWhereEntered(dp, member)) continue;
        const skipped = p === inKey && !loopback;
        if (sink) sink.enter({ kind: "member", port: p, portName: member?.name ?? String(p), skipped });
        if (!skipped) {
          if (!this.takeBranch(ctx, frame, key)) stopped = true;
          else {
            const k = copyKey(egressKey);
            let out = p;
            const dist = member?.type === "chassisredirect" ? this.redirects.get(dp.key)?.get(p) : undefined;
            if (dist !== undefined) out = dist;
            k[REG15] = out >>> 0;
            if (sink) sink.enter({ kind: "pipeline", datapath: dp.key, datapathName: dp.name, pipeline: "egress", inport: inKey, outport: out });
            this.runPipeline(ctx, frame.cdp, "egress", 0, k, depth + 1, crossings);
            if (sink) sink.leave();
            ran++;
          }
        }
        if (sink) sink.leave();
        if (stopped) break;
      }
      for (const r of remotePorts) {
        if (stopped || !this.takeBranch(ctx, frame, key)) {
          stopped = true;
          break;
        }
        this.tunnel(ctx, dp, egressKey, inKey, r.port, r.name, r.chassis);
        ran++;
      }
      for (const chassis of remote) {
        if (stopped || !this.takeBranch(ctx, frame, key)) break;
        this.tunnel(ctx, dp, egressKey, inKey, g.key, g.name, chassis);
        ran++;
      }
      if (sink) sink.leave();
      if (ran === 0 && !stopped) this.drop(ctx, frame, key, "empty-multicast", unreached === undefined ? g.name : `${g.name}: ${unreached}`);
      return;
    }
    let port = dp.ports.get(outKey);
    if (!port) {
      this.drop(ctx, frame, key, "unknown-port", `port ${outKey}`);
      return;
    }
    const place = places?.get(outKey);
    if (place !== undefined) {
      switch (place.kind) {
        case "local":
          break;
        case "tunnel":
          if (fromTunnel) {
            this.drop(ctx, frame, key, "unbound-port", `${port.name} is not on this chassis`);
            return;
          }
          this.tunnel(ctx, dp, egressKey, inKey, outKey, port.name, place.chassis);
          return;
        case "localnet": {
          const ln = dp.ports.get(place.port);
          if (!ln) {
            this.drop(ctx, frame, key, "unknown-port", `localnet port ${place.port}`);
            return;
          }
          outKey = ln.key;
          port = ln;
          egressKey[REG15] = outKey >>> 0;
          break;
        }
        case "none":
          this.drop(ctx, frame, key, "unbound-port", place.why);
          return;
        case "bridged": {
          // Straight to the gateway switch's localnet port (table 65), from the gateway port's MAC.
          const ls = this.program.datapaths.get(place.datapath);
          const ln = ls?.ports.get(place.port);
          if (!ls || !ln) {
            this.drop(ctx, frame, key, "unknown-port", `localnet port ${place.port} of datapath ${place.datapath}`);
            return;
          }
          const k = copyKey(key);
          setMacAt(k, W.ETH_SRC, place.words);
          k[W.METADATA] = place.datapath >>> 0;
          k[REG15] = place.port >>> 0;
          this.emitOutput(ctx, frame, ls, ln, k, { datapath: dp.key, port: outKey });
          return;
        }
        default: {
          const _never: never = place;
          return _never;
        }
      }
    }
    if (port.type === "chassisredirect") {
      const dist = this.redirects.get(dp.key)?.get(outKey);
      if (dist === undefined) {
        this.drop(ctx, frame, key, "unknown-port", `chassis-redirect port ${port.name} has no distributed port`);
        return;
      }
      outKey = dist;
      port = dp.ports.get(dist)!;
      egressKey[REG15] = dist >>> 0;
    }
    if (outKey === inKey && !loopback) {
      this.drop(ctx, frame, key, "loopback", port.name);
      return;
    }
    if (sink) sink.enter({ kind: "pipeline", datapath: dp.key, datapathName: dp.name, pipeline: "egress", inport: inKey, outport: outKey });
    this.runPipeline(ctx, frame.cdp, "egress", 0, egressKey, depth + 1, crossings);
    if (sink) sink.leave();
  }

  /**
   * Table 65's chassis-MAC flows (priority 150): a frame output to a localnet port from one of its
   * switch's router port MACs leaves with this chassis's MAC on the network. The lookup examines the
   * source MAC wherever such a flow exists for the port.
   */
  private chassisMacOut(ctx: Ctx, datapath: number, port: number, k: Uint32Array): void {
    const swap = this.chassisMacs!.egress.get(datapath)?.get(port);
    if (swap === undefined) return;
    if (ctx.wc) unwildcard(ctx.wc, F_ETH_SRC);
    if (macAt(swap.from, k, W.ETH_SRC) !== undefined) setMacAt(k, W.ETH_SRC, swap.to.words);
  }

  /** Records `out` (the run's own copy) leaving by port `port` of `dp`, a port without a peer. */
  private emitOutput(ctx: Ctx, frame: Frame, dp: LogicalDatapath, port: LogicalPort, out: Uint32Array, redirect: OutputRecord["redirect"]): void {
    if (port.type === "localnet" && this.placement !== undefined) {
      if (this.chassisMacs !== undefined) this.chassisMacOut(ctx, dp.key, port.key, out);
      // The provider bridge (NORMAL) learns the source MAC on the patch port first, so a frame to
      // its own source MAC has its destination behind the port it came in on: dropped.
      if (ctx.wc) {
        unwildcard(ctx.wc, F_ETH_SRC);
        unwildcard(ctx.wc, F_ETH_DST);
      }
      if (out[W.ETH_SRC] === out[W.ETH_DST] && out[W.ETH_SRC + 1] === out[W.ETH_DST + 1]) {
        const mac = macWordsText(out[W.ETH_SRC]!, out[W.ETH_SRC + 1]!);
        this.drop(ctx, frame, out, "provider-bridge", `${port.name}: source and destination MAC are both ${mac}${redirect !== undefined ? "; a bridged redirect needs this chassis's MAC on the provider network (ovn-chassis-mac-mappings)" : ""}`);
        return;
      }
      // A MAC the bridge has learned behind the same patch port (one that lives on this chassis,
      // on this switch).
      let here: string | undefined;
      if (this.learnedBehind !== undefined) here = this.learnedBehind(dp.key, port.key, out[W.ETH_DST]!, out[W.ETH_DST + 1]!);
      else {
        const ln = this.localnets?.get(dp.key);
        here = ln !== undefined && ln.port === port.key ? macAt(ln.learned, out, W.ETH_DST)?.text : undefined;
      }
      if (here !== undefined) {
        this.drop(ctx, frame, out, "provider-bridge", `${port.name}: the provider bridge has learned destination ${here} behind the patch port the frame came in by`);
        return;
      }
    }
    const rec: OutputRecord = { datapath: dp.key, datapathName: dp.name, port: port.key, portName: port.name, portType: port.type, key: out, ...(redirect ? { redirect } : {}), ...quoteOf(ctx) };
    ctx.outputs.push(rec);
    ctx.xl?.outputsAt.push(ctx.xl.effects.length);
    if (ctx.sink) ctx.sink.output(rec);
  }

  /** Records a packet leaving for another chassis (the egress pipeline runs there). */
  private tunnel(ctx: Ctx, dp: LogicalDatapath, egressKey: Uint32Array, inport: number, outport: number, outportName: string, chassis: string): void {
    const k = copyKey(egressKey);
    k[REG15] = outport >>> 0;
    const rec: TunnelRecord = { datapath: dp.key, datapathName: dp.name, inport, outport, outportName, chassis, key: k, ...quoteOf(ctx) };
    ctx.tunnels.push(rec);
    ctx.xl?.tunnelsAt.push(ctx.xl.effects.length);
    ctx.sink?.tunnel?.(rec);
  }

  private deliver(ctx: Ctx, frame: Frame, key: Uint32Array, outKey: number, depth: number, crossings: number): void {
    const dp = frame.cdp.dp;
    if (outKey === 0) {
      this.drop(ctx, frame, key, "null-outport");
      return;
    }
    const port: LogicalPort | undefined = dp.ports.get(outKey);
    if (!port) {
      this.drop(ctx, frame, key, "unknown-port", `port ${outKey}`);
      return;
    }
    if (!port.peer) {
      this.emitOutput(ctx, frame, dp, port, copyKey(key), undefined);
      return;
    }
    if (crossings + 1 > this.limits.maxCrossings) {
      this.limitDrop(ctx, frame, key, "maxCrossings", "loop-crossings");
      return;
    }
    const peer = this.compiled(port.peer.datapath);
    if (!peer) {
      this.drop(ctx, frame, key, "unknown-datapath", `datapath ${port.peer.datapath}`);
      return;
    }
    if (this.crossing === "ovn-controller") {
      // ovn-controller links two ports only when their bindings have the same type: a gateway
      // router's port (l3gateway) peered with a distributed router's (patch) gets no flow across.
      // ovn-trace follows the peer whatever the types.
      const other = peer.dp.ports.get(port.peer.port);
      if (other !== undefined && (other.l3gateway === undefined) !== (port.l3gateway === undefined)) {
        const kind = (p: LogicalPort): string => (p.l3gateway === undefined ? "patch" : "l3gateway");
        this.drop(ctx, frame, key, "unbound-port", `${port.name} (${kind(port)}) and its peer ${other.name} (${kind(other)}) differ in binding type; ovn-controller links neither`);
        return;
      }
    }
    const k = copyKey(key);
    if (this.crossing === "ovn-controller") {
      clearCtFields(k);
      k.fill(0, W.REG0, W.REG0 + 16);
    }
    k[REG15] = 0;
    k[REG14] = port.peer.port >>> 0;
    if (ctx.sink) ctx.sink.enter({ kind: "pipeline", datapath: peer.dp.key, datapathName: peer.dp.name, pipeline: "ingress", inport: port.peer.port, outport: 0 });
    // ovn-controller crosses in a clone that starts with `ct_clear`: the peer's pipeline meets
    // the datapath's conntrack state without it only where xlate leaves that action out.
    const xl = ctx.xl;
    const md = inClone(xl, this.crossing === "ovn-controller" && xl?.conntracked === true);
    this.runPipeline(ctx, peer, "ingress", 0, k, depth + 1, crossings + 1);
    afterClone(xl, md);
    if (ctx.sink) ctx.sink.leave();
  }

  // -------------------------------------------------------------------------------------------
  // Conntrack

  /**
   * The conntrack request of a `ct` / `ct_lb` action in `zone` (table mode). The flow cache builds
   * it once per megaflow; `lbDst` is ovn-trace's `--lb-dst`.
   */
  ctRequest(a: CtAction | CtLbAction, zone: number, lbDst?: Backend): CtRequest {
    // Every request has every property (absent ones undefined), so the connection table's reads
    // of them see one object shape.
    return a.kind === "ct"
      ? { zone, commit: a.commit, force: a.force, nat: a.nat, setMark: a.setMark, setLabel: a.setLabel, lb: undefined }
      : {
          zone,
          commit: false,
          force: undefined,
          nat: undefined,
          setMark: undefined,
          setLabel: undefined,
          lb: { backends: a.backends, hashFields: a.hashFields, mark: a.mark, preferBackend: lbDst },
        };
  }

  /**
   * Runs conntrack for action `a` with its prebuilt `req` on `key`, in place (table mode; the flow
   * cache's deferred effects). Allocates nothing for a packet of a known connection.
   */
  conntrack(a: CtAction | CtLbAction, req: CtRequest, key: Uint32Array): CtOutcome {
    const out = this.conntrack_!.execute(key, req);
    if (a.kind === "ct" && a.exec && a.exec.length > 0 && a.commit && out.connection) applyCtExec(a.exec, key, out.connection);
    return out;
  }

  /** Runs a learning `call` (`put_arp`, `put_nd`) on `key` (the flow cache's deferred effects). */
  learn(a: CallAction, datapath: number, pipeline: Pipeline, key: Uint32Array): void {
    const cdp = this.compiled(datapath);
    const h = this.calls[a.fn];
    if (cdp && h) h(a, { key, datapath: cdp.dp, pipeline });
  }

  /**
   * `check_pkt_larger(N)` with packet lengths (`packetL3Length`, `RunOptions.frameLength`): 1
   * when the packet is longer than N bytes, Ethernet header and tags included, as OVS's
   * `check_pkt_len` judges it. In translation the pass is marked (`XlateRecord.slow`) and its
   * checks counted; the first one answers `forceLarger` when that is set, so that the datapath can
   * translate both answers into one megaflow (datapath.ts `lengthBranch`).
   */
  private checkPktLarger(ctx: Ctx, a: CallAction, key: Uint32Array): void {
    const arg = a.args[0];
    const limit = arg?.kind === "value" ? (arg.value[arg.value.length - 1] ?? 0) : 0;
    const xl = ctx.xl;
    let larger: boolean;
    if (xl !== undefined) {
      xl.slow = true;
      xl.lengthChecks++;
      if (xl.lengthChecks === 1) xl.lengthLimit = limit;
      if (ctx.l3 >= 0) xl.lengthOfMade = true;
      larger = xl.forceLarger !== undefined && xl.lengthChecks === 1 ? xl.forceLarger : l2Length(key) + this.l3Of(ctx, key) > limit;
    } else larger = l2Length(key) + this.l3Of(ctx, key) > limit;
    if (!a.result) {
      ctx.sink?.action({ action: a });
      return;
    }
    const before = ctx.sink ? readFieldWords(key, a.result.field) : undefined;
    writeBits(key, a.result.field, a.result.ofs, a.result.nbits, larger ? 1n : 0n);
    if (ctx.sink) ctx.sink.action({ action: a, change: { field: a.result.field, before: before!, after: readFieldWords(key, a.result.field) } });
  }

  /**
   * The length of the packet `key` describes, as `check_pkt_larger` measures the packet a pass
   * starts with (`packetL3Length`): what a megaflow's length branch decides by (datapath.ts).
   */
  frameLength(key: Uint32Array): number {
    return this.packetL3Length === undefined ? 0 : l2Length(key) + this.packetL3Length(key);
  }

  /** The L3 length of the packet the actions run on (`Ctx.l3`); only with `packetL3Length` or `frameLength`. */
  private l3Of(ctx: Ctx, key: Uint32Array): number {
    if (ctx.l3 >= 0) return ctx.l3;
    return this.packetL3Length !== undefined ? this.packetL3Length(key) : Math.max(0, ctx.frameLength - l2Length(key));
  }

  /**
   * `ct_snat_to_vip` in `table` mode, where table 70 gave `snat` (a commit with SNAT in the zone in
   * reg12, without recirculation): conntrack commits the connection. In translation the pass goes
   * on with the packet as it was, as OVS's translation does until a recirculation (so the egress
   * ACLs of a hairpinned packet match its own source, not the VIP: replay-fuzz seed 3975), and
   * what it sends after the commit leaves translated (datapath.ts `commitInPass`). Elsewhere the
   * packet goes on translated. The rest of the pass sees the same `ct_*` fields as before, as after
   * any `ct` that does not recirculate.
   */
  private snatToVip(ctx: Ctx, snat: HairpinSnat, key: Uint32Array): void {
    if (ctx.xl) {
      if (ctx.wc) unwildcard(ctx.wc, F_REG12);
      pushCt(ctx.xl, { key: copyKey(key), action: snat.action, zone: key[REG12]! & 0xffff, resume: undefined, quote: ctx.quote });
      return;
    }
    this.applyCt(ctx, snat.action, copyKey(key));
    if (snat.to.length === 1) key[W.NW_SRC] = snat.to[0]!;
    else key.set(snat.to, W.IPV6_SRC);
  }

  private applyCt(ctx: Ctx, a: CtAction | CtLbAction, key: Uint32Array): void {
    const zone = a.zone.kind === "const" ? a.zone.zone : readSmall(key, a.zone.src.field, a.zone.src.ofs, Math.min(32, a.zone.src.nbits));
    const q = ctx.ctQueue;
    if (q) {
      this.applyTraceCt(ctx, q, a, key, zone & 0xffff);
      return;
    }
    const out = this.conntrack(a, this.ctRequest(a, zone, ctx.lbDst), key);
    if (ctx.sink) {
      ctx.sink.ct({
        kind: a.kind,
        zone: zone & 0xffff,
        state: out.state,
        assumed: false,
        committed: out.committed,
        ...(out.backend ? { backend: out.backend } : {}),
        ...(out.nat ? { nat: out.nat } : {}),
        ...(out.note ? { note: out.note } : {}),
      });
    }
  }

  private applyTraceCt(ctx: Ctx, q: CtStateQueue, a: CtAction | CtLbAction, key: Uint32Array, zone: number): void {
    let assumed = false;
    let backend: Backend | undefined;
    let note: string | undefined;
    let nat: "dnat" | "snat" | undefined;
    // A bare `ct_lb_mark;` (compiled as ct with nat restore in a switch's own zone) is, for
    // ovn-trace, a ct_lb without backends: it takes the next --ct state and DNATs to --lb-dst when
    // one is given (leaving --lb-dst in force for later ct_lb actions). A bare `ct_dnat;` or
    // `ct_snat;` (the DNAT or SNAT zone) is no load balancer: it assumes no binding.
    const bareLb = a.kind === "ct" && a.nat?.kind === "restore" && !isNatZone(a);
    if (a.kind === "ct_lb" || bareLb) {
      const backends = a.kind === "ct_lb" ? a.backends : [];
      const et = getField(key, F_ETH_TYPE);
      if (et === ETH_IP || et === ETH_IPV6) {
        const lbDst = ctx.lbDst;
        backend = traceLbDnat(key, backends, lbDst, a.kind === "ct_lb" ? a.hashFields : undefined);
        if (backend && lbDst && backends.length > 0 && lbDstMatches(backends, lbDst)) ctx.lbDst = undefined;
        if (!backend && backends.length > 0) note = "no load balancing destination (use --lb-dst)";
        if (backend) nat = "dnat";
        const s = q.next();
        assumed = s.assumed;
        setCtState(key, ctStateOf(key) | s.state);
      }
    } else if (a.nat) {
      if (traceNat(key, a.nat)) nat = a.nat.kind === "dnat" ? "dnat" : "snat";
      if ((ctStateOf(key) & CT.TRK) === 0) {
        const s = q.next();
        assumed = s.assumed;
        setCtState(key, ctStateOf(key) | s.state);
      }
    } else if (a.commit) {
      // A plain commit: ovn-trace shows it and changes nothing.
      return;
    } else {
      // `ct_next` (a ct that recirculates, written as ct then next, or with a table): the next
      // --ct state replaces the packet's.
      const s = q.next();
      assumed = s.assumed;
      setCtState(key, s.state);
    }
    if (ctx.sink) {
      ctx.sink.ct({
        kind: a.kind,
        zone,
        state: ctStateOf(key),
        assumed,
        committed: false,
        ...(backend ? { backend } : {}),
        ...(nat ? { nat } : {}),
        ...(note ? { note } : {}),
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Drops and limits

  private takeBranch(ctx: Ctx, frame: Frame, key: Uint32Array): boolean {
    if (ctx.branches >= this.limits.maxBranches) {
      this.limitDrop(ctx, frame, key, "maxBranches", "loop-branches");
      return false;
    }
    ctx.branches++;
    return true;
  }

  private limitDrop(ctx: Ctx, frame: Frame, key: Uint32Array, limit: keyof Limits, reason: DropReason): void {
    const ev: LimitEvent = { limit, value: this.limits[limit] };
    ctx.limitHits.push(ev);
    if (ctx.sink) ctx.sink.limit(ev);
    this.drop(ctx, frame, key, reason, `${limit} ${this.limits[limit]}`);
  }

  private drop(ctx: Ctx, frame: Frame, key: Uint32Array, reason: DropReason, detail?: string): void {
    const r = frame.rule;
    const stage = this.stageName(frame.cdp, frame.pipeline, frame.table);
    const rec: DropRecord = {
      reason,
      ...(detail !== undefined ? { detail } : {}),
      datapath: frame.cdp.dp.key,
      datapathName: frame.cdp.dp.name,
      pipeline: frame.pipeline,
      table: frame.table,
      stage: r?.provenance.stage ?? stage,
      ...(r?.provenance.origin !== undefined ? { origin: r.provenance.origin } : {}),
      ...(r ? { ruleId: r.id } : {}),
      ...(r?.provenance.matchText !== undefined ? { match: r.provenance.matchText } : {}),
      key: copyKey(key),
      ...quoteOf(ctx),
    };
    ctx.drops.push(rec);
    ctx.xl?.dropsAt.push(ctx.xl.effects.length);
    if (ctx.sink) ctx.sink.drop(rec);
  }
}

/**
 * The drop reason for an explicit drop (a `drop` action or an empty action list) by `rule`: the
 * action's own reason when it is a known code, else judged by the rule's stage (ACL stages give
 * `acl-drop`, port-security stages `port-security`).
 */
export function classifyDrop(reason: string | undefined, rule: Rule | undefined): DropReason {
  if (reason !== undefined && isDropReason(reason)) return reason;
  const stage = rule?.provenance.stage ?? "";
  if (/_acl/.test(stage)) return "acl-drop";
  if (/port_sec/.test(stage)) return "port-security";
  return "drop-action";
}

/**
 * The reserved word of a Neighbor Advertisement that answers a solicitation (the key keeps it in
 * the TCP flags' word): solicited and override, and router from a router.
 */
const NA_FLAGS = 0x60000000;
const NA_ROUTER_FLAGS = 0xe0000000;

/** Turns `key` into the packet a generating action sends (before its nested actions run). */
function buildGenerated(a: Extract<Action, { kind: "arp_reply" | "icmp4_error" | "icmp4_echo_reply" | "icmp6_error" | "icmp6_echo_reply" | "nd_na" }>, key: Uint32Array): void {
  const ethDst0 = key[W.ETH_DST]!;
  const ethDst1 = key[W.ETH_DST + 1]!;
  const swapEth = (): void => {
    key[W.ETH_DST] = key[W.ETH_SRC]!;
    key[W.ETH_DST + 1] = key[W.ETH_SRC + 1]!;
    key[W.ETH_SRC] = ethDst0;
    key[W.ETH_SRC + 1] = ethDst1;
  };
  key[W.TCP_FLAGS] = 0;
  switch (a.kind) {
    case "arp_reply": {
      // "ip is at mac", from the answered address back to the requester.
      key[W.ETH_DST] = key[W.ETH_SRC]!;
      key[W.ETH_DST + 1] = key[W.ETH_SRC + 1]!;
      key[W.ETH_SRC] = a.mac[0]! >>> 0;
      key[W.ETH_SRC + 1] = a.mac[1]! >>> 0;
      setField(key, F_ETH_TYPE, ETH_ARP);
      key[W.ARP_THA] = key[W.ARP_SHA]!;
      key[W.ARP_THA + 1] = key[W.ARP_SHA + 1]!;
      key[W.ARP_SHA] = a.mac[0]! >>> 0;
      key[W.ARP_SHA + 1] = a.mac[1]! >>> 0;
      key[W.NW_DST] = key[W.NW_SRC]!;
      key[W.NW_SRC] = a.ip[0]! >>> 0;
      key[W.NW] = 2; // ARP opcode (reply) in nw_proto; tos, ttl, frag cleared
      return;
    }
    case "icmp4_error":
    case "icmp6_error":
      // The error starts with the offending packet's addresses; the nested actions set them.
      setField(key, F_NW_PROTO, a.kind === "icmp4_error" ? 1 : 58);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, a.icmpType);
      setField(key, F_TP_DST, a.icmpCode);
      return;
    case "icmp4_echo_reply": {
      swapEth();
      const s = key[W.NW_SRC]!;
      key[W.NW_SRC] = key[W.NW_DST]!;
      key[W.NW_DST] = s;
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, 0);
      setField(key, F_TP_DST, 0);
      return;
    }
    case "icmp6_echo_reply": {
      swapEth();
      const s = key.slice(W.IPV6_SRC, W.IPV6_SRC + 4);
      key.copyWithin(W.IPV6_SRC, W.IPV6_DST, W.IPV6_DST + 4);
      key.set(s, W.IPV6_DST);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, 129);
      setField(key, F_TP_DST, 0);
      return;
    }
    case "nd_na": {
      key[W.ETH_DST] = key[W.ETH_SRC]!;
      key[W.ETH_DST + 1] = key[W.ETH_SRC + 1]!;
      key[W.ETH_SRC] = a.mac[0]! >>> 0;
      key[W.ETH_SRC + 1] = a.mac[1]! >>> 0;
      key.copyWithin(W.IPV6_DST, W.IPV6_SRC, W.IPV6_SRC + 4);
      key.set(a.target.map((w) => w >>> 0), W.IPV6_SRC);
      key.set(a.target.map((w) => w >>> 0), W.ND_TARGET);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, 136);
      setField(key, F_TP_DST, 0);
      key[W.ARP_SHA] = 0;
      key[W.ARP_SHA + 1] = 0;
      key[W.ARP_THA] = a.mac[0]! >>> 0;
      key[W.ARP_THA + 1] = a.mac[1]! >>> 0;
      key[W.TCP_FLAGS] = a.router ? NA_ROUTER_FLAGS : NA_FLAGS;
      return;
    }
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

export type { FieldChange };

/** Copies packet bits into a committed connection's mark/label (`ct_commit { ct_label = reg3; }`). */
function applyCtExec(moves: readonly MoveAction[], key: Uint32Array, conn: Connection): void {
  const tmp = copyKey(key);
  tmp[W.CT_MARK] = conn.mark;
  tmp.set(conn.label, W.CT_LABEL);
  for (const m of moves) writeBits(tmp, m.dst.field, m.dst.ofs, m.dst.nbits, readBits(key, m.src.field, m.src.ofs, m.src.nbits));
  conn.mark = tmp[W.CT_MARK]!;
  conn.label = Array.from(tmp.subarray(W.CT_LABEL, W.CT_LABEL + 4));
  key[W.CT_MARK] = conn.mark;
  key.set(conn.label, W.CT_LABEL);
}

const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** A record's `quote`: what the packet made in the nested actions under way quotes, if any. */
function quoteOf(ctx: Ctx): { quote: Uint32Array } | Record<string, never> {
  return ctx.quote ? { quote: ctx.quote } : {};
}

/** True for the generating actions whose packet answers the current one: ICMP errors, resets, rejects. */
function answers(a: Action): boolean {
  if (a.kind === "icmp4_error" || a.kind === "icmp6_error") return true;
  if (a.kind !== "generate") return false;
  const p = a.packet;
  return p === "icmp4" || p === "icmp4_error" || p === "icmp6" || p === "icmp6_error" || p === "tcp_reset" || p === "sctp_abort" || p === "reject";
}

/**
 * Turns `key` into the packet an OVN generating action (`arp { }`, `icmp4 { }`, `reject { }`, ...)
 * starts from, as ovn-trace builds it; the nested actions then set what OVN's flows set. Returns
 * false when nothing is generated: `reject` of a packet that is itself a TCP reset or an ICMP
 * unreachable (OVN avoids answering its own answers). With `pinctrl` (a connection table, not
 * ovn-trace's `--ct`), a TCP reset or SCTP abort and a neighbour solicitation are the ones
 * ovn-controller makes instead (controller/pinctrl.c): a reset or abort with TTL 63, the ports
 * swapped, and a reset's flags RST and ACK, where ovn-trace gives TTL 255, the ports as they were
 * and RST alone; a solicitation an ICMPv6 message from the link-local address of its Ethernet
 * source, where ovn-trace keeps the packet's protocol and source address; an ARP request one
 * without transport ports, where ovn-trace keeps the trigger's; a `reject` of UDP a port
 * unreachable, where ovn-trace's has code 1.
 */
function buildGeneratedPacket(kind: GeneratedPacket, key: Uint32Array, pinctrl: boolean): boolean {
  const reset = (): void => {
    if (pinctrl) {
      setField(key, F_NW_TTL, 63);
      const sport = getField(key, F_TP_SRC);
      setField(key, F_TP_SRC, getField(key, F_TP_DST));
      setField(key, F_TP_DST, sport);
      key[W.TCP_FLAGS] = getField(key, F_NW_PROTO) === 6 ? TCP_RST | TCP_ACK : TCP_RST;
    } else {
      setField(key, F_NW_TTL, 255);
      key[W.TCP_FLAGS] = TCP_RST;
    }
  };
  const v4 = getField(key, F_ETH_TYPE) === ETH_IP;
  const swap = (): void => {
    const d0 = key[W.ETH_DST]!;
    const d1 = key[W.ETH_DST + 1]!;
    key[W.ETH_DST] = key[W.ETH_SRC]!;
    key[W.ETH_DST + 1] = key[W.ETH_SRC + 1]!;
    key[W.ETH_SRC] = d0;
    key[W.ETH_SRC + 1] = d1;
    if (v4) {
      const s = key[W.NW_SRC]!;
      key[W.NW_SRC] = key[W.NW_DST]!;
      key[W.NW_DST] = s;
    } else {
      const s = key.slice(W.IPV6_SRC, W.IPV6_SRC + 4);
      key.copyWithin(W.IPV6_SRC, W.IPV6_DST, W.IPV6_DST + 4);
      key.set(s, W.IPV6_DST);
    }
  };
  switch (kind) {
    case "arp":
      key[W.NW] = 1; // ARP request opcode in nw_proto; frag, tos and ttl cleared
      key[W.TCP_FLAGS] = 0;
      // ovn-trace keeps the trigger's transport ports (execute_arp), so an ICMP error's type and
      // code stay readable in the request; ovn-controller's request, extracted afresh, has none.
      if (pinctrl) key[W.TP] = 0;
      key.fill(0, W.IPV6_SRC, W.IPV6_SRC + 4);
      key.fill(0, W.IPV6_DST, W.IPV6_DST + 4);
      key[W.IPV6_LABEL] = 0;
      setField(key, F_ETH_TYPE, ETH_ARP);
      key[W.ARP_SHA] = key[W.ETH_SRC]!;
      key[W.ARP_SHA + 1] = key[W.ETH_SRC + 1]!;
      key[W.ARP_THA] = 0;
      key[W.ARP_THA + 1] = 0;
      return true;
    case "nd_ns": {
      const tha0 = key[W.ETH_DST]!;
      const tha1 = key[W.ETH_DST + 1]!;
      const low24 = key[W.IPV6_DST + 3]! & 0xffffff;
      // Ethernet multicast of the solicited-node address of ip6.dst: 33:33:ff + its last 24 bits.
      key[W.ETH_DST] = 0x3333;
      key[W.ETH_DST + 1] = ((0xff << 24) | low24) >>> 0;
      setField(key, F_TP_SRC, 135);
      if (pinctrl) {
        // ovn-controller's solicitation (compose_nd_ns): from the link-local address of eth.src,
        // to the target's solicited-node address, hop limit 255, eth.src as source link-layer
        // address option.
        const s0 = key[W.ETH_SRC]!;
        const s1 = key[W.ETH_SRC + 1]!;
        key.copyWithin(W.ND_TARGET, W.IPV6_DST, W.IPV6_DST + 4);
        key[W.IPV6_SRC] = 0xfe800000;
        key[W.IPV6_SRC + 1] = 0;
        key[W.IPV6_SRC + 2] = ((((s0 >>> 8) ^ 2) << 24) | ((s0 & 0xff) << 16) | ((s1 >>> 24) << 8) | 0xff) >>> 0;
        key[W.IPV6_SRC + 3] = ((0xfe << 24) | (s1 & 0xffffff)) >>> 0;
        key[W.IPV6_DST] = 0xff020000;
        key[W.IPV6_DST + 1] = 0;
        key[W.IPV6_DST + 2] = 1;
        key[W.IPV6_DST + 3] = (0xff000000 | low24) >>> 0;
        setField(key, F_NW_PROTO, 58);
        setField(key, F_NW_TTL, 255);
        setField(key, F_TP_DST, 0);
        key[W.TCP_FLAGS] = 0;
        key[W.ARP_SHA] = s0;
        key[W.ARP_SHA + 1] = s1;
        key[W.ARP_THA] = 0;
        key[W.ARP_THA + 1] = 0;
        return true;
      }
      key[W.ARP_SHA] = 0;
      key[W.ARP_SHA + 1] = 0;
      key[W.ARP_THA] = tha0;
      key[W.ARP_THA + 1] = tha1;
      return true;
    }
    case "nd_na":
    case "nd_na_router": {
      const d0 = key[W.ETH_DST]!;
      const d1 = key[W.ETH_DST + 1]!;
      key[W.ETH_DST] = key[W.ETH_SRC]!;
      key[W.ETH_DST + 1] = key[W.ETH_SRC + 1]!;
      key[W.ETH_SRC] = d0;
      key[W.ETH_SRC + 1] = d1;
      key.copyWithin(W.IPV6_DST, W.IPV6_SRC, W.IPV6_SRC + 4);
      key.copyWithin(W.IPV6_SRC, W.ND_TARGET, W.ND_TARGET + 4);
      setField(key, F_TP_SRC, 136);
      key[W.ARP_SHA] = 0;
      key[W.ARP_SHA + 1] = 0;
      key[W.ARP_THA] = d0;
      key[W.ARP_THA + 1] = d1;
      // ovn-controller's advertisement (compose_nd_na) carries its flags: solicited and override,
      // and router for `nd_na_router`. ovn-trace sets none (its reserved word stays the packet's).
      if (pinctrl) key[W.TCP_FLAGS] = kind === "nd_na_router" ? NA_ROUTER_FLAGS : NA_FLAGS;
      return true;
    }
    case "icmp4":
    case "icmp4_error":
      setField(key, F_NW_PROTO, 1);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, 3);
      setField(key, F_TP_DST, 1);
      // ovn-controller's error has the rest of its ICMP header zero (until `icmp4.frag_mtu`).
      if (pinctrl) key[W.TCP_FLAGS] = 0;
      return true;
    case "icmp6":
    case "icmp6_error":
      setField(key, F_NW_PROTO, 58);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, 1);
      setField(key, F_TP_DST, 1);
      if (pinctrl) key[W.TCP_FLAGS] = 0;
      return true;
    case "tcp_reset":
    case "sctp_abort":
      setField(key, F_NW_PROTO, kind === "tcp_reset" ? 6 : 132);
      reset();
      return true;
    case "reject": {
      const proto = getField(key, F_NW_PROTO);
      if (proto === 6 || proto === 132) {
        if ((key[W.TCP_FLAGS]! & TCP_RST) !== 0) return false;
        swap();
        reset();
        return true;
      }
      const type = getField(key, F_TP_SRC);
      if ((v4 && proto === 1 && type === 3) || (!v4 && proto === 58 && type === 1)) return false;
      swap();
      setField(key, F_NW_PROTO, v4 ? 1 : 58);
      setField(key, F_NW_TTL, 255);
      setField(key, F_TP_SRC, v4 ? 3 : 1);
      // ovn-controller answers UDP with port unreachable (3, ICMPv6 4); ovn-trace with code 1.
      setField(key, F_TP_DST, pinctrl && proto === 17 ? (v4 ? 3 : 4) : 1);
      key[W.TCP_FLAGS] = 0;
      return true;
    }
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}

/**
 * The member `select(...)` picks: `selectId` when it is one of the action's members; else the one
 * OVS 3.1 picks from the group ovn-controller makes of it (select-group.ts): by the packet's
 * `dp_hash` when an earlier group on this chassis computed one, else by the symmetric L4 hash of
 * the packet as it is here, which the datapath then keeps as `dp_hash` (returned as `dpHash`).
 * Members are the action's integer arguments, each with its weight (`select(1=100, 2=50)`;
 * default 100). With `wc`, marks the fields the choice read.
 */
function chooseMember(a: CallAction, key: Uint32Array, selectId: number | undefined, wc: Uint32Array | undefined): { id: number; chosen: boolean; dpHash?: number } {
  const ids: number[] = [];
  const weights: number[] = [];
  for (const arg of a.args) {
    if (arg.kind === "value") {
      ids.push(Number(wordsToBig(arg.value) & 0xffffn));
      weights.push(100);
    } else if (arg.kind === "text") {
      const m = /^\s*(\d+)(?:\s*=\s*(\d+))?/.exec(arg.text);
      if (m) {
        ids.push(Number(m[1]));
        weights.push(m[2] === undefined ? 100 : Number(m[2]));
      }
    }
  }
  if (ids.length === 0) return { id: 0, chosen: false };
  if (selectId !== undefined && ids.includes(selectId)) return { id: selectId, chosen: true };
  if (!dpHashFits(weights)) {
    // Too many members for a dp_hash table: OVS's default method hashes the packet as it is here.
    if (wc) for (const f of symmetricL4Fields(key)) unwildcard(wc, f);
    const b = bestBucket(weights, flowHashSymmetricL4(key, 0));
    return { id: ids[b < 0 ? 0 : b]!, chosen: false };
  }
  if (wc) unwildcard(wc, F_DP_HASH);
  const had = key[W.DP_HASH]!;
  if (had === 0 && wc) for (const f of symmetricHashFields(key)) unwildcard(wc, f);
  const dpHash = had !== 0 ? had : flowHashSymmetricL3L4(key, 0);
  const i = dpHashBucket(weights, dpHash);
  return { id: ids[i < 0 ? 0 : i]!, chosen: false, dpHash };
}

const F_DP_HASH = field("dp_hash");
const SYM_IPV4 = ["eth_type", "nw_src", "nw_dst", "nw_proto", "nw_frag"].map(field);
const SYM_IPV6 = ["eth_type", "ipv6_src", "ipv6_dst", "nw_proto", "nw_frag"].map(field);
const SYM_PORTS = ["tp_src", "tp_dst"].map(field);
const SYM_L2 = ["eth_type", "eth_src", "eth_dst", "vlan_tci", "vlan1_tci"].map(field);

/** The fields `flowHashSymmetricL3L4` reads from `key`. */
function symmetricHashFields(key: Uint32Array): readonly FieldDef[] {
  const type = key[W.ETH_TYPE]! & 0xffff;
  if (type !== 0x0800 && type !== 0x86dd) return SYM_L2;
  const l3 = type === 0x0800 ? SYM_IPV4 : SYM_IPV6;
  const nw = key[W.NW]!;
  const proto = nw & 0xff;
  return ((nw >>> 24) & 3) === 0 && (proto === 6 || proto === 132) ? [...l3, ...SYM_PORTS] : l3;
}

/** The fields `flowHashSymmetricL4` reads from `key`, as `flow_mask_hash_fields` marks them. */
function symmetricL4Fields(key: Uint32Array): readonly FieldDef[] {
  const type = key[W.ETH_TYPE]! & 0xffff;
  if (type !== 0x0800 && type !== 0x86dd) return SYM_L2;
  const l3 = [...SYM_L2, ...(type === 0x0800 ? SYM_IPV4 : SYM_IPV6)];
  return (key[W.NW]! & 0xff) === 17 ? l3 : [...l3, ...SYM_PORTS];
}

/**
 * True for OVN's `ct_commit` (a `ct` that commits without NAT or a table): it does not
 * recirculate, and the packet's `ct_*` fields stay as they were (only the connection changes).
 */
function isPlainCommit(a: CtAction | CtLbAction): boolean {
  return a.kind === "ct" && a.table === undefined && a.commit && a.nat === undefined;
}

/** True when a router conntrack action works in the SNAT zone (reg12): `ct_snat`. */
function isSnatZone(a: CtAction): boolean {
  return a.zone.kind === "field" && a.zone.src.field.name === "reg12";
}

/** Whether `a` runs in a DNAT or SNAT zone (reg11, reg12): `ct_dnat`/`ct_snat`, or any ct of a router. */
function isNatZone(a: CtAction): boolean {
  return a.zone.kind === "field" && (a.zone.src.field.name === "reg11" || a.zone.src.field.name === "reg12");
}

/**
 * Conntrack zones of switch ports (reg13), numbered from 1 in datapath and port key order: every
 * port ovn-controller gives one (VIFs, localnet ports and the like, l3gateway ports), not patch
 * ports.
 */
function assignPortZones(program: LogicalProgram): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  let next = 1;
  for (const k of [...program.datapaths.keys()].sort((a, b) => a - b)) {
    const dp = program.datapaths.get(k)!;
    if (dp.kind === "router") continue;
    const m = new Map<number, number>();
    for (const p of [...dp.ports.values()].sort((a, b) => a.key - b.key)) {
      if (p.l3gateway === undefined && (p.peer || p.type === "router" || p.type === "patch" || p.type === "chassisredirect")) continue;
      m.set(p.key, next++);
    }
    out.set(k, m);
  }
  return out;
}

/**
 * Conntrack zones for every datapath, `[dnat, snat]`, numbered from 0x8000 up (routers in datapath
 * key order, then switches) so they never meet the port zones (reg13, below 0x8000 in practice).
 */
function assignDatapathZones(program: LogicalProgram): Map<number, readonly [number, number]> {
  const out = new Map<number, readonly [number, number]>();
  let next = 0x8000;
  const keys = [...program.datapaths.keys()].sort((a, b) => a - b);
  // Routers first, so their zones do not depend on the switches.
  for (const kind of ["router", "switch"] as const) {
    for (const k of keys) {
      if (program.datapaths.get(k)!.kind !== kind) continue;
      out.set(k, [next, next + 1]);
      next += 2;
    }
  }
  return out;
}
