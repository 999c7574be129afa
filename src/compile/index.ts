/**
 * `compile`: from the logical model to logical pipelines (and, later, physical tables).
 */
export * from "./stages.js";
export * from "./actions/index.js";
export * from "./lower.js";
export * from "./switch.js";
export * from "./compile.js";
export * from "./microflow.js";
export * from "./port-security.js";
export * from "./router.js";
export * from "./router-nat.js";
export * from "./nat-gateway.js";
export * from "./node-host.js";
export * from "./trace-inputs.js";
export * from "./physical.js";
export * from "./announcements.js";
export { routerPortOf } from "./router-lrp.js";
