/**
 * The scenario file format, declared once: every object, its allowed fields, their types, and the
 * Northbound column each maps to.
 *
 * What: a small type language (`FieldType`) and the `SCENARIO` spec written in it. The loader
 * checks YAML against this spec (unknown fields, wrong types, values outside an enum or range),
 * and `scenarioJsonSchema()` renders the same spec as a JSON Schema (draft 2020-12), which is
 * published as `schema/scenario.schema.json`. Because both come from one table, the loader and the
 * schema cannot disagree on which keys are allowed.
 *
 * Not here: checks that need the whole network (dangling references, duplicate addresses), which
 * `model/validate.ts` does after the model is built.
 */

/** The type of one field. Objects are closed: any key not declared is an error. */
export type FieldType =
  | { readonly kind: "string"; readonly enum?: readonly string[] }
  | { readonly kind: "int"; readonly min: number; readonly max: number }
  | { readonly kind: "bool" }
  | { readonly kind: "list"; readonly of: FieldType }
  /** A mapping with free-form string keys. */
  | { readonly kind: "map"; readonly of: FieldType }
  | { readonly kind: "object"; readonly spec: ObjectSpec };

export interface FieldSpec {
  readonly type: FieldType;
  readonly required?: boolean;
  /** One sentence for the schema and the README. */
  readonly doc: string;
  /** The Northbound column (or other source) the field mirrors, when there is one. */
  readonly nb?: string;
}

