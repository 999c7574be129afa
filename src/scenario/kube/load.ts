/**
 * The Kube-OVN manifest front end's entry: manifest files (or every `.yaml`/`.yml` of a
 * directory, in name order) → objects → the network kube-ovn-controller would build → validated
 * like any scenario. Errors name the resource and the file position; all are reported at once.
 */
import { fail, ok, type Result } from "../../base/index.js";
import { validateNetwork } from "../../model/index.js";
import { exprMatchChecker } from "../match-checker.js";
import type { Scenario } from "../probe.js";
import { buildKubeNetwork } from "./build.js";
import { parseManifests } from "./objects.js";
import type { KubeObject } from "./types.js";

export function loadKubeManifests(sources: readonly { readonly text: string; readonly file: string }[], name: string): Result<Scenario> {
  const objects: KubeObject[] = [];
  const diags = [];
  for (const s of sources) {
    const r = parseManifests(s.text, s.file);
    objects.push(...r.objects);
    diags.push(...r.diags);
  }
  // Build even when some documents were bad, so that every problem is reported in one go.
  const built = buildKubeNetwork(objects, name);
  diags.push(...built.diags);
  if (diags.length) return fail(...diags.sort((a, b) => (a.loc?.file ?? "").localeCompare(b.loc?.file ?? "") || (a.loc?.line ?? 0) - (b.loc?.line ?? 0)));
  const problems = validateNetwork(built.network, { checkMatch: exprMatchChecker });
  if (problems.length) return fail(...problems);
  return ok({ network: built.network, probes: [], zones: [], kube: built.names });
}
