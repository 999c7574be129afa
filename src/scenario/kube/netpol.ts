/**
 * Kubernetes NetworkPolicy → OVN port groups, address sets and ACLs, as kube-ovn-controller v1.13
 * builds them (kube-ovn-mapping.md §5).
 *
 * What: for each `networking.k8s.io/v1` NetworkPolicy, one port group `<npName>.<ns>` (dash→dot)
 * holding the switch ports of the selected pods and all of the policy's ACLs, plus two address sets
 * (allow, except) per rule and address family. When at least one policy exists, every node's port
 * group `node.<node>` (dash→dot) is returned with its ports and the two priority-3000 ACLs that let
 * the node's own address reach its pods. With no policy, nothing is returned at all: the node port
 * groups then carry no ACLs, and the code that builds the nodes owns them.
 *
 * Names. `npName` is the policy name, prefixed with `np` when its first character is not a letter.
 * Port group and address set names replace every `-` with `.`; ACL names do not. Allow ACLs are
 * named `np/<npName>.<ns>/<ingress|egress>/<IPv4|IPv6>/<idx|all>`, the default-drop ACLs
 * `<ns>/<name>` (the policy's own name); a name longer than 63 characters keeps its first 60 and
 * gets `...`. Every ACL has external_ids `parent=<port group>`; the policy port group has
 * `np=<ns>/<npName>`, its address sets `np=<ns>/<npName>/<ingress|egress>`, a node port group
 * `np=node/<node>`.
 *
 * ACLs on a policy port group, in this order: ingress (to-lport) then egress (from-lport, every one
 * with apply-after-lb); in each direction one drop at 2000 (`outport == @pg && ip`, resp. `inport`)
 * and, per family and rule, one allow-related at 2001 per `ports[]` entry:
 * `outport == @pg && ip && ip4.src == $<allow> && ip4.src != $<except>` followed by nothing (no
 * ports), `&& tcp` (protocol only), `&& tcp.dst == 80`, or `&& 80 <= tcp.dst <= 90` (endPort). A
 * direction that is enabled but has no rules gets the `.all` address sets (both empty) and one allow
 * ACL over them, which matches nothing. Then, per subnet of the selected pods and per gateway
 * address (the gateway, then the U2O address): `ip4.src == <gw>` to-lport and `ip4.dst == <gw>`
 * from-lport (apply-after-lb), both allow-stateless at 2001, and for IPv6 gateways
 * `nd || nd_ra || nd_rs` from-lport.
 *
 * Decisions taken from Kube-OVN's source (pkg/controller/network_policy.go and
 * pkg/ovs/ovn-nb-acl.go at v1.13.15), where the mapping document is silent:
 * - The except clause is always written, even when the except set is empty (OVN reads
 *   `!= $empty` as true).
 * - Both IPv4 and IPv6 are handled. The families are those of the selected pods' subnets (IPv4
 *   first). Kube-OVN makes the default-drop ACL once per family; since both copies are identical,
 *   it is made once here. A policy that selects no pod has no family, hence no address sets and
 *   no ACLs: only its (empty) port group.
 * - When a rule's peers yield no address at all (not even an except), its `ports` are ignored and
 *   a single allow ACL without a port clause is written (it matches nothing).
 * - A peer with `ipBlock` and selectors contributes both: the block (when of the family being
 *   built) and the selected pods. The except list of a block is added, unfiltered, whenever the
 *   block itself is of that family, to the one except set of its rule.
 * - `namespaceSelector` chooses among the namespaces given as input; with only `podSelector`, the
 *   policy's namespace is used. The ClusterIPs added for a selected pod are those of services of
 *   that pod's namespace whose selector matches the pod's labels; a service without a selector
 *   (or with an empty one) selects nothing. Pods of any VPC are taken, as Kube-OVN's lister does.
 * - Address set contents: a prefix is written in network form (`10.0.0.5/8` → `10.0.0.0/8`),
 *   duplicates are dropped, first occurrence order is kept.
 * - Named ports are looked up among the container ports of every pod of the policy's namespace
 *   (also for egress rules); the first pod (in input order) that defines a name fixes its number.
 *   An unknown name gives port 0, as Kube-OVN does, with a warning.
 * - The API server's defaults are applied before mapping, because Kube-OVN sees defaulted objects:
 *   an empty `policyTypes` means `Ingress`, plus `Egress` when there are egress rules; a port
 *   without `protocol` is TCP. An empty rule list is the same as an absent one (the API server
 *   does not keep the difference).
 * - Logging: annotation `ovn.kubernetes.io/enable_log: "true"` sets log (severity warning) on the
 *   drop ACLs; the allow ACLs are logged (no severity) only when, in addition,
 *   `ovn.kubernetes.io/log_acl_actions` split on `,` has an item exactly `allow`.
 * - Node port groups hold the pods whose node is that node and whose VPC is the cluster router
 *   (`ovn-cluster` unless given). The ACLs use the node's InternalIP(s); Kube-OVN falls back to the
 *   join IP when a node has no InternalIP, which is not known here, so such a node gets no ACLs
 *   (with a warning).
 * - ACL `tier` (2 for NetworkPolicies) is not recorded: the model has no tier column.
 *
 * Errors: a policy whose spec Kubernetes would reject (a bad selector, CIDR, port or protocol),
 * or whose names are not OVN identifiers, or whose port group name another policy already took,
 * is reported (`NetworkPolicy/<ns>/<name>: ...`) and left out. A selected pod whose subnet is
 * unknown is reported; its families then come from its addresses, and it adds no gateway ACLs.
 * Nothing here throws on bad input.
 */
