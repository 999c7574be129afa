/**
 * One line per packet, tcpdump-like, without the timestamp.
 *
 * Form: the link part (`src > dst` for Ethernet, then `802.1Q vlan 100` per tag, comma
 * separated), then the network part (`IPv4 10.0.0.1.34567 > 10.0.0.2.80: TCP [S] seq 1 win 64240
 * len 0`, `ARP who-has 10.0.0.2 tell 10.0.0.1`, ...). A tunnel prints its header and then, after
 * a colon, the inner packet in the same form:
 * `IPv4 192.0.2.1.49152 > 192.0.2.2.6081: Geneve vni 0x5 ovn(in=1,out=3): 00:..:01 > 00:..:02, IPv4 ...`.
 * IPv6 extension headers and IPv4 fragment/option facts appear in brackets after the addresses.
 * `len` counts the payload bytes captured inside the innermost length field (so Ethernet padding is
 * not counted, and a cut capture shows what is there). A packet that
 * did not decode cleanly ends with `[malformed: <issues>]` and/or `[truncated]`.
 *
 * Pure formatting: nothing here decodes bytes; it reads the reprs of a `Decoded`.
 */
import { formatIpv4, formatIpv6, formatMac } from "../base/index.js";
import { ArpOp } from "./arp.js";
import type { Decoded } from "./decode.js";
import { EtherType, etherTypeName } from "./ethernet.js";
import { formatGeneveOption } from "./geneve.js";
import { echoId, echoSeq, IcmpType, icmpTypeName } from "./icmp.js";
import { formatNdOption, Icmpv6Type, icmpv6TypeName, naFlags } from "./icmpv6.js";
import { ipProtoName } from "./ip-proto.js";
import type { Layer } from "./layer.js";
import { formatTcpFlags } from "./tcp.js";
import { hex } from "./wire.js";

/** Formats a decoded packet as one line. */
export function formatLine(d: Decoded): string {
  const ctx: Ctx = { d, layers: d.layers };
  let s = formatFrom(ctx, 0);
  if (s === "") s = d.frame.length === 0 ? "empty frame" : `${d.stoppedAt ?? "unknown"}, len ${d.frame.length}`;
  if (d.issues.length > 0) s += ` [malformed: ${d.issues.join("; ")}]`;
  if (d.truncated) s += " [truncated]";
  return s;
}

interface Ctx {
  readonly d: Decoded;
  readonly layers: readonly Layer[];
}

/** Payload length after layer `i` when it is the last one, else undefined. */
function tailLen(ctx: Ctx, i: number): number | undefined {
  return i === ctx.layers.length - 1 ? ctx.d.payloadEnd - ctx.d.payloadOffset : undefined;
}

function vlanName(tpid: number): string {
  if (tpid === EtherType.QINQ) return "802.1ad";
  if (tpid === EtherType.QINQ_LEGACY) return "802.1Q-9100";
  return "802.1Q";
}

/** The link part from layer `i`, then the network part. */
function formatFrom(ctx: Ctx, i: number): string {
  const parts: string[] = [];
  let prevType = -1;
  for (; i < ctx.layers.length; i++) {
    const l = ctx.layers[i]!;
    if (l.kind === "ethernet") {
      parts.push(`${formatMac(l.repr.src)} > ${formatMac(l.repr.dst)}`);
      prevType = l.repr.etherType;
    } else if (l.kind === "vlan") {
      let t = `${vlanName(prevType)} vlan ${l.repr.vid}`;
      if (l.repr.pcp !== 0) t += ` p ${l.repr.pcp}`;
      if (l.repr.dei) t += " DEI";
      parts.push(t);
      prevType = l.repr.etherType;
    } else if (l.kind === "sll" || l.kind === "sll2") {
      const addr = l.repr.addrLen === 6 ? ` ${formatMac(l.repr.addr)}` : "";
      parts.push(`Linux cooked ${packetTypeName(l.repr.packetType)}${addr}`);
      prevType = l.repr.protocol;
    } else if (l.kind === "null") {
      parts.push(`loopback family ${l.repr.family}`);
    } else break;
  }
  if (i < ctx.layers.length) parts.push(formatNet(ctx, i));
  else if (ctx.layers.length > 0 && ctx.d.stoppedAt !== undefined) parts.push(`${ctx.d.stoppedAt}, len ${ctx.d.payloadEnd - ctx.d.payloadOffset}`);
  return parts.join(", ");
}

