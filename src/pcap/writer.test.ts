/**
 * Writers: the exact bytes of small files (checked field by field against the format layout),
 * and random round trips through the reader.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LinkType, PcapWriter, PcapngWriter, openCapture } from "./index.js";
import type { CaptureReader } from "./index.js";
import { pattern } from "./testing.js";

function reopen(bytes: Uint8Array): CaptureReader {
  const r = openCapture(bytes, "w");
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

describe("PcapWriter", () => {
  it("writes the 24-byte header and 16-byte record headers of pcap 2.4", () => {
    const w = new PcapWriter({ resolution: "ns", linkType: LinkType.RAW, snaplen: 1000 });
    w.writePacket(1_700_000_000, 123_456_789, pattern(20), 40);
    const b = w.toBytes();
    const v = new DataView(b.buffer);
    expect(b.length).toBe(24 + 16 + 20);
    expect([v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), v.getUint32(16, true), v.getUint32(20, true)]).toEqual([
      0xa1b23c4d, 2, 4, 1000, 101,
    ]);
    expect([v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true), v.getUint32(36, true)]).toEqual([1_700_000_000, 123_456_789, 20, 40]);
    expect([...b.subarray(40)]).toEqual([...pattern(20)]);
    expect(w.packets).toBe(1);
  });

  it("writes microseconds big-endian when asked, truncating nanoseconds", () => {
    const w = new PcapWriter({ bigEndian: true });
    w.writePacket(5, 999_999_999, pattern(3));
    const b = w.toBytes();
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, false)).toBe(0xa1b2c3d4);
    expect(v.getUint32(20, false)).toBe(1);
    expect(v.getUint32(28, false)).toBe(999_999);
  });

  it("cuts packets to the snap length and keeps the original length", () => {
    const w = new PcapWriter({ snaplen: 8 });
    w.writePacket(0, 0, pattern(20));
    const r = reopen(w.toBytes());
    expect(r.next()).toBe(true);
    expect([r.caplen, r.origlen]).toEqual([8, 20]);
    expect([...r.data.subarray(r.offset, r.offset + 8)]).toEqual([...pattern(8)]);
  });

  it("round-trips random packets", () => {
    const pkt = fc.record({
      sec: fc.integer({ min: 0, max: 0xffffffff }),
      nsec: fc.integer({ min: 0, max: 999_999_999 }),
      data: fc.uint8Array({ maxLength: 300 }),
      extra: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.array(pkt, { maxLength: 30 }), fc.boolean(), fc.boolean(), (pkts, nano, be) => {
        const w = new PcapWriter({ resolution: nano ? "ns" : "us", bigEndian: be });
        for (const p of pkts) w.writePacket(p.sec, p.nsec, p.data, p.data.length + p.extra);
        const r = reopen(w.toBytes());
        const got: unknown[] = [];
        while (r.next()) got.push([r.tsSec, r.tsNsec, r.origlen, [...r.data.subarray(r.offset, r.offset + r.caplen)]]);
        expect(r.error).toBeUndefined();
        expect(got).toEqual(pkts.map((p) => [p.sec, nano ? p.nsec : Math.floor(p.nsec / 1000) * 1000, p.data.length + p.extra, [...p.data]]));
      }),
      { numRuns: 200 },
    );
  });

  it("rejects impossible timestamps as a programming error", () => {
    const w = new PcapWriter();
    expect(() => w.writePacket(1, 1_000_000_000, pattern(1))).toThrow(/nanoseconds/);
    expect(() => w.writePacket(-1, 0, pattern(1))).toThrow(/seconds/);
  });

  it("toBytes is for memory writers only; close of a memory writer is ok", () => {
    const w = new PcapWriter();
    expect(w.close()).toEqual({ ok: true, value: undefined });
    expect(w.toBytes().length).toBe(24);
  });
});

describe("PcapngWriter", () => {
  it("writes SHB, IDB with options, and EPB with the layout of pcapng 1.0", () => {
    const w = new PcapngWriter({ application: "app" });
    const id = w.addInterface({ name: "eth0", snaplen: 100, tsresol: 6 });
    w.writePacket(id, 2, 500_000_000, pattern(5), 9, "hi");
    const b = w.toBytes();
    const v = new DataView(b.buffer);
    // SHB: type, length 40 (12 + 16 + option 4+4 + end 4), BOM, version 1.0, section length -1.
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint16(12, true), v.getUint16(14, true)]).toEqual([
      0x0a0d0d0a, 40, 0x1a2b3c4d, 1, 0,
    ]);
    expect([v.getInt32(16, true), v.getInt32(20, true)]).toEqual([-1, -1]);
    expect([v.getUint16(24, true), v.getUint16(26, true), new TextDecoder().decode(b.subarray(28, 31))]).toEqual([4, 3, "app"]);
    expect(v.getUint32(36, true)).toBe(40);
    // IDB at 40: linktype 1, snaplen 100, if_name "eth0", if_tsresol 6, end.
    const i = 40;
    expect([v.getUint32(i, true), v.getUint32(i + 4, true), v.getUint16(i + 8, true), v.getUint32(i + 12, true)]).toEqual([1, 40, 1, 100]);
    expect([v.getUint16(i + 16, true), v.getUint16(i + 18, true), new TextDecoder().decode(b.subarray(i + 20, i + 24))]).toEqual([2, 4, "eth0"]);
    expect([v.getUint16(i + 24, true), v.getUint16(i + 26, true), b[i + 28]]).toEqual([9, 1, 6]);
    // EPB at 80: iface 0, ts 2_500_000 us, caplen 5, len 9, data padded to 8, comment, end.
    const e = 80;
    expect([v.getUint32(e, true), v.getUint32(e + 8, true), v.getUint32(e + 12, true), v.getUint32(e + 16, true), v.getUint32(e + 20, true), v.getUint32(e + 24, true)]).toEqual([
      6, 0, 0, 2_500_000, 5, 9,
    ]);
    expect([v.getUint16(e + 36, true), v.getUint16(e + 38, true)]).toEqual([1, 2]);
    const len = v.getUint32(e + 4, true);
    expect(len).toBe(28 + 8 + 8 + 4 + 4);
    expect(v.getUint32(e + len - 4, true)).toBe(len);
    expect(b.length).toBe(e + len);
  });

  it("round-trips packets on several named interfaces, both byte orders", () => {
    for (const bigEndian of [false, true]) {
      const w = new PcapngWriter({ bigEndian });
      const a = w.addInterface({ name: "eth0", description: "node1 uplink" });
      const b = w.addInterface({ name: "br-int", linkType: LinkType.LINUX_SLL2, tsresol: 6, snaplen: 64 });
      w.writePacket(a, 1_700_000_000, 1, pattern(70, 1));
      w.writePacket(b, 1_700_000_000, 999_999_999, pattern(70, 2));
      w.writePacket(a, 4_000_000_000, 5, pattern(0));
      const r = reopen(w.toBytes());
      const got: unknown[] = [];
      while (r.next()) got.push([r.interfaceId, r.linkType, r.tsSec, r.tsNsec, r.caplen, r.origlen, r.caplen > 0 ? r.data[r.offset] : undefined]);
      expect(r.error).toBeUndefined();
      expect(got).toEqual([
        [0, 1, 1_700_000_000, 1, 70, 70, 1],
        [1, 276, 1_700_000_000, 999_999_000, 64, 70, 2],
        [0, 1, 4_000_000_000, 5, 0, 0, undefined],
      ]);
      expect(r.interfaces.map((i) => [i.name, i.description, i.tsresol, i.snaplen])).toEqual([
        ["eth0", "node1 uplink", 9, 262144],
        ["br-int", undefined, 6, 64],
      ]);
    }
  });

  it("refuses a packet for an interface it does not have (a programming error)", () => {
    const w = new PcapngWriter();
    expect(() => w.writePacket(0, 0, 0, pattern(1))).toThrow(/no interface 0/);
  });
});
