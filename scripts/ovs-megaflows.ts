/**
 * The megaflow oracle: the five representative packets of the flow-cache issue, traced by real OVS
 * (`ofproto/trace` on a dummy-datapath ovs-vswitchd programmed by a real ovn-controller as chassis
 * node1), recorded in
 * fixtures/ovs/megaflows-kube-ovn-default.json with every recirculation pass's `Megaflow:` and
 * `Datapath actions:` lines.
 *
 * Run: `npx tsx scripts/ovs-megaflows.ts` traces and compares with the recording (exit 1 when
 * they differ); `--record` rewrites the recording.
 *
 * How each packet is traced:
 * - The topology is built in a fresh `OvnSandbox`; node1 is made real (`startRealChassis`), the
 *   other chassis stay fake, so tunnel output is a real geneve `tnl_push`.
 * - Datapath flows and conntrack are purged, then the packet itself is fed once into the datapath
 *   through its VIF (`netdev-dummy/receive`). This is what keeps the recirculation contexts of its
 *   passes alive: `ofproto/trace` follows conntrack recirculations itself (with `--ct-next`), but
 *   not the `hash(l4(0)),recirc(...)` of a `selection_method=dp_hash` group (OVN's load-balancer
 *   groups), and a recirculation id can only be traced while something holds it.
 * - `ofproto/trace br-int FLOW --ct-next trk,new ...` then gives the passes up to the first
 *   `hash` pass. For each `hash(...),recirc(0xN)` ending, the trace is continued from
 *   `recirc_id=0xN,dp_hash=H` plus the flow as it was at the end of that pass, where H is the
 *   dp_hash the real packet got (read from its installed datapath flow); the bucket it selects
 *   must NAT to the packet's `lbBackend` (the packet's source port is chosen so that it does).
 * - The datapath flows the real packet installed (`dpctl/dump-flows`, statistics removed) are
 *   recorded beside the trace as a cross-check.
 *
 * Things that vary between runs (recirculation ids, conntrack zone numbers that ovn-controller
 * picks, tunnel keys that northd picks, rule cookies) are kept raw in the recording together with
 * the maps to read them (`ports`, `datapathPorts`, `ctZones`, `tunnelKeys`); `normalizePasses()`
 * rewrites them to names, which is what the test compares.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { error, fail, formatDiagnostic, ok, type Result } from "../src/base/index.js";
import { ovsAvailable, parseFlowFields, parseOfprotoTrace, startRealChassis, type RealChassisTopology, type TracePass } from "../src/ovn/index.js";
import { loadNetworkFile } from "../src/scenario/index.js";
import { ovnsimKeyNames } from "../src/cli/conformance-run.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const RECORDING = join(ROOT, "fixtures/ovs/megaflows-kube-ovn-default.json");

/** The chassis made real; every packet enters on one of its VIFs. */
export const CHASSIS = "node1";

/** A packet to trace: where it enters, what it is (ovn-trace syntax), and what to pick for it. */
export interface OraclePacket {
  readonly name: string;
  /** Scenario file under scenarios/. */
  readonly scenario: string;
  /** What the packet shows, in a sentence. */
  readonly about: string;
  /** The LSP the packet enters from (a VIF on node1). */
  readonly inport: string;
  /** The packet as an ovn-trace microflow, as the scenarios' probes write it. */
  readonly microflow: string;
  /** For a load-balanced new connection: the backend the dp_hash group must pick (`ip:port`). */
  readonly lbBackend?: string;
  /** The ct_state each conntrack recirculation resumes with, in order. Default: `trk,new` for all. */
  readonly ctNext?: readonly string[];
}

const TCP_SYN = "tcp.flags == 0x002";

