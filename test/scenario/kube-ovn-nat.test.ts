/**
 * Kube-OVN's OVN-native NAT from manifests (kube-ovn-mapping.md §7 enableExternal, §9): the docs
 * scenario scenarios/kube-ovn/ovn-eip-fip (after Kube-OVN's guide "Support OVN EIP, FIP and
 * SNAT": a custom VPC with enableExternal, a FIP, SNAT for a subnet and for a pod, a DNAT rule),
 * checked against the rows the mapping doc promises, its golden nbctl export, real OVN (live or
 * recorded: see kube-docs-checks.ts), and through `ovnsim trace` for the documented behaviour:
 * a pod reaches the outside with its SNAT EIP (or its FIP), the outside reaches the pod through
 * its FIP, and EIP:port of a DNAT rule reaches the pod's ip:port. Then one test per invalid
 * manifest.
 *
 * Expected values come from the mapping doc, Kube-OVN's source and its guide (names, priorities,
 * the IPAM order), not from ovnsim's output.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Probe } from "../../src/scenario/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { DOCS, cli, docsScenarioChecks, ext, friendlyProbe, load, policies, traceJson } from "./kube-docs-checks.js";

const NAME = "ovn-eip-fip";
const DIR = join(DOCS, NAME);
const s = load(DIR);
const net = s.network;
const lr = net.routers.get("vpc1")!;
const CT = ["new", "new", "new", "new", "new", "new"];
const podMac = (lsp: string): string => net.switches.get("vpc1-subnet1")!.ports.get(lsp)!.addresses.first()!.split(" ")[0]!;
const gwMac = (): string => net.providerNetworks.get("external204")!.gateways.first()!.mac;

/** A packet from the physical network (the external gateway's MAC) to `dst`, as it enters on the localnet port. */
function fromOutside(ethDst: string, dst: string, tcp: number): string {
  return `inport == "localnet.external204" && eth.src == ${gwMac()} && eth.dst == ${ethDst} && ip4.src == 203.0.113.7 && ip4.dst == ${dst} && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == ${tcp}`;
}

describe(`docs scenario ${NAME}`, () => {
  const outside = (name: string, microflow: string): Probe => ({ name, datapath: "external204", microflow, ct: CT, expect: { kind: "drop" } });
  const lrpMac = lr.ports.get("vpc1-external204")!.mac;
  docsScenarioChecks(NAME, s, [
    friendlyProbe(s, "fip-pod-to-outside", "pod/vpc1/vpc-1-busybox01", "1.1.1.1", 443, CT),
    friendlyProbe(s, "snat-pod-to-outside", "pod/vpc1/vpc-1-busybox02", "1.1.1.1", 443, CT),
    friendlyProbe(s, "snat-subnet-to-outside", "pod/vpc1/vpc-1-busybox04", "1.1.1.1", 443, CT),
    friendlyProbe(s, "pod-to-pod-other-node", "pod/vpc1/vpc-1-busybox02", "pod/vpc1/vpc-1-busybox04", 80, CT),
    friendlyProbe(s, "other-vpc-unreachable", "pod/default/client", "pod/vpc1/vpc-1-busybox04", 80, CT),
    outside("outside-to-fip", fromOutside(podMac("vpc-1-busybox01.vpc1"), "10.5.204.102", 80)),
    outside("outside-to-dnat", fromOutside(lrpMac, "10.5.204.105", 2222)),
    outside("outside-to-dnat-other-port", fromOutside(lrpMac, "10.5.204.105", 22)),
    outside("outside-to-snat-eip", fromOutside(lrpMac, "10.5.204.103", 80)),
  ]);
});

