/**
 * Lowering logical flows (OVN's Southbound `Logical_Flow` rows, or the compiler's own) into a
 * `LogicalProgram`: per datapath, an ingress and an egress ofp `Program` whose tables are the
 * pipeline stages (`stages.ts`) and whose rules are the flows with matches normalized over the
 * flow key and actions parsed into ofp actions.
 *
 * Each flow's match is normalized with `expr` (port names resolve to keys within the flow's own
 * datapath: its ports and multicast groups; address sets and port groups through the input's
 * callbacks) into zero or more matches; each becomes one rule with the flow's priority and
 * actions. A flow whose match cannot match anything yields no rule. Rules keep the order of the
 * input flows within a table. Every rule's provenance carries the stage name, the model origin,
 * the compiler rule (`source`) and the OVN match and action text.
 *
 * The same flow texts recur on every datapath: matches go through one `MatchCache` and actions
 * through one `ActionCache` for the whole input (or the `caches` of earlier lowerings of the same
 * flows), which give what parsing each flow afresh gives.
 *
 * `parseLflowDump` reads `ovn-sbctl lflow-list` text back into flows per datapath, so real
 * ovn-northd output can be lowered and executed the same way.
 *
 * Errors: one diagnostic per flow that fails (bad match, bad actions, unknown stage, bad
 * priority), each with the path `datapaths[NAME].flows[I]`; nothing throws on bad input.
 */
import { error, fail, ok, type Diagnostic, type Result } from "../base/index.js";
import { MatchCache, type NormalizeContext } from "../expr/index.js";
import { LAYOUT_VERSION } from "../flow/index.js";
import { makeProgram, makeRule, makeTable, type Action, type LogicalDatapath, type LogicalPort, type LogicalProgram, type MulticastGroup, type Program, type ProgramLoadBalancer, type Provenance, type Rule, type Table } from "../ofp/index.js";
import { parseActions, type ActionContext } from "./actions/index.js";
import { pipelineStages, stageByName, type DatapathKind, type PipelineName } from "./stages.js";

/**
 * A logical flow to lower. Its table is `table` (a number or a stage name) or, when that is
 * absent, the stage `stage` (so the switch compiler's flows, which name their stage, lower as
 * they are).
 */
export interface LowerFlow {
  readonly pipeline: PipelineName;
  /** Table number, or the stage name (`ls_in_acl`). */
  readonly table?: number | string;
  /** Stage name, used when `table` is absent. */
  readonly stage?: string;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  /** Model path of the object the flow implements, e.g. `switches[ls1].acls[2]`. */
  readonly origin?: string;
  /** The compiler rule that made it, e.g. `compile/switch.ts:acl`. */
  readonly source: string;
}

export interface DatapathInput {
  readonly key: number;
  readonly name: string;
  readonly kind: DatapathKind;
  readonly ports: readonly LogicalPort[];
  readonly multicast: readonly MulticastGroup[];
  readonly transit?: boolean;
  readonly flows: readonly LowerFlow[];
}

export interface LowerInput {
  readonly datapaths: readonly DatapathInput[];
  /** Members of an address set, by name. */
  readonly addressSet?: (name: string) => readonly string[] | undefined;
  /** Port names of a port group, by name. */
  readonly portGroup?: (name: string) => readonly string[] | undefined;
  /** Whether a port is resident on the chassis the flows are for. Default: false. */
  readonly isChassisResident?: (port: string) => boolean;
  /** Carried into the program as they are (`LogicalProgram.loadBalancers`). */
  readonly loadBalancers?: readonly ProgramLoadBalancer[];
  /**
   * Parsing and normalization kept from earlier lowerings with the same address sets and port
   * groups (`lowerCaches`); without it, this lowering's own. The caches key their results by what
   * they asked the context (port keys, residency), so the same flows lowered for another chassis
   * reuse what does not depend on residency.
   */
  readonly caches?: LowerCaches;
  /**
   * Lower each datapath's pipelines when they are first read (a trace meets a few datapaths of a
   * large network). Every flow's table, priority and match (its syntax, fields, address sets and
   * port groups: where a user's ACL or policy text goes wrong) are still checked now; its actions
   * (the compiler's own text) and its match's normalization wait, and reading a datapath whose
   * flows fail then throws a `LowerError`. On bench/nb-load.ts's database the checks take about
   * 1 s, lowering everything about 7.
   */
  readonly lazy?: boolean;
}