export const PACKETS: readonly OraclePacket[] = [
  {
    name: "same-switch-pod-to-pod",
    scenario: "kube-ovn-default.yaml",
    about: "web-1.default to web-2.default, both on node1, a new TCP connection to 8080",
    inport: "web-1.default",
    microflow: `inport == "web-1.default" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:03 && ip4.src == 10.16.0.2 && ip4.dst == 10.16.0.3 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8080 && ${TCP_SYN}`,
  },
  {
    name: "cross-chassis-pod-to-pod",
    scenario: "kube-ovn-default.yaml",
    about: "web-1.default on node1 to web-3.default on node2: the egress pipeline runs on node2, so node1 ends in a geneve tnl_push",
    inport: "web-1.default",
    microflow: `inport == "web-1.default" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:04 && ip4.src == 10.16.0.2 && ip4.dst == 10.16.0.4 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8080 && ${TCP_SYN}`,
  },
  {
    name: "pod-to-service-vip",
    scenario: "kube-ovn-default.yaml",
    about: "web-1.default to the TCP VIP 10.96.0.10:80, a new connection load-balanced to web-2.default (10.16.0.3:8080, on node1); the switch has no router, so the frame is addressed to the backend's MAC as in the scenario's VIP probes",
    inport: "web-1.default",
    microflow: `inport == "web-1.default" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:03 && ip4.src == 10.16.0.2 && ip4.dst == 10.96.0.10 && ip.ttl == 64 && tcp && tcp.src == 42001 && tcp.dst == 80 && ${TCP_SYN}`,
    lbBackend: "10.16.0.3:8080",
  },
  {
    name: "pod-to-router-to-other-subnet",
    scenario: "kube-ovn-cluster.yaml",
    about: "kube-ovn-default has no router, so this one uses kube-ovn-cluster (the default VPC): web-1.default (ovn-default, node1) through ovn-cluster to api-1.apps (subnet apps, node1), TCP 80",
    inport: "web-1.default",
    microflow: `inport == "web-1.default" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:01 && ip4.src == 10.16.0.2 && ip4.dst == 10.17.0.2 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 80 && ${TCP_SYN}`,
  },
  {
    name: "acl-drop",
    scenario: "network-policy.yaml",
    about: "kube-ovn-default has no ACL, so this one uses network-policy: web-1.frontend to api-1.backend (both node1) on TCP 9090, dropped by the to-lport NetworkPolicy ACL backend/allow-frontend (priority 2000, logged)",
    inport: "web-1.frontend",
    microflow: `inport == "web-1.frontend" && eth.src == 00:00:00:16:00:10 && eth.dst == 00:00:00:16:00:20 && ip4.src == 10.16.0.10 && ip4.dst == 10.16.0.20 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 9090 && ${TCP_SYN}`,
  },
];

/** One pass of a packet's trace, as recorded. */
export interface PassRecord {
  /** The recirculation this pass resumed, absent for the first pass. */
  readonly recircId?: string;
  /** The ct_state the pass resumed with (conntrack recirculations). */
  readonly ctState?: string;
  /** For a continuation after a dp_hash recirculation: the dp_hash value given. */
  readonly dpHash?: string;
  /** The flow the pass translated (its `Flow:` line without the label): the megaflow matches it. */
  readonly flow: string;
  readonly megaflow: string;
  readonly actions: string;
}

export interface PacketRecord {
  readonly name: string;
  readonly scenario: string;
  readonly about: string;
  /** The ovnsim side: the LSP the packet enters from and the microflow in ovn-trace syntax. */
  readonly inport: string;
  readonly microflow: string;
  readonly lbBackend?: string;
  /** The flow given to `ofproto/trace br-int`, and the `--ct-next` states. */
  readonly ovsFlow: string;
  readonly ctNext: readonly string[];
  /** The frame fed to `netdev-dummy/receive` (datapath flow syntax). */
  readonly injected: string;
  /** Each `ofproto/trace` run after the first: the flow it was given (dp_hash continuations). */
  readonly continuations: readonly string[];
  /** Every pass, in order, first trace then continuations. */
  readonly passes: readonly PassRecord[];
  /** The datapath flows the injected packet installed (`dpctl/dump-flows` without statistics), sorted. */
  readonly datapathFlows: readonly string[];
}

