/**
 * `ofp`: the compiled artifact — matches, action ops, rules with provenance, tables, programs —
 * and its text renderings. Data and printing only; nothing here executes.
 */
export * from "./match.js";
export * from "./action.js";
export * from "./rule.js";
export * from "./table.js";
export * from "./program.js";
export * from "./format.js";
export * from "./logical.js";
export * from "./physical.js";
export * from "./linux-config.js";
