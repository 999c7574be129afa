/**
 * The logical-router pipelines, generated as the logical flows ovn-northd 23.03 writes for a
 * logical router datapath, except those that exist because of NAT rules or router load balancers
 * (`router-nat.ts` makes those; they are appended here).
 *
 * What: `routerLogicalFlows(network, name)` lists the ingress and egress flows of one router, each
 * with its stage (`lr_in_ip_routing`...), priority, match and actions text, the model path of the
 * object it came from (`routers[lr0].staticRoutes[1]`, `routers[lr0].ports[lrp1]`, a switch port
 * for neighbour entries, or the router itself for fixed flows) and the rule here that made it.
 *
 * Stages: admission (per-port MAC; a distributed gateway port's MAC only where its cr- port is
 * resident), neighbour lookup and learning (`always_learn_from_arp_request`), IP input (martian
 * sources, own-address drops, ARP/ND replies, echo replies, TTL exceeded, port unreachable),
 * routing (connected networks, static routes by prefix length with route tables in reg7, src-ip
 * routes, discard routes, ECMP groups), policies (allow, drop, reroute to one or several next
 * hops), neighbour resolution from the attached switches' addresses and peer routers, gateway
 * redirect to cr- ports, ARP/ND requests for unresolved next hops, gateway MTU checks
 * (`gateway_mtu`: packet-size checks and ICMP "too big" errors), and egress delivery.
 *
 * Flows that NAT changes are made here in their NAT form: a router IP that is also a SNAT
 * external IP or load balancer VIP is left out of the own-address drop, and with
 * `lb_force_snat_ip=router_ip` on a gateway router there is no own-address drop at all.
 *
 * Order-dependent numbering (route table ids, ECMP group and member ids) follows model order;
 * ovn-northd follows the Northbound row order, which equals it for a database built one object at
 * a time only when row UUIDs happen to sort the same way.
 *
 * A router name that is not in the network gives no flows.
 */
import { formatIpv4, formatIpv6, ipv4FromBytes, parseCidr, parseIpv6, type Cidr } from "../base/index.js";
import type { LogicalRouter, Network, RouterPort } from "../model/index.js";
import { assignTunnelKeys } from "./assign-keys.js";
import { routerNatFlows } from "./router-nat.js";
import { isDgp, isGatewayRouter, crPortName, lrpNetworks, memberIp, prefixOf, q, routerPeerOf, routerPortsOfSwitch, switchPeerOf, type LrpNetworks } from "./router-lrp.js";
import { stageTable } from "./stages.js";
import { parsePortAddress, solicitedNode, type FlowPipeline, type LogicalFlow } from "./switch.js";

const SOURCE = "compile/router.ts";

// Registers (northd's REG_* and REGBIT_* names, as text).
const REG = {
  nextHop4: "reg0",
  nextHop6: "xxreg0",
  src4: "reg1",
  src6: "xxreg1",
  routeTable: "reg7",
  ecmpGroup: "reg8[0..15]",
  ecmpMember: "reg8[16..31]",
  inportEth: "xreg0[0..47]",
  egressLoopback: "reg9[0]",
  pktLarger: "reg9[1]",
  lookupResult: "reg9[2]",
  lookupIpResult: "reg9[3]",
  dstNatIpLocal: "reg9[4]",
  knownEcmpNh: "reg9[5]",
} as const;

const DROP = "drop;";

type RouterStage = string;

class FlowList {
  readonly flows: LogicalFlow[] = [];
  private readonly defaultOrigin: string;
  constructor(defaultOrigin: string) {
    this.defaultOrigin = defaultOrigin;
  }
  add(stage: RouterStage, priority: number, match: string, actions: string, rule: string, origin = this.defaultOrigin): void {
    const pipeline: FlowPipeline = stage.startsWith("lr_in_") ? "ingress" : "egress";
    this.flows.push({ pipeline, stage, priority, match, actions, origin, source: `${SOURCE}:${rule}` });
  }
  /** Flows `addOnce` added, by stage, priority, match and actions. */
  private readonly once = new Set<string>();
  /**
   * `add`, unless this very flow was added by `addOnce` before: northd keeps one logical flow of
   * identical ones (its flow table is keyed by them), which some of its loops make more than once.
   */
  addOnce(stage: RouterStage, priority: number, match: string, actions: string, rule: string, origin = this.defaultOrigin): void {
    const id = `${stage}\n${priority}\n${match}\n${actions}`;
    if (this.once.has(id)) return;
    this.once.add(id);
    this.add(stage, priority, match, actions, rule, origin);
  }
}

/** A router port with what northd derives from it. */
interface Lrp {
  readonly port: RouterPort;
  readonly nets: LrpNetworks;
  readonly key: string;
  readonly origin: string;
  readonly dgp: boolean;
}

function portsOf(lr: LogicalRouter): Lrp[] {
  const out: Lrp[] = [];
  for (const port of lr.ports.values()) {
    const nets = lrpNetworks(port);
    if (!nets) continue;
    out.push({ port, nets, key: q(port.name), origin: `routers[${lr.name}].ports[${port.name}]`, dgp: isDgp(port) });
  }
  return out;
}

/** `a` or `{a, b, ...}` (northd's op_put_v4_networks / op_put_v6_networks). */
function addrSet(addrs: readonly string[], forceBraces = false): string {
  return addrs.length === 1 && !forceBraces ? addrs[0]! : `{${addrs.join(", ")}}`;
}

/** The router's own IPs that are also SNAT external IPs or load balancer VIPs. */
function natOwnedIps(net: Network, lr: LogicalRouter): Set<string> {
  const out = new Set<string>();
  for (const n of lr.nat) if (n.type === "snat" || n.type === "dnat_and_snat") out.add(n.externalIp.trim());
  for (const name of lr.loadBalancers) {
    const lb = net.loadBalancers.get(name);
    if (!lb) continue;
    for (const vip of lb.vips.keys()) {
      const m = /^\[([^\]]+)\]/.exec(vip);
      out.add(m ? (prefixOf(m[1]!)?.network ?? m[1]!) : (vip.split(":").length === 2 ? vip.split(":")[0]! : (prefixOf(vip)?.network ?? vip)));
    }
  }
  return out;
}

