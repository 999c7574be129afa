/**
 * Text form of matches, in the style of `ovs-ofctl dump-flows`: `tcp,reg14=0x1,nw_src=10.0.0.0/8,tp_dst=80`.
 *
 * The form is stable (fields in layout order), so it suits golden files and test expectations.
 * `parseMatch` reads back what `formatMatch` writes, and accepts the same field names with or
 * without the protocol shorthands (`ip`, `tcp`, `arp`, `ipv6`, ...). Field names follow OVS where
 * OVS has a name (`dl_src`, `nw_src`, `arp_spa`, `icmp_type`, `tp_dst`, `reg14`, `ct_state`); the
 * rest use the layout's names. Not for hot paths.
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parseMac } from "../base/index.js";
import { CT_STATE_NAMES, FIELDS, type FieldDef, field } from "./layout.js";
import { catchAll, constrainWide, type Match } from "./match.js";

/** How a field's value is written: MAC, IPv4, IPv6, decimal, hex, or conntrack state flags. */
export type FieldValueKind = "mac" | "ip4" | "ip6" | "dec" | "hex" | "ct_state";
type Kind = FieldValueKind;

const KIND: Record<string, Kind> = {
  eth_src: "mac",
  eth_dst: "mac",
  arp_sha: "mac",
  arp_tha: "mac",
  nw_src: "ip4",
  nw_dst: "ip4",
  tun_src: "ip4",
  tun_dst: "ip4",
  ct_nw_src: "ip4",
  ct_nw_dst: "ip4",
  ipv6_src: "ip6",
  ipv6_dst: "ip6",
  nd_target: "ip6",
  ct_ipv6_src: "ip6",
  ct_ipv6_dst: "ip6",
  tp_src: "dec",
  tp_dst: "dec",
  nw_proto: "dec",
  nw_ttl: "dec",
  nw_tos: "dec",
  ct_nw_proto: "dec",
  ct_tp_src: "dec",
  ct_tp_dst: "dec",
  in_port: "dec",
  ct_state: "ct_state",
};

/** How `ovs-ofctl` writes the value of the layout field `name` (hex for anything not listed). */
export function fieldValueKind(name: string): FieldValueKind {
  return KIND[name] ?? "hex";
}

/** OVS display names where they differ from the layout's. */
const OVS_NAME: Record<string, string> = { eth_src: "dl_src", eth_dst: "dl_dst", eth_type: "dl_type" };
const FROM_OVS_NAME: Record<string, string> = {
  dl_src: "eth_src",
  dl_dst: "eth_dst",
  dl_type: "eth_type",
  eth_src: "eth_src",
  eth_dst: "eth_dst",
  eth_type: "eth_type",
  arp_spa: "nw_src",
  arp_tpa: "nw_dst",
  arp_op: "nw_proto",
  icmp_type: "tp_src",
  icmp_code: "tp_dst",
  icmpv6_type: "tp_src",
  icmpv6_code: "tp_dst",
  nd_sll: "arp_sha",
  nd_tll: "arp_tha",
};

const SHORTHANDS: Record<string, { ethType: number; proto?: number }> = {
  ip: { ethType: 0x0800 },
  tcp: { ethType: 0x0800, proto: 6 },
  udp: { ethType: 0x0800, proto: 17 },
  icmp: { ethType: 0x0800, proto: 1 },
  sctp: { ethType: 0x0800, proto: 132 },
  ipv6: { ethType: 0x86dd },
  tcp6: { ethType: 0x86dd, proto: 6 },
  udp6: { ethType: 0x86dd, proto: 17 },
  icmp6: { ethType: 0x86dd, proto: 58 },
  sctp6: { ethType: 0x86dd, proto: 132 },
  arp: { ethType: 0x0806 },
};

