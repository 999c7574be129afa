/**
 * Multicast groups in ovn-controller's output tables (39 remote output, 40 local output), ovnsim
 * against real OVN: which members a flood reaches only where it entered (router ports, localports,
 * OVN-IC remote ports tunnelled with their own key) and which also from a tunnel (VIFs here, and a
 * transit switch's router port). Each case is a network and one of its chassis; a flow is named
 * by its table, datapath and group, and its actions by what they do to members: `deliver PORT`,
 * `tunnel PORT-OR-GROUP` (the egress key the encapsulation carries) and `local` (on to table 40).
 *
 * Always: ovnsim's physical flows for the case give the recording (fixtures/ovs/
 * multicast-flows.json). Where OVS and OVN are installed, ovn-controller programs the chassis
 * again (startRealChassis) and its flows must give the recording too; OVNSIM_RECORD=1 rewrites it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePhysical } from "../../src/compile/index.js";
import { OFTABLE } from "../../src/ofp/index.js";
import { ovsAvailable, startRealChassis } from "../../src/ovn/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { ovnsimKeyNames } from "../../src/cli/conformance-run.js";

const ROOT = resolve(import.meta.dirname, "../..");
const RECORDING = join(ROOT, "fixtures/ovs/multicast-flows.json");
const LIVE = ovsAvailable() && process.env.OVNSIM_NO_OVN !== "1";
const RECORD = process.env.OVNSIM_RECORD === "1";
if (!LIVE) console.warn("ovs-multicast-flows: OVS/OVN not installed (or OVNSIM_NO_OVN=1); checking the recording only");

const CASES = [
  // A localport (OpenStack's metadata port) beside VIFs on two chassis.
  { name: "localport", file: "fixtures/ovs/localport-flood.yaml", chassis: "hv2" },
  // OVN-IC: the transit switch's router port and its remote port, on the zone's gateway.
  { name: "ovn-ic-gateway", file: "scenarios/ovn-ic-az1.yaml", chassis: "gw1" },
  // Its other chassis: the transit switch is not local there (behind a gateway port that redirects).
  { name: "ovn-ic-node", file: "scenarios/ovn-ic-az1.yaml", chassis: "hv1" },
  // A Kube-OVN node: switches with router ports, VIFs here and on the other node.
  { name: "kube-ovn-node", file: "scenarios/kube-ovn-default.yaml", chassis: "node1" },
] as const;

/** Per flow (`TABLE DATAPATH GROUP`), what its actions do, sorted. */
type Flows = Record<string, string[]>;

interface Names {
  readonly datapath: (key: number) => string;
  readonly port: (dp: number, key: number) => string;
}

/** Parses the actions of one multicast flow into member operations (see the module header). */
function memberOps(actions: string, dp: number, names: Names): string[] {
  const ops: string[] = [];
  let reg15: number | undefined;
  for (const a of actions.split(/,(?![^(]*\))/)) {
    const load = /^(?:load:|set_field:)(0x[0-9a-f]+)->(?:NXM_NX_REG15\[\]|reg15)$/.exec(a);
    if (load) {
      reg15 = Number(load[1]);
      continue;
    }
    const tun = /^set_field:(0x[0-9a-f]+)->tun_metadata0$/.exec(a);
    if (tun) {
      ops.push(`tunnel ${names.port(dp, Number(tun[1]) & 0xffff)}`);
      continue;
    }
    if (a === `resubmit(,${OFTABLE.CHECK_LOOPBACK})` && reg15 !== undefined) ops.push(`deliver ${names.port(dp, reg15)}`);
    if (a === `resubmit(,${OFTABLE.LOCAL_OUTPUT})`) ops.push("local");
  }
  return ops.sort();
}