import { List, OrderedMap } from "immutable";
import { error, formatCidr, parseCidr, warning, type Cidr, type Diagnostic, type Loc } from "../../base/index.js";
import { parseExpr } from "../../expr/index.js";
import { Acl, AddressSet, PortGroup, type AclAction, type AclDirection } from "../../model/index.js";
import { resourceName, type KubeObject, type NamespaceInfo, type NodeInfo, type Plain, type PodInfo, type ServiceInfo, type SubnetInfo } from "./types.js";

export interface NetpolInput {
  /** Objects of kind NetworkPolicy (networking.k8s.io/v1); other kinds are reported and ignored. */
  readonly policies: readonly KubeObject[];
  readonly pods: readonly PodInfo[];
  readonly namespaces: readonly NamespaceInfo[];
  readonly services: readonly ServiceInfo[];
  /** For the gateway allow ACLs and the address families of the selected pods. */
  readonly subnets: readonly SubnetInfo[];
  /** For the node allowance. */
  readonly nodes: readonly NodeInfo[];
  /** The default VPC's router (`--cluster-router`); default `ovn-cluster`. */
  readonly clusterRouter?: string;
}

export interface NetpolOutput {
  /** One per policy (with its ACLs), then the `node.<node>` port groups when ≥1 policy exists. */
  readonly portGroups: readonly PortGroup[];
  readonly addressSets: readonly AddressSet[];
  /** Errors and warnings, each naming its resource: `NetworkPolicy/ns/name: ...`. */
  readonly diags: readonly Diagnostic[];
}

const FAMILIES = {
  IPv4: { ip: "ip4", any: "0.0.0.0/0", num: 4 },
  IPv6: { ip: "ip6", any: "::/0", num: 6 },
} as const;
type Family = keyof typeof FAMILIES;
const FAMILY_ORDER: readonly Family[] = ["IPv4", "IPv6"];

const PRIORITY = { defaultDrop: 2000, allow: 2001, node: 3000 } as const;
const LOG_ANNOTATION = "ovn.kubernetes.io/enable_log";
const LOG_ACTIONS_ANNOTATION = "ovn.kubernetes.io/log_acl_actions";
const OVN_NAME = /^[a-zA-Z_.][a-zA-Z_.0-9]*$/;
const ACL_NAME_MAX = 63;

/** `<name> dash→dot`: the port group of a node (`node-<name>` with every `-` made `.`). */
export function nodePortGroupName(node: string): string {
  return dashToDot(`node-${node}`);
}

function dashToDot(s: string): string {
  return s.replaceAll("-", ".");
}

/** OVN keeps ACL names to 63 characters; Kube-OVN cuts longer ones to 60 plus `...`. */
function aclName(name: string): string {
  return name.length > ACL_NAME_MAX ? `${name.slice(0, 60)}...` : name;
}

// ---------------------------------------------------------------------------------------------
// Label selectors

type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";
const OPERATORS: readonly string[] = ["In", "NotIn", "Exists", "DoesNotExist"];

interface Requirement {
  readonly key: string;
  readonly op: Operator;
  readonly values: readonly string[];
}

