/**
 * What ovn-controller does when it announces a VIF, besides sending the announcement.
 *
 * ovn-controller announces each VIF bound to its chassis on a switch with a localnet port
 * (pinctrl.c `send_garp_rarp_update`). It takes one address entry of the port: the first, in the
 * Southbound's order (the `mac` column is a set, so its entries sort as strings), that starts with
 * a MAC. It sends a gratuitous ARP for that entry's first IPv4 address, or a RARP when the entry
 * has none. The frame goes through the VIF's own ingress pipeline, which is why a disabled port's
 * announcement reaches no provider bridge (`announcedMacOwners`).
 *
 * For an entry with an IPv4 address it also writes the binding straight into the Southbound
 * `MAC_Binding` table, for each router port that is a peer of the VIF's switch on that chassis
 * (`send_garp_locally`): every distributed router's port, and a gateway router's where the router
 * lives. This does not go through any pipeline, so a disabled VIF gets its bindings too. For a
 * router with `always_learn_from_arp_request=false` only an existing binding is updated. Where a
 * switch port gives a router a static neighbour (northd's `lr_in_arp_resolve` flows), the binding
 * changes nothing; it matters where there is none, as for a disabled port, which northd leaves out.
 *
 * `controllerMacBindings` is the neighbour table ovn-controller's routers read in a running
 * deployment: the Southbound's learned bindings, the announcements' over them, then the static
 * ones. `replay` and `trace`'s path use it; `trace` alone reads only the learned ones, as ovn-trace
 * does on a Southbound that no ovn-controller wrote to.
 */
import { parseIpv4, parseMac } from "../base/index.js";
import type { Network, SwitchPort } from "../model/index.js";
import { residentChassis } from "./compile.js";
import { routerPortOf } from "./router-lrp.js";
import { traceInputs } from "./trace-inputs.js";

/** A neighbour: the router port, the neighbour's IP and its MAC (as `MacBindingEntry`). */
export interface NeighbourBinding {
  readonly port: string;
  readonly ip: string;
  readonly mac: string;
}

/**
 * The address entry ovn-controller announces a port by: the first of `addresses`, sorted as
 * strings, whose first word is a MAC (as written, lower-cased), with that entry's first IPv4
 * address if it has one. Undefined when no entry starts with a MAC.
 */
export function announcedEntry(addresses: Iterable<string>): { readonly mac: string; readonly ipv4: string | undefined } | undefined {
  for (const entry of [...addresses].sort()) {
    const [mac, ...rest] = entry.trim().split(/\s+/);
    if (mac === undefined || parseMac(mac) === undefined) continue;
    return { mac: mac.toLowerCase(), ipv4: rest.find((w) => parseIpv4(w) !== undefined) };
  }
  return undefined;
}

/** The chassis of this zone that VIF `p` is bound to (whose ovn-controller announces it), if any. */
function announcer(net: Network, p: SwitchPort): string | undefined {
  const where = residentChassis(net, p.name);
  const chassis = where === undefined ? undefined : net.chassis.get(where);
  return chassis === undefined || chassis.isRemote ? undefined : chassis.name;
}

/**
 * The bindings ovn-controller writes for the VIFs it announces (see the module header), over
 * `learned` (the Southbound's, updated in place where one names the same port and IP), for VIFs
 * bound to a chassis `onChassis` accepts (default: any). Each switch's router ports are found
 * once, so the work grows with the ports, not their square.
 */
export function announcedMacBindings(net: Network, learned: readonly NeighbourBinding[], onChassis: (chassis: string) => boolean = () => true): NeighbourBinding[] {
  const out = [...learned];
  const at = new Map(out.map((b, i) => [`${b.port}|${b.ip}`, i]));
  for (const ls of net.switches.values()) {
    const ports = [...ls.ports.values()];
    if (!ports.some((q) => q.type === "localnet")) continue;
    const peers = ports.flatMap((q) => {
      const peer = routerPortOf(net, q);
      return peer === undefined ? [] : [{ port: peer.port.name, pinned: peer.lr.options.get("chassis"), updateOnly: peer.lr.options.get("always_learn_from_arp_request") === "false" }];
    });
    if (peers.length === 0) continue;
    for (const p of ports) {
      if (p.type !== "") continue;
      const chassis = announcer(net, p);
      if (chassis === undefined || !onChassis(chassis)) continue;
      const a = announcedEntry(p.addresses);
      if (a?.ipv4 === undefined) continue;
      for (const peer of peers) {
        if (peer.pinned !== undefined && peer.pinned !== chassis) continue;
        const k = `${peer.port}|${a.ipv4}`;
        const i = at.get(k);
        const b = { port: peer.port, ip: a.ipv4, mac: a.mac };
        if (i !== undefined) out[i] = b;
        else if (!peer.updateOnly) {
          at.set(k, out.length);
          out.push(b);
        }
      }
    }
  }
  return out;
}

/** The neighbour table of ovn-controller's routers in a running deployment (see the module header). */
export function controllerMacBindings(net: Network): NeighbourBinding[] {
  const learned = traceInputs(net).macBindings;
  const statics = net.staticMacBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac }));
  return [...announcedMacBindings(net, learned), ...statics];
}
