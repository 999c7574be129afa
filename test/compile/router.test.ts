/**
 * The logical-router flows (and the flows of the switches attached to routers) against what real
 * ovn-northd 23.03 writes for the same networks.
 *
 * The recordings (fixtures/compile/northd/router-*.txt) hold, per test network, every datapath's
 * Southbound logical flows (datapath, pipeline, stage, priority, match, actions) and the tunnel
 * keys northd assigned to datapaths and ports. The comparison is per datapath, as sets of flows,
 * exact text, and must show zero differences. Where OVN is installed, the networks are also
 * rebuilt in a sandbox and the recordings must still be what northd writes; `OVNSIM_RECORD=1`
 * rewrites them instead.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assignTunnelKeys, compileMicroflow, compileNetwork, routerLogicalFlows, switchLogicalFlows } from "../../src/compile/index.js";
import { LogicalExecutor } from "../../src/dataplane/index.js";
import { W, field, getField } from "../../src/flow/index.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { ROUTER_TEST_NETS, type RouterTestNet } from "./router-networks.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/compile/northd");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable();

interface Recording {
  /** Datapath name → its flows as lines. */
  readonly flows: Map<string, string[]>;
  readonly datapaths: Map<string, number>;
  readonly ports: Map<string, number>;
}

const flowLine = (f: { pipeline: string; stage: string; priority: number; match: string; actions: string }): string => [f.pipeline, f.stage, String(f.priority), f.match, f.actions].join("\t");

function fixturePath(n: RouterTestNet): string {
  return resolve(FIXTURES, `${n.name}.txt`);
}

function readRecording(n: RouterTestNet): Recording {
  const rec: Recording = { flows: new Map(), datapaths: new Map(), ports: new Map() };
  for (const line of readFileSync(fixturePath(n), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("%")) {
      const [kind, name, key] = line.slice(1).split(" ");
      if (kind === "datapath") rec.datapaths.set(name ?? "", Number(key));
      else if (kind === "port") rec.ports.set(name ?? "", Number(key));
      continue;
    }
    const tab = line.indexOf("\t");
    const dp = line.slice(0, tab);
    const list = rec.flows.get(dp) ?? [];
    list.push(line.slice(tab + 1));
    rec.flows.set(dp, list);
  }
  return rec;
}

function writeRecording(n: RouterTestNet, rec: Recording, version: string): void {
  const out = [
    `# Logical flows of every datapath that ovn-northd writes for the test network "${n.name}": ${n.what}.`,
    `# Recorded from ${version} by test/compile/router.test.ts (OVNSIM_RECORD=1 rewrites this file).`,
    "# %datapath NAME KEY; %port NAME KEY; then one flow per line, sorted:",
    "# datapath TAB pipeline TAB stage TAB priority TAB match TAB actions.",
  ];
  for (const [d, k] of [...rec.datapaths].sort((a, b) => a[1] - b[1])) out.push(`%datapath ${d} ${k}`);
  for (const [p, k] of [...rec.ports].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) out.push(`%port ${p} ${k}`);
  for (const [d, fl] of [...rec.flows].sort((a, b) => (a[0] < b[0] ? -1 : 1))) for (const l of fl) out.push(`${d}\t${l}`);
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(fixturePath(n), out.join("\n") + "\n");
}

/** Builds the network in a fresh sandbox (one object at a time) and reads back what northd wrote. */
function recordLive(n: RouterTestNet): Recording {
  const s = OvnSandbox.start();
  if (!s.ok) throw new Error(JSON.stringify(s.diags));
  const sb = s.value;
  try {
    for (const [name, ip] of n.chassis) {
      const r = sb.addChassis(name, ip);
      if (!r.ok) throw new Error(JSON.stringify(r.diags));
    }
    for (const c of n.nbctl) {
      const r = sb.nbctl("--wait=sb", ...c);
      if (!r.ok) throw new Error(JSON.stringify(r.diags));
    }
    const lf = sb.lflows();
    if (!lf.ok) throw new Error(JSON.stringify(lf.diags));
    const flows = new Map<string, string[]>();
    for (const f of lf.value) {
      for (const d of f.datapaths) {
        const list = flows.get(d) ?? [];
        list.push(flowLine(f));
        flows.set(d, list);
      }
    }
    for (const l of flows.values()) l.sort();
    const pb = sb.sbList("Port_Binding", ["logical_port", "tunnel_key"]);
    const dp = sb.sbList("Datapath_Binding", ["external_ids", "tunnel_key"]);
    if (!pb.ok || !dp.ok) throw new Error("could not read the Southbound database");
    const ports = new Map<string, number>();
    for (const r of pb.value) ports.set(String(r.logical_port), Number(r.tunnel_key));
    const datapaths = new Map<string, number>();
    for (const r of dp.value) {
      const ids = Array.isArray(r.external_ids) && r.external_ids[0] === "map" ? new Map((r.external_ids[1] as [string, string][]).map(([k, v]) => [k, v])) : new Map<string, string>();
      datapaths.set(ids.get("name") ?? "?", Number(r.tunnel_key));
    }
    return { flows, datapaths, ports };
  } finally {
    sb.stop();
  }
}

