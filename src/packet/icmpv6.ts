/**
 * ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861).
 *
 * What: the 4-byte type/code/checksum header plus the 4 type-specific bytes (`rest`), and for the
 * ND messages the body that follows: the target address of a Neighbor Solicitation (135) or
 * Advertisement (136), the reachable-time and retransmit-timer words of a Router Advertisement
 * (134), and the TLV options (source/target link-layer address, prefix information, MTU, ...) of
 * all of them, Router Solicitation (133) included. Other types carry everything after byte 8 as
 * payload (echo data, the quoted packet of an error message).
 *
 * Options are kept as `{ type, data }`, `data` being every byte after the type and length bytes,
 * so `2 + data.length` is a multiple of 8. An ND body whose options do not parse (zero length, or
 * running past the message) is rejected by `parseIcmpv6` with a diagnostic; callers can then fall
 * back to the 8-byte header with `parseIcmpv6Header`.
 */
import { formatMac, getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { copyIn, copyOut, failWith, malformedDiag, truncatedDiag } from "./wire.js";

export const ICMPV6_HEADER_LEN = 8;

/** ICMPv6 message types (open set). */
export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
  MLD2_REPORT: 143,
} as const;
export type Icmpv6Type = (typeof Icmpv6Type)[keyof typeof Icmpv6Type] | number;

const ICMPV6_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [Icmpv6Type.DEST_UNREACHABLE, "destination unreachable"],
  [Icmpv6Type.PACKET_TOO_BIG, "packet too big"],
  [Icmpv6Type.TIME_EXCEEDED, "time exceeded"],
  [Icmpv6Type.PARAMETER_PROBLEM, "parameter problem"],
  [Icmpv6Type.ECHO_REQUEST, "echo request"],
  [Icmpv6Type.ECHO_REPLY, "echo reply"],
  [Icmpv6Type.MLD_QUERY, "multicast listener query"],
  [Icmpv6Type.MLD_REPORT, "multicast listener report"],
  [Icmpv6Type.MLD_DONE, "multicast listener done"],
  [Icmpv6Type.ROUTER_SOLICIT, "router solicitation"],
  [Icmpv6Type.ROUTER_ADVERT, "router advertisement"],
  [Icmpv6Type.NEIGHBOR_SOLICIT, "neighbor solicitation"],
  [Icmpv6Type.NEIGHBOR_ADVERT, "neighbor advertisement"],
  [Icmpv6Type.REDIRECT, "redirect"],
  [Icmpv6Type.MLD2_REPORT, "multicast listener report v2"],
]);

export function icmpv6TypeName(t: number): string {
  return ICMPV6_TYPE_NAMES.get(t) ?? `type ${t}`;
}

/** True for the error types (1-4), whose payload quotes the offending packet. */
export function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

/** ND option types (open set). */
export const NdOptionType = {
  SOURCE_LL_ADDR: 1,
  TARGET_LL_ADDR: 2,
  PREFIX_INFO: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
} as const;
export type NdOptionType = (typeof NdOptionType)[keyof typeof NdOptionType] | number;

/** Neighbor Advertisement flag bits in `rest`. */
export const NaFlag = { ROUTER: 0x80000000, SOLICITED: 0x40000000, OVERRIDE: 0x20000000 } as const;

export interface NdOption {
  readonly type: NdOptionType;
  /** The bytes after type and length; `2 + data.length` is a multiple of 8. */
  readonly data: Uint8Array;
}

/** The ND body of a message: fields present depend on the type. */
export interface NdRepr {
  /** Target address (NS, NA). */
  readonly target?: Uint8Array;
  /** Reachable time and retransmit timer (RA). */
  readonly reachableTime?: number;
  readonly retransTimer?: number;
  readonly options: readonly NdOption[];
}

