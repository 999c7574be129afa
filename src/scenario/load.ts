/**
 * Loading scenario files: YAML text → `Network` + `Probe[]`, or one diagnostic per problem.
 *
 * What: three passes. (1) YAML syntax, through the `yaml` package's document API with a line
 * counter, so every node keeps its source position. (2) Shape, against the one spec in
 * `format.ts`: unknown fields (naming the allowed ones), wrong types, enum and range violations,
 * missing required fields. (3) Meaning: the model is built and `validateNetwork` runs; each of its
 * problems carries a model path, which is mapped back to the YAML node it came from. Probes are
 * checked against the network (datapath, microflow syntax, ports, ct flags, lb-dst).
 *
 * Invariants: every diagnostic has `loc {file, line, column}` (1-based); nothing throws on any
 * input. A field with a bad type is dropped but its object is kept, so one mistake does not cascade
 * into dangling-reference reports; an object without its name is dropped.
 *
 * `loadNetworkFile` is the single entry point for commands that take a network: it detects the
 * input kind by content and dispatches: scenario YAML (here), Kube-OVN manifests (`kube/`), or an
 * OVN Northbound database, as a database file or `ovsdb-client dump -f json` output, optionally
 * with its Southbound (`ovsdb/`).
 */
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { loadKubeDirectory, loadKubeManifests } from "./kube/load.js";
import { isOvsdbInput, loadOvsdbNetwork, type OvsdbSource } from "./ovsdb/index.js";
import { List, OrderedMap } from "immutable";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { allKnownHint, didYouMeanSuffix as hint, error, fail, formatPath, ok, warning, type Diagnostic, type Loc, type Result } from "../base/index.js";
import { parseExpr } from "../expr/index.js";
import {
  Acl,
  AddressSet,
  Chassis,
  Encap,
  GatewayChassis,
  HaChassisGroup,
  LoadBalancer,
  LogicalRouter,
  LogicalSwitch,
  MacBinding,
  Nat,
  NatGateway,
  NatGatewayDnat,
  NatGatewayEip,
  NatGatewayFip,
  NatGatewaySnat,
  Network,
  NodeHost,
  NodeHostIpset,
  NodeHostSnat,
  IpsetEntry,
  parseLbEndpoint,
  PortGroup,
  ProviderNetwork,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
  UnderlayGateway,
  validateNetwork,
  type AclAction,
  type AclDirection,
  type NatType,
  type RouterPolicyAction,
  type RoutePolicy,
  type SwitchPortType,
} from "../model/index.js";
import { describeType, PROBES_FILE, SCENARIO, type FieldType, type ObjectSpec } from "./format.js";
import { aliasWithoutAnchor, yamlMessage } from "./yaml-text.js";
import { exprMatchChecker } from "./match-checker.js";
import type { Probe, ProbeExpect, Scenario } from "./probe.js";

type Path = readonly (string | number)[];
type Plain = Record<string, unknown>;

/** Source positions of checked nodes, by their path in the plain document. */
class Locations {
  private readonly byPath = new Map<string, Loc>();
  set(path: Path, loc: Loc): void {
    this.byPath.set(JSON.stringify(path), loc);
  }
  /** The location of `path`, or of its nearest recorded ancestor. */
  get(path: Path): Loc | undefined {
    for (let n = path.length; n >= 0; n--) {
      const l = this.byPath.get(JSON.stringify(path.slice(0, n)));
      if (l) return l;
    }
    return undefined;
  }
}

interface ShapeCtx {
  readonly file: string;
  readonly lc: LineCounter;
  readonly doc: Document;
  readonly diags: Diagnostic[];
  readonly locs: Locations;
}

function locOf(ctx: ShapeCtx, node: Node | null | undefined): Loc {
  const off = node?.range?.[0] ?? 0;
  const p = ctx.lc.linePos(off);
  const len = node?.range ? node.range[1] - node.range[0] : undefined;
  return len !== undefined && len > 0 ? { file: ctx.file, line: p.line, column: p.col, length: len } : { file: ctx.file, line: p.line, column: p.col };
}

