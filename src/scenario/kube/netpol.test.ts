/**
 * NetworkPolicy mapping tests: hand-built policies, pods, namespaces and services in, exact port
 * groups, address sets and ACL rows out. Expected strings are written from Kube-OVN's rules
 * (kube-ovn-mapping.md §5), several of them by filling in the doc's own templates.
 */
import { describe, expect, it } from "vitest";
import { parseExpr } from "../../expr/index.js";
import type { Acl, AddressSet, PortGroup } from "../../model/index.js";
import { mapNetworkPolicies, nodePortGroupName, type NetpolInput, type NetpolOutput } from "./netpol.js";
import type { KubeObject, NamespaceInfo, NodeInfo, PodInfo, ServiceInfo, SubnetInfo } from "./types.js";

function policy(namespace: string, name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    name,
    namespace,
    labels: {},
    annotations,
    spec,
    status: {},
    raw: {},
    loc: { file: "np.yaml", line: 1, column: 1 },
  };
}

function pod(namespace: string, name: string, ip: string, labels: Record<string, string> = {}, extra: Partial<PodInfo> = {}): PodInfo {
  return {
    name,
    namespace,
    labels,
    lsp: `${name}.${namespace}`,
    subnet: "ovn-default",
    ips: [ip],
    mac: "00:00:00:00:00:01",
    node: "kube-ovn-worker",
    vpc: "ovn-cluster",
    namedPorts: {},
    ...extra,
  };
}

const SUBNETS: SubnetInfo[] = [
  { name: "ovn-default", cidr: "10.16.0.0/16", gateway: "10.16.0.1" },
  { name: "dual", cidr: "10.17.0.0/16,fd00:17::/64", gateway: "10.17.0.1,fd00:17::1" },
];
const NODES: NodeInfo[] = [
  { name: "kube-ovn-worker", internalIp: "172.18.0.2" },
  { name: "kube-ovn-control-plane", internalIp: "172.18.0.3" },
];

function run(policies: KubeObject[], more: Partial<NetpolInput> = {}): NetpolOutput {
  return mapNetworkPolicies({ policies, pods: [], namespaces: [], services: [], subnets: SUBNETS, nodes: NODES, ...more });
}

function pgOf(out: NetpolOutput, name: string): PortGroup {
  const pg = out.portGroups.find((p) => p.name === name);
  if (!pg) throw new Error(`no port group ${name}; have ${out.portGroups.map((p) => p.name).join(", ")}`);
  return pg;
}

function asOf(out: NetpolOutput, name: string): AddressSet {
  const as = out.addressSets.find((a) => a.name === name);
  if (!as) throw new Error(`no address set ${name}; have ${out.addressSets.map((a) => a.name).join(", ")}`);
  return as;
}

/** An ACL as a plain row, for exact comparisons. */
function row(a: Acl): Record<string, unknown> {
  return {
    direction: a.direction,
    priority: a.priority,
    match: a.match,
    action: a.action,
    name: a.name,
    log: a.log,
    severity: a.severity,
    applyAfterLb: a.applyAfterLb,
    externalIds: a.externalIds.toObject(),
  };
}

function acl(direction: Acl["direction"], priority: number, match: string, action: Acl["action"], parent: string, extra: { name?: string; log?: boolean; severity?: string; applyAfterLb?: boolean } = {}): Record<string, unknown> {
  return { direction, priority, match, action, name: extra.name, log: extra.log ?? false, severity: extra.severity, applyAfterLb: extra.applyAfterLb ?? false, externalIds: { parent } };
}

