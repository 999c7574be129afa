/**
 * The databases of the topologies taken from OVN's test suite (test/ovn-suite/topologies.ts),
 * made by real OVN: fixtures/ovn-suite/<name>.nb.db and <name>.sb.db.
 *
 * Run: `npx tsx scripts/ovn-suite-dbs.ts` builds every topology in a fresh `OvnSandbox`
 * (ovsdb-server NB + SB and ovn-northd) and writes the files (atomically); `--check` builds them
 * in a temp dir instead and compares them with the committed files logically (exit 1 when they
 * differ); names after the options restrict the run to those topologies.
 *
 * How a topology is built: its `ovn-nbctl` invocations run one by one, then `--wait=sb sync`
 * (ovn-northd has made the Southbound), its `ovn-sbctl` invocations (fake chassis, bindings,
 * learned MAC bindings), another sync, and both servers compact their files
 * (`ovsdb-server/compact`) before they are copied: a compacted standalone file is the schema plus
 * one record holding every row, so it is small and holds no history.
 *
 * Logical comparison (`canonicalDatabase`): two builds differ in row UUIDs, in the random values
 * ovn-northd picks per database (NB_Global `options:mac_prefix` and `svc_monitor_mac`, which
 * Southbound rows copy), in timestamps, in the tunnel keys of ports and datapaths, and in ECMP
 * member numbers (they follow the UUID order of a router's static routes). Each row is reduced to
 * its columns, with a reference replaced by the referenced row's own canonical text (references
 * in OVN's schemas form no cycle; a cycle would be cut and marked); UUIDs written as text
 * (Southbound `external_ids` naming the Northbound row a row comes from, and `stage-hint`, a
 * UUID's first digits) become `<uuid>`, ECMP member numbers in logical flow matches `<member>`,
 * and the other values above are removed. The two sides must then hold the same multiset of rows
 * per table.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fail, formatDiagnostic, ok, type Result } from "../src/base/index.js";
import { OvnSandbox } from "../src/ovn/index.js";
import { readOvsdbFile, type Atom, type Datum, type OvsdbDatabase } from "../src/scenario/index.js";
import { TOPOLOGIES, type SuiteTopology } from "../test/ovn-suite/topologies.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const SUITE_FIXTURES = join(ROOT, "fixtures/ovn-suite");

/** The two database files real OVN made for a topology. */
export interface SuiteDbs {
  readonly nb: Buffer;
  readonly sb: Buffer;
}

/** Where a topology's fixture files are. */
export function suitePaths(name: string, dir = SUITE_FIXTURES): { nb: string; sb: string } {
  return { nb: join(dir, `${name}.nb.db`), sb: join(dir, `${name}.sb.db`) };
}

/** Runs `ovs-appctl -t CTL ovsdb-server/compact` for one of the sandbox's servers. */
function compact(sb: OvnSandbox, db: "nb" | "sb"): Result<string> {
  return sb.run("ovs-appctl", ["-t", join(sb.dir, `${db}.ctl`), "ovsdb-server/compact"]);
}

/** Applies a topology's commands to a running sandbox (NB, sync, SB, sync). */
export function applyTopology(sb: OvnSandbox, topo: SuiteTopology): Result<void> {
  for (const args of topo.nbctl) {
    const r = sb.nbctl(...args);
    if (!r.ok) return r;
  }
  const s1 = sb.sync();
  if (!s1.ok) return s1;
  for (const args of topo.sbctl) {
    const r = sb.sbctl(...args);
    if (!r.ok) return r;
  }
  const s2 = sb.sync();
  return s2.ok ? ok(undefined) : s2;
}

