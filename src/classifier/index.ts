/**
 * `classifier`: tuple-space search with un-wildcarding (the megaflow contract), and its linear
 * reference twin.
 */
export * from "./classifier.js";
export { LinearClassifier } from "./linear.js";
export { HashIndex } from "./hash-index.js";
