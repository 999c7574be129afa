/**
 * Exporting a network as the `ovn-nbctl` / `ovn-sbctl` commands that build it in real OVN.
 *
 * What: `exportNbctl` gives the Northbound commands as argument vectors (without the program name
 * and without `--db`), ready for `execFile`; `exportSbctl` gives the Southbound ones (chassis and
 * port bindings), which must run after `ovn-nbctl --wait=sb sync` because `lsp-bind` needs the
 * Port_Binding rows ovn-northd creates. `renderScript` turns either into a shell script with every
 * argument quoted.
 *
 * Order: NB_Global options, address sets, load balancers, switches with their ports, switch ACLs
 * and load balancer attachments, then port groups (their members must exist) and their ACLs, HA
 * chassis groups, and after all of those each router in model order: `lr-add`, its ports (with
 * gateway chassis or HA chassis group), static routes, policies, NAT rules, load balancers and
 * options; then the static MAC bindings (their router ports must exist). Target: OVN 23.03's
 * ovn-nbctl.
 *
 * ACLs, routes, policies and NAT rules go through their `*-add` command where its implied columns
 * agree with the model, else through a generic `create` plus `add ... COLUMN @id` in the same
 * invocation, which sets exactly the columns given. References to other rows (an HA chassis group,
 * a gateway port, an address set, a router's datapath in the Southbound database) are resolved in
 * the same invocation with `--id=@x get TABLE NAME`, so every command stands alone.
 *
 * Learned MAC bindings are Southbound rows: `exportSbctl` creates them on the router's
 * `Datapath_Binding`, which exists only once ovn-northd has synced. Kube-OVN NAT gateways are not
 * OVN objects; `exportNotes` says so in comments for the rendered script.
 */
import type { Acl, LoadBalancer, LogicalRouter, MacBinding, Nat, Network, RouterPolicy, StaticRoute } from "../model/index.js";
import { parseLbEndpoint } from "../model/index.js";

/** An OVSDB string atom: quoted when the database's bare-string syntax would misread it. */
function atom(s: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(s) && s !== "true" && s !== "false" ? s : JSON.stringify(s);
}

/** `column:key=value` for map columns, both sides as OVSDB atoms. */
function mapArg(column: string, key: string, value: string): string {
  return `${column}:${atom(key)}=${atom(value)}`;
}

/**
 * The command that adds one ACL. `acl-add` sets `log` whenever `--name` or `--severity` is given,
 * and refuses `--label` unless the action is allow or allow-related (the database takes a label on
 * any ACL, and northd ignores it on the others). So an ACL that has a name or severity but does not
 * log, a label `acl-add` refuses, or external_ids is created with a generic `create ACL` plus
 * `add ... acls`, which sets exactly the columns given.
 */
function aclArgs(acl: Acl, target: string, portGroup: boolean): string[] {
  const logImplied = acl.name !== undefined || acl.severity !== undefined;
  const labelRefused = acl.label !== 0 && acl.action !== "allow" && acl.action !== "allow-related";
  if ((logImplied && !acl.log) || labelRefused || acl.externalIds.size > 0) {
    const cols = [`direction=${acl.direction}`, `priority=${acl.priority}`, `match=${atom(acl.match)}`, `action=${acl.action}`, `log=${acl.log}`];
    if (acl.name !== undefined) cols.push(`name=${atom(acl.name)}`);
    if (acl.severity !== undefined) cols.push(`severity=${acl.severity}`);
    if (acl.label !== 0) cols.push(`label=${acl.label}`);
    if (acl.applyAfterLb) cols.push(mapArg("options", "apply-after-lb", "true"));
    for (const [k, v] of acl.externalIds) cols.push(mapArg("external_ids", k, v));
    return ["--id=@acl", "create", "ACL", ...cols, "--", "add", portGroup ? "Port_Group" : "Logical_Switch", target, "acls", "@acl"];
  }
  const a: string[] = [];
  if (portGroup) a.push("--type=port-group");
  if (acl.name !== undefined) a.push(`--name=${acl.name}`);
  if (acl.label !== 0) a.push(`--label=${acl.label}`);
  if (acl.log) a.push("--log");
  if (acl.severity !== undefined) a.push(`--severity=${acl.severity}`);
  if (acl.applyAfterLb) a.push("--apply-after-lb");
  a.push("acl-add", target, acl.direction, String(acl.priority), acl.match, acl.action);
  return a;
}

