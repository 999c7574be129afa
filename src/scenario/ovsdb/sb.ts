/**
 * Southbound tables laid over a network read from the Northbound: where things run.
 *
 * What: `applySouthbound` adds
 * - every `Chassis` with its `Encap` rows (geneve first, then vxlan, then stt: the order
 *   ovn-controller prefers tunnel types in), its hostname, its `ovn-bridge-mappings` (from
 *   `other_config`, or `external_ids` as older ovn-controllers wrote them), `is-remote` and
 *   `is-interconn`;
 * - port bindings: a switch port whose `Port_Binding` has a `chassis` is bound to it;
 * - learned neighbours: each `MAC_Binding` of a router port becomes one of the network's
 *   `macBindings` (what ovn-trace, and ovnsim's routers, use to resolve next hops);
 * - tunnel keys: the `tunnel_key` of each `Datapath_Binding` (matched to its switch or router by
 *   `external_ids:name`) and `Port_Binding`, unless the Northbound requested one, so physical
 *   traces carry the keys of the real deployment.
 *
 * Everything else in the Southbound database is ovn-northd's output (logical flows, multicast
 * groups, ...) or state ovnsim does not use, and is not read. Bindings and MAC bindings that name
 * ports the network does not have are counted in a warning, not applied.
 */
import { List, OrderedMap } from "immutable";
import { error, warning, type Diagnostic, type Result } from "../../base/index.js";
import { Chassis, Encap, MacBinding, type Network } from "../../model/index.js";
import { databaseName, getInt, getRefs, getString, getStringMap, rowsOf, type OvsdbDatabase } from "./database.js";

export interface SbImport {
  readonly network: Network;
  readonly warnings: readonly Diagnostic[];
}

const ENCAP_PREFERENCE = ["geneve", "vxlan", "stt"];

/** The Southbound tables `applySouthbound` reads; a database file need not build the others. */
export const SB_TABLES: ReadonlySet<string> = new Set(["Chassis", "Encap", "Datapath_Binding", "Port_Binding", "MAC_Binding"]);

/** Parses `physnet1:br-ex,physnet2:br-vlan` (and `physnet1:0a:00:00:00:00:01`: the value is all after the first colon). */
function bridgeMappings(text: string | undefined): OrderedMap<string, string> {
  if (text === undefined) return OrderedMap();
  const pairs: [string, string][] = [];
  for (const item of text.split(",")) {
    const i = item.indexOf(":");
    if (i > 0) pairs.push([item.slice(0, i).trim(), item.slice(i + 1).trim()]);
  }
  return OrderedMap(pairs);
}

