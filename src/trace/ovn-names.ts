/**
 * OVN names and value text for flow-layout fields, as ovn-trace prints them, and the `# ...`
 * microflow line.
 *
 * The layout names fields as OVS does (`nw_dst`, `tp_src`, `arp_sha`); OVN's names depend on the
 * packet (`nw_dst` is `ip4.dst` for IPv4 and `arp.tpa` for ARP; `tp_dst` is `tcp.dst`, `udp.dst`
 * or `icmp4.code`), so each lookup takes a `PacketContext` (the Ethernet type and IP protocol in
 * force). Registers keep their OVS names (`reg0[6]`) except the three OVN gives logical meanings
 * (`inport`, `outport`, `flags`). Not for hot paths: only trace rendering uses this.
 */
import { formatIpv4, formatIpv6 } from "../base/index.js";
import { CT_STATE_NAMES, FRAG, W, field, getField, type FieldDef } from "../flow/index.js";

export interface PacketContext {
  ethType: number;
  proto: number;
}

export const ETH_IP = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_ARP = 0x0806;

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");

/** The Ethernet type and IP protocol of `key`. */
export function contextOf(key: Uint32Array): PacketContext {
  return { ethType: getField(key, F_ETH_TYPE), proto: getField(key, F_NW_PROTO) };
}

const L4_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  6: ["tcp.src", "tcp.dst"],
  17: ["udp.src", "udp.dst"],
  132: ["sctp.src", "sctp.dst"],
  1: ["icmp4.type", "icmp4.code"],
  58: ["icmp6.type", "icmp6.code"],
};

const FIXED_NAMES: Readonly<Record<string, string>> = {
  eth_src: "eth.src",
  eth_dst: "eth.dst",
  eth_type: "eth.type",
  vlan_tci: "vlan.tci",
  ipv6_src: "ip6.src",
  ipv6_dst: "ip6.dst",
  ipv6_label: "ip6.label",
  nd_target: "nd.target",
  nw_ttl: "ip.ttl",
  nw_tos: "ip.dscp",
  reg14: "inport",
  reg15: "outport",
  reg10: "flags",
};

/** The OVN name of layout field `d` in packet context `ctx`; the layout name when OVN has none. */
export function ovnFieldName(d: FieldDef, ctx: PacketContext): string {
  const arp = ctx.ethType === ETH_ARP;
  switch (d.name) {
    case "nw_src":
      return arp ? "arp.spa" : "ip4.src";
    case "nw_dst":
      return arp ? "arp.tpa" : "ip4.dst";
    case "nw_proto":
      return arp ? "arp.op" : "ip.proto";
    case "arp_sha":
      return ctx.ethType === ETH_IPV6 ? "nd.sll" : "arp.sha";
    case "arp_tha":
      return ctx.ethType === ETH_IPV6 ? "nd.tll" : "arp.tha";
    case "tp_src":
    case "tp_dst": {
      const names = L4_NAMES[ctx.proto];
      return names ? names[d.name === "tp_src" ? 0 : 1] : d.name;
    }
    default:
      return FIXED_NAMES[d.name] ?? d.name;
  }
}

/** True for fields OVS counts as registers (ovn-trace reports no change of them). */
export function isRegister(d: FieldDef): boolean {
  return /^x{0,2}reg\d+$/.test(d.name) || d.name === "metadata";
}

/** `name`, `name[3]` or `name[0..15]` for a bit range of a field of `width` bits. */
export function subfieldText(name: string, ofs: number, nbits: number, width: number): string {
  if (ofs === 0 && nbits >= width) return name;
  return nbits === 1 ? `${name}[${ofs}]` : `${name}[${ofs}..${ofs + nbits - 1}]`;
}

function wordsBig(words: readonly number[]): bigint {
  let v = 0n;
  for (const w of words) v = (v << 32n) | BigInt(w >>> 0);
  return v;
}

function macText(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(Number((v >> BigInt(i * 8)) & 0xffn).toString(16).padStart(2, "0"));
  return out.join(":");
}

function ip6Text(v: bigint): string {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = Number((v >> BigInt((15 - i) * 8)) & 0xffn);
  return formatIpv6(b);
}

const MAC_FIELDS = new Set(["eth_src", "eth_dst", "arp_sha", "arp_tha"]);
const IP4_FIELDS = new Set(["nw_src", "nw_dst", "tun_src", "tun_dst", "ct_nw_src", "ct_nw_dst"]);
const IP6_FIELDS = new Set(["ipv6_src", "ipv6_dst", "nd_target", "ct_ipv6_src", "ct_ipv6_dst"]);

