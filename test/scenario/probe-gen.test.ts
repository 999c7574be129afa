/**
 * The probe generator: deterministic, unique names, no expectations, a counted spread under `max`,
 * the number of probes of each kind a network's description implies, and the frames a host would
 * really send: wherever a scenario author wrote a probe from the same port to the same address
 * (and backend), the generated probe puts the same eth.dst on it, except where the author sent a
 * deliberately wrong MAC.
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { generateProbes, loadNetworkFile, loadNetworkText, spreadIndices, type Probe } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const files = readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml")).sort();

function load(file: string) {
  const r = loadNetworkFile(join(SCENARIOS, file));
  if (!r.ok) throw new Error(`${file} does not load`);
  return r.value;
}

/** The value a microflow compares `field` with (`inport == "p"` gives `"p"`). */
function valueOf(microflow: string, field: string): string | undefined {
  return new RegExp(`\\b${field.replace(/\./g, "\\.")} == ("[^"]*"|[^ )]+)`).exec(microflow)?.[1];
}

/** Hand-written probes whose eth.dst is deliberately not the one a host would use. */
const DELIBERATELY_MISADDRESSED = new Set([
  "kube-ovn-default.yaml unknown-dst-mac-dropped",
  "kube-ovn-dual-stack.yaml unknown-dst-mac-dropped",
  "kube-ovn-underlay.yaml u1-to-v2-direct-to-physical-gw",
  "vpc-overlap.yaml a-pod12-to-other-vpc-mac-dropped",
  "vpc-overlap.yaml b-pod12-to-other-vpc-mac-dropped",
]);

describe.each(files)("generated probes of %s", (file) => {
  const s = load(file);
  const gen = generateProbes(s.network);

  it("are deterministic, uniquely named, unchecked, on the switch of their inport", () => {
    expect(generateProbes(load(file).network)).toEqual(gen);
    expect(gen.total).toBe(gen.probes.length);
    expect(new Set(gen.probes.map((p) => p.name)).size).toBe(gen.probes.length);
    for (const p of gen.probes) {
      expect(p.expect).toEqual({ kind: "unchecked" });
      expect(p.name.startsWith("gen/")).toBe(true);
      const inport = JSON.parse(valueOf(p.microflow, "inport")!) as string;
      expect(s.network.switches.get(p.datapath)?.ports.has(inport), p.name).toBe(true);
    }
  });

  it("put the eth.dst on a frame that the scenario's author put on the same frame", () => {
    const key = (p: Probe): string => [valueOf(p.microflow, "inport"), valueOf(p.microflow, "ip4.dst"), p.lbDst ?? ""].join("|");
    const byKey = new Map(gen.probes.map((p) => [key(p), p]));
    for (const p of s.probes) {
      if (DELIBERATELY_MISADDRESSED.has(`${file} ${p.name}`)) continue;
      const mac = valueOf(p.microflow, "eth.dst");
      if (valueOf(p.microflow, "ip4.dst") === undefined || mac === "ff:ff:ff:ff:ff:ff") continue;
      const g = byKey.get(key(p));
      if (g) expect(valueOf(g.microflow, "eth.dst"), `${p.name} / ${g.name}`).toBe(mac);
    }
  });

  it("keep an even spread under max, and say so", () => {
    const n = gen.probes.length;
    for (const max of [0, 1, Math.floor(n / 3), n - 1, n, n + 5]) {
      const some = generateProbes(s.network, { max });
      expect(some.total).toBe(n);
      expect(some.probes).toHaveLength(Math.min(max, n));
      // A subsequence of the whole list, in order.
      const idx = some.probes.map((p) => gen.probes.findIndex((q) => q.name === p.name));
      expect(idx.every((i) => i >= 0)).toBe(true);
      expect(some.probes).toEqual(idx.map((i) => gen.probes[i]));
      expect([...idx].sort((a, b) => a - b)).toEqual(idx);
      expect(new Set(idx).size).toBe(idx.length);
      if (max < n) expect(some.notes).toContain(`kept ${max} of ${n} generated probes (an even spread over all of them)`);
      else expect(some.notes.some((x) => x.startsWith("kept "))).toBe(false);
    }
  });
});

