/**
 * The datapath: packets through a flow cache in front of the slow path, one chassis at a time,
 * with conntrack through recirculation, as ovs-vswitchd's dpif-netdev does it.
 *
 * What
 * ----
 * A `Datapath` serves one chassis (its logical program with placement, its conntrack, its
 * neighbour table, its `FlowCache`). `DatapathGroup` holds one per chassis and carries packets
 * between them: a packet sent through a tunnel is received by the other chassis's datapath as a
 * fresh packet (only the wire's fields and the tunnel's datapath and port keys survive), as the
 * fabric does with bytes; a frame output to a localnet port is received, from their localnet
 * port, by the switches the group's `providerNetworks` deliver it to, as their learning switches
 * do, on other chassis and on this one (`OutputOp.provider`, worked out when the megaflow is made:
 * output to a localnet port examines both MACs; the megaflows go when what the switches have
 * learned changes, `ProviderNetworks.version`). A frame for the
 * underlay's own gateway goes, per packet, where that router sends it (`OutputOp.router`): the
 * router is not OVS, and its choice by destination address is no part of any megaflow.
 *
 * Passes and recirculation
 * ------------------------
 * A pass looks its key up: the exact-match cache, then the megaflow classifier, then (a miss, an
 * "upcall") the slow path translates it. Where the pass starts is in the key's `recirc_id`: an
 * entry of this datapath's table of entry points (`inject` from a port, `tunnel` arrival, or
 * `resume` at a pipeline and table after conntrack), so every pass's lookup includes it. A
 * recirculating `ct` / `ct_lb` ends the pass: its actions are to run conntrack on the packet and
 * start a new pass with the result, whose key has the new `recirc_id` and the `ct_*` fields, as
 * OVS's `ct(...),recirc(N)` does. A `ct` that does not recirculate (`ct_commit`) is an action of
 * the pass and the pass goes on, as in OVS, so a packet takes the passes OVS takes (less OVS's
 * `dp_hash` pass at a select group, a load balancer's or an ECMP route's: ovnsim picks the member
 * where the group is, from the hash OVS's pass computes, and keeps it in the key's `dp_hash` as OVS
 * does, select-group.ts). The number of
 * passes a packet may take is bounded (`maxRecirc`, drop `loop-recirc`).
 *
 * Recirculation depth: OVS's userspace datapath (dpif-netdev) lets a packet nest at most six
 * recirculations (`MAX_RECIRC_DEPTH`) and drops it at the seventh. It counts every `recirc` (a
 * recirculating `ct`, and the `hash(...),recirc` a select group by `dp_hash` needs when the packet
 * has no `dp_hash` yet) and a tunnel's decapsulation; a packet ovn-controller sends (one it made,
 * or one it held for a neighbour) starts from none. ovnsim keeps that count beside its passes
 * (`DatapathGroup.recircs`) and drops where OVS would, with `recirc-depth`: at a recirculating
 * effect, before conntrack when the group's own recirculation is the one too many; at a pass whose
 * `select` needs one (`DpActions.hashRecircs`), the whole pass (OVS would still send what the pass
 * sent before the group, which ovnsim does not split off). A gateway router that load-balances
 * and SNATs traffic from another switch takes seven: OVS drops it.
 *
 * Translation and the megaflow
 * ----------------------------
 * The executor runs the pass in translation mode (execute.ts `XlateRecord`): every lookup ORs the
 * bits it examined into a wildcard mask, actions that read fields add them (an `output` reads the
 * output port and, in the ingress pipeline, the input port and `flags.loopback`), conntrack and
 * learning are deferred as effects. `recirc_id` is always matched, and for a tunnel arrival the
 * datapath and port keys it starts from; registers and `metadata` only where the pass reads them
 * (OVS keeps them out of the datapath key altogether, frozen behind `recirc_id`). Then the pass is
 * translated a second time on a twin key, the key with every bit outside the mask flipped. The twin
 * must take the same path (the same outputs, drops, tunnels and effects, and the same mask); the
 * bits where the two results agree although the inputs differed are the ones the pass wrote, and
 * the bits where each result kept its own input are passed through. Each result packet becomes
 * `(word, mask, value)` writes applied to the input key. Anything else (the twin took another path,
 * or a result bit depends on an unexamined input bit) means the mask missed a read: the megaflow is
 * then exact (all bits), which is always correct. Generated packets and calls whose reads are not
 * modelled are exact too.
 *
 * A pass that compares the packet's length (`check_pkt_larger`, a gateway port's MTU) reads what no
 * key holds. As OVS's translation makes one megaflow of it whose `check_pkt_len` action branches
 * on each packet's length, the pass is translated once with each answer to its first check and the
 * megaflow's actions are a `LengthBranch`, decided per packet by its length. A side that checks
 * another length as well is left to each packet: here the nested actions of a packet OVN made
 * (an ICMP error that re-enters a gateway port) run in the same translation, where OVS's datapath
 * hands the packet to ovn-controller and translates it apart. Such a packet, and a pass whose
 * first check measures a packet it made, is translated alone and nothing is installed for it
 * (`lengthUpcalls`).
 *
 * The datapath's conntrack state
 * ------------------------------
 * OVS keeps a packet's `ct_state` and `ct_zone` in the datapath (`md.ct_state`), which the flow
 * does not always show: xlate clears the flow's after every `ct`, but the datapath's stays until a
 * `ct_clear` reaches it, and xlate emits that action only while the flow is tracked from a
 * recirculation (`ctx->conntracked`: in a pass resumed after a `ct`, before its next `ct` or
 * `ct_clear`; a patch crossing's `ct_clear` is inside a clone, which keeps the rest of the pass as
 * it was). So a commit that does not recirculate leaves its state to the next `ct`, even across a
 * router. Translation records which state each `ct` effect meets (execute.ts `XlateRecord.md`):
 * the one the pass started with (the key's `ct_*` fields, which the recirculating `ct` before it
 * wrote), none, or the one an earlier effect of the pass left; the pass keeps each effect's result
 * (`mdSlots`) and hands conntrack the state its effect meets (conntrack.ts `md`).
 *
 * A pass with a commit that does not recirculate runs its outputs, drops, tunnels and effects in the
 * order translation met them (`inOrder`), as OVS's datapath runs its actions: the commit's all-zero
 * SNAT may move the packet's source port (conntrack.ts), and what the pass sends after the commit,
 * and its later effects, carry the move. Other passes send first, then run their effects.
 *
 * Packets waiting for a neighbour
 * -------------------------------
 * A router's `arp { }` or `nd_ns { }` asks for the next hop's MAC; ovn-controller holds the packet
 * that asked (pinctrl.c's buffered packets: up to 3 per next hop and output port, for 10 s of the
 * connection table's clock) and sends it to the router's egress pipeline, with the learned MAC as
 * `eth.dst`, once a `put_arp` or `put_nd` learns it. Here that is a `buffer` effect after the pass's
 * outputs (the question and, on one chassis, its answer), and a check of the held packets after each
 * learning effect; a held packet goes on in the packet context it was held in.
 *
 * Packets OVN makes
 * -----------------
 * An answer OVN makes (an ICMP error, a TCP reset) comes from the packet as it was at the action
 * that made it. The pass's ops record that key (`quote`; the megaflow of a pass that makes a packet
 * is exact, so it is a constant), and the group keeps it for the packet being processed
 * (`DatapathGroup.quote`), across tunnels and passes. Conntrack knows by it that a packet was made
 * (a reset is then a segment of its own), relates an error by it and writes its NAT of the quoted
 * packet back into it; the sink builds an error's quoted bytes from it (flow/generated.ts).
 *
 * Fragments
 * ---------
 * With `reassembly` (the replay), an IP fragment (IPv4, or IPv6 with a fragment header) at a
 * `ct` effect goes to the datapath's `FragmentLists` (ipf.ts), as OVS's conntrack hands fragments
 * to its reassembly: it is held, and the fragment that completes its datagram sends the datagram
 * through conntrack and releases every fragment, each going on from that effect with the
 * datagram's result (`release`), its own frame restored for the sink. Released fragments take
 * scratch keys past those of the passes under way (`scratchBase`). In a pass with a commit (a
 * `ct` that does not recirculate) a fragment's effects run before its outputs, which in OVS's
 * order follow the commit and wait with a held fragment.
 * With a clock (the connection table's), after each recirculating `ct` effect the oldest list
 * whose 15 s are up goes on from that effect's continuation, as OVS's reassembly adds it to the
 * batch at that conntrack action: each fragment its own packet, with the metadata and registers
 * of the packet whose action it was, `ct_state` invalid and untracked (`expiring`).
 * The packet goes on first, then the fragments.
 *
 * Invalidation
 * ------------
 * Before each pass: when what the slow path learns from packets and reads when it translates has
 * changed (neighbours, load-balancer hairpin replies, what provider bridges learned), the cache is
 * flushed. Flows ovn-controller learns by OpenFlow `learn` (load-balancer affinity, symmetric
 * ECMP replies) are revalidated one by one instead: a megaflow whose translation looked into such
 * a table recorded what it looked up (learned-flows.ts), and only those a change there may answer
 * otherwise are removed, as OVS's revalidators remove the megaflows a flow table change alters.
 * Each new session learns flows, so flushing the cache for them sent most packets of a busy
 * capture to the slow path.
 *
 * Statistics count per egress port, per tunnel, per drop reason (with the rule's origin: the ACL,
 * route or NAT object) and per cache outcome; `stats()` returns a snapshot.
 *
 * Hot path: a cache hit allocates nothing: keys for recirculation and results live in per-depth
 * scratch arrays, counters are array slots found at install time, and conntrack of a known
 * connection allocates nothing (conntrack.ts).
 */
