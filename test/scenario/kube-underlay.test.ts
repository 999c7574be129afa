/**
 * Kube-OVN underlay manifests → OVN (kube-ovn-mapping.md §6, §1.1): the four docs scenarios of
 * scenarios/kube-ovn/underlay-* and inline manifests for the cases they do not cover (U2O in a
 * custom VPC, U2O without load balancers, the vlan-mode install), checked four ways:
 * - the rows the mapping doc promises (names, priorities, matches, options), written here from the
 *   doc's text and Kube-OVN's source, not from ovnsim's output;
 * - the golden `export --format nbctl` text of each docs scenario (OVNSIM_RECORD=1 rewrites);
 * - real OVN: the exported commands build the network in a sandbox without an error, and real
 *   ovn-trace gives the same verdict as ovnsim on the documented packets. The outputs are recorded
 *   in fixtures/kube/golden/<name>.ovn.json (with a digest of the commands they were taken on), so
 *   the comparison also runs where OVN is absent; live runs fail when a recording is stale;
 * - the documented behaviour through `ovnsim trace` (the CLI, in process): an underlay pod reaches
 *   another subnet through the physical gateway, unless logicalGateway makes OVN's router the
 *   gateway; with U2O, underlay and overlay pods reach each other through the router.
 * And one test per invalid manifest: the error names the resource, with its file position.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadNetworkText } from "../../src/scenario/index.js";
import { DOCS, ROOT, cli, docsScenarioChecks, ext, friendlyProbe, load, loadText, policies, traceJson as traceArgs, type TraceJson } from "./kube-docs-checks.js";

const traceJson = (dir: string, from: string, to: string, ...more: string[]): Promise<TraceJson> => traceArgs([dir, "--from", from, "--to", to, ...more]);

/** The packets each docs scenario is checked on against real OVN: [name, from, to]. */
const PROBES: Record<string, [string, string, string][]> = {
  "underlay-vlan": [
    ["underlay-to-underlay-other-node", "pod/underlay/web-1", "pod/underlay/db-2"],
    ["underlay-to-overlay", "pod/underlay/web-1", "pod/default/client-2"],
    ["underlay-to-outside", "pod/underlay/db-2", "8.8.8.8"],
    ["underlay-to-node", "pod/underlay/web-2", "node/node1"],
    ["overlay-to-underlay", "pod/default/client-1", "pod/underlay/web-2"],
    ["overlay-to-outside", "pod/default/client-2", "8.8.8.8"],
  ],
  "underlay-vlan-custom-interfaces": [
    ["underlay-to-underlay-other-node", "pod/underlay/web-1", "pod/underlay/db-2"],
    ["underlay-to-overlay", "pod/underlay/web-2", "pod/default/client-1"],
    ["overlay-to-underlay", "pod/default/client-1", "pod/underlay/web-1"],
    ["underlay-to-outside", "pod/underlay/db-1", "8.8.8.8"],
  ],
  "underlay-logical-gateway": [
    ["underlay-to-underlay-other-node", "pod/underlay/web-1", "pod/underlay/db-2"],
    ["underlay-to-overlay", "pod/underlay/web-1", "pod/default/client-2"],
    ["underlay-to-outside", "pod/underlay/db-2", "8.8.8.8"],
    ["underlay-to-node", "pod/underlay/web-2", "node/node1"],
    ["overlay-to-underlay", "pod/default/client-1", "pod/underlay/web-2"],
  ],
  "underlay-u2o": [
    ["underlay-to-underlay-other-node", "pod/underlay/web-1", "pod/underlay/db-2"],
    ["underlay-to-overlay", "pod/underlay/web-1", "pod/default/client-2"],
    ["underlay-to-outside", "pod/underlay/db-2", "8.8.8.8"],
    ["underlay-to-node", "pod/underlay/web-2", "node/node1"],
    ["overlay-to-underlay", "pod/default/client-1", "pod/underlay/web-2"],
    ["overlay-to-outside", "pod/default/client-2", "8.8.8.8"],
  ],
};

describe.each(Object.keys(PROBES))("docs scenario %s", (name) => {
  const s = load(join(DOCS, name));
  docsScenarioChecks(
    name,
    s,
    PROBES[name]!.map(([pname, from, to]) => friendlyProbe(s, pname, from, to, 80, ["new", "new", "new", "new"])),
  );
});

