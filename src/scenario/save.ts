/**
 * Saving scenarios: `Network` + probes → stable YAML that `loadScenario` reads back to equal values.
 *
 * Fields are written in the order `format.ts` declares them and collections in model order;
 * defaults (empty lists and maps, `enabled: true`, `label: 0`, a VIF's empty type, ...) are left out,
 * so a saved file is as short as a hand-written one. The output depends only on the values, so the
 * same network always saves to the same bytes.
 */
import type { List, OrderedMap } from "immutable";
import { stringify } from "yaml";
import type { Acl, GatewayChassis, LogicalRouter, MacBinding, NatGateway, Network, NodeHost } from "../model/index.js";
import type { Probe } from "./probe.js";

type Plain = Record<string, unknown>;

/** Sets `o[k] = v` unless `v` is a default (undefined, empty, or equal to `dflt`). */
function put(o: Plain, k: string, v: unknown, dflt?: unknown): void {
  if (v === undefined || v === dflt) return;
  if (Array.isArray(v) && v.length === 0) return;
  if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) return;
  o[k] = v;
}

const arr = (l: List<string>): string[] => l.toArray();
const obj = (m: OrderedMap<string, string>): Record<string, string> => Object.fromEntries(m.entrySeq().toArray());

function saveAcl(a: Acl): Plain {
  const o: Plain = {};
  put(o, "direction", a.direction);
  put(o, "priority", a.priority);
  put(o, "match", a.match);
  put(o, "action", a.action);
  put(o, "name", a.name);
  put(o, "label", a.label, 0);
  put(o, "log", a.log, false);
  put(o, "severity", a.severity);
  put(o, "applyAfterLb", a.applyAfterLb, false);
  put(o, "externalIds", obj(a.externalIds));
  return o;
}

const saveGatewayChassis = (g: GatewayChassis): Plain => ({ chassis: g.chassis, priority: g.priority });

function saveRouter(lr: LogicalRouter): Plain {
  const o: Plain = {};
  put(o, "name", lr.name);
  put(
    o,
    "ports",
    lr.ports.valueSeq().map((p) => {
      const po: Plain = {};
      put(po, "name", p.name);
      put(po, "mac", p.mac);
      put(po, "networks", arr(p.networks));
      put(po, "peer", p.peer);
      put(po, "gatewayChassis", p.gatewayChassis.map(saveGatewayChassis).toArray());
      put(po, "haChassisGroup", p.haChassisGroup);
      put(po, "options", obj(p.options));
      put(po, "enabled", p.enabled, true);
      put(po, "tunnelKey", p.tunnelKey);
      put(po, "externalIds", obj(p.externalIds));
      return po;
    }).toArray(),
  );
  put(
    o,
    "staticRoutes",
    lr.staticRoutes.map((r) => {
      const ro: Plain = {};
      put(ro, "ipPrefix", r.ipPrefix);
      put(ro, "nexthop", r.nexthop);
      put(ro, "outputPort", r.outputPort);
      put(ro, "policy", r.policy, "dst-ip");
      put(ro, "routeTable", r.routeTable, "");
      put(ro, "options", obj(r.options));
      put(ro, "externalIds", obj(r.externalIds));
      return ro;
    }).toArray(),
  );
  put(
    o,
    "policies",
    lr.policies.map((p) => {
      const po: Plain = {};
      put(po, "priority", p.priority);
      put(po, "match", p.match);
      put(po, "action", p.action);
      put(po, "nexthops", arr(p.nexthops));
      put(po, "options", obj(p.options));
      put(po, "externalIds", obj(p.externalIds));
      return po;
    }).toArray(),
  );
  put(
    o,
    "nat",
    lr.nat.map((n) => {
      const no: Plain = {};
      put(no, "type", n.type);
      put(no, "externalIp", n.externalIp);
      put(no, "logicalIp", n.logicalIp);
      put(no, "externalMac", n.externalMac);
      put(no, "logicalPort", n.logicalPort);
      put(no, "externalPortRange", n.externalPortRange);
      put(no, "stateless", n.stateless, false);
      put(no, "gatewayPort", n.gatewayPort);
      put(no, "allowedExtIps", n.allowedExtIps);
      put(no, "exemptedExtIps", n.exemptedExtIps);
      put(no, "options", obj(n.options));
      put(no, "externalIds", obj(n.externalIds));
      return no;
    }).toArray(),
  );
  put(o, "loadBalancers", arr(lr.loadBalancers));
  put(o, "options", obj(lr.options));
  put(o, "enabled", lr.enabled, true);
  put(o, "tunnelKey", lr.tunnelKey);
  put(o, "externalIds", obj(lr.externalIds));
  return o;
}

