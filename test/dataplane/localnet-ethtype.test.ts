/**
 * A localnet port's `options:ethtype`: ovn-controller pushes its tag with TPID 0x88a8 for
 * `802.11ad` (OVN's spelling; any case) and 0x8100 otherwise (physical.c `ofpact_put_push_vlan`).
 * Real OVS's frames are checked by the `localnet-qinq` oracle (test/ovn/ovs-replay-more.test.ts);
 * here, the TPID the plan gives, the flows it shows and the frame on the path's wire.
 */
import { OrderedMap } from "immutable";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { compileMicroflow, compilePhysical, localnetTpid, portSecurityCalls } from "../../src/compile/index.js";
import { Fabric } from "../../src/dataplane/index.js";
import { flowId, formatPhysicalFlow } from "../../src/ofp/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const FILE = join(resolve(import.meta.dirname, "../../fixtures/ovs"), "localnet-qinq.yaml");

describe("a localnet port's ethtype", () => {
  it("is 802.1ad only for 802.11ad, in any case", () => {
    const tpid = (v?: string): number => localnetTpid(OrderedMap(v === undefined ? [] : [["ethtype", v]]));
    expect([tpid(), tpid("802.11q"), tpid("802.11ad"), tpid("802.11AD"), tpid("802.1ad"), tpid("qinq")]).toEqual([0x8100, 0x8100, 0x88a8, 0x88a8, 0x8100, 0x8100]);
  });

  it("tags what leaves on the provider network with TPID 0x88a8, in the flows and on the wire", () => {
    const loaded = loadNetworkFile(FILE);
    if (!loaded.ok) throw new Error(loaded.diags[0]!.message);
    const net = loaded.value.network;
    const plan = compilePhysical(net);
    if (!plan.ok) throw new Error(plan.diags[0]!.message);
    const node1 = plan.value.chassis.get("node1")!;
    const ln = [...node1.localnets.values()][0]!;
    expect([ln.name, ln.vlan, ln.tpid]).toEqual(["ln-qinq", 100, 0x88a8]);
    expect(formatPhysicalFlow(node1.flows.get(flowId.toPhy(ln.datapath, ln.port))!)).toBe(`table=65, priority=100,reg15=0x${ln.port.toString(16)},metadata=0x${ln.datapath.toString(16)} actions=push_vlan:0x88a8,set_field:4196->vlan_vid,output:${ln.ofport}`);
    const fabric = new Fabric([plan.value], { executorOptions: (c) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program) }) });
    const mf = compileMicroflow(node1.program, undefined, friendlyMicroflow(net, "app-1", "app-3", { udp: 53 }));
    if (!mf.ok) throw new Error(mf.diags[0]!.message);
    const r = fabric.trace("app-1", mf.value.key)!;
    const wire = r.hops.find((h) => h.kind === "wire");
    expect(wire?.kind === "wire" ? [...wire.frame.subarray(12, 18)] : []).toEqual([0x88, 0xa8, 0x00, 0x64, 0x08, 0x00]);
    expect(r.hops.map((h) => (h.kind === "deliver" ? `${h.chassis} ${h.port}` : h.kind))).toEqual(["chassis", "wire", "chassis", "node2 app-3"]);
  });
});
