/**
 * Kube-OVN `natOutgoing` from manifests (kube-ovn-mapping.md §1.6, §1.7, §2.2), on
 * fixtures/kube/nat-outgoing: three nodes; ovn-default (natOutgoing from the install), `nonat`
 * (a Subnet without the field), `central` (centralized on n-2 with `gatewayNode: "n-2:172.18.0.100"`),
 * `central-plain` (centralized on n-3) and `tenant` (custom VPC vpc1, natOutgoing set but
 * meaningless there).
 *
 * The host sets and rules are checked against the doc's text; the documented behaviour — a pod's
 * packet for the outside leaves its node's NIC MASQUERADEd to the InternalIP, or with the pod's
 * address without natOutgoing, a centralized subnet leaves at its gateway node (SNATed to `:ip`
 * when given), pod → other subnet is not masqueraded, and the answer comes back to the pod — goes
 * through the trace path: `ovnsim trace` itself, and the library calls it makes.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { is } from "immutable";
import { describe, expect, it } from "vitest";
import { formatIpv4 } from "../../src/base/index.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { compileMicroflow, compileNetwork, nodeHostConfig, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { LogicalExecutor, createNodeHost, replyKey, walkNetwork, type NodeHostNode, type WalkEnd, type WalkResult } from "../../src/dataplane/index.js";
import { W, field, getField } from "../../src/flow/index.js";
import type { Network } from "../../src/model/index.js";
import { loadNetworkFile, loadNetworkText, loadScenario, saveScenario } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = join(ROOT, "fixtures/kube/nat-outgoing");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

function load(): Network {
  const r = loadNetworkFile(DIR);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  return r.value.network;
}

const NODE_IP: Record<string, string> = { "n-1": "192.168.0.11", "n-2": "192.168.0.12", "n-3": "192.168.0.13" };

/** kube-ovn-mapping.md §1.7 OVN-POSTROUTING (rules 1-12) and its two helper chains, for a node. */
function docRules(nodeIp: string, snat?: { cidr: string; ip: string }): string[] {
  return [
    "-A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff",
    "-A OVN-MASQUERADE -j MASQUERADE --random-fully",
    `-A OVN-POSTROUTING -m set --match-set ovn40services src -m set --match-set ovn40subnets dst -m mark --mark 0x4000/0x4000 -j SNAT --to-source ${nodeIp} --random-fully`,
    "-A OVN-POSTROUTING -m mark --mark 0x4000/0x4000 -j OVN-MASQUERADE",
    "-A OVN-POSTROUTING -m set --match-set ovn40subnets src -m set --match-set ovn40subnets dst -j OVN-MASQUERADE",
    "-A OVN-POSTROUTING -m mark --mark 0x80000/0x80000 -m set --match-set ovn40subnets-distributed-gw dst -j RETURN",
    "-A OVN-POSTROUTING -m mark --mark 0x80000/0x80000 -j OVN-MASQUERADE",
    "-A OVN-POSTROUTING -p tcp -m tcp --tcp-flags SYN NONE -m conntrack --ctstate NEW -j RETURN",
    "-A OVN-POSTROUTING -m set ! --match-set ovn40subnets src -m set ! --match-set ovn40other-node src -m set --match-set ovn40subnets-nat dst -j RETURN",
    "-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat-policy src -m set ! --match-set ovn40subnets dst -j OVN-NAT-POLICY",
    "-A OVN-POSTROUTING -m mark --mark 0x90001/0x90001 -j OVN-MASQUERADE",
    "-A OVN-POSTROUTING -m mark --mark 0x90002/0x90002 -j RETURN",
    ...(snat ? [`-A OVN-POSTROUTING -s ${snat.cidr} -m set ! --match-set ovn40subnets dst -j SNAT --to-source ${snat.ip} --random-fully`] : []),
    "-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE",
    "-A OVN-PREROUTING -i ovn0 -m set --match-set ovn40subnets src -m set --match-set ovn40services dst -j MARK --set-xmark 0x4000/0x4000",
  ];
}

function hostsOf(net: Network): NodeHostNode[] {
  return [...net.nodeHosts.keys()].map((n) => {
    const c = nodeHostConfig(net, n);
    if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
    const h = createNodeHost(c.value);
    if (!h.ok) throw new Error(h.diags.map((d) => d.message).join("; "));
    return h.value;
  });
}

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
      return `local ${e.gateway}`;
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

