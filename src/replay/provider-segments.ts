/**
 * Provider networks as `replay` carries frames across them: which chassis a frame that leaves one
 * chassis by a localnet port reaches, as the physical network's learning switches deliver it.
 *
 * What: `ProviderSegments` (the datapath's `ProviderNetworks`) is built once from a network and
 * its physical plan. A segment is a provider network and a VLAN; the localnet attachments of the
 * local chassis hang on their segments. `receivers(from, datapath, port, hi, lo)` gives, for a
 * frame chassis `from` sends out its localnet port `port` of `datapath` to the MAC in key words
 * `hi`/`lo`, the attachments (on other chassis) that receive it:
 * - broadcast and multicast: every attachment of the segment on another chassis, as a switch
 *   floods them;
 * - a unicast MAC a switch port on the segment owns: the chassis it lives on, where a physical
 *   switch has learned it (compile `switchMacOwners`): a VIF's (its addresses' MACs, on the
 *   chassis it is bound to), a distributed gateway port's (on its active gateway chassis, which
 *   sends from it) and a gateway router port's (on the router's chassis);
 * - a MAC of a host outside the simulated network that the physical network has learned at its
 *   uplinks (`knowOutside`: the underlay gateways of `providerNetworks`, and the outside hosts
 *   `--map` sends from): nobody; the frame has left;
 * - any other unicast MAC, which no port of the segment owns and no outside host sent from (a
 *   distributed router port's, which no chassis sends from once chassis MACs replace it, or a
 *   MAC nobody has): a learning switch floods it, so every attachment of the segment on another
 *   chassis, as `trace`'s path (fabric.ts) floods it too. There it reaches only the ports with
 *   `unknown` addresses, if any.
 *
 * Invariants: a chassis never receives its own frame; results are computed once per segment and
 * MAC and kept (`receivers` is called when a megaflow is installed, not per packet), so the
 * outside hosts are made known before the replay starts.
 */
import { formatMac, parseMac } from "../base/index.js";
import { switchMacOwners } from "../compile/index.js";
import { macWordsText, type ProviderNetworks, type SegmentTarget } from "../dataplane/index.js";
import type { Network } from "../model/index.js";
import type { PhysicalPlan } from "../ofp/index.js";

interface Attachment extends SegmentTarget {
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
  private readonly memo = new Map<string, readonly SegmentTarget[]>();
  /** The MACs of the hosts outside that the physical network has learned (`knowOutside`). */
  private readonly outside = new Set<string>();

  constructor(net: Network, plan: PhysicalPlan) {
    for (const pn of plan.providerNetworks.values()) {
      for (const g of pn.gateways) {
        const mac = parseMac(g.mac);
        if (mac !== undefined) this.outside.add(formatMac(mac));
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
  }

  /**
   * A host outside the simulated network, whose MAC (key words `hi`/`lo`) the physical network has
   * learned at its uplinks: frames to it leave. Before the replay (see the invariants).
   */
  knowOutside(hi: number, lo: number): void {
    this.outside.add(macWordsText(hi, lo));
    this.memo.clear();
  }

  /** The attachments that receive what chassis `from` sends out its localnet port `port` of `datapath` to the MAC `hi`/`lo` (key words). */
  receivers(from: string, datapath: number, port: number, hi: number, lo: number): readonly SegmentTarget[] {
    const seg = this.segmentOf.get(`${from}/${datapath}/${port}`);
    if (seg === undefined) return [];
    const k = macWordsText(hi, lo);
    const memoKey = `${from}/${seg}/${k}`;
    const hit = this.memo.get(memoKey);
    if (hit !== undefined) return hit;
    const attached = this.segments.get(seg) ?? [];
    const all = attached.filter((a) => a.chassis !== from);
    let out: Attachment[];
    if ((hi & 0x0100) !== 0) out = all;
    else if (attached.some((a) => this.owners.get(a.switchName)?.has(k) === true)) out = all.filter((a) => this.owners.get(a.switchName)?.get(k) === a.chassis);
    else out = this.outside.has(k) ? [] : all;
    const targets = out.map(({ chassis, datapath: d, port: p }) => ({ chassis, datapath: d, port: p }));
    this.memo.set(memoKey, targets);
    return targets;
  }
}