/**
 * The text of a whole-field value (words most significant first): MACs and addresses in their
 * usual form, values up to 32 bits in decimal, wider ones in hex.
 */
export function fieldValueText(d: FieldDef, words: readonly number[]): string {
  const v = wordsBig(words);
  if (MAC_FIELDS.has(d.name)) return macText(v);
  if (IP4_FIELDS.has(d.name)) return formatIpv4(Number(v));
  if (IP6_FIELDS.has(d.name)) return ip6Text(v);
  return d.width <= 32 ? v.toString() : `0x${v.toString(16)}`;
}

/** The value of bits `ofs..ofs+nbits-1` of a whole-field value, as ovn-trace writes small numbers. */
export function subValueText(words: readonly number[], ofs: number, nbits: number): string {
  const v = (wordsBig(words) >> BigInt(ofs)) & ((1n << BigInt(nbits)) - 1n);
  return nbits <= 32 ? v.toString() : `0x${v.toString(16)}`;
}

/** `ct_state` bits as ovn-trace writes them: `est|trk`; `0` for none. */
export function ctStateText(state: number): string {
  const names = CT_STATE_NAMES.filter(([, bit]) => (state & bit) !== 0).map(([n]) => n);
  return names.length ? names.join("|") : "0";
}

const TCP_FLAG_NAMES: readonly string[] = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];

function hex(v: number, width = 0): string {
  return "0x" + (v >>> 0).toString(16).padStart(width, "0");
}

function macAt(key: Uint32Array, word: number): string {
  return macText((BigInt(key[word]! & 0xffff) << 32n) | BigInt(key[word + 1]! >>> 0));
}

/** An ICMPv6 Neighbor Solicitation or Advertisement (type 135 or 136, code 0). */
function isNd(key: Uint32Array, ctx: { readonly ethType: number; readonly proto: number }): boolean {
  const tp = key[W.TP]!;
  return ctx.ethType === ETH_IPV6 && ctx.proto === 58 && (tp === (135 << 16) || tp === (136 << 16));
}

function ip6At(key: Uint32Array, word: number): string {
  return ip6Text(wordsBig(Array.from(key.subarray(word, word + 4))));
}

/**
 * The microflow of `key` in OVS flow syntax, as ovn-trace prints it on its first line: protocol
 * shorthand, non-zero registers, VLAN, Ethernet, then L3 and L4 fields of the packet's protocols
 * (`tcp,reg14=0x1,vlan_tci=0x0000,dl_src=...,nw_ttl=64,nw_frag=no,tp_src=0,...`).
 */
