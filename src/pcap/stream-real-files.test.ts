/**
 * The stream reader on every real capture of the shared collection (../shared/pcaps or
 * $OVNSIM_PCAPS): fed in random chunk sizes (log-uniform, 1 byte to 64 KiB), it must give exactly
 * the buffer reader's records and diagnostic, with its buffer within its limit.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openCapture, readCaptureStream } from "./index.js";
import type { CaptureRecord } from "./index.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const havePcaps = existsSync(PCAPS);
if (!havePcaps) console.warn(`stream-real-files: skipped, no capture collection at ${PCAPS} (set OVNSIM_PCAPS)`);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.pcap(ng)?$/.test(name)) out.push(p);
  }
  return out;
}

const files = havePcaps ? walk(PCAPS) : [];

function summarize(r: CaptureRecord): string {
  let h = 0x811c9dc5;
  const d = r.data;
  for (let i = r.offset, e = r.offset + r.caplen; i < e; i++) h = Math.imul(h ^ d[i]!, 0x01000193) >>> 0;
  return `${r.index}@${r.recordOffset} if${r.interfaceId} lt${r.linkType} ${r.caplen}/${r.origlen} ${r.tsSec}.${r.tsNsec} #${h}`;
}

/** Chunks of log-uniform sizes in [1, 65536], from a seeded generator. */
async function* randomChunks(bytes: Uint8Array, seed: number): AsyncGenerator<Uint8Array> {
  let s = seed >>> 0 || 1;
  let o = 0;
  while (o < bytes.length) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const n = Math.floor(2 ** (((s >>> 0) / 4294967296) * 16));
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

describe.skipIf(!havePcaps)("stream reader on real captures", () => {
  it("gives the buffer reader's records and errors on every capture, in random chunk sizes", async () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
    let i = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      const b = openCapture(bytes, f);
      const want: string[] = [];
      if (b.ok) while (b.value.next()) want.push(summarize(b.value));
      const wantErr = b.ok ? b.value.error : b.diags[0];

      const s = await readCaptureStream(randomChunks(bytes, 0x9e3779b9 + i++), f);
      const got: string[] = [];
      let maxCap = 0;
      let limit = 0;
      if (s.ok) {
        limit = s.value.bufferLimit;
        while (await s.value.next()) {
          got.push(summarize(s.value));
          maxCap = Math.max(maxCap, s.value.bufferCapacity);
        }
      }
      const gotErr = s.ok ? s.value.error : s.diags[0];
      expect.soft(got.length, f).toBe(want.length);
      expect.soft(got, f).toEqual(want);
      expect.soft({ code: gotErr?.code, offset: gotErr?.offset }, f).toEqual({ code: wantErr?.code, offset: wantErr?.offset });
      expect.soft(maxCap, f).toBeLessThanOrEqual(limit);
    }
  });
});