import { CT, KEY_WORDS, W, field, getField, setField, transientKey } from "../flow/index.js";
import type { CallAction, CtAction, CtLbAction, Pipeline, PhysicalPlan } from "../ofp/index.js";
import { Conntrack, lbHashRecirc, type ConntrackOptions, type CtRequest } from "./conntrack.js";
import { LogicalExecutor, MD_CLEARED, MD_PASS, type ExecResult, type ExecutorOptions, type Resume, type XlateRecord } from "./execute.js";
import { FlowCache, sumCacheStats, type FlowCacheOptions, type FlowCacheStats, type Megaflow } from "./flow-cache.js";
import { ProbeIndex, type LearnedProbe } from "./learned-flows.js";
import type { DropRecord, OutputRecord } from "./trace-sink.js";
import { FragmentLists, applyDatagramResult, isFragment, type HeldFragment, type PacketContext } from "./ipf.js";

/** Where a pass starts. */
export type EntryPoint =
  | { readonly kind: "inject"; readonly datapath: number; readonly inport: number }
  | { readonly kind: "tunnel" }
  | { readonly kind: "resume"; readonly at: Resume };

/** Writes to apply to a key: triples (word, mask, value). */
type Sets = Uint32Array;

/**
 * Every op carries `sets`, the writes that turn the pass's key into the op's packet, and `packet`:
 * for the actions of one packet (the slow path without the cache) the packet itself, which the op
 * may consume; undefined in a megaflow's actions, which rebuild it from `sets` for each packet.
 * Outputs, tunnels, drops and conntrack effects of a packet OVN made carry `quote`: the packet it
 * was made from, as it was at the action that made it (a constant: such a megaflow is exact).
 * Outputs, tunnels and drops carry `after`: how many of the pass's effects come before them.
 */
export interface OutputOp {
  readonly sets: Sets;
  readonly packet: Uint32Array | undefined;
  readonly quote: Uint32Array | undefined;
  readonly stat: number;
  readonly after: number;
  readonly datapath: number;
  readonly datapathName: string;
  readonly port: number;
  readonly portName: string;
  readonly portType: string;
  /**
   * A localnet port's output: the datapaths the frame reaches over the provider network (of the
   * other chassis, and of this one where another switch's localnet port shares the network and
   * VLAN), with the entry of their localnet port (`ProviderNetworks`); empty when it leaves the
   * simulated network.
   */
  readonly provider: readonly ProviderHop[];
  /**
   * True when the frame leaves the chassis by its provider bridge's uplink: false for any other
   * port, and for a localnet port's frame that the bridge sends only to another switch's patch
   * port on this chassis (`SegmentDelivery.uplink`).
   */
  readonly uplink: boolean;
  /** A localnet port's frame to the underlay's own gateway: the router that takes it (`SegmentDelivery.router`). */
  readonly router: UnderlayRouter | undefined;
}

/** Where a frame from a provider network enters a chassis (another one, or this one by another switch). */
export interface ProviderHop {
  readonly to: Datapath;
  readonly entry: number;
  /** The counter of the chassis pair (`GroupStats.providers`). */
  readonly stat: number;
}

/** A localnet attachment that receives a frame from a provider network. */
export interface SegmentTarget {
  readonly chassis: string;
  /** The localnet port's datapath and port keys on that chassis. */
  readonly datapath: number;
  readonly port: number;
}

/** Where a frame a chassis sends onto a provider network goes (`ProviderNetworks.receivers`). */
export interface SegmentDelivery {
  /**
   * The localnet attachments that receive it: on other chassis, and those of other switches on
   * the same network and VLAN on the sending chassis, whose patch ports hang on the same bridge.
   */
  readonly targets: readonly SegmentTarget[];
  /** True when it leaves the sending chassis by the bridge's uplink. */
  readonly uplink: boolean;
  /** When it is for the underlay's own gateway on the segment: the router, which routes it further. */
  readonly router?: UnderlayRouter;
}

/**
 * The underlay's own gateway on a provider network (`providerNetworks` of the model): a router
 * outside OVS, with an address on some of the network's VLANs, which routes IPv4 between them.
 * What it does to a packet depends on the packet's destination address, which no megaflow
 * matches (the router is not OVS's), so the datapath asks it for each packet sent to it.
 */
export interface UnderlayRouter {
  /**
   * Where it sends an IPv4 packet for `dst`: a host of one of its subnets on the network, or
   * undefined when the packet is not routed to one (for the gateway itself, outside every subnet,
   * or for an address no host has: it leaves the simulated network).
   */
  route(dst: number): RoutedDelivery | undefined;
}

/** Where the underlay's gateway sends a packet it routes: from its own MAC on the host's VLAN. */
export interface RoutedDelivery {
  /** The host's VLAN (0: untagged). */
  readonly vlan: number;
  /** The gateway's MAC on that VLAN, and the host's, as key words. */
  readonly src: readonly [number, number];
  readonly dst: readonly [number, number];
  /** The localnet attachments that receive it there (the host's switch on the host's chassis). */
  readonly targets: readonly SegmentTarget[];
}

/**
 * The provider networks between chassis (replay's `ProviderSegments`), whose bridges and switches
 * learn MACs from the frames they carry.
 */
export interface ProviderNetworks {
  /**
   * Where a frame goes that chassis `from` sends out its localnet port `port` of `datapath` from
   * the MAC in key words `src` to the MAC in `dst`, learning its source on the way. Asked when a
   * megaflow is made, whose mask holds both MACs (output to a localnet port examines them).
   */
  receivers(from: string, datapath: number, port: number, src: readonly [number, number], dst: readonly [number, number]): SegmentDelivery;
  /**
   * Moves whenever what the bridges have learned changes: a flow cache drops its megaflows then,
   * since where a localnet port's frames go, and which the executor drops, depends on it.
   */
  readonly version: number;
}

export interface TunnelOp {
  readonly sets: Sets;
  readonly packet: Uint32Array | undefined;
  readonly quote: Uint32Array | undefined;
  readonly stat: number;
  readonly after: number;
  readonly chassis: string;
  /** The datapath of `chassis` in this group, found when the op is built (undefined: none here). */
  readonly to: Datapath | undefined;
  readonly datapath: number;
  readonly inport: number;
  readonly outport: number;
}

export interface DropOp {
  readonly sets: Sets;
  readonly packet: Uint32Array | undefined;
  readonly quote: Uint32Array | undefined;
  readonly stat: number;
  readonly after: number;
  readonly record: Omit<DropRecord, "key" | "quote">;
}

export type EffectOp =
  | {
      readonly kind: "ct";
      readonly sets: Sets;
      readonly packet: Uint32Array | undefined;
      readonly quote: Uint32Array | undefined;
      readonly action: CtAction | CtLbAction;
      readonly request: CtRequest;
      readonly resume: number;
      /** A load balancer whose group OVS recirculates for to compute `dp_hash` (when the packet has none). */
      readonly lbHash: boolean;
      /** The datapath conntrack state it meets (execute.ts `XlateRecord.md`): `MD_PASS`, `MD_CLEARED` or an effect's index. */
      readonly mdFrom: number;
      /**
       * A commit without load balancer that does not recirculate: OVN's `ct_commit`, whose all-zero
       * SNAT may move the source port, and the hairpin's `ct_snat_to_vip`. What the pass sends
       * after it carries its source NAT, which the pass's own matches never saw: OVS's translation
       * goes on with the packet as it was until a recirculation.
       */
      readonly commitInPass: boolean;
    }
  | { readonly kind: "learn"; readonly sets: Sets; readonly packet: Uint32Array | undefined; readonly action: CallAction; readonly datapath: number; readonly pipeline: Pipeline }
  | { readonly kind: "buffer"; readonly sets: Sets; readonly packet: Uint32Array | undefined; readonly datapath: number; readonly v6: boolean; readonly quote: Uint32Array | undefined };

/**
 * A packet ovn-controller holds until its next hop's MAC is learned (pinctrl.c's buffered packets):
 * its key at the router's `arp { }` or `nd_ns { }`, where it waits, since when, and the packet
 * context to send it in.
 */
interface Buffered {
  readonly datapath: number;
  readonly port: number;
  readonly v6: boolean;
  readonly ip: bigint;
  readonly key: Uint32Array;
  readonly since: number;
  readonly context: unknown;
  /** For a packet OVN made: what it quotes (`DatapathGroup.quote`), a copy. */
  readonly quote: Uint32Array | undefined;
}

/** pinctrl.c: at most this many packets wait for one next hop (a ring of 4 keeps 3). */
const BUFFER_DEPTH = 3;
/** pinctrl.c: packets wait this long (milliseconds) at most. */
const BUFFER_TIMEOUT_MS = 10_000;

/** A megaflow's actions: what happens to every packet it matches. */
export interface DpActions {
  readonly outputs: readonly OutputOp[];
  readonly tunnels: readonly TunnelOp[];
  readonly drops: readonly DropOp[];
  readonly effects: readonly EffectOp[];
  /** True when the megaflow had to match every bit. */
  readonly exact: boolean;
  /** True when an effect is a `ct` that does not recirculate (a commit in the middle of the pass). */
  readonly commits: boolean;
  /** Recirculations OVS adds in this pass for select groups that compute `dp_hash` (see above). */
  readonly hashRecircs: number;
  /**
   * A pass that checks the packet's length once (`check_pkt_larger`): the actions for a packet
   * longer than `limit` bytes and for the others, as OVS's `check_pkt_len` action branches; the
   * rest of these actions is empty. Undefined for every other pass.
   */
  readonly lengthBranch: LengthBranch | undefined;
  /**
   * The lookups the translation made in tables of learned flows (those of its branches too), or
   * undefined for none: the megaflow is revalidated when a flow they could meet comes or goes
   * (learned-flows.ts).
   */
  readonly learned: readonly LearnedProbe[] | undefined;
}

