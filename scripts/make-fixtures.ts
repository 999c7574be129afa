/**
 * Writes the generated fixtures under fixtures/ (atomically). `test/fixtures.test.ts` fails when a
 * committed fixture differs from what this produces, so run this after changing scripts/fixtures.ts.
 */
import { renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { allFixtures } from "./fixtures.js";

for (const [rel, bytes] of Object.entries(allFixtures())) {
  const path = resolve(import.meta.dirname, "../fixtures", rel);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  console.log(`wrote ${rel} (${bytes.length} bytes)`);
}
