/**
 * Kube-OVN manifests → the OVN Northbound network kube-ovn-controller would build
 * (kube-ovn-mapping.md §1-4, §7), plus the names `ovnsim trace` accepts for pods, services and
 * nodes.
 *
 * Mapped: the default install (router `ovn-cluster`, `join` with one `node-<node>` port per Node,
 * `ovn-default`, the six cluster load balancers, the join default route, the policy table: 31000
 * allow per subnet, 30000 reroute per node InternalIP, 29000 per (distributed subnet × node) port
 * group or per centralized subnet to its gateway node), overlay Subnets (cidrBlock, gateway,
 * excludeIps, namespaces, gatewayType/gatewayNode, private/allowSubnets ACLs, enableLb), custom
 * Vpcs (router, 31000 allow per subnet, staticRoutes, policyRoutes, their own six LBs), Nodes (a
 * chassis each, encap = TUNNEL_TYPE on the InternalIP, join address lowest-free or pinned), Pods
 * (subnet from the pod or namespace annotation or a Subnet's `namespaces`, address lowest-free or
 * pinned, MAC pinned or derived, port `<pod>.<ns>` on its node, port groups `node.<node>` and
 * `<subnet>.<node>`), Services (ClusterIP VIPs on the VPC's LBs, session affinity to the
 * `*-session` LBs, backends from Endpoints or EndpointSlices, else from the selector's pods; no
 * backend, no VIP), NetworkPolicies (netpol.ts); ProviderNetworks, Vlans, underlay subnets
 * (localnet port, logicalGateway, U2O interconnection) and the vlan-mode install (underlay.ts); Vpc
 * enableExternal and OvnEip / OvnFip / OvnSnatRule / OvnDnatRule (ovn-nat.ts); the default VPC's
 * external gateway (ConfigMap `ovn-external-gw-config`) and the pods' `eip` / `snat` annotations
 * (external-gw.ts: planned before the pods, applied to the assembled network); VPC NAT gateways
 * with their IptablesEIP/Snat/Dnat/FIP rules (nat-gateway.ts: the gateway pod's port, placed before
 * the other pods, and a model NatGateway; the ConfigMaps `ovn-vpc-nat-gw-config` /
 * `ovn-vpc-nat-config` and the external network's NetworkAttachmentDefinition are read there);
 * OVN-IC (`ovn-ic-config`, ic.ts: the transit switch, its ports, the remote zones' gateways and the
 * learned routes, given the other zones' manifests as `peers`). Subnets whose provider is a non-OVN
 * attachment (`<nad>.<ns>`) only do IPAM: they get no switch. Subnet `natOutgoing` (node-host.ts: a
 * model NodeHost per Node: ovn0, the host routes and the ipsets of the host's MASQUERADE rules,
 * with a centralized subnet's `gatewayNode: node:ip` SNAT; host iptables, no OVN object).
 *
 * IPv6 (kube-ovn-mapping.md §1.2-1.5, §2.3, §4): a Subnet's cidrBlock (and POD_CIDR) may be one
 * IPv4 CIDR, one IPv6 CIDR, or one of each ("v4,v6" in either order); JOIN_CIDR is IPv4 or "v4,v6".
 * Each family has its own gateway ("g4,g6"; default the first address of each CIDR), excludeIps
 * and lowest-free allocator (ipam.ts). Pods, and the nodes' join ports, get "MAC v4 v6" (a pinned
 * ip_address of a dual-stack subnet is "v4,v6"); router ports a network of each family; switches
 * `ipv6_prefix` (the IPv6 network address, as Kube-OVN's ovn-nbctl client wrote it) beside
 * `subnet`. The policy table gains, per family, `ip6.dst == <cidr>` allow (31000), `ip6.dst ==
 * <node IPv6 InternalIP>` reroute to the node's join IPv6 (30000, address-family 6) and `ip6.src
 * == $<pg>_ip6` (or the centralized subnet's IPv6 CIDR) reroute to the join IPv6 (29000); the
 * default VPC routes `::/0` via the join IPv6 gateway. IPv6 ClusterIPs (spec.clusterIPs) become
 * `[v6]:port` VIPs on the same load balancers, with the backends of their family.
 *
 * A private subnet gets its ACLs per family (`ip6.src == <cidr> && ip6.dst == <cidr>`, the join
 * CIDR's IPv6 half, the IPv6 allowSubnets), as Kube-OVN's SetLogicalSwitchPrivate does.
 *
 * Not mapped yet, each an error naming the resource: IPv6 in underlay subnets, in VPC NAT
 * gateways, and in a zone with OVN-IC; IPv6-only nodes. The modules that map
 * IPv4 only (underlay.ts, nat-gateway.ts, ovn-nat.ts, external-gw.ts, node-host.ts) see the
 * subnets that have an IPv4 CIDR, and of those only their IPv4 half. ConfigMaps other than
 * Kube-OVN's are ignored.
 *
 * Subnets, Vpc routes, Services and their endpoints, and Pods are checked as the API server and
 * Kube-OVN's webhooks check them (validate.ts); each problem is one error naming the resource.
 *
 * Decisions where Kube-OVN is random or ordered by events: MACs are derived from names
 * (ipam.ts); addresses are handed out in document order, lowest free first: nodes, then each
 * subnet's U2O address, then the EIPs (ovn-nat.ts), then the default VPC's external port
 * (external-gw.ts), then NAT gateway pods, then pods.
 */
import { List, OrderedMap } from "immutable";
import { error, formatIpv4, parseIpv4, warning, type Diagnostic } from "../../base/index.js";
import {
  Acl,
  Chassis,
  Encap,
  LoadBalancer,
  LogicalRouter,
  LogicalSwitch,
  Network,
  PortGroup,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
  type AddressSet,
  type MacBinding,
} from "../../model/index.js";
import { MacGenerator, SubnetIpam, SubnetIpam6, formatSubnet, formatSubnet6, inSubnet, inSubnet6, parseExcludes, parseExcludes6, parseIpv4Cidr, parseIpv6Big, formatIpv6Big, parseIpv6Cidr, type Ipv4Subnet, type Ipv6Subnet } from "./ipam.js";
import { isAttachmentSubnet, placeNatGateways } from "./nat-gateway.js";
import { mapOvnIc } from "./ic.js";
import { mapNetworkPolicies } from "./netpol.js";
import { planExternalGateway, withExternalGateway } from "./external-gw.js";
import { ovnNatRows } from "./ovn-nat.js";
import { mapNodeHosts } from "./node-host.js";
import { readSettings } from "./settings.js";
import { checkSubnetSpec, nodeProblems, podProblems, readAllowSubnets, serviceProblems, vpcRouteProblems, type AllowSubnet } from "./validate.js";
import { hasRouterPort, localnetPort, nodeBridges, providerNetworks, readUnderlay, routedAsOverlay, routerAddress, u2oRouterRows, underlaySubnet, type UnderlaySubnet } from "./underlay.js";
import { resourceName, type KubeObject, type NamespaceInfo, type NodeInfo, type PodInfo, type ServiceInfo, type SubnetInfo } from "./types.js";

