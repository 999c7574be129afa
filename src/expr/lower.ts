/**
 * Lowering: from the syntax tree to OVN's internal expression form, then annotation.
 *
 * What: `lowerExpr` resolves address sets and port groups through a context, pushes `!` down to
 * the comparisons (De Morgan; a negated relation becomes its inverse, `!(x < 3)` is `x >= 3`),
 * and expands sets (`f == {a, b}` is `f == a || f == b`; `f != {a, b}` is `f != a && f != b`).
 * The result is what OVN's parser produces (`Core`). `annotateCore` then does what OVN's
 * `expr_annotate` does: subfields become masked comparisons of their root field (`ct.est` is
 * `ct_state[1]`), predicates are replaced by their expansion (negated when tested negatively),
 * and each comparison is ANDed with its symbol's prerequisites. When every comparison of an
 * `&&`/`||` subtree is on the same symbol, its prerequisites are added once, for the subtree.
 *
 * Semantics worth knowing (they follow OVN): `!` applies before prerequisites are added, so
 * `!(tcp.dst == 80)` is `tcp.dst != 80 && tcp`; but a negated predicate negates its whole
 * annotated expansion, prerequisites included, so `!ip4.mcast` also holds for non-IPv4 packets.
 * An empty set gives a constant: `f == {}` is false and `f != {}` is true, without prerequisites.
 * Invalid address set members are skipped, as OVN skips them.
 *
 * `formatCore` prints a `Core` tree the way OVN's expression tests print theirs
 * (`ip4.src[24..31] == 0xa`, `!vlan.tci[12]`), so OVN's documented cases can be checked as text.
 *
 * Invariants: `Core` trees are immutable and shared (annotated predicate expansions are cached per
 * symbol table). `cmp.value`/`cmp.mask` are in the symbol's own bit positions; after annotation
 * every numeric `cmp` is on a root `field` symbol. `and`/`or` nodes have at least two arguments,
 * none of their own kind.
 */
import { error, fail, ok, type Diagnostic, type Loc, type Result } from "../base/index.js";
import { invertRelOp, type Expr, type FieldRef, type IntConstant, type RelOp } from "./ast.js";
import { contiguousRun, formatHex, ones, testBit } from "./bits.js";
import { Lexer, quoteString } from "./lexer.js";
import { checkCmpValues, parseExpr } from "./parser.js";
import { compareWidth, resolveToRoot, SYMBOLS, symbolWidth, type ExprSymbol, type FieldSymbol, type PredicateSymbol, type StringSymbol, type SubfieldSymbol, type SymbolTable } from "./symbols.js";

export type Core =
  | {
      readonly kind: "cmp";
      readonly symbol: FieldSymbol | SubfieldSymbol | PredicateSymbol;
      readonly op: RelOp;
      readonly value: bigint;
      readonly mask: bigint;
    }
  | { readonly kind: "scmp"; readonly symbol: StringSymbol; readonly op: RelOp; readonly port: string }
  | { readonly kind: "and"; readonly args: readonly Core[] }
  | { readonly kind: "or"; readonly args: readonly Core[] }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "cond"; readonly port: string; readonly not: boolean };

/** What a network supplies to give an expression its meaning. Every member is optional. */
export interface ExprContext {
  /** The tunnel key of a logical port; undefined for an unknown port (which never matches). */
  readonly portKey?: (name: string) => number | undefined;
  /** The members of an address set (addresses or prefixes as text); undefined if there is none. */
  readonly addressSet?: (name: string) => readonly string[] | undefined;
  /** The port names in a port group; undefined if there is none. */
  readonly portGroup?: (name: string) => readonly string[] | undefined;
  /** Whether a port is resident on the chassis compiling the flows. Default: false. */
  readonly isChassisResident?: (port: string) => boolean;
}

export const TRUE: Core = { kind: "bool", value: true };
export const FALSE: Core = { kind: "bool", value: false };

