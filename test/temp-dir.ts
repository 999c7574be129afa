/**
 * Temporary directories for tests that write manifests or captures to disk: each is made under the
 * system's temporary directory and removed when the test that made it finishes, pass or fail, so
 * repeated runs (a CI machine, a developer's loop) leave nothing behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/** A fresh directory `ovnsim-<prefix>-XXXXXX`, removed when the calling test finishes. */
export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ovnsim-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
