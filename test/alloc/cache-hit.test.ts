/**
 * Proof that the flow cache's hit path allocates nothing per packet: exact-match hits, megaflow
 * hits, conntrack of established connections, recirculation and the tunnel to the other chassis.
 * The loop runs in a child Node with `--trace-gc` and a 1 MiB young generation (see
 * hot-path.test.ts for the method, and its check that an allocating loop is caught).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function runChild(emc: string): { gcs: string[]; counts: Record<string, number> } {
  const child = spawnSync(process.execPath, ["--trace-gc", "--max-semi-space-size=1", "--import", "tsx", "test/alloc/cache-hit-child.ts", emc], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  expect(child.status, child.stderr).toBe(0);
  const lines = child.stdout.split("\n");
  const begin = lines.indexOf("BEGIN");
  const end = lines.indexOf("END");
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(begin);
  const counts: Record<string, number> = {};
  for (const m of child.stdout.matchAll(/([A-Z]+) (\d+)/g)) counts[m[1]!] = Number(m[2]);
  return { gcs: lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Minor/.test(l)), counts };
}

describe("flow cache hit path allocation", () => {
  it("exact-match hits allocate nothing per packet", () => {
    const { gcs, counts } = runChild("1");
    expect(counts.PACKETS).toBeGreaterThanOrEqual(500_000);
    expect(counts.UPCALLS).toBe(0);
    expect(counts.EMC).toBeGreaterThan(counts.PACKETS! * 0.9);
    expect(counts.RECIRC).toBeGreaterThan(counts.PACKETS!);
    expect(counts.CONNECTIONS).toBeGreaterThan(0);
    expect(gcs.length, gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 320_000);

  it("megaflow hits (no exact-match cache) allocate nothing per packet", () => {
    const { gcs, counts } = runChild("0");
    expect(counts.UPCALLS).toBe(0);
    expect(counts.EMC).toBe(0);
    expect(counts.MEGAFLOW).toBeGreaterThan(counts.PACKETS!);
    expect(gcs.length, gcs.join("\n")).toBeLessThanOrEqual(3);
  }, 320_000);
});