/**
 * `DpActions.lengthBranch`. A side is undefined where its translation checked another length too
 * (that of a packet it made, whose nested actions run in the same translation here, where OVS's
 * datapath hands it to ovn-controller): a packet of that side is translated alone (`lengthUpcalls`).
 */
export interface LengthBranch {
  readonly limit: number;
  readonly gt: DpActions | undefined;
  readonly le: DpActions | undefined;
}

/**
 * Where a held fragment goes on from: effect `effect` of a pass's `actions`, whose input key was
 * `passKey` (a copy), at `depth`; with `emitAfter`, the pass's outputs come after its effects.
 */
interface FragmentResume {
  readonly actions: DpActions;
  readonly passKey: Uint32Array;
  readonly depth: number;
  readonly effect: number;
  readonly emitAfter: boolean;
}

/** Receives the packets a datapath emits, when the caller wants them (tests, `replay --out`). */
export interface PacketSink {
  output(chassis: string, op: OutputOp, key: Uint32Array): void;
  drop(chassis: string, op: DropOp, key: Uint32Array): void;
  tunnel?(chassis: string, op: TunnelOp, key: Uint32Array): void;
}

/** Named counters shared by the datapaths of a group. */
export class Counters {
  readonly names: string[] = [];
  readonly values: number[] = [];
  private readonly index = new Map<string, number>();

  slot(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.index.set(name, i);
      this.names.push(name);
      this.values.push(0);
    }
    return i;
  }

  /** Name → count, for the counters that counted something, in first-use order. */
  toObject(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) if (this.values[i]! > 0) out[this.names[i]!] = this.values[i]!;
    return out;
  }
}

export interface GroupStats {
  readonly packets: number;
  readonly passes: number;
  readonly recirculations: number;
  readonly upcalls: number;
  readonly exactMegaflows: number;
  /** Upcalls translated for one packet alone, their length checks beyond a branch (see the module header). */
  readonly lengthUpcalls: number;
  readonly outputs: Record<string, number>;
  readonly tunnels: Record<string, number>;
  /**
   * Frames carried over provider networks, by sending and receiving chassis and localnet port
   * (the same chassis twice: from one switch to another on the same VLAN).
   */
  readonly providers: Record<string, number>;
  readonly drops: Record<string, number>;
  readonly cache: FlowCacheStats;
}

export interface DatapathOptions {
  /** The executor's options (conntrack mode is forced to `table`). */
  readonly executor?: ExecutorOptions;
  /** The cache's options, or false to run every pass on the slow path. */
  readonly cache?: FlowCacheOptions | false;
  /** Passes per packet before it is dropped with `loop-recirc` (default 32). */
  readonly maxRecirc?: number;
  /**
   * Recirculations one packet may nest before the next is dropped with `recirc-depth`, as OVS's
   * userspace datapath counts them (`MAX_RECIRC_DEPTH`, 6; see the module header). Infinity: no
   * such limit (the kernel datapath has none).
   */
  readonly recircDepth?: number;
  /** Each chassis's connection table's options (`fromPlans`; `single` takes the executor's table). */
  readonly conntrack?: ConntrackOptions;
  /**
   * Reassemble IPv4 and IPv6 fragments at conntrack actions, as OVS does (ipf.ts), with this
   * context of the packet being processed (its fragment fields; saving and restoring it for held
   * fragments).
   */
  readonly reassembly?: PacketContext;
}

/** dpif-netdev's `MAX_RECIRC_DEPTH`: the recirculations a packet may nest. */
export const OVS_MAX_RECIRC_DEPTH = 6;

const REG14 = W.REG0 + 14;
const REG15 = W.REG0 + 15;

/** One chassis's datapath; see the module header. */
export class Datapath {
  readonly chassis: string;
  readonly exec: LogicalExecutor;
  readonly cache: FlowCache<DpActions> | undefined;
  private readonly group: DatapathGroup;
  private readonly entries: EntryPoint[] = [];
  private readonly entryIds = new Map<string, number>();
  private readonly resumeIds = new Map<number, number>();
  private readonly outputStats = new Map<number, number>();
  private readonly tunnelStats = new Map<string, number>();
  private readonly routedStats = new Map<string, number>();
  private readonly scratch: Uint32Array[] = [];
  /** Installed megaflows whose translation looked into tables of learned flows (`revalidate`). */
  private readonly probing = new ProbeIndex<Megaflow<DpActions>>();
  private readonly vxlan: boolean;
  /** Fragments held at conntrack actions (with reassembly). */
  readonly fragments = new FragmentLists<FragmentResume>();
  private learnedVersion: number;
  /** A commit in the pass's source NAT of the packet (`moveOf`), for `inOrder`; undefined: none. */
  private moved: Uint32Array | undefined = undefined;
  /** The packet's `SNAT_WORDS` before a commit in the pass. */
  private readonly snatBefore = new Uint32Array(6);
  /** `mdSlots`, by scratch depth. */
  private readonly mdAt: Uint32Array[] = [];
  /** Packets waiting for their next hop's MAC, oldest first. */
  private buffered: Buffered[] = [];
  upcalls = 0;
  exactMegaflows = 0;
  /** Upcalls translated for one packet alone, their length checks beyond a branch (see the module header). */
  lengthUpcalls = 0;

  constructor(group: DatapathGroup, chassis: string, exec: LogicalExecutor, cache: FlowCacheOptions | false | undefined, vxlan: boolean) {
    this.group = group;
    this.chassis = chassis;
    this.exec = exec;
    this.cache = cache === false ? undefined : new FlowCache<DpActions>(cache ?? {});
    this.vxlan = vxlan;
    this.learnedVersion = exec.learnedVersion;
    // Entry 0 is never used, so a key with recirc_id 0 is recognisably not entered yet.
    this.entries.push({ kind: "tunnel" });
    this.entryId("tunnel", { kind: "tunnel" });
  }

  get conntrack(): Conntrack {
    return this.exec.connections!;
  }

  /** The `recirc_id` of an entry point (made on first use; not on the hot path). */
  entryId(name: string, e: EntryPoint): number {
    let id = this.entryIds.get(name);
    if (id === undefined) {
      id = this.entries.length;
      this.entries.push(e);
      this.entryIds.set(name, id);
    }
    return id;
  }

  /** The `recirc_id` for packets injected at a port. */
  injectId(datapath: number, inport: number): number {
    return this.entryId(`inject/${datapath}/${inport}`, { kind: "inject", datapath, inport });
  }

  /** The scratch key of `depth` (past those of the passes under way when fragments are released). */
  private scratchAt(depth: number): Uint32Array {
    const i = this.group.scratchBase + depth;
    let s = this.scratch[i];
    if (s === undefined) {
      s = new Uint32Array(KEY_WORDS);
      this.scratch[i] = s;
    }
    return s;
  }

  /** Runs one pass of `key` (whose `recirc_id` names its entry point) and everything it leads to. */
  pass(key: Uint32Array, depth: number): void {
    const g = this.group;
    g.passes++;
    if (depth > 0) g.recirculations++;
    // Both only grow, so their sum moves whenever either does.
    const learned = this.exec.learnedVersion + (g.providerNetworks?.version ?? 0);
    if (learned !== this.learnedVersion) {
      // Learned state changed (neighbours, hairpin reply flows, provider bridges' MACs): megaflows
      // that read it may be stale.
      this.learnedVersion = learned;
      this.cache?.flush();
      this.probing.clear();
    }
    let acts: DpActions;
    const c = this.cache;
    if (c !== undefined) {
      if (this.exec.learnedFlowsChanged()) this.revalidate();
      const f = c.lookup(key);
      if (f !== undefined) acts = f.actions;
      else {
        const t = this.translate(key);
        if (!t.slow) {
          const m = c.install(key, t.mask, t.actions);
          if (t.actions.learned !== undefined) this.probing.add(m, t.actions.learned);
        }
        acts = t.actions;
      }
    } else acts = this.translate(key, false).actions;
    this.execute(acts, key, depth);
  }

  /**
   * Removes the megaflows whose lookups in tables of learned flows a change there may answer
   * otherwise now: those that probed a flow that came, changed or went, or probed its table while
   * it was empty (learned-flows.ts); the others stay, as after OVS's revalidation.
   */
  private revalidate(): void {
    for (const t of this.exec.learnedFlows) if (t.hasChanges) this.probing.affected(t, t.takeChanges(), this.removeMegaflow);
  }

  private readonly removeMegaflow = (f: Megaflow<DpActions>): void => this.cache!.remove(f);

  private execute(acts: DpActions, key: Uint32Array, depth: number): void {
    const branch = acts.lengthBranch;
    if (branch !== undefined) {
      const side = this.exec.frameLength(key) > branch.limit ? branch.gt : branch.le;
      this.execute(side ?? this.translate(key, true, false).actions, key, depth);
      return;
    }
    const extra = acts.hashRecircs;
    if (extra > 0) {
      const g = this.group;
      if (g.madePatched) {
        this.upcallDrop(key);
        return;
      }
      if (g.recircs + extra > g.recircDepth) {
        this.depthDrop(key);
        return;
      }
      g.recircs += extra;
      try {
        this.executeIn(acts, key, depth);
      } finally {
        g.recircs -= extra;
      }
      return;
    }
    this.executeIn(acts, key, depth);
  }

  private executeIn(acts: DpActions, key: Uint32Array, depth: number): void {
    if (acts.commits) {
      if (this.group.reassembly !== undefined && isFragment(key)) {
        // A fragment and a commit: in OVS's order the packets sent after the commit wait for it,
        // and a commit that holds the fragment (ipf.ts) sends them only when it releases it.
        this.effectsFrom(acts, key, depth, 0, true);
        return;
      }
      this.inOrder(acts, key, depth);
      return;
    }
    this.emit(acts, key, depth);
    this.effectsFrom(acts, key, depth, 0, false);
  }