describe("underlay-vlan: a pure underlay subnet (§6.2)", () => {
  const dir = join(DOCS, "underlay-vlan");
  const net = load(dir).network;

  it("gives subnet1 the localnet port of §6.2 and no router port", () => {
    const ls = net.switches.get("subnet1")!;
    const ln = ls.ports.get("localnet.subnet1")!;
    expect(ln.type).toBe("localnet");
    expect(ln.addresses.toArray()).toEqual(["unknown"]);
    expect(ext(ln.options)).toEqual({ network_name: "net1" });
    expect(ln.tag).toBeUndefined(); // Vlan id 0: untagged
    expect(ext(ln.externalIds)).toEqual({ ipv4_network: "172.17.0.0/16", ls: "subnet1", vendor: "kube-ovn" });
    expect(ls.ports.has("subnet1-ovn-cluster")).toBe(false);
    expect(net.routers.get("ovn-cluster")!.ports.has("ovn-cluster-subnet1")).toBe(false);
    // Pods are ordinary ports, addresses from 172.17.0.2 (the gateway is excluded).
    expect(ls.ports.get("web-1.underlay")!.addresses.first()).toMatch(/ 172\.17\.0\.2$/);
    expect(ls.ports.get("web-1.underlay")!.chassis).toBe("node1");
    expect(ls.loadBalancers.size).toBe(6); // enableLb defaults to ENABLE_LB
  });

  it("adds no policy and no port group for it in the default VPC, and keeps its pods out of the node port groups", () => {
    expect(policies(net).filter((p) => p.includes("172.17."))).toEqual([]);
    expect(net.portGroups.keySeq().filter((k) => k.startsWith("subnet1")).toArray()).toEqual([]);
    expect(net.portGroups.get("node.node1")!.ports.toArray()).toEqual(["client-1.default"]);
    expect(net.routers.get("ovn-cluster")!.options.get("always_learn_from_arp_request")).toBe("false");
  });

  it("maps net1 to br-net1 with eth1 on every node, and puts the physical gateway on net1", () => {
    const chassisMacs = new Set<string>();
    for (const c of net.chassis.values()) {
      expect(ext(c.bridgeMappings), c.name).toEqual({ net1: "br-net1" });
      expect(ext(c.nics), c.name).toEqual({ "br-net1": "eth1" });
      // A chassis MAC on net1 per node, in Kube-OVN's form (locally administered unicast).
      expect([...c.macMappings.keys()], c.name).toEqual(["net1"]);
      const mac = c.macMappings.get("net1")!;
      expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(parseInt(mac.slice(0, 2), 16) & 3).toBe(2);
      chassisMacs.add(mac);
    }
    expect(chassisMacs.size).toBe(net.chassis.size);
    const gws = net.providerNetworks.get("net1")!.gateways.map((g) => `${g.vlan} ${g.address}`).toArray();
    expect(gws).toEqual(["0 172.17.0.1/16"]);
  });

  it("ovnsim trace: an underlay pod reaches another subnet through the physical gateway, not the router", async () => {
    const gwMac = net.providerNetworks.get("net1")!.gateways.first()!.mac;
    const t = await traceJson(dir, "pod/underlay/web-1", "pod/default/client-2", "--tcp", "80");
    expect(t.verdict).toBe("output");
    expect(t.outputs.map((o) => o.port)).toEqual(["localnet.subnet1"]);
    expect(t.outputs[0]!.packet["eth.dst"]).toBe(gwMac);
    expect(t.outputs[0]!.packet["ip.ttl"]).toBe(64); // not routed by OVN
    expect(t.hops.some((h) => h.kind === "pipeline" && JSON.stringify(h).includes("ovn-cluster"))).toBe(false);
    const path = await cli(["trace", dir, "--from", "pod/underlay/web-1", "--to", "pod/default/client-2", "--tcp", "80", "--minimal"]);
    expect(path.out).toMatch(/wire node1 -> underlay gateway: net1: untagged/);
    expect(path.out).toMatch(/underlay gateway on net1: 10\.16\.0\.3 is in none of the gateway's subnets/);
  });

  it("ovnsim trace: underlay pods on two nodes talk over the provider network, not a tunnel", async () => {
    const r = await cli(["trace", dir, "--from", "pod/underlay/web-1", "--to", "pod/underlay/db-2", "--tcp", "5432", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("db-2.underlay")');
    expect(r.out).toMatch(/wire node1 -> node2: net1: untagged, no tunnel/);
    expect(r.out).not.toMatch(/Geneve/);
  });
});

describe("underlay-vlan-custom-interfaces: customInterfaces and excludeNodes (§6.1)", () => {
  const dir = join(DOCS, "underlay-vlan-custom-interfaces");
  const net = load(dir).network;

  it("bridges eth2 on node1, eth1 on node3, nothing on the excluded node2", () => {
    expect(ext(net.chassis.get("node1")!.nics)).toEqual({ "br-net1": "eth2" });
    expect(ext(net.chassis.get("node3")!.nics)).toEqual({ "br-net1": "eth1" });
    expect(ext(net.chassis.get("node1")!.bridgeMappings)).toEqual({ net1: "br-net1" });
    expect(net.chassis.get("node2")!.bridgeMappings.size).toBe(0);
    expect(net.chassis.get("node2")!.nics.size).toBe(0);
    expect(net.chassis.get("node2")!.macMappings.size).toBe(0);
    expect([...net.chassis.get("node3")!.macMappings.keys()]).toEqual(["net1"]);
  });

  it("tags the localnet port with the Vlan id", async () => {
    expect(net.switches.get("subnet1")!.ports.get("localnet.subnet1")!.tag).toBe(10);
    const r = await cli(["trace", dir, "--from", "pod/underlay/web-1", "--to", "pod/underlay/db-2", "--tcp", "5432", "--minimal"]);
    expect(r.out).toMatch(/wire node1 -> node3: net1: 802\.1Q VLAN 10, no tunnel/);
  });
});

describe("underlay-logical-gateway: logicalGateway makes OVN the gateway (§6.2)", () => {
  const dir = join(DOCS, "underlay-logical-gateway");
  const net = load(dir).network;

  it("adds the router port with the subnet gateway and routes the subnet like an overlay one", () => {
    const lr = net.routers.get("ovn-cluster")!;
    expect(lr.ports.get("ovn-cluster-subnet1")!.networks.toArray()).toEqual(["172.17.0.1/16"]);
    expect(net.switches.get("subnet1")!.ports.get("subnet1-ovn-cluster")!.options.get("router-port")).toBe("ovn-cluster-subnet1");
    expect(net.switches.get("subnet1")!.ports.has("localnet.subnet1")).toBe(true);
    const p = policies(net);
    expect(p).toContain("31000 ip4.dst == 172.17.0.0/16 allow");
    expect(p).toContain("29000 ip4.src == $subnet1.node1_ip4 reroute 100.64.0.2");
    expect(p).toContain("29000 ip4.src == $subnet1.node2_ip4 reroute 100.64.0.3");
    expect(net.portGroups.get("subnet1.node1")!.ports.toArray()).toEqual(["web-1.underlay", "db-1.underlay"]);
    expect(net.portGroups.get("node.node2")!.ports.toArray()).toEqual(["web-2.underlay", "db-2.underlay", "client-2.default"]);
    // The physical network does not own 172.17.0.1.
    expect(net.providerNetworks.get("net1")!.gateways.size).toBe(0);
  });

  it("ovnsim trace: another subnet is routed by OVN's router; the outside leaves by the sender's node", async () => {
    const t = await traceJson(dir, "pod/underlay/web-1", "pod/default/client-2", "--tcp", "80");
    expect(t.outputs.map((o) => o.port)).toEqual(["client-2.default"]);
    expect(t.outputs[0]!.packet["ip.ttl"]).toBe(63);
    expect(t.outputs[0]!.packet["eth.src"]).toBe(net.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.mac);
    const out = await traceJson(dir, "pod/underlay/web-1", "8.8.8.8", "--tcp", "443");
    expect(out.outputs.map((o) => o.port)).toEqual(["node-node1"]);
    expect(out.hops.some((h) => h.stage === "lr_in_policy" && h.match === "ip4.src == $subnet1.node1_ip4")).toBe(true);
  });
});

describe("underlay-u2o: U2O interconnection (§6.3)", () => {
  const dir = join(DOCS, "underlay-u2o");
  const net = load(dir).network;
  const lr = net.routers.get("ovn-cluster")!;

  it("takes the lowest free address for the router port and starts the pods after it", () => {
    expect(lr.ports.get("ovn-cluster-subnet1")!.networks.toArray()).toEqual(["172.17.0.2/16"]);
    expect(net.switches.get("subnet1")!.ports.get("subnet1-ovn-cluster")!.type).toBe("router");
    expect(net.switches.get("subnet1")!.ports.get("web-1.underlay")!.addresses.first()).toMatch(/ 172\.17\.0\.3$/);
  });

  it("adds the u2o_exclude_ip address sets and the 29400 / 31000 / 29000 policies of §1.4", () => {
    const as = net.addressSets.get("subnet1.u2o_exclude_ip.ip4")!;
    expect(as.addresses.toArray()).toEqual(["192.168.0.11", "192.168.0.12"]);
    expect(net.addressSets.get("subnet1.u2o_exclude_ip.ip6")!.addresses.size).toBe(0);
    const p = policies(net);
    expect(p).toContain("29400 ip4.dst == 172.17.0.0/16 allow");
    expect(p).toContain("31000 ip4.dst == $subnet1.u2o_exclude_ip.ip4 && ip4.src == 172.17.0.0/16 reroute 172.17.0.1");
    expect(p).toContain("29000 ip4.src == 172.17.0.0/16 reroute 172.17.0.1");
    expect(p).not.toContain("31000 ip4.dst == 172.17.0.0/16 allow");
    for (const x of lr.policies.filter((q) => q.match.includes("172.17.0.0/16"))) expect(ext(x.externalIds)).toEqual({ subnet: "subnet1", isU2ORoutePolicy: "true", vendor: "kube-ovn" });
    expect(lr.options.has("always_learn_from_arp_request")).toBe(false);
    expect(net.portGroups.keySeq().filter((k) => k.startsWith("subnet1.")).toArray()).toEqual([]); // LBs on: no U2O port groups
    expect(net.portGroups.get("node.node1")!.ports.toArray()).toEqual(["web-1.underlay", "db-1.underlay", "client-1.default"]);
    expect(net.staticMacBindings.size).toBe(0);
  });

  it("ovnsim trace: underlay ↔ overlay pods go through the router", async () => {
    const u2oMac = lr.ports.get("ovn-cluster-subnet1")!.mac;
    const a = await traceJson(dir, "pod/underlay/web-1", "pod/default/client-2", "--tcp", "80");
    expect(a.outputs.map((o) => o.port)).toEqual(["client-2.default"]);
    expect(a.outputs[0]!.packet["ip.ttl"]).toBe(63);
    const b = await traceJson(dir, "pod/default/client-1", "pod/underlay/db-2", "--tcp", "5432");
    expect(b.outputs.map((o) => o.port)).toEqual(["db-2.underlay"]);
    expect(b.outputs[0]!.packet["eth.src"]).toBe(u2oMac);
    expect(b.hops.some((h) => h.stage === "lr_in_policy" && h.match === "ip4.dst == 172.17.0.0/16")).toBe(true);
  });

  it("ovnsim trace: the outside and the nodes are reached through the physical gateway", async () => {
    const gwMac = net.providerNetworks.get("net1")!.gateways.first()!.mac;
    for (const to of ["8.8.8.8", "node/node2"]) {
      const t = await traceJson(dir, "pod/underlay/web-1", to, "--tcp", "80");
      expect(t.outputs.map((o) => o.port), to).toEqual(["localnet.subnet1"]);
      expect(t.outputs[0]!.packet["eth.dst"], to).toBe(gwMac);
      expect(t.outputs[0]!.packet["eth.src"], to).toBe(lr.ports.get("ovn-cluster-subnet1")!.mac);
    }
  });
});

const NODES = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 192.168.0.12}]}
`;
const PN = `apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: net1}
spec: {defaultInterface: eth1}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: vlan1}
spec: {id: 100, provider: net1}
`;

describe("U2O cases without a docs scenario", () => {
  it("in a custom VPC: 31000 allow, 29000 reroute and the src-ip static route, no 29400 and no exclusion reroute (§6.3, §7)", () => {
    const net = loadText(`${NODES}---\n${PN}---
