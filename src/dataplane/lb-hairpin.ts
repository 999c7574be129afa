/**
 * Load-balancer hairpin as ovn-controller 23.03 programs it (controller/lflow.c): what the logical
 * actions `chk_lb_hairpin()`, `chk_lb_hairpin_reply()` and `ct_snat_to_vip` do on a chassis,
 * where they are OpenFlow tables 68, 69 and 70 built from the Southbound load balancers.
 *
 * A hairpin is a pod reaching a service VIP that is balanced back to the pod itself. The packet
 * leaves the way it came, and its source becomes the VIP (or the load balancer's
 * `hairpin_snat_ip`), so the pod sees a connection from the service, not from itself.
 *
 * - `check` (table 68, `chk_lb_hairpin`): one flow per VIP and backend. It matches a packet that
 *   was load balanced (`ct_mark` bit 1, OVN's `ct_mark.natted`), whose source and destination are
 *   both the backend, and whose original destination (stored by northd in `reg1`, `xxreg1` for
 *   IPv6, and `reg2[0..15]`) is the VIP; for a backend with a port also the protocol and the
 *   backend port. A match answers 1 and learns a table-69 flow for the replies.
 * - `checkReply` (table 69, `chk_lb_hairpin_reply`): the learned flows. Each matches the datapath
 *   (`metadata`), the family, source = the backend, destination = the hairpin source address, the
 *   protocol and, for a backend with a port, source port = that port. Learned flows stay for good
 *   (ovn-controller removes them only with the load balancer).
 * - `snatAction` (table 70, `ct_snat_to_vip`): one flow per VIP matching the family, the original
 *   destination, the protocol and (for a VIP with a port) the original port; its action is
 *   `ct(commit, zone=reg12, nat(src=ADDRESS))` without recirculation. A load balancer with
 *   `hairpin_snat_ip` gets one flow per datapath instead, ahead of the general ones.
 *
 * Megaflows: every check ORs into `wc` the key bits it read (a superset of what OVS's classifier
 * would examine in those tables; sound, possibly narrower). The learned table changes the answers
 * of `checkReply`, so `version` counts learned flows and a flow cache drops its megaflows when it
 * moves, as for learned neighbours.
 *
 * Learning happens where the check answers, also while the flow cache translates a pass: the
 * learned flow is built only from bits the check marked (datapath, addresses, protocol, port), so
 * every packet of the resulting megaflow would learn that same flow again.
 */
import { W, field } from "../flow/index.js";
import type { CtAction, IpAddr, ProgramLoadBalancer } from "../ofp/index.js";

const REG1 = W.REG0 + 1;
const REG2 = W.REG0 + 2;
/** `xxreg1` is reg4..reg7, most significant word first. */
const XXREG1 = W.REG0 + 4;
const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
/** OVN's `ct_mark.natted`. */
const CT_MARK_NATTED = 2;

/** A table-68 flow: VIP and backend. */
interface BackendFlow {
  readonly vip: IpAddr;
  readonly vipPort: number;
  readonly proto: number;
  /** Undefined: the backend has no port, and the flow matches neither protocol nor ports. */
  readonly backendPort: number | undefined;
  /** The learned reply flow's destination: the hairpin source address. */
  readonly snat: IpAddr;
}

/** What a table-70 flow does: the conntrack action, and the source address it gives the packet. */
export interface HairpinSnat {
  readonly action: CtAction;
  /** The address (one word for IPv4, four for IPv6), as key words hold it. */
  readonly to: readonly number[];
}

/** A table-70 flow. */
interface VipFlow {
  readonly proto: number;
  readonly vipPort: number | undefined;
  /** Undefined: any datapath (priority 100); else only these (`hairpin_snat_ip`, priority 200). */
  readonly datapaths: readonly number[] | undefined;
  readonly snat: HairpinSnat;
}

const ZONE_REG12: CtAction["zone"] = { kind: "field", src: { field: field("reg12"), ofs: 0, nbits: 16 } };

export class LbHairpin {
  /** Learned reply flows so far; moves whenever one is added. */
  version = 0;
  private readonly byBackend4 = new Map<number, BackendFlow[]>();
  private readonly byBackend6 = new Map<string, BackendFlow[]>();
  private readonly byVip4 = new Map<number, VipFlow[]>();
  private readonly byVip6 = new Map<string, VipFlow[]>();
  /** Learned flows: datapath, source, destination and protocol → source ports (-1: any). */
  private readonly learned = new Map<string, Set<number>>();
  /** Backend addresses with a learned flow: most packets are answered without building a key. */
  private readonly learnedSources = new Set<string>();

