/**
 * Macro benchmark: reading captures and extracting flow keys, against pcap-parser.
 *
 * For the largest real capture and a synthetic capture of 2M 64-byte frames, it times in one run:
 * pcap-parser (the npm package: parse events, counting packets), ovnsim's reader alone, and
 * ovnsim's reader plus flow-key extraction for every packet. Each figure is the median of `RUNS`
 * runs; the ratio is taken between medians of the same run. Files are read into memory first, so
 * the figures measure parsing, not the disk.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { KEY_WORDS, extractKey } from "../src/flow/index.js";
import { openCapture } from "../src/pcap/index.js";
import { syntheticPcap } from "./synthetic.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const require = createRequire(import.meta.url);
const pcapParser = require("pcap-parser") as { parse(input: string | NodeJS.ReadableStream): NodeJS.EventEmitter };

/** The repository root: the nearest folder above this file with a package.json (works from dist-bench/ too). */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("no package.json above the bench folder");
    dir = up;
  }
  return dir;
}

/** The shared real captures: $OVNSIM_PCAPS, or ../shared/pcaps beside the repository. */
export function pcapsDir(): string {
  return process.env.OVNSIM_PCAPS ?? resolve(repoRoot(), "../shared/pcaps");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timePcapParser(bytes: Uint8Array): Promise<{ packets: number; seconds: number }> {
  return new Promise((resolveP, reject) => {
    const t0 = process.hrtime.bigint();
    let packets = 0;
    const parser = pcapParser.parse(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
    parser.on("packet", () => void packets++);
    parser.on("end", () => resolveP({ packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    parser.on("error", reject);
  });
}

/** Reads every record; with `extract`, also extracts a flow key per packet. Allocates nothing per packet. */
export function readLoop(bytes: Uint8Array, extract: boolean, key: Uint32Array): { packets: number; check: number } {
  const r = openCapture(bytes, "bench");
  if (!r.ok) throw new Error(`bench capture does not open: ${r.diags[0]?.message}`);
  const rd = r.value;
  let packets = 0;
  let check = 0;
  if (extract) {
    while (rd.next()) {
      check ^= extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, key, 1, false);
      packets++;
    }
  } else {
    while (rd.next()) {
      check += rd.caplen;
      packets++;
    }
  }
  if (rd.error) throw new Error(`bench capture breaks: ${rd.error.message}`);
  return { packets, check };
}

function timeOurs(bytes: Uint8Array, extract: boolean): { packets: number; seconds: number } {
  const key = new Uint32Array(KEY_WORDS);
  const t0 = process.hrtime.bigint();
  const { packets } = readLoop(bytes, extract, key);
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

interface Row {
  input: string;
  packets: number;
  parserMpps: number;
  readMpps: number;
  extractMpps: number;
}

async function measure(name: string, bytes: Uint8Array): Promise<Row> {
  const p: number[] = [];
  const r: number[] = [];
  const e: number[] = [];
  let packets = 0;
  // Warm-up so that the JIT has compiled the loops before timing.
  timeOurs(bytes, true);
  timeOurs(bytes, false);
  for (let i = 0; i < RUNS; i++) {
    const a = await timePcapParser(bytes);
    const b = timeOurs(bytes, false);
    const c = timeOurs(bytes, true);
    if (a.packets !== b.packets || b.packets !== c.packets) throw new Error(`${name}: packet counts differ: pcap-parser ${a.packets}, ovnsim ${b.packets}`);
    packets = b.packets;
    p.push(a.packets / a.seconds / 1e6);
    r.push(b.packets / b.seconds / 1e6);
    e.push(c.packets / c.seconds / 1e6);
  }
  return { input: name, packets, parserMpps: median(p), readMpps: median(r), extractMpps: median(e) };
}

/** The case names, for the runner's filter. */
export const cases = ["pcap/ndpi-composite-99k", "pcap/synthetic-2m-64b"];

export async function main(filter: RegExp = /./): Promise<void> {
  const rows: Row[] = [];
  const composite = join(pcapsDir(), "bench/ndpi-composite-99k.pcap");
  if (filter.test("pcap/ndpi-composite-99k")) {
    try {
      rows.push(await measure("ndpi-composite-99k.pcap", new Uint8Array(readFileSync(composite))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      console.warn(`skipping the real capture: ${composite} is absent (set OVNSIM_PCAPS)`);
    }
  }
  if (filter.test("pcap/synthetic-2m-64b")) {
    const syn = syntheticPcap(2_000_000, 64);
    const tmp = join(tmpdir(), `ovnsim-bench-${process.pid}.pcap`);
    writeFileSync(tmp, syn);
    try {
      rows.push(await measure("synthetic 2M x 64 B", syn));
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  console.log(`pcap read + key extraction, median of ${RUNS} runs (Mpps = million packets/s, one thread)`);
  console.log(["input", "packets", "pcap-parser", "ovnsim read", "ovnsim read+extract", "read+extract / pcap-parser"].join("\t"));
  for (const row of rows) {
    console.log([row.input, row.packets, row.parserMpps.toFixed(2), row.readMpps.toFixed(2), row.extractMpps.toFixed(2), `${(row.extractMpps / row.parserMpps).toFixed(1)}x`].join("\t"));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(new RegExp(process.argv[2] ?? "."));
