/**
 * Northbound tables → the model's `Network`.
 *
 * What: every NB table the model has a place for becomes its record: Logical_Switch(_Port), ACL,
 * Port_Group, Address_Set, Load_Balancer, Logical_Router(_Port), Logical_Router_Static_Route,
 * Logical_Router_Policy, NAT, Gateway_Chassis, HA_Chassis_Group (+ HA_Chassis),
 * Static_MAC_Binding and NB_Global's options. It is the inverse of `exportNbctl`: every column that
 * exporter writes is read back here, including the keys it folds into other columns
 * (`requested-tnl-key` → `tunnelKey`, NAT `options:stateless` → `stateless`, ACL
 * `options:apply-after-lb` → `applyAfterLb`).
 *
 * Folded in rather than kept: Load_Balancer_Group (its load balancers are attached to each switch
 * and router that uses the group, which is what ovn-northd does with them); a port's
 * `dynamic_addresses` (ovn-northd's allocation replaces the `dynamic` word, as ovn-northd uses it);
 * a policy's deprecated single `nexthop` (when `nexthops` is empty).
 *
 * Not modelled, reported as warnings with counts, never dropped silently: tables the model has no
 * place for (DHCP_Options, DNS, QoS, Meter, Copp, BFD, Mirror, Forwarding_Group,
 * Load_Balancer_Health_Check, Chassis_Template_Var, Connection, SSL, and any table a newer schema
 * adds), columns holding a non-default value the model does not read (an ACL's meter, a port's
 * DHCP options, a router port's IPv6 RA settings, ...), option keys the compiler does not read
 * (kept in the model's options as data), and `vtep` ports (left out).
 *
 * Order: objects keep the order their rows were created in (see `database.ts`), which is the order
 * ovn-northd handed out tunnel keys; a router's static routes keep the UUID order of its
 * `static_routes` column, which is how ovn-northd numbers ECMP members.
 *
 * Names are the model's keys: an unnamed switch or router is named by its UUID. Two rows of the
 * same kind with one name, or a switch port and router port sharing a name, are errors, because
 * the model cannot tell them apart.
 */
import { List, OrderedMap } from "immutable";
import { error, warning, type Diagnostic, type Result } from "../../base/index.js";
import {
  Acl,
  AddressSet,
  GatewayChassis,
  HaChassisGroup,
  LoadBalancer,
  LogicalRouter,
  LogicalSwitch,
  MacBinding,
  Nat,
  Network,
  PortGroup,
  RouterPolicy,
  RouterPort,
  StaticRoute,
  SwitchPort,
  type AclAction,
  type AclDirection,
  type NatType,
  type RoutePolicy,
  type RouterPolicyAction,
  type SwitchPortType,
} from "../../model/index.js";
import { databaseName, getBool, getInt, getRefs, getString, getStringMap, getStrings, rowsOf, type OvsdbDatabase, type OvsdbRow } from "./database.js";
import { isDefaultDatum } from "./datum.js";

/** Per NB table the model reads: the columns read (or deliberately ignored) and the known keys of its map columns. */
interface TableSpec {
  readonly columns: readonly string[];
  readonly keys?: Readonly<Record<string, readonly string[]>>;
}

/**
 * What the import reads. Columns listed but not mapped are status or bookkeeping that ovn-northd
 * or the management plane writes and that do not change forwarding (`up`, `nb_cfg`, the
 * external_ids of rows the model has no external_ids for, a Gateway_Chassis row's own name).
 * Option keys listed are the ones the compiler reads, the ones folded into other fields, and a few
 * that only matter to daemons (IPAM hints, gratuitous ARP, MAC binding ageing, conntrack zones).
 */
