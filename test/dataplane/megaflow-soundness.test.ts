/**
 * Megaflow soundness, as a property: for a packet P, the slow path's translation gives a mask M
 * and actions A (dataplane/datapath.ts). Any packet Q that agrees with P on every bit of M must get
 * the same actions from the slow path: the same outputs, tunnels, drops and effects, in order,
 * with the same resulting packets when A's writes are applied to Q.
 *
 * Networks: every scenario in scenarios/, fixtures/ovs/select-groups.yaml, whose load
 * balancers and reroute policies make select groups (a member chosen by a hash of the packet, and
 * `dp_hash` kept for the passes after), and fixtures/ovs/many-backends.yaml, whose groups are too
 * large for a `dp_hash` table (the member chosen in the translation by a hash of the packet), and
 * fixtures/ovs/lb-affinity.yaml with sessions learned for some clients (the backend loaded from
 * ovn-controller's affinity table). Packets: random fields drawn from each network's own
 * addresses, MACs and ports (so they hit real rules) and from random values; Q fills the bits
 * outside M at random. Passes after conntrack (recirculations) are checked too: P's conntrack
 * effects are run to get the next pass's key.
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIpv4, parseMac } from "../../src/base/index.js";
import { compilePhysical, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { DatapathGroup, applySets, type Datapath, type DpActions } from "../../src/dataplane/index.js";
import type { CallAction } from "../../src/ofp/index.js";
import { KEY_WORDS, W } from "../../src/flow/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const scenarios = readdirSync(join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml")).sort();

interface World {
  readonly group: DatapathGroup;
  readonly entries: { dp: Datapath; entry: number; vif: string }[];
  readonly macs: number[][];
  readonly ips: number[];
}

function world(file: string, extraIps: readonly number[] = []): World | undefined {
  const sc = loadNetworkFile(join(ROOT, file.includes("/") ? "" : "scenarios", file));
  if (!sc.ok) return undefined;
  const net = sc.value.network;
  const plan = compilePhysical(net);
  if (!plan.ok) return undefined;
  const group = DatapathGroup.fromPlans([plan.value], (c) => ({ calls: portSecurityCalls(net, plan.value.chassis.get(c)!.program), macBindings: traceInputs(net).macBindings }), { cache: { emcInsertInvProb: 0 } });
  const entries: { dp: Datapath; entry: number; vif: string }[] = [];
  for (const c of plan.value.chassis.values()) {
    if (c.remote) continue;
    for (const v of c.vifs.values()) {
      const dp = group.datapath(c.name)!;
      entries.push({ dp, entry: dp.injectId(v.datapath, v.port), vif: v.name });
    }
  }
  const macs: number[][] = [];
  const ips: number[] = [...extraIps];
  for (const lb of net.loadBalancers.values()) {
    for (const vip of lb.vips.keys()) {
      const ip = parseIpv4(vip.split(":")[0]!);
      if (ip !== undefined) ips.push(ip >>> 0);
    }
  }
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      for (const a of p.addresses) {
        for (const tok of a.split(/\s+/)) {
          const m = parseMac(tok);
          if (m) macs.push([(m[0]! << 8) | m[1]!, ((m[2]! << 24) | (m[3]! << 16) | (m[4]! << 8) | m[5]!) >>> 0]);
          const ip = parseIpv4(tok);
          if (ip !== undefined) ips.push(ip >>> 0);
        }
      }
    }
  }
  for (const r of net.routers.values()) {
    for (const p of r.ports.values()) {
      const m = parseMac(p.mac);
      if (m) macs.push([(m[0]! << 8) | m[1]!, ((m[2]! << 24) | (m[3]! << 16) | (m[4]! << 8) | m[5]!) >>> 0]);
      for (const n of p.networks) {
        const ip = parseIpv4(n.split("/")[0]!);
        if (ip !== undefined) ips.push(ip >>> 0);
      }
    }
  }
  return entries.length === 0 ? undefined : { group, entries, macs, ips };
}

function packetArb(w: World): fc.Arbitrary<{ entry: number; key: Uint32Array }> {
  const mac = fc.oneof(fc.constantFrom(...w.macs, [0xffff, 0xffffffff]), fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff })));
  const ip = fc.oneof(fc.constantFrom(...w.ips, 0x08080808, 0xffffffff, 0x0a600000 | 10), fc.integer({ min: 0, max: 0xffffffff }));
  const port = fc.oneof(fc.constantFrom(53, 80, 8080, 443, 9090, 5353, 67, 68), fc.integer({ min: 0, max: 0xffff }));
  return fc
    .record({
      entry: fc.integer({ min: 0, max: w.entries.length - 1 }),
      dst: mac,
      src: mac,
      kind: fc.constantFrom("tcp", "udp", "icmp", "arp"),
      nwSrc: ip,
      nwDst: ip,
      sport: port,
      dport: port,
      ttl: fc.constantFrom(64, 1, 2, 255),
      flags: fc.constantFrom(0x02, 0x10, 0x12, 0x04),
    })
    .map((r) => {
      const k = new Uint32Array(KEY_WORDS);
      k[W.ETH_DST] = r.dst[0]!;
      k[W.ETH_DST + 1] = r.dst[1]! >>> 0;
      k[W.ETH_SRC] = r.src[0]!;
      k[W.ETH_SRC + 1] = r.src[1]! >>> 0;
      k[W.NW_SRC] = r.nwSrc >>> 0;
      k[W.NW_DST] = r.nwDst >>> 0;
      if (r.kind === "arp") {
        k[W.ETH_TYPE] = 0x0806;
        k[W.NW] = 1;
        k[W.ARP_SHA] = r.src[0]!;
        k[W.ARP_SHA + 1] = r.src[1]! >>> 0;
      } else {
        k[W.ETH_TYPE] = 0x0800;
        const proto = r.kind === "tcp" ? 6 : r.kind === "udp" ? 17 : 1;
        k[W.NW] = ((r.ttl << 16) | proto) >>> 0;
        k[W.TP] = r.kind === "icmp" ? ((8 << 16) | 0) >>> 0 : (((r.sport & 0xffff) << 16) | (r.dport & 0xffff)) >>> 0;
        if (r.kind === "tcp") k[W.TCP_FLAGS] = r.flags;
      }
      return { entry: r.entry, key: k };
    });
}

/**
 * Describes `acts` applied to `key`: every op, with the packet it produces (a megaflow's writes
 * applied to `key`, or the packet itself in the actions of one packet).
 */
