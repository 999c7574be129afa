/**
 * The logical executor on hand-built programs: pipelines, multicast, patch ports, loops and
 * limits, conntrack (real table and ovn-trace mode), and a randomized never-throws check.
 */
import { describe, expect, it } from "vitest";
import { CT, W, field, getField, setField } from "../../src/flow/index.js";
import { parseActions } from "../../src/compile/index.js";
import type { Action } from "../../src/ofp/index.js";
import { Conntrack, LogicalExecutor, parseCtState, passThroughRuns, type TraceSink, type TraceBranch } from "../../src/dataplane/index.js";
import { ip, makeLogicalProgram, next, output, setOutport, setReg, tcpKey, type DpSpec } from "./build.js";

/**
 * The executor's tables use the linear reference classifier here: the tuple-space classifier
 * currently misses rules whose masked words have bit 31 set (see the differential test at the
 * end), and these tests are about the executor.
 */
const CLS = { classifier: "linear" } as const;

const MAC2 = [0x0a00, ip(10, 0, 0, 2)];
const BCAST = [0xffff, 0xffffffff];

/** Switch 1: vm1..vm3 and a router port 4 patched to router 2 (port 1), which has ext (port 2). */
function switchAndRouter(extra: DpSpec[] = []) {
  const sw: DpSpec = {
    key: 1,
    name: "sw",
    ports: [
      { name: "vm1", key: 1, type: "" },
      { name: "vm2", key: 2, type: "" },
      { name: "vm3", key: 3, type: "" },
      { name: "sw-rtr", key: 4, type: "router", peer: { datapath: 2, port: 1 } },
    ],
    multicast: [{ name: "_MC_flood", key: 32768, ports: [1, 2, 3] }],
    ingress: [
      { table: 0, priority: 50, match: { reg14: 3, nw_src: ip(6, 6, 6, 6) }, actions: [], stage: "ls_in_port_sec_l2", origin: "port[vm3]" },
      { table: 0, priority: 0, actions: [setReg(5, 7), next()] },
      { table: 1, priority: 50, match: { eth_dst: MAC2 }, actions: [setOutport(2), output] },
      { table: 1, priority: 50, match: { eth_dst: BCAST }, actions: [setOutport(32768), output] },
      { table: 1, priority: 50, match: { nw_dst: ip(192, 0, 2, 9) }, actions: [setOutport(4), output] },
      { table: 1, priority: 40, match: { nw_dst: ip(10, 0, 0, 1) }, actions: [setOutport(1), output] },
    ],
    egress: [
      { table: 0, priority: 100, match: { reg15: 3, tp_dst: 23 }, actions: [{ kind: "drop", reason: "acl-deny" }], stage: "ls_out_acl", origin: "acl[no-telnet]" },
      { table: 0, priority: 90, match: { reg15: 4 }, actions: [setReg(6, 7), output] },
      { table: 0, priority: 0, actions: [output] },
    ],
  };
  const rtr: DpSpec = {
    key: 2,
    name: "rtr",
    kind: "router",
    ports: [
      { name: "rtr-sw", key: 1, type: "patch", peer: { datapath: 1, port: 4 } },
      { name: "ext", key: 2, type: "" },
    ],
    ingress: [
      { table: 0, priority: 200, match: { reg6: 7 }, actions: [{ kind: "drop", reason: "register-leaked" }] },
      { table: 0, priority: 100, match: { reg14: 1 }, actions: [setOutport(2), { kind: "dec_ttl" }, output] },
    ],
    egress: [{ table: 0, priority: 0, actions: [output] }],
  };
  return makeLogicalProgram([sw, rtr, ...extra]);
}

function keyTo(dstMac: readonly number[], dstIp = ip(10, 0, 0, 2)): Uint32Array {
  const k = tcpKey(ip(10, 0, 0, 1), dstIp, 1000, 80);
  k[W.ETH_DST] = dstMac[0]!;
  k[W.ETH_DST + 1] = dstMac[1]!;
  return k;
}

