/**
 * A direct interpreter of match expressions over one flow key: the slow, obviously correct twin
 * of `normalize`.
 *
 * What: `evaluate(expr, key, ctx)` says whether the key satisfies the expression, by walking the
 * syntax tree with a "negated" flag, reading field values out of the key as numbers and comparing
 * them. It shares no code with normalization beyond the parser and the symbol table: no masks are
 * built, no prefixes expanded, nothing is intersected.
 *
 * Meaning (OVN's, see `lower.ts`): `!` turns `&&` into `||` and each relation into its inverse;
 * every comparison of a constant also requires the symbol's prerequisites (not negated); a
 * predicate tested negatively is the negation of its whole expansion, prerequisites included. A
 * comparison with a set holds for some member (`==`) or for every member (other operators). A
 * whole-field comparison on a field stored in wider bits (`icmp4.type` in `tp_src`) compares all
 * the stored bits; bits OVN has but the key does not store read as zero. A port name that the
 * context does not know makes its comparison false.
 */
import { error, fail, ok, type Diagnostic, type Result } from "../base/index.js";
import { field as layoutField } from "../flow/index.js";
import { invertRelOp, type Expr, type FieldRef, type IntConstant, type RelOp } from "./ast.js";
import { ones, wordsToBigint } from "./bits.js";
import { parseSetMember } from "./lower.js";
import type { NormalizeContext } from "./normalize.js";
import { checkCmpValues, parseExpr } from "./parser.js";
import { compareWidth, resolveToRoot, SYMBOLS, type FieldSymbol, type SymbolTable } from "./symbols.js";

class EvalError {
  readonly diag: Diagnostic;
  constructor(diag: Diagnostic) {
    this.diag = diag;
  }
}

const MAX_EXPANSION_DEPTH = 64;

/** Reads a root field's value from a key: its stored layout bits, as an unsigned number. */
export function readField(key: Uint32Array, root: FieldSymbol): bigint {
  const d = layoutField(root.layout);
  const raw = d.nwords > 1 ? wordsToBigint(key, d.word, d.nwords) : BigInt(((key[d.word]! >>> d.shift) & (d.width === 32 ? 0xffffffff : (1 << d.width) - 1)) >>> 0);
  return (raw >> BigInt(root.layoutOfs)) & ones(root.bits);
}

function relate(op: RelOp, x: bigint, c: bigint): boolean {
  switch (op) {
    case "==":
      return x === c;
    case "!=":
      return x !== c;
    case "<":
      return x < c;
    case "<=":
      return x <= c;
    case ">":
      return x > c;
    case ">=":
      return x >= c;
    default: {
      const _never: never = op;
      return _never;
    }
  }
}

/** Parsed prerequisite and predicate texts, per symbol table. */
const parsedTexts = new WeakMap<SymbolTable, Map<string, Expr>>();

class Evaluator {
  private readonly parsed: Map<string, Expr>;
  private depth = 0;
  private readonly key: Uint32Array;
  private readonly ctx: NormalizeContext;
  private readonly symbols: SymbolTable;
  private readonly checkPrereqs: boolean;

  constructor(key: Uint32Array, ctx: NormalizeContext, symbols: SymbolTable, checkPrereqs = true) {
    this.key = key;
    this.ctx = ctx;
    this.symbols = symbols;
    this.checkPrereqs = checkPrereqs;
    let p = parsedTexts.get(symbols);
    if (!p) {
      p = new Map();
      parsedTexts.set(symbols, p);
    }
    this.parsed = p;
  }

  /** Evaluates a prerequisite or predicate expansion from the symbol table. */
  private text(t: string): boolean {
    let e = this.parsed.get(t);
    if (!e) {
      const p = parseExpr(t, "<symbol table>", { symbols: this.symbols });
      if (!p.ok) throw new EvalError(p.diags[0]!);
      e = p.value;
      this.parsed.set(t, e);
    }
    if (++this.depth > MAX_EXPANSION_DEPTH) throw new EvalError(error("expr.symbol-table", `Symbol expansion nested more than ${MAX_EXPANSION_DEPTH} deep.`));
    try {
      return this.ev(e, false);
    } finally {
      this.depth--;
    }
  }

