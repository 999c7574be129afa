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
 * and load balancer attachments, then port groups (their members must exist) and their ACLs.
 * Target: OVN 23.03's ovn-nbctl.
 *
 * ACLs go through `acl-add` where its implied columns agree with the model, else through a
 * generic `create ACL` (see `aclArgs`).
 */
import type { Acl, LoadBalancer, Network } from "../model/index.js";
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
 * so an ACL that has a name or severity but does not log, or that has external_ids, is created
 * with a generic `create ACL` plus `add ... acls`, which sets exactly the columns given.
 */
function aclArgs(acl: Acl, target: string, portGroup: boolean): string[] {
  const logImplied = acl.name !== undefined || acl.severity !== undefined;
  if ((logImplied && !acl.log) || acl.externalIds.size > 0) {
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
  return out;
}

export interface SbctlOptions {
  /** Extra `other_config` keys every chassis announces (e.g. the feature flags of an ovn-controller). */
  readonly chassisOtherConfig?: Readonly<Record<string, string>>;
}

/**
 * The `ovn-sbctl` argument vectors that create the chassis and bind ports to them. Run them after
 * the Northbound commands and `ovn-nbctl --wait=sb sync`.
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
    if (set.length > 0) out.push(["set", "Chassis", ch.name, ...set]);
  }
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) if (p.chassis !== undefined) out.push(["lsp-bind", p.name, p.chassis]);
  }
  return out;
}

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Renders argument vectors as a shell script, one `PROGRAM ARGS...` line each. */
export function renderScript(program: string, commands: readonly (readonly string[])[]): string {
  return commands.map((c) => [program, ...c].map(shellQuote).join(" ")).join("\n") + (commands.length > 0 ? "\n" : "");
}
