/**
 * ovn-controller's tables of symmetric ECMP replies (src/dataplane/ecmp-nh.ts) on their own: what
 * `commit_ecmp_nh` learns in each table, what the two checks match, the idle and hard timeouts,
 * when the version moves, the bits a lookup marks, and what a translation's lookups record for
 * revalidation (learned-flows.ts).
 * Against real OVS, the `ecmp-symmetric` conversation of the replay oracle
 * (test/ovn/ovs-replay-more.test.ts) holds the whole path.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { W, field, newKey, setField } from "../../src/flow/index.js";
import type { CallAction } from "../../src/ofp/index.js";
import { CtClock, EcmpNextHopTable, ProbeIndex, type LearnedProbe } from "../../src/dataplane/index.js";

function commit(proto: string, ipv6 = false): CallAction {
  return { kind: "call", fn: "commit_ecmp_nh", args: [{ kind: "text", name: "ipv6", text: ipv6 ? "true" : "false" }, { kind: "text", name: "proto", text: proto }], text: "commit_ecmp_nh(...)" };
}

const CLIENT = 0xc6336407; // 198.51.100.7
const VM = 0x0a0b0002; // 10.11.0.2
const FLAGS = W.REG0 + 10;

/** A packet in datapath 3 from MAC `mac` (low word), `src`:`sport` to `dst`:`dport`. */
function packet(src: number, dst: number, sport: number, dport: number, opts: { mac?: number; proto?: number; datapath?: number } = {}): Uint32Array {
  const k = newKey();
  k[W.METADATA] = opts.datapath ?? 3;
  k[W.ETH_SRC] = 0;
  k[W.ETH_SRC + 1] = opts.mac ?? 0xac0001;
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), opts.proto ?? 6);
  k[W.NW_SRC] = src;
  k[W.NW_DST] = dst;
  setField(k, field("tp_src"), sport);
  setField(k, field("tp_dst"), dport);
  return k;
}

const inward = (o: Parameters<typeof packet>[4] = {}): Uint32Array => packet(CLIENT, VM, 40000, 80, o);
const reply = (o: Parameters<typeof packet>[4] = {}): Uint32Array => packet(VM, CLIENT, 80, 40000, o);

