/**
 * Helpers for dataplane tests: hand-built logical programs from small rule descriptions.
 */
import { catchAll, constrainField, constrainWide, field, newKey, setField, W, LAYOUT_VERSION, type Match } from "../../src/flow/index.js";
import { makeProgram, makeRule, makeTable, type Action, type LogicalDatapath, type LogicalPort, type LogicalProgram, type MulticastGroup, type Rule } from "../../src/ofp/index.js";

export interface RuleSpec {
  readonly table: number;
  readonly priority: number;
  /** Field name → value (fields of at most 32 bits), or [words] for wide fields. */
  readonly match?: Readonly<Record<string, number | readonly number[]>>;
  readonly actions: readonly Action[];
  readonly stage?: string;
  readonly origin?: string;
}

let nextRuleId = 1;

export function matchOf(spec: Readonly<Record<string, number | readonly number[]>> = {}): Match {
  const m = catchAll();
  for (const [name, v] of Object.entries(spec)) {
    const d = field(name);
    if (typeof v === "number") constrainField(m, d, v, 0xffffffff);
    else constrainWide(m, d, v, v.map(() => 0xffffffff));
  }
  return m;
}

function buildProgram(name: string, specs: readonly RuleSpec[], nTables: number) {
  const rules: Rule[][] = Array.from({ length: nTables }, () => []);
  for (const s of specs) {
    rules[s.table]!.push(
      makeRule({
        id: nextRuleId++,
        table: s.table,
        priority: s.priority,
        match: matchOf(s.match),
        actions: s.actions,
        provenance: { source: "test", ...(s.stage ? { stage: s.stage } : {}), ...(s.origin ? { origin: s.origin } : {}) },
      }),
    );
  }
  const tables = rules.map((rs, i) => makeTable({ id: i, name: `${name}_t${i}`, rules: rs }));
  const p = makeProgram(tables, { name, level: "logical", layoutVersion: LAYOUT_VERSION });
  if (!p.ok) throw new Error(p.diags.map((d) => d.message).join("; "));
  return p.value;
}

export interface DpSpec {
  readonly key: number;
  readonly name: string;
  readonly kind?: "switch" | "router";
  readonly ports: readonly Omit<LogicalPort, "datapath">[];
  readonly multicast?: readonly MulticastGroup[];
  readonly ingress: readonly RuleSpec[];
  readonly egress: readonly RuleSpec[];
  readonly tables?: number;
}

export function makeLogicalProgram(dps: readonly DpSpec[]): LogicalProgram {
  const datapaths = new Map<number, LogicalDatapath>();
  const datapathByName = new Map<string, number>();
  const portByName = new Map<string, LogicalPort>();
  for (const d of dps) {
    const n = d.tables ?? Math.max(1, ...d.ingress.map((r) => r.table + 1), ...d.egress.map((r) => r.table + 1));
    const ports = new Map<number, LogicalPort>();
    for (const p of d.ports) {
      const lp: LogicalPort = { ...p, datapath: d.key };
      ports.set(p.key, lp);
      portByName.set(p.name, lp);
    }
    datapaths.set(d.key, {
      key: d.key,
      name: d.name,
      kind: d.kind ?? "switch",
      ingress: buildProgram(`${d.name} ingress`, d.ingress, n),
      egress: buildProgram(`${d.name} egress`, d.egress, n),
      ports,
      multicast: new Map((d.multicast ?? []).map((g) => [g.key, g])),
      stageNames: { ingress: Array.from({ length: n }, (_, i) => `in_${i}`), egress: Array.from({ length: n }, (_, i) => `out_${i}`) },
    });
    datapathByName.set(d.name, d.key);
  }
  return { datapaths, datapathByName, portByName };
}

// Action shorthands.
export const next = (table?: number): Action => (table === undefined ? { kind: "next" } : { kind: "next", table });
export const output: Action = { kind: "output", to: { kind: "outport" } };
export const setOutport = (port: number): Action => ({ kind: "load", dst: { field: field("reg15"), ofs: 0, nbits: 32 }, value: [port] });
export const setReg = (reg: number, v: number): Action => ({ kind: "load", dst: { field: field(`reg${reg}`), ofs: 0, nbits: 32 }, value: [v] });

/** A TCP/IPv4 packet key. */
export function tcpKey(src: number, dst: number, sport: number, dport: number, proto = 6): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), proto);
  setField(k, field("nw_ttl"), 64);
  k[W.NW_SRC] = src >>> 0;
  k[W.NW_DST] = dst >>> 0;
  setField(k, field("tp_src"), sport);
  setField(k, field("tp_dst"), dport);
  k[W.ETH_SRC] = 0x0a00;
  k[W.ETH_SRC + 1] = src >>> 0;
  k[W.ETH_DST] = 0x0a00;
  k[W.ETH_DST + 1] = dst >>> 0;
  return k;
}

export const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/**
 * A network (scenario YAML) of two pods on one switch and chassis, pod-a (10.16.0.10) and pod-b
 * (10.16.0.11), in a port group with the given ACLs (YAML flow mappings, one per line), which
 * make the switch stateful: every packet goes through conntrack.
 */
export function twoPodNetwork(name: string, acls: readonly string[]): string {
  return `
name: ${name}
chassis:
  - {name: node1, encaps: [{type: geneve, ip: 192.168.0.11}]}
switches:
  - name: ls
    otherConfig: {subnet: 10.16.0.0/16}
    ports:
      - {name: pod-a, addresses: ["00:00:00:16:00:0a 10.16.0.10"], chassis: node1}
      - {name: pod-b, addresses: ["00:00:00:16:00:0b 10.16.0.11"], chassis: node1}
portGroups:
  - name: all
    ports: [pod-a, pod-b]
    acls:
${acls.map((a) => `      - ${a}`).join("\n")}
`;
}