describe("ovn-eip-fip: the rows of §7 enableExternal and §9", () => {
  it("connects vpc1 to external204 through a distributed gateway port with the lrp EIP", () => {
    const p = lr.ports.get("vpc1-external204")!;
    // excludeIps 10.5.204.1..100 and the gateway: the VPC's EIP is the first free address.
    expect(p.networks.toArray()).toEqual(["10.5.204.101/24"]);
    expect(p.gatewayChassis.map((g) => `${g.chassis} ${g.priority}`).toArray()).toEqual(["node1 100", "node2 99"]);
    const lsp = net.switches.get("external204")!.ports.get("external204-vpc1")!;
    expect(lsp.type).toBe("router");
    expect(lsp.options.get("router-port")).toBe("vpc1-external204");
    const ln = net.switches.get("external204")!.ports.get("localnet.external204")!;
    expect([ln.tag, ln.options.get("network_name")]).toEqual([204, "external204"]);
    expect(lr.options.has("always_learn_from_arp_request")).toBe(false);
    expect(lr.staticRoutes.map((r) => `${r.policy} ${r.ipPrefix} ${r.nexthop}`).toArray()).toEqual(["dst-ip 0.0.0.0/0 10.5.204.254"]);
    expect(policies(net, "vpc1")).toEqual(["31000 ip4.dst == 192.168.0.0/24 allow"]);
    expect(net.providerNetworks.get("external204")!.gateways.map((g) => `${g.vlan} ${g.address}`).toArray()).toEqual(["204 10.5.204.254/24"]);
    expect(net.macBindings.map((b) => `${b.logicalPort} ${b.ip}`).toArray()).toEqual(["vpc1-external204 10.5.204.254"]);
  });

  it("writes the FIP as a distributed dnat_and_snat with the misspelt staleless option, and the SNATs", () => {
    const rows = lr.nat.map((n) => `${n.type} ${n.externalIp} ${n.logicalIp} ${n.logicalPort ?? "-"} ${n.externalMac ?? "-"} ${n.stateless} ${JSON.stringify(ext(n.options))}`).toArray();
    expect(rows).toEqual([
      `dnat_and_snat 10.5.204.102 192.168.0.2 vpc-1-busybox01.vpc1 ${podMac("vpc-1-busybox01.vpc1")} false {"staleless":"false"}`,
      "snat 10.5.204.103 192.168.0.0/24 - - false {}",
      "snat 10.5.204.104 192.168.0.3 - - false {}",
    ]);
  });

  it("writes the DNAT rule as a load balancer named after it, on the router only", () => {
    const lb = net.loadBalancers.get("eip-dnat")!;
    expect(lb.protocol).toBe("tcp");
    expect(Object.fromEntries(lb.vips.map((v) => v.toArray()))).toEqual({ "10.5.204.105:2222": ["192.168.0.4:22"] });
    expect(lb.options.size + lb.selectionFields.size).toBe(0);
    expect(lr.loadBalancers.toArray()).toEqual(["eip-dnat"]);
    expect(net.switches.some((ls) => ls.loadBalancers.includes("eip-dnat"))).toBe(false);
  });
});

describe("ovn-eip-fip: ovnsim trace shows the documented NAT", () => {
  const ct = CT.flatMap((c) => ["--ct", c]);

  it("a pod leaves with its SNAT EIP: the subnet's, or its own /32 rule's", async () => {
    for (const [pod, eip] of [["vpc-1-busybox04", "10.5.204.103"], ["vpc-1-busybox02", "10.5.204.104"]]) {
      const t = await traceJson([DIR, "--from", `pod/vpc1/${pod}`, "--to", "1.1.1.1", "--tcp", "443", ...ct]);
      expect(t.outputs.map((o) => o.port), pod).toEqual(["localnet.external204"]);
      expect(t.outputs[0]!.packet["ip4.src"], pod).toBe(eip);
      expect(t.outputs[0]!.packet["eth.src"], pod).toBe(lr.ports.get("vpc1-external204")!.mac);
      expect(t.outputs[0]!.packet["eth.dst"], pod).toBe(gwMac());
    }
  });

  it("the FIP's pod leaves with the FIP, from its own node with its own MAC", async () => {
    const t = await traceJson([DIR, "--from", "pod/vpc1/vpc-1-busybox01", "--to", "1.1.1.1", "--tcp", "443", ...ct]);
    expect(t.outputs[0]!.packet["ip4.src"]).toBe("10.5.204.102");
    expect(t.outputs[0]!.packet["eth.src"]).toBe(podMac("vpc-1-busybox01.vpc1"));
    const path = await cli(["trace", DIR, "--from", "pod/vpc1/vpc-1-busybox01", "--to", "1.1.1.1", "--tcp", "443", "--minimal", ...ct]);
    expect(path.out).toMatch(/wire node2 -> underlay gateway: external204: 802\.1Q VLAN 204/);
  });

  it("the outside reaches the pod through its FIP", async () => {
    const t = await traceJson([DIR, fromOutside(podMac("vpc-1-busybox01.vpc1"), "10.5.204.102", 80), ...ct]);
    expect(t.outputs.map((o) => o.port)).toEqual(["vpc-1-busybox01.vpc1"]);
    expect(t.outputs[0]!.packet["ip4.dst"]).toBe("192.168.0.2");
    expect(t.outputs[0]!.packet["ip4.src"]).toBe("203.0.113.7");
  });

  it("EIP:2222 of the DNAT rule reaches 192.168.0.4:22; another port of that EIP does not", async () => {
    const mac = lr.ports.get("vpc1-external204")!.mac;
    const t = await traceJson([DIR, fromOutside(mac, "10.5.204.105", 2222), ...ct]);
    expect(t.outputs.map((o) => o.port)).toEqual(["vpc-1-busybox03.vpc1"]);
    expect([t.outputs[0]!.packet["ip4.dst"], t.outputs[0]!.packet["tcp.dst"]]).toEqual(["192.168.0.4", 22]);
    const other = await traceJson([DIR, fromOutside(mac, "10.5.204.105", 22), ...ct]);
    expect(other.outputs.map((o) => o.port)).not.toContain("vpc-1-busybox03.vpc1");
  });
});

