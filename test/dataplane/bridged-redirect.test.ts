/**
 * `redirect-type=bridged` on a distributed gateway port, as ovn-controller 23.03's physical.c
 * (`put_remote_port_redirect_bridged`) sends it from a chassis the gateway port is not active on:
 * out the localnet port of the gateway port's switch, from the gateway port's MAC (which the
 * chassis MAC then replaces), without that switch's egress pipeline; and, with no chassis MAC,
 * from that MAC to itself, which the provider bridge drops. Worked through on
 * fixtures/ovs/bridged-redirect.yaml (chassis MACs) and bridged-redirect-plain.yaml (none): a on
 * node1, lr-pub (00:00:00:ac:00:02) active on node2, ln-pub on VLAN 100. The frames are checked
 * against real OVS by the `bridged-redirect` and `bridged-redirect-plain` oracles
 * (test/ovn/ovs-replay-more.test.ts); here, the plan, the path and what the hops say.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMac } from "../../src/base/index.js";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { compileMicroflow, compilePhysical, portSecurityCalls } from "../../src/compile/index.js";
import { Fabric, type FabricResult } from "../../src/dataplane/index.js";
import type { Network } from "../../src/model/index.js";
import { flowId, formatPhysicalFlow, type PhysicalPlan } from "../../src/ofp/index.js";
import { decodeFrame, findLayer } from "../../src/packet/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const FIX = resolve(import.meta.dirname, "../../fixtures/ovs");

function load(file: string): Network {
  const r = loadNetworkFile(join(FIX, file));
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("; "));
  return r.value.network;
}

function plan(net: Network): PhysicalPlan {
  const p = compilePhysical(net);
  if (!p.ok) throw new Error(p.diags.map((d) => d.message).join("; "));
  return p.value;
}

/** Where output to cr-lr-pub goes from `chassis`. */
function crPlacement(p: PhysicalPlan, chassis: string) {
  const c = p.chassis.get(chassis)!;
  const cr = c.program.portByName.get("cr-lr-pub")!;
  return c.placement.get(cr.datapath)?.get(cr.key);
}

function path(net: Network, to = "172.16.0.1"): FabricResult {
  const p = plan(net);
  const program = p.chassis.get("node1")!.program;
  const macBindings = net.staticMacBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac }));
  const fabric = new Fabric([p], { executorOptions: (c) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program), macBindings }) });
  const mf = compileMicroflow(program, undefined, friendlyMicroflow(net, "a", to, { udp: 53 }));
  if (!mf.ok) throw new Error(mf.diags[0]!.message);
  return fabric.trace("a", mf.value.key)!;
}

