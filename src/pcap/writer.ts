/**
 * Capture-file writers: classic pcap (`PcapWriter`) and pcapng (`PcapngWriter`).
 *
 * Both write either to memory (`new PcapWriter()`, then `toBytes()`) or to a file
 * (`PcapWriter.create(path)`), and the file is written atomically: bytes go to
 * `<path>.tmp-<pid>-<random>` (created exclusively), and `close()` flushes, syncs and renames it
 * over `path`. `abort()`, or any failure while writing or closing, removes the temporary file, so
 * no half-written capture ever exists under the final name. Write errors do not throw: the writer
 * stops, remembers the diagnostic (`error`), and `close()` returns it.
 *
 * Formats written:
 * - classic pcap, version 2.4, magic a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds), in the
 *   chosen byte order (little-endian by default), one link type (Ethernet by default);
 * - pcapng 1.0, one section (options shb_hardware, shb_os, shb_userappl when given), one interface
 *   description block per `addInterface` (if_name, if_description, if_tsresol; snap length) and
 *   one enhanced packet block per packet (an opt_comment when given).
 *
 * Packets longer than the snap length are cut to it; the original length is kept in the record.
 * Timestamps are (seconds, nanoseconds); a microsecond file truncates the nanoseconds.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { error, fail, invariant, ok } from "../base/index.js";
import type { Diagnostic, Result } from "../base/index.js";
import { LinkType } from "./link-type.js";
import { splitUnits } from "./timestamp.js";

const FLUSH_AT = 1 << 20;
const DEFAULT_SNAPLEN = 262144;

/**
 * Where bytes go: a growable memory buffer, or a buffer flushed to a temporary file that is
 * renamed into place on close.
 */
class Sink {
  buf: Uint8Array;
  view: DataView;
  len = 0;
  error: Diagnostic | undefined = undefined;
  private readonly path: string | undefined;
  private readonly tmp: string | undefined;
  private fd: number | undefined;
  private closed = false;

  private constructor(path: string | undefined, tmp: string | undefined, fd: number | undefined) {
    this.buf = new Uint8Array(path === undefined ? 4096 : FLUSH_AT);
    this.view = new DataView(this.buf.buffer);
    this.path = path;
    this.tmp = tmp;
    this.fd = fd;
  }

  static memory(): Sink {
    return new Sink(undefined, undefined, undefined);
  }

  static file(path: string): Result<Sink> {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
    try {
      const fd = openSync(tmp, "wx", 0o666);
      return ok(new Sink(path, tmp, fd));
    } catch (e) {
      return fail(error("pcap.cannot-write", `cannot create ${tmp}: ${reason(e)}`, { file: path }));
    }
  }

  get isFile(): boolean {
    return this.path !== undefined;
  }

  get failed(): boolean {
    return this.error !== undefined || this.closed;
  }

