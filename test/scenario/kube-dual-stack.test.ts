/**
 * Dual-stack and IPv6 Kube-OVN subnets from manifests (kube-ovn-mapping.md §1.2-1.5, §2.3, §4):
 * the IPv6 allocator (lowest free, excludeIps, pinned, outside, taken, never enumerating a /64),
 * the docs scenario scenarios/kube-ovn/dual-stack (port addresses of both families, router
 * networks, the policy table and routes per family, IPv6 VIPs with IPv6 backends), an IPv6-only
 * subnet, a private dual-stack subnet (its ACLs per family, and packets of both families against
 * real ovn-trace), `ovnsim trace --to` an IPv6 address, and the refusals of what is not mapped for
 * IPv6.
 *
 * Expected values follow the mapping doc and the manifests' comments, not ovnsim's output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SubnetIpam, SubnetIpam6, parseExcludes, parseExcludes6, parseIpv4Cidr, parseIpv6Cidr } from "../../src/scenario/kube/ipam.js";
import { loadNetworkFile, loadNetworkText } from "../../src/scenario/index.js";
import { cli, docsScenarioChecks, friendlyProbe, load } from "./kube-docs-checks.js";
import { disagreementsWithOvn, verdict, type DocProbe } from "./kube-docs-helpers.js";
import { testDir } from "../temp-dir.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = join(ROOT, "scenarios/kube-ovn/dual-stack");

describe("the IPv6 allocator", () => {
  const ipam = (cidr: string, excl: string[] = []): SubnetIpam6 => new SubnetIpam6(parseIpv6Cidr(cidr)!, parseExcludes6(excl).ranges);

  it("hands out the lowest free address after the network address, skipping excludeIps ranges in one step", () => {
    const a = ipam("fd00:10:16::/64", ["fd00:10:16::1", "fd00:10:16::3..fd00:10:16::ffff:ffff:ffff"]);
    const t0 = Date.now();
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(["fd00:10:16::2", "fd00:10:16:0:1::", "fd00:10:16:0:1::1"]);
    expect(Date.now() - t0).toBeLessThan(200); // a /64 is never walked address by address
  });

  it("claims pinned addresses (excluded ones too, as Kube-OVN allows) and reports outside, taken and bad text", () => {
    const a = ipam("fd00:10:66::/120", ["fd00:10:66::2..fd00:10:66::20"]);
    expect(a.excludes("fd00:10:66::10")).toBe(true);
    expect(a.claim("fd00:10:66::10")).toBeUndefined();
    expect(a.claim("fd00:10:66:0::10")).toBe("taken");
    expect(a.claim("fd00:10:67::10")).toBe("outside");
    expect(a.claim("fd00:10:66::ff")).toBe("outside"); // the last address of the /120 is not usable
    expect(a.claim("fd00:10:66::")).toBe("outside");
    expect(a.claim("10.0.0.1")).toBe("bad");
    expect(a.allocate()).toBe("fd00:10:66::1"); // no gateway excluded here
    expect(a.allocate()).toBe("fd00:10:66::21");
  });

  it("runs out at the end of the range", () => {
    const a = ipam("fd00::/126", ["fd00::1"]);
    expect([a.allocate(), a.allocate()]).toEqual(["fd00::2", undefined]);
    const b = ipam("fd00::/127");
    expect([b.allocate(), b.allocate(), b.allocate()]).toEqual(["fd00::", "fd00::1", undefined]);
  });

  it("leaves IPv4 allocation as it was: lowest free, excluded and skipped addresses passed over", () => {
    const a = new SubnetIpam(parseIpv4Cidr("10.1.0.0/29")!, parseExcludes(["10.1.0.1", "10.1.0.3..10.1.0.4"]).ranges, [0x0a010005]);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(["10.1.0.2", "10.1.0.6", undefined]);
    expect(a.claim("10.1.0.7")).toBe("outside");
    expect(a.claim("10.1.0.2")).toBe("taken");
  });
});

describe("scenarios/kube-ovn/dual-stack", () => {
  const r = loadNetworkFile(DIR);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  const net = r.value.network;
  const addr = (ls: string, port: string): string => net.switches.get(ls)!.ports.get(port)!.addresses.first()!.replace(/^\S+ /, "");

  it("gives nodes and pods one address of each family, each family lowest-free on its own", () => {
    expect(addr("join", "node-kube-ovn-control-plane")).toBe("100.64.0.2 fd00:100:64::2");
    expect(addr("join", "node-kube-ovn-worker")).toBe("100.64.0.3 fd00:100:64::3");
    expect(addr("ovn-default", "nginx-a.default")).toBe("10.16.0.2 fd00:10:16::2");
    expect(addr("ovn-default", "client.default")).toBe("10.16.0.4 fd00:10:16::4");
    // Pinned "v4,v6"; then the lowest free of each family, past the excluded IPv6 range.
    expect(addr("apps", "web-1.apps")).toBe("10.66.0.10 fd00:10:66::100");
    expect(addr("apps", "web-2.apps")).toBe("10.66.0.2 fd00:10:66::21");
    expect(addr("tenant-net", "db-1.tenant")).toBe("192.168.10.3 fd00:192:168:10::3");
    expect(r.value.kube!.pods.get("apps/web-2")).toBe("web-2.apps");
  });

  it("gives router ports a network of each family, and switches ipv6_prefix and both gateways in exclude_ips", () => {
    const lr = net.routers.get("ovn-cluster")!;
    expect(lr.ports.map((p) => p.networks.toArray()).toObject()).toEqual({
      "ovn-cluster-join": ["100.64.0.1/16", "fd00:100:64::1/112"],
      "ovn-cluster-ovn-default": ["10.16.0.1/16", "fd00:10:16::1/112"],
      "ovn-cluster-apps": ["10.66.0.1/16", "fd00:10:66::1/64"],
    });
    expect(net.routers.get("vpc1")!.ports.get("vpc1-tenant-net")!.networks.toArray()).toEqual(["192.168.10.1/24", "fd00:192:168:10::1/120"]);
    expect(Object.fromEntries(net.switches.get("apps")!.otherConfig)).toEqual({ subnet: "10.66.0.0/16", ipv6_prefix: "fd00:10:66::", exclude_ips: "10.66.0.1 fd00:10:66::1 fd00:10:66::2..fd00:10:66::20" });
  });

  it("adds the IPv6 rows of the policy table and the ::/0 route in the default VPC, none in vpc1", () => {
    const lr = net.routers.get("ovn-cluster")!;
    expect(lr.staticRoutes.map((s) => `${s.ipPrefix} -> ${s.nexthop}`).toArray()).toEqual(["0.0.0.0/0 -> 100.64.0.1", "::/0 -> fd00:100:64::1"]);
    const rows = lr.policies.map((p) => `${p.priority} ${p.match} ${p.action}${p.nexthops.size ? ` ${p.nexthops.join(",")}` : ""}`).toArray();
    for (const row of [
      "31000 ip6.dst == fd00:100:64::/112 allow",
      "31000 ip6.dst == fd00:10:16::/112 allow",
      "31000 ip6.dst == fd00:10:66::/64 allow",
      "30000 ip6.dst == fc00:f853:ccd:e793::2 reroute fd00:100:64::2",
      "30000 ip6.dst == fc00:f853:ccd:e793::3 reroute fd00:100:64::3",
      "29000 ip6.src == $ovn.default.kube.ovn.worker_ip6 reroute fd00:100:64::3",
      "29000 ip6.src == $apps.kube.ovn.control.plane_ip6 reroute fd00:100:64::2",
      "29000 ip4.src == $apps.kube.ovn.control.plane_ip4 reroute 100.64.0.2",
    ]) {
      expect(rows).toContain(row);
    }
    expect(rows).toHaveLength(6 + 4 + 8);
    const v6node = lr.policies.find((p) => p.match === "ip6.dst == fc00:f853:ccd:e793::2")!;
    expect(Object.fromEntries(v6node.externalIds)).toEqual({ node: "kube-ovn-control-plane", "address-family": "6", vendor: "kube-ovn" });
    const vpc1 = net.routers.get("vpc1")!;
    expect(vpc1.policies.map((p) => p.match).toArray()).toEqual(["ip4.dst == 192.168.10.0/24", "ip6.dst == fd00:192:168:10::/120"]);
    expect(vpc1.staticRoutes.size).toBe(0);
  });

  it("programs the IPv6 ClusterIP as [v6]:port with the pods' IPv6 addresses, on the same balancer", () => {
    const vips = Object.fromEntries([...net.loadBalancers.get("cluster-tcp-loadbalancer")!.vips].map(([k, v]) => [k, v.toArray()]));
    expect(vips).toEqual({ "10.96.0.80:80": ["10.16.0.2:80", "10.16.0.3:80"], "[fd00:10:96::80]:80": ["[fd00:10:16::2]:80", "[fd00:10:16::3]:80"] });
    expect(r.value.kube!.services.get("default/nginx")!.ips).toEqual(["10.96.0.80", "fd00:10:96::80"]);
  });
});

describe("docs scenario dual-stack: golden export, README, and the friendly IPv6 form against real OVN", () => {
  const sc = load(DIR);
  const ct = ["new", "new", "new", "new"];
  docsScenarioChecks("dual-stack", sc, [
    friendlyProbe(sc, "client-to-web-2-ipv6", "pod/default/client", "fd00:10:66::21", 80, ct),
    friendlyProbe(sc, "web-2-to-node-ipv6", "pod/apps/web-2", "fc00:f853:ccd:e793::2", 10250, ct),
    friendlyProbe(sc, "db-0-to-db-1-ipv6", "pod/tenant/db-0", "fd00:192:168:10::3", 5432, ct),
    friendlyProbe(sc, "db-0-out-of-vpc1-ipv6", "pod/tenant/db-0", "fd00:10:16::2", 80, ct),
    friendlyProbe(sc, "client-to-outside-ipv6", "pod/default/client", "2001:db8::1", 443, ct),
    friendlyProbe(sc, "client-to-web-2-ipv4", "pod/default/client", "pod/apps/web-2", 80, ct),
  ]);
});

describe("a NetworkPolicy in the dual-stack scenario", () => {
  const policy = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: apps}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}}]}]
`;
  it("gets the rules of both families, the IPv6 gateway allowance, and each node's IPv6 allowance", () => {
    const files = ["00-install.yaml", "10-nodes.yaml", "20-default.yaml", "30-apps.yaml"].map((f) => readFileSync(join(DIR, f), "utf8"));
    const r = loadNetworkText(`${files.join("---\n")}${policy}`, "np.yaml");
    if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
    const rows = r.value.network.portGroups.get("web.apps")!.acls.map((a) => `${a.direction} ${a.priority} ${a.match}`).toArray();
    expect(rows).toContain("to-lport 2001 outport == @web.apps && ip && ip4.src == $web.apps.ingress.allow.IPv4.0 && ip4.src != $web.apps.ingress.except.IPv4.0");
    expect(rows).toContain("to-lport 2001 outport == @web.apps && ip && ip6.src == $web.apps.ingress.allow.IPv6.0 && ip6.src != $web.apps.ingress.except.IPv6.0");
    expect(rows).toContain("to-lport 2001 ip6.src == fd00:10:66::1");
    const allow6 = r.value.network.addressSets.get("web.apps.ingress.allow.IPv6.0")!.addresses.toArray().sort();
    // The pods of namespace default and its Service's ClusterIP of the family, as for IPv4.
    expect(allow6).toEqual(["fd00:10:16::2", "fd00:10:16::3", "fd00:10:16::4", "fd00:10:96::80"]);
    expect(r.value.network.addressSets.get("web.apps.ingress.allow.IPv4.0")!.addresses.toArray().sort()).toEqual(["10.16.0.2", "10.16.0.3", "10.16.0.4", "10.96.0.80"]);
    const node = r.value.network.portGroups.get("node.kube.ovn.worker")!.acls.map((a) => a.match).toArray();
    expect(node).toContain("ip6.src == fc00:f853:ccd:e793::3 && ip6.dst == $node.kube.ovn.worker_ip6");
  });
});

describe("a centralized dual-stack subnet", () => {
  it("reroutes each family's CIDR to the gateway node's join address of that family", () => {
    const files = ["00-install.yaml", "10-nodes.yaml"].map((f) => readFileSync(join(DIR, f), "utf8"));
    const central = `---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: central}
spec: {cidrBlock: "10.70.0.0/16,fd00:70::/64", gatewayType: centralized, gatewayNode: kube-ovn-worker}
`;
    const r = loadNetworkText(`${files.join("---\n")}${central}`, "c.yaml");
    if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
    const rows = r.value.network.routers.get("ovn-cluster")!.policies.filter((p) => p.priority === 29000 && p.externalIds.get("subnet") === "central");
    expect(rows.map((p) => [p.match, p.nexthops.toArray(), Object.fromEntries(p.externalIds)]).toArray()).toEqual([
      ["ip4.src == 10.70.0.0/16", ["100.64.0.3"], { subnet: "central", "kube-ovn-worker": "100.64.0.3", vendor: "kube-ovn" }],
      ["ip6.src == fd00:70::/64", ["fd00:100:64::3"], { subnet: "central", "kube-ovn-worker": "fd00:100:64::3", vendor: "kube-ovn" }],
    ]);
  });
});

describe("an IPv6-only subnet and Endpoints backends", () => {
  const text = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}, {type: InternalIP, address: "fd00:192::11"}]}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: v6only}
spec: {cidrBlock: "fd00:77:0:0::/64", namespaces: [ns6]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns6}
spec: {nodeName: n1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns6, annotations: {ovn.kubernetes.io/port_security: "true", ovn.kubernetes.io/mac_address: "00:00:00:77:00:03"}}
spec: {nodeName: n1}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns6}
spec: {clusterIPs: ["fd00:96::0:9"], ports: [{name: p, port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: s, namespace: ns6}
subsets: [{addresses: [{ip: "fd00:77::0:2"}, {ip: 10.16.0.9}], ports: [{name: p, port: 5353}]}]
`;
  const r = loadNetworkText(text, "v6.yaml");
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  const net = r.value.network;

  it("gives its pods and router port IPv6 only, and routes it by IPv6 rows alone", () => {
    expect(net.switches.get("v6only")!.ports.get("a.ns6")!.addresses.first()).toMatch(/^\S+ fd00:77::2$/);
    expect(net.routers.get("ovn-cluster")!.ports.get("ovn-cluster-v6only")!.networks.toArray()).toEqual(["fd00:77::1/64"]);
    const rows = net.routers.get("ovn-cluster")!.policies.filter((p) => p.externalIds.get("subnet") === "v6only").map((p) => p.match).toArray();
    expect(rows).toEqual(["ip6.dst == fd00:77::/64"]); // the join has no IPv6: no IPv6 reroute to a node
    expect(Object.fromEntries(net.switches.get("v6only")!.otherConfig)).toEqual({ ipv6_prefix: "fd00:77::", exclude_ips: "fd00:77::1" });
  });

  it("puts the IPv6 address in a pod's port security too", () => {
    const b = net.switches.get("v6only")!.ports.get("b.ns6")!;
    expect(b.addresses.toArray()).toEqual(["00:00:00:77:00:03 fd00:77::3"]);
    expect(b.portSecurity.toArray()).toEqual(["00:00:00:77:00:03 fd00:77::3"]);
  });

  it("takes the Endpoints addresses of the VIP's family, in RFC 5952 form", () => {
    const vips = Object.fromEntries([...net.loadBalancers.get("cluster-udp-loadbalancer")!.vips].map(([k, v]) => [k, v.toArray()]));
    expect(vips).toEqual({ "[fd00:96::9]:53": ["[fd00:77::2]:5353"] });
  });
});

describe("a private dual-stack subnet", () => {
  // The dual-stack docs scenario's install, nodes, default and apps subnets, and a private subnet
  // vault listed IPv6 first that allows apps (both families) and a subnet of neither.
  const files = ["00-install.yaml", "10-nodes.yaml", "20-default.yaml", "30-apps.yaml"].map((f) => readFileSync(join(DIR, f), "utf8"));
  const vault = `---
apiVersion: v1
kind: Namespace
metadata: {name: vault}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: vault}
spec:
  cidrBlock: fd00:10:18::/112,10.18.0.0/24
  namespaces: [vault]
  private: true
  allowSubnets: ["fd00:10:66::/64", 10.66.0.0/16, " ", 172.31.0.0/16]
---
apiVersion: v1
kind: Pod
metadata: {name: vault-0, namespace: vault}
spec: {nodeName: kube-ovn-worker}
---
apiVersion: v1
kind: Pod
metadata: {name: vault-1, namespace: vault}
spec: {nodeName: kube-ovn-control-plane}
`;
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-private6-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "cluster.yaml");
  writeFileSync(file, `${files.join("---\n")}${vault}`);
  const r = loadNetworkFile(file);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  const net = r.value.network;
  const pods = r.value.kube!.pods;
  const ip6 = (pod: string): string => net.switches.flatMap((ls) => ls.ports).get(pods.get(pod)!)!.addresses.first()!.split(" ")[2]!;

  it("gets Kube-OVN's rows: the drop, then per family in cidrBlock order its own subnet, the join CIDR and its allowSubnets", () => {
    const rows = net.switches.get("vault")!.acls.map((a) => `${a.direction} ${a.priority} ${a.action} ${a.match}`).toArray();
    expect(rows).toEqual([
      "to-lport 1000 drop ip",
      "to-lport 1001 allow-related ip6.src == fd00:10:18::/112 && ip6.dst == fd00:10:18::/112",
      "to-lport 3000 allow-related ip6.src == fd00:100:64::/112",
      "to-lport 1001 allow-related (ip6.src == fd00:10:18::/112 && ip6.dst == fd00:10:66::/64) || (ip6.src == fd00:10:66::/64 && ip6.dst == fd00:10:18::/112)",
      "to-lport 1001 allow-related ip4.src == 10.18.0.0/24 && ip4.dst == 10.18.0.0/24",
      "to-lport 3000 allow-related ip4.src == 100.64.0.0/16",
      "to-lport 1001 allow-related (ip4.src == 10.18.0.0/24 && ip4.dst == 10.66.0.0/16) || (ip4.src == 10.66.0.0/16 && ip4.dst == 10.18.0.0/24)",
      "to-lport 1001 allow-related (ip4.src == 10.18.0.0/24 && ip4.dst == 172.31.0.0/16) || (ip4.src == 172.31.0.0/16 && ip4.dst == 10.18.0.0/24)",
    ]);
  });

  it("gives an IPv4-only private subnet no rule for an IPv6 allowSubnets entry", () => {
    const text = `${files.slice(0, 2).join("---\n")}---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: p4}\nspec: {cidrBlock: 10.19.0.0/24, private: true, allowSubnets: ["fd00:10:66::/64"]}\n`;
    const r4 = loadNetworkText(text, "p4.yaml");
    if (!r4.ok) throw new Error(r4.diags.map((d) => d.message).join("\n"));
    expect(r4.value.network.switches.get("p4")!.acls.map((a) => a.match).toArray()).toEqual(["ip", "ip4.src == 10.19.0.0/24 && ip4.dst == 10.19.0.0/24", "ip4.src == 100.64.0.0/16"]);
  });

  /** [from, to (a pod, or a pod's IPv6 address), delivered?, what]. */
  const cases: [string, string, boolean, string][] = [
    ["vault/vault-1", "vault/vault-0", true, "IPv4 from itself"],
    ["apps/web-2", "vault/vault-0", true, "IPv4 from an allowSubnet"],
    ["default/client", "vault/vault-0", false, "IPv4 from another subnet"],
    ["vault/vault-1", "6:vault/vault-0", true, "IPv6 from itself"],
    ["apps/web-2", "6:vault/vault-0", true, "IPv6 from an allowSubnet"],
    ["default/client", "6:vault/vault-0", false, "IPv6 from another subnet"],
    ["vault/vault-0", "6:default/client", false, "IPv6 towards another subnet (the router port is to-lport too)"],
  ];
  const dst = (to: string): string => (to.startsWith("6:") ? ip6(to.slice(2)) : `pod/${to}`);
  it.each(cases)("%s -> %s delivered=%s (%s)", async (from, to, delivered) => {
    const v = await verdict(file, `pod/${from}`, dst(to), ["--tcp", "8200"]);
    if (delivered) {
      expect(v.verdict).toBe("output");
      expect(v.outputs.map((o) => o.port)).toEqual([pods.get(to.replace(/^6:/, ""))]);
    } else {
      expect(v.verdict).toBe("drop");
      expect(v.drops[0]!.object).toMatch(/^switches\[vault\]\.acls/);
    }
  });

  it("real ovn-trace agrees on the same packets", { timeout: 60_000 }, () => {
    const probes: DocProbe[] = cases.map(([from, to], i) => {
      const target = to.replace(/^6:/, "");
      return { name: `${i}-${from}-${to}`.replace(/[/:]/g, "."), from: pods.get(from)!, to: to.startsWith("6:") ? ip6(target) : pods.get(target)!, l4: { tcp: 8200 }, ct: ["new", "new", "new"] };
    });
    expect(disagreementsWithOvn("private-dual-stack", net, probes)).toEqual([]);
  });
});

