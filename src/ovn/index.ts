/**
 * `ovn`: interoperation with real OVN binaries: a throw-away control plane (sandbox) for
 * recording what ovn-northd and ovn-trace say, to check ovnsim against.
 */
export { OvnSandbox, ovnAvailable, ovnVersion, withSandbox, parseOvsdbJson, CHASSIS_FEATURES, OVN_BINARIES, SCHEMA_DIR } from "./sandbox.js";
export type { LogicalFlow, SandboxOptions } from "./sandbox.js";
export * from "./trace-minimal.js";
export * from "./conformance.js";
