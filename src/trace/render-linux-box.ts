/**
 * The lines of one Linux box segment of a network walk (dataplane `LinuxBox` steps: NAT gateways
 * and nodes' hosts), one per thing the box did: the packet in with its conntrack state, each nat
 * rule that matched (with its translation or new mark, owner, provenance and ipset matches), each
 * translation from a connection, the route with the TTL change, and the verdict.
 *
 * render-natgw.ts and render-host.ts give the style: the line prefix, which rule hits are shown,
 * the line for a NEW packet no rule translated, whether a default route is named, whether a
 * forwarded packet left the cluster, and the drop descriptions. POSTROUTING is shown only when
 * the packet was routed and its TTL decremented, and was not then dropped for its TTL.
 */
import { formatIpv4, formatPath } from "../base/index.js";
import { W } from "../flow/index.js";
import { formatPrefix4, macWordsText, type LinuxBoxDropReason, type LinuxBoxStep, type NatHook, type RuleHit, type SetHit } from "../dataplane/index.js";
import { REWRITE_KIND_TEXT, l4Name, packetSummary, rewriteText } from "./nat-text.js";

/** How one kind of box is rendered. */
export interface LinuxBoxRenderStyle {
  /** Put before every line (`host n-1: `). */
  readonly pre: string;
  /** Whether a matched rule gets a line. */
  readonly showHit: (hit: RuleHit) => boolean;
  /** The line for a NEW packet whose hook had no translating rule, or undefined for none. */
  readonly untranslated: (hook: NatHook) => string | undefined;
  /** Whether a non-connected `0.0.0.0/0` route is called the default route. */
  readonly defaultRoute: boolean;
  /** Whether a forwarded packet left the cluster (else it went back into OVN). */
  readonly leaves: boolean;
  readonly describeDrop: (r: LinuxBoxDropReason) => string;
}

/** The rule targets that translate the packet. */
const TERMINAL: ReadonlySet<RuleHit["target"]> = new Set(["DNAT", "SNAT", "MASQUERADE"]);

/** `src 10.16.0.2 in ovn40subnets-nat by 10.16.0.0/16 from Subnet/ovn-default` or `dst 8.8.8.8 not in ovn40subnets`. */
function setText(s: SetHit): string {
  const what = `${s.dir} ${formatIpv4(s.addr)}`;
  if (s.negate) return `${what} not in ${s.set}`;
  const m = s.member;
  return `${what} in ${s.set}${m ? ` by ${formatPrefix4(m.prefix)}${m.owner ? ` from ${m.owner}` : ""}` : ""}`;
}

/** The lines of one box segment; see the module header. */
export function renderLinuxBoxStep(step: LinuxBoxStep<string>, style: LinuxBoxRenderStyle): string[] {
  const pre = style.pre;
  const l4 = l4Name(step.inKey);
  const out: string[] = [];
  const ct = step.ct === undefined ? "" : `, conntrack: ${step.ct === "new" ? "new" : step.ct === "established" ? `established (connection ${step.connection})` : `reply (connection ${step.connection})`}`;
  out.push(`${pre}in on ${step.iface}: ${packetSummary(step.inKey)}${ct}`);
  const hook = (h: NatHook): void => {
    const hits = step.hits.filter((x) => x.hook === h);
    const byRule = step.rewrites.find((r) => r.hook === h && r.by === "rule");
    for (const hit of hits) {
      if (!style.showHit(hit)) continue;
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
    if (step.ct === "new" && !hits.some((x) => TERMINAL.has(x.target))) {
      const line = style.untranslated(h);
      if (line !== undefined) out.push(`${pre}${line}`);
    }
  };
  hook("PREROUTING");
  const v = step.verdict;
  if (step.route) {
    const r = step.route;
    const ttl = step.ttl ? `; ip.ttl ${step.ttl.before} → ${step.ttl.after}` : "";
    const where = r.path ? `  [${formatPath(r.path)}]` : "";
    const note = r.connected ? " (connected)" : style.defaultRoute && r.prefix === "0.0.0.0/0" ? " (default route)" : "";
    out.push(`${pre}route ${r.prefix}${r.via ? ` via ${r.via}` : ""} dev ${r.dev}${note}${ttl}${where}`);
  }
  if (step.route && step.ttl && (v.kind === "forward" || (v.kind === "drop" && v.reason !== "ttl-exceeded"))) hook("POSTROUTING");
  switch (v.kind) {
    case "forward": {
      const k = step.key;
      const l2 = `eth.src = ${macWordsText(k[W.ETH_SRC]!, k[W.ETH_SRC + 1]!)}, eth.dst = ${macWordsText(k[W.ETH_DST]!, k[W.ETH_DST + 1]!)}${v.unresolved ? " (next hop's MAC unknown)" : ""}`;
      out.push(`${pre}out ${v.iface}: ${packetSummary(k)}; ${l2} → ${style.leaves ? "left the cluster" : "back into OVN"}`);
      break;
    }
    case "local":
      out.push(`${pre}local: ${v.note}`);
      break;
    case "drop":
      out.push(`${pre}drop (${v.reason}): ${v.detail} — ${style.describeDrop(v.reason)}`);
      break;
    default: {
      const _never: never = v;
      return _never;
    }
  }
  return out;
}
