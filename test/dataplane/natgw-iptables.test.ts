/**
 * The iptables nat-table engine and the namespace conntrack on their own: rule text, checks on
 * building a table, first-match evaluation against a flat reference, and the connection table
 * against a linear scan.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIpv4 } from "../../src/base/index.js";
import { NfConntrack, buildNatTable, formatIptRule, invertTuple, portRangeOf, prefixContains, type IptRuleSpec, type NatPacket, type NfTuple } from "../../src/dataplane/index.js";

const ip = (s: string): number => parseIpv4(s)!;

describe("iptables rule text", () => {
  it("prints rules as iptables -S does, for the four Kube-OVN rule kinds", () => {
    expect(formatIptRule({ chain: "SHARED_DNAT", match: { proto: "tcp", dst: { addr: ip("172.16.3.203"), len: 32 }, dport: 8888 }, target: { kind: "DNAT", toIp: ip("10.0.1.2"), toPort: 80 } })).toBe(
      "-A SHARED_DNAT -p tcp -d 172.16.3.203 --dport 8888 -j DNAT --to-destination 10.0.1.2:80",
    );
    expect(formatIptRule({ chain: "SHARED_SNAT", match: { outIface: "net1", src: { addr: ip("10.0.1.0"), len: 24 } }, target: { kind: "SNAT", toIp: ip("172.16.3.208"), randomFully: true } })).toBe(
      "-A SHARED_SNAT -o net1 -s 10.0.1.0/24 -j SNAT --to-source 172.16.3.208 --random-fully",
    );
    expect(formatIptRule({ chain: "EXCLUSIVE_DNAT", match: { dst: { addr: ip("172.16.3.210"), len: 32 } }, target: { kind: "DNAT", toIp: ip("10.0.2.2") } })).toBe("-A EXCLUSIVE_DNAT -d 172.16.3.210 -j DNAT --to-destination 10.0.2.2");
    expect(formatIptRule({ chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "DNAT_FILTER" } })).toBe("-A PREROUTING -j DNAT_FILTER");
  });
});

describe("building a nat table", () => {
  const codes = (chains: string[], rules: IptRuleSpec[]): string[] => {
    const r = buildNatTable(chains, rules);
    return r.ok ? [] : r.diags.map((d) => d.code).sort();
  };
  it("rejects what iptables would refuse, each with a diagnostic", () => {
    const dnat = { kind: "DNAT", toIp: 1 } as const;
    expect(codes([], [{ chain: "NOPE", match: {}, target: dnat }])).toEqual(["iptables.no-chain"]);
    expect(codes([], [{ chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "NOPE" } }])).toEqual(["iptables.no-chain"]);
    expect(codes([], [{ chain: "PREROUTING", match: { dport: 80 }, target: dnat }])).toEqual(["iptables.dport-needs-proto"]);
    expect(codes([], [{ chain: "PREROUTING", match: { proto: "icmp" }, target: { kind: "DNAT", toIp: 1, toPort: 80 } }])).toEqual(["iptables.port-needs-proto"]);
    expect(codes(["A"], [{ chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "A" } }, { chain: "A", match: { outIface: "net1" }, target: dnat }])).toEqual(["iptables.bad-iface"]);
    expect(codes([], [{ chain: "POSTROUTING", match: {}, target: dnat }])).toEqual(["iptables.bad-target"]);
    expect(codes([], [{ chain: "PREROUTING", match: {}, target: { kind: "SNAT", toIp: 1 } }])).toEqual(["iptables.bad-target"]);
    expect(
      codes(["A", "B"], [
        { chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "A" } },
        { chain: "A", match: {}, target: { kind: "jump", chain: "B" } },
        { chain: "B", match: {}, target: { kind: "jump", chain: "A" } },
      ]),
    ).toEqual(["iptables.loop"]);
    expect(codes(["bad name!"], [])).toEqual(["iptables.bad-chain"]);
  });

  it("numbers rules per chain in append order", () => {
    const t = buildNatTable(["X"], [
      { chain: "X", match: { proto: "udp" }, target: { kind: "DNAT", toIp: 1 } },
      { chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "X" } },
      { chain: "X", match: {}, target: { kind: "DNAT", toIp: 2 } },
    ]);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    expect(t.value.rules("X").map((r) => r.index)).toEqual([1, 2]);
    expect(t.value.rules("PREROUTING").map((r) => r.index)).toEqual([1]);
    const d = t.value.evaluate("PREROUTING", { proto: 6, src: 0, dst: 0, dport: 0 });
    expect(d.hits.map((h) => `${h.chain}:${h.index}`)).toEqual(["PREROUTING:1", "X:2"]);
    expect(d.rule?.target).toEqual({ kind: "DNAT", toIp: 2 });
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: the chained table against a flat first-match list (the reference).

const SMALL_IPS = ["10.0.1.2", "10.0.1.3", "10.0.2.2", "172.16.3.203", "172.16.3.208", "8.8.8.8"].map(ip);

const prefixArb = fc.oneof(
  fc.constantFrom(...SMALL_IPS).map((addr) => ({ addr, len: 32 })),
  fc.constantFrom({ addr: ip("10.0.1.0"), len: 24 }, { addr: ip("10.0.0.0"), len: 16 }, { addr: ip("172.16.3.0"), len: 24 }, { addr: 0, len: 0 }),
);

const dnatRuleArb = fc.record({
  proto: fc.option(fc.constantFrom("tcp" as const, "udp" as const), { nil: undefined }),
  dst: fc.option(prefixArb, { nil: undefined }),
  src: fc.option(prefixArb, { nil: undefined }),
  dport: fc.option(fc.constantFrom(53, 80, 8888), { nil: undefined }),
  to: fc.constantFrom(...SMALL_IPS),
});

const packetArb = fc.record({
  proto: fc.constantFrom(6, 17, 1),
  src: fc.constantFrom(...SMALL_IPS),
  dst: fc.constantFrom(...SMALL_IPS),
  dport: fc.constantFrom(53, 80, 8888, 9999),
});

type DnatRule = typeof dnatRuleArb extends fc.Arbitrary<infer T> ? T : never;

function specOf(chain: string, r: DnatRule): IptRuleSpec {
  const proto = r.dport !== undefined ? (r.proto ?? "tcp") : r.proto;
  return {
    chain,
    match: { ...(proto ? { proto } : {}), ...(r.dst ? { dst: r.dst } : {}), ...(r.src ? { src: r.src } : {}), ...(r.dport !== undefined ? { dport: r.dport } : {}) },
    target: { kind: "DNAT", toIp: r.to },
  };
}

/** The reference: the two user chains are consulted in order, so it is one flat list. */
function flatFirstMatch(specs: readonly IptRuleSpec[], p: NatPacket): IptRuleSpec | undefined {
  const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };
  return specs.find((s) => {
    const m = s.match;
    if (m.proto && PROTO[m.proto] !== p.proto) return false;
    if (m.src && !prefixContains(m.src, p.src)) return false;
    if (m.dst && !prefixContains(m.dst, p.dst)) return false;
    if (m.dport !== undefined && m.dport !== p.dport) return false;
    return true;
  });
}