function saveMacBinding(b: MacBinding, isStatic: boolean): Plain {
  const o: Plain = { logicalPort: b.logicalPort, ip: b.ip, mac: b.mac };
  // Only NB Static_MAC_Binding has the column; on a learned binding validation reports it.
  if (isStatic) put(o, "overrideDynamicMac", b.overrideDynamicMac, false);
  return o;
}

function saveNatGateway(g: NatGateway): Plain {
  const o: Plain = {
    name: g.name,
    vpc: g.vpc,
    lanPort: g.lanPort,
    lanIp: g.lanIp,
    externalMac: g.externalMac,
    externalCidr: g.externalCidr,
    externalGateway: g.externalGateway,
  };
  put(o, "eips", g.eips.valueSeq().map((e) => ({ name: e.name, ip: e.ip })).toArray());
  put(o, "snatRules", g.snatRules.map((r) => ({ name: r.name, eip: r.eip, internalCidr: r.internalCidr, ...(r.randomFully ? { randomFully: true } : {}) })).toArray());
  put(
    o,
    "dnatRules",
    g.dnatRules.map((r) => ({ name: r.name, eip: r.eip, protocol: r.protocol, externalPort: r.externalPort, internalIp: r.internalIp, internalPort: r.internalPort })).toArray(),
  );
  put(o, "fipRules", g.fipRules.map((r) => ({ name: r.name, eip: r.eip, internalIp: r.internalIp })).toArray());
  return o;
}

function saveNodeHost(h: NodeHost): Plain {
  const o: Plain = { name: h.name, port: h.port };
  put(o, "nic", h.nic, "eth0");
  put(o, "nicMac", h.nicMac, "");
  put(o, "address", h.address);
  put(o, "gateway", h.gateway, "");
  put(o, "gatewayMac", h.gatewayMac, "");
  put(o, "ovn0Routes", arr(h.ovn0Routes));
  put(
    o,
    "ipsets",
    h.ipsets.valueSeq().map((st) => {
      const so: Plain = { name: st.name };
      put(so, "members", st.members.map((e) => ({ address: e.address, ...(e.owner !== "" ? { owner: e.owner } : {}) })).toArray());
      return so;
    }).toArray(),
  );
  put(o, "centralizedSnats", h.centralizedSnats.map((r) => ({ cidr: r.cidr, ip: r.ip, ...(r.owner !== "" ? { owner: r.owner } : {}) })).toArray());
  put(o, "randomFully", h.randomFully, false);
  return o;
}

