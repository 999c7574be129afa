/**
 * Kube-OVN's VPC NAT gateway from manifests (kube-ovn-mapping.md §7, §8) on the docs scenario
 * scenarios/kube-ovn/vpc-nat-gateway: what the gateway pod and its model NatGateway are, the
 * iptables rules its CRs become (against the rule text of §8.2's table), the documented behaviour
 * through the trace path (a pod leaves as its SNAT EIP; an outside client reaches the DNAT
 * target and the reply goes back from the EIP), the golden `export --format nbctl` output with the
 * rows the doc promises, real OVN on the OVN segments of those paths (live where OVN is installed,
 * else against recordings), and one error per invalid manifest.
 *
 * Expected values come from the mapping doc, the Kube-OVN docs' example and IPAM rules (§2.3),
 * computed by hand here, not from ovnsim's output.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIpv4 } from "../../src/base/index.js";
import { compileMicroflow, compileNetwork, natGatewayConfig, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { DEFAULT_EXTERNAL_GATEWAY_MAC, LogicalExecutor, NAT_GATEWAY_CHAINS, createNatGateway, walkNetwork, type NatGatewayNode, type WalkEnd } from "../../src/dataplane/index.js";
import { W, field, getField } from "../../src/flow/index.js";
import type { Network } from "../../src/model/index.js";
import type { LogicalProgram } from "../../src/ofp/index.js";
import { evaluate, parseExpr } from "../../src/expr/index.js";
import { traceWithRealOvn } from "../../src/cli/conformance-run.js";
import { ovnAvailable, ovnVersion, parseMinimalTrace, verdictOf } from "../../src/ovn/index.js";
import { exportNbctl, exportNotes, renderScript, type Probe } from "../../src/scenario/index.js";
import { loadKubeManifests } from "../../src/scenario/kube/load.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { testDir } from "../temp-dir.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = join(ROOT, "scenarios/kube-ovn/vpc-nat-gateway");
const GOLDEN = join(ROOT, "fixtures/kube/golden/vpc-nat-gateway.nbctl");
const RECORDING = join(ROOT, "fixtures/kube/golden/vpc-nat-gateway.ovn-trace.json");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";

interface Source {
  readonly file: string;
  readonly text: string;
}

/** The scenario's files in name order, as the loader reads a directory. */
function scenarioSources(): Source[] {
  return readdirSync(DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(DIR, f), "utf8") }));
}

/** The scenario with `from` replaced by `to` in `file` (the text must occur), plus extra documents. */
function variant(edits: readonly { file: string; from: string | RegExp; to: string }[], extra = ""): Source[] {
  const out = scenarioSources().map((s) => {
    let text = s.text;
    for (const e of edits.filter((x) => x.file === s.file)) {
      const next = text.replace(e.from, e.to);
      if (next === text) throw new Error(`edit of ${s.file}: ${String(e.from)} not found`);
      text = next;
    }
    return { ...s, text };
  });
  if (extra) out.push({ file: "90-extra.yaml", text: extra });
  return out;
}

function load(sources: readonly Source[]): Network {
  const r = loadKubeManifests(sources, "vpc-nat-gateway");
  if (!r.ok) throw new Error(r.diags.map((d) => `${d.loc?.file}:${d.loc?.line}: ${d.message}`).join("\n"));
  return r.value.network;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** The first "MAC" of a switch port's addresses. */
function macOf(net: Network, port: string): string {
  const ls = net.switches.find((s) => s.ports.has(port));
  const a = ls?.ports.get(port)?.addresses.first();
  if (!a) throw new Error(`no port ${port}`);
  return a.split(" ")[0]!;
}

/** The trace path of `ovnsim trace` for networks with NAT gateways, kept across walks. */
class Tracer {
  readonly program: LogicalProgram;
  readonly gateways: NatGatewayNode[];
  readonly net: Network;
  private readonly exec: LogicalExecutor;
  constructor(net: Network) {
    this.net = net;
    const c = compileNetwork(net);
    if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("\n"));
    this.program = c.value.program;
    this.gateways = [...net.natGateways.keys()].map((name) => {
      const spec = natGatewayConfig(net, name);
      if (!spec.ok) throw new Error(spec.diags.map((d) => d.message).join("\n"));
      const node = createNatGateway(spec.value);
      if (!node.ok) throw new Error(node.diags.map((d) => d.message).join("\n"));
      return node.value;
    });
    this.exec = new LogicalExecutor(this.program, { ct: { kind: "trace" }, calls: portSecurityCalls(net, this.program), macBindings: traceInputs(net).macBindings });
  }
  /** A packet sent by a VIF (microflow with its inport). */
  fromPort(microflow: string): WalkEnd[] {
    const mf = compileMicroflow(this.program, undefined, microflow);
    if (!mf.ok) throw new Error(mf.diags.map((d) => d.message).join("\n"));
    return [...walkNetwork(this.exec, this.gateways, { kind: "ovn", datapath: mf.value.datapath, inport: mf.value.inport, key: mf.value.key }).ends];
  }
  /** A packet arriving from outside on net1 of `gw`, as `ovnsim trace --from-external` builds it. */
  fromExternal(gw: string, l34: string): WalkEnd[] {
    const g = this.net.natGateways.get(gw)!;
    const ls = this.net.switches.find((s) => s.ports.has(g.lanPort))!;
    const mf = compileMicroflow(this.program, ls.name, `inport == ${JSON.stringify(g.lanPort)} && eth.src == ${DEFAULT_EXTERNAL_GATEWAY_MAC} && eth.dst == ${g.externalMac} && ${l34}`);
    if (!mf.ok) throw new Error(mf.diags.map((d) => d.message).join("\n"));
    return [...walkNetwork(this.exec, this.gateways, { kind: "node", gateway: gw, iface: "net1", key: mf.value.key }).ends];
  }
}

