/**
 * Normalization: an OVN match expression to a disjunction of (value, mask) matches over the flow
 * key (`flow/match.ts`).
 *
 * What: `normalize(expr, ctx)` returns matches `m1..mn` such that a key satisfies the expression
 * exactly when it matches some `mi`. The steps are OVN's (lib/expr.c), aimed at a plain
 * disjunction instead of OpenFlow conjunctive flows:
 * 1. lower (`lower.ts`): resolve `$sets`/`@groups`, push `!` down, expand value sets;
 * 2. annotate: subfields to root fields, predicates to their expansions, add prerequisites;
 * 3. comparisons become masked equalities: `==` is one match; `!=` is one match per masked bit,
 *    each requiring that bit to differ; `<`, `<=`, `>`, `>=` become OVN's minimal set of masked
 *    prefixes (`tcp.dst > 1000` is `tcp.dst == 1001 || tcp.dst == 0x3ea/0xfffe || ...`);
 *    `is_chassis_resident()` is decided by the context; a port name becomes its tunnel key, and
 *    an unknown port never matches (as in OVN);
 * 4. `&&` is a cross product and `||` a union, computed as "this expression AND the matches so
 *    far", so that contradictions (`intersect` fails) are pruned as early as possible; the cheap,
 *    single-match terms of a conjunction are applied first;
 * 5. duplicates and matches subsumed by a wider one are dropped, and the result is sorted (mask,
 *    then value, word by word), so equal expressions give equal lists.
 *
 * Bounds: `maxMatches` (default 10,000) caps every intermediate and final list, and `maxWork`
 * (default 2,000,000) caps the number of match intersections; going over either is a diagnostic
 * ("Expression expands to more than 10000 matches."), never an out-of-memory or a hang.
 *
 * Not done: OpenFlow conjunctive matches (`conjunction(id, k/n)`); a product of two large sets is
 * therefore its full cross product here, and may hit the bound where OVN would not.
 */
import { error, fail, ok, type Loc, type Result } from "../base/index.js";
import { catchAll, constrainWide, field as layoutField, KEY_WORDS, type FieldDef, type Match } from "../flow/index.js";
import type { Expr } from "./ast.js";
import { bigintToWords, bitRange, contiguousRun, ones, testBit } from "./bits.js";
import { annotateCore, lowerExpr, type Core, type ExprContext } from "./lower.js";
import { parseExpr, type ParseOptions } from "./parser.js";
import { compareWidth, SYMBOLS, type FieldSymbol, type SymbolTable } from "./symbols.js";

/** The context of `normalize` (and of `evaluate`): ports, address sets, port groups, residency. */
export type NormalizeContext = ExprContext;

export interface NormalizeOptions {
  /** Most matches any step may produce. Default 10,000. */
  readonly maxMatches?: number;
  /** Most match intersections in all. Default 2,000,000. */
  readonly maxWork?: number;
  readonly symbols?: SymbolTable;
}

export const DEFAULT_MAX_MATCHES = 10_000;
export const DEFAULT_MAX_WORK = 2_000_000;

/** Above this many distinct masks, subsumed matches are left in (the check is quadratic in masks). */
const SUBSUMPTION_MAX_MASKS = 512;

/** A match touching few words, kept sparse: parallel arrays of word index, value and mask. */
interface Atom {
  readonly words: readonly number[];
  readonly value: readonly number[];
  readonly mask: readonly number[];
}

const TRUE_ATOM: Atom = { words: [], value: [], mask: [] };

class Overflow {
  readonly code: string;
  readonly message: string;
  constructor(code: string, message: string) {
    this.code = code;
    this.message = message;
  }
}

/**
 * A match under construction, with an additive hash: the sum over words of a term that depends
 * on the word's index, value and mask (zero for an unmasked word). Adding an atom's words to a
 * match updates the hash in O(atom) instead of O(key). An entry is never changed once made, so
 * lists may share it.
 */
interface Entry extends Match {
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
  readonly h: number;
}

