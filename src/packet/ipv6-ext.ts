/**
 * IPv6 extension headers: Hop-by-Hop Options (0), Routing (43), Fragment (44) and Destination
 * Options (60). The Authentication Header (51) has its own length rule and lives in `ah.ts`.
 *
 * What: one view, `Ipv6ExtView`, that knows the length rule of each type (Fragment is always 8
 * bytes; the others are `8 * (Hdr Ext Len + 1)`), and a repr union discriminated by `kind`.
 * Options (Hop-by-Hop, Destination) and routing data stay raw bytes; the fragment header is split
 * into its fields. `jumboPayloadLength` reads the Jumbo Payload option (RFC 2675) that marks a
 * jumbogram or a Linux BIG TCP super-frame, whose IPv6 payload length is 0.
 *
 * Invariant: the header length of a repr is a multiple of 8, and `emitIpv6Ext` writes the length
 * byte from it.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { IpProto } from "./ip-proto.js";
import { copyIn, copyOut, failWith, truncatedDiag } from "./wire.js";

export type Ipv6ExtKind = "hop-by-hop" | "routing" | "fragment" | "destination-options";

/** The extension-header kind a next-header value opens, or undefined. */
export function ipv6ExtKindOf(nextHeader: number): Ipv6ExtKind | undefined {
  switch (nextHeader) {
    case IpProto.HOPOPT:
      return "hop-by-hop";
    case IpProto.IPV6_ROUTE:
      return "routing";
    case IpProto.IPV6_FRAG:
      return "fragment";
    case IpProto.IPV6_OPTS:
      return "destination-options";
    default:
      return undefined;
  }
}

/** The next-header value that announces an extension header of `kind`. */
export function ipv6ExtProto(kind: Ipv6ExtKind): number {
  switch (kind) {
    case "hop-by-hop":
      return IpProto.HOPOPT;
    case "routing":
      return IpProto.IPV6_ROUTE;
    case "fragment":
      return IpProto.IPV6_FRAG;
    case "destination-options":
      return IpProto.IPV6_OPTS;
    default: {
      const _: never = kind;
      return _;
    }
  }
}

export const IPV6_FRAGMENT_HEADER_LEN = 8;

const F = { NEXT_HEADER: 0, HDR_EXT_LEN: 1, ROUTING_TYPE: 2, SEGMENTS_LEFT: 3, FRAG_OFF: 2, FRAG_IDENT: 4 } as const;

/** Zero-copy view of one extension header of a known kind. */
export class Ipv6ExtView {
  readonly kind: Ipv6ExtKind;
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(kind: Ipv6ExtKind, bytes: Uint8Array, offset: number, length: number) {
    this.kind = kind;
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    const need = this.kind === "fragment" ? IPV6_FRAGMENT_HEADER_LEN : 2;
    if (this.length < need) return truncatedDiag(`IPv6 ${this.kind} header`, need, this.length, this.offset);
    if (this.length < this.headerLen) return truncatedDiag(`IPv6 ${this.kind} header`, this.headerLen, this.length, this.offset);
    return undefined;
  }

  get nextHeader(): number {
    return this.bytes[this.offset + F.NEXT_HEADER]!;
  }
  set nextHeader(v: number) {
    this.bytes[this.offset + F.NEXT_HEADER] = v;
  }
  /** The length byte (8-byte units beyond the first 8; reserved in a fragment header). */
  get hdrExtLen(): number {
    return this.bytes[this.offset + F.HDR_EXT_LEN]!;
  }
  set hdrExtLen(v: number) {
    this.bytes[this.offset + F.HDR_EXT_LEN] = v;
  }
  /** Length of the whole header in bytes. */
  get headerLen(): number {
    return this.kind === "fragment" ? IPV6_FRAGMENT_HEADER_LEN : (this.hdrExtLen + 1) * 8;
  }
  get routingType(): number {
    return this.bytes[this.offset + F.ROUTING_TYPE]!;
  }
  get segmentsLeft(): number {
    return this.bytes[this.offset + F.SEGMENTS_LEFT]!;
  }
  /** Fragment offset in 8-byte units (fragment header only). */
  get fragOffset(): number {
    return getU16(this.bytes, this.offset + F.FRAG_OFF) >>> 3;
  }
  get fragReserved2(): number {
    return (getU16(this.bytes, this.offset + F.FRAG_OFF) >>> 1) & 3;
  }
  get moreFrags(): boolean {
    return (getU16(this.bytes, this.offset + F.FRAG_OFF) & 1) !== 0;
  }
  get fragIdent(): number {
    return getU32(this.bytes, this.offset + F.FRAG_IDENT);
  }
}

