/**
 * The OVSDB readers: the standalone database file (records, checksums, transaction replay with
 * column diffs, reference checks), `ovsdb-client dump -f json` output, and every damaged-file case,
 * each of which must be one diagnostic naming the file, the record number and the byte offset,
 * never an exception. Column diffs are checked against a reference written from OVSDB's definition
 * of a diff (ovsdb_datum_diff), and the real databases recorded from OVN against ovsdb-client's own
 * dump of them.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, type Result } from "../../src/base/index.js";
import {
  applyDiff,
  detectInputKind,
  getString,
  loadNetworkFile,
  loadNetworkText,
  loadOvsdbNetwork,
  parseColumnTypeForTest,
  readOvsdbDump,
  readOvsdbFile,
  readOvsdbRecords,
  type Atom,
  type Datum,
  type OvsdbDatabase,
  type Scenario,
} from "./ovsdb-helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURES = join(ROOT, "fixtures/ovsdb");

/** One log record: header and body, with the body's real SHA-1. */
function rec(json: string): Buffer {
  const data = Buffer.from(json + "\n", "utf8");
  const sha = createHash("sha1").update(data).digest("hex");
  return Buffer.concat([Buffer.from(`OVSDB JSON ${data.length} ${sha}\n`, "latin1"), data]);
}

const U = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

/** A small schema with every kind of column. */
const SCHEMA = JSON.stringify({
  name: "Test",
  version: "1.0.0",
  tables: {
    Parent: {
      isRoot: true,
      columns: {
        name: { type: "string" },
        kids: { type: { key: { type: "uuid", refTable: "Kid" }, min: 0, max: "unlimited" } },
        fav: { type: { key: { type: "uuid", refTable: "Kid", refType: "weak" }, min: 0, max: 1 } },
        tags: { type: { key: "string", min: 0, max: "unlimited" } },
        opts: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
        n: { type: "integer" },
        flag: { type: { key: "boolean", min: 0, max: 1 } },
      },
    },
    Kid: { columns: { name: { type: "string" } } },
  },
});

function db(...txns: unknown[]): Buffer {
  return Buffer.concat([rec(SCHEMA), ...txns.map((t) => rec(typeof t === "string" ? t : JSON.stringify(t)))]);
}

function mustRead(r: Result<OvsdbDatabase>): OvsdbDatabase {
  if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
  return r.value;
}

function errorOf<T>(r: Result<T>): { code: string; message: string; file?: string; offset?: number } {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error("unreachable");
  expect(r.diags).toHaveLength(1);
  return r.diags[0]!;
}

/** A column as plain data: sets as arrays, maps as entry arrays, uuids as "u:<uuid>". */
function plainDatum(d: Datum | undefined): unknown {
  const a = (x: Atom): unknown => (typeof x === "object" ? `u:${x.uuid}` : x);
  if (!d) return undefined;
  return d.kind === "set" ? d.items.map(a) : d.entries.map(([k, v]) => [a(k), a(v)]);
}

function rowPlain(d: OvsdbDatabase, table: string, uuid: string): Record<string, unknown> | undefined {
  const r = d.tables.get(table)?.get(uuid);
  return r ? Object.fromEntries([...r.columns].map(([k, v]) => [k, plainDatum(v)])) : undefined;
}