  /** The pass's outputs, drops and tunnels. */
  private emit(acts: DpActions, key: Uint32Array, depth: number): void {
    for (let i = 0; i < acts.outputs.length; i++) this.output(acts.outputs[i]!, key, depth, undefined);
    for (let i = 0; i < acts.drops.length; i++) this.dropOut(acts.drops[i]!, key, depth, undefined);
    for (let i = 0; i < acts.tunnels.length; i++) this.tunnel(acts.tunnels[i]!, key, depth, undefined);
  }

  /**
   * A pass with a commit that does not recirculate: what it sends and its effects in the order the
   * pass met them, as OVS's datapath runs its actions. A commit's all-zero SNAT may give the packet
   * another source port (conntrack.ts); what the pass sends, and the effects it has, after that
   * commit carry it.
   */
  private inOrder(acts: DpActions, key: Uint32Array, depth: number): void {
    const { outputs, drops, tunnels, effects } = acts;
    let o = 0;
    let d = 0;
    let t = 0;
    let moves: Uint32Array[] | undefined;
    for (let i = 0; ; i++) {
      for (; o < outputs.length && outputs[o]!.after <= i; o++) this.output(outputs[o]!, key, depth, moves);
      for (; d < drops.length && drops[d]!.after <= i; d++) this.dropOut(drops[d]!, key, depth, moves);
      for (; t < tunnels.length && tunnels[t]!.after <= i; t++) this.tunnel(tunnels[t]!, key, depth, moves);
      if (i === effects.length) return;
      this.moved = undefined;
      if (this.effect(acts, key, depth, i, false, moves)) return;
      if (this.moved !== undefined) (moves ??= []).push(this.moved);
    }
  }

  /** The packet of op `op` (with `sets`, or its own `packet`), moved by the commits' SNATs in `moves`. */
  private opPacket(op: { readonly sets: Sets; readonly packet: Uint32Array | undefined }, key: Uint32Array, depth: number, moves: readonly Uint32Array[] | undefined): Uint32Array {
    if (moves === undefined) return op.packet ?? applySets(key, op.sets, this.scratchAt(depth));
    const k = applySets(op.packet ?? key, op.packet !== undefined ? NO_SETS : op.sets, this.scratchAt(depth));
    for (const m of moves) applyMove(k, m);
    return k;
  }

  private output(op: OutputOp, key: Uint32Array, depth: number, moves: readonly Uint32Array[] | undefined): void {
    const g = this.group;
    g.outputs.values[op.stat]!++;
    if (op.quote !== undefined) g.noteQuote(op.quote);
    if (g.sink !== undefined) g.sink.output(this.chassis, op, this.opPacket(op, key, depth, moves));
    for (let i = 0; i < op.provider.length; i++) {
      const hop = op.provider[i]!;
      g.providers.values[hop.stat]!++;
      // What the other chassis receives: the frame's own fields, from its localnet port (the
      // provider bridge strips the tag); a new packet there, with no recirculation behind it.
      const k = this.opPacket(op, key, depth, moves);
      k.fill(0, 0, W.ETH_DST);
      k[W.RECIRC_ID] = hop.entry;
      // A packet ovn-controller made that the provider bridge hands to another switch here stays
      // in the translation that crossed its patch ports (`DatapathGroup.madePatched`).
      if (depth + 1 >= g.maxRecirc) this.loopDrop(k);
      else {
        const patched = hop.to === this && (op.quote !== undefined || g.made);
        this.passAt(hop.to, k, depth + 1, 0, patched, patched);
      }
    }
    if (op.router !== undefined) this.viaRouter(op, op.router, key, depth, moves);
  }

  /**
   * A frame output to the underlay's gateway: an IPv4 packet for a host of one of its subnets
   * comes back onto the host's VLAN from the gateway's MAC, one hop less to live, and into the
   * host's chassis by its switch's localnet port. Anything else has left.
   */
  private viaRouter(op: OutputOp, router: UnderlayRouter, key: Uint32Array, depth: number, moves: readonly Uint32Array[] | undefined): void {
    const g = this.group;
    let k = this.opPacket(op, key, depth, moves);
    if (getField(k, F_ETH_TYPE) !== ETH_IPV4) return;
    const ttl = getField(k, F_NW_TTL);
    const r = ttl > 1 ? router.route(k[W.NW_DST]! >>> 0) : undefined;
    if (r === undefined) return;
    for (let i = 0; i < r.targets.length; i++) {
      const t = r.targets[i]!;
      const to = g.datapath(t.chassis);
      if (to === undefined) continue;
      g.providers.values[this.routedStat(t.chassis)]!++;
      k = this.opPacket(op, key, depth, moves);
      k.fill(0, 0, W.ETH_DST);
      k[W.ETH_SRC] = r.src[0];
      k[W.ETH_SRC + 1] = r.src[1];
      k[W.ETH_DST] = r.dst[0];
      k[W.ETH_DST + 1] = r.dst[1];
      setField(k, F_NW_TTL, ttl - 1);
      k[W.RECIRC_ID] = to.injectId(t.datapath, t.port);
      if (depth + 1 >= g.maxRecirc) this.loopDrop(k);
      else this.passAt(to, k, depth + 1, 0);
    }
  }

  /** The counter of frames the underlay's gateway routes from this chassis to `chassis`. */
  private routedStat(chassis: string): number {
    let s = this.routedStats.get(chassis);
    if (s === undefined) {
      s = this.group.providers.slot(`${this.chassis} -> ${chassis} (routed by the underlay gateway)`);
      this.routedStats.set(chassis, s);
    }
    return s;
  }

  private dropOut(op: DropOp, key: Uint32Array, depth: number, moves: readonly Uint32Array[] | undefined): void {
    const g = this.group;
    g.drops.values[op.stat]!++;
    if (op.quote !== undefined) g.noteQuote(op.quote);
    if (g.sink !== undefined) g.sink.drop(this.chassis, op, this.opPacket(op, key, depth, moves));
  }

  private tunnel(op: TunnelOp, key: Uint32Array, depth: number, moves: readonly Uint32Array[] | undefined): void {
    const g = this.group;
    g.tunnels.values[op.stat]!++;
    if (op.quote !== undefined) g.noteQuote(op.quote);
    const k = this.opPacket(op, key, depth, moves);
    if (g.sink?.tunnel !== undefined) g.sink.tunnel(this.chassis, op, k);
    const dst = op.to;
    if (dst === undefined) return;
    // What crosses the wire: the packet's own fields, and the tunnel's datapath and port keys.
    k.fill(0, 0, W.ETH_DST);
    k[W.RECIRC_ID] = 1;
    k[W.METADATA] = op.datapath;
    k[REG14] = dst.vxlan ? 0 : op.inport;
    k[REG15] = op.outport;
    // The receiving chassis's datapath counts the decapsulation (tnl_pop) and nothing before.
    if (depth + 1 >= g.maxRecirc) this.loopDrop(k);
    else this.passAt(dst, k, depth + 1, 1);
  }

  /**
   * `dst.pass(k, depth)` with the packet's nested recirculations (OVS's count, see the module
   * header) at `recircs`, and as they were again after; `made` and `madePatched` likewise
   * (`DatapathGroup.made`, `DatapathGroup.madePatched`): a recirculation keeps them, a wire or a
   * tunnel to another chassis clears them.
   */
  private passAt(dst: Datapath, k: Uint32Array, depth: number, recircs: number, made = false, madePatched = false): void {
    const g = this.group;
    const had = g.recircs;
    const hadMade = g.made;
    const hadPatched = g.madePatched;
    g.recircs = recircs;
    g.made = made;
    g.madePatched = madePatched;
    try {
      dst.pass(k, depth);
    } finally {
      g.recircs = had;
      g.made = hadMade;
      g.madePatched = hadPatched;
    }
  }

  /**
   * Runs the effects of `acts` from index `start` on, for the pass whose input key is `key`; then,
   * with `emitAfter`, its outputs, drops and tunnels.
   */
  private effectsFrom(acts: DpActions, key: Uint32Array, depth: number, start: number, emitAfter: boolean): void {
    for (let i = start; i < acts.effects.length; i++) if (this.effect(acts, key, depth, i, emitAfter, undefined)) return;
    if (emitAfter) this.emit(acts, key, depth);
  }

  /**
   * Effect `i` of `acts`, for the pass whose input key is `key` (moved by the commits' SNATs in
   * `moves`); true when the rest of the pass does not go on now (a fragment held, or a drop at the
   * recirculation depth limit).
   */
  private effect(acts: DpActions, key: Uint32Array, depth: number, i: number, emitAfter: boolean, moves: readonly Uint32Array[] | undefined): boolean {
    const op = acts.effects[i]!;
    const k = this.opPacket(op, key, depth, moves);
    if (op.kind === "learn") {
      this.exec.learn(op.action, op.datapath, op.pipeline, k);
      if (this.buffered.length > 0) this.sendBuffered(depth);
      return false;
    }
    if (op.kind === "buffer") {
      // A packet OVN made (an ICMP error on its way back) waits with what it quotes: noted by
      // this pass, or by an earlier one of the made packet.
      this.buffer(op.datapath, op.v6, k, depth, op.quote ?? (this.group.made ? this.group.currentQuote() : undefined));
      return false;
    }
    // A packet OVN made, and what it quotes, which conntrack relates it by (conntrack.ts).
    if (op.quote !== undefined) this.group.noteQuote(op.quote);
    this.conntrack.madeQuote = this.group.currentQuote();
    const g = this.group;
    // ovn-controller sends a packet it made from no recirculation; a load balancer's group
    // recirculates once more first when it computes the packet's dp_hash.
    const had = g.recircs;
    const hadMade = g.made;
    if (op.quote !== undefined) {
      g.recircs = 0;
      g.made = true;
    }
    const hashRecirc = op.lbHash && k[W.DP_HASH] === 0 ? 1 : 0;
    if (g.recircs + hashRecirc > g.recircDepth) {
      // The group's own recirculation is the one too many: conntrack never sees the packet.
      g.recircs = had;
      g.made = hadMade;
      this.depthDrop(k);
      return true;
    }
    g.recircs += hashRecirc;
    try {
      return this.ctEffect(g.reassembly, acts, key, depth, i, op, k, emitAfter);
    } finally {
      g.recircs = had;
      g.made = hadMade;
    }
  }

