/**
 * The logical network: an immutable model that follows OVN's Northbound schema closely.
 *
 * What: chassis (with encapsulations and bridge mappings), logical switches with their ports and
 * ACLs, port groups (with their own ACLs), address sets, load balancers, logical routers with
 * their ports, static routes, policies and NAT rules, HA chassis groups, static and learned MAC
 * bindings, Kube-OVN's VPC NAT gateways (not an OVN object: an iptables pod attached to a
 * switch, modelled as its own kind of node), and Kubernetes nodes' host sides (ovn0 and the host's
 * iptables NAT, also outside OVN). Names are the keys,
 * as in OVN where tools refer to objects by name. Each record's fields carry the NB column they
 * mirror, so importing a Northbound database and exporting `ovn-nbctl` commands are mechanical.
 *
 * Design: Immutable.js Records and ordered maps. A what-if change (`network.setIn([...])`) shares
 * everything it does not touch, and two networks compare by value. Insertion order is kept and is
 * the order of every listing (flow dumps, exports), so outputs are stable. Nothing here checks
 * consistency: `validate.ts` does, and reports every problem with its model path.
 *
 * Not here: anything compiled (see `compile/`).
 */
import { List, OrderedMap, Record } from "immutable";

/** A tunnel endpoint of a chassis. */
export interface EncapProps {
  /** `geneve`, `vxlan` or `stt`. */
  readonly type: string;
  readonly ip: string;
}
export const Encap = Record<EncapProps>({ type: "geneve", ip: "" }, "Encap");
export type Encap = ReturnType<typeof Encap>;

export interface ChassisProps {
  readonly name: string;
  readonly hostname: string;
  readonly encaps: List<Encap>;
  /** `external_ids:ovn-bridge-mappings`: provider network name → bridge. */
  readonly bridgeMappings: OrderedMap<string, string>;
  /** The physical NIC plugged into each provider bridge (bridge → NIC), as Kube-OVN's ProviderNetwork sets it. */
  readonly nics: OrderedMap<string, string>;
  /**
   * `external_ids:ovn-chassis-mac-mappings`: provider network name → this chassis's MAC on it. A
   * frame a distributed router sends onto that network from here leaves with this MAC as its
   * source, and other chassis put the router port's MAC back when it arrives (controller/physical.c).
   */
  readonly macMappings: OrderedMap<string, string>;
  /** The MAC of the NIC that carries tunnels and provider traffic; "" derives one from the first encap IP. */
  readonly mac: string;
  /** A chassis of another availability zone (SB `other_config:is-remote`), as OVN-IC registers them. */
  readonly isRemote: boolean;
  /**
   * An OVN-IC gateway (SB `other_config:is-interconn`, from `ovn-is-interconn` in the Open_vSwitch
   * table): only such a chassis builds tunnels to the chassis of other zones.
   */
  readonly isInterconn: boolean;
}
export const Chassis = Record<ChassisProps>({ name: "", hostname: "", encaps: List(), bridgeMappings: OrderedMap(), nics: OrderedMap(), macMappings: OrderedMap(), mac: "", isRemote: false, isInterconn: false }, "Chassis");
export type Chassis = ReturnType<typeof Chassis>;

/** Logical_Switch_Port `type`: "" is a VIF. */
export type SwitchPortType = "" | "router" | "localnet" | "remote" | "localport" | "external" | "virtual" | "l2gateway";

