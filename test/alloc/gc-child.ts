/**
 * Runs an allocation probe: a child Node with `--trace-gc` and a 1 MiB young generation that
 * prints `BEGIN`, runs its loop, prints `END`. Returns its output and the collections traced
 * between the markers (see hot-path.test.ts for why this catches per-packet allocation).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { expect } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The collections among `--trace-gc` lines that allocation causes. V8's memory reducer also
 * collects, on a timer, in a process that allocates little (its lines say `(reduce)`): a loop slowed
 * down by a busy machine gets some of those, whatever it allocates.
 */
export function allocationGcs(lines: readonly string[]): string[] {
  return lines.filter((l) => /Scavenge|Mark-Compact|Minor/.test(l) && !/\(reduce\)/.test(l));
}

/** Runs `script` (a TypeScript file under the project root, through tsx) with `args`. */
export function runGcChild(script: string, args: readonly string[], timeout: number): { stdout: string; gcs: string[] } {
  const child = spawnSync(process.execPath, ["--trace-gc", "--max-semi-space-size=1", "--import", "tsx", script, ...args], { cwd: ROOT, encoding: "utf8", timeout });
  expect(child.status, child.stderr).toBe(0);
  const lines = child.stdout.split("\n");
  const begin = lines.indexOf("BEGIN");
  const end = lines.indexOf("END");
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(begin);
  return { stdout: child.stdout, gcs: allocationGcs(lines.slice(begin + 1, end)) };
}
