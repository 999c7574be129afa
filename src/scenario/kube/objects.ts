/**
 * Reading Kubernetes manifests: multi-document YAML (and `kind: List`) into `KubeObject`s.
 *
 * What is accepted (apiVersion → kinds):
 * - `kubeovn.io/v1`: Vpc, Subnet, Vlan, ProviderNetwork, VpcNatGateway, IptablesEIP,
 *   IptablesSnatRule, IptablesDnatRule, IptablesFIPRule, OvnEip, OvnFip, OvnSnatRule, OvnDnatRule;
 * - `v1`: Node, Namespace, Pod, Service, Endpoints, ConfigMap; `discovery.k8s.io/v1`:
 *   EndpointSlice; `networking.k8s.io/v1`: NetworkPolicy; `k8s.cni.cncf.io/v1`:
 *   NetworkAttachmentDefinition (Multus);
 * - `ovnsim.io/v1`: InstallConfig (the install settings, see settings.ts).
 * Anything else is an error naming the resource and its location. Every object needs
 * `metadata.name`; namespaced kinds without `metadata.namespace` are in `default`, as kubectl does.
 * Labels, annotations and a ConfigMap's data hold strings, as the API server requires: any other
 * value (`12345`, `true` unquoted) is an error naming its key. So is a Kube-OVN resource's spec
 * field of another type than its CRD's (validate.ts `crdSpecProblems`).
 *
 * Errors carry `file:line:col` of the document (or of the offending node) and never stop the
 * reading of the other documents.
 */
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node } from "yaml";
import { error, type Diagnostic, type Loc } from "../../base/index.js";
import { resourceName, type KubeObject, type Plain } from "./types.js";
import { crdSpecProblems, stringMapProblems } from "./validate.js";
import { aliasWithoutAnchor, yamlMessage } from "../yaml-text.js";

export const KNOWN_KINDS: Readonly<Record<string, readonly string[]>> = {
  "kubeovn.io/v1": ["Vpc", "Subnet", "Vlan", "ProviderNetwork", "VpcNatGateway", "IptablesEIP", "IptablesSnatRule", "IptablesDnatRule", "IptablesFIPRule", "OvnEip", "OvnFip", "OvnSnatRule", "OvnDnatRule"],
  v1: ["Node", "Namespace", "Pod", "Service", "Endpoints", "ConfigMap"],
  "discovery.k8s.io/v1": ["EndpointSlice"],
  "networking.k8s.io/v1": ["NetworkPolicy"],
  "k8s.cni.cncf.io/v1": ["NetworkAttachmentDefinition"],
  "ovnsim.io/v1": ["InstallConfig"],
};

const CLUSTER_SCOPED = new Set(["Vpc", "Subnet", "Vlan", "ProviderNetwork", "VpcNatGateway", "IptablesEIP", "IptablesSnatRule", "IptablesDnatRule", "IptablesFIPRule", "OvnEip", "OvnFip", "OvnSnatRule", "OvnDnatRule", "Node", "Namespace", "InstallConfig"]);

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, x] of Object.entries(v as Plain)) if (typeof x === "string") out[k] = x;
  return out;
}

function plain(v: unknown): Plain {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Plain) : {};
}

/** Alias expansions allowed in a document: more than manifests use, fewer than an alias bomb. */
const MAX_ALIAS_EXPANSIONS = 1000;

/**
 * The plain value of a parsed document, or undefined (reported) when an alias names no anchor, a
 * mapping key is a collection (no Kubernetes object has one; the YAML library would print a warning
 * and turn it into text), or when its aliases would expand beyond `MAX_ALIAS_EXPANSIONS` nodes (a
 * YAML "billion laughs" document would otherwise take all memory).
 */
function documentValue(doc: Document.Parsed, report: (message: string, node: Node | null) => void): Plain | undefined {
  let ok = true;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        report(aliasWithoutAnchor(alias.source), alias as unknown as Node);
        ok = false;
      }
    },
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        report("a mapping key that is a collection; expected a name", pair.key as Node);
        ok = false;
      }
    },
  });
  if (!ok) return undefined;
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS }) as Plain;
  } catch {
    report(`the document's aliases expand to more than ${MAX_ALIAS_EXPANSIONS} nodes; expected manifests, not a YAML alias bomb`, doc.contents as Node | null);
    return undefined;
  }
}

