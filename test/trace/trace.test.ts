/**
 * The trace recorder and its renderings, on a switch shaped like the one behind real
 * `ovn-trace` 23.03 output: the expected texts marked REAL are what ovn-trace printed for the
 * same flows and packets (uuids and sources reproduced in the program); the others follow
 * ovn-trace's printing rules by hand.
 */
import { describe, expect, it } from "vitest";
import { CT, field } from "../../src/flow/index.js";
import type { Action } from "../../src/ofp/index.js";
import { LogicalExecutor, type RunOptions } from "../../src/dataplane/index.js";
import { parseMinimalTrace, verdictOf } from "../../src/ovn/index.js";
import { TraceRecorder, renderDetailed, renderMinimal, renderSummary, splitStatements, traceJson } from "../../src/trace/index.js";
import { MAC2, VIP, arpRequest, ip, next, output, sw0, tcpTo, type Flow } from "./sw0.js";

function trace(program: ReturnType<typeof sw0>, key: Uint32Array, opts: RunOptions = {}) {
  const ex = new LogicalExecutor(program, { ct: { kind: "trace" }, classifier: "linear" });
  const rec = new TraceRecorder(program, key);
  const result = ex.run(key, { datapath: 1, inport: 1 }, rec, opts);
  return { tree: rec.tree, result };
}

const FLOW_80 = "# tcp,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0";

// REAL: ovn-trace --minimal for this packet.
const MINIMAL_80 = `${FLOW_80}
ct_lb_mark /* default (use --ct to customize) */ {
    reg0[6] = 0;
    reg0[12] = 0;
    ct_lb_mark /* default (use --ct to customize) */ {
        output("p2");
    };
};
`;

// REAL: ovn-trace --summary for this packet.
const SUMMARY_80 = `${FLOW_80}
ingress(dp="sw0", inport="p1") {
    reg0[15] = check_in_port_sec();
    next;
    reg0[0] = 1;
    next;
    reg0[2] = 1;
    next;
    ct_lb_mark;
    ct_lb_mark /* default (use --ct to customize) */ {
        reg0[8] = 1;
        reg0[10] = 1;
        next;
        next;
        reg0[6] = chk_lb_hairpin();
        reg0[12] = chk_lb_hairpin_reply();
        next;
        outport = "p2";
        output;
        egress(dp="sw0", inport="p1", outport="p2") {
            reg0[0] = 1;
            next;
            reg0[2] = 1;
            next;
            ct_lb_mark;
            ct_lb_mark /* default (use --ct to customize) */ {
                reg0[8] = 1;
                reg0[10] = 1;
                next;
                reg0[15] = check_out_port_sec();
                next;
                output;
                /* output to "p2", type "" */;
            };
        };
    };
};
`;

