/**
 * The subtables' ports check (subtable.ts): rules on the transport-ports word's leading bits (the
 * source port, as `udp.src == 546 && udp.dst == 547` has) let a key that matches none of them be
 * ruled out on a prefix of that word instead of the whole word.
 *
 * Soundness, against the linear twin: for keys whose ports are the rules' own, one or a few bits
 * away from them, or random, every key that agrees with the looked-up key on the un-wildcarded
 * bits gets the same rule. Effect: a UDP key that probes such a subtable and matches no rule there
 * gets fewer than 32 bits of the ports word, while a key with a rule's ports gets all of it.
 */
import { describe, expect, it } from "vitest";
import { Classifier, LinearClassifier } from "../../src/classifier/index.js";
import { KEY_WORDS, W, catchAll, constrainField, field } from "../../src/flow/index.js";
import { agreeOn, prng, type TestRule } from "./acl-rules.js";

const ETH = field("eth_type");
const PROTO = field("nw_proto");
const TP_SRC = field("tp_src");
const TP_DST = field("tp_dst");

function rule(id: number, priority: number, fields: readonly [ReturnType<typeof field>, number, number?][]): TestRule {
  const m = catchAll();
  for (const [f, v, mask] of fields) constrainField(m, f, v, mask ?? 0xffffffff);
  return { id, priority, match: m };
}

// As OVN's pre-ACL stage has them, and more of the same mask shapes with nearby values.
const RULES: TestRule[] = [
  rule(1, 110, [[ETH, 0x0800], [PROTO, 17], [TP_SRC, 546], [TP_DST, 547]]),
  rule(2, 110, [[ETH, 0x86dd], [PROTO, 17], [TP_SRC, 546], [TP_DST, 547]]),
  rule(3, 110, [[ETH, 0x0800], [PROTO, 17], [TP_SRC, 68], [TP_DST, 67]]),
  rule(4, 105, [[ETH, 0x0800], [PROTO, 6], [TP_SRC, 1000], [TP_DST, 2000]]),
  rule(5, 105, [[ETH, 0x0800], [PROTO, 6], [TP_SRC, 1001], [TP_DST, 2000]]),
  // A source-port prefix only: 0xf000/0xf000 (61440 and up).
  rule(6, 104, [[ETH, 0x0800], [PROTO, 17], [TP_SRC, 0xf000, 0xf000]]),
  // Destination port only: no leading bits, so no ports check.
  rule(7, 103, [[ETH, 0x0800], [PROTO, 17], [TP_DST, 53]]),
  rule(8, 100, [[ETH, 0x0800]]),
  rule(9, 0, []),
];

const RULE_PORTS = [
  [546, 547],
  [68, 67],
  [1000, 2000],
  [1001, 2000],
  [0xf123, 80],
  [40000, 53],
];

function makeKey(rand: () => number): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  k[W.ETH_TYPE] = [0x0800, 0x0800, 0x86dd, 0x0806][rand() % 4]!;
  k[W.NW] = [17, 17, 6, 1][rand() % 4]!;
  let [sp, dp] = RULE_PORTS[rand() % RULE_PORTS.length]!;
  const how = rand() % 4;
  if (how === 1) sp = (sp! ^ (1 << rand() % 16)) & 0xffff;
  else if (how === 2) dp = (dp! ^ (1 << rand() % 16)) & 0xffff;
  else if (how === 3) {
    sp = rand() & 0xffff;
    dp = rand() & 0xffff;
  }
  k[W.TP] = ((sp! << 16) | dp!) >>> 0;
  k[W.NW_SRC] = rand();
  return k;
}

describe.each([true, false])("ports check (staged %s)", (staged) => {
  const ts = Classifier.from(RULES, { staged });
  const lin = LinearClassifier.from(RULES);

  it("every key agreeing on the un-wildcarded bits gets the same rule", () => {
    const rand = prng(7);
    let narrowed = 0;
    for (let i = 0; i < 3000; i++) {
      const key = makeKey(rand);
      const wc = new Uint32Array(KEY_WORDS);
      const r = ts.lookup(key, wc);
      expect(r).toBe(lin.lookup(key));
      if (wc[W.TP] !== 0 && wc[W.TP] !== 0xffffffff && wc[W.TP] !== 0xffff) narrowed++;
      for (let v = 0; v < 8; v++) {
        const other = v % 2 === 0 ? makeKey(rand) : Uint32Array.from({ length: KEY_WORDS }, () => rand());
        const k2 = agreeOn(key, wc, other);
        const want = lin.lookup(k2);
        if (want !== r) expect.fail(`key ${i} variant ${v}: megaflow gives rule ${r?.id}, the key deserves ${want?.id}`);
      }
    }
    // Staged, many keys are ruled out on a prefix of the ports word; unstaged, none is.
    if (staged) expect(narrowed).toBeGreaterThan(300);
    else expect(narrowed).toBe(0);
  });

  it("a UDP flow that matches no ports rule does not get its whole ports word", () => {
    // DNS from a high source port: probes the DHCP and DHCPv6 subtable, then matches rule 7.
    const key = new Uint32Array(KEY_WORDS);
    key[W.ETH_TYPE] = 0x0800;
    key[W.NW] = 17;
    key[W.TP] = ((33000 << 16) | 53) >>> 0;
    const wc = new Uint32Array(KEY_WORDS);
    expect(ts.lookup(key, wc)!.id).toBe(7);
    if (staged) {
      // The destination port (rule 7), and of the source port 33000 (0x80e8) the leading bits up
      // to where it leaves each subtable's rules behind: the first bit against 546 and 68, the
      // first two against rule 6's prefix 0xf000.
      expect(wc[W.TP]).toBe((0xffff | 0xc0000000) >>> 0);
    } else {
      expect(wc[W.TP]).toBe(0xffffffff);
    }
    // With a rule's own ports, the whole word is matched.
    const exact = Uint32Array.from(key);
    exact[W.TP] = ((546 << 16) | 547) >>> 0;
    const wc2 = new Uint32Array(KEY_WORDS);
    expect(ts.lookup(exact, wc2)!.id).toBe(1);
    expect(wc2[W.TP]).toBe(0xffffffff);
  });
});
