/**
 * `replay --workers N`: the replay split over worker processes.
 *
 * Each worker loads and compiles the network itself, reads every capture (zero-copy over its own
 * copy of the file) and replays only the packets of its shard: those whose symmetric address hash
 * (replay.ts `symmetricHash`, taken on the captured packet before any mapping) falls in a bucket
 * the shard table gives it. Every worker builds the same table (`balanceShards`: buckets balanced
 * by their packets) during its setup, from the same first pass over the captures that `--map auto`
 * makes anyway (with `--inject`, a pass of its own); like the rest of the setup, it is not in the
 * loop time. Both directions of a connection hash alike, so a connection's conntrack state, its
 * load balancer backend and its NAT bindings live on one worker, and the results are those of one
 * worker except for state shared between connections (learned neighbours, the MACs the provider
 * networks' bridges learn, cache contents and statistics). One such sharing is in conntrack: two
 * trace conversations without ports (ICMP, ESP) between different address pairs may be mapped onto
 * one pair, and so share one connection in one worker but not when their pairs hash to two (the
 * verdicts stay the same; the number of connections differs). `--map` builds the same plan in every worker (it depends only on the
 * captures, the network and the mapping file). The main process sums the workers' reports.
 *
 * Workers are processes, not threads, because of V8's own helper threads (its concurrent compiler
 * and its parallel and concurrent garbage collector). One replay alone runs them on the idle
 * core, which makes it faster; several workers must share their cores with all of them, and two
 * worker threads were slower than one (bench/README.md). V8 takes the flag that keeps it to one
 * thread (`--single-threaded`) only at process start, so with more than one worker each worker
 * is a Node process started with it. A single worker keeps V8's threads.
 *
 * The worker entry point is this module itself, in a process started with
 * `OVNSIM_REPLAY_WORKER=1`: it is loaded as compiled JavaScript, or through tsx when the project
 * runs from source. The job comes and the report goes over the IPC channel (structured clone).
 * Any error in a worker comes back as one; a worker that dies without reporting is an error too.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { error, type Diagnostic } from "../base/index.js";
import { sumCacheStats, type GroupStats } from "../dataplane/index.js";
import { loadNetworkFile } from "../scenario/index.js";
import { BucketCounts, Replayer, ReplayError, balanceShards, forEachRecordKey, injectAt, type Injector, type ReplayReport } from "./replay.js";
import { mapInjector, type MapInjector } from "./map-injector.js";
import { mapFileText } from "./map-file.js";
import { OutDir, mergeOutDirs, workerOutDir } from "./out-dir.js";

export interface ReplayJob {
  readonly network: string;
  /** The Southbound database beside an NB database network. */
  readonly sb?: string;
  readonly captures: readonly string[];
  readonly inject?: string;
  readonly map?: string;
  readonly cache: boolean;
  readonly emcInsertInvProb?: number;
  readonly flowLimit?: number;
  /** False: connections never expire (`ReplayOptions.ctTimeouts`). */
  readonly ctTimeouts?: boolean;
  /** `ReplayOptions.recircDepth` (Infinity: no limit). */
  readonly recircDepth?: number;
  /** `--out`: each worker writes `.worker-N` in it, merged when all are done (out-dir.ts). */
  readonly out?: string;
  /** `--save-map`: the first worker returns its plan as a mapping file (every worker's is the same). */
  readonly saveMap?: boolean;
}

interface WorkerInput {
  readonly job: ReplayJob;
  readonly index: number;
  readonly count: number;
}

type WorkerOutput =
  | { readonly ok: true; readonly report: ReplayReport; readonly mapText?: string }
  | { readonly ok: false; readonly diags: readonly Diagnostic[] }
  | { readonly ok: false; readonly bug: { readonly message: string; readonly stack?: string } };

/** Set in a worker process's environment: run the job that comes over IPC. */
const WORKER_ENV = "OVNSIM_REPLAY_WORKER";

