/**
 * Text renderings of compiled rules, for golden files, `ovnsim flows` and people.
 *
 * Two forms:
 * - `ovs-ofctl dump-flows` style (`formatFlow`, `dumpFlows`): one line per rule,
 *   ` cookie=0x1, table=3, priority=100,reg14=0x1 actions=set_field:0x2->reg15,resubmit(,4)`,
 *   as OVS 3.1 prints flows with `--no-stats -O OpenFlow15` except that the cookie and table are
 *   always printed. Actions that OpenFlow has use its syntax (`set_field`, `move`, `resubmit`,
 *   `ct(...)`, `output`, `push_vlan`, `dec_ttl`, `clone`, `controller`, `note`); a `load` prints as
 *   the masked `set_field` OVS prints for it. Ops that OVS expresses through groups, tunnel ports or
 *   the controller print in the same shape under their own names: `ct_lb(...)`,
 *   `encap(geneve,...)`, `decap()`, `icmp4_error(...)`, `output:outport` (the logical outport).
 * - OVN `ovn-sbctl lflow-list` style (`formatLflow`, `lflowList`):
 *   `  table=3 (ls_in_acl          ), priority=1001 , match=(ip4), action=(next;)`, with the OVN
 *   source text from the rule's provenance when it has it, and an OVN-like rendering otherwise.
 *
 * Both orderings are stable: by table, then priority (highest first), then match text, then rule
 * id. Field names depend on the protocol the match pins down, as in OVS (`nw_src` prints as
 * `arp_spa` in an ARP rule and `ip_src` otherwise; `tp_dst` as `tcp_dst`, `udp_dst` or
 * `icmp_code`). Not for hot paths.
 */
import { formatIpv4, formatIpv6 } from "../base/index.js";
import { field, fieldValueKind, formatMatch, type FieldDef, type Match } from "../flow/index.js";
import { type Action, type CtAction, type CtLbAction, type CtNat, type CtZone, type IpAddr, type Subfield, type Words } from "./action.js";
import type { Rule } from "./rule.js";
import type { Table } from "./table.js";

// ---------------------------------------------------------------------------------------------
// Values

/** The protocol a rule's match pins down, which decides some field names. */
interface Ctx {
  readonly ethType: number | undefined;
  readonly proto: number | undefined;
  /** The rule's table, for `next` without a table. */
  readonly table: number;
}

function contextOf(match: Match, table: number): Ctx {
  const et = field("eth_type");
  const np = field("nw_proto");
  const etMask = (match.mask[et.word]! >>> et.shift) & 0xffff;
  const npMask = (match.mask[np.word]! >>> np.shift) & 0xff;
  return {
    ethType: etMask === 0xffff ? (match.value[et.word]! >>> et.shift) & 0xffff : undefined,
    proto: npMask === 0xff ? (match.value[np.word]! >>> np.shift) & 0xff : undefined,
    table,
  };
}

function toBig(w: Words): bigint {
  let v = 0n;
  for (const x of w) v = (v << 32n) | BigInt(x >>> 0);
  return v;
}

function onesBig(nbits: number): bigint {
  return (1n << BigInt(nbits)) - 1n;
}

function bigToBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function formatMacBig(v: bigint): string {
  return [...bigToBytes(v, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Prefix length of `mask` over `width` bits, or undefined when it is not a prefix. */
function prefixOf(mask: bigint, width: number): number | undefined {
  let n = 0;
  while (n < width && (mask >> BigInt(width - 1 - n)) & 1n) n++;
  return mask === (onesBig(n) << BigInt(width - n)) ? n : undefined;
}

function formatIpBig(v: bigint, width: 32 | 128): string {
  return width === 32 ? formatIpv4(Number(v)) : formatIpv6(bigToBytes(v, 16));
}

/** A field value (and mask, unless it covers the whole field) as OVS prints it. */
function formatFieldValue(d: FieldDef, value: bigint, mask: bigint): string {
  const full = mask === onesBig(d.width);
  const kind = fieldValueKind(d.name);
  switch (kind) {
    case "mac":
      return full ? formatMacBig(value) : `${formatMacBig(value)}/${formatMacBig(mask)}`;
    case "ip4":
    case "ip6": {
      const width = kind === "ip4" ? 32 : 128;
      if (full) return formatIpBig(value, width);
      const p = prefixOf(mask, width);
      return `${formatIpBig(value, width)}/${p !== undefined ? p : formatIpBig(mask, width)}`;
    }
    case "dec":
      return full ? value.toString() : `${value}/0x${mask.toString(16)}`;
    case "hex":
    case "ct_state":
      return full ? `0x${value.toString(16)}` : `0x${value.toString(16)}/0x${mask.toString(16)}`;
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}

function formatIp(ip: IpAddr): string {
  return ip.length === 1 ? formatIpv4(ip[0]!) : formatIpBig(toBig(ip), 128);
}

// ---------------------------------------------------------------------------------------------
// Field names

const TP_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  6: ["tcp_src", "tcp_dst"],
  17: ["udp_src", "udp_dst"],
  132: ["sctp_src", "sctp_dst"],
  1: ["icmp_type", "icmp_code"],
  58: ["icmpv6_type", "icmpv6_code"],
};

/** The name OVS's `set_field` uses for a layout field. */
function ofName(d: FieldDef, ctx: Ctx): string {
  const arp = ctx.ethType === 0x0806;
  const v6 = ctx.ethType === 0x86dd;
  switch (d.name) {
    case "nw_src":
      return arp ? "arp_spa" : "ip_src";
    case "nw_dst":
      return arp ? "arp_tpa" : "ip_dst";
    case "nw_proto":
      return arp ? "arp_op" : "nw_proto";
    case "arp_sha":
      return v6 ? "nd_sll" : "arp_sha";
    case "arp_tha":
      return v6 ? "nd_tll" : "arp_tha";
    case "tp_src":
    case "tp_dst": {
      const names = ctx.proto === undefined ? undefined : TP_NAMES[ctx.proto];
      return names ? names[d.name === "tp_src" ? 0 : 1] : d.name;
    }
    default:
      return d.name;
  }
}

/** NXM/OXM names, with the width OVS gives the field when it differs from the layout's. */
const NXM: Readonly<Record<string, readonly [string, number?]>> = {
  recirc_id: ["NXM_NX_RECIRC_ID"],
  dp_hash: ["NXM_NX_DP_HASH"],
  in_port: ["OXM_OF_IN_PORT"],
  metadata: ["OXM_OF_METADATA", 64],
  ct_state: ["NXM_NX_CT_STATE", 32],
  ct_zone: ["NXM_NX_CT_ZONE"],
  ct_mark: ["NXM_NX_CT_MARK"],
  ct_label: ["NXM_NX_CT_LABEL"],
  ct_nw_src: ["NXM_NX_CT_NW_SRC"],
  ct_nw_dst: ["NXM_NX_CT_NW_DST"],
  ct_nw_proto: ["NXM_NX_CT_NW_PROTO"],
  ct_tp_src: ["NXM_NX_CT_TP_SRC"],
  ct_tp_dst: ["NXM_NX_CT_TP_DST"],
  ct_ipv6_src: ["NXM_NX_CT_IPV6_SRC"],
  ct_ipv6_dst: ["NXM_NX_CT_IPV6_DST"],
  pkt_mark: ["NXM_NX_PKT_MARK"],
  tun_id: ["NXM_NX_TUN_ID", 64],
  tun_src: ["NXM_NX_TUN_IPV4_SRC"],
  tun_dst: ["NXM_NX_TUN_IPV4_DST"],
  tun_metadata0: ["NXM_NX_TUN_METADATA0", 992],
  eth_dst: ["NXM_OF_ETH_DST"],
  eth_src: ["NXM_OF_ETH_SRC"],
  vlan_tci: ["NXM_OF_VLAN_TCI"],
  eth_type: ["NXM_OF_ETH_TYPE"],
  nw_tos: ["NXM_OF_IP_TOS"],
  nw_ttl: ["NXM_NX_IP_TTL"],
  nw_frag: ["NXM_NX_IP_FRAG", 8],
  ipv6_src: ["NXM_NX_IPV6_SRC"],
  ipv6_dst: ["NXM_NX_IPV6_DST"],
  ipv6_label: ["NXM_NX_IPV6_LABEL"],
  nd_target: ["NXM_NX_ND_TARGET"],
  tcp_flags: ["NXM_NX_TCP_FLAGS", 16],
};

const NXM_TP: Readonly<Record<number, readonly [string, string]>> = {
  6: ["NXM_OF_TCP_SRC", "NXM_OF_TCP_DST"],
  17: ["NXM_OF_UDP_SRC", "NXM_OF_UDP_DST"],
  132: ["OXM_OF_SCTP_SRC", "OXM_OF_SCTP_DST"],
  1: ["NXM_OF_ICMP_TYPE", "NXM_OF_ICMP_CODE"],
  58: ["NXM_NX_ICMPV6_TYPE", "NXM_NX_ICMPV6_CODE"],
};

function nxmName(d: FieldDef, ctx: Ctx): readonly [string, number?] {
  const arp = ctx.ethType === 0x0806;
  const v6 = ctx.ethType === 0x86dd;
  const reg = /^(x{0,2})reg(\d+)$/.exec(d.name);
  if (reg) return [reg[1] === "" ? `NXM_NX_REG${reg[2]}` : reg[1] === "x" ? `OXM_OF_PKT_REG${reg[2]}` : `NXM_NX_XXREG${reg[2]}`];
  switch (d.name) {
    case "nw_src":
      return [arp ? "NXM_OF_ARP_SPA" : "NXM_OF_IP_SRC"];
    case "nw_dst":
      return [arp ? "NXM_OF_ARP_TPA" : "NXM_OF_IP_DST"];
    case "nw_proto":
      return [arp ? "NXM_OF_ARP_OP" : "NXM_OF_IP_PROTO", arp ? 16 : undefined];
    case "arp_sha":
      return [v6 ? "NXM_NX_ND_SLL" : "NXM_NX_ARP_SHA"];
    case "arp_tha":
      return [v6 ? "NXM_NX_ND_TLL" : "NXM_NX_ARP_THA"];
    case "tp_src":
    case "tp_dst": {
      const names = NXM_TP[ctx.proto ?? 6] ?? NXM_TP[6]!;
      return [names[d.name === "tp_src" ? 0 : 1]];
    }
    default:
      return NXM[d.name] ?? [d.name];
  }
}

/** `NXM_NX_REG0[]`, `NXM_NX_REG10[0]`, `NXM_NX_REG13[0..15]`. */
function formatSubfield(s: Subfield, ctx: Ctx): string {
  const [name, ovsWidth] = nxmName(s.field, ctx);
  const whole = s.ofs === 0 && s.nbits === s.field.width && (ovsWidth === undefined || ovsWidth === s.field.width);
  if (whole) return `${name}[]`;
  return s.nbits === 1 ? `${name}[${s.ofs}]` : `${name}[${s.ofs}..${s.ofs + s.nbits - 1}]`;
}

// ---------------------------------------------------------------------------------------------
// ovs-ofctl actions

function formatZone(z: CtZone, ctx: Ctx): string | undefined {
  if (z.kind === "const") return z.zone === 0 ? undefined : `zone=${z.zone}`;
  return `zone=${formatSubfield(z.src, ctx)}`;
}

function formatNatRangeOf(nat: CtNat): string {
  if (nat.kind === "restore") return "nat";
  const dir = nat.kind === "snat" ? "src" : "dst";
  const flags = [nat.random ? "random" : "", nat.persistent ? "persistent" : ""].filter((x) => x !== "");
  const r = nat.range;
  if (!r) return flags.length ? `nat(${dir},${flags.join(",")})` : `nat(${dir})`;
  // IPv6 addresses are bracketed when a port follows, as OVS writes them.
  const br = (ip: IpAddr) => (ip.length === 4 && r.portMin !== undefined ? `[${formatIp(ip)}]` : formatIp(ip));
  let s = br(r.ipMin);
  if (r.ipMax && toBig(r.ipMax) !== toBig(r.ipMin)) s += `-${br(r.ipMax)}`;
  if (r.portMin !== undefined) {
    s += `:${r.portMin}`;
    if (r.portMax !== undefined && r.portMax !== r.portMin) s += `-${r.portMax}`;
  }
  return `nat(${[`${dir}=${s}`, ...flags].join(",")})`;
}

function formatCt(a: CtAction, ctx: Ctx): string {
  const parts: string[] = [];
  if (a.commit) parts.push("commit");
  if (a.force) parts.push("force");
  if (a.table !== undefined) parts.push(`table=${a.table}`);
  const z = formatZone(a.zone, ctx);
  if (z) parts.push(z);
  if (a.nat) parts.push(formatNatRangeOf(a.nat));
  const exec: string[] = [];
  if (a.setMark) exec.push(`set_field:${formatFieldValue(field("ct_mark"), BigInt(a.setMark.value >>> 0), BigInt(a.setMark.mask >>> 0))}->ct_mark`);
  if (a.setLabel) exec.push(`set_field:${formatFieldValue(field("ct_label"), toBig(a.setLabel.value), toBig(a.setLabel.mask))}->ct_label`);
  if (exec.length) parts.push(`exec(${exec.join(",")})`);
  return `ct(${parts.join(",")})`;
}

function formatBackend(ip: IpAddr, port: number | undefined): string {
  if (port === undefined) return formatIp(ip);
  return ip.length === 4 ? `[${formatIp(ip)}]:${port}` : `${formatIp(ip)}:${port}`;
}

function formatCtLb(a: CtLbAction, ctx: Ctx): string {
  const parts: string[] = [];
  if (a.table !== undefined) parts.push(`table=${a.table}`);
  const z = formatZone(a.zone, ctx);
  if (z) parts.push(z);
  parts.push(`backends(${a.backends.map((b) => formatBackend(b.ip, b.port)).join(",")})`);
  if (a.hashFields?.length) parts.push(`hash_fields(${a.hashFields.map((d) => ofName(d, ctx)).join(",")})`);
  return `${a.mark ? "ct_lb_mark" : "ct_lb"}(${parts.join(",")})`;
}

/** OVS prints note bytes dotted, zero-padded so that the action fills whole 8-byte units. */
function formatNote(text: string): string {
  const bytes = [...new TextEncoder().encode(text)];
  const padded = ((bytes.length + 10 + 7) & ~7) - 10;
  while (bytes.length < padded) bytes.push(0);
  return `note:${bytes.map((b) => b.toString(16).padStart(2, "0")).join(".")}`;
}

function formatOfAction(a: Action, ctx: Ctx): string {
  switch (a.kind) {
    case "set_field":
      return `set_field:${formatFieldValue(a.field, toBig(a.value), toBig(a.mask))}->${ofName(a.field, ctx)}`;
    case "load": {
      const shift = BigInt(a.dst.ofs);
      return `set_field:${formatFieldValue(a.dst.field, toBig(a.value) << shift, onesBig(a.dst.nbits) << shift)}->${ofName(a.dst.field, ctx)}`;
    }
    case "move":
      return `move:${formatSubfield(a.src, ctx)}->${formatSubfield(a.dst, ctx)}`;
    case "next":
      return a.pipeline === undefined ? `resubmit(,${a.table ?? ctx.table + 1})` : `resubmit(,${a.pipeline}:${a.table ?? 0})`;
    case "resubmit":
      return `resubmit(${a.inPort ?? ""},${a.table})`;
    case "output":
      switch (a.to.kind) {
        case "outport":
          return "output:outport";
        case "port":
          return `output:${a.to.port}`;
        case "field":
          return `output:${formatSubfield(a.to.src, ctx)}`;
        case "in_port":
          return "IN_PORT";
        default: {
          const _never: never = a.to;
          return _never;
        }
      }
    case "drop":
      return "drop";
    case "ct":
      return formatCt(a, ctx);
    case "ct_lb":
      return formatCtLb(a, ctx);
    case "ct_clear":
      return "ct_clear";
    case "encap": {
      const parts = [a.tunnel, `remote_ip=${formatIp(a.remoteIp)}`];
      if (a.localIp) parts.push(`local_ip=${formatIp(a.localIp)}`);
      parts.push(`vni=0x${a.vni.toString(16)}`);
      if (a.option) parts.push(`opt(class=0x${a.option.cls.toString(16)},type=0x${a.option.type.toString(16)},len=${a.option.len},value=0x${a.option.value.toString(16)})`);
      if (a.port !== undefined) parts.push(`port=${a.port}`);
      return `encap(${parts.join(",")})`;
    }
    case "decap":
      return "decap()";
    case "push_vlan": {
      let s = `push_vlan:0x${a.tpid.toString(16)},set_field:${0x1000 | a.vid}->vlan_vid`;
      if (a.pcp !== undefined) s += `,set_field:${a.pcp}->vlan_pcp`;
      return s;
    }
    case "pop_vlan":
      return "pop_vlan";
    case "dec_ttl":
      return "dec_ttl";
    case "arp_reply":
      return `arp_reply(mac=${formatMacBig(toBig(a.mac))},ip=${formatIp(a.ip)},actions(${formatOfActionList(a.actions, ctx)}))`;
    case "icmp4_error":
    case "icmp6_error": {
      const mtu = a.mtu === undefined ? "" : `,mtu=${a.mtu}`;
      return `${a.kind}(type=${a.icmpType},code=${a.icmpCode}${mtu},actions(${formatOfActionList(a.actions, ctx)}))`;
    }
    case "icmp4_echo_reply":
    case "icmp6_echo_reply":
      return `${a.kind}(actions(${formatOfActionList(a.actions, ctx)}))`;
    case "nd_na":
      return `${a.router ? "nd_na_router" : "nd_na"}(target=${formatIp(a.target)},mac=${formatMacBig(toBig(a.mac))},actions(${formatOfActionList(a.actions, ctx)}))`;
    case "clone":
      return `clone(${formatOfActionList(a.actions, ctx)})`;
    case "controller": {
      const parts: string[] = [];
      if (a.reason !== "action") parts.push(`reason=${a.reason}`);
      if (a.userdata !== undefined) parts.push(`userdata=${a.userdata}`);
      if (a.pause) parts.push("pause");
      return parts.length ? `controller(${parts.join(",")})` : "CONTROLLER:65535";
    }
    case "log": {
      const parts: string[] = [];
      if (a.name !== undefined) parts.push(`name=${a.name}`);
      if (a.severity !== undefined) parts.push(`severity=${a.severity}`);
      if (a.verdict !== undefined) parts.push(`verdict=${a.verdict}`);
      if (a.meter !== undefined) parts.push(`meter=${a.meter}`);
      return `log(${parts.join(",")})`;
    }
    case "exchange":
      return `exchange:${formatSubfield(a.a, ctx)}<->${formatSubfield(a.b, ctx)}`;
    case "stack":
      return `${a.push ? "push" : "pop"}:${formatSubfield(a.field, ctx)}`;
    case "generate":
      return `${a.packet}(${formatOfActionList(a.actions, ctx)})`;
    case "call":
      return `call(${a.text})`;
    case "note":
      return formatNote(a.text);
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

function formatOfActionList(actions: readonly Action[], ctx: Ctx): string {
  return actions.map((a) => formatOfAction(a, ctx)).join(",");
}

/**
 * Actions as `ovs-ofctl` prints them after `actions=` (`drop` for none). `match` decides
 * protocol-dependent field names; `table` is where `next` without a table continues from.
 */
export function formatActions(actions: readonly Action[], match?: Match, table = 0): string {
  if (actions.length === 0) return "drop";
  const ctx = match ? contextOf(match, table) : { ethType: undefined, proto: undefined, table };
  return formatOfActionList(actions, ctx);
}

/** One rule as a `dump-flows` line (with the leading space `ovs-ofctl` prints). */
export function formatFlow(r: Rule): string {
  const m = formatMatch(r.match);
  const matchPart = m === "(any)" ? "" : `,${m}`;
  return ` cookie=0x${(r.cookie ?? 0).toString(16)}, table=${r.table}, priority=${r.priority}${matchPart} actions=${formatActions(r.actions, r.match, r.table)}`;
}

interface Keyed {
  readonly rule: Rule;
  readonly matchText: string;
}

function compareKeyed(a: Keyed, b: Keyed): number {
  return a.rule.table - b.rule.table || b.rule.priority - a.rule.priority || (a.matchText < b.matchText ? -1 : a.matchText > b.matchText ? 1 : 0) || a.rule.id - b.rule.id;
}

/** Rules in dump order: table, priority (highest first), match text, id. */
export function sortForDump(rules: readonly Rule[]): Rule[] {
  return rules
    .map((rule) => ({ rule, matchText: formatMatch(rule.match) }))
    .sort(compareKeyed)
    .map((k) => k.rule);
}

/** A whole `dump-flows` listing of `rules` or of tables' rules, one line each, in dump order. */
export function dumpFlows(source: readonly Rule[] | readonly Table[]): string {
  const rules: Rule[] = [];
  for (const x of source) {
    if ("rules" in x) rules.push(...x.rules);
    else rules.push(x);
  }
  return sortForDump(rules)
    .map((r) => formatFlow(r) + "\n")
    .join("");
}

// ---------------------------------------------------------------------------------------------
// OVN-like actions, for logical flows without source text

function ovnName(d: FieldDef, ctx: Ctx): string {
  const arp = ctx.ethType === 0x0806;
  const v6 = ctx.ethType === 0x86dd;
  switch (d.name) {
    case "eth_src":
      return "eth.src";
    case "eth_dst":
      return "eth.dst";
    case "eth_type":
      return "eth.type";
    case "nw_src":
      return arp ? "arp.spa" : "ip4.src";
    case "nw_dst":
      return arp ? "arp.tpa" : "ip4.dst";
    case "nw_proto":
      return arp ? "arp.op" : "ip.proto";
    case "nw_ttl":
      return "ip.ttl";
    case "ipv6_src":
      return "ip6.src";
    case "ipv6_dst":
      return "ip6.dst";
    case "nd_target":
      return "nd.target";
    case "arp_sha":
      return v6 ? "nd.sll" : "arp.sha";
    case "arp_tha":
      return v6 ? "nd.tll" : "arp.tha";
    case "reg14":
      return "inport";
    case "reg15":
      return "outport";
    case "reg10":
      return "flags";
    case "tp_src":
    case "tp_dst": {
      const names = ctx.proto === undefined ? undefined : OVN_TP_NAMES[ctx.proto];
      return names ? names[d.name === "tp_src" ? 0 : 1] : d.name;
    }
    default:
      return d.name;
  }
}

const OVN_TP_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  6: ["tcp.src", "tcp.dst"],
  17: ["udp.src", "udp.dst"],
  132: ["sctp.src", "sctp.dst"],
  1: ["icmp4.type", "icmp4.code"],
  58: ["icmp6.type", "icmp6.code"],
};

/** An OVN value: addresses in their usual form, small numbers in decimal, wide ones in hex. */
function formatOvnValue(d: FieldDef, v: bigint, nbits: number): string {
  const kind = fieldValueKind(d.name);
  if (nbits === d.width && (kind === "mac" || kind === "ip4" || kind === "ip6")) return formatFieldValue(d, v, onesBig(d.width));
  return nbits <= 32 ? v.toString() : `0x${v.toString(16)}`;
}

function ovnSub(name: string, ofs: number, nbits: number, width: number): string {
  if (ofs === 0 && nbits === width) return name;
  return nbits === 1 ? `${name}[${ofs}]` : `${name}[${ofs}..${ofs + nbits - 1}]`;
}

/** The single run of ones in `mask`, or undefined when it has none or several. */
function runOf(mask: bigint): { ofs: number; nbits: number } | undefined {
  if (mask === 0n) return undefined;
  let ofs = 0;
  while (((mask >> BigInt(ofs)) & 1n) === 0n) ofs++;
  let nbits = 0;
  while ((mask >> BigInt(ofs + nbits)) & 1n) nbits++;
  return mask === onesBig(nbits) << BigInt(ofs) ? { ofs, nbits } : undefined;
}

function formatOvnCt(a: CtAction): string {
  const nat = a.nat;
  if (nat && nat.kind !== "restore") {
    const name = nat.kind === "snat" ? "ct_snat" : "ct_dnat";
    if (!nat.range) return `${name};`;
    const r = nat.range;
    let s = formatIp(r.ipMin);
    if (r.ipMax && toBig(r.ipMax) !== toBig(r.ipMin)) s += `-${formatIp(r.ipMax)}`;
    if (r.portMin !== undefined) s += `,${r.portMin}${r.portMax !== undefined && r.portMax !== r.portMin ? `-${r.portMax}` : ""}`;
    return `${name}(${s});`;
  }
  if (nat) return "ct_nat;";
  if (a.commit) {
    const inner: string[] = [];
    if (a.setMark) {
      const run = runOf(BigInt(a.setMark.mask >>> 0));
      const v = BigInt(a.setMark.value >>> 0);
      inner.push(run ? `${ovnSub("ct_mark", run.ofs, run.nbits, 32)} = ${v >> BigInt(run.ofs)};` : `ct_mark = 0x${v.toString(16)}/0x${a.setMark.mask.toString(16)};`);
    }
    if (a.setLabel) {
      const m = toBig(a.setLabel.mask);
      const run = runOf(m);
      const v = toBig(a.setLabel.value);
      inner.push(run ? `${ovnSub("ct_label", run.ofs, run.nbits, 128)} = ${formatOvnValue(field("ct_label"), v >> BigInt(run.ofs), run.nbits)};` : `ct_label = 0x${v.toString(16)}/0x${m.toString(16)};`);
    }
    return inner.length ? `ct_commit { ${inner.join(" ")} };` : "ct_commit;";
  }
  return "ct_next;";
}

function formatOvnAction(a: Action, ctx: Ctx): string {
  switch (a.kind) {
    case "set_field": {
      const m = toBig(a.mask);
      const v = toBig(a.value);
      const run = runOf(m);
      const name = ovnName(a.field, ctx);
      if (run) return `${ovnSub(name, run.ofs, run.nbits, a.field.width)} = ${formatOvnValue(a.field, v >> BigInt(run.ofs), run.nbits)};`;
      return `${name} = ${formatFieldValue(a.field, v, m)};`;
    }
    case "load":
      return `${ovnSub(ovnName(a.dst.field, ctx), a.dst.ofs, a.dst.nbits, a.dst.field.width)} = ${formatOvnValue(a.dst.field, toBig(a.value), a.dst.nbits)};`;
    case "move":
      return `${ovnSub(ovnName(a.dst.field, ctx), a.dst.ofs, a.dst.nbits, a.dst.field.width)} = ${ovnSub(ovnName(a.src.field, ctx), a.src.ofs, a.src.nbits, a.src.field.width)};`;
    case "next":
      if (a.pipeline !== undefined) return `next(pipeline=${a.pipeline}, table=${a.table ?? 0});`;
      return a.table === undefined ? "next;" : `next(${a.table});`;
    case "resubmit":
      return `resubmit(${a.table});`;
    case "output":
      switch (a.to.kind) {
        case "outport":
          return "output;";
        case "port":
          return `output(${a.to.port});`;
        case "field":
          return `output(${ovnSub(ovnName(a.to.src.field, ctx), a.to.src.ofs, a.to.src.nbits, a.to.src.field.width)});`;
        case "in_port":
          return "output(inport);";
        default: {
          const _never: never = a.to;
          return _never;
        }
      }
    case "drop":
      return "drop;";
    case "ct":
      return formatOvnCt(a);
    case "ct_lb": {
      const hash = a.hashFields?.length ? `; hash_fields="${a.hashFields.map((d) => ofName(d, ctx)).join(",")}"` : "";
      return `${a.mark ? "ct_lb_mark" : "ct_lb"}(backends=${a.backends.map((b) => formatBackend(b.ip, b.port)).join(",")}${hash});`;
    }
    case "ct_clear":
      return "ct_clear;";
    case "encap":
      return `encap(${a.tunnel}, remote_ip=${formatIp(a.remoteIp)}, vni=${a.vni});`;
    case "decap":
      return "decap;";
    case "push_vlan":
      return `push_vlan(${a.vid});`;
    case "pop_vlan":
      return "pop_vlan;";
    case "dec_ttl":
      return "ip.ttl--;";
    case "arp_reply":
      return `arp_reply(${formatMacBig(toBig(a.mac))}, ${formatIp(a.ip)}) { ${formatOvnList(a.actions, ctx)} };`;
    case "icmp4_error":
    case "icmp6_error": {
      const p = a.kind === "icmp4_error" ? "icmp4" : "icmp6";
      const mtu = a.mtu === undefined ? "" : ` ${p}.frag_mtu = ${a.mtu};`;
      const rest = a.actions.length ? ` ${formatOvnList(a.actions, ctx)}` : "";
      return `${p} { ${p}.type = ${a.icmpType}; ${p}.code = ${a.icmpCode};${mtu}${rest} };`;
    }
    case "icmp4_echo_reply":
    case "icmp6_echo_reply":
      return `${a.kind} { ${formatOvnList(a.actions, ctx)} };`;
    case "nd_na":
      return `${a.router ? "nd_na_router" : "nd_na"} { nd.target = ${formatIp(a.target)}; nd.tll = ${formatMacBig(toBig(a.mac))};${a.actions.length ? ` ${formatOvnList(a.actions, ctx)}` : ""} };`;
    case "clone":
      return `clone { ${formatOvnList(a.actions, ctx)} };`;
    case "controller":
      return `controller(${a.reason});`;
    case "log": {
      const parts: string[] = [];
      if (a.name !== undefined) parts.push(`name="${a.name}"`);
      if (a.severity !== undefined) parts.push(`severity=${a.severity}`);
      if (a.verdict !== undefined) parts.push(`verdict=${a.verdict}`);
      if (a.meter !== undefined) parts.push(`meter="${a.meter}"`);
      return `log(${parts.join(", ")});`;
    }
    case "exchange":
      return `${ovnSub(ovnName(a.a.field, ctx), a.a.ofs, a.a.nbits, a.a.field.width)} <-> ${ovnSub(ovnName(a.b.field, ctx), a.b.ofs, a.b.nbits, a.b.field.width)};`;
    case "stack":
      return `${a.push ? "push" : "pop"}(${ovnSub(ovnName(a.field.field, ctx), a.field.ofs, a.field.nbits, a.field.field.width)});`;
    case "generate":
      return `${a.packet} { ${formatOvnList(a.actions, ctx)} };`;
    case "call":
      return a.text.endsWith(";") ? a.text : `${a.text};`;
    case "note":
      return `/* ${a.text} */`;
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

function formatOvnList(actions: readonly Action[], ctx: Ctx): string {
  return actions.map((a) => formatOvnAction(a, ctx)).join(" ");
}

/** Actions in an OVN-like syntax (`reg0[0] = 1; next;`); `drop;` for none. */
export function formatOvnActions(actions: readonly Action[], match?: Match, table = 0): string {
  if (actions.length === 0) return "drop;";
  const ctx = match ? contextOf(match, table) : { ethType: undefined, proto: undefined, table };
  return formatOvnList(actions, ctx);
}

/** One rule as an `ovn-sbctl lflow-list` line (with its two-space indent). */
export function formatLflow(r: Rule, stageName?: string): string {
  const stage = r.provenance.stage ?? stageName ?? "";
  const match = r.provenance.matchText ?? formatMatch(r.match);
  const actions = r.provenance.actionText ?? formatOvnActions(r.actions, r.match, r.table);
  return `  table=${String(r.table).padEnd(2)}(${stage.padEnd(19)}), priority=${String(r.priority).padEnd(5)}, match=(${match}), action=(${actions})`;
}

function compareLflow(a: Rule, b: Rule, ma: string, mb: string): number {
  return a.table - b.table || b.priority - a.priority || (ma < mb ? -1 : ma > mb ? 1 : 0) || a.id - b.id;
}

/**
 * An `lflow-list` listing: one `Datapath: "name"  Pipeline: ingress` header per datapath and
 * pipeline (datapaths by name, ingress before egress), then its flows in dump order. Tables without
 * a datapath are listed under `Datapath: ""`.
 */
export function lflowList(tables: readonly Table[]): string {
  const groups = new Map<string, { datapath: string; pipeline: string; rows: { rule: Rule; stage: string; m: string }[] }>();
  for (const t of tables) {
    const datapath = t.datapath ?? "";
    const pipeline = t.pipeline ?? "ingress";
    const key = `${datapath}\u0000${pipeline === "ingress" ? 0 : 1}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { datapath, pipeline, rows: [] }));
    for (const rule of t.rules) g.rows.push({ rule, stage: t.name, m: rule.provenance.matchText ?? formatMatch(rule.match) });
  }
  let out = "";
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    out += `Datapath: "${g.datapath}"  Pipeline: ${g.pipeline}\n`;
    g.rows.sort((x, y) => compareLflow(x.rule, y.rule, x.m, y.m));
    for (const row of g.rows) out += formatLflow(row.rule, row.stage) + "\n";
  }
  return out;
}
