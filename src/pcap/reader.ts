/**
 * Capture-file readers: classic pcap and pcapng, zero-copy, one record at a time.
 *
 * What it is: `openCapture(bytes, fileName)` checks the file header and returns a `CaptureReader`
 * whose `next()` advances to the next packet record and exposes it as plain fields (`data`,
 * `offset`, `caplen`, `origlen`, `linkType`, timestamps...). The packet bytes are never copied:
 * `data` is the caller's buffer and `offset` says where the packet starts in it. What it is not: a
 * packet decoder. This module frames records, converts timestamps and reports link types.
 *
 * Formats read:
 * - classic pcap: a 24-byte file header (magic, version 2.x, time-zone and accuracy fields, snap
 *   length, link type) then records of a 16-byte header (seconds, fraction, captured length,
 *   original length) and the packet. Magic a1b2c3d4 = microsecond fractions, a1b23c4d =
 *   nanosecond fractions, either byte order; a1b2cd34 is the "modified" (Kuznetsov) format whose
 *   record headers have 8 more bytes (interface index, protocol, packet type), which are skipped.
 *   Files of version 2.0-2.2 store the two lengths in the other order, and some 2.3 files do too;
 *   as libpcap and Wireshark do, the lengths are swapped always (< 2.3) or when the captured length
 *   exceeds the original one (2.3). The upper bits of the link-type field (FCS length) are split off.
 * - pcapng: blocks of (type, total length, body, total length again). Section header blocks
 *   (several sections per file, each with its own byte order; major version 1 only), interface
 *   description blocks (link type, snap length, `if_name`, `if_description`, `if_tsresol`,
 *   `if_tsoffset`, `if_fcslen`), enhanced, simple and obsolete packet blocks. Name resolution,
 *   interface statistics, decryption secrets, systemd journal and custom blocks are skipped and
 *   counted in `stats.skippedBlocks`; blocks of unknown type are skipped and counted in
 *   `stats.unknownBlocks`. Interface ids in `interfaceId` are global: the index into `interfaces`
 *   across all sections (the id a block uses inside its section is `InterfaceInfo.localId`).
 *
 * Limits and errors: bad input never throws. A record whose captured length exceeds the record
 * limit (`ReaderOptions.maxRecord`, by default max(snap length, 256 KiB) capped at 16 MiB), a block
 * whose length is not a multiple of 4 or exceeds the block limit (`maxRecord`, by default 16 MiB,
 * plus 64 KiB for headers and options), a length copy at a block's end that differs, or a
 * record running past the end of the data ends the iteration: `next()` returns false and `error`
 * holds a Diagnostic with the file name and the byte offset of the bad record. Lengths are checked
 * before anything is read or reserved, so a bogus length never causes an allocation.
 *
 * Hot path: `next()` on a classic pcap reads four 32-bit words through one DataView made when the
 * reader is created, updates the reader's own fields and allocates nothing. It also reads one byte
 * of every 64-byte line up to `PREFETCH_AHEAD` bytes past the record (a software prefetch): the
 * next record's position depends on this record's length, so without it every record header of a
 * file larger than the caches is a serial memory miss. Measured on a 33 MB capture of real packets
 * (average 340 bytes), a bare loop over the headers went from 13 to 53 Mpps. The touching is done
 * in runs of at least `PREFETCH_AHEAD / 2` bytes, not a few lines per record: a tight loop entered
 * once per dozen records cost about 1 ns less per record than a short one entered every time. pcapng
 * packet blocks allocate nothing either; only interface description blocks do (their
 * `InterfaceInfo`).
 *
 * The same parser also runs over a window of a stream (see `stream.ts`): `step()` then reports
 * NEED_MORE with the number of bytes it needs instead of failing at the end of the window, and
 * makes no change to its state in that case, so it can be called again once more data is in.
 */
import { error, fail, ok, toHex } from "../base/index.js";
import type { Diagnostic, Result } from "../base/index.js";
import { Timebase } from "./timestamp.js";