/** A parsed LabelSelector: every requirement must hold (an empty list selects everything). */
type Selector = readonly Requirement[];

function matchesSelector(sel: Selector, labels: Readonly<Record<string, string>>): boolean {
  for (const r of sel) {
    const has = Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.op) {
      case "In":
        if (!has || !r.values.includes(value!)) return false;
        break;
      case "NotIn":
        if (has && r.values.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default: {
        const _: never = r.op;
        return _;
      }
    }
  }
  return true;
}

function isObj(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Collects the problems of one policy. */
class Reporter {
  readonly errors: string[] = [];
  private readonly diags: Diagnostic[];
  private readonly res: string;
  private readonly loc: Loc | undefined;
  constructor(diags: Diagnostic[], res: string, loc: Loc | undefined) {
    this.diags = diags;
    this.res = res;
    this.loc = loc;
  }
  error(code: string, msg: string): void {
    this.errors.push(msg);
    this.diags.push(error(`kube.netpol.${code}`, `${this.res}: ${msg}`, this.loc ? { loc: this.loc } : {}));
  }
  warn(code: string, msg: string): void {
    this.diags.push(warning(`kube.netpol.${code}`, `${this.res}: ${msg}`, this.loc ? { loc: this.loc } : {}));
  }
}

function parseSelector(v: unknown, where: string, r: Reporter): Selector | undefined {
  if (v === undefined || v === null) return [];
  if (!isObj(v)) {
    r.error("selector", `${where} must be a label selector (an object)`);
    return undefined;
  }
  const out: Requirement[] = [];
  let ok = true;
  const ml = v.matchLabels;
  if (ml !== undefined && ml !== null) {
    if (!isObj(ml)) {
      r.error("selector", `${where}.matchLabels must be a map of strings`);
      return undefined;
    }
    for (const [k, x] of Object.entries(ml)) {
      if (typeof x !== "string") {
        r.error("selector", `${where}.matchLabels.${k} must be a string`);
        ok = false;
      } else out.push({ key: k, op: "In", values: [x] });
    }
  }
  const me = v.matchExpressions;
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) {
      r.error("selector", `${where}.matchExpressions must be a list`);
      return undefined;
    }
    me.forEach((e: unknown, i) => {
      const at = `${where}.matchExpressions[${i}]`;
      if (!isObj(e) || typeof e.key !== "string" || typeof e.operator !== "string") {
        r.error("selector", `${at} needs a string key and operator`);
        ok = false;
        return;
      }
      if (!OPERATORS.includes(e.operator)) {
        r.error("selector", `${at}: operator ${JSON.stringify(e.operator)} is not one of ${OPERATORS.join(", ")}`);
        ok = false;
        return;
      }
      const op = e.operator as Operator;
      const raw: unknown = e.values ?? [];
      if (!Array.isArray(raw) || !raw.every((x): x is string => typeof x === "string")) {
        r.error("selector", `${at}.values must be a list of strings`);
        ok = false;
        return;
      }
      if ((op === "In" || op === "NotIn") && raw.length === 0) {
        r.error("selector", `${at}: operator ${op} needs at least one value`);
        ok = false;
        return;
      }
      if ((op === "Exists" || op === "DoesNotExist") && raw.length > 0) {
        r.error("selector", `${at}: operator ${op} takes no values`);
        ok = false;
        return;
      }
      out.push({ key: e.key, op, values: raw });
    });
  }
  return ok ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// The policy spec

interface IpBlock {
  readonly cidr: string;
  readonly family: Family;
  readonly except: readonly string[];
}

interface Peer {
  readonly ipBlock: IpBlock | undefined;
  /** undefined: the field is absent. */
  readonly namespaceSelector: Selector | undefined;
  readonly podSelector: Selector | undefined;
}

type PortValue = { readonly kind: "none" } | { readonly kind: "number"; readonly n: number } | { readonly kind: "named"; readonly name: string };

interface PolicyPort {
  /** Lower case: `tcp`, `udp` or `sctp`. */
  readonly protocol: string;
  readonly port: PortValue;
  readonly endPort: number | undefined;
}

interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: readonly PolicyPort[];
}

interface Policy {
  readonly obj: KubeObject;
  readonly ns: string;
  readonly npName: string;
  readonly pgName: string;
  readonly podSelector: Selector;
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
  readonly hasIngress: boolean;
  readonly hasEgress: boolean;
  readonly logEnable: boolean;
  readonly logAllow: boolean;
}

