/**
 * OVN-IC from Kube-OVN manifests (scenarios/kube-ovn/ovn-ic: two zones, az1 and az2, joined by the
 * transit switch `ts`): the rows kube-ovn-mapping.md §10 promises in each zone's Northbound
 * database, the golden `export --format nbctl` of both zones, their acceptance by real OVN, the
 * trace of an az1 pod to an az2 pod across both zones' gateways (CLI and library), real ovn-trace's
 * agreement on the zone-crossing packets, and one error per invalid manifest.
 *
 * Expected values come from the mapping doc, from Kube-OVN's "Cluster Inter-Connection with OVN-IC"
 * docs and from OVN's sources (the transit switch key), not from ovnsim's output.
 */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIpv4 } from "../../src/base/index.js";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { followPath } from "../../src/cli/trace-path.js";
import { compileMicroflow, compileNetwork } from "../../src/compile/index.js";
import type { WireHop } from "../../src/dataplane/index.js";
import type { Network } from "../../src/model/index.js";
import { decodeFrame, findLayer, ovnMetadataOf } from "../../src/packet/index.js";
import { loadNetworkFile, type Scenario } from "../../src/scenario/index.js";
import { LIVE, ROOT, applyToRealOvn, cli, disagreementsWithOvn, golden } from "./kube-docs-helpers.js";
import { testDir } from "../temp-dir.js";

const IC = join(ROOT, "scenarios/kube-ovn/ovn-ic");
const AZ1 = join(IC, "az1");
const AZ2 = join(IC, "az2");
/** OVN's first transit switch key, OVN_MIN_DP_KEY_GLOBAL: the top 2^16 of the 24-bit datapath key space. */
const TS_KEY = 2 ** 24 - 2 ** 16 + 1;

function load(dir: string): Scenario {
  const r = loadNetworkFile(dir);
  if (!r.ok) throw new Error(r.diags.map((d) => `${d.loc?.file}:${d.loc?.line}: ${d.message}`).join("\n"));
  return r.value;
}

const s1 = load(AZ1);
const s2 = load(AZ2);
const az1 = s1.network;
const az2 = s2.network;
const policyText = (n: Network): string[] => n.routers.get("ovn-cluster")!.policies.map((p) => `${p.priority} ${p.match} ${p.action}`).toArray();

