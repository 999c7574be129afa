/**
 * Provider networks as `replay` carries frames across them: which chassis a frame that leaves one
 * chassis by a localnet port reaches, as the physical network's learning switches deliver it.
 *
 * What: `ProviderSegments` (the datapath's `ProviderNetworks`) is built once from a network and
 * its physical plan. A segment is a provider network and a VLAN; the localnet attachments of the
 * local chassis hang on their segments. On one chassis the localnet ports of every switch on a
 * provider network have their patch ports on one provider bridge, which floods and learns between
 * them as between them and its uplink; so two switches on one segment (Kube-OVN subnets that
 * name one Vlan) reach each other on a chassis without the frame leaving it. `receivers(from,
 * datapath, port, hi, lo)` gives, for a frame chassis `from` sends out its localnet port `port`
 * of `datapath` to the MAC in key words `hi`/`lo`, the attachments that receive it (any of the
 * segment but the sender's own) and whether it leaves `from` by the uplink:
 * - broadcast and multicast: every attachment, as a switch floods them; by the uplink;
 * - a unicast MAC a switch port on the segment owns: the attachment of that switch on the chassis
 *   it lives on, where the bridges have learned it (compile `switchMacOwners`): an enabled VIF's
 *   (its addresses' MACs, on the chassis it is bound to), a distributed gateway port's (on its active
 *   gateway chassis, which sends from it) and a gateway router port's (on the router's chassis);
 *   by the uplink unless that chassis is `from` itself (a port of the sender's own switch there
 *   the executor has dropped already: `provider-bridge`);
 * - a MAC of a host outside the simulated network that the physical network has learned at its
 *   uplinks (`knowOutside`: the underlay gateways of `providerNetworks`, and the outside hosts
 *   `--map` sends from): nobody; the frame has left by the uplink;
 * - any other unicast MAC, which no port of the segment owns and no outside host sent from (a
 *   distributed router port's, which no chassis sends from once chassis MACs replace it, or a
 *   MAC nobody has): a learning switch floods it, so every attachment, as `trace`'s path
 *   (fabric.ts) floods it too, and the uplink. There it reaches only the ports with `unknown`
 *   addresses, if any.
 *
 * A unicast frame for the MAC of the underlay's own gateway on its segment (`providerNetworks`)
 * also carries that gateway as a router (`SegmentDelivery.router`): the datapath asks it, for each
 * such IPv4 packet, where it routes the packet (a host of one of its subnets, on that host's VLAN,
 * as `trace`'s path routes it: fabric.ts `atGateway`), since a megaflow matches no destination
 * address for it. With `route: false` (the replay oracle, where only OVS is real) it has none.
 *
 * Invariants: an attachment never receives its own frame; results are computed once per sending
 * attachment and MAC and kept (`receivers` is called when a megaflow is made, not per packet), so
 * the outside hosts are made known before the replay starts.
 */
import { formatMac, ipv4InPrefix, parseMac } from "../base/index.js";
import { switchMacOwners } from "../compile/index.js";
import { macWordsText, type ProviderNetworks, type RoutedDelivery, type SegmentDelivery, type UnderlayRouter } from "../dataplane/index.js";
import type { Network } from "../model/index.js";
import { parseMacWords, type PhysicalPlan, type UnderlayHost, type UnderlayInterface } from "../ofp/index.js";

interface Attachment {
  readonly chassis: string;
  readonly datapath: number;
  readonly port: number;
  /** The switch of the localnet port (for the MACs its ports own). */
  readonly switchName: string;
}

export class ProviderSegments implements ProviderNetworks {
  /** `network/vlan` → its attachments on local chassis. */
  private readonly segments = new Map<string, Attachment[]>();
  /** `chassis/datapath/port` of a localnet attachment → its segment. */
  private readonly segmentOf = new Map<string, string>();
  /** Switch name → MAC → the chassis that owns it (as the physical network learns it). */
  private readonly owners: ReadonlyMap<string, ReadonlyMap<string, string>>;
  private readonly memo = new Map<string, SegmentDelivery>();
  /** The MACs of the hosts outside that the physical network has learned (`knowOutside`). */
  private readonly outside = new Set<string>();
  /** `network/vlan` → the MAC of the underlay's gateway there (as `formatMac` writes it). */
  private readonly gatewayMacs = new Map<string, string>();
  /** Provider network → its underlay gateway, as a router (none: `route` off, or no gateways). */
  private readonly routers = new Map<string, UnderlayRouter>();