const BASE = `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {ovn.kubernetes.io/external-gw: "true"}}
status: {addresses: [{type: InternalIP, address: 192.168.100.11}]}
---
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: ext}
spec: {defaultInterface: eth1}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: vlan0}
spec: {id: 0, provider: ext}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: external}
spec: {cidrBlock: 10.5.0.0/24, gateway: 10.5.0.1, vlan: vlan0}
---
apiVersion: kubeovn.io/v1
kind: Vpc
metadata: {name: vpc1}
spec: {enableExternal: true, namespaces: [ns1]}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: s1}
spec: {vpc: vpc1, cidrBlock: 192.168.0.0/24, namespaces: [ns1]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns1}
spec: {nodeName: n1}
---
apiVersion: kubeovn.io/v1
kind: OvnEip
metadata: {name: eip1}
spec: {type: nat}
`;

describe("OVN NAT from inline manifests", () => {
  it("with the defaults: the external subnet is `external`, EIPs by v4Ip first, lrp and lsp EIPs, FIP by vpc + v4Ip is centralized", () => {
    const r = loadNetworkText(`${BASE}---
apiVersion: kubeovn.io/v1
kind: OvnEip
metadata: {name: eip2}
spec: {v4Ip: 10.5.0.2}
---
apiVersion: kubeovn.io/v1
kind: OvnEip
metadata: {name: vpc1-external}
spec: {type: lrp, v4Ip: 10.5.0.50}
---
apiVersion: kubeovn.io/v1
kind: OvnEip
metadata: {name: nexthop1}
spec: {type: lsp}
---
apiVersion: kubeovn.io/v1
kind: OvnFip
metadata: {name: fip1}
spec: {ovnEip: eip2, vpc: vpc1, v4Ip: 192.168.0.2}
---
apiVersion: kubeovn.io/v1
kind: OvnSnatRule
metadata: {name: snat1}
spec: {ovnEip: eip1, vpc: vpc1, v4IpCidr: 192.168.0.0/24}
`, "m.yaml");
    expect(r.ok, r.ok ? "" : r.diags.map((d) => d.message).join("\n")).toBe(true);
    if (!r.ok) return;
    const v = r.value.network.routers.get("vpc1")!;
    // The OvnEip named <vpc>-<subnet> is the external port's; the others are taken in document order after the pinned ones.
    expect(v.ports.get("vpc1-external")!.networks.toArray()).toEqual(["10.5.0.50/24"]);
    expect(v.nat.map((n) => `${n.type} ${n.externalIp} ${n.logicalIp} ${n.logicalPort ?? "-"} ${n.externalMac ?? "-"}`).toArray()).toEqual([
      "dnat_and_snat 10.5.0.2 192.168.0.2 - -",
      "snat 10.5.0.3 192.168.0.0/24 - -",
    ]);
    const extLs = r.value.network.switches.get("external")!;
    expect(extLs.ports.get("nexthop1")!.addresses.first()).toMatch(/^[0-9a-f:]{17} 10\.5\.0\.4$/);
    expect(extLs.ports.get("nexthop1")!.type).toBe("");
    expect(extLs.ports.get("external-vpc1")!.options.get("router-port")).toBe("vpc1-external");
  });

  const cases: [string, string, RegExp][] = [
    ["a DNAT to an address no pod has", `apiVersion: kubeovn.io/v1\nkind: OvnDnatRule\nmetadata: {name: d1}\nspec: {ovnEip: eip1, vpc: vpc1, v4Ip: 192.168.0.99, protocol: tcp, internalPort: "80", externalPort: "8080"}\n`, /OvnDnatRule\/d1: v4Ip 192\.168\.0\.99: no pod of VPC vpc1 has that address/],
    ["a FIP to an IP name no pod has", `apiVersion: kubeovn.io/v1\nkind: OvnFip\nmetadata: {name: f1}\nspec: {ovnEip: eip1, ipName: q.ns1}\n`, /OvnFip\/f1: ipName q\.ns1: no pod has that IP/],
    ["a FIP to an address no pod has", `apiVersion: kubeovn.io/v1\nkind: OvnFip\nmetadata: {name: f1}\nspec: {ovnEip: eip1, vpc: vpc1, v4Ip: 192.168.0.77}\n`, /OvnFip\/f1: v4Ip 192\.168\.0\.77: no pod of VPC vpc1 has that address/],
    ["a FIP naming a missing EIP", `apiVersion: kubeovn.io/v1\nkind: OvnFip\nmetadata: {name: f1}\nspec: {ovnEip: nope, ipName: p.ns1}\n`, /OvnFip\/f1: ovnEip nope: no OvnEip of that name/],
    ["two FIPs on one EIP", `apiVersion: kubeovn.io/v1\nkind: OvnFip\nmetadata: {name: f1}\nspec: {ovnEip: eip1, ipName: p.ns1}\n---\napiVersion: kubeovn.io/v1\nkind: OvnFip\nmetadata: {name: f2}\nspec: {ovnEip: eip1, vpc: vpc1, v4Ip: 192.168.0.2}\n`, /OvnFip\/f2: ovnEip eip1 already has the FIP f1/],
    ["an lsp EIP used by NAT", `apiVersion: kubeovn.io/v1\nkind: OvnEip\nmetadata: {name: eip9}\nspec: {type: lsp}\n---\napiVersion: kubeovn.io/v1\nkind: OvnSnatRule\nmetadata: {name: s9}\nspec: {ovnEip: eip9, vpcSubnet: s1}\n`, /OvnSnatRule\/s9: ovnEip eip9 is of type lsp, which NAT cannot use/],
    ["an EIP outside its subnet", `apiVersion: kubeovn.io/v1\nkind: OvnEip\nmetadata: {name: eip9}\nspec: {v4Ip: 10.6.0.9}\n`, /OvnEip\/eip9: v4Ip 10\.6\.0\.9 is outside Subnet external \(10\.5\.0\.0\/24\)/],
    [
      "two DNAT rules on one EIP and port",
      `apiVersion: kubeovn.io/v1\nkind: OvnDnatRule\nmetadata: {name: d1}\nspec: {ovnEip: eip1, ipName: p.ns1, protocol: tcp, internalPort: "80", externalPort: "8080"}\n---\napiVersion: kubeovn.io/v1\nkind: OvnDnatRule\nmetadata: {name: d2}\nspec: {ovnEip: eip1, ipName: p.ns1, protocol: tcp, internalPort: "81", externalPort: "8080"}\n`,
      /OvnDnatRule\/d2: ovnEip eip1 port 8080 already has the DNAT rule d1/,
    ],
    ["a DNAT rule with a bad protocol", `apiVersion: kubeovn.io/v1\nkind: OvnDnatRule\nmetadata: {name: d1}\nspec: {ovnEip: eip1, ipName: p.ns1, protocol: TCP, internalPort: "80", externalPort: "8080"}\n`, /OvnDnatRule\/d1: spec\.protocol "TCP": expected tcp, udp or sctp/],
    [
      "NAT in a VPC without enableExternal",
      `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: vpc2}\nspec: {namespaces: [ns2]}\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s2}\nspec: {vpc: vpc2, cidrBlock: 192.168.2.0/24, namespaces: [ns2]}\n---\napiVersion: kubeovn.io/v1\nkind: OvnSnatRule\nmetadata: {name: s9}\nspec: {ovnEip: eip1, vpcSubnet: s2}\n`,
      /OvnSnatRule\/s9: VPC vpc2 has no external gateway port \(its Vpc needs enableExternal\)/,
    ],
  ];
  it.each(cases)("%s", (_name, doc, re) => {
    const r = loadNetworkText(`${BASE}---\n${doc}`, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs.filter((m) => re.test(m)), msgs.join("\n")).toHaveLength(1);
    expect(msgs, msgs.join("\n")).toHaveLength(1);
    expect(r.diags[0]!.loc?.line).toBeGreaterThan(BASE.split("\n").length); // the offending document, after the base ones
  });

  it("enableExternal without a node labelled external-gw, or without the external subnet", () => {
    const noGw = loadNetworkText(BASE.replace('labels: {ovn.kubernetes.io/external-gw: "true"}', "labels: {}"), "m.yaml");
    expect(noGw.ok).toBe(false);
    if (!noGw.ok) expect(noGw.diags.map((d) => d.message)).toContain("Vpc/vpc1: enableExternal needs at least one Node labelled ovn.kubernetes.io/external-gw=true (the gateway chassis)");
    const noExt = loadNetworkText(`apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: i}\nspec: {EXTERNAL_GATEWAY_SWITCH: public}\n---\n${BASE}`, "m.yaml");
    expect(noExt.ok).toBe(false);
    if (!noExt.ok) expect(noExt.diags.map((d) => d.message)).toContain("Vpc/vpc1: enableExternal needs the external Subnet public (EXTERNAL_GATEWAY_SWITCH)");
  });

  it("through the CLI: exit 2 with file:line:col", async () => {
    const r = await cli(["flows", join(DOCS, "..", "..", "fixtures/kube/ovn-nat-invalid")]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toEqual([expect.stringMatching(/ovn-nat-invalid\/10-nat\.yaml:\d+:1: error: OvnDnatRule\/d1: v4Ip 192\.168\.0\.99: no pod of VPC vpc1 has that address/)]);
  });
});