describe("LogicalExecutor: pipelines", () => {
  it("runs next and output to a VIF through ingress and egress", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const r = ex.run(keyTo(MAC2), { datapath: 1, inport: 1 });
    expect(r.drops).toEqual([]);
    expect(r.outputs.map((o) => o.portName)).toEqual(["vm2"]);
    expect(r.lookups).toBe(3);
    const k = r.outputs[0]!.key;
    expect(k[W.REG0 + 15]).toBe(2);
    expect(k[W.REG0 + 14]).toBe(1);
    // Registers other than inport/outport are cleared between ingress and egress.
    expect(k[W.REG0 + 5]).toBe(0);
    expect(k[W.METADATA]).toBe(1);
  });

  it("builds a datapath's lookups when a packet first meets it, not before", () => {
    // A third datapath whose pipelines fail when read: the executor builds the others' lookups
    // on demand, so a packet that never meets it runs; one that does gets the failure.
    const base = switchAndRouter([{ key: 3, name: "far", ports: [{ name: "far1", key: 1, type: "" }], ingress: [], egress: [] }]);
    const far = base.datapaths.get(3)!;
    const broken = Object.freeze({
      ...far,
      get ingress(): never {
        throw new Error("far's pipelines were read");
      },
      get egress(): never {
        throw new Error("far's pipelines were read");
      },
    });
    const program = { ...base, datapaths: new Map([...base.datapaths].map(([k, dp]) => [k, k === 3 ? broken : dp] as const)) };
    const ex = new LogicalExecutor(program, CLS);
    const r = ex.run(keyTo(MAC2), { datapath: 1, inport: 1 });
    expect(r.outputs.map((o) => o.portName)).toEqual(["vm2"]);
    expect(() => ex.run(keyTo(MAC2), { datapath: 3, inport: 1 })).toThrow("far's pipelines were read");
  });

  it("does not modify the caller's key", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const k = keyTo(MAC2);
    const copy = k.slice();
    ex.run(k, { datapath: 1, inport: 1 });
    expect(k).toEqual(copy);
  });

  it("floods a multicast group to every member but the input port", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const r = ex.run(keyTo(BCAST), { datapath: 1, inport: 1 });
    expect(r.outputs.map((o) => o.portName)).toEqual(["vm2", "vm3"]);
    expect(r.drops).toEqual([]);
  });

  it("includes the input port when flags.loopback is set", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const k = keyTo(BCAST);
    k[W.REG0 + 10] = 1;
    const r = ex.run(k, { datapath: 1, inport: 1 });
    expect(r.outputs.map((o) => o.portName)).toEqual(["vm1", "vm2", "vm3"]);
  });

  it("drops a unicast output back to the input port without loopback", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const r = ex.run(keyTo([0x0a00, 1], ip(10, 0, 0, 1)), { datapath: 1, inport: 1 });
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => d.reason)).toEqual(["loopback"]);
  });

  it("a miss is an implicit drop naming the table and stage", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const r = ex.run(keyTo([0x0a00, 0x99], ip(10, 9, 9, 9)), { datapath: 1, inport: 1 });
    expect(r.outputs).toEqual([]);
    expect(r.drops).toHaveLength(1);
    expect(r.drops[0]).toMatchObject({ reason: "no-match", table: 1, stage: "in_1", datapathName: "sw", pipeline: "ingress" });
  });

  it("names the responsible object of a drop by its rule's provenance", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const k = keyTo(MAC2);
    k[W.NW_SRC] = ip(6, 6, 6, 6);
    const ps = ex.run(k, { datapath: 1, inport: 3 });
    expect(ps.drops[0]).toMatchObject({ reason: "port-security", origin: "port[vm3]", stage: "ls_in_port_sec_l2" });

    const t = keyTo(BCAST);
    setField(t, field("tp_dst"), 23);
    const acl = ex.run(t, { datapath: 1, inport: 1 });
    expect(acl.outputs.map((o) => o.portName)).toEqual(["vm2"]);
    expect(acl.drops).toHaveLength(1);
    expect(acl.drops[0]).toMatchObject({ reason: "acl-drop", detail: "acl-deny", origin: "acl[no-telnet]", pipeline: "egress" });
  });

  it("crosses a patch port into the peer datapath with registers reset", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const r = ex.run(keyTo([0x0a00, 0x77], ip(192, 0, 2, 9)), { datapath: 1, inport: 1 });
    // reg6 = 7 set in the switch's egress would hit the router's "leaked" rule if registers survived.
    expect(r.drops).toEqual([]);
    expect(r.outputs.map((o) => [o.datapathName, o.portName])).toEqual([["rtr", "ext"]]);
    const k = r.outputs[0]!.key;
    expect(k[W.METADATA]).toBe(2);
    expect(k[W.REG0 + 14]).toBe(1);
    expect((k[W.NW]! >>> 16) & 0xff).toBe(63);
  });

  it("in ovn-trace crossing mode registers survive a patch port, as ovn-trace keeps them", () => {
    const ex = new LogicalExecutor(switchAndRouter(), { ...CLS, crossing: "ovn-trace" });
    const r = ex.run(keyTo([0x0a00, 0x77], ip(192, 0, 2, 9)), { datapath: 1, inport: 1 });
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => [d.datapathName, d.detail])).toEqual([["rtr", "register-leaked"]]);
  });

  it("drops on TTL exhaustion in dec_ttl", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    const k = keyTo([0x0a00, 0x77], ip(192, 0, 2, 9));
    setField(k, field("nw_ttl"), 1);
    const r = ex.run(k, { datapath: 1, inport: 1 });
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => d.reason)).toEqual(["ttl-exceeded"]);
  });

  it("reports an unknown datapath as a drop", () => {
    const ex = new LogicalExecutor(switchAndRouter(), CLS);
    expect(ex.run(keyTo(MAC2), { datapath: 99, inport: 1 }).drops[0]!.reason).toBe("unknown-datapath");
  });
});