export interface SwitchPortProps {
  readonly name: string;
  readonly type: SwitchPortType;
  /** `addresses`: "MAC [IP...]", "unknown", "router" or "dynamic". */
  readonly addresses: List<string>;
  /** `port_security`: "MAC [IP/prefix...]". */
  readonly portSecurity: List<string>;
  /** `options` (router-port, network_name, requested-chassis, ...). */
  readonly options: OrderedMap<string, string>;
  /** `tag` (VLAN id) for localnet ports; undefined when untagged. */
  readonly tag: number | undefined;
  /** Where the VIF is bound (a chassis name); undefined when unbound. */
  readonly chassis: string | undefined;
  /** `enabled`: false administratively disables the port. */
  readonly enabled: boolean;
  /** Tunnel key; assigned by the compiler when undefined, in port order from 1. */
  readonly tunnelKey: number | undefined;
  readonly externalIds: OrderedMap<string, string>;
}
export const SwitchPort = Record<SwitchPortProps>(
  {
    name: "",
    type: "",
    addresses: List(),
    portSecurity: List(),
    options: OrderedMap(),
    tag: undefined,
    chassis: undefined,
    enabled: true,
    tunnelKey: undefined,
    externalIds: OrderedMap(),
  },
  "SwitchPort",
);
export type SwitchPort = ReturnType<typeof SwitchPort>;

export type AclDirection = "from-lport" | "to-lport";
export type AclAction = "allow" | "allow-related" | "allow-stateless" | "drop" | "reject";

export interface AclProps {
  readonly direction: AclDirection;
  readonly priority: number;
  /** OVN match expression. */
  readonly match: string;
  readonly action: AclAction;
  readonly name: string | undefined;
  /** `label` (a 32-bit value stored in ct_label when the connection is committed). */
  readonly label: number;
  readonly log: boolean;
  readonly severity: string | undefined;
  /** `options:apply-after-lb`. */
  readonly applyAfterLb: boolean;
  readonly externalIds: OrderedMap<string, string>;
}
export const Acl = Record<AclProps>(
  { direction: "from-lport", priority: 0, match: "", action: "allow", name: undefined, label: 0, log: false, severity: undefined, applyAfterLb: false, externalIds: OrderedMap() },
  "Acl",
);
export type Acl = ReturnType<typeof Acl>;

export interface LoadBalancerProps {
  readonly name: string;
  /** `tcp`, `udp` or `sctp`; a VIP without a port ignores it. */
  readonly protocol: "tcp" | "udp" | "sctp";
  /** `vips`: "IP[:PORT]" → backends "IP[:PORT]". */
  readonly vips: OrderedMap<string, List<string>>;
  /** `selection_fields` (e.g. ip_src, ip_dst, tp_src, tp_dst); empty means OVS's default hash. */
  readonly selectionFields: List<string>;
  /** `options` (hairpin_snat_ip, skip_snat, reject, affinity_timeout, ...). */
  readonly options: OrderedMap<string, string>;
  readonly externalIds: OrderedMap<string, string>;
}
export const LoadBalancer = Record<LoadBalancerProps>({ name: "", protocol: "tcp", vips: OrderedMap(), selectionFields: List(), options: OrderedMap(), externalIds: OrderedMap() }, "LoadBalancer");
export type LoadBalancer = ReturnType<typeof LoadBalancer>;

export interface LogicalSwitchProps {
  readonly name: string;
  readonly ports: OrderedMap<string, SwitchPort>;
  readonly acls: List<Acl>;
  /** Names of the load balancers attached (`load_balancer`). */
  readonly loadBalancers: List<string>;
  readonly otherConfig: OrderedMap<string, string>;
  /** Datapath tunnel key; assigned by the compiler when undefined, in switch order from 1. */
  readonly tunnelKey: number | undefined;
  readonly externalIds: OrderedMap<string, string>;
}
export const LogicalSwitch = Record<LogicalSwitchProps>(
  { name: "", ports: OrderedMap(), acls: List(), loadBalancers: List(), otherConfig: OrderedMap(), tunnelKey: undefined, externalIds: OrderedMap() },
  "LogicalSwitch",
);
export type LogicalSwitch = ReturnType<typeof LogicalSwitch>;

