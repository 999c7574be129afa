/**
 * Proof that the connection table allocates nothing for packets of known connections (both
 * directions, NAT undone or applied, re-commits with a mark and a label) and for new packets that
 * are not committed, while committing connections does allocate and is caught. The loop runs in a
 * child Node with `--trace-gc` and a 1 MiB young generation (see hot-path.test.ts for the method).
 */
import { describe, expect, it } from "vitest";
import { CT } from "../../src/flow/index.js";
import { runGcChild } from "./gc-child.js";

function runChild(mode: string): { gcs: string[]; packets: number; connections: number[]; states: number[] } {
  const { stdout, gcs } = runGcChild("test/alloc/conntrack-child.ts", [mode], 120_000);
  const m = /PACKETS (\d+) CONNECTIONS (\d+) (\d+) STATES ([\d,]+)/.exec(stdout);
  expect(m, stdout.slice(-500)).not.toBeNull();
  return {
    gcs,
    packets: Number(m![1]),
    connections: [Number(m![2]), Number(m![3])],
    states: m![4]!.split(",").map(Number),
  };
}

describe("conntrack allocation", () => {
  it("known connections and uncommitted new packets allocate nothing", () => {
    const r = runChild("known");
    expect(r.packets).toBeGreaterThanOrEqual(2_000_000);
    // The loop did meet established, reply, NAT and new packets, and committed nothing.
    expect(r.states).toEqual(expect.arrayContaining([CT.TRK | CT.NEW, CT.TRK | CT.EST, CT.TRK | CT.EST | CT.RPL, CT.TRK | CT.EST | CT.SNAT, CT.TRK | CT.EST | CT.RPL | CT.DNAT]));
    expect(r.connections[1]).toBe(r.connections[0]);
    expect(r.gcs.length, r.gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 130_000);

  it("the check can fail: committing a connection per packet is caught", () => {
    const r = runChild("commit");
    expect(r.connections[1]! - r.connections[0]!).toBe(r.packets);
    expect(r.gcs.length).toBeGreaterThan(3);
  }, 130_000);
});
