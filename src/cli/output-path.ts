/**
 * Output paths named on the command line (`--out`, `--stats`, `--pcap-out`): checked before the
 * command does its work, so a typo in a path fails at once with one line, not after a long replay,
 * and never with a stack trace.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { error } from "../base/index.js";
import { InputError } from "./capture-input.js";

function kindOf(path: string): "dir" | "other" | "absent" {
  try {
    return statSync(path).isDirectory() ? "dir" : "other";
  } catch {
    return "absent";
  }
}

/** Throws InputError unless a file can be made at `path` (for `flag`): its directory exists and `path` is not a directory. */
export function checkOutputFile(flag: string, path: string): void {
  const code = `usage.${flag.replace(/^-+/, "")}`;
  if (kindOf(path) === "dir") throw new InputError([error(code, `${flag} ${path}: is a directory; expected a file name`)]);
  const dir = dirname(resolve(path));
  const k = kindOf(dir);
  if (k === "absent") throw new InputError([error(code, `${flag} ${path}: no such directory ${dir}`)]);
  if (k === "other") throw new InputError([error(code, `${flag} ${path}: ${dir} is not a directory`)]);
}

/**
 * Makes directory `path` and its parents for `flag`; throws InputError when it exists as a file or
 * cannot be made. One level at a time: Node's recursive `mkdirSync` never returns for some paths
 * (under /proc, seen with Node 20).
 */
export function makeOutputDir(flag: string, path: string): void {
  const code = `usage.${flag.replace(/^-+/, "")}`;
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    const k = kindOf(p);
    if (k === "dir") break;
    if (k === "other") throw new InputError([error(code, `${flag} ${path}: ${p === resolve(path) ? "exists and is not a directory" : `${p} is not a directory`}`)]);
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new InputError([error(code, `${flag} ${path}: cannot make the directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)]);
    }
  }
}