/** `src:sport > dst:dport` of a key. */
function l4(k: Uint32Array): string {
  return `${formatIpv4(k[W.NW_SRC]!)}:${getField(k, field("tp_src"))} > ${formatIpv4(k[W.NW_DST]!)}:${getField(k, field("tp_dst"))}`;
}

function endText(e: WalkEnd): string {
  switch (e.kind) {
    case "delivered":
      return `delivered ${e.output.portName} ${l4(e.output.key)}`;
    case "left":
      return `left ${e.gateway} ${e.iface} ${l4(e.key)}`;
    case "local":
      return `local ${e.gateway} ${l4(e.key)}`;
    case "ovn-drop":
      return `ovn-drop ${e.drop.reason}`;
    case "node-drop":
      return `node-drop ${e.gateway} ${e.reason}`;
    case "walk-drop":
      return `walk-drop ${e.reason}`;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

describe("the docs scenario: VPC mail263 with NAT gateway gw1 (kube-ovn-mapping.md §7, §8.1)", () => {
  const net = load(scenarioSources());

  it("puts the gateway pod vpc-nat-gw-gw1-0 on subnet vmservers with lanIp 10.0.1.254, on the node its selector names", () => {
    const ls = net.switches.get("vmservers")!;
    const p = ls.ports.get("vpc-nat-gw-gw1-0.kube-system");
    expect(p, "§8.1: the pod is vpc-nat-gw-<gw>-0 in kube-system, its LSP <pod>.kube-system").toBeDefined();
    expect(p!.type).toBe("");
    expect(p!.addresses.toArray()).toHaveLength(1);
    expect(p!.addresses.first()).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5} 10\.0\.1\.254$/);
    expect(p!.chassis).toBe("kube-ovn-worker"); // selector kubernetes.io/hostname: kube-ovn-worker
    expect(p!.externalIds.get("pod")).toBe("kube-system/vpc-nat-gw-gw1-0");
    expect(p!.externalIds.get("ls")).toBe("vmservers");
  });

  it("gives net1 the lowest free external address and the EIPs their v4ip; the external subnet has no switch", () => {
    const gw = net.natGateways.get("gw1")!;
    expect(gw.vpc).toBe("mail263");
    expect(gw.lanPort).toBe("vpc-nat-gw-gw1-0.kube-system");
    expect(gw.lanIp).toBe("10.0.1.254");
    // 172.16.3.0/24 minus the gateway and excludeIps .1-.200 (§2.3): the lowest free is .201.
    expect(gw.externalCidr).toBe("172.16.3.201/24");
    expect(gw.externalGateway).toBe("172.16.3.1");
    expect(gw.eips.map((e) => e.ip).toObject()).toEqual({ "eip-snat": "172.16.3.208", "eip-dnat": "172.16.3.203" });
    // A subnet whose provider is an attachment (<nad>.<ns>) does IPAM only (§2.2).
    expect(net.switches.has("ovn-vpc-external-network")).toBe(false);
    expect(net.routers.get("ovn-cluster")!.ports.some((p) => p.networks.some((n) => n.startsWith("172.16.3.")))).toBe(false);
  });

  it("claims pinned EIPs before handing out the lowest free ones, whatever their document order", () => {
    const extra = `kind: IptablesEIP
apiVersion: kubeovn.io/v1
metadata: {name: eip-a}
spec: {natGwDp: gw1}
---
kind: IptablesEIP
apiVersion: kubeovn.io/v1
metadata: {name: eip-b}
spec: {natGwDp: gw1, v4ip: 172.16.3.202}
`;
    const eips = load(variant([], extra)).natGateways.get("gw1")!.eips;
    // .201 is net1's, .202 eip-b's, .203 eip-dnat's: eip-a gets .204. Listed in document order.
    expect(eips.map((e) => e.ip).toObject()).toEqual({ "eip-snat": "172.16.3.208", "eip-dnat": "172.16.3.203", "eip-a": "172.16.3.204", "eip-b": "172.16.3.202" });
  });

  it("leaves the VPC router without OVN NAT and with only the user's default route to lanIp (§7, §8.1)", () => {
    const lr = net.routers.get("mail263")!;
    expect(lr.nat.size).toBe(0);
    expect(lr.staticRoutes.map((r) => `${r.policy} ${r.ipPrefix} ${r.nexthop}`).toArray()).toEqual(["dst-ip 0.0.0.0/0 10.0.1.254"]);
  });

  it("has enough endpoints for a generated probe set of at least 30 probes (2 nodes, 6 pods)", () => {
    const vifs = [...net.switches.values()].flatMap((ls) => ls.ports.valueSeq().toArray()).filter((p) => p.type === "" && p.externalIds.get("pod")?.startsWith("sukai263/"));
    expect(vifs).toHaveLength(6);
    expect(new Set(vifs.map((p) => p.chassis)).size).toBe(2);
    expect(vifs.length * (vifs.length - 1)).toBeGreaterThanOrEqual(30);
  });
});

