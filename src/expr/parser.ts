/**
 * The parser of OVN's match language: text to a typed syntax tree (`ast.ts`).
 *
 * Grammar (as OVN's lib/expr.c reads it):
 *
 *     expr     := not ( ("&&" not)+ | ("||" not)+ )?      -- mixing && and || needs parentheses
 *     not      := "!" primary                             -- the operand must be atomic
 *               | primary
 *     primary  := "(" expr ")"
 *               | "is_chassis_resident" "(" STRING ")"
 *               | field                                   -- means field != 0 (1-bit fields,
 *                                                            or any field under an odd number of !)
 *               | field relop set
 *               | set relop field                         -- operands turned: 4 < x is x > 4
 *               | set relop field relop set               -- x < f < y or x > f > y
 *               | "0" | "1"
 *     field    := ID ( "[" INT ( ".." INT )? "]" )?
 *     set      := constant | "{" constant ( ","? constant )* "}"
 *     constant := INT | MASKED_INT | STRING | $ID | @ID
 *
 * Atomic operands are parenthesized expressions, bare fields, `0`/`1` and `is_chassis_resident`.
 *
 * Checks made here, with OVN's messages: symbols exist; subfield ranges are in range and not on
 * nominal or string fields; constants have the field's type and fit its width; `<`-style operators
 * only on ordinal fields, never with sets or masked constants; nominal fields only tested for
 * equality once enclosing `!`s are counted; nominal predicates only tested positively.
 * Address sets and port groups are checked when they are resolved (`lower.ts`), with
 * `checkCmpValues` below.
 *
 * Errors: the first one wins, as in OVN. Each is a `Diagnostic` whose `loc` has the line and
 * 1-based column of the offending token, e.g. "Syntax error at `)' expecting field name.".
 * Limits: nesting depth of parentheses (default 100, OVN's) and input length (default 256 KiB),
 * each a clear error; parsing is linear in the input, so any input returns promptly.
 */
import { error, fail, ok, type Diagnostic, type Loc, type Result } from "../base/index.js";
import { turnRelOp, type Constant, type ConstantSet, type Expr, type FieldRef, type IntConstant, type RelOp } from "./ast.js";
import { bitWidth } from "./bits.js";
import { Lexer, type Token, type TokenPos } from "./lexer.js";
import { SYMBOLS, symbolWidth, type ExprSymbol, type SymbolTable } from "./symbols.js";

export interface ParseOptions {
  /** Name of the text's source, for diagnostics. Default `<expr>`. */
  readonly file?: string;
  readonly symbols?: SymbolTable;
  /** Deepest parenthesis nesting accepted. Default 100. */
  readonly maxDepth?: number;
  /** Longest input accepted, in characters. Default 262144. */
  readonly maxLength?: number;
}

export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_LENGTH = 256 * 1024;

const RELOPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);

function isRelOp(t: Token): boolean {
  return RELOPS.has(t.kind);
}

/** The smallest width that holds a constant: the mask's for masked ones, else by format. */
export function constantWidth(c: IntConstant): number {
  if (c.mask !== undefined) return bitWidth(c.mask);
  switch (c.format) {
    case "decimal":
    case "hex":
      return bitWidth(c.value);
    case "ipv4":
      return 32;
    case "ipv6":
      return 128;
    case "mac":
      return 48;
    default: {
      const _never: never = c.format;
      return _never;
    }
  }
}

function levelName(s: ExprSymbol): string {
  return s.level === "boolean" ? "Boolean" : s.level;
}

function widthError(s: ExprSymbol, c: IntConstant): string | undefined {
  const w = constantWidth(c);
  const width = symbolWidth(s);
  return w > width ? `${w}-bit constant is not compatible with ${width}-bit field ${s.name}.` : undefined;
}

function positivityError(s: ExprSymbol, op: RelOp, c: IntConstant, negated: boolean): string | undefined {
  if (s.kind !== "predicate" || s.level !== "nominal") return undefined;
  const positive = ((c.value & 1n) === 1n) !== (op === "!=") !== negated;
  if (positive) return undefined;
  const n = s.name;
  return `Nominal predicate ${n} may only be tested positively, e.g. \`${n}' or \`${n} == 1' but not \`!${n}' or \`${n} == 0'.`;
}

const MASKED_RELOP = "Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff).";

/**
 * The checks of a comparison that depend on its constants' values, for the contents of address
 * sets once they are resolved (the parser has already checked everything else): widths, that `<`
 * and friends get a non-empty set without masked values, and that nominal predicates are tested
 * positively.
 * `negated` is true under an odd number of `!`. Returns OVN's message, or undefined.
 */
