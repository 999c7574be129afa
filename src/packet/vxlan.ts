/**
 * VXLAN (RFC 7348): an 8-byte header in front of an Ethernet frame.
 *
 * Header: 8 flag bits (only I, 0x08, "VNI valid", is defined), 24 reserved bits, the 24-bit VNI
 * and 8 reserved bits. The reserved parts are kept so that a parsed header re-emits unchanged
 * (extensions such as Group Policy use them). OVN's VXLAN mode puts the 12-bit datapath key and the
 * 12-bit egress port key in the VNI; this module does not interpret the VNI.
 */
import { getU24, ok, setU24, type Diagnostic, type Result } from "../base/index.js";
import { failWith, truncatedDiag } from "./wire.js";

export const VXLAN_HEADER_LEN = 8;

/** The I flag: the VNI is valid. */
export const VXLAN_FLAG_I = 0x08;

const F = { FLAGS: 0, RESERVED1: 1, VNI: 4, RESERVED2: 7 } as const;

export class VxlanView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < VXLAN_HEADER_LEN) return truncatedDiag("VXLAN header", VXLAN_HEADER_LEN, this.length, this.offset);
    return undefined;
  }

  get flags(): number {
    return this.bytes[this.offset + F.FLAGS]!;
  }
  set flags(v: number) {
    this.bytes[this.offset + F.FLAGS] = v;
  }
  get reserved1(): number {
    return getU24(this.bytes, this.offset + F.RESERVED1);
  }
  set reserved1(v: number) {
    setU24(this.bytes, this.offset + F.RESERVED1, v);
  }
  get vni(): number {
    return getU24(this.bytes, this.offset + F.VNI);
  }
  set vni(v: number) {
    setU24(this.bytes, this.offset + F.VNI, v);
  }
  get reserved2(): number {
    return this.bytes[this.offset + F.RESERVED2]!;
  }
  set reserved2(v: number) {
    this.bytes[this.offset + F.RESERVED2] = v;
  }
}

export interface VxlanRepr {
  readonly flags: number;
  readonly reserved1: number;
  readonly vni: number;
  readonly reserved2: number;
}

export function parseVxlan(v: VxlanView): Result<VxlanRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ flags: v.flags, reserved1: v.reserved1, vni: v.vni, reserved2: v.reserved2 });
}

export function vxlanHeaderLen(_repr: VxlanRepr): number {
  return VXLAN_HEADER_LEN;
}

export function emitVxlan(repr: VxlanRepr, bytes: Uint8Array, offset: number): void {
  const v = new VxlanView(bytes, offset, VXLAN_HEADER_LEN);
  v.flags = repr.flags;
  v.reserved1 = repr.reserved1;
  v.vni = repr.vni;
  v.reserved2 = repr.reserved2;
}

/** A VXLAN repr with the I flag set. */
export function vxlanRepr(vni: number): VxlanRepr {
  return { flags: VXLAN_FLAG_I, reserved1: 0, vni, reserved2: 0 };
}
