/**
 * What the Kubernetes API server and Kube-OVN's webhooks refuse in the manifests, for the fields
 * ovnsim reads: a value of another type than the CRD's or the core API's, an enumeration value
 * outside its set, an address, CIDR or port that does not parse. Each check returns (or reports)
 * one message per problem, naming the field path and what was expected; build.ts prefixes the
 * resource and its document's location. Without them such a value would be read as missing and
 * quietly change the network built.
 *
 * Checked: the types of Kube-OVN resources' specs (`crdSpecProblems`), Subnet specs
 * (`checkSubnetSpec`, `readAllowSubnets`), Vpc routes (`vpcRouteProblems`), Services, Endpoints
 * and EndpointSlices (`serviceProblems`), Pods (`podProblems`), Nodes' addresses
 * (`nodeProblems`), and string maps (labels, annotations, ConfigMap data, selectors:
 * `stringMapProblems`).
 */
import { parseCidr, parseIpv4, parseIpv6 } from "../../base/index.js";
import type { KubeObject } from "./types.js";

/**
 * Problems of a map whose values the API keeps as strings (labels, annotations, a ConfigMap's
 * data, a Service selector), at `where`.
 */
export function stringMapProblems(where: string, m: unknown): string[] {
  if (m === undefined || m === null) return [];
  if (typeof m !== "object" || Array.isArray(m)) return [`${where}: expected a mapping of strings`];
  const out: string[] = [];
  for (const [k, x] of Object.entries(m)) if (typeof x !== "string") out.push(notAString(`${where}.${k}`, x));
  return out;
}

/** `<at> <value>: expected a string`, with the quoted form to write when the value is a scalar. */
function notAString(at: string, v: unknown): string {
  return `${at} ${JSON.stringify(v)}: expected a string${typeof v !== "object" ? ` (quote it: "${String(v)}")` : ""}`;
}

/** A spec field's type in a Kube-OVN CRD's schema, as the API server checks it. */
type FieldType = "string" | "boolean" | "list of strings" | { readonly listOf: Readonly<Record<string, FieldType>> };

/**
 * The spec fields of Kube-OVN's resources that ovnsim reads, with their types in the CRDs that
 * Kube-OVN 1.13 installs: the API server refuses a manifest with another type, so such a value is
 * an error here, not a field read as missing. Fields checked more closely where they are read
 * (a Vlan's `id`, a Vpc's routes) are not listed.
 */
const CRD_SPEC_TYPES: Readonly<Record<string, Readonly<Record<string, FieldType>>>> = {
  Subnet: {
    cidrBlock: "string",
    gateway: "string",
    excludeIps: "list of strings",
    namespaces: "list of strings",
    allowSubnets: "list of strings",
    gatewayNode: "string",
    gatewayType: "string",
    vpc: "string",
    protocol: "string",
    private: "boolean",
    natOutgoing: "boolean",
    enableLb: "boolean",
    vlan: "string",
    provider: "string",
    logicalGateway: "boolean",
    disableInterConnection: "boolean",
    u2oInterconnection: "boolean",
    u2oInterconnectionIP: "string",
  },
  Vpc: { defaultSubnet: "string", namespaces: "list of strings", enableExternal: "boolean", extraExternalSubnets: "list of strings", enableBfd: "boolean" },
  ProviderNetwork: {
    defaultInterface: "string",
    customInterfaces: { listOf: { interface: "string", nodes: "list of strings" } },
    excludeNodes: "list of strings",
    exchangeLinkName: "boolean",
  },
  Vlan: { provider: "string" },
  VpcNatGateway: { vpc: "string", subnet: "string", lanIp: "string", selector: "list of strings", externalSubnets: "list of strings" },
  IptablesEIP: { v4ip: "string", v6ip: "string", macAddress: "string", natGwDp: "string", externalSubnet: "string" },
  IptablesFIPRule: { eip: "string", internalIp: "string" },
  IptablesSnatRule: { eip: "string", internalCIDR: "string" },
  IptablesDnatRule: { eip: "string", externalPort: "string", protocol: "string", internalIp: "string", internalPort: "string" },
  OvnEip: { externalSubnet: "string", type: "string", v4Ip: "string", v6Ip: "string", macAddress: "string" },
  OvnFip: { ovnEip: "string", ipType: "string", ipName: "string", vpc: "string", v4Ip: "string", v6Ip: "string" },
  OvnSnatRule: { ovnEip: "string", vpcSubnet: "string", ipName: "string", vpc: "string", v4IpCidr: "string", v6IpCidr: "string" },
  OvnDnatRule: { ovnEip: "string", ipType: "string", ipName: "string", internalPort: "string", externalPort: "string", protocol: "string", vpc: "string", v4Ip: "string", v6Ip: "string" },
};

