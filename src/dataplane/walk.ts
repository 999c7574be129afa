/**
 * The network-level walk: a packet through OVN's logical pipelines and the nodes outside OVN that
 * are attached to it (Kube-OVN VPC NAT gateways), hop by hop, until it leaves or stops.
 *
 * What
 * ----
 * `walkNetwork(executor, nodes, start, opts)` starts a packet either at an OVN logical port (a
 * datapath and input port key, as `LogicalExecutor.run` takes them) or on a node's external
 * interface (`net1` of a NAT gateway). Then, repeatedly:
 * - an OVN segment runs the executor; each output to a VIF that is some node's lan port (`eth0`)
 *   is handed to that node, each other output ends the branch as `delivered`, each drop ends it
 *   as `ovn-drop`;
 * - a node segment runs `NatGatewayNode.process`; out of `eth0` re-enters OVN at the ingress of
 *   the lan port's switch, out of `net1` ends the branch as `left` (it left the cluster), local
 *   delivery ends it as `local`, a drop as `node-drop`.
 * A packet may branch (floods); branches are followed depth first, in the order the executor
 * reported its outputs (then its drops), and `ends` lists the branches' ends in that order. A branch that has gone through `maxHops` segments ends with the named
 * drop `hop-limit`, so a routing loop between OVN and a gateway ends.
 *
 * The packet that crosses between OVN and a node is what is on the wire: every metadata word
 * (registers, logical ports, conntrack fields) is cleared. State lives in the objects passed in:
 * the executor's conntrack (in `table` mode) and each node's connection table persist across
 * walks, so a reply walked after its request is translated back.
 *
 * The executor is used only through its public `run` and its result records.
 */
import { W } from "../flow/index.js";
import type { DropRecord, OutputRecord, TraceSink } from "./trace-sink.js";
import type { ExecResult, Injection, LogicalExecutor, RunOptions } from "./execute.js";
import type { NatGatewayDropReason, NatGatewayIface, NatGatewayNode, NatGatewayStep } from "./iptables-natgw.js";

/** Where a walk starts. */
export type WalkStart =
  | { readonly kind: "ovn"; readonly datapath: number; readonly inport: number; readonly key: Uint32Array }
  | { readonly kind: "node"; readonly gateway: string; readonly iface: NatGatewayIface; readonly key: Uint32Array };

export interface WalkOptions {
  /** Segments a branch may go through; default `DEFAULT_MAX_HOPS`. */
  readonly maxHops?: number;
  /** Passed to every `LogicalExecutor.run`. */
  readonly runOptions?: RunOptions;
  /** A trace sink for each OVN segment (e.g. a recorder), given the packet as it enters. */
  readonly ovnSink?: (key: Uint32Array, inject: Injection) => TraceSink | undefined;
}

export const DEFAULT_MAX_HOPS = 16;

export const WALK_DROP_REASONS = {
  "hop-limit": "loop: the packet went through more segments (OVN pipelines and gateways) than the hop limit",
  "unknown-gateway": "the walk starts at a gateway that was not given",
  "gateway-port-missing": "the gateway's lan port is not a port of the compiled program",
} as const;

export type WalkDropReason = keyof typeof WALK_DROP_REASONS;

/** One segment of the walk. `parent` is the hop the packet came from. */
export type WalkHop =
  | {
      readonly kind: "ovn";
      readonly index: number;
      readonly parent?: number;
      readonly inject: Injection;
      /** The input port's name ("" when the program does not know it). */
      readonly inportName: string;
      readonly datapathName: string;
      /** The packet as it entered. */
      readonly key: Uint32Array;
      readonly result: ExecResult;
      readonly sink?: TraceSink;
    }
  | { readonly kind: "node"; readonly index: number; readonly parent?: number; readonly step: NatGatewayStep };

/** How one branch of the walk ended. `hop` is the index of the hop it ended in (-1: before any). */
export type WalkEnd =
  | { readonly kind: "delivered"; readonly hop: number; readonly output: OutputRecord }
  | { readonly kind: "left"; readonly hop: number; readonly gateway: string; readonly iface: NatGatewayIface; readonly key: Uint32Array }
  | { readonly kind: "local"; readonly hop: number; readonly gateway: string; readonly note: string; readonly key: Uint32Array }
  | { readonly kind: "ovn-drop"; readonly hop: number; readonly drop: DropRecord }
  | { readonly kind: "node-drop"; readonly hop: number; readonly gateway: string; readonly reason: NatGatewayDropReason; readonly detail: string; readonly key: Uint32Array }
  | { readonly kind: "walk-drop"; readonly hop: number; readonly reason: WalkDropReason; readonly detail: string; readonly key: Uint32Array };

export interface WalkResult {
  readonly hops: readonly WalkHop[];
  readonly ends: readonly WalkEnd[];
}

