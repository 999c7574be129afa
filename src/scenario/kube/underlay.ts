/**
 * Kube-OVN's underlay networking → OVN objects and the provider networks around them
 * (kube-ovn-mapping.md §6, §1.1 `NETWORK_TYPE=vlan`; Kube-OVN v1.13 pkg/controller/subnet.go,
 * vlan.go, init.go, pkg/daemon/controller.go).
 *
 * What is mapped:
 * - `ProviderNetwork` (defaultInterface, customInterfaces, excludeNodes, exchangeLinkName, and the
 *   node annotations `<pn>.provider-network.kubernetes.io/exclude|interface`): every Node that is
 *   not excluded gets the bridge mapping `<pn>:br-<pn>` on its chassis with its NIC plugged into
 *   `br-<pn>` (with exchangeLinkName the bridge takes the NIC's name and the NIC `br-<pn>`). An
 *   excluded node has no mapping, so OVN reaches its ports through tunnels.
 * - `Vlan` (id 0 = untagged, provider) and `Subnet.spec.vlan`: the switch gets the localnet port
 *   `localnet.<subnet>` (type localnet, addresses unknown, `network_name` = the provider, `tag` =
 *   the id when 1..4095, external_ids ipv4_network, ls, vendor: the set a reconciled port has).
 *   It gets no router port unless `logicalGateway` or `u2oInterconnection`.
 * - The physical gateway: the subnet's `gateway` is an interface of the underlay's own router on
 *   the provider network and VLAN (model `ProviderNetwork.gateways`), unless the subnet has
 *   `logicalGateway` (then OVN's router owns that address and the physical network must not).
 * - `logicalGateway`: the router port with the subnet gateway; in the default VPC the subnet is
 *   routed like an overlay one (31000 allow, per-node port groups and 29000 reroutes).
 * - `u2oInterconnection`: the U2O address (`u2oInterconnectionIP`, else the lowest free address of
 *   the subnet, taken before any pod's) on router port `<vpc>-<subnet>`; the address sets
 *   `<subnet>.u2o_exclude_ip.ip4` (every node InternalIP) and `.ip6` (empty: IPv4 only); in the
 *   default VPC the policies 29400 `ip4.dst == <cidr>` allow and 31000 `ip4.dst ==
 *   $<subnet>.u2o_exclude_ip.ip4 && ip4.src == <cidr>` reroute to the physical gateway; in every VPC
 *   29000 `ip4.src == <cidr>` reroute to the physical gateway; in a custom VPC the static route
 *   `src-ip <cidr> → <physical gateway>`. When the subnet's load balancers are off (its `enableLb`
 *   or `ENABLE_LB`), default VPC only: the port groups `<subnet>.<node>` (external_ids lr, ls,
 *   u2o) of its pods and 29400 `ip4.src == $<subnet>.<node>_ip4 && ip4.dst == <SVC_CIDR>` reroute
 *   to that node's join address, so kube-proxy serves ClusterIPs. A router with a U2O subnet
 *   loses `always_learn_from_arp_request=false`.
 * - `NETWORK_TYPE=vlan`: ProviderNetwork `provider` on `VLAN_INTERFACE_NAME`, Vlan `ovn-vlan` with
 *   `VLAN_ID`, and `ovn-default` on it with `LOGICAL_GATEWAY` / `U2O_INTERCONNECTION`; any of the
 *   three given as a manifest replaces the implicit one, as Kube-OVN creates them only when absent.
 *
 * Decisions where Kube-OVN is silent or random:
 * - The physical gateway's MAC (unknown to Kube-OVN) is derived from the provider network, VLAN
 *   and address, like every other MAC here (ipam.ts).
 * - A router with a U2O subnet has the Southbound MAC binding of the physical gateway on the U2O
 *   port, as ovn-controller writes it after the first ARP reply: traces show the steady state
 *   (packets leave for the gateway's MAC) instead of the router's first ARP request.
 * - Errors, one per problem, name the resource: a ProviderNetwork name longer than 12 characters
 *   (the CRD's limit: the bridge `br-<name>` must fit a 15-character interface name) or `int`;
 *   a missing or malformed defaultInterface; a Vlan id outside 0..4095; a Vlan naming a missing
 *   ProviderNetwork; a Subnet naming a missing Vlan; logicalGateway with u2oInterconnection; a
 *   u2oInterconnectionIP outside the subnet, on its gateway or taken.
 */