export function formatMicroflow(key: Uint32Array): string {
  const ctx = contextOf(key);
  const parts: string[] = [];
  const v4 = ctx.ethType === ETH_IP;
  const v6 = ctx.ethType === ETH_IPV6;
  const protoNames: Readonly<Record<number, string>> = { 6: "tcp", 17: "udp", 1: "icmp", 132: "sctp", 58: "icmp" };
  if (v4 || v6) {
    const p = protoNames[ctx.proto];
    parts.push(p ? (v6 ? (p === "icmp" ? "icmp6" : `${p}6`) : p) : v4 ? "ip" : "ipv6");
  } else if (ctx.ethType === ETH_ARP) parts.push("arp");
  const ctState = key[W.CT_STATE_ZONE]! & 0xff;
  if (ctState) parts.push(`ct_state=${ctStateText(ctState).split("|").map((n) => `+${n}`).join("")}`);
  // No metadata: ovn-trace prints the microflow before the datapath is set (the first pipeline
  // line names it).
  for (let r = 0; r < 16; r++) if (key[W.REG0 + r]) parts.push(`reg${r}=${hex(key[W.REG0 + r]!)}`);
  parts.push(`vlan_tci=${hex(key[W.VLAN0]! & 0xffff, 4)}`);
  parts.push(`dl_src=${macAt(key, W.ETH_SRC)}`, `dl_dst=${macAt(key, W.ETH_DST)}`);
  if (!v4 && !v6 && ctx.ethType !== ETH_ARP) parts.push(`dl_type=${hex(ctx.ethType, 4)}`);
  const nw = key[W.NW]!;
  const tos = (nw >>> 8) & 0xff;
  const frag = (nw >>> 24) & 3;
  const fragText = frag === 0 ? "no" : (frag & FRAG.LATER) !== 0 ? "later" : "first";
  if (v4) parts.push(`nw_src=${formatIpv4(key[W.NW_SRC]!)}`, `nw_dst=${formatIpv4(key[W.NW_DST]!)}`);
  if (v6) parts.push(`ipv6_src=${ip6At(key, W.IPV6_SRC)}`, `ipv6_dst=${ip6At(key, W.IPV6_DST)}`, `ipv6_label=${hex(key[W.IPV6_LABEL]! & 0xfffff, 5)}`);
  if (v4 || v6) {
    parts.push(`nw_tos=${tos & 0xfc}`, `nw_ecn=${tos & 3}`, `nw_ttl=${(nw >>> 16) & 0xff}`, `nw_frag=${fragText}`);
    const tpSrc = key[W.TP]! >>> 16;
    const tpDst = key[W.TP]! & 0xffff;
    if (ctx.proto === 1 || ctx.proto === 58) parts.push(`icmp_type=${tpSrc}`, `icmp_code=${tpDst}`);
    // Neighbor Solicitations and Advertisements carry their target and link-layer addresses, as
    // OVS prints them.
    if (isNd(key, ctx)) parts.push(`nd_target=${ip6At(key, W.ND_TARGET)}`, `nd_sll=${macAt(key, W.ARP_SHA)}`, `nd_tll=${macAt(key, W.ARP_THA)}`);
    else if (ctx.proto === 6 || ctx.proto === 17 || ctx.proto === 132) parts.push(`tp_src=${tpSrc}`, `tp_dst=${tpDst}`);
    if (ctx.proto === 6) {
      const flags = key[W.TCP_FLAGS]! & 0xfff;
      const names = TCP_FLAG_NAMES.filter((_, i) => (flags & (1 << i)) !== 0);
      parts.push(`tcp_flags=${names.length ? names.join("|") : "0"}`);
    }
  }
  if (ctx.ethType === ETH_ARP) {
    parts.push(`arp_spa=${formatIpv4(key[W.NW_SRC]!)}`, `arp_tpa=${formatIpv4(key[W.NW_DST]!)}`, `arp_op=${nw & 0xff}`, `arp_sha=${macAt(key, W.ARP_SHA)}`, `arp_tha=${macAt(key, W.ARP_THA)}`);
  }
  return parts.join(",");
}

/** A packet's fields by OVN name, for the JSON rendering (see render-json.ts for the set). */
export function packetFields(key: Uint32Array): Record<string, string | number> {
  const ctx = contextOf(key);
  const out: Record<string, string | number> = {
    "eth.src": macAt(key, W.ETH_SRC),
    "eth.dst": macAt(key, W.ETH_DST),
    "eth.type": ctx.ethType,
  };
  const tci = key[W.VLAN0]! & 0xffff;
  if (tci & 0x1000) out["vlan.vid"] = tci & 0xfff;
  const nw = key[W.NW]!;
  if (ctx.ethType === ETH_IP || ctx.ethType === ETH_IPV6) {
    if (ctx.ethType === ETH_IP) {
      out["ip4.src"] = formatIpv4(key[W.NW_SRC]!);
      out["ip4.dst"] = formatIpv4(key[W.NW_DST]!);
    } else {
      out["ip6.src"] = ip6At(key, W.IPV6_SRC);
      out["ip6.dst"] = ip6At(key, W.IPV6_DST);
    }
    out["ip.proto"] = nw & 0xff;
    out["ip.ttl"] = (nw >>> 16) & 0xff;
    const names = L4_NAMES[ctx.proto === 1 && ctx.ethType === ETH_IPV6 ? -1 : ctx.proto];
    if (names) {
      out[names[0]] = key[W.TP]! >>> 16;
      out[names[1]] = key[W.TP]! & 0xffff;
    }
    if (isNd(key, ctx)) {
      out["nd.target"] = ip6At(key, W.ND_TARGET);
      out["nd.sll"] = macAt(key, W.ARP_SHA);
      out["nd.tll"] = macAt(key, W.ARP_THA);
    }
  } else if (ctx.ethType === ETH_ARP) {
    out["arp.op"] = nw & 0xff;
    out["arp.spa"] = formatIpv4(key[W.NW_SRC]!);
    out["arp.tpa"] = formatIpv4(key[W.NW_DST]!);
    out["arp.sha"] = macAt(key, W.ARP_SHA);
    out["arp.tha"] = macAt(key, W.ARP_THA);
  }
  return out;
}
