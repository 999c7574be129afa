/**
 * The buffer reader on hand-built minimal files: every magic, byte order and resolution, every
 * pcapng block type, and every error with its code and exact offset.
 */
import { describe, expect, it } from "vitest";
import { openCapture } from "./index.js";
import type { CaptureReader, ReaderOptions } from "./index.js";
import { block, concat, epb, idb, options, pattern, pcapHeader, pcapRecord, shb, spb, text, u64 } from "./testing.js";

function open(bytes: Uint8Array, opts?: ReaderOptions): CaptureReader {
  const r = openCapture(bytes, "t.pcap", opts);
  if (!r.ok) throw new Error(`open failed: ${r.diags[0]!.code}: ${r.diags[0]!.message}`);
  return r.value;
}

interface Rec {
  bytes: number[];
  caplen: number;
  origlen: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  index: number;
  recordOffset: number;
}

function readAll(r: CaptureReader): Rec[] {
  const out: Rec[] = [];
  while (r.next()) {
    out.push({
      bytes: [...r.data.subarray(r.offset, r.offset + r.caplen)],
      caplen: r.caplen,
      origlen: r.origlen,
      tsSec: r.tsSec,
      tsNsec: r.tsNsec,
      linkType: r.linkType,
      interfaceId: r.interfaceId,
      index: r.index,
      recordOffset: r.recordOffset,
    });
  }
  return out;
}

function openError(bytes: Uint8Array) {
  const r = openCapture(bytes, "bad.pcap");
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error("unreachable");
  expect(r.diags).toHaveLength(1);
  return r.diags[0]!;
}

