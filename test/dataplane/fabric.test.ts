/**
 * Acceptance tests of the end-to-end physical path (`dataplane/fabric.ts` over `compilePhysical`).
 *
 * Packets are built the way `ovnsim trace --from --to` builds them and followed across chassis,
 * tunnels, provider networks and the underlay gateway of the bundled Kube-OVN scenarios. Each case
 * checks the hop list (kinds and chassis, in order) and the bytes on every wire, decoded here with
 * the packet module's decoder (not read back from the hop's own metadata): outer addresses, UDP
 * port, VNI and the OVN Geneve option, VLAN tags, the inner headers, TTLs and MACs. The expected
 * values come from the scenario files (addresses, MACs, chassis) and from the compiled program
 * (datapath and port tunnel keys, looked up by name).
 *
 * A twin test runs every probe of every scenario with chassis both through the plain logical
 * executor (one program, no placement) and through the fabric: where the logical outputs are all
 * VIFs bound to chassis, the fabric must deliver to exactly those VIFs, with the same L2-L4
 * header words (the delivered frame's key is extracted from its bytes).
 *
 * Finally, OVN's VXLAN mode limits (12-bit datapath keys, 11-bit port keys) are refused by
 * `compilePhysical` with a diagnostic that names the limit and the object.
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIpv4, formatMac, formatPath, getU16, getU32, parseIpv4, type Diagnostic } from "../../src/base/index.js";
import { parseLbDst } from "../../src/cli/conformance-run.js";
import { friendlyMicroflow } from "../../src/cli/trace.js";
import { VXLAN_LIMITS, compileMicroflow, compileNetwork, compilePhysical, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { Fabric, LogicalExecutor, parseCtState, type ExecResult, type FabricResult, type Hop, type RunOptions, type WireHop } from "../../src/dataplane/index.js";
import { W, extractKey, frameFromKey, newKey } from "../../src/flow/index.js";
import type { Network } from "../../src/model/index.js";
import { parseIpAddr, type LogicalProgram, type PhysicalPlan } from "../../src/ofp/index.js";
import { decodeFrame, findLayer, type Decoded, type Layer, type LayerOf } from "../../src/packet/index.js";
import { loadNetworkFile, loadNetworkText, type Probe } from "../../src/scenario/index.js";

const SCEN = resolve(import.meta.dirname, "../../scenarios");
const LINKTYPE_ETHERNET = 1;

// ---------------------------------------------------------------------------------------------
// Setting up a network the way `ovnsim trace` follows a path

interface Setup {
  readonly net: Network;
  readonly program: LogicalProgram;
  readonly plan: PhysicalPlan;
  readonly fabric: Fabric;
  /** The executor options each chassis gets (the logical twin gets the same). */
  readonly macBindings: readonly { port: string; ip: string; mac: string }[];
}

