/**
 * The flow key layout: the one place that knows where each field lives.
 *
 * What: a flow key is a `Uint32Array` of `KEY_WORDS` words. Every packet header field and every
 * piece of pipeline metadata that a rule can match has a fixed place in it. A mask has the same
 * layout; a match is a (value, mask) pair over it.
 *
 * Design: the words are grouped in segments in lookup order, as in OVS's `struct flow`: metadata
 * (recirculation id, registers, conntrack state), tunnel, L2, L3, L4. A lookup that can decide on
 * the early segments never has to look at (and so never un-wildcards) the later ones, which keeps
 * megaflows wide. Fields of at most 32 bits sit inside one word at a bit `shift`. Wider fields
 * (MACs, IPv6 addresses, `ct_label`, `xxreg0`) take consecutive whole words, most significant word
 * first; the first word holds the top `width mod 32` bits (or 32) in its low bits. So a MAC is a
 * 16-bit high word then a 32-bit low word.
 *
 * Shared storage follows OVS: ARP's SPA/TPA live in `nw_src`/`nw_dst`, the ARP opcode in
 * `nw_proto`, ARP SHA/THA and ND SLL/TLL share `arp_sha`/`arp_tha`, and ICMP type/code live in
 * `tp_src`/`tp_dst`.
 *
 * Invariants: `LAYOUT_VERSION` changes with any change to this table; `layout.test.ts` pins the
 * offsets, so any edit shows up as a failing test that points at everything depending on them.
 */

/** Bumped on every change to the layout below. */
export const LAYOUT_VERSION = 1;

export type Segment = "meta" | "tunnel" | "l2" | "l3" | "l4" | "aux";

export interface FieldDef {
  /** OVS-style field name, e.g. `nw_src`, `reg14`, `eth_dst`. */
  readonly name: string;
  /** First word. */
  readonly word: number;
  /** Bit offset inside the word (fields of at most 32 bits only; 0 for wide fields). */
  readonly shift: number;
  /** Width in bits. */
  readonly width: number;
  /** Number of words (1 unless width > 32). */
  readonly nwords: number;
  readonly segment: Segment;
}

/** Word offsets. Only this file may use these numbers directly. */
export const W = {
  RECIRC_ID: 0,
  DP_HASH: 1,
  IN_PORT: 2,
  METADATA: 3,
  REG0: 4, // reg0..reg15 are words 4..19
  CT_STATE_ZONE: 20, // ct_state bits 0-7, ct_zone bits 16-31
  CT_MARK: 21,
  CT_LABEL: 22, // 4 words
  CT_NW_SRC: 26,
  CT_NW_DST: 27,
  CT_NW_PROTO: 28,
  CT_TP: 29, // ct_tp_src bits 16-31, ct_tp_dst bits 0-15
  CT_IPV6_SRC: 30, // 4 words
  CT_IPV6_DST: 34, // 4 words
  PKT_MARK: 38,
  TUN_ID: 39,
  TUN_SRC: 40,
  TUN_DST: 41,
  TUN_FLAGS: 42,
  TUN_MD0: 43,
  ETH_DST: 44, // 2 words
  ETH_SRC: 46, // 2 words
  VLAN0: 48, // tpid bits 16-31, tci bits 0-15 (outer tag)
  VLAN1: 49, // second tag, same format
  ETH_TYPE: 50, // bits 0-15
  NW: 51, // nw_proto 0-7, nw_tos 8-15, nw_ttl 16-23, nw_frag 24-25
  NW_SRC: 52,
  NW_DST: 53,
  IPV6_SRC: 54, // 4 words
  IPV6_DST: 58, // 4 words
  IPV6_LABEL: 62,
  ND_TARGET: 63, // 4 words
  ARP_SHA: 67, // 2 words
  ARP_THA: 69, // 2 words
  TP: 71, // tp_src bits 16-31, tp_dst bits 0-15
  TCP_FLAGS: 72, // for an ICMPv6 Neighbor Solicitation or Advertisement: its reserved word (NA: R, S, O flags)
  PARSE: 73,
} as const;

/** Total words in a key or mask. */
export const KEY_WORDS = 74;

/** Where each segment starts and ends (exclusive), for staged lookup. */
export const SEGMENTS: readonly { readonly name: Segment; readonly start: number; readonly end: number }[] = [
  { name: "meta", start: 0, end: W.TUN_ID },
  { name: "tunnel", start: W.TUN_ID, end: W.ETH_DST },
  { name: "l2", start: W.ETH_DST, end: W.NW },
  { name: "l3", start: W.NW, end: W.TP },
  { name: "l4", start: W.TP, end: W.PARSE },
  { name: "aux", start: W.PARSE, end: KEY_WORDS },
];

