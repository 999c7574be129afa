/**
 * `ovsdb-client dump -f json` output, read into the same tables as a database file.
 *
 * Shape (checked against ovsdb-client 3.1): one JSON object per table, one after another (one per
 * line, or pretty-printed), each `{"caption": "<Table> table", "headings": ["_uuid", columns...],
 * "data": [[values...], ...]}`. Values are in OVSDB JSON notation; every column of every row is
 * present. Rows keep the dump's order (ovsdb-client sorts them by their non-uuid columns).
 *
 * A dump carries no schema, so values are read by their notation alone, and references are not
 * checked here (the Northbound mapping reports any it cannot resolve). Errors (invalid JSON, a
 * table object without caption, headings or data, a bad value) name the file with line and column.
 */
import { error, fail, ok, type Diagnostic, type Result } from "../../base/index.js";
import type { OvsdbDatabase, OvsdbRow } from "./database.js";
import { isUuid, isValueError, parseDatum, type Datum } from "./datum.js";

/** True when the text starts like `ovsdb-client dump -f json` output. */
export function looksLikeOvsdbDump(text: string): boolean {
  return /^\s*\{\s*"(caption|headings|data)"\s*:/.test(text.slice(0, 200));
}

/** Line and column (1-based) of a character offset. */
function lineCol(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf("\n"); i >= 0 && i < at; i = text.indexOf("\n", i + 1)) {
    line++;
    last = i;
  }
  return { line, column: at - last };
}

/** Splits text into top-level JSON values (objects or arrays); the end of each, or an error position. */
function splitValues(text: string): { values: [number, number][]; error?: { at: number; message: string } } {
  const values: [number, number][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const start = i;
    const c = text[i];
    if (c !== "{" && c !== "[") return { values, error: { at: i, message: `expected a JSON object, found ${JSON.stringify(text.slice(i, i + 20))}` } };
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === "\\") i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0) return { values, error: { at: start, message: "the JSON value is not closed (the dump is truncated)" } };
    values.push([start, i]);
  }
  return { values };
}

/** Reads `ovsdb-client dump -f json` output; the first problem is the error. */
export function readOvsdbDump(text: string, file: string): Result<OvsdbDatabase> {
  const at = (offset: number, code: string, message: string): Diagnostic => error(`ovsdb.${code}`, message, { loc: { file, ...lineCol(text, offset) } });
  const split = splitValues(text);
  if (split.error) return fail(at(split.error.at, "json", split.error.message));
  if (split.values.length === 0) return fail(at(0, "empty", `${file} holds no table`));
  const tables = new Map<string, Map<string, OvsdbRow>>();
  for (const [start, end] of split.values) {
    let json: unknown;
    try {
      json = JSON.parse(text.slice(start, end));
    } catch (e) {
      return fail(at(start, "json", `invalid JSON: ${(e as Error).message}`));
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(at(start, "dump", "expected a table object {caption, headings, data}"));
    const o = json as Record<string, unknown>;
    const m = typeof o.caption === "string" ? /^(\S+) table$/.exec(o.caption) : null;
    if (!m) return fail(at(start, "dump", `a table object needs "caption": "<Table> table" (ovsdb-client dump -f json writes it)`));
    const name = m[1]!;
    if (!Array.isArray(o.headings) || !o.headings.every((h) => typeof h === "string")) return fail(at(start, "dump", `table ${name}: "headings" must be a list of column names (do not use --no-headings)`));
    const headings = o.headings as string[];
    const uuidCol = headings.indexOf("_uuid");
    if (uuidCol < 0) return fail(at(start, "dump", `table ${name}: no _uuid column (dump every column)`));
    if (!Array.isArray(o.data)) return fail(at(start, "dump", `table ${name}: "data" must be a list of rows`));
    if (tables.has(name)) return fail(at(start, "dump", `table ${name} appears twice`));
    const rows = new Map<string, OvsdbRow>();
    for (const [ri, rjson] of (o.data as unknown[]).entries()) {
      if (!Array.isArray(rjson) || rjson.length !== headings.length) return fail(at(start, "dump", `table ${name} row ${ri + 1}: expected ${headings.length} values, one per heading`));
      const u = rjson[uuidCol];
      if (!Array.isArray(u) || u[0] !== "uuid" || typeof u[1] !== "string" || !isUuid(u[1])) return fail(at(start, "dump", `table ${name} row ${ri + 1}: _uuid is not ["uuid", "<uuid>"]`));
      const uuid = u[1].toLowerCase();
      const columns = new Map<string, Datum>();
      for (const [ci, col] of headings.entries()) {
        if (col === "_uuid" || col === "_version") continue;
        const d = parseDatum(rjson[ci], undefined);
        if (isValueError(d)) return fail(at(start, "bad-value", `table ${name} row ${uuid} column ${col}: ${d.error}`));
        columns.set(col, d);
      }
      rows.set(uuid, { uuid, columns });
    }
    tables.set(name, rows);
  }
  return ok({ file, source: "dump", schema: undefined, tables });
}