function packetTypeName(t: number): string {
  switch (t) {
    case 0:
      return "in";
    case 1:
      return "broadcast";
    case 2:
      return "multicast";
    case 3:
      return "other-host";
    case 4:
      return "out";
    default:
      return `type ${t}`;
  }
}

/** The network part starting at layer `i` (ARP, IPv4 or IPv6). */
function formatNet(ctx: Ctx, i: number): string {
  const l = ctx.layers[i]!;
  switch (l.kind) {
    case "arp": {
      const r = l.repr;
      if (r.op === ArpOp.REQUEST) return `ARP who-has ${formatIpv4(r.tpa)} tell ${formatIpv4(r.spa)}`;
      if (r.op === ArpOp.REPLY) return `ARP reply ${formatIpv4(r.spa)} is-at ${formatMac(r.sha)}`;
      return `ARP op ${r.op} ${formatIpv4(r.spa)} > ${formatIpv4(r.tpa)}`;
    }
    case "ipv4":
    case "ipv6":
      return formatIp(ctx, i);
    default:
      return `${l.kind}`;
  }
}

function formatIp(ctx: Ctx, i: number): string {
  const ip = ctx.layers[i]!;
  let src: string;
  let dst: string;
  let name: string;
  let proto: number;
  const notes: string[] = [];
  let laterFragment = false;
  if (ip.kind === "ipv4") {
    laterFragment = ip.repr.fragOffset !== 0;
    name = "IPv4";
    src = formatIpv4(ip.repr.src);
    dst = formatIpv4(ip.repr.dst);
    proto = ip.repr.protocol;
    if (ip.repr.options.length > 0) notes.push(`options ${ip.repr.options.length}`);
    if (ip.repr.fragOffset !== 0 || ip.repr.moreFrags) {
      notes.push(`frag id ${hex(ip.repr.ident)} off ${ip.repr.fragOffset * 8}${ip.repr.moreFrags ? " MF" : ""}`);
    }
  } else if (ip.kind === "ipv6") {
    name = "IPv6";
    src = formatIpv6(ip.repr.src);
    dst = formatIpv6(ip.repr.dst);
    proto = ip.repr.nextHeader;
  } else return ip.kind;
  let j = i + 1;
  for (; j < ctx.layers.length; j++) {
    const e = ctx.layers[j]!;
    if (e.kind === "ipv6-ext") {
      const r = e.repr;
      proto = r.nextHeader;
      if (r.kind === "fragment") laterFragment = r.fragOffset !== 0;
      if (r.kind === "fragment") notes.push(`frag id ${hex(r.ident, 8)} off ${r.fragOffset * 8}${r.moreFrags ? " MF" : ""}`);
      else if (r.kind === "routing") notes.push(`routing type ${r.routingType} segleft ${r.segmentsLeft}`);
      else notes.push(r.kind);
    } else if (e.kind === "ah") {
      proto = e.repr.nextHeader;
      notes.push(`AH spi ${hex(e.repr.spi, 8)}`);
    } else break;
  }
  const note = notes.length > 0 ? ` [${notes.join(", ")}]` : "";
  const l4 = ctx.layers[j];
  const here = `${name} `;
  if (!l4 || l4.depth !== ip.depth) {
    // No transport header decoded: a later fragment, a protocol not decoded, or a cut header.
    const len = tailLen(ctx, j - 1) ?? 0;
    return `${here}${src} > ${dst}${note}: ${ipProtoName(proto)}${laterFragment ? " fragment" : ""}, len ${len}`;
  }
  switch (l4.kind) {
    case "tcp": {
      const r = l4.repr;
      let t = `TCP [${formatTcpFlags(r.flags)}] seq ${r.seq}`;
      if (r.flags & 0x10) t += ` ack ${r.ack}`;
      t += ` win ${r.window} len ${tailLen(ctx, j) ?? 0}`;
      return `${here}${src}.${r.srcPort} > ${dst}.${r.dstPort}${note}: ${t}`;
    }
    case "udp": {
      const r = l4.repr;
      const head = `${here}${src}.${r.srcPort} > ${dst}.${r.dstPort}${note}: `;
      const next = ctx.layers[j + 1];
      if (next && (next.kind === "geneve" || next.kind === "vxlan")) return head + formatTunnel(ctx, j + 1);
      return `${head}UDP len ${tailLen(ctx, j) ?? r.length - 8}`;
    }
    case "sctp":
      return `${here}${src}.${l4.repr.srcPort} > ${dst}.${l4.repr.dstPort}${note}: SCTP vtag ${hex(l4.repr.verificationTag, 8)} len ${tailLen(ctx, j) ?? 0}`;
    case "icmp": {
      const r = l4.repr;
      let t = `ICMP ${icmpTypeName(r.type)}`;
      if (r.type === IcmpType.ECHO_REQUEST || r.type === IcmpType.ECHO_REPLY) t += ` id ${echoId(r)} seq ${echoSeq(r)}`;
      else if (r.code !== 0 || !isNamedIcmp(r.type)) t += ` code ${r.code}`;
      return `${here}${src} > ${dst}${note}: ${t}, len ${tailLen(ctx, j) ?? 0}`;
    }
    case "icmpv6":
      return `${here}${src} > ${dst}${note}: ${formatIcmpv6(ctx, j)}`;
    default:
      return `${here}${src} > ${dst}${note}: ${l4.kind}`;
  }
}