/** The ingress and egress flows of router `routerName`. */
export function routerLogicalFlows(net: Network, routerName: string): LogicalFlow[] {
  const lr = net.routers.get(routerName);
  if (!lr) return [];
  const f = new FlowList(`routers[${lr.name}]`);
  const ports = portsOf(lr);
  const isGwRouter = isGatewayRouter(lr);
  const hasDgp = ports.some((p) => p.dgp);
  const forceSnatRouterIp = isGwRouter && lr.options.get("lb_force_snat_ip") === "router_ip";

  admission(f, ports, net);
  neighbor(f, lr, ports);
  ipInput(f, net, lr, ports, isGwRouter, hasDgp, forceSnatRouterIp);
  for (const s of ["lr_in_unsnat", "lr_in_defrag", "lr_in_lb_aff_check", "lr_in_dnat", "lr_in_lb_aff_learn", "lr_in_ecmp_stateful", "lr_in_nd_ra_options", "lr_in_nd_ra_response"]) {
    f.add(s, 0, "1", "next;", "default");
  }
  if (isGwRouter) forceSnat(f, net, lr, ports, forceSnatRouterIp);
  routing(f, net, lr, ports);
  policies(f, lr, ports);
  arpResolve(f, net, lr, ports);
  checkPktLen(f, net, ports);
  for (const p of ports) if (p.dgp) f.add("lr_in_gw_redirect", 50, `outport == ${p.key}`, `outport = ${q(crPortName(p.port))}; next;`, "gw-redirect", p.origin);
  f.add("lr_in_gw_redirect", 0, "1", "next;", "default");
  arpRequest(f, lr);
  egress(f, ports);
  return sortByStage([...f.flows, ...routerNatFlows(net, routerName)]);
}

function sortByStage(flows: LogicalFlow[]): LogicalFlow[] {
  const rank = (fl: LogicalFlow): number => (fl.pipeline === "ingress" ? 0 : 100) + (stageTable(fl.stage) ?? 99);
  return flows.map((fl, i) => ({ fl, i })).sort((a, b) => rank(a.fl) - rank(b.fl) || a.i - b.i).map((x) => x.fl);
}

/**
 * A gateway router's force-SNAT flows (northd's build_lrouter_force_snat_flows and _op): traffic
 * DNATed (`dnat_force_snat_ip`) or load balanced (`lb_force_snat_ip`) leaves SNATed to the
 * option's first IPv4 / IPv6 address, and replies to that address are unSNATed. With
 * `lb_force_snat_ip=router_ip` each port with a peer uses its own first address instead.
 */
function forceSnat(f: FlowList, net: Network, lr: LogicalRouter, ports: readonly Lrp[], routerIp: boolean): void {
  const o = `routers[${lr.name}]`;
  const byAddress = (ctx: "dnat" | "lb", option: string): void => {
    const addrs = (lr.options.get(option) ?? "")
      .split(/\s+/)
      .map((t) => parseCidr(t))
      .filter((c): c is Cidr => c !== undefined && c.prefixLen === (c.family === 4 ? 32 : 128));
    for (const fam of [4, 6] as const) {
      const c = addrs.find((a) => a.family === fam);
      if (!c) continue;
      const ip = fam === 4 ? formatIpv4(ipv4FromBytes(c.addr)) : formatIpv6(c.addr);
      f.add("lr_in_unsnat", 110, `ip${fam} && ip${fam}.dst == ${ip}`, "ct_snat;", "force-unsnat", o);
      f.add("lr_out_snat", 100, `flags.force_snat_for_${ctx} == 1 && ip${fam}`, `ct_snat(${ip});`, "force-snat", o);
    }
  };
  byAddress("dnat", "dnat_force_snat_ip");
  if (!routerIp) {
    byAddress("lb", "lb_force_snat_ip");
    return;
  }
  for (const p of ports) {
    if (switchPeerOf(net, p.port.name) === undefined && routerPeerOf(net, p.port) === undefined) continue;
    const v4 = p.nets.ipv4[0];
    if (v4) {
      f.add("lr_in_unsnat", 110, `inport == ${p.key} && ip4.dst == ${v4.addr}`, "ct_snat;", "force-unsnat-router-ip", p.origin);
      f.add("lr_out_snat", 110, `flags.force_snat_for_lb == 1 && ip4 && outport == ${p.key}`, `ct_snat(${v4.addr});`, "force-snat-router-ip", p.origin);
    }
    // The link-local address, always there and last, does not count.
    const v6 = p.nets.ipv6.length > 1 ? p.nets.ipv6[0] : undefined;
    if (v6) {
      f.add("lr_in_unsnat", 110, `inport == ${p.key} && ip6.dst == ${v6.addr}`, "ct_snat;", "force-unsnat-router-ip", p.origin);
      f.add("lr_out_snat", 110, `flags.force_snat_for_lb == 1 && ip6 && outport == ${p.key}`, `ct_snat(${v6.addr});`, "force-snat-router-ip", p.origin);
    }
  }
}

/** True when the switch on the other side of `p` has a localnet port. */
function peerSwitchHasLocalnet(net: Network, p: RouterPort): boolean {
  const s = switchPeerOf(net, p.name);
  return s !== undefined && s.ls.ports.some((x) => x.type === "localnet");
}

