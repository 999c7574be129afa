/**
 * The router NAT and router load-balancer flows against what real ovn-northd 23.03 writes.
 *
 * Each test network (test/compile/router-nat-networks.ts) is recorded twice from real northd:
 * `full` (with the router's NAT rows and load balancers) and `base` (without them). The flows that
 * exist because of NAT and load balancers are full − base, per datapath (the router and the
 * switches attached to it); they must equal, as sets of exact text, what `routerNatFlows` and
 * `switchNatFlows` produce for the full model, and both must give nothing for the base model.
 * Flows that are in base but not in full (flows whose text NAT changes) belong to the router and
 * switch pipelines themselves; their list is pinned here so a change in it is noticed.
 *
 * The recordings are fixtures/compile/northd/nat-*.txt. Where OVN is installed, the networks are
 * also rebuilt in a sandbox and the recordings must still be what northd writes; `OVNSIM_RECORD=1`
 * rewrites them instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { natExternalMacs, routerDatapathKey, routerLbAddressSets, routerLbIps, routerNatFlows, routerSnatIps, switchNatFlows } from "../../src/compile/router-nat.js";
import type { LogicalFlow } from "../../src/compile/switch.js";
import { LoadBalancer, Nat } from "../../src/model/index.js";
import { OvnSandbox, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { NAT_TEST_NETS, type NatTestNet } from "./router-nat-networks.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/compile/northd");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable();

interface Recording {
  /** One line per (datapath, flow): datapath TAB pipeline TAB stage TAB priority TAB match TAB actions. */
  readonly full: string[];
  readonly base: string[];
  /** Metadata of the full build: `%datapath NAME KEY` for the router, `%as NAME ADDRESSES...` for its VIP address sets. */
  readonly meta: string[];
}

interface Build {
  readonly flows: string[];
  readonly meta: string[];
}

const line = (dp: string, f: { pipeline: string; stage: string; priority: number; match: string; actions: string }): string =>
  [dp, f.pipeline, f.stage, String(f.priority), f.match, f.actions].join("\t");

function fixturePath(name: string): string {
  return resolve(FIXTURES, `${name}.txt`);
}

function readRecording(name: string): Recording {
  const rec: Recording = { full: [], base: [], meta: [] };
  let into: string[] | undefined;
  for (const l of readFileSync(fixturePath(name), "utf8").split("\n")) {
    if (l === "" || l.startsWith("#")) continue;
    if (l.startsWith("%")) {
      rec.meta.push(l);
      continue;
    }
    if (l === "[full]") into = rec.full;
    else if (l === "[base]") into = rec.base;
    else into?.push(l);
  }
  return rec;
}

function writeRecording(n: NatTestNet, rec: Recording, version: string): void {
  const out = [
    `# Logical flows of router ${n.router} and switches ${n.switches.join(", ")} that ovn-northd writes for "${n.name}": ${n.what}.`,
    `# Recorded from ${version} by test/compile/router-nat.test.ts (OVNSIM_RECORD=1 rewrites this file).`,
    "# [full]: the network as built; [base]: the same without the router's NAT rows and load balancers.",
    "# %datapath ROUTER KEY; %as NAME ADDRESSES... (the router's VIP address sets in the Southbound database);",
    "# then one flow per line, sorted: datapath TAB pipeline TAB stage TAB priority TAB match TAB actions.",
    ...rec.meta,
    "[full]",
    ...rec.full,
    "[base]",
    ...rec.base,
  ];
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(fixturePath(n.name), out.join("\n") + "\n");
}

/** Builds one variant in a fresh sandbox and reads back the flows of its router and switches. */
function recordLive(n: NatTestNet): Build {
  const s = OvnSandbox.start();
  if (!s.ok) throw new Error(JSON.stringify(s.diags));
  const sb = s.value;
  try {
    for (const [c, ip] of n.chassis) {
      const r = sb.addChassis(c, ip);
      if (!r.ok) throw new Error(JSON.stringify(r.diags));
    }
    const args: string[] = [];
    for (const c of n.nbctl) args.push(...(args.length > 0 ? ["--"] : []), ...c);
    const r = sb.nbctl(...args);
    if (!r.ok) throw new Error(JSON.stringify(r.diags));
    const w = sb.sync();
    if (!w.ok) throw new Error(JSON.stringify(w.diags));
    const lf = sb.lflows();
    if (!lf.ok) throw new Error(JSON.stringify(lf.diags));
    const wanted = new Set([n.router, ...n.switches]);
    const out: string[] = [];
    for (const f of lf.value) for (const dp of f.datapaths) if (wanted.has(dp)) out.push(line(dp, f));
    const dps = sb.sbList("Datapath_Binding", ["external_ids", "tunnel_key"]);
    const sets = sb.sbList("Address_Set", ["name", "addresses"]);
    if (!dps.ok || !sets.ok) throw new Error("could not read the Southbound database");
    const meta: string[] = [];
    for (const d of dps.value) {
      const ids = d.external_ids as [string, [string, string][]];
      if (ids[1].some(([k, v]) => k === "name" && v === n.router)) meta.push(`%datapath ${n.router} ${String(d.tunnel_key)}`);
    }
    for (const a of sets.value) {
      const name = String(a.name);
      const addrs = Array.isArray(a.addresses) && a.addresses[0] === "set" ? (a.addresses[1] as string[]) : [String(a.addresses)];
      if (name.startsWith("_rtr_lb_")) meta.push(`%as ${name} ${[...addrs].sort().join(" ")}`.trim());
    }
    return { flows: [...new Set(out)].sort(), meta: meta.sort() };
  } finally {
    sb.stop();
  }
}

