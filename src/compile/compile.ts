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
    addressSet: (name) => net.addressSets.get(name)?.addresses.toArray(),
    portGroup: (name) => net.portGroups.get(name)?.ports.toArray(),
    isChassisResident: () => true,
  });
  if (!lowered.ok) return lowered;
  return ok({ program: lowered.value, flows });
}