/** How to read the numbers in one topology's lines. */
export interface TopologyRecord {
  readonly scenario: string;
  readonly chassis: string;
  /** br-int ports: interface name, LSP for VIFs, OpenFlow port (`in_port=N`), datapath port. */
  readonly ports: readonly { name: string; type: string; lsp?: string; ofport: number; odpPort?: number }[];
  /** Every datapath port by name (`dpctl/show`), including br-phys and its uplink eth0. */
  readonly datapathPorts: Readonly<Record<string, number>>;
  /** ovn-controller's conntrack zones: LSP name, or `<datapath name>_dnat` / `_snat`. */
  readonly ctZones: Readonly<Record<string, number>>;
  /** Tunnel keys northd chose: datapath name → key (the geneve VNI), LSP/LRP name → key. */
  readonly tunnelKeys: { readonly datapaths: Readonly<Record<string, number>>; readonly ports: Readonly<Record<string, number>> };
  /** Number of OpenFlow flows on br-int once ovn-controller had settled. */
  readonly openflowFlows: number;
}

export interface MegaflowRecording {
  readonly ovs: string;
  readonly ovn: string;
  readonly notes: readonly string[];
  readonly topologies: readonly TopologyRecord[];
  readonly packets: readonly PacketRecord[];
}

const NOTES = [
  "Each packet is a new connection: every conntrack recirculation resumes with ct_state=trk,new (--ct-next).",
  "ofproto/trace does not follow the hash(l4(0)),recirc(...) of a dp_hash select group; such passes are traced separately from recirc_id=...,dp_hash=H (see continuations), after the real packet was fed once so the recirculation context exists.",
  "in_port=N in megaflows is the OpenFlow port (ports[].ofport); bare numbers and out_port(N) in datapath actions are datapath ports (ports[].odpPort, datapathPorts).",
  "Recirculation ids, ct zone numbers, tunnel keys (vni, the geneve option's port keys) and rule cookies can differ between runs; compare after normalizePasses().",
];

/** `name == value` terms of a microflow, and its bare protocol terms. */
function microflowTerms(microflow: string): Result<{ eq: Map<string, string>; protos: string[] }> {
  const eq = new Map<string, string>();
  const protos: string[] = [];
  for (const raw of microflow.split("&&")) {
    const t = raw.trim();
    const m = /^([a-z0-9_.]+)\s*==\s*(.+)$/.exec(t);
    if (m) eq.set(m[1]!, m[2]!.replace(/^"(.*)"$/, "$1"));
    else if (/^[a-z0-9]+$/.test(t)) protos.push(t);
    else return fail(error("oracle.microflow", `cannot read microflow term "${t}"`));
  }
  return ok({ eq, protos });
}

const OVS_FIELD: Readonly<Record<string, string>> = {
  "eth.src": "dl_src",
  "eth.dst": "dl_dst",
  "ip4.src": "nw_src",
  "ip4.dst": "nw_dst",
  "ip.ttl": "nw_ttl",
  "tcp.src": "tp_src",
  "tcp.dst": "tp_dst",
  "tcp.flags": "tcp_flags",
  "udp.src": "tp_src",
  "udp.dst": "tp_dst",
  "icmp4.type": "icmp_type",
  "icmp4.code": "icmp_code",
};

const PROTO: Readonly<Record<string, { ovs: string; number: number }>> = { tcp: { ovs: "tcp", number: 6 }, udp: { ovs: "udp", number: 17 }, icmp4: { ovs: "icmp", number: 1 } };

/** The microflow as an `ofproto/trace` flow entering at OpenFlow port `ofport`. */
export function ovsFlowOf(microflow: string, ofport: number): Result<string> {
  const t = microflowTerms(microflow);
  if (!t.ok) return t;
  const proto = t.value.protos.find((p) => p in PROTO);
  const parts = [proto ? PROTO[proto]!.ovs : "ip", `in_port=${ofport}`];
  for (const [k, v] of t.value.eq) {
    if (k === "inport") continue;
    const f = OVS_FIELD[k];
    if (!f) return fail(error("oracle.microflow", `no OVS field for ${k}`));
    parts.push(`${f}=${v}`);
  }
  return ok(parts.join(","));
}

