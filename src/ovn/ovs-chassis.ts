/**
 * A real OVN chassis beside an `OvnSandbox`: its own Open_vSwitch database, an `ovs-vswitchd` with
 * the userspace dummy datapath and an `ovn-controller` that reads the sandbox's Southbound
 * database and programs `br-int`, for reading real OpenFlow tables and real `ofproto/trace`
 * megaflows.
 *
 * What: `OvsChassis.start(sandbox, opts)` creates a temp dir (database, sockets, pid files, logs),
 * starts ovsdb-server with the Open_vSwitch schema, then `ovs-vswitchd --enable-dummy=system
 * --disable-system --disable-system-route` (the flags of OVN's own test suite), configures
 * `external_ids` (system-id, hostname, ovn-remote, ovn-encap-type geneve or vxlan, ovn-encap-ip), creates
 * `br-int` (datapath_type=dummy, fail-mode=secure) with one `type=dummy` interface per VIF carrying
 * `external_ids:iface-id=<LSP name>`, and starts ovn-controller. ovn-controller registers the
 * chassis itself, claims the VIFs and builds a real tunnel port (geneve or vxlan) to every other chassis in the
 * Southbound database (those stay fake: `ovn-sbctl chassis-add` + `lsp-bind`).
 *
 * The underlay: for tunnel output to become a real `tnl_push(...)` datapath action, the userspace
 * datapath needs a route to the remote encap IP and a neighbour entry for it. With `underlay`
 * set, a `br-phys` bridge (fail-mode standalone, one dummy uplink `eth0`) gets the encap IP, a route
 * to the encap subnet and static neighbours for the remote encap IPs. Without it, tunnel output
 * fails routing and is dropped in the datapath actions.
 *
 * Invariants: every child gets `OVS_RUNDIR`, `OVS_LOGDIR`, `OVS_DBDIR`, `OVN_RUNDIR`, `OVN_LOGDIR`
 * pointed at the chassis dir, and every CLI is given its socket explicitly, so nothing touches
 * `/var/run`. `stop()` ends exactly the daemons this chassis started, by their pid files, and
 * removes the dir. Every command has a timeout; a failing command is a `Diagnostic` (code
 * `ovs.command`) carrying the tail of its stderr. Nothing runs unless the binaries are installed
 * (`ovsAvailable()`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { error, fail, ok, type Diagnostic, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import { exportSbctl } from "../scenario/index.js";
import { buildNorthbound, type TunnelKeyNames } from "./conformance.js";
import { CHASSIS_FEATURES, ovnAvailable, parseOvsdbJson, stopByPidFiles, type OvnSandbox, type SandboxOptions } from "./sandbox.js";

/** The binaries a real chassis needs, beyond the sandbox's. */
export const OVS_BINARIES = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovn-controller", "ovn-appctl"] as const;

/** The installed Open_vSwitch database schema. */
export const VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

const SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/local/sbin"];

function onPath(bin: string): boolean {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...SBIN_DIRS]) {
    if (dir && existsSync(join(dir, bin))) return true;
  }
  return false;
}

/** True when OVN (the sandbox) and OVS with ovn-controller (the chassis) are installed. */
export function ovsAvailable(): boolean {
  return ovnAvailable() && OVS_BINARIES.every(onPath) && existsSync(VSWITCH_SCHEMA);
}

/** A remote tunnel endpoint the underlay can reach: its IP and the MAC it answers with. */
export interface Neighbour {
  readonly ip: string;
  readonly mac: string;
}

/** The physical side of tunnelling: the local encap address on `br-phys`, and static neighbours. */
export interface Underlay {
  /** Prefix length of the encap subnet (the route to it goes through `br-phys`). */
  readonly prefixLen: number;
  /** MAC of `br-phys`, the source MAC of encapsulated packets. */
  readonly mac: string;
  readonly neighbours: readonly Neighbour[];
}

