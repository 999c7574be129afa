/**
 * The stream reader against the buffer reader: same records and same diagnostics for hand-built
 * files fed in random chunks, bounded buffer growth, and stream failures as diagnostics.
 */
import { Readable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { openCapture, readCaptureStream } from "./index.js";
import type { CaptureRecord, CaptureStreamReader } from "./index.js";
import type { Diagnostic } from "../base/index.js";
import { block, concat, epb, idb, pattern, pcapHeader, pcapRecord, shb, spb, text } from "./testing.js";

interface Summary {
  records: string[];
  error: Pick<Diagnostic, "code" | "offset" | "file"> | undefined;
}

function describeRecord(r: CaptureRecord): string {
  let h = 0;
  for (let i = r.offset; i < r.offset + r.caplen; i++) h = (Math.imul(h, 31) + r.data[i]!) >>> 0;
  return `${r.index}@${r.recordOffset} if${r.interfaceId} lt${r.linkType} ${r.caplen}/${r.origlen} ${r.tsSec}.${r.tsNsec} #${h}`;
}

function pick(d: Diagnostic | undefined): Summary["error"] {
  return d === undefined ? undefined : { code: d.code, offset: d.offset, file: d.file };
}

function viaBuffer(bytes: Uint8Array): Summary {
  const r = openCapture(bytes, "f");
  if (!r.ok) return { records: [], error: pick(r.diags[0]) };
  const records: string[] = [];
  while (r.value.next()) records.push(describeRecord(r.value));
  return { records, error: pick(r.value.error) };
}

/** Yields `bytes` in chunks of the given sizes (cycled). */
async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let o = 0;
  let i = 0;
  while (o < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.slice(o, o + n);
    o += n;
  }
}

async function viaStream(source: AsyncIterable<Uint8Array | string>, opts?: { streamBufferSize?: number }): Promise<Summary & { maxCapacity: number; limit: number }> {
  const r = await readCaptureStream(source, "f", opts);
  if (!r.ok) return { records: [], error: pick(r.diags[0]), maxCapacity: 0, limit: 0 };
  const s = r.value;
  const records: string[] = [];
  let maxCapacity = s.bufferCapacity;
  while (await s.next()) {
    records.push(describeRecord(s));
    maxCapacity = Math.max(maxCapacity, s.bufferCapacity);
  }
  return { records, error: pick(s.error), maxCapacity, limit: s.bufferLimit };
}

const SAMPLES: Record<string, Uint8Array> = {
  pcap: concat(
    pcapHeader({ snaplen: 2000 }),
    ...Array.from({ length: 40 }, (_, i) => pcapRecord({ sec: 1000 + i, frac: i * 1000, data: pattern((i * 37) % 1500, i) })),
  ),
  "pcap big-endian ns": concat(
    pcapHeader({ magic: 0xa1b23c4d, le: false }),
    ...Array.from({ length: 10 }, (_, i) => pcapRecord({ le: false, sec: i, frac: 999_999_990 + i, data: pattern(60 + i, i) })),
  ),
  "pcap truncated": concat(pcapHeader(), pcapRecord({ sec: 1, frac: 2, data: pattern(100) }), pcapRecord({ sec: 1, frac: 2, data: pattern(100) }).subarray(0, 50)),
  "pcap too long": concat(pcapHeader(), pcapRecord({ sec: 1, frac: 2, data: pattern(100) }), pcapRecord({ sec: 1, frac: 2, data: pattern(4), caplen: 0xfffffff0 })),
  pcapng: concat(
    shb(true, 1, 0, [[4, text("x")]]),
    idb({ opts: [[2, text("eth0")], [9, Uint8Array.of(9)]] }),
    block(4, pattern(20)),
    ...Array.from({ length: 20 }, (_, i) => epb({ ts: [i, i * 7919], data: pattern(i * 50, i) })),
    shb(false),
    idb({ le: false, snaplen: 64, linkType: 113 }),
    spb(pattern(100), 300, false),
    block(0xbad, pattern(3000), { le: false }),
    epb({ le: false, data: pattern(33) }),
  ),
  "pcapng bad trailer": concat(shb(), idb(), epb({ data: pattern(10) }), block(6, new Uint8Array(40), { trailer: 12 })),
  "pcapng version 2": concat(shb(), idb(), epb({ data: pattern(10) }), shb(true, 2, 0), idb()),
  "bad magic": Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
  empty: new Uint8Array(0),
};

describe("stream reader = buffer reader", () => {
  for (const [name, bytes] of Object.entries(SAMPLES)) {
    it(`${name}: same records and diagnostics in any chunking`, async () => {
      const expected = viaBuffer(bytes);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 20 }), async (sizes) => {
          const got = await viaStream(chunked(bytes, sizes), { streamBufferSize: 64 });
          expect(got.records).toEqual(expected.records);
          expect(got.error).toEqual(expected.error);
        }),
        { numRuns: 40 },
      );
    });
  }

  it("one-byte chunks", async () => {
    const bytes = SAMPLES.pcapng!;
    const got = await viaStream(chunked(bytes, [1]));
    expect(got.records).toEqual(viaBuffer(bytes).records);
    expect(got.records.length).toBeGreaterThan(20);
  });
});