function shapeError(ctx: ShapeCtx, code: string, message: string, node: Node | null | undefined): void {
  ctx.diags.push(error(`scenario.${code}`, message, { loc: locOf(ctx, node) }));
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** Checks `node` against `type`; returns the plain value, or undefined (with a diagnostic) when it does not fit. */
function checkNode(ctx: ShapeCtx, raw: unknown, type: FieldType, path: Path, what: string): unknown {
  const node = (isAlias(raw) ? raw.resolve(ctx.doc) : raw) as Node | null | undefined;
  if (isAlias(raw) && node === undefined) {
    shapeError(ctx, "yaml", `${what}: ${aliasWithoutAnchor(raw.source)}`, raw);
    return undefined;
  }
  ctx.locs.set(path, locOf(ctx, node));
  const wrong = (): undefined => {
    shapeError(ctx, "wrong-type", `${what} must be ${describeType(type)}`, node);
    return undefined;
  };
  switch (type.kind) {
    case "string": {
      if (isScalar(node) && (typeof node.value === "number" || typeof node.value === "boolean")) {
        // As in the JSON Schema: text fields take text only, so `8080` or `true` must be quoted.
        shapeError(ctx, "wrong-type", `${what} must be a string; put ${node.source ?? String(node.value)} in quotes`, node);
        return undefined;
      }
      if (!isScalar(node) || typeof node.value !== "string") return wrong();
      const v = node.value;
      if (type.enum && !type.enum.includes(v)) {
        shapeError(ctx, "bad-value", `${what} is "${v}"; expected one of ${type.enum.map((e) => (e === "" ? '""' : e)).join(", ")}`, node);
        return undefined;
      }
      return v;
    }
    case "int": {
      if (!isScalar(node) || typeof node.value !== "number" || !Number.isInteger(node.value)) return wrong();
      if (node.value < type.min || node.value > type.max) {
        shapeError(ctx, "out-of-range", `${what} is ${node.value}; expected ${type.min}..${type.max}`, node);
        return undefined;
      }
      return node.value;
    }
    case "bool":
      if (!isScalar(node) || typeof node.value !== "boolean") return wrong();
      return node.value;
    case "list": {
      if (!isSeq(node)) return wrong();
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        out.push(checkNode(ctx, item, type.of, [...path, i], `${what}[${i}]`));
      });
      return out;
    }
    case "map": {
      if (!isMap(node)) return wrong();
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (!isScalar(key) || key.value === null || typeof key.value === "object") {
          shapeError(ctx, "wrong-type", `keys of ${what} must be strings`, key);
          continue;
        }
        const k = typeof key.value === "string" ? key.value : (key.source ?? String(key.value));
        ctx.locs.set([...path, `#key:${k}`], locOf(ctx, key));
        out[k] = checkNode(ctx, pair.value, type.of, [...path, k], `${what}.${k}`);
      }
      return out;
    }
    case "object":
      if (!isMap(node)) return wrong();
      return checkObject(ctx, node, type.spec, path, what);
    default: {
      const _: never = type;
      return _;
    }
  }
}

function checkObject(ctx: ShapeCtx, node: Node, spec: ObjectSpec, path: Path, what: string): Plain | undefined {
  if (!isMap(node)) return undefined;
  const out: Plain = {};
  const allowed = Object.keys(spec.fields);
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key)) {
      shapeError(ctx, "unknown-field", `a key of ${spec.name} must be a field name, not a collection; allowed: ${allowed.join(", ")}`, key);
      continue;
    }
    const k = String(key.value);
    const f = spec.fields[k];
    if (!f) {
      shapeError(ctx, "unknown-field", `unknown field "${k}" in ${spec.name}; ${allKnownHint(k, allowed, "allowed")}`, key);
      continue;
    }
    if (isNull(pair.value)) continue;
    const v = checkNode(ctx, pair.value, f.type, [...path, k], `${spec.name} field "${k}"`);
    if (v !== undefined) out[k] = v;
  }
  let complete = true;
  for (const [k, f] of Object.entries(spec.fields)) {
    if (f.required && !(k in out) && !node.items.some((p) => isScalar(p.key) && p.key.value === k && !isNull(p.value))) {
      shapeError(ctx, "missing-field", `${spec.name} lacks required field "${k}"`, node);
      complete = false;
    } else if (f.required && !(k in out)) complete = false;
  }
  void what;
  return complete ? out : undefined;
}

