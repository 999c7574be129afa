/**
 * Streaming capture reader: the same records as `openCapture`, read from an async byte stream
 * (stdin, a pipe, a Node readable, any `AsyncIterable<Uint8Array>`).
 *
 * Memory: one internal buffer, initially `ReaderOptions.streamBufferSize` (64 KiB). Incoming chunks
 * are copied into it only as far as it has room; the unread tail of a chunk is kept by reference
 * and copied later. When the parser needs more bytes than the buffer holds from the current
 * position, the unread bytes are moved to the front (compaction); only when one record or block is
 * larger than the whole buffer does the buffer grow, by doubling as the record's bytes actually
 * arrive, up to the record's size. The parser checks every declared length against its limits
 * before asking for the bytes. So the buffer never exceeds max(initial size, largest record or
 * block, within the limits), and is never more than twice the bytes received: a bogus length in a
 * short stream costs no allocation.
 *
 * Records are zero-copy views into the internal buffer (`data`, `offset`), valid until the next
 * call to `next()`. A failing stream (its iterator throws) ends the iteration with a
 * `pcap.read-error` diagnostic; a chunk that is not bytes gives `pcap.read-error` too.
 */
import { error, fail, ok } from "../base/index.js";
import type { Diagnostic, Result } from "../base/index.js";
import { CaptureParser, Step } from "./reader.js";
import type { CaptureFormat, CaptureRecord, InterfaceInfo, ReaderOptions, ReaderStats } from "./reader.js";

/**
 * A streaming reader; fields describe the current record, as for `CaptureReader`. Calls must not
 * overlap: await each `next()` before the next call.
 */
export interface CaptureStreamReader extends CaptureRecord {
  /** Advances to the next packet record; resolves false at the end of the stream or on error. */
  next(): Promise<boolean>;
  /**
   * Advances using only bytes already buffered: true or false as `next()` would give, or undefined
   * when more input is needed (then call `next()`). Lets hot loops await only at chunk boundaries.
   */
  tryNext(): boolean | undefined;
  /** Iterates the records; each step yields the reader itself (read its fields, do not keep it). */
  [Symbol.asyncIterator](): AsyncIterator<CaptureStreamReader>;
  /** Stops reading and releases the underlying stream. */
  close(): Promise<void>;
  readonly error: Diagnostic | undefined;
  readonly format: CaptureFormat;
  readonly interfaces: readonly InterfaceInfo[];
  readonly stats: ReaderStats;
  /** Current size of the internal buffer, in bytes. */
  readonly bufferCapacity: number;
  /** Largest size the internal buffer may reach with these options. */
  readonly bufferLimit: number;
}

/** Anything that yields byte chunks: a Node readable, a web stream iterator, an async generator. */
export type ByteStream = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

const DEFAULT_BUFFER = 64 * 1024;

class StreamReader implements CaptureStreamReader {
  private readonly p: CaptureParser;
  private buf: Uint8Array;
  private readonly it: AsyncIterator<Uint8Array | string>;
  private pending: Uint8Array | undefined = undefined;
  private pendingOff = 0;
  private streamDone = false;
  private readonly initialSize: number;
  private readError: Diagnostic | undefined = undefined;

  constructor(it: AsyncIterator<Uint8Array | string>, fileName: string, opts: ReaderOptions | undefined) {
    this.initialSize = Math.max(64, Math.floor(opts?.streamBufferSize ?? DEFAULT_BUFFER));
    this.buf = new Uint8Array(this.initialSize);
    this.it = it;
    this.p = new CaptureParser(this.buf, fileName, opts, false);
    this.p.setWindow(this.buf, 0, 0, 0);
  }

  get data(): Uint8Array {
    return this.p.data;
  }
  get offset(): number {
    return this.p.offset;
  }
  get caplen(): number {
    return this.p.caplen;
  }
  get origlen(): number {
    return this.p.origlen;
  }
  get linkType(): number {
    return this.p.linkType;
  }
  get interfaceId(): number {
    return this.p.interfaceId;
  }
  get tsSec(): number {
    return this.p.tsSec;
  }
  get tsNsec(): number {
    return this.p.tsNsec;
  }
  get index(): number {
    return this.p.index;
  }
  get recordOffset(): number {
    return this.p.recordOffset;
  }
  get error(): Diagnostic | undefined {
    return this.p.error;
  }
  get format(): CaptureFormat {
    return this.p.format;
  }
  get interfaces(): readonly InterfaceInfo[] {
    return this.p.interfaces;
  }
  get stats(): ReaderStats {
    return this.p.stats;
  }
  get bufferCapacity(): number {
    return this.buf.length;
  }
  get bufferLimit(): number {
    return Math.max(this.initialSize, this.p.maxNeed);
  }