/** What `ovnsim trace` can name in a network built from manifests. */
export interface KubeNames {
  /** "namespace/name" → the pod's switch port. */
  readonly pods: ReadonlyMap<string, string>;
  /** "namespace/name" → ClusterIPs and ports. */
  readonly services: ReadonlyMap<string, { readonly ips: readonly string[]; readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: string }[] }>;
  /** Node name → InternalIP (IPv4). */
  readonly nodes: ReadonlyMap<string, string>;
  /** Node name → IPv6 InternalIP, for the nodes that have one. */
  readonly nodes6: ReadonlyMap<string, string>;
}

const DEFAULT_VPC = "ovn-cluster";
const dots = (s: string): string => s.replace(/-/g, ".");
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? v.split(",").map((x) => x.trim()).filter(Boolean) : []);
const bool = (v: unknown, dflt: boolean): boolean => (typeof v === "boolean" ? v : dflt);
const KV = (o: Record<string, string>): OrderedMap<string, string> => OrderedMap(Object.entries(o));

/** A subnet's IPv6 half: its CIDR, gateway and allocator. */
interface Family6 {
  readonly cidr: Ipv6Subnet;
  readonly gateway: string;
  readonly ipam: SubnetIpam6;
}

interface SubnetState {
  readonly name: string;
  readonly obj: KubeObject | undefined;
  /** The IPv4 CIDR, gateway and allocator; undefined for an IPv6-only subnet. */
  readonly cidr: Ipv4Subnet | undefined;
  readonly gateway: string | undefined;
  readonly ipam: SubnetIpam | undefined;
  /** The IPv6 half of an IPv6 or dual-stack subnet. */
  readonly v6: Family6 | undefined;
  readonly excludeIps: string[];
  readonly vpc: string;
  readonly namespaces: string[];
  readonly gatewayType: "distributed" | "centralized";
  readonly gatewayNodes: string[];
  readonly enableLb: boolean;
  readonly isJoin: boolean;
  readonly privateAcls: boolean;
  /** `allowSubnets` as written, each with its family. */
  readonly allowSubnets: readonly AllowSubnet[];
  /** The cidrBlock lists its IPv6 CIDR first (a private subnet's ACLs follow that order). */
  readonly v6First: boolean;
  readonly routerMac: string;
  /** Underlay attachment (underlay.ts); undefined for an overlay subnet. */
  readonly underlay: UnderlaySubnet | undefined;
  ports: SwitchPort[];
}

/** A subnet with an IPv4 CIDR: what the modules that map only IPv4 (underlay, NAT, host, IC) take. */
type Subnet4 = SubnetState & { readonly cidr: Ipv4Subnet; readonly gateway: string; readonly ipam: SubnetIpam };
const has4 = (s: SubnetState): s is Subnet4 => s.cidr !== undefined;

/**
 * A private subnet's to-lport ACLs (Kube-OVN's SetLogicalSwitchPrivate): drop all IP (1000, logged,
 * named after the subnet); then, for each family of the cidrBlock in its order, the subnet to
 * itself (1001), the join CIDR of that family (3000), and each allowSubnets entry of that family
 * both ways (1001). An entry of the other family only gives rules on a subnet that has it.
 */
function privateSubnetAcls(s: SubnetState, joinCidr: string): Acl[] {
  const acls = [Acl({ direction: "to-lport", priority: 1000, match: "ip", action: "drop", name: s.name, log: true, severity: "warning" })];
  const families: [4 | 6, string | undefined][] = [
    [4, s.cidr && formatSubnet(s.cidr)],
    [6, s.v6 && formatSubnet6(s.v6.cidr)],
  ];
  if (s.v6First) families.reverse();
  for (const [family, c] of families) {
    if (c === undefined) continue;
    const ip = `ip${family}`;
    acls.push(Acl({ direction: "to-lport", priority: 1001, match: `${ip}.src == ${c} && ${ip}.dst == ${c}`, action: "allow-related" }));
    for (const j of joinCidr.split(",").map((x) => x.trim())) {
      if ((j.includes(":") ? 6 : 4) === family) acls.push(Acl({ direction: "to-lport", priority: 3000, match: `${ip}.src == ${j}`, action: "allow-related" }));
    }
    for (const a of s.allowSubnets) {
      if (a.family === family) acls.push(Acl({ direction: "to-lport", priority: 1001, match: `(${ip}.src == ${c} && ${ip}.dst == ${a.cidr}) || (${ip}.src == ${a.cidr} && ${ip}.dst == ${c})`, action: "allow-related" }));
    }
  }
  return acls;
}

/** A cidrBlock (or an install setting) of one IPv4 CIDR, one IPv6 CIDR, or one of each, comma-separated in either order. */
function parseCidrBlock(text: string): { v4: Ipv4Subnet | undefined; v6: Ipv6Subnet | undefined } | undefined {
  const parts = text.split(",").map((x) => x.trim());
  let v4: Ipv4Subnet | undefined;
  let v6: Ipv6Subnet | undefined;
  for (const p of parts) {
    const c4 = parseIpv4Cidr(p);
    const c6 = c4 ? undefined : parseIpv6Cidr(p);
    if (c4 && !v4) v4 = c4;
    else if (c6 && !v6) v6 = c6;
    else return undefined;
  }
  return parts.length > 2 ? undefined : { v4, v6 };
}
const CIDR_BLOCK_EXPECTED = "expected an IPv4 CIDR, an IPv6 CIDR, or one of each separated by a comma";

/** IPv6 text in RFC 5952 form (as Kube-OVN writes addresses), or undefined when it is not IPv6. */
const ip6Text = (ip: string): string | undefined => {
  const b = parseIpv6Big(ip.trim());
  return b === undefined ? undefined : formatIpv6Big(b);
};

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Builds the network of one zone from its manifests. `peers` are the manifests of the other
 * availability zones of the same OVN-IC database (ic.ts); they matter only with an enabled
 * `ovn-ic-config`.
 */
export function buildKubeNetwork(objs: readonly KubeObject[], name: string, peers: readonly (readonly KubeObject[])[] = []): { network: Network; names: KubeNames; diags: Diagnostic[] } {
  const self = buildZone(objs, name);
  const zone = (o: readonly KubeObject[], b: typeof self) => ({ objs: o, network: b.network, nodes: b.names.nodes, diags: b.diags });
  const ic = mapOvnIc(zone(objs, self), peers.map((p) => zone(p, buildZone(p, ""))));
  return { network: ic.network, names: self.names, diags: [...self.diags, ...ic.diags] };
}