// ---- Building the model -------------------------------------------------------------------------

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asStrings = (v: unknown): string[] => asList(v).filter((x): x is string => typeof x === "string");
const asStrMap = (v: unknown): OrderedMap<string, string> =>
  OrderedMap(Object.entries((v ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"));
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

interface BuildCtx {
  readonly shape: ShapeCtx;
  /** Model path (formatted) → plain path. */
  readonly modelToPlain: Map<string, Path>;
}

function reg(b: BuildCtx, model: Path, plain: Path): void {
  b.modelToPlain.set(formatPath(model), plain);
}

function duplicateName(b: BuildCtx, kind: string, name: string, plain: Path): void {
  b.shape.diags.push(error("scenario.duplicate-name", `${kind} "${name}" is defined twice`, { loc: b.shape.locs.get([...plain, "name"]) ?? b.shape.locs.get(plain)! }));
}

function buildAcl(b: BuildCtx, o: Plain, model: Path, plain: Path): Acl {
  reg(b, model, plain);
  for (const k of Object.keys(o)) reg(b, [...model, k], [...plain, k]);
  return Acl({
    direction: o.direction as AclDirection,
    priority: num(o.priority) ?? 0,
    match: str(o.match) ?? "",
    action: o.action as AclAction,
    name: str(o.name),
    label: num(o.label) ?? 0,
    log: o.log === true,
    severity: str(o.severity),
    applyAfterLb: o.applyAfterLb === true,
    externalIds: asStrMap(o.externalIds),
  });
}

function buildAcls(b: BuildCtx, v: unknown, model: Path, plain: Path): List<Acl> {
  const out: Acl[] = [];
  asList(v).forEach((a, i) => {
    if (a && typeof a === "object") out.push(buildAcl(b, a as Plain, [...model, out.length], [...plain, i]));
  });
  return List(out);
}

/** Registers list fields element by element, keeping only the strings, as the model does. */
function regStrings(b: BuildCtx, v: unknown, model: Path, plain: Path): List<string> {
  reg(b, model, plain);
  const out: string[] = [];
  asList(v).forEach((x, i) => {
    if (typeof x !== "string") return;
    reg(b, [...model, out.length], [...plain, i]);
    out.push(x);
  });
  return List(out);
}

function buildNetwork(b: BuildCtx, s: Plain): Network {
  let chassis = OrderedMap<string, Chassis>();
  asList(s.chassis).forEach((c, i) => {
    if (!c) return;
    const o = c as Plain;
    const name = o.name as string;
    const plain = ["chassis", i];
    if (chassis.has(name)) return duplicateName(b, "chassis", name, plain);
    const model = [`chassis[${name}]`];
    reg(b, model, plain);
    const encaps: Encap[] = [];
    asList(o.encaps).forEach((e, j) => {
      if (!e) return;
      const eo = e as Plain;
      reg(b, [...model, "encaps", encaps.length], [...plain, "encaps", j]);
      reg(b, [...model, "encaps", encaps.length, "type"], [...plain, "encaps", j, "type"]);
      reg(b, [...model, "encaps", encaps.length, "ip"], [...plain, "encaps", j, "ip"]);
      encaps.push(Encap({ type: eo.type as string, ip: eo.ip as string }));
    });
    for (const k of ["bridgeMappings", "nics", "macMappings", "mac", "isRemote", "isInterconn"]) if (k in o) reg(b, [...model, k], [...plain, k]);
    chassis = chassis.set(
      name,
      Chassis({ name, hostname: str(o.hostname) ?? "", encaps: List(encaps), bridgeMappings: asStrMap(o.bridgeMappings), nics: asStrMap(o.nics), macMappings: asStrMap(o.macMappings), mac: str(o.mac) ?? "", isRemote: o.isRemote === true, isInterconn: o.isInterconn === true }),
    );
  });

  let addressSets = OrderedMap<string, AddressSet>();
  asList(s.addressSets).forEach((a, i) => {
    if (!a) return;
    const o = a as Plain;
    const name = o.name as string;
    const plain = ["addressSets", i];
    if (addressSets.has(name)) return duplicateName(b, "address set", name, plain);
    const model = [`addressSets[${name}]`];
    reg(b, model, plain);
    addressSets = addressSets.set(name, AddressSet({ name, addresses: regStrings(b, o.addresses, [...model, "addresses"], [...plain, "addresses"]), externalIds: asStrMap(o.externalIds) }));
  });

  let loadBalancers = OrderedMap<string, LoadBalancer>();
  asList(s.loadBalancers).forEach((l, i) => {
    if (!l) return;
    const o = l as Plain;
    const name = o.name as string;
    const plain = ["loadBalancers", i];
    if (loadBalancers.has(name)) return duplicateName(b, "load balancer", name, plain);
    const model = [`loadBalancers[${name}]`];
    reg(b, model, plain);
    for (const k of Object.keys(o)) reg(b, [...model, k], [...plain, k]);
    let vips = OrderedMap<string, List<string>>();
    for (const [vip, backends] of Object.entries((o.vips ?? {}) as Record<string, unknown>)) {
      reg(b, [...model, `vips[${vip}]`], [...plain, "vips", `#key:${vip}`]);
      vips = vips.set(vip, regStrings(b, backends, [...model, `vips[${vip}]`], [...plain, "vips", vip]));
      reg(b, [...model, `vips[${vip}]`], [...plain, "vips", `#key:${vip}`]);
    }
    loadBalancers = loadBalancers.set(
      name,
      LoadBalancer({
        name,
        protocol: (str(o.protocol) ?? "tcp") as "tcp" | "udp" | "sctp",
        vips,
        selectionFields: regStrings(b, o.selectionFields, [...model, "selectionFields"], [...plain, "selectionFields"]),
        options: asStrMap(o.options),
        externalIds: asStrMap(o.externalIds),
      }),
    );
  });

  let switches = OrderedMap<string, LogicalSwitch>();
  asList(s.switches).forEach((sw, i) => {
    if (!sw) return;
    const o = sw as Plain;
    const name = o.name as string;
    const plain = ["switches", i];
    if (switches.has(name)) return duplicateName(b, "switch", name, plain);
    const model = [`switches[${name}]`];
    reg(b, model, plain);
    for (const k of Object.keys(o)) reg(b, [...model, k], [...plain, k]);
    let ports = OrderedMap<string, SwitchPort>();
    asList(o.ports).forEach((p, j) => {
      if (!p) return;
      const po = p as Plain;
      const pname = po.name as string;
      const pplain = [...plain, "ports", j];
      if (ports.has(pname)) return duplicateName(b, "port", pname, pplain);
      const pmodel = [...model, `ports[${pname}]`];
      reg(b, pmodel, pplain);
      for (const k of Object.keys(po)) reg(b, [...pmodel, k], [...pplain, k]);
      ports = ports.set(
        pname,
        SwitchPort({
          name: pname,
          type: (str(po.type) ?? "") as SwitchPortType,
          addresses: regStrings(b, po.addresses, [...pmodel, "addresses"], [...pplain, "addresses"]),
          portSecurity: regStrings(b, po.portSecurity, [...pmodel, "portSecurity"], [...pplain, "portSecurity"]),
          options: asStrMap(po.options),
          tag: num(po.tag),
          chassis: str(po.chassis),
          enabled: po.enabled !== false,
          tunnelKey: num(po.tunnelKey),
          externalIds: asStrMap(po.externalIds),
        }),
      );
    });
    switches = switches.set(
      name,
      LogicalSwitch({
        name,
        ports,
        acls: buildAcls(b, o.acls, [...model, "acls"], [...plain, "acls"]),
        loadBalancers: regStrings(b, o.loadBalancers, [...model, "loadBalancers"], [...plain, "loadBalancers"]),
        otherConfig: asStrMap(o.otherConfig),
        tunnelKey: num(o.tunnelKey),
        externalIds: asStrMap(o.externalIds),
      }),
    );
  });

  let portGroups = OrderedMap<string, PortGroup>();
  asList(s.portGroups).forEach((g, i) => {
    if (!g) return;
    const o = g as Plain;
    const name = o.name as string;
    const plain = ["portGroups", i];
    if (portGroups.has(name)) return duplicateName(b, "port group", name, plain);
    const model = [`portGroups[${name}]`];
    reg(b, model, plain);
    portGroups = portGroups.set(
      name,
      PortGroup({
        name,
        ports: regStrings(b, o.ports, [...model, "ports"], [...plain, "ports"]),
        acls: buildAcls(b, o.acls, [...model, "acls"], [...plain, "acls"]),
        externalIds: asStrMap(o.externalIds),
      }),
    );
  });

  const routers = buildRouters(b, s.routers);

  let haChassisGroups = OrderedMap<string, HaChassisGroup>();
  asList(s.haChassisGroups).forEach((g, i) => {
    if (!g) return;
    const o = g as Plain;
    const name = o.name as string;
    const plain = ["haChassisGroups", i];
    if (haChassisGroups.has(name)) return duplicateName(b, "HA chassis group", name, plain);
    const model = [`haChassisGroups[${name}]`];
    regFields(b, o, model, plain);
    haChassisGroups = haChassisGroups.set(name, HaChassisGroup({ name, chassis: buildGatewayChassis(b, o.chassis, [...model, "chassis"], [...plain, "chassis"]), externalIds: asStrMap(o.externalIds) }));
  });

  const natGateways = buildNatGateways(b, s.natGateways);
  const nodeHosts = buildNodeHosts(b, s.nodeHosts);

  let providerNetworks = OrderedMap<string, ProviderNetwork>();
  asList(s.providerNetworks).forEach((pn, i) => {
    if (!pn) return;
    const o = pn as Plain;
    const name = o.name as string;
    const plain = ["providerNetworks", i];
    if (providerNetworks.has(name)) return duplicateName(b, "provider network", name, plain);
    const model = [`providerNetworks[${name}]`];
    regFields(b, o, model, plain);
    const gateways: UnderlayGateway[] = [];
    asList(o.gateways).forEach((g, j) => {
      if (!g) return;
      const go = g as Plain;
      regFields(b, go, [...model, "gateways", gateways.length], [...plain, "gateways", j]);
      gateways.push(UnderlayGateway({ vlan: num(go.vlan) ?? 0, address: str(go.address) ?? "", mac: str(go.mac) ?? "" }));
    });
    providerNetworks = providerNetworks.set(name, ProviderNetwork({ name, gateways: List(gateways) }));
  });

  return Network({
    name: str(s.name) ?? "",
    description: str(s.description) ?? "",
    chassis,
    switches,
    portGroups,
    addressSets,
    loadBalancers,
    routers,
    haChassisGroups,
    staticMacBindings: buildMacBindings(b, s.staticMacBindings, "staticMacBindings"),
    macBindings: buildMacBindings(b, s.macBindings, "macBindings"),
    natGateways,
    nodeHosts,
    providerNetworks,
    options: asStrMap(s.options),
  });
}

/** Registers an object and each of its fields. */
function regFields(b: BuildCtx, o: Plain, model: Path, plain: Path): void {
  reg(b, model, plain);
  for (const k of Object.keys(o)) reg(b, [...model, k], [...plain, k]);
}

/** Builds the elements of a list of objects, skipping the ones the shape check dropped. */
function buildObjects<T>(b: BuildCtx, v: unknown, model: Path, plain: Path, build: (o: Plain, model: Path, plain: Path) => T): List<T> {
  reg(b, model, plain);
  const out: T[] = [];
  asList(v).forEach((x, i) => {
    if (!x || typeof x !== "object") return;
    const m = [...model, out.length];
    regFields(b, x as Plain, m, [...plain, i]);
    out.push(build(x as Plain, m, [...plain, i]));
  });
  return List(out);
}

function buildGatewayChassis(b: BuildCtx, v: unknown, model: Path, plain: Path): List<GatewayChassis> {
  return buildObjects(b, v, model, plain, (o) => GatewayChassis({ chassis: str(o.chassis) ?? "", priority: num(o.priority) ?? 0 }));
}

function buildRouters(b: BuildCtx, v: unknown): OrderedMap<string, LogicalRouter> {
  let routers = OrderedMap<string, LogicalRouter>();
  asList(v).forEach((r, i) => {
    if (!r) return;
    const o = r as Plain;
    const name = o.name as string;
    const plain = ["routers", i];
    if (routers.has(name)) return duplicateName(b, "router", name, plain);
    const model = [`routers[${name}]`];
    regFields(b, o, model, plain);
    let ports = OrderedMap<string, RouterPort>();
    asList(o.ports).forEach((p, j) => {
      if (!p) return;
      const po = p as Plain;
      const pname = po.name as string;
      const pplain = [...plain, "ports", j];
      if (ports.has(pname)) return duplicateName(b, "router port", pname, pplain);
      const pmodel = [...model, `ports[${pname}]`];
      regFields(b, po, pmodel, pplain);
      ports = ports.set(
        pname,
        RouterPort({
          name: pname,
          mac: str(po.mac) ?? "",
          networks: regStrings(b, po.networks, [...pmodel, "networks"], [...pplain, "networks"]),
          peer: str(po.peer),
          gatewayChassis: buildGatewayChassis(b, po.gatewayChassis, [...pmodel, "gatewayChassis"], [...pplain, "gatewayChassis"]),
          haChassisGroup: str(po.haChassisGroup),
          options: asStrMap(po.options),
          enabled: po.enabled !== false,
          tunnelKey: num(po.tunnelKey),
          externalIds: asStrMap(po.externalIds),
        }),
      );
    });
    const staticRoutes = buildObjects(b, o.staticRoutes, [...model, "staticRoutes"], [...plain, "staticRoutes"], (ro) =>
      StaticRoute({
        ipPrefix: str(ro.ipPrefix) ?? "",
        nexthop: str(ro.nexthop) ?? "",
        outputPort: str(ro.outputPort),
        policy: (str(ro.policy) ?? "dst-ip") as RoutePolicy,
        routeTable: str(ro.routeTable) ?? "",
        options: asStrMap(ro.options),
        externalIds: asStrMap(ro.externalIds),
      }),
    );
    const policies = buildObjects(b, o.policies, [...model, "policies"], [...plain, "policies"], (po, pm, pp) =>
      RouterPolicy({
        priority: num(po.priority) ?? 0,
        match: str(po.match) ?? "",
        action: po.action as RouterPolicyAction,
        nexthops: regStrings(b, po.nexthops, [...pm, "nexthops"], [...pp, "nexthops"]),
        options: asStrMap(po.options),
        externalIds: asStrMap(po.externalIds),
      }),
    );
    const nat = buildObjects(b, o.nat, [...model, "nat"], [...plain, "nat"], (no) =>
      Nat({
        type: no.type as NatType,
        externalIp: str(no.externalIp) ?? "",
        logicalIp: str(no.logicalIp) ?? "",
        externalMac: str(no.externalMac),
        logicalPort: str(no.logicalPort),
        externalPortRange: str(no.externalPortRange),
        stateless: no.stateless === true,
        gatewayPort: str(no.gatewayPort),
        allowedExtIps: str(no.allowedExtIps),
        exemptedExtIps: str(no.exemptedExtIps),
        options: asStrMap(no.options),
        externalIds: asStrMap(no.externalIds),
      }),
    );
    routers = routers.set(
      name,
      LogicalRouter({
        name,
        ports,
        staticRoutes,
        policies,
        nat,
        loadBalancers: regStrings(b, o.loadBalancers, [...model, "loadBalancers"], [...plain, "loadBalancers"]),
        options: asStrMap(o.options),
        enabled: o.enabled !== false,
        tunnelKey: num(o.tunnelKey),
        externalIds: asStrMap(o.externalIds),
      }),
    );
  });
  return routers;
}

function buildMacBindings(b: BuildCtx, v: unknown, key: "staticMacBindings" | "macBindings"): List<MacBinding> {
  return buildObjects(b, v, [key], [key], (o) => MacBinding({ logicalPort: str(o.logicalPort) ?? "", ip: str(o.ip) ?? "", mac: str(o.mac) ?? "", overrideDynamicMac: o.overrideDynamicMac === true }));
}

function buildNatGateways(b: BuildCtx, v: unknown): OrderedMap<string, NatGateway> {
  let gws = OrderedMap<string, NatGateway>();
  asList(v).forEach((g, i) => {
    if (!g) return;
    const o = g as Plain;
    const name = o.name as string;
    const plain = ["natGateways", i];
    if (gws.has(name)) return duplicateName(b, "NAT gateway", name, plain);
    const model = [`natGateways[${name}]`];
    regFields(b, o, model, plain);
    let eips = OrderedMap<string, NatGatewayEip>();
    asList(o.eips).forEach((e, j) => {
      if (!e) return;
      const eo = e as Plain;
      const ename = eo.name as string;
      const eplain = [...plain, "eips", j];
      if (eips.has(ename)) return duplicateName(b, "EIP", ename, eplain);
      regFields(b, eo, [...model, `eips[${ename}]`], eplain);
      eips = eips.set(ename, NatGatewayEip({ name: ename, ip: str(eo.ip) ?? "" }));
    });
    gws = gws.set(
      name,
      NatGateway({
        name,
        vpc: str(o.vpc) ?? "",
        lanPort: str(o.lanPort) ?? "",
        lanIp: str(o.lanIp) ?? "",
        externalMac: str(o.externalMac) ?? "",
        externalCidr: str(o.externalCidr) ?? "",
        externalGateway: str(o.externalGateway) ?? "",
        eips,
        snatRules: buildObjects(b, o.snatRules, [...model, "snatRules"], [...plain, "snatRules"], (r) => NatGatewaySnat({ name: str(r.name) ?? "", eip: str(r.eip) ?? "", internalCidr: str(r.internalCidr) ?? "", randomFully: r.randomFully === true })),
        dnatRules: buildObjects(b, o.dnatRules, [...model, "dnatRules"], [...plain, "dnatRules"], (r) =>
          NatGatewayDnat({
            name: str(r.name) ?? "",
            eip: str(r.eip) ?? "",
            protocol: (str(r.protocol) ?? "tcp") as "tcp" | "udp",
            externalPort: num(r.externalPort) ?? 0,
            internalIp: str(r.internalIp) ?? "",
            internalPort: num(r.internalPort) ?? 0,
          }),
        ),
        fipRules: buildObjects(b, o.fipRules, [...model, "fipRules"], [...plain, "fipRules"], (r) => NatGatewayFip({ name: str(r.name) ?? "", eip: str(r.eip) ?? "", internalIp: str(r.internalIp) ?? "" })),
      }),
    );
  });
  return gws;
}

function buildNodeHosts(b: BuildCtx, v: unknown): OrderedMap<string, NodeHost> {
  let hosts = OrderedMap<string, NodeHost>();
  asList(v).forEach((h, i) => {
    if (!h) return;
    const o = h as Plain;
    const name = o.name as string;
    const plain = ["nodeHosts", i];
    if (hosts.has(name)) return duplicateName(b, "node host", name, plain);
    const model = [`nodeHosts[${name}]`];
    regFields(b, o, model, plain);
    let ipsets = OrderedMap<string, NodeHostIpset>();
    asList(o.ipsets).forEach((st, j) => {
      if (!st) return;
      const so = st as Plain;
      const sname = so.name as string;
      const splain = [...plain, "ipsets", j];
      if (ipsets.has(sname)) return duplicateName(b, "ipset", sname, splain);
      const smodel = [...model, `ipsets[${sname}]`];
      regFields(b, so, smodel, splain);
      const members = buildObjects(b, so.members, [...smodel, "members"], [...splain, "members"], (e) => IpsetEntry({ address: str(e.address) ?? "", owner: str(e.owner) ?? "" }));
      ipsets = ipsets.set(sname, NodeHostIpset({ name: sname, members }));
    });
    hosts = hosts.set(
      name,
      NodeHost({
        name,
        port: str(o.port) ?? "",
        nic: str(o.nic) ?? "eth0",
        nicMac: str(o.nicMac) ?? "",
        address: str(o.address) ?? "",
        gateway: str(o.gateway) ?? "",
        gatewayMac: str(o.gatewayMac) ?? "",
        ovn0Routes: regStrings(b, o.ovn0Routes, [...model, "ovn0Routes"], [...plain, "ovn0Routes"]),
        ipsets,
        centralizedSnats: buildObjects(b, o.centralizedSnats, [...model, "centralizedSnats"], [...plain, "centralizedSnats"], (r) => NodeHostSnat({ cidr: str(r.cidr) ?? "", ip: str(r.ip) ?? "", owner: str(r.owner) ?? "" })),
        randomFully: o.randomFully === true,
      }),
    );
  });
  return hosts;
}

// ---- Probes --------------------------------------------------------------------------------------

const CT_FLAGS: ReadonlySet<string> = new Set(["trk", "new", "est", "rel", "rpl", "inv"]);

/** The port named by `inport == "NAME"` in a microflow, if any. */
export function microflowInport(microflow: string): string | undefined {
  const m = /\binport\s*==\s*"((?:[^"\\]|\\.)*)"/.exec(microflow);
  return m ? m[1] : undefined;
}