  ev(e: Expr, neg: boolean): boolean {
    switch (e.kind) {
      case "bool":
        return e.value !== neg;
      case "not":
        return this.ev(e.arg, !neg);
      case "and":
        return neg ? e.args.some((a) => this.ev(a, neg)) : e.args.every((a) => this.ev(a, neg));
      case "or":
        return neg ? e.args.every((a) => this.ev(a, neg)) : e.args.some((a) => this.ev(a, neg));
      case "chassis-resident":
        return (this.ctx.isChassisResident?.(e.port) ?? false) !== neg;
      case "cmp":
        return this.cmp(e, neg);
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }

  private cmp(e: Expr & { kind: "cmp" }, neg: boolean): boolean {
    const op = neg ? invertRelOp(e.op) : e.op;
    const f = e.field;
    const results: boolean[] = [];
    const ints: IntConstant[] = [];
    let fromSets = false;
    for (const c of e.set.items) {
      switch (c.kind) {
        case "int":
          ints.push(c);
          break;
        case "string":
          results.push(this.port(f, op, c.value));
          break;
        case "address-set": {
          const members = this.ctx.addressSet?.(c.name);
          if (!members) throw new EvalError(error("expr.unknown-address-set", `Syntax error at \`$${c.name}' expecting address set name.`, { loc: c.loc }));
          fromSets = true;
          for (const m of members) {
            const v = parseSetMember(m, c.loc);
            if (v) ints.push(v);
          }
          break;
        }
        case "port-group": {
          const ports = this.ctx.portGroup?.(c.name);
          if (!ports) throw new EvalError(error("expr.unknown-port-group", `Syntax error at \`@${c.name}' expecting port group name.`, { loc: c.loc }));
          for (const p of ports) results.push(this.port(f, op, p));
          break;
        }
        default: {
          const _never: never = c;
          return _never;
        }
      }
    }
    if (fromSets && e.set.type === "int") {
      const msg = checkCmpValues(f, e.op, ints, neg);
      if (msg) throw new EvalError(error("expr.type", msg, { loc: e.loc }));
    }
    for (const c of ints) results.push(this.int(f, op, c));
    if (results.length === 0) return op === "!=";
    const holds = op === "==" ? results.some((r) => r) : results.every((r) => r);
    return holds;
  }

  private prereqs(f: FieldRef): boolean {
    return f.symbol.prereqs && this.checkPrereqs ? this.text(f.symbol.prereqs) : true;
  }

  private port(f: FieldRef, op: RelOp, name: string): boolean {
    const s = f.symbol;
    if (s.kind !== "string") return false;
    const key = this.ctx.portKey?.(name);
    if (key === undefined) return false;
    const d = layoutField(s.layout);
    const v = BigInt(this.key[d.word]! >>> 0);
    return relate(op, v, BigInt(key >>> 0)) && this.prereqs(f);
  }

  private int(f: FieldRef, op: RelOp, c: IntConstant): boolean {
    const s = f.symbol;
    if (s.kind === "string") return false;
    if (s.kind === "predicate") {
      const positive = (c.value & 1n) === 1n !== (op === "!=");
      const body = this.text(s.expansion);
      return (positive ? body : !body) && this.prereqs(f);
    }
    const r = resolveToRoot(this.symbols, s);
    if (!r) throw new EvalError(error("expr.symbol-table", `Symbol \`${s.name}' is not a subfield of a field.`, { loc: f.loc }));
    // A whole-field comparison covers every stored bit (see `compareWidth`).
    const whole = s.kind === "field" && f.ofs === 0 && f.nbits === s.width && c.mask === undefined;
    const n = whole ? compareWidth(r.root) : f.nbits;
    const bits = (readField(this.key, r.root) >> BigInt(r.ofs + f.ofs)) & ones(n);
    let holds: boolean;
    if (c.mask !== undefined) {
      const m = c.mask & ones(n);
      holds = relate(op, bits & m, c.value & m);
    } else {
      holds = relate(op, bits, c.value & ones(n));
    }
    return holds && this.prereqs(f);
  }
}

/**
 * Whether `key` satisfies `expr`. Fails (with a diagnostic) only for unknown address sets or port
 * groups, or set members that do not fit the field. `prereqs: false` compares the fields' stored
 * values alone, without the prerequisites of the symbols named (predicates still expand).
 */
export function evaluate(expr: Expr, key: Uint32Array, ctx: NormalizeContext = {}, opts: { readonly symbols?: SymbolTable; readonly prereqs?: boolean } = {}): Result<boolean> {
  try {
    return ok(new Evaluator(key, ctx, opts.symbols ?? SYMBOLS, opts.prereqs ?? true).ev(expr, false));
  } catch (x) {
    if (x instanceof EvalError) return fail(x.diag);
    throw x;
  }
}