export function checkCmpValues(field: FieldRef, op: RelOp, values: readonly IntConstant[], negated: boolean): string | undefined {
  for (const c of values) {
    const m = widthError(field.symbol, c);
    if (m) return m;
  }
  if (op !== "==" && op !== "!=") {
    if (values.length === 0) return "Only == and != operators may be used to compare a field against an empty value set.";
    // OVN checks only the first member; a masked member anywhere is rejected here.
    if (values.some((c) => c.mask !== undefined)) return MASKED_RELOP;
  }
  for (const c of values) {
    const m = positivityError(field.symbol, op, c, negated);
    if (m) return m;
  }
  return undefined;
}

class Parser {
  private tok: Token;
  private prevEnd = 0;
  private negated = false;
  private depth = 0;
  diag: Diagnostic | undefined;

  private readonly lx: Lexer;
  private readonly file: string;
  private readonly symbols: SymbolTable;
  private readonly maxDepth: number;

  constructor(lx: Lexer, file: string, symbols: SymbolTable, maxDepth: number) {
    this.lx = lx;
    this.file = file;
    this.symbols = symbols;
    this.maxDepth = maxDepth;
    this.tok = lx.next();
  }

  /** True when the current token is of kind `k` (a method, so that checks are not narrowed away). */
  private at(k: Token["kind"]): boolean {
    return this.tok.kind === k;
  }

  private advance(): void {
    this.prevEnd = this.tok.end;
    this.tok = this.lx.next();
  }

  /** A location from `start` to the end of the last consumed token (or `start`'s own end). */
  private loc(start: TokenPos, end = Math.max(this.prevEnd, start.end)): Loc {
    return { file: this.file, line: start.line, column: start.column, length: Math.max(1, end - start.start) };
  }

  /** Records the first error. A pending lexical error is reported in its place, as OVN does. */
  private fail(code: string, message: string, at: TokenPos, length?: number): undefined {
    if (this.diag) return undefined;
    if (this.tok.kind === "error") {
      this.diag = error("expr.lex", this.tok.message, { loc: this.loc(this.tok, this.tok.end) });
    } else {
      this.diag = error(code, message, { loc: { file: this.file, line: at.line, column: at.column, length: Math.max(1, length ?? at.end - at.start) } });
    }
    return undefined;
  }

  private syntax(expecting: string): undefined {
    const t = this.tok;
    const where = t.kind === "end" ? "at end of input" : `at \`${this.lx.text.slice(t.start, t.end)}'`;
    return this.fail("expr.syntax", `Syntax error ${where} ${expecting}.`, t);
  }

  private expect(kind: Token["kind"]): boolean {
    if (this.tok.kind === kind) {
      this.advance();
      return true;
    }
    this.syntax(kind === "end" ? "expecting end of input" : `expecting \`${kind}'`);
    return false;
  }

  parseTop(): Expr | undefined {
    const e = this.parseExpr();
    if (!e) return undefined;
    if (!this.expect("end")) return undefined;
    return e;
  }

  private parseExpr(): Expr | undefined {
    const start = this.tok;
    const first = this.parseNot();
    if (!first) return undefined;
    const k = this.tok.kind;
    if (k !== "&&" && k !== "||") return first;
    const args: Expr[] = [];
    const push = (e: Expr): void => {
      if ((k === "&&" && e.kind === "and") || (k === "||" && e.kind === "or")) args.push(...e.args);
      else args.push(e);
    };
    push(first);
    while (this.at(k)) {
      this.advance();
      const e = this.parseNot();
      if (!e) return undefined;
      push(e);
    }
    if (this.at("&&") || this.at("||")) return this.fail("expr.syntax", "&& and || must be parenthesized when used together.", this.tok);
    return { kind: k === "&&" ? "and" : "or", args, loc: this.loc(start) };
  }

  private parseNot(): Expr | undefined {
    if (this.tok.kind !== "!") return this.parsePrimary()?.e;
    const bang = this.tok;
    this.advance();
    this.negated = !this.negated;
    const p = this.parsePrimary();
    this.negated = !this.negated;
    if (!p) return undefined;
    if (!p.atomic) return this.fail("expr.syntax", "Missing parentheses around operand of !.", bang, this.prevEnd - bang.start);
    return { kind: "not", arg: p.e, loc: this.loc(bang) };
  }

