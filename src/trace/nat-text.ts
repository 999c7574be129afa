/**
 * Shared text of the Linux hosts' segments of a network walk (NAT gateways, nodes' hosts): a
 * one-line packet summary and the text of an address/port translation.
 */
import { formatIpv4 } from "../base/index.js";
import { W, field, getField } from "../flow/index.js";
import type { NatRewrite } from "../dataplane/index.js";

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TTL = field("nw_ttl");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");

const PROTO_NAMES: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp", 132: "sctp" };

/** `tcp 10.0.1.2:1000 > 8.8.8.8:53 ttl 64` (or the Ethernet type for non-IPv4). */
export function packetSummary(key: Uint32Array): string {
  const et = getField(key, F_ETH_TYPE);
  if (et !== 0x0800) return et === 0x0806 ? "arp" : `eth.type 0x${et.toString(16).padStart(4, "0")}`;
  const proto = getField(key, F_NW_PROTO);
  const name = PROTO_NAMES[proto] ?? `ip proto ${proto}`;
  const src = formatIpv4(key[W.NW_SRC]!);
  const dst = formatIpv4(key[W.NW_DST]!);
  const ttl = getField(key, F_NW_TTL);
  if (proto === 6 || proto === 17 || proto === 132) return `${name} ${src}:${getField(key, F_TP_SRC)} > ${dst}:${getField(key, F_TP_DST)} ttl ${ttl}`;
  if (proto === 1) return `${name} ${src} > ${dst} type ${getField(key, F_TP_SRC)} code ${getField(key, F_TP_DST)} ttl ${ttl}`;
  return `${name} ${src} > ${dst} ttl ${ttl}`;
}

/** The L4 name used in rewritten field names (`tcp`, `udp`, ...; `tp` when unknown). */
export function l4Name(key: Uint32Array): string {
  return PROTO_NAMES[getField(key, F_NW_PROTO)] ?? "tp";
}

/** `ip4.src = 192.168.0.11, tcp.src = 40001` (the port only when it changed). */
export function rewriteText(r: NatRewrite, l4: string): string {
  const parts = [`ip4.${r.end} = ${formatIpv4(r.toIp)}`];
  if (r.toPort !== undefined && r.toPort !== r.fromPort) parts.push(`${l4}.${r.end} = ${r.toPort}`);
  return parts.join(", ");
}

/** How a translation is named in a `conntrack:` line. */
export const REWRITE_KIND_TEXT: Readonly<Record<NatRewrite["kind"], string>> = { dnat: "DNAT", snat: "SNAT", "un-dnat": "DNAT undone", "un-snat": "SNAT undone" };
