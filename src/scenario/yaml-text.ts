/**
 * Wording shared by the readers of YAML inputs (scenario files, Kube manifests, mapping files), so
 * that one mistake reads the same in each.
 */

/** A YAML parser's error message as one line, without the position it appends (diagnostics carry it). */
export function yamlMessage(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** What an alias whose anchor is missing (`*name` with no `&name` before it) is told. */
export function aliasWithoutAnchor(source: string): string {
  return `the alias *${source} names no anchor (&${source} must come before it)`;
}
