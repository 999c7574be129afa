/**
 * Reading a capture file from disk: the whole file is read into one buffer and handed to
 * `openCapture`, so records are zero-copy views of it. For stdin or pipes of unknown size use
 * `readCaptureStream` instead. A file that cannot be read gives a `pcap.cannot-read` diagnostic.
 */
import { readFileSync } from "node:fs";
import { error, fail } from "../base/index.js";
import type { Result } from "../base/index.js";
import { openCapture } from "./reader.js";
import type { CaptureReader, ReaderOptions } from "./reader.js";

/** Reads `path` into memory and opens it as a capture. */
export function readCaptureFile(path: string, opts?: ReaderOptions): Result<CaptureReader> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return fail(error("pcap.cannot-read", `cannot read the capture file: ${reason}`, { file: path }));
  }
  return openCapture(bytes, path, opts);
}