describe("standalone database file: replay", () => {
  it("inserts with defaults, applies column diffs, replaces without _is_diff, deletes", () => {
    const bytes = db(
      { Kid: { [U(1)]: { name: "a" }, [U(2)]: { name: "b" } }, Parent: { [U(10)]: { name: "p", kids: ["set", [["uuid", U(1)], ["uuid", U(2)]]], tags: ["set", ["x", "y"]], opts: ["map", [["k1", "v1"], ["k2", "v2"]]] } }, _date: 1, _comment: "first" },
      // A diff: the set toggles b off and z on, the map removes k1 (same value), replaces k2, adds k3; a scalar is replaced.
      { _is_diff: true, Parent: { [U(10)]: { kids: ["uuid", U(2)], tags: ["set", ["x", "z"]], opts: ["map", [["k1", "v1"], ["k2", "w2"], ["k3", "v3"]]], n: 5, flag: true } }, Kid: { [U(2)]: null } },
      // Not a diff: the values given replace the column.
      { Parent: { [U(10)]: { tags: ["set", ["only"]] } } },
    );
    const d = mustRead(readOvsdbFile(bytes, "t.db"));
    expect(d.schema?.name).toBe("Test");
    expect(rowPlain(d, "Parent", U(10))).toEqual({ name: ["p"], kids: [`u:${U(1)}`], fav: [], tags: ["only"], opts: [["k2", "w2"], ["k3", "v3"]], n: [5], flag: [true] });
    expect([...d.tables.get("Kid")!.keys()]).toEqual([U(1)]);
    // A fresh insert takes every column's default.
    const d2 = mustRead(readOvsdbFile(db({ Parent: { [U(11)]: {} } }), "t.db"));
    expect(rowPlain(d2, "Parent", U(11))).toEqual({ name: [""], kids: [], fav: [], tags: [], opts: [], n: [0], flag: [] });
  });

  it("keeps rows in the order they were created; a modification does not move a row", () => {
    const bytes = db({ Parent: { [U(3)]: { name: "c" } } }, { Parent: { [U(1)]: { name: "a" } } }, { _is_diff: true, Parent: { [U(3)]: { name: "c2" } } }, { Parent: { [U(2)]: { name: "b" } } });
    const d = mustRead(readOvsdbFile(bytes, "t.db"));
    expect([...d.tables.get("Parent")!.keys()]).toEqual([U(3), U(1), U(2)]);
  });

  it("a weak reference to a missing row is allowed (OVSDB drops it), a strong one is not", () => {
    expect(readOvsdbFile(db({ Parent: { [U(1)]: { fav: ["uuid", U(99)] } } }), "t.db").ok).toBe(true);
    const first = { Kid: { [U(5)]: { name: "k" } } };
    const e = errorOf(readOvsdbFile(db(first, { Parent: { [U(1)]: { kids: ["set", [["uuid", U(5)], ["uuid", U(99)]]] } } }), "dangling.db"));
    expect(e.code).toBe("ovsdb.dangling-ref");
    expect(e.message).toMatch(/^record 3: Parent row .* column kids refers to Kid row 00000000-0000-4000-8000-000000000063, which does not exist/);
    expect(e.file).toBe("dangling.db");
    expect(e.offset).toBe(rec(SCHEMA).length + rec(JSON.stringify(first)).length);
  });

  it("deleting a row that is still strongly referenced, or one that does not exist, is an error", () => {
    const still = errorOf(readOvsdbFile(db({ Kid: { [U(5)]: { name: "k" } }, Parent: { [U(1)]: { kids: ["uuid", U(5)] } } }, { Kid: { [U(5)]: null } }), "t.db"));
    expect(still.code).toBe("ovsdb.dangling-ref");
    expect(still.message).toMatch(/^record 3: deletes Kid row .* while 1 strong reference\(s\) to it remain/);
    const missing = errorOf(readOvsdbFile(db({ Kid: { [U(5)]: null } }), "t.db"));
    expect(missing.code).toBe("ovsdb.missing-row");
    expect(missing.message).toMatch(/^record 2: deletes Kid row/);
  });
});

