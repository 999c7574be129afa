/**
 * A load-balancer hairpin through the datapath (flow cache and slow path): web-1.default opens a
 * connection to its own service VIP and the load balancer picks web-1.default itself.
 *
 * Real OVS commits `ct(commit,zone=<the switch's SNAT zone>,nat(src=10.96.0.10))` after the DNAT
 * and delivers the packet to web-1.default from the VIP (test/ovn/ovs-replay.test.ts compares
 * ovnsim's frames with real OVS's for two such conversations). Here, with the scenario's three
 * backends: the whole conversation comes back from the VIP (the backend's replies from the VIP's
 * port, as the client expects), with and without the cache, and the SNAT is committed in the
 * switch's SNAT zone, not in a port's zone. Then a hairpin whose egress skips conntrack: OVS's
 * translation matches the egress ACLs against the packet as it was before that SNAT (which it
 * applies without recirculating), while the packet leaves from the VIP (replay-fuzz seed 3975,
 * where real OVS delivered such a packet that matching on the VIP would have dropped).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import type { DpActions, PacketSink } from "../../src/dataplane/index.js";
import { W } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile, loadScenario } from "../../src/scenario/index.js";
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

describe("a hairpin whose egress ACLs skip conntrack", () => {
  // The egress is stateless for IPv4 (an allow-stateless ACL below the port group's), so the
  // hairpinned packet meets the port group's ACLs with no conntrack of its own: allowed from p4's
  // own address ($self), dropped from any other.
  const text = `name: hairpin-acl
chassis:
  - {name: node1, encaps: [{type: geneve, ip: 192.168.0.11}]}
loadBalancers:
  - {name: lb, protocol: udp, vips: {"10.96.0.2:8080": ["10.1.0.14:8000"]}}
addressSets:
  - {name: self, addresses: [10.1.0.14]}
portGroups:
  - name: pg
    ports: [p4]
    acls:
      - {direction: to-lport, priority: 2000, match: 'outport == @pg && ip', action: drop}
      - {direction: to-lport, priority: 2001, match: 'outport == @pg && ip4.src == $self', action: allow-related}
switches:
  - name: sw1
    ports:
      - {name: p2, addresses: ["00:00:00:01:00:03 10.1.0.12"], chassis: node1}
      - {name: p4, addresses: ["00:00:00:01:00:05 10.1.0.14"], chassis: node1}
    acls:
      - {direction: to-lport, priority: 500, match: 'ip4', action: allow-stateless}
    loadBalancers: [lb]
`;
  const sc = loadScenario(text, "hairpin-acl.yaml");
  if (!sc.ok) throw new Error(sc.diags[0]!.message);
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error(plan.diags[0]!.message);
  const program = plan.value.chassis.get("node1")!.program;

  it.each([true, false])("p4 -> its own VIP (cache %s): the egress ACLs match p4's own source, and the packet leaves from the VIP", (cache) => {
    const r = new Replayer(sc.value.network, cache ? {} : { cache: false });
    const got: string[] = [];
    r.group.sink = {
      output: (chassis, op, k) => got.push(`${op.portName}: ${show(k)}`),
      drop: (chassis, op, k) => got.push(`drop ${op.record.reason} ${op.record.origin ?? ""}: ${show(k)}`),
    };
    const at = r.injectionFor("p4")!;
    for (const sport of [40001, 40002]) {
      const mf = compileMicroflow(program, undefined, `inport == "p4" && eth.src == 00:00:00:01:00:05 && eth.dst == 00:00:00:01:00:03 && ip4.src == 10.1.0.14 && ip4.dst == 10.96.0.2 && ip.ttl == 64 && udp && udp.src == ${sport} && udp.dst == 8080`);
      if (!mf.ok) throw new Error(mf.diags[0]!.message);
      const key = mf.value.key.slice();
      key.fill(0, 0, W.REG0 + 16);
      r.group.inject(at.datapath, at.entry, key);
    }
    expect(got).toEqual(["p4: 10.96.0.2:40001 > 10.1.0.14:8000", "p4: 10.96.0.2:40002 > 10.1.0.14:8000"]);
  });
});
