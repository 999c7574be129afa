/**
 * The standalone OVSDB database file (`ovnnb_db.db`, `ovnsb_db.db`, `conf.db`): a log of records,
 * replayed into tables.
 *
 * Format (OVS `ovsdb/log.c`, `ovsdb/file.c`): each record is a header line
 * `OVSDB JSON <length> <sha1>\n` followed by `<length>` bytes of JSON text (ending in a newline)
 * whose SHA-1, in hex, is `<sha1>`. The first record is the schema. Every later record is one
 * committed transaction: `{"<table>": {"<uuid>": row | null, ...}, "_date": ms, "_comment": text,
 * "_is_diff": bool}`. A uuid the tables do not have yet inserts a row with the columns given (the
 * others take their defaults); a uuid they have modifies it; `null` deletes it. When `_is_diff` is
 * true (OVS 2.15 and later write it), a modification carries per-column diffs rather than new
 * values: a set toggles the elements listed, a map adds, removes or replaces the keys listed, and
 * a scalar takes the value given (see `applyDiff`). A compacted file is the schema plus one
 * transaction that inserts everything.
 *
 * Checks: every header and checksum; the JSON; table and column names against the file's own
 * schema; values against the column types (in a table read only for its references, the values
 * of its reference columns: see `ReadOvsdbOptions`); after each transaction, that every strong
 * reference points at an existing row and that no deleted row is still strongly referenced (what
 * OVSDB's commit enforces). The first problem ends the read with one error naming the file, the
 * record number (1 is the schema) and the byte offset of the record's header. Nothing throws; a
 * length larger than what is left of the file is reported before anything is allocated for it.
 *
 * A clustered (raft) database (`OVSDB CLUSTER` headers) is refused with the command that makes a
 * standalone copy of it.
 */
import { createHash } from "node:crypto";
import { error, fail, ok, type Diagnostic, type Result } from "../../base/index.js";
import { shellQuote } from "../export-nbctl.js";
import type { OvsdbDatabase, OvsdbRow } from "./database.js";
import { applyDiff, checkSize, defaultDatum, isUuid, isUuidRef, isValueError, parseDatum, type Datum } from "./datum.js";
import { parseSchema, type OvsdbSchema, type TableSchema } from "./schema.js";

/** What the first bytes of a file say it is. */
export type OvsdbFileKind = "standalone" | "clustered";

/** `standalone` or `clustered` when the bytes start like an OVSDB database file. */
export function ovsdbFileKind(bytes: Uint8Array): OvsdbFileKind | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString("latin1");
  if (head.startsWith("OVSDB JSON ")) return "standalone";
  if (head.startsWith("OVSDB CLUSTER ")) return "clustered";
  return undefined;
}

/** The longest header line accepted: "OVSDB CLUSTER", a 20-digit length and a 40-digit hash fit well. */
const MAX_HEADER = 128;
const HEADER_RE = /^OVSDB (JSON|CLUSTER) ([0-9]{1,20}) ([0-9a-fA-F]{40})$/;

/** The diagnostic for a clustered database: how to make a standalone copy. */
export function clusteredDiagnostic(file: string): Diagnostic {
  return error(
    "ovsdb.clustered",
    `${file} is a clustered (raft) database, which cannot be read directly; make a standalone copy and load that: ovsdb-tool cluster-to-standalone standalone.db ${shellQuote(file)}`,
    { file, offset: 0 },
  );
}

/** One record of the log. */
export interface OvsdbRecord {
  /** 1-based; record 1 is the schema. */
  readonly index: number;
  /** Byte offset of the header line. */
  readonly offset: number;
  readonly json: unknown;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Splits the file into records, checking headers, lengths, checksums and JSON. */
export function readOvsdbRecords(bytes: Uint8Array, file: string): Result<OvsdbRecord[]> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out: OvsdbRecord[] = [];
  let off = 0;
  if (buf.length === 0) return fail(error("ovsdb.empty", `${file} is empty; an OVSDB database file starts with its schema record`, { file, offset: 0 }));
  while (off < buf.length) {
    const index = out.length + 1;
    const at = (code: string, message: string): Result<OvsdbRecord[]> => fail(error(`ovsdb.${code}`, `record ${index}: ${message}`, { file, offset: off }));
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0 || nl - off > MAX_HEADER) {
      const rest = buf.length - off;
      if (nl < 0 && rest <= MAX_HEADER && buf.subarray(off).toString("latin1").startsWith("OVSDB ")) return at("truncated", `the file ends inside the record header (${rest} bytes left)`);
      return at("header", `expected a record header "OVSDB JSON <length> <sha1>", found ${JSON.stringify(buf.subarray(off, off + 40).toString("latin1"))}`);
    }
    const header = buf.subarray(off, nl).toString("latin1");
    const m = HEADER_RE.exec(header);
    if (!m) return at("header", `expected a record header "OVSDB JSON <length> <sha1>", found ${JSON.stringify(header.slice(0, 80))}`);
    if (m[1] === "CLUSTER") return fail(clusteredDiagnostic(file));
    const length = Number(m[2]);
    const start = nl + 1;
    if (length === 0) return at("header", `a record of length 0`);
    if (length > buf.length - start) return at("truncated", `the header promises ${m[2]} bytes of data but the file has only ${buf.length - start} left (the file is truncated)`);
    const data = buf.subarray(start, start + length);
    const sha1 = createHash("sha1").update(data).digest("hex");
    if (sha1 !== m[3]!.toLowerCase()) return at("checksum", `checksum mismatch: the header says ${m[3]!.toLowerCase()} but the ${length} bytes hash to ${sha1} (the record is corrupt)`);
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      return at("json", `the record is not valid UTF-8`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return at("json", `invalid JSON: ${(e as Error).message}`);
    }
    out.push({ index, offset: off, json });
    off = start + length;
  }
  return ok(out);
}

