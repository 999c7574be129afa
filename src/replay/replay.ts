/**
 * Replaying captures through a compiled network: the engine behind `ovnsim replay`.
 *
 * What
 * ----
 * `Replayer` compiles a network's chassis (compile/physical.ts) into a `DatapathGroup` (flow
 * cache + slow path per chassis; dataplane/datapath.ts), then reads captures packet by packet
 * (zero-copy over the file's bytes), extracts each key, decides where the packet enters, and
 * injects it. State lives across packets and files: conntrack, load-balancer backends, NAT
 * bindings, learned neighbours, the caches.
 *
 * Where packets enter (`Injector`):
 * - `inject`: every packet at one logical port (a VIF, or any port of a network without chassis);
 * - `map`: a `TraceMapper` (map.ts) rewrites each packet onto the network's endpoints and names
 *   the port; a packet it cannot map is counted under `unmapped` and skipped.
 *
 * Sharding: after `setShard({ index, count, table })` only the packets of this shard are replayed
 * (workers.ts). A packet's symmetric hash (`symmetricHash`, of its two addresses, the same for both
 * directions) picks one of `SHARD_BUCKETS` buckets, an ICMP error's that of the packet it quotes,
 * so that what conntrack must see together stays on one worker: a connection's packets both ways,
 * the fragments of its datagrams (a 5-tuple hash would put later fragments, which carry no ports,
 * elsewhere) and the errors about it. The shard table
 * gives each bucket's shard, as a NIC's RSS indirection table gives each hash bucket's queue.
 * `balanceShards` fills the table from the packets each bucket holds in the captures (heaviest
 * bucket first, onto the shard with the fewest packets so far); a bare `hash % count` leaves the
 * shards as uneven as a few heavy host pairs make them.
 *
 * Between chassis: a packet sent through a tunnel arrives at the chassis its output port is on,
 * and a frame output to a localnet port at the chassis of its provider network and VLAN that own
 * its destination MAC (provider-segments.ts); each runs that chassis's pipelines in turn.
 *
 * Errors: a capture that breaks mid-stream stops the replay; the report keeps the statistics of
 * every packet before it and carries the error (file, packet index, byte offset). Packets of a
 * link type extraction does not read (not Ethernet, cooked or raw IP) are counted under `skipped`.
 *
 * Time: conntrack expires connections by OVS's default timeouts, and IPv4 fragment lists that
 * never complete after OVS's 15 s (dataplane/ipf.ts), on the captures' clock (each packet's capture
 * time, in milliseconds), unless `ctTimeouts` is false. The clock never goes
 * back: a packet stamped earlier than the one before it happens at the same time as that one, and a
 * capture that starts before the previous one ended is moved to start where it ended (its own gaps
 * kept), so that captures replayed one after another are one stream in time as well.
 *
 * Output (`--out`): a `PacketSink` receives each delivered packet's key; the frame written is the
 * captured frame rewritten to that key (flow/rewrite.ts), so payloads and unchanged headers stay.
 */
import { error, unknownNameHint, type Diagnostic } from "../base/index.js";
import { compileNetwork, compilePhysical, controllerMacBindings, portSecurityCalls } from "../compile/index.js";
import { Conntrack, CtClock, DatapathGroup, ICMP_ERROR, ICMP_NONE, IcmpMessage, IpFragment, LogicalExecutor, TcpSegment, Answer, frameL3Length, replayedL3Length, type PacketContext, type ConntrackOptions, type Datapath, type DatapathOptions, type ExecutorOptions, type GroupStats, type PacketSink } from "../dataplane/index.js";
import { KEY_WORDS, W, extractKey, fragAt, icmpAt, l3At, tcpAt } from "../flow/index.js";
import type { Network } from "../model/index.js";
import type { PhysicalPlan } from "../ofp/index.js";
import { isSupportedLinkType, openCapture } from "../pcap/index.js";
import { ProviderSegments } from "./provider-segments.js";

/** Where a packet enters: a datapath and its entry id (`Datapath.injectId`). */
export interface Injection {
  readonly portName: string;
  readonly chassis: string;
  readonly datapath: Datapath;
  readonly entry: number;
}

/**
 * Decides where each packet enters; may rewrite the key (and, through `Replayer.icmp`, an ICMP
 * error's quoted packet: `place` is called after `beginPacket`). Returns an index into
 * `injections`, or -1.
 */