/** Fills the doc's `<placeholder>`s. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/<([a-zA-Z]+)>/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`no value for <${k}>`);
    return v;
  });
}

// Templates copied literally from kube-ovn-mapping.md §5.2 (table) and §5 (node allowance).
const DOC = {
  ingressDrop: "outport == @<pg> && ip",
  ingressAllow: "outport == @<pg> && ip && ip4.src == $<allowAS> && ip4.src != $<exceptAS>",
  egressDrop: "inport == @<pg> && ip",
  egressAllow: "inport == @<pg> && ip && ip4.dst == $<allowAS> && ip4.dst != $<exceptAS>",
  gatewayIn: "ip4.src == <subnetGateway>",
  gatewayOut: "ip4.dst == <subnetGateway>",
  nodeIn: "ip4.src == <nodeIP> && ip4.dst == $node.<node>_ip4",
  nodeOut: "ip4.dst == <nodeIP> && ip4.src == $node.<node>_ip4",
  range: "<min> <= <proto>.dst <= <max>",
};

/** Every match parses, and every address set it names is in the output (or derived from a port group). */
function allMatchesParse(out: NetpolOutput): void {
  const sets = new Set(out.addressSets.map((a) => a.name));
  expect(sets.size).toBe(out.addressSets.length);
  const groups = new Set(out.portGroups.map((p) => p.name));
  for (const pg of out.portGroups)
    for (const a of pg.acls) {
      const r = parseExpr(a.match, pg.name);
      expect(r.ok, `${pg.name}: ${a.match}`).toBe(true);
      for (const [, name] of a.match.matchAll(/\$([A-Za-z0-9_.]+)/g)) {
        const derived = /^(.*)_ip[46]$/.exec(name!);
        expect(sets.has(name!) || (derived !== null && groups.has(derived[1]!)), `${pg.name}: $${name}`).toBe(true);
      }
      for (const [, name] of a.match.matchAll(/@([A-Za-z0-9_.]+)/g)) expect(groups.has(name!)).toBe(true);
    }
}

function errors(out: NetpolOutput): string[] {
  return out.diags.filter((d) => d.severity === "error").map((d) => d.message);
}

describe("default-deny ingress", () => {
  const pods = [pod("web", "a", "10.16.0.5"), pod("web", "b", "10.16.0.6", { app: "b" }), pod("other", "c", "10.16.0.7")];

  for (const [label, spec] of [
    ["policyTypes: [Ingress]", { podSelector: {}, policyTypes: ["Ingress"] }],
    ["no policyTypes (API default)", { podSelector: {} }],
  ] as const) {
    it(`${label}: one drop, one allow over empty .all sets, gateway allows`, () => {
      const out = run([policy("web", "deny-all", spec)], { pods });
      expect(errors(out)).toEqual([]);
      const pg = pgOf(out, "deny.all.web");
      expect(pg.ports.toArray()).toEqual(["a.web", "b.web"]);
      expect(pg.externalIds.toObject()).toEqual({ np: "web/deny-all" });
      const allow = "deny.all.web.ingress.allow.IPv4.all";
      const except = "deny.all.web.ingress.except.IPv4.all";
      expect(pg.acls.map(row).toArray()).toEqual([
        acl("to-lport", 2000, "outport == @deny.all.web && ip", "drop", "deny.all.web", { name: "web/deny-all" }),
        acl("to-lport", 2001, `outport == @deny.all.web && ip && ip4.src == $${allow} && ip4.src != $${except}`, "allow-related", "deny.all.web", { name: "np/deny-all.web/ingress/IPv4/all" }),
        acl("to-lport", 2001, "ip4.src == 10.16.0.1", "allow-stateless", "deny.all.web"),
        acl("from-lport", 2001, "ip4.dst == 10.16.0.1", "allow-stateless", "deny.all.web", { applyAfterLb: true }),
      ]);
      expect(out.addressSets.map((a) => [a.name, a.addresses.toArray(), a.externalIds.toObject()])).toEqual([
        [allow, [], { np: "web/deny-all/ingress" }],
        [except, [], { np: "web/deny-all/ingress" }],
      ]);
      allMatchesParse(out);
    });
  }

  it("matches the doc's templates", () => {
    const out = run([policy("web", "deny-all", { podSelector: {} })], { pods });
    const matches = pgOf(out, "deny.all.web").acls.map((a) => a.match).toArray();
    expect(matches).toContain(fill(DOC.ingressDrop, { pg: "deny.all.web" }));
    expect(matches).toContain(fill(DOC.ingressAllow, { pg: "deny.all.web", allowAS: "deny.all.web.ingress.allow.IPv4.all", exceptAS: "deny.all.web.ingress.except.IPv4.all" }));
    expect(matches).toContain(fill(DOC.gatewayIn, { subnetGateway: "10.16.0.1" }));
    expect(matches).toContain(fill(DOC.gatewayOut, { subnetGateway: "10.16.0.1" }));
  });

  it("a policy that selects no pod has an empty port group and no ACLs or address sets", () => {
    const out = run([policy("web", "deny-none", { podSelector: { matchLabels: { app: "zzz" } } })], { pods });
    const pg = pgOf(out, "deny.none.web");
    expect(pg.ports.size).toBe(0);
    expect(pg.acls.size).toBe(0);
    expect(out.addressSets).toEqual([]);
  });
});

