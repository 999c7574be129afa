/**
 * Provider networks as `replay` carries frames across them: which chassis a frame that leaves one
 * chassis by a localnet port reaches, as the physical network's learning switches deliver it, and
 * what they learn from it.
 *
 * What: `ProviderSegments` (the datapath's `ProviderNetworks`) is built once from a network and
 * its physical plan. A segment is a provider network and a VLAN; the localnet attachments of the
 * local chassis hang on their segments. On one chassis the localnet ports of every switch on a
 * provider network have their patch ports on one provider bridge, which floods and learns between
 * them as between them and its uplink; so two switches on one segment (Kube-OVN subnets that
 * name one Vlan) reach each other on a chassis without the frame leaving it. The chassis's uplinks
 * meet in one learning switch per segment (the wire), which also leads outside.
 *
 * Learning, as OVS's NORMAL action and a physical switch do it (per VLAN, no ageing):
 * - Each chassis's bridge has a table per segment: MAC → one of its patch ports (an attachment) or
 *   its uplink. The wire's table: MAC → a chassis, or outside.
 * - Before the first packet, every bridge and the wire know the MACs ovn-controller announces by
 *   gratuitous ARPs that flood the segment (compile `announcedMacOwners`: each enabled VIF's, and
 *   the router ports northd gives `nat_addresses`): behind the switch's patch port on the
 *   announcing chassis, at the uplink on every other chassis, at that chassis on the wire. A router
 *   port's announcement leaves with the chassis's MAC where the chassis swaps it in (table 65), and
 *   teaches that instead; a VIF's goes through its own ingress pipeline, and one that pipeline drops
 *   (port security) teaches nothing (`refusedAnnouncements`). A host outside (`knowOutside`: the
 *   underlay gateways of `providerNetworks`, and the outside hosts `--map` sends from) is known at
 *   every uplink and outside on the wire.
 * - `receivers(from, datapath, port, src, dst)`, for a frame chassis `from` sends out its localnet
 *   port `port` of `datapath`: the sending bridge learns `src` at that port's patch port; a frame
 *   that reaches the wire teaches it `src` at `from`, and each bridge it reaches `src` at its uplink
 *   (a multicast source teaches nothing). Each forwards by what it knows of `dst`: broadcast and
 *   multicast, and a MAC it does not know, to every port but the one it came in by (flooded); a
 *   known MAC to its port, and nowhere when that is the port it came in by.
 * - A router port that is not announced, or whose chassis sends from its chassis MAC, is not
 *   learned until a frame leaves from its MAC (and a distributed router that sends with chassis
 *   MACs never teaches its own): until then frames for it are flooded.
 * - `version` moves whenever a table changes. Where a frame goes, and whether the executor drops
 *   it at its own bridge (`learnedBehind`, the frame's destination behind the patch port it came
 *   in by), depend on the tables, so the datapath drops its megaflows when it moves; a megaflow
 *   holds both MACs of what it sends out a localnet port, and its hits teach nothing new.
 *
 * A unicast frame for the MAC of the underlay's own gateway on its segment (`providerNetworks`)
 * also carries that gateway as a router (`SegmentDelivery.router`): the datapath asks it, for each
 * such IPv4 packet, where it routes the packet (a host of one of its subnets, on that host's VLAN,
 * as `trace`'s path routes it: fabric.ts `atGateway`), since a megaflow matches no destination
 * address for it. With `route: false` (the replay oracle, where only OVS is real) it has none.
 *
 * Not modelled: ageing (OVS forgets a MAC after 300 s), a frame the executor drops at its own
 * bridge (`provider-bridge`) teaching that bridge its source, and what the routed frames of the
 * underlay's gateway teach.
 */