describe("standalone database file: reading only some tables", () => {
  const only = (...names: string[]): { tables: ReadonlySet<string> } => ({ tables: new Set(names) });

  it("the tables asked for are built exactly as a full read builds them; the others are left out", () => {
    const bytes = db(
      { Kid: { [U(1)]: { name: "a" }, [U(2)]: { name: "b" } }, Parent: { [U(10)]: { name: "p", kids: ["set", [["uuid", U(1)], ["uuid", U(2)]]], opts: ["map", [["k", "v"]]] } } },
      { _is_diff: true, Parent: { [U(10)]: { kids: ["uuid", U(2)], n: 3 } }, Kid: { [U(2)]: null } },
    );
    const full = mustRead(readOvsdbFile(bytes, "t.db"));
    const kids = mustRead(readOvsdbFile(bytes, "t.db", only("Kid")));
    expect([...kids.tables.keys()]).toEqual(["Kid"]);
    expect([...kids.tables.get("Kid")!.keys()]).toEqual([U(1)]);
    expect(rowPlain(kids, "Kid", U(1))).toEqual(rowPlain(full, "Kid", U(1)));
    const parents = mustRead(readOvsdbFile(bytes, "t.db", only("Parent")));
    expect([...parents.tables.keys()]).toEqual(["Parent"]);
    expect(rowPlain(parents, "Parent", U(10))).toEqual({ name: ["p"], kids: [`u:${U(1)}`], fav: [], tags: [], opts: [["k", "v"]], n: [3], flag: [] });
  });

  it("references from and to a table left out are still checked", () => {
    // Parent is read only for its references: a dangling strong reference in it is an error.
    const dangling = errorOf(readOvsdbFile(db({ Kid: { [U(5)]: { name: "k" } } }, { Parent: { [U(1)]: { kids: ["set", [["uuid", U(5)], ["uuid", U(99)]]] } } }), "t.db", only("Kid")));
    expect(dangling.code).toBe("ovsdb.dangling-ref");
    expect(dangling.message).toMatch(/^record 3: Parent row .* column kids refers to Kid row 00000000-0000-4000-8000-000000000063, which does not exist/);
    // Deleting a Kid that a left-out Parent still references.
    const still = errorOf(readOvsdbFile(db({ Kid: { [U(5)]: { name: "k" } }, Parent: { [U(1)]: { kids: ["uuid", U(5)] } } }, { Kid: { [U(5)]: null } }), "t.db", only("Kid")));
    expect(still.message).toMatch(/^record 3: deletes Kid row .* while 1 strong reference\(s\) to it remain/);
    // A reference into a left-out table: the row must exist there, and may not be deleted while referenced.
    const intoMissing = errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { kids: ["uuid", U(7)] } } }), "t.db", only("Parent")));
    expect(intoMissing.code).toBe("ovsdb.dangling-ref");
    expect(readOvsdbFile(db({ Kid: { [U(7)]: {} }, Parent: { [U(1)]: { kids: ["uuid", U(7)] } } }), "t.db", only("Parent")).ok).toBe(true);
    const delLeftOut = errorOf(readOvsdbFile(db({ Kid: { [U(7)]: {} }, Parent: { [U(1)]: { kids: ["uuid", U(7)] } } }, { Kid: { [U(7)]: null } }), "t.db", only("Parent")));
    expect(delLeftOut.message).toMatch(/^record 3: deletes Kid row .* while 1 strong reference\(s\) to it remain/);
    // A diff to a left-out table's reference column is applied: removing the reference allows the delete.
    expect(readOvsdbFile(db({ Kid: { [U(5)]: {} }, Parent: { [U(1)]: { kids: ["uuid", U(5)] } } }, { _is_diff: true, Parent: { [U(1)]: { kids: ["uuid", U(5)] } }, Kid: { [U(5)]: null } }), "t.db", only("Kid")).ok).toBe(true);
  });

  it("structure, names and reference values are checked in a left-out table; its other values are not read", () => {
    expect(errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { nosuch: 1 } } }), "t.db", only("Kid"))).code).toBe("ovsdb.unknown-column");
    expect(errorOf(readOvsdbFile(db({ Parent: { "not-a-uuid": {} } }), "t.db", only("Kid"))).code).toBe("ovsdb.bad-transaction");
    expect(errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { kids: "x" } } }), "t.db", only("Kid"))).code).toBe("ovsdb.bad-value");
    expect(errorOf(readOvsdbFile(db({ Kid: { [U(1)]: null } }), "t.db", only("Parent"))).code).toBe("ovsdb.missing-row");
    // A wrong type in a column that is not a reference is not looked at when the table is left out.
    const wrong = db({ Parent: { [U(1)]: { name: 5 } } });
    expect(errorOf(readOvsdbFile(wrong, "t.db")).code).toBe("ovsdb.bad-value");
    expect(readOvsdbFile(wrong, "t.db", only("Kid")).ok).toBe(true);
  });

  it("on real Northbound files, a partial read builds the same rows as a full one", () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".nb.db"));
    const wanted = ["Logical_Switch", "Logical_Switch_Port", "Logical_Router"];
    for (const f of files) {
      const bytes = readFileSync(join(FIXTURES, f));
      const full = mustRead(readOvsdbFile(bytes, f));
      const part = mustRead(readOvsdbFile(bytes, f, only(...wanted)));
      expect([...part.tables.keys()].sort(), f).toEqual(wanted.filter((t) => full.tables.has(t)).sort());
      for (const t of part.tables.keys()) {
        expect([...part.tables.get(t)!.keys()], `${f} ${t}`).toEqual([...full.tables.get(t)!.keys()]);
        for (const uuid of part.tables.get(t)!.keys()) expect(rowPlain(part, t, uuid), `${f} ${t} ${uuid}`).toEqual(rowPlain(full, t, uuid));
      }
    }
  });
});

