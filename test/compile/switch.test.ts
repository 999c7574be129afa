/**
 * The logical-switch flows against what real ovn-northd 23.03 writes for the same networks.
 *
 * The recordings (fixtures/compile/northd/*.txt) hold, per test network, the Southbound logical
 * flows of switch ls1 (pipeline, stage, priority, match, actions) and the tunnel keys northd
 * assigned. The comparison is as sets of flows, exact text, and must show zero differences. Where
 * OVN is installed, the networks are also rebuilt in a sandbox and the recordings must still be
 * what northd writes; `OVNSIM_RECORD=1` rewrites them instead.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assignTunnelKeys, switchLogicalFlows } from "../../src/compile/switch.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { TEST_NETS, type TestNet } from "./switch-networks.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/compile/northd");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable();

interface Recording {
  readonly flows: string[];
  readonly datapath: number;
  readonly ports: Map<string, number>;
  /** Group name → key and member port names (sorted). */
  readonly groups: Map<string, { key: number; ports: string[] }>;
}

const flowLine = (f: { pipeline: string; stage: string; priority: number; match: string; actions: string }): string => [f.pipeline, f.stage, String(f.priority), f.match, f.actions].join("\t");

function fixturePath(n: TestNet): string {
  return resolve(FIXTURES, `${n.name}.txt`);
}

function readRecording(n: TestNet): Recording {
  const rec: Recording = { flows: [], datapath: 0, ports: new Map(), groups: new Map() };
  let dp = 0;
  for (const line of readFileSync(fixturePath(n), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("%")) {
      const [kind, name, key, ...rest] = line.slice(1).split(" ");
      if (kind === "datapath") dp = Number(key);
      else if (kind === "port") rec.ports.set(name ?? "", Number(key));
      else if (kind === "mc") rec.groups.set(name ?? "", { key: Number(key), ports: rest });
      continue;
    }
    rec.flows.push(line);
  }
  return { ...rec, datapath: dp };
}

function writeRecording(n: TestNet, rec: Recording, version: string): void {
  const out = [
    `# Logical flows of switch ls1 that ovn-northd writes for the test network "${n.name}": ${n.what}.`,
    `# Recorded from ${version} by test/compile/switch.test.ts (OVNSIM_RECORD=1 rewrites this file).`,
    "# %datapath NAME KEY; %port NAME KEY; %mc GROUP KEY MEMBERS...; then one flow per line, sorted:",
    "# pipeline TAB stage TAB priority TAB match TAB actions.",
    `%datapath ls1 ${rec.datapath}`,
  ];
  for (const [p, k] of [...rec.ports].sort((a, b) => a[1] - b[1])) out.push(`%port ${p} ${k}`);
  for (const [g, v] of [...rec.groups].sort((a, b) => a[1].key - b[1].key)) out.push(`%mc ${[g, String(v.key), ...v.ports].join(" ")}`);
  out.push(...rec.flows);
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(fixturePath(n), out.join("\n") + "\n");
}

function uuid(v: unknown): string {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "";
}

function uuids(v: unknown): string[] {
  if (Array.isArray(v) && v[0] === "set") return (v[1] as unknown[]).map(uuid);
  return [uuid(v)];
}

/** Builds the network in a fresh sandbox (one object at a time) and reads back what northd wrote. */
function recordLive(n: TestNet): Recording {
  const s = OvnSandbox.start();
  if (!s.ok) throw new Error(JSON.stringify(s.diags));
  const sb = s.value;
  try {
    for (const c of n.nbctl) {
      const r = sb.nbctl("--wait=sb", ...c);
      if (!r.ok) throw new Error(JSON.stringify(r.diags));
    }
    const lf = sb.lflows();
    if (!lf.ok) throw new Error(JSON.stringify(lf.diags));
    const flows = lf.value.filter((f) => f.datapaths.includes("ls1")).map(flowLine).sort();
    const pb = sb.sbList("Port_Binding", ["_uuid", "logical_port", "tunnel_key"]);
    const mc = sb.sbList("Multicast_Group", ["name", "tunnel_key", "ports"]);
    const dp = sb.sbList("Datapath_Binding", ["tunnel_key"]);
    if (!pb.ok || !mc.ok || !dp.ok) throw new Error("could not read the Southbound database");
    const ports = new Map<string, number>();
    const byUuid = new Map<string, string>();
    for (const r of pb.value) {
      ports.set(String(r.logical_port), Number(r.tunnel_key));
      byUuid.set(uuid(r._uuid), String(r.logical_port));
    }
    const groups = new Map<string, { key: number; ports: string[] }>();
    for (const r of mc.value) groups.set(String(r.name), { key: Number(r.tunnel_key), ports: uuids(r.ports).map((u) => byUuid.get(u) ?? "?").sort() });
    return { flows, datapath: Number(dp.value[0]?.tunnel_key ?? 0), ports, groups };
  } finally {
    sb.stop();
  }
}

function diff(expected: readonly string[], actual: readonly string[]): { missing: string[]; extra: string[] } {
  const e = new Set(expected);
  const a = new Set(actual);
  return { missing: [...e].filter((x) => !a.has(x)), extra: [...a].filter((x) => !e.has(x)) };
}

describe("switch logical flows equal real ovn-northd 23.03", () => {
  for (const n of TEST_NETS) {
    it.skipIf(!RECORD && !existsSync(fixturePath(n)))(`${n.name}: ${n.what}`, () => {
      if (RECORD) writeRecording(n, recordLive(n), ovnVersion("ovn-northd") ?? "ovn-northd");
      const rec = readRecording(n);
      const ours = switchLogicalFlows(n.network, "ls1").map(flowLine).sort();
      expect(new Set(ours).size, "no duplicate flows").toBe(ours.length);
      expect(diff(rec.flows, ours)).toEqual({ missing: [], extra: [] });
    });
    it(`${n.name}: tunnel keys and multicast groups`, () => {
      const rec = readRecording(n);
      const keys = assignTunnelKeys(n.network).switches.get("ls1");
      expect(keys?.datapath).toBe(rec.datapath);
      expect(new Map(keys?.ports)).toEqual(rec.ports);
      expect(new Map(keys?.multicast.map((g) => [g.name, { key: g.key, ports: [...g.ports].sort() }]))).toEqual(rec.groups);
    });
  }
});

describe.skipIf(!LIVE || RECORD)("recordings are still what northd writes (live)", () => {
  if (!LIVE) console.warn("OVN is not installed: the live check of fixtures/compile/northd is skipped");
  for (const n of TEST_NETS) {
    it(n.name, { timeout: 60_000 }, () => {
      const live = recordLive(n);
      const rec = readRecording(n);
      expect(diff(rec.flows, live.flows)).toEqual({ missing: [], extra: [] });
      expect(live.ports).toEqual(rec.ports);
    });
  }
});
