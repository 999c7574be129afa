/**
 * The syntax tree of an OVN match expression, as written.
 *
 * What: the parser's output. It keeps the source's shape (`!` nodes, sets in braces, `$set` and
 * `@group` references, subfield selections) with a location on every node, and refers to resolved
 * symbols. Address sets and port groups stay unresolved here: their contents come from a context
 * when the expression is normalized or evaluated, so one parse serves many networks.
 *
 * Invariants: a `cmp` has been type-checked against its symbol as far as the literal constants
 * allow (string vs integer, widths, which operators the symbol's level permits, `!=` on nominal
 * fields only under an odd number of `!`). `and`/`or` have at least two arguments and none of the
 * same kind (they are flattened). Integer constants keep the value as written; consumers use its
 * low `nbits` bits, as OVN does (`reg0[0..3] == 0xff` compares with `0xf`).
 *
 * `formatExpr` prints a tree back as text that parses to the same tree (locations aside).
 */
import type { Loc } from "../base/index.js";
import { formatIntConstant, quoteString, type IntFormat } from "./lexer.js";
import type { ExprSymbol } from "./symbols.js";

export type RelOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export interface IntConstant {
  readonly kind: "int";
  readonly value: bigint;
  /** Present for a masked constant (`10.0.0.0/8`, `0x10/0x10`). */
  readonly mask?: bigint;
  readonly format: IntFormat;
  readonly loc: Loc;
}

export interface StringConstant {
  readonly kind: "string";
  readonly value: string;
  readonly loc: Loc;
}

/** `$name`: an address set, resolved through the context. */
export interface AddressSetRef {
  readonly kind: "address-set";
  readonly name: string;
  readonly loc: Loc;
}

/** `@name`: a port group (a set of port names), resolved through the context. */
export interface PortGroupRef {
  readonly kind: "port-group";
  readonly name: string;
  readonly loc: Loc;
}

export type Constant = IntConstant | StringConstant | AddressSetRef | PortGroupRef;

export interface ConstantSet {
  readonly items: readonly Constant[];
  /** Written in braces (`{...}`), even with one member. */
  readonly curly: boolean;
  /** Integer constants and address sets, or strings and port groups. */
  readonly type: "int" | "string";
}

/** A field reference, possibly a subfield selection: `ct_label[0..31]`, `reg0[15]`. */
export interface FieldRef {
  readonly symbol: ExprSymbol;
  /** First selected bit. */
  readonly ofs: number;
  /** Selected bits (the symbol's width without a selection; 0 for string fields). */
  readonly nbits: number;
  /** Written with `[...]`. */
  readonly subscript: boolean;
  readonly loc: Loc;
}

export type Expr =
  | { readonly kind: "bool"; readonly value: boolean; readonly loc: Loc }
  | {
      readonly kind: "cmp";
      readonly field: FieldRef;
      readonly op: RelOp;
      readonly set: ConstantSet;
      /** Written as a bare field (`ct.est`, `ip4`), meaning `field != 0`. */
      readonly implicit: boolean;
      readonly loc: Loc;
    }
  | { readonly kind: "not"; readonly arg: Expr; readonly loc: Loc }
  | { readonly kind: "and"; readonly args: readonly Expr[]; readonly loc: Loc }
  | { readonly kind: "or"; readonly args: readonly Expr[]; readonly loc: Loc }
  | { readonly kind: "chassis-resident"; readonly port: string; readonly loc: Loc };

/** The relation that holds with the operands swapped: `a < b` is `b > a`. */
export function turnRelOp(op: RelOp): RelOp {
  switch (op) {
    case "==":
    case "!=":
      return op;
    case "<":
      return ">";
    case "<=":
      return ">=";
    case ">":
      return "<";
    case ">=":
      return "<=";
    default: {
      const _never: never = op;
      return _never;
    }
  }
}

/** The negated relation: `!(a < b)` is `a >= b`. */
export function invertRelOp(op: RelOp): RelOp {
  switch (op) {
    case "==":
      return "!=";
    case "!=":
      return "==";
    case "<":
      return ">=";
    case "<=":
      return ">";
    case ">":
      return "<=";
    case ">=":
      return "<";
    default: {
      const _never: never = op;
      return _never;
    }
  }
}

/** Prints a field reference: `name` or `name[ofs]` or `name[lo..hi]`. */
export function formatFieldRef(f: FieldRef): string {
  if (!f.subscript) return f.symbol.name;
  return f.nbits === 1 ? `${f.symbol.name}[${f.ofs}]` : `${f.symbol.name}[${f.ofs}..${f.ofs + f.nbits - 1}]`;
}

export function formatConstant(c: Constant): string {
  switch (c.kind) {
    case "int":
      return formatIntConstant(c.value, c.format, c.mask);
    case "string":
      return quoteString(c.value);
    case "address-set":
      return "$" + c.name;
    case "port-group":
      return "@" + c.name;
    default: {
      const _never: never = c;
      return _never;
    }
  }
}

function formatSet(s: ConstantSet): string {
  if (!s.curly && s.items.length === 1) return formatConstant(s.items[0]!);
  return `{${s.items.map(formatConstant).join(", ")}}`;
}

function formatOperand(e: Expr): string {
  return e.kind === "and" || e.kind === "or" ? `(${formatExpr(e)})` : formatExpr(e);
}

/** Prints an expression as parseable text, parenthesizing every nested `&&`/`||`. */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case "bool":
      return e.value ? "1" : "0";
    case "cmp":
      if (e.implicit) return formatFieldRef(e.field);
      return `${formatFieldRef(e.field)} ${e.op} ${formatSet(e.set)}`;
    case "not":
      return e.arg.kind === "cmp" && !e.arg.implicit ? `!(${formatExpr(e.arg)})` : `!${formatOperand(e.arg)}`;
    case "and":
      return e.args.map(formatOperand).join(" && ");
    case "or":
      return e.args.map(formatOperand).join(" || ");
    case "chassis-resident":
      return `is_chassis_resident(${quoteString(e.port)})`;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

/** Calls `fn` on every node of `e`, parents first. */
export function walkExpr(e: Expr, fn: (e: Expr) => void): void {
  fn(e);
  if (e.kind === "not") walkExpr(e.arg, fn);
  else if (e.kind === "and" || e.kind === "or") for (const a of e.args) walkExpr(a, fn);
}