function effectOf(acts: DpActions, key: Uint32Array): string[] {
  const s = new Uint32Array(KEY_WORDS);
  const w = (op: { sets: Uint32Array; packet: Uint32Array | undefined }): string => Array.from(op.packet ?? applySets(key, op.sets, s)).join(",");
  return [
    ...acts.outputs.map((o) => `out ${o.datapath}/${o.port} ${w(o)}`),
    ...acts.tunnels.map((o) => `tunnel ${o.chassis} ${o.datapath}/${o.inport}/${o.outport} ${w(o)}`),
    ...acts.drops.map((o) => `drop ${o.record.reason} ${o.record.ruleId ?? ""} ${o.record.table} ${w(o)}`),
    ...acts.effects.map((e) => (e.kind === "ct" ? `ct ${e.action.kind} zone ${e.request.zone} resume ${e.resume} ${w(e)}` : e.kind === "learn" ? `learn ${e.action.fn} ${w(e)}` : `buffer ${e.datapath} ${e.v6} ${w(e)}`)),
  ];
}

/** Checks one pass: P's megaflow against random Q; returns the keys of the passes that follow. */
function checkPass(dp: Datapath, p: Uint32Array, fill: Uint32Array, seen?: (actions: DpActions) => void): Uint32Array[] {
  const { mask, actions } = dp.translate(p);
  seen?.(actions);
  const q = new Uint32Array(KEY_WORDS);
  for (let i = 0; i < KEY_WORDS; i++) q[i] = ((p[i]! & mask[i]!) | (fill[i]! & ~mask[i]!)) >>> 0;
  const direct = dp.translate(q, false).actions;
  expect(effectOf(actions, q)).toEqual(effectOf(direct, q));
  const next: Uint32Array[] = [];
  for (const e of actions.effects) {
    if (e.kind !== "ct" || e.resume < 0) continue;
    const k = applySets(p, e.sets, new Uint32Array(KEY_WORDS));
    dp.exec.conntrack(e.action, e.request, k);
    k[W.RECIRC_ID] = e.resume;
    next.push(k);
  }
  return next;
}

