/**
 * How a probe's ovnsim outcome is compared with real OVN's recorded answer in two IPv6 cases: the
 * packet of an `nd_ns` action (whose `nd.` fields are compared as stored, since ovn-trace keeps the
 * triggering packet's protocol and hop limit), and a probe on which ovn-trace aborted (no verdict,
 * always a disagreement). Real OVN's text is the recording in fixtures/conformance-kube/. Then a
 * probe through a `select()` that ovn-trace, given no `--select-id`, decided at random
 * (fixtures/conformance/random-select.json: the same probe recorded twice, once per member).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareProbes, OvnsimTracer, randomSelections } from "../../src/cli/conformance-run.js";
import { OVN_TRACE_ABORTED } from "../../src/ovn/index.js";
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