/** Adds the Southbound's chassis, bindings, learned MAC bindings and tunnel keys to `net`. */
export function applySouthbound(net: Network, sb: OvsdbDatabase): Result<SbImport> {
  const which = databaseName(sb);
  if (which !== "OVN_Southbound") {
    return { ok: false, diags: [error("sb.wrong-database", `${sb.file} is ${which ? `an ${which} database` : "not an OVN Southbound database"}, not OVN_Southbound`, { file: sb.file })] };
  }
  const warnings: Diagnostic[] = [];
  const encaps = rowsOf(sb, "Encap");
  const chassisByUuid = new Map<string, string>();
  let chassis = net.chassis;
  for (const r of rowsOf(sb, "Chassis").values()) {
    const name = getString(r, "name") ?? r.uuid;
    chassisByUuid.set(r.uuid, name);
    const list = getRefs(r, "encaps")
      .map((u) => encaps.get(u))
      .filter((e) => e !== undefined)
      .map((e) => Encap({ type: getString(e, "type") ?? "geneve", ip: getString(e, "ip") ?? "" }))
      .sort((a, b) => rank(a.type) - rank(b.type) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const other = new Map(getStringMap(r, "other_config"));
    const ext = new Map(getStringMap(r, "external_ids"));
    chassis = chassis.set(
      name,
      Chassis({
        name,
        hostname: getString(r, "hostname") ?? "",
        encaps: List(list),
        bridgeMappings: bridgeMappings(other.get("ovn-bridge-mappings") ?? ext.get("ovn-bridge-mappings")),
        macMappings: bridgeMappings(other.get("ovn-chassis-mac-mappings") ?? ext.get("ovn-chassis-mac-mappings")),
        isRemote: other.get("is-remote") === "true",
        isInterconn: other.get("is-interconn") === "true",
      }),
    );
  }

  // Datapath keys by the logical switch's or router's name.
  const switchKey = new Map<string, number>();
  const routerKey = new Map<string, number>();
  for (const r of rowsOf(sb, "Datapath_Binding").values()) {
    const ids = new Map(getStringMap(r, "external_ids"));
    const name = ids.get("name");
    const key = getInt(r, "tunnel_key");
    if (name === undefined || key === undefined) continue;
    if (ids.has("logical-router")) routerKey.set(name, key);
    else switchKey.set(name, key);
  }

  let switches = net.switches.map((ls) => (ls.tunnelKey === undefined && switchKey.has(ls.name) ? ls.set("tunnelKey", switchKey.get(ls.name)) : ls));
  let routers = net.routers.map((lr) => (lr.tunnelKey === undefined && routerKey.has(lr.name) ? lr.set("tunnelKey", routerKey.get(lr.name)) : lr));
  const switchOf = new Map<string, string>();
  for (const ls of switches.values()) for (const p of ls.ports.keys()) switchOf.set(p, ls.name);
  const routerOf = new Map<string, string>();
  for (const lr of routers.values()) for (const p of lr.ports.keys()) routerOf.set(p, lr.name);

  let unknownBindings = 0;
  for (const r of rowsOf(sb, "Port_Binding").values()) {
    const port = getString(r, "logical_port");
    if (port === undefined) continue;
    const type = getString(r, "type") ?? "";
    if (type === "chassisredirect") continue;
    const key = getInt(r, "tunnel_key");
    const bound = getRefs(r, "chassis")[0];
    const ls = switches.get(switchOf.get(port) ?? "");
    if (ls) {
      let p = ls.ports.get(port)!;
      if (p.tunnelKey === undefined && key !== undefined) p = p.set("tunnelKey", key);
      const boundName = bound !== undefined ? chassisByUuid.get(bound) : undefined;
      if (boundName !== undefined && (p.type === "" || p.type === "virtual" || p.type === "external" || p.type === "l2gateway")) p = p.set("chassis", boundName);
      switches = switches.set(ls.name, ls.setIn(["ports", port], p));
      continue;
    }
    const lr = routers.get(routerOf.get(port) ?? "");
    if (lr) {
      const p = lr.ports.get(port)!;
      if (p.tunnelKey === undefined && key !== undefined) routers = routers.set(lr.name, lr.setIn(["ports", port], p.set("tunnelKey", key)));
      continue;
    }
    unknownBindings++;
  }
  if (unknownBindings > 0) warnings.push(warning("sb.unknown-port", `SB Port_Binding: ${unknownBindings} binding(s) of ports the Northbound does not have, not applied`, { file: sb.file }));

  const macBindings = [...net.macBindings];
  const seen = new Set(macBindings.map((b) => `${b.logicalPort}|${b.ip}`));
  let unknownMacs = 0;
  for (const r of rowsOf(sb, "MAC_Binding").values()) {
    const port = getString(r, "logical_port") ?? "";
    const ip = getString(r, "ip") ?? "";
    if (!routerOf.has(port)) {
      unknownMacs++;
      continue;
    }
    if (seen.has(`${port}|${ip}`)) continue;
    seen.add(`${port}|${ip}`);
    macBindings.push(MacBinding({ logicalPort: port, ip, mac: getString(r, "mac") ?? "" }));
  }
  if (unknownMacs > 0) warnings.push(warning("sb.unknown-port", `SB MAC_Binding: ${unknownMacs} binding(s) on ports that are no router port of the Northbound, not applied`, { file: sb.file }));

  return { ok: true, value: { network: net.merge({ chassis, switches, routers, macBindings: List(macBindings) }), warnings } };
}

function rank(type: string): number {
  const i = ENCAP_PREFERENCE.indexOf(type);
  return i < 0 ? ENCAP_PREFERENCE.length : i;
}