function minus(a: readonly string[], b: readonly string[]): string[] {
  const s = new Set(b);
  return a.filter((x) => !s.has(x));
}

/** Our NAT/LB flows for a network variant, one line per flow, with the datapath they are on. */
function ours(n: NatTestNet): string[] {
  const lines = routerNatFlows(n.network, n.router).map((f: LogicalFlow) => line(n.router, f));
  for (const ls of n.switches) lines.push(...switchNatFlows(n.network, ls).map((f) => line(ls, f)));
  return lines.sort();
}

/**
 * Flows of the router and switch pipelines whose text NAT changes, built here from the exported
 * facts: a switch with VIFs floods self-originated ARP/RARP/NS from the router port's MAC and, with
 * NAT, also from the external MACs of the router's NAT rows (`natExternalMacs`); the router drops
 * IPv4 traffic to its own addresses except those that are SNAT addresses or VIPs
 * (`routerSnatIps`, `routerLbIps`). Returns the text without NAT (which the
 * full network no longer has) and with it (which the switch pipeline, not `switchNatFlows`, writes).
 */
/** Sorts the MACs of a self-originated ARP flood flow: northd lists them in hash order. */
function sortMacSet(l: string): string {
  if (!l.includes("\tls_in_l2_lkup\t75\t")) return l;
  return l.replace(/eth\.src == \{([^}]*)\}/, (_, set: string) => `eth.src == {${set.split(", ").sort().join(", ")}}`);
}

function changedFlows(n: NatTestNet): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  const macs = natExternalMacs(n.network, n.router);
  const lr = n.network.routers.get(n.router);
  // lr_in_ip_input drops traffic to the router's own IPv4 addresses, except SNAT addresses and VIPs.
  const lb = routerLbIps(n.network, n.router);
  const natSide = new Set([...routerSnatIps(n.network, n.router), ...lb.v4]);
  for (const p of lr?.ports.values() ?? []) {
    const own = p.networks.map((c) => c.split("/")[0] ?? "").filter((ip) => ip.includes(".")).toArray();
    const kept = own.filter((ip) => !natSide.has(ip));
    if (kept.length === own.length || own.length === 0) continue;
    const flow = (ips: string[]): string => [n.router, "ingress", "lr_in_ip_input", "60", `ip4.dst == {${ips.join(", ")}}`, "drop;"].join("\t");
    removed.push(flow(own));
    if (kept.length > 0) added.push(flow(kept));
  }
  if (macs.length === 0) return { removed: removed.sort(), added: added.sort() };
  for (const lsName of n.switches) {
    const ls = n.network.switches.get(lsName);
    if (!ls || !lr) continue;
    const vifs = ls.ports.filter((p) => p.type !== "router").size;
    for (const sp of ls.ports.values()) {
      const rp = lr.ports.get(sp.options.get("router-port") ?? "");
      if (sp.type !== "router" || !rp || vifs === 0) continue;
      const flow = (set: string[]): string =>
        [lsName, "ingress", "ls_in_l2_lkup", "75", `eth.src == {${set.join(", ")}} && (arp.op == 1 || rarp.op == 3 || nd_ns)`, 'outport = "_MC_flood_l2"; output;'].join("\t");
      removed.push(flow([rp.mac]));
      added.push(sortMacSet(flow([rp.mac, ...macs])));
    }
  }
  return { removed: removed.sort(), added: added.sort() };
}

