/**
 * The symbol table of OVN's logical fields (ovn-sb(5) "Logical_Flow TABLE"; OVN 23.03's
 * lib/logical-fields.c), mapped onto our flow key layout (`flow/layout.ts`).
 *
 * A symbol is one of:
 * - a **field**: a run of bits of a layout field (`ip4.src` is `nw_src`; `ip.dscp` is bits 2-7
 *   of `nw_tos`). Its `width` is OVN's width, which bounds constants and subfield selections.
 *   `bits` is how many layout bits back it; where OVN's field is wider than our storage (`ct_state`
 *   is 32 bits in OVN, 8 in the key; `arp.op` is 16 bits in OVN, stored in the 8-bit `nw_proto`)
 *   the extra high bits read as zero. Where our storage is wider (`icmp4.type` is 8 bits stored in
 *   the 16-bit `tp_src`), a comparison with the whole field compares all the stored bits, as OVS
 *   does when it sets `icmp_type` (so `icmp4.type == 8` is `tp_src=8` with a full mask);
 * - a **subfield**: bits of another symbol (`reg0` is `xxreg0[96..127]`, `ct.est` is
 *   `ct_state[1]`, `vlan.vid` is `vlan.tci[0..11]`);
 * - a **string** field: `inport`/`outport`, logical port names whose numbers come from a context;
 * - a **predicate**: a name for an expression (`ip4` is `eth.type == 0x800`, `tcp` is
 *   `ip.proto == 6`), one bit wide.
 *
 * Each may have prerequisites: an expression that must also hold whenever the symbol is used
 * (`tcp.dst` requires `tcp`, which is `ip.proto == 6`, which requires `ip`).
 *
 * The measurement level says which comparisons make sense: *ordinal* fields allow `<`, `<=`, `>`,
 * `>=` and bit selection; *nominal* ones (those OVS cannot mask, such as `eth.type`, `ip.proto`,
 * and string fields) only `==`, and `!=` only as the outcome of an enclosing `!`; *Boolean*
 * predicates allow `==`, `!=` and `!`. A predicate is nominal when its expansion compares a
 * nominal symbol (`ip`, `tcp`, `nd`), and such a predicate may only be tested positively.
 *
 * Symbols marked `origin: "extension"` are not in OVN 23.03's match language; they expose
 * conntrack tuple fields our layout has (`ct_nw_dst`, `ct_tp_dst`, `ct_proto`, ...), which later
 * OVN versions use internally.
 *
 * Invariants (checked by test/expr/symbols.test.ts): every field maps onto an existing layout field
 * and stays inside it; every subfield lies inside its parent; predicate levels agree with their
 * expansions; prerequisites and expansions parse; no symbol expands to itself.
 */
import { FIELDS } from "../flow/index.js";

export type Level = "nominal" | "boolean" | "ordinal";

/** Whether OVN actions may assign the symbol: always, never, or only inside `ct_commit`. */
export type Writable = "yes" | "no" | "ct-commit";

export type Origin = "ovn" | "extension";

interface SymbolBase {
  readonly name: string;
  readonly prereqs?: string;
  readonly origin: Origin;
}

export interface FieldSymbol extends SymbolBase {
  readonly kind: "field";
  /** OVN's width in bits. */
  readonly width: number;
  readonly level: "nominal" | "ordinal";
  /** Layout field name (`flow/layout.ts`). */
  readonly layout: string;
  /** First layout bit (0 = least significant). */
  readonly layoutOfs: number;
  /** Number of layout bits that hold the value. */
  readonly bits: number;
  readonly writable: Writable;
}

export interface SubfieldSymbol extends SymbolBase {
  readonly kind: "subfield";
  readonly width: number;
  readonly level: "ordinal";
  readonly parent: string;
  readonly parentOfs: number;
  readonly writable: Writable;
}