  private parsePrimary(): { e: Expr; atomic: boolean } | undefined {
    const t = this.tok;
    if (t.kind === "(") {
      if (this.depth >= this.maxDepth) return this.fail("expr.depth", "Parentheses nested too deeply.", t);
      this.advance();
      this.depth++;
      const e = this.parseExpr();
      this.depth--;
      if (!e || !this.expect(")")) return undefined;
      return { e, atomic: true };
    }
    if (t.kind === "template") return this.fail("expr.syntax", "Unexpanded template.", t);
    if (t.kind === "id") {
      if (this.lx.peek().kind === "(") return this.parseFunction(t);
      const f = this.parseField();
      if (!f) return undefined;
      if (!isRelOp(this.tok)) {
        if (f.nbits === 0 || this.tok.kind === "=") return this.syntax("expecting relational operator");
        if (f.nbits > 1 && !this.negated) return this.fail("expr.type", "Explicit `!= 0' is required for inequality test of multibit field against 0.", t, this.prevEnd - t.start);
        const zero: IntConstant = { kind: "int", value: 0n, format: "hex", loc: f.loc };
        const e = this.makeCmp(f, "!=", { items: [zero], curly: false, type: "int" }, t, true);
        return e && { e, atomic: true };
      }
      const op = this.tok.kind as RelOp;
      this.advance();
      const set = this.parseSet();
      if (!set) return undefined;
      const e = this.makeCmp(f, op, set, t, false);
      return e && { e, atomic: false };
    }
    const c1 = this.parseSet();
    if (!c1) return undefined;
    const only = c1.items[0];
    if (!isRelOp(this.tok) && c1.items.length === 1 && !c1.curly && only?.kind === "int" && only.format === "decimal" && only.mask === undefined && only.value <= 1n) {
      return { e: { kind: "bool", value: only.value === 1n, loc: this.loc(t) }, atomic: true };
    }
    if (!isRelOp(this.tok)) return this.syntax("expecting relational operator");
    const r1 = this.tok.kind as RelOp;
    this.advance();
    const f = this.parseField();
    if (!f) return undefined;
    if (!isRelOp(this.tok)) {
      const e = this.makeCmp(f, turnRelOp(r1), c1, t, false);
      return e && { e, atomic: false };
    }
    const r2 = this.tok.kind as RelOp;
    this.advance();
    const c2 = this.parseSet();
    if (!c2) return undefined;
    const lt = (r: RelOp): boolean => r === "<" || r === "<=";
    const gt = (r: RelOp): boolean => r === ">" || r === ">=";
    if (!((lt(r1) && lt(r2)) || (gt(r1) && gt(r2)))) {
      return this.fail("expr.syntax", "Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>=').", t, this.prevEnd - t.start);
    }
    const e1 = this.makeCmp(f, turnRelOp(r1), c1, t, false);
    const e2 = this.makeCmp(f, r2, c2, t, false);
    if (!e1 || !e2) return undefined;
    return { e: { kind: "and", args: [e1, e2], loc: this.loc(t) }, atomic: false };
  }

  private parseFunction(name: Token & { kind: "id" }): { e: Expr; atomic: boolean } | undefined {
    if (name.text !== "is_chassis_resident") return this.fail("expr.syntax", `Unknown function \`${name.text}'; the only function is is_chassis_resident().`, name);
    this.advance();
    this.advance();
    const s = this.tok;
    if (s.kind !== "string") return this.syntax("expecting string");
    this.advance();
    if (!this.expect(")")) return undefined;
    return { e: { kind: "chassis-resident", port: s.text, loc: this.loc(name) }, atomic: true };
  }

  private smallInt(): number | undefined {
    const t = this.tok;
    if (t.kind === "int" && t.format === "decimal" && t.value <= 0x7fffffffn) {
      this.advance();
      return Number(t.value);
    }
    return this.syntax("expecting small integer");
  }

  private parseField(): FieldRef | undefined {
    const t = this.tok;
    const symbol = t.kind === "id" ? this.symbols.get(t.text) : undefined;
    if (!symbol) return this.syntax("expecting field name");
    this.advance();
    const width = symbolWidth(symbol);
    if (this.tok.kind !== "[") return { symbol, ofs: 0, nbits: width, subscript: false, loc: this.loc(t) };
    this.advance();
    if (symbol.kind === "string") return this.fail("expr.type", `Cannot select subfield of string field ${symbol.name}.`, t);
    const low = this.smallInt();
    if (low === undefined) return undefined;
    let high = low;
    if (this.at("..")) {
      this.advance();
      const h = this.smallInt();
      if (h === undefined) return undefined;
      high = h;
    }
    if (!this.expect("]")) return undefined;
    const len = this.prevEnd - t.start;
    if (low > high) return this.fail("expr.type", `Invalid bit range ${low} to ${high}.`, t, len);
    if (high >= width) return this.fail("expr.type", `Cannot select bits ${low} to ${high} of ${width}-bit field ${symbol.name}.`, t, len);
    if (symbol.level === "nominal" && (low !== 0 || high !== width - 1)) return this.fail("expr.type", `Cannot select subfield of nominal field ${symbol.name}.`, t, len);
    return { symbol, ofs: low, nbits: high - low + 1, subscript: true, loc: this.loc(t) };
  }