  /**
   * The datapath conntrack state (`W.CT_STATE_ZONE`'s form) each effect of the pass at `depth`
   * left, by effect index (execute.ts `XlateRecord.md`), at least `n` of them.
   */
  private mdSlots(depth: number, n: number): Uint32Array {
    const i = this.group.scratchBase + depth;
    let s = this.mdAt[i];
    if (s === undefined || s.length < n) {
      s = new Uint32Array(Math.max(8, 2 * n));
      this.mdAt[i] = s;
    }
    return s;
  }

  /** Conntrack effect `op` (number `i` of `acts`) on `k`, and what follows it; true when a fragment is held. */
  private ctEffect(ctx: PacketContext | undefined, acts: DpActions, key: Uint32Array, depth: number, i: number, op: EffectOp & { kind: "ct" }, k: Uint32Array, emitAfter: boolean): boolean {
    // Held, or released with its datagram: either way the rest of this pass goes on from there.
    let held = false;
    const md = this.mdSlots(depth, acts.effects.length);
    if (ctx !== undefined && isFragment(k)) {
      held = this.fragment(ctx, acts, key, depth, i, k, emitAfter);
      // Not one OVS reassembles: invalid, and it goes on now.
      if (!held) this.exec.connections!.markInvalid(k, op.request.zone);
    } else {
      // The state the packet carries in the datapath (execute.ts `XlateRecord.md`).
      const from = op.mdFrom;
      this.conntrack.md = from === MD_PASS ? key[W.CT_STATE_ZONE]! : from === MD_CLEARED ? 0 : md[from]!;
      if (from === MD_CLEARED) this.conntrack.forgetConnection();
      if (op.commitInPass) {
        // A commit in the pass: its source NAT (the all-zero SNAT's moved port, conntrack.ts; the
        // hairpin's SNAT to the VIP) goes on what the pass sends after it.
        const before = this.snatBefore;
        for (let j = 0; j < SNAT_WORDS.length; j++) before[j] = k[SNAT_WORDS[j]!]!;
        const out = this.exec.conntrack(op.action, op.request, k);
        if (out.committed && out.nat === "snat") this.moved = moveOf(before, k);
      } else this.exec.conntrack(op.action, op.request, k);
    }
    md[i] = k[W.CT_STATE_ZONE]!;
    const late = ctx !== undefined && this.fragments.size > 0 ? this.expiring(op, k) : undefined;
    if (!held) this.afterCt(op, k, depth);
    if (late !== undefined) {
      // They go on from this action, each as the packet it is (its own frame for the sink).
      this.aside(ctx!, () => {
        for (const h of late) {
          ctx!.restore(h.context);
          this.afterCt(op, h.key, depth);
        }
      });
    }
    return held;
  }

  /**
   * After conntrack effect `op` on the packet whose key was `k`: the fragments of the oldest list
   * whose time is up (ipf.ts), made ready to go on from `op` as OVS sends them, each its own packet
   * with the metadata and registers the action resumes with (OVS keeps those behind the
   * recirculation id) and `ct_state` invalid alone; undefined when none is to go on. Only an action
   * that recirculates takes them (in OVN a packet meets one before any commit).
   */
  private expiring(op: EffectOp & { kind: "ct" }, k: Uint32Array): readonly HeldFragment<FragmentResume>[] | undefined {
    const clock = this.conntrack.clock;
    if (clock === undefined || op.resume < 0) return undefined;
    const late = this.fragments.expire(clock.now);
    if (late === undefined || late.length === 0) return undefined;
    for (const h of late) {
      const f = h.key;
      for (let w = W.METADATA; w < W.CT_STATE_ZONE; w++) f[w] = k[w]!;
      f[W.CT_STATE_ZONE] = ((f[W.CT_STATE_ZONE]! & ~0xff) | CT.INV) >>> 0;
    }
    return late;
  }

  /**
   * Runs `run`, which sends held fragments on (each restoring its own packet context), with scratch
   * keys past those of the passes under way; the packet context is the current one again after.
   */
  private aside(ctx: PacketContext, run: () => void): void {
    const g = this.group;
    const now = ctx.save();
    g.scratchBase += 2 * g.maxRecirc;
    try {
      run();
    } finally {
      g.scratchBase -= 2 * g.maxRecirc;
      ctx.restore(now);
    }
  }

  /**
   * A packet at a router's `arp { }` or `nd_ns { }` (its next hop in `reg0`, or `xxreg0` for IPv6;
   * its output port in `reg15`): sent on now when the neighbour is known already, else held, as
   * ovn-controller holds it (pinctrl.c: up to 3 per next hop, the oldest dropped, for 10 s).
   */
  private buffer(datapath: number, v6: boolean, k: Uint32Array, depth: number, quote: Uint32Array | undefined): void {
    const ip = v6 ? (BigInt(k[W.REG0]!) << 96n) | (BigInt(k[W.REG0 + 1]!) << 64n) | (BigInt(k[W.REG0 + 2]!) << 32n) | BigInt(k[W.REG0 + 3]!) : BigInt(k[W.REG0]!);
    const port = k[REG15]!;
    const now = this.conntrack.clock?.now ?? 0;
    this.buffered = this.buffered.filter((b) => now - b.since <= BUFFER_TIMEOUT_MS);
    const same = this.buffered.filter((b) => b.datapath === datapath && b.port === port && b.v6 === v6 && b.ip === ip);
    if (same.length >= BUFFER_DEPTH) this.buffered.splice(this.buffered.indexOf(same[0]!), 1);
    this.buffered.push({ datapath, port, v6, ip, key: k.slice(), since: now, context: this.group.reassembly?.save(), quote: quote?.slice() });
    this.sendBuffered(depth);
  }

  /** Sends on every held packet whose next hop's MAC is known now, with that MAC as `eth.dst`. */
  private sendBuffered(depth: number): void {
    const macs = this.exec.macBindings;
    const ready: { b: Buffered; mac: bigint }[] = [];
    this.buffered = this.buffered.filter((b) => {
      const mac = macs.lookup(b.datapath, b.port, b.v6, b.ip);
      if (mac === undefined) return true;
      ready.push({ b, mac });
      return false;
    });
    const g = this.group;
    const ctx = g.reassembly;
    for (const { b, mac } of ready) {
      const k = b.key.slice();
      k[W.ETH_DST] = Number(mac >> 32n);
      k[W.ETH_DST + 1] = Number(mac & 0xffffffffn);
      // ovn-controller sends it to the output stage: the router's egress pipeline.
      k[W.RECIRC_ID] = this.resumeId({ datapath: b.datapath, pipeline: "egress", table: 0 });
      // ovn-controller sends it: no recirculation yet. A packet it made quotes what it quoted
      // when it was held, not what the packet being processed now quotes.
      const go = (): void => {
        const outer = g.currentQuote()?.slice();
        g.setQuote(b.quote);
        if (depth + 1 >= g.maxRecirc) this.loopDrop(k);
        else this.passAt(this, k, depth + 1, 0, true);
        g.setQuote(outer);
      };
      if (ctx === undefined || b.context === undefined) go();
      else
        this.aside(ctx, () => {
          ctx.restore(b.context);
          go();
        });
    }
  }

  /** After conntrack: a recirculating action's next pass. */
  private afterCt(op: EffectOp & { kind: "ct" }, k: Uint32Array, depth: number): void {
    if (op.resume < 0) return;
    k[W.RECIRC_ID] = op.resume;
    const g = this.group;
    if (depth + 1 >= g.maxRecirc) this.loopDrop(k);
    else if (g.madePatched) this.upcallDrop(k);
    else if (g.recircs + 1 > g.recircDepth) this.depthDrop(k);
    else this.passAt(this, k, depth + 1, g.recircs + 1, g.made, g.madePatched);
  }

  /**
   * A fragment `k` at conntrack effect `i` of `acts` (ipf.ts): false when it is not one to
   * reassemble; else true, and it is held, or it completes its datagram, which then goes through
   * conntrack and releases every fragment of it, each going on from this effect.
   */
  private fragment(ctx: PacketContext, acts: DpActions, passKey: Uint32Array, depth: number, i: number, k: Uint32Array, emitAfter: boolean): boolean {
    const op = acts.effects[i]! as EffectOp & { kind: "ct" };
    const r = this.fragments.add(ctx.fragment, k, op.request.zone, { key: k.slice(), resume: { actions: acts, passKey: passKey.slice(), depth, effect: i, emitAfter }, context: ctx.save() }, this.conntrack.clock?.now);
    if (r.kind === "invalid") return false;
    if (r.kind === "held") return true;
    this.aside(ctx, () => {
      // The datagram: its first fragment, whole.
      const first = r.fragments[0]!;
      ctx.restore(first.context);
      const datagram = first.key.slice();
      datagram[W.NW] = datagram[W.NW]! & 0x00ffffff;
      this.exec.conntrack(op.action, op.request, datagram);
      // Each fragment goes on, in offset order.
      for (const h of r.fragments) this.release(ctx, h, datagram);
    });
    return true;
  }

