/**
 * The IP Authentication Header (RFC 4302), walked generically by its length.
 *
 * What: AH sits between an IPv4 or IPv6 header and the protected payload (which is not encrypted,
 * unlike ESP), so a decoder can step over it: next header (1 byte), payload length (in 4-byte
 * units, minus 2), 2 reserved bytes, SPI, sequence number, then the integrity check value. The
 * repr keeps the ICV raw; nothing here verifies it.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import type { IpProto } from "./ip-proto.js";
import { copyIn, copyOut, failWith, malformedDiag, truncatedDiag } from "./wire.js";

export const AH_MIN_LEN = 12;

const F = { NEXT_HEADER: 0, PAYLOAD_LEN: 1, RESERVED: 2, SPI: 4, SEQ: 8, ICV: 12 } as const;

export class AhView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < AH_MIN_LEN) return truncatedDiag("AH header", AH_MIN_LEN, this.length, this.offset);
    const hl = this.headerLen;
    if (hl < AH_MIN_LEN) return malformedDiag(`AH length ${hl} < 12 at offset ${this.offset}`, this.offset);
    if (this.length < hl) return truncatedDiag("AH header", hl, this.length, this.offset);
    return undefined;
  }

  get nextHeader(): number {
    return this.bytes[this.offset + F.NEXT_HEADER]!;
  }
  /** The payload-length byte: header length in 4-byte units, minus 2. */
  get payloadLen(): number {
    return this.bytes[this.offset + F.PAYLOAD_LEN]!;
  }
  get headerLen(): number {
    return (this.payloadLen + 2) * 4;
  }
  get reserved(): number {
    return getU16(this.bytes, this.offset + F.RESERVED);
  }
  get spi(): number {
    return getU32(this.bytes, this.offset + F.SPI);
  }
  get seq(): number {
    return getU32(this.bytes, this.offset + F.SEQ);
  }
}

export interface AhRepr {
  readonly nextHeader: IpProto;
  readonly reserved: number;
  readonly spi: number;
  readonly seq: number;
  /** Integrity check value (length a multiple of 4). */
  readonly icv: Uint8Array;
}

export function parseAh(v: AhView): Result<AhRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({
    nextHeader: v.nextHeader,
    reserved: v.reserved,
    spi: v.spi,
    seq: v.seq,
    icv: copyOut(v.bytes, v.offset + F.ICV, v.headerLen - AH_MIN_LEN),
  });
}

export function ahHeaderLen(repr: AhRepr): number {
  return AH_MIN_LEN + repr.icv.length;
}

export function emitAh(repr: AhRepr, bytes: Uint8Array, offset: number): void {
  bytes[offset + F.NEXT_HEADER] = repr.nextHeader;
  bytes[offset + F.PAYLOAD_LEN] = (ahHeaderLen(repr) >>> 2) - 2;
  setU16(bytes, offset + F.RESERVED, repr.reserved);
  setU32(bytes, offset + F.SPI, repr.spi);
  setU32(bytes, offset + F.SEQ, repr.seq);
  copyIn(bytes, offset + F.ICV, repr.icv);
}