describe("redirect-type=bridged in the physical plan", () => {
  const net = load("bridged-redirect.yaml");
  const p = plan(net);

  it("sends output to the gateway port from node1 out the public switch's localnet port", () => {
    const pub = p.chassis.get("node1")!.program.portByName.get("ln-pub")!;
    expect(crPlacement(p, "node1")).toEqual({ kind: "bridged", datapath: pub.datapath, port: pub.key, mac: "00:00:00:ac:00:02", words: [0x0000, 0x00ac0002], chassis: "node2" });
    // Where it is active, the gateway port is local.
    expect(crPlacement(p, "node2")).toEqual({ kind: "local" });
    const c = p.chassis.get("node1")!;
    const cr = c.program.portByName.get("cr-lr-pub")!;
    expect(formatPhysicalFlow(c.flows.get(flowId.local(cr.datapath, cr.key))!)).toBe(
      `table=40, priority=100,reg15=0x${cr.key.toString(16)},metadata=0x${cr.datapath.toString(16)} actions=set_field:00:00:00:ac:00:02->eth_src,set_field:0x${pub.datapath.toString(16)}->metadata,set_field:0x${pub.key.toString(16)}->reg15,resubmit(,65)`,
    );
  });

  it("tunnels as before without the option, and drops where the switch has no localnet port here", () => {
    const plain = net.updateIn(["routers", "lr", "ports", "lr-pub", "options"], (o) => (o as Network["options"]).delete("redirect-type")) as Network;
    expect(crPlacement(plan(plain), "node1")).toEqual({ kind: "tunnel", chassis: "node2" });
    const unmapped = net.setIn(["chassis", "node1", "bridgeMappings"], net.chassis.get("node1")!.bridgeMappings.clear()) as Network;
    expect(crPlacement(plan(unmapped), "node1")).toEqual({ kind: "none", why: "gateway port cr-lr-pub (redirect-type=bridged) is active elsewhere, and switch pub has no localnet port usable here to reach it" });
  });

  it("the path: onto VLAN 100 from node1's chassis MAC to the gateway port's, and node2 takes it", () => {
    const r = path(net);
    const node1 = r.hops[0]!;
    expect(node1.kind === "chassis" ? node1.notes : []).toEqual([
      "cr-lr-pub (redirect-type=bridged) is active on node2: sent there over the provider network, not through a tunnel",
      "source MAC 00:00:00:ac:00:02 (router port lr-pub's) becomes 0a:00:00:00:00:11, this chassis's on physnet1, out ln-pub",
    ]);
    const wire = r.hops[1]!;
    expect(wire.kind).toBe("wire");
    if (wire.kind !== "wire") return;
    expect([wire.from, wire.to, wire.vlan]).toEqual(["node1", "node2", 100]);
    const eth = findLayer(decodeFrame(wire.frame, 0, wire.frame.length, 1).layers, "ethernet")!;
    expect([formatMac(eth.repr.src), formatMac(eth.repr.dst)]).toEqual(["0a:00:00:00:00:11", "00:00:00:ac:00:02"]);
    // node2, where the gateway port is active, routes it on (SNATed to the gateway's address).
    const out = r.hops.find((h, i) => i > 1 && h.kind === "wire");
    expect(out?.kind === "wire" ? findLayer(decodeFrame(out.frame, 0, out.frame.length, 1).layers, "ipv4")?.repr.src : undefined).toBe(0xac100002);
  });

  it("without chassis MACs the provider bridge drops it, and says what is missing", () => {
    const r = path(load("bridged-redirect-plain.yaml"));
    expect(r.hops.map((h) => h.kind)).toEqual(["chassis"]);
    const h = r.hops[0]!;
    const drop = h.kind === "chassis" ? h.result.drops[0] : undefined;
    expect(drop?.reason).toBe("provider-bridge");
    expect(drop?.detail).toBe("ln-pub: source and destination MAC are both 00:00:00:ac:00:02; a bridged redirect needs this chassis's MAC on the provider network (ovn-chassis-mac-mappings)");
  });

  it("a host of the public switch on the sending chassis is behind the provider bridge's own patch port", () => {
    // fixtures/ovs/bridged-redirect-near.yaml: near (00:00:00:ac:00:05) on node1. node1's
    // provider bridge has its MAC behind ln-pub's patch port, node2's does not.
    const near = load("bridged-redirect-near.yaml");
    const q = plan(near);
    const learned = (chassis: string): string[] => [...q.chassis.get(chassis)!.localnets.values()].flatMap((l) => l.learned.map((m) => `${l.name} ${m.text}`));
    expect(learned("node1")).toEqual(["ln-pub 00:00:00:ac:00:05"]);
    // node2 is the gateway chassis: the gateway port's MAC lives there.
    expect(learned("node2")).toEqual(["ln-pub 00:00:00:ac:00:02"]);
    // Redirected to near, whose MAC the router knows outright, the frame goes nowhere from node1.
    const r = path(near, "172.16.0.5");
    expect(r.hops.map((h) => h.kind)).toEqual(["chassis"]);
    const h = r.hops[0]!;
    const drop = h.kind === "chassis" ? h.result.drops[0] : undefined;
    expect(drop?.reason).toBe("provider-bridge");
    expect(drop?.detail).toBe("ln-pub: the provider bridge has learned destination 00:00:00:ac:00:05 behind the patch port the frame came in by");
    // For the upstream host it still crosses to node2.
    expect(path(near).hops.map((h) => h.kind).slice(0, 3)).toEqual(["chassis", "wire", "chassis"]);
  });
});