/** The plain (JSON-like) form of a scenario, in `format.ts` field order. */
export function scenarioToPlain(net: Network, probes: readonly Probe[] = [], zones: readonly string[] = []): Plain {
  const s: Plain = {};
  put(s, "name", net.name);
  put(s, "description", net.description, "");
  put(s, "options", obj(net.options));
  put(
    s,
    "chassis",
    net.chassis.valueSeq().map((c) => {
      const o: Plain = {};
      put(o, "name", c.name);
      put(o, "hostname", c.hostname, "");
      put(o, "encaps", c.encaps.map((e) => ({ type: e.type, ip: e.ip })).toArray());
      put(o, "bridgeMappings", obj(c.bridgeMappings));
      put(o, "nics", obj(c.nics));
      put(o, "macMappings", obj(c.macMappings));
      put(o, "mac", c.mac, "");
      put(o, "isRemote", c.isRemote, false);
      put(o, "isInterconn", c.isInterconn, false);
      return o;
    }).toArray(),
  );
  put(
    s,
    "addressSets",
    net.addressSets.valueSeq().map((a) => {
      const o: Plain = {};
      put(o, "name", a.name);
      put(o, "addresses", arr(a.addresses));
      put(o, "externalIds", obj(a.externalIds));
      return o;
    }).toArray(),
  );
  put(
    s,
    "portGroups",
    net.portGroups.valueSeq().map((g) => {
      const o: Plain = {};
      put(o, "name", g.name);
      put(o, "ports", arr(g.ports));
      put(o, "acls", g.acls.map(saveAcl).toArray());
      put(o, "externalIds", obj(g.externalIds));
      return o;
    }).toArray(),
  );
  put(
    s,
    "loadBalancers",
    net.loadBalancers.valueSeq().map((l) => {
      const o: Plain = {};
      put(o, "name", l.name);
      put(o, "protocol", l.protocol);
      put(o, "vips", Object.fromEntries(l.vips.entrySeq().map(([k, v]) => [k, v.toArray()]).toArray()));
      put(o, "selectionFields", arr(l.selectionFields));
      put(o, "options", obj(l.options));
      put(o, "externalIds", obj(l.externalIds));
      return o;
    }).toArray(),
  );
  put(
    s,
    "switches",
    net.switches.valueSeq().map((ls) => {
      const o: Plain = {};
      put(o, "name", ls.name);
      put(
        o,
        "ports",
        ls.ports.valueSeq().map((p) => {
          const po: Plain = {};
          put(po, "name", p.name);
          put(po, "type", p.type, "");
          put(po, "addresses", arr(p.addresses));
          put(po, "portSecurity", arr(p.portSecurity));
          put(po, "options", obj(p.options));
          put(po, "tag", p.tag);
          put(po, "chassis", p.chassis);
          put(po, "enabled", p.enabled, true);
          put(po, "tunnelKey", p.tunnelKey);
          put(po, "externalIds", obj(p.externalIds));
          return po;
        }).toArray(),
      );
      put(o, "acls", ls.acls.map(saveAcl).toArray());
      put(o, "loadBalancers", arr(ls.loadBalancers));
      put(o, "otherConfig", obj(ls.otherConfig));
      put(o, "tunnelKey", ls.tunnelKey);
      put(o, "externalIds", obj(ls.externalIds));
      return o;
    }).toArray(),
  );
  put(s, "routers", net.routers.valueSeq().map(saveRouter).toArray());
  put(
    s,
    "haChassisGroups",
    net.haChassisGroups.valueSeq().map((g) => {
      const o: Plain = {};
      put(o, "name", g.name);
      put(o, "chassis", g.chassis.map(saveGatewayChassis).toArray());
      put(o, "externalIds", obj(g.externalIds));
      return o;
    }).toArray(),
  );
  put(s, "staticMacBindings", net.staticMacBindings.map((b) => saveMacBinding(b, true)).toArray());
  put(s, "macBindings", net.macBindings.map((b) => saveMacBinding(b, false)).toArray());
  put(s, "natGateways", net.natGateways.valueSeq().map(saveNatGateway).toArray());
  put(s, "nodeHosts", net.nodeHosts.valueSeq().map(saveNodeHost).toArray());
  put(
    s,
    "providerNetworks",
    net.providerNetworks.valueSeq().map((pn) => ({ name: pn.name, ...(pn.gateways.size ? { gateways: pn.gateways.map((g) => ({ vlan: g.vlan, address: g.address, mac: g.mac })).toArray() } : {}) })).toArray(),
  );
  put(s, "zones", [...zones]);
  put(
    s,
    "probes",
    probes.map((p) => {
      const o: Plain = {};
      put(o, "name", p.name);
      put(o, "datapath", p.datapath);
      put(o, "microflow", p.microflow);
      put(o, "ct", [...p.ct]);
      put(o, "lbDst", p.lbDst);
      put(o, "selectId", p.selectId);
      const e: Plain = {};
      switch (p.expect.kind) {
        case "drop":
          e.drop = true;
          break;
        case "output":
          e.output = [...p.expect.ports];
          put(e, "fields", { ...p.expect.fields });
          break;
        case "unchecked":
          // No expectation: written without `expect`, which only a probes file accepts back.
          return o;
        default: {
          const _: never = p.expect;
          return _;
        }
      }
      o.expect = e;
      return o;
    }),
  );
  return s;
}

/** Renders a scenario as YAML. */
export function saveScenario(net: Network, probes: readonly Probe[] = [], zones: readonly string[] = []): string {
  return stringify(scenarioToPlain(net, probes, zones), { lineWidth: 0, indentSeq: true });
}