export interface StringSymbol extends SymbolBase {
  readonly kind: "string";
  readonly level: "nominal";
  /** Layout field holding the port number. */
  readonly layout: string;
  readonly writable: Writable;
}

export interface PredicateSymbol extends SymbolBase {
  readonly kind: "predicate";
  readonly width: 1;
  readonly level: "nominal" | "boolean";
  readonly expansion: string;
}

export type ExprSymbol = FieldSymbol | SubfieldSymbol | StringSymbol | PredicateSymbol;

export type SymbolTable = ReadonlyMap<string, ExprSymbol>;

/** OVN's width of a symbol; 0 for string fields. */
export function symbolWidth(s: ExprSymbol): number {
  return s.kind === "string" ? 0 : s.width;
}

/**
 * The width a whole-field comparison covers: OVN's width, or more when our storage is wider
 * (see the module comment). Equal to `width` for everything but a few nominal fields.
 */
export function compareWidth(s: FieldSymbol): number {
  return Math.max(s.width, s.bits);
}

type FieldOpts = { prereqs?: string; ofs?: number; bits?: number; writable?: Writable; origin?: Origin };

const table = new Map<string, ExprSymbol>();

function add(s: ExprSymbol): void {
  if (table.has(s.name)) throw new Error(`duplicate symbol ${s.name}`);
  table.set(s.name, s);
}

function fieldSym(name: string, layout: string, width: number, level: "nominal" | "ordinal", o: FieldOpts = {}): void {
  const lw = FIELDS.get(layout)?.width;
  if (lw === undefined) throw new Error(`symbol ${name}: no layout field ${layout}`);
  const ofs = o.ofs ?? 0;
  add({ kind: "field", name, width, level, layout, layoutOfs: ofs, bits: o.bits ?? Math.min(width, lw - ofs), writable: o.writable ?? "yes", origin: o.origin ?? "ovn", ...(o.prereqs ? { prereqs: o.prereqs } : {}) });
}

function subfield(name: string, parent: string, ofs: number, width: number, prereqs?: string, writable?: Writable): void {
  const p = table.get(parent);
  if (!p || p.kind === "string" || p.kind === "predicate") throw new Error(`symbol ${name}: bad parent ${parent}`);
  add({ kind: "subfield", name, width, level: "ordinal", parent, parentOfs: ofs, writable: writable ?? p.writable, origin: "ovn", ...(prereqs ? { prereqs } : {}) });
}

function predicate(name: string, level: "nominal" | "boolean", expansion: string): void {
  add({ kind: "predicate", name, width: 1, level, expansion, origin: "ovn" });
}

// Logical ports (string fields, numbers in reg14/reg15).
add({ kind: "string", name: "inport", level: "nominal", layout: "reg14", writable: "yes", origin: "ovn" });
add({ kind: "string", name: "outport", level: "nominal", layout: "reg15", writable: "yes", origin: "ovn" });

// Registers: 128-bit xxregs, 64-bit xregs and 32-bit regs, the smaller ones as subfields of the
// larger so that overlapping references compose. OVN uses 10 logical registers.
fieldSym("xxreg0", "xxreg0", 128, "ordinal");
fieldSym("xxreg1", "xxreg1", 128, "ordinal");
for (let xi = 0; xi < 4; xi++) subfield(`xreg${xi}`, `xxreg${xi >> 1}`, 64 * (1 - (xi % 2)), 64);
fieldSym("xreg4", "xreg4", 64, "ordinal");
for (let i = 0; i < 8; i++) subfield(`reg${i}`, `xxreg${i >> 2}`, 32 * (3 - (i % 4)), 32);
subfield("reg8", "xreg4", 32, 32);
subfield("reg9", "xreg4", 0, 32);

// Logical flags (reg10).
fieldSym("flags", "reg10", 32, "ordinal");
subfield("flags.loopback", "flags", 0, 1);
subfield("flags.force_snat_for_dnat", "flags", 2, 1);
subfield("flags.force_snat_for_lb", "flags", 3, 1);
subfield("flags.skip_snat_for_lb", "flags", 9, 1);
subfield("flags.use_snat_zone", "flags", 11, 1);

