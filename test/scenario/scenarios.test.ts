/**
 * The shipped scenarios, the published JSON Schema, and save/load round trips.
 *
 * The schema is checked two ways: the committed file must equal the one derived from the format
 * spec, and an independent minimal JSON Schema validator (below, written for this test) must
 * accept every shipped scenario and reject the same unknown keys the loader rejects.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { is, List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { formatDiagnostic } from "../../src/base/index.js";
import { compileNetwork } from "../../src/compile/index.js";
import { routerLogicalFlows } from "../../src/compile/router.js";
import { Acl, AddressSet, Chassis, Encap, LoadBalancer, LogicalSwitch, Nat, Network, PortGroup, RouterPolicy, StaticRoute, SwitchPort } from "../../src/model/index.js";
import { loadNetworkFile, loadNetworkText, loadScenario, saveScenario, scenarioJsonSchema, type Probe } from "../../src/scenario/index.js";
import { GOOD } from "./router-network.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = resolve(ROOT, "scenarios");
const files = readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml"));
const schema = JSON.parse(readFileSync(resolve(ROOT, "schema/scenario.schema.json"), "utf8")) as Schema;

type Schema = Record<string, unknown>;

/** A small JSON Schema validator: type, properties, required, additionalProperties, items, enum, minimum, maximum, $ref. */
function schemaErrors(value: unknown, s: Schema, root: Schema, at = "$"): string[] {
  if (typeof s.$ref === "string") {
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    return schemaErrors(value, (root.$defs as Record<string, Schema>)[name]!, root, at);
  }
  const errs: string[] = [];
  const type = s.type as string | undefined;
  const isObj = typeof value === "object" && value !== null && !Array.isArray(value);
  if (type === "object" && !isObj) return [`${at}: not an object`];
  if (type === "array" && !Array.isArray(value)) return [`${at}: not an array`];
  if (type === "string" && typeof value !== "string") return [`${at}: not a string`];
  if (type === "integer" && !Number.isInteger(value)) return [`${at}: not an integer`];
  if (type === "boolean" && typeof value !== "boolean") return [`${at}: not a boolean`];
  if (Array.isArray(s.enum) && !s.enum.includes(value)) errs.push(`${at}: not in enum`);
  if (typeof s.minimum === "number" && (value as number) < s.minimum) errs.push(`${at}: below minimum`);
  if (typeof s.maximum === "number" && (value as number) > s.maximum) errs.push(`${at}: above maximum`);
  if (isObj) {
    const o = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) errs.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(o)) {
      if (k in props) errs.push(...schemaErrors(v, props[k]!, root, `${at}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${at}: unknown key ${k}`);
      else if (typeof s.additionalProperties === "object") errs.push(...schemaErrors(v, s.additionalProperties as Schema, root, `${at}.${k}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => errs.push(...schemaErrors(v, s.items as Schema, root, `${at}[${i}]`)));
  return errs;
}

describe("shipped scenarios", () => {
  it("there are the three required scenarios", () => {
    expect(files).toEqual(expect.arrayContaining(["kube-ovn-default.yaml", "network-policy.yaml", "localnet-vlan.yaml"]));
  });

  for (const f of files) {
    describe(f, () => {
      const path = resolve(SCENARIOS, f);
      const r = loadNetworkFile(path);

      it("loads and validates clean, with at least 30 probes", () => {
        if (!r.ok) expect(r.diags.map(formatDiagnostic)).toEqual([]);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.value.probes.length).toBeGreaterThanOrEqual(30);
        expect(new Set(r.value.probes.map((p) => p.name)).size).toBe(r.value.probes.length);
        expect((r.value.warnings ?? []).map(formatDiagnostic)).toEqual([]);
      });

      it("matches the JSON Schema", () => {
        expect(schemaErrors(parse(readFileSync(path, "utf8")), schema, schema)).toEqual([]);
      });

      it("save then load gives back equal values, and saving is stable", () => {
        if (!r.ok) return;
        const text = saveScenario(r.value.network, r.value.probes, r.value.zones);
        const again = loadScenario(text, "saved.yaml");
        expect(again.ok).toBe(true);
        if (!again.ok) return;
        expect(is(again.value.network, r.value.network)).toBe(true);
        expect(again.value.probes).toEqual(r.value.probes);
        expect(saveScenario(again.value.network, again.value.probes, again.value.zones)).toBe(text);
      });
    });
  }
});

describe("JSON Schema", () => {
  it("the committed schema is the one derived from the format spec", () => {
    expect(schema).toEqual(scenarioJsonSchema());
  });

  it("schema and loader reject the same unknown keys, at every object kind", () => {
    const base = {
      name: "n",
      chassis: [{ name: "c", encaps: [{ type: "geneve", ip: "1.1.1.1" }] }],
      addressSets: [{ name: "as", addresses: ["10.0.0.0/8"] }],
      loadBalancers: [{ name: "lb", vips: { "1.1.1.1:80": ["10.0.0.1:80"] } }],
      switches: [{ name: "s", ports: [{ name: "p", addresses: ["00:00:00:00:00:01 10.0.0.1"] }], acls: [{ direction: "to-lport", priority: 1, match: "ip4", action: "allow" }] }],
      portGroups: [{ name: "pg", ports: ["p"], acls: [{ direction: "to-lport", priority: 1, match: "ip4", action: "allow" }] }],
      probes: [{ name: "x", microflow: 'inport == "p"', expect: { drop: true } }],
      routers: [
        {
          name: "lr",
          ports: [{ name: "lrp", mac: "00:00:00:00:ff:01", networks: ["10.0.0.254/24"], gatewayChassis: [{ chassis: "c", priority: 1 }] }],
          staticRoutes: [{ ipPrefix: "0.0.0.0/0", nexthop: "10.0.0.1" }],
          policies: [{ priority: 1, match: "ip4", action: "allow" }],
          nat: [{ type: "snat", externalIp: "10.0.0.254", logicalIp: "10.1.0.0/16" }],
        },
      ],
      haChassisGroups: [{ name: "g", chassis: [{ chassis: "c", priority: 1 }] }],
      staticMacBindings: [{ logicalPort: "lrp", ip: "10.0.0.1", mac: "00:00:00:00:00:09" }],
      macBindings: [{ logicalPort: "lrp", ip: "10.0.0.1", mac: "00:00:00:00:00:09" }],
      natGateways: [
        {
          name: "gw",
          vpc: "lr",
          lanPort: "p",
          lanIp: "10.0.0.1",
          externalMac: "00:00:00:00:ee:01",
          externalCidr: "172.17.0.10/24",
          externalGateway: "172.17.0.1",
          eips: [{ name: "e", ip: "172.17.0.11" }],
          snatRules: [{ name: "s", eip: "e", internalCidr: "10.0.0.0/24" }],
          dnatRules: [{ name: "d", eip: "e", protocol: "tcp", externalPort: 80, internalIp: "10.0.0.1", internalPort: 80 }],
          fipRules: [{ name: "f", eip: "e", internalIp: "10.0.0.1" }],
        },
      ],
    };
    base.switches[0]!.ports.push({ name: "p-lr", type: "router", addresses: ["router"], options: { "router-port": "lrp" } } as (typeof base.switches)[0]["ports"][0]);
    const okText = JSON.stringify(base);
    expect(schemaErrors(base, schema, schema)).toEqual([]);
    expect(loadScenario(okText, "ok.yaml").ok).toBe(true);
    const targets: ((o: typeof base) => Record<string, unknown>)[] = [
      (o) => o,
      (o) => o.chassis[0]!,
      (o) => o.chassis[0]!.encaps[0]!,
      (o) => o.addressSets[0]!,
      (o) => o.loadBalancers[0]!,
      (o) => o.switches[0]!,
      (o) => o.switches[0]!.ports[0]!,
      (o) => o.switches[0]!.acls[0]!,
      (o) => o.portGroups[0]!,
      (o) => o.portGroups[0]!.acls[0]!,
      (o) => o.probes[0]!,
      (o) => o.probes[0]!.expect,
      (o) => o.routers[0]!,
      (o) => o.routers[0]!.ports[0]!,
      (o) => o.routers[0]!.ports[0]!.gatewayChassis[0]!,
      (o) => o.routers[0]!.staticRoutes[0]!,
      (o) => o.routers[0]!.policies[0]!,
      (o) => o.routers[0]!.nat[0]!,
      (o) => o.haChassisGroups[0]!,
      (o) => o.haChassisGroups[0]!.chassis[0]!,
      (o) => o.staticMacBindings[0]!,
      (o) => o.macBindings[0]!,
      (o) => o.natGateways[0]!,
      (o) => o.natGateways[0]!.eips[0]!,
      (o) => o.natGateways[0]!.snatRules[0]!,
      (o) => o.natGateways[0]!.dnatRules[0]!,
      (o) => o.natGateways[0]!.fipRules[0]!,
    ];
    for (const t of targets) {
      const o = JSON.parse(okText) as typeof base;
      t(o).bogusKey = "1";
      expect(schemaErrors(o, schema, schema).some((e) => e.includes("unknown key bogusKey"))).toBe(true);
      const r = loadScenario(JSON.stringify(o), "bad.yaml");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.diags.map((d) => d.message).join("\n")).toContain('unknown field "bogusKey"');
    }
  });
});

describe("fixtures/scenario/every-field.yaml", () => {
  const path = resolve(ROOT, "fixtures/scenario/every-field.yaml");
  const text = readFileSync(path, "utf8");
  it("uses every field the format declares", () => {
    const used = new Set<string>();
    const walk = (v: unknown, s: Schema): void => {
      if (typeof s.$ref === "string") return walk(v, (schema.$defs as Record<string, Schema>)[s.$ref.replace(/^#\/\$defs\//, "")]!);
      if (Array.isArray(v)) for (const x of v) walk(x, s.items as Schema);
      else if (v && typeof v === "object" && s.properties) {
        const title = String(s.description);
        for (const [k, x] of Object.entries(v)) {
          used.add(`${title}|${k}`);
          walk(x, (s.properties as Record<string, Schema>)[k]!);
        }
      }
    };
    walk(parse(text), schema);
    const declared = new Set<string>();
    for (const d of [schema, ...Object.values(schema.$defs as Record<string, Schema>)]) for (const k of Object.keys(d.properties as object)) declared.add(`${String(d.description)}|${k}`);
    expect([...declared].filter((k) => !used.has(k))).toEqual([]);
  });
  it("loads, matches the schema and round-trips", () => {
    const r = loadScenario(text, path);
    if (!r.ok) expect(r.diags.map(formatDiagnostic)).toEqual([]);
    expect(schemaErrors(parse(text), schema, schema)).toEqual([]);
    if (!r.ok) return;
    const again = loadScenario(saveScenario(r.value.network, r.value.probes, r.value.zones), "saved.yaml");
    expect(again.ok && is(again.value.network, r.value.network)).toBe(true);
    expect(again.ok && again.value.probes).toEqual(r.value.probes);
  });
  it("compiles, every flow included", () => {
    const r = loadScenario(text, path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = compileNetwork(r.value.network);
    if (!c.ok) expect(c.diags.map(formatDiagnostic)).toEqual([]);
  });
});

describe("round trip of a network built in code", () => {
  it("keeps every field that differs from its default", () => {
    const acl = Acl({ direction: "to-lport", priority: 2001, match: "outport == @pg && ip4.src == $as", action: "allow-related", name: "n", label: 7, log: true, severity: "info", applyAfterLb: false, externalIds: OrderedMap({ k: "v" }) });
    const net = Network({
      name: "code",
      description: "built in a test",
      options: OrderedMap({ use_ct_inv_match: "false" }),
      chassis: OrderedMap({ hv: Chassis({ name: "hv", hostname: "h", encaps: List([Encap({ type: "vxlan", ip: "192.0.2.1" })]), bridgeMappings: OrderedMap({ phys: "br-ex" }) }) }),
      addressSets: OrderedMap({ as: AddressSet({ name: "as", addresses: List(["10.0.0.0/24", "fd00::1"]) }) }),
      loadBalancers: OrderedMap({
        lb: LoadBalancer({ name: "lb", protocol: "udp", vips: OrderedMap({ "[fd00::10]:53": List(["[fd00::2]:53"]), "10.96.0.1": List(["10.0.0.2"]) }), selectionFields: List(["ip_src", "tp_src"]), options: OrderedMap({ reject: "true" }) }),
      }),
      switches: OrderedMap({
        s: LogicalSwitch({
          name: "s",
          tunnelKey: 9,
          loadBalancers: List(["lb"]),
          acls: List([acl.set("direction", "from-lport").set("applyAfterLb", true)]),
          ports: OrderedMap({
            p: SwitchPort({ name: "p", addresses: List(["00:00:00:00:00:01 10.0.0.1 fd00::1"]), portSecurity: List(["00:00:00:00:00:01 10.0.0.0/24"]), chassis: "hv", enabled: false, tunnelKey: 3, externalIds: OrderedMap({ pod: "x" }) }),
            ln: SwitchPort({ name: "ln", type: "localnet", addresses: List(["unknown"]), options: OrderedMap({ network_name: "phys" }), tag: 4095 }),
          }),
        }),
      }),
      portGroups: OrderedMap({ pg: PortGroup({ name: "pg", ports: List(["p"]), acls: List([acl]) }) }),
    });
    const probes: Probe[] = [
      { name: "a", datapath: "s", microflow: 'inport == "p" && ip4', ct: ["est,rpl"], lbDst: "10.0.0.2", selectId: 1, expect: { kind: "output", ports: ["ln"], fields: { "ip4.dst": "10.0.0.2" } } },
      { name: "b", datapath: "s", microflow: "ip4", ct: [], expect: { kind: "drop" } },
    ];
    const r = loadScenario(saveScenario(net, probes), "code.yaml");
    if (!r.ok) expect(r.diags.map(formatDiagnostic)).toEqual([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(is(r.value.network, net)).toBe(true);
    expect(r.value.probes).toEqual(probes);
  });
});

describe("round trip of a network with routers built in code", () => {
  it("keeps every router, NAT, binding and NAT gateway field that differs from its default", () => {
    const net = GOOD.setIn(["routers", "lr", "options"], OrderedMap({ chassis: "hv1" }))
      .setIn(["routers", "lr", "externalIds"], OrderedMap({ vendor: "x" }))
      .setIn(["routers", "lr", "enabled"], false)
      .setIn(["routers", "lr", "ports", "lr-ls", "options"], OrderedMap({ gateway_mtu: "1400" }))
      .setIn(["routers", "lr", "ports", "lr-ls", "externalIds"], OrderedMap({ k: "v" }))
      .setIn(["routers", "lr", "ports", "lr-ls", "enabled"], false)
      .updateIn(["routers", "lr", "staticRoutes"], (l) => (l as List<StaticRoute>).push(StaticRoute({ ipPrefix: "10.7.0.0/16", nexthop: "172.16.0.9", options: OrderedMap({ ecmp_symmetric_reply: "true" }), externalIds: OrderedMap({ a: "b" }) })))
      .updateIn(["routers", "lr", "policies"], (l) => (l as List<RouterPolicy>).push(RouterPolicy({ priority: 5, match: "ip6", action: "reroute", nexthops: List(["fd00::9", "fd00::8"]), options: OrderedMap({ pkt_mark: "3" }), externalIds: OrderedMap({ c: "d" }) })))
      .updateIn(["routers", "lr", "nat"], (l) => (l as List<Nat>).push(Nat({ type: "snat", externalIp: "172.16.0.30", logicalIp: "10.0.5.0/24", exemptedExtIps: "as", options: OrderedMap({ add_route: "true" }), externalIds: OrderedMap({ e: "f" }) })))
      .setIn(["haChassisGroups", "g", "externalIds"], OrderedMap({ g: "h" }));
    const text = saveScenario(net);
    const r = loadScenario(text, "routers.yaml");
    if (!r.ok) expect(r.diags.map(formatDiagnostic)).toEqual([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(is(r.value.network, net)).toBe(true);
    expect(saveScenario(r.value.network)).toBe(text);
    // Defaults are left out: a router port without options, peers or chassis saves as its three fields.
    expect(text).toContain("      - name: lr-lr2\n        mac: 00:00:00:00:ff:03\n        networks:\n          - 169.254.0.1/31\n        peer: lr2-lr\n");
  });
});

describe("load warnings", () => {
  const zone = (gateway: string): string => `
name: zone
chassis:
  - {name: hv, encaps: [{type: geneve, ip: 192.0.2.1}]}
  - {name: gw, ${gateway}encaps: [{type: geneve, ip: 192.0.2.2}]}
  - {name: other-gw, isRemote: true, encaps: [{type: geneve, ip: 198.51.100.2}]}
`;
  it("chassis of another zone without an interconnection gateway here: one warning naming them", () => {
    const r = loadNetworkText(zone(""), "zone.yaml");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.value.warnings ?? []).map(formatDiagnostic)).toEqual([
      "zone.yaml: chassis: warning: chassis other-gw is of another zone (isRemote), but no chassis of this zone is an OVN-IC gateway (isInterconn, ovn-is-interconn): none has a tunnel there, so nothing crosses to the other zone",
    ]);
    const fine = loadNetworkText(zone("isInterconn: true, "), "zone.yaml");
    expect(fine.ok && (fine.value.warnings ?? []).length).toBe(0);
  });

  const ecmp = (chassis: string, symmetric: string): string => `
name: ecmp
chassis:
  - {name: hv, encaps: [{type: geneve, ip: 192.0.2.1}]}
routers:
  - name: gr
    ${chassis}
    ports:
      - {name: gr-out, mac: "00:00:00:00:00:01", networks: [172.16.0.2/24]}
    staticRoutes:
      - {ipPrefix: 0.0.0.0/0, nexthop: 172.16.0.1${symmetric}}
      - {ipPrefix: 0.0.0.0/0, nexthop: 172.16.0.3${symmetric}}
      - {ipPrefix: 10.0.0.0/8, nexthop: 172.16.0.1${symmetric}}
`;
  it("ECMP routes of a gateway router with ecmp_symmetric_reply: northd's symmetric-reply flows, no warning", () => {
    const flows = (text: string): { stage: string; priority: number; match: string; actions: string }[] => {
      const r = loadNetworkText(text, "ecmp.yaml");
      if (!r.ok) throw new Error(r.diags.map(formatDiagnostic).join("\n"));
      expect((r.value.warnings ?? []).map(formatDiagnostic)).toEqual([]);
      return routerLogicalFlows(r.value.network, "gr");
    };
    const sym = flows(ecmp("options: {chassis: hv}", ', options: {ecmp_symmetric_reply: "true"}'));
    const at = (stage: string): string[] => sym.filter((f) => f.stage === stage && f.priority >= 100 && f.actions.includes("ecmp")).map((f) => `${f.priority} ${f.match} => ${f.actions}`);
    // One set for the group of two default routes (both leave by gr-out, whose port key is 1);
    // the 10.0.0.0/8 route is no group.
    expect(at("lr_in_defrag")).toEqual(['100 inport == "gr-out" && ip4.src == 0.0.0.0/0 => reg9[5] = chk_ecmp_nh_mac(); ct_next;', "100 reg7 == 0 && ip4.dst == 0.0.0.0/0 => reg9[5] = chk_ecmp_nh(); ct_next;"]);
    expect(at("lr_in_ecmp_stateful")).toHaveLength(6);
    expect(at("lr_in_ecmp_stateful")[0]).toBe('100 inport == "gr-out" && ip4.src == 0.0.0.0/0 && (ct.new && !ct.est) && tcp => ct_commit { ct_label.ecmp_reply_eth = eth.src;  ct_mark.ecmp_reply_port = 1;}; commit_ecmp_nh(ipv6 = false, proto = tcp); next;');
    const reply = "ct.rpl && reg9[5] == 1 && ct_mark.ecmp_reply_port == 1";
    expect(sym.filter((f) => f.match.startsWith(reply)).map((f) => `${f.stage} ${f.priority} ${f.actions}`)).toEqual([
      `lr_in_ip_routing 10300 ip.ttl--; flags.loopback = 1; eth.src = 00:00:00:00:00:01; reg1 = 172.16.0.2; outport = "gr-out"; next;`,
      "lr_in_policy 65535 next;",
      "lr_in_arp_resolve 200 push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;",
    ]);
    // Not on a distributed router (northd makes no symmetric replies there), nor without the option.
    for (const text of [ecmp("", ', options: {ecmp_symmetric_reply: "true"}'), ecmp("options: {chassis: hv}", "")]) {
      expect(flows(text).filter((f) => f.actions.includes("ecmp_nh") || f.priority === 10300)).toEqual([]);
    }
  });
});

describe("input kinds", () => {
  it("routes NB databases to their loader and Kube-OVN manifests to theirs", () => {
    // A database file with a damaged first header: the OVSDB reader reports it (test/scenario/ovsdb.test.ts has the rest).
    const nb = loadNetworkText('OVSDB JSON 1234 abcd\n{"name":"OVN_Northbound"}', "nb.db");
    expect(nb.ok).toBe(false);
    if (!nb.ok) expect(nb.diags[0]!.code).toBe("ovsdb.header");
    // A manifest goes to the manifest loader, whose errors name the resource.
    const kube = loadNetworkText("apiVersion: kubeovn.io/v1\nkind: Subnet\n", "subnet.yaml");
    expect(kube.ok).toBe(false);
    if (!kube.ok) expect(kube.diags[0]!.message).toContain("Subnet/?: metadata.name is required");
    const missing = loadNetworkFile(resolve(ROOT, "scenarios/does-not-exist.yaml"));
    expect(missing.ok).toBe(false);
  });
});
