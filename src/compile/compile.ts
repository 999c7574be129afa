/**
 * The compiler's entry point: a model network to a runnable `LogicalProgram`.
 *
 * Steps, as OVN does them: assign tunnel keys (datapaths, ports, multicast groups) as ovn-northd
 * would for a database built object by object; generate every datapath's logical flows as OVN text
 * with provenance (`switch.ts`, `router.ts`); lower them to ofp rules through the match and action languages
 * (`lower.ts`). Results are cached per network value, so what-if forks that share a network share
 * its compilation. A network is compiled once without a chassis and once per chassis (each
 * ovn-controller's view, physical.ts); those compilations generate the flows once and share the
 * lowering's caches, which keep each match's normalization per residency answer.
 *
 * Patch links: a switch port of type "router" and its router port name each other as `peer`, and
 * so do two router ports joined directly; a distributed gateway port gets its chassis-redirect
 * port `cr-NAME` (type `chassisredirect`) in the router datapath. A patch port whose other end is
 * missing has no peer (packets sent to it leave the logical network there).
 */
import { error, fail, ok, type Result } from "../base/index.js";
import { List } from "immutable";
import { switchOfPort, type GatewayChassis, type Network, type RouterPort } from "../model/index.js";
import type { LogicalPort, LogicalPortType, LogicalProgram, ProgramLoadBalancer } from "../ofp/index.js";
import { assignTunnelKeys } from "./assign-keys.js";
import { lowerCaches, lowerLogicalFlows, type DatapathInput, type LowerCaches, type LowerFlow } from "./lower.js";
import { routerLogicalFlows } from "./router.js";
import { routerLbAddressSets } from "./router-nat.js";
import { isDgp } from "./router-lrp.js";
import { programLoadBalancers, switchLogicalFlows, type LogicalFlow } from "./switch.js";

export interface CompiledNetwork {
  readonly program: LogicalProgram;
  /** The logical flows before lowering, per datapath name (what `ovnsim flows --format lflow` prints). */
  readonly flows: ReadonlyMap<string, readonly LogicalFlow[]>;
}

const cache = new WeakMap<Network, Map<string, Result<CompiledNetwork>>>();

export interface CompileOptions {
  /**
   * Compile the flows as this chassis's ovn-controller would: `is_chassis_resident(P)` holds only
   * for ports resident here (see `residentChassis`). Without it every port counts as resident, as
   * ovn-trace assumes.
   */
  readonly chassis?: string;
  /**
   * Lower each datapath when it is first read (`LowerInput.lazy`): for a trace, which meets a few
   * datapaths. A compilation already made eagerly serves too.
   */
  readonly lazy?: boolean;
}

/** Compiles `net` (memoized per network value and chassis). */
export function compileNetwork(net: Network, opts: CompileOptions = {}): Result<CompiledNetwork> {
  let byChassis = cache.get(net);
  if (!byChassis) cache.set(net, (byChassis = new Map()));
  const id = opts.chassis === undefined ? "" : `@${opts.chassis}`;
  const hit = byChassis.get(id) ?? (opts.lazy ? byChassis.get(`lazy${id}`) : undefined);
  if (hit) return hit;
  const r = compileUncached(net, opts.chassis, opts.lazy === true);
  byChassis.set(opts.lazy ? `lazy${id}` : id, r);
  return r;
}

/**
 * The gateway chassis of a router port with their priorities: its own `gateway_chassis`, else its
 * HA chassis group's members (empty for a port that is no distributed gateway port).
 */
export function gatewayChassisOf(net: Network, p: RouterPort): List<GatewayChassis> {
  if (p.gatewayChassis.size) return p.gatewayChassis;
  return (p.haChassisGroup !== undefined ? net.haChassisGroups.get(p.haChassisGroup)?.chassis : undefined) ?? List();
}

/**
 * The chassis a port is resident on, as `is_chassis_resident()` decides it: a switch port's binding
 * (`chassis`, else `options:requested-chassis`); a chassis-redirect port `cr-P`'s active gateway
 * (the highest-priority gateway chassis of P, or of its HA chassis group); undefined otherwise.
 */
