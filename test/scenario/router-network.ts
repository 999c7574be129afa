/**
 * A consistent network with routers, built in code for the validation and round-trip tests: two
 * peered routers, a distributed gateway port, routes (ECMP, discard, IPv6), policies, NAT of every
 * kind, an HA chassis group, static and learned MAC bindings, and a Kube-OVN NAT gateway.
 */
import { List, OrderedMap } from "immutable";
import {
  AddressSet,
  Chassis,
  GatewayChassis,
  HaChassisGroup,
  LoadBalancer,
  LogicalRouter,
  LogicalSwitch,
  MacBinding,
  Nat,
  NatGateway,
  NatGatewayDnat,
  NatGatewayEip,
  NatGatewayFip,
  NatGatewaySnat,
  Network,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
} from "../../src/model/index.js";

export const vif = (name: string, addr: string) => SwitchPort({ name, addresses: List([addr]) });
export const patch = (name: string, routerPort: string) => SwitchPort({ name, type: "router", addresses: List(["router"]), options: OrderedMap({ "router-port": routerPort }) });
export const rport = (name: string, mac: string, networks: string[], extra: Partial<Parameters<typeof RouterPort>[0]> = {}) => RouterPort({ name, mac, networks: List(networks), ...extra });

/** A consistent network: two peered routers, a gateway port, routes, policies, NAT, bindings and a NAT gateway. */
export const GOOD = Network({
  name: "routers",
  chassis: OrderedMap({ hv1: Chassis({ name: "hv1" }), hv2: Chassis({ name: "hv2" }) }),
  addressSets: OrderedMap({ as: AddressSet({ name: "as", addresses: List(["1.1.1.1"]) }) }),
  loadBalancers: OrderedMap({ lb: LoadBalancer({ name: "lb", vips: OrderedMap({ "10.96.0.1:80": List(["10.0.0.2:80"]) }) }) }),
  haChassisGroups: OrderedMap({ g: HaChassisGroup({ name: "g", chassis: List([GatewayChassis({ chassis: "hv1", priority: 10 })]) }) }),
  switches: OrderedMap({
    ls: LogicalSwitch({ name: "ls", ports: OrderedMap({ vm: vif("vm", "00:00:00:00:00:02 10.0.0.2"), gw: vif("gw", "00:00:00:00:00:03 10.0.0.254"), "ls-lr": patch("ls-lr", "lr-ls") }) }),
    ext: LogicalSwitch({ name: "ext", ports: OrderedMap({ "ext-lr": patch("ext-lr", "lr-ext") }) }),
  }),
  routers: OrderedMap({
    lr: LogicalRouter({
      name: "lr",
      loadBalancers: List(["lb"]),
      ports: OrderedMap({
        "lr-ls": rport("lr-ls", "00:00:00:00:ff:01", ["10.0.0.1/24", "fd00::1/64"]),
        "lr-ext": rport("lr-ext", "00:00:00:00:ff:02", ["172.16.0.1/24"], { gatewayChassis: List([GatewayChassis({ chassis: "hv1", priority: 2 }), GatewayChassis({ chassis: "hv2", priority: 1 })]) }),
        "lr-lr2": rport("lr-lr2", "00:00:00:00:ff:03", ["169.254.0.1/31"], { peer: "lr2-lr" }),
      }),
      staticRoutes: List([
        StaticRoute({ ipPrefix: "0.0.0.0/0", nexthop: "172.16.0.254", outputPort: "lr-ext" }),
        StaticRoute({ ipPrefix: "10.9.0.0/16", nexthop: "169.254.0.0" }),
        StaticRoute({ ipPrefix: "10.9.0.0/16", nexthop: "169.254.0.2" }),
        StaticRoute({ ipPrefix: "10.0.0.128/25", nexthop: "discard", policy: "src-ip", routeTable: "t" }),
        StaticRoute({ ipPrefix: "fd01::/64", nexthop: "fd00::5" }),
        StaticRoute({ ipPrefix: "10.8.0.1", nexthop: "172.16.0.254" }),
      ]),
      policies: List([
        RouterPolicy({ priority: 31000, match: "ip4.dst == 10.0.0.0/24", action: "allow" }),
        RouterPolicy({ priority: 29000, match: "ip4.src == $as", action: "reroute", nexthops: List(["172.16.0.253"]) }),
        RouterPolicy({ priority: 0, match: "1", action: "drop" }),
      ]),
      nat: List([
        Nat({ type: "snat", externalIp: "172.16.0.10", logicalIp: "10.0.0.0/24", externalPortRange: "1000-2000", allowedExtIps: "as" }),
        Nat({ type: "dnat_and_snat", externalIp: "172.16.0.11", logicalIp: "10.0.0.2", externalMac: "00:00:00:00:aa:01", logicalPort: "vm", gatewayPort: "lr-ext" }),
        Nat({ type: "dnat_and_snat", externalIp: "172.16.0.12", logicalIp: "10.0.0.3", stateless: true }),
        Nat({ type: "dnat", externalIp: "fd02::1", logicalIp: "fd00::2" }),
      ]),
    }),
    lr2: LogicalRouter({ name: "lr2", tunnelKey: 7, ports: OrderedMap({ "lr2-lr": rport("lr2-lr", "00:00:00:00:ff:04", ["169.254.0.0/31"], { peer: "lr-lr2", haChassisGroup: "g", tunnelKey: 3 }) }) }),
  }),
  staticMacBindings: List([MacBinding({ logicalPort: "lr-ext", ip: "172.16.0.254", mac: "00:00:00:00:fe:01", overrideDynamicMac: true })]),
  macBindings: List([MacBinding({ logicalPort: "lr-ext", ip: "172.16.0.254", mac: "00:00:00:00:fe:01" })]),
  natGateways: OrderedMap({
    ngw: NatGateway({
      name: "ngw",
      vpc: "lr",
      lanPort: "gw",
      lanIp: "10.0.0.254",
      externalMac: "00:00:00:00:ee:01",
      externalCidr: "192.168.1.10/24",
      externalGateway: "192.168.1.1",
      eips: OrderedMap({ e: NatGatewayEip({ name: "e", ip: "192.168.1.11" }) }),
      snatRules: List([NatGatewaySnat({ name: "s", eip: "e", internalCidr: "10.0.0.0/24" })]),
      dnatRules: List([NatGatewayDnat({ name: "d", eip: "e", protocol: "udp", externalPort: 53, internalIp: "10.0.0.2", internalPort: 5353 })]),
      fipRules: List([NatGatewayFip({ name: "f", eip: "e", internalIp: "10.0.0.2" })]),
    }),
  }),
});