import { formatMac, ipv4InPrefix, parseIpv4, parseMac } from "../base/index.js";
import { announcedEntry, announcedMacOwners, portSecurityCalls, residentChassis } from "../compile/index.js";
import { LogicalExecutor, macWordsText, type ProviderNetworks, type RoutedDelivery, type SegmentDelivery, type UnderlayRouter } from "../dataplane/index.js";
import { KEY_WORDS, extractKey } from "../flow/index.js";
import type { Network } from "../model/index.js";
import { parseMacWords, type PhysicalChassis, type PhysicalPlan, type UnderlayHost, type UnderlayInterface } from "../ofp/index.js";

interface Attachment {
  readonly chassis: string;
  readonly datapath: number;
  readonly port: number;
  /** The switch of the localnet port (for the MACs its ports own). */
  readonly switchName: string;
}

/** In a bridge's table: learned at its uplink (else at the attachment of that index in the segment). */
const UPLINK = -1;
/** In the wire's table: learned outside (else at the chassis of that name). */
const OUTSIDE = "";

export class ProviderSegments implements ProviderNetworks {
  /** `network/vlan` → its attachments on local chassis. */
  private readonly segments = new Map<string, Attachment[]>();
  /** `chassis/datapath/port` of a localnet attachment → its segment and index there. */
  private readonly segmentOf = new Map<string, { readonly segment: string; readonly index: number }>();
  /** `chassis segment` → MAC → attachment index in the segment, or `UPLINK`. */
  private readonly bridges = new Map<string, Map<string, number>>();
  /** Segment → MAC → chassis, or `OUTSIDE`. */
  private readonly wires = new Map<string, Map<string, string>>();
  /** Segment → the chassis with attachments there. */
  private readonly chassisOn = new Map<string, string[]>();
  /** Switch name → its announced MACs → their chassis (for the underlay gateway's routing). */
  private readonly owners: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** `network/vlan` → the MAC of the underlay's gateway there (as `formatMac` writes it). */
  private readonly gatewayMacs = new Map<string, string>();
  /** Provider network → its underlay gateway, as a router (none: `route` off, or no gateways). */
  private readonly routers = new Map<string, UnderlayRouter>();
  /** Moves whenever a bridge or the wire learns something new (see the module header). */
  version = 0;

  /**
   * `opts.route` (default true): the underlay's gateways route between their subnets. Off, frames
   * to them leave, as they do where only OVS is real (the replay oracle).
   */
  constructor(net: Network, plan: PhysicalPlan, opts: { readonly route?: boolean } = {}) {
    const switchOf = new Map<string, string>();
    for (const ls of net.switches.values()) for (const p of ls.ports.values()) switchOf.set(p.name, ls.name);
    for (const c of plan.chassis.values()) {
      if (c.remote) continue;
      for (const ln of c.localnets.values()) {
        const seg = `${ln.network}/${ln.vlan}`;
        let list = this.segments.get(seg);
        if (!list) this.segments.set(seg, (list = []));
        this.segmentOf.set(`${c.name}/${ln.datapath}/${ln.port}`, { segment: seg, index: list.length });
        list.push({ chassis: c.name, datapath: ln.datapath, port: ln.port, switchName: switchOf.get(ln.name) ?? "" });
      }
    }
    for (const [seg, list] of this.segments) this.chassisOn.set(seg, [...new Set(list.map((a) => a.chassis))]);
    this.owners = refusedRemoved(net, plan, announcedMacOwners(net));
    // The announcements, before the first packet; a router port's leaves with the chassis MAC
    // where the chassis swaps it in (table 65).
    for (const [seg, list] of this.segments) {
      list.forEach((a, i) => {
        const c = plan.chassis.get(a.chassis);
        for (const [mac, where] of this.owners.get(a.switchName) ?? []) if (where === a.chassis && c !== undefined) this.teach(seg, announcementSource(c, a.datapath, a.port, mac), { chassis: a.chassis, index: i });
      });
    }
    for (const pn of plan.providerNetworks.values()) {
      for (const g of pn.gateways) {
        const mac = parseMac(g.mac);
        if (mac === undefined) continue;
        this.gatewayMacs.set(`${pn.name}/${g.vlan}`, formatMac(mac));
        for (const seg of this.segments.keys()) this.teach(seg, formatMac(mac));
      }
    }
    if (opts.route !== false) for (const pn of plan.providerNetworks.values()) if (pn.gateways.length > 0) this.routers.set(pn.name, this.router(pn.name, pn.gateways, plan.underlayHosts));
  }