export function residentChassis(net: Network, port: string): string | undefined {
  const p = switchOfPort(net, port)?.ports.get(port);
  if (p) return p.chassis ?? p.options.get("requested-chassis");
  if (!port.startsWith("cr-")) return undefined;
  const dist = port.slice(3);
  for (const lr of net.routers.values()) {
    const p = lr.ports.get(dist);
    if (!p) continue;
    return gatewayChassisOf(net, p).maxBy((g) => g.priority)?.chassis;
  }
  return undefined;
}

/**
 * What the compilations of one network share, whatever the chassis: the datapaths with their
 * tunnel keys and logical flows (which residency does not change), and the lowering's caches
 * (whose results are keyed by the residency they asked about).
 */
interface Prepared {
  readonly datapaths: readonly DatapathInput[];
  readonly flows: ReadonlyMap<string, readonly LogicalFlow[]>;
  readonly loadBalancers: readonly ProgramLoadBalancer[];
  readonly caches: LowerCaches;
}

/**
 * Kept for networks with chassis, which are compiled once more per chassis (physical.ts); a
 * network without chassis is compiled once, and keeping its caches would only hold memory.
 */
const prepared = new WeakMap<Network, Result<Prepared>>();

function compileUncached(net: Network, chassis: string | undefined, lazy: boolean): Result<CompiledNetwork> {
  let p = prepared.get(net);
  if (p === undefined) {
    p = prepare(net);
    if (net.chassis.size > 0) prepared.set(net, p);
  }
  if (!p.ok) return p;
  const { datapaths, flows, loadBalancers, caches } = p.value;
  const lowered = lowerLogicalFlows({
    datapaths,
    addressSet: (name) => addressSetOf(net, name),
    portGroup: (name) => net.portGroups.get(name)?.ports.toArray(),
    isChassisResident: chassis === undefined ? () => true : (port) => residentChassis(net, port) === chassis,
    loadBalancers,
    caches,
    lazy,
  });
  if (!lowered.ok) return lowered;
  return ok({ program: lowered.value, flows });
}