/** A port's `gateway_mtu` (0 when unset or invalid). */
function gatewayMtu(p: RouterPort): number {
  const v = Number(p.options.get("gateway_mtu") ?? "0");
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/**
 * northd's build_gateway_mtu_flow: the flow with a packet-size check in front of `actions` when
 * the port has a gateway MTU, and a bypass flow at `high` for `gateway_mtu_bypass`.
 */
function gatewayMtuFlow(f: FlowList, net: Network, p: Lrp, stage: RouterStage, low: number, high: number, match: string, actions: string, rule: string): void {
  const mtu = gatewayMtu(p.port);
  if (mtu === 0) {
    f.add(stage, low, match, actions, rule, p.origin);
    return;
  }
  const sw = switchPeerOf(net, p.port.name);
  const tagged = sw !== undefined && sw.ls.ports.some((x) => x.type === "localnet" && x.tag !== undefined);
  f.add(stage, low, match, `${REG.pktLarger} = check_pkt_larger(${mtu + (tagged ? 18 : 14)}); ${actions}`, rule, p.origin);
  const bypass = p.port.options.get("gateway_mtu_bypass");
  if (bypass !== undefined) f.add(stage, high, `${match} && (${bypass})`, actions, `${rule}-mtu-bypass`, p.origin);
}

function admission(f: FlowList, ports: readonly Lrp[], net: Network): void {
  f.add("lr_in_admission", 100, "vlan.present || eth.src[40]", DROP, "admission-l2-invalid");
  f.add("lr_in_admission", 0, "1", DROP, "default-drop");
  for (const p of ports) {
    if (!p.port.enabled) continue;
    const set = `${REG.inportEth} = ${p.nets.mac}; next;`;
    gatewayMtuFlow(f, net, p, "lr_in_admission", 50, 55, `eth.mcast && inport == ${p.key}`, set, "admission-mcast");
    const resident = p.dgp ? ` && is_chassis_resident(${q(crPortName(p.port))})` : "";
    gatewayMtuFlow(f, net, p, "lr_in_admission", 50, 55, `eth.dst == ${p.nets.mac} && inport == ${p.key}${resident}`, set, "admission-unicast");
  }
}

/** ICMP "fragmentation needed" / "packet too big" for packets from `op` that are over `mtu` (towards `out` when given). */
function icmpTooBig(f: FlowList, op: Lrp, mtu: number, stage: RouterStage, out: Lrp | undefined, origin: string): void {
  const outMatch = out ? `outport == ${out.key} && ` : "";
  const admission = stageTable("lr_in_admission") ?? 0;
  const v4 = op.nets.ipv4[0];
  if (v4) {
    f.add(
      stage,
      150,
      `inport == ${op.key} && ${outMatch}ip4 && ${REG.pktLarger} && ${REG.egressLoopback} == 0`,
      `icmp4_error {${REG.egressLoopback} = 1; ${REG.pktLarger} = 0; eth.dst = ${op.nets.mac}; ip4.dst = ip4.src; ip4.src = ${v4.addr}; ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = ${mtu}; next(pipeline=ingress, table=${admission}); };`,
      "icmp4-too-big",
      origin,
    );
  }
  const v6 = op.nets.ipv6[0];
  if (v6) {
    f.add(
      stage,
      150,
      `inport == ${op.key} && ${outMatch}ip6 && ${REG.pktLarger} && ${REG.egressLoopback} == 0`,
      `icmp6_error {${REG.egressLoopback} = 1; ${REG.pktLarger} = 0; eth.dst = ${op.nets.mac}; ip6.dst = ip6.src; ip6.src = ${v6.addr}; ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = ${mtu}; next(pipeline=ingress, table=${admission}); };`,
      "icmp6-too-big",
      origin,
    );
  }
}

/** Gateway MTU checks: the packet-size check on output, and the ICMP errors both ways. */
function checkPktLen(f: FlowList, net: Network, ports: readonly Lrp[]): void {
  f.add("lr_in_chk_pkt_len", 0, "1", "next;", "default");
  f.add("lr_in_larger_pkts", 0, "1", "next;", "default");
  for (const p of ports) {
    const mtu = gatewayMtu(p.port);
    if (mtu === 0) continue;
    gatewayMtuFlow(f, net, p, "lr_in_chk_pkt_len", 50, 55, `outport == ${p.key}`, "next;", "chk-pkt-len");
    icmpTooBig(f, p, mtu, "lr_in_ip_input", undefined, p.origin);
    for (const rp of ports) if (rp !== p) icmpTooBig(f, rp, mtu, "lr_in_larger_pkts", p, p.origin);
  }
}

function neighbor(f: FlowList, lr: LogicalRouter, ports: readonly Lrp[]): void {
  const learnFromRequest = lr.options.get("always_learn_from_arp_request") !== "false";
  const ipBit = learnFromRequest ? "" : `${REG.lookupIpResult} = 1; `;
  f.add("lr_in_lookup_neighbor", 100, "arp.op == 2", `${REG.lookupResult} = lookup_arp(inport, arp.spa, arp.sha); ${ipBit}next;`, "lookup-arp-reply");
  f.add("lr_in_lookup_neighbor", 100, "nd_na", `${REG.lookupResult} = lookup_nd(inport, nd.target, nd.tll); ${ipBit}next;`, "lookup-nd-na");
  if (!learnFromRequest) {
    f.add(
      "lr_in_lookup_neighbor",
      110,
      "nd_na && ip6.src == fe80::/10 && ip6.dst == ff00::/8",
      `${REG.lookupResult} = lookup_nd(inport, ip6.src, nd.tll); ${REG.lookupIpResult} = lookup_nd_ip(inport, ip6.src); next;`,
      "lookup-nd-garp",
    );
  }
  f.add(
    "lr_in_lookup_neighbor",
    100,
    "nd_ns",
    `${REG.lookupResult} = lookup_nd(inport, ip6.src, nd.sll); ${learnFromRequest ? "" : `${REG.lookupIpResult} = lookup_nd_ip(inport, ip6.src); `}next;`,
    "lookup-nd-ns",
  );
  f.add("lr_in_lookup_neighbor", 0, "1", `${REG.lookupResult} = 1; next;`, "default");
  f.add("lr_in_learn_neighbor", 100, `${REG.lookupResult} == 1${learnFromRequest ? "" : ` || ${REG.lookupIpResult} == 0`}`, "next;", "learn-skip");
  f.add("lr_in_learn_neighbor", 90, "arp", "put_arp(inport, arp.spa, arp.sha); next;", "learn-arp");
  f.add("lr_in_learn_neighbor", 95, "nd_ns && (ip6.src == 0 || nd.sll == 0)", "next;", "learn-nd-ns-skip");
  f.add("lr_in_learn_neighbor", 95, "nd_na && nd.tll == 0", "put_nd(inport, nd.target, eth.src); next;", "learn-nd-na-no-tll");
  f.add("lr_in_learn_neighbor", 90, "nd_na", "put_nd(inport, nd.target, nd.tll); next;", "learn-nd-na");
  f.add("lr_in_learn_neighbor", 90, "nd_ns", "put_nd(inport, ip6.src, nd.sll); next;", "learn-nd-ns");
  f.add("lr_in_learn_neighbor", 0, "1", DROP, "default-drop");
  for (const p of ports) {
    const resident = p.dgp ? ` && is_chassis_resident(${q(crPortName(p.port))})` : "";
    for (const n of p.nets.ipv4) {
      if (!learnFromRequest) {
        f.add(
          "lr_in_lookup_neighbor",
          110,
          `inport == ${p.key} && arp.spa == ${n.network}/${n.plen} && arp.tpa == ${n.addr} && arp.op == 1${resident}`,
          `${REG.lookupResult} = lookup_arp(inport, arp.spa, arp.sha); ${REG.lookupIpResult} = 1; next;`,
          "lookup-arp-request-own",
          p.origin,
        );
      }
      f.add(
        "lr_in_lookup_neighbor",
        100,
        `inport == ${p.key} && arp.spa == ${n.network}/${n.plen} && arp.op == 1${resident}`,
        `${REG.lookupResult} = lookup_arp(inport, arp.spa, arp.sha); ${learnFromRequest ? "" : `${REG.lookupIpResult} = lookup_arp_ip(inport, arp.spa); `}next;`,
        "lookup-arp-request",
        p.origin,
      );
    }
  }
}

function ipInput(f: FlowList, net: Network, lr: LogicalRouter, ports: readonly Lrp[], isGwRouter: boolean, hasDgp: boolean, forceSnatRouterIp: boolean): void {
  const S = "lr_in_ip_input";
  // Datapath-wide drops and defaults.
  f.add(S, 100, "ip4.src_mcast ||ip4.src == 255.255.255.255 || ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8", DROP, "martian-drop");
  f.add(S, 85, "arp || nd", DROP, "arp-nd-drop");
  f.add(S, 84, "nd_rs || nd_ra", "next;", "nd-rs-ra");
  f.add(S, 83, "ip6.mcast_rsvd", DROP, "mcast-rsvd-drop");
  f.add(S, 82, "ip4.mcast || ip6.mcast", DROP, "mcast-drop");
  f.add(S, 50, "eth.bcast", DROP, "bcast-drop");
  f.add(S, 32, "ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)", DROP, "ttl-mcast-drop");
  f.add(S, 30, "ip.ttl == {0, 1}", DROP, "ttl-drop");
  f.add(S, 0, "1", "next;", "default");
  const natIps = natOwnedIps(net, lr);
  const unreachable = !isGwRouter && !hasDgp;
  for (const p of ports) {
    const o = p.origin;
    const cr = q(crPortName(p.port));
    // IPv6: DHCPv6 replies, echo, ND, unreachable, TTL exceeded.
    for (const n of p.nets.ipv6) f.add(S, 100, `ip6.dst == ${n.addr} && udp.src == 547 && udp.dst == 546`, "reg0 = 0; handle_dhcpv6_reply;", "dhcpv6-reply", o);
    if (p.nets.ipv6.length > 0) {
      f.add(S, 90, `ip6.dst == ${addrSet(p.nets.ipv6.map((n) => n.addr))} && icmp6.type == 128 && icmp6.code == 0`, "ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ", "icmp6-echo", o);
    }
    for (const n of p.nets.ipv6) {
      const resident = p.dgp ? ` && is_chassis_resident(${cr})` : "";
      f.add(
        S,
        90,
        `inport == ${p.key} && ip6.dst == {${n.addr}, ${n.snAddr}} && nd_ns && nd.target == ${n.addr}${resident}`,
        `nd_na_router { eth.src = ${REG.inportEth}; ip6.src = nd.target; nd.tll = ${REG.inportEth}; outport = inport; flags.loopback = 1; output; };`,
        "nd-reply",
        o,
      );
    }
    if (unreachable) {
      for (const n of p.nets.ipv6) {
        const m = `ip6 && ip6.dst == ${n.addr} && !ip.later_frag`;
        f.add(S, 80, `${m} && tcp`, "tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };", "tcp-reset", o);
        f.add(S, 80, `${m} && sctp`, "sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };", "sctp-abort", o);
        f.add(S, 80, `${m} && udp`, "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };", "udp-unreachable", o);
        f.add(S, 70, m, "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };", "proto-unreachable", o);
      }
    }
    for (const n of p.nets.ipv6) {
      if (n.lla) continue;
      const ip = p.dgp ? "ip6.dst <-> ip6.src" : `ip6.dst = ip6.src; ip6.src = ${n.addr}`;
      f.add(
        S,
        31,
        `inport == ${p.key} && ip6 && ip6.src == ${n.network}/${n.plen} && ip.ttl == {0, 1} && !ip.later_frag`,
        `icmp6 {eth.dst <-> eth.src; ${ip} ; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = ${p.key}; flags.loopback = 1; output; };`,
        "ttl-exceeded6",
        o,
      );
    }
    // IPv4.
    if (p.nets.ipv4.length > 0) {
      const withBcast = p.nets.ipv4.flatMap((n) => [n.addr, n.bcast]);
      f.add(S, 100, `ip4.src == ${addrSet(withBcast, true)} && ${REG.egressLoopback} == 0`, DROP, "own-source-drop", o);
      f.add(S, 90, `ip4.dst == ${addrSet(p.nets.ipv4.map((n) => n.addr))} && icmp4.type == 8 && icmp4.code == 0`, "ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ", "icmp4-echo", o);
    }
    for (const n of p.nets.ipv4) {
      const ip = p.dgp ? "ip4.dst <-> ip4.src" : `ip4.dst = ip4.src; ip4.src = ${n.addr}`;
      f.add(
        S,
        31,
        `inport == ${p.key} && ip4 && ip.ttl == {0, 1} && !ip.later_frag`,
        `icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ${ip} ; ip.ttl = 254; outport = ${p.key}; flags.loopback = 1; output; };`,
        "ttl-exceeded4",
        o,
      );
    }
    for (const n of p.nets.ipv4) {
      let extra = "";
      if (hasDgp && peerSwitchHasLocalnet(net, p.port)) {
        if (p.dgp) extra = ` && is_chassis_resident(${cr})`;
        else if (p.port.options.get("reside-on-redirect-chassis") === "true" && ports.filter((x) => x.dgp).length === 1) {
          extra = ` && is_chassis_resident(${q(crPortName(ports.find((x) => x.dgp)!.port))})`;
        }
      }
      f.add(
        S,
        90,
        `inport == ${p.key} && arp.op == 1 && arp.tpa == ${n.addr} && arp.spa == ${n.network}/${n.plen}${extra}`,
        `eth.dst = eth.src; eth.src = ${REG.inportEth}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${REG.inportEth}; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;`,
        "arp-reply",
        o,
      );
    }
    if (unreachable) {
      for (const n of p.nets.ipv4) {
        const m = `ip4 && ip4.dst == ${n.addr} && !ip.later_frag`;
        f.add(S, 80, `${m} && udp`, "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };", "udp-unreachable", o);
        f.add(S, 80, `${m} && tcp`, "tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", "tcp-reset", o);
        f.add(S, 80, `${m} && sctp`, "sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", "sctp-abort", o);
        f.add(S, 70, m, "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };", "proto-unreachable", o);
      }
    }
    if (!forceSnatRouterIp) {
      const v4 = p.nets.ipv4.map((n) => n.addr).filter((a) => !natIps.has(a));
      if (v4.length > 0) f.add(S, 60, `ip4.dst == {${v4.join(", ")}}`, DROP, "own-dest-drop", o);
      const v6 = p.nets.ipv6.map((n) => n.addr).filter((a) => !natIps.has(a));
      if (v6.length > 0) f.add(S, 60, `ip6.dst == {${v6.join(", ")}}`, DROP, "own-dest-drop", o);
    }
  }
}

/** A static route northd accepts, with its output port and source address. */
interface ParsedRoute {
  readonly index: number;
  readonly v4: boolean;
  readonly network: string;
  readonly plen: number;
  readonly src: boolean;
  readonly table: number;
  readonly discard: boolean;
  readonly nexthop: string;
  readonly out: Lrp | undefined;
  readonly lrpAddr: string | undefined;
  readonly connectedOrigin: boolean;
  /** `options:ecmp_symmetric_reply=true`. */
  readonly symmetric: boolean;
}

/** The output port and its own address for a route (northd's find_static_route_outport). */
function routeOutport(ports: readonly Lrp[], nexthop: string, outputPort: string | undefined, v4: boolean): { out: Lrp; addr: string } | undefined {
  if (outputPort !== undefined) {
    const out = ports.find((p) => p.port.name === outputPort);
    if (!out) return undefined;
    let addr = nexthop !== "" ? memberIp(out.nets, nexthop) : undefined;
    if (addr === undefined) addr = v4 ? out.nets.ipv4[0]?.addr : out.nets.ipv6[0]?.addr;
    return addr === undefined ? undefined : { out, addr };
  }
  for (const out of ports) {
    const addr = nexthop !== "" ? memberIp(out.nets, nexthop) : undefined;
    if (addr !== undefined) return { out, addr };
  }
  return undefined;
}

/** Route table name → id, in the order northd meets them: ports first, then routes. */
function routeTables(lr: LogicalRouter): Map<string, number> {
  const ids = new Map<string, number>();
  const get = (name: string | undefined): number => {
    if (name === undefined || name === "") return 0;
    let id = ids.get(name);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(name, id);
    }
    return id;
  };
  for (const p of lr.ports.values()) get(p.options.get("route_table"));
  for (const r of lr.staticRoutes) get(r.routeTable);
  return ids;
}