// Connection tracking.
fieldSym("ct_mark", "ct_mark", 32, "ordinal", { writable: "ct-commit" });
subfield("ct_mark.blocked", "ct_mark", 0, 1);
subfield("ct_mark.natted", "ct_mark", 1, 1);
subfield("ct_mark.ecmp_reply_port", "ct_mark", 16, 16);
subfield("ct_mark.skip_snat", "ct_mark", 2, 1);
subfield("ct_mark.force_snat", "ct_mark", 3, 1);
fieldSym("ct_label", "ct_label", 128, "ordinal", { writable: "ct-commit" });
subfield("ct_label.blocked", "ct_label", 0, 1);
subfield("ct_label.natted", "ct_label", 1, 1);
subfield("ct_label.ecmp_reply_eth", "ct_label", 32, 48);
subfield("ct_label.ecmp_reply_port", "ct_label", 80, 16);
subfield("ct_label.label", "ct_label", 96, 32);
subfield("ct_label.skip_snat", "ct_label", 2, 1);
subfield("ct_label.force_snat", "ct_label", 3, 1);
fieldSym("ct_state", "ct_state", 32, "ordinal", { writable: "no" });
const CT_BITS: [string, number][] = [
  ["new", 0],
  ["est", 1],
  ["rel", 2],
  ["rpl", 3],
  ["inv", 4],
  ["trk", 5],
  ["snat", 6],
  ["dnat", 7],
];
for (const [n, bit] of CT_BITS) subfield(`ct.${n}`, "ct_state", bit, 1, n === "trk" ? undefined : "ct.trk");

// Ethernet and VLAN.
fieldSym("eth.src", "eth_src", 48, "ordinal");
fieldSym("eth.dst", "eth_dst", 48, "ordinal");
fieldSym("eth.type", "eth_type", 16, "nominal", { writable: "no" });
predicate("eth.bcast", "boolean", "eth.dst == ff:ff:ff:ff:ff:ff");
subfield("eth.mcast", "eth.dst", 40, 1);
predicate("eth.mcastv6", "boolean", "eth.dst[32..47] == 0x3333");
fieldSym("vlan.tci", "vlan_tci", 16, "ordinal");
predicate("vlan.present", "boolean", "vlan.tci[12]");
subfield("vlan.pcp", "vlan.tci", 13, 3, "vlan.present");
subfield("vlan.vid", "vlan.tci", 0, 12, "vlan.present");

