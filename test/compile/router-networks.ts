/**
 * The test networks for the logical-router pipeline, each as a model and as the ovn-nbctl commands
 * that build the same network in real OVN, one object at a time in the order the compiler's key
 * assignment assumes: every switch with its ports, then every router with its ports, routes,
 * policies and bindings.
 *
 * (1) two switches and one router, IPv4; (2) the same dual-stack; (3) Kube-OVN's default VPC
 * (join + ovn-default + a second subnet, the default route and the §1.4 policies); (4) static
 * routes (two route tables, src-ip, discard, ECMP) and a two-nexthop reroute policy; (5) two
 * routers joined by a peer port pair; (6) a distributed gateway port on two chassis towards an
 * external switch with a localnet port; (7) a gateway router with force-SNAT options; (8, 9) gateway
 * routers with symmetric ECMP replies, IPv4 and IPv6.
 */
import { List, OrderedMap } from "immutable";
import {
  Chassis,
  GatewayChassis,
  LogicalRouter,
  LogicalSwitch,
  MacBinding,
  Network,
  PortGroup,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
  type RouterPolicyAction,
  type RoutePolicy,
} from "../../src/model/index.js";

export interface RouterTestNet {
  readonly name: string;
  readonly what: string;
  readonly network: Network;
  /** ovn-nbctl commands, in order. */
  readonly nbctl: readonly (readonly string[])[];
  /** Chassis to create in the Southbound database first (name, encap IP). */
  readonly chassis: readonly (readonly [string, string])[];
}

/** Builds a network and its nbctl commands side by side. */
class Builder {
  net: Network;
  readonly cmds: string[][] = [];
  readonly chassis: [string, string][] = [];
  constructor(name: string) {
    this.net = Network({ name });
  }

  addChassis(name: string, ip: string): void {
    this.chassis.push([name, ip]);
    this.net = this.net.setIn(["chassis", name], Chassis({ name, hostname: name }));
  }

  switch(name: string): void {
    this.net = this.net.setIn(["switches", name], LogicalSwitch({ name }));
    this.cmds.push(["ls-add", name]);
  }

  vif(ls: string, name: string, addresses: string[]): void {
    this.net = this.net.setIn(["switches", ls, "ports", name], SwitchPort({ name, addresses: List(addresses) }));
    this.cmds.push(["lsp-add", ls, name], ["lsp-set-addresses", name, ...addresses]);
  }

  localnet(ls: string, name: string, network: string): void {
    this.net = this.net.setIn(["switches", ls, "ports", name], SwitchPort({ name, type: "localnet", addresses: List(["unknown"]), options: OrderedMap([["network_name", network]]) }));
    this.cmds.push(["lsp-add", ls, name], ["lsp-set-type", name, "localnet"], ["lsp-set-addresses", name, "unknown"], ["lsp-set-options", name, `network_name=${network}`]);
  }

