/**
 * `validateNetwork` on routers, NAT, HA chassis groups, MAC bindings and NAT gateways, on networks
 * built in code: a consistent network passes, and each broken variant reports exactly the
 * expected problems, each with its model path.
 */
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { formatPath } from "../../src/base/index.js";
import {
  GatewayChassis,
  HaChassisGroup,
  MacBinding,
  Nat,
  NatGateway,
  NatGatewayDnat,
  NatGatewayEip,
  NatGatewayFip,
  NatGatewaySnat,
  RouterPolicy,
  StaticRoute,
  SwitchPort,
  validateNetwork,
  type LogicalRouter,
  type NatType,
  type Network,
  type RoutePolicy,
  type RouterPolicyAction,
} from "../../src/model/index.js";
import { exprMatchChecker } from "../../src/scenario/index.js";
import { GOOD, patch, rport } from "./router-network.js";

function problems(net: Network): string[] {
  return validateNetwork(net, { checkMatch: exprMatchChecker }).map((d) => `${formatPath(d.path ?? [])}: ${d.code}`);
}

const LR = GOOD.routers.get("lr")!;
const withRouter = (f: (lr: LogicalRouter) => LogicalRouter): Network => GOOD.setIn(["routers", "lr"], f(LR));

describe("validateNetwork on routers", () => {
  it("accepts a consistent network with routers, NAT, bindings and a NAT gateway", () => {
    expect(problems(GOOD)).toEqual([]);
  });

  it("switch-to-router patches: missing or dangling router-port, one router port patched twice, name clashes", () => {
    const net = GOOD.setIn(["switches", "ls", "ports", "ls-lr2"], patch("ls-lr2", "lr-ls"))
      .setIn(["switches", "ls", "ports", "ls-none"], SwitchPort({ name: "ls-none", type: "router", addresses: List(["router"]) }))
      .setIn(["switches", "ls", "ports", "ls-ghost"], patch("ls-ghost", "ghost"))
      .setIn(["routers", "lr", "ports", "vm"], rport("vm", "00:00:00:00:ff:09", ["10.9.9.1/24"]));
    expect(problems(net).sort()).toEqual(
      [
        "switches[ls].ports[ls-lr2].options: model.duplicate-peer",
        "switches[ls].ports[ls-none].options: model.missing-option",
        "switches[ls].ports[ls-ghost].options: model.dangling-router-port",
        "routers[lr].ports[vm]: model.duplicate-port",
      ].sort(),
    );
    expect(validateNetwork(net).find((d) => d.code === "model.duplicate-port")!.message).toBe('port name "vm" is already used on switch "ls"');
  });

  it("router ports: MAC, networks, peers, gateway chassis, HA groups, tunnel keys", () => {
    const net = withRouter((lr) =>
      lr
        .set("loadBalancers", List(["lb", "nolb"]))
        .set("tunnelKey", 0)
        .set(
          "ports",
          lr.ports
            .set("lr-ls", rport("lr-ls", "01:00:00:00:ff:01", ["10.0.0.0/24", "10.0.1.1", "10.0.2.300/24"]))
            .set("lr-ext", rport("lr-ext", "zz", [], { gatewayChassis: List([GatewayChassis({ chassis: "hv9", priority: 40000 })]), haChassisGroup: "g", tunnelKey: 40000 }))
            .set("lr-lr2", rport("lr-lr2", "00:00:00:00:ff:03", ["169.254.0.1/31"], { peer: "ghost" }))
            .set("lr-x", rport("lr-x", "00:00:00:00:ff:05", ["169.254.1.1/30"], { peer: "lr2-lr", haChassisGroup: "nogroup" })),
        ),
    )
      .setIn(["routers", "lr2", "ports", "lr2-lr", "peer"], "lr-x")
      .setIn(["switches", "ext", "ports", "ext-lr2"], patch("ext-lr2", "lr2-lr"))
      .set("haChassisGroups", OrderedMap({ g: HaChassisGroup({ name: "g", chassis: List([GatewayChassis({ chassis: "hv1", priority: 1 }), GatewayChassis({ chassis: "hv1", priority: 2 }), GatewayChassis({ chassis: "hv3", priority: 3 })]) }) }));
    expect(problems(net).sort()).toEqual(
      [
        "routers[lr].tunnelKey: model.bad-tunnel-key",
        "routers[lr].loadBalancers[1]: model.dangling-load-balancer",
        "routers[lr].ports[lr-ls].mac: model.bad-mac",
        "routers[lr].ports[lr-ls].networks[0]: model.bad-cidr",
        "routers[lr].ports[lr-ls].networks[1]: model.bad-cidr",
        "routers[lr].ports[lr-ls].networks[2]: model.bad-cidr",
        "routers[lr].ports[lr-ext].mac: model.bad-mac",
        "routers[lr].ports[lr-ext]: model.missing-field",
        "routers[lr].ports[lr-ext].gatewayChassis[0].chassis: model.dangling-chassis",
        "routers[lr].ports[lr-ext].gatewayChassis[0].priority: model.bad-priority",
        "routers[lr].ports[lr-ext].haChassisGroup: model.conflict",
        "routers[lr].ports[lr-ext].tunnelKey: model.bad-tunnel-key",
        "routers[lr].ports[lr-lr2].peer: model.dangling-peer",
        "routers[lr].ports[lr-x].haChassisGroup: model.dangling-ha-chassis-group",
        "routers[lr2].ports[lr2-lr].peer: model.duplicate-peer",
        "haChassisGroups[g].chassis[1].chassis: model.duplicate-chassis",
        "haChassisGroups[g].chassis[2].chassis: model.dangling-chassis",
        // The static MAC bindings in GOOD use lr-ext, which still exists.
      ].sort(),
    );
  });

  it("a peer that does not point back is reported where the disagreement is", () => {
    const net = GOOD.setIn(["routers", "lr2", "ports", "lr2-lr", "peer"], undefined);
    const ds = validateNetwork(net);
    expect(ds.map((d) => `${formatPath(d.path ?? [])}: ${d.code}: ${d.message}`)).toEqual(['routers[lr].ports[lr-lr2].peer: model.peer-not-mutual: peer "lr2-lr" has no peer, not "lr-lr2"']);
  });

  it("static routes: prefixes, next hops, output ports, policies, duplicates", () => {
    const net = withRouter((lr) =>
      lr.set(
        "staticRoutes",
        List([
          StaticRoute({ ipPrefix: "10.0.0.1/24", nexthop: "172.16.0.254" }),
          StaticRoute({ ipPrefix: "10.1.0.0/16", nexthop: "172.16.0.999", outputPort: "nope" }),
          StaticRoute({ ipPrefix: "10.2.0.0/16", nexthop: "fd00::1" }),
          StaticRoute({ ipPrefix: "10.3.0.0/16", nexthop: "discard", outputPort: "lr-ls" }),
          StaticRoute({ ipPrefix: "10.3.0.0/16", nexthop: "discard", outputPort: "lr-ls" }),
          StaticRoute({ ipPrefix: "bogus", nexthop: "1.1.1.1", policy: "by-color" as RoutePolicy }),
        ]),
      ),
    );
    expect(problems(net).sort()).toEqual(
      [
        "routers[lr].staticRoutes[0].ipPrefix: model.bad-cidr",
        "routers[lr].staticRoutes[1].nexthop: model.bad-ip",
        "routers[lr].staticRoutes[1].outputPort: model.dangling-port",
        "routers[lr].staticRoutes[2].nexthop: model.bad-ip",
        "routers[lr].staticRoutes[3].outputPort: model.bad-value",
        "routers[lr].staticRoutes[4].outputPort: model.bad-value",
        "routers[lr].staticRoutes[4]: model.duplicate-route",
        "routers[lr].staticRoutes[5].ipPrefix: model.bad-cidr",
        "routers[lr].staticRoutes[5].policy: model.bad-value",
      ].sort(),
    );
    expect(validateNetwork(net).find((d) => formatPath(d.path ?? []) === "routers[lr].staticRoutes[0].ipPrefix")!.message).toContain("10.0.0.0/24");
  });

  it("policies: priority, match (parsed like ACL matches), action, next hops", () => {
    const net = withRouter((lr) =>
      lr.set(
        "policies",
        List([
          RouterPolicy({ priority: 40000, match: "ip4 &&", action: "allow" }),
          RouterPolicy({ priority: 10, match: "ip4.src == $nowhere && inport == @nogroup", action: "reroute" }),
          RouterPolicy({ priority: 11, match: "ip4", action: "drop", nexthops: List(["1.1.1.1"]) }),
          RouterPolicy({ priority: 12, match: "ip4", action: "reroute", nexthops: List(["1.1.1"]) }),
          RouterPolicy({ priority: 12, match: "ip4", action: "forward" as RouterPolicyAction }),
        ]),
      ),
    );
    expect(problems(net).sort()).toEqual(
      [
        "routers[lr].policies[0].priority: model.bad-priority",
        "routers[lr].policies[0].match: model.bad-match",
        "routers[lr].policies[1].match: model.dangling-address-set",
        "routers[lr].policies[1].match: model.dangling-port-group",
        "routers[lr].policies[1]: model.missing-field",
        "routers[lr].policies[2].nexthops: model.bad-value",
        "routers[lr].policies[3].nexthops[0]: model.bad-ip",
        "routers[lr].policies[4].action: model.bad-action",
        "routers[lr].policies[4]: model.duplicate-policy",
      ].sort(),
    );
  });

  it("NAT: type, addresses, distributed NAT pairs, port range, stateless, gateway port, external IP sets", () => {
    const net = withRouter((lr) =>
      lr.set(
        "nat",
        List([
          Nat({ type: "dnat", externalIp: "172.16.0.10/32", logicalIp: "10.0.0.0/24" }),
          Nat({ type: "snat", externalIp: "172.16.0.11", logicalIp: "10.0.0.5/24", stateless: true }),
          Nat({ type: "dnat_and_snat", externalIp: "172.16.0.12", logicalIp: "fd00::3", externalMac: "00:00:00:00:aa:01" }),
          Nat({ type: "dnat_and_snat", externalIp: "172.16.0.13", logicalIp: "10.0.0.3", logicalPort: "ghost" }),
          Nat({ type: "snat", externalIp: "172.16.0.14", logicalIp: "10.0.0.0/24", externalMac: "01:00:00:00:aa:01", logicalPort: "vm", externalPortRange: "2000-1000" }),
          Nat({ type: "nat" as NatType, externalIp: "172.16.0.15", logicalIp: "10.0.0.4", gatewayPort: "lr-ls", allowedExtIps: "nope", exemptedExtIps: "as" }),
          Nat({ type: "dnat", externalIp: "172.16.0.16", logicalIp: "10.0.0.4", gatewayPort: "nope", externalPortRange: "70000", options: OrderedMap({ stateless: "true" }) }),
        ]),
      ),
    );
    expect(problems(net).sort()).toEqual(
      [
        "routers[lr].nat[0].externalIp: model.bad-ip",
        "routers[lr].nat[0].logicalIp: model.bad-ip",
        "routers[lr].nat[1].logicalIp: model.bad-cidr",
        "routers[lr].nat[1].stateless: model.bad-value",
        "routers[lr].nat[2].logicalIp: model.bad-ip",
        "routers[lr].nat[2].externalMac: model.missing-field",
        "routers[lr].nat[3].logicalPort: model.missing-field",
        "routers[lr].nat[3].logicalPort: model.dangling-port",
        "routers[lr].nat[4].externalMac: model.bad-value",
        "routers[lr].nat[4].externalMac: model.bad-mac",
        "routers[lr].nat[4].externalPortRange: model.bad-value",
        "routers[lr].nat[5].type: model.bad-value",
        "routers[lr].nat[5].gatewayPort: model.bad-value",
        "routers[lr].nat[5].allowedExtIps: model.dangling-address-set",
        "routers[lr].nat[5].exemptedExtIps: model.conflict",
        "routers[lr].nat[6].gatewayPort: model.dangling-port",
        "routers[lr].nat[6].externalPortRange: model.bad-value",
        "routers[lr].nat[6].options: model.bad-value",
      ].sort(),
    );
  });

  it("MAC bindings: router port, IP, unicast MAC, one per (port, IP); learned ones have no override", () => {
    const net = GOOD.set(
      "staticMacBindings",
      List([MacBinding({ logicalPort: "vm", ip: "1.2.3", mac: "01:00:00:00:00:01" }), MacBinding({ logicalPort: "lr-lr2", ip: "169.254.0.0", mac: "00:00:00:00:00:01" }), MacBinding({ logicalPort: "lr-lr2", ip: "169.254.0.0", mac: "00:00:00:00:00:02" })]),
    ).set("macBindings", List([MacBinding({ logicalPort: "lr-lr2", ip: "169.254.0.0", mac: "zz", overrideDynamicMac: true })]));
    expect(problems(net).sort()).toEqual(
      [
        "staticMacBindings[0].logicalPort: model.dangling-port",
        "staticMacBindings[0].ip: model.bad-ip",
        "staticMacBindings[0].mac: model.bad-mac",
        "staticMacBindings[2].ip: model.duplicate-binding",
        "macBindings[0].mac: model.bad-mac",
        "macBindings[0].overrideDynamicMac: model.bad-value",
      ].sort(),
    );
  });

  it("NAT gateways: VPC, LAN port on an attached switch with the LAN IP, external side, EIPs and rules", () => {
    const net = GOOD.set(
      "natGateways",
      OrderedMap({
        ngw: NatGateway({
          name: "ngw",
          vpc: "nolr",
          lanPort: "ghost",
          lanIp: "10.0.0.300",
          externalMac: "ff:ff:ff:ff:ff:ff",
          externalCidr: "192.168.1.0/24",
          externalGateway: "192.168.2.1",
          eips: OrderedMap({ e: NatGatewayEip({ name: "e", ip: "192.168.1" }) }),
          snatRules: List([NatGatewaySnat({ name: "s", eip: "nope", internalCidr: "10.0.0.0/33" })]),
          dnatRules: List([NatGatewayDnat({ name: "d", eip: "e", protocol: "sctp" as "tcp", externalPort: 0, internalIp: "x", internalPort: 70000 })]),
          fipRules: List([NatGatewayFip({ name: "f", eip: "nope", internalIp: "10.0.0" })]),
        }),
        ngw2: NatGateway({ name: "ngw2", vpc: "lr2", lanPort: "gw", lanIp: "10.0.0.7", externalMac: "00:00:00:00:ee:02", externalCidr: "192.168.1.12/24", externalGateway: "192.168.3.1" }),
      }),
    );
    expect(problems(net).sort()).toEqual(
      [
        "natGateways[ngw].vpc: model.dangling-router",
        "natGateways[ngw].lanPort: model.dangling-port",
        "natGateways[ngw].lanIp: model.bad-ip",
        "natGateways[ngw].externalMac: model.bad-mac",
        "natGateways[ngw].externalCidr: model.bad-cidr",
        "natGateways[ngw].eips[e].ip: model.bad-ip",
        "natGateways[ngw].snatRules[0].eip: model.dangling-eip",
        "natGateways[ngw].snatRules[0].internalCidr: model.bad-cidr",
        "natGateways[ngw].dnatRules[0].protocol: model.bad-protocol",
        "natGateways[ngw].dnatRules[0].externalPort: model.bad-port",
        "natGateways[ngw].dnatRules[0].internalPort: model.bad-port",
        "natGateways[ngw].dnatRules[0].internalIp: model.bad-ip",
        "natGateways[ngw].fipRules[0].eip: model.dangling-eip",
        "natGateways[ngw].fipRules[0].internalIp: model.bad-ip",
        "natGateways[ngw2].lanPort: model.not-attached",
        "natGateways[ngw2].lanIp: model.bad-ip",
        "natGateways[ngw2].externalGateway: model.bad-ip",
      ].sort(),
    );
  });
});