/** The microflow as a frame for `netdev-dummy/receive`, in datapath flow syntax. */
export function odpPacketOf(microflow: string): Result<string> {
  const t = microflowTerms(microflow);
  if (!t.ok) return t;
  const g = (k: string): string | undefined => t.value.eq.get(k);
  const proto = t.value.protos.find((p) => p in PROTO);
  if (!proto || !g("eth.src") || !g("eth.dst") || !g("ip4.src") || !g("ip4.dst")) return fail(error("oracle.microflow", "the frame needs eth.src, eth.dst, ip4.src, ip4.dst and tcp, udp or icmp4"));
  const parts = [`eth(src=${g("eth.src")},dst=${g("eth.dst")})`, "eth_type(0x0800)", `ipv4(src=${g("ip4.src")},dst=${g("ip4.dst")},proto=${PROTO[proto]!.number},tos=0,ttl=${g("ip.ttl") ?? "64"},frag=no)`];
  if (proto === "icmp4") parts.push(`icmp(type=${g("icmp4.type") ?? "8"},code=${g("icmp4.code") ?? "0"})`);
  else parts.push(`${proto}(src=${g(`${proto}.src`) ?? "0"},dst=${g(`${proto}.dst`) ?? "0"})`);
  if (proto === "tcp" && g("tcp.flags")) parts.push(`tcp_flags(${g("tcp.flags")})`);
  return ok(parts.join(","));
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The first line of `bin --version`, or `unknown`. */
export function versionOf(bin: string): string {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 }).split("\n")[0] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** An OVSDB JSON map column as a Map. */
export function mapOf(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v) && v[0] === "map") for (const [k, x] of v[1] as [unknown, unknown][]) out.set(String(k), String(x));
  return out;
}

/** An OVSDB JSON uuid column as text (empty when it is none). */
export function uuidOf(v: unknown): string {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : "";
}

/** Reads ports, datapath ports, named ct zones and tunnel keys of a running topology. */
function describeTopology(scenario: string, t: RealChassisTopology): Result<TopologyRecord> {
  const ports = t.chassis.ports();
  if (!ports.ok) return ports;
  const dpPorts = t.chassis.datapathPorts();
  if (!dpPorts.ok) return dpPorts;
  const dps = t.sandbox.sbList("Datapath_Binding", ["_uuid", "external_ids", "tunnel_key"]);
  if (!dps.ok) return dps;
  const pbs = t.sandbox.sbList("Port_Binding", ["logical_port", "tunnel_key"]);
  if (!pbs.ok) return pbs;
  const zones = t.chassis.ctZones();
  if (!zones.ok) return zones;
  const dpName = new Map<string, string>();
  const datapaths: Record<string, number> = {};
  for (const d of dps.value) {
    const name = mapOf(d.external_ids).get("name") ?? `dp${String(d.tunnel_key)}`;
    dpName.set(uuidOf(d._uuid), name);
    datapaths[name] = Number(d.tunnel_key);
  }
  const portKeys: Record<string, number> = {};
  for (const p of pbs.value) portKeys[String(p.logical_port)] = Number(p.tunnel_key);
  const ctZones: Record<string, number> = {};
  for (const [k, v] of zones.value) {
    const m = /^([0-9a-f-]{36})_(dnat|snat)$/.exec(k);
    ctZones[m ? `${dpName.get(m[1]!) ?? m[1]}_${m[2]}` : k] = v;
  }
  return ok({
    scenario,
    chassis: t.chassis.name,
    ports: ports.value.map((p) => ({ ...p })),
    datapathPorts: Object.fromEntries(dpPorts.value),
    ctZones: Object.fromEntries(Object.entries(ctZones).sort(([a], [b]) => a.localeCompare(b))),
    tunnelKeys: { datapaths: sortKeys(datapaths), ports: sortKeys(portKeys) },
    openflowFlows: t.flows,
  });
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** Waits until the datapath flow set stops changing after an injected frame; returns it. */
function settledDatapathFlows(t: RealChassisTopology): Result<string[]> {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const f = t.chassis.datapathFlows();
    if (!f.ok) return f;
    const now = f.value.map((l) => l.replace(/ packets:\d+, bytes:\d+, used:[^,]+,/, "")).sort();
    const sig = now.join("\n");
    if (now.length > 0 && sig === last) return ok(now);
    last = sig;
    sleepMs(100);
  }
  return fail(error("oracle.datapath", "the datapath flows of the injected packet did not settle"));
}