describe("what ovn-ic and kube-ovn-controller write into each zone (kube-ovn-mapping.md §10)", () => {
  it("names each zone's network after its az-name and points it at the other zone", () => {
    expect(az1.name).toBe("az1");
    expect(az2.name).toBe("az2");
    expect(s1.zones).toEqual(["az2"]);
    expect(s2.zones).toEqual(["az1"]);
  });

  it("adds LS ts with other_config interconn-ts and the transit key, the same in both zones", () => {
    for (const n of [az1, az2]) {
      const ts = n.switches.get("ts")!;
      expect(ts.otherConfig.get("interconn-ts")).toBe("ts");
      expect(ts.tunnelKey).toBe(TS_KEY);
      expect(ts.loadBalancers.size).toBe(0);
    }
  });

  it("connects ovn-cluster to ts: LSP ts-<az> (router) and LRP <az>-ts, a gateway port on the gw-nodes", () => {
    for (const [n, az, gw] of [[az1, "az1", "az1-gw"], [az2, "az2", "az2-gw"]] as const) {
      const lsp = n.switches.get("ts")!.ports.get(`ts-${az}`)!;
      expect(lsp.type).toBe("router");
      expect(lsp.addresses.toArray()).toEqual(["router"]);
      expect(lsp.options.get("router-port")).toBe(`${az}-ts`);
      const lrp = n.routers.get("ovn-cluster")!.ports.get(`${az}-ts`)!;
      // An address of the transit subnet 169.254.100.0/24, in its lower half.
      expect(lrp.networks.size).toBe(1);
      const m = /^169\.254\.100\.(\d+)\/24$/.exec(lrp.networks.first()!);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(128);
      expect(lrp.gatewayChassis.map((g) => `${g.chassis}:${g.priority}`).toArray()).toEqual([`${gw}:100`]);
      expect(lrp.externalIds.get("vendor")).toBe("kube-ovn");
      // The gateway is an interconnection gateway (ovn-is-interconn), and only it.
      expect(n.chassis.filter((c) => c.isInterconn).keySeq().toArray()).toEqual([gw]);
    }
    // Two zones, two distinct transit addresses.
    expect(az1.routers.get("ovn-cluster")!.ports.get("az1-ts")!.networks.first()).not.toBe(az2.routers.get("ovn-cluster")!.ports.get("az2-ts")!.networks.first());
  });

  it("mirrors the other zone's router port as a remote LSP bound to its gateway, a remote chassis", () => {
    for (const [n, other, ownNet, gw, gwIp] of [
      [az1, "az2", az2, "az2-gw", "192.168.66.11"],
      [az2, "az1", az1, "az1-gw", "192.168.65.11"],
    ] as const) {
      const remote = n.switches.get("ts")!.ports.get(`ts-${other}`)!;
      expect(remote.type).toBe("remote");
      const lrp = ownNet.routers.get("ovn-cluster")!.ports.get(`${other}-ts`)!;
      // The remote port's address is the other zone's router port: its MAC and its network.
      expect(remote.addresses.toArray()).toEqual([`${lrp.mac} ${lrp.networks.first()}`]);
      expect(remote.chassis).toBe(gw);
      const ch = n.chassis.get(gw)!;
      expect(ch.isRemote).toBe(true);
      expect(ch.encaps.map((e) => `${e.type} ${e.ip}`).toArray()).toEqual([`geneve ${gwIp}`]);
    }
    // The transit switch's port keys agree across the zones.
    for (const p of ["ts-az1", "ts-az2"]) expect(az1.switches.get("ts")!.ports.get(p)!.tunnelKey).toBe(az2.switches.get("ts")!.ports.get(p)!.tunnelKey);
    // The local gateways stay local chassis.
    expect(az1.chassis.get("az1-gw")!.isRemote).toBe(false);
  });

  it("sets the auto-route options with the blacklist: join CIDR, disableInterConnection subnets, node IPs", () => {
    expect(az1.options.get("ic-route-adv")).toBe("true");
    expect(az1.options.get("ic-route-learn")).toBe("true");
    expect(az1.options.get("ic-route-blacklist")!.split(",").sort()).toEqual(["100.64.0.0/16", "10.18.0.0/16", "192.168.65.11", "192.168.65.12"].sort());
    expect(az2.options.get("ic-route-blacklist")!.split(",").sort()).toEqual(["100.64.0.0/16", "192.168.66.11", "192.168.66.12"].sort());
    // Kube-OVN's own NB_Global options are still there.
    expect(az1.options.get("ls_ct_skip_dst_lport_ips")).toBe("true");
  });

  it("learns the other zone's subnets as static routes via its transit address, and nothing blacklisted", () => {
    const learned = (n: Network) =>
      n.routers
        .get("ovn-cluster")!
        .staticRoutes.filter((r) => r.externalIds.has("ic-learned-route"))
        .map((r) => ({ prefix: r.ipPrefix, nexthop: r.nexthop, origin: r.options.get("origin"), policy: r.policy, table: r.routeTable }))
        .toArray();
    const ip = (n: Network, lrp: string): string => n.routers.get("ovn-cluster")!.ports.get(lrp)!.networks.first()!.split("/")[0]!;
    expect(learned(az1)).toEqual([{ prefix: "10.17.0.0/16", nexthop: ip(az2, "az2-ts"), origin: "connected", policy: "dst-ip", table: "" }]);
    // az1's 10.18.0.0/16 (disableInterConnection) and both join subnets are not learned.
    expect(learned(az2)).toEqual([{ prefix: "10.16.0.0/16", nexthop: ip(az1, "az1-ts"), origin: "connected", policy: "dst-ip", table: "" }]);
    // The join default route is untouched.
    expect(az1.routers.get("ovn-cluster")!.staticRoutes.first()!.ipPrefix).toBe("0.0.0.0/0");
  });

  it("adds the 29500 allow policy per learned prefix, so the 29000 reroute does not catch cross-zone traffic", () => {
    expect(policyText(az1).filter((p) => p.startsWith("29500"))).toEqual(["29500 ip4.dst == 10.17.0.0/16 allow"]);
    expect(policyText(az2).filter((p) => p.startsWith("29500"))).toEqual(["29500 ip4.dst == 10.16.0.0/16 allow"]);
    const p = az1.routers.get("ovn-cluster")!.policies.find((x) => x.priority === 29500)!;
    expect(Object.fromEntries(p.externalIds)).toEqual({ origin: "connected", vendor: "kube-ovn" });
  });

  it("matches the golden export of both zones", async () => {
    for (const [dir, name] of [[AZ1, "ovn-ic-az1"], [AZ2, "ovn-ic-az2"]] as const) {
      const [actual, expected] = await golden(dir, name);
      expect(actual).toBe(expected);
    }
  });

  it.skipIf(!LIVE)("is accepted by real OVN (every NB and SB command of both zones)", { timeout: 60_000 }, () => {
    expect(applyToRealOvn(az1)).toEqual([]);
    expect(applyToRealOvn(az2)).toEqual([]);
  });
});

