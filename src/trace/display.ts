/**
 * The printable form of a trace tree, as ovn-trace prints its own: a list of display nodes, each
 * with a type, one line of text and children, and the three ways ovn-trace prints them.
 *
 * Display types are ovn-trace's: `pipeline` (a titled block: pipelines and multicast groups),
 * `table` (a rule that matched, or a miss), `action` (one action's text), `modify` (a visible
 * change of the packet), `output` (a comment about where the packet went), `error` (`*** ...`),
 * `transformation` (a titled block for a conntrack continuation, a clone, a generated packet).
 * - detailed: every node but `modify`; titled blocks get a blank line and a dashed underline;
 * - summary: `table` and `modify` nodes replaced by their children, nested with `{ }`;
 * - minimal: `action`, `pipeline`, `table` and `output` nodes replaced by their children: what is
 *   left is the packet's changes, its outputs, conntrack and generated-packet blocks, and errors.
 *
 * Trivial stages (tree.ts `TableNode.trivial`) and nested lookups leave no node of their own.
 */
import { describeDropReason } from "../dataplane/index.js";
import { field, formatMatch } from "../flow/index.js";
import { formatIp } from "./ip-text.js";
import { contextOf, ctStateText, ovnFieldName, type PacketContext } from "./ovn-names.js";
import type { CtNode, TraceNode, TraceTree } from "./tree.js";

export type DisplayType = "pipeline" | "table" | "action" | "modify" | "output" | "error" | "transformation";

export interface DisplayNode {
  readonly type: DisplayType;
  readonly name: string;
  alwaysIndent: boolean;
  subs: DisplayNode[];
}

function dn(type: DisplayType, name: string, subs: DisplayNode[] = []): DisplayNode {
  return { type, name, alwaysIndent: false, subs };
}

const DEFAULT_CT = " /* default (use --ct to customize) */";