describe("classic pcap", () => {
  const variants = [
    { name: "microseconds little-endian", magic: 0xa1b2c3d4, le: true, nano: false, modified: false },
    { name: "microseconds big-endian", magic: 0xa1b2c3d4, le: false, nano: false, modified: false },
    { name: "nanoseconds little-endian", magic: 0xa1b23c4d, le: true, nano: true, modified: false },
    { name: "nanoseconds big-endian", magic: 0xa1b23c4d, le: false, nano: true, modified: false },
    { name: "modified little-endian", magic: 0xa1b2cd34, le: true, nano: false, modified: true },
    { name: "modified big-endian", magic: 0xa1b2cd34, le: false, nano: false, modified: true },
  ];
  for (const v of variants) {
    it(`reads ${v.name}`, () => {
      const p1 = pattern(60, 1);
      const p2 = pattern(14, 2);
      const h = v.modified ? 24 : 16;
      const file = concat(
        pcapHeader({ magic: v.magic, le: v.le, snaplen: 1500, network: 1 }),
        pcapRecord({ le: v.le, sec: 1_600_000_000, frac: v.nano ? 123_456_789 : 123_456, data: p1, origlen: 70, modified: v.modified }),
        pcapRecord({ le: v.le, sec: 1_600_000_001, frac: v.nano ? 999_999_999 : 999_999, data: p2, modified: v.modified }),
      );
      const r = open(file);
      expect(r.format).toBe("pcap");
      expect(r.interfaces).toEqual([
        {
          id: 0,
          section: 0,
          localId: 0,
          linkType: 1,
          snaplen: 1500,
          name: undefined,
          description: undefined,
          tsresol: v.nano ? 9 : 6,
          tsOffset: 0,
          fcsLen: undefined,
        },
      ]);
      const recs = readAll(r);
      expect(recs).toEqual([
        {
          bytes: [...p1],
          caplen: 60,
          origlen: 70,
          tsSec: 1_600_000_000,
          tsNsec: v.nano ? 123_456_789 : 123_456_000,
          linkType: 1,
          interfaceId: 0,
          index: 0,
          recordOffset: 24,
        },
        {
          bytes: [...p2],
          caplen: 14,
          origlen: 14,
          tsSec: 1_600_000_001,
          tsNsec: v.nano ? 999_999_999 : 999_999_000,
          linkType: 1,
          interfaceId: 0,
          index: 1,
          recordOffset: 24 + h + 60,
        },
      ]);
      expect(r.error).toBeUndefined();
      expect(r.next()).toBe(false);
    });
  }

  it("is zero-copy: data is the caller's buffer and offset points into it", () => {
    const file = concat(pcapHeader(), pcapRecord({ sec: 1, frac: 0, data: pattern(20, 7) }));
    const r = open(file);
    expect(r.next()).toBe(true);
    expect(r.data).toBe(file);
    expect(r.offset).toBe(40);
    expect(file[r.offset]).toBe(7);
  });

  it("reads an empty capture (header only)", () => {
    const r = open(pcapHeader());
    expect(r.next()).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.index).toBe(-1);
  });

  it("swaps the two lengths of version 2.0-2.2 files always, and of 2.3 files when caplen > len", () => {
    const data = pattern(10);
    const old = open(concat(pcapHeader({ minor: 2 }), pcapRecord({ sec: 0, frac: 0, data, caplen: 500, origlen: 10 })));
    expect(old.next()).toBe(true);
    expect([old.caplen, old.origlen]).toEqual([10, 500]);

    const v23 = open(
      concat(
        pcapHeader({ minor: 3 }),
        pcapRecord({ sec: 0, frac: 0, data, caplen: 500, origlen: 10 }),
        pcapRecord({ sec: 0, frac: 0, data, caplen: 10, origlen: 500 }),
      ),
    );
    expect(v23.next()).toBe(true);
    expect([v23.caplen, v23.origlen]).toEqual([10, 500]);
    expect(v23.next()).toBe(true);
    expect([v23.caplen, v23.origlen]).toEqual([10, 500]);

    const v24 = open(concat(pcapHeader({ minor: 4 }), pcapRecord({ sec: 0, frac: 0, data, caplen: 10, origlen: 5 })));
    expect(v24.next()).toBe(true);
    expect([v24.caplen, v24.origlen]).toEqual([10, 5]);
  });

  it("carries an out-of-range fraction into the seconds", () => {
    const r = open(
      concat(
        pcapHeader({ magic: 0xa1b23c4d }),
        pcapRecord({ sec: 10, frac: 2_500_000_001, data: pattern(4) }),
      ),
    );
    expect(r.next()).toBe(true);
    expect([r.tsSec, r.tsNsec]).toEqual([12, 500_000_001]);
    const u = open(concat(pcapHeader(), pcapRecord({ sec: 10, frac: 1_000_000, data: pattern(4) })));
    expect(u.next()).toBe(true);
    expect([u.tsSec, u.tsNsec]).toEqual([11, 0]);
  });

  it("splits the FCS bits off the link-type field", () => {
    const r = open(pcapHeader({ network: (2 << 28) | 0x04000000 | 1 }));
    expect(r.interfaces[0]!.linkType).toBe(1);
    expect(r.interfaces[0]!.fcsLen).toBe(4);
    expect(r.linkType).toBe(1);
    const fuzz = open(pcapHeader({ network: 0x40000000 }));
    expect(fuzz.interfaces[0]!.linkType).toBe(0);
    expect(fuzz.interfaces[0]!.fcsLen).toBeUndefined();
  });

  it("accepts a record longer than the snap length but within 256 KiB", () => {
    const r = open(concat(pcapHeader({ snaplen: 64 }), pcapRecord({ sec: 0, frac: 0, data: pattern(1000) })));
    expect(r.next()).toBe(true);
    expect(r.caplen).toBe(1000);
  });
});