import { List, OrderedMap } from "immutable";
import { error, parseIpv4, type Diagnostic } from "../../base/index.js";
import { AddressSet, MacBinding, PortGroup, ProviderNetwork, RouterPolicy, StaticRoute, SwitchPort, UnderlayGateway } from "../../model/index.js";
import { formatSubnet, inSubnet, type Ipv4Subnet, type MacGenerator, type SubnetIpam } from "./ipam.js";
import type { Settings } from "./settings.js";
import { resourceName, type KubeObject } from "./types.js";

/** Kube-OVN's names for what the vlan-mode install creates (controller flag defaults). */
export const DEFAULT_PROVIDER = "provider";
export const DEFAULT_VLAN = "ovn-vlan";

interface ProviderNetworkSpec {
  readonly name: string;
  readonly defaultInterface: string;
  readonly customInterfaces: readonly { readonly iface: string; readonly nodes: readonly string[] }[];
  readonly excludeNodes: readonly string[];
  readonly exchangeLinkName: boolean;
}

interface VlanSpec {
  readonly name: string;
  readonly id: number;
  readonly provider: string;
}

/** The ProviderNetworks and Vlans of a cluster, and the vlan-mode default subnet. */
export interface UnderlayConfig {
  readonly providers: ReadonlyMap<string, ProviderNetworkSpec>;
  readonly vlans: ReadonlyMap<string, VlanSpec>;
  /** Fields the implicit `ovn-default` takes in vlan mode (vlan, logicalGateway, u2oInterconnection); empty otherwise. */
  readonly defaultSubnetSpec: Readonly<Record<string, unknown>>;
}

/** How an underlay subnet is attached. */
export interface UnderlaySubnet {
  readonly vlan: string;
  /** The VLAN id on the wire; 0 is untagged. */
  readonly vlanId: number;
  /** The provider network: the localnet port's `network_name`. */
  readonly provider: string;
  readonly logicalGateway: boolean;
  readonly u2o: boolean;
  /** With u2oInterconnection: the router's address on the subnet. */
  readonly u2oIp: string | undefined;
}

