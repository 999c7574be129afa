/**
 * `TraceRecorder`: a `TraceSink` that builds the trace tree (tree.ts) of one executor run.
 *
 * Give it the program that runs and the packet as injected; pass it to `LogicalExecutor.run` and
 * read `tree` afterwards. One recorder records one run.
 *
 * How events become the tree: every event goes to the current list of the innermost open branch.
 * A table event appends a table node and makes its children the current list, so the tables of a
 * pipeline nest as ovn-trace nests them. A conntrack action that recirculates is reported as
 * `ct` and then either a `ct-fork` branch (the rule has more actions) or, when it was the rule's
 * last action, directly by the next table; in both cases the packet's continuation becomes the
 * children of the `ct` node. Output through a patch port is reported only by the peer's ingress
 * pipeline; the recorder adds a `patch` node before it.
 *
 * Action text comes from the rule's provenance (`actionText`, split into statements) when it has
 * one statement per compiled action, else from `formatOvnActions`. Visible field changes become
 * `modify` nodes as ovn-trace makes them: writes of non-register fields, TTL decrements, and the
 * results of the `chk_lb_hairpin*` functions.
 */
import { W, field, type FieldDef } from "../flow/index.js";
import { formatOvnActions, type Action, type CtAction, type CtLbAction, type LogAction, type LogicalProgram, type Pipeline, type Rule, type Subfield } from "../ofp/index.js";
import type { ActionEvent, CtEvent, DropRecord, LimitEvent, OutputRecord, SelectEvent, TableEvent, TraceBranch, TraceSink, TunnelRecord } from "../dataplane/index.js";
import { ETH_ARP, ETH_IP, ETH_IPV6, contextOf, fieldValueText, isRegister, ovnFieldName, subValueText, subfieldText, ctStateText, formatMicroflow, type PacketContext } from "./ovn-names.js";
import type { ContainerNode, CtNode, PipelineNode, SelectNode, TableNode, TraceNode, TraceTree } from "./tree.js";

interface Frame {
  /** Where the next event goes. */
  list: TraceNode[];
  /** The node this frame opened (undefined for the root). */
  readonly node: ContainerNode | undefined;
  /** The innermost pipeline around this frame. */
  readonly pipeline: PipelineNode | undefined;
  /** The rule whose actions run here. */
  rule: Rule | undefined;
  ctx: PacketContext;
}

/** Functions whose result ovn-trace reports as a change even though it lands in a register. */
const REPORTED_CALLS: ReadonlySet<string> = new Set(["chk_lb_hairpin", "chk_lb_hairpin_reply"]);

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");

export class TraceRecorder implements TraceSink {
  readonly tree: TraceTree;
  private readonly program: LogicalProgram;
  private readonly stack: Frame[];
  private lastAction: Action | undefined;
  private pendingCt: CtNode | undefined;
  /** A `select()` whose continuation has not started yet. */
  private pendingSelect: SelectNode | undefined;
  private lastIndex = -1;
  private lastRule: Rule | undefined;

