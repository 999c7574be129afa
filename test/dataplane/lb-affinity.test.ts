/**
 * ovn-controller's load balancer affinity table (src/dataplane/lb-affinity.ts) on its own: what a
 * learned session loads, what it matches, when it expires, and when its version moves (which drops
 * the flow cache's megaflows). Against real OVS, the `lb-affinity` conversation of the replay
 * oracle (test/ovn/ovs-replay-more.test.ts) holds the whole path.
 */
import { describe, expect, it } from "vitest";
import { KEY_WORDS, W, extractKey, field, newKey, setField } from "../../src/flow/index.js";
import type { CallAction } from "../../src/ofp/index.js";
import { CtClock, LbAffinityTable } from "../../src/dataplane/index.js";
import { Replayer } from "../../src/replay/index.js";
import { CONVERSATIONS, LB_AFFINITY, oracleNetwork } from "../../scripts/ovs-replay.js";

function commit(vip: string, backend: string, timeout: number, proto?: string): CallAction {
  const args: CallAction["args"] = [
    { kind: "text", name: "vip", text: `"${vip}"` },
    { kind: "text", name: "backend", text: `"${backend}"` },
    ...(proto ? [{ kind: "text" as const, name: "proto", text: proto }] : []),
    { kind: "text", name: "timeout", text: String(timeout) },
  ];
  return { kind: "call", fn: "commit_lb_aff", args, text: `commit_lb_aff(...)` };
}

/** A TCP packet from 10.1.0.10 to `dst`:`dport` in datapath 5. */
function packet(dst: number, dport: number, src = 0x0a01000a): Uint32Array {
  const k = newKey();
  k[W.METADATA] = 5;
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), 6);
  k[W.NW_SRC] = src;
  k[W.NW_DST] = dst;
  setField(k, field("tp_src"), 40000);
  setField(k, field("tp_dst"), dport);
  return k;
}

const VIP = 0x0a60000a; // 10.96.0.10
const REG4 = W.REG0 + 4;
const REG8 = W.REG0 + 8;
const FLAGS = W.REG0 + 10;