export type Ipv6ExtRepr =
  | {
      readonly kind: "hop-by-hop" | "destination-options";
      readonly nextHeader: IpProto;
      /** The options area: every byte after the first two (length + 2 is a multiple of 8). */
      readonly options: Uint8Array;
    }
  | {
      readonly kind: "routing";
      readonly nextHeader: IpProto;
      readonly routingType: number;
      readonly segmentsLeft: number;
      /** Type-specific data: every byte after the first four. */
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "fragment";
      readonly nextHeader: IpProto;
      /** The reserved byte after next-header, kept as read. */
      readonly reserved: number;
      /** Fragment offset in 8-byte units. */
      readonly fragOffset: number;
      /** The two reserved bits before M, kept as read. */
      readonly reserved2: number;
      readonly moreFrags: boolean;
      readonly ident: number;
    };

export function parseIpv6Ext(v: Ipv6ExtView): Result<Ipv6ExtRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  const end = v.offset + v.headerLen;
  switch (v.kind) {
    case "hop-by-hop":
    case "destination-options":
      return ok({ kind: v.kind, nextHeader: v.nextHeader, options: copyOut(v.bytes, v.offset + 2, end - v.offset - 2) });
    case "routing":
      return ok({
        kind: "routing",
        nextHeader: v.nextHeader,
        routingType: v.routingType,
        segmentsLeft: v.segmentsLeft,
        data: copyOut(v.bytes, v.offset + 4, end - v.offset - 4),
      });
    case "fragment":
      return ok({
        kind: "fragment",
        nextHeader: v.nextHeader,
        reserved: v.hdrExtLen,
        fragOffset: v.fragOffset,
        reserved2: v.fragReserved2,
        moreFrags: v.moreFrags,
        ident: v.fragIdent,
      });
    default: {
      const _: never = v.kind;
      return _;
    }
  }
}

export function ipv6ExtHeaderLen(repr: Ipv6ExtRepr): number {
  switch (repr.kind) {
    case "hop-by-hop":
    case "destination-options":
      return 2 + repr.options.length;
    case "routing":
      return 4 + repr.data.length;
    case "fragment":
      return IPV6_FRAGMENT_HEADER_LEN;
    default: {
      const _: never = repr;
      return _;
    }
  }
}

/** Writes the header; the length byte is derived from the repr's size. */
export function emitIpv6Ext(repr: Ipv6ExtRepr, bytes: Uint8Array, offset: number): void {
  const len = ipv6ExtHeaderLen(repr);
  bytes[offset + F.NEXT_HEADER] = repr.nextHeader;
  switch (repr.kind) {
    case "hop-by-hop":
    case "destination-options":
      bytes[offset + F.HDR_EXT_LEN] = (len >>> 3) - 1;
      copyIn(bytes, offset + 2, repr.options);
      return;
    case "routing":
      bytes[offset + F.HDR_EXT_LEN] = (len >>> 3) - 1;
      bytes[offset + F.ROUTING_TYPE] = repr.routingType;
      bytes[offset + F.SEGMENTS_LEFT] = repr.segmentsLeft;
      copyIn(bytes, offset + 4, repr.data);
      return;
    case "fragment":
      bytes[offset + F.HDR_EXT_LEN] = repr.reserved;
      setU16(bytes, offset + F.FRAG_OFF, ((repr.fragOffset & 0x1fff) << 3) | ((repr.reserved2 & 3) << 1) | (repr.moreFrags ? 1 : 0));
      setU32(bytes, offset + F.FRAG_IDENT, repr.ident);
      return;
    default: {
      const _: never = repr;
      return _;
    }
  }
}

/** Option type of the Jumbo Payload option. */
export const IPV6_OPT_JUMBO = 0xc2;

/**
 * Walks Hop-by-Hop option TLVs and returns the Jumbo Payload length if present. Returns a
 * diagnostic-free `undefined` when absent or when the TLVs are malformed.
 */
export function jumboPayloadLength(options: Uint8Array): number | undefined {
  let i = 0;
  while (i < options.length) {
    const t = options[i]!;
    if (t === 0) {
      i++;
      continue;
    }
    if (i + 2 > options.length) return undefined;
    const l = options[i + 1]!;
    if (i + 2 + l > options.length) return undefined;
    if (t === IPV6_OPT_JUMBO && l === 4) return getU32(options, i + 2);
    i += 2 + l;
  }
  return undefined;
}

/**
 * Walks the option TLVs of a Hop-by-Hop or Destination Options area and returns a description of
 * the first one that runs past the area (relative offsets), or undefined when they tile it.
 */
export function checkIpv6OptionTlvs(options: Uint8Array): string | undefined {
  let i = 0;
  while (i < options.length) {
    if (options[i] === 0) {
      i++;
      continue;
    }
    if (i + 2 > options.length) return `option type ${options[i]} at byte ${i + 2} of the header has no length byte`;
    const l = options[i + 1]!;
    if (i + 2 + l > options.length) return `option type ${options[i]} at byte ${i + 2} of the header has length ${l}, past the header end`;
    i += 2 + l;
  }
  return undefined;
}
