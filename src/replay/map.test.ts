/**
 * Tests of `--map auto` (map.ts): the endpoints a network offers, and the mapping of traces onto
 * them.
 *
 * Oracles: the scenario files themselves (which ports, addresses and VIPs they declare); checks
 * that need no knowledge of the mapper's choices (every mapped address and MAC belongs to the
 * network; one trace direction always becomes one mapped direction, its reverse the reverse, and
 * two trace connections never one mapped connection; the entry port is the mapped sender's);
 * determinism and independence from packet interleaving; and the logical executor with real
 * conntrack, which must deliver mapped service traffic to the backend the mapper predicted and
 * its replies back to the client. A real 99k-packet trace is mapped and counted, and its frames
 * rewritten with `rewriteFrame` must extract to the mapped keys.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIpv4, parseIpv4 } from "../base/index.js";
import { compileNetwork, portSecurityCalls, traceInputs } from "../compile/index.js";
import { LogicalExecutor } from "../dataplane/index.js";
import { EXTRACT_LINK, FRAG, PARSE, W, extractKey, newKey, rewriteFrame } from "../flow/index.js";
import type { Network } from "../model/index.js";
import type { Backend, LogicalProgram } from "../ofp/index.js";
import { readCaptureFile } from "../pcap/index.js";
import { loadNetworkFile } from "../scenario/index.js";
import { formatMapFile, parseMapFile } from "./map-file.js";
import { TraceMapper, networkEndpoints, type Endpoint, type MapChoices, type MapPlan } from "./map.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const COMPOSITE = join(PCAPS, "bench/ndpi-composite-99k.pcap");
const REDDIT = join(PCAPS, "bench/ndpi-reddit-ipv6.pcap");
const haveComposite = existsSync(COMPOSITE);
if (!haveComposite) console.warn(`map: the real-trace tests are skipped, ${COMPOSITE} is absent (set OVNSIM_PCAPS)`);
if (!existsSync(REDDIT)) console.warn(`map: the IPv6 real-trace test is skipped, ${REDDIT} is absent (set OVNSIM_PCAPS)`);

interface Net {
  readonly net: Network;
  readonly program: LogicalProgram;
  readonly endpoints: Endpoint[];
}

function load(name: string): Net {
  const s = loadNetworkFile(join(repoRoot, "scenarios", `${name}.yaml`));
  if (!s.ok) throw new Error(s.diags.map((d) => d.message).join("; "));
  const c = compileNetwork(s.value.network);
  if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
  return { net: s.value.network, program: c.value.program, endpoints: networkEndpoints(s.value.network, c.value.program) };
}

const NETS = ["kube-ovn-default", "network-policy", "kube-ovn-dual-stack"] as const;
const nets: Record<string, Net> = {};
for (const n of [...NETS, "kube-ovn-cluster", "localnet-vlan"]) nets[n] = load(n);

function ip(text: string): number {
  return parseIpv4(text)!;
}

// ---------------------------------------------------------------------------------------------
// Endpoints

describe("networkEndpoints", () => {
  it("kube-ovn-default: its six pods and two VIPs, nothing external", () => {
    const eps = nets["kube-ovn-default"]!.endpoints;
    const pods = eps.filter((e) => e.kind === "pod").map((e) => `${e.name} ${formatIpv4(e.ip!)}`);
    // As the scenario lists them.
    expect(pods).toEqual([
      "web-1.default 10.16.0.2",
      "web-2.default 10.16.0.3",
      "web-3.default 10.16.0.4",
      "coredns-1.kube-system 10.16.0.5",
      "coredns-2.kube-system 10.16.0.6",
      "client.default 10.16.0.7",
    ]);
    const svcs = eps.filter((e) => e.kind === "service");
    expect(svcs.map((e) => e.name)).toEqual(["cluster-tcp-loadbalancer 10.96.0.10:80", "cluster-udp-loadbalancer 10.96.0.20:53"]);
    expect(svcs.map((e) => e.port)).toEqual([
      { proto: 6, port: 80 },
      { proto: 17, port: 53 },
    ]);
    expect(svcs[0]!.lb!.backends.map((b) => `${formatIpv4(b.ip[0]!)}:${b.port}`)).toEqual(["10.16.0.2:8080", "10.16.0.3:8080", "10.16.0.4:8080"]);
    expect(eps.filter((e) => e.kind === "external")).toEqual([]);
    // No router: pods have no gateway.
    expect(eps.filter((e) => e.kind === "pod").every((e) => e.gateway === undefined)).toBe(true);
    const web1 = eps.find((e) => e.name === "web-1.default")!;
    expect(web1.mac).toEqual([0x0000, 0x00160002]);
    expect(web1.inject?.portName).toBe("web-1.default");
    expect(web1.inject?.datapath).toBe(nets["kube-ovn-default"]!.program.datapathByName.get("ovn-default"));
  });

  it("network-policy: seven pods and nothing else", () => {
    const eps = nets["network-policy"]!.endpoints;
    expect(eps.map((e) => e.kind)).toEqual(Array(7).fill("pod"));
    expect(eps.map((e) => formatIpv4(e.ip!))).toEqual(["10.16.0.10", "10.16.0.11", "10.16.0.20", "10.16.0.21", "10.16.0.30", "10.16.0.40", "10.16.0.50"]);
  });

  it("kube-ovn-cluster: node ports are ways out, not pods; pods' gateways are the router ports", () => {
    const eps = nets["kube-ovn-cluster"]!.endpoints;
    expect(eps.some((e) => e.name.startsWith("node-"))).toBe(false);
    const web3 = eps.find((e) => e.name === "web-3.default")!;
    expect(web3.gateway).toEqual([0x0000, 0x00160001]); // ovn-cluster-ovn-default 00:00:00:16:00:01
    expect(web3.reachableFrom).toEqual(expect.arrayContaining(["ovn-default", "apps"]));
    const ext = eps.filter((e) => e.kind === "external");
    expect(ext.map((e) => e.name)).toEqual(["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"]);
    // From a pod on node2, packets of the outside enter at node2's node port, from its MAC to the
    // router's join MAC.
    const acc = ext[0]!.access!.find((a) => a.switch === "ovn-default" && a.chassis === "node2")!;
    expect(acc.inject.portName).toBe("node-node2");
    expect(acc.fromMac).toEqual([0x0000, 0x00640003]);
    expect(acc.toMac).toEqual([0x0000, 0x00640001]);
  });

  it("localnet-vlan: external hosts at the top of the subnet, entering at the localnet port of each chassis on the provider network", () => {
    const ext = nets["localnet-vlan"]!.endpoints.filter((e) => e.kind === "external");
    expect(ext.map((e) => e.name)).toEqual(["172.17.0.254", "172.17.0.253", "172.17.0.252", "172.17.0.251"]);
    for (const e of ext) {
      expect(e.access!.map((a) => [a.chassis, a.inject.portName, a.inject.chassis])).toEqual([
        ["node1", "localnet.vlan100", "node1"],
        ["node2", "localnet.vlan100", "node2"],
      ]);
    }
    expect(ext[0]!.access![0]!.nextHopMac).toEqual([0x02ee, ip("172.17.0.254")]);
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic traces

const HOSTS = ["192.168.1.10", "192.168.1.11", "10.0.0.5", "10.0.0.6", "8.8.8.8", "127.0.0.1", "172.31.0.9", "203.0.113.7"].map(ip);
const GROUPS = [ip("224.0.0.251"), ip("255.255.255.255")];
/** The IPv6 hosts: 2001:db8::HOST for each IPv4 host; the groups ff02::fb and ff02::1. */
const HOSTS6: readonly (readonly number[])[] = HOSTS.map((h) => [0x20010db8, 0, 0, h]);
const GROUPS6: readonly (readonly number[])[] = [
  [0xff020000, 0, 0, 0xfb],
  [0xff020000, 0, 0, 1],
];

