/**
 * The fabric: a packet followed end to end across chassis, tunnels and provider networks.
 *
 * What
 * ----
 * `Fabric.trace(port, key)` injects a packet from a VIF on the chassis that hosts it and follows it
 * until every copy is delivered, dropped or leaves the simulated network. The result is a list of
 * hops in the order they happen (a tree flattened depth first: each hop names its parent): chassis
 * hops (which physical flows classified the packet and sent it on, and the logical executor's
 * result in between), wire hops (the exact bytes on the wire: a Geneve or VXLAN packet between
 * encap IPs, or a frame on a provider network with its VLAN tag), the underlay gateway routing
 * between VLANs, deliveries to VIFs, and exits.
 *
 * How (ovn-controller's tables, `ofp/physical.ts`)
 * -----------------------------------------------
 * - On the first chassis the logical executor runs with that chassis's program and placement:
 *   outputs to local ports are delivered, outputs to ports on other chassis come back as tunnel
 *   records, outputs to a localnet port go onto its provider network.
 * - A tunnel record becomes bytes: the inner frame is built from the key (`frameFromKey`) and
 *   wrapped in Ethernet/IPv4/UDP/Geneve (VNI = datapath key; option class 0x0102 type 0x80 with
 *   ingress port << 16 | egress port) or VXLAN (VNI = datapath key | egress port << 12, a group
 *   key folded to 0x800 | its low 11 bits). The receiving chassis extracts its key from those bytes,
 *   reads datapath and ports back from the tunnel fields as its table 0 does, and runs from local
 *   output (`runFromTunnel`): the egress pipeline runs there.
 * - A provider network is an L2 segment per VLAN. A frame reaches the chassis that hosts its
 *   destination MAC, or every attached chassis when the MAC is broadcast or unknown, and the
 *   underlay gateway when addressed to it. A receiving chassis strips the tag and runs the ingress
 *   pipeline from its localnet port.
 * - The underlay gateway routes between its own subnets: TTL minus one, the destination's MAC
 *   from the hosts the plan knows (its ARP), the new VLAN. Other destinations leave the network.
 *
 * Each chassis has its own executor (own conntrack, as hosts do) built from `executorOptions`.
 * Limits: at most `maxHops` hops (default 256); beyond that the branch ends with a loop drop.
 */
import { formatIpv4, hashAdd, hashFinish, ipv4InPrefix, parseIpv4, parseMac } from "../base/index.js";
import { encapsulateGeneve, encapsulateVxlan, ovnGeneveOption, pushVlan } from "../packet/index.js";
import { TUN, W, extractKey, field, frameFromKey, getField, newKey, setField } from "../flow/index.js";
import { OFTABLE, flowId, macAt, parseMacWords, type LocalnetAttachment, type PhysicalChassis, type PhysicalFlow, type PhysicalPlan, type TunnelType, type UnderlayInterface } from "../ofp/index.js";
import { LogicalExecutor, type ExecResult, type ExecutorOptions, type RunOptions } from "./execute.js";
import { macWordsText } from "./linux-box.js";
import type { TraceSink } from "./trace-sink.js";

const LINKTYPE_ETHERNET = 1;
const F_ETH_TYPE = field("eth_type");
const F_NW_TTL = field("nw_ttl");

/** How a packet entered a chassis. */
export type Entry =
  | { readonly via: "vif"; readonly port: string; readonly ofport: number }
  | { readonly via: "tunnel"; readonly from: string; readonly type: TunnelType; readonly datapath: number; readonly inport: number; readonly outport: number; readonly ofport: number }
  | { readonly via: "localnet"; readonly port: string; readonly network: string; readonly vlan: number; readonly ofport: number };

export interface ChassisHop {
  readonly kind: "chassis";
  readonly parent: number | undefined;
  readonly chassis: string;
  readonly zone: string;
  readonly entry: Entry;
  /** Physical flows used on this chassis, in order (classification, then output). */
  readonly flows: readonly PhysicalFlow[];
  /** What the physical flows changed that the logical run does not show (chassis MACs). */
  readonly notes: readonly string[];
  readonly result: ExecResult;
  /** The trace sink the logical run reported to, when one was made. */
  readonly sink: TraceSink | undefined;
}

/** The tunnel headers of a wire hop. */
export interface TunnelHeaders {
  readonly type: TunnelType;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly udpSrc: number;
  readonly vni: number;
  /** Geneve: the OVN option's ports. */
  readonly inport?: number;
  readonly outport?: number;
}