  private release(ctx: PacketContext, h: HeldFragment<FragmentResume>, datagram: Uint32Array): void {
    ctx.restore(h.context);
    const { actions, passKey, depth, effect, emitAfter } = h.resume;
    applyDatagramResult(datagram, h.key, h.start === 0);
    this.mdSlots(depth, actions.effects.length)[effect] = h.key[W.CT_STATE_ZONE]!;
    this.afterCt(actions.effects[effect]! as EffectOp & { kind: "ct" }, h.key, depth);
    this.effectsFrom(actions, passKey, depth, effect + 1, emitAfter);
  }

  /** A recirculation OVS cannot thaw (`DatapathGroup.madePatched`): the upcall fails. */
  private upcallDrop(key: Uint32Array): void {
    const g = this.group;
    const stat = g.drops.slot("upcall-error (a packet ovn-controller sent, recirculated after it crossed a patch port)");
    g.drops.values[stat]!++;
    g.sink?.drop(this.chassis, { sets: NO_SETS, packet: undefined, quote: undefined, stat, after: 0, record: { reason: "upcall-error", datapath: key[W.METADATA]!, datapathName: "", pipeline: "ingress", table: 0 } }, key);
  }

  private depthDrop(key: Uint32Array): void {
    const g = this.group;
    const stat = g.drops.slot(`recirc-depth (more than ${g.recircDepth} recirculations, OVS's userspace datapath)`);
    g.drops.values[stat]!++;
    g.sink?.drop(this.chassis, { sets: NO_SETS, packet: undefined, quote: undefined, stat, after: 0, record: { reason: "recirc-depth", datapath: key[W.METADATA]!, datapathName: "", pipeline: "ingress", table: 0 } }, key);
  }

  private loopDrop(key: Uint32Array): void {
    const g = this.group;
    const stat = g.drops.slot(`loop-recirc (more than ${g.maxRecirc} passes)`);
    g.drops.values[stat]!++;
    g.sink?.drop(this.chassis, { sets: NO_SETS, packet: undefined, quote: undefined, stat, after: 0, record: { reason: "loop-recirc", datapath: key[W.METADATA]!, datapathName: "", pipeline: "ingress", table: 0 } }, key);
  }

  /** Runs the slow path on `key` in translation mode. */
  private run(entry: EntryPoint, key: Uint32Array, xl: XlateRecord): ExecResult {
    switch (entry.kind) {
      case "inject":
        return this.exec.run(key, { datapath: entry.datapath, inport: entry.inport }, undefined, { xlate: xl });
      case "tunnel":
        return this.exec.runFromTunnel(key, { datapath: key[W.METADATA]!, inport: key[REG14]!, outport: key[REG15]! }, undefined, { xlate: xl });
      case "resume":
        return this.exec.resume(key, entry.at, undefined, { xlate: xl });
      default: {
        const _never: never = entry;
        return _never;
      }
    }
  }

  /** The upcall: the megaflow mask and actions for `key` (see the module header). */
  translate(key: Uint32Array, forCache = true, branch = true): { mask: Uint32Array; actions: DpActions; slow: boolean } {
    this.upcalls++;
    this.group.upcalls++;
    const entry = this.entries[key[W.RECIRC_ID]!];
    // Without a cache the mask is never installed: every bit, shared.
    if (entry === undefined) {
      const mask = forCache ? transientKey().fill(0xffffffff) : ALL_BITS;
      const stat = this.group.drops.slot(`no-entry (recirc_id ${key[W.RECIRC_ID]} unknown)`);
      return { mask, actions: { outputs: [], tunnels: [], drops: [{ sets: NO_SETS, packet: undefined, quote: undefined, stat, after: 0, record: { reason: "unknown-datapath", datapath: 0, datapathName: "", pipeline: "ingress", table: 0 } }], effects: [], exact: true, commits: false, hashRecircs: 0, lengthBranch: undefined, learned: undefined }, slow: false };
    }
    const xl1 = newXlate(entry, forCache);
    const r1 = this.run(entry, key, xl1);
    // Without a cache nothing is installed, and the actions of this one packet are its results:
    // its packets themselves, not writes to rebuild them.
    if (!forCache) return { mask: ALL_BITS, actions: this.buildActions(key, ALL_BITS, r1, xl1, undefined, true)!, slow: false };
    if (xl1.slow) {
      // The pass read the packet's length: a branch for each answer where it checked its own
      // packet once (as OVS's check_pkt_len); else this packet's actions alone, installed nowhere.
      const branched = branch && !xl1.lengthOfMade ? this.lengthBranch(entry, key, xl1.lengthLimit) : undefined;
      if (branched !== undefined) return { ...branched, slow: false };
      this.lengthUpcalls++;
      this.group.lengthUpcalls++;
      return { mask: ALL_BITS, actions: this.buildActions(key, ALL_BITS, r1, xl1, undefined, true)!, slow: true };
    }
    return { ...this.megaflow(entry, key, xl1, r1), slow: false };
  }

  /**
   * The megaflow of a pass translated as `xl1` gave `r1`: its mask and actions, checked on the
   * twin key (see the module header); exact when the twin took another path.
   */
  private megaflow(entry: EntryPoint, key: Uint32Array, xl1: XlateRecord, r1: ExecResult): { mask: Uint32Array; actions: DpActions } {
    const mask = transientKey();
    let exact = xl1.exact;
    let twin: { key: Uint32Array; r: ExecResult; xl: XlateRecord } | undefined;
    if (!exact) {
      const k2 = transientKey();
      for (let i = 0; i < KEY_WORDS; i++) k2[i] = (key[i]! ^ ~xl1.wc[i]!) >>> 0;
      const xl2 = newXlate(entry, true, xl1.forceLarger);
      const r2 = this.run(entry, k2, xl2);
      twin = { key: k2, r: r2, xl: xl2 };
      exact = xl2.exact || !sameMask(xl1.wc, xl2.wc) || !sameShape(r1, xl1, r2, xl2) || xl1.hashRecircs !== xl2.hashRecircs || xl1.lengthChecks !== xl2.lengthChecks;
    }
    let actions: DpActions | undefined;
    if (!exact && twin) actions = this.buildActions(key, xl1.wc, r1, xl1, twin);
    if (!actions) {
      mask.fill(0xffffffff);
      actions = this.buildActions(key, mask, r1, xl1, undefined)!;
      this.exactMegaflows++;
      this.group.exactMegaflows++;
    } else mask.set(xl1.wc);
    return { mask, actions };
  }

  /**
   * The megaflow of a pass whose first length check, on its own packet, is against `limit`:
   * translated with each answer, matching what the sides it could make examined, its actions a
   * `LengthBranch`. A side that checked another length too is left to each packet
   * (`LengthBranch`); undefined when both are.
   */
  private lengthBranch(entry: EntryPoint, key: Uint32Array, limit: number): { mask: Uint32Array; actions: DpActions } | undefined {
    const side = (larger: boolean): { mask: Uint32Array; actions: DpActions } | undefined => {
      const xl = newXlate(entry, true, larger);
      const r = this.run(entry, key, xl);
      return xl.lengthChecks === 1 && xl.lengthLimit === limit && !xl.lengthOfMade ? this.megaflow(entry, key, xl, r) : undefined;
    };
    const gt = side(true);
    const le = side(false);
    if (gt === undefined && le === undefined) return undefined;
    // What the pass examined up to its length check, and past it on each side that is installed:
    // a packet of the other side is translated itself.
    const mask = transientKey();
    for (let i = 0; i < KEY_WORDS; i++) mask[i] = ((gt?.mask[i] ?? 0) | (le?.mask[i] ?? 0)) >>> 0;
    const learned = [...(gt?.actions.learned ?? []), ...(le?.actions.learned ?? [])];
    return { mask, actions: { outputs: [], tunnels: [], drops: [], effects: [], exact: false, commits: false, hashRecircs: 0, lengthBranch: { limit, gt: gt?.actions, le: le?.actions }, learned: learned.length > 0 ? learned : undefined } };
  }

  /** The counter of output port `port` of `datapath` (found once per port, not by name each time). */
  private outputStat(datapath: number, port: number, portName: string): number {
    const k = datapath * 65536 + port;
    let s = this.outputStats.get(k);
    if (s === undefined) {
      s = this.group.outputs.slot(`${this.chassis} ${portName}`);
      this.outputStats.set(k, s);
    }
    return s;
  }

  /**
   * Where a localnet port's output goes over its provider network (by the frame's destination
   * MAC, which the megaflow matches exactly: output to a localnet port examines it): the
   * datapaths it enters, and whether it leaves by the uplink. Without provider networks it leaves.
   */
  private providerHops(o: OutputRecord): { readonly hops: readonly ProviderHop[]; readonly uplink: boolean; readonly router: UnderlayRouter | undefined } {
    const g = this.group;
    const d = g.providerNetworks?.receivers(this.chassis, o.datapath, o.port, [o.key[W.ETH_SRC]!, o.key[W.ETH_SRC + 1]!], [o.key[W.ETH_DST]!, o.key[W.ETH_DST + 1]!]);
    if (d === undefined || d.targets.length === 0) return { hops: NO_HOPS, uplink: d?.uplink ?? true, router: d?.router };
    const hops: ProviderHop[] = [];
    for (const t of d.targets) {
      const to = g.datapath(t.chassis);
      if (to !== undefined) hops.push({ to, entry: to.injectId(t.datapath, t.port), stat: g.providers.slot(`${this.chassis} -> ${t.chassis} (${o.portName})`) });
    }
    return { hops, uplink: d.uplink, router: d.router };
  }

