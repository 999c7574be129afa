/**
 * Kube-OVN's VPC NAT gateway as a node of the simulated network: a Linux network namespace with
 * `eth0` on a VPC switch (inside OVN) and `net1` on an external network (outside OVN), routing
 * between them through an iptables nat table and its own connection tracking.
 *
 * What
 * ----
 * `NatGatewayConfig` is the gateway as plain data (addresses as text, model paths for
 * provenance); `compile/` builds it from the model. `createNatGateway(config)` checks it and
 * returns a `NatGatewayNode`, whose `process(key, iface)` takes one packet arriving on an
 * interface and says what the namespace does with it: every nat rule that matched, the
 * conntrack state, each translation, the route, and the verdict (out of `eth0` or `net1` with the
 * rewritten packet, delivered locally, or dropped with a reason). The node keeps its connection
 * table across calls, so a reply sent after a request is translated back.
 *
 * The nat table (Kube-OVN's `nat-gateway.sh init` and rule operations, v1.12/v1.13)
 * ------------------------------------------------------------------------------------
 * ```
 * PREROUTING  → DNAT_FILTER → EXCLUSIVE_DNAT (one rule per FIP), then SHARED_DNAT (DNAT rules)
 * POSTROUTING → SNAT_FILTER → EXCLUSIVE_SNAT (one rule per FIP), then SHARED_SNAT (SNAT rules)
 * ```
 * FIP: `-A EXCLUSIVE_DNAT -d EIP -j DNAT --to-destination IP` and
 * `-A EXCLUSIVE_SNAT -s IP -j SNAT --to-source EIP` (no interface restriction). DNAT rule:
 * `-A SHARED_DNAT -p PROTO -d EIP --dport EPORT -j DNAT --to-destination IP:IPORT`. SNAT rule:
 * `-A SHARED_SNAT -o net1 -s CIDR -j SNAT --to-source EIP`. Rules are appended in the order the
 * config lists them, so within a chain the first one wins, and FIPs win over DNAT/SNAT rules for
 * the same address because their chains come first.
 *
 * Packet path (Linux's, for IPv4)
 * -------------------------------
 * 1. Link layer: a unicast frame not addressed to the interface's MAC is not for this host and is
 *    dropped; a broadcast or multicast frame is only delivered locally, never forwarded. ARP is
 *    answered by the kernel (reported as local; the answer is not generated).
 * 2. PREROUTING: conntrack looks the packet up. The first packet of a connection (NEW) goes
 *    through the nat PREROUTING chain (DNAT); a later packet of it is translated from the
 *    connection instead (original direction: the DNAT again; reply direction: the SNAT undone,
 *    i.e. the destination restored).
 * 3. Routing on the (translated) destination: the pod's own addresses (eth0's, net1's and every
 *    EIP) are delivered locally, and the walk stops there; otherwise the longest matching prefix
 *    among the connected prefixes of eth0 and net1 and the configured routes picks the interface
 *    and the next hop (the gateway of the route, or the destination itself on a connected
 *    prefix). No route: dropped (Linux answers ICMP network unreachable, not generated here).
 * 4. Forwarding: the TTL is decremented; a packet whose TTL is 1 or less is dropped (Linux
 *    answers ICMP time exceeded, not generated here).
 * 5. POSTROUTING: a NEW connection goes through the nat POSTROUTING chain (SNAT, matching `-o` on
 *    the chosen interface); a later packet is translated from the connection (original: the SNAT
 *    again; reply: the DNAT undone, i.e. the source restored). A NEW connection is then stored.
 * 6. Link layer out: source MAC = the interface's MAC; destination MAC = the next hop's, from the
 *    neighbour table (on eth0: the VPC gateway, i.e. the router port, and the addresses the VPC
 *    switch knows; on net1: the external gateway, default `DEFAULT_EXTERNAL_GATEWAY_MAC`). An
 *    unknown next hop on eth0 is dropped (OVN answers ARP only for addresses it knows); on net1,
 *    outside OVN, the packet leaves with destination MAC 00:00:00:00:00:00 and `unresolved` set.
 *
 * Local delivery of traffic to an EIP that no DNAT or FIP rule translates: Linux hands it to the
 * pod's own stack, where nothing listens on such ports, so a TCP SYN is answered with a RST and a
 * UDP datagram with ICMP port unreachable (an ICMP echo request gets an echo reply). The node
 * reports `local` with that note and does not build the answer.
 *
 * The namespace's stack (tables, packet path, steps) is `LinuxBox` of linux-box.ts; this module
 * adds the gateway's config, its nat rules and its names.
 *
 * Not modelled: the filter and mangle tables, Kube-OVN master's HAIRPIN_SNAT chain and VPC_MARK,
 * QoS, IPv6, ICMP errors related to a connection, conntrack timeouts, rp_filter.
 */