  /**
   * A frame from `mac` that floods segment `seg` (an announcement), sent by chassis `from` out its
   * attachment `index` there, or by a host outside (`from` undefined): learned at that attachment,
   * on the wire at `from` (or outside), and at every other chassis's uplink. A MAC already learned
   * keeps its place.
   */
  private teach(seg: string, mac: string, from?: { readonly chassis: string; readonly index: number }): void {
    const put = <V>(t: Map<string, V>, v: V): void => {
      if (!t.has(mac)) this.learn(t, mac, v);
    };
    if (from !== undefined) put(this.bridge(from.chassis, seg), from.index);
    put(this.wire(seg), from?.chassis ?? OUTSIDE);
    for (const c of this.chassisOn.get(seg) ?? []) if (c !== from?.chassis) put(this.bridge(c, seg), UPLINK);
  }

  private learn<V>(table: Map<string, V>, mac: string, at: V): void {
    if (table.get(mac) === at) return;
    table.set(mac, at);
    this.version++;
  }

  private bridge(chassis: string, seg: string): Map<string, number> {
    const k = `${chassis} ${seg}`;
    let t = this.bridges.get(k);
    if (t === undefined) this.bridges.set(k, (t = new Map()));
    return t;
  }

  private wire(seg: string): Map<string, string> {
    let t = this.wires.get(seg);
    if (t === undefined) this.wires.set(seg, (t = new Map()));
    return t;
  }

  /**
   * The underlay's gateway of provider network `network`, with interfaces `ifaces`, as `trace`'s
   * path routes (fabric.ts `atGateway`): an IPv4 packet for a host of one of its subnets (the
   * first interface whose prefix holds the address; the host on that interface's VLAN) goes to the
   * host from the interface's MAC; a packet for the gateway itself, or for any other address,
   * goes no further here. Worked out for every host at once, so that a packet costs one lookup.
   */
  private router(network: string, ifaces: readonly UnderlayInterface[], hosts: readonly UnderlayHost[]): UnderlayRouter {
    const to = new Map<number, RoutedDelivery>();
    const own = new Set(ifaces.map((i) => i.ip >>> 0));
    for (const h of hosts) {
      const ip = h.ip >>> 0;
      if (h.network !== network || own.has(ip) || to.has(ip)) continue;
      const out = ifaces.find((i) => ipv4InPrefix(ip, i.ip, i.plen));
      const src = out !== undefined ? parseMacWords(out.mac) : undefined;
      const dst = parseMacWords(h.mac);
      if (out === undefined || out.vlan !== h.vlan || src === undefined || dst === undefined) continue;
      const mac = macWordsText(dst[0]!, dst[1]!);
      const targets = (this.segments.get(`${network}/${h.vlan}`) ?? []).filter((a) => this.owners.get(a.switchName)?.get(mac) === a.chassis).map(({ chassis, datapath, port }) => ({ chassis, datapath, port }));
      to.set(ip, { vlan: h.vlan, src: [src[0]!, src[1]!], dst: [dst[0]!, dst[1]!], targets });
    }
    return { route: (dst) => to.get(dst) };
  }

  /**
   * A host outside the simulated network, whose MAC (key words `hi`/`lo`) the physical network has
   * learned at its uplinks: frames to it leave. Before the replay (a MAC known already keeps its
   * place).
   */
  knowOutside(hi: number, lo: number): void {
    const mac = macWordsText(hi, lo);
    for (const seg of this.segments.keys()) this.teach(seg, mac);
  }