/** §8.2's rule templates filled in with a set of CR values. */
function docRules(c: { fips: { eip: string; ip: string }[]; dnats: { proto: string; eip: string; eport: string; ip: string; iport: string }[]; snats: { eip: string; cidr: string }[] }): Record<string, string[]> {
  return {
    // `init`, in this order: PREROUTING → DNAT_FILTER → EXCLUSIVE_DNAT then SHARED_DNAT, and the same for SNAT.
    PREROUTING: ["-A PREROUTING -j DNAT_FILTER"],
    POSTROUTING: ["-A POSTROUTING -j SNAT_FILTER"],
    DNAT_FILTER: ["-A DNAT_FILTER -j EXCLUSIVE_DNAT", "-A DNAT_FILTER -j SHARED_DNAT"],
    SNAT_FILTER: ["-A SNAT_FILTER -j EXCLUSIVE_SNAT", "-A SNAT_FILTER -j SHARED_SNAT"],
    EXCLUSIVE_DNAT: c.fips.map((f) => `-A EXCLUSIVE_DNAT -d ${f.eip} -j DNAT --to-destination ${f.ip}`),
    EXCLUSIVE_SNAT: c.fips.map((f) => `-A EXCLUSIVE_SNAT -s ${f.ip} -j SNAT --to-source ${f.eip}`),
    SHARED_DNAT: c.dnats.map((d) => `-A SHARED_DNAT -p ${d.proto} -d ${d.eip} --dport ${d.eport} -j DNAT --to-destination ${d.ip}:${d.iport}`),
    // v1.13's image has iptables 1.8 (> 1.6.2), so kube-ovn-controller adds --random-fully.
    SHARED_SNAT: c.snats.map((s) => `-A SHARED_SNAT -o net1 -s ${s.cidr} -j SNAT --to-source ${s.eip} --random-fully`),
  };
}

function tableRules(t: Tracer, gw: string): Record<string, string[]> {
  const node = t.gateways.find((g) => g.name === gw)!;
  return Object.fromEntries(["PREROUTING", "POSTROUTING", ...NAT_GATEWAY_CHAINS].map((c) => [c, node.table.rules(c).map((r) => r.text)]));
}