import { fail, ok, type Diagnostic, type Result } from "../base/index.js";
import { buildNatTable, type IptRuleSpec, type Prefix4 } from "./iptables.js";
import type { NatGatewayConfig, NatGatewayIface } from "../ofp/index.js";
import { LinuxBox, addNeighbors, configReader, linuxBoxDropReasons, networkOf, type LinuxBoxDropReason, type LinuxBoxParts, type LinuxBoxStep, type LinuxBoxVerdict, type LinuxRoute, type LinuxRouteChoice, type MacWords } from "./linux-box.js";


export type { NatGatewayConfig, NatGatewayDnatConfig, NatGatewayEipConfig, NatGatewayFipConfig, NatGatewayIface, NatGatewayNeighborConfig, NatGatewayRouteConfig, NatGatewaySnatConfig } from "../ofp/index.js";

/** The MAC used for the external network's gateway when the config gives none. */
export const DEFAULT_EXTERNAL_GATEWAY_MAC = "02:00:00:00:ff:01";

/** Kube-OVN's chain names, in creation order. */
export const NAT_GATEWAY_CHAINS = ["DNAT_FILTER", "SNAT_FILTER", "EXCLUSIVE_DNAT", "EXCLUSIVE_SNAT", "SHARED_DNAT", "SHARED_SNAT"] as const;

type Path = readonly (string | number)[];

export const NAT_GATEWAY_DROP_REASONS = linuxBoxDropReasons("gateway", "eth0", "nothing");

export type NatGatewayDropReason = LinuxBoxDropReason;

export type NatRouteChoice = LinuxRouteChoice<NatGatewayIface>;

export type NatGatewayVerdict = LinuxBoxVerdict<NatGatewayIface>;

/** What the gateway did with one packet. */
export interface NatGatewayStep extends Omit<LinuxBoxStep<NatGatewayIface>, "mark"> {
  readonly gateway: string;
}

/** Builds the gateway's nat rules as Kube-OVN does (see the module header). */
export function natGatewayRules(c: Pick<NatGatewayConfig, "fips" | "dnats" | "snats">, parse: (text: string, path: Path | undefined, what: string) => Prefix4 | undefined): IptRuleSpec[] {
  const rules: IptRuleSpec[] = [
    { chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "DNAT_FILTER" } },
    { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "EXCLUSIVE_DNAT" } },
    { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "SHARED_DNAT" } },
    { chain: "POSTROUTING", match: {}, target: { kind: "jump", chain: "SNAT_FILTER" } },
    { chain: "SNAT_FILTER", match: {}, target: { kind: "jump", chain: "EXCLUSIVE_SNAT" } },
    { chain: "SNAT_FILTER", match: {}, target: { kind: "jump", chain: "SHARED_SNAT" } },
  ];
  const host = (p: Prefix4 | undefined): Prefix4 | undefined => (p ? { addr: p.addr, len: 32 } : undefined);
  for (const f of c.fips) {
    const eip = host(parse(f.eip, f.path, "FIP EIP"));
    const inner = host(parse(f.internalIp, f.path, "FIP internal IP"));
    if (!eip || !inner) continue;
    const p = f.path ? { path: f.path } : {};
    rules.push({ chain: "EXCLUSIVE_DNAT", match: { dst: eip }, target: { kind: "DNAT", toIp: inner.addr }, ...p });
    rules.push({ chain: "EXCLUSIVE_SNAT", match: { src: inner }, target: { kind: "SNAT", toIp: eip.addr }, ...p });
  }
  for (const d of c.dnats) {
    const eip = host(parse(d.eip, d.path, "DNAT EIP"));
    const inner = host(parse(d.internalIp, d.path, "DNAT internal IP"));
    if (!eip || !inner) continue;
    rules.push({ chain: "SHARED_DNAT", match: { proto: d.protocol, dst: eip, dport: d.externalPort }, target: { kind: "DNAT", toIp: inner.addr, toPort: d.internalPort }, ...(d.path ? { path: d.path } : {}) });
  }
  for (const s of c.snats) {
    const eip = host(parse(s.eip, s.path, "SNAT EIP"));
    const cidr = parse(s.internalCidr, s.path, "SNAT internal CIDR");
    if (!eip || !cidr) continue;
    rules.push({ chain: "SHARED_SNAT", match: { outIface: "net1", src: cidr }, target: { kind: "SNAT", toIp: eip.addr, ...(s.randomFully ? { randomFully: true } : {}) }, ...(s.path ? { path: s.path } : {}) });
  }
  return rules;
}

