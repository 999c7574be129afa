/**
 * `dataplane`: the logical-level executor (slow path), conntrack, execution limits, drop reasons
 * and the trace-sink interface tracers implement.
 */
export * from "./drop-reason.js";
export * from "./limits.js";
export * from "./trace-sink.js";
export * from "./conntrack.js";
export * from "./mac-binding.js";
export { LogicalExecutor, classifyDrop, DEFAULT_CALLS, type CallHandler, type CallContext, type CtMode, type ExecutorOptions, type RunOptions, type Injection, type ExecResult } from "./execute.js";
export * from "./iptables.js";
export * from "./iptables-conntrack.js";
export * from "./iptables-natgw.js";
export * from "./walk.js";
export * from "./fabric.js";
