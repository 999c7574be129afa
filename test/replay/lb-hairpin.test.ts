/**
 * A load-balancer hairpin through the datapath (flow cache and slow path): web-1.default opens a
 * connection to its own service VIP and the load balancer picks web-1.default itself.
 *
 * Real OVS commits `ct(commit,zone=<the switch's SNAT zone>,nat(src=10.96.0.10))` after the DNAT
 * and delivers the packet to web-1.default from the VIP (test/ovn/ovs-replay.test.ts compares
 * ovnsim's frames with real OVS's for two such conversations). Here, with the scenario's three
 * backends: the whole conversation comes back from the VIP (the backend's replies from the VIP's
 * port, as the client expects), with and without the cache, and the SNAT is committed in the
 * switch's SNAT zone, not in a port's zone.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import type { DpActions, PacketSink } from "../../src/dataplane/index.js";
import { W } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { ROOT } from "../../scripts/ovs-megaflows.js";
import { hairpinMicroflow } from "../../scripts/ovs-replay.js";

/** The first connection's source port; the load balancer sends it, and 44013, to web-1.default. */
const SPORT = 44010;
const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const show = (k: Uint32Array): string => `${ip(k[W.NW_SRC]!)}:${k[W.TP]! >>> 16} > ${ip(k[W.NW_DST]!)}:${k[W.TP]! & 0xffff}`;


/**
 * Replays the conversation (or `packets` instead: source port, destination port, TCP flags);
 * returns what was delivered for each packet, and the replayer.
 */
function converse(cache: boolean, packets?: readonly [number, number, number][]): { seen: string[][]; r: Replayer } {
  const sc = loadNetworkFile(join(ROOT, "scenarios", "kube-ovn-default.yaml"));
  if (!sc.ok) throw new Error(sc.diags[0]!.message);
  const r = new Replayer(sc.value.network, { cache: cache ? { emcInsertInvProb: 1 } : false });
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error("physical plan");
  const at = r.injectionFor("web-1.default")!;
  const program = plan.value.chassis.get(at.chassis)!.program;
  let got: string[] = [];
  const sink: PacketSink = {
    output: (chassis, op, k) => got.push(`${chassis} ${op.portName}: ${show(k)}`),
    drop: (chassis, op, k) => got.push(`${chassis} drop ${op.record.reason}: ${show(k)}`),
  };
  r.group.sink = sink;
  const seen: string[][] = [];
  const sport = SPORT;
  const conversation: readonly [number, number, number][] = packets ?? [
    [sport, 80, 0x02],
    [8080, sport, 0x12],
    [sport, 80, 0x10],
    [8080, sport, 0x10],
    [sport, 80, 0x11],
    [8080, sport, 0x11],
  ];
  for (const [s, d, flags] of conversation) {
    const mf = compileMicroflow(program, undefined, hairpinMicroflow(s, d, flags));
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
    const request = `node1 web-1.default: 10.96.0.10:${SPORT} > 10.16.0.2:8080`;
    const reply = `node1 web-1.default: 10.96.0.10:80 > 10.16.0.2:${SPORT}`;
    expect(seen).toEqual([[request], [reply], [request], [reply], [request], [reply]]);
  });

  it("gives the same packets with and without the flow cache", () => {
    expect(converse(false).seen).toEqual(converse(true).seen);
  });

  it("commits the SNAT in the switch's SNAT zone", () => {
    // A megaflow whose effects commit an SNAT to the VIP, in the zone reg12 holds, which is
    // neither web-1.default's port zone nor zero. The first hairpin learns its reply flow,
    // which flushes the cache; a second connection (another source port the load balancer also
    // sends to web-1.default) keeps its megaflows.
    const { r, seen } = converse(true, [
      [44010, 80, 0x02],
      [44013, 80, 0x02],
    ]);
    expect(seen).toEqual([["node1 web-1.default: 10.96.0.10:44010 > 10.16.0.2:8080"], ["node1 web-1.default: 10.96.0.10:44013 > 10.16.0.2:8080"]]);
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
