/**
 * A compiled program: the tables one chassis (physical level) or one logical pipeline (logical
 * level) runs, plus what it was compiled from.
 *
 * Invariants (`makeProgram` refuses a program that breaks them): table ids are unique and in
 * 0..254; every rule sits in the table its `table` names; rule ids are unique across the program;
 * every rule passes `checkRule`. `byId[id]` is the table with that id (a dense array, so lookups on
 * the hot path are one index). Everything is frozen.
 */
import { error, fail, ok, warning, type Diagnostic, type Result } from "../base/index.js";
import { nestedActions, type Action } from "./action.js";
import { checkRule, type Rule } from "./rule.js";
import type { Table } from "./table.js";

export interface ProgramMeta {
  /** What the program is for, e.g. `chassis hv1` or `ls1 ingress`. */
  readonly name: string;
  readonly level: "logical" | "physical";
  readonly chassis?: string;
  /** The flow layout version the matches were built against (`LAYOUT_VERSION`). */
  readonly layoutVersion: number;
}

export interface Program {
  /** Tables in ascending id order. */
  readonly tables: readonly Table[];
  /** `byId[id]`: the table with that id, or undefined. */
  readonly byId: readonly (Table | undefined)[];
  readonly meta: ProgramMeta;
}

const NO_PATH: readonly string[] = [];

/** Builds a frozen program, or returns every broken invariant as a diagnostic. */
export function makeProgram(tables: readonly Table[], meta: ProgramMeta): Result<Program> {
  const diags: Diagnostic[] = [];
  const byId: (Table | undefined)[] = [];
  const ruleIds = new Set<number>();
  for (const t of tables) {
    const path = [`table[${t.id}]`];
    if (!Number.isInteger(t.id) || t.id < 0 || t.id > 254) {
      diags.push(error("ofp.bad-table", `table id ${t.id} is not in 0..254`, { path }));
      continue;
    }
    if (byId[t.id]) diags.push(error("ofp.duplicate-table", `two tables have id ${t.id} (${byId[t.id]!.name} and ${t.name})`, { path }));
    byId[t.id] = t;
    for (const r of t.rules) {
      // The common case, a valid rule, builds no diagnostic paths.
      if (r.table === t.id && !ruleIds.has(r.id) && checkRule(r, NO_PATH).length === 0) {
        ruleIds.add(r.id);
        continue;
      }
      const rpath = [...path, `rule[${r.id}]`];
      if (r.table !== t.id) diags.push(error("ofp.wrong-table", `rule ${r.id} says table ${r.table} but sits in table ${t.id}`, { path: rpath }));
      if (ruleIds.has(r.id)) diags.push(error("ofp.duplicate-rule", `rule id ${r.id} is used twice`, { path: rpath }));
      ruleIds.add(r.id);
      diags.push(...checkRule(r, rpath));
    }
  }
  if (diags.length > 0) return fail(...diags);
  for (let i = 0; i < byId.length; i++) if (!(i in byId)) byId[i] = undefined;
  const sorted = [...tables].sort((a, b) => a.id - b.id);
  return ok(Object.freeze({ tables: Object.freeze(sorted), byId: Object.freeze(byId), meta: Object.freeze({ ...meta }) }));
}

/** The table with id `id`, if any. */
export function tableOf(p: Program, id: number): Table | undefined {
  return p.byId[id];
}

/** Every rule of the program, table by table. */
export function allRules(p: Program): Rule[] {
  return p.tables.flatMap((t) => t.rules);
}

/**
 * Warnings about a valid program: `resubmit`, `ct(table=...)` and `ct_lb` recirculations, and
 * explicit `next(N)` that go to a table the program does not have (packets sent there would miss).
 */
export function lintProgram(p: Program): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (actions: readonly Action[], r: Rule): void => {
    for (const a of actions) {
      let target: number | undefined;
      if (a.kind === "resubmit") target = a.table;
      else if ((a.kind === "ct" || a.kind === "ct_lb" || a.kind === "next") && a.table !== undefined) target = a.table;
      if (target !== undefined && !p.byId[target]) {
        out.push(warning("ofp.missing-table", `rule ${r.id} sends packets to table ${target}, which the program does not have`, { path: [`table[${r.table}]`, `rule[${r.id}]`] }));
      }
      visit(nestedActions(a), r);
    }
  };
  for (const t of p.tables) for (const r of t.rules) visit(r.actions, r);
  return out;
}
