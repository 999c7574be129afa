/**
 * The test networks for the router NAT and router load-balancer flows, each as a model value and
 * as the ovn-nbctl commands that build the same network in real OVN, in two variants: `full` (with
 * the router's NAT rows and load balancers) and `base` (the same network without them). The flows
 * northd writes because of NAT and load balancers are the difference between the two builds.
 *
 * (1) nat-gw: a gateway router (options:chassis=hv1) with snat of a CIDR, dnat and dnat_and_snat,
 *     between an internal switch and an external switch with a localnet port.
 * (2) nat-dgp: a router with a distributed gateway port on two chassis, with snat, dnat,
 *     dnat_and_snat and a distributed dnat_and_snat (logical_port + external_mac).
 * (3) nat-kubeovn: a Kube-OVN custom VPC with an external DGP: an OvnFip (distributed
 *     dnat_and_snat), an OvnSnatRule (snat of the subnet CIDR) and an OvnDnatRule (a load balancer
 *     `EIP:8080 → IP:80` attached to the router).
 * (4) nat-lb: a gateway router with a TCP VIP with two backends, a UDP VIP and a stateless
 *     dnat_and_snat.
 */
import { List, OrderedMap } from "immutable";
import {
  AddressSet,
  Chassis,
  Encap,
  GatewayChassis,
  LoadBalancer,
  LogicalRouter,
  LogicalSwitch,
  Nat,
  type NatProps,
  Network,
  RouterPort,
  StaticRoute,
  SwitchPort,
} from "../../src/model/index.js";

export interface NatTestNet {
  readonly name: string;
  readonly what: string;
  /** The router whose NAT and load balancers are under test. */
  readonly router: string;
  /** The switches attached to it. */
  readonly switches: readonly string[];
  /** Fake chassis to add to the Southbound database first: name and Geneve IP. */
  readonly chassis: readonly (readonly [string, string])[];
  readonly network: Network;
  readonly nbctl: readonly (readonly string[])[];
}

/** Accumulates a network as a model value and as ovn-nbctl commands, side by side. */
class Builder {
  readonly cmds: string[][] = [];
  net: Network = Network();
  chassisList: [string, string][] = [];

  chassis(name: string, ip: string): void {
    this.chassisList.push([name, ip]);
    this.net = this.net.setIn(["chassis", name], Chassis({ name, hostname: name, encaps: List([Encap({ type: "geneve", ip })]) }));
  }

  router(name: string, options: [string, string][] = []): void {
    this.cmds.push(["lr-add", name]);
    if (options.length > 0) this.cmds.push(["set", "Logical_Router", name, ...options.map(([k, v]) => `options:${k}=${v}`)]);
    this.net = this.net.setIn(["routers", name], LogicalRouter({ name, options: OrderedMap(options) }));
  }

  switch(name: string): void {
    this.cmds.push(["ls-add", name]);
    this.net = this.net.setIn(["switches", name], LogicalSwitch({ name }));
  }

  vif(ls: string, name: string, mac: string, ip: string): void {
    this.cmds.push(["lsp-add", ls, name], ["lsp-set-addresses", name, `${mac} ${ip}`]);
    this.net = this.net.setIn(["switches", ls, "ports", name], SwitchPort({ name, addresses: List([`${mac} ${ip}`]) }));
  }

  localnet(ls: string, name: string, network: string, tag?: number): void {
    this.cmds.push(["lsp-add", ls, name, ...(tag === undefined ? [] : ["", String(tag)])], ["lsp-set-type", name, "localnet"], ["lsp-set-addresses", name, "unknown"], ["lsp-set-options", name, `network_name=${network}`]);
    this.net = this.net.setIn(["switches", ls, "ports", name], SwitchPort({ name, type: "localnet", tag, addresses: List(["unknown"]), options: OrderedMap([["network_name", network]]) }));
  }

