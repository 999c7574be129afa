/**
 * Exporting routers, HA chassis groups, NAT, MAC bindings and NAT gateways: the command text, and
 * what real OVN 23.03 stores when the commands run.
 *
 * The database check reads every router-related row back (Northbound Logical_Router, ports,
 * Gateway_Chassis, HA_Chassis_Group, static routes, policies, NAT, Static_MAC_Binding; Southbound
 * MAC_Binding), replaces row references by names, and compares that view with one derived from
 * the model by a separate, column-by-column mapping written here. The view real OVN gave is
 * recorded in fixtures/scenario/export-router.json, so the model-side mapping is checked on every
 * machine; where OVN is installed the live view must still equal the recording
 * (`OVNSIM_RECORD=1` rewrites it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { GatewayChassis, HaChassisGroup, LoadBalancer, LogicalRouter, MacBinding, Nat, RouterPolicy, StaticRoute, type Network } from "../../src/model/index.js";
import { CHASSIS_FEATURES, OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { exportNbctl, exportNotes, exportSbctl, loadNetworkFile, renderScript } from "../../src/scenario/index.js";
import { GOOD } from "./router-network.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NETWORK = resolve(ROOT, "fixtures/scenario/every-field.yaml");
const RECORDING = resolve(ROOT, "fixtures/scenario/export-router.json");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable();
if (!LIVE) console.warn("export-router.test: OVN binaries not installed; checking the model against the recorded database view only");

describe("exportNbctl: router command text", () => {
  const lr = LogicalRouter({
    name: "lr",
    ports: GOOD.routers.get("lr")!.ports,
    staticRoutes: List([
      StaticRoute({ ipPrefix: "10.9.0.0/16", nexthop: "169.254.0.0" }),
      StaticRoute({ ipPrefix: "10.9.0.0/16", nexthop: "169.254.0.2", outputPort: "lr-lr2" }),
      StaticRoute({ ipPrefix: "10.9.0.0/16", nexthop: "169.254.0.4", routeTable: "t" }),
      StaticRoute({ ipPrefix: "10.0.0.128/25", nexthop: "discard", policy: "src-ip", routeTable: "t" }),
      StaticRoute({ ipPrefix: "10.8.0.0/16", nexthop: "172.16.0.9", options: OrderedMap({ ecmp_symmetric_reply: "true" }) }),
      StaticRoute({ ipPrefix: "10.8.0.0/16", nexthop: "172.16.0.8", externalIds: OrderedMap({ k: "v" }) }),
    ]),
    policies: List([
      RouterPolicy({ priority: 31000, match: "ip4.dst == 10.0.0.0/24", action: "allow" }),
      RouterPolicy({ priority: 29000, match: "ip4.src == $as", action: "reroute", nexthops: List(["172.16.0.253", "172.16.0.252"]), options: OrderedMap({ pkt_mark: "7" }) }),
      RouterPolicy({ priority: 10, match: 'inport == "lr-ls"', action: "drop", externalIds: OrderedMap({ rule: "r" }) }),
    ]),
    nat: List([
      Nat({ type: "snat", externalIp: "172.16.0.10", logicalIp: "10.0.0.0/24", externalPortRange: "1000-2000" }),
      Nat({ type: "dnat_and_snat", externalIp: "172.16.0.11", logicalIp: "10.0.0.2", externalMac: "00:00:00:00:aa:01", logicalPort: "vm", gatewayPort: "lr-ext" }),
      Nat({ type: "dnat_and_snat", externalIp: "172.16.0.12", logicalIp: "10.0.0.3", stateless: true, options: OrderedMap({ add_route: "true" }) }),
      Nat({ type: "snat", externalIp: "172.16.0.13", logicalIp: "10.0.1.0/24", gatewayPort: "lr-ext", allowedExtIps: "as", externalIds: OrderedMap({ o: "p" }) }),
    ]),
    loadBalancers: List(["lb"]),
    options: OrderedMap({ chassis: "hv1" }),
    tunnelKey: 9,
    enabled: false,
    externalIds: OrderedMap({ vendor: "x" }),
  });
  const net = GOOD.setIn(["routers", "lr"], lr).setIn(["routers", "lr2", "ports", "lr2-lr", "externalIds"], OrderedMap({ side: "b" }));
  const cmds = exportNbctl(net);
  const at = (c: readonly string[]): number => cmds.findIndex((x) => JSON.stringify(x) === JSON.stringify(c));

  it("builds each router after every switch, port group and HA chassis group, in model order", () => {
    const firstRouter = at(["lr-add", "lr"]);
    expect(firstRouter).toBeGreaterThan(0);
    expect(at(["lr-add", "lr2"])).toBeGreaterThan(firstRouter);
    const lastSwitchCmd = Math.max(...cmds.map((c, i) => (c[0] === "ls-add" || c[0] === "lsp-add" || c.includes("Logical_Switch_Port") ? i : -1)));
    expect(lastSwitchCmd).toBeLessThan(firstRouter);
    expect(at(["ha-chassis-group-add", "g"])).toBeLessThan(firstRouter);
    expect(at(["ha-chassis-group-add-chassis", "g", "hv1", "10"])).toBe(at(["ha-chassis-group-add", "g"]) + 1);
  });

  it("writes ports, gateway chassis, HA groups, routes, policies, NAT, LBs and options as ovn-nbctl expects them", () => {
    const lrCmds = cmds.slice(at(["lr-add", "lr"]), at(["lr-add", "lr2"]));
    expect(lrCmds).toEqual([
      ["lr-add", "lr"],
      ["lrp-add", "lr", "lr-ls", "00:00:00:00:ff:01", "10.0.0.1/24", "fd00::1/64"],
      ["lrp-add", "lr", "lr-ext", "00:00:00:00:ff:02", "172.16.0.1/24"],
      ["lrp-set-gateway-chassis", "lr-ext", "hv1", "2"],
      ["lrp-set-gateway-chassis", "lr-ext", "hv2", "1"],
      ["lrp-add", "lr", "lr-lr2", "00:00:00:00:ff:03", "169.254.0.1/31", "peer=lr2-lr"],
      ["lr-route-add", "lr", "10.9.0.0/16", "169.254.0.0"],
      ["--ecmp", "lr-route-add", "lr", "10.9.0.0/16", "169.254.0.2", "lr-lr2"],
      // Another route table: not an ECMP sibling of the two above.
      ["--route-table=t", "lr-route-add", "lr", "10.9.0.0/16", "169.254.0.4"],
      ["--policy=src-ip", "--route-table=t", "lr-route-add", "lr", "10.0.0.128/25", "discard"],
      ["--ecmp-symmetric-reply", "lr-route-add", "lr", "10.8.0.0/16", "172.16.0.9"],
      ["--id=@route", "create", "Logical_Router_Static_Route", 'ip_prefix="10.8.0.0/16"', 'nexthop="172.16.0.8"', "external_ids={k=v}", "--", "add", "Logical_Router", "lr", "static_routes", "@route"],
      ["lr-policy-add", "lr", "31000", "ip4.dst == 10.0.0.0/24", "allow"],
      ["lr-policy-add", "lr", "29000", "ip4.src == $as", "reroute", "172.16.0.253,172.16.0.252", "pkt_mark=7"],
      ["--id=@policy", "create", "Logical_Router_Policy", "priority=10", 'match="inport == \\"lr-ls\\""', "action=drop", "external_ids={rule=r}", "--", "add", "Logical_Router", "lr", "policies", "@policy"],
      ["--portrange", "lr-nat-add", "lr", "snat", "172.16.0.10", "10.0.0.0/24", "1000-2000"],
      ["--gateway-port=lr-ext", "lr-nat-add", "lr", "dnat_and_snat", "172.16.0.11", "10.0.0.2", "vm", "00:00:00:00:aa:01"],
      ["--stateless", "--add-route", "lr-nat-add", "lr", "dnat_and_snat", "172.16.0.12", "10.0.0.3"],
      [
        ...["--id=@gwport", "get", "Logical_Router_Port", "lr-ext", "--", "--id=@allowed", "get", "Address_Set", "as", "--"],
        ...["--id=@nat", "create", "NAT", "type=snat", 'external_ip="172.16.0.13"', 'logical_ip="10.0.1.0/24"', "gateway_port=@gwport", "allowed_ext_ips=@allowed", 'options={stateless="false"}', "external_ids={o=p}"],
        ...["--", "add", "Logical_Router", "lr", "nat", "@nat"],
      ],
      ["lr-lb-add", "lr", "lb"],
      ["set", "Logical_Router", "lr", "options:chassis=hv1", 'options:requested-tnl-key="9"', "enabled=false", "external_ids:vendor=x"],
    ]);
  });

  it("sets an HA chassis group by reference, and port options, state and external_ids", () => {
    const lr2 = cmds.slice(at(["lr-add", "lr2"]));
    expect(lr2.slice(0, 6)).toEqual([
      ["lr-add", "lr2"],
      ["lrp-add", "lr2", "lr2-lr", "00:00:00:00:ff:04", "169.254.0.0/31", "peer=lr-lr2"],
      ["--id=@hagroup", "get", "HA_Chassis_Group", "g", "--", "set", "Logical_Router_Port", "lr2-lr", "ha_chassis_group=@hagroup"],
      ["lrp-set-options", "lr2-lr", "requested-tnl-key=3"],
      ["set", "Logical_Router_Port", "lr2-lr", "external_ids:side=b"],
      ["set", "Logical_Router", "lr2", 'options:requested-tnl-key="7"'],
    ]);
    const disabled = exportNbctl(net.setIn(["routers", "lr2", "ports", "lr2-lr", "enabled"], false));
    expect(disabled).toContainEqual(["lrp-set-enabled", "lr2-lr", "disabled"]);
  });

  it("adds static MAC bindings last, and learned ones to the Southbound router datapath", () => {
    const two = net.set("staticMacBindings", List([MacBinding({ logicalPort: "lr-ext", ip: "172.16.0.254", mac: "00:00:00:00:fe:01" }), MacBinding({ logicalPort: "lr-ext", ip: "172.16.0.253", mac: "00:00:00:00:fe:02", overrideDynamicMac: true })]));
    expect(exportNbctl(two).slice(-2)).toEqual([
      ["static-mac-binding-add", "lr-ext", "172.16.0.254", "00:00:00:00:fe:01"],
      ["create", "Static_MAC_Binding", "logical_port=lr-ext", 'ip="172.16.0.253"', 'mac="00:00:00:00:fe:02"', "override_dynamic_mac=true"],
    ]);
    expect(exportSbctl(net).slice(-1)).toEqual([["--id=@dp", "get", "Datapath_Binding", "lr", "--", "create", "MAC_Binding", "datapath=@dp", "logical_port=lr-ext", 'ip="172.16.0.254"', 'mac="00:00:00:00:fe:01"']]);
  });

  it("exports nothing for a NAT gateway but a comment", () => {
    const without = net.set("natGateways", OrderedMap());
    expect(exportNbctl(net)).toEqual(exportNbctl(without));
    expect(exportSbctl(net)).toEqual(exportSbctl(without));
    const notes = exportNotes(net);
    expect(notes).toEqual(["NAT gateway ngw (VPC lr, LAN port gw 10.0.0.254, external 192.168.1.10/24): a Kube-OVN iptables pod, not an OVN object; nothing to create"]);
    const script = renderScript("ovn-nbctl", [["lr-add", "lr"]], notes);
    expect(script).toBe(`# ${notes[0]}\novn-nbctl lr-add lr\n`);
    expect(renderScript("ovn-nbctl", [], [])).toBe("");
  });

  it("an HA chassis group's external_ids and a load balancer without VIPs can be attached", () => {
    const n = net
      .setIn(["haChassisGroups", "g"], HaChassisGroup({ name: "g", chassis: List([GatewayChassis({ chassis: "hv2", priority: 5 })]), externalIds: OrderedMap({ a: "b" }) }))
      .setIn(["loadBalancers", "lb"], LoadBalancer({ name: "lb" }));
    const c = exportNbctl(n);
    expect(c).toContainEqual(["set", "HA_Chassis_Group", "g", "external_ids:a=b"]);
    expect(c.findIndex((x) => x[0] === "create" && x[1] === "Load_Balancer")).toBeLessThan(c.findIndex((x) => x[0] === "lr-lb-add"));
  });
});

// ---- The database view -------------------------------------------------------------------------

type Row = Record<string, unknown>;
type Json = Record<string, unknown>;

const setOf = (v: unknown): unknown[] => (Array.isArray(v) && v[0] === "set" ? (v[1] as unknown[]) : v === undefined ? [] : [v]);
const mapOf = (v: unknown): Record<string, string> => (Array.isArray(v) && v[0] === "map" ? Object.fromEntries((v[1] as [unknown, unknown][]).map(([k, x]) => [String(k), String(x)])) : {});
const uuid = (v: unknown): string => (Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "");
const sorted = <T>(xs: T[]): T[] => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
const sortKeys = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** What the databases hold for routers and their satellites, with references replaced by names. */
function databaseView(sb: OvnSandbox): Json {
  const list = (db: "nb" | "sb", table: string): Row[] => {
    const r = db === "nb" ? sb.nbList(table) : sb.sbList(table);
    if (!r.ok) throw new Error(r.diags[0]!.message);
    return r.value;
  };
  const byUuid = (rows: Row[]) => new Map(rows.map((r) => [uuid(r._uuid), r]));
  const lrps = byUuid(list("nb", "Logical_Router_Port"));
  const gcs = byUuid(list("nb", "Gateway_Chassis"));
  const haChassis = byUuid(list("nb", "HA_Chassis"));
  const haGroups = byUuid(list("nb", "HA_Chassis_Group"));
  const routes = byUuid(list("nb", "Logical_Router_Static_Route"));
  const policies = byUuid(list("nb", "Logical_Router_Policy"));
  const nats = byUuid(list("nb", "NAT"));
  const lbs = byUuid(list("nb", "Load_Balancer"));
  const sets = byUuid(list("nb", "Address_Set"));
  const name = (m: Map<string, Row>, v: unknown): string | undefined => {
    const u = setOf(v).map(uuid)[0];
    return u === undefined ? undefined : String(m.get(u)?.name);
  };
  const routers: Json = {};
  for (const r of list("nb", "Logical_Router")) {
    routers[String(r.name)] = {
      ports: setOf(r.ports).map((u) => {
        const p = lrps.get(uuid(u))!;
        return {
          name: p.name,
          mac: p.mac,
          networks: sorted(setOf(p.networks).map(String)),
          peer: setOf(p.peer)[0],
          gatewayChassis: sorted(setOf(p.gateway_chassis).map((g) => `${String(gcs.get(uuid(g))!.chassis_name)}:${String(gcs.get(uuid(g))!.priority)}`)),
          haChassisGroup: name(haGroups, p.ha_chassis_group),
          options: sortKeys(mapOf(p.options)),
          enabled: setOf(p.enabled)[0] ?? true,
          externalIds: sortKeys(mapOf(p.external_ids)),
        };
      }).sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1)),
      staticRoutes: sorted(
        setOf(r.static_routes).map((u) => {
          const s = routes.get(uuid(u))!;
          return { ipPrefix: s.ip_prefix, nexthop: s.nexthop, outputPort: setOf(s.output_port)[0], policy: setOf(s.policy)[0] ?? "dst-ip", routeTable: s.route_table, options: sortKeys(mapOf(s.options)), externalIds: sortKeys(mapOf(s.external_ids)) };
        }),
      ),
      policies: sorted(
        setOf(r.policies).map((u) => {
          const p = policies.get(uuid(u))!;
          // ovn-nbctl writes a single next hop to the older `nexthop` column, several to `nexthops`.
          return { priority: p.priority, match: p.match, action: p.action, nexthops: [...setOf(p.nexthop), ...setOf(p.nexthops)].map(String).sort(), options: sortKeys(mapOf(p.options)), externalIds: sortKeys(mapOf(p.external_ids)) };
        }),
      ),
      nat: sorted(
        setOf(r.nat).map((u) => {
          const n = nats.get(uuid(u))!;
          return {
            type: n.type,
            externalIp: n.external_ip,
            logicalIp: n.logical_ip,
            externalMac: setOf(n.external_mac)[0],
            logicalPort: setOf(n.logical_port)[0],
            externalPortRange: n.external_port_range === "" ? undefined : n.external_port_range,
            gatewayPort: name(lrps, n.gateway_port),
            allowedExtIps: name(sets, n.allowed_ext_ips),
            exemptedExtIps: name(sets, n.exempted_ext_ips),
            options: sortKeys(mapOf(n.options)),
            externalIds: sortKeys(mapOf(n.external_ids)),
          };
        }),
      ),
      loadBalancers: setOf(r.load_balancer).map((u) => String(lbs.get(uuid(u))!.name)).sort(),
      options: sortKeys(mapOf(r.options)),
      enabled: setOf(r.enabled)[0] ?? true,
      externalIds: sortKeys(mapOf(r.external_ids)),
    };
  }
  const haChassisGroups: Json = {};
  for (const g of haGroups.values()) {
    haChassisGroups[String(g.name)] = {
      chassis: sorted(setOf(g.ha_chassis).map((u) => `${String(haChassis.get(uuid(u))!.chassis_name)}:${String(haChassis.get(uuid(u))!.priority)}`)),
      externalIds: sortKeys(mapOf(g.external_ids)),
    };
  }
  const staticMacBindings = sorted(list("nb", "Static_MAC_Binding").map((b) => ({ logicalPort: b.logical_port, ip: b.ip, mac: b.mac, overrideDynamicMac: b.override_dynamic_mac })));
  const dpName = new Map(list("sb", "Datapath_Binding").map((d) => [uuid(d._uuid), mapOf(d.external_ids).name]));
  const macBindings = sorted(list("sb", "MAC_Binding").map((b) => ({ datapath: dpName.get(uuid(b.datapath)), logicalPort: b.logical_port, ip: b.ip, mac: b.mac })));
  return JSON.parse(JSON.stringify({ routers, haChassisGroups, staticMacBindings, macBindings })) as Json;
}