/** The dp_hash the real packet got at recirculation `recircId`, from its installed datapath flows. */
function realDpHash(flows: readonly string[], recircId: string): string | undefined {
  for (const f of flows) {
    const m = /(?:^|,)recirc_id\((0x[0-9a-f]+)\),dp_hash\((0x[0-9a-f]+)\/0x[0-9a-f]+\)/.exec(f);
    if (m && parseInt(m[1]!, 16) === parseInt(recircId, 16)) return m[2]!;
  }
  return undefined;
}

const CONTEXT_FIELDS = /^(reg\d+|xreg\d+|xxreg\d+|metadata|recirc_id|dp_hash)=|^eth$/;

/** The flow to continue from after a pass that ended in `hash(...),recirc(id)`. */
function continuationFlow(pass: TracePass, recircId: string, dpHash: string): string {
  const base = pass.finalFlow === "unchanged" ? pass.flow : pass.finalFlow;
  const kept = base.split(",").filter((tok) => !CONTEXT_FIELDS.test(tok));
  return [`recirc_id=${recircId}`, `dp_hash=${dpHash}`, ...kept].join(",");
}

function passRecord(p: TracePass, dpHash?: string, resumed?: string): PassRecord {
  const recircId = p.recircId ?? resumed;
  return {
    ...(recircId !== undefined ? { recircId } : {}),
    ...(p.ctState !== undefined ? { ctState: p.ctState } : {}),
    ...(dpHash !== undefined ? { dpHash } : {}),
    flow: p.flow,
    megaflow: p.megaflow,
    actions: p.actions,
  };
}

/** Traces one packet on a running topology (see the module header). */
function tracePacket(t: RealChassisTopology, topo: TopologyRecord, p: OraclePacket): Result<PacketRecord> {
  const vif = topo.ports.find((x) => x.lsp === p.inport);
  if (!vif) return fail(error("oracle.inport", `${p.name}: ${p.inport} is not a VIF of ${topo.chassis}`));
  const flow = ovsFlowOf(p.microflow, vif.ofport);
  if (!flow.ok) return flow;
  const frame = odpPacketOf(p.microflow);
  if (!frame.ok) return frame;
  const ctNext = [...(p.ctNext ?? ["trk,new", "trk,new", "trk,new", "trk,new", "trk,new", "trk,new"])];
  const ctFlags = ctNext.flatMap((s) => ["--ct-next", s]);
  const purged = t.chassis.purge();
  if (!purged.ok) return purged;
  const fed = t.chassis.receive(vif.name, frame.value);
  if (!fed.ok) return fed;
  const dpFlows = settledDatapathFlows(t);
  if (!dpFlows.ok) return dpFlows;
  const first = t.chassis.ofprotoTrace("br-int", flow.value, ctFlags);
  if (!first.ok) return first;
  const parsed = parseOfprotoTrace(first.value);
  if (!parsed.ok) return parsed;
  const passes: PassRecord[] = parsed.value.map((x) => passRecord(x));
  const continuations: string[] = [];
  let last = parsed.value[parsed.value.length - 1]!;
  let used = parsed.value.filter((x) => x.ctState !== undefined).length;
  for (let round = 0; round < 4; round++) {
    const h = /hash\([^)]*\)\),recirc\((0x[0-9a-f]+)\)$/.exec(last.actions);
    if (!h) break;
    if (!p.lbBackend) return fail(error("oracle.dp-hash", `${p.name}: a dp_hash recirculation, but the packet names no lbBackend`));
    const real = realDpHash(dpFlows.value, h[1]!);
    if (real === undefined) return fail(error("oracle.dp-hash", `${p.name}: the injected packet installed no datapath flow for recirc_id(${h[1]}) with a dp_hash`));
    const contFlow = continuationFlow(last, h[1]!, real);
    const rest = ctNext.slice(used).flatMap((s) => ["--ct-next", s]);
    const r = t.chassis.ofprotoTrace("br-int", contFlow, rest);
    if (!r.ok) return r;
    const cont = parseOfprotoTrace(r.value);
    if (!cont.ok) return cont;
    const found = cont.value;
    if (found[0]?.failure) return fail(error("oracle.dp-hash", `${p.name}: continuing from recirc ${h[1]} failed: ${found[0].failure}`));
    if (!found[0]?.actions.includes(`nat(dst=${p.lbBackend})`)) {
      return fail(error("oracle.dp-hash", `${p.name}: the real dp_hash ${real} does not select backend ${p.lbBackend} (${found[0]?.actions ?? "no pass"}); pick another tcp.src`));
    }
    continuations.push(contFlow);
    found.forEach((x, i) => passes.push(i === 0 ? passRecord(x, real, h[1]) : passRecord(x)));
    used += found.filter((x) => x.ctState !== undefined).length;
    last = found[found.length - 1]!;
  }
  return ok({
    name: p.name,
    scenario: p.scenario,
    about: p.about,
    inport: p.inport,
    microflow: p.microflow,
    ...(p.lbBackend !== undefined ? { lbBackend: p.lbBackend } : {}),
    ovsFlow: flow.value,
    ctNext,
    injected: frame.value,
    continuations,
    passes,
    datapathFlows: dpFlows.value,
  });
}

