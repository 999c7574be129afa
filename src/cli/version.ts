/**
 * The package version for `--version`: read once, at load, from the nearest package.json above
 * this module, so the compiled CLI finds the repository's from dist/ and dist-bench/ alike.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The `version` of the nearest package.json above this file ("unknown" when there is none). */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, "package.json");
    if (existsSync(p)) return (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version;
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}

export const VERSION: string = readVersion();
