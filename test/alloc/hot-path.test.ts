/**
 * Proof that reading a capture and extracting keys allocates nothing per packet.
 *
 * The loop runs in a child Node with `--trace-gc` and a 1 MiB semi-space: even 8 bytes per packet
 * over millions of packets would force dozens of young-generation collections during the timed
 * section. The only allocations allowed are per file (opening a reader), which is a few objects per
 * pass over each input. We assert that at most a handful of collections happen while millions of
 * packets go through, i.e. far fewer than one per thousand packets.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { allocationGcs, runGcChild } from "./gc-child.js";


describe("hot path allocation", () => {
  it("read + extract allocates nothing per packet", () => {
    const { stdout, gcs } = runGcChild("test/alloc/hot-path-child.ts", [], 120_000);
    const packets = Number(/PACKETS (\d+)/.exec(stdout)?.[1]);
    expect(packets).toBeGreaterThanOrEqual(2_000_000);
    // Per-file objects (one reader per pass) may trigger a rare collection; per-packet
    // allocation would trigger thousands.
    expect(gcs.length, gcs.join("\n")).toBeLessThanOrEqual(3);
  });

  it("the check can fail: an allocating loop is caught", () => {
    const code = `
      const keep = [];
      process.stdout.write("BEGIN\\n");
      for (let i = 0; i < 2_000_000; i++) { const o = { i }; if ((i & 0xfffff) === 0) keep.push(o); }
      process.stdout.write("END\\n");`;
    const child = spawnSync(process.execPath, ["--trace-gc", "--max-semi-space-size=1", "-e", code], { encoding: "utf8", timeout: 60_000 });
    const lines = child.stdout.split("\n");
    const gcs = allocationGcs(lines.slice(lines.indexOf("BEGIN") + 1, lines.indexOf("END")));
    expect(gcs.length).toBeGreaterThan(3);
  });
});