  private parseSet(): ConstantSet | undefined {
    const items: Constant[] = [];
    const state: { type: "int" | "string" | undefined } = { type: undefined };
    if (this.tok.kind !== "{") {
      const c = this.parseConstant(state);
      return c && { items: [c], curly: false, type: state.type ?? "int" };
    }
    this.advance();
    do {
      const c = this.parseConstant(state);
      if (!c) return undefined;
      items.push(c);
      if (this.at(",")) this.advance();
    } while (!this.acceptCloseBrace());
    return { items, curly: true, type: state.type ?? "int" };
  }

  private acceptCloseBrace(): boolean {
    if (this.tok.kind !== "}") return false;
    this.advance();
    return true;
  }

  private parseConstant(state: { type: "int" | "string" | undefined }): Constant | undefined {
    const t = this.tok;
    const setType = (ty: "int" | "string"): boolean => {
      if (state.type !== undefined && state.type !== ty) {
        this.syntax(state.type === "int" ? "expecting integer" : "expecting string");
        return false;
      }
      state.type = ty;
      return true;
    };
    const loc = this.loc(t, t.end);
    if (t.kind === "template") return this.fail("expr.syntax", "Unexpanded template.", t);
    if (t.kind === "string" || t.kind === "port-group") {
      if (!setType("string")) return undefined;
      this.advance();
      return t.kind === "string" ? { kind: "string", value: t.text, loc } : { kind: "port-group", name: t.text, loc };
    }
    if (t.kind === "int" || t.kind === "masked" || t.kind === "macro") {
      if (!setType("int")) return undefined;
      this.advance();
      if (t.kind === "macro") return { kind: "address-set", name: t.text, loc };
      return t.kind === "masked" ? { kind: "int", value: t.value, mask: t.mask, format: t.format, loc } : { kind: "int", value: t.value, format: t.format, loc };
    }
    return this.syntax("expecting constant");
  }

  private makeCmp(f: FieldRef, op: RelOp, set: ConstantSet, start: TokenPos, implicit: boolean): Expr | undefined {
    const s = f.symbol;
    const len = this.prevEnd - start.start;
    const bad = (message: string): undefined => this.fail("expr.type", message, start, len);
    const isString = s.kind === "string";
    if ((set.type === "string") !== isString) {
      return bad(`${isString ? "String" : "Integer"} field ${s.name} is not compatible with ${set.type === "int" ? "integer" : "string"} constant.`);
    }
    for (const c of set.items) {
      const m = c.kind === "int" ? widthError(s, c) : undefined;
      if (m) return bad(m);
    }
    if (op !== "==" && op !== "!=") {
      if (set.curly) return bad("Only == and != operators may be used with value sets.");
      if (s.level === "nominal" || s.level === "boolean") return bad(`Only == and != operators may be used with ${levelName(s)} field ${s.name}.`);
      const first = set.items[0];
      if (first?.kind === "int" && first.mask !== undefined) return bad(MASKED_RELOP);
    }
    if (s.kind === "predicate") {
      for (const c of set.items) {
        const m = c.kind === "int" ? positivityError(s, op, c, this.negated) : undefined;
        if (m) return bad(m);
      }
    } else if (s.level === "nominal" && op !== (this.negated ? "!=" : "==")) {
      return bad(`Nominal field ${s.name} may only be tested for equality (taking enclosing \`!' operators into account).`);
    }
    return { kind: "cmp", field: f, op, set, implicit, loc: this.loc(start) };
  }
}

/**
 * Parses an OVN match expression. `file` names the source in diagnostics. On failure the result
 * holds exactly one diagnostic (the first error), with the line and column of the offending token.
 */
export function parseExpr(text: string, file?: string, opts: ParseOptions = {}): Result<Expr> {
  const name = file ?? opts.file ?? "<expr>";
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    return fail(error("expr.too-long", `Expression is ${text.length} characters long; the limit is ${maxLength}.`, { loc: { file: name, line: 1, column: 1, length: 1 } }));
  }
  const p = new Parser(new Lexer(text), name, opts.symbols ?? SYMBOLS, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  const e = p.parseTop();
  if (!e || p.diag) return fail(p.diag ?? error("expr.syntax", "Syntax error.", { loc: { file: name, line: 1, column: 1, length: 1 } }));
  return ok(e);
}

