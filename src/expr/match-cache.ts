/**
 * A cache for `compileMatch` over many flows that share match texts (the same logical flow on
 * every datapath of a network).
 *
 * What: `MatchCache.compile(text, ctx, opts)` returns exactly what `compileMatch(text, ctx, opts)`
 * returns. It keeps, per match text, the parsed, lowered and annotated `Core`, and per (text,
 * context answers) the normalized matches. The context answers are what normalization asks the
 * context for: the tunnel key of each port a string comparison names (`ctx.portKey`) and the
 * residency of each port an `is_chassis_resident()` names (see `contextAnswers`). Two datapaths
 * whose ports have different names but the same keys therefore share one normalization.
 *
 * Invariants: one cache serves one lowering context: every call passes the same `addressSet` and
 * `portGroup` answers (lowering reads those, and the cached `Core` depends on them) and the same
 * bounds and symbol table. Only successes are cached; a text that fails at any step is compiled
 * again without the cache, so its diagnostics name the flow at hand (their `loc.file`). The
 * returned matches are shared between callers with the same key and must not be mutated (the
 * rule builder copies them).
 */
import { ok, type Result } from "../base/index.js";
import type { Match } from "../flow/index.js";
import { annotateCore, lowerExpr, type Core } from "./lower.js";
import { compileMatch, normalizeCore, type NormalizeContext, type NormalizeOptions } from "./normalize.js";
import { parseExpr, type ParseOptions } from "./parser.js";
import { SYMBOLS } from "./symbols.js";

/**
 * What a `Core`'s normalization depends on beyond the `Core` itself, as one string: the tree's
 * shape with each string comparison replaced by its field, operator and port key, and each
 * `is_chassis_resident()` by its answer.
 *
 * A string comparison on an unknown port yields no match and costs no work, so inside an `||` it
 * changes nothing and is left out: a port group's comparisons on another datapath's ports do not
 * make the key differ between datapaths. Everything else keeps its position (numeric comparisons
 * and constants as one letter each, since the text fixes them), so equal strings mean equal
 * normalizations, bounds and work included.
 */
function contextAnswers(core: Core, ctx: NormalizeContext): string {
  let out = "";
  const walk = (e: Core, inOr: boolean): void => {
    switch (e.kind) {
      case "scmp": {
        const key = ctx.portKey?.(e.port);
        if (key === undefined && inOr) return;
        out += `${e.symbol.name}${e.op}${String(key)},`;
        return;
      }
      case "cond":
        out += (ctx.isChassisResident?.(e.port) ?? false) ? "r," : "n,";
        return;
      case "and":
      case "or":
        out += e.kind === "and" ? "&(" : "|(";
        for (const a of e.args) walk(a, e.kind === "or");
        out += "),";
        return;
      case "cmp":
      case "bool":
        out += "c,";
        return;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  };
  walk(core, false);
  return out;
}

/** Results longer than this many matches are kept only for the latest context of their text. */
const BIG = 64;

/** `compileMatch` with the work shared between flows of the same text (see the module comment). */
export class MatchCache {
  /** Annotated cores by match text; absent when the text has not been seen or failed. */
  private readonly cores = new Map<string, Core>();
  /** Normalized matches by text and context answers. */
  private readonly results = new Map<string, readonly Match[]>();
  /** Per text, the key of its one kept result longer than `BIG` (see `compile`). */
  private readonly bigKey = new Map<string, string>();

  compile(text: string, ctx: NormalizeContext = {}, opts: NormalizeOptions & ParseOptions = {}): Result<readonly Match[]> {
    const core = this.coreOf(text, ctx, opts);
    if (core === undefined) return compileMatch(text, ctx, opts);
    const key = `${text}\u0000${contextAnswers(core, ctx)}`;
    const hit = this.results.get(key);
    if (hit !== undefined) return ok(hit);
    const n = normalizeCore(core, ctx, opts);
    if (!n.ok) return compileMatch(text, ctx, opts);
    // A long result (a port group times an address set) usually differs between datapaths, as
    // their port keys do: only the latest one of each text is kept, to bound the memory held.
    if (n.value.length > BIG) {
      const old = this.bigKey.get(text);
      if (old !== undefined) this.results.delete(old);
      this.bigKey.set(text, key);
    }
    this.results.set(key, n.value);
    return n;
  }

  /**
   * The errors `compile` would give that do not depend on the datapath: the text parses, its
   * address sets and port groups exist, its fields and types fit. What only normalization finds
   * (a comparison a string field does not take, an expansion past the bounds) is left to
   * `compile`. Keeps the text's core for it.
   */
  check(text: string, ctx: NormalizeContext = {}, opts: NormalizeOptions & ParseOptions = {}): Result<true> {
    if (this.coreOf(text, ctx, opts) !== undefined) return ok(true);
    const r = compileMatch(text, ctx, opts);
    return r.ok ? ok(true) : r;
  }

  /** The text's annotated core, made once; undefined when a step fails (`compileMatch` says why). */
  private coreOf(text: string, ctx: NormalizeContext, opts: ParseOptions): Core | undefined {
    let core = this.cores.get(text);
    if (core !== undefined) return core;
    const p = parseExpr(text, opts.file, opts);
    if (!p.ok) return undefined;
    const lowered = lowerExpr(p.value, ctx);
    if (!lowered.ok) return undefined;
    const annotated = annotateCore(lowered.value, opts.symbols ?? SYMBOLS, p.value.loc);
    if (!annotated.ok) return undefined;
    core = annotated.value;
    this.cores.set(text, core);
    return core;
  }
}
