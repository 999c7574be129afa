/**
 * The logical network: an immutable model that follows OVN's Northbound schema closely.
 *
 * What: chassis (with encapsulations and bridge mappings), logical switches with their ports and
 * ACLs, port groups (with their own ACLs), address sets and load balancers. Names are the keys,
 * as in OVN where tools refer to objects by name. Each record's fields carry the NB column they
 * mirror, so importing a Northbound database and exporting `ovn-nbctl` commands are mechanical.
 *
 * Design: Immutable.js Records and ordered maps. A what-if change (`network.setIn([...])`) shares
 * everything it does not touch, and two networks compare by value. Insertion order is kept and is
 * the order of every listing (flow dumps, exports), so outputs are stable. Nothing here checks
 * consistency: `validate.ts` does, and reports every problem with its model path.
 *
 * Not here: routers, NAT and routes (later), and anything compiled (see `compile/`).
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
}
export const Chassis = Record<ChassisProps>({ name: "", hostname: "", encaps: List(), bridgeMappings: OrderedMap() }, "Chassis");
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

export interface NetworkProps {
  readonly name: string;
  /** Free text for people (a scenario's `description`); not part of OVN. */
  readonly description: string;
  readonly chassis: OrderedMap<string, Chassis>;
  readonly switches: OrderedMap<string, LogicalSwitch>;
  readonly portGroups: OrderedMap<string, PortGroup>;
  readonly addressSets: OrderedMap<string, AddressSet>;
  readonly loadBalancers: OrderedMap<string, LoadBalancer>;
  /** NB_Global options. */
  readonly options: OrderedMap<string, string>;
}
export const Network = Record<NetworkProps>(
  { name: "", description: "", chassis: OrderedMap(), switches: OrderedMap(), portGroups: OrderedMap(), addressSets: OrderedMap(), loadBalancers: OrderedMap(), options: OrderedMap() },
  "Network",
);
export type Network = ReturnType<typeof Network>;

/** Finds the switch that has a port of this name (port names are unique across a network in OVN). */
export function switchOfPort(net: Network, port: string): LogicalSwitch | undefined {
  return net.switches.find((ls) => ls.ports.has(port));
}

