/**
 * TCP headers (RFC 9293), options kept raw.
 *
 * What: ports, sequence and acknowledgment numbers, data offset, the 9 flag bits (NS, CWR, ECE,
 * URG, ACK, PSH, RST, SYN, FIN), the 3 reserved bits before them (kept so that re-emitting is
 * exact), window, checksum, urgent pointer and the raw options area.
 *
 * `checkLen()` fails when the window is shorter than 20 bytes, when the data offset is below 5
 * (malformed), or when the window is shorter than the data offset says.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { copyIn, copyOut, failWith, malformedDiag, truncatedDiag } from "./wire.js";

export const TCP_MIN_HEADER_LEN = 20;

/** Flag bits as they sit in the low 9 bits of bytes 12-13. */
export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  NS: 0x100,
} as const;

const F = { SRC_PORT: 0, DST_PORT: 2, SEQ: 4, ACK: 8, OFF_FLAGS: 12, WINDOW: 14, CHECKSUM: 16, URGENT: 18, OPTIONS: 20 } as const;

export class TcpView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < TCP_MIN_HEADER_LEN) return truncatedDiag("TCP header", TCP_MIN_HEADER_LEN, this.length, this.offset);
    const hl = this.headerLen;
    if (hl < TCP_MIN_HEADER_LEN) return malformedDiag(`TCP data offset ${hl} < 20 at offset ${this.offset}`, this.offset);
    if (this.length < hl) return truncatedDiag("TCP header with options", hl, this.length, this.offset);
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
  get seq(): number {
    return getU32(this.bytes, this.offset + F.SEQ);
  }
  set seq(v: number) {
    setU32(this.bytes, this.offset + F.SEQ, v);
  }
  get ack(): number {
    return getU32(this.bytes, this.offset + F.ACK);
  }
  set ack(v: number) {
    setU32(this.bytes, this.offset + F.ACK, v);
  }
  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.bytes[this.offset + F.OFF_FLAGS]! >>> 4;
  }
  get headerLen(): number {
    return this.dataOffset * 4;
  }
  /** The 9 flag bits. */
  get flags(): number {
    return getU16(this.bytes, this.offset + F.OFF_FLAGS) & 0x1ff;
  }
  /** The 3 reserved bits between the data offset and NS. */
  get reserved(): number {
    return (this.bytes[this.offset + F.OFF_FLAGS]! >>> 1) & 7;
  }
  /** Writes data offset, reserved bits and flags together. */
  setOffsetFlags(dataOffset: number, reserved: number, flags: number): void {
    setU16(this.bytes, this.offset + F.OFF_FLAGS, ((dataOffset & 0xf) << 12) | ((reserved & 7) << 9) | (flags & 0x1ff));
  }
  get window(): number {
    return getU16(this.bytes, this.offset + F.WINDOW);
  }
  set window(v: number) {
    setU16(this.bytes, this.offset + F.WINDOW, v);
  }
  get checksum(): number {
    return getU16(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.bytes, this.offset + F.CHECKSUM, v);
  }
  get urgent(): number {
    return getU16(this.bytes, this.offset + F.URGENT);
  }
  set urgent(v: number) {
    setU16(this.bytes, this.offset + F.URGENT, v);
  }
  options(): Uint8Array {
    return this.bytes.subarray(this.offset + F.OPTIONS, this.offset + this.headerLen);
  }
}

export interface TcpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** The 9 flag bits (`TcpFlag`). */
  readonly flags: number;
  /** The 3 reserved bits, normally 0. */
  readonly reserved: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgent: number;
  /** Raw options, a multiple of 4 bytes long (at most 40). */
  readonly options: Uint8Array;
}

export function parseTcp(v: TcpView): Result<TcpRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    seq: v.seq,
    ack: v.ack,
    flags: v.flags,
    reserved: v.reserved,
    window: v.window,
    checksum: v.checksum,
    urgent: v.urgent,
    options: copyOut(v.bytes, v.offset + F.OPTIONS, v.headerLen - TCP_MIN_HEADER_LEN),
  });
}

export function tcpHeaderLen(repr: TcpRepr): number {
  return TCP_MIN_HEADER_LEN + repr.options.length;
}

export function emitTcp(repr: TcpRepr, bytes: Uint8Array, offset: number): void {
  const hl = tcpHeaderLen(repr);
  const v = new TcpView(bytes, offset, hl);
  v.srcPort = repr.srcPort;
  v.dstPort = repr.dstPort;
  v.seq = repr.seq;
  v.ack = repr.ack;
  v.setOffsetFlags(hl >>> 2, repr.reserved, repr.flags);
  v.window = repr.window;
  v.checksum = repr.checksum;
  v.urgent = repr.urgent;
  copyIn(bytes, offset + F.OPTIONS, repr.options);
}

/** Offset of the checksum inside the header. */
export const TCP_CHECKSUM_OFFSET = F.CHECKSUM;

/** tcpdump's flag letters: `S` SYN, `F` FIN, `R` RST, `P` PSH, `.` ACK, `U` URG, `E` ECE, `W` CWR, `N` NS. */
export function formatTcpFlags(flags: number): string {
  let s = "";
  if (flags & TcpFlag.SYN) s += "S";
  if (flags & TcpFlag.FIN) s += "F";
  if (flags & TcpFlag.RST) s += "R";
  if (flags & TcpFlag.PSH) s += "P";
  if (flags & TcpFlag.URG) s += "U";
  if (flags & TcpFlag.ECE) s += "E";
  if (flags & TcpFlag.CWR) s += "W";
  if (flags & TcpFlag.NS) s += "N";
  if (flags & TcpFlag.ACK) s += ".";
  return s === "" ? "none" : s;
}

/** A default repr for building: window 65535, no options; checksum to be computed. */
export function tcpRepr(srcPort: number, dstPort: number, flags: number, fields: Partial<TcpRepr> = {}): TcpRepr {
  return { seq: 0, ack: 0, reserved: 0, window: 65535, checksum: 0, urgent: 0, options: new Uint8Array(0), ...fields, srcPort, dstPort, flags };
}
