/**
 * Kube-OVN manifests → the OVN Northbound network kube-ovn-controller would build
 * (kube-ovn-mapping.md §1-4, §7), plus the names `ovnsim trace` accepts for pods, services and nodes.
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
 * `<subnet>.<node>`), Services (ClusterIP VIPs on the VPC's LBs, session affinity to the `*-session`
 * LBs, backends from Endpoints or EndpointSlices, else from the selector's pods; no backend, no VIP),
 * NetworkPolicies (netpol.ts); ProviderNetworks, Vlans, underlay subnets (localnet port,
 * logicalGateway, U2O interconnection) and the vlan-mode install (underlay.ts); Vpc enableExternal
 * and OvnEip / OvnFip / OvnSnatRule / OvnDnatRule (ovn-nat.ts); the default VPC's external
 * gateway (ConfigMap `ovn-external-gw-config`) and the pods' `eip` / `snat` annotations
 * (external-gw.ts: planned before the pods, applied to the assembled network); VPC NAT gateways with their
 * IptablesEIP/Snat/Dnat/FIP rules (nat-gateway.ts: the gateway pod's port, placed before the other
 * pods, and a model NatGateway; the ConfigMaps `ovn-vpc-nat-gw-config` / `ovn-vpc-nat-config` and
 * the external network's NetworkAttachmentDefinition are read there); OVN-IC (`ovn-ic-config`,
 * ic.ts: the transit switch, its ports, the remote zones' gateways and the learned routes, given
 * the other zones' manifests as `peers`). Subnets whose provider is a non-OVN attachment
 * (`<nad>.<ns>`) only do IPAM: they get no switch. Subnet `natOutgoing` (node-host.ts: a model
 * NodeHost per Node: ovn0, the host routes and the ipsets of the host's MASQUERADE rules, with a
 * centralized subnet's `gatewayNode: node:ip` SNAT; host iptables, no OVN object).
 *
 * Not mapped yet: IPv6 (an IPv6 CIDR is an error naming the resource). ConfigMaps other than
 * Kube-OVN's are ignored.
 *
 * Decisions where Kube-OVN is random or ordered by events: MACs are derived from names
 * (ipam.ts); addresses are handed out in document order, lowest free first: nodes, then each
 * subnet's U2O address, then the EIPs (ovn-nat.ts), then the default VPC's external port
 * (external-gw.ts), then NAT gateway pods, then pods.
 */
import { List, OrderedMap } from "immutable";
import { error, formatIpv4, parseIpv4, type Diagnostic } from "../../base/index.js";
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
import { MacGenerator, SubnetIpam, formatSubnet, inSubnet, parseExcludes, parseIpv4Cidr, type Ipv4Subnet } from "./ipam.js";
import { isAttachmentSubnet, placeNatGateways } from "./nat-gateway.js";
import { mapOvnIc } from "./ic.js";
import { mapNetworkPolicies } from "./netpol.js";
import { planExternalGateway, withExternalGateway } from "./external-gw.js";
import { ovnNatRows } from "./ovn-nat.js";
import { mapNodeHosts } from "./node-host.js";
import { readSettings } from "./settings.js";
import { hasRouterPort, localnetPort, nodeBridges, providerNetworks, readUnderlay, routedAsOverlay, routerAddress, u2oRouterRows, underlaySubnet, type UnderlaySubnet } from "./underlay.js";
import { resourceName, type KubeObject, type NamespaceInfo, type NodeInfo, type PodInfo, type ServiceInfo, type SubnetInfo } from "./types.js";

/** What `ovnsim trace` can name in a network built from manifests. */
export interface KubeNames {
  /** "namespace/name" → the pod's switch port. */
  readonly pods: ReadonlyMap<string, string>;
  /** "namespace/name" → ClusterIPs and ports. */
  readonly services: ReadonlyMap<string, { readonly ips: readonly string[]; readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: string }[] }>;
  /** Node name → InternalIP. */
  readonly nodes: ReadonlyMap<string, string>;
}