function parseRoutes(lr: LogicalRouter, ports: readonly Lrp[], tables: Map<string, number>): ParsedRoute[] {
  const out: ParsedRoute[] = [];
  lr.staticRoutes.forEach((r, index) => {
    const discard = r.nexthop === "discard";
    const pfx = prefixOf(r.ipPrefix);
    if (!pfx) return;
    let nh: string | undefined;
    if (!discard && r.nexthop !== "") {
      const n = prefixOf(r.nexthop);
      if (!n || n.plen !== (n.v4 ? 32 : 128) || n.v4 !== pfx.v4) return;
      nh = r.nexthop;
    }
    let o: { out: Lrp; addr: string } | undefined;
    if (!discard) {
      o = routeOutport(ports, nh ?? "", r.outputPort, pfx.v4);
      if (!o) return;
    }
    out.push({
      index,
      v4: pfx.v4,
      network: pfx.network,
      plen: pfx.plen,
      src: r.policy === "src-ip",
      table: tables.get(r.routeTable) ?? 0,
      discard,
      nexthop: r.nexthop,
      out: o?.out,
      lrpAddr: o?.addr,
      connectedOrigin: r.options.get("origin") === "connected",
      symmetric: r.options.get("ecmp_symmetric_reply") === "true",
    });
  });
  return out;
}

