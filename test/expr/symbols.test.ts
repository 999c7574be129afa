/**
 * The symbol table against the flow layout and against itself: every field fits its layout field,
 * every subfield its parent, predicate levels agree with their expansions, every expansion and
 * prerequisite parses and annotates, and the register and conntrack definitions are OVN's.
 */
import { describe, expect, it } from "vitest";
import { FIELDS } from "../../src/flow/index.js";
import { annotateCore, describeSymbol, lowerExpr, parseExpr, resolveToRoot, SYMBOLS, walkExpr, type ExprSymbol } from "../../src/expr/index.js";

const all = [...SYMBOLS.values()];

describe("symbol table", () => {
  it("has OVN's fields and predicates", () => {
    for (const n of ["inport", "outport", "eth.src", "eth.dst", "eth.type", "eth.bcast", "eth.mcast", "vlan.tci", "vlan.present", "vlan.pcp", "vlan.vid", "ip", "ip4", "ip6", "ip.proto", "ip.dscp", "ip.ecn", "ip.ttl", "ip.frag", "ip.first_frag", "ip.later_frag", "ip.is_frag", "ip4.src", "ip4.dst", "ip4.mcast", "ip6.src", "ip6.dst", "ip6.label", "ip6.mcast", "arp", "arp.op", "arp.spa", "arp.tpa", "arp.sha", "arp.tha", "rarp", "nd", "nd_ns", "nd_na", "nd_rs", "nd_ra", "nd.target", "nd.sll", "nd.tll", "tcp", "tcp.src", "tcp.dst", "tcp.flags", "udp", "udp.src", "udp.dst", "sctp", "sctp.src", "sctp.dst", "icmp", "icmp4", "icmp4.type", "icmp4.code", "icmp6", "icmp6.type", "icmp6.code", "igmp", "mldv1", "mldv2", "ct.new", "ct.est", "ct.rel", "ct.rpl", "ct.inv", "ct.trk", "ct.snat", "ct.dnat", "ct_mark", "ct_label", "ct_state", "ct_mark.blocked", "ct_label.blocked", "flags", "flags.loopback", "pkt.mark", "xxreg0", "xxreg1", "xreg0", "xreg4", "reg0", "reg9"]) {
      expect(SYMBOLS.has(n), n).toBe(true);
    }
    expect(SYMBOLS.has("reg10")).toBe(false);
  });

  it("maps every field inside an existing layout field", () => {
    for (const s of all) {
      if (s.kind !== "field" && s.kind !== "string") continue;
      const d = FIELDS.get(s.layout);
      expect(d, s.name).toBeDefined();
      if (s.kind === "field") expect(s.layoutOfs + s.bits, s.name).toBeLessThanOrEqual(d!.width);
      if (s.kind === "string") expect(d!.width, s.name).toBe(32);
    }
  });

  it("differs in width from the layout only where documented", () => {
    const diffs = all.filter((s) => s.kind === "field" && s.width !== s.bits).map((s) => `${s.name}:${s.kind === "field" ? `${s.width}/${s.bits}` : ""}`);
    expect(diffs.sort()).toEqual(["arp.op:16/8", "ct_state:32/8", "icmp4.code:8/16", "icmp4.type:8/16", "icmp6.code:8/16", "icmp6.type:8/16", "rarp.op:16/8"]);
  });

  it("keeps every subfield inside its parent and resolves it to a root field", () => {
    for (const s of all) {
      if (s.kind !== "subfield") continue;
      const p = SYMBOLS.get(s.parent)!;
      expect(p.kind === "field" || p.kind === "subfield", s.name).toBe(true);
      if (p.kind === "field" || p.kind === "subfield") expect(s.parentOfs + s.width, s.name).toBeLessThanOrEqual(p.width);
      expect(resolveToRoot(SYMBOLS, s)?.root.kind).toBe("field");
    }
  });

  it("defines registers as OVN does (overlapping ones as subfields of the larger)", () => {
    const regs = all.filter((s) => /^x*reg\d$/.test(s.name) && s.kind === "subfield").map(describeSymbol).sort();
    expect(regs).toEqual([
      "reg0 = xxreg0[96..127]",
      "reg1 = xxreg0[64..95]",
      "reg2 = xxreg0[32..63]",
      "reg3 = xxreg0[0..31]",
      "reg4 = xxreg1[96..127]",
      "reg5 = xxreg1[64..95]",
      "reg6 = xxreg1[32..63]",
      "reg7 = xxreg1[0..31]",
      "reg8 = xreg4[32..63]",
      "reg9 = xreg4[0..31]",
      "xreg0 = xxreg0[64..127]",
      "xreg1 = xxreg0[0..63]",
      "xreg2 = xxreg1[64..127]",
      "xreg3 = xxreg1[0..63]",
    ]);
  });

  it("defines the conntrack fields as OVN does", () => {
    const ct = all.filter((s) => s.name.startsWith("ct") && s.kind === "subfield").map(describeSymbol).sort();
    expect(ct).toEqual([
      "ct.dnat = ct_state[7]",
      "ct.est = ct_state[1]",
      "ct.inv = ct_state[4]",
      "ct.new = ct_state[0]",
      "ct.rel = ct_state[2]",
      "ct.rpl = ct_state[3]",
      "ct.snat = ct_state[6]",
      "ct.trk = ct_state[5]",
      "ct_label.blocked = ct_label[0]",
      "ct_label.ecmp_reply_eth = ct_label[32..79]",
      "ct_label.ecmp_reply_port = ct_label[80..95]",
      "ct_label.force_snat = ct_label[3]",
      "ct_label.label = ct_label[96..127]",
      "ct_label.natted = ct_label[1]",
      "ct_label.skip_snat = ct_label[2]",
      "ct_mark.blocked = ct_mark[0]",
      "ct_mark.ecmp_reply_port = ct_mark[16..31]",
      "ct_mark.force_snat = ct_mark[3]",
      "ct_mark.natted = ct_mark[1]",
      "ct_mark.skip_snat = ct_mark[2]",
    ]);
    for (const s of all) if (s.name.startsWith("ct.") && s.name !== "ct.trk") expect(s.prereqs, s.name).toBe("ct.trk");
  });

  it("gives each predicate the level its expansion has", () => {
    for (const s of all) {
      if (s.kind !== "predicate") continue;
      const p = parseExpr(s.expansion);
      expect(p.ok, s.name).toBe(true);
      if (!p.ok) continue;
      let nominal = false;
      walkExpr(p.value, (e) => {
        if (e.kind === "cmp" && e.field.symbol.level === "nominal") nominal = true;
      });
      expect(s.level, s.name).toBe(nominal ? "nominal" : "boolean");
    }
  });

  it("parses and annotates every expansion and prerequisite without recursion", () => {
    const texts = new Set<string>();
    for (const s of all) {
      if (s.prereqs) texts.add(s.prereqs);
      if (s.kind === "predicate") texts.add(s.expansion);
    }
    for (const t of texts) {
      const p = parseExpr(t);
      expect(p.ok, t).toBe(true);
      if (!p.ok) continue;
      const l = lowerExpr(p.value);
      expect(l.ok, t).toBe(true);
      if (l.ok) expect(annotateCore(l.value).ok, t).toBe(true);
    }
    // And every symbol used on its own.
    for (const s of all) {
      const text = useOf(s);
      const p = parseExpr(text);
      expect(p.ok, text).toBe(true);
      if (!p.ok) continue;
      const l = lowerExpr(p.value, { portKey: () => 1 });
      expect(l.ok && annotateCore(l.value).ok, text).toBe(true);
    }
  });

  it("marks only the conntrack tuple fields as extensions", () => {
    expect(all.filter((s) => s.origin === "extension").map((s) => s.name).sort()).toEqual(["ct_ip6_dst", "ct_ip6_src", "ct_nw_dst", "ct_nw_src", "ct_proto", "ct_tp_dst", "ct_tp_src"]);
  });
});

function useOf(s: ExprSymbol): string {
  switch (s.kind) {
    case "string":
      return `${s.name} == "p"`;
    case "predicate":
      return s.name;
    case "field":
    case "subfield":
      return s.level === "nominal" ? `${s.name} == 1` : `${s.name} != 0`;
    default: {
      const _never: never = s;
      return _never;
    }
  }
}