describe("column diffs against OVSDB's definition", () => {
  const entriesOf = (d: Datum): [string, string][] => (d.kind === "map" ? d.entries.map(([k, v]): [string, string] => [String(k), String(v)]) : []);

  /** ovsdb_datum_diff: for a set the symmetric difference; for a map, changed and removed keys with the new (else old) value. */
  function referenceDiff(oldD: Datum, newD: Datum): Datum {
    if (oldD.kind === "set" && newD.kind === "set") {
      const o = new Set(oldD.items as string[]);
      const n = new Set(newD.items as string[]);
      return { kind: "set", items: [...[...o].filter((x) => !n.has(x)), ...[...n].filter((x) => !o.has(x))].sort() };
    }
    const o = new Map(entriesOf(oldD));
    const n = new Map(entriesOf(newD));
    const out: [string, string][] = [];
    for (const [k, v] of o) if (!n.has(k)) out.push([k, v]);
    for (const [k, v] of n) if (o.get(k) !== v) out.push([k, v]);
    return { kind: "map", entries: out.sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
  }

  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const randSet = (): Datum => ({ kind: "set", items: [...new Set(Array.from({ length: rand(6) }, () => `e${rand(8)}`))].sort() });
  const randMap = (): Datum => ({ kind: "map", entries: [...new Map(Array.from({ length: rand(6) }, () => [`k${rand(8)}`, `v${rand(3)}`] as [string, string]))].sort((a, b) => (a[0] < b[0] ? -1 : 1)) });
  const setType = parseColumnTypeForTest({ key: "string", min: 0, max: "unlimited" });
  const mapType = parseColumnTypeForTest({ key: "string", value: "string", min: 0, max: "unlimited" });

  it("applying the diff of (old, new) to old gives new, for 500 random sets and maps", () => {
    for (let i = 0; i < 500; i++) {
      const [oldD, newD, type] = i % 2 === 0 ? [randSet(), randSet(), setType] : [randMap(), randMap(), mapType];
      const got = applyDiff(oldD, referenceDiff(oldD, newD), type);
      expect(got, JSON.stringify({ oldD, newD })).toEqual(newD);
    }
  });

  it("through a database file too", () => {
    const oldD = randMap();
    const newD = randMap();
    const toJson = (d: Datum) => ["map", entriesOf(d)];
    const d = mustRead(readOvsdbFile(db({ Parent: { [U(1)]: { opts: toJson(oldD) } } }, { _is_diff: true, Parent: { [U(1)]: { opts: toJson(referenceDiff(oldD, newD)) } } }), "t.db"));
    expect(d.tables.get("Parent")!.get(U(1))!.columns.get("opts")).toEqual(newD);
  });
});

describe("real databases made by OVN", () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".nb.db"))
    .sort();

  it("there are recordings to check", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
  });

  it.each(fixtures)("%s replays to exactly what ovsdb-client dumped from the live server", (f) => {
    const fromFile = mustRead(readOvsdbFile(readFileSync(join(FIXTURES, f)), f));
    const dumpName = f.replace(/\.nb\.db$/, ".nb.json");
    const fromDump = mustRead(readOvsdbDump(readFileSync(join(FIXTURES, dumpName), "utf8"), dumpName));
    expect([...fromFile.tables.keys()].sort()).toEqual([...fromDump.tables.keys()].sort());
    let rows = 0;
    for (const [table, dumped] of fromDump.tables) {
      const replayed = fromFile.tables.get(table)!;
      expect([...replayed.keys()].sort(), table).toEqual([...dumped.keys()].sort());
      for (const uuid of dumped.keys()) {
        rows++;
        const want = rowPlain(fromDump, table, uuid)!;
        // A dump writes an empty map as ["map", []] and an empty set as ["set", []]: both are empty.
        expect(rowPlain(fromFile, table, uuid), `${table} ${uuid}`).toEqual(want);
      }
    }
    expect(rows).toBeGreaterThan(5);
  });
});