/**
 * Route table ids and ECMP member numbers follow the Northbound row (UUID) order in northd, which
 * a rebuilt database does not keep: ids become the name of a port using the table, and member
 * numbers a wildcard (the member flows stay distinct by their actions, the select() lists stay).
 */
function canonical(lines: readonly string[]): string[] {
  const table = new Map<string, string>();
  for (const l of lines) {
    const m = /^ingress\tlr_in_ip_routing_pre\t100\tinport == "([^"]+)"\treg7 = (\d+); next;$/.exec(l);
    if (m) table.set(m[2]!, m[1]!);
  }
  return lines.map((l) => l.replace(/reg7 (==|=) (\d+)/g, (all, op: string, id: string) => (table.has(id) ? `reg7 ${op} <${table.get(id)!}>` : all)).replace(/reg8\[16\.\.31\] == \d+/g, "reg8[16..31] == *"));
}

function diff(expected: readonly string[], actual: readonly string[]): { missing: string[]; extra: string[] } {
  const e = new Set(canonical(expected));
  const a = new Set(canonical(actual));
  return { missing: [...e].filter((x) => !a.has(x)), extra: [...a].filter((x) => !e.has(x)) };
}

function oursFor(n: RouterTestNet, dp: string): string[] {
  const flows = n.network.routers.has(dp) ? routerLogicalFlows(n.network, dp) : switchLogicalFlows(n.network, dp);
  return flows.map(flowLine).sort();
}

describe("router and attached-switch logical flows equal real ovn-northd 23.03", () => {
  for (const n of ROUTER_TEST_NETS) {
    const dps = [...n.network.switches.keys(), ...n.network.routers.keys()];
    for (const dp of dps) {
      it.skipIf(!RECORD && !existsSync(fixturePath(n)))(`${n.name}: ${dp}`, () => {
        if (RECORD && dp === dps[0]) writeRecording(n, recordLive(n), ovnVersion("ovn-northd") ?? "ovn-northd");
        const rec = readRecording(n);
        const ours = oursFor(n, dp);
        expect(new Set(ours).size, "no duplicate flows").toBe(ours.length);
        expect(diff(rec.flows.get(dp) ?? [], ours)).toEqual({ missing: [], extra: [] });
      });
    }
    it.skipIf(!RECORD && !existsSync(fixturePath(n)))(`${n.name}: tunnel keys`, () => {
      const rec = readRecording(n);
      const keys = assignTunnelKeys(n.network);
      const dpKeys = new Map<string, number>();
      const portKeys = new Map<string, number>();
      for (const [name, k] of keys.switches) {
        dpKeys.set(name, k.datapath);
        for (const [p, pk] of k.ports) portKeys.set(p, pk);
      }
      for (const [name, k] of keys.routers) {
        dpKeys.set(name, k.datapath);
        for (const [p, pk] of k.ports) portKeys.set(p, pk);
      }
      expect(dpKeys).toEqual(rec.datapaths);
      expect(portKeys).toEqual(rec.ports);
    });
  }
});