/** The facts about a subnet the router rows need. */
export interface RoutedSubnet {
  readonly name: string;
  readonly cidr: Ipv4Subnet;
  /** spec.gateway: for an underlay subnet without logicalGateway, the physical gateway. */
  readonly gateway: string;
  readonly enableLb: boolean;
  readonly underlay: UnderlaySubnet | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const dots = (s: string): string => s.replace(/-/g, ".");
const KV = (o: Record<string, string>): OrderedMap<string, string> => OrderedMap(Object.entries(o));
const NIC_NAME = /^[^/\s]{1,15}$/;

/** Reads the ProviderNetworks and Vlans (plus the implicit ones of `NETWORK_TYPE=vlan`). */
export function readUnderlay(objs: readonly KubeObject[], settings: Settings): { config: UnderlayConfig; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const bad = (o: KubeObject, msg: string): void => void diags.push(error("kube.invalid", `${resourceName(o)}: ${msg}`, { loc: o.loc }));
  const providers = new Map<string, ProviderNetworkSpec>();
  const vlans = new Map<string, VlanSpec>();
  for (const o of objs.filter((x) => x.kind === "ProviderNetwork")) {
    if (o.name.length > 12) bad(o, `the name is ${o.name.length} characters long; Kube-OVN allows at most 12 (its bridge br-${o.name} must fit a 15-character interface name)`);
    else if (o.name === "int") bad(o, "the name int is reserved (br-int is OVN's integration bridge)");
    const defaultInterface = str(o.spec.defaultInterface) ?? "";
    if (!NIC_NAME.test(defaultInterface)) bad(o, `spec.defaultInterface ${JSON.stringify(defaultInterface)}: expected the NIC to bridge (1 to 15 characters, no "/" or spaces)`);
    const customInterfaces: { iface: string; nodes: string[] }[] = [];
    for (const c of Array.isArray(o.spec.customInterfaces) ? (o.spec.customInterfaces as Record<string, unknown>[]) : []) {
      const iface = str(c?.interface) ?? "";
      if (!NIC_NAME.test(iface)) bad(o, `spec.customInterfaces: interface ${JSON.stringify(iface)}: expected a NIC name of 1 to 15 characters, no "/" or spaces`);
      customInterfaces.push({ iface, nodes: Array.isArray(c?.nodes) ? c.nodes.filter((n): n is string => typeof n === "string") : [] });
    }
    const excludeNodes = Array.isArray(o.spec.excludeNodes) ? o.spec.excludeNodes.filter((n): n is string => typeof n === "string") : [];
    providers.set(o.name, { name: o.name, defaultInterface, customInterfaces, excludeNodes, exchangeLinkName: o.spec.exchangeLinkName === true });
  }
  const vlanMode = settings.NETWORK_TYPE === "vlan";
  if (vlanMode && !providers.has(DEFAULT_PROVIDER)) {
    providers.set(DEFAULT_PROVIDER, { name: DEFAULT_PROVIDER, defaultInterface: settings.VLAN_INTERFACE_NAME, customInterfaces: [], excludeNodes: [], exchangeLinkName: settings.EXCHANGE_LINK_NAME === "true" });
  }
  for (const o of objs.filter((x) => x.kind === "Vlan")) {
    const rawId = o.spec.id ?? 0;
    const id = typeof rawId === "number" && Number.isInteger(rawId) ? rawId : NaN;
    if (!(id >= 0 && id <= 4095)) bad(o, `spec.id ${JSON.stringify(rawId)}: expected a VLAN id in 0..4095 (0 is untagged)`);
    const provider = str(o.spec.provider) || DEFAULT_PROVIDER;
    if (!providers.has(provider)) bad(o, `spec.provider ${provider}: no ProviderNetwork of that name`);
    vlans.set(o.name, { name: o.name, id: id >= 0 && id <= 4095 ? id : 0, provider });
  }
  if (vlanMode && !vlans.has(DEFAULT_VLAN)) vlans.set(DEFAULT_VLAN, { name: DEFAULT_VLAN, id: Number(settings.VLAN_ID) || 0, provider: DEFAULT_PROVIDER });
  const defaultSubnetSpec = vlanMode ? { vlan: DEFAULT_VLAN, logicalGateway: settings.LOGICAL_GATEWAY === "true", u2oInterconnection: settings.U2O_INTERCONNECTION === "true" } : {};
  return { config: { providers, vlans, defaultSubnetSpec }, diags };
}

/**
 * The underlay attachment of a subnet from its spec, or undefined for an overlay subnet; the U2O
 * address is taken from `ipam` here, so call it before the subnet's pods get theirs.
 */
export function underlaySubnet(
  config: UnderlayConfig,
  spec: Readonly<Record<string, unknown>>,
  subnet: { readonly cidr: Ipv4Subnet; readonly gateway: string; readonly ipam: SubnetIpam },
  report: (msg: string) => void,
): UnderlaySubnet | undefined {
  const vlanName = str(spec.vlan) ?? "";
  if (vlanName === "") return undefined; // u2oInterconnection without vlan is switched off by Kube-OVN
  const vlan = config.vlans.get(vlanName);
  if (!vlan) {
    report(`vlan ${vlanName}: no Vlan of that name`);
    return undefined;
  }
  const logicalGateway = spec.logicalGateway === true;
  const u2o = spec.u2oInterconnection === true;
  if (logicalGateway && u2o) report("logicalGateway and u2oInterconnection cannot both be true");
  let u2oIp: string | undefined;
  if (u2o && !logicalGateway) {
    const pinned = str(spec.u2oInterconnectionIP) ?? "";
    if (pinned !== "") {
      const ip = parseIpv4(pinned);
      if (ip === undefined) report(`u2oInterconnectionIP ${JSON.stringify(pinned)} is not an IPv4 address`);
      else if (!inSubnet(ip, subnet.cidr)) report(`u2oInterconnectionIP ${pinned} is outside cidrBlock ${formatSubnet(subnet.cidr)}`);
      else if (ip === parseIpv4(subnet.gateway)) report(`u2oInterconnectionIP ${pinned} is the subnet's gateway (the physical gateway's address)`);
      else {
        const r = subnet.ipam.claim(pinned);
        if (r === "outside") report(`u2oInterconnectionIP ${pinned} is the network or broadcast address of ${formatSubnet(subnet.cidr)}`);
        else if (r !== undefined) report(`u2oInterconnectionIP ${pinned} is already taken`);
        else u2oIp = pinned;
      }
    } else {
      u2oIp = subnet.ipam.allocate();
      if (u2oIp === undefined) report("no free address for the U2O interconnection");
    }
  }
  return { vlan: vlan.name, vlanId: vlan.id, provider: vlan.provider, logicalGateway, u2o: u2o && !logicalGateway, u2oIp };
}

/** Whether the subnet has a router port (Kube-OVN's `needRouter`): overlay, logicalGateway or U2O. */
export function hasRouterPort(u: UnderlaySubnet | undefined): boolean {
  return u === undefined || u.logicalGateway || u.u2o;
}

/**
 * Whether, in the default VPC, the subnet is routed as an overlay one: the 31000 allow, the
 * per-node (or centralized) 29000 reroutes, its pods in the distributed port groups.
 */
export function routedAsOverlay(u: UnderlaySubnet | undefined): boolean {
  return u === undefined || u.logicalGateway;
}

/** The router port's address on the subnet: the U2O address for U2O subnets, else the gateway. */
export function routerAddress(s: Pick<RoutedSubnet, "gateway" | "underlay">): string {
  return s.underlay?.u2oIp ?? s.gateway;
}

/** The localnet port of an underlay subnet (`cidr` undefined: no `ipv4_network`, as for a switch that is no Subnet). */
export function localnetPort(subnet: string, cidr: Ipv4Subnet | undefined, u: Pick<UnderlaySubnet, "provider" | "vlanId">): SwitchPort {
  return SwitchPort({
    name: `localnet.${subnet}`,
    type: "localnet",
    addresses: List(["unknown"]),
    options: OrderedMap([["network_name", u.provider]]),
    tag: u.vlanId > 0 ? u.vlanId : undefined,
    externalIds: KV({ ...(cidr ? { ipv4_network: formatSubnet(cidr) } : {}), ls: subnet, vendor: "kube-ovn" }),
  });
}

/**
 * A node's provider-network bridges: the chassis's bridge mappings, the NIC in each bridge, and the
 * chassis MAC kube-ovn-cni sets for each provider network (`ovn-chassis-mac-mappings`, a random
 * MAC in Kube-OVN; `chassisMac` gives one for a node and network).
 */
export function nodeBridges(
  config: UnderlayConfig,
  node: Pick<KubeObject, "name" | "annotations">,
  chassisMac: (node: string, network: string) => string,
): { bridgeMappings: OrderedMap<string, string>; nics: OrderedMap<string, string>; macMappings: OrderedMap<string, string> } {
  let bridgeMappings = OrderedMap<string, string>();
  let nics = OrderedMap<string, string>();
  let macMappings = OrderedMap<string, string>();
  for (const pn of config.providers.values()) {
    if (pn.excludeNodes.includes(node.name) || node.annotations[`${pn.name}.provider-network.kubernetes.io/exclude`] === "true") continue;
    const nic = pn.customInterfaces.find((c) => c.nodes.includes(node.name))?.iface ?? node.annotations[`${pn.name}.provider-network.kubernetes.io/interface`] ?? pn.defaultInterface;
    const [bridge, port] = pn.exchangeLinkName ? [nic, `br-${pn.name}`] : [`br-${pn.name}`, nic];
    bridgeMappings = bridgeMappings.set(pn.name, bridge);
    nics = nics.set(bridge, port);
    macMappings = macMappings.set(pn.name, chassisMac(node.name, pn.name));
  }
  return { bridgeMappings, nics, macMappings };
}

/**
 * The provider networks, each with an interface of the underlay's router per physical gateway of
 * its subnets, and the MAC of each physical gateway (by provider, VLAN id and address).
 */
export function providerNetworks(
  config: UnderlayConfig,
  subnets: readonly RoutedSubnet[],
  macs: MacGenerator,
): { networks: OrderedMap<string, ProviderNetwork>; gatewayMac: (u: UnderlaySubnet, ip: string) => string } {
  const gwMacs = new Map<string, string>();
  const gatewayMac = (u: UnderlaySubnet, ip: string): string => {
    const key = `${u.provider}/${u.vlanId}/${ip}`;
    let m = gwMacs.get(key);
    if (m === undefined) gwMacs.set(key, (m = macs.macFor(`physical-gateway ${key}`)));
    return m;
  };
  let networks = OrderedMap<string, ProviderNetwork>();
  for (const pn of config.providers.keys()) {
    const gateways: UnderlayGateway[] = [];
    for (const s of subnets) {
      const u = s.underlay;
      if (!u || u.provider !== pn || u.logicalGateway) continue;
      const address = `${s.gateway}/${s.cidr.plen}`;
      if (gateways.some((g) => g.vlan === u.vlanId && g.address === address)) continue;
      gateways.push(UnderlayGateway({ vlan: u.vlanId, address, mac: gatewayMac(u, s.gateway) }));
    }
    networks = networks.set(pn, ProviderNetwork({ name: pn, gateways: List(gateways) }));
  }
  return { networks, gatewayMac };
}

/** The rows a VPC router gets for its U2O subnets (§6.3), in the order Kube-OVN adds them. */
export interface U2oRows {
  readonly policies: RouterPolicy[];
  readonly routes: StaticRoute[];
  readonly addressSets: AddressSet[];
  readonly portGroups: PortGroup[];
  readonly macBindings: MacBinding[];
}

export function u2oRouterRows(
  vpc: string,
  defaultVpc: boolean,
  subnets: readonly RoutedSubnet[],
  nodes: readonly { readonly name: string; readonly internalIp: string; readonly joinIp: string }[],
  pods: readonly { readonly lsp: string; readonly subnet: string; readonly node: string | undefined }[],
  settings: Settings,
  gatewayMac: (u: UnderlaySubnet, ip: string) => string,
): U2oRows {
  const rows: U2oRows = { policies: [], routes: [], addressSets: [], portGroups: [], macBindings: [] };
  const svcV4 = settings.SVC_CIDR.split(",").find((c) => c.includes("."));
  for (const s of subnets) {
    const u = s.underlay;
    if (!u?.u2o || u.u2oIp === undefined) continue;
    const cidr = formatSubnet(s.cidr);
    const ext = { subnet: s.name, isU2ORoutePolicy: "true", vendor: "kube-ovn" };
    const as4 = dots(`${s.name}.u2o_exclude_ip.ip4`);
    rows.addressSets.push(AddressSet({ name: as4, addresses: List(nodes.map((n) => n.internalIp)), externalIds: KV(ext) }));
    rows.addressSets.push(AddressSet({ name: dots(`${s.name}.u2o_exclude_ip.ip6`), externalIds: KV(ext) }));
    const pol = (priority: number, match: string, nexthop: string | undefined, extra: Record<string, string> = {}): void =>
      void rows.policies.push(RouterPolicy({ priority, match, action: nexthop === undefined ? "allow" : "reroute", nexthops: List(nexthop === undefined ? [] : [nexthop]), externalIds: KV({ ...ext, ...extra }) }));
    if (defaultVpc) {
      pol(29400, `ip4.dst == ${cidr}`, undefined);
      pol(31000, `ip4.dst == $${as4} && ip4.src == ${cidr}`, s.gateway);
    }
    pol(29000, `ip4.src == ${cidr}`, s.gateway);
    if (!defaultVpc) rows.routes.push(StaticRoute({ ipPrefix: cidr, nexthop: s.gateway, policy: "src-ip" }));
    if (defaultVpc && (!s.enableLb || settings.ENABLE_LB !== "true")) {
      for (const n of nodes) {
        const pg = dots(`${s.name}.${n.name}`);
        rows.portGroups.push(PortGroup({ name: pg, ports: List(pods.filter((p) => p.subnet === s.name && p.node === n.name).map((p) => p.lsp)), externalIds: KV({ lr: vpc, ls: s.name, u2o: "true" }) }));
        if (n.joinIp && svcV4) pol(29400, `ip4.src == $${pg}_ip4 && ip4.dst == ${svcV4}`, n.joinIp, { isU2ONoLBRoutePolicy: "true", node: n.name });
      }
    }
    rows.macBindings.push(MacBinding({ logicalPort: `${vpc}-${s.name}`, ip: s.gateway, mac: gatewayMac(u, s.gateway) }));
  }
  return rows;
}
