/**
 * One network's conformance with real OVN, as a block of vitest cases: the probes are traced by
 * real `ovn-trace` (recorded in the format of `ovnsim conformance --record`) and by ovnsim, and
 * every probe must agree. Shared by the round trip of the NB databases, the Kube-OVN docs
 * scenarios and the topologies from OVN's own test suite.
 *
 * Where OVN is installed the live answers are compared with the recording, which fails when it is
 * stale (OVNSIM_RECORD=1 rewrites it); elsewhere, or with OVNSIM_NO_OVN=1, only the recording is
 * used. The recording carries a digest of the exported commands, so it cannot silently answer
 * for another network.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { expect, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { makeRecording, networkDigest, readRecording, recordedOutputs, writeRecording, type ConformanceRecording } from "../../src/cli/conformance-record.js";
import { compareProbes, headerVerdict, ovnVerdict, OvnsimTracer, traceWithRealOvn, type ProbeComparison } from "../../src/cli/conformance-run.js";
import type { Network } from "../../src/model/index.js";
import { ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import type { Probe } from "../../src/scenario/index.js";

export const LIVE = ovnAvailable();
const RECORD = process.env.OVNSIM_RECORD === "1";

export interface SuiteOptions {
  readonly net: Network;
  readonly probes: readonly Probe[];
  /** Where real OVN's answers are recorded. */
  readonly recording: string;
  /** At least this many probes (default 1). */
  readonly minProbes?: number;
  /**
   * Probes known to disagree, by name, each with its reason; they must still disagree (so a fix
   * shows up) and are reported, not hidden. Default none.
   */
  readonly known?: Readonly<Record<string, string>>;
  /** The smallest share of probes that must agree (default 1: all). */
  readonly minAgreement?: number;
  /** Called with the comparison, for extra assertions. */
  readonly check?: (results: readonly ProbeComparison[]) => void;
}

/** Declares the conformance cases of one network (call inside a `describe`). */
export function conformanceCases(o: SuiteOptions): void {
  const { net, probes } = o;
  let recording: ConformanceRecording | undefined;
  if (existsSync(o.recording)) {
    const r = readRecording(o.recording);
    if (!r.ok) throw new Error(r.diags.map(formatDiagnostic).join("; "));
    recording = r.value;
  }

  it(`has at least ${o.minProbes ?? 1} probes, with unique names`, () => {
    expect(probes.length).toBeGreaterThanOrEqual(o.minProbes ?? 1);
    expect(new Set(probes.map((p) => p.name)).size).toBe(probes.length);
  });

  it.skipIf(!LIVE)("the recording is what real OVN says now", { timeout: 120_000 }, () => {
    const live = traceWithRealOvn(net, probes);
    expect(live.ok, live.ok ? "" : live.diags.map(formatDiagnostic).join("\n")).toBe(true);
    if (!live.ok) return;
    if (RECORD || !recording) {
      mkdirSync(dirname(o.recording), { recursive: true });
      recording = makeRecording(net, probes, live.value, ovnVersion() ?? "unknown");
      writeRecording(o.recording, recording);
    }
    const stale: string[] = [];
    for (const p of probes) {
      const was = recording.probes[p.name]?.output;
      const now = headerVerdict(ovnVerdict(live.value.get(p.name)!));
      if (was === undefined || headerVerdict(ovnVerdict(was)) !== now) stale.push(`${p.name}: recorded ${was === undefined ? "nothing" : headerVerdict(ovnVerdict(was))}, real OVN now ${now}`);
    }
    expect(stale, "stale recordings: run with OVNSIM_RECORD=1").toEqual([]);
    expect(recording.digest, "the recording was made for another export of the network: run with OVNSIM_RECORD=1").toBe(networkDigest(net));
  });

  it("the recording answers for this network and every probe", () => {
    expect(recording, `no recording at ${o.recording}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    if (!recording) return;
    const r = recordedOutputs(recording, o.recording, net, probes);
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
    const known = o.known ?? {};
    const disagreeing = results.filter((r) => r.disagreements.length > 0);
    const unexpected = disagreeing.filter((r) => !(r.probe.name in known)).flatMap((r) => r.disagreements.map((d) => `${r.probe.name}: ${d}`));
    const fixed = Object.keys(known).filter((n) => !disagreeing.some((r) => r.probe.name === n));
    const minAgreement = o.minAgreement ?? 1;
    if (minAgreement >= 1) expect(unexpected).toEqual([]);
    else expect((results.length - disagreeing.length) / results.length, unexpected.join("\n")).toBeGreaterThanOrEqual(minAgreement);
    expect(fixed, "these probes are listed as disagreeing but now agree: remove them from the list").toEqual([]);
    o.check?.(results);
  });
}