/** `expectOptional`: a probe without `expect` is `unchecked` (probes files) rather than an error (scenarios). */
/** Every switch port's name, for hints. */
function switchPortNames(net: Network): string[] {
  return net.switches
    .valueSeq()
    .flatMap((ls) => ls.ports.keySeq())
    .toArray();
}

function buildProbes(b: BuildCtx, s: Plain, net: Network, expectOptional = false): Probe[] {
  const out: Probe[] = [];
  const names = new Set<string>();
  const at = (plain: Path): Loc => b.shape.locs.get(plain)!;
  const bad = (code: string, message: string, plain: Path): void => {
    b.shape.diags.push(error(`scenario.${code}`, message, { loc: at(plain) }));
  };
  asList(s.probes).forEach((p, i) => {
    if (!p) return;
    const o = p as Plain;
    const plain = ["probes", i];
    const name = o.name as string;
    if (names.has(name)) return duplicateName(b, "probe", name, plain);
    names.add(name);
    const microflow = o.microflow as string;
    let ok = true;
    const parsed = parseExpr(microflow, b.shape.file);
    if (!parsed.ok) {
      for (const d of parsed.diags) bad("bad-microflow", `bad microflow: ${d.message}`, [...plain, "microflow"]);
      ok = false;
    }
    let datapath = str(o.datapath);
    const inport = microflowInport(microflow);
    if (datapath !== undefined && !net.switches.has(datapath)) {
      bad("dangling-datapath", `datapath "${datapath}" is no switch${hint(datapath, net.switches.keys())}`, [...plain, "datapath"]);
      ok = false;
    } else if (inport !== undefined) {
      const owner = net.switches.find((ls) => ls.ports.has(inport));
      if (!owner) {
        bad("dangling-port", `microflow inport "${inport}" is no switch port${hint(inport, switchPortNames(net))}`, [...plain, "microflow"]);
        ok = false;
      } else if (datapath === undefined) datapath = owner.name;
      else if (owner.name !== datapath) {
        bad("dangling-port", `microflow inport "${inport}" is on switch "${owner.name}", not on datapath "${datapath}"`, [...plain, "microflow"]);
        ok = false;
      }
    }
    if (datapath === undefined && ok) {
      bad("missing-field", `probe needs "datapath" when its microflow has no inport == "PORT"`, plain);
      ok = false;
    }
    const ct = asStrings(o.ct);
    asList(o.ct).forEach((c, j) => {
      if (typeof c !== "string") return;
      for (const f of c.split(/[\s,]+/).filter((x) => x !== "")) {
        if (!CT_FLAGS.has(f)) {
          bad("bad-value", `ct flag "${f}" is not one of ${[...CT_FLAGS].join(", ")}`, [...plain, "ct", j]);
          ok = false;
        }
      }
    });
    const lbDst = str(o.lbDst);
    if (lbDst !== undefined) {
      const e = parseLbEndpoint(lbDst);
      if (typeof e === "string") {
        bad("bad-value", `bad lbDst: ${e}`, [...plain, "lbDst"]);
        ok = false;
      }
    }
    const ex = (o.expect ?? {}) as Plain;
    const output = asStrings(ex.output);
    let expect: ProbeExpect | undefined;
    if (ex.drop === true) {
      if (ex.output !== undefined) {
        bad("bad-value", `expect has both "drop: true" and "output"`, [...plain, "expect"]);
        ok = false;
      }
      expect = { kind: "drop" };
    } else if (ex.output !== undefined) {
      asList(ex.output).forEach((port, j) => {
        if (typeof port === "string" && !net.switches.some((ls) => ls.ports.has(port))) {
          bad("dangling-port", `expected output port "${port}" is no switch port${hint(port, switchPortNames(net))}`, [...plain, "expect", "output", j]);
          ok = false;
        }
      });
      expect = { kind: "output", ports: output, fields: Object.fromEntries(asStrMap(ex.fields)) };
    } else if (expectOptional && o.expect === undefined) {
      expect = { kind: "unchecked" };
    } else {
      bad("missing-field", `expect needs "output: [PORT...]" or "drop: true"`, [...plain, "expect"]);
      ok = false;
    }
    if (!ok || !expect || datapath === undefined) return;
    const probe: Probe = { name, datapath, microflow, ct, expect, ...(lbDst !== undefined ? { lbDst } : {}), ...(num(o.selectId) !== undefined ? { selectId: num(o.selectId)! } : {}) };
    out.push(probe);
  });
  return out;
}

