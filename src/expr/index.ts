/**
 * `expr`: OVN's match language. Lexer, parser, symbol table, lowering and annotation,
 * normalization to flow-key matches, and a direct evaluator used as normalization's twin.
 */
export { Lexer, tokenize, formatToken, formatIntConstant, quoteString, MAX_CONSTANT_BITS } from "./lexer.js";
export type { Token, TokenBody, TokenPos, IntFormat, PunctKind } from "./lexer.js";
export { formatExpr, formatFieldRef, formatConstant, invertRelOp, turnRelOp, walkExpr } from "./ast.js";
export type { Expr, RelOp, Constant, ConstantSet, FieldRef, IntConstant, StringConstant, AddressSetRef, PortGroupRef } from "./ast.js";
export { parseExpr, checkCmpValues, constantWidth, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH } from "./parser.js";
export type { ParseOptions } from "./parser.js";
export { SYMBOLS, compareWidth, describeSymbol, resolveToRoot, symbolWidth } from "./symbols.js";
export type { ExprSymbol, FieldSymbol, SubfieldSymbol, StringSymbol, PredicateSymbol, SymbolTable, Level, Writable, Origin } from "./symbols.js";
export { lowerExpr, annotateCore, formatCore, notCore, combine } from "./lower.js";
export type { Core, ExprContext } from "./lower.js";
export { normalize, normalizeCore, compileMatch, dropSubsumed, DEFAULT_MAX_MATCHES, DEFAULT_MAX_WORK } from "./normalize.js";
export type { NormalizeContext, NormalizeOptions } from "./normalize.js";
export { MatchCache } from "./match-cache.js";
export { evaluate, readField } from "./eval.js";
