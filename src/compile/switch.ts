/**
 * The logical-switch pipelines, generated as the logical flows ovn-northd 23.03 writes for a
 * logical switch: text in OVN's match and action languages, stage by stage.
 *
 * What: `switchLogicalFlows(network, name)` lists the ingress and egress flows of one switch, each
 * with its stage name (`ls_in_acl`...), priority, match, actions, the model path of the object it
 * came from (`switches[ls1].acls[2]`, `portGroups[pg1].acls[0]`, `loadBalancers[lb1]`, or the
 * switch itself for a stage's fixed flows) and a stable name of the rule here that made it
 * (`compile/switch.ts:acl`).
 *
 * How the switch's contents select flows (northd's datapath flags):
 * - ACLs applied to a switch are its own and those of every port group with a member port on it;
 *   an `allow-related` among them makes the switch stateful (conntrack for all IP, ACL hints,
 *   allow verdicts committed); a load balancer with a VIP does the same for hints and the ACL
 *   stage, but leaves the pre-ACL stage stateless.
 * - Port security itself is not in the flows: 23.03 checks it with `check_in_port_sec()` and
 *   `check_out_port_sec()`, which the controller expands per port.
 * - Ports whose addresses include "unknown" get no ARP/ND responder; without port security, VIF
 *   ones learn MACs (`lookup_fdb`/`put_fdb`); disabled ports drop in and out.
 * - A localnet port skips conntrack (pre-ACL) when the switch is stateful, and ARP requests from it
 *   are never answered by the responder (the physical network has its own hosts).
 *
 * Flows appear in stage order, then in the order of the objects they come from. Nothing here reads
 * tunnel keys except the reject action's table numbers, which are fixed by the stage list.
 * A switch name that is not in the network gives no flows.
 */
import { parseIpv4, parseIpv6, formatIpv6, parseMac, formatMac } from "../base/index.js";
import type { Acl, LogicalSwitch, LoadBalancer, Network, SwitchPort } from "../model/index.js";
import { parseIpAddr, type Backend, type IpAddr, type ProgramLoadBalancer } from "../ofp/index.js";
import { MC_FLOOD, MC_FLOOD_L2, MC_UNKNOWN, hasUnknownAddress } from "./assign-keys.js";
import { endpointText, switchAffinityFlows } from "./lb-affinity.js";
import { crPortName, isDgp, lrpNetworks, routerPortOf } from "./router-lrp.js";
import { switchNatFlows } from "./router-nat.js";

export * from "./assign-keys.js";

export type FlowPipeline = "ingress" | "egress";

/** One logical flow of a switch datapath, as text. */
export interface LogicalFlow {
  readonly pipeline: FlowPipeline;
  /** OVN's stage name, e.g. `ls_in_acl`. */
  readonly stage: string;
  readonly priority: number;
  /** OVN match expression. */
  readonly match: string;
  /** OVN actions. */
  readonly actions: string;
  /** Model path of the object the flow came from. */
  readonly origin: string;
  /** Stable name of the rule that made the flow, `compile/switch.ts:NAME`. */
  readonly source: string;
}

export interface SwitchFlowOptions {
  /** Reserved for options that change northd's output (NB_Global); none yet. */
  readonly _?: never;
}

/** The stages of a switch, in table order, as in ovn-northd 23.03. */
export const SWITCH_INGRESS_STAGES = [
  "ls_in_check_port_sec",
  "ls_in_apply_port_sec",
  "ls_in_lookup_fdb",
  "ls_in_put_fdb",
  "ls_in_pre_acl",
  "ls_in_pre_lb",
  "ls_in_pre_stateful",
  "ls_in_acl_hint",
  "ls_in_acl",
  "ls_in_qos_mark",
  "ls_in_qos_meter",
  "ls_in_lb_aff_check",
  "ls_in_lb",
  "ls_in_lb_aff_learn",
  "ls_in_pre_hairpin",
  "ls_in_nat_hairpin",
  "ls_in_hairpin",
  "ls_in_acl_after_lb",
  "ls_in_stateful",
  "ls_in_arp_rsp",
  "ls_in_dhcp_options",
  "ls_in_dhcp_response",
  "ls_in_dns_lookup",
  "ls_in_dns_response",
  "ls_in_external_port",
  "ls_in_l2_lkup",
  "ls_in_l2_unknown",
] as const;

export const SWITCH_EGRESS_STAGES = [
  "ls_out_pre_acl",
  "ls_out_pre_lb",
  "ls_out_pre_stateful",
  "ls_out_acl_hint",
  "ls_out_acl",
  "ls_out_qos_mark",
  "ls_out_qos_meter",
  "ls_out_stateful",
  "ls_out_check_port_sec",
  "ls_out_apply_port_sec",
] as const;

export type SwitchIngressStage = (typeof SWITCH_INGRESS_STAGES)[number];
export type SwitchEgressStage = (typeof SWITCH_EGRESS_STAGES)[number];
export type SwitchStage = SwitchIngressStage | SwitchEgressStage;

/** Table number of a stage within its pipeline. */
export function switchStageTable(stage: SwitchStage): number {
  const i = (SWITCH_INGRESS_STAGES as readonly string[]).indexOf(stage);
  return i >= 0 ? i : (SWITCH_EGRESS_STAGES as readonly string[]).indexOf(stage);
}