function lbCommands(lb: LoadBalancer): string[][] {
  const out: string[][] = [];
  for (const [vip, backends] of lb.vips) {
    const e = parseLbEndpoint(vip);
    // ovn-nbctl refuses a protocol on a VIP without a port.
    const withPort = typeof e !== "string" && e.port !== undefined;
    out.push(["lb-add", lb.name, vip, backends.join(","), ...(withPort ? [lb.protocol] : [])]);
  }
  if (lb.vips.size === 0) out.push(["create", "Load_Balancer", `name=${atom(lb.name)}`, `protocol=${lb.protocol}`]);
  if (lb.selectionFields.size > 0) out.push(["set", "Load_Balancer", lb.name, `selection_fields=${lb.selectionFields.join(",")}`]);
  for (const [k, v] of lb.options) out.push(["set", "Load_Balancer", lb.name, mapArg("options", k, v)]);
  for (const [k, v] of lb.externalIds) out.push(["set", "Load_Balancer", lb.name, mapArg("external_ids", k, v)]);
  return out;
}

/** `column={k=v,...}` for a whole map column. */
function mapColumn(column: string, m: Iterable<readonly [string, string]>): string {
  return `${column}={${[...m].map(([k, v]) => `${atom(k)}=${atom(v)}`).join(",")}}`;
}

/**
 * The command that adds one static route: `lr-route-add` when its flags can say everything (the
 * only option it sets is `ecmp_symmetric_reply`), else a generic create. `ecmp` marks a route
 * whose prefix an earlier route of the same table and policy already has.
 */
function routeCommand(lr: LogicalRouter, r: StaticRoute, ecmp: boolean): string[] {
  const symmetric = r.options.get("ecmp_symmetric_reply") === "true";
  const plain = r.externalIds.size === 0 && [...r.options.keys()].every((k) => k === "ecmp_symmetric_reply") && (r.options.size === 0 || symmetric);
  if (plain) {
    const a: string[] = [];
    if (r.policy !== "dst-ip") a.push(`--policy=${r.policy}`);
    if (ecmp) a.push("--ecmp");
    if (symmetric) a.push("--ecmp-symmetric-reply");
    if (r.routeTable !== "") a.push(`--route-table=${r.routeTable}`);
    a.push("lr-route-add", lr.name, r.ipPrefix, r.nexthop);
    if (r.outputPort !== undefined) a.push(r.outputPort);
    return a;
  }
  const cols = [`ip_prefix=${atom(r.ipPrefix)}`, `nexthop=${atom(r.nexthop)}`];
  if (r.outputPort !== undefined) cols.push(`output_port=${atom(r.outputPort)}`);
  if (r.policy !== "dst-ip") cols.push(`policy=${r.policy}`);
  if (r.routeTable !== "") cols.push(`route_table=${atom(r.routeTable)}`);
  if (r.options.size > 0) cols.push(mapColumn("options", r.options));
  if (r.externalIds.size > 0) cols.push(mapColumn("external_ids", r.externalIds));
  return ["--id=@route", "create", "Logical_Router_Static_Route", ...cols, "--", "add", "Logical_Router", lr.name, "static_routes", "@route"];
}

/** The command that adds one policy; `lr-policy-add` cannot set external_ids. */
function policyCommand(lr: LogicalRouter, p: RouterPolicy): string[] {
  if (p.externalIds.size === 0) {
    const a = ["lr-policy-add", lr.name, String(p.priority), p.match, p.action];
    if (p.action === "reroute") a.push(p.nexthops.join(","));
    for (const [k, v] of p.options) a.push(`${k}=${v}`);
    return a;
  }
  const cols = [`priority=${p.priority}`, `match=${atom(p.match)}`, `action=${p.action}`];
  if (p.nexthops.size > 0) cols.push(`nexthops=[${p.nexthops.map(atom).join(",")}]`);
  if (p.options.size > 0) cols.push(mapColumn("options", p.options));
  cols.push(mapColumn("external_ids", p.externalIds));
  return ["--id=@policy", "create", "Logical_Router_Policy", ...cols, "--", "add", "Logical_Router", lr.name, "policies", "@policy"];
}

/**
 * The command that adds one NAT rule. `lr-nat-add` always writes `options:stateless` and can set
 * `options:add_route`; a rule with other options, external_ids or allowed/exempted external IPs
 * is created generically (with `options:stateless` written the same way).
 */
