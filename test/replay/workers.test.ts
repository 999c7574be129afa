/**
 * `replay --workers`' worker processes (src/replay/workers.ts): each reports its shard, a problem
 * with the input comes back as the diagnostics it is, and any other failure in a worker comes back
 * as an error naming the worker, rather than a hang or a lost report.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ReplayError, replayInWorkers, type ReplayJob } from "../../src/replay/index.js";
import { testDir } from "../temp-dir.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NET = resolve(ROOT, "scenarios/kube-ovn-default.yaml");
const CAPTURE = resolve(ROOT, "fixtures/pcap/ovn-overlay-pod2pod.pcapng");
const job = (over: Partial<ReplayJob>): ReplayJob => ({ network: NET, captures: [CAPTURE], inject: "web-1.default", cache: true, ...over });

describe("replay worker processes", () => {
  it("two workers replay every packet once between them", async () => {
    const one = await replayInWorkers(job({}), 1);
    const two = await replayInWorkers(job({}), 2);
    expect(one.replayed).toBeGreaterThan(0);
    expect(two.replayed).toBe(one.replayed);
    expect(two.stats.drops).toEqual(one.stats.drops);
    expect(two.stats.outputs).toEqual(one.stats.outputs);
  }, 60_000);

  it("a network that does not load comes back as its diagnostics", async () => {
    const err = await replayInWorkers(job({ network: resolve(ROOT, "no-such-network.yaml") }), 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).diags[0]!.message).toMatch(/no-such-network|no such file/);
  }, 60_000);

  it("any other failure in a worker comes back as an error naming it", async () => {
    // A directory where a capture should be: reading it fails in the worker (EISDIR).
    const err = await replayInWorkers(job({ captures: [testDir("workers")] }), 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ReplayError);
    expect((err as Error).message).toMatch(/^replay worker [01]: .*EISDIR/);
  }, 60_000);
});