function fieldProblems(where: string, fields: Readonly<Record<string, FieldType>>, m: Readonly<Record<string, unknown>>, out: string[]): void {
  for (const [field, type] of Object.entries(fields)) {
    const v = m[field];
    if (v === undefined || v === null) continue;
    const at = `${where}.${field}`;
    if (typeof type === "object") {
      if (!Array.isArray(v) || !v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x))) out.push(`${at} ${JSON.stringify(v)}: expected a list of mappings`);
      else v.forEach((x: Readonly<Record<string, unknown>>, i) => fieldProblems(`${at}[${i}]`, type.listOf, x, out));
      continue;
    }
    if (type === "string") {
      if (typeof v !== "string") out.push(notAString(at, v));
    } else if (type === "list of strings" ? !Array.isArray(v) || !v.every((x) => typeof x === "string") : typeof v !== type) out.push(`${at} ${JSON.stringify(v)}: expected a ${type}`);
  }
}

/**
 * What the API server refuses in the spec of a Kube-OVN resource by type alone (`CRD_SPEC_TYPES`),
 * one message per field; nothing for other kinds. A spec that is not a mapping is one problem.
 */
export function crdSpecProblems(kind: string, spec: unknown): string[] {
  const fields = CRD_SPEC_TYPES[kind];
  if (fields === undefined || spec === undefined || spec === null) return [];
  if (typeof spec !== "object" || Array.isArray(spec)) return [`spec ${JSON.stringify(spec)}: expected a mapping`];
  const out: string[] = [];
  fieldProblems("spec", fields, spec as Readonly<Record<string, unknown>>, out);
  return out;
}

/**
 * Reports what Kube-OVN's webhook refuses in a Subnet spec beyond the CRD's types (those are
 * `crdSpecProblems`, checked where the manifests are read): a gatewayType other than distributed
 * or centralized, a protocol other than IPv4, IPv6 or Dual. Without this a typo
 * (`gatewayType: centralised`) would quietly leave the default.
 */
export function checkSubnetSpec(spec: Readonly<Record<string, unknown>>, report: (m: string) => void): void {
  const gwType = spec.gatewayType;
  if (typeof gwType === "string" && gwType !== "" && gwType !== "distributed" && gwType !== "centralized") report(`gatewayType ${JSON.stringify(gwType)}: expected distributed or centralized`);
  const protocol = spec.protocol;
  if (typeof protocol === "string" && protocol !== "" && !["IPv4", "IPv6", "Dual"].includes(protocol)) report(`protocol ${JSON.stringify(protocol)}: expected IPv4, IPv6 or Dual`);
}

const isIp = (x: unknown): boolean => typeof x === "string" && (parseIpv4(x) !== undefined || parseIpv6(x) !== undefined);
const isPortNumber = (x: unknown): boolean => typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= 65535;
const PORT_NUMBER = "expected a whole number from 1 to 65535";
const SERVICE_PROTOCOLS = ["TCP", "UDP", "SCTP"];

/**
 * What the API server refuses in the parts of a Service, Endpoints or EndpointSlice that ovnsim
 * reads, one message per problem: ClusterIPs that are not addresses (or `None`), ports that are not
 * 1..65535, port names that are not strings, protocols other than TCP, UDP and SCTP (upper case,
 * as Kubernetes spells them), a targetPort that is neither a port number nor a name, a selector
 * value that is not a string, endpoint addresses that are not addresses.
 * Without this such a Service would get no VIP, and a trace to it would say nothing of why.
 */