  constructor(program: LogicalProgram, packet: Uint32Array) {
    this.program = program;
    this.tree = { packet: packet.slice(), children: [] };
    this.stack = [{ list: this.tree.children, node: undefined, pipeline: undefined, rule: undefined, ctx: contextOf(packet) }];
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private portName(datapath: number, port: number): string {
    if (port === 0) return "";
    const dp = this.program.datapaths.get(datapath);
    return dp?.ports.get(port)?.name ?? dp?.multicast.get(port)?.name ?? "(unnamed)";
  }

  /** A recirculating conntrack action was last: its continuation goes under its `ct` node. */
  private settle(): void {
    const sel = this.pendingSelect;
    if (sel) {
      this.pendingSelect = undefined;
      this.top.list = sel.children;
      return;
    }
    const ct = this.pendingCt;
    if (!ct) return;
    this.pendingCt = undefined;
    ct.recirculated = true;
    this.top.list = ct.children;
  }

  enter(branch: TraceBranch): void {
    const f = this.top;
    const sel = this.pendingSelect;
    if (sel && branch.kind === "resubmit") {
      this.pendingSelect = undefined;
      this.stack.push({ list: sel.children, node: sel, pipeline: f.pipeline, rule: f.rule, ctx: { ...f.ctx } });
      return;
    }
    if (branch.kind === "ct-fork" || (branch.kind === "resubmit" && this.pendingCt)) {
      let ct = this.pendingCt;
      this.pendingCt = undefined;
      if (!ct) {
        ct = { kind: "ct", event: undefined, action: undefined, recirculated: true, children: [] };
        f.list.push(ct);
      }
      ct.recirculated = true;
      this.stack.push({ list: ct.children, node: ct, pipeline: f.pipeline, rule: f.rule, ctx: { ...f.ctx } });
      return;
    }
    this.settle();
    let node: ContainerNode;
    let pipeline = f.pipeline;
    let ctx = { ...f.ctx };
    switch (branch.kind) {
      case "pipeline": {
        if (branch.pipeline === "ingress" && f.pipeline?.pipeline === "egress") {
          const outer = f.pipeline;
          const dp = this.program.datapaths.get(outer.datapath);
          f.list.push({ kind: "patch", datapathName: outer.datapathName, portName: outer.outportName, portType: dp?.ports.get(outer.outport)?.type ?? "" });
        }
        if (this.stack.length === 1 && this.tree.children.length === 0) this.tree.packet[field("reg14").word] = branch.inport >>> 0;
        node = pipeline = {
          kind: "pipeline" as const,
          datapath: branch.datapath,
          datapathName: branch.datapathName,
          pipeline: branch.pipeline,
          inport: branch.inport,
          inportName: this.portName(branch.datapath, branch.inport) || "(unnamed)",
          outport: branch.outport,
          outportName: this.portName(branch.datapath, branch.outport),
          children: [],
        };
        break;
      }
      case "multicast":
        node = { kind: "multicast", datapathName: branch.datapathName, group: branch.group, groupKey: branch.groupKey, inportName: f.pipeline?.inportName ?? "(unnamed)", children: [] };
        break;
      case "member":
        node = { kind: "member", datapathName: f.pipeline?.datapathName ?? "", port: branch.port, portName: branch.portName, inportName: f.pipeline?.inportName ?? "(unnamed)", skipped: branch.skipped, children: [] };
        break;
      case "clone":
        node = { kind: "clone", children: [] };
        break;
      case "generated": {
        const a = this.lastAction;
        const name = tracedName(a?.kind === "generate" ? a.packet : generatedName(branch.action), ctx);
        node = { kind: "generated", name, children: [] };
        ctx = generatedContext(name, ctx);
        break;
      }
      case "resubmit":
        node = { kind: "resubmit", table: branch.table, children: [] };
        break;
      default: {
        const _never: never = branch;
        return _never;
      }
    }
    f.list.push(node);
    this.stack.push({ list: node.children, node, pipeline, rule: f.rule, ctx });
  }

  leave(): void {
    this.pendingCt = undefined;
    this.pendingSelect = undefined;
    if (this.stack.length > 1) this.stack.pop();
  }

  table(ev: TableEvent): void {
    this.settle();
    const f = this.top;
    const node: TableNode = {
      kind: "table",
      datapathName: ev.datapathName,
      pipeline: ev.pipeline,
      table: ev.table,
      stage: ev.rule?.provenance.stage ?? ev.stage,
      rule: ev.rule,
      trivial: isTrivial(ev.rule, ev.table),
      children: [],
    };
    f.list.push(node);
    f.list = node.children;
    f.rule = ev.rule;
  }

  action(ev: ActionEvent): void {
    const f = this.top;
    const a = ev.action;
    this.lastAction = a;
    const t = actionText(a, f.rule);
    this.lastIndex = t.index;
    this.lastRule = f.rule;
    if (t.text !== null) f.list.push({ kind: "action", action: a, text: t.text });
    if (a.kind === "log" && ev.key) {
      f.list.push({ kind: "log", text: logLine(a, f.pipeline?.pipeline ?? "ingress", ev.key) });
      return;
    }
    const ch = ev.change;
    if (a.kind === "dec_ttl") {
      if (ch) f.list.push({ kind: "modify", text: "ip.ttl--" });
      return;
    }
    if (!ch) return;
    if (a.kind === "call" && a.result) {
      if (a.result && REPORTED_CALLS.has(a.fn)) {
        const r = a.result;
        const reg = narrowRegister(r.field.name, r.ofs, r.nbits);
        const name = reg ? subfieldText(reg.name, reg.ofs, r.nbits, 32) : subfieldText(ovnFieldName(r.field, f.ctx), r.ofs, r.nbits, r.field.width);
        const value = subValueText(ch.after, r.ofs, r.nbits);
        f.list.push({ kind: "modify", text: `${name} = ${value}`, field: name, value });
      }
      return;
    }
    const d = ch.field;
    const sides = t.index >= 0 && t.text !== null ? statementSides(t.text) : undefined;
    if (!isRegister(d)) {
      if ((a.kind === "load" || a.kind === "set_field") && sides?.op === "=") {
        // ovn-trace prints a constant assignment as the action itself.
        f.list.push({ kind: "modify", text: `${sides.lhs} = ${sides.rhs}`, field: sides.lhs, value: sides.rhs });
      } else {
        const range = writtenRange(a, d);
        const name = sides && (a.kind === "move" || a.kind === "exchange") ? sides.lhs : subfieldText(ovnFieldName(d, f.ctx), range.ofs, range.nbits, OVN_WIDTH[ovnFieldName(d, f.ctx)] ?? d.width);
        const src = a.kind === "move" ? a.src : a.kind === "exchange" ? a.b : undefined;
        const value = src ? movedValueText(src, ch.after, range) : range.ofs === 0 && range.nbits >= d.width ? fieldValueText(d, ch.after) : subValueText(ch.after, range.ofs, range.nbits);
        f.list.push({ kind: "modify", text: `${name} = ${value}`, field: name, value });
      }
    }
    const ch2 = ev.change2;
    if (a.kind === "exchange" && ch2 && !isRegister(ch2.field)) {
      const d2 = ch2.field;
      const name = sides?.op === "<->" ? sides.rhs : subfieldText(ovnFieldName(d2, f.ctx), a.b.ofs, a.b.nbits, OVN_WIDTH[ovnFieldName(d2, f.ctx)] ?? d2.width);
      const value = movedValueText(a.a, ch2.after, { ofs: a.b.ofs, nbits: a.b.nbits });
      f.list.push({ kind: "modify", text: `${name} = ${value}`, field: name, value });
    }
    if (d === F_ETH_TYPE || d.name === "eth_type") f.ctx = { ...f.ctx, ethType: ch.after[0]! & 0xffff };
    if (d === F_NW_PROTO || d.name === "nw_proto") f.ctx = { ...f.ctx, proto: ch.after[0]! & 0xff };
  }

  ct(ev: CtEvent): void {
    const a = this.lastAction;
    const action = a && (a.kind === "ct" || a.kind === "ct_lb") ? (a as CtAction | CtLbAction) : undefined;
    const st = action ? ctStatementName(this.lastRule, this.lastIndex) : { name: undefined, continues: false };
    const node: CtNode = { kind: "ct", event: ev, action, ...(st.name ? { name: st.name } : {}), recirculated: false, children: [] };
    this.top.list.push(node);
    if (action?.table !== undefined || st.continues) this.pendingCt = node;
  }

  select(ev: SelectEvent): void {
    const r = ev.action.result!;
    const reg = narrowRegister(r.field.name, r.ofs, r.nbits);
    const name = reg ? subfieldText(reg.name, reg.ofs, r.nbits, 32) : subfieldText(ovnFieldName(r.field, this.top.ctx), r.ofs, r.nbits, r.field.width);
    const node: SelectNode = { kind: "select", field: name, id: ev.id, chosen: ev.chosen, children: [] };
    this.top.list.push(node);
    this.pendingSelect = node;
  }

  output(ev: OutputRecord): void {
    this.settle();
    this.top.list.push({ kind: "output", record: ev });
  }

  tunnel(ev: TunnelRecord): void {
    this.settle();
    this.top.list.push({ kind: "tunnel", record: ev });
  }

  drop(ev: DropRecord): void {
    this.settle();
    this.top.list.push({ kind: "drop", record: ev });
  }

  limit(ev: LimitEvent): void {
    this.settle();
    this.top.list.push({ kind: "limit", event: ev });
  }
}

/**
 * The value a move copied, as ovn-trace prints it (`summarize_move`): in the source field's own
 * format (MAC, IP, decimal) when the whole of a non-register field was copied, else in hex
 * (registers print in hex, and so does any part of a field). `after` is the destination field
 * after the move and `range` the bits written.
 */
function movedValueText(src: Subfield, after: readonly number[], range: { ofs: number; nbits: number }): string {
  let whole = 0n;
  for (const w of after) whole = (whole << 32n) | BigInt(w >>> 0);
  const v = (whole >> BigInt(range.ofs)) & ((1n << BigInt(range.nbits)) - 1n);
  if (isRegister(src.field) || src.ofs !== 0 || src.nbits < src.field.width) return `0x${v.toString(16)}`;
  const words: number[] = [];
  for (let i = src.field.nwords - 1; i >= 0; i--) words.push(Number((v >> BigInt(32 * i)) & 0xffffffffn));
  return fieldValueText(src.field, words);
}

/** OVN fields narrower than the layout field that holds them. */
const OVN_WIDTH: Readonly<Record<string, number>> = { "icmp4.type": 8, "icmp4.code": 8, "icmp6.type": 8, "icmp6.code": 8 };

/** The two sides of an assignment (`F = V;`) or exchange (`F <-> G;`) statement. */
function statementSides(text: string): { op: "=" | "<->"; lhs: string; rhs: string } | undefined {
  const m = /^\s*([A-Za-z_][\w.]*(?:\[[\d.]+\])?)\s*(<->|=)\s*(.*?);?\s*$/.exec(text);
  if (!m || m[3]!.startsWith("=")) return undefined;
  return { op: m[2] as "=" | "<->", lhs: m[1]!, rhs: m[3]! };
}

/** A rule ovn-trace leaves out: matches everything and only goes on to the following table. */
function isTrivial(rule: Rule | undefined, table: number): boolean {
  if (!rule || rule.actions.length !== 1) return false;
  const a = rule.actions[0]!;
  if (a.kind !== "next" || a.pipeline !== undefined || (a.table !== undefined && a.table !== table + 1)) return false;
  if (rule.provenance.matchText !== undefined) return rule.provenance.matchText.trim() === "1";
  return rule.match.mask.every((w) => w === 0);
}

/** The bits an action wrote in `d` (the whole field when unknown). */
function writtenRange(a: Action, d: FieldDef): { ofs: number; nbits: number } {
  switch (a.kind) {
    case "load":
    case "move":
      return { ofs: a.dst.ofs, nbits: a.dst.nbits };
    case "exchange":
      return { ofs: a.a.ofs, nbits: a.a.nbits };
    default:
      return { ofs: 0, nbits: d.width };
  }
}

/**
 * ovn-trace's line for an ACL's `log()`: the ACL's name, the pipeline's direction, the verdict and
 * severity, and the packet as OVS prints a flow (`ct_state` first, then the protocol, registers and
 * header fields).
 */
function logLine(a: LogAction, pipeline: Pipeline, key: Uint32Array): string {
  const ct = key[W.CT_STATE_ZONE]! & 0xff;
  const flow = formatMicroflow(key).split(",").filter((p) => !p.startsWith("ct_state="));
  const packet = [...(ct ? [`ct_state=${ctStateText(ct)}`] : []), ...flow].join(",");
  return `LOG: ACL name=${a.name ?? "<unnamed>"}, direction=${pipeline === "ingress" ? "IN" : "OUT"}, verdict=${a.verdict ?? "allow"}, severity=${a.severity ?? "info"}, packet="${packet}"`;
}

/** A `log()` as ovn-trace's formatter writes it: name, verdict, severity, meter (northd writes severity first). */
function logText(a: LogAction): string {
  const name = a.name !== undefined ? `name="${a.name}", ` : "";
  const meter = a.meter !== undefined ? `, meter="${a.meter}"` : "";
  return `log(${name}verdict=${a.verdict ?? "allow"}, severity=${a.severity ?? "info"}${meter});`;
}

/**
 * The name ovn-trace gives a generated packet: the generating action's, except that `reject`
 * shows as what it makes of the packet `ctx`: `tcp_reset` (TCP), `sctp_abort` (SCTP), else
 * `icmp4` or `icmp6`.
 */
function tracedName(name: string, ctx: PacketContext): string {
  if (name !== "reject") return name;
  return ctx.proto === 6 ? "tcp_reset" : ctx.proto === 132 ? "sctp_abort" : ctx.ethType === ETH_IPV6 ? "icmp6" : "icmp4";
}

function generatedName(kind: Action["kind"]): string {
  switch (kind) {
    case "arp_reply":
      return "arp";
    case "icmp4_error":
    case "icmp4_echo_reply":
      return "icmp4";
    case "icmp6_error":
    case "icmp6_echo_reply":
      return "icmp6";
    default:
      return kind;
  }
}

function generatedContext(name: string, ctx: PacketContext): PacketContext {
  switch (name) {
    case "arp":
      return { ethType: ETH_ARP, proto: 1 };
    case "icmp4":
    case "icmp4_error":
      return { ethType: ETH_IP, proto: 1 };
    case "icmp6":
    case "icmp6_error":
    case "nd_ns":
    case "nd_na":
    case "nd_na_router":
      return { ethType: ETH_IPV6, proto: 58 };
    case "tcp_reset":
      return { ...ctx, proto: 6 };
    case "sctp_abort":
      return { ...ctx, proto: 132 };
    default:
      return ctx;
  }
}

/** OVN conntrack statements the compiler turns into a `ct`/`ct_lb` action followed by `next`. */
const CT_STATEMENT = /^(ct_next|ct_dnat|ct_snat|ct_dnat_in_czone|ct_snat_in_czone|ct_lb|ct_lb_mark|ct_commit_nat)\b/;

/**
 * Per compiled action of `rule`, its OVN statement: the rule's action text split into statements
 * and aligned with the actions, where a conntrack statement may stand for a conntrack action plus
 * the `next` after it (that `next` maps to null: it has no text of its own). Undefined when the
 * rule has no text or the text does not align.
 */
function statementsOf(rule: Rule): readonly (string | null)[] | undefined {
  let s = statementCache.get(rule);
  if (s === undefined) {
    s = align(rule);
    statementCache.set(rule, s);
  }
  return s ?? undefined;
}

const statementCache = new WeakMap<Rule, readonly (string | null)[] | null>();

function align(rule: Rule): (string | null)[] | null {
  const text = rule.provenance.actionText;
  if (text === undefined) return null;
  // A comment alone (northd's `/* drop */`) is no statement: ovn-trace's parser drops it.
  const parts = splitStatements(text).filter((p) => !/^\/\*.*\*\/;?$/.test(p.trim()));
  const acts = rule.actions;
  const out: (string | null)[] = [];
  let j = 0;
  for (const p of parts) {
    if (j >= acts.length) return null;
    out.push(p);
    const a = acts[j]!;
    j++;
    const b = acts[j];
    if (CT_STATEMENT.test(p) && (a.kind === "ct" || a.kind === "ct_lb") && a.table === undefined && b?.kind === "next" && b.table === undefined && b.pipeline === undefined) {
      out.push(null);
      j++;
    }
  }
  return j === acts.length && out.length === acts.length ? out : null;
}

/** Splits OVN action text at top-level `;` (outside braces, parentheses and quotes). */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === '"') quote = false;
      continue;
    }
    if (c === '"') quote = true;
    else if (c === "{" || c === "(") depth++;
    else if (c === "}" || c === ")") depth--;
    else if (c === ";" && depth === 0) {
      const s = text.slice(start, i).trim();
      if (s) out.push(`${s};`);
      start = i + 1;
    }
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest.endsWith("}") ? `${rest};` : `${rest};`);
  return out;
}

