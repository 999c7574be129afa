/**
 * Text of a network walk (dataplane `walkNetwork`): OVN segments as ovn-trace-style traces, and
 * NAT gateway segments as lines in the same spirit, one per thing the gateway did:
 *
 * ```
 * vpc-nat-gw gw1: in on net1: tcp 203.0.113.5:40000 > 172.16.3.203:8888 ttl 64, conntrack: new
 * vpc-nat-gw gw1: PREROUTING SHARED_DNAT rule 1: -A SHARED_DNAT -p tcp -d 172.16.3.203 --dport 8888 -j DNAT --to-destination 10.0.1.2:80 → ip4.dst = 10.0.1.2, tcp.dst = 80  [natGateways[gw1].dnatRules[0]]
 * vpc-nat-gw gw1: route 10.0.1.0/24 dev eth0 (connected); ip.ttl 64 → 63
 * vpc-nat-gw gw1: POSTROUTING: no nat rule matched
 * vpc-nat-gw gw1: out eth0: eth.src = ..., eth.dst = ... → back into OVN at "vpc-nat-gw-gw1-0.kube-system"
 * ```
 *
 * Jumps between chains are left out unless asked for (`jumps: true`); the chain of the rule that
 * decided already says where it was. Node host segments are rendered by render-host.ts; both
 * through render-linux-box.ts.
 */
import { describeNatGatewayDrop, describeWalkDrop, describeDropReason, type NatGatewayStep, type WalkHop, type WalkResult } from "../dataplane/index.js";
import { TraceRecorder } from "./recorder.js";
import { renderDetailed } from "./render-detailed.js";
import { renderMinimal } from "./render-minimal.js";
import { renderSummary } from "./render-summary.js";
import { renderNodeHostStep } from "./render-host.js";
import { renderLinuxBoxStep } from "./render-linux-box.js";
import { packetSummary } from "./nat-text.js";

export { packetSummary } from "./nat-text.js";

export interface NatGatewayRenderOptions {
  /** Also print the `-j CHAIN` rules the packet went through. */
  readonly jumps?: boolean;
}

export interface WalkRenderOptions extends NatGatewayRenderOptions {
  /** How OVN segments recorded with a `TraceRecorder` are printed (default `summary`). */
  readonly ovn?: "detailed" | "summary" | "minimal";
}

/** The lines of one gateway segment; see the module header. */
export function renderNatGatewayStep(step: NatGatewayStep, opts: NatGatewayRenderOptions = {}): string[] {
  return renderLinuxBoxStep(step, {
    pre: `vpc-nat-gw ${step.gateway}: `,
    showHit: (hit) => hit.target !== "jump" || opts.jumps === true,
    untranslated: (h) => `${h}: no nat rule matched`,
    defaultRoute: false,
    leaves: step.verdict.kind === "forward" && step.verdict.iface === "net1",
    describeDrop: describeNatGatewayDrop,
  });
}

function ovnSegment(hop: Extract<WalkHop, { kind: "ovn" }>, style: "detailed" | "summary" | "minimal"): string[] {
  const head = `ovn: ${hop.datapathName || `datapath ${hop.inject.datapath}`} from "${hop.inportName || hop.inject.inport}": ${packetSummary(hop.key)}`;
  const lines = [head];
  if (hop.sink instanceof TraceRecorder) {
    const text = style === "detailed" ? renderDetailed(hop.sink.tree) : style === "minimal" ? renderMinimal(hop.sink.tree) : renderSummary(hop.sink.tree);
    for (const l of text.replace(/\n+$/, "").split("\n")) lines.push(`    ${l}`);
  }
  for (const o of hop.result.outputs) lines.push(`ovn: output to "${o.portName}" (${o.datapathName}): ${packetSummary(o.key)}`);
  for (const d of hop.result.drops) lines.push(`ovn: dropped in ${d.datapathName} ${d.pipeline} table ${d.table}${d.stage ? ` (${d.stage})` : ""}: ${d.reason}${d.detail ? ` ${d.detail}` : ""} — ${describeDropReason(d.reason)}`);
  return lines;
}

/** The whole walk as text: every hop in order, then how each branch ended. */
export function renderWalk(walk: WalkResult, opts: WalkRenderOptions = {}): string {
  const lines: string[] = [];
  for (const hop of walk.hops) {
    if (hop.kind === "ovn") lines.push(...ovnSegment(hop, opts.ovn ?? "summary"));
    else if (hop.kind === "host") lines.push(...renderNodeHostStep(hop.step, opts));
    else lines.push(...renderNatGatewayStep(hop.step, opts));
  }
  for (const e of walk.ends) {
    switch (e.kind) {
      case "delivered":
        lines.push(`=> delivered to "${e.output.portName}": ${packetSummary(e.output.key)}`);
        break;
      case "left":
        lines.push(`=> left the cluster on ${e.iface} of ${e.node === "node-host" ? "node" : "NAT gateway"} ${e.gateway}: ${packetSummary(e.key)}`);
        break;
      case "local":
        lines.push(`=> delivered locally ${e.node === "node-host" ? "on node" : "in NAT gateway"} ${e.gateway}`);
        break;
      case "ovn-drop":
        lines.push(`=> dropped in OVN (${e.drop.reason})`);
        break;
      case "node-drop":
        lines.push(`=> dropped ${e.node === "node-host" ? "on node" : "in NAT gateway"} ${e.gateway} (${e.reason})`);
        break;
      case "walk-drop":
        lines.push(`=> walk stopped (${e.reason}): ${e.detail} — ${describeWalkDrop(e.reason)}`);
        break;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }
  return lines.join("\n") + "\n";
}
