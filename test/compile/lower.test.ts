/**
 * The stage table, `parseLflowDump` on recorded `ovn-sbctl lflow-list` output, and
 * `lowerLogicalFlows`: structure, provenance, diagnostics, and the lowered rules against their
 * slow twin (each flow's match evaluated directly with `expr`'s evaluator) on many keys.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { STAGES, lowerLogicalFlows, parseLflowDump, pipelineStages, stageAt, stageByName, stageTable, type DatapathInput, type LflowDumpDatapath, type LowerInput } from "../../src/compile/index.js";
import { evaluate, parseExpr, type Expr, type NormalizeContext } from "../../src/expr/index.js";
import { field, matchesKey, newKey, setField } from "../../src/flow/index.js";
import type { LogicalPort, MulticastGroup } from "../../src/ofp/index.js";

const ACTIONS = resolve(import.meta.dirname, "../../fixtures/compile/actions");
const OVN = resolve(import.meta.dirname, "../../fixtures/ovn");

describe("stages", () => {
  it("number each pipeline 0, 1, 2, ... with unique, correctly prefixed names", () => {
    expect(new Set(STAGES.map((s) => s.name)).size).toBe(STAGES.length);
    for (const dp of ["switch", "router"] as const) {
      for (const pl of ["ingress", "egress"] as const) {
        const st = pipelineStages(dp, pl);
        expect(st.map((s) => s.table)).toEqual(st.map((_, i) => i));
        const prefix = `${dp === "switch" ? "ls" : "lr"}_${pl === "ingress" ? "in" : "out"}_`;
        for (const s of st) expect(s.name.startsWith(prefix)).toBe(true);
      }
    }
  });
  it("has OVN 23.03's landmarks", () => {
    expect(stageTable("ls_in_check_port_sec")).toBe(0);
    expect(stageTable("ls_in_acl")).toBe(8);
    expect(stageTable("ls_in_l2_lkup")).toBe(25);
    expect(stageTable("ls_in_l2_unknown")).toBe(26);
    expect(stageTable("ls_out_apply_port_sec")).toBe(9);
    expect(stageTable("lr_in_arp_request")).toBe(21);
    expect(stageTable("lr_out_delivery")).toBe(6);
    expect(stageAt("switch", "egress", 4)?.name).toBe("ls_out_acl");
    expect(stageByName("ls_in_nope")).toBeUndefined();
  });
});

function readNames(name: string): { ports: Map<string, number>; sets: Map<string, string[]> } {
  const ports = new Map<string, number>();
  const sets = new Map<string, string[]>();
  for (const line of readFileSync(resolve(OVN, `lflows-${name}.txt`), "utf8").split("\n")) {
    const [kind, n, ...rest] = line.split(" ");
    if (kind === "%port") ports.set(n!, Number(rest[0]));
    if (kind === "%set") sets.set(n!, rest);
  }
  return { ports, sets };
}

function inputFromDump(name: string): { input: LowerInput; dump: LflowDumpDatapath[]; ctx: NormalizeContext } {
  const text = readFileSync(resolve(ACTIONS, `lflow-list-${name}.txt`), "utf8");
  const d = parseLflowDump(text);
  if (!d.ok) throw new Error(d.diags[0]!.message);
  const { ports, sets } = readNames(name);
  const datapaths: DatapathInput[] = d.value.map((dp, i) => {
    const lp: LogicalPort[] = [];
    const mc: MulticastGroup[] = [];
    for (const [n, k] of ports) {
      if (k >= 32768) mc.push({ name: n, key: k, ports: [] });
      else lp.push({ name: n, key: k, type: "", datapath: i + 1 });
    }
    return { key: i + 1, name: dp.name, kind: dp.kind ?? "switch", ports: lp, multicast: mc, flows: dp.flows };
  });
  // As on the chassis that hosts every port (gateway flows test `is_chassis_resident`).
  const ctx: NormalizeContext = { portKey: (n) => ports.get(n), addressSet: (n) => sets.get(n), isChassisResident: () => true };
  return { input: { datapaths, addressSet: (n) => sets.get(n), isChassisResident: () => true }, dump: d.value, ctx };
}

describe("parseLflowDump", () => {
  it.each(["lb", "router"])("reads every flow of the recorded %s dump", (name) => {
    const text = readFileSync(resolve(ACTIONS, `lflow-list-${name}.txt`), "utf8");
    const d = parseLflowDump(text);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const flowLines = text.split("\n").filter((l) => /^\s+table=/.test(l)).length;
    const headers = new Set(text.split("\n").filter((l) => l.startsWith("Datapath:")).map((l) => /"([^"]*)"/.exec(l)![1]));
    expect(d.value.reduce((n, dp) => n + dp.flows.length, 0)).toBe(flowLines);
    expect(d.value.map((dp) => dp.name).sort()).toEqual([...headers].sort());
    for (const dp of d.value) {
      expect(dp.kind).toBeDefined();
      for (const f of dp.flows) {
        expect(typeof f.table).toBe("string");
        expect(stageByName(f.table as string)?.datapath).toBe(dp.kind);
      }
    }
  });
  it("parses a hand-written dump exactly", () => {
    const d = parseLflowDump(
      'Datapath: "ls1" (0b6f0cc5-0f9f-4a7a-9d4b-2c3f4e5a6b7c)  Pipeline: ingress\n' +
        "  table=8 (ls_in_acl          ), priority=2002 , match=(inport == \"p1\" && (ip4.dst == 10.0.0.1)), action=(reg0[1] = 1; next;)\n" +
        'Datapath: "ls1" (0b6f0cc5-0f9f-4a7a-9d4b-2c3f4e5a6b7c)  Pipeline: egress\n' +
        "  table=9 (ls_out_apply_port_sec), priority=0    , match=(1), action=(output;)\n",
    );
    expect(d.ok && d.value).toEqual([
      {
        name: "ls1",
        uuid: "0b6f0cc5-0f9f-4a7a-9d4b-2c3f4e5a6b7c",
        kind: "switch",
        flows: [
          { pipeline: "ingress", table: "ls_in_acl", priority: 2002, match: 'inport == "p1" && (ip4.dst == 10.0.0.1)', actions: "reg0[1] = 1; next;", source: "ovn-northd" },
          { pipeline: "egress", table: "ls_out_apply_port_sec", priority: 0, match: "1", actions: "output;", source: "ovn-northd" },
        ],
      },
    ]);
  });
  it("reports lines it cannot read, with their line numbers", () => {
    const d = parseLflowDump("  table=0 (ls_in_check_port_sec), priority=0 , match=(1), action=(next;)\nhello\n");
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.diags.map((x) => [x.code, x.loc?.line])).toEqual([
      ["lflow-dump.no-datapath", 1],
      ["lflow-dump.syntax", 2],
    ]);
  });
});

/** Keys that exercise the fields the recorded flows test. */
function* keys(n: number, seed: number): Generator<Uint32Array> {
  let s = seed >>> 0;
  const rnd = (m: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % m;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  for (let i = 0; i < n; i++) {
    const k = newKey();
    const et = pick([0x800, 0x86dd, 0x806, 0x800, 0x800]);
    setField(k, field("eth_type"), et);
    setField(k, field("nw_proto"), pick([6, 17, 1, 58, 2, 0]));
    setField(k, field("nw_dst"), pick([0x0a020064, 0x0a0200c8, 0x0a02000b, 0x0a02000c, rnd(0xffffffff)]));
    setField(k, field("nw_src"), pick([0x0a02000b, 0x0a02000c, rnd(0xffffffff)]));
    setField(k, field("tp_dst"), pick([80, 53, 135, 136, rnd(65536)]));
    setField(k, field("tp_src"), pick([0, 135, 136, rnd(65536)]));
    setField(k, field("nw_ttl"), pick([255, 64]));
    setField(k, field("reg14"), pick([1, 2, 3, 32768]));
    setField(k, field("reg15"), pick([1, 2, 3, 32768]));
    setField(k, field("reg0"), rnd(0xffffffff) & pick([0, 0xffffffff, 0x4, 0x40, 0x1000, 0x8000]));
    setField(k, field("reg9"), rnd(16));
    setField(k, field("reg10"), rnd(4));
    setField(k, field("ct_state"), pick([0, 0x21, 0x22, 0x24, 0x2a, 0x30, rnd(256)]));
    setField(k, field("ct_mark"), rnd(4));
    const mac = pick([0x0000000022, 0x0, 0xffffffff, 0x00000001]);
    setField(k, field("eth_dst"), 0);
    k[field("eth_dst").word + 1] = mac >>> 0;
    k[field("eth_dst").word] = pick([0, 0xffff, 0x0100, 0x3333]);
    yield k;
  }
}

describe("lowerLogicalFlows", () => {
  it.each(["lb", "router"])("lowers the recorded %s dump into stage tables with provenance", (name) => {
    const { input, dump } = inputFromDump(name);
    const r = lowerLogicalFlows(input);
    expect(r.ok ? "" : r.diags.slice(0, 3).map((d) => d.message).join("; ")).toBe("");
    if (!r.ok) return;
    for (const dp of dump) {
      const ldp = r.value.datapaths.get(r.value.datapathByName.get(dp.name)!)!;
      for (const pl of ["ingress", "egress"] as const) {
        const stages = pipelineStages(ldp.kind, pl);
        expect(ldp.stageNames[pl]).toEqual(stages.map((s) => s.name));
        const prog = ldp[pl];
        expect(prog.tables.map((t) => t.name)).toEqual(stages.map((s) => s.name));
        for (const t of prog.tables) for (const rule of t.rules) expect(rule.provenance.stage).toBe(t.name);
        const flows = dp.flows.filter((f) => f.pipeline === pl);
        const texts = new Set(prog.tables.flatMap((t) => t.rules.map((x) => `${x.provenance.stage}|${x.priority}|${x.provenance.matchText}|${x.provenance.actionText}`)));
        // Every flow that can match something is there, with its text.
        const flowTexts = new Set(flows.map((f) => `${String(f.table)}|${f.priority}|${f.match}|${f.actions}`));
        for (const t of texts) expect(flowTexts.has(t)).toBe(true);
        expect(texts.size).toBeGreaterThan(flowTexts.size * 0.8);
      }
    }
  });

  it.each(["lb", "router"])("agrees with direct evaluation of each flow's match on many keys (the %s dump)", (name) => {
    const { input, dump, ctx } = inputFromDump(name);
    const r = lowerLogicalFlows(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const parsed = new Map<string, Expr>();
    let checked = 0;
    let hits = 0;
    for (const dp of dump) {
      const ldp = r.value.datapaths.get(r.value.datapathByName.get(dp.name)!)!;
      for (const key of keys(300, 7)) {
        for (const pl of ["ingress", "egress"] as const) {
          for (const t of ldp[pl].tables) {
            // Fast: the best priority among lowered rules that match, and the flows behind them.
            let best = -1;
            let bestSet = new Set<string>();
            for (const rule of t.rules) {
              if (!matchesKey(rule.match, key)) continue;
              const id = `${rule.provenance.matchText}|${rule.provenance.actionText}`;
              if (rule.priority > best) {
                best = rule.priority;
                bestSet = new Set([id]);
              } else if (rule.priority === best) bestSet.add(id);
            }
            // Slow: evaluate every flow's match text directly.
            let sBest = -1;
            let sSet = new Set<string>();
            for (const f of dp.flows) {
              if (f.pipeline !== pl || f.table !== t.name) continue;
              let e = parsed.get(f.match);
              if (!e) {
                const p = parseExpr(f.match);
                if (!p.ok) throw new Error(p.diags[0]!.message);
                e = p.value;
                parsed.set(f.match, e);
              }
              const v = evaluate(e, key, ctx);
              if (!v.ok || !v.value) continue;
              const id = `${f.match}|${f.actions}`;
              if (f.priority > sBest) {
                sBest = f.priority;
                sSet = new Set([id]);
              } else if (f.priority === sBest) sSet.add(id);
            }
            expect([t.name, best, [...bestSet].sort()]).toEqual([t.name, sBest, [...sSet].sort()]);
            checked++;
            if (best > 0) hits++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(hits).toBeGreaterThan(checked / 20);
  });

  it("takes flows that name their stage, and drops flows that cannot match", () => {
    const r = lowerLogicalFlows({
      datapaths: [
        {
          key: 7,
          name: "ls1",
          kind: "switch",
          ports: [{ name: "p1", key: 1, type: "", datapath: 7 }],
          multicast: [{ name: "_MC_flood", key: 32768, ports: [1] }],
          flows: [
            { pipeline: "ingress", stage: "ls_in_acl", priority: 100, match: 'inport == "p1" && tcp.dst == {80, 443}', actions: 'outport = "_MC_flood"; output;', origin: "switches[ls1].acls[0]", source: "compile/switch.ts:acl" },
            { pipeline: "ingress", table: 8, priority: 50, match: "ip4 && ip6", actions: "drop;", source: "t" },
            { pipeline: "egress", table: "ls_out_acl", priority: 0, match: "1", actions: "next;", source: "t" },
          ],
        },
      ],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const dp = r.value.datapaths.get(7)!;
    const acl = dp.ingress.byId[8]!;
    // tcp needs ip (ip4 or ip6), times two ports: four matches; `ip4 && ip6` none.
    expect(acl.rules.length).toBe(4);
    expect(acl.rules.every((x) => x.priority === 100 && x.provenance.origin === "switches[ls1].acls[0]" && x.provenance.source === "compile/switch.ts:acl")).toBe(true);
    expect(acl.rules[0]!.actions).toEqual([{ kind: "load", dst: { field: field("reg15"), ofs: 0, nbits: 32 }, value: [32768] }, { kind: "output", to: { kind: "outport" } }]);
    expect(dp.egress.byId[4]!.rules.length).toBe(1);
    expect(r.value.portByName.get("p1")?.key).toBe(1);
    expect(r.value.datapathByName.get("ls1")).toBe(7);
  });

  it("reports every bad flow with its path", () => {
    const r = lowerLogicalFlows({
      datapaths: [
        {
          key: 1,
          name: "ls1",
          kind: "switch",
          ports: [],
          multicast: [],
          flows: [
            { pipeline: "ingress", table: 0, priority: 1, match: "ip4 &&", actions: "next;", source: "t" },
            { pipeline: "ingress", table: 0, priority: 1, match: "1", actions: "nxt;", source: "t", origin: "switches[ls1].acls[3]" },
            { pipeline: "ingress", table: "lr_in_admission", priority: 1, match: "1", actions: "next;", source: "t" },
            { pipeline: "egress", table: 0, priority: 70000, match: "1", actions: "next;", source: "t" },
            { pipeline: "egress", table: 0, priority: 1, match: "1", actions: "next;", source: "t" },
          ],
        },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags.map((d) => d.path)).toEqual([0, 1, 2, 3].map((i) => ["datapaths[ls1]", "flows", i]));
    expect(r.diags[1]!.message).toBe("Syntax error at `nxt' expecting action.");
    expect(r.diags[1]!.notes).toEqual(["from switches[ls1].acls[3]"]);
    expect(r.diags[1]!.loc?.column).toBe(1);
    expect(r.diags.map((d) => d.code).slice(2)).toEqual(["lower.unknown-stage", "lower.bad-priority"]);
  });
});

describe("lowerLogicalFlows: flow texts shared between datapaths", () => {
  it("each datapath's rules are what its own ports make of the text, however many datapaths share it", () => {
    // The same flows on six switches; port "a" has a different key (or none) on some of them.
    const keysOf = [
      [1, 2],
      [1, 2],
      [2, 1],
      [5, 2],
      [undefined, 2],
      [1, 2],
    ] as const;
    const flows = [
      { pipeline: "ingress" as const, stage: "ls_in_l2_lkup", priority: 50, match: 'eth.dst == 00:00:00:00:00:01 && inport == "a"', actions: 'outport = "a"; output;', source: "test" },
      { pipeline: "ingress" as const, stage: "ls_in_acl", priority: 1000, match: "outport == @pg && ip4.src == $as", actions: "reg0[1] = 1; next;", source: "test" },
      { pipeline: "egress" as const, stage: "ls_out_acl", priority: 1000, match: 'outport == "b" && ip4', actions: 'outport = "b"; next;', source: "test" },
    ];
    const datapaths: DatapathInput[] = keysOf.map(([a, b], i) => ({
      key: i + 1,
      name: `ls${i}`,
      kind: "switch",
      ports: [
        ...(a === undefined ? [] : [{ name: "a", key: a, type: "" as const, datapath: i + 1 }]),
        { name: "b", key: b, type: "", datapath: i + 1 },
        { name: `own${i}`, key: 7, type: "", datapath: i + 1 },
      ],
      multicast: [],
      flows,
    }));
    const sets: Record<string, string[]> = { as: ["10.0.0.1", "10.0.0.2", "10.0.0.3"] };
    const groups: Record<string, string[]> = { pg: ["a", ...keysOf.map((_, i) => `own${i}`)] };
    const input: LowerInput = { datapaths, addressSet: (n) => sets[n], portGroup: (n) => groups[n] };
    const all = lowerLogicalFlows(input);
    expect(all.ok ? [] : all.diags.map((d) => d.message)).toEqual([]);
    if (!all.ok) return;
    // Slow twin: each datapath lowered alone, so nothing can be shared with another.
    for (const dp of datapaths) {
      const alone = lowerLogicalFlows({ ...input, datapaths: [dp] });
      expect(alone.ok).toBe(true);
      if (!alone.ok) return;
      const shared = all.value.datapaths.get(dp.key)!;
      const own = alone.value.datapaths.get(dp.key)!;
      for (const pl of ["ingress", "egress"] as const) {
        const plain = (p: typeof shared.ingress): unknown =>
          p.tables.map((t) => t.rules.map((r) => ({ priority: r.priority, value: [...r.match.value], mask: [...r.match.mask], actions: r.actions, provenance: r.provenance })));
        expect(plain(shared[pl]), `${dp.name} ${pl}`).toEqual(plain(own[pl]));
      }
    }
    // The datapaths really differ: "a" has key 1 on ls0 and 2 on ls2, none on ls4.
    const l2 = (i: number): readonly unknown[] => all.value.datapaths.get(i + 1)!.ingress.tables[stageTable("ls_in_l2_lkup")!]!.rules.map((r) => r.actions);
    expect(l2(0)).not.toEqual(l2(2));
    expect(l2(0)).toEqual(l2(1));
    const acl = (i: number): number => all.value.datapaths.get(i + 1)!.ingress.tables[stageTable("ls_in_acl")!]!.rules.length;
    expect([0, 1, 2, 3, 4, 5].map(acl)).toEqual([6, 6, 6, 6, 3, 6]);
  });
});
