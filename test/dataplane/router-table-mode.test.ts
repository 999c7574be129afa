/**
 * Real ovn-northd router pipelines (the recordings of router-ovn-trace.test.ts) run with REAL
 * state: conntrack in `table` mode, where `ct_snat(IP)` / `ct_dnat(IP)` translate and commit and
 * replies of the connection are translated back; the neighbour table, which `put_arp` teaches and
 * `get_arp` then uses; `select()` picks by hash, stably; a routing loop ends with a named drop.
 *
 * Expected values come from the networks as built (the NAT rules, addresses and MACs given to
 * ovn-nbctl in router-ovn-trace.test.ts), not from ovnsim's own output.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow } from "../../src/compile/index.js";
import { LogicalExecutor, type ExecResult, type ExecutorOptions } from "../../src/dataplane/index.js";
import { evaluate, parseExpr } from "../../src/expr/index.js";
import type { LogicalProgram } from "../../src/ofp/index.js";
import { TraceRecorder, renderMinimal } from "../../src/trace/index.js";
import { gatewayRoutersOf, programOfSnapshot, type SbSnapshot } from "./sb-program.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/dataplane/router");

function load(name: string): { program: LogicalProgram; snapshot: SbSnapshot } | undefined {
  const path = resolve(FIXTURES, `${name}.json`);
  if (!existsSync(path)) {
    console.warn(`${path} is missing: run test/dataplane/router-ovn-trace.test.ts where OVN is installed`);
    return undefined;
  }
  const snapshot = (JSON.parse(readFileSync(path, "utf8")) as { snapshot: SbSnapshot }).snapshot;
  const p = programOfSnapshot(snapshot);
  if (!p.ok) throw new Error(p.diags.map((d) => d.message).join("; "));
  return { program: p.value, snapshot };
}

const NAT = load("nat-gateways");
const TWO = load("two-switches");
const ECMP = load("ecmp-policies");
const LOOP = load("routing-loop");

function run(exec: LogicalExecutor, program: LogicalProgram, datapath: string, microflow: string): ExecResult {
  const mf = compileMicroflow(program, datapath, microflow);
  if (!mf.ok) throw new Error(mf.diags[0]?.message);
  return exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport });
}

/** The one output's port, and whether each `field == value` test holds on the delivered packet. */
function delivered(r: ExecResult, tests: readonly string[]): { port: string | undefined; failed: string[] } {
  expect(r.outputs.length, `outputs: ${r.outputs.map((o) => o.portName).join(",")}; drops: ${r.drops.map((d) => `${d.reason} in ${d.datapathName} ${d.stage ?? ""}`).join(", ")}`).toBe(1);
  const o = r.outputs[0]!;
  const failed = tests.filter((t) => {
    const e = parseExpr(t);
    if (!e.ok) return true;
    const v = evaluate(e.value, o.key, {});
    return !v.ok || !v.value;
  });
  return { port: o.portName, failed };
}

const tableMode: ExecutorOptions = { ct: { kind: "table" } };

const GX = 'inport == "gx" && eth.src == 00:00:00:01:ff:64 && eth.dst == 00:00:00:01:ff:01 && ip.ttl == 64';
const G1 = 'inport == "g1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip.ttl == 64';
const DX = 'inport == "dx" && eth.src == 00:00:00:02:ff:64 && eth.dst == 00:00:00:02:ff:01 && ip.ttl == 64';
const D1 = 'inport == "d1" && eth.src == 00:00:00:02:00:02 && eth.dst == 00:00:00:02:00:01 && ip.ttl == 64';

