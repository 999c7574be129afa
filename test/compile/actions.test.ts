/**
 * The action parser against a corpus of action strings with hand-written expectations
 * (fixtures/compile/actions/corpus.txt; OVN's tests/ovn.at "action parsing" layout: input
 * unindented, expectation indented), plus formatting round trips and hostile input.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatActions, parseActions, type ActionContext } from "../../src/compile/index.js";
import type { Action, Subfield, Words } from "../../src/ofp/index.js";

const CORPUS = resolve(import.meta.dirname, "../../fixtures/compile/actions/corpus.txt");
const PORTS = new Map([
  ["p1", 5],
  ["p2", 6],
  ["_MC_flood", 32768],
]);
const NAMES = new Map([...PORTS].map(([n, k]) => [k, n]));

function sub(s: Subfield): string {
  if (s.ofs === 0 && s.nbits === s.field.width) return s.field.name;
  return s.nbits === 1 ? `${s.field.name}[${s.ofs}]` : `${s.field.name}[${s.ofs}..${s.ofs + s.nbits - 1}]`;
}

function big(w: Words): bigint {
  return w.reduce((v, x) => (v << 32n) | BigInt(x), 0n);
}

function hex(w: Words | number): string {
  return "0x" + (typeof w === "number" ? w.toString(16) : big(w).toString(16));
}

function ip(w: Words): string {
  if (w.length === 1) return [24, 16, 8, 0].map((s) => (w[0]! >>> s) & 255).join(".");
  const groups: string[] = [];
  for (const x of w) groups.push(((x >>> 16) & 0xffff).toString(16), (x & 0xffff).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** A compact description of actions, independent of the formatter under test. */
function describeActions(actions: readonly Action[]): string {
  return actions.map(describeAction).join(", ");
}

function describeAction(a: Action): string {
  switch (a.kind) {
    case "load":
      return `load:${hex(a.value)}->${sub(a.dst)}`;
    case "move":
      return `move:${sub(a.src)}->${sub(a.dst)}`;
    case "exchange":
      return `exchange:${sub(a.a)}<->${sub(a.b)}`;
    case "stack":
      return `${a.push ? "push" : "pop"}:${sub(a.field)}`;
    case "next":
      return a.pipeline ? `next(${a.pipeline},${a.table})` : a.table === undefined ? "next" : `next(${a.table})`;
    case "output":
      return "output";
    case "drop":
      return "drop";
    case "dec_ttl":
      return "dec_ttl";
    case "ct_clear":
      return "ct_clear";
    case "ct": {
      const parts = [`zone=${a.zone.kind === "field" ? sub(a.zone.src) : a.zone.zone}`];
      if (a.commit) parts.push("commit");
      if (a.nat) parts.push(a.nat.kind === "restore" ? "nat" : `${a.nat.kind}=${a.nat.range ? ip(a.nat.range.ipMin) : ""}`);
      if (a.setMark) parts.push(`mark=${hex(a.setMark.value)}/${hex(a.setMark.mask)}`);
      if (a.setLabel) parts.push(`label=${hex(a.setLabel.value)}/${hex(a.setLabel.mask)}`);
      if (a.exec) parts.push(`exec=${describeActions(a.exec)}`);
      return `ct(${parts.join(",")})`;
    }
    case "ct_lb": {
      const parts = [`zone=${a.zone.kind === "field" ? sub(a.zone.src) : a.zone.zone}`];
      if (a.mark) parts.push("mark");
      parts.push(`backends=${a.backends.map((b) => ip(b.ip) + (b.port === undefined ? "" : `:${b.port}`)).join("|")}`);
      if (a.hashFields) parts.push(`hash=${a.hashFields.map((f) => f.name).join("|")}`);
      return `ct_lb(${parts.join(",")})`;
    }
    case "generate":
      return `generate:${a.packet}{${describeActions(a.actions)}}`;
    case "clone":
      return `clone{${describeActions(a.actions)}}`;
    case "call": {
      const args = a.args.map((x) => (x.kind === "field" ? sub(x.src) : x.kind === "value" ? hex(x.value) : x.name ? `${x.name}=${x.text}` : x.text));
      return `call:${a.fn}(${args.join(",")})${a.result ? `->${sub(a.result)}` : ""}`;
    }
    case "log":
      return `log(${(["name", "severity", "verdict", "meter"] as const).filter((k) => a[k] !== undefined).map((k) => `${k}=${a[k]}`).join(",")})`;
    default:
      return a.kind;
  }
}

interface Case {
  readonly line: number;
  readonly input: string;
  readonly expected: string;
  readonly router: boolean;
}