/** Hex of the low 32 bits, eight digits, as ovn-trace prints a flow's uuid prefix. */
function uuidText(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** The display nodes of a whole tree. */
export function displayTree(tree: TraceTree): DisplayNode[] {
  const out: DisplayNode[] = [];
  const ctx = contextOf(tree.packet);
  for (const n of tree.children) convert(n, out, ctx);
  return out;
}

function convertAll(nodes: readonly TraceNode[], ctx: PacketContext): DisplayNode[] {
  const out: DisplayNode[] = [];
  for (const n of nodes) convert(n, out, ctx);
  return out;
}

function convert(n: TraceNode, out: DisplayNode[], ctx: PacketContext): void {
  switch (n.kind) {
    case "pipeline": {
      const name =
        n.pipeline === "ingress"
          ? `ingress(dp="${n.datapathName}", inport="${n.inportName}")`
          : `egress(dp="${n.datapathName}", inport="${n.inportName}", outport="${n.outportName}")`;
      out.push(dn("pipeline", name, convertAll(n.children, ctx)));
      return;
    }
    case "table": {
      if (n.trivial) {
        for (const c of n.children) if (c.kind !== "action") convert(c, out, ctx);
        return;
      }
      const head = `${String(n.table).padStart(2)}. `;
      const r = n.rule;
      if (!r) {
        out.push(dn("table", `${head}${n.stage ? `${n.stage}: ` : ""}no match (implicit drop)`));
        return;
      }
      const src = r.provenance.source;
      const label = n.stage && src ? `${n.stage} (${src}): ` : n.stage ? `${n.stage}: ` : src ? `(${src}): ` : "";
      const match = r.provenance.matchText ?? formatMatch(r.match);
      const subs = convertAll(n.children, ctx);
      if (r.actions.length === 0) subs.unshift(dn("action", "drop;"));
      out.push(dn("table", `${head}${label}${match}, priority ${r.priority}, uuid ${uuidText(r.id)}`, subs));
      return;
    }
    case "action":
      out.push(dn("action", n.text));
      return;
    case "modify":
      out.push(dn("modify", n.text));
      return;
    case "ct":
      convertCt(n, out, ctx);
      return;
    case "output":
      out.push(dn("output", `/* output to "${n.record.portName}", type "${n.record.portType}" */`));
      out.push(dn("modify", `output("${n.record.portName}")`));
      return;
    case "tunnel":
      out.push(dn("output", `/* output to "${n.record.outportName}" on chassis ${n.record.chassis}, through a tunnel */`));
      return;
    case "patch":
      out.push(dn("output", `/* output to "${n.portName}", type "${n.portType}" */`));
      return;
    case "drop": {
      const line = dropLine(n.record.reason, n.record.detail);
      if (line) out.push(line);
      return;
    }
    case "limit":
      out.push(dn("error", `*** ${n.event.limit} limit (${n.event.value}) reached: ${describeLimit(n.event.limit)}`));
      return;
    case "multicast":
      out.push(dn("pipeline", `multicast(dp="${n.datapathName}", mcgroup="${n.group}")`, convertAll(n.children, ctx)));
      return;
    case "member": {
      if (n.skipped) {
        const head = `egress(dp="${n.datapathName}", inport="${n.inportName}", outport="${n.portName}")`;
        out.push(dn("pipeline", head, [dn("output", "/* omitting output because inport == outport && !flags.loopback */")]));
        return;
      }
      const subs = convertAll(n.children, ctx);
      for (const s of subs) if (s.type === "pipeline") s.alwaysIndent = true;
      out.push(...subs);
      return;
    }
    case "clone":
      out.push(dn("transformation", "clone", convertAll(n.children, ctx)));
      return;
    case "generated":
      out.push(dn("transformation", n.name, convertAll(n.children, ctx)));
      return;
    case "log":
      out.push(dn("transformation", n.text));
      return;
    case "select":
      out.push(dn("transformation", `select: ${n.field} = ${n.id}${n.chosen ? "" : " /* Randomly selected. Use --select-id to specify. */"}`, convertAll(n.children, ctx)));
      return;
    case "resubmit":
      for (const c of n.children) convert(c, out, ctx);
      return;
    default: {
      const _never: never = n;
      return _never;
    }
  }
}

function describeLimit(limit: string): string {
  switch (limit) {
    case "maxDepth":
      return "nesting too deep";
    case "maxLookups":
      return "too many table lookups";
    case "maxCrossings":
      return "too many datapath crossings";
    case "maxBranches":
      return "too many branches";
    default:
      return "loop";
  }
}

function dropLine(reason: Parameters<typeof describeDropReason>[0], detail: string | undefined): DisplayNode | undefined {
  switch (reason) {
    case "no-match":
    case "drop-action":
    case "acl-drop":
    case "port-security":
    case "actions-end":
    case "lb-affinity-learn":
    case "empty-multicast":
    case "loop-depth":
    case "loop-lookups":
    case "loop-crossings":
    case "loop-branches":
    case "loop-recirc":
    case "recirc-depth":
    case "upcall-error":
      return undefined;
    case "null-outport":
      return dn("error", "*** output to null logical port");
    case "unknown-port":
      return dn("error", `*** unknown port or multicast group${detail ? ` (${detail})` : ""}`);
    case "loopback":
      return dn("output", "/* omitting output because inport == outport && !flags.loopback */");
    case "unknown-datapath":
      return dn("error", `*** ${describeDropReason(reason)}${detail ? ` (${detail})` : ""}`);
    case "unbound-port":
      return dn("error", `*** no output flow on this chassis${detail ? ` (${detail})` : ""}`);
    case "provider-bridge":
      return dn("error", `*** dropped by the provider bridge: destination MAC is the source MAC${detail ? ` (${detail})` : ""}`);
    case "ttl-exceeded":
      return dn("error", "*** TTL underflow");
    case "not-ip":
      return dn("error", "*** TTL decrement of non-IP packet");
    case "unsupported-action":
      return dn("error", `*** ${detail ?? "this"} action not implemented`);
    case "trace-unsnat":
      return undefined;
    default: {
      const _never: never = reason;
      return _never;
    }
  }
}

/** The block header of a conntrack node (`ct_lb_mark /* default (use --ct to customize) *\/`). */
export function ctHeader(n: CtNode): string {
  const ev = n.event;
  const a = n.action;
  const comment = ev?.assumed ? DEFAULT_CT : "";
  if (!ev || !a) return n.name ?? "ct_next";
  const name = n.name;
  if (name === "ct_lb" || name === "ct_lb_mark") return `${name}${comment}${ev.note ? ` /* ${ev.note} */` : ""}`;
  if (name === "ct_commit_nat") return `ct_commit_nat /* assuming no un-nat entry, so no change */${comment}`;
  const natName = name === undefined ? null : /^ct_([ds])nat(_in_czone)?$/.exec(name);
  if (natName && a.kind === "ct") {
    // ovn-trace writes the `_in_czone` forms without their underscore (`ct_snatin_czone`).
    const c = natName[1]!;
    const head = `ct_${c}nat${natName[2] ? "in_czone" : ""}`;
    const nat = a.nat;
    if (ev.nat && nat && nat.kind !== "restore" && nat.range) return `${head}(ip${nat.range.ipMin.length > 1 ? 6 : 4}.${c === "d" ? "dst" : "src"}=${formatIp(nat.range.ipMin)})${comment}`;
    return `${head} /* assuming no un-${c}nat entry, so no change */${comment}`;
  }
  if (name === "ct_next") return `ct_next(ct_state=${ctStateText(ev.state)}${comment})`;
  if (a.kind === "ct_lb") return `${a.mark ? "ct_lb_mark" : "ct_lb"}${comment}${ev.note ? ` /* ${ev.note} */` : ""}`;
  const nat = a.nat;
  if (nat && (nat.kind === "dnat" || nat.kind === "snat")) {
    const c = nat.kind === "dnat" ? "d" : "s";
    const dir = nat.kind === "dnat" ? "dst" : "src";
    if (ev.nat && nat.range) return `ct_${c}nat(ip${nat.range.ipMin.length > 1 ? 6 : 4}.${dir}=${formatIp(nat.range.ipMin)})`;
    return `ct_${c}nat /* assuming no un-${c}nat entry, so no change */`;
  }
  if (nat) return `ct_nat${comment}`;
  return `ct_next(ct_state=${ctStateText(ev.state)}${comment})`;
}

function convertCt(n: CtNode, out: DisplayNode[], ctx: PacketContext): void {
  const subs: DisplayNode[] = [];
  const b = n.event?.backend;
  if (b) {
    const v6 = b.ip.length > 1;
    subs.push(dn("modify", `${v6 ? "ip6" : "ip4"}.dst = ${formatIp(b.ip)}`));
    if (b.port !== undefined) subs.push(dn("modify", `${ovnFieldName(field("tp_dst"), ctx)} = ${b.port}`));
  }
  subs.push(...convertAll(n.children, ctx));
  out.push(dn("transformation", ctHeader(n), subs));
}

function isTerminal(t: DisplayType): boolean {
  return t === "output" || t === "modify" || t === "action" || t === "error";
}

/** ovn-trace's detailed printing. */
export function printDetails(nodes: readonly DisplayNode[], level = 0): string {
  let s = "";
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.type === "modify") continue;
    const more = i < nodes.length - 1 || n.alwaysIndent || isTerminal(n.type) ? 1 : 0;
    const title = n.type === "pipeline" || n.type === "transformation";
    const pad = " ".repeat((level + more) * 4);
    if (title) s += "\n";
    s += `${pad}${n.name}\n`;
    if (title) s += `${pad}${"-".repeat(n.name.length)}\n`;
    s += printDetails(n.subs, level + 2 * more);
  }
  return s;
}

/** Replaces every node whose type is in `drop` by its (pruned) children. */
export function prune(nodes: readonly DisplayNode[], drop: ReadonlySet<DisplayType>): DisplayNode[] {
  const out: DisplayNode[] = [];
  for (const n of nodes) {
    const subs = prune(n.subs, drop);
    if (drop.has(n.type)) out.push(...subs);
    else out.push({ ...n, subs });
  }
  return out;
}

/** ovn-trace's summary printing (also used for the minimal form). */
export function printSummary(nodes: readonly DisplayNode[], level = 0): string {
  let s = "";
  for (const n of nodes) {
    if (n.type === "action" && n.name.startsWith("next(")) continue;
    const pad = " ".repeat(level * 4);
    s += pad + n.name;
    if (n.subs.length > 0) s += ` {\n${printSummary(n.subs, level + 1)}${pad}}`;
    if (n.type !== "action") s += ";";
    s += "\n";
  }
  return s;
}
