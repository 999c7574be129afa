/**
 * The commands' lines and summaries, known without loading the commands.
 *
 * `ovnsim --help` lists every command, but a run uses one: main.ts loads only the module of the
 * command named on the line and gives the others this line and summary alone, so that a trace
 * does not load the replay engine, nor `pcap info` the compiler. Each command module registers
 * itself with its entry here.
 */
export interface CommandSpec {
  /** The word that selects the command. */
  readonly name: string;
  /** The command with its positional arguments, in yargs' notation. */
  readonly usage: string;
  readonly describe: string;
}

const spec = (usage: string, describe: string): CommandSpec => ({ name: usage.split(" ")[0]!, usage, describe });

export const PCAP = spec("pcap", "Inspect capture files (pcap, pcapng)");
export const TRACE = spec("trace <network> [datapath] [microflow]", "Trace one packet through the network, as ovn-trace does");
export const FLOWS = spec("flows <network>", "Print the compiled tables of a network (logical flows, OpenFlow-style rules, or JSON)");
export const EXPORT = spec("export <network>", "Write a network as ovn-nbctl / ovn-sbctl commands, or as scenario YAML");
export const REPLAY = spec("replay <network> <pcaps..>", "Replay captures through the network, statefully, with the datapath flow cache");
export const IMPORT = spec(
  "import <network>",
  "Write an OVN Northbound database (file or ovsdb-client dump -f json, with --sb its Southbound), or any network input, as scenario YAML",
);
export const CONFORMANCE = spec("conformance <network>", "Trace probes through ovnsim and through real OVN (ovn-trace) and report where they disagree");

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [PCAP, TRACE, FLOWS, EXPORT, REPLAY, IMPORT, CONFORMANCE];
