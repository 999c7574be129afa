/**
 * The commands' lines and summaries, known without loading the commands.
 *
 * `ovnsim --help` lists every command, but a run uses one: main.ts loads only the module of the
 * command named on the line and gives the others this line and summary alone, so that a trace
 * does not load the replay engine, nor `pcap info` the compiler. Each command module registers
 * itself with its entry here, and the entry loads the module (`load`).
 */
import type { Argv } from "yargs";
import type { Io } from "./io.js";

/** A command module's registration: its yargs command, options and handler. */
export type Register = (parser: Argv, io: Io, setExit: (code: number) => void) => void;

export interface CommandSpec {
  /** The word that selects the command. */
  readonly name: string;
  /** The command with its positional arguments, in yargs' notation. */
  readonly usage: string;
  readonly describe: string;
  /** Imports the command's module and returns its registration. */
  readonly load: () => Promise<Register>;
}

const spec = (usage: string, describe: string, load: () => Promise<Register>): CommandSpec => ({ name: usage.split(" ")[0]!, usage, describe, load });

export const PCAP = spec(
  "pcap",
  "Inspect capture files (pcap, pcapng)",
  async () => (await import("./pcap.js")).registerPcapCommands,
);
export const TRACE = spec(
  "trace <network> [datapath] [microflow]",
  "Trace one packet through the network, as ovn-trace does",
  async () => (await import("./trace.js")).registerTraceCommand,
);
export const FLOWS = spec(
  "flows <network>",
  "Print the compiled tables of a network (logical flows, OpenFlow-style rules, or JSON)",
  async () => (await import("./flows.js")).registerFlowsCommand,
);
export const EXPORT = spec(
  "export <network>",
  "Write a network as ovn-nbctl / ovn-sbctl commands, or as scenario YAML",
  async () => (await import("./export.js")).registerExportCommand,
);
export const REPLAY = spec(
  "replay <network> <pcaps..>",
  "Replay captures through the network, statefully, with the datapath flow cache",
  async () => (await import("./replay.js")).registerReplayCommand,
);
export const IMPORT = spec(
  "import <network>",
  "Write an OVN Northbound database (file or ovsdb-client dump -f json, with --sb its Southbound), or any network input, as scenario YAML",
  async () => (await import("./import.js")).registerImportCommand,
);
export const CONFORMANCE = spec(
  "conformance <network>",
  "Trace probes through ovnsim and through real OVN (ovn-trace) and report where they disagree",
  async () => (await import("./conformance.js")).registerConformanceCommand,
);

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [PCAP, TRACE, FLOWS, EXPORT, REPLAY, IMPORT, CONFORMANCE];