  /** Reads the file header; PACKET when done, END on error. */
  async begin(): Promise<number> {
    for (;;) {
      const s = this.p.begin();
      if (s !== Step.NEED_MORE) return this.ended(s);
      await this.fill(this.p.need);
    }
  }

  tryNext(): boolean | undefined {
    const s = this.p.step();
    if (s === Step.NEED_MORE) return undefined;
    return this.ended(s) === Step.PACKET;
  }

  async next(): Promise<boolean> {
    for (;;) {
      const s = this.p.step();
      if (s !== Step.NEED_MORE) return this.ended(s) === Step.PACKET;
      await this.fill(this.p.need);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<CaptureStreamReader> {
    return {
      next: async (): Promise<IteratorResult<CaptureStreamReader>> =>
        (await this.next()) ? { done: false, value: this } : { done: true, value: undefined },
      return: async (): Promise<IteratorResult<CaptureStreamReader>> => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async close(): Promise<void> {
    if (this.streamDone) return;
    this.streamDone = true;
    this.pending = undefined;
    try {
      await this.it.return?.();
    } catch {
      // Releasing a stream that already failed has nothing left to report.
    }
  }

  /**
   * Makes at least `need` unread bytes available from the parser's position, or sets the parser's
   * `eof` when the stream ends first (or fails; then the parser is stopped with a read error).
   */
  private async fill(need: number): Promise<void> {
    const p = this.p;
    let start = p.pos;
    let end = p.end;
    // Move the unread bytes to the front when the record would not fit behind them.
    if (start > 0 && this.buf.length - start < need) {
      this.buf.copyWithin(0, start, end);
      end -= start;
      p.setWindow(this.buf, p.base + start, 0, end);
      start = 0;
    }
    while (end - start < need) {
      if (this.pending === undefined) {
        const chunk = await this.pull();
        if (chunk === undefined) {
          p.eof = true;
          break;
        }
        this.pending = chunk;
        this.pendingOff = 0;
      }
      if (end === this.buf.length) {
        // Full, and the record is larger than the buffer (start is 0 here): grow as data arrives,
        // doubling up to the record's size, so a declared length alone never allocates.
        const grown = new Uint8Array(Math.min(this.buf.length * 2, need));
        grown.set(this.buf.subarray(0, end));
        this.buf = grown;
      }
      const src = this.pending;
      const n = Math.min(src.length - this.pendingOff, this.buf.length - end);
      this.buf.set(src.subarray(this.pendingOff, this.pendingOff + n), end);
      this.pendingOff += n;
      end += n;
      if (this.pendingOff >= src.length) this.pending = undefined;
    }
    p.setWindow(this.buf, p.base, start, end);
  }

  /** The next non-empty chunk, or undefined at the end of the stream or on a read error. */
  private async pull(): Promise<Uint8Array | undefined> {
    while (!this.streamDone) {
      let r: IteratorResult<Uint8Array | string>;
      try {
        r = await this.it.next();
      } catch (e) {
        this.stop(`reading the stream failed: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
      if (r.done === true) {
        this.streamDone = true;
        return undefined;
      }
      const v: unknown = r.value;
      if (!(v instanceof Uint8Array)) {
        this.stop("the stream yielded text instead of bytes: open it without an encoding");
        return undefined;
      }
      if (v.length > 0) return v;
    }
    return undefined;
  }

  /**
   * Ends the input after a read failure. Records already buffered are still delivered; when the
   * parser stops, the read error replaces whatever it reports (a cut-off record is its symptom).
   */
  private stop(message: string): void {
    const p = this.p;
    this.readError ??= error("pcap.read-error", message, { file: p.file, offset: p.base + p.end });
    p.eof = true;
    void this.close();
  }

  private ended(s: number): number {
    if (s === Step.END && this.readError !== undefined) this.p.error = this.readError;
    return s;
  }
}

/**
 * Opens a capture from a byte stream. Resolves once the file header (or first pcapng section
 * header) has been read and checked; records are then read with `next()` / `tryNext()` or
 * `for await`. Never rejects: stream failures become diagnostics.
 */
export async function readCaptureStream(stream: ByteStream, fileName: string, opts?: ReaderOptions): Promise<Result<CaptureStreamReader>> {
  const iterable = stream as AsyncIterable<Uint8Array | string>;
  if (typeof iterable[Symbol.asyncIterator] !== "function") {
    return fail(error("pcap.read-error", "the input is not an async-iterable byte stream", { file: fileName }));
  }
  const r = new StreamReader(iterable[Symbol.asyncIterator](), fileName, opts);
  if ((await r.begin()) !== Step.PACKET) {
    await r.close();
    return fail(r.error!);
  }
  return ok(r);
}