interface SynConn {
  readonly proto: number;
  readonly client: number;
  readonly server: number;
  readonly cport: number;
  readonly sport: number;
  readonly syn: boolean;
}

interface SynPacket {
  readonly conn: number;
  readonly reply: boolean;
  readonly later: boolean;
  readonly vlan: number;
  readonly kind: "ip" | "arp" | "ipv6" | "other";
}

const connArb: fc.Arbitrary<SynConn> = fc.record({
  proto: fc.constantFrom(6, 6, 17, 17, 132, 1, 47),
  client: fc.integer({ min: 0, max: HOSTS.length - 1 }),
  // Mostly unicast servers; sometimes a broadcast or multicast group.
  server: fc.integer({ min: 0, max: HOSTS.length + 1 }),
  cport: fc.constantFrom(1000, 1001, 1002, 40000, 53, 80),
  sport: fc.constantFrom(80, 443, 53, 8080, 1000),
  syn: fc.boolean(),
});

const traceArb = fc
  .array(connArb, { minLength: 1, maxLength: 25 })
  .chain((conns) =>
    fc.record({
      conns: fc.constant(conns),
      packets: fc.array(
        fc.record({
          conn: fc.integer({ min: 0, max: conns.length - 1 }),
          reply: fc.boolean(),
          later: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
          vlan: fc.constantFrom(0, 0, 0, 100),
          kind: fc.constantFrom("ip", "ip", "ip", "ip", "ip", "ip", "arp", "ipv6", "other"),
        }) as fc.Arbitrary<SynPacket>,
        { minLength: 1, maxLength: 150 },
      ),
    }),
  );

function serverIp(c: SynConn): number {
  return c.server < HOSTS.length ? HOSTS[c.server]! : GROUPS[c.server - HOSTS.length]!;
}

function serverIp6(c: SynConn): readonly number[] {
  return c.server < HOSTS.length ? HOSTS6[c.server]! : GROUPS6[c.server - HOSTS.length]!;
}

/** The trace packet as extraction would give its key. */
function keyOf(conns: readonly SynConn[], p: SynPacket, firstOfConn: boolean): Uint32Array {
  const k = newKey();
  const c = conns[p.conn]!;
  k[W.ETH_SRC] = 0x0011;
  k[W.ETH_SRC + 1] = 0x22334455 + p.conn;
  k[W.ETH_DST] = 0x0066;
  k[W.ETH_DST + 1] = 0x778899aa;
  if (p.vlan) k[W.VLAN0] = ((0x8100 << 16) | 0x1000 | p.vlan) >>> 0;
  let parse: number = PARSE.L2 | (p.vlan ? PARSE.VLAN : 0);
  if (p.kind === "other") {
    k[W.ETH_TYPE] = 0x88cc;
    k[W.PARSE] = parse;
    return k;
  }
  const src = p.reply ? serverIp(c) : HOSTS[c.client]!;
  const dst = p.reply ? HOSTS[c.client]! : serverIp(c);
  if (p.kind === "ipv6") {
    k[W.ETH_TYPE] = 0x86dd;
    k.set(p.reply ? serverIp6(c) : HOSTS6[c.client]!, W.IPV6_SRC);
    k.set(p.reply ? HOSTS6[c.client]! : serverIp6(c), W.IPV6_DST);
    const proto = c.proto === 1 ? 58 : c.proto;
    k[W.NW] = proto | (64 << 16);
    k[W.PARSE] = parse | PARSE.L3 | (proto === 47 ? 0 : PARSE.L4);
    if (proto === 58) k[W.TP] = (p.reply ? 129 : 128) << 16;
    else if (proto !== 47) {
      const sp = p.reply ? c.sport : c.cport;
      const dp = p.reply ? c.cport : c.sport;
      k[W.TP] = ((sp << 16) | dp) >>> 0;
      if (proto === 6) k[W.TCP_FLAGS] = !p.reply && firstOfConn && c.syn ? 0x02 : 0x10;
    }
    return k;
  }
  if (p.kind === "arp") {
    k[W.ETH_TYPE] = 0x0806;
    k[W.NW] = p.reply ? 2 : 1;
    k[W.NW_SRC] = src;
    k[W.NW_DST] = dst;
    k[W.ARP_SHA] = 0x0011;
    k[W.ARP_SHA + 1] = 0x22334455;
    if (p.reply) {
      k[W.ARP_THA] = 0x0011;
      k[W.ARP_THA + 1] = 0x66778899;
    } else {
      k[W.ETH_DST] = 0xffff;
      k[W.ETH_DST + 1] = 0xffffffff;
    }
    k[W.PARSE] = parse | PARSE.L3;
    return k;
  }
  k[W.ETH_TYPE] = 0x0800;
  const later = p.later && !firstOfConn;
  k[W.NW] = c.proto | (64 << 16) | ((later ? FRAG.ANY | FRAG.LATER : 0) << 24);
  k[W.NW_SRC] = src;
  k[W.NW_DST] = dst;
  parse |= PARSE.L3;
  if (!later) {
    parse |= PARSE.L4;
    if (c.proto === 1) k[W.TP] = ((p.reply ? 0 : 8) << 16) | 0;
    else if (c.proto !== 47) {
      const sp = p.reply ? c.sport : c.cport;
      const dp = p.reply ? c.cport : c.sport;
      k[W.TP] = ((sp << 16) | dp) >>> 0;
      if (c.proto === 6) k[W.TCP_FLAGS] = !p.reply && firstOfConn && c.syn ? 0x02 : 0x10;
    } else parse &= ~PARSE.L4;
  }
  k[W.PARSE] = parse;
  return k;
}

function traceKeys(t: { conns: readonly SynConn[]; packets: readonly SynPacket[] }): Uint32Array[] {
  const seen = new Set<number>();
  return t.packets.map((p) => {
    const first = !seen.has(p.conn);
    seen.add(p.conn);
    return keyOf(t.conns, p, first);
  });
}

interface Run {
  readonly plan: MapPlan;
  readonly mapper: TraceMapper;
  /** Mapped keys (copies) and injection indexes, per input key. */
  readonly out: { readonly key: Uint32Array; readonly inject: number }[];
}

function runMapper(endpoints: readonly Endpoint[], keys: readonly Uint32Array[], seed = 0, choices?: MapChoices): Run {
  const m = new TraceMapper(endpoints, choices ? { seed, choices } : { seed });
  for (const k of keys) m.observe(k);
  const plan = m.freeze();
  const out = keys.map((k) => {
    const c = k.slice();
    return { key: c, inject: m.map(c) };
  });
  return { plan, mapper: m, out };
}

/** A packet's source or destination address as text: IPv4 as its number, IPv6 as "6:" and its words. */
function addr(k: Uint32Array, which: "src" | "dst"): string {
  if (k[W.ETH_TYPE] === 0x86dd) {
    const w = which === "src" ? W.IPV6_SRC : W.IPV6_DST;
    return `6:${k[w]},${k[w + 1]},${k[w + 2]},${k[w + 3]}`;
  }
  return String(which === "src" ? k[W.NW_SRC] : k[W.NW_DST]);
}

/** An endpoint's addresses, as `addr` writes them. */
function endpointAddrs(e: Endpoint): string[] {
  return [...(e.ip !== undefined ? [String(e.ip)] : []), ...(e.ip6 ? [`6:${e.ip6.join(",")}`] : [])];
}

