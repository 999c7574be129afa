/**
 * A logical switch shaped like the one behind the real ovn-trace samples in trace.test.ts: `sw0`
 * with ports p1 (1), p2 (2), p3 (3) and `_MC_flood`, the stages, table numbers, sources and uuid
 * prefixes that ovn-northd 23.03 gave the flows those samples show, and filler `1 → next` rules
 * (which ovn-trace leaves out of its text) in between.
 */
import { CT, catchAll, constrainField, constrainWide, field, LAYOUT_VERSION, newKey, setField, W, type Match } from "../../src/flow/index.js";
import { makeProgram, makeRule, makeTable, type Action, type LogicalDatapath, type LogicalPort, type LogicalProgram, type Pipeline, type Rule } from "../../src/ofp/index.js";

type MatchSpec = Readonly<Record<string, number | readonly [number, number] | readonly number[]>>;

export interface Flow {
  readonly table: number;
  readonly priority: number;
  readonly stage: string;
  readonly match: MatchSpec;
  readonly matchText: string;
  readonly actions: readonly Action[];
  readonly actionText: string;
  readonly source: string;
  readonly id: number;
  readonly origin?: string;
}

function matchOf(spec: MatchSpec): Match {
  const m = catchAll();
  for (const [name, v] of Object.entries(spec)) {
    const d = field(name);
    if (typeof v === "number") constrainField(m, d, v, 0xffffffff);
    else if (d.nwords === 1) constrainField(m, d, v[0]!, v[1]!);
    else constrainWide(m, d, v, v.map(() => 0xffffffff));
  }
  return m;
}

const bit = (reg: number, ofs: number, nbits = 1) => ({ field: field(`reg${reg}`), ofs, nbits });
const load = (reg: number, ofs: number, nbits: number, v: number): Action => ({ kind: "load", dst: bit(reg, ofs, nbits), value: [v] });
const call = (fn: string, reg: number, ofs: number): Action => ({ kind: "call", fn, args: [], result: bit(reg, ofs), text: `reg${reg}[${ofs}] = ${fn}();` });
export const next: Action = { kind: "next" };
export const output: Action = { kind: "output", to: { kind: "outport" } };
/**
 * OVN's `ct_lb_mark;` without backends as a recirculating conntrack action, so that the executor
 * takes one `--ct` state per use, as ovn-trace does; its text names it `ct_lb_mark`.
 */
const ctLb = (table: number): Action => ({ kind: "ct", zone: { kind: "const", zone: 1 }, commit: false, table });

export const MAC1 = [0, 1];
export const MAC2 = [0, 2];
export const MAC3 = [0, 3];
export const BCAST = [0xffff, 0xffffffff];
export const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
export const VIP = ip(10, 96, 0, 10);
const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;

let fillerId = 0x100;
const filler = (table: number, stage: string): Flow => ({ table, priority: 0, stage, match: {}, matchText: "1", actions: [next], actionText: "next;", source: "northd.c:1", id: fillerId++ });