/** A lazily lowered datapath whose flows failed when it was first read (`LowerInput.lazy`). */
export class LowerError extends Error {
  readonly diags: readonly Diagnostic[];
  constructor(diags: readonly Diagnostic[]) {
    super(diags.map((d) => d.message).join("; "));
    this.name = "LowerError";
    this.diags = diags;
  }
}

/** The match and action caches of a lowering, which later lowerings of the same flows may share. */
export interface LowerCaches {
  readonly matches: MatchCache;
  readonly actions: ActionCache;
}

/** Fresh caches for `LowerInput.caches`. */
export function lowerCaches(): LowerCaches {
  return { matches: new MatchCache(), actions: new ActionCache() };
}

const PREFIX: Readonly<Record<DatapathKind, Readonly<Record<PipelineName, string>>>> = {
  switch: { ingress: "ls_in_", egress: "ls_out_" },
  router: { ingress: "lr_in_", egress: "lr_out_" },
};

/**
 * `parseActions` with the work shared between flows of the same action text and datapath kind.
 * Parsing asks the context only for port keys; each kept result carries the names it asked
 * about and the keys it got, and is reused for a context that gives the same keys for those
 * names. Only successes are kept (a failure is parsed again, so its diagnostic names its flow);
 * the kept actions are shared and never changed (rules freeze them).
 */
class ActionCache {
  private readonly byText = new Map<string, { readonly asked: readonly [string, number | undefined][]; readonly actions: readonly Action[] }[]>();

  parse(text: string, ctx: ActionContext): Result<readonly Action[]> {
    const key = `${ctx.datapath ?? "switch"} ${text}`;
    const variants = this.byText.get(key);
    if (variants !== undefined) {
      for (const v of variants) if (v.asked.every(([name, k]) => ctx.portKey?.(name) === k)) return ok(v.actions);
    }
    const asked: [string, number | undefined][] = [];
    const r = parseActions(text, {
      ...ctx,
      portKey: (name) => {
        const k = ctx.portKey?.(name);
        asked.push([name, k]);
        return k;
      },
    });
    if (r.ok) {
      if (variants === undefined) this.byText.set(key, [{ asked, actions: r.value }]);
      else variants.push({ asked, actions: r.value });
    }
    return r;
  }
}

/** Lowers every datapath's flows; all problems are reported together. */
export function lowerLogicalFlows(input: LowerInput): Result<LogicalProgram> {
  const diags: Diagnostic[] = [];
  const datapaths = new Map<number, LogicalDatapath>();
  const datapathByName = new Map<string, number>();
  const portByName = new Map<string, LogicalPort>();
  // Every datapath lowers with the same address sets and port groups: one cache serves them all.
  const { matches, actions: actionCache } = input.caches ?? lowerCaches();
  for (const dp of input.datapaths) {
    const path = [`datapaths[${dp.name}]`];
    if (datapaths.has(dp.key)) {
      diags.push(error("lower.duplicate-datapath", `datapath key ${dp.key} is used twice`, { path }));
      continue;
    }
    const r = input.lazy ? checkedLazily(dp, input, matches, actionCache, diags) : lowerDatapath(dp, input, matches, actionCache, diags);
    if (!r) continue;
    datapaths.set(dp.key, r);
    datapathByName.set(dp.name, dp.key);
    for (const p of dp.ports) portByName.set(p.name, p);
  }
  if (diags.length) return fail(...diags);
  return ok(Object.freeze({ datapaths, datapathByName, portByName, ...(input.loadBalancers ? { loadBalancers: input.loadBalancers } : {}) }));
}

/**
 * A datapath whose flows pass `lowerDatapath`'s checks now and whose pipelines are lowered when
 * first read; undefined (with the diagnostics) when a check fails.
 */
function checkedLazily(dp: DatapathInput, input: LowerInput, matches: MatchCache, actionCache: ActionCache, diags: Diagnostic[]): LogicalDatapath | undefined {
  const before = diags.length;
  lowerDatapath(dp, input, matches, actionCache, diags, true);
  if (diags.length > before) return undefined;
  let lowered: LogicalDatapath | undefined;
  const get = (): LogicalDatapath => {
    if (lowered === undefined) {
      const found: Diagnostic[] = [];
      lowered = lowerDatapath(dp, input, matches, actionCache, found);
      if (lowered === undefined) throw new LowerError(found);
    }
    return lowered;
  };
  return Object.freeze({
    ...datapathHead(dp),
    get ingress() {
      return get().ingress;
    },
    get egress() {
      return get().egress;
    },
    get stageNames() {
      return get().stageNames;
    },
  });
}