/** A load balancer backend's address, as `addr` writes it. */
function backendAddr(b: Backend): string {
  return b.ip.length === 1 ? String(b.ip[0]! >>> 0) : `6:${b.ip.map((w) => w >>> 0).join(",")}`;
}

function isGroup(a: string): boolean {
  if (a.startsWith("6:")) return Number(a.slice(2).split(",")[0]) >>> 24 === 0xff;
  const n = Number(a);
  return n >>> 28 === 0xe || n === 0xffffffff;
}

function ported(k: Uint32Array): boolean {
  const p = k[W.NW]! & 0xff;
  return (p === 6 || p === 17 || p === 132) && (k[W.PARSE]! & PARSE.L4) !== 0;
}

function macKey(hi: number, lo: number): string {
  return `${hi}:${lo}`;
}

/** What the network's endpoints allow a mapped packet to carry. */
function allowedOf(endpoints: readonly Endpoint[]): { ips: Set<string>; srcMacs: Set<string>; dstMacs: Set<string>; vips: Map<string, Endpoint> } {
  const ips = new Set<string>();
  const srcMacs = new Set<string>();
  const dstMacs = new Set<string>();
  const vips = new Map<string, Endpoint>();
  for (const e of endpoints) {
    for (const a of endpointAddrs(e)) ips.add(a);
    if (e.mac) {
      srcMacs.add(macKey(...e.mac));
      dstMacs.add(macKey(...e.mac));
    }
    if (e.gateway) dstMacs.add(macKey(...e.gateway));
    if (e.kind === "service") for (const a of endpointAddrs(e)) vips.set(a, e);
    for (const a of e.access ?? []) {
      srcMacs.add(macKey(...a.fromMac));
      if (a.toMac) dstMacs.add(macKey(...a.toMac));
      if (a.nextHopMac) dstMacs.add(macKey(...a.nextHopMac));
    }
  }
  return { ips, srcMacs, dstMacs, vips };
}

function tuple(k: Uint32Array): string {
  const p = k[W.NW]! & 0xff;
  return ported(k) ? `${p} ${addr(k, "src")}:${k[W.TP]! >>> 16} > ${addr(k, "dst")}:${k[W.TP]! & 0xffff}` : `${p} ${addr(k, "src")} > ${addr(k, "dst")}`;
}

function canonical(k: Uint32Array): string {
  const p = k[W.NW]! & 0xff;
  const a = `${addr(k, "src")}:${ported(k) ? k[W.TP]! >>> 16 : 0}`;
  const b = `${addr(k, "dst")}:${ported(k) ? k[W.TP]! & 0xffff : 0}`;
  return a < b ? `${p} ${a} ${b}` : `${p} ${b} ${a}`;
}

/** Fails the test with `message` unless `cond` (cheaper than `expect` in loops over 100k packets). */
function check(cond: boolean, message: () => string): void {
  if (!cond) expect.fail(message());
}

/**
 * The structural checks of the module comment, on (trace key, mapped key, injection) triples, for
 * IPv4 and IPv6 alike (IPv6 must stay unmapped where no pod has an IPv6 address). Returns the
 * number of mapped packets.
 */
function checkStructure(endpoints: readonly Endpoint[], plan: MapPlan, keys: readonly Uint32Array[], out: Run["out"]): number {
  const allowed = allowedOf(endpoints);
  const podByIp = new Map(endpoints.filter((e) => e.kind === "pod").flatMap((e) => endpointAddrs(e).map((a) => [a, e] as const)));
  const has6 = endpoints.some((e) => e.kind === "pod" && e.ip6 !== undefined);
  /** Trace directional tuple → mapped directional tuple (ported packets). */
  const dirMap = new Map<string, string>();
  /** Trace canonical tuple → the mapped tuples of its directions, keyed by trace direction. */
  const byConn = new Map<string, Map<string, Uint32Array>>();
  /** Mapped canonical tuple → trace canonical tuple. */
  const owner = new Map<string, string>();
  /** Portless: trace (proto, src, dst) → mapped address pair. */
  const pairMap = new Map<string, string>();
  let mapped = 0;
  keys.forEach((k, i) => {
    const { key: m, inject } = out[i]!;
    const et = k[W.ETH_TYPE]!;
    const v6 = et === 0x86dd;
    const ctx = (): string => `packet ${i} ${tuple(k)} -> ${tuple(m)}`;
    if (et !== 0x0800 && et !== 0x0806 && !(v6 && has6)) {
      check(inject === -1, () => `${ctx()}: mapped`);
      return;
    }
    if (inject < 0) return;
    mapped++;
    const inj = plan.injections[inject];
    check(inj !== undefined, () => `${ctx()}: injection ${inject}`);
    check(m[W.VLAN0] === 0 && m[W.VLAN1] === 0, () => `${ctx()}: tagged`);
    check(allowed.srcMacs.has(macKey(m[W.ETH_SRC]!, m[W.ETH_SRC + 1]!)), () => `${ctx()}: source MAC`);
    const src = addr(m, "src");
    const dst = addr(m, "dst");
    const srcPod = podByIp.get(src);
    if (et === 0x0806) {
      // ARP: addresses of pods, sender pod's MAC, entering at the sender pod.
      for (const a of [m[W.NW_SRC]!, m[W.NW_DST]!]) check(a === 0 || podByIp.has(String(a)), () => `${ctx()}: ARP address ${formatIpv4(a)}`);
      const sender = srcPod ?? podByIp.get(dst)!;
      check(inj!.portName === sender.name, () => `${ctx()}: ARP enters at ${inj!.portName}`);
      check(m[W.ARP_SHA] === sender.mac![0] && m[W.ARP_SHA + 1] === sender.mac![1], () => `${ctx()}: ARP sender MAC`);
      return;
    }
    if (v6 && (k[W.NW]! & 0xff) === 58 && [135, 136].includes(k[W.TP]! >>> 16)) {
      // Neighbour discovery, as ARP: addresses of pods (or unspecified, or a group), the target a
      // pod's, entering at the sender pod (the target's for a duplicate address check).
      const target = `6:${[...m.subarray(W.ND_TARGET, W.ND_TARGET + 4)].join(",")}`;
      check(podByIp.has(target), () => `${ctx()}: ND target ${target}`);
      check(src === "6:0,0,0,0" || podByIp.has(src), () => `${ctx()}: ND source ${src}`);
      check(isGroup(dst) || podByIp.has(dst), () => `${ctx()}: ND destination ${dst}`);
      const sender = srcPod ?? podByIp.get(target)!;
      check(inj!.portName === sender.name, () => `${ctx()}: ND enters at ${inj!.portName}`);
      check(m[W.ETH_SRC] === sender.mac![0] && m[W.ETH_SRC + 1] === sender.mac![1], () => `${ctx()}: ND sender MAC`);
      return;
    }
    check(allowed.ips.has(src), () => `${ctx()}: source ${src}`);
    check(allowed.ips.has(dst) || isGroup(dst), () => `${ctx()}: destination ${dst}`);
    const dmac = macKey(m[W.ETH_DST]!, m[W.ETH_DST + 1]!);
    if (isGroup(dst)) check(dmac === macKey(k[W.ETH_DST]!, k[W.ETH_DST + 1]!), () => `${ctx()}: group MAC changed`);
    else check(allowed.dstMacs.has(dmac), () => `${ctx()}: destination MAC`);
    // The entry port is the mapped sender's: its pod, or for an outside host a way in.
    if (srcPod) check(inj!.portName === srcPod.name, () => `${ctx()}: enters at ${inj!.portName}`);
    else check(endpoints.some((e) => e.kind === "external" && endpointAddrs(e).includes(src) && e.access!.some((a) => a.inject.portName === inj!.portName)), () => `${ctx()}: enters at ${inj!.portName}`);
    // Everything but addresses, ports, MACs and tags is kept.
    for (let w: number = W.ETH_TYPE; w <= W.PARSE; w++) {
      if (w === W.NW_SRC || w === W.NW_DST || w === W.TP || (w >= W.IPV6_SRC && w < W.IPV6_DST + 4)) continue;
      check(m[w] === k[w], () => `${ctx()}: word ${w} changed`);
    }
    if (!ported(k)) {
      check(m[W.TP] === k[W.TP], () => `${ctx()}: ports of a portless packet changed`);
      const pk = `${k[W.NW]! & 0xff} ${addr(k, "src")} > ${addr(k, "dst")}`;
      const mv = `${src} > ${dst}`;
      check((pairMap.get(pk) ?? mv) === mv, () => `${ctx()}: address pair ${pk} mapped two ways`);
      pairMap.set(pk, mv);
      return;
    }
    const td = tuple(k);
    const md = tuple(m);
    check((dirMap.get(td) ?? md) === md, () => `${ctx()}: trace direction mapped two ways`);
    dirMap.set(td, md);
    const tc = canonical(k);
    const dirs = byConn.get(tc) ?? new Map<string, Uint32Array>();
    dirs.set(td, m);
    byConn.set(tc, dirs);
    const mc = canonical(m);
    check((owner.get(mc) ?? tc) === tc, () => `${ctx()}: ${mc} is the mapping of ${owner.get(mc)} too`);
    owner.set(mc, tc);
  });
  // Both directions of a connection: the reply goes back to where the forward came from.
  for (const [tc, dirs] of byConn) {
    if (dirs.size !== 2) continue;
    const [x, y] = [...dirs.values()] as [Uint32Array, Uint32Array];
    const paired = (f: Uint32Array, r: Uint32Array): boolean => {
      const fsp = f[W.TP]! >>> 16;
      const fdp = f[W.TP]! & 0xffff;
      const rsp = r[W.TP]! >>> 16;
      const rdp = r[W.TP]! & 0xffff;
      if (addr(r, "dst") !== addr(f, "src") || rdp !== fsp) return false;
      if (addr(r, "src") === addr(f, "dst") && rsp === fdp) return true;
      // A service: the reply comes from the backend its load balancer picked.
      const svc = allowed.vips.get(addr(f, "dst"));
      return svc !== undefined && svc.port!.port === fdp && svc.lb!.backends.some((b) => backendAddr(b) === addr(r, "src") && (b.port ?? fdp) === rsp);
    };
    check(paired(x, y) || paired(y, x), () => `${tc}: ${tuple(x)} and ${tuple(y)} are not a connection's two directions`);
  }
  return mapped;
}

