/**
 * A table of compiled rules: an OpenFlow table of a chassis, or one stage of an OVN logical
 * pipeline.
 *
 * Rules keep the order they were given in. That order matters in one place: when two rules of the
 * same priority both match a packet, the classifier picks the one inserted first, and executors
 * insert a table's rules in this order. Flow dumps sort on their own and do not depend on it.
 */
import type { Rule } from "./rule.js";

export type Pipeline = "ingress" | "egress";

export interface Table {
  readonly id: number;
  /** Stage or table name, e.g. `ls_in_acl` or `physical:local-delivery`. */
  readonly name: string;
  readonly rules: readonly Rule[];
  /** For logical tables: the datapath (switch or router) and pipeline they belong to. */
  readonly datapath?: string;
  readonly pipeline?: Pipeline;
}

/** Builds a frozen table over a frozen copy of `init.rules`. */
export function makeTable(init: Table): Table {
  const t: Table = {
    id: init.id,
    name: init.name,
    rules: Object.freeze([...init.rules]),
    ...(init.datapath === undefined ? {} : { datapath: init.datapath }),
    ...(init.pipeline === undefined ? {} : { pipeline: init.pipeline }),
  };
  return Object.freeze(t);
}
