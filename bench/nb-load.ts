/**
 * Macro benchmark (`nb-load/10k-ports`): load and compile an OVN Northbound database with 10,000
 * logical switch ports made by real OVN, then trace one packet, as a whole command; beside it,
 * real `ovn-trace` against the Southbound that ovn-northd computed from the same database, served
 * by a real ovsdb-server, measured in the same run.
 *
 * Setup (not timed): an `OvnSandbox` (ovsdb-server NB + SB, ovn-northd). With ovn-northd paused,
 * `ovn-nbctl` builds `SWITCHES` switches of `PORTS` VIFs each (MAC + IPv4), one `ovn-nbctl`
 * invocation per switch with its commands chained by `--`; every ten switches hang off one
 * distributed router, and the routers meet on a join switch with static routes to each other's
 * subnets; a port group of every tenth VIF carries stateful ACLs (one uses an address set), and
 * ten TCP load balancers (three backends each) are on every switch. ovn-northd is then resumed
 * and `ovn-nbctl --wait=sb sync` timed: that is ovn-northd computing the whole Southbound from
 * scratch (reported separately). Both servers compact their files, which are copied out.
 *
 * Timed, `BENCH_RUNS` runs each (default 5), medians reported, runs alternated:
 * (a) `node dist-bench/src/cli/main.js trace NB.db MICROFLOW`, the compiled CLI as a child
 *     process: read, load, compile, trace, print; and the same with `--sb SB.db` (which also reads
 *     the Southbound, logical flows and all);
 * (b) `ovn-trace --db=unix:SB.sock DATAPATH MICROFLOW` against the sandbox's ovsdb-server: connect,
 *     fetch the Southbound, parse its logical flows, trace, print.
 * Both print the detailed trace, and must agree on where the packet goes (the run stops if not).
 * Wall time is the figure; the CPU time each command used (its user + system time, read from the
 * kernel's account of reaped children) is printed beside it, since wall time on a shared machine
 * includes waiting for a CPU. ovn-trace's CPU time leaves out the ovsdb-server that serves it.
 *
 * Run: `npm run bench -- nb-load`, or standalone after `npx tsc -p tsconfig.bench.json`:
 * `node dist-bench/bench/nb-load.js`. SWITCHES/PORTS/BENCH_RUNS come from the environment
 * (`NB_LOAD_SWITCHES`, `NB_LOAD_PORTS`); `NB_LOAD_KEEP=1` keeps the copied databases (for
 * profiling). Needs real OVN; prints a reason and skips otherwise.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Result } from "../src/base/index.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../src/ovn/index.js";

export const cases = ["nb-load/10k-ports"];

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SWITCHES = Number(process.env.NB_LOAD_SWITCHES ?? 100);
const PORTS = Number(process.env.NB_LOAD_PORTS ?? 100);
/** Switches per router. */
const PER_ROUTER = 10;
const LBS = 10;
/** Keep the copied databases (for profiling the same files again). */
const KEEP = process.env.NB_LOAD_KEEP === "1";

/** The compiled CLI beside this file when run from dist-bench/bench/ (never imported: spawned). */
const CLI = resolve(import.meta.dirname, "../src/cli/main.js");

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const vifMac = (s: number, i: number): string => `0a:00:00:${hex2(s)}:${hex2(i >> 8)}:${hex2(i & 0xff)}`;
const vifIp = (s: number, i: number): string => `10.${s}.${(i + 2) >> 8}.${(i + 2) & 0xff}`;
const lrpMac = (s: number): string => `0a:00:01:00:00:${hex2(s)}`;
const routerOf = (s: number): number => Math.floor(s / PER_ROUTER);