describe("router NAT and load-balancer flows equal real ovn-northd 23.03 (full − base)", () => {
  for (const { full, base } of NAT_TEST_NETS) {
    it.skipIf(!RECORD && !existsSync(fixturePath(full.name)))(`${full.name}: ${full.what}`, () => {
      if (RECORD) {
        const f = recordLive(full);
        writeRecording(full, { full: f.flows, base: recordLive(base).flows, meta: f.meta }, ovnVersion("ovn-northd") ?? "ovn-northd");
      }
      const rec = readRecording(full.name);
      const mine = ours(full);
      expect(new Set(mine).size, "no duplicate flows").toBe(mine.length);
      const added = minus(minus(rec.full, rec.base).map(sortMacSet), changedFlows(full).added);
      expect({ missing: minus(added, mine), extra: minus(mine, added) }).toEqual({ missing: [], extra: [] });
    });
    it.skipIf(!existsSync(fixturePath(full.name)))(`${full.name}: flows whose text NAT changes`, () => {
      const rec = readRecording(full.name);
      const changed = changedFlows(full);
      expect(minus(rec.base, rec.full).sort()).toEqual(changed.removed);
      expect(minus(changed.added, rec.full.map(sortMacSet))).toEqual([]);
    });
    it.skipIf(!existsSync(fixturePath(full.name)))(`${full.name}: router datapath key and VIP address sets`, () => {
      const rec = readRecording(full.name);
      const ours = [`%datapath ${full.router} ${routerDatapathKey(full.network, full.router)}`];
      for (const a of routerLbAddressSets(full.network, full.router)) ours.push(`%as ${a.name} ${[...a.addresses].sort().join(" ")}`);
      expect(ours.sort()).toEqual(rec.meta);
    });
    it(`${full.name}: nothing without NAT and load balancers`, () => {
      expect(ours(base)).toEqual([]);
    });
  }
});

describe.skipIf(!LIVE || RECORD)("recordings are still what northd writes (live)", () => {
  if (!LIVE) console.warn("OVN is not installed: the live check of fixtures/compile/northd/nat-*.txt is skipped");
  for (const { full, base } of NAT_TEST_NETS) {
    it(full.name, { timeout: 60_000 }, () => {
      const rec = readRecording(full.name);
      const f = recordLive(full);
      expect({ full: f.flows, base: recordLive(base).flows, meta: f.meta }).toEqual({ full: rec.full, base: rec.base, meta: rec.meta });
    });
  }
});

describe("malformed NAT rows and load balancers give no flows and never throw", () => {
  const { full } = NAT_TEST_NETS[0] ?? { full: undefined };
  it("bad addresses, both allowed and exempted external IPs, unknown names", () => {
    if (!full) throw new Error("no test network");
    const lr = full.network.routers.get(full.router);
    if (!lr) throw new Error("no router");
    const bad = lr.set(
      "nat",
      List([
        Nat({ type: "dnat", externalIp: "not-an-ip", logicalIp: "10.0.0.11" }),
        Nat({ type: "dnat", externalIp: "172.16.0.50", logicalIp: "10.0.0.0/24" }),
        Nat({ type: "snat", externalIp: "172.16.0.51/24", logicalIp: "10.0.0.0/24" }),
        Nat({ type: "snat", externalIp: "172.16.0.52", logicalIp: "10.0.0.0/24", allowedExtIps: "a", exemptedExtIps: "b" }),
      ]),
    );
    const net = full.network.setIn(["routers", full.router], bad.set("loadBalancers", List(["missing", "lbBad"]))).setIn(
      ["loadBalancers", "lbBad"],
      LoadBalancer({ name: "lbBad", vips: OrderedMap([["garbage", List(["also garbage"])]]) }),
    );
    const flows = routerNatFlows(net, full.router);
    // Rows 0 and 2 have no usable external IP; row 1 (dnat to a prefix) and row 3 (both address
    // sets) are not applied but still answer ARP for their external IP, as northd does.
    const text = flows.map((f) => `${f.stage} ${f.priority} ${f.match}`);
    expect(text.filter((t) => t.includes("not-an-ip") || t.includes("172.16.0.51"))).toEqual([]);
    expect(text.filter((t) => t.startsWith("lr_in_ip_input 90")).sort()).toEqual(["lr_in_ip_input 90 arp.op == 1 && arp.tpa == 172.16.0.50", "lr_in_ip_input 90 arp.op == 1 && arp.tpa == 172.16.0.52"]);
    expect(flows.filter((f) => f.origin.includes(".nat[") && f.stage !== "lr_in_ip_input")).toEqual([]);
    // A VIP that does not parse still counts as "the router has a VIP" (northd looks at the raw
    // column), which brings only the established/related flows of lr_in_dnat.
    expect(new Set(flows.filter((f) => f.origin === "loadBalancers[lbBad]").map((f) => f.stage))).toEqual(new Set());
    expect(flows.filter((f) => f.stage === "lr_in_dnat").map((f) => f.priority).sort()).toEqual([50, 50, 70, 70, 70, 70]);
    expect(routerNatFlows(net, "no-such-router")).toEqual([]);
    expect(switchNatFlows(net, "no-such-switch")).toEqual([]);
    for (const ls of full.switches) expect(() => switchNatFlows(net, ls)).not.toThrow();
  });
});
