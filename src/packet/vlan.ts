/**
 * 802.1Q / 802.1ad VLAN tags.
 *
 * What: a tag on the wire is a TPID (the EtherType field of the header before it: 0x8100 for a
 * customer tag, 0x88a8 for an 802.1ad service tag, 0x9100 for the pre-standard QinQ tag still seen
 * in the wild) followed by the 2-byte TCI (PCP 3 bits, DEI 1 bit, VID 12 bits) and the EtherType of
 * what comes next. This module's view and repr cover the 4 bytes after the TPID, so a stack of tags
 * is simply a chain of these layers after the Ethernet header, each naming the next protocol.
 *
 * Invariant: the TPID of a tag is the `etherType` of the previous layer; `isVlanTpid` says which
 * values open a tag.
 */
import { ok, type Diagnostic, type Result } from "../base/index.js";
import { EtherType } from "./ethernet.js";
import { failWith, truncatedDiag } from "./wire.js";

export const VLAN_TAG_LEN = 4;

const F = { TCI: 0, ETHERTYPE: 2 } as const;

/** True for the TPIDs that open a VLAN tag (0x8100, 0x88a8, 0x9100). */
export function isVlanTpid(t: number): boolean {
  return t === EtherType.VLAN || t === EtherType.QINQ || t === EtherType.QINQ_LEGACY;
}

/** Zero-copy view of the TCI and inner EtherType of one tag. */
export class VlanView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < VLAN_TAG_LEN) return truncatedDiag("VLAN tag", VLAN_TAG_LEN, this.length, this.offset);
    return undefined;
  }

  /** The whole 16-bit tag control information. */
  get tci(): number {
    return (this.bytes[this.offset + F.TCI]! << 8) | this.bytes[this.offset + F.TCI + 1]!;
  }
  set tci(v: number) {
    this.bytes[this.offset + F.TCI] = (v >>> 8) & 0xff;
    this.bytes[this.offset + F.TCI + 1] = v & 0xff;
  }
  get pcp(): number {
    return this.tci >>> 13;
  }
  get dei(): boolean {
    return (this.tci & 0x1000) !== 0;
  }
  get vid(): number {
    return this.tci & 0x0fff;
  }
  get etherType(): number {
    return (this.bytes[this.offset + F.ETHERTYPE]! << 8) | this.bytes[this.offset + F.ETHERTYPE + 1]!;
  }
  set etherType(v: number) {
    this.bytes[this.offset + F.ETHERTYPE] = (v >>> 8) & 0xff;
    this.bytes[this.offset + F.ETHERTYPE + 1] = v & 0xff;
  }
}

export interface VlanRepr {
  /** Priority code point, 0-7. */
  readonly pcp: number;
  /** Drop eligible indicator (formerly CFI). */
  readonly dei: boolean;
  /** VLAN id, 0-4095. */
  readonly vid: number;
  /** EtherType of the header after the tag. */
  readonly etherType: EtherType;
}

export function parseVlan(v: VlanView): Result<VlanRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ pcp: v.pcp, dei: v.dei, vid: v.vid, etherType: v.etherType });
}

export function vlanHeaderLen(_repr: VlanRepr): number {
  return VLAN_TAG_LEN;
}

/** The TCI of a repr. */
export function vlanTci(repr: VlanRepr): number {
  return ((repr.pcp & 7) << 13) | (repr.dei ? 0x1000 : 0) | (repr.vid & 0x0fff);
}

export function emitVlan(repr: VlanRepr, bytes: Uint8Array, offset: number): void {
  const v = new VlanView(bytes, offset, VLAN_TAG_LEN);
  v.tci = vlanTci(repr);
  v.etherType = repr.etherType;
}