export const NB_READ: Readonly<Record<string, TableSpec>> = {
  NB_Global: {
    columns: ["name", "options", "external_ids", "nb_cfg", "nb_cfg_timestamp", "sb_cfg", "sb_cfg_timestamp", "hv_cfg", "hv_cfg_timestamp", "connections", "ssl"],
    keys: { options: ["svc_monitor_mac", "use_ct_inv_match", "mac_prefix", "max_tunid", "northd_internal_version"] },
  },
  Logical_Switch: {
    columns: ["name", "ports", "acls", "load_balancer", "load_balancer_group", "other_config", "external_ids"],
    keys: { other_config: ["requested-tnl-key", "subnet", "ipv6_prefix", "exclude_ips", "mac_only", "interconn-ts"] },
  },
  Logical_Switch_Port: {
    columns: ["name", "type", "addresses", "port_security", "options", "tag", "enabled", "external_ids", "up", "dynamic_addresses"],
    keys: { options: ["router-port", "network_name", "requested-chassis", "requested-tnl-key", "nat-addresses", "exclude-lb-vips-from-garp", "iface-id-ver"] },
  },
  ACL: { columns: ["direction", "priority", "match", "action", "name", "label", "log", "severity", "options", "external_ids"], keys: { options: ["apply-after-lb"] } },
  Port_Group: { columns: ["name", "ports", "acls", "external_ids"] },
  Address_Set: { columns: ["name", "addresses", "external_ids"] },
  Load_Balancer: { columns: ["name", "protocol", "vips", "selection_fields", "options", "external_ids"], keys: { options: ["reject", "skip_snat", "neighbor_responder", "hairpin_snat_ip", "affinity_timeout"] } },
  Load_Balancer_Group: { columns: ["name", "load_balancer"] },
  Logical_Router: {
    columns: ["name", "ports", "static_routes", "policies", "nat", "load_balancer", "load_balancer_group", "options", "enabled", "external_ids"],
    keys: { options: ["chassis", "lb_force_snat_ip", "dnat_force_snat_ip", "dynamic_neigh_routers", "always_learn_from_arp_request", "requested-tnl-key", "mac_binding_age_threshold", "snat-ct-zone"] },
  },
  Logical_Router_Port: {
    columns: ["name", "mac", "networks", "peer", "gateway_chassis", "ha_chassis_group", "options", "enabled", "external_ids"],
    keys: { options: ["route_table", "gateway_mtu", "gateway_mtu_bypass", "reside-on-redirect-chassis", "redirect-type", "requested-tnl-key"] },
  },
  Logical_Router_Static_Route: { columns: ["ip_prefix", "nexthop", "output_port", "policy", "route_table", "options", "external_ids"], keys: { options: ["ecmp_symmetric_reply", "origin"] } },
  Logical_Router_Policy: { columns: ["priority", "match", "action", "nexthops", "nexthop", "options", "external_ids"], keys: { options: ["pkt_mark"] } },
  NAT: {
    columns: ["type", "external_ip", "logical_ip", "external_mac", "logical_port", "external_port_range", "options", "gateway_port", "allowed_ext_ips", "exempted_ext_ips", "external_ids"],
    keys: { options: ["stateless", "add_route"] },
  },
  Gateway_Chassis: { columns: ["name", "chassis_name", "priority", "external_ids"] },
  HA_Chassis_Group: { columns: ["name", "ha_chassis", "external_ids"] },
  HA_Chassis: { columns: ["chassis_name", "priority", "external_ids"] },
  Static_MAC_Binding: { columns: ["logical_port", "ip", "mac", "override_dynamic_mac"] },
};

const PORT_TYPES: ReadonlySet<string> = new Set(["", "router", "localnet", "remote", "localport", "external", "virtual", "l2gateway"]);

