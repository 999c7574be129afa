/**
 * The default VPC's external gateway from manifests (kube-ovn-mapping.md §9.1): the docs scenario
 * scenarios/kube-ovn/default-vpc-eip (after Kube-OVN's guide "EIP and SNAT": the ConfigMap
 * ovn-external-gw-config of the guide, one gateway node, a pod with `ovn.kubernetes.io/snat`, a pod
 * with `ovn.kubernetes.io/eip`, four pods without), checked against:
 * - the rows the mapping doc and Kube-OVN's source promise (names, priorities, matches, options),
 *   written here from their text, not from ovnsim's output;
 * - its golden `export --format nbctl` and real OVN (live or recorded, kube-docs-checks.ts);
 * - the documented behaviour through `ovnsim trace`: the EIP's pod is reached from outside at the
 *   EIP and leaves with it, the SNAT pod leaves with the SNAT address, the other pods leave
 *   through their own node unchanged;
 * and inline manifests for what the scenario does not cover (type distributed, an underlay Subnet
 * `external` without nic-ip, ENABLE_EIP_SNAT=false), then one test per invalid manifest.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Probe } from "../../src/scenario/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { DOCS, cli, docsScenarioChecks, ext, friendlyProbe, load, loadText, policies, traceJson } from "./kube-docs-checks.js";
import { testDir } from "../temp-dir.js";

const NAME = "default-vpc-eip";
const DIR = join(DOCS, NAME);
const s = load(DIR);
const net = s.network;
const lr = net.routers.get("ovn-cluster")!;
const CT = ["new", "new", "new", "new", "new", "new"];
const ctArgs = CT.flatMap((c) => ["--ct", c]);
/** The guide's values (ConfigMap and annotations). */
const NIC_MAC = "16:52:f3:13:6a:25";
const GW = "172.56.0.1";
const podMac = (lsp: string): string => net.switches.get("ovn-default")!.ports.get(lsp)!.addresses.first()!.split(" ")[0]!;
const gwMac = (): string => net.providerNetworks.get("external")!.gateways.first()!.mac;

/** A packet from the physical gateway's MAC to `ethDst`/`dst`, entering on the localnet port. */
function fromOutside(ethDst: string, dst: string, tcp: number): string {
  return `inport == "localnet.external" && eth.src == ${gwMac()} && eth.dst == ${ethDst} && ip4.src == 203.0.113.7 && ip4.dst == ${dst} && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == ${tcp}`;
}

describe(`docs scenario ${NAME}`, () => {
  const outside = (name: string, microflow: string): Probe => ({ name, datapath: "external", microflow, ct: CT, expect: { kind: "drop" } });
  docsScenarioChecks(NAME, s, [
    friendlyProbe(s, "snat-pod-to-outside", "pod/default/pod-snat", "1.1.1.1", 443, CT),
    friendlyProbe(s, "eip-pod-to-outside", "pod/default/pod-eip", "1.1.1.1", 443, CT),
    friendlyProbe(s, "plain-pod-to-outside", "pod/default/client-1", "1.1.1.1", 443, CT),
    friendlyProbe(s, "plain-pod-on-gateway-node-to-outside", "pod/default/client-2", "1.1.1.1", 443, CT),
    friendlyProbe(s, "eip-pod-to-plain-pod", "pod/default/pod-eip", "pod/default/web-2", 80, CT),
    // ovn-trace picks a random backend unless told: web-2's.
    { ...friendlyProbe(s, "snat-pod-to-service", "pod/default/pod-snat", "10.96.10.10", 80, CT), lbDst: "10.16.0.5:80" },
    { ...friendlyProbe(s, "plain-pod-to-service", "pod/default/client-1", "10.96.10.10", 80, CT), lbDst: "10.16.0.5:80" },
    outside("outside-to-eip", fromOutside(NIC_MAC, "172.56.0.233", 80)),
    outside("outside-to-snat-address", fromOutside(NIC_MAC, "172.56.0.200", 80)),
    outside("outside-to-plain-pod", fromOutside(NIC_MAC, "10.16.0.6", 80)),
  ]);
});

