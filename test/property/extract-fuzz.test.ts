/**
 * Key extraction on hostile bytes: random frames and randomly mutated real-looking frames, every
 * link type, with and without decapsulation, never throw, never touch the metadata words, and give
 * the same key whether the key was fresh or reused from the previous packet.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KEY_WORDS, W, extractKey, newKey } from "../../src/flow/index.js";
import { overlayPod2PodCapture } from "../../scripts/fixtures.js";
import { openCapture } from "../../src/pcap/index.js";

const LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 147];

/** Real frames to mutate: every packet of the generated teaching capture (Geneve, VLAN, ARP, TCP, ICMP). */
function seedFrames(): Uint8Array[] {
  const r = openCapture(overlayPod2PodCapture(), "fixture");
  if (!r.ok) throw new Error("fixture does not open");
  const out: Uint8Array[] = [];
  while (r.value.next()) out.push(r.value.data.slice(r.value.offset, r.value.offset + r.value.caplen));
  return out;
}

function check(frame: Uint8Array, linkType: number, decap: boolean, wireExtra: number, prev: Uint32Array): void {
  const fresh = newKey();
  const meta = 0x5a5a5a5a;
  for (let i = 0; i < W.TUN_ID; i++) fresh[i] = meta;
  fresh[W.IN_PORT] = 0;
  extractKey(frame, 0, frame.length, frame.length + wireExtra, linkType, fresh, 9, decap);
  for (let i = 0; i < W.TUN_ID; i++) if (i !== W.IN_PORT) expect(fresh[i]).toBe(meta);
  expect(fresh[W.IN_PORT]).toBe(9);
  // Reuse: `prev` holds the previous packet's key; extracting into it must give the same words.
  for (let i = 0; i < W.TUN_ID; i++) prev[i] = fresh[i]!;
  extractKey(frame, 0, frame.length, frame.length + wireExtra, linkType, prev, 9, decap);
  for (let i = 0; i < KEY_WORDS; i++) if (prev[i] !== fresh[i]) expect.fail(`word ${i} differs on reuse: ${prev[i]} vs ${fresh[i]}`);
}

describe("extractKey on hostile input", () => {
  const seeds = seedFrames();

  it("random bytes", () => {
    const prev = newKey();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LINK_TYPES), fc.boolean(), fc.nat(100), (bytes, lt, decap, extra) => {
        check(bytes, lt, decap, extra, prev);
      }),
      { numRuns: 5000 },
    );
  });

  it("mutated real frames (bit flips, truncation, length fields set to extremes)", () => {
    const prev = newKey();
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(400), fc.constantFrom(0x00, 0xff, 0x01, 0x80, 0x7f, 0x45, 0x08, 0x86, 0xdd, 0x17, 0xc1, 0x12, 0xb5)), { maxLength: 8 }),
        fc.nat(400),
        fc.boolean(),
        (which, edits, cut, decap) => {
          const f = seeds[which]!.slice();
          for (const [pos, v] of edits) if (pos < f.length) f[pos] = v;
          const frame = f.subarray(0, Math.min(cut, f.length));
          check(frame, 1, decap, cut < f.length ? f.length - cut : 0, prev);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