/** What `ovnsim trace --from POD --to IP` does, as library calls, with the hosts kept across walks. */
class Tracer {
  readonly net = load();
  readonly hosts = hostsOf(this.net);
  private readonly c = compileNetwork(this.net);
  private readonly exec: LogicalExecutor;
  constructor() {
    if (!this.c.ok) throw new Error(this.c.diags.map((d) => d.message).join("\n"));
    const program = this.c.value.program;
    this.exec = new LogicalExecutor(program, { ct: { kind: "trace" }, calls: portSecurityCalls(this.net, program), macBindings: traceInputs(this.net).macBindings });
  }
  /** A pod's packet (the friendly form's microflow). */
  send(pod: string, to: string, l: { tcp?: number; udp?: number }): WalkResult {
    if (!this.c.ok) throw new Error("no program");
    const mf = compileMicroflow(this.c.value.program, undefined, friendlyMicroflow(this.net, pod, to, l));
    if (!mf.ok) throw new Error(mf.diags.map((d) => d.message).join("\n"));
    return walkNetwork(this.exec, this.hosts, { kind: "ovn", datapath: mf.value.datapath, inport: mf.value.inport, key: mf.value.key });
  }
  /** The outside's answer to a packet that left. */
  answer(e: WalkEnd): WalkResult {
    if (e.kind !== "left") throw new Error(`not a packet that left: ${endText(e)}`);
    return walkNetwork(this.exec, this.hosts, { kind: "host", host: e.gateway, iface: e.iface, key: replyKey(e.key) });
  }
}

describe("the host of each node, from manifests", () => {
  const net = load();
  const members = (node: string, set: string): string[] =>
    net.nodeHosts
      .get(node)!
      .ipsets.get(set)!
      .members.map((m) => m.address)
      .toArray()
      .sort();

  it("has a host per Node on its node-<node> port, with the doc's ipsets (custom-VPC subnets never in them)", () => {
    expect([...net.nodeHosts.keys()]).toEqual(["n-1", "n-2", "n-3"]);
    expect(net.nodeHosts.map((h) => `${h.port} ${h.nic} ${h.address}`).toObject()).toEqual({ "n-1": "node-n-1 eth0 192.168.0.11/32", "n-2": "node-n-2 eth0 192.168.0.12/32", "n-3": "node-n-3 ens5 192.168.0.13/32" });
    for (const n of ["n-1", "n-2", "n-3"]) {
      // Default-VPC overlay subnets, join included; the tenant's 10.30.0.0/24 nowhere.
      expect(members(n, "ovn40subnets")).toEqual(["10.16.0.0/16", "10.17.0.0/16", "10.18.0.0/16", "10.19.0.0/16", "100.64.0.0/16"]);
      expect(members(n, "ovn40subnets-nat")).toEqual(["10.16.0.0/16", "10.18.0.0/16", "10.19.0.0/16"]);
      expect(members(n, "ovn40subnets-distributed-gw")).toEqual(["10.16.0.0/16", "10.17.0.0/16", "100.64.0.0/16"]);
      expect(members(n, "ovn40services")).toEqual(["10.96.0.0/12"]);
      expect(members(n, "ovn40other-node")).toEqual(Object.entries(NODE_IP).filter(([k]) => k !== n).map(([, v]) => v).sort());
      expect(net.nodeHosts.get(n)!.ovn0Routes.toArray().sort()).toEqual(["10.16.0.0/16", "10.17.0.0/16", "10.18.0.0/16", "10.19.0.0/16"]);
    }
    const nat = net.nodeHosts.get("n-1")!.ipsets.get("ovn40subnets-nat")!.members.find((m) => m.address === "10.16.0.0/16")!;
    expect(nat.owner).toMatch(/^Subnet\/ovn-default\b/);
  });

  it("each node's nat rules are §1.7's, filled in; only the centralized subnet's gateway node has rule 11", () => {
    for (const h of hostsOf(net)) {
      const rules = h.iptablesSave().filter((l) => l.startsWith("-A OVN-"));
      expect(rules).toEqual(docRules(NODE_IP[h.name]!, h.name === "n-2" ? { cidr: "10.18.0.0/16", ip: "172.18.0.100" } : undefined));
    }
  });

  it("saves to a scenario file and loads back equal", () => {
    const text = saveScenario(net);
    const again = loadScenario(text, "saved.yaml");
    if (!again.ok) throw new Error(again.diags.map((d) => d.message).join("\n"));
    expect(is(again.value.network.nodeHosts, net.nodeHosts)).toBe(true);
  });
});

