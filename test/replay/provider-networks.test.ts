/**
 * `replay` carries a frame that leaves one chassis by a localnet port to the chassis that own its
 * destination over the provider network, flooding a MAC no one has and leaving one of a host
 * outside alone (src/replay/provider-segments.ts), as `trace`'s path does
 * (dataplane/fabric.ts), so that an underlay pod's packets reach a pod on another node through
 * that node's pipelines. Worked through on scenarios/kube-ovn-underlay.yaml (node1: u1, v1, l1;
 * node2: u2, v2, l2; VLANs 100, 200 and 102 of `provider`) and fixtures/ovs/bridged-redirect.yaml.
 */
import { describe, expect, it } from "vitest";
import { join, resolve } from "node:path";
import { compileMicroflow, compilePhysical, announcedMacOwners } from "../../src/compile/index.js";
import { ProviderSegments } from "../../src/replay/provider-segments.js";
import { Replayer, type ReplayOptions } from "../../src/replay/index.js";
import type { Network } from "../../src/model/index.js";
import { parseMacWords, type PhysicalPlan } from "../../src/ofp/index.js";
import { loadNetworkFile, loadScenario } from "../../src/scenario/index.js";
import { KEY_WORDS, W, field, getField } from "../../src/flow/index.js";

const ROOT = resolve(import.meta.dirname, "../..");

function load(file: string): { net: Network; plan: PhysicalPlan } {
  const r = loadNetworkFile(join(ROOT, file));
  if (!r.ok) throw new Error(r.diags[0]!.message);
  const plan = compilePhysical(r.value.network);
  if (!plan.ok) throw new Error(plan.diags[0]!.message);
  return { net: r.value.network, plan: plan.value };
}

/** A source MAC no port has and no test sends to. */
const SENDER = "0a:00:00:00:99:01";

/**
 * Who receives what `from` sends out its localnet port `port` to `mac` (from `src`), as "CHASSIS
 * LOCALNET", and "uplink" last when the frame leaves `from` by its provider bridge's uplink.
 */
function receivers(s: ProviderSegments, plan: PhysicalPlan, from: string, port: string, mac: string, src = SENDER): string[] {
  const c = plan.chassis.get(from)!;
  const p = c.program.portByName.get(port)!;
  const [hi, lo] = parseMacWords(mac)!;
  const [shi, slo] = parseMacWords(src)!;
  const d = s.receivers(from, p.datapath, p.key, [shi!, slo!], [hi!, lo!]);
  return [...d.targets.map((t) => `${t.chassis} ${plan.chassis.get(t.chassis)!.program.datapaths.get(t.datapath)!.ports.get(t.port)!.name}`), ...(d.uplink ? ["uplink"] : [])];
}