// ---- Entry points --------------------------------------------------------------------------------

/** The first line of a `yaml` error message, without the position the loc already carries. */

/** Parses YAML text keeping positions; a syntax error is one diagnostic per distinct position. */
function parseYaml(text: string, file: string): Result<ShapeCtx> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // One unclosed bracket makes the parser report several errors at the same place; keep the
    // first at each position.
    const seen = new Set<string>();
    const diags: Diagnostic[] = [];
    for (const e of doc.errors) {
      const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      if (seen.has(`${p.line}:${p.col}`)) continue;
      seen.add(`${p.line}:${p.col}`);
      diags.push(error("scenario.yaml-syntax", `YAML syntax error: ${yamlMessage(e.message)}`, { loc: { file, line: p.line, column: p.col } }));
    }
    return fail(...diags);
  }
  return ok({ file, lc, doc, diags: [], locs: new Locations() });
}

/** Parses and validates a scenario. `file` names the text in diagnostics. */
export function loadScenario(text: string, file: string): Result<Scenario> {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return parsed;
  const ctx = parsed.value;
  const root = ctx.doc.contents;
  if (!isMap(root)) {
    // Nothing recognised this input: say what every input kind looks like.
    shapeError(ctx, "wrong-type", "expected a network: a scenario (a YAML mapping with at least a \"name\"), Kube-OVN manifests (YAML documents with apiVersion and kind), or an OVN Northbound database (a standalone or clustered .db file, or ovsdb-client dump -f json)", root);
    return fail(...ctx.diags);
  }
  const plain = checkObject(ctx, root, SCENARIO, [], "scenario") ?? {};
  const b: BuildCtx = { shape: ctx, modelToPlain: new Map() };
  const network = buildNetwork(b, plain);
  for (const d of validateNetwork(network, { checkMatch: exprMatchChecker })) {
    const path = d.path ?? [];
    let loc: Loc | undefined;
    for (let n = path.length; n >= 0 && !loc; n--) {
      const pp = b.modelToPlain.get(formatPath(path.slice(0, n)));
      if (pp) loc = ctx.locs.get(pp);
    }
    ctx.diags.push({ ...d, loc: loc ?? { file, line: 1, column: 1 } });
  }
  const probes = buildProbes(b, plain, network);
  if (ctx.diags.length > 0) return fail(...sortDiags(ctx.diags));
  const zones = asList(plain.zones).filter((z): z is string => typeof z === "string");
  return ok({ network, probes, zones });
}

