/**
 * `ovnsim replay NETWORK PCAP...`: stateful replay of captures through the network's datapaths
 * (flow cache in front of the slow path, per chassis; see src/replay/ and dataplane/datapath.ts).
 *
 * Prints what happened to the packets (per egress port, tunnel and drop reason, the drop reasons
 * naming the rule's origin) and the cache's statistics (exact-match hits, megaflow hits, upcalls,
 * megaflows, masks, subtables probed per hit), as `ovs-appctl dpif-netdev/pmd-perf-show` does.
 * `--stats FILE` writes the same as JSON (schema/replay-stats.schema.json), `--out DIR` one pcap per
 * egress port (the frame as delivered) and per tunnel (Geneve or VXLAN encapsulated), and
 * `dropped.pcapng` with every dropped packet as it was where it was dropped, its comment the drop
 * reason and the capture packet it came from (Wireshark shows it as `frame.comment`;
 * src/replay/out-dir.ts, which merges the workers' files in packet order). A capture
 * that breaks mid-stream ends the replay: the statistics cover the packets before it, the error
 * names the packet and byte offset, and the exit code is 2. `--inject` takes a port name or, for a
 * network built from Kube-OVN manifests, `pod/NS/NAME` (kube-names.ts, as `ovnsim trace --from`).
 */
import { rmdirSync } from "node:fs";
import type { Argv } from "yargs";
import { REPLAY } from "./commands.js";
import { error, formatDiagnostic } from "../base/index.js";
import { OutDir, Replayer, ReplayError, mapFileText, readCaptureFiles, replayInWorkers, injectorFor, type MapInjector, type ReplayJob, type ReplayReport } from "../replay/index.js";
import { InputError, checkCaptureFile } from "./capture-input.js";
import { writeFileAtomically } from "./import.js";
import { checkOutputDir, checkOutputFile, makeOutputDir } from "./output-path.js";
import { kubePort } from "./kube-names.js";
import { STDIN_ARG, UsageError, type Io } from "./io.js";
import { loadNetworkArg } from "./network.js";

/** Version of the `--stats` JSON document; bumped on any incompatible change. */
export const REPLAY_STATS_VERSION = 1;

function rate(n: number, ns: number): string {
  if (ns <= 0) return "-";
  const pps = n / (ns / 1e9);
  return pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} Mpps` : `${(pps / 1e3).toFixed(1)} kpps`;
}

function pct(a: number, b: number): string {
  return b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`;
}

/** The report as text. */
export function renderReport(r: ReplayReport, cache: boolean): string {
  const s = r.stats;
  const c = s.cache;
  const lines: string[] = [];
  lines.push(`packets: ${r.read} read, ${r.replayed} replayed (${rate(r.replayed, r.elapsedNs)} over ${(r.elapsedNs / 1e6).toFixed(1)} ms)`);
  for (const [why, n] of Object.entries(r.skipped).sort((a, b) => b[1] - a[1])) lines.push(`  not replayed: ${n} (${why})`);
  lines.push(`datapath passes: ${s.passes} (${s.recirculations} recirculations and tunnel arrivals)`);
  lines.push(`connections: ${r.connectionsCreated} committed, ${r.connectionsExpired} of them expired, ${r.connections} tracked at the end`);
  const f = r.fragments;
  if (f.held + f.expired + f.deleted > 0) lines.push(`IP fragments of datagrams that never completed: ${f.held} held at the end, ${f.expired} sent on as invalid after 15 s, ${f.deleted} deleted after 25 s`);
  const section = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    lines.push(`${title}:${entries.length === 0 ? " none" : ""}`);
    for (const [k, v] of entries) lines.push(`  ${String(v).padStart(9)}  ${k}`);
  };
  section("delivered, by egress port (chassis port)", s.outputs);
  section("tunnelled, by chassis pair", s.tunnels);
  if (Object.keys(s.providers).length > 0) section("carried over provider networks, by sending and receiving chassis", s.providers);
  section("dropped, by reason", s.drops);
  if (cache) {
    lines.push("flow cache:");
    lines.push(`  lookups:          ${c.lookups}`);
    lines.push(`  exact-match hits: ${c.emcHits} (${pct(c.emcHits, c.lookups)})`);
    lines.push(`  megaflow hits:    ${c.megaflowHits} (${pct(c.megaflowHits, c.lookups)}), ${c.avgSubtablesPerHit.toFixed(2)} subtables probed per hit`);
    lines.push(`  upcalls:          ${c.misses} (${pct(c.misses, c.lookups)})${s.lengthUpcalls > 0 ? `, ${s.lengthUpcalls} of them translated alone (lengths the cache cannot branch on)` : ""}`);
    lines.push(`  megaflows:        ${c.megaflows} installed now, ${c.installed} in all (${s.exactMegaflows} exact), ${c.evicted} evicted, ${c.flushes} flushes, ${c.revalidated} revalidated`);
    lines.push(`  masks:            ${c.masks}`);
  } else lines.push(`flow cache: off (${s.upcalls} slow-path passes)`);
  return lines.join("\n") + "\n";
}