describe("pod selectors", () => {
  const pods = [
    pod("ns", "p1", "10.16.0.11", { app: "web", tier: "fe" }),
    pod("ns", "p2", "10.16.0.12", { app: "db" }),
    pod("ns", "p3", "10.16.0.13", { app: "web", canary: "yes" }),
    pod("ns", "p4", "10.16.0.14", {}),
  ];
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["matchLabels", { matchLabels: { app: "web" } }, ["p1.ns", "p3.ns"]],
    ["In", { matchExpressions: [{ key: "app", operator: "In", values: ["db", "web"] }] }, ["p1.ns", "p2.ns", "p3.ns"]],
    ["NotIn (also pods without the key)", { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, ["p2.ns", "p4.ns"]],
    ["Exists", { matchExpressions: [{ key: "tier", operator: "Exists" }] }, ["p1.ns"]],
    ["DoesNotExist", { matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, ["p1.ns", "p2.ns", "p4.ns"]],
    ["matchLabels AND matchExpressions", { matchLabels: { app: "web" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, ["p1.ns"]],
    ["empty selector: every pod of the namespace", {}, ["p1.ns", "p2.ns", "p3.ns", "p4.ns"]],
  ];
  for (const [label, sel, want] of cases)
    it(label, () => {
      const out = run([policy("ns", "sel", { podSelector: sel })], { pods: [...pods, pod("other", "q", "10.16.0.20", { app: "web" })] });
      expect(pgOf(out, "sel.ns").ports.toArray()).toEqual(want);
    });

  it("a bad operator or values is an error naming the policy, and the policy is left out", () => {
    const bad = [
      { matchExpressions: [{ key: "app", operator: "Equals", values: ["x"] }] },
      { matchExpressions: [{ key: "app", operator: "In", values: [] }] },
      { matchExpressions: [{ key: "app", operator: "Exists", values: ["x"] }] },
      { matchLabels: { app: 3 } },
      "app=web",
    ];
    for (const sel of bad) {
      const out = run([policy("ns", "bad", { podSelector: sel })], { pods });
      expect(out.portGroups.filter((p) => p.name === "bad.ns")).toEqual([]);
      const errs = errors(out);
      expect(errs.length).toBeGreaterThan(0);
      for (const e of errs) expect(e.startsWith("NetworkPolicy/ns/bad: ")).toBe(true);
      expect(out.diags.find((d) => d.severity === "error")!.loc).toEqual({ file: "np.yaml", line: 1, column: 1 });
    }
  });
});

describe("peers", () => {
  const namespaces: NamespaceInfo[] = [
    { name: "prod", labels: { team: "a" } },
    { name: "dev", labels: { team: "a", env: "dev" } },
    { name: "misc", labels: {} },
  ];
  const pods = [
    pod("prod", "server", "10.16.0.2", { app: "server" }),
    pod("prod", "client", "10.16.0.3", { role: "client" }),
    pod("dev", "client", "10.16.0.4", { role: "client", app: "c" }),
    pod("dev", "other", "10.16.0.5", { role: "other" }),
    pod("misc", "client", "10.16.0.6", { role: "client" }),
  ];
  const services: ServiceInfo[] = [
    { name: "client-svc", namespace: "dev", clusterIps: ["10.96.0.40"], selector: { app: "c" } },
    { name: "no-match", namespace: "dev", clusterIps: ["10.96.0.41"], selector: { app: "zzz" } },
    { name: "headless", namespace: "dev", clusterIps: ["None"], selector: { role: "client" } },
    { name: "no-selector", namespace: "dev", clusterIps: ["10.96.0.42"], selector: undefined },
    { name: "misc-svc", namespace: "misc", clusterIps: ["10.96.0.43"], selector: { role: "client" } },
  ];

  it("namespaceSelector + podSelector: pod IPs plus the ClusterIPs of services selecting them", () => {
    const spec = {
      podSelector: { matchLabels: { app: "server" } },
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { team: "a" } }, podSelector: { matchExpressions: [{ key: "role", operator: "In", values: ["client"] }] } }],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
      ],
    };
    const out = run([policy("prod", "allow-clients", spec)], { pods, namespaces, services });
    expect(errors(out)).toEqual([]);
    // prod/client and dev/client (team=a); misc/client is in a namespace without team=a.
    // dev/client is selected by client-svc (app=c); the headless service has no address.
    expect(asOf(out, "allow.clients.prod.ingress.allow.IPv4.0").addresses.toArray()).toEqual(["10.16.0.3", "10.16.0.4", "10.96.0.40"]);
    expect(asOf(out, "allow.clients.prod.ingress.except.IPv4.0").addresses.toArray()).toEqual([]);
    const pg = pgOf(out, "allow.clients.prod");
    expect(pg.ports.toArray()).toEqual(["server.prod"]);
    expect(pg.acls.map(row).toArray().slice(0, 2)).toEqual([
      acl("to-lport", 2000, "outport == @allow.clients.prod && ip", "drop", "allow.clients.prod", { name: "prod/allow-clients" }),
      acl(
        "to-lport",
        2001,
        "outport == @allow.clients.prod && ip && ip4.src == $allow.clients.prod.ingress.allow.IPv4.0 && ip4.src != $allow.clients.prod.ingress.except.IPv4.0 && tcp.dst == 8080",
        "allow-related",
        "allow.clients.prod",
        { name: "np/allow-clients.prod/ingress/IPv4/0" },
      ),
    ]);
    allMatchesParse(out);
  });

  it("podSelector alone uses the policy's namespace; namespaceSelector alone takes every pod there", () => {
    const spec = { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }, { from: [{ namespaceSelector: { matchLabels: { env: "dev" } } }] }] };
    const out = run([policy("prod", "two", spec)], { pods, namespaces, services });
    expect(asOf(out, "two.prod.ingress.allow.IPv4.0").addresses.toArray()).toEqual(["10.16.0.3"]);
    expect(asOf(out, "two.prod.ingress.allow.IPv4.1").addresses.toArray()).toEqual(["10.16.0.4", "10.96.0.40", "10.16.0.5"]);
    // Only rule 0 gets the drop ACL.
    expect(pgOf(out, "two.prod").acls.filter((a) => a.action === "drop").size).toBe(1);
  });

  it("ipBlock with except: one except set shared by the rule's peers, prefixes in network form", () => {
    const spec = {
      podSelector: {},
      ingress: [
        {
          from: [
            { ipBlock: { cidr: "10.0.0.5/8", except: ["10.1.0.0/16"] } },
            { ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.1.7/24"] } },
            { ipBlock: { cidr: "fd00::/8", except: ["fd00:1::/32"] } },
          ],
        },
      ],
    };
    const out = run([policy("prod", "blocks", spec)], { pods, namespaces });
    expect(errors(out)).toEqual([]);
    expect(asOf(out, "blocks.prod.ingress.allow.IPv4.0").addresses.toArray()).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
    expect(asOf(out, "blocks.prod.ingress.except.IPv4.0").addresses.toArray()).toEqual(["10.1.0.0/16", "192.168.1.0/24"]);
    // The pods are IPv4-only, so no IPv6 sets.
    expect(out.addressSets.some((a) => a.name.includes("IPv6"))).toBe(false);
  });

  it("ipBlock together with selectors contributes both", () => {
    const spec = { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "172.16.0.0/12" }, podSelector: { matchLabels: { role: "client" } } }] }], policyTypes: ["Egress"] };
    const out = run([policy("prod", "mixed", spec)], { pods, namespaces });
    expect(asOf(out, "mixed.prod.egress.allow.IPv4.0").addresses.toArray()).toEqual(["172.16.0.0/12", "10.16.0.3"]);
  });

  it("a rule without peers allows 0.0.0.0/0", () => {
    const out = run([policy("prod", "open", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })], { pods });
    expect(asOf(out, "open.prod.ingress.allow.IPv4.0").addresses.toArray()).toEqual(["0.0.0.0/0"]);
  });

  it("peers that select nothing give an empty set, and the rule's ports are dropped", () => {
    const spec = { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: "nobody" } } }], ports: [{ port: 80 }, { port: 81 }] }] };
    const out = run([policy("prod", "empty", spec)], { pods });
    expect(asOf(out, "empty.prod.ingress.allow.IPv4.0").addresses.size).toBe(0);
    const allows = pgOf(out, "empty.prod").acls.filter((a) => a.priority === 2001 && a.name !== undefined);
    expect(allows.map((a) => a.match).toArray()).toEqual(["outport == @empty.prod && ip && ip4.src == $empty.prod.ingress.allow.IPv4.0 && ip4.src != $empty.prod.ingress.except.IPv4.0"]);
  });

  it("a bad CIDR is an error and the policy is left out", () => {
    const out = run([policy("prod", "badcidr", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.300/8" } }] }] })], { pods });
    expect(out.portGroups.some((p) => p.name === "badcidr.prod")).toBe(false);
    expect(errors(out)).toHaveLength(1);
    expect(errors(out)[0]).toMatch(/^NetworkPolicy\/prod\/badcidr: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr/);
  });
});

describe("ports", () => {
  const pods = [
    pod("shop", "api", "10.16.0.9", { app: "api" }, { namedPorts: { http: { port: 8080, protocol: "TCP" } } }),
    pod("shop", "api2", "10.16.0.10", { app: "api" }, { namedPorts: { http: { port: 9090, protocol: "TCP" }, metrics: { port: 9100, protocol: "TCP" } } }),
  ];
  const spec = {
    podSelector: { matchLabels: { app: "api" } },
    ingress: [
      {
        from: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
        ports: [{ protocol: "TCP", port: "http" }, { protocol: "TCP", port: 32000, endPort: 32768 }, { protocol: "UDP" }, { protocol: "SCTP", port: 9 }, { port: "nope" }, { port: 443 }],
      },
    ],
  };

  it("one allow ACL per ports entry: named, range, protocol only, lower-cased protocol, unknown name → 0, default TCP", () => {
    const out = run([policy("shop", "ports", spec)], { pods });
    expect(errors(out)).toEqual([]);
    const base = "outport == @ports.shop && ip && ip4.src == $ports.shop.ingress.allow.IPv4.0 && ip4.src != $ports.shop.ingress.except.IPv4.0";
    const allows = pgOf(out, "ports.shop")
      .acls.filter((a) => a.name === "np/ports.shop/ingress/IPv4/0")
      .map(row)
      .toArray();
    expect(allows).toEqual(
      [`${base} && tcp.dst == 8080`, `${base} && 32000 <= tcp.dst <= 32768`, `${base} && udp`, `${base} && sctp.dst == 9`, `${base} && tcp.dst == 0`, `${base} && tcp.dst == 443`].map((m) =>
        acl("to-lport", 2001, m, "allow-related", "ports.shop", { name: "np/ports.shop/ingress/IPv4/0" }),
      ),
    );
    // The doc's range template.
    expect(allows[1]!.match).toBe(`${base} && ${fill(DOC.range, { min: "32000", proto: "tcp", max: "32768" })}`);
    // "http" is defined twice with different numbers; "nope" not at all: both are warned about.
    const warns = out.diags.filter((d) => d.severity === "warning").map((d) => d.message);
    expect(warns.some((w) => w.includes('"nope"'))).toBe(true);
    expect(warns.some((w) => w.includes('"http"') && w.includes("8080"))).toBe(true);
    allMatchesParse(out);
  });

  it("invalid ports are errors naming the policy", () => {
    for (const bad of [{ protocol: "ICMP", port: 1 }, { port: 70000 }, { port: "http", endPort: 90 }, { port: 100, endPort: 90 }, { endPort: 90 }]) {
      const out = run([policy("shop", "badport", { podSelector: {}, ingress: [{ ports: [bad] }] })], { pods });
      expect(out.portGroups.some((p) => p.name === "badport.shop"), JSON.stringify(bad)).toBe(false);
      expect(errors(out).length, JSON.stringify(bad)).toBeGreaterThan(0);
      expect(errors(out)[0]!.startsWith("NetworkPolicy/shop/badport: spec.ingress[0].ports[0]")).toBe(true);
    }
  });
});

describe("egress", () => {
  const pods = [pod("app", "w", "10.16.0.30", { app: "w" })];
  const spec = { podSelector: { matchLabels: { app: "w" } }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.96.0.10/32" } }], ports: [{ protocol: "UDP", port: 53 }] }] };

  it("drop and allow are from-lport with apply-after-lb; no ingress ACLs", () => {
    const out = run([policy("app", "dns-only", spec)], { pods });
    expect(errors(out)).toEqual([]);
    const pg = pgOf(out, "dns.only.app");
    const allowAS = "dns.only.app.egress.allow.IPv4.0";
    const exceptAS = "dns.only.app.egress.except.IPv4.0";
    expect(pg.acls.map(row).toArray()).toEqual([
      acl("from-lport", 2000, fill(DOC.egressDrop, { pg: "dns.only.app" }), "drop", "dns.only.app", { name: "app/dns-only", applyAfterLb: true }),
      acl("from-lport", 2001, `${fill(DOC.egressAllow, { pg: "dns.only.app", allowAS, exceptAS })} && udp.dst == 53`, "allow-related", "dns.only.app", { name: "np/dns-only.app/egress/IPv4/0", applyAfterLb: true }),
      acl("to-lport", 2001, "ip4.src == 10.16.0.1", "allow-stateless", "dns.only.app"),
      acl("from-lport", 2001, "ip4.dst == 10.16.0.1", "allow-stateless", "dns.only.app", { applyAfterLb: true }),
    ]);
    expect(asOf(out, allowAS).addresses.toArray()).toEqual(["10.96.0.10/32"]);
    expect(asOf(out, allowAS).externalIds.toObject()).toEqual({ np: "app/dns-only/egress" });
    expect(out.addressSets.some((a) => a.name.includes("ingress"))).toBe(false);
  });

  it("without policyTypes, egress rules enable both directions (API default)", () => {
    const { policyTypes: _, ...rest } = spec;
    const out = run([policy("app", "both", rest)], { pods });
    const dirs = new Set(pgOf(out, "both.app").acls.filter((a) => a.name !== undefined).map((a) => a.direction));
    expect([...dirs].sort()).toEqual(["from-lport", "to-lport"]);
    expect(asOf(out, "both.app.ingress.allow.IPv4.all").addresses.size).toBe(0);
  });
});

describe("names", () => {
  const pods = [pod("kube-system", "x", "10.16.0.40")];

  it("a name starting with a digit gets the np prefix (but the drop ACL keeps the real name)", () => {
    const out = run([policy("kube-system", "1-allow", { podSelector: {}, ingress: [{}] })], { pods });
    const pg = pgOf(out, "np1.allow.kube.system");
    expect(pg.externalIds.toObject()).toEqual({ np: "kube-system/np1-allow" });
    expect(pg.acls.map((a) => a.name).toArray().slice(0, 2)).toEqual(["kube-system/1-allow", "np/np1-allow.kube-system/ingress/IPv4/0"]);
    expect(asOf(out, "np1.allow.kube.system.ingress.allow.IPv4.0").externalIds.toObject()).toEqual({ np: "kube-system/np1-allow/ingress" });
    allMatchesParse(out);
  });

  it("ACL names longer than 63 characters are cut to 60 plus '...'", () => {
    const name = "a-very-long-network-policy-name-that-goes-on-and-on";
    const out = run([policy("kube-system", name, { podSelector: {}, ingress: [{}] })], { pods });
    const full = `np/${name}.kube-system/ingress/IPv4/0`;
    expect(full.length).toBeGreaterThan(63);
    const names = pgOf(out, "a.very.long.network.policy.name.that.goes.on.and.on.kube.system").acls.map((a) => a.name).toArray();
    expect(names[1]).toBe(`${full.slice(0, 60)}...`);
    expect(names[1]).toHaveLength(63);
    // The drop ACL's `<ns>/<name>` is 63 characters or less here, so it is kept whole.
    expect(names[0]).toBe(`kube-system/${name}`);
  });

  it("a name of exactly 63 characters is kept", () => {
    // "np/" + name + ".kube-system/ingress/IPv4/0" = 3 + n + 27 = 63 → n = 33.
    const name = "b".repeat(33);
    const out = run([policy("kube-system", name, { podSelector: {}, ingress: [{}] })], { pods });
    const names = pgOf(out, `${name}.kube.system`).acls.map((a) => a.name).toArray();
    expect(names[1]).toBe(`np/${name}.kube-system/ingress/IPv4/0`);
    expect(names[1]).toHaveLength(63);
  });

  it("two policies whose port group names collide: the second is an error", () => {
    const out = run([policy("ns", "a-b", { podSelector: {} }), policy("ns", "a.b", { podSelector: {} })], { pods });
    expect(out.portGroups.filter((p) => p.name === "a.b.ns")).toHaveLength(1);
    expect(errors(out)).toEqual(["NetworkPolicy/ns/a.b: its port group name a.b.ns is already used by NetworkPolicy/ns/a-b; left out"]);
  });
});

describe("logging annotations", () => {
  const pods = [pod("ns", "p", "10.16.0.50")];
  const spec = { podSelector: {}, ingress: [{}], egress: [{}] };

  it("enable_log logs the drops with severity warning, not the allows", () => {
    const out = run([policy("ns", "log", spec, { "ovn.kubernetes.io/enable_log": "true" })], { pods });
    for (const a of pgOf(out, "log.ns").acls) {
      if (a.action === "drop") expect([a.log, a.severity]).toEqual([true, "warning"]);
      else expect([a.log, a.severity]).toEqual([false, undefined]);
    }
  });

  it("log_acl_actions with allow also logs the allow ACLs (without severity); gateway ACLs never", () => {
    const out = run([policy("ns", "log", spec, { "ovn.kubernetes.io/enable_log": "true", "ovn.kubernetes.io/log_acl_actions": "drop,allow" })], { pods });
    const acls = pgOf(out, "log.ns").acls;
    expect(acls.filter((a) => a.action === "allow-related").every((a) => a.log && a.severity === undefined)).toBe(true);
    expect(acls.filter((a) => a.action === "allow-stateless").every((a) => !a.log)).toBe(true);
  });

  it("log_acl_actions alone logs nothing", () => {
    const out = run([policy("ns", "log", spec, { "ovn.kubernetes.io/log_acl_actions": "allow" })], { pods });
    expect(pgOf(out, "log.ns").acls.some((a) => a.log)).toBe(false);
  });
});

describe("node allowance", () => {
  const pods = [
    pod("ns", "p1", "10.16.0.60"),
    pod("ns", "p2", "10.16.0.61", {}, { node: "kube-ovn-control-plane" }),
    pod("ns", "p3", "10.16.0.62", {}, { vpc: "vpc1" }),
    pod("ns", "p4", "10.16.0.63", {}, { node: undefined }),
  ];

  it("is present only when a policy exists", () => {
    const none = run([], { pods });
    expect(none.portGroups).toEqual([]);
    expect(none.addressSets).toEqual([]);
    const out = run([policy("ns", "p", { podSelector: { matchLabels: { x: "y" } } })], { pods });
    expect(out.portGroups.map((p) => p.name)).toEqual(["p.ns", "node.kube.ovn.worker", "node.kube.ovn.control.plane"]);
  });

  it("each node PG holds that node's default-VPC pods and the two 3000 ACLs", () => {
    const out = run([policy("ns", "p", { podSelector: {} })], { pods });
    const pg = pgOf(out, nodePortGroupName("kube-ovn-worker"));
    expect(pg.name).toBe("node.kube.ovn.worker");
    expect(pg.ports.toArray()).toEqual(["p1.ns"]);
    expect(pg.externalIds.toObject()).toEqual({ np: "node/kube-ovn-worker" });
    expect(pg.acls.map(row).toArray()).toEqual([
      acl("to-lport", 3000, fill(DOC.nodeIn, { nodeIP: "172.18.0.2", node: "kube.ovn.worker" }), "allow-related", "node.kube.ovn.worker"),
      acl("from-lport", 3000, fill(DOC.nodeOut, { nodeIP: "172.18.0.2", node: "kube.ovn.worker" }), "allow-related", "node.kube.ovn.worker", { applyAfterLb: true }),
    ]);
    expect(pgOf(out, "node.kube.ovn.control.plane").ports.toArray()).toEqual(["p2.ns"]);
    allMatchesParse(out);
  });

  it("a node without InternalIP gets no ACLs and a warning", () => {
    const out = run([policy("ns", "p", { podSelector: {} })], { pods, nodes: [{ name: "n0", internalIp: "" }] });
    expect(pgOf(out, "node.n0").acls.size).toBe(0);
    expect(out.diags.some((d) => d.severity === "warning" && d.message.startsWith("Node/n0: "))).toBe(true);
  });
});

describe("dual stack", () => {
  it("builds both families, one drop per direction, and the IPv6 gateway and ND ACLs", () => {
    const pods = [pod("ns", "d", "10.17.0.5", {}, { subnet: "dual", ips: ["10.17.0.5", "fd00:17::5"] }), pod("ns", "peer", "10.17.0.6", { role: "peer" }, { subnet: "dual", ips: ["10.17.0.6", "fd00:17::6"] })];
    const spec = { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: "peer" } } }] }] };
    const out = run([policy("ns", "ds", spec)], { pods, nodes: [{ name: "n1", internalIp: "172.18.0.9,fc00::9" }] });
    expect(errors(out)).toEqual([]);
    expect(asOf(out, "ds.ns.ingress.allow.IPv4.0").addresses.toArray()).toEqual(["10.17.0.6"]);
    expect(asOf(out, "ds.ns.ingress.allow.IPv6.0").addresses.toArray()).toEqual(["fd00:17::6"]);
    const acls = pgOf(out, "ds.ns").acls;
    expect(acls.filter((a) => a.action === "drop").size).toBe(1);
    expect(acls.find((a) => a.name === "np/ds.ns/ingress/IPv6/0")?.match).toBe("outport == @ds.ns && ip && ip6.src == $ds.ns.ingress.allow.IPv6.0 && ip6.src != $ds.ns.ingress.except.IPv6.0");
    expect(acls.filter((a) => a.action === "allow-stateless").map((a) => a.match).toArray()).toEqual([
      "ip4.src == 10.17.0.1",
      "ip4.dst == 10.17.0.1",
      "ip6.src == fd00:17::1",
      "ip6.dst == fd00:17::1",
      "nd || nd_ra || nd_rs",
    ]);
    expect(pgOf(out, "node.n1").acls.map((a) => a.match).toArray()).toEqual([
      "ip4.src == 172.18.0.9 && ip4.dst == $node.n1_ip4",
      "ip4.dst == 172.18.0.9 && ip4.src == $node.n1_ip4",
      "ip6.src == fc00::9 && ip6.dst == $node.n1_ip6",
      "ip6.dst == fc00::9 && ip6.src == $node.n1_ip6",
    ]);
    allMatchesParse(out);
  });

  it("the U2O address also gets gateway ACLs", () => {
    const out = run([policy("ns", "u", { podSelector: {} })], { pods: [pod("ns", "a", "10.18.0.5", {}, { subnet: "u2o" })], subnets: [{ name: "u2o", cidr: "10.18.0.0/16", gateway: "10.18.0.254", u2oIp: "10.18.0.2" }] });
    expect(pgOf(out, "u.ns").acls.filter((a) => a.action === "allow-stateless").map((a) => a.match).toArray()).toEqual(["ip4.src == 10.18.0.254", "ip4.dst == 10.18.0.254", "ip4.src == 10.18.0.2", "ip4.dst == 10.18.0.2"]);
  });
});

