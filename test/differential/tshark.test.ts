/**
 * Differential test: our pcap reader + `decodeFrame` against tshark, on every capture under the
 * shared pcaps folder.
 *
 * For each capture, tshark runs once (`tshark-fields.ts` has the command, the fields and the
 * normalization), at most two at a time, while our side decodes the same file. Every packet's
 * fields are compared under the rule `comparisonFor` documents (exact, or ours as a prefix of
 * tshark's lists where our decoder stops early), and every mismatch is collected with its file,
 * packet number and field; the test then fails with the first 50 and the total.
 *
 * Without tshark (not installed, or OVNSIM_NO_TSHARK=1) the same comparison runs against the
 * recordings in `fixtures/tshark/recordings.json.gz`: full rows for captures of up to 5,000
 * packets, block hashes (plus the rows that differ from ours) for bigger ones, so a mismatch still
 * names a 1,000-packet block. With tshark, the test also checks that the recordings still say what
 * tshark says. `OVNSIM_RECORD=1` (with tshark) rewrites them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/base/index.js";
import { decodeFrame } from "../../src/packet/index.js";
import { openCapture } from "../../src/pcap/index.js";
import {
  BLOCK_SIZE,
  FIELDS,
  TSHARK_PREFS,
  blockHashes,
  comparisonFor,
  diffRows,
  listCaptures,
  makeRecording,
  mapLimited,
  ourRow,
  rowFromText,
  rowText,
  runTshark,
  sha256,
  tsharkAvailable,
  type Comparison,
  type Recording,
  type RecordingFile,
  type Row,
  type TsharkResult,
} from "./tshark-fields.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const RECORDINGS = resolve(repoRoot, "fixtures/tshark/recordings.json.gz");
const havePcaps = existsSync(PCAPS);
if (!havePcaps) console.warn(`tshark differential test skipped: no captures at ${PCAPS} (set OVNSIM_PCAPS)`);

/**
 * Whole-file exceptions: captures whose packets tshark frames differently from the pcap format's
 * definition; for them only the read errors are compared.
 */
const FILE_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  [
    "robustness/suricata-fuzz-oversized-record.pcap",
    // The second record header claims 1.4 GB. Wireshark then guesses that the file is one of the
    // modified pcap variants (with a longer record header), re-reads it that way and shows other
    // frames than the standard format defines; our reader stops at the bad record.
    "tshark re-reads the file as a modified-pcap variant",
  ],
]);

/** Our side of one capture. */
interface Ours {
  readonly fileSha: string;
  readonly rows: Row[];
  readonly texts: string[];
  readonly comparisons: Comparison[];
  readonly readError: Diagnostic | undefined;
  readonly openError: Diagnostic | undefined;
}

function decodeCapture(path: string, rel: string): Ours {
  const bytes = readFileSync(path);
  const fileSha = sha256(bytes);
  const rows: Row[] = [];
  const texts: string[] = [];
  const comparisons: Comparison[] = [];
  const r = openCapture(bytes, rel);
  if (!r.ok) return { fileSha, rows, texts, comparisons, readError: undefined, openError: r.diags[0] };
  const rd = r.value;
  while (rd.next()) {
    const d = decodeFrame(rd.data, rd.offset, rd.caplen, rd.linkType, { wireLength: rd.origlen });
    const c = comparisonFor(d);
    // The full row (for recordings) and the compared one differ only where an exception drops layers.
    const full = ourRow(d.layers);
    rows.push(c.layers === d.layers ? full : ourRow(c.layers));
    texts.push(rowText(full));
    comparisons.push(c);
  }
  return { fileSha, rows, texts, comparisons, readError: rd.error, openError: undefined };
}

/** tshark's side of one capture, from a live run or a recording. */
interface Theirs {
  readonly count: number;
  readonly readError: boolean;
  /** Rows, when known row by row. */
  readonly rows?: readonly Row[];
  /** Block-hash recording of a big file. */
  readonly recording?: Recording;
}

class Report {
  readonly problems: string[] = [];
  readonly reasons = new Map<string, number>();
  packets = 0;
  files = 0;
  /** Prefix-compared packets where tshark did show more than we decode. */
  tsharkMore = 0;

