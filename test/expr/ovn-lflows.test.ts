/**
 * Every `match` that real ovn-northd generates for our scenarios must parse and normalize.
 *
 * The recordings (fixtures/ovn/lflows-*.txt) hold, per scenario, the distinct Logical_Flow
 * matches and the names they refer to (ports and multicast groups with their tunnel keys, address
 * sets with their members, port groups with their ports), all read from the Southbound database.
 * The recorded part always runs: zero failures are allowed. Where OVN is installed, the scenarios
 * are also rebuilt in a sandbox and the recordings must still be what northd emits (as sorted
 * sets); `OVNSIM_RECORD=1` rewrites them instead.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMatch, parseExpr, type NormalizeContext } from "../../src/expr/index.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { SCENARIOS, applyScenario, type Scenario } from "./ovn-scenarios.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/ovn");
const RECORD = process.env.OVNSIM_RECORD === "1";

interface Recording {
  readonly ports: Map<string, number>;
  readonly sets: Map<string, string[]>;
  readonly groups: Map<string, string[]>;
  readonly matches: string[];
}

function fixturePath(name: string): string {
  return resolve(FIXTURES, `lflows-${name}.txt`);
}

/** A match line: raw, unless it could be mistaken for a directive or comment, then JSON. */
function encodeMatch(m: string): string {
  return /^["%#\s]/.test(m) || /[\n\r]/.test(m) || m === "" ? JSON.stringify(m) : m;
}

function decodeMatch(line: string): string {
  return line.startsWith('"') ? (JSON.parse(line) as string) : line;
}

function readRecording(name: string): Recording {
  const rec: Recording = { ports: new Map(), sets: new Map(), groups: new Map(), matches: [] };
  for (const line of readFileSync(fixturePath(name), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("%")) {
      const [kind, n, ...rest] = line.slice(1).split(" ");
      if (kind === "port") rec.ports.set(n!, Number(rest[0]));
      else if (kind === "set") rec.sets.set(n!, rest);
      else if (kind === "group") rec.groups.set(n!, rest);
      continue;
    }
    rec.matches.push(decodeMatch(line));
  }
  return rec;
}

function writeRecording(sc: Scenario, rec: Recording, version: string): void {
  const out = [
    `# Distinct Logical_Flow matches that ovn-northd generates for the scenario "${sc.name}":`,
    `# ${sc.what}.`,
    `# Recorded from ${version} by test/expr/ovn-lflows.test.ts (OVNSIM_RECORD=1 rewrites this file).`,
    "# %port NAME KEY: logical ports and multicast groups; %set NAME MEMBERS: address sets;",
    "# %group NAME PORTS: port groups. Then one match per line, sorted.",
  ];
  for (const [n, k] of [...rec.ports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`%port ${n} ${k}`);
  for (const [n, v] of [...rec.sets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`%set ${[n, ...v].join(" ")}`);
  for (const [n, v] of [...rec.groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`%group ${[n, ...v].join(" ")}`);
  for (const m of rec.matches) out.push(encodeMatch(m));
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(fixturePath(sc.name), out.join("\n") + "\n");
}

function contextOf(rec: Recording, resident: boolean): NormalizeContext {
  return {
    portKey: (n) => rec.ports.get(n),
    addressSet: (n) => rec.sets.get(n),
    portGroup: (n) => rec.groups.get(n),
    isChassisResident: () => resident,
  };
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) && v[0] === "set" ? (v[1] as unknown[]) : [v]);
const sortStrings = (xs: string[]): string[] => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Builds a scenario in a fresh sandbox and reads back its matches and names. */
function buildLive(sc: Scenario): Recording {
  const s = OvnSandbox.start();
  if (!s.ok) throw new Error(s.diags[0]!.message);
  const sb = s.value;
  try {
    applyScenario(sb, sc);
    const flows = sb.lflows();
    if (!flows.ok) throw new Error(flows.diags[0]!.message);
    const rec: Recording = { ports: new Map(), sets: new Map(), groups: new Map(), matches: sortStrings([...new Set(flows.value.map((f) => f.match))]) };
    const read = (table: string, cols: string[]): Record<string, unknown>[] => {
      const r = sb.sbList(table, cols);
      if (!r.ok) throw new Error(r.diags[0]!.message);
      return r.value;
    };
    for (const p of read("Port_Binding", ["logical_port", "tunnel_key"])) rec.ports.set(String(p.logical_port), Number(p.tunnel_key));
    for (const g of read("Multicast_Group", ["name", "tunnel_key"])) if (!rec.ports.has(String(g.name))) rec.ports.set(String(g.name), Number(g.tunnel_key));
    for (const a of read("Address_Set", ["name", "addresses"])) {
      // The service-monitor MAC is random per database; record a fixed stand-in.
      const members = String(a.name) === "svc_monitor_mac" ? ["02:00:00:00:00:fe"] : sortStrings(asArray(a.addresses).map(String));
      rec.sets.set(String(a.name), members);
    }
    for (const g of read("Port_Group", ["name", "ports"])) {
      // Southbound port groups are per datapath, named "<datapath key>_<name>".
      const n = String(g.name).replace(/^\d+_/, "");
      rec.groups.set(n, sortStrings([...(rec.groups.get(n) ?? []), ...asArray(g.ports).map(String)]));
    }
    return rec;
  } finally {
    sb.stop();
  }
}

const live = ovnAvailable();
if (!live) console.warn("ovn-lflows: OVN binaries not installed; checking the recordings only, not live ovn-northd output");

describe("ovn-northd's matches", () => {
  if (RECORD) {
    it.skipIf(!live)(
      "records the scenarios (OVNSIM_RECORD=1)",
      () => {
        const version = `${ovnVersion("ovn-northd") ?? "ovn-northd"}`;
        for (const sc of SCENARIOS) writeRecording(sc, buildLive(sc), version);
      },
      120_000,
    );
  }

  describe.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (_, sc) => {
    it("every recorded match parses and normalizes", () => {
      const rec = readRecording(sc.name);
      expect(rec.matches.length).toBeGreaterThan(20);
      const failures: string[] = [];
      let nonEmpty = 0;
      for (const m of rec.matches) {
        if (!parseExpr(m).ok) failures.push(`parse: ${m}`);
        for (const resident of [true, false]) {
          const r = compileMatch(m, contextOf(rec, resident));
          if (!r.ok) failures.push(`${m}: ${r.diags[0]!.message}`);
          else if (r.value.length > 0) nonEmpty++;
        }
      }
      expect(failures).toEqual([]);
      // The context is real: most matches can match something.
      expect(nonEmpty).toBeGreaterThan(rec.matches.length);
    });

    it.skipIf(!live || RECORD)(
      "the recording is still what ovn-northd emits",
      () => {
        const rec = readRecording(sc.name);
        const now = buildLive(sc);
        expect(now.matches).toEqual(rec.matches);
        expect(sortStrings([...now.ports.keys()])).toEqual(sortStrings([...rec.ports.keys()]));
        expect(sortStrings([...now.sets.keys()])).toEqual(sortStrings([...rec.sets.keys()]));
        expect(sortStrings([...now.groups.keys()])).toEqual(sortStrings([...rec.groups.keys()]));
      },
      60_000,
    );
  });
});