/** The `--stats` document. */
export function statsDocument(r: ReplayReport, opts: { network: string; captures: readonly string[]; cache: boolean; workers: number; ctTimeouts: boolean }): object {
  return {
    version: REPLAY_STATS_VERSION,
    network: opts.network,
    captures: opts.captures,
    cache: opts.cache,
    workers: opts.workers,
    ctTimeouts: opts.ctTimeouts,
    packets: { read: r.read, replayed: r.replayed, skipped: r.skipped },
    elapsedNs: r.elapsedNs,
    packetsPerSecond: r.elapsedNs > 0 ? r.replayed / (r.elapsedNs / 1e9) : 0,
    passes: r.stats.passes,
    recirculations: r.stats.recirculations,
    connections: r.connections,
    connectionsCreated: r.connectionsCreated,
    connectionsExpired: r.connectionsExpired,
    fragments: r.fragments,
    outputs: r.stats.outputs,
    tunnels: r.stats.tunnels,
    providers: r.stats.providers,
    drops: r.stats.drops,
    flowCache: { ...r.stats.cache, upcalls: r.stats.upcalls, exactMegaflows: r.stats.exactMegaflows, lengthUpcalls: r.stats.lengthUpcalls },
    error: r.error ? formatDiagnostic(r.error) : null,
  };
}

class Progress {
  private last = 0;
  private readonly io: Io;
  private readonly t0 = Date.now();
  constructor(io: Io) {
    this.io = io;
  }
  update = (read: number, bytes: number, total: number): void => {
    const now = Date.now();
    if (now - this.last < 200 && bytes < total) return;
    this.last = now;
    const width = 30;
    const frac = total === 0 ? 1 : Math.min(1, bytes / total);
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    const secs = (now - this.t0) / 1000;
    this.io.err(`\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${read} packets${secs > 0 ? `, ${(read / secs / 1e3).toFixed(0)} kpps` : ""}`);
    if (bytes >= total) this.io.err("\n");
  };
}

