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
import type { Acl, Network } from "../model/index.js";
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

/** The plain (JSON-like) form of a scenario, in `format.ts` field order. */
export function scenarioToPlain(net: Network, probes: readonly Probe[] = []): Plain {
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
      if (p.expect.kind === "drop") e.drop = true;
      else {
        e.output = [...p.expect.ports];
        put(e, "fields", { ...p.expect.fields });
      }
      o.expect = e;
      return o;
    }),
  );
  return s;
}

/** Renders a scenario as YAML. */
export function saveScenario(net: Network, probes: readonly Probe[] = []): string {
  return stringify(scenarioToPlain(net, probes), { lineWidth: 0, indentSeq: true });
}
