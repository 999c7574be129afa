/**
 * The checks every Kube-OVN docs scenario (scenarios/kube-ovn/<name>/) gets, shared by the
 * underlay and OVN NAT tests:
 * - its `export --format nbctl` equals the golden fixtures/kube/golden/<name>.nbctl
 *   (OVNSIM_RECORD=1 rewrites it);
 * - its README has at least four `ovnsim ...` commands, each naming the scenario;
 * - it gives a probe set of at least 30 pod pairs (2+ nodes, 6+ pods);
 * - real OVN builds it from the exported commands without an error and real ovn-trace agrees
 *   with ovnsim on the given packets. Real OVN's outputs are recorded in
 *   fixtures/kube/golden/<name>.ovn.json with a digest of the commands they were taken on, so the
 *   comparison also runs where OVN is absent (or with OVNSIM_NO_OVN=1); live runs fail when the
 *   recording is stale, and OVNSIM_RECORD=1 rewrites it.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { friendlyMicroflow, kubeEndpoints } from "../../src/cli/trace.js";
import { compareProbes, OvnsimTracer, traceWithRealOvn } from "../../src/cli/conformance-run.js";
import type { Network } from "../../src/model/index.js";
import { CHASSIS_FEATURES, ovnAvailable, ovnVersion, parseMinimalTrace, verdictOf } from "../../src/ovn/index.js";
import { exportNbctl, exportSbctl, loadNetworkFile, loadNetworkText, type Probe, type Scenario } from "../../src/scenario/index.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const DOCS = join(ROOT, "scenarios/kube-ovn");
const GOLDEN = join(ROOT, "fixtures/kube/golden");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";

/** Runs the CLI in process. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

export function load(dir: string): Scenario {
  const r = loadNetworkFile(dir);
  if (!r.ok) throw new Error(r.diags.map((d) => `${d.loc?.file ?? ""}:${d.loc?.line ?? ""}: ${d.message}`).join("\n"));
  return r.value;
}

export function loadText(text: string): Scenario {
  const r = loadNetworkText(text, "m.yaml");
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("\n"));
  return r.value;
}

/** A router's policies as `PRIORITY MATCH ACTION[ NEXTHOPS]`. */
export const policies = (net: Network, lr = "ovn-cluster"): string[] =>
  net.routers.get(lr)!.policies.map((p) => `${p.priority} ${p.match} ${p.action}${p.nexthops.size ? ` ${p.nexthops.join(",")}` : ""}`).toArray();

/** An ordered map as a plain object. */
export const ext = (m: { entrySeq(): { toArray(): [string, string][] } }): Record<string, string> => Object.fromEntries(m.entrySeq().toArray());

/** `ovnsim trace ... --json`: the JSON object. */
export interface TraceJson {
  verdict: string;
  outputs: { port: string; packet: Record<string, string | number> }[];
  hops: { kind: string; stage?: string; match?: string; object?: string }[];
}
export async function traceJson(args: string[]): Promise<TraceJson> {
  const r = await cli(["trace", ...args, "--json"]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as TraceJson;
}

/** The probe of the friendly form `--from FROM --to TO --tcp PORT` (pod/, svc/, node/ names allowed). */
export function friendlyProbe(s: Scenario, name: string, from: string, to: string, tcp: number, ct: readonly string[]): Probe {
  const ends = kubeEndpoints(s, from, to, { tcp });
  const microflow = friendlyMicroflow(s.network, ends.from, ends.to, ends.l4);
  const datapath = s.network.switches.find((ls) => ls.ports.has(ends.from))!.name;
  return { name, datapath, microflow, ct, expect: { kind: "drop" } };
}

interface Recording {
  readonly ovn: string;
  /** sha256 of the ovn-nbctl and ovn-sbctl commands real OVN accepted. */
  readonly commands: string;
  readonly probes: Record<string, string>;
}

function commandsDigest(net: Network): string {
  return createHash("sha256").update(JSON.stringify([exportNbctl(net), exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES })])).digest("hex");
}

/** Builds `net` in a real OVN sandbox (every command must succeed) and traces `probes` there. */
function runInOvn(net: Network, probes: readonly Probe[]): Recording {
  const live = traceWithRealOvn(net, probes);
  if (!live.ok) throw new Error(live.diags.map((d) => d.message).join("; "));
  return { ovn: ovnVersion() ?? "unknown", commands: commandsDigest(net), probes: Object.fromEntries(live.value) };
}

/** ovnsim's disagreements with recorded ovn-trace outputs, one line each: output ports and rewritten header fields. */
function disagreements(net: Network, probes: readonly Probe[], rec: Recording): string[] {
  const tracer = OvnsimTracer.create(net);
  if (!tracer.ok) return ["the network does not compile"];
  return compareProbes(tracer.value, probes, new Map(Object.entries(rec.probes))).flatMap((c) => c.disagreements.map((d) => `${c.probe.name}: ${d}`));
}

/** Registers the shared checks of docs scenario `name`; `probes` are the packets compared with real OVN. */
export function docsScenarioChecks(name: string, s: Scenario, probes: readonly Probe[]): void {
  const dir = join(DOCS, name);

  it("matches its golden export --format nbctl (OVNSIM_RECORD=1 rewrites)", async () => {
    const r = await cli(["export", dir, "--format", "nbctl"]);
    expect(r.code, r.err).toBe(0);
    const path = join(GOLDEN, `${name}.nbctl`);
    if (RECORD || !existsSync(path)) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(path, r.out);
    }
    expect(r.out).toBe(readFileSync(path, "utf8"));
  });

  it("has a README whose commands name this scenario", () => {
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const cmds = readme.split("\n").filter((l) => l.startsWith("ovnsim "));
    expect(cmds.length).toBeGreaterThanOrEqual(4);
    for (const c of cmds) expect(c).toContain(`scenarios/kube-ovn/${name}`);
  });

  it("gives at least 30 pod-pair probes (2+ nodes, 6+ pods)", () => {
    expect(s.network.chassis.size).toBeGreaterThanOrEqual(2);
    expect(s.kube!.pods.size * (s.kube!.pods.size - 1)).toBeGreaterThanOrEqual(30);
  });

  const recPath = join(GOLDEN, `${name}.ovn.json`);
  let rec: Recording | undefined = existsSync(recPath) ? (JSON.parse(readFileSync(recPath, "utf8")) as Recording) : undefined;

  it.skipIf(!LIVE)("real OVN accepts the exported commands, and the recording is what it says now", () => {
    const live = runInOvn(s.network, probes);
    if (RECORD || !rec) {
      mkdirSync(GOLDEN, { recursive: true });
      const tmp = `${recPath}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(live, null, 2) + "\n");
      renameSync(tmp, recPath);
      rec = live;
    }
    expect(rec.commands, "recorded on other commands: run with OVNSIM_RECORD=1").toBe(live.commands);
    for (const p of probes) expect(verdictOf(parseMinimalTrace(live.probes[p.name]!)), p.name).toEqual(verdictOf(parseMinimalTrace(rec.probes[p.name] ?? "")));
  });

  it("real OVN (recorded) accepted these very commands and agrees with ovnsim on the documented packets", () => {
    expect(rec, `no recording at ${recPath}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    expect(rec!.commands).toBe(commandsDigest(s.network));
    for (const p of probes) expect(rec!.probes[p.name], p.name).toBeDefined();
    expect(disagreements(s.network, probes, rec!)).toEqual([]);
  });
}
