/**
 * OVSDB values in memory, and their JSON notation (RFC 7047 §5.1).
 *
 * What: an `Atom` is a string, a number, a boolean or a row reference (`{ uuid }`). A `Datum` is
 * what one column of one row holds: a set of atoms (a scalar column is a set of exactly one) or a
 * map from atoms to atoms. This is OVSDB's own view (every datum is an array of keys, with values
 * for maps), so optional columns, sets and scalars are read the same way.
 *
 * JSON notation: an atom is written bare (`"x"`, `5`, `true`) or as `["uuid", "<uuid>"]`; a set as
 * `["set", [atoms]]` or, with one element, as the bare atom; a map as `["map", [[k, v], ...]]`.
 * `["named-uuid", name]` exists only inside transaction requests and is refused here.
 *
 * Invariants: sets and maps are kept in OVSDB's order (sorted by key: strings byte-wise, numbers
 * numerically, false before true, uuids by their text), without duplicate keys. Parsing never
 * throws: a malformed value gives a `ValueError`.
 */
import type { BaseType, ColumnType } from "./schema.js";

/** A reference to a row by its UUID. */
export interface UuidRef {
  readonly uuid: string;
}

export type Atom = string | number | boolean | UuidRef;

export type Datum = { readonly kind: "set"; readonly items: readonly Atom[] } | { readonly kind: "map"; readonly entries: readonly (readonly [Atom, Atom])[] };

export const EMPTY_SET: Datum = { kind: "set", items: [] };
export const EMPTY_MAP: Datum = { kind: "map", entries: [] };

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** True when `s` is a UUID in its canonical text form (any case). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export function isUuidRef(a: Atom): a is UuidRef {
  return typeof a === "object";
}

/** A string that identifies an atom's value and kind, for hashing and equality. */
export function atomKey(a: Atom): string {
  if (typeof a === "string") return `s${a}`;
  if (typeof a === "number") return `n${a}`;
  if (typeof a === "boolean") return a ? "b1" : "b0";
  return `u${a.uuid}`;
}

const ASTRAL_OR_HIGH = /[\ud800-\uffff]/;

/** Byte order of the UTF-8 encodings (C's strcmp), which UTF-16 order equals below U+D800. */
function compareStrings(a: string, b: string): number {
  if (ASTRAL_OR_HIGH.test(a) || ASTRAL_OR_HIGH.test(b)) return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** OVSDB's order of atoms of one type. */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (isUuidRef(a) && isUuidRef(b)) return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
  // Atoms of different kinds never share a column; order them by kind for a total order.
  const rank = (x: Atom): number => (typeof x === "number" ? 0 : typeof x === "boolean" ? 1 : typeof x === "string" ? 2 : 3);
  return rank(a) - rank(b);
}

function sortedSet(items: Atom[]): Atom[] {
  const seen = new Map<string, Atom>();
  for (const a of items) seen.set(atomKey(a), a);
  return [...seen.values()].sort(compareAtoms);
}

function sortedMap(entries: (readonly [Atom, Atom])[]): (readonly [Atom, Atom])[] {
  const seen = new Map<string, readonly [Atom, Atom]>();
  for (const e of entries) seen.set(atomKey(e[0]), e);
  return [...seen.values()].sort((x, y) => compareAtoms(x[0], y[0]));
}

/** The default value of a column of this type: empty for optional columns, else the zero atom. */
export function defaultDatum(type: ColumnType): Datum {
  if (type.value) return EMPTY_MAP;
  if (type.min === 0) return EMPTY_SET;
  return { kind: "set", items: [zeroAtom(type.key)] };
}

function zeroAtom(b: BaseType): Atom {
  switch (b.type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return { uuid: "00000000-0000-0000-0000-000000000000" };
    default: {
      const _: never = b.type;
      return _;
    }
  }
}

/** True when a datum holds a column's default: empty, or one atom that is "", 0 or false. */
export function isDefaultDatum(d: Datum): boolean {
  if (d.kind === "map") return d.entries.length === 0;
  if (d.items.length === 0) return true;
  if (d.items.length > 1) return false;
  const a = d.items[0]!;
  return a === "" || a === 0 || a === false;
}

/** A parse failure: what is wrong with the value. */
export interface ValueError {
  readonly error: string;
}

export function isValueError(x: unknown): x is ValueError {
  return typeof x === "object" && x !== null && "error" in x;
}

const bad = (error: string): ValueError => ({ error });
const show = (json: unknown): string => (JSON.stringify(json) ?? String(json)).slice(0, 60);

/** Parses an atom written in JSON; `base` (when known) checks its type. */
export function parseAtom(json: unknown, base: BaseType | undefined): Atom | ValueError {
  if (Array.isArray(json)) {
    if (json.length === 2 && json[0] === "uuid" && typeof json[1] === "string") {
      if (!isUuid(json[1])) return bad(`"${json[1]}" is not a UUID`);
      if (base && base.type !== "uuid") return bad(`expected ${base.type}, found a uuid`);
      return { uuid: json[1].toLowerCase() };
    }
    if (json.length === 2 && json[0] === "named-uuid") return bad(`["named-uuid", ...] is only valid inside a transaction request, not in a stored database`);
    return bad(`expected an atom, found ${show(json)}`);
  }
  switch (typeof json) {
    case "string":
      if (base && base.type !== "string") return bad(`expected ${base.type}, found a string`);
      return json;
    case "number":
      if (base && base.type !== "integer" && base.type !== "real") return bad(`expected ${base.type}, found a number`);
      if (base?.type === "integer" && !Number.isInteger(json)) return bad(`expected an integer, found ${json}`);
      return json;
    case "boolean":
      if (base && base.type !== "boolean") return bad(`expected ${base.type}, found a boolean`);
      return json;
    default:
      return bad(`expected an atom, found ${show(json)}`);
  }
}

