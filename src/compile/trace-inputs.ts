/**
 * What a trace of the compiled program needs from the model besides the program itself: the
 * learned neighbours (SB `MAC_Binding`, which `get_arp`/`get_nd` read, as ovn-trace does) and the
 * datapaths with an `l3gateway` port: gateway routers (routers pinned to a chassis with
 * `options:chassis`) and the switches attached to them, whose router port is an `l3gateway` too.
 *
 * Plain data, so the dataplane takes it without knowing the model.
 */
import type { Network } from "../model/index.js";

export interface TraceInputs {
  /** Learned neighbours: the router port, the neighbour's IP and its MAC. */
  readonly macBindings: readonly { readonly port: string; readonly ip: string; readonly mac: string }[];
  /**
   * Routers with `options:chassis`, and the switches with a router port on one of them: the
   * datapaths ovn-trace finds an `l3gateway` port on (its `has_local_l3gateway`).
   */
  readonly gatewayRouters: readonly string[];
}

export function traceInputs(net: Network): TraceInputs {
  const routers = [...net.routers.values()].filter((r) => (r.options.get("chassis") ?? "") !== "");
  const gatewayPorts = new Set(routers.flatMap((r) => [...r.ports.values()].map((p) => p.name)));
  const switches = [...net.switches.values()].filter((ls) => [...ls.ports.values()].some((p) => p.type === "router" && gatewayPorts.has(p.options.get("router-port") ?? "")));
  return {
    macBindings: net.macBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac })),
    gatewayRouters: [...routers.map((r) => r.name), ...switches.map((ls) => ls.name)],
  };
}