export interface WireHop {
  readonly kind: "wire";
  readonly parent: number | undefined;
  /** `tunnel` between encap IPs, or `provider` (a provider network's L2 segment). */
  readonly medium: "tunnel" | "provider";
  /** The availability zone of the sender (whose keys a tunnel carries). */
  readonly zone: string;
  /** A name for the wire, e.g. `geneve node1-node2` or `provider vlan 100`. */
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly tunnel?: TunnelHeaders;
  readonly network?: string;
  /** Provider networks: the VLAN id (0 untagged). */
  readonly vlan?: number;
  /**
   * Provider networks: true when the frame stays on the sending chassis, carried by its provider
   * bridge from one switch's patch port to another's (two switches on one VLAN), not by its uplink.
   */
  readonly bridgeOnly?: boolean;
  /** The bytes on the wire. */
  readonly frame: Uint8Array;
}

export interface GatewayHop {
  readonly kind: "gateway";
  readonly parent: number | undefined;
  readonly network: string;
  readonly inVlan: number;
  /** What the gateway did: routed (to `outVlan`), answered, or sent the packet outside. */
  readonly action: "route" | "local" | "outside" | "no-neighbour" | "ttl-exceeded";
  readonly outVlan?: number;
  readonly detail: string;
}

export interface DeliverHop {
  readonly kind: "deliver";
  readonly parent: number | undefined;
  readonly chassis: string;
  readonly port: string;
  readonly portType: string;
  readonly ofport: number | undefined;
  readonly frame: Uint8Array;
}

export interface DropHop {
  readonly kind: "drop";
  readonly parent: number | undefined;
  readonly where: string;
  readonly reason: string;
}

export type Hop = ChassisHop | WireHop | GatewayHop | DeliverHop | DropHop;

export interface FabricResult {
  readonly hops: readonly Hop[];
  /** The packet as it left its VIF. */
  readonly first: { readonly chassis: string; readonly port: string; readonly frame: Uint8Array };
}

export interface FabricOptions {
  /** Options for each chassis's executor (placement is added). */
  readonly executorOptions?: (chassis: PhysicalChassis) => ExecutorOptions;
  readonly runOptions?: RunOptions;
  /** A trace sink for each logical run, if wanted. */
  readonly sink?: (chassis: PhysicalChassis, key: Uint32Array) => TraceSink | undefined;
  readonly maxHops?: number;
}

interface Runtime {
  readonly plan: PhysicalPlan;
  readonly chassis: PhysicalChassis;
  readonly exec: LogicalExecutor;
}

/** The UDP source port OVS would pick for a tunnel: a hash of the inner flow, in 32768..60999. */
function tunnelSourcePort(key: Uint32Array): number {
  let h = 0;
  for (let w = W.ETH_DST; w < W.ETH_DST + 16 && w < key.length; w++) h = hashAdd(h, key[w]!);
  h = hashAdd(h, key[W.NW_SRC]!);
  h = hashAdd(h, key[W.NW_DST]!);
  h = hashAdd(h, key[W.TP]!);
  return 32768 + ((hashFinish(h, 80) >>> 0) % 28232);
}

function macBytes(text: string): Uint8Array {
  return parseMac(text) ?? new Uint8Array(6);
}

/** Table 0's flows for a frame from localnet port `ln` (the chassis-MAC conjunction's, or the port's own), and a note when its MAC changes. */
function localnetIn(c: PhysicalChassis, ln: LocalnetAttachment, key: Uint32Array): { flows: PhysicalFlow[]; notes: string[] } {
  const back = c.chassisMacs.ingress.get(ln.datapath)?.get(ln.port);
  const from = back === undefined ? undefined : macAt(c.chassisMacs.remote, key, W.ETH_SRC);
  if (from === undefined || back === undefined) return { flows: defined([c.flows.get(flowId.localnetIn(ln.name))]), notes: [] };
  return {
    flows: defined([c.flows.get(flowId.chassisMacSrc(from.text)), c.flows.get(flowId.chassisMacVlan(ln.vlan)), c.flows.get(flowId.chassisMacIn(ln.name))]),
    notes: [`source MAC ${from.text} (chassis ${from.chassis}'s) becomes ${back.text}, router port ${back.port}'s`],
  };
}