describe("stream reader buffer", () => {
  it("grows only to the largest record, from a small start", async () => {
    const bytes = concat(pcapHeader(), pcapRecord({ sec: 0, frac: 0, data: pattern(10) }), pcapRecord({ sec: 0, frac: 0, data: pattern(5000) }), pcapRecord({ sec: 0, frac: 0, data: pattern(10) }));
    const got = await viaStream(chunked(bytes, [65536]), { streamBufferSize: 64 });
    expect(got.records).toHaveLength(3);
    expect(got.maxCapacity).toBeGreaterThanOrEqual(5016);
    expect(got.maxCapacity).toBeLessThanOrEqual(2 * 5016);
  });

  it("does not grow for a bogus length in a long stream", async () => {
    // A record declaring 200 KiB (within the 256 KiB limit) followed by plenty of data: the
    // buffer may grow to hold that record, but never beyond the limit.
    const bytes = concat(pcapHeader(), pcapRecord({ sec: 0, frac: 0, data: pattern(8), caplen: 200 * 1024 }), new Uint8Array(300 * 1024));
    const got = await viaStream(chunked(bytes, [4096]));
    expect(got.maxCapacity).toBeLessThanOrEqual(got.limit);
    expect(got.limit).toBe(262144 + 16);
    const tooLong = concat(pcapHeader(), pcapRecord({ sec: 0, frac: 0, data: pattern(8), caplen: 0x7fffffff }), new Uint8Array(100_000));
    const g2 = await viaStream(chunked(tooLong, [4096]));
    expect(g2.error?.code).toBe("pcap.record-too-long");
    expect(g2.maxCapacity).toBe(65536);
  });

  it("reports its limit from maxRecord", async () => {
    const r = await readCaptureStream(chunked(SAMPLES.pcap!, [100]), "f", { maxRecord: 1000, streamBufferSize: 128 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.bufferLimit).toBe(1000 + 16);
    const ng = await readCaptureStream(chunked(SAMPLES.pcapng!, [100]), "f", { maxRecord: 1000, streamBufferSize: 128 });
    expect(ng.ok && ng.value.bufferLimit).toBe(1000 + 65536);
  });
});

describe("stream sources and failures", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-pcap-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a Node file stream", async () => {
    const path = join(dir, "a.pcapng");
    writeFileSync(path, SAMPLES.pcapng!);
    const got = await viaStream(createReadStream(path, { highWaterMark: 777 }));
    expect(got.records).toEqual(viaBuffer(SAMPLES.pcapng!).records);
  });

  it("reads a Readable.from of Buffers", async () => {
    const bytes = SAMPLES.pcap!;
    const got = await viaStream(Readable.from([Buffer.from(bytes.subarray(0, 1000)), Buffer.from(bytes.subarray(1000))]));
    expect(got.records).toEqual(viaBuffer(bytes).records);
  });

  it("a stream that fails mid-way gives the records before and a read error", async () => {
    const bytes = SAMPLES.pcap!;
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 3000);
      throw new Error("EIO: disk on fire");
    }
    const got = await viaStream(failing());
    expect(got.error?.code).toBe("pcap.read-error");
    expect(got.error?.offset).toBe(3000);
    const all = viaBuffer(bytes).records;
    expect(got.records.length).toBeGreaterThan(0);
    expect(got.records).toEqual(all.slice(0, got.records.length));
  });

  it("a stream failing before the header is an open error", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.of(0xd4, 0xc3);
      throw new Error("broken pipe");
    }
    const r = await readCaptureStream(failing(), "in");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags[0]!.code).toBe("pcap.read-error");
    expect(r.diags[0]!.message).toContain("broken pipe");
  });

  it("a text stream is a read error", async () => {
    async function* textual(): AsyncGenerator<string> {
      yield "hello";
    }
    const r = await readCaptureStream(textual(), "in");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diags[0]!.code).toBe("pcap.read-error");
  });

  it("a non-stream is an error, not a throw", async () => {
    const r = await readCaptureStream(42 as unknown as AsyncIterable<Uint8Array>, "in");
    expect(r.ok).toBe(false);
  });

  it("for await yields each record; tryNext reads only what is buffered", async () => {
    const bytes = SAMPLES.pcap!;
    const r = await readCaptureStream(chunked(bytes, [2000]), "f");
    if (!r.ok) throw new Error("open");
    const s: CaptureStreamReader = r.value;
    const seen: string[] = [];
    // Drain what is buffered, then await the rest.
    for (;;) {
      const t = s.tryNext();
      if (t === undefined) {
        if (!(await s.next())) break;
      } else if (!t) break;
      seen.push(describeRecord(s));
    }
    expect(seen).toEqual(viaBuffer(bytes).records);

    const r2 = await readCaptureStream(chunked(bytes, [999]), "f");
    if (!r2.ok) throw new Error("open");
    const viaFor: string[] = [];
    for await (const rec of r2.value) viaFor.push(describeRecord(rec));
    expect(viaFor).toEqual(seen);
  });

  it("close() releases the source early", async () => {
    let released = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield SAMPLES.pcap!;
      } finally {
        released = true;
      }
    }
    const r = await readCaptureStream(source(), "f");
    if (!r.ok) throw new Error("open");
    expect(await r.value.next()).toBe(true);
    await r.value.close();
    expect(released).toBe(true);
  });
});
