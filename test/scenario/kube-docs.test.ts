/**
 * The docs scenarios scenarios/kube-ovn/default-install and scenarios/kube-ovn/network-policy:
 * the rows kube-ovn-mapping.md promises (§1 default install, §4 services, §5 NetworkPolicy, §2.2
 * private subnets), their golden `export --format nbctl`, their acceptance by real OVN, and the
 * documented behaviour through `ovnsim trace` (a default deny blocks; its allow rules let through
 * exactly what they name, and nothing next to it: another port, another namespace, an address of
 * the except block; a private subnet is reachable only from itself and its allowSubnets), with real
 * ovn-trace's agreement on the same packets.
 *
 * Expected values come from the mapping doc and the Kubernetes / Kube-OVN docs, not from ovnsim.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Network } from "../../src/model/index.js";
import { loadNetworkFile, type Scenario } from "../../src/scenario/index.js";
import { LIVE, ROOT, applyToRealOvn, cli, disagreementsWithOvn, golden, verdict, type DocProbe } from "./kube-docs-helpers.js";

const DEFAULT = join(ROOT, "scenarios/kube-ovn/default-install");
const NETPOL = join(ROOT, "scenarios/kube-ovn/network-policy");

function load(dir: string): Scenario {
  const r = loadNetworkFile(dir);
  if (!r.ok) throw new Error(r.diags.map((d) => `${d.loc?.file}:${d.loc?.line}: ${d.message}`).join("\n"));
  return r.value;
}

/** The IPv4 address of a pod, from its switch port. */
function podIp(s: Scenario, pod: string): string {
  const lsp = s.kube!.pods.get(pod)!;
  return s.network.switches.find((ls) => ls.ports.has(lsp))!.ports.get(lsp)!.addresses.first()!.split(" ")[1]!;
}

/** Probes a generated conformance set would make: every ordered pod pair, plus every service port from every pod. */
function probeCount(s: Scenario): number {
  const pods = s.kube!.pods.size;
  const servicePorts = [...s.kube!.services.values()].reduce((n, svc) => n + (svc.ips.length ? svc.ports.length : 0), 0);
  return pods * (pods - 1) + pods * servicePorts;
}

const acls = (n: Network, pg: string): string[] =>
  n.portGroups
    .get(pg)!
    .acls.map((a) => `${a.direction} ${a.priority} ${a.action} ${a.match}${a.applyAfterLb ? " [apply-after-lb]" : ""}`)
    .toArray();