describe.skipIf(!NAT)("conntrack table mode: NAT on real northd router flows", () => {
  const { program, snapshot } = NAT!;

  it("gateway router SNAT: the outbound packet leaves as 172.16.0.10 and the reply is un-SNATed back to g1", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const out = delivered(run(exec, program, "gint", `${G1} && ip4.src == 10.1.0.2 && ip4.dst == 172.16.0.100 && tcp && tcp.src == 33000 && tcp.dst == 80`), ["ip4.src == 172.16.0.10", "ip4.dst == 172.16.0.100", "tcp.src == 33000"]);
    expect(out).toEqual({ port: "gx", failed: [] });
    const back = delivered(run(exec, program, "gext", `${GX} && ip4.src == 172.16.0.100 && ip4.dst == 172.16.0.10 && tcp && tcp.src == 80 && tcp.dst == 33000`), ["ip4.dst == 10.1.0.2", "ip4.src == 172.16.0.100", "eth.dst == 00:00:00:01:00:02"]);
    expect(back).toEqual({ port: "g1", failed: [] });
  });

  it("without the outbound connection, a packet to the SNAT address is not un-SNATed (no conntrack entry)", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const r = run(exec, program, "gext", `${GX} && ip4.src == 172.16.0.100 && ip4.dst == 172.16.0.10 && tcp && tcp.src == 80 && tcp.dst == 33000`);
    expect(r.outputs.map((o) => o.portName)).not.toContain("g1");
  });

  it("gateway router DNAT: 172.16.0.30 goes to g1 and g1's reply leaves from 172.16.0.30", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const inb = delivered(run(exec, program, "gext", `${GX} && ip4.src == 172.16.0.100 && ip4.dst == 172.16.0.30 && tcp && tcp.src == 40000 && tcp.dst == 80`), ["ip4.dst == 10.1.0.2", "ip4.src == 172.16.0.100"]);
    expect(inb).toEqual({ port: "g1", failed: [] });
    const reply = delivered(run(exec, program, "gint", `${G1} && ip4.src == 10.1.0.2 && ip4.dst == 172.16.0.100 && tcp && tcp.src == 80 && tcp.dst == 40000`), ["ip4.src == 172.16.0.30", "ip4.dst == 172.16.0.100", "tcp.src == 80"]);
    expect(reply).toEqual({ port: "gx", failed: [] });
  });

  it("gateway router dnat_and_snat: g2 goes out as 172.16.0.20, and 172.16.0.20 comes in to g2", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const out = delivered(run(exec, program, "gint", `inport == "g2" && eth.src == 00:00:00:01:00:03 && eth.dst == 00:00:00:01:00:01 && ip.ttl == 64 && ip4.src == 10.1.0.3 && ip4.dst == 172.16.0.100 && udp && udp.src == 5000 && udp.dst == 53`), ["ip4.src == 172.16.0.20"]);
    expect(out).toEqual({ port: "gx", failed: [] });
    const inb = delivered(run(exec, program, "gext", `${GX} && ip4.src == 172.16.0.100 && ip4.dst == 172.16.0.20 && tcp && tcp.src == 41000 && tcp.dst == 22`), ["ip4.dst == 10.1.0.3"]);
    expect(inb).toEqual({ port: "g2", failed: [] });
  });

  it("distributed gateway port: d1 leaves as its FIP 172.17.0.20 through cr-dr-ext, d2 as the SNAT address, replies come back", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const fip = delivered(run(exec, program, "dint", `${D1} && ip4.src == 10.2.0.2 && ip4.dst == 172.17.0.100 && tcp && tcp.src == 33000 && tcp.dst == 80`), ["ip4.src == 172.17.0.20", "eth.src == 00:00:00:02:ff:01"]);
    expect(fip).toEqual({ port: "dx", failed: [] });
    const fipBack = delivered(run(exec, program, "dext", `${DX} && ip4.src == 172.17.0.100 && ip4.dst == 172.17.0.20 && tcp && tcp.src == 80 && tcp.dst == 33000`), ["ip4.dst == 10.2.0.2"]);
    expect(fipBack).toEqual({ port: "d1", failed: [] });
    const snat = delivered(
      run(exec, program, "dint", 'inport == "d2" && eth.src == 00:00:00:02:00:03 && eth.dst == 00:00:00:02:00:01 && ip.ttl == 64 && ip4.src == 10.2.0.3 && ip4.dst == 172.17.0.100 && tcp && tcp.src == 34000 && tcp.dst == 80'),
      ["ip4.src == 172.17.0.1"],
    );
    expect(snat).toEqual({ port: "dx", failed: [] });
    const snatBack = delivered(run(exec, program, "dext", `${DX} && ip4.src == 172.17.0.100 && ip4.dst == 172.17.0.1 && tcp && tcp.src == 80 && tcp.dst == 34000`), ["ip4.dst == 10.2.0.3"]);
    expect(snatBack).toEqual({ port: "d2", failed: [] });
  });

  it("ovn-trace mode on a gateway router: ct_snat without an address ends the branch with a named drop", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" }, gatewayRouters: gatewayRoutersOf(snapshot) });
    const r = run(exec, program, "gext", `${GX} && ip4.src == 172.16.0.100 && ip4.dst == 172.16.0.10 && tcp && tcp.src == 80 && tcp.dst == 33000`);
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => `${d.reason} ${d.datapathName}`)).toEqual(["trace-unsnat gw"]);
  });
});