function setup(file: string, runOptions?: RunOptions): Setup {
  const loaded = loadNetworkFile(join(SCEN, file));
  if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.diags)}`);
  const net = loaded.value.network;
  const compiled = compileNetwork(net);
  if (!compiled.ok) throw new Error(`${file}: ${JSON.stringify(compiled.diags.slice(0, 3))}`);
  const plan = compilePhysical(net);
  if (!plan.ok) throw new Error(`${file}: ${JSON.stringify(plan.diags.slice(0, 3))}`);
  // As ovn-controller (and `followPath`): the learned bindings plus the static ones.
  const macBindings = [...traceInputs(net).macBindings, ...net.staticMacBindings.toArray().map((b) => ({ port: b.logicalPort, ip: b.ip, mac: b.mac }))];
  const fabric = new Fabric([plan.value], {
    executorOptions: (c) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program), macBindings }),
    ...(runOptions ? { runOptions } : {}),
  });
  return { net, program: compiled.value.program, plan: plan.value, fabric, macBindings };
}

/** The friendly-form packet from `from` to `to`, followed across the fabric. */
function follow(s: Setup, from: string, to: string, l4: { tcp?: number; udp?: number }): FabricResult {
  const mf = compileMicroflow(s.program, undefined, friendlyMicroflow(s.net, from, to, l4));
  if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
  const r = s.fabric.trace(from, mf.value.key);
  if (!r) throw new Error(`${from} is bound to no chassis`);
  return r;
}

/** One line per hop: its kind and where it happened. */
function shape(r: FabricResult): string[] {
  return r.hops.map((h: Hop): string => {
    switch (h.kind) {
      case "chassis":
        return `chassis ${h.chassis} from ${h.entry.via}`;
      case "wire":
        return `wire ${h.medium} ${h.from} -> ${h.to}`;
      case "gateway":
        return `gateway ${h.action}`;
      case "deliver":
        return `deliver ${h.port} on ${h.chassis}`;
      case "drop":
        return `drop at ${h.where}: ${h.reason}`;
      default: {
        const _never: never = h;
        return _never;
      }
    }
  });
}

function wires(r: FabricResult): WireHop[] {
  return r.hops.filter((h): h is WireHop => h.kind === "wire");
}

// ---------------------------------------------------------------------------------------------
// Reading facts from the model and the program (the expected values)

function datapathKey(p: LogicalProgram, name: string): number {
  const k = p.datapathByName.get(name);
  if (k === undefined) throw new Error(`no datapath ${name}`);
  return k;
}

function portKey(p: LogicalProgram, name: string): number {
  const lp = p.portByName.get(name);
  if (!lp) throw new Error(`no port ${name}`);
  return lp.key;
}

/** The MAC and IPv4 address of a switch port, from its `addresses`. */
function addrOf(net: Network, port: string): { mac: string; ip: string } {
  const sp = net.switches.find((ls) => ls.ports.has(port))?.ports.get(port);
  const [mac, ip] = (sp?.addresses.first() ?? "").trim().split(/\s+/);
  if (!mac || !ip) throw new Error(`port ${port} has no "MAC IP" address`);
  return { mac, ip };
}

function routerPortMac(net: Network, name: string): string {
  const rp = net.routers.find((r) => r.ports.has(name))?.ports.get(name);
  if (!rp) throw new Error(`no router port ${name}`);
  return rp.mac;
}

function underlayGatewayMac(net: Network, network: string, vlan: number): string {
  const g = net.providerNetworks.get(network)?.gateways.find((x) => x.vlan === vlan);
  if (!g) throw new Error(`no gateway on ${network} VLAN ${vlan}`);
  return g.mac;
}

function encapIp(net: Network, chassis: string): string {
  const ip = net.chassis.get(chassis)?.encaps.first()?.ip;
  if (ip === undefined) throw new Error(`chassis ${chassis} has no encap`);
  return ip;
}

// ---------------------------------------------------------------------------------------------
// Decoding wire bytes

function decode(frame: Uint8Array): Decoded {
  const d = decodeFrame(frame, 0, frame.length, LINKTYPE_ETHERNET);
  expect(d.truncated, "truncated").toBe(false);
  expect(d.issues).toEqual([]);
  return d;
}

/** `kind@depth` of each layer, to compare whole stacks at once. */
function stack(d: Decoded): string[] {
  return d.layers.map((l) => `${l.kind}@${l.depth}`);
}

function layer<K extends Layer["kind"]>(d: Decoded, kind: K, depth: number): LayerOf<K> {
  for (let from = 0; ; ) {
    const l = findLayer(d.layers, kind, from);
    if (!l) throw new Error(`no ${kind} layer at depth ${depth} in ${stack(d).join(" ")}`);
    if (l.depth === depth) return l;
    from = d.layers.indexOf(l) + 1;
  }
}

/** The one's-complement sum of an IPv4 header, written here from RFC 1071: 0xffff when the checksum is right. */
function ipv4HeaderSum(frame: Uint8Array, off: number): number {
  const ihl = (frame[off]! & 0x0f) * 4;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (frame[off + i]! << 8) | frame[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The OVN option of a decoded Geneve header, read from its bytes: class, type and the 32-bit value. */
function ovnOptions(g: LayerOf<"geneve">): { cls: number; type: number; value: number }[] {
  return g.repr.options.filter((o) => o.optClass === 0x0102).map((o) => ({ cls: o.optClass, type: o.type, value: o.data.length === 4 ? getU32(o.data, 0) : -1 }));
}

// ---------------------------------------------------------------------------------------------

describe("overlay pod to pod across two chassis", () => {
  it("Geneve (kube-ovn-cluster web-1.default -> web-3.default): one tunnel hop with OVN's metadata", () => {
    const s = setup("kube-ovn-cluster.yaml");
    const r = follow(s, "web-1.default", "web-3.default", { tcp: 80 });
    expect(shape(r)).toEqual(["chassis node1 from vif", "wire tunnel node1 -> node2", "chassis node2 from tunnel", "deliver web-3.default on node2"]);
    const [w] = wires(r);
    const d = decode(w!.frame);
    expect(stack(d)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "geneve@0", "ethernet@1", "ipv4@1", "tcp@1"]);
    const outer = layer(d, "ipv4", 0);
    expect(formatIpv4(outer.repr.src)).toBe(encapIp(s.net, "node1"));
    expect(formatIpv4(outer.repr.src)).toBe("192.168.0.11");
    expect(formatIpv4(outer.repr.dst)).toBe("192.168.0.12");
    expect(outer.repr.protocol).toBe(17);
    expect(ipv4HeaderSum(w!.frame, outer.offset)).toBe(0xffff);
    const udp = layer(d, "udp", 0);
    expect(udp.repr.dstPort).toBe(6081);
    expect(udp.repr.length).toBe(w!.frame.length - udp.offset);
    const g = layer(d, "geneve", 0);
    expect(g.repr.protocolType).toBe(0x6558);
    // OVN's option type has the critical bit, so the header's C flag must be set (RFC 8926 §3.4).
    expect(g.repr.critical).toBe(true);
    expect(g.repr.vni).toBe(datapathKey(s.program, "ovn-default"));
    const inKey = portKey(s.program, "web-1.default");
    const outKey = portKey(s.program, "web-3.default");
    expect(inKey).not.toBe(outKey);
    expect(ovnOptions(g)).toEqual([{ cls: 0x0102, type: 0x80, value: ((inKey << 16) | outKey) >>> 0 }]);
    // The inner frame is the pod's own packet, unchanged on a switch-only path.
    const ie = layer(d, "ethernet", 1);
    expect(formatMac(ie.repr.src)).toBe(addrOf(s.net, "web-1.default").mac);
    expect(formatMac(ie.repr.dst)).toBe(addrOf(s.net, "web-3.default").mac);
    const ii = layer(d, "ipv4", 1);
    expect(formatIpv4(ii.repr.src)).toBe("10.16.0.2");
    expect(formatIpv4(ii.repr.dst)).toBe("10.16.0.4");
    expect(ii.repr.ttl).toBe(64);
    expect(ipv4HeaderSum(w!.frame, ii.offset)).toBe(0xffff);
    expect(layer(d, "tcp", 1).repr.dstPort).toBe(80);
    // What node2 hands to web-3.default is exactly the inner frame on the wire.
    const del = r.hops.at(-1)!;
    expect(del.kind).toBe("deliver");
    if (del.kind === "deliver") expect([...del.frame]).toEqual([...w!.frame.subarray(ie.offset)]);
  });

  it("VXLAN (kube-ovn-vxlan): UDP 4789, VNI = datapath key | egress port key << 12, no ingress port", () => {
    const s = setup("kube-ovn-vxlan.yaml");
    expect(s.plan.vxlanMode).toBe(true);
    const r = follow(s, "web-1.default", "web-3.default", { tcp: 80 });
    expect(shape(r)).toEqual(["chassis node1 from vif", "wire tunnel node1 -> node2", "chassis node2 from tunnel", "deliver web-3.default on node2"]);
    const [w] = wires(r);
    const d = decode(w!.frame);
    expect(stack(d)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "vxlan@0", "ethernet@1", "ipv4@1", "tcp@1"]);
    expect(formatIpv4(layer(d, "ipv4", 0).repr.src)).toBe("192.168.0.11");
    expect(formatIpv4(layer(d, "ipv4", 0).repr.dst)).toBe("192.168.0.12");
    expect(layer(d, "udp", 0).repr.dstPort).toBe(4789);
    const x = layer(d, "vxlan", 0);
    expect(x.repr.flags & 0x08).toBe(0x08);
    const dp = datapathKey(s.program, "ovn-default");
    const out = portKey(s.program, "web-3.default");
    expect(x.repr.vni).toBe((dp | (out << 12)) >>> 0);
    // VXLAN has nowhere to carry the ingress port: the 24 bits are the datapath and the egress port.
    expect(x.repr.vni >>> 24).toBe(0);
    expect(formatMac(layer(d, "ethernet", 1).repr.dst)).toBe(addrOf(s.net, "web-3.default").mac);
    expect(formatIpv4(layer(d, "ipv4", 1).repr.dst)).toBe("10.16.0.4");
  });
});

describe("underlay (kube-ovn-underlay)", () => {
  const s = setup("kube-ovn-underlay.yaml");

  it("pod to pod on the same VLAN, other chassis: no tunnel, one 802.1Q VLAN 200 frame to v2's MAC", () => {
    const r = follow(s, "v1", "v2", { tcp: 80 });
    expect(shape(r)).toEqual(["chassis node1 from vif", "wire provider node1 -> node2", "chassis node2 from localnet", "deliver v2 on node2"]);
    const [w] = wires(r);
    expect(w!.tunnel).toBeUndefined();
    const d = decode(w!.frame);
    expect(stack(d)).toEqual(["ethernet@0", "vlan@0", "ipv4@0", "tcp@0"]);
    expect(layer(d, "ethernet", 0).repr.etherType).toBe(0x8100);
    expect(layer(d, "vlan", 0).repr.vid).toBe(200);
    expect(formatMac(layer(d, "ethernet", 0).repr.dst)).toBe(addrOf(s.net, "v2").mac);
    expect(formatMac(layer(d, "ethernet", 0).repr.src)).toBe(addrOf(s.net, "v1").mac);
    expect(formatIpv4(layer(d, "ipv4", 0).repr.dst)).toBe(addrOf(s.net, "v2").ip);
    // node2 strips the tag: the VIF gets an untagged frame.
    const del = r.hops.at(-1)!;
    if (del.kind !== "deliver") throw new Error("not delivered");
    expect(stack(decode(del.frame))).toEqual(["ethernet@0", "ipv4@0", "tcp@0"]);
  });

  it("pod to another subnet through the physical gateway (v1 -> u2): VLAN 200, routed, VLAN 100", () => {
    const r = follow(s, "v1", "u2", { tcp: 80 });
    expect(shape(r)).toEqual([
      "chassis node1 from vif",
      "wire provider node1 -> underlay gateway",
      "gateway route",
      "wire provider underlay gateway -> node2",
      "chassis node2 from localnet",
      "deliver u2 on node2",
    ]);
    const gw = r.hops[2]!;
    if (gw.kind !== "gateway") throw new Error("no gateway hop");
    expect([gw.inVlan, gw.outVlan]).toEqual([200, 100]);
    const [a, b] = wires(r);
    const da = decode(a!.frame);
    const db = decode(b!.frame);
    expect(stack(da)).toEqual(["ethernet@0", "vlan@0", "ipv4@0", "tcp@0"]);
    expect(stack(db)).toEqual(["ethernet@0", "vlan@0", "ipv4@0", "tcp@0"]);
    expect(layer(da, "vlan", 0).repr.vid).toBe(200);
    expect(formatMac(layer(da, "ethernet", 0).repr.dst)).toBe(underlayGatewayMac(s.net, "provider", 200));
    expect(layer(db, "vlan", 0).repr.vid).toBe(100);
    expect(formatMac(layer(db, "ethernet", 0).repr.src)).toBe(underlayGatewayMac(s.net, "provider", 100));
    expect(formatMac(layer(db, "ethernet", 0).repr.dst)).toBe(addrOf(s.net, "u2").mac);
    const ttlA = layer(da, "ipv4", 0).repr.ttl;
    expect(ttlA).toBe(64);
    expect(layer(db, "ipv4", 0).repr.ttl).toBe(ttlA - 1);
    // The routed header's checksum was updated with the TTL.
    expect(ipv4HeaderSum(b!.frame, layer(db, "ipv4", 0).offset)).toBe(0xffff);
    expect(formatIpv4(layer(db, "ipv4", 0).repr.src)).toBe(addrOf(s.net, "v1").ip);
    expect(formatIpv4(layer(db, "ipv4", 0).repr.dst)).toBe(addrOf(s.net, "u2").ip);
  });

  it("the same with a logical gateway (l1 -> u2): routed on node1, only VLAN 100 on the wire", () => {
    const r = follow(s, "l1", "u2", { tcp: 80 });
    expect(shape(r)).toEqual(["chassis node1 from vif", "wire provider node1 -> node2", "chassis node2 from localnet", "deliver u2 on node2"]);
    const ws = wires(r);
    expect(ws.map((w) => layer(decode(w.frame), "vlan", 0).repr.vid)).toEqual([100]);
    expect(ws.some((w) => w.vlan === 102)).toBe(false);
    const d = decode(ws[0]!.frame);
    // On the VLAN the router's frame carries node1's chassis MAC (ovn-chassis-mac-mappings);
    // node2 puts the router port's MAC back before u2 gets it.
    expect(formatMac(layer(d, "ethernet", 0).repr.src)).toBe(s.net.chassis.get("node1")!.macMappings.get("provider"));
    expect(formatMac(layer(d, "ethernet", 0).repr.dst)).toBe(addrOf(s.net, "u2").mac);
    expect(layer(d, "ipv4", 0).repr.ttl).toBe(63);
    const got = r.hops.find((h) => h.kind === "deliver");
    expect(got?.kind === "deliver" ? formatMac(layer(decode(got.frame), "ethernet", 0).repr.src) : undefined).toBe(routerPortMac(s.net, "ovn-cluster-vlan100"));
    // Each chassis hop says what its physical flows did to the MAC.
    const notes = r.hops.map((h) => (h.kind === "chassis" ? h.notes : [])).filter((n) => n.length > 0);
    expect(notes).toEqual([
      ["source MAC 00:00:00:0a:64:fe (router port ovn-cluster-vlan100's) becomes 0a:00:00:00:00:11, this chassis's on provider, out localnet.vlan100"],
      ["source MAC 0a:00:00:00:00:11 (chassis node1's) becomes 00:00:00:0a:64:fe, router port ovn-cluster-vlan100's"],
    ]);
  });

  it("u2o: u1 -> o2 crosses in Geneve, o1 -> u2 crosses on VLAN 100", () => {
    const a = follow(s, "u1", "o2", { tcp: 80 });
    expect(shape(a)).toEqual(["chassis node1 from vif", "wire tunnel node1 -> node2", "chassis node2 from tunnel", "deliver o2 on node2"]);
    const da = decode(wires(a)[0]!.frame);
    expect(stack(da)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "geneve@0", "ethernet@1", "ipv4@1", "tcp@1"]);
    expect(layer(da, "udp", 0).repr.dstPort).toBe(6081);
    expect(layer(da, "geneve", 0).repr.vni).toBe(datapathKey(s.program, "ovn-default"));
    const [opt] = ovnOptions(layer(da, "geneve", 0));
    // Routed on node1: the packet enters ovn-default from the router port, and leaves by o2.
    expect(opt).toEqual({ cls: 0x0102, type: 0x80, value: ((portKey(s.program, "ovn-default-ovn-cluster") << 16) | portKey(s.program, "o2")) >>> 0 });
    expect(formatMac(layer(da, "ethernet", 1).repr.src)).toBe(routerPortMac(s.net, "ovn-cluster-ovn-default"));
    expect(formatMac(layer(da, "ethernet", 1).repr.dst)).toBe(addrOf(s.net, "o2").mac);
    expect(layer(da, "ipv4", 1).repr.ttl).toBe(63);

    const b = follow(s, "o1", "u2", { tcp: 80 });
    expect(shape(b)).toEqual(["chassis node1 from vif", "wire provider node1 -> node2", "chassis node2 from localnet", "deliver u2 on node2"]);
    const db = decode(wires(b)[0]!.frame);
    expect(stack(db)).toEqual(["ethernet@0", "vlan@0", "ipv4@0", "tcp@0"]);
    expect(layer(db, "vlan", 0).repr.vid).toBe(100);
    expect(formatMac(layer(db, "ethernet", 0).repr.src)).toBe(s.net.chassis.get("node1")!.macMappings.get("provider"));
    expect(formatMac(layer(db, "ethernet", 0).repr.dst)).toBe(addrOf(s.net, "u2").mac);
    expect(layer(db, "ipv4", 0).repr.ttl).toBe(63);
  });
});

describe("overlay pod to a service with a backend on another chassis", () => {
  it("client.default (node2) -> 10.96.0.10:80: the inner packet on the wire is already DNATed; delivered on node1", () => {
    const lbDst = { ip: parseIpAddr("10.16.0.2")!, port: 8080 };
    const states = ["new", "new", "new"].map((c) => {
      const p = parseCtState(c);
      if (!p.ok) throw new Error(c);
      return p.state;
    });
    const runOptions: RunOptions = { ctStates: states, lbDst };
    const s = setup("kube-ovn-cluster.yaml", runOptions);
    const mfText = friendlyMicroflow(s.net, "client.default", "10.96.0.10", { tcp: 80 });
    // The friendly form sends the VIP to the gateway MAC, as the probe client-to-tcp-vip does.
    expect(mfText).toContain(`eth.dst == ${routerPortMac(s.net, "ovn-cluster-ovn-default")}`);
    const mf = compileMicroflow(s.program, undefined, mfText);
    if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
    // The logical trace first: the backend on node1 receives it.
    const exec = new LogicalExecutor(s.program, { ct: { kind: "trace" }, calls: portSecurityCalls(s.net, s.program), macBindings: s.macBindings });
    const logical = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, undefined, runOptions);
    expect(logical.outputs.map((o) => o.portName)).toEqual(["web-1.default"]);

    const r = s.fabric.trace("client.default", mf.value.key)!;
    expect(shape(r)).toEqual(["chassis node2 from vif", "wire tunnel node2 -> node1", "chassis node1 from tunnel", "deliver web-1.default on node1"]);
    const w = wires(r)[0]!;
    const d = decode(w.frame);
    expect(stack(d)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "geneve@0", "ethernet@1", "ipv4@1", "tcp@1"]);
    expect(formatIpv4(layer(d, "ipv4", 0).repr.src)).toBe("192.168.0.12");
    expect(formatIpv4(layer(d, "ipv4", 0).repr.dst)).toBe("192.168.0.11");
    expect(formatIpv4(layer(d, "ipv4", 1).repr.src)).toBe("10.16.0.7");
    expect(formatIpv4(layer(d, "ipv4", 1).repr.dst)).toBe("10.16.0.2");
    expect(layer(d, "tcp", 1).repr.dstPort).toBe(8080);
    expect(layer(d, "tcp", 1).repr.srcPort).toBe(49152);
    expect(ipv4HeaderSum(w.frame, layer(d, "ipv4", 1).offset)).toBe(0xffff);
    const [opt] = ovnOptions(layer(d, "geneve", 0));
    expect(opt!.value & 0xffff).toBe(portKey(s.program, "web-1.default"));
  });
});

// ---------------------------------------------------------------------------------------------
// The twin: the logical executor alone against the fabric, on every probe

/** Whether `port` is a VIF (type "") bound to a chassis the network has. */
function boundVif(net: Network, port: string): boolean {
  const sp = net.switches.find((ls) => ls.ports.has(port))?.ports.get(port);
  if (!sp || sp.type !== "") return false;
  const where = sp.chassis ?? sp.options.get("requested-chassis");
  return where !== undefined && net.chassis.has(where);
}

function probeRunOptions(p: Probe): RunOptions {
  const ctStates = p.ct.map((c) => {
    const r = parseCtState(c);
    if (!r.ok) throw new Error(`bad ct state ${c}`);
    return r.state;
  });
  let lbDst;
  if (p.lbDst) {
    lbDst = parseLbDst(p.lbDst);
  }
  return { ctStates, ...(lbDst ? { lbDst } : {}), ...(p.selectId !== undefined ? { selectId: p.selectId } : {}) };
}

/** The key of a frame, extracted from its bytes. */
function keyOfFrame(frame: Uint8Array): Uint32Array {
  const k = newKey();
  extractKey(frame, 0, frame.length, frame.length, LINKTYPE_ETHERNET, k, 0, false);
  return k;
}

/** Words of the packet headers, L2 to L4 (no metadata, registers, conntrack or tunnel words). */
function headerWords(k: Uint32Array): number[] {
  return [...k.subarray(W.ETH_DST, W.PARSE)];
}

const coverage: Record<string, { probes: number; covered: number; delivered: number; dropped: number; crossed: number }> = {};

const files = readdirSync(SCEN).filter((f) => f.endsWith(".yaml")).sort();

describe.each(files)("twin: logical executor vs fabric, %s", (file) => {
  const loaded = loadNetworkFile(join(SCEN, file));
  if (!loaded.ok || loaded.value.network.chassis.size === 0) {
    it.skip("has no chassis", () => {});
    return;
  }
  const net = loaded.value.network;
  const probes = loaded.value.probes;
  const s = setup(file);
  const exec = new LogicalExecutor(s.program, { ct: { kind: "trace" }, calls: portSecurityCalls(net, s.program), macBindings: s.macBindings });

  interface Case {
    readonly probe: Probe;
    readonly inport: string;
    readonly key: Uint32Array;
    readonly logical: ExecResult;
    readonly opts: RunOptions;
  }
  const cases: Case[] = [];
  for (const probe of probes) {
    const mf = compileMicroflow(s.program, probe.datapath, probe.microflow);
    if (!mf.ok) continue;
    const inport = s.program.datapaths.get(mf.value.datapath)?.ports.get(mf.value.inport)?.name;
    if (inport === undefined || !boundVif(net, inport)) continue;
    const opts = probeRunOptions(probe);
    const logical = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, undefined, opts);
    if (!logical.outputs.every((o) => o.portType === "" && boundVif(net, o.portName))) continue;
    cases.push({ probe, inport, key: mf.value.key, logical, opts });
  }
  coverage[file] = { probes: probes.length, covered: cases.length, delivered: cases.filter((c) => c.logical.outputs.length > 0).length, dropped: cases.filter((c) => c.logical.outputs.length === 0).length, crossed: 0 };

  it("covers some probes", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [c.probe.name, c] as const))("%s", (_name, c) => {
    // A fabric per probe: the probe's conntrack states and LB choice on every chassis.
    const fabric = new Fabric([s.plan], {
      executorOptions: (ch) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, ch.program), macBindings: s.macBindings }),
      runOptions: c.opts,
    });
    const r = fabric.trace(c.inport, c.key);
    expect(r, "fabric trace").toBeDefined();
    if (r!.hops.some((h) => h.kind === "wire")) coverage[file]!.crossed++;
    const delivered = r!.hops.filter((h) => h.kind === "deliver");
    const want = c.logical.outputs.map((o) => o.portName).sort();
    expect(delivered.map((h) => h.port).sort(), shape(r!).join("\n")).toEqual(want);
    for (const o of c.logical.outputs) {
      const h = delivered.find((x) => x.port === o.portName)!;
      // On the wire: a trace's ARP request keeps its trigger's transport ports in the key, as
      // ovn-trace's does, which no ARP frame carries.
      expect(headerWords(keyOfFrame(h.frame)), `headers delivered to ${o.portName}`).toEqual(headerWords(keyOfFrame(frameFromKey(o.key))));
    }
  });
});

describe("twin coverage", () => {
  it("reports probes covered per scenario", () => {
    const lines = Object.entries(coverage).map(([f, c]) => `${f}: ${c.covered} of ${c.probes} probes (${c.delivered} delivered, ${c.dropped} dropped; ${c.crossed} crossed a wire)`);
    console.log(`fabric twin coverage:\n  ${lines.join("\n  ")}`);
    expect(Object.values(coverage).reduce((n, c) => n + c.covered, 0)).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------------------------
// VXLAN limits

function smallNetwork(encap: "geneve" | "vxlan", switchKey: number | undefined, portKey: number | undefined): string {
  return `name: limits