/** The `ovn-nbctl` invocations that build the network, each a list of `--`-chained commands. */
export function nbctlBatches(): string[][] {
  const out: string[][] = [];
  const routers = Math.ceil(SWITCHES / PER_ROUTER);
  const join: string[] = ["ls-add", "join"];
  for (let r = 0; r < routers; r++) {
    join.push("--", "lr-add", `lr${r}`);
    join.push("--", "lrp-add", `lr${r}`, `lr${r}-join`, `0a:00:02:00:00:${hex2(r)}`, `100.64.0.${r + 1}/16`);
    join.push("--", "lsp-add", "join", `join-lr${r}`, "--", "lsp-set-type", `join-lr${r}`, "router", "--", "lsp-set-addresses", `join-lr${r}`, "router", "--", "lsp-set-options", `join-lr${r}`, `router-port=lr${r}-join`);
  }
  for (let k = 0; k < LBS; k++) {
    const backends = [0, 1, 2].map((b) => `${vifIp((k * 7 + b * 31) % SWITCHES, (k * 13 + b) % PORTS)}:8080`).join(",");
    join.push("--", "lb-add", `lb${k}`, `172.30.0.${k + 1}:80`, backends, "tcp");
  }
  out.push(join);
  for (let s = 0; s < SWITCHES; s++) {
    const r = routerOf(s);
    const cmd: string[] = ["ls-add", `ls${s}`];
    cmd.push("--", "lrp-add", `lr${r}`, `lr${r}-ls${s}`, lrpMac(s), `10.${s}.0.1/16`);
    cmd.push("--", "lsp-add", `ls${s}`, `ls${s}-lr${r}`, "--", "lsp-set-type", `ls${s}-lr${r}`, "router", "--", "lsp-set-addresses", `ls${s}-lr${r}`, "router", "--", "lsp-set-options", `ls${s}-lr${r}`, `router-port=lr${r}-ls${s}`);
    for (let i = 0; i < PORTS; i++) cmd.push("--", "lsp-add", `ls${s}`, `ls${s}-p${i}`, "--", "lsp-set-addresses", `ls${s}-p${i}`, `${vifMac(s, i)} ${vifIp(s, i)}`);
    for (let k = 0; k < LBS; k++) cmd.push("--", "ls-lb-add", `ls${s}`, `lb${k}`);
    out.push(cmd);
  }
  for (let r = 0; r < routers; r++) {
    const cmd: string[] = [];
    for (let s = 0; s < SWITCHES; s++) if (routerOf(s) !== r) cmd.push("--", "lr-route-add", `lr${r}`, `10.${s}.0.0/16`, `100.64.0.${routerOf(s) + 1}`);
    if (cmd.length > 0) out.push(cmd.slice(1));
  }
  const members: string[] = [];
  for (let s = 0; s < SWITCHES; s++) for (let i = 0; i < PORTS; i += 10) members.push(`ls${s}-p${i}`);
  const clients = [...new Set(Array.from({ length: 100 }, (_, k) => `"${vifIp(k % SWITCHES, 1 + (k % (PORTS - 1)))}"`))].join(",");
  out.push([
    "pg-add",
    "pg_web",
    ...members,
    "--",
    "create",
    "Address_Set",
    "name=as_clients",
    `addresses=[${clients}]`,
    ...["to-lport 1000 outport == @pg_web && ip4 drop", "from-lport 1000 inport == @pg_web && ip4 allow-related"].flatMap((a) => {
      const [dir, prio, ...rest] = a.split(" ");
      const action = rest.pop()!;
      return ["--", "acl-add", "pg_web", dir!, prio!, rest.join(" "), action];
    }),
    ...[80, 443, 8080].flatMap((port, k) => ["--", "acl-add", "pg_web", "to-lport", String(1001 + k), `outport == @pg_web && ip4.src == 10.0.0.0/8 && tcp.dst == ${port}`, "allow-related"]),
    "--",
    "acl-add",
    "pg_web",
    "to-lport",
    "1010",
    "outport == @pg_web && ip4.src == $as_clients && tcp.dst == 9000",
    "allow-related",
    "--",
    "acl-add",
    "pg_web",
    "to-lport",
    "1011",
    "outport == @pg_web && udp.dst == 53",
    "allow",
  ]);
  return out;
}

