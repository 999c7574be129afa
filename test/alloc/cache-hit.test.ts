/**
 * Proof that the flow cache's hit path allocates nothing per packet: exact-match hits, megaflow
 * hits, conntrack of established connections, recirculation and the tunnel to the other chassis.
 * The loop runs in a child Node with `--trace-gc` and a 1 MiB young generation (see
 * hot-path.test.ts for the method, and its check that an allocating loop is caught).
 */
import { describe, expect, it } from "vitest";
import { runGcChild } from "./gc-child.js";

function runChild(emc: string): { gcs: string[]; counts: Record<string, number> } {
  const { stdout, gcs } = runGcChild("test/alloc/cache-hit-child.ts", [emc], 300_000);
  const counts: Record<string, number> = {};
  for (const m of stdout.matchAll(/([A-Z]+) (\d+)/g)) counts[m[1]!] = Number(m[2]);
  return { gcs, counts };
}

describe("flow cache hit path allocation", () => {
  it("exact-match hits allocate nothing per packet", () => {
    const { gcs, counts } = runChild("1");
    expect(counts.PACKETS).toBeGreaterThanOrEqual(500_000);
    expect(counts.UPCALLS).toBe(0);
    expect(counts.EMC).toBeGreaterThan(counts.PACKETS! * 0.9);
    expect(counts.RECIRC).toBeGreaterThan(counts.PACKETS!);
    expect(counts.CONNECTIONS).toBeGreaterThan(0);
    // TCP connections hold window state, updated by every packet.
    expect(counts.TRACKED).toBeGreaterThan(0);
    // Most packets are delivered (a quarter of the probes are drops by design): the path under
    // test is the whole one, not conntrack marking every TCP packet invalid.
    expect(counts.DROPS).toBeLessThan(counts.PACKETS! * 0.3);
    expect(gcs.length, gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 320_000);

  it("megaflow hits (no exact-match cache) allocate nothing per packet", () => {
    const { gcs, counts } = runChild("0");
    expect(counts.UPCALLS).toBe(0);
    expect(counts.EMC).toBe(0);
    expect(counts.MEGAFLOW).toBeGreaterThan(counts.PACKETS!);
    expect(counts.DROPS).toBeLessThan(counts.PACKETS! * 0.3);
    expect(gcs.length, gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 320_000);
});