describe("LogicalExecutor: OpenFlow's stack", () => {
  /** One datapath whose ingress runs `text` and then outputs to port 2. */
  function stackProgram(text: string) {
    const acts = parseActions(text, {});
    if (!acts.ok) throw new Error(acts.diags[0]!.message);
    const dp: DpSpec = {
      key: 1,
      name: "sw",
      ports: [
        { name: "a", key: 1, type: "" },
        { name: "b", key: 2, type: "" },
      ],
      ingress: [{ table: 0, priority: 0, actions: [...acts.value, setOutport(2), output] }],
      egress: [{ table: 0, priority: 0, actions: [output] }],
    };
    return new LogicalExecutor(makeLogicalProgram([dp]), CLS);
  }

  it("push saves a field, pop restores it: a register borrowed for a move comes back as it was", () => {
    // northd's symmetric ECMP reply: eth.dst from ct_label[32..79] by way of xxreg1.
    // (Registers do not reach the output; ip4.src shows what reg4 held after the pop.)
    const ex = stackProgram("reg4 = 0x11111111; push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); ip4.src = reg4;");
    const k = tcpKey(ip(10, 0, 0, 1), ip(10, 0, 0, 2), 1000, 80);
    k.set([0, 0x0000aabb, 0xccddeeff, 0x00000001], W.CT_LABEL);
    const out = ex.run(k, { datapath: 1, inport: 1 }).outputs[0]!.key;
    expect([out[W.ETH_DST], out[W.ETH_DST + 1]]).toEqual([0xaabb, 0xccddeeff]);
    expect(out[W.NW_SRC]).toBe(0x11111111);
  });

  it("pops the latest entry first, cuts it to the field's width, and leaves a field as it was when the stack is empty", () => {
    const ex = stackProgram("reg0 = 7; reg1 = 0x1234; reg2 = 0x56; push(reg1); push(reg2); pop(reg1[0..7]); pop(reg3); pop(reg0); ip4.src = reg1; ip4.dst = reg3; tcp.src = reg0[0..15];");
    const k = tcpKey(ip(10, 0, 0, 1), ip(10, 0, 0, 2), 1000, 80);
    const out = ex.run(k, { datapath: 1, inport: 1 }).outputs[0]!.key;
    expect(out[W.NW_SRC]).toBe(0x1256);
    expect(out[W.NW_DST]).toBe(0x1234);
    expect(getField(out, field("tp_src"))).toBe(7);
  });
});

