/**
 * Every action string that real ovn-northd 23.03 emits for our scenarios must parse, and format
 * back to text that parses to the same actions; the stage table must be northd's.
 *
 * The recordings (fixtures/compile/actions/northd-*.txt) hold, per scenario of
 * test/expr/ovn-scenarios.ts, the distinct (stage, actions) pairs of the Southbound Logical_Flow
 * table, and every (pipeline, table, stage) triple seen. They always run. Where OVN is installed
 * the scenarios are rebuilt in a sandbox and must still give the recorded sets;
 * `OVNSIM_RECORD=1` rewrites the recordings (and the lflow-list dumps beside them) instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatActions, parseActions, STAGES, stageByName } from "../../src/compile/index.js";
import { formatDiagnostic } from "../../src/base/index.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { SCENARIOS, applyScenario, type Scenario } from "../expr/ovn-scenarios.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/compile/actions");
const RECORD = process.env.OVNSIM_RECORD === "1";
const DUMPED = new Set(["lb", "router"]);

interface Recording {
  /** `stage\tactions`, sorted, distinct. */
  readonly actions: string[];
  /** `pipeline table stage`, sorted, distinct. */
  readonly stages: string[];
}

const sortStrings = (xs: string[]): string[] => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function fixturePath(name: string): string {
  return resolve(FIXTURES, `northd-${name}.txt`);
}

function readRecording(name: string): Recording {
  const rec: Recording = { actions: [], stages: [] };
  for (const line of readFileSync(fixturePath(name), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("%stage ")) rec.stages.push(line.slice(7));
    else rec.actions.push(line);
  }
  return rec;
}

function buildLive(sc: Scenario): Recording & { dump: string } {
  const s = OvnSandbox.start();
  if (!s.ok) throw new Error(s.diags[0]!.message);
  const sb = s.value;
  try {
    applyScenario(sb, sc);
    const flows = sb.lflows();
    if (!flows.ok) throw new Error(flows.diags[0]!.message);
    const dump = sb.sbctl("lflow-list");
    if (!dump.ok) throw new Error(dump.diags[0]!.message);
    return {
      actions: sortStrings([...new Set(flows.value.map((f) => `${f.stage}\t${f.actions}`))]),
      stages: sortStrings([...new Set(flows.value.map((f) => `${f.pipeline} ${f.table} ${f.stage}`))]),
      dump: dump.value,
    };
  } finally {
    sb.stop();
  }
}

function writeRecording(sc: Scenario, rec: Recording & { dump: string }, version: string): void {
  const out = [
    `# Distinct (stage, actions) pairs that ovn-northd generates for the scenario "${sc.name}":`,
    `# ${sc.what}.`,
    `# Recorded from ${version} by test/compile/actions-northd.test.ts (OVNSIM_RECORD=1 rewrites this file).`,
    "# %stage PIPELINE TABLE NAME: a stage seen; then STAGE<TAB>ACTIONS per line, sorted.",
    ...rec.stages.map((s) => `%stage ${s}`),
    ...rec.actions,
  ];
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(fixturePath(sc.name), out.join("\n") + "\n");
  if (DUMPED.has(sc.name)) writeFileSync(resolve(FIXTURES, `lflow-list-${sc.name}.txt`), rec.dump);
}

const live = ovnAvailable();
if (!live) console.warn("actions-northd: OVN binaries not installed; checking the recordings only, not live ovn-northd output");

describe("ovn-northd's actions", () => {
  if (RECORD) {
    it.skipIf(!live)(
      "records the scenarios (OVNSIM_RECORD=1)",
      () => {
        const version = ovnVersion("ovn-northd") ?? "ovn-northd";
        for (const sc of SCENARIOS) writeRecording(sc, buildLive(sc), version);
      },
      120_000,
    );
  }

  describe.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (_, sc) => {
    it("every recorded action string parses and reads back after formatting", () => {
      const rec = readRecording(sc.name);
      expect(rec.actions.length).toBeGreaterThan(20);
      const failures: string[] = [];
      for (const line of rec.actions) {
        const [stage, text] = line.split("\t") as [string, string];
        const kind = stageByName(stage)?.datapath;
        if (!kind) {
          failures.push(`unknown stage ${stage}`);
          continue;
        }
        const a = parseActions(text, { datapath: kind });
        if (!a.ok) {
          failures.push(`${text}: ${formatDiagnostic(a.diags[0]!)}`);
          continue;
        }
        const f = formatActions(a.value);
        const b = parseActions(f, { datapath: kind });
        if (!b.ok) failures.push(`${text} -> ${f}: ${formatDiagnostic(b.diags[0]!)}`);
        else if (JSON.stringify(b.value) !== JSON.stringify(a.value)) failures.push(`${text} -> ${f}: different actions`);
      }
      expect(failures).toEqual([]);
    });

    it("every stage northd used is in the stage table with the same table number", () => {
      for (const s of readRecording(sc.name).stages) {
        const [pipeline, table, name] = s.split(" ") as [string, string, string];
        const st = stageByName(name);
        expect(st, name).toBeDefined();
        expect([st!.pipeline, st!.table]).toEqual([pipeline, Number(table)]);
      }
    });

    it.skipIf(!live || RECORD)(
      "the recording is still what ovn-northd emits",
      () => {
        const rec = readRecording(sc.name);
        const now = buildLive(sc);
        expect(now.actions).toEqual(rec.actions);
        expect(now.stages).toEqual(rec.stages);
      },
      60_000,
    );
  });

  it("the scenarios together use every stage of the table", () => {
    const seen = new Set(SCENARIOS.flatMap((sc) => readRecording(sc.name).stages.map((s) => s.split(" ")[2]!)));
    expect(STAGES.map((s) => s.name).filter((n) => !seen.has(n))).toEqual([]);
  });
});
