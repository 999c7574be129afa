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
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    errIsTty: Boolean(process.stderr.isTTY),
  };
}

/** A capturing `Io` for tests. */
export function memoryIo(): Io & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    errIsTty: false,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Bad usage that yargs cannot see (e.g. a conflicting combination); exit code 2. */
export class UsageError extends Error {}
