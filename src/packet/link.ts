/**
 * Link-layer headers other than Ethernet, and the capture link types that select them.
 *
 * What: pcap/pcapng link types (`LinkType`) and the pseudo-headers some of them put before the
 * network layer:
 * - Linux cooked capture v1 (`SLL`, link type 113, 16 bytes): packet type, ARPHRD type, address
 *   length, 8 address bytes, protocol (an EtherType for ordinary devices);
 * - Linux cooked capture v2 (`SLL2`, link type 276, 20 bytes): protocol, reserved, interface index,
 *   ARPHRD type, packet type, address length, 8 address bytes;
 * - BSD loopback: `NULL` (link type 0) has a 4-byte address family in the byte order of the host
 *   that wrote the capture, `LOOP` (108) the same in network byte order.
 * Raw IP link types (12, 14, 101, 228, 229) have no header at all: the version nibble (or the link
 * type itself) says IPv4 or IPv6.
 *
 * Byte order of NULL: the writer's host order is not recorded in the packet, so `NullView` reads
 * the family little-endian and switches to big-endian when that gives a value with the high 16
 * bits set and the low 16 bits clear (families are small numbers), as Wireshark does.
 */
import { getU16, getU32, getU32le, ok, setU16, setU32, setU32le, type Diagnostic, type Result } from "../base/index.js";
import { EtherType } from "./ethernet.js";
import { copyIn, copyOut, failWith, truncatedDiag } from "./wire.js";

/** Link types (LINKTYPE_* values as stored in pcap/pcapng files). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD: 12,
  RAW_OPENBSD: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType] | number;

const LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [LinkType.NULL, "null"],
  [LinkType.ETHERNET, "ethernet"],
  [LinkType.RAW_BSD, "raw"],
  [LinkType.RAW_OPENBSD, "raw"],
  [LinkType.RAW, "raw"],
  [LinkType.LOOP, "loop"],
  [LinkType.LINUX_SLL, "linux-sll"],
  [LinkType.IPV4, "ipv4"],
  [LinkType.IPV6, "ipv6"],
  [LinkType.LINUX_SLL2, "linux-sll2"],
]);

export function linkTypeName(t: number): string {
  return LINK_TYPE_NAMES.get(t) ?? `linktype ${t}`;
}

/** BSD address families seen in NULL/LOOP headers. */
export const BsdAf = { INET: 2, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

/** The EtherType a BSD address family stands for, or undefined. */
export function bsdAfToEtherType(af: number): number | undefined {
  if (af === BsdAf.INET) return EtherType.IPV4;
  if (af === BsdAf.INET6_BSD || af === BsdAf.INET6_FREEBSD || af === BsdAf.INET6_DARWIN) return EtherType.IPV6;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Linux cooked capture v1

export const SLL_HEADER_LEN = 16;

const FS = { PKTTYPE: 0, HATYPE: 2, HALEN: 4, ADDR: 6, PROTOCOL: 14 } as const;

export class SllView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < SLL_HEADER_LEN) return truncatedDiag("Linux cooked header", SLL_HEADER_LEN, this.length, this.offset);
    return undefined;
  }
  /** 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us. */
  get packetType(): number {
    return getU16(this.bytes, this.offset + FS.PKTTYPE);
  }
  get arphrdType(): number {
    return getU16(this.bytes, this.offset + FS.HATYPE);
  }
  get addrLen(): number {
    return getU16(this.bytes, this.offset + FS.HALEN);
  }
  /** The 8 address bytes (only the first `addrLen` are meaningful). */
  addr(): Uint8Array {
    return this.bytes.subarray(this.offset + FS.ADDR, this.offset + FS.ADDR + 8);
  }
  get protocol(): number {
    return getU16(this.bytes, this.offset + FS.PROTOCOL);
  }
}

export interface SllRepr {
  readonly packetType: number;
  readonly arphrdType: number;
  readonly addrLen: number;
  /** All 8 address bytes as carried. */
  readonly addr: Uint8Array;
  /** EtherType for ordinary devices; small values are Linux pseudo-protocols (4 = 802.2 LLC). */
  readonly protocol: number;
}

export function parseSll(v: SllView): Result<SllRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ packetType: v.packetType, arphrdType: v.arphrdType, addrLen: v.addrLen, addr: copyOut(v.bytes, v.offset + FS.ADDR, 8), protocol: v.protocol });
}

export function sllHeaderLen(_repr: SllRepr): number {
  return SLL_HEADER_LEN;
}