describe("damaged database files: one diagnostic with the record number and offset, never a throw", () => {
  const good = readFileSync(join(FIXTURES, "kube-ovn-default.nb.db"));
  const recs = readOvsdbRecords(good, "good.db");
  if (!recs.ok) throw new Error("the fixture must read");
  const offsets = recs.value.map((r) => r.offset);
  const k = 5; // a transaction record in the middle
  const start = offsets[k - 1]!;
  const bodyStart = good.indexOf(0x0a, start) + 1;

  it("a truncated record", () => {
    const e = errorOf(readOvsdbFile(good.subarray(0, bodyStart + 10), "cut.db"));
    expect(e.code).toBe("ovsdb.truncated");
    expect(e.message).toMatch(new RegExp(`^record ${k}: the header promises \\d+ bytes of data but the file has only 10 left`));
    expect(e.file).toBe("cut.db");
    expect(e.offset).toBe(start);
    const inHeader = errorOf(readOvsdbFile(good.subarray(0, start + 15), "cut.db"));
    expect(inHeader.code).toBe("ovsdb.truncated");
    expect(inHeader.message).toMatch(new RegExp(`^record ${k}: the file ends inside the record header`));
    expect(inHeader.offset).toBe(start);
  });

  it("a bad checksum", () => {
    const bad = Buffer.from(good);
    const at = good.indexOf("_date", bodyStart);
    bad[at] = "X".charCodeAt(0);
    const e = errorOf(readOvsdbFile(bad, "flip.db"));
    expect(e.code).toBe("ovsdb.checksum");
    expect(e.message).toMatch(new RegExp(`^record ${k}: checksum mismatch`));
    expect(e.offset).toBe(start);
  });

  it("invalid JSON with a correct checksum", () => {
    const bytes = Buffer.concat([good.subarray(0, start), rec('{"Logical_Switch": {')]);
    const e = errorOf(readOvsdbFile(bytes, "json.db"));
    expect(e.code).toBe("ovsdb.json");
    expect(e.message).toMatch(new RegExp(`^record ${k}: invalid JSON`));
    expect(e.offset).toBe(start);
  });

  it("an unknown table, and an unknown column", () => {
    const t = errorOf(readOvsdbFile(Buffer.concat([good, rec(JSON.stringify({ No_Such_Table: { [U(1)]: {} } }))]), "t.db"));
    expect(t.code).toBe("ovsdb.unknown-table");
    expect(t.message).toBe(`record ${offsets.length + 1}: unknown table "No_Such_Table": the file's schema OVN_Northbound has no such table`);
    expect(t.offset).toBe(good.length);
    const c = errorOf(readOvsdbFile(Buffer.concat([good, rec(JSON.stringify({ Logical_Switch: { [U(1)]: { colour: "red" } } }))]), "t.db"));
    expect(c.code).toBe("ovsdb.unknown-column");
    expect(c.message).toMatch(/unknown column "colour"/);
  });

  it("a dangling strong reference in a real schema (a switch's port that does not exist)", () => {
    const e = errorOf(readOvsdbFile(Buffer.concat([good, rec(JSON.stringify({ Logical_Switch: { [U(1)]: { name: "x", ports: ["uuid", U(2)] } } }))]), "t.db"));
    expect(e.code).toBe("ovsdb.dangling-ref");
    expect(e.message).toMatch(new RegExp(`^record ${offsets.length + 1}: Logical_Switch row ${U(1)} column ports refers to Logical_Switch_Port row ${U(2)}, which does not exist`));
    expect(e.offset).toBe(good.length);
  });

  it("values of the wrong type, and named-uuid", () => {
    const e = errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { n: "five" } } }), "t.db"));
    expect(e.code).toBe("ovsdb.bad-value");
    expect(e.message).toMatch(/^record 2: Parent row .* column n: expected integer, found a string/);
    const m = errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { kids: ["named-uuid", "k"] } } }), "t.db"));
    expect(m.message).toMatch(/named-uuid/);
    const size = errorOf(readOvsdbFile(db({ Parent: { [U(1)]: { flag: ["set", [true, false]] } } }), "t.db"));
    expect(size.message).toMatch(/column flag: 2 elements; the column takes 0..1/);
  });

  it("a length field larger than the file is an error, not an allocation", () => {
    const sha = "0".repeat(40);
    const e = errorOf(readOvsdbFile(Buffer.concat([rec(SCHEMA), Buffer.from(`OVSDB JSON 99999999999999999 ${sha}\n{}`)]), "huge.db"));
    expect(e.code).toBe("ovsdb.truncated");
    expect(e.message).toMatch(/^record 2: the header promises 99999999999999999\d* bytes/);
    expect(e.offset).toBe(rec(SCHEMA).length);
  });

  it("garbage after a record, an empty file, a schema that is not one", () => {
    const g = errorOf(readOvsdbFile(Buffer.concat([rec(SCHEMA), Buffer.from("hello world\n")]), "g.db"));
    expect(g.code).toBe("ovsdb.header");
    expect(g.message).toMatch(/^record 2: expected a record header/);
    expect(errorOf(readOvsdbFile(Buffer.alloc(0), "e.db")).code).toBe("ovsdb.empty");
    const s = errorOf(readOvsdbFile(rec('{"tables": 5}'), "s.db"));
    expect(s.code).toBe("ovsdb.schema");
    expect(s.message).toMatch(/^record 1: not a database schema/);
  });

  it("a clustered database is refused with the command that makes a standalone copy", () => {
    const clustered = Buffer.concat([Buffer.from(`OVSDB CLUSTER 2 ${"0".repeat(40)}\n`), Buffer.from("{}")]);
    const e = errorOf(readOvsdbFile(clustered, "/data/ovnnb_db.db"));
    expect(e.code).toBe("ovsdb.clustered");
    expect(e.message).toContain("ovsdb-tool cluster-to-standalone standalone.db /data/ovnnb_db.db");
    const viaLoader = errorOf(loadNetworkText(clustered.toString("latin1"), "my nb.db"));
    expect(viaLoader.message).toContain("ovsdb-tool cluster-to-standalone standalone.db 'my nb.db'");
  });

  it("random damage never throws and always names a record and an offset", () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(good);
      let bytes: Buffer;
      switch (i % 3) {
        case 0:
          bytes = b.subarray(0, rand(b.length));
          break;
        case 1:
          b[rand(b.length)] = rand(256);
          bytes = b;
          break;
        default: {
          const at = rand(b.length);
          bytes = Buffer.concat([b.subarray(0, at), Buffer.from([rand(256), rand(256)]), b.subarray(at)]);
        }
      }
      let r: Result<OvsdbDatabase> | undefined;
      expect(() => (r = readOvsdbFile(bytes, "fuzz.db"))).not.toThrow();
      if (r && !r.ok) {
        failures++;
        const d = r.diags[0]!;
        expect(d.file).toBe("fuzz.db");
        expect(typeof d.offset).toBe("number");
        if (d.code !== "ovsdb.empty" && d.code !== "ovsdb.clustered") expect(d.message).toMatch(/^record \d+: /);
      }
    }
    expect(failures).toBeGreaterThan(200);
  });
});

