/**
 * Kube-OVN manifests → OVN objects, against kube-ovn-mapping.md: the worked example of §1.8 (two
 * nodes, one pod each, plus a Service), the endpoints `ovnsim trace` accepts for them, and the
 * errors for invalid manifests (each naming the resource, with its file position, exit 2).
 *
 * Expected values are copied from the mapping doc, not from ovnsim's output.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { loadNetworkFile, loadNetworkText } from "../../src/scenario/index.js";
import { testDir } from "../temp-dir.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = join(ROOT, "fixtures/kube/default-install");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("the default install of kube-ovn-mapping.md §1.8, from manifests", () => {
  const r = loadNetworkFile(DIR);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  const net = r.value.network;

  it("builds router ovn-cluster with the doc's options, ports, route and policy table", () => {
    const lr = net.routers.get("ovn-cluster")!;
    expect(Object.fromEntries(lr.options)).toEqual({ mac_binding_age_threshold: "300", dynamic_neigh_routers: "true", always_learn_from_arp_request: "false" });
    expect(lr.ports.map((p) => p.networks.toArray()).toObject()).toEqual({ "ovn-cluster-join": ["100.64.0.1/16"], "ovn-cluster-ovn-default": ["10.16.0.1/16"] });
    expect(lr.staticRoutes.map((s) => `${s.policy} ${s.ipPrefix} -> ${s.nexthop}`).toArray()).toEqual(["dst-ip 0.0.0.0/0 -> 100.64.0.1"]);
    const policies = lr.policies.map((p) => `${p.priority} ${p.match} ${p.action}${p.nexthops.size ? ` ${p.nexthops.join(",")}` : ""}`).toArray();
    expect(policies).toEqual([
      "31000 ip4.dst == 100.64.0.0/16 allow",
      "31000 ip4.dst == 10.16.0.0/16 allow",
      "30000 ip4.dst == 192.168.0.11 reroute 100.64.0.2",
      "30000 ip4.dst == 192.168.0.12 reroute 100.64.0.3",
      "29000 ip4.src == $ovn.default.n.1_ip4 reroute 100.64.0.2",
      "29000 ip4.src == $ovn.default.n.2_ip4 reroute 100.64.0.3",
    ]);
    for (const p of lr.policies) expect(p.externalIds.get("vendor")).toBe("kube-ovn");
  });

  it("builds join with the node ports and ovn-default with the pods and the six cluster LBs", () => {
    const join = net.switches.get("join")!;
    expect(join.ports.keySeq().toArray()).toEqual(["join-ovn-cluster", "node-n-1", "node-n-2"]);
    expect(join.ports.get("join-ovn-cluster")!.options.get("router-port")).toBe("ovn-cluster-join");
    expect(join.ports.get("node-n-1")!.addresses.first()).toMatch(/^[0-9a-f:]{17} 100\.64\.0\.2$/);
    expect(join.ports.get("node-n-2")!.addresses.first()).toMatch(/ 100\.64\.0\.3$/);
    expect(join.loadBalancers.size).toBe(0);
    const def = net.switches.get("ovn-default")!;
    expect(def.ports.keySeq().toArray()).toEqual(["ovn-default-ovn-cluster", "a.default", "b.default"]);
    expect(def.ports.get("a.default")!.addresses.first()).toMatch(/ 10\.16\.0\.2$/);
    expect(def.ports.get("b.default")!.addresses.first()).toMatch(/ 10\.16\.0\.3$/);
    expect(def.ports.get("a.default")!.chassis).toBe("n-1");
    expect(Object.fromEntries(def.ports.get("a.default")!.externalIds)).toEqual({ pod: "default/a", ls: "ovn-default", vendor: "kube-ovn" });
    expect(def.loadBalancers.toArray().sort()).toEqual(
      ["cluster-tcp-loadbalancer", "cluster-udp-loadbalancer", "cluster-sctp-loadbalancer", "cluster-tcp-session-loadbalancer", "cluster-udp-session-loadbalancer", "cluster-sctp-session-loadbalancer"].sort(),
    );
    // MACs: locally administered unicast, all distinct.
    const macs = [...net.switches.values()].flatMap((ls) => ls.ports.valueSeq().toArray()).flatMap((p) => p.addresses.toArray()).map((a) => a.split(" ")[0]!).filter((m) => m !== "router");
    for (const m of macs) expect(parseInt(m.slice(0, 2), 16) & 0x03).toBe(0x02);
    expect(new Set(macs).size).toBe(macs.length);
  });

  it("builds the doc's port groups", () => {
    const pg = (n: string): string[] => net.portGroups.get(n)?.ports.toArray() ?? [];
    expect(pg("ovn.default.n.1")).toEqual(["a.default"]);
    expect(pg("ovn.default.n.2")).toEqual(["b.default"]);
    expect(pg("node.n.1")).toEqual(["a.default"]);
    expect(pg("node.n.2")).toEqual(["b.default"]);
    expect(net.portGroups.get("node.n.1")!.acls.size).toBe(0); // no ACLs while no NetworkPolicy exists
  });

  it("programs the Service's ClusterIP with the selected pods' named target port", () => {
    const lb = net.loadBalancers.get("cluster-tcp-loadbalancer")!;
    expect(lb.vips.get("10.96.0.100:80")?.toArray()).toEqual(["10.16.0.2:8080", "10.16.0.3:8080"]);
    expect(net.loadBalancers.get("cluster-tcp-session-loadbalancer")!.selectionFields.toArray()).toEqual(["ip_src"]);
  });

  it("makes a chassis per node with the tunnel type on the InternalIP", () => {
    expect(net.chassis.map((c) => c.encaps.map((e) => `${e.type} ${e.ip}`).join()).toObject()).toEqual({ "n-1": "geneve 192.168.0.11", "n-2": "geneve 192.168.0.12" });
  });

  it("ovnsim trace takes pod/, svc/ and node/ names", async () => {
    // A service destination starts a new connection unless --ct says otherwise.
    const svc = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "svc/default/web", "--minimal", "--lb-dst", "10.16.0.3:8080"]);
    expect(svc.code, svc.err).toBe(0);
    expect(svc.out).toContain('output("b.default")');
    expect(svc.out).toMatch(/Geneve 192\.168\.0\.11 -> 192\.168\.0\.12/);
    const node = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "node/n-2", "--tcp", "10250", "--minimal"]);
    expect(node.code, node.err).toBe(0);
    expect(node.out).toContain('output("node-n-2")');
    const out = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "8.8.8.8", "--tcp", "443", "--minimal"]);
    expect(out.out).toContain('output("node-n-1")');
    const bad = await cli(["trace", DIR, "--from", "pod/default/zz", "--to", "8.8.8.8"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/pod\/default\/zz: no such pod/);
  });
});

describe("invalid manifests name the resource and exit 2", () => {
  const base = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
`;
  const cases: [string, string, RegExp][] = [
    ["unknown kind", `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n`, /Deployment\/web: unknown kind Deployment of apiVersion apps\/v1/],
    ["wrong version", `apiVersion: kubeovn.io/v2\nkind: Subnet\nmetadata: {name: s}\nspec: {cidrBlock: 10.1.0.0/24}\n`, /Subnet\/s: kind Subnet is kubeovn.io\/v1, not kubeovn.io\/v2/],
    [
      "overlapping subnets",
      `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/16}\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s2}\nspec: {cidrBlock: 10.1.2.0/24}\n`,
      /Subnet\/s2: cidrBlock 10\.1\.2\.0\/24 overlaps Subnet\/s1's 10\.1\.0\.0\/16 in VPC ovn-cluster/,
    ],
    ["gateway outside", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, gateway: 10.2.0.1}\n`, /Subnet\/s1: gateway 10\.2\.0\.1 is outside cidrBlock 10\.1\.0\.0\/24/],
    [
      "pinned IP in excludeIps",
      `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, excludeIps: [10.1.0.2..10.1.0.9], namespaces: [ns1]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: 10.1.0.5}}\nspec: {nodeName: n1}\n`,
      /Pod\/ns1\/p: ip_address 10\.1\.0\.5 is in Subnet\/s1's excludeIps/,
    ],
    [
      "pinned IP outside its subnet",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, annotations: {ovn.kubernetes.io/ip_address: 10.99.0.5}}\nspec: {nodeName: n1}\n`,
      /Pod\/default\/p: ip_address 10\.99\.0\.5 is outside subnet ovn-default \(10\.16\.0\.0\/16\)/,
    ],
    ["a gatewayType typo", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, gatewayType: centralised, gatewayNode: n1}\n`, /^m\.yaml:\d+:1: Subnet\/s1: gatewayType "centralised": expected distributed or centralized$/],
    ["a protocol Kube-OVN does not know", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, protocol: ipv4}\n`, /^m\.yaml:\d+:1: Subnet\/s1: protocol "ipv4": expected IPv4, IPv6 or Dual$/],
    ["a boolean written as a string", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, private: "true"}\n`, /^m\.yaml:\d+:1: Subnet\/s1: spec\.private "true": expected a boolean$/],
    ["a list entry that is no string", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, excludeIps: [10.1.0.5, 7]}\n`, /^m\.yaml:\d+:1: Subnet\/s1: spec\.excludeIps \["10\.1\.0\.5",7\]: expected a list of strings$/],
    ["a VPC name that is a number", `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/24, vpc: 12}\n`, /^m\.yaml:\d+:1: Subnet\/s1: spec\.vpc 12: expected a string \(quote it: "12"\)$/],
    ["an EIP address written as a number", `apiVersion: kubeovn.io/v1\nkind: IptablesEIP\nmetadata: {name: e1}\nspec: {v4ip: 3232235620, natGwDp: gw1}\n`, /^m\.yaml:\d+:1: IptablesEIP\/e1: spec\.v4ip 3232235620: expected a string \(quote it: "3232235620"\)$/],
    ["a DNAT port unquoted", `apiVersion: kubeovn.io/v1\nkind: IptablesDnatRule\nmetadata: {name: d1}\nspec: {eip: e1, externalPort: 8080, internalIp: 10.0.1.2, internalPort: "80", protocol: tcp}\n`, /^m\.yaml:\d+:1: IptablesDnatRule\/d1: spec\.externalPort 8080: expected a string \(quote it: "8080"\)$/],
    ["an OvnEip type that is a number", `apiVersion: kubeovn.io/v1\nkind: OvnEip\nmetadata: {name: e1}\nspec: {type: 1}\n`, /^m\.yaml:\d+:1: OvnEip\/e1: spec\.type 1: expected a string \(quote it: "1"\)$/],
    ["a NAT gateway selector entry that is no string", `apiVersion: kubeovn.io/v1\nkind: VpcNatGateway\nmetadata: {name: gw1}\nspec: {vpc: v1, subnet: s1, lanIp: 10.0.1.254, selector: [42], externalSubnets: [ovn-vpc-external-network]}\n`, /^m\.yaml:\d+:1: VpcNatGateway\/gw1: spec\.selector \[42\]: expected a list of strings$/],
    ["a Vpc's namespaces entry that is no string", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {namespaces: [42]}\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec\.namespaces \[42\]: expected a list of strings$/],
    ["a provider network's excludeNodes as one name", `apiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: pn1}\nspec: {defaultInterface: eth1, excludeNodes: n1}\n`, /^m\.yaml:\d+:1: ProviderNetwork\/pn1: spec\.excludeNodes "n1": expected a list of strings$/],
    ["a custom interface's nodes entry that is no string", `apiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: pn1}\nspec: {defaultInterface: eth1, customInterfaces: [{interface: eth2, nodes: [42]}]}\n`, /^m\.yaml:\d+:1: ProviderNetwork\/pn1: spec\.customInterfaces\[0\]\.nodes \[42\]: expected a list of strings$/],
    ["custom interfaces that are no mappings", `apiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: pn1}\nspec: {defaultInterface: eth1, customInterfaces: [eth2]}\n`, /^m\.yaml:\d+:1: ProviderNetwork\/pn1: spec\.customInterfaces \["eth2"\]: expected a list of mappings$/],
    ["a node address that is a number", `apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.12}, {type: InternalIP, address: 12345}]}\n`, /^m\.yaml:\d+:1: Node\/n2: status\.addresses\[1\]\.address 12345: expected a string$/],
    ["an InternalIP that is no address", `apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.12}, {type: InternalIP, address: "fd00::zz"}]}\n`, /^m\.yaml:\d+:1: Node\/n2: status\.addresses\[1\]\.address "fd00::zz": expected an IPv4 or IPv6 address \(an InternalIP\)$/],
    ["a node address type that is a number", `apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: 7, address: 192.168.0.12}]}\n`, /^m\.yaml:\d+:1: Node\/n2: status\.addresses\[0\]\.type 7: expected a string \(InternalIP, ExternalIP, Hostname, \.\.\.\)$/],
    ["an alias without its anchor", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: *n1}\n`, /^m\.yaml:9:18: the alias \*n1 names no anchor \(&n1 must come before it\)$/],
    [
      "an alias bomb",
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n`,
      /^m\.yaml:6:1: the document's aliases expand to more than 1000 nodes; expected manifests, not a YAML alias bomb$/,
    ],
    ["a mapping key that is a collection", `apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {{app: web}: x}}\nspec: {nodeName: n1}\n`, /^m\.yaml:8:30: a mapping key that is a collection; expected a name$/],
    ["a spec that is no mapping", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: [1]\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec \[1\]: expected a mapping$/],
    [
      "a Service's ClusterIP, port and protocol",
      `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.300, ports: [{port: "80", protocol: tcp, targetPort: 0}]}\n`,
      /^m\.yaml:\d+:1: Service\/default\/web: spec\.clusterIP "10\.96\.0\.300": expected an IPv4 or IPv6 address, or None$/,
    ],
    ["a Service port name that is a number", `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.3, ports: [{name: 8080, port: 8080}]}\n`, /^m\.yaml:\d+:1: Service\/default\/web: spec\.ports\[0\]\.name 8080: expected a string$/],
    ["a Service port as text", `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.3, ports: [{port: "80"}]}\n`, /^m\.yaml:\d+:1: Service\/default\/web: spec\.ports\[0\]\.port "80": expected a whole number from 1 to 65535$/],
    ["a Service protocol in lower case", `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.3, ports: [{port: 80, protocol: tcp}]}\n`, /^m\.yaml:\d+:1: Service\/default\/web: spec\.ports\[0\]\.protocol "tcp": expected TCP, UDP or SCTP$/],
    ["a Service selector value that is a number", `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.3, selector: {tier: 2}, ports: [{port: 80}]}\n`, /^m\.yaml:\d+:1: Service\/default\/web: spec\.selector\.tier 2: expected a string \(quote it: "2"\)$/],
    ["a Service targetPort 0", `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.3, ports: [{port: 80, targetPort: 0}]}\n`, /^m\.yaml:\d+:1: Service\/default\/web: spec\.ports\[0\]\.targetPort 0: expected a whole number from 1 to 65535, or a port name$/],
    ["an Endpoints address", `apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets: [{addresses: [{ip: 10.16.0.9}, {ip: pod-a}], ports: [{port: 8080}]}]\n`, /^m\.yaml:\d+:1: Endpoints\/default\/web: subsets\[0\]\.addresses\[1\] "pod-a": expected an IPv4 or IPv6 address$/],
    ["an EndpointSlice address", `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints: [{addresses: [10.16.0.300]}]\nports: [{name: p}]\n`, /^m\.yaml:\d+:1: EndpointSlice\/default\/web-1: endpoints\[0\]\.addresses\[0\] "10\.16\.0\.300": expected an IPv4 or IPv6 address$/],
    [
      "a Vpc's routes",
      `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec:\n  staticRoutes: [{cidr: 10.0.0.0/8, nextHopIP: 10.0.0.254, policy: policyDst}, {cidr: 10.0.0.0/33, nextHopIP: 1.2.3, policy: policyDstt}]\n`,
      /^m\.yaml:\d+:1: Vpc\/v1: spec\.staticRoutes\[1\]\.cidr "10\.0\.0\.0\/33": expected an IP prefix or address$/,
    ],
    ["a Vpc static route's policy", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {staticRoutes: [{cidr: 10.0.0.0/8, nextHopIP: 10.0.0.254, policy: policyDstt}]}\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec\.staticRoutes\[0\]\.policy "policyDstt": expected policyDst or policySrc$/],
    ["a Vpc policy route's action", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {policyRoutes: [{priority: 100, match: ip4.dst == 1.1.1.1, action: rerout, nextHopIP: 10.0.0.254}]}\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec\.policyRoutes\[0\]\.action "rerout": expected allow, drop or reroute$/],
    ["a Vpc policy route's priority", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {policyRoutes: [{priority: "100", match: ip4.dst == 1.1.1.1, action: drop}]}\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec\.policyRoutes\[0\]\.priority "100": expected a whole number from 0 to 32767$/],
    ["a Vpc reroute without a next hop", `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {policyRoutes: [{priority: 100, match: ip4.dst == 1.1.1.1, action: reroute}]}\n`, /^m\.yaml:\d+:1: Vpc\/v1: spec\.policyRoutes\[0\]\.nextHopIP null: a reroute needs next hop addresses \(comma-separated\)$/],
    ["an annotation that is a number", `apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {ovn.kubernetes.io/ip_address: 12345}}\nspec: {nodeName: n1}\n`, /^m\.yaml:\d+:1: Pod\/default\/p: metadata\.annotations\.ovn\.kubernetes\.io\/ip_address 12345: expected a string \(quote it: "12345"\)$/],
    ["a label that is a boolean", `apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {canary: true}}\nspec: {nodeName: n1}\n`, /^m\.yaml:\d+:1: Pod\/default\/p: metadata\.labels\.canary true: expected a string \(quote it: "true"\)$/],
    ["a Pod's nodeName that is a number", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: 7}\n`, /^m\.yaml:\d+:1: Pod\/default\/p: spec\.nodeName 7: expected a string$/],
    ["a Pod's hostNetwork as text", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: n1, hostNetwork: "yes"}\n`, /^m\.yaml:\d+:1: Pod\/default\/p: spec\.hostNetwork "yes": expected a boolean$/],
    [
      "a Pod's containerPort as text",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 80}, {name: api, containerPort: "eighty"}]}]}\n`,
      /^m\.yaml:\d+:1: Pod\/default\/p: spec\.containers\[0\]\.ports\[1\]\.containerPort "eighty": expected a whole number from 1 to 65535$/,
    ],
    ["a Pod's container port protocol", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 53, protocol: dns}]}]}\n`, /^m\.yaml:\d+:1: Pod\/default\/p: spec\.containers\[0\]\.ports\[0\]\.protocol "dns": expected TCP, UDP or SCTP$/],
    ["a switch setting that is neither true nor false", `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: install}\nspec: {ENABLE_LB: "yes"}\n`, /^m\.yaml:\d+:1: InstallConfig\/install: ENABLE_LB "yes": expected "true" or "false"$/],
    [
      "an attachment subnet's field of another type",
      `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: ext}\nspec: {cidrBlock: 192.168.0.0/24, provider: ovn-vpc-external-network.kube-system, excludeIps: [192.168.0.1, 2]}\n`,
      /^m\.yaml:\d+:1: Subnet\/ext: spec\.excludeIps \["192\.168\.0\.1",2\]: expected a list of strings$/,
    ],
    ["twice the same pod", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n`, /Pod\/default\/p: defined twice \(first at m\.yaml:\d+:1\)/],
  ];
  it.each(cases)("%s", (_name, doc, re) => {
    const r = loadNetworkText(`${base}---\n${doc}`, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs.some((m) => re.test(m)), msgs.join("\n")).toBe(true);
    expect(r.diags.every((d) => d.loc?.file === "m.yaml" && d.loc.line > 1)).toBe(true);
  });

  it("through the CLI: one line per problem, exit 2", async () => {
    const dir = testDir("kube");
    const f = join(dir, "bad.yaml");
    writeFileSync(f, `${base}---\n${cases[0]![1]}---\n${cases[3]![1]}`);
    const r = await cli(["flows", f]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/bad\.yaml:6:1: .*Deployment\/web: unknown kind/);
    expect(lines[1]).toMatch(/bad\.yaml:\d+:1: .*Subnet\/s1: gateway 10\.2\.0\.1 is outside/);
  });
});

describe("warnings go with the network: the load succeeds and the CLI prints them", () => {
  const node = `apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.11}]}\n`;
  const pod = (name: string, port = "http"): string => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: web}}\nspec: {nodeName: n1, containers: [{name: c, ports: [{name: ${port}, containerPort: 8080}]}]}\n`;
  const svc = (spec: string): string => `---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.20, ${spec}}\n`;
  const warnings = (text: string): string[] => {
    const r = loadNetworkText(text, "m.yaml");
    expect(r.ok, r.ok ? "" : r.diags.map((d) => d.message).join("\n")).toBe(true);
    return r.ok ? (r.value.warnings ?? []).map((w) => `${w.loc?.line}: ${w.message}`) : [];
  };
  const vips = (text: string): string[] => {
    const r = loadNetworkText(text, "m.yaml");
    return r.ok ? r.value.network.loadBalancers.valueSeq().flatMap((lb) => lb.vips.keySeq()).toArray() : [];
  };

  it("a Service port without backends says why it gets no VIP", () => {
    const cases: [string, string][] = [
      [svc('selector: {app: web}, ports: [{name: http, port: 80, targetPort: htp}]') + pod("a") + pod("b"), 'Service/default/web: port http (80/TCP) has no backends, so it gets no load-balancer VIP: targetPort "htp" names no container port of the 2 pod(s) its selector picks'],
      [svc("selector: {app: db}, ports: [{port: 5432}]") + pod("a"), "Service/default/web: port (5432/TCP) has no backends, so it gets no load-balancer VIP: its selector (app=db) picks no pod of namespace default"],
      [svc("ports: [{port: 53, protocol: UDP}]"), "Service/default/web: port (53/UDP) has no backends, so it gets no load-balancer VIP: the Service has no selector, and no Endpoints or EndpointSlices are given"],
      [svc("ports: [{port: 80}]") + `---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets: []\n`, "Service/default/web: port (80/TCP) has no backends, so it gets no load-balancer VIP: Endpoints default/web list no address for it"],
    ];
    for (const [docs, msg] of cases) {
      expect(warnings(node + docs)).toEqual([`6: ${msg}`]);
      expect(vips(node + docs)).toEqual([]);
    }
    // With a backend: no warning, and the VIP.
    const good = node + svc('selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]') + pod("a");
    expect(warnings(good)).toEqual([]);
    expect(vips(good)).toEqual(["10.96.0.20:80"]);
  });

  it("a NetworkPolicy's named port that no pod has is a warning, not a failed load", async () => {
    const text = `${node}${pod("a")}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{protocol: TCP, port: htp}]}]\n`;
    expect(warnings(text)).toEqual(['11: NetworkPolicy/default/np: no pod of namespace default has a container port named "htp"; port 0 is used, which matches nothing']);
    const f = join(testDir("warn"), "m.yaml");
    writeFileSync(f, text);
    const r = await cli(["flows", f, "--datapath", "ovn-default"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Datapath: "ovn-default"/);
    expect(r.err).toMatch(/^ovnsim: .*m\.yaml:11:1: warning: NetworkPolicy\/default\/np: no pod of namespace default has a container port named "htp"/);
  });
});

describe("a NetworkPolicy from manifests lets through exactly what it names", () => {
  const dir = join(ROOT, "fixtures/kube/network-policy");
  const trace = (from: string, port: number) => cli(["trace", dir, "--from", `pod/shop/${from}`, "--to", "pod/shop/web", "--tcp", String(port), "--json", "--ct", "new", "--ct", "new", "--ct", "new"]);
  it("builds the policy's port group and ACLs with the doc's names and priorities", () => {
    const r = loadNetworkFile(dir);
    if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
    const pg = r.value.network.portGroups.get("web.allow.client.shop")!;
    expect(pg.ports.toArray()).toEqual(["web.shop"]);
    const rows = pg.acls.map((a) => `${a.direction} ${a.priority} ${a.action} ${a.match}`).toArray();
    expect(rows).toContain("to-lport 2000 drop outport == @web.allow.client.shop && ip");
    expect(rows.some((x) => x.startsWith("to-lport 2001 allow-related outport == @web.allow.client.shop && ip && ip4.src == $web.allow.client.shop.ingress.allow.IPv4.0") && x.endsWith("&& tcp.dst == 8080"))).toBe(true);
    // With a policy in the cluster, each node's port group allows its own node.
    expect(r.value.network.portGroups.get("node.n.1")!.acls.map((a) => `${a.priority} ${a.match}`).toArray()).toContain("3000 ip4.src == 192.168.0.11 && ip4.dst == $node.n.1_ip4");
  });
  it("client → web:8080 is delivered; other → web:8080 and client → web:9090 are dropped by the policy", async () => {
    const ok = JSON.parse((await trace("client", 8080)).out) as { verdict: string };
    expect(ok.verdict).toBe("output");
    for (const [from, port] of [["other", 8080], ["client", 9090]] as const) {
      const r = JSON.parse((await trace(from, port)).out) as { verdict: string; drops: { stage: string | null; object: string | null }[] };
      expect(r.verdict).toBe("drop");
      expect(r.drops[0]!.stage).toMatch(/acl/);
      expect(r.drops[0]!.object).toMatch(/web\.allow\.client\.shop/);
    }
  });
});