describe("classic pcap errors", () => {
  it("bad magic names what was expected and what was found", () => {
    const d = openError(Uint8Array.of(0x4d, 0x5a, 0x90, 0x00, ...new Array<number>(40).fill(0)));
    expect(d.code).toBe("pcap.bad-magic");
    expect(d.offset).toBe(0);
    expect(d.file).toBe("bad.pcap");
    expect(d.message).toBe(
      "expected a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) or a pcapng section header (0a0d0d0a), found 4d5a9000",
    );
  });

  it("recognizes gzip and says so", () => {
    const d = openError(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0));
    expect(d.code).toBe("pcap.bad-magic");
    expect(d.message).toContain("gzip");
  });

  it("an empty file is a truncated header", () => {
    const d = openError(new Uint8Array(0));
    expect(d.code).toBe("pcap.truncated-header");
    expect(d.message).toContain("empty file");
  });

  it("a truncated global header", () => {
    const d = openError(pcapHeader().subarray(0, 10));
    expect(d.code).toBe("pcap.truncated-header");
    expect(d.offset).toBe(0);
    expect(d.message).toContain("after 10 bytes");
  });

  it("an unsupported version", () => {
    const d = openError(pcapHeader({ major: 1 }));
    expect(d.code).toBe("pcap.unsupported-version");
    expect(d.offset).toBe(4);
  });

  it("a truncated record header, after the packets before it", () => {
    const good = pcapRecord({ sec: 1, frac: 0, data: pattern(30) });
    const file = concat(pcapHeader(), good, pcapRecord({ sec: 2, frac: 0, data: pattern(5) }).subarray(0, 9));
    const r = open(file);
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.truncated-header");
    expect(r.error?.offset).toBe(24 + 46);
    expect(r.error?.file).toBe("t.pcap");
    expect(r.error?.message).toContain("9 of 16 bytes");
    // The reader stays stopped.
    expect(r.next()).toBe(false);
  });

  it("a truncated record gives its offset and what remains", () => {
    const file = concat(pcapHeader(), pcapRecord({ sec: 1, frac: 0, data: pattern(30) })).subarray(0, 24 + 16 + 20);
    const r = open(file);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.truncated-record");
    expect(r.error?.offset).toBe(24);
    expect(r.error?.message).toContain("declares 30 captured bytes but only 20 remain");
  });

  it("a truncated record is numbered from 1, as tshark numbers frames", () => {
    const two = concat(pcapHeader(), pcapRecord({ sec: 1, frac: 0, data: pattern(10) }), pcapRecord({ sec: 2, frac: 0, data: pattern(30) }));
    const r = open(two.subarray(0, two.length - 10));
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.message).toContain("packet record 2 declares 30 captured bytes");
  });

  it("a record longer than the limit is an error at its exact offset, not an allocation", () => {
    const first = pcapRecord({ sec: 1, frac: 0, data: pattern(100) });
    const huge = pcapRecord({ sec: 2, frac: 0, data: pattern(8), caplen: 0xffffffff });
    const file = concat(pcapHeader({ snaplen: 65535 }), first, huge);
    const r = open(file);
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.record-too-long");
    expect(r.error?.offset).toBe(24 + 116);
    expect(r.error?.message).toContain("limit of 262144");
  });

  it("the limit follows a snap length above 256 KiB, capped at 16 MiB", () => {
    const rec = (n: number) => pcapRecord({ sec: 0, frac: 0, data: new Uint8Array(0), caplen: n });
    const big = open(concat(pcapHeader({ snaplen: 1_000_000 }), rec(1_000_001)));
    expect(big.next()).toBe(false);
    expect(big.error?.code).toBe("pcap.record-too-long");
    expect(big.error?.message).toContain("limit of 1000000");
    const capped = open(concat(pcapHeader({ snaplen: 0x7fffffff }), rec(16 * 1024 * 1024 + 1)));
    expect(capped.next()).toBe(false);
    expect(capped.error?.code).toBe("pcap.record-too-long");
    // Within the limit but past the end of the data: truncated, not too long.
    const within = open(concat(pcapHeader({ snaplen: 1_000_000 }), rec(999_999)));
    expect(within.next()).toBe(false);
    expect(within.error?.code).toBe("pcap.truncated-record");
  });

  it("maxRecord overrides the limit", () => {
    const file = concat(pcapHeader(), pcapRecord({ sec: 0, frac: 0, data: pattern(100) }));
    const r = open(file, { maxRecord: 99 });
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.record-too-long");
    const ok = open(file, { maxRecord: 100 });
    expect(ok.next()).toBe(true);
  });
});

