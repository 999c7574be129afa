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
 * true` shows them too). A NEW connection that no rule translated says so.
 */
import { formatIpv4, formatPath } from "../base/index.js";
import { W } from "../flow/index.js";
import { NAT_HOOKS, describeNodeHostDrop, formatPrefix4, macWordsText, type NatHook, type NodeHostStep, type RuleHit, type SetHit } from "../dataplane/index.js";
import { REWRITE_KIND_TEXT, l4Name, packetSummary, rewriteText } from "./nat-text.js";

export interface NodeHostRenderOptions {
  /** Also print the jumps from PREROUTING/POSTROUTING into Kube-OVN's chains. */
  readonly jumps?: boolean;
}

/** `src 10.16.0.2 in ovn40subnets-nat by 10.16.0.0/16 from Subnet/ovn-default` or `dst 8.8.8.8 not in ovn40subnets`. */
function setText(s: SetHit): string {
  const what = `${s.dir} ${formatIpv4(s.addr)}`;
  if (s.negate) return `${what} not in ${s.set}`;
  const m = s.member;
  return `${what} in ${s.set}${m ? ` by ${formatPrefix4(m.prefix)}${m.owner ? ` from ${m.owner}` : ""}` : ""}`;
}

const TERMINAL: ReadonlySet<RuleHit["target"]> = new Set(["DNAT", "SNAT", "MASQUERADE"]);

/** The lines of one host segment; see the module header. */
export function renderNodeHostStep(step: NodeHostStep, opts: NodeHostRenderOptions = {}): string[] {
  const pre = `host ${step.host}: `;
  const l4 = l4Name(step.inKey);
  const out: string[] = [];
  const ct = step.ct === undefined ? "" : `, conntrack: ${step.ct === "new" ? "new" : step.ct === "established" ? `established (connection ${step.connection})` : `reply (connection ${step.connection})`}`;
  out.push(`${pre}in on ${step.iface}: ${packetSummary(step.inKey)}${ct}`);
  const hook = (h: NatHook): void => {
    const hits = step.hits.filter((x) => x.hook === h);
    const byRule = step.rewrites.find((r) => r.hook === h && r.by === "rule");
    for (const hit of hits) {
      if (hit.target === "jump" && NAT_HOOKS.includes(hit.chain as NatHook) && !opts.jumps) continue;
      const change = TERMINAL.has(hit.target) && byRule ? ` → ${rewriteText(byRule, l4)}` : hit.target === "MARK" && step.mark !== undefined ? ` → mark 0x${step.mark.toString(16)}` : "";
      const where = hit.path ? `  [${formatPath(hit.path)}]` : "";
      const owner = hit.owner ? ` (${hit.owner})` : "";
      out.push(`${pre}${h} ${hit.chain} rule ${hit.index}: ${hit.text}${change}${owner}${where}`);
      if (hit.sets) out.push(`${pre}    ${hit.sets.map(setText).join("; ")}`);
    }
    for (const r of step.rewrites) {
      if (r.hook !== h || r.by !== "conntrack") continue;
      out.push(`${pre}${h} conntrack: ${REWRITE_KIND_TEXT[r.kind]} → ${rewriteText(r, l4)}`);
    }
    if (h === "POSTROUTING" && step.ct === "new" && !hits.some((x) => TERMINAL.has(x.target))) {
      out.push(`${pre}POSTROUTING: no nat rule translated the packet (source ${formatIpv4(step.key[W.NW_SRC]!)} kept)`);
    }
  };
  hook("PREROUTING");
  const v = step.verdict;
  if (step.route) {
    const r = step.route;
    const ttl = step.ttl ? `; ip.ttl ${step.ttl.before} → ${step.ttl.after}` : "";
    const where = r.path ? `  [${formatPath(r.path)}]` : "";
    const note = r.connected ? " (connected)" : r.prefix === "0.0.0.0/0" ? " (default route)" : "";
    out.push(`${pre}route ${r.prefix}${r.via ? ` via ${r.via}` : ""} dev ${r.dev}${note}${ttl}${where}`);
  }
  if (step.route && step.ttl && (v.kind === "forward" || (v.kind === "drop" && v.reason !== "ttl-exceeded"))) hook("POSTROUTING");
  switch (v.kind) {
    case "forward": {
      const k = step.key;
      const l2 = `eth.src = ${macWordsText(k[W.ETH_SRC]!, k[W.ETH_SRC + 1]!)}, eth.dst = ${macWordsText(k[W.ETH_DST]!, k[W.ETH_DST + 1]!)}${v.unresolved ? " (next hop's MAC unknown)" : ""}`;
      const where = v.leaves ? "left the cluster" : "back into OVN";
      out.push(`${pre}out ${v.iface}: ${packetSummary(k)}; ${l2} → ${where}`);
      break;
    }
    case "local":
      out.push(`${pre}local: ${v.note}`);
      break;
    case "drop":
      out.push(`${pre}drop (${v.reason}): ${v.detail} — ${describeNodeHostDrop(v.reason)}`);
      break;
    default: {
      const _never: never = v;
      return _never;
    }
  }
  return out;
}