export interface PortGroupProps {
  readonly name: string;
  /** Member switch port names. */
  readonly ports: List<string>;
  readonly acls: List<Acl>;
  readonly externalIds: OrderedMap<string, string>;
}
export const PortGroup = Record<PortGroupProps>({ name: "", ports: List(), acls: List(), externalIds: OrderedMap() }, "PortGroup");
export type PortGroup = ReturnType<typeof PortGroup>;

export interface AddressSetProps {
  readonly name: string;
  /** IPv4/IPv6 addresses or prefixes, or MACs. */
  readonly addresses: List<string>;
  readonly externalIds: OrderedMap<string, string>;
}
export const AddressSet = Record<AddressSetProps>({ name: "", addresses: List(), externalIds: OrderedMap() }, "AddressSet");
export type AddressSet = ReturnType<typeof AddressSet>;

/** A chassis that may host a distributed gateway port, with its priority (higher is preferred). */
export interface GatewayChassisProps {
  readonly chassis: string;
  readonly priority: number;
}
export const GatewayChassis = Record<GatewayChassisProps>({ chassis: "", priority: 0 }, "GatewayChassis");
export type GatewayChassis = ReturnType<typeof GatewayChassis>;

/** NB `HA_Chassis_Group`: the chassis a gateway port may be active on, by priority. */
export interface HaChassisGroupProps {
  readonly name: string;
  readonly chassis: List<GatewayChassis>;
  readonly externalIds: OrderedMap<string, string>;
}
export const HaChassisGroup = Record<HaChassisGroupProps>({ name: "", chassis: List(), externalIds: OrderedMap() }, "HaChassisGroup");
export type HaChassisGroup = ReturnType<typeof HaChassisGroup>;

/** NB `Logical_Router_Port`. */
export interface RouterPortProps {
  readonly name: string;
  readonly mac: string;
  /** `networks`: IPv4 and IPv6 "address/prefix" (the address is the router's own). */
  readonly networks: List<string>;
  /** `peer`: the router port at the other end of a router-to-router link (no switch between). */
  readonly peer: string | undefined;
  /** `gateway_chassis`: makes this a distributed gateway port. */
  readonly gatewayChassis: List<GatewayChassis>;
  /** `ha_chassis_group` by name: the other way to make a distributed gateway port. */
  readonly haChassisGroup: string | undefined;
  /** `options` (route_table, gateway_mtu, reside-on-redirect-chassis, ...). */
  readonly options: OrderedMap<string, string>;
  readonly enabled: boolean;
  /** Tunnel key; assigned by the compiler when undefined. */
  readonly tunnelKey: number | undefined;
  readonly externalIds: OrderedMap<string, string>;
}
export const RouterPort = Record<RouterPortProps>(
  {
    name: "",
    mac: "",
    networks: List(),
    peer: undefined,
    gatewayChassis: List(),
    haChassisGroup: undefined,
    options: OrderedMap(),
    enabled: true,
    tunnelKey: undefined,
    externalIds: OrderedMap(),
  },
  "RouterPort",
);
export type RouterPort = ReturnType<typeof RouterPort>;

export type RoutePolicy = "dst-ip" | "src-ip";

/** NB `Logical_Router_Static_Route`. */
export interface StaticRouteProps {
  /** `ip_prefix`: "IP/prefix" or a bare IP. */
  readonly ipPrefix: string;
  /** `nexthop`: an IP, or "discard" to drop matching packets. */
  readonly nexthop: string;
  /** `output_port`: the router port to send on; found from the next hop when undefined. */
  readonly outputPort: string | undefined;
  readonly policy: RoutePolicy;
  /** `route_table`; "" is the main table, which every port uses unless it names another. */
  readonly routeTable: string;
  /** `options` (ecmp_symmetric_reply, origin). */
  readonly options: OrderedMap<string, string>;
  readonly externalIds: OrderedMap<string, string>;
}
export const StaticRoute = Record<StaticRouteProps>(
  { ipPrefix: "", nexthop: "", outputPort: undefined, policy: "dst-ip", routeTable: "", options: OrderedMap(), externalIds: OrderedMap() },
  "StaticRoute",
);
export type StaticRoute = ReturnType<typeof StaticRoute>;