function routeMatch(inport: string | undefined, table: number, network: string, plen: number, src: boolean, v4: boolean, ofs: number): { match: string; priority: number } {
  const o = src ? 0 : ofs;
  const priority = plen * 3 + o;
  let m = inport !== undefined ? `inport == ${inport} && ` : "";
  if (table !== 0 || o === 1) m += `${REG.routeTable} == ${table} && `;
  m += `ip${v4 ? "4" : "6"}.${src ? "src" : "dst"} == ${network}/${plen}`;
  return { match: m, priority };
}

/** A prefix as northd's normalize_v46_prefix writes it: no length for a single address. */
function normalizedPrefix(network: string, plen: number, v4: boolean): string {
  return plen === (v4 ? 32 : 128) ? network : `${network}/${plen}`;
}

/**
 * northd's add_ecmp_symmetric_reply_flows, for member `r` of an ECMP group whose routing match is
 * `routeMatch`, leaving by `out` (port key `key`): a connection that comes in by `out` is
 * committed with the MAC it came from (`ct_label.ecmp_reply_eth`) and the port
 * (`ct_mark.ecmp_reply_port`), and ovn-controller learns its two directions (`commit_ecmp_nh`,
 * dataplane/ecmp-nh.ts); its replies are routed back out of `out` to that MAC, past the ECMP
 * choice and the router's policies. Groups that share a port, or a port that serves several
 * members of a group, make some of these flows again; northd keeps one of each.
 */