/** Builds each scenario with node1 real, traces its packets, and returns the recording. */
export function recordMegaflows(packets: readonly OraclePacket[] = PACKETS): Result<MegaflowRecording> {
  if (!ovsAvailable()) return fail(error("oracle.unavailable", "OVS/OVN binaries are not installed"));
  const topologies: TopologyRecord[] = [];
  const records: PacketRecord[] = [];
  const scenarios = [...new Set(packets.map((p) => p.scenario))];
  for (const scenario of scenarios) {
    const loaded = loadNetworkFile(join(ROOT, "scenarios", scenario));
    if (!loaded.ok) return loaded;
    const started = startRealChassis(loaded.value.network, CHASSIS, { expectKeys: ovnsimKeyNames(loaded.value.network) });
    if (!started.ok) return started;
    const t = started.value;
    try {
      const topo = describeTopology(scenario, t);
      if (!topo.ok) return topo;
      topologies.push(topo.value);
      for (const p of packets.filter((x) => x.scenario === scenario)) {
        const r = tracePacket(t, topo.value, p);
        if (!r.ok) return r;
        records.push(r.value);
      }
    } finally {
      t.stop();
    }
  }
  const byName = new Map(records.map((r) => [r.name, r]));
  return ok({ ovs: versionOf("ovs-vswitchd"), ovn: versionOf("ovn-controller"), notes: NOTES, topologies, packets: packets.map((p) => byName.get(p.name)!) });
}

/** Splits at commas outside parentheses. */
function topLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * A packet's passes (and datapath flows) with every run-dependent number replaced by a name:
 * recirculation ids by their order of appearance (`#1`), ct zones by zone name, OpenFlow and
 * datapath port numbers by interface/LSP name, geneve VNI and option port keys by datapath and
 * port names, rule cookies and upcall pids by `*`. Two runs of the same OVS/OVN on the same
 * topology give equal results.
 */