  private tunnelStat(chassis: string): number {
    let s = this.tunnelStats.get(chassis);
    if (s === undefined) {
      s = this.group.tunnels.slot(`${this.chassis} -> ${chassis}`);
      this.tunnelStats.set(chassis, s);
    }
    return s;
  }

  /** The `recirc_id` that resumes at `at`. */
  private resumeId(at: Resume): number {
    const name = (): string => `resume/${at.datapath}/${at.pipeline}/${at.table}`;
    if (at.table >= 0x8000) return this.entryId(name(), { kind: "resume", at });
    const k = at.datapath * 0x10000 + at.table * 2 + (at.pipeline === "egress" ? 1 : 0);
    let id = this.resumeIds.get(k);
    if (id === undefined) {
      id = this.entryId(name(), { kind: "resume", at });
      this.resumeIds.set(k, id);
    }
    return id;
  }

  private buildActions(key: Uint32Array, wc: Uint32Array, r1: ExecResult, xl1: XlateRecord, twin: { key: Uint32Array; r: ExecResult; xl: XlateRecord } | undefined, oneShot = false): DpActions | undefined {
    const g = this.group;
    // `o2`: the twin's key of the same output or effect (read only with a twin).
    const setsOf = (o1: Uint32Array, o2: Uint32Array | undefined): Sets | undefined => (oneShot ? NO_SETS : twin ? twinSets(key, twin.key, wc, o1, o2!) : exactSets(key, o1));
    const outputs: OutputOp[] = [];
    for (let i = 0; i < r1.outputs.length; i++) {
      const o = r1.outputs[i]!;
      const sets = setsOf(o.key, twin?.r.outputs[i]!.key);
      if (!sets) return undefined;
      const onProvider = o.portType === "localnet" ? this.providerHops(o) : undefined;
      outputs.push({ sets, packet: oneShot ? o.key : undefined, quote: o.quote, stat: this.outputStat(o.datapath, o.port, o.portName), after: xl1.outputsAt[i]!, datapath: o.datapath, datapathName: o.datapathName, port: o.port, portName: o.portName, portType: o.portType, provider: onProvider?.hops ?? NO_HOPS, uplink: onProvider?.uplink ?? false, router: onProvider?.router });
    }
    const tunnels: TunnelOp[] = [];
    for (let i = 0; i < r1.tunnels.length; i++) {
      const t = r1.tunnels[i]!;
      const sets = setsOf(t.key, twin?.r.tunnels[i]!.key);
      if (!sets) return undefined;
      tunnels.push({ sets, packet: oneShot ? t.key : undefined, quote: t.quote, stat: this.tunnelStat(t.chassis), after: xl1.tunnelsAt[i]!, chassis: t.chassis, to: g.datapath(t.chassis), datapath: t.datapath, inport: t.inport, outport: t.outport });
    }
    const drops: DropOp[] = [];
    for (let i = 0; i < r1.drops.length; i++) {
      const d = r1.drops[i]!;
      const sets = setsOf(d.key, twin?.r.drops[i]!.key);
      if (!sets) return undefined;
      const { key: _k, quote, ...record } = d;
      void _k;
      drops.push({ sets, packet: oneShot ? d.key : undefined, quote, stat: g.drops.slot(dropLabel(d)), after: xl1.dropsAt[i]!, record });
    }
    const effects: EffectOp[] = [];
    for (let i = 0; i < xl1.effects.length; i++) {
      const e = xl1.effects[i]!;
      const sets = setsOf(e.key, twin?.xl.effects[i]!.key);
      if (!sets) return undefined;
      const packet = oneShot ? e.key : undefined;
      if (e.kind === "learn") {
        effects.push({ kind: "learn", sets, packet, action: e.action, datapath: e.datapath, pipeline: e.pipeline });
        continue;
      }
      if (e.kind === "buffer") {
        effects.push({ kind: "buffer", sets, packet, datapath: e.datapath, v6: e.v6, quote: e.quote });
        continue;
      }
      const resume = e.resume ? this.resumeId(e.resume) : -1;
      const request = this.exec.ctRequest(e.action, e.zone);
      effects.push({ kind: "ct", sets, packet, quote: e.quote, action: e.action, request, resume, lbHash: resume >= 0 && lbHashRecirc(request), mdFrom: e.mdFrom, commitInPass: resume < 0 && request.commit && request.lb === undefined });
    }
    return { outputs, tunnels, drops, effects, exact: twin === undefined, commits: effects.some((e) => e.kind === "ct" && e.resume < 0), hashRecircs: xl1.hashRecircs, lengthBranch: undefined, learned: xl1.probes.length > 0 ? xl1.probes : undefined };
  }
}

/** The datapaths of every chassis of one or more availability zones. */
export class DatapathGroup {
  private readonly byChassis = new Map<string, Datapath>();
  private readonly make: (chassis: string) => Datapath | undefined;
  readonly outputs = new Counters();
  readonly tunnels = new Counters();
  readonly providers = new Counters();
  /** The provider networks between chassis, for outputs to localnet ports; none: such frames leave. */
  providerNetworks: ProviderNetworks | undefined;
  readonly drops = new Counters();
  readonly maxRecirc: number;
  /** See `DatapathOptions.recircDepth`. */
  readonly recircDepth: number;
  /** The recirculations OVS's datapath has nested for the packet being processed (module header). */
  recircs = 0;
  /**
   * True while the packet being processed is one ovn-controller sent (an ICMP error or a reset
   * it made) that the provider bridge handed to another switch on the same chassis, in the same
   * translation: it has crossed patch ports. A packet from the controller has no input port; past
   * a patch port its frozen state at a recirculation names that patch port as its input, and
   * ovs-vswitchd 3.1 then looks for the port it came in by (`xlate_lookup_ofproto_`), which it
   * has none of, so the upcall fails and the datapath drops it at that recirculation
   * (`datapath_drop_upcall_error`; found by replay-fuzz --shared-segments seed 2967). A wire
   * between chassis starts a new translation and clears it.
   */
  madePatched = false;
  /**
   * True while the packet being processed is one ovn-controller sent (an ICMP error or a reset it
   * made: an effect with a `quote`, and the passes it recirculates into; a packet it held for a
   * neighbour's MAC), up to a wire or a tunnel to another chassis.
   */
  made = false;
  /** With reassembly: the context of the packet being processed (see `DatapathOptions.reassembly`). */
  readonly reassembly: PacketContext | undefined;
  /** Where scratch keys start: moved past those in use while held fragments are released. */
  scratchBase = 0;
  sink: PacketSink | undefined;
  packets = 0;
  passes = 0;
  recirculations = 0;
  upcalls = 0;
  exactMegaflows = 0;
  /** `Datapath.lengthUpcalls`, summed. */
  lengthUpcalls = 0;
  /**
   * What the packet being processed quotes, once OVN has made an answer to it (an ICMP error, a
   * reset): the packet as it was at the action that made it, updated by conntrack's NAT of the
   * quoted packet on the way (conntrack.ts `madeQuote`). The sink builds the quoted bytes from it.
   */
  readonly quote = new Uint32Array(KEY_WORDS);
  quoted = false;

  private constructor(make: (g: DatapathGroup, chassis: string) => Datapath | undefined, maxRecirc: number, reassembly: PacketContext | undefined, recircDepth: number) {
    this.make = (c) => make(this, c);
    this.maxRecirc = maxRecirc;
    this.recircDepth = recircDepth;
    this.reassembly = reassembly;
  }

  /**
   * The datapaths of the local chassis of `plans` (one per availability zone); `executor` gives
   * each chassis's executor options (placement is added).
   */
  static fromPlans(plans: readonly PhysicalPlan[], executor: (chassis: string) => ExecutorOptions, opts: DatapathOptions = {}): DatapathGroup {
    return new DatapathGroup((g, name) => {
      for (const plan of plans) {
        const c = plan.chassis.get(name);
        if (!c || c.remote) continue;
        const exec = new LogicalExecutor(c.program, { ...executor(name), ...opts.executor, ct: { kind: "table", conntrack: new Conntrack(opts.conntrack) }, placement: c.placement, chassisMacs: c.chassisMacs, localnets: c.localnets });
        return new Datapath(g, name, exec, opts.cache, c.encap?.type === "vxlan");
      }
      return undefined;
    }, opts.maxRecirc ?? 32, opts.reassembly, opts.recircDepth ?? OVS_MAX_RECIRC_DEPTH);
  }

  /** One datapath for a whole program, with every port local (a network without chassis). */
  static single(exec: LogicalExecutor, opts: DatapathOptions = {}): DatapathGroup {
    let dp: Datapath | undefined;
    return new DatapathGroup((g, name) => (name === "local" ? (dp ??= new Datapath(g, "local", exec, opts.cache, false)) : undefined), opts.maxRecirc ?? 32, opts.reassembly, opts.recircDepth ?? OVS_MAX_RECIRC_DEPTH);
  }

  /** The datapath of a chassis (made on first use). */
  datapath(chassis: string): Datapath | undefined {
    let d = this.byChassis.get(chassis);
    if (d === undefined) {
      d = this.make(chassis);
      if (d !== undefined) this.byChassis.set(chassis, d);
    }
    return d;
  }

  /** Every datapath made so far. */
  datapaths(): Datapath[] {
    return [...this.byChassis.values()];
  }

  /**
   * Processes one packet entering at `entry` of `dp` (see `Datapath.injectId`). `key` is the
   * extracted packet; its `recirc_id` is set here. The key is not otherwise modified.
   */
  inject(dp: Datapath, entry: number, key: Uint32Array): void {
    this.packets++;
    this.quoted = false;
    key[W.RECIRC_ID] = entry;
    dp.pass(key, 0);
  }