/** What a lowered datapath says before its pipelines: its identity, ports and multicast groups. */
function datapathHead(dp: DatapathInput): Pick<LogicalDatapath, "key" | "name" | "kind" | "ports" | "multicast" | "transit"> {
  return { key: dp.key, name: dp.name, kind: dp.kind, ports: new Map(dp.ports.map((p) => [p.key, p])), multicast: new Map(dp.multicast.map((m) => [m.key, m])), ...(dp.transit === true ? { transit: true } : {}) };
}

/**
 * Lowers one datapath's flows into its pipelines; undefined (with the diagnostics) when a flow
 * fails. With `checkOnly`, checks each flow's table, priority and match without normalizing it,
 * and builds nothing.
 */
function lowerDatapath(dp: DatapathInput, input: LowerInput, matches: MatchCache, actionCache: ActionCache, diags: Diagnostic[], checkOnly = false): LogicalDatapath | undefined {
  const keys = new Map<string, number>();
  for (const p of dp.ports) keys.set(p.name, p.key);
  for (const m of dp.multicast) keys.set(m.name, m.key);
  // "none" is OVN's name for "no port" (key 0): `outport == "none"` is how northd tests that an
  // FDB lookup found nothing.
  if (!keys.has("none")) keys.set("none", 0);
  const ctx: NormalizeContext = {
    portKey: (n) => keys.get(n),
    ...(input.addressSet ? { addressSet: input.addressSet } : {}),
    ...(input.portGroup ? { portGroup: input.portGroup } : {}),
    ...(input.isChassisResident ? { isChassisResident: input.isChassisResident } : {}),
  };
  const before = diags.length;
  const rules: Record<PipelineName, Map<number, Rule[]>> = { ingress: new Map(), egress: new Map() };
  const nextId: Record<PipelineName, number> = { ingress: 0, egress: 0 };
  dp.flows.forEach((f, i) => {
    const path = [`datapaths[${dp.name}]`, "flows", i];
    const notes = f.origin ? [`from ${f.origin}`] : [];
    const where = { path, ...(notes.length ? { notes } : {}) };
    const table = resolveTable(dp.kind, f, (d) => diags.push({ ...d, ...where }));
    if (table === undefined) return;
    if (!Number.isInteger(f.priority) || f.priority < 0 || f.priority > 65535) {
      diags.push(error("lower.bad-priority", `priority ${f.priority} is not in 0..65535`, where));
      return;
    }
    const file = `${dp.name} ${f.pipeline} table=${table} priority=${f.priority}`;
    const matchOpts = { file: `${file} match` };
    const m = checkOnly ? matches.check(f.match, ctx, matchOpts) : matches.compile(f.match, ctx, matchOpts);
    if (!m.ok) {
      for (const d of m.diags) diags.push({ ...d, ...where });
      return;
    }
    const found = m.value;
    if (found === true) return;
    const a = actionCache.parse(f.actions, { portKey: (n) => keys.get(n), datapath: dp.kind, file: `${file} actions` });
    if (!a.ok) {
      for (const d of a.diags) diags.push({ ...d, ...where });
      return;
    }
    const stage = stageName(dp.kind, f.pipeline, table);
    // The rules of one flow share one frozen action list and provenance (the first rule's).
    let actions: readonly Action[] = a.value;
    let provenance: Provenance = { stage, source: f.source, matchText: f.match, actionText: f.actions, ...(f.origin === undefined ? {} : { origin: f.origin }) };
    const list = rules[f.pipeline].get(table) ?? [];
    rules[f.pipeline].set(table, list);
    for (const match of found) {
      const rule = makeRule({
        id: nextId[f.pipeline]++,
        table,
        priority: f.priority,
        match,
        actions,
        provenance,
      });
      actions = rule.actions;
      provenance = rule.provenance;
      list.push(rule);
    }
  });
  if (checkOnly || diags.length > before) return undefined;
  const progs: Partial<Record<PipelineName, Program>> = {};
  const stageNames: Record<PipelineName, string[]> = { ingress: [], egress: [] };
  for (const pl of ["ingress", "egress"] as const) {
    const count = Math.max(pipelineStages(dp.kind, pl).length, ...[...rules[pl].keys()].map((t) => t + 1));
    const tables: Table[] = [];
    for (let t = 0; t < count; t++) {
      const name = stageName(dp.kind, pl, t);
      stageNames[pl].push(name);
      tables.push(makeTable({ id: t, name, rules: rules[pl].get(t) ?? [], datapath: dp.name, pipeline: pl }));
    }
    const p = makeProgram(tables, { name: `${dp.name} ${pl}`, level: "logical", layoutVersion: LAYOUT_VERSION });
    if (!p.ok) {
      diags.push(...p.diags.map((d) => ({ ...d, path: [`datapaths[${dp.name}]`, pl, ...(d.path ?? [])] })));
      return undefined;
    }
    progs[pl] = p.value;
  }
  return Object.freeze({
    ...datapathHead(dp),
    ingress: progs.ingress!,
    egress: progs.egress!,
    stageNames: { ingress: Object.freeze(stageNames.ingress), egress: Object.freeze(stageNames.egress) },
  });
}