describe.each(NETS)("TraceMapper on %s", (name) => {
  const { endpoints } = nets[name]!;

  it("maps random traces onto the network's endpoints, keeping connections apart and directions paired", () => {
    fc.assert(
      fc.property(traceArb, fc.integer(), (t, seed) => {
        const keys = traceKeys(t);
        const r = runMapper(endpoints, keys, seed);
        checkStructure(endpoints, r.plan, keys, r.out);
        // Counts add up.
        const un = Object.values(r.mapper.unmapped()).reduce((a, b) => a + b, 0);
        expect(r.mapper.mapped() + un).toBe(keys.length);
      }),
      { numRuns: 300 },
    );
  });

  it("is deterministic, and depends only on first appearances, not on how packets interleave", () => {
    fc.assert(
      fc.property(traceArb, fc.integer(), fc.integer(), (t, seed, shuffleSeed) => {
        const keys = traceKeys(t);
        const a = runMapper(endpoints, keys, seed);
        const b = runMapper(endpoints, keys, seed);
        expect(b.out.map((o) => [...o.key, o.inject])).toEqual(a.out.map((o) => [...o.key, o.inject]));
        expect(b.plan.describe()).toEqual(a.plan.describe());
        // The same packets with the first packet of every connection and of every address pair,
        // and every SYN, in the same order; the rest moved about.
        const firsts: number[] = [];
        const rest: number[] = [];
        const seen = new Set<string>();
        keys.forEach((k, i) => {
          if (k[W.ETH_TYPE] !== 0x0800 && k[W.ETH_TYPE] !== 0x86dd) {
            rest.push(i);
            return;
          }
          const pair = `${k[W.NW]! & 0xff} ${[addr(k, "src"), addr(k, "dst")].sort().join(" ")}`;
          const conn = ported(k) ? canonical(k) : pair;
          const syn = (k[W.NW]! & 0xff) === 6 && (k[W.TCP_FLAGS]! & 0x12) === 0x02;
          if (seen.has(pair) && seen.has(conn) && !syn) rest.push(i);
          else firsts.push(i);
          seen.add(pair);
          seen.add(conn);
        });
        let s = shuffleSeed >>> 0;
        for (let i = rest.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const j = s % (i + 1);
          [rest[i], rest[j]] = [rest[j]!, rest[i]!];
        }
        const order = [...firsts, ...rest];
        const c = runMapper(endpoints, order.map((i) => keys[i]!), seed);
        order.forEach((i, j) => {
          expect([...c.out[j]!.key, c.out[j]!.inject]).toEqual([...a.out[i]!.key, a.out[i]!.inject]);
        });
      }),
      { numRuns: 150 },
    );
  });

  it("counts what it cannot map, by reason", () => {
    const conns: SynConn[] = [{ proto: 6, client: 0, server: 1, cport: 1000, sport: 80, syn: true }];
    const keys = traceKeys({
      conns,
      packets: [
        { conn: 0, reply: false, later: false, vlan: 0, kind: "ip" },
        { conn: 0, reply: false, later: false, vlan: 0, kind: "ipv6" },
        { conn: 0, reply: false, later: false, vlan: 0, kind: "other" },
      ],
    });
    const m = new TraceMapper(endpoints);
    keys.forEach((k) => m.observe(k));
    m.freeze();
    const unseen = keys[0]!.slice();
    unseen[W.TP] = ((1234 << 16) | 80) >>> 0;
    const malformed = keys[0]!.slice();
    malformed[W.PARSE] = PARSE.L2 | PARSE.MALFORMED;
    const results = [...keys, unseen, malformed].map((k) => m.map(k.slice()));
    expect(results[0]).toBeGreaterThanOrEqual(0);
    // IPv6 maps where pods have IPv6 addresses.
    const has6 = endpoints.some((e) => e.kind === "pod" && e.ip6 !== undefined);
    expect(results.slice(1).map((r) => r >= 0)).toEqual([has6, false, false, false]);
    expect(m.unmapped()).toEqual({ ...(has6 ? {} : { ipv6: 1 }), "non-ip": 1, "not-observed": 1, malformed: 1 });
    expect(m.mapped()).toBe(has6 ? 2 : 1);
  });
});

