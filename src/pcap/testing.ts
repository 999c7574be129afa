/**
 * Byte-level builders of capture files, for tests.
 *
 * Unlike the writers, these put every field exactly where the caller says, including wrong
 * lengths, unknown block types, odd versions and mixed byte orders, so that tests can hand-build
 * both valid minimal files and each kind of broken one. They are written independently of the
 * writers (plain DataView stores at offsets taken from the format descriptions), so a test that
 * reads a built file does not check the reader against itself.
 */

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Bytes 0, 1, 2, ... (mod 256) of length `n`, offset by `seed`, as recognizable packet contents. */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) & 0xff;
  return b;
}

export interface PcapHeaderSpec {
  /** The magic as a number, written in the file's byte order (default a1b2c3d4). */
  readonly magic?: number;
  readonly le?: boolean;
  readonly major?: number;
  readonly minor?: number;
  readonly snaplen?: number;
  /** The whole 32-bit link-type field (default 1, Ethernet). */
  readonly network?: number;
}

/** A 24-byte classic pcap file header. */
export function pcapHeader(spec: PcapHeaderSpec = {}): Uint8Array {
  const le = spec.le ?? true;
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, spec.magic ?? 0xa1b2c3d4, le);
  v.setUint16(4, spec.major ?? 2, le);
  v.setUint16(6, spec.minor ?? 4, le);
  v.setInt32(8, 0, le);
  v.setUint32(12, 0, le);
  v.setUint32(16, spec.snaplen ?? 65535, le);
  v.setUint32(20, spec.network ?? 1, le);
  return b;
}

export interface PcapRecordSpec {
  readonly le?: boolean;
  readonly sec: number;
  /** Microseconds or nanoseconds, as the file's magic says. */
  readonly frac: number;
  readonly data: Uint8Array;
  /** The third header word (default data.length). */
  readonly caplen?: number;
  /** The fourth header word (default data.length). */
  readonly origlen?: number;
  /** 8 extra header bytes of the "modified" format (a1b2cd34). */
  readonly modified?: boolean;
}

/** One classic pcap record: header then data. */
export function pcapRecord(r: PcapRecordSpec): Uint8Array {
  const le = r.le ?? true;
  const h = r.modified === true ? 24 : 16;
  const b = new Uint8Array(h + r.data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, r.sec, le);
  v.setUint32(4, r.frac, le);
  v.setUint32(8, r.caplen ?? r.data.length, le);
  v.setUint32(12, r.origlen ?? r.data.length, le);
  if (r.modified === true) {
    v.setUint32(16, 7, le);
    v.setUint16(20, 0x0800, le);
    b[22] = 0;
  }
  b.set(r.data, h);
  return b;
}

/** A pcapng option list entry: code and raw value (padded when written). */
export type Opt = readonly [code: number, value: Uint8Array];

/** Encodes options followed by opt_endofopt (nothing when the list is empty). */
export function options(le: boolean, opts: readonly Opt[]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const [code, value] of opts) {
    const o = new Uint8Array(4 + ((value.length + 3) & ~3));
    const v = new DataView(o.buffer);
    v.setUint16(0, code, le);
    v.setUint16(2, value.length, le);
    o.set(value, 4);
    parts.push(o);
  }
  parts.push(new Uint8Array(4));
  return concat(...parts);
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export interface BlockSpec {
  readonly le?: boolean;
  /** Overrides the leading total length. */
  readonly length?: number;
  /** Overrides the trailing total length. */
  readonly trailer?: number;
}

/** A pcapng block: type, total length, body padded to 4, total length. */
export function block(type: number, body: Uint8Array, spec: BlockSpec = {}): Uint8Array {
  const le = spec.le ?? true;
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, spec.length ?? len, le);
  b.set(body, 8);
  v.setUint32(len - 4, spec.trailer ?? len, le);
  return b;
}

/** A section header block. */
export function shb(le = true, major = 1, minor = 0, opts: readonly Opt[] = []): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, major, le);
  v.setUint16(6, minor, le);
  v.setInt32(8, -1, le);
  v.setInt32(12, -1, le);
  return block(0x0a0d0d0a, concat(body, options(le, opts)), { le });
}

export interface IdbSpec {
  readonly le?: boolean;
  readonly linkType?: number;
  readonly snaplen?: number;
  readonly opts?: readonly Opt[];
}

/** An interface description block. */
export function idb(spec: IdbSpec = {}): Uint8Array {
  const le = spec.le ?? true;
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setUint16(0, spec.linkType ?? 1, le);
  v.setUint32(4, spec.snaplen ?? 0, le);
  return block(1, concat(body, options(le, spec.opts ?? [])), { le });
}

export interface EpbSpec {
  readonly le?: boolean;
  readonly iface?: number;
  /** Timestamp in the interface's units, as [high word, low word]. */
  readonly ts?: readonly [number, number];
  readonly data: Uint8Array;
  readonly caplen?: number;
  readonly origlen?: number;
  readonly opts?: readonly Opt[];
  /** Writes an obsolete packet block (type 2) instead, with a 16-bit interface id. */
  readonly obsolete?: boolean;
}

/** An enhanced (or obsolete) packet block. */
export function epb(spec: EpbSpec): Uint8Array {
  const le = spec.le ?? true;
  const head = new Uint8Array(20);
  const v = new DataView(head.buffer);
  if (spec.obsolete === true) {
    v.setUint16(0, spec.iface ?? 0, le);
    v.setUint16(2, 0, le);
  } else {
    v.setUint32(0, spec.iface ?? 0, le);
  }
  v.setUint32(4, spec.ts?.[0] ?? 0, le);
  v.setUint32(8, spec.ts?.[1] ?? 0, le);
  v.setUint32(12, spec.caplen ?? spec.data.length, le);
  v.setUint32(16, spec.origlen ?? spec.data.length, le);
  const data = new Uint8Array((spec.data.length + 3) & ~3);
  data.set(spec.data);
  return block(spec.obsolete === true ? 2 : 6, concat(head, data, options(le, spec.opts ?? [])), { le });
}

/** A simple packet block. */
export function spb(data: Uint8Array, origlen = data.length, le = true): Uint8Array {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, origlen, le);
  return block(3, concat(head, data), { le });
}

/** Little-endian 64-bit integer bytes (for if_tsoffset), from a safe integer. */
export function u64(value: number, le = true): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(value), le);
  return b;
}