function symmetricReplyFlows(f: FlowList, r: ParsedRoute, out: Lrp, key: number, routeMatch: string, origin: string): void {
  const ip = r.v4 ? "4" : "6";
  const base = `inport == ${out.key} && ip${ip}.${r.src ? "dst" : "src"} == ${normalizedPrefix(r.network, r.plen, r.v4)}`;
  const replyPort = "ct_mark.ecmp_reply_port";
  f.addOnce("lr_in_defrag", 100, base, `${REG.knownEcmpNh} = chk_ecmp_nh_mac(); ct_next;`, "ecmp-symmetric-in", origin);
  f.addOnce("lr_in_defrag", 100, routeMatch, `${REG.knownEcmpNh} = chk_ecmp_nh(); ct_next;`, "ecmp-symmetric-out", origin);
  const commit = (proto: string): string => `ct_commit { ct_label.ecmp_reply_eth = eth.src;  ${replyPort} = ${key};}; commit_ecmp_nh(ipv6 = ${r.v4 ? "false" : "true"}, proto = ${proto}); next;`;
  for (const proto of ["tcp", "udp", "sctp"]) f.addOnce("lr_in_ecmp_stateful", 100, `${base} && (ct.new && !ct.est) && ${proto}`, commit(proto), "ecmp-symmetric-commit", origin);
  for (const proto of ["tcp", "udp", "sctp"]) f.addOnce("lr_in_ecmp_stateful", 100, `${base} && (!ct.rpl && ct.est) && ${proto} && ${REG.knownEcmpNh} == 0`, commit(proto), "ecmp-symmetric-commit", origin);
  const reply = `ct.rpl && ${REG.knownEcmpNh} == 1 && ${replyPort} == ${key}`;
  f.addOnce("lr_in_ip_routing", 10300, `${reply} && ${routeMatch}`, `ip.ttl--; flags.loopback = 1; eth.src = ${out.nets.mac}; ${r.v4 ? REG.src4 : REG.src6} = ${r.lrpAddr ?? ""}; outport = ${out.key}; next;`, "ecmp-symmetric-reply", origin);
  f.addOnce("lr_in_policy", 65535, reply, "next;", "ecmp-symmetric-reply", origin);
  f.addOnce("lr_in_arp_resolve", 200, reply, "push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;", "ecmp-symmetric-reply", origin);
}

/** northd's add_route: one flow in lr_in_ip_routing. */
function addRoute(f: FlowList, out: Lrp | undefined, lrpAddr: string | undefined, network: string, plen: number, gateway: string | undefined, src: boolean, table: number, discard: boolean, ofs: number, rule: string, origin: string, lla: boolean): void {
  const v4 = network.includes(".");
  const { match, priority } = routeMatch(lla && out ? out.key : undefined, table, network, plen, src, v4, ofs);
  let actions = DROP;
  if (!discard && out) {
    const nh = gateway !== undefined && gateway !== "" ? gateway : `ip${v4 ? "4" : "6"}.dst`;
    actions = `ip.ttl--; ${REG.ecmpGroup} = 0; ${v4 ? REG.nextHop4 : REG.nextHop6} = ${nh}; ${v4 ? REG.src4 : REG.src6} = ${lrpAddr ?? ""}; eth.src = ${out.nets.mac}; outport = ${out.key}; flags.loopback = 1; next;`;
  }
  f.add("lr_in_ip_routing", priority, match, actions, rule, origin);
}

