/**
 * OVN databases as a network input: a Northbound database (file or JSON dump), optionally with
 * the Southbound beside it, → a validated `Scenario` without probes, plus warnings.
 *
 * Steps: read each input (a standalone database file or `ovsdb-client dump -f json` output,
 * told apart by content), map the Northbound tables to the model (`nb.ts`), lay the Southbound's
 * chassis, bindings, learned MAC bindings and tunnel keys over it (`sb.ts`), give every chassis
 * the Northbound names but no database describes (no Southbound given, or one that lacks it) a
 * placeholder without encapsulations, and validate the result like any scenario.
 *
 * Warnings (what is not modelled, placeholders) ride on the scenario's `warnings`; errors fail the
 * load. Nothing throws.
 */
import { basename } from "node:path";
import { fail, ok, warning, type Diagnostic, type Result } from "../../base/index.js";
import { Chassis, validateNetwork } from "../../model/index.js";
import { exprMatchChecker } from "../match-checker.js";
import type { Scenario } from "../probe.js";
import type { OvsdbDatabase } from "./database.js";
import { looksLikeOvsdbDump, readOvsdbDump } from "./dump.js";
import { ovsdbFileKind, readOvsdbFile, type ReadOvsdbOptions } from "./file.js";
import { networkFromNb } from "./nb.js";
import { applySouthbound, SB_TABLES } from "./sb.js";

/** One input: its bytes and the name to use in messages. */
export interface OvsdbSource {
  readonly bytes: Uint8Array;
  readonly file: string;
}

/** True when the bytes are an OVSDB database file (standalone or clustered) or a JSON dump. */
export function isOvsdbInput(bytes: Uint8Array): boolean {
  if (ovsdbFileKind(bytes) !== undefined) return true;
  return looksLikeOvsdbDump(Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 256)).toString("utf8"));
}

/** Reads a database file or a JSON dump into tables (of a file, those `opts` asks for). */
export function readOvsdb(src: OvsdbSource, opts: ReadOvsdbOptions = {}): Result<OvsdbDatabase> {
  if (ovsdbFileKind(src.bytes) !== undefined) return readOvsdbFile(src.bytes, src.file, opts);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(src.bytes);
  } catch {
    return fail({ code: "ovsdb.json", severity: "error", message: `${src.file} is not UTF-8 text, nor an OVSDB database file`, file: src.file });
  }
  return readOvsdbDump(text, src.file);
}

/** The network's default name: the file name without its extension (`ovnnb_db.db` → `ovnnb_db`). */
function defaultName(file: string): string {
  return basename(file).replace(/\.(db|json|txt)$/i, "") || "network";
}

/** Loads a network from a Northbound database and, optionally, its Southbound. */
export function loadOvsdbNetwork(nbSrc: OvsdbSource, sbSrc?: OvsdbSource): Result<Scenario> {
  const nbDb = readOvsdb(nbSrc);
  if (!nbDb.ok) return nbDb;
  const nb = networkFromNb(nbDb.value, defaultName(nbSrc.file));
  if (!nb.ok) return nb;
  let network = nb.value.network;
  const warnings: Diagnostic[] = [...nb.value.warnings];
  if (sbSrc) {
    // Of a Southbound file, only the tables the Southbound import reads are built (logical flows
    // and the rest are checked, not kept).
    const sbDb = readOvsdb(sbSrc, { tables: SB_TABLES });
    if (!sbDb.ok) return sbDb;
    const sb = applySouthbound(network, sbDb.value);
    if (!sb.ok) return sb;
    network = sb.value.network;
    warnings.push(...sb.value.warnings);
  }
  // `requested-chassis` may name a chassis by its hostname.
  const hostnames = new Set(network.chassis.valueSeq().map((c) => c.hostname).filter((h) => h !== ""));
  const missing = nb.value.chassisNames.filter((c) => !network.chassis.has(c) && !hostnames.has(c));
  if (missing.length > 0) {
    for (const name of missing) network = network.setIn(["chassis", name], Chassis({ name }));
    const list = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ", ..." : "");
    const why = sbSrc
      ? `the Southbound database has no row for ${missing.length} chassis the Northbound names (${list}); they are created without encapsulations`
      : `no Southbound database given: ${missing.length} chassis the Northbound names (${list}) are created without encapsulations; give the Southbound (--sb) for chassis, tunnel endpoints and port bindings`;
    warnings.push(warning("ovsdb.placeholder-chassis", why, { file: sbSrc?.file ?? nbSrc.file }));
  }
  const problems = validateNetwork(network, { checkMatch: exprMatchChecker });
  if (problems.length > 0) return fail(...problems.map((d) => ({ ...d, file: nbSrc.file })));
  return ok({ network, probes: [], zones: [], warnings });
}