describe.skipIf(!TWO)("the neighbour table on real northd router flows", () => {
  const { program, snapshot } = TWO!;
  const ARP_REPLY = 'inport == "lrp3" && eth.src == 00:00:00:00:03:fe && eth.dst == 00:00:00:00:03:01 && arp.op == 2 && arp.sha == 00:00:00:00:03:fe && arp.spa == 10.0.3.254 && arp.tpa == 10.0.3.1 && arp.tha == 00:00:00:00:03:01';
  const TO_8 = 'inport == "p1" && eth.src == 00:00:00:00:01:02 && eth.dst == 00:00:00:00:01:01 && ip4.src == 10.0.1.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 1 && udp.dst == 53';

  function traced(exec: LogicalExecutor, microflow: string): string {
    const mf = compileMicroflow(program, "ls1", microflow);
    if (!mf.ok) throw new Error(mf.diags[0]?.message);
    const rc = new TraceRecorder(program, mf.value.key);
    exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, rc);
    return renderMinimal(rc.tree);
  }

  it("table mode: an ARP reply teaches the router, and the next packet to that next hop is sent to its MAC, not ARPed for", () => {
    const exec = new LogicalExecutor(program, { ...tableMode, macBindings: snapshot.macBindings });
    const lr1 = program.datapathByName.get("lr1")!;
    const lrp3 = program.portByName.get("lrp3")!.key;
    const before = traced(exec, TO_8);
    expect(before).toContain("eth.dst = 00:00:00:00:00:00;");
    expect(before).toContain("arp {");
    expect(exec.macBindings.lookup(lr1, lrp3, false, 0x0a0003fen)).toBeUndefined();
    run(exec, program, "lr1", ARP_REPLY);
    expect(exec.macBindings.lookup(lr1, lrp3, false, 0x0a0003fen)).toBe(0x0000000003fen);
    const after = traced(exec, TO_8);
    expect(after).toContain("eth.dst = 00:00:00:00:03:fe;");
    expect(after).not.toContain("arp {");
  });

  it("trace mode: put_arp learns nothing (ovn-trace's behaviour), and the recorded binding resolves 9.0.0.0/8's next hop", () => {
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" }, macBindings: snapshot.macBindings });
    run(exec, program, "lr1", ARP_REPLY);
    expect(traced(exec, TO_8)).toContain("arp {");
    expect(traced(exec, TO_8.replace("8.8.8.8", "9.1.2.3"))).toContain("eth.dst = 00:00:00:00:03:fd;");
  });

  it("bindings of unknown ports or with bad addresses are skipped and counted", () => {
    const exec = new LogicalExecutor(program, {
      macBindings: [
        { port: "nope", ip: "10.0.3.9", mac: "00:00:00:00:00:09" },
        { port: "lrp3", ip: "10.0.3.300", mac: "00:00:00:00:00:09" },
        { port: "lrp3", ip: "10.0.3.9", mac: "zz" },
        { port: "lrp3", ip: "10.0.3.9", mac: "00:00:00:00:00:09" },
      ],
    });
    expect(exec.macBindings.skipped.length).toBe(3);
    expect(exec.macBindings.size).toBe(1);
  });
});

describe.skipIf(!ECMP)("select() on real northd ECMP flows", () => {
  const { program } = ECMP!;
  const flow = (sport: number): string => `inport == "e1p" && eth.src == 00:00:00:03:00:02 && eth.dst == 00:00:00:03:00:01 && ip4.src == 10.3.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && tcp && tcp.src == ${sport} && tcp.dst == 80`;

  it("without --select-id, the pick is a stable hash: the same flow always takes the same member, and flows spread over both", () => {
    const exec = new LogicalExecutor(program, tableMode);
    const seen = new Set<string>();
    for (let sport = 1000; sport < 1064; sport++) {
      const a = run(exec, program, "e1", flow(sport)).outputs.map((o) => o.portName);
      const b = run(exec, program, "e1", flow(sport)).outputs.map((o) => o.portName);
      expect(a).toEqual(b);
      expect(a.length).toBe(1);
      seen.add(a[0]!);
    }
    expect([...seen].sort()).toEqual(["nh1", "nh2"]);
  });

  it("--select-id picks the member, per executor or per run", () => {
    const both = [1, 2].map((id) => run(new LogicalExecutor(program, { ...tableMode, selectId: id }), program, "e1", flow(1000)).outputs.map((o) => o.portName)[0]);
    expect([...both].sort()).toEqual(["nh1", "nh2"]);
  });
});

describe.skipIf(!LOOP)("a routing loop on real northd flows", () => {
  const { program } = LOOP!;
  const flow = (ttl: number): string => `inport == "lp1" && eth.src == 00:00:00:05:00:02 && eth.dst == 00:00:00:05:00:01 && ip4.src == 10.5.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == ${ttl} && udp && udp.src == 1 && udp.dst == 53`;

  it.each([
    ["table", tableMode],
    ["trace", { ct: { kind: "trace" } } as ExecutorOptions],
  ])("%s mode: TTL 255 ends with the crossing limit, quickly", (_m, opts) => {
    const t0 = Date.now();
    const r = run(new LogicalExecutor(program, opts), program, "l1", flow(255));
    expect(r.outputs).toEqual([]);
    expect(r.drops.map((d) => d.reason)).toEqual(["loop-crossings"]);
    expect(r.limitHits.map((h) => h.limit)).toEqual(["maxCrossings"]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("with a TTL that runs out before the limit, the ICMP time exceeded comes back to the sender", () => {
    // TTL 6 runs out in lb, whose error goes back through la to lp1 (ovn-trace's recorded
    // loop-ttl-6 ends the same way); with an odd TTL it runs out in la, and la drops its own
    // error when lb routes it back (ovn-trace's loop-ttl-7).
    const r = run(new LogicalExecutor(program, tableMode), program, "l1", flow(6));
    const back = delivered(r, ["icmp4.type == 11", "ip4.dst == 10.5.0.2"]);
    expect(back).toEqual({ port: "lp1", failed: [] });
  });
});