/** Builds the injector a job asks for; `observe`, if given, sees every packet's key once. */
export function injectorFor(replayer: Replayer, job: ReplayJob, captures: readonly { file: string; bytes: Uint8Array }[], observe?: (key: Uint32Array) => void): Injector {
  if (job.inject !== undefined) {
    if (observe) forEachRecordKey(captures, (key) => key && observe(key));
    return injectAt(replayer, job.inject);
  }
  return mapInjector(replayer, job.map ?? "auto", captures, observe);
}

/**
 * The bytes of each capture, in order. A file named more than once (a capture replayed several
 * times in a row) is read once and its buffer shared: the replay only reads it.
 */
export function readCaptureFiles(files: readonly string[]): { file: string; bytes: Uint8Array }[] {
  const read = new Map<string, Uint8Array>();
  return files.map((file) => {
    let bytes = read.get(file);
    if (bytes === undefined) {
      bytes = readFileSync(file);
      read.set(file, bytes);
    }
    return { file, bytes };
  });
}

/** Runs the shard `index` of `count` of a job in this thread. */
export function runShard(job: ReplayJob, index: number, count: number): ReplayReport {
  return shard(job, index, count).report;
}

/** `runShard`, with the mapping file of the plan when the job saves it and this is the first shard. */
function shard(job: ReplayJob, index: number, count: number): { report: ReplayReport; mapText?: string } {
  const sc = loadNetworkFile(job.network, job.sb !== undefined ? { sb: job.sb } : {});
  if (!sc.ok) throw new ReplayError(sc.diags);
  const replayer = new Replayer(sc.value.network, {
    cache: job.cache ? { ...(job.emcInsertInvProb !== undefined ? { emcInsertInvProb: job.emcInsertInvProb } : {}), ...(job.flowLimit !== undefined ? { flowLimit: job.flowLimit } : {}) } : false,
    ...(job.ctTimeouts !== undefined ? { ctTimeouts: job.ctTimeouts } : {}),
    ...(job.recircDepth !== undefined ? { recircDepth: job.recircDepth } : {}),
  });
  const captures = readCaptureFiles(job.captures);
  const counts = new BucketCounts();
  const injector = injectorFor(replayer, job, captures, count > 1 ? (key) => counts.add(key) : undefined);
  replayer.setShard({ index, count, table: balanceShards(counts, count) });
  const out = job.out !== undefined ? new OutDir(workerOutDir(job.out, index), replayer, { sequence: true }) : undefined;
  const report = replayer.run(captures, injector, out);
  const problem = out?.close();
  if (problem !== undefined) throw new ReplayError([error("replay.out", `--out ${job.out}: ${problem}`)]);
  return job.saveMap === true && index === 0 && "plan" in injector ? { report, mapText: mapFileText((injector as MapInjector).plan, job.network, job.captures) } : { report };
}

/**
 * Runs a job on `count` worker processes and sums their reports; with `job.saveMap`, `onMapFile`
 * receives the plan's mapping file.
 */