describe("the generator on gateway-nat.yaml", () => {
  const gen = generateProbes(load("gateway-nat.yaml").network);
  const count = (prefix: string): number => gen.probes.filter((p) => p.name.startsWith(prefix)).length;

  it("has one probe per ordered pair of its 8 VIFs, four ARP probes for its four router ports, and NAT both ways", () => {
    expect(count("gen/pair/")).toBe(8 * 7);
    expect(count("gen/arp/")).toBe(4);
    // Per rule: dnat → dnat + dnat-reply; snat → snat + snat-reply; dnat_and_snat → all four.
    // gr1: snat, dnat, dnat_and_snat; dr1: snat, dnat, two dnat_and_snat.
    expect(count("gen/nat/gr1/")).toBe(2 + 2 + 4);
    expect(count("gen/nat/dr1/")).toBe(2 + 2 + 4 + 4);
    expect(count("gen/lb/")).toBe(0);
    expect(gen.total).toBe(56 + 4 + 8 + 12);
  });

  it("sends to a distributed dnat_and_snat's own external MAC, and replies with est,rpl", () => {
    const fip = gen.probes.find((p) => p.name === "gen/nat/dr1/dnat/172.16.0.22")!;
    expect(valueOf(fip.microflow, "eth.dst")).toBe("00:00:00:ac:00:22");
    expect(fip.ct).toEqual(Array(8).fill("new"));
    const reply = gen.probes.find((p) => p.name === "gen/nat/dr1/dnat-reply/172.16.0.22")!;
    expect(valueOf(reply.microflow, "inport")).toBe('"vm-d3"');
    expect(valueOf(reply.microflow, "ip4.src")).toBe("10.12.0.4");
    expect(reply.ct).toEqual(Array(8).fill("est,rpl"));
  });

  it("says why the localnet port is no endpoint", () => {
    expect(gen.notes).toEqual(["localnet ports with no known host on their VLAN (no provider-network gateway) are no endpoints: ln-public"]);
  });
});

describe("load-balancer probes", () => {
  it("name a backend (ovn-trace picks one at random otherwise), rotated over the client switches", () => {
    const gen = generateProbes(load("kube-ovn-cluster.yaml").network);
    const lb = gen.probes.filter((p) => p.name.startsWith("gen/lb/"));
    // Two VIPs, each on the two switches that carry both balancers.
    expect(lb.map((p) => [p.name, p.lbDst])).toEqual([
      ["gen/lb/ovn-default/10.96.0.10:80", "10.16.0.2:8080"],
      ["gen/lb/apps/10.96.0.10:80", "10.16.0.3:8080"],
      ["gen/lb/ovn-default/10.96.0.20:53", "10.17.0.2:53"],
      ["gen/lb/apps/10.96.0.20:53", "10.17.0.3:53"],
    ]);
    // The client is never the backend itself.
    expect(valueOf(lb[0]!.microflow, "ip4.src")).not.toBe("10.16.0.2");
    expect(lb[2]!.microflow).toContain("udp && udp.src == 49152 && udp.dst == 53");
  });
});