/** Clears everything that is not on the wire (metadata, registers, conntrack and tunnel fields). */
function wireKey(key: Uint32Array): Uint32Array {
  const k = key.slice();
  k.fill(0, 0, W.ETH_DST);
  return k;
}

type Pending =
  | { readonly kind: "end"; readonly end: WalkEnd }
  | { readonly kind: "ovn"; readonly inject: Injection; readonly key: Uint32Array; readonly parent?: number; readonly depth: number }
  | { readonly kind: "node"; readonly node: NatGatewayNode; readonly iface: NatGatewayIface; readonly key: Uint32Array; readonly parent?: number; readonly depth: number };

/** Walks one packet; see the module header. Never throws on bad input: problems end branches. */
export function walkNetwork(executor: LogicalExecutor, nodes: readonly NatGatewayNode[], start: WalkStart, opts: WalkOptions = {}): WalkResult {
  const maxHops = opts.maxHops ?? DEFAULT_MAX_HOPS;
  const program = executor.program;
  const byLanPort = new Map<string, NatGatewayNode>();
  const byName = new Map<string, NatGatewayNode>();
  for (const n of nodes) {
    if (!byLanPort.has(n.lanPort)) byLanPort.set(n.lanPort, n);
    if (!byName.has(n.name)) byName.set(n.name, n);
  }
  const hops: WalkHop[] = [];
  const ends: WalkEnd[] = [];
  const stack: Pending[] = [];
  if (start.kind === "ovn") {
    stack.push({ kind: "ovn", inject: { datapath: start.datapath, inport: start.inport }, key: start.key.slice(), depth: 0 });
  } else {
    const node = byName.get(start.gateway);
    if (!node) {
      ends.push({ kind: "walk-drop", hop: -1, reason: "unknown-gateway", detail: `no gateway named ${start.gateway}`, key: start.key.slice() });
      return { hops, ends };
    }
    stack.push({ kind: "node", node, iface: start.iface, key: wireKey(start.key), depth: 0 });
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (p.kind === "end") {
      ends.push(p.end);
      continue;
    }
    if (p.depth >= maxHops) {
      ends.push({ kind: "walk-drop", hop: p.parent ?? -1, reason: "hop-limit", detail: `${maxHops} hops`, key: p.key });
      continue;
    }
    const index = hops.length;
    const parent = p.parent !== undefined ? { parent: p.parent } : {};
    const next: Pending[] = [];
    if (p.kind === "ovn") {
      const sink = opts.ovnSink?.(p.key, p.inject);
      const result = executor.run(p.key, p.inject, sink, opts.runOptions);
      const dp = program.datapaths.get(p.inject.datapath);
      let inportName = "";
      if (dp) inportName = dp.ports.get(p.inject.inport)?.name ?? "";
      hops.push({ kind: "ovn", index, ...parent, inject: p.inject, inportName, datapathName: dp?.name ?? "", key: p.key, result, ...(sink ? { sink } : {}) });
      for (const out of result.outputs) {
        const node = out.portType === "" ? byLanPort.get(out.portName) : undefined;
        if (node) next.push({ kind: "node", node, iface: "eth0", key: wireKey(out.key), parent: index, depth: p.depth + 1 });
        else next.push({ kind: "end", end: { kind: "delivered", hop: index, output: out } });
      }
      for (const d of result.drops) next.push({ kind: "end", end: { kind: "ovn-drop", hop: index, drop: d } });
    } else {
      const step = p.node.process(p.key, p.iface);
      hops.push({ kind: "node", index, ...parent, step });
      const v = step.verdict;
      switch (v.kind) {
        case "forward":
          if (v.iface === "net1") ends.push({ kind: "left", hop: index, gateway: p.node.name, iface: "net1", key: step.key });
          else {
            const port = program.portByName.get(p.node.lanPort);
            if (!port) ends.push({ kind: "walk-drop", hop: index, reason: "gateway-port-missing", detail: `port ${p.node.lanPort}`, key: step.key });
            else next.push({ kind: "ovn", inject: { datapath: port.datapath, inport: port.key }, key: step.key, parent: index, depth: p.depth + 1 });
          }
          break;
        case "local":
          ends.push({ kind: "local", hop: index, gateway: p.node.name, note: v.note, key: step.key });
          break;
        case "drop":
          ends.push({ kind: "node-drop", hop: index, gateway: p.node.name, reason: v.reason, detail: v.detail, key: step.key });
          break;
        default: {
          const _never: never = v;
          return _never;
        }
      }
    }
    // Depth first, in the order the outputs came.
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  return { hops, ends };
}

/** The description of a walk drop reason. */
export function describeWalkDrop(r: WalkDropReason): string {
  return WALK_DROP_REASONS[r];
}
