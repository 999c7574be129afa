/**
 * The compiler's entry point: a model network to a runnable `LogicalProgram`.
 *
 * Steps, as OVN does them: assign tunnel keys (datapaths, ports, multicast groups) as ovn-northd
 * would for a database built object by object; generate every datapath's logical flows as OVN text
 * with provenance (`switch.ts`); lower them to ofp rules through the match and action languages
 * (`lower.ts`). Results are cached per network value, so what-if forks that share a network share
 * its compilation.
 */
import { error, fail, ok, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import type { LogicalPort, LogicalPortType, LogicalProgram } from "../ofp/index.js";
import { assignTunnelKeys } from "./assign-keys.js";
import { lowerLogicalFlows, type DatapathInput, type LowerFlow } from "./lower.js";
import { switchLogicalFlows, type LogicalFlow } from "./switch.js";

export interface CompiledNetwork {
  readonly program: LogicalProgram;
  /** The logical flows before lowering, per datapath name (what `ovnsim flows --format lflow` prints). */
  readonly flows: ReadonlyMap<string, readonly LogicalFlow[]>;
}

const cache = new WeakMap<Network, Result<CompiledNetwork>>();

/** Compiles `net` (memoized per network value). */
export function compileNetwork(net: Network): Result<CompiledNetwork> {
  const hit = cache.get(net);
  if (hit) return hit;
  const r = compileUncached(net);
  cache.set(net, r);
  return r;
}

function compileUncached(net: Network): Result<CompiledNetwork> {
  const keys = assignTunnelKeys(net);
  const datapaths: DatapathInput[] = [];
  const flows = new Map<string, readonly LogicalFlow[]>();
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
      flows: lf.map((f): LowerFlow => ({ pipeline: f.pipeline, stage: f.stage, priority: f.priority, match: f.match, actions: f.actions, origin: f.origin, source: f.source })),
    });
  }
  const lowered = lowerLogicalFlows({
    datapaths,
    addressSet: (name) => addressSetOf(net, name),
    portGroup: (name) => net.portGroups.get(name)?.ports.toArray(),
    isChassisResident: () => true,
  });
  if (!lowered.ok) return lowered;
  return ok({ program: lowered.value, flows });
}

/** The MAC northd uses for service monitors when NB_Global has none (it picks a random one). */
export const DEFAULT_SVC_MONITOR_MAC = "02:00:00:00:00:fe";

/**
 * Address sets by name, including those ovn-northd makes itself: `svc_monitor_mac`, and for every
 * port group `PG` the sets `PG_ip4` and `PG_ip6` of its member ports' addresses.
 */
export function addressSetOf(net: Network, name: string): readonly string[] | undefined {
  const own = net.addressSets.get(name);
  if (own) return own.addresses.toArray();
  if (name === "svc_monitor_mac") return [net.options.get("svc_monitor_mac") ?? DEFAULT_SVC_MONITOR_MAC];
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