function wireOf(h: WireHop): { src: string; dst: string; vni: number; inport: number; outport: number } {
  const d = decodeFrame(h.frame, 0, h.frame.length, 1);
  const ip = findLayer(d.layers, "ipv4")!;
  const g = findLayer(d.layers, "geneve")!;
  const md = ovnMetadataOf(g.repr)!;
  return { src: formatIpv4(ip.repr.src), dst: formatIpv4(ip.repr.dst), vni: g.repr.vni, inport: md.ingressPort, outport: md.egressPort };
}

describe("an az1 pod reaches an az2 pod through the transit switch", () => {
  it("ovnsim trace az1 --from pod/app/client-east --to pod/app/web-west-1 crosses az1-gw and az2-gw", async () => {
    const r = await cli(["trace", AZ1, "--from", "pod/app/client-east", "--to", "pod/app/web-west-1", "--tcp", "80", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("ts-az2")');
    const hops = r.out.split("\n").filter((l) => /^\s+\d+\. /.test(l)).map((l) => l.trim());
    expect(hops).toHaveLength(8);
    expect(hops[0]).toMatch(/^1\. chassis az1-worker \(az1\): from VIF client-east\.app/);
    expect(hops[1]).toMatch(/^2\. wire az1-worker -> az1-gw: Geneve 192\.168\.65\.12 -> 192\.168\.65\.11, .*egress port \d+ \(cr-az1-ts\)/);
    expect(hops[3]).toMatch(new RegExp(`^4\\. wire az1-gw -> az2-gw: Geneve 192\\.168\\.65\\.11 -> 192\\.168\\.66\\.11, VNI ${TS_KEY} \\(ts\\), .*\\(ts-az1\\), egress port \\d+ \\(ts-az2\\)`));
    expect(hops[4]).toMatch(/^5\. chassis az2-gw \(az2\): from geneve tunnel of az1-gw/);
    expect(hops[7]).toMatch(/^8\. delivered to web-west-1\.app on az2-worker/);
  });

  it("the library path: the wire keys are each zone's own, the transit switch's are shared, TTL 64 -> 62", () => {
    const from = s1.kube!.pods.get("app/client-east")!;
    const to = s2.network.switches.get("ovn-default")!.ports.get(s2.kube!.pods.get("app/web-west-1")!)!.addresses.first()!.split(" ")[1]!;
    const c1 = compileNetwork(az1);
    const c2 = compileNetwork(az2);
    if (!c1.ok || !c2.ok) throw new Error("compile");
    const mf = compileMicroflow(c1.value.program, undefined, friendlyMicroflow(az1, from, to, { tcp: 80 }));
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    const path = followPath(az1, from, mf.value.key, {}, false, [az2]);
    const chassis = path.result.hops.flatMap((h) => (h.kind === "chassis" ? [`${h.zone}/${h.chassis}`] : []));
    expect(chassis).toEqual(["az1/az1-worker", "az1/az1-gw", "az2/az2-gw", "az2/az2-worker"]);
    const wires = path.result.hops.filter((h): h is WireHop => h.kind === "wire").map(wireOf);
    const k1 = c1.value.program;
    const k2 = c2.value.program;
    expect(wires[0]).toMatchObject({ src: "192.168.65.12", dst: "192.168.65.11", vni: k1.datapathByName.get("ovn-cluster"), outport: k1.portByName.get("cr-az1-ts")!.key });
    expect(wires[1]).toMatchObject({ src: "192.168.65.11", dst: "192.168.66.11", vni: TS_KEY, inport: k1.portByName.get("ts-az1")!.key, outport: k2.portByName.get("ts-az2")!.key });
    expect(k1.datapathByName.get("ts")).toBe(TS_KEY);
    expect(k2.datapathByName.get("ts")).toBe(TS_KEY);
    expect(wires[2]).toMatchObject({ src: "192.168.66.11", dst: "192.168.66.12", vni: k2.datapathByName.get("ovn-default"), outport: k2.portByName.get("web-west-1.app")!.key });
    const last = path.result.hops[path.result.hops.length - 1]!;
    expect(last).toMatchObject({ kind: "deliver", chassis: "az2-worker", port: "web-west-1.app" });
    const d = decodeFrame(last.kind === "deliver" ? last.frame : new Uint8Array(), 0, last.kind === "deliver" ? last.frame.length : 0, 1);
    expect(findLayer(d.layers, "ipv4")!.repr.ttl).toBe(62);
  });

  it("and back: az2 client-west reaches az1 web-east-1 through az2-gw and az1-gw", async () => {
    const r = await cli(["trace", AZ2, "--from", "pod/app/client-west", "--to", "pod/app/web-east-1", "--tcp", "80", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("ts-az1")');
    const chassis = [...r.out.matchAll(/^\s+\d+\. chassis (\S+) \((\S+)\)/gm)].map((m) => `${m[2]}/${m[1]}`);
    expect(chassis).toEqual(["az2/az2-worker", "az2/az2-gw", "az1/az1-gw", "az1/az1-worker"]);
    expect(r.out).toMatch(/delivered to web-east-1\.app on az1-worker/);
  });

  it("a pod on the gateway node goes straight over the transit switch", async () => {
    const r = await cli(["trace", AZ1, "--from", "pod/app/web-east-2", "--to", "pod/app/web-west-2", "--tcp", "80", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    const chassis = [...r.out.matchAll(/^\s+\d+\. chassis (\S+) /gm)].map((m) => m[1]);
    expect(chassis).toEqual(["az1-gw", "az2-gw"]);
  });

  it("a blacklisted subnet (disableInterConnection) is not reached over ts: az2's 29000 reroute sends it to the node", async () => {
    const r = await cli(["trace", AZ2, "--from", "pod/app/client-west", "--to", "pod/internal/cache", "--tcp", "6379", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("node-az2-worker")');
    expect(r.out).not.toContain("ts-az1");
  });

  it("without the other zone, az1 has ts with only its own port and learns nothing", () => {
    const dir = testDir("ic");
    cpSync(AZ1, join(dir, "az1"), { recursive: true });
    const alone = load(join(dir, "az1"));
    expect(alone.zones).toEqual([]);
    expect(alone.network.switches.get("ts")!.ports.keySeq().toArray()).toEqual(["ts-az1"]);
    expect(alone.network.routers.get("ovn-cluster")!.staticRoutes.filter((r) => r.externalIds.has("ic-learned-route")).size).toBe(0);
    expect(policyText(alone.network).some((p) => p.startsWith("29500"))).toBe(false);
  });

  it("the directory of zones itself is not a network: exit 2, naming the zones", async () => {
    const r = await cli(["trace", IC, "--from", "pod/app/client-east", "--to", "pod/app/web-west-1"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/a directory of availability zones \(az1, az2\)/);
  });

  it("real ovn-trace agrees on the packets that leave and enter each zone", { timeout: 60_000 }, () => {
    const ip = (s: Scenario, pod: string): string => {
      const lsp = s.kube!.pods.get(pod)!;
      return s.network.switches.find((ls) => ls.ports.has(lsp))!.ports.get(lsp)!.addresses.first()!.split(" ")[1]!;
    };
    expect(disagreementsWithOvn("ovn-ic-az1", az1, [
      { name: "client-east-to-web-west-1", from: "client-east.app", to: ip(s2, "app/web-west-1"), l4: { tcp: 80 } },
      { name: "web-east-2-to-web-west-2-udp", from: "web-east-2.app", to: ip(s2, "app/web-west-2"), l4: { udp: 53 } },
      { name: "client-east-to-web-west-1-icmp", from: "client-east.app", to: ip(s2, "app/web-west-1"), l4: { icmp: true } },
      { name: "cache-to-az2", from: "cache.internal", to: ip(s2, "app/web-west-1"), l4: { tcp: 80 } },
      { name: "client-east-to-web-east-1", from: "client-east.app", to: "web-east-1.app", l4: { tcp: 80 } },
    ])).toEqual([]);
    expect(disagreementsWithOvn("ovn-ic-az2", az2, [
      { name: "client-west-to-web-east-1", from: "client-west.app", to: ip(s1, "app/web-east-1"), l4: { tcp: 80 } },
      { name: "client-west-to-cache-blacklisted", from: "client-west.app", to: ip(s1, "internal/cache"), l4: { tcp: 6379 } },
      { name: "client-west-to-az1-node", from: "client-west.app", to: "192.168.65.12", l4: { tcp: 10250 } },
    ])).toEqual([]);
  });
});

describe("invalid OVN-IC manifests name the resource and exit 2", () => {
  const node = (name: string, ip: string): string => `apiVersion: v1\nkind: Node\nmetadata: {name: ${name}}\nstatus: {addresses: [{type: InternalIP, address: ${ip}}]}\n`;
  const cm = (data: string, ns = "kube-system"): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ovn-ic-config, namespace: ${ns}}\ndata: {${data}}\n`;
  const ok = 'enable-ic: "true", az-name: az1, ic-db-host: 192.168.65.3, gw-nodes: gw1, auto-route: "true"';
  const install = (spec: string): string => `apiVersion: ovnsim.io/v1\nkind: InstallConfig\nmetadata: {name: install}\nspec: {${spec}}\n`;
  const oneZone: [string, string, RegExp][] = [
    ["not in kube-system", cm(ok, "default"), /ConfigMap\/default\/ovn-ic-config: kube-ovn-controller reads ovn-ic-config from namespace kube-system only/],
    ["an unknown key", cm(`${ok}, autoroute: "true"`), /ConfigMap\/kube-system\/ovn-ic-config: unknown key autoroute \(did you mean auto-route\? known: enable-ic, /],
    ["a value that is not a string", cm(ok.replace('enable-ic: "true"', "enable-ic: true")), /ConfigMap\/kube-system\/ovn-ic-config: data\.enable-ic true: expected a string \(quote it: "true"\)$/],
    ["enable-ic neither true nor false", cm(ok.replace('enable-ic: "true"', 'enable-ic: "yes"')), /ConfigMap\/kube-system\/ovn-ic-config: enable-ic "yes": expected "true" or "false"/],
    ["no az-name", cm(ok.replace("az-name: az1, ", "")), /ConfigMap\/kube-system\/ovn-ic-config: az-name is required/],
    ["no ic-db-host", cm(ok.replace("ic-db-host: 192.168.65.3, ", "")), /ConfigMap\/kube-system\/ovn-ic-config: ic-db-host is required/],
    ["no gw-nodes", cm(ok.replace("gw-nodes: gw1, ", "")), /ConfigMap\/kube-system\/ovn-ic-config: gw-nodes is required/],
    ["a gateway that is not a node", cm(ok.replace("gw-nodes: gw1", "gw-nodes: gw9")), /ConfigMap\/kube-system\/ovn-ic-config: gw-nodes: gw9 is not a Node of this zone/],
    ["VXLAN tunnels", `${install("TUNNEL_TYPE: vxlan")}---\n${cm(ok)}`, /ConfigMap\/kube-system\/ovn-ic-config: OVN-IC needs Geneve tunnels, but TUNNEL_TYPE is vxlan/],
    ["a bad TS_CIDR", `${install("TS_CIDR: 169.254.100.0/33")}---\n${cm(ok)}`, /InstallConfig\/install: TS_CIDR "169\.254\.100\.0\/33": expected an IPv4 CIDR/],
    [
      "a subnet named like the transit switch",
      `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: ts}\nspec: {cidrBlock: 10.99.0.0/24}\n---\n${cm(ok)}`,
      /ConfigMap\/kube-system\/ovn-ic-config: TS_NAME ts is already the name of a logical switch/,
    ],
  ];
  it.each(oneZone)("%s", async (_name, doc, re) => {
    const dir = testDir("ic-bad");
    writeFileSync(join(dir, "m.yaml"), `${node("gw1", "192.168.65.11")}---\n${doc}`);
    const r = loadNetworkFile(join(dir, "m.yaml"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs.some((m) => re.test(m)), msgs.join("\n")).toBe(true);
    expect(r.diags.every((d) => d.loc !== undefined && d.loc.file.endsWith("m.yaml") && d.loc.line > 1)).toBe(true);
    const c = await cli(["flows", join(dir, "m.yaml")]);
    expect(c.code).toBe(2);
  });

  /** Two zones in a fresh parent directory; returns az1's directory. */
  function twoZones(a: string, b: string): string {
    const dir = testDir("ic-zones");
    for (const [z, text] of [["az1", a], ["az2", b]] as const) {
      mkdirSync(join(dir, z));
      writeFileSync(join(dir, z, "m.yaml"), text);
    }
    return join(dir, "az1");
  }
  const zoneA = (extra = "", data = ok): string => `${node("gw1", "192.168.65.11")}---\n${cm(data)}${extra}`;
  const zoneB = (extra = "", data = ok.replace("az-name: az1", "az-name: az2").replace("gw-nodes: gw1", "gw-nodes: gw2"), gw = node("gw2", "192.168.66.11")): string => `${gw}---\n${cm(data)}${extra}`;
  const twoZoneCases: [string, string, string, RegExp][] = [
    ["the same az-name twice", zoneA(), zoneB("", ok.replace("gw-nodes: gw1", "gw-nodes: gw2")), /ConfigMap\/kube-system\/ovn-ic-config: az-name az1 is also the az-name of ConfigMap\/kube-system\/ovn-ic-config \(.*m\.yaml:\d+:1\)/],
    ["different transit subnets", zoneA(), zoneB(`---\n${install("TS_CIDR: 169.254.101.0/24")}`), /ovn-ic-config: the transit switch ts 169\.254\.100\.0\/24 differs from zone az2's ts 169\.254\.101\.0\/24/],
    ["overlapping subnets with auto-route", zoneA(), zoneB(`---\n${install("POD_CIDR: 10.16.0.0/16, POD_GATEWAY: 10.16.0.1")}`), /ovn-ic-config: auto-route: zone az2's subnet ovn-default network 10\.16\.0\.1\/16 overlaps this zone's subnet ovn-default network 10\.16\.0\.1\/16/],
    ["a node name used in both zones", zoneA(), zoneB("", ok.replace("az-name: az1", "az-name: az2"), node("gw1", "192.168.66.11")), /ovn-ic-config: node gw1 is in zones az1 and az2/],
    ["an InternalIP used in both zones", zoneA(), zoneB("", undefined, node("gw2", "192.168.65.11")), /node gw2 of zone az2 has the InternalIP 192\.168\.65\.11 of node gw1 of zone az1/],
  ];
  it.each(twoZoneCases)("across zones: %s", async (_name, a, b, re) => {
    const az1dir = twoZones(a, b);
    const r = loadNetworkFile(az1dir);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ` : ""}${d.message}`);
    expect(msgs.some((m) => re.test(m)), msgs.join("\n")).toBe(true);
    expect(r.diags.every((d) => d.loc !== undefined && d.loc.file.endsWith("m.yaml"))).toBe(true);
    const c = await cli(["export", az1dir]);
    expect(c.code).toBe(2);
  });

  it("zones of another IC database are not joined", () => {
    const az1dir = twoZones(zoneA(), zoneB("", ok.replace("az-name: az1", "az-name: az2").replace("gw-nodes: gw1", "gw-nodes: gw2").replace("192.168.65.3", "192.168.99.3")));
    const s = load(az1dir);
    expect(s.zones).toEqual([]);
    expect(s.network.switches.get("ts")!.ports.keySeq().toArray()).toEqual(["ts-az1"]);
  });

  it("several gw-nodes: gateway chassis 100, 99 in list order; the other zone knows both, bound to the first", () => {
    const a = `${node("gw1", "192.168.65.11")}---\n${node("gw1b", "192.168.65.12")}---\n${cm(ok.replace("gw-nodes: gw1", 'gw-nodes: "gw1,gw1b"'))}`;
    const az1dir = twoZones(a, zoneB(`---\n${install("POD_CIDR: 10.17.0.0/16, POD_GATEWAY: 10.17.0.1")}`));
    const z1 = load(az1dir).network;
    expect(z1.routers.get("ovn-cluster")!.ports.get("az1-ts")!.gatewayChassis.map((g) => `${g.chassis}:${g.priority}`).toArray()).toEqual(["gw1:100", "gw1b:99"]);
    const z2 = load(join(az1dir, "..", "az2")).network;
    expect(["gw1", "gw1b"].map((c) => z2.chassis.get(c)?.isRemote)).toEqual([true, true]);
    expect(z2.switches.get("ts")!.ports.get("ts-az1")!.chassis).toBe("gw1");
  });

  it("auto-route \"false\": the transit switch and ports, but no route options, learned routes or 29500 policies", () => {
    const manual = ok.replace('auto-route: "true"', 'auto-route: "false"');
    const az1dir = twoZones(zoneA("", manual), zoneB(`---\n${install("POD_CIDR: 10.17.0.0/16, POD_GATEWAY: 10.17.0.1")}`));
    const z1 = load(az1dir).network;
    expect(z1.switches.get("ts")!.ports.keySeq().toArray()).toEqual(["ts-az1", "ts-az2"]);
    expect(["ic-route-adv", "ic-route-learn", "ic-route-blacklist"].some((k) => z1.options.has(k))).toBe(false);
    expect(z1.routers.get("ovn-cluster")!.staticRoutes.some((r) => r.externalIds.has("ic-learned-route"))).toBe(false);
    expect(policyText(z1).some((p) => p.startsWith("29500"))).toBe(false);
    // The other zone does not learn from a zone that does not advertise.
    const z2 = load(join(az1dir, "..", "az2")).network;
    expect(z2.routers.get("ovn-cluster")!.staticRoutes.some((r) => r.externalIds.has("ic-learned-route"))).toBe(false);
  });

  it("enable-ic \"false\" maps nothing", () => {
    const dir = testDir("ic-off");
    writeFileSync(join(dir, "m.yaml"), `${node("gw1", "192.168.65.11")}---\n${cm(ok.replace('enable-ic: "true"', 'enable-ic: "false"'))}`);
    const s = load(join(dir, "m.yaml"));
    expect(s.network.switches.has("ts")).toBe(false);
    expect(s.network.options.has("ic-route-adv")).toBe(false);
  });
});

describe("switch port addresses in IP/PREFIX form, as ovn-ic writes remote ports (OVN accepts them)", () => {
  const yaml = (addr: string): string => `name: t\nswitches:\n  - name: ls\n    ports:\n      - {name: r, type: remote, addresses: ["${addr}"]}\n`;
  it("takes 00:00:00:00:00:01 169.254.100.2/24 and still refuses a prefix that is not one", async () => {
    const { loadNetworkText } = await import("../../src/scenario/index.js");
    expect(loadNetworkText(yaml("00:00:00:00:00:01 169.254.100.2/24"), "t.yaml").ok).toBe(true);
    const bad = loadNetworkText(yaml("00:00:00:00:00:01 169.254.100.2/40"), "t.yaml");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diags.map((d) => d.message).join("\n")).toMatch(/"169\.254\.100\.2\/40" is not an IP address or IP\/PREFIX/);
  });
});
