/**
 * Proof that the connection table allocates nothing for packets of known connections (both
 * directions, NAT undone or applied, re-commits with a mark and a label) and for new packets that
 * are not committed, while committing connections does allocate and is caught. The loop runs in a
 * child Node with `--trace-gc` and a 1 MiB young generation (see hot-path.test.ts for the method).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CT } from "../../src/flow/index.js";

const ROOT = resolve(import.meta.dirname, "../..");

function runChild(mode: string): { gcs: string[]; packets: number; connections: number[]; states: number[] } {
  const child = spawnSync(process.execPath, ["--trace-gc", "--max-semi-space-size=1", "--import", "tsx", "test/alloc/conntrack-child.ts", mode], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  expect(child.status, child.stderr).toBe(0);
  const lines = child.stdout.split("\n");
  const begin = lines.indexOf("BEGIN");
  const end = lines.indexOf("END");
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(begin);
  const m = /PACKETS (\d+) CONNECTIONS (\d+) (\d+) STATES ([\d,]+)/.exec(child.stdout);
  expect(m, child.stdout.slice(-500)).not.toBeNull();
  return {
    gcs: lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Minor/.test(l)),
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
    expect(r.states).toEqual(expect.arrayContaining([CT.TRK | CT.NEW, CT.TRK | CT.EST, CT.TRK | CT.EST | CT.RPL, CT.TRK | CT.EST | CT.SNAT, CT.TRK | CT.EST | CT.RPL | CT.SNAT]));
    expect(r.connections[1]).toBe(r.connections[0]);
    expect(r.gcs.length, r.gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 130_000);

  it("the check can fail: committing a connection per packet is caught", () => {
    const r = runChild("commit");
    expect(r.connections[1]! - r.connections[0]!).toBe(r.packets);
    expect(r.gcs.length).toBeGreaterThan(3);
  }, 130_000);
});