export type RouterPolicyAction = "allow" | "drop" | "reroute";

/** NB `Logical_Router_Policy`. */
export interface RouterPolicyProps {
  readonly priority: number;
  /** OVN match expression. */
  readonly match: string;
  readonly action: RouterPolicyAction;
  /** `nexthops` for reroute: one, or several for ECMP. */
  readonly nexthops: List<string>;
  /** `options` (pkt_mark). */
  readonly options: OrderedMap<string, string>;
  readonly externalIds: OrderedMap<string, string>;
}
export const RouterPolicy = Record<RouterPolicyProps>({ priority: 0, match: "", action: "allow", nexthops: List(), options: OrderedMap(), externalIds: OrderedMap() }, "RouterPolicy");
export type RouterPolicy = ReturnType<typeof RouterPolicy>;

export type NatType = "snat" | "dnat" | "dnat_and_snat";

/** NB `NAT`. */
export interface NatProps {
  readonly type: NatType;
  readonly externalIp: string;
  /** `logical_ip`: an IP, or for snat a CIDR. */
  readonly logicalIp: string;
  /** `external_mac` with `logicalPort`: a distributed dnat_and_snat, done on the port's chassis. */
  readonly externalMac: string | undefined;
  readonly logicalPort: string | undefined;
  /** `external_port_range` ("LOW-HIGH") for snat. */
  readonly externalPortRange: string | undefined;
  /** `options:stateless` (dnat_and_snat only). */
  readonly stateless: boolean;
  /** `gateway_port`: the distributed gateway port to use when the router has several. */
  readonly gatewayPort: string | undefined;
  /** `allowed_ext_ips` / `exempted_ext_ips`: address set names. */
  readonly allowedExtIps: string | undefined;
  readonly exemptedExtIps: string | undefined;
  /** Other `options` (add_route, ...). */
  readonly options: OrderedMap<string, string>;
  readonly externalIds: OrderedMap<string, string>;
}
export const Nat = Record<NatProps>(
  {
    type: "snat",
    externalIp: "",
    logicalIp: "",
    externalMac: undefined,
    logicalPort: undefined,
    externalPortRange: undefined,
    stateless: false,
    gatewayPort: undefined,
    allowedExtIps: undefined,
    exemptedExtIps: undefined,
    options: OrderedMap(),
    externalIds: OrderedMap(),
  },
  "Nat",
);
export type Nat = ReturnType<typeof Nat>;

/** NB `Logical_Router`. */
export interface LogicalRouterProps {
  readonly name: string;
  readonly ports: OrderedMap<string, RouterPort>;
  readonly staticRoutes: List<StaticRoute>;
  readonly policies: List<RouterPolicy>;
  readonly nat: List<Nat>;
  /** Names of the load balancers attached (`load_balancer`). */
  readonly loadBalancers: List<string>;
  /** `options` (chassis for a gateway router, lb_force_snat_ip, dynamic_neigh_routers, ...). */
  readonly options: OrderedMap<string, string>;
  readonly enabled: boolean;
  /** Datapath tunnel key; assigned by the compiler when undefined. */
  readonly tunnelKey: number | undefined;
  readonly externalIds: OrderedMap<string, string>;
}
export const LogicalRouter = Record<LogicalRouterProps>(
  {
    name: "",
    ports: OrderedMap(),
    staticRoutes: List(),
    policies: List(),
    nat: List(),
    loadBalancers: List(),
    options: OrderedMap(),
    enabled: true,
    tunnelKey: undefined,
    externalIds: OrderedMap(),
  },
  "LogicalRouter",
);
export type LogicalRouter = ReturnType<typeof LogicalRouter>;

/**
 * A neighbour binding: NB `Static_MAC_Binding` (configured; `overrideDynamicMac` lets it win over
 * a learned one), or SB `MAC_Binding` (learned by ovn-controller from ARP/ND; what ovn-trace reads).
 */