  count(reason: string): void {
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }
}

function compareFile(rel: string, ours: Ours, theirs: Theirs, rep: Report): void {
  rep.files++;
  const ourCount = ours.rows.length;
  const ourError = ours.openError ?? ours.readError;
  // Read errors: where we report one, tshark must report one too or read no more packets.
  if (ourError) {
    if (!theirs.readError && theirs.count > ourCount) {
      rep.problems.push(`${rel}: we stop with "${ourError.message}" after ${ourCount} packets; tshark reads ${theirs.count} without error`);
    }
  } else if (theirs.readError) {
    rep.problems.push(`${rel}: tshark reports a read error; we read ${ourCount} packets without one`);
  } else if (theirs.count !== ourCount) {
    rep.problems.push(`${rel}: frame count: ours ${ourCount}, tshark ${theirs.count}`);
  }
  if (FILE_EXCEPTIONS.has(rel)) {
    rep.count(`file exception: ${FILE_EXCEPTIONS.get(rel)!}`);
    return;
  }
  const n = Math.min(ourCount, theirs.count);
  if (theirs.rows) {
    for (let i = 0; i < n; i++) comparePacket(rel, i, ours, theirs.rows[i]!, rep);
    return;
  }
  // Block recording: tshark's rows are ours with the recorded exceptions substituted.
  const rec = theirs.recording!;
  const exc = rec.exceptions ?? {};
  const candidate = ours.texts.slice(0, n).map((t, i) => exc[String(i)] ?? t);
  const hashes = blockHashes(candidate);
  hashes.forEach((h, b) => {
    if (h !== rec.blocks?.[b]) rep.problems.push(`${rel}: packets ${b * BLOCK_SIZE + 1}-${Math.min(n, (b + 1) * BLOCK_SIZE)} differ from the recorded tshark block ${b}`);
  });
  for (let i = 0; i < n; i++) {
    const t = exc[String(i)];
    if (t !== undefined) comparePacket(rel, i, ours, rowFromText(t), rep);
    else {
      rep.packets++;
      rep.count(ours.comparisons[i]!.reason);
    }
  }
}

function comparePacket(rel: string, i: number, ours: Ours, theirs: Row, rep: Report): void {
  const c = ours.comparisons[i]!;
  rep.packets++;
  rep.count(c.reason);
  const diffs = diffRows(ours.rows[i]!, theirs, c.mode);
  for (const d of diffs) rep.problems.push(`${rel} #${i + 1} ${d} [${c.reason}]`);
  if (c.mode === "prefix" && diffs.length === 0 && diffRows(ours.rows[i]!, theirs, "exact").length > 0) rep.tsharkMore++;
}

function loadRecordings(): RecordingFile | undefined {
  if (!existsSync(RECORDINGS)) return undefined;
  return JSON.parse(gunzipSync(readFileSync(RECORDINGS)).toString("utf8")) as RecordingFile;
}

function theirsFromRecording(rec: Recording): Theirs {
  if (rec.rows) return { count: rec.packets, readError: rec.readError, rows: rec.rows.map(rowFromText) };
  return { count: rec.packets, readError: rec.readError, recording: rec };
}

function theirsFromTshark(t: TsharkResult): Theirs {
  return { count: t.rows.length, readError: t.readError, rows: t.rows };
}

/** Differences between a stored recording and the one tshark gives now. */
function staleness(rel: string, stored: Recording | undefined, fresh: Recording): string[] {
  if (!stored) return [`${rel}: no recording (run with OVNSIM_RECORD=1)`];
  const out: string[] = [];
  if (stored.sha256 !== fresh.sha256) out.push(`${rel}: recording was made from another version of the capture`);
  if (stored.packets !== fresh.packets || stored.readError !== fresh.readError) out.push(`${rel}: recording has ${stored.packets} packets (read error ${stored.readError}), tshark now ${fresh.packets} (${fresh.readError})`);
  if (fresh.rows) {
    const a = stored.rows ?? [];
    const bad = fresh.rows.findIndex((r, i) => a[i] !== r);
    if (bad >= 0 || a.length !== fresh.rows.length) out.push(`${rel}: recorded row ${bad + 1} differs from tshark's`);
  } else {
    fresh.blocks?.forEach((h, b) => {
      if (stored.blocks?.[b] !== h) out.push(`${rel}: recorded block ${b} differs from tshark's`);
    });
    for (const [k, v] of Object.entries(stored.exceptions ?? {})) {
      const now = fresh.exceptions?.[k];
      if (now !== undefined && now !== v) out.push(`${rel}: recorded row ${Number(k) + 1} differs from tshark's`);
    }
  }
  return out;
}