export async function replayInWorkers(job: ReplayJob, count: number, onMapFile?: (text: string) => void): Promise<ReplayReport> {
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith(".ts");
  // From source, each worker loads tsx first; with more than one worker, V8 keeps to one thread.
  const execArgv = [...(fromSource ? ["--import", import.meta.resolve("tsx")] : []), ...(count > 1 ? ["--single-threaded"] : [])];
  const workers: ChildProcess[] = [];
  const runs = Array.from({ length: count }, (_, index) => {
    const input: WorkerInput = { job, index, count };
    const w = fork(self, [], { execArgv, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, [WORKER_ENV]: "1" } });
    workers.push(w);
    return new Promise<ReplayReport>((resolve, reject) => {
      let settled = false;
      w.once("message", (m: WorkerOutput) => {
        settled = true;
        if (m.ok) {
          if (m.mapText !== undefined) onMapFile?.(m.mapText);
          resolve(m.report);
        } else if ("diags" in m) reject(new ReplayError(m.diags));
        else reject(Object.assign(new Error(`replay worker ${index}: ${m.bug.message}`), m.bug.stack !== undefined ? { stack: m.bug.stack } : {}));
      });
      w.once("error", (e) => {
        settled = true;
        reject(e);
      });
      w.once("exit", (code, signal) => {
        if (!settled) reject(new Error(`replay worker ${index} ended (${signal ?? `exit code ${code}`}) before reporting`));
      });
      w.send(input);
    });
  });
  const dirs = job.out === undefined ? [] : Array.from({ length: count }, (_, i) => join(job.out!, `.worker-${i}`));
  try {
    const report = mergeReports(await Promise.all(runs));
    const problem = job.out === undefined ? undefined : mergeOutDirs(dirs, job.out);
    if (problem !== undefined) throw new ReplayError([error("replay.out", `--out ${job.out}: ${problem}`)]);
    return report;
  } finally {
    // The workers' own directories go, whether the replay ran or not; after one worker failed,
    // the others are stopped first, so that none is still writing there.
    await Promise.all(workers.map(stop));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Ends worker `w` (at once, if it is still running) and resolves when it has exited. */
function stop(w: ChildProcess): Promise<void> {
  if (w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    w.once("exit", () => resolve());
    w.kill("SIGKILL");
  });
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Sums shard reports (times: the slowest shard's; the first error). */
export function mergeReports(reports: readonly ReplayReport[]): ReplayReport {
  const first = reports[0]!;
  const skipped: Record<string, number> = {};
  const outputs: Record<string, number> = {};
  const tunnels: Record<string, number> = {};
  const providers: Record<string, number> = {};
  const drops: Record<string, number> = {};
  for (const r of reports) {
    addCounts(skipped, r.skipped);
    addCounts(outputs, r.stats.outputs);
    addCounts(tunnels, r.stats.tunnels);
    addCounts(providers, r.stats.providers);
    addCounts(drops, r.stats.drops);
  }
  const sum = (f: (r: ReplayReport) => number): number => reports.reduce((a, r) => a + f(r), 0);
  const stats: GroupStats = {
    packets: sum((r) => r.stats.packets),
    passes: sum((r) => r.stats.passes),
    recirculations: sum((r) => r.stats.recirculations),
    upcalls: sum((r) => r.stats.upcalls),
    exactMegaflows: sum((r) => r.stats.exactMegaflows),
    lengthUpcalls: sum((r) => r.stats.lengthUpcalls),
    outputs,
    tunnels,
    providers,
    drops,
    cache: sumCacheStats(reports.map((r) => r.stats.cache)),
  };
  return {
    read: first.read,
    replayed: sum((r) => r.replayed),
    otherShard: 0,
    skipped,
    stats,
    connections: sum((r) => r.connections),
    connectionsCreated: sum((r) => r.connectionsCreated),
    connectionsExpired: sum((r) => r.connectionsExpired),
    fragments: { held: sum((r) => r.fragments.held), expired: sum((r) => r.fragments.expired), deleted: sum((r) => r.fragments.deleted) },
    elapsedNs: Math.max(...reports.map((r) => r.elapsedNs)),
    error: reports.find((r) => r.error)?.error,
  };
}

if (process.env[WORKER_ENV] === "1" && process.send !== undefined) {
  // A worker process: one job in, one report (or error) out, then the channel closes and the
  // process ends. With the main process gone (the channel closed), there is no one to report to.
  process.once("message", (input: WorkerInput) => {
    let out: WorkerOutput;
    try {
      out = { ok: true, ...shard(input.job, input.index, input.count) };
    } catch (e) {
      if (e instanceof ReplayError) out = { ok: false, diags: e.diags };
      else out = { ok: false, bug: { message: e instanceof Error ? e.message : String(e), ...(e instanceof Error && e.stack !== undefined ? { stack: e.stack } : {}) } };
    }
    process.send!(out, (err: Error | null) => (err ? process.exit(1) : process.disconnect()));
  });
}