export interface MacBindingProps {
  /** The router port the neighbour is reached through. */
  readonly logicalPort: string;
  readonly ip: string;
  readonly mac: string;
  readonly overrideDynamicMac: boolean;
}
export const MacBinding = Record<MacBindingProps>({ logicalPort: "", ip: "", mac: "", overrideDynamicMac: false }, "MacBinding");
export type MacBinding = ReturnType<typeof MacBinding>;

/** Kube-OVN `IptablesEIP`: an address on the NAT gateway's external interface. */
export interface NatGatewayEipProps {
  readonly name: string;
  readonly ip: string;
}
export const NatGatewayEip = Record<NatGatewayEipProps>({ name: "", ip: "" }, "NatGatewayEip");
export type NatGatewayEip = ReturnType<typeof NatGatewayEip>;

/** Kube-OVN `IptablesSnatRule`: traffic from `internalCidr` leaving the external interface takes the EIP. */
export interface NatGatewaySnatProps {
  readonly name: string;
  readonly eip: string;
  readonly internalCidr: string;
  /** The rule carries `--random-fully` (Kube-OVN adds it when the pod's iptables is newer than 1.6.2). */
  readonly randomFully: boolean;
}
export const NatGatewaySnat = Record<NatGatewaySnatProps>({ name: "", eip: "", internalCidr: "", randomFully: false }, "NatGatewaySnat");
export type NatGatewaySnat = ReturnType<typeof NatGatewaySnat>;

/** Kube-OVN `IptablesDnatRule`: `protocol` to EIP:`externalPort` goes to `internalIp`:`internalPort`. */
export interface NatGatewayDnatProps {
  readonly name: string;
  readonly eip: string;
  readonly protocol: "tcp" | "udp";
  readonly externalPort: number;
  readonly internalIp: string;
  readonly internalPort: number;
}
export const NatGatewayDnat = Record<NatGatewayDnatProps>({ name: "", eip: "", protocol: "tcp", externalPort: 0, internalIp: "", internalPort: 0 }, "NatGatewayDnat");
export type NatGatewayDnat = ReturnType<typeof NatGatewayDnat>;

/** Kube-OVN `IptablesFIPRule`: a one-to-one mapping between the EIP and `internalIp`, both ways. */
export interface NatGatewayFipProps {
  readonly name: string;
  readonly eip: string;
  readonly internalIp: string;
}
export const NatGatewayFip = Record<NatGatewayFipProps>({ name: "", eip: "", internalIp: "" }, "NatGatewayFip");
export type NatGatewayFip = ReturnType<typeof NatGatewayFip>;

/**
 * Kube-OVN `VpcNatGateway`: a pod with `eth0` on a VPC switch (the switch port `lanPort`, address
 * `lanIp`) and `net1` on an external network outside OVN. Packets routed to it (normally by the
 * VPC's static route `0.0.0.0/0 → lanIp`) go through its iptables nat table and leave on `net1`;
 * packets arriving on `net1` for its EIPs are DNATed and routed back into the VPC via `eth0`.
 */
export interface NatGatewayProps {
  readonly name: string;
  /** The VPC (logical router) it serves. */
  readonly vpc: string;
  /** The switch port of `eth0` (`vpc-nat-gw-<name>-0.kube-system`). */
  readonly lanPort: string;
  readonly lanIp: string;
  /** `net1`'s MAC, its "address/prefix" on the external network, and that network's gateway. */
  readonly externalMac: string;
  readonly externalCidr: string;
  readonly externalGateway: string;
  readonly eips: OrderedMap<string, NatGatewayEip>;
  readonly snatRules: List<NatGatewaySnat>;
  readonly dnatRules: List<NatGatewayDnat>;
  readonly fipRules: List<NatGatewayFip>;
}
export const NatGateway = Record<NatGatewayProps>(
  {
    name: "",
    vpc: "",
    lanPort: "",
    lanIp: "",
    externalMac: "",
    externalCidr: "",
    externalGateway: "",
    eips: OrderedMap(),
    snatRules: List(),
    dnatRules: List(),
    fipRules: List(),
  },
  "NatGateway",
);
export type NatGateway = ReturnType<typeof NatGateway>;