describe("default-vpc-eip: the rows of §9.1", () => {
  it("builds switch external with localnet.external (network_name external, untagged) and the router-type port", () => {
    const ls = net.switches.get("external")!;
    expect(ls.ports.keySeq().toArray()).toEqual(["localnet.external", "external-ovn-cluster"]);
    const ln = ls.ports.get("localnet.external")!;
    expect([ln.type, ln.addresses.toArray(), ext(ln.options), ln.tag]).toEqual(["localnet", ["unknown"], { network_name: "external" }, undefined]);
    const lsp = ls.ports.get("external-ovn-cluster")!;
    expect([lsp.type, lsp.addresses.toArray(), lsp.options.get("router-port")]).toEqual(["router", ["router"], "ovn-cluster-external"]);
    expect(ext(ls.externalIds)).toEqual({ vendor: "kube-ovn" });
    expect(ls.loadBalancers.size).toBe(0);
  });

  it("gives ovn-cluster the port ovn-cluster-external with nic-ip / nic-mac, gateway chassis the gateway node at 100", () => {
    const p = lr.ports.get("ovn-cluster-external")!;
    expect(p.networks.toArray()).toEqual(["172.56.0.254/16"]);
    expect(p.mac).toBe(NIC_MAC);
    expect(p.gatewayChassis.map((g) => `${g.chassis} ${g.priority}`).toArray()).toEqual(["kube-ovn-worker 100"]);
    // enableExternal on the default Vpc: the router learns from ARP requests.
    expect(lr.options.has("always_learn_from_arp_request")).toBe(false);
    expect(ext(lr.options)).toEqual({ mac_binding_age_threshold: "300", dynamic_neigh_routers: "true" });
  });

  it("bridges eth1 into br-external on the gateway node only, with the mapping external:br-external", () => {
    const w = net.chassis.get("kube-ovn-worker")!;
    expect(ext(w.bridgeMappings)).toEqual({ external: "br-external" });
    expect(ext(w.nics)).toEqual({ "br-external": "eth1" });
    expect(net.chassis.get("kube-ovn-control-plane")!.bridgeMappings.size).toBe(0);
    expect(net.providerNetworks.get("external")!.gateways.map((g) => `${g.vlan} ${g.address}`).toArray()).toEqual([`0 ${GW}/16`]);
    expect(net.macBindings.map((b) => `${b.logicalPort} ${b.ip}`).toArray()).toEqual([`ovn-cluster-external ${GW}`]);
  });

  it("writes the eip as a centralized dnat_and_snat and the snat as a snat, each on the pod's address", () => {
    // pod-snat and pod-eip are the first two pods: 10.16.0.2 and .3 (the gateway .1 is excluded).
    expect(lr.nat.map((n) => `${n.type} ${n.externalIp} ${n.logicalIp} ${n.logicalPort ?? "-"} ${n.externalMac ?? "-"} ${n.stateless}`).toArray()).toEqual([
      "snat 172.56.0.200 10.16.0.2 - - false",
      "dnat_and_snat 172.56.0.233 10.16.0.3 - - false",
    ]);
  });

  it("adds the 29250 reroute to external-gw-addr per annotated pod and the src-ip routes, after the join default route", () => {
    const mine = policies(net).filter((p) => p.startsWith("29250 "));
    expect(mine).toEqual([`29250 ip4.src == 10.16.0.2 reroute ${GW}`, `29250 ip4.src == 10.16.0.3 reroute ${GW}`]);
    expect(lr.policies.filter((p) => p.priority === 29250).map((p) => ext(p.externalIds)).toArray()).toEqual([
      { subnet: "ovn-default", vendor: "kube-ovn" },
      { subnet: "ovn-default", vendor: "kube-ovn" },
    ]);
    expect(lr.staticRoutes.map((r) => `${r.policy} ${r.ipPrefix} ${r.nexthop}`).toArray()).toEqual(["dst-ip 0.0.0.0/0 100.64.0.1", `src-ip 10.16.0.2 ${GW}`, `src-ip 10.16.0.3 ${GW}`]);
  });

  it("takes the annotated pods out of their distributed port group (not out of the node's)", () => {
    expect(net.portGroups.get("ovn.default.kube.ovn.control.plane")!.ports.toArray()).toEqual(["web-1.default", "client-1.default"]);
    expect(net.portGroups.get("ovn.default.kube.ovn.worker")!.ports.toArray()).toEqual(["web-2.default", "client-2.default"]);
    expect(net.portGroups.get("node.kube.ovn.control.plane")!.ports.toArray()).toEqual(["pod-snat.default", "pod-eip.default", "web-1.default", "client-1.default"]);
  });
});

