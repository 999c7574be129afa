/**
 * `ovnsim import NETWORK [--sb SB] [--out FILE]`: any network input (an OVN Northbound database,
 * as a database file or `ovsdb-client dump -f json` output, with its Southbound; Kube-OVN
 * manifests; a scenario) written as scenario YAML.
 *
 * What was not modelled is printed to stderr as warnings, one line each, and does not change the
 * exit code. `--out` is written atomically: the YAML goes to a temporary file in the same
 * directory, which is then renamed over the target, so a failed import never leaves half a file.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Argv } from "yargs";
import { IMPORT } from "./commands.js";
import { error } from "../base/index.js";
import { saveScenario } from "../scenario/index.js";
import { InputError } from "./capture-input.js";
import type { Io } from "./io.js";
import { loadNetworkArg } from "./network.js";
import { checkOutputFile } from "./output-path.js";

/** Writes `text` to `path` through a temporary file and a rename. */
export function writeFileAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError([error("io.write", `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path })]);
  }
}

export function registerImportCommand(parser: Argv, io: Io): void {
  parser.command(
    IMPORT.usage,
    IMPORT.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "NB database (ovnnb_db.db or JSON dump), Kube-OVN manifests, or a scenario" })
        .option("sb", { type: "string", describe: "the Southbound database (file or JSON dump): chassis, encaps, port bindings, learned MAC bindings, tunnel keys" })
        .option("out", { type: "string", alias: "o", describe: "the scenario file to write (default: standard output)" }),
    (argv) => {
      if (argv.out !== undefined && argv.out !== "") checkOutputFile("--out", argv.out);
      const s = loadNetworkArg(argv.network, { sb: argv.sb, io });
      const text = saveScenario(s.network, s.probes, s.zones);
      if (argv.out === undefined || argv.out === "") io.out(text);
      else writeFileAtomically(argv.out, text);
    },
  );
}