export interface Icmpv6Repr {
  readonly type: Icmpv6Type;
  readonly code: number;
  readonly checksum: number;
  /** Bytes 4-7: echo id << 16 | seq, NA flags, RA hop limit/flags/lifetime, MTU, pointer, ... */
  readonly rest: number;
  /** Present for RS, RA, NS and NA. */
  readonly nd?: NdRepr;
}

/** Size of the fixed ND body (after the 8-byte header) before options, or undefined if not ND. */
function ndFixedLen(type: number): number | undefined {
  switch (type) {
    case Icmpv6Type.ROUTER_SOLICIT:
      return 0;
    case Icmpv6Type.ROUTER_ADVERT:
      return 8;
    case Icmpv6Type.NEIGHBOR_SOLICIT:
    case Icmpv6Type.NEIGHBOR_ADVERT:
      return 16;
    default:
      return undefined;
  }
}

const F = { TYPE: 0, CODE: 1, CHECKSUM: 2, REST: 4, BODY: 8 } as const;

/** Zero-copy view of an ICMPv6 message; the window is the whole message. */
export class Icmpv6View {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** Checks the 8-byte header and, for ND types, the fixed body (target, timers). */
  checkLen(): Diagnostic | undefined {
    if (this.length < ICMPV6_HEADER_LEN) return truncatedDiag("ICMPv6 header", ICMPV6_HEADER_LEN, this.length, this.offset);
    const fixed = ndFixedLen(this.type);
    if (fixed !== undefined && this.length < ICMPV6_HEADER_LEN + fixed) {
      return truncatedDiag(`ICMPv6 ${icmpv6TypeName(this.type)}`, ICMPV6_HEADER_LEN + fixed, this.length, this.offset);
    }
    return undefined;
  }

  get type(): number {
    return this.bytes[this.offset + F.TYPE]!;
  }
  set type(v: number) {
    this.bytes[this.offset + F.TYPE] = v;
  }
  get code(): number {
    return this.bytes[this.offset + F.CODE]!;
  }
  set code(v: number) {
    this.bytes[this.offset + F.CODE] = v;
  }
  get checksum(): number {
    return getU16(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.bytes, this.offset + F.CHECKSUM, v);
  }
  get rest(): number {
    return getU32(this.bytes, this.offset + F.REST);
  }
  set rest(v: number) {
    setU32(this.bytes, this.offset + F.REST, v);
  }
  /** Target address of NS/NA (subarray); only valid for those types after `checkLen()`. */
  target(): Uint8Array {
    return this.bytes.subarray(this.offset + F.BODY, this.offset + F.BODY + 16);
  }
  /** Offset of the first ND option, for ND types. */
  get optionsOffset(): number {
    return this.offset + F.BODY + (ndFixedLen(this.type) ?? 0);
  }
}

/** Parses the 8-byte header only (no ND body). */
export function parseIcmpv6Header(v: Icmpv6View): Result<Icmpv6Repr> {
  if (v.length < ICMPV6_HEADER_LEN) return failWith(truncatedDiag("ICMPv6 header", ICMPV6_HEADER_LEN, v.length, v.offset));
  return ok({ type: v.type, code: v.code, checksum: v.checksum, rest: v.rest });
}

/** Parses ND options in `[off, end)`. */
function parseNdOptions(b: Uint8Array, off: number, end: number): Result<NdOption[]> {
  const out: NdOption[] = [];
  while (off < end) {
    if (end - off < 2) return failWith(truncatedDiag("ND option", 2, end - off, off));
    const len = b[off + 1]! * 8;
    if (len === 0) return failWith(malformedDiag(`ND option with length 0 at offset ${off}`, off));
    if (off + len > end) return failWith(truncatedDiag("ND option", len, end - off, off));
    out.push({ type: b[off]!, data: copyOut(b, off + 2, len - 2) });
    off += len;
  }
  return ok(out);
}