export interface OvsChassisOptions {
  /** The chassis name (`external_ids:system-id`), as the Southbound Chassis row will be named. */
  readonly name: string;
  readonly hostname?: string;
  /** The local tunnel endpoint (`ovn-encap-ip`). */
  readonly encapIp: string;
  /** `ovn-encap-type`: `geneve` (default) or `vxlan`. */
  readonly encapType?: "geneve" | "vxlan";
  /** `ovn-is-interconn`: an OVN-IC gateway, with tunnels to other zones' chassis. Default false. */
  readonly interconn?: boolean;
  /**
   * Provider networks (`ovn-bridge-mappings`): each gets its bridge (datapath_type=dummy,
   * fail-mode standalone) with one dummy uplink `nic`, where localnet ports' packets leave.
   */
  readonly providers?: readonly { readonly network: string; readonly bridge: string; readonly nic: string }[];
  /** `ovn-chassis-mac-mappings`: this chassis's MAC on each provider network (network → MAC). */
  readonly chassisMacs?: ReadonlyMap<string, string>;
  /** Logical switch ports to plug in as VIFs, in order (interfaces `vif1`, `vif2`, ...). */
  readonly vifs: readonly string[];
  /**
   * Localports to plug in, in order (interfaces `lp1`, `lp2`, ...), as a deployment plugs its
   * metadata port into every chassis. ovn-controller claims no localport, so none is waited for.
   */
  readonly localports?: readonly string[];
  /** Set up `br-phys` so tunnel output becomes `tnl_push`. */
  readonly underlay?: Underlay;
  /** Parent of the temp dir. Default: the OS temp dir. */
  readonly parent?: string;
  /** Per-command timeout in milliseconds. Default 20,000. */
  readonly timeoutMs?: number;
  /** Datapath flow idle time in ms (`other_config:max-idle`). Default 60,000, so flows of injected packets stay. */
  readonly maxIdleMs?: number;
}

/** One port of `br-int`: OpenFlow and datapath numbers, and the LSP a VIF is bound to. */
export interface BridgePort {
  /** Interface name (`vif1`, `ovn-node2-0`, `br-int`). */
  readonly name: string;
  readonly type: string;
  /** `external_ids:iface-id`, for VIFs. */
  readonly lsp?: string;
  /** OpenFlow port number (`in_port=N` in flows and megaflows). */
  readonly ofport: number;
  /** Datapath port number (`in_port(N)` and outputs in datapath actions), when the datapath has the port. */
  readonly odpPort?: number;
}

export interface WaitOptions {
  /** Give up after this many ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** Number of tunnel ports (geneve or vxlan) ovn-controller must have built. Default: not checked. */
  readonly tunnels?: number;
  /** The flow count must be unchanged for this many consecutive polls. Default 3. */
  readonly stablePolls?: number;
  /** Poll interval in ms. Default 300. */
  readonly pollMs?: number;
}

export class OvsChassis {
  /** The temp dir holding the database, sockets, pid files and logs. */
  readonly dir: string;
  readonly name: string;
  /** VIF interface name → LSP name, in plug order. */
  readonly vifs: ReadonlyMap<string, string>;
  /** Localport interface name → LSP name (`OvsChassisOptions.localports`). */
  readonly localports: ReadonlyMap<string, string>;
  /** The provider networks' uplink interfaces (`OvsChassisOptions.providers`), one per bridge. */
  readonly providerNics: readonly string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly pidFiles: string[] = [];
  private stopped = false;

  private constructor(dir: string, name: string, vifs: ReadonlyMap<string, string>, localports: ReadonlyMap<string, string>, providerNics: readonly string[], timeoutMs: number) {
    this.dir = dir;
    this.name = name;
    this.vifs = vifs;
    this.localports = localports;
    this.providerNics = providerNics;
    this.timeoutMs = timeoutMs;
    const path = [process.env.PATH ?? "", ...SBIN_DIRS].join(delimiter);
    this.env = { ...process.env, OVS_RUNDIR: dir, OVN_RUNDIR: dir, OVS_LOGDIR: dir, OVN_LOGDIR: dir, OVS_DBDIR: dir, PATH: path };
  }