function familyOf(addr: string): Family | undefined {
  const c = parseCidr(addr.split("/")[0] ?? "");
  if (!c) return undefined;
  return c.family === 4 ? "IPv4" : "IPv6";
}

/** A prefix (it must have a `/`) in network form, or undefined. */
function parsePrefix(text: string): Cidr | undefined {
  if (!text.includes("/")) return undefined;
  const c = parseCidr(text);
  if (!c) return undefined;
  const addr = new Uint8Array(c.addr);
  for (let bit = c.prefixLen; bit < addr.length * 8; bit++) addr[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
  return { family: c.family, addr, prefixLen: c.prefixLen };
}

function parseIpBlock(v: unknown, at: string, r: Reporter): IpBlock | undefined {
  if (!isObj(v) || typeof v.cidr !== "string") {
    r.error("ip-block", `${at}.ipBlock needs a string cidr`);
    return undefined;
  }
  const c = parsePrefix(v.cidr);
  if (!c) {
    r.error("ip-block", `${at}.ipBlock.cidr ${JSON.stringify(v.cidr)} is not a CIDR`);
    return undefined;
  }
  const except: string[] = [];
  const ex: unknown = v.except ?? [];
  if (!Array.isArray(ex)) {
    r.error("ip-block", `${at}.ipBlock.except must be a list of CIDRs`);
    return undefined;
  }
  let ok = true;
  for (const e of ex) {
    if (typeof e !== "string" || !parsePrefix(e)) {
      r.error("ip-block", `${at}.ipBlock.except entry ${JSON.stringify(e)} is not a CIDR`);
      ok = false;
    } else except.push(e);
  }
  return ok ? { cidr: v.cidr, family: c.family === 4 ? "IPv4" : "IPv6", except } : undefined;
}

function parsePeer(v: unknown, at: string, r: Reporter): Peer | undefined {
  if (!isObj(v)) {
    r.error("peer", `${at} must be an object`);
    return undefined;
  }
  const absent = (x: unknown): boolean => x === undefined || x === null;
  const ipBlock = absent(v.ipBlock) ? undefined : parseIpBlock(v.ipBlock, at, r);
  if (!absent(v.ipBlock) && !ipBlock) return undefined;
  const namespaceSelector = absent(v.namespaceSelector) ? undefined : parseSelector(v.namespaceSelector, `${at}.namespaceSelector`, r);
  if (!absent(v.namespaceSelector) && !namespaceSelector) return undefined;
  const podSelector = absent(v.podSelector) ? undefined : parseSelector(v.podSelector, `${at}.podSelector`, r);
  if (!absent(v.podSelector) && !podSelector) return undefined;
  return { ipBlock, namespaceSelector, podSelector };
}

function isPortNumber(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function parsePort(v: unknown, at: string, r: Reporter): PolicyPort | undefined {
  if (!isObj(v)) {
    r.error("port", `${at} must be an object`);
    return undefined;
  }
  const protoRaw: unknown = v.protocol ?? "TCP";
  if (typeof protoRaw !== "string" || !["tcp", "udp", "sctp"].includes(protoRaw.toLowerCase())) {
    r.error("port", `${at}.protocol must be TCP, UDP or SCTP`);
    return undefined;
  }
  const protocol = protoRaw.toLowerCase();
  let port: PortValue;
  if (v.port === undefined || v.port === null) port = { kind: "none" };
  else if (typeof v.port === "string" && v.port !== "") port = { kind: "named", name: v.port };
  else if (isPortNumber(v.port)) port = { kind: "number", n: v.port };
  else {
    r.error("port", `${at}.port must be a port number (1-65535) or a port name`);
    return undefined;
  }
  let endPort: number | undefined;
  if (v.endPort !== undefined && v.endPort !== null) {
    if (!isPortNumber(v.endPort)) {
      r.error("port", `${at}.endPort must be a port number (1-65535)`);
      return undefined;
    }
    if (port.kind !== "number") {
      r.error("port", `${at}.endPort needs a numeric port`);
      return undefined;
    }
    if (v.endPort < port.n) {
      r.error("port", `${at}.endPort ${v.endPort} is below port ${port.n}`);
      return undefined;
    }
    endPort = v.endPort;
  }
  return { protocol, port, endPort };
}

function parseRules(v: unknown, dir: "ingress" | "egress", r: Reporter): Rule[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.error("spec", `spec.${dir} must be a list`);
    return undefined;
  }
  const peerKey = dir === "ingress" ? "from" : "to";
  const out: Rule[] = [];
  let ok = true;
  v.forEach((rule: unknown, i) => {
    const at = `spec.${dir}[${i}]`;
    if (!isObj(rule)) {
      r.error("spec", `${at} must be an object`);
      ok = false;
      return;
    }
    const list = (x: unknown, name: string): unknown[] | undefined => {
      if (x === undefined || x === null) return [];
      if (Array.isArray(x)) return x;
      r.error("spec", `${at}.${name} must be a list`);
      return undefined;
    };
    const rawPeers = list(rule[peerKey], peerKey);
    const rawPorts = list(rule.ports, "ports");
    if (!rawPeers || !rawPorts) {
      ok = false;
      return;
    }
    const peers = rawPeers.map((p, j) => parsePeer(p, `${at}.${peerKey}[${j}]`, r));
    const ports = rawPorts.map((p, j) => parsePort(p, `${at}.ports[${j}]`, r));
    if (peers.some((p) => !p) || ports.some((p) => !p)) {
      ok = false;
      return;
    }
    out.push({ peers: peers as Peer[], ports: ports as PolicyPort[] });
  });
  return ok ? out : undefined;
}

function parsePolicy(obj: KubeObject, r: Reporter): Policy | undefined {
  const ns = obj.namespace ?? "default";
  const spec = obj.spec;
  if (!isObj(spec)) {
    r.error("spec", "spec must be an object");
    return undefined;
  }
  const podSelector = parseSelector(spec.podSelector, "spec.podSelector", r);
  const ingress = parseRules(spec.ingress, "ingress", r);
  const egress = parseRules(spec.egress, "egress", r);
  let types: string[] = [];
  const pt: unknown = spec.policyTypes;
  if (pt !== undefined && pt !== null) {
    if (!Array.isArray(pt)) r.error("spec", "spec.policyTypes must be a list");
    else
      for (const t of pt) {
        if (t === "Ingress" || t === "Egress") types.push(t);
        else r.error("spec", `spec.policyTypes entry ${JSON.stringify(t)} is not Ingress or Egress`);
      }
  }
  if (r.errors.length > 0 || !podSelector || !ingress || !egress) return undefined;
  // The API server's default for an empty policyTypes.
  if (types.length === 0) types = egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
  const npName = /^\p{L}/u.test(obj.name) ? obj.name : `np${obj.name}`;
  const pgName = dashToDot(`${npName}.${ns}`);
  if (!OVN_NAME.test(pgName)) {
    r.error("name", `port group name ${JSON.stringify(pgName)} is not an OVN name ([a-zA-Z_.][a-zA-Z_.0-9]*)`);
    return undefined;
  }
  const logEnable = obj.annotations[LOG_ANNOTATION] === "true";
  const logActions = (obj.annotations[LOG_ACTIONS_ANNOTATION] ?? "") !== "" ? obj.annotations[LOG_ACTIONS_ANNOTATION]!.split(",") : ["drop"];
  return {
    obj,
    ns,
    npName,
    pgName,
    podSelector,
    ingress,
    egress,
    hasIngress: types.includes("Ingress") || ingress.length > 0,
    hasEgress: types.includes("Egress") || egress.length > 0,
    logEnable,
    logAllow: logEnable && logActions.includes("allow"),
  };
}

// ---------------------------------------------------------------------------------------------
// Mapping

interface NamedPorts {
  readonly port: Map<string, number>;
  readonly conflicts: Set<string>;
}

/** Container port names of one namespace: the first pod (input order) that defines a name wins. */
function namedPortsOf(pods: readonly PodInfo[], ns: string): NamedPorts {
  const port = new Map<string, number>();
  const conflicts = new Set<string>();
  for (const p of pods) {
    if (p.namespace !== ns) continue;
    for (const [name, info] of Object.entries(p.namedPorts)) {
      if (!name || !info.port) continue;
      const known = port.get(name);
      if (known === undefined) port.set(name, info.port);
      else if (known !== info.port) conflicts.add(name);
    }
  }
  return { port, conflicts };
}

/** Addresses as Kube-OVN writes them into an address set: prefixes in network form, no duplicates. */
function normalizeAddresses(addrs: readonly string[]): List<string> {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of addrs) {
    const c = a.includes("/") ? parsePrefix(a) : undefined;
    const s = c ? formatCidr(c) : a;
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return List(out);
}

interface Ctx {
  readonly input: NetpolInput;
  readonly diags: Diagnostic[];
  readonly nsLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly subnets: ReadonlyMap<string, SubnetInfo>;
  readonly addressSets: AddressSet[];
}

/** The allow and except addresses of one peer for one family (Kube-OVN's fetchPolicySelectedAddresses). */
function peerAddresses(ctx: Ctx, policyNs: string, family: Family, peer: Peer, allows: string[], excepts: string[]): void {
  if (peer.ipBlock && peer.ipBlock.family === family) {
    allows.push(peer.ipBlock.cidr);
    excepts.push(...peer.ipBlock.except);
  }
  if (!peer.namespaceSelector && !peer.podSelector) return;
  const namespaces: string[] = [];
  if (!peer.namespaceSelector) namespaces.push(policyNs);
  else for (const [name, labels] of ctx.nsLabels) if (matchesSelector(peer.namespaceSelector, labels)) namespaces.push(name);
  const podSel = peer.podSelector ?? [];
  for (const ns of namespaces) {
    const services = ctx.input.services.filter((s) => s.namespace === ns);
    for (const pod of ctx.input.pods) {
      if (pod.namespace !== ns || !matchesSelector(podSel, pod.labels)) continue;
      for (const ip of pod.ips) if (ip !== "" && familyOf(ip) === family) allows.push(ip);
      for (const svc of services) {
        const sel = svc.selector;
        if (!sel || Object.keys(sel).length === 0) continue;
        if (!Object.entries(sel).every(([k, v]) => pod.labels[k] === v)) continue;
        for (const ip of svc.clusterIps) if (ip !== "" && ip !== "None" && familyOf(ip) === family) allows.push(ip);
      }
    }
  }
}

function makeAcl(direction: AclDirection, priority: number, match: string, action: AclAction, parent: string, extra: { name?: string; log?: boolean; severity?: string | undefined; applyAfterLb?: boolean } = {}): Acl {
  return Acl({
    direction,
    priority,
    match,
    action,
    name: extra.name === undefined ? undefined : aclName(extra.name),
    log: extra.log ?? false,
    severity: extra.severity,
    applyAfterLb: extra.applyAfterLb ?? false,
    externalIds: OrderedMap({ parent }),
  });
}

/** The ACLs of one direction of a policy, creating its address sets on the way. */
function directionAcls(ctx: Ctx, p: Policy, families: readonly Family[], dir: "ingress" | "egress", r: Reporter): Acl[] {
  const rules = dir === "ingress" ? p.ingress : p.egress;
  const ingress = dir === "ingress";
  const direction: AclDirection = ingress ? "to-lport" : "from-lport";
  const portKey = ingress ? "outport" : "inport";
  const applyAfterLb = !ingress;
  const allIp = `${portKey} == @${p.pgName} && ip`;
  const asPrefix = dashToDot(`${p.npName}.${p.ns}.${dir}`);
  const asIds = OrderedMap({ np: `${p.ns}/${p.npName}/${dir}` });
  const named = namedPortsOf(ctx.input.pods, p.ns);
  const out: Acl[] = [];
  let dropMade = false;
  for (const family of families) {
    const f = FAMILIES[family];
    const srcOrDst = ingress ? "src" : "dst";
    const units: { suffix: string; rule: Rule | undefined }[] = rules.length === 0 ? [{ suffix: "all", rule: undefined }] : rules.map((rule, i) => ({ suffix: String(i), rule }));
    for (const { suffix, rule } of units) {
      const allowName = `${asPrefix}.allow.${family}.${suffix}`;
      const exceptName = `${asPrefix}.except.${family}.${suffix}`;
      const name = `np/${p.npName}.${p.ns}/${dir}/${family}/${suffix}`;
      const allows: string[] = [];
      const excepts: string[] = [];
      if (rule) {
        if (rule.peers.length === 0) allows.push(f.any);
        else for (const peer of rule.peers) peerAddresses(ctx, p.ns, family, peer, allows, excepts);
      }
      ctx.addressSets.push(AddressSet({ name: allowName, addresses: normalizeAddresses(allows), externalIds: asIds }));
      ctx.addressSets.push(AddressSet({ name: exceptName, addresses: normalizeAddresses(excepts), externalIds: asIds }));
      if (!dropMade && (suffix === "0" || suffix === "all")) {
        dropMade = true;
        out.push(makeAcl(direction, PRIORITY.defaultDrop, allIp, "drop", p.pgName, { name: `${p.ns}/${p.obj.name}`, log: p.logEnable, severity: p.logEnable ? "warning" : undefined, applyAfterLb }));
      }
      const base = `${allIp} && ${f.ip}.${srcOrDst} == $${allowName} && ${f.ip}.${srcOrDst} != $${exceptName}`;
      const ports = rule && (allows.length > 0 || excepts.length > 0) ? rule.ports : [];
      const matches: string[] = [];
      if (ports.length === 0) matches.push(base);
      for (const port of ports) {
        const pv = port.port;
        switch (pv.kind) {
          case "none":
            matches.push(`${base} && ${port.protocol}`);
            break;
          case "number":
            matches.push(port.endPort === undefined ? `${base} && ${port.protocol}.dst == ${pv.n}` : `${base} && ${pv.n} <= ${port.protocol}.dst <= ${port.endPort}`);
            break;
          case "named": {
            const n = named.port.get(pv.name);
            if (n === undefined) r.warn("named-port", `no pod of namespace ${p.ns} has a container port named ${JSON.stringify(pv.name)}; port 0 is used, which matches nothing`);
            else if (named.conflicts.has(pv.name)) r.warn("named-port", `pods of namespace ${p.ns} give the port name ${JSON.stringify(pv.name)} different numbers; the first, ${n}, is used`);
            matches.push(`${base} && ${port.protocol}.dst == ${n ?? 0}`);
            break;
          }
          default: {
            const _: never = pv;
            return _;
          }
        }
      }
      for (const m of matches) out.push(makeAcl(direction, PRIORITY.allow, m, "allow-related", p.pgName, { name, log: p.logAllow, applyAfterLb }));
    }
  }
  return out;
}

function splitList(s: string | undefined): string[] {
  return (s ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

function mapPolicy(ctx: Ctx, p: Policy, r: Reporter): PortGroup {
  const selected = ctx.input.pods.filter((pod) => pod.namespace === p.ns && matchesSelector(p.podSelector, pod.labels));
  const familySet = new Set<Family>();
  const subnets: SubnetInfo[] = [];
  for (const pod of selected) {
    const s = ctx.subnets.get(pod.subnet);
    if (!s) {
      r.error("subnet", `pod ${pod.namespace}/${pod.name} is on subnet ${JSON.stringify(pod.subnet)}, which is not known; its address families are taken from its addresses`);
      for (const ip of pod.ips) {
        const f = familyOf(ip);
        if (f) familySet.add(f);
      }
      continue;
    }
    if (!subnets.includes(s)) subnets.push(s);
    for (const c of splitList(s.cidr)) {
      const f = familyOf(c);
      if (f) familySet.add(f);
    }
  }
  const families = FAMILY_ORDER.filter((f) => familySet.has(f));
  const acls: Acl[] = [];
  if (p.hasIngress) acls.push(...directionAcls(ctx, p, families, "ingress", r));
  if (p.hasEgress) acls.push(...directionAcls(ctx, p, families, "egress", r));
  const seen = new Set<string>();
  const add = (a: Acl): void => {
    const key = `${a.direction}|${a.priority}|${a.match}`;
    if (seen.has(key)) return;
    seen.add(key);
    acls.push(a);
  };
  for (const s of subnets) {
    let v6 = false;
    for (const gw of [...splitList(s.gateway), ...splitList(s.u2oIp)]) {
      const f = familyOf(gw);
      if (!f) {
        r.error("subnet", `subnet ${s.name}: gateway address ${JSON.stringify(gw)} is not an IP address`);
        continue;
      }
      const ip = FAMILIES[f].ip;
      if (f === "IPv6") v6 = true;
      add(makeAcl("to-lport", PRIORITY.allow, `${ip}.src == ${gw}`, "allow-stateless", p.pgName));
      add(makeAcl("from-lport", PRIORITY.allow, `${ip}.dst == ${gw}`, "allow-stateless", p.pgName, { applyAfterLb: true }));
    }
    if (v6) add(makeAcl("from-lport", PRIORITY.allow, "nd || nd_ra || nd_rs", "allow-stateless", p.pgName, { applyAfterLb: true }));
  }
  return PortGroup({
    name: p.pgName,
    ports: List(selected.map((pod) => pod.lsp)),
    acls: List(acls),
    externalIds: OrderedMap({ np: `${p.ns}/${p.npName}` }),
  });
}

/** The node port groups with their allowance ACLs (present only while some policy exists). */
function nodePortGroups(ctx: Ctx): PortGroup[] {
  const router = ctx.input.clusterRouter ?? "ovn-cluster";
  const out: PortGroup[] = [];
  for (const node of ctx.input.nodes) {
    const pg = nodePortGroupName(node.name);
    const acls: Acl[] = [];
    const ips = splitList(node.internalIp);
    if (ips.length === 0) ctx.diags.push(warning("kube.netpol.node-ip", `Node/${node.name}: no InternalIP, so its pods get no node allowance ACLs`));
    for (const nodeIp of ips) {
      const f = familyOf(nodeIp);
      if (!f) {
        ctx.diags.push(error("kube.netpol.node-ip", `Node/${node.name}: InternalIP ${JSON.stringify(nodeIp)} is not an IP address`));
        continue;
      }
      const ip = FAMILIES[f].ip;
      const as = `$${pg}_${ip}`;
      acls.push(makeAcl("to-lport", PRIORITY.node, `${ip}.src == ${nodeIp} && ${ip}.dst == ${as}`, "allow-related", pg));
      acls.push(makeAcl("from-lport", PRIORITY.node, `${ip}.dst == ${nodeIp} && ${ip}.src == ${as}`, "allow-related", pg, { applyAfterLb: true }));
    }
    const ports = ctx.input.pods.filter((p) => p.node === node.name && p.vpc === router).map((p) => p.lsp);
    out.push(PortGroup({ name: pg, ports: List(ports), acls: List(acls), externalIds: OrderedMap({ np: `node/${node.name}` }) }));
  }
  return out;
}

/** Checks that every ACL match parses as an OVN expression; a failure is a bug in the names used. */
function checkMatches(pg: PortGroup, res: string, diags: Diagnostic[], loc: Loc | undefined): void {
  for (const acl of pg.acls) {
    const r = parseExpr(acl.match, res);
    if (!r.ok) diags.push(error("kube.netpol.bad-match", `${res}: ACL match ${JSON.stringify(acl.match)} does not parse: ${r.diags[0]?.message ?? "?"}`, loc ? { loc } : {}));
  }
}

/** Maps every NetworkPolicy to its port group, address sets and ACLs, plus the node allowance. */
export function mapNetworkPolicies(input: NetpolInput): NetpolOutput {
  const diags: Diagnostic[] = [];
  const ctx: Ctx = {
    input,
    diags,
    nsLabels: new Map(input.namespaces.map((n) => [n.name, n.labels])),
    subnets: new Map(input.subnets.map((s) => [s.name, s])),
    addressSets: [],
  };
  const portGroups: PortGroup[] = [];
  const owners = new Map<string, string>();
  let policies = 0;
  for (const obj of input.policies) {
    const res = resourceName(obj);
    if (obj.kind !== "NetworkPolicy" || obj.apiVersion !== "networking.k8s.io/v1") {
      diags.push(warning("kube.netpol.kind", `${res}: not a networking.k8s.io/v1 NetworkPolicy; ignored`, { loc: obj.loc }));
      continue;
    }
    policies++;
    const r = new Reporter(diags, res, obj.loc);
    if (obj.name === "") {
      r.error("name", "a NetworkPolicy needs a name");
      continue;
    }
    const p = parsePolicy(obj, r);
    if (!p) continue;
    const owner = owners.get(p.pgName);
    if (owner !== undefined) {
      r.error("name", `its port group name ${p.pgName} is already used by ${owner}; left out`);
      continue;
    }
    owners.set(p.pgName, res);
    const pg = mapPolicy(ctx, p, r);
    checkMatches(pg, res, diags, obj.loc);
    portGroups.push(pg);
  }
  if (policies > 0)
    for (const pg of nodePortGroups(ctx)) {
      checkMatches(pg, `Node/${pg.externalIds.get("np")?.slice("node/".length) ?? pg.name}`, diags, undefined);
      portGroups.push(pg);
    }
  return { portGroups, addressSets: ctx.addressSets, diags };
}