/** Table 65's flows for output `out` (the key as it left), and a note when it left with this chassis's MAC. */
function toPhy(c: PhysicalChassis, dp: number, port: number, out: Uint32Array, portName: string): { flows: (PhysicalFlow | undefined)[]; notes: string[] } {
  const swap = c.chassisMacs.egress.get(dp)?.get(port);
  if (swap === undefined || macAt([swap.to], out, W.ETH_SRC) === undefined) return { flows: [c.flows.get(flowId.toPhy(dp, port))], notes: [] };
  const was = swap.from.length === 1 ? `${swap.from[0]!.text} (router port ${swap.from[0]!.port}'s)` : `(router port ${swap.from.map((f) => `${f.port}'s ${f.text}`).join(", or ")})`;
  const network = c.localnets.get(dp)?.network ?? "its network";
  return { flows: swap.from.map((f) => c.flows.get(flowId.toPhyChassisMac(dp, port, f.text))), notes: [`source MAC ${was} becomes ${swap.to.text}, this chassis's on ${network}, out ${portName}`] };
}

function defined(flows: (PhysicalFlow | undefined)[]): PhysicalFlow[] {
  return flows.filter((f): f is PhysicalFlow => f !== undefined);
}

export class Fabric {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly plans: readonly PhysicalPlan[];
  private readonly opts: FabricOptions;

  /** `plans`: one per availability zone; a chassis remote in one zone is local in another. */
  constructor(plans: readonly PhysicalPlan[], opts: FabricOptions = {}) {
    this.plans = plans;
    this.opts = opts;
  }

  private runtime(name: string): Runtime | undefined {
    const hit = this.runtimes.get(name);
    if (hit) return hit;
    for (const plan of this.plans) {
      const chassis = plan.chassis.get(name);
      if (!chassis || chassis.remote) continue;
      const exec = new LogicalExecutor(chassis.program, { ...this.opts.executorOptions?.(chassis), placement: chassis.placement, chassisMacs: chassis.chassisMacs, localnets: chassis.localnets });
      const rt = { plan, chassis, exec };
      this.runtimes.set(name, rt);
      return rt;
    }
    return undefined;
  }

  /** The chassis that hosts VIF `port`, if any. */
  chassisOf(port: string): string | undefined {
    for (const plan of this.plans) for (const c of plan.chassis.values()) if (!c.remote && c.vifs.has(port)) return c.name;
    return undefined;
  }

  /** Traces `key` sent by VIF `port`. Undefined when no chassis hosts the port. */
  trace(port: string, key: Uint32Array): FabricResult | undefined {
    const name = this.chassisOf(port);
    const rt = name === undefined ? undefined : this.runtime(name);
    const vif = rt?.chassis.vifs.get(port);
    if (!rt || !vif) return undefined;
    const hops: Hop[] = [];
    const frame = frameFromKey(key);
    const k = this.keyOf(frame);
    const flows = [rt.chassis.flows.get(flowId.vifIn(port))].filter((f): f is PhysicalFlow => f !== undefined);
    this.runChassis(hops, undefined, rt, { via: "vif", port, ofport: vif.ofport }, flows, [], k, (sink) => rt.exec.run(k, { datapath: vif.datapath, inport: vif.port }, sink, this.opts.runOptions));
    return { hops, first: { chassis: rt.chassis.name, port, frame } };
  }

  private keyOf(frame: Uint8Array): Uint32Array {
    const k = newKey();
    extractKey(frame, 0, frame.length, frame.length, LINKTYPE_ETHERNET, k, 0, true);
    return k;
  }

  private full(hops: Hop[], parent: number | undefined, where: string): boolean {
    if (hops.length < (this.opts.maxHops ?? 256)) return false;
    hops.push({ kind: "drop", parent, where, reason: `loop: more than ${this.opts.maxHops ?? 256} hops` });
    return true;
  }