  /** A packet OVN made from the current one quotes it as `q` (an op's `quote`). */
  noteQuote(q: Uint32Array): void {
    this.quote.set(q);
    this.quoted = true;
  }

  /** Makes `q` what the packet being processed quotes (a copy), or nothing. */
  setQuote(q: Uint32Array | undefined): void {
    if (q !== undefined) this.noteQuote(q);
    else this.quoted = false;
  }

  /** What a packet OVN made from the current one quotes, or undefined (see `quote`). */
  currentQuote(): Uint32Array | undefined {
    return this.quoted ? this.quote : undefined;
  }

  stats(): GroupStats {
    const caches = this.datapaths()
      .map((d) => d.cache?.stats())
      .filter((s): s is FlowCacheStats => s !== undefined);
    return {
      packets: this.packets,
      passes: this.passes,
      recirculations: this.recirculations,
      upcalls: this.upcalls,
      exactMegaflows: this.exactMegaflows,
      lengthUpcalls: this.lengthUpcalls,
      outputs: this.outputs.toObject(),
      tunnels: this.tunnels.toObject(),
      providers: this.providers.toObject(),
      drops: this.drops.toObject(),
      cache: sumCacheStats(caches),
    };
  }
}

/** The mask `translate` returns without a cache (read by nothing; every bit, as it says). */
const ALL_BITS = new Uint32Array(KEY_WORDS).fill(0xffffffff);

/** The mask of a translation that does not track: neither written nor read (execute.ts `Ctx.wc`). */
const UNTRACKED_WC = new Uint32Array(KEY_WORDS);

function newXlate(entry: EntryPoint, track: boolean, forceLarger?: boolean): XlateRecord {
  // A pass resumed after a `ct` starts tracked (OVS's frozen `conntracked`).
  const conntracked = entry.kind === "resume";
  if (!track) return { wc: UNTRACKED_WC, effects: [], outputsAt: [], tunnelsAt: [], dropsAt: [], md: MD_PASS, conntracked, exact: false, slow: false, lengthChecks: 0, lengthLimit: 0, lengthOfMade: false, forceLarger, track, hashRecircs: 0, probes: [] };
  const wc = transientKey();
  // Where the pass entered is always part of its key; a tunnel arrival's datapath and ports are
  // read from the key to start it.
  wc[W.RECIRC_ID] = 0xffffffff;
  if (entry.kind === "tunnel") {
    wc[W.METADATA] = 0xffffffff;
    wc[REG14] = 0xffffffff;
    wc[REG15] = 0xffffffff;
  }
  return { wc, effects: [], outputsAt: [], tunnelsAt: [], dropsAt: [], md: MD_PASS, conntracked, exact: false, slow: false, lengthChecks: 0, lengthLimit: 0, lengthOfMade: false, forceLarger, track, hashRecircs: 0, probes: [] };
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameMask(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when two translations took the same path (same records and effects, in order). */
function sameShape(r1: ExecResult, x1: XlateRecord, r2: ExecResult, x2: XlateRecord): boolean {
  if (r1.outputs.length !== r2.outputs.length || r1.tunnels.length !== r2.tunnels.length || r1.drops.length !== r2.drops.length || x1.effects.length !== x2.effects.length) return false;
  if (!sameNumbers(x1.outputsAt, x2.outputsAt) || !sameNumbers(x1.tunnelsAt, x2.tunnelsAt) || !sameNumbers(x1.dropsAt, x2.dropsAt)) return false;
  for (let i = 0; i < r1.outputs.length; i++) {
    const a = r1.outputs[i]!;
    const b = r2.outputs[i]!;
    if (a.datapath !== b.datapath || a.port !== b.port) return false;
  }
  for (let i = 0; i < r1.tunnels.length; i++) {
    const a = r1.tunnels[i]!;
    const b = r2.tunnels[i]!;
    if (a.chassis !== b.chassis || a.datapath !== b.datapath || a.inport !== b.inport || a.outport !== b.outport) return false;
  }
  for (let i = 0; i < r1.drops.length; i++) {
    const a = r1.drops[i]!;
    const b = r2.drops[i]!;
    if (a.reason !== b.reason || a.ruleId !== b.ruleId || a.datapath !== b.datapath || a.table !== b.table || a.pipeline !== b.pipeline || a.detail !== b.detail) return false;
  }
  for (let i = 0; i < x1.effects.length; i++) {
    const a = x1.effects[i]!;
    const b = x2.effects[i]!;
    if (a.kind !== b.kind || ("action" in a && "action" in b && a.action !== b.action)) return false;
    if (a.kind === "buffer" && b.kind === "buffer" && (a.datapath !== b.datapath || a.v6 !== b.v6)) return false;
    if (a.kind === "ct" && b.kind === "ct") {
      if (a.zone !== b.zone || a.mdFrom !== b.mdFrom) return false;
      if ((a.resume === undefined) !== (b.resume === undefined)) return false;
      if (a.resume && b.resume && (a.resume.datapath !== b.resume.datapath || a.resume.pipeline !== b.resume.pipeline || a.resume.table !== b.resume.table)) return false;
    }
    if (a.kind === "learn" && b.kind === "learn" && (a.datapath !== b.datapath || a.pipeline !== b.pipeline)) return false;
  }
  return true;
}

/**
 * The writes that turn any input agreeing with `k1` under `wc` into its result, from the two
 * translations (`k1` → `o1`, its twin `k2` → `o2`); undefined when a result bit depends on an
 * input bit outside the mask.
 */
function twinSets(k1: Uint32Array, k2: Uint32Array, wc: Uint32Array, o1: Uint32Array, o2: Uint32Array): Sets | undefined {
  const out: number[] = [];
  for (let w = 0; w < KEY_WORDS; w++) {
    const m = wc[w]!;
    const a = o1[w]!;
    const b = o2[w]!;
    // Inside the mask both inputs are equal, so both results must be.
    if (((a ^ b) & m) !== 0) return undefined;
    // Outside it: equal results are written constants; otherwise each must be its own input.
    const free = ~m >>> 0;
    const written = (free & ~(a ^ b)) >>> 0;
    const passed = (free & (a ^ b)) >>> 0;
    if (((a ^ k1[w]!) & passed) !== 0 || ((b ^ k2[w]!) & passed) !== 0) return undefined;
    const set = (written | (m & (a ^ k1[w]!))) >>> 0;
    if (set !== 0) out.push(w, set, (a & set) >>> 0);
  }
  return Uint32Array.from(out);
}

/** The writes of an exact megaflow: every word that differs. */
function exactSets(k: Uint32Array, o: Uint32Array): Sets {
  let n = 0;
  for (let w = 0; w < KEY_WORDS; w++) if (o[w] !== k[w]) n++;
  const out = new Uint32Array(3 * n);
  let j = 0;
  for (let w = 0; w < KEY_WORDS; w++) {
    if (o[w] === k[w]) continue;
    out[j++] = w;
    out[j++] = 0xffffffff;
    out[j++] = o[w]!;
  }
  return out;
}

const NO_SETS: Sets = new Uint32Array(0);

/** An output that reaches no other chassis. */
const NO_HOPS: readonly ProviderHop[] = [];
const F_ETH_TYPE = field("eth_type");
const F_NW_TTL = field("nw_ttl");
const ETH_IPV4 = 0x0800;

/** The key words a source NAT changes: the IPv4 source, the IPv6 source, the transport ports. */
const SNAT_WORDS: readonly number[] = [W.NW_SRC, W.IPV6_SRC, W.IPV6_SRC + 1, W.IPV6_SRC + 2, W.IPV6_SRC + 3, W.TP];

/**
 * A commit in the pass's source NAT of a packet: its `SNAT_WORDS` before (`before`) and after (in `k`),
 * side by side (made only when a commit moved something).
 */
function moveOf(before: Uint32Array, k: Uint32Array): Uint32Array {
  const m = new Uint32Array(2 * SNAT_WORDS.length);
  m.set(before);
  for (let j = 0; j < SNAT_WORDS.length; j++) m[SNAT_WORDS.length + j] = k[SNAT_WORDS[j]!]!;
  return m;
}

/** Applies move `m` (`moveOf`) to `k` when `k` is the packet the move was made on (same words). */
function applyMove(k: Uint32Array, m: Uint32Array): void {
  const n = SNAT_WORDS.length;
  for (let j = 0; j < n; j++) if (k[SNAT_WORDS[j]!] !== m[j]) return;
  for (let j = 0; j < n; j++) k[SNAT_WORDS[j]!] = m[n + j]!;
}

/** Copies `key` into `dst` with `sets` applied; returns `dst`. */
export function applySets(key: Uint32Array, sets: Sets, dst: Uint32Array): Uint32Array {
  // `set` is a block copy; a loop of 74 element copies costs about five times as much.
  dst.set(key.length === KEY_WORDS ? key : key.subarray(0, KEY_WORDS));
  for (let i = 0; i < sets.length; i += 3) {
    const w = sets[i]!;
    const m = sets[i + 1]!;
    dst[w] = ((dst[w]! & ~m) | sets[i + 2]!) >>> 0;
  }
  return dst;
}

/**
 * How a drop is counted: its reason, and the rule's origin and stage when it has them; for a rule
 * of a whole switch or router, its match too.
 */
function dropLabel(d: DropRecord): string {
  const where = `${d.datapathName || `datapath ${d.datapath}`} ${d.stage ?? d.pipeline}`;
  // A rule of the switch or router as a whole (not of one of its ACLs, ports, routes, NAT rules)
  // is told apart from the stage's others by its match.
  const whole = d.origin !== undefined && /^(switches|routers)\[[^\]]*\]$/.test(d.origin);
  return `${d.reason}${d.origin ? ` (${d.origin})` : ""} at ${where}${whole && d.match !== undefined ? ` (match: ${d.match})` : ""}`;
}