  /** Makes room for `n` more bytes at `len` and returns `len` (flushing or growing as needed). */
  reserve(n: number): number {
    if (this.buf.length - this.len >= n) return this.len;
    if (this.fd !== undefined && this.len > 0) {
      this.flush();
      if (this.buf.length >= n) return this.len;
    }
    let size = this.buf.length * 2;
    while (size - this.len < n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
    return this.len;
  }

  /** Writes the buffered bytes to the file (file sinks only); a failure aborts the sink. */
  flush(): void {
    if (this.fd === undefined || this.len === 0) return;
    try {
      let off = 0;
      while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
      this.len = 0;
    } catch (e) {
      this.failWith(`cannot write ${this.tmp}: ${reason(e)}`);
    }
  }

  /** Flushes, syncs, closes and renames the temporary file into place. */
  close(): Result<void> {
    if (this.error !== undefined) return fail(this.error);
    if (this.closed) return ok(undefined);
    if (this.fd === undefined) {
      this.closed = true;
      return ok(undefined);
    }
    this.flush();
    if (this.error !== undefined) return fail(this.error);
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp!, this.path!);
    } catch (e) {
      this.failWith(`cannot finish ${this.path}: ${reason(e)}`);
      return fail(this.error!);
    }
    this.closed = true;
    return ok(undefined);
  }

  /** Stops writing and removes the temporary file. Safe to call more than once. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.discard();
  }

  private failWith(message: string): void {
    this.error ??= error("pcap.cannot-write", message, { file: this.path });
    this.discard();
  }

  private discard(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // The descriptor is gone either way; the temporary file is removed below.
      }
      this.fd = undefined;
    }
    if (this.tmp !== undefined) {
      try {
        unlinkSync(this.tmp);
      } catch {
        // Already removed, or never created.
      }
    }
    this.len = 0;
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkTime(tsSec: number, tsNsec: number): void {
  invariant(Number.isInteger(tsSec) && tsSec >= 0, `timestamp seconds must be a non-negative integer, got ${tsSec}`);
  invariant(Number.isInteger(tsNsec) && tsNsec >= 0 && tsNsec < 1_000_000_000, `timestamp nanoseconds must be in 0..999999999, got ${tsNsec}`);
}

/** Options of a classic pcap writer. */
export interface PcapWriterOptions {
  /** Timestamp resolution: "us" (magic a1b2c3d4, the default) or "ns" (magic a1b23c4d). */
  readonly resolution?: "us" | "ns";
  /** Default LinkType.ETHERNET. */
  readonly linkType?: number;
  /** Default 262144. */
  readonly snaplen?: number;
  /** Default false (little-endian, as written on x86 and ARM hosts). */
  readonly bigEndian?: boolean;
}

/** Writes a classic pcap file. */
export class PcapWriter {
  private sink: Sink;
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly snaplen: number;
  private count = 0;

  /** A writer that collects the file in memory (`toBytes()`). */
  constructor(opts: PcapWriterOptions = {}) {
    this.sink = Sink.memory();
    this.le = opts.bigEndian !== true;
    this.nano = opts.resolution === "ns";
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.writeHeader(opts.linkType ?? LinkType.ETHERNET);
  }

  /** A writer to `path`, written atomically (see the module comment). */
  static create(path: string, opts: PcapWriterOptions = {}): Result<PcapWriter> {
    const s = Sink.file(path);
    if (!s.ok) return s;
    const w = new PcapWriter(opts);
    w.sink = s.value;
    w.writeHeader(opts.linkType ?? LinkType.ETHERNET);
    return ok(w);
  }

