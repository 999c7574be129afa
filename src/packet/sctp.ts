/**
 * SCTP common header (RFC 9260): ports, verification tag and the CRC32c checksum.
 *
 * Chunks after the 12-byte common header are payload here. The checksum is CRC32c over the whole
 * packet with the checksum field zeroed (`checksum.ts` computes it), stored in network byte order
 * as the RFC's reference code writes it.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { failWith, truncatedDiag } from "./wire.js";

export const SCTP_HEADER_LEN = 12;

const F = { SRC_PORT: 0, DST_PORT: 2, VTAG: 4, CHECKSUM: 8 } as const;

export class SctpView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < SCTP_HEADER_LEN) return truncatedDiag("SCTP header", SCTP_HEADER_LEN, this.length, this.offset);
    return undefined;
  }

  get srcPort(): number {
    return getU16(this.bytes, this.offset + F.SRC_PORT);
  }
  set srcPort(v: number) {
    setU16(this.bytes, this.offset + F.SRC_PORT, v);
  }
  get dstPort(): number {
    return getU16(this.bytes, this.offset + F.DST_PORT);
  }
  set dstPort(v: number) {
    setU16(this.bytes, this.offset + F.DST_PORT, v);
  }
  get verificationTag(): number {
    return getU32(this.bytes, this.offset + F.VTAG);
  }
  set verificationTag(v: number) {
    setU32(this.bytes, this.offset + F.VTAG, v);
  }
  get checksum(): number {
    return getU32(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU32(this.bytes, this.offset + F.CHECKSUM, v);
  }
}

export interface SctpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly verificationTag: number;
  /** CRC32c as carried (u32, the 4 bytes read big-endian). */
  readonly checksum: number;
}

export function parseSctp(v: SctpView): Result<SctpRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ srcPort: v.srcPort, dstPort: v.dstPort, verificationTag: v.verificationTag, checksum: v.checksum });
}

export function sctpHeaderLen(_repr: SctpRepr): number {
  return SCTP_HEADER_LEN;
}

export function emitSctp(repr: SctpRepr, bytes: Uint8Array, offset: number): void {
  const v = new SctpView(bytes, offset, SCTP_HEADER_LEN);
  v.srcPort = repr.srcPort;
  v.dstPort = repr.dstPort;
  v.verificationTag = repr.verificationTag;
  v.checksum = repr.checksum;
}

/** Offset of the checksum inside the header. */
export const SCTP_CHECKSUM_OFFSET = F.CHECKSUM;
