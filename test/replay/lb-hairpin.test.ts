/**
 * A load-balancer hairpin through the datapath (flow cache and slow path), against what real OVS
 * does with the same packet (the `lb-hairpin` packet of scripts/ovs-megaflows.ts, recorded in
 * fixtures/ovs/megaflows-kube-ovn-default.json): web-1.default opens a connection to its own
 * service VIP and the load balancer picks web-1.default itself.
 *
 * Real OVS (the recording): after the DNAT to 10.16.0.2:8080, one pass commits
 * `ct(commit,zone=<ovn-default's SNAT zone>,nat(src=10.96.0.10))` and the packet leaves through
 * web-1.default's port. ovnsim must do the same: SNAT to the VIP in the switch's SNAT zone (not a
 * port's zone), deliver to web-1.default from 10.96.0.10, and then carry the whole conversation:
 * the backend's reply comes back from the VIP's address and port, as the client expects.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import type { DpActions, PacketSink } from "../../src/dataplane/index.js";
import { W } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { PACKETS, RECORDING, ROOT, type MegaflowRecording } from "../../scripts/ovs-megaflows.js";

const HAIRPIN = PACKETS.find((p) => p.name === "lb-hairpin")!;
const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const show = (k: Uint32Array): string => `${ip(k[W.NW_SRC]!)}:${k[W.TP]! >>> 16} > ${ip(k[W.NW_DST]!)}:${k[W.TP]! & 0xffff}`;

/**
 * The hairpin packet's microflow with other ports and TCP flags. Both directions go from
 * 10.16.0.2 to 10.96.0.10: the backend answers the address the request came from, which the
 * hairpin SNAT made the VIP.
 */
function variant(sport: number, dport: number, flags: number): string {
  return HAIRPIN.microflow
    .replace(/tcp\.src == \d+/, `tcp.src == ${sport}`)
    .replace(/tcp\.dst == \d+/, `tcp.dst == ${dport}`)
    .replace(/tcp\.flags == 0x[0-9a-f]+/, `tcp.flags == 0x${flags.toString(16)}`);
}

/**
 * Replays the conversation (or `packets` instead: source port, destination port, TCP flags);
 * returns what was delivered for each packet, and the replayer.
 */
function converse(cache: boolean, packets?: readonly [number, number, number][]): { seen: string[][]; r: Replayer } {
  const sc = loadNetworkFile(join(ROOT, "scenarios", HAIRPIN.scenario));
  if (!sc.ok) throw new Error(sc.diags[0]!.message);
  const r = new Replayer(sc.value.network, { cache: cache ? { emcInsertInvProb: 1 } : false });
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error("physical plan");
  const at = r.injectionFor(HAIRPIN.inport)!;
  const program = plan.value.chassis.get(at.chassis)!.program;
  let got: string[] = [];
  const sink: PacketSink = {
    output: (chassis, op, k) => got.push(`${chassis} ${op.portName}: ${show(k)}`),
    drop: (chassis, op, k) => got.push(`${chassis} drop ${op.record.reason}: ${show(k)}`),
  };
  r.group.sink = sink;
  const seen: string[][] = [];
  const sport = Number(/tcp\.src == (\d+)/.exec(HAIRPIN.microflow)![1]);
  const conversation: readonly [number, number, number][] = packets ?? [
    [sport, 80, 0x02],
    [8080, sport, 0x12],
    [sport, 80, 0x10],
    [8080, sport, 0x10],
    [sport, 80, 0x11],
    [8080, sport, 0x11],
  ];
  for (const [s, d, flags] of conversation) {
    const mf = compileMicroflow(program, undefined, variant(s, d, flags));
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    const key = mf.value.key.slice();
    key.fill(0, 0, W.REG0 + 16);
    got = [];
    r.group.inject(at.datapath, at.entry, key);
    seen.push(got);
  }
  return { seen, r };
}

describe("load-balancer hairpin in the datapath", () => {
  it("the request reaches web-1.default from the VIP, and the reply comes back from the VIP's port", () => {
    const { seen } = converse(true);
    const sport = Number(/tcp\.src == (\d+)/.exec(HAIRPIN.microflow)![1]);
    const request = `node1 web-1.default: 10.96.0.10:${sport} > 10.16.0.2:8080`;
    const reply = `node1 web-1.default: 10.96.0.10:80 > 10.16.0.2:${sport}`;
    expect(seen).toEqual([[request], [reply], [request], [reply], [request], [reply]]);
  });

  it("gives the same packets with and without the flow cache", () => {
    expect(converse(false).seen).toEqual(converse(true).seen);
  });

  it("commits the SNAT in the switch's SNAT zone, as the recorded real OVS pass does", () => {
    const rec = JSON.parse(readFileSync(RECORDING, "utf8")) as MegaflowRecording;
    const real = rec.packets.find((p) => p.name === "lb-hairpin");
    expect(real, "the recording has the lb-hairpin packet (npx tsx scripts/ovs-megaflows.ts --record)").toBeDefined();
    const topo = rec.topologies.find((t) => t.scenario === real!.scenario)!;
    // Real OVS: ct(commit,zone=<ovn-default_snat>,nat(src=10.96.0.10)), and the last pass outputs to web-1.
    const snatZone = topo.ctZones["ovn-default_snat"];
    expect(snatZone).toBeDefined();
    expect(real!.passes.some((p) => p.actions.includes(`ct(commit,zone=${snatZone},nat(src=10.96.0.10))`))).toBe(true);
    const web1 = topo.ports.find((p) => p.lsp === "web-1.default")!;
    expect(real!.passes.at(-1)!.actions).toMatch(new RegExp(`,${web1.odpPort}$`));

    // ovnsim: a megaflow whose effects commit an SNAT to the VIP, in the zone reg12 holds, which
    // is neither web-1.default's port zone nor zero. The first hairpin learns its reply flow,
    // which flushes the cache; a second connection (another source port the load balancer also
    // sends to web-1.default) keeps its megaflows.
    const { r, seen } = converse(true, [
      [44010, 80, 0x02],
      [44011, 80, 0x02],
    ]);
    expect(seen).toEqual([["node1 web-1.default: 10.96.0.10:44010 > 10.16.0.2:8080"], ["node1 web-1.default: 10.96.0.10:44011 > 10.16.0.2:8080"]]);
    const flows = r.group.datapaths().flatMap((d) => d.cache!.megaflows());
    const snats = flows.flatMap((f) => (f.actions as DpActions).effects.filter((e) => e.kind === "ct" && e.request.commit && e.request.nat?.kind === "snat").map((e) => ({ f, e })));
    expect(snats.length).toBeGreaterThan(0);
    for (const { f, e } of snats) {
      if (e.kind !== "ct") continue;
      const nat = e.request.nat;
      expect(nat?.kind === "snat" && nat.range?.ipMin.map((w) => ip(w >>> 0))).toEqual(["10.96.0.10"]);
      expect(e.action.zone.kind === "field" && e.action.zone.src.field.name).toBe("reg12");
      expect(f.mask[W.REG0 + 12]).not.toBe(0);
      expect(e.request.zone).toBe(f.value[W.REG0 + 12]! & 0xffff);
      expect(e.request.zone).not.toBe(0);
      expect(e.request.zone).not.toBe(f.value[W.REG0 + 13]! & 0xffff);
    }
  });
});
