/**
 * `model`: the logical network (Immutable.js records) and its validation.
 */
export * from "./network.js";
export { validateNetwork, scanMatchRefs, parseLbEndpoint } from "./validate.js";
export type { MatchCheck, MatchChecker, ValidateOptions, LbEndpoint } from "./validate.js";