describe("default-vpc-eip: ovnsim trace shows the documented EIP and SNAT", () => {
  const leave = (pod: string): Promise<Awaited<ReturnType<typeof traceJson>>> => traceJson([DIR, "--from", `pod/default/${pod}`, "--to", "1.1.1.1", "--tcp", "443", ...ctArgs]);

  it("the SNAT pod leaves by localnet.external with the SNAT address, from the gateway port's MAC to the physical gateway", async () => {
    const t = await leave("pod-snat");
    expect(t.outputs.map((o) => o.port)).toEqual(["localnet.external"]);
    expect([t.outputs[0]!.packet["ip4.src"], t.outputs[0]!.packet["eth.src"], t.outputs[0]!.packet["eth.dst"]]).toEqual(["172.56.0.200", NIC_MAC, gwMac()]);
  });

  it("the EIP pod leaves with its EIP, through the gateway node", async () => {
    const t = await leave("pod-eip");
    expect(t.outputs.map((o) => o.port)).toEqual(["localnet.external"]);
    expect(t.outputs[0]!.packet["ip4.src"]).toBe("172.56.0.233");
    const path = await cli(["trace", DIR, "--from", "pod/default/pod-eip", "--to", "1.1.1.1", "--tcp", "443", "--minimal", ...ctArgs]);
    expect(path.out).toMatch(/wire kube-ovn-control-plane -> kube-ovn-worker: Geneve/);
    expect(path.out).toMatch(/wire kube-ovn-worker -> underlay gateway: external: untagged/);
  });

  it("the outside reaches the EIP pod at the EIP", async () => {
    const t = await traceJson([DIR, fromOutside(NIC_MAC, "172.56.0.233", 80), ...ctArgs]);
    expect(t.outputs.map((o) => o.port)).toEqual(["pod-eip.default"]);
    expect([t.outputs[0]!.packet["ip4.dst"], t.outputs[0]!.packet["ip4.src"], t.outputs[0]!.packet["eth.dst"]]).toEqual(["10.16.0.3", "203.0.113.7", podMac("pod-eip.default")]);
  });

  it("the other pods are unaffected: they leave through their own node's ovn0 (join) with their own address", async () => {
    for (const [pod, node] of [["client-1", "kube-ovn-control-plane"], ["client-2", "kube-ovn-worker"], ["web-1", "kube-ovn-control-plane"]] as const) {
      const t = await leave(pod);
      expect(t.outputs.map((o) => o.port), pod).toEqual([`node-${node}`]);
      expect(t.outputs[0]!.packet["ip4.src"], pod).toMatch(/^10\.16\.0\.\d+$/);
    }
  });

  it("as in stock OVN (README: a difference from Kube-OVN's patched OVN), the SNAT pod's src-ip route outranks ovn-default's connected route; a plain pod reaches the service's backend directly", async () => {
    const lb = ["--lb-dst", "10.16.0.5:80"];
    const snat = await traceJson([DIR, "--from", "pod/default/pod-snat", "--to", "svc/default/web", ...lb]);
    expect(snat.outputs.map((o) => o.port)).toEqual(["localnet.external"]);
    expect([snat.outputs[0]!.packet["ip4.src"], snat.outputs[0]!.packet["ip4.dst"]]).toEqual(["172.56.0.200", "10.16.0.5"]);
    const plain = await traceJson([DIR, "--from", "pod/default/client-1", "--to", "svc/default/web", ...lb]);
    expect(plain.outputs.map((o) => o.port)).toEqual(["web-2.default"]);
    // Pods on one switch are not affected: pod-eip reaches web-2 without the router.
    const same = await traceJson([DIR, "--from", "pod/default/pod-eip", "--to", "pod/default/web-2", "--tcp", "80", ...ctArgs]);
    expect(same.outputs.map((o) => o.port)).toEqual(["web-2.default"]);
    expect(same.outputs[0]!.packet["ip4.src"]).toBe("10.16.0.3");
  });
});