// REAL: ovn-trace --detailed for a packet to the load balancer VIP.
const DETAILED_VIP = `# tcp,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.96.0.10,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0

ingress(dp="sw0", inport="p1")
------------------------------
 0. ls_in_check_port_sec (northd.c:8432): 1, priority 50, uuid 652bac25
    reg0[15] = check_in_port_sec();
    next;
 4. ls_in_pre_acl (northd.c:5922): ip, priority 100, uuid f3265bd7
    reg0[0] = 1;
    next;
 5. ls_in_pre_lb (northd.c:6109): ip, priority 100, uuid 79bb2bda
    reg0[2] = 1;
    next;
 6. ls_in_pre_stateful (northd.c:7115): reg0[2] == 1 && ip4.dst == 10.96.0.10 && tcp.dst == 80, priority 120, uuid e7c7d665
    reg1 = 10.96.0.10;
    reg2[0..15] = 80;
    ct_lb_mark;

ct_lb_mark /* default (use --ct to customize) */
------------------------------------------------
 7. ls_in_acl_hint (northd.c:6228): !ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0, priority 4, uuid ac16279b
    reg0[8] = 1;
    reg0[10] = 1;
    next;
 8. ls_in_acl (northd.c:6470): reg0[8] == 1 && (ip4), priority 2001, uuid 296fff31
    next;
14. ls_in_pre_hairpin (northd.c:7633): ip && ct.trk, priority 100, uuid a0c6eea0
    reg0[6] = chk_lb_hairpin();
    reg0[12] = chk_lb_hairpin_reply();
    next;
25. ls_in_l2_lkup (northd.c:9122): eth.dst == 00:00:00:00:00:02, priority 50, uuid cd05e493
    outport = "p2";
    output;

egress(dp="sw0", inport="p1", outport="p2")
-------------------------------------------
 0. ls_out_pre_acl (northd.c:5924): ip, priority 100, uuid 2c04b049
    reg0[0] = 1;
    next;
 1. ls_out_pre_lb (northd.c:6111): ip, priority 100, uuid 7e25f6fb
    reg0[2] = 1;
    next;
 2. ls_out_pre_stateful (northd.c:6135): reg0[2] == 1, priority 110, uuid 84d69a35
    ct_lb_mark;

ct_lb_mark /* default (use --ct to customize) */
------------------------------------------------
 3. ls_out_acl_hint (northd.c:6228): !ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0, priority 4, uuid a704106f
    reg0[8] = 1;
    reg0[10] = 1;
    next;
 8. ls_out_check_port_sec (northd.c:5772): 1, priority 0, uuid d40484aa
    reg0[15] = check_out_port_sec();
    next;
 9. ls_out_apply_port_sec (northd.c:5777): 1, priority 0, uuid bae53dce
    output;
    /* output to "p2", type "" */
`;

const subf = (name: string, ofs = 0, nbits?: number) => ({ field: field(name), ofs, nbits: nbits ?? field(name).width });
const mv = (src: string, dst: string): Action => ({ kind: "move", src: subf(src), dst: subf(dst) });
const ld = (dst: string, value: number[], ofs = 0, nbits?: number): Action => ({ kind: "load", dst: subf(dst, ofs, nbits), value });

/** The ARP responder flow of the real sample (sw0 answers for p2's 10.0.0.2). */
const ARP_RSP: Flow = {
  table: 9,
  priority: 50,
  stage: "ls_in_arp_rsp",
  match: { eth_type: 0x0806, nw_dst: ip(10, 0, 0, 2), nw_proto: 1 },
  matchText: 'arp.tpa == 10.0.0.2 && arp.op == 1 && inport == "p1"',
  actions: [
    mv("eth_src", "eth_dst"),
    ld("eth_src", [0, 2]),
    ld("nw_proto", [2]),
    mv("arp_sha", "arp_tha"),
    ld("arp_sha", [0, 2]),
    mv("nw_src", "nw_dst"),
    ld("nw_src", [ip(10, 0, 0, 2)]),
    mv("reg14", "reg15"),
    ld("reg10", [1], 0, 1),
    output,
  ],
  actionText: "eth.dst = eth.src; eth.src = 00:00:00:00:00:02; arp.op = 2; arp.tha = arp.sha; arp.sha = 00:00:00:00:00:02; arp.tpa = arp.spa; arp.spa = 10.0.0.2; outport = inport; flags.loopback = 1; output;",
  source: "northd.c:8700",
  id: 0x33333333,
};

