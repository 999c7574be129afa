/**
 * ovn-controller's tables of symmetric ECMP replies (src/dataplane/ecmp-nh.ts) on their own: what
 * `commit_ecmp_nh` learns in each table, what the two checks match, the idle and hard timeouts,
 * when the version moves (which drops the flow cache's megaflows), and the bits a lookup marks.
 * Against real OVS, the `ecmp-symmetric` conversation of the replay oracle
 * (test/ovn/ovs-replay-more.test.ts) holds the whole path.
 */
import { describe, expect, it } from "vitest";
import { W, field, newKey, setField } from "../../src/flow/index.js";
import type { CallAction } from "../../src/ofp/index.js";
import { CtClock, EcmpNextHopTable } from "../../src/dataplane/index.js";

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