  /** Starts ovsdb-server, ovs-vswitchd and ovn-controller for chassis `opts.name` of `sandbox`. */
  static start(sandbox: OvnSandbox, opts: OvsChassisOptions): Result<OvsChassis> {
    if (!ovsAvailable()) return fail(error("ovs.unavailable", `OVS/OVN is not installed (need ${OVS_BINARIES.join(", ")} and ${VSWITCH_SCHEMA})`));
    const dir = mkdtempSync(join(opts.parent ?? tmpdir(), "ovnsim-ovs-"));
    const vifs = new Map(opts.vifs.map((lsp, i) => [`vif${i + 1}`, lsp] as const));
    const bridges = new Map((opts.providers ?? []).map((p) => [p.bridge, p.nic] as const));
    const localports = new Map((opts.localports ?? []).map((lsp, i) => [`lp${i + 1}`, lsp] as const));
    const ch = new OvsChassis(dir, opts.name, vifs, localports, [...bridges.values()], opts.timeoutMs ?? 20_000);
    const r = ch.boot(sandbox, opts);
    if (!r.ok) {
      const logs = ["ovsdb-server", "ovs-vswitchd", "ovn-controller"].map((n) => `${n}: ${lastLines(ch.log(n), 3)}`);
      ch.stop();
      return fail(...r.diags.map((d) => ({ ...d, notes: [...(d.notes ?? []), ...logs] })));
    }
    return ok(ch);
  }

