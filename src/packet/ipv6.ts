/**
 * IPv6 fixed header (RFC 8200). Extension headers are separate layers (`ipv6-ext.ts`, `ah.ts`).
 *
 * What: `Ipv6View` over the 40-byte header and the plain `Ipv6Repr`. Addresses are 16-byte arrays
 * in the repr; the view also reads them as four u32 words (`srcWord(i)`) so flow-key extraction
 * allocates nothing. `payloadLength` is kept as carried (0 in a jumbogram or a Linux BIG TCP
 * super-frame, where the real length comes from elsewhere).
 */
import { getU16, getU32, ok, setU16, type Diagnostic, type Result } from "../base/index.js";
import type { IpProto } from "./ip-proto.js";
import { copyIn, copyOut, failWith, malformedDiag, truncatedDiag } from "./wire.js";

export const IPV6_HEADER_LEN = 40;

const F = { VER_TC_FL: 0, PAYLOAD_LEN: 4, NEXT_HEADER: 6, HOP_LIMIT: 7, SRC: 8, DST: 24 } as const;

/** Zero-copy view of an IPv6 fixed header. */
export class Ipv6View {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < IPV6_HEADER_LEN) return truncatedDiag("IPv6 header", IPV6_HEADER_LEN, this.length, this.offset);
    return undefined;
  }

  get version(): number {
    return this.bytes[this.offset]! >>> 4;
  }
  get trafficClass(): number {
    return (getU16(this.bytes, this.offset) >>> 4) & 0xff;
  }
  get flowLabel(): number {
    return getU32(this.bytes, this.offset) & 0xfffff;
  }
  /** Writes version 6, the traffic class and the flow label. */
  setVersionClassLabel(trafficClass: number, flowLabel: number): void {
    const w = ((6 << 28) | ((trafficClass & 0xff) << 20) | (flowLabel & 0xfffff)) >>> 0;
    this.bytes[this.offset] = w >>> 24;
    this.bytes[this.offset + 1] = (w >>> 16) & 0xff;
    this.bytes[this.offset + 2] = (w >>> 8) & 0xff;
    this.bytes[this.offset + 3] = w & 0xff;
  }
  get payloadLength(): number {
    return getU16(this.bytes, this.offset + F.PAYLOAD_LEN);
  }
  set payloadLength(v: number) {
    setU16(this.bytes, this.offset + F.PAYLOAD_LEN, v);
  }
  get nextHeader(): number {
    return this.bytes[this.offset + F.NEXT_HEADER]!;
  }
  set nextHeader(v: number) {
    this.bytes[this.offset + F.NEXT_HEADER] = v;
  }
  get hopLimit(): number {
    return this.bytes[this.offset + F.HOP_LIMIT]!;
  }
  set hopLimit(v: number) {
    this.bytes[this.offset + F.HOP_LIMIT] = v;
  }
  /** Source address (subarray). */
  src(): Uint8Array {
    return this.bytes.subarray(this.offset + F.SRC, this.offset + F.SRC + 16);
  }
  setSrc(a: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.SRC, a);
  }
  /** Destination address (subarray). */
  dst(): Uint8Array {
    return this.bytes.subarray(this.offset + F.DST, this.offset + F.DST + 16);
  }
  setDst(a: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.DST, a);
  }
  /** Word `i` (0-3, most significant first) of the source address. */
  srcWord(i: number): number {
    return getU32(this.bytes, this.offset + F.SRC + 4 * i);
  }
  /** Word `i` (0-3) of the destination address. */
  dstWord(i: number): number {
    return getU32(this.bytes, this.offset + F.DST + 4 * i);
  }
}

export interface Ipv6Repr {
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Payload length as carried (extension headers included); builders may recompute it. */
  readonly payloadLength: number;
  readonly nextHeader: IpProto;
  readonly hopLimit: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

export function parseIpv6(v: Ipv6View): Result<Ipv6Repr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  if (v.version !== 6) return failWith(malformedDiag(`IPv6 header with version ${v.version} at offset ${v.offset}`, v.offset));
  return ok({
    trafficClass: v.trafficClass,
    flowLabel: v.flowLabel,
    payloadLength: v.payloadLength,
    nextHeader: v.nextHeader,
    hopLimit: v.hopLimit,
    src: copyOut(v.bytes, v.offset + F.SRC, 16),
    dst: copyOut(v.bytes, v.offset + F.DST, 16),
  });
}

export function ipv6HeaderLen(_repr: Ipv6Repr): number {
  return IPV6_HEADER_LEN;
}

export function emitIpv6(repr: Ipv6Repr, bytes: Uint8Array, offset: number): void {
  const v = new Ipv6View(bytes, offset, IPV6_HEADER_LEN);
  v.setVersionClassLabel(repr.trafficClass, repr.flowLabel);
  v.payloadLength = repr.payloadLength;
  v.nextHeader = repr.nextHeader;
  v.hopLimit = repr.hopLimit;
  v.setSrc(repr.src);
  v.setDst(repr.dst);
}

/** A default repr for building: hop limit 64; payload length to be fixed. */
export function ipv6Repr(src: Uint8Array, dst: Uint8Array, nextHeader: IpProto, fields: Partial<Ipv6Repr> = {}): Ipv6Repr {
  return { trafficClass: 0, flowLabel: 0, payloadLength: 0, hopLimit: 64, ...fields, nextHeader, src, dst };
}