apiVersion: kubeovn.io/v1
kind: Vpc
metadata: {name: vpc1}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: u1}
spec: {vpc: vpc1, cidrBlock: 10.100.0.0/24, gateway: 10.100.0.1, vlan: vlan1, u2oInterconnection: true, u2oInterconnectionIP: 10.100.0.254}
`).network;
    const lr = net.routers.get("vpc1")!;
    expect(lr.ports.get("vpc1-u1")!.networks.toArray()).toEqual(["10.100.0.254/24"]);
    expect(policies(net, "vpc1")).toEqual(["31000 ip4.dst == 10.100.0.0/24 allow", "29000 ip4.src == 10.100.0.0/24 reroute 10.100.0.1"]);
    expect(lr.staticRoutes.map((r) => `${r.policy} ${r.ipPrefix} ${r.nexthop}`).toArray()).toEqual(["src-ip 10.100.0.0/24 10.100.0.1"]);
    expect(net.addressSets.has("u1.u2o_exclude_ip.ip4")).toBe(true);
    expect(net.switches.get("u1")!.ports.get("localnet.u1")!.tag).toBe(100);
    expect(lr.options.has("always_learn_from_arp_request")).toBe(false);
  });

  it("with enableLb false: per-node port groups and 29400 reroutes of service traffic to the node (§6.3)", () => {
    const net = loadText(`${NODES}---\n${PN}---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: u-1}
