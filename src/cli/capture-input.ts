/**
 * Opening a capture named on the command line: a file path, or `-` for standard input.
 *
 * Files are read whole and parsed zero-copy; standard input is parsed as it streams, with memory
 * bounded by the largest record. Both are presented as one async record source, so commands do
 * not care which they have.
 */
import { statSync } from "node:fs";
import { error, type Diagnostic } from "../base/index.js";
import { STDIN_ARG } from "./io.js";
import { readCaptureFile, readCaptureStream, type CaptureReader, type CaptureStreamReader } from "../pcap/index.js";

/** A capture being read: synchronously from a file in memory, or from a stream (`await next()` suits both). */
export type CaptureSource = CaptureReader | CaptureStreamReader;

/** Thrown to the CLI's top level: diagnostics that end the command with exit code 2. */
export class InputError extends Error {
  readonly diags: readonly Diagnostic[];
  constructor(diags: readonly Diagnostic[]) {
    super(diags.map((d) => d.message).join("; "));
    this.diags = diags;
  }
}

/** Throws InputError unless `path` is a file that can be opened (not a directory, not absent). */
export function checkCaptureFile(path: string): void {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError([error("io.is-directory", "is a directory; expected a pcap or pcapng file", { file: path })]);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([error("io.open", code === "ENOENT" ? "no such file" : `cannot open (${code ?? String(e)})`, { file: path })]);
  }
}

/** Opens `path` (or stdin for `-`); throws InputError with the file's diagnostics if it cannot. */
export async function openCaptureInput(path: string, stdin: NodeJS.ReadableStream | undefined): Promise<CaptureSource> {
  if (path === STDIN_ARG || path === "-") {
    if (!stdin) throw new InputError([error("io.no-stdin", "standard input is not available", { file: "-" })]);
    const r = await readCaptureStream(stdin, "-");
    if (!r.ok) throw new InputError(r.diags);
    return r.value;
  }
  checkCaptureFile(path);
  const r = readCaptureFile(path);
  if (!r.ok) throw new InputError(r.diags);
  return r.value;
}