/** The same view, derived from the model: what each record's fields should become as NB/SB columns. */
function modelView(net: Network): Json {
  const routers: Json = {};
  const routerOf = (port: string) => net.routers.find((r) => r.ports.has(port))?.name;
  const str = (m: OrderedMap<string, string>): Record<string, string> => sortKeys(Object.fromEntries(m));
  for (const lr of net.routers.values()) {
    routers[lr.name] = {
      ports: lr.ports
        .valueSeq()
        .map((p) => ({
          name: p.name,
          mac: p.mac,
          networks: sorted(p.networks.toArray()),
          peer: p.peer,
          gatewayChassis: sorted(p.gatewayChassis.map((g) => `${g.chassis}:${g.priority}`).toArray()),
          haChassisGroup: p.haChassisGroup,
          options: sortKeys({ ...Object.fromEntries(p.options), ...(p.tunnelKey !== undefined ? { "requested-tnl-key": String(p.tunnelKey) } : {}) }),
          enabled: p.enabled,
          externalIds: str(p.externalIds),
        }))
        .toArray()
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      staticRoutes: sorted(lr.staticRoutes.map((r) => ({ ipPrefix: r.ipPrefix, nexthop: r.nexthop, outputPort: r.outputPort, policy: r.policy, routeTable: r.routeTable, options: str(r.options), externalIds: str(r.externalIds) })).toArray()),
      policies: sorted(lr.policies.map((p) => ({ priority: p.priority, match: p.match, action: p.action, nexthops: p.nexthops.toArray().sort(), options: str(p.options), externalIds: str(p.externalIds) })).toArray()),
      nat: sorted(
        lr.nat
          .map((n) => ({
            type: n.type,
            externalIp: n.externalIp,
            logicalIp: n.logicalIp,
            externalMac: n.externalMac,
            logicalPort: n.logicalPort,
            externalPortRange: n.externalPortRange,
            gatewayPort: n.gatewayPort,
            allowedExtIps: n.allowedExtIps,
            exemptedExtIps: n.exemptedExtIps,
            // NB keeps `stateless` among the options.
            options: sortKeys({ ...Object.fromEntries(n.options), stateless: String(n.stateless) }),
            externalIds: str(n.externalIds),
          }))
          .toArray(),
      ),
      loadBalancers: lr.loadBalancers.toArray().sort(),
      options: sortKeys({ ...Object.fromEntries(lr.options), ...(lr.tunnelKey !== undefined ? { "requested-tnl-key": String(lr.tunnelKey) } : {}) }),
      enabled: lr.enabled,
      externalIds: str(lr.externalIds),
    };
  }
  const haChassisGroups: Json = {};
  for (const g of net.haChassisGroups.values()) haChassisGroups[g.name] = { chassis: sorted(g.chassis.map((c) => `${c.chassis}:${c.priority}`).toArray()), externalIds: str(g.externalIds) };
  const staticMacBindings = sorted(net.staticMacBindings.map((b) => ({ logicalPort: b.logicalPort, ip: b.ip, mac: b.mac, overrideDynamicMac: b.overrideDynamicMac })).toArray());
  const macBindings = sorted(net.macBindings.map((b) => ({ datapath: routerOf(b.logicalPort), logicalPort: b.logicalPort, ip: b.ip, mac: b.mac })).toArray());
  return JSON.parse(JSON.stringify({ routers, haChassisGroups, staticMacBindings, macBindings })) as Json;
}