function buildZone(objs: readonly KubeObject[], name: string): { network: Network; names: KubeNames; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const bad = (o: KubeObject, msg: string): void => void diags.push(error("kube.invalid", `${resourceName(o)}: ${msg}`, { loc: o.loc }));
  const { settings, diags: sd } = readSettings(objs);
  diags.push(...sd);
  const { config: underlay, diags: ud } = readUnderlay(objs, settings);
  diags.push(...ud);
  const macs = new MacGenerator();
  const of = (kind: string): KubeObject[] => objs.filter((o) => o.kind === kind);
  const install = of("InstallConfig")[0];

  // Nodes: InternalIP, join address.
  // JOIN_CIDR is checked by readSettings: an IPv4 CIDR, and optionally an IPv6 one.
  const join = parseCidrBlock(settings.JOIN_CIDR)!;
  const joinCidr = join.v4!;
  const joinGw = formatIpv4(joinCidr.network + 1);
  const joinGw6 = join.v6 ? formatIpv6Big(join.v6.network + 1n) : undefined;
  const nodes: (NodeInfo & { internalIp6: string | undefined; joinIp: string; joinIp6: string; mac: string })[] = [];
  const nodeIps = new Set<number>();
  const nodeIps6 = new Set<bigint>();
  for (const n of of("Node")) {
    const problems = nodeProblems(n.status);
    for (const m of problems) bad(n, m);
    if (problems.length > 0) continue;
    const addrs = Array.isArray(n.status.addresses) ? (n.status.addresses as Record<string, unknown>[]) : [];
    const ip = str(addrs.find((a) => a.type === "InternalIP" && parseIpv4(String(a.address)) !== undefined)?.address);
    if (!ip) {
      bad(n, "status.addresses has no IPv4 InternalIP");
      continue;
    }
    nodeIps.add(parseIpv4(ip)!);
    // The first IPv6 InternalIP (Kube-OVN takes one per family).
    const ip6 = addrs.filter((a) => a.type === "InternalIP").map((a) => ip6Text(String(a.address))).find((x) => x !== undefined);
    if (ip6 !== undefined) nodeIps6.add(parseIpv6Big(ip6)!);
    nodes.push({ name: n.name, internalIp: ip, internalIp6: ip6, joinIp: "", joinIp6: "", mac: "" });
  }
  const joinIpam = new SubnetIpam(joinCidr, parseExcludes([joinGw]).ranges);
  const joinIpam6 = join.v6 && joinGw6 ? new SubnetIpam6(join.v6, parseExcludes6([joinGw6]).ranges) : undefined;
  for (const n of nodes) {
    const obj = of("Node").find((o) => o.name === n.name)!;
    // A pinned join address: "v4", or "v4,v6" when JOIN_CIDR is dual-stack.
    const pinned = obj.annotations["ovn.kubernetes.io/ip_address"]?.split(",").map((x) => x.trim());
    let ip: string | undefined = pinned?.[0];
    let ip6: string | undefined = pinned?.[1] !== undefined ? ip6Text(pinned[1]) : undefined;
    if (pinned !== undefined) {
      const r = joinIpam.claim(pinned[0]!);
      if (r) bad(obj, `join address ${pinned[0]!} is ${r === "outside" ? `outside JOIN_CIDR ${settings.JOIN_CIDR}` : r === "taken" ? "taken by another node" : "not an IPv4 address"}`);
    } else ip = joinIpam.allocate();
    if (pinned?.[1] !== undefined) {
      const r = joinIpam6 ? joinIpam6.claim(pinned[1]) : "outside";
      if (r) bad(obj, `join address ${pinned[1]} is ${r === "outside" ? `outside JOIN_CIDR ${settings.JOIN_CIDR}` : r === "taken" ? "taken by another node" : "not an IPv6 address"}`);
    } else ip6 = joinIpam6?.allocate();
    const mac = obj.annotations["ovn.kubernetes.io/mac_address"] ?? macs.macFor(`node-${n.name}`);
    macs.reserve(mac);
    Object.assign(n, { joinIp: ip ?? "", joinIp6: ip6 ?? "", mac });
  }

  // VPCs.
  const customVpcs = of("Vpc").filter((v) => v.name !== DEFAULT_VPC);
  for (const v of of("Vpc")) for (const m of vpcRouteProblems(v.spec)) bad(v, m);
  const vpcNames = [DEFAULT_VPC, ...customVpcs.map((v) => v.name)];

  // Subnets: join, ovn-default (unless given), the user's.
  const subnets: SubnetState[] = [];
  const addSubnet = (nm: string, obj: KubeObject | undefined, spec: Record<string, unknown>, isJoin: boolean): void => {
    // A subnet from the install settings (join, ovn-default) reports against the InstallConfig.
    const report = (m: string): void => void (obj ? bad(obj, m) : install ? bad(install, `subnet ${nm}: ${m}`) : diags.push(error("kube.invalid", `subnet ${nm}: ${m}`)));
    if (obj) checkSubnetSpec(spec, report);
    const cidrText = str(spec.cidrBlock) ?? "";
    const block = parseCidrBlock(cidrText);
    if (!block) {
      report(`cidrBlock ${JSON.stringify(cidrText)}: ${CIDR_BLOCK_EXPECTED}`);
      return;
    }
    const { v4: cidr, v6: cidr6 } = block;
    // What is not mapped for IPv6 yet is refused by name rather than built as IPv4 only.
    if (cidr6 && spec.vlan) {
      report(`cidrBlock ${cidrText}: IPv6 in an underlay subnet (vlan) is not mapped yet`);
      return;
    }
    // gateway: one address per family of the cidrBlock, defaulting to each CIDR's first address.
    const gwText = str(spec.gateway);
    const gws = gwText?.split(",").map((x) => x.trim());
    // Every entry an address: a bad one must not leave its family to the default.
    const badGw = gws?.find((g) => parseIpv4(g) === undefined && ip6Text(g) === undefined);
    if (badGw !== undefined) {
      report(`gateway ${JSON.stringify(gwText)}: ${JSON.stringify(badGw)} is not an IPv4 or IPv6 address`);
      return;
    }
    const gateway = !cidr ? undefined : gws === undefined ? formatIpv4(cidr.network + 1) : gws.find((g) => parseIpv4(g) !== undefined);
    const gateway6 = cidr6 ? (gws ? gws.map(ip6Text).find((g) => g !== undefined) : formatIpv6Big(cidr6.network + 1n)) : undefined;
    if (cidr && cidr6 && gws !== undefined && (gateway === undefined || gateway6 === undefined || gws.length !== 2)) {
      report(`gateway ${gwText!}: expected an IPv4 and an IPv6 address for cidrBlock ${cidrText}`);
      return;
    }
    if (cidr) {
      const gw = parseIpv4(gateway ?? "");
      if (gw === undefined || !inSubnet(gw, cidr)) {
        report(`gateway ${gateway ?? gwText ?? ""} is outside cidrBlock ${formatSubnet(cidr)}`);
        return;
      }
    }
    if (cidr6) {
      const gw6 = gateway6 === undefined ? undefined : parseIpv6Big(gateway6);
      if (gw6 === undefined || !inSubnet6(gw6, cidr6)) {
        report(`gateway ${gateway6 ?? gwText ?? ""} is outside cidrBlock ${formatSubnet6(cidr6)}`);
        return;
      }
    }
    // excludeIps: IPv6 entries (with a colon) go to the IPv6 allocator of a subnet that has one.
    const excl = strs(spec.excludeIps);
    const isV6Entry = (e: string): boolean => cidr6 !== undefined && e.includes(":");
    const ex = parseExcludes([...excl.filter((e) => !isV6Entry(e)), ...(gateway !== undefined ? [gateway] : [])]);
    const ex6 = parseExcludes6([...excl.filter(isV6Entry), ...(gateway6 !== undefined ? [gateway6] : [])]);
    for (const b of [...ex.bad, ...ex6.bad]) report(`excludeIps entry ${JSON.stringify(b)}: expected an address or A..B`);
    const vpc = str(spec.vpc) ?? DEFAULT_VPC;
    if (!vpcNames.includes(vpc)) report(`vpc ${vpc}: no Vpc of that name`);
    const overlayDefault = vpc === DEFAULT_VPC && !isJoin && !spec.vlan;
    const ipam = cidr ? new SubnetIpam(cidr, ex.ranges, overlayDefault ? nodeIps : []) : undefined;
    const v6 = cidr6 && gateway6 !== undefined ? { cidr: cidr6, gateway: gateway6, ipam: new SubnetIpam6(cidr6, ex6.ranges, overlayDefault ? nodeIps6 : []) } : undefined;
    const ul = cidr && gateway !== undefined && ipam ? underlaySubnet(underlay, spec, { cidr, gateway, ipam }, report) : undefined;
    const gatewayNodes = strs(spec.gatewayNode).map((g) => g.split(":")[0]!);
    const gatewayType = str(spec.gatewayType) === "centralized" ? "centralized" : "distributed";
    if (gatewayType === "centralized" && gatewayNodes.length === 0) report("gatewayType centralized needs gatewayNode");
    const routerMac = macs.macFor(`${vpc}-${nm}`);
    subnets.push({
      name: nm,
      obj,
      cidr,
      gateway,
      ipam,
      v6,
      excludeIps: excl,
      vpc,
      namespaces: strs(spec.namespaces),
      gatewayType,
      gatewayNodes,
      enableLb: !isJoin && bool(spec.enableLb, settings.ENABLE_LB === "true"),
      isJoin,
      privateAcls: bool(spec.private, false),
      allowSubnets: readAllowSubnets(strs(spec.allowSubnets), report),
      v6First: cidrText.split(",")[0]!.includes(":"),
      routerMac,
      underlay: ul,
      ports: [],
    });
  };
  addSubnet("join", undefined, { cidrBlock: settings.JOIN_CIDR, gateway: [joinGw, ...(joinGw6 ? [joinGw6] : [])].join(",") }, true);
  const userSubnets = of("Subnet");
  if (!userSubnets.some((s) => s.name === "ovn-default")) {
    // POD_GATEWAY defaults to the first address of each POD_CIDR family (the controller's default).
    const podGateway = install?.spec.POD_GATEWAY !== undefined ? settings.POD_GATEWAY : undefined;
    addSubnet("ovn-default", undefined, { cidrBlock: settings.POD_CIDR, gateway: podGateway, excludeIps: settings.EXCLUDE_IPS, ...underlay.defaultSubnetSpec }, false);
  }
  for (const s of userSubnets) {
    if (isAttachmentSubnet(s)) {
      checkSubnetSpec(s.spec, (m) => bad(s, m)); // IPAM only (nat-gateway.ts reads it)
      continue;
    }
    if (s.name === "join") {
      bad(s, "the join subnet comes from JOIN_CIDR (InstallConfig), not from a Subnet");
      continue;
    }
    addSubnet(s.name, s, s.spec, false);
  }
  // Overlaps within a VPC.
  for (let i = 0; i < subnets.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = subnets[i]!;
      const b = subnets[j]!;
      if (a.vpc !== b.vpc || a.underlay?.vlan !== b.underlay?.vlan) continue; // Kube-OVN compares subnets of the same VPC and Vlan
      const o = a.obj ?? b.obj;
      const other = b.obj ? resourceName(b.obj) : `subnet ${b.name}`;
      if (a.cidr && b.cidr) {
        const p = Math.min(a.cidr.plen, b.cidr.plen);
        if (o && (inSubnet(a.cidr.network, { network: b.cidr.network, plen: p }) || inSubnet(b.cidr.network, { network: a.cidr.network, plen: p }))) {
          bad(o, `cidrBlock ${formatSubnet(a.cidr)} overlaps ${other}'s ${formatSubnet(b.cidr)} in VPC ${a.vpc}`);
        }
      }
      if (a.v6 && b.v6) {
        const p = { network: b.v6.cidr.network, plen: Math.min(a.v6.cidr.plen, b.v6.cidr.plen) };
        if (o && inSubnet6(a.v6.cidr.network, p)) bad(o, `cidrBlock ${formatSubnet6(a.v6.cidr)} overlaps ${other}'s ${formatSubnet6(b.v6.cidr)} in VPC ${a.vpc}`);
      }
    }
  }
  const subnetByName = new Map(subnets.map((s) => [s.name, s]));
  // The modules that map IPv4 only see the subnets that have an IPv4 CIDR.
  const subnets4 = subnets.filter(has4);
  const subnetByName4 = new Map(subnets4.map((s) => [s.name, s]));
  const { external, gateway: externalGateway } = planExternalGateway(objs, settings, subnetByName4, macs, bad); // EIPs before pods
  for (const n of nodes) {
    if (n.joinIp) subnetByName.get("join")!.ports.push(SwitchPort({ name: `node-${n.name}`, addresses: List([[n.mac, n.joinIp, n.joinIp6].filter(Boolean).join(" ")]), chassis: n.name }));
  }

  // OVN-IC (ic.ts) advertises IPv4 routes only: refuse it in a zone with IPv6 rather than half-map
  // it.
  const icConfig = objs.find((o) => o.kind === "ConfigMap" && o.name === "ovn-ic-config" && o.namespace === "kube-system");
  const v6Subnet = subnets.find((s) => s.v6);
  if (icConfig && (icConfig.raw.data as Record<string, unknown> | undefined)?.["enable-ic"] === "true" && v6Subnet) {
    bad(icConfig, `subnet ${v6Subnet.name} has an IPv6 CIDR (${formatSubnet6(v6Subnet.v6!.cidr)}): IPv6 with OVN-IC is not mapped yet`);
  }

  // Namespaces → subnet.
  // Every namespace carries the label kubernetes.io/metadata.name, as the API server adds it.
  const namespaces: NamespaceInfo[] = of("Namespace").map((n) => ({ name: n.name, labels: { ...n.labels, "kubernetes.io/metadata.name": n.name } }));
  const nsSubnet = (ns: string): SubnetState | undefined => {
    const vpc = customVpcs.find((v) => strs(v.spec.namespaces).includes(ns));
    const listed = subnets.find((s) => !s.isJoin && s.namespaces.includes(ns) && (!vpc || s.vpc === vpc.name));
    if (listed) return listed;
    if (vpc) return subnets.find((s) => s.name === str(vpc.spec.defaultSubnet)) ?? subnets.find((s) => s.vpc === vpc.name && !s.isJoin);
    return subnetByName.get("ovn-default");
  };

  // VPC NAT gateways: their pods' pinned lanIps are claimed before other pods are placed.
  for (const g of of("VpcNatGateway")) {
    const sn = subnetByName.get(str(g.spec.subnet) ?? "");
    if (sn?.v6) bad(g, `subnet ${sn.name} has an IPv6 CIDR (${formatSubnet6(sn.v6.cidr)}): IPv6 in NAT gateways is not mapped yet`);
  }
  const natgw = placeNatGateways({ objs, subnets: subnets4, nodes, vpcs: vpcNames, macs });

  // Pods.
  const pods: PodInfo[] = [];
  for (const p of of("Pod")) {
    const problems = podProblems(p.spec);
    for (const m of problems) bad(p, m);
    if (problems.length > 0 || p.spec.hostNetwork === true) continue;
    const ns = p.namespace ?? "default";
    const pinnedLs = p.annotations["ovn.kubernetes.io/logical_switch"];
    const sn = pinnedLs !== undefined ? subnetByName.get(pinnedLs) : nsSubnet(ns);
    if (!sn || sn.isJoin) {
      bad(p, pinnedLs !== undefined ? `logical_switch ${pinnedLs}: no such subnet` : `namespace ${ns} has no subnet`);
      continue;
    }
    // Addresses: one per family of the subnet (IPv4 first), pinned by ip_address ("v4", "v6" or
    // "v4,v6" in either order) or the lowest free of each family.
    const where = sn.obj ? resourceName(sn.obj) : `subnet ${sn.name}`;
    const families = [
      ...(sn.cidr && sn.ipam ? [{ ipam: sn.ipam, cidr: formatSubnet(sn.cidr), name: "IPv4", of: (x: string): boolean => !x.includes(":") }] : []),
      ...(sn.v6 ? [{ ipam: sn.v6.ipam, cidr: formatSubnet6(sn.v6.cidr), name: "IPv6", of: (x: string): boolean => x.includes(":") }] : []),
    ];
    const pinnedIp = p.annotations["ovn.kubernetes.io/ip_address"];
    const ips: string[] = [];
    if (pinnedIp !== undefined) {
      // A single-family subnet takes the annotation whole, so a malformed one is named as written.
      const parts = families.length === 1 ? [pinnedIp] : pinnedIp.split(",").map((x) => x.trim());
      if (families.length > 1 && (parts.length !== 2 || families.some((f) => parts.filter(f.of).length !== 1))) {
        bad(p, `ip_address ${JSON.stringify(pinnedIp)}: ${where} is dual-stack, expected an IPv4 and an IPv6 address separated by a comma`);
        continue;
      }
      for (const f of families) {
        const ip = parts.find(f.of)!;
        if (f.ipam.excludes(ip)) bad(p, `ip_address ${ip} is in ${where}'s excludeIps`);
        const r = f.ipam.claim(ip);
        if (r === "outside") bad(p, `ip_address ${ip} is outside ${where} (${f.cidr})`);
        else if (r === "taken") bad(p, `ip_address ${ip} is already taken`);
        else if (r === "bad") bad(p, `ip_address ${JSON.stringify(ip)} is not an ${f.name} address`);
        ips.push(f.name === "IPv6" ? (ip6Text(ip) ?? ip) : ip);
      }
    } else {
      for (const f of families) {
        const ip = f.ipam.allocate();
        if (ip !== undefined) ips.push(ip);
      }
      if (ips.length < families.length) {
        bad(p, `subnet ${sn.name} has no free address`);
        continue;
      }
    }
    const lsp = `${p.name}.${ns}`;
    const mac = (p.annotations["ovn.kubernetes.io/mac_address"] ?? macs.macFor(lsp)).toLowerCase();
    macs.reserve(mac);
    const node = str(p.spec.nodeName);
    if (node !== undefined && !nodes.some((n) => n.name === node)) bad(p, `spec.nodeName ${node}: no Node of that name`);
    const namedPorts: Record<string, { port: number; protocol: string }> = {};
    for (const c of Array.isArray(p.spec.containers) ? (p.spec.containers as Record<string, unknown>[]) : []) {
      for (const cp of Array.isArray(c.ports) ? (c.ports as Record<string, unknown>[]) : []) {
        if (typeof cp.name === "string" && typeof cp.containerPort === "number") namedPorts[cp.name] = { port: cp.containerPort, protocol: String(cp.protocol ?? "TCP").toLowerCase() };
      }
    }
    const addr = [mac, ...ips].join(" ");
    const portSec = p.annotations["ovn.kubernetes.io/port_security"] === "true";
    sn.ports.push(
      SwitchPort({
        name: lsp,
        addresses: List([addr]),
        portSecurity: portSec ? List([addr]) : List(),
        ...(node !== undefined ? { chassis: node } : {}),
        externalIds: KV({ pod: `${ns}/${p.name}`, ls: sn.name, vendor: "kube-ovn" }),
      }),
    );
    pods.push({ name: p.name, namespace: ns, labels: p.labels, lsp, subnet: sn.name, ips, mac, node, vpc: sn.vpc, namedPorts });
  }

  // Services → load balancers, per VPC.
  const lbNames = (vpc: string): Record<string, string> =>
    vpc === DEFAULT_VPC
      ? { tcp: "cluster-tcp-loadbalancer", udp: "cluster-udp-loadbalancer", sctp: "cluster-sctp-loadbalancer", "tcp-sess": "cluster-tcp-session-loadbalancer", "udp-sess": "cluster-udp-session-loadbalancer", "sctp-sess": "cluster-sctp-session-loadbalancer" }
      : { tcp: `vpc-${vpc}-tcp-load`, udp: `vpc-${vpc}-udp-load`, sctp: `vpc-${vpc}-sctp-load`, "tcp-sess": `vpc-${vpc}-tcp-sess-load`, "udp-sess": `vpc-${vpc}-udp-sess-load`, "sctp-sess": `vpc-${vpc}-sctp-sess-load` };
  const vips = new Map<string, OrderedMap<string, List<string>>>();
  const services: ServiceInfo[] = [];
  const svcNames = new Map<string, { ips: string[]; ports: { name: string; port: number; protocol: string }[] }>();
  for (const o of [...of("Service"), ...of("Endpoints"), ...of("EndpointSlice")]) for (const m of serviceProblems(o)) bad(o, m);
  for (const s of of("Service")) {
    const ns = s.namespace ?? "default";
    const ips = strs(s.spec.clusterIPs).length ? strs(s.spec.clusterIPs) : strs(s.spec.clusterIP);
    // IPv4 and IPv6 ClusterIPs (spec.clusterIPs of a dual-stack service), IPv6 in RFC 5952 form.
    const clusterIps = ips.filter((x) => x !== "None").flatMap((x) => (parseIpv4(x) !== undefined ? [x] : (ip6Text(x) ?? [])));
    const selector = s.spec.selector && typeof s.spec.selector === "object" ? (s.spec.selector as Record<string, string>) : undefined;
    services.push({ name: s.name, namespace: ns, clusterIps, selector });
    const ports = (Array.isArray(s.spec.ports) ? (s.spec.ports as Record<string, unknown>[]) : []).map((p) => ({
      name: str(p.name) ?? "",
      port: typeof p.port === "number" ? p.port : 0,
      protocol: String(p.protocol ?? "TCP").toLowerCase(),
      targetPort: p.targetPort ?? p.port,
    }));
    svcNames.set(`${ns}/${s.name}`, { ips: clusterIps, ports: ports.map(({ name: n, port, protocol }) => ({ name: n, port, protocol })) });
    if (clusterIps.length === 0) continue;
    // Backends: Endpoints, else EndpointSlices, else the selector's pods (all taken as ready).
    const backends = new Map<string, { ip: string; port: string }[]>();
    const ep = objs.find((o) => o.kind === "Endpoints" && o.name === s.name && o.namespace === ns);
    const slices = objs.filter((o) => o.kind === "EndpointSlice" && o.namespace === ns && o.labels["kubernetes.io/service-name"] === s.name);
    let selectedPods: PodInfo[] = [];
    if (ep) {
      for (const sub of Array.isArray(ep.raw.subsets) ? (ep.raw.subsets as Record<string, unknown>[]) : []) {
        const addrs = (Array.isArray(sub.addresses) ? (sub.addresses as Record<string, unknown>[]) : []).map((a) => str(a.ip)).filter((x): x is string => x !== undefined);
        for (const p of Array.isArray(sub.ports) ? (sub.ports as Record<string, unknown>[]) : []) {
          const list = backends.get(str(p.name) ?? "") ?? [];
          for (const a of addrs) list.push({ ip: ip6Text(a) ?? a, port: String(p.port) });
          backends.set(str(p.name) ?? "", list);
        }
      }
    } else if (slices.length) {
      for (const sl of slices) {
        const addrs = (Array.isArray(sl.raw.endpoints) ? (sl.raw.endpoints as Record<string, unknown>[]) : [])
          .filter((e) => (e.conditions as Record<string, unknown> | undefined)?.ready !== false)
          .flatMap((e) => strs(e.addresses));
        for (const p of Array.isArray(sl.raw.ports) ? (sl.raw.ports as Record<string, unknown>[]) : []) {
          const list = backends.get(str(p.name) ?? "") ?? [];
          for (const a of addrs) list.push({ ip: ip6Text(a) ?? a, port: String(p.port) });
          backends.set(str(p.name) ?? "", list);
        }
      }
    } else if (selector) {
      // Every address of each selected pod; a VIP takes those of its own family.
      selectedPods = pods.filter((p) => p.namespace === ns && selects(selector, p.labels));
      for (const sp of ports) {
        const list: { ip: string; port: string }[] = [];
        for (const p of selectedPods) {
          const tp = typeof sp.targetPort === "number" ? sp.targetPort : p.namedPorts[String(sp.targetPort)]?.port;
          if (tp !== undefined) for (const ip of p.ips) list.push({ ip, port: String(tp) });
        }
        backends.set(sp.name, list);
      }
    }
    // A port without backends gets no VIP (as Kube-OVN leaves it out): say why, since a trace to it
    // then goes on as if there were no Service.
    for (const sp of ports) {
      if ((backends.get(sp.name) ?? []).length > 0) continue;
      const why = ep
        ? `Endpoints ${ns}/${s.name} list no address for it`
        : slices.length > 0
          ? `the EndpointSlices of ${ns}/${s.name} list no ready address for it`
          : !selector
            ? "the Service has no selector, and no Endpoints or EndpointSlices are given"
            : selectedPods.length === 0
              ? `its selector (${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(", ")}) picks no pod of namespace ${ns}`
              : `targetPort ${JSON.stringify(sp.targetPort)} names no container port of the ${selectedPods.length} pod(s) its selector picks`;
      const label = `${sp.name === "" ? "" : `${sp.name} `}(${sp.port}/${sp.protocol.toUpperCase()})`;
      diags.push(warning("kube.service-no-backends", `${resourceName(s)}: port ${label} has no backends, so it gets no load-balancer VIP: ${why}`, { loc: s.loc }));
    }
    const firstBackendIp = [...backends.values()].flat()[0]?.ip;
    const vpc = pods.find((p) => p.ips.includes(firstBackendIp ?? ""))?.vpc ?? s.annotations["ovn.kubernetes.io/vpc"] ?? DEFAULT_VPC;
    const sess = str(s.spec.sessionAffinity) === "ClientIP";
    // `[v6]:port` for IPv6, as OVN writes VIPs and backends.
    const endpoint = (ip: string, port: string | number): string => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);
    for (const sp of ports) {
      const lb = lbNames(vpc)[`${sp.protocol}${sess ? "-sess" : ""}`];
      if (!lb) continue;
      let m = vips.get(lb) ?? OrderedMap<string, List<string>>();
      for (const ip of clusterIps) {
        const v6 = ip.includes(":");
        const list = [...new Set((backends.get(sp.name) ?? []).filter((b) => b.ip.includes(":") === v6).map((b) => endpoint(b.ip, b.port)))].sort();
        if (list.length > 0) m = m.set(endpoint(ip, sp.port), List(list)); // no ready backend: the VIP is not programmed
      }
      if (m.size > 0) vips.set(lb, m);
    }
  }

  // NetworkPolicies (namespaces that only pods name exist too, with just the automatic label).
  for (const ns of new Set([...pods.map((p) => p.namespace), ...of("NetworkPolicy").map((o) => o.namespace ?? "default")])) {
    if (!namespaces.some((n) => n.name === ns)) namespaces.push({ name: ns, labels: { "kubernetes.io/metadata.name": ns } });
  }
  // NetworkPolicies take comma lists of both families (netpol.ts).
  const both = <T>(a: T | undefined, b: T | undefined): T[] => [...(a !== undefined ? [a] : []), ...(b !== undefined ? [b] : [])];
  const subnetInfos: SubnetInfo[] = subnets
    .filter((s) => !s.isJoin)
    .map((s) => ({ name: s.name, cidr: both(s.cidr && formatSubnet(s.cidr), s.v6 && formatSubnet6(s.v6.cidr)).join(","), gateway: both(s.gateway, s.v6?.gateway).join(","), ...(s.underlay?.u2oIp ? { u2oIp: s.underlay.u2oIp } : {}) }));
  const npNodes = nodes.map((n) => ({ name: n.name, internalIp: both(n.internalIp, n.internalIp6).join(",") }));
  const np = mapNetworkPolicies({ policies: of("NetworkPolicy"), pods, namespaces, services, subnets: subnetInfos, nodes: npNodes });
  diags.push(...np.diags);
  const natGateways = natgw.finish(pods);
  diags.push(...natgw.diags);
  const hosts = mapNodeHosts({ objs, nodes, subnets: subnets4, svcCidr: settings.SVC_CIDR });
  diags.push(...hosts.diags);

  // Assemble.
  let loadBalancers = OrderedMap<string, LoadBalancer>();
  for (const vpc of vpcNames) {
    for (const [k, lb] of Object.entries(lbNames(vpc))) {
      const protocol = k.split("-")[0] as "tcp" | "udp" | "sctp";
      const sess = k.endsWith("-sess");
      loadBalancers = loadBalancers.set(
        lb,
        LoadBalancer({ name: lb, protocol, vips: vips.get(lb) ?? OrderedMap(), ...(sess ? { selectionFields: List(["ip_src"]), options: OrderedMap([["affinity_timeout", "10800"]]) } : {}), externalIds: KV({ vendor: "kube-ovn" }) }),
      );
    }
  }
  const pns = providerNetworks(underlay, subnets4, macs);
  const natRows = ovnNatRows(objs, external, subnetByName4, pods, (s) => (s.underlay && !s.underlay.logicalGateway ? pns.gatewayMac(s.underlay, s.gateway) : undefined), bad, externalGateway.kind === "on" && externalGateway.gateway.type === "distributed");
  for (const r of natRows.values()) for (const lb of r.loadBalancers) loadBalancers = loadBalancers.set(lb.name, lb);
  const u2oAddressSets: AddressSet[] = [];
  const macBindings: MacBinding[] = [];
  let switches = OrderedMap<string, LogicalSwitch>();
  let portGroups = OrderedMap<string, PortGroup>();
  let routers = OrderedMap<string, LogicalRouter>();
  for (const vpc of vpcNames) {
    const vsubs = subnets.filter((s) => s.vpc === vpc);
    const vobj = customVpcs.find((v) => v.name === vpc);
    const policies: RouterPolicy[] = [];
    const pol = (priority: number, match: string, action: "allow" | "reroute", nexthops: string[], ext: Record<string, string>): void =>
      void policies.push(RouterPolicy({ priority, match, action, nexthops: List(nexthops), externalIds: KV({ ...ext, vendor: "kube-ovn" }) }));
    // Each row per family the subnet (or node) has: IPv4 first, then IPv6 with `ip6.` and the join
    // IPv6.
    for (const s of vsubs) {
      if (vpc !== DEFAULT_VPC || routedAsOverlay(s.underlay)) {
        if (s.cidr) pol(31000, `ip4.dst == ${formatSubnet(s.cidr)}`, "allow", [], { subnet: s.name });
        if (s.v6) pol(31000, `ip6.dst == ${formatSubnet6(s.v6.cidr)}`, "allow", [], { subnet: s.name });
      }
    }
    if (vpc === DEFAULT_VPC) {
      for (const n of nodes) {
        if (n.joinIp) pol(30000, `ip4.dst == ${n.internalIp}`, "reroute", [n.joinIp], { node: n.name, "address-family": "4" });
        if (n.joinIp && n.joinIp6 && n.internalIp6) pol(30000, `ip6.dst == ${n.internalIp6}`, "reroute", [n.joinIp6], { node: n.name, "address-family": "6" });
      }
      for (const s of vsubs) {
        if (s.isJoin || !routedAsOverlay(s.underlay)) continue;
        if (s.gatewayType === "centralized") {
          const gw = nodes.find((n) => n.name === s.gatewayNodes[0]);
          if (gw?.joinIp && s.cidr) pol(29000, `ip4.src == ${formatSubnet(s.cidr)}`, "reroute", [gw.joinIp], { subnet: s.name, [gw.name]: gw.joinIp });
          if (gw?.joinIp && gw.joinIp6 && s.v6) pol(29000, `ip6.src == ${formatSubnet6(s.v6.cidr)}`, "reroute", [gw.joinIp6], { subnet: s.name, [gw.name]: gw.joinIp6 });
          continue;
        }
        for (const n of nodes) {
          if (!n.joinIp) continue;
          const pg = dots(`${s.name}.${n.name}`);
          if (s.cidr) pol(29000, `ip4.src == $${pg}_ip4`, "reroute", [n.joinIp], { subnet: s.name, node: n.name });
          if (s.v6 && n.joinIp6) pol(29000, `ip6.src == $${pg}_ip6`, "reroute", [n.joinIp6], { subnet: s.name, node: n.name });
          const members = pods.filter((p) => p.subnet === s.name && p.node === n.name).map((p) => p.lsp);
          portGroups = portGroups.set(pg, PortGroup({ name: pg, ports: List(members), externalIds: KV({ subnet: s.name, node: n.name, vendor: "kube-ovn", np: `${s.name}/${n.name}` }) }));
        }
      }
    }
    for (const p of Array.isArray(vobj?.spec.policyRoutes) ? (vobj!.spec.policyRoutes as Record<string, unknown>[]) : []) {
      const action = str(p.action) === "reroute" ? "reroute" : str(p.action) === "drop" ? "drop" : "allow";
      policies.push(RouterPolicy({ priority: typeof p.priority === "number" ? p.priority : 0, match: str(p.match) ?? "", action, nexthops: List(strs(p.nextHopIP)), externalIds: KV({ vendor: "kube-ovn" }) }));
    }
    const u2o = u2oRouterRows(vpc, vpc === DEFAULT_VPC, vsubs.filter(has4), nodes, pods, settings, pns.gatewayMac);
    policies.push(...u2o.policies);
    for (const g of u2o.portGroups) portGroups = portGroups.set(g.name, g);
    u2oAddressSets.push(...u2o.addressSets);
    macBindings.push(...u2o.macBindings);
    const routes: StaticRoute[] = [];
    if (vpc === DEFAULT_VPC) routes.push(StaticRoute({ ipPrefix: "0.0.0.0/0", nexthop: joinGw }));
    if (vpc === DEFAULT_VPC && joinGw6) routes.push(StaticRoute({ ipPrefix: "::/0", nexthop: joinGw6 }));
    for (const r of Array.isArray(vobj?.spec.staticRoutes) ? (vobj!.spec.staticRoutes as Record<string, unknown>[]) : []) {
      routes.push(StaticRoute({ ipPrefix: str(r.cidr) ?? "", nexthop: str(r.nextHopIP) ?? "", ...(str(r.policy) === "policySrc" ? { policy: "src-ip" as const } : {}), ...(str(r.routeTable) ? { routeTable: str(r.routeTable)! } : {}) }));
    }
    routes.push(...u2o.routes);
    let rports = OrderedMap<string, RouterPort>();
    for (const s of vsubs) {
      if (!hasRouterPort(s.underlay)) continue;
      const networks = [...(has4(s) ? [`${routerAddress(s)}/${s.cidr.plen}`] : []), ...(s.v6 ? [`${s.v6.gateway}/${s.v6.cidr.plen}`] : [])];
      rports = rports.set(`${vpc}-${s.name}`, RouterPort({ name: `${vpc}-${s.name}`, mac: s.routerMac, networks: List(networks) }));
    }
    const nat = natRows.get(vpc);
    for (const p of nat?.ports ?? []) rports = rports.set(p.name, p);
    macBindings.push(...(nat?.macBindings ?? []));
    const learnFromArp = vsubs.some((s) => s.underlay?.u2o) || vobj?.spec.enableExternal === true; // the router learns from ARP requests
    // Every VPC's router, the default one and custom ones alike (vpc.go createVpcRouter).
    const options: [string, string][] = ([["mac_binding_age_threshold", "300"], ["dynamic_neigh_routers", "true"], ["always_learn_from_arp_request", "false"]] as [string, string][]).filter(([k]) => !learnFromArp || k !== "always_learn_from_arp_request");
    routers = routers.set(vpc, LogicalRouter({ name: vpc, ports: rports, staticRoutes: List(routes), policies: List(policies), nat: List(nat?.nat ?? []), loadBalancers: List((nat?.loadBalancers ?? []).map((lb) => lb.name)), options: OrderedMap(options), externalIds: KV({ vendor: "kube-ovn" }) }));
    for (const s of vsubs) {
      let ports = OrderedMap<string, SwitchPort>();
      if (hasRouterPort(s.underlay)) ports = ports.set(`${s.name}-${vpc}`, SwitchPort({ name: `${s.name}-${vpc}`, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", `${vpc}-${s.name}`]]) }));
      if (s.underlay) ports = ports.set(`localnet.${s.name}`, localnetPort(s.name, s.cidr, s.underlay));
      for (const p of s.ports) ports = ports.set(p.name, p);
      const acls: Acl[] = [];
      if (s.privateAcls) acls.push(...privateSubnetAcls(s, settings.JOIN_CIDR));
      // other_config as Kube-OVN's ovn-nbctl era wrote it: subnet (IPv4), ipv6_prefix (the IPv6
      // network address, no length), exclude_ips (the gateways, then excludeIps, both families).
      const gws = both(s.gateway, s.v6?.gateway);
      const excl = [...gws, ...s.excludeIps.filter((e) => !gws.includes(e))];
      const otherConfig: [string, string][] = [...(s.cidr ? [["subnet", formatSubnet(s.cidr)] as [string, string]] : []), ...(s.v6 ? [["ipv6_prefix", formatIpv6Big(s.v6.cidr.network)] as [string, string]] : []), ["exclude_ips", excl.join(" ")]];
      switches = switches.set(
        s.name,
        LogicalSwitch({
          name: s.name,
          ports,
          acls: List(acls),
          loadBalancers: s.enableLb ? List(Object.values(lbNames(vpc))) : List(),
          otherConfig: OrderedMap(otherConfig),
          externalIds: KV({ vendor: "kube-ovn" }),
        }),
      );
    }
  }
  for (const n of nodes) {
    const pg = `node.${dots(n.name)}`;
    // Pods with the logical_router annotation: all but those of pure underlay subnets.
    const members = pods.filter((p) => p.node === n.name && p.vpc === DEFAULT_VPC && hasRouterPort(subnetByName.get(p.subnet)?.underlay)).map((p) => p.lsp);
    if (!portGroups.has(pg)) portGroups = portGroups.set(pg, PortGroup({ name: pg, ports: List(members), externalIds: KV({ np: `node/${n.name}` }) }));
  }
  for (const g of np.portGroups) {
    const prev = portGroups.get(g.name);
    portGroups = portGroups.set(g.name, prev ? prev.set("acls", prev.acls.concat(g.acls)) : g);
  }
  let addressSets = OrderedMap<string, AddressSet>();
  for (const a of [...u2oAddressSets, ...np.addressSets]) addressSets = addressSets.set(a.name, a);
  let chassis = OrderedMap<string, Chassis>();
  for (const n of nodes) chassis = chassis.set(n.name, Chassis({ name: n.name, hostname: n.name, encaps: List([Encap({ type: settings.TUNNEL_TYPE, ip: n.internalIp })]), ...nodeBridges(underlay, of("Node").find((o) => o.name === n.name)!, (node, pn) => macs.macFor(`chassis-mac ${node} ${pn}`)) }));
  const assembled = Network({
    name,
    chassis,
    switches,
    portGroups,
    addressSets,
    loadBalancers,
    routers,
    natGateways,
    macBindings: List(macBindings),
    providerNetworks: pns.networks,
    nodeHosts: hosts.nodeHosts,
    options: OrderedMap([["ls_ct_skip_dst_lport_ips", "true"], ["use_ct_inv_match", "false"]]),
  });
  const network = withExternalGateway(assembled, externalGateway, { objs, pods, subnets: subnetByName4, gatewayMac: pns.gatewayMac, bad });
  return {
    network,
    names: { pods: new Map([...pods.map((p): [string, string] => [`${p.namespace}/${p.name}`, p.lsp]), ...natgw.podPorts]), services: svcNames, nodes: new Map(nodes.map((n) => [n.name, n.internalIp])), nodes6: new Map(nodes.flatMap((n): [string, string][] => (n.internalIp6 ? [[n.name, n.internalIp6]] : []))) },
    diags,
  };
}