  private boot(sandbox: OvnSandbox, opts: OvsChassisOptions): Result<void> {
    const d = this.dir;
    const created = this.run("ovsdb-tool", ["create", this.dbFile, VSWITCH_SCHEMA]);
    if (!created.ok) return created;
    const daemon = (bin: string, args: string[]): Result<string> => {
      const pidFile = join(d, `${bin}.pid`);
      const r = this.run(bin, ["--detach", "--no-chdir", `--pidfile=${pidFile}`, `--log-file=${join(d, `${bin}.log`)}`, "-vconsole:off", ...args]);
      if (existsSync(pidFile)) this.pidFiles.push(pidFile);
      return r;
    };
    let r = daemon("ovsdb-server", [`--unixctl=${join(d, "ovsdb-server.ctl")}`, `--remote=punix:${this.dbSock}`, this.dbFile]);
    if (!r.ok) return r;
    r = this.vsctl("--no-wait", "init");
    if (!r.ok) return r;
    r = daemon("ovs-vswitchd", ["--enable-dummy=system", "--disable-system", "--disable-system-route", `--unixctl=${this.vswitchdCtl}`, `unix:${this.dbSock}`]);
    if (!r.ok) return r;
    const ids = [`external_ids:system-id=${opts.name}`, `external_ids:hostname=${opts.hostname ?? opts.name}`, `external_ids:ovn-remote=unix:${sandbox.sbSock}`, `external_ids:ovn-encap-type=${opts.encapType ?? "geneve"}`, `external_ids:ovn-encap-ip=${opts.encapIp}`, `other_config:max-idle=${opts.maxIdleMs ?? 60_000}`, ...(opts.interconn === true ? ["external_ids:ovn-is-interconn=true"] : []), ...(opts.chassisMacs?.size ? [`external_ids:ovn-chassis-mac-mappings=${JSON.stringify([...opts.chassisMacs].map(([n, m]) => `${n}:${m}`).join(","))}`] : [])];
    const cmd: string[] = ["--", "set", "Open_vSwitch", ".", ...ids];
    cmd.push("--", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=dummy", "fail-mode=secure", "other-config:disable-in-band=true");
    for (const [iface, lsp] of [...this.vifs, ...this.localports]) cmd.push("--", "add-port", "br-int", iface, "--", "set", "Interface", iface, "type=dummy", `external_ids:iface-id=${JSON.stringify(lsp)}`);
    const providers = opts.providers ?? [];
    if (providers.length > 0) {
      cmd.push("--", "set", "Open_vSwitch", ".", `external_ids:ovn-bridge-mappings=${JSON.stringify(providers.map((p) => `${p.network}:${p.bridge}`).join(","))}`);
      for (const [b, nic] of new Map(providers.map((p) => [p.bridge, p.nic] as const))) {
        cmd.push("--", "add-br", b, "--", "set", "Bridge", b, "datapath_type=dummy", "fail-mode=standalone", "other-config:disable-in-band=true");
        cmd.push("--", "add-port", b, nic, "--", "set", "Interface", nic, "type=dummy");
      }
    }
    if (opts.underlay) {
      cmd.push("--", "add-br", "br-phys", "--", "set", "Bridge", "br-phys", "datapath_type=dummy", "fail-mode=standalone", "other-config:disable-in-band=true", `other-config:hwaddr=${JSON.stringify(opts.underlay.mac)}`);
      cmd.push("--", "add-port", "br-phys", "eth0", "--", "set", "Interface", "eth0", "type=dummy");
    }
    r = this.vsctl(...cmd);
    if (!r.ok) return r;
    if (opts.underlay) {
      const u = opts.underlay;
      const steps: string[][] = [
        ["netdev-dummy/ip4addr", "br-phys", `${opts.encapIp}/${u.prefixLen}`],
        ["ovs/route/add", `${networkOf(opts.encapIp, u.prefixLen)}/${u.prefixLen}`, "br-phys"],
        ...u.neighbours.map((n) => ["tnl/neigh/set", "br-phys", n.ip, n.mac]),
      ];
      for (const s of steps) {
        r = this.appctl(...s);
        if (!r.ok) return r;
      }
    }
    r = daemon("ovn-controller", [`unix:${this.dbSock}`]);
    return r.ok ? ok(undefined) : r;
  }

  get dbFile(): string {
    return join(this.dir, "conf.db");
  }

  get dbSock(): string {
    return join(this.dir, "db.sock");
  }

  get vswitchdCtl(): string {
    return join(this.dir, "ovs-vswitchd.ctl");
  }

  /** The management socket of a bridge (what `ovs-ofctl` connects to). */
  mgmtSock(bridge: string): string {
    return join(this.dir, `${bridge}.mgmt`);
  }

  /** Runs a binary with the chassis's environment and timeout; stdout on success. */
  run(bin: string, args: readonly string[]): Result<string> {
    if (this.stopped) return fail(error("ovs.stopped", "the chassis has been stopped"));
    const r = spawnSync(bin, args, { env: this.env, encoding: "utf8", timeout: this.timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    if (r.error) return fail(error("ovs.command", `${bin}: ${r.error.message}`));
    if (r.status !== 0) {
      const why = lastLines(r.stderr || r.stdout || "", 3);
      return fail(error("ovs.command", `${bin} ${args.join(" ")} exited with ${r.status ?? r.signal}: ${why}`));
    }
    return ok(r.stdout);
  }

  /** `ovs-vsctl` against this chassis's database. */
  vsctl(...args: string[]): Result<string> {
    return this.run("ovs-vsctl", [`--db=unix:${this.dbSock}`, `--timeout=${Math.ceil(this.timeoutMs / 1000)}`, ...args]);
  }

  /** `ovs-appctl` to this chassis's ovs-vswitchd. */
  appctl(...args: string[]): Result<string> {
    return this.run("ovs-appctl", ["-t", this.vswitchdCtl, `--timeout=${Math.ceil(this.timeoutMs / 1000)}`, ...args]);
  }

  /** `ovs-ofctl CMD BRIDGE ARGS...` over the bridge's management socket (OpenFlow 1.5). */
  ofctl(cmd: string, bridge: string, ...args: string[]): Result<string> {
    return this.run("ovs-ofctl", ["-O", "OpenFlow15", `--timeout=${Math.ceil(this.timeoutMs / 1000)}`, cmd, `unix:${this.mgmtSock(bridge)}`, ...args]);
  }

  /** `ovn-appctl` to this chassis's ovn-controller (its socket is named after its pid). */
  controllerctl(...args: string[]): Result<string> {
    const pidFile = join(this.dir, "ovn-controller.pid");
    const pid = existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim() : "";
    if (!/^\d+$/.test(pid)) return fail(error("ovs.command", "ovn-controller is not running (no pid file)"));
    return this.run("ovn-appctl", ["-t", join(this.dir, `ovn-controller.${pid}.ctl`), `--timeout=${Math.ceil(this.timeoutMs / 1000)}`, ...args]);
  }

  /**
   * Waits until ovn-controller has claimed every VIF (`external_ids:ovn-installed=true`), has built
   * `opts.tunnels` geneve ports, and the OpenFlow flow and group counts of br-int have stayed the
   * same for `opts.stablePolls` consecutive polls. Returns the number of flows.
   */
  waitInstalled(opts: WaitOptions = {}): Result<number> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const pollMs = opts.pollMs ?? 300;
    const need = opts.stablePolls ?? 3;
    let last = "";
    let same = 0;
    let why = "nothing polled yet";
    while (Date.now() < deadline) {
      const ready = this.readiness(opts.tunnels);
      if (!ready.ok) return ready;
      if (ready.value !== "") {
        why = ready.value;
        same = 0;
      } else {
        const flows = this.ofctl("dump-flows", "br-int");
        const groups = this.ofctl("dump-groups", "br-int");
        if (!flows.ok) return flows;
        if (!groups.ok) return groups;
        const nFlows = countLines(flows.value) - 1;
        // The groups' text, not only their number: ovn-controller rewrites its select groups in
        // place once it learns the datapath's hash algorithms.
        const sig = `${nFlows}/${countLines(groups.value)}/${groups.value.length}/${textHash(groups.value)}`;
        if (nFlows > 0 && sig === last) same++;
        else same = 0;
        last = sig;
        why = `flow count not stable yet (${sig})`;
        if (same + 1 >= need) return ok(nFlows);
      }
      sleepMs(pollMs);
    }
    return fail(error("ovs.timeout", `ovn-controller did not finish programming br-int: ${why}`));
  }

  /** "" when every VIF is installed and the tunnels exist; otherwise what is missing. */
  private readiness(tunnels: number | undefined): Result<string> {
    const rows = this.interfaces();
    if (!rows.ok) return rows;
    for (const [iface, lsp] of this.vifs) {
      const row = rows.value.find((x) => x.name === iface);
      if (!row || row.externalIds.get("ovn-installed") !== "true") return ok(`VIF ${iface} (${lsp}) not installed yet`);
    }
    const n = rows.value.filter((x) => x.type === "geneve" || x.type === "vxlan").length;
    if (tunnels !== undefined && n < tunnels) return ok(`${n} of ${tunnels} tunnel ports built`);
    // ovn-controller picks its select groups' hash (the symmetric L4 one, where the datapath has
    // it) from the datapath's capabilities; before ovs-vswitchd has filled them in, it makes them
    // with the other hash and rewrites them later.
    const caps = this.vsctl("--columns=capabilities", "list", "Datapath");
    if (!caps.ok) return caps;
    if (!caps.value.includes("max_hash_alg")) return ok("the datapath's capabilities not known yet");
    return ok("");
  }

  private interfaces(): Result<{ name: string; type: string; ofport: number; externalIds: Map<string, string> }[]> {
    const r = this.vsctl("--format=json", "--columns=name,type,ofport,external_ids", "list", "Interface");
    if (!r.ok) return r;
    const rows = parseOvsdbJson(r.value);
    if (!rows.ok) return rows;
    return ok(
      rows.value.map((x) => ({
        name: String(x.name),
        type: String(x.type),
        ofport: typeof x.ofport === "number" ? x.ofport : -1,
        externalIds: mapOf(x.external_ids),
      })),
    );
  }

  /** The ports of `br-int`: OpenFlow numbers from the database, datapath numbers from `dpctl/show`. */
  ports(): Result<BridgePort[]> {
    const br = this.vsctl("list-ifaces", "br-int");
    if (!br.ok) return br;
    const onBridge = new Set([...br.value.split("\n").map((s) => s.trim()).filter(Boolean), "br-int"]);
    const rows = this.interfaces();
    if (!rows.ok) return rows;
    const dp = this.appctl("dpctl/show");
    if (!dp.ok) return dp;
    const odp = new Map<string, number>();
    for (const m of dp.value.matchAll(/^\s*port (\d+): (\S+)/gm)) odp.set(m[2]!, Number(m[1]));
    const out: BridgePort[] = [];
    for (const x of rows.value) {
      if (!onBridge.has(x.name)) continue;
      const lsp = x.externalIds.get("iface-id");
      // Tunnel ports share one datapath port (genev_sys_6081), named after the UDP port.
      const odpPort = x.type === "geneve" ? odp.get("genev_sys_6081") : x.type === "vxlan" ? odp.get("vxlan_sys_4789") : odp.get(x.name);
      out.push({ name: x.name, type: x.type, ofport: x.ofport, ...(lsp !== undefined ? { lsp } : {}), ...(odpPort !== undefined ? { odpPort } : {}) });
    }
    return ok(out.sort((a, b) => a.ofport - b.ofport));
  }

  /** The datapath port number of any datapath port by name (`dpctl/show`), e.g. `br-phys`, `eth0`. */
  datapathPorts(): Result<Map<string, number>> {
    const dp = this.appctl("dpctl/show");
    if (!dp.ok) return dp;
    const out = new Map<string, number>();
    for (const m of dp.value.matchAll(/^\s*port (\d+): (\S+)/gm)) out.set(m[2]!, Number(m[1]));
    return ok(out);
  }

  /** ovn-controller's conntrack zones: zone name (LSP, or `<datapath uuid>_dnat`/`_snat`) → zone number. */
  ctZones(): Result<Map<string, number>> {
    const r = this.controllerctl("ct-zone-list");
    if (!r.ok) return r;
    const out = new Map<string, number>();
    for (const line of r.value.split("\n")) {
      const m = /^(\S+)\s+(\d+)$/.exec(line.trim());
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return ok(out);
  }

  /** `ofproto/trace BRIDGE FLOW FLAGS...`: the raw text. */
  ofprotoTrace(bridge: string, flow: string, flags: readonly string[] = []): Result<string> {
    return this.appctl("ofproto/trace", bridge, flow, ...flags);
  }

  /** Feeds one frame into the datapath through dummy interface `iface` (`netdev-dummy/receive`). */
  receive(iface: string, packet: string): Result<string> {
    return this.appctl("netdev-dummy/receive", iface, packet);
  }

  /** The datapath flows installed now (`dpctl/dump-flows`), one per line. */
  datapathFlows(): Result<string[]> {
    const r = this.appctl("dpctl/dump-flows");
    if (!r.ok) return r;
    return ok(r.value.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("flow-dump from")));
  }

  /** Forgets every datapath flow and every connection, so the next packet starts from nothing. */
  purge(): Result<void> {
    const a = this.appctl("revalidator/purge");
    if (!a.ok) return a;
    const b = this.appctl("dpctl/flush-conntrack");
    return b.ok ? ok(undefined) : b;
  }

  /** The contents of one daemon's log (`ovsdb-server`, `ovs-vswitchd`, `ovn-controller`). */
  log(name: string): string {
    const p = join(this.dir, `${name}.log`);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  /** Stops the daemons this chassis started (by their pid files, newest first) and removes its dir. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    stopByPidFiles([...this.pidFiles].reverse());
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A chassis's MAC on the underlay, derived from its IPv4 encap address (locally administered). */
export function underlayMac(ip: string): string {
  const o = ip.split(".").map(Number);
  return ["02", "00", ...o.map((x) => (x & 0xff).toString(16).padStart(2, "0"))].join(":");
}

/** A sandbox built from a network with one or more chassis of it made real. */
export interface RealChassisTopology {
  readonly sandbox: OvnSandbox;
  /** The first real chassis. */
  readonly chassis: OvsChassis;
  /** Every real chassis, in the order asked for. */
  readonly all: readonly OvsChassis[];
  /** Number of installed OpenFlow flows when programming settled (on the first real chassis). */
  readonly flows: number;
  stop(): void;
}

export interface RealChassisOptions {
  readonly sandbox?: SandboxOptions;
  /** Plug every localport of the network into each real chassis too (`OvsChassisOptions.localports`). */
  readonly localports?: boolean;
  readonly chassisTimeoutMs?: number;
  readonly wait?: WaitOptions;
  /**
   * The tunnel keys the network should get (ovnsim's): when northd gives any datapath or port
   * another (it fell behind the commands), the Northbound is built again in a new sandbox, waiting
   * for northd after every command (as `traceProbesWithOvn` does).
   */
  readonly expectKeys?: TunnelKeyNames;
}

/**
 * Builds `net` in a fresh sandbox and makes the chassis named real (one name, or several): every
 * other chassis is added fake (with 23.03's feature flags) and its ports bound with `lsp-bind`;
 * each real chassis gets a VIF for each port the network binds to it, and an underlay (a /24
 * around its encap IP, with every other chassis as a neighbour) so geneve output is a real
 * `tnl_push` (and, between two real chassis, a frame the other can take in and `tnl_pop`). Waits
 * until each ovn-controller has programmed its br-int. On failure everything started is stopped.
 */
export function startRealChassis(net: Network, chassisNames: string | readonly string[], opts: RealChassisOptions = {}): Result<RealChassisTopology> {
  const names = typeof chassisNames === "string" ? [chassisNames] : [...chassisNames];
  if (names.length === 0 || new Set(names).size !== names.length) return fail(error("ovs.no-chassis", `real chassis must be named once each (got ${JSON.stringify(names)})`));
  for (const name of names) {
    const model = net.chassis.get(name);
    if (!model) return fail(error("ovs.no-chassis", `the network has no chassis "${name}"`));
    const encapIp = model.encaps.first()?.ip;
    if (!encapIp || !/^\d+\.\d+\.\d+\.\d+$/.test(encapIp)) return fail(error("ovs.encap", `chassis "${name}" needs an IPv4 encap address`));
  }
  const real = new Set(names);
  const built = buildNorthbound(net, opts.expectKeys, undefined, opts.sandbox);
  if (!built.ok) return built;
  const sb = built.value;
  const up: OvsChassis[] = [];
  const bail = (diags: readonly Diagnostic[]): Result<RealChassisTopology> => {
    for (const c of up) c.stop();
    sb.stop();
    return fail(...diags);
  };
  for (const cmd of exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES })) {
    if (names.some((n) => isAboutChassis(cmd, n))) continue;
    const r = sb.sbctl(...cmd);
    if (!r.ok) return bail(r.diags);
  }
  // A gateway router's ports (both sides of each link, l3gateway bindings) belong to the chassis
  // in its options:chassis, whose ovn-controller claims them; a fake chassis cannot, so they are
  // bound here, or other chassis would have nowhere to send their traffic.
  for (const lr of net.routers.values()) {
    const gw = lr.options.get("chassis");
    if (gw === undefined || real.has(gw) || !net.chassis.has(gw)) continue;
    const ports = new Set(lr.ports.keys());
    for (const ls of net.switches.values()) for (const p of ls.ports.values()) if (p.type === "router" && ports.has(p.options.get("router-port") ?? "")) ports.add(p.name);
    for (const name of ports) {
      const r = sb.sbctl("lsp-bind", name, gw);
      if (!r.ok) return bail(r.diags);
    }
  }
  const localports = opts.localports === true ? [...net.switches.values()].flatMap((ls) => [...ls.ports.values()].filter((p) => p.type === "localport").map((p) => p.name)) : [];
  const tunnels: number[] = [];
  for (const chassisName of names) {
    const model = net.chassis.get(chassisName)!;
    const encapIp = model.encaps.first()!.ip;
    const vifs: string[] = [];
    for (const ls of net.switches.values()) for (const p of ls.ports.values()) if (p.chassis === chassisName && p.type === "") vifs.push(p.name);
    const remote = net.chassis
      .valueSeq()
      .filter((c) => c.name !== chassisName && (!c.isRemote || model.isInterconn))
      .map((c) => c.encaps.first()?.ip)
      .filter((ip): ip is string => ip !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(ip))
      .toArray();
    tunnels.push(remote.length);
    const c = OvsChassis.start(sb, {
      name: chassisName,
      hostname: model.hostname || chassisName,
      encapIp,
      ...(model.encaps.first()?.type === "vxlan" ? { encapType: "vxlan" as const } : {}),
      ...(model.isInterconn ? { interconn: true } : {}),
      ...(model.macMappings.size > 0 ? { chassisMacs: new Map(model.macMappings) } : {}),
      providers: model.bridgeMappings
        .entrySeq()
        .map(([network, bridge]) => ({ network, bridge, nic: model.nics.get(bridge) ?? `${bridge}-nic` }))
        .toArray(),
      vifs,
      ...(localports.length > 0 ? { localports } : {}),
      underlay: { prefixLen: 24, mac: underlayMac(encapIp), neighbours: remote.map((ip) => ({ ip, mac: underlayMac(ip) })) },
      ...(opts.chassisTimeoutMs !== undefined ? { timeoutMs: opts.chassisTimeoutMs } : {}),
    });
    if (!c.ok) return bail(c.diags);
    up.push(c.value);
  }
  const s2 = sb.sync();
  if (!s2.ok) return bail(s2.diags);
  let flows = 0;
  for (const [i, chassis] of up.entries()) {
    const w = chassis.waitInstalled({ tunnels: tunnels[i]!, ...opts.wait });
    if (!w.ok) return bail(w.diags.map((d) => ({ ...d, notes: [...(d.notes ?? []), `ovn-controller of ${chassis.name}: ${lastLines(chassis.log("ovn-controller"), 3)}`] })));
    if (i === 0) flows = w.value;
  }
  return ok({
    sandbox: sb,
    chassis: up[0]!,
    all: up,
    flows,
    stop() {
      for (const c of up) c.stop();
      sb.stop();
    },
  });
}

/** True for the `ovn-sbctl` commands that create, configure or bind to chassis `name`. */
function isAboutChassis(cmd: readonly string[], name: string): boolean {
  if (cmd[0] === "chassis-add" && cmd[1] === name) return true;
  if (cmd[0] === "set" && cmd[1] === "Chassis" && cmd[2] === name) return true;
  return cmd[0] === "lsp-bind" && cmd[2] === name;
}

function networkOf(ip: string, prefixLen: number): string {
  const n = ip.split(".").reduce((a, o) => ((a << 8) | (Number(o) & 0xff)) >>> 0, 0);
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  const v = (n & mask) >>> 0;
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join(".");
}

function mapOf(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v) && v[0] === "map") for (const [k, x] of v[1] as [unknown, unknown][]) out.set(String(k), String(x));
  return out;
}

/** A short hash of `text` (FNV-1a), to see a change between polls. */
function textHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function countLines(text: string): number {
  return text.split("\n").filter((l) => l.trim() !== "").length;
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