/**
 * A packet from a (MAC 00:00:00:0x:xx:xx with `macLo` its low four bytes) to the router's MAC
 * 00:00:00:01:00:01, entering at `entry`: `flow` is its destination, IP protocol and destination
 * port; a TCP packet is a SYN.
 */
function fromA(entry: number, flow: readonly [number, number, number], nwSrc: number, sport: number, macLo: number): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  k[W.RECIRC_ID] = entry;
  k[W.ETH_SRC + 1] = macLo;
  k[W.ETH_DST + 1] = 0x00010001;
  k[W.ETH_TYPE] = 0x0800;
  const [dst, proto, dport] = flow;
  k[W.NW] = ((64 << 16) | proto) >>> 0;
  k[W.NW_SRC] = nwSrc;
  k[W.NW_DST] = dst;
  k[W.TP] = ((sport << 16) | dport) >>> 0;
  if (proto === 6) k[W.TCP_FLAGS] = 0x02;
  return k;
}

/** Destinations behind select-groups.yaml's reroute policies. */
const SELECT_GROUP_DESTINATIONS = ["10.8.0.1", "10.8.0.2", "10.8.0.3", "10.8.9.5", "10.8.9.6"].map((a) => parseIpv4(a)! >>> 0);

describe.each([...scenarios, "fixtures/ovs/select-groups.yaml"])("megaflows are sound on %s", (file) => {
  const w = world(file, file.startsWith("fixtures/") ? SELECT_GROUP_DESTINATIONS : []);
  it.skipIf(!w)("a packet that agrees with a megaflow on its mask gets its actions", () => {
    fc.assert(
      fc.property(packetArb(w!), fc.uint32Array({ minLength: KEY_WORDS, maxLength: KEY_WORDS }), ({ entry, key }, fill) => {
        const at = w!.entries[entry]!;
        key[W.RECIRC_ID] = at.entry;
        let keys = [key];
        for (let depth = 0; depth < 6 && keys.length > 0; depth++) keys = keys.flatMap((k) => checkPass(at.dp, k, fill));
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe("megaflows are sound where select groups choose (fixtures/ovs/select-groups.yaml)", () => {
  const w = world("fixtures/ovs/select-groups.yaml")!;
  // Each VIP with its protocol and port, and the policies' destinations with either protocol.
  const vip = (a: string, proto: number, dport: number): [number, number, number] => [parseIpv4(a)! >>> 0, proto, dport];
  const flows = [vip("10.96.0.10", 6, 80), vip("10.96.0.11", 17, 53), vip("10.96.0.12", 6, 80), vip("10.96.0.20", 6, 80), ...SELECT_GROUP_DESTINATIONS.flatMap((d) => [[d, 6, 443] as [number, number, number], [d, 17, 53] as [number, number, number]])];
  it("a packet from a to a VIP or through a reroute policy: the chosen member, and dp_hash after", () => {
    const at = w.entries.find((e) => e.vif === "a")!;
    const arb = fc.record({
      nwSrc: fc.oneof(fc.constant(parseIpv4("10.1.0.10")! >>> 0), fc.integer({ min: 0, max: 0xffffffff })),
      flow: fc.constantFrom(...flows),
      sport: fc.integer({ min: 1, max: 0xffff }),
    });
    let reached = 0;
    fc.assert(
      fc.property(arb, fc.uint32Array({ minLength: KEY_WORDS, maxLength: KEY_WORDS }), (r, fill) => {
        let keys: Uint32Array[] = [fromA(at.entry, r.flow, r.nwSrc, r.sport, 0x0001000a)];
        for (let depth = 0; depth < 8 && keys.length > 0; depth++) {
          keys = keys.flatMap((x) => checkPass(at.dp, x, fill));
          if (keys.some((x) => x[W.DP_HASH] !== 0)) reached++;
        }
      }),
      { numRuns: 300 },
    );
    // The load balancers' groups ran (they leave dp_hash in the key) on a good share of them.
    expect(reached).toBeGreaterThan(30);
  }, 120_000);
});

describe("megaflows are sound where load balancers keep affinity (fixtures/ovs/lb-affinity.yaml)", () => {
  const w = world("fixtures/ovs/lb-affinity.yaml")!;
  const ip = (a: string): number => parseIpv4(a)! >>> 0;
  const flows: [number, number, number][] = [[ip("10.96.0.10"), 6, 80], [ip("10.96.0.11"), 17, 53], [ip("10.96.0.20"), 6, 80], [ip("10.2.0.11"), 6, 8080]];
  it("a packet from a to a VIP, with sessions learned for some clients: the session's backend, or the group's", () => {
    const at = w.entries.find((e) => e.vif === "a")!;
    // Sessions for a and for 10.1.0.99, as commit_lb_aff learns them on sw1 and lr1.
    const table = at.dp.exec.affinity!;
    const prog = at.dp.exec.program;
    const commits = (dp: string): CallAction[] =>
      prog.datapaths
        .get(prog.datapathByName.get(dp)!)!
        .ingress.tables.flatMap((t) => t.rules.flatMap((r) => r.actions))
        .filter((a): a is CallAction => a.kind === "call" && a.fn === "commit_lb_aff");
    for (const [dp, name] of [
      ["sw1", "sw1"],
      ["lr1", "lr1"],
    ] as const) {
      const key = prog.datapathByName.get(name)!;
      for (const a of commits(dp).filter((_, i) => i % 3 === 1)) {
        for (const src of ["10.1.0.10", "10.1.0.99"]) {
          const k = new Uint32Array(KEY_WORDS);
          k[W.NW_SRC] = ip(src);
          table.commit(a, key, k);
        }
      }
    }
    expect(table.size).toBeGreaterThan(4);
    let known = 0;
    fc.assert(
      fc.property(
        fc.record({ nwSrc: fc.constantFrom(ip("10.1.0.10"), ip("10.1.0.99"), ip("10.1.0.7")), flow: fc.constantFrom(...flows), sport: fc.integer({ min: 1, max: 0xffff }) }),
        fc.uint32Array({ minLength: KEY_WORDS, maxLength: KEY_WORDS }),
        (r, fill) => {
          let keys: Uint32Array[] = [fromA(at.entry, r.flow, r.nwSrc, r.sport, 0x0001000a)];
          for (let depth = 0; depth < 8 && keys.length > 0; depth++)
            keys = keys.flatMap((x) =>
              checkPass(at.dp, x, fill, (acts) => {
                if (acts.effects.some((e) => e.kind === "learn" && e.action.fn === "chk_lb_aff")) known++;
              }),
            );
        },
      ),
      { numRuns: 200 },
    );
    // A good share of the packets found a session.
    expect(known).toBeGreaterThan(30);
  }, 120_000);
});

describe("megaflows are sound where a group is too large for dp_hash (fixtures/ovs/many-backends.yaml)", () => {
  const w = world("fixtures/ovs/many-backends.yaml")!;
  const dst = (a: string, proto: number, dport: number): [number, number, number] => [parseIpv4(a)! >>> 0, proto, dport];
  const flows = [dst("10.96.0.30", 6, 80), dst("10.96.0.31", 17, 53), ...["10.7.0.1", "10.7.0.2", "10.7.200.9"].flatMap((d) => [dst(d, 6, 443), dst(d, 17, 53)])];
  it("a packet from a to a VIP of 300 backends or through the policy of 300 next hops", () => {
    const at = w.entries.find((e) => e.vif === "a")!;
    const arb = fc.record({
      nwSrc: fc.oneof(fc.constant(parseIpv4("10.1.0.10")! >>> 0), fc.integer({ min: 0, max: 0xffffffff })),
      flow: fc.constantFrom(...flows),
      sport: fc.integer({ min: 1, max: 0xffff }),
      macLo: fc.oneof(fc.constant(0x0001000a), fc.integer({ min: 0, max: 0xffffffff })),
    });
    let passes = 0;
    fc.assert(
      fc.property(arb, fc.uint32Array({ minLength: KEY_WORDS, maxLength: KEY_WORDS }), (r, fill) => {
        let keys: Uint32Array[] = [fromA(at.entry, r.flow, r.nwSrc, r.sport, r.macLo)];
        for (let depth = 0; depth < 8 && keys.length > 0; depth++) {
          passes += keys.length;
          keys = keys.flatMap((x) => checkPass(at.dp, x, fill));
        }
      }),
      { numRuns: 200 },
    );
    // Most packets get past their first pass (port security lets a's own MAC and address through).
    expect(passes).toBeGreaterThan(300);
  }, 120_000);
});