  private runChassis(hops: Hop[], parent: number | undefined, rt: Runtime, entry: Entry, flows: PhysicalFlow[], notes: string[], key: Uint32Array, run: (sink: TraceSink | undefined) => ExecResult): void {
    if (this.full(hops, parent, rt.chassis.name)) return;
    const sink = this.opts.sink?.(rt.chassis, key);
    // The run comes first; the hops it leads to are pushed after this one.
    const result = run(sink);
    const at = hops.length;
    hops.push({ kind: "chassis", parent, chassis: rt.chassis.name, zone: rt.plan.zone, entry, flows, notes, result, sink });
    const c = rt.chassis;
    for (const out of result.outputs) {
      const dp = out.datapath;
      const phy = toPhy(c, dp, out.port, out.key, out.portName);
      const outFlows = defined(
        out.redirect !== undefined
          ? [c.flows.get(flowId.local(out.redirect.datapath, out.redirect.port)), ...phy.flows]
          : [c.flows.get(flowId.local(dp, out.port)), c.flows.get(flowId.catchAll(OFTABLE.CHECK_LOOPBACK)), ...phy.flows],
      );
      if (out.redirect !== undefined) {
        const cr = c.program.datapaths.get(out.redirect.datapath)?.ports.get(out.redirect.port)?.name ?? `port ${out.redirect.port}`;
        const where = c.placement.get(out.redirect.datapath)?.get(out.redirect.port);
        const n = `${cr} (redirect-type=bridged) is active on ${where?.kind === "bridged" && where.chassis !== undefined ? where.chassis : "another chassis"}: sent there over the provider network, not through a tunnel`;
        if (!notes.includes(n)) notes.push(n);
      }
      for (const f of outFlows) if (!flows.includes(f)) flows.push(f);
      for (const n of phy.notes) if (!notes.includes(n)) notes.push(n);
      const ln = c.localnets.get(dp);
      if (out.portType === "localnet" && ln && ln.port === out.port) {
        this.onProvider(hops, at, rt, ln, frameFromKey(out.key));
        continue;
      }
      const vif = c.vifs.get(out.portName);
      hops.push({ kind: "deliver", parent: at, chassis: c.name, port: out.portName, portType: out.portType, ofport: vif?.ofport, frame: frameFromKey(out.key) });
    }
    for (const t of result.tunnels) {
      const f = c.flows.get(flowId.remote(t.datapath, t.outport));
      if (f && !flows.includes(f)) flows.push(f);
      this.sendTunnel(hops, at, rt, t.chassis, t.datapath, t.key[W.REG0 + 14]!, t.outport, t.key);
    }
  }

  private sendTunnel(hops: Hop[], parent: number, rt: Runtime, to: string, datapath: number, inport: number, outport: number, key: Uint32Array): void {
    const port = rt.chassis.tunnels.get(to);
    const dst = this.runtime(to);
    const remote = port ? this.plans.map((p) => p.chassis.get(to)).find((c) => c !== undefined) : undefined;
    if (!port || !rt.chassis.encap || !remote?.encap) {
      hops.push({ kind: "drop", parent, where: rt.chassis.name, reason: `no tunnel from ${rt.chassis.name} to ${to}` });
      return;
    }
    const inner = frameFromKey(key);
    const srcIp = parseIpv4(rt.chassis.encap.ip) ?? 0;
    const dstIp = parseIpv4(port.remoteIp) ?? 0;
    const outer = { ethSrc: macBytes(rt.chassis.mac), ethDst: macBytes(remote.mac), ipSrc: srcIp, ipDst: dstIp, udpSrc: tunnelSourcePort(key) };
    let frame: Uint8Array;
    let tunnel: TunnelHeaders;
    if (port.type === "vxlan") {
      const p12 = outport >= 32768 ? 0x800 | (outport & 0x7ff) : outport & 0xfff;
      const vni = (datapath & 0xfff) | (p12 << 12);
      frame = encapsulateVxlan(inner, outer, vni);
      tunnel = { type: "vxlan", srcIp: rt.chassis.encap.ip, dstIp: port.remoteIp, udpSrc: outer.udpSrc, vni };
    } else {
      frame = encapsulateGeneve(inner, outer, datapath & 0xffffff, [ovnGeneveOption(inport & 0x7fff, outport & 0xffff)]);
      tunnel = { type: port.type, srcIp: rt.chassis.encap.ip, dstIp: port.remoteIp, udpSrc: outer.udpSrc, vni: datapath & 0xffffff, inport: inport & 0x7fff, outport };
    }
    const wire = hops.length;
    hops.push({ kind: "wire", parent, zone: rt.plan.zone, medium: "tunnel", name: `${port.type} ${rt.chassis.name}-${to}`, from: rt.chassis.name, to, tunnel, frame });
    if (!dst) {
      hops.push({ kind: "drop", parent: wire, where: to, reason: `chassis ${to} is not simulated (no zone has it as a local chassis)` });
      return;
    }
    // The receiving side: table 0 reads the tunnel fields back from the bytes.
    const k = this.keyOf(frame);
    const back = dst.chassis.tunnels.get(rt.chassis.name);
    let dp: number;
    let inp: number;
    let outp: number;
    if ((k[W.TUN_FLAGS]! & TUN.VXLAN) !== 0) {
      const id = k[W.TUN_ID]!;
      dp = id & 0xfff;
      const p12 = (id >>> 12) & 0xfff;
      outp = (p12 & 0x800) !== 0 ? 0x8000 | (p12 & 0x7ff) : p12;
      inp = 0;
    } else {
      dp = k[W.TUN_ID]! & 0xffffff;
      const md = k[W.TUN_MD0]!;
      inp = (md >>> 16) & 0x7fff;
      outp = md & 0xffff;
    }
    const flows = [back ? dst.chassis.flows.get(flowId.tunnelIn(rt.chassis.name)) : undefined, dst.chassis.flows.get(flowId.local(dp, outp))].filter((f): f is PhysicalFlow => f !== undefined);
    this.runChassis(hops, wire, dst, { via: "tunnel", from: rt.chassis.name, type: port.type, datapath: dp, inport: inp, outport: outp, ofport: back?.ofport ?? 0 }, flows, [], k, (sink) =>
      dst.exec.runFromTunnel(k, { datapath: dp, inport: inp, outport: outp }, sink, this.opts.runOptions),
    );
  }

