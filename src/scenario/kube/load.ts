/**
 * The Kube-OVN manifest front end's entry: manifest files (or every `.yaml`/`.yml` of a
 * directory, in name order) → objects → the network kube-ovn-controller would build → validated
 * like any scenario. Errors name the resource and the file position; all are reported at once.
 *
 * A directory whose manifests enable OVN-IC (`ovn-ic-config`) is one availability zone: its
 * sibling directories that join the same IC database are the other zones (ic.ts). They are read
 * too, and listed in the scenario's `zones` (relative to the directory's parent, as a scenario
 * file's zones are relative to its own directory). A directory that holds no manifest but
 * subdirectories of them is a set of zones, not a network: the error names them.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { error, fail, ok, type Diagnostic, type Result } from "../../base/index.js";
import { validateNetwork } from "../../model/index.js";
import { exprMatchChecker } from "../match-checker.js";
import type { Scenario } from "../probe.js";
import { buildKubeNetwork } from "./build.js";
import { icDatabaseOf } from "./ic.js";
import { parseManifests } from "./objects.js";
import type { KubeObject } from "./types.js";

/** One manifest file's text and its name (for locations). */
export interface ManifestSource {
  readonly text: string;
  readonly file: string;
}

function parseAll(sources: readonly ManifestSource[]): { objects: KubeObject[]; diags: Diagnostic[] } {
  const objects: KubeObject[] = [];
  const diags: Diagnostic[] = [];
  for (const s of sources) {
    const r = parseManifests(s.text, s.file);
    objects.push(...r.objects);
    diags.push(...r.diags);
  }
  return { objects, diags };
}

/**
 * Loads one zone's manifests. `peers` are the manifests of the other zones of its OVN-IC database
 * and `zones` where they are, for the scenario (both empty without OVN-IC).
 */
export function loadKubeManifests(sources: readonly ManifestSource[], name: string, peers: readonly (readonly ManifestSource[])[] = [], zones: readonly string[] = []): Result<Scenario> {
  const { objects, diags } = parseAll(sources);
  const peerObjects = peers.map((p) => {
    const r = parseAll(p);
    diags.push(...r.diags);
    return r.objects;
  });
  // Build even when some documents were bad, so that every problem is reported in one go.
  const built = buildKubeNetwork(objects, name, peerObjects);
  diags.push(...built.diags);
  diags.sort((a, b) => (a.loc?.file ?? "").localeCompare(b.loc?.file ?? "") || (a.loc?.line ?? 0) - (b.loc?.line ?? 0));
  // Warnings (a NetworkPolicy's named port that no pod has, ...) go with the network; an error fails the load.
  if (diags.some((d) => d.severity === "error")) return fail(...diags);
  const problems = validateNetwork(built.network, { checkMatch: exprMatchChecker });
  if (problems.length) return fail(...problems);
  return ok({ network: built.network, probes: [], zones, kube: built.names, ...(diags.length > 0 ? { warnings: diags } : {}) });
}

const isYaml = (f: string): boolean => /\.ya?ml$/.test(f);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => isYaml(f) && statSync(join(dir, f), { throwIfNoEntry: false })?.isFile() === true)
    .sort();
}

function subdirectories(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.isDirectory() === true)
    .sort();
}

function readSources(dir: string, files: readonly string[]): ManifestSource[] {
  return files.map((f) => ({ file: join(dir, f), text: readFileSync(join(dir, f), "utf8") }));
}

/** Loads a directory of manifests (see the header), with the other zones of its IC database. */
export function loadKubeDirectory(dir: string): Result<Scenario> {
  try {
    const files = yamlFiles(dir);
    if (files.length === 0) {
      const zones = subdirectories(dir).filter((d) => yamlFiles(join(dir, d)).length > 0);
      if (zones.length > 0) {
        return fail(error("input.read", `a directory of availability zones (${zones.join(", ")}), not of manifests: give one zone's directory, e.g. ${join(dir, zones[0]!)}`, { file: dir }));
      }
      return fail(error("input.read", "a directory of manifests, but it has no .yaml or .yml file", { file: dir }));
    }
    const sources = readSources(dir, files);
    const db = icDatabaseOf(parseAll(sources).objects);
    const peers: ManifestSource[][] = [];
    const zones: string[] = [];
    if (db !== undefined) {
      const self = resolve(dir);
      const parent = dirname(self);
      for (const d of subdirectories(parent)) {
        const other = join(parent, d);
        if (other === self) continue;
        let otherSources: ManifestSource[];
        try {
          // Shown in locations the way `dir` was given: absolute, or relative to the working directory.
          otherSources = readSources(isAbsolute(dir) ? other : relative(process.cwd(), other), yamlFiles(other));
        } catch {
          continue; // an unreadable sibling is not a zone of this interconnection
        }
        if (otherSources.length === 0 || icDatabaseOf(parseAll(otherSources).objects) !== db) continue;
        peers.push(otherSources);
        zones.push(relative(resolve(dirname(dir)), other));
      }
    }
    return loadKubeManifests(sources, basename(resolve(dir)), peers, zones);
  } catch (e) {
    return fail(error("input.read", `cannot read ${dir}: ${(e as Error).message}`, { file: dir }));
  }
}
