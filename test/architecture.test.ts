/**
 * The import table of DESIGN.md §2, enforced.
 *
 * Every relative import under `src/` that crosses a folder must go to a folder the table allows,
 * and must go through that folder's `index.ts` (style.md: a folder is imported through its index).
 * Importing a folder that is not in the table is an error too, so a new folder has to be added
 * here on purpose.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

const BELOW_CLI = ["base", "packet", "pcap", "flow", "expr", "ofp", "classifier", "model", "scenario", "compile", "dataplane", "trace", "ovn"];

/** DESIGN.md §2: folder → folders it may import. */
const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  packet: ["base"],
  pcap: ["base"],
  flow: ["base", "packet"],
  expr: ["base", "flow"],
  ofp: ["base", "flow"],
  classifier: ["base", "flow", "ofp"],
  model: ["base"],
  scenario: ["base", "model", "expr"],
  compile: ["base", "model", "expr", "flow", "ofp"],
  dataplane: ["base", "packet", "flow", "ofp", "classifier"],
  trace: ["base", "packet", "flow", "ofp", "dataplane"],
  replay: BELOW_CLI,
  ovn: ["base", "model", "scenario"],
  cli: [...BELOW_CLI, "replay"],
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const IMPORT_RE = /^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function topFolder(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

describe("architecture", () => {
  const files = walk(SRC).filter((f) => !f.endsWith(".test.ts"));

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it("every cross-folder import is allowed by DESIGN.md §2 and goes through index.ts", () => {
    const problems: string[] = [];
    for (const file of files) {
      const from = topFolder(file);
      if (!(from in ALLOWED)) {
        problems.push(`${relative(SRC, file)}: folder ${from} is not in the import table`);
        continue;
      }
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(file), spec);
        const rel = relative(SRC, target);
        if (rel.startsWith("..")) {
          problems.push(`${relative(SRC, file)}: imports ${spec}, outside src/`);
          continue;
        }
        const to = rel.split(sep)[0]!;
        if (to === from) continue;
        if (!ALLOWED[from]!.includes(to)) problems.push(`${relative(SRC, file)}: ${from} may not import ${to} (${spec})`);
        else if (rel !== `${to}${sep}index.js`) problems.push(`${relative(SRC, file)}: imports ${spec}; cross-folder imports go through ${to}/index.js`);
      }
    }
    expect(problems).toEqual([]);
  });
});
