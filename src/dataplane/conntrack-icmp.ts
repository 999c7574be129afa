/**
 * What conntrack reads of an ICMP message beyond the flow key, with the rules of OVS's userspace
 * conntrack (`extract_l4_icmp`, `extract_l4_icmp6`, `icmp4_valid_new`, `nat_inner_packet`).
 *
 * What
 * ----
 * The flow key holds an ICMP message's type and code, not its identifier nor the packet an error
 * message quotes. `IcmpMessage` holds both for the packet being processed; its owner (the replay)
 * fills it from the frame for every packet (`read`), as it fills `TcpSegment`. Conntrack then
 * treats ICMP as OVS does:
 * - a query (IPv4 echo, timestamp and information request or reply; ICMPv6 echo) with code 0 is a
 *   connection of its own, told apart by its identifier; the request's type in one direction and
 *   the reply's in the other (`ICMP_REQUEST`), so a request only meets its replies. Only a request
 *   may start a connection: a reply of no connection is `inv`.
 * - an error (IPv4 destination unreachable, source quench, redirect, time exceeded, parameter
 *   problem; ICMPv6 destination unreachable, packet too big, time exceeded, parameter problem)
 *   belongs to the connection of the packet it quotes: the quoted tuple, reversed, must be a
 *   direction of a connection in the zone, and the quoted packet's source must be the error's
 *   destination. It is then `rel` (with `rpl` in the reply direction) and takes the connection's
 *   mark, label and NAT; otherwise it is `inv`.
 * - anything else (other ICMP types, a query with a code, a message too short for its fields, an
 *   error quoting a fragment or a truncated header, ports of 0) is `inv`: OVS cannot make a
 *   connection key of it.
 *
 * NAT of an error: its outer header is translated like the packet of its direction (one address),
 * and the quoted packet is translated back (`innerChanged`, the quoted tuple afterwards): a frame
 * writer applies that with `rewriteQuoted`, which also recomputes the checksums OVS recomputes.
 *
 * Without this (`ConntrackOptions.icmp` absent, or a packet for which `read` was not called:
 * traces, keys made by hand), conntrack keeps its key-only approximation: ICMP messages between two
 * hosts are one connection, and an error is related to the oldest connection between its two
 * addresses.
 */

import { getU16, getU32, setU16, setU32 } from "../base/index.js";
import { checksumAdd, checksumFinish } from "../packet/index.js";
import { KEY_WORDS, W, extractKey, icmpAt, ipHeaderOffset } from "../flow/index.js";

/** `IcmpMessage.kind`: nothing read for this packet (key-only rules apply). */
export const ICMP_NONE = 0;
/** A query: `id` and `cls` are set. */
export const ICMP_QUERY = 1;
/** An error whose quoted packet was read: the `inner*` fields are set. */
export const ICMP_ERROR = 2;
/** A message OVS makes no connection key of: conntrack marks it invalid. */
export const ICMP_BAD = 3;

/** `cls` bit: the message is the request of its query family (the type that may start a connection). */
export const ICMP_REQUEST = 4;
/** Query families (`cls & 3`). */
const FAM_ECHO = 1;
const FAM_TIMESTAMP = 2;
const FAM_INFO = 3;

/**
 * The query class of an ICMP type (family | `ICMP_REQUEST` for a request), or 0 for a type that
 * is not a query.
 */
export function icmpQueryClass(v6: boolean, type: number): number {
  if (v6) return type === 128 ? FAM_ECHO | ICMP_REQUEST : type === 129 ? FAM_ECHO : 0;
  switch (type) {
    case 8:
      return FAM_ECHO | ICMP_REQUEST;
    case 0:
      return FAM_ECHO;
    case 13:
      return FAM_TIMESTAMP | ICMP_REQUEST;
    case 14:
      return FAM_TIMESTAMP;
    case 15:
      return FAM_INFO | ICMP_REQUEST;
    case 16:
      return FAM_INFO;
    default:
      return 0;
  }
}

/** The ICMP type of a query class (the inverse of `icmpQueryClass`). */
export function icmpQueryType(v6: boolean, cls: number): number {
  const req = (cls & ICMP_REQUEST) !== 0;
  if (v6) return req ? 128 : 129;
  const fam = cls & 3;
  return fam === FAM_ECHO ? (req ? 8 : 0) : fam === FAM_TIMESTAMP ? (req ? 13 : 14) : req ? 15 : 16;
}

