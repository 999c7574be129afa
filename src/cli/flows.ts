/**
 * `ovnsim flows NETWORK`: the compiled tables, in a stable order for golden diffs.
 *
 * - `lflow` (default): the logical flows as OVN text, one per line in the layout of
 *   `ovn-sbctl lflow-list`, each followed by its provenance (the model object and the compiler
 *   rule that made it).
 * - `ofctl`: the lowered rules in `ovs-ofctl dump-flows` style, per datapath and pipeline.
 * - `json`: every logical flow as an object.
 * - `--physical [CHASSIS]`: instead, each chassis's physical flows (tables 0, 37-41, 64, 65: how
 *   ovn-controller classifies packets and sends them to VIFs, tunnels and provider bridges), in
 *   `ovs-ofctl dump-flows` style with what each is for.
 * Order: datapaths in model order; ingress then egress; table; priority descending; match text.
 */
import type { Argv } from "yargs";
import { unknownNameHint } from "../base/index.js";
import { FLOWS } from "./commands.js";
import type { CompiledNetwork, LogicalFlow } from "../compile/index.js";
import { compilePhysical, stageTable } from "../compile/index.js";
import { dumpFlows, formatPhysicalFlow } from "../ofp/index.js";
import { InputError } from "./capture-input.js";
import type { Io } from "./io.js";
import { compileArg, loadNetworkArg } from "./network.js";

/** A stage's table number in its pipeline (switch or router stage names are distinct). */
const tableOf = (stage: string): number => stageTable(stage) ?? -1;

function sorted(flows: readonly LogicalFlow[]): LogicalFlow[] {
  const pl = (f: LogicalFlow) => (f.pipeline === "ingress" ? 0 : 1);
  return [...flows].sort((a, b) => pl(a) - pl(b) || tableOf(a.stage) - tableOf(b.stage) || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0) || (a.actions < b.actions ? -1 : a.actions > b.actions ? 1 : 0));
}

function selected(c: CompiledNetwork, datapath: string | undefined): [string, readonly LogicalFlow[]][] {
  const all = [...c.flows.entries()];
  if (datapath === undefined) return all;
  const hit = all.filter(([name]) => name === datapath);
  if (hit.length === 0) {
    throw new InputError([{ code: "flows.unknown-datapath", severity: "error", message: `no datapath named ${JSON.stringify(datapath)}; ${unknownNameHint(datapath, all.map(([n]) => n), "datapaths", Infinity)}` }]);
  }
  return hit;
}

export function renderLflows(c: CompiledNetwork, datapath?: string): string {
  let out = "";
  for (const [name, flows] of selected(c, datapath)) {
    for (const pipeline of ["ingress", "egress"] as const) {
      out += `Datapath: "${name}" Pipeline: ${pipeline}\n`;
      for (const f of sorted(flows).filter((x) => x.pipeline === pipeline)) {
        const table = tableOf(f.stage);
        out += `  table=${String(table).padEnd(2)}(${f.stage.padEnd(20)}), priority=${String(f.priority).padEnd(5)}, match=(${f.match}), action=(${f.actions})  /* ${f.origin} ${f.source} */\n`;
      }
    }
  }
  return out;
}

export function registerFlowsCommand(parser: Argv, io: Io): void {
  parser.command(
    FLOWS.usage,
    FLOWS.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "scenario YAML, Kube-OVN manifests, or an OVN NB database (file or JSON dump)" })
        .option("sb", { type: "string", describe: "the Southbound database (file or ovsdb-client JSON dump) of an NB database NETWORK" })
        .option("datapath", { type: "string", describe: "only this logical datapath" })
        .option("format", { choices: ["lflow", "ofctl", "json"] as const, default: "lflow" as const, describe: "output format" })
        .option("physical", { type: "string", describe: "print the physical flows of every chassis (or of the one named) instead" }),
    (argv) => {
      const scenario = loadNetworkArg(argv.network, { sb: argv.sb, io });
      if (argv.physical !== undefined) {
        const plan = compilePhysical(scenario.network);
        if (!plan.ok) throw new InputError(plan.diags);
        const all = [...plan.value.chassis.values()].filter((ch) => !ch.remote);
        const chosen = argv.physical === "" ? all : all.filter((ch) => ch.name === argv.physical);
        if (chosen.length === 0) {
          throw new InputError([{ code: "flows.unknown-chassis", severity: "error", message: `--physical ${argv.physical}: no chassis of that name in this zone; ${unknownNameHint(String(argv.physical), all.map((ch) => ch.name), "chassis", Infinity)}` }]);
        }
        for (const ch of chosen) {
          io.out(`# chassis ${ch.name}${ch.encap ? ` (${ch.encap.type} ${ch.encap.ip})` : ""}: bridge br-int\n`);
          for (const f of ch.flows.values()) io.out(` ${formatPhysicalFlow(f)}${f.note ? `  # ${f.note}` : ""}\n`);
        }
        return;
      }
      const c = compileArg(scenario);
      if (argv.format === "lflow") io.out(renderLflows(c, argv.datapath));
      else if (argv.format === "json") {
        const rows = selected(c, argv.datapath).flatMap(([name, flows]) =>
          sorted(flows).map((f) => ({ datapath: name, pipeline: f.pipeline, table: tableOf(f.stage), stage: f.stage, priority: f.priority, match: f.match, actions: f.actions, origin: f.origin, source: f.source })),
        );
        io.out(JSON.stringify(rows, null, 2) + "\n");
      } else {
        for (const [name] of selected(c, argv.datapath)) {
          const dp = c.program.datapaths.get(c.program.datapathByName.get(name)!)!;
          io.out(`# datapath ${name} (key ${dp.key}) ingress\n${dumpFlows(dp.ingress.tables)}# datapath ${name} (key ${dp.key}) egress\n${dumpFlows(dp.egress.tables)}`);
        }
      }
    },
  );
}
