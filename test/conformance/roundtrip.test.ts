/**
 * The Northbound round trip against real OVN: for every scenario, the NB database real OVN made for
 * it (fixtures/ovsdb/<scenario>.nb.db, with the Southbound dump <scenario>.sb.json where the
 * scenario has chassis) is loaded, exported again as ovn-nbctl / ovn-sbctl commands, built in real
 * OVN and traced there; ovnsim traces the loaded database. Every probe must agree: the scenario's
 * own probes and every probe generated from the database's network. No `max` is needed: the
 * largest set is 111 probes, and the whole file runs live in 45 to 75 s on two cores shared with
 * other work (about 1.5 s to build each network in OVN, 25 to 50 ms per ovn-trace run), in
 * seconds against the recordings.
 *
 * Real OVN's answers are recorded in fixtures/conformance-roundtrip/<scenario>.json (the format of
 * `ovnsim conformance --record`), so the comparison runs on any machine. Where OVN is installed the
 * test also traces live and fails when a recording no longer says what real OVN says;
 * OVNSIM_RECORD=1 rewrites the recordings; OVNSIM_NO_OVN=1 forces the recorded path.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { makeRecording, networkDigest, readRecording, recordedOutputs, writeRecording, type ConformanceRecording } from "../../src/cli/conformance-record.js";
import { compareProbes, headerVerdict, ovnVerdict, OvnsimTracer } from "../../src/cli/conformance-run.js";
import { formatDiagnostic } from "../../src/base/index.js";
import { ovnAvailable, ovnVersion, traceProbesWithOvn } from "../../src/ovn/index.js";
import { generateProbes, loadNetworkFile, type Probe } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const DATABASES = join(ROOT, "fixtures/ovsdb");
const RECORDINGS = join(ROOT, "fixtures/conformance-roundtrip");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable();
if (!LIVE) console.warn("conformance round trip: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

const files = readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml")).sort();

describe.each(files)("%s: NB database → ovn-nbctl → real OVN, against ovnsim", (file) => {
  const name = basename(file, ".yaml");
  const scenario = loadNetworkFile(join(SCENARIOS, file));
  if (!scenario.ok) throw new Error(`${file} does not load: ${scenario.diags.map(formatDiagnostic).join("; ")}`);
  const withSb = scenario.value.network.chassis.size > 0;
  const loaded = loadNetworkFile(join(DATABASES, `${name}.nb.db`), withSb ? { sb: join(DATABASES, `${name}.sb.json`) } : {});
  if (!loaded.ok) throw new Error(`${name}.nb.db does not load: ${loaded.diags.map(formatDiagnostic).join("; ")}`);
  const net = loaded.value.network;
  const generated = generateProbes(net);
  const probes: Probe[] = [...scenario.value.probes, ...generated.probes];
  const recPath = join(RECORDINGS, `${name}.json`);
  let recording: ConformanceRecording | undefined;
  if (existsSync(recPath)) {
    const r = readRecording(recPath);
    if (!r.ok) throw new Error(r.diags.map(formatDiagnostic).join("; "));
    recording = r.value;
  }

  it("generates probes of every kind the network has, with unique names", () => {
    expect(generated.total).toBe(generated.probes.length);
    expect(new Set(probes.map((p) => p.name)).size).toBe(probes.length);
    const kinds = new Set(generated.probes.map((p) => p.name.split("/")[1]));
    expect(kinds.has("pair")).toBe(true);
    expect(kinds.has("lb")).toBe([...net.switches.values()].some((s) => s.loadBalancers.size > 0) || [...net.routers.values()].some((r) => r.loadBalancers.size > 0));
    expect(kinds.has("nat")).toBe([...net.routers.values()].some((r) => r.nat.size > 0));
    expect(kinds.has("arp")).toBe(net.routers.size > 0);
  });

  it.skipIf(!LIVE)("the recording is what real OVN says now", { timeout: 60_000 }, () => {
    const live = traceProbesWithOvn(net, probes);
    expect(live.ok, live.ok ? "" : live.diags.map(formatDiagnostic).join("\n")).toBe(true);
    if (!live.ok) return;
    if (RECORD || !recording) {
      mkdirSync(RECORDINGS, { recursive: true });
      recording = makeRecording(net, probes, live.value, ovnVersion() ?? "unknown");
      writeRecording(recPath, recording);
    }
    const stale: string[] = [];
    for (const p of probes) {
      const was = recording.probes[p.name]?.output;
      const now = headerVerdict(ovnVerdict(live.value.get(p.name)!));
      if (was === undefined || headerVerdict(ovnVerdict(was)) !== now) stale.push(`${p.name}: recorded ${was === undefined ? "nothing" : headerVerdict(ovnVerdict(was))}, real OVN now ${now}`);
    }
    expect(stale, "stale recordings: run with OVNSIM_RECORD=1").toEqual([]);
    expect(recording.digest, "the recording was made for another export of the database: run with OVNSIM_RECORD=1").toBe(networkDigest(net));
  });

  it("the recording answers for this network and every probe", () => {
    expect(recording, `no recording at ${recPath}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    if (!recording) return;
    const r = recordedOutputs(recording, recPath, net, probes);
    expect(r.ok ? [] : r.diags.map(formatDiagnostic)).toEqual([]);
  });

  it("every probe: ovnsim's verdict equals real OVN's", () => {
    expect(recording).toBeDefined();
    if (!recording) return;
    const tracer = OvnsimTracer.create(net);
    expect(tracer.ok).toBe(true);
    if (!tracer.ok) return;
    const outputs = new Map(Object.entries(recording.probes).map(([k, v]) => [k, v.output]));
    const results = compareProbes(tracer.value, probes, outputs);
    expect(results.flatMap((r) => r.disagreements.map((d) => `${r.probe.name}: ${d}`))).toEqual([]);
    // The probes exercise delivery, not only drops.
    expect(results.filter((r) => !r.ovn.dropped).length).toBeGreaterThan(results.length / 2);
  });
});
