/**
 * Hostile input: each case must come back as a Diagnostic (never a throw, a hang or an
 * out-of-memory). Times are printed for information, not asserted; the generous timeout only
 * stops a runaway.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileMatch, parseExpr, type NormalizeContext } from "../../src/expr/index.js";

function expectDiag(r: { ok: boolean; diags?: readonly { code: string; message: string }[] }, code: string): void {
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.diags![0]!.code).toBe(code);
}

function timed<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  console.info(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return out;
}

const TIMEOUT = 60_000;

describe("hostile expressions", () => {
  it(
    "10,000 nested parentheses: depth error",
    () => {
      const text = "(".repeat(10_000) + "ip4" + ")".repeat(10_000);
      const r = timed("10k parens", () => compileMatch(text));
      expectDiag(r, "expr.depth");
      if (!r.ok) expect(r.diags[0]!.message).toBe("Parentheses nested too deeply.");
      const n = timed("10k !( ", () => compileMatch("!(".repeat(10_000) + "ip4" + ")".repeat(10_000)));
      expectDiag(n, "expr.depth");
    },
    TIMEOUT,
  );

  it(
    "a product of 20 sets of 10 elements: expansion bound",
    () => {
      const fields = ["reg0", "reg1", "reg2", "reg3", "reg4", "reg5", "reg6", "reg7", "reg8", "reg9", "ct_mark", "pkt.mark", "flags", "ct_label[0..31]", "ct_label[32..63]", "ct_label[64..95]", "ct_label[96..127]", "eth.src[0..31]", "eth.dst[0..31]", "vlan.tci"];
      const text = fields.map((f) => `${f} == {${Array.from({ length: 10 }, (_, i) => i + 1).join(", ")}}`).join(" && ");
      const r = timed("20x10 product", () => compileMatch(text));
      expectDiag(r, "expr.too-many-matches");
      if (!r.ok) expect(r.diags[0]!.message).toBe("Expression expands to more than 10000 matches.");
      // The bound is configurable; a smaller one fails sooner.
      expectDiag(compileMatch(text, {}, { maxMatches: 50 }), "expr.too-many-matches");
    },
    TIMEOUT,
  );

  it(
    "!= on 128-bit fields in a conjunction: expansion bound",
    () => {
      const text = "ip6.src != ::1 && ip6.dst != ::2 && ct_label != 1 && xxreg0 != 5 && xxreg1 != 6 && nd.target != ::3";
      const r = timed("128-bit !=", () => compileMatch(text));
      expectDiag(r, "expr.too-many-matches");
      // Two of them already exceed the bound (128 x 128 = 16384).
      expectDiag(compileMatch("ct_label != 1 && xxreg0 != 5"), "expr.too-many-matches");
    },
    TIMEOUT,
  );

  it(
    "a 1 MB expression: length limit, and with the limit raised, the expansion bound",
    () => {
      const terms: string[] = [];
      let length = 0;
      for (let i = 0; length < 1_000_000; i++) {
        const t = `ip4.src == ${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.1`;
        terms.push(t);
        length += t.length + 4;
      }
      const text = terms.join(" || ");
      expect(text.length).toBeGreaterThanOrEqual(1_000_000);
      expectDiag(
        timed("1 MB, default limit", () => compileMatch(text)),
        "expr.too-long",
      );
      expectDiag(
        timed("1 MB, limit raised", () => compileMatch(text, {}, { maxLength: 2_000_000 })),
        "expr.too-many-matches",
      );
    },
    TIMEOUT,
  );

  it(
    "contradicting large sets: work bound",
    () => {
      const a = Array.from({ length: 3000 }, (_, i) => i + 1).join(", ");
      const b = Array.from({ length: 3000 }, (_, i) => i + 5001).join(", ");
      const r = timed("3000 x 3000 contradictions", () => compileMatch(`reg0 == {${a}} && reg0 == {${b}}`));
      expectDiag(r, "expr.too-complex");
      if (!r.ok) expect(r.diags[0]!.message).toBe("Expression needs more than 2000000 steps to normalize.");
    },
    TIMEOUT,
  );

  it(
    "a huge address set: expansion bound",
    () => {
      const members = Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      const ctx: NormalizeContext = { addressSet: (n) => (n === "big" ? members : undefined) };
      expectDiag(
        timed("100k-member set", () => compileMatch("ip4.src == $big && tcp.dst == 80", ctx)),
        "expr.too-many-matches",
      );
    },
    TIMEOUT,
  );

  it(
    "long flat conjunctions and disjunctions parse in linear time",
    () => {
      const text = Array.from({ length: 20_000 }, (_, i) => `reg${i % 10}[${i % 32}]`).join(" && ");
      const p = timed("20k-term &&", () => parseExpr(text));
      expect(p.ok).toBe(true);
      const r = timed("20k-term && normalized", () => compileMatch(text));
      expect(r.ok).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "random bytes never throw",
    () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
          const r = compileMatch(s);
          if (!r.ok) expect(r.diags[0]!.loc?.column).toBeGreaterThanOrEqual(1);
        }),
        { numRuns: 3000 },
      );
      // Strings made of the language's own tokens reach deeper into the parser.
      const tokens = ["ip4", "tcp.dst", "reg0", "[", "]", "..", "0", "1", "80", "==", "!=", "<", ">=", "&&", "||", "!", "(", ")", "{", "}", ",", "$set", "@pg", '"p1"', "inport", "10.0.0.0/8", "::1", "ct.est", "is_chassis_resident", "=", ";"];
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 30 }), (ts) => {
          const r = compileMatch(ts.join(" "), { addressSet: () => ["1.2.3.4"], portGroup: () => ["p1"], portKey: () => 1 });
          if (!r.ok) expect(typeof r.diags[0]!.message).toBe("string");
        }),
        { numRuns: 3000 },
      );
    },
    TIMEOUT,
  );
});