const BASE = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {ovn.kubernetes.io/external-gw: "true"}}
status: {addresses: [{type: InternalIP, address: 192.168.0.12}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, annotations: {ovn.kubernetes.io/eip: 172.56.0.10}}
spec: {nodeName: n1}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec: {nodeName: n1}
`;
const config = (data: string): string => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ovn-external-gw-config, namespace: kube-system}\ndata: {${data}}\n`;
const CENTRAL = `enable-external-gw: "true", external-gw-nodes: "n1", external-gw-nic: eth1, external-gw-addr: 172.56.0.1/16, nic-ip: 172.56.0.254/16`;

describe("ovn-external-gw-config from inline manifests", () => {
  it("centralized: the labelled node first, then external-gw-nodes; nic-mac derived when absent", () => {
    const n = loadText(BASE + config(CENTRAL)).network;
    const p = n.routers.get("ovn-cluster")!.ports.get("ovn-cluster-external")!;
    expect(p.gatewayChassis.map((g) => `${g.chassis} ${g.priority}`).toArray()).toEqual(["n2 100", "n1 99"]);
    expect(p.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(parseInt(p.mac.slice(0, 2), 16) & 3).toBe(2); // locally administered unicast, as Kube-OVN's
    for (const c of ["n1", "n2"]) expect(ext(n.chassis.get(c)!.bridgeMappings)).toEqual({ external: "br-external" });
  });

  it("distributed: gateway chassis are the labelled nodes only; the EIP is done on the pod's chassis, stateless", async () => {
    const text = BASE.replace("{name: n1}", '{name: n1, labels: {ovn.kubernetes.io/external-gw: "true"}}') + config(`${CENTRAL.replace('external-gw-nodes: "n1"', 'external-gw-nodes: "n9"')}, type: distributed`);
    const r = loadNetworkText(text, "m.yaml");
    expect(r.ok, r.ok ? "" : r.diags.map((d) => d.message).join("\n")).toBe(true);
    if (!r.ok) return;
    const n = r.value.network;
    const lrp = n.routers.get("ovn-cluster")!;
    // external-gw-nodes is not read with type distributed (n9 is no node, and that is no error).
    expect(lrp.ports.get("ovn-cluster-external")!.gatewayChassis.map((g) => g.chassis).toArray()).toEqual(["n1", "n2"]);
    const mac = n.switches.get("ovn-default")!.ports.get("a.default")!.addresses.first()!.split(" ")[0]!;
    expect(lrp.nat.map((x) => `${x.type} ${x.externalIp} ${x.logicalIp} ${x.logicalPort ?? "-"} ${x.externalMac ?? "-"} ${x.stateless}`).toArray()).toEqual([`dnat_and_snat 172.56.0.10 10.16.0.2 a.default ${mac} true`]);
    // Traced: the pod's own node (n1) rewrites the source to the EIP and puts it on the wire with the pod's MAC.
    const f = join(testDir("exgw"), "m.yaml");
    writeFileSync(f, text);
    const t = await traceJson([f, "--from", "pod/default/a", "--to", "1.1.1.1", "--tcp", "443", ...ctArgs]);
    expect(t.outputs.map((o) => o.port)).toEqual(["localnet.external"]);
    expect([t.outputs[0]!.packet["ip4.src"], t.outputs[0]!.packet["eth.src"]]).toEqual(["172.56.0.10", mac]);
    const path = await cli(["trace", f, "--from", "pod/default/a", "--to", "1.1.1.1", "--tcp", "443", "--minimal", ...ctArgs]);
    expect(path.out).toMatch(/wire n1 -> underlay gateway: external: untagged/);
    expect(path.out).not.toMatch(/Geneve/);
  });

  it("an underlay Subnet external without nic-ip: the port's address comes from the subnet, the next hop is its gateway", () => {
    const text = `${BASE}---
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: pn}
spec: {defaultInterface: eth1}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: v10}
spec: {id: 10, provider: pn}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: external}
spec: {cidrBlock: 172.56.0.0/24, gateway: 172.56.0.254, vlan: v10, excludeIps: [172.56.0.1..172.56.0.99]}
${config('external-gw-nodes: "n1", external-gw-nic: eth1')}`;
    const n = loadText(text).network;
    const lrp = n.routers.get("ovn-cluster")!;
    expect(lrp.ports.get("ovn-cluster-external")!.networks.toArray()).toEqual(["172.56.0.100/24"]);
    const ls = n.switches.get("external")!;
    expect(ls.ports.keySeq().toArray()).toEqual(["localnet.external", "external-ovn-cluster"]);
    expect([ls.ports.get("localnet.external")!.tag, ls.ports.get("localnet.external")!.options.get("network_name")]).toEqual([10, "pn"]);
    expect(policies(n).filter((p) => p.startsWith("29250"))).toEqual(["29250 ip4.src == 10.16.0.2 reroute 172.56.0.254"]);
    expect(n.macBindings.map((b) => `${b.logicalPort} ${b.ip}`).toArray()).toEqual(["ovn-cluster-external 172.56.0.254"]);
  });

  it("with custom VPCs (ovn-nat.ts): the ConfigMap's gateway nodes are labelled for them too, and type sets the FIPs' staleless option", () => {
    const vpc = `---
apiVersion: kubeovn.io/v1
kind: ProviderNetwork
metadata: {name: pn}
spec: {defaultInterface: eth1}
---
apiVersion: kubeovn.io/v1
kind: Vlan
metadata: {name: v0}
spec: {id: 0, provider: pn}
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: {name: external}
spec: {cidrBlock: 172.56.0.0/16, gateway: 172.56.0.1, vlan: v0}
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
metadata: {name: e1}
spec: {type: nat}
---
apiVersion: kubeovn.io/v1
kind: OvnFip
metadata: {name: e1}
spec: {ovnEip: e1, ipName: p.ns1}
`;
    const central = loadText(BASE + vpc + config(CENTRAL)).network;
    // n2 carries the label in its manifest; n1 is labelled by kube-ovn-controller (external-gw-nodes).
    expect(central.routers.get("vpc1")!.ports.get("vpc1-external")!.gatewayChassis.map((g) => g.chassis).toArray()).toEqual(["n2", "n1"]);
    expect(central.routers.get("vpc1")!.nat.first()!.options.get("staleless")).toBe("false");
    const distributed = loadText(BASE + vpc + config(`${CENTRAL}, type: distributed`)).network;
    expect(distributed.routers.get("vpc1")!.ports.get("vpc1-external")!.gatewayChassis.map((g) => g.chassis).toArray()).toEqual(["n2"]);
    expect(distributed.routers.get("vpc1")!.nat.first()!.options.get("staleless")).toBe("true");
  });

  it("EXTERNAL_GATEWAY_VLANID tags the localnet port, and the physical gateway sits on that VLAN", () => {
    const n = loadText(`apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: i}\nspec: {EXTERNAL_GATEWAY_VLANID: "56"}\n---\n${BASE}${config(CENTRAL)}`).network;
    expect(n.switches.get("external")!.ports.get("localnet.external")!.tag).toBe(56);
    expect(n.providerNetworks.get("external")!.gateways.map((g) => `${g.vlan} ${g.address}`).toArray()).toEqual(["56 172.56.0.1/16"]);
  });

  it("ENABLE_EIP_SNAT false: the ConfigMap and the annotations are ignored", () => {
    const n = loadText(`apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: i}\nspec: {ENABLE_EIP_SNAT: "false"}\n---\n${BASE}${config(CENTRAL)}`).network;
    expect(n.switches.has("external")).toBe(false);
    expect(n.routers.get("ovn-cluster")!.nat.size).toBe(0);
  });

  const cases: [string, string, RegExp][] = [
    ["outside kube-system", BASE + config(CENTRAL).replace("namespace: kube-system", "namespace: default"), /ConfigMap\/default\/ovn-external-gw-config: kube-ovn-controller reads ovn-external-gw-config only in namespace kube-system/],
    ["an unknown key", BASE + config(`${CENTRAL}, external-gw-switch: ext`), /ConfigMap\/kube-system\/ovn-external-gw-config: data\.external-gw-switch: not a key Kube-OVN reads/],
    ["a value that is not a string", BASE + config(CENTRAL.replace('"true"', "true")), /ConfigMap\/kube-system\/ovn-external-gw-config: data\.enable-external-gw true: expected a string \(quote it: "true"\)$/],
    ["a bad type", BASE + config(`${CENTRAL}, type: Distributed`), /data\.type "Distributed": expected centralized or distributed/],
    ["a gateway node that is no Node", BASE + config(CENTRAL.replace('"n1"', '"n1,n7"')), /data\.external-gw-nodes: n7: no Node of that name/],
    ["no gateway node", BASE.replace(', labels: {ovn.kubernetes.io/external-gw: "true"}', "") + config(CENTRAL.replace('external-gw-nodes: "n1", ', "")), /no gateway node: list them in data\.external-gw-nodes/],
    ["no NIC", BASE + config(CENTRAL.replace("external-gw-nic: eth1, ", "")), /data\.external-gw-nic "": expected the NIC/],
    ["nic-ip without a prefix length", BASE + config(CENTRAL.replace("172.56.0.254/16", "172.56.0.254")), /data\.nic-ip "172\.56\.0\.254": expected the router port's IPv4 address with its prefix length/],
    ["a multicast nic-mac", BASE + config(`${CENTRAL}, nic-mac: "01:00:5e:00:00:01"`), /data\.nic-mac "01:00:5e:00:00:01": expected a unicast MAC address/],
    ["a gateway outside the port's network", BASE + config(CENTRAL.replace("172.56.0.1/16", "172.57.0.1")), /data\.external-gw-addr 172\.57\.0\.1 is outside the router port's network 172\.56\.0\.0\/16/],
    ["no nic-ip and no Subnet external", BASE + config(CENTRAL.replace(", nic-ip: 172.56.0.254/16", "")), /data\.nic-ip is empty and there is no Subnet external/],
    ["a bad eip annotation", BASE.replace("ovn.kubernetes.io/eip: 172.56.0.10", "ovn.kubernetes.io/eip: 172.56.0") + config(CENTRAL), /Pod\/default\/a: ovn\.kubernetes\.io\/eip "172\.56\.0": expected an IPv4 address/],
    [
      "a network_name the gateway nodes do not map",
      `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: i}\nspec: {EXTERNAL_GATEWAY_NET: physnet}\n---\n${BASE}${config(CENTRAL)}`,
      /ConfigMap\/kube-system\/ovn-external-gw-config: the localnet port's network_name physnet \(EXTERNAL_GATEWAY_NET\) is not the name the gateway nodes map, external:br-external/,
    ],
    [
      "a nic-ip taken in the Subnet external",
      `${BASE}---\napiVersion: kubeovn.io/v1\nkind: ProviderNetwork\nmetadata: {name: pn}\nspec: {defaultInterface: eth1}\n---\napiVersion: kubeovn.io/v1\nkind: Vlan\nmetadata: {name: v10}\nspec: {id: 10, provider: pn}\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: external}\nspec: {cidrBlock: 172.56.0.0/16, gateway: 172.56.0.1, vlan: v10}\n---\napiVersion: kubeovn.io/v1\nkind: OvnEip\nmetadata: {name: e1}\nspec: {v4Ip: 172.56.0.254}\n${config(CENTRAL)}`,
      /data\.nic-ip 172\.56\.0\.254 is already taken in Subnet external \(172\.56\.0\.0\/16\)/,
    ],
    [
      "an overlay Subnet external",
      `${BASE}---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: external}\nspec: {cidrBlock: 172.56.0.0/16}\n${config(CENTRAL)}`,
      /Subnet external \(EXTERNAL_GATEWAY_SWITCH\) must be an underlay subnet without logicalGateway or u2oInterconnection: otherwise its own router port would also be ovn-cluster-external/,
    ],
    ["an eip without the ConfigMap", BASE, /Pod\/default\/a: ovn\.kubernetes\.io\/eip: the default VPC has no external gateway: there is no ConfigMap kube-system\/ovn-external-gw-config/],
    ["an eip with the gateway disabled", BASE + config('enable-external-gw: "false"'), /Pod\/default\/a: ovn\.kubernetes\.io\/eip: the default VPC has no external gateway: ConfigMap\/kube-system\/ovn-external-gw-config has enable-external-gw: "false"/],
    [
      "an eip another pod has",
      BASE + config(CENTRAL) + `---\napiVersion: v1\nkind: Pod\nmetadata: {name: c, annotations: {ovn.kubernetes.io/eip: 172.56.0.10}}\nspec: {nodeName: n2}\n`,
      /Pod\/default\/c: ovn\.kubernetes\.io\/eip 172\.56\.0\.10 is already the EIP of Pod\/default\/a/,
    ],
    [
      "an eip on a custom VPC's pod",
      BASE.replace("ovn.kubernetes.io/eip: 172.56.0.10", "x: y") +
        config(CENTRAL) +
        `---\napiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: v1}\nspec: {namespaces: [ns1]}\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s1}\nspec: {vpc: v1, cidrBlock: 192.168.0.0/24, namespaces: [ns1]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns1, annotations: {ovn.kubernetes.io/snat: 172.56.0.11}}\nspec: {nodeName: n1}\n`,
      /Pod\/ns1\/p: ovn\.kubernetes\.io\/snat: only pods of the default VPC's overlay \(or logicalGateway\) subnets get them; subnet s1 is in VPC v1 \(use OvnFip \/ OvnSnatRule\)/,
    ],
  ];
  it.each(cases)("%s: one error naming the resource, at its document", (_name, text, re) => {
    const r = loadNetworkText(text, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs, msgs.join("\n")).toHaveLength(1);
    expect(msgs[0]).toMatch(re);
    expect(msgs[0]).toMatch(/^m\.yaml:\d+:1: /);
  });
});
