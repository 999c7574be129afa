/**
 * Text of a node host segment of a network walk (dataplane `NodeHostNode.process`): one line per
 * thing the node's host did, in the spirit of the NAT gateway lines of render-natgw.ts:
 *
 * ```
 * host n-1: in on ovn0: tcp 10.16.0.2:49152 > 8.8.8.8:443 ttl 63, conntrack: new
 * host n-1: route 0.0.0.0/0 dev eth0 (default route); ip.ttl 63 → 62
 * host n-1: POSTROUTING OVN-POSTROUTING rule 11: -A OVN-POSTROUTING -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE
 * host n-1:     src 10.16.0.2 in ovn40subnets-nat by 10.16.0.0/16 from Subnet/ovn-default (natOutgoing: true); dst 8.8.8.8 not in ovn40subnets
 * host n-1: POSTROUTING OVN-MASQUERADE rule 1: -A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff
 * host n-1: POSTROUTING OVN-MASQUERADE rule 2: -A OVN-MASQUERADE -j MASQUERADE --random-fully → ip4.src = 192.168.0.11
 * host n-1: out eth0: tcp 192.168.0.11:49152 > 8.8.8.8:443 ttl 62; eth.src = ..., eth.dst = ... → left the cluster
 * ```
 *
 * Every rule that matched is shown, with how its ipset matches held (the member, and the
 * resource behind it), except the jumps from the built-in chains into Kube-OVN's own (`jumps:
 * true` shows them too). A NEW connection that no rule translated says so. The lines are built
 * by render-linux-box.ts.
 */
import { formatIpv4 } from "../base/index.js";
import { W } from "../flow/index.js";
import { NAT_HOOKS, describeNodeHostDrop, type NatHook, type NodeHostStep } from "../dataplane/index.js";
import { renderLinuxBoxStep } from "./render-linux-box.js";

export interface NodeHostRenderOptions {
  /** Also print the jumps from PREROUTING/POSTROUTING into Kube-OVN's chains. */
  readonly jumps?: boolean;
}

/** The lines of one host segment; see the module header. */
export function renderNodeHostStep(step: NodeHostStep, opts: NodeHostRenderOptions = {}): string[] {
  return renderLinuxBoxStep(step, {
    pre: `host ${step.host}: `,
    showHit: (hit) => hit.target !== "jump" || !NAT_HOOKS.includes(hit.chain as NatHook) || opts.jumps === true,
    untranslated: (h) => (h === "POSTROUTING" ? `POSTROUTING: no nat rule translated the packet (source ${formatIpv4(step.key[W.NW_SRC]!)} kept)` : undefined),
    defaultRoute: true,
    leaves: step.verdict.kind === "forward" && step.verdict.leaves,
    describeDrop: describeNodeHostDrop,
  });
}