describe("the gateway pod's nat table is §8.2's, for the scenario's CRs", () => {
  it("one SNAT and one DNAT rule, from IptablesSnatRule snat-vmservers and IptablesDnatRule dnat-web", () => {
    const t = new Tracer(load(scenarioSources()));
    expect(tableRules(t, "gw1")).toEqual(
      docRules({
        fips: [],
        dnats: [{ proto: "tcp", eip: "172.16.3.203", eport: "8888", ip: "10.0.1.2", iport: "80" }],
        snats: [{ eip: "172.16.3.208", cidr: "10.0.1.0/24" }],
      }),
    );
  });

  // More CRs: a FIP on a third, randomly allocated EIP, a second SNAT and a second DNAT.
  const more = `kind: IptablesEIP
apiVersion: kubeovn.io/v1
metadata: {name: eip-fip}
spec: {natGwDp: gw1}
---
kind: IptablesFIPRule
apiVersion: kubeovn.io/v1
metadata: {name: fip-smtp}
spec: {eip: eip-fip, internalIp: 10.0.1.3}
---
kind: IptablesSnatRule
apiVersion: kubeovn.io/v1
metadata: {name: snat-dbservers}
spec: {eip: eip-snat, internalCIDR: 10.0.2.0/24}
---
kind: IptablesDnatRule
apiVersion: kubeovn.io/v1
metadata: {name: dnat-imap}
spec: {eip: eip-dnat, externalPort: "1143", internalIp: 10.0.1.4, internalPort: "143", protocol: TCP}
`;

  it("rules in document order within each chain; a FIP in the EXCLUSIVE chains", () => {
    const net = load(variant([], more));
    // Pinned EIPs are claimed first; eip-fip takes the lowest free address after net1's .201.
    expect(net.natGateways.get("gw1")!.eips.get("eip-fip")!.ip).toBe("172.16.3.202");
    expect(tableRules(new Tracer(net), "gw1")).toEqual(
      docRules({
        fips: [{ eip: "172.16.3.202", ip: "10.0.1.3" }],
        dnats: [
          { proto: "tcp", eip: "172.16.3.203", eport: "8888", ip: "10.0.1.2", iport: "80" },
          { proto: "tcp", eip: "172.16.3.203", eport: "1143", ip: "10.0.1.4", iport: "143" },
        ],
        snats: [
          { eip: "172.16.3.208", cidr: "10.0.1.0/24" },
          { eip: "172.16.3.208", cidr: "10.0.2.0/24" },
        ],
      }),
    );
  });

  it("the FIP chains come first: smtp (10.0.1.3) leaves as its FIP, not as the subnet's SNAT EIP, and is reached through it", () => {
    const t = new Tracer(load(variant([], more)));
    const smtpMac = macOf(t.net, "smtp.sukai263");
    const routerMac = t.net.routers.get("mail263")!.ports.get("mail263-vmservers")!.mac;
    const out = t.fromPort(`inport == "smtp.sukai263" && eth.src == ${smtpMac} && eth.dst == ${routerMac} && ip4.src == 10.0.1.3 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && tcp && tcp.src == 40025 && tcp.dst == 25`);
    expect(out.map(endText)).toEqual(["left gw1 net1 172.16.3.202:40025 > 8.8.8.8:25"]);
    const imap = t.fromPort(`inport == "imap.sukai263" && eth.src == ${macOf(t.net, "imap.sukai263")} && eth.dst == ${routerMac} && ip4.src == 10.0.1.4 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && tcp && tcp.src == 40026 && tcp.dst == 25`);
    expect(imap.map(endText)).toEqual(["left gw1 net1 172.16.3.208:40026 > 8.8.8.8:25"]);
    const inbound = t.fromExternal("gw1", "ip4.src == 198.51.100.7 && ip4.dst == 172.16.3.202 && ip.ttl == 64 && tcp && tcp.src == 50000 && tcp.dst == 25");
    expect(inbound.map(endText)).toEqual(["delivered smtp.sukai263 198.51.100.7:50000 > 10.0.1.3:25"]);
  });
});