function routing(f: FlowList, net: Network, lr: LogicalRouter, ports: readonly Lrp[]): void {
  const tables = routeTables(lr);
  const portKeys = isGatewayRouter(lr) && lr.staticRoutes.some((r) => r.options.get("ecmp_symmetric_reply") === "true") ? assignTunnelKeys(net).routers.get(lr.name)?.ports : undefined;
  f.add("lr_in_ip_routing_pre", 0, "1", `${REG.routeTable} = 0; next;`, "default");
  for (const p of lr.ports.values()) {
    const id = tables.get(p.options.get("route_table") ?? "");
    if (id !== undefined) f.add("lr_in_ip_routing_pre", 100, `inport == "${p.name}"`, `${REG.routeTable} = ${id}; next;`, "route-table", `routers[${lr.name}].ports[${p.name}]`);
  }
  f.add("lr_in_ip_routing_ecmp", 0, "1", DROP, "default-drop");
  f.add("lr_in_ip_routing", 0, "1", DROP, "default-drop");
  f.add("lr_in_ip_routing_ecmp", 150, `${REG.ecmpGroup} == 0`, "next;", "ecmp-none");
  f.add("lr_in_ip_routing", 10550, "nd_rs || nd_ra", DROP, "nd-rs-ra-drop");
  // Connected networks.
  for (const p of ports) {
    for (const n of p.nets.ipv4) addRoute(f, p, n.addr, n.network, n.plen, undefined, false, 0, false, 2, "connected", p.origin, false);
    for (const n of p.nets.ipv6) addRoute(f, p, n.addr, n.network, n.plen, undefined, false, 0, false, 2, "connected", p.origin, n.lla);
  }
  // Static routes: ECMP groups (same prefix, length, direction and table) and unique routes.
  const parsed = parseRoutes(lr, ports, tables);
  const groups: ParsedRoute[][] = [];
  for (const r of parsed) {
    const g = groups.find((x) => x[0]!.network === r.network && x[0]!.v4 === r.v4 && x[0]!.plen === r.plen && x[0]!.src === r.src && x[0]!.table === r.table);
    if (g) g.push(r);
    else groups.push([r]);
  }
  let gid = 0;
  for (const g of groups) {
    const first = g[0]!;
    const origin = (r: ParsedRoute): string => `routers[${lr.name}].staticRoutes[${r.index}]`;
    const ofs = first.connectedOrigin ? 2 : 1;
    if (g.length === 1) {
      addRoute(f, first.out, first.lrpAddr, first.network, first.plen, first.nexthop, first.src, first.table, first.discard, ofs, first.discard ? "static-route-discard" : "static-route", origin(first), false);
      continue;
    }
    gid++;
    const { match, priority } = routeMatch(undefined, first.table, first.network, first.plen, first.src, first.v4, ofs);
    const members = g.map((_, i) => String(i + 1)).join(", ");
    f.add("lr_in_ip_routing", priority, match, `ip.ttl--; flags.loopback = 1; ${REG.ecmpGroup} = ${gid}; ${REG.ecmpMember} = select(${members});`, "ecmp-route", origin(first));
    const symmetricPorts = new Set<string>();
    g.forEach((r, i) => {
      if (!r.out) return;
      // Symmetric replies only on a gateway router, once per output port (northd's visited_ports).
      if (r.symmetric && isGatewayRouter(lr) && !symmetricPorts.has(r.out.port.name)) {
        symmetricPorts.add(r.out.port.name);
        symmetricReplyFlows(f, r, r.out, portKeys?.get(r.out.port.name) ?? 0, match, origin(r));
      }
      f.add(
        "lr_in_ip_routing_ecmp",
        100,
        `${REG.ecmpGroup} == ${gid} && ${REG.ecmpMember} == ${i + 1}`,
        `${r.v4 ? REG.nextHop4 : REG.nextHop6} = ${r.nexthop}; ${r.v4 ? REG.src4 : REG.src6} = ${r.lrpAddr ?? ""}; eth.src = ${r.out.nets.mac}; outport = ${r.out.key}; next;`,
        "ecmp-member",
        origin(r),
      );
    });
  }
}