/** The stage name of a table, or `ls_in_table30`-style for a table beyond OVN's stages. */
function stageName(kind: DatapathKind, pipeline: PipelineName, table: number): string {
  return pipelineStages(kind, pipeline)[table]?.name ?? `${PREFIX[kind][pipeline]}table${table}`;
}

function resolveTable(kind: DatapathKind, f: LowerFlow, report: (d: Diagnostic) => void): number | undefined {
  const t = f.table ?? f.stage;
  if (t === undefined) {
    report(error("lower.no-table", "the flow has neither a table nor a stage"));
    return undefined;
  }
  if (typeof t === "string") {
    const s = stageByName(t);
    if (!s || s.datapath !== kind || s.pipeline !== f.pipeline) {
      report(error("lower.unknown-stage", `${t} is not a stage of the ${kind} ${f.pipeline} pipeline`));
      return undefined;
    }
    return s.table;
  }
  if (!Number.isInteger(t) || t < 0 || t > 254) {
    report(error("lower.bad-table", `table ${t} is not in 0..254`));
    return undefined;
  }
  return t;
}

/** One datapath's flows as `ovn-sbctl lflow-list` prints them. */
export interface LflowDumpDatapath {
  readonly name: string;
  /** The datapath's UUID as printed, when present. */
  readonly uuid?: string;
  /** From the stage names of its flows (`ls_*` switch, `lr_*` router); undefined without any. */
  readonly kind?: DatapathKind;
  readonly flows: LowerFlow[];
}

const DP_LINE = /^Datapath: "((?:[^"\\]|\\.)*)" \(([0-9a-f-]+)\)\s+Pipeline: (ingress|egress)\s*$/;
const FLOW_LINE = /^\s+table=(\d+)\s*\(([^)]*)\), priority=(\d+)\s*, match=\((.*)\), action=\((.*)\)\s*$/;

/**
 * Reads `ovn-sbctl lflow-list` output into flows per datapath (in order of first appearance).
 * Each flow gets `source` `ovn-northd` and, as its table, the stage name printed beside the number
 * when there is one. Lines that are neither a datapath header nor a flow are diagnostics with
 * their line number.
 */
export function parseLflowDump(text: string, file = "<lflow-list>"): Result<LflowDumpDatapath[]> {
  type Dp = { name: string; uuid?: string; kind?: DatapathKind; flows: LowerFlow[] };
  const out: Dp[] = [];
  const byName = new Map<string, Dp>();
  const diags: Diagnostic[] = [];
  let cur: { dp: Dp; pipeline: PipelineName } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return;
    const loc = { file, line: i + 1, column: 1 };
    const d = DP_LINE.exec(line);
    if (d) {
      const name = JSON.parse(`"${d[1]!}"`) as string;
      let dp = byName.get(name);
      if (!dp) {
        dp = { name, uuid: d[2]!, flows: [] };
        byName.set(name, dp);
        out.push(dp);
      }
      cur = { dp, pipeline: d[3] as PipelineName };
      return;
    }
    const f = FLOW_LINE.exec(line);
    if (!f) {
      diags.push(error("lflow-dump.syntax", "expected a `Datapath:` header or a `table=N (stage), priority=P, match=(...), action=(...)` line", { loc }));
      return;
    }
    if (!cur) {
      diags.push(error("lflow-dump.no-datapath", "a flow line before any `Datapath:` header", { loc }));
      return;
    }
    const stage = f[2]!.trim();
    const known = stageByName(stage);
    if (known && cur.dp.kind === undefined) cur.dp.kind = known.datapath;
    cur.dp.flows.push({
      pipeline: cur.pipeline,
      table: known ? stage : Number(f[1]),
      priority: Number(f[3]),
      match: f[4]!,
      actions: f[5]!,
      source: "ovn-northd",
    });
  });
  if (diags.length) return fail(...diags);
  return ok(out);
}