describe("documented behaviour, through the trace path", () => {
  it("ovnsim trace: pod 10.0.1.2 → 8.8.8.8 leaves the cluster with source 172.16.3.208", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/sukai263/web", "--to", "8.8.8.8", "--tcp", "443", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("vpc-nat-gw-gw1-0.kube-system")');
    expect(r.out).toContain("-A SHARED_SNAT -o net1 -s 10.0.1.0/24 -j SNAT --to-source 172.16.3.208");
    expect(r.out).toMatch(/=> left the cluster on net1 of NAT gateway gw1: tcp 172\.16\.3\.208:\d+ > 8\.8\.8\.8:443/);
  });

  it("ovnsim trace --from-external: a client reaches 172.16.3.203:8888, which is 10.0.1.2:80", async () => {
    const r = await cli(["trace", DIR, "--from-external", "gw1", "--to", "172.16.3.203", "--tcp", "8888", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("-A SHARED_DNAT -p tcp -d 172.16.3.203 --dport 8888 -j DNAT --to-destination 10.0.1.2:80");
    expect(r.out).toMatch(/=> delivered to "web\.sukai263": tcp 203\.0\.113\.10:\d+ > 10\.0\.1\.2:80/);
  });

  it("the reply of 10.0.1.2:80 goes back out of net1 with source 172.16.3.203:8888; without the request it would be SNATed instead", () => {
    const t = new Tracer(load(scenarioSources()));
    const webMac = macOf(t.net, "web.sukai263");
    const routerMac = t.net.routers.get("mail263")!.ports.get("mail263-vmservers")!.mac;
    const reply = `inport == "web.sukai263" && eth.src == ${webMac} && eth.dst == ${routerMac} && ip4.src == 10.0.1.2 && ip4.dst == 203.0.113.10 && ip.ttl == 64 && tcp && tcp.src == 80 && tcp.dst == 40000`;
    const req = t.fromExternal("gw1", "ip4.src == 203.0.113.10 && ip4.dst == 172.16.3.203 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8888");
    expect(req.map(endText)).toEqual(["delivered web.sukai263 203.0.113.10:40000 > 10.0.1.2:80"]);
    expect(t.fromPort(reply).map(endText)).toEqual(["left gw1 net1 172.16.3.203:8888 > 203.0.113.10:40000"]);
    // A fresh gateway has no connection: the same packet is a new one, and the SNAT rule takes it.
    const fresh = new Tracer(t.net);
    expect(fresh.fromPort(reply).map(endText)).toEqual(["left gw1 net1 172.16.3.208:80 > 203.0.113.10:40000"]);
  });

  it("a subnet without an SNAT rule leaves with its own address; the VPC's other subnets route through the gateway pod", () => {
    const t = new Tracer(load(scenarioSources()));
    const dbMac = macOf(t.net, "db-0.sukai263");
    const routerMac = t.net.routers.get("mail263")!.ports.get("mail263-dbservers")!.mac;
    const out = t.fromPort(`inport == "db-0.sukai263" && eth.src == ${dbMac} && eth.dst == ${routerMac} && ip4.src == 10.0.2.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 40053 && udp.dst == 53`);
    expect(out.map(endText)).toEqual(["left gw1 net1 10.0.2.2:40053 > 8.8.8.8:53"]);
  });
});

/** The OVN segments of the documented paths, as ovn-trace probes. */
function ovnProbes(net: Network): Probe[] {
  const m = (p: string): string => macOf(net, p);
  const r = (lrp: string): string => net.routers.get("mail263")!.ports.get(lrp)!.mac;
  const gw = "vpc-nat-gw-gw1-0.kube-system";
  const probe = (name: string, datapath: string, microflow: string): Probe => ({ name, datapath, microflow, ct: [], expect: { kind: "drop" } });
  return [
    probe("web-to-internet", "vmservers", `inport == "web.sukai263" && eth.src == ${m("web.sukai263")} && eth.dst == ${r("mail263-vmservers")} && ip4.src == 10.0.1.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 443`),
    probe("natgw-dnat-to-web", "vmservers", `inport == "${gw}" && eth.src == ${m(gw)} && eth.dst == ${m("web.sukai263")} && ip4.src == 203.0.113.10 && ip4.dst == 10.0.1.2 && ip.ttl == 63 && tcp && tcp.src == 40000 && tcp.dst == 80`),
    probe("web-reply-to-client", "vmservers", `inport == "web.sukai263" && eth.src == ${m("web.sukai263")} && eth.dst == ${r("mail263-vmservers")} && ip4.src == 10.0.1.2 && ip4.dst == 203.0.113.10 && ip.ttl == 64 && tcp && tcp.src == 80 && tcp.dst == 40000`),
    probe("db0-to-internet", "dbservers", `inport == "db-0.sukai263" && eth.src == ${m("db-0.sukai263")} && eth.dst == ${r("mail263-dbservers")} && ip4.src == 10.0.2.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 40053 && udp.dst == 53`),
    probe("natgw-reply-to-db0", "vmservers", `inport == "${gw}" && eth.src == ${m(gw)} && eth.dst == ${r("mail263-vmservers")} && ip4.src == 8.8.8.8 && ip4.dst == 10.0.2.2 && ip.ttl == 63 && udp && udp.src == 53 && udp.dst == 40053`),
  ];
}

describe("real OVN on the OVN segments of those paths", () => {
  const net = load(scenarioSources());
  const probes = ovnProbes(net);
  let recording: { ovn: string; probes: Record<string, string> } | undefined = existsSync(RECORDING) ? JSON.parse(readFileSync(RECORDING, "utf8")) : undefined;

  it.skipIf(!LIVE)("the exported ovn-nbctl/ovn-sbctl commands run in a real OVN sandbox, and the recording is what ovn-trace says now", () => {
    const live = traceWithRealOvn(net, probes);
    expect(live.ok, live.ok ? "" : live.diags.map((d) => d.message).join("\n")).toBe(true);
    if (!live.ok) return;
    if (RECORD || !recording) {
      const rec = { ovn: ovnVersion() ?? "unknown", probes: Object.fromEntries(live.value) };
      const tmp = `${RECORDING}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(rec, null, 2) + "\n");
      renameSync(tmp, RECORDING);
      recording = rec;
    }
    for (const p of probes) expect(JSON.stringify(verdictOf(parseMinimalTrace(live.value.get(p.name)!))), p.name).toBe(JSON.stringify(verdictOf(parseMinimalTrace(recording.probes[p.name]!))));
  });

  it("real OVN (recorded) sends each packet where the documented path says, and ovnsim agrees on ports and rewritten fields", () => {
    expect(recording, `no recording at ${RECORDING}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    if (!recording) return;
    const t = new Tracer(net);
    const exec = new LogicalExecutor(t.program, { ct: { kind: "trace" }, calls: portSecurityCalls(net, t.program), macBindings: traceInputs(net).macBindings, gatewayRouters: new Set(traceInputs(net).gatewayRouters) });
    const expected: Record<string, string> = {
      "web-to-internet": "vpc-nat-gw-gw1-0.kube-system",
      "natgw-dnat-to-web": "web.sukai263",
      "web-reply-to-client": "vpc-nat-gw-gw1-0.kube-system",
      "db0-to-internet": "vpc-nat-gw-gw1-0.kube-system",
      "natgw-reply-to-db0": "db-0.sukai263",
    };
    for (const p of probes) {
      const ovn = verdictOf(parseMinimalTrace(recording.probes[p.name] ?? ""));
      expect(ovn.outputs.map((o) => o.port), p.name).toEqual([expected[p.name]]);
      const mf = compileMicroflow(t.program, p.datapath, p.microflow);
      expect(mf.ok).toBe(true);
      if (!mf.ok) continue;
      const r = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport });
      expect(r.outputs.map((o) => o.portName), p.name).toEqual([expected[p.name]]);
      for (const [f, v] of Object.entries(ovn.outputs[0]!.fields)) {
        if (!/^(eth|ip4|ip|tcp|udp)\./.test(f)) continue;
        const e = parseExpr(`${f} == ${v}`);
        expect(e.ok, `${p.name}: ${f} = ${v}`).toBe(true);
        if (!e.ok) continue;
        const same = evaluate(e.value, r.outputs[0]!.key, {});
        expect(same.ok && same.value, `${p.name}: real OVN has ${f} = ${v}`).toBe(true);
      }
    }
  });
});

