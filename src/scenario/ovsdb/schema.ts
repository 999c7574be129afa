/**
 * OVSDB schemas (RFC 7047 §3.2), as far as reading stored data needs them.
 *
 * What: `parseSchema` reads the schema record of a database file: its name and version, and per
 * table the columns with their types (atomic key and value types, reference table and strength,
 * size limits) and whether the table is a root table. Constraints on atom values (enums, ranges,
 * string lengths) are not kept: stored data has already passed them.
 *
 * Invariants: `max` is `Infinity` for "unlimited"; `refType` is "strong" unless the schema says
 * "weak" (the RFC's default); every table has the implicit `_uuid` and `_version` columns out of
 * the map. Never throws: a malformed schema gives a `ValueError`.
 */
import type { ValueError } from "./datum.js";

export type AtomicType = "integer" | "real" | "boolean" | "string" | "uuid";

export interface BaseType {
  readonly type: AtomicType;
  /** For uuid atoms: the table the referenced rows are in. */
  readonly refTable?: string;
  readonly refType: "strong" | "weak";
}

export interface ColumnType {
  readonly key: BaseType;
  /** Present for map columns. */
  readonly value?: BaseType;
  readonly min: number;
  readonly max: number;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnType>;
  /** Rows of a non-root table live only while a strong reference holds them. */
  readonly isRoot: boolean;
}

export interface OvsdbSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
}

const ATOMIC: ReadonlySet<string> = new Set(["integer", "real", "boolean", "string", "uuid"]);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function parseBase(json: unknown, where: string): BaseType | ValueError {
  if (typeof json === "string") {
    if (!ATOMIC.has(json)) return { error: `${where}: "${json}" is not an atomic type` };
    return { type: json as AtomicType, refType: "strong" };
  }
  if (!isObject(json) || typeof json.type !== "string" || !ATOMIC.has(json.type)) return { error: `${where}: expected an atomic type` };
  const refTable = typeof json.refTable === "string" ? json.refTable : undefined;
  return { type: json.type as AtomicType, ...(refTable !== undefined ? { refTable } : {}), refType: json.refType === "weak" ? "weak" : "strong" };
}

/** Parses a column's `type`. */
export function parseColumnType(json: unknown, where: string): ColumnType | ValueError {
  if (typeof json === "string") {
    const key = parseBase(json, where);
    return "error" in key ? key : { key, min: 1, max: 1 };
  }
  if (!isObject(json)) return { error: `${where}: a column type must be a string or an object` };
  const key = parseBase(json.key, `${where} key`);
  if ("error" in key) return key;
  let value: BaseType | undefined;
  if (json.value !== undefined) {
    const v = parseBase(json.value, `${where} value`);
    if ("error" in v) return v;
    value = v;
  }
  const min = json.min === undefined ? 1 : json.min;
  const max = json.max === undefined ? 1 : json.max === "unlimited" ? Infinity : json.max;
  if ((min !== 0 && min !== 1) || typeof max !== "number" || !(max >= 1) || (Number.isFinite(max) && !Number.isInteger(max))) return { error: `${where}: bad min/max` };
  return { key, ...(value ? { value } : {}), min, max };
}

/** Parses a database schema. */
export function parseSchema(json: unknown): OvsdbSchema | ValueError {
  if (!isObject(json)) return { error: "the schema must be a JSON object" };
  if (typeof json.name !== "string") return { error: `the schema has no "name"` };
  if (!isObject(json.tables)) return { error: `the schema has no "tables" object` };
  const tables = new Map<string, TableSchema>();
  for (const [tname, tjson] of Object.entries(json.tables)) {
    if (!isObject(tjson) || !isObject(tjson.columns)) return { error: `table ${tname}: no "columns" object` };
    const columns = new Map<string, ColumnType>();
    for (const [cname, cjson] of Object.entries(tjson.columns)) {
      if (!isObject(cjson)) return { error: `column ${tname}.${cname}: not an object` };
      const t = parseColumnType(cjson.type, `column ${tname}.${cname}`);
      if ("error" in t) return t;
      columns.set(cname, t);
    }
    tables.set(tname, { name: tname, columns, isRoot: tjson.isRoot === true });
  }
  return { name: json.name, version: typeof json.version === "string" ? json.version : "", tables };
}
