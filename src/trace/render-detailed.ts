/**
 * The detailed rendering of a trace (ovn-trace `--detailed`, the default): the `# ` microflow line,
 * then each pipeline as a titled block listing every table the packet went through with its
 * stage, source, match, priority and rule id, and the actions the rule ran. Conntrack
 * continuations, clones and generated packets are titled blocks of their own.
 */
import { displayTree, printDetails } from "./display.js";
import { formatMicroflow } from "./ovn-names.js";
import type { TraceTree } from "./tree.js";

export function renderDetailed(tree: TraceTree): string {
  return `# ${formatMicroflow(tree.packet)}\n${printDetails(displayTree(tree))}`;
}
