/**
 * Shared shapes of the Kube-OVN manifest front end: a Kubernetes object as read from YAML, and
 * the facts about pods and namespaces the mapping modules pass each other.
 */
import type { Loc } from "../../base/index.js";

export type Plain = Record<string, unknown>;

/** One Kubernetes object from a manifest document. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** metadata.namespace; undefined for cluster-scoped kinds (and namespaced ones that omit it: "default"). */
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: Plain;
  readonly status: Plain;
  /** The whole document. */
  readonly raw: Plain;
  /** Where the document starts. */
  readonly loc: Loc;
}

/** `Kind/name` or `Kind/namespace/name`, as errors name resources. */
export function resourceName(o: Pick<KubeObject, "kind" | "name" | "namespace">): string {
  return o.namespace !== undefined ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`;
}

/** A pod as the mapping placed it. */
export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The logical switch port: `<pod>.<namespace>`. */
  readonly lsp: string;
  readonly subnet: string;
  /** IPv4 (and IPv6) addresses, as allocated. */
  readonly ips: readonly string[];
  readonly mac: string;
  /** spec.nodeName, if scheduled. */
  readonly node: string | undefined;
  /** The VPC (logical router) of its subnet. */
  readonly vpc: string;
  /** Container ports by name (for named ports of NetworkPolicies): name → {port, protocol}. */
  readonly namedPorts: Readonly<Record<string, { readonly port: number; readonly protocol: string }>>;
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A Service as far as NetworkPolicy peers need it. */
export interface ServiceInfo {
  readonly name: string;
  readonly namespace: string;
  readonly clusterIps: readonly string[];
  /** spec.selector; undefined for a service without one. */
  readonly selector: Readonly<Record<string, string>> | undefined;
}

/** A subnet as NetworkPolicies need it: its gateway (and U2O address). */
export interface SubnetInfo {
  readonly name: string;
  readonly cidr: string;
  readonly gateway: string;
  readonly u2oIp?: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly internalIp: string;
}
