/**
 * The test networks for the logical-switch pipeline, each as a model and as the ovn-nbctl commands
 * that build the same network in real OVN. Each level adds to the previous one: (1) VIFs with
 * addresses, port security and "unknown"; (2) ACLs of every action on the switch and on a port
 * group, with an address set; (3) load balancers with a TCP and a UDP VIP; (4) a tagged localnet
 * port.
 */
import { List, OrderedMap } from "immutable";
import { Acl, type AclProps, AddressSet, LoadBalancer, LogicalSwitch, Network, PortGroup, SwitchPort } from "../../src/model/index.js";

export interface TestNet {
  readonly name: string;
  readonly what: string;
  readonly network: Network;
  readonly nbctl: readonly (readonly string[])[];
}

function build(level: number): TestNet {
  const cmds: string[][] = [["ls-add", "ls1"]];
  let ports = OrderedMap<string, SwitchPort>();
  const vif = (name: string, addresses: string[], ps: string[] = []): void => {
    ports = ports.set(name, SwitchPort({ name, addresses: List(addresses), portSecurity: List(ps) }));
    cmds.push(["lsp-add", "ls1", name], ["lsp-set-addresses", name, ...addresses]);
    if (ps.length > 0) cmds.push(["lsp-set-port-security", name, ...ps]);
  };
  vif("p1", ["00:00:00:00:00:01 10.0.0.1"]);
  vif("p2", ["00:00:00:00:00:02 10.0.0.2"], ["00:00:00:00:00:02 10.0.0.2"]);
  vif("p3", ["00:00:00:00:00:03 10.0.0.3", "unknown"]);
  let acls = List<Acl>();
  let pgs = OrderedMap<string, PortGroup>();
  let sets = OrderedMap<string, AddressSet>();
  let lbs = OrderedMap<string, LoadBalancer>();
  if (level >= 2) {
    sets = sets.set("as1", AddressSet({ name: "as1", addresses: List(["10.0.0.0/24", "192.168.1.5"]) }));
    cmds.push(["create", "Address_Set", "name=as1", 'addresses="10.0.0.0/24","192.168.1.5"']);
    cmds.push(["pg-add", "pg1", "p1", "p2"]);
    const swAcl = (a: Partial<AclProps>, flags: string[] = []): void => {
      const acl = Acl(a);
      acls = acls.push(acl);
      cmds.push([...flags, "acl-add", "ls1", acl.direction, String(acl.priority), acl.match, acl.action]);
    };
    swAcl({ direction: "from-lport", priority: 1001, match: 'inport == "p1" && ip4', action: "allow-related" });
    swAcl({ direction: "to-lport", priority: 1000, match: "ip4.src == $as1 && tcp.dst == 80", action: "allow" });
    swAcl({ direction: "from-lport", priority: 900, match: "udp.dst == 53", action: "allow-stateless" });
    swAcl({ direction: "to-lport", priority: 800, match: "tcp.dst == 22", action: "drop", log: true, name: "d1" }, ["--log", "--name=d1"]);
    swAcl({ direction: "from-lport", priority: 700, match: "icmp4", action: "allow-related", label: 77 }, ["--label=77"]);
    const pgAcls = List([
      Acl({ direction: "to-lport", priority: 1100, match: "outport == @pg1 && ip4.src == $as1", action: "allow-related" }),
      Acl({ direction: "from-lport", priority: 600, match: "inport == @pg1 && tcp.dst == 25", action: "reject" }),
    ]);
    for (const a of pgAcls) cmds.push(["acl-add", "pg1", a.direction, String(a.priority), a.match, a.action]);
    pgs = pgs.set("pg1", PortGroup({ name: "pg1", ports: List(["p1", "p2"]), acls: pgAcls }));
    swAcl({ direction: "from-lport", priority: 500, match: "ip4.dst == 10.0.0.100", action: "drop", applyAfterLb: true }, ["--apply-after-lb"]);
  }
  let lbNames = List<string>();
  if (level >= 3) {
    lbs = lbs
      .set("lb1", LoadBalancer({ name: "lb1", protocol: "tcp", vips: OrderedMap([["10.0.0.100:80", List(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"])]]) }))
      .set("lb2", LoadBalancer({ name: "lb2", protocol: "udp", vips: OrderedMap([["10.0.0.101:53", List(["10.0.0.1:5353"])]]) }));
    lbNames = List(["lb1", "lb2"]);
    cmds.push(["lb-add", "lb1", "10.0.0.100:80", "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080", "tcp"]);
    cmds.push(["lb-add", "lb2", "10.0.0.101:53", "10.0.0.1:5353", "udp"]);
    cmds.push(["ls-lb-add", "ls1", "lb1"], ["ls-lb-add", "ls1", "lb2"]);
  }
  if (level >= 4) {
    ports = ports.set("ln1", SwitchPort({ name: "ln1", type: "localnet", addresses: List(["unknown"]), tag: 100, options: OrderedMap([["network_name", "physnet1"]]) }));
    cmds.push(["lsp-add", "ls1", "ln1", "", "100"], ["lsp-set-type", "ln1", "localnet"], ["lsp-set-addresses", "ln1", "unknown"], ["lsp-set-options", "ln1", "network_name=physnet1"]);
  }
  const ls = LogicalSwitch({ name: "ls1", ports, acls, loadBalancers: lbNames });
  const network = Network({ name: `net${level}`, switches: OrderedMap([["ls1", ls]]), portGroups: pgs, addressSets: sets, loadBalancers: lbs });
  const what = ["", "three VIFs (addresses, port security, unknown)", "+ ACLs of every action on the switch and a port group, an address set", "+ a TCP VIP with 3 backends and a UDP VIP", "+ a localnet port with VLAN tag 100"][level] ?? "";
  return { name: `net${level}`, what, network, nbctl: cmds };
}

/** Edge cases: disabled ports, IPv6, "unknown" with port security, stateless-only ACLs. */
function edges(): TestNet {
  const cmds: string[][] = [["ls-add", "ls1"]];
  const ps: [string, string[], string[], boolean][] = [
    ["a1", ["00:00:00:00:00:11 10.1.0.1 fd00::1"], [], true],
    ["a2", ["00:00:00:00:00:12 10.1.0.2"], [], false],
    ["a3", ["unknown"], ["00:00:00:00:00:13"], true],
    ["a4", ["unknown"], [], false],
  ];
  let ports = OrderedMap<string, SwitchPort>();
  for (const [name, addresses, sec, enabled] of ps) {
    ports = ports.set(name, SwitchPort({ name, addresses: List(addresses), portSecurity: List(sec), enabled }));
    cmds.push(["lsp-add", "ls1", name], ["lsp-set-addresses", name, ...addresses]);
    if (sec.length > 0) cmds.push(["lsp-set-port-security", name, ...sec]);
    if (!enabled) cmds.push(["lsp-set-enabled", name, "disabled"]);
  }
  const acls = List([
    Acl({ direction: "from-lport", priority: 900, match: "udp.dst == 53", action: "allow-stateless" }),
    Acl({ direction: "to-lport", priority: 800, match: "tcp.dst == 22", action: "drop" }),
    Acl({ direction: "to-lport", priority: 700, match: "tcp.dst == 23", action: "reject", log: true }),
    Acl({ direction: "to-lport", priority: 600, match: "tcp.dst == 24", action: "allow" }),
  ]);
  for (const a of acls) cmds.push([...(a.log ? ["--log"] : []), "acl-add", "ls1", a.direction, String(a.priority), a.match, a.action]);
  const network = Network({ name: "net5", switches: OrderedMap([["ls1", LogicalSwitch({ name: "ls1", ports, acls })]]) });
  return { name: "net5", what: "disabled ports, an IPv6 address, unknown with port security, stateless-only ACLs", network, nbctl: cmds };
}

/** Load balancers with a port-less IPv4 VIP and an IPv6 VIP, no ACLs. */
function lbEdges(): TestNet {
  const cmds: string[][] = [["ls-add", "ls1"], ["lsp-add", "ls1", "b1"], ["lsp-set-addresses", "b1", "00:00:00:00:00:21 10.2.0.1"]];
  cmds.push(["lb-add", "lbB", "10.2.0.100", "10.2.0.1,10.2.0.2"], ["lb-add", "lbB6", "[fd00::100]:80", "[fd00::1]:8080", "tcp"]);
  cmds.push(["ls-lb-add", "ls1", "lbB"], ["ls-lb-add", "ls1", "lbB6"]);
  const lbs = OrderedMap<string, LoadBalancer>()
    .set("lbB", LoadBalancer({ name: "lbB", vips: OrderedMap([["10.2.0.100", List(["10.2.0.1", "10.2.0.2"])]]) }))
    .set("lbB6", LoadBalancer({ name: "lbB6", vips: OrderedMap([["[fd00::100]:80", List(["[fd00::1]:8080"])]]) }));
  const ls = LogicalSwitch({ name: "ls1", ports: OrderedMap([["b1", SwitchPort({ name: "b1", addresses: List(["00:00:00:00:00:21 10.2.0.1"]) })]]), loadBalancers: List(["lbB", "lbB6"]) });
  const network = Network({ name: "net6", switches: OrderedMap([["ls1", ls]]), loadBalancers: lbs });
  return { name: "net6", what: "a port-less IPv4 VIP and an IPv6 VIP without ACLs", network, nbctl: cmds };
}

/**
 * A load balancer beside stateless-only ACLs: northd still writes the allow-stateless filters into
 * pre-acl so that pre-lb keeps what they match out of conntrack.
 */
function lbStateless(): TestNet {
  const cmds: string[][] = [["ls-add", "ls1"], ["lsp-add", "ls1", "c1"], ["lsp-set-addresses", "c1", "00:00:00:00:00:31 10.3.0.1"]];
  cmds.push(["lb-add", "lbC", "10.3.0.100:80", "10.3.0.1:8080", "tcp"], ["ls-lb-add", "ls1", "lbC"]);
  const acls = List([
    Acl({ direction: "from-lport", priority: 900, match: "udp", action: "allow-stateless" }),
    Acl({ direction: "to-lport", priority: 800, match: "tcp.src == 8080", action: "allow-stateless" }),
    Acl({ direction: "to-lport", priority: 700, match: "tcp.dst == 22", action: "drop" }),
  ]);
  for (const a of acls) cmds.push(["acl-add", "ls1", a.direction, String(a.priority), a.match, a.action]);
  const lbs = OrderedMap<string, LoadBalancer>().set("lbC", LoadBalancer({ name: "lbC", protocol: "tcp", vips: OrderedMap([["10.3.0.100:80", List(["10.3.0.1:8080"])]]) }));
  const ls = LogicalSwitch({ name: "ls1", ports: OrderedMap([["c1", SwitchPort({ name: "c1", addresses: List(["00:00:00:00:00:31 10.3.0.1"]) })]]), acls, loadBalancers: List(["lbC"]) });
  const network = Network({ name: "net8", switches: OrderedMap([["ls1", ls]]), loadBalancers: lbs });
  return { name: "net8", what: "a load balancer beside stateless-only ACLs", network, nbctl: cmds };
}

/**
 * Load balancers with `affinity_timeout`: a TCP VIP, a port-less VIP, an IPv6 VIP, a timeout above
 * northd's cap, and one northd reads as no timeout.
 */
function lbAffinity(): TestNet {
  const cmds: string[][] = [["ls-add", "ls1"], ["lsp-add", "ls1", "d1"], ["lsp-set-addresses", "d1", "00:00:00:00:00:41 10.4.0.1 fd04::1"]];
  const specs: [string, "tcp" | "udp", [string, string[]][], string][] = [
    ["lbD", "tcp", [["10.4.0.100:80", ["10.4.0.1:8080", "10.4.0.2:8080"]]], "60"],
    ["lbD2", "tcp", [["10.4.0.101", ["10.4.0.1", "10.4.0.2"]]], "70000"],
    ["lbD6", "tcp", [["[fd04::100]:80", ["[fd04::1]:8080", "[fd04::2]:8080"]]], "5"],
    ["lbDx", "tcp", [["10.4.0.102:80", ["10.4.0.1:80"]]], "soon"],
  ];
  let lbs = OrderedMap<string, LoadBalancer>();
  for (const [name, protocol, vips, timeout] of specs) {
    const [vip, backends] = vips[0]!;
    // ovn-nbctl takes a protocol only for a VIP with a port (the row's protocol is then empty).
    cmds.push(["lb-add", name, vip, backends.join(","), ...(vip.includes(":") ? [protocol] : [])], ["set", "Load_Balancer", name, `options:affinity_timeout=${timeout}`], ["ls-lb-add", "ls1", name]);
    lbs = lbs.set(name, LoadBalancer({ name, protocol, vips: OrderedMap([[vip, List(backends)]]), options: OrderedMap([["affinity_timeout", timeout]]) }));
  }
  const ls = LogicalSwitch({ name: "ls1", ports: OrderedMap([["d1", SwitchPort({ name: "d1", addresses: List(["00:00:00:00:00:41 10.4.0.1 fd04::1"]) })]]), loadBalancers: List([...lbs.keys()]) });
  const network = Network({ name: "net9", switches: OrderedMap([["ls1", ls]]), loadBalancers: lbs });
  return { name: "net9", what: "load balancers with affinity_timeout (TCP, port-less, IPv6, capped, unreadable)", network, nbctl: cmds };
}

/** Level 3 with NB_Global `options:use_ct_inv_match=false`, as Kube-OVN sets it. */
function noCtInv(): TestNet {
  const n = build(3);
  return {
    name: "net7",
    what: "level 3 with use_ct_inv_match=false (ACL stages without ct.inv)",
    network: n.network.set("name", "net7").set("options", OrderedMap([["use_ct_inv_match", "false"]])),
    nbctl: [...n.nbctl, ["set", "NB_Global", ".", "options:use_ct_inv_match=false"]],
  };
}

export const TEST_NETS: readonly TestNet[] = [...[1, 2, 3, 4].map(build), edges(), lbEdges(), noCtInv(), lbStateless(), lbAffinity()];