interface MutableRow {
  readonly uuid: string;
  readonly columns: Map<string, Datum>;
}

/** A column holding strong references: the tables its keys and its values refer to (either may be absent). */
interface StrongColumn {
  readonly col: string;
  readonly keyRef: string | undefined;
  readonly valRef: string | undefined;
}

/** The columns of a table that hold strong references (its keys or its values). */
function strongColumns(ts: TableSchema): StrongColumn[] {
  const out: StrongColumn[] = [];
  for (const [col, t] of ts.columns) {
    const keyRef = t.key.refTable !== undefined && t.key.refType === "strong" ? t.key.refTable : undefined;
    const valRef = t.value?.refTable !== undefined && t.value.refType === "strong" ? t.value.refTable : undefined;
    if (keyRef !== undefined || valRef !== undefined) out.push({ col, keyRef, valRef });
  }
  return out;
}

/**
 * Calls `visit` with each strong reference of `row` (its column, the referenced table and uuid);
 * stops at, and returns, the first message `visit` returns.
 */
function eachStrongRef(cols: readonly StrongColumn[], row: MutableRow | undefined, visit: (col: string, table: string, uuid: string) => string | undefined): string | undefined {
  if (!row) return undefined;
  for (const { col, keyRef, valRef } of cols) {
    const d = row.columns.get(col);
    if (d === undefined) continue;
    if (d.kind === "set") {
      if (keyRef === undefined) continue;
      for (const a of d.items) {
        const m = isUuidRef(a) ? visit(col, keyRef, a.uuid) : undefined;
        if (m !== undefined) return m;
      }
    } else {
      for (const [k, v] of d.entries) {
        const m = (keyRef !== undefined && isUuidRef(k) ? visit(col, keyRef, k.uuid) : undefined) ?? (valRef !== undefined && isUuidRef(v) ? visit(col, valRef, v.uuid) : undefined);
        if (m !== undefined) return m;
      }
    }
  }
  return undefined;
}

/** How to read a database file. */
export interface ReadOvsdbOptions {
  /**
   * The tables to build in full. Every other table keeps only its rows' UUIDs and their
   * strong-reference columns (what the reference checks need); its other columns are not parsed
   * or type-checked, and the table is left out of the result. Default: every table, in full.
   */
  readonly tables?: ReadonlySet<string>;
}

/** Replays the transaction records into tables. */
class Replayer {
  readonly tables = new Map<string, Map<string, MutableRow>>();
  /** Incoming strong references per row uuid. */
  private readonly refCount = new Map<string, number>();

  private readonly schema: OvsdbSchema;
  private readonly file: string;
  /** The tables built in full; undefined for all. */
  private readonly full: ReadonlySet<string> | undefined;
  /** For each table not built in full, the columns it keeps (its strong references). */
  private readonly partial = new Map<string, ReadonlySet<string>>();
  /** Each table's strong-reference columns. */
  private readonly strong = new Map<string, readonly StrongColumn[]>();

  constructor(schema: OvsdbSchema, file: string, full?: ReadonlySet<string>) {
    this.schema = schema;
    this.file = file;
    this.full = full;
    for (const [name, ts] of schema.tables) {
      this.tables.set(name, new Map());
      const strong = strongColumns(ts);
      this.strong.set(name, strong);
      if (full !== undefined && !full.has(name)) this.partial.set(name, new Set(strong.map((c) => c.col)));
    }
  }