/**
 * Parses a probes file: a mapping with a `probes:` list in the scenario's probe format, checked
 * against `net` as a scenario's probes are (datapath, ports, microflow syntax, ct flags, lb-dst).
 * `expect` may be left out (the probe is then `unchecked`). Every problem is a diagnostic at its
 * file:line:col.
 */
export function loadProbesText(text: string, file: string, net: Network): Result<Probe[]> {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return parsed;
  const ctx = parsed.value;
  const root = ctx.doc.contents;
  if (!isMap(root)) {
    shapeError(ctx, "wrong-type", 'a probes file must be a mapping with a "probes" list', root);
    return fail(...ctx.diags);
  }
  const plain = checkObject(ctx, root, PROBES_FILE, [], "probes file") ?? {};
  const b: BuildCtx = { shape: ctx, modelToPlain: new Map() };
  const probes = buildProbes(b, plain, net, true);
  if (ctx.diags.length > 0) return fail(...sortDiags(ctx.diags));
  return ok(probes);
}

function sortDiags(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.column ?? 0) - (b.loc?.column ?? 0));
}

/** The kinds of input a network can be loaded from. */
export type InputKind = "scenario" | "nb-database" | "kube-manifest";

/** Guesses what a network file holds from its content. */
export function detectInputKind(text: string): InputKind {
  const head = text.slice(0, 4096);
  // An OVSDB file starts with a "OVSDB JSON <len> <hash>" record header, a clustered one with
  // "OVSDB CLUSTER"; `ovsdb-client dump -f json` output with a table object.
  if (/^OVSDB (JSON|CLUSTER) /.test(head) || isOvsdbInput(Buffer.from(head.slice(0, 256), "utf8"))) return "nb-database";
  if (/^\s*apiVersion\s*:/m.test(head) && /^\s*kind\s*:/m.test(head)) return "kube-manifest";
  return "scenario";
}