describe("trace renderings against real ovn-trace output", () => {
  it("minimal: conntrack blocks and the output", () => {
    const { tree } = trace(sw0(), tcpTo(MAC2, ip(10, 0, 0, 2), 80));
    expect(renderMinimal(tree)).toBe(MINIMAL_80);
  });

  it("summary: actions nested per pipeline and conntrack continuation", () => {
    const { tree } = trace(sw0(), tcpTo(MAC2, ip(10, 0, 0, 2), 80));
    expect(renderSummary(tree)).toBe(SUMMARY_80);
  });

  it("detailed: tables with stage, source, match, priority and uuid; trivial stages left out", () => {
    const { tree } = trace(sw0(), tcpTo(MAC2, VIP, 80));
    expect(renderDetailed(tree)).toBe(DETAILED_VIP);
  });

  it("minimal: an ARP reply shows every non-register field written, with ARP names", () => {
    const { tree, result } = trace(sw0({ ingress: [ARP_RSP] }), arpRequest(ip(10, 0, 0, 2)));
    const text = renderMinimal(tree);
    const body = text.split("\n").slice(1).join("\n");
    // REAL body of ovn-trace --minimal for the same request.
    expect(body).toBe(
      ["eth.dst = 00:00:00:00:00:01;", "eth.src = 00:00:00:00:00:02;", "arp.op = 2;", "arp.tha = 00:00:00:00:00:01;", "arp.sha = 00:00:00:00:00:02;", "arp.tpa = 10.0.0.1;", "arp.spa = 10.0.0.2;", 'output("p1");', ""].join("\n"),
    );
    expect(text.split("\n")[0]).toBe(
      "# arp,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00",
    );
    expect(result.outputs.map((o) => o.portName)).toEqual(["p1"]);
  });
});

describe("multicast flood", () => {
  const run = () => trace(sw0(), arpRequest(ip(10, 0, 0, 9)));

  it("summary lists every member, the input port omitted", () => {
    const { tree } = run();
    const body = renderSummary(tree).split("\n").slice(1).join("\n");
    expect(body).toBe(`ingress(dp="sw0", inport="p1") {
    reg0[15] = check_in_port_sec();
    next;
    outport = "_MC_flood";
    output;
    multicast(dp="sw0", mcgroup="_MC_flood") {
        egress(dp="sw0", inport="p1", outport="p1") {
            /* omitting output because inport == outport && !flags.loopback */;
        };
        egress(dp="sw0", inport="p1", outport="p2") {
            reg0[15] = check_out_port_sec();
            next;
            output;
            /* output to "p2", type "" */;
        };
        egress(dp="sw0", inport="p1", outport="p3") {
            reg0[15] = check_out_port_sec();
            next;
            output;
            /* output to "p3", type "" */;
        };
    };
};
`);
  });

  it("minimal lists the outputs; detailed titles the group and indents its members", () => {
    const { tree, result } = run();
    expect(renderMinimal(tree).split("\n").slice(1).join("\n")).toBe('output("p2");\noutput("p3");\n');
    const d = renderDetailed(tree);
    // The group is the last thing the l2_lkup table did: a title at the left margin; every
    // member's egress pipeline is indented one level (ovn-trace's always_indent).
    expect(d).toContain('\nmulticast(dp="sw0", mcgroup="_MC_flood")\n----------------------------------------\n');
    expect(d).toContain('\n    egress(dp="sw0", inport="p1", outport="p3")\n    -------------------------------------------\n');
    expect(d).toContain("\n            /* output to \"p3\", type \"\" */\n");
    expect(result.outputs.map((o) => o.portName)).toEqual(["p2", "p3"]);
  });
});