const DEFAULT_VPC = "ovn-cluster";
const dots = (s: string): string => s.replace(/-/g, ".");
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? v.split(",").map((x) => x.trim()).filter(Boolean) : []);
const bool = (v: unknown, dflt: boolean): boolean => (typeof v === "boolean" ? v : dflt);
const KV = (o: Record<string, string>): OrderedMap<string, string> => OrderedMap(Object.entries(o));

interface SubnetState {
  readonly name: string;
  readonly obj: KubeObject | undefined;
  readonly cidr: Ipv4Subnet;
  readonly gateway: string;
  readonly excludeIps: string[];
  readonly vpc: string;
  readonly ipam: SubnetIpam;
  readonly namespaces: string[];
  readonly gatewayType: "distributed" | "centralized";
  readonly gatewayNodes: string[];
  readonly enableLb: boolean;
  readonly isJoin: boolean;
  readonly privateAcls: boolean;
  readonly allowSubnets: string[];
  readonly routerMac: string;
  /** Underlay attachment (underlay.ts); undefined for an overlay subnet. */
  readonly underlay: UnderlaySubnet | undefined;
  ports: SwitchPort[];
}

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

  // Nodes: InternalIP, join address.
  const joinCidr = parseIpv4Cidr(settings.JOIN_CIDR)!;
  const joinGw = formatIpv4(joinCidr.network + 1);
  const nodes: (NodeInfo & { joinIp: string; mac: string })[] = [];
  const nodeIps = new Set<number>();
  for (const n of of("Node")) {
    const addrs = Array.isArray(n.status.addresses) ? (n.status.addresses as Record<string, unknown>[]) : [];
    const ip = str(addrs.find((a) => a.type === "InternalIP" && parseIpv4(String(a.address)) !== undefined)?.address);
    if (!ip) {
      bad(n, "status.addresses has no IPv4 InternalIP");
      continue;
    }
    nodeIps.add(parseIpv4(ip)!);
    nodes.push({ name: n.name, internalIp: ip, joinIp: "", mac: "" });
  }
  const joinExcl = parseExcludes([joinGw]);
  const joinIpam = new SubnetIpam(joinCidr, joinExcl.ranges);
  for (const n of nodes) {
    const obj = of("Node").find((o) => o.name === n.name)!;
    const pinned = obj.annotations["ovn.kubernetes.io/ip_address"];
    let ip: string | undefined = pinned;
    if (pinned !== undefined) {
      const r = joinIpam.claim(pinned);
      if (r) bad(obj, `join address ${pinned} is ${r === "outside" ? `outside JOIN_CIDR ${settings.JOIN_CIDR}` : r === "taken" ? "taken by another node" : "not an IPv4 address"}`);
    } else ip = joinIpam.allocate();
    const mac = obj.annotations["ovn.kubernetes.io/mac_address"] ?? macs.macFor(`node-${n.name}`);
    macs.reserve(mac);
    Object.assign(n, { joinIp: ip ?? "", mac });
  }

  // VPCs.
  const customVpcs = of("Vpc").filter((v) => v.name !== DEFAULT_VPC);
  const vpcNames = [DEFAULT_VPC, ...customVpcs.map((v) => v.name)];

  // Subnets: join, ovn-default (unless given), the user's.
  const subnets: SubnetState[] = [];
  const addSubnet = (nm: string, obj: KubeObject | undefined, spec: Record<string, unknown>, isJoin: boolean): void => {
    const cidrText = str(spec.cidrBlock) ?? "";
    const cidr = parseIpv4Cidr(cidrText);
    if (!cidr) {
      if (obj) bad(obj, `cidrBlock ${JSON.stringify(cidrText)}: expected an IPv4 CIDR (IPv6 is not mapped yet)`);
      return;
    }
    const gateway = str(spec.gateway) ?? formatIpv4(cidr.network + 1);
    const gw = parseIpv4(gateway);
    if (gw === undefined || !inSubnet(gw, cidr)) {
      if (obj) bad(obj, `gateway ${gateway} is outside cidrBlock ${formatSubnet(cidr)}`);
      return;
    }
    const excl = strs(spec.excludeIps);
    const ex = parseExcludes([...excl, gateway]);
    for (const b of ex.bad) if (obj) bad(obj, `excludeIps entry ${JSON.stringify(b)}: expected an address or A..B`);
    const vpc = str(spec.vpc) ?? DEFAULT_VPC;
    if (!vpcNames.includes(vpc) && obj) bad(obj, `vpc ${vpc}: no Vpc of that name`);
    const overlayDefault = vpc === DEFAULT_VPC && !isJoin && !spec.vlan;
    const ipam = new SubnetIpam(cidr, ex.ranges, overlayDefault ? nodeIps : []);
    const ul = underlaySubnet(underlay, spec, { cidr, gateway, ipam }, (m) => (obj ? bad(obj, m) : diags.push(error("kube.invalid", `subnet ${nm}: ${m}`))));
    const gatewayNodes = strs(spec.gatewayNode).map((g) => g.split(":")[0]!);
    const gatewayType = str(spec.gatewayType) === "centralized" ? "centralized" : "distributed";
    if (gatewayType === "centralized" && gatewayNodes.length === 0 && obj) bad(obj, "gatewayType centralized needs gatewayNode");
    const routerMac = macs.macFor(`${vpc}-${nm}`);
    subnets.push({
      name: nm,
      obj,
      cidr,
      gateway,
      excludeIps: excl,
      vpc,
      ipam,
      namespaces: strs(spec.namespaces),
      gatewayType,
      gatewayNodes,
      enableLb: !isJoin && bool(spec.enableLb, settings.ENABLE_LB === "true"),
      isJoin,
      privateAcls: bool(spec.private, false),
      allowSubnets: strs(spec.allowSubnets),
      routerMac,
      underlay: ul,
      ports: [],
    });
  };
  addSubnet("join", undefined, { cidrBlock: settings.JOIN_CIDR, gateway: joinGw }, true);
  const userSubnets = of("Subnet");
  if (!userSubnets.some((s) => s.name === "ovn-default")) {
    addSubnet("ovn-default", undefined, { cidrBlock: settings.POD_CIDR, gateway: settings.POD_GATEWAY, excludeIps: settings.EXCLUDE_IPS, ...underlay.defaultSubnetSpec }, false);
  }
  for (const s of userSubnets) {
    if (isAttachmentSubnet(s)) continue; // IPAM only (nat-gateway.ts reads it)
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
      const p = Math.min(a.cidr.plen, b.cidr.plen);
      if (inSubnet(a.cidr.network, { network: b.cidr.network, plen: p }) || inSubnet(b.cidr.network, { network: a.cidr.network, plen: p })) {
        const o = a.obj ?? b.obj;
        if (o) bad(o, `cidrBlock ${formatSubnet(a.cidr)} overlaps ${b.obj ? resourceName(b.obj) : `subnet ${b.name}`}'s ${formatSubnet(b.cidr)} in VPC ${a.vpc}`);
      }
    }
  }
  const subnetByName = new Map(subnets.map((s) => [s.name, s]));
  const { external, gateway: externalGateway } = planExternalGateway(objs, settings, subnetByName, macs, bad); // EIPs before pods
  for (const n of nodes) if (n.joinIp) subnetByName.get("join")!.ports.push(SwitchPort({ name: `node-${n.name}`, addresses: List([`${n.mac} ${n.joinIp}`]), chassis: n.name }));

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
  const natgw = placeNatGateways({ objs, subnets, nodes, vpcs: vpcNames, macs });

  // Pods.
  const pods: PodInfo[] = [];
  for (const p of of("Pod")) {
    if (p.spec.hostNetwork === true) continue;
    const ns = p.namespace ?? "default";
    const pinnedLs = p.annotations["ovn.kubernetes.io/logical_switch"];
    const sn = pinnedLs !== undefined ? subnetByName.get(pinnedLs) : nsSubnet(ns);
    if (!sn || sn.isJoin) {
      bad(p, pinnedLs !== undefined ? `logical_switch ${pinnedLs}: no such subnet` : `namespace ${ns} has no subnet`);
      continue;
    }
    const pinnedIp = p.annotations["ovn.kubernetes.io/ip_address"];
    let ip: string | undefined;
    if (pinnedIp !== undefined) {
      if (sn.ipam.excludes(pinnedIp)) bad(p, `ip_address ${pinnedIp} is in ${sn.obj ? resourceName(sn.obj) : `subnet ${sn.name}`}'s excludeIps`);
      const r = sn.ipam.claim(pinnedIp);
      if (r === "outside") bad(p, `ip_address ${pinnedIp} is outside ${sn.obj ? resourceName(sn.obj) : `subnet ${sn.name}`} (${formatSubnet(sn.cidr)})`);
      else if (r === "taken") bad(p, `ip_address ${pinnedIp} is already taken`);
      else if (r === "bad") bad(p, `ip_address ${JSON.stringify(pinnedIp)} is not an IPv4 address`);
      ip = pinnedIp;
    } else {
      ip = sn.ipam.allocate();
      if (!ip) {
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
    const addr = `${mac} ${ip}`;
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
    pods.push({ name: p.name, namespace: ns, labels: p.labels, lsp, subnet: sn.name, ips: [ip], mac, node, vpc: sn.vpc, namedPorts });
  }

  // Services → load balancers, per VPC.
  const lbNames = (vpc: string): Record<string, string> =>
    vpc === DEFAULT_VPC
      ? { tcp: "cluster-tcp-loadbalancer", udp: "cluster-udp-loadbalancer", sctp: "cluster-sctp-loadbalancer", "tcp-sess": "cluster-tcp-session-loadbalancer", "udp-sess": "cluster-udp-session-loadbalancer", "sctp-sess": "cluster-sctp-session-loadbalancer" }
      : { tcp: `vpc-${vpc}-tcp-load`, udp: `vpc-${vpc}-udp-load`, sctp: `vpc-${vpc}-sctp-load`, "tcp-sess": `vpc-${vpc}-tcp-sess-load`, "udp-sess": `vpc-${vpc}-udp-sess-load`, "sctp-sess": `vpc-${vpc}-sctp-sess-load` };
  const vips = new Map<string, OrderedMap<string, List<string>>>();
  const services: ServiceInfo[] = [];
  const svcNames = new Map<string, { ips: string[]; ports: { name: string; port: number; protocol: string }[] }>();
  for (const s of of("Service")) {
    const ns = s.namespace ?? "default";
    const ips = strs(s.spec.clusterIPs).length ? strs(s.spec.clusterIPs) : strs(s.spec.clusterIP);
    const clusterIps = ips.filter((x) => x !== "None" && parseIpv4(x) !== undefined);
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
    const backends = new Map<string, string[]>();
    const ep = objs.find((o) => o.kind === "Endpoints" && o.name === s.name && o.namespace === ns);
    const slices = objs.filter((o) => o.kind === "EndpointSlice" && o.namespace === ns && o.labels["kubernetes.io/service-name"] === s.name);
    let selectedPods: PodInfo[] = [];
    if (ep) {
      for (const sub of Array.isArray(ep.raw.subsets) ? (ep.raw.subsets as Record<string, unknown>[]) : []) {
        const addrs = (Array.isArray(sub.addresses) ? (sub.addresses as Record<string, unknown>[]) : []).map((a) => str(a.ip)).filter((x): x is string => x !== undefined);
        for (const p of Array.isArray(sub.ports) ? (sub.ports as Record<string, unknown>[]) : []) {
          const list = backends.get(str(p.name) ?? "") ?? [];
          for (const a of addrs) list.push(`${a}:${String(p.port)}`);
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
          for (const a of addrs) list.push(`${a}:${String(p.port)}`);
          backends.set(str(p.name) ?? "", list);
        }
      }
    } else if (selector) {
      selectedPods = pods.filter((p) => p.namespace === ns && selects(selector, p.labels));
      for (const sp of ports) {
        const list: string[] = [];
        for (const p of selectedPods) {
          const tp = typeof sp.targetPort === "number" ? sp.targetPort : p.namedPorts[String(sp.targetPort)]?.port;
          if (tp !== undefined) list.push(`${p.ips[0]}:${tp}`);
        }
        backends.set(sp.name, list);
      }
    }
    const firstBackendIp = [...backends.values()].flat()[0]?.split(":")[0];
    const vpc = pods.find((p) => p.ips.includes(firstBackendIp ?? ""))?.vpc ?? s.annotations["ovn.kubernetes.io/vpc"] ?? DEFAULT_VPC;
    const sess = str(s.spec.sessionAffinity) === "ClientIP";
    for (const sp of ports) {
      const list = [...new Set(backends.get(sp.name) ?? [])].sort();
      if (list.length === 0) continue; // no ready backend: the VIP is not programmed
      const lb = lbNames(vpc)[`${sp.protocol}${sess ? "-sess" : ""}`];
      if (!lb) continue;
      let m = vips.get(lb) ?? OrderedMap<string, List<string>>();
      for (const ip of clusterIps) m = m.set(`${ip}:${sp.port}`, List(list));
      vips.set(lb, m);
    }
  }

  // NetworkPolicies (namespaces that only pods name exist too, with just the automatic label).
  for (const ns of new Set([...pods.map((p) => p.namespace), ...of("NetworkPolicy").map((o) => o.namespace ?? "default")])) {
    if (!namespaces.some((n) => n.name === ns)) namespaces.push({ name: ns, labels: { "kubernetes.io/metadata.name": ns } });
  }
  const subnetInfos: SubnetInfo[] = subnets.filter((s) => !s.isJoin).map((s) => ({ name: s.name, cidr: formatSubnet(s.cidr), gateway: s.gateway, ...(s.underlay?.u2oIp ? { u2oIp: s.underlay.u2oIp } : {}) }));
  const np = mapNetworkPolicies({ policies: of("NetworkPolicy"), pods, namespaces, services, subnets: subnetInfos, nodes });
  diags.push(...np.diags);
  const natGateways = natgw.finish(pods);
  diags.push(...natgw.diags);
  const hosts = mapNodeHosts({ objs, nodes, subnets, svcCidr: settings.SVC_CIDR });
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
  const pns = providerNetworks(underlay, subnets, macs);
  const natRows = ovnNatRows(objs, external, subnetByName, pods, (s) => (s.underlay && !s.underlay.logicalGateway ? pns.gatewayMac(s.underlay, s.gateway) : undefined), bad, externalGateway.kind === "on" && externalGateway.gateway.type === "distributed");
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
    for (const s of vsubs) if (vpc !== DEFAULT_VPC || routedAsOverlay(s.underlay)) pol(31000, `ip4.dst == ${formatSubnet(s.cidr)}`, "allow", [], { subnet: s.name });
    if (vpc === DEFAULT_VPC) {
      for (const n of nodes) if (n.joinIp) pol(30000, `ip4.dst == ${n.internalIp}`, "reroute", [n.joinIp], { node: n.name, "address-family": "4" });
      for (const s of vsubs) {
        if (s.isJoin || !routedAsOverlay(s.underlay)) continue;
        if (s.gatewayType === "centralized") {
          const gw = nodes.find((n) => n.name === s.gatewayNodes[0]);
          if (gw?.joinIp) pol(29000, `ip4.src == ${formatSubnet(s.cidr)}`, "reroute", [gw.joinIp], { subnet: s.name, [gw.name]: gw.joinIp });
          continue;
        }
        for (const n of nodes) {
          if (!n.joinIp) continue;
          const pg = dots(`${s.name}.${n.name}`);
          pol(29000, `ip4.src == $${pg}_ip4`, "reroute", [n.joinIp], { subnet: s.name, node: n.name });
          const members = pods.filter((p) => p.subnet === s.name && p.node === n.name).map((p) => p.lsp);
          portGroups = portGroups.set(pg, PortGroup({ name: pg, ports: List(members), externalIds: KV({ subnet: s.name, node: n.name, vendor: "kube-ovn", np: `${s.name}/${n.name}` }) }));
        }
      }
    }
    for (const p of Array.isArray(vobj?.spec.policyRoutes) ? (vobj!.spec.policyRoutes as Record<string, unknown>[]) : []) {
      const action = str(p.action) === "reroute" ? "reroute" : str(p.action) === "drop" ? "drop" : "allow";
      policies.push(RouterPolicy({ priority: typeof p.priority === "number" ? p.priority : 0, match: str(p.match) ?? "", action, nexthops: List(strs(p.nextHopIP)), externalIds: KV({ vendor: "kube-ovn" }) }));
    }
    const u2o = u2oRouterRows(vpc, vpc === DEFAULT_VPC, vsubs, nodes, pods, settings, pns.gatewayMac);
    policies.push(...u2o.policies);
    for (const g of u2o.portGroups) portGroups = portGroups.set(g.name, g);
    u2oAddressSets.push(...u2o.addressSets);
    macBindings.push(...u2o.macBindings);
    const routes: StaticRoute[] = [];
    if (vpc === DEFAULT_VPC) routes.push(StaticRoute({ ipPrefix: "0.0.0.0/0", nexthop: joinGw }));
    for (const r of Array.isArray(vobj?.spec.staticRoutes) ? (vobj!.spec.staticRoutes as Record<string, unknown>[]) : []) {
      routes.push(StaticRoute({ ipPrefix: str(r.cidr) ?? "", nexthop: str(r.nextHopIP) ?? "", ...(str(r.policy) === "policySrc" ? { policy: "src-ip" as const } : {}), ...(str(r.routeTable) ? { routeTable: str(r.routeTable)! } : {}) }));
    }
    routes.push(...u2o.routes);
    let rports = OrderedMap<string, RouterPort>();
    for (const s of vsubs) if (hasRouterPort(s.underlay)) rports = rports.set(`${vpc}-${s.name}`, RouterPort({ name: `${vpc}-${s.name}`, mac: s.routerMac, networks: List([`${routerAddress(s)}/${s.cidr.plen}`]) }));
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
      if (s.privateAcls) {
        const c = formatSubnet(s.cidr);
        acls.push(Acl({ direction: "to-lport", priority: 1000, match: "ip", action: "drop", name: s.name, log: true, severity: "warning" }));
        acls.push(Acl({ direction: "to-lport", priority: 1001, match: `ip4.src == ${c} && ip4.dst == ${c}`, action: "allow-related" }));
        acls.push(Acl({ direction: "to-lport", priority: 3000, match: `ip4.src == ${settings.JOIN_CIDR}`, action: "allow-related" }));
        for (const a of s.allowSubnets) acls.push(Acl({ direction: "to-lport", priority: 1001, match: `(ip4.src == ${c} && ip4.dst == ${a}) || (ip4.src == ${a} && ip4.dst == ${c})`, action: "allow-related" }));
      }
      const excl = [s.gateway, ...s.excludeIps.filter((e) => e !== s.gateway)];
      switches = switches.set(
        s.name,
        LogicalSwitch({
          name: s.name,
          ports,
          acls: List(acls),
          loadBalancers: s.enableLb ? List(Object.values(lbNames(vpc))) : List(),
          otherConfig: OrderedMap([["subnet", formatSubnet(s.cidr)], ["exclude_ips", excl.join(" ")]]),
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
  for (const n of nodes) chassis = chassis.set(n.name, Chassis({ name: n.name, hostname: n.name, encaps: List([Encap({ type: settings.TUNNEL_TYPE, ip: n.internalIp })]), ...nodeBridges(underlay, of("Node").find((o) => o.name === n.name)!) }));
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
  const network = withExternalGateway(assembled, externalGateway, { objs, pods, subnets: subnetByName, gatewayMac: pns.gatewayMac, bad });
  return {
    network,
    names: { pods: new Map([...pods.map((p): [string, string] => [`${p.namespace}/${p.name}`, p.lsp]), ...natgw.podPorts]), services: svcNames, nodes: new Map(nodes.map((n) => [n.name, n.internalIp])) },
    diags,
  };
}