chassis:
  - {name: hv1, encaps: [{type: ${encap}, ip: 192.0.2.1}]}
  - {name: hv2, encaps: [{type: ${encap}, ip: 192.0.2.2}]}
switches:
  - name: sw0
${switchKey !== undefined ? `    tunnelKey: ${switchKey}\n` : ""}    ports:
      - {name: p1, addresses: ["00:00:00:00:00:01 10.0.0.1"], chassis: hv1${portKey !== undefined ? `, tunnelKey: ${portKey}` : ""}}
      - {name: p2, addresses: ["00:00:00:00:00:02 10.0.0.2"], chassis: hv2}
`;
}

function physicalOf(text: string): ReturnType<typeof compilePhysical> {
  const loaded = loadNetworkText(text, "limits.yaml");
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diags));
  return compilePhysical(loaded.value.network);
}

function diagsOf(r: ReturnType<typeof compilePhysical>): readonly Diagnostic[] {
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.diags;
}

describe("VXLAN mode limits", () => {
  it("a datapath key above 4095 is refused, naming the limit and the switch", () => {
    const diags = diagsOf(physicalOf(smallNetwork("vxlan", 5000, undefined)));
    expect(diags).toHaveLength(1);
    expect(diags[0]!.message).toContain(String(VXLAN_LIMITS.maxDatapathKey));
    expect(diags[0]!.message).toContain("4095");
    expect(diags[0]!.message).toContain("5000");
    expect(formatPath(diags[0]!.path ?? [])).toContain("sw0");
    expect(formatPath(diags[0]!.path ?? [])).toMatch(/^switches\[sw0\]/);
  });

  it("a port key above 2047 is refused, naming the limit and the port", () => {
    const diags = diagsOf(physicalOf(smallNetwork("vxlan", undefined, 3000)));
    expect(diags).toHaveLength(1);
    expect(diags[0]!.message).toContain("2047");
    expect(diags[0]!.message).toContain("3000");
    expect(formatPath(diags[0]!.path ?? [])).toContain("ports[p1]");
    expect(formatPath(diags[0]!.path ?? [])).toMatch(/^switches\[sw0\]/);
  });

  it("keys at the limits are accepted in VXLAN mode", () => {
    const r = physicalOf(smallNetwork("vxlan", 4095, 2047));
    expect(r.ok).toBe(true);
  });

  it("the same networks compile with Geneve, and carry the large keys on the wire", () => {
    for (const [sk, pk] of [
      [5000, undefined],
      [undefined, 3000],
    ] as const) {
      const r = physicalOf(smallNetwork("geneve", sk, pk));
      expect(r.ok, r.ok ? "" : JSON.stringify(r.diags)).toBe(true);
    }
    const loaded = loadNetworkText(smallNetwork("geneve", 5000, 3000), "limits.yaml");
    if (!loaded.ok) throw new Error("load");
    const net = loaded.value.network;
    const plan = compilePhysical(net);
    if (!plan.ok) throw new Error(JSON.stringify(plan.diags));
    const program = compileNetwork(net);
    if (!program.ok) throw new Error("compile");
    const mf = compileMicroflow(program.value.program, undefined, friendlyMicroflow(net, "p1", "p2", { udp: 53 }));
    if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
    const r = new Fabric([plan.value], { executorOptions: (c) => ({ ct: { kind: "trace" }, calls: portSecurityCalls(net, c.program) }) }).trace("p1", mf.value.key)!;
    expect(shape(r)).toEqual(["chassis hv1 from vif", "wire tunnel hv1 -> hv2", "chassis hv2 from tunnel", "deliver p2 on hv2"]);
    const d = decode(wires(r)[0]!.frame);
    const g = layer(d, "geneve", 0);
    expect(g.repr.vni).toBe(5000);
    expect(ovnOptions(g)[0]!.value >>> 16).toBe(3000);
    expect(getU16(wires(r)[0]!.frame, layer(d, "udp", 0).offset + 2)).toBe(6081);
    expect(parseIpv4("192.0.2.2")).toBe(layer(d, "ipv4", 0).repr.dst);
  });
});

describe("a localport in a flood (OpenStack's metadata port)", () => {
  const yaml = `
