/**
 * The benchmark runner: `npm run bench [-- REGEX]` runs every case whose `area/case` name matches.
 *
 * Macro cases (whole captures) time complete loops and report medians of several runs; micro
 * cases use tinybench. Ratios are always between figures measured in the same run. Set
 * BENCH_RUNS to change the number of runs. For one-core figures run it under `taskset -c 0`.
 */
import * as classifier from "./classifier.bench.js";
import * as nbLoad from "./nb-load.js";
import * as path from "./path.bench.js";
import * as pcap from "./pcap.bench.js";
import * as replay from "./replay.bench.js";
import * as trace from "./trace.bench.js";

interface Suite {
  readonly cases: readonly string[];
  main(filter: RegExp): Promise<void>;
}

const filter = new RegExp(process.argv[2] ?? ".");
const suites: Suite[] = [pcap, classifier, trace, path, replay, nbLoad];
for (const suite of suites) {
  if (suite.cases.some((c) => filter.test(c))) await suite.main(filter);
}
