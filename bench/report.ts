/**
 * Printing tinybench results: one tab-separated row per task with the median time per operation
 * (from the latency distribution) and the mean operations per second.
 */
import type { Bench } from "tinybench";

export function printTinybench(bench: Bench): void {
  console.log(["case", "median us/op", "ops/s"].join("\t"));
  for (const t of bench.tasks) {
    const r = t.result as unknown as { latency?: { p50?: number }; throughput?: { mean?: number } } | undefined;
    const p50 = r?.latency?.p50;
    console.log([t.name, p50 !== undefined ? (p50 * 1000).toFixed(1) : "?", r?.throughput?.mean !== undefined ? r.throughput.mean.toFixed(0) : "?"].join("\t"));
  }
}
