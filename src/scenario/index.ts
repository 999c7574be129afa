/**
 * `scenario`: the YAML scenario format (network + probes), its loader and saver, its JSON Schema,
 * probes generated from a network, the exporter to `ovn-nbctl` / `ovn-sbctl` commands, and the OVN
 * database reader (`ovsdb/`).
 */
export { loadScenario, loadNetworkFile, loadNetworkText, loadProbesText, detectInputKind, microflowInport } from "./load.js";
export { yamlMessage } from "./yaml-text.js";
export type { InputKind, LoadOptions } from "./load.js";
export * from "./ovsdb/index.js";
export { saveScenario, scenarioToPlain } from "./save.js";
export { exportNbctl, exportNotes, exportSbctl, macBindingCommand, renderScript, shellQuote } from "./export-nbctl.js";
export type { SbctlOptions } from "./export-nbctl.js";
export { exprMatchChecker } from "./match-checker.js";
export { SCENARIO, scenarioJsonSchema, describeType } from "./format.js";
export type { FieldType, FieldSpec, ObjectSpec } from "./format.js";
export type { Probe, ProbeExpect, Scenario } from "./probe.js";
export type { KubeNames } from "./kube/build.js";
export { generateProbes, ndSolicitationMicroflow, spreadIndices } from "./probe-gen.js";
export type { GeneratedProbes, ProbeGenOptions } from "./probe-gen.js";
