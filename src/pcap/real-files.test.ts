/**
 * The readers on every real capture of the shared collection (../shared/pcaps or $OVNSIM_PCAPS).
 *
 * Oracles: the packet counts of MANIFEST.md, and capinfos/tshark (Wireshark) when installed:
 * counts, earliest and latest timestamps per file, and per-packet lengths, timestamps and
 * interfaces for the files with unusual formats. The robustness files must stop with their
 * documented error after the documented number of packets. Files holding the same packets in
 * different formats must read equal. (The stream reader on the same files: stream-real-files.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openCapture } from "./index.js";
import type { CaptureReader, CaptureRecord } from "./index.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const havePcaps = existsSync(join(PCAPS, "MANIFEST.md"));
if (!havePcaps) console.warn(`real-files: skipped, no capture collection at ${PCAPS} (set OVNSIM_PCAPS)`);

function tool(name: string): boolean {
  const r = spawnSync(name, ["-v"], { encoding: "utf8" });
  return r.status === 0;
}
const haveCapinfos = havePcaps && tool("capinfos");
const haveTshark = havePcaps && tool("tshark");
if (havePcaps && !haveCapinfos) console.warn("real-files: capinfos is not installed; counts and times are checked against MANIFEST.md only");
if (havePcaps && !haveTshark) console.warn("real-files: tshark is not installed; per-packet checks against Wireshark are skipped");

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.pcap(ng)?$/.test(name)) out.push(p);
  }
  return out;
}

const files = havePcaps ? walk(PCAPS).map((p) => relative(PCAPS, p)) : [];

/** Errors the robustness files must end with (code, byte offset, packets before it). */
const EXPECTED_ERRORS: Record<string, { code: string; offset: number; packets: number }> = {
  "robustness/ndpi-fuzz-ns-magic-cut-short.pcap": { code: "pcap.truncated-header", offset: 237, packets: 1 },
  "robustness/suricata-bogus-record-len-after-6.pcap": { code: "pcap.record-too-long", offset: 5035, packets: 6 },
  "robustness/suricata-fuzz-oversized-record.pcap": { code: "pcap.record-too-long", offset: 228, packets: 1 },
  "robustness/suricata-http-cut-short.pcap": { code: "pcap.truncated-header", offset: 2715459, packets: 2696 },
  "formats/pcapng-suite/le/test901.pcapng": { code: "pcapng.unsupported-version", offset: 492, packets: 1 },
  "formats/pcapng-suite/be/test901.pcapng": { code: "pcapng.unsupported-version", offset: 492, packets: 1 },
};

/**
 * Where we read differently from Wireshark, on purpose. suricata-fuzz-oversized-record.pcap has one
 * good record and then a record header with caplen 0x53fe6000; libpcap semantics (ours) stop there,
 * while Wireshark guesses another pcap variant from the damaged data and reports a second, garbage
 * packet (1 byte captured, a negative time) before failing. MANIFEST.md copies Wireshark's count.
 */
const WIRESHARK_COUNT_DIFFERS: Record<string, number> = {
  "robustness/suricata-fuzz-oversized-record.pcap": 2,
};

interface Scan {
  count: number;
  /** Earliest and latest timestamps in ns, over packets that have one (not SPB). */
  minNs: bigint | undefined;
  maxNs: bigint | undefined;
  code: string | undefined;
  offset: number | undefined;
}

function ns(r: CaptureRecord): bigint {
  return BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec);
}

/** Reads a pcapng block type straight from the file (independent of the reader's bookkeeping). */
function isSimplePacketBlock(bytes: Uint8Array, r: CaptureReader): boolean {
  if (r.format !== "pcapng") return false;
  const a = bytes[r.recordOffset]!;
  const d = bytes[r.recordOffset + 3]!;
  return (a === 3 && d === 0) || (a === 0 && d === 3);
}

function scan(bytes: Uint8Array, name: string): Scan {
  const o = openCapture(bytes, name);
  if (!o.ok) return { count: 0, minNs: undefined, maxNs: undefined, code: o.diags[0]!.code, offset: o.diags[0]!.offset };
  const r = o.value;
  let count = 0;
  let minNs: bigint | undefined;
  let maxNs: bigint | undefined;
  while (r.next()) {
    count++;
    if (isSimplePacketBlock(bytes, r)) continue;
    const t = ns(r);
    if (minNs === undefined || t < minNs) minNs = t;
    if (maxNs === undefined || t > maxNs) maxNs = t;
  }
  return { count, minNs, maxNs, code: r.error?.code, offset: r.error?.offset };
}

