/**
 * The `ovn-nbctl` / `ovn-sbctl` exporter: shell quoting, and a live check against real OVN 23.03
 * (every object of each shipped scenario, with its columns, read back from the databases).
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Acl, Network } from "../../src/model/index.js";
import { CHASSIS_FEATURES, OvnSandbox, ovnAvailable } from "../../src/ovn/index.js";
import { exportNbctl, exportSbctl, loadNetworkFile, renderScript } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = resolve(ROOT, "scenarios");
const files = [...readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml")).map((f) => resolve(SCENARIOS, f)), resolve(ROOT, "fixtures/scenario/every-field.yaml")];
const haveOvn = ovnAvailable();
if (!haveOvn) console.warn("export-nbctl.test: OVN binaries not installed; skipping the live OVN checks");

function setOf(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === "set") return v[1] as unknown[];
  return v === undefined ? [] : [v];
}
function mapOf(v: unknown): Record<string, string> {
  if (Array.isArray(v) && v[0] === "map") return Object.fromEntries((v[1] as [unknown, unknown][]).map(([k, x]) => [String(k), String(x)]));
  return {};
}
function uuid(v: unknown): string {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "";
}

describe("renderScript", () => {
  it("quotes every argument so that a POSIX shell gives back the same argv", () => {
    const cmds = [
      ["acl-add", "pg", "to-lport", "2001", 'outport == @pg && ip4.src == $as && inport == "a b"', "allow-related"],
      ["lsp-set-addresses", "p", "00:00:00:00:00:01 10.0.0.1", "unknown"],
      ["set", "x", "it's", "", "$HOME", "`id`", "a\\b", "--name=np/x.y/ingress"],
    ];
    const script = renderScript("argv", cmds);
    const out = execFileSync("sh", ["-c", `argv() { for a in "$@"; do printf '%s\\036' "$a"; done; printf '\\035'; }\n${script}`], { encoding: "utf8" });
    const got = out.split("\u001d").filter((l) => l !== "").map((l) => l.split("\u001e").slice(0, -1));
    expect(got).toEqual(cmds);
  });
});

describe.skipIf(!haveOvn)("exportNbctl against real OVN", () => {
  for (const f of files) {
    it(`${basename(f)}: every object and column arrives in the databases`, { timeout: 60_000 }, () => {
      const loaded = loadNetworkFile(f);
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      const net = loaded.value.network;
      const sbr = OvnSandbox.start();
      if (!sbr.ok) throw new Error(sbr.diags.map((d) => d.message).join("; "));
      const sb = sbr.value;
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
        checkDatabases(sb, net);
      } finally {
        sb.stop();
      }
    });
  }
});

function list(sb: OvnSandbox, db: "nb" | "sb", table: string): Record<string, unknown>[] {
  const r = db === "nb" ? sb.nbList(table) : sb.sbList(table);
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

function checkDatabases(sb: OvnSandbox, net: Network): void {
  const lsps = new Map(list(sb, "nb", "Logical_Switch_Port").map((r) => [String(r.name), r]));
  const lspName = new Map([...lsps.values()].map((r) => [uuid(r._uuid), String(r.name)]));
  const acls = new Map(list(sb, "nb", "ACL").map((r) => [uuid(r._uuid), r]));
  const lbs = new Map(list(sb, "nb", "Load_Balancer").map((r) => [String(r.name), r]));
  const lbName = new Map([...lbs.values()].map((r) => [uuid(r._uuid), String(r.name)]));
  const aclView = (r: Record<string, unknown>) => ({
    direction: r.direction,
    priority: r.priority,
    match: r.match,
    action: r.action,
    name: setOf(r.name)[0],
    label: r.label,
    log: r.log,
    severity: setOf(r.severity)[0],
    applyAfterLb: mapOf(r.options)["apply-after-lb"] === "true",
    externalIds: mapOf(r.external_ids),
  });
  const modelAcl = (a: Acl) => ({
    direction: a.direction,
    priority: a.priority,
    match: a.match,
    action: a.action,
    name: a.name,
    label: a.label,
    log: a.log,
    severity: a.severity,
    applyAfterLb: a.applyAfterLb,
    externalIds: Object.fromEntries(a.externalIds),
  });

  const switches = list(sb, "nb", "Logical_Switch");
  expect(switches.map((r) => r.name).sort()).toEqual([...net.switches.keys()].sort());
  for (const row of switches) {
    const ls = net.switches.get(String(row.name))!;
    expect(setOf(row.ports).map((u) => lspName.get(uuid(u))).sort()).toEqual([...ls.ports.keys()].sort());
    expect(mapOf(row.other_config)).toEqual({ ...Object.fromEntries(ls.otherConfig), ...(ls.tunnelKey !== undefined ? { "requested-tnl-key": String(ls.tunnelKey) } : {}) });
    expect(mapOf(row.external_ids)).toEqual(Object.fromEntries(ls.externalIds));
    expect(setOf(row.load_balancer).map((u) => lbName.get(uuid(u))).sort()).toEqual(ls.loadBalancers.toArray().sort());
    expect(setOf(row.acls).map((u) => aclView(acls.get(uuid(u))!))).toEqual(expect.arrayContaining(ls.acls.toArray().map(modelAcl)));
    expect(setOf(row.acls).length).toBe(ls.acls.size);
    for (const p of ls.ports.values()) {
      const r = lsps.get(p.name)!;
      expect(r.type).toBe(p.type);
      expect(setOf(r.addresses).sort()).toEqual(p.addresses.toArray().sort());
      expect(setOf(r.port_security).sort()).toEqual(p.portSecurity.toArray().sort());
      expect(mapOf(r.options)).toEqual({ ...Object.fromEntries(p.options), ...(p.tunnelKey !== undefined ? { "requested-tnl-key": String(p.tunnelKey) } : {}) });
      expect(mapOf(r.external_ids)).toEqual(Object.fromEntries(p.externalIds));
      expect(setOf(r.tag)[0]).toBe(p.tag);
      expect(setOf(r.enabled)[0] ?? true).toBe(p.enabled);
    }
  }

  const sets = list(sb, "nb", "Address_Set");
  expect(sets.map((r) => r.name).sort()).toEqual([...net.addressSets.keys()].sort());
  for (const r of sets) {
    const as = net.addressSets.get(String(r.name))!;
    expect(setOf(r.addresses).map(String).sort()).toEqual(as.addresses.toArray().sort());
    expect(mapOf(r.external_ids)).toEqual(Object.fromEntries(as.externalIds));
  }

  const groups = list(sb, "nb", "Port_Group");
  expect(groups.map((r) => r.name).sort()).toEqual([...net.portGroups.keys()].sort());
  for (const r of groups) {
    const pg = net.portGroups.get(String(r.name))!;
    expect(setOf(r.ports).map((u) => lspName.get(uuid(u))).sort()).toEqual(pg.ports.toArray().sort());
    expect(setOf(r.acls).map((u) => aclView(acls.get(uuid(u))!))).toEqual(expect.arrayContaining(pg.acls.toArray().map(modelAcl)));
    expect(setOf(r.acls).length).toBe(pg.acls.size);
    expect(mapOf(r.external_ids)).toEqual(Object.fromEntries(pg.externalIds));
  }

  expect([...lbs.keys()].sort()).toEqual([...net.loadBalancers.keys()].sort());
  for (const lb of net.loadBalancers.values()) {
    const r = lbs.get(lb.name)!;
    expect(mapOf(r.vips)).toEqual(Object.fromEntries(lb.vips.entrySeq().map(([k, v]) => [k, v.join(",")])));
    expect(setOf(r.protocol)[0]).toBe(lb.protocol);
    expect(setOf(r.selection_fields).sort()).toEqual(lb.selectionFields.toArray().sort());
    expect(mapOf(r.options)).toEqual(Object.fromEntries(lb.options));
    expect(mapOf(r.external_ids)).toEqual(Object.fromEntries(lb.externalIds));
  }

  const nbGlobal = list(sb, "nb", "NB_Global")[0]!;
  for (const [k, v] of net.options) expect(mapOf(nbGlobal.options)[k]).toBe(v);

  const chassis = list(sb, "sb", "Chassis");
  expect(chassis.map((r) => r.name).sort()).toEqual([...net.chassis.keys()].sort());
  for (const r of chassis) {
    const ch = net.chassis.get(String(r.name))!;
    expect(r.hostname).toBe(ch.hostname);
    const mappings = ch.bridgeMappings.entrySeq().map(([k, v]) => `${k}:${v}`).join(",");
    expect(mapOf(r.other_config)["ovn-bridge-mappings"]).toBe(mappings === "" ? undefined : mappings);
    const macs = ch.macMappings.entrySeq().map(([k, v]) => `${k}:${v}`).join(",");
    expect(mapOf(r.other_config)["ovn-chassis-mac-mappings"]).toBe(macs === "" ? undefined : macs);
    expect(mapOf(r.other_config)["is-remote"]).toBe(ch.isRemote ? "true" : undefined);
    expect(mapOf(r.other_config)["is-interconn"]).toBe(ch.isInterconn ? "true" : undefined);
  }
  const chassisName = new Map(chassis.map((r) => [uuid(r._uuid), String(r.name)]));
  const bindings = new Map(list(sb, "sb", "Port_Binding").map((r) => [String(r.logical_port), chassisName.get(uuid(setOf(r.chassis)[0]))]));
  // A remote port is bound where it asks to be, as ovn-ic binds it.
  for (const ls of net.switches.values()) for (const p of ls.ports.values()) expect(bindings.get(p.name)).toBe(p.chassis ?? (p.type === "remote" ? p.options.get("requested-chassis") : undefined));
}
