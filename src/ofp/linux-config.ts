/**
 * The Linux boxes beside OVN as plain data: a Kubernetes node's host side (`NodeHostConfig`) and a
 * Kube-OVN VPC NAT gateway pod (`NatGatewayConfig`). compile/ makes them from the model and
 * dataplane/ runs them (node-host.ts, iptables-natgw.ts); they are declared here, where both
 * layers may import them. Addresses are text ("a.b.c.d", "a.b.c.d/len", "aa:bb:..").
 */

type Path = readonly (string | number)[];

/** The interfaces of the gateway pod. */
export type NatGatewayIface = "eth0" | "net1";

export interface NatGatewayEipConfig {
  readonly ip: string;
  readonly path?: Path;
}

export interface NatGatewayFipConfig {
  readonly eip: string;
  readonly internalIp: string;
  readonly path?: Path;
}

export interface NatGatewayDnatConfig {
  readonly eip: string;
  readonly protocol: "tcp" | "udp";
  readonly externalPort: number;
  readonly internalIp: string;
  readonly internalPort: number;
  readonly path?: Path;
}

export interface NatGatewaySnatConfig {
  readonly eip: string;
  readonly internalCidr: string;
  readonly randomFully?: boolean;
  readonly path?: Path;
}

export interface NatGatewayRouteConfig {
  /** Destination prefix (`0.0.0.0/0` for the default route). */
  readonly cidr: string;
  readonly dev: NatGatewayIface;
  /** The gateway; absent for an on-link route. */
  readonly via?: string;
  readonly path?: Path;
}

export interface NatGatewayNeighborConfig {
  readonly ip: string;
  readonly mac: string;
  readonly dev: NatGatewayIface;
}

/** A NAT gateway as plain data. */
export interface NatGatewayConfig {
  readonly name: string;
  /** The OVN switch port `eth0` is (`vpc-nat-gw-<name>-0.kube-system`). */
  readonly lanPort: string;
  readonly lanMac: string;
  /** eth0's "address/prefix"; the prefix is eth0's connected network. */
  readonly lanCidr: string;
  /** The VPC router port on the lan switch: the next hop of the VPC routes. */
  readonly vpcGatewayIp: string;
  readonly vpcGatewayMac: string;
  readonly externalMac: string;
  /** net1's "address/prefix". */
  readonly externalCidr: string;
  readonly externalGateway: string;
  readonly externalGatewayMac?: string;
  readonly eips: readonly NatGatewayEipConfig[];
  readonly fips: readonly NatGatewayFipConfig[];
  readonly dnats: readonly NatGatewayDnatConfig[];
  readonly snats: readonly NatGatewaySnatConfig[];
  /** Routes besides the connected ones (eth0's and net1's prefixes, which are implied). */
  readonly routes: readonly NatGatewayRouteConfig[];
  /** Known neighbours besides the two gateways. */
  readonly neighbors: readonly NatGatewayNeighborConfig[];
  /** Where the gateway is in the model, for diagnostics. */
  readonly path?: Path;
}

export interface NodeHostIpsetConfig {
  readonly name: string;
  readonly members: readonly { readonly address: string; readonly owner?: string; readonly path?: Path }[];
}

export interface NodeHostSnatConfig {
  readonly cidr: string;
  readonly ip: string;
  readonly owner?: string;
  readonly path?: Path;
}

/** A node's host side as plain data. */
export interface NodeHostConfig {
  /** The node's name. */
  readonly name: string;
  /** The OVN switch port ovn0 is (`node-<node>`). */
  readonly port: string;
  readonly ovn0Mac: string;
  /** ovn0's "address/prefix" (the join IP in the join network). */
  readonly ovn0Cidr: string;
  /** The join network's gateway (the router port) and its MAC: the next hop of the pod routes. */
  readonly joinGatewayIp: string;
  readonly joinGatewayMac: string;
  /** The NIC's name, MAC and "address/prefix" (the InternalIP). */
  readonly nic: string;
  readonly nicMac: string;
  readonly nicCidr: string;
  /** The default route's next hop; absent for an on-link default route. */
  readonly gateway?: string;
  readonly gatewayMac?: string;
  /** Prefixes routed via the join gateway on ovn0. */
  readonly ovn0Routes: readonly { readonly cidr: string; readonly path?: Path }[];
  readonly ipsets: readonly NodeHostIpsetConfig[];
  readonly centralizedSnats: readonly NodeHostSnatConfig[];
  readonly randomFully: boolean;
  /** Known neighbours besides the gateways (on ovn0: the addresses the join switch knows). */
  readonly neighbors: readonly { readonly ip: string; readonly mac: string; readonly dev: string }[];
  /** Where the host is in the model, for diagnostics and provenance. */
  readonly path?: Path;
}