  /** A router port on `lr` and the switch port of type router that patches it into `ls`. */
  link(lr: string, lrp: string, mac: string, cidr: string | string[], ls: string, lsp: string, gateways: [string, number][] = [], options: [string, string][] = []): void {
    const cidrs = typeof cidr === "string" ? [cidr] : cidr;
    this.cmds.push(["lrp-add", lr, lrp, mac, ...cidrs]);
    if (options.length > 0) this.cmds.push(["set", "Logical_Router_Port", lrp, ...options.map(([k, v]) => `options:${k}=${v}`)]);
    for (const [c, p] of gateways) this.cmds.push(["lrp-set-gateway-chassis", lrp, c, String(p)]);
    this.cmds.push(["lsp-add", ls, lsp], ["lsp-set-type", lsp, "router"], ["lsp-set-addresses", lsp, "router"], ["lsp-set-options", lsp, `router-port=${lrp}`]);
    this.net = this.net.setIn(
      ["routers", lr, "ports", lrp],
      RouterPort({ name: lrp, mac, networks: List(cidrs), options: OrderedMap(options), gatewayChassis: List(gateways.map(([chassis, priority]) => GatewayChassis({ chassis, priority }))) }),
    );
    this.net = this.net.setIn(["switches", ls, "ports", lsp], SwitchPort({ name: lsp, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", lrp]]) }));
  }

  route(lr: string, prefix: string, nexthop: string): void {
    this.cmds.push(["lr-route-add", lr, prefix, nexthop]);
    this.net = this.net.updateIn(["routers", lr, "staticRoutes"], (l) => (l as List<StaticRoute>).push(StaticRoute({ ipPrefix: prefix, nexthop })));
  }

  nat(lr: string, p: Partial<NatProps>): void {
    const n = Nat(p);
    const args = [...(n.stateless ? ["--stateless"] : []), "lr-nat-add", lr, n.type, n.externalIp, n.logicalIp];
    if (n.logicalPort !== undefined && n.externalMac !== undefined) args.push(n.logicalPort, n.externalMac);
    this.cmds.push(args);
    this.net = this.net.updateIn(["routers", lr, "nat"], (l) => (l as List<Nat>).push(n));
  }

  /** A NAT row written with `create NAT` (for the columns lr-nat-add cannot set). */
  natRow(lr: string, p: Partial<NatProps>): void {
    const n = Nat(p);
    const id = `@nat${this.cmds.length}`;
    const cols = [`type=${n.type}`, `external_ip="${n.externalIp}"`, `logical_ip="${n.logicalIp}"`];
    if (n.externalMac !== undefined) cols.push(`external_mac="${n.externalMac}"`);
    if (n.logicalPort !== undefined) cols.push(`logical_port="${n.logicalPort}"`);
    if (n.externalPortRange !== undefined) cols.push(`external_port_range="${n.externalPortRange}"`);
    if (n.stateless) cols.push("options:stateless=true");
    if (n.allowedExtIps !== undefined) cols.push(`allowed_ext_ips=@as_${n.allowedExtIps}`);
    if (n.exemptedExtIps !== undefined) cols.push(`exempted_ext_ips=@as_${n.exemptedExtIps}`);
    this.cmds.push([`--id=${id}`, "create", "NAT", ...cols], ["add", "Logical_Router", lr, "nat", id]);
    this.net = this.net.updateIn(["routers", lr, "nat"], (l) => (l as List<Nat>).push(n));
  }

  /** An address set, created in the same transaction so NAT rows can refer to it as `@as_NAME`. */
  addressSet(name: string, addresses: string[]): void {
    this.cmds.push([`--id=@as_${name}`, "create", "Address_Set", `name=${name}`, `addresses=${addresses.map((a) => `"${a}"`).join(",")}`]);
    this.net = this.net.setIn(["addressSets", name], AddressSet({ name, addresses: List(addresses) }));
  }

  /** A load balancer created with `create` (any VIPs, empty backends, options); attached to `lr` when `attach`. */
  lbRow(name: string, protocol: "tcp" | "udp", vips: [string, string[]][], options: [string, string][], lr: string, attach: boolean): void {
    const cols = [`name=${name}`, `protocol=${protocol}`, ...vips.map(([v, b]) => `vips:"${v}"="${b.join(",")}"`), ...options.map(([k, v]) => `options:${k}=${v}`)];
    this.cmds.push(["create", "Load_Balancer", ...cols]);
    this.net = this.net.setIn(["loadBalancers", name], LoadBalancer({ name, protocol, vips: OrderedMap(vips.map(([v, b]) => [v, List(b)])), options: OrderedMap(options) }));
    if (attach) {
      this.cmds.push(["lr-lb-add", lr, name]);
      this.net = this.net.updateIn(["routers", lr, "loadBalancers"], (l) => (l as List<string>).push(name));
    }
  }

  /** A load balancer with one VIP per entry; created in both variants, attached to `lr` only when `attach`. */
  lb(name: string, protocol: "tcp" | "udp", vips: [string, string[]][], lr: string, attach: boolean, options: [string, string][] = []): void {
    // ovn-nbctl takes a protocol only for a VIP with a port.
    for (const [vip, backends] of vips) this.cmds.push(["lb-add", name, vip, backends.join(","), ...(/:\d+$/.test(vip) ? [protocol] : [])]);
    if (options.length > 0) this.cmds.push(["set", "Load_Balancer", name, ...options.map(([k, v]) => `options:${k}=${v}`)]);
    this.net = this.net.setIn(["loadBalancers", name], LoadBalancer({ name, protocol, vips: OrderedMap(vips.map(([v, b]) => [v, List(b)])), options: OrderedMap(options) }));
    if (attach) {
      this.cmds.push(["lr-lb-add", lr, name]);
      this.net = this.net.updateIn(["routers", lr, "loadBalancers"], (l) => (l as List<string>).push(name));
    }
  }
}

function natGw(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.router("lr0", [["chassis", "hv1"]]);
  b.switch("int0");
  b.switch("ext0");
  b.vif("int0", "vm1", "00:00:00:00:00:11", "10.0.0.11");
  b.vif("int0", "vm2", "00:00:00:00:00:12", "10.0.0.12");
  b.link("lr0", "lr0-int", "00:00:00:00:01:01", "10.0.0.1/24", "int0", "int0-lr0");
  b.link("lr0", "lr0-ext", "00:00:00:00:01:02", "172.16.0.1/24", "ext0", "ext0-lr0");
  b.localnet("ext0", "ln-ext0", "physnet1");
  b.route("lr0", "0.0.0.0/0", "172.16.0.254");
  if (full) {
    b.nat("lr0", { type: "snat", externalIp: "172.16.0.10", logicalIp: "10.0.0.0/24" });
    b.nat("lr0", { type: "dnat", externalIp: "172.16.0.11", logicalIp: "10.0.0.11" });
    b.nat("lr0", { type: "dnat_and_snat", externalIp: "172.16.0.12", logicalIp: "10.0.0.12" });
  }
  return b;
}

function natDgp(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.chassis("hv2", "192.0.2.2");
  b.router("lr1");
  b.switch("int1");
  b.switch("ext1");
  b.vif("int1", "vm11", "00:00:00:00:01:11", "10.1.0.11");
  b.vif("int1", "vm12", "00:00:00:00:01:12", "10.1.0.12");
  b.vif("int1", "vm13", "00:00:00:00:01:13", "10.1.0.13");
  b.link("lr1", "lr1-int", "00:00:00:00:02:01", "10.1.0.1/24", "int1", "int1-lr1");
  b.link("lr1", "lr1-ext", "00:00:00:00:02:02", "172.16.1.1/24", "ext1", "ext1-lr1", [
    ["hv1", 20],
    ["hv2", 10],
  ]);
  b.localnet("ext1", "ln-ext1", "physnet1");
  b.route("lr1", "0.0.0.0/0", "172.16.1.254");
  if (full) {
    b.nat("lr1", { type: "snat", externalIp: "172.16.1.10", logicalIp: "10.1.0.0/24" });
    b.nat("lr1", { type: "dnat", externalIp: "172.16.1.11", logicalIp: "10.1.0.11" });
    b.nat("lr1", { type: "dnat_and_snat", externalIp: "172.16.1.12", logicalIp: "10.1.0.12" });
    b.nat("lr1", { type: "dnat_and_snat", externalIp: "172.16.1.13", logicalIp: "10.1.0.13", logicalPort: "vm13", externalMac: "0a:00:00:00:01:13" });
  }
  return b;
}

function natKubeOvn(full: boolean): Builder {
  const b = new Builder();
  b.chassis("node1", "192.0.2.11");
  b.chassis("node2", "192.0.2.12");
  b.router("vpc1");
  b.switch("subnet1");
  b.switch("external");
  b.vif("subnet1", "pod1.ns1", "00:00:00:aa:00:0a", "10.2.0.10");
  b.vif("subnet1", "pod2.ns1", "00:00:00:aa:00:14", "10.2.0.20");
  b.link("vpc1", "vpc1-subnet1", "00:00:00:aa:00:01", "10.2.0.1/24", "subnet1", "subnet1-vpc1");
  b.link("vpc1", "vpc1-external", "00:00:00:bb:00:02", "172.18.0.2/24", "external", "external-vpc1", [
    ["node1", 100],
    ["node2", 99],
  ]);
  b.localnet("external", "localnet.external", "external");
  b.route("vpc1", "0.0.0.0/0", "172.18.0.1");
  b.lb("dnat01", "tcp", [["172.18.0.12:8080", ["10.2.0.20:80"]]], "vpc1", full);
  if (full) {
    b.nat("vpc1", { type: "dnat_and_snat", externalIp: "172.18.0.10", logicalIp: "10.2.0.10", logicalPort: "pod1.ns1", externalMac: "00:00:00:aa:00:0a" });
    b.nat("vpc1", { type: "snat", externalIp: "172.18.0.11", logicalIp: "10.2.0.0/24" });
  }
  return b;
}

function natLb(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.router("lr3", [["chassis", "hv1"]]);
  b.switch("int3");
  b.switch("ext3");
  b.vif("int3", "vm31", "00:00:00:00:03:11", "10.3.0.11");
  b.vif("int3", "vm32", "00:00:00:00:03:12", "10.3.0.12");
  b.vif("int3", "vm33", "00:00:00:00:03:20", "10.3.0.20");
  b.link("lr3", "lr3-int", "00:00:00:00:04:01", "10.3.0.1/24", "int3", "int3-lr3");
  b.link("lr3", "lr3-ext", "00:00:00:00:04:02", "172.16.3.1/24", "ext3", "ext3-lr3");
  b.localnet("ext3", "ln-ext3", "physnet1");
  b.route("lr3", "0.0.0.0/0", "172.16.3.254");
  b.lb("lbt", "tcp", [["172.16.3.100:80", ["10.3.0.11:8080", "10.3.0.12:8080"]]], "lr3", full);
  b.lb("lbu", "udp", [["172.16.3.100:53", ["10.3.0.11:5353"]]], "lr3", full);
  if (full) b.nat("lr3", { type: "dnat_and_snat", externalIp: "172.16.3.20", logicalIp: "10.3.0.20", stateless: true });
  return b;
}

function natLbAffinity(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.router("lr7", [["chassis", "hv1"], ["lb_force_snat_ip", "router_ip"]]);
  b.switch("int7");
  b.switch("ext7");
  b.vif("int7", "vm71", "00:00:00:00:07:11", "10.7.0.11 fd07::11");
  b.vif("int7", "vm72", "00:00:00:00:07:12", "10.7.0.12 fd07::12");
  b.link("lr7", "lr7-int", "00:00:00:00:08:01", ["10.7.0.1/24", "fd07::1/64"], "int7", "int7-lr7");
  b.link("lr7", "lr7-ext", "00:00:00:00:08:02", ["172.16.7.1/24", "fd17::1/64"], "ext7", "ext7-lr7");
  b.localnet("ext7", "ln-ext7", "physnet1");
  b.lb("lba", "tcp", [["172.16.7.100:80", ["10.7.0.11:8080", "10.7.0.12:8080"]], ["[fd17::100]:80", ["[fd07::11]:8080", "[fd07::12]:8080"]]], "lr7", full, [["affinity_timeout", "60"]]);
  b.lb("lbs", "tcp", [["172.16.7.101:80", ["10.7.0.11:80"]]], "lr7", full, [["affinity_timeout", "30"], ["skip_snat", "true"]]);
  b.lb("lbn", "tcp", [["172.16.7.102", ["10.7.0.11", "10.7.0.12"]]], "lr7", full, [["affinity_timeout", "5"]]);
  return b;
}

function natGwEdges(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.switch("int5");
  b.switch("ext5");
  b.router("lr5", [["chassis", "hv1"]]);
  b.vif("int5", "vm51", "00:00:00:00:05:11", "10.5.0.11 fd05::11");
  b.vif("int5", "vm52", "00:00:00:00:05:12", "10.5.0.12 fd05::12");
  b.link("lr5", "lr5-int", "00:00:00:00:06:01", ["10.5.0.1/24", "fd05::1/64"], "int5", "int5-lr5");
  b.link("lr5", "lr5-ext", "00:00:00:00:06:02", ["172.16.5.1/24", "fd16:5::1/64"], "ext5", "ext5-lr5");
  b.localnet("ext5", "ln-ext5", "physnet1", 105);
  b.route("lr5", "0.0.0.0/0", "172.16.5.254");
  b.addressSet("allow5", ["192.0.2.0/24"]);
  b.addressSet("exempt5", ["198.51.100.7"]);
  b.lbRow("lb5s", "tcp", [["172.16.5.100:80", ["10.5.0.11:80"]]], [["skip_snat", "true"]], "lr5", full);
  b.lbRow("lb5n", "tcp", [["172.16.5.101", ["10.5.0.11", "10.5.0.12"]]], [], "lr5", full);
  b.lbRow("lb5e", "tcp", [["172.16.5.102:80", []]], [["reject", "true"]], "lr5", full);
  b.lbRow("lb5x", "tcp", [["172.16.5.12:8080", ["10.5.0.12:80"]]], [], "lr5", full);
  b.lbRow("lb56", "tcp", [["[fd16:5::100]:80", ["[fd05::11]:80"]]], [], "lr5", full);
  if (full) {
    b.natRow("lr5", { type: "snat", externalIp: "172.16.5.10", logicalIp: "10.5.0.0/24", externalPortRange: "1000-2000" });
    b.natRow("lr5", { type: "dnat_and_snat", externalIp: "172.16.5.12", logicalIp: "10.5.0.12", allowedExtIps: "allow5" });
    b.natRow("lr5", { type: "dnat", externalIp: "172.16.5.11", logicalIp: "10.5.0.11", exemptedExtIps: "exempt5" });
    b.natRow("lr5", { type: "dnat_and_snat", externalIp: "fd16:5::12", logicalIp: "fd05::12" });
    b.natRow("lr5", { type: "snat", externalIp: "172.16.5.13", logicalIp: "10.5.0.11", exemptedExtIps: "exempt5" });
    b.natRow("lr5", { type: "snat", externalIp: "172.16.5.1", logicalIp: "10.5.1.0/24" });
  }
  return b;
}

function natDgpEdges(full: boolean): Builder {
  const b = new Builder();
  b.chassis("hv1", "192.0.2.1");
  b.chassis("hv2", "192.0.2.2");
  b.switch("int6");
  b.switch("ext6");
  b.router("lr6", [["lb_force_snat_ip", "172.16.6.99"]]);
  b.vif("int6", "vm61", "00:00:00:00:07:11", "10.6.0.11 fd06::11");
  b.vif("int6", "vm62", "00:00:00:00:07:12", "10.6.0.12 fd06::12");
  b.vif("int6", "vm63", "00:00:00:00:07:13", "10.6.0.13");
  b.link("lr6", "lr6-int", "00:00:00:00:08:01", ["10.6.0.1/24", "fd06::1/64"], "int6", "int6-lr6");
  b.link("lr6", "lr6-ext", "00:00:00:00:08:02", ["172.16.6.1/24", "fd16:6::1/64"], "ext6", "ext6-lr6", [["hv1", 20], ["hv2", 10]], [["gateway_mtu", "1400"]]);
  b.localnet("ext6", "ln-ext6", "physnet1", 106);
  b.route("lr6", "0.0.0.0/0", "172.16.6.254");
  b.addressSet("allow6", ["192.0.2.0/24"]);
  b.addressSet("exempt6", ["198.51.100.7"]);
  b.lbRow("lb6", "tcp", [["172.16.6.100", ["10.6.0.11", "10.6.0.12"]]], [], "lr6", full);
  b.lbRow("lb6s", "udp", [["172.16.6.101:53", ["10.6.0.11:53"]]], [["skip_snat", "true"]], "lr6", full);
  if (full) {
    b.natRow("lr6", { type: "dnat_and_snat", externalIp: "172.16.6.13", logicalIp: "10.6.0.13", logicalPort: "vm63", externalMac: "0a:00:00:00:06:13" });
    b.natRow("lr6", { type: "snat", externalIp: "172.16.6.10", logicalIp: "10.6.0.0/24", exemptedExtIps: "exempt6", externalPortRange: "1000-2000" });
    b.natRow("lr6", { type: "dnat_and_snat", externalIp: "172.16.6.12", logicalIp: "10.6.0.12", allowedExtIps: "allow6" });
    b.natRow("lr6", { type: "dnat_and_snat", externalIp: "172.16.6.14", logicalIp: "10.6.0.11", stateless: true });
    b.natRow("lr6", { type: "dnat_and_snat", externalIp: "fd16:6::12", logicalIp: "fd06::12" });
  }
  return b;
}

interface Spec {
  readonly name: string;
  readonly what: string;
  readonly router: string;
  readonly switches: readonly string[];
  readonly build: (full: boolean) => Builder;
}

const SPECS: readonly Spec[] = [
  { name: "nat-gw", what: "a gateway router with snat (CIDR), dnat and dnat_and_snat, internal switch and external switch with localnet", router: "lr0", switches: ["int0", "ext0"], build: natGw },
  { name: "nat-dgp", what: "a distributed gateway port on two chassis with snat, dnat, dnat_and_snat and a distributed dnat_and_snat", router: "lr1", switches: ["int1", "ext1"], build: natDgp },
  { name: "nat-kubeovn", what: "a Kube-OVN custom VPC with an external DGP, an OvnFip, an OvnSnatRule and an OvnDnatRule (router LB)", router: "vpc1", switches: ["subnet1", "external"], build: natKubeOvn },
  { name: "nat-lb", what: "a gateway router with a TCP VIP (two backends), a UDP VIP and a stateless dnat_and_snat", router: "lr3", switches: ["int3", "ext3"], build: natLb },
  { name: "nat-lb-affinity", what: "a gateway router with lb_force_snat_ip and load balancers with affinity_timeout (IPv4 and IPv6, skip_snat, port-less)", router: "lr7", switches: ["int7", "ext7"], build: natLbAffinity },
  { name: "nat-gw-edges", what: "a gateway router with IPv6, a port range, allowed/exempted external IPs, SNAT to the router's own IP, skip_snat, port-less, rejecting and NAT-IP VIPs", router: "lr5", switches: ["int5", "ext5"], build: natGwEdges },
  { name: "nat-dgp-edges", what: "a DGP with gateway_mtu, IPv6, allowed/exempted external IPs, stateless NAT, lb_force_snat_ip and skip_snat", router: "lr6", switches: ["int6", "ext6"], build: natDgpEdges },
];

/** The test networks: each with its full variant and its variant without NAT and router load balancers. */
export const NAT_TEST_NETS: readonly { readonly full: NatTestNet; readonly base: NatTestNet }[] = SPECS.map((s) => {
  const variant = (full: boolean): NatTestNet => {
    const b = s.build(full);
    return { name: s.name, what: s.what, router: s.router, switches: s.switches, chassis: b.chassisList, network: b.net.set("name", s.name), nbctl: b.cmds };
  };
  return { full: variant(true), base: variant(false) };
});