  /**
   * Whether chassis `chassis`'s bridge has learned the MAC in key words `hi`/`lo` behind the patch
   * port of its localnet port `port` of `datapath`: the MAC as `formatMac` writes it, or undefined.
   */
  learnedBehind(chassis: string, datapath: number, port: number, hi: number, lo: number): string | undefined {
    const at = this.segmentOf.get(`${chassis}/${datapath}/${port}`);
    if (at === undefined || (hi & 0x0100) !== 0) return undefined;
    const mac = macWordsText(hi, lo);
    return this.bridges.get(`${chassis} ${at.segment}`)?.get(mac) === at.index ? mac : undefined;
  }

  /** Where a frame goes that chassis `from` sends out its localnet port `port` of `datapath` from `src` to `dst` (key words); see the module header. */
  receivers(from: string, datapath: number, port: number, src: readonly [number, number], dst: readonly [number, number]): SegmentDelivery {
    const at = this.segmentOf.get(`${from}/${datapath}/${port}`);
    if (at === undefined) return LEAVES;
    const seg = at.segment;
    const attached = this.segments.get(seg)!;
    const learns = (src[0] & 0x0100) === 0;
    const source = macWordsText(src[0], src[1]);
    const group = (dst[0] & 0x0100) !== 0;
    const dest = macWordsText(dst[0], dst[1]);
    const targets: Attachment[] = [];
    /** Every attachment of `chassis` but `except`. */
    const flood = (chassis: string, except: number): void => {
      attached.forEach((a, i) => {
        if (a.chassis === chassis && i !== except) targets.push(a);
      });
    };
    const mine = this.bridge(from, seg);
    if (learns) this.learn(mine, source, at.index);
    const here = group ? undefined : mine.get(dest);
    let uplink = false;
    if (here === at.index) return DROPPED;
    if (here !== undefined && here !== UPLINK) targets.push(attached[here]!);
    else {
      if (here === undefined) flood(from, at.index);
      uplink = true;
      const wire = this.wire(seg);
      if (learns) this.learn(wire, source, from);
      const where = group ? undefined : wire.get(dest);
      for (const c of this.chassisOn.get(seg) ?? []) {
        // The wire sends a frame for a MAC it knows only there (outside, or back to `from`: nowhere).
        if (c === from || (where !== undefined && where !== c)) continue;
        const theirs = this.bridge(c, seg);
        if (learns) this.learn(theirs, source, UPLINK);
        const h = group ? undefined : theirs.get(dest);
        if (h === undefined) flood(c, UPLINK);
        else if (h !== UPLINK) targets.push(attached[h]!);
      }
    }
    // A unicast frame for the gateway's MAC is routed on (a broadcast one is not).
    const router = !group && this.gatewayMacs.get(seg) === dest ? this.routers.get(seg.slice(0, seg.lastIndexOf("/"))) : undefined;
    return { targets: targets.map(({ chassis, datapath: dp, port: p }) => ({ chassis, datapath: dp, port: p })), uplink, ...(router !== undefined ? { router } : {}) };
  }
}

/** A frame from a port on no segment: it leaves, and nothing here receives it. */
const LEAVES: SegmentDelivery = { targets: [], uplink: true };
/** A frame for a MAC behind the patch port it came in by: NORMAL sends it nowhere. */
const DROPPED: SegmentDelivery = { targets: [], uplink: false };

/** `owners` without the VIFs whose announcement never leaves their chassis (`refusedAnnouncements`). */
function refusedRemoved(net: Network, plan: PhysicalPlan, owners: ReadonlyMap<string, ReadonlyMap<string, string>>): ReadonlyMap<string, ReadonlyMap<string, string>> {
  const refused = refusedAnnouncements(net, plan);
  const out = new Map<string, Map<string, string>>();
  for (const [name, macs] of owners) {
    const kept = new Map(macs);
    for (const p of net.switches.get(name)?.ports.values() ?? []) {
      const mac = refused.has(p.name) ? parseMac(announcedEntry(p.addresses)?.mac ?? "") : undefined;
      if (mac !== undefined) kept.delete(formatMac(mac));
    }
    out.set(name, kept);
  }
  return out;
}

