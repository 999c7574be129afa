/**
 * The network-level walk: a packet through OVN's logical pipelines and the Linux hosts outside OVN
 * that are attached to it (Kube-OVN VPC NAT gateways, nodes' hosts), hop by hop, until it leaves
 * or stops.
 *
 * What
 * ----
 * `walkNetwork(executor, nodes, start, opts)` starts a packet either at an OVN logical port (a
 * datapath and input port key, as `LogicalExecutor.run` takes them), on a NAT gateway's external
 * interface (`net1`), or on an interface of a node's host (`ovn0` or its NIC). Then, repeatedly:
 * - an OVN segment runs the executor; each output to a VIF that is some NAT gateway's lan port
 *   (`eth0`) or some host's `ovn0` port is handed to that node, each other output ends the branch
 *   as `delivered`, each drop ends it as `ovn-drop`;
 * - a NAT gateway segment runs `NatGatewayNode.process`; out of `eth0` re-enters OVN at the
 *   ingress of the lan port's switch, out of `net1` ends the branch as `left` (it left the
 *   cluster), local delivery ends it as `local`, a drop as `node-drop`;
 * - a host segment runs `NodeHostNode.process`; out of `ovn0` re-enters OVN at the ingress of the
 *   `ovn0` port's switch, out of the NIC ends the branch as `left`, local delivery as `local`, a
 *   drop as `node-drop`.
 * A packet may branch (floods); branches are followed depth first, in the order the executor
 * reported its outputs (then its drops), and `ends` lists the branches' ends in that order. A
 * branch that has gone through `maxHops` segments ends with the named drop `hop-limit`, so a
 * routing loop between OVN and a node ends.
 *
 * The packet that crosses between OVN and a node is what is on the wire: every metadata word
 * (registers, logical ports, conntrack fields) is cleared. State lives in the objects passed in:
 * the executor's conntrack (in `table` mode) and each node's connection table persist across
 * walks, so a reply walked after its request is translated back (`replyKey` builds the reply of a
 * packet that left).
 *
 * The executor is used only through its public `run` and its result records.
 */
import { W, field, getField, setField } from "../flow/index.js";
import type { DropRecord, OutputRecord, TraceSink } from "./trace-sink.js";
import type { ExecResult, Injection, LogicalExecutor, RunOptions } from "./execute.js";
import type { NatGatewayDropReason, NatGatewayIface, NatGatewayNode, NatGatewayStep } from "./iptables-natgw.js";
import { NodeHostNode, OVN0, type NodeHostDropReason, type NodeHostStep } from "./node-host.js";

/** A node outside OVN the walk can hand packets to. */
export type WalkNode = NatGatewayNode | NodeHostNode;

/** Which kind of node a walk end happened in. */
export type WalkNodeKind = "nat-gateway" | "node-host";

/** Where a walk starts. */
export type WalkStart =
  | { readonly kind: "ovn"; readonly datapath: number; readonly inport: number; readonly key: Uint32Array }
  | { readonly kind: "node"; readonly gateway: string; readonly iface: NatGatewayIface; readonly key: Uint32Array }
  | { readonly kind: "host"; readonly host: string; readonly iface: string; readonly key: Uint32Array };

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
  "hop-limit": "loop: the packet went through more segments (OVN pipelines, gateways and hosts) than the hop limit",
  "unknown-gateway": "the walk starts at a gateway that was not given",
  "unknown-host": "the walk starts at a node host that was not given",
  "gateway-port-missing": "the gateway's lan port (or the host's ovn0 port) is not a port of the compiled program",
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
  | { readonly kind: "node"; readonly index: number; readonly parent?: number; readonly step: NatGatewayStep }
  | { readonly kind: "host"; readonly index: number; readonly parent?: number; readonly step: NodeHostStep };

/**
 * How one branch of the walk ended. `hop` is the index of the hop it ended in (-1: before any).
 * `gateway` names the NAT gateway or the host's node, `node` says which of the two it is.
 */
export type WalkEnd =
  | { readonly kind: "delivered"; readonly hop: number; readonly output: OutputRecord }
  | { readonly kind: "left"; readonly hop: number; readonly node: WalkNodeKind; readonly gateway: string; readonly iface: string; readonly key: Uint32Array }
  | { readonly kind: "local"; readonly hop: number; readonly node: WalkNodeKind; readonly gateway: string; readonly note: string; readonly key: Uint32Array }
  | { readonly kind: "ovn-drop"; readonly hop: number; readonly drop: DropRecord }
  | { readonly kind: "node-drop"; readonly hop: number; readonly node: WalkNodeKind; readonly gateway: string; readonly reason: NatGatewayDropReason | NodeHostDropReason; readonly detail: string; readonly key: Uint32Array }
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
  | { readonly kind: "node"; readonly node: NatGatewayNode; readonly iface: NatGatewayIface; readonly key: Uint32Array; readonly parent?: number; readonly depth: number }
  | { readonly kind: "host"; readonly node: NodeHostNode; readonly iface: string; readonly key: Uint32Array; readonly parent?: number; readonly depth: number };