function readCorpus(): Case[] {
  const lines = readFileSync(CORPUS, "utf8").split("\n");
  const out: Case[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === "" || l.startsWith("#") || /^\s/.test(l)) continue;
    const exp = lines[i + 1];
    if (exp === undefined || !/^\s+\S/.test(exp)) throw new Error(`corpus line ${i + 1}: no expectation`);
    const router = l.startsWith("@router ");
    out.push({ line: i + 1, input: router ? l.slice(8) : l, expected: exp.trim(), router });
  }
  return out;
}

function ctxOf(c: Case): ActionContext {
  return { portKey: (n) => PORTS.get(n), datapath: c.router ? "router" : "switch" };
}

describe("action parsing corpus", () => {
  const cases = readCorpus();
  it("has cases", () => {
    expect(cases.length).toBeGreaterThan(80);
  });
  it.each(cases.map((c) => [`${c.line}: ${c.input}`, c] as const))("%s", (_, c) => {
    const r = parseActions(c.input, ctxOf(c));
    if (c.expected.startsWith("error: ")) {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const d = r.diags[0]!;
      expect(`error: ${d.loc?.column}: ${d.message}`).toBe(c.expected);
      expect(d.loc?.line).toBe(1);
      return;
    }
    expect(r.ok ? "" : r.diags[0]!.message).toBe("");
    if (!r.ok) return;
    expect(describeActions(r.value) || "(nothing)").toBe(c.expected);
    // Formatting reads back to the same actions.
    const text = formatActions(r.value, { portName: (k) => NAMES.get(k) });
    const back = parseActions(text, ctxOf(c));
    expect(back.ok ? describeActions(back.value) || "(nothing)" : back.diags[0]!.message).toBe(c.expected);
  });
});

describe("formatting", () => {
  it("prints OVN's words for what it parsed", () => {
    const r = parseActions('reg0[0] = 1; eth.dst <-> eth.src; outport = "p1"; ct_next;', { portKey: (n) => PORTS.get(n) });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(formatActions(r.value, { portName: (k) => NAMES.get(k) })).toBe('reg0[0] = 1; eth.dst <-> eth.src; outport = "p1"; ct_next;');
    expect(formatActions(r.value)).toBe('reg0[0] = 1; eth.dst <-> eth.src; outport = "#5"; ct_next;');
  });
  it("prints an empty action list as OVN's implicit drop", () => {
    expect(formatActions([])).toBe("/* drop */");
  });
});

describe("icmp4.frag_mtu and icmp6.frag_mtu", () => {
  it("are accepted inside a generated ICMP error, as a note that carries the MTU (the key has no MTU field)", () => {
    const r = parseActions("icmp4_error { icmp4.type = 3; icmp4.code = 4; icmp4.frag_mtu = 1400; output; };");
    expect(r.ok ? "" : r.diags[0]!.message).toBe("");
    if (!r.ok) return;
    const gen = r.value[0]!;
    expect(gen.kind).toBe("generate");
    if (gen.kind === "generate") expect(gen.actions.filter((a) => a.kind === "note")).toEqual([{ kind: "note", text: "icmp4.frag_mtu = 1400", icmpFragMtu: { v6: false, mtu: 1400 } }]);
    const r6 = parseActions("icmp6_error { icmp6.frag_mtu = 1280; output; };");
    if (r6.ok && r6.value[0]!.kind === "generate") expect(r6.value[0]!.actions[0]).toEqual({ kind: "note", text: "icmp6.frag_mtu = 1280", icmpFragMtu: { v6: true, mtu: 1280 } });
    else expect.unreachable("icmp6_error parses");
  });
  it("must be a 16-bit integer", () => {
    const r = parseActions("icmp6_error { icmp6.frag_mtu = 70000; output; };");
    expect(r.ok ? "" : r.diags[0]!.message).toBe("icmp6.frag_mtu must fit in 16 bits.");
  });
});

describe("hostile input", () => {
  it("limits nesting", () => {
    const r = parseActions("clone { ".repeat(40) + "output; };".repeat(40));
    expect(r.ok ? "" : r.diags[0]!.message).toBe("Actions nested more than 32 deep.");
  });
  const inputs = ["", ";", "{", "}", "next(", "next(pipeline=", 'outport = "', "reg0[", "reg0[1..", "ct_commit {", "ct_lb_mark(backends=", "clone { clone { clone {", "\u0000", "next; /*", "a".repeat(10_000), "{".repeat(5000), "clone {".repeat(2000), "clone { ".repeat(200_000)];
  it.each(inputs.map((s) => [JSON.stringify(s.slice(0, 30)), s] as const))("%s gives a result, never a throw", (_, s) => {
    const r = parseActions(s);
    if (!r.ok) {
      expect(r.diags[0]!.code).toBe("actions.syntax");
      expect(r.diags[0]!.loc?.column).toBeGreaterThan(0);
    }
  });
});
