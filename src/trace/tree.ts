/**
 * The trace tree: what one packet did, recorded by `TraceRecorder` and rendered by the
 * `render-*` modules.
 *
 * The tree is semantic, not textual: nodes hold the events the executor reported (rules, actions,
 * conntrack results, output and drop records) so that each rendering decides how they read. It
 * follows the shape ovn-trace builds: the tables a packet walks through one pipeline nest, each
 * under the one before it (a `next` jump is a child of the table that jumped); a nested lookup,
 * an egress pipeline started by `output`, a conntrack continuation, a clone or a generated packet
 * is a child of the table whose action caused it.
 *
 * Invariants: `kind` is a closed union; container kinds have `children`, leaves do not; a `ct`
 * node has children only when its action recirculated (the packet continued with the conntrack
 * result); a `member` node of a skipped port (the input port without loopback) has no children.
 */
import type { Action, CtAction, CtLbAction, Pipeline, Rule } from "../ofp/index.js";
import type { CtEvent, DropRecord, LimitEvent, OutputRecord, TunnelRecord } from "../dataplane/index.js";

export interface PipelineNode {
  readonly kind: "pipeline";
  readonly datapath: number;
  readonly datapathName: string;
  readonly pipeline: Pipeline;
  readonly inport: number;
  readonly inportName: string;
  readonly outport: number;
  readonly outportName: string;
  readonly children: TraceNode[];
}

export interface TableNode {
  readonly kind: "table";
  readonly datapathName: string;
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly stage: string;
  /** The winning rule; undefined for a miss (an implicit drop). */
  readonly rule: Rule | undefined;
  /**
   * True for a stage ovn-trace leaves out of its text: the rule matches everything (`1`) and only
   * goes on to the following table.
   */
  readonly trivial: boolean;
  readonly children: TraceNode[];
}

export interface ActionNode {
  readonly kind: "action";
  readonly action: Action;
  /** OVN action text with its `;` (`reg0[0] = 1;`, `next;`). */
  readonly text: string;
}

/** A visible change of the packet (`ip4.dst = 10.0.0.2`, `ip.ttl--`), as OVN names fields. */
export interface ModifyNode {
  readonly kind: "modify";
  readonly text: string;
  /** The OVN field name and new value for assignments; absent for `ip.ttl--`. */
  readonly field?: string;
  readonly value?: string;
}

export interface CtNode {
  readonly kind: "ct";
  /** The conntrack result; undefined when the executor forked without reporting one. */
  readonly event: CtEvent | undefined;
  readonly action: CtAction | CtLbAction | undefined;
  /** The OVN statement keyword from the rule's text (`ct_lb_mark`, `ct_next`, `ct_dnat`), if known. */
  readonly name?: string;
  /** True once the packet continued with the conntrack result (`children` holds the rest). */
  recirculated: boolean;
  readonly children: TraceNode[];
}

/** Delivery to a port outside the logical network (a VIF, localnet, remote, ... port). */
export interface OutputNode {
  readonly kind: "output";
  readonly record: OutputRecord;
}

/** Output to a port on another chassis: the packet leaves through a tunnel (egress runs there). */
export interface TunnelNode {
  readonly kind: "tunnel";
  readonly record: TunnelRecord;
}

/** Output through a patch port: the peer datapath's ingress pipeline follows as a sibling. */
export interface PatchNode {
  readonly kind: "patch";
  readonly datapathName: string;
  readonly portName: string;
  readonly portType: string;
}

export interface DropNode {
  readonly kind: "drop";
  readonly record: DropRecord;
}

export interface LimitNode {
  readonly kind: "limit";
  readonly event: LimitEvent;
}

export interface MulticastNode {
  readonly kind: "multicast";
  readonly datapathName: string;
  readonly group: string;
  readonly groupKey: number;
  /** The input port's name, for the members' egress headers. */
  readonly inportName: string;
  readonly children: TraceNode[];
}

export interface MemberNode {
  readonly kind: "member";
  readonly datapathName: string;
  readonly port: number;
  readonly portName: string;
  readonly inportName: string;
  readonly skipped: boolean;
  readonly children: TraceNode[];
}

export interface CloneNode {
  readonly kind: "clone";
  readonly children: TraceNode[];
}

/** An ACL's `log()`: the line ovn-trace prints for it (`LOG: ACL name=..., packet="..."`). */
export interface LogNode {
  readonly kind: "log";
  readonly text: string;
}

export interface GeneratedNode {
  readonly kind: "generated";
  /** The OVN name of the generating action (`arp`, `icmp4`, `nd_na`, `tcp_reset`, ...). */
  readonly name: string;
  readonly children: TraceNode[];
}

/**
 * A `select()` choice (ECMP): the result register and the member picked; the packet's
 * continuation in the next table is its children, as ovn-trace nests it.
 */
export interface SelectNode {
  readonly kind: "select";
  /** The result register as OVN writes it (`reg8[16..31]`). */
  readonly field: string;
  readonly id: number;
  /** True when the member was asked for (`--select-id`), false for a hash pick. */
  readonly chosen: boolean;
  readonly children: TraceNode[];
}

/** A nested lookup (`next` that is not a rule's last action, `resubmit`). */
export interface ResubmitNode {
  readonly kind: "resubmit";
  readonly table: number;
  readonly children: TraceNode[];
}

export type TraceNode =
  | PipelineNode
  | TableNode
  | ActionNode
  | ModifyNode
  | CtNode
  | OutputNode
  | TunnelNode
  | PatchNode
  | DropNode
  | LimitNode
  | MulticastNode
  | MemberNode
  | CloneNode
  | GeneratedNode
  | LogNode
  | SelectNode
  | ResubmitNode;

export type ContainerNode = Extract<TraceNode, { readonly children: TraceNode[] }>;

export interface TraceTree {
  /** The packet as injected (a copy), with `reg14` set to the input port once known. */
  readonly packet: Uint32Array;
  readonly children: TraceNode[];
}

/** The children of `n`, or an empty list for a leaf. */
export function childrenOf(n: TraceNode): readonly TraceNode[] {
  return "children" in n ? n.children : [];
}