/** Options of the network loaders. */
export interface LoadOptions {
  /** The Southbound database (file or JSON dump) beside a Northbound one. */
  readonly sb?: string;
}

/** Reads the Southbound input named by `opts.sb`. */
function readSb(opts: LoadOptions): Result<OvsdbSource | undefined> {
  if (opts.sb === undefined) return ok(undefined);
  try {
    return ok({ bytes: readFileSync(opts.sb), file: opts.sb });
  } catch (e) {
    return fail(error("input.read", `cannot read ${opts.sb}: ${(e as Error).message}`, { file: opts.sb }));
  }
}

function sbNeedsNb(opts: LoadOptions, file: string): Result<Scenario> | undefined {
  if (opts.sb === undefined) return undefined;
  return fail(error("input.sb-without-nb", `--sb ${opts.sb} goes with an OVN Northbound database, but ${file} is not one`, { file }));
}

/**
 * Adds what a loaded network holds that is most likely not meant, or that ovnsim does not model,
 * as warnings: chassis of other zones (OVN-IC, is-remote) without an interconnection gateway
 * (is-interconn) in this zone, so that no chassis has a tunnel to them.
 */
function withNetworkWarnings(r: Result<Scenario>, file: string): Result<Scenario> {
  if (!r.ok) return r;
  const out: Diagnostic[] = [];
  const chassis = [...r.value.network.chassis.values()];
  const remote = chassis.filter((c) => c.isRemote).map((c) => c.name);
  if (remote.length > 0 && !chassis.some((c) => !c.isRemote && c.isInterconn)) {
    out.push(
      warning(
        "network.no-interconn-gateway",
        `chassis ${remote.join(", ")} ${remote.length === 1 ? "is" : "are"} of another zone (isRemote), but no chassis of this zone is an OVN-IC gateway (isInterconn, ovn-is-interconn): none has a tunnel there, so nothing crosses to the other zone`,
        { file, path: ["chassis"] },
      ),
    );
  }
  return out.length === 0 ? r : ok({ ...r.value, warnings: [...(r.value.warnings ?? []), ...out] });
}

