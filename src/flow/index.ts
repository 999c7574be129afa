/**
 * `flow`: the flow key (layout, matches) and extraction of keys from packets.
 */
export * from "./layout.js";
export * from "./match.js";
export * from "./text.js";
export * from "./extract.js";
export * from "./frame.js";
export * from "./rewrite.js";
export * from "./key-alloc.js";
export * from "./generated.js";
export * from "./ovs-hash.js";
