/**
 * Shared pieces of the wire-format modules: the diagnostics a view's `checkLen()` returns and the
 * small byte helpers the reprs use.
 *
 * Every view in this folder follows one contract (from smoltcp's `wire` module): a view is a
 * window `(bytes, offset, length)` over a buffer; `checkLen()` returns `undefined` when the window
 * holds the whole header the fields describe, or a diagnostic saying what is short or malformed.
 * Once `checkLen()` has passed, no accessor or setter of that view reads or writes outside the
 * window. Views never copy; reprs own copies of their byte fields, so a repr stays valid after the
 * buffer it was parsed from is reused.
 */
import { error, fail, type Diagnostic, type Result } from "../base/index.js";

/** Diagnostic codes used by the packet layer. */
export const PacketCode = {
  TRUNCATED: "packet.truncated",
  MALFORMED: "packet.malformed",
  UNSUPPORTED: "packet.unsupported",
} as const;
export type PacketCode = (typeof PacketCode)[keyof typeof PacketCode];

/** `what` needs `need` bytes but the window at `offset` has only `have`. */
export function truncatedDiag(what: string, need: number, have: number, offset: number): Diagnostic {
  return error(PacketCode.TRUNCATED, `${what} needs ${need} bytes, ${have} available at offset ${offset}`, { offset });
}

/** A header whose fields contradict each other or the protocol. */
export function malformedDiag(message: string, offset: number): Diagnostic {
  return error(PacketCode.MALFORMED, message, { offset });
}

/** A header this decoder does not interpret (valid on the wire, but outside what it knows). */
export function unsupportedDiag(message: string, offset: number): Diagnostic {
  return error(PacketCode.UNSUPPORTED, message, { offset });
}

/** `fail()` with one diagnostic, typed for a repr parser. */
export function failWith<T>(d: Diagnostic): Result<T> {
  return fail<T>(d);
}

/**
 * Copies `len` bytes at `off` into a new plain `Uint8Array` (reprs own their bytes). Not
 * `b.slice()`: on a Node `Buffer` (what file readers hand out) that returns a view, not a copy.
 */
export function copyOut(b: Uint8Array, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(b.subarray(off, off + len));
  return out;
}

/** Writes `src` into `dst` at `off`. */
export function copyIn(dst: Uint8Array, off: number, src: Uint8Array): void {
  dst.set(src, off);
}

/** Reads a 6-byte MAC as its high 16 bits (zero-allocation form used by flow keys). */
export function macHi16(b: Uint8Array, off: number): number {
  return ((b[off]! << 8) | b[off + 1]!) >>> 0;
}

/** Reads a 6-byte MAC as its low 32 bits. */
export function macLo32(b: Uint8Array, off: number): number {
  return ((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0;
}

/** Formats a number as `0x` followed by at least `digits` lowercase hex digits. */
export function hex(v: number, digits = 4): string {
  return `0x${v.toString(16).padStart(digits, "0")}`;
}