/** Loads a network from text of any supported kind. */
export function loadNetworkText(text: string, file: string, opts: LoadOptions = {}): Result<Scenario> {
  return withNetworkWarnings(loadText(text, file, opts), file);
}

function loadText(text: string, file: string, opts: LoadOptions): Result<Scenario> {
  const kind = detectInputKind(text);
  switch (kind) {
    case "scenario":
      return sbNeedsNb(opts, file) ?? loadScenario(text, file);
    case "nb-database": {
      const sb = readSb(opts);
      if (!sb.ok) return sb;
      return loadOvsdbNetwork({ bytes: Buffer.from(text, "utf8"), file }, sb.value);
    }
    case "kube-manifest":
      return sbNeedsNb(opts, file) ?? loadKubeManifests([{ text, file }], basename(file).replace(/\.ya?ml$/, ""));
    default: {
      const _: never = kind;
      return _;
    }
  }
}

/**
 * Reads and loads a network file (every command that takes a NETWORK argument calls this). A
 * directory is a set of Kube-OVN manifests: every `.yaml` / `.yml` file in it, in name order (with
 * OVN-IC, one availability zone whose siblings are the other zones: kube/load.ts). An
 * OVN database is read as bytes (its records are checked byte by byte); `opts.sb` adds its
 * Southbound.
 */
export function loadNetworkFile(path: string, opts: LoadOptions = {}): Result<Scenario> {
  return withNetworkWarnings(loadFile(path, opts), path);
}

function loadFile(path: string, opts: LoadOptions): Result<Scenario> {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) return sbNeedsNb(opts, path) ?? loadKubeDirectory(path);
    bytes = readFileSync(path);
  } catch (e) {
    // The diagnostic names the file; the message says only why.
    const code = (e as NodeJS.ErrnoException).code;
    return fail(error("input.read", code === "ENOENT" ? "cannot read: no such file or directory" : `cannot read (${code ?? (e as Error).message})`, { file: path }));
  }
  if (isOvsdbInput(bytes)) {
    const sb = readSb(opts);
    if (!sb.ok) return sb;
    return loadOvsdbNetwork({ bytes, file: path }, sb.value);
  }
  return loadText(bytes.toString("utf8"), path, opts);
}