/** Builds a topology in a fresh sandbox and returns its compacted database files. */
export function buildSuiteDbs(topo: SuiteTopology): Result<SuiteDbs> {
  const started = OvnSandbox.start();
  if (!started.ok) return started;
  const sb = started.value;
  try {
    const applied = applyTopology(sb, topo);
    if (!applied.ok) return fail(...applied.diags.map((d) => ({ ...d, message: `${topo.name}: ${d.message}` })));
    for (const db of ["nb", "sb"] as const) {
      const c = compact(sb, db);
      if (!c.ok) return c;
    }
    return ok({ nb: readFileSync(join(sb.dir, "nb.db")), sb: readFileSync(join(sb.dir, "sb.db")) });
  } finally {
    sb.stop();
  }
}

/**
 * Columns whose values differ between two builds of the same commands: timestamps, and the tunnel
 * keys ovn-northd hands out where none is requested (the order it walks ports in is not fixed).
 * Rows are still told apart by their names.
 */
const VOLATILE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  NB_Global: ["nb_cfg_timestamp", "sb_cfg_timestamp", "hv_cfg_timestamp"],
  Chassis_Private: ["nb_cfg_timestamp"],
  Port_Binding: ["tunnel_key"],
  Datapath_Binding: ["tunnel_key"],
};

/** A UUID in text: Southbound rows name the Northbound rows they come from (`logical-switch`, `lb_id`). */
const UUID_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * An ECMP member number in a logical flow's match (`reg8[16..31] == 2`): ovn-northd numbers a
 * route's next hops in the UUID order of the router's static routes, so the same commands can
 * number them differently.
 */
const ECMP_MEMBER = /(reg8\[16\.\.31\] == )\d+/g;

/** Option keys ovn-northd fills with per-database random values. */
const RANDOM_OPTIONS = ["mac_prefix", "svc_monitor_mac"];

/** The per-database random values of a database: NB_Global (or SB_Global) options. */
function randomValues(db: OvsdbDatabase): string[] {
  const out: string[] = [];
  for (const table of ["NB_Global", "SB_Global"]) {
    for (const row of db.tables.get(table)?.values() ?? []) {
      const opts = row.columns.get("options");
      if (opts?.kind !== "map") continue;
      for (const [k, v] of opts.entries) if (typeof k === "string" && RANDOM_OPTIONS.includes(k) && typeof v === "string" && v !== "") out.push(v);
    }
  }
  return out;
}

/**
 * A database as comparable text: table → sorted canonical rows. References become the canonical
 * text of the row they name; random per-database values become `<random>`; volatile columns go.
 */
export function canonicalDatabase(db: OvsdbDatabase): Map<string, string[]> {
  const random = randomValues(db);
  const tableOf = new Map<string, string>();
  for (const [t, rows] of db.tables) for (const uuid of rows.keys()) tableOf.set(uuid, t);
  const memo = new Map<string, string>();
  const visiting = new Set<string>();
  const scrub = (s: string): string => random.reduce((acc, r) => acc.split(r).join("<random>"), s).replace(UUID_TEXT, "<uuid>");
  const atom = (a: Atom): string => {
    if (typeof a === "object") return rowText(a.uuid);
    return typeof a === "string" ? JSON.stringify(scrub(a)) : String(a);
  };
  const datum = (d: Datum): string => {
    if (d.kind === "set") return `[${d.items.map(atom).sort().join(",")}]`;
    return `{${d.entries
      .map(([k, v]) => `${atom(k)}:${k === "stage-hint" ? "<uuid>" : atom(v)}`)
      .sort()
      .join(",")}}`;
  };
  function rowText(uuid: string): string {
    const done = memo.get(uuid);
    if (done !== undefined) return done;
    const table = tableOf.get(uuid);
    if (table === undefined) return "<missing>";
    if (visiting.has(uuid)) return `<cycle ${table}>`;
    visiting.add(uuid);
    const row = db.tables.get(table)!.get(uuid)!;
    const skip = VOLATILE_COLUMNS[table] ?? [];
    const cols = [...row.columns]
      .filter(([c]) => !skip.includes(c))
      .map(([c, d]) => `${c}=${table === "Logical_Flow" && c === "match" ? datum(d).replace(ECMP_MEMBER, "$1<member>") : datum(d)}`)
      .sort();
    const text = `${table}(${cols.join(" ")})`;
    visiting.delete(uuid);
    memo.set(uuid, text);
    return text;
  }
  const out = new Map<string, string[]>();
  for (const [t, rows] of db.tables) out.set(t, [...rows.keys()].map(rowText).sort());
  return out;
}