/** The model read from a Northbound database, with what did not fit. */
export interface NbImport {
  readonly network: Network;
  /** Everything not modelled, one warning per kind with its count. */
  readonly warnings: readonly Diagnostic[];
  /** Chassis names the Northbound rows refer to (gateway chassis, HA chassis, `options:chassis`, `requested-chassis`). */
  readonly chassisNames: readonly string[];
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Counts what does not fit, to report each kind once with its count. */
class Tally {
  private readonly counts = new Map<string, { code: string; n: number; text: (n: number) => string }>();
  add(key: string, code: string, text: (n: number) => string): void {
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { code, n: 1, text });
  }
  diagnostics(file: string): Diagnostic[] {
    return [...this.counts.values()].map((c) => warning(c.code, c.text(c.n), { file }));
  }
}

class NbReader {
  readonly tally = new Tally();
  readonly errors: Diagnostic[] = [];
  readonly chassisNames = new Set<string>();
  /** Row position in its table, per table (creation order). */
  private readonly position = new Map<string, Map<string, number>>();
  /** Names by row uuid. */
  readonly names = new Map<string, string>();
  /** Load balancer group → its load balancers, resolved once (a group is often shared by every switch). */
  readonly groupMembers = new Map<string, string[]>();
  /** Switch ports left out (vtep). */
  readonly skippedPorts = new Set<string>();

  readonly db: OvsdbDatabase;

  constructor(db: OvsdbDatabase) {
    this.db = db;
  }

  rows(table: string): OvsdbRow[] {
    return [...rowsOf(this.db, table).values()];
  }

  /**
   * The rows `uuids` refers to in `table`, in the table's (creation) order, or with `uuidOrder` in
   * the column's own order; dangling references are counted.
   */
  children(table: string, uuids: readonly string[], owner: string, column: string, uuidOrder = false): OvsdbRow[] {
    const rows = rowsOf(this.db, table);
    const out: OvsdbRow[] = [];
    for (const u of uuids) {
      const r = rows.get(u);
      if (r) out.push(r);
      else this.tally.add(`dangling ${owner} ${column}`, "nb.dangling-ref", (n) => `NB ${owner} ${column}: ${plural(n, "reference")} to missing ${table} rows, left out`);
    }
    if (uuidOrder) return out;
    let pos = this.position.get(table);
    if (!pos) {
      pos = new Map([...rows.keys()].map((u, i) => [u, i]));
      this.position.set(table, pos);
    }
    const at = pos;
    return out.sort((a, b) => at.get(a.uuid)! - at.get(b.uuid)!);
  }

  /** Names each row of a named table (the UUID when the name is empty); duplicates are errors. */
  nameRows(table: string, seen: Map<string, { table: string; uuid: string }> = new Map()): void {
    for (const r of this.rows(table)) {
      const name = getString(r, "name") || r.uuid;
      const prev = seen.get(name);
      if (prev !== undefined) {
        const what = prev.table === table ? `two ${table} rows` : `a ${prev.table} row and a ${table} row`;
        this.errors.push(error("nb.duplicate-name", `NB ${table}: "${name}" names ${what} (${prev.uuid} and ${r.uuid}); the model needs unique names`, { file: this.db.file }));
        continue;
      }
      seen.set(name, { table, uuid: r.uuid });
      this.names.set(r.uuid, name);
    }
  }

  name(uuid: string): string | undefined {
    return this.names.get(uuid);
  }

  /** String→string map column, less the keys `drop` lists. */
  strMap(row: OvsdbRow, col: string, drop: readonly string[] = []): OrderedMap<string, string> {
    return OrderedMap(getStringMap(row, col).filter(([k]) => !drop.includes(k)));
  }