describe("ovsdb-client dump -f json", () => {
  it("reads every table, empty ones included", () => {
    const text = readFileSync(join(FIXTURES, "gateway-nat.nb.json"), "utf8");
    const d = mustRead(readOvsdbDump(text, "d.json"));
    expect(d.source).toBe("dump");
    expect(d.tables.get("Logical_Switch")!.size).toBe(3);
    expect(d.tables.has("Meter")).toBe(true);
    // Pretty-printed (several lines per table) reads the same.
    const pretty = text
      .trim()
      .split("\n")
      .map((l) => JSON.stringify(JSON.parse(l), null, 2))
      .join("\n");
    expect(mustRead(readOvsdbDump(pretty, "p.json")).tables).toEqual(d.tables);
  });

  it("errors carry the line and column", () => {
    const bad = '{"caption":"A table","headings":["_uuid","x"],"data":[]}\n{"caption":"B table","headings":["_uuid","x"],"data":[[["uuid","' + U(1) + '"], 1, 2]]}\n';
    const e = readOvsdbDump(bad, "bad.json");
    expect(e.ok).toBe(false);
    if (!e.ok) {
      expect(e.diags[0]!.loc).toEqual({ file: "bad.json", line: 2, column: 1 });
      expect(e.diags[0]!.message).toBe("table B row 1: expected 2 values, one per heading");
    }
    const cut = readOvsdbDump('{"caption":"A table","headings":["_uuid"],"data":[\n', "cut.json");
    expect(cut.ok === false && cut.diags[0]!.message).toMatch(/not closed/);
    const noCaption = readOvsdbDump('{"headings":["_uuid"],"data":[]}', "n.json");
    expect(noCaption.ok === false && noCaption.diags[0]!.message).toMatch(/caption/);
    const json = readOvsdbDump('{"caption":"A table",,}', "j.json");
    expect(json.ok === false && json.diags[0]!.code).toBe("ovsdb.json");
  });
});