describe("pcapng", () => {
  for (const le of [true, false]) {
    const order = le ? "little-endian" : "big-endian";

    it(`reads SHB, IDB with options, EPB (${order})`, () => {
      const p1 = pattern(61, 3);
      const file = concat(
        shb(le, 1, 0, [[4, text("test app")]]),
        idb({ le, linkType: 1, snaplen: 9000, opts: [[2, text("eth0")], [3, text("uplink")], [9, Uint8Array.of(9)], [13, Uint8Array.of(4)]] }),
        epb({ le, iface: 0, ts: [0x17, 0x2d9b_b9d5], data: p1, origlen: 90, opts: [[1, text("a comment")]] }),
      );
      const r = open(file);
      expect(r.format).toBe("pcapng");
      const recs = readAll(r);
      expect(r.error).toBeUndefined();
      expect(r.interfaces).toEqual([
        { id: 0, section: 0, localId: 0, linkType: 1, snaplen: 9000, name: "eth0", description: "uplink", tsresol: 9, tsOffset: 0, fcsLen: 4 },
      ]);
      // 0x17_2d9bb9d5 ns = 99_543_399_893 ns.
      const ns = 0x17n * 2n ** 32n + 0x2d9bb9d5n;
      expect(recs).toEqual([
        {
          bytes: [...p1],
          caplen: 61,
          origlen: 90,
          tsSec: Number(ns / 1_000_000_000n),
          tsNsec: Number(ns % 1_000_000_000n),
          linkType: 1,
          interfaceId: 0,
          index: 0,
          recordOffset: shb(le, 1, 0, [[4, text("test app")]]).length + idb({ le, snaplen: 9000, opts: [[2, text("eth0")], [3, text("uplink")], [9, Uint8Array.of(9)], [13, Uint8Array.of(4)]] }).length,
        },
      ]);
      expect(r.stats).toEqual({ skippedBlocks: 0, unknownBlocks: 0, sections: 1, badOptions: 0 });
    });

    it(`reads SPB with caplen = min(orig len, snaplen, block room) (${order})`, () => {
      const file = concat(
        shb(le),
        idb({ le, snaplen: 20 }),
        spb(pattern(16), 16, le), // room 16, orig 16: 16
        spb(pattern(32), 100, le), // room 32, orig 100, snaplen 20: 20
        spb(pattern(12), 10, le), // room 12, orig 10: 10
      );
      const recs = readAll(open(file));
      expect(recs.map((r) => [r.caplen, r.origlen])).toEqual([
        [16, 16],
        [20, 100],
        [10, 10],
      ]);
      expect(recs[1]!.bytes).toEqual([...pattern(20)]);
      expect(recs.every((r) => r.tsSec === 0 && r.tsNsec === 0)).toBe(true);
    });

    it(`reads OPB, the obsolete packet block (${order})`, () => {
      const file = concat(shb(le), idb({ le }), idb({ le, linkType: 101 }), epb({ le, obsolete: true, iface: 1, ts: [0, 2_000_001], data: pattern(9) }));
      const recs = readAll(open(file));
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ interfaceId: 1, linkType: 101, caplen: 9, tsSec: 2, tsNsec: 1000 });
    });
  }

  it("default resolution is microseconds; binary resolutions and if_tsoffset apply", () => {
    const file = concat(
      shb(),
      idb(),
      idb({ opts: [[9, Uint8Array.of(0x80 | 10)]] }),
      idb({ opts: [[9, Uint8Array.of(3)], [14, u64(-100)]] }),
      epb({ iface: 0, ts: [0, 1_500_000], data: pattern(1) }),
      epb({ iface: 1, ts: [0, 3 * 1024 + 512], data: pattern(1) }),
      epb({ iface: 2, ts: [0, 1234], data: pattern(1) }),
    );
    const r = open(file);
    const recs = readAll(r);
    expect(recs.map((x) => [x.tsSec, x.tsNsec])).toEqual([
      [1, 500_000_000],
      [3, 500_000_000],
      [1 - 100, 234_000_000],
    ]);
    expect(r.interfaces.map((i) => [i.tsresol, i.tsOffset])).toEqual([
      [6, 0],
      [0x8a, 0],
      [3, -100],
    ]);
  });

  it("skips and counts NRB, ISB, custom, DSB and journal blocks, and unknown ones", () => {
    const file = concat(
      shb(),
      block(4, new Uint8Array(4)),
      idb(),
      block(5, new Uint8Array(12)),
      epb({ data: pattern(5) }),
      block(0x0bad, pattern(9)),
      block(0x40000bad, pattern(4)),
      block(0x0a, new Uint8Array(8)),
      block(9, new Uint8Array(0)),
      block(0x12345, pattern(3)),
      block(0x80000001, new Uint8Array(0)),
      epb({ data: pattern(6) }),
    );
    const r = open(file);
    expect(readAll(r).map((x) => x.caplen)).toEqual([5, 6]);
    expect(r.error).toBeUndefined();
    expect(r.stats).toEqual({ skippedBlocks: 6, unknownBlocks: 2, sections: 1, badOptions: 0 });
  });

  it("reads several sections with different byte orders; interface ids are global", () => {
    const file = concat(
      shb(true),
      idb({ le: true, opts: [[2, text("a")]] }),
      epb({ le: true, iface: 0, data: pattern(4, 1) }),
      shb(false),
      idb({ le: false, linkType: 113, opts: [[2, text("b")]] }),
      idb({ le: false, linkType: 276, opts: [[2, text("c")]] }),
      epb({ le: false, iface: 1, data: pattern(5, 2) }),
      epb({ le: false, iface: 0, data: pattern(6, 3) }),
      shb(true),
      idb({ le: true, linkType: 101 }),
      epb({ le: true, iface: 0, data: pattern(7, 4) }),
    );
    const r = open(file);
    const recs = readAll(r);
    expect(r.error).toBeUndefined();
    expect(recs.map((x) => [x.interfaceId, x.linkType, x.caplen])).toEqual([
      [0, 1, 4],
      [2, 276, 5],
      [1, 113, 6],
      [3, 101, 7],
    ]);
    expect(r.interfaces.map((i) => [i.id, i.section, i.localId, i.name])).toEqual([
      [0, 0, 0, "a"],
      [1, 1, 0, "b"],
      [2, 1, 1, "c"],
      [3, 2, 0, undefined],
    ]);
    expect(r.stats.sections).toBe(3);
  });

  it("counts a malformed option list and keeps what came before it", () => {
    const le = true;
    const opts = options(le, [[2, text("eth9")]]);
    // An option claiming 200 bytes, inside a 24-byte option area.
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint16(0, 3, true);
    new DataView(bad.buffer).setUint16(2, 200, true);
    const body = concat(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), opts.subarray(0, opts.length - 4), bad);
    const r = open(concat(shb(), block(1, body), epb({ data: pattern(3) })));
    expect(r.next()).toBe(true);
    expect(r.interfaces[0]!.name).toBe("eth9");
    expect(r.interfaces[0]!.description).toBeUndefined();
    expect(r.stats.badOptions).toBe(1);
  });
});