  constructor(lbs: readonly ProgramLoadBalancer[]) {
    // One action per address: the flow cache tells translations apart by the action's identity.
    const snats = new Map<string, HairpinSnat>();
    const snatTo = (ip: readonly number[]): HairpinSnat => {
      const k = ip.join(".");
      let a = snats.get(k);
      if (!a) snats.set(k, (a = { action: { kind: "ct", zone: ZONE_REG12, commit: true, nat: { kind: "snat", range: { ipMin: ip } } }, to: ip }));
      return a;
    };
    for (const lb of lbs) {
      for (const vip of lb.vips) {
        const vipIp = unsigned(vip.ip);
        const v6 = vipIp.length === 4;
        const ownIp = v6 ? lb.hairpinSnatIp.v6 : lb.hairpinSnatIp.v4;
        const own = ownIp && unsigned(ownIp);
        const snat = own ?? vipIp;
        for (const b of vip.backends) {
          const bIp = unsigned(b.ip);
          if ((bIp.length === 4) !== v6) continue;
          const flow: BackendFlow = { vip: vipIp, vipPort: vip.port ?? 0, proto: lb.proto, backendPort: b.port === undefined || b.port === 0 ? undefined : b.port, snat };
          if (v6) push(this.byBackend6, bIp.join(":"), flow);
          else push(this.byBackend4, bIp[0]!, flow);
        }
        const flow: VipFlow = { proto: lb.proto, vipPort: vip.port === 0 ? undefined : vip.port, datapaths: own ? lb.datapaths : undefined, snat: snatTo(snat) };
        if (v6) push(this.byVip6, vipIp.join(":"), flow);
        else push(this.byVip4, vipIp[0]!, flow);
      }
    }
    // The per-datapath flows (priority 200) are tried first.
    for (const m of [this.byVip4, this.byVip6] as Map<unknown, VipFlow[]>[]) {
      for (const l of m.values()) l.sort((a, b) => (a.datapaths ? 0 : 1) - (b.datapaths ? 0 : 1));
    }
  }

  /** Table 68: is this packet a hairpin (and learn its reply flow when it is)? */
  check(key: Uint32Array, wc: Uint32Array | undefined): boolean {
    if (wc) wc[W.CT_MARK] = (wc[W.CT_MARK]! | CT_MARK_NATTED) >>> 0;
    if ((key[W.CT_MARK]! & CT_MARK_NATTED) === 0) return false;
    if (wc) wc[W.ETH_TYPE] = (wc[W.ETH_TYPE]! | 0xffff) >>> 0;
    const et = key[W.ETH_TYPE]! & 0xffff;
    let flows: BackendFlow[] | undefined;
    if (et === ETH_IP) {
      if (wc) wc[W.NW_SRC] = wc[W.NW_DST] = 0xffffffff;
      if (key[W.NW_SRC] !== key[W.NW_DST]) return false;
      flows = this.byBackend4.get(key[W.NW_SRC]!);
      if (!flows) return false;
      if (wc) wc[REG1] = 0xffffffff;
    } else if (et === ETH_IPV6) {
      if (wc) wc.fill(0xffffffff, W.IPV6_SRC, W.IPV6_DST + 4);
      for (let i = 0; i < 4; i++) if (key[W.IPV6_SRC + i] !== key[W.IPV6_DST + i]) return false;
      flows = this.byBackend6.get(words(key, W.IPV6_SRC).join(":"));
      if (!flows) return false;
      if (wc) wc.fill(0xffffffff, XXREG1, XXREG1 + 4);
    } else return false;
    const origDst = et === ETH_IP ? REG1 : XXREG1;
    for (const f of flows) {
      let same = true;
      for (let i = 0; i < f.vip.length; i++) if (key[origDst + i] !== f.vip[i]) same = false;
      if (!same) continue;
      if (f.backendPort !== undefined) {
        if (wc) {
          wc[W.NW] = (wc[W.NW]! | 0xff) >>> 0;
          wc[W.TP] = (wc[W.TP]! | 0xffff) >>> 0;
          wc[REG2] = (wc[REG2]! | 0xffff) >>> 0;
        }
        if ((key[W.NW]! & 0xff) !== f.proto || (key[W.TP]! & 0xffff) !== f.backendPort || (key[REG2]! & 0xffff) !== f.vipPort) continue;
      }
      this.learn(key, et === ETH_IPV6, f, wc);
      return true;
    }
    return false;
  }