describe("as a network input", () => {
  const nbDb = join(FIXTURES, "gateway-nat.nb.db");
  const nbDump = join(FIXTURES, "gateway-nat.nb.json");
  const sbDump = join(FIXTURES, "gateway-nat.sb.json");

  it("a database file and a JSON dump are detected by content", () => {
    expect(detectInputKind(readFileSync(nbDb, "latin1"))).toBe("nb-database");
    expect(detectInputKind(readFileSync(nbDump, "utf8"))).toBe("nb-database");
    expect(detectInputKind("name: x\n")).toBe("scenario");
    const viaText = loadNetworkText(readFileSync(nbDump, "utf8"), "nb.json");
    expect(viaText.ok).toBe(true);
  });

  it("the Southbound given as the network is refused, pointing at --sb; --sb with a scenario too", () => {
    const e = errorOf(loadNetworkFile(sbDump));
    expect(e.code).toBe("nb.wrong-database");
    expect(e.message).toMatch(/OVN_Southbound database, not OVN_Northbound; give the Northbound database, and this one with --sb/);
    const y = errorOf(loadNetworkFile(join(ROOT, "scenarios/gateway-nat.yaml"), { sb: sbDump }));
    expect(y.code).toBe("input.sb-without-nb");
    const nbAsSb = errorOf(loadNetworkFile(nbDb, { sb: nbDump }));
    expect(nbAsSb.code).toBe("sb.wrong-database");
  });
});

/** Appends transactions to a real Northbound file (its own schema) and loads it. */
function loadNbWith(...txns: unknown[]): Result<Scenario> {
  const base = readFileSync(join(FIXTURES, "kube-ovn-default.nb.db"));
  return loadOvsdbNetwork({ bytes: Buffer.concat([base, ...txns.map((t) => rec(JSON.stringify(t)))]), file: "nb.db" });
}

function lspUuid(name: string): string {
  const d = mustRead(readOvsdbFile(readFileSync(join(FIXTURES, "kube-ovn-default.nb.db")), "x"));
  for (const r of d.tables.get("Logical_Switch_Port")!.values()) if (getString(r, "name") === name) return r.uuid;
  throw new Error(name);
}

function switchUuid(name: string): string {
  const d = mustRead(readOvsdbFile(readFileSync(join(FIXTURES, "kube-ovn-default.nb.db")), "x"));
  for (const r of d.tables.get("Logical_Switch")!.values()) if (getString(r, "name") === name) return r.uuid;
  throw new Error(name);
}

