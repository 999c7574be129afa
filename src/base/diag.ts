/**
 * Diagnostics: expected failures as values.
 *
 * A `Diagnostic` says what is wrong and where: `loc` points into a text (a scenario file, an
 * expression), `offset` into a binary file, `path` into the model. Code below `cli/` never prints
 * diagnostics or chooses exit codes; it returns them, and `cli/` renders them one line each.
 * `throw` is for broken invariants (bugs), never for bad input.
 */

/** A position in a text file: 1-based line and column. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length?: number;
}

export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  /** A stable machine-readable code, e.g. `pcap.bad-magic`. */
  readonly code: string;
  readonly severity: Severity;
  /** One sentence: what is wrong and what was expected. */
  readonly message: string;
  /** Where in a text file. */
  readonly loc?: Loc;
  /** The file a binary problem is in, when there is no line and column. */
  readonly file?: string;
  /** Byte offset into a binary file. */
  readonly offset?: number;
  /** Path into the model, e.g. `["switches", "ovn-default", "ports", "web-1"]`. */
  readonly path?: readonly (string | number)[];
  readonly notes?: readonly string[];
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly diags: readonly Diagnostic[] };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(...diags: Diagnostic[]): Result<T> {
  return { ok: false, diags };
}

export function error(code: string, message: string, where: Partial<Pick<Diagnostic, "loc" | "file" | "offset" | "path" | "notes">> = {}): Diagnostic {
  return { code, severity: "error", message, ...where };
}

export function warning(code: string, message: string, where: Partial<Pick<Diagnostic, "loc" | "file" | "offset" | "path" | "notes">> = {}): Diagnostic {
  return { code, severity: "warning", message, ...where };
}

/**
 * Formats a model path the way users read it. Numbers become `[n]`; strings are joined with `.`;
 * a keyed element is written by its producer as `ports[web-1]`. So
 * `["switches[ovn-default]", "ports[web-1]", "addresses", 0]` reads
 * `switches[ovn-default].ports[web-1].addresses[0]`.
 */
export function formatPath(path: readonly (string | number)[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? p : `.${p}`;
  }
  return s;
}

/** Renders one diagnostic as one line: `file:line:col: error: message` or `file: offset N: ...`. */
export function formatDiagnostic(d: Diagnostic): string {
  let where = "";
  if (d.loc) where = `${d.loc.file}:${d.loc.line}:${d.loc.column}`;
  else if (d.file !== undefined && d.offset !== undefined) where = `${d.file}: offset ${d.offset}`;
  else if (d.file !== undefined) where = d.file;
  else if (d.offset !== undefined) where = `offset ${d.offset}`;
  if (d.path && d.path.length > 0) where += (where ? ": " : "") + formatPath(d.path);
  return `${where ? where + ": " : ""}${d.severity}: ${d.message}`;
}

/** Thrown only for broken invariants; never caught as a way to report bad input. */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`invariant failed: ${message}`);
}