export function serviceProblems(o: KubeObject): string[] {
  const out: string[] = [];
  const ports = (v: unknown, where: string, target: boolean, portOptional = false): void => {
    if (v === undefined) return;
    if (!Array.isArray(v)) {
      out.push(`${where} ${JSON.stringify(v)}: expected a list`);
      return;
    }
    v.forEach((p: unknown, i) => {
      const q = (p ?? {}) as Record<string, unknown>;
      if (!isPortNumber(q.port) && !(portOptional && q.port === undefined)) out.push(`${where}[${i}].port ${JSON.stringify(q.port ?? null)}: ${PORT_NUMBER}`);
      if (q.name !== undefined && typeof q.name !== "string") out.push(`${where}[${i}].name ${JSON.stringify(q.name)}: expected a string`);
      if (q.protocol !== undefined && !SERVICE_PROTOCOLS.includes(q.protocol as string)) out.push(`${where}[${i}].protocol ${JSON.stringify(q.protocol)}: expected TCP, UDP or SCTP`);
      const tp = q.targetPort;
      if (target && tp !== undefined && !isPortNumber(tp) && !(typeof tp === "string" && tp !== "")) out.push(`${where}[${i}].targetPort ${JSON.stringify(tp)}: ${PORT_NUMBER}, or a port name`);
    });
  };
  const addresses = (v: unknown, where: string, get: (a: unknown) => unknown): void => {
    if (v === undefined) return;
    if (!Array.isArray(v)) {
      out.push(`${where} ${JSON.stringify(v)}: expected a list`);
      return;
    }
    v.forEach((a: unknown, i) => {
      const ip = get(a);
      if (!isIp(ip)) out.push(`${where}[${i}] ${JSON.stringify(ip ?? null)}: expected an IPv4 or IPv6 address`);
    });
  };
  if (o.kind === "Service") {
    const spec = o.spec;
    const cip = spec.clusterIP;
    if (cip !== undefined && cip !== "None" && cip !== "" && !isIp(cip)) out.push(`spec.clusterIP ${JSON.stringify(cip)}: expected an IPv4 or IPv6 address, or None`);
    if (spec.clusterIPs !== undefined) {
      if (!Array.isArray(spec.clusterIPs)) out.push(`spec.clusterIPs ${JSON.stringify(spec.clusterIPs)}: expected a list`);
      else spec.clusterIPs.forEach((x: unknown, i) => void (x !== "None" && !isIp(x) && out.push(`spec.clusterIPs[${i}] ${JSON.stringify(x)}: expected an IPv4 or IPv6 address, or None`)));
    }
    ports(spec.ports, "spec.ports", true);
    out.push(...stringMapProblems("spec.selector", spec.selector));
  } else if (o.kind === "Endpoints") {
    const subsets = o.raw.subsets;
    if (Array.isArray(subsets)) {
      subsets.forEach((sub: unknown, i) => {
        const q = (sub ?? {}) as Record<string, unknown>;
        addresses(q.addresses, `subsets[${i}].addresses`, (a) => (a as Record<string, unknown> | null)?.ip);
        ports(q.ports, `subsets[${i}].ports`, false);
      });
    }
  } else {
    const eps = o.raw.endpoints;
    if (Array.isArray(eps)) eps.forEach((e: unknown, i) => addresses((e as Record<string, unknown> | null)?.addresses, `endpoints[${i}].addresses`, (a) => a));
    ports(o.raw.ports, "ports", false, true); // an EndpointSlice port without a number means every port
  }
  return out;
}

/**
 * What Kube-OVN's Vpc CRD and webhook refuse in `staticRoutes` and `policyRoutes`, one message per
 * problem: a cidr that is no address or prefix, a nextHopIP that is no address, a policy other
 * than policyDst or policySrc, a priority that is not a whole number from 0 to 32767, an action
 * other than allow, drop or reroute, a reroute without a next hop. The match's syntax is checked
 * where the router's policies are (model validation).
 */
export function vpcRouteProblems(spec: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const list = (field: string): Record<string, unknown>[] => {
    const v = spec[field];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.map((x) => (x ?? {}) as Record<string, unknown>);
    out.push(`spec.${field} ${JSON.stringify(v)}: expected a list`);
    return [];
  };
  const nextHops = (v: unknown): boolean => typeof v === "string" && v.split(",").every((x) => isIp(x.trim()));
  list("staticRoutes").forEach((r, i) => {
    const at = `spec.staticRoutes[${i}]`;
    if (typeof r.cidr !== "string" || parseCidr(r.cidr) === undefined) out.push(`${at}.cidr ${JSON.stringify(r.cidr ?? null)}: expected an IP prefix or address`);
    if (!isIp(r.nextHopIP)) out.push(`${at}.nextHopIP ${JSON.stringify(r.nextHopIP ?? null)}: expected an IPv4 or IPv6 address`);
    if (r.policy !== undefined && r.policy !== "" && r.policy !== "policyDst" && r.policy !== "policySrc") out.push(`${at}.policy ${JSON.stringify(r.policy)}: expected policyDst or policySrc`);
  });
  list("policyRoutes").forEach((p, i) => {
    const at = `spec.policyRoutes[${i}]`;
    if (typeof p.priority !== "number" || !Number.isInteger(p.priority) || p.priority < 0 || p.priority > 32767) out.push(`${at}.priority ${JSON.stringify(p.priority ?? null)}: expected a whole number from 0 to 32767`);
    if (typeof p.match !== "string" || p.match.trim() === "") out.push(`${at}.match ${JSON.stringify(p.match ?? null)}: expected an OVN match`);
    if (p.action !== "allow" && p.action !== "drop" && p.action !== "reroute") out.push(`${at}.action ${JSON.stringify(p.action ?? null)}: expected allow, drop or reroute`);
    else if (p.action === "reroute" && !nextHops(p.nextHopIP)) out.push(`${at}.nextHopIP ${JSON.stringify(p.nextHopIP ?? null)}: a reroute needs next hop addresses (comma-separated)`);
  });
  return out;
}