/** The multicast flows of tables 39 and 40 among `flows` (table, match, actions). */
function multicastFlows(flows: readonly { table: number; match: string; actions: string }[], names: Names): Flows {
  const out: Flows = {};
  for (const f of flows) {
    if (f.table !== OFTABLE.REMOTE_OUTPUT && f.table !== OFTABLE.LOCAL_OUTPUT) continue;
    const reg15 = /(?:^|,)reg15=(0x[0-9a-f]+)(?:,|$)/.exec(f.match);
    const md = /(?:^|,)metadata=(0x[0-9a-f]+)(?:,|$)/.exec(f.match);
    if (!reg15 || !md || Number(reg15[1]) < 0x8000) continue;
    const dp = Number(md[1]);
    out[`${f.table} ${names.datapath(dp)} ${names.port(dp, Number(reg15[1]))}`] = memberOps(f.actions, dp, names);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What ovnsim's plan shows for the case. */
function ovnsimFlows(file: string, chassis: string): Flows {
  const sc = loadNetworkFile(join(ROOT, file));
  if (!sc.ok) throw new Error(sc.diags.map((d) => d.message).join("; "));
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error(plan.diags.map((d) => d.message).join("; "));
  const c = plan.value.chassis.get(chassis)!;
  const prog = c.program;
  const names: Names = {
    datapath: (k) => prog.datapaths.get(k)?.name ?? `dp${k}`,
    port: (dp, k) => {
      const d = prog.datapaths.get(dp);
      return d?.multicast.get(k)?.name ?? d?.ports.get(k)?.name ?? `port${k}`;
    },
  };
  return multicastFlows([...c.flows.values()], names);
}

/** What real ovn-controller installs for the case. */
function realFlows(file: string, chassis: string): Flows {
  const sc = loadNetworkFile(join(ROOT, file));
  if (!sc.ok) throw new Error(sc.diags.map((d) => d.message).join("; "));
  const t = startRealChassis(sc.value.network, chassis, { expectKeys: ovnsimKeyNames(sc.value.network) });
  if (!t.ok) throw new Error(t.diags.map((d) => d.message).join("; "));
  try {
    const sb = t.value.sandbox;
    const rows = (table: string, cols: string[]): Record<string, unknown>[] => {
      const r = sb.sbList(table, cols);
      if (!r.ok) throw new Error(r.diags[0]!.message);
      return r.value;
    };
    const uuid = (v: unknown): string => (Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "");
    const dpByUuid = new Map<string, { key: number; name: string }>();
    for (const d of rows("Datapath_Binding", ["_uuid", "tunnel_key", "external_ids"])) {
      const ids = new Map((d.external_ids as [string, [string, string][]])[1]);
      dpByUuid.set(uuid(d._uuid), { key: Number(d.tunnel_key), name: ids.get("name") ?? "" });
    }
    const dpName = new Map([...dpByUuid.values()].map((d) => [d.key, d.name]));
    const portName = new Map<string, string>();
    for (const p of rows("Port_Binding", ["logical_port", "tunnel_key", "datapath"])) portName.set(`${dpByUuid.get(uuid(p.datapath))?.key}/${Number(p.tunnel_key)}`, String(p.logical_port));
    for (const g of rows("Multicast_Group", ["name", "tunnel_key", "datapath"])) portName.set(`${dpByUuid.get(uuid(g.datapath))?.key}/${Number(g.tunnel_key)}`, String(g.name));
    const names: Names = { datapath: (k) => dpName.get(k) ?? `dp${k}`, port: (dp, k) => portName.get(`${dp}/${k}`) ?? `port${k}` };
    const flows: { table: number; match: string; actions: string }[] = [];
    for (const table of [OFTABLE.REMOTE_OUTPUT, OFTABLE.LOCAL_OUTPUT]) {
      const r = t.value.chassis.ofctl("dump-flows", "br-int", `table=${table}`);
      if (!r.ok) throw new Error(r.diags[0]!.message);
      for (const line of r.value.split("\n")) {
        const m = /table=(\d+), .*?priority=\d+,?(\S*) actions=(\S+)/.exec(line);
        if (m) flows.push({ table: Number(m[1]), match: m[2]!, actions: m[3]! });
      }
    }
    return multicastFlows(flows, names);
  } finally {
    t.value.stop();
  }
}

const recording: Record<string, Flows> | undefined = existsSync(RECORDING) ? (JSON.parse(readFileSync(RECORDING, "utf8")) as Record<string, Flows>) : undefined;

describe("multicast groups in the output tables, against real ovn-controller", () => {
  it.skipIf(!LIVE)("the recording is what real ovn-controller installs now", { timeout: 180_000 }, () => {
    const live = Object.fromEntries(CASES.map((c) => [c.name, realFlows(c.file, c.chassis)]));
    if (RECORD || recording === undefined) {
      writeFileSync(`${RECORDING}.tmp`, JSON.stringify(live, null, 2) + "\n");
      renameSync(`${RECORDING}.tmp`, RECORDING);
    }
    const rec = JSON.parse(readFileSync(RECORDING, "utf8")) as Record<string, Flows>;
    expect(live).toEqual(rec);
  });

  it.each(CASES)("$name: ovnsim's flows on $chassis are the recorded real ones", ({ name, file, chassis }) => {
    expect(recording, `no recording at ${RECORDING}: run where OVS and OVN are installed`).toBeDefined();
    const rec = recording![name]!;
    expect(Object.keys(rec).length).toBeGreaterThan(0);
    expect(ovnsimFlows(file, chassis)).toEqual(rec);
  });
});
