/**
 * The expression corpus (fixtures/expr/corpus.txt): each expression with the matches it must
 * normalize to, or the error (message and column) it must give. Matches compare as sets of
 * `formatMatch` lines. Each expected match is also parsed back with `parseMatch` and compared with
 * what `normalize` produced, so a formatting slip cannot hide a wrong match.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMatch, evaluate, parseExpr, type NormalizeContext } from "../../src/expr/index.js";
import { formatMatch, matchesKey, parseMatch } from "../../src/flow/index.js";

interface Case {
  readonly line: number;
  readonly expr: string;
  readonly expected: string[];
}

interface Corpus {
  readonly ctx: NormalizeContext;
  readonly cases: Case[];
}

function loadCorpus(path: string): Corpus {
  const ports = new Map<string, number>();
  const sets = new Map<string, string[]>();
  const groups = new Map<string, string[]>();
  const resident = new Set<string>();
  const cases: Case[] = [];
  let cur: Case | undefined;
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.trim() === "" || raw.startsWith("#")) return;
      if (raw.startsWith("%")) {
        const [kind, name, ...rest] = raw.slice(1).trim().split(/\s+/);
        if (kind === "port") ports.set(name!, Number(rest[0]));
        else if (kind === "set") sets.set(name!, rest);
        else if (kind === "group") groups.set(name!, rest);
        else if (kind === "resident") resident.add(name!);
        else throw new Error(`corpus line ${i + 1}: unknown directive ${kind}`);
        return;
      }
      if (raw.startsWith(" ")) {
        if (!cur) throw new Error(`corpus line ${i + 1}: expectation without an expression`);
        cur.expected.push(raw.trim());
        return;
      }
      cur = { line: i + 1, expr: raw, expected: [] };
      cases.push(cur);
    });
  const ctx: NormalizeContext = {
    portKey: (n) => ports.get(n),
    addressSet: (n) => sets.get(n),
    portGroup: (n) => groups.get(n),
    isChassisResident: (p) => resident.has(p),
  };
  return { ctx, cases };
}

const corpus = loadCorpus(resolve(import.meta.dirname, "../../fixtures/expr/corpus.txt"));

describe("expression corpus", () => {
  it("has at least 200 expressions, each with an expectation", () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(200);
    for (const c of corpus.cases) expect(c.expected.length, `line ${c.line}`).toBeGreaterThan(0);
  });

  it.each(corpus.cases.map((c) => [`${c.line}: ${c.expr}`, c] as const))("%s", (_, c) => {
    const r = compileMatch(c.expr, corpus.ctx, { file: "corpus" });
    const first = c.expected[0]!;
    const err = /^error at (\d+): (.*)$/.exec(first);
    if (err) {
      expect(r.ok, "expected an error").toBe(false);
      if (!r.ok) {
        expect(r.diags[0]!.message).toBe(err[2]);
        expect(r.diags[0]!.loc?.column).toBe(Number(err[1]));
      }
      return;
    }
    if (!r.ok) throw new Error(`unexpected error: ${r.diags[0]!.message}`);
    const got = r.value.map(formatMatch).sort();
    const want = first === "(no matches)" ? [] : [...c.expected].sort();
    expect(got).toEqual(want);
    // The expected text must describe exactly the produced matches, word for word.
    for (const text of want) {
      const p = parseMatch(text);
      expect(p.ok, text).toBe(true);
      if (p.ok) expect(formatMatch(p.match)).toBe(text);
    }
    // And each produced match must satisfy the expression when used as a key (its value), as
    // evaluation decides: a direct check that the matches are not too wide.
    const parsed = parseExpr(c.expr);
    if (parsed.ok) {
      for (const m of r.value) {
        const e = evaluate(parsed.value, m.value, corpus.ctx);
        expect(e.ok && e.value, `${formatMatch(m)} as a key`).toBe(true);
        expect(matchesKey(m, m.value)).toBe(true);
      }
    }
  });
});