describe("Northbound mapping: what does not fit is counted, never dropped silently", () => {
  it("unmodelled tables, columns and options are warnings with counts; unknown options are kept as data", () => {
    const web1 = lspUuid("web-1.default");
    const web2 = lspUuid("web-2.default");
    const r = loadNbWith(
      {
        Meter_Band: { [U(1)]: { action: "drop", rate: 10, burst_size: 1 } },
        Meter: { [U(2)]: { name: "m1", unit: "pktps", bands: ["uuid", U(1)] }, [U(3)]: { name: "m2", unit: "pktps", bands: ["uuid", U(1)] } },
        DHCP_Options: { [U(4)]: { cidr: "10.16.0.0/16", options: ["map", [["router", "10.16.0.1"]]] } },
      },
      { _is_diff: true, Logical_Switch_Port: { [web1]: { dhcpv4_options: ["uuid", U(4)], options: ["map", [["foo", "bar"]]] }, [web2]: { options: ["map", [["foo", "baz"]]] } } },
    );
    if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
    const messages = r.value.warnings!.map((w) => w.message).sort();
    expect(messages).toEqual(
      [
        "NB DHCP_Options: 1 row not modelled",
        "NB Logical_Switch_Port column dhcpv4_options: set on 1 row, not modelled",
        "NB Logical_Switch_Port options:foo: set on 2 rows, not modelled (kept as data)",
        "NB Meter: 2 rows not modelled",
        "NB Meter_Band: 1 row not modelled",
      ].sort(),
    );
    expect(r.value.warnings!.every((w) => w.severity === "warning" && w.file === "nb.db")).toBe(true);
    expect(r.value.network.switches.get("ovn-default")!.ports.get("web-1.default")!.options.get("foo")).toBe("bar");
  });

  it("load balancer options the compiler reads (affinity_timeout, hairpin_snat_ip) are no warning; others are", () => {
    const lbs = mustRead(readOvsdbFile(readFileSync(join(FIXTURES, "kube-ovn-default.nb.db")), "x")).tables.get("Load_Balancer")!;
    const [uuid, row] = [...lbs.entries()][0]!;
    const name = getString(row, "name")!;
    const r = loadNbWith({}, { _is_diff: true, Load_Balancer: { [uuid]: { options: ["map", [["affinity_timeout", "60"], ["hairpin_snat_ip", "169.254.0.1"], ["frobnicate", "yes"]]] } } });
    if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
    expect(r.value.warnings!.map((w) => w.message)).toEqual(["NB Load_Balancer options:frobnicate: set on 1 row, not modelled (kept as data)"]);
    expect(r.value.network.loadBalancers.get(name)!.options.get("affinity_timeout")).toBe("60");
  });

  it("dynamic addresses, load balancer groups, a policy's single nexthop, vtep ports and unnamed switches", () => {
    const web1 = lspUuid("web-1.default");
    const sw = switchUuid("ovn-default");
    const lbs = mustRead(readOvsdbFile(readFileSync(join(FIXTURES, "kube-ovn-default.nb.db")), "x")).tables.get("Load_Balancer")!;
    const lb = [...lbs.keys()][0]!;
    const r = loadNbWith(
      { _is_diff: true, Logical_Switch_Port: { [web1]: { addresses: ["set", ["00:00:00:16:00:02 10.16.0.2", "dynamic"]], dynamic_addresses: "0a:00:00:00:00:09 10.16.0.9" } } },
      { Load_Balancer_Group: { [U(5)]: { name: "g", load_balancer: ["uuid", lb] } }, Logical_Switch: { [U(6)]: { ports: ["set", [["uuid", U(7)], ["uuid", U(8)]]], load_balancer_group: ["uuid", U(5)] } }, Logical_Switch_Port: { [U(7)]: { name: "vt", type: "vtep" }, [U(8)]: { name: "plain" } } },
      { _is_diff: true, Logical_Switch: { [sw]: { load_balancer: ["uuid", lb] } } },
    );
    if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
    const net = r.value.network;
    expect(net.switches.get("ovn-default")!.ports.get("web-1.default")!.addresses.toArray()).toEqual(["0a:00:00:00:00:09 10.16.0.9"]);
    const unnamed = net.switches.get(U(6))!;
    expect(unnamed.ports.keySeq().toArray()).toEqual(["plain"]);
    expect(unnamed.loadBalancers.toArray()).toEqual([getString(lbs.get(lb)!, "name")]);
    expect(r.value.warnings!.map((w) => w.message)).toContain('NB Logical_Switch_Port type "vtep": 1 port not modelled, left out');
    // The diff removed the load balancer attached directly; the other one stays.
    expect(net.switches.get("ovn-default")!.loadBalancers.size).toBe(1);
  });

  it("two switches with one name are an error naming both rows", () => {
    const r = loadNbWith({ Logical_Switch: { [U(9)]: { name: "ovn-default" } } });
    const e = errorOf(r);
    expect(e.code).toBe("nb.duplicate-name");
    expect(e.message).toMatch(new RegExp(`NB Logical_Switch: "ovn-default" names two Logical_Switch rows \\(.* and ${U(9)}\\)`));
  });
});