/** The text of action `a` of `rule` (null for a `next` its conntrack statement stands for). */
function actionText(a: Action, rule: Rule | undefined): { text: string | null; index: number } {
  if (a.kind === "log") return { text: logText(a), index: rule ? rule.actions.indexOf(a) : -1 };
  if (rule) {
    const i = rule.actions.indexOf(a);
    if (i >= 0) {
      const st = statementsOf(rule);
      return { text: st ? st[i]! : formatOvnActions([a], rule.match, rule.table), index: i };
    }
  }
  return { text: formatOvnActions([a]), index: -1 };
}

/** The OVN conntrack statement keyword of action `index` of `rule`, when its text has one. */
function ctStatementName(rule: Rule | undefined, index: number): { name: string | undefined; continues: boolean } {
  if (!rule || index < 0) return { name: undefined, continues: false };
  const st = statementsOf(rule);
  const m = st ? CT_STATEMENT.exec(st[index] ?? "") : null;
  return { name: m ? m[1] : undefined, continues: st !== undefined && index + 1 < st.length && st[index + 1] === null };
}

/**
 * A bit range of a wide register (`xxreg0`, `xreg1`) that lies within one 32-bit register, named
 * as that register: OVN writes `reg0[6]`, which the symbol table resolves to `xxreg0[102]`.
 * `reg0` is the most significant word of `xxreg0` (and of `xreg0`).
 */
function narrowRegister(name: string, ofs: number, nbits: number): { name: string; ofs: number } | undefined {
  const m = /^(x{1,2})reg(\d+)$/.exec(name);
  if (!m) return undefined;
  const words = m[1] === "xx" ? 4 : 2;
  const w = Math.floor(ofs / 32);
  if (Math.floor((ofs + nbits - 1) / 32) !== w) return undefined;
  return { name: `reg${words * Number(m[2]) + (words - 1 - w)}`, ofs: ofs % 32 };
}