function policies(f: FlowList, lr: LogicalRouter, ports: readonly Lrp[]): void {
  f.add("lr_in_policy", 0, "1", `${REG.ecmpGroup} = 0; next;`, "default");
  f.add("lr_in_policy_ecmp", 150, `${REG.ecmpGroup} == 0`, "next;", "ecmp-none");
  f.add("lr_in_policy_ecmp", 0, "1", DROP, "default-drop");
  const outFor = (nh: string): { out: Lrp; addr: string } | undefined => {
    for (const out of ports) {
      const addr = memberIp(out.nets, nh);
      if (addr !== undefined) return { out, addr };
    }
    return undefined;
  };
  let gid = 1;
  lr.policies.forEach((rule, i) => {
    const origin = `routers[${lr.name}].policies[${i}]`;
    const mark = Number(rule.options.get("pkt_mark") ?? "0");
    const markAct = Number.isInteger(mark) && mark > 0 ? `pkt.mark = ${mark}; ` : "";
    if (rule.action === "reroute" && rule.nexthops.size > 1) {
      const id = gid++;
      // `nexthops` is an OVSDB set: northd sees it deduplicated and in the database's order,
      // which for strings is byte order (strcmp), whatever order a scenario lists them in.
      const hops = [...new Set(rule.nexthops)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (new Set(hops.map((h) => h.includes("."))).size > 1) return;
      const resolved = hops.map(outFor);
      if (resolved.some((r) => r === undefined)) return;
      hops.forEach((nh, j) => {
        const r = resolved[j]!;
        const v4 = nh.includes(".");
        f.add(
          "lr_in_policy_ecmp",
          100,
          `${REG.ecmpGroup} == ${id} && ${REG.ecmpMember} == ${j + 1}`,
          `${markAct}${v4 ? REG.nextHop4 : REG.nextHop6} = ${nh}; ${v4 ? REG.src4 : REG.src6} = ${r.addr}; eth.src = ${r.out.nets.mac}; outport = ${r.out.key}; flags.loopback = 1; next;`,
          "policy-ecmp-member",
          origin,
        );
      });
      f.add("lr_in_policy", rule.priority, rule.match, `${REG.ecmpGroup} = ${id}; ${REG.ecmpMember} = select(${hops.map((_, j) => String(j + 1)).join(", ")});`, "policy-reroute-ecmp", origin);
      return;
    }
    switch (rule.action) {
      case "reroute": {
        const nh = rule.nexthops.first();
        if (nh === undefined) return;
        const r = outFor(nh);
        if (!r) return;
        const v4 = nh.includes(".");
        f.add(
          "lr_in_policy",
          rule.priority,
          rule.match,
          `${markAct}${v4 ? REG.nextHop4 : REG.nextHop6} = ${nh}; ${v4 ? REG.src4 : REG.src6} = ${r.addr}; eth.src = ${r.out.nets.mac}; outport = ${r.out.key}; flags.loopback = 1; ${REG.ecmpGroup} = 0; next;`,
          "policy-reroute",
          origin,
        );
        return;
      }
      case "drop":
        f.add("lr_in_policy", rule.priority, rule.match, DROP, "policy-drop", origin);
        return;
      case "allow":
        f.add("lr_in_policy", rule.priority, rule.match, `${markAct}${REG.ecmpGroup} = 0; next;`, "policy-allow", origin);
        return;
    }
  });
}

function arpResolve(f: FlowList, net: Network, lr: LogicalRouter, ports: readonly Lrp[]): void {
  const S = "lr_in_arp_resolve";
  f.add(S, 500, "ip4.mcast || ip6.mcast", "next;", "mcast");
  f.add(S, 1, "ip4", `get_arp(outport, ${REG.nextHop4}); next;`, "get-arp");
  f.add(S, 1, "ip6", `get_nd(outport, ${REG.nextHop6}); next;`, "get-nd");
  f.add(S, 0, "1", DROP, "default-drop");
  const dynamicNeigh = lr.options.get("dynamic_neigh_routers") === "true";
  for (const p of ports) {
    // A peer router port: its addresses resolve to its MAC.
    const peer = routerPeerOf(net, p.port);
    if (peer && peer.port.peer === p.port.name) {
      const pn = lrpNetworks(peer.port);
      const po = `routers[${peer.lr.name}].ports[${peer.port.name}]`;
      if (pn && pn.ipv4.length > 0) f.add(S, 100, `outport == ${p.key} && ${REG.nextHop4}== ${addrSet(pn.ipv4.map((n) => n.addr))}`, `eth.dst = ${pn.mac}; next;`, "resolve-peer-router", po);
      if (pn && pn.ipv6.length > 0) f.add(S, 100, `outport == ${p.key} && ${REG.nextHop6} == ${addrSet(pn.ipv6.map((n) => n.addr))}`, `eth.dst = ${pn.mac}; next;`, "resolve-peer-router", po);
    }
    if (p.dgp && (p.port.options.get("redirect-type") ?? "").toLowerCase() === "bridged") {
      f.add(S, 50, `outport == ${p.key} && !is_chassis_resident(${q(crPortName(p.port))})`, `eth.dst = ${p.nets.mac}; next;`, "resolve-bridged", p.origin);
    }
    // The switch on the other side: its VIFs' addresses, and the other routers' ports on it.
    const sw = switchPeerOf(net, p.port.name);
    if (!sw) continue;
    for (const sp of sw.ls.ports.values()) {
      const spOrigin = `switches[${sw.ls.name}].ports[${sp.name}]`;
      if (sp.type === "router") {
        if (dynamicNeigh || sp.name === sw.port.name) continue;
        const other = routerPortsOfSwitch(net, sw.ls).find((x) => x.sp.name === sp.name);
        if (!other) continue;
        const on = lrpNetworks(other.lrp);
        if (!on) continue;
        if (on.ipv4.length > 0) f.add(S, 100, `outport == ${p.key} && ${REG.nextHop4} == ${addrSet(on.ipv4.map((n) => n.addr))}`, `eth.dst = ${on.mac}; next;`, "resolve-switch-router", spOrigin);
        if (on.ipv6.length > 0) f.add(S, 100, `outport == ${p.key} && ${REG.nextHop6} == ${addrSet(on.ipv6.map((n) => n.addr))}`, `eth.dst = ${on.mac}; next;`, "resolve-switch-router", spOrigin);
        continue;
      }
      if (sp.type === "virtual" || !sp.enabled) continue;
      for (const entry of sp.addresses) {
        const a = parsePortAddress(entry);
        if (!a) continue;
        for (const ip of a.ipv4) {
          if (memberIp(p.nets, ip) === undefined) continue;
          f.add(S, 100, `outport == ${p.key} && ${REG.nextHop4} == ${ip}`, `eth.dst = ${a.mac}; next;`, "resolve-vif", spOrigin);
        }
        for (const ip of a.ipv6) {
          if (memberIp(p.nets, ip) === undefined) continue;
          f.add(S, 100, `outport == ${p.key} && ${REG.nextHop6} == ${ip}`, `eth.dst = ${a.mac}; next;`, "resolve-vif", spOrigin);
        }
      }
    }
  }
}

function arpRequest(f: FlowList, lr: LogicalRouter): void {
  const S = "lr_in_arp_request";
  lr.staticRoutes.forEach((r, i) => {
    const n = prefixOf(r.nexthop);
    if (!n || n.v4 || n.plen !== 128 || r.nexthop.includes("/")) return;
    const sn = lrpSolicited(n.network);
    f.add(
      S,
      200,
      `eth.dst == 00:00:00:00:00:00 && ip6 && ${REG.nextHop6} == ${r.nexthop}`,
      `nd_ns { eth.dst = ${sn.mac}; ip6.dst = ${sn.ip}; nd.target = ${r.nexthop}; output; };`,
      "nd-ns-static-nexthop",
      `routers[${lr.name}].staticRoutes[${i}]`,
    );
  });
  f.add(S, 100, "eth.dst == 00:00:00:00:00:00 && ip4", `arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = ${REG.src4}; arp.tpa = ${REG.nextHop4}; arp.op = 1; output; };`, "arp-request");
  f.add(S, 100, "eth.dst == 00:00:00:00:00:00 && ip6", `nd_ns { nd.target = ${REG.nextHop6}; output; };`, "nd-ns");
  f.add(S, 0, "1", "output;", "output");
}

/** The solicited-node multicast address of an IPv6 address and its Ethernet address. */
function lrpSolicited(ip6: string): { ip: string; mac: string } {
  const ip = solicitedNode(ip6);
  const b = parseIpv6(ip) ?? new Uint8Array(16);
  const hex = (x: number): string => x.toString(16).padStart(2, "0");
  return { ip, mac: `33:33:${hex(b[12]!)}:${hex(b[13]!)}:${hex(b[14]!)}:${hex(b[15]!)}` };
}

function egress(f: FlowList, ports: readonly Lrp[]): void {
  f.add("lr_out_chk_dnat_local", 0, "1", `${REG.dstNatIpLocal} = 0; next;`, "default");
  for (const s of ["lr_out_undnat", "lr_out_post_undnat", "lr_out_snat", "lr_out_post_snat", "lr_out_egr_loop"]) f.add(s, 0, "1", "next;", "default");
  f.add("lr_out_snat", 120, "nd_ns", "next;", "snat-skip-nd-ns");
  f.add("lr_out_delivery", 0, "1", DROP, "default-drop");
  for (const p of ports) {
    if (!p.port.enabled) continue;
    f.add("lr_out_delivery", 100, `outport == ${p.key}`, "output;", "delivery", p.origin);
  }
}
