/**
 * Running a scenario's probes through real OVN: the network is built in a sandbox with the
 * exported `ovn-nbctl` / `ovn-sbctl` commands, then each probe is traced with
 * `ovn-trace --minimal` and the probe's `--ct` / `--lb-dst` / `--select-id` flags. The raw outputs
 * are what the project records as fixtures; `trace-minimal.ts` turns them into verdicts.
 */
import { error, fail, ok, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import { exportNbctl, exportSbctl, type Probe } from "../scenario/index.js";
import { CHASSIS_FEATURES, OvnSandbox } from "./sandbox.js";

/** The ovn-trace flags of a probe, in the order ovn-trace consumes them. */
export function probeTraceFlags(p: Probe): string[] {
  const flags = ["--minimal"];
  for (const c of p.ct) flags.push(`--ct=${c}`);
  if (p.lbDst !== undefined) flags.push(`--lb-dst=${p.lbDst}`);
  if (p.selectId !== undefined) flags.push(`--select-id=${p.selectId}`);
  return flags;
}

/** Builds `net` in a fresh OVN sandbox and returns each probe's `ovn-trace --minimal` output, by probe name. */
export function traceProbesWithOvn(net: Network, probes: readonly Probe[]): Result<Map<string, string>> {
  const started = OvnSandbox.start();
  if (!started.ok) return started;
  const sb = started.value;
  try {
    for (const cmd of exportNbctl(net)) {
      const r = sb.nbctl(...cmd);
      if (!r.ok) return fail(error("conformance.nbctl", `ovn-nbctl ${cmd.join(" ")} failed: ${r.diags[0]?.message ?? ""}`));
    }
    const s = sb.sync();
    if (!s.ok) return s;
    for (const cmd of exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES, macBindingTimestamp: Date.now() })) {
      const r = sb.sbctl(...cmd);
      if (!r.ok) return fail(error("conformance.sbctl", `ovn-sbctl ${cmd.join(" ")} failed: ${r.diags[0]?.message ?? ""}`));
    }
    const s2 = sb.sync();
    if (!s2.ok) return s2;
    const out = new Map<string, string>();
    for (const p of probes) {
      const t = sb.trace(p.datapath, p.microflow, probeTraceFlags(p));
      if (!t.ok) return fail(error("conformance.trace", `ovn-trace failed on probe ${p.name}: ${t.diags[0]?.message ?? ""}`));
      out.set(p.name, t.value);
    }
    return ok(out);
  } finally {
    sb.stop();
  }
}