describe("the golden export and the rows the doc promises", () => {
  const net = load(scenarioSources());
  const text = renderScript("ovn-nbctl", exportNbctl(net), exportNotes(net));

  it("export --format nbctl equals fixtures/kube/golden/vpc-nat-gateway.nbctl (OVNSIM_RECORD=1 rewrites)", async () => {
    if (RECORD) writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN), `no golden at ${GOLDEN}: run with OVNSIM_RECORD=1`).toBe(true);
    expect(text).toBe(readFileSync(GOLDEN, "utf8"));
    const r = await cli(["export", DIR, "--format", "nbctl"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(text);
  });

  it("has §7's VPC router, switch pairs, 31000 policies and LBs, and §8.1's gateway pod port", () => {
    const golden = readFileSync(GOLDEN, "utf8").split("\n");
    const has = (re: RegExp): void => expect(golden.some((l) => re.test(l)), String(re)).toBe(true);
    const mac = "[0-9a-f]{2}(?::[0-9a-f]{2}){5}";
    has(/^ovn-nbctl lr-add mail263$/);
    has(new RegExp(`^ovn-nbctl lrp-add mail263 mail263-vmservers ${mac} 10\\.0\\.1\\.1/24$`));
    has(new RegExp(`^ovn-nbctl lrp-add mail263 mail263-dbservers ${mac} 10\\.0\\.2\\.1/24$`));
    for (const s of ["vmservers", "dbservers"]) {
      has(new RegExp(`^ovn-nbctl lsp-add ${s} ${s}-mail263$`));
      has(new RegExp(`^ovn-nbctl lsp-set-type ${s}-mail263 router$`));
      has(new RegExp(`^ovn-nbctl lsp-set-options ${s}-mail263 router-port=mail263-${s}$`));
      for (const lb of ["tcp-load", "tcp-sess-load", "udp-load", "udp-sess-load", "sctp-load", "sctp-sess-load"]) has(new RegExp(`^ovn-nbctl ls-lb-add ${s} vpc-mail263-${lb}$`));
    }
    has(/^ovn-nbctl --id=@policy create Logical_Router_Policy priority=31000 'match="ip4\.dst == 10\.0\.1\.0\/24"' action=allow .*-- add Logical_Router mail263 policies @policy$/);
    has(/^ovn-nbctl --id=@policy create Logical_Router_Policy priority=31000 'match="ip4\.dst == 10\.0\.2\.0\/24"' action=allow .*-- add Logical_Router mail263 policies @policy$/);
    has(/^ovn-nbctl lr-route-add mail263 0\.0\.0\.0\/0 10\.0\.1\.254$/);
    has(/^ovn-nbctl lsp-add vmservers vpc-nat-gw-gw1-0\.kube-system$/);
    has(new RegExp(`^ovn-nbctl lsp-set-addresses vpc-nat-gw-gw1-0\\.kube-system '${mac} 10\\.0\\.1\\.254'$`));
    // A custom VPC's router has the default VPC's options (vpc.go createVpcRouter, §7).
    has(/^ovn-nbctl set Logical_Router mail263 'options:mac_binding_age_threshold="300"' 'options:dynamic_neigh_routers="true"' 'options:always_learn_from_arp_request="false"' external_ids:vendor=kube-ovn$/);
    // The gateway is iptables in a pod: no OVN NAT row, and no policy or route besides the above.
    expect(golden.filter((l) => /lr-nat-add|create NAT/.test(l))).toEqual([]);
    expect(golden.filter((l) => / (lr-route-add|add Logical_Router) mail263 /.test(l))).toHaveLength(3);
    expect(golden.filter((l) => l.includes("172.16.3.")).every((l) => l.startsWith("#"))).toBe(true);
  });
});

