/**
 * Topologies from OVN's own test suite (test/ovn-suite/topologies.ts), as the Northbound and
 * Southbound database files real OVN made from their command lists (fixtures/ovn-suite/):
 *
 * - each loads with `loadNetworkFile`, alone and with its Southbound, with no error and no warning
 *   but the one expected (a chassis the Northbound names, without the Southbound);
 * - the model holds what the commands created. The expectation is read from the `ovn-nbctl` /
 *   `ovn-sbctl` argument lists by a small interpreter here (`expectedContent`), not from the
 *   databases or the loader: switches and their ports (type, addresses, options, tunnel keys
 *   requested, bindings), routers and their ports (MAC, networks, gateway chassis), NAT rules,
 *   static routes, policies, load balancers and where they are attached, port groups and their
 *   ACLs, chassis (encapsulation, bridge mappings) and learned MAC bindings;
 * - where OVN is installed, the fixture is what the commands make now (`checkSuiteDbs`, a logical
 *   comparison: rows, not bytes); skipped with a printed reason otherwise (or OVNSIM_NO_OVN=1);
 * - one or more packets per topology traced by `ovnsim trace --json` reach the ports, with the
 *   header values, that the ovn.at test states; where the test asserts an `ovn-trace --minimal`
 *   output, ovnsim's `--minimal` output is that text; a value ovnsim gives otherwise on purpose is
 *   listed with its reason in the topology (`deviations`) and checked to be exactly that.
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import type { Network } from "../../src/model/index.js";
import { ovnAvailable } from "../../src/ovn/index.js";
import { loadNetworkFile, type Scenario } from "../../src/scenario/index.js";
import { checkSuiteDbs, suitePaths } from "../../scripts/ovn-suite-dbs.js";
import { TOPOLOGIES, type ExpectedOutput, type FieldValue, type SuiteTopology } from "./topologies.js";

const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";
if (!LIVE) console.warn("ovn-suite: real OVN is not installed (or OVNSIM_NO_OVN=1); the fixtures are not rebuilt and re-checked");

// ---------------------------------------------------------------------------------------------
// What the commands create, read from the argument lists alone.

interface PortContent {
  switch: string;
  type: string;
  addresses: string[];
  options: Record<string, string>;
  tunnelKey?: number;
  chassis?: string;
}

interface RouterPortContent {
  router: string;
  mac: string;
  networks: string[];
  gatewayChassis: string[];
  tunnelKey?: number;
}

interface Content {
  switches: Record<string, { loadBalancers: string[]; tunnelKey?: number }>;
  ports: Record<string, PortContent>;
  routers: Record<string, { nat: string[]; routes: string[]; policies: string[]; loadBalancers: string[]; tunnelKey?: number }>;
  routerPorts: Record<string, RouterPortContent>;
  loadBalancers: Record<string, { protocol: string; vips: Record<string, string[]> }>;
  portGroups: Record<string, { ports: string[]; acls: string[] }>;
  switchAcls: Record<string, string[]>;
  chassis: Record<string, { encaps: string[]; bridgeMappings: Record<string, string> }>;
  macBindings: string[];
}

/** An address as OVSDB tools write it: IPv6 in its canonical compressed form, in brackets with a port. */
function canonicalEndpoint(text: string): string {
  const m = /^\[(.*)\](?::(\d+))?$/.exec(text);
  if (!m) return text;
  const host = new URL(`http://[${m[1]}]/`).hostname;
  return m[2] === undefined ? host : `${host}:${m[2]}`;
}

/** The commands of one invocation: split at each lone `--`, leading `--option`s set aside. */
function commandsOf(argv: readonly string[]): { opts: string[]; args: string[] }[] {
  const out: { opts: string[]; args: string[] }[] = [];
  let cur: string[] = [];
  const flush = (): void => {
    const opts: string[] = [];
    while (cur.length > 0 && cur[0]!.startsWith("--")) opts.push(cur.shift()!);
    if (cur.length > 0) out.push({ opts, args: cur });
    cur = [];
  };
  for (const a of argv) {
    if (a === "--") flush();
    else cur.push(a);
  }
  flush();
  return out;
}