describe("LogicalExecutor: loops and limits", () => {
  const loopDps: DpSpec[] = [
    {
      key: 10,
      name: "ra",
      kind: "router",
      ports: [
        { name: "ra-rb", key: 1, type: "patch", peer: { datapath: 11, port: 1 } },
        { name: "ra-in", key: 2, type: "" },
      ],
      ingress: [{ table: 0, priority: 0, actions: [setReg(10, 1), setOutport(1), output] }],
      egress: [{ table: 0, priority: 0, actions: [output] }],
    },
    {
      key: 11,
      name: "rb",
      kind: "router",
      ports: [{ name: "rb-ra", key: 1, type: "patch", peer: { datapath: 10, port: 1 } }],
      ingress: [{ table: 0, priority: 0, actions: [setReg(10, 1), setOutport(1), output] }],
      egress: [{ table: 0, priority: 0, actions: [output] }],
    },
    {
      key: 12,
      name: "spin",
      ports: [{ name: "p", key: 1, type: "" }],
      ingress: [
        { table: 0, priority: 10, match: { reg1: 1 }, actions: [next(0)] },
        { table: 0, priority: 0, actions: [next(0), { kind: "note", text: "after" }] },
      ],
      egress: [],
    },
  ];

  it("a loop between two datapaths ends with the crossing limit, quickly", () => {
    const ex = new LogicalExecutor(switchAndRouter(loopDps), CLS);
    const t0 = performance.now();
    const r = ex.run(keyTo(MAC2), { datapath: 10, inport: 2 });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => d.reason)).toEqual(["loop-crossings"]);
    expect(r.limitHits).toEqual([{ limit: "maxCrossings", value: 16 }]);
    // 16 crossings, two lookups per datapath visited (ingress and egress).
    expect(r.lookups).toBe(2 * 17);
  });

  it("a self-jumping table ends with the lookup limit; a nested one with the depth limit", () => {
    const ex = new LogicalExecutor(switchAndRouter(loopDps), { ...CLS, limits: { maxLookups: 500, maxDepth: 20 } });
    const k = keyTo(MAC2);
    k[W.REG0 + 1] = 1;
    const tail = ex.run(k, { datapath: 12, inport: 1 });
    expect(tail.drops.map((d) => d.reason)).toEqual(["loop-lookups"]);
    expect(tail.lookups).toBe(500);
    const nested = ex.run(keyTo(MAC2), { datapath: 12, inport: 1 });
    expect(nested.drops.map((d) => d.reason)).toEqual(["loop-depth"]);
    expect(nested.lookups).toBe(21);
  });

  it("limits branches of a flood", () => {
    const ex = new LogicalExecutor(switchAndRouter(), { ...CLS, limits: { maxBranches: 1 } });
    const r = ex.run(keyTo(BCAST), { datapath: 1, inport: 1 });
    expect(r.outputs.map((o) => o.portName)).toEqual(["vm2"]);
    expect(r.drops.map((d) => d.reason)).toEqual(["loop-branches"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Conntrack through the executor

const ZONE = 5;
const ctNext: Action = { kind: "ct", zone: { kind: "const", zone: ZONE }, commit: false, table: 1 };
const ctCommit = (mark = 0): Action => ({ kind: "ct", zone: { kind: "const", zone: ZONE }, commit: true, ...(mark ? { setMark: { value: mark, mask: 0xffffffff } } : {}) });
const ctNat: Action = { kind: "ct", zone: { kind: "const", zone: ZONE }, commit: false, table: 2, nat: { kind: "restore" } };
const VIP = ip(172, 30, 0, 10);
const BACKENDS = [
  { ip: [ip(10, 0, 0, 11)], port: 8080 },
  { ip: [ip(10, 0, 0, 12)], port: 8080 },
  { ip: [ip(10, 0, 0, 13)], port: 8080 },
];

/** One switch: ct; new → LB or commit; est → pass; others drop. Port 1 client, port 2 server side. */
function ctProgram() {
  const ctState = (bits: number) => ({ ct_state: bits });
  return makeLogicalProgram([
    {
      key: 1,
      name: "sw",
      ports: [
        { name: "client", key: 1, type: "" },
        { name: "server", key: 2, type: "" },
      ],
      ingress: [
        { table: 0, priority: 0, actions: [ctNext] },
        { table: 1, priority: 100, match: { ...ctState(CT.TRK | CT.NEW), nw_dst: VIP }, actions: [{ kind: "ct_lb", zone: { kind: "const", zone: ZONE }, table: 2, backends: BACKENDS, mark: true }] },
        { table: 1, priority: 90, match: ctState(CT.TRK | CT.NEW), actions: [ctCommit(0x42), next(2)] },
        { table: 1, priority: 80, match: ctState(CT.TRK | CT.EST), actions: [ctNat] },
        { table: 1, priority: 80, match: ctState(CT.TRK | CT.EST | CT.RPL), actions: [ctNat] },
        { table: 1, priority: 80, match: ctState(CT.TRK | CT.EST | CT.DNAT), actions: [next(2)] },
        { table: 1, priority: 80, match: ctState(CT.TRK | CT.EST | CT.RPL | CT.SNAT), actions: [next(2)] },
        { table: 1, priority: 0, actions: [{ kind: "drop", reason: "acl-deny" }], stage: "ls_in_acl", origin: "acl[default-deny]" },
        { table: 2, priority: 10, match: { reg14: 1 }, actions: [setOutport(2), output] },
        { table: 2, priority: 10, match: { reg14: 2 }, actions: [setOutport(1), output] },
      ],
      egress: [{ table: 0, priority: 0, actions: [output] }],
    },
  ]);
}

function ctStateOfKey(k: Uint32Array): number {
  return k[W.CT_STATE_ZONE]! & 0xff;
}

describe("LogicalExecutor: conntrack", () => {
  it("new → commit → est, with the reply marked rpl and ct_mark persisting", () => {
    const ex = new LogicalExecutor(ctProgram(), CLS);
    const c = ip(10, 0, 0, 1);
    const s = ip(10, 0, 0, 50);
    const first = ex.run(tcpKey(c, s, 1000, 22), { datapath: 1, inport: 1 });
    expect(first.outputs).toHaveLength(1);
    // The commit does not recirculate: the mark is the connection's, and OVS leaves the packet
    // untracked after it (every ct field cleared).
    expect(ctStateOfKey(first.outputs[0]!.key)).toBe(0);
    expect(first.outputs[0]!.key[W.CT_MARK]).toBe(0);
    expect(first.outputs[0]!.key[W.CT_NW_DST]).toBe(0);
    expect(ex.connections!.size).toBe(1);

    const again = ex.run(tcpKey(c, s, 1000, 22), { datapath: 1, inport: 1 });
    expect(again.outputs.map((o) => o.portName)).toEqual(["server"]);
    // Est packets go through ct(nat) (restoring NAT, of which there is none).
    expect(ctStateOfKey(again.outputs[0]!.key)).toBe(CT.TRK | CT.EST);
    expect(again.outputs[0]!.key[W.CT_MARK]).toBe(0x42);

    const reply = ex.run(tcpKey(s, c, 22, 1000), { datapath: 1, inport: 2 });
    expect(reply.outputs.map((o) => o.portName)).toEqual(["client"]);
    expect(ctStateOfKey(reply.outputs[0]!.key)).toBe(CT.TRK | CT.EST | CT.RPL);
    expect(reply.outputs[0]!.key[W.CT_MARK]).toBe(0x42);
    // The original-direction tuple is reported for the reply too.
    expect(reply.outputs[0]!.key[W.CT_NW_SRC]).toBe(c);
  });

  it("with ovn-trace's crossing, a plain commit leaves the packet's ct fields as they were", () => {
    const ex = new LogicalExecutor(ctProgram(), { ...CLS, crossing: "ovn-trace" });
    const c = ip(10, 0, 0, 1);
    const s = ip(10, 0, 0, 50);
    const first = ex.run(tcpKey(c, s, 1000, 22), { datapath: 1, inport: 1 });
    expect(ctStateOfKey(first.outputs[0]!.key)).toBe(CT.TRK | CT.NEW);
    expect(first.outputs[0]!.key[W.CT_MARK]).toBe(0);
    expect(first.outputs[0]!.key[W.CT_NW_DST]).toBe(s);
    expect(ex.connections!.size).toBe(1);
  });

  it("a reply for no connection is new", () => {
    const ex = new LogicalExecutor(ctProgram(), { ...CLS, crossing: "ovn-trace" });
    const r = ex.run(tcpKey(ip(10, 0, 0, 50), ip(10, 0, 0, 1), 22, 1000), { datapath: 1, inport: 2 });
    expect(ctStateOfKey(r.outputs[0]!.key)).toBe(CT.TRK | CT.NEW);
  });

  it("ct_lb picks a backend that stays with the connection, and replies are un-NATed", () => {
    const ex = new LogicalExecutor(ctProgram(), CLS);
    const c = ip(10, 0, 0, 1);
    const first = ex.run(tcpKey(c, VIP, 40000, 80), { datapath: 1, inport: 1 });
    const k1 = first.outputs[0]!.key;
    const chosen = BACKENDS.find((b) => b.ip[0] === k1[W.NW_DST]);
    expect(chosen).toBeDefined();
    expect(k1[W.TP]! & 0xffff).toBe(8080);
    expect(ctStateOfKey(k1)).toBe(CT.TRK | CT.NEW | CT.DNAT);
    expect(k1[W.CT_NW_DST]).toBe(VIP);
    expect(k1[W.CT_MARK]! & 2).toBe(2);

    for (let i = 0; i < 3; i++) {
      const again = ex.run(tcpKey(c, VIP, 40000, 80), { datapath: 1, inport: 1 });
      const k = again.outputs[0]!.key;
      expect(k[W.NW_DST]).toBe(chosen!.ip[0]);
      expect(ctStateOfKey(k)).toBe(CT.TRK | CT.EST | CT.DNAT);
    }
    const reply = ex.run(tcpKey(chosen!.ip[0]!, c, 8080, 40000), { datapath: 1, inport: 2 });
    const kr = reply.outputs[0]!.key;
    expect(kr[W.NW_SRC]).toBe(VIP);
    expect(kr[W.TP]! >>> 16).toBe(80);
    expect(ctStateOfKey(kr)).toBe(CT.TRK | CT.EST | CT.RPL | CT.SNAT);
  });

  it("the backend choice is deterministic across tables and spreads over backends", () => {
    const a = new LogicalExecutor(ctProgram(), CLS);
    const b = new LogicalExecutor(ctProgram(), CLS);
    const seen = new Set<number>();
    for (let sport = 1000; sport < 1300; sport++) {
      const ka = a.run(tcpKey(ip(10, 0, 0, 1), VIP, sport, 80), { datapath: 1, inport: 1 }).outputs[0]!.key;
      const kb = b.run(tcpKey(ip(10, 0, 0, 1), VIP, sport, 80), { datapath: 1, inport: 1 }).outputs[0]!.key;
      expect(ka[W.NW_DST]).toBe(kb[W.NW_DST]);
      seen.add(ka[W.NW_DST]!);
    }
    expect([...seen].sort()).toEqual(BACKENDS.map((x) => x.ip[0]).sort());
  });

  it("--lb-dst chooses the backend of a new connection", () => {
    for (const want of BACKENDS) {
      const ex = new LogicalExecutor(ctProgram(), { ...CLS, lbDst: { ip: want.ip } });
      const k = ex.run(tcpKey(ip(10, 0, 0, 1), VIP, 5555, 80), { datapath: 1, inport: 1 }).outputs[0]!.key;
      expect(k[W.NW_DST]).toBe(want.ip[0]);
    }
  });

  it("a default-deny drop names the ACL", () => {
    const ex = new LogicalExecutor(ctProgram(), CLS);
    const k = tcpKey(ip(10, 0, 0, 1), ip(10, 0, 0, 50), 1, 2);
    setField(k, field("nw_proto"), 1); // ICMP type 3 for no connection: invalid
    setField(k, field("tp_src"), 3);
    const r = ex.run(k, { datapath: 1, inport: 1 });
    expect(r.drops[0]).toMatchObject({ reason: "acl-drop", origin: "acl[default-deny]" });
    expect(ctStateOfKey(r.drops[0]!.key)).toBe(CT.TRK | CT.INV);
  });
});

describe("LogicalExecutor: ovn-trace ct mode", () => {
  const st = (s: string): number => {
    const p = parseCtState(s);
    if (!p.ok) throw new Error(p.bad);
    return p.state;
  };

  it("uses est|trk when no --ct is given, and the listed states in order otherwise", () => {
    const prog = ctProgram();
    const dflt = new LogicalExecutor(prog, { ...CLS, ct: { kind: "trace" } }).run(tcpKey(ip(10, 0, 0, 1), ip(10, 0, 0, 50), 1000, 22), { datapath: 1, inport: 1 });
    expect(dflt.ctDefaultUsed).toBe(true);
    // est → ct(nat) of a tracked packet takes no further state.
    expect(ctStateOfKey(dflt.outputs[0]!.key)).toBe(CT.TRK | CT.EST);

    const ex = new LogicalExecutor(prog, { ...CLS, ct: { kind: "trace" } });
    const r = ex.run(tcpKey(ip(10, 0, 0, 1), ip(10, 0, 0, 50), 1000, 22), { datapath: 1, inport: 1 }, undefined, { ctStates: [st("new")] });
    expect(r.ctDefaultUsed).toBe(false);
    expect(ctStateOfKey(r.outputs[0]!.key)).toBe(CT.TRK | CT.NEW);
    expect(ex.connections).toBeUndefined();
  });

  it("ct_lb ORs the next state in and DNATs to --lb-dst", () => {
    const ex = new LogicalExecutor(ctProgram(), { ...CLS, ct: { kind: "trace" }, lbDst: { ip: [ip(10, 0, 0, 12)], port: 8080 } });
    const r = ex.run(tcpKey(ip(10, 0, 0, 1), VIP, 1000, 80), { datapath: 1, inport: 1 }, undefined, { ctStates: [st("new"), st("new")] });
    const k = r.outputs[0]!.key;
    expect(k[W.NW_DST]).toBe(ip(10, 0, 0, 12));
    expect(k[W.TP]! & 0xffff).toBe(8080);
    expect(k[W.CT_NW_DST]).toBe(VIP);
    expect(ctStateOfKey(k)).toBe(CT.TRK | CT.NEW | CT.DNAT);
  });

  it("parses --ct flag lists", () => {
    expect(parseCtState("new")).toEqual({ ok: true, state: CT.TRK | CT.NEW });
    expect(parseCtState("est,rpl")).toEqual({ ok: true, state: CT.TRK | CT.EST | CT.RPL });
    expect(parseCtState("+trk+est|dnat")).toEqual({ ok: true, state: CT.TRK | CT.EST | CT.DNAT });
    expect(parseCtState("bogus")).toEqual({ ok: false, bad: "bogus" });
  });
});

// ---------------------------------------------------------------------------------------------
// Trace sink

class RecordingSink implements TraceSink {
  depth = 0;
  maxDepth = 0;
  readonly log: string[] = [];
  enter(b: TraceBranch): void {
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    this.log.push(`enter ${b.kind}`);
  }
  leave(): void {
    this.depth--;
    expect(this.depth).toBeGreaterThanOrEqual(0);
    this.log.push("leave");
  }
  table(): void {
    this.log.push("table");
  }
  action(): void {}
  ct(): void {
    this.log.push("ct");
  }
  output(): void {
    this.log.push("output");
  }
  drop(): void {
    this.log.push("drop");
  }
  limit(): void {
    this.log.push("limit");
  }
}

describe("LogicalExecutor: trace sink", () => {
  it("gets balanced enter/leave and one output/drop event per result entry", () => {
    const prog = switchAndRouter();
    for (const [k, inport] of [
      [keyTo(BCAST), 1],
      [keyTo([0x0a00, 0x77], ip(192, 0, 2, 9)), 1],
      [keyTo([0x0a00, 1], ip(10, 0, 0, 1)), 1],
    ] as const) {
      const sink = new RecordingSink();
      const r = new LogicalExecutor(prog, CLS).run(k, { datapath: 1, inport }, sink);
      expect(sink.depth).toBe(0);
      expect(sink.log.filter((x) => x === "output")).toHaveLength(r.outputs.length);
      expect(sink.log.filter((x) => x === "drop")).toHaveLength(r.drops.length);
      expect(sink.log.filter((x) => x === "table")).toHaveLength(r.lookups);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

describe("LogicalExecutor: random packets", () => {
  it("never throws and always ends in outputs and/or drops", () => {
    const loop: DpSpec = {
      key: 20,
      name: "mix",
      ports: [
        { name: "m1", key: 1, type: "" },
        { name: "m2", key: 2, type: "localnet" },
        { name: "m-loop", key: 3, type: "patch", peer: { datapath: 20, port: 3 } },
      ],
      multicast: [{ name: "_MC_flood", key: 32768, ports: [1, 2, 3] }],
      ingress: [
        { table: 0, priority: 10, match: { reg1: 1 }, actions: [ctNext] },
        { table: 0, priority: 5, match: { reg1: 2 }, actions: [{ kind: "clone", actions: [setOutport(2), output] }, next()] },
        { table: 0, priority: 0, actions: [next()] },
        { table: 1, priority: 10, match: { ct_state: CT.TRK | CT.NEW }, actions: [ctCommit(), { kind: "ct_lb", zone: { kind: "const", zone: 9 }, table: 2, backends: BACKENDS }] },
        { table: 1, priority: 0, actions: [{ kind: "dec_ttl" }, next()] },
        { table: 2, priority: 20, match: { reg2: 1 }, actions: [setOutport(32768), output] },
        { table: 2, priority: 20, match: { reg2: 2 }, actions: [setOutport(3), output] },
        { table: 2, priority: 20, match: { reg2: 3 }, actions: [setOutport(0), output] },
        { table: 2, priority: 20, match: { reg2: 4 }, actions: [setOutport(77), output] },
        { table: 2, priority: 10, match: { reg2: 5 }, actions: [setReg(3, 1)] },
        { table: 2, priority: 0, actions: [setOutport(1), output] },
      ],
      egress: [
        { table: 0, priority: 10, match: { reg15: 2, tp_dst: 7 }, actions: [] },
        { table: 0, priority: 0, actions: [output] },
      ],
    };
    const prog = switchAndRouter([loop]);
    const ports: [number, number][] = [
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 2],
      [20, 1],
      [20, 2],
      [20, 3],
      [99, 1],
    ];
    const next32 = rng(12345);
    const ct = new Conntrack({ tcpNew: "syn" });
    const exs = [new LogicalExecutor(prog, { ...CLS, ct: { kind: "table", conntrack: ct } }), new LogicalExecutor(prog, { ...CLS, ct: { kind: "trace", states: [CT.TRK | CT.NEW] } })];
    const macs = [MAC2, BCAST, [0x0a00, 1], [0x0a00, 0x77]];
    for (let i = 0; i < 3000; i++) {
      const k = tcpKey(next32(), next32() % 3 === 0 ? VIP : next32(), next32() & 0xffff, next32() % 4 === 0 ? 7 : next32() & 0xffff, [6, 17, 1, 58, 0][next32() % 5]!);
      const mac = macs[next32() % macs.length]!;
      k[W.ETH_DST] = mac[0]!;
      k[W.ETH_DST + 1] = mac[1]!;
      if (next32() % 3 === 0) setField(k, field("eth_type"), [0x0806, 0x86dd, 0x1234][next32() % 3]!);
      setField(k, field("nw_ttl"), next32() % 4);
      k[W.REG0 + 1] = next32() % 3;
      k[W.REG0 + 2] = next32() % 6;
      k[W.REG0 + 10] = next32() % 2;
      k[W.TCP_FLAGS] = next32() & 0x1f;
      const [dp, inport] = ports[next32() % ports.length]!;
      const r = exs[i % 2]!.run(k, { datapath: dp, inport });
      expect(r.outputs.length + r.drops.length).toBeGreaterThan(0);
      expect(r.lookups).toBeLessThanOrEqual(4096);
    }
  });
});

describe("LogicalExecutor: classifier twins", () => {
  it("gives the same results with the tuple-space and the linear classifier", () => {
    const prog = switchAndRouter();
    const tuple = new LogicalExecutor(prog);
    const linear = new LogicalExecutor(prog, CLS);
    const keys: [Uint32Array, number][] = [
      [keyTo(MAC2), 1],
      [keyTo(BCAST), 1],
      [keyTo([0x0a00, 0x77], ip(192, 0, 2, 9)), 1],
      [keyTo([0x0a00, 1], ip(10, 0, 0, 1)), 2],
    ];
    for (const [k, inport] of keys) {
      const a = tuple.run(k, { datapath: 1, inport });
      const b = linear.run(k, { datapath: 1, inport });
      expect(a.outputs.map((o) => o.portName)).toEqual(b.outputs.map((o) => o.portName));
      expect(a.drops.map((d) => d.reason)).toEqual(b.drops.map((d) => d.reason));
    }
  });
});

describe("LogicalExecutor: pass-through tables", () => {
  // Tables 1-3 and 6 hold only a catch-all `next;`; 4 has a match, 5 a `next` elsewhere.
  const passes: DpSpec = {
    key: 30,
    name: "passes",
    ports: [
      { name: "p1", key: 1, type: "" },
      { name: "p2", key: 2, type: "" },
    ],
    tables: 8,
    ingress: [
      { table: 0, priority: 10, match: { reg14: 1 }, actions: [setReg(1, 1), next()] },
      { table: 0, priority: 0, actions: [next()] },
      { table: 1, priority: 0, actions: [next()] },
      { table: 2, priority: 0, actions: [next()] },
      { table: 3, priority: 0, actions: [next()] },
      { table: 4, priority: 0, match: { reg1: 1 }, actions: [next()] },
      { table: 5, priority: 0, actions: [next(6)] },
      { table: 6, priority: 0, actions: [next()] },
      { table: 7, priority: 0, actions: [setOutport(2), output] },
    ],
    egress: [{ table: 0, priority: 0, actions: [output] }],
  };

  it("finds the runs of tables that only pass the packet on", () => {
    const prog = makeLogicalProgram([passes]);
    expect([...passThroughRuns(prog.datapaths.get(30)!.ingress.byId)]).toEqual([0, 3, 2, 1, 0, 0, 1, 0]);
  });

  it("steps over them with the results, lookup counts and limits of a lookup in each", () => {
    const prog = makeLogicalProgram([passes]);
    for (const inport of [1, 2]) {
      for (const maxLookups of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 4096]) {
        for (const classifier of ["tuple", "linear"] as const) {
          const ex = new LogicalExecutor(prog, { classifier, limits: { maxLookups } });
          const k = keyTo(MAC2);
          const fast = ex.run(k, { datapath: 30, inport });
          // A trace sink sees every table, so the executor looks every one of them up.
          const sink = new RecordingSink();
          const slow = ex.run(k, { datapath: 30, inport }, sink);
          expect(sink.log.filter((x) => x === "table")).toHaveLength(slow.lookups);
          expect(fast.lookups).toBe(slow.lookups);
          expect(fast.outputs.map((o) => [o.portName, [...o.key]])).toEqual(slow.outputs.map((o) => [o.portName, [...o.key]]));
          expect(fast.drops.map((d) => [d.reason, d.table, d.detail])).toEqual(slow.drops.map((d) => [d.reason, d.table, d.detail]));
          expect(fast.limitHits).toEqual(slow.limitHits);
        }
      }
    }
    // Port 1 sets reg1 and reaches p2 through all eight tables and the egress one; port 2 misses
    // table 4.
    const r = new LogicalExecutor(prog).run(keyTo(MAC2), { datapath: 30, inport: 1 });
    expect(r.outputs.map((o) => o.portName)).toEqual(["p2"]);
    expect(r.lookups).toBe(9);
    const miss = new LogicalExecutor(prog).run(keyTo(MAC2), { datapath: 30, inport: 2 });
    expect(miss.drops.map((d) => [d.reason, d.table])).toEqual([["no-match", 4]]);
    expect(miss.lookups).toBe(5);
  });
});
