import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Test files that take a minute or more, longest first. A fresh checkout has no record of how long
 * each file took, and the runner then starts the largest files first; these are small files (their
 * cases live in shared modules, or run real OVN) and would otherwise start last and run alone.
 */
const SLOW_FIRST = [
  "test/ovn/ovs-replay-more.test.ts",
  "test/ovn/ovs-replay.test.ts",
  "test/conformance/ovn-suite.test.ts",
  "test/replay/cache-differential.test.ts",
  "test/differential/tshark.test.ts",
  "test/differential/extract.test.ts",
  "test/conformance/kube-docs.test.ts",
  "test/conformance/roundtrip.test.ts",
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((s) => f.moduleId.endsWith(s));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // A stable sort: the rest keep the runner's own order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The runner's default is one worker fewer than the cores, which on a two-core machine is one.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
  },
});