  /** A frame leaving chassis `rt` through localnet port `ln` onto its provider network. */
  private onProvider(hops: Hop[], parent: number, rt: Runtime, ln: LocalnetAttachment, untagged: Uint8Array): void {
    const frame = ln.vlan ? pushVlan(untagged, { pcp: 0, dei: false, vid: ln.vlan }, ln.tpid) : untagged;
    this.onSegment(hops, parent, rt.plan.zone, rt.chassis.name, ln.network, ln.vlan, frame, untagged, ln);
  }

  /**
   * A frame on (network, vlan) from chassis `from` (by its localnet attachment `fromLn`) or from the
   * underlay's gateway. Every localnet attachment of the segment but the sender's own may receive
   * it: those of other switches on the sending chassis too, whose patch ports hang on the same
   * provider bridge.
   */
  private onSegment(hops: Hop[], parent: number, zone: string, from: string, network: string, vlan: number, frame: Uint8Array, untagged: Uint8Array, fromLn?: LocalnetAttachment): void {
    if (this.full(hops, parent, network)) return;
    const k = this.keyOf(untagged);
    const dstMac = macWordsText(k[W.ETH_DST]!, k[W.ETH_DST + 1]!);
    const broadcast = (k[W.ETH_DST]! & 0x0100) !== 0;
    const gw = this.gatewayIface(network, vlan);
    // Receivers: the chassis attached to (network, vlan), and the gateway.
    const attached: { rt: Runtime; ln: LocalnetAttachment }[] = [];
    for (const plan of this.plans) {
      for (const c of plan.chassis.values()) {
        if (c.remote) continue;
        for (const ln of c.localnets.values()) {
          if (ln.network !== network || ln.vlan !== vlan) continue;
          if (c.name === from && ln.datapath === fromLn?.datapath && ln.port === fromLn.port) continue;
          const rt = this.runtime(c.name);
          if (rt) attached.push({ rt, ln });
        }
      }
    }
    let targets = attached;
    let toGateway = gw !== undefined && (broadcast || gw.mac === dstMac);
    if (!broadcast) {
      if (toGateway) targets = [];
      else {
        const owner = attached.filter((a) => a.rt.chassis.vifs.has(this.portWithMac(a.rt.chassis, a.ln.datapath, dstMac) ?? ""));
        if (owner.length) targets = owner;
        toGateway = gw !== undefined && owner.length === 0 && gw.mac === dstMac;
      }
    }
    const wire = hops.length;
    const to = [...new Set(targets.map((t) => t.rt.chassis.name)), ...(toGateway ? ["underlay gateway"] : [])];
    const bridgeOnly = !broadcast && !toGateway && targets.length > 0 && targets.every((t) => t.rt.chassis.name === from);
    hops.push({ kind: "wire", parent, zone, medium: "provider", name: `${network}${vlan ? ` vlan ${vlan}` : " untagged"}`, from, to: to.join(", ") || "nobody", network, vlan, ...(bridgeOnly ? { bridgeOnly } : {}), frame });
    for (const t of targets) {
      const key = this.keyOf(untagged);
      const { flows, notes } = localnetIn(t.rt.chassis, t.ln, key);
      this.runChassis(hops, wire, t.rt, { via: "localnet", port: t.ln.name, network, vlan, ofport: t.ln.ofport }, flows, notes, key, (sink) => t.rt.exec.run(key, { datapath: t.ln.datapath, inport: t.ln.port }, sink, this.opts.runOptions));
    }
    if (toGateway && gw) this.atGateway(hops, wire, zone, network, gw, k, broadcast);
    if (!targets.length && !toGateway) hops.push({ kind: "drop", parent: wire, where: network, reason: `no host on ${network}${vlan ? ` VLAN ${vlan}` : ""} has MAC ${dstMac}` });
  }