describe("decoder agrees with tshark", () => {
  it.skipIf(!havePcaps)("on every packet of every capture", async () => {
    const started = Date.now();
    const live = await tsharkAvailable();
    const recordMode = live && process.env.OVNSIM_RECORD === "1";
    const stored = loadRecordings();
    if (!live && !stored) throw new Error(`tshark is not available and there are no recordings at ${RECORDINGS}`);
    if (stored && JSON.stringify(stored.fields) !== JSON.stringify(FIELDS.map((f) => f.name))) {
      if (!live) throw new Error("the recordings were made with another field list; regenerate them with tshark and OVNSIM_RECORD=1");
    }
    const files = listCaptures(PCAPS);
    expect(files.length).toBeGreaterThan(100);
    const rep = new Report();
    const stale: string[] = [];
    const fresh: Record<string, Recording> = {};
    let tsharkVersion = stored?.tshark ?? "";

    const results = await mapLimited(files, 2, async (rel) => {
      const path = join(PCAPS, rel);
      const pending = live ? runTshark(path) : undefined;
      const ours = decodeCapture(path, rel);
      const t = pending ? await pending : undefined;
      return { rel, ours, t };
    });
    for (const { rel, ours, t } of results) {
      if (t) {
        compareFile(rel, ours, theirsFromTshark(t), rep);
        const rec = makeRecording(ours.fileSha, t, ours.texts);
        fresh[rel] = rec;
        if (!recordMode) stale.push(...staleness(rel, stored?.files[rel], rec));
      } else {
        const rec = stored!.files[rel];
        if (!rec) {
          rep.problems.push(`${rel}: no recording of tshark's output (regenerate with tshark and OVNSIM_RECORD=1)`);
          continue;
        }
        if (rec.sha256 !== ours.fileSha) rep.problems.push(`${rel}: the capture changed since the recording was made`);
        compareFile(rel, ours, theirsFromRecording(rec), rep);
      }
    }
    if (live) {
      const v = execFileSync("tshark", ["-v"]).toString().split("\n")[0] ?? "";
      tsharkVersion = v.replace(/\s*\(Git.*$/, "").trim();
    }
    if (recordMode) {
      const out: RecordingFile = { tshark: tsharkVersion, fields: FIELDS.map((f) => f.name), prefs: TSHARK_PREFS, files: fresh };
      mkdirSync(dirname(RECORDINGS), { recursive: true });
      writeFileSync(RECORDINGS, gzipSync(JSON.stringify(out), { level: 9 }));
    }

    const byReason = [...rep.reasons.entries()].sort((a, b) => b[1] - a[1]);
    const exact = rep.reasons.get("exact") ?? 0;
    console.log(
      [
        `tshark differential (${live ? `live, ${tsharkVersion}` : "recorded"}${recordMode ? ", recordings rewritten" : ""}): ${rep.files} files, ${rep.packets} packets in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  compared exactly: ${exact}; by prefix or exception: ${rep.packets - exact} (tshark showed more fields on ${rep.tsharkMore} of them)`,
        ...byReason.filter(([r]) => r !== "exact").map(([r, n]) => `    ${n}\t${r}`),
      ].join("\n"),
    );
    const all = [...rep.problems, ...stale];
    if (all.length > 0) {
      const shown = all.slice(0, 50).join("\n");
      expect.fail(`${all.length} disagreements with tshark${all.length > 50 ? " (first 50)" : ""}:\n${shown}`);
    }
  });
});