const SOURCE = "compile/switch.ts";

/** ACL priorities are shifted by this much in the flow tables. */
export const ACL_PRIORITY_OFFSET = 1000;

// Registers (northd's REGBIT_* names, as text).
const R = {
  conntrackDefrag: "reg0[0]",
  conntrackCommit: "reg0[1]",
  conntrackNat: "reg0[2]",
  hairpin: "reg0[6]",
  hintAllowNew: "reg0[7]",
  hintAllow: "reg0[8]",
  hintDrop: "reg0[9]",
  hintBlock: "reg0[10]",
  lookupFdb: "reg0[11]",
  hairpinReply: "reg0[12]",
  aclLabel: "reg0[13]",
  portSecDrop: "reg0[15]",
  aclStateless: "reg0[16]",
  aclVerdictSet: "reg0[17]",
} as const;

const ND_MLD = "nd || nd_rs || nd_ra || mldv1 || mldv2";
const ND_MLD_ACL = "nd || nd_ra || nd_rs || mldv1 || mldv2";
const SVC_MONITOR_DST = "eth.dst == $svc_monitor_mac";
const SVC_MONITOR_SRC = "eth.src == $svc_monitor_mac";

/** One parsed `addresses` entry: a MAC and its IPs (canonical text). */
export interface PortAddress {
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** Parses an `addresses` entry "MAC [IP...]"; undefined for "unknown", "router", "dynamic" or junk. */
export function parsePortAddress(entry: string): PortAddress | undefined {
  const words = entry.trim().split(/\s+/);
  const mac = parseMac(words[0] ?? "");
  if (!mac) return undefined;
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const w of words.slice(1)) {
    const ip = w.split("/")[0] ?? "";
    const v4 = parseIpv4(ip);
    if (v4 !== undefined) {
      ipv4.push(ip);
      continue;
    }
    const v6 = parseIpv6(ip);
    if (v6) ipv6.push(formatIpv6(v6));
  }
  return { mac: formatMac(mac), ipv4, ipv6 };
}