/** One entry of a host ipset (`hash:net`): an IPv4 address or prefix, and the resource it comes from. */
export interface IpsetEntryProps {
  /** An IPv4 address or "IP/PREFIX". */
  readonly address: string;
  /** Free text naming the resource behind the entry (`Subnet/ovn-default`); not part of ipset. */
  readonly owner: string;
}
export const IpsetEntry = Record<IpsetEntryProps>({ address: "", owner: "" }, "IpsetEntry");
export type IpsetEntry = ReturnType<typeof IpsetEntry>;

/** A named ipset of a node host (Kube-OVN's `ovn40subnets`, `ovn40subnets-nat`, ...). */
export interface NodeHostIpsetProps {
  readonly name: string;
  readonly members: List<IpsetEntry>;
}
export const NodeHostIpset = Record<NodeHostIpsetProps>({ name: "", members: List() }, "NodeHostIpset");
export type NodeHostIpset = ReturnType<typeof NodeHostIpset>;

/**
 * A centralized subnet's egress SNAT on its gateway node (Kube-OVN `gatewayNode: "node:ip"`):
 * `-s CIDR -m set ! --match-set ovn40subnets dst -j SNAT --to-source IP`.
 */
export interface NodeHostSnatProps {
  readonly cidr: string;
  readonly ip: string;
  /** Free text naming the resource behind the rule. */
  readonly owner: string;
}
export const NodeHostSnat = Record<NodeHostSnatProps>({ cidr: "", ip: "", owner: "" }, "NodeHostSnat");
export type NodeHostSnat = ReturnType<typeof NodeHostSnat>;

/**
 * A Kubernetes node's host side as far as forwarding and NAT go (not an OVN object): `ovn0`, an
 * OVS internal port that is the switch port `port` (Kube-OVN's `node-<node>` on `join`), the
 * node's NIC with its InternalIP, the host routes to the pod subnets via `ovn0`, the ipsets
 * kube-ovn-cni keeps, and from them the nat rules of Kube-OVN's `OVN-POSTROUTING` chain (which the
 * dataplane builds). Packets OVN sends out of `port` are routed by this host; those it sends out of
 * the NIC leave the cluster, MASQUERADEd to the InternalIP when a `natOutgoing` subnet sent them.
 */
export interface NodeHostProps {
  /** The node's name. */
  readonly name: string;
  /** The switch port `ovn0` is (`node-<node>`). */
  readonly port: string;
  /** The NIC's name (`eth0`). */
  readonly nic: string;
  /** The NIC's MAC; "" takes the MAC of the chassis of the same name (see `chassisMac`). */
  readonly nicMac: string;
  /** The NIC's "IP/PREFIX": the node's InternalIP. */
  readonly address: string;
  /** The next hop of the NIC's default route; "" for a default route without a gateway (on-link). */
  readonly gateway: string;
  /** The gateway's MAC; "" when unknown (the packet leaves with destination MAC 0). */
  readonly gatewayMac: string;
  /** Prefixes routed via the join gateway on `ovn0` (the pod subnets), besides `ovn0`'s own network. */
  readonly ovn0Routes: List<string>;
  readonly ipsets: OrderedMap<string, NodeHostIpset>;
  readonly centralizedSnats: List<NodeHostSnat>;
  /** The SNAT and MASQUERADE rules carry `--random-fully` (no effect on the simulated translation). */
  readonly randomFully: boolean;
}
export const NodeHost = Record<NodeHostProps>(
  {
    name: "",
    port: "",
    nic: "eth0",
    nicMac: "",
    address: "",
    gateway: "",
    gatewayMac: "",
    ovn0Routes: List(),
    ipsets: OrderedMap(),
    centralizedSnats: List(),
    randomFully: false,
  },
  "NodeHost",
);
export type NodeHost = ReturnType<typeof NodeHost>;