  /**
   * Table 69: is this packet a reply of a hairpinned connection? The source port is examined only
   * where a learned flow with a port has the packet's datapath, addresses and protocol, as a staged
   * classifier lookup would reach it.
   */
  checkReply(key: Uint32Array, wc: Uint32Array | undefined): boolean {
    if (this.learned.size === 0) return false;
    if (wc) wc[W.ETH_TYPE] = (wc[W.ETH_TYPE]! | 0xffff) >>> 0;
    const et = key[W.ETH_TYPE]! & 0xffff;
    if (et !== ETH_IP && et !== ETH_IPV6) return false;
    const v6 = et === ETH_IPV6;
    if (wc) {
      if (v6) wc.fill(0xffffffff, W.IPV6_SRC, W.IPV6_SRC + 4);
      else wc[W.NW_SRC] = 0xffffffff;
    }
    const src = v6 ? words(key, W.IPV6_SRC).join(":") : String(key[W.NW_SRC]);
    if (!this.learnedSources.has(src)) return false;
    if (wc) {
      wc[W.METADATA] = 0xffffffff;
      if (v6) wc.fill(0xffffffff, W.IPV6_DST, W.IPV6_DST + 4);
      else wc[W.NW_DST] = 0xffffffff;
      wc[W.NW] = (wc[W.NW]! | 0xff) >>> 0;
    }
    const ports = this.learned.get(`${key[W.METADATA]}|${src}|${v6 ? words(key, W.IPV6_DST).join(":") : key[W.NW_DST]}|${key[W.NW]! & 0xff}`);
    if (ports === undefined) return false;
    if (ports.has(-1)) return true;
    if (wc) wc[W.TP] = (wc[W.TP]! | 0xffff0000) >>> 0;
    return ports.has(key[W.TP]! >>> 16);
  }

  /** Table 70: what `ct_snat_to_vip` does to this packet, if anything. */
  snatAction(key: Uint32Array, wc: Uint32Array | undefined): HairpinSnat | undefined {
    if (wc) wc[W.ETH_TYPE] = (wc[W.ETH_TYPE]! | 0xffff) >>> 0;
    const et = key[W.ETH_TYPE]! & 0xffff;
    let flows: VipFlow[] | undefined;
    if (et === ETH_IP) {
      if (wc) wc[REG1] = 0xffffffff;
      flows = this.byVip4.get(key[REG1]!);
    } else if (et === ETH_IPV6) {
      if (wc) wc.fill(0xffffffff, XXREG1, XXREG1 + 4);
      flows = this.byVip6.get(words(key, XXREG1).join(":"));
    }
    if (!flows) return undefined;
    if (wc) wc[W.NW] = (wc[W.NW]! | 0xff) >>> 0;
    for (const f of flows) {
      if ((key[W.NW]! & 0xff) !== f.proto) continue;
      if (f.vipPort !== undefined) {
        if (wc) wc[REG2] = (wc[REG2]! | 0xffff) >>> 0;
        if ((key[REG2]! & 0xffff) !== f.vipPort) continue;
      }
      if (f.datapaths) {
        if (wc) wc[W.METADATA] = 0xffffffff;
        if (!f.datapaths.includes(key[W.METADATA]!)) continue;
      }
      return f.snat;
    }
    return undefined;
  }

  /** Learned reply flows, as text `datapath|source|destination|protocol|port` (`-`: any port). */
  learnedFlows(): string[] {
    return [...this.learned].flatMap(([k, ports]) => [...ports].map((p) => `${k}|${p < 0 ? "-" : p}`));
  }

  private learn(key: Uint32Array, v6: boolean, f: BackendFlow, wc: Uint32Array | undefined): void {
    if (wc) {
      wc[W.METADATA] = 0xffffffff;
      wc[W.NW] = (wc[W.NW]! | 0xff) >>> 0;
    }
    const src = v6 ? words(key, W.IPV6_SRC).join(":") : String(key[W.NW_SRC]);
    const dst = v6 ? f.snat.join(":") : String(f.snat[0]);
    const k = `${key[W.METADATA]}|${src}|${dst}|${key[W.NW]! & 0xff}`;
    const port = f.backendPort === undefined ? -1 : key[W.TP]! & 0xffff;
    let ports = this.learned.get(k);
    if (ports?.has(port)) return;
    if (!ports) this.learned.set(k, (ports = new Set()));
    ports.add(port);
    this.learnedSources.add(src);
    this.version++;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** An address with its words as unsigned numbers, as keys hold them. */
function unsigned(ip: IpAddr): number[] {
  return ip.map((w) => w >>> 0);
}

function words(key: Uint32Array, at: number): number[] {
  return [key[at]!, key[at + 1]!, key[at + 2]!, key[at + 3]!];
}
