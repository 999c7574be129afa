/**
 * Databases made by real OVN, loaded back: every shipped scenario (and the fixture that uses every
 * field of the scenario format) is exported as `ovn-nbctl` /
 * `ovn-sbctl` commands, applied one by one in a throw-away OVN (ovsdb-server + ovn-northd), and the
 * Northbound database file ovsdb-server wrote, its `ovsdb-client dump -f json`, and a dump of the
 * Southbound tables the loader reads are loaded with the OVSDB front end. They must give back the
 * scenario: the same compiled logical flows, the same Northbound content, and with the Southbound
 * the same chassis, port bindings and learned MAC bindings, and the tunnel keys ovn-northd chose.
 *
 * The files real OVN made are recorded in fixtures/ovsdb/<scenario>.{nb.db,nb.json,sb.json}, so
 * everything but the live check runs without OVN. Where OVN is installed, the live check rebuilds
 * each database and compares what loads from it (the live Southbound database file, too) with what
 * loads from the recording; files differ in UUIDs and dates, so loaded content is compared, not
 * bytes. A missing recording is written; OVNSIM_RECORD=1 rewrites them all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, type Result } from "../../src/base/index.js";
import { renderLflows } from "../../src/cli/flows.js";
import { compileNetwork } from "../../src/compile/index.js";
import type { Network } from "../../src/model/index.js";
import { CHASSIS_FEATURES, ovnAvailable, withSandbox } from "../../src/ovn/index.js";
import { exportNbctl, exportSbctl, loadNetworkFile, loadOvsdbNetwork, scenarioToPlain, type Scenario } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const FIXTURES = join(ROOT, "fixtures/ovsdb");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable() && spawnSync("ovsdb-client", ["--version"]).status === 0 && process.env.OVNSIM_NO_OVN !== "1";
if (!LIVE) console.warn("nb-roundtrip: real OVN (with ovsdb-client) not installed, or OVNSIM_NO_OVN=1; checking the recorded databases only");

/** The Southbound tables the loader reads, dumped one by one (ovsdb-client dumps one table per call when given one). */
const SB_TABLES = ["Chassis", "Encap", "Datapath_Binding", "Port_Binding", "MAC_Binding"];

/** NB_Global option keys ovn-northd writes itself; two are random per database. */
const NORTHD_OPTIONS = ["mac_prefix", "max_tunid", "northd_internal_version", "svc_monitor_mac"];

/** Every shipped scenario, and the fixture that uses every field of the format (so every column the exporter writes). */
const files = [
  ...readdirSync(SCENARIOS)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(SCENARIOS, f)),
  join(ROOT, "fixtures/scenario/every-field.yaml"),
];

interface Made {
  readonly nbDb: Buffer;
  readonly nbDump: string;
  readonly sbDb: Buffer;
  readonly sbDump: string;
}

/** Builds the network in a real OVN and takes its databases. */
function makeWithOvn(net: Network): Result<Made> {
  const r = withSandbox((sb): Made | string => {
    for (const cmd of exportNbctl(net)) {
      const x = sb.nbctl(...cmd);
      if (!x.ok) return `ovn-nbctl ${cmd.join(" ")}: ${x.diags[0]!.message}`;
    }
    if (!sb.sync().ok) return "ovn-nbctl --wait=sb sync failed";
    for (const cmd of exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES })) {
      const x = sb.sbctl(...cmd);
      if (!x.ok) return `ovn-sbctl ${cmd.join(" ")}: ${x.diags[0]!.message}`;
    }
    if (!sb.sync().ok) return "ovn-nbctl --wait=sb sync failed";
    const nbDump = sb.run("ovsdb-client", ["dump", "-f", "json", `unix:${sb.nbSock}`, "OVN_Northbound"]);
    if (!nbDump.ok) return nbDump.diags[0]!.message;
    let sbDump = "";
    for (const t of SB_TABLES) {
      const d = sb.run("ovsdb-client", ["dump", "-f", "json", `unix:${sb.sbSock}`, "OVN_Southbound", t]);
      if (!d.ok) return d.diags[0]!.message;
      sbDump += d.value;
    }
    return { nbDb: readFileSync(join(sb.dir, "nb.db")), nbDump: nbDump.value, sbDb: readFileSync(join(sb.dir, "sb.db")), sbDump };
  });
  if (!r.ok) return r;
  if (typeof r.value === "string") return { ok: false, diags: [{ code: "test.ovn", severity: "error", message: r.value }] };
  return { ok: true, value: r.value };
}

