/**
 * The minimal rendering of a trace (ovn-trace `--minimal`): only what happened to the packet —
 * field changes (`ip4.dst = 10.0.0.2;`), deliveries (`output("p2");`), conntrack and
 * generated-packet blocks, and errors. A drop prints nothing (as in ovn-trace, where the absence
 * of an output is the drop). `src/ovn/trace-minimal.ts` reads this form.
 */
import { displayTree, printSummary, prune, type DisplayType } from "./display.js";
import { formatMicroflow } from "./ovn-names.js";
import type { TraceTree } from "./tree.js";

const PRUNED: ReadonlySet<DisplayType> = new Set<DisplayType>(["action", "pipeline", "table", "output"]);

export function renderMinimal(tree: TraceTree): string {
  return `# ${formatMicroflow(tree.packet)}\n${printSummary(prune(displayTree(tree), PRUNED))}`;
}
