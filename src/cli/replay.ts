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
 * reason and the capture packet it came from (Wireshark shows it as `frame.comment`). A capture
 * that breaks mid-stream ends the replay: the statistics cover the packets before it, the error
 * names the packet and byte offset, and the exit code is 2. `--inject` takes a port name or, for a
 * network built from Kube-OVN manifests, `pod/NS/NAME` (kube-names.ts, as `ovnsim trace --from`).
 */
import { basename, join } from "node:path";
import type { Argv } from "yargs";
import { REPLAY } from "./commands.js";
import { error, formatDiagnostic, parseIpv4 } from "../base/index.js";
import type { DropOp, OutputOp, PacketSink, TunnelOp } from "../dataplane/index.js";
import { rewriteFrame, frameFromKey, W } from "../flow/index.js";
import { encapsulateGeneve, encapsulateVxlan, ovnGeneveOption, pushVlan } from "../packet/index.js";
import { PcapWriter, PcapngWriter } from "../pcap/index.js";
import { Replayer, ReplayError, formatMapFile, mapInjector, readCaptureFiles, replayInWorkers, injectorFor, type MapInjector, type ReplayJob, type ReplayReport } from "../replay/index.js";
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
  section("dropped, by reason", s.drops);
  if (cache) {
    lines.push("flow cache:");
    lines.push(`  lookups:          ${c.lookups}`);
    lines.push(`  exact-match hits: ${c.emcHits} (${pct(c.emcHits, c.lookups)})`);
    lines.push(`  megaflow hits:    ${c.megaflowHits} (${pct(c.megaflowHits, c.lookups)}), ${c.avgSubtablesPerHit.toFixed(2)} subtables probed per hit`);
    lines.push(`  upcalls:          ${c.misses} (${pct(c.misses, c.lookups)})`);
    lines.push(`  megaflows:        ${c.megaflows} installed now, ${c.installed} in all (${s.exactMegaflows} exact), ${c.evicted} evicted, ${c.flushes} flushes`);
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
    drops: r.stats.drops,
    flowCache: { ...r.stats.cache, upcalls: r.stats.upcalls, exactMegaflows: r.stats.exactMegaflows },
    error: r.error ? formatDiagnostic(r.error) : null,
  };
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/**
 * `--out DIR`: one pcap per egress port and per tunnel, written atomically at the end. A tagged
 * localnet port's pcap holds the frames as they leave on the provider network, VLAN tag included.
 */
class OutDir implements PacketSink {
  private readonly writers = new Map<string, PcapWriter>();
  /** `dropped.pcapng`, one interface per chassis, each packet's drop reason in its comment. */
  private dropped: { writer: PcapngWriter; ifaces: Map<string, number> } | undefined;
  private readonly buf = new Uint8Array(262144 + 64);
  private readonly replayer: Replayer;
  private readonly dir: string;
  private readonly encaps: ReadonlyMap<string, { readonly type: string; readonly ip: string }>;
  /** The VLAN tag of each tagged localnet port, by name. */
  private readonly tags: ReadonlyMap<string, number>;
  problem: string | undefined;

  constructor(dir: string, replayer: Replayer, encaps: ReadonlyMap<string, { readonly type: string; readonly ip: string }>) {
    this.dir = dir;
    this.replayer = replayer;
    this.encaps = encaps;
    const tags = new Map<string, number>();
    for (const ls of replayer.network.switches.values()) for (const p of ls.ports.values()) if (p.type === "localnet" && p.tag !== undefined) tags.set(p.name, p.tag);
    this.tags = tags;
  }

  private writer(name: string): PcapWriter | undefined {
    let w = this.writers.get(name);
    if (!w) {
      const r = PcapWriter.create(join(this.dir, `${safeName(name)}.pcap`), { resolution: "ns" });
      if (!r.ok) {
        this.problem ??= r.diags[0]!.message;
        return undefined;
      }
      w = r.value;
      this.writers.set(name, w);
    }
    return w;
  }

  /** The current packet rewritten to `key`'s fields (and an ICMP error's quoted packet to conntrack's NAT). */
  private frame(key: Uint32Array): Uint8Array {
    const c = this.replayer.current;
    const n = rewriteFrame(c.data, c.offset, c.caplen, c.key, key, this.buf);
    if (n < 0) return frameFromKey(key);
    // An ICMP error whose quoted packet conntrack's NAT translated.
    this.replayer.icmp.rewriteQuoted(this.buf, n);
    return this.buf.slice(0, n);
  }

  output(chassis: string, op: OutputOp, key: Uint32Array): void {
    const c = this.replayer.current;
    // A tagged localnet port's packets, as its provider network carries them: with the tag that
    // ovn-controller pushes on the way out.
    const tag = op.portType === "localnet" ? this.tags.get(op.portName) : undefined;
    const f = tag === undefined ? this.frame(key) : pushVlan(this.frame(key), { pcp: 0, dei: false, vid: tag });
    this.writer(`port-${chassis === "local" ? "" : `${chassis}-`}${op.portName}`)?.writePacket(c.tsSec, c.tsNsec, f, f.length + Math.max(0, c.origlen - c.caplen));
  }

  drop(chassis: string, op: DropOp, key: Uint32Array): void {
    if (this.dropped === undefined) {
      const r = PcapngWriter.create(join(this.dir, "dropped.pcapng"), { application: "ovnsim replay" });
      if (!r.ok) {
        this.problem ??= r.diags[0]!.message;
        return;
      }
      this.dropped = { writer: r.value, ifaces: new Map() };
    }
    const d = this.dropped;
    let ifId = d.ifaces.get(chassis);
    if (ifId === undefined) {
      ifId = d.writer.addInterface({ name: chassis, description: `drops on chassis ${chassis}` });
      d.ifaces.set(chassis, ifId);
    }
    const c = this.replayer.current;
    const f = this.frame(key);
    const reason = this.replayer.group.drops.names[op.stat]!;
    d.writer.writePacket(ifId, c.tsSec, c.tsNsec, f, f.length + Math.max(0, c.origlen - c.caplen), `${reason}; from ${basename(c.file)} packet ${c.record}`);
  }

