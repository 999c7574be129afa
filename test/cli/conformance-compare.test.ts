/**
 * How a probe's ovnsim outcome is compared with real OVN's recorded answer in two IPv6 cases: the
 * packet of an `nd_ns` action (whose `nd.` fields are compared as stored, since ovn-trace keeps the
 * triggering packet's protocol and hop limit), and a probe on which ovn-trace aborted (no verdict,
 * always a disagreement). Real OVN's text is the recording in fixtures/conformance-kube/. Then a
 * probe through a `select()` that ovn-trace, given no `--select-id`, decided at random
 * (fixtures/conformance/random-select.json: the same probe recorded twice, once per member). Then
 * forwarding loops that ovnsim cuts at its loop limits while ovn-trace follows them until the TTL
 * runs out (recordings in fixtures/conformance-loops/, re-checked where OVN is installed;
 * OVNSIM_RECORD=1 rewrites them).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareProbes, headerVerdict, ovnVerdict, OvnsimTracer, randomSelections, traceWithRealOvn } from "../../src/cli/conformance-run.js";
import { OVN_TRACE_ABORTED, ovnAvailable, ovnVersion } from "../../src/ovn/index.js";
import { generateProbes, loadNetworkFile, type Probe } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const loaded = loadNetworkFile(join(ROOT, "scenarios/kube-ovn/dual-stack"));
if (!loaded.ok) throw new Error("dual-stack does not load");
const net = loaded.value.network;
const recorded = (JSON.parse(readFileSync(join(ROOT, "fixtures/conformance-kube/dual-stack.json"), "utf8")) as { probes: Record<string, { output: string }> }).probes;
const tracer = OvnsimTracer.create(net);
if (!tracer.ok) throw new Error("dual-stack does not compile");
const probe = (name: string) => generateProbes(net).probes.find((p) => p.name === name)!;

describe("comparing IPv6 probes with real OVN's recorded answers", () => {
  // The node's IPv6 packet for vpc1 follows ::/0 to the router's own join address: real OVN
  // solicits it (nd_ns with nd.target = fd00:100:64::1) on the join switch.
  const name = "gen/pair6/node-kube-ovn-control-plane/db-0.tenant";
  const real = recorded[name]!.output;

  it("agrees on the nd_ns packet, nd.target included", () => {
    expect(real).toContain("nd.target = fd00:100:64::1;");
    const [r] = compareProbes(tracer.value, [probe(name)], new Map([[name, real]]));
    expect(r!.disagreements).toEqual([]);
  });

  it("still catches a different nd.target", () => {
    const wrong = real.replace("nd.target = fd00:100:64::1;", "nd.target = fd00:100:64::9;");
    const [r] = compareProbes(tracer.value, [probe(name)], new Map([[name, wrong]]));
    expect(r!.disagreements).toEqual(["on output node-kube-ovn-control-plane, real OVN has nd.target = fd00:100:64::9; ovnsim differs", "on output node-kube-ovn-worker, real OVN has nd.target = fd00:100:64::9; ovnsim differs"]);
  });

  it("reports a probe on which ovn-trace aborted as having no verdict to compare", () => {
    const nd = "gen/nd/ovn-cluster-apps/fd00:10:66::1";
    expect(recorded[nd]!.output.startsWith(OVN_TRACE_ABORTED)).toBe(true);
    const [r] = compareProbes(tracer.value, [probe(nd)], new Map([[nd, recorded[nd]!.output]]));
    expect(r!.disagreements).toEqual(["real ovn-trace aborted (assertion ovnact->type == OVNACT_ND_NA failed in ovnact_get_ND_NA()), so there is no verdict to compare"]);
    expect(r!.ovnAborted).toBe(true);
    // ovnsim answers the solicitation with the router port's advertisement, to the sender.
    expect(r!.ovnsim.kind === "ran" && r!.ovnsim.outputs.map((o) => o.port)).toEqual(["web-1.apps"]);
  });
});

describe("comparing a probe through a select() that real ovn-trace decided at random", () => {
  const rec = JSON.parse(readFileSync(join(ROOT, "fixtures/conformance/random-select.json"), "utf8")) as { probe: { datapath: string; microflow: string }; outputs: Record<string, string> };
  const sg = loadNetworkFile(join(ROOT, "fixtures/ovs/select-groups.yaml"));
  if (!sg.ok) throw new Error("select-groups does not load");
  const t = OvnsimTracer.create(sg.value.network);
  if (!t.ok) throw new Error("select-groups does not compile");
  const p: Probe = { name: "a-to-rerouted", datapath: rec.probe.datapath, microflow: rec.probe.microflow, ct: [], expect: { kind: "unchecked" } };

  it("follows the member ovn-trace picked, whichever it was", () => {
    const ports = new Set<string>();
    for (const [member, raw] of Object.entries(rec.outputs)) {
      expect(randomSelections(raw)).toEqual([Number(member)]);
      const [r] = compareProbes(t.value, [p], new Map([[p.name, raw]]));
      expect(r!.disagreements).toEqual([]);
      if (r!.ovnsim.kind === "ran") for (const o of r!.ovnsim.outputs) ports.add(o.port);
    }
    // The two members lead to two ports: following the pick is what made both agree.
    expect([...ports].sort()).toEqual(["b1", "b2"]);
  });

  it("still catches a verdict that the picked member does not give", () => {
    const raw = rec.outputs["1"]!.replace('output("b1")', 'output("b2")');
    const [r] = compareProbes(t.value, [p], new Map([[p.name, raw]]));
    expect(r!.disagreements.length).toBeGreaterThan(0);
  });

  it("reports two different random picks in one trace as not reproducible by one --select-id", () => {
    const raw = rec.outputs["1"]!.replace("{\n        eth.src", "{\n        select: reg8[16..31] = 2 /* Randomly selected. Use --select-id to specify. */;\n        eth.src");
    expect(randomSelections(raw)).toEqual([1, 2]);
    const [r] = compareProbes(t.value, [p], new Map([[p.name, raw]]));
    expect(r!.disagreements).toEqual(["real ovn-trace picked select() members 1 and 2 at random, which no one --select-id reproduces; give the probe a selectId"]);
  });
});