export function normalizePasses(p: PacketRecord, topo: TopologyRecord): { passes: string[]; datapathFlows: string[] } {
  const recirc = new Map<string, string>();
  const rid = (hex: string): string => {
    if (/^0x0*$|^0$/.test(hex)) return "0";
    const k = hex.toLowerCase();
    if (!recirc.has(k)) recirc.set(k, `#${recirc.size + 1}`);
    return recirc.get(k)!;
  };
  const zoneName = new Map(Object.entries(topo.ctZones).map(([k, v]) => [v, k]));
  const ofName = new Map(topo.ports.map((x) => [x.ofport, x.lsp ?? x.name]));
  const odpName = new Map<number, string>(Object.entries(topo.datapathPorts).map(([k, v]) => [v, k]));
  for (const x of topo.ports) if (x.odpPort !== undefined && x.lsp !== undefined) odpName.set(x.odpPort, x.lsp);
  const dpByKey = new Map(Object.entries(topo.tunnelKeys.datapaths).map(([k, v]) => [v, k]));
  const portByKey = new Map(Object.entries(topo.tunnelKeys.ports).map(([k, v]) => [v, k]));
  const common = (s: string): string =>
    s
      .replace(/recirc_id([=(])(0x[0-9a-f]+|\d+)/g, (_m, sep: string, n: string) => `recirc_id${sep}${rid(n.startsWith("0x") ? n : `0x${Number(n).toString(16)}`)}`)
      .replace(/recirc\((0x[0-9a-f]+)\)/g, (_m, h: string) => `recirc(${rid(h)})`)
      .replace(/\b(ct_zone|zone)([=(])(\d+)/g, (_m, k: string, sep: string, n: string) => `${k}${sep}${zoneName.get(Number(n)) ?? `?${n}`}`)
      .replace(/rule_cookie=0x[0-9a-f]+/g, "rule_cookie=*")
      .replace(/cookie=0x[0-9a-f]+/g, "cookie=*")
      .replace(/pid=\d+/g, "pid=*")
      .replace(/vni=0x([0-9a-f]+)/g, (_m, h: string) => `vni=${dpByKey.get(parseInt(h, 16)) ?? `?${h}`}`)
      .replace(/(len=4,)0x([0-9a-f]+)/g, (_m, pre: string, h: string) => {
        const v = parseInt(h, 16);
        return `${pre}${portByKey.get((v >>> 16) & 0x7fff) ?? "?"}>${portByKey.get(v & 0xffff) ?? "?"}`;
      })
      .replace(/out_port\((\d+)\)/g, (_m, n: string) => `out_port(${odpName.get(Number(n)) ?? `?${n}`})`)
      .replace(/tnl_port\((\d+)\)/g, (_m, n: string) => `tnl_port(${odpName.get(Number(n)) ?? n})`);
  const megaflow = (s: string): string => common(s).replace(/\bin_port=(\d+)/g, (_m, n: string) => `in_port=${ofName.get(Number(n)) ?? `?${n}`}`);
  const actions = (s: string): string => {
    const body = common(s.replace(/^Datapath actions:\s*/, ""));
    return "Datapath actions: " + topLevel(body).map((tok) => (/^\d+$/.test(tok) ? `out:${odpName.get(Number(tok)) ?? `?${tok}`}` : tok)).join(",");
  };
  const passes = p.passes.map((x) => `${megaflow(x.megaflow)}\n${actions(x.actions)}`);
  const datapathFlows = p.datapathFlows
    .map((l) => {
      const i = l.indexOf(" actions:");
      const match = common(l.slice(0, i < 0 ? l.length : i)).replace(/\bin_port\((\d+)\)/g, (_m, n: string) => `in_port(${odpName.get(Number(n)) ?? `?${n}`})`);
      return i < 0 ? match : `${match} ${actions(l.slice(i + " actions:".length)).replace("Datapath actions: ", "actions:")}`;
    })
    .sort();
  return { passes, datapathFlows };
}

/** Checks a recording's shape; the list of problems (empty when well formed). */
export function checkRecordingShape(rec: MegaflowRecording): string[] {
  const problems: string[] = [];
  for (const p of rec.packets) {
    const topo = rec.topologies.find((t) => t.scenario === p.scenario);
    if (!topo) {
      problems.push(`${p.name}: no topology for ${p.scenario}`);
      continue;
    }
    const vif = topo.ports.find((x) => x.lsp === p.inport);
    if (!vif) problems.push(`${p.name}: ${p.inport} is not among the recorded ports`);
    if (p.passes.length === 0) problems.push(`${p.name}: no passes`);
    const announced = new Set<string>();
    p.passes.forEach((pass, i) => {
      const mf = parseFlowFields(pass.megaflow);
      if (!mf.ok) {
        problems.push(`${p.name} pass ${i}: megaflow does not parse: ${mf.diags.map(formatDiagnostic).join("; ")}`);
        return;
      }
      const r = mf.value.fields.get("recirc_id")?.value;
      if (i === 0 && r !== "0") problems.push(`${p.name}: the first pass has recirc_id=${r}, not 0`);
      if (i > 0 && (r === undefined || !announced.has(r))) problems.push(`${p.name} pass ${i}: recirc_id=${r} was not announced by an earlier pass's recirc(...)`);
      // A pass resumed inside a later logical datapath was frozen after OVN set in_port to ANY
      // (so the packet may leave by the port it came in on); OVS prints that frozen value.
      const inPort = mf.value.fields.get("in_port")?.value;
      if (vif && inPort !== String(vif.ofport) && !(i > 0 && inPort === "ANY")) problems.push(`${p.name} pass ${i}: in_port is ${mf.value.fields.get("in_port")?.value}, not ${p.inport}'s ofport ${vif.ofport}`);
      if (!pass.actions.startsWith("Datapath actions: ")) problems.push(`${p.name} pass ${i}: not a Datapath actions line`);
      for (const m of pass.actions.matchAll(/recirc\((0x[0-9a-f]+)\)/g)) announced.add(m[1]!);
    });
    const lastActions = p.passes[p.passes.length - 1]?.actions ?? "";
    if (/recirc\(0x[0-9a-f]+\)$/.test(lastActions)) problems.push(`${p.name}: the last pass still recirculates (${lastActions})`);
  }
  return problems;
}

function main(): number {
  const record = process.argv.includes("--record");
  const r = recordMegaflows();
  if (!r.ok) {
    for (const d of r.diags) console.error(formatDiagnostic(d));
    return 2;
  }
  for (const p of r.value.packets) {
    console.log(`\n== ${p.name} (${p.scenario}): ${p.ovsFlow}`);
    for (const x of p.passes) console.log(`${x.recircId ? `[recirc ${x.recircId}${x.ctState ? ` ct_state=${x.ctState}` : ""}${x.dpHash ? ` dp_hash=${x.dpHash}` : ""}] ` : ""}${x.megaflow}\n    ${x.actions}`);
  }
  if (record) {
    mkdirSync(dirname(RECORDING), { recursive: true });
    const tmp = `${RECORDING}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(r.value, null, 2) + "\n");
    renameSync(tmp, RECORDING);
    console.log(`\nwrote ${RECORDING}`);
    return 0;
  }
  if (!existsSync(RECORDING)) {
    console.error(`no recording at ${RECORDING}: run with --record`);
    return 1;
  }
  const was = JSON.parse(readFileSync(RECORDING, "utf8")) as MegaflowRecording;
  const diffs = compareRecordings(was, r.value);
  for (const d of diffs) console.error(d);
  console.log(diffs.length === 0 ? "\nthe recording is what real OVS says now" : `\n${diffs.length} difference(s) from the recording`);
  return diffs.length === 0 ? 0 : 1;
}

/** Differences between two recordings after normalization (empty when they agree). */
export function compareRecordings(was: MegaflowRecording, now: MegaflowRecording): string[] {
  const out: string[] = [];
  for (const p of now.packets) {
    const old = was.packets.find((x) => x.name === p.name);
    const oldTopo = was.topologies.find((t) => t.scenario === old?.scenario);
    const topo = now.topologies.find((t) => t.scenario === p.scenario)!;
    if (!old || !oldTopo) {
      out.push(`${p.name}: not in the recording`);
      continue;
    }
    const a = normalizePasses(old, oldTopo);
    const b = normalizePasses(p, topo);
    const n = Math.max(a.passes.length, b.passes.length);
    for (let i = 0; i < n; i++) if (a.passes[i] !== b.passes[i]) out.push(`${p.name} pass ${i}:\n  recorded: ${a.passes[i] ?? "(none)"}\n  now:      ${b.passes[i] ?? "(none)"}`);
    if (a.datapathFlows.join("\n") !== b.datapathFlows.join("\n")) out.push(`${p.name} datapath flows:\n  recorded: ${a.datapathFlows.join("\n            ")}\n  now:      ${b.datapathFlows.join("\n            ")}`);
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