function isNamedIcmp(t: number): boolean {
  return icmpTypeName(t) !== `type ${t}`;
}

function formatIcmpv6(ctx: Ctx, j: number): string {
  const l = ctx.layers[j]!;
  if (l.kind !== "icmpv6") return l.kind;
  const r = l.repr;
  let t = `ICMPv6 ${icmpv6TypeName(r.type)}`;
  switch (r.type) {
    case Icmpv6Type.ECHO_REQUEST:
    case Icmpv6Type.ECHO_REPLY:
      t += ` id ${r.rest >>> 16} seq ${r.rest & 0xffff}`;
      break;
    case Icmpv6Type.NEIGHBOR_SOLICIT:
      if (r.nd?.target) t += ` who has ${formatIpv6(r.nd.target)}`;
      break;
    case Icmpv6Type.NEIGHBOR_ADVERT: {
      if (r.nd?.target) t += ` tgt is ${formatIpv6(r.nd.target)}`;
      const f = naFlags(r);
      const fl = `${f.router ? "R" : ""}${f.solicited ? "S" : ""}${f.override ? "O" : ""}`;
      if (fl) t += ` [${fl}]`;
      break;
    }
    default:
      if (r.code !== 0 || icmpv6TypeName(r.type) === `type ${r.type}`) t += ` code ${r.code}`;
  }
  for (const o of r.nd?.options ?? []) t += `, ${formatNdOption(o)}`;
  const len = tailLen(ctx, j);
  if (len !== undefined && !r.nd) t += `, len ${len}`;
  return t;
}

/** A tunnel header at layer `k` and what it carries. */
function formatTunnel(ctx: Ctx, k: number): string {
  const l = ctx.layers[k]!;
  let head: string;
  if (l.kind === "geneve") {
    head = `Geneve vni ${hex(l.repr.vni, 1)}`;
    if (l.repr.oam) head += " OAM";
    if (l.repr.protocolType !== EtherType.TEB) head += ` proto ${etherTypeName(l.repr.protocolType)}`;
    for (const o of l.repr.options) head += ` ${formatGeneveOption(o)}`;
  } else if (l.kind === "vxlan") {
    head = `VXLAN vni ${l.repr.vni}`;
  } else return l.kind;
  if (k + 1 >= ctx.layers.length) {
    const len = ctx.d.payloadEnd - ctx.d.payloadOffset;
    return ctx.d.stoppedAt !== undefined ? `${head}: ${ctx.d.stoppedAt}, len ${len}` : `${head}, len ${len}`;
  }
  return `${head}: ${formatFrom(ctx, k + 1)}`;
}