function writeAtomically(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function mustLoad(r: Result<Scenario>): Scenario {
  if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
  return r.value;
}

/** Order-insensitive canonical form: object keys sorted, arrays sorted by their canonical text. */
function canon(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v
      .map(canon)
      .map((x) => [JSON.stringify(x), x] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map((x) => x[1]);
  }
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

type Plain = Record<string, unknown>;

/**
 * What an OVN database holds of a network, in canonical form: its Northbound content, and with
 * `sb` the chassis (as the Southbound has them), port bindings and learned MAC bindings. Tunnel
 * keys are compared separately. `keepOptions` names the NB_Global options the source had.
 */
function ovnContent(net: Network, sb: boolean, keepOptions: ReadonlySet<string>): unknown {
  const p = scenarioToPlain(net) as Plain;
  for (const k of ["name", "description", "natGateways", "nodeHosts", "providerNetworks", "probes", "zones"]) delete p[k];
  const options = { ...((p.options as Plain | undefined) ?? {}) };
  for (const k of NORTHD_OPTIONS) if (!keepOptions.has(k)) delete options[k];
  p.options = options;
  const strip = (o: unknown, key: string): void => {
    if (Array.isArray(o)) o.forEach((x) => strip(x, key));
    else if (o && typeof o === "object") {
      delete (o as Plain)[key];
      Object.values(o).forEach((x) => strip(x, key));
    }
  };
  strip(p.switches, "tunnelKey");
  strip(p.routers, "tunnelKey");
  if (sb) {
    p.chassis = ((p.chassis as Plain[] | undefined) ?? []).map((c) => ({ name: c.name, hostname: c.hostname ?? "", encaps: c.encaps ?? [], bridgeMappings: c.bridgeMappings ?? {}, macMappings: c.macMappings ?? {}, isRemote: c.isRemote ?? false, isInterconn: c.isInterconn ?? false }));
  } else {
    delete p.chassis;
    delete p.macBindings;
    for (const ls of (p.switches as Plain[] | undefined) ?? []) for (const port of (ls.ports as Plain[] | undefined) ?? []) delete port.chassis;
  }
  return canon(p);
}

/** Tunnel keys the scenario requests itself (kept through the Northbound as requested-tnl-key). */
function requestedKeys(net: Network): string[] {
  const out: string[] = [];
  for (const ls of net.switches.values()) {
    if (ls.tunnelKey !== undefined) out.push(`ls ${ls.name} ${ls.tunnelKey}`);
    for (const p of ls.ports.values()) if (p.tunnelKey !== undefined) out.push(`lsp ${p.name} ${p.tunnelKey}`);
  }
  for (const lr of net.routers.values()) {
    if (lr.tunnelKey !== undefined) out.push(`lr ${lr.name} ${lr.tunnelKey}`);
    for (const p of lr.ports.values()) if (p.tunnelKey !== undefined) out.push(`lrp ${p.name} ${p.tunnelKey}`);
  }
  return out.sort();
}

/** `flows` output with datapaths in name order and list positions in provenance left out (sets have no order). */
/** The flow lines, sorted, with ECMP member numbers (`reg8[16..31] == N`) left out. */
function ecmpMembersUnnumbered(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/(reg8\[16\.\.31\] == )\d+/g, "$1#"))
    .sort();
}

