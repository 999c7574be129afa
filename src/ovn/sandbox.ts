/**
 * A private, throw-away OVN control plane: two ovsdb-servers (Northbound and Southbound) and
 * ovn-northd, running from a temporary directory, for checking ovnsim against real OVN.
 *
 * What: `OvnSandbox.start()` creates a temp dir, creates both databases from the installed
 * schemas, and starts the daemons detached, each with its pid file, unixctl socket, database
 * socket and log file in that dir. Every child gets `OVS_RUNDIR`, `OVN_RUNDIR`, `OVS_LOGDIR`,
 * `OVN_LOGDIR` and `OVS_DBDIR` pointed at the dir, so nothing touches `/var/run` or `/etc`.
 * `nbctl`/`sbctl` run the CLIs against the sockets; `sync()` waits until northd has caught up;
 * `lflows()` reads the Logical_Flow table with datapath names and stage names; `trace()` runs
 * ovn-trace. `stop()` ends exactly the processes this sandbox started (by their pid files) and
 * removes the dir.
 *
 * Facts this follows (OVN 23.03, OVS 3.1; see DESIGN.md §7): fake chassis should carry the
 * feature flags a 23.03 ovn-controller announces, or northd emits older actions (`ct_lb` instead of
 * `ct_lb_mark`); `addChassis` sets them.
 *
 * Errors: a failing command is a `Diagnostic` (code `ovn.command`) carrying its stderr; every
 * command has a timeout. Nothing here runs unless the binaries are installed (`ovnAvailable()`);
 * `OVNSIM_NO_OVN=1` in the environment makes every caller behave as if they were not.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { error, fail, ok, type Result } from "../base/index.js";

/** The binaries the sandbox needs. */
export const OVN_BINARIES = ["ovsdb-tool", "ovsdb-server", "ovn-northd", "ovn-nbctl", "ovn-sbctl", "ovn-trace"] as const;

/** Where the installed database schemas live. */
export const SCHEMA_DIR = "/usr/share/ovn";

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, bin))) return true;
  }
  // Daemons often live in sbin directories that a non-root PATH leaves out.
  return ["/usr/sbin", "/sbin", "/usr/local/sbin"].some((d) => existsSync(join(d, bin)));
}

/**
 * What of real OVN is missing here: the binaries not found and the schema files absent, by name.
 * Empty when everything the sandbox needs is installed.
 */
export function missingOvnParts(): string[] {
  const missing: string[] = OVN_BINARIES.filter((b) => !onPath(b));
  for (const db of ["nb", "sb"]) {
    const schema = join(SCHEMA_DIR, `ovn-${db}.ovsschema`);
    if (!existsSync(schema)) missing.push(schema);
  }
  return missing;
}

/** True when `OVNSIM_NO_OVN=1` asks every caller to behave as if OVN were not installed. */
export function ovnDisabledByEnv(): boolean {
  return process.env.OVNSIM_NO_OVN === "1";
}

/**
 * True when every OVN/OVS binary the sandbox uses is installed, and `OVNSIM_NO_OVN=1` does not
 * ask to pretend otherwise.
 */
export function ovnAvailable(): boolean {
  return !ovnDisabledByEnv() && missingOvnParts().length === 0;
}

/** One row of the Southbound Logical_Flow table. */
export interface LogicalFlow {
  /** Names of the datapaths the flow applies to (one, or the members of its datapath group). */
  readonly datapaths: readonly string[];
  readonly pipeline: "ingress" | "egress";
  readonly table: number;
  /** `external_ids:stage-name`, e.g. `ls_in_acl`. */
  readonly stage: string;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

export interface SandboxOptions {
  /** Parent of the temp dir. Default: the OS temp dir. */
  readonly parent?: string;
  /** Per-command timeout in milliseconds. Default 20,000. */
  readonly timeoutMs?: number;
}

/** Feature flags a 23.03 ovn-controller announces in Chassis `other_config`. */
export const CHASSIS_FEATURES: Readonly<Record<string, string>> = {
  "ct-no-masked-label": "true",
  "ovn-ct-lb-related": "true",
  "mac-binding-timestamp": "true",
  "port-up-notif": "true",
};

type OvsdbAtom = string | number | boolean | ["uuid", string] | ["set", unknown[]] | ["map", [unknown, unknown][]];

/** OVSDB JSON values: sets of one element may be written bare. */
/** An OVSDB JSON set column's members (a lone value is a set of one). */
export function setOf(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set") return v[1] as unknown[];
  return [v];
}

function mapOf(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v) && v[0] === "map") for (const [k, x] of v[1] as [unknown, unknown][]) out.set(String(k), String(x));
  return out;
}

function uuidOf(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : undefined;
}