spec: {cidrBlock: 10.100.0.0/24, vlan: vlan1, u2oInterconnection: true, enableLb: false, namespaces: [u]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: u}
spec: {nodeName: n2}
`).network;
    const pg = net.portGroups.get("u.1.n2")!;
    expect(pg.ports.toArray()).toEqual(["p.u"]);
    expect(ext(pg.externalIds)).toEqual({ lr: "ovn-cluster", ls: "u-1", u2o: "true" });
    expect(net.portGroups.get("u.1.n1")!.ports.size).toBe(0);
    const rows = net.routers.get("ovn-cluster")!.policies.filter((p) => p.externalIds.get("isU2ONoLBRoutePolicy") === "true");
    expect(rows.map((p) => `${p.priority} ${p.match} ${p.action} ${p.nexthops.join()}`).toArray()).toEqual([
      "29400 ip4.src == $u.1.n1_ip4 && ip4.dst == 10.96.0.0/12 reroute 100.64.0.2",
      "29400 ip4.src == $u.1.n2_ip4 && ip4.dst == 10.96.0.0/12 reroute 100.64.0.3",
    ]);
    expect(ext(rows.get(1)!.externalIds)).toEqual({ subnet: "u-1", isU2ORoutePolicy: "true", vendor: "kube-ovn", isU2ONoLBRoutePolicy: "true", node: "n2" });
    expect(net.addressSets.get("u.1.u2o_exclude_ip.ip4")!.addresses.toArray()).toEqual(["192.168.0.11", "192.168.0.12"]);
    expect(net.switches.get("u-1")!.loadBalancers.size).toBe(0);
  });
});

describe("the vlan-mode install (NETWORK_TYPE=vlan, §1.1, §6.2)", () => {
  const install = (extra: string): string => `apiVersion: ovnsim.io/v1