/** True for the ICMP types whose message quotes the packet it is about. */
export function isIcmpErrorType(v6: boolean, type: number): boolean {
  return v6 ? type >= 1 && type <= 4 : type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export class IcmpMessage {
  kind = ICMP_NONE;
  /** A query's identifier. */
  id = 0;
  /** A query's class (`icmpQueryClass`). */
  cls = 0;
  /** An error's quoted packet: its family, protocol, addresses (four words, IPv4 in the last), ports. */
  innerV6 = false;
  innerProto = 0;
  readonly innerSrc = [0, 0, 0, 0];
  readonly innerDst = [0, 0, 0, 0];
  innerSport = 0;
  innerDport = 0;
  /** The quoted packet's query class when it is an ICMP query (its identifier in the ports). */
  innerCls = 0;
  /** Where the quoted packet's IP and transport headers start, counted from the ICMP header. */
  innerL3 = 0;
  innerL4 = 0;
  /** True when conntrack translated the quoted packet (its tuple above is the translated one). */
  innerChanged = false;
  /**
   * The outer IPv6 address translations of an error of a UDP connection, in order, each its old
   * and new four words: `rewriteQuoted` gives bytes 6-7 of the message what OVS's do
   * (`ovsIcmp6UdpQuirk`). Emptied with each message read.
   */
  readonly outerFixes: number[] = [];
  /**
   * The frame being processed (its buffer, and where it starts), for an error OVN makes from it:
   * ovn-controller quotes the packet's own IP header and data (`quoteOwnOf`).
   */
  ownBuf: Uint8Array | undefined = undefined;
  ownOffset = 0;

  /**
   * Makes this message the ICMP error that OVN makes from `m`'s frame (an `icmp4 { }` or
   * `icmp6 { }` action), quoting that frame's IP packet as it came in (conntrack.ts `readQuoted`
   * then gives it the addresses and ports it had where the error was made); false when the frame
   * holds no quotable IP packet. The quoted packet has no place in a frame (`innerL3` -1).
   */
  quoteOwnOf(m: IcmpMessage): boolean {
    const buf = m.ownBuf;
    this.kind = ICMP_NONE;
    this.innerChanged = false;
    this.outerFixes.length = 0;
    if (buf === undefined) return false;
    const l3 = ipHeaderOffset(buf, m.ownOffset, buf.length - m.ownOffset);
    if (l3 < 0 || l3 + 4 > buf.length) return false;
    this.innerV6 = getU16(buf, l3 - 2) === 0x86dd;
    const end = Math.min(buf.length, this.innerV6 ? l3 + 40 + getU16(buf, l3 + 4) : l3 + getU16(buf, l3 + 2));
    const l4 = this.innerV6 ? this.quotedV6(buf, l3, end) : this.quotedV4(buf, l3, end);
    if (l4 < 0 || !this.quotedL4(buf, l4, end)) return false;
    this.innerL3 = this.innerL4 = -1;
    this.kind = ICMP_ERROR;
    return true;
  }

  /**
   * Reads the ICMP (`v6`: ICMPv6) message at `buf[h, end)` (`end`: where the IP header says it
   * ends, or the capture does if sooner).
   */
  read(buf: Uint8Array, h: number, end: number, v6: boolean): void {
    this.kind = ICMP_BAD;
    this.innerChanged = false;
    this.outerFixes.length = 0;
    if (end - h < 8) return;
    const type = buf[h]!;
    const code = buf[h + 1]!;
    const cls = icmpQueryClass(v6, type);
    if (cls !== 0) {
      if (code !== 0) return;
      this.id = getU16(buf, h + 4);
      this.cls = cls;
      this.kind = ICMP_QUERY;
      return;
    }
    if (!isIcmpErrorType(v6, type)) return;
    const l3 = h + 8;
    this.innerV6 = v6;
    const l4 = v6 ? this.quotedV6(buf, l3, end) : this.quotedV4(buf, l3, end);
    if (l4 < 0) return;
    if (!this.quotedL4(buf, l4, end)) return;
    this.innerL3 = l3 - h;
    this.innerL4 = l4 - h;
    this.kind = ICMP_ERROR;
  }

  /** The quoted IPv4 header at `l3`: fills addresses and protocol; its end, or -1 (`extract_l3_ipv4`). */
  private quotedV4(buf: Uint8Array, l3: number, end: number): number {
    if (end - l3 < 20) return -1;
    const ihl = (buf[l3]! & 0x0f) * 4;
    if (ihl < 20 || end - l3 < ihl) return -1;
    // A fragment (more fragments, or an offset) quotes no whole transport header.
    if ((getU16(buf, l3 + 6) & 0x3fff) !== 0) return -1;
    this.innerProto = buf[l3 + 9]!;
    this.innerSrc[0] = this.innerSrc[1] = this.innerSrc[2] = 0;
    this.innerDst[0] = this.innerDst[1] = this.innerDst[2] = 0;
    this.innerSrc[3] = getU32(buf, l3 + 12);
    this.innerDst[3] = getU32(buf, l3 + 16);
    return l3 + ihl;
  }

  /** The quoted IPv6 header and its extension headers (`extract_l3_ipv6`); -1 for a fragment or a short one. */
  private quotedV6(buf: Uint8Array, l3: number, end: number): number {
    if (end - l3 < 40) return -1;
    let nxt = buf[l3 + 6]!;
    for (let i = 0; i < 4; i++) {
      this.innerSrc[i] = getU32(buf, l3 + 8 + 4 * i);
      this.innerDst[i] = getU32(buf, l3 + 24 + 4 * i);
    }
    let p = l3 + 40;
    for (;;) {
      // Hop-by-hop, routing, destination options, AH, fragment; anything else ends the chain.
      if (nxt !== 0 && nxt !== 43 && nxt !== 60 && nxt !== 51 && nxt !== 44) break;
      if (end - p < 8) return -1;
      if (nxt === 44) {
        // Any fragment, first or later, quotes no connection (OVS: `nw_frag` set).
        if (getU16(buf, p + 2) !== 0) return -1;
        nxt = buf[p]!;
        p += 8;
        continue;
      }
      const len = nxt === 51 ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
      nxt = buf[p]!;
      if (end - p < len) return -1;
      p += len;
    }
    this.innerProto = nxt;
    return p;
  }

  /** The quoted transport header's ports (or query identity); false where OVS's extraction fails. */
  private quotedL4(buf: Uint8Array, l4: number, end: number): boolean {
    const v6 = this.innerV6;
    const room = end - l4;
    const proto = this.innerProto;
    this.innerCls = 0;
    this.innerSport = 0;
    this.innerDport = 0;
    if (proto === 6 || proto === 17) {
      // IPv4 errors need the 8 bytes RFC 792 quotes; IPv6 ones a whole TCP or UDP header.
      if (room < (v6 && proto === 6 ? 20 : 8)) return false;
      this.innerSport = getU16(buf, l4);
      this.innerDport = getU16(buf, l4 + 2);
      return this.innerSport !== 0 && this.innerDport !== 0;
    }
    if ((proto === 1 && !v6) || (proto === 58 && v6)) {
      if (room < 8) return false;
      const cls = icmpQueryClass(v6, buf[l4]!);
      if (cls === 0 || buf[l4 + 1] !== 0) return false;
      this.innerCls = cls;
      this.innerSport = this.innerDport = getU16(buf, l4 + 4);
      return true;
    }
    return true;
  }

  /**
   * Writes the quoted packet's tuple, as conntrack's NAT left it (`innerChanged`), into `frame[0,
   * len)`: this packet's Ethernet frame as it goes out (its outer header already rewritten). As
   * OVS's `nat_inner_packet` does: the quoted ports with their checksum updated, the quoted
   * addresses with the quoted IPv4 header's checksum and the quoted TCP (a whole header quoted)
   * or UDP (a checksum present) checksum updated, then the ICMP checksum computed afresh. Bytes
   * the frame does not hold are not written. Does nothing when the quoted packet was not
   * translated or the frame holds no ICMP message.
   */
  rewriteQuoted(frame: Uint8Array, len: number): void {
    if (!this.innerChanged) return;
    extractKey(frame, 0, len, len, 1, scratchKey, 0, false);
    const h = icmpAt.header;
    if (h < 0) return;
    const end = icmpAt.end;
    // OVS's translation of the outer address, first (`ovsIcmp6UdpQuirk`).
    for (let f = 0; f + 8 <= this.outerFixes.length && h + 8 <= end; f += 8) setU16(frame, h + 6, ovsIcmp6UdpQuirk(getU16(frame, h + 6), this.outerFixes.slice(f, f + 4), this.outerFixes.slice(f + 4, f + 8)));
    const l3 = h + this.innerL3;
    const l4 = h + this.innerL4;
    const proto = this.innerProto;
    const csumAt = proto === 6 ? l4 + 16 : proto === 17 ? l4 + 6 : -1;
    const l4Whole = proto === 6 ? end - l4 >= 20 : proto === 17 && end - l4 >= 8;
    const udpOff = proto === 17 && (csumAt + 2 > end || getU16(frame, csumAt) === 0);
    if (proto === 6 || proto === 17) {
      for (let i = 0; i < 2; i++) {
        const at = l4 + 2 * i;
        const now = getU16(frame, at);
        const to = i === 0 ? this.innerSport : this.innerDport;
        if (now === to) continue;
        if (!udpOff && csumAt + 2 <= end) setU16(frame, csumAt, udpFix(proto, recalc16(getU16(frame, csumAt), now, to)));
        setU16(frame, at, to);
      }
    }
    const words = this.innerV6 ? 4 : 1;
    for (let e = 0; e < 2; e++) {
      const a = e === 0 ? this.innerSrc : this.innerDst;
      const at = this.innerV6 ? l3 + 8 + 16 * e : l3 + 12 + 4 * e;
      for (let i = 0; i < words; i++) {
        const o = at + 4 * i;
        const now = getU32(frame, o);
        const to = a[4 - words + i]!;
        if (now === to) continue;
        if (l4Whole && !udpOff && (proto === 6 || proto === 17)) setU16(frame, csumAt, udpFix(proto, recalc32(getU16(frame, csumAt), now, to)));
        if (!this.innerV6) setU16(frame, l3 + 10, recalc32(getU16(frame, l3 + 10), now, to));
        setU32(frame, o, to);
      }
    }
    // The ICMP checksum over the whole message (ICMPv6: with the outer pseudo-header).
    setU16(frame, h + 2, 0);
    let acc = checksumAdd(0, frame, h, end - h);
    if (this.innerV6) {
      const k = scratchKey;
      for (let i = 0; i < 4; i++) acc += (k[W.IPV6_SRC + i]! >>> 16) + (k[W.IPV6_SRC + i]! & 0xffff) + (k[W.IPV6_DST + i]! >>> 16) + (k[W.IPV6_DST + i]! & 0xffff);
      acc += end - h + 58;
    }
    setU16(frame, h + 2, checksumFinish(acc));
  }
}

const scratchKey = new Uint32Array(KEY_WORDS);

const swap16 = (x: number): number => ((x & 0xff) << 8) | (x >>> 8);

/**
 * A checksum after one 16-bit word changed from `old` to `now` (RFC 1624, eqn. 3), computed as
 * OVS's `recalc_csum16` does on a little-endian machine: on byte-swapped words, with one fold of
 * the carry, which in a rare case leaves a result that differs from a full fold.
 */
function recalc16(sum: number, old: number, now: number): number {
  const s = (~swap16(sum) & 0xffff) + (~swap16(old) & 0xffff) + swap16(now);
  return swap16(~((s & 0xffff) + (s >>> 16)) & 0xffff);
}

/** A checksum after one 32-bit word changed: its high half, then its low half, as OVS's `recalc_csum32`. */
function recalc32(sum: number, old: number, now: number): number {
  return recalc16(recalc16(sum, old >>> 16, now >>> 16), old & 0xffff, now & 0xffff);
}

/**
 * What OVS 3.1 leaves in bytes 6-7 of an ICMPv6 error (`rest`, the low half of the word after the
 * checksum: a "packet too big" MTU's) when its conntrack translates the error's outer address from
 * `old` to `now` for a related UDP connection: `nat_packet` updates the connection protocol's
 * checksum where that protocol keeps it, UDP's at offset 6 of the L4 header, which in an ICMPv6
 * message is this field (a zero one, as UDP's "no checksum", is left alone). The ICMPv6 checksum is
 * computed afresh after, so the message stays valid with the changed field.
 */
export function ovsIcmp6UdpQuirk(rest: number, old: readonly number[], now: readonly number[]): number {
  if (rest === 0) return 0;
  let c = rest;
  for (let i = 0; i < 4; i++) c = recalc32(c, old[i]! >>> 0, now[i]! >>> 0);
  return c === 0 ? 0xffff : c;
}

/** A UDP checksum that comes out 0 is sent as 0xffff (0 would mean none). */
function udpFix(proto: number, c: number): number {
  return proto === 17 && c === 0 ? 0xffff : c;
}