/**
 * A gateway interface of the underlay's own router on a provider network: its address on one VLAN.
 * Underlay subnets use it as their default gateway; it routes between its interfaces.
 */
export interface UnderlayGatewayProps {
  /** The VLAN id the interface sits on; 0 means untagged. */
  readonly vlan: number;
  /** "IP/PREFIX": the gateway address and the subnet it serves. */
  readonly address: string;
  readonly mac: string;
}
export const UnderlayGateway = Record<UnderlayGatewayProps>({ vlan: 0, address: "", mac: "" }, "UnderlayGateway");
export type UnderlayGateway = ReturnType<typeof UnderlayGateway>;

/**
 * A provider network: a VLAN-aware L2 segment that chassis reach through a bridge mapping (not an
 * OVN object; Kube-OVN's `ProviderNetwork` and `Vlan`). Localnet ports name it in
 * `options:network_name`. Its gateways together form the underlay's router.
 */
export interface ProviderNetworkProps {
  readonly name: string;
  readonly gateways: List<UnderlayGateway>;
}
export const ProviderNetwork = Record<ProviderNetworkProps>({ name: "", gateways: List() }, "ProviderNetwork");
export type ProviderNetwork = ReturnType<typeof ProviderNetwork>;

export interface NetworkProps {
  readonly name: string;
  /** Free text for people (a scenario's `description`); not part of OVN. */
  readonly description: string;
  readonly chassis: OrderedMap<string, Chassis>;
  readonly switches: OrderedMap<string, LogicalSwitch>;
  readonly portGroups: OrderedMap<string, PortGroup>;
  readonly addressSets: OrderedMap<string, AddressSet>;
  readonly loadBalancers: OrderedMap<string, LoadBalancer>;
  readonly routers: OrderedMap<string, LogicalRouter>;
  readonly haChassisGroups: OrderedMap<string, HaChassisGroup>;
  /** NB `Static_MAC_Binding` rows. */
  readonly staticMacBindings: List<MacBinding>;
  /** SB `MAC_Binding` rows: neighbours the routers have learned. */
  readonly macBindings: List<MacBinding>;
  readonly natGateways: OrderedMap<string, NatGateway>;
  /** Kubernetes nodes' host sides (ovn0, NIC, host NAT). */
  readonly nodeHosts: OrderedMap<string, NodeHost>;
  /** The underlay: provider networks and their gateways. */
  readonly providerNetworks: OrderedMap<string, ProviderNetwork>;
  /** NB_Global options. */
  readonly options: OrderedMap<string, string>;
}
export const Network = Record<NetworkProps>(
  {
    name: "",
    description: "",
    chassis: OrderedMap(),
    switches: OrderedMap(),
    portGroups: OrderedMap(),
    addressSets: OrderedMap(),
    loadBalancers: OrderedMap(),
    routers: OrderedMap(),
    haChassisGroups: OrderedMap(),
    staticMacBindings: List(),
    macBindings: List(),
    natGateways: OrderedMap(),
    nodeHosts: OrderedMap(),
    providerNetworks: OrderedMap(),
    options: OrderedMap(),
  },
  "Network",
);
export type Network = ReturnType<typeof Network>;

/** Finds the switch that has a port of this name (port names are unique across a network in OVN). */
export function switchOfPort(net: Network, port: string): LogicalSwitch | undefined {
  return net.switches.find((ls) => ls.ports.has(port));
}


/** Finds the router that has a port of this name. */
export function routerOfPort(net: Network, port: string): LogicalRouter | undefined {
  return net.routers.find((lr) => lr.ports.has(port));
}