/** Parses `ovn-*ctl --format=json list TABLE` output into rows keyed by column name. */
export function parseOvsdbJson(text: string): Result<Record<string, unknown>[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(error("ovn.json", "ovsdb JSON output did not parse"));
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { headings?: unknown }).headings) || !Array.isArray((doc as { data?: unknown }).data)) {
    return fail(error("ovn.json", "ovsdb JSON output lacks headings or data"));
  }
  const { headings, data } = doc as { headings: string[]; data: OvsdbAtom[][] };
  return ok(data.map((row) => Object.fromEntries(headings.map((h, i) => [h, row[i]]))));
}

export class OvnSandbox {
  /** The temp dir holding databases, sockets, pid files and logs. */
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly pidFiles: string[] = [];
  private stopped = false;

  private constructor(dir: string, timeoutMs: number) {
    this.dir = dir;
    this.timeoutMs = timeoutMs;
    this.env = { ...process.env, OVS_RUNDIR: dir, OVN_RUNDIR: dir, OVS_LOGDIR: dir, OVN_LOGDIR: dir, OVS_DBDIR: dir, PATH: `${process.env.PATH ?? ""}${delimiter}/usr/sbin${delimiter}/sbin` };
  }

  /** Creates the databases and starts ovsdb-server (NB, SB) and ovn-northd. */
  static start(opts: SandboxOptions = {}): Result<OvnSandbox> {
    if (!ovnAvailable()) {
      const missing = missingOvnParts();
      const why = missing.length > 0 ? `OVN is not installed (missing ${missing.join(", ")})` : "OVN is disabled by OVNSIM_NO_OVN=1";
      return fail(error("ovn.unavailable", why));
    }
    const dir = mkdtempSync(join(opts.parent ?? tmpdir(), "ovnsim-ovn-"));
    const sb = new OvnSandbox(dir, opts.timeoutMs ?? 20_000);
    const steps: [string, string[], string?][] = [];
    for (const db of ["nb", "sb"]) steps.push(["ovsdb-tool", ["create", join(dir, `${db}.db`), join(SCHEMA_DIR, `ovn-${db}.ovsschema`)]]);
    for (const db of ["nb", "sb"]) {
      steps.push([
        "ovsdb-server",
        ["--detach", "--no-chdir", `--pidfile=${join(dir, `${db}.pid`)}`, `--unixctl=${join(dir, `${db}.ctl`)}`, `--remote=punix:${join(dir, `${db}.sock`)}`, `--log-file=${join(dir, `${db}.log`)}`, join(dir, `${db}.db`)],
        join(dir, `${db}.pid`),
      ]);
    }
    steps.push([
      "ovn-northd",
      ["--detach", "--no-chdir", `--pidfile=${join(dir, "northd.pid")}`, `--log-file=${join(dir, "northd.log")}`, `--unixctl=${join(dir, "northd.ctl")}`, `--ovnnb-db=unix:${sb.nbSock}`, `--ovnsb-db=unix:${sb.sbSock}`],
      join(dir, "northd.pid"),
    ]);
    for (const [bin, args, pidFile] of steps) {
      const r = sb.run(bin, args);
      if (pidFile && existsSync(pidFile)) sb.pidFiles.push(pidFile);
      if (!r.ok) {
        sb.stop();
        return r;
      }
    }
    return ok(sb);
  }

  get nbSock(): string {
    return join(this.dir, "nb.sock");
  }

  get sbSock(): string {
    return join(this.dir, "sb.sock");
  }

  /** Runs a binary with the sandbox's environment; stdout on success. */
  run(bin: string, args: readonly string[]): Result<string> {
    if (this.stopped) return fail(error("ovn.stopped", "the sandbox has been stopped"));
    const r = spawnSync(bin, args, { env: this.env, encoding: "utf8", timeout: this.timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    if (r.error) return fail(error("ovn.command", `${bin}: ${r.error.message}`));
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" | ");
      return fail(error("ovn.command", `${bin} ${args.join(" ")} exited with ${r.status ?? r.signal}: ${why}`));
    }
    return ok(r.stdout);
  }

  /** `ovn-nbctl --db=unix:NB ARGS...`. */
  nbctl(...args: string[]): Result<string> {
    return this.run("ovn-nbctl", [`--db=unix:${this.nbSock}`, ...args]);
  }

  /** `ovn-sbctl --db=unix:SB ARGS...`. */
  sbctl(...args: string[]): Result<string> {
    return this.run("ovn-sbctl", [`--db=unix:${this.sbSock}`, ...args]);
  }

  /** Waits until ovn-northd has written the Southbound database for the current Northbound one. */
  sync(): Result<string> {
    return this.nbctl("--wait=sb", "sync");
  }

  /** Adds a fake chassis with a Geneve encap at `ip`, announcing 23.03's feature flags. */
  addChassis(name: string, ip: string): Result<string> {
    const a = this.sbctl("chassis-add", name, "geneve", ip);
    if (!a.ok) return a;
    return this.sbctl("set", "chassis", name, ...Object.entries(CHASSIS_FEATURES).map(([k, v]) => `other_config:${k}=${v}`));
  }

