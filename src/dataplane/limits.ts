/**
 * Limits on the execution of one packet, after OVS's `MAX_DEPTH` / `MAX_RESUBMITS` on the
 * translation context.
 *
 * Every limit is checked before the work it bounds is done, and going over one ends only the branch
 * that went over it, with a `loop-*` drop reason that names the limit (and a `limit` trace event).
 * So a program with a loop (two routers routing to each other, a flow that resubmits to itself)
 * always finishes, quickly, with a named verdict.
 *
 * - `maxDepth`: nesting of sub-executions — a pipeline started by `output`, a datapath entered
 *   through a patch port, a `clone`, a conntrack fork, a `next` that is not the last action.
 *   A `next` that is the last action of a rule is a jump, not a nesting, so a long pipeline costs
 *   no depth.
 * - `maxLookups`: table lookups per injected packet, over all branches.
 * - `maxCrossings`: patch-port crossings along one branch.
 * - `maxBranches`: clones, multicast copies, conntrack forks and generated packets per injected packet.
 */

export interface Limits {
  readonly maxDepth: number;
  readonly maxLookups: number;
  readonly maxCrossings: number;
  readonly maxBranches: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxDepth: 64,
  maxLookups: 4096,
  maxCrossings: 16,
  maxBranches: 1024,
});