// IP.
predicate("ip4", "nominal", "eth.type == 0x800");
predicate("ip6", "nominal", "eth.type == 0x86dd");
predicate("ip", "nominal", "ip4 || ip6");
fieldSym("ip.proto", "nw_proto", 8, "nominal", { prereqs: "ip", writable: "no" });
fieldSym("ip.dscp", "nw_tos", 6, "nominal", { prereqs: "ip", ofs: 2 });
fieldSym("ip.ecn", "nw_tos", 2, "nominal", { prereqs: "ip" });
fieldSym("ip.ttl", "nw_ttl", 8, "nominal", { prereqs: "ip" });
fieldSym("ip4.src", "nw_src", 32, "ordinal", { prereqs: "ip4" });
fieldSym("ip4.dst", "nw_dst", 32, "ordinal", { prereqs: "ip4" });
predicate("ip4.src_mcast", "boolean", "ip4.src[28..31] == 0xe");
predicate("ip4.mcast", "boolean", "eth.mcast && ip4.dst[28..31] == 0xe");
predicate("icmp4", "nominal", "ip4 && ip.proto == 1");
fieldSym("icmp4.type", "tp_src", 8, "nominal", { prereqs: "icmp4", bits: 16 });
fieldSym("icmp4.code", "tp_dst", 8, "nominal", { prereqs: "icmp4", bits: 16 });
predicate("igmp", "nominal", "ip4 && ip.proto == 2");
fieldSym("ip6.src", "ipv6_src", 128, "ordinal", { prereqs: "ip6" });
fieldSym("ip6.dst", "ipv6_dst", 128, "ordinal", { prereqs: "ip6" });
fieldSym("ip6.label", "ipv6_label", 20, "ordinal", { prereqs: "ip6" });
predicate("ip6.mcast_rsvd", "boolean", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0");
predicate("ip6.mcast_all_nodes", "boolean", "ip6.dst == ff01::1 || ip6.dst == ff02::1");
predicate("ip6.mcast_all_rtrs", "boolean", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2");
predicate("ip6.mcast_sol_node", "boolean", "ip6.dst == ff02::1:ff00:0000/104");
predicate("ip6.mcast_flood", "boolean", "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)");
predicate("ip6.mcast", "boolean", "eth.mcastv6 && ip6.dst[120..127] == 0xff");
predicate("icmp6", "nominal", "ip6 && ip.proto == 58");
fieldSym("icmp6.type", "tp_src", 8, "nominal", { prereqs: "icmp6", bits: 16 });
fieldSym("icmp6.code", "tp_dst", 8, "nominal", { prereqs: "icmp6", bits: 16 });
predicate("icmp", "nominal", "icmp4 || icmp6");
fieldSym("ip.frag", "nw_frag", 2, "ordinal", { prereqs: "ip", writable: "no" });
predicate("ip.is_frag", "boolean", "ip.frag[0]");
predicate("ip.later_frag", "boolean", "ip.frag[1]");
predicate("ip.first_frag", "boolean", "ip.is_frag && !ip.later_frag");

// ARP and RARP (same storage as ARP).
predicate("arp", "nominal", "eth.type == 0x806");
fieldSym("arp.op", "nw_proto", 16, "nominal", { prereqs: "arp" });
fieldSym("arp.spa", "nw_src", 32, "ordinal", { prereqs: "arp" });
fieldSym("arp.sha", "arp_sha", 48, "ordinal", { prereqs: "arp" });
fieldSym("arp.tpa", "nw_dst", 32, "ordinal", { prereqs: "arp" });
fieldSym("arp.tha", "arp_tha", 48, "ordinal", { prereqs: "arp" });
predicate("rarp", "nominal", "eth.type == 0x8035");
fieldSym("rarp.op", "nw_proto", 16, "nominal", { prereqs: "rarp" });
fieldSym("rarp.spa", "nw_src", 32, "ordinal", { prereqs: "rarp" });
fieldSym("rarp.sha", "arp_sha", 48, "ordinal", { prereqs: "rarp" });
fieldSym("rarp.tpa", "nw_dst", 32, "ordinal", { prereqs: "rarp" });
fieldSym("rarp.tha", "arp_tha", 48, "ordinal", { prereqs: "rarp" });

// IPv6 neighbour discovery and MLD.
predicate("nd", "nominal", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255");
predicate("nd_ns", "nominal", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255");
predicate("nd_na", "nominal", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255");
predicate("nd_rs", "nominal", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255");
predicate("nd_ra", "nominal", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255");
fieldSym("nd.target", "nd_target", 128, "ordinal", { prereqs: "nd" });
fieldSym("nd.sll", "arp_sha", 48, "ordinal", { prereqs: "nd_ns" });
fieldSym("nd.tll", "arp_tha", 48, "ordinal", { prereqs: "nd_na" });
predicate("mldv1", "nominal", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}");
predicate("mldv2", "nominal", "ip6.dst == ff02::16 && icmp6.type == 143");

// Transport.
predicate("tcp", "nominal", "ip.proto == 6");
fieldSym("tcp.src", "tp_src", 16, "ordinal", { prereqs: "tcp" });
fieldSym("tcp.dst", "tp_dst", 16, "ordinal", { prereqs: "tcp" });
fieldSym("tcp.flags", "tcp_flags", 12, "ordinal", { prereqs: "tcp", writable: "no" });
predicate("udp", "nominal", "ip.proto == 17");
fieldSym("udp.src", "tp_src", 16, "ordinal", { prereqs: "udp" });
fieldSym("udp.dst", "tp_dst", 16, "ordinal", { prereqs: "udp" });
predicate("sctp", "nominal", "ip.proto == 132");
fieldSym("sctp.src", "tp_src", 16, "ordinal", { prereqs: "sctp" });
fieldSym("sctp.dst", "tp_dst", 16, "ordinal", { prereqs: "sctp" });

fieldSym("pkt.mark", "pkt_mark", 32, "ordinal");

// Extensions: the original-direction conntrack tuple (OVS's ct_nw_src and friends).
fieldSym("ct_proto", "ct_nw_proto", 8, "nominal", { prereqs: "ct.trk", writable: "no", origin: "extension" });
fieldSym("ct_nw_src", "ct_nw_src", 32, "ordinal", { prereqs: "ct.trk && ip4", writable: "no", origin: "extension" });
fieldSym("ct_nw_dst", "ct_nw_dst", 32, "ordinal", { prereqs: "ct.trk && ip4", writable: "no", origin: "extension" });
fieldSym("ct_ip6_src", "ct_ipv6_src", 128, "ordinal", { prereqs: "ct.trk && ip6", writable: "no", origin: "extension" });
fieldSym("ct_ip6_dst", "ct_ipv6_dst", 128, "ordinal", { prereqs: "ct.trk && ip6", writable: "no", origin: "extension" });
fieldSym("ct_tp_src", "ct_tp_src", 16, "ordinal", { prereqs: "ct.trk", writable: "no", origin: "extension" });
fieldSym("ct_tp_dst", "ct_tp_dst", 16, "ordinal", { prereqs: "ct.trk", writable: "no", origin: "extension" });

/** OVN's logical-field symbol table (plus the extensions above). */
export const SYMBOLS: SymbolTable = table;

/** A field or subfield symbol resolved down to its layout storage. */
export interface ResolvedBits {
  /** The root field symbol. */
  readonly root: FieldSymbol;
  /** Offset of the symbol's bit 0 within the root symbol. */
  readonly ofs: number;
}

/** Follows subfield parents to the root field; `undefined` for strings and predicates. */
export function resolveToRoot(symbols: SymbolTable, s: ExprSymbol): ResolvedBits | undefined {
  let ofs = 0;
  let cur: ExprSymbol | undefined = s;
  for (let guard = 0; cur && guard < 64; guard++) {
    if (cur.kind === "field") return { root: cur, ofs };
    if (cur.kind !== "subfield") return undefined;
    ofs += cur.parentOfs;
    cur = symbols.get(cur.parent);
  }
  return undefined;
}

/** The symbol's definition in OVN's `ovstest test-ovn dump-symtab` style, e.g. `reg0 = xxreg0[96..127]`. */
export function describeSymbol(s: ExprSymbol): string {
  switch (s.kind) {
    case "field":
      return `${s.name} = ${s.layout}${s.layoutOfs !== 0 || s.bits !== FIELDS.get(s.layout)?.width ? `[${s.layoutOfs}..${s.layoutOfs + s.bits - 1}]` : ""}`;
    case "subfield":
      return `${s.name} = ${s.parent}[${s.width === 1 ? s.parentOfs : `${s.parentOfs}..${s.parentOfs + s.width - 1}`}]`;
    case "string":
      return `${s.name} = ${s.layout} (string)`;
    case "predicate":
      return `${s.name} = ${s.expansion}`;
    default: {
      const _never: never = s;
      return _never;
    }
  }
}
