/**
 * What a trace of the compiled program needs from the model besides the program itself: the
 * learned neighbours (SB `MAC_Binding`, which `get_arp`/`get_nd` read, as ovn-trace does) and the
 * names of gateway routers (routers pinned to a chassis with `options:chassis`).
 *
 * Plain data, so the dataplane takes it without knowing the model.
 */
import type { Network } from "../model/index.js";

export interface TraceInputs {
  /** Learned neighbours: the router port, the neighbour's IP and its MAC. */
  readonly macBindings: readonly { readonly port: string; readonly ip: string; readonly mac: string }[];
  /** Routers with `options:chassis`. */
  readonly gatewayRouters: readonly string[];
}

export function traceInputs(net: Network): TraceInputs {
  return {
    macBindings: net.macBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac })),
    gatewayRouters: [...net.routers.values()].filter((r) => (r.options.get("chassis") ?? "") !== "").map((r) => r.name),
  };
}