function natCommand(lr: LogicalRouter, n: Nat): string[] {
  const addRoute = n.options.get("add_route") === "true";
  const plain = n.externalIds.size === 0 && n.allowedExtIps === undefined && n.exemptedExtIps === undefined && [...n.options.keys()].every((k) => k === "add_route") && (n.options.size === 0 || addRoute);
  if (plain) {
    const a: string[] = [];
    if (n.stateless) a.push("--stateless");
    if (n.externalPortRange !== undefined) a.push("--portrange");
    if (addRoute) a.push("--add-route");
    if (n.gatewayPort !== undefined) a.push(`--gateway-port=${n.gatewayPort}`);
    a.push("lr-nat-add", lr.name, n.type, n.externalIp, n.logicalIp);
    if (n.logicalPort !== undefined && n.externalMac !== undefined) a.push(n.logicalPort, n.externalMac);
    if (n.externalPortRange !== undefined) a.push(n.externalPortRange);
    return a;
  }
  const pre: string[] = [];
  const cols = [`type=${n.type}`, `external_ip=${atom(n.externalIp)}`, `logical_ip=${atom(n.logicalIp)}`];
  if (n.externalMac !== undefined) cols.push(`external_mac=${atom(n.externalMac)}`);
  if (n.logicalPort !== undefined) cols.push(`logical_port=${atom(n.logicalPort)}`);
  if (n.externalPortRange !== undefined) cols.push(`external_port_range=${atom(n.externalPortRange)}`);
  if (n.gatewayPort !== undefined) {
    pre.push("--id=@gwport", "get", "Logical_Router_Port", n.gatewayPort, "--");
    cols.push("gateway_port=@gwport");
  }
  if (n.allowedExtIps !== undefined) {
    pre.push("--id=@allowed", "get", "Address_Set", n.allowedExtIps, "--");
    cols.push("allowed_ext_ips=@allowed");
  }
  if (n.exemptedExtIps !== undefined) {
    pre.push("--id=@exempted", "get", "Address_Set", n.exemptedExtIps, "--");
    cols.push("exempted_ext_ips=@exempted");
  }
  cols.push(mapColumn("options", [["stateless", String(n.stateless)], ...n.options]));
  if (n.externalIds.size > 0) cols.push(mapColumn("external_ids", n.externalIds));
  return [...pre, "--id=@nat", "create", "NAT", ...cols, "--", "add", "Logical_Router", lr.name, "nat", "@nat"];
}

/** `lr-add` and everything that hangs off one router, in the order the header gives. */
function routerCommands(lr: LogicalRouter): string[][] {
  const out: string[][] = [["lr-add", lr.name]];
  for (const p of lr.ports.values()) {
    out.push(["lrp-add", lr.name, p.name, p.mac, ...p.networks, ...(p.peer !== undefined ? [`peer=${p.peer}`] : [])]);
    for (const gc of p.gatewayChassis) out.push(["lrp-set-gateway-chassis", p.name, gc.chassis, String(gc.priority)]);
    if (p.haChassisGroup !== undefined) out.push(["--id=@hagroup", "get", "HA_Chassis_Group", p.haChassisGroup, "--", "set", "Logical_Router_Port", p.name, "ha_chassis_group=@hagroup"]);
    const opts = p.options.entrySeq().map(([k, v]) => `${k}=${v}`).toArray();
    if (p.tunnelKey !== undefined) opts.push(`requested-tnl-key=${p.tunnelKey}`);
    if (opts.length > 0) out.push(["lrp-set-options", p.name, ...opts]);
    if (!p.enabled) out.push(["lrp-set-enabled", p.name, "disabled"]);
    for (const [k, v] of p.externalIds) out.push(["set", "Logical_Router_Port", p.name, mapArg("external_ids", k, v)]);
  }
  const seen = new Set<string>();
  for (const r of lr.staticRoutes) {
    // ovn-nbctl refuses a second route for a prefix unless it is marked as an ECMP member.
    const key = `${r.routeTable}|${r.policy}|${r.ipPrefix}`;
    out.push(routeCommand(lr, r, seen.has(key)));
    seen.add(key);
  }
  for (const p of lr.policies) out.push(policyCommand(lr, p));
  for (const n of lr.nat) out.push(natCommand(lr, n));
  for (const lb of lr.loadBalancers) out.push(["lr-lb-add", lr.name, lb]);
  const set: string[] = [];
  for (const [k, v] of lr.options) set.push(mapArg("options", k, v));
  if (lr.tunnelKey !== undefined) set.push(mapArg("options", "requested-tnl-key", String(lr.tunnelKey)));
  if (!lr.enabled) set.push("enabled=false");
  for (const [k, v] of lr.externalIds) set.push(mapArg("external_ids", k, v));
  if (set.length > 0) out.push(["set", "Logical_Router", lr.name, ...set]);
  return out;
}

