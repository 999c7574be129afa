/**
 * Tunnel keys for logical switches, their ports and their multicast groups, as ovn-northd 23.03
 * assigns them to a database that was built one object at a time.
 *
 * What: `assignTunnelKeys(network)` gives every switch and router a datapath key and every switch
 * port, router port and chassis-redirect port (`cr-NAME`, one per distributed gateway port) a port
 * key, and lists each switch's multicast groups with their members.
 *
 * Rules (checked against real northd 23.03 in test/compile/switch-keys.test.ts):
 * - A key the model gives (`tunnelKey`) is kept. Other datapaths get the lowest free datapath key
 *   from 1, switches first in switch order, then routers in router order; other ports the lowest
 *   free port key from 1 in port order, per datapath. A distributed gateway port's cr- port takes
 *   the next free key right after its port (northd creates it when the gateway chassis is set).
 *   This equals northd's result when objects were created one after another (northd hands out the
 *   next free key as it sees each new object); a database written in one transaction is ordered
 *   by row UUID in northd, which this cannot reproduce.
 * - `_MC_flood` (32768): every enabled port. `_MC_unknown` (32769): every enabled port whose
 *   addresses include "unknown". `_MC_flood_l2` (32772): every enabled port that is not a router
 *   port. A group without members does not exist.
 *
 * Invariants: keys are unique per switch (ports) and per network (datapaths); port keys are in
 * 1..32767 and datapath keys in 1..16777215; member lists are in port order.
 */
import type { LogicalRouter, LogicalSwitch, Network } from "../model/index.js";

/** OVN's reserved multicast group keys. */
export const MC_KEYS = {
  flood: 32768,
  unknown: 32769,
  mrouterFlood: 32770,
  mrouterStatic: 32771,
  floodL2: 32772,
  static: 32773,
} as const;

export const MC_FLOOD = "_MC_flood";
export const MC_UNKNOWN = "_MC_unknown";
export const MC_FLOOD_L2 = "_MC_flood_l2";

/** A multicast group of one switch: member ports by name, in port order. */
export interface AssignedGroup {
  readonly name: string;
  readonly key: number;
  readonly ports: readonly string[];
}

export interface SwitchKeys {
  readonly datapath: number;
  /** Port name → port key, in port order. */
  readonly ports: ReadonlyMap<string, number>;
  /** Multicast groups in key order. */
  readonly multicast: readonly AssignedGroup[];
}

export interface RouterKeys {
  readonly datapath: number;
  /** Port name (router ports and their cr- ports) → port key, in port order. */
  readonly ports: ReadonlyMap<string, number>;
}

export interface TunnelKeys {
  /** Switch name → its keys, in switch order. */
  readonly switches: ReadonlyMap<string, SwitchKeys>;
  /** Router name → its keys, in router order. */
  readonly routers: ReadonlyMap<string, RouterKeys>;
}

const MAX_DATAPATH_KEY = 0xffffff;
const MAX_PORT_KEY = 0x7fff;

/**
 * Takes keys from `used`'s complement: each call returns the lowest key from 1 not in `used` (and
 * at most `max`; 0 when all are taken) and adds it to `used`. `used` only grows, so each search
 * resumes where the last one stopped.
 */
function keyTaker(used: Set<number>, max: number): () => number {
  let next = 1;
  return () => {
    while (next <= max && used.has(next)) next++;
    if (next > max) return 0;
    used.add(next);
    return next;
  };
}

/** True when one of the port's `addresses` entries is "unknown". */
export function hasUnknownAddress(addresses: Iterable<string>): boolean {
  for (const a of addresses) if (a.trim() === "unknown") return true;
  return false;
}

function switchKeys(ls: LogicalSwitch, datapath: number): SwitchKeys {
  const used = new Set<number>();
  for (const p of ls.ports.values()) if (p.tunnelKey !== undefined) used.add(p.tunnelKey);
  const ports = new Map<string, number>();
  const take = keyTaker(used, MAX_PORT_KEY);
  for (const p of ls.ports.values()) ports.set(p.name, p.tunnelKey ?? take());
  const flood: string[] = [];
  const unknown: string[] = [];
  const floodL2: string[] = [];
  for (const p of ls.ports.values()) {
    if (!p.enabled) continue;
    flood.push(p.name);
    if (p.type !== "router") floodL2.push(p.name);
    if (hasUnknownAddress(p.addresses)) unknown.push(p.name);
  }
  const multicast: AssignedGroup[] = [];
  if (flood.length > 0) multicast.push({ name: MC_FLOOD, key: MC_KEYS.flood, ports: flood });
  if (unknown.length > 0) multicast.push({ name: MC_UNKNOWN, key: MC_KEYS.unknown, ports: unknown });
  if (floodL2.length > 0) multicast.push({ name: MC_FLOOD_L2, key: MC_KEYS.floodL2, ports: floodL2 });
  return { datapath, ports, multicast };
}

function routerKeys(lr: LogicalRouter, datapath: number): RouterKeys {
  const used = new Set<number>();
  for (const p of lr.ports.values()) if (p.tunnelKey !== undefined) used.add(p.tunnelKey);
  const ports = new Map<string, number>();
  const take = keyTaker(used, MAX_PORT_KEY);
  for (const p of lr.ports.values()) {
    ports.set(p.name, p.tunnelKey ?? take());
    if (p.gatewayChassis.size > 0 || p.haChassisGroup !== undefined) ports.set(`cr-${p.name}`, take());
  }
  return { datapath, ports };
}

/** Datapath, port and multicast group keys for every switch and router of the network. */
export function assignTunnelKeys(network: Network): TunnelKeys {
  const used = new Set<number>();
  for (const ls of network.switches.values()) if (ls.tunnelKey !== undefined) used.add(ls.tunnelKey);
  for (const lr of network.routers.values()) if (lr.tunnelKey !== undefined) used.add(lr.tunnelKey);
  const take = keyTaker(used, MAX_DATAPATH_KEY);
  const switches = new Map<string, SwitchKeys>();
  for (const ls of network.switches.values()) switches.set(ls.name, switchKeys(ls, ls.tunnelKey ?? take()));
  const routers = new Map<string, RouterKeys>();
  for (const lr of network.routers.values()) routers.set(lr.name, routerKeys(lr, lr.tunnelKey ?? take()));
  return { switches, routers };
}
