/**
 * Action constructors and checks, rule freezing and normalization, and program invariants: each
 * broken invariant is a diagnostic with a code and a path, never an exception.
 */
import { describe, expect, it } from "vitest";
import { LAYOUT_VERSION, catchAll, field } from "../flow/index.js";
import {
  checkActions,
  checkRule,
  copyMatch,
  isNormalizedMatch,
  lintProgram,
  load,
  makeProgram,
  makeRule,
  makeTable,
  move,
  next,
  parseIpAddr,
  parseMacWords,
  resubmit,
  setField,
  subfield,
  toWords,
  type Action,
  type Rule,
} from "./index.js";

const meta = { name: "hv1", level: "physical", layoutVersion: LAYOUT_VERSION } as const;

function r(id: number, table: number, actions: Action[] = [], priority = 1): Rule {
  return makeRule({ id, table, priority, match: catchAll(), actions, provenance: { source: "test" } });
}

describe("action constructors and values", () => {
  it("convert numbers, bigints and words, right-aligned", () => {
    expect(toWords(5, 2)).toEqual([0, 5]);
    expect(toWords(0x1_0000_0002n, 2)).toEqual([1, 2]);
    expect(toWords(1n << 64n, 2)).toBeUndefined();
    expect(toWords([0, 0, 7], 1)).toEqual([7]);
    expect(toWords([1, 0, 7], 2)).toBeUndefined();
    expect(toWords(-1, 1)).toBeUndefined();
    expect(parseIpAddr("10.1.2.3")).toEqual([0x0a010203]);
    expect(parseIpAddr("fd00::1")).toEqual([0xfd000000, 0, 0, 1]);
    expect(parseIpAddr("10.1.2")).toBeUndefined();
    expect(parseMacWords("0a:0b:0c:0d:0e:0f")).toEqual([0x0a0b, 0x0c0d0e0f]);
  });

  it("build well-formed ops and refuse malformed ones (caller bugs)", () => {
    expect(setField("reg0", 0x12, 0xf0)).toEqual({ kind: "set_field", field: field("reg0"), value: [0x10], mask: [0xf0] });
    expect(setField("eth_src", parseMacWords("00:00:00:00:00:01")!).mask).toEqual([0xffff, 0xffffffff]);
    expect(load(subfield("ct_label", 64, 64), 3n).value).toEqual([0, 3]);
    expect(() => subfield("reg0", 30, 4)).toThrow();
    expect(() => subfield("nope")).toThrow();
    expect(() => load(subfield("reg10", 0, 4), 16)).toThrow();
    expect(() => setField("nw_ttl", 256)).toThrow();
    expect(() => move(subfield("reg0"), subfield("reg1", 0, 16))).toThrow();
  });
});