describe("which chassis a provider network delivers a frame to", () => {
  const { net, plan } = load("scenarios/kube-ovn-underlay.yaml");
  const s = new ProviderSegments(net, plan);

  it("a pod's MAC: the chassis the pod is bound to, on the same VLAN only", () => {
    expect(receivers(s, plan, "node1", "localnet.vlan100", "00:00:00:0a:64:03")).toEqual(["node2 localnet.vlan100", "uplink"]);
    expect(receivers(s, plan, "node2", "localnet.vlan200", "00:00:00:0a:c8:02")).toEqual(["node1 localnet.vlan200", "uplink"]);
    // u2's MAC on VLAN 200: no port of vlan200 owns it, and VLANs learn apart, so it is flooded.
    expect(receivers(s, plan, "node1", "localnet.vlan200", "00:00:00:0a:64:03")).toEqual(["node2 localnet.vlan200", "uplink"]);
    // A pod on the sending chassis itself is not reached again, nor is the uplink: the bridge has
    // it behind the patch port the frame comes in by (the executor drops such a frame first).
    expect(receivers(s, plan, "node1", "localnet.vlan100", "00:00:00:0a:64:02")).toEqual([]);
  });

  it("broadcast and multicast: every other chassis of the VLAN; a host outside: nobody; a MAC nobody has: flooded", () => {
    expect(receivers(s, plan, "node1", "localnet.lgw", "ff:ff:ff:ff:ff:ff")).toEqual(["node2 localnet.lgw", "uplink"]);
    expect(receivers(s, plan, "node2", "localnet.vlan100", "01:00:5e:00:00:fb")).toEqual(["node1 localnet.vlan100", "uplink"]);
    // The underlay's gateway on VLAN 100 (providerNetworks): learned at the uplink.
    expect(receivers(s, plan, "node1", "localnet.vlan100", "00:00:5e:00:01:64")).toEqual(["uplink"]);
    // The distributed router port's MAC: no chassis sends from it, so no switch has learned it,
    // and it is flooded, as is a MAC no one has.
    expect(receivers(s, plan, "node1", "localnet.vlan100", "00:00:00:0a:64:fe")).toEqual(["node2 localnet.vlan100", "uplink"]);
    expect(receivers(s, plan, "node2", "localnet.vlan100", "02:00:00:00:00:99")).toEqual(["node1 localnet.vlan100", "uplink"]);
    // Once a host outside has that MAC, frames to it leave.
    const t = new ProviderSegments(net, plan);
    t.knowOutside(0x0200, 0x99);
    expect(receivers(t, plan, "node2", "localnet.vlan100", "02:00:00:00:00:99")).toEqual(["uplink"]);
  });

  it("a gateway port's MAC: announced from the chassis where its chassis-redirect port is active", () => {
    const b = load("fixtures/ovs/bridged-redirect.yaml");
    const sb = new ProviderSegments(b.net, b.plan);
    const ln = b.plan.chassis.get("node2")!.program.portByName.get("ln-pub")!;
    const [hi, lo] = parseMacWords("00:00:00:ac:00:02")!;
    expect(receivers(sb, b.plan, "node1", "ln-pub", "00:00:00:ac:00:02")).toEqual(["node2 ln-pub", "uplink"]);
    expect(receivers(sb, b.plan, "node2", "ln-pub", "00:00:00:ac:00:02")).toEqual([]);
    expect(sb.learnedBehind("node2", ln.datapath, ln.key, hi!, lo!)).toBe("00:00:00:ac:00:02");
    expect(sb.learnedBehind("node1", ln.datapath, ln.key, hi!, lo!)).toBeUndefined();
  });
});

describe("the underlay's own gateway, which routes between its VLANs", () => {
  const { net, plan } = load("scenarios/kube-ovn-underlay.yaml");
  const port = plan.chassis.get("node1")!.program.portByName.get("localnet.vlan100")!;
  const to = (s: ProviderSegments, mac: string) => {
    const [hi, lo] = parseMacWords(mac)!;
    const [shi, slo] = parseMacWords(SENDER)!;
    return s.receivers("node1", port.datapath, port.key, [shi!, slo!], [hi!, lo!]);
  };

  it("a frame for its MAC on VLAN 100: routed to a host of either subnet, from its MAC on the host's VLAN", () => {
    const router = to(new ProviderSegments(net, plan), "00:00:5e:00:01:64").router!;
    // v2 (10.200.0.3, on node2): onto VLAN 200 from the gateway's MAC there, to v2's MAC.
    const v2 = router.route(0x0ac80003)!;
    expect([v2.vlan, v2.src, v2.dst, v2.targets.map((t) => `${t.chassis} ${plan.chassis.get(t.chassis)!.program.datapaths.get(t.datapath)!.ports.get(t.port)!.name}`)]).toEqual([200, parseMacWords("00:00:5e:00:01:c8"), parseMacWords("00:00:00:0a:c8:03"), ["node2 localnet.vlan200"]]);
    // u2 (10.100.0.3): back onto VLAN 100.
    expect(router.route(0x0a640003)?.vlan).toBe(100);
    // The gateway itself, an address outside its subnets, an address of its subnet nobody has.
    expect([router.route(0x0a640001), router.route(0x08080808), router.route(0x0ac80063)]).toEqual([undefined, undefined, undefined]);
  });

  it("a broadcast, a frame for another MAC, or routing turned off: no router", () => {
    expect(to(new ProviderSegments(net, plan), "ff:ff:ff:ff:ff:ff").router).toBeUndefined();
    expect(to(new ProviderSegments(net, plan), "00:00:5e:00:01:c8").router).toBeUndefined();
    expect(to(new ProviderSegments(net, plan, { route: false }), "00:00:5e:00:01:64").router).toBeUndefined();
  });
});