export interface Injector {
  readonly injections: readonly Injection[];
  place(key: Uint32Array): number;
  /** Why packets were not placed, by reason (for the report). */
  unplaced(): Record<string, number>;
}

export interface ReplayOptions {
  readonly cache?: DatapathOptions["cache"];
  readonly maxRecirc?: number;
  /** `DatapathOptions.recircDepth`: nested recirculations before a drop (default 6, as OVS's userspace datapath). */
  readonly recircDepth?: number;
  /** Expire connections and fragment lists by OVS's timeouts on the captures' clock (default true). */
  readonly ctTimeouts?: boolean;
  /**
   * The underlay's gateways (`providerNetworks`) route IPv4 between their VLANs (default true;
   * provider-segments.ts). False: frames to them leave, as where only OVS is real.
   */
  readonly underlayRouting?: boolean;
}

/** One shard of a sharded replay: its index, and the shard of each hash bucket. */
export interface Shard {
  readonly index: number;
  readonly count: number;
  /** `SHARD_BUCKETS` entries, each a shard index below `count`. */
  readonly table: Uint8Array;
}

/** Hash buckets of the shard table: a power of two, the top bits of `symmetricHash`. */
export const SHARD_BUCKETS = 256;
const BUCKET_SHIFT = 32 - Math.log2(SHARD_BUCKETS);

/** The shard-table bucket of a key. */
export function shardBucket(key: Uint32Array): number {
  return symmetricHash(key) >>> BUCKET_SHIFT;
}

/**
 * Calls `fn` for every record of `captures` in reading order, with its packet's key (in one
 * reused array: copy it to keep it), or undefined for a record of a link type extraction does not
 * read. Stops where the replay would: at a capture that does not open, or where one breaks.
 */
export function forEachRecordKey(captures: readonly CaptureInput[], fn: (key: Uint32Array | undefined) => void): void {
  const key = new Uint32Array(KEY_WORDS);
  for (const cap of captures) {
    const r = openCapture(cap.bytes, cap.file);
    if (!r.ok) return;
    const rd = r.value;
    while (rd.next()) {
      if (!isSupportedLinkType(rd.linkType)) {
        fn(undefined);
        continue;
      }
      extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, key, 0, false);
      fn(key);
    }
    if (rd.error) return;
  }
}

/** A TCP segment's RST flag (`TcpSegment.flags`). */
const TCP_RST = 0x04;

/** Packets per shard-table bucket, counted key by key (the input of `balanceShards`). */
export class BucketCounts {
  readonly packets = new Float64Array(SHARD_BUCKETS);
  /** Counts one packet's key. */
  add(key: Uint32Array): void {
    this.packets[shardBucket(key)]!++;
  }
}

/**
 * The shard table for `count` shards from each bucket's packets: buckets, heaviest first (ties
 * by bucket number), each to the shard with the fewest packets so far (the lowest index on a
 * tie). The same counts give the same table.
 */
export function balanceShards(counts: BucketCounts, count: number): Uint8Array {
  if (!Number.isInteger(count) || count < 1 || count > 255) throw new RangeError(`shard count ${count} outside 1..255`);
  const p = counts.packets;
  const order = Array.from({ length: SHARD_BUCKETS }, (_, b) => b).sort((a, b) => p[b]! - p[a]! || a - b);
  const load = new Float64Array(count);
  const table = new Uint8Array(SHARD_BUCKETS);
  for (const b of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    table[b] = best;
    load[best]! += p[b]!;
  }
  return table;
}