kind: InstallConfig
metadata: {name: install}
spec: {NETWORK_TYPE: vlan, VLAN_INTERFACE_NAME: eth1, VLAN_ID: "100"${extra}}
---
${NODES}`;

  it("puts ovn-default on ProviderNetwork provider / Vlan ovn-vlan; join stays overlay", () => {
    const net = loadText(install("")).network;
    const ln = net.switches.get("ovn-default")!.ports.get("localnet.ovn-default")!;
    expect(ext(ln.options)).toEqual({ network_name: "provider" });
    expect(ln.tag).toBe(100);
    expect(net.switches.get("ovn-default")!.ports.has("ovn-default-ovn-cluster")).toBe(false);
    expect(net.routers.get("ovn-cluster")!.ports.keySeq().toArray()).toEqual(["ovn-cluster-join"]);
    expect(policies(net).filter((p) => p.includes("10.16."))).toEqual([]);
    expect(ext(net.chassis.get("n1")!.bridgeMappings)).toEqual({ provider: "br-provider" });
    expect(ext(net.chassis.get("n1")!.nics)).toEqual({ "br-provider": "eth1" });
    expect(net.providerNetworks.get("provider")!.gateways.map((g) => `${g.vlan} ${g.address}`).toArray()).toEqual(["100 10.16.0.1/16"]);
  });

  it("takes LOGICAL_GATEWAY / U2O_INTERCONNECTION / EXCHANGE_LINK_NAME from the settings", () => {
    const u2o = loadText(install(", U2O_INTERCONNECTION: \"true\", EXCHANGE_LINK_NAME: \"true\"")).network;
    expect(u2o.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.networks.toArray()).toEqual(["10.16.0.2/16"]);
    expect(policies(u2o)).toContain("29000 ip4.src == 10.16.0.0/16 reroute 10.16.0.1");
    expect(ext(u2o.chassis.get("n2")!.bridgeMappings)).toEqual({ provider: "eth1" });
    expect(ext(u2o.chassis.get("n2")!.nics)).toEqual({ eth1: "br-provider" });
    const lg = loadText(install(", LOGICAL_GATEWAY: \"true\"")).network;
    expect(lg.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.networks.toArray()).toEqual(["10.16.0.1/16"]);
    expect(policies(lg)).toContain("31000 ip4.dst == 10.16.0.0/16 allow");
  });

  it("a ProviderNetwork given as a manifest replaces the implicit one", () => {
    const net = loadText(`${install("")}---
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: provider}
spec: {defaultInterface: bond0, excludeNodes: [n2]}
`).network;
    expect(ext(net.chassis.get("n1")!.nics)).toEqual({ "br-provider": "bond0" });
    expect(net.chassis.get("n2")!.bridgeMappings.size).toBe(0);
  });
});

describe("invalid underlay manifests name the resource and exit 2", () => {
  const cases: [string, string, RegExp][] = [
    ["ProviderNetwork name longer than 12", `apiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: provider-net1}\nspec: {defaultInterface: eth1}\n`, /ProviderNetwork\/provider-net1: the name is 13 characters long; Kube-OVN allows at most 12/],
    ["ProviderNetwork without defaultInterface", `apiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: net1}\nspec: {}\n`, /ProviderNetwork\/net1: spec\.defaultInterface "": expected the NIC/],
    ["Vlan naming a missing provider", `apiVersion: kubeovn.io/v1\nkind: Vlan\nmetadata: {name: vlan1}\nspec: {id: 0, provider: net1}\n`, /Vlan\/vlan1: spec\.provider net1: no ProviderNetwork of that name/],
    ["Vlan id outside 0..4095", `${PN}---\napiVersion: kubeovn.io/v1\nkind: Vlan\nmetadata: {name: vlan2}\nspec: {id: 4096, provider: net1}\n`, /Vlan\/vlan2: spec\.id 4096: expected a VLAN id in 0\.\.4095/],
    ["Subnet naming a missing Vlan", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 172.17.0.0/16, vlan: vlan9}\n`, /Subnet\/s1: vlan vlan9: no Vlan of that name/],
    [
      "logicalGateway with u2oInterconnection",
      `${PN}---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 172.17.0.0/16, vlan: vlan1, logicalGateway: true, u2oInterconnection: true}\n`,
      /Subnet\/s1: logicalGateway and u2oInterconnection cannot both be true/,
    ],
    [
      "u2oInterconnectionIP outside the subnet",
      `${PN}---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 172.17.0.0/16, vlan: vlan1, u2oInterconnection: true, u2oInterconnectionIP: 172.18.0.9}\n`,
      /Subnet\/s1: u2oInterconnectionIP 172\.18\.0\.9 is outside cidrBlock 172\.17\.0\.0\/16/,
    ],
    ["vlan install without a NIC", `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: i}\nspec: {NETWORK_TYPE: vlan}\n`, /InstallConfig\/i: NETWORK_TYPE vlan needs VLAN_INTERFACE_NAME/],
  ];
  it.each(cases)("%s", (_name, doc, re) => {
    const r = loadNetworkText(`${NODES}---\n${doc}`, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs.filter((m) => re.test(m)), msgs.join("\n")).toHaveLength(1);
    expect(r.diags.every((d) => d.loc?.file === "m.yaml" && d.loc.line > 10)).toBe(true);
  });

  it("through the CLI: one line per problem with file:line:col, exit 2", async () => {
    const dir = join(ROOT, "fixtures/kube/underlay-invalid");
    const r = await cli(["flows", dir]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/10-bad\.yaml:1:1: .*ProviderNetwork\/physical-net1: the name is 13 characters long/);
    expect(lines[1]).toMatch(/10-bad\.yaml:6:1: .*Vlan\/vlan1: spec\.provider physical-net2: no ProviderNetwork of that name/);
  });
});