describe("two switches on one provider network and VLAN (fixtures/ovs/shared-vlan.yaml)", () => {
  const { net, plan } = load("fixtures/ovs/shared-vlan.yaml");
  const s = new ProviderSegments(net, plan);

  it("a MAC of the other switch on the sending chassis: that switch there, not the uplink", () => {
    expect(receivers(s, plan, "node1", "ln-a", "00:00:00:02:00:0b")).toEqual(["node1 ln-b"]);
    expect(receivers(s, plan, "node1", "ln-b", "00:00:00:01:00:0b")).toEqual(["node1 ln-a"]);
  });

  it("a MAC of the other switch on another chassis: that switch there, by the uplink", () => {
    expect(receivers(s, plan, "node1", "ln-a", "00:00:00:02:00:0c")).toEqual(["node2 ln-b", "uplink"]);
  });

  it("broadcast and a MAC nobody has: both switches on every chassis but the sender itself, and the uplink; another VLAN: none of them", () => {
    expect(receivers(s, plan, "node1", "ln-a", "ff:ff:ff:ff:ff:ff").sort()).toEqual(["node1 ln-b", "node2 ln-a", "node2 ln-b", "uplink"]);
    expect(receivers(s, plan, "node2", "ln-b", "00:00:00:09:09:09").sort()).toEqual(["node1 ln-a", "node1 ln-b", "node2 ln-a", "uplink"]);
    expect(receivers(s, plan, "node1", "ln-c", "ff:ff:ff:ff:ff:ff")).toEqual(["uplink"]);
  });

  it("a frame teaches every bridge it reaches its source, and a MAC that sends from elsewhere moves", () => {
    const t = new ProviderSegments(net, plan);
    const mac = "02:00:00:00:07:07";
    expect(receivers(t, plan, "node1", "ln-a", mac).sort()).toEqual(["node1 ln-b", "node2 ln-a", "node2 ln-b", "uplink"]);
    // From node2's vlan-b: learned behind ln-b there, at the wire's port to node2, at node1's uplink.
    const v = t.version;
    expect(receivers(t, plan, "node2", "ln-b", "ff:ff:ff:ff:ff:ff", mac).sort()).toEqual(["node1 ln-a", "node1 ln-b", "node2 ln-a", "uplink"]);
    expect(t.version).toBeGreaterThan(v);
    expect(receivers(t, plan, "node1", "ln-a", mac)).toEqual(["node2 ln-b", "uplink"]);
    expect(receivers(t, plan, "node2", "ln-a", mac)).toEqual(["node2 ln-b"]);
    expect(receivers(t, plan, "node2", "ln-b", mac)).toEqual([]);
    // The same frame again teaches nothing new.
    const w = t.version;
    receivers(t, plan, "node2", "ln-b", "ff:ff:ff:ff:ff:ff", mac);
    expect(t.version).toBe(w);
    // Now it sends from node1's vlan-a: node2's bridge has it at its uplink, node1's behind ln-a.
    receivers(t, plan, "node1", "ln-a", "ff:ff:ff:ff:ff:ff", mac);
    expect(receivers(t, plan, "node2", "ln-b", mac)).toEqual(["node1 ln-a", "uplink"]);
    expect(receivers(t, plan, "node1", "ln-b", mac)).toEqual(["node1 ln-a"]);
    // A multicast source teaches nothing.
    const x = t.version;
    receivers(t, plan, "node1", "ln-a", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01");
    expect(t.version).toBe(x);
  });

  it("the MAC of a disabled VIF, which no announcement taught the bridges: flooded like a MAC nobody has", () => {
    expect(receivers(s, plan, "node1", "ln-a", "00:00:00:02:00:0d").sort()).toEqual(["node1 ln-b", "node2 ln-a", "node2 ln-b", "uplink"]);
    expect(announcedMacOwners(net).get("vlan-b")?.has("00:00:00:02:00:0d")).toBe(false);
    expect(announcedMacOwners(net).get("vlan-b")?.get("00:00:00:02:00:0b")).toBe("node1");
  });
});

describe("announcements that port security refuses", () => {
  // p1's port security allows 10.1.0.99 only, so its announcement (a gratuitous ARP for 10.1.0.11)
  // goes no further than its own ingress pipeline; p2's passes. Both live on node2.
  const text = `name: refused
chassis:
  - {name: node1, encaps: [{type: geneve, ip: 192.168.0.11}], bridgeMappings: {physnet1: br-ex}}
  - {name: node2, encaps: [{type: geneve, ip: 192.168.0.12}], bridgeMappings: {physnet1: br-ex}}
switches:
  - name: ls
    ports:
      - {name: ln, type: localnet, addresses: [unknown], options: {network_name: physnet1}}
      - {name: p0, addresses: ["00:00:00:01:00:0a 10.1.0.10"], chassis: node1}
      - {name: p1, addresses: ["00:00:00:01:00:0b 10.1.0.11"], portSecurity: ["00:00:00:01:00:0b 10.1.0.99"], chassis: node2}
      - {name: p2, addresses: ["00:00:00:01:00:0c 10.1.0.12"], portSecurity: ["00:00:00:01:00:0c 10.1.0.12"], chassis: node2}
`;
  const sc = loadScenario(text, "refused.yaml");
  if (!sc.ok) throw new Error(sc.diags[0]!.message);
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error(plan.diags[0]!.message);
  const s = new ProviderSegments(sc.value.network, plan.value);

  it("a VIF whose announcement is refused is flooded like a MAC nobody has; one whose announcement passes is not", () => {
    expect(receivers(s, plan.value, "node1", "ln", "00:00:00:01:00:0b")).toEqual(["node2 ln", "uplink"]);
    expect(receivers(s, plan.value, "node1", "ln", "00:00:00:01:00:0c")).toEqual(["node2 ln", "uplink"]);
    // Known at node2: node2's own frame for p2 stays behind the patch port; one for p1 is flooded.
    expect(receivers(s, plan.value, "node2", "ln", "00:00:00:01:00:0c")).toEqual([]);
    expect(receivers(s, plan.value, "node2", "ln", "00:00:00:01:00:0b")).toEqual(["node1 ln", "uplink"]);
  });
});

describe("replay across a provider network", () => {
  const { net, plan } = load("scenarios/kube-ovn-underlay.yaml");
  const program = plan.chassis.get("node1")!.program;

  /** Replays `microflow` (a packet from `port`) with and without the cache; the stats of each. */
  function replayOne(port: string, microflow: string) {
    const mf = compileMicroflow(program, undefined, microflow);
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    return [true, false].map((cache) => {
      const r = new Replayer(net, cache ? {} : { cache: false });
      const at = r.injectionFor(port)!;
      const key = new Uint32Array(KEY_WORDS);
      key.set(mf.value.key);
      r.group.inject(at.datapath, at.entry, key);
      return r.group.stats();
    });
  }

  it("u1 -> u2 (another node, VLAN 100): out node1's localnet port, in node2's, delivered to u2", () => {
    const stats = replayOne("u1", 'inport == "u1" && eth.src == 00:00:00:0a:64:02 && eth.dst == 00:00:00:0a:64:03 && ip4.src == 10.100.0.2 && ip4.dst == 10.100.0.3 && ip.ttl == 64 && tcp && tcp.src == 40001 && tcp.dst == 80');
    for (const s of stats) {
      expect(s.outputs).toEqual({ "node1 localnet.vlan100": 1, "node2 u2": 1 });
      expect(s.providers).toEqual({ "node1 -> node2 (localnet.vlan100)": 1 });
      expect(s.drops).toEqual({});
    }
  });

  it("o1 -> u2 through the router: routed on node1, onto VLAN 100 from node1's chassis MAC, to u2", () => {
    const stats = replayOne("o1", 'inport == "o1" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:01 && ip4.src == 10.16.0.2 && ip4.dst == 10.100.0.3 && ip.ttl == 64 && tcp && tcp.src == 40012 && tcp.dst == 80');
    for (const s of stats) expect([s.outputs, s.providers]).toEqual([{ "node1 localnet.vlan100": 1, "node2 u2": 1 }, { "node1 -> node2 (localnet.vlan100)": 1 }]);
  });

  it("a broadcast from u1 reaches node2's ports of VLAN 100 too; a frame for a host outside leaves", () => {
    const arp = replayOne("u1", 'inport == "u1" && eth.src == 00:00:00:0a:64:02 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:0a:64:02 && arp.spa == 10.100.0.2 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.100.0.77');
    for (const s of arp) {
      expect(s.providers).toEqual({ "node1 -> node2 (localnet.vlan100)": 1 });
      expect(s.outputs["node2 u2"]).toBe(1);
      expect(s.outputs["node1 localnet.vlan100"]).toBe(1);
      // node2 sends nothing back onto the VLAN it came from.
      expect(s.outputs["node2 localnet.vlan100"]).toBeUndefined();
    }
    const out = replayOne("u1", 'inport == "u1" && eth.src == 00:00:00:0a:64:02 && eth.dst == 00:00:5e:00:01:64 && ip4.src == 10.100.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53');
    for (const s of out) expect([s.outputs, s.providers]).toEqual([{ "node1 localnet.vlan100": 1 }, {}]);
  });

  it("u1 -> v2 by the underlay's gateway: onto VLAN 100, routed onto VLAN 200 (TTL 63, from the gateway's MAC), into node2 to v2", () => {
    const mf = compileMicroflow(program, undefined, 'inport == "u1" && eth.src == 00:00:00:0a:64:02 && eth.dst == 00:00:5e:00:01:64 && ip4.src == 10.100.0.2 && ip4.dst == 10.200.0.3 && ip.ttl == 64 && tcp && tcp.src == 40031 && tcp.dst == 80');
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    for (const cache of [true, false]) {
      const r = new Replayer(net, cache ? {} : { cache: false });
      const delivered: Uint32Array[] = [];
      r.group.sink = { output: (chassis, op, k) => void (op.portName === "v2" && delivered.push(k.slice())), drop: () => {} };
      const at = r.injectionFor("u1")!;
      for (let i = 0; i < 2; i++) {
        const key = new Uint32Array(KEY_WORDS);
        key.set(mf.value.key);
        r.group.inject(at.datapath, at.entry, key);
      }
      const s = r.group.stats();
      expect([s.outputs, s.providers, s.drops]).toEqual([{ "node1 localnet.vlan100": 2, "node2 v2": 2 }, { "node1 -> node2 (routed by the underlay gateway)": 2 }, {}]);
      expect(delivered.map((k) => [getField(k, field("nw_ttl")), k[W.ETH_SRC], k[W.ETH_SRC + 1], k[W.ETH_DST], k[W.ETH_DST + 1]])).toEqual(Array(2).fill([63, ...parseMacWords("00:00:5e:00:01:c8")!, ...parseMacWords("00:00:00:0a:c8:03")!]));
    }
  });

  it("the gateway routes nothing whose TTL would run out, and nothing when routing is off", () => {
    const toV2 = (ttl: number): string => `inport == "u1" && eth.src == 00:00:00:0a:64:02 && eth.dst == 00:00:5e:00:01:64 && ip4.src == 10.100.0.2 && ip4.dst == 10.200.0.3 && ip.ttl == ${ttl} && tcp && tcp.src == 40031 && tcp.dst == 80`;
    const cases: [ReplayOptions, string][] = [
      [{}, toV2(1)],
      [{ underlayRouting: false }, toV2(1)],
      [{ underlayRouting: false }, toV2(64)],
    ];
    for (const [opts, microflow] of cases) {
      const mf = compileMicroflow(program, undefined, microflow);
      if (!mf.ok) throw new Error(mf.diags[0]!.message);
      const r = new Replayer(net, opts);
      const at = r.injectionFor("u1")!;
      const key = new Uint32Array(KEY_WORDS);
      key.set(mf.value.key);
      r.group.inject(at.datapath, at.entry, key);
      expect([r.group.stats().outputs, r.group.stats().providers]).toEqual([{ "node1 localnet.vlan100": 1 }, {}]);
    }
  });
});