/** `&&` or `||` of `args`, flattened; a single argument is returned as is, none gives the identity. */
export function combine(kind: "and" | "or", args: readonly Core[]): Core {
  const flat: Core[] = [];
  for (const a of args) {
    if (a.kind === kind) flat.push(...a.args);
    else flat.push(a);
  }
  if (flat.length === 0) return kind === "and" ? TRUE : FALSE;
  if (flat.length === 1) return flat[0]!;
  return { kind, args: flat };
}

/** Logical negation by De Morgan: relations are inverted, `&&` and `||` swapped. */
export function notCore(e: Core): Core {
  switch (e.kind) {
    case "cmp":
      return { ...e, op: invertRelOp(e.op) };
    case "scmp":
      return { ...e, op: invertRelOp(e.op) };
    case "and":
      return { kind: "or", args: e.args.map(notCore) };
    case "or":
      return { kind: "and", args: e.args.map(notCore) };
    case "bool":
      return e.value ? FALSE : TRUE;
    case "cond":
      return { ...e, not: !e.not };
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

/** Reads an address-set member as one integer constant, as OVN does; undefined when it is not one. */
export function parseSetMember(text: string, loc: Loc): IntConstant | undefined {
  const t = new Lexer(text).next();
  if (t.kind === "int") return { kind: "int", value: t.value, format: t.format, loc };
  if (t.kind === "masked") return { kind: "int", value: t.value, mask: t.mask, format: t.format, loc };
  return undefined;
}

/** The comparison of one field reference with one integer constant, in the symbol's bit positions. */
function intCmp(f: FieldRef, op: RelOp, c: IntConstant): Core {
  const s = f.symbol as FieldSymbol | SubfieldSymbol | PredicateSymbol;
  const sel = ones(f.nbits);
  const value = (c.value & sel) << BigInt(f.ofs);
  let mask = (c.mask ?? sel) & sel;
  // A whole-field comparison covers all stored bits where storage is wider than OVN's field.
  if (c.mask === undefined && s.kind === "field" && f.ofs === 0 && f.nbits === s.width) mask = ones(compareWidth(s));
  return { kind: "cmp", symbol: s, op, value: value & (mask << BigInt(f.ofs)), mask: mask << BigInt(f.ofs) };
}

/**
 * Resolves sets and pushes `!` down. Errors (unknown sets, members that do not fit the field) are
 * diagnostics located at the offending `$name`/`@name`.
 */
export function lowerExpr(e: Expr, ctx: ExprContext = {}): Result<Core> {
  const diags: Diagnostic[] = [];
  const out = lower(e, false, ctx, diags);
  return diags.length ? fail(diags[0]!) : ok(out);
}

function lower(e: Expr, negated: boolean, ctx: ExprContext, diags: Diagnostic[]): Core {
  switch (e.kind) {
    case "bool":
      return e.value !== negated ? TRUE : FALSE;
    case "not":
      return lower(e.arg, !negated, ctx, diags);
    case "and":
    case "or": {
      const kind = (e.kind === "and") !== negated ? "and" : "or";
      const args: Core[] = [];
      for (const a of e.args) {
        args.push(lower(a, negated, ctx, diags));
        if (diags.length) return FALSE;
      }
      return combine(kind, args);
    }
    case "chassis-resident":
      return { kind: "cond", port: e.port, not: negated };
    case "cmp":
      return lowerCmp(e, negated, ctx, diags);
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

function lowerCmp(e: Expr & { kind: "cmp" }, negated: boolean, ctx: ExprContext, diags: Diagnostic[]): Core {
  const op = negated ? invertRelOp(e.op) : e.op;
  const f = e.field;
  const ints: IntConstant[] = [];
  const strings: string[] = [];
  let fromSets = false;
  for (const c of e.set.items) {
    switch (c.kind) {
      case "int":
        ints.push(c);
        break;
      case "string":
        strings.push(c.value);
        break;
      case "address-set": {
        const members = ctx.addressSet?.(c.name);
        if (!members) {
          diags.push(error("expr.unknown-address-set", `Syntax error at \`$${c.name}' expecting address set name.`, { loc: c.loc }));
          return FALSE;
        }
        fromSets = true;
        for (const m of members) {
          const v = parseSetMember(m, c.loc);
          if (v) ints.push(v);
        }
        break;
      }
      case "port-group": {
        const ports = ctx.portGroup?.(c.name);
        if (!ports) {
          diags.push(error("expr.unknown-port-group", `Syntax error at \`@${c.name}' expecting port group name.`, { loc: c.loc }));
          return FALSE;
        }
        strings.push(...ports);
        break;
      }
      default: {
        const _never: never = c;
        return _never;
      }
    }
  }
  if (fromSets && e.set.type === "int") {
    const msg = checkCmpValues(f, e.op, ints, negated);
    if (msg) {
      diags.push(error("expr.type", msg, { loc: e.loc }));
      return FALSE;
    }
  }
  const atoms: Core[] =
    f.symbol.kind === "string" ? strings.map((port) => ({ kind: "scmp", symbol: f.symbol as StringSymbol, op, port })) : ints.map((c) => intCmp(f, op, c));
  if (atoms.length === 0) return op === "!=" ? TRUE : FALSE;
  return combine(op === "==" ? "or" : "and", atoms);
}

// ---------------------------------------------------------------------------------------------
// Annotation.

const annotatedCache = new WeakMap<SymbolTable, Map<string, Core>>();

class AnnotateError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** Parses, lowers and annotates one expansion or prerequisite string of the symbol table. */
function annotatedText(symbols: SymbolTable, text: string, nesting: Set<string>): Core {
  let cache = annotatedCache.get(symbols);
  if (!cache) {
    cache = new Map();
    annotatedCache.set(symbols, cache);
  }
  const hit = cache.get(text);
  if (hit) return hit;
  const p = parseExpr(text, "<symbol table>", { symbols });
  if (!p.ok) throw new AnnotateError(`Error parsing expression \`${text}' encountered as prerequisite or predicate of initial expression: ${p.diags[0]!.message}`);
  const l = lowerExpr(p.value);
  if (!l.ok) throw new AnnotateError(`Error parsing expression \`${text}' encountered as prerequisite or predicate of initial expression: ${l.diags[0]!.message}`);
  let out: Core;
  try {
    out = annotate(symbols, l.value, true, nesting);
  } catch (e) {
    if (e instanceof AnnotateError) throw new AnnotateError(`Error parsing expression \`${text}' encountered as prerequisite or predicate of initial expression: ${e.message}`);
    throw e;
  }
  cache.set(text, out);
  return out;
}

function withPrereqs(symbols: SymbolTable, e: Core, s: ExprSymbol, nesting: Set<string>): Core {
  return s.prereqs ? combine("and", [e, annotatedText(symbols, s.prereqs, nesting)]) : e;
}

/** The one symbol every comparison in `e` uses, if there is exactly one. */
function uniqueSymbol(e: Core): ExprSymbol | undefined {
  switch (e.kind) {
    case "cmp":
    case "scmp":
      return e.symbol;
    case "and":
    case "or": {
      let s: ExprSymbol | undefined;
      for (const a of e.args) {
        const x = uniqueSymbol(a);
        if (!x || (s && x !== s)) return undefined;
        s = x;
      }
      return s;
    }
    case "bool":
    case "cond":
      return undefined;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

function annotateCmp(symbols: SymbolTable, e: Core & { kind: "cmp" | "scmp" }, appendPrereqs: boolean, nesting: Set<string>): Core {
  const s = e.symbol;
  if (nesting.has(s.name)) throw new AnnotateError(`Recursive expansion of symbol \`${s.name}'.`);
  nesting.add(s.name);
  try {
    let out: Core = e;
    if (e.kind === "cmp") {
      if (s.kind === "subfield") {
        const r = resolveToRoot(symbols, s);
        if (!r) throw new AnnotateError(`Symbol \`${s.name}' is not a subfield of a field.`);
        out = { kind: "cmp", symbol: r.root, op: e.op, value: e.value << BigInt(r.ofs), mask: e.mask << BigInt(r.ofs) };
      } else if (s.kind === "predicate") {
        const body = annotatedText(symbols, s.expansion, nesting);
        const positive = testBit(e.value, 0) !== (e.op === "!=");
        out = positive ? body : notCore(body);
      }
    }
    return appendPrereqs ? withPrereqs(symbols, out, s, nesting) : out;
  } finally {
    nesting.delete(s.name);
  }
}

function annotate(symbols: SymbolTable, e: Core, appendPrereqs: boolean, nesting: Set<string>): Core {
  switch (e.kind) {
    case "cmp":
    case "scmp":
      return annotateCmp(symbols, e, appendPrereqs, nesting);
    case "and":
    case "or": {
      const u = appendPrereqs ? uniqueSymbol(e) : undefined;
      const args = e.args.map((a) => annotate(symbols, a, appendPrereqs && !u, nesting));
      const out = combine(e.kind, args);
      return u ? withPrereqs(symbols, out, u, nesting) : out;
    }
    case "bool":
    case "cond":
      return e;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

/**
 * Expands subfields and predicates and adds prerequisites (OVN's `expr_annotate`). Fails only
 * when the symbol table itself is broken (an expansion that does not parse, or that refers to
 * itself), with OVN's message.
 */
export function annotateCore(e: Core, symbols: SymbolTable = SYMBOLS, loc?: Loc): Result<Core> {
  try {
    return ok(annotate(symbols, e, true, new Set()));
  } catch (x) {
    if (x instanceof AnnotateError) return fail(error("expr.symbol-table", x.message, loc ? { loc } : {}));
    throw x;
  }
}

// ---------------------------------------------------------------------------------------------
// Printing in OVN's test notation.

function cmpWidth(s: FieldSymbol | SubfieldSymbol | PredicateSymbol): number {
  return s.kind === "field" ? compareWidth(s) : symbolWidth(s);
}

function formatCmp(e: Core & { kind: "cmp" }): string {
  const w = cmpWidth(e.symbol);
  const run = contiguousRun(e.mask, w);
  const name = e.symbol.name;
  if (run && run.n === 1 && (e.op === "==" || e.op === "!=")) {
    const positive = testBit(e.value, run.ofs) !== (e.op === "!=");
    return `${positive ? "" : "!"}${name}${w > 1 ? `[${run.ofs}]` : ""}`;
  }
  let sub = "";
  if (run && run.n < w) sub = run.n > 1 ? `[${run.ofs}..${run.ofs + run.n - 1}]` : `[${run.ofs}]`;
  const v = run ? formatHex((e.value >> BigInt(run.ofs)) & ones(run.n)) : `${formatHex(e.value)}/${formatHex(e.mask)}`;
  return `${name}${sub} ${e.op} ${v}`;
}

function formatOperand(e: Core): string {
  return e.kind === "and" || e.kind === "or" ? `(${formatCore(e)})` : formatCore(e);
}

/** Prints a `Core` tree in OVN's notation (constants in hex, subfields from masks). */
export function formatCore(e: Core): string {
  switch (e.kind) {
    case "cmp":
      return formatCmp(e);
    case "scmp":
      return `${e.symbol.name} ${e.op} ${quoteString(e.port)}`;
    case "and":
      return e.args.map(formatOperand).join(" && ");
    case "or":
      return e.args.map(formatOperand).join(" || ");
    case "bool":
      return e.value ? "1" : "0";
    case "cond":
      return `${e.not ? "!" : ""}is_chassis_resident(${quoteString(e.port)})`;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}