describe("docs scenario default-install (kube-ovn-mapping.md §1, §4)", () => {
  const s = load(DEFAULT);
  const net = s.network;
  const lr = net.routers.get("ovn-cluster")!;
  const nodes = [
    ["kube-ovn-control-plane", "172.18.0.2", "100.64.0.2"],
    ["kube-ovn-worker", "172.18.0.3", "100.64.0.3"],
    ["kube-ovn-worker2", "172.18.0.4", "100.64.0.4"],
  ] as const;

  it("builds ovn-cluster with its options, ports, join default route and policy table", () => {
    expect(Object.fromEntries(lr.options)).toEqual({ mac_binding_age_threshold: "300", dynamic_neigh_routers: "true", always_learn_from_arp_request: "false" });
    expect(lr.ports.map((p) => p.networks.toArray()).toObject()).toEqual({ "ovn-cluster-join": ["100.64.0.1/16"], "ovn-cluster-ovn-default": ["10.16.0.1/16"] });
    expect(lr.staticRoutes.map((r) => `${r.policy} ${r.ipPrefix} ${r.nexthop}`).toArray()).toEqual(["dst-ip 0.0.0.0/0 100.64.0.1"]);
    const expected = [
      "31000 ip4.dst == 100.64.0.0/16 allow",
      "31000 ip4.dst == 10.16.0.0/16 allow",
      ...nodes.map(([, ip, join]) => `30000 ip4.dst == ${ip} reroute ${join}`),
      ...nodes.map(([n, , join]) => `29000 ip4.src == $ovn.default.${n.replace(/-/g, ".")}_ip4 reroute ${join}`),
    ];
    expect(lr.policies.map((p) => `${p.priority} ${p.match} ${p.action}${p.nexthops.size ? ` ${p.nexthops.join(",")}` : ""}`).toArray().sort()).toEqual(expected.sort());
    for (const p of lr.policies) expect(p.externalIds.get("vendor")).toBe("kube-ovn");
  });

  it("builds join with a node-<node> port per node and ovn-default with the pods (not the hostNetwork one)", () => {
    const join = net.switches.get("join")!;
    expect(join.ports.keySeq().toArray()).toEqual(["join-ovn-cluster", ...nodes.map(([n]) => `node-${n}`)]);
    for (const [n, , ip] of nodes) expect(join.ports.get(`node-${n}`)!.addresses.first()).toMatch(new RegExp(` ${ip.replace(/\./g, "\\.")}$`));
    expect(join.loadBalancers.size).toBe(0);
    const def = net.switches.get("ovn-default")!;
    expect(def.ports.get("ovn-default-ovn-cluster")!.options.get("router-port")).toBe("ovn-cluster-ovn-default");
    expect([...s.kube!.pods.keys()].sort()).toEqual(
      ["kube-system/coredns-5d78c9869d-7xk2p", "kube-system/coredns-5d78c9869d-q9wzt", "default/nginx-7c5ddbdf54-2mnbd", "default/nginx-7c5ddbdf54-ht7rl", "default/client", "default/toolbox"].sort(),
    );
    expect(def.ports.has("kube-ovn-cni-8gx4d.kube-system")).toBe(false);
    expect(Object.fromEntries(def.ports.get("client.default")!.externalIds)).toEqual({ pod: "default/client", ls: "ovn-default", vendor: "kube-ovn" });
    // Lowest free address first, in document order, the gateway excluded.
    expect(podIp(s, "kube-system/coredns-5d78c9869d-7xk2p")).toBe("10.16.0.2");
    expect(podIp(s, "default/toolbox")).toBe("10.16.0.7");
  });

  it("attaches the six cluster LBs to ovn-default and programs kube-dns and nginx on them", () => {
    const names = ["cluster-tcp-loadbalancer", "cluster-udp-loadbalancer", "cluster-sctp-loadbalancer", "cluster-tcp-session-loadbalancer", "cluster-udp-session-loadbalancer", "cluster-sctp-session-loadbalancer"];
    expect(net.switches.get("ovn-default")!.loadBalancers.toArray().sort()).toEqual([...names].sort());
    for (const n of names.filter((x) => x.includes("session"))) {
      const lb = net.loadBalancers.get(n)!;
      expect(lb.selectionFields.toArray()).toEqual(["ip_src"]);
      expect(lb.options.get("affinity_timeout")).toBe("10800");
    }
    const dns = [podIp(s, "kube-system/coredns-5d78c9869d-7xk2p"), podIp(s, "kube-system/coredns-5d78c9869d-q9wzt")].sort();
    const udp = net.loadBalancers.get("cluster-udp-loadbalancer")!;
    const tcp = net.loadBalancers.get("cluster-tcp-loadbalancer")!;
    expect(udp.vips.get("10.96.0.10:53")?.toArray()).toEqual(dns.map((ip) => `${ip}:53`));
    expect(tcp.vips.get("10.96.0.10:53")?.toArray()).toEqual(dns.map((ip) => `${ip}:53`));
    expect(tcp.vips.get("10.96.0.10:9153")?.toArray()).toEqual(dns.map((ip) => `${ip}:9153`));
    expect(tcp.vips.get("10.101.27.150:80")?.toArray()).toEqual([podIp(s, "default/nginx-7c5ddbdf54-2mnbd"), podIp(s, "default/nginx-7c5ddbdf54-ht7rl")].sort().map((ip) => `${ip}:80`));
  });

  it("has the port groups of the doc and no ACL anywhere (no NetworkPolicy)", () => {
    expect(net.portGroups.get("ovn.default.kube.ovn.worker")!.ports.toArray().sort()).toEqual(["client.default", "coredns-5d78c9869d-q9wzt.kube-system", "nginx-7c5ddbdf54-2mnbd.default"].sort());
    expect(net.portGroups.get("node.kube.ovn.control.plane")!.ports.toArray().sort()).toEqual(["coredns-5d78c9869d-7xk2p.kube-system", "toolbox.default"].sort());
    for (const pg of net.portGroups.values()) expect(pg.acls.size).toBe(0);
    for (const ls of net.switches.values()) expect(ls.acls.size).toBe(0);
    expect(net.chassis.map((c) => c.encaps.map((e) => `${e.type} ${e.ip}`).join()).toObject()).toEqual(Object.fromEntries(nodes.map(([n, ip]) => [n, `geneve ${ip}`])));
  });

  it("has enough endpoints for a generated conformance set (30 probes or more)", () => {
    expect(probeCount(s)).toBeGreaterThanOrEqual(30);
  });

  it("matches the golden export", async () => {
    const [actual, expected] = await golden(DEFAULT, "default-install");
    expect(actual).toBe(expected);
  });

  it.skipIf(!LIVE)("is accepted by real OVN", { timeout: 30_000 }, () => {
    expect(applyToRealOvn(net)).toEqual([]);
  });

  it("a pod resolves cluster DNS through the LB to a coredns pod on another node", async () => {
    const r = await cli(["trace", DEFAULT, "--from", "pod/default/client", "--to", "svc/kube-system/kube-dns", "--udp", "53", "--minimal", "--lb-dst", "10.16.0.2:53"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("ip4.dst = 10.16.0.2;");
    expect(r.out).toContain('output("coredns-5d78c9869d-7xk2p.kube-system")');
    expect(r.out).toMatch(/wire kube-ovn-worker -> kube-ovn-control-plane: Geneve 172\.18\.0\.3 -> 172\.18\.0\.2/);
  });

  it("pod to node goes to that node's ovn0 (30000); pod to the outside to its own node's (29000)", async () => {
    const node = await verdict(DEFAULT, "pod/default/client", "node/kube-ovn-worker2", ["--tcp", "10250"]);
    expect(node.outputs.map((o) => o.port)).toEqual(["node-kube-ovn-worker2"]);
    const out = await verdict(DEFAULT, "pod/default/toolbox", "1.1.1.1", ["--tcp", "443"]);
    expect(out.outputs.map((o) => o.port)).toEqual(["node-kube-ovn-control-plane"]);
    const pods = await verdict(DEFAULT, "pod/default/client", "pod/default/toolbox", ["--icmp"]);
    expect(pods.outputs.map((o) => o.port)).toEqual(["toolbox.default"]);
  });

  it("real ovn-trace agrees", { timeout: 60_000 }, () => {
    const probes: DocProbe[] = [
      { name: "client-to-kube-dns-udp", from: "client.default", to: "10.96.0.10", l4: { udp: 53 }, ct: ["new", "new"], lbDst: "10.16.0.3:53" },
      { name: "client-to-nginx", from: "client.default", to: "10.101.27.150", l4: { tcp: 80 }, ct: ["new", "new"], lbDst: "10.16.0.5:80" },
      { name: "client-to-toolbox", from: "client.default", to: "toolbox.default", l4: { icmp: true } },
      { name: "client-to-node", from: "client.default", to: "172.18.0.4", l4: { tcp: 10250 } },
      { name: "toolbox-to-outside", from: "toolbox.default", to: "1.1.1.1", l4: { tcp: 443 } },
      { name: "coredns-to-apiserver", from: "coredns-5d78c9869d-q9wzt.kube-system", to: "10.96.0.1", l4: { tcp: 443 } },
    ];
    expect(disagreementsWithOvn("default-install", net, probes)).toEqual([]);
  });
});

describe("docs scenario network-policy (kube-ovn-mapping.md §5, §2.2)", () => {
  const s = load(NETPOL);
  const net = s.network;

  it("maps default-deny-ingress to a port group of every pod of the namespace with a 2000 drop", () => {
    const pg = net.portGroups.get("default.deny.ingress.default")!;
    expect(pg.externalIds.get("np")).toBe("default/default-deny-ingress");
    expect(pg.ports.toArray().sort()).toEqual(["backend.default", "db.default", "frontend.default"]);
    const rows = acls(net, "default.deny.ingress.default");
    expect(rows).toContain("to-lport 2000 drop outport == @default.deny.ingress.default && ip");
    // The ingress direction is on with no rule: one allow over the empty ".all" sets, which matches nothing.
    expect(rows).toContain(
      "to-lport 2001 allow-related outport == @default.deny.ingress.default && ip && ip4.src == $default.deny.ingress.default.ingress.allow.IPv4.all && ip4.src != $default.deny.ingress.default.ingress.except.IPv4.all",
    );
    expect(net.addressSets.get("default.deny.ingress.default.ingress.allow.IPv4.all")!.addresses.size).toBe(0);
    // The subnet gateway is allowed statelessly both ways.
    expect(rows).toContain("to-lport 2001 allow-stateless ip4.src == 10.16.0.1");
    expect(rows).toContain("from-lport 2001 allow-stateless ip4.dst == 10.16.0.1 [apply-after-lb]");
    // No egress rules in this policy.
    expect(rows.some((r) => r.startsWith("from-lport 2000"))).toBe(false);
  });

  it("maps test-network-policy to allow/except address sets and port-restricted allows, egress after LB", () => {
    const pg = net.portGroups.get("test.network.policy.default")!;
    expect(pg.ports.toArray()).toEqual(["db.default"]);
    const rows = acls(net, "test.network.policy.default");
    expect(rows).toContain("to-lport 2000 drop outport == @test.network.policy.default && ip");
    expect(rows).toContain(
      "to-lport 2001 allow-related outport == @test.network.policy.default && ip && ip4.src == $test.network.policy.default.ingress.allow.IPv4.0 && ip4.src != $test.network.policy.default.ingress.except.IPv4.0 && tcp.dst == 6379",
    );
    expect(rows).toContain("from-lport 2000 drop inport == @test.network.policy.default && ip [apply-after-lb]");
    expect(rows).toContain(
      "from-lport 2001 allow-related inport == @test.network.policy.default && ip && ip4.dst == $test.network.policy.default.egress.allow.IPv4.0 && ip4.dst != $test.network.policy.default.egress.except.IPv4.0 && tcp.dst == 5978 [apply-after-lb]",
    );
    const set = (n: string): string[] => net.addressSets.get(n)!.addresses.toArray().sort();
    // ipBlock, the myproject namespace's pods, the role=frontend pods of default.
    expect(set("test.network.policy.default.ingress.allow.IPv4.0")).toEqual(["172.17.0.0/16", podIp(s, "myproject/client"), podIp(s, "default/frontend")].sort());
    expect(set("test.network.policy.default.ingress.except.IPv4.0")).toEqual(["172.17.1.0/24"]);
    expect(set("test.network.policy.default.egress.allow.IPv4.0")).toEqual(["10.0.0.0/24"]);
    expect(set("test.network.policy.default.egress.except.IPv4.0")).toEqual([]);
  });

  it("lets each node reach its own pods once a NetworkPolicy exists (3000)", () => {
    expect(acls(net, "node.node.1")).toEqual(["to-lport 3000 allow-related ip4.src == 192.168.50.11 && ip4.dst == $node.node.1_ip4", "from-lport 3000 allow-related ip4.dst == 192.168.50.11 && ip4.src == $node.node.1_ip4 [apply-after-lb]"]);
  });

  it("gives the private subnet vault its to-lport ACLs: drop, own subnet, join, allowSubnets", () => {
    const vault = net.switches.get("vault")!;
    const rows = vault.acls.map((a) => `${a.direction} ${a.priority} ${a.action} ${a.match}`).toArray();
    expect(rows.sort()).toEqual(
      [
        "to-lport 1000 drop ip",
        "to-lport 1001 allow-related ip4.src == 10.18.0.0/24 && ip4.dst == 10.18.0.0/24",
        "to-lport 3000 allow-related ip4.src == 100.64.0.0/16",
        "to-lport 1001 allow-related (ip4.src == 10.18.0.0/24 && ip4.dst == 10.0.0.0/24) || (ip4.src == 10.0.0.0/24 && ip4.dst == 10.18.0.0/24)",
      ].sort(),
    );
    const drop = vault.acls.find((a) => a.priority === 1000)!;
    expect([drop.log, drop.severity, drop.name]).toEqual([true, "warning", "vault"]);
    // The other subnets have no switch ACL.
    expect(net.switches.get("partners")!.acls.size).toBe(0);
  });

  it("pins partners/excepted into the except block", () => {
    expect(podIp(s, "partners/excepted")).toBe("172.17.1.10");
  });

  it("has enough endpoints for a generated conformance set (30 probes or more)", () => {
    expect(probeCount(s)).toBeGreaterThanOrEqual(30);
  });

  it("matches the golden export", async () => {
    const [actual, expected] = await golden(NETPOL, "network-policy");
    expect(actual).toBe(expected);
  });

  it.skipIf(!LIVE)("is accepted by real OVN", { timeout: 30_000 }, () => {
    expect(applyToRealOvn(net)).toEqual([]);
  });

  /** [from, to, port, delivered?, what]: the documented outcome of each packet. */
  const cases: [string, string, number, boolean, string][] = [
    ["default/frontend", "default/db", 6379, true, "the podSelector peer, on the named port"],
    ["myproject/client", "default/db", 6379, true, "the namespaceSelector peer"],
    ["partners/ok", "default/db", 6379, true, "an address of the ipBlock"],
    ["default/frontend", "default/db", 6380, false, "the podSelector peer on another port"],
    ["default/backend", "default/db", 6379, false, "a pod of the namespace that no peer names"],
    ["other/client", "default/db", 6379, false, "a pod of another namespace"],
    ["partners/excepted", "default/db", 6379, false, "an address in the except block"],
    ["default/backend", "default/frontend", 80, false, "the default deny, on a pod no allow rule selects"],
    ["default/db", "monitoring/collector", 5978, true, "db's egress rule"],
    ["default/db", "monitoring/collector", 5979, false, "db's egress, another port"],
    ["default/db", "default/frontend", 80, false, "db's egress, another destination"],
    ["other/client", "partners/ok", 80, true, "pods no policy selects"],
    ["monitoring/collector", "vault/vault-0", 8200, true, "the private subnet from an allowSubnet"],
    ["vault/vault-1", "vault/vault-0", 8200, true, "the private subnet from itself"],
    ["default/frontend", "vault/vault-0", 8200, false, "the private subnet from another subnet"],
    ["vault/vault-0", "partners/ok", 80, false, "the private subnet's pods towards another subnet (the router port is to-lport too)"],
  ];
  it.each(cases)("%s -> %s:%i delivered=%s (%s)", async (from, to, port, delivered) => {
    const v = await verdict(NETPOL, `pod/${from}`, `pod/${to}`, ["--tcp", String(port)]);
    if (delivered) {
      expect(v.verdict).toBe("output");
      expect(v.outputs.map((o) => o.port)).toEqual([s.kube!.pods.get(to)]);
    } else {
      expect(v.verdict).toBe("drop");
      expect(v.drops[0]!.stage).toMatch(/acl/);
      // Dropped by a policy's port group, or by the private subnet's switch ACL.
      expect(v.drops[0]!.object).toMatch(to.startsWith("vault/") || from.startsWith("vault/") ? /^switches\[vault\]\.acls/ : /^portGroups\[(default\.deny\.ingress|test\.network\.policy)\.default\]\.acls/);
    }
  });

  it("real ovn-trace agrees on the same packets", { timeout: 60_000 }, () => {
    const probes: DocProbe[] = cases.map(([from, to, port], i) => ({ name: `${i}-${from}-${to}-${port}`.replace(/\//g, "."), from: s.kube!.pods.get(from)!, to: s.kube!.pods.get(to)!, l4: { tcp: port }, ct: ["new", "new", "new"] }));
    expect(disagreementsWithOvn("network-policy", net, probes)).toEqual([]);
  });
});
