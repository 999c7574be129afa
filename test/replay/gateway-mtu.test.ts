/**
 * A gateway port's MTU (`gateway_mtu`) in replay: `check_pkt_larger` compares each packet's own
 * length, so a flow's long packets are answered with ICMP "fragmentation needed" and its short
 * ones go on, with the cache as without it (a megaflow with a branch for each answer, or a packet
 * translated alone); the error carries the MTU (`icmp4.frag_mtu`).
 * fixtures/ovs/gateway-mtu.yaml is the network the replay oracle's `gateway-mtu` conversation
 * holds to real OVS (test/ovn/ovs-replay-more.test.ts); these are the same rules seen from inside.
 * `trace --length` makes the same comparison for a traced packet.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { compilePhysical } from "../../src/compile/index.js";
import { frameL3Length, icmpErrorL3Length, ovsIcmp6UdpQuirk } from "../../src/dataplane/index.js";
import { KEY_WORDS, extractKey, frameFromKey, generatedFrame, l3At } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { sendMicroflow } from "./send-frame.js";

const FILE = "fixtures/ovs/gateway-mtu.yaml";

const G1 = 'inport == "vm-g1" && eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01 && ip4.src == 10.11.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 42020 && udp.dst == 53';
const UP = 'inport == "upstream" && eth.src == 00:00:00:ac:00:01 && eth.dst == 00:00:00:ac:00:02 && ip4.src == 1.1.1.1 && ip4.dst == 172.16.0.10 && ip.ttl == 64 && udp && udp.src == 42024 && udp.dst == 53';
const D1 = 'inport == "vm-d1" && eth.src == 00:00:00:0c:00:02 && eth.dst == 00:00:00:0c:00:01 && ip4.src == 10.12.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 42026 && udp.dst == 53';

type Sent = { port: string; frame: Uint8Array };

/** A replayer of the fixture that sends frames of microflows with `payload` bytes of UDP data. */
function replayer(cache: false | { emcInsertInvProb: number }, file = FILE): { send: (microflow: string, payload: number) => Sent[]; r: Replayer } {
  const loaded = loadNetworkText(readFileSync(file, "utf8"), file);
  if (!loaded.ok) throw new Error(loaded.diags.map((d) => d.message).join("; "));
  const net = loaded.value.network;
  const plan = compilePhysical(net);
  if (!plan.ok) throw new Error("physical plan");
  const r = new Replayer(net, { cache });
  const cur = r.current;
  let got: Sent[] = [];
  r.group.sink = {
    output: (_chassis, op, k) => got.push({ port: op.portName, frame: generatedFrame(cur.data, cur.offset, cur.caplen, cur.key, k, r.group.currentQuote()) ?? frameFromKey(k) }),
    drop: () => {},
  };
  const send = (microflow: string, payload: number): Sent[] => {
    const at = r.injectionFor(/^inport == "([^"]+)"/.exec(microflow)![1]!)!;
    got = [];
    sendMicroflow(r, plan.value.chassis.get(at.chassis)!.program, at, microflow, payload);
    return got;
  };
  return { send, r };
}

/** An IPv4 ICMP message's type, code and the last 16 bits of the rest of its header (the MTU of "fragmentation needed"). */
function icmp(f: Uint8Array): { type: number; code: number; mtu: number; src: string; dst: string } | undefined {
  if (f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 1) return undefined;
  const l4 = 14 + (f[14]! & 0x0f) * 4;
  return { type: f[l4]!, code: f[l4 + 1]!, mtu: (f[l4 + 6]! << 8) | f[l4 + 7]!, src: f.subarray(26, 30).join("."), dst: f.subarray(30, 34).join(".") };
}

const CACHES: readonly [string, false | { emcInsertInvProb: number }][] = [
  ["the exact-match cache", { emcInsertInvProb: 1 }],
  ["the megaflows alone", { emcInsertInvProb: 0 }],
  ["no cache", false],
];