describe("symmetric ECMP reply tables", () => {
  it("learns the connection's direction with its MAC, and its replies without", () => {
    const t = new EcmpNextHopTable(new CtClock());
    expect(t.check(inward(), 3, true, undefined)).toBe(0n);
    expect(t.check(reply(), 3, false, undefined)).toBe(0n);
    t.commit(commit("tcp"), 3, inward());
    expect(t.size).toBe(2);
    const k = inward();
    expect(t.check(k, 3, true, undefined)).toBe(1n);
    expect((k[FLAGS]! >>> 13) & 1).toBe(1);
    expect(t.check(reply(), 3, false, undefined)).toBe(1n);
    // The other table's direction, another MAC, protocol, port or datapath: no flow.
    expect(t.check(reply(), 3, true, undefined)).toBe(0n);
    expect(t.check(inward(), 3, false, undefined)).toBe(0n);
    expect(t.check(inward({ mac: 0xac0005 }), 3, true, undefined)).toBe(0n);
    expect(t.check(reply({ mac: 0xac0005 }), 3, false, undefined)).toBe(1n);
    expect(t.check(reply({ proto: 17 }), 3, false, undefined)).toBe(0n);
    expect(t.check(packet(VM, CLIENT, 80, 40001), 3, false, undefined)).toBe(0n);
    expect(t.check(reply({ datapath: 4 }), 4, false, undefined)).toBe(0n);
    // A miss clears the flag a hit left.
    const again = k.slice();
    again[W.NW_SRC] = CLIENT + 1;
    expect(t.check(again, 3, true, undefined)).toBe(0n);
    expect((again[FLAGS]! >>> 13) & 1).toBe(0);
  });

  it("learns the protocol the action names, not the packet's", () => {
    const t = new EcmpNextHopTable();
    t.commit(commit("udp"), 3, inward());
    expect(t.check(reply(), 3, false, undefined)).toBe(0n);
    expect(t.check(reply({ proto: 17 }), 3, false, undefined)).toBe(1n);
    // An action it cannot read learns nothing.
    t.commit(commit("icmp"), 3, inward());
    expect(t.size).toBe(2);
  });

  it("forgets a flow idle for 20 s, and one learned 30 s ago however much it is used, until it is learned again", () => {
    const clock = new CtClock();
    const t = new EcmpNextHopTable(clock);
    t.commit(commit("tcp"), 3, inward());
    const v0 = t.version;
    // Used every 10 s: the idle timeout never runs out, the hard one does after 30 s.
    for (const at of [10_000, 20_000]) {
      clock.now = at;
      expect(t.check(reply(), 3, false, undefined)).toBe(1n);
    }
    expect(t.version).toBe(v0);
    clock.now = 30_000;
    expect(t.check(reply(), 3, false, undefined)).toBe(1n);
    // By now the MAC table's flow, unused since it was learned, is gone (20 s idle).
    expect(t.version).toBe(v0 + 1);
    clock.now = 30_001;
    expect(t.check(reply(), 3, false, undefined)).toBe(0n);
    expect(t.version).toBe(v0 + 2);
    expect(t.check(inward(), 3, true, undefined)).toBe(0n);
    // Learned again: both are back, and the hard timeout counts from now.
    t.commit(commit("tcp"), 3, inward());
    clock.now = 50_000;
    expect(t.check(reply(), 3, false, undefined)).toBe(1n);
    clock.now = 60_002;
    expect(t.check(reply(), 3, false, undefined)).toBe(0n);
  });

  it("refreshes a flow that is learned again without moving the version", () => {
    const clock = new CtClock();
    const t = new EcmpNextHopTable(clock);
    t.commit(commit("tcp"), 3, inward());
    const v0 = t.version;
    clock.now = 25_000;
    t.commit(commit("tcp"), 3, inward());
    expect(t.version).toBe(v0);
    clock.now = 40_000;
    expect(t.check(reply(), 3, false, undefined)).toBe(1n);
    expect(t.version).toBe(v0);
  });

  it("marks the fields a learned flow matches, and nothing while the table is empty", () => {
    const t = new EcmpNextHopTable();
    const wc = new Uint32Array(newKey().length);
    t.check(reply(), 3, false, wc);
    expect(wc.every((w) => w === 0)).toBe(true);
    t.commit(commit("tcp"), 3, inward());
    t.check(reply(), 3, false, wc);
    expect(wc[W.METADATA]).toBe(0xffffffff);
    expect(wc[W.NW_SRC]).toBe(0xffffffff);
    expect(wc[W.NW_DST]).toBe(0xffffffff);
    expect(wc[W.ETH_SRC + 1]).toBe(0);
    t.check(inward(), 3, true, wc);
    expect(wc[W.ETH_SRC + 1]).toBe(0xffffffff);
  });
});