  /** A `requested-tnl-key` style option as a number, when it is one. */
  tunnelKey(row: OvsdbRow, col: string): number | undefined {
    const v = getStringMap(row, col).find(([k]) => k === "requested-tnl-key")?.[1];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
}

function readAcl(nb: NbReader, r: OvsdbRow): Acl {
  const opts = getStringMap(r, "options");
  return Acl({
    direction: (getString(r, "direction") ?? "from-lport") as AclDirection,
    priority: getInt(r, "priority") ?? 0,
    match: getString(r, "match") ?? "",
    action: (getString(r, "action") ?? "allow") as AclAction,
    name: getString(r, "name"),
    label: getInt(r, "label") ?? 0,
    log: getBool(r, "log") ?? false,
    severity: getString(r, "severity"),
    applyAfterLb: opts.some(([k, v]) => k === "apply-after-lb" && v === "true"),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readAcls(nb: NbReader, owner: OvsdbRow, table: string): List<Acl> {
  return List(nb.children("ACL", getRefs(owner, "acls"), table, "acls").map((r) => readAcl(nb, r)));
}

/** Load balancer names attached directly and through load balancer groups, each once. */
function loadBalancerNames(nb: NbReader, owner: OvsdbRow, table: string): List<string> {
  const out = new Set<string>();
  const add = (u: string): void => {
    const n = nb.name(u);
    if (n !== undefined) out.add(n);
  };
  for (const lb of nb.children("Load_Balancer", getRefs(owner, "load_balancer"), table, "load_balancer")) add(lb.uuid);
  for (const g of nb.children("Load_Balancer_Group", getRefs(owner, "load_balancer_group"), table, "load_balancer_group")) {
    let members = nb.groupMembers.get(g.uuid);
    if (!members) {
      members = nb.children("Load_Balancer", getRefs(g, "load_balancer"), "Load_Balancer_Group", "load_balancer").map((lb) => lb.uuid);
      nb.groupMembers.set(g.uuid, members);
    }
    for (const u of members) add(u);
  }
  return List(out);
}

function readSwitchPort(nb: NbReader, r: OvsdbRow): SwitchPort {
  const name = nb.name(r.uuid)!;
  const type = getString(r, "type") ?? "";
  const dynamic = getString(r, "dynamic_addresses");
  const addresses = getStrings(r, "addresses").map((a) => {
    const words = a.trim().split(/\s+/);
    if (dynamic === undefined || !words.includes("dynamic")) return a;
    // "dynamic" or "MAC dynamic": ovn-northd's allocation is what the port uses.
    return dynamic;
  });
  const options = nb.strMap(r, "options", ["requested-tnl-key"]);
  const requested = options.get("requested-chassis");
  if (requested !== undefined && requested !== "") nb.chassisNames.add(requested);
  return SwitchPort({
    name,
    type: type as SwitchPortType,
    addresses: List(addresses),
    portSecurity: List(getStrings(r, "port_security")),
    options,
    tag: getInt(r, "tag"),
    chassis: undefined,
    enabled: getBool(r, "enabled") ?? true,
    tunnelKey: nb.tunnelKey(r, "options"),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readSwitches(nb: NbReader): OrderedMap<string, LogicalSwitch> {
  let out = OrderedMap<string, LogicalSwitch>();
  for (const r of nb.rows("Logical_Switch")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    let ports = OrderedMap<string, SwitchPort>();
    for (const pr of nb.children("Logical_Switch_Port", getRefs(r, "ports"), "Logical_Switch", "ports")) {
      const pname = nb.name(pr.uuid);
      if (pname === undefined) continue;
      const type = getString(pr, "type") ?? "";
      if (!PORT_TYPES.has(type)) {
        nb.skippedPorts.add(pr.uuid);
        nb.tally.add(`port type ${type}`, "nb.not-modelled", (n) => `NB Logical_Switch_Port type "${type}": ${plural(n, "port")} not modelled, left out`);
        continue;
      }
      ports = ports.set(pname, readSwitchPort(nb, pr));
    }
    out = out.set(
      name,
      LogicalSwitch({
        name,
        ports,
        acls: readAcls(nb, r, "Logical_Switch"),
        loadBalancers: loadBalancerNames(nb, r, "Logical_Switch"),
        otherConfig: nb.strMap(r, "other_config", ["requested-tnl-key"]),
        tunnelKey: nb.tunnelKey(r, "other_config"),
        externalIds: nb.strMap(r, "external_ids"),
      }),
    );
  }
  return out;
}

function readPortGroups(nb: NbReader): OrderedMap<string, PortGroup> {
  let out = OrderedMap<string, PortGroup>();
  for (const r of nb.rows("Port_Group")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    const members = nb
      .children("Logical_Switch_Port", getRefs(r, "ports"), "Port_Group", "ports")
      .filter((p) => !nb.skippedPorts.has(p.uuid))
      .map((p) => nb.name(p.uuid))
      .filter((n): n is string => n !== undefined);
    out = out.set(name, PortGroup({ name, ports: List(members), acls: readAcls(nb, r, "Port_Group"), externalIds: nb.strMap(r, "external_ids") }));
  }
  return out;
}

function readAddressSets(nb: NbReader): OrderedMap<string, AddressSet> {
  let out = OrderedMap<string, AddressSet>();
  for (const r of nb.rows("Address_Set")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    out = out.set(name, AddressSet({ name, addresses: List(getStrings(r, "addresses")), externalIds: nb.strMap(r, "external_ids") }));
  }
  return out;
}

function readLoadBalancers(nb: NbReader): OrderedMap<string, LoadBalancer> {
  let out = OrderedMap<string, LoadBalancer>();
  for (const r of nb.rows("Load_Balancer")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    const vips = OrderedMap(
      getStringMap(r, "vips").map(([vip, backends]): [string, List<string>] => [
        vip,
        List(
          backends
            .split(",")
            .map((b) => b.trim())
            .filter((b) => b !== ""),
        ),
      ]),
    );
    out = out.set(
      name,
      LoadBalancer({
        name,
        protocol: (getString(r, "protocol") || "tcp") as "tcp" | "udp" | "sctp",
        vips,
        selectionFields: List(getStrings(r, "selection_fields")),
        options: nb.strMap(r, "options"),
        externalIds: nb.strMap(r, "external_ids"),
      }),
    );
  }
  return out;
}

function chassisList(nb: NbReader, rows: readonly OvsdbRow[]): List<GatewayChassis> {
  const out = rows.map((g) => GatewayChassis({ chassis: getString(g, "chassis_name") ?? "", priority: getInt(g, "priority") ?? 0 }));
  for (const g of out) if (g.chassis !== "") nb.chassisNames.add(g.chassis);
  // A set in the database: highest priority first, then by chassis name, so the order is stable.
  return List(out.sort((a, b) => b.priority - a.priority || (a.chassis < b.chassis ? -1 : a.chassis > b.chassis ? 1 : 0)));
}

function readHaChassisGroups(nb: NbReader): OrderedMap<string, HaChassisGroup> {
  let out = OrderedMap<string, HaChassisGroup>();
  for (const r of nb.rows("HA_Chassis_Group")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    const members = nb.children("HA_Chassis", getRefs(r, "ha_chassis"), "HA_Chassis_Group", "ha_chassis");
    out = out.set(name, HaChassisGroup({ name, chassis: chassisList(nb, members), externalIds: nb.strMap(r, "external_ids") }));
  }
  return out;
}

function readRouterPort(nb: NbReader, r: OvsdbRow): RouterPort {
  const gc = nb.children("Gateway_Chassis", getRefs(r, "gateway_chassis"), "Logical_Router_Port", "gateway_chassis");
  const ha = getRefs(r, "ha_chassis_group")[0];
  return RouterPort({
    name: nb.name(r.uuid)!,
    mac: getString(r, "mac") ?? "",
    networks: List(getStrings(r, "networks")),
    peer: getString(r, "peer"),
    gatewayChassis: chassisList(nb, gc),
    haChassisGroup: ha !== undefined ? nb.name(ha) : undefined,
    options: nb.strMap(r, "options", ["requested-tnl-key"]),
    enabled: getBool(r, "enabled") ?? true,
    tunnelKey: nb.tunnelKey(r, "options"),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readRoute(nb: NbReader, r: OvsdbRow): StaticRoute {
  return StaticRoute({
    ipPrefix: getString(r, "ip_prefix") ?? "",
    nexthop: getString(r, "nexthop") ?? "",
    outputPort: getString(r, "output_port"),
    policy: (getString(r, "policy") ?? "dst-ip") as RoutePolicy,
    routeTable: getString(r, "route_table") ?? "",
    options: nb.strMap(r, "options"),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readPolicy(nb: NbReader, r: OvsdbRow): RouterPolicy {
  let nexthops = getStrings(r, "nexthops");
  const single = getString(r, "nexthop");
  if (nexthops.length === 0 && single !== undefined && single !== "") nexthops = [single];
  return RouterPolicy({
    priority: getInt(r, "priority") ?? 0,
    match: getString(r, "match") ?? "",
    action: (getString(r, "action") ?? "allow") as RouterPolicyAction,
    nexthops: List(nexthops),
    options: nb.strMap(r, "options"),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readNat(nb: NbReader, r: OvsdbRow): Nat {
  const ref = (col: string): string | undefined => {
    const u = getRefs(r, col)[0];
    return u !== undefined ? nb.name(u) : undefined;
  };
  const range = getString(r, "external_port_range");
  return Nat({
    type: (getString(r, "type") ?? "snat") as NatType,
    externalIp: getString(r, "external_ip") ?? "",
    logicalIp: getString(r, "logical_ip") ?? "",
    externalMac: getString(r, "external_mac"),
    logicalPort: getString(r, "logical_port"),
    externalPortRange: range === "" ? undefined : range,
    stateless: getStringMap(r, "options").some(([k, v]) => k === "stateless" && v === "true"),
    gatewayPort: ref("gateway_port"),
    allowedExtIps: ref("allowed_ext_ips"),
    exemptedExtIps: ref("exempted_ext_ips"),
    options: nb.strMap(r, "options", ["stateless"]),
    externalIds: nb.strMap(r, "external_ids"),
  });
}

function readRouters(nb: NbReader): OrderedMap<string, LogicalRouter> {
  let out = OrderedMap<string, LogicalRouter>();
  for (const r of nb.rows("Logical_Router")) {
    const name = nb.name(r.uuid);
    if (name === undefined) continue;
    let ports = OrderedMap<string, RouterPort>();
    for (const pr of nb.children("Logical_Router_Port", getRefs(r, "ports"), "Logical_Router", "ports")) {
      const pname = nb.name(pr.uuid);
      if (pname !== undefined) ports = ports.set(pname, readRouterPort(nb, pr));
    }
    const options = nb.strMap(r, "options", ["requested-tnl-key"]);
    const gwChassis = options.get("chassis");
    if (gwChassis !== undefined && gwChassis !== "") nb.chassisNames.add(gwChassis);
    out = out.set(
      name,
      LogicalRouter({
        name,
        ports,
        staticRoutes: List(nb.children("Logical_Router_Static_Route", getRefs(r, "static_routes"), "Logical_Router", "static_routes", true).map((x) => readRoute(nb, x))),
        policies: List(nb.children("Logical_Router_Policy", getRefs(r, "policies"), "Logical_Router", "policies").map((x) => readPolicy(nb, x))),
        nat: List(nb.children("NAT", getRefs(r, "nat"), "Logical_Router", "nat").map((x) => readNat(nb, x))),
        loadBalancers: loadBalancerNames(nb, r, "Logical_Router"),
        options,
        enabled: getBool(r, "enabled") ?? true,
        tunnelKey: nb.tunnelKey(r, "options"),
        externalIds: nb.strMap(r, "external_ids"),
      }),
    );
  }
  return out;
}

function readStaticMacBindings(nb: NbReader): List<MacBinding> {
  return List(
    nb.rows("Static_MAC_Binding").map((r) =>
      MacBinding({ logicalPort: getString(r, "logical_port") ?? "", ip: getString(r, "ip") ?? "", mac: getString(r, "mac") ?? "", overrideDynamicMac: getBool(r, "override_dynamic_mac") ?? false }),
    ),
  );
}

/** Counts tables, columns and option keys the model does not read. */
function tallyUnread(nb: NbReader): void {
  for (const [table, rows] of nb.db.tables) {
    if (rows.size === 0) continue;
    const spec = NB_READ[table];
    if (!spec) {
      const n = rows.size;
      nb.tally.add(`table ${table}`, "nb.not-modelled", () => `NB ${table}: ${plural(n, "row")} not modelled`);
      continue;
    }
    for (const r of rows.values()) {
      for (const [col, d] of r.columns) {
        if (!spec.columns.includes(col)) {
          if (!isDefaultDatum(d)) nb.tally.add(`column ${table}.${col}`, "nb.not-modelled", (n) => `NB ${table} column ${col}: set on ${plural(n, "row")}, not modelled`);
          continue;
        }
        const known = spec.keys?.[col];
        if (known === undefined || d.kind !== "map") continue;
        for (const [k] of d.entries) {
          if (typeof k !== "string" || known.includes(k)) continue;
          nb.tally.add(`key ${table}.${col}.${k}`, "nb.not-modelled", (n) => `NB ${table} ${col}:${k}: set on ${plural(n, "row")}, not modelled (kept as data)`);
        }
      }
    }
  }
  const ipsec = nb.rows("NB_Global").some((r) => getBool(r, "ipsec") === true);
  if (ipsec) nb.tally.add("ipsec", "nb.not-modelled", () => `NB NB_Global ipsec: true, not modelled (tunnels are traced unencrypted)`);
}

/**
 * Reads a Northbound database into a `Network` (not yet validated: the caller adds chassis from
 * the Southbound database, or placeholders, and validates). `fallbackName` names the network when
 * NB_Global has no name.
 */
export function networkFromNb(db: OvsdbDatabase, fallbackName: string): Result<NbImport> {
  const which = databaseName(db);
  if (which !== "OVN_Northbound") {
    const hint = which === "OVN_Southbound" ? "; give the Northbound database, and this one with --sb" : "";
    return { ok: false, diags: [error("nb.wrong-database", `${db.file} is ${which ? `an ${which} database` : "not an OVN Northbound database"}, not OVN_Northbound${hint}`, { file: db.file })] };
  }
  const nb = new NbReader(db);
  // Port names are unique across switch and router ports in the model; other kinds have their own namespace.
  const portNames = new Map<string, { table: string; uuid: string }>();
  nb.nameRows("Logical_Switch_Port", portNames);
  nb.nameRows("Logical_Router_Port", portNames);
  for (const table of ["Logical_Switch", "Logical_Router", "Load_Balancer", "Load_Balancer_Group", "Address_Set", "Port_Group", "HA_Chassis_Group"]) nb.nameRows(table);
  if (nb.errors.length > 0) return { ok: false, diags: nb.errors };

  const global = nb.rows("NB_Global")[0];
  const network = Network({
    name: (global && getString(global, "name")) || fallbackName,
    switches: readSwitches(nb),
    portGroups: readPortGroups(nb),
    addressSets: readAddressSets(nb),
    loadBalancers: readLoadBalancers(nb),
    routers: readRouters(nb),
    haChassisGroups: readHaChassisGroups(nb),
    staticMacBindings: readStaticMacBindings(nb),
    options: global ? nb.strMap(global, "options") : OrderedMap(),
  });
  tallyUnread(nb);
  return { ok: true, value: { network, warnings: nb.tally.diagnostics(db.file), chassisNames: [...nb.chassisNames] } };
}