function segmentOf(word: number): Segment {
  for (const s of SEGMENTS) if (word >= s.start && word < s.end) return s.name;
  throw new Error(`word ${word} outside the key`);
}

function f(name: string, word: number, shift: number, width: number): FieldDef {
  return { name, word, shift, width, nwords: width > 32 ? Math.ceil(width / 32) : 1, segment: segmentOf(word) };
}

const defs: FieldDef[] = [
  f("recirc_id", W.RECIRC_ID, 0, 32),
  f("dp_hash", W.DP_HASH, 0, 32),
  f("in_port", W.IN_PORT, 0, 32),
  f("metadata", W.METADATA, 0, 32),
  f("ct_state", W.CT_STATE_ZONE, 0, 8),
  f("ct_zone", W.CT_STATE_ZONE, 16, 16),
  f("ct_mark", W.CT_MARK, 0, 32),
  f("ct_label", W.CT_LABEL, 0, 128),
  f("ct_nw_src", W.CT_NW_SRC, 0, 32),
  f("ct_nw_dst", W.CT_NW_DST, 0, 32),
  f("ct_nw_proto", W.CT_NW_PROTO, 0, 8),
  f("ct_tp_src", W.CT_TP, 16, 16),
  f("ct_tp_dst", W.CT_TP, 0, 16),
  f("ct_ipv6_src", W.CT_IPV6_SRC, 0, 128),
  f("ct_ipv6_dst", W.CT_IPV6_DST, 0, 128),
  f("pkt_mark", W.PKT_MARK, 0, 32),
  f("tun_id", W.TUN_ID, 0, 32),
  f("tun_src", W.TUN_SRC, 0, 32),
  f("tun_dst", W.TUN_DST, 0, 32),
  f("tun_flags", W.TUN_FLAGS, 0, 32),
  f("tun_metadata0", W.TUN_MD0, 0, 32),
  f("eth_dst", W.ETH_DST, 0, 48),
  f("eth_src", W.ETH_SRC, 0, 48),
  f("vlan_tci", W.VLAN0, 0, 16),
  f("vlan_tpid", W.VLAN0, 16, 16),
  f("vlan1_tci", W.VLAN1, 0, 16),
  f("vlan1_tpid", W.VLAN1, 16, 16),
  f("eth_type", W.ETH_TYPE, 0, 16),
  f("nw_proto", W.NW, 0, 8),
  f("nw_tos", W.NW, 8, 8),
  f("nw_ttl", W.NW, 16, 8),
  f("nw_frag", W.NW, 24, 2),
  f("nw_src", W.NW_SRC, 0, 32),
  f("nw_dst", W.NW_DST, 0, 32),
  f("ipv6_src", W.IPV6_SRC, 0, 128),
  f("ipv6_dst", W.IPV6_DST, 0, 128),
  f("ipv6_label", W.IPV6_LABEL, 0, 20),
  f("nd_target", W.ND_TARGET, 0, 128),
  f("arp_sha", W.ARP_SHA, 0, 48),
  f("arp_tha", W.ARP_THA, 0, 48),
  f("tp_src", W.TP, 16, 16),
  f("tp_dst", W.TP, 0, 16),
  f("tcp_flags", W.TCP_FLAGS, 0, 12),
  // The same word in an ICMPv6 Neighbor Solicitation or Advertisement (no TCP header there).
  f("nd_reserved", W.TCP_FLAGS, 0, 32),
  f("parse", W.PARSE, 0, 32),
];
for (let i = 0; i < 16; i++) defs.push(f(`reg${i}`, W.REG0 + i, 0, 32));
for (let i = 0; i < 8; i++) defs.push(f(`xreg${i}`, W.REG0 + 2 * i, 0, 64));
for (let i = 0; i < 4; i++) defs.push(f(`xxreg${i}`, W.REG0 + 4 * i, 0, 128));

/** All fields by name. */
export const FIELDS: ReadonlyMap<string, FieldDef> = new Map(defs.map((d) => [d.name, d]));

/** Looks a field up by name; throws for an unknown name (a bug in the caller). */
export function field(name: string): FieldDef {
  const d = FIELDS.get(name);
  if (!d) throw new Error(`unknown flow field ${name}`);
  return d;
}

