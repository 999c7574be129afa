/**
 * Conformance with real OVN: every probe of every scenario, traced by real `ovn-trace --minimal`
 * and by ovnsim, must agree on the verdict: the same set of output ports (or a drop), and on each
 * output, every header field real OVN rewrote (eth.*, ip4.*, ip6.*, ip.ttl, arp.*, tcp/udp/sctp
 * ports, icmp) must have that value in ovnsim's delivered packet.
 *
 * Beside the bundled scenarios, the networks of fixtures/conformance-found/ are held to real OVN the
 * same way: each is a network on which a random-network run once found ovnsim and real OVN apart,
 * with the probes that showed it.
 *
 * Real OVN's outputs are recorded in fixtures/conformance/<scenario>.json, so the comparison runs
 * on any machine. Where OVN is installed the test also traces live and fails when a recording no
 * longer says what real OVN says; OVNSIM_RECORD=1 rewrites the recordings. The ovnsim side and the
 * comparison are those of `ovnsim conformance` (src/cli/conformance-run.ts).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareVerdict, headerVerdict, ovnVerdict, OvnsimTracer, traceWithRealOvn } from "../../src/cli/conformance-run.js";
import { OVN_TRACE_ABORTED, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const FOUND = join(ROOT, "fixtures/conformance-found");
const RECORDINGS = join(ROOT, "fixtures/conformance");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";
if (!LIVE) console.warn("conformance: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

interface Recording {
  readonly ovn: string;
  readonly probes: Record<string, string>;
}

const yamlIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
const files = [...yamlIn(SCENARIOS), ...yamlIn(FOUND)].map((path) => ({ path, file: relative(ROOT, path), name: `${path.startsWith(FOUND) ? "found-" : ""}${basename(path, ".yaml")}` }));

describe.each(files)("conformance of $file with real OVN", ({ path, file, name }) => {
  const recPath = join(RECORDINGS, `${name}.json`);
  const loaded = loadNetworkFile(path);
  if (!loaded.ok) throw new Error(`${file} does not load`);
  const { network, probes } = loaded.value;
  let recording: Recording | undefined = existsSync(recPath) ? (JSON.parse(readFileSync(recPath, "utf8")) as Recording) : undefined;

  it.skipIf(!LIVE)("the recording is what real OVN says now", () => {
    const live = traceWithRealOvn(network, probes);
    expect(live.ok, live.ok ? "" : live.diags.map((d) => d.message).join("\n")).toBe(true);
    if (!live.ok) return;
    if (RECORD || !recording) {
      const rec: Recording = { ovn: ovnVersion() ?? "unknown", probes: Object.fromEntries(live.value) };
      const tmp = `${recPath}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(rec, null, 2) + "\n");
      renameSync(tmp, recPath);
      recording = rec;
    }
    const stale: string[] = [];
    for (const p of probes) {
      const was = recording.probes[p.name];
      const now = headerVerdict(ovnVerdict(live.value.get(p.name)!));
      if (was === undefined || headerVerdict(ovnVerdict(was)) !== now) stale.push(`${p.name}: recorded ${was === undefined ? "nothing" : headerVerdict(ovnVerdict(was))}, real OVN now ${now}`);
    }
    expect(stale, "stale recordings: run with OVNSIM_RECORD=1").toEqual([]);
  });

  it("has a recording for every probe", () => {
    expect(recording, `no recording at ${recPath}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    for (const p of probes) expect(recording!.probes[p.name], p.name).toBeDefined();
  });

  it("every probe: ovnsim's verdict equals real OVN's", () => {
    expect(recording).toBeDefined();
    if (!recording) return;
    const tracer = OvnsimTracer.create(network);
    expect(tracer.ok).toBe(true);
    if (!tracer.ok) return;
    const disagreements: string[] = [];
    for (const p of probes) {
      const ovn = ovnVerdict(recording.probes[p.name] ?? "");
      for (const d of compareVerdict(tracer.value.run(p), ovn)) disagreements.push(`${p.name}: ${d}`);
    }
    expect(disagreements).toEqual([]);
  });

  it("every probe: ovnsim's --minimal trace opens the blocks real ovn-trace opens, in order, and logs what it logs", () => {
    // The blocks are the conntrack actions, generated packets (a reject shows as the tcp_reset,
    // sctp_abort or icmp4/icmp6 it makes) and clones; the LOG lines are the ACLs' log().
    if (!recording) return;
    const tracer = OvnsimTracer.create(network);
    if (!tracer.ok) return;
    const shape = (text: string): string[] =>
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.endsWith("{") || l.startsWith("LOG:"))
        .map((l) => (l.startsWith("LOG:") ? l : l.split(/[\s(]/)[0]!));
    const differ: string[] = [];
    for (const p of probes) {
      const mine = tracer.value.minimal(p);
      const real = recording.probes[p.name];
      if (mine === undefined || real === undefined || real.startsWith(OVN_TRACE_ABORTED)) continue;
      if (shape(mine).join(" ") !== shape(real).join(" ")) differ.push(`${p.name}: ovnsim ${shape(mine).join(" ")} | real ${shape(real).join(" ")}`);
    }
    expect(differ).toEqual([]);
  });
});