export const INGRESS: readonly Flow[] = [
  { table: 0, priority: 50, stage: "ls_in_check_port_sec", match: {}, matchText: "1", actions: [call("check_in_port_sec", 0, 15), next], actionText: "reg0[15] = check_in_port_sec(); next;", source: "northd.c:8432", id: 0x652bac25 },
  filler(1, "ls_in_apply_port_sec"),
  filler(2, "ls_in_lookup_fdb"),
  filler(3, "ls_in_put_fdb"),
  { table: 4, priority: 100, stage: "ls_in_pre_acl", match: { eth_type: ETH_IP }, matchText: "ip", actions: [load(0, 0, 1, 1), next], actionText: "reg0[0] = 1; next;", source: "northd.c:5922", id: 0xf3265bd7 },
  filler(4, "ls_in_pre_acl"),
  { table: 5, priority: 100, stage: "ls_in_pre_lb", match: { eth_type: ETH_IP }, matchText: "ip", actions: [load(0, 2, 1, 1), next], actionText: "reg0[2] = 1; next;", source: "northd.c:6109", id: 0x79bb2bda },
  filler(5, "ls_in_pre_lb"),
  {
    table: 6,
    priority: 120,
    stage: "ls_in_pre_stateful",
    match: { reg0: [4, 4], eth_type: ETH_IP, nw_proto: 6, nw_dst: VIP, tp_dst: 80 },
    matchText: "reg0[2] == 1 && ip4.dst == 10.96.0.10 && tcp.dst == 80",
    actions: [load(1, 0, 32, VIP), load(2, 0, 16, 80), ctLb(7)],
    actionText: "reg1 = 10.96.0.10; reg2[0..15] = 80; ct_lb_mark;",
    source: "northd.c:7115",
    id: 0xe7c7d665,
  },
  { table: 6, priority: 110, stage: "ls_in_pre_stateful", match: { reg0: [4, 4] }, matchText: "reg0[2] == 1", actions: [ctLb(7)], actionText: "ct_lb_mark;", source: "northd.c:6133", id: 0x1a2b3c4d },
  filler(6, "ls_in_pre_stateful"),
  {
    table: 7,
    priority: 4,
    stage: "ls_in_acl_hint",
    match: { ct_state: [CT.EST, CT.NEW | CT.EST | CT.RPL] },
    matchText: "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0",
    actions: [load(0, 8, 1, 1), load(0, 10, 1, 1), next],
    actionText: "reg0[8] = 1; reg0[10] = 1; next;",
    source: "northd.c:6228",
    id: 0xac16279b,
  },
  filler(7, "ls_in_acl_hint"),
  { table: 8, priority: 2001, stage: "ls_in_acl", match: { reg0: [0x100, 0x100], eth_type: ETH_IP }, matchText: "reg0[8] == 1 && (ip4)", actions: [next], actionText: "next;", source: "northd.c:6470", id: 0x296fff31 },
  {
    table: 8,
    priority: 2000,
    stage: "ls_in_acl",
    match: { reg0: [0x100, 0x100], eth_type: ETH_ARP },
    matchText: "reg0[8] == 1 && arp",
    actions: [],
    actionText: "drop;",
    source: "northd.c:6500",
    id: 0xdeadbeef,
    origin: "acl[deny-arp]",
  },
  filler(8, "ls_in_acl"),
  ...[9, 10, 11, 12, 13].map((t) => filler(t, `ls_in_stage_${t}`)),
  {
    table: 14,
    priority: 100,
    stage: "ls_in_pre_hairpin",
    match: { eth_type: ETH_IP, ct_state: [CT.TRK, CT.TRK] },
    matchText: "ip && ct.trk",
    actions: [call("chk_lb_hairpin", 0, 6), call("chk_lb_hairpin_reply", 0, 12), next],
    actionText: "reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;",
    source: "northd.c:7633",
    id: 0xa0c6eea0,
  },
  filler(14, "ls_in_pre_hairpin"),
  ...[15, 16, 17, 18, 19, 20, 21, 22, 23, 24].map((t) => filler(t, `ls_in_stage_${t}`)),
  { table: 25, priority: 50, stage: "ls_in_l2_lkup", match: { eth_dst: MAC2 }, matchText: "eth.dst == 00:00:00:00:00:02", actions: [load(15, 0, 32, 2), output], actionText: 'outport = "p2"; output;', source: "northd.c:9122", id: 0xcd05e493 },
  { table: 25, priority: 50, stage: "ls_in_l2_lkup", match: { eth_dst: MAC1 }, matchText: "eth.dst == 00:00:00:00:00:01", actions: [load(15, 0, 32, 1), output], actionText: 'outport = "p1"; output;', source: "northd.c:9122", id: 0x11111111 },
  { table: 25, priority: 70, stage: "ls_in_l2_lkup", match: { eth_dst: BCAST }, matchText: "eth.mcast", actions: [load(15, 0, 32, 32768), output], actionText: 'outport = "_MC_flood"; output;', source: "northd.c:8980", id: 0x22222222 },
];