/** Walks one packet; see the module header. Never throws on bad input: problems end branches. */
export function walkNetwork(executor: LogicalExecutor, nodes: readonly WalkNode[], start: WalkStart, opts: WalkOptions = {}): WalkResult {
  const maxHops = opts.maxHops ?? DEFAULT_MAX_HOPS;
  const program = executor.program;
  const byLanPort = new Map<string, NatGatewayNode>();
  const byName = new Map<string, NatGatewayNode>();
  const hostByPort = new Map<string, NodeHostNode>();
  const hostByName = new Map<string, NodeHostNode>();
  for (const n of nodes) {
    if (n instanceof NodeHostNode) {
      if (!hostByPort.has(n.port) && !byLanPort.has(n.port)) hostByPort.set(n.port, n);
      if (!hostByName.has(n.name)) hostByName.set(n.name, n);
      continue;
    }
    if (!byLanPort.has(n.lanPort) && !hostByPort.has(n.lanPort)) byLanPort.set(n.lanPort, n);
    if (!byName.has(n.name)) byName.set(n.name, n);
  }
  const hops: WalkHop[] = [];
  const ends: WalkEnd[] = [];
  const stack: Pending[] = [];
  if (start.kind === "ovn") {
    stack.push({ kind: "ovn", inject: { datapath: start.datapath, inport: start.inport }, key: start.key.slice(), depth: 0 });
  } else if (start.kind === "node") {
    const node = byName.get(start.gateway);
    if (!node) {
      ends.push({ kind: "walk-drop", hop: -1, reason: "unknown-gateway", detail: `no gateway named ${start.gateway}`, key: start.key.slice() });
      return { hops, ends };
    }
    stack.push({ kind: "node", node, iface: start.iface, key: wireKey(start.key), depth: 0 });
  } else {
    const node = hostByName.get(start.host);
    if (!node) {
      ends.push({ kind: "walk-drop", hop: -1, reason: "unknown-host", detail: `no node host named ${start.host}`, key: start.key.slice() });
      return { hops, ends };
    }
    stack.push({ kind: "host", node, iface: start.iface, key: wireKey(start.key), depth: 0 });
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
        const host = out.portType === "" ? hostByPort.get(out.portName) : undefined;
        if (node) next.push({ kind: "node", node, iface: "eth0", key: wireKey(out.key), parent: index, depth: p.depth + 1 });
        else if (host) next.push({ kind: "host", node: host, iface: OVN0, key: wireKey(out.key), parent: index, depth: p.depth + 1 });
        else next.push({ kind: "end", end: { kind: "delivered", hop: index, output: out } });
      }
      for (const d of result.drops) next.push({ kind: "end", end: { kind: "ovn-drop", hop: index, drop: d } });
    } else {
      let v: NatGatewayStep["verdict"] | NodeHostStep["verdict"];
      let stepKey: Uint32Array;
      let outside: boolean;
      if (p.kind === "host") {
        const step = p.node.process(p.key, p.iface);
        hops.push({ kind: "host", index, ...parent, step });
        v = step.verdict;
        stepKey = step.key;
        outside = v.kind === "forward" && v.leaves;
      } else {
        const step = p.node.process(p.key, p.iface);
        hops.push({ kind: "node", index, ...parent, step });
        v = step.verdict;
        stepKey = step.key;
        outside = v.kind === "forward" && v.iface === "net1";
      }
      const nodeKind: WalkNodeKind = p.kind === "host" ? "node-host" : "nat-gateway";
      const ovnPort = p.kind === "host" ? p.node.port : p.node.lanPort;
      switch (v.kind) {
        case "forward":
          if (outside) ends.push({ kind: "left", hop: index, node: nodeKind, gateway: p.node.name, iface: v.iface, key: stepKey });
          else {
            const port = program.portByName.get(ovnPort);
            if (!port) ends.push({ kind: "walk-drop", hop: index, reason: "gateway-port-missing", detail: `port ${ovnPort}`, key: stepKey });
            else next.push({ kind: "ovn", inject: { datapath: port.datapath, inport: port.key }, key: stepKey, parent: index, depth: p.depth + 1 });
          }
          break;
        case "local":
          ends.push({ kind: "local", hop: index, node: nodeKind, gateway: p.node.name, note: v.note, key: stepKey });
          break;
        case "drop":
          ends.push({ kind: "node-drop", hop: index, node: nodeKind, gateway: p.node.name, reason: v.reason, detail: v.detail, key: stepKey });
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

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TTL = field("nw_ttl");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_TCP_FLAGS = field("tcp_flags");

/**
 * The answer the far end sends to a packet (as it arrived there): Ethernet and IPv4 addresses and
 * the L4 ports swapped, TTL 64; an ICMP echo request becomes an echo reply, a TCP SYN a SYN+ACK
 * and any other TCP segment an ACK. Only the wire fields are kept.
 */
export function replyKey(key: Uint32Array): Uint32Array {
  const k = wireKey(key);
  const [dh, dl, sh, sl] = [k[W.ETH_DST]!, k[W.ETH_DST + 1]!, k[W.ETH_SRC]!, k[W.ETH_SRC + 1]!];
  k[W.ETH_SRC] = dh;
  k[W.ETH_SRC + 1] = dl;
  k[W.ETH_DST] = sh;
  k[W.ETH_DST + 1] = sl;
  if (getField(k, F_ETH_TYPE) !== 0x0800) return k;
  const src = k[W.NW_SRC]!;
  k[W.NW_SRC] = k[W.NW_DST]!;
  k[W.NW_DST] = src;
  setField(k, F_NW_TTL, 64);
  const proto = getField(k, F_NW_PROTO);
  if (proto === 1) {
    if (getField(k, F_TP_SRC) === 8) setField(k, F_TP_SRC, 0);
    return k;
  }
  if (proto === 6 || proto === 17 || proto === 132) {
    const sp = getField(k, F_TP_SRC);
    setField(k, F_TP_SRC, getField(k, F_TP_DST));
    setField(k, F_TP_DST, sp);
  }
  if (proto === 6) setField(k, F_TCP_FLAGS, (getField(k, F_TCP_FLAGS) & 0x02) !== 0 ? 0x12 : 0x10);
  return k;
}

/** The description of a walk drop reason. */
export function describeWalkDrop(r: WalkDropReason): string {
  return WALK_DROP_REASONS[r];
}
