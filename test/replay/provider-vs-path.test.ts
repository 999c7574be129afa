/**
 * `replay` against `trace`'s path on underlay networks: two implementations of carrying a packet
 * across chassis (the datapath group with the replay's provider networks, src/replay/provider-
 * segments.ts; the fabric, src/dataplane/fabric.ts, which builds the bytes on every wire) must
 * deliver each probe to the same ports on the same chassis. The networks have no stateful ACLs,
 * so the path's conntrack assumptions (ovn-trace's) and replay's table answer alike. Every probe of
 * the network that enters at a VIF bound to a chassis is sent both ways, as its first packet,
 * through the underlay's own gateway where it routes between VLANs.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compilePhysical, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { Fabric } from "../../src/dataplane/index.js";
import { KEY_WORDS } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe.each(["scenarios/kube-ovn-underlay.yaml", "scenarios/localnet-vlan.yaml", "fixtures/ovs/bridged-redirect.yaml", "fixtures/ovs/shared-vlan.yaml"])("%s: replay delivers each probe where trace's path does", (file) => {
  const loaded = loadNetworkFile(join(ROOT, file));
  if (!loaded.ok) throw new Error(loaded.diags[0]!.message);
  const net = loaded.value.network;
  const plan = compilePhysical(net);
  if (!plan.ok) throw new Error(plan.diags[0]!.message);
  const macBindings = [...traceInputs(net).macBindings, ...net.staticMacBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac }))];
  const fabric = new Fabric([plan.value], { executorOptions: (c) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program), macBindings }) });
  const probes = loaded.value.probes.filter((p) => {
    const port = /inport == "([^"]+)"/.exec(p.microflow)?.[1];
    return port !== undefined && fabric.chassisOf(port) !== undefined;
  });

  it("has probes from bound VIFs, some of them across chassis", () => {
    expect(probes.length).toBeGreaterThan(file.startsWith("fixtures/") ? -1 : 5);
  });

  it.each(probes.map((p) => [p.name, p.microflow]))("%s", (_name, microflow) => {
    const port = /inport == "([^"]+)"/.exec(microflow)![1]!;
    const chassis = fabric.chassisOf(port)!;
    const mf = compileMicroflow(plan.value.chassis.get(chassis)!.program, undefined, microflow);
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    const path = fabric.trace(port, mf.value.key)!;
    const byPath = path.hops.flatMap((h) => (h.kind === "deliver" && h.portType !== "localnet" ? [`${h.chassis} ${h.port}`] : [])).sort();
    const r = new Replayer(net, {});
    const at = r.injectionFor(port)!;
    const key = new Uint32Array(KEY_WORDS);
    key.set(mf.value.key);
    r.group.inject(at.datapath, at.entry, key);
    const outputs = r.group.stats().outputs;
    const localnets = new Set([...net.switches.values()].flatMap((ls) => [...ls.ports.values()].filter((p) => p.type === "localnet").map((p) => p.name)));
    const byReplay = Object.keys(outputs).filter((k) => !localnets.has(k.split(" ")[1]!)).sort();
    expect(byReplay).toEqual(byPath);
  });
});