/** Options for the readers. */
export interface ReaderOptions {
  /**
   * Largest captured length accepted for one packet. Default: max(snap length, 262144) capped at
   * 16 MiB (per interface for pcapng). pcapng blocks may be up to this plus 64 KiB (options).
   */
  readonly maxRecord?: number;
  /** Initial size of the stream reader's buffer (default 64 KiB); it grows only as records need. */
  readonly streamBufferSize?: number;
}

/** One capture interface: a pcapng interface description block, or the whole of a classic pcap. */
export interface InterfaceInfo {
  /** Global index (the `interfaceId` of its packets). */
  readonly id: number;
  /** 0-based section number (always 0 for classic pcap). */
  readonly section: number;
  /** Index of the interface inside its section (what pcapng blocks refer to). */
  readonly localId: number;
  readonly linkType: number;
  /** Snap length; 0 means unlimited. */
  readonly snaplen: number;
  /** `if_name`, when present. */
  readonly name: string | undefined;
  /** `if_description`, when present. */
  readonly description: string | undefined;
  /** Raw `if_tsresol` byte: 6 = microseconds (default), 9 = nanoseconds, 0x80|n = 2^-n seconds. */
  readonly tsresol: number;
  /** `if_tsoffset`: seconds added to every timestamp. */
  readonly tsOffset: number;
  /** Bytes of frame check sequence at the end of each packet, when the file says. */
  readonly fcsLen: number | undefined;
}

/** Counters of what the reader skipped or tolerated. */
export interface ReaderStats {
  /** pcapng blocks of known types that carry no packets (NRB, ISB, DSB, custom, ...). */
  readonly skippedBlocks: number;
  /** pcapng blocks of unknown types. */
  readonly unknownBlocks: number;
  /** pcapng section header blocks read (1 for classic pcap). */
  readonly sections: number;
  /** Malformed option lists, ignored from the bad option on. */
  readonly badOptions: number;
}

/** The current packet record, as fields (valid until the next call to `next()`). */
export interface CaptureRecord {
  /** The buffer holding the packet (for the buffer reader: the file buffer itself). */
  readonly data: Uint8Array;
  /** Where the packet starts in `data`. */
  readonly offset: number;
  readonly caplen: number;
  readonly origlen: number;
  /** Link type of this packet (pcapng: of its interface). */
  readonly linkType: number;
  /** Global interface index; 0 for classic pcap. */
  readonly interfaceId: number;
  /** Seconds since the epoch. */
  readonly tsSec: number;
  /** 0..999_999_999. */
  readonly tsNsec: number;
  /** 0-based packet index. */
  readonly index: number;
  /** Byte offset of the record (its header or block) in the file. */
  readonly recordOffset: number;
}

export type CaptureFormat = "pcap" | "pcapng";

/** A reader over a whole capture in memory. */
export interface CaptureReader extends CaptureRecord {
  /** Advances to the next packet record; false at end of file or on error (see `error`). */
  next(): boolean;
  /** Why `next()` returned false early, if it did. */
  readonly error: Diagnostic | undefined;
  readonly format: CaptureFormat;
  /** pcapng interfaces seen so far; one synthetic entry for classic pcap. */
  readonly interfaces: readonly InterfaceInfo[];
  readonly stats: ReaderStats;
}

/** How far ahead of the current record `next()` touches the buffer (see the module header). */
const PREFETCH_AHEAD = 8192;

/** Default cap on the record limit, and the least record limit (as Wireshark's 256 KiB). */
export const MAX_RECORD_CAP = 16 * 1024 * 1024;
export const MIN_RECORD_LIMIT = 262144;
/** Room allowed in a pcapng block beyond its packet data (headers, options, padding). */
export const BLOCK_OVERHEAD = 65536;

/** Status codes of `CaptureParser.step()`. */
export const Step = { END: 0, PACKET: 1, NEED_MORE: -1 } as const;

/** `stepPcapngBlock` consumed a block that holds no packet. */
const CONSUMED = 2;