describe("comparing a forwarding loop that ovnsim cuts at its limits", () => {
  const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";
  const probeAt = (name: string, datapath: string, microflow: string): Probe => ({ name, datapath, microflow, ct: [], expect: { kind: "unchecked" } });
  const cases = [
    {
      // Two routers that route 8.8.8.0/24 to each other: real OVN bounces the packet until its TTL
      // runs out, and the time-exceeded error comes back to the sender.
      name: "routing-loop",
      network: join(ROOT, "scenarios/routing-loop.yaml"),
      probe: probeAt("pod1-loop-ttl64", "lan1", 'inport == "pod1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 46064 && udp.dst == 33434'),
      outputs: 1,
    },
    {
      name: "nd-flood-loop",
      network: join(ROOT, "fixtures/conformance-loops/nd-flood-loop.yaml"),
      probe: probeAt("ping-unresolved-neighbour", "sw2", 'inport == "p2-1" && eth.src == 00:00:00:02:00:02 && eth.dst == 00:00:00:02:00:01 && ip6.src == fd00:2::11 && ip6.dst == fd00:1::11 && ip.ttl == 20 && icmp6 && icmp6.type == 128 && icmp6.code == 0'),
      outputs: 19,
    },
  ];

  describe.each(cases)("$name", ({ name, network, probe: p, outputs }) => {
    const recPath = join(ROOT, `fixtures/conformance-loops/${name}.json`);
    const loadedNet = loadNetworkFile(network);
    if (!loadedNet.ok) throw new Error(`${name} does not load`);
    const t = OvnsimTracer.create(loadedNet.value.network);
    if (!t.ok) throw new Error(`${name} does not compile`);
    let raw = existsSync(recPath) ? (JSON.parse(readFileSync(recPath, "utf8")) as { ovn: string; probes: Record<string, string> }).probes[p.name] : undefined;

    it.skipIf(!LIVE)("the recording is what real OVN says now", () => {
      const live = traceWithRealOvn(loadedNet.value.network, [p]);
      expect(live.ok).toBe(true);
      if (!live.ok) return;
      const now = live.value.get(p.name)!;
      if (process.env.OVNSIM_RECORD === "1" || raw === undefined) {
        const tmp = `${recPath}.tmp-${process.pid}`;
        writeFileSync(tmp, JSON.stringify({ ovn: ovnVersion() ?? "unknown", probes: { [p.name]: now } }, null, 2) + "\n");
        renameSync(tmp, recPath);
        raw = now;
      }
      expect(headerVerdict(ovnVerdict(raw))).toBe(headerVerdict(ovnVerdict(now)));
    });

    it("is the documented difference: cut short by default, exactly real OVN's verdict with the limits raised", () => {
      expect(raw, `no recording at ${recPath}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
      expect(ovnVerdict(raw!).outputs.length).toBe(outputs);
      const [r] = compareProbes(t.value, [p], new Map([[p.name, raw!]]));
      expect(r!.disagreements).toEqual([]);
      expect(r!.known).toMatch(/^a forwarding loop: ovnsim cut it at its limit \(maxCrossings 16\)/);
      // By default ovnsim stops early, with fewer outputs than real OVN.
      expect(r!.ovnsim.kind === "ran" && r!.ovnsim.limits.length > 0 && r!.ovnsim.outputs.length < outputs).toBe(true);
      const uncut = t.value.runUncut(p);
      expect(uncut.kind === "ran" && uncut.limits.length === 0 && uncut.outputs.length === outputs).toBe(true);
    });

    it("still catches a loop whose end real OVN and ovnsim see differently", () => {
      // Real OVN's last output moved to another port: the loop run to its end no longer matches.
      const last = raw!.lastIndexOf("output(");
      const moved = `${raw!.slice(0, last)}output("elsewhere");${raw!.slice(raw!.indexOf(";", last) + 1)}`;
      const [r] = compareProbes(t.value, [p], new Map([[p.name, moved]]));
      expect(r!.known).toBeUndefined();
      expect(r!.disagreements.length).toBeGreaterThan(0);
      // And a plain drop from real OVN is no loop to speak of: it disagrees with a cut loop that
      // has outputs, and agrees with one that has none (both drop).
      const [d] = compareProbes(t.value, [p], new Map([[p.name, raw!.split("\n", 1)[0] + "\n"]]));
      expect(d!.known).toBeUndefined();
      const cutOutputs = d!.ovnsim.kind === "ran" ? d!.ovnsim.outputs.length : -1;
      expect(d!.disagreements.length > 0).toBe(cutOutputs > 0);
    });
  });
});
