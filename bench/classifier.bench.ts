/**
 * Micro benchmark (tinybench): classifier lookups/s, tuple-space search against the linear twin,
 * on 10k and 100k ACL-like rules.
 *
 * Rules come from ~30 ACL-like mask shapes (datapath, in/out port, conntrack bits, protocol,
 * source/destination prefixes, exact or masked ports) with wide value pools; keys are biased
 * towards the rules (most hit one). Two priority patterns: one shared set of priorities for every
 * shape (so every subtable's highest priority is the same and early exit rarely helps), and
 * priorities banded by shape (each shape at its own level, so early exit cuts probes). Tuple-space tasks time batches of `BATCH` lookups; the linear
 * twin on 100k rules needs milliseconds per lookup, so its tasks time one lookup each and run on
 * a bounded time budget. Figures printed: lookups/s of each, the ratio (measured in the same run),
 * the average number of subtables probed per lookup, and the hit rate. Before timing, a sample of
 * keys is checked to give the same rule from both classifiers.
 *
 * Run alone with `npx tsx bench/classifier.bench.ts [REGEX]`, or through the bench runner.
 */
import { Bench } from "tinybench";
import { Classifier, LinearClassifier } from "../src/classifier/index.js";
import { KEY_WORDS } from "../src/flow/index.js";
import { WIDE_POOLS, makeKey, makeRules, makeShapes, prng, type TestRule } from "../test/classifier/acl-rules.js";

const BATCH = 1024;
const KEYS = 4096;

/** The case names, for the runner's filter. */
export const cases = ["classifier/lookup-10k-acl", "classifier/lookup-100k-acl", "classifier/lookup-10k-acl-banded", "classifier/lookup-100k-acl-banded"];

interface Row {
  rules: number;
  priorities: string;
  subtables: number;
  tssLps: number;
  tssWcLps: number;
  linearLps: number;
  avgProbes: number;
  avgProbesWc: number;
  hitRate: number;
}

function throughput(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const r = task?.result;
  if (!r || r.state !== "completed") throw new Error(`bench task ${name} did not complete (${r?.state})`);
  return r.throughput.mean;
}

async function measure(n: number, banded: boolean): Promise<Row> {
  const rand = prng(0xc1a55 + n);
  const shapes = makeShapes(rand, 30);
  const rules = makeRules(rand, shapes, n, 0, WIDE_POOLS, banded);
  const tss = Classifier.from(rules);
  const lin = LinearClassifier.from(rules);
  const keys: Uint32Array[] = [];
  for (let i = 0; i < KEYS; i++) keys.push(makeKey(rand, rules, new Uint32Array(KEY_WORDS), WIDE_POOLS));

  let hits = 0;
  for (let i = 0; i < 256; i++) {
    const want = lin.lookup(keys[i]!);
    if (tss.lookup(keys[i]!) !== want) throw new Error(`classifier and linear twin disagree on key ${i}`);
    if (want) hits++;
  }

  const wc = new Uint32Array(KEY_WORDS);
  let sink: TestRule | undefined;
  let next = 0;
  const bench = new Bench({ name: `classifier ${n}`, time: 1500, warmupTime: 200 });
  bench
    .add("tss", () => {
      for (let i = 0; i < BATCH; i++) sink = tss.lookup(keys[(next++ & (KEYS - 1))]!);
    })
    .add("tss+wc", () => {
      for (let i = 0; i < BATCH; i++) {
        wc.fill(0);
        sink = tss.lookup(keys[(next++ & (KEYS - 1))]!, wc);
      }
    })
    .add("linear", () => {
      sink = lin.lookup(keys[(next++ & (KEYS - 1))]!);
    });
  await bench.run();
  void sink;
  // Probe counts come from untimed passes over the same keys (after the timed runs, so the
  // subtable ranking is the one the timed lookups ended with), without and with a mask.
  tss.resetStats();
  for (let i = 0; i < KEYS * 4; i++) tss.lookup(keys[i & (KEYS - 1)]!);
  const probesPlain = tss.stats().avgProbes;
  tss.resetStats();
  for (let i = 0; i < KEYS * 4; i++) {
    wc.fill(0);
    tss.lookup(keys[i & (KEYS - 1)]!, wc);
  }
  const probesWc = tss.stats().avgProbes;
  return {
    rules: n,
    priorities: banded ? "banded by shape" : "shared set",
    subtables: tss.subtableCount,
    tssLps: throughput(bench, "tss") * BATCH,
    tssWcLps: throughput(bench, "tss+wc") * BATCH,
    linearLps: throughput(bench, "linear"),
    avgProbes: probesPlain,
    avgProbesWc: probesWc,
    hitRate: hits / 256,
  };
}

export async function main(filter: RegExp = /./): Promise<void> {
  const rows: Row[] = [];
  for (const c of cases) {
    if (!filter.test(c)) continue;
    rows.push(await measure(c.includes("100k") ? 100_000 : 10_000, c.endsWith("-banded")));
  }
  if (rows.length === 0) return;
  console.log("classifier lookups/s (tinybench means; one thread), tuple-space search vs linear scan");
  console.table(
    rows.map((r) => ({
      rules: r.rules,
      priorities: r.priorities,
      subtables: r.subtables,
      "tss lookups/s": Math.round(r.tssLps),
      "tss+wc lookups/s": Math.round(r.tssWcLps),
      "linear lookups/s": Math.round(r.linearLps),
      "tss / linear": `${(r.tssLps / r.linearLps).toFixed(0)}x`,
      "avg subtables probed": r.avgProbes.toFixed(2),
      "avg probed (wc)": r.avgProbesWc.toFixed(2),
      "hit rate": r.hitRate.toFixed(2),
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main(new RegExp(process.argv[2] ?? "."));
