/**
 * Logical flows that exist because of a router's NAT rules and load balancers, as ovn-northd
 * 23.03 writes them: on the router itself and on the switches patched to it.
 *
 * What: `routerNatFlows(net, router)` and `switchNatFlows(net, switch)` list exactly the flows that
 * appear when NAT rows or load balancers are added to a router and disappear when they are removed
 * (checked against real northd in test/compile/router-nat.test.ts as the set difference between the
 * two builds). A router without NAT and without load balancers gets nothing from here. Flows every
 * router has (the priority-0 `next;` defaults of the NAT stages, `nd_ns` in lr_out_snat, the force
 * SNAT flows of `*_force_snat_ip` options) belong to the router pipeline itself, and so do flows
 * whose text NAT merely changes (the self-originated ARP flood of a switch, which lists the NAT
 * external MACs: see `natExternalMacs`; the drop of traffic to router IPs, which leaves out SNAT
 * and VIP addresses: see `routerSnatIps`, `routerLbIps`).
 *
 * How a router's shape selects flows (northd's datapath flags):
 * - A gateway router (`options:chassis`) does NAT in its own conntrack zones, everywhere: plain
 *   `ct_snat`/`ct_dnat`, ARP replies for external IPs on any port, and every packet re-enters the
 *   DNAT zone in lr_out_undnat when it has NAT or a VIP.
 * - A router with distributed gateway ports (DGPs, ports with gateway chassis; never on a gateway
 *   router) does NAT on the DGP's chassis (`is_chassis_resident("cr-PORT")`) in the common zone
 *   (`ct_*_in_czone`), or, for a distributed dnat_and_snat (logical_port + external_mac), on the
 *   chassis of that logical port with the external MAC.
 * - NAT rows of other routers produce only the ARP responder flows; load balancers produce their
 *   flows on every router.
 * - A NAT row is applied only when it passes northd's checks (external IP a host address, logical
 *   IP a host for dnat, a prefix for snat, a known gateway port, not both allowed and exempted
 *   external IPs); the ARP flows only need a parseable external IP.
 *
 * The router's datapath key appears in the name of the address set of its VIPs (`_rtr_lb_K_ip4`),
 * which northd writes into the Southbound database; `routerLbAddressSets` lists them.
 */
import { addressKey, parseCidr, parseMac, formatMac } from "../base/index.js";
import { parseLbEndpoint, type LoadBalancer, type LogicalRouter, type Nat, type Network, type RouterPort } from "../model/index.js";
import { assignTunnelKeys } from "./assign-keys.js";
import { routerAffinityFlows } from "./lb-affinity.js";
import { isDgp, isGatewayRouter, q } from "./router-lrp.js";
import { solicitedNode, type LogicalFlow } from "./switch.js";

const SRC = "compile/router-nat.ts";

/** The egress table northd sends a load balancer's reject to (lr_out_snat). */
const LR_OUT_SNAT_TABLE = 3;
/** The ingress table the egress loopback re-enters at (lr_in_admission). */
const LR_IN_ADMISSION_TABLE = 0;
/** Number of logical registers (reg0..reg9) the loopback clears. */
const LOG_REGS = 10;

/** An address with its family, as northd formats it. */
interface Ip {
  readonly text: string;
  readonly v6: boolean;
}

/** A host address (no prefix, or a full-length one); undefined otherwise. */
function hostIp(text: string): Ip | undefined {
  const c = parseCidr(text.trim());
  if (!c) return undefined;
  if (c.prefixLen !== (c.family === 4 ? 32 : 128)) return undefined;
  return { text: text.trim(), v6: c.family === 6 };
}

/** The router's distributed gateway ports, in port order; a gateway router has none. */
function dgpsOf(lr: LogicalRouter): RouterPort[] {
  if (isGatewayRouter(lr)) return [];
  return [...lr.ports.values()].filter(isDgp);
}