  /** Reads a Southbound table as JSON rows. */
  sbList(table: string, columns?: readonly string[]): Result<Record<string, unknown>[]> {
    const args = ["--format=json"];
    if (columns) args.push(`--columns=${columns.join(",")}`);
    const r = this.sbctl(...args, "list", table);
    return r.ok ? parseOvsdbJson(r.value) : r;
  }

  /** Reads a Northbound table as JSON rows. */
  nbList(table: string, columns?: readonly string[]): Result<Record<string, unknown>[]> {
    const args = ["--format=json"];
    if (columns) args.push(`--columns=${columns.join(",")}`);
    const r = this.nbctl(...args, "list", table);
    return r.ok ? parseOvsdbJson(r.value) : r;
  }

  /** All logical flows, with datapath names resolved (datapath groups expanded). */
  lflows(): Result<LogicalFlow[]> {
    const dps = this.sbList("Datapath_Binding", ["_uuid", "external_ids", "tunnel_key"]);
    if (!dps.ok) return dps;
    const dpName = new Map<string, string>();
    for (const d of dps.value) dpName.set(uuidOf(d._uuid) ?? "", mapOf(d.external_ids).get("name") ?? `dp${String(d.tunnel_key)}`);
    const groups = this.sbList("Logical_DP_Group", ["_uuid", "datapaths"]);
    if (!groups.ok) return groups;
    const groupDps = new Map<string, string[]>();
    for (const g of groups.value) groupDps.set(uuidOf(g._uuid) ?? "", setOf(g.datapaths).map((x) => dpName.get(uuidOf(x) ?? "") ?? "?"));
    const rows = this.sbList("Logical_Flow", ["logical_datapath", "logical_dp_group", "pipeline", "table_id", "priority", "match", "actions", "external_ids"]);
    if (!rows.ok) return rows;
    return ok(
      rows.value.map((r) => {
        const dp = setOf(r.logical_datapath).map(uuidOf).filter((x): x is string => x !== undefined);
        const grp = setOf(r.logical_dp_group).map(uuidOf).filter((x): x is string => x !== undefined);
        const datapaths = [...dp.map((u) => dpName.get(u) ?? "?"), ...grp.flatMap((g) => groupDps.get(g) ?? [])].sort();
        return {
          datapaths,
          pipeline: r.pipeline === "egress" ? "egress" : "ingress",
          table: Number(r.table_id),
          stage: mapOf(r.external_ids).get("stage-name") ?? "",
          priority: Number(r.priority),
          match: String(r.match),
          actions: String(r.actions),
        };
      }),
    );
  }

  /**
   * The tunnel keys northd gave: each datapath's by its name (`dp NAME`) and each port's by its
   * logical port name (`port NAME`).
   */
  tunnelKeys(): Result<Map<string, number>> {
    const dps = this.sbList("Datapath_Binding", ["external_ids", "tunnel_key"]);
    if (!dps.ok) return dps;
    const ports = this.sbList("Port_Binding", ["logical_port", "tunnel_key"]);
    if (!ports.ok) return ports;
    const out = new Map<string, number>();
    for (const d of dps.value) {
      const name = mapOf(d.external_ids).get("name");
      if (name !== undefined) out.set(`dp ${name}`, Number(d.tunnel_key));
    }
    for (const p of ports.value) out.set(`port ${String(p.logical_port)}`, Number(p.tunnel_key));
    return ok(out);
  }

  /** `ovn-trace --db=unix:SB FLAGS... DATAPATH MICROFLOW`; its text output. */
  trace(datapath: string, microflow: string, flags: readonly string[] = []): Result<string> {
    return this.run("ovn-trace", [`--db=unix:${this.sbSock}`, ...flags, datapath, microflow]);
  }

  /** The contents of one of the daemons' logs (`nb`, `sb`, `northd`), for diagnosing failures. */
  log(name: "nb" | "sb" | "northd"): string {
    const p = join(this.dir, `${name}.log`);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  /** Stops the daemons this sandbox started (by their pid files) and removes its directory. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    stopByPidFiles([...this.pidFiles].reverse());
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends SIGTERM to the pids in `pidFiles`, waits up to 3 s, then SIGKILLs what is left. */
export function stopByPidFiles(pidFiles: readonly string[]): void {
  const pids: number[] = [];
  for (const f of pidFiles) {
    const pid = existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : NaN;
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      process.kill(pid, "SIGTERM");
      pids.push(pid);
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 3000;
  for (const pid of pids) {
    while (alive(pid) && Date.now() < deadline) sleepMs(20);
    if (alive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/** True while `pid` exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `f` with a started sandbox and always stops it afterwards. */
export function withSandbox<T>(f: (sb: OvnSandbox) => T, opts: SandboxOptions = {}): Result<T> {
  const s = OvnSandbox.start(opts);
  if (!s.ok) return s;
  try {
    return ok(f(s.value));
  } finally {
    s.value.stop();
  }
}

/** The version line of an installed binary (`ovn-nbctl 23.03.1`), or undefined. */
export function ovnVersion(bin = "ovn-nbctl"): string | undefined {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 }).split("\n")[0];
  } catch {
    return undefined;
  }
}