export interface ObjectSpec {
  /** A name for messages and the schema's `$defs`: `port`, `acl`, ... */
  readonly name: string;
  readonly doc: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

const str: FieldType = { kind: "string" };
const strList: FieldType = { kind: "list", of: str };
const strMap: FieldType = { kind: "map", of: str };

export const ENCAP: ObjectSpec = {
  name: "encap",
  doc: "A tunnel endpoint of a chassis.",
  fields: {
    type: { type: { kind: "string", enum: ["geneve", "vxlan", "stt"] }, required: true, doc: "Encapsulation type.", nb: "SB Encap.type" },
    ip: { type: str, required: true, doc: "Tunnel endpoint IP.", nb: "SB Encap.ip" },
  },
};

export const CHASSIS: ObjectSpec = {
  name: "chassis",
  doc: "A hypervisor (Southbound Chassis) that ports are bound to.",
  fields: {
    name: { type: str, required: true, doc: "Chassis name (system-id).", nb: "SB Chassis.name" },
    hostname: { type: str, doc: "Host name.", nb: "SB Chassis.hostname" },
    encaps: { type: { kind: "list", of: { kind: "object", spec: ENCAP } }, doc: "Tunnel endpoints.", nb: "SB Chassis.encaps" },
    bridgeMappings: { type: strMap, doc: "Provider network name to bridge.", nb: "Open_vSwitch external_ids:ovn-bridge-mappings" },
    nics: { type: strMap, doc: "Provider bridge to the physical NIC plugged into it.", nb: "Kube-OVN ProviderNetwork.spec.defaultInterface" },
    macMappings: { type: strMap, doc: "Provider network name to this chassis's MAC on it: the source MAC of what a distributed router sends onto that network from here.", nb: "Open_vSwitch external_ids:ovn-chassis-mac-mappings" },
    mac: { type: str, doc: "MAC of the NIC that carries tunnels and provider traffic (default: derived from the first encap IP)." },
    isRemote: { type: { kind: "bool" }, doc: "A chassis of another availability zone (OVN-IC).", nb: "SB Chassis.other_config:is-remote" },
    isInterconn: { type: { kind: "bool" }, doc: "An OVN-IC gateway of this zone: the only kind of chassis with tunnels to the chassis of other zones.", nb: "SB Chassis.other_config:is-interconn" },
  },
};

export const UNDERLAY_GATEWAY: ObjectSpec = {
  name: "underlayGateway",
  doc: "An interface of the underlay's own router on one VLAN of a provider network.",
  fields: {
    vlan: { type: { kind: "int", min: 0, max: 4094 }, required: true, doc: "VLAN id; 0 is untagged.", nb: "Kube-OVN Vlan.spec.id" },
    address: { type: str, required: true, doc: '"IP/PREFIX": the gateway address and its subnet.', nb: "Kube-OVN Subnet.spec.gateway / cidrBlock" },
    mac: { type: str, required: true, doc: "The gateway's MAC." },
  },
};

export const PROVIDER_NETWORK: ObjectSpec = {
  name: "providerNetwork",
  doc: "A VLAN-aware L2 segment chassis reach through a bridge mapping; its gateways form the underlay's router.",
  fields: {
    name: { type: str, required: true, doc: "Name, as localnet ports give it in options:network_name.", nb: "Kube-OVN ProviderNetwork.metadata.name" },
    gateways: { type: { kind: "list", of: { kind: "object", spec: UNDERLAY_GATEWAY } }, doc: "The underlay router's interfaces." },
  },
};

export const ACL: ObjectSpec = {
  name: "acl",
  doc: "An ACL on a switch or a port group.",
  fields: {
    direction: { type: { kind: "string", enum: ["from-lport", "to-lport"] }, required: true, doc: "from-lport (ingress pipeline) or to-lport (egress pipeline).", nb: "ACL.direction" },
    priority: { type: { kind: "int", min: 0, max: 32767 }, required: true, doc: "Higher wins.", nb: "ACL.priority" },
    match: { type: str, required: true, doc: "OVN match expression.", nb: "ACL.match" },
    action: { type: { kind: "string", enum: ["allow", "allow-related", "allow-stateless", "drop", "reject"] }, required: true, doc: "Verdict.", nb: "ACL.action" },
    name: { type: str, doc: "Name shown in logs (at most 63 characters).", nb: "ACL.name" },
    label: { type: { kind: "int", min: 0, max: 4294967295 }, doc: "Stored in ct_label when the connection is committed.", nb: "ACL.label" },
    log: { type: { kind: "bool" }, doc: "Log matching packets.", nb: "ACL.log" },
    severity: { type: { kind: "string", enum: ["alert", "warning", "notice", "info", "debug"] }, doc: "Log severity.", nb: "ACL.severity" },
    applyAfterLb: { type: { kind: "bool" }, doc: "Evaluate after load balancing (from-lport only).", nb: "ACL.options:apply-after-lb" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "ACL.external_ids" },
  },
};

export const PORT: ObjectSpec = {
  name: "port",
  doc: "A logical switch port.",
  fields: {
    name: { type: str, required: true, doc: "Port name, unique in the network.", nb: "Logical_Switch_Port.name" },
    type: { type: { kind: "string", enum: ["", "router", "localnet", "remote", "localport", "external", "virtual", "l2gateway"] }, doc: "Port type; omitted or empty for a VIF.", nb: "Logical_Switch_Port.type" },
    addresses: { type: strList, doc: '"MAC [IP...]", "unknown", "router" or "dynamic".', nb: "Logical_Switch_Port.addresses" },
    portSecurity: { type: strList, doc: '"MAC [IP[/PREFIX]...]".', nb: "Logical_Switch_Port.port_security" },
    options: { type: strMap, doc: "Port options (network_name, router-port, requested-chassis, ...).", nb: "Logical_Switch_Port.options" },
    tag: { type: { kind: "int", min: 1, max: 4095 }, doc: "VLAN tag (localnet ports).", nb: "Logical_Switch_Port.tag" },
    chassis: { type: str, doc: "Chassis the port is bound to.", nb: "SB Port_Binding.chassis" },
    enabled: { type: { kind: "bool" }, doc: "false disables the port.", nb: "Logical_Switch_Port.enabled" },
    tunnelKey: { type: { kind: "int", min: 1, max: 32767 }, doc: "Port tunnel key; assigned in port order when omitted.", nb: "SB Port_Binding.tunnel_key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Switch_Port.external_ids" },
  },
};

export const SWITCH: ObjectSpec = {
  name: "switch",
  doc: "A logical switch.",
  fields: {
    name: { type: str, required: true, doc: "Switch name.", nb: "Logical_Switch.name" },
    ports: { type: { kind: "list", of: { kind: "object", spec: PORT } }, doc: "Ports, in order.", nb: "Logical_Switch.ports" },
    acls: { type: { kind: "list", of: { kind: "object", spec: ACL } }, doc: "Switch ACLs.", nb: "Logical_Switch.acls" },
    loadBalancers: { type: strList, doc: "Names of attached load balancers.", nb: "Logical_Switch.load_balancer" },
    otherConfig: { type: strMap, doc: "other_config (subnet, exclude_ips, ...).", nb: "Logical_Switch.other_config" },
    tunnelKey: { type: { kind: "int", min: 1, max: 16777215 }, doc: "Datapath tunnel key; assigned in switch order when omitted.", nb: "SB Datapath_Binding.tunnel_key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Switch.external_ids" },
  },
};

export const PORT_GROUP: ObjectSpec = {
  name: "portGroup",
  doc: "A named set of switch ports, usable as @name in matches, with its own ACLs.",
  fields: {
    name: { type: str, required: true, doc: "Port group name.", nb: "Port_Group.name" },
    ports: { type: strList, doc: "Member port names.", nb: "Port_Group.ports" },
    acls: { type: { kind: "list", of: { kind: "object", spec: ACL } }, doc: "ACLs applied to the members.", nb: "Port_Group.acls" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Port_Group.external_ids" },
  },
};

export const ADDRESS_SET: ObjectSpec = {
  name: "addressSet",
  doc: "A named set of addresses, usable as $name in matches.",
  fields: {
    name: { type: str, required: true, doc: "Address set name.", nb: "Address_Set.name" },
    addresses: { type: strList, doc: "IP addresses, CIDRs or MACs.", nb: "Address_Set.addresses" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Address_Set.external_ids" },
  },
};

export const LOAD_BALANCER: ObjectSpec = {
  name: "loadBalancer",
  doc: "A load balancer: VIPs and their backends.",
  fields: {
    name: { type: str, required: true, doc: "Load balancer name.", nb: "Load_Balancer.name" },
    protocol: { type: { kind: "string", enum: ["tcp", "udp", "sctp"] }, doc: "Protocol of VIPs with a port (default tcp).", nb: "Load_Balancer.protocol" },
    vips: { type: { kind: "map", of: strList }, doc: '"IP[:PORT]" (IPv6 as "[IP]:PORT") to a list of backends of the same form.', nb: "Load_Balancer.vips" },
    selectionFields: { type: { kind: "list", of: { kind: "string", enum: ["eth_src", "eth_dst", "ip_src", "ip_dst", "tp_src", "tp_dst"] } }, doc: "Fields hashed to choose a backend.", nb: "Load_Balancer.selection_fields" },
    options: { type: strMap, doc: "Options (hairpin_snat_ip, reject, skip_snat, neighbor_responder, affinity_timeout, ...).", nb: "Load_Balancer.options" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Load_Balancer.external_ids" },
  },
};

const port: FieldType = { kind: "int", min: 1, max: 65535 };
const chassisPriority: FieldType = { kind: "int", min: 0, max: 32767 };

export const GATEWAY_CHASSIS: ObjectSpec = {
  name: "gatewayChassis",
  doc: "A chassis that may host a distributed gateway port, with its priority (higher is preferred).",
  fields: {
    chassis: { type: str, required: true, doc: "Chassis name.", nb: "Gateway_Chassis.chassis_name / HA_Chassis.chassis_name" },
    priority: { type: chassisPriority, required: true, doc: "Higher is preferred.", nb: "Gateway_Chassis.priority / HA_Chassis.priority" },
  },
};

export const ROUTER_PORT: ObjectSpec = {
  name: "routerPort",
  doc: "A logical router port.",
  fields: {
    name: { type: str, required: true, doc: "Port name, unique in the network (switch ports included).", nb: "Logical_Router_Port.name" },
    mac: { type: str, required: true, doc: "The port's Ethernet address.", nb: "Logical_Router_Port.mac" },
    networks: { type: strList, doc: 'The router\'s addresses on this port, "IP/PREFIX".', nb: "Logical_Router_Port.networks" },
    peer: { type: str, doc: "The router port at the other end of a direct router-to-router link.", nb: "Logical_Router_Port.peer" },
    gatewayChassis: { type: { kind: "list", of: { kind: "object", spec: GATEWAY_CHASSIS } }, doc: "Makes this a distributed gateway port.", nb: "Logical_Router_Port.gateway_chassis" },
    haChassisGroup: { type: str, doc: "HA chassis group name; the other way to make a distributed gateway port.", nb: "Logical_Router_Port.ha_chassis_group" },
    options: { type: strMap, doc: "Port options (route_table, gateway_mtu, reside-on-redirect-chassis, ...).", nb: "Logical_Router_Port.options" },
    enabled: { type: { kind: "bool" }, doc: "false disables the port.", nb: "Logical_Router_Port.enabled" },
    tunnelKey: { type: { kind: "int", min: 1, max: 32767 }, doc: "Port tunnel key; assigned by the compiler when omitted.", nb: "Logical_Router_Port.options:requested-tnl-key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Router_Port.external_ids" },
  },
};

export const STATIC_ROUTE: ObjectSpec = {
  name: "staticRoute",
  doc: "A static route of a router.",
  fields: {
    ipPrefix: { type: str, required: true, doc: 'Destination (or, with policy src-ip, source) "IP/PREFIX" or bare IP.', nb: "Logical_Router_Static_Route.ip_prefix" },
    nexthop: { type: str, required: true, doc: 'Next-hop IP, or "discard" to drop.', nb: "Logical_Router_Static_Route.nexthop" },
    outputPort: { type: str, doc: "Router port to send on; found from the next hop when omitted.", nb: "Logical_Router_Static_Route.output_port" },
    policy: { type: { kind: "string", enum: ["dst-ip", "src-ip"] }, doc: "Match the destination (default) or the source address.", nb: "Logical_Router_Static_Route.policy" },
    routeTable: { type: str, doc: "Route table name; omitted for the main table.", nb: "Logical_Router_Static_Route.route_table" },
    options: { type: strMap, doc: "Options (ecmp_symmetric_reply, origin, ...).", nb: "Logical_Router_Static_Route.options" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Router_Static_Route.external_ids" },
  },
};

export const ROUTER_POLICY: ObjectSpec = {
  name: "routerPolicy",
  doc: "A logical router policy (policy-based routing).",
  fields: {
    priority: { type: { kind: "int", min: 0, max: 32767 }, required: true, doc: "Higher wins.", nb: "Logical_Router_Policy.priority" },
    match: { type: str, required: true, doc: "OVN match expression.", nb: "Logical_Router_Policy.match" },
    action: { type: { kind: "string", enum: ["allow", "drop", "reroute"] }, required: true, doc: "Verdict.", nb: "Logical_Router_Policy.action" },
    nexthops: { type: strList, doc: "Next hops of a reroute (several for ECMP).", nb: "Logical_Router_Policy.nexthops" },
    options: { type: strMap, doc: "Options (pkt_mark).", nb: "Logical_Router_Policy.options" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Router_Policy.external_ids" },
  },
};

export const NAT: ObjectSpec = {
  name: "nat",
  doc: "A NAT rule of a router.",
  fields: {
    type: { type: { kind: "string", enum: ["snat", "dnat", "dnat_and_snat"] }, required: true, doc: "NAT type.", nb: "NAT.type" },
    externalIp: { type: str, required: true, doc: "External IP.", nb: "NAT.external_ip" },
    logicalIp: { type: str, required: true, doc: "Logical IP; a CIDR for snat.", nb: "NAT.logical_ip" },
    externalMac: { type: str, doc: "With logicalPort: a distributed dnat_and_snat done on the port's chassis.", nb: "NAT.external_mac" },
    logicalPort: { type: str, doc: "The switch port that owns logicalIp (distributed NAT).", nb: "NAT.logical_port" },
    externalPortRange: { type: str, doc: '"LOW-HIGH" source ports for snat.', nb: "NAT.external_port_range" },
    stateless: { type: { kind: "bool" }, doc: "Stateless dnat_and_snat.", nb: "NAT.options:stateless" },
    gatewayPort: { type: str, doc: "The distributed gateway port to use when the router has several.", nb: "NAT.gateway_port" },
    allowedExtIps: { type: str, doc: "Address set name: only these external IPs are translated.", nb: "NAT.allowed_ext_ips" },
    exemptedExtIps: { type: str, doc: "Address set name: these external IPs are not translated.", nb: "NAT.exempted_ext_ips" },
    options: { type: strMap, doc: "Other options (add_route, ...).", nb: "NAT.options" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "NAT.external_ids" },
  },
};

export const ROUTER: ObjectSpec = {
  name: "router",
  doc: "A logical router.",
  fields: {
    name: { type: str, required: true, doc: "Router name.", nb: "Logical_Router.name" },
    ports: { type: { kind: "list", of: { kind: "object", spec: ROUTER_PORT } }, doc: "Ports, in order.", nb: "Logical_Router.ports" },
    staticRoutes: { type: { kind: "list", of: { kind: "object", spec: STATIC_ROUTE } }, doc: "Static routes.", nb: "Logical_Router.static_routes" },
    policies: { type: { kind: "list", of: { kind: "object", spec: ROUTER_POLICY } }, doc: "Routing policies.", nb: "Logical_Router.policies" },
    nat: { type: { kind: "list", of: { kind: "object", spec: NAT } }, doc: "NAT rules.", nb: "Logical_Router.nat" },
    loadBalancers: { type: strList, doc: "Names of attached load balancers.", nb: "Logical_Router.load_balancer" },
    options: { type: strMap, doc: "Options (chassis for a gateway router, lb_force_snat_ip, ...).", nb: "Logical_Router.options" },
    enabled: { type: { kind: "bool" }, doc: "false disables the router.", nb: "Logical_Router.enabled" },
    tunnelKey: { type: { kind: "int", min: 1, max: 16777215 }, doc: "Datapath tunnel key; assigned by the compiler when omitted.", nb: "Logical_Router.options:requested-tnl-key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Router.external_ids" },
  },
};

export const HA_CHASSIS_GROUP: ObjectSpec = {
  name: "haChassisGroup",
  doc: "An HA chassis group: the chassis a gateway port may be active on, by priority.",
  fields: {
    name: { type: str, required: true, doc: "Group name.", nb: "HA_Chassis_Group.name" },
    chassis: { type: { kind: "list", of: { kind: "object", spec: GATEWAY_CHASSIS } }, doc: "Member chassis with priorities.", nb: "HA_Chassis_Group.ha_chassis" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "HA_Chassis_Group.external_ids" },
  },
};

export const STATIC_MAC_BINDING: ObjectSpec = {
  name: "staticMacBinding",
  doc: "A configured neighbour of a router port.",
  fields: {
    logicalPort: { type: str, required: true, doc: "The router port the neighbour is reached through.", nb: "Static_MAC_Binding.logical_port" },
    ip: { type: str, required: true, doc: "Neighbour IP.", nb: "Static_MAC_Binding.ip" },
    mac: { type: str, required: true, doc: "Neighbour MAC.", nb: "Static_MAC_Binding.mac" },
    overrideDynamicMac: { type: { kind: "bool" }, doc: "Win over a learned binding for the same IP.", nb: "Static_MAC_Binding.override_dynamic_mac" },
  },
};

export const MAC_BINDING: ObjectSpec = {
  name: "macBinding",
  doc: "A neighbour a router port has learned (what ovn-trace reads).",
  fields: {
    logicalPort: { type: str, required: true, doc: "The router port the neighbour was learned on.", nb: "SB MAC_Binding.logical_port" },
    ip: { type: str, required: true, doc: "Neighbour IP.", nb: "SB MAC_Binding.ip" },
    mac: { type: str, required: true, doc: "Neighbour MAC.", nb: "SB MAC_Binding.mac" },
  },
};

export const NAT_GATEWAY_EIP: ObjectSpec = {
  name: "natGatewayEip",
  doc: "An address on a NAT gateway's external interface.",
  fields: {
    name: { type: str, required: true, doc: "EIP name.", nb: "Kube-OVN IptablesEIP.metadata.name" },
    ip: { type: str, required: true, doc: "The external IP.", nb: "Kube-OVN IptablesEIP.spec.v4ip" },
  },
};

export const NAT_GATEWAY_SNAT: ObjectSpec = {
  name: "natGatewaySnat",
  doc: "Traffic from internalCidr leaving the external interface takes the EIP.",
  fields: {
    name: { type: str, required: true, doc: "Rule name.", nb: "Kube-OVN IptablesSnatRule.metadata.name" },
    eip: { type: str, required: true, doc: "EIP name.", nb: "Kube-OVN IptablesSnatRule.spec.eip" },
    internalCidr: { type: str, required: true, doc: "Inside sources, IP or CIDR.", nb: "Kube-OVN IptablesSnatRule.spec.internalCIDR" },
    randomFully: { type: { kind: "bool" }, doc: "The rule carries --random-fully (no effect on the simulated translation).", nb: "nat-gateway.sh snat-add --random-fully" },
  },
};

export const NAT_GATEWAY_DNAT: ObjectSpec = {
  name: "natGatewayDnat",
  doc: "protocol to EIP:externalPort goes to internalIp:internalPort.",
  fields: {
    name: { type: str, required: true, doc: "Rule name.", nb: "Kube-OVN IptablesDnatRule.metadata.name" },
    eip: { type: str, required: true, doc: "EIP name.", nb: "Kube-OVN IptablesDnatRule.spec.eip" },
    protocol: { type: { kind: "string", enum: ["tcp", "udp"] }, required: true, doc: "tcp or udp.", nb: "Kube-OVN IptablesDnatRule.spec.protocol" },
    externalPort: { type: port, required: true, doc: "Port on the EIP.", nb: "Kube-OVN IptablesDnatRule.spec.externalPort" },
    internalIp: { type: str, required: true, doc: "Inside destination.", nb: "Kube-OVN IptablesDnatRule.spec.internalIp" },
    internalPort: { type: port, required: true, doc: "Inside port.", nb: "Kube-OVN IptablesDnatRule.spec.internalPort" },
  },
};

export const NAT_GATEWAY_FIP: ObjectSpec = {
  name: "natGatewayFip",
  doc: "A one-to-one mapping between the EIP and internalIp, both ways.",
  fields: {
    name: { type: str, required: true, doc: "Rule name.", nb: "Kube-OVN IptablesFIPRule.metadata.name" },
    eip: { type: str, required: true, doc: "EIP name.", nb: "Kube-OVN IptablesFIPRule.spec.eip" },
    internalIp: { type: str, required: true, doc: "Inside IP.", nb: "Kube-OVN IptablesFIPRule.spec.internalIp" },
  },
};

export const NAT_GATEWAY: ObjectSpec = {
  name: "natGateway",
  doc: "A Kube-OVN VPC NAT gateway: an iptables pod with eth0 on a VPC switch and net1 on an external network (not an OVN object).",
  fields: {
    name: { type: str, required: true, doc: "Gateway name.", nb: "Kube-OVN VpcNatGateway.metadata.name" },
    vpc: { type: str, required: true, doc: "The router (VPC) it serves.", nb: "Kube-OVN VpcNatGateway.spec.vpc" },
    lanPort: { type: str, required: true, doc: "The switch port of eth0.", nb: "Kube-OVN vpc-nat-gw-NAME-0 pod port" },
    lanIp: { type: str, required: true, doc: "eth0's IP (an address of lanPort).", nb: "Kube-OVN VpcNatGateway.spec.lanIp" },
    externalMac: { type: str, required: true, doc: "net1's MAC.", nb: "net1 interface" },
    externalCidr: { type: str, required: true, doc: 'net1\'s "IP/PREFIX" on the external network.', nb: "net1 interface" },
    externalGateway: { type: str, required: true, doc: "The external network's gateway IP.", nb: "Kube-OVN ovn-vpc-external-network ConfigMap" },
    eips: { type: { kind: "list", of: { kind: "object", spec: NAT_GATEWAY_EIP } }, doc: "External IPs.", nb: "Kube-OVN IptablesEIP" },
    snatRules: { type: { kind: "list", of: { kind: "object", spec: NAT_GATEWAY_SNAT } }, doc: "SNAT rules.", nb: "Kube-OVN IptablesSnatRule" },
    dnatRules: { type: { kind: "list", of: { kind: "object", spec: NAT_GATEWAY_DNAT } }, doc: "DNAT rules.", nb: "Kube-OVN IptablesDnatRule" },
    fipRules: { type: { kind: "list", of: { kind: "object", spec: NAT_GATEWAY_FIP } }, doc: "Floating IP rules.", nb: "Kube-OVN IptablesFIPRule" },
  },
};

export const IPSET_ENTRY: ObjectSpec = {
  name: "ipsetEntry",
  doc: "One entry of a hash:net ipset, with the resource it comes from.",
  fields: {
    address: { type: str, required: true, doc: 'An IPv4 address or "IP/PREFIX".', nb: "ipset add SET ENTRY" },
    owner: { type: str, doc: "The resource behind the entry, shown in traces (e.g. Subnet/ovn-default); not part of ipset." },
  },
};

export const NODE_HOST_IPSET: ObjectSpec = {
  name: "nodeHostIpset",
  doc: "A named ipset of a node host (Kube-OVN's ovn40subnets, ovn40subnets-nat, ovn40subnets-distributed-gw, ovn40services, ovn40other-node, ovn40subnets-nat-policy).",
  fields: {
    name: { type: str, required: true, doc: "Set name (at most 31 characters).", nb: "kube-ovn-cni ipsets" },
    members: { type: { kind: "list", of: { kind: "object", spec: IPSET_ENTRY } }, doc: "Members." },
  },
};

export const NODE_HOST_SNAT: ObjectSpec = {
  name: "nodeHostSnat",
  doc: "A centralized subnet's egress SNAT on its gateway node: -s CIDR -m set ! --match-set ovn40subnets dst -j SNAT --to-source IP.",
  fields: {
    cidr: { type: str, required: true, doc: "The subnet's CIDR.", nb: "Kube-OVN Subnet.spec.cidrBlock" },
    ip: { type: str, required: true, doc: "The address to SNAT to.", nb: "Kube-OVN Subnet.spec.gatewayNode node:ip" },
    owner: { type: str, doc: "The resource behind the rule, shown in traces." },
  },
};

export const NODE_HOST: ObjectSpec = {
  name: "nodeHost",
  doc: "A Kubernetes node's host side (not an OVN object): ovn0 on a switch port, the NIC with the node's InternalIP, host routes and the host iptables NAT of Kube-OVN's OVN-POSTROUTING chain.",
  fields: {
    name: { type: str, required: true, doc: "Node name.", nb: "Node.metadata.name" },
    port: { type: str, required: true, doc: "The switch port ovn0 is (node-NODE on join).", nb: "Kube-OVN ovn0 external_ids:iface-id" },
    nic: { type: str, doc: "The NIC's name (default eth0).", nb: "Kube-OVN annotation ovn.kubernetes.io/tunnel_interface" },
    nicMac: { type: str, doc: "The NIC's MAC (default: the MAC of the chassis of the same name)." },
    address: { type: str, required: true, doc: 'The NIC\'s "IP/PREFIX": the node\'s InternalIP.', nb: "Node.status.addresses InternalIP" },
    gateway: { type: str, doc: "Next hop of the NIC's default route (omitted: a default route without a gateway)." },
    gatewayMac: { type: str, doc: "The gateway's MAC (omitted: unknown; packets leave with destination MAC 0)." },
    ovn0Routes: { type: strList, doc: "Prefixes routed via the join gateway on ovn0 (the pod subnets).", nb: "kube-ovn-cni host routes" },
    ipsets: { type: { kind: "list", of: { kind: "object", spec: NODE_HOST_IPSET } }, doc: "The host's ipsets; a set the rules name but this list lacks is empty." },
    centralizedSnats: { type: { kind: "list", of: { kind: "object", spec: NODE_HOST_SNAT } }, doc: "SNAT rules of centralized subnets whose gateway node (with :ip) this is." },
    randomFully: { type: { kind: "bool" }, doc: "The SNAT and MASQUERADE rules carry --random-fully (no effect on the simulated translation)." },
  },
};

export const PROBE_EXPECT: ObjectSpec = {
  name: "probeExpect",
  doc: "The expected outcome: the output ports, or a drop.",
  fields: {
    output: { type: strList, doc: "Ports the packet leaves by (any order)." },
    drop: { type: { kind: "bool" }, doc: "true when the packet is dropped (no output)." },
    fields: { type: strMap, doc: "Header fields rewritten on the way (field name to value), e.g. ip4.dst after DNAT." },
  },
};

export const PROBE: ObjectSpec = {
  name: "probe",
  doc: "One packet to trace and what should happen to it.",
  fields: {
    name: { type: str, required: true, doc: "Probe name, unique in the scenario." },
    datapath: { type: str, doc: "Switch the packet enters; optional when the microflow's inport names a port." },
    microflow: { type: str, required: true, doc: "ovn-trace microflow expression." },
    ct: { type: strList, doc: "ovn-trace --ct values, one per conntrack action in order; each a comma-separated list of trk, new, est, rel, rpl, inv." },
    lbDst: { type: str, doc: "ovn-trace --lb-dst: the backend IP[:PORT] a load balancer picks." },
    selectId: { type: { kind: "int", min: 0, max: 65535 }, doc: "ovn-trace --select-id." },
    expect: { type: { kind: "object", spec: PROBE_EXPECT }, required: true, doc: "The expected outcome." },
  },
};

/**
 * A probes file (`ovnsim conformance --probes FILE`): a `probes:` list in the scenario format, run
 * against a network given separately. Here `expect` may be left out: such a probe is only compared
 * with real OVN.
 */
export const PROBES_FILE: ObjectSpec = {
  name: "probesFile",
  doc: "Probes to trace through a network given separately.",
  fields: {
    probes: {
      type: {
        kind: "list",
        of: { kind: "object", spec: { ...PROBE, fields: { ...PROBE.fields, expect: { ...PROBE.fields.expect!, required: false, doc: "The expected outcome; without it the probe is only compared with real OVN." } } } },
      },
      required: true,
      doc: "Probes.",
    },
  },
};

export const SCENARIO: ObjectSpec = {
  name: "scenario",
  doc: "An ovnsim scenario: a logical network and the probes to trace through it.",
  fields: {
    name: { type: str, required: true, doc: "Network name." },
    description: { type: str, doc: "Free text." },
    options: { type: strMap, doc: "NB_Global options.", nb: "NB_Global.options" },
    chassis: { type: { kind: "list", of: { kind: "object", spec: CHASSIS } }, doc: "Chassis.", nb: "SB Chassis" },
    addressSets: { type: { kind: "list", of: { kind: "object", spec: ADDRESS_SET } }, doc: "Address sets.", nb: "Address_Set" },
    portGroups: { type: { kind: "list", of: { kind: "object", spec: PORT_GROUP } }, doc: "Port groups.", nb: "Port_Group" },
    loadBalancers: { type: { kind: "list", of: { kind: "object", spec: LOAD_BALANCER } }, doc: "Load balancers.", nb: "Load_Balancer" },
    switches: { type: { kind: "list", of: { kind: "object", spec: SWITCH } }, doc: "Logical switches.", nb: "Logical_Switch" },
    routers: { type: { kind: "list", of: { kind: "object", spec: ROUTER } }, doc: "Logical routers.", nb: "Logical_Router" },
    haChassisGroups: { type: { kind: "list", of: { kind: "object", spec: HA_CHASSIS_GROUP } }, doc: "HA chassis groups.", nb: "HA_Chassis_Group" },
    staticMacBindings: { type: { kind: "list", of: { kind: "object", spec: STATIC_MAC_BINDING } }, doc: "Configured neighbours of router ports.", nb: "Static_MAC_Binding" },
    macBindings: { type: { kind: "list", of: { kind: "object", spec: MAC_BINDING } }, doc: "Learned neighbours of router ports.", nb: "SB MAC_Binding" },
    natGateways: { type: { kind: "list", of: { kind: "object", spec: NAT_GATEWAY } }, doc: "Kube-OVN VPC NAT gateways.", nb: "Kube-OVN VpcNatGateway" },
    nodeHosts: { type: { kind: "list", of: { kind: "object", spec: NODE_HOST } }, doc: "Kubernetes nodes' host sides: ovn0, the NIC and the host's NAT.", nb: "Kubernetes Node" },
    providerNetworks: { type: { kind: "list", of: { kind: "object", spec: PROVIDER_NETWORK } }, doc: "The underlay: provider networks and their gateways.", nb: "Kube-OVN ProviderNetwork / Vlan" },
    zones: { type: strList, doc: "Scenario files of the other availability zones joined to this one by OVN-IC, relative to this file." },
    probes: { type: { kind: "list", of: { kind: "object", spec: PROBE } }, doc: "Probes." },
  },
};

/** A human name of a field type, for "expected ..." messages. */
export function describeType(t: FieldType): string {
  switch (t.kind) {
    case "string":
      return "a string";
    case "int":
      return `an integer in ${t.min}..${t.max}`;
    case "bool":
      return "true or false";
    case "list":
      return "a list";
    case "map":
      return "a mapping";
    case "object":
      return `a mapping (${t.spec.name})`;
    default: {
      const _: never = t;
      return _;
    }
  }
}

/** The JSON Schema (draft 2020-12) of scenario files, derived from `SCENARIO`. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const typeSchema = (t: FieldType): Record<string, unknown> => {
    switch (t.kind) {
      case "string":
        return t.enum ? { type: "string", enum: [...t.enum] } : { type: "string" };
      case "int":
        return { type: "integer", minimum: t.min, maximum: t.max };
      case "bool":
        return { type: "boolean" };
      case "list":
        return { type: "array", items: typeSchema(t.of) };
      case "map":
        return { type: "object", additionalProperties: typeSchema(t.of) };
      case "object":
        addDef(t.spec);
        return { $ref: `#/$defs/${t.spec.name}` };
      default: {
        const _: never = t;
        return _;
      }
    }
  };
  const objectSchema = (spec: ObjectSpec): Record<string, unknown> => {
    const properties: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(spec.fields)) properties[k] = { ...typeSchema(f.type), description: f.nb ? `${f.doc} (${f.nb})` : f.doc };
    const required = Object.entries(spec.fields)
      .filter(([, f]) => f.required)
      .map(([k]) => k);
    return { type: "object", description: spec.doc, properties, required, additionalProperties: false };
  };
  function addDef(spec: ObjectSpec): void {
    if (spec.name in defs) return;
    defs[spec.name] = {};
    defs[spec.name] = objectSchema(spec);
  }
  const root = objectSchema(SCENARIO);
  return { $schema: "https://json-schema.org/draft/2020-12/schema", $id: "https://ovnsim.dev/schema/scenario.schema.json", title: "ovnsim scenario", ...root, $defs: defs };
}