/** Parses every document of `text`; `file` names it in locations. */
export function parseManifests(text: string, file: string): { objects: KubeObject[]; diags: Diagnostic[] } {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const objects: KubeObject[] = [];
  const diags: Diagnostic[] = [];
  const locOf = (node: Node | null | undefined, fallback = 0): Loc => {
    const off = node?.range?.[0] ?? fallback;
    const p = lc.linePos(off);
    return { file, line: p.line, column: p.col };
  };
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if ("errors" in doc && doc.errors.length) {
      for (const e of doc.errors) {
        const p = lc.linePos(e.pos[0]);
        diags.push(error("kube.yaml", yamlMessage(e.message), { loc: { file, line: p.line, column: p.col } }));
      }
      continue;
    }
    const root = doc.contents;
    if (root === null || root === undefined) continue;
    if (!isMap(root)) {
      diags.push(error("kube.not-object", "a manifest document must be a mapping with apiVersion, kind and metadata", { loc: locOf(root) }));
      continue;
    }
    const value = documentValue(doc, (m, node) => diags.push(error("kube.yaml", m, { loc: locOf(node, root.range?.[0]) })));
    if (value === undefined) continue;
    const items: { v: Plain; node: Node }[] = [];
    if (value.kind === "List" && Array.isArray(value.items)) {
      const seq = root.get("items", true);
      (value.items as unknown[]).forEach((it, i) => {
        const n = isSeq(seq) ? (seq.items[i] as Node | undefined) : undefined;
        items.push({ v: plain(it), node: n ?? root });
      });
    } else items.push({ v: value, node: root });
    for (const { v, node } of items) {
      const loc = locOf(node);
      const kind = typeof v.kind === "string" ? v.kind : "";
      const apiVersion = typeof v.apiVersion === "string" ? v.apiVersion : "";
      const meta = plain(v.metadata);
      const name = typeof meta.name === "string" ? meta.name : "";
      const label = `${kind || "?"}/${name || "?"}`;
      if (!kind || !apiVersion) {
        diags.push(error("kube.no-kind", `${label}: a manifest needs apiVersion and kind`, { loc }));
        continue;
      }
      const kinds = KNOWN_KINDS[apiVersion];
      if (!kinds || !kinds.includes(kind)) {
        const where = Object.entries(KNOWN_KINDS).find(([, ks]) => ks.includes(kind));
        diags.push(
          error(
            "kube.unknown-kind",
            where
              ? `${label}: kind ${kind} is ${where[0]}, not ${apiVersion}`
              : `${label}: unknown kind ${kind} of apiVersion ${apiVersion} (known: ${Object.entries(KNOWN_KINDS).map(([a, ks]) => `${a} ${ks.join(", ")}`).join("; ")})`,
            { loc },
          ),
        );
        continue;
      }
      if (!name) {
        diags.push(error("kube.no-name", `${label}: metadata.name is required`, { loc }));
        continue;
      }
      const namespace = CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default";
      // The API server keeps labels, annotations and a ConfigMap's data as strings and refuses other
      // values; read as missing, a number there would quietly change what the manifest means.
      const who = resourceName({ kind, name, namespace });
      const stringMaps: [string, unknown][] = [
        ["metadata.labels", meta.labels],
        ["metadata.annotations", meta.annotations],
        ...(kind === "ConfigMap" ? ([["data", v.data]] as [string, unknown][]) : []),
      ];
      const problems = [...stringMaps.flatMap(([where, m]) => stringMapProblems(where, m)), ...crdSpecProblems(kind, v.spec)];
      for (const msg of problems) diags.push(error("kube.invalid", `${who}: ${msg}`, { loc }));
      objects.push({ apiVersion, kind, name, namespace, labels: strMap(meta.labels), annotations: strMap(meta.annotations), spec: plain(v.spec), status: plain(v.status), raw: v, loc });
    }
  }
  // The same resource twice is a mistake in the manifests, not an update.
  const seen = new Map<string, KubeObject>();
  for (const o of objects) {
    const id = resourceName(o);
    const prev = seen.get(id);
    if (prev) diags.push(error("kube.duplicate", `${id}: defined twice (first at ${prev.loc.file}:${prev.loc.line}:${prev.loc.column})`, { loc: o.loc }));
    else seen.set(id, o);
  }
  return { objects: objects.filter((o) => seen.get(resourceName(o)) === o), diags };
}