describe("drops", () => {
  it("an implicit drop: `no match` in detailed, nothing after the conntrack block in minimal", () => {
    const { tree, result } = trace(sw0(), tcpTo([0, 0x66], ip(10, 0, 0, 2), 80));
    expect(result.drops.map((d) => d.reason)).toEqual(["no-match"]);
    expect(renderDetailed(tree).endsWith("\n25. ls_in_l2_lkup: no match (implicit drop)\n")).toBe(true);
    expect(renderMinimal(tree).split("\n").slice(1).join("\n")).toBe(
      "ct_lb_mark /* default (use --ct to customize) */ {\n    reg0[6] = 0;\n    reg0[12] = 0;\n};\n",
    );
    expect(verdictOf(parseMinimalTrace(renderMinimal(tree))).dropped).toBe(true);
  });

  it("an explicit drop (an ACL with no actions) prints `drop;` in detailed and summary", () => {
    // ARP with reg0[8] set reaches the ARP-dropping ACL.
    const { tree, result } = trace(sw0({ ingress: [{ table: 0, priority: 60, stage: "ls_in_check_port_sec", match: { eth_type: 0x0806 }, matchText: "arp", actions: [{ kind: "load", dst: subf("reg0", 8, 1), value: [1] }, next], actionText: "reg0[8] = 1; next;", source: "northd.c:2", id: 0x44444444 }] }), arpRequest(ip(10, 0, 0, 9)));
    expect(result.drops.map((d) => [d.reason, d.origin])).toEqual([["acl-drop", "acl[deny-arp]"]]);
    expect(renderDetailed(tree)).toContain(" 8. ls_in_acl (northd.c:6500): reg0[8] == 1 && arp, priority 2000, uuid deadbeef\n    drop;\n");
    expect(renderSummary(tree)).toContain("\n    drop;\n};\n");
    expect(renderMinimal(tree).split("\n").slice(1).join("\n")).toBe("");
  });
});

describe("conntrack states given with --ct", () => {
  it("a given state prints no `default` comment; the next one falls back to the default", () => {
    const { tree } = trace(sw0(), tcpTo(MAC2, ip(10, 0, 0, 2), 80), { ctStates: [CT.NEW | CT.TRK] });
    expect(renderMinimal(tree).split("\n").slice(1).join("\n")).toBe(
      'ct_lb_mark {\n    reg0[6] = 0;\n    reg0[12] = 0;\n    ct_lb_mark /* default (use --ct to customize) */ {\n        output("p2");\n    };\n};\n',
    );
    // With ct.new the ACL hint stage does not match: its filler rule is left out of the text.
    expect(renderDetailed(tree)).not.toContain("ls_in_acl_hint");
  });
});

describe("minimal output parses back to the executor's result", () => {
  const cases: [string, () => ReturnType<typeof trace>][] = [
    ["unicast", () => trace(sw0(), tcpTo(MAC2, ip(10, 0, 0, 2), 80))],
    ["vip", () => trace(sw0(), tcpTo(MAC2, VIP, 80))],
    ["flood", () => trace(sw0(), arpRequest(ip(10, 0, 0, 9)))],
    ["arp reply", () => trace(sw0({ ingress: [ARP_RSP] }), arpRequest(ip(10, 0, 0, 2)))],
    ["drop", () => trace(sw0(), tcpTo([0, 0x66], ip(10, 0, 0, 2), 80))],
  ];
  for (const [name, run] of cases) {
    it(name, () => {
      const { tree, result } = run();
      const v = verdictOf(parseMinimalTrace(renderMinimal(tree)));
      expect(v.outputs.map((o) => o.port)).toEqual(result.outputs.map((o) => o.portName));
      expect(v.dropped).toBe(result.outputs.length === 0);
      // Every field the minimal trace says was assigned has that value in the delivered packet.
      for (const [i, o] of v.outputs.entries()) {
        const pkt = traceJson(tree, result).outputs[i]!.packet;
        for (const [f, val] of Object.entries(o.fields)) if (f in pkt) expect(String(pkt[f])).toBe(val);
      }
    });
  }
});

