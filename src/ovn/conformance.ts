/**
 * Running a scenario's probes through real OVN: the network is built in a sandbox with the
 * exported `ovn-nbctl` / `ovn-sbctl` commands, then each probe is traced with
 * `ovn-trace --minimal` and the probe's `--ct` / `--lb-dst` / `--select-id` flags. The raw outputs
 * are what the project records as fixtures; `trace-minimal.ts` turns them into verdicts.
 */
import { error, fail, ok, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import { exportNbctl, exportSbctl, type Probe } from "../scenario/index.js";
import { CHASSIS_FEATURES, OvnSandbox, type SandboxOptions } from "./sandbox.js";

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

/** Tunnel keys by datapath name and by logical port name. */
export interface TunnelKeyNames {
  readonly datapaths: ReadonlyMap<string, number>;
  readonly ports: ReadonlyMap<string, number>;
}

/**
 * Builds `net` in a fresh OVN sandbox and returns each probe's `ovn-trace --minimal` output, by
 * probe name.
 *
 * ovnsim numbers datapaths and ports as northd does when it sees each object created on its own
 * (compile `assignTunnelKeys`), and the export creates them one command at a time. A northd that
 * falls behind (on a loaded machine) sees several new ports in one pass and numbers them in
 * another order, and every trace's flow then shows other keys. So with `expect` (ovnsim's keys),
 * when any key northd gave differs, the network is built again in a new sandbox, waiting for
 * northd after every command; `onRebuild` hears which differed.
 */
export function traceProbesWithOvn(net: Network, probes: readonly Probe[], expect?: TunnelKeyNames, onRebuild?: (differ: readonly string[]) => void): Result<Map<string, string>> {
  const started = buildInSandbox(net, expect, onRebuild);
  if (!started.ok) return started;
  const sb = started.value;
  try {
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

/**
 * A fresh sandbox with `net`'s Northbound built by the exported commands and northd done with it.
 * With `expect`, a build whose keys differ from it is stopped and `net` built again in a new one,
 * each `ovn-nbctl` command waiting for northd (see `traceProbesWithOvn`); `onRebuild` hears which
 * keys differed. On failure nothing is left running.
 */
export function buildNorthbound(net: Network, expect?: TunnelKeyNames, onRebuild?: (differ: readonly string[]) => void, opts?: SandboxOptions): Result<OvnSandbox> {
  const first = northboundOnce(net, false, opts);
  if (!first.ok || expect === undefined) return first;
  const differ = keyDifferences(first.value, expect);
  if (differ.ok && differ.value.length === 0) return first;
  first.value.stop();
  if (!differ.ok) return differ;
  onRebuild?.(differ.value);
  return northboundOnce(net, true, opts);
}

/** One build of `buildNorthbound`, each command waited for with `waitEach`. */
function northboundOnce(net: Network, waitEach: boolean, opts?: SandboxOptions): Result<OvnSandbox> {
  const started = OvnSandbox.start(opts);
  if (!started.ok) return started;
  const sb = started.value;
  return applied(sb, "ovn-nbctl", exportNbctl(net), (cmd) => (waitEach ? sb.nbctl("--wait=sb", ...cmd) : sb.nbctl(...cmd)));
}

/** `buildNorthbound`, then the exported Southbound commands (chassis, bindings), northd done. */
function buildInSandbox(net: Network, expect?: TunnelKeyNames, onRebuild?: (differ: readonly string[]) => void): Result<OvnSandbox> {
  const started = buildNorthbound(net, expect, onRebuild);
  if (!started.ok) return started;
  const sb = started.value;
  return applied(sb, "ovn-sbctl", exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES, macBindingTimestamp: Date.now() }), (cmd) => sb.sbctl(...cmd));
}

/**
 * Sandbox `sb` once every command of `cmds` has run (through `run`, as `tool`) and northd is done
 * with them; on a failure, the command that failed, and `sb` is stopped.
 */
function applied(sb: OvnSandbox, tool: "ovn-nbctl" | "ovn-sbctl", cmds: readonly string[][], run: (cmd: string[]) => Result<string>): Result<OvnSandbox> {
  for (const cmd of cmds) {
    const r = run(cmd);
    if (!r.ok) {
      sb.stop();
      return fail(error(tool === "ovn-nbctl" ? "conformance.nbctl" : "conformance.sbctl", `${tool} ${cmd.join(" ")} failed: ${r.diags[0]?.message ?? ""}`));
    }
  }
  const s = sb.sync();
  if (!s.ok) sb.stop();
  return s.ok ? ok(sb) : s;
}

/**
 * The datapaths and ports whose tunnel key in sandbox `sb` differs from `expect`, as `dp NAME` /
 * `port NAME` (those of only one side are not compared).
 */
export function keyDifferences(sb: OvnSandbox, expect: TunnelKeyNames): Result<string[]> {
  const real = sb.tunnelKeys();
  if (!real.ok) return real;
  const mine = [...[...expect.datapaths].map(([n, k]) => [`dp ${n}`, k] as const), ...[...expect.ports].map(([n, k]) => [`port ${n}`, k] as const)];
  return ok(mine.filter(([name, key]) => real.value.has(name) && real.value.get(name) !== key).map(([name]) => name));
}
