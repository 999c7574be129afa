/**
 * Real ovn-northd output as a runnable `LogicalProgram`: a snapshot of the Southbound tables
 * ovn-trace reads, taken from a running `OvnSandbox`, and its lowering through
 * `lowerLogicalFlows`.
 *
 * What the snapshot holds (`SbSnapshot`, plain JSON so tests can keep it as a recording):
 * datapaths (tunnel key, name, switch or router) with their logical flows (datapath groups
 * expanded), port bindings (key, datapath, type, patch / l3gateway peer, the distributed port of a
 * chassis-redirect port), multicast groups with their member port names, MAC bindings (what
 * ovn-trace consults for `get_arp` / `lookup_arp`), port groups and address sets.
 *
 * How it maps onto the program, as ovn-trace reads the same tables: `patch` and `l3gateway` ports
 * with a peer become patch ports (the `LogicalPort` type has no `l3gateway`, so those read as
 * `patch`); `is_chassis_resident(P)` is true for every port that exists (ovn-trace is not chassis
 * specific); flows whose stage name is known lower to that stage's table, others to their table
 * number. Nothing here throws on a bad snapshot: problems come back as diagnostics.
 */
import { error, fail, type Result } from "../../src/base/index.js";
import { lowerLogicalFlows, type DatapathInput, type LowerFlow } from "../../src/compile/index.js";
import type { MacBindingEntry } from "../../src/dataplane/index.js";
import type { LogicalPort, LogicalPortType, LogicalProgram } from "../../src/ofp/index.js";
import type { OvnSandbox } from "../../src/ovn/index.js";

export interface SbFlow {
  readonly pipeline: "ingress" | "egress";
  readonly table: number;
  readonly stage: string;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

export interface SbDatapath {
  readonly name: string;
  readonly key: number;
  readonly kind: "switch" | "router";
  /** Sorted by pipeline, table, priority (highest first), match. */
  readonly flows: readonly SbFlow[];
}

export interface SbPort {
  readonly name: string;
  readonly key: number;
  /** Datapath name. */
  readonly datapath: string;
  /** The Port_Binding type as northd wrote it (`""`, `patch`, `l3gateway`, `chassisredirect`, ...). */
  readonly type: string;
  /** `options:peer` of a patch or l3gateway port. */
  readonly peer?: string;
  /** `options:distributed-port` of a chassis-redirect port. */
  readonly distributedPort?: string;
  /** Name of the chassis it is bound to. */
  readonly chassis?: string;
}

export interface SbMulticastGroup {
  readonly datapath: string;
  readonly name: string;
  readonly key: number;
  /** Member port names, sorted by port key. */
  readonly ports: readonly string[];
}

export interface SbSnapshot {
  /** The ovn-northd version that wrote it. */
  readonly ovn: string;
  readonly datapaths: readonly SbDatapath[];
  readonly ports: readonly SbPort[];
  readonly multicast: readonly SbMulticastGroup[];
  readonly macBindings: readonly MacBindingEntry[];
  readonly portGroups: Readonly<Record<string, readonly string[]>>;
  readonly addressSets: Readonly<Record<string, readonly string[]>>;
}

function setOf(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set") return v[1] as unknown[];
  return v === undefined ? [] : [v];
}

function mapOf(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v) && v[0] === "map") for (const [k, x] of v[1] as [unknown, unknown][]) out.set(String(k), String(x));
  return out;
}

function uuidOf(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : undefined;
}

