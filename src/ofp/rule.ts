/**
 * A compiled rule: in table `table`, at `priority`, packets matching `match` get `actions`.
 *
 * Every rule says where it came from (`provenance`): the pipeline stage (`ls_in_acl`), the model
 * object (`acl[3f2a..]`, `switch[ls1].port[p1]`) and the compiler rule that made it
 * (`compile/switch.ts:acl`), plus, for logical flows, the OVN source text of its match and actions.
 * Traces and flow dumps print it, so a verdict always names what caused it.
 *
 * Invariants (checked by `checkRule`): `priority` is in 0..65535 (OpenFlow's range), `table` in
 * 0..254, `id` a non-negative integer unique within its program, the match normalized, the actions
 * valid. `makeRule` copies the match and freezes the rest; a rule is never mutated afterwards.
 * Rules may share one frozen action list and provenance.
 */
import { error, type Diagnostic } from "../base/index.js";
import { checkActions, freezeActions, type Action } from "./action.js";
import { copyMatch, isNormalizedMatch, type Match } from "./match.js";

export interface Provenance {
  /** Pipeline stage name, as OVN names it (`ls_in_acl`, `lr_in_ip_routing`). */
  readonly stage?: string;
  /** The model object the rule implements, e.g. `acl[3f2a..]` or `switch[ls1].port[p1]`. */
  readonly origin?: string;
  /** The compiler rule that produced it, e.g. `compile/switch.ts:acl`. */
  readonly source: string;
  /** OVN match text, e.g. `inport == "p1" && ip4`, for `lflow-list` rendering. */
  readonly matchText?: string;
  /** OVN action text, e.g. `reg0[0] = 1; next;`. */
  readonly actionText?: string;
}

export interface Rule {
  readonly id: number;
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly provenance: Provenance;
  /** OpenFlow cookie (OVN puts the first 32 bits of the logical flow's UUID here). */
  readonly cookie?: number;
}

/** Action lists made by `makeRule`: frozen copies, deeply frozen, that rules may share. */
const SEALED = new WeakSet<readonly Action[]>();
/** Sealed action lists that `checkActions` found valid (they cannot change afterwards). */
const VALID = new WeakSet<readonly Action[]>();
/** Provenances made by `makeRule`: frozen copies that rules may share. */
const SEALED_PROVENANCE = new WeakSet<Provenance>();

/**
 * Builds a frozen rule with a private, normalized copy of `init.match`. The actions and the
 * provenance are frozen copies of `init`'s, unless they already are ones made here (another
 * rule's), which are then shared: the rules made from one logical flow need only one of each.
 */
export function makeRule(init: Rule): Rule {
  let actions = init.actions;
  if (!SEALED.has(actions)) {
    actions = freezeActions([...actions]);
    SEALED.add(actions);
  }
  const rule: Rule = {
    id: init.id,
    table: init.table,
    priority: init.priority,
    match: Object.freeze(copyMatch(init.match)),
    actions,
    provenance: SEALED_PROVENANCE.has(init.provenance) ? init.provenance : sealProvenance(init.provenance),
    ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
  };
  return Object.freeze(rule);
}

function sealProvenance(p: Provenance): Provenance {
  const out = Object.freeze({ ...p });
  SEALED_PROVENANCE.add(out);
  return out;
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/** Checks a rule's invariants; one diagnostic per problem, with a path under `path`. */
export function checkRule(r: Rule, path: readonly (string | number)[] = [`rule[${r.id}]`]): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!isInt(r.id, 0, Number.MAX_SAFE_INTEGER)) out.push(error("ofp.bad-rule-id", `rule id ${r.id} is not a non-negative integer`, { path }));
  if (!isInt(r.priority, 0, 0xffff)) out.push(error("ofp.bad-priority", `priority ${r.priority} is not in 0..65535`, { path }));
  if (!isInt(r.table, 0, 254)) out.push(error("ofp.bad-table", `table ${r.table} is not in 0..254`, { path }));
  if (r.cookie !== undefined && !isInt(r.cookie, 0, Number.MAX_SAFE_INTEGER)) out.push(error("ofp.bad-cookie", `cookie ${r.cookie} is not a non-negative integer`, { path }));
  if (!isNormalizedMatch(r.match)) out.push(error("ofp.bad-match", "the match has the wrong length or value bits outside its mask", { path }));
  if (r.provenance.source === "") out.push(error("ofp.no-provenance", "the rule does not name the compiler rule that made it", { path }));
  if (!VALID.has(r.actions)) {
    const bad = checkActions(r.actions, [...path, "actions"]);
    if (bad.length === 0 && SEALED.has(r.actions)) VALID.add(r.actions);
    out.push(...bad);
  }
  return out;
}
