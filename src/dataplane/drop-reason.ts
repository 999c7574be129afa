/**
 * Why a packet (or one branch of it) was dropped: a closed set of codes with a name table.
 *
 * Drops are values, never exceptions. Each drop the executor records carries one of these codes
 * plus, where a compiled rule is responsible, the rule's provenance (stage and model object), so a
 * verdict names the ACL, load balancer or port-security entry that caused it.
 *
 * The `loop-*` codes are the limits of `limits.ts` being hit: they end a branch that would
 * otherwise run for too long, and say which limit it was.
 */

export const DROP_REASONS = {
  "no-match": "no rule matched in the table (implicit drop)",
  "drop-action": "a rule dropped the packet",
  "acl-drop": "an ACL dropped the packet",
  "port-security": "port security dropped the packet",
  "actions-end": "the rule's actions ended without sending the packet on",
  "lb-affinity-learn": "the packet taught a load balancer affinity session (`commit_lb_aff`), and OVN 23.03's learning flow sends it no further",
  "null-outport": "output to the null logical port (outport is 0)",
  "unknown-port": "output to a port or multicast group the datapath does not have",
  "loopback": "output to the input port without flags.loopback",
  "empty-multicast": "the multicast group had no member to send to",
  "unknown-datapath": "a patch port leads to a datapath the program does not have",
  "unbound-port": "output to a port that is bound to no chassis, or not reachable from this one",
  "ttl-exceeded": "the TTL would reach 0",
  "not-ip": "TTL decrement of a packet that is not IP",
  "unsupported-action": "an action that has no meaning at the logical level",
  "trace-unsnat": "ovn-trace mode: `ct_snat` without an address on a gateway router ends the trace (there is no connection to un-SNAT)",
  "loop-depth": "loop: nesting deeper than the depth limit",
  "loop-lookups": "loop: more table lookups than the lookup limit",
  "loop-crossings": "loop: more datapath crossings than the crossing limit",
  "loop-branches": "loop: more branches (clones, multicast copies, outputs) than the branch limit",
  "loop-recirc": "loop: more datapath passes (recirculations, tunnel crossings) than the recirculation limit",
  "recirc-depth": "OVS's userspace datapath drops a packet at its seventh nested recirculation (MAX_RECIRC_DEPTH)",
  "upcall-error":
    "OVS 3.1 finds no bridge for the recirculation of a packet ovn-controller sent once it has crossed a patch port (through the provider bridge into another switch on the same chassis): the upcall fails and the datapath drops it",
  "provider-bridge": "the provider bridge drops a frame whose destination it has learned on the port the frame came in by: the frame's own source MAC, or a MAC of a port of the same switch on this chassis",
} as const;

export type DropReason = keyof typeof DROP_REASONS;

/** True when `s` is one of the drop reason codes. */
export function isDropReason(s: string): s is DropReason {
  return Object.prototype.hasOwnProperty.call(DROP_REASONS, s);
}

/** The human-readable description of a drop reason. */
export function describeDropReason(r: DropReason): string {
  return DROP_REASONS[r];
}