/** Whether the router port has an address in a network that holds `ip`. */
function portReaches(p: RouterPort, ip: string): boolean {
  const a = parseCidr(ip);
  if (!a) return false;
  for (const n of p.networks) {
    const c = parseCidr(n);
    if (!c || c.family !== a.family) continue;
    let ok = true;
    for (let bit = 0; bit < c.prefixLen && ok; bit++) {
      const m = 0x80 >>> (bit & 7);
      if (((c.addr[bit >>> 3] ?? 0) & m) !== ((a.addr[bit >>> 3] ?? 0) & m)) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

/** A NAT row as northd sees it once checked. */
interface NatEntry {
  readonly nat: Nat;
  readonly origin: string;
  readonly v6: boolean;
  readonly ext: string;
  /** Bits of the logical IP's prefix (32/128 for a host). */
  readonly cidrBits: number;
  /** Distributed dnat_and_snat: done on the logical port's chassis with the external MAC. */
  readonly distributed: boolean;
  /** The external MAC, normalised, when distributed. */
  readonly mac: string | undefined;
  /** The DGP the rule applies on; undefined on a gateway router. */
  readonly dgp: RouterPort | undefined;
  readonly stateless: boolean;
}

function natOrigin(lr: LogicalRouter, i: number): string {
  return `routers[${lr.name}].nat[${i}]`;
}

/** The NAT row's external IP when northd can parse it (enough for the ARP/ND flows). */
function natExternalIp(nat: Nat): Ip | undefined {
  return hostIp(nat.externalIp);
}

/** northd's `lrouter_check_nat_entry`: the checked entry, or undefined when the row is not applied. */
function checkNat(lr: LogicalRouter, dgps: readonly RouterPort[], nat: Nat, i: number): NatEntry | undefined {
  if (nat.allowedExtIps !== undefined && nat.exemptedExtIps !== undefined) return undefined;
  const ext = natExternalIp(nat);
  if (!ext) return undefined;
  let dgp: RouterPort | undefined;
  if (nat.gatewayPort === undefined) {
    if (dgps.length === 1) dgp = dgps[0];
    else if (dgps.length > 1) {
      dgp = dgps.find((p) => portOwns(p, ext.text));
      if (!dgp) return undefined;
    }
  } else {
    dgp = dgps.find((p) => p.name === nat.gatewayPort);
    if (!dgp) return undefined;
  }
  const logical = parseCidr(nat.logicalIp.trim());
  if (!logical || (logical.family === 6) !== ext.v6) return undefined;
  const full = logical.family === 4 ? 32 : 128;
  if (nat.type !== "snat" && logical.prefixLen !== full) return undefined;
  let distributed = false;
  let mac: string | undefined;
  if (dgps.length > 0 && nat.type === "dnat_and_snat" && nat.logicalPort !== undefined && nat.externalMac !== undefined) {
    const m = parseMac(nat.externalMac);
    if (!m) return undefined;
    distributed = true;
    mac = formatMac(m);
  }
  return { nat, origin: natOrigin(lr, i), v6: ext.v6, ext: nat.externalIp, cidrBits: logical.prefixLen, distributed, mac, dgp, stateless: nat.stateless && nat.type === "dnat_and_snat" };
}

/** Whether `ip` is one of the port's own addresses. */
function portOwns(p: RouterPort, ip: string): boolean {
  const a = parseCidr(ip);
  if (!a) return false;
  return p.networks.some((n) => {
    const c = parseCidr(n);
    return c !== undefined && c.family === a.family && c.addr.every((b, k) => b === a.addr[k]);
  });
}

/** A load balancer VIP with its backends, parsed. */
interface Vip {
  readonly ip: string;
  readonly v6: boolean;
  readonly port: number | undefined;
  readonly backends: readonly { readonly ip: string; readonly v6: boolean; readonly port: number | undefined }[];
  /** The backends as written in the model (northd copies the NB text). */
  readonly backendText: string;
}

function parseEndpoint(text: string): { ip: string; v6: boolean; port: number | undefined } | undefined {
  const e = parseLbEndpoint(text.trim());
  return typeof e === "string" ? undefined : { ip: e.ip, v6: e.family === 6, port: e.port };
}

function vipsOf(lb: LoadBalancer): Vip[] {
  const out: Vip[] = [];
  for (const [vipText, backends] of lb.vips) {
    const vip = parseEndpoint(vipText);
    if (!vip) continue;
    const parts = backends
      .toArray()
      .flatMap((b) => b.split(","))
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const bs = parts.map(parseEndpoint).filter((e): e is NonNullable<typeof e> => e !== undefined && e.v6 === vip.v6);
    out.push({ ...vip, backends: bs, backendText: parts.join(",") });
  }
  return out;
}

/** The router's load balancers that exist in the network, in attachment order. */
function lbsOf(net: Network, lr: LogicalRouter): LoadBalancer[] {
  const out: LoadBalancer[] = [];
  for (const name of lr.loadBalancers) {
    const lb = net.loadBalancers.get(name);
    if (lb) out.push(lb);
  }
  return out;
}

function lbOrigin(lb: LoadBalancer): string {
  return `loadBalancers[${lb.name}]`;
}

/** VIP addresses of the router's load balancers: all, and those a router port's network holds. */
export interface RouterLbIps {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  readonly v4Reachable: readonly string[];
  readonly v6Reachable: readonly string[];
}

/** The VIP addresses of a router's load balancers (northd's `lb_ips`), without duplicates. */
export function routerLbIps(net: Network, routerName: string): RouterLbIps {
  const lr = net.routers.get(routerName);
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  const v4r = new Set<string>();
  const v6r = new Set<string>();
  if (lr) {
    for (const lb of lbsOf(net, lr)) {
      const mode = lb.options.get("neighbor_responder") ?? "reachable";
      for (const v of vipsOf(lb)) {
        (v.v6 ? v6 : v4).add(v.ip);
        const reach = mode === "all" || (mode !== "none" && [...lr.ports.values()].some((p) => portReaches(p, v.ip)));
        if (reach) (v.v6 ? v6r : v4r).add(v.ip);
      }
    }
  }
  return { v4: [...v4], v6: [...v6], v4Reachable: [...v4r], v6Reachable: [...v6r] };
}

/** The Southbound address sets northd makes for a router's reachable VIPs (`_rtr_lb_K_ip4/6`), addresses sorted. */
export function routerLbAddressSets(net: Network, routerName: string): { readonly name: string; readonly addresses: readonly string[] }[] {
  const ips = routerLbIps(net, routerName);
  const key = routerDatapathKey(net, routerName);
  const out: { name: string; addresses: string[] }[] = [];
  if (ips.v4Reachable.length > 0) out.push({ name: `_rtr_lb_${key}_ip4`, addresses: [...ips.v4Reachable].sort() });
  if (ips.v6Reachable.length > 0) out.push({ name: `_rtr_lb_${key}_ip6`, addresses: [...ips.v6Reachable].sort() });
  return out;
}

/** The datapath tunnel key of a router, as `assignTunnelKeys` gives it (0 for an unknown router). */
export function routerDatapathKey(net: Network, routerName: string): number {
  return assignTunnelKeys(net).routers.get(routerName)?.datapath ?? 0;
}

/** The unique SNAT external IPs of a router (northd's `snat_ips`, NAT part), as written. */
export function routerSnatIps(net: Network, routerName: string): string[] {
  const lr = net.routers.get(routerName);
  if (!lr) return [];
  const out = new Set<string>();
  for (const nat of lr.nat) if (nat.type === "snat" && natExternalIp(nat)) out.add(nat.externalIp);
  return [...out];
}

/** The external MACs of the router's non-snat NAT rows that have one (for the switch's self-originated ARP flood). */
export function natExternalMacs(net: Network, routerName: string): string[] {
  const lr = net.routers.get(routerName);
  if (!lr) return [];
  const out = new Set<string>();
  for (const nat of lr.nat) if (nat.type !== "snat" && nat.externalMac !== undefined && natExternalIp(nat)) out.add(nat.externalMac);
  return [...out];
}

/** Collects flows, dropping exact duplicates (northd keeps one of identical flows). */
class Flows {
  readonly list: LogicalFlow[] = [];
  private readonly seen = new Set<string>();

  add(pipeline: "ingress" | "egress", stage: string, priority: number, match: string, actions: string, origin: string, rule: string): void {
    const key = `${pipeline}\t${stage}\t${priority}\t${match}\t${actions}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ pipeline, stage, priority, match, actions, origin, source: `${SRC}:${rule}` });
  }
}

function arpReply(mac: string): string {
  return `eth.dst = eth.src; eth.src = ${mac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${mac}; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;`;
}

function ndReply(mac: string): string {
  return `nd_na { eth.src = ${mac}; ip6.src = nd.target; nd.tll = ${mac}; outport = inport; flags.loopback = 1; output; };`;
}

/** northd's ARP (IPv4) or NS (IPv6) responder for a router-owned address, in lr_in_ip_input. */
function ownerReply(f: Flows, port: RouterPort | undefined, ip: Ip, mac: string, extra: string | undefined, drop: boolean, prio: number, origin: string, rule: string): void {
  const inport = port ? `inport == ${q(port.name)} && ` : "";
  const tail = extra ? ` && ${extra}` : "";
  if (ip.v6) {
    const sn = ip.text.startsWith("$") ? "" : `ip6.dst == {${ip.text}, ${solicitedNode(ip.text)}} && `;
    f.add("ingress", "lr_in_ip_input", prio, `${inport}${sn}nd_ns && nd.target == ${ip.text}${tail}`, drop ? "drop;" : ndReply(mac), origin, rule);
  } else {
    f.add("ingress", "lr_in_ip_input", prio, `${inport}arp.op == 1 && arp.tpa == ${ip.text}${tail}`, drop ? "drop;" : arpReply(mac), origin, rule);
  }
}

const REG_INPORT_ETH = "xreg0[0..47]";

/** The NAT rows whose external IP parses (the ARP/ND responders need no more), with their index. */
function parsedNats(lr: LogicalRouter): { nat: Nat; i: number; ip: Ip }[] {
  const out: { nat: Nat; i: number; ip: Ip }[] = [];
  lr.nat.forEach((nat, i) => {
    const ip = natExternalIp(nat);
    if (ip) out.push({ nat, i, ip });
  });
  return out;
}

/** Non-snat rows, then the first snat row of each distinct external IP (northd's order of ARP entries). */
function arpEntries(lr: LogicalRouter): { nat: Nat; i: number; ip: Ip }[] {
  const all = parsedNats(lr);
  const seen = new Set<string>();
  const snat: { nat: Nat; i: number; ip: Ip }[] = [];
  for (const e of all) {
    if (e.nat.type !== "snat" || seen.has(e.ip.text)) continue;
    seen.add(e.ip.text);
    snat.push(e);
  }
  return [...all.filter((e) => e.nat.type !== "snat"), ...snat];
}

/** The router flows ovn-northd 23.03 writes because of NAT rows and router load balancers. */
export function routerNatFlows(net: Network, routerName: string): LogicalFlow[] {
  const lr = net.routers.get(routerName);
  if (!lr) return [];
  const f = new Flows();
  const gw = isGatewayRouter(lr);
  const dgps = dgpsOf(lr);
  const lbs = lbsOf(net, lr);
  const hasLbVip = lbs.some((lb) => lb.vips.size > 0);
  const routerOrigin = `routers[${lr.name}]`;

  arpResponders(f, net, lr, dgps);
  if (gw && (lr.nat.size > 0 || hasLbVip)) {
    f.add("egress", "lr_out_undnat", 100, "nd || nd_rs || nd_ra", "next;", routerOrigin, "gw-undnat-nd");
    f.add("egress", "lr_out_undnat", 50, "ip", "flags.loopback = 1; ct_dnat;", routerOrigin, "gw-undnat");
    f.add("egress", "lr_out_post_undnat", 50, "ip && ct.new", "ct_commit { } ; next; ", routerOrigin, "gw-post-undnat");
  }
  if (hasLbVip) lbEstablished(f, routerOrigin);
  ownSnatDrop(f, net, lr);
  if (gw || dgps.length > 0) natRules(f, net, lr, gw, dgps);
  for (const lb of lbs) lbFlows(f, lr, lb, gw, dgps);
  return f.list;
}

/** ARP/ND replies for NAT external IPs (router-wide and on DGPs) and for reachable VIPs (per port). */
function arpResponders(f: Flows, net: Network, lr: LogicalRouter, dgps: readonly RouterPort[]): void {
  const entries = arpEntries(lr);
  for (const e of entries) ownerReply(f, undefined, e.ip, REG_INPORT_ETH, undefined, false, 90, natOrigin(lr, e.i), "nat-arp");
  for (const p of dgps) {
    for (const e of entries) {
      if (dgps.length > 1 && (e.nat.gatewayPort === undefined ? !portOwns(p, e.ip.text) : e.nat.gatewayPort !== p.name)) continue;
      const mac = e.nat.externalMac !== undefined && parseMac(e.nat.externalMac) && e.nat.logicalPort !== undefined ? e.nat.externalMac : undefined;
      const resident = mac !== undefined ? `is_chassis_resident(${q(e.nat.logicalPort ?? "")})` : `is_chassis_resident(${q(`cr-${p.name}`)})`;
      ownerReply(f, p, e.ip, mac ?? REG_INPORT_ETH, resident, false, 92, natOrigin(lr, e.i), "nat-arp-dgp");
      ownerReply(f, p, e.ip, mac ?? REG_INPORT_ETH, undefined, true, 91, natOrigin(lr, e.i), "nat-arp-dgp-drop");
    }
  }
  const ips = routerLbIps(net, lr.name);
  const key = routerDatapathKey(net, lr.name);
  for (const p of lr.ports.values()) {
    const resident = isDgp(p) && dgps.includes(p) ? `is_chassis_resident(${q(`cr-${p.name}`)})` : undefined;
    if (ips.v4Reachable.length > 0) ownerReply(f, p, { text: `$_rtr_lb_${key}_ip4`, v6: false }, REG_INPORT_ETH, resident, false, 90, `routers[${lr.name}]`, "lb-arp");
    if (ips.v6Reachable.length > 0) ownerReply(f, p, { text: `$_rtr_lb_${key}_ip6`, v6: true }, REG_INPORT_ETH, resident, false, 90, `routers[${lr.name}]`, "lb-nd");
  }
}

/** Canonical text of an address, for comparing addresses written differently. */
function canon(ip: string): string {
  return addressKey(ip) ?? ip;
}

/**
 * lr_in_arp_resolve: traffic to a router port address that is also a SNAT address or a VIP was
 * let through lr_in_ip_input to be unSNATed or load-balanced; if that did not happen, drop it.
 * (The addresses of `*_force_snat_ip` options count as SNAT addresses too.)
 */
function ownSnatDrop(f: Flows, net: Network, lr: LogicalRouter): void {
  const lb = routerLbIps(net, lr.name);
  const natSide = new Set([...routerSnatIps(net, lr.name), ...lb.v4, ...lb.v6].map(canon));
  if (natSide.size === 0) return;
  const special = new Set(natSide);
  for (const k of ["dnat_force_snat_ip", "lb_force_snat_ip"]) {
    for (const t of (lr.options.get(k) ?? "").split(/\s+/)) if (t !== "" && t !== "router_ip") special.add(canon(t));
  }
  for (const p of lr.ports.values()) {
    for (const v6 of [false, true]) {
      const ips = p.networks.map((n) => n.split("/")[0] ?? "").filter((ip) => parseCidr(ip)?.family === (v6 ? 6 : 4) && special.has(canon(ip)));
      if (ips.size === 0 || !ips.some((ip) => natSide.has(canon(ip)))) continue;
      f.add("ingress", "lr_in_arp_resolve", 2, `ip${v6 ? "6" : "4"}.dst == {${ips.join(", ")}}`, "drop;", `routers[${lr.name}].ports[${p.name}]`, "drop-unsnat-failed");
    }
  }
}

/** lr_in_dnat: established and related traffic of load-balanced connections. */
function lbEstablished(f: Flows, origin: string): void {
  const rel = "ct.rel && !ct.est && !ct.new";
  f.add("ingress", "lr_in_dnat", 70, `${rel} && ct_mark.skip_snat == 1`, "flags.skip_snat_for_lb = 1; ct_commit_nat;", origin, "lb-related-skip-snat");
  f.add("ingress", "lr_in_dnat", 70, `${rel} && ct_mark.force_snat == 1`, "flags.force_snat_for_lb = 1; ct_commit_nat;", origin, "lb-related-force-snat");
  f.add("ingress", "lr_in_dnat", 50, rel, "ct_commit_nat;", origin, "lb-related");
  const est = "ct.est && !ct.rel && !ct.new && ct_mark.natted";
  f.add("ingress", "lr_in_dnat", 70, `${est} && ct_mark.skip_snat == 1`, "flags.skip_snat_for_lb = 1; next;", origin, "lb-est-skip-snat");
  f.add("ingress", "lr_in_dnat", 70, `${est} && ct_mark.force_snat == 1`, "flags.force_snat_for_lb = 1; next;", origin, "lb-est-force-snat");
  f.add("ingress", "lr_in_dnat", 50, est, "next;", origin, "lb-est");
}

/** The match extension (and exempt flow) of allowed_ext_ips / exempted_ext_ips. */
function extIpMatch(f: Flows, e: NatEntry, gw: boolean, match: string, isSrc: boolean): string {
  const fam = e.v6 ? "6" : "4";
  const dir = isSrc ? "src" : "dst";
  if (e.nat.allowedExtIps !== undefined) return `${match} && ip${fam}.${dir} == $${e.nat.allowedExtIps}`;
  if (e.nat.exemptedExtIps !== undefined) {
    const prio = isSrc ? 102 : e.cidrBits + 3 + (gw ? 0 : 128);
    f.add(isSrc ? "ingress" : "egress", isSrc ? "lr_in_dnat" : "lr_out_snat", prio, `${match} && ip${fam}.${dir} == $${e.nat.exemptedExtIps}`, "next;", e.origin, "nat-exempted-ext-ips");
  }
  return match;
}

/** The per-rule NAT flows of a gateway router or a router with DGPs. */
function natRules(f: Flows, net: Network, lr: LogicalRouter, gw: boolean, dgps: readonly RouterPort[]): void {
  const arpResolved = new Set<string>();
  lr.nat.forEach((nat, i) => {
    const e = checkNat(lr, dgps, nat, i);
    if (!e) return;
    const fam = e.v6 ? "6" : "4";
    const dgp = e.dgp;
    const dgpKey = dgp ? q(dgp.name) : "";
    const crResident = dgp ? `is_chassis_resident(${q(`cr-${dgp.name}`)})` : "";
    const lpResident = `is_chassis_resident(${q(nat.logicalPort ?? "")})`;
    const central = !e.distributed && dgps.length > 0;
    const range = nat.externalPortRange ? `,${nat.externalPortRange}` : "";
    const isSnat = nat.type === "snat" || nat.type === "dnat_and_snat";
    const isDnat = nat.type === "dnat" || nat.type === "dnat_and_snat";

    // lr_in_unsnat: replies to SNATed connections.
    if (isSnat) {
      if (gw) {
        f.add("ingress", "lr_in_unsnat", 90, `ip && ip${fam}.dst == ${e.ext}`, e.stateless ? "next;" : "ct_snat;", e.origin, "unsnat");
      } else if (dgp) {
        const base = `ip && ip${fam}.dst == ${e.ext} && inport == ${dgpKey}`;
        const res = central ? ` && ${crResident}` : "";
        f.add("ingress", "lr_in_unsnat", 100, `${base} && flags.loopback == 0${res}`, e.stateless ? "next;" : "ct_snat_in_czone;", e.origin, "unsnat");
        if (!e.stateless) f.add("ingress", "lr_in_unsnat", 100, `${base} && flags.loopback == 1 && flags.use_snat_zone == 1${res}`, "ct_snat;", e.origin, "unsnat-loopback");
      }
    }
    // lr_in_dnat: towards the logical IP.
    if (isDnat) {
      if (gw) {
        const m = extIpMatch(f, e, gw, `ip && ip${fam}.dst == ${e.ext}`, true);
        const force = lr.options.get("dnat_force_snat_ip") !== undefined ? "flags.force_snat_for_dnat = 1; " : "";
        const act = e.stateless ? `flags.loopback = 1; ip${fam}.dst=${nat.logicalIp}; next;` : `flags.loopback = 1; ct_dnat(${nat.logicalIp}${range});`;
        f.add("ingress", "lr_in_dnat", 100, m, `${force}${act}`, e.origin, "dnat");
      } else if (dgp) {
        const m = extIpMatch(f, e, gw, `ip && ip${fam}.dst == ${e.ext} && inport == ${dgpKey}${central ? ` && ${crResident}` : ""}`, true);
        const act = e.stateless ? `ip${fam}.dst=${nat.logicalIp}; next;` : `ct_dnat_in_czone(${nat.logicalIp}${range});`;
        f.add("ingress", "lr_in_dnat", 100, m, act, e.origin, "dnat");
      }
    }
    // lr_in_arp_resolve: external IPs of a distributed router, once per IP.
    if (!gw && dgp && !arpResolved.has(e.ext)) {
      arpResolved.add(e.ext);
      f.add("ingress", "lr_in_arp_resolve", 150, `inport == ${dgpKey} && outport == ${dgpKey} && ip${fam}.dst == ${e.ext}`, "drop;", e.origin, "nat-arp-resolve-drop");
      f.add("ingress", "lr_in_arp_resolve", 100, `outport == ${dgpKey} && ${e.v6 ? "xxreg0" : "reg0"} == ${e.ext}`, `eth.dst = ${e.distributed ? (nat.externalMac ?? "") : dgp.mac}; next;`, e.origin, "nat-arp-resolve");
      if (e.distributed && dgps[0] && dgps[0].options.get("redirect-type") === "bridged") {
        f.add("ingress", "lr_in_arp_resolve", 90, `outport == ${q(dgps[0].name)} && ip${fam}.src == ${nat.logicalIp} && ${lpResident}`, e.v6 ? "get_nd(outport, xxreg0); next;" : "get_arp(outport, reg0); next;", e.origin, "nat-arp-resolve-bridged");
      }
    }
    if (dgp) {
      // lr_out_chk_dnat_local: the external IP is handled on this chassis.
      f.add("egress", "lr_out_chk_dnat_local", 50, `ip && ip${fam}.dst == ${e.ext} && ${e.distributed ? lpResident : crResident}`, "reg9[4] = 1; next;", e.origin, "dnat-local");
      // lr_out_undnat: replies from the logical IP.
      if (isDnat) {
        const m = `ip && ip${fam}.src == ${nat.logicalIp} && outport == ${dgpKey}${central ? ` && ${crResident}` : ""}`;
        const mac = e.distributed ? `eth.src = ${e.mac ?? ""}; ` : "";
        f.add("egress", "lr_out_undnat", 100, m, `${mac}${e.stateless ? "next;" : "ct_dnat_in_czone;"}`, e.origin, "undnat");
      }
    }
    // lr_out_snat.
    if (isSnat) {
      if (gw) {
        let m = extIpMatch(f, e, gw, `ip && ip${fam}.src == ${nat.logicalIp}`, false);
        let act: string;
        if (e.stateless) act = `ip${fam}.src=${e.ext}; next;`;
        else {
          m += " && (!ct.trk || !ct.rpl)";
          act = `ct_snat(${e.ext}${range});`;
        }
        f.add("egress", "lr_out_snat", e.cidrBits + 1, m, act, e.origin, "snat");
      } else if (dgp) {
        const prio = e.cidrBits + 1 + 128;
        let m = `ip && ip${fam}.src == ${nat.logicalIp} && outport == ${dgpKey} && ${e.distributed ? lpResident : crResident}`;
        m = extIpMatch(f, e, gw, m, false);
        const mac = e.distributed ? `eth.src = ${e.mac ?? ""}; ` : "";
        f.add("egress", "lr_out_snat", prio, m, `${mac}${e.stateless ? `ip${fam}.src=${e.ext}; next;` : `ct_snat_in_czone(${e.ext}${range});`}`, e.origin, "snat");
        if (!e.stateless) f.add("egress", "lr_out_snat", prio + 1, `${m} && reg9[4] == 1`, `${mac}reg9[4] = 0; ct_snat(${e.ext}${range});`, e.origin, "snat-local");
      }
    }
    // lr_in_ip_input / lr_in_admission.
    if (dgp && nat.type === "snat") {
      f.add("ingress", "lr_in_ip_input", 120, `inport == ${dgpKey} && ip${fam}.src == ${e.ext}`, "next;", e.origin, "snat-from-external");
    }
    if (e.distributed && dgp) {
      const m = `eth.dst == ${e.mac ?? ""} && inport == ${dgpKey} && ${lpResident}`;
      const mtu = Math.trunc(Number(dgp.options.get("gateway_mtu") ?? "0")) || 0;
      const check = mtu > 0 ? `reg9[1] = check_pkt_larger(${mtu + l2HeaderSize(net, dgp)}); ` : "";
      f.add("ingress", "lr_in_admission", 50, m, `${check}xreg0[0..47] = ${dgp.mac}; next;`, e.origin, "nat-admission");
      const bypass = dgp.options.get("gateway_mtu_bypass");
      if (mtu > 0 && bypass !== undefined) f.add("ingress", "lr_in_admission", 55, `${m} && (${bypass})`, `xreg0[0..47] = ${dgp.mac}; next;`, e.origin, "nat-admission-mtu-bypass");
      if (mtu > 0) {
        const m4 = `inport == ${dgpKey} && reg9[1] && reg9[0] == 0 && ${e.v6 ? "ip6 && ip6" : "ip4 && ip4"}.dst == ${e.ext}`;
        const err = e.v6
          ? `icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = ${nat.externalMac ?? ""}; ip6.dst = ip6.src; ip6.src = ${e.ext}; ip.ttl = 254; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = ${mtu}; outport = ${dgpKey}; flags.loopback = 1; output; };`
          : `icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = ${nat.externalMac ?? ""}; ip4.dst = ip4.src; ip4.src = ${e.ext}; ip.ttl = 254; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = ${mtu}; outport = ${dgpKey}; flags.loopback = 1; output; };`;
        f.add("ingress", "lr_in_ip_input", 160, m4, err, e.origin, "nat-too-big");
      }
    }
    // lr_in_gw_redirect: distributed NAT leaves from the logical port's chassis.
    if (e.distributed && dgp) {
      const m = `ip${fam}.src == ${nat.logicalIp} && outport == ${dgpKey}`;
      const lsp = findSwitchPort(net, nat.logicalPort ?? "");
      if (lsp?.type === "virtual") f.add("ingress", "lr_in_gw_redirect", 80, m, "drop;", e.origin, "nat-gw-redirect-virtual");
      f.add("ingress", "lr_in_gw_redirect", 100, `${m} && ${lpResident}`, `eth.src = ${nat.externalMac ?? ""}; ${e.v6 ? "xxreg1" : "reg1"} = ${e.ext}; next;`, e.origin, "nat-gw-redirect");
    }
    // lr_out_egr_loop: traffic to an external IP of this router loops back into the ingress pipeline.
    if (dgp) {
      const regs = Array.from({ length: LOG_REGS }, (_, j) => `reg${j} = 0; `).join("");
      const act = `clone { ct_clear; inport = outport; outport = ""; eth.dst <-> eth.src; flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; ${regs}reg9[0] = 1; next(pipeline=ingress, table=${LR_IN_ADMISSION_TABLE}); };`;
      f.add("egress", "lr_out_egr_loop", 100, `ip${fam}.dst == ${e.ext} && outport == ${dgpKey} && ${e.distributed ? lpResident : crResident}`, act, e.origin, "egress-loopback");
    }
  });
  if (lr.nat.size > 0) f.add("egress", "lr_out_chk_dnat_local", 50, "ip && ct_mark.natted == 1", "reg9[4] = 1; next;", `routers[${lr.name}]`, "dnat-local-natted");
}

/** Ethernet header size on the DGP's switch: 18 when a localnet port there is VLAN-tagged. */
function l2HeaderSize(net: Network, dgp: RouterPort): number {
  for (const ls of net.switches.values()) {
    const patched = ls.ports.some((p) => p.type === "router" && p.options.get("router-port") === dgp.name);
    if (patched && ls.ports.some((p) => p.type === "localnet" && p.tag !== undefined)) return 18;
  }
  return 14;
}

function findSwitchPort(net: Network, name: string): { type: string } | undefined {
  for (const ls of net.switches.values()) {
    const p = ls.ports.get(name);
    if (p) return p;
  }
  return undefined;
}

/** Router options that make load-balanced traffic SNATed (`lb_force_snat_ip`). */
function lbForceSnat(lr: LogicalRouter): boolean {
  const v = lr.options.get("lb_force_snat_ip");
  if (v === undefined) return false;
  if (v === "router_ip") return isGatewayRouter(lr);
  return v.split(/\s+/).some((t) => parseCidr(t) !== undefined);
}

/** The load balancer's flows on a router: defrag, DNAT to backends, un-DNAT of replies on a DGP. */
function lbFlows(f: Flows, lr: LogicalRouter, lb: LoadBalancer, gw: boolean, dgps: readonly RouterPort[]): void {
  const origin = lbOrigin(lb);
  const skipSnat = lb.options.get("skip_snat") === "true";
  const force = !skipSnat && lbForceSnat(lr);
  const rejectEmpty = lb.options.get("reject") === "true";
  const natIps = new Set(lr.nat.map((n) => n.externalIp));
  const fields = selectionFields(lb);
  for (const v of vipsOf(lb)) {
    const ipm = v.v6 ? "ip6" : "ip4";
    f.add("ingress", "lr_in_defrag", 100, `ip && ${ipm}.dst == ${v.ip}`, "ct_dnat;", origin, "lb-defrag");
    const prio = v.port === undefined ? 110 : 120;
    const match = `ct.new && !ct.rel && ${ipm} && ${ipm}.dst == ${v.ip}${v.port === undefined ? "" : ` && ${lb.protocol} && ${lb.protocol}.dst == ${v.port}`}`;
    const empty = v.backends.length === 0;
    const reject = empty && rejectEmpty;
    let base: string;
    if (reject) base = `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${LR_OUT_SNAT_TABLE});};`;
    else if (empty) base = "drop;";
    else base = `ct_lb_mark(backends=${v.backendText}${fields ? `; hash_fields=${q(fields)}` : ""}`;
    const isLb = !empty;
    let action: string;
    if (skipSnat) action = `flags.skip_snat_for_lb = 1; ${base}${isLb ? "; skip_snat);" : ""}`;
    else if (force) action = `flags.force_snat_for_lb = 1; ${base}${isLb ? "; force_snat);" : ""}`;
    else action = `${base}${isLb ? ");" : ""}`;
    for (const a of routerAffinityFlows(lb, v, v.backends, match, lbForceSnat(lr))) f.add("ingress", a.stage, a.priority, a.match, a.actions, origin, "lb-affinity");
    const dgp = dgps[0];
    if (!dgp) {
      f.add("ingress", "lr_in_dnat", prio, match, action, origin, "lb-vip");
    } else {
      const cr = `is_chassis_resident(${q(`cr-${dgp.name}`)})`;
      f.add("ingress", "lr_in_dnat", prio, !empty || !rejectEmpty ? `${match} && ${cr}` : match, action, origin, "lb-vip");
      if (!empty) {
        const bs = v.backends.map((b) => `(${ipm}.src == ${b.ip}${b.port === undefined ? "" : ` && ${lb.protocol}.src == ${b.port}`})`).join(" || ");
        const undo = force ? "flags.force_snat_for_lb = 1; next;" : skipSnat ? "flags.skip_snat_for_lb = 1; next;" : gw ? "ct_dnat;" : "ct_dnat_in_czone;";
        f.add("egress", "lr_out_undnat", 120, `${ipm} && (${bs}) && outport == ${q(dgp.name)} && ${cr}`, undo, origin, "lb-undnat");
      }
    }
    if (natIps.has(v.ip)) {
      f.add("ingress", "lr_in_unsnat", 120, `${ipm} && ${ipm}.dst == ${v.ip} && ${lb.protocol}${v.port === undefined ? "" : ` && ${lb.protocol}.dst == ${v.port}`}`, "next;", origin, "lb-vip-is-nat-ip");
    }
  }
  if (skipSnat) f.add("egress", "lr_out_snat", 120, "flags.skip_snat_for_lb == 1 && ip", "next;", origin, "lb-skip-snat");
}

/** `selection_fields` as northd writes them into `hash_fields` (sorted; tp_* named after the protocol). */
function selectionFields(lb: LoadBalancer): string {
  return lb.selectionFields
    .toArray()
    .sort()
    .map((s) => (s === "tp_src" || s === "tp_dst" ? `${lb.protocol}_${s.slice(3)}` : s))
    .join(",");
}

/** The switch flows ovn-northd 23.03 writes because an attached router has NAT or load balancers. */
export function switchNatFlows(net: Network, switchName: string): LogicalFlow[] {
  const ls = net.switches.get(switchName);
  if (!ls) return [];
  const f = new Flows();
  const routerPorts = [...ls.ports.values()].filter((p) => p.type === "router");
  const onlyRouters = routerPorts.length === ls.ports.size;
  for (const sp of routerPorts) {
    const rpName = sp.options.get("router-port");
    if (rpName === undefined) continue;
    const lr = net.routers.find((r) => r.ports.has(rpName));
    const rp = lr?.ports.get(rpName);
    if (!lr || !rp) continue;
    switchArpForward(f, net, sp.name, lr, rp, onlyRouters);
    if (sp.addresses.includes("router") && dgpsOf(lr).includes(rp)) {
      lr.nat.forEach((nat, i) => {
        if (nat.type !== "dnat_and_snat" || nat.logicalPort === undefined || nat.externalMac === undefined) return;
        const m = parseMac(nat.externalMac);
        if (!m) return;
        f.add("ingress", "ls_in_l2_lkup", 50, `eth.dst == ${formatMac(m)} && is_chassis_resident(${q(nat.logicalPort)})`, `outport = ${q(sp.name)}; output;`, natOrigin(lr, i), "nat-external-mac");
      });
    }
  }
  return f.list;
}

/** ls_in_l2_lkup: ARP/NS for VIPs and NAT external IPs of the router go to its port (and are flooded). */
function switchArpForward(f: Flows, net: Network, spName: string, lr: LogicalRouter, rp: RouterPort, onlyRouters: boolean): void {
  if (!rp.enabled) return;
  const action = onlyRouters ? `outport = ${q(spName)}; output;` : `clone {outport = ${q(spName)}; output; }; outport = "_MC_flood_l2"; output;`;
  const add = (ip: Ip, origin: string, rule: string): void => {
    const m = ip.v6 ? `flags[1] == 0 && nd_ns && nd.target == ${ip.text}` : `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip.text}`;
    f.add("ingress", "ls_in_l2_lkup", 80, m, action, origin, rule);
  };
  const lbIps = routerLbIps(net, lr.name);
  for (const lb of lbsOf(net, lr)) {
    for (const v of vipsOf(lb)) if (portReaches(rp, v.ip)) add({ text: v.ip, v6: v.v6 }, lbOrigin(lb), "lb-vip-arp-forward");
  }
  const lbSet = new Set([...lbIps.v4, ...lbIps.v6]);
  for (const e of parsedNats(lr)) {
    if (e.nat.type === "snat" || lbSet.has(e.ip.text)) continue;
    add(e.ip, natOrigin(lr, e.i), "nat-arp-forward");
  }
}
