/**
 * `ovn`: interoperation with real OVN binaries: a throw-away control plane (sandbox) for
 * recording what ovn-northd and ovn-trace say, a real chassis (ovs-vswitchd with the dummy
 * datapath and ovn-controller) for recording what OVS's `ofproto/trace` says, and parsers for both
 * outputs, to check ovnsim against.
 */
export { OvnSandbox, ovnAvailable, missingOvnParts, ovnDisabledByEnv, ovnVersion, withSandbox, parseOvsdbJson, setOf, CHASSIS_FEATURES, OVN_BINARIES, SCHEMA_DIR } from "./sandbox.js";
export type { LogicalFlow, SandboxOptions } from "./sandbox.js";
export * from "./trace-minimal.js";
export * from "./conformance.js";
export { OvsChassis, ovsAvailable, startRealChassis, underlayMac, OVS_BINARIES, VSWITCH_SCHEMA } from "./ovs-chassis.js";
export type { BridgePort, Neighbour, OvsChassisOptions, RealChassisOptions, RealChassisTopology, Underlay, WaitOptions } from "./ovs-chassis.js";
export { parseOfprotoTrace, parseFlowFields, parseMegaflowLine, flagBits, datapathActionsOf, PROTOCOL_SHORTHANDS, CT_STATE_BITS } from "./megaflow.js";
export type { FlowField, ParsedFlow, TracePass } from "./megaflow.js";
export { JsonObjects, UnixctlClient } from "./unixctl.js";