const MODE_HEADER = 0;
const MODE_PCAP = 1;
const MODE_PCAPNG = 2;
const MODE_DONE = 3;

const SWAP_NEVER = 0;
const SWAP_ALWAYS = 1;
const SWAP_IF_CAPLEN_GREATER = 2;

/** pcapng block types. */
const BT = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  OPB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  IRIG: 0x00000007,
  ARINC: 0x00000008,
  JOURNAL: 0x00000009,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

const BOM = 0x1a2b3c4d;

/** The least total length of a block of this type (its fixed fields plus header and trailer). */
function minBlockLength(type: number): number {
  switch (type) {
    case BT.EPB:
    case BT.OPB:
      return 32;
    case BT.SHB:
      return 28;
    case BT.IDB:
      return 20;
    case BT.SPB:
      return 16;
    default:
      return 12;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

function recordLimitFor(snaplen: number, opts: ReaderOptions | undefined): number {
  if (opts?.maxRecord !== undefined) return Math.max(0, Math.floor(opts.maxRecord));
  return Math.min(Math.max(snaplen, MIN_RECORD_LIMIT), MAX_RECORD_CAP);
}

/** Per-interface state the parser needs on the hot path. */
class Iface {
  readonly info: InterfaceInfo;
  readonly limit: number;
  readonly time: Timebase;

  constructor(info: InterfaceInfo, limit: number, time: Timebase) {
    this.info = info;
    this.limit = limit;
    this.time = time;
  }
}

/** The message for data that starts with no known magic: what was expected, and what was found. */
function describeMagic(b: Uint8Array, n: number): string {
  const found = toHex(b, 0, Math.min(4, n));
  let msg =
    "expected a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) or a pcapng section header (0a0d0d0a), " +
    `found ${found || "an empty file"}`;
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) msg += " (the file looks gzip-compressed: decompress it first)";
  return msg;
}

/**
 * The parser behind every reader. As a `CaptureReader` it reads a complete buffer (`eof` true);
 * the stream reader drives it over a moving window with `step()`.
 */
export class CaptureParser implements CaptureReader {
  // Current record.
  data: Uint8Array;
  offset = 0;
  caplen = 0;
  origlen = 0;
  linkType = 0;
  interfaceId = 0;
  tsSec = 0;
  tsNsec = 0;
  index = -1;
  recordOffset = 0;

  error: Diagnostic | undefined = undefined;
  format: CaptureFormat = "pcap";
  readonly interfaces: InterfaceInfo[] = [];
  readonly stats = { skippedBlocks: 0, unknownBlocks: 0, sections: 0, badOptions: 0 };

  // The window: data[pos, end) is unread; data[0] is at file offset `base`.
  view: DataView;
  base = 0;
  pos = 0;
  end: number;
  /** True when no bytes follow `end`. */
  eof: boolean;
  /** After NEED_MORE: bytes needed from `pos`. */
  need = 0;
  /** Software prefetch: bytes before this index of `data` have been touched... */
  private touched = 0;
  /** ...and the bytes touched, combined, so that the reads cannot be optimized away. */
  private touchSink = 0;

  readonly file: string;
  private readonly opts: ReaderOptions | undefined;
  private mode = MODE_HEADER;
  private le = true;

  // Classic pcap.
  private recHdr = 16;
  private fracMax = 1_000_000;
  private fracMul = 1000;
  private swap = SWAP_NEVER;
  private limit = MIN_RECORD_LIMIT;

  // pcapng.
  private readonly ifaces: Iface[] = [];
  private sectionFirst = 0;
  private readonly blockLimit: number;

  constructor(data: Uint8Array, file: string, opts: ReaderOptions | undefined, eof: boolean) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.length;
    this.eof = eof;
    this.file = file;
    this.opts = opts;
    this.blockLimit = (opts?.maxRecord !== undefined ? Math.max(0, Math.floor(opts.maxRecord)) : MAX_RECORD_CAP) + BLOCK_OVERHEAD;
  }

  /** Points the parser at a new window (the stream reader's buffer). */
  setWindow(data: Uint8Array, base: number, pos: number, end: number): void {
    if (data !== this.data) {
      this.data = data;
      this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    }
    this.touched = 0;
    this.base = base;
    this.pos = pos;
    this.end = end;
  }

  /** The largest block or record the parser may ask for (the bound on a stream buffer). */
  get maxNeed(): number {
    return this.format === "pcap" && this.interfaces.length > 0 ? this.limit + this.recHdr : this.blockLimit;
  }

  next(): boolean {
    if (this.mode === MODE_PCAP) return this.stepPcap() === Step.PACKET;
    return this.step() === Step.PACKET;
  }

  /** Advances; PACKET, END (end of data or error) or NEED_MORE (only when `eof` is false). */
  step(): number {
    switch (this.mode) {
      case MODE_PCAP:
        return this.stepPcap();
      case MODE_PCAPNG:
        return this.stepPcapng();
      case MODE_HEADER: {
        const s = this.begin();
        return s === Step.PACKET ? this.step() : s;
      }
      default:
        return Step.END;
    }
  }

  /**
   * Reads the file header (pcap) or first section header (pcapng). Returns PACKET when done (the
   * reader is then positioned before the first record), END with `error` set, or NEED_MORE.
   */
  begin(): number {
    if (this.mode !== MODE_HEADER) return this.mode === MODE_DONE ? Step.END : Step.PACKET;
    const p = this.pos;
    const avail = this.end - p;
    if (avail < 4) {
      if (!this.eof) return this.needMore(4);
      if (avail === 0) return this.failAt("pcap.truncated-header", describeMagic(this.data, 0), p);
      return this.failAt("pcap.truncated-header", `file ends after ${avail} bytes, inside the 4-byte magic number`, p);
    }
    const d = this.data;
    const magic = ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
    if (magic === BT.SHB) {
      this.format = "pcapng";
      this.mode = MODE_PCAPNG;
      // The first block must be a valid section header; reading it reports the errors.
      const s = this.stepPcapngBlock(true);
      if (s === Step.NEED_MORE) {
        this.mode = MODE_HEADER;
        return s;
      }
      return s === Step.END ? Step.END : Step.PACKET;
    }
    let le: boolean;
    let nano = false;
    let modified = false;
    switch (magic) {
      case 0xa1b2c3d4:
        le = false;
        break;
      case 0xd4c3b2a1:
        le = true;
        break;
      case 0xa1b23c4d:
        le = false;
        nano = true;
        break;
      case 0x4d3cb2a1:
        le = true;
        nano = true;
        break;
      case 0xa1b2cd34:
        le = false;
        modified = true;
        break;
      case 0x34cdb2a1:
        le = true;
        modified = true;
        break;
      default:
        return this.failAt("pcap.bad-magic", describeMagic(d.subarray(p), avail), p);
    }
    if (avail < 24) {
      if (!this.eof) return this.needMore(24);
      return this.failAt("pcap.truncated-header", `file ends after ${avail} bytes, inside the 24-byte pcap file header`, p);
    }
    const v = this.view;
    const major = v.getUint16(p + 4, le);
    const minor = v.getUint16(p + 6, le);
    if (major !== 2 && major !== 543) {
      return this.failAt("pcap.unsupported-version", `unsupported pcap version ${major}.${minor}: expected 2.x`, p + 4);
    }
    const snaplen = v.getUint32(p + 16, le);
    const network = v.getUint32(p + 20, le);
    this.le = le;
    this.format = "pcap";
    this.recHdr = modified ? 24 : 16;
    this.fracMax = nano ? 1_000_000_000 : 1_000_000;
    this.fracMul = nano ? 1 : 1000;
    this.swap = major === 543 || minor < 3 ? SWAP_ALWAYS : minor === 3 ? SWAP_IF_CAPLEN_GREATER : SWAP_NEVER;
    this.limit = recordLimitFor(snaplen, this.opts);
    this.linkType = network & 0xffff;
    const fcsLen = (network & 0x04000000) !== 0 ? ((network >>> 28) & 0xf) * 2 : undefined;
    const info: InterfaceInfo = {
      id: 0,
      section: 0,
      localId: 0,
      linkType: this.linkType,
      snaplen,
      name: undefined,
      description: undefined,
      tsresol: nano ? 9 : 6,
      tsOffset: 0,
      fcsLen,
    };
    this.interfaces.push(info);
    this.stats.sections = 1;
    this.pos = p + 24;
    this.mode = MODE_PCAP;
    return Step.PACKET;
  }

  private needMore(n: number): number {
    this.need = n;
    return Step.NEED_MORE;
  }

  private failAt(code: string, message: string, at: number): number {
    this.error ??= error(code, message, { file: this.file, offset: this.base + at });
    this.mode = MODE_DONE;
    return Step.END;
  }

  private finish(): number {
    this.mode = MODE_DONE;
    return Step.END;
  }

  private stepPcap(): number {
    const p = this.pos;
    const h = this.recHdr;
    const rem = this.end - p;
    if (rem < h) {
      if (!this.eof) return this.needMore(h);
      if (rem === 0) return this.finish();
      return this.failAt("pcap.truncated-header", `file ends inside a packet record header: ${rem} of ${h} bytes present`, p);
    }
    const v = this.view;
    const le = this.le;
    let sec = v.getUint32(p, le);
    let frac = v.getUint32(p + 4, le);
    let cap = v.getUint32(p + 8, le);
    let orig = v.getUint32(p + 12, le);
    if (this.swap !== SWAP_NEVER && (this.swap === SWAP_ALWAYS || cap > orig)) {
      const t = cap;
      cap = orig;
      orig = t;
    }
    if (cap > this.limit) {
      return this.failAt(
        "pcap.record-too-long",
        `packet record declares ${cap} captured bytes, more than the limit of ${this.limit} (snap length ${this.interfaces[0]!.snaplen}); the file is probably corrupt`,
        p,
      );
    }
    const d = p + h;
    if (this.end - d < cap) {
      if (!this.eof) return this.needMore(h + cap);
      return this.failAt(
        "pcap.truncated-record",
        // Numbered from 1, as tshark numbers frames: `index` is the last good packet's, from 0.
        `packet record ${this.index + 2} declares ${cap} captured bytes but only ${this.end - d} remain in the file`,
        p,
      );
    }
    if (frac >= this.fracMax) {
      const carry = Math.floor(frac / this.fracMax);
      sec += carry;
      frac -= carry * this.fracMax;
    }
    this.tsSec = sec;
    this.tsNsec = frac * this.fracMul;
    this.offset = d;
    this.caplen = cap;
    this.origlen = orig;
    this.recordOffset = this.base + p;
    this.index++;
    const next = d + cap;
    this.pos = next;
    if (this.touched - next < PREFETCH_AHEAD / 2) this.touchAhead(next);
    return Step.PACKET;
  }

  /** Touches one byte per 64-byte line up to `PREFETCH_AHEAD` bytes past `next` (see the module header). */
  private touchAhead(next: number): void {
    let q = this.touched > next ? this.touched : next;
    const lim = next + PREFETCH_AHEAD < this.end ? next + PREFETCH_AHEAD : this.end;
    const data = this.data;
    let t = this.touchSink;
    for (; q < lim; q += 64) t ^= data[q]!;
    this.touchSink = t;
    this.touched = q;
  }

  private stepPcapng(): number {
    for (;;) {
      const s = this.stepPcapngBlock(false);
      if (s !== CONSUMED) return s;
    }
  }

  /**
   * Reads one block. Returns PACKET for a packet block, CONSUMED for a block that was consumed without
   * giving a packet, END (end of data or error) or NEED_MORE. `first` is true for the file's first
   * block, which must be a section header.
   */
  private stepPcapngBlock(first: boolean): number {
    const p = this.pos;
    const avail = this.end - p;
    if (avail < 12) {
      if (!this.eof) return this.needMore(12);
      if (avail === 0 && !first) return this.finish();
      return this.failAt("pcap.truncated-header", `file ends inside a pcapng block header: ${avail} of at least 12 bytes present`, p);
    }
    const d = this.data;
    const v = this.view;
    let le = this.le;
    const isShb = d[p] === 0x0a && d[p + 1] === 0x0d && d[p + 2] === 0x0d && d[p + 3] === 0x0a;
    if (isShb) {
      const bomBe = v.getUint32(p + 8, false);
      if (bomBe === BOM) le = false;
      else if (v.getUint32(p + 8, true) === BOM) le = true;
      else {
        return this.failAt(
          "pcapng.bad-byte-order-magic",
          `section header byte-order magic is ${hex32(bomBe)}: expected 1a2b3c4d in either byte order`,
          p + 8,
        );
      }
    }
    const type = isShb ? BT.SHB : v.getUint32(p, le);
    const len = v.getUint32(p + 4, le);
    const min = minBlockLength(type);
    if (len < min || (len & 3) !== 0 || len > this.blockLimit) {
      return this.failAt(
        "pcapng.bad-block-length",
        `block of type 0x${hex32(type)} declares total length ${len}: expected a multiple of 4, at least ${min} and at most ${this.blockLimit}`,
        p,
      );
    }
    if (avail < len) {
      if (!this.eof) return this.needMore(len);
      return this.failAt(
        "pcap.truncated-record",
        `block of type 0x${hex32(type)} declares ${len} bytes but only ${avail} remain in the file`,
        p,
      );
    }
    const trailer = v.getUint32(p + len - 4, le);
    if (trailer !== len) {
      return this.failAt(
        "pcapng.bad-block-length",
        `block of type 0x${hex32(type)} has total length ${len} at its start but ${trailer} at its end`,
        p + len - 4,
      );
    }
    if (isShb) {
      const major = v.getUint16(p + 12, le);
      const minor = v.getUint16(p + 14, le);
      if (major !== 1) {
        return this.failAt(
          "pcapng.unsupported-version",
          `section header declares pcapng version ${major}.${minor}: expected major version 1`,
          p + 12,
        );
      }
      this.le = le;
      this.sectionFirst = this.ifaces.length;
      this.stats.sections++;
      this.pos = p + len;
      return CONSUMED;
    }
    switch (type) {
      case BT.EPB:
      case BT.OPB: {
        const id = type === BT.EPB ? v.getUint32(p + 8, le) : v.getUint16(p + 8, le);
        const cap = v.getUint32(p + 20, le);
        const gid = this.sectionFirst + id;
        if (gid >= this.ifaces.length) return this.noInterface(type, id, p);
        const room = len - 32;
        if (cap > room) {
          return this.failAt(
            "pcapng.bad-captured-length",
            `${type === BT.EPB ? "enhanced" : "obsolete"} packet block declares ${cap} captured bytes but has room for only ${room}`,
            p + 20,
          );
        }
        const iface = this.ifaces[gid]!;
        if (cap > iface.limit) return this.tooLong(cap, iface, p);
        iface.time.readEpoch(v, p + 12, le, this);
        this.origlen = v.getUint32(p + 24, le);
        this.setRecord(p, p + 28, cap, iface, gid);
        this.pos = p + len;
        return Step.PACKET;
      }
      case BT.SPB: {
        const gid = this.sectionFirst;
        if (gid >= this.ifaces.length) return this.noInterface(type, 0, p);
        const iface = this.ifaces[gid]!;
        const orig = v.getUint32(p + 8, le);
        let cap = Math.min(orig, len - 16);
        if (iface.info.snaplen !== 0 && cap > iface.info.snaplen) cap = iface.info.snaplen;
        if (cap > iface.limit) return this.tooLong(cap, iface, p);
        this.tsSec = 0;
        this.tsNsec = 0;
        this.origlen = orig;
        this.setRecord(p, p + 12, cap, iface, gid);
        this.pos = p + len;
        return Step.PACKET;
      }
      case BT.IDB:
        this.readIdb(p, len);
        this.pos = p + len;
        return CONSUMED;
      case BT.NRB:
      case BT.ISB:
      case BT.IRIG:
      case BT.ARINC:
      case BT.JOURNAL:
      case BT.DSB:
      case BT.CUSTOM:
      case BT.CUSTOM_NOCOPY:
        this.stats.skippedBlocks++;
        this.pos = p + len;
        return CONSUMED;
      default:
        this.stats.unknownBlocks++;
        this.pos = p + len;
        return CONSUMED;
    }
  }

  /** Sets the record fields other than the timestamp and original length (set by the caller). */
  private setRecord(p: number, dataOff: number, cap: number, iface: Iface, gid: number): void {
    this.offset = dataOff;
    this.caplen = cap;
    this.linkType = iface.info.linkType;
    this.interfaceId = gid;
    this.recordOffset = this.base + p;
    this.index++;
  }

  private noInterface(type: number, id: number, p: number): number {
    const n = this.ifaces.length - this.sectionFirst;
    const kind = type === BT.EPB ? "enhanced" : type === BT.OPB ? "obsolete" : "simple";
    return this.failAt(
      "pcapng.no-interface",
      `${kind} packet block refers to interface ${id}, but its section has ${n} interface description block${n === 1 ? "" : "s"} before it`,
      p,
    );
  }

  private tooLong(cap: number, iface: Iface, p: number): number {
    return this.failAt(
      "pcap.record-too-long",
      `packet block declares ${cap} captured bytes, more than the limit of ${iface.limit} (interface ${iface.info.id}, snap length ${iface.info.snaplen}); the file is probably corrupt`,
      p,
    );
  }

  private readIdb(p: number, len: number): void {
    const v = this.view;
    const le = this.le;
    const linkType = v.getUint16(p + 8, le);
    const snaplen = v.getUint32(p + 12, le);
    let name: string | undefined;
    let description: string | undefined;
    let tsresol = 6;
    let tsOffset = 0;
    let fcsLen: number | undefined;
    const end = p + len - 4;
    let o = p + 16;
    while (o < end) {
      if (end - o < 4) {
        this.stats.badOptions++;
        break;
      }
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === 0) break;
      const val = o + 4;
      if (val + olen > end) {
        this.stats.badOptions++;
        break;
      }
      switch (code) {
        case 2:
          name = utf8.decode(this.data.subarray(val, val + olen));
          break;
        case 3:
          description = utf8.decode(this.data.subarray(val, val + olen));
          break;
        case 9:
          if (olen >= 1) tsresol = this.data[val]!;
          break;
        case 13:
          if (olen >= 1) fcsLen = this.data[val]!;
          break;
        case 14:
          if (olen >= 8) {
            const a = v.getUint32(val, le);
            const b = v.getUint32(val + 4, le);
            const hi = le ? b : a;
            const lo = le ? a : b;
            tsOffset = (hi | 0) * 4294967296 + lo;
          }
          break;
        default:
          break;
      }
      o = val + ((olen + 3) & ~3);
    }
    const id = this.ifaces.length;
    const info: InterfaceInfo = {
      id,
      section: this.stats.sections - 1,
      localId: id - this.sectionFirst,
      linkType,
      snaplen,
      name,
      description,
      tsresol,
      tsOffset,
      fcsLen,
    };
    this.interfaces.push(info);
    this.ifaces.push(new Iface(info, recordLimitFor(snaplen, this.opts), new Timebase(tsresol, tsOffset)));
  }
}

/**
 * Opens a capture held in memory. Checks the file header (classic pcap) or the first section header
 * (pcapng) at once; everything after it is read lazily by `next()`.
 */
export function openCapture(bytes: Uint8Array, fileName: string, opts?: ReaderOptions): Result<CaptureReader> {
  const r = new CaptureParser(bytes, fileName, opts, true);
  if (r.begin() !== Step.PACKET) return fail(r.error!);
  return ok(r);
}