  tunnel(chassis: string, op: TunnelOp, key: Uint32Array): void {
    const c = this.replayer.current;
    const inner = this.frame(key);
    const src = this.encaps.get(chassis);
    const dst = this.encaps.get(op.chassis);
    const outer = { ethSrc: new Uint8Array(6), ethDst: new Uint8Array(6), ipSrc: parseIpv4(src?.ip ?? "") ?? 0, ipDst: parseIpv4(dst?.ip ?? "") ?? 0, udpSrc: 32768 + (key[W.TP]! % 28232) };
    // OVN's VXLAN mode: a 12-bit datapath key and a 12-bit egress port key (bit 11: multicast).
    const p12 = op.outport >= 32768 ? 0x800 | (op.outport & 0x7ff) : op.outport & 0xfff;
    const f =
      dst?.type === "vxlan"
        ? encapsulateVxlan(inner, outer, (op.datapath & 0xfff) | (p12 << 12))
        : encapsulateGeneve(inner, outer, op.datapath & 0xffffff, [ovnGeneveOption(op.inport & 0x7fff, op.outport & 0xffff)]);
    this.writer(`wire-${chassis}-${op.chassis}`)?.writePacket(c.tsSec, c.tsNsec, f);
  }

  close(): string | undefined {
    for (const w of [...this.writers.values(), ...(this.dropped ? [this.dropped.writer] : [])]) {
      const r = w.close();
      if (!r.ok) this.problem ??= r.diags[0]!.message;
    }
    return this.problem;
  }
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
        .option("workers", { type: "number", default: 1, describe: "worker threads, sharded by a symmetric hash of the two addresses, so that a connection, its fragments and the ICMP errors about it stay together (hash buckets balanced by their packets); each worker loads the network, reads the captures and warms up by itself, so more workers than one pay off only for long captures on a machine with cores to spare (bench/README.md)" })
        .option("progress", { type: "boolean", describe: "progress bar on stderr (default: when stderr is a terminal)" })
        .check((a) => {
          if (a.inject !== undefined && a.map !== undefined) throw new UsageError("give --inject or --map, not both");
          if (a.inject !== undefined && a["save-map"] !== undefined) throw new UsageError("--save-map saves a mapping, and --inject maps nothing: give --map (or neither)");
          if (!Number.isInteger(a.workers) || a.workers < 1 || a.workers > 64) throw new UsageError("--workers must be an integer from 1 to 64");
          if (a.workers > 1 && a.out !== undefined) throw new UsageError("--out needs --workers 1 (the per-port captures are written in packet order)");
          if (!Number.isInteger(a["emc-insert-inv-prob"]) || a["emc-insert-inv-prob"] < 0) throw new UsageError("--emc-insert-inv-prob must be a non-negative integer");
          if (!Number.isInteger(a["flow-limit"]) || a["flow-limit"] < 1) throw new UsageError("--flow-limit must be a positive integer");
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
      };
      let report: ReplayReport;
      let saveMap: (() => void) | undefined;
      const saveFrom = (inj: MapInjector): void => {
        const path = argv["save-map"];
        if (path === undefined) return;
        const header = [`ovnsim replay mapping of ${captures.join(", ")} onto ${argv.network} (${inj.plan.mappedConnections} of ${inj.plan.connections} connections mapped)`, "Edit and replay with: ovnsim replay NETWORK PCAP... --map THIS-FILE (see ovnsim replay --help)"];
        saveMap = () => writeFileAtomically(path, formatMapFile(inj.plan.choices, inj.plan.endpoints, header));
      };
      try {
        if (argv.workers > 1) {
          // The workers each make the plan; the one saved is made here, from the same captures.
          if (job.map !== undefined && argv["save-map"] !== undefined) saveFrom(mapInjector(new Replayer(scenario.network, { cache: false }), job.map, readCaptureFiles(captures)));
          report = await replayInWorkers(job, argv.workers);
        } else {
          const replayer = new Replayer(scenario.network, { cache: argv.cache ? { emcInsertInvProb: job.emcInsertInvProb!, flowLimit: job.flowLimit! } : false, ctTimeouts: argv["ct-timeouts"] });
          const files = readCaptureFiles(captures);
          const injector = injectorFor(replayer, job, files);
          if ("plan" in injector) saveFrom(injector as MapInjector);
          let out: OutDir | undefined;
          if (argv.out !== undefined) {
            makeOutputDir("--out", argv.out);
            const encaps = new Map([...scenario.network.chassis.values()].map((c) => [c.name, { type: c.encaps.first()?.type ?? "geneve", ip: c.encaps.first()?.ip ?? "" }] as const));
            out = new OutDir(argv.out, replayer, encaps);
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
      saveMap?.();
      if (argv.stats !== undefined) writeFileAtomically(argv.stats, JSON.stringify(statsDocument(report, { network: argv.network, captures, cache: argv.cache, workers: argv.workers, ctTimeouts: argv["ct-timeouts"] }), null, 2) + "\n");
      if (report.error) {
        io.err(`ovnsim: ${formatDiagnostic(report.error)}\n`);
        io.err(`ovnsim: the statistics above cover the ${report.read} packets read before the error\n`);
        setExit(2);
      }
    },
  );
}