describe("traceJson", () => {
  it("outputs carry the final packet by OVN field names", () => {
    const { tree, result } = trace(sw0({ ingress: [ARP_RSP] }), arpRequest(ip(10, 0, 0, 2)));
    const j = traceJson(tree, result);
    expect(j.verdict).toBe("output");
    expect(j.outputs).toEqual([
      {
        datapath: "sw0",
        port: "p1",
        portType: "",
        packet: { "eth.src": "00:00:00:00:00:02", "eth.dst": "00:00:00:00:00:01", "eth.type": 0x0806, "arp.op": 2, "arp.spa": "10.0.0.2", "arp.tpa": "10.0.0.1", "arp.sha": "00:00:00:00:00:02", "arp.tha": "00:00:00:00:00:01" },
      },
    ]);
    expect(j.drops).toEqual([]);
  });

  it("IP packets have addresses, TTL and L4 ports; hops list every table with its rule", () => {
    const { tree, result } = trace(sw0(), tcpTo(MAC2, VIP, 80));
    const j = traceJson(tree, result);
    expect(j.outputs[0]!.packet).toMatchObject({ "eth.src": "00:00:00:00:00:01", "eth.dst": "00:00:00:00:00:02", "ip4.src": "10.0.0.1", "ip4.dst": "10.96.0.10", "ip.ttl": 64, "tcp.src": 0, "tcp.dst": 80 });
    const tables = j.hops.filter((h) => h.kind === "table");
    // Every lookup the executor made is a table hop (trivial ones included, marked).
    expect(tables.length).toBe(result.lookups);
    expect(tables.filter((h) => !h.trivial).map((h) => h.table)).toEqual([0, 4, 5, 6, 7, 8, 14, 25, 0, 1, 2, 3, 8, 9]);
    const ct = j.hops.filter((h) => h.kind === "ct");
    expect(ct.map((h) => [h.state, h.assumed])).toEqual([
      ["est|trk", true],
      ["est|trk", true],
    ]);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it("drops name the stage, reason and model object", () => {
    const { tree, result } = trace(sw0(), tcpTo([0, 0x66], ip(10, 0, 0, 2), 80));
    const j = traceJson(tree, result);
    expect(j.verdict).toBe("drop");
    expect(j.drops).toEqual([{ datapath: "sw0", pipeline: "ingress", table: 25, stage: "ls_in_l2_lkup", reason: "no-match", description: "no rule matched in the table (implicit drop)", detail: "table 25 (ls_in_l2_lkup)", object: null, rule: null }]);
  });
});

describe("recorder details", () => {
  it("splits OVN action text at top-level semicolons only", () => {
    expect(splitStatements('reg0[0] = 1; arp { eth.dst = ff:ff:ff:ff:ff:ff; output; }; outport = "a;b"; next;')).toEqual([
      "reg0[0] = 1;",
      "arp { eth.dst = ff:ff:ff:ff:ff:ff; output; };",
      'outport = "a;b";',
      "next;",
    ]);
  });

  it("a clone is a titled block whose changes do not leak into the original", () => {
    const cloneFlow: Flow = {
      table: 25,
      priority: 90,
      stage: "ls_in_l2_lkup",
      match: { eth_dst: MAC2 },
      matchText: "eth.dst == 00:00:00:00:00:02",
      actions: [{ kind: "clone", actions: [ld("nw_dst", [ip(10, 0, 0, 3)]), ld("reg15", [3]), output] }, ld("reg15", [2]), output],
      actionText: 'clone { ip4.dst = 10.0.0.3; outport = "p3"; output; }; outport = "p2"; output;',
      source: "northd.c:3",
      id: 0x55555555,
    };
    const { tree, result } = trace(sw0({ ingress: [cloneFlow] }), tcpTo(MAC2, ip(10, 0, 0, 2), 80));
    expect(result.outputs.map((o) => o.portName)).toEqual(["p3", "p2"]);
    const min = renderMinimal(tree);
    expect(min).toContain("\n    clone {\n        ip4.dst = 10.0.0.3;\n");
    const v = verdictOf(parseMinimalTrace(min));
    expect(v.outputs.map((o) => [o.port, o.fields["ip4.dst"]])).toEqual([
      ["p3", "10.0.0.3"],
      ["p2", undefined],
    ]);
    // Not the last node under its table, so indented one level, as ovn-trace indents it.
    expect(renderDetailed(tree)).toContain("\n\n    clone\n    -----\n");
  });
});
