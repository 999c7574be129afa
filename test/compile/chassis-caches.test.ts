/**
 * The compilations of one network for each of its chassis share the lowering's match and action
 * caches (compile.ts `prepare`). Each chassis's program must be the one a compilation with caches
 * of its own gives: every bundled network (scenarios and Kube-OVN manifests) is compiled for each
 * chassis after the chassis-less compile and the other chassis (shared caches), and again on a
 * fresh copy of the network for that chassis alone (fresh caches); rules, actions and provenance
 * must be the same.
 */
import { describe, expect, it } from "vitest";
import { compileNetwork, compilePhysical } from "../../src/compile/index.js";
import { BUNDLED_NETWORKS, SCEN, describeProgram, loadNetwork as load } from "./programs.js";

/** Per network, how many of its chassis programs differ from the chassis-less one. */
const residentCounts: number[] = [];

describe("per-chassis compilations share caches", () => {
  it.each(BUNDLED_NETWORKS.map((p) => [p.slice(SCEN.length + 1), p]))("%s: each chassis's program equals one compiled alone", (_name, path) => {
    const net = load(path);
    const chassis = [...net.chassis.values()].filter((c) => !c.isRemote).map((c) => c.name);
    expect(chassis.length).toBeGreaterThan(0);
    const base = compileNetwork(net);
    expect(base.ok).toBe(true);
    const plan = compilePhysical(net);
    if (!plan.ok) throw new Error(plan.diags.map((d) => d.message).join("; "));
    let resident = 0;
    for (const c of chassis) {
      const shared = plan.value.chassis.get(c)!.program;
      const alone = compileNetwork(load(path), { chassis: c });
      if (!alone.ok) throw new Error(alone.diags.map((d) => d.message).join("; "));
      expect(describeProgram(shared), c).toBe(describeProgram(alone.value.program));
      // The chassis programs differ from the chassis-less one where residency matters.
      if (describeProgram(shared) !== describeProgram(base.ok ? base.value.program : shared)) resident++;
    }
    // Not every network has a flow that asks (a distributed gateway port, a localnet); counted
    // over all networks below.
    residentCounts.push(resident);
  });

  it("some networks compile differently per chassis (the key includes residency)", () => {
    expect(residentCounts.filter((n) => n > 0).length).toBeGreaterThan(0);
  });
});