/** Canonical fields to print: no register aliases, no bookkeeping word. */
// Not printed: register aliases, the parse word, and `nd_reserved` (the TCP flags' word of an ND
// message, which no OVN match reads).
const PRINTED: readonly FieldDef[] = [...FIELDS.values()].filter((d) => !/^x+reg/.test(d.name) && d.name !== "parse" && d.name !== "nd_reserved").sort((a, b) => a.word - b.word || b.shift - a.shift);

function readWords(arr: Uint32Array, d: FieldDef): number[] {
  if (d.nwords === 1) return [d.width === 32 ? arr[d.word]! : (arr[d.word]! >>> d.shift) & ((1 << d.width) - 1)];
  const out: number[] = [];
  for (let i = 0; i < d.nwords; i++) out.push(arr[d.word + i]!);
  return out;
}

function allOnes(d: FieldDef, words: readonly number[]): boolean {
  if (d.nwords === 1) return words[0] === (d.width === 32 ? 0xffffffff : (1 << d.width) - 1);
  const top = d.width % 32 === 0 ? 0xffffffff : (1 << d.width % 32) - 1;
  return words.every((w, i) => w === (i === 0 ? top : 0xffffffff));
}

function wordsToBytes(words: readonly number[], nBytes: number): Uint8Array {
  const out = new Uint8Array(nBytes);
  let pos = nBytes - 1;
  for (let i = words.length - 1; i >= 0 && pos >= 0; i--) {
    let w = words[i]!;
    for (let b = 0; b < 4 && pos >= 0; b++) {
      out[pos--] = w & 0xff;
      w >>>= 8;
    }
  }
  return out;
}

function prefixLen(bytes: Uint8Array): number | undefined {
  let n = 0;
  let i = 0;
  for (; i < bytes.length && bytes[i] === 0xff; i++) n += 8;
  if (i < bytes.length) {
    const b = bytes[i]!;
    let bits = 0;
    while (bits < 8 && (b << bits) & 0x80) bits++;
    if (((b << bits) & 0xff) !== 0) return undefined;
    n += bits;
    for (i++; i < bytes.length; i++) if (bytes[i] !== 0) return undefined;
  }
  return n;
}

function hexWords(d: FieldDef, words: readonly number[]): string {
  if (d.nwords === 1) return "0x" + words[0]!.toString(16);
  let s = "";
  for (const w of words) s += w.toString(16).padStart(8, "0");
  s = s.replace(/^0+(?=.)/, "");
  return "0x" + s;
}