function lflowText(net: Network): string {
  const c = compileNetwork(net);
  if (!c.ok) expect.fail(c.diags.map(formatDiagnostic).join("\n"));
  return renderLflows(c.value)
    .split(/(?=^Datapath: )/m)
    .sort()
    .join("")
    .replace(/\/\* .* \*\/$/gm, (m) => m.replace(/\[\d+\]/g, "[#]"));
}

/** The keys of the Southbound dump, read straight from its JSON (independently of the loader). */
function sbKeys(dump: string): { datapaths: Map<string, number>; ports: Map<string, number> } {
  const datapaths = new Map<string, number>();
  const ports = new Map<string, number>();
  for (const line of dump.split("\n")) {
    if (line.trim() === "") continue;
    const t = JSON.parse(line) as { caption: string; headings: string[]; data: unknown[][] };
    const col = (name: string) => t.headings.indexOf(name);
    if (t.caption === "Datapath_Binding table") {
      for (const row of t.data) {
        const ids = new Map((row[col("external_ids")] as [string, [string, string][]])[1]);
        datapaths.set(`${ids.has("logical-router") ? "lr" : "ls"} ${ids.get("name")}`, row[col("tunnel_key")] as number);
      }
    }
    if (t.caption === "Port_Binding table") {
      for (const row of t.data) if (row[col("type")] !== "chassisredirect") ports.set(row[col("logical_port")] as string, row[col("tunnel_key")] as number);
    }
  }
  return { datapaths, ports };
}