/** The `ovn-nbctl` argument vectors that build `net`'s Northbound database. */
export function exportNbctl(net: Network): string[][] {
  const out: string[][] = [];
  for (const [k, v] of net.options) out.push(["set", "NB_Global", ".", mapArg("options", k, v)]);
  for (const as of net.addressSets.values()) {
    const cmd = ["create", "Address_Set", `name=${atom(as.name)}`, `addresses=[${as.addresses.map(atom).join(",")}]`];
    if (as.externalIds.size > 0) cmd.push(`external_ids={${as.externalIds.entrySeq().map(([k, v]) => `${atom(k)}=${atom(v)}`).join(",")}}`);
    out.push(cmd);
  }
  for (const lb of net.loadBalancers.values()) out.push(...lbCommands(lb));
  for (const ls of net.switches.values()) {
    out.push(["ls-add", ls.name]);
    for (const [k, v] of ls.otherConfig) out.push(["set", "Logical_Switch", ls.name, mapArg("other_config", k, v)]);
    if (ls.tunnelKey !== undefined) out.push(["set", "Logical_Switch", ls.name, mapArg("other_config", "requested-tnl-key", String(ls.tunnelKey))]);
    for (const [k, v] of ls.externalIds) out.push(["set", "Logical_Switch", ls.name, mapArg("external_ids", k, v)]);
    for (const p of ls.ports.values()) {
      out.push(["lsp-add", ls.name, p.name]);
      if (p.type !== "") out.push(["lsp-set-type", p.name, p.type]);
      if (p.addresses.size > 0) out.push(["lsp-set-addresses", p.name, ...p.addresses]);
      if (p.portSecurity.size > 0) out.push(["lsp-set-port-security", p.name, ...p.portSecurity]);
      const opts = p.options.entrySeq().map(([k, v]) => `${k}=${v}`).toArray();
      if (p.tunnelKey !== undefined) opts.push(`requested-tnl-key=${p.tunnelKey}`);
      if (opts.length > 0) out.push(["lsp-set-options", p.name, ...opts]);
      if (p.tag !== undefined) out.push(["set", "Logical_Switch_Port", p.name, `tag=${p.tag}`]);
      if (!p.enabled) out.push(["lsp-set-enabled", p.name, "disabled"]);
      for (const [k, v] of p.externalIds) out.push(["set", "Logical_Switch_Port", p.name, mapArg("external_ids", k, v)]);
    }
    for (const acl of ls.acls) out.push(aclArgs(acl, ls.name, false));
    for (const lb of ls.loadBalancers) out.push(["ls-lb-add", ls.name, lb]);
  }
  for (const pg of net.portGroups.values()) {
    out.push(["pg-add", pg.name, ...pg.ports]);
    for (const [k, v] of pg.externalIds) out.push(["set", "Port_Group", pg.name, mapArg("external_ids", k, v)]);
    for (const acl of pg.acls) out.push(aclArgs(acl, pg.name, true));
  }
  for (const g of net.haChassisGroups.values()) {
    out.push(["ha-chassis-group-add", g.name]);
    for (const c of g.chassis) out.push(["ha-chassis-group-add-chassis", g.name, c.chassis, String(c.priority)]);
    for (const [k, v] of g.externalIds) out.push(["set", "HA_Chassis_Group", g.name, mapArg("external_ids", k, v)]);
  }
  for (const lr of net.routers.values()) out.push(...routerCommands(lr));
  for (const b of net.staticMacBindings) {
    if (!b.overrideDynamicMac) out.push(["static-mac-binding-add", b.logicalPort, b.ip, b.mac]);
    else out.push(["create", "Static_MAC_Binding", `logical_port=${atom(b.logicalPort)}`, `ip=${atom(b.ip)}`, `mac=${atom(b.mac)}`, "override_dynamic_mac=true"]);
  }
  return out;
}

