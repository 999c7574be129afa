/**
 * Checksums: the Internet checksum (RFC 1071) with the IPv4 and IPv6 pseudo-headers, and the
 * CRC32c of SCTP.
 *
 * Design: `checksumAdd` accumulates 16-bit big-endian words into a plain number without folding
 * (a JS number holds the sum of far more than 2^16 words exactly), `checksumFinish` folds the
 * carries and complements. A pseudo-header is just a starting accumulator, so an L4 checksum is
 * `checksumFinish(checksumAdd(pseudo, bytes, l4Off, l4Len))` with the checksum field zeroed, and a
 * received segment verifies when the same sum over the bytes as carried gives 0.
 *
 * Rules that differ per protocol live in the callers: UDP over IPv4 may carry 0 ("no checksum"),
 * and a computed UDP checksum of 0 is sent as 0xffff; ICMPv4 has no pseudo-header; TCP, UDP and
 * ICMPv6 over IPv6 use the IPv6 pseudo-header (upper-layer length and next header).
 */
import { getU16, setU16 } from "../base/index.js";

/** Adds the bytes `[off, off+len)` as big-endian 16-bit words to `acc` (odd tail padded with 0). */
export function checksumAdd(acc: number, b: Uint8Array, off: number, len: number): number {
  let sum = acc;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** Folds the carries of an accumulator and returns the one's complement (a u16). */
export function checksumFinish(acc: number): number {
  let sum = acc;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The Internet checksum of `[off, off+len)`. */
export function internetChecksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return checksumFinish(checksumAdd(acc, b, off, len));
}

/** Accumulator for the IPv4 pseudo-header (addresses as u32). */
export function ipv4PseudoHeaderSum(src: number, dst: number, protocol: number, l4Len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Len;
}

/** Accumulator for the IPv6 pseudo-header (addresses as 16-byte arrays). */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, l4Len: number): number {
  let acc = checksumAdd(0, src, 0, 16);
  acc = checksumAdd(acc, dst, 0, 16);
  return acc + Math.floor(l4Len / 0x10000) + (l4Len & 0xffff) + nextHeader;
}

/** The IPv4 header checksum of the header at `off` (length `headerLen`), its own field taken as 0. */
export function computeIpv4HeaderChecksum(b: Uint8Array, off: number, headerLen: number): number {
  const acc = checksumAdd(0, b, off, headerLen) - getU16(b, off + 10);
  return checksumFinish(acc);
}

/** True when the IPv4 header at `off` carries a correct checksum. */
export function verifyIpv4HeaderChecksum(b: Uint8Array, off: number, headerLen: number): boolean {
  return checksumFinish(checksumAdd(0, b, off, headerLen)) === 0;
}

/** Recomputes and stores the IPv4 header checksum in place. */
export function fillIpv4HeaderChecksum(b: Uint8Array, off: number, headerLen: number): void {
  setU16(b, off + 10, 0);
  setU16(b, off + 10, internetChecksum(b, off, headerLen));
}

/**
 * The checksum of an L4 segment at `[off, off+len)` whose checksum field sits at `off + csumAt`,
 * the field taken as 0, starting from a pseudo-header accumulator (0 for ICMPv4).
 */
export function computeL4Checksum(b: Uint8Array, off: number, len: number, csumAt: number, pseudo: number): number {
  const field = csumAt + 1 < len ? getU16(b, off + csumAt) : 0;
  return checksumFinish(checksumAdd(pseudo, b, off, len) - field);
}

/** True when the segment's carried checksum is correct for the pseudo-header accumulator. */
export function verifyL4Checksum(b: Uint8Array, off: number, len: number, pseudo: number): boolean {
  return checksumFinish(checksumAdd(pseudo, b, off, len)) === 0;
}

/** Recomputes and stores an L4 checksum in place; `udp` maps a result of 0 to 0xffff. */
export function fillL4Checksum(b: Uint8Array, off: number, len: number, csumAt: number, pseudo: number, udp = false): void {
  setU16(b, off + csumAt, 0);
  let c = internetChecksum(b, off, len, pseudo);
  if (udp && c === 0) c = 0xffff;
  setU16(b, off + csumAt, c);
}

// ---------------------------------------------------------------------------------------------
// CRC32c (Castagnoli), for SCTP

const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Feeds `[off, off+len)` into a running CRC32c state (start with 0xffffffff). */
function crc32cUpdate(state: number, b: Uint8Array, off: number, len: number): number {
  let c = state;
  for (let i = off; i < off + len; i++) c = CRC32C_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

const FOUR_ZEROS = new Uint8Array(4);

/** CRC32c of `[off, off+len)` (reflected, initial and final XOR 0xffffffff). */
export function crc32c(b: Uint8Array, off: number, len: number): number {
  return (crc32cUpdate(0xffffffff, b, off, len) ^ 0xffffffff) >>> 0;
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * The SCTP checksum of the packet at `[off, off+len)` (len >= 12) with its checksum field (bytes
 * 8-11) taken as 0, returned as the u32 that the 4 bytes read big-endian give (the CRC is stored
 * least significant byte first).
 */
export function computeSctpChecksum(b: Uint8Array, off: number, len: number): number {
  let c = crc32cUpdate(0xffffffff, b, off, 8);
  c = crc32cUpdate(c, FOUR_ZEROS, 0, 4);
  c = crc32cUpdate(c, b, off + 12, len - 12);
  return swap32((c ^ 0xffffffff) >>> 0);
}