describe("documented behaviour, through ovnsim trace", () => {
  it("pod → 8.8.8.8 with natOutgoing leaves node n-1's NIC with source = its InternalIP, naming the rule and the Subnet", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "8.8.8.8", "--tcp", "443"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output to "node-n-1"');
    expect(r.out).toContain('On node n-1\'s host (ovn0 is "node-n-1"):');
    expect(r.out).toContain("host n-1: route 0.0.0.0/0 dev eth0 (default route)");
    expect(r.out).toContain("-A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE");
    expect(r.out).toMatch(/src 10\.16\.0\.2 in ovn40subnets-nat by 10\.16\.0\.0\/16 from Subnet\/ovn-default/);
    expect(r.out).toContain("-A OVN-MASQUERADE -j MASQUERADE --random-fully → ip4.src = 192.168.0.11");
    expect(r.out).toMatch(/=> left the cluster on eth0 of node n-1: tcp 192\.168\.0\.11:49152 > 8\.8\.8\.8:443 ttl 62\n/);
  });

  it("without natOutgoing the packet leaves with the pod's address", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/ns-nonat/c", "--to", "8.8.8.8", "--udp", "53", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("host n-1: POSTROUTING: no nat rule translated the packet (source 10.17.0.2 kept)");
    expect(r.out).toMatch(/=> left the cluster on eth0 of node n-1: udp 10\.17\.0\.2:49152 > 8\.8\.8\.8:53/);
  });

  it("a centralized subnet exits at its gateway node, SNATed to gatewayNode's :ip; without :ip, MASQUERADEd to that node", async () => {
    const d = await cli(["trace", DIR, "--from", "pod/ns-central/d", "--to", "8.8.8.8", "--tcp", "443", "--minimal"]);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toMatch(/Geneve 192\.168\.0\.11 -> 192\.168\.0\.12/);
    expect(d.out).toContain("-A OVN-POSTROUTING -s 10.18.0.0/16 -m set ! --match-set ovn40subnets dst -j SNAT --to-source 172.18.0.100 --random-fully → ip4.src = 172.18.0.100 (Subnet/central");
    expect(d.out).toMatch(/=> left the cluster on eth0 of node n-2: tcp 172\.18\.0\.100:49152 > 8\.8\.8\.8:443/);
    const e = await cli(["trace", DIR, "--from", "pod/ns-plain/e", "--to", "8.8.8.8", "--tcp", "443", "--minimal"]);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/=> left the cluster on ens5 of node n-3: tcp 192\.168\.0\.13:49152 > 8\.8\.8\.8:443/);
  });

  it("--reply: the answer to the MASQUERADEd packet is un-NATed by n-1 and re-enters OVN through ovn0 to the pod", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "8.8.8.8", "--tcp", "443", "--minimal", "--reply"]);
    expect(r.code, r.err).toBe(0);
    const answer = r.out.slice(r.out.indexOf("The answer from outside, back in:"));
    expect(answer).toContain("host n-1: in on eth0: tcp 8.8.8.8:443 > 192.168.0.11:49152 ttl 64, conntrack: reply (connection 1)");
    expect(answer).toContain("host n-1: PREROUTING conntrack: SNAT undone → ip4.dst = 10.16.0.2");
    expect(answer).toContain('ovn: join from "node-n-1": tcp 8.8.8.8:443 > 10.16.0.2:49152');
    expect(answer).toMatch(/=> delivered to "a\.default": tcp 8\.8\.8\.8:443 > 10\.16\.0\.2:49152/);
  });

  it("pod → another subnet is routed by OVN, not through a host: not masqueraded", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "pod/ns-nonat/c", "--tcp", "80", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output("c.ns-nonat")');
    expect(r.out).not.toContain("On node");
  });

  it("--json stays the logical trace of OVN (the host is in the text forms)", async () => {
    const r = await cli(["trace", DIR, "--from", "pod/default/a", "--to", "8.8.8.8", "--tcp", "443", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { outputs: { port: string; packet: Record<string, unknown> }[] };
    expect(j.outputs.map((o) => o.port)).toEqual(["node-n-1"]);
    expect(j.outputs[0]!.packet["ip4.src"]).toBe("10.16.0.2");
  });
});

