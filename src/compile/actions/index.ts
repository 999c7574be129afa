/**
 * OVN's logical-flow action language: parsing into ofp actions and formatting back.
 */
export * from "./parse.js";
export * from "./format.js";