/** The solicited-node multicast address of an IPv6 address (ff02::1:ffXX:XXXX). */
export function solicitedNode(ip6: string): string {
  const b = parseIpv6(ip6);
  const out = new Uint8Array(16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  if (b) out.set(b.subarray(13, 16), 13);
  return formatIpv6(out);
}

/** A load balancer VIP or backend "IP[:PORT]" / "[IP6]:PORT". */
interface Endpoint {
  readonly ip: string;
  readonly v6: boolean;
  readonly port: number | undefined;
}

function parseEndpoint(text: string): Endpoint | undefined {
  const t = text.trim();
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (br) {
    const v6 = parseIpv6(br[1] ?? "");
    return v6 ? { ip: formatIpv6(v6), v6: true, port: br[2] === undefined ? undefined : Number(br[2]) } : undefined;
  }
  const v6 = parseIpv6(t);
  if (v6 && t.includes(":") && t.split(":").length > 2) return { ip: formatIpv6(v6), v6: true, port: undefined };
  const [ip, port, ...rest] = t.split(":");
  if (rest.length > 0 || parseIpv4(ip ?? "") === undefined) return undefined;
  if (port !== undefined && !/^\d+$/.test(port)) return undefined;
  return { ip: ip ?? "", v6: false, port: port === undefined ? undefined : Number(port) };
}

/** JSON-quoted port name, as OVN writes it in matches and actions. */
function q(name: string): string {
  return JSON.stringify(name);
}

/** An ACL applied to a switch, with the model path it lives at. */
export interface AppliedAcl {
  readonly acl: Acl;
  readonly origin: string;
}

/** The switch's own ACLs, then those of port groups with a member port on the switch. */
export function aclsOfSwitch(network: Network, ls: LogicalSwitch): AppliedAcl[] {
  const out: AppliedAcl[] = ls.acls.toArray().map((acl, i) => ({ acl, origin: `switches[${ls.name}].acls[${i}]` }));
  for (const pg of network.portGroups.values()) {
    if (!pg.ports.some((p) => ls.ports.has(p))) continue;
    pg.acls.forEach((acl, i) => out.push({ acl, origin: `portGroups[${pg.name}].acls[${i}]` }));
  }
  return out;
}

/** The switch's load balancers that exist in the network, in attachment order. */
function lbsOfSwitch(network: Network, ls: LogicalSwitch): LoadBalancer[] {
  const out: LoadBalancer[] = [];
  for (const n of ls.loadBalancers) {
    const lb = network.loadBalancers.get(n);
    if (lb) out.push(lb);
  }
  return out;
}

class FlowList {
  readonly flows: LogicalFlow[] = [];
  private readonly defaultOrigin: string;
  constructor(defaultOrigin: string) {
    this.defaultOrigin = defaultOrigin;
  }

  add(stage: SwitchStage, priority: number, match: string, actions: string, rule: string, origin = this.defaultOrigin): void {
    const pipeline: FlowPipeline = stage.startsWith("ls_in_") ? "ingress" : "egress";
    this.flows.push({ pipeline, stage, priority, match, actions, origin, source: `${SOURCE}:${rule}` });
  }
}

function portOrigin(ls: LogicalSwitch, p: SwitchPort): string {
  return `switches[${ls.name}].ports[${p.name}]`;
}

/** The logical flows ovn-northd 23.03 generates for switch `switchName` of the network. */
export function switchLogicalFlows(network: Network, switchName: string, _opts: SwitchFlowOptions = {}): LogicalFlow[] {
  const ls = network.switches.get(switchName);
  if (!ls) return [];
  const f = new FlowList(`switches[${ls.name}]`);
  const acls = aclsOfSwitch(network, ls);
  const lbs = lbsOfSwitch(network, ls);
  const ports = ls.ports.toArray().map(([, p]) => p);
  const hasAcls = acls.length > 0;
  const hasStatefulAcl = acls.some((a) => a.acl.action === "allow-related");
  const hasLbVip = lbs.some((lb) => lb.vips.size > 0);
  const hasStateful = hasStatefulAcl || hasLbVip;
  const hasUnknown = ports.some((p) => hasUnknownAddress(p.addresses));
  const routerPorts = new Set(ports.filter((p) => routerPortOf(network, p) !== undefined).map((p) => p.name));

  portSecurity(f, ls, ports);
  fdb(f, ls, ports);
  preAcl(f, ls, ports, acls, hasStatefulAcl, hasLbVip, routerPorts);
  preLb(f, ls, ports, hasLbVip, hasStatefulAcl, routerPorts);
  preStateful(f, lbs, network);
  aclHints(f, hasAcls || hasLbVip, hasStateful);
  aclStage(f, acls, hasAcls || hasLbVip, hasStateful, useCtInvMatch(network));
  for (const s of ["ls_in_qos_mark", "ls_in_qos_meter", "ls_in_lb_aff_check"] as const) f.add(s, 0, "1", "next;", "default");
  lbStage(f, lbs);
  f.add("ls_in_lb_aff_learn", 0, "1", "next;", "default");
  hairpin(f, hasLbVip);
  stateful(f);
  arpNdResponder(f, network, ls, ports);
  for (const s of ["ls_in_dhcp_options", "ls_in_dhcp_response", "ls_in_dns_lookup", "ls_in_dns_response", "ls_in_external_port"] as const) f.add(s, 0, "1", "next;", "default");
  l2Lookup(f, network, ls, ports, hasUnknown, routerPorts);
  for (const s of ["ls_out_qos_mark", "ls_out_qos_meter"] as const) f.add(s, 0, "1", "next;", "default");
  egressPortSecurity(f);
  return sortByStage([...f.flows, ...switchNatFlows(network, switchName)]);
}

/** Stable order: pipeline, table, then generation order (priority is not reordered). */
function sortByStage(flows: LogicalFlow[]): LogicalFlow[] {
  const rank = (fl: LogicalFlow): number => (fl.pipeline === "ingress" ? 0 : 100) + switchStageTable(fl.stage as SwitchStage);
  return flows.map((fl, i) => ({ fl, i })).sort((a, b) => rank(a.fl) - rank(b.fl) || a.i - b.i).map((x) => x.fl);
}

function portSecurity(f: FlowList, ls: LogicalSwitch, ports: readonly SwitchPort[]): void {
  f.add("ls_in_check_port_sec", 100, "eth.src[40]", "drop;", "port-sec-multicast-src");
  f.add("ls_in_check_port_sec", 100, "vlan.present", "drop;", "port-sec-vlan");
  f.add("ls_in_check_port_sec", 50, "1", `${R.portSecDrop} = check_in_port_sec(); next;`, "port-sec-check");
  for (const p of ports) {
    if (p.type === "external" || p.enabled) continue;
    f.add("ls_in_check_port_sec", 100, `inport == ${q(p.name)}`, `${R.portSecDrop} = 1; next;`, "port-disabled-in", portOrigin(ls, p));
  }
  f.add("ls_in_apply_port_sec", 50, `${R.portSecDrop} == 1`, "drop;", "port-sec-apply");
  f.add("ls_in_apply_port_sec", 0, "1", "next;", "default");
}

function egressPortSecurity(f: FlowList): void {
  f.add("ls_out_check_port_sec", 100, "eth.mcast", `${R.portSecDrop} = 0; next;`, "port-sec-out-mcast");
  f.add("ls_out_check_port_sec", 0, "1", `${R.portSecDrop} = check_out_port_sec(); next;`, "port-sec-out-check");
  f.add("ls_out_apply_port_sec", 50, `${R.portSecDrop} == 1`, "drop;", "port-sec-out-apply");
  f.add("ls_out_apply_port_sec", 0, "1", "output;", "output");
}

function fdb(f: FlowList, ls: LogicalSwitch, ports: readonly SwitchPort[]): void {
  for (const p of ports) {
    if (p.type !== "" || p.portSecurity.size > 0 || !hasUnknownAddress(p.addresses)) continue;
    f.add("ls_in_lookup_fdb", 100, `inport == ${q(p.name)}`, `${R.lookupFdb} = lookup_fdb(inport, eth.src); next;`, "lookup-fdb", portOrigin(ls, p));
    f.add("ls_in_put_fdb", 100, `inport == ${q(p.name)} && ${R.lookupFdb} == 0`, "put_fdb(inport, eth.src); next;", "put-fdb", portOrigin(ls, p));
  }
  f.add("ls_in_lookup_fdb", 0, "1", "next;", "default");
  f.add("ls_in_put_fdb", 0, "1", "next;", "default");
}

function preAcl(f: FlowList, ls: LogicalSwitch, ports: readonly SwitchPort[], acls: readonly AppliedAcl[], hasStatefulAcl: boolean, hasLbVip: boolean, routerPorts: ReadonlySet<string>): void {
  f.add("ls_in_pre_acl", 0, "1", "next;", "default");
  f.add("ls_out_pre_acl", 0, "1", "next;", "default");
  f.add("ls_in_pre_acl", 110, SVC_MONITOR_DST, "next;", "svc-monitor");
  f.add("ls_out_pre_acl", 110, SVC_MONITOR_SRC, "next;", "svc-monitor");
  if (!hasStatefulAcl) {
    // Without stateful ACLs, a load balancer still sends traffic to conntrack in pre-lb; the
    // stateless filters keep what allow-stateless ACLs match out of it.
    if (hasLbVip) statelessFilters(f, acls);
    return;
  }
  for (const p of [...ports.filter((x) => routerPorts.has(x.name)), ...ports.filter((x) => x.type === "localnet")]) {
    f.add("ls_in_pre_acl", 110, `ip && inport == ${q(p.name)}`, "next;", "pre-acl-skip-port", portOrigin(ls, p));
    f.add("ls_out_pre_acl", 110, `ip && outport == ${q(p.name)}`, "next;", "pre-acl-skip-port", portOrigin(ls, p));
  }
  const nd = `${ND_MLD} || (udp && udp.src == 546 && udp.dst == 547)`;
  f.add("ls_in_pre_acl", 110, nd, "next;", "pre-acl-skip-nd");
  f.add("ls_out_pre_acl", 110, nd, "next;", "pre-acl-skip-nd");
  f.add("ls_in_pre_acl", 110, "eth.mcast", "next;", "pre-acl-skip-mcast");
  f.add("ls_out_pre_acl", 110, "eth.mcast", "next;", "pre-acl-skip-mcast");
  statelessFilters(f, acls);
  f.add("ls_in_pre_acl", 100, "ip", `${R.conntrackDefrag} = 1; next;`, "pre-acl-ct");
  f.add("ls_out_pre_acl", 100, "ip", `${R.conntrackDefrag} = 1; next;`, "pre-acl-ct");
}

/** allow-stateless ACLs mark what they match so that pre-lb keeps it out of conntrack. */
function statelessFilters(f: FlowList, acls: readonly AppliedAcl[]): void {
  for (const { acl, origin } of acls) {
    if (acl.action !== "allow-stateless") continue;
    const stage = acl.direction === "from-lport" ? "ls_in_pre_acl" : "ls_out_pre_acl";
    f.add(stage, acl.priority + ACL_PRIORITY_OFFSET, acl.match, `${R.aclStateless} = 1; next;`, "acl-stateless-filter", origin);
  }
}

function preLb(f: FlowList, ls: LogicalSwitch, ports: readonly SwitchPort[], hasLbVip: boolean, hasStatefulAcl: boolean, routerPorts: ReadonlySet<string>): void {
  // Router ports (and localnet ports unless a load balancer needs them) skip conntrack.
  const skip = [...ports.filter((x) => routerPorts.has(x.name)), ...(hasLbVip ? [] : ports.filter((x) => x.type === "localnet"))];
  for (const p of skip) {
    f.add("ls_in_pre_lb", 110, `ip && inport == ${q(p.name)}`, "next;", "pre-lb-skip-port", portOrigin(ls, p));
    f.add("ls_out_pre_lb", 110, `ip && outport == ${q(p.name)}`, hasStatefulAcl ? "next;" : "ct_clear; next;", "pre-lb-skip-port", portOrigin(ls, p));
  }
  for (const [stage, svc] of [["ls_in_pre_lb", SVC_MONITOR_DST], ["ls_out_pre_lb", SVC_MONITOR_SRC]] as const) {
    f.add(stage, 110, ND_MLD, "next;", "pre-lb-skip-nd");
    f.add(stage, 110, svc, "next;", "svc-monitor");
    f.add(stage, 0, "1", "next;", "default");
    f.add(stage, 110, `${R.aclStateless} == 1`, "next;", "pre-lb-skip-stateless");
    f.add(stage, 110, "eth.mcast", "next;", "pre-lb-skip-mcast");
    if (hasLbVip) f.add(stage, 100, "ip", `${R.conntrackNat} = 1; next;`, "pre-lb-ct");
  }
}

/** Parsed VIPs of a load balancer with their backends. */
interface Vip {
  readonly vip: Endpoint;
  readonly backends: readonly Endpoint[];
  readonly text: string;
}

function vipsOf(lb: LoadBalancer): Vip[] {
  const out: Vip[] = [];
  for (const [vipText, backends] of lb.vips) {
    const vip = parseEndpoint(vipText);
    if (!vip) continue;
    const bs: Endpoint[] = [];
    for (const b of backends) {
      for (const part of b.split(",")) {
        if (part.trim() === "") continue;
        const e = parseEndpoint(part);
        if (e) bs.push(e);
      }
    }
    out.push({ vip, backends: bs, text: vipText });
  }
  return out;
}

const LB_PROTO: Readonly<Record<LoadBalancer["protocol"], number>> = { tcp: 6, udp: 17, sctp: 132 };

/**
 * The switches' load balancers as the Southbound `Load_Balancer` table holds them (what
 * ovn-controller builds its hairpin flows from), each with the datapath keys of the switches it
 * is attached to (`datapathOf`). VIPs and backends that do not parse are left out, as the logical
 * flows leave them out.
 */
export function programLoadBalancers(net: Network, datapathOf: (switchName: string) => number | undefined): ProgramLoadBalancer[] {
  const attached = new Map<string, number[]>();
  for (const ls of net.switches.values()) {
    const dp = datapathOf(ls.name);
    if (dp === undefined) continue;
    for (const { name } of lbsOfSwitch(net, ls)) {
      let l = attached.get(name);
      if (!l) attached.set(name, (l = []));
      if (!l.includes(dp)) l.push(dp);
    }
  }
  const out: ProgramLoadBalancer[] = [];
  for (const [name, datapaths] of attached) {
    const lb = net.loadBalancers.get(name)!;
    const vips = vipsOf(lb).map(({ vip, backends }) => ({
      ip: parseIpAddr(vip.ip)!,
      port: vip.port,
      backends: backends.filter((b) => b.v6 === vip.v6).map((b): Backend => ({ ip: parseIpAddr(b.ip)!, ...(b.port !== undefined ? { port: b.port } : {}) })),
    }));
    let v4: IpAddr | undefined;
    let v6: IpAddr | undefined;
    for (const text of (lb.options.get("hairpin_snat_ip") ?? "").split(/\s+/)) {
      if (text === "") continue;
      const ip = parseIpAddr(text);
      if (!ip) continue;
      if (ip.length === 1) v4 ??= ip;
      else v6 ??= ip;
    }
    out.push({ name, proto: LB_PROTO[lb.protocol], vips, hairpinSnatIp: { v4, v6 }, datapaths: datapaths.sort((a, b) => a - b) });
  }
  return out;
}

function vipMatch(lb: LoadBalancer, v: Endpoint): string {
  const m = `${v.v6 ? "ip6" : "ip4"}.dst == ${v.ip}`;
  return v.port === undefined ? m : `${m} && ${lb.protocol}.dst == ${v.port}`;
}

function lbOrigin(lb: LoadBalancer): string {
  return `loadBalancers[${lb.name}]`;
}

function preStateful(f: FlowList, lbs: readonly LoadBalancer[], _network: Network): void {
  for (const [stage, pipe] of [["ls_in_pre_stateful", "in"], ["ls_out_pre_stateful", "out"]] as const) {
    f.add(stage, 0, "1", "next;", "default");
    f.add(stage, 110, `${R.conntrackNat} == 1`, "ct_lb_mark;", "pre-stateful-lb");
    f.add(stage, 100, `${R.conntrackDefrag} == 1`, "ct_next;", "pre-stateful-ct");
    if (pipe !== "in") continue;
    for (const lb of lbs) {
      for (const { vip } of vipsOf(lb)) {
        const set = `${vip.v6 ? "xxreg1" : "reg1"} = ${vip.ip}; ${vip.port === undefined ? "" : `reg2[0..15] = ${vip.port}; `}ct_lb_mark;`;
        f.add(stage, 120, `${R.conntrackNat} == 1 && ${vipMatch(lb, vip)}`, set, "pre-stateful-vip", lbOrigin(lb));
      }
    }
  }
}

function aclHints(f: FlowList, hasAclsOrLb: boolean, hasStateful: boolean): void {
  for (const stage of ["ls_in_acl_hint", "ls_out_acl_hint"] as const) {
    if (!hasAclsOrLb) {
      f.add(stage, 65535, "1", "next;", "acl-hint-none");
      continue;
    }
    f.add(stage, 0, "1", "next;", "default");
    if (!hasStateful) continue;
    f.add(stage, 7, "ct.new && !ct.est", `${R.hintAllowNew} = 1; ${R.hintDrop} = 1; next;`, "acl-hint");
    f.add(stage, 6, "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1", `${R.hintAllowNew} = 1; ${R.hintDrop} = 1; next;`, "acl-hint");
    f.add(stage, 5, "!ct.trk", `${R.hintAllow} = 1; ${R.hintDrop} = 1; next;`, "acl-hint");
    f.add(stage, 4, "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0", `${R.hintAllow} = 1; ${R.hintBlock} = 1; next;`, "acl-hint");
    f.add(stage, 3, "!ct.est", `${R.hintDrop} = 1; next;`, "acl-hint");
    f.add(stage, 2, "ct.est && ct_mark.blocked == 1", `${R.hintDrop} = 1; next;`, "acl-hint");
    f.add(stage, 1, "ct.est && ct_mark.blocked == 0", `${R.hintBlock} = 1; next;`, "acl-hint");
  }
}

/** `log(...); ` for a logged ACL, else "". */
function aclLog(acl: Acl, verdict: string): string {
  if (!acl.log) return "";
  const parts: string[] = [];
  if (acl.name !== undefined && acl.name !== "") parts.push(`name=${q(acl.name)}`);
  parts.push(`severity=${acl.severity ?? "info"}`);
  parts.push(`verdict=${verdict}`);
  return `log(${parts.join(", ")}); `;
}

function aclVerdict(acl: Acl): string {
  switch (acl.action) {
    case "allow":
    case "allow-related":
    case "allow-stateless":
      return "allow";
    case "drop":
      return "drop";
    case "reject":
      return "reject";
  }
}

/**
 * NB_Global `options:use_ct_inv_match` (default true): false keeps `ct.inv` out of the ACL stages'
 * matches (Kube-OVN sets it, for NICs that cannot offload the flag), so an invalid packet is not
 * dropped for being invalid.
 */
function useCtInvMatch(network: Network): boolean {
  return (network.options.get("use_ct_inv_match") ?? "true").toLowerCase() !== "false";
}

function aclStage(f: FlowList, acls: readonly AppliedAcl[], hasAclsOrLb: boolean, hasStateful: boolean, ctInv: boolean): void {
  if (!hasAclsOrLb) {
    f.add("ls_in_acl", 65535, "1", "next;", "acl-none");
    f.add("ls_out_acl", 65535, "1", "next;", "acl-none");
  } else {
    f.add("ls_in_acl", 0, "1", "next;", "default");
    f.add("ls_out_acl", 0, "1", "next;", "default");
    f.add("ls_in_acl", 34000, SVC_MONITOR_DST, "next;", "svc-monitor");
    f.add("ls_out_acl", 34000, SVC_MONITOR_SRC, "next;", "svc-monitor");
  }
  if (hasStateful) {
    for (const stage of ["ls_in_acl", "ls_out_acl"] as const) {
      const ingress = stage === "ls_in_acl";
      f.add(stage, 1, "ip && !ct.est", `${R.conntrackCommit} = 1; next;`, "acl-commit-new");
      f.add(stage, 1, "ip && ct.est && ct_mark.blocked == 1", `${R.conntrackCommit} = 1; next;`, "acl-commit-blocked");
      const notInv = ctInv ? " && !ct.inv" : "";
      f.add(stage, 65532, `${ctInv ? "ct.inv || " : ""}(ct.est && ct.rpl && ct_mark.blocked == 1)`, "drop;", "acl-drop-invalid");
      f.add(
        stage,
        65532,
        `ct.est && !ct.rel && !ct.new${notInv} && ct.rpl && ct_mark.blocked == 0`,
        ingress ? `${R.hintDrop} = 0; ${R.hintBlock} = 0; ${R.aclVerdictSet} = 1; next;` : "next;",
        "acl-allow-reply",
      );
      f.add(stage, 65532, `!ct.est && ct.rel && !ct.new${notInv} && ct_mark.blocked == 0`, ingress ? `${R.aclVerdictSet} = 1; ct_commit_nat;` : "ct_commit_nat;", "acl-allow-related");
    }
    f.add("ls_in_acl_after_lb", 65532, `${R.aclVerdictSet} == 1`, "next;", "acl-after-lb-verdict-set");
  }
  f.add("ls_in_acl", 65532, ND_MLD_ACL, "next;", "acl-skip-nd");
  f.add("ls_out_acl", 65532, ND_MLD_ACL, "next;", "acl-skip-nd");
  f.add("ls_in_acl_after_lb", 65532, ND_MLD_ACL, "next;", "acl-skip-nd");
  f.add("ls_in_acl_after_lb", 0, "1", "next;", "default");
  for (const a of acls) oneAcl(f, a, hasStateful);
}

function oneAcl(f: FlowList, { acl, origin }: AppliedAcl, hasStateful: boolean): void {
  const stage: SwitchStage = acl.direction === "to-lport" ? "ls_out_acl" : acl.applyAfterLb ? "ls_in_acl_after_lb" : "ls_in_acl";
  const prio = acl.priority + ACL_PRIORITY_OFFSET;
  const log = aclLog(acl, aclVerdict(acl));
  const ingress = stage !== "ls_out_acl";
  const rejectAction = `reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=${ingress ? "egress" : "ingress"},table=${ingress ? switchStageTable("ls_out_qos_mark") : switchStageTable("ls_in_l2_lkup")}); };`;
  switch (acl.action) {
    case "allow-stateless":
      f.add(stage, prio, acl.match, `${log}next;`, "acl-allow-stateless", origin);
      return;
    case "allow":
    case "allow-related": {
      if (!hasStateful) {
        f.add(stage, prio, acl.match, `${log}next;`, "acl-allow", origin);
        return;
      }
      const label = acl.label !== 0 ? `${R.aclLabel} = 1; reg3 = ${acl.label}; ` : "";
      f.add(stage, prio, `${R.hintAllowNew} == 1 && (${acl.match})`, `${log}${R.conntrackCommit} = 1; ${label}next;`, "acl-allow-new", origin);
      f.add(stage, prio, `${R.hintAllow} == 1 && (${acl.match})`, `${log}${label ? `${R.conntrackCommit} = 1; ${label}` : ""}next;`, "acl-allow-established", origin);
      return;
    }
    case "drop":
      if (!hasStateful) {
        f.add(stage, prio, acl.match, `${log}/* drop */`, "acl-drop", origin);
        return;
      }
      f.add(stage, prio, `${R.hintDrop} == 1 && (${acl.match})`, `${log}/* drop */`, "acl-drop", origin);
      f.add(stage, prio, `${R.hintBlock} == 1 && (${acl.match})`, `ct_commit { ct_mark.blocked = 1; }; ${log}/* drop */`, "acl-drop-block", origin);
      return;
    case "reject":
      if (!hasStateful) {
        f.add(stage, prio, acl.match, `${log}${rejectAction}`, "acl-reject", origin);
        return;
      }
      f.add(stage, prio, `(${R.hintDrop} == 1) && ${acl.match}`, `${log}${rejectAction}`, "acl-reject", origin);
      f.add(stage, prio, `(${R.hintBlock} == 1) && ${acl.match}`, `${log}ct_commit { ct_mark.blocked = 1; };  ${rejectAction}`, "acl-reject-block", origin);
      return;
  }
}

function lbStage(f: FlowList, lbs: readonly LoadBalancer[]): void {
  f.add("ls_in_lb", 0, "1", "next;", "default");
  for (const lb of lbs) {
    for (const { vip, backends } of vipsOf(lb)) {
      const prio = vip.port === undefined ? 110 : 120;
      const hash = lb.selectionFields.size > 0 ? `; hash_fields=${q(lb.selectionFields.toArray().sort().join(","))}` : "";
      // A VIP without backends drops, or with options:reject answers as a reject ACL does.
      const empty = lb.options.get("reject") === "true" ? `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${switchStageTable("ls_out_qos_mark")});};` : "drop;";
      const action = backends.length > 0 ? `${R.conntrackCommit} = 0; ct_lb_mark(backends=${backends.map(endpointText).join(",")}${hash});` : empty;
      f.add("ls_in_lb", prio, `ct.new && ${vipMatch(lb, vip)}`, action, "lb-vip", lbOrigin(lb));
      for (const a of switchAffinityFlows(lb, vip, backends)) f.add(a.stage, a.priority, a.match, a.actions, "lb-affinity", lbOrigin(lb));
    }
  }
}

function hairpin(f: FlowList, hasLbVip: boolean): void {
  f.add("ls_in_pre_hairpin", 0, "1", "next;", "default");
  f.add("ls_in_nat_hairpin", 0, "1", "next;", "default");
  f.add("ls_in_hairpin", 0, "1", "next;", "default");
  if (!hasLbVip) return;
  f.add("ls_in_pre_hairpin", 100, "ip && ct.trk", `${R.hairpin} = chk_lb_hairpin(); ${R.hairpinReply} = chk_lb_hairpin_reply(); next;`, "pre-hairpin");
  f.add("ls_in_nat_hairpin", 100, `ip && ct.new && ct.trk && ${R.hairpin} == 1`, "ct_snat_to_vip; next;", "nat-hairpin-new");
  f.add("ls_in_nat_hairpin", 100, `ip && ct.est && ct.trk && ${R.hairpin} == 1`, "ct_snat;", "nat-hairpin-est");
  f.add("ls_in_nat_hairpin", 90, `ip && ${R.hairpinReply} == 1`, "ct_snat;", "nat-hairpin-reply");
  f.add("ls_in_hairpin", 1, `(${R.hairpin} == 1 || ${R.hairpinReply} == 1)`, "eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;", "hairpin");
}

function stateful(f: FlowList): void {
  for (const stage of ["ls_in_stateful", "ls_out_stateful"] as const) {
    f.add(stage, 0, "1", "next;", "default");
    f.add(stage, 100, `${R.conntrackCommit} == 1 && ${R.aclLabel} == 0`, "ct_commit { ct_mark.blocked = 0; }; next;", "stateful-commit");
    f.add(stage, 100, `${R.conntrackCommit} == 1 && ${R.aclLabel} == 1`, "ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;", "stateful-commit-label");
  }
}

/** The addresses a switch port answers ARP/ND for: its own, or for "router" its router port's. */
function responderAddresses(network: Network, p: SwitchPort): PortAddress[] {
  const out: PortAddress[] = [];
  for (const entry of p.addresses) {
    if (entry.trim() === "router") {
      const r = routerPortOf(network, p);
      const nets = r ? lrpNetworks(r.port) : undefined;
      if (nets) out.push({ mac: nets.mac, ipv4: nets.ipv4.map((n) => n.addr), ipv6: nets.ipv6.map((n) => n.addr) });
      continue;
    }
    const a = parsePortAddress(entry);
    if (a) out.push(a);
  }
  return out;
}

function arpNdResponder(f: FlowList, network: Network, ls: LogicalSwitch, ports: readonly SwitchPort[]): void {
  f.add("ls_in_arp_rsp", 0, "1", "next;", "default");
  for (const p of ports) {
    const origin = portOrigin(ls, p);
    if (p.type === "localnet") {
      f.add("ls_in_arp_rsp", 100, `inport == ${q(p.name)}`, "next;", "arp-rsp-skip-localnet", origin);
      continue;
    }
    if ((p.type !== "" && p.type !== "localport" && p.type !== "router") || hasUnknownAddress(p.addresses)) continue;
    const na = p.type === "router" ? "nd_na_router" : "nd_na";
    for (const a of responderAddresses(network, p)) {
      for (const ip of a.ipv4) {
        const m = `arp.tpa == ${ip} && arp.op == 1`;
        const reply = `eth.dst = eth.src; eth.src = ${a.mac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${a.mac}; arp.tpa = arp.spa; arp.spa = ${ip}; outport = inport; flags.loopback = 1; output;`;
        f.add("ls_in_arp_rsp", 50, m, reply, "arp-rsp", origin);
        f.add("ls_in_arp_rsp", 100, `${m} && inport == ${q(p.name)}`, "next;", "arp-rsp-skip-owner", origin);
      }
      for (const ip of a.ipv6) {
        const m = `nd_ns && ip6.dst == {${ip}, ${solicitedNode(ip)}} && nd.target == ${ip}`;
        const reply = `${na} { eth.src = ${a.mac}; ip6.src = ${ip}; nd.target = ${ip}; nd.tll = ${a.mac}; outport = inport; flags.loopback = 1; output; };`;
        f.add("ls_in_arp_rsp", 50, m, reply, "nd-rsp", origin);
        f.add("ls_in_arp_rsp", 100, `${m} && inport == ${q(p.name)}`, "next;", "nd-rsp-skip-owner", origin);
      }
    }
  }
}

/**
 * ARP requests and neighbour solicitations for a router port's own addresses go to that router
 * port (and, when the switch has other ports, are flooded as well); the router's own requests
 * are flooded to the L2 domain.
 */
function routerArpRequests(f: FlowList, network: Network, ls: LogicalSwitch, p: SwitchPort, onlyRouters: boolean): void {
  const r = routerPortOf(network, p);
  if (!r || !r.port.enabled) return;
  const nets = lrpNetworks(r.port);
  if (!nets) return;
  const origin = portOrigin(ls, p);
  const action = onlyRouters ? `outport = ${q(p.name)}; output;` : `clone {outport = ${q(p.name)}; output; }; outport = ${q(MC_FLOOD_L2)}; output;`;
  for (const n of nets.ipv4) f.add("ls_in_l2_lkup", 80, `flags[1] == 0 && arp.op == 1 && arp.tpa == ${n.addr}`, action, "router-arp-request", origin);
  for (const n of nets.ipv6) f.add("ls_in_l2_lkup", 80, `flags[1] == 0 && nd_ns && nd.target == ${n.addr}`, action, "router-nd-ns", origin);
  if (onlyRouters) return;
  const macs = [nets.mac];
  for (const nat of r.lr.nat) {
    if (nat.type === "snat" || nat.externalMac === undefined) continue;
    const m = parsePortAddress(nat.externalMac);
    if (m && !macs.includes(m.mac)) macs.push(m.mac);
  }
  f.add("ls_in_l2_lkup", 75, `eth.src == {${macs.join(", ")}} && (arp.op == 1 || rarp.op == 3 || nd_ns)`, `outport = ${q(MC_FLOOD_L2)}; output;`, "router-self-arp", origin);
}

function l2Lookup(f: FlowList, network: Network, ls: LogicalSwitch, ports: readonly SwitchPort[], hasUnknown: boolean, routerPorts: ReadonlySet<string>): void {
  f.add("ls_in_l2_lkup", 110, `${SVC_MONITOR_DST} && (tcp || icmp || icmp6)`, "handle_svc_check(inport);", "svc-monitor");
  f.add("ls_in_l2_lkup", 70, "eth.mcast", `outport = ${q(MC_FLOOD)}; output;`, "l2-flood");
  f.add("ls_in_l2_lkup", 0, "1", "outport = get_fdb(eth.dst); next;", "l2-fdb");
  const onlyRouters = routerPorts.size === ports.length;
  const hasLocalnet = ports.some((x) => x.type === "localnet");
  for (const p of ports) {
    if (p.type === "external") continue;
    const origin = portOrigin(ls, p);
    if (p.type === "router") routerArpRequests(f, network, ls, p, onlyRouters);
    for (const entry of p.addresses) {
      if (entry.trim() === "router") {
        const r = routerPortOf(network, p);
        if (!r) continue;
        const mac = parsePortAddress(r.port.mac)?.mac;
        if (mac === undefined) continue;
        let m = `eth.dst == ${mac}`;
        const dgps = r.lr.ports.filter((x) => isDgp(x)).toArray().map(([, x]) => x);
        if (dgps.length > 0 && hasLocalnet) {
          if (isDgp(r.port)) m += ` && is_chassis_resident(${q(crPortName(r.port))})`;
          else if (r.port.options.get("reside-on-redirect-chassis") === "true" && dgps.length === 1) m += ` && is_chassis_resident(${q(crPortName(dgps[0]!))})`;
        }
        f.add("ls_in_l2_lkup", 50, m, p.enabled ? `outport = ${q(p.name)}; output;` : "drop;", "l2-router", origin);
        continue;
      }
      const a = parsePortAddress(entry);
      if (!a) continue;
      f.add("ls_in_l2_lkup", 50, `eth.dst == ${a.mac}`, p.enabled ? `outport = ${q(p.name)}; output;` : "drop;", "l2-unicast", origin);
    }
  }
  f.add("ls_in_l2_unknown", 50, `outport == "none"`, hasUnknown ? `outport = ${q(MC_UNKNOWN)}; output;` : "drop;", "l2-unknown");
  f.add("ls_in_l2_unknown", 0, "1", "output;", "output");
  for (const p of ports) {
    if (!p.enabled) f.add("ls_in_l2_unknown", 50, `outport == ${q(p.name)}`, "drop;", "port-disabled-out", portOrigin(ls, p));
  }
}