/** Parses the header and, for RS/RA/NS/NA, the ND body and options up to the window's end. */
export function parseIcmpv6(v: Icmpv6View): Result<Icmpv6Repr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  const base = { type: v.type, code: v.code, checksum: v.checksum, rest: v.rest };
  const fixed = ndFixedLen(v.type);
  if (fixed === undefined) return ok(base);
  const opts = parseNdOptions(v.bytes, v.optionsOffset, v.offset + v.length);
  if (!opts.ok) return opts;
  let nd: NdRepr;
  switch (v.type) {
    case Icmpv6Type.ROUTER_ADVERT:
      nd = { reachableTime: getU32(v.bytes, v.offset + F.BODY), retransTimer: getU32(v.bytes, v.offset + F.BODY + 4), options: opts.value };
      break;
    case Icmpv6Type.NEIGHBOR_SOLICIT:
    case Icmpv6Type.NEIGHBOR_ADVERT:
      nd = { target: copyOut(v.bytes, v.offset + F.BODY, 16), options: opts.value };
      break;
    default:
      nd = { options: opts.value };
  }
  return ok({ ...base, nd });
}

export function icmpv6HeaderLen(repr: Icmpv6Repr): number {
  let n = ICMPV6_HEADER_LEN;
  if (repr.nd) {
    if (repr.nd.target) n += 16;
    if (repr.nd.reachableTime !== undefined || repr.nd.retransTimer !== undefined) n += 8;
    for (const o of repr.nd.options) n += 2 + o.data.length;
  }
  return n;
}

export function emitIcmpv6(repr: Icmpv6Repr, bytes: Uint8Array, offset: number): void {
  const v = new Icmpv6View(bytes, offset, ICMPV6_HEADER_LEN);
  v.type = repr.type;
  v.code = repr.code;
  v.checksum = repr.checksum;
  v.rest = repr.rest;
  if (!repr.nd) return;
  let off = offset + F.BODY;
  if (repr.nd.reachableTime !== undefined || repr.nd.retransTimer !== undefined) {
    setU32(bytes, off, repr.nd.reachableTime ?? 0);
    setU32(bytes, off + 4, repr.nd.retransTimer ?? 0);
    off += 8;
  }
  if (repr.nd.target) {
    copyIn(bytes, off, repr.nd.target);
    off += 16;
  }
  for (const o of repr.nd.options) {
    bytes[off] = o.type;
    bytes[off + 1] = (2 + o.data.length) >>> 3;
    copyIn(bytes, off + 2, o.data);
    off += 2 + o.data.length;
  }
}

/** The first link-layer address option of `type` (1 source, 2 target) with a 6-byte MAC. */
export function ndLinkLayerAddr(repr: Icmpv6Repr, type: 1 | 2): Uint8Array | undefined {
  for (const o of repr.nd?.options ?? []) if (o.type === type && o.data.length >= 6) return o.data.subarray(0, 6);
  return undefined;
}

/** A link-layer address option carrying a MAC (padded to 8 bytes). */
export function ndLinkLayerOption(type: 1 | 2, mac: Uint8Array): NdOption {
  const data = new Uint8Array(6);
  data.set(mac.subarray(0, 6));
  return { type, data };
}

/** NA flags decoded from `rest`. */
export function naFlags(repr: Icmpv6Repr): { router: boolean; solicited: boolean; override: boolean } {
  return {
    router: (repr.rest & NaFlag.ROUTER) !== 0,
    solicited: (repr.rest & NaFlag.SOLICITED) !== 0,
    override: (repr.rest & NaFlag.OVERRIDE) !== 0,
  };
}

/** Short text for an ND option (`sll 00:11:22:33:44:55`, `opt 3 len 32`). */
export function formatNdOption(o: NdOption): string {
  if ((o.type === NdOptionType.SOURCE_LL_ADDR || o.type === NdOptionType.TARGET_LL_ADDR) && o.data.length >= 6) {
    return `${o.type === NdOptionType.SOURCE_LL_ADDR ? "sll" : "tll"} ${formatMac(o.data)}`;
  }
  return `opt ${o.type} len ${2 + o.data.length}`;
}