/**
 * What the API server refuses in the parts of a Pod spec that ovnsim reads, one message per
 * problem: a nodeName that is not a string, a hostNetwork that is not a boolean, containers and
 * their ports that are not lists of mappings, a containerPort outside 1..65535, a port name that is
 * not a string, a protocol other than TCP, UDP and SCTP. Read as missing, such a value would
 * quietly move the pod or take a named port away from a Service.
 */
export function podProblems(spec: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  if (spec.nodeName !== undefined && typeof spec.nodeName !== "string") out.push(`spec.nodeName ${JSON.stringify(spec.nodeName)}: expected a string`);
  if (spec.hostNetwork !== undefined && typeof spec.hostNetwork !== "boolean") out.push(`spec.hostNetwork ${JSON.stringify(spec.hostNetwork)}: expected a boolean`);
  const mappings = (v: unknown, where: string): Record<string, unknown>[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x))) {
      out.push(`${where} ${JSON.stringify(v)}: expected a list of mappings`);
      return [];
    }
    return v as Record<string, unknown>[];
  };
  mappings(spec.containers, "spec.containers").forEach((c, i) => {
    mappings(c.ports, `spec.containers[${i}].ports`).forEach((cp, j) => {
      const at = `spec.containers[${i}].ports[${j}]`;
      if (!isPortNumber(cp.containerPort)) out.push(`${at}.containerPort ${JSON.stringify(cp.containerPort ?? null)}: ${PORT_NUMBER}`);
      if (cp.name !== undefined && typeof cp.name !== "string") out.push(`${at}.name ${JSON.stringify(cp.name)}: expected a string`);
      if (cp.protocol !== undefined && !SERVICE_PROTOCOLS.includes(cp.protocol as string)) out.push(`${at}.protocol ${JSON.stringify(cp.protocol)}: expected TCP, UDP or SCTP`);
    });
  });
  return out;
}

/**
 * What the API server refuses in a Node's `status.addresses`, and an InternalIP that is no address
 * (the kubelet writes only addresses there), one message per entry. Read as missing, such an entry
 * would quietly take a family away from the node (its IPv6 InternalIP in a dual-stack cluster).
 */
export function nodeProblems(status: Readonly<Record<string, unknown>>): string[] {
  const v = status.addresses;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return [`status.addresses ${JSON.stringify(v)}: expected a list`];
  const out: string[] = [];
  v.forEach((a: unknown, i) => {
    const at = `status.addresses[${i}]`;
    if (a === null || typeof a !== "object" || Array.isArray(a)) return void out.push(`${at} ${JSON.stringify(a)}: expected a mapping with type and address`);
    const { type, address } = a as Record<string, unknown>;
    if (typeof type !== "string") out.push(`${at}.type ${JSON.stringify(type ?? null)}: expected a string (InternalIP, ExternalIP, Hostname, ...)`);
    if (typeof address !== "string") out.push(`${at}.address ${JSON.stringify(address ?? null)}: expected a string`);
    else if (type === "InternalIP" && !isIp(address)) out.push(`${at}.address ${JSON.stringify(address)}: expected an IPv4 or IPv6 address (an InternalIP)`);
  });
  return out;
}

/** An entry of a Subnet's `allowSubnets`: the CIDR as written (the ACL match takes it so) and its family. */
export interface AllowSubnet {
  readonly cidr: string;
  readonly family: 4 | 6;
}

/**
 * A Subnet's `allowSubnets`, each entry a CIDR of either family; what Kube-OVN's webhook refuses
 * (not a CIDR, upper case in an IPv6 address) is reported and left out. Empty entries are skipped,
 * as the controller skips them.
 */
export function readAllowSubnets(entries: readonly string[], report: (m: string) => void): AllowSubnet[] {
  const out: AllowSubnet[] = [];
  for (const raw of entries) {
    const cidr = raw.trim();
    if (cidr === "") continue;
    // A CIDR with its prefix length, as Go's net.ParseCIDR takes it (a bare address is not one).
    const family = cidr.includes("/") ? parseCidr(cidr)?.family : undefined;
    if (family === undefined) report(`allowSubnets entry ${JSON.stringify(raw)}: expected an IPv4 or IPv6 CIDR`);
    else if (cidr !== cidr.toLowerCase()) report(`allowSubnets entry ${JSON.stringify(raw)}: expected lower case (Kube-OVN refuses upper case in IPv6 addresses)`);
    else out.push({ cidr, family });
  }
  return out;
}
