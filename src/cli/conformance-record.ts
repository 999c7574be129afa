/**
 * Recordings of real OVN's answers to probes, so a conformance check runs where OVN is not
 * installed.
 *
 * A recording is one JSON file: the OVN version that answered, the network's name, a digest of the
 * exact commands that built the network in OVN (`ovn-nbctl` then `ovn-sbctl`, as exported), and per
 * probe its inputs (datapath, microflow, `--ct`, `--lb-dst`, `--select-id`) with ovn-trace's raw
 * `--minimal` output. A recording answers for a list of probes only when it was made for the same
 * network (same digest) and holds every probe under its name with identical inputs; anything else
 * is a diagnostic naming what differs, never a silent partial answer.
 *
 * Files are written through a temporary file and a rename, so a reader never sees half a file.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { error, fail, ok, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import { CHASSIS_FEATURES } from "../ovn/index.js";
import { exportNbctl, exportSbctl, type Probe } from "../scenario/index.js";
import { writeFileAtomically } from "./import.js";

export const RECORDING_FORMAT = "ovnsim-conformance/1";

/** The inputs of one ovn-trace run. */
export interface ProbeInput {
  readonly datapath: string;
  readonly microflow: string;
  readonly ct: readonly string[];
  readonly lbDst?: string;
  readonly selectId?: number;
}

export interface ConformanceRecording {
  readonly format: typeof RECORDING_FORMAT;
  /** The version line of the OVN that answered (`ovn-nbctl 23.03.1`). */
  readonly ovn: string;
  readonly network: string;
  /** SHA-256 of the commands that built the network in OVN. */
  readonly digest: string;
  readonly probes: Readonly<Record<string, { readonly input: ProbeInput; readonly output: string }>>;
}

export function probeInput(p: Probe): ProbeInput {
  return { datapath: p.datapath, microflow: p.microflow, ct: [...p.ct], ...(p.lbDst !== undefined ? { lbDst: p.lbDst } : {}), ...(p.selectId !== undefined ? { selectId: p.selectId } : {}) };
}

function sameInput(a: ProbeInput, b: ProbeInput): boolean {
  return a.datapath === b.datapath && a.microflow === b.microflow && JSON.stringify(a.ct) === JSON.stringify(b.ct) && a.lbDst === b.lbDst && a.selectId === b.selectId;
}

/** The digest of the commands that build `net` in real OVN. */
export function networkDigest(net: Network): string {
  const cmds = { nb: exportNbctl(net), sb: exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES }) };
  return createHash("sha256").update(JSON.stringify(cmds)).digest("hex");
}

/** A recording of real OVN's `outputs` (by probe name) for `probes` on `net`. */
export function makeRecording(net: Network, probes: readonly Probe[], outputs: ReadonlyMap<string, string>, ovn: string): ConformanceRecording {
  const recorded: Record<string, { input: ProbeInput; output: string }> = {};
  for (const p of probes) {
    const out = outputs.get(p.name);
    if (out !== undefined) recorded[p.name] = { input: probeInput(p), output: out };
  }
  return { format: RECORDING_FORMAT, ovn, network: net.name, digest: networkDigest(net), probes: recorded };
}

/** The file name of a network's recording in a directory: `<network name>.json`. */
export function recordingFileName(net: Network): string {
  return `${(net.name || "network").replace(/[/\\]/g, "_")}.json`;
}

/** Writes a recording (temporary file, then rename); throws InputError when it cannot. */
export function writeRecording(path: string, rec: ConformanceRecording): void {
  writeFileAtomically(path, JSON.stringify(rec, null, 2) + "\n");
}

/** Reads a recording file; a file that is not one is a diagnostic naming it. */
export function readRecording(path: string): Result<ConformanceRecording> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const why = e instanceof SyntaxError ? `not JSON: ${e.message}` : `cannot read: ${(e as Error).message}`;
    return fail(error("conformance.recording", `recording ${why}`, { file: path }));
  }
  const r = doc as Partial<ConformanceRecording>;
  const probesOk = typeof r.probes === "object" && r.probes !== null && Object.values(r.probes).every((x) => typeof x?.output === "string" && typeof x.input?.microflow === "string" && typeof x.input.datapath === "string" && Array.isArray(x.input.ct));
  if (r.format !== RECORDING_FORMAT || typeof r.ovn !== "string" || typeof r.network !== "string" || typeof r.digest !== "string" || !probesOk) {
    return fail(error("conformance.recording", `not a conformance recording (expected "format": "${RECORDING_FORMAT}", ovn, network, digest and probes with input and output)`, { file: path }));
  }
  return ok(r as ConformanceRecording);
}

/**
 * Real OVN's outputs for `probes` from a recording, by probe name; a diagnostic when the recording
 * was made for another network or lacks a probe or has it with other inputs.
 */
export function recordedOutputs(rec: ConformanceRecording, path: string, net: Network, probes: readonly Probe[]): Result<Map<string, string>> {
  if (rec.digest !== networkDigest(net)) {
    return fail(error("conformance.recording-stale", `the recording was made for another network (or another version of it) than ${net.name}: its digest differs; record it again where OVN is installed`, { file: path }));
  }
  const out = new Map<string, string>();
  const missing: string[] = [];
  const changed: string[] = [];
  for (const p of probes) {
    const r = rec.probes[p.name];
    if (r === undefined) missing.push(p.name);
    else if (!sameInput(r.input, probeInput(p))) changed.push(p.name);
    else out.set(p.name, r.output);
  }
  if (missing.length > 0 || changed.length > 0) {
    const list = (xs: string[]): string => `${xs.slice(0, 3).join(", ")}${xs.length > 3 ? `, and ${xs.length - 3} more` : ""}`;
    const parts = [missing.length ? `${missing.length} probe(s) not recorded (${list(missing)})` : "", changed.length ? `${changed.length} probe(s) recorded with other inputs (${list(changed)})` : ""].filter((x) => x !== "");
    return fail(error("conformance.recording-mismatch", `the recording does not match the probes: ${parts.join("; ")}`, { file: path }));
  }
  return ok(out);
}
