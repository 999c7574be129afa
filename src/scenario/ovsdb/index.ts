/**
 * `scenario/ovsdb`: OVN's databases as a network input. Standalone OVSDB files and
 * `ovsdb-client dump -f json` output are read into tables (`file.ts`, `dump.ts`); the Northbound
 * tables become the model (`nb.ts`) and the Southbound adds chassis, bindings, learned neighbours
 * and tunnel keys (`sb.ts`); `load.ts` ties them together.
 */
export { loadOvsdbNetwork, readOvsdb, isOvsdbInput } from "./load.js";
export type { OvsdbSource } from "./load.js";
export { readOvsdbFile, readOvsdbRecords, ovsdbFileKind, clusteredDiagnostic } from "./file.js";
export type { OvsdbFileKind, OvsdbRecord, ReadOvsdbOptions } from "./file.js";
export { readOvsdbDump, looksLikeOvsdbDump } from "./dump.js";
export { networkFromNb, NB_READ } from "./nb.js";
export type { NbImport } from "./nb.js";
export { applySouthbound, SB_TABLES } from "./sb.js";
export type { SbImport } from "./sb.js";
export { rowsOf, databaseName, getString, getStrings, getInt, getBool, getStringMap, getRefs } from "./database.js";
export type { OvsdbDatabase, OvsdbRow, OvsdbTable } from "./database.js";
export { parseDatum, applyDiff, isValueError } from "./datum.js";
export type { Atom, Datum, UuidRef, ValueError } from "./datum.js";
export { parseSchema } from "./schema.js";
export type { OvsdbSchema, TableSchema, ColumnType, BaseType } from "./schema.js";