/** `key=value` and `key:sub=value` column settings of `set` / `create`; a quoted value is unquoted. */
function settings(args: readonly string[]): { key: string; sub?: string; value: string }[] {
  return args.map((a) => {
    const eq = a.indexOf("=");
    const lhs = a.slice(0, eq);
    let value = a.slice(eq + 1);
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const colon = lhs.indexOf(":");
    return colon < 0 ? { key: lhs, value } : { key: lhs.slice(0, colon), sub: lhs.slice(colon + 1), value };
  });
}

function expectedContent(topo: SuiteTopology, withSb: boolean): Content {
  const c: Content = { switches: {}, ports: {}, routers: {}, routerPorts: {}, loadBalancers: {}, portGroups: {}, switchAcls: {}, chassis: {}, macBindings: [] };
  const keyOf = (v: string): number => Number(v);
  const lsp = (name: string): PortContent => c.ports[name] ?? expect.fail(`no port ${name}`);
  for (const argv of topo.nbctl) {
    for (const { opts, args } of commandsOf(argv)) {
      const [cmd, ...a] = args;
      switch (cmd) {
        case "ls-add":
          c.switches[a[0]!] = { loadBalancers: [] };
          c.switchAcls[a[0]!] = [];
          break;
        case "lsp-add":
          c.ports[a[1]!] = { switch: a[0]!, type: "", addresses: [], options: {} };
          break;
        case "lsp-set-addresses":
          lsp(a[0]!).addresses = a.slice(1);
          break;
        case "lsp-set-type":
          lsp(a[0]!).type = a[1]!;
          break;
        case "lsp-set-options":
          lsp(a[0]!).options = Object.fromEntries(a.slice(1).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
          break;
        case "lr-add":
          c.routers[a[0]!] = { nat: [], routes: [], policies: [], loadBalancers: [] };
          break;
        case "lrp-add":
          c.routerPorts[a[1]!] = { router: a[0]!, mac: a[2]!, networks: a.slice(3), gatewayChassis: [] };
          break;
        case "lrp-set-gateway-chassis":
          c.routerPorts[a[0]!]!.gatewayChassis.push(`${a[1]} ${a[2] ?? "0"}`);
          break;
        case "lr-nat-add":
          c.routers[a[0]!]!.nat.push([a[1], a[2], a[3], a[4] ?? "-", a[5] ?? "-"].join(" "));
          break;
        case "lr-route-add":
          c.routers[a[0]!]!.routes.push(`${a[1]} via ${a[2]}`);
          break;
        case "lr-policy-add":
          c.routers[a[0]!]!.policies.push(`${a[1]} ${a[3]} ${a[2]}${a[4] ? ` ${a[4]}` : ""}`);
          break;
        case "lb-add":
          c.loadBalancers[a[0]!] = { protocol: a[3] ?? "tcp", vips: { [canonicalEndpoint(a[1]!)]: a[2]!.split(",").map(canonicalEndpoint) } };
          break;
        case "ls-lb-add":
          c.switches[a[0]!]!.loadBalancers.push(a[1]!);
          break;
        case "lr-lb-add":
          c.routers[a[0]!]!.loadBalancers.push(a[1]!);
          break;
        case "pg-add":
          c.portGroups[a[0]!] = { ports: a.slice(1), acls: [] };
          break;
        case "acl-add": {
          const acl = `${a[1]} ${a[2]} ${a[3]} ${a[4]}`;
          if (opts.includes("--type=port-group") || c.portGroups[a[0]!]) c.portGroups[a[0]!]!.acls.push(acl);
          else c.switchAcls[a[0]!]!.push(acl);
          break;
        }
        case "set": {
          const [table, rec, ...rest] = a;
          for (const s of settings(rest)) {
            if (table === "Logical_Switch_Port") {
              const p = lsp(rec!);
              if (s.key === "type") p.type = s.value;
              else if (s.key === "addresses") p.addresses = [s.value];
              else if (s.key === "options" && s.sub === "requested-tnl-key") p.tunnelKey = keyOf(s.value);
              else if (s.key === "options" && s.sub !== undefined) p.options[s.sub] = s.value;
              else expect.fail(`unhandled ${argv.join(" ")}`);
            } else if (table === "Logical_Switch" && s.sub === "requested-tnl-key") c.switches[rec!]!.tunnelKey = keyOf(s.value);
            else if (table === "Logical_Router" && s.sub === "requested-tnl-key") c.routers[rec!]!.tunnelKey = keyOf(s.value);
            else if (table === "Logical_Router_Port" && s.sub === "requested-tnl-key") c.routerPorts[rec!]!.tunnelKey = keyOf(s.value);
            else expect.fail(`unhandled ${argv.join(" ")}`);
          }
          break;
        }
        default:
          expect.fail(`the expectation does not know ovn-nbctl ${cmd}`);
      }
    }
  }
  if (!withSb) return c;
  for (const argv of topo.sbctl) {
    for (const { args } of commandsOf(argv)) {
      const [cmd, ...a] = args;
      switch (cmd) {
        case "chassis-add":
          c.chassis[a[0]!] = { encaps: [`${a[1]} ${a[2]}`], bridgeMappings: {} };
          break;
        case "set":
          for (const s of settings(a.slice(2))) {
            if (s.sub !== "ovn-bridge-mappings") continue;
            for (const m of s.value.split(",")) c.chassis[a[1]!]!.bridgeMappings[m.split(":")[0]!] = m.split(":")[1]!;
          }
          break;
        case "lsp-bind":
          lsp(a[0]!).chassis = a[1]!;
          break;
        case "get":
          break;
        case "create": {
          const s = Object.fromEntries(settings(a.slice(1)).map((x) => [x.key, x.value]));
          c.macBindings.push(`${s.logical_port} ${s.ip} ${s.mac}`);
          break;
        }
        default:
          expect.fail(`the expectation does not know ovn-sbctl ${cmd}`);
      }
    }
  }
  return c;
}

/** The same content read from a loaded network. */
function modelContent(net: Network, withSb: boolean, requested: Content): Content {
  const c: Content = { switches: {}, ports: {}, routers: {}, routerPorts: {}, loadBalancers: {}, portGroups: {}, switchAcls: {}, chassis: {}, macBindings: [] };
  // Tunnel keys are compared where the commands requested them (ovn-northd picks the others).
  const key = (asked: number | undefined, got: number | undefined) => (asked === undefined ? {} : { tunnelKey: got });
  for (const ls of net.switches.values()) {
    c.switches[ls.name] = { loadBalancers: [...ls.loadBalancers], ...key(requested.switches[ls.name]?.tunnelKey, ls.tunnelKey) };
    c.switchAcls[ls.name] = ls.acls.map((a) => `${a.direction} ${a.priority} ${a.match} ${a.action}`).toArray();
    for (const p of ls.ports.values()) {
      c.ports[p.name] = {
        switch: ls.name,
        type: p.type,
        addresses: [...p.addresses],
        options: Object.fromEntries(p.options),
        ...key(requested.ports[p.name]?.tunnelKey, p.tunnelKey),
        ...(withSb && p.chassis !== undefined ? { chassis: p.chassis } : {}),
      };
    }
  }
  for (const lr of net.routers.values()) {
    c.routers[lr.name] = {
      nat: lr.nat.map((n) => [n.type, n.externalIp, n.logicalIp, n.logicalPort ?? "-", n.externalMac ?? "-"].join(" ")).toArray(),
      routes: lr.staticRoutes.map((r) => `${r.ipPrefix} via ${r.nexthop}`).toArray(),
      policies: lr.policies.map((p) => `${p.priority} ${p.action} ${p.match}${p.nexthops.size > 0 ? ` ${p.nexthops.join(",")}` : ""}`).toArray(),
      loadBalancers: [...lr.loadBalancers],
      ...key(requested.routers[lr.name]?.tunnelKey, lr.tunnelKey),
    };
    for (const p of lr.ports.values()) {
      c.routerPorts[p.name] = { router: lr.name, mac: p.mac, networks: [...p.networks], gatewayChassis: p.gatewayChassis.map((g) => `${g.chassis} ${g.priority}`).toArray(), ...key(requested.routerPorts[p.name]?.tunnelKey, p.tunnelKey) };
    }
  }
  for (const lb of net.loadBalancers.values()) c.loadBalancers[lb.name] = { protocol: lb.protocol, vips: Object.fromEntries([...lb.vips].map(([v, b]) => [v, [...b]])) };
  for (const pg of net.portGroups.values()) c.portGroups[pg.name] = { ports: [...pg.ports], acls: pg.acls.map((a) => `${a.direction} ${a.priority} ${a.match} ${a.action}`).toArray() };
  if (withSb) {
    for (const ch of net.chassis.values()) c.chassis[ch.name] = { encaps: ch.encaps.map((e) => `${e.type} ${e.ip}`).toArray(), bridgeMappings: Object.fromEntries(ch.bridgeMappings) };
    c.macBindings = net.macBindings.map((b) => `${b.logicalPort} ${b.ip} ${b.mac}`).toArray();
  }
  return c;
}

/** Order-insensitive form: every array sorted (sets in OVSDB have no order). */
function sorted<T>(v: T): T {
  if (Array.isArray(v)) return [...v].map(sorted).sort() as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sorted(x)])) as T;
  return v;
}