describe("pcapng errors", () => {
  it("bad block length: not a multiple of 4", () => {
    const good = concat(shb(), idb());
    const bad = epb({ data: pattern(8) });
    new DataView(bad.buffer).setUint32(4, bad.length + 2, true);
    const r = open(concat(good, bad));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.bad-block-length");
    expect(r.error?.offset).toBe(good.length);
  });

  it("bad block length: 0xffffffff is rejected before anything is read", () => {
    const good = concat(shb(), idb(), epb({ data: pattern(8) }));
    const r = open(concat(good, block(6, new Uint8Array(24), { length: 0xffffffff })));
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.bad-block-length");
    expect(r.error?.offset).toBe(good.length);
    expect(r.error?.message).toContain("4294967295");
  });

  it("bad block length: shorter than the block type needs", () => {
    const r = open(concat(shb(), block(1, new Uint8Array(4))));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.bad-block-length");
    expect(r.error?.message).toContain("at least 20");
  });

  it("bad block length: trailing copy differs", () => {
    const head = concat(shb(), idb());
    const bad = block(6, new Uint8Array(24), { trailer: 40 });
    const r = open(concat(head, bad));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.bad-block-length");
    expect(r.error?.offset).toBe(head.length + bad.length - 4);
    expect(r.error?.message).toContain("36 at its start but 40 at its end");
  });

  it("a block running past the end of the file is a truncated record", () => {
    const head = concat(shb(), idb());
    const file = concat(head, epb({ data: pattern(40) })).subarray(0, head.length + 30);
    const r = open(file);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.truncated-record");
    expect(r.error?.offset).toBe(head.length);
  });

  it("a file ending inside a block header", () => {
    const head = concat(shb(), idb());
    const r = open(concat(head, Uint8Array.of(6, 0, 0)));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcap.truncated-header");
    expect(r.error?.offset).toBe(head.length);
  });

  it("an EPB for a missing interface", () => {
    const head = concat(shb(), idb());
    const r = open(concat(head, epb({ iface: 1, data: pattern(4) })));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.no-interface");
    expect(r.error?.offset).toBe(head.length);
    expect(r.error?.message).toContain("interface 1");
  });

  it("an SPB before any IDB", () => {
    const r = open(concat(shb(), spb(pattern(4))));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.no-interface");
  });

  it("interfaces of an earlier section are gone in the next one", () => {
    const r = open(concat(shb(), idb(), epb({ data: pattern(4) }), shb(), epb({ data: pattern(4) })));
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.no-interface");
  });

  it("an EPB whose captured length exceeds its block", () => {
    const bad = epb({ data: pattern(8), caplen: 12 });
    const head = concat(shb(), idb());
    const r = open(concat(head, bad));
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.bad-captured-length");
    expect(r.error?.offset).toBe(head.length + 20);
  });

  it("an EPB longer than the record limit", () => {
    const r = open(concat(shb(), idb({ snaplen: 0 }), epb({ data: pattern(100) })), { maxRecord: 64 });
    expect(r.next()).toBe(false);
    // The block itself (100 + 32 bytes) is within maxRecord + 64 KiB; the packet is not.
    expect(r.error?.code).toBe("pcap.record-too-long");
  });

  it("a second section with major version 2 fails after the packets before it (as pcapng test901)", () => {
    const first = concat(shb(), idb(), epb({ data: pattern(10) }));
    const file = concat(first, shb(true, 2, 0), idb(), epb({ data: pattern(10) }));
    const r = open(file);
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.error?.code).toBe("pcapng.unsupported-version");
    expect(r.error?.offset).toBe(first.length + 12);
    expect(r.error?.message).toContain("2.0");
  });

  it("a first section with an unsupported version fails at open", () => {
    const d = openError(concat(shb(true, 2, 0), idb()));
    expect(d.code).toBe("pcapng.unsupported-version");
    expect(d.offset).toBe(12);
  });

  it("a bad byte-order magic", () => {
    const b = shb();
    b.set([1, 2, 3, 4], 8);
    const d = openError(b);
    expect(d.code).toBe("pcapng.bad-byte-order-magic");
    expect(d.offset).toBe(8);
    expect(d.message).toContain("01020304");
  });

  it("a truncated first section header", () => {
    const d = openError(shb().subarray(0, 20));
    expect(d.code).toBe("pcap.truncated-record");
    expect(d.offset).toBe(0);
  });
});
