/**
 * Property test: randomly damaged pcap and pcapng files never make the readers throw, hang or
 * allocate much.
 *
 * Seeds are hand-built files covering every record and block type (plus a few small real captures
 * when the shared collection is present). Each run applies a few mutations — bit flips, 32-bit
 * words overwritten with huge or zero values (lengths among them), cuts at random points, and
 * spliced garbage — and then checks:
 * - opening and reading never throw, and end after a bounded number of steps, with packets
 *   and/or exactly one Diagnostic carrying the file name and an offset inside the file;
 * - every record lies inside the file and has a valid timestamp;
 * - the stream reader, fed the same bytes in random chunks, gives exactly the same records and
 *   the same diagnostic, and its buffer stays within its limit and within twice the input size.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openCapture, readCaptureStream } from "../../src/pcap/index.js";
import type { CaptureRecord } from "../../src/pcap/index.js";
import { block, concat, epb, idb, pattern, pcapHeader, pcapRecord, shb, spb, text, u64 } from "../../src/pcap/testing.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");

const BUILT: Uint8Array[] = [
  concat(pcapHeader({ snaplen: 256 }), ...Array.from({ length: 8 }, (_, i) => pcapRecord({ sec: 1e9 + i, frac: i * 77_777, data: pattern(20 + i * 9, i) }))),
  concat(pcapHeader({ magic: 0xa1b23c4d, le: false }), ...Array.from({ length: 5 }, (_, i) => pcapRecord({ le: false, sec: i, frac: 999_999_000 + i, data: pattern(60, i) }))),
  concat(pcapHeader({ magic: 0xa1b2cd34 }), ...Array.from({ length: 4 }, (_, i) => pcapRecord({ sec: i, frac: i, data: pattern(33, i), modified: true }))),
  concat(pcapHeader({ minor: 2 }), pcapRecord({ sec: 1, frac: 1, data: pattern(10), caplen: 50, origlen: 10 })),
  concat(
    shb(true, 1, 0, [[4, text("fuzz")]]),
    idb({ snaplen: 128, opts: [[2, text("eth0")], [9, Uint8Array.of(9)], [14, u64(5)]] }),
    idb({ linkType: 113, opts: [[9, Uint8Array.of(0x8a)]] }),
    block(4, pattern(16)),
    ...Array.from({ length: 6 }, (_, i) => epb({ iface: i % 2, ts: [i, i * 1_000_003], data: pattern(40 + i, i), opts: [[1, text("c")]] })),
    spb(pattern(64), 200),
    epb({ obsolete: true, iface: 1, data: pattern(12) }),
    block(5, new Uint8Array(12)),
    block(0xbad, pattern(20)),
    shb(false),
    idb({ le: false }),
    epb({ le: false, data: pattern(30) }),
  ),
];

function realSeeds(): Uint8Array[] {
  const names = [
    "tunnels/vxlan/tcpdump-vxlan.pcap",
    "formats/pcapng-suite/be/test202.pcapng",
    "formats/pcapng-suite/le/test102.pcapng",
    "formats/zeek-pcapng-multi-interface.pcapng",
    "formats/pcpp-nanosecs-big-endian.pcap",
  ];
  const out: Uint8Array[] = [];
  for (const n of names) {
    const p = join(PCAPS, n);
    if (existsSync(p)) out.push(new Uint8Array(readFileSync(p)));
  }
  if (out.length === 0) console.warn(`pcap-fuzz: no real seeds (no capture collection at ${PCAPS}); using hand-built seeds only`);
  return out;
}

const SEEDS = [...BUILT, ...realSeeds()];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "word"; at: number; value: number; le: boolean }
  | { kind: "cut"; at: number }
  | { kind: "splice"; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant("word" as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 12, 0x01000000, 0x00ffffff), fc.integer({ min: 0, max: 0xffffffff })),
    le: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
);

function mutate(seed: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = seed.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case "flip":
        b[at]! ^= 1 << m.bit;
        break;
      case "word":
        if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, m.value, m.le);
        break;
      case "cut":
        b = b.slice(0, at);
        break;
      case "splice":
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      default: {
        const never: never = m;
        throw new Error(`unknown mutation ${String(never)}`);
      }
    }
  }
  return b;
}

function summarize(r: CaptureRecord): string {
  let h = 0;
  for (let i = r.offset; i < r.offset + r.caplen; i++) h = (Math.imul(h, 31) + r.data[i]!) >>> 0;
  return `${r.index}@${r.recordOffset} if${r.interfaceId} lt${r.linkType} ${r.caplen}/${r.origlen} ${r.tsSec}.${r.tsNsec} #${h}`;
}

interface Outcome {
  records: string[];
  code: string | undefined;
  offset: number | undefined;
}

function readBuffer(bytes: Uint8Array): Outcome {
  const o = openCapture(bytes, "fuzz.cap");
  if (!o.ok) {
    expect(o.diags).toHaveLength(1);
    const d = o.diags[0]!;
    expect(d.file).toBe("fuzz.cap");
    expect(d.offset).toBeGreaterThanOrEqual(0);
    expect(d.offset).toBeLessThanOrEqual(bytes.length);
    expect(d.message.length).toBeGreaterThan(10);
    return { records: [], code: d.code, offset: d.offset };
  }
  const r = o.value;
  const records: string[] = [];
  // Every record or block takes at least 12 bytes, so this many steps always suffice.
  const maxSteps = Math.floor(bytes.length / 12) + 2;
  let steps = 0;
  while (r.next()) {
    steps++;
    expect(steps).toBeLessThanOrEqual(maxSteps);
    expect(r.data).toBe(bytes);
    expect(r.offset).toBeGreaterThanOrEqual(r.recordOffset);
    expect(r.offset + r.caplen).toBeLessThanOrEqual(bytes.length);
    expect(Number.isInteger(r.tsNsec) && r.tsNsec >= 0 && r.tsNsec < 1e9).toBe(true);
    expect(Number.isFinite(r.tsSec)).toBe(true);
    records.push(summarize(r));
  }
  expect(r.next()).toBe(false);
  if (r.error !== undefined) {
    expect(r.error.file).toBe("fuzz.cap");
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
  }
  return { records, code: r.error?.code, offset: r.error?.offset };
}

async function* chunks(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let o = 0;
  let i = 0;
  while (o < bytes.length) {
    const n = sizes[i++ % sizes.length]!;
    yield bytes.slice(o, o + n);
    o += n;
  }
}

async function readStream(bytes: Uint8Array, sizes: readonly number[]): Promise<Outcome> {
  const initial = 256;
  const o = await readCaptureStream(chunks(bytes, sizes), "fuzz.cap", { streamBufferSize: initial });
  if (!o.ok) return { records: [], code: o.diags[0]!.code, offset: o.diags[0]!.offset };
  const r = o.value;
  const records: string[] = [];
  const maxSteps = Math.floor(bytes.length / 12) + 2;
  while (await r.next()) {
    records.push(summarize(r));
    expect(records.length).toBeLessThanOrEqual(maxSteps);
    expect(r.bufferCapacity).toBeLessThanOrEqual(r.bufferLimit);
    expect(r.bufferCapacity).toBeLessThanOrEqual(Math.max(initial, 2 * bytes.length));
  }
  expect(r.bufferCapacity).toBeLessThanOrEqual(Math.max(initial, 2 * bytes.length));
  return { records, code: r.error?.code, offset: r.error?.offset };
}

describe("damaged captures", () => {
  it("end in packets and/or one diagnostic; the stream reader agrees", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        async (seed, ms, sizes) => {
          const bytes = mutate(SEEDS[seed]!, ms);
          const buffered = readBuffer(bytes);
          const streamed = await readStream(bytes, sizes);
          expect(streamed).toEqual(buffered);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("length fields set to huge values are rejected without reading or reserving them", async () => {
    // Every 32-bit position of every seed, set to 0xffffffff in both byte orders.
    for (const seed of BUILT) {
      for (let at = 0; at + 4 <= seed.length; at += 4) {
        for (const le of [true, false]) {
          const bytes = mutate(seed, [{ kind: "word", at, value: 0xffffffff, le }]);
          const buffered = readBuffer(bytes);
          const streamed = await readStream(bytes, [4096]);
          expect(streamed).toEqual(buffered);
        }
      }
    }
  });

  it("every cut point of every seed ends cleanly or with a truncation diagnostic", () => {
    for (const seed of SEEDS) {
      const full = readBuffer(seed);
      expect(full.code).toBeUndefined();
      for (let n = 0; n < seed.length; n++) {
        const o = openCapture(seed.subarray(0, n), "cut");
        let count = 0;
        let code: string | undefined;
        if (o.ok) {
          while (o.value.next()) count++;
          code = o.value.error?.code;
        } else {
          code = o.diags[0]!.code;
        }
        // A prefix gives a prefix of the packets, then (unless it ends on a boundary) a truncation.
        expect(count).toBeLessThanOrEqual(full.records.length);
        if (code !== undefined) expect(code).toMatch(/^pcap\.truncated-(header|record)$/);
      }
    }
  });
});
