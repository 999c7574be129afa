/**
 * `base`: the leaf layer. Bytes, addresses, hashing and diagnostics; imports nothing else.
 */
export * from "./bytes.js";
export * from "./addr.js";
export * from "./hash.js";
export * from "./diag.js";
export * from "./suggest.js";