/** The traced packet: a VIF of the first switch to a port-group member of the last, TCP 80 (allowed, routed twice). */
export function benchMicroflow(): { datapath: string; microflow: string; expectPort: string } {
  const s1 = SWITCHES - 1;
  const dst = 10 * Math.floor((PORTS - 1) / 10);
  return {
    datapath: "ls0",
    microflow: `inport == "ls0-p5" && eth.src == ${vifMac(0, 5)} && eth.dst == ${lrpMac(0)} && ip4.src == ${vifIp(0, 5)} && ip4.dst == ${vifIp(s1, dst)} && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 80`,
    expectPort: `ls${s1}-p${dst}`,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * CPU time (user + system, ms) of this process's reaped children, from /proc/self/stat (cutime and
 * cstime, in clock ticks of 10 ms); NaN where that file does not exist.
 */
function childCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 16 and 17 of stat(5); the slice starts at field 3.
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Runs a command to completion; its wall time and CPU time in ms, and its output. */
function timed(bin: string, args: readonly string[], env?: NodeJS.ProcessEnv): { ms: number; cpuMs: number; out: string } {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: env ?? process.env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = childCpuMs() - c0;
  if (r.error || r.status !== 0) throw new Error(`${bin} ${args.slice(0, 3).join(" ")} ... failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || "").slice(0, 500)}`);
  return { ms, cpuMs, out: r.stdout };
}

/** The output ports a detailed trace (ovn-trace's or ovnsim's) names: `output to "P", type ""`. */
function outputPorts(text: string): string[] {
  return [...text.matchAll(/\/\* output to "([^"]+)", type "([^"]*)" \*\//g)].filter((m) => m[2] === "").map((m) => m[1]!);
}

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const mib = (path: string): string => `${(statSync(path).size / 1024 / 1024).toFixed(1)} MiB`;

function run(): void {
  if (!ovnAvailable()) {
    console.log("nb-load: real OVN is not installed; skipped");
    return;
  }
  if (!existsSync(CLI)) {
    console.log(`nb-load: no compiled CLI at ${CLI} (run \`npx tsc -p tsconfig.bench.json\`); skipped`);
    return;
  }
  const started = OvnSandbox.start({ timeoutMs: 600_000 });
  if (!started.ok) throw new Error(started.diags[0]!.message);
  const sb = started.value;
  const out = mkdtempSync(join(tmpdir(), "ovnsim-nb-load-"));
  try {
    const must = (r: Result<unknown>, what: string): void => {
      if (!r.ok) throw new Error(`${what}: ${r.diags[0]?.message ?? "failed"}`);
    };
    const northdCtl = join(sb.dir, "northd.ctl");
    must(sb.run("ovn-appctl", ["-t", northdCtl, "pause"]), "pause ovn-northd");
    const t0 = Date.now();
    const batches = nbctlBatches();
    for (const b of batches) must(sb.nbctl(...b), "ovn-nbctl");
    const nbMs = Date.now() - t0;
    must(sb.run("ovn-appctl", ["-t", northdCtl, "resume"]), "resume ovn-northd");
    const t1 = process.hrtime.bigint();
    must(sb.sync(), "ovn-nbctl --wait=sb sync");
    const northdMs = Number(process.hrtime.bigint() - t1) / 1e6;
    for (const db of ["nb", "sb"]) must(sb.run("ovs-appctl", ["-t", join(sb.dir, `${db}.ctl`), "ovsdb-server/compact"]), "compact");
    const nbDb = join(out, "nb.db");
    const sbDb = join(out, "sb.db");
    copyFileSync(join(sb.dir, "nb.db"), nbDb);
    copyFileSync(join(sb.dir, "sb.db"), sbDb);
    const lflows = sb.run("ovn-sbctl", [`--db=unix:${sb.sbSock}`, "--columns=_uuid", "--bare", "list", "Logical_Flow"]);
    const nLflows = lflows.ok ? lflows.value.split("\n").filter((l) => l.trim() !== "").length : NaN;
    const { datapath, microflow, expectPort } = benchMicroflow();
    const ovnsimArgs = [CLI, "trace", nbDb, datapath, microflow];
    const ovnsimSbArgs = [CLI, "trace", nbDb, "--sb", sbDb, datapath, microflow];
    const ovnTraceArgs = [`--db=unix:${sb.sbSock}`, datapath, microflow];
    const env = { ...process.env, OVS_RUNDIR: sb.dir, OVN_RUNDIR: sb.dir };
    const a: number[] = [];
    const aSb: number[] = [];
    const b: number[] = [];
    const cpu: [number[], number[], number[]] = [[], [], []];
    for (let i = 0; i < RUNS; i++) {
      const x = timed(process.execPath, ovnsimArgs);
      const y = timed(process.execPath, ovnsimSbArgs);
      const z = timed("ovn-trace", ovnTraceArgs, env);
      if (i === 0) {
        const ports = [outputPorts(x.out), outputPorts(y.out), outputPorts(z.out)];
        for (const p of ports) if (p.join() !== expectPort) throw new Error(`the traces disagree or miss ${expectPort}: ovnsim ${ports[0]!.join()}, ovnsim --sb ${ports[1]!.join()}, ovn-trace ${ports[2]!.join()}`);
      }
      a.push(x.ms);
      aSb.push(y.ms);
      b.push(z.ms);
      cpu[0].push(x.cpuMs);
      cpu[1].push(y.cpuMs);
      cpu[2].push(z.cpuMs);
    }
    const ports = SWITCHES * PORTS;
    console.log(`nb-load/10k-ports: ${ports} VIFs on ${SWITCHES} switches, ${Math.ceil(SWITCHES / PER_ROUTER)} routers, ${LBS} LBs per switch; NB ${mib(nbDb)}, SB ${mib(sbDb)} (${nLflows} logical flows); ${ovnVersion() ?? "OVN ?"}, Node ${process.version}`);
    console.log(`  setup: ovn-nbctl ${fmt(nbMs)} (${batches.length} invocations), ovn-northd NB->SB ${fmt(northdMs)}`);
    console.log(`  median of ${RUNS} runs (trace to ${expectPort}):`);
    console.log(`    ovnsim trace NB.db:          ${fmt(median(a))}  (runs: ${a.map(fmt).join(", ")})`);
    console.log(`    ovnsim trace NB.db --sb SB:  ${fmt(median(aSb))}  (runs: ${aSb.map(fmt).join(", ")})`);
    console.log(`    ovn-trace (ovsdb-server SB): ${fmt(median(b))}  (runs: ${b.map(fmt).join(", ")})`);
    console.log(`  ratio ovnsim / ovn-trace: ${(median(a) / median(b)).toFixed(2)}x (with --sb ${(median(aSb) / median(b)).toFixed(2)}x)`);
    console.log(`  CPU time of the command itself (user + system, median): ovnsim ${fmt(median(cpu[0]))}, with --sb ${fmt(median(cpu[1]))}, ovn-trace ${fmt(median(cpu[2]))} (ovsdb-server's share not counted)`);
    const load = loadavg().map((l) => l.toFixed(2));
    console.log(`  load average at the end: ${load.join(", ")} on ${availableParallelism()} CPUs`);
    console.log(`  ovnsim command: node ${ovnsimArgs.map((x) => (x.includes(" ") ? `'${x}'` : x)).join(" ")}`);
  } finally {
    sb.stop();
    if (KEEP) console.log(`  databases kept in ${out}`);
    else rmSync(out, { recursive: true, force: true });
  }
}

export async function main(filter: RegExp = /./): Promise<void> {
  if (filter.test("nb-load/10k-ports")) run();
  await Promise.resolve();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