describe("TraceMapper rules", () => {
  const { endpoints } = nets["kube-ovn-default"]!;

  it("makes the sender of a SYN the client even when a reply was captured first", () => {
    const conns: SynConn[] = [{ proto: 6, client: 0, server: 1, cport: 40000, sport: 8080, syn: true }];
    const reply = keyOf(conns, { conn: 0, reply: true, later: false, vlan: 0, kind: "ip" }, false);
    const syn = keyOf(conns, { conn: 0, reply: false, later: false, vlan: 0, kind: "ip" }, true);
    const r = runMapper(endpoints, [reply, syn]);
    const pods = new Set(endpoints.filter((e) => e.kind === "pod").map((e) => e.ip));
    // The SYN's sender (the trace's client) becomes a pod, its port kept when free.
    expect(pods.has(r.out[1]!.key[W.NW_SRC]!)).toBe(true);
    expect(r.out[1]!.key[W.TP]! >>> 16).toBe(40000);
    expect(r.plan.entries[0]).toEqual({ trace: "192.168.1.10", mapped: expect.stringMatching(/^pod /) });
  });

  it("gives one trace host one pod, as a client and in ARP", () => {
    const conns: SynConn[] = [0, 1, 2, 3].map((s) => ({ proto: 17, client: 4, server: s, cport: 5000 + s, sport: 53, syn: false }));
    const packets: SynPacket[] = conns.map((_, i) => ({ conn: i, reply: false, later: false, vlan: 0, kind: "ip" }));
    packets.push({ conn: 0, reply: false, later: false, vlan: 0, kind: "arp" });
    const r = runMapper(endpoints, traceKeys({ conns, packets }));
    const srcs = new Set(r.out.map((o) => o.key[W.NW_SRC]));
    expect(srcs.size).toBe(1);
    expect(r.plan.describe()[0]).toMatch(/^endpoints: 6 pods, 2 services, 0 external addresses; connections: 4, mapped 4$/);
    expect(r.plan.describe().filter((l) => l.startsWith("trace 8.8.8.8 -> pod "))).toHaveLength(1);
  });

  it("gives clashing connections different client ports", () => {
    // Many trace clients and servers squeezed onto 6 pods: mapped 5-tuples would collide.
    const conns: SynConn[] = [];
    for (let c = 0; c < HOSTS.length; c++) for (let s = 0; s < HOSTS.length; s++) conns.push({ proto: 6, client: c, server: s, cport: 1000, sport: 80, syn: true });
    const packets: SynPacket[] = conns.map((_, i) => ({ conn: i, reply: false, later: false, vlan: 0, kind: "ip" }));
    const r = runMapper(endpoints, traceKeys({ conns, packets }));
    const mapped = r.out.filter((o) => o.inject >= 0).map((o) => tuple(o.key));
    expect(new Set(mapped).size).toBe(mapped.length);
    expect(r.out.some((o) => o.key[W.TP]! >>> 16 !== 1000)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The logical executor as oracle

describe.each([
  ["kube-ovn-default", "ip"],
  ["kube-ovn-cluster", "ip"],
  ["localnet-vlan", "ip"],
  ["kube-ovn-dual-stack", "ip"],
  ["kube-ovn-dual-stack", "ipv6"],
] as const)("mapped traffic through the logical executor on %s (%s)", (name, kind) => {
  const { net, program, endpoints } = nets[name]!;

  it("delivers every packet to the mapped destination, services to the backend the mapper expects", () => {
    const conns: SynConn[] = [];
    for (let i = 0; i < 40; i++) conns.push({ proto: i % 3 === 0 ? 17 : 6, client: i % HOSTS.length, server: (i * 5 + 3) % HOSTS.length, cport: 20000 + i, sport: [80, 53, 8080, 443][i % 4]!, syn: true });
    const packets: SynPacket[] = [];
    conns.forEach((_, i) => packets.push({ conn: i, reply: false, later: false, vlan: 0, kind }, { conn: i, reply: true, later: false, vlan: 0, kind }, { conn: i, reply: false, later: false, vlan: 0, kind }));
    const keys = traceKeys({ conns, packets });
    const r = runMapper(endpoints, keys);
    const exec = new LogicalExecutor(program, { ct: { kind: "table" }, calls: portSecurityCalls(net, program), macBindings: traceInputs(net).macBindings });
    const family = (a: string): boolean => a.startsWith("6:") === (kind === "ipv6");
    const vips = new Map(endpoints.filter((e) => e.kind === "service").flatMap((e) => endpointAddrs(e).filter(family).map((a) => [a, e] as const)));
    const podByIp = new Map(endpoints.filter((e) => e.kind === "pod").flatMap((e) => endpointAddrs(e).map((a) => [a, e] as const)));
    const extIps = new Set(endpoints.filter((e) => e.kind === "external").flatMap((e) => endpointAddrs(e).filter(family)));
    let services = 0;
    let externals = 0;
    for (let i = 0; i < keys.length; i += 3) {
      const [f, rep, f2] = [r.out[i]!, r.out[i + 1]!, r.out[i + 2]!];
      expect(f.inject).toBeGreaterThanOrEqual(0);
      const run = (o: { key: Uint32Array; inject: number }): { port: string; key: Uint32Array }[] => {
        const inj = r.plan.injections[o.inject]!;
        const res = exec.run(o.key.slice(), { datapath: inj.datapath, inport: inj.inport });
        return res.outputs.map((x) => ({ port: x.portName, key: x.key }));
      };
      const svc = vips.get(addr(f.key, "dst"));
      const outF = run(f);
      const replyEntry = r.plan.injections[rep.inject]!.portName;
      const ctx = `${tuple(f.key)} / ${tuple(rep.key)}: forward reached ${outF.map((o) => o.port).join(",")}`;
      expect(outF, ctx).toHaveLength(1);
      if (svc) {
        services++;
        // The load balancer picked the backend whose pod the replies come from.
        const be = podByIp.get(addr(rep.key, "src"))!;
        expect(outF[0]!.port, ctx).toBe(be.name);
        expect(addr(outF[0]!.key, "dst"), ctx).toBe(addr(rep.key, "src"));
      } else if (extIps.has(addr(f.key, "dst"))) {
        externals++;
        // Out through the way the replies come back in.
        expect(outF[0]!.port, ctx).toBe(replyEntry);
      } else {
        expect(outF[0]!.port, ctx).toBe(podByIp.get(addr(f.key, "dst"))!.name);
      }
      const outR = run(rep);
      expect(outR.map((o) => o.port), ctx).toEqual([podByIp.get(addr(f.key, "src"))!.name]);
      // The client sees the reply from the address it sent to.
      expect([addr(outR[0]!.key, "src"), outR[0]!.key[W.TP]! >>> 16], ctx).toEqual([addr(f.key, "dst"), f.key[W.TP]! & 0xffff]);
      expect(run(f2).map((o) => o.port)).toEqual(outF.map((o) => o.port));
    }
    if (vips.size > 0) expect(services).toBeGreaterThan(0);
    if (extIps.size > 0) expect(externals).toBeGreaterThan(0);
  });
});

/**
 * Address resolution across subnets: each mapped request (`r.out`, ARP requests or neighbour
 * solicitations) asks for a pod of the sender's switch or, where the trace's target became a pod
 * of another switch, for the sender's gateway; and the network answers each at the sender's port,
 * from the address asked for. `asked` reads the address a request asks for, `gatewayOf` a pod's
 * gateway address, `podAddr` a pod's address, `answer` what a reply says (its kind, its address).
 */
function checkResolutions(n: Net, r: Run, asked: (k: Uint32Array) => string, gatewayOf: (e: Endpoint) => string, podAddr: (e: Endpoint) => string | undefined, answer: (k: Uint32Array) => [number, string]): void {
  const exec = new LogicalExecutor(n.program, { calls: portSecurityCalls(n.net, n.program), macBindings: traceInputs(n.net).macBindings });
  const pods = n.endpoints.filter((e) => e.kind === "pod");
  const podOf = new Map(pods.flatMap((e) => (podAddr(e) !== undefined ? [[podAddr(e)!, e] as const] : [])));
  const podByPort = new Map(pods.map((e) => [e.name, e] as const));
  let sameSubnet = 0;
  let gateway = 0;
  for (const o of r.out) {
    const inj = r.plan.injections[o.inject]!;
    const sender = podByPort.get(inj.portName)!;
    const target = podOf.get(asked(o.key));
    if (target === undefined) {
      gateway++;
      expect(asked(o.key)).toBe(gatewayOf(sender));
    } else if (target !== sender) {
      sameSubnet++;
      expect(target.switch).toBe(sender.switch);
    }
    // Two trace hosts on one pod: the next pod of the switch is asked instead.
    expect(target, `${sender.name} asks for itself`).not.toBe(sender);
    // The switch's responder (for a pod) or the router (for its own address) answers.
    const res = exec.run(o.key.slice(), { datapath: inj.datapath, inport: inj.inport });
    const ctx = `${sender.name} asks for ${asked(o.key)}`;
    expect(res.outputs.map((x) => x.portName), ctx).toEqual([sender.name]);
    expect(answer(res.outputs[0]!.key), ctx).toEqual([2, asked(o.key)]);
  }
  expect(sameSubnet).toBeGreaterThan(0);
  expect(gateway).toBeGreaterThan(0);
}

describe("ARP on kube-ovn-cluster (two subnets behind one router)", () => {
  it("asks for a pod of the sender's subnet, else for the sender's gateway, and every request is answered", () => {
    const conns: SynConn[] = [];
    for (let c = 0; c < HOSTS.length; c++) for (let s = 0; s < HOSTS.length; s++) if (c !== s) conns.push({ proto: 17, client: c, server: s, cport: 5000, sport: 53, syn: false });
    const packets: SynPacket[] = conns.map((_, i) => ({ conn: i, reply: false, later: false, vlan: 0, kind: "arp" }));
    const n = nets["kube-ovn-cluster"]!;
    const r = runMapper(n.endpoints, traceKeys({ conns, packets }));
    for (const o of r.out) expect(o.key[W.NW_SRC]).toBe(n.endpoints.find((e) => e.name === r.plan.injections[o.inject]!.portName)!.ip);
    const v4 = (x: number | undefined): string => formatIpv4(x!);
    checkResolutions(n, r, (k) => v4(k[W.NW_DST]), (e) => v4(e.gatewayIp), (e) => (e.ip !== undefined ? v4(e.ip) : undefined), (k) => [k[W.NW]! & 0xff, v4(k[W.NW_SRC])]);
  });
});

/** An ICMPv6 ND message of `type` from trace host `from` to `to`, about `target`. */
function ndKey(type: number, from: readonly number[], to: readonly number[], target: readonly number[], ll: "sll" | "tll" | undefined): Uint32Array {
  const k = newKey();
  k[W.ETH_SRC] = 0x0011;
  k[W.ETH_SRC + 1] = 0x22334455;
  const group = to[0]! >>> 24 === 0xff;
  k[W.ETH_DST] = group ? 0x3333 : 0x0066;
  k[W.ETH_DST + 1] = group ? to[3]! : 0x778899aa;
  k[W.ETH_TYPE] = 0x86dd;
  k.set(from, W.IPV6_SRC);
  k.set(to, W.IPV6_DST);
  k[W.NW] = 58 | (255 << 16);
  k[W.TP] = type << 16;
  k.set(target, W.ND_TARGET);
  if (ll === "sll") [k[W.ARP_SHA], k[W.ARP_SHA + 1]] = [0x0011, 0x22334455];
  if (ll === "tll") [k[W.ARP_THA], k[W.ARP_THA + 1]] = [0x0011, 0x22334455];
  k[W.PARSE] = PARSE.L2 | PARSE.L3 | PARSE.L4;
  return k;
}
const solicited = (a: readonly number[]): number[] => [0xff020000, 0, 1, (0xff000000 | (a[3]! & 0xffffff)) >>> 0];


describe("neighbour discovery on kube-ovn-dual-stack", () => {
  const { net, program, endpoints } = nets["kube-ovn-dual-stack"]!;

  it("maps a solicitation onto the pods of its two hosts, which the switch answers for the target", () => {
    const [a, b] = [HOSTS6[0]!, HOSTS6[1]!];
    const keys = [ndKey(135, a, solicited(b), b, "sll"), ndKey(136, b, a, b, "tll"), ndKey(133, a, [0xff020000, 0, 0, 2], [0, 0, 0, 0], "sll")];
    const r = runMapper(endpoints, keys);
    expect(r.out.map((o) => o.inject >= 0)).toEqual([true, true, false]);
    expect(r.mapper.unmapped()).toEqual({ "nd-router": 1 });
    const podOf = new Map(endpoints.filter((e) => e.ip6).map((e) => [`6:${e.ip6!.join(",")}`, e]));
    const ns = r.out[0]!.key;
    const sender = podOf.get(addr(ns, "src"))!;
    const target = podOf.get(`6:${[...ns.subarray(W.ND_TARGET, W.ND_TARGET + 4)].join(",")}`)!;
    expect(sender).toBeDefined();
    expect(target).toBeDefined();
    expect(r.plan.injections[r.out[0]!.inject]!.portName).toBe(sender.name);
    // Its destination is the mapped target's solicited-node group, on the group's MAC.
    expect([...ns.subarray(W.IPV6_DST, W.IPV6_DST + 4)]).toEqual(solicited(target.ip6!));
    expect([ns[W.ETH_DST], ns[W.ETH_DST + 1]]).toEqual([0x3333, solicited(target.ip6!)[3]]);
    expect([ns[W.ARP_SHA], ns[W.ARP_SHA + 1], ns[W.ETH_SRC], ns[W.ETH_SRC + 1]]).toEqual([...sender.mac!, ...sender.mac!]);
    // The advertisement comes from the target's pod, to the sender's, its link-layer option the
    // target's MAC.
    const na = r.out[1]!.key;
    expect([addr(na, "src"), addr(na, "dst")]).toEqual([`6:${target.ip6!.join(",")}`, `6:${sender.ip6!.join(",")}`]);
    expect([na[W.ARP_THA], na[W.ARP_THA + 1], na[W.ETH_DST], na[W.ETH_DST + 1]]).toEqual([...target.mac!, ...sender.mac!]);
    // The logical switch answers the solicitation for the target: back to the sender, from the
    // target.
    const exec = new LogicalExecutor(program, { ct: { kind: "table" }, calls: portSecurityCalls(net, program), macBindings: traceInputs(net).macBindings });
    const inj = r.plan.injections[r.out[0]!.inject]!;
    const res = exec.run(ns.slice(), { datapath: inj.datapath, inport: inj.inport });
    expect(res.outputs.map((o) => o.portName)).toEqual([sender.name]);
    const reply = res.outputs[0]!.key;
    expect(reply[W.TP]! >>> 16).toBe(136);
    expect(addr(reply, "src")).toBe(`6:${target.ip6!.join(",")}`);
    expect([reply[W.ARP_THA], reply[W.ARP_THA + 1]]).toEqual([...target.mac!]);
  });
});

describe("neighbour discovery on scenarios/kube-ovn/dual-stack (two subnets behind one router)", () => {
  it("solicits a pod of the sender's subnet, else the sender's gateway, and every solicitation is answered", () => {
    const sc = loadNetworkFile(join(repoRoot, "scenarios/kube-ovn/dual-stack"));
    if (!sc.ok) throw new Error(sc.diags.map((d) => d.message).join("; "));
    const c = compileNetwork(sc.value.network);
    if (!c.ok) throw new Error(c.diags.map((d) => d.message).join("; "));
    const n: Net = { net: sc.value.network, program: c.value.program, endpoints: networkEndpoints(sc.value.network, c.value.program) };
    const keys: Uint32Array[] = [];
    for (const a of HOSTS6) for (const b of HOSTS6) if (a !== b) keys.push(ndKey(135, a, solicited(b), b, "sll"));
    const r = runMapper(n.endpoints, keys);
    const text = (w: ArrayLike<number> | undefined): string => Array.from(w!).join(",");
    // To the solicited-node group of what it asks for.
    for (const o of r.out) expect([...o.key.subarray(W.IPV6_DST, W.IPV6_DST + 4)]).toEqual(solicited([...o.key.subarray(W.ND_TARGET, W.ND_TARGET + 4)]));
    // An advertisement (136) from the address asked for.
    const answer = (k: Uint32Array): [number, string] => [(k[W.TP]! >>> 16) === 136 ? 2 : 0, text(k.subarray(W.IPV6_SRC, W.IPV6_SRC + 4))];
    checkResolutions(n, r, (k) => text(k.subarray(W.ND_TARGET, W.ND_TARGET + 4)), (e) => text(e.gatewayIp6), (e) => (e.ip6 ? text(e.ip6) : undefined), answer);
  });
});

// ---------------------------------------------------------------------------------------------
// A real trace

/**
 * Maps a real capture onto a network: every packet is accounted for, the structural checks hold,
 * and the frames rewritten to the mapped keys extract to them. Returns the packets mapped, the
 * reasons for the rest and the keys.
 */
function mapCapture(file: string, network: string): { mapped: number; unmapped: Record<string, number>; keys: Uint32Array[] } {
  const { endpoints } = nets[network]!;
  const r = readCaptureFile(file);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("; "));
  const rd = r.value;
  const keys: Uint32Array[] = [];
  const frames: { off: number; len: number; wire: number }[] = [];
  while (rd.next()) {
    const k = newKey();
    extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, k, 0, false);
    keys.push(k);
    frames.push({ off: rd.offset, len: rd.caplen, wire: rd.origlen });
  }
  expect(rd.error).toBeUndefined();
  const run = runMapper(endpoints, keys);
  const mapped = checkStructure(endpoints, run.plan, keys, run.out);
  const unmapped = run.mapper.unmapped();
  console.log(`${file} onto ${network}: ${keys.length} packets, ${mapped} mapped, unmapped ${JSON.stringify(unmapped)}; ${run.plan.connections} connections`);
  console.log(run.plan.describe().slice(0, 8).join("\n"));
  expect(mapped + Object.values(unmapped).reduce((a, b) => a + b, 0)).toBe(keys.length);

  // The frames themselves: rewritten to the mapped keys, they extract to them.
  const bytes = rd.data;
  const buf = new Uint8Array(70000);
  let checked = 0;
  run.out.forEach((o, i) => {
    if (o.inject < 0) return;
    const f = frames[i]!;
    const n = rewriteFrame(bytes, f.off, f.len, keys[i]!, o.key, buf);
    check(n > 0, () => `packet ${i}: rewriteFrame gave ${n}`);
    const back = newKey();
    extractKey(buf, 0, n, f.wire + (n - f.len), EXTRACT_LINK.ETHERNET, back, 0, false);
    for (let w: number = W.TUN_ID; w < W.PARSE; w++) check(back[w] === o.key[w], () => `packet ${i}: word ${w} is ${back[w]}, mapped ${o.key[w]}`);
    checked++;
  });
  expect(checked).toBe(mapped);
  return { mapped, unmapped, keys };
}

/** Packets of the families a network maps: IPv4 and ARP, and IPv6 but router ND where it is dual-stack. */
function mappable(keys: readonly Uint32Array[], v6: boolean): { ipOrArp: number; ipv6: number; routerNd: number } {
  const ipOrArp = keys.filter((k) => k[W.ETH_TYPE] === 0x0800 || k[W.ETH_TYPE] === 0x0806 || k[W.ETH_TYPE] === 0x8035).length;
  const six = keys.filter((k) => k[W.ETH_TYPE] === 0x86dd);
  const routerNd = six.filter((k) => (k[W.NW]! & 0xff) === 58 && [133, 134, 137].includes(k[W.TP]! >>> 16)).length;
  return { ipOrArp, ipv6: v6 ? six.length : 0, routerNd: v6 ? routerNd : 0 };
}

describe.skipIf(!haveComposite)("ndpi-composite-99k onto kube-ovn-default", () => {
  it("maps nearly every IPv4 and ARP packet, counted by reason, and rewritten frames extract to the mapped keys", () => {
    const { mapped, unmapped, keys } = mapCapture(COMPOSITE, "kube-ovn-default");
    // Independent counts: packets that are neither IPv4 nor ARP cannot map, and IPv6 is counted as
    // such.
    const { ipOrArp } = mappable(keys, false);
    expect(unmapped.ipv6 ?? 0).toBe(keys.filter((k) => k[W.ETH_TYPE] === 0x86dd).length);
    expect(mapped).toBeLessThanOrEqual(ipOrArp);
    expect(mapped).toBeGreaterThan(ipOrArp * 0.99);
  });
});

describe.each([
  ["ndpi-composite-99k", COMPOSITE],
  ["ndpi-reddit-ipv6", REDDIT],
])("%s onto kube-ovn-dual-stack", (_name, file) => {
  it.skipIf(!existsSync(file))("maps nearly every IPv4, ARP and IPv6 packet (not router ND), and rewritten frames extract to the mapped keys", () => {
    const { mapped, unmapped, keys } = mapCapture(file, "kube-ovn-dual-stack");
    const { ipOrArp, ipv6, routerNd } = mappable(keys, true);
    expect(ipv6).toBeGreaterThan(1000);
    expect(unmapped.ipv6 ?? 0).toBe(0);
    expect(unmapped["nd-router"] ?? 0).toBe(routerNd);
    expect(mapped).toBeLessThanOrEqual(ipOrArp + ipv6 - routerNd);
    expect(mapped).toBeGreaterThan((ipOrArp + ipv6 - routerNd) * 0.99);
  });
});

// ---------------------------------------------------------------------------------------------
// Mapping files (`--map FILE`, `--save-map`)

describe("mapping files", () => {
  /** A random trace of the property tests' kind, IPv4 and IPv6, ARP and ND included. */
  const sample = (seed: number): Uint32Array[] => traceKeys(fc.sample(traceArb, { numRuns: 1, seed })[0]!);
  const parse = (n: Net, text: string): MapChoices => {
    const r = parseMapFile(text, "m.yaml", n.endpoints);
    if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("; "));
    return r.value;
  };

  it.each(["kube-ovn-cluster", "kube-ovn-dual-stack", "localnet-vlan"])("on %s: a saved plan replayed from its file maps every packet as auto did", (name) => {
    const n = nets[name]!;
    let texts = "";
    // Every trace host a client of every other (so a server is reached by several clients, whose
    // pods exclude different candidates), over IPv4 and IPv6, then random traces.
    const pairs: SynConn[] = [];
    for (let c = 0; c < HOSTS.length; c++) for (let v = 0; v < HOSTS.length; v++) if (c !== v) pairs.push({ proto: 6, client: c, server: v, cport: 30000 + c, sport: 80, syn: true });
    const all = traceKeys({ conns: pairs, packets: pairs.flatMap((_, i) => (["ip", "ipv6"] as const).map((kind) => ({ conn: i, reply: false, later: false, vlan: 0, kind }))) });
    for (const seed of [1, 2, 3]) {
      const keys = [...all, ...sample(seed)];
      const auto = runMapper(n.endpoints, keys);
      const text = formatMapFile(auto.plan.choices, n.endpoints, ["test"]);
      texts += text;
      const again = runMapper(n.endpoints, keys, 0, parse(n, text));
      expect(again.plan.entries).toEqual(auto.plan.entries);
      expect(again.plan.unmappedConnections).toEqual(auto.plan.unmappedConnections);
      again.out.forEach((o, i) => {
        expect(o.inject).toBe(auto.out[i]!.inject);
        expect([...o.key]).toEqual([...auto.out[i]!.key]);
      });
    }
    // The files held servers of one client and of several (listed per client), IPv6 where mapped.
    expect(texts).toMatch(/ -> /);
    if (nets[name]!.endpoints.some((e) => e.ip6)) expect(texts).toMatch(/"\[[0-9a-f:]+\]"/);
  });

  it("puts a listed host on its pod and a listed server on its endpoint; unlisted ones as auto, or not at all", () => {
    const n = nets["kube-ovn-cluster"]!;
    const [c, s1, s2] = [HOSTS[0]!, HOSTS[1]!, HOSTS[2]!];
    const conns: SynConn[] = [
      { proto: 6, client: 0, server: 1, cport: 40000, sport: 443, syn: true },
      { proto: 17, client: 0, server: 2, cport: 40001, sport: 53, syn: false },
      { proto: 6, client: 3, server: 1, cport: 40002, sport: 443, syn: true },
    ];
    const packets: SynPacket[] = conns.flatMap((_, i) => [false, true].map((reply) => ({ conn: i, reply, later: false, vlan: 0, kind: "ip" as const })));
    const keys = traceKeys({ conns, packets });
    const file = [
      "ovnsimMap: 1",
      "hosts:",
      `  ${formatIpv4(c)}: api-1.apps`,
      "servers:",
      `  "${formatIpv4(s1)}:443/tcp": external 198.18.0.2`,
      `  "${formatIpv4(c)} -> ${formatIpv4(s2)}:53/udp": pod web-3.default`,
    ].join("\n");
    const r = runMapper(n.endpoints, keys, 0, parse(n, file));
    const ep = (name: string): Endpoint => n.endpoints.find((e) => e.name === name)!;
    const port = (o: { inject: number }): string => r.plan.injections[o.inject]!.portName;
    expect([r.out[0]!.key[W.NW_SRC], r.out[0]!.key[W.NW_DST], port(r.out[0]!)]).toEqual([ep("api-1.apps").ip, ip("198.18.0.2"), "api-1.apps"]);
    // The external's reply comes in at the node port of the client's chassis.
    expect(port(r.out[1]!)).toBe("node-node1");
    expect([r.out[2]!.key[W.NW_DST], port(r.out[3]!)]).toEqual([ep("web-3.default").ip, "web-3.default"]);
    // Another client of the listed server: the server as listed, the client as auto maps it.
    expect(r.out[4]!.key[W.NW_DST]).toBe(ip("198.18.0.2"));
    const auto = runMapper(n.endpoints, keys);
    expect(r.out[4]!.key[W.NW_SRC]).toBe(auto.out[4]!.key[W.NW_SRC]);
    // With unlisted: unmapped, the third connection (its client unlisted) is not mapped.
    const strict = runMapper(n.endpoints, keys, 0, parse(n, `${file}\nunlisted: unmapped`));
    expect(strict.out.map((o) => o.inject >= 0)).toEqual([true, true, true, true, false, false]);
    expect(strict.plan.unmappedConnections).toEqual({ "not-in-map": 1 });
  });

  it("refuses, per connection, a choice the connection cannot use", () => {
    const n = nets["kube-ovn-default"]!;
    const conns: SynConn[] = [
      { proto: 17, client: 0, server: 1, cport: 40000, sport: 53, syn: false }, // UDP onto a TCP VIP
      { proto: 6, client: 0, server: 2, cport: 40001, sport: 80, syn: true }, // onto the client's own pod
      { proto: 6, client: 0, server: 3, cport: 40002, sport: 80, syn: true }, // as listed
    ];
    const packets: SynPacket[] = conns.map((_, i) => ({ conn: i, reply: false, later: false, vlan: 0, kind: "ip" as const }));
    const h = (i: number): string => formatIpv4(HOSTS[i]!);
    const file = ["hosts:", `  ${h(0)}: web-1.default`, "servers:", `  "${h(1)}": service cluster-tcp-loadbalancer 10.96.0.10:80`, `  "${h(2)}:80/tcp": pod web-1.default`, `  "${h(3)}:80/tcp": pod web-2.default`].join("\n");
    const r = runMapper(n.endpoints, traceKeys({ conns, packets }), 0, parse(n, file));
    expect(r.out.map((o) => o.inject >= 0)).toEqual([false, false, true]);
    expect(r.plan.unmappedConnections).toEqual({ "map-refused": 2 });
  });

  it("reports each problem of a file on one line, with its line and column", () => {
    const n = nets["kube-ovn-default"]!;
    const bad = [
      "ovnsimMap: 2", // 1
      "hosts:", // 2
      "  10.0.0.300: web-1.default", // 3
      "  10.0.0.1: web-9.default", // 4
      "servers:", // 5
      "  10.0.0.2:80: pod web-1.default", // 6
      "  10.0.0.3:80/tcp: router r1", // 7
      "  10.0.0.4: service nope", // 8
      "  10.0.0.5:53/udp: [a, b]", // 9
      "unlisted: sometimes", // 10
      "extra: 1", // 11
    ].join("\n");
    const r = parseMapFile(bad, "m.yaml", n.endpoints);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags.map((d) => [d.code, d.loc?.line, d.loc?.column])).toEqual([
      ["map.version", 1, 12],
      ["map.host", 3, 3],
      ["map.pod", 4, 13],
      ["map.server", 6, 3],
      ["map.endpoint", 7, 20],
      ["map.endpoint", 8, 13],
      ["map.shape", 9, 20],
      ["map.unlisted", 10, 11],
      ["map.shape", 11, 1],
    ]);
    expect(r.diags[2]!.message).toMatch(/"web-9.default" is not a pod of the network; did you mean web-1\.default, web-2\.default or web-3\.default\?$/);
    const alias = parseMapFile("hosts:\n  10.0.0.1: &p web-1.default\n  10.0.0.2: *p\n", "m.yaml", n.endpoints);
    expect(alias.ok ? [] : alias.diags.map((d) => [d.message, d.loc?.line])).toEqual([["hosts.10.0.0.2: expected a name, not an alias (write the name itself)", 3]]);
    expect(r.diags.every((d) => !d.message.includes("\n"))).toBe(true);
    const syntax = parseMapFile("hosts:\n  a: [b\n", "m.yaml", n.endpoints);
    expect(syntax.ok ? [] : syntax.diags.map((d) => d.code)).toEqual(["map.yaml-syntax"]);
    const twice = parseMapFile('hosts:\n  "2001:db8::5": web-1.default\n  "[2001:db8:0::5]": web-2.default\n', "m.yaml", n.endpoints);
    expect(twice.ok ? [] : twice.diags.map((d) => [d.message, d.loc?.line])).toEqual([['hosts: "[2001:db8:0::5]" is listed twice ([2001:db8::5])', 3]]);
    const notMap = parseMapFile("- a\n", "m.yaml", n.endpoints);
    expect(notMap.ok ? [] : notMap.diags.map((d) => [d.code, d.loc?.line])).toEqual([["map.shape", 1]]);
  });
});
