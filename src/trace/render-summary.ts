/**
 * The summary rendering of a trace (ovn-trace `--summary`): the actions only, without table
 * headers or field changes, nested in `{ }` blocks per pipeline, multicast group, conntrack
 * continuation, clone and generated packet.
 */
import { displayTree, printSummary, prune, type DisplayType } from "./display.js";
import { formatMicroflow } from "./ovn-names.js";
import type { TraceTree } from "./tree.js";

const PRUNED: ReadonlySet<DisplayType> = new Set<DisplayType>(["table", "modify"]);

export function renderSummary(tree: TraceTree): string {
  return `# ${formatMicroflow(tree.packet)}\n${printSummary(prune(displayTree(tree), PRUNED))}`;
}
