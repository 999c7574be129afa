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
import type { LogicalProgram } from "../ofp/index.js";
import { readCaptureFile } from "../pcap/index.js";
import { loadNetworkFile } from "../scenario/index.js";
import { TraceMapper, networkEndpoints, type Endpoint, type MapPlan } from "./map.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const COMPOSITE = join(PCAPS, "bench/ndpi-composite-99k.pcap");
const haveComposite = existsSync(COMPOSITE);
if (!haveComposite) console.warn(`map: the real-trace test is skipped, ${COMPOSITE} is absent (set OVNSIM_PCAPS)`);

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

const NETS = ["kube-ovn-default", "network-policy"] as const;
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
    const pods = eps.filter((e) => e.kind === "pod").map((e) => `${e.name} ${formatIpv4(e.ip)}`);
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
    expect(eps.map((e) => formatIpv4(e.ip))).toEqual(["10.16.0.10", "10.16.0.11", "10.16.0.20", "10.16.0.21", "10.16.0.30", "10.16.0.40", "10.16.0.50"]);
  });

  it("kube-ovn-cluster: node ports are ways out, not pods; pods' gateways are the router ports", () => {
    const eps = nets["kube-ovn-cluster"]!.endpoints;
    expect(eps.some((e) => e.name.startsWith("node-"))).toBe(false);
    const web3 = eps.find((e) => e.name === "web-3.default")!;
    expect(web3.gateway).toEqual([0x0000, 0x00160001]); // ovn-cluster-ovn-default 00:00:00:16:00:01
    expect(web3.reachableFrom).toEqual(expect.arrayContaining(["ovn-default", "apps"]));
    const ext = eps.filter((e) => e.kind === "external");
    expect(ext.map((e) => e.name)).toEqual(["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"]);
    // From a pod on node2, packets of the outside enter at node2's node port, from its MAC to the router's join MAC.
    const acc = ext[0]!.access!.find((a) => a.switch === "ovn-default" && a.chassis === "node2")!;
    expect(acc.inject.portName).toBe("node-node2");
    expect(acc.fromMac).toEqual([0x0000, 0x00640003]);
    expect(acc.toMac).toEqual([0x0000, 0x00640001]);
  });

  it("localnet-vlan: external hosts at the top of the subnet, entering at the localnet port", () => {
    const ext = nets["localnet-vlan"]!.endpoints.filter((e) => e.kind === "external");
    expect(ext.map((e) => e.name)).toEqual(["172.17.0.254", "172.17.0.253", "172.17.0.252", "172.17.0.251"]);
    expect(ext.every((e) => e.access?.[0]?.inject.portName === "localnet.vlan100")).toBe(true);
    expect(ext[0]!.access![0]!.nextHopMac).toEqual([0x02ee, ip("172.17.0.254")]);
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic traces

const HOSTS = ["192.168.1.10", "192.168.1.11", "10.0.0.5", "10.0.0.6", "8.8.8.8", "127.0.0.1", "172.31.0.9", "203.0.113.7"].map(ip);
const GROUPS = [ip("224.0.0.251"), ip("255.255.255.255")];

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
  if (p.kind === "ipv6") {
    k[W.ETH_TYPE] = 0x86dd;
    k[W.IPV6_SRC + 3] = HOSTS[c.client]!;
    k[W.IPV6_DST + 3] = serverIp(c);
    k[W.NW] = c.proto | (64 << 16);
    k[W.PARSE] = parse | PARSE.L3;
    return k;
  }
  const src = p.reply ? serverIp(c) : HOSTS[c.client]!;
  const dst = p.reply ? HOSTS[c.client]! : serverIp(c);
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

function runMapper(endpoints: readonly Endpoint[], keys: readonly Uint32Array[], seed = 0): Run {
  const m = new TraceMapper(endpoints, { seed });
  for (const k of keys) m.observe(k);
  const plan = m.freeze();
  const out = keys.map((k) => {
    const c = k.slice();
    return { key: c, inject: m.map(c) };
  });
  return { plan, mapper: m, out };
}

function isGroup(a: number): boolean {
  return a >>> 28 === 0xe || a === 0xffffffff;
}

function ported(k: Uint32Array): boolean {
  const p = k[W.NW]! & 0xff;
  return (p === 6 || p === 17 || p === 132) && (k[W.PARSE]! & PARSE.L4) !== 0;
}

function macKey(hi: number, lo: number): string {
  return `${hi}:${lo}`;
}

/** What the network's endpoints allow a mapped packet to carry. */
function allowedOf(endpoints: readonly Endpoint[]): { ips: Set<number>; srcMacs: Set<string>; dstMacs: Set<string>; vips: Map<number, Endpoint> } {
  const ips = new Set<number>();
  const srcMacs = new Set<string>();
  const dstMacs = new Set<string>();
  const vips = new Map<number, Endpoint>();
  for (const e of endpoints) {
    ips.add(e.ip);
    if (e.mac) {
      srcMacs.add(macKey(...e.mac));
      dstMacs.add(macKey(...e.mac));
    }
    if (e.gateway) dstMacs.add(macKey(...e.gateway));
    if (e.kind === "service") vips.set(e.ip, e);
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
  return ported(k) ? `${p} ${k[W.NW_SRC]}:${k[W.TP]! >>> 16} > ${k[W.NW_DST]}:${k[W.TP]! & 0xffff}` : `${p} ${k[W.NW_SRC]} > ${k[W.NW_DST]}`;
}

function canonical(k: Uint32Array): string {
  const p = k[W.NW]! & 0xff;
  const a = `${k[W.NW_SRC]}:${ported(k) ? k[W.TP]! >>> 16 : 0}`;
  const b = `${k[W.NW_DST]}:${ported(k) ? k[W.TP]! & 0xffff : 0}`;
  return a < b ? `${p} ${a} ${b}` : `${p} ${b} ${a}`;
}

/** Fails the test with `message` unless `cond` (cheaper than `expect` in loops over 100k packets). */
function check(cond: boolean, message: () => string): void {
  if (!cond) expect.fail(message());
}

/**
 * The structural checks of the module comment, on (trace key, mapped key, injection) triples.
 * Returns the number of mapped packets.
 */
function checkStructure(endpoints: readonly Endpoint[], plan: MapPlan, keys: readonly Uint32Array[], out: Run["out"]): number {
  const allowed = allowedOf(endpoints);
  const podByIp = new Map(endpoints.filter((e) => e.kind === "pod").map((e) => [e.ip, e]));
  /** Trace directional tuple → mapped directional tuple (ported IPv4 packets). */
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
    const ctx = (): string => `packet ${i} ${tuple(k)} -> ${tuple(m)}`;
    if (et !== 0x0800 && et !== 0x0806) {
      check(inject === -1, () => `${ctx()}: mapped`);
      return;
    }
    if (inject < 0) return;
    mapped++;
    const inj = plan.injections[inject];
    check(inj !== undefined, () => `${ctx()}: injection ${inject}`);
    check(m[W.VLAN0] === 0 && m[W.VLAN1] === 0, () => `${ctx()}: tagged`);
    check(allowed.srcMacs.has(macKey(m[W.ETH_SRC]!, m[W.ETH_SRC + 1]!)), () => `${ctx()}: source MAC`);
    const srcPod = podByIp.get(m[W.NW_SRC]!);
    if (et === 0x0806) {
      // ARP: addresses of pods, sender pod's MAC, entering at the sender pod.
      for (const a of [m[W.NW_SRC]!, m[W.NW_DST]!]) check(a === 0 || podByIp.has(a), () => `${ctx()}: ARP address ${formatIpv4(a)}`);
      const sender = srcPod ?? podByIp.get(m[W.NW_DST]!)!;
      check(inj!.portName === sender.name, () => `${ctx()}: ARP enters at ${inj!.portName}`);
      check(m[W.ARP_SHA] === sender.mac![0] && m[W.ARP_SHA + 1] === sender.mac![1], () => `${ctx()}: ARP sender MAC`);
      return;
    }
    const src = m[W.NW_SRC]!;
    const dst = m[W.NW_DST]!;
    check(allowed.ips.has(src), () => `${ctx()}: source ${formatIpv4(src)}`);
    check(allowed.ips.has(dst) || isGroup(dst), () => `${ctx()}: destination ${formatIpv4(dst)}`);
    const dmac = macKey(m[W.ETH_DST]!, m[W.ETH_DST + 1]!);
    if (isGroup(dst)) check(dmac === macKey(k[W.ETH_DST]!, k[W.ETH_DST + 1]!), () => `${ctx()}: group MAC changed`);
    else check(allowed.dstMacs.has(dmac), () => `${ctx()}: destination MAC`);
    // The entry port is the mapped sender's: its pod, or for an outside host a way in.
    if (srcPod) check(inj!.portName === srcPod.name, () => `${ctx()}: enters at ${inj!.portName}`);
    else check(endpoints.some((e) => e.kind === "external" && e.ip === src && e.access!.some((a) => a.inject.portName === inj!.portName)), () => `${ctx()}: enters at ${inj!.portName}`);
    // Everything but addresses, ports, MACs and tags is kept.
    for (let w: number = W.ETH_TYPE; w <= W.PARSE; w++) {
      if (w === W.NW_SRC || w === W.NW_DST || w === W.TP) continue;
      check(m[w] === k[w], () => `${ctx()}: word ${w} changed`);
    }
    if (!ported(k)) {
      check(m[W.TP] === k[W.TP], () => `${ctx()}: ports of a portless packet changed`);
      const pk = `${k[W.NW]! & 0xff} ${k[W.NW_SRC]} > ${k[W.NW_DST]}`;
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
      if (r[W.NW_DST] !== f[W.NW_SRC] || rdp !== fsp) return false;
      if (r[W.NW_SRC] === f[W.NW_DST] && rsp === fdp) return true;
      // A service: the reply comes from the backend its load balancer picked.
      const svc = allowed.vips.get(f[W.NW_DST]!);
      return svc !== undefined && svc.port!.port === fdp && svc.lb!.backends.some((b) => b.ip[0] === r[W.NW_SRC] && (b.port ?? fdp) === rsp);
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
          if (k[W.ETH_TYPE] !== 0x0800) {
            rest.push(i);
            return;
          }
          const pair = `${k[W.NW]! & 0xff} ${[k[W.NW_SRC], k[W.NW_DST]].sort().join(" ")}`;
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
    expect(results.slice(1)).toEqual([-1, -1, -1, -1]);
    expect(m.unmapped()).toEqual({ ipv6: 1, "non-ip": 1, "not-observed": 1, malformed: 1 });
    expect(m.mapped()).toBe(1);
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

describe.each(["kube-ovn-default", "kube-ovn-cluster", "localnet-vlan"])("mapped traffic through the logical executor on %s", (name) => {
  const { net, program, endpoints } = nets[name]!;

  it("delivers every packet to the mapped destination, services to the backend the mapper expects", () => {
    const conns: SynConn[] = [];
    for (let i = 0; i < 40; i++) conns.push({ proto: i % 3 === 0 ? 17 : 6, client: i % HOSTS.length, server: (i * 5 + 3) % HOSTS.length, cport: 20000 + i, sport: [80, 53, 8080, 443][i % 4]!, syn: true });
    const packets: SynPacket[] = [];
    conns.forEach((_, i) => packets.push({ conn: i, reply: false, later: false, vlan: 0, kind: "ip" }, { conn: i, reply: true, later: false, vlan: 0, kind: "ip" }, { conn: i, reply: false, later: false, vlan: 0, kind: "ip" }));
    const keys = traceKeys({ conns, packets });
    const r = runMapper(endpoints, keys);
    const exec = new LogicalExecutor(program, { ct: { kind: "table" }, calls: portSecurityCalls(net, program), macBindings: traceInputs(net).macBindings });
    const vips = new Map(endpoints.filter((e) => e.kind === "service").map((e) => [e.ip, e]));
    const podByIp = new Map(endpoints.filter((e) => e.kind === "pod").map((e) => [e.ip, e]));
    const extIps = new Set(endpoints.filter((e) => e.kind === "external").map((e) => e.ip));
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
      const svc = vips.get(f.key[W.NW_DST]!);
      const outF = run(f);
      const replyEntry = r.plan.injections[rep.inject]!.portName;
      const ctx = `${tuple(f.key)} / ${tuple(rep.key)}: forward reached ${outF.map((o) => o.port).join(",")}`;
      expect(outF, ctx).toHaveLength(1);
      if (svc) {
        services++;
        // The load balancer picked the backend whose pod the replies come from.
        const be = podByIp.get(rep.key[W.NW_SRC]!)!;
        expect(outF[0]!.port, ctx).toBe(be.name);
        expect(outF[0]!.key[W.NW_DST], ctx).toBe(be.ip);
      } else if (extIps.has(f.key[W.NW_DST]!)) {
        externals++;
        // Out through the way the replies come back in.
        expect(outF[0]!.port, ctx).toBe(replyEntry);
      } else {
        expect(outF[0]!.port, ctx).toBe(podByIp.get(f.key[W.NW_DST]!)!.name);
      }
      const outR = run(rep);
      expect(outR.map((o) => o.port), ctx).toEqual([podByIp.get(f.key[W.NW_SRC]!)!.name]);
      // The client sees the reply from the address it sent to.
      expect([outR[0]!.key[W.NW_SRC], outR[0]!.key[W.TP]! >>> 16], ctx).toEqual([f.key[W.NW_DST], f.key[W.TP]! & 0xffff]);
      expect(run(f2).map((o) => o.port)).toEqual(outF.map((o) => o.port));
    }
    if (vips.size > 0) expect(services).toBeGreaterThan(0);
    if (extIps.size > 0) expect(externals).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// A real trace

describe.skipIf(!haveComposite)("ndpi-composite-99k onto kube-ovn-default", () => {
  it("maps nearly every IPv4 and ARP packet, counted by reason, and rewritten frames extract to the mapped keys", () => {
    const { endpoints } = nets["kube-ovn-default"]!;
    const r = readCaptureFile(COMPOSITE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
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
    const total = keys.length;
    console.log(`ndpi-composite-99k: ${total} packets, ${mapped} mapped, unmapped ${JSON.stringify(unmapped)}; ${run.plan.connections} connections`);
    console.log(run.plan.describe().slice(0, 8).join("\n"));
    expect(mapped + Object.values(unmapped).reduce((a, b) => a + b, 0)).toBe(total);
    // Independent counts: packets that are neither IPv4 nor ARP cannot map, and IPv6 is counted as such.
    const ipv6 = keys.filter((k) => k[W.ETH_TYPE] === 0x86dd).length;
    const ipOrArp = keys.filter((k) => k[W.ETH_TYPE] === 0x0800 || k[W.ETH_TYPE] === 0x0806 || k[W.ETH_TYPE] === 0x8035).length;
    expect(unmapped.ipv6 ?? 0).toBe(ipv6);
    expect(mapped).toBeLessThanOrEqual(ipOrArp);
    expect(mapped).toBeGreaterThan(ipOrArp * 0.99);

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
  });
});