/**
 * Parses a datum written in JSON. With a column type, the notation must fit it (a map column
 * takes `["map", ...]`, atoms have the column's base types); without one (a dump with no schema),
 * the notation alone decides. Size limits are not checked here: a diff may break them.
 */
export function parseDatum(json: unknown, type: ColumnType | undefined): Datum | ValueError {
  if (Array.isArray(json) && json.length === 2 && json[0] === "map") {
    if (type && !type.value) return bad(`expected a set or atom, found a map`);
    if (!Array.isArray(json[1])) return bad(`a map must be ["map", [[key, value], ...]]`);
    const entries: (readonly [Atom, Atom])[] = [];
    for (const pair of json[1] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) return bad(`a map entry must be [key, value], found ${show(pair)}`);
      const k = parseAtom(pair[0], type?.key);
      if (isValueError(k)) return bad(`map key: ${k.error}`);
      const v = parseAtom(pair[1], type?.value);
      if (isValueError(v)) return bad(`map value: ${v.error}`);
      entries.push([k, v]);
    }
    return { kind: "map", entries: sortedMap(entries) };
  }
  if (type?.value) return bad(`expected a map, found ${show(json)}`);
  if (Array.isArray(json) && json.length === 2 && json[0] === "set") {
    if (!Array.isArray(json[1])) return bad(`a set must be ["set", [atoms]]`);
    const items: Atom[] = [];
    for (const x of json[1] as unknown[]) {
      const a = parseAtom(x, type?.key);
      if (isValueError(a)) return a;
      items.push(a);
    }
    return { kind: "set", items: sortedSet(items) };
  }
  const a = parseAtom(json, type?.key);
  if (isValueError(a)) return a;
  return { kind: "set", items: [a] };
}

/**
 * Applies a column diff as the OVSDB file format defines it. A scalar column (at most one
 * element) takes the diff as its new value. For a set, each diff element toggles: present ones
 * are removed, absent ones added. For a map, a diff key absent from the old map is added, one
 * present with the same value is removed, and one present with another value is replaced.
 */
export function applyDiff(old: Datum, diff: Datum, type: ColumnType): Datum | ValueError {
  if (type.max <= 1) return diff;
  if (old.kind === "set" && diff.kind === "set") {
    const out = new Map<string, Atom>(old.items.map((a) => [atomKey(a), a]));
    for (const a of diff.items) {
      const k = atomKey(a);
      if (out.has(k)) out.delete(k);
      else out.set(k, a);
    }
    const items = [...out.values()].sort(compareAtoms);
    if (items.length < type.min || items.length > type.max) return bad(`the diff leaves ${items.length} elements; the column takes ${sizeText(type)}`);
    return { kind: "set", items };
  }
  if (old.kind === "map" && diff.kind === "map") {
    const out = new Map<string, readonly [Atom, Atom]>(old.entries.map((e) => [atomKey(e[0]), e]));
    for (const e of diff.entries) {
      const k = atomKey(e[0]);
      const had = out.get(k);
      if (had === undefined) out.set(k, e);
      else if (atomKey(had[1]) === atomKey(e[1])) out.delete(k);
      else out.set(k, e);
    }
    const entries = [...out.values()].sort((x, y) => compareAtoms(x[0], y[0]));
    if (entries.length < type.min || entries.length > type.max) return bad(`the diff leaves ${entries.length} entries; the column takes ${sizeText(type)}`);
    return { kind: "map", entries };
  }
  return bad(`a ${diff.kind} diff cannot apply to a ${old.kind}`);
}

function sizeText(type: ColumnType): string {
  return `${type.min}..${type.max === Infinity ? "unlimited" : type.max}`;
}

/** Checks a complete (non-diff) datum against its column's size limits. */
export function checkSize(d: Datum, type: ColumnType): ValueError | undefined {
  const n = d.kind === "set" ? d.items.length : d.entries.length;
  if (n < type.min || n > type.max) return bad(`${n} elements; the column takes ${sizeText(type)}`);
  return undefined;
}

/** The UUIDs a datum refers to, keys and values. */
export function refsOf(d: Datum): string[] {
  const out: string[] = [];
  if (d.kind === "set") {
    for (const a of d.items) if (isUuidRef(a)) out.push(a.uuid);
  } else {
    for (const [k, v] of d.entries) {
      if (isUuidRef(k)) out.push(k.uuid);
      if (isUuidRef(v)) out.push(v.uuid);
    }
  }
  return out;
}

/** Renders an atom for messages. */
export function formatAtom(a: Atom): string {
  return isUuidRef(a) ? a.uuid : typeof a === "string" ? JSON.stringify(a) : String(a);
}
