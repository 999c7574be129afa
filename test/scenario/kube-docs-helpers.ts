/**
 * Shared checks of the Kube-OVN docs scenarios (scenarios/kube-ovn/*): the CLI run in process,
 * the golden `export --format nbctl` file, the export applied to a real OVN sandbox, and a set of
 * probes traced by real `ovn-trace --minimal` (recorded in fixtures/kube/conformance/<name>.json,
 * re-checked live where OVN is installed; OVNSIM_RECORD=1 rewrites) against ovnsim's verdict.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { friendlyMicroflow, type FriendlyL4 } from "../../src/cli/trace.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { compareProbes, headerVerdict, ovnVerdict, OvnsimTracer, traceWithRealOvn } from "../../src/cli/conformance-run.js";
import type { Network } from "../../src/model/index.js";
import { CHASSIS_FEATURES, OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { exportNbctl, exportSbctl, type Probe } from "../../src/scenario/index.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const RECORD = process.env.OVNSIM_RECORD === "1";
export const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** The JSON verdict of `ovnsim trace ... --json` with three `--ct new` (the first packet of a connection). */
export async function verdict(network: string, from: string, to: string, l4: string[]): Promise<{ verdict: string; outputs: { port: string }[]; drops: { stage: string | null; object: string | null }[] }> {
  const r = await cli(["trace", network, "--from", from, "--to", to, ...l4, "--json", "--ct", "new", "--ct", "new", "--ct", "new"]);
  if (r.code !== 0) throw new Error(`trace ${from} -> ${to} failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as { verdict: string; outputs: { port: string }[]; drops: { stage: string | null; object: string | null }[] };
}

/**
 * `ovnsim export DIR --format nbctl` and fixtures/kube/golden/<name>.nbctl (rewritten first when
 * OVNSIM_RECORD=1): [actual, expected].
 */
export async function golden(dir: string, name: string): Promise<[string, string]> {
  const r = await cli(["export", dir, "--format", "nbctl"]);
  if (r.code !== 0) throw new Error(r.err);
  const file = join(ROOT, "fixtures/kube/golden", `${name}.nbctl`);
  if (RECORD) atomicWrite(file, r.out);
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run with OVNSIM_RECORD=1`);
  return [r.out, readFileSync(file, "utf8")];
}

function atomicWrite(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Runs every exported NB and SB command in a fresh real OVN; returns the failures (empty = accepted). */
export function applyToRealOvn(net: Network): string[] {
  const s = OvnSandbox.start();
  if (!s.ok) return s.diags.map((d) => d.message);
  const sb = s.value;
  const failures: string[] = [];
  try {
    for (const c of exportNbctl(net)) {
      const r = sb.nbctl(...c);
      if (!r.ok) failures.push(`ovn-nbctl ${c.join(" ")}: ${r.diags[0]?.message ?? ""}`);
    }
    const s1 = sb.sync();
    if (!s1.ok) failures.push(`sync: ${s1.diags[0]?.message ?? ""}`);
    for (const c of exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES })) {
      const r = sb.sbctl(...c);
      if (!r.ok) failures.push(`ovn-sbctl ${c.join(" ")}: ${r.diags[0]?.message ?? ""}`);
    }
    const s2 = sb.sync();
    if (!s2.ok) failures.push(`sync: ${s2.diags[0]?.message ?? ""}`);
    // ovn-northd reports matches and actions it cannot parse in its log.
    for (const l of sb.log("northd").split("\n")) if (/\|(WARN|ERR)\|/.test(l) && /pars|syntax/i.test(l)) failures.push(`ovn-northd: ${l}`);
  } finally {
    sb.stop();
  }
  return failures;
}

/** A packet of the friendly form, as `ovnsim trace --from PORT --to IP|PORT` builds it. */
export interface DocProbe {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly l4: FriendlyL4;
  /** `--ct` flags in order (ovn-trace's and ovnsim's). */
  readonly ct?: readonly string[];
  readonly lbDst?: string;
}

/**
 * Traces `probes` on `net` with real OVN (live when installed, else from the recording
 * fixtures/kube/conformance/<name>.json) and with ovnsim's logical executor; returns every
 * disagreement (output ports, or a header field real OVN rewrote), and the recording's problems.
 */
export function disagreementsWithOvn(name: string, net: Network, docProbes: readonly DocProbe[]): string[] {
  const probes: Probe[] = docProbes.map((p) => {
    const datapath = net.switches.find((ls) => ls.ports.has(p.from))!.name;
    return { name: p.name, datapath, microflow: friendlyMicroflow(net, p.from, p.to, p.l4), ct: p.ct ?? [], ...(p.lbDst ? { lbDst: p.lbDst } : {}), expect: { kind: "drop" } };
  });
  const file = join(ROOT, "fixtures/kube/conformance", `${name}.json`);
  let recording = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { ovn: string; probes: Record<string, string> }) : undefined;
  const out: string[] = [];
  if (LIVE) {
    const live = traceWithRealOvn(net, probes);
    if (!live.ok) return live.diags.map((d) => d.message);
    if (RECORD || !recording) {
      recording = { ovn: ovnVersion() ?? "unknown", probes: Object.fromEntries(live.value) };
      atomicWrite(file, JSON.stringify(recording, null, 2) + "\n");
    }
    for (const p of probes) {
      const was = recording.probes[p.name];
      const now = headerVerdict(ovnVerdict(live.value.get(p.name)!));
      if (was === undefined || headerVerdict(ovnVerdict(was)) !== now) out.push(`${p.name}: stale recording (run with OVNSIM_RECORD=1): real OVN now ${now}`);
    }
  }
  if (!recording) return [`no recording at ${file}: run where OVN is installed`];
  const tracer = OvnsimTracer.create(net);
  if (!tracer.ok) return tracer.diags.map((d) => d.message);
  for (const c of compareProbes(tracer.value, probes, new Map(Object.entries(recording.probes)))) for (const d of c.disagreements) out.push(`${c.probe.name}: ${d}`);
  return out;
}
