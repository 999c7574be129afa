/**
 * The interface through which the executor reports what it does, for tracers.
 *
 * The executor calls a `TraceSink` only when one is attached; without one it builds no event
 * objects and no text. Events are plain values (numbers, names already held by the program, key
 * snapshots), never preformatted strings: how a trace reads is the tracer's business.
 *
 * Shape: a tree. `enter(branch)` opens a nested node (a pipeline, a multicast group and each of its
 * members, a clone, a conntrack fork, a generated packet) and `leave()` closes the most recent one;
 * every other event belongs to the innermost open node. Calls are always balanced, also when a
 * branch ends in a drop or hits a limit.
 */
import type { Action, Backend, CallAction, LogicalPort, Pipeline, Rule } from "../ofp/index.js";
import type { FieldDef } from "../flow/index.js";
import type { DropReason } from "./drop-reason.js";
import type { Limits } from "./limits.js";

/** A nested node of the trace tree. */
export type TraceBranch =
  | {
      readonly kind: "pipeline";
      readonly datapath: number;
      readonly datapathName: string;
      readonly pipeline: Pipeline;
      readonly inport: number;
      readonly outport: number;
    }
  | { readonly kind: "multicast"; readonly datapathName: string; readonly group: string; readonly groupKey: number }
  /** One member of a multicast group; `skipped` when it is the input port and loopback is off. */
  | { readonly kind: "member"; readonly port: number; readonly portName: string; readonly skipped: boolean }
  | { readonly kind: "clone" }
  /** The packet after a conntrack action that recirculates, continuing in `table`. */
  | { readonly kind: "ct-fork"; readonly table: number }
  /** A packet generated in reply (`arp_reply`, `icmp4_error`, ...). */
  | { readonly kind: "generated"; readonly action: Action["kind"] }
  /** A nested lookup (`next` that is not the last action, `resubmit`). */
  | { readonly kind: "resubmit"; readonly table: number };

export interface TableEvent {
  readonly datapathName: string;
  readonly pipeline: Pipeline;
  readonly table: number;
  /** Stage name (`ls_in_acl`), or the table's name when the datapath gives none. */
  readonly stage: string;
  /** The winning rule, or undefined for a miss (an implicit drop follows). */
  readonly rule: Rule | undefined;
}

/** One field an action changed. */
export interface FieldChange {
  readonly field: FieldDef;
  /** Whole-field values, most significant word first. */
  readonly before: readonly number[];
  readonly after: readonly number[];
}

export interface ActionEvent {
  readonly action: Action;
  /** For field writes (`set_field`, `load`, `move`, `exchange`, `push_vlan`, `pop_vlan`, `dec_ttl`). */
  readonly change?: FieldChange;
  /** For `exchange`: the change of its second operand (`change` is the first's). */
  readonly change2?: FieldChange;
  /** For `log`: the packet as the action sees it (ovn-trace prints it in its LOG line). */
  readonly key?: Uint32Array;
}

export interface CtEvent {
  readonly kind: "ct" | "ct_lb" | "ct_clear";
  readonly zone: number;
  /** The resulting `ct_state` bits (`CT` in flow/layout.ts). */
  readonly state: number;
  /** True when the state came from the ovn-trace `--ct` list (or its default), not from a table. */
  readonly assumed: boolean;
  readonly committed: boolean;
  readonly backend?: Backend;
  readonly nat?: "dnat" | "snat" | "undnat" | "unsnat";
  /** Why no backend could be chosen, when that happened. */
  readonly note?: string;
}

export interface OutputRecord {
  readonly datapath: number;
  readonly datapathName: string;
  readonly port: number;
  readonly portName: string;
  readonly portType: LogicalPort["type"];
  /** The packet as delivered (a copy). */
  readonly key: Uint32Array;
  /** A packet OVN made (`table` mode): the packet it was made from, as at the action that made it. */
  readonly quote?: Uint32Array;
  /**
   * Output to this localnet port stood for output to a chassis-redirect port of
   * `redirect-type=bridged` active elsewhere (`datapath`, `port`: the router's datapath and the
   * chassis-redirect port's key): see `Placement` kind `bridged`.
   */
  readonly redirect?: { readonly datapath: number; readonly port: number };
}

/** A packet sent through a tunnel to the chassis that hosts its output port. */
export interface TunnelRecord {
  readonly datapath: number;
  readonly datapathName: string;
  /** Logical ingress port (what the encapsulation carries, where it can). */
  readonly inport: number;
  /** Logical egress port or multicast group. */
  readonly outport: number;
  readonly outportName: string;
  /** The destination chassis. */
  readonly chassis: string;
  /** The packet as sent (a copy; reg14/reg15 hold inport/outport). */
  readonly key: Uint32Array;
  /** A packet OVN made (`table` mode): the packet it was made from, as at the action that made it. */
  readonly quote?: Uint32Array;
}

export interface DropRecord {
  readonly reason: DropReason;
  /** Extra detail: the `drop` action's own reason, the limit's value, the missing port key. */
  readonly detail?: string;
  readonly datapath: number;
  readonly datapathName: string;
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly stage?: string;
  /** The model object responsible (the rule's `provenance.origin`). */
  readonly origin?: string;
  readonly ruleId?: number;
  /** The rule's OVN match text, where it has one. */
  readonly match?: string;
  /** The packet as dropped (a copy). */
  readonly key: Uint32Array;
  /** A packet OVN made (`table` mode): the packet it was made from, as at the action that made it. */
  readonly quote?: Uint32Array;
}

/**
 * A `select()` (ECMP) choice: the member picked, whether it was the one asked for (`--select-id`)
 * rather than a hash pick, and the result register's change. The packet then continues in the
 * next table, reported as a `resubmit` branch (or, when the select ends its rule, directly).
 */
export interface SelectEvent {
  readonly action: CallAction;
  readonly id: number;
  readonly chosen: boolean;
  readonly change: FieldChange;
}

export interface LimitEvent {
  readonly limit: keyof Limits;
  readonly value: number;
}

export interface TraceSink {
  enter(branch: TraceBranch): void;
  leave(): void;
  table(ev: TableEvent): void;
  action(ev: ActionEvent): void;
  ct(ev: CtEvent): void;
  output(ev: OutputRecord): void;
  drop(ev: DropRecord): void;
  limit(ev: LimitEvent): void;
  /** Optional: a packet leaving for another chassis (only with placement). */
  tunnel?(ev: TunnelRecord): void;
  /** Optional: a `select()` choice (sinks without it see only the `select` action). */
  select?(ev: SelectEvent): void;
}