const scans = new Map<string, Scan>();
function scanned(f: string): Scan {
  let s = scans.get(f);
  if (s === undefined) {
    s = scan(readFileSync(join(PCAPS, f)), f);
    scans.set(f, s);
  }
  return s;
}

/** Packet counts from MANIFEST.md: per-file table rows and the pcapng-suite table. */
function manifestCounts(): Map<string, { count: number; error: boolean }> {
  const text = readFileSync(join(PCAPS, "MANIFEST.md"), "utf8");
  const out = new Map<string, { count: number; error: boolean }>();
  let pktsCol = -1;
  for (const line of text.split("\n")) {
    if (!line.startsWith("|")) continue;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells[0] === "File") pktsCol = cells.indexOf("Pkts");
    const file = /^`([^`]+\.pcap(?:ng)?)`$/.exec(cells[0] ?? "");
    if (file !== null && pktsCol >= 0) {
      const m = /^(\d+)(, then read error)?/.exec(cells[pktsCol] ?? "");
      if (m !== null) out.set(file[1]!, { count: Number(m[1]), error: m[2] !== undefined });
      continue;
    }
    const suite = /^test(\d{3})$/.exec(cells[0] ?? "");
    if (suite !== null) {
      for (const [col, order] of [
        [3, "le"],
        [4, "be"],
      ] as const) {
        const m = /^(\d+)(, then read error)?/.exec(cells[col] ?? "");
        if (m !== null) out.set(`formats/pcapng-suite/${order}/test${suite[1]}.pcapng`, { count: Number(m[1]), error: m[2] !== undefined });
      }
    }
  }
  return out;
}

/** capinfos -T: count, earliest and latest time per file; stderr for the files that fail. */
function capinfosTable(): Map<string, { count: number; first: string; last: string }> {
  const paths = files.map((f) => join(PCAPS, f));
  const r = spawnSync("capinfos", ["-T", "-r", "-c", "-a", "-e", "-S", "-M", ...paths], { encoding: "utf8", maxBuffer: 1 << 24 });
  const out = new Map<string, { count: number; first: string; last: string }>();
  for (const line of r.stdout.split("\n")) {
    const [path, count, first, last] = line.split("\t");
    if (path === undefined || count === undefined || first === undefined || last === undefined) continue;
    out.set(relative(PCAPS, path), { count: Number(count), first, last });
  }
  for (const m of r.stderr.matchAll(/An error occurred after reading (\d+) packets from "([^"]+)"/g)) {
    const rel = relative(PCAPS, m[2]!);
    if (!out.has(rel)) out.set(rel, { count: Number(m[1]), first: "n/a", last: "n/a" });
  }
  return out;
}

/** Wireshark prints `sec.frac` with the file's precision; a fraction of 10+ digits is raw ns. */
function wiresharkNs(t: string): bigint {
  const [sec, frac = ""] = t.split(".");
  if (frac.length > 9) return BigInt(sec!) * 1_000_000_000n + BigInt(frac);
  return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
}

describe.skipIf(!havePcaps)("real captures", () => {
  it("the collection is there (at least 100 captures)", () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
  });

  it("every capture opens, and ends cleanly or with its documented error", () => {
    for (const f of files) {
      const s = scanned(f);
      const want = EXPECTED_ERRORS[f];
      expect.soft({ f, code: s.code, offset: s.offset, count: want ? s.count : undefined }).toEqual({
        f,
        code: want?.code,
        offset: want?.offset,
        count: want?.packets,
      });
    }
  });

  it("packet counts equal MANIFEST.md", () => {
    const manifest = manifestCounts();
    let checked = 0;
    for (const f of files) {
      const m = manifest.get(f);
      if (m === undefined) continue;
      checked++;
      const s = scanned(f);
      const want = WIRESHARK_COUNT_DIFFERS[f] !== undefined ? EXPECTED_ERRORS[f]!.packets : m.count;
      expect.soft({ f, count: s.count, error: s.code !== undefined }).toEqual({ f, count: want, error: m.error });
    }
    // The manifest lists nearly every file (a few rows are cut short in it).
    expect(checked).toBeGreaterThan(files.length * 0.9);
  });

  it.skipIf(!haveCapinfos)("counts and earliest/latest timestamps equal capinfos", () => {
    const table = capinfosTable();
    expect(table.size).toBe(files.length);
    for (const f of files) {
      const c = table.get(f)!;
      const s = scanned(f);
      const wantCount = WIRESHARK_COUNT_DIFFERS[f] !== undefined ? EXPECTED_ERRORS[f]!.packets : c.count;
      expect.soft({ f, count: s.count }).toEqual({ f, count: wantCount });
      if (WIRESHARK_COUNT_DIFFERS[f] !== undefined) expect(c.count).toBe(WIRESHARK_COUNT_DIFFERS[f]);
      if (c.first === "n/a" || s.minNs === undefined || s.maxNs === undefined) continue;
      // capinfos prints as many fraction digits as the file's resolution warrants (2 for 2^-8).
      const digits = Math.min(9, c.first.split(".")[1]?.length ?? 0);
      const unit = 10n ** BigInt(9 - digits);
      const cut = (t: bigint) => (t / unit) * unit;
      expect.soft({ f, first: cut(s.minNs), last: cut(s.maxNs) }).toEqual({ f, first: wiresharkNs(c.first), last: wiresharkNs(c.last) });
    }
  });

  it.skipIf(!haveTshark)("per-packet lengths, timestamps and interfaces equal tshark on the unusual formats", () => {
    const suite = ["008", "010", "011", "012", "016", "101", "102", "201", "202", "901", "902"].map((n) => `formats/pcapng-suite/le/test${n}.pcapng`);
    const chosen = files
      .filter((f) => f.startsWith("formats/") && !f.includes("pcapng-suite/"))
      .concat(suite, ["robustness/ndpi-fuzz-ns-magic-cut-short.pcap", "robustness/zeek-geneve-truncated.pcapng"]);
    let total = 0;
    for (const f of chosen) {
      const t = spawnSync("tshark", ["-r", join(PCAPS, f), "-T", "fields", "-e", "frame.interface_id", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len"], {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      });
      const bytes = readFileSync(join(PCAPS, f));
      const o = openCapture(bytes, f);
      if (!o.ok) throw new Error(`${f}: ${o.diags[0]!.message}`);
      const r = o.value;
      const lines = t.stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t"))
        // Wireshark lists pcapng custom blocks as frames with no interface; they are not packets.
        .filter((c) => r.format === "pcap" || c[0] !== "");
      const ours: string[][] = [];
      while (r.next()) {
        ours.push([
          r.format === "pcap" ? "" : String(r.interfaceId),
          isSimplePacketBlock(bytes, r) ? "" : String(ns(r)),
          String(r.origlen),
          String(r.caplen),
        ]);
      }
      const theirs = lines.map((c) => [r.format === "pcap" ? "" : c[0]!, c[1] === "" ? "" : String(wiresharkNs(c[1]!)), c[2]!, c[3]!]);
      // Wireshark 4.0 numbers interfaces per section; ours are global. Compare them in one-section files.
      if (r.stats.sections > 1) for (const row of [...ours, ...theirs]) row[0] = "?";
      expect.soft({ f, packets: ours }).toEqual({ f, packets: theirs });
      total += ours.length;
    }
    expect(total).toBeGreaterThan(300);
  });

  it("libtrace-100-packets .pcap, -ns.pcap and .pcapng hold the same packets", () => {
    const read = (f: string) => {
      const o = openCapture(readFileSync(join(PCAPS, "formats", f)), f);
      if (!o.ok) throw new Error(f);
      const out: string[] = [];
      while (o.value.next()) {
        const r = o.value;
        out.push(`${r.tsSec}.${r.tsNsec} ${r.caplen}/${r.origlen} lt${r.linkType} ${Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString("hex")}`);
      }
      expect(o.value.error).toBeUndefined();
      return out;
    };
    const us = read("libtrace-100-packets.pcap");
    expect(us).toHaveLength(100);
    expect(read("libtrace-100-packets-ns.pcap")).toEqual(us);
    expect(read("libtrace-100-packets.pcapng")).toEqual(us);
  });

  it("pcapng-suite little- and big-endian files give identical packets and interfaces", () => {
    const tests = files.filter((f) => f.startsWith("formats/pcapng-suite/le/"));
    expect(tests.length).toBe(26);
    for (const le of tests) {
      const be = le.replace("/le/", "/be/");
      const read = (f: string) => {
        const o = openCapture(readFileSync(join(PCAPS, f)), "x");
        if (!o.ok) throw new Error(f);
        const r = o.value;
        const out: string[] = [];
        while (r.next()) {
          out.push(`${r.interfaceId} lt${r.linkType} ${r.tsSec}.${r.tsNsec} ${r.caplen}/${r.origlen} ${Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString("hex")}`);
        }
        return { out, interfaces: r.interfaces, stats: r.stats, error: r.error?.code };
      };
      expect.soft(read(be), be).toEqual(read(le));
    }
  });
});