export function registerReplayCommand(parser: Argv, io: Io, setExit: (code: number) => void): void {
  parser.command(
    REPLAY.usage,
    REPLAY.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "scenario YAML, Kube-OVN manifests, or an OVN NB database" })
        .positional("pcaps", { type: "string", array: true, demandOption: true, describe: "pcap or pcapng files, replayed in order as one stream" })
        .option("sb", { type: "string", describe: "the Southbound database beside an NB database NETWORK" })
        .option("inject", { type: "string", describe: "inject every packet at this logical port (a VIF bound to a chassis), or pod/NS/NAME for manifests" })
        .option("map", { type: "string", describe: "lay the capture onto the network's pods, services and external addresses: 'auto' (default when --inject is absent), or a mapping file that names the pod of trace hosts and the endpoint of trace servers (YAML; write one with --save-map and edit it)" })
        .option("save-map", { type: "string", describe: "write the mapping used as a mapping file for --map (every client host and server of the capture, with what it became)" })
        .option("out", { type: "string", describe: "write one pcap per egress port and per tunnel into this directory, and dropped.pcapng: each dropped packet with its drop reason and capture packet number as its comment" })
        .option("stats", { type: "string", describe: "write the statistics as JSON to this file (schema/replay-stats.schema.json)" })
        .option("cache", { type: "boolean", default: true, describe: "use the flow cache (--no-cache runs every packet on the slow path)" })
        .option("emc-insert-inv-prob", { type: "number", default: 100, describe: "insert into the exact-match cache with probability 1/N (1: always; 0: no exact-match cache)" })
        .option("ct-timeouts", { type: "boolean", default: true, describe: "expire connections by OVS's default conntrack timeouts, and incomplete IP fragment lists after 15 s, on the captures' clock (--no-ct-timeouts: never)" })
        .option("flow-limit", { type: "number", default: 200000, describe: "most megaflows held before the least recently used are evicted" })
        .option("recirc-depth", { type: "number", default: 6, describe: "recirculations one packet may nest before it is dropped (recirc-depth), as OVS's userspace datapath allows 6; 0: no limit, as in the kernel datapath" })
        .option("workers", { type: "number", default: 1, describe: "worker processes, sharded by a symmetric hash of the two addresses, so that a connection, its fragments and the ICMP errors about it stay together (hash buckets balanced by their packets); each worker loads the network, reads the captures and warms up by itself, so more workers than one pay off only for long captures on a machine with cores to spare (bench/README.md)" })
        .option("progress", { type: "boolean", describe: "progress bar on stderr (default: when stderr is a terminal)" })
        .check((a) => {
          if (a.inject !== undefined && a.map !== undefined) throw new UsageError("give --inject or --map, not both");
          if (a.inject !== undefined && a["save-map"] !== undefined) throw new UsageError("--save-map saves a mapping, and --inject maps nothing: give --map (or neither)");
          if (!Number.isInteger(a.workers) || a.workers < 1 || a.workers > 64) throw new UsageError("--workers must be an integer from 1 to 64");
          if (!Number.isInteger(a["emc-insert-inv-prob"]) || a["emc-insert-inv-prob"] < 0) throw new UsageError("--emc-insert-inv-prob must be a non-negative integer");
          if (!Number.isInteger(a["flow-limit"]) || a["flow-limit"] < 1) throw new UsageError("--flow-limit must be a positive integer");
          if (!Number.isInteger(a["recirc-depth"]) || a["recirc-depth"] < 0) throw new UsageError("--recirc-depth must be a non-negative integer (0: no limit)");
          return true;
        }),
    async (argv) => {
      const captures = argv.pcaps.map(String);
      if (captures.includes(STDIN_ARG)) {
        throw new InputError([error("usage.pcaps", "-: replay reads its captures from files (--map auto reads each twice, and every worker reads them all); save standard input to a file first")]);
      }
      for (const f of captures) checkCaptureFile(f);
      if (argv.stats !== undefined) checkOutputFile("--stats", argv.stats);
      if (argv["save-map"] !== undefined) checkOutputFile("--save-map", argv["save-map"]);
      if (argv.out !== undefined) checkOutputDir("--out", argv.out);
      const scenario = loadNetworkArg(argv.network, { sb: argv.sb, io });
      // `--inject pod/NS/NAME` is the pod's port, as in `ovnsim trace --from`.
      const inject = argv.inject === undefined ? undefined : kubePort(scenario, "--inject", argv.inject, "usage.inject");
      const job: ReplayJob = {
        network: argv.network,
        ...(argv.sb !== undefined ? { sb: argv.sb } : {}),
        captures,
        ...(inject !== undefined ? { inject } : { map: argv.map ?? "auto" }),
        cache: argv.cache,
        emcInsertInvProb: argv["emc-insert-inv-prob"],
        flowLimit: argv["flow-limit"],
        ctTimeouts: argv["ct-timeouts"],
        recircDepth: argv["recirc-depth"] === 0 ? Infinity : argv["recirc-depth"],
      };
      let report: ReplayReport;
      // `--save-map`: the plan's mapping file, written after the report.
      let mapText: string | undefined;
      try {
        if (argv.workers > 1) {
          // The workers find out whether the mapping loads; if not, the directories made for --out go.
          const made = argv.out !== undefined ? checkOutputDir("--out", argv.out) : [];
          if (argv.out !== undefined) makeOutputDir("--out", argv.out);
          try {
            const wjob: ReplayJob = { ...job, ...(argv.out !== undefined ? { out: argv.out } : {}), ...(argv["save-map"] !== undefined ? { saveMap: true } : {}) };
            report = await replayInWorkers(wjob, argv.workers, (text) => (mapText = text));
          } catch (e) {
            for (const d of [...made].reverse()) {
              try {
                rmdirSync(d);
              } catch {
                // not empty, or gone: left as it is
              }
            }
            throw e;
          }
        } else {
          const replayer = new Replayer(scenario.network, { cache: argv.cache ? { emcInsertInvProb: job.emcInsertInvProb!, flowLimit: job.flowLimit! } : false, ctTimeouts: argv["ct-timeouts"], recircDepth: job.recircDepth! });
          const files = readCaptureFiles(captures);
          const injector = injectorFor(replayer, job, files);
          if (argv["save-map"] !== undefined && "plan" in injector) mapText = mapFileText((injector as MapInjector).plan, argv.network, captures);
          let out: OutDir | undefined;
          if (argv.out !== undefined) {
            makeOutputDir("--out", argv.out);
            out = new OutDir(argv.out, replayer);
          }
          const progress = (argv.progress ?? io.errIsTty) ? new Progress(io).update : undefined;
          report = replayer.run(files, injector, out, progress);
          const problem = out?.close();
          if (problem) throw new InputError([error("replay.out", `--out ${argv.out}: ${problem}`)]);
        }
      } catch (e) {
        if (e instanceof ReplayError) throw new InputError(e.diags);
        throw e;
      }
      io.out(renderReport(report, argv.cache));
      if (argv["save-map"] !== undefined && mapText !== undefined) writeFileAtomically(argv["save-map"], mapText);
      if (argv.stats !== undefined) writeFileAtomically(argv.stats, JSON.stringify(statsDocument(report, { network: argv.network, captures, cache: argv.cache, workers: argv.workers, ctTimeouts: argv["ct-timeouts"] }), null, 2) + "\n");
      if (report.error) {
        io.err(`ovnsim: ${formatDiagnostic(report.error)}\n`);
        io.err(`ovnsim: the statistics above cover the ${report.read} packets read before the error\n`);
        setExit(2);
      }
    },
  );
}