  /**
   * `opts.route` (default true): the underlay's gateways route between their subnets. Off, frames
   * to them leave, as they do where only OVS is real (the replay oracle).
   */
  constructor(net: Network, plan: PhysicalPlan, opts: { readonly route?: boolean } = {}) {
    for (const pn of plan.providerNetworks.values()) {
      for (const g of pn.gateways) {
        const mac = parseMac(g.mac);
        if (mac === undefined) continue;
        this.outside.add(formatMac(mac));
        this.gatewayMacs.set(`${pn.name}/${g.vlan}`, formatMac(mac));
      }
    }
    const switchOf = new Map<string, string>();
    for (const ls of net.switches.values()) for (const p of ls.ports.values()) switchOf.set(p.name, ls.name);
    for (const c of plan.chassis.values()) {
      if (c.remote) continue;
      for (const ln of c.localnets.values()) {
        const seg = `${ln.network}/${ln.vlan}`;
        let list = this.segments.get(seg);
        if (!list) this.segments.set(seg, (list = []));
        list.push({ chassis: c.name, datapath: ln.datapath, port: ln.port, switchName: switchOf.get(ln.name) ?? "" });
        this.segmentOf.set(`${c.name}/${ln.datapath}/${ln.port}`, seg);
      }
    }
    this.owners = switchMacOwners(net);
    if (opts.route !== false) for (const pn of plan.providerNetworks.values()) if (pn.gateways.length > 0) this.routers.set(pn.name, this.router(pn.name, pn.gateways, plan.underlayHosts));
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
   * learned at its uplinks: frames to it leave. Before the replay (see the invariants).
   */
  knowOutside(hi: number, lo: number): void {
    this.outside.add(macWordsText(hi, lo));
    this.memo.clear();
  }

  /** Where a frame goes that chassis `from` sends out its localnet port `port` of `datapath` to the MAC `hi`/`lo` (key words). */
  receivers(from: string, datapath: number, port: number, hi: number, lo: number): SegmentDelivery {
    const seg = this.segmentOf.get(`${from}/${datapath}/${port}`);
    if (seg === undefined) return LEAVES;
    const k = macWordsText(hi, lo);
    const memoKey = `${from}/${datapath}/${port}/${k}`;
    const hit = this.memo.get(memoKey);
    if (hit !== undefined) return hit;
    const attached = this.segments.get(seg) ?? [];
    const all = attached.filter((a) => !(a.chassis === from && a.datapath === datapath && a.port === port));
    let out: Attachment[];
    let uplink = true;
    if ((hi & 0x0100) !== 0) out = all;
    else if (attached.some((a) => this.owners.get(a.switchName)?.has(k) === true)) {
      out = all.filter((a) => this.owners.get(a.switchName)?.get(k) === a.chassis);
      // The bridge sends it to its uplink unless the owner lives behind one of its patch ports.
      uplink = attached.some((a) => { const on = this.owners.get(a.switchName)?.get(k); return on !== undefined && on !== from; });
    } else out = this.outside.has(k) ? [] : all;
    // A unicast frame for the gateway's MAC is routed on (a broadcast one is not).
    const router = (hi & 0x0100) === 0 && this.gatewayMacs.get(seg) === k ? this.routers.get(seg.slice(0, seg.lastIndexOf("/"))) : undefined;
    const d: SegmentDelivery = { targets: out.map(({ chassis, datapath: dp, port: p }) => ({ chassis, datapath: dp, port: p })), uplink, ...(router !== undefined ? { router } : {}) };
    this.memo.set(memoKey, d);
    return d;
  }
}

/** A frame from a port on no segment: it leaves, and nothing here receives it. */
const LEAVES: SegmentDelivery = { targets: [], uplink: true };