// ---------------------------------------------------------------------------------------------

function mustLoad(path: string, sb?: string): Scenario {
  const r = loadNetworkFile(path, sb === undefined ? {} : { sb });
  if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
  return r.value;
}

/** Chassis the Northbound names (gateway chassis), which only the Southbound describes. */
function namesChassis(topo: SuiteTopology): boolean {
  return topo.nbctl.some((argv) => argv.includes("lrp-set-gateway-chassis"));
}

interface JsonTrace {
  verdict: string;
  outputs: { port: string; packet: Record<string, FieldValue> }[];
  drops: { reason: string; object: string | null }[];
}

async function ovnsim(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Whether the delivered outputs are exactly the expected ports, each with the expected fields. */
function deliveryMismatch(got: JsonTrace, want: readonly ExpectedOutput[]): string | undefined {
  const ports = got.outputs.map((o) => o.port).sort();
  const wanted = want.map((o) => o.port).sort();
  if (JSON.stringify(ports) !== JSON.stringify(wanted)) return `outputs ${JSON.stringify(ports)}, expected ${JSON.stringify(wanted)}`;
  for (const w of want) {
    const o = got.outputs.find((x) => x.port === w.port)!;
    for (const [f, v] of Object.entries(w.fields ?? {})) if (o.packet[f] !== v) return `${w.port}: ${f} is ${String(o.packet[f])}, expected ${String(v)}`;
  }
  return undefined;
}

describe.each(TOPOLOGIES.map((t) => [t.name, t] as const))("%s (ovn.at)", (_name, topo) => {
  const paths = suitePaths(topo.name);

  it("loads alone and with its Southbound, without errors or unexpected warnings", () => {
    const alone = mustLoad(paths.nb);
    const expectedAlone = namesChassis(topo) ? ["ovsdb.placeholder-chassis"] : [];
    expect((alone.warnings ?? []).map((w) => w.code)).toEqual(expectedAlone);
    const both = mustLoad(paths.nb, paths.sb);
    expect((both.warnings ?? []).map((w) => `${w.code}: ${w.message}`)).toEqual([]);
  });

  it("holds what the commands created", () => {
    const nbOnly = expectedContent(topo, false);
    expect(sorted(modelContent(mustLoad(paths.nb).network, false, nbOnly))).toEqual(sorted(nbOnly));
    const withSb = expectedContent(topo, true);
    expect(sorted(modelContent(mustLoad(paths.nb, paths.sb).network, true, withSb))).toEqual(sorted(withSb));
  });

  it.skipIf(!LIVE)("is what real OVN makes from the commands now", { timeout: 60_000 }, () => {
    const r = checkSuiteDbs(topo);
    if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
    expect(r.value, "rebuild with `npx tsx scripts/ovn-suite-dbs.ts`").toEqual([]);
  });

  it.each(topo.probes.map((p) => [p.name, p] as const))("trace %s: the delivery ovn.at states", async (_p, probe) => {
    const r = await ovnsim(["trace", paths.nb, "--sb", paths.sb, "--json", "--no-path", probe.microflow, ...(probe.flags ?? [])]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out) as JsonTrace;
    const options = probe.anyOf ?? [probe.expect];
    const why = options.map((want) => deliveryMismatch(got, want));
    expect(
      why.some((w) => w === undefined),
      `${probe.what}\n${why.join("\n")}\ndrops: ${JSON.stringify(got.drops)}`,
    ).toBe(true);
    if (probe.expect.length === 0 && !probe.anyOf) expect(got.verdict).toBe("drop");
    for (const d of probe.deviations ?? []) {
      expect(d.ovnsim, d.field).not.toEqual(d.ovnAt);
      expect(got.outputs.find((o) => o.port === d.port)?.packet[d.field], `${d.port} ${d.field} (documented deviation: ${d.why})`).toEqual(d.ovnsim);
    }
    if (probe.minimal !== undefined) {
      const m = await ovnsim(["trace", paths.nb, "--sb", paths.sb, "--minimal", "--no-path", probe.microflow, ...(probe.flags ?? [])]);
      expect(m.code).toBe(0);
      expect(m.out.split("\n").filter((l) => l !== "" && !l.startsWith("# ")).join("\n")).toBe(probe.minimal);
    }
  });
});

describe("ECMP: the two members of the route reach the two next hops", () => {
  const ecmp = TOPOLOGIES.find((t) => t.name === "ecmp-static-routes")!;
  it("select ids 1 and 2 deliver to lsp21 and lsp22, one each", async () => {
    const paths = suitePaths(ecmp.name);
    const ports: string[] = [];
    for (const p of ecmp.probes) {
      const r = await ovnsim(["trace", paths.nb, "--sb", paths.sb, "--json", "--no-path", p.microflow, ...(p.flags ?? [])]);
      ports.push(...(JSON.parse(r.out) as JsonTrace).outputs.map((o) => o.port));
    }
    expect(ports.sort()).toEqual(["lsp21", "lsp22"]);
  });
});

describe("the fixtures", () => {
  it("every topology names its ovn.at test and has a probe", () => {
    expect(TOPOLOGIES.length).toBeGreaterThanOrEqual(4);
    expect(new Set(TOPOLOGIES.map((t) => t.name)).size).toBe(TOPOLOGIES.length);
    for (const t of TOPOLOGIES) {
      expect(t.title).not.toBe("");
      expect(t.probes.length).toBeGreaterThan(0);
    }
  });

  it("the expectation reader notices a command list that differs from the database", () => {
    const topo = TOPOLOGIES.find((t) => t.name === "policy-routing")!;
    const changed: SuiteTopology = { ...topo, nbctl: topo.nbctl.map((argv) => (argv[0] === "lr-policy-add" && argv[2] === "30" ? [...argv.slice(0, 5), "20.20.1.3"] : argv)) };
    const got = sorted(modelContent(mustLoad(suitePaths(topo.name).nb).network, false, expectedContent(changed, false)));
    expect(got).not.toEqual(sorted(expectedContent(changed, false)));
  });

  it.skipIf(!LIVE)("the live re-check notices a command list that differs from the fixture", { timeout: 60_000 }, () => {
    const topo = TOPOLOGIES.find((t) => t.name === "policy-routing")!;
    const changed: SuiteTopology = { ...topo, nbctl: topo.nbctl.map((argv) => (argv[0] === "lr-policy-add" && argv[2] === "30" ? [...argv.slice(0, 5), "20.20.1.3"] : argv)) };
    const r = checkSuiteDbs(changed);
    if (!r.ok) expect.fail(r.diags.map(formatDiagnostic).join("\n"));
    // The policy row, the router row holding it and the logical flow that reroutes differ, on both sides.
    expect(r.value.some((d) => d.startsWith("Logical_Router_Policy: only in rebuilt") && d.includes("20.20.1.3"))).toBe(true);
    expect(r.value.some((d) => d.startsWith("Logical_Flow: only in rebuilt") && d.includes("reg0 = 20.20.1.3"))).toBe(true);
  });
});