describe("nat table evaluation against a flat reference", () => {
  it("the chained table picks the same rule as the flat first-match list", () => {
    fc.assert(
      fc.property(fc.array(dnatRuleArb, { maxLength: 6 }), fc.array(dnatRuleArb, { maxLength: 6 }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (excl, shared, pkts) => {
        const exclusive = excl.map((r) => specOf("EXCLUSIVE_DNAT", r));
        const sharedSpecs = shared.map((r) => specOf("SHARED_DNAT", r));
        const t = buildNatTable(["DNAT_FILTER", "EXCLUSIVE_DNAT", "SHARED_DNAT"], [
          { chain: "PREROUTING", match: {}, target: { kind: "jump", chain: "DNAT_FILTER" } },
          { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "EXCLUSIVE_DNAT" } },
          { chain: "DNAT_FILTER", match: {}, target: { kind: "jump", chain: "SHARED_DNAT" } },
          ...exclusive,
          ...sharedSpecs,
        ]);
        if (!t.ok) throw new Error(t.diags.map((d) => d.message).join("; "));
        for (const p of pkts) {
          const want = flatFirstMatch([...exclusive, ...sharedSpecs], p);
          const got = t.value.evaluate("PREROUTING", p);
          expect(got.rule ? formatIptRule(got.rule) : undefined).toBe(want ? formatIptRule(want) : undefined);
          if (want) {
            const last = got.hits[got.hits.length - 1]!;
            expect(last.chain).toBe(want.chain);
            const idx = (want.chain === "EXCLUSIVE_DNAT" ? exclusive : sharedSpecs).indexOf(want) + 1;
            expect(last.index).toBe(idx);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Conntrack: hashed lookup against a linear scan.

describe("namespace conntrack", () => {
  const tupleArb = fc.record({
    proto: fc.constantFrom(6, 17, 1),
    src: fc.constantFrom(...SMALL_IPS),
    sport: fc.constantFrom(0, 80, 1000, 40000),
    dst: fc.constantFrom(...SMALL_IPS),
    dport: fc.constantFrom(0, 53, 80),
  });

  it("finds the same connection and direction as a linear scan", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(tupleArb, tupleArb), { maxLength: 12 }), fc.array(tupleArb, { maxLength: 20 }), (conns, probes) => {
        const ct = new NfConntrack();
        for (const [o, r] of conns) ct.add(o, r, false, false);
        const linear = (t: NfTuple): string | undefined => {
          for (const c of ct.connections()) {
            const eq = (a: NfTuple): boolean => a.proto === t.proto && a.src === t.src && a.dst === t.dst && a.sport === t.sport && a.dport === t.dport;
            if (eq(c.orig)) return `${c.id}:original`;
            if (eq(c.reply)) return `${c.id}:reply`;
          }
          return undefined;
        };
        for (const t of [...probes, ...conns.flat()]) {
          const got = ct.lookup(t);
          expect(got ? `${got.conn.id}:${got.dir}` : undefined).toBe(linear(t));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("keeps the source port unless taken, then the next free one in Linux's port group", () => {
    const ct = new NfConntrack();
    const peer = ip("8.8.8.8");
    const snat = ip("172.16.3.208");
    const take = (sport: number): number => {
      const p = ct.chooseSourcePort(17, snat, sport, peer, 53)!;
      const orig: NfTuple = { proto: 17, src: ip("10.0.1.2") + sport, sport, dst: peer, dport: 53 };
      ct.add(orig, invertTuple({ ...orig, src: snat, sport: p }), false, true);
      return p;
    };
    expect(take(40000)).toBe(40000);
    expect(take(40000)).toBe(40001);
    expect(take(511)).toBe(511);
    expect(take(511)).toBe(1); // wraps inside 1..511
    expect(take(1023)).toBe(1023);
    expect(take(1023)).toBe(600); // wraps inside 600..1023
    expect(take(65535)).toBe(65535);
    expect(take(65535)).toBe(1024);
    expect(portRangeOf(80)).toEqual({ lo: 1, hi: 511 });
    // Protocols without ports keep 0.
    expect(ct.chooseSourcePort(1, snat, 0, peer, 0)).toBe(0);
    ct.clear();
    expect(ct.size).toBe(0);
  });
});
