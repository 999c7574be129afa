/**
 * An OVSDB database in memory: tables of rows, as read from a database file or a dump, and typed
 * accessors for reading columns.
 *
 * What: `OvsdbDatabase` holds each table as a map from row UUID to row, in the order the rows
 * first appeared (in a database file, the order of the transactions that inserted them, which is
 * the order they were created in; in a dump, the dump's order). A row holds only the columns its
 * source gave; an absent column has its type's default, which every accessor returns for it.
 *
 * Accessors read a column as the model wants it (one string, a list of strings, a string map, an
 * integer, a boolean, row references) and return undefined or empty for defaults, never throwing.
 */
import { isUuidRef, type Datum } from "./datum.js";
import type { OvsdbSchema } from "./schema.js";

export interface OvsdbRow {
  readonly uuid: string;
  readonly columns: ReadonlyMap<string, Datum>;
}

export type OvsdbTable = ReadonlyMap<string, OvsdbRow>;

export interface OvsdbDatabase {
  /** Where it was read from (for messages). */
  readonly file: string;
  /** "file" for a standalone database file, "dump" for `ovsdb-client dump -f json` output. */
  readonly source: "file" | "dump";
  /** The schema stored in a database file; a dump carries none. */
  readonly schema: OvsdbSchema | undefined;
  /** Table name → rows by UUID. A dump lists its empty tables too. */
  readonly tables: ReadonlyMap<string, OvsdbTable>;
}

const EMPTY: OvsdbTable = new Map();

/** The rows of a table (none when the table is absent). */
export function rowsOf(db: OvsdbDatabase, table: string): OvsdbTable {
  return db.tables.get(table) ?? EMPTY;
}

/** Which database this is: the schema's name, or for a dump a guess from its tables. */
export function databaseName(db: OvsdbDatabase): string | undefined {
  if (db.schema) return db.schema.name;
  if (db.tables.has("Logical_Switch") || db.tables.has("NB_Global")) return "OVN_Northbound";
  if (db.tables.has("Port_Binding") || db.tables.has("SB_Global")) return "OVN_Southbound";
  if (db.tables.has("Open_vSwitch")) return "Open_vSwitch";
  return undefined;
}

/** A column's value as a string, when it holds exactly one string (or number). */
export function getString(row: OvsdbRow, col: string): string | undefined {
  const d = row.columns.get(col);
  if (!d || d.kind !== "set" || d.items.length !== 1) return undefined;
  const a = d.items[0]!;
  if (typeof a === "string") return a;
  if (typeof a === "number") return String(a);
  return undefined;
}

/** A column's strings (a set column), in the column's order. */
export function getStrings(row: OvsdbRow, col: string): string[] {
  const d = row.columns.get(col);
  if (!d || d.kind !== "set") return [];
  return d.items.filter((a): a is string => typeof a === "string");
}

/** A column's integer, when it holds exactly one. */
export function getInt(row: OvsdbRow, col: string): number | undefined {
  const d = row.columns.get(col);
  if (!d || d.kind !== "set" || d.items.length !== 1) return undefined;
  const a = d.items[0]!;
  return typeof a === "number" ? a : undefined;
}

/** A column's boolean, when it holds exactly one. */
export function getBool(row: OvsdbRow, col: string): boolean | undefined {
  const d = row.columns.get(col);
  if (!d || d.kind !== "set" || d.items.length !== 1) return undefined;
  const a = d.items[0]!;
  return typeof a === "boolean" ? a : undefined;
}

/** A string→string map column, in key order; entries of other types are left out. */
export function getStringMap(row: OvsdbRow, col: string): [string, string][] {
  const d = row.columns.get(col);
  if (!d || d.kind !== "map") return [];
  const out: [string, string][] = [];
  for (const [k, v] of d.entries) if (typeof k === "string" && typeof v === "string") out.push([k, v]);
  return out;
}

/** The UUIDs in a reference column, in the column's (UUID) order. */
export function getRefs(row: OvsdbRow, col: string): string[] {
  const d = row.columns.get(col);
  if (!d || d.kind !== "set") return [];
  const out: string[] = [];
  for (const a of d.items) if (isUuidRef(a)) out.push(a.uuid);
  return out;
}