describe("documented behaviour, through the library calls of the trace path", () => {
  it("request and answer: n-1 MASQUERADEs a.default to 192.168.0.11 and the answer reaches a.default on its own address and port", () => {
    const t = new Tracer();
    const out = t.send("a.default", "8.8.8.8", { tcp: 443 });
    expect(out.ends.map(endText)).toEqual(["left n-1 eth0 192.168.0.11:49152 > 8.8.8.8:443"]);
    expect(t.answer(out.ends[0]!).ends.map(endText)).toEqual(["delivered a.default 8.8.8.8:443 > 10.16.0.2:49152"]);
  });

  it("two pods on one node share its address, with distinct ports, and each gets its own answer", () => {
    const t = new Tracer();
    const a = t.send("a.default", "8.8.8.8", { udp: 53 });
    const a2 = t.send("a2.default", "8.8.8.8", { udp: 53 });
    expect(a.ends.map(endText)).toEqual(["left n-1 eth0 192.168.0.11:49152 > 8.8.8.8:53"]);
    expect(a2.ends.map(endText)).toEqual(["left n-1 eth0 192.168.0.11:49153 > 8.8.8.8:53"]);
    expect(t.answer(a2.ends[0]!).ends.map(endText)).toEqual(["delivered a2.default 8.8.8.8:53 > 10.16.0.4:49152"]);
    expect(t.answer(a.ends[0]!).ends.map(endText)).toEqual(["delivered a.default 8.8.8.8:53 > 10.16.0.2:49152"]);
    // A pod on another node leaves by that node.
    const b = t.send("b.default", "8.8.8.8", { udp: 53 });
    expect(b.ends.map(endText)).toEqual(["left n-2 eth0 192.168.0.12:49152 > 8.8.8.8:53"]);
  });

  it("the centralized subnet's answer comes back through its gateway node n-2 and a tunnel to d on n-1", () => {
    const t = new Tracer();
    const out = t.send("d.ns-central", "1.1.1.1", { udp: 53 });
    expect(out.ends.map(endText)).toEqual(["left n-2 eth0 172.18.0.100:49152 > 1.1.1.1:53"]);
    expect(t.answer(out.ends[0]!).ends.map(endText)).toEqual(["delivered d.ns-central 1.1.1.1:53 > 10.18.0.2:49152"]);
  });

  it("pod → other subnet and pod → node: no translation", () => {
    const t = new Tracer();
    expect(t.send("a.default", "10.17.0.2", { tcp: 80 }).ends.map(endText)).toEqual(["delivered c.ns-nonat 10.16.0.2:49152 > 10.17.0.2:80"]);
    // 30000 reroute to n-2's join address: the node itself receives the pod's own address.
    const node = t.send("a.default", "192.168.0.12", { tcp: 10250 });
    expect(node.ends.map(endText)).toEqual(["local n-2"]);
    const hop = node.hops.find((h) => h.kind === "host");
    expect(hop?.kind === "host" && l4(hop.step.key)).toBe("10.16.0.2:49152 > 192.168.0.12:10250");
  });

  it("the custom VPC's subnet never reaches a host (natOutgoing does nothing there)", () => {
    const t = new Tracer();
    expect(t.send("v.ns-tenant", "8.8.8.8", { tcp: 443 }).ends.map((e) => e.kind)).toEqual(["ovn-drop"]);
  });
});

describe("invalid natOutgoing manifests name the resource and exit 2", () => {
  const base = readdirSync(DIR)
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(DIR, f), "utf8") }));
  const variant = (from: string, to: string): { file: string; text: string }[] => base.map((s) => ({ file: s.file, text: s.text.includes(from) ? s.text.replace(from, to) : s.text }));
  const cases: [string, string, string, RegExp][] = [
    ["natOutgoing not a boolean", "  natOutgoing: true\n  gatewayType: centralized\n  gatewayNode: n-3", '  natOutgoing: "yes"\n  gatewayType: centralized\n  gatewayNode: n-3', /Subnet\/central-plain: spec\.natOutgoing "yes": expected a boolean$/],
    ["gatewayNode ip not an address", 'gatewayNode: "n-2:172.18.0.100"', 'gatewayNode: "n-2:172.18.0.300"', /Subnet\/central: gatewayNode "n-2:172\.18\.0\.300": "172\.18\.0\.300" is not an IPv4 address/],
  ];
  it.each(cases)("%s", (_name, from, to, re) => {
    const srcs = variant(from, to);
    expect(srcs.some((s, i) => s.text !== base[i]!.text)).toBe(true);
    const r = loadNetworkText(srcs.map((s) => s.text).join("---\n"), "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const msgs = r.diags.map((d) => d.message);
    expect(msgs, msgs.join("\n")).toHaveLength(1);
    expect(msgs[0]).toMatch(re);
    expect(r.diags[0]!.loc?.file).toBe("m.yaml");
    expect(r.diags[0]!.loc!.line).toBeGreaterThan(1);
  });

  it("through the CLI: file:line:col per problem, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-natout-"));
    let srcs = variant(cases[0]![1], cases[0]![2]);
    srcs = srcs.map((s) => ({ ...s, text: s.text.replace(cases[1]![1], cases[1]![2]) }));
    try {
      for (const s of srcs) writeFileSync(join(dir, s.file), s.text);
      const r = await cli(["trace", dir, "--from", "pod/default/a", "--to", "8.8.8.8"]);
      expect(r.code).toBe(2);
      const lines = r.err.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/10-subnets\.yaml:\d+:1: .*Subnet\/central: gatewayNode "n-2:172\.18\.0\.300"/);
      expect(lines[1]).toMatch(/10-subnets\.yaml:\d+:1: .*Subnet\/central-plain: spec\.natOutgoing "yes": expected a boolean$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
