/**
 * IPv4 headers (RFC 791), options kept as raw bytes.
 *
 * What: `Ipv4View` over the header (20 bytes plus `4 * (IHL - 5)` bytes of options) and the plain
 * `Ipv4Repr`. The repr keeps every field as read, including the total length, the checksum and the
 * reserved flag bit, so that emitting a parsed repr gives back the same bytes; builders recompute
 * lengths and checksums only when asked (`build.ts`).
 *
 * Fragments: `fragOffset` is the 13-bit field in units of 8 bytes; `moreFrags` is MF. A packet
 * with a non-zero offset carries no transport header.
 *
 * `checkLen()` fails when the window is shorter than 20 bytes, when IHL is below 5 (malformed) or
 * when the window is shorter than IHL * 4. The version nibble is checked by `parseIpv4`.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import type { IpProto } from "./ip-proto.js";
import { copyIn, copyOut, failWith, malformedDiag, truncatedDiag } from "./wire.js";

export const IPV4_MIN_HEADER_LEN = 20;

const F = { VER_IHL: 0, DSCP_ECN: 1, LENGTH: 2, IDENT: 4, FLAGS_FRAG: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16, OPTIONS: 20 } as const;

/** Zero-copy view of an IPv4 header. */
export class Ipv4View {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < IPV4_MIN_HEADER_LEN) return truncatedDiag("IPv4 header", IPV4_MIN_HEADER_LEN, this.length, this.offset);
    const hl = this.headerLen;
    if (hl < IPV4_MIN_HEADER_LEN) return malformedDiag(`IPv4 header length ${hl} < 20 at offset ${this.offset}`, this.offset);
    if (this.length < hl) return truncatedDiag("IPv4 header with options", hl, this.length, this.offset);
    return undefined;
  }

  get version(): number {
    return this.bytes[this.offset + F.VER_IHL]! >>> 4;
  }
  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.bytes[this.offset + F.VER_IHL]! & 0x0f;
  }
  set ihl(v: number) {
    this.bytes[this.offset + F.VER_IHL] = 0x40 | (v & 0x0f);
  }
  /** Header length in bytes. */
  get headerLen(): number {
    return this.ihl * 4;
  }
  get dscp(): number {
    return this.bytes[this.offset + F.DSCP_ECN]! >>> 2;
  }
  get ecn(): number {
    return this.bytes[this.offset + F.DSCP_ECN]! & 3;
  }
  /** The whole former TOS byte (DSCP << 2 | ECN). */
  get tos(): number {
    return this.bytes[this.offset + F.DSCP_ECN]!;
  }
  set tos(v: number) {
    this.bytes[this.offset + F.DSCP_ECN] = v & 0xff;
  }
  get totalLength(): number {
    return getU16(this.bytes, this.offset + F.LENGTH);
  }
  set totalLength(v: number) {
    setU16(this.bytes, this.offset + F.LENGTH, v);
  }
  get ident(): number {
    return getU16(this.bytes, this.offset + F.IDENT);
  }
  set ident(v: number) {
    setU16(this.bytes, this.offset + F.IDENT, v);
  }
  /** The 16-bit flags + fragment offset word. */
  get flagsFrag(): number {
    return getU16(this.bytes, this.offset + F.FLAGS_FRAG);
  }
  set flagsFrag(v: number) {
    setU16(this.bytes, this.offset + F.FLAGS_FRAG, v);
  }
  get reservedFlag(): boolean {
    return (this.flagsFrag & 0x8000) !== 0;
  }
  get dontFrag(): boolean {
    return (this.flagsFrag & 0x4000) !== 0;
  }
  get moreFrags(): boolean {
    return (this.flagsFrag & 0x2000) !== 0;
  }
  /** Fragment offset in units of 8 bytes. */
  get fragOffset(): number {
    return this.flagsFrag & 0x1fff;
  }
  get ttl(): number {
    return this.bytes[this.offset + F.TTL]!;
  }
  set ttl(v: number) {
    this.bytes[this.offset + F.TTL] = v;
  }
  get protocol(): number {
    return this.bytes[this.offset + F.PROTOCOL]!;
  }
  set protocol(v: number) {
    this.bytes[this.offset + F.PROTOCOL] = v;
  }
  get checksum(): number {
    return getU16(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.bytes, this.offset + F.CHECKSUM, v);
  }
  get src(): number {
    return getU32(this.bytes, this.offset + F.SRC);
  }
  set src(v: number) {
    setU32(this.bytes, this.offset + F.SRC, v);
  }
  get dst(): number {
    return getU32(this.bytes, this.offset + F.DST);
  }
  set dst(v: number) {
    setU32(this.bytes, this.offset + F.DST, v);
  }
  /** The options area (subarray, possibly empty). */
  options(): Uint8Array {
    return this.bytes.subarray(this.offset + F.OPTIONS, this.offset + this.headerLen);
  }
}