export function emitSll(repr: SllRepr, bytes: Uint8Array, offset: number): void {
  setU16(bytes, offset + FS.PKTTYPE, repr.packetType);
  setU16(bytes, offset + FS.HATYPE, repr.arphrdType);
  setU16(bytes, offset + FS.HALEN, repr.addrLen);
  copyIn(bytes, offset + FS.ADDR, repr.addr.subarray(0, 8));
  setU16(bytes, offset + FS.PROTOCOL, repr.protocol);
}

// ---------------------------------------------------------------------------------------------
// Linux cooked capture v2

export const SLL2_HEADER_LEN = 20;

const FS2 = { PROTOCOL: 0, RESERVED: 2, IFINDEX: 4, HATYPE: 8, PKTTYPE: 10, HALEN: 11, ADDR: 12 } as const;

export class Sll2View {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < SLL2_HEADER_LEN) return truncatedDiag("Linux cooked v2 header", SLL2_HEADER_LEN, this.length, this.offset);
    return undefined;
  }
  get protocol(): number {
    return getU16(this.bytes, this.offset + FS2.PROTOCOL);
  }
  get reserved(): number {
    return getU16(this.bytes, this.offset + FS2.RESERVED);
  }
  get ifIndex(): number {
    return getU32(this.bytes, this.offset + FS2.IFINDEX);
  }
  get arphrdType(): number {
    return getU16(this.bytes, this.offset + FS2.HATYPE);
  }
  get packetType(): number {
    return this.bytes[this.offset + FS2.PKTTYPE]!;
  }
  get addrLen(): number {
    return this.bytes[this.offset + FS2.HALEN]!;
  }
  addr(): Uint8Array {
    return this.bytes.subarray(this.offset + FS2.ADDR, this.offset + FS2.ADDR + 8);
  }
}

export interface Sll2Repr {
  readonly protocol: number;
  readonly reserved: number;
  readonly ifIndex: number;
  readonly arphrdType: number;
  readonly packetType: number;
  readonly addrLen: number;
  readonly addr: Uint8Array;
}

export function parseSll2(v: Sll2View): Result<Sll2Repr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({
    protocol: v.protocol,
    reserved: v.reserved,
    ifIndex: v.ifIndex,
    arphrdType: v.arphrdType,
    packetType: v.packetType,
    addrLen: v.addrLen,
    addr: copyOut(v.bytes, v.offset + FS2.ADDR, 8),
  });
}

export function sll2HeaderLen(_repr: Sll2Repr): number {
  return SLL2_HEADER_LEN;
}

export function emitSll2(repr: Sll2Repr, bytes: Uint8Array, offset: number): void {
  setU16(bytes, offset + FS2.PROTOCOL, repr.protocol);
  setU16(bytes, offset + FS2.RESERVED, repr.reserved);
  setU32(bytes, offset + FS2.IFINDEX, repr.ifIndex);
  setU16(bytes, offset + FS2.HATYPE, repr.arphrdType);
  bytes[offset + FS2.PKTTYPE] = repr.packetType;
  bytes[offset + FS2.HALEN] = repr.addrLen;
  copyIn(bytes, offset + FS2.ADDR, repr.addr.subarray(0, 8));
}

// ---------------------------------------------------------------------------------------------
// BSD loopback (NULL, LOOP)

export const NULL_HEADER_LEN = 4;

export class NullView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;
  /** True for LOOP (always network order); false for NULL (host order, guessed). */
  readonly networkOrder: boolean;

  constructor(bytes: Uint8Array, offset: number, length: number, networkOrder: boolean) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    this.networkOrder = networkOrder;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < NULL_HEADER_LEN) return truncatedDiag("loopback header", NULL_HEADER_LEN, this.length, this.offset);
    return undefined;
  }
  /** True when the family is stored big-endian. */
  get bigEndian(): boolean {
    if (this.networkOrder) return true;
    const le = getU32le(this.bytes, this.offset);
    return (le & 0xffff0000) !== 0 && (le & 0x0000ffff) === 0;
  }
  get family(): number {
    return this.bigEndian ? getU32(this.bytes, this.offset) : getU32le(this.bytes, this.offset);
  }
}

export interface NullRepr {
  readonly family: number;
  /** Byte order the family is written in. */
  readonly bigEndian: boolean;
}

export function parseNull(v: NullView): Result<NullRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ family: v.family, bigEndian: v.bigEndian });
}

export function nullHeaderLen(_repr: NullRepr): number {
  return NULL_HEADER_LEN;
}

export function emitNull(repr: NullRepr, bytes: Uint8Array, offset: number): void {
  if (repr.bigEndian) setU32(bytes, offset, repr.family);
  else setU32le(bytes, offset, repr.family);
}
