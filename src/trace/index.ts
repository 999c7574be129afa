/**
 * `trace`: the trace tree recorder (implements dataplane's `TraceSink`) and its renderings —
 * ovn-trace's detailed, summary and minimal text, and a JSON object.
 */
export * from "./tree.js";
export { TraceRecorder, splitStatements } from "./recorder.js";
export { renderDetailed } from "./render-detailed.js";
export { renderSummary } from "./render-summary.js";
export { renderMinimal } from "./render-minimal.js";
export { traceJson, type TraceJson, type TraceJsonOutput, type TraceJsonDrop, type TraceJsonHop, type JsonValue } from "./render-json.js";
export { formatMicroflow, packetFields, ovnFieldName } from "./ovn-names.js";
export * from "./render-natgw.js";
export * from "./render-host.js";
export * from "./render-hops.js";
