/**
 * `flow`: the flow key (layout, masks) and extraction of keys from packets.
 */
export * from "./layout.js";