export const EGRESS: readonly Flow[] = [
  { table: 0, priority: 100, stage: "ls_out_pre_acl", match: { eth_type: ETH_IP }, matchText: "ip", actions: [load(0, 0, 1, 1), next], actionText: "reg0[0] = 1; next;", source: "northd.c:5924", id: 0x2c04b049 },
  filler(0, "ls_out_pre_acl"),
  { table: 1, priority: 100, stage: "ls_out_pre_lb", match: { eth_type: ETH_IP }, matchText: "ip", actions: [load(0, 2, 1, 1), next], actionText: "reg0[2] = 1; next;", source: "northd.c:6111", id: 0x7e25f6fb },
  filler(1, "ls_out_pre_lb"),
  { table: 2, priority: 110, stage: "ls_out_pre_stateful", match: { reg0: [4, 4] }, matchText: "reg0[2] == 1", actions: [ctLb(3)], actionText: "ct_lb_mark;", source: "northd.c:6135", id: 0x84d69a35 },
  filler(2, "ls_out_pre_stateful"),
  {
    table: 3,
    priority: 4,
    stage: "ls_out_acl_hint",
    match: { ct_state: [CT.EST, CT.NEW | CT.EST | CT.RPL] },
    matchText: "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0",
    actions: [load(0, 8, 1, 1), load(0, 10, 1, 1), next],
    actionText: "reg0[8] = 1; reg0[10] = 1; next;",
    source: "northd.c:6228",
    id: 0xa704106f,
  },
  filler(3, "ls_out_acl_hint"),
  ...[4, 5, 6, 7].map((t) => filler(t, `ls_out_stage_${t}`)),
  { table: 8, priority: 0, stage: "ls_out_check_port_sec", match: {}, matchText: "1", actions: [call("check_out_port_sec", 0, 15), next], actionText: "reg0[15] = check_out_port_sec(); next;", source: "northd.c:5772", id: 0xd40484aa },
  { table: 9, priority: 0, stage: "ls_out_apply_port_sec", match: {}, matchText: "1", actions: [output], actionText: "output;", source: "northd.c:5777", id: 0xbae53dce },
];

function pipelineProgram(name: string, pl: Pipeline, flows: readonly Flow[], n: number) {
  const rules: Rule[][] = Array.from({ length: n }, () => []);
  for (const f of flows) {
    rules[f.table]!.push(
      makeRule({
        id: f.id,
        table: f.table,
        priority: f.priority,
        match: matchOf(f.match),
        actions: f.actions,
        provenance: { source: f.source, stage: f.stage, matchText: f.matchText, actionText: f.actionText, ...(f.origin ? { origin: f.origin } : {}) },
      }),
    );
  }
  const p = makeProgram(
    rules.map((rs, i) => makeTable({ id: i, name: `${name}_${pl}_${i}`, rules: rs })),
    { name: `${name} ${pl}`, level: "logical", layoutVersion: LAYOUT_VERSION },
  );
  if (!p.ok) throw new Error(p.diags.map((d) => d.message).join("; "));
  return p.value;
}

/** The switch, with optional extra flows per pipeline. */
export function sw0(extra: { ingress?: readonly Flow[]; egress?: readonly Flow[] } = {}): LogicalProgram {
  const ing = [...INGRESS, ...(extra.ingress ?? [])];
  const egr = [...EGRESS, ...(extra.egress ?? [])];
  const ports = new Map<number, LogicalPort>(
    ["p1", "p2", "p3"].map((name, i) => [i + 1, { name, key: i + 1, type: "", datapath: 1 }] as const),
  );
  const stage = (flows: readonly Flow[], n: number) => Array.from({ length: n }, (_, t) => flows.find((f) => f.table === t)?.stage ?? `t${t}`);
  const dp: LogicalDatapath = {
    key: 1,
    name: "sw0",
    kind: "switch",
    ingress: pipelineProgram("sw0", "ingress", ing, 26),
    egress: pipelineProgram("sw0", "egress", egr, 10),
    ports,
    multicast: new Map([[32768, { name: "_MC_flood", key: 32768, ports: [1, 2, 3] }]]),
    stageNames: { ingress: stage(ing, 26), egress: stage(egr, 10) },
  };
  return { datapaths: new Map([[1, dp]]), datapathByName: new Map([["sw0", 1]]), portByName: new Map([...ports.values()].map((p) => [p.name, p])) };
}

/** A TCP packet from p1's MAC and 10.0.0.1 (source port 0, TTL 64), as the samples' microflows. */
export function tcpTo(dstMac: readonly number[], dst: number, dport: number): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), ETH_IP);
  setField(k, field("nw_proto"), 6);
  setField(k, field("nw_ttl"), 64);
  k[W.NW_SRC] = ip(10, 0, 0, 1);
  k[W.NW_DST] = dst;
  setField(k, field("tp_dst"), dport);
  k.set(MAC1, W.ETH_SRC);
  k.set(dstMac, W.ETH_DST);
  return k;
}

/** An ARP request from p1 for `tpa`. */
export function arpRequest(tpa: number): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), ETH_ARP);
  setField(k, field("nw_proto"), 1);
  k[W.NW_SRC] = ip(10, 0, 0, 1);
  k[W.NW_DST] = tpa;
  k.set(MAC1, W.ETH_SRC);
  k.set(BCAST, W.ETH_DST);
  k.set(MAC1, W.ARP_SHA);
  return k;
}