describe("invalid manifests: one error naming the resource, with its position", () => {
  const gwFile = "20-nat-gateway.yaml";
  const cases: [string, Source[], RegExp, string][] = [
    ["a rule naming a missing EIP", variant([{ file: gwFile, from: "eip: eip-snat", to: "eip: eip-nope" }]), /^IptablesSnatRule\/snat-vmservers: eip eip-nope: no IptablesEIP of that name$/, gwFile],
    ["an EIP whose natGwDp names a missing gateway", variant([{ file: gwFile, from: /natGwDp: gw1\n {2}v4ip: 172\.16\.3\.208/, to: "natGwDp: gw9\n  v4ip: 172.16.3.208" }]), /^IptablesEIP\/eip-snat: natGwDp gw9: no VpcNatGateway of that name$/, gwFile],
    ["a DNAT to an IP no pod has", variant([{ file: gwFile, from: "internalIp: 10.0.1.2", to: "internalIp: 10.0.1.99" }]), /^IptablesDnatRule\/dnat-web: internalIp 10\.0\.1\.99: no pod in VPC mail263 has this address$/, gwFile],
    [
      "a FIP to an IP no pod has",
      variant([], "kind: IptablesFIPRule\napiVersion: kubeovn.io/v1\nmetadata: {name: fip-x}\nspec: {eip: eip-snat, internalIp: 10.0.2.77}\n"),
      /^IptablesFIPRule\/fip-x: internalIp 10\.0\.2\.77: no pod in VPC mail263 has this address$/,
      "90-extra.yaml",
    ],
    ["an EIP outside the external subnet", variant([{ file: gwFile, from: "v4ip: 172.16.3.208", to: "v4ip: 172.16.4.208" }]), /^IptablesEIP\/eip-snat: v4ip 172\.16\.4\.208 is outside the external Subnet\/ovn-vpc-external-network \(172\.16\.3\.0\/24\)$/, gwFile],
    ["lanIp outside its subnet", variant([{ file: gwFile, from: "lanIp: 10.0.1.254", to: "lanIp: 10.0.9.254" }]), /^VpcNatGateway\/gw1: lanIp 10\.0\.9\.254 is outside Subnet\/vmservers \(10\.0\.1\.0\/24\)$/, gwFile],
    [
      "lanIp equal to the subnet gateway (the issue's literal numbers)",
      variant([{ file: "10-vpc.yaml", from: "cidrBlock: 10.0.1.0/24", to: "cidrBlock: 10.0.1.0/24\n  gateway: 10.0.1.254" }]),
      /^VpcNatGateway\/gw1: lanIp 10\.0\.1\.254 is the gateway of Subnet\/vmservers/,
      gwFile,
    ],
    [
      "lanIp in excludeIps",
      variant([{ file: "10-vpc.yaml", from: "cidrBlock: 10.0.1.0/24", to: "cidrBlock: 10.0.1.0/24\n  excludeIps: [10.0.1.250..10.0.1.254]" }]),
      /^VpcNatGateway\/gw1: lanIp 10\.0\.1\.254 is in Subnet\/vmservers's excludeIps$/,
      gwFile,
    ],
    [
      "a pod pinned to the gateway's lanIp (the gateway claims it first)",
      variant([], "apiVersion: v1\nkind: Pod\nmetadata: {name: squatter, namespace: sukai263, annotations: {ovn.kubernetes.io/ip_address: 10.0.1.254}}\nspec: {nodeName: kube-ovn-worker}\n"),
      /^Pod\/sukai263\/squatter: ip_address 10\.0\.1\.254 is already taken$/,
      "90-extra.yaml",
    ],
    ["a subnet of another VPC", variant([{ file: gwFile, from: "subnet: vmservers", to: "subnet: ovn-default" }]), /^VpcNatGateway\/gw1: subnet ovn-default is in VPC ovn-cluster, not in mail263$/, gwFile],
    ["enable-vpc-nat-gw false", variant([{ file: "00-cluster.yaml", from: "enable-vpc-nat-gw: 'true'", to: "enable-vpc-nat-gw: 'false'" }]), /^ConfigMap\/kube-system\/ovn-vpc-nat-gw-config: enable-vpc-nat-gw is "false"/, "00-cluster.yaml"],
    ["ovn-vpc-nat-gw-config missing", variant([{ file: "00-cluster.yaml", from: "name: ovn-vpc-nat-gw-config", to: "name: some-other-config" }]), /^VpcNatGateway\/gw1: ConfigMap kube-system\/ovn-vpc-nat-gw-config is missing/, gwFile],
    ["ovn-vpc-nat-config without image", variant([{ file: "00-cluster.yaml", from: /image: .*/, to: "image: ''" }]), /^ConfigMap\/kube-system\/ovn-vpc-nat-config: image is empty/, "00-cluster.yaml"],
    ["the external network's NAD missing", variant([{ file: gwFile, from: "- ovn-vpc-external-network", to: "- other-external" }]), /^VpcNatGateway\/gw1: NetworkAttachmentDefinition kube-system\/other-external is missing/, gwFile],
    ["no Subnet for the NAD's provider", variant([{ file: "00-cluster.yaml", from: "provider: ovn-vpc-external-network.kube-system\n  cidrBlock", to: "provider: elsewhere.kube-system\n  cidrBlock" }]), /^VpcNatGateway\/gw1: no Subnet has provider ovn-vpc-external-network\.kube-system/, gwFile],
    ["a selector no node satisfies", variant([{ file: gwFile, from: "kubernetes.io/hostname: kube-ovn-worker", to: "kubernetes.io/hostname: kube-ovn-worker2" }]), /^VpcNatGateway\/gw1: selector kubernetes\.io\/hostname: kube-ovn-worker2, kubernetes\.io\/os: linux matches no Node/, gwFile],
    [
      "two DNATs on one EIP and external port",
      variant([], "kind: IptablesDnatRule\napiVersion: kubeovn.io/v1\nmetadata: {name: dnat-again}\nspec: {eip: eip-dnat, externalPort: '8888', internalIp: 10.0.1.3, internalPort: '25', protocol: udp}\n"),
      /^IptablesDnatRule\/dnat-again: eip eip-dnat external port 8888 is already used by IptablesDnatRule\/dnat-web$/,
      "90-extra.yaml",
    ],
    [
      "two FIPs on one EIP",
      variant([], "kind: IptablesFIPRule\napiVersion: kubeovn.io/v1\nmetadata: {name: fip-a}\nspec: {eip: eip-snat, internalIp: 10.0.1.3}\n---\nkind: IptablesFIPRule\napiVersion: kubeovn.io/v1\nmetadata: {name: fip-b}\nspec: {eip: eip-snat, internalIp: 10.0.1.4}\n"),
      /^IptablesFIPRule\/fip-b: eip eip-snat is already used by IptablesFIPRule\/fip-a/,
      "90-extra.yaml",
    ],
    [
      "an EIP on another external network than its gateway's",
      variant([{ file: gwFile, from: /natGwDp: gw1\n {2}v4ip: 172\.16\.3\.208/, to: "natGwDp: gw1\n  externalSubnet: other-external\n  v4ip: 172.16.3.208" }]),
      /^IptablesEIP\/eip-snat: externalSubnet other-external is not the external network of VpcNatGateway gw1 \(ovn-vpc-external-network\)/,
      gwFile,
    ],
    ["a DNAT protocol other than tcp/udp", variant([{ file: gwFile, from: "protocol: tcp", to: "protocol: sctp" }]), /^IptablesDnatRule\/dnat-web: protocol "sctp": expected tcp or udp$/, gwFile],
    ["a DNAT port out of range", variant([{ file: gwFile, from: "externalPort: '8888'", to: "externalPort: '88888'" }]), /^IptablesDnatRule\/dnat-web: externalPort "88888" is not a port \(1\.\.65535\)$/, gwFile],
    ["an SNAT internalCIDR that is not a CIDR", variant([{ file: gwFile, from: "internalCIDR: 10.0.1.0/24", to: "internalCIDR: 10.0.1.0" }]), /^IptablesSnatRule\/snat-vmservers: internalCIDR "10\.0\.1\.0" is not an IPv4 CIDR$/, gwFile],
  ];

  it.each(cases)("%s", (_name, sources, re, file) => {
    const r = loadKubeManifests(sources, "vpc-nat-gateway");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => d.message);
    expect(msgs, msgs.join("\n")).toHaveLength(1);
    expect(msgs[0]).toMatch(re);
    expect(r.diags[0]!.loc?.file).toBe(file);
    expect(r.diags[0]!.loc!.line).toBeGreaterThan(0);
  });

  it("through the CLI: file:line:col per problem, exit 2", async () => {
    const dir = testDir("natgw");
    for (const s of variant([
      { file: gwFile, from: "lanIp: 10.0.1.254", to: "lanIp: 10.0.9.254" },
      { file: gwFile, from: "eip: eip-snat", to: "eip: eip-nope" },
    ]))
      writeFileSync(join(dir, s.file), s.text);
    const r = await cli(["trace", dir, "--from", "pod/sukai263/web", "--to", "8.8.8.8"]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/20-nat-gateway\.yaml:3:1: .*VpcNatGateway\/gw1: lanIp 10\.0\.9\.254 is outside Subnet\/vmservers/);
    expect(lines[1]).toMatch(/20-nat-gateway\.yaml:\d+:1: .*IptablesSnatRule\/snat-vmservers: eip eip-nope: no IptablesEIP of that name/);
  });
});
