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

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    errIsTty: Boolean(process.stderr.isTTY),
    stdin: process.stdin,
  };
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