export interface Ipv4Repr {
  readonly dscp: number;
  readonly ecn: number;
  /** Total length as carried (header + payload); builders may recompute it. */
  readonly totalLength: number;
  readonly ident: number;
  /** The reserved ("evil") flag bit, kept so that parsed headers re-emit unchanged. */
  readonly reservedFlag: boolean;
  readonly dontFrag: boolean;
  readonly moreFrags: boolean;
  /** Fragment offset in units of 8 bytes. */
  readonly fragOffset: number;
  readonly ttl: number;
  readonly protocol: IpProto;
  /** Header checksum as carried; builders may recompute it. */
  readonly checksum: number;
  readonly src: number;
  readonly dst: number;
  /** Raw options, a multiple of 4 bytes long (at most 40). */
  readonly options: Uint8Array;
}

export function parseIpv4(v: Ipv4View): Result<Ipv4Repr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  if (v.version !== 4) return failWith(malformedDiag(`IPv4 header with version ${v.version} at offset ${v.offset}`, v.offset));
  return ok({
    dscp: v.dscp,
    ecn: v.ecn,
    totalLength: v.totalLength,
    ident: v.ident,
    reservedFlag: v.reservedFlag,
    dontFrag: v.dontFrag,
    moreFrags: v.moreFrags,
    fragOffset: v.fragOffset,
    ttl: v.ttl,
    protocol: v.protocol,
    checksum: v.checksum,
    src: v.src,
    dst: v.dst,
    options: copyOut(v.bytes, v.offset + F.OPTIONS, v.headerLen - IPV4_MIN_HEADER_LEN),
  });
}

export function ipv4HeaderLen(repr: Ipv4Repr): number {
  return IPV4_MIN_HEADER_LEN + repr.options.length;
}

/** Writes the header (IHL derived from the options length) at `offset`. */
export function emitIpv4(repr: Ipv4Repr, bytes: Uint8Array, offset: number): void {
  const hl = ipv4HeaderLen(repr);
  const v = new Ipv4View(bytes, offset, hl);
  v.ihl = hl >>> 2;
  v.tos = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  v.totalLength = repr.totalLength;
  v.ident = repr.ident;
  v.flagsFrag = (repr.reservedFlag ? 0x8000 : 0) | (repr.dontFrag ? 0x4000 : 0) | (repr.moreFrags ? 0x2000 : 0) | (repr.fragOffset & 0x1fff);
  v.ttl = repr.ttl;
  v.protocol = repr.protocol;
  v.checksum = repr.checksum;
  v.src = repr.src;
  v.dst = repr.dst;
  copyIn(bytes, offset + F.OPTIONS, repr.options);
}

/** Offset of the checksum field inside the header (for in-place recomputation). */
export const IPV4_CHECKSUM_OFFSET = F.CHECKSUM;

/** True for a fragment other than the first (it carries no transport header). */
export function isLaterFragment(repr: Ipv4Repr): boolean {
  return repr.fragOffset !== 0;
}

/** A default repr for building: TTL 64, no options, DF clear; lengths and checksum to be fixed. */
export function ipv4Repr(src: number, dst: number, protocol: IpProto, fields: Partial<Ipv4Repr> = {}): Ipv4Repr {
  return {
    dscp: 0,
    ecn: 0,
    totalLength: 0,
    ident: 0,
    reservedFlag: false,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
    ttl: 64,
    checksum: 0,
    options: new Uint8Array(0),
    ...fields,
    protocol,
    src,
    dst,
  };
}