  /** The switch side of a switch-router link. */
  routerPort(ls: string, name: string, lrp: string): void {
    this.net = this.net.setIn(["switches", ls, "ports", name], SwitchPort({ name, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", lrp]]) }));
    this.cmds.push(["lsp-add", ls, name], ["lsp-set-type", name, "router"], ["lsp-set-addresses", name, "router"], ["lsp-set-options", name, `router-port=${lrp}`]);
  }

  router(name: string, options: [string, string][] = []): void {
    this.net = this.net.setIn(["routers", name], LogicalRouter({ name, options: OrderedMap(options) }));
    this.cmds.push(["lr-add", name]);
    if (options.length > 0) this.cmds.push(["set", "Logical_Router", name, ...options.map(([k, v]) => `options:${k}=${v}`)]);
  }

  lrp(lr: string, name: string, mac: string, networks: string[], more: { peer?: string; options?: [string, string][]; gw?: [string, number][] } = {}): void {
    const gw = List((more.gw ?? []).map(([chassis, priority]) => GatewayChassis({ chassis, priority })));
    const port = RouterPort({ name, mac, networks: List(networks), peer: more.peer, options: OrderedMap(more.options ?? []), gatewayChassis: gw });
    this.net = this.net.setIn(["routers", lr, "ports", name], port);
    this.cmds.push(["lrp-add", lr, name, mac, ...networks, ...(more.peer !== undefined ? [`peer=${more.peer}`] : [])]);
    if (more.options && more.options.length > 0) this.cmds.push(["lrp-set-options", name, ...more.options.map(([k, v]) => `${k}=${v}`)]);
    for (const [c, p] of more.gw ?? []) this.cmds.push(["lrp-set-gateway-chassis", name, c, String(p)]);
  }

  route(lr: string, prefix: string, nexthop: string, more: { port?: string; policy?: RoutePolicy; table?: string; ecmp?: boolean; symmetric?: boolean } = {}): void {
    const options = OrderedMap<string, string>(more.symmetric === true ? [["ecmp_symmetric_reply", "true"]] : []);
    const r = StaticRoute({ ipPrefix: prefix, nexthop, outputPort: more.port, policy: more.policy ?? "dst-ip", routeTable: more.table ?? "", options });
    this.net = this.net.updateIn(["routers", lr, "staticRoutes"], (l) => (l as List<StaticRoute>).push(r));
    const flags: string[] = [];
    if (more.policy === "src-ip") flags.push("--policy=src-ip");
    if (more.table !== undefined) flags.push(`--route-table=${more.table}`);
    if (more.ecmp === true) flags.push("--ecmp");
    // ovn-nbctl's --ecmp-symmetric-reply implies --ecmp.
    if (more.symmetric === true) flags.push("--ecmp-symmetric-reply");
    this.cmds.push([...flags, "lr-route-add", lr, prefix, nexthop, ...(more.port !== undefined ? [more.port] : [])]);
  }

  policy(lr: string, priority: number, match: string, action: RouterPolicyAction, nexthops: string[] = []): void {
    const p = RouterPolicy({ priority, match, action, nexthops: List(nexthops) });
    this.net = this.net.updateIn(["routers", lr, "policies"], (l) => (l as List<RouterPolicy>).push(p));
    this.cmds.push(["lr-policy-add", lr, String(priority), match, action, ...(nexthops.length > 0 ? [nexthops.join(",")] : [])]);
  }

  portGroup(name: string, ports: string[]): void {
    this.net = this.net.setIn(["portGroups", name], PortGroup({ name, ports: List(ports) }));
    this.cmds.push(["pg-add", name, ...ports]);
  }

  staticMacBinding(port: string, ip: string, mac: string): void {
    this.net = this.net.update("staticMacBindings", (l) => l.push(MacBinding({ logicalPort: port, ip, mac })));
    this.cmds.push(["static-mac-binding-add", port, ip, mac]);
  }

  done(name: string, what: string): RouterTestNet {
    return { name, what, network: this.net, nbctl: this.cmds, chassis: this.chassis };
  }
}

/** (1) and (2): ls1 and ls2 behind lr0; dual-stack adds IPv6 networks and pod addresses. */
function twoSubnets(v6: boolean): RouterTestNet {
  const b = new Builder(v6 ? "router-dual" : "router-basic");
  b.switch("ls1");
  b.vif("ls1", "p1", [v6 ? "00:00:00:00:01:0a 10.0.1.10 fd00:1::a" : "00:00:00:00:01:0a 10.0.1.10"]);
  b.vif("ls1", "p2", [v6 ? "00:00:00:00:01:0b 10.0.1.11 fd00:1::b" : "00:00:00:00:01:0b 10.0.1.11"]);
  b.routerPort("ls1", "ls1-lr0", "lr0-ls1");
  b.switch("ls2");
  b.vif("ls2", "p3", [v6 ? "00:00:00:00:02:0a 10.0.2.10 fd00:2::a" : "00:00:00:00:02:0a 10.0.2.10"]);
  b.routerPort("ls2", "ls2-lr0", "lr0-ls2");
  b.router("lr0");
  b.lrp("lr0", "lr0-ls1", "00:00:00:00:ff:01", v6 ? ["10.0.1.1/24", "fd00:1::1/64"] : ["10.0.1.1/24"]);
  b.lrp("lr0", "lr0-ls2", "00:00:00:00:ff:02", v6 ? ["10.0.2.1/24", "fd00:2::1/64"] : ["10.0.2.1/24"]);
  return v6
    ? b.done("router-dual", "dual-stack: two switches behind one router with IPv4 and IPv6 networks")
    : b.done("router-basic", "two switches with two and one VIFs behind one router, IPv4 only");
}

/** (3) Kube-OVN's default VPC with two nodes. */
function kubeOvn(): RouterTestNet {
  const b = new Builder("router-kube-ovn");
  b.switch("join");
  b.routerPort("join", "join-ovn-cluster", "ovn-cluster-join");
  b.vif("join", "node-n1", ["00:00:00:6a:00:02 100.64.0.2"]);
  b.vif("join", "node-n2", ["00:00:00:6a:00:03 100.64.0.3"]);
  b.switch("ovn-default");
  b.routerPort("ovn-default", "ovn-default-ovn-cluster", "ovn-cluster-ovn-default");
  b.vif("ovn-default", "pod-a.default", ["00:00:00:16:00:0a 10.16.0.10"]);
  b.vif("ovn-default", "pod-b.default", ["00:00:00:16:00:0b 10.16.0.11"]);
  b.switch("sub2");
  b.routerPort("sub2", "sub2-ovn-cluster", "ovn-cluster-sub2");
  b.vif("sub2", "pod-c.default", ["00:00:00:17:00:0a 10.17.0.10"]);
  b.router("ovn-cluster", [
    ["mac_binding_age_threshold", "300"],
    ["dynamic_neigh_routers", "true"],
    ["always_learn_from_arp_request", "false"],
  ]);
  b.lrp("ovn-cluster", "ovn-cluster-join", "00:00:00:6a:00:01", ["100.64.0.1/16"]);
  b.lrp("ovn-cluster", "ovn-cluster-ovn-default", "00:00:00:16:00:01", ["10.16.0.1/16"]);
  b.lrp("ovn-cluster", "ovn-cluster-sub2", "00:00:00:17:00:01", ["10.17.0.1/16"]);
  b.route("ovn-cluster", "0.0.0.0/0", "100.64.0.1");
  b.policy("ovn-cluster", 31000, "ip4.dst == 100.64.0.0/16", "allow");
  b.policy("ovn-cluster", 31000, "ip4.dst == 10.16.0.0/16", "allow");
  b.policy("ovn-cluster", 31000, "ip4.dst == 10.17.0.0/16", "allow");
  b.policy("ovn-cluster", 30000, "ip4.dst == 172.18.0.2", "reroute", ["100.64.0.2"]);
  b.policy("ovn-cluster", 30000, "ip4.dst == 172.18.0.3", "reroute", ["100.64.0.3"]);
  b.policy("ovn-cluster", 29000, "ip4.src == $ovn.default.n1_ip4", "reroute", ["100.64.0.2"]);
  b.policy("ovn-cluster", 29000, "ip4.src == $ovn.default.n2_ip4", "reroute", ["100.64.0.3"]);
  b.portGroup("ovn.default.n1", ["pod-a.default"]);
  b.portGroup("ovn.default.n2", ["pod-b.default"]);
  return b.done("router-kube-ovn", "Kube-OVN default VPC: join with two nodes, ovn-default, a second subnet, the default route and the node policies");
}

/** (4) Route tables, src-ip, discard, ECMP, a two-nexthop reroute and a static MAC binding. */
function staticRoutes(): RouterTestNet {
  const b = new Builder("router-routes");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a 10.0.1.10"]);
  b.routerPort("ls1", "ls1-lr0", "lr0-ls1");
  b.switch("ls2");
  b.vif("ls2", "p3", ["00:00:00:00:02:0a 10.0.2.10"]);
  b.vif("ls2", "p4", ["00:00:00:00:02:0b 10.0.2.11"]);
  b.routerPort("ls2", "ls2-lr0", "lr0-ls2");
  b.switch("ls3");
  b.vif("ls3", "p5", ["00:00:00:00:03:0a 10.0.3.10"]);
  b.routerPort("ls3", "ls3-lr0", "lr0-ls3");
  b.router("lr0");
  b.lrp("lr0", "lr0-ls1", "00:00:00:00:ff:01", ["10.0.1.1/24"], { options: [["route_table", "rtb-a"]] });
  b.lrp("lr0", "lr0-ls2", "00:00:00:00:ff:02", ["10.0.2.1/24"]);
  b.lrp("lr0", "lr0-ls3", "00:00:00:00:ff:03", ["10.0.3.1/24"], { options: [["route_table", "rtb-b"]] });
  b.route("lr0", "0.0.0.0/0", "10.0.2.10");
  b.route("lr0", "192.168.0.0/16", "10.0.2.11", { table: "rtb-a" });
  b.route("lr0", "192.168.0.0/16", "10.0.3.10", { table: "rtb-b" });
  b.route("lr0", "10.0.1.0/24", "10.0.2.11", { policy: "src-ip" });
  b.route("lr0", "172.16.0.0/16", "discard");
  b.route("lr0", "10.200.0.0/16", "10.0.2.10", { ecmp: true });
  b.route("lr0", "10.200.0.0/16", "10.0.2.11", { ecmp: true });
  b.route("lr0", "10.201.0.5", "10.0.3.10", { port: "lr0-ls3" });
  b.policy("lr0", 1000, "ip4.src == 10.0.1.10 && ip4.dst == 8.8.8.8", "reroute", ["10.0.2.10", "10.0.2.11"]);
  b.policy("lr0", 900, "ip4.dst == 10.0.3.99", "drop");
  b.policy("lr0", 800, "ip4.src == 10.0.3.0/24", "allow");
  b.staticMacBinding("lr0-ls2", "10.0.2.50", "00:00:00:00:02:50");
  return b.done("router-routes", "route tables, a src-ip route, a discard route, ECMP, policies with a two-nexthop reroute, a static MAC binding");
}

/** (5) Two routers joined directly by a peer port pair. */
function twoRouters(): RouterTestNet {
  const b = new Builder("router-peers");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a 10.0.1.10"]);
  b.routerPort("ls1", "ls1-lr0", "lr0-ls1");
  b.switch("ls2");
  b.vif("ls2", "p3", ["00:00:00:00:02:0a 10.0.2.10"]);
  b.routerPort("ls2", "ls2-lr1", "lr1-ls2");
  b.router("lr0");
  b.lrp("lr0", "lr0-ls1", "00:00:00:00:ff:01", ["10.0.1.1/24"]);
  b.lrp("lr0", "lr0-lr1", "00:00:00:00:fe:01", ["169.254.0.1/30"], { peer: "lr1-lr0" });
  b.route("lr0", "10.0.2.0/24", "169.254.0.2");
  b.router("lr1");
  b.lrp("lr1", "lr1-ls2", "00:00:00:00:ff:02", ["10.0.2.1/24"]);
  b.lrp("lr1", "lr1-lr0", "00:00:00:00:fe:02", ["169.254.0.2/30"], { peer: "lr0-lr1" });
  b.route("lr1", "10.0.1.0/24", "169.254.0.1");
  return b.done("router-peers", "two routers joined by a peer router-port pair, a static route on each");
}

/** (6) A distributed gateway port on two chassis towards a localnet switch, no NAT. */
function gatewayPort(): RouterTestNet {
  const b = new Builder("router-dgp");
  b.addChassis("ch1", "192.168.100.1");
  b.addChassis("ch2", "192.168.100.2");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a 10.0.1.10"]);
  b.routerPort("ls1", "ls1-lr0", "lr0-ls1");
  b.switch("ext");
  b.localnet("ext", "ln-ext", "physnet1");
  b.routerPort("ext", "ext-lr0", "lr0-ext");
  b.router("lr0");
  b.lrp("lr0", "lr0-ls1", "00:00:00:00:ff:01", ["10.0.1.1/24"]);
  b.lrp("lr0", "lr0-ext", "00:00:00:00:ee:01", ["172.20.0.100/24"], { gw: [["ch1", 20], ["ch2", 10]] });
  b.route("lr0", "0.0.0.0/0", "172.20.0.1");
  return b.done("router-dgp", "a distributed gateway port on two chassis towards an external switch with a localnet port, no NAT");
}

/**
 * (7) A gateway router with the force-SNAT options and no NAT rows or load balancers: the unSNAT
 * and SNAT flows of `dnat_force_snat_ip` and of `lb_force_snat_ip=router_ip` (per port).
 */
function gatewayForceSnat(): RouterTestNet {
  const b = new Builder("router-gw-force-snat");
  b.addChassis("ch1", "192.168.100.1");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a 10.0.1.10"]);
  b.routerPort("ls1", "ls1-gw", "gw-ls1");
  b.switch("ext");
  b.vif("ext", "up", ["00:00:00:00:ee:02 172.20.0.1"]);
  b.routerPort("ext", "ext-gw", "gw-ext");
  b.router("gw", [
    ["chassis", "ch1"],
    ["lb_force_snat_ip", "router_ip"],
    ["dnat_force_snat_ip", "172.20.0.99"],
  ]);
  b.lrp("gw", "gw-ls1", "00:00:00:00:ff:01", ["10.0.1.1/24", "fd00:1::1/64"]);
  b.lrp("gw", "gw-ext", "00:00:00:00:ee:01", ["172.20.0.100/24"]);
  b.route("gw", "0.0.0.0/0", "172.20.0.1");
  return b.done("router-gw-force-snat", "a gateway router with lb_force_snat_ip=router_ip and dnat_force_snat_ip, without NAT rows or load balancers");
}

/**
 * (8) A gateway router whose ECMP default route asks for symmetric replies (`--ecmp-symmetric-reply`,
 * options:ecmp_symmetric_reply) over two ports, two next hops behind the first, and a route
 * alone that asks too (no group: no such flows). One ECMP group only: northd numbers groups in the
 * order of the routes' database UUIDs, which change from run to run.
 */
function gatewaySymmetricEcmp(): RouterTestNet {
  const b = new Builder("router-gw-ecmp-symmetric");
  b.addChassis("ch1", "192.168.100.1");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a 10.0.1.10"]);
  b.routerPort("ls1", "ls1-gw", "gw-ls1");
  b.switch("ext1");
  b.vif("ext1", "up1", ["00:00:00:00:ee:02 172.20.0.1"]);
  b.vif("ext1", "up2", ["00:00:00:00:ee:03 172.20.0.2"]);
  b.routerPort("ext1", "ext1-gw", "gw-ext1");
  b.switch("ext2");
  b.vif("ext2", "up3", ["00:00:00:00:ed:02 172.21.0.1"]);
  b.routerPort("ext2", "ext2-gw", "gw-ext2");
  b.router("gw", [["chassis", "ch1"]]);
  b.lrp("gw", "gw-ls1", "00:00:00:00:ff:01", ["10.0.1.1/24"]);
  b.lrp("gw", "gw-ext1", "00:00:00:00:ee:01", ["172.20.0.100/24"]);
  b.lrp("gw", "gw-ext2", "00:00:00:00:ed:01", ["172.21.0.100/24"]);
  b.route("gw", "0.0.0.0/0", "172.20.0.1", { symmetric: true });
  b.route("gw", "0.0.0.0/0", "172.20.0.2", { symmetric: true });
  b.route("gw", "0.0.0.0/0", "172.21.0.1", { symmetric: true });
  b.route("gw", "203.0.113.7/32", "172.21.0.1", { symmetric: true });
  return b.done("router-gw-ecmp-symmetric", "a gateway router whose ECMP default route over two ports asks for symmetric replies, and a lone route that asks too");
}

/**
 * (9) The same for IPv6, with the group in a route table (its routing match starts with reg7).
 */
function gatewaySymmetricEcmp6(): RouterTestNet {
  const b = new Builder("router-gw-ecmp-symmetric6");
  b.addChassis("ch1", "192.168.100.1");
  b.switch("ls1");
  b.vif("ls1", "p1", ["00:00:00:00:01:0a fd00:1::10"]);
  b.routerPort("ls1", "ls1-gw", "gw-ls1");
  b.switch("ext1");
  b.vif("ext1", "up1", ["00:00:00:00:ee:02 fd20::1"]);
  b.vif("ext1", "up2", ["00:00:00:00:ee:03 fd20::2"]);
  b.routerPort("ext1", "ext1-gw", "gw-ext1");
  b.router("gw", [["chassis", "ch1"]]);
  b.lrp("gw", "gw-ls1", "00:00:00:00:ff:01", ["fd00:1::1/64"], { options: [["route_table", "rt1"]] });
  b.lrp("gw", "gw-ext1", "00:00:00:00:ee:01", ["fd20::100/64"]);
  b.route("gw", "2001:db8::/32", "fd20::1", { symmetric: true, table: "rt1" });
  b.route("gw", "2001:db8::/32", "fd20::2", { symmetric: true, table: "rt1" });
  return b.done("router-gw-ecmp-symmetric6", "an IPv6 gateway router whose ECMP route in a route table asks for symmetric replies");
}

export const ROUTER_TEST_NETS: readonly RouterTestNet[] = [twoSubnets(false), twoSubnets(true), kubeOvn(), staticRoutes(), twoRouters(), gatewayPort(), gatewayForceSnat(), gatewaySymmetricEcmp(), gatewaySymmetricEcmp6()];
