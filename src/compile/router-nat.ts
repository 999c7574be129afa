/**
 * Logical flows that exist because of a router's NAT rules and load balancers.
 */
import type { Network } from "../model/index.js";
import type { LogicalFlow } from "./switch.js";

/** The router flows ovn-northd 23.03 writes because of NAT rows and router load balancers. */
export function routerNatFlows(_net: Network, _routerName: string): LogicalFlow[] {
  return [];
}

/** The switch flows ovn-northd 23.03 writes because an attached router has NAT or load balancers. */
export function switchNatFlows(_net: Network, _switchName: string): LogicalFlow[] {
  return [];
}