describe.each(files.map((f) => [basename(f), f] as const))("%s through a real OVN database", (_label, file) => {
  const name = basename(file, ".yaml");
  const paths = { nbDb: join(FIXTURES, `${name}.nb.db`), nbDump: join(FIXTURES, `${name}.nb.json`), sbDump: join(FIXTURES, `${name}.sb.json`) };
  const scenario = mustLoad(loadNetworkFile(file));
  const net = scenario.network;
  const keep = new Set(net.options.keys());
  // Flows are compared where the scenario compiles (the content comparison covers the rest).
  const compiles = compileNetwork(net).ok;
  const recorded = (): { nbDb: Buffer; nbDump: Buffer; sbDump: Buffer } => {
    expect(existsSync(paths.nbDb), `no recording at ${paths.nbDb}: run this test where OVN is installed (OVNSIM_RECORD=1 rewrites)`).toBe(true);
    return { nbDb: readFileSync(paths.nbDb), nbDump: readFileSync(paths.nbDump), sbDump: readFileSync(paths.sbDump) };
  };

  it.skipIf(!LIVE)("real OVN still makes a database that loads as the recording does", { timeout: 60_000 }, () => {
    const made = makeWithOvn(net);
    if (!made.ok) expect.fail(made.diags.map(formatDiagnostic).join("\n"));
    const m = made.value;
    if (RECORD || !existsSync(paths.nbDb)) {
      mkdirSync(FIXTURES, { recursive: true });
      writeAtomically(paths.nbDb, m.nbDb);
      writeAtomically(paths.nbDump, m.nbDump);
      writeAtomically(paths.sbDump, m.sbDump);
    }
    const rec = recorded();
    // The live Southbound is the real database file; the recording keeps only a dump of the tables read.
    const live = mustLoad(loadOvsdbNetwork({ bytes: m.nbDb, file: `live ${name}.nb.db` }, { bytes: m.sbDb, file: `live ${name}.sb.db` }));
    const was = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDb, file: paths.nbDb }, { bytes: rec.sbDump, file: paths.sbDump }));
    expect(ovnContent(live.network, true, keep)).toEqual(ovnContent(was.network, true, keep));
    const liveDump = mustLoad(loadOvsdbNetwork({ bytes: Buffer.from(m.nbDump), file: `live ${name}.nb.json` }));
    const wasDump = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDump, file: paths.nbDump }));
    expect(ovnContent(liveDump.network, false, keep)).toEqual(ovnContent(wasDump.network, false, keep));
    // ovn-northd numbers ECMP route members in the UUID order of the router's static_routes, and
    // UUIDs are new in every database: the live flows equal the recorded ones up to that numbering.
    if (compiles) expect(ecmpMembersUnnumbered(lflowText(live.network))).toEqual(ecmpMembersUnnumbered(lflowText(was.network)));
  });

  it.skipIf(!compiles)("the recorded Northbound database compiles to the scenario's logical flows", () => {
    const rec = recorded();
    const fromDb = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDb, file: paths.nbDb }));
    expect(lflowText(fromDb.network)).toBe(lflowText(net));
  });

  it("its Northbound content is the scenario's, from the database file and from the dump alike", () => {
    const rec = recorded();
    const fromDb = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDb, file: paths.nbDb }));
    const fromDump = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDump, file: paths.nbDump }));
    expect(ovnContent(fromDb.network, false, keep)).toEqual(ovnContent(net, false, keep));
    expect(ovnContent(fromDump.network, false, keep)).toEqual(ovnContent(net, false, keep));
    if (compiles) expect(lflowText(fromDump.network)).toBe(lflowText(net));
    // Keys the scenario requested come back; none are made up without a Southbound.
    expect(requestedKeys(fromDb.network)).toEqual(requestedKeys(net));
    expect(requestedKeys(fromDump.network)).toEqual(requestedKeys(net));
    // The database file keeps creation order, so switches and routers come back in the scenario's order.
    expect([...fromDb.network.switches.keys()]).toEqual([...net.switches.keys()]);
    expect([...fromDb.network.routers.keys()]).toEqual([...net.routers.keys()]);
    // Chassis the Northbound names get placeholders, and say so.
    for (const c of fromDb.network.chassis.values()) {
      expect(net.chassis.has(c.name), c.name).toBe(true);
      expect(c.encaps.size).toBe(0);
    }
    const placeholder = fromDb.warnings?.some((w) => w.code === "ovsdb.placeholder-chassis") ?? false;
    expect(placeholder).toBe(fromDb.network.chassis.size > 0);
    // A transit switch's other_config:interconn-ts is modelled, so not reported as not modelled.
    expect(fromDb.warnings?.filter((w) => w.code === "nb.not-modelled" && w.message.includes("interconn-ts")).map((w) => w.message) ?? []).toEqual([]);
  });

  it("with the Southbound: chassis, bindings, learned MAC bindings and northd's tunnel keys", () => {
    const rec = recorded();
    const both = mustLoad(loadOvsdbNetwork({ bytes: rec.nbDb, file: paths.nbDb }, { bytes: rec.sbDump, file: paths.sbDump }));
    expect(ovnContent(both.network, true, keep)).toEqual(ovnContent(net, true, keep));
    expect(both.warnings?.filter((w) => w.code.startsWith("sb.") || w.code === "ovsdb.placeholder-chassis").map((w) => w.message)).toEqual([]);
    const keys = sbKeys(rec.sbDump.toString("utf8"));
    for (const ls of both.network.switches.values()) {
      expect(ls.tunnelKey, `switch ${ls.name}`).toBe(keys.datapaths.get(`ls ${ls.name}`));
      for (const p of ls.ports.values()) expect(p.tunnelKey, `port ${p.name}`).toBe(keys.ports.get(p.name));
    }
    for (const lr of both.network.routers.values()) {
      expect(lr.tunnelKey, `router ${lr.name}`).toBe(keys.datapaths.get(`lr ${lr.name}`));
      for (const p of lr.ports.values()) expect(p.tunnelKey, `router port ${p.name}`).toBe(keys.ports.get(p.name));
    }
    if (compiles) expect(lflowText(both.network)).toBe(lflowText(net));
  });
});