function must<T>(r: Result<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.diags.map((d) => d.message).join("; ")}`);
  return r.value;
}

const byFlow = (a: SbFlow, b: SbFlow): number =>
  a.pipeline.localeCompare(b.pipeline) || a.table - b.table || b.priority - a.priority || a.match.localeCompare(b.match) || a.actions.localeCompare(b.actions);

/** Reads the Southbound tables ovn-trace uses from a running sandbox (throws when a read fails: a test helper). */
export function readSbSnapshot(sb: OvnSandbox, version: string): SbSnapshot {
  const dpRows = must(sb.sbList("Datapath_Binding", ["_uuid", "tunnel_key", "external_ids"]), "Datapath_Binding");
  const dpByUuid = new Map<string, { name: string; key: number; kind: "switch" | "router" }>();
  for (const r of dpRows) {
    const ext = mapOf(r.external_ids);
    const key = Number(r.tunnel_key);
    dpByUuid.set(uuidOf(r._uuid) ?? "", { name: ext.get("name") ?? `dp${key}`, key, kind: ext.has("logical-router") ? "router" : "switch" });
  }
  const chassis = must(sb.sbList("Chassis", ["_uuid", "name"]), "Chassis");
  const chassisName = new Map(chassis.map((c) => [uuidOf(c._uuid) ?? "", String(c.name)]));
  const pbRows = must(sb.sbList("Port_Binding", ["_uuid", "logical_port", "tunnel_key", "datapath", "type", "options", "chassis"]), "Port_Binding");
  const portByUuid = new Map<string, string>();
  const ports: SbPort[] = [];
  for (const r of pbRows) {
    const opts = mapOf(r.options);
    const ch = setOf(r.chassis).map(uuidOf)[0];
    portByUuid.set(uuidOf(r._uuid) ?? "", String(r.logical_port));
    const type = String(r.type);
    const peer = type === "patch" || type === "l3gateway" ? opts.get("peer") : undefined;
    const distributedPort = type === "chassisredirect" ? opts.get("distributed-port") : undefined;
    ports.push({
      name: String(r.logical_port),
      key: Number(r.tunnel_key),
      datapath: dpByUuid.get(uuidOf(r.datapath) ?? "")?.name ?? "?",
      type,
      ...(peer !== undefined ? { peer } : {}),
      ...(distributedPort !== undefined ? { distributedPort } : {}),
      ...(ch !== undefined && chassisName.has(ch) ? { chassis: chassisName.get(ch)! } : {}),
    });
  }
  ports.sort((a, b) => a.datapath.localeCompare(b.datapath) || a.key - b.key);
  const keyOf = new Map(ports.map((p) => [p.name, p.key]));
  const mcRows = must(sb.sbList("Multicast_Group", ["datapath", "name", "tunnel_key", "ports"]), "Multicast_Group");
  const multicast: SbMulticastGroup[] = mcRows
    .map((r) => ({
      datapath: dpByUuid.get(uuidOf(r.datapath) ?? "")?.name ?? "?",
      name: String(r.name),
      key: Number(r.tunnel_key),
      ports: setOf(r.ports)
        .map((u) => portByUuid.get(uuidOf(u) ?? "") ?? "?")
        .sort((a, b) => (keyOf.get(a) ?? 0) - (keyOf.get(b) ?? 0)),
    }))
    .sort((a, b) => a.datapath.localeCompare(b.datapath) || a.key - b.key);
  const mbRows = must(sb.sbList("MAC_Binding", ["logical_port", "ip", "mac"]), "MAC_Binding");
  const macBindings: MacBindingEntry[] = mbRows.map((r) => ({ port: String(r.logical_port), ip: String(r.ip), mac: String(r.mac) })).sort((a, b) => a.port.localeCompare(b.port) || a.ip.localeCompare(b.ip));
  const pgRows = must(sb.sbList("Port_Group", ["name", "ports"]), "Port_Group");
  const portGroups: Record<string, string[]> = {};
  for (const r of pgRows.sort((a, b) => String(a.name).localeCompare(String(b.name)))) portGroups[String(r.name)] = setOf(r.ports).map(String).sort();
  const asRows = must(sb.sbList("Address_Set", ["name", "addresses"]), "Address_Set");
  const addressSets: Record<string, string[]> = {};
  for (const r of asRows.sort((a, b) => String(a.name).localeCompare(String(b.name)))) addressSets[String(r.name)] = setOf(r.addresses).map(String).sort();
  const lflows = must(sb.lflows(), "Logical_Flow");
  const datapaths: SbDatapath[] = [...dpByUuid.values()]
    .sort((a, b) => a.key - b.key)
    .map((d) => ({
      ...d,
      flows: lflows
        .filter((f) => f.datapaths.includes(d.name))
        .map((f): SbFlow => ({ pipeline: f.pipeline, table: f.table, stage: f.stage, priority: f.priority, match: f.match, actions: f.actions }))
        .sort(byFlow),
    }));
  return { ovn: version, datapaths, ports, multicast, macBindings, portGroups, addressSets };
}

/** The Port_Binding types that are OVN logical port types the program knows. */
const PORT_TYPES: ReadonlySet<string> = new Set<LogicalPortType>(["", "router", "localnet", "remote", "localport", "external", "virtual", "l2gateway", "patch", "chassisredirect"]);

/** Lowers a snapshot's flows into a program, as ovn-trace would run them. */
export function programOfSnapshot(s: SbSnapshot): Result<LogicalProgram> {
  const dpKey = new Map(s.datapaths.map((d) => [d.name, d.key]));
  const portsByName = new Map(s.ports.map((p) => [p.name, p]));
  const inputs: DatapathInput[] = [];
  for (const d of s.datapaths) {
    const ports: LogicalPort[] = [];
    for (const p of s.ports) {
      if (p.datapath !== d.name) continue;
      const peer = p.peer !== undefined ? portsByName.get(p.peer) : undefined;
      if (p.peer !== undefined && !peer) return fail(error("sb.no-peer", `port ${p.name}: peer ${p.peer} is not bound`));
      const type: LogicalPortType = p.type === "l3gateway" ? "patch" : PORT_TYPES.has(p.type) ? (p.type as LogicalPortType) : "";
      ports.push({
        name: p.name,
        key: p.key,
        type,
        datapath: d.key,
        ...(peer ? { peer: { datapath: dpKey.get(peer.datapath)!, port: peer.key } } : {}),
        ...(p.chassis !== undefined ? { chassis: p.chassis } : {}),
      });
    }
    const keyOf = new Map(ports.map((p) => [p.name, p.key]));
    const multicast = s.multicast.filter((m) => m.datapath === d.name).map((m) => ({ name: m.name, key: m.key, ports: m.ports.map((n) => keyOf.get(n) ?? 0).filter((k) => k !== 0) }));
    const flows = d.flows.map((f): LowerFlow => ({ pipeline: f.pipeline, table: f.stage || f.table, priority: f.priority, match: f.match, actions: f.actions, source: "ovn-northd" }));
    inputs.push({ key: d.key, name: d.name, kind: d.kind, ports, multicast, flows });
  }
  return lowerLogicalFlows({
    datapaths: inputs,
    addressSet: (n) => s.addressSets[n],
    portGroup: (n) => s.portGroups[n],
    isChassisResident: (p) => portsByName.has(p),
  });
}

/** The gateway routers of a snapshot: datapaths with an `l3gateway` port (ovn-trace's `has_local_l3gateway`). */
export function gatewayRoutersOf(s: SbSnapshot): Set<string> {
  return new Set(s.ports.filter((p) => p.type === "l3gateway").map((p) => p.datapath));
}

/** The chassis-redirect ports of a snapshot and the distributed ports they stand for, by name. */
export function redirectsOf(s: SbSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of s.ports) if (p.type === "chassisredirect" && p.distributedPort !== undefined) out.set(p.name, p.distributedPort);
  return out;
}

export { must };
