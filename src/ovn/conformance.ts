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

/**
 * The recorded output of a probe on which ovn-trace itself aborted, followed by why. OVN 23.03's
 * ovn-trace executes `nd_na_router` through the accessor of `nd_na` and so dies on an assertion
 * (`ovnact->type == OVNACT_ND_NA`) whenever a trace reaches a router's neighbour advertisement:
 * every neighbour solicitation for a router port's IPv6 address. Only that abort is recorded this
 * way; any other failure of ovn-trace still fails the run.
 */
export const OVN_TRACE_ABORTED = "ovn-trace aborted: ";
const ND_NA_ROUTER_ABORT = /SIGABRT: .*(assertion ovnact->type == OVNACT_ND_NA failed[^|]*)/;

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
      if (!t.ok) {
        const abort = ND_NA_ROUTER_ABORT.exec(t.diags[0]?.message ?? "");
        if (abort) {
          out.set(p.name, `${OVN_TRACE_ABORTED}${abort[1]!.trim()}\n`);
          continue;
        }
        return fail(error("conformance.trace", `ovn-trace failed on probe ${p.name}: ${t.diags[0]?.message ?? ""}`));
      }
      out.set(p.name, t.value);
    }
    return ok(out);
  } finally {
    sb.stop();
  }
}