  /** A port of datapath `dp` on chassis `c` with MAC `mac` (from the VIF's program port names). */
  private portWithMac(c: PhysicalChassis, dp: number, mac: string): string | undefined {
    for (const v of c.vifs.values()) if (v.datapath === dp && this.vifMac(v.name) === mac) return v.name;
    return undefined;
  }

  private vifMacs: Map<string, string> | undefined;
  private vifMac(port: string): string | undefined {
    if (!this.vifMacs) {
      this.vifMacs = new Map();
      for (const plan of this.plans) for (const h of plan.underlayHosts) if (h.port !== undefined) this.vifMacs.set(h.port, h.mac);
    }
    return this.vifMacs.get(port);
  }

  private gatewayIface(network: string, vlan: number): UnderlayInterface | undefined {
    for (const plan of this.plans) {
      const g = plan.providerNetworks.get(network)?.gateways.find((i) => i.vlan === vlan);
      if (g) return g;
    }
    return undefined;
  }

  /** The underlay gateway received `k` on (network, its VLAN): route it, answer it or send it outside. */
  private atGateway(hops: Hop[], parent: number, zone: string, network: string, iface: UnderlayInterface, k: Uint32Array, broadcast: boolean): void {
    const base = { kind: "gateway" as const, parent, network, inVlan: iface.vlan };
    if (getField(k, F_ETH_TYPE) !== 0x0800) {
      hops.push({ ...base, action: "local", detail: `the gateway (${formatIpv4(iface.ip)}) takes the non-IPv4 packet itself` });
      return;
    }
    if (broadcast) {
      // A router forwards only what is sent to its own MAC.
      hops.push({ ...base, action: "local", detail: `the gateway (${formatIpv4(iface.ip)}) takes the broadcast or multicast frame itself and routes nothing` });
      return;
    }
    const dst = k[W.NW_DST]! >>> 0;
    const ifaces = this.plans.flatMap((p) => p.providerNetworks.get(network)?.gateways ?? []);
    if (ifaces.some((i) => i.ip >>> 0 === dst)) {
      hops.push({ ...base, action: "local", detail: `addressed to the gateway itself (${formatIpv4(dst)})` });
      return;
    }
    const out = ifaces.find((i) => ipv4InPrefix(dst, i.ip, i.plen));
    if (!out) {
      hops.push({ ...base, action: "outside", detail: `${formatIpv4(dst)} is in none of the gateway's subnets on ${network}: routed out of the simulated network` });
      return;
    }
    const ttl = getField(k, F_NW_TTL);
    if (ttl <= 1) {
      hops.push({ ...base, action: "ttl-exceeded", detail: `TTL ${ttl} would reach 0` });
      return;
    }
    const host = this.plans.flatMap((p) => p.underlayHosts).find((h) => h.ip >>> 0 === dst && h.network === network && h.vlan === out.vlan);
    if (!host) {
      hops.push({ ...base, action: "no-neighbour", outVlan: out.vlan, detail: `no host answers ARP for ${formatIpv4(dst)} on ${network}${out.vlan ? ` VLAN ${out.vlan}` : ""}` });
      return;
    }
    const rk = k.slice();
    setField(rk, F_NW_TTL, ttl - 1);
    rk.set(parseMacWords(out.mac) ?? [0, 0], W.ETH_SRC);
    rk.set(parseMacWords(host.mac) ?? [0, 0], W.ETH_DST);
    const at = hops.length;
    hops.push({ ...base, action: "route", outVlan: out.vlan, detail: `routes ${formatIpv4(dst)} to ${host.mac} on ${out.vlan ? `VLAN ${out.vlan}` : "the untagged segment"}, TTL ${ttl} -> ${ttl - 1}` });
    const untagged = frameFromKey(rk);
    const frame = out.vlan ? pushVlan(untagged, { pcp: 0, dei: false, vid: out.vlan }) : untagged;
    this.onSegment(hops, at, zone, "underlay gateway", network, out.vlan, frame, untagged);
  }
}
