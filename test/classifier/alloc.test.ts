/**
 * Proof that `Classifier.lookup` allocates nothing per call.
 *
 * The child runs two million lookups (with a wildcard mask, and with ranking refreshes every 1,024
 * lookups) in a Node with `--trace-gc` and a 1 MiB young generation: even 8 bytes per lookup
 * would force about sixteen young-generation collections between the markers. A control loop that
 * allocates one small typed array per lookup runs in the same child and must show many.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allocationGcs } from "../alloc/gc-child.js";

const ROOT = resolve(import.meta.dirname, "../..");

function gcsBetween(lines: string[], begin: string, end: string): string[] {
  const b = lines.indexOf(begin);
  const e = lines.indexOf(end);
  expect(b).toBeGreaterThanOrEqual(0);
  expect(e).toBeGreaterThan(b);
  return allocationGcs(lines.slice(b + 1, e));
}

describe("classifier lookup allocation", () => {
  it("allocates nothing per lookup, and the check catches a loop that does", () => {
    const child = spawnSync(process.execPath, ["--trace-gc", "--max-semi-space-size=1", "--import", "tsx", "test/classifier/alloc-child.ts"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.split("\n");
    expect(Number(/LOOKUPS (\d+)/.exec(child.stdout)?.[1])).toBe(4_350_000);
    expect(Number(/FOUND (\d+)/.exec(child.stdout)?.[1])).toBeGreaterThan(1_000_000);
    const hot = gcsBetween(lines, "BEGIN", "END");
    expect(hot.length, hot.join("\n")).toBeLessThanOrEqual(2);
    const control = gcsBetween(lines, "BEGIN2", "END2");
    expect(control.length).toBeGreaterThan(10);
  });
});