function prepare(net: Network): Result<Prepared> {
  const keys = assignTunnelKeys(net);
  const datapaths: DatapathInput[] = [];
  const flows = new Map<string, readonly LogicalFlow[]>();
  // Where each port lives: name → (datapath key, port key).
  const where = new Map<string, { datapath: number; port: number }>();
  for (const [, k] of keys.switches) for (const [p, pk] of k.ports) where.set(p, { datapath: k.datapath, port: pk });
  for (const [, k] of keys.routers) for (const [p, pk] of k.ports) where.set(p, { datapath: k.datapath, port: pk });
  /** Switch port name → the router port it links to, and back. */
  const peerOf = new Map<string, string>();
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      const rp = p.type === "router" ? p.options.get("router-port") : undefined;
      if (rp === undefined || !net.routers.some((lr) => lr.ports.has(rp))) continue;
      peerOf.set(p.name, rp);
      peerOf.set(rp, p.name);
    }
  }
  for (const lr of net.routers.values()) {
    for (const p of lr.ports.values()) {
      if (p.peer === undefined || peerOf.has(p.name)) continue;
      const other = net.routers.find((r) => r.ports.has(p.peer!))?.ports.get(p.peer);
      if (other && other.peer === p.name) peerOf.set(p.name, other.name);
    }
  }
  const peerRef = (name: string): { peer: { datapath: number; port: number } } | Record<string, never> => {
    const other = peerOf.get(name);
    const w = other === undefined ? undefined : where.get(other);
    return w ? { peer: w } : {};
  };
  // A gateway router's ports and the switch ports peering them are l3gateway ports, bound to the
  // router's chassis. A router port peering one is of its own router's kind (northd's types).
  const l3gateway = new Map<string, string>();
  for (const lr of net.routers.values()) {
    const ch = lr.options.get("chassis");
    if (ch === undefined || ch === "") continue;
    for (const p of lr.ports.values()) {
      l3gateway.set(p.name, ch);
      const other = peerOf.get(p.name);
      if (other !== undefined && switchOfPort(net, other) !== undefined) l3gateway.set(other, ch);
    }
  }
  const l3gatewayRef = (name: string): { l3gateway: string } | Record<string, never> => {
    const ch = l3gateway.get(name);
    return ch === undefined ? {} : { l3gateway: ch };
  };
  for (const ls of net.switches.values()) {
    const k = keys.switches.get(ls.name);
    if (!k) return fail(error("compile.no-keys", `no tunnel keys were assigned to switch ${ls.name}`, { path: [`switches[${ls.name}]`] }));
    const ports: LogicalPort[] = [];
    for (const p of ls.ports.values()) {
      const key = k.ports.get(p.name);
      if (key === undefined) continue;
      const tag = p.tag;
      const networkName = p.options.get("network_name");
      ports.push({
        name: p.name,
        key,
        type: p.type as LogicalPortType,
        datapath: k.datapath,
        ...(p.chassis !== undefined ? { chassis: p.chassis } : {}),
        ...(networkName !== undefined ? { networkName } : {}),
        ...(tag !== undefined ? { tag } : {}),
        ...(p.type === "router" ? { ...peerRef(p.name), ...l3gatewayRef(p.name) } : {}),
      });
    }
    const lf = switchLogicalFlows(net, ls.name);
    flows.set(ls.name, lf);
    datapaths.push({
      key: k.datapath,
      name: ls.name,
      kind: "switch",
      ports,
      multicast: k.multicast.map((g) => ({ name: g.name, key: g.key, ports: g.ports.map((n) => k.ports.get(n)!) })),
      ...(ls.otherConfig.has("interconn-ts") ? { transit: true } : {}),
      flows: lf.map((f): LowerFlow => ({ pipeline: f.pipeline, stage: f.stage, priority: f.priority, match: f.match, actions: f.actions, origin: f.origin, source: f.source })),
    });
  }
  for (const lr of net.routers.values()) {
    const k = keys.routers.get(lr.name);
    if (!k) return fail(error("compile.no-keys", `no tunnel keys were assigned to router ${lr.name}`, { path: [`routers[${lr.name}]`] }));
    const ports: LogicalPort[] = [];
    for (const p of lr.ports.values()) {
      const key = k.ports.get(p.name);
      if (key !== undefined) ports.push({ name: p.name, key, type: "patch", datapath: k.datapath, ...peerRef(p.name), ...l3gatewayRef(p.name) });
      const crKey = isDgp(p) ? k.ports.get(`cr-${p.name}`) : undefined;
      if (crKey !== undefined) ports.push({ name: `cr-${p.name}`, key: crKey, type: "chassisredirect", datapath: k.datapath });
    }
    const lf = routerLogicalFlows(net, lr.name);
    flows.set(lr.name, lf);
    datapaths.push({
      key: k.datapath,
      name: lr.name,
      kind: "router",
      ports,
      multicast: [],
      flows: lf.map((f): LowerFlow => ({ pipeline: f.pipeline, stage: f.stage, priority: f.priority, match: f.match, actions: f.actions, origin: f.origin, source: f.source })),
    });
  }
  return ok({ datapaths, flows, loadBalancers: programLoadBalancers(net, (name) => keys.switches.get(name)?.datapath), caches: lowerCaches() });
}

/** The MAC northd uses for service monitors when NB_Global has none (it picks a random one). */
export const DEFAULT_SVC_MONITOR_MAC = "02:00:00:00:00:fe";

/**
 * Address sets by name, including those ovn-northd makes itself: `svc_monitor_mac`, for every
 * port group `PG` the sets `PG_ip4` and `PG_ip6` of its member ports' addresses, and for every
 * router with load balancers `_rtr_lb_<datapath key>_ip4` / `_ip6` of its reachable VIPs.
 */
export function addressSetOf(net: Network, name: string): readonly string[] | undefined {
  const own = net.addressSets.get(name);
  if (own) return own.addresses.toArray();
  if (name === "svc_monitor_mac") return [net.options.get("svc_monitor_mac") ?? DEFAULT_SVC_MONITOR_MAC];
  if (name.startsWith("_rtr_lb_")) {
    for (const lr of net.routers.keys()) {
      const set = routerLbAddressSets(net, lr).find((a) => a.name === name);
      if (set) return set.addresses;
    }
    return undefined;
  }
  const m = /^(.*)_ip([46])$/.exec(name);
  const pg = m ? net.portGroups.get(m[1]!) : undefined;
  if (!m || !pg) return undefined;
  const v6 = m[2] === "6";
  const out: string[] = [];
  for (const portName of pg.ports) {
    const port = net.switches.find((ls) => ls.ports.has(portName))?.ports.get(portName);
    if (!port) continue;
    for (const a of port.addresses) {
      for (const word of a.trim().split(/\s+/).slice(1)) if (word.includes(":") === v6 && !out.includes(word)) out.push(word);
    }
  }
  return out;
}