describe.skipIf(!LIVE || RECORD)("router recordings are still what northd writes (live)", () => {
  if (!LIVE) console.warn("OVN is not installed: the live check of fixtures/compile/northd/router-*.txt is skipped");
  for (const n of ROUTER_TEST_NETS) {
    it(n.name, { timeout: 60_000 }, () => {
      const live = recordLive(n);
      const rec = readRecording(n);
      for (const dp of new Set([...live.flows.keys(), ...rec.flows.keys()])) expect(diff(rec.flows.get(dp) ?? [], live.flows.get(dp) ?? []), dp).toEqual({ missing: [], extra: [] });
      expect(live.ports).toEqual(rec.ports);
      expect(live.datapaths).toEqual(rec.datapaths);
    });
  }
});

/** A 48-bit MAC field of a flow key as text (its high 16 bits are in the first word). */
function macAt(key: Uint32Array, word: number): string {
  const hex = (key[word]! & 0xffff).toString(16).padStart(4, "0") + key[word + 1]!.toString(16).padStart(8, "0");
  return hex.match(/../g)!.join(":");
}

describe("packets cross routers in the compiled program", () => {
  const run = (netName: string, microflow: string): { readonly outputs: readonly { portName: string; key: Uint32Array }[]; readonly drops: readonly { reason: string }[] } => {
    const n = ROUTER_TEST_NETS.find((x) => x.name === netName)!;
    const c = compileNetwork(n.network);
    if (!c.ok) throw new Error(JSON.stringify(c.diags));
    const mf = compileMicroflow(c.value.program, undefined, microflow);
    if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
    return new LogicalExecutor(c.value.program, { ct: { kind: "trace" } }).run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport });
  };
  const icmp = (inport: string, src: string, srcMac: string, gwMac: string, dst: string): string =>
    `inport == "${inport}" && eth.src == ${srcMac} && eth.dst == ${gwMac} && ip4.src == ${src} && ip4.dst == ${dst} && ip.ttl == 64 && icmp4.type == 8 && icmp4.code == 0`;

  it("pod → router → pod in another subnet: routed, MACs rewritten, TTL decremented", () => {
    const r = run("router-basic", icmp("p1", "10.0.1.10", "00:00:00:00:01:0a", "00:00:00:00:ff:01", "10.0.2.10"));
    expect(r.drops).toEqual([]);
    expect(r.outputs.map((o) => o.portName)).toEqual(["p3"]);
    const k = r.outputs[0]!.key;
    expect(macAt(k, W.ETH_SRC)).toBe("00:00:00:00:ff:02");
    expect(macAt(k, W.ETH_DST)).toBe("00:00:00:00:02:0a");
    expect(getField(k, field("nw_ttl"))).toBe(63);
  });

  it("through two routers joined by a peer port pair (TTL decremented twice)", () => {
    const r = run("router-peers", icmp("p1", "10.0.1.10", "00:00:00:00:01:0a", "00:00:00:00:ff:01", "10.0.2.10"));
    expect(r.outputs.map((o) => o.portName)).toEqual(["p3"]);
    expect(getField(r.outputs[0]!.key, field("nw_ttl"))).toBe(62);
  });

  it("Kube-OVN: a pod's packet to the outside is rerouted by the 29000 policy to its node", () => {
    const r = run("router-kube-ovn", icmp("pod-a.default", "10.16.0.10", "00:00:00:16:00:0a", "00:00:00:16:00:01", "8.8.8.8"));
    expect(r.outputs.map((o) => o.portName)).toEqual(["node-n1"]);
    expect(macAt(r.outputs[0]!.key, W.ETH_DST)).toBe("00:00:00:6a:00:02");
  });

  it("route tables and src-ip routes: the discard route drops, the src-ip route wins for its sources", () => {
    const discarded = run("router-routes", icmp("p3", "10.0.2.10", "00:00:00:00:02:0a", "00:00:00:00:ff:02", "172.16.1.1"));
    expect(discarded.outputs).toEqual([]);
    expect(discarded.drops.length).toBe(1);
    const bySource = run("router-routes", icmp("p1", "10.0.1.10", "00:00:00:00:01:0a", "00:00:00:00:ff:01", "172.16.1.1"));
    expect(bySource.outputs.map((o) => o.portName)).toEqual(["p4"]);
    const byTable = run("router-routes", icmp("p5", "10.0.3.10", "00:00:00:00:03:0a", "00:00:00:00:ff:03", "192.168.7.7"));
    expect(byTable.outputs.map((o) => o.portName)).toEqual(["p5"]);
  });
});