  private writeHeader(linkType: number): void {
    const s = this.sink;
    const o = s.reserve(24);
    const v = s.view;
    v.setUint32(o, this.nano ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    v.setUint16(o + 4, 2, this.le);
    v.setUint16(o + 6, 4, this.le);
    v.setUint32(o + 8, 0, this.le);
    v.setUint32(o + 12, 0, this.le);
    v.setUint32(o + 16, this.snaplen, this.le);
    v.setUint32(o + 20, linkType, this.le);
    s.len = o + 24;
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** The write error that stopped this writer, if any. */
  get error(): Diagnostic | undefined {
    return this.sink.error;
  }

  /** Appends one packet. `origLen` defaults to the length of `bytes`. */
  writePacket(tsSec: number, tsNsec: number, bytes: Uint8Array, origLen: number = bytes.length): void {
    checkTime(tsSec, tsNsec);
    const s = this.sink;
    if (s.failed) return;
    const cap = Math.min(bytes.length, this.snaplen);
    const o = s.reserve(16 + cap);
    const v = s.view;
    v.setUint32(o, tsSec, this.le);
    v.setUint32(o + 4, this.nano ? tsNsec : Math.floor(tsNsec / 1000), this.le);
    v.setUint32(o + 8, cap, this.le);
    v.setUint32(o + 12, Math.max(origLen, cap), this.le);
    s.buf.set(cap === bytes.length ? bytes : bytes.subarray(0, cap), o + 16);
    s.len = o + 16 + cap;
    this.count++;
    if (s.isFile && s.len >= FLUSH_AT) s.flush();
  }

  /** The file written so far (memory writers only). */
  toBytes(): Uint8Array {
    invariant(!this.sink.isFile, "toBytes() is only for writers created in memory");
    return this.sink.buf.slice(0, this.sink.len);
  }

  /** Finishes the file (renames it into place for file writers). */
  close(): Result<void> {
    return this.sink.close();
  }

  /** Abandons the file: nothing is left under the final name. */
  abort(): void {
    this.sink.abort();
  }
}

/** Options of a pcapng writer's section header. */
export interface PcapngWriterOptions {
  /** Default false (little-endian). */
  readonly bigEndian?: boolean;
  /** shb_userappl, e.g. "ovnsim 0.1.0". */
  readonly application?: string;
  /** shb_hardware. */
  readonly hardware?: string;
  /** shb_os. */
  readonly os?: string;
}

/** One interface of a pcapng file. */
export interface PcapngInterface {
  readonly name?: string;
  /** Default LinkType.ETHERNET. */
  readonly linkType?: number;
  /** Default 262144. */
  readonly snaplen?: number;
  readonly description?: string;
  /** Decimal digits of the timestamps: 9 (nanoseconds, the default) or 6 (microseconds). */
  readonly tsresol?: 6 | 9;
}

const utf8 = new TextEncoder();

/** Writes a pcapng file with one section and any number of named interfaces. */
export class PcapngWriter {
  private sink: Sink;
  private le: boolean;
  private readonly ifaces: { snaplen: number; digits: number }[] = [];
  private count = 0;
  private readonly split = { hi: 0, lo: 0 };

  /** A writer that collects the file in memory (`toBytes()`). */
  constructor(opts: PcapngWriterOptions = {}) {
    this.sink = Sink.memory();
    this.le = opts.bigEndian !== true;
    this.writeShb(opts);
  }

  /** A writer to `path`, written atomically (see the module comment). */
  static create(path: string, opts: PcapngWriterOptions = {}): Result<PcapngWriter> {
    const s = Sink.file(path);
    if (!s.ok) return s;
    const w = new PcapngWriter(opts);
    w.sink = s.value;
    w.writeShb(opts);
    return ok(w);
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** The write error that stopped this writer, if any. */
  get error(): Diagnostic | undefined {
    return this.sink.error;
  }

  /** Adds an interface description block; returns the id to pass to `writePacket`. */
  addInterface(iface: PcapngInterface = {}): number {
    const digits = iface.tsresol ?? 9;
    invariant(digits === 6 || digits === 9, `tsresol must be 6 or 9, got ${String(digits)}`);
    const snaplen = iface.snaplen ?? DEFAULT_SNAPLEN;
    const id = this.ifaces.length;
    this.ifaces.push({ snaplen, digits });
    const opts: [number, Uint8Array][] = [];
    if (iface.name !== undefined) opts.push([2, utf8.encode(iface.name)]);
    if (iface.description !== undefined) opts.push([3, utf8.encode(iface.description)]);
    opts.push([9, Uint8Array.of(digits)]);
    const body = new Uint8Array(8);
    const bv = new DataView(body.buffer);
    bv.setUint16(0, iface.linkType ?? LinkType.ETHERNET, this.le);
    bv.setUint32(4, snaplen, this.le);
    this.writeBlock(1, body, opts);
    return id;
  }

  /** Appends one enhanced packet block. `origLen` defaults to the length of `bytes`. */
  writePacket(ifId: number, tsSec: number, tsNsec: number, bytes: Uint8Array, origLen: number = bytes.length, comment?: string): void {
    const iface = this.ifaces[ifId];
    invariant(iface !== undefined, `writePacket: no interface ${ifId} (add it with addInterface first)`);
    checkTime(tsSec, tsNsec);
    const s = this.sink;
    if (s.failed) return;
    const cap = Math.min(bytes.length, iface.snaplen);
    const padded = (cap + 3) & ~3;
    const text = comment === undefined ? undefined : utf8.encode(comment);
    const optLen = text === undefined ? 0 : 4 + ((text.length + 3) & ~3) + 4;
    const len = 28 + padded + optLen + 4;
    const o = s.reserve(len);
    const v = s.view;
    const le = this.le;
    splitUnits(tsSec, tsNsec, iface.digits, this.split);
    v.setUint32(o, 6, le);
    v.setUint32(o + 4, len, le);
    v.setUint32(o + 8, ifId, le);
    v.setUint32(o + 12, this.split.hi, le);
    v.setUint32(o + 16, this.split.lo, le);
    v.setUint32(o + 20, cap, le);
    v.setUint32(o + 24, Math.max(origLen, cap), le);
    s.buf.set(cap === bytes.length ? bytes : bytes.subarray(0, cap), o + 28);
    s.buf.fill(0, o + 28 + cap, o + 28 + padded);
    let q = o + 28 + padded;
    if (text !== undefined) {
      q = this.putOption(q, 1, text);
      v.setUint32(q, 0, le);
      q += 4;
    }
    v.setUint32(q, len, le);
    s.len = o + len;
    this.count++;
    if (s.isFile && s.len >= FLUSH_AT) s.flush();
  }

  /** The file written so far (memory writers only). */
  toBytes(): Uint8Array {
    invariant(!this.sink.isFile, "toBytes() is only for writers created in memory");
    return this.sink.buf.slice(0, this.sink.len);
  }

  /** Finishes the file (renames it into place for file writers). */
  close(): Result<void> {
    return this.sink.close();
  }

  /** Abandons the file: nothing is left under the final name. */
  abort(): void {
    this.sink.abort();
  }

  private writeShb(opts: PcapngWriterOptions): void {
    const options: [number, Uint8Array][] = [];
    if (opts.hardware !== undefined) options.push([2, utf8.encode(opts.hardware)]);
    if (opts.os !== undefined) options.push([3, utf8.encode(opts.os)]);
    if (opts.application !== undefined) options.push([4, utf8.encode(opts.application)]);
    const body = new Uint8Array(16);
    const bv = new DataView(body.buffer);
    bv.setUint32(0, 0x1a2b3c4d, this.le);
    bv.setUint16(4, 1, this.le);
    bv.setUint16(6, 0, this.le);
    bv.setUint32(8, 0xffffffff, this.le);
    bv.setUint32(12, 0xffffffff, this.le);
    this.writeBlock(0x0a0d0d0a, body, options);
  }

  /** Writes a non-packet block: fixed body, then options (with an end marker when any). */
  private writeBlock(type: number, body: Uint8Array, options: [number, Uint8Array][]): void {
    const s = this.sink;
    if (s.failed) return;
    let optLen = 0;
    for (const [, value] of options) optLen += 4 + ((value.length + 3) & ~3);
    if (options.length > 0) optLen += 4;
    const len = 8 + body.length + optLen + 4;
    const o = s.reserve(len);
    const v = s.view;
    v.setUint32(o, type, this.le);
    v.setUint32(o + 4, len, this.le);
    s.buf.set(body, o + 8);
    let q = o + 8 + body.length;
    for (const [code, value] of options) q = this.putOption(q, code, value);
    if (options.length > 0) {
      v.setUint32(q, 0, this.le);
      q += 4;
    }
    v.setUint32(q, len, this.le);
    s.len = o + len;
  }

  private putOption(q: number, code: number, value: Uint8Array): number {
    const s = this.sink;
    s.view.setUint16(q, code, this.le);
    s.view.setUint16(q + 2, value.length, this.le);
    s.buf.set(value, q + 4);
    const padded = (value.length + 3) & ~3;
    s.buf.fill(0, q + 4 + value.length, q + 4 + padded);
    return q + 4 + padded;
  }
}
