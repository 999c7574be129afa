/**
 * `ovnsim export NETWORK --format nbctl|sbctl|yaml`: the network as commands that build it in real
 * OVN (`ovn-nbctl`, and `ovn-sbctl` for chassis and port bindings), or as scenario YAML.
 */
import type { Argv } from "yargs";
import { EXPORT } from "./commands.js";
import { CHASSIS_FEATURES } from "../ovn/index.js";
import { exportNbctl, exportNotes, exportSbctl, renderScript, saveScenario } from "../scenario/index.js";
import type { Io } from "./io.js";
import { loadNetworkArg } from "./network.js";

export function registerExportCommand(parser: Argv, io: Io): void {
  parser.command(
    EXPORT.usage,
    EXPORT.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "scenario YAML, Kube-OVN manifests, or an OVN NB database (file or JSON dump)" })
        .option("sb", { type: "string", describe: "the Southbound database (file or ovsdb-client JSON dump) of an NB database NETWORK" })
        .option("format", { choices: ["nbctl", "sbctl", "yaml"] as const, default: "nbctl" as const, describe: "nbctl: Northbound commands; sbctl: chassis and bindings; yaml: scenario file" }),
    (argv) => {
      const s = loadNetworkArg(argv.network, { sb: argv.sb, io });
      if (argv.format === "nbctl") io.out(renderScript("ovn-nbctl", exportNbctl(s.network), exportNotes(s.network)));
      else if (argv.format === "sbctl") io.out(renderScript("ovn-sbctl", exportSbctl(s.network, { chassisOtherConfig: CHASSIS_FEATURES })));
      else io.out(saveScenario(s.network, s.probes, s.zones));
    },
  );
}