function loadNet(): Network {
  const r = loadNetworkFile(NETWORK);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("; "));
  return r.value.network;
}

describe("exportNbctl: routers in real OVN (fixtures/scenario/every-field.yaml)", () => {
  it("the model maps onto the recorded database view", () => {
    expect(existsSync(RECORDING) || (LIVE && RECORD)).toBe(true);
    if (!existsSync(RECORDING)) return;
    const rec = JSON.parse(readFileSync(RECORDING, "utf8")) as { view: Json };
    expect(modelView(loadNet())).toEqual(rec.view);
  });

  it.skipIf(!LIVE)("the commands apply without error and the databases hold the recorded rows", { timeout: 60_000 }, () => {
    const net = loadNet();
    const s = OvnSandbox.start();
    if (!s.ok) throw new Error(s.diags.map((d) => d.message).join("; "));
    const sb = s.value;
    try {
      for (const c of exportNbctl(net)) {
        const r = sb.nbctl(...c);
        expect(r.ok ? "" : r.diags[0]!.message).toBe("");
      }
      expect(sb.sync().ok).toBe(true);
      for (const c of exportSbctl(net, { chassisOtherConfig: CHASSIS_FEATURES })) {
        const r = sb.sbctl(...c);
        expect(r.ok ? "" : r.diags[0]!.message).toBe("");
      }
      expect(sb.sync().ok).toBe(true);
      const view = databaseView(sb);
      if (RECORD) {
        writeFileSync(RECORDING, JSON.stringify({ comment: `Router rows read back from ${ovnVersion() ?? "OVN"} after applying the export of fixtures/scenario/every-field.yaml (test/scenario/export-router.test.ts; OVNSIM_RECORD=1 rewrites this file).`, view }, null, 2) + "\n");
      }
      const rec = JSON.parse(readFileSync(RECORDING, "utf8")) as { view: Json };
      expect(view).toEqual(rec.view);
      expect(view).toEqual(modelView(net));
    } finally {
      sb.stop();
    }
  });
});
