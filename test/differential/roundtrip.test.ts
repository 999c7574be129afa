/**
 * Round trip over every packet of every shared capture: decode -> rebuild -> bytes.
 *
 * `rebuildFrame` re-emits each decoded layer from its repr and appends the undecoded bytes, so
 * the result must be the captured bytes exactly: every field a parser reads must be one its
 * emitter writes back. For packets without issues and not truncated that is required; for the
 * others the weaker property is accepted, that decoding the rebuilt bytes gives the same layers.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bytesEqual } from "../../src/base/index.js";
import { decodeFrame, formatLine, layerHeaderLen, rebuildFrame, type Decoded } from "../../src/packet/index.js";
import { openCapture } from "../../src/pcap/index.js";
import { listCaptures } from "./tshark-fields.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const havePcaps = existsSync(PCAPS);
if (!havePcaps) console.warn(`round-trip test skipped: no captures at ${PCAPS} (set OVNSIM_PCAPS)`);

/** A structural summary of a decode, for the weaker comparison. */
function signature(d: Decoded): string {
  return `${d.layers.map((l) => `${l.kind}@${l.offset}/${l.depth}`).join(" ")}|${d.payloadOffset}|${d.payloadEnd}|${d.truncated}|${d.stoppedAt}|${d.issues.join(";")}|${formatLine(d)}`;
}

describe("decode -> rebuild round trip", () => {
  it.skipIf(!havePcaps)("re-emits every captured packet byte for byte", () => {
    const problems: string[] = [];
    let packets = 0;
    let clean = 0;
    let identicalUnclean = 0;
    for (const rel of listCaptures(PCAPS)) {
      const r = openCapture(readFileSync(join(PCAPS, rel)), rel);
      if (!r.ok) continue;
      const rd = r.value;
      while (rd.next()) {
        packets++;
        const opts = { wireLength: rd.origlen };
        const d = decodeFrame(rd.data, rd.offset, rd.caplen, rd.linkType, opts);
        // The layers tile the frame from 0 to payloadOffset.
        let at = 0;
        for (const l of d.layers) {
          if (l.offset !== at) problems.push(`${rel} #${rd.index + 1}: layer ${l.kind} at ${l.offset}, expected ${at}`);
          at = l.offset + layerHeaderLen(l);
        }
        if (at !== d.payloadOffset) problems.push(`${rel} #${rd.index + 1}: layers end at ${at}, payload starts at ${d.payloadOffset}`);
        const out = rebuildFrame(d);
        const same = out.length === d.frame.length && bytesEqual(out, 0, d.frame, 0, out.length);
        const isClean = d.issues.length === 0 && !d.truncated;
        if (isClean) clean++;
        if (same) {
          if (!isClean) identicalUnclean++;
          continue;
        }
        if (isClean) {
          problems.push(`${rel} #${rd.index + 1}: rebuilt bytes differ (${formatLine(d)})`);
          continue;
        }
        const again = decodeFrame(out, 0, out.length, rd.linkType, opts);
        if (signature(again) !== signature(d)) problems.push(`${rel} #${rd.index + 1}: decode of the rebuilt frame differs (${formatLine(d)})`);
      }
    }
    console.log(`round trip: ${packets} packets, ${clean} clean (all byte-identical), ${identicalUnclean} of ${packets - clean} others byte-identical too`);
    expect(packets).toBeGreaterThan(200_000);
    expect(problems.slice(0, 50)).toEqual([]);
  });
});
