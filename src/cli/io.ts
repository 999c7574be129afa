/**
 * Where the CLI writes. Commands write through an `Io` so that tests capture output in-process.
 */

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Terminal width when stdout is a terminal. */
  readonly columns?: number;
  /** True when stderr is a terminal (progress bars go there only then). */
  readonly errIsTty: boolean;
  /** Standard input, for `-` arguments. */
  readonly stdin?: NodeJS.ReadableStream;
}

/**
 * The process's streams. A reader that goes away before the output ends (`ovnsim pcap dump x |
 * head`) ends the command quietly with exit code 0, as a Unix filter ends on SIGPIPE, instead of
 * Node's unhandled EPIPE error with its stack.
 */
export function processIo(): Io {
  quietOnClosedPipe();
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    errIsTty: Boolean(process.stderr.isTTY),
    stdin: process.stdin,
  };
}

let watchingPipes = false;

function quietOnClosedPipe(): void {
  if (watchingPipes) return;
  watchingPipes = true;
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
}

/** A capturing `Io` for tests. */
export function memoryIo(stdin?: NodeJS.ReadableStream): Io & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    errIsTty: false,
    stdin,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Bad usage that yargs cannot see (e.g. a conflicting combination); exit code 2. */
export class UsageError extends Error {}

/**
 * yargs turns a lone `-` argument into an empty string, so `run()` swaps it for this marker before
 * parsing; commands compare file arguments against it to read standard input.
 */
export const STDIN_ARG = "\u0000stdin";