/**
 * The VIFs on switches with a localnet port whose announcement never leaves the chassis they are
 * bound to (`announcementLeaves`), by name: no bridge learns their MAC from it.
 */
export function refusedAnnouncements(net: Network, plan: PhysicalPlan): ReadonlySet<string> {
  const out = new Set<string>();
  const execs = new Map<string, LogicalExecutor>();
  for (const ls of net.switches.values()) {
    if (![...ls.ports.values()].some((p) => p.type === "localnet")) continue;
    for (const p of ls.ports.values()) {
      const where = p.type === "" && p.enabled ? residentChassis(net, p.name) : undefined;
      const a = announcedEntry(p.addresses);
      const mac = parseMac(a?.mac ?? "");
      const c = where === undefined ? undefined : plan.chassis.get(where);
      if (a === undefined || mac === undefined || c === undefined || c.remote) continue;
      let exec = execs.get(c.name);
      if (exec === undefined) execs.set(c.name, (exec = announcingExecutor(net, c)));
      if (!announcementLeaves(exec, c, p.name, mac, a.ipv4)) out.add(p.name);
    }
  }
  return out;
}

/** An executor of chassis `c` that runs announcements as ovn-controller's tables do, learning nothing. */
function announcingExecutor(net: Network, c: PhysicalChassis): LogicalExecutor {
  return new LogicalExecutor(c.program, { ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program), placement: c.placement, chassisMacs: c.chassisMacs, localnets: c.localnets });
}

/**
 * Whether ovn-controller's announcement of VIF `port` (MAC `mac`, IPv4 `ipv4` or none) leaves
 * chassis `c` by a localnet port: it sends a gratuitous ARP for the address (a RARP without one)
 * into the VIF's own ingress pipeline (pinctrl.c `send_garp_rarp`), where port security or an ACL
 * may drop it, as for any frame the VIF sends. One that is dropped teaches no bridge the MAC.
 */
function announcementLeaves(exec: LogicalExecutor, c: PhysicalChassis, port: string, mac: Uint8Array, ipv4: string | undefined): boolean {
  const lp = c.program.portByName.get(port);
  if (lp === undefined) return false;
  const frame = announcementFrame(mac, mac, ipv4);
  const key = new Uint32Array(KEY_WORDS);
  extractKey(frame, 0, frame.length, frame.length, 1, key, 0, false);
  const r = exec.run(key, { datapath: lp.datapath, inport: lp.key });
  return r.outputs.some((o) => o.portType === "localnet");
}

/**
 * An announcement as ovn-controller sends it, broadcast from `src`: a gratuitous ARP request for
 * `ipv4` by `mac`, or without an address a RARP request (opcode 3) for `mac`.
 */
export function announcementFrame(src: Uint8Array, mac: Uint8Array, ipv4: string | undefined): Uint8Array {
  const ip = ipv4 === undefined ? undefined : parseIpv4(ipv4);
  const spa = ip === undefined ? [0, 0, 0, 0] : [(ip >>> 24) & 0xff, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];
  return new Uint8Array([...Array(6).fill(0xff), ...src, ...(ip === undefined ? [0x80, 0x35] : [0x08, 0x06]), 0, 1, 8, 0, 6, 4, 0, ip === undefined ? 3 : 1, ...mac, ...spa, ...(ip === undefined ? mac : Array(6).fill(0)), ...spa]);
}

/**
 * The source MAC (as `formatMac` writes it) of what chassis `c` announces for `mac` out localnet
 * port `port` of `datapath`: this chassis's MAC where its table 65 swaps that in for a router
 * port's, else `mac` itself.
 */
export function announcementSource(c: PhysicalChassis, datapath: number, port: number, mac: string): string {
  const swap = c.chassisMacs.egress.get(datapath)?.get(port);
  return swap !== undefined && swap.from.some((m) => macWordsText(m.words[0], m.words[1]) === mac) ? macWordsText(swap.to.words[0], swap.to.words[1]) : mac;
}