describe("gateway_mtu in replay", () => {
  it.each(CACHES)("judges each packet of one flow by its own length, with %s", (_name, cache) => {
    const { send, r } = replayer(cache);
    // gr1-public's MTU is 1000: up to 1014 bytes with the Ethernet header pass (UDP data of 972).
    const sizes = [900, 1200, 972, 973, 900, 1200];
    const where = sizes.map((n) => send(G1, n).map((s) => s.port).join(","));
    expect(where).toEqual(["upstream", "vm-g1", "upstream", "vm-g1", "upstream", "vm-g1"]);
    const errors = sizes.map((n) => send(G1, n)).flat().filter((s) => s.port === "vm-g1");
    for (const e of errors) {
      expect(icmp(e.frame)).toEqual({ type: 3, code: 4, mtu: 1000, src: "10.11.0.1", dst: "10.11.0.2" });
    }
    // With a cache, the pass that checks the length is one megaflow with a branch for each answer
    // (as OVS's check_pkt_len): after the first packet of each size, the rest hit the cache.
    const st = r.group.stats();
    expect(st.lengthUpcalls).toBe(0);
    if (cache !== false) expect(st.cache.megaflowHits + st.cache.emcHits).toBeGreaterThan(st.upcalls);
  });

  it.each(CACHES)("translates alone each long packet coming in through the gateway port, whose error is checked again, with %s", (_name, cache) => {
    const { send, r } = replayer(cache);
    const where = [500, 1200, 500, 1200, 500, 1200].map((n) => send(UP, n).map((s) => s.port).join(","));
    expect(where).toEqual(["vm-g1", "upstream", "vm-g1", "upstream", "vm-g1", "upstream"]);
    // The error re-enters the gateway port's admission stage, which checks its length too: that
    // side of the branch is left to each packet; the short packets' side is installed.
    if (cache !== false) expect(r.group.stats().lengthUpcalls).toBe(3);
  });

  it.each(CACHES)("answers a long packet coming in through the gateway port, and one going out of a distributed gateway port, with %s", (_name, cache) => {
    const { send } = replayer(cache);
    const inbound = send(UP, 1200);
    expect(inbound.map((s) => s.port)).toEqual(["upstream"]);
    expect(icmp(inbound[0]!.frame)).toEqual({ type: 3, code: 4, mtu: 1000, src: "172.16.0.2", dst: "1.1.1.1" });
    expect(send(UP, 500).map((s) => s.port)).toEqual(["vm-g1"]);
    // dr1-public's MTU is 1200.
    const out = send(D1, 1300);
    expect(out.map((s) => s.port)).toEqual(["vm-d1"]);
    expect(icmp(out[0]!.frame)).toMatchObject({ type: 3, code: 4, mtu: 1200, dst: "10.12.0.2" });
    expect(send(D1, 1100).map((s) => s.port)).toEqual(["upstream"]);
  });

  it("gives the error the length ovn-controller composes it with, quoting as much as fits in 576 bytes", () => {
    const { send } = replayer(false);
    for (const payload of [973, 1200]) {
      const e = send(G1, payload).find((s) => s.port === "vm-g1")!;
      const quotedLength = 20 + 8 + payload;
      expect(e.frame.length).toBe(14 + icmpErrorL3Length(false, quotedLength));
      expect(e.frame.length).toBe(576);
      extractKey(e.frame, 0, e.frame.length, e.frame.length, 1, new Uint32Array(KEY_WORDS), 0, false);
      expect(frameL3Length(l3At.start, l3At.length, e.frame.length)).toBe(562);
    }
  });
});

describe("trace --length", () => {
  const trace = async (...more: string[]): Promise<{ code: number; out: string; err: string }> => {
    const io = memoryIo();
    const code = await run(["trace", FILE, "--from", "vm-g1", "--to", "8.8.8.8", "--udp", "53", "--minimal", "--no-path", ...more], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  it("measures the packet against the gateway MTU, where ovn-trace (and trace without it) takes no packet as larger", async () => {
    const plain = await trace();
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('output("upstream");');
    const fits = await trace("--length", "1014");
    expect(fits.out).toContain('output("upstream");');
    expect(fits.out).not.toContain("icmp4.code = 4;");
    const over = await trace("--length", "1015");
    expect(over.out).toContain("icmp4.code = 4;");
    expect(over.out).toContain('output("vm-g1");');
    expect(over.out).not.toContain('output("upstream");');
  });

  it("refuses a length that is no frame's", async () => {
    const r = await trace("--length", "10");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--length 10: expected a whole number of bytes from 14 to 65535");
  });
});

describe("an ICMPv6 error translated by conntrack for a UDP connection", () => {
  it("has bytes 6-7 of its header changed as OVS 3.1 changes them: a packet too big's MTU", () => {
    for (const cache of [{ emcInsertInvProb: 1 }, false] as const) {
      const { send } = replayer(cache, "fixtures/ovs/icmp6-nat.yaml");
      const got = send('inport == "a" && eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::10 && ip6.dst == fd00:96::2 && ip.ttl == 64 && udp && udp.src == 40000 && udp.dst == 80', 1450).map((x) => x.frame);
      expect(got).toHaveLength(1);
      const f = got[0]!;
      // ICMPv6 packet too big from the VIP (translated back from the router's fd00:1::1).
      expect([f[54], f[55]]).toEqual([2, 0]);
      expect([...f.subarray(22, 38)]).toEqual([0xfd, 0, 0, 0x96, ...Array(11).fill(0), 2]);
      // The MTU the router wrote, 1400, updated as a UDP checksum would be for fd00:1::1 becoming
      // fd00:96::2, as real OVS sends it (fixtures/ovs/replay-icmp6-nat.json).
      const router = [0xfd000001, 0, 0, 1];
      const vip = [0xfd000096, 0, 0, 2];
      expect((f[60]! << 8) | f[61]!).toBe(ovsIcmp6UdpQuirk(1400, router, vip));
      expect((f[60]! << 8) | f[61]!).not.toBe(1400);
    }
  });
});