function formatValue(d: FieldDef, kind: Kind, v: readonly number[], m: readonly number[]): string {
  const full = allOnes(d, m);
  switch (kind) {
    case "mac": {
      const fmt = (w: readonly number[]) => [...wordsToBytes(w, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
      return full ? fmt(v) : `${fmt(v)}/${fmt(m)}`;
    }
    case "ip4": {
      if (full) return formatIpv4(v[0]!);
      const p = prefixLen(wordsToBytes(m, 4));
      return p !== undefined ? `${formatIpv4(v[0]!)}/${p}` : `${formatIpv4(v[0]!)}/${formatIpv4(m[0]!)}`;
    }
    case "ip6": {
      const vb = wordsToBytes(v, 16);
      if (full) return formatIpv6(vb);
      const mb = wordsToBytes(m, 16);
      const p = prefixLen(mb);
      return p !== undefined ? `${formatIpv6(vb)}/${p}` : `${formatIpv6(vb)}/${formatIpv6(mb)}`;
    }
    case "dec":
      return full ? String(v[0]) : `${v[0]}/0x${m[0]!.toString(16)}`;
    case "ct_state": {
      let s = "";
      for (const [name, bit] of CT_STATE_NAMES) if (m[0]! & bit) s += (v[0]! & bit ? "+" : "-") + name;
      const rest = m[0]! & ~0xff;
      return rest ? `${s}/0x${rest.toString(16)}` : s;
    }
    case "hex":
      return full ? hexWords(d, v) : `${hexWords(d, v)}/${hexWords(d, m)}`;
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}

/** Formats a match as `ovs-ofctl` would print it (fields in layout order). */
export function formatMatch(match: Match): string {
  const parts: string[] = [];
  const et = field("eth_type");
  const proto = field("nw_proto");
  const etExact = match.mask[et.word]! & 0xffff ? (match.mask[et.word]! & 0xffff) === 0xffff : false;
  const ethType = etExact ? match.value[et.word]! & 0xffff : undefined;
  const protoExact = (match.mask[proto.word]! & 0xff) === 0xff;
  const protoVal = match.value[proto.word]! & 0xff;
  let skipEt = false;
  let skipProto = false;
  for (const [name, sh] of Object.entries(SHORTHANDS)) {
    if (ethType === sh.ethType && sh.proto === undefined && !(ethType !== 0x0806 && protoExact && Object.values(SHORTHANDS).some((x) => x.ethType === ethType && x.proto === protoVal))) {
      parts.push(name);
      skipEt = true;
      break;
    }
    if (ethType === sh.ethType && sh.proto !== undefined && protoExact && protoVal === sh.proto) {
      parts.push(name);
      skipEt = true;
      skipProto = true;
      break;
    }
  }
  const isArp = ethType === 0x0806;
  const isIcmp = (ethType === 0x0800 || ethType === 0x86dd) && protoExact && (protoVal === 1 || protoVal === 58);
  for (const d of PRINTED) {
    if ((d === et && skipEt) || (d === proto && skipProto)) continue;
    const m = readWords(match.mask, d);
    if (m.every((w) => w === 0)) continue;
    const v = readWords(match.value, d);
    let name = OVS_NAME[d.name] ?? d.name;
    if (isArp && d.name === "nw_src") name = "arp_spa";
    if (isArp && d.name === "nw_dst") name = "arp_tpa";
    if (isArp && d.name === "nw_proto") name = "arp_op";
    if (isIcmp && d.name === "tp_src") name = protoVal === 58 ? "icmpv6_type" : "icmp_type";
    if (isIcmp && d.name === "tp_dst") name = protoVal === 58 ? "icmpv6_code" : "icmp_code";
    const kind: Kind = KIND[d.name] ?? (d.name === "eth_type" ? "hex" : "hex");
    parts.push(`${name}=${formatValue(d, kind, v, m)}`);
  }
  return parts.length ? parts.join(",") : "(any)";
}

function fullMaskWords(d: FieldDef): number[] {
  if (d.nwords === 1) return [d.width === 32 ? 0xffffffff : (1 << d.width) - 1];
  const top = d.width % 32 === 0 ? 0xffffffff : (1 << d.width % 32) - 1;
  return Array.from({ length: d.nwords }, (_, i) => (i === 0 ? top : 0xffffffff) >>> 0);
}

function bytesToWords(b: Uint8Array, nwords: number): number[] {
  const out = new Array<number>(nwords).fill(0);
  let pos = b.length - 1;
  for (let i = nwords - 1; i >= 0 && pos >= 0; i--) {
    let w = 0;
    for (let k = 0; k < 4 && pos >= 0; k++) w |= b[pos--]! << (8 * k);
    out[i] = w >>> 0;
  }
  return out;
}

function prefixBytes(len: number, nBytes: number): Uint8Array {
  const out = new Uint8Array(nBytes);
  for (let bit = 0; bit < len; bit++) out[bit >>> 3]! |= 0x80 >>> (bit & 7);
  return out;
}

function parseHexWords(text: string, nwords: number): number[] | undefined {
  if (!/^0x[0-9a-fA-F]+$/.test(text) && !/^\d+$/.test(text)) return undefined;
  let big: bigint;
  try {
    big = BigInt(text);
  } catch {
    return undefined;
  }
  const out = new Array<number>(nwords).fill(0);
  for (let i = nwords - 1; i >= 0; i--) {
    out[i] = Number(big & 0xffffffffn);
    big >>= 32n;
  }
  return big === 0n ? out : undefined;
}

function parseValue(d: FieldDef, kind: Kind, text: string): { v: number[]; m: number[] } | undefined {
  const slash = text.indexOf("/");
  const vt = slash >= 0 ? text.slice(0, slash) : text;
  const mt = slash >= 0 ? text.slice(slash + 1) : undefined;
  switch (kind) {
    case "mac": {
      const v = parseMac(vt);
      const m = mt === undefined ? undefined : parseMac(mt);
      if (!v || (mt !== undefined && !m)) return undefined;
      return { v: bytesToWords(v, 2), m: m ? bytesToWords(m, 2) : fullMaskWords(d) };
    }
    case "ip4": {
      const v = parseIpv4(vt);
      if (v === undefined) return undefined;
      if (mt === undefined) return { v: [v], m: [0xffffffff] };
      const m = /^\d+$/.test(mt) ? (Number(mt) <= 32 ? bytesToWords(prefixBytes(Number(mt), 4), 1)[0] : undefined) : parseIpv4(mt);
      return m === undefined ? undefined : { v: [v], m: [m] };
    }
    case "ip6": {
      const v = parseIpv6(vt);
      if (!v) return undefined;
      if (mt === undefined) return { v: bytesToWords(v, 4), m: fullMaskWords(d) };
      const m = /^\d+$/.test(mt) ? (Number(mt) <= 128 ? prefixBytes(Number(mt), 16) : undefined) : parseIpv6(mt);
      return m ? { v: bytesToWords(v, 4), m: bytesToWords(m, 4) } : undefined;
    }
    case "ct_state": {
      let v = 0;
      let m = 0;
      const re = /([+-])([a-z]+)/g;
      let consumed = 0;
      for (const mm of vt.matchAll(re)) {
        const bit = CT_STATE_NAMES.find(([n]) => n === mm[2])?.[1];
        if (bit === undefined) return undefined;
        m |= bit;
        if (mm[1] === "+") v |= bit;
        consumed += mm[0].length;
      }
      if (consumed !== vt.length) return undefined;
      return { v: [v], m: [m] };
    }
    case "dec":
    case "hex": {
      const v = parseHexWords(vt, d.nwords);
      const m = mt === undefined ? fullMaskWords(d) : parseHexWords(mt, d.nwords);
      return v && m ? { v, m } : undefined;
    }
    default: {
      const _never: never = kind;
      return _never;
    }
  }
}

/**
 * Parses the text `formatMatch` writes. Returns the match, or a message naming the first part that
 * could not be read.
 */
export function parseMatch(text: string): { ok: true; match: Match } | { ok: false; message: string } {
  const m = catchAll();
  if (text.trim() === "(any)" || text.trim() === "") return { ok: true, match: m };
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const sh = SHORTHANDS[part];
    if (sh) {
      if (!constrainWide(m, field("eth_type"), [sh.ethType], [0xffff])) return { ok: false, message: `'${part}' contradicts an earlier field` };
      if (sh.proto !== undefined && !constrainWide(m, field("nw_proto"), [sh.proto], [0xff])) return { ok: false, message: `'${part}' contradicts an earlier field` };
      continue;
    }
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, message: `expected name=value or a protocol name, found '${part}'` };
    const name = part.slice(0, eq);
    const internal = FROM_OVS_NAME[name] ?? name;
    const d = FIELDS.get(internal);
    if (!d) return { ok: false, message: `unknown field '${name}'` };
    const kind: Kind = KIND[d.name] ?? "hex";
    const pv = parseValue(d, kind, part.slice(eq + 1));
    if (!pv) return { ok: false, message: `bad value for ${name}: '${part.slice(eq + 1)}'` };
    for (let i = 0; i < pv.v.length; i++) pv.v[i] = (pv.v[i]! & pv.m[i]!) >>> 0;
    if (!constrainWide(m, d, pv.v, pv.m)) return { ok: false, message: `'${part}' contradicts an earlier field` };
  }
  return { ok: true, match: m };
}
