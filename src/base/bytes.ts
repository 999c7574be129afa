/**
 * Big-endian integer access to byte buffers.
 *
 * These helpers read and write network-order integers straight from a `Uint8Array` at a given
 * offset. They do no bounds checking: callers check lengths first (see the `checkLen()` contract
 * of the packet views), so that the hot path pays for one comparison per header, not per field.
 * All 32-bit results are unsigned (`>>> 0`).
 */

/** Reads an unsigned 16-bit big-endian integer at `off`. */
export function getU16(b: Uint8Array, off: number): number {
  return ((b[off]! << 8) | b[off + 1]!) >>> 0;
}

/** Reads an unsigned 24-bit big-endian integer at `off`. */
export function getU24(b: Uint8Array, off: number): number {
  return ((b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!) >>> 0;
}

/** Reads an unsigned 32-bit big-endian integer at `off`. */
export function getU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Reads an unsigned 16-bit little-endian integer at `off`. */
export function getU16le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8)) >>> 0;
}

/** Reads an unsigned 32-bit little-endian integer at `off`. */
export function getU32le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Writes `v` as a big-endian 16-bit integer at `off`. */
export function setU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Writes `v` as a big-endian 24-bit integer at `off`. */
export function setU24(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 16) & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = v & 0xff;
}

/** Writes `v` as a big-endian 32-bit integer at `off`. */
export function setU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** The two bytes of `v`, most significant first (for frames written out byte by byte). */
export function be16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

/** The four bytes of `v`, most significant first. */
export function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Writes `v` as a little-endian 16-bit integer at `off`. */
export function setU16le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}

/** Writes `v` as a little-endian 32-bit integer at `off`. */
export function setU32le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

/** Formats bytes as lowercase hex with no separators (`"0a1b"`). Not for hot paths. */
export function toHex(b: Uint8Array, off = 0, len = b.length - off): string {
  let s = "";
  for (let i = off; i < off + len; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}

/** Parses a hex string (whitespace and `:` ignored) into bytes; returns undefined if malformed. */
export function fromHex(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True when `a[ao..ao+len)` equals `b[bo..bo+len)`. */
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