/**
 * Comment lines for a rendered script: what the network holds that no command builds (Kube-OVN
 * NAT gateways, which are pods with iptables rules, not OVN rows).
 */
export function exportNotes(net: Network): string[] {
  return net.natGateways
    .valueSeq()
    .map((g) => `NAT gateway ${g.name} (VPC ${g.vpc}, LAN port ${g.lanPort} ${g.lanIp}, external ${g.externalCidr}): a Kube-OVN iptables pod, not an OVN object; nothing to create`)
    .toArray();
}

export interface SbctlOptions {
  /** Extra `other_config` keys every chassis announces (e.g. the feature flags of an ovn-controller). */
  readonly chassisOtherConfig?: Readonly<Record<string, string>>;
  /**
   * `timestamp` (ms since the epoch) of the MAC bindings created. Without one the row's timestamp
   * is 0, and ovn-northd ages it out at once on a router with `mac_binding_age_threshold`.
   */
  readonly macBindingTimestamp?: number;
}

/**
 * The `ovn-sbctl` argument vectors that create the chassis, bind ports to them and add the learned
 * MAC bindings. Run them after the Northbound commands and `ovn-nbctl --wait=sb sync`.
 */
export function exportSbctl(net: Network, opts: SbctlOptions = {}): string[][] {
  const out: string[][] = [];
  for (const ch of net.chassis.values()) {
    const types = ch.encaps.size > 0 ? [...new Set(ch.encaps.map((e) => e.type))].join(",") : "geneve";
    const ip = ch.encaps.first()?.ip ?? "127.0.0.1";
    out.push(["chassis-add", ch.name, types, ip]);
    const set: string[] = [];
    if (ch.hostname !== "") set.push(`hostname=${atom(ch.hostname)}`);
    for (const [k, v] of Object.entries(opts.chassisOtherConfig ?? {})) set.push(mapArg("other_config", k, v));
    if (ch.bridgeMappings.size > 0) set.push(mapArg("other_config", "ovn-bridge-mappings", ch.bridgeMappings.entrySeq().map(([k, v]) => `${k}:${v}`).join(",")));
    if (ch.macMappings.size > 0) set.push(mapArg("other_config", "ovn-chassis-mac-mappings", ch.macMappings.entrySeq().map(([k, v]) => `${k}:${v}`).join(",")));
    if (ch.isRemote) set.push(mapArg("other_config", "is-remote", "true"));
    if (ch.isInterconn) set.push(mapArg("other_config", "is-interconn", "true"));
    if (set.length > 0) out.push(["set", "Chassis", ch.name, ...set]);
  }
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      // A remote port (OVN-IC) is bound by ovn-ic, to the other zone's gateway it names.
      const where = p.chassis ?? (p.type === "remote" ? p.options.get("requested-chassis") : undefined);
      if (where !== undefined) out.push(["lsp-bind", p.name, where]);
    }
  }
  for (const b of net.macBindings) {
    const cmd = macBindingCommand(net, b, opts.macBindingTimestamp);
    if (cmd) out.push(cmd);
  }
  return out;
}

/**
 * The `ovn-sbctl` arguments that create the `MAC_Binding` row of `b` (with `timestamp`, in
 * milliseconds, when given); undefined when no router of `net` has the binding's port. The row
 * points at the router's Datapath_Binding, which ovn-sbctl finds by external_ids:name.
 */
export function macBindingCommand(net: Network, b: MacBinding, timestamp?: number): string[] | undefined {
  const lr = net.routers.find((r) => r.ports.has(b.logicalPort));
  if (!lr) return undefined;
  const ts = timestamp !== undefined ? [`timestamp=${Math.trunc(timestamp)}`] : [];
  return ["--id=@dp", "get", "Datapath_Binding", lr.name, "--", "create", "MAC_Binding", "datapath=@dp", `logical_port=${atom(b.logicalPort)}`, `ip=${atom(b.ip)}`, `mac=${atom(b.mac)}`, ...ts];
}

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Renders argument vectors as a shell script, one `PROGRAM ARGS...` line each, after `# comment` lines. */
export function renderScript(program: string, commands: readonly (readonly string[])[], comments: readonly string[] = []): string {
  const lines = [...comments.map((c) => `# ${c.replace(/\n/g, " ")}`), ...commands.map((c) => [program, ...c].map(shellQuote).join(" "))];
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