describe("ovnsim trace --to an IPv6 address", () => {
  it("builds an IPv6 packet from the pod's IPv6 address to its IPv6 gateway, and delivers it", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/default/client", "--to", "fd00:10:66:0::21", "--tcp", "80", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { verdict: string; flow: string; outputs: { port: string; packet: Record<string, unknown> }[] };
    expect(j.verdict).toBe("output");
    const loaded = loadNetworkFile(DIR);
    if (!loaded.ok) throw new Error("dual-stack does not load");
    const gwMac = loaded.value.network.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.mac;
    expect(j.flow).toContain(`dl_dst=${gwMac},ipv6_src=fd00:10:16::4,ipv6_dst=fd00:10:66::21,`);
    expect(j.outputs.map((o) => [o.port, o.packet["ip6.dst"], o.packet["ip.ttl"]])).toEqual([["web-2.apps", "fd00:10:66::21", 63]]);
  });

  // --ipv6: the friendly form's names give their IPv6 addresses (the scenario's README values:
  // service nginx fd00:10:96::80, node kube-ovn-worker fc00:f853:ccd:e793::3, web-2 fd00:10:66::21).
  const flowOf = async (to: string, ...more: string[]): Promise<{ code: number; flow: string; err: string }> => {
    const r = await cli(["trace", DIR, "--from", "pod/default/client", "--to", to, ...more, "--json"]);
    return { code: r.code, err: r.err, flow: r.code === 0 ? (JSON.parse(r.out) as { flow: string }).flow : "" };
  };
  it.each([
    ["svc/default/nginx", [], "nw_dst=10.96.0.80,"],
    ["svc/default/nginx", ["--ipv6"], "ipv6_dst=fd00:10:96::80,"],
    ["node/kube-ovn-worker", ["--tcp", "10250"], "nw_dst=172.18.0.3,"],
    ["node/kube-ovn-worker", ["-6", "--tcp", "10250"], "ipv6_dst=fc00:f853:ccd:e793::3,"],
    ["pod/apps/web-2", ["--tcp", "80"], "nw_dst=10.66.0.2,"],
    ["pod/apps/web-2", ["--ipv6", "--tcp", "80"], "ipv6_src=fd00:10:16::4,ipv6_dst=fd00:10:66::21,"],
  ])("--to %s %j: the packet of the family asked for", async (to, more, want) => {
    const r = await flowOf(to, ...more);
    expect(r.code, r.err).toBe(0);
    expect(r.flow).toContain(want);
  });

  it.each([
    ["10.66.0.2", ["--ipv6"], /^ovnsim: error: --to 10\.66\.0\.2: an IPv4 address, and --ipv6 asks for an IPv6 packet$/],
    ["pod/apps/web-2", ["--ipv6", "--arp"], /^ovnsim: Arguments ipv6 and arp are mutually exclusive$/],
  ])("--to %s %j is a usage error", async (to, more, re) => {
    const r = await flowOf(to, ...more);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")[0]).toMatch(re);
  });

  it("--nd: a Neighbor Solicitation to the target's solicited-node group, answered as real OVN answers it", async () => {
    const r = await flowOf("pod/default/nginx-b", "--nd");
    expect(r.code, r.err).toBe(0);
    // nginx-b is fd00:10:16::3: group ff02::1:ff00:3, MAC 33:33:ff:00:00:03, hop limit 255.
    // The header ends as real ovn-trace's does for it: the ND target and link-layer addresses.
    expect(r.flow).toMatch(/^icmp6,.*dl_dst=33:33:ff:00:00:03,ipv6_src=fd00:10:16::4,ipv6_dst=ff02::1:ff00:3,.*nw_ttl=255,.*icmp_type=135,icmp_code=0,nd_target=fd00:10:16::3,nd_sll=7e:34:6e:be:0a:0e,nd_tll=00:00:00:00:00:00$/);
    const loaded = loadNetworkFile(DIR);
    if (!loaded.ok) throw new Error("dual-stack does not load");
    const net = loaded.value.network;
    const pods = loaded.value.kube!.pods;
    // A pod's address (the switch's ND responder) and another subnet's pod (flooded: the switch
    // does not know it).
    const probes: DocProbe[] = [
      ["nd-pod", pods.get("default/nginx-b")!],
      ["nd-other-subnet", "fd00:10:66::21"],
    ].map(([name, to]) => ({ name: name!, from: pods.get("default/client")!, to: to!, l4: { nd: true } }));
    expect(disagreementsWithOvn("nd-dual-stack", net, probes)).toEqual([]);
  });

  it("--nd for the gateway: the router's port answers with its MAC and the router flag", async () => {
    // Real ovn-trace 23.03.1 aborts on this packet (ovn-trace.c hands the nd_na_router action to
    // ovnact_get_ND_NA, whose assertion fails), so it is checked against northd's flows instead:
    // ls_in_arp_rsp answers an NS for a router port's address with nd_na_router.
    const r = await cli(["trace", DIR, "--from", "pod/default/client", "--to", "fd00:10:16::1", "--nd", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { outputs: { port: string; packet: Record<string, unknown> }[]; hops: { actions?: string }[] };
    const loaded = loadNetworkFile(DIR);
    if (!loaded.ok) throw new Error("dual-stack does not load");
    const gwMac = loaded.value.network.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.mac;
    expect(j.outputs.map((o) => [o.port, o.packet["eth.src"], o.packet["ip6.src"], o.packet["icmp6.type"], o.packet["nd.target"], o.packet["nd.tll"]])).toEqual([["client.default", gwMac, "fd00:10:16::1", 136, "fd00:10:16::1", gwMac]]);
    expect(r.out).toContain("nd_na_router");
  });

  it.each([
    ["10.66.0.2", ["--nd"], /^ovnsim: error: --to 10\.66\.0\.2: an IPv4 address, and --nd asks for an IPv6 packet$/],
    ["pod/apps/web-2", ["--nd", "--tcp", "80"], /^ovnsim: Arguments nd and tcp are mutually exclusive$/],
  ])("--to %s %j is a usage error", async (to, more, re) => {
    const r = await flowOf(to, ...more);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")[0]).toMatch(re);
  });

  it("is a one-line usage error when the sender has no IPv6 address", async () => {
    const text = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default}
spec: {nodeName: n1}
`;
    const f = join(testDir("v6"), "m.yaml");
    writeFileSync(f, text);
    const r = await cli(["trace", f, "--from", "pod/default/a", "--to", "fd00::1", "--tcp", "80"]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toEqual([expect.stringMatching(/--to fd00::1: IPv6, and a\.default has no IPv6 address/)]);
    // --ipv6 towards names of that network: each says what has no IPv6.
    for (const [to, re] of [
      ["node/n1", /--to node\/n1: the node has no IPv6 InternalIP$/],
      ["pod/default/a", /--to a\.default: --ipv6, and a\.default has no IPv6 address$/],
    ] as const) {
      const e = await cli(["trace", f, "--from", "pod/default/a", "--to", to, "--ipv6"]);
      expect(e.code).toBe(2);
      expect(e.err.trim().split("\n")).toEqual([expect.stringMatching(re)]);
    }
  });
});

describe("what is not mapped for IPv6 is refused by name, and malformed dual-stack input is reported", () => {
  const base = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
`;
  const subnet = (spec: string): string => `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {${spec}}\n`;
  const cases: [string, string, RegExp][] = [
    ["a malformed cidrBlock", subnet('cidrBlock: "10.1.0.0/24,10.2.0.0/24"'), /^Subnet\/s1: cidrBlock "10\.1\.0\.0\/24,10\.2\.0\.0\/24": expected an IPv4 CIDR, an IPv6 CIDR, or one of each separated by a comma$/],
    ["an IPv6 underlay subnet", subnet('cidrBlock: "fd00:5::/64", vlan: v1, provider: ovn'), /^Subnet\/s1: cidrBlock fd00:5::\/64: IPv6 in an underlay subnet \(vlan\) is not mapped yet$/],
    ["an allowSubnets entry that is no CIDR", subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", private: true, allowSubnets: [10.2.0.0/24, fd00:7::1]'), /^Subnet\/s1: allowSubnets entry "fd00:7::1": expected an IPv4 or IPv6 CIDR$/],
    ["an allowSubnets entry in upper case", subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", private: true, allowSubnets: ["FD00:7::/64"]'), /^Subnet\/s1: allowSubnets entry "FD00:7::\/64": expected lower case \(Kube-OVN refuses upper case in IPv6 addresses\)$/],
    ["a dual-stack gateway of one family", subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", gateway: 10.1.0.1'), /^Subnet\/s1: gateway 10\.1\.0\.1: expected an IPv4 and an IPv6 address for cidrBlock 10\.1\.0\.0\/24,fd00:5::\/64$/],
    ["a dual-stack gateway with a malformed entry", subnet('cidrBlock: "fd00:5::/64,10.1.0.0/24", gateway: "fd00:5::1,10.1.0.1zz"'), /^Subnet\/s1: gateway "fd00:5::1,10\.1\.0\.1zz": "10\.1\.0\.1zz" is not an IPv4 or IPv6 address$/],
    ["an IPv6 gateway outside", subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", gateway: "10.1.0.1,fd00:6::1"'), /^Subnet\/s1: gateway fd00:6::1 is outside cidrBlock fd00:5::\/64$/],
    [
      "overlapping IPv6 halves",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64"')}---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s2}\nspec: {cidrBlock: "10.2.0.0/24,fd00:5::/112"}\n`,
      /^Subnet\/s2: cidrBlock fd00:5::\/112 overlaps Subnet\/s1's fd00:5::\/64 in VPC ovn-cluster$/,
    ],
    [
      "a dual-stack pod pinned to one family",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", namespaces: [ns1]')}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: 10.1.0.5}}\nspec: {nodeName: n1}\n`,
      /^Pod\/ns1\/p: ip_address "10\.1\.0\.5": Subnet\/s1 is dual-stack, expected an IPv4 and an IPv6 address separated by a comma$/,
    ],
    [
      "a pinned IPv6 address outside",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", namespaces: [ns1]')}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: "10.1.0.5,fd00:6::5"}}\nspec: {nodeName: n1}\n`,
      /^Pod\/ns1\/p: ip_address fd00:6::5 is outside Subnet\/s1 \(fd00:5::\/64\)$/,
    ],
    [
      "a pinned IPv6 address taken",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64", namespaces: [ns1]')}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: "fd00:5::2,10.1.0.5"}}\nspec: {nodeName: n1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: "10.1.0.6,fd00:5:0::2"}}\nspec: {nodeName: n1}\n`,
      /^Pod\/ns1\/q: ip_address fd00:5:0::2 is already taken$/,
    ],
    [
      "a NAT gateway on a dual-stack subnet",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64"')}---\napiVersion: kubeovn.io/v1\nkind: VpcNatGateway\nmetadata: {name: gw1}\nspec: {vpc: ovn-cluster, subnet: s1, lanIp: 10.1.0.254}\n`,
      /^VpcNatGateway\/gw1: subnet s1 has an IPv6 CIDR \(fd00:5::\/64\): IPv6 in NAT gateways is not mapped yet$/,
    ],
    [
      "OVN-IC in a zone with IPv6",
      `${subnet('cidrBlock: "10.1.0.0/24,fd00:5::/64"')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ovn-ic-config, namespace: kube-system}\ndata: {enable-ic: "true", az-name: az1, ic-db-host: 192.168.0.100, gw-nodes: n1}\n`,
      /^ConfigMap\/kube-system\/ovn-ic-config: subnet s1 has an IPv6 CIDR \(fd00:5::\/64\): IPv6 with OVN-IC is not mapped yet$/,
    ],
    [
      "an IPv6-only JOIN_CIDR",
      `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: install}\nspec: {JOIN_CIDR: "fd00:100:64::/112"}\n`,
      /^InstallConfig\/install: JOIN_CIDR "fd00:100:64::\/112": expected an IPv4 CIDR, or an IPv4 and an IPv6 CIDR separated by a comma$/,
    ],
    [
      "a POD_GATEWAY of one family for a dual-stack POD_CIDR",
      `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: install}\nspec: {POD_CIDR: "10.16.0.0/16,fd00:10:16::/112", POD_GATEWAY: 10.16.0.1}\n`,
      /^InstallConfig\/install: subnet ovn-default: gateway 10\.16\.0\.1: expected an IPv4 and an IPv6 address for cidrBlock 10\.16\.0\.0\/16,fd00:10:16::\/112$/,
    ],
  ];
  it.each(cases)("%s", (_name, doc, re) => {
    const r = loadNetworkText(`${base}---\n${doc}`, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => d.message);
    expect(msgs.some((m) => re.test(m)), msgs.join("\n")).toBe(true);
    expect(r.diags.every((d) => d.loc?.file === "m.yaml" && d.loc.line > 1)).toBe(true);
  });

  it("a dual-stack install without POD_GATEWAY takes the first address of each POD_CIDR family", () => {
    const r = loadNetworkText(`${base}---\napiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: install}\nspec: {POD_CIDR: "10.17.0.0/16,fd00:17::/112"}\n`, "m.yaml");
    if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
    expect(r.value.network.routers.get("ovn-cluster")!.ports.get("ovn-cluster-ovn-default")!.networks.toArray()).toEqual(["10.17.0.1/16", "fd00:17::1/112"]);
  });
});