/** The differences between two databases' canonical forms, one line each (empty: the same). */
export function compareDatabases(a: OvsdbDatabase, b: OvsdbDatabase, limit = 10): string[] {
  const ca = canonicalDatabase(a);
  const cb = canonicalDatabase(b);
  const out: string[] = [];
  for (const t of [...new Set([...ca.keys(), ...cb.keys()])].sort()) {
    const ra = ca.get(t) ?? [];
    const rb = cb.get(t) ?? [];
    const count = new Map<string, number>();
    for (const r of ra) count.set(r, (count.get(r) ?? 0) + 1);
    for (const r of rb) count.set(r, (count.get(r) ?? 0) - 1);
    for (const [r, n] of count) {
      if (n === 0) continue;
      out.push(`${t}: ${n > 0 ? `only in ${a.file}` : `only in ${b.file}`} (${Math.abs(n)}x): ${r.length > 240 ? `${r.slice(0, 240)}...` : r}`);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function readDb(bytes: Uint8Array, file: string): Result<OvsdbDatabase> {
  return readOvsdbFile(bytes, file);
}

/** Builds `topo` again and compares it with the files in `dir`; the differences, one line each. */
export function checkSuiteDbs(topo: SuiteTopology, dir = SUITE_FIXTURES): Result<string[]> {
  const built = buildSuiteDbs(topo);
  if (!built.ok) return built;
  const paths = suitePaths(topo.name, dir);
  const diffs: string[] = [];
  for (const which of ["nb", "sb"] as const) {
    if (!existsSync(paths[which])) {
      diffs.push(`${paths[which]} does not exist`);
      continue;
    }
    const was = readDb(readFileSync(paths[which]), paths[which]);
    const now = readDb(built.value[which], `rebuilt ${topo.name}.${which}.db`);
    if (!was.ok) return was;
    if (!now.ok) return now;
    diffs.push(...compareDatabases(was.value, now.value));
  }
  return ok(diffs);
}

function writeAtomically(path: string, data: Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function main(): number {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const names = args.filter((a) => !a.startsWith("--"));
  const unknown = names.filter((n) => !TOPOLOGIES.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`ovn-suite-dbs: no topology named ${unknown.join(", ")} (have ${TOPOLOGIES.map((t) => t.name).join(", ")})`);
    return 2;
  }
  const chosen = TOPOLOGIES.filter((t) => names.length === 0 || names.includes(t.name));
  let failed = false;
  if (check) {
    for (const topo of chosen) {
      const r = checkSuiteDbs(topo);
      if (!r.ok) {
        console.error(r.diags.map(formatDiagnostic).join("\n"));
        return 2;
      }
      if (r.value.length === 0) console.log(`${topo.name}: the same`);
      else {
        failed = true;
        console.log(`${topo.name}: differs\n  ${r.value.join("\n  ")}`);
      }
    }
    return failed ? 1 : 0;
  }
  mkdirSync(SUITE_FIXTURES, { recursive: true });
  for (const topo of chosen) {
    const r = buildSuiteDbs(topo);
    if (!r.ok) {
      console.error(r.diags.map(formatDiagnostic).join("\n"));
      return 2;
    }
    const paths = suitePaths(topo.name);
    writeAtomically(paths.nb, r.value.nb);
    writeAtomically(paths.sb, r.value.sb);
    console.log(`${topo.name}: wrote ${topo.name}.nb.db (${r.value.nb.length} bytes), ${topo.name}.sb.db (${r.value.sb.length} bytes)`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();

