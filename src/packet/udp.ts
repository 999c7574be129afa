/**
 * UDP headers (RFC 768): ports, length and checksum.
 *
 * The length field covers header and payload; a checksum of 0 over IPv4 means "no checksum"
 * (over IPv6 it is not allowed, and a computed 0 is sent as 0xffff). Well-known tunnel ports are
 * named in `UdpPort`.
 */
import { getU16, ok, setU16, type Diagnostic, type Result } from "../base/index.js";
import { failWith, truncatedDiag } from "./wire.js";

export const UDP_HEADER_LEN = 8;

/** UDP ports with a meaning here (open set). */
export const UdpPort = {
  DNS: 53,
  VXLAN: 4789,
  VXLAN_GPE: 4790,
  VXLAN_LINUX: 8472,
  GENEVE: 6081,
} as const;

const F = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;

export class UdpView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < UDP_HEADER_LEN) return truncatedDiag("UDP header", UDP_HEADER_LEN, this.length, this.offset);
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
  /** Length of header + payload, as carried. */
  get len(): number {
    return getU16(this.bytes, this.offset + F.LENGTH);
  }
  set len(v: number) {
    setU16(this.bytes, this.offset + F.LENGTH, v);
  }
  get checksum(): number {
    return getU16(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.bytes, this.offset + F.CHECKSUM, v);
  }
}

export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Header + payload length as carried; builders may recompute it. */
  readonly length: number;
  readonly checksum: number;
}

export function parseUdp(v: UdpView): Result<UdpRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ srcPort: v.srcPort, dstPort: v.dstPort, length: v.len, checksum: v.checksum });
}

export function udpHeaderLen(_repr: UdpRepr): number {
  return UDP_HEADER_LEN;
}

export function emitUdp(repr: UdpRepr, bytes: Uint8Array, offset: number): void {
  const v = new UdpView(bytes, offset, UDP_HEADER_LEN);
  v.srcPort = repr.srcPort;
  v.dstPort = repr.dstPort;
  v.len = repr.length;
  v.checksum = repr.checksum;
}

/** Offset of the checksum inside the header. */
export const UDP_CHECKSUM_OFFSET = F.CHECKSUM;

/** A default repr for building (length and checksum to be fixed). */
export function udpRepr(srcPort: number, dstPort: number): UdpRepr {
  return { srcPort, dstPort, length: 0, checksum: 0 };
}