describe("bad input", () => {
  it("never throws on malformed specs, and every error names the policy", () => {
    const specs: unknown[] = [
      null,
      [],
      { ingress: "x" },
      { ingress: [1] },
      { ingress: [{ from: {} }] },
      { ingress: [{ from: [null] }] },
      { egress: [{ to: [{ ipBlock: {} }] }] },
      { egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: "10.1.0.0/16" } }] }] },
      { policyTypes: "Ingress" },
      { policyTypes: ["Both"] },
      { podSelector: { matchExpressions: [{ key: 1 }] } },
      { ingress: [{ ports: [null] }] },
    ];
    for (const spec of specs) {
      const obj = { ...policy("ns", "junk", {}), spec: spec as Record<string, unknown> };
      const out = run([obj], { pods: [pod("ns", "p", "10.16.0.1")] });
      const errs = errors(out);
      expect(errs.length, JSON.stringify(spec)).toBeGreaterThan(0);
      for (const e of errs) expect(e.startsWith("NetworkPolicy/ns/junk: ")).toBe(true);
      expect(out.portGroups.some((p) => p.name === "junk.ns")).toBe(false);
    }
  });

  it("a selected pod on an unknown subnet is reported; its families come from its addresses", () => {
    const out = run([policy("ns", "lost", { podSelector: {} })], { pods: [pod("ns", "p", "10.99.0.5", {}, { subnet: "ghost" })] });
    expect(errors(out)).toEqual(['NetworkPolicy/ns/lost: pod ns/p is on subnet "ghost", which is not known; its address families are taken from its addresses']);
    const pg = pgOf(out, "lost.ns");
    expect(pg.acls.map((a) => a.action).toArray()).toEqual(["drop", "allow-related"]);
  });

  it("objects of another kind are ignored with a warning", () => {
    const obj = { ...policy("ns", "x", {}), kind: "Service" };
    const out = run([obj]);
    expect(out.portGroups).toEqual([]);
    expect(out.diags.map((d) => d.severity)).toEqual(["warning"]);
  });
});