  /** Applies one transaction; an error message on failure. */
  apply(txn: unknown): { code: string; message: string } | undefined {
    if (!isObject(txn)) return { code: "bad-transaction", message: "a transaction must be a JSON object" };
    const isDiff = txn._is_diff === true;
    const changed = new Map<string, { table: string; before: MutableRow | undefined }>();
    for (const [tname, tjson] of Object.entries(txn)) {
      if ((tname === "_date" && typeof tjson === "number") || tname === "_comment" || (tname === "_is_diff" && typeof tjson === "boolean")) continue;
      const ts = this.schema.tables.get(tname);
      if (!ts) return { code: "unknown-table", message: `unknown table "${tname}": the file's schema ${this.schema.name} has no such table` };
      if (!isObject(tjson)) return { code: "bad-transaction", message: `table ${tname}: expected an object of rows by uuid` };
      const table = this.tables.get(tname)!;
      for (const [rawUuid, rjson] of Object.entries(tjson)) {
        if (!isUuid(rawUuid)) return { code: "bad-transaction", message: `table ${tname}: "${rawUuid}" is not a UUID` };
        const uuid = rawUuid.toLowerCase();
        const existing = table.get(uuid);
        if (!changed.has(uuid)) changed.set(uuid, { table: tname, before: existing });
        if (rjson === null) {
          if (!existing) return { code: "missing-row", message: `deletes ${tname} row ${uuid}, which does not exist` };
          table.delete(uuid);
          continue;
        }
        if (!isObject(rjson)) return { code: "bad-transaction", message: `${tname} row ${uuid}: a row must be a JSON object or null` };
        const columns = existing ? new Map(existing.columns) : new Map<string, Datum>();
        const kept = this.partial.get(tname);
        for (const col in rjson) {
          const cjson = rjson[col];
          const type = ts.columns.get(col);
          if (!type) return { code: "unknown-column", message: `${tname} row ${uuid}: unknown column "${col}" (not in the file's schema)` };
          if (kept !== undefined && !kept.has(col)) continue;
          const d = parseDatum(cjson, type);
          if (isValueError(d)) return { code: "bad-value", message: `${tname} row ${uuid} column ${col}: ${d.error}` };
          const v = existing && isDiff ? applyDiff(columns.get(col) ?? defaultDatum(type), d, type) : d;
          if (isValueError(v)) return { code: "bad-value", message: `${tname} row ${uuid} column ${col}: ${v.error}` };
          const size = checkSize(v, type);
          if (size) return { code: "bad-value", message: `${tname} row ${uuid} column ${col}: ${size.error}` };
          columns.set(col, v);
        }
        for (const [col, type] of ts.columns) if (!columns.has(col) && (kept === undefined || kept.has(col))) columns.set(col, defaultDatum(type));
        table.set(uuid, { uuid, columns });
      }
    }
    return this.checkRefs(changed);
  }

  private checkRefs(changed: Map<string, { table: string; before: MutableRow | undefined }>): { code: string; message: string } | undefined {
    const refCount = this.refCount;
    const down = (_c: string, _t: string, uuid: string): undefined => {
      const n = (refCount.get(uuid) ?? 0) - 1;
      if (n === 0) refCount.delete(uuid);
      else refCount.set(uuid, n);
    };
    const up = (_c: string, _t: string, uuid: string): undefined => void refCount.set(uuid, (refCount.get(uuid) ?? 0) + 1);
    for (const [uuid, { table, before }] of changed) {
      const cols = this.strong.get(table)!;
      eachStrongRef(cols, before, down);
      eachStrongRef(cols, this.tables.get(table)!.get(uuid), up);
    }
    for (const [uuid, { table, before }] of changed) {
      const after = this.tables.get(table)!.get(uuid);
      const dangling = eachStrongRef(this.strong.get(table)!, after, (col, refTable, r) =>
        this.tables.get(refTable)?.has(r) ? undefined : `${table} row ${uuid} column ${col} refers to ${refTable} row ${r}, which does not exist`,
      );
      if (dangling !== undefined) return { code: "dangling-ref", message: dangling };
      if (!after && before && (refCount.get(uuid) ?? 0) > 0) {
        return { code: "dangling-ref", message: `deletes ${table} row ${uuid} while ${refCount.get(uuid)} strong reference(s) to it remain` };
      }
    }
    return undefined;
  }

  database(): OvsdbDatabase {
    const tables = this.full === undefined ? this.tables : new Map([...this.tables].filter(([name]) => !this.partial.has(name)));
    return { file: this.file, source: "file", schema: this.schema, tables: tables as ReadonlyMap<string, ReadonlyMap<string, OvsdbRow>> };
  }
}

/**
 * Reads a standalone OVSDB database file into tables; the first problem is the error. With
 * `opts.tables`, only those tables are built (see `ReadOvsdbOptions`); headers, checksums, JSON,
 * table and column names and references are checked all the same.
 */
export function readOvsdbFile(bytes: Uint8Array, file: string, opts: ReadOvsdbOptions = {}): Result<OvsdbDatabase> {
  if (ovsdbFileKind(bytes) === "clustered") return fail(clusteredDiagnostic(file));
  const recs = readOvsdbRecords(bytes, file);
  if (!recs.ok) return recs;
  const [schemaRec, ...txns] = recs.value;
  const schema = parseSchema(schemaRec!.json);
  if (isValueError(schema)) return fail(error("ovsdb.schema", `record 1: not a database schema: ${schema.error}`, { file, offset: 0 }));
  const r = new Replayer(schema, file, opts.tables);
  for (const rec of txns) {
    const e = r.apply(rec.json);
    if (e) return fail(error(`ovsdb.${e.code}`, `record ${rec.index}: ${e.message}`, { file, offset: rec.offset }));
  }
  return ok(r.database());
}
