/**
 * What the OVSDB tests import: the readers through the scenario folder's public index, and a column
 * type parser for building types by hand.
 */
import { parseSchema, type ColumnType } from "../../src/scenario/index.js";

export * from "../../src/scenario/index.js";

/** Parses one column type by wrapping it in a one-table schema. */
export function parseColumnTypeForTest(type: unknown): ColumnType {
  const s = parseSchema({ name: "T", tables: { T: { columns: { c: { type } } } } });
  if ("error" in s) throw new Error(s.error);
  return s.tables.get("T")!.columns.get("c")!;
}