function wordHash(i: number, v: number, m: number): number {
  if (m === 0) return 0;
  let x = Math.imul(v ^ Math.imul(i + 1, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(m + i, 0xc2b2ae35);
  x ^= x >>> 15;
  return Math.imul(x, 0x27d4eb2f);
}

function entryOf(value: Uint32Array, mask: Uint32Array): Entry {
  let h = 0;
  for (let i = 0; i < KEY_WORDS; i++) h = (h + wordHash(i, value[i]!, mask[i]!)) | 0;
  return { value, mask, h };
}

function sameMatch(a: Match, b: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a.mask[i] !== b.mask[i] || a.value[i] !== b.value[i]) return false;
  return true;
}

/** The match of every key, where each normalization starts (never changed, as no entry is). */
const TOP: Entry = entryOf(new Uint32Array(KEY_WORDS), new Uint32Array(KEY_WORDS));

/** A set of matches without duplicates, in insertion order. */
class MatchSet {
  private readonly byHash = new Map<number, Entry[]>();
  readonly list: Entry[] = [];

  add(m: Entry): void {
    const bucket = this.byHash.get(m.h);
    if (bucket) {
      for (const x of bucket) if (sameMatch(x, m)) return;
      bucket.push(m);
    } else this.byHash.set(m.h, [m]);
    this.list.push(m);
  }
}

/** A zero match used to build atoms; every use leaves it zero again. */
const SCRATCH = catchAll();

/** The atom of constraining field `def` to `value`/`mask` (word arrays, as `constrainWide` takes). */
function constrainedAtom(def: FieldDef, value: readonly number[], mask: readonly number[]): Atom {
  const sv = SCRATCH.value as Uint32Array;
  const sm = SCRATCH.mask as Uint32Array;
  constrainWide(SCRATCH, def, value, mask);
  const words: number[] = [];
  const av: number[] = [];
  const am: number[] = [];
  for (let w = def.word; w < def.word + def.nwords; w++) {
    if (sm[w] !== 0) {
      words.push(w);
      av.push(sv[w]!);
      am.push(sm[w]!);
    }
    sv[w] = 0;
    sm[w] = 0;
  }
  return { words, value: av, mask: am };
}

/** `root == value/mask` (in the symbol's bit positions) as an atom, or undefined if impossible. */
function fieldAtom(root: FieldSymbol, value: bigint, mask: bigint): Atom | undefined {
  const stored = ones(root.bits);
  // Bits beyond the stored ones read as zero: requiring a one there can never match.
  if ((value & mask & ~stored) !== 0n) return undefined;
  const def = layoutField(root.layout);
  const shift = BigInt(root.layoutOfs);
  return constrainedAtom(def, bigintToWords((value & mask & stored) << shift, def.nwords), bigintToWords((mask & stored) << shift, def.nwords));
}

/** The atoms of `field != value/mask`: one per masked bit, each requiring that bit to differ. */
function notEqualAtoms(root: FieldSymbol, value: bigint, mask: bigint, width: number): Atom[] {
  const out: Atom[] = [];
  for (let i = 0; i < width; i++) {
    if (!testBit(mask, i)) continue;
    const bit = 1n << BigInt(i);
    const a = fieldAtom(root, testBit(value, i) ? 0n : bit, bit);
    if (a) out.push(a);
  }
  return out;
}

/** OVN's expansion of `<`, `<=`, `>`, `>=` into masked equalities over the compared bit range. */
function relationalAtoms(root: FieldSymbol, op: "<" | "<=" | ">" | ">=", value: bigint, mask: bigint, width: number): Atom[] {
  const run = contiguousRun(mask, width) ?? { ofs: 0, n: width };
  const start = run.ofs;
  const end = start + run.n;
  const lt = op === "<" || op === "<=";
  const eq = op === "<=" || op === ">=";
  let hasTarget = false;
  for (let i = start; i < end; i++) if (testBit(value, i) !== lt) hasTarget = true;
  if (!hasTarget) {
    // `x <= max` and `x >= 0` always hold; `x < max` and `x > 0` are `x != max`, `x != 0`.
    return eq ? [TRUE_ATOM] : notEqualAtoms(root, value, mask, width);
  }
  const out: Atom[] = [];
  const add = (v: bigint, m: bigint): void => {
    const a = fieldAtom(root, v, m);
    if (a) out.push(a);
  };
  if (eq) add(value, mask);
  for (let z = start; z < end; z++) {
    if (testBit(value, z) !== lt) continue;
    const below = bitRange(start, z - start);
    add((value ^ (1n << BigInt(z))) & ~below, mask & ~below);
  }
  return out;
}

class Normalizer {
  private work = 0;
  private readonly ctx: NormalizeContext;
  private readonly maxMatches: number;
  private readonly maxWork: number;

  constructor(ctx: NormalizeContext, maxMatches: number, maxWork: number) {
    this.ctx = ctx;
    this.maxMatches = maxMatches;
    this.maxWork = maxWork;
  }

  private checkSize(n: number): void {
    if (n > this.maxMatches) throw new Overflow("expr.too-many-matches", `Expression expands to more than ${this.maxMatches} matches.`);
  }

  private atoms(e: Core & { kind: "cmp" | "scmp" }): Atom[] {
    if (e.kind === "scmp") {
      const key = this.ctx.portKey?.(e.port);
      if (key === undefined) return [];
      const reg = layoutField(e.symbol.layout);
      if (e.op === "==") return [constrainedAtom(reg, [key >>> 0], [0xffffffff])];
      if (e.op !== "!=") throw new Overflow("expr.type", `Only == and != may compare string field ${e.symbol.name}.`);
      const out: Atom[] = [];
      for (let i = 0; i < 32; i++) {
        const bit = (1 << i) >>> 0;
        out.push(constrainedAtom(reg, [(key & bit) === 0 ? bit : 0], [bit]));
      }
      return out;
    }
    const s = e.symbol;
    if (s.kind !== "field") throw new Error(`invariant failed: comparison on ${s.kind} ${s.name} after annotation`);
    const width = compareWidth(s);
    const mask = e.mask & ones(width);
    switch (e.op) {
      case "==": {
        const a = fieldAtom(s, e.value, mask);
        return a ? [a] : [];
      }
      case "!=":
        return notEqualAtoms(s, e.value, mask, width);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return relationalAtoms(s, e.op, e.value & mask, mask, width);
      default: {
        const _never: never = e.op;
        return _never;
      }
    }
  }

  /** `acc` AND each atom, deduplicated. */
  private product(acc: readonly Entry[], atoms: readonly Atom[]): Entry[] {
    const out = new MatchSet();
    for (const a of acc) {
      for (const t of atoms) {
        if (++this.work > this.maxWork) throw new Overflow("expr.too-complex", `Expression needs more than ${this.maxWork} steps to normalize.`);
        let clash = false;
        let implied = true;
        for (let k = 0; k < t.words.length; k++) {
          const w = t.words[k]!;
          if (((a.value[w]! ^ t.value[k]!) & a.mask[w]! & t.mask[k]!) !== 0) {
            clash = true;
            break;
          }
          if ((a.mask[w]! & t.mask[k]!) !== t.mask[k]!) implied = false;
        }
        if (clash) continue;
        // The atom adds nothing to `a` (entries are never changed once made): `a` itself.
        if (implied) {
          out.add(a);
          this.checkSize(out.list.length);
          continue;
        }
        // Value and mask share one buffer: one allocation per match instead of two.
        const buf = new ArrayBuffer(KEY_WORDS * 8);
        const value = new Uint32Array(buf, 0, KEY_WORDS);
        const mask = new Uint32Array(buf, KEY_WORDS * 4, KEY_WORDS);
        value.set(a.value);
        mask.set(a.mask);
        let h = a.h;
        for (let k = 0; k < t.words.length; k++) {
          const w = t.words[k]!;
          h = (h - wordHash(w, value[w]!, mask[w]!)) | 0;
          value[w] = (value[w]! | t.value[k]!) >>> 0;
          mask[w] = (mask[w]! | t.mask[k]!) >>> 0;
          h = (h + wordHash(w, value[w]!, mask[w]!)) | 0;
        }
        out.add({ value, mask, h });
        this.checkSize(out.list.length);
      }
    }
    return out.list;
  }

  /** Cost class of a conjunct: cheap single-match terms first. */
  private rank(e: Core): number {
    switch (e.kind) {
      case "bool":
      case "cond":
        return 0;
      case "cmp":
      case "scmp":
        return e.op === "==" ? 1 : 2;
      case "or":
        return 3;
      case "and":
        return 4;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }

  /** The matches of `e AND (some match of acc)`. */
  conj(e: Core, acc: readonly Entry[]): readonly Entry[] {
    if (acc.length === 0) return acc;
    switch (e.kind) {
      case "bool":
        return e.value ? acc : [];
      case "cond": {
        const resident = this.ctx.isChassisResident?.(e.port) ?? false;
        return resident !== e.not ? acc : [];
      }
      case "cmp":
      case "scmp":
        return this.product(acc, this.atoms(e));
      case "or": {
        const out = new MatchSet();
        for (const a of e.args) {
          for (const m of this.conj(a, acc)) out.add(m);
          this.checkSize(out.list.length);
        }
        return out.list;
      }
      case "and": {
        const args = [...e.args].sort((x, y) => this.rank(x) - this.rank(y));
        let cur = acc;
        for (const a of args) {
          cur = this.conj(a, cur);
          if (cur.length === 0) break;
        }
        return cur;
      }
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }
}

function compareWords(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < KEY_WORDS; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** Drops every match that a match with a narrower mask already covers, then sorts. */
export function dropSubsumed(matches: readonly Match[]): Match[] {
  if (matches.length < 2) return [...matches];
  interface Group {
    readonly mask: Uint32Array;
    /** Indices of the mask's nonzero words. */
    readonly words: number[];
    /** Values by a hash over `words`. */
    readonly values: Map<number, Uint32Array[]>;
    readonly members: Match[];
  }
  const hashOver = (v: Uint32Array, words: readonly number[], mask?: Uint32Array): number => {
    let h = 0;
    for (const w of words) h = (Math.imul(h, 31) + (mask ? v[w]! & mask[w]! : v[w]!)) | 0;
    return h;
  };
  const groups: Group[] = [];
  const byMask = new Map<number, Group[]>();
  for (const m of matches) {
    const words: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (m.mask[i] !== 0) words.push(i);
    const mh = hashOver(m.mask, words);
    let g = byMask.get(mh)?.find((x) => compareWords(x.mask, m.mask) === 0);
    if (!g) {
      g = { mask: m.mask, words, values: new Map(), members: [] };
      groups.push(g);
      const list = byMask.get(mh);
      if (list) list.push(g);
      else byMask.set(mh, [g]);
    }
    g.members.push(m);
    const vh = hashOver(m.value, g.words);
    const vl = g.values.get(vh);
    if (vl) vl.push(m.value);
    else g.values.set(vh, [m.value]);
  }
  let kept: Match[];
  if (groups.length === 1 || groups.length > SUBSUMPTION_MAX_MASKS) kept = [...matches];
  else {
    kept = [];
    for (const g of groups) {
      const wider = groups.filter((o) => o !== g && o.words.length <= g.words.length && o.words.every((w) => (o.mask[w]! & ~g.mask[w]!) === 0));
      for (const m of g.members) {
        const covered = wider.some((o) => {
          const bucket = o.values.get(hashOver(m.value, o.words, o.mask));
          return bucket !== undefined && bucket.some((v) => o.words.every((w) => v[w] === (m.value[w]! & o.mask[w]!)));
        });
        if (!covered) kept.push(m);
      }
    }
  }
  // Words that are zero in every mask and value compare equal: the sort looks at the others only.
  const used: number[] = [];
  for (let i = 0; i < KEY_WORDS; i++) if (kept.some((m) => m.mask[i] !== 0 || m.value[i] !== 0)) used.push(i);
  const compareUsed = (a: Uint32Array, b: Uint32Array): number => {
    for (const i of used) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return 0;
  };
  return kept.sort((a, b) => compareUsed(a.mask, b.mask) || compareUsed(a.value, b.value));
}

/** Normalizes an already lowered and annotated expression. `loc` locates bound errors. */
export function normalizeCore(core: Core, ctx: NormalizeContext = {}, opts: NormalizeOptions = {}, loc?: Loc): Result<Match[]> {
  const n = new Normalizer(ctx, opts.maxMatches ?? DEFAULT_MAX_MATCHES, opts.maxWork ?? DEFAULT_MAX_WORK);
  try {
    const found = n.conj(core, [TOP]);
    // The catch-all entry is shared between calls: a result that is it gets arrays of its own.
    return ok(dropSubsumed(found).map((m) => (m === TOP ? catchAll() : { value: m.value, mask: m.mask })));
  } catch (x) {
    if (x instanceof Overflow) return fail(error(x.code, x.message, loc ? { loc } : {}));
    throw x;
  }
}

/** An expression as a disjunction of matches over the flow key (see the module comment). */
export function normalize(expr: Expr, ctx: NormalizeContext = {}, opts: NormalizeOptions = {}): Result<Match[]> {
  const lowered = lowerExpr(expr, ctx);
  if (!lowered.ok) return lowered;
  const annotated = annotateCore(lowered.value, opts.symbols ?? SYMBOLS, expr.loc);
  if (!annotated.ok) return annotated;
  return normalizeCore(annotated.value, ctx, opts, expr.loc);
}

/** Parses and normalizes in one step. */
export function compileMatch(text: string, ctx: NormalizeContext = {}, opts: NormalizeOptions & ParseOptions = {}): Result<Match[]> {
  const p = parseExpr(text, opts.file, opts);
  if (!p.ok) return p;
  return normalize(p.value, ctx, opts);
}