describe("revalidation after learned flows change (learned-flows.ts)", () => {
  it("a lookup records the flow it could meet, or anything while its table is empty", () => {
    const t = new EcmpNextHopTable();
    const probes: LearnedProbe[] = [];
    t.check(reply(), 3, false, new Uint32Array(newKey().length), probes);
    expect(probes).toEqual([{ table: t, ids: undefined }]);
    t.commit(commit("tcp"), 3, inward());
    // The commit's two flows, and nothing more, are the changes; taking them forgets them.
    expect(t.hasChanges).toBe(true);
    const ids = t.takeChanges()!;
    expect(ids).toHaveLength(2);
    expect(t.hasChanges).toBe(false);
    probes.length = 0;
    t.check(reply(), 3, false, new Uint32Array(newKey().length), probes);
    t.check(packet(VM, CLIENT, 80, 40001), 3, false, new Uint32Array(newKey().length), probes);
    // The first lookup named the reply flow the commit learned; the second a flow no one learned.
    expect(ids).toContain(probes[0]!.ids![0]);
    expect(ids).not.toContain(probes[1]!.ids![0]);
    // Learning a flow that is there changes nothing a lookup answers.
    t.commit(commit("tcp"), 3, inward());
    expect(t.hasChanges).toBe(false);
  });

  it("reports an expiry as a change, and too many changes as one that concerns every flow", () => {
    const clock = new CtClock();
    const t = new EcmpNextHopTable(clock);
    t.commit(commit("tcp"), 3, inward());
    t.takeChanges();
    // Neither flow was used: both are gone after 20 s.
    clock.now = 20_001;
    expect(t.takeChanges()).toHaveLength(2);
    for (let p = 0; p < 3000; p++) t.commit(commit("tcp"), 3, packet(CLIENT, VM, p, 80));
    expect(t.takeChanges()).toBeUndefined();
    expect(t.takeChanges()).toEqual([]);
  });

  it("the index names the live megaflows whose probes a change concerns", () => {
    const t = new EcmpNextHopTable();
    const u = new EcmpNextHopTable();
    const idx = new ProbeIndex<{ name: string; dead: boolean }>();
    const a = { name: "a", dead: false };
    const b = { name: "b", dead: false };
    const c = { name: "c", dead: false };
    const d = { name: "d", dead: false };
    idx.add(a, [{ table: t, ids: ["x", "y"] }]);
    idx.add(b, [{ table: t, ids: ["y"] }]);
    idx.add(c, [{ table: t, ids: undefined }]);
    idx.add(d, [{ table: u, ids: ["x"] }]);
    const hit = (table: EcmpNextHopTable, ids: readonly string[] | undefined): string[] => {
      const out: string[] = [];
      idx.affected(table, ids, (m) => {
        out.push(m.name);
        m.dead = true;
      });
      return out.sort();
    };
    // x concerns a (by name) and c (which probed the table empty), not d (another table).
    expect(hit(t, ["x"])).toEqual(["a", "c"]);
    // a is gone; y concerns b only now.
    expect(hit(t, ["y"])).toEqual(["b"]);
    expect(hit(t, ["z"])).toEqual([]);
    // Every flow of u.
    expect(hit(u, undefined)).toEqual(["d"]);
  });
});

describe("expiry against a plain model (learned-flows.ts's queue)", () => {
  /**
   * The rules written out: a flow is gone once the clock is past 20 s after its last use or 30 s
   * after it was last learned; every flow is looked at after each step.
   */
  class Model {
    readonly flows = new Map<string, { used: number; modified: number }>();
    now = 0;
    expire(): void {
      for (const [k, f] of this.flows) if (this.now > Math.min(f.used + 20_000, f.modified + 30_000)) this.flows.delete(k);
    }
    commit(c: number): void {
      this.expire();
      for (const k of [`mac/${c}`, `reply/${c}`]) {
        const f = this.flows.get(k);
        if (f) f.used = f.modified = this.now;
        else this.flows.set(k, { used: this.now, modified: this.now });
      }
    }
    check(k: string): bigint {
      this.expire();
      const f = this.flows.get(k);
      if (!f) return 0n;
      f.used = this.now;
      return 1n;
    }
  }

  const step = fc.oneof(
    fc.record({ op: fc.constant("commit" as const), c: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constantFrom("mac" as const, "reply" as const), c: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
  );

  it("answers every lookup as the model does, and holds the same flows", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const clock = new CtClock();
        const t = new EcmpNextHopTable(clock);
        const m = new Model();
        const conn = (c: number): Uint32Array => packet(CLIENT + c, VM, 40000 + c, 80);
        const back = (c: number): Uint32Array => packet(VM, CLIENT + c, 80, 40000 + c);
        for (const s of steps) {
          if (s.op === "wait") {
            clock.now += s.ms;
            m.now = clock.now;
          } else if (s.op === "commit") {
            t.commit(commit("tcp"), 3, conn(s.c));
            m.commit(s.c);
          } else {
            const got = s.op === "mac" ? t.check(conn(s.c), 3, true, undefined) : t.check(back(s.c), 3, false, undefined);
            expect(got).toBe(m.check(`${s.op}/${s.c}`));
          }
          m.expire();
          expect(t.size).toBe(m.flows.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