/** `ct_state` bits, as OVS numbers them. */
export const CT = {
  NEW: 0x01,
  EST: 0x02,
  REL: 0x04,
  RPL: 0x08,
  INV: 0x10,
  TRK: 0x20,
  SNAT: 0x40,
  DNAT: 0x80,
} as const;

/** `ct_state` bit names as OVS and ovn-trace write them, in bit order. */
export const CT_STATE_NAMES: readonly (readonly [string, number])[] = [
  ["new", CT.NEW],
  ["est", CT.EST],
  ["rel", CT.REL],
  ["rpl", CT.RPL],
  ["inv", CT.INV],
  ["trk", CT.TRK],
  ["snat", CT.SNAT],
  ["dnat", CT.DNAT],
];

/** `nw_frag` bits. */
export const FRAG = { ANY: 1, LATER: 2 } as const;

/** `tun_flags` bits. */
export const TUN = {
  /** The packet arrived through a tunnel and `tun_*` are valid. */
  PRESENT: 1,
  /** The Geneve OAM bit. */
  OAM: 2,
  /** The tunnel was VXLAN (otherwise Geneve). */
  VXLAN: 4,
  /** Geneve option class 0x0102 type 0x80 was present; `tun_metadata0` holds its data. */
  MD0_PRESENT: 8,
  /** A Geneve option with the critical bit that was not understood. */
  UNKNOWN_CRIT: 16,
} as const;

/**
 * The `parse` word records how far key extraction got. Bits 0-7 are flags, bits 8-15 an error code
 * (`ParseError`), bits 16-31 the byte offset where parsing stopped (saturating at 65535).
 */
export const PARSE = {
  L2: 0x01,
  VLAN: 0x02,
  L3: 0x04,
  L4: 0x08,
  TUNNEL: 0x10,
  TRUNCATED: 0x20,
  MALFORMED: 0x40,
} as const;

/** Why extraction stopped early; stored in bits 8-15 of the `parse` word. */
export const ParseError = {
  NONE: 0,
  SHORT_ETH: 1,
  SHORT_VLAN: 2,
  SHORT_ARP: 3,
  SHORT_IPV4: 4,
  BAD_IPV4_IHL: 5,
  BAD_IPV4_VERSION: 6,
  SHORT_IPV6: 7,
  BAD_IPV6_VERSION: 8,
  SHORT_IPV6_EXT: 9,
  SHORT_L4: 10,
  SHORT_TUNNEL: 11,
  BAD_TUNNEL: 12,
  TOO_MANY_VLANS: 13,
  BAD_IPV4_LENGTH: 14,
  BAD_IPV6_LENGTH: 15,
} as const;
export type ParseError = (typeof ParseError)[keyof typeof ParseError];

export const PARSE_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: "none",
  1: "frame shorter than an Ethernet header",
  2: "VLAN tag truncated",
  3: "ARP header truncated",
  4: "IPv4 header truncated",
  5: "IPv4 header length below 20 bytes",
  6: "IP version is not 4",
  7: "IPv6 header truncated",
  8: "IP version is not 6",
  9: "IPv6 extension header truncated",
  10: "transport header truncated",
  11: "tunnel header truncated",
  12: "tunnel header malformed",
  13: "more VLAN tags than the key holds",
  14: "IPv4 total length inconsistent with the frame",
  15: "IPv6 payload length inconsistent with the frame",
};

/** A fresh all-zero key or mask. */
export function newKey(): Uint32Array {
  return new Uint32Array(KEY_WORDS);
}

/** Reads a field of at most 32 bits. */
export function getField(key: Uint32Array, d: FieldDef): number {
  const w = key[d.word]!;
  return d.width === 32 ? w : (w >>> d.shift) & ((1 << d.width) - 1);
}

/** Writes a field of at most 32 bits, leaving the other bits of its word alone. */
export function setField(key: Uint32Array, d: FieldDef, v: number): void {
  if (d.width === 32) {
    key[d.word] = v >>> 0;
    return;
  }
  const m = ((1 << d.width) - 1) << d.shift;
  key[d.word] = ((key[d.word]! & ~m) | ((v << d.shift) & m)) >>> 0;
}

/** The mask of a whole field of at most 32 bits, in its word's position. */
export function fieldWordMask(d: FieldDef): number {
  return d.width === 32 ? 0xffffffff : (((1 << d.width) - 1) << d.shift) >>> 0;
}
