/**
 * The `ovnsim` command line: yargs commands, and the only place that turns diagnostics into text
 * and exit codes (0 success, 1 a check failed, 2 bad input or usage, 70 an internal error: an
 * exception no command expected, printed as one line, with its stack when OVNSIM_DEBUG is set).
 *
 * `run()` takes the arguments and an output sink and returns the exit code, so tests drive the CLI
 * in-process; `bin/ovnsim.js` calls it with the real process streams.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import yargs from "yargs";
import { formatDiagnostic } from "../base/index.js";
import { STDIN_ARG, UsageError, type Io, processIo } from "./io.js";
import { COMMANDS } from "./commands.js";
import { VERSION } from "./version.js";

/** A usage error found while parsing the command line (before any command runs). */
class ParseFailure extends UsageError {}

/** The exit code of an unexpected exception (BSD sysexits' EX_SOFTWARE). */
export const INTERNAL_ERROR = 70;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = 0;
  const args = argv.map((a) => (a === "-" ? STDIN_ARG : a));
  const parser = yargs(args)
    .scriptName("ovnsim")
    .usage("$0 <command> [options]\n\nOffline OVN/OVS dataplane simulator and packet-path tracer.")
    .version(VERSION)
    .help()
    .alias("h", "help")
    .strict()
    .demandCommand(1, "Give a command; see --help.")
    .recommendCommands()
    // yargs renders a command's help before running it, wrapping every line; only a run that
    // prints help needs the wrapping (about 50 ms of a trace otherwise).
    .wrap(args.some((a) => a === "--help" || a === "-h" || a === "help") ? Math.min(100, io.columns ?? 100) : null)
    .exitProcess(false)
    .fail((msg: string | null, err: Error | undefined) => {
      // Thrown, not just reported: yargs runs the command's handler after a failure handler that
      // returns, so a bad option would still replay, trace or write files.
      if (err && !(err instanceof UsageError)) throw err;
      // One line: yargs writes some messages over several ("Invalid values:\n  Argument: ...").
      let text = (err ? err.message : (msg ?? "usage error")).replace(/\n\s*/g, " ");
      // recommendCommands' suggestion comes alone, without saying what was wrong.
      if (/^Did you mean /.test(text)) text = `unknown command. ${text}`;
      throw new ParseFailure(text);
    });
  // Only the command named on the line is loaded; the others are their line and summary, for
  // --help and for suggestions. There is no top-level option that takes a value, so the first
  // word that is not an option names the command.
  const word = args.find((a) => !a.startsWith("-"));
  const setExit = (code: number): void => {
    exitCode = code;
  };
  for (const c of COMMANDS) {
    if (c.name === word) (await c.load())(parser, io, setExit);
    else parser.command(c.usage, c.describe);
  }
  try {
    let helpOrVersion = "";
    await parser.parseAsync(args, {}, (_err: Error | undefined, _args: unknown, output: string) => {
      if (output) helpOrVersion = output;
    });
    if (helpOrVersion) io.out(helpOrVersion + "\n");
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`ovnsim: ${e.message}\n`);
      if (e instanceof ParseFailure) io.err("Run 'ovnsim --help' for usage.\n");
      return 2;
    }
    const diags = (e as { diags?: unknown }).diags;
    if (Array.isArray(diags)) {
      for (const d of diags) io.err(`ovnsim: ${formatDiagnostic(d)}\n`);
      return 2;
    }
    // Anything else is a fault of ovnsim's, not of the input: one line, the stack only when asked.
    const err = e instanceof Error ? e : new Error(String(e));
    io.err(`ovnsim: internal error: ${err.message.replace(/\n\s*/g, " ")} (a bug in ovnsim; OVNSIM_DEBUG=1 prints where)\n`);
    if (process.env.OVNSIM_DEBUG) io.err(`${err.stack ?? ""}\n`);
    return INTERNAL_ERROR;
  }
  return exitCode;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await run(process.argv.slice(2));