export interface CaptureInput {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** See `ReplayReport.fragments`. */
export interface FragmentCounts {
  readonly held: number;
  readonly expired: number;
  readonly deleted: number;
}

export interface ReplayReport {
  /** Packet records read (every file, every shard). */
  readonly read: number;
  /** Packets injected into the network. */
  readonly replayed: number;
  /** Packets of another shard. */
  readonly otherShard: number;
  /** Packets not replayed, by reason. */
  readonly skipped: Record<string, number>;
  readonly stats: GroupStats;
  /** Conntrack entries left, summed over the chassis. */
  readonly connections: number;
  /** Connections committed, and those of them that expired, summed over the chassis. */
  readonly connectionsCreated: number;
  readonly connectionsExpired: number;
  /**
   * IP fragments whose datagram never completed, summed over the chassis (dataplane/ipf.ts):
   * still held at the end, sent on as invalid once their list's 15 s were up, deleted 10 s later.
   */
  readonly fragments: FragmentCounts;
  /** Wall time of the packet loop, in nanoseconds. */
  readonly elapsedNs: number;
  /** Set when a capture broke: the replay stopped there. */
  readonly error: Diagnostic | undefined;
}

/**
 * The symmetric hash of a key's two addresses: the same for both directions. Only the addresses,
 * so that what conntrack must see together stays together: a connection's packets, the fragments
 * of its datagrams (later ones carry no ports), ICMP errors from its far end.
 */
export function symmetricHash(key: Uint32Array): number {
  const s = key[W.NW_SRC]! ^ key[W.IPV6_SRC]! ^ key[W.IPV6_SRC + 1]! ^ key[W.IPV6_SRC + 2]! ^ key[W.IPV6_SRC + 3]!;
  const d = key[W.NW_DST]! ^ key[W.IPV6_DST]! ^ key[W.IPV6_DST + 1]! ^ key[W.IPV6_DST + 2]! ^ key[W.IPV6_DST + 3]!;
  return pairHash(s, d);
}

/** The symmetric hash of two addresses, each folded to one word. */
function pairHash(s: number, d: number): number {
  let h = Math.imul((s ^ d) >>> 0, 0x9e3779b1) ^ Math.imul((s + d) | 0, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/** The shard-table bucket of an ICMP error: that of the packet it quotes, whose connection it belongs to. */
function quotedBucket(m: IcmpMessage): number {
  const s = m.innerSrc[0]! ^ m.innerSrc[1]! ^ m.innerSrc[2]! ^ m.innerSrc[3]!;
  const d = m.innerDst[0]! ^ m.innerDst[1]! ^ m.innerDst[2]! ^ m.innerDst[3]!;
  return pairHash(s, d) >>> BUCKET_SHIFT;
}

/** A packet as `Replayer.packetContext` saves it. */
interface SavedPacket {
  readonly data: Uint8Array;
  readonly offset: number;
  readonly caplen: number;
  readonly origlen: number;
  readonly key: Uint32Array;
  readonly segment: TcpSegment;
  readonly fragment: IpFragment;
  readonly frameL3: number;
  readonly frameAnswer: Answer;
}

export class Replayer {
  readonly group: DatapathGroup;
  readonly network: Network;
  private readonly plan: PhysicalPlan | undefined;
  private readonly single: LogicalExecutor | undefined;
  private shard: Shard | undefined;
  /** The provider networks between chassis, where the network has chassis. */
  private readonly providers: ProviderSegments | undefined;
  private readonly key = new Uint32Array(KEY_WORDS);
  /** The TCP segment of the packet being replayed, for conntrack's window tracking. */
  private readonly segment = new TcpSegment();
  /**
   * The ICMP message of the packet being replayed, for conntrack (a query's identifier, an error's
   * quoted packet); after the packet, the quoted packet as conntrack's NAT left it.
   */
  readonly icmp = new IcmpMessage();
  /** The IPv4 fragment fields of the packet being replayed, for reassembly before conntrack. */
  private readonly fragment = new IpFragment();
  /** The captures' clock that conntrack's timeouts run on (undefined: connections never expire). */
  readonly clock: CtClock | undefined;
  /**
   * The packet being replayed (for sinks that rewrite its bytes, or name it): its capture file, its
   * record number there (from 1, as tshark numbers frames) and its number in the replay (from 1,
   * over every capture).
   */
  current: { data: Uint8Array; offset: number; caplen: number; origlen: number; tsSec: number; tsNsec: number; key: Uint32Array; file: string; record: number; packet: number } = {
    file: "",
    record: 0,
    packet: 0,
    data: new Uint8Array(0),
    offset: 0,
    caplen: 0,
    origlen: 0,
    tsSec: 0,
    tsNsec: 0,
    key: new Uint32Array(KEY_WORDS),
  };

  /**
   * The L3 length of packet `key` (packet-length.ts), for `check_pkt_larger`: the frame being
   * replayed's, or that of the answer OVN made to it. Asked only by passes that check a length.
   */
  private readonly packetL3Length = (key: Uint32Array): number => (this.group.quoted ? replayedL3Length(key, this.frameL3, this.frameAnswer, true) : this.frameL3);
  /** The L3 length of the frame being replayed, and whether it is an answer (`beginPacket`). */
  private frameL3 = 0;
  private frameAnswer: Answer = Answer.None;

  constructor(net: Network, opts: ReplayOptions = {}) {
    this.network = net;
    // Real traffic has its TCP flags and sequence numbers: a connection starts as OVS's conntrack
    // lets one start, and its packets are held to its windows.
    // Connections expire as OVS's do, by its default timeouts, on the captures' clock. A plain
    // commit carries OVS's all-zero SNAT, as OVN's `ct_commit` asks for it.
    this.clock = opts.ctTimeouts === false ? undefined : new CtClock();
    const conntrack: ConntrackOptions = { tcpNew: "ovs", zeroSnat: true, tcpSegment: this.segment, icmp: this.icmp, ...(this.clock !== undefined ? { clock: this.clock } : {}) };
    // IPv4 and IPv6 fragments are reassembled at conntrack actions, as OVS does (dataplane/ipf.ts).
    const dpOpts: DatapathOptions = { conntrack, reassembly: this.packetContext(), ...(opts.cache !== undefined ? { cache: opts.cache } : {}), ...(opts.maxRecirc !== undefined ? { maxRecirc: opts.maxRecirc } : {}), ...(opts.recircDepth !== undefined ? { recircDepth: opts.recircDepth } : {}) };
    const plan = compilePhysical(net);
    if (!plan.ok) throw new ReplayError(plan.diags);
    // What ovn-controller's routers know: learned, announced and static neighbours.
    const macBindings = controllerMacBindings(net);
    const hasLocal = [...plan.value.chassis.values()].some((c) => !c.remote && c.vifs.size > 0);
    if (hasLocal) {
      this.plan = plan.value;
      // What leaves one chassis by a localnet port reaches the chassis where the provider
      // network's switches have learned its destination, and teaches them its source.
      const providers = new ProviderSegments(net, plan.value, { route: opts.underlayRouting !== false });
      this.providers = providers;
      this.group = DatapathGroup.fromPlans(
        [plan.value],
        (name): ExecutorOptions => ({ calls: portSecurityCalls(net, plan.value.chassis.get(name)!.program), macBindings, learnedBehind: (dp, port, hi, lo) => providers.learnedBehind(name, dp, port, hi, lo), packetL3Length: this.packetL3Length }),
        dpOpts,
      );
      this.group.providerNetworks = providers;
    } else {
      const c = compileNetwork(net);
      if (!c.ok) throw new ReplayError(c.diags);
      this.single = new LogicalExecutor(c.value.program, { ct: { kind: "table", conntrack: new Conntrack(conntrack) }, calls: portSecurityCalls(net, c.value.program), macBindings, packetL3Length: this.packetL3Length });
      this.group = DatapathGroup.single(this.single, dpOpts);
    }
  }

  /**
   * Makes the frame at `data[offset ..]` (`origlen` bytes on the wire), whose key `extractKey` made
   * last, the packet that conntrack sees next: what the key does not hold of it, its TCP segment
   * (sequence numbers, window) for window tracking, or its ICMP message (identifier, quoted
   * packet); and its length for `check_pkt_larger` (`packetL3Length`). `run` does it for every
   * packet; a caller that injects keys itself calls it before each `group.inject`.
   */
  beginPacket(data: Uint8Array, offset: number, origlen: number): void {
    const seg = this.segment;
    seg.serial++;
    const th = tcpAt.header;
    if (th >= 0) seg.read(data, offset + th, offset + tcpAt.end);
    else seg.present = false;
    this.frameL3 = frameL3Length(l3At.start, l3At.length, origlen);
    const fh = fragAt.header;
    if (fh >= 0 && fragAt.v6) this.fragment.readV6(data, offset + fh, offset + fragAt.frag, offset + fragAt.l4, fragAt.captured);
    else if (fh >= 0) this.fragment.read(data, offset + fh, fragAt.captured);
    else this.fragment.present = false;
    // A fragment's ICMP message is not read: conntrack judges a fragmented ICMP datagram by its key.
    const ih = icmpAt.header;
    this.icmp.ownBuf = data;
    this.icmp.ownOffset = offset;
    if (ih >= 0 && fh < 0) this.icmp.read(data, offset + ih, offset + icmpAt.end, icmpAt.v6);
    else this.icmp.kind = ICMP_NONE;
    // Whether the frame is itself an answer (an ICMP error, a reset), to tell it from one OVN makes.
    this.frameAnswer = this.icmp.kind === ICMP_ERROR ? (icmpAt.v6 ? Answer.Icmp6Error : Answer.Icmp4Error) : seg.present && (seg.flags & TCP_RST) !== 0 ? Answer.TcpReset : Answer.None;
  }

  /**
   * The packet being replayed as the datapath sees it when it holds a fragment (dataplane/ipf.ts):
   * the frame sinks rewrite, the TCP segment, the fragment fields; saved with a held fragment and
   * restored while it goes on. The time stays the current packet's: held fragments leave when
   * their datagram completes.
   */
  private packetContext(): PacketContext<SavedPacket> {
    const seg = this.segment;
    const frag = this.fragment;
    return {
      fragment: frag,
      save: () => {
        const c = this.current;
        const s: SavedPacket = { data: c.data, offset: c.offset, caplen: c.caplen, origlen: c.origlen, key: c.key.slice(), segment: new TcpSegment(), fragment: new IpFragment(), frameL3: this.frameL3, frameAnswer: this.frameAnswer };
        s.segment.copyFrom(seg);
        s.fragment.copyFrom(frag);
        return s;
      },
      restore: (s) => {
        const c = this.current;
        c.data = s.data;
        c.offset = s.offset;
        c.caplen = s.caplen;
        c.origlen = s.origlen;
        c.key.set(s.key);
        seg.copyFrom(s.segment);
        frag.copyFrom(s.fragment);
        this.frameL3 = s.frameL3;
        this.frameAnswer = s.frameAnswer;
      },
    };
  }

  /**
   * Makes a host outside the simulated network known to the provider networks' switches (its MAC
   * as key words), as if it had already sent: frames to it leave instead of being flooded to
   * every chassis (provider-segments.ts). Before `run`.
   */
  knowOutside(mac: readonly [number, number]): void {
    this.providers?.knowOutside(mac[0], mac[1]);
  }

  /** Replays only the packets of `shard` from now on (undefined: every packet). */
  setShard(shard: Shard | undefined): void {
    this.shard = shard;
  }

  /** Where packets sent by logical port `name` enter, or undefined when no chassis hosts it. */
  injectionFor(name: string): Injection | undefined {
    if (this.plan) {
      for (const c of this.plan.chassis.values()) {
        if (c.remote) continue;
        const vif = c.vifs.get(name);
        if (!vif) continue;
        const dp = this.group.datapath(c.name)!;
        return { portName: name, chassis: c.name, datapath: dp, entry: dp.injectId(vif.datapath, vif.port) };
      }
      return undefined;
    }
    const p = this.single!.program.portByName.get(name);
    if (!p) return undefined;
    const dp = this.group.datapath("local")!;
    return { portName: name, chassis: "local", datapath: dp, entry: dp.injectId(p.datapath, p.key) };
  }

  /**
   * Where packets enter at port `inport` of `datapath` (by key): a localnet port, on `chassis` if
   * given and its provider network has it, else on the first chassis whose provider network has
   * it; or any port of a network without chassis.
   */
  injectionAt(datapath: number, inport: number, portName: string, chassis?: string): Injection | undefined {
    if (this.plan) {
      const on = chassis !== undefined ? this.plan.chassis.get(chassis) : undefined;
      for (const c of on !== undefined ? [on, ...this.plan.chassis.values()] : this.plan.chassis.values()) {
        if (c.remote) continue;
        const ln = c.localnets.get(datapath);
        if (!ln || ln.port !== inport) continue;
        const dp = this.group.datapath(c.name)!;
        return { portName, chassis: c.name, datapath: dp, entry: dp.injectId(datapath, inport) };
      }
      return undefined;
    }
    const dp = this.group.datapath("local")!;
    return { portName, chassis: "local", datapath: dp, entry: dp.injectId(datapath, inport) };
  }

  /** Names of the ports packets can be injected at. */
  injectablePorts(): string[] {
    if (this.plan) return [...this.plan.chassis.values()].filter((c) => !c.remote).flatMap((c) => [...c.vifs.keys()]);
    return [...this.single!.program.portByName.keys()];
  }

  /**
   * Replays `captures` in order. `progress` is called every so often with the packets read and
   * the bytes consumed of the total.
   */
  run(captures: readonly CaptureInput[], injector: Injector, sink?: PacketSink, progress?: (read: number, bytes: number, totalBytes: number) => void): ReplayReport {
    const g = this.group;
    g.sink = sink;
    const key = this.key;
    const cur = this.current;
    const skipped: Record<string, number> = {};
    const inj = injector.injections;
    let read = 0;
    let replayed = 0;
    let other = 0;
    let err: Diagnostic | undefined;
    const totalBytes = captures.reduce((a, c) => a + c.bytes.length, 0);
    let doneBytes = 0;
    const shard = this.shard;
    const clock = this.clock;
    const t0 = process.hrtime.bigint();
    for (const cap of captures) {
      const r = openCapture(cap.bytes, cap.file);
      if (!r.ok) {
        err = r.diags[0];
        break;
      }
      const rd = r.value;
      // What this capture's times are moved by (see the module header), set at its first packet.
      let shift = NaN;
      while (rd.next()) {
        read++;
        if (clock !== undefined) {
          const t = rd.tsSec * 1000 + Math.floor(rd.tsNsec / 1e6);
          if (shift !== shift) shift = t < clock.now ? clock.now - t : 0;
          if (t + shift > clock.now) clock.now = t + shift;
        }
        if ((read & 0xffff) === 0 && progress) progress(read, doneBytes + rd.recordOffset, totalBytes);
        const lt = rd.linkType;
        if (!isSupportedLinkType(lt)) {
          // Counted once, by the first shard.
          if (shard === undefined || shard.index === 0) skipped[`link type ${lt}`] = (skipped[`link type ${lt}`] ?? 0) + 1;
          continue;
        }
        extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, lt, key, 0, false);
        // Before sharding (an ICMP error goes with the packet it quotes) and placing (the mapping
        // rewrites an ICMP error's quoted packet in what it reads).
        this.beginPacket(rd.data, rd.offset, rd.origlen);
        if (shard !== undefined && shard.table[this.icmp.kind === ICMP_ERROR ? quotedBucket(this.icmp) : shardBucket(key)] !== shard.index) {
          other++;
          continue;
        }
        if (sink !== undefined) cur.key.set(key);
        const i = injector.place(key);
        if (i < 0) continue;
        const at = inj[i]!;
        if (sink !== undefined) {
          cur.data = rd.data;
          cur.offset = rd.offset;
          cur.caplen = rd.caplen;
          cur.origlen = rd.origlen;
          cur.tsSec = rd.tsSec;
          cur.tsNsec = rd.tsNsec;
          cur.file = cap.file;
          cur.record = rd.index + 1;
          cur.packet = read;
        }
        replayed++;
        g.inject(at.datapath, at.entry, key);
      }
      if (rd.error) {
        // Numbered from 1 over every capture, as tshark numbers frames; the diagnostic names the
        // file, and the record in it when that number differs (a later capture of several).
        const inFile = rd.index + 2;
        const where = inFile === read + 1 ? `packet ${read + 1}` : `packet ${read + 1} (record ${inFile} of this file)`;
        err = error(rd.error.code, `${where}: ${rd.error.message}`, { ...(rd.error.offset !== undefined ? { offset: rd.error.offset } : {}), file: cap.file });
        break;
      }
      doneBytes += cap.bytes.length;
    }
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    if (progress) progress(read, totalBytes, totalBytes);
    for (const [k, v] of Object.entries(injector.unplaced())) skipped[k] = (skipped[k] ?? 0) + v;
    // What OVS's sweeper would have removed by the last packet's time is not counted.
    for (const d of g.datapaths()) d.conntrack.sweep();
    const sum = (f: (d: Datapath) => number): number => g.datapaths().reduce((a, d) => a + f(d), 0);
    const connections = sum((d) => d.conntrack.size);
    return { read, replayed, otherShard: other, skipped, stats: g.stats(), connections, connectionsCreated: sum((d) => d.conntrack.created), connectionsExpired: sum((d) => d.conntrack.expired), fragments: { held: sum((d) => d.fragments.held), expired: sum((d) => d.fragments.expiredSent), deleted: sum((d) => d.fragments.purged) }, elapsedNs, error: err };
  }
}

/** Every packet at one port. */
export function injectAt(replayer: Replayer, port: string): Injector {
  const at = replayer.injectionFor(port);
  if (!at) {
    throw new ReplayError([error("usage.inject", `--inject ${port}: no such port bound to a chassis of the network; ${unknownNameHint(port, replayer.injectablePorts(), "ports", 12)}`)]);
  }
  return { injections: [at], place: () => 0, unplaced: () => ({}) };
}

/** A replay that cannot start: diagnostics for the CLI. */
export class ReplayError extends Error {
  readonly diags: readonly Diagnostic[];
  constructor(diags: readonly Diagnostic[]) {
    super(diags.map((d) => d.message).join("; "));
    this.diags = diags;
  }
}
