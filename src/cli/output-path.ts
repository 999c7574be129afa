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

function codeOf(flag: string): string {
  return `usage.${flag.replace(/^-+/, "")}`;
}

/** Throws InputError unless a file can be made at `path` (for `flag`): its directory exists and `path` is not a directory. */
export function checkOutputFile(flag: string, path: string): void {
  if (kindOf(path) === "dir") throw new InputError([error(codeOf(flag), `${flag} ${path}: is a directory; expected a file name`)]);
  const dir = dirname(resolve(path));
  const k = kindOf(dir);
  if (k === "absent") throw new InputError([error(codeOf(flag), `${flag} ${path}: no such directory ${dir}`)]);
  if (k === "other") throw new InputError([error(codeOf(flag), `${flag} ${path}: ${dir} is not a directory`)]);
}

/**
 * The directories that `makeOutputDir` would make for `path`, outermost first; throws InputError
 * when `path` or one of its ancestors exists and is not a directory. Makes nothing, so a command
 * can check before its work and make the directory only when it writes.
 */
export function checkOutputDir(flag: string, path: string): string[] {
  const missing: string[] = [];
  const full = resolve(path);
  for (let p = full; ; ) {
    const k = kindOf(p);
    if (k === "dir") break;
    if (k === "other") throw new InputError([error(codeOf(flag), `${flag} ${path}: ${p === full ? "exists and is not a directory" : `${p} is not a directory`}`)]);
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return missing.reverse();
}

/**
 * Makes directory `path` and its parents for `flag`; throws InputError when one exists as a file
 * or cannot be made. One level at a time: Node's recursive `mkdirSync` never returns for some
 * paths (under /proc, seen with Node 20).
 */
export function makeOutputDir(flag: string, path: string): void {
  for (const dir of checkOutputDir(flag, path)) {
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new InputError([error(codeOf(flag), `${flag} ${path}: cannot make the directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)]);
    }
  }
}