/** Checks `config` and builds the node; every problem is a diagnostic with the config's paths. */
export function createNatGateway(config: NatGatewayConfig): Result<NatGatewayNode> {
  const diags: Diagnostic[] = [];
  const base = config.path ?? [];
  const read = configReader("natgw", base, diags);
  const lan = read.prefix(config.lanCidr, [...base, "lanIp"], "eth0 address");
  const ext = read.prefix(config.externalCidr, [...base, "externalCidr"], "net1 address");
  const lanMac = read.mac(config.lanMac, [...base, "lanPort"], "eth0 MAC");
  const extMac = read.mac(config.externalMac, [...base, "externalMac"], "net1 MAC");
  const vpcGwIp = read.ip4(config.vpcGatewayIp, base, "VPC gateway");
  const vpcGwMac = read.mac(config.vpcGatewayMac, base, "VPC gateway MAC");
  const extGwIp = read.ip4(config.externalGateway, [...base, "externalGateway"], "external gateway");
  const extGwMac = read.mac(config.externalGatewayMac ?? DEFAULT_EXTERNAL_GATEWAY_MAC, base, "external gateway MAC");
  const eips: number[] = [];
  for (const e of config.eips) {
    const v = read.ip4(e.ip, e.path, "EIP");
    if (v !== undefined) eips.push(v);
  }
  const routes: LinuxRoute<NatGatewayIface>[] = [];
  if (lan) routes.push({ prefix: networkOf(lan), dev: "eth0", connected: true });
  if (ext) routes.push({ prefix: networkOf(ext), dev: "net1", connected: true });
  for (const r of config.routes) {
    const p = read.prefix(r.cidr, r.path, "route destination");
    const via = r.via !== undefined ? read.ip4(r.via, r.path, "route gateway") : undefined;
    if (p) routes.push({ prefix: networkOf(p), dev: r.dev, connected: false, ...(via !== undefined ? { via } : {}), ...(r.path ? { path: r.path } : {}) });
  }
  const neighbors = new Map<string, MacWords>();
  if (vpcGwIp !== undefined && vpcGwMac) neighbors.set(`eth0/${vpcGwIp}`, vpcGwMac);
  if (extGwIp !== undefined && extGwMac) neighbors.set(`net1/${extGwIp}`, extGwMac);
  addNeighbors(neighbors, config.neighbors, read, base);
  const rules = natGatewayRules(config, read.prefix);
  if (diags.length > 0 || !lan || !ext || !lanMac || !extMac) return fail(...diags);
  const table = buildNatTable(NAT_GATEWAY_CHAINS, rules);
  if (!table.ok) return table;
  return ok(
    new NatGatewayNode({
      name: config.name,
      lanPort: config.lanPort,
      table: table.value,
      addrs: { eth0: lan.addr, net1: ext.addr },
      extraLocals: eips,
      routes,
      neighbors,
      macs: { eth0: lanMac, net1: extMac },
    }),
  );
}

/** A NAT gateway pod's network namespace; see the module header. */
export class NatGatewayNode extends LinuxBox<NatGatewayIface> {
  /** The OVN switch port of eth0. */
  readonly lanPort: string;

  constructor(parts: LinuxBoxParts<NatGatewayIface> & { readonly lanPort: string }) {
    super(parts, { ovnIface: "eth0", arpNote: "ARP is answered by the pod's kernel (the answer is not simulated)", self: "the gateway pod", listeners: false });
    this.lanPort = parts.lanPort;
  }

  /** Processes one packet arriving on `iface`; see the module header. `key` is not modified. */
  process(key: Uint32Array, iface: NatGatewayIface): NatGatewayStep {
    return { gateway: this.name, ...this.run(key, iface) };
  }
}

/** The description of a gateway drop reason. */
export function describeNatGatewayDrop(r: NatGatewayDropReason): string {
  return NAT_GATEWAY_DROP_REASONS[r];
}
