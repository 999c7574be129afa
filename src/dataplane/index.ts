/**
 * `dataplane`: the logical-level executor (slow path), conntrack, execution limits, drop reasons,
 * the trace-sink interface tracers implement, the datapath (flow cache in front of the slow
 * path, per chassis), and the Linux hosts attached to OVN (NAT gateway pods, nodes' hosts).
 */
export * from "./drop-reason.js";
export * from "./limits.js";
export * from "./trace-sink.js";
export * from "./conntrack.js";
export * from "./conntrack-tcp.js";
export * from "./conntrack-icmp.js";
export * from "./ipf.js";
export * from "./mac-binding.js";
export { EcmpNextHopTable } from "./ecmp-nh.js";
export { LearnedFlows, ProbeIndex, type LearnedProbe } from "./learned-flows.js";
export { LbAffinityTable } from "./lb-affinity.js";
export { LogicalExecutor, classifyDrop, passThroughRuns, DEFAULT_CALLS, type CallHandler, type CallContext, type CtMode, type ExecutorOptions, type RunOptions, type Injection, type ExecResult, type XlateRecord, type XlateEffect, type Resume } from "./execute.js";
export * from "./flow-cache.js";
export * from "./datapath.js";
export * from "./iptables.js";
export * from "./iptables-conntrack.js";
export * from "./linux-box.js";
export * from "./iptables-natgw.js";
export * from "./node-host.js";
export * from "./walk.js";
export * from "./fabric.js";
export { Answer, answerOfKey, frameL3Length, icmpErrorL3Length, l2Length, madeL3Length, replayedL3Length } from "./packet-length.js";