describe("load balancer affinity table", () => {
  it("loads the learned backend and its port, and sets the session flag, only for the learned client and VIP", () => {
    const t = new LbAffinityTable(new CtClock());
    const k = packet(VIP, 80);
    expect(t.check(k, 5, true, undefined)).toBe(0n);
    t.commit(commit("10.96.0.10:80", "10.2.0.12:8080", 60, "tcp"), 5, k);
    const hit = packet(VIP, 80);
    expect(t.check(hit, 5, true, undefined)).toBe(1n);
    expect(hit[REG4]).toBe(0x0a02000c);
    expect(hit[REG8]! & 0xffff).toBe(8080);
    expect((hit[FLAGS]! >>> 14) & 1).toBe(1);
    // Another client, another VIP port, another datapath: no session.
    expect(t.check(packet(VIP, 80, 0x0a01000b), 5, true, undefined)).toBe(0n);
    expect(t.check(packet(VIP, 443), 5, true, undefined)).toBe(0n);
    expect(t.check(packet(VIP, 80), 6, true, undefined)).toBe(0n);
    // A miss clears the flag a hit left.
    const again = hit.slice();
    again[W.NW_SRC] = 0x0a01000b;
    expect(t.check(again, 5, true, undefined)).toBe(0n);
    expect((again[FLAGS]! >>> 14) & 1).toBe(0);
  });

  it("matches a session learned without a port whatever the port, and loads IPv6 backends where the datapath keeps them", () => {
    const t = new LbAffinityTable();
    t.commit(commit("10.96.0.10", "10.2.0.11", 60), 5, packet(VIP, 80));
    const k = packet(VIP, 9999);
    expect(t.check(k, 5, false, undefined)).toBe(1n);
    expect(k[REG4]).toBe(0x0a02000b);
    expect(k[REG8]).toBe(0);

    const v6 = (): Uint32Array => {
      const p = newKey();
      p[W.METADATA] = 5;
      setField(p, field("eth_type"), 0x86dd);
      setField(p, field("nw_proto"), 6);
      p[W.IPV6_SRC + 3] = 0x11;
      p.set([0xfd000000, 0, 0, 1], W.IPV6_DST);
      setField(p, field("tp_dst"), 80);
      return p;
    };
    t.commit(commit("[fd00::1]:80", "[fd02::12]:8080", 60, "tcp"), 5, v6());
    const onSwitch = v6();
    expect(t.check(onSwitch, 5, true, undefined)).toBe(1n);
    expect([...onSwitch.subarray(W.REG0, W.REG0 + 4)]).toEqual([0xfd020000, 0, 0, 0x12]);
    const onRouter = v6();
    expect(t.check(onRouter, 5, false, undefined)).toBe(1n);
    expect([...onRouter.subarray(REG4, REG4 + 4)]).toEqual([0xfd020000, 0, 0, 0x12]);
  });

  it("forgets a session unused for longer than its timeout, and moves its version when a session comes, changes or goes", () => {
    const clock = new CtClock();
    const t = new LbAffinityTable(clock);
    const v0 = t.version;
    const a = commit("10.96.0.10:80", "10.2.0.11:8080", 10, "tcp");
    t.commit(a, 5, packet(VIP, 80));
    const v1 = t.version;
    expect(v1).not.toBe(v0);
    // Learning the same again, or using it, restarts the timeout without a new version.
    clock.now = 9_000;
    t.commit(a, 5, packet(VIP, 80));
    expect(t.version).toBe(v1);
    clock.now = 18_000;
    expect(t.check(packet(VIP, 80), 5, true, undefined)).toBe(1n);
    clock.now = 28_000;
    expect(t.version).toBe(v1);
    expect(t.check(packet(VIP, 80), 5, true, undefined)).toBe(1n);
    // Another backend replaces it: a new version.
    t.commit(commit("10.96.0.10:80", "10.2.0.12:8080", 10, "tcp"), 5, packet(VIP, 80));
    const v2 = t.version;
    expect(v2).not.toBe(v1);
    clock.now = 38_001;
    expect(t.version).not.toBe(v2);
    expect(t.size).toBe(0);
    expect(t.check(packet(VIP, 80), 5, true, undefined)).toBe(0n);
  });

  it("marks what a lookup reads: the datapath and family always, the addresses, protocol and port once a session exists", () => {
    const t = new LbAffinityTable();
    const wc = new Uint32Array(newKey().length);
    t.check(packet(VIP, 80), 5, true, wc);
    expect(wc[W.METADATA]).toBe(0xffffffff);
    expect(wc[W.NW_SRC]).toBe(0);
    t.commit(commit("10.96.0.10:80", "10.2.0.11:8080", 10, "tcp"), 5, packet(VIP, 80));
    t.check(packet(VIP, 80), 5, true, wc);
    expect(wc[W.NW_SRC]).toBe(0xffffffff);
    expect(wc[W.NW_DST]).toBe(0xffffffff);
  });
});

describe("load balancer affinity in replay", () => {
  it("counts the packet that teaches a session under its own drop reason, and delivers the next connection", () => {
    const conv = CONVERSATIONS[LB_AFFINITY]!;
    const net = oracleNetwork(conv.network, true);
    if (!net.ok) throw new Error(net.diags[0]!.message);
    const packets = conv.packets(net.value);
    if (!packets.ok) throw new Error(packets.diags[0]!.message);
    const r = new Replayer(net.value, {});
    const at = r.injectionFor("a")!;
    // The first packet to the first VIP, and the new connection to it at 2 s.
    for (const p of [packets.value[0]!, packets.value.find((x) => x.at === 2000)!]) {
      const key = new Uint32Array(KEY_WORDS);
      extractKey(p.frame, 0, p.frame.length, p.frame.length, 1, key, 0, false);
      r.beginPacket(p.frame, 0, p.frame.length);
      r.clock!.now = p.at!;
      r.group.inject(at.datapath, at.entry, key);
    }
    const s = r.group.stats();
    expect(Object.entries(s.drops)).toEqual([[expect.stringMatching(/^lb-affinity-learn \(loadBalancers\[web\]\) at sw1 ls_in_lb_aff_learn/), 1]]);
    expect(Object.values(s.outputs).reduce((a, b) => a + b, 0)).toBe(1);
    expect(at.datapath.exec.affinity!.size).toBe(1);
  });
});
