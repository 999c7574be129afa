/**
 * Differential test: our classic pcap reader against the independent npm package `pcap-parser`,
 * on every classic pcap of the shared capture collection.
 *
 * pcap-parser reads only microsecond files (magic a1b2c3d4 in either byte order), emits a packet
 * per record, and neither checks record lengths nor reports a cut-off last record (it just ends).
 * So for each file: where neither reader reports a problem, both must give the same number of
 * packets; otherwise packets are compared up to the shorter of the two. Every compared packet must
 * have the same captured and original length, the same timestamp and the same bytes.
 */
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openCapture } from "../../src/pcap/index.js";

interface PcapParserPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface PcapParserEmitter {
  on(event: "packet", f: (p: PcapParserPacket) => void): PcapParserEmitter;
  on(event: "error", f: (e: Error) => void): PcapParserEmitter;
  on(event: "end", f: () => void): PcapParserEmitter;
}
const pcapParser = createRequire(import.meta.url)("pcap-parser") as { parse(input: string | NodeJS.ReadableStream): PcapParserEmitter };

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const havePcaps = existsSync(PCAPS);
if (!havePcaps) console.warn(`pcap-parser differential: skipped, no capture collection at ${PCAPS} (set OVNSIM_PCAPS)`);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".pcap")) out.push(p);
  }
  return out;
}

interface Theirs {
  packets: PcapParserPacket[];
  error: string | undefined;
}

function readWithPcapParser(path: string): Promise<Theirs> {
  return new Promise((done) => {
    const packets: PcapParserPacket[] = [];
    let error: string | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done({ packets, error });
    };
    pcapParser
      .parse(createReadStream(path))
      .on("packet", (p) => packets.push(p))
      .on("error", (e) => {
        error = e.message;
      })
      .on("end", finish);
  });
}

describe.skipIf(!havePcaps)("pcap reader vs pcap-parser", () => {
  const files = havePcaps ? walk(PCAPS) : [];

  it("reads every classic microsecond pcap identically", async () => {
    let compared = 0;
    let filesCompared = 0;
    for (const path of files) {
      const name = relative(PCAPS, path);
      const bytes = readFileSync(path);
      const magic = bytes.subarray(0, 4).toString("hex");
      const theirs = await readWithPcapParser(path);
      if (magic !== "a1b2c3d4" && magic !== "d4c3b2a1") {
        // pcap-parser knows only the microsecond magic, and must say so.
        expect.soft(theirs.error, name).toMatch(/unknown magic number/);
        continue;
      }
      const o = openCapture(bytes, name);
      expect(o.ok, name).toBe(true);
      if (!o.ok) continue;
      const r = o.value;
      let i = 0;
      while (r.next()) {
        const p = theirs.packets[i];
        if (p === undefined) break;
        const h = p.header;
        const ours = {
          caplen: r.caplen,
          origlen: r.origlen,
          usec: r.tsSec * 1_000_000 + r.tsNsec / 1000,
          bytes: Buffer.from(r.data.buffer, r.data.byteOffset + r.offset, r.caplen).equals(p.data),
        };
        expect.soft(ours, `${name} packet ${i}`).toEqual({
          caplen: h.capturedLength,
          origlen: h.originalLength,
          usec: h.timestampSeconds * 1_000_000 + h.timestampMicroseconds,
          bytes: true,
        });
        i++;
        compared++;
      }
      while (r.next()) continue; // count the rest, when pcap-parser stopped first
      const oursCount = r.index + 1;
      if (r.error === undefined && theirs.error === undefined) {
        expect.soft(theirs.packets.length, `${name}: packet count`).toBe(oursCount);
      } else {
        // Compared up to the first problem either reader found; neither may have fewer packets
        // than the other before it, except that pcap-parser silently drops a cut-off tail.
        expect.soft(Math.min(theirs.packets.length, oursCount), `${name}: packets before the error`).toBe(oursCount);
      }
      filesCompared++;
    }
    expect(filesCompared).toBeGreaterThan(80);
    expect(compared).toBeGreaterThan(200_000);
  });
});
