/**
 * `model`: the logical network (Immutable.js records) and its validation.
 */
export * from "./network.js";