describe("checkActions", () => {
  it("accepts valid ops, nested ones included", () => {
    const ok: Action[] = [
      setField("reg15", 1),
      load(subfield("reg10", 0, 1), 1),
      move(subfield("reg14"), subfield("reg0")),
      next(),
      resubmit(9),
      { kind: "ct", zone: { kind: "field", src: subfield("reg13", 0, 16) }, commit: true, nat: { kind: "snat", range: { ipMin: [1], ipMax: [5], portMin: 1, portMax: 9 } }, setMark: { value: 1, mask: 1 } },
      { kind: "clone", actions: [{ kind: "icmp4_error", icmpType: 3, icmpCode: 1, actions: [{ kind: "output", to: { kind: "outport" } }] }] },
      { kind: "push_vlan", tpid: 0x8100, vid: 4095, pcp: 7 },
      { kind: "encap", tunnel: "geneve", remoteIp: [1], vni: 0xffffff, option: { cls: 0x102, type: 0x80, len: 4, value: 1 } },
      { kind: "drop", reason: "acl-deny" },
    ];
    expect(checkActions(ok)).toEqual([]);
  });

  it("names each problem with a code and the path of the action", () => {
    const bad: Action[] = [
      { kind: "load", dst: { field: field("reg0"), ofs: 30, nbits: 4 }, value: [1] },
      { kind: "set_field", field: field("reg0"), value: [3], mask: [1] },
      { kind: "move", src: { field: field("reg0"), ofs: 0, nbits: 8 }, dst: { field: field("reg1"), ofs: 0, nbits: 16 } },
      { kind: "ct", zone: { kind: "const", zone: 70000 }, commit: false, setMark: { value: 1, mask: 1 } },
      { kind: "ct_lb", zone: { kind: "const", zone: 1 }, backends: [] },
      { kind: "push_vlan", tpid: 0x9100, vid: 5000 },
      { kind: "clone", actions: [{ kind: "drop", reason: "Not Kebab" }] },
      { kind: "encap", tunnel: "vxlan", remoteIp: [1, 2], vni: 1 << 24, option: { cls: 1, type: 1, len: 4, value: 0 } },
      { kind: "set_field", field: { name: "reg0", word: 4, shift: 0, width: 32, nwords: 1, segment: "meta" }, value: [0], mask: [0] },
    ];
    const diags = checkActions(bad);
    const codes = diags.map((d) => `${d.code}@${JSON.stringify(d.path)}`);
    expect(codes).toEqual([
      'ofp.bad-subfield@["actions",0]',
      'ofp.bad-value@["actions",1]',
      'ofp.bad-move@["actions",2]',
      'ofp.bad-zone@["actions",3]',
      'ofp.bad-ct@["actions",3]',
      'ofp.bad-ct-lb@["actions",4]',
      'ofp.bad-vlan@["actions",5]',
      'ofp.bad-vlan@["actions",5]',
      'ofp.bad-drop-reason@["actions",6,"actions",0]',
      'ofp.bad-ip@["actions",7]',
      'ofp.bad-encap@["actions",7]',
      'ofp.bad-encap@["actions",7]',
      'ofp.unknown-field@["actions",8]',
    ]);
    for (const d of diags) expect(d.severity).toBe("error");
  });
});

describe("rules, tables and programs", () => {
  it("makeRule copies and normalizes the match and freezes the rule", () => {
    const m = catchAll();
    (m.mask as Uint32Array)[4] = 0xff;
    (m.value as Uint32Array)[4] = 0x1ff;
    expect(isNormalizedMatch(m)).toBe(false);
    const rule = makeRule({ id: 1, table: 0, priority: 5, match: m, actions: [{ kind: "clone", actions: [next()] }], provenance: { source: "x" } });
    expect(rule.match.value[4]).toBe(0xff);
    expect(isNormalizedMatch(rule.match)).toBe(true);
    (m.value as Uint32Array)[4] = 0;
    expect(rule.match.value[4]).toBe(0xff);
    expect(Object.isFrozen(rule)).toBe(true);
    expect(Object.isFrozen(rule.actions[0])).toBe(true);
    const clone = rule.actions[0];
    expect(clone?.kind === "clone" && Object.isFrozen(clone.actions)).toBe(true);
    expect(Object.isFrozen(field("reg0"))).toBe(false);
    expect(copyMatch(rule.match)).not.toBe(rule.match);
  });

  it("checkRule reports range errors", () => {
    const bad = { ...r(1, 0), priority: 70000, table: 300, provenance: { source: "" } };
    expect(checkRule(bad).map((d) => d.code)).toEqual(["ofp.bad-priority", "ofp.bad-table", "ofp.no-provenance"]);
  });

  it("makeProgram indexes tables by id and refuses broken invariants", () => {
    const p = makeProgram([makeTable({ id: 5, name: "b", rules: [r(2, 5)] }), makeTable({ id: 0, name: "a", rules: [r(1, 0, [resubmit(5), resubmit(7)])] })], meta);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.tables.map((t) => t.id)).toEqual([0, 5]);
    expect(p.value.byId[5]?.name).toBe("b");
    expect(p.value.byId[3]).toBeUndefined();
    expect(p.value.byId.length).toBe(6);
    expect(Object.isFrozen(p.value.tables)).toBe(true);
    expect(lintProgram(p.value).map((d) => `${d.severity}:${d.code}`)).toEqual(["warning:ofp.missing-table"]);

    const bad = makeProgram(
      [makeTable({ id: 1, name: "a", rules: [r(1, 2), r(1, 1)] }), makeTable({ id: 1, name: "b", rules: [] }), makeTable({ id: 255, name: "c", rules: [] })],
      meta,
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diags.map((d) => d.code)).toEqual(["ofp.wrong-table", "ofp.duplicate-rule", "ofp.duplicate-table", "ofp.bad-table"]);
  });
});
