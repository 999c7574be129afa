/**
 * Helpers for tests that compare compiled programs: the bundled networks, and everything a
 * program's rules say as one string.
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Network } from "../../src/model/index.js";
import { dumpFlows, type LogicalProgram } from "../../src/ofp/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

export const SCEN = resolve(import.meta.dirname, "../../scenarios");

/** Every bundled network: the scenario files and each Kube-OVN manifest directory (each zone of ovn-ic). */
export const BUNDLED_NETWORKS: readonly string[] = [
  ...readdirSync(SCEN).filter((f) => f.endsWith(".yaml")).map((f) => join(SCEN, f)),
  ...readdirSync(join(SCEN, "kube-ovn")).flatMap((d) => (d === "ovn-ic" ? ["az1", "az2"].map((z) => join(SCEN, "kube-ovn", d, z)) : [join(SCEN, "kube-ovn", d)])),
];

/** A fresh network value from `path` (so nothing compiled for another value is reused). */
export function loadNetwork(path: string): Network {
  const r = loadNetworkFile(path);
  if (!r.ok) throw new Error(`${path}: ${r.diags[0]?.message}`);
  return r.value.network;
}

/** Everything a program's rules say (matches, actions, provenance), in a stable order. */
export function describeProgram(p: LogicalProgram): string {
  const out: string[] = [];
  for (const dp of [...p.datapaths.values()].sort((a, b) => a.key - b.key)) {
    out.push(`# ${dp.name} stages ${dp.stageNames.ingress.join(",")} / ${dp.stageNames.egress.join(",")}`);
    for (const pipe of ["ingress", "egress"] as const) {
      out.push(`# ${dp.name} ${pipe}`, dumpFlows(dp[pipe].tables));
      for (const t of dp[pipe].tables) for (const r of t.rules) out.push(`${r.table}/${r.priority} ${JSON.stringify(r.provenance)} ${JSON.stringify(r.actions)}`);
    }
  }
  return out.join("\n");
}
