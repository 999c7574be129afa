/**
 * ARP for Ethernet hardware addresses and IPv4 protocol addresses (RFC 826).
 *
 * What: the fixed 28-byte layout with 6-byte hardware and 4-byte protocol addresses, which is what
 * OVN and every Ethernet/IPv4 host use. `checkLen()` also rejects other address sizes (the named
 * field offsets would be wrong for them), so the decoder reports those as a protocol it does not
 * go into. The hardware type (1 for Ethernet, 6 for IEEE 802) and protocol type are kept as read.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { EtherType } from "./ethernet.js";
import { copyIn, copyOut, failWith, truncatedDiag, unsupportedDiag } from "./wire.js";

export const ARP_LEN = 28;

/** ARP opcodes (open set). */
export const ArpOp = { REQUEST: 1, REPLY: 2, RARP_REQUEST: 3, RARP_REPLY: 4 } as const;
export type ArpOp = (typeof ArpOp)[keyof typeof ArpOp] | number;

const F = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;

/** Zero-copy view of an Ethernet/IPv4 ARP packet. */
export class ArpView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < 8) return truncatedDiag("ARP header", 8, this.length, this.offset);
    if (this.hlen !== 6 || this.plen !== 4) {
      return unsupportedDiag(`ARP with hardware address length ${this.hlen} and protocol address length ${this.plen}`, this.offset);
    }
    if (this.length < ARP_LEN) return truncatedDiag("ARP packet", ARP_LEN, this.length, this.offset);
    return undefined;
  }

  get htype(): number {
    return getU16(this.bytes, this.offset + F.HTYPE);
  }
  set htype(v: number) {
    setU16(this.bytes, this.offset + F.HTYPE, v);
  }
  get ptype(): number {
    return getU16(this.bytes, this.offset + F.PTYPE);
  }
  set ptype(v: number) {
    setU16(this.bytes, this.offset + F.PTYPE, v);
  }
  get hlen(): number {
    return this.bytes[this.offset + F.HLEN]!;
  }
  set hlen(v: number) {
    this.bytes[this.offset + F.HLEN] = v;
  }
  get plen(): number {
    return this.bytes[this.offset + F.PLEN]!;
  }
  set plen(v: number) {
    this.bytes[this.offset + F.PLEN] = v;
  }
  get op(): number {
    return getU16(this.bytes, this.offset + F.OPER);
  }
  set op(v: number) {
    setU16(this.bytes, this.offset + F.OPER, v);
  }
  /** Sender hardware address (subarray). */
  sha(): Uint8Array {
    return this.bytes.subarray(this.offset + F.SHA, this.offset + F.SHA + 6);
  }
  setSha(mac: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.SHA, mac);
  }
  /** Sender protocol address as a u32. */
  get spa(): number {
    return getU32(this.bytes, this.offset + F.SPA);
  }
  set spa(v: number) {
    setU32(this.bytes, this.offset + F.SPA, v);
  }
  /** Target hardware address (subarray). */
  tha(): Uint8Array {
    return this.bytes.subarray(this.offset + F.THA, this.offset + F.THA + 6);
  }
  setTha(mac: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.THA, mac);
  }
  get tpa(): number {
    return getU32(this.bytes, this.offset + F.TPA);
  }
  set tpa(v: number) {
    setU32(this.bytes, this.offset + F.TPA, v);
  }
}

export interface ArpRepr {
  /** Hardware type: 1 (Ethernet) in practice. */
  readonly htype: number;
  /** Protocol type: 0x0800 in practice. */
  readonly ptype: number;
  readonly op: ArpOp;
  readonly sha: Uint8Array;
  readonly spa: number;
  readonly tha: Uint8Array;
  readonly tpa: number;
}

export function parseArp(v: ArpView): Result<ArpRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({
    htype: v.htype,
    ptype: v.ptype,
    op: v.op,
    sha: copyOut(v.bytes, v.offset + F.SHA, 6),
    spa: v.spa,
    tha: copyOut(v.bytes, v.offset + F.THA, 6),
    tpa: v.tpa,
  });
}

export function arpHeaderLen(_repr: ArpRepr): number {
  return ARP_LEN;
}

export function emitArp(repr: ArpRepr, bytes: Uint8Array, offset: number): void {
  const v = new ArpView(bytes, offset, ARP_LEN);
  v.htype = repr.htype;
  v.ptype = repr.ptype;
  v.hlen = 6;
  v.plen = 4;
  v.op = repr.op;
  v.setSha(repr.sha);
  v.spa = repr.spa;
  v.setTha(repr.tha);
  v.tpa = repr.tpa;
}

/** An Ethernet/IPv4 ARP repr with the usual hardware and protocol types. */
export function arpRepr(op: ArpOp, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): ArpRepr {
  return { htype: 1, ptype: EtherType.IPV4, op, sha, spa, tha, tpa };
}