describe("IPv6 probes", () => {
  // pod1 and pod3 are dual-stack on lan1; pod2 is IPv6-only on lan2; the VIP has one backend on
  // each.
  const text = `
name: v6
switches:
  - name: lan1
    loadBalancers: [lb6]
    ports:
      - {name: lan1-r1, type: router, addresses: [router], options: {router-port: r1-lan1}}
      - {name: pod1, addresses: ["00:00:00:01:00:02 10.1.0.2 fd00:1:0::2"]}
      - {name: pod3, addresses: ["00:00:00:01:00:03 10.1.0.3 fd00:1::3"]}
  - name: lan2
    loadBalancers: [lb6]
    ports:
      - {name: lan2-r1, type: router, addresses: [router], options: {router-port: r1-lan2}}
      - {name: pod2, addresses: ["00:00:00:02:00:02 fd00:2::2"]}
loadBalancers:
  - {name: lb6, protocol: udp, vips: {"[fd00:96::10]:53": ["[fd00:1::2]:5353", "[fd00:2::2]:5353"]}}
routers:
  - name: r1
    ports:
      - {name: r1-lan1, mac: "00:00:00:01:00:01", networks: [10.1.0.1/24, fd00:1::1/64]}
      - {name: r1-lan2, mac: "00:00:00:02:00:01", networks: [fd00:2::1/64]}
`;
  const r = loadNetworkText(text, "v6.yaml");
  if (!r.ok) throw new Error("v6.yaml does not load");
  const gen = generateProbes(r.value.network);
  const named = (n: string): Probe => gen.probes.find((p) => p.name === n)!;

  it("pair every IPv6 endpoint with every other, in RFC 5952 form, to the peer or the gateway of its IPv6 network", () => {
    expect(gen.probes.map((p) => p.name)).toEqual([
      "gen/pair/pod1/pod3",
      "gen/pair/pod3/pod1",
      "gen/pair6/pod1/pod3",
      "gen/pair6/pod1/pod2",
      "gen/pair6/pod3/pod1",
      "gen/pair6/pod3/pod2",
      "gen/pair6/pod2/pod1",
      "gen/pair6/pod2/pod3",
      "gen/lb6/lan1/[fd00:96::10]:53",
      "gen/arp/r1-lan1/10.1.0.1",
      "gen/nd/r1-lan1/fd00:1::1",
      "gen/nd/r1-lan2/fd00:2::1",
    ]);
    const same = named("gen/pair6/pod1/pod3").microflow;
    expect(same).toContain("eth.dst == 00:00:00:01:00:03 && ip6.src == fd00:1::2 && ip6.dst == fd00:1::3 && ip.ttl == 64 && tcp");
    expect(named("gen/pair6/pod2/pod1").microflow).toContain("eth.dst == 00:00:00:02:00:01 && ip6.src == fd00:2::2 && ip6.dst == fd00:1::2");
  });

  it("send IPv6 VIP probes from a client that is not the backend, naming the backend", () => {
    const lb = named("gen/lb6/lan1/[fd00:96::10]:53");
    expect(lb.lbDst).toBe("[fd00:1::2]:5353");
    expect(valueOf(lb.microflow, "ip6.src")).toBe("fd00:1::3");
    expect(lb.microflow).toContain("eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::3 && ip6.dst == fd00:96::10 && ip.ttl == 64 && udp && udp.src == 49152 && udp.dst == 53");
    // On lan2 the rotated backend is pod2 itself, the only IPv6 host there.
    expect(gen.notes).toContain("skipped 1 IPv6 load-balancer (switch, VIP) pairs with no client on the switch");
  });

  it("solicit a router port's IPv6 address at its solicited-node group, hop limit 255", () => {
    expect(named("gen/nd/r1-lan2/fd00:2::1").microflow).toBe(
      'inport == "pod2" && eth.src == 00:00:00:02:00:02 && eth.dst == 33:33:ff:00:00:01 && ip6.src == fd00:2::2 && ip6.dst == ff02::1:ff00:1 && ip.ttl == 255 && nd_ns && nd.target == fd00:2::1 && nd.sll == 00:00:00:02:00:02',
    );
    expect(named("gen/nd/r1-lan1/fd00:1::1").ct).toEqual([]);
  });
});

describe("spreadIndices", () => {
  it("is an even, increasing spread that starts at the first element", () => {
    for (let total = 0; total <= 40; total++) {
      for (let keep = 0; keep <= total + 2; keep++) {
        const idx = spreadIndices(total, keep);
        expect(idx).toHaveLength(Math.min(keep, total));
        if (idx.length > 0) expect(idx[0]).toBe(0);
        for (let i = 1; i < idx.length; i++) {
          expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
          expect(idx[i]! - idx[i - 1]!).toBeLessThanOrEqual(Math.ceil(total / keep));
        }
        for (const x of idx) expect(x).toBeLessThan(total);
      }
    }
  });
});
