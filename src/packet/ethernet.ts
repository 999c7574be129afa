/**
 * Ethernet II frames: destination MAC, source MAC and the 16-bit EtherType/length field.
 *
 * What: `EthernetView` reads and writes the 14-byte header in place; `EthernetRepr` is the plain
 * value form with `parseEthernet`, `emitEthernet` and `ethernetHeaderLen`. `EtherType` names the
 * protocol numbers this project meets; values it does not name still pass through untouched.
 *
 * Not here: 802.1Q/802.1ad tags (`vlan.ts`, they follow this header as separate layers), the frame
 * check sequence (captures used here never carry it), and 802.3 length frames beyond noting that
 * a type field of at most 1500 is a length (`isEtherTypeLength`).
 */
import { formatMac, ok, type Diagnostic, type Result } from "../base/index.js";
import { copyIn, copyOut, failWith, hex, macHi16, macLo32, truncatedDiag } from "./wire.js";

/** EtherType values with names (open set: any 16-bit value may appear). */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  IPX: 0x8137,
  IPV6: 0x86dd,
  PPP: 0x880b,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  EAPOL: 0x888e,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  MACSEC: 0x88e5,
  PTP: 0x88f7,
  CFM: 0x8902,
  QINQ_LEGACY: 0x9100,
  TEB: 0x6558,
  LOOPBACK: 0x9000,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType] | number;

const ETHER_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [EtherType.IPV4, "ipv4"],
  [EtherType.ARP, "arp"],
  [EtherType.RARP, "rarp"],
  [EtherType.VLAN, "802.1q"],
  [EtherType.IPX, "ipx"],
  [EtherType.IPV6, "ipv6"],
  [EtherType.PPP, "ppp"],
  [EtherType.MPLS, "mpls"],
  [EtherType.MPLS_MULTICAST, "mpls"],
  [EtherType.PPPOE_DISCOVERY, "pppoe"],
  [EtherType.PPPOE_SESSION, "pppoe"],
  [EtherType.EAPOL, "eapol"],
  [EtherType.QINQ, "802.1ad"],
  [EtherType.LLDP, "lldp"],
  [EtherType.MACSEC, "macsec"],
  [EtherType.PTP, "ptp"],
  [EtherType.CFM, "cfm"],
  [EtherType.QINQ_LEGACY, "802.1q-9100"],
  [EtherType.TEB, "teb"],
  [EtherType.LOOPBACK, "loopback"],
]);

/** A short lowercase name for an EtherType (`ipv4`, `mpls`), or `ethertype 0x1234`. */
export function etherTypeName(t: number): string {
  return ETHER_TYPE_NAMES.get(t) ?? `ethertype ${hex(t)}`;
}

/** Largest value of the type field that means "802.3 length", as Wireshark and Linux read it. */
export const ETHER_MAX_LENGTH_FIELD = 1500;

/** True when the type field is an 802.3 length (an LLC frame follows), not an EtherType. */
export function isEtherTypeLength(t: number): boolean {
  return t <= ETHER_MAX_LENGTH_FIELD;
}

export const ETHERNET_HEADER_LEN = 14;

const F = { DST: 0, SRC: 6, ETHERTYPE: 12 } as const;

/** Zero-copy view of an Ethernet II header. */
export class EthernetView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < ETHERNET_HEADER_LEN) return truncatedDiag("Ethernet header", ETHERNET_HEADER_LEN, this.length, this.offset);
    return undefined;
  }

  /** Destination MAC (a subarray of the buffer, not a copy). */
  dst(): Uint8Array {
    return this.bytes.subarray(this.offset + F.DST, this.offset + F.DST + 6);
  }
  setDst(mac: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.DST, mac);
  }
  /** Source MAC (a subarray of the buffer, not a copy). */
  src(): Uint8Array {
    return this.bytes.subarray(this.offset + F.SRC, this.offset + F.SRC + 6);
  }
  setSrc(mac: Uint8Array): void {
    copyIn(this.bytes, this.offset + F.SRC, mac);
  }
  /** High 16 bits of the destination MAC, for flow keys (no allocation). */
  get dstHi(): number {
    return macHi16(this.bytes, this.offset + F.DST);
  }
  /** Low 32 bits of the destination MAC. */
  get dstLo(): number {
    return macLo32(this.bytes, this.offset + F.DST);
  }
  get srcHi(): number {
    return macHi16(this.bytes, this.offset + F.SRC);
  }
  get srcLo(): number {
    return macLo32(this.bytes, this.offset + F.SRC);
  }
  /** EtherType, or an 802.3 length when at most 1500. */
  get etherType(): number {
    return (this.bytes[this.offset + F.ETHERTYPE]! << 8) | this.bytes[this.offset + F.ETHERTYPE + 1]!;
  }
  set etherType(v: number) {
    this.bytes[this.offset + F.ETHERTYPE] = (v >>> 8) & 0xff;
    this.bytes[this.offset + F.ETHERTYPE + 1] = v & 0xff;
  }
  /** Offset of the first byte after the header. */
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LEN;
  }
}

export interface EthernetRepr {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly etherType: EtherType;
}

export function parseEthernet(v: EthernetView): Result<EthernetRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ dst: copyOut(v.bytes, v.offset + F.DST, 6), src: copyOut(v.bytes, v.offset + F.SRC, 6), etherType: v.etherType });
}

export function ethernetHeaderLen(_repr: EthernetRepr): number {
  return ETHERNET_HEADER_LEN;
}

/** Writes the header at `offset`; the caller provides `ethernetHeaderLen()` bytes. */
export function emitEthernet(repr: EthernetRepr, bytes: Uint8Array, offset: number): void {
  const v = new EthernetView(bytes, offset, ETHERNET_HEADER_LEN);
  v.setDst(repr.dst);
  v.setSrc(repr.src);
  v.etherType = repr.etherType;
}

/** `src > dst` as tcpdump prints an Ethernet header. */
export function formatEthernetAddrs(repr: EthernetRepr): string {
  return `${formatMac(repr.src)} > ${formatMac(repr.dst)}`;
}