name: localport
chassis:
  - {name: hv1, encaps: [{type: geneve, ip: 192.168.9.1}]}
  - {name: hv2, encaps: [{type: geneve, ip: 192.168.9.2}]}
switches:
  - name: net
    ports:
      - {name: meta, type: localport, addresses: ["00:00:00:00:09:fe 10.9.0.2"]}
      - {name: a, addresses: ["00:00:00:00:09:0a 10.9.0.10"], chassis: hv1}
      - {name: b, addresses: ["00:00:00:00:09:0b 10.9.0.11"], chassis: hv2}
`;
  it("is served on the sender's chassis only: a copy from a tunnel does not reach it (physical.c)", () => {
    const l = loadNetworkText(yaml, "localport.yaml");
    if (!l.ok) throw new Error(JSON.stringify(l.diags));
    const net = l.value.network;
    const p = compilePhysical(net);
    if (!p.ok) throw new Error(JSON.stringify(p.diags));
    const fabric = new Fabric([p.value], { executorOptions: () => ({ ct: { kind: "trace" } }) });
    const c = compileNetwork(net);
    if (!c.ok) throw new Error("compile");
    // A broadcast ARP request for an address nobody has.
    const mf = compileMicroflow(c.value.program, undefined, 'inport == "a" && eth.src == 00:00:00:00:09:0a && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:00:09:0a && arp.spa == 10.9.0.10 && arp.tpa == 10.9.0.99');
    if (!mf.ok) throw new Error(JSON.stringify(mf.diags));
    const r = fabric.trace("a", mf.value.key)!;
    const delivered = r.hops.filter((h) => h.kind === "deliver").map((h) => (h.kind === "deliver" ? `${h.chassis} ${h.port}` : ""));
    expect(delivered.sort()).toEqual(["hv1 meta", "hv2 b"]);
  });
});
