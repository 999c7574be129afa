import type { Argv } from "yargs";
import type { Io } from "./io.js";

/** `ovnsim pcap info|dump`. */
export function registerPcapCommands(parser: Argv, _io: Io, _setExit: (code: number) => void): void {
  parser.command("pcap", "Inspect capture files (pcap, pcapng)", (y) => y.demandCommand(1, "Give a pcap subcommand: info or dump."));
}
