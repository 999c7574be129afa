/**
 * `replay --map auto`: laying a real trace onto a network.
 *
 * What: a captured trace has its own addresses, which a simulated network does not have. The
 * mapper rewrites each packet's key so that it travels between the network's endpoints (pods,
 * service VIPs, external addresses) instead, and says at which logical port it enters, while
 * keeping the trace's flow structure: the packets of one trace connection become the packets of
 * one mapped connection, in the same directions, and two trace connections never become one.
 *
 * Endpoints (`networkEndpoints`), IPv4 and IPv6: each family's packets are laid onto the
 * endpoints that have an address of that family (IPv6 packets stay unmapped, `ipv6`, where no pod
 * has an IPv6 address); link-local addresses are left out.
 * - pods: VIF switch ports with a MAC and an IPv4 or IPv6 address, except Kube-OVN node ports
 *   (`node-*` with a MAC and address, on a switch attached to a router) and VPC NAT gateway
 *   ports. A pod reaches the pods of its switch and of every switch attached to a router its
 *   switch is attached to (one router hop); its gateway is the router port on its switch whose
 *   network holds its address (else the first router port there).
 * - services: VIPs with a port of the load balancers attached to switches, IPv4 or IPv6, whose
 *   backends are all pods; reached from the pods of those switches. The backends and hash fields
 *   are those of the `ct_lb` action the compiled program has for the VIP, so the mapper knows
 *   which backend the dataplane's conntrack picks for a connection (`chooseBackend`).
 * - external addresses, where the network has a way in from outside:
 *   (a) a switch with a localnet port and an IPv4 subnet: hosts on the same provider segment, the
 *       highest free addresses of the subnet (`externalsPerEntry` of them), MAC `02:ee:` and the
 *       four address bytes; only that switch's pods reach them, directly on L2; their packets
 *       enter at the localnet port on the chassis of the pod they are sent to (the provider
 *       network delivers a frame where its destination MAC was learned: a frame that came in on
 *       another chassis would be sent back out the localnet port it came from, and dropped);
 *   (b) Kube-OVN node ports: hosts beyond the nodes, addresses 198.18.0.1 and up (RFC 2544's
 *       benchmarking range; IPv6 2001:2::1 and up, RFC 5180's, where a node port has an IPv6
 *       address), reached through their gateway by the pods of every switch without a
 *       localnet port attached to the router of the node ports' switch; their packets enter at
 *       the node port of the pod's chassis (else the first), from the node port's MAC to the
 *       router port's MAC.
 *   Without either, servers map to pods and services only.
 *
 * Rules (deterministic: the same trace, network and seed give the same plan; nothing depends on
 * how many workers replay it later):
 * - Connections are the trace's canonical bidirectional 5-tuples (protocol, both addresses, both
 *   ports) for TCP, UDP and SCTP packets with a transport header; other IPv4 packets (ICMP, GRE,
 *   ESP, ..., and fragments after the first, which carry no ports) belong to the first connection
 *   seen with their (protocol, address pair), or make one without ports; but an ICMP error whose
 *   quoted packet belongs to a connection of the plan is mapped with that connection, quoted
 *   packet included (`mapError`; its own pair still counts in the first pass). Connections are
 *   processed in order of first appearance; beyond that order (and which side sent a connection's
 *   first SYN), how the packets interleave does not matter.
 * - The client of a connection is the sender of its first TCP SYN without ACK if the trace has
 *   one, else the sender of its first packet (else the other side when that sender is a broadcast
 *   or multicast address). It maps to a pod chosen by a hash of the client address (with the
 *   seed), so one trace host is one pod wherever it is a client, and in ARP.
 * - The server maps, by a hash of (address, port, protocol), to one of the endpoints the client's
 *   pod reaches: services whose protocol and port kind match, pods other than the client's, and
 *   external addresses. A service keeps the VIP's port, the others the trace's server port. A
 *   broadcast or multicast destination is kept as it is (address and MAC).
 * - Client ports: the trace's client port is kept unless the mapped 5-tuple (or for a service,
 *   the 5-tuple between the client and the backend the load balancer will pick) is already used
 *   by an earlier connection, in either direction (or would make a hairpin, below); then the next
 *   free port from 32768 up (wrapping to 1024) is taken. So two different trace connections with
 *   ports never become the same mapped connection. Connections without ports (ICMP, other
 *   protocols) have no port to vary: two of them may share a mapped address pair.
 * - Replies get the reverse mapping. For a service, replies come from the backend the load
 *   balancer picks for the forward 5-tuple (its address and port, entering at its pod), as they do
 *   in a real cluster, and conntrack turns them back into the VIP. A client port for which the
 *   load balancer would pick the client's own pod is not used (the next free one is), and a
 *   service whose only backend is the client's pod is no candidate: where a hairpinned
 *   connection's replies go depends on the dataplane's hairpin SNAT, which the mapper leaves out.
 * - MACs: the source MAC is the sending pod's; the destination is the receiving pod's MAC when it
 *   is on the same switch, else the sender's gateway MAC; for a service without a gateway, the MAC
 *   of the backend pod the load balancer picks. External hosts use their access's MACs. VLAN tags
 *   are removed (pods send untagged frames). TTL, TOS, TCP flags and ICMP type/code are kept.
 * - ARP: the sender and target addresses map to their hosts' pods (an ARP probe, sender 0.0.0.0,
 *   comes from the target's pod); the sender MAC and the frame's source become the sender pod's
 *   MAC, a unicast destination and a target MAC that is neither zero nor broadcast the target
 *   pod's; the packet enters at the sender pod. Where the target's pod is on another switch, the
 *   target is the sender's gateway instead (its address on the sender's subnet, its MAC): hosts
 *   on one segment in the trace may be pods of two subnets, and a pod resolves only its own
 *   segment's addresses, its gateway's among them. Where two trace hosts became one pod, the
 *   target is the next pod of the sender's switch (a pod does not resolve its own address).
 * - IPv6 is mapped by the same rules, its trace addresses numbered in the first pass (a
 *   connection's key holds the numbers) and its mapped addresses kept in a table of their own.
 *   Neighbour solicitations and advertisements are mapped as ARP is (`mapNd`); ICMPv6 errors with
 *   the connection they quote, as ICMP errors are (`mapError`).
 *
 * Unmapped packets (`map` returns -1 and counts the reason): `non-ip` (not IPv4, IPv6 or ARP),
 * `ipv6` (the network has no pod with an IPv6 address), `malformed` (IP or ARP without extracted
 * L3 fields), `not-observed` (its connection was not in the first pass), `no-server` (the client's
 * pod reaches no other endpoint), `ports-exhausted`, `broadcast-source` (a reply from a broadcast
 * or multicast address, or a connection between two such addresses), `no-pods`, `nd-router`
 * (router solicitations and advertisements, redirects: the network's routers send their own),
 * `not-in-map` and `map-refused` (below).
 *
 * Mapping files (`MapChoices`, map-file.ts): the pod of a trace host and the endpoint of a trace
 * server can be chosen by name instead of by hash; the rules above still place ports, MACs,
 * replies and entry ports. A listed server may be any endpoint, reachable by the rule above or
 * not (the dataplane then says what happens); a choice the connection cannot use is refused
 * (`map-refused`); hosts and servers the choices do not list get auto's choice, or with
 * `unlisted: unmapped` no mapping (`not-in-map`). `MapPlan.choices` holds a plan's choices by
 * name, which a mapping file of them reproduces exactly.
 *
 * Hot path: `map` allocates nothing and builds no strings: an open-addressing table over typed
 * arrays finds the connection, and the plan's per-connection words are copied into the key.
 */
import { cidrContains, formatIpv4, formatIpv6, hashAdd, hashFinish, ipv4FromBytes, ipv4InPrefix, ipv4Mask, parseCidr, parseIpv4, parseIpv6, parseMac, type Cidr } from "../base/index.js";
import { ICMP_ERROR, chooseBackend, tupleOf, type IcmpMessage } from "../dataplane/index.js";
import { PARSE, W, newKey, type FieldDef } from "../flow/index.js";
import { parseLbEndpoint, type Network } from "../model/index.js";
import { allRules, type Backend, type CtLbAction, type LogicalProgram } from "../ofp/index.js";

/** A MAC as the key holds it: the high 16 bits, then the low 32. */
export type MacWords = readonly [hi16: number, lo32: number];

/** An IPv6 address as the key holds it: four words, most significant first. */
export type Ip6Words = readonly [number, number, number, number];

/** Where a packet enters the logical network. */
export interface EntryPort {
  readonly datapath: number;
  readonly inport: number;
  readonly portName: string;
  /** A localnet port's chassis: where the provider network hands the packet in (undefined: any). */
  readonly chassis?: string;
}

/** How the pods of one switch reach an external address. */
export interface ExternalAccess {
  /** The switch whose pods use this access. */
  readonly switch: string;
  /** The chassis whose pods prefer it (node ports are per node); undefined for any. */
  readonly chassis?: string;
  /** Where the external host's packets enter. */
  readonly inject: EntryPort;
  /** Source MAC of the entering packets. */
  readonly fromMac: MacWords;
  /** Their destination MAC; undefined: the destination pod's own MAC (same segment). */
  readonly toMac?: MacWords;
  /** Destination MAC of pod packets to the host; undefined: the pod's gateway. */
  readonly nextHopMac?: MacWords;
}

/** What the network offers to a mapped trace. */
export interface Endpoint {
  readonly kind: "pod" | "service" | "external";
  /** The switch port for pods, "LB-NAME IP:PORT" for services, the address for externals. */
  readonly name: string;
  /** IPv4 address (a VIP for services); undefined for an endpoint of IPv6 alone. */
  readonly ip?: number;
  /** IPv6 address (a VIP for services); undefined for an endpoint of IPv4 alone. */
  readonly ip6?: Ip6Words;
  /** Pods: the pod's MAC. */
  readonly mac?: MacWords;
  /** Services: the VIP's protocol and port. */
  readonly port?: { readonly proto: number; readonly port: number };
  /** Pods: where the pod's packets enter. */
  readonly inject?: EntryPort;
  /** Pods: the switch. */
  readonly switch?: string;
  /** Pods: the chassis the port is bound to. */
  readonly chassis?: string;
  /** Pods: the MAC of the pod's gateway (a router port on its switch). */
  readonly gateway?: MacWords;
  /** Pods: the gateway's IPv4 address on the pod's subnet, where its port has one. */
  readonly gatewayIp?: number;
  /** Pods: the gateway's IPv6 address on the pod's IPv6 subnet, where its port has one. */
  readonly gatewayIp6?: Ip6Words;
  /** The switches whose pods reach this endpoint. */
  readonly reachableFrom: readonly string[];
  /** Services: the backends of the VIP's `ct_lb` and its hash fields. */
  readonly lb?: { readonly backends: readonly Backend[]; readonly hashFields?: readonly FieldDef[] };
  /** Externals: the ways in and out. */
  readonly access?: readonly ExternalAccess[];
}

/** Why a packet (or a connection) was not mapped. */
export const Unmapped = {
  NON_IP: "non-ip",
  IPV6: "ipv6",
  MALFORMED: "malformed",
  NOT_OBSERVED: "not-observed",
  NO_SERVER: "no-server",
  PORTS_EXHAUSTED: "ports-exhausted",
  BROADCAST_SOURCE: "broadcast-source",
  NO_PODS: "no-pods",
  ND_ROUTER: "nd-router",
  NOT_IN_MAP: "not-in-map",
  MAP_REFUSED: "map-refused",
} as const;
export type Unmapped = (typeof Unmapped)[keyof typeof Unmapped];

const REASONS: readonly Unmapped[] = [
  Unmapped.NON_IP,
  Unmapped.IPV6,
  Unmapped.MALFORMED,
  Unmapped.NOT_OBSERVED,
  Unmapped.NO_SERVER,
  Unmapped.PORTS_EXHAUSTED,
  Unmapped.BROADCAST_SOURCE,
  Unmapped.NO_PODS,
  Unmapped.ND_ROUTER,
  Unmapped.NOT_IN_MAP,
  Unmapped.MAP_REFUSED,
];
const R_NON_IP = 1;
const R_IPV6 = 2;
const R_MALFORMED = 3;
const R_NOT_OBSERVED = 4;
const R_NO_SERVER = 5;
const R_PORTS_EXHAUSTED = 6;
const R_BROADCAST_SOURCE = 7;
const R_NO_PODS = 8;
const R_ND_ROUTER = 9;
const R_NOT_IN_MAP = 10;
const R_MAP_REFUSED = 11;

/**
 * `hostPod` results that are no pod: unlisted in a mapping file that maps only what it lists, or
 * listed onto a pod without an address of the host's family.
 */
const HOST_NOT_IN_MAP = -1;
const HOST_REFUSED = -2;

/**
 * Choices that replace `--map auto`'s hashes (a mapping file, map-file.ts), by name: the pod of a
 * trace host (its address as the plan prints it), the endpoint of a trace server
 * (`ADDR:PORT/PROTO`, `ADDR PROTO` without ports, or `ADDR` for any), or of a server for one
 * client host (`HOST -> SERVER`, which comes first). `unlisted`: what hosts and servers the
 * choices do not name get, auto's choice or no mapping (`not-in-map`).
 */
export interface MapChoices {
  readonly hosts: ReadonlyMap<string, string>;
  readonly servers: ReadonlyMap<string, string>;
  readonly unlisted: "auto" | "unmapped";
}

// ---------------------------------------------------------------------------------------------
// Endpoints of a network

const KUBE_BENCH_BASE = 0xc6120000; // 198.18.0.0
const KUBE_BENCH_BASE6 = 0x20010002; // 2001:2::/48, RFC 5180's benchmarking range
const DEFAULT_EXTERNALS = 4;

function macWords(text: string): MacWords | undefined {
  const b = parseMac(text);
  if (!b) return undefined;
  return [(b[0]! << 8) | b[1]!, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

/** IPv6 bytes as key words. */
function words6(b: Uint8Array): Ip6Words {
  const w = (i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** An IPv6 address's words as text, for maps keyed by address. */
function text6(a: Ip6Words): string {
  return a.join(",");
}

/** Key words of an IPv6 address as its 16 bytes. */
function bytes6(a: Ip6Words): Uint8Array {
  const b = new Uint8Array(16);
  a.forEach((w, i) => {
    b[4 * i] = w >>> 24;
    b[4 * i + 1] = (w >>> 16) & 0xff;
    b[4 * i + 2] = (w >>> 8) & 0xff;
    b[4 * i + 3] = w & 0xff;
  });
  return b;
}

const LINK_LOCAL6 = parseCidr("fe80::/10")!;

/**
 * The MAC of the first "MAC IP..." entry of a port's addresses that has an address, with that
 * entry's first IPv4 and first IPv6 address (link-local ones left out).
 */
function macAndIp(addresses: readonly string[]): { mac: MacWords; ip?: number; ip6?: Ip6Words } | undefined {
  for (const a of addresses) {
    const [m, ...ips] = a.trim().split(/\s+/);
    const mac = m === undefined ? undefined : macWords(m);
    if (!mac) continue;
    let ip: number | undefined;
    let ip6: Ip6Words | undefined;
    for (const t of ips) {
      const v4 = parseIpv4(t);
      const v6 = v4 === undefined ? parseIpv6(t) : undefined;
      if (v4 !== undefined) ip ??= v4;
      else if (v6 && !cidrContains(LINK_LOCAL6, v6)) ip6 ??= words6(v6);
    }
    if (ip !== undefined || ip6 !== undefined) return { mac, ...(ip !== undefined ? { ip } : {}), ...(ip6 ? { ip6 } : {}) };
  }
  return undefined;
}

interface RouterLink {
  readonly router: string;
  readonly mac: MacWords;
  /** IPv4 networks of the router port: [network, prefix length, own address]. */
  readonly nets: readonly (readonly [number, number, number])[];
  /** IPv6 networks of the router port. */
  readonly nets6: readonly Cidr[];
}

function ipv6Nets(networks: readonly string[]): Cidr[] {
  return networks.map(parseCidr).filter((c): c is Cidr => c?.family === 6);
}

function ipv4Nets(networks: readonly string[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const n of networks) {
    const c = parseCidr(n);
    if (c?.family !== 4) continue;
    const a = ipv4FromBytes(c.addr);
    out.push([(a & ipv4Mask(c.prefixLen)) >>> 0, c.prefixLen, a]);
  }
  return out;
}

/** The `exclude_ips` of a switch (addresses and `A..B` ranges) as a test. */
function excludedTest(text: string | undefined): (ip: number) => boolean {
  const ranges: [number, number][] = [];
  for (const part of (text ?? "").split(/\s+/)) {
    if (part === "") continue;
    const [a, b] = part.split("..");
    const lo = parseIpv4(a ?? "");
    const hi = b === undefined ? lo : parseIpv4(b);
    if (lo !== undefined && hi !== undefined) ranges.push([lo, hi]);
  }
  return (ip) => ranges.some(([lo, hi]) => ip >= lo && ip <= hi);
}

/** Whether a match holds `ip` (IPv4, or IPv6 words) exactly as its destination address. */
function matchesDst(m: { readonly mask: Uint32Array; readonly value: Uint32Array }, ip: number | Ip6Words): boolean {
  if (typeof ip === "number") return m.mask[W.NW_DST] === 0xffffffff && m.value[W.NW_DST] === ip;
  for (let i = 0; i < 4; i++) if (m.mask[W.IPV6_DST + i] !== 0xffffffff || m.value[W.IPV6_DST + i] !== ip[i]) return false;
  return true;
}

/** The `ct_lb` of a VIP in a switch's ingress pipeline (matched on its address, port and protocol). */
function findCtLb(program: LogicalProgram, switchName: string, lbName: string, vip: number | Ip6Words, port: number, proto: number): CtLbAction | undefined {
  const dp = program.datapaths.get(program.datapathByName.get(switchName) ?? -1);
  if (!dp) return undefined;
  for (const r of allRules(dp.ingress)) {
    if (r.provenance.origin !== `loadBalancers[${lbName}]`) continue;
    const a = r.actions.find((x): x is CtLbAction => x.kind === "ct_lb");
    if (!a) continue;
    const m = r.match;
    if (!matchesDst(m, vip)) continue;
    if ((m.mask[W.TP]! & 0xffff) !== 0xffff || (m.value[W.TP]! & 0xffff) !== port) continue;
    if ((m.mask[W.NW]! & 0xff) !== 0xff || (m.value[W.NW]! & 0xff) !== proto) continue;
    return a;
  }
  return undefined;
}

const PROTO_OF: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/**
 * The endpoints `net` offers (see the module comment): pods, then services, then external
 * addresses, each group in the network's order. `externalsPerEntry` external addresses are made
 * per way in (default 4).
 */
export function networkEndpoints(net: Network, program: LogicalProgram, externalsPerEntry = DEFAULT_EXTERNALS): Endpoint[] {
  // Switches and the router ports on them.
  const links = new Map<string, RouterLink[]>();
  const switchesOfRouter = new Map<string, string[]>();
  for (const ls of net.switches.values()) {
    const list: RouterLink[] = [];
    for (const p of ls.ports.values()) {
      if (p.type !== "router") continue;
      const rpName = p.options.get("router-port");
      if (rpName === undefined) continue;
      const lr = net.routers.find((r) => r.ports.has(rpName));
      const rp = lr?.ports.get(rpName);
      const mac = rp ? macWords(rp.mac) : undefined;
      if (!lr || !rp || !mac) continue;
      list.push({ router: lr.name, mac, nets: ipv4Nets(rp.networks.toArray()), nets6: ipv6Nets(rp.networks.toArray()) });
      const sw = switchesOfRouter.get(lr.name) ?? [];
      if (!sw.includes(ls.name)) sw.push(ls.name);
      switchesOfRouter.set(lr.name, sw);
    }
    links.set(ls.name, list);
  }
  const injectionOf = (name: string): EntryPort | undefined => {
    const p = program.portByName.get(name);
    return p ? { datapath: p.datapath, inport: p.key, portName: name } : undefined;
  };

  // Kube-OVN node ports: the way in from beyond the nodes.
  const nodePorts: { name: string; switch: string; router: string; mac: MacWords; ip?: number; ip6?: Ip6Words; chassis: string | undefined; inject: EntryPort }[] = [];
  for (const ls of net.switches.values()) {
    const link = links.get(ls.name)![0];
    if (!link) continue;
    for (const p of ls.ports.values()) {
      if (p.type !== "" || !p.name.startsWith("node-")) continue;
      const a = macAndIp(p.addresses.toArray());
      const inject = injectionOf(p.name);
      if (a && inject) nodePorts.push({ name: p.name, switch: ls.name, router: link.router, mac: a.mac, ...(a.ip !== undefined ? { ip: a.ip } : {}), ...(a.ip6 ? { ip6: a.ip6 } : {}), chassis: p.chassis, inject });
    }
  }
  const natGwPorts = new Set(net.natGateways.valueSeq().map((g) => g.lanPort));
  const skip = new Set([...nodePorts.map((n) => n.name), ...natGwPorts]);

  // Pods.
  const pods: Endpoint[] = [];
  const podByIp = new Map<number, Endpoint>();
  const podByIp6 = new Map<string, Endpoint>();
  for (const ls of net.switches.values()) {
    const reach = new Set([ls.name]);
    for (const l of links.get(ls.name)!) for (const s of switchesOfRouter.get(l.router) ?? []) reach.add(s);
    for (const s of nodePorts) reach.delete(s.switch);
    const nodeSwitch = nodePorts.some((n) => n.switch === ls.name);
    for (const p of ls.ports.values()) {
      if (p.type !== "" || skip.has(p.name)) continue;
      const found = macAndIp(p.addresses.toArray());
      const inject = injectionOf(p.name);
      if (!found || !inject) continue;
      // An address another pod already has is left out (the pod too, when that leaves it none).
      const ip = found.ip !== undefined && !podByIp.has(found.ip) ? found.ip : undefined;
      const ip6 = found.ip6 && !podByIp6.has(text6(found.ip6)) ? found.ip6 : undefined;
      if (ip === undefined && !ip6) continue;
      const rl = links.get(ls.name)!;
      const gw = rl.find((l) => (ip !== undefined && l.nets.some(([n, len]) => ipv4InPrefix(ip, n, len))) || (ip6 !== undefined && l.nets6.some((c) => cidrContains(c, bytes6(ip6))))) ?? rl[0];
      const gwIp = ip !== undefined ? gw?.nets.find(([n, len]) => ipv4InPrefix(ip, n, len))?.[2] : undefined;
      const gwNet6 = ip6 ? gw?.nets6.find((c) => cidrContains(c, bytes6(ip6))) : undefined;
      const pod: Endpoint = {
        kind: "pod",
        name: p.name,
        ...(ip !== undefined ? { ip } : {}),
        ...(ip6 ? { ip6 } : {}),
        mac: found.mac,
        inject,
        switch: ls.name,
        ...(p.chassis !== undefined ? { chassis: p.chassis } : {}),
        ...(gw ? { gateway: gw.mac } : {}),
        ...(gwIp !== undefined ? { gatewayIp: gwIp } : {}),
        ...(gwNet6 ? { gatewayIp6: words6(gwNet6.addr) } : {}),
        reachableFrom: nodeSwitch ? [ls.name] : [...reach],
      };
      pods.push(pod);
      if (ip !== undefined) podByIp.set(ip, pod);
      if (ip6) podByIp6.set(text6(ip6), pod);
    }
  }

  // Services: VIPs with a port on switches with pods, whose backends are all pods.
  const services = new Map<string, { ep: Omit<Endpoint, "reachableFrom">; from: string[] }>();
  for (const ls of net.switches.values()) {
    if (!pods.some((p) => p.switch === ls.name)) continue;
    for (const lbName of ls.loadBalancers) {
      const lb = net.loadBalancers.get(lbName);
      if (!lb) continue;
      const proto = PROTO_OF[lb.protocol]!;
      for (const vipText of lb.vips.keys()) {
        const v = parseLbEndpoint(vipText);
        if (typeof v === "string" || v.port === undefined) continue;
        const v6 = v.family === 6;
        const vip: number | Ip6Words = v6 ? words6(parseIpv6(v.ip)!) : parseIpv4(v.ip)!;
        const act = findCtLb(program, ls.name, lb.name, vip, v.port, proto);
        if (!act || act.backends.length === 0) continue;
        if (!act.backends.every((b) => (v6 ? b.ip.length === 4 && podByIp6.has(text6(b.ip as unknown as Ip6Words)) : b.ip.length === 1 && podByIp.has(b.ip[0]!)))) continue;
        const name = v6 ? `${lb.name} [${v.ip}]:${v.port}` : `${lb.name} ${v.ip}:${v.port}`;
        const have = services.get(name);
        if (have) {
          have.from.push(ls.name);
          continue;
        }
        const lbInfo = { backends: act.backends, ...(act.hashFields ? { hashFields: act.hashFields } : {}) };
        services.set(name, { ep: { kind: "service", name, ...(typeof vip === "number" ? { ip: vip } : { ip6: vip }), port: { proto, port: v.port }, lb: lbInfo }, from: [ls.name] });
      }
    }
  }

  // External addresses.
  const externals: Endpoint[] = [];
  const used = new Set<number>(pods.flatMap((p) => (p.ip !== undefined ? [p.ip] : [])));
  for (const l of links.values()) for (const r of l) for (const [, , own] of r.nets) used.add(own);
  for (const pn of net.providerNetworks.values()) {
    for (const g of pn.gateways) {
      const c = parseCidr(g.address);
      if (c?.family === 4) used.add(ipv4FromBytes(c.addr));
    }
  }
  for (const ls of net.switches.values()) {
    const ln = [...ls.ports.values()].find((p) => p.type === "localnet");
    const subnet = parseCidr(ls.otherConfig.get("subnet")?.split(",")[0] ?? "");
    const inject = ln ? injectionOf(ln.name) : undefined;
    if (!ln || !inject || subnet?.family !== 4 || subnet.prefixLen > 30 || !pods.some((p) => p.switch === ls.name && p.ip !== undefined)) continue;
    const excluded = excludedTest(ls.otherConfig.get("exclude_ips"));
    // The chassis on the provider network: each hands in the frames for its own pods.
    const network = ln.options.get("network_name") ?? "";
    const segment = [...net.chassis.values()].filter((c) => c.bridgeMappings.has(network)).map((c) => c.name);
    const bcast = (ipv4FromBytes(subnet.addr) | ~ipv4Mask(subnet.prefixLen)) >>> 0;
    const netAddr = (ipv4FromBytes(subnet.addr) & ipv4Mask(subnet.prefixLen)) >>> 0;
    let found = 0;
    for (let ip = bcast - 1; ip > netAddr && found < externalsPerEntry && bcast - ip <= 1024; ip--) {
      if (used.has(ip) || excluded(ip)) continue;
      used.add(ip);
      found++;
      const mac: MacWords = [0x02ee, ip >>> 0];
      const access: ExternalAccess[] = segment.map((chassis) => ({ switch: ls.name, chassis, inject: { ...inject, chassis }, fromMac: mac, nextHopMac: mac }));
      if (access.length === 0) access.push({ switch: ls.name, inject, fromMac: mac, nextHopMac: mac });
      externals.push({ kind: "external", name: formatIpv4(ip), ip, reachableFrom: [ls.name], access });
    }
  }
  if (nodePorts.length > 0) {
    const access: ExternalAccess[] = [];
    const from: string[] = [];
    for (const n of nodePorts) {
      const joinLink = links.get(n.switch)!.find((l) => l.router === n.router)!;
      for (const s of switchesOfRouter.get(n.router) ?? []) {
        // Underlay subnets (with a localnet port) leave through the provider network instead.
        const sw = net.switches.get(s);
        if (nodePorts.some((x) => x.switch === s) || !pods.some((p) => p.switch === s) || sw?.ports.some((p) => p.type === "localnet")) continue;
        if (!from.includes(s)) from.push(s);
        access.push({ switch: s, ...(n.chassis !== undefined ? { chassis: n.chassis } : {}), inject: n.inject, fromMac: n.mac, toMac: joinLink.mac });
      }
    }
    if (access.length > 0 && nodePorts.some((n) => n.ip !== undefined)) {
      let ip = KUBE_BENCH_BASE;
      for (let i = 0; i < externalsPerEntry; i++) {
        do ip++;
        while (used.has(ip));
        used.add(ip);
        externals.push({ kind: "external", name: formatIpv4(ip), ip, reachableFrom: from, access });
      }
    }
    if (access.length > 0 && nodePorts.some((n) => n.ip6 !== undefined)) {
      for (let i = 1; i <= externalsPerEntry; i++) {
        const ip6: Ip6Words = [KUBE_BENCH_BASE6, 0, 0, i];
        externals.push({ kind: "external", name: `2001:2::${i.toString(16)}`, ip6, reachableFrom: from, access });
      }
    }
  }
  return [...pods, ...[...services.values()].map((s) => ({ ...s.ep, reachableFrom: s.from })), ...externals];
}

// ---------------------------------------------------------------------------------------------
// The connection table: open addressing over 4-word keys

/** Tags in the first key word: a connection with ports, or an address pair. */
const TAG_PORTS = 0x100;
const TAG_PAIR = 0x200;

class WordTable {
  private keys: Int32Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    this.keys = new Int32Array(capacity * 4);
    this.vals = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
  }

  private slot(a: number, b: number, c: number, d: number): number {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const h = hashFinish(hashAdd(hashAdd(hashAdd(hashAdd(0, a), b), c), d), 16);
    let i = h & this.mask;
    for (;;) {
      if (this.vals[i] === -1) return i;
      const k = i * 4;
      if (this.keys[k] === a && this.keys[k + 1] === b && this.keys[k + 2] === c && this.keys[k + 3] === d) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(a: number, b: number, c: number, d: number): number {
    return this.vals[this.slot(a, b, c, d)]!;
  }

  set(a: number, b: number, c: number, d: number, v: number): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow();
    const i = this.slot(a, b, c, d);
    if (this.vals[i] === -1) this.size++;
    const k = i * 4;
    this.keys[k] = a;
    this.keys[k + 1] = b;
    this.keys[k + 2] = c;
    this.keys[k + 3] = d;
    this.vals[i] = v;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Int32Array(keys.length * 2);
    this.vals = new Int32Array(vals.length * 2).fill(-1);
    this.mask = vals.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < vals.length; i++) if (vals[i] !== -1) this.set(keys[i * 4]!, keys[i * 4 + 1]!, keys[i * 4 + 2]!, keys[i * 4 + 3]!, vals[i]!);
  }
}

/** A growable column of u32s. */
class Column {
  data = new Uint32Array(1024);
  push(i: number, v: number): void {
    if (i >= this.data.length) {
      const d = new Uint32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[i] = v;
  }
}

// Per-connection words of the frozen plan.
const C_STATUS = 0;
const C_CLIENT_IP = 1;
const C_CLIENT_PORT = 2;
const C_FLAGS = 3;
const C_FWD = 4;
const C_REV = 12;
const STRIDE = 20;
// Offsets inside one direction's 8 words.
const D_SRC = 0;
const D_DST = 1;
const D_TP = 2;
const D_SMAC_HI = 3;
const D_SMAC_LO = 4;
const D_DMAC_HI = 5;
const D_DMAC_LO = 6;
const D_INJECT = 7;
/** Flags: the connection has ports; the forward destination MAC is kept. */
const F_PORTS = 1;
const F_KEEP_DMAC = 2;
const NO_INJECT = 0xffffffff;

const W_ETH_TYPE = W.ETH_TYPE;
const W_NW = W.NW;
const W_NW_SRC = W.NW_SRC;
const W_NW_DST = W.NW_DST;
const W_TP = W.TP;
const W_TCP_FLAGS = W.TCP_FLAGS;
const W_PARSE = W.PARSE;
const W_ETH_DST = W.ETH_DST;
const W_ETH_SRC = W.ETH_SRC;
const W_VLAN0 = W.VLAN0;
const W_VLAN1 = W.VLAN1;
const W_ARP_SHA = W.ARP_SHA;
const W_ARP_THA = W.ARP_THA;
const P_L3 = PARSE.L3;
const P_L4 = PARSE.L4;

const W_IPV6_SRC = W.IPV6_SRC;
const W_IPV6_DST = W.IPV6_DST;
const W_ND_TARGET = W.ND_TARGET;
const PROTO_ICMP6 = 58;
const ND_NS = 135;
const ND_NA = 136;
/** Tag in the first key word: an IPv6 connection (its addresses are the first pass's numbers). */
const TAG_V6 = 0x400;
/** Added to a mapped IPv6 address's index to name it in tuple texts apart from any IPv4 address. */
const HANDLE6 = 2 ** 32;
const NO_ADDR = 0xffffffff;

/** ICMPv6 neighbour discovery: router solicitation (133) to redirect (137). */
function isNdType(type: number): boolean {
  return type >= 133 && type <= 137;
}

/** IPv6 words as RFC 5952 text. */
/** Whether the key's IPv6 addresses at words `a` and `b` are equal. */
function sameWords6(key: Uint32Array, a: number, b: number): boolean {
  return key[a] === key[b] && key[a + 1] === key[b + 1] && key[a + 2] === key[b + 2] && key[a + 3] === key[b + 3];
}

function formatWords6(a: Ip6Words): string {
  return formatIpv6(bytes6(a));
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** How `TraceMapper.decide` handles the addresses of one family (see `TraceMapper.family`). */
interface Family {
  readonly v6: boolean;
  /** An endpoint's address as the plan holds it. */
  readonly handle: (e: Endpoint) => number;
  /** A plan address as text. */
  readonly text: (h: number) => string;
  /** A trace address (IPv6: its first-pass number) as text. */
  readonly traceText: (h: number) => string;
  /** Whether a trace address is broadcast or multicast. */
  readonly isGroup: (h: number) => boolean;
  /** Indexes of the pods with an address of the family. */
  readonly pods: readonly number[];
  /** Per switch: what its pods reach in the family. */
  readonly candidates: ReadonlyMap<string, readonly Endpoint[]>;
  /** A plan address as a number for tuple texts (distinct across families). */
  readonly tuple: (h: number) => number;
}

function isGroupAddr(ip: number): boolean {
  return ip >>> 28 === 0xe || ip === 0xffffffff;
}

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132;
}

function tupleText(proto: number, a: number, ap: number, b: number, bp: number): string {
  return a < b || (a === b && ap <= bp) ? `${proto}|${a}:${ap}|${b}:${bp}` : `${proto}|${b}:${bp}|${a}:${ap}`;
}

function protoName(p: number): string {
  return p === 6 ? "tcp" : p === 17 ? "udp" : p === 132 ? "sctp" : p === 1 ? "icmp" : `proto ${p}`;
}

/** One line of the plan's table: a trace address (and port) and what it became. */
export interface PlanEntry {
  readonly trace: string;
  readonly mapped: string;
}

/** What a plan chose, as a mapping file states it (map-file.ts). */
export interface PlanChoices {
  /** Trace host → pod name, in order of first appearance. */
  readonly hosts: ReadonlyMap<string, string>;
  /** Trace server → (client host → endpoint name), in order of first appearance. */
  readonly servers: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** The mapping decided after the first pass; `describe()` prints it. */
export class MapPlan {
  readonly endpoints: readonly Endpoint[];
  /** Where mapped packets enter; `TraceMapper.map` returns indexes into it. */
  readonly injections: readonly EntryPort[];
  /** Connections seen in the first pass. */
  readonly connections: number;
  /** Connections that map. */
  readonly mappedConnections: number;
  /** Connections that do not map, by reason. */
  readonly unmappedConnections: Readonly<Record<string, number>>;
  /** Client hosts and servers with what they became, in order of first appearance. */
  readonly entries: readonly PlanEntry[];
  /** The same choices by name (`--save-map`). */
  readonly choices: PlanChoices;

  constructor(endpoints: readonly Endpoint[], injections: readonly EntryPort[], connections: number, mappedConnections: number, unmappedConnections: Readonly<Record<string, number>>, entries: readonly PlanEntry[], choices: PlanChoices) {
    this.endpoints = endpoints;
    this.injections = injections;
    this.connections = connections;
    this.mappedConnections = mappedConnections;
    this.unmappedConnections = unmappedConnections;
    this.entries = entries;
    this.choices = choices;
  }

  /** The endpoint table as text lines (`trace IP[:port] -> name`), after a summary line. */
  describe(): string[] {
    const kinds = (k: Endpoint["kind"]): number => this.endpoints.filter((e) => e.kind === k).length;
    const un = Object.entries(this.unmappedConnections)
      .map(([r, n]) => `${n} ${r}`)
      .join(", ");
    const lines = [
      `endpoints: ${kinds("pod")} pods, ${kinds("service")} services, ${kinds("external")} external addresses; connections: ${this.connections}, mapped ${this.mappedConnections}${un ? ` (unmapped: ${un})` : ""}`,
    ];
    for (const e of this.entries) lines.push(`trace ${e.trace} -> ${e.mapped}`);
    return lines;
  }
}

/**
 * Maps the packets of a trace onto a network: `observe` every packet's key (first pass), `freeze`,
 * then `map` every packet's key again (second pass). See the module comment for the rules.
 */
export class TraceMapper {
  private readonly endpoints: readonly Endpoint[];
  private readonly seed: number;
  private readonly pods: Endpoint[];
  private readonly podIndex = new Map<Endpoint, number>();
  private readonly podByIp = new Map<number, Endpoint>();
  private readonly podByIp6 = new Map<string, Endpoint>();
  /** Indexes into `pods` of the pods with an IPv4 address, and with an IPv6 one. */
  private readonly pods4: number[] = [];
  private readonly pods6: number[] = [];
  /** Per switch: the endpoints its pods reach over IPv4, and over IPv6. */
  private readonly candidates = new Map<string, Endpoint[]>();
  private readonly candidates6 = new Map<string, Endpoint[]>();
  private readonly injections: EntryPort[] = [];
  private readonly injectionIndex = new Map<string, number>();
  /** Per pod: injection index, MAC words (for ARP and ND, on the hot path). */
  private readonly podInject: Uint32Array;
  private readonly podMac: Uint32Array;
  private readonly podIp: Uint32Array;
  /**
   * Per pod: its switch (a number), its gateway's IPv4 address (0: none), the index of its IPv6
   * one in `mapped6` (NO_ADDR: none) and the gateway's MAC words.
   */
  private readonly podSwitch: Uint32Array;
  private readonly podGwIp: Uint32Array;
  private readonly podGw6: Uint32Array;
  private readonly podGwMac: Uint32Array;
  /**
   * Per pod: the next pod of its switch (in the network's order, wrapping) with an IPv4 address,
   * and with an IPv6 one; the pod itself where there is none.
   */
  private readonly podPeer4: Uint32Array;
  private readonly podPeer6: Uint32Array;
  /** Per pod: the index of its IPv6 address in `mapped6`, or NO_ADDR. */
  private readonly podAddr6: Uint32Array;

  /** Trace IPv6 addresses: their words → a number of their own (first pass), and back. */
  private readonly traceIds6 = new WordTable(256);
  private readonly traceAddr6 = new Column();
  private nTrace6 = 0;
  /** Mapped IPv6 addresses, four words each: the endpoints', then group addresses kept. */
  private mapped6 = new Uint32Array(64);
  private nMapped6 = 0;
  private readonly mappedIndex6 = new Map<string, number>();

  private readonly table = new WordTable();
  private n = 0;
  private readonly proto = new Column();
  private readonly ipA = new Column();
  private readonly ipB = new Column();
  private readonly ports = new Column();
  /** Bit 0: the first packet came from side B; bit 1: a SYN was seen; bit 2: it came from B; bit 3: ports; bit 4: IPv6. */
  private readonly order = new Column();

  private plan: MapPlan | undefined;
  private family4: Family | undefined;
  private family6: Family | undefined;
  private conn = new Uint32Array(0);
  private mappedCount = 0;
  private readonly unmappedCount = new Float64Array(REASONS.length + 1);

  /**
   * A mapping file's choices (`MapChoices`), resolved: the pod index of a listed trace host
   * (HOST_REFUSED where that pod has no address of the host's family), by IPv4 address or by IPv6
   * words; listed servers' endpoints; and whether unlisted hosts and servers get auto's choice.
   */
  private readonly chosenHost4: Map<number, number> | undefined;
  private readonly chosenHost6: WordTable | undefined;
  private readonly chosenServers: Map<string, Endpoint> | undefined;
  private readonly mapsUnlisted: boolean;

  constructor(endpoints: readonly Endpoint[], opts: { seed?: number; choices?: MapChoices } = {}) {
    this.endpoints = endpoints;
    this.seed = opts.seed ?? 0;
    this.pods = endpoints.filter((e) => e.kind === "pod" && e.inject !== undefined && e.mac !== undefined && (e.ip !== undefined || e.ip6 !== undefined));
    this.pods.forEach((p, i) => {
      this.podIndex.set(p, i);
      if (p.ip !== undefined && !this.podByIp.has(p.ip)) this.podByIp.set(p.ip, p);
      if (p.ip6 && !this.podByIp6.has(text6(p.ip6))) this.podByIp6.set(text6(p.ip6), p);
      if (p.ip !== undefined) this.pods4.push(i);
      if (p.ip6) this.pods6.push(i);
    });
    for (const e of endpoints) {
      if (e.kind === "service" && !e.lb?.backends.every((b) => this.backendPod(b) !== undefined)) continue;
      if (e.ip !== undefined) for (const s of e.reachableFrom) push(this.candidates, s, e);
      if (e.ip6) for (const s of e.reachableFrom) push(this.candidates6, s, e);
      if (e.ip6) this.mappedId6(e.ip6);
    }
    this.podInject = new Uint32Array(this.pods.length);
    this.podMac = new Uint32Array(this.pods.length * 2);
    this.podIp = new Uint32Array(this.pods.length);
    this.podAddr6 = new Uint32Array(this.pods.length).fill(NO_ADDR);
    this.podSwitch = new Uint32Array(this.pods.length);
    this.podGwIp = new Uint32Array(this.pods.length);
    this.podGw6 = new Uint32Array(this.pods.length).fill(NO_ADDR);
    this.podGwMac = new Uint32Array(this.pods.length * 2);
    const switchIds = new Map<string, number>();
    this.pods.forEach((p, i) => {
      this.podInject[i] = this.injectionOf(p.inject!);
      this.podMac[2 * i] = p.mac![0];
      this.podMac[2 * i + 1] = p.mac![1];
      this.podIp[i] = p.ip ?? 0;
      if (p.ip6) this.podAddr6[i] = this.mappedIndex6.get(text6(p.ip6))!;
      const sw = p.switch ?? "";
      if (!switchIds.has(sw)) switchIds.set(sw, switchIds.size);
      this.podSwitch[i] = switchIds.get(sw)!;
      if (p.gateway) {
        this.podGwIp[i] = p.gatewayIp ?? 0;
        if (p.gatewayIp6) this.podGw6[i] = this.mappedId6(p.gatewayIp6);
        this.podGwMac[2 * i] = p.gateway[0];
        this.podGwMac[2 * i + 1] = p.gateway[1];
      }
    });
    const peer = (i: number, has: (p: Endpoint) => boolean): number => {
      for (let k = 1; k < this.pods.length; k++) {
        const j = (i + k) % this.pods.length;
        if (this.podSwitch[j] === this.podSwitch[i] && has(this.pods[j]!)) return j;
      }
      return i;
    };
    this.podPeer4 = Uint32Array.from(this.pods, (_, i) => peer(i, (p) => p.ip !== undefined));
    this.podPeer6 = Uint32Array.from(this.pods, (_, i) => peer(i, (p) => p.ip6 !== undefined));
    for (const e of endpoints) for (const a of e.access ?? []) this.injectionOf(a.inject);
    const ch = opts.choices;
    this.mapsUnlisted = ch === undefined || ch.unlisted === "auto";
    if (ch !== undefined) {
      this.chosenHost4 = new Map();
      this.chosenHost6 = new WordTable(64);
      for (const [host, podName] of ch.hosts) {
        const pi = this.pods.findIndex((p) => p.name === podName);
        if (pi < 0) throw new Error(`mapping: ${podName} is not a pod of the network`);
        const v4 = parseIpv4(host);
        const v6 = v4 === undefined ? parseIpv6(host.replace(/^\[|\]$/g, "")) : undefined;
        if (v4 !== undefined) this.chosenHost4.set(v4, this.pods[pi]!.ip !== undefined ? pi : HOST_REFUSED);
        else if (v6) {
          const w = words6(v6);
          this.chosenHost6.set(w[0], w[1], w[2], w[3], this.pods[pi]!.ip6 ? pi : HOST_REFUSED);
        } else throw new Error(`mapping: ${host} is not an address`);
      }
      this.chosenServers = new Map();
      for (const [server, name] of ch.servers) {
        const e = endpoints.find((x) => x.name === name);
        if (!e) throw new Error(`mapping: ${name} is not an endpoint of the network`);
        this.chosenServers.set(server, e);
      }
    }
  }

  private injectionOf(inj: EntryPort): number {
    const name = inj.chassis === undefined ? inj.portName : `${inj.portName}@${inj.chassis}`;
    const have = this.injectionIndex.get(name);
    if (have !== undefined) return have;
    this.injections.push(inj);
    this.injectionIndex.set(name, this.injections.length - 1);
    return this.injections.length - 1;
  }

  /** The pod a load balancer's backend is, if it is one. */
  private backendPod(b: Backend): Endpoint | undefined {
    return b.ip.length === 1 ? this.podByIp.get(b.ip[0]!) : b.ip.length === 4 ? this.podByIp6.get(text6(b.ip as unknown as Ip6Words)) : undefined;
  }

  /** The index of an IPv6 address among the mapped ones, added on first sight. */
  private mappedId6(a: Ip6Words): number {
    const have = this.mappedIndex6.get(text6(a));
    if (have !== undefined) return have;
    if ((this.nMapped6 + 1) * 4 > this.mapped6.length) {
      const m = new Uint32Array(this.mapped6.length * 2);
      m.set(this.mapped6);
      this.mapped6 = m;
    }
    this.mapped6.set(a, this.nMapped6 * 4);
    this.mappedIndex6.set(text6(a), this.nMapped6);
    return this.nMapped6++;
  }

  /** A mapped IPv6 address's words. */
  private mapped6At(i: number): Ip6Words {
    const m = this.mapped6;
    return [m[4 * i]!, m[4 * i + 1]!, m[4 * i + 2]!, m[4 * i + 3]!];
  }

  /** A trace IPv6 address's words, by its number. */
  private trace6At(id: number): Ip6Words {
    const d = this.traceAddr6.data;
    return [d[4 * id]!, d[4 * id + 1]!, d[4 * id + 2]!, d[4 * id + 3]!];
  }

  /** The number of the trace IPv6 address at `w` in `key`, made on first sight when `add`; -1 if unseen. */
  private traceId6(key: Uint32Array, w: number, add: boolean): number {
    const a = key[w]!;
    const b = key[w + 1]!;
    const c = key[w + 2]!;
    const d = key[w + 3]!;
    let id = this.traceIds6.get(a, b, c, d);
    if (id < 0 && add) {
      id = this.nTrace6++;
      this.traceIds6.set(a, b, c, d, id);
      this.traceAddr6.push(4 * id, a);
      this.traceAddr6.push(4 * id + 1, b);
      this.traceAddr6.push(4 * id + 2, c);
      this.traceAddr6.push(4 * id + 3, d);
    }
    return id;
  }

  // -------------------------------------------------------------------------------------------
  // First pass

  /** First pass: sees one packet's key (from `extractKey`). */
  observe(key: Uint32Array): void {
    if (this.plan) throw new Error("TraceMapper.observe after freeze");
    const et = key[W_ETH_TYPE]!;
    if ((key[W_PARSE]! & P_L3) === 0) return;
    const v6 = et === 0x86dd;
    // IPv6 only where some pod has an IPv6 address (elsewhere IPv6 is unmapped, not a connection).
    if (!(et === 0x0800 || (v6 && this.pods6.length > 0))) return;
    const proto = key[W_NW]! & 0xff;
    if (v6 && proto === PROTO_ICMP6 && isNdType(key[W_TP]! >>> 16)) return; // neighbour discovery: mapped as ARP is
    const src = v6 ? this.traceId6(key, W_IPV6_SRC, true) : key[W_NW_SRC]!;
    const dst = v6 ? this.traceId6(key, W_IPV6_DST, true) : key[W_NW_DST]!;
    const ported = hasPorts(proto) && (key[W_PARSE]! & P_L4) !== 0;
    const sport = ported ? key[W_TP]! >>> 16 : 0;
    const dport = ported ? key[W_TP]! & 0xffff : 0;
    const srcIsA = src < dst || (src === dst && sport <= dport);
    const a = srcIsA ? src : dst;
    const b = srcIsA ? dst : src;
    const pa = srcIsA ? sport : dport;
    const pb = srcIsA ? dport : sport;
    const tp = proto | (v6 ? TAG_V6 : 0);
    let c: number;
    if (ported) {
      c = this.table.get(tp | TAG_PORTS, a, b, ((pa << 16) | pb) >>> 0);
      if (c < 0) {
        c = this.newConn(proto, a, b, pa, pb, srcIsA, true, v6);
        this.table.set(tp | TAG_PORTS, a, b, ((pa << 16) | pb) >>> 0, c);
        if (this.table.get(tp | TAG_PAIR, a, b, 0) < 0) this.table.set(tp | TAG_PAIR, a, b, 0, c);
      }
      if (proto === 6 && (key[W_TCP_FLAGS]! & 0x12) === 0x02 && (this.order.data[c]! & 2) === 0) {
        this.order.data[c] = this.order.data[c]! | 2 | (srcIsA ? 0 : 4);
      }
    } else {
      c = this.table.get(tp | TAG_PAIR, a, b, 0);
      if (c < 0) {
        c = this.newConn(proto, a, b, 0, 0, srcIsA, false, v6);
        this.table.set(tp | TAG_PAIR, a, b, 0, c);
      }
    }
  }

  private newConn(proto: number, a: number, b: number, pa: number, pb: number, srcIsA: boolean, ported: boolean, v6: boolean): number {
    const c = this.n++;
    this.proto.push(c, proto);
    this.ipA.push(c, a);
    this.ipB.push(c, b);
    this.ports.push(c, ((pa << 16) | pb) >>> 0);
    this.order.push(c, (srcIsA ? 0 : 1) | (ported ? 8 : 0) | (v6 ? 16 : 0));
    return c;
  }

  /** The pod (index into `pods`) of a trace IPv4 host, or HOST_NOT_IN_MAP, HOST_REFUSED. */
  private hostPod(ip: number): number {
    const chosen = this.chosenHost4?.get(ip);
    if (chosen !== undefined) return chosen;
    if (!this.mapsUnlisted) return HOST_NOT_IN_MAP;
    const h = hashFinish(hashAdd(hashAdd(this.seed | 0, 0x686f7374), ip), 8);
    return this.pods4[(h >>> 0) % this.pods4.length]!;
  }

  /** The pod (index into `pods`) of a trace IPv6 host, by its address's words; or as `hostPod`. */
  private hostPod6(a: number, b: number, c: number, d: number): number {
    if (this.chosenHost6 !== undefined) {
      const chosen = this.chosenHost6.get(a, b, c, d);
      if (chosen !== -1) return chosen;
      if (!this.mapsUnlisted) return HOST_NOT_IN_MAP;
    }
    const h = hashFinish(hashAdd(hashAdd(hashAdd(hashAdd(hashAdd(this.seed | 0, 0x686f3674), a), b), c), d), 20);
    return this.pods6[(h >>> 0) % this.pods6.length]!;
  }

  // -------------------------------------------------------------------------------------------
  // Freezing: one decision per connection

  /** After the first pass: decides every connection's mapping. */
  freeze(): MapPlan {
    if (this.plan) return this.plan;
    const n = this.n;
    const conn = new Uint32Array(n * STRIDE);
    const used = new Set<string>();
    const cursors = new Map<string, number>();
    const unmapped: Record<string, number> = {};
    const entries: PlanEntry[] = [];
    const hostSeen = new Set<string>();
    const serverSeen = new Set<string>();
    const choices = { hosts: new Map<string, string>(), servers: new Map<string, Map<string, string>>() };
    const scratch = newKey();
    let mapped = 0;
    for (let c = 0; c < n; c++) {
      const base = c * STRIDE;
      const status = this.decide(c, conn, base, used, cursors, scratch, entries, hostSeen, serverSeen, choices);
      conn[base + C_STATUS] = status;
      if (status === 0) mapped++;
      else unmapped[REASONS[status - 1]!] = (unmapped[REASONS[status - 1]!] ?? 0) + 1;
    }
    this.conn = conn;
    this.plan = new MapPlan(this.endpoints, this.injections, n, mapped, unmapped, entries, choices);
    return this.plan;
  }

  /**
   * How a connection of one family names an address in the plan: IPv4 by itself, IPv6 by its index
   * in `mapped6` (as a plan word), and as text.
   */
  private family(v6: boolean): Family {
    return v6 ? (this.family6 ??= this.makeFamily(true)) : (this.family4 ??= this.makeFamily(false));
  }

  private makeFamily(v6: boolean): Family {
    if (!v6) {
      return {
        v6,
        handle: (e) => e.ip!,
        text: (h) => formatIpv4(h),
        traceText: (h) => formatIpv4(h),
        isGroup: isGroupAddr,
        pods: this.pods4,
        candidates: this.candidates,
        tuple: (h) => h,
      };
    }
    return {
      v6,
      handle: (e) => this.mappedIndex6.get(text6(e.ip6!))!,
      text: (h) => `[${formatWords6(this.mapped6At(h))}]`,
      traceText: (id) => `[${formatWords6(this.trace6At(id))}]`,
      isGroup: (id) => this.trace6At(id)[0] >>> 24 === 0xff,
      pods: this.pods6,
      candidates: this.candidates6,
      // Tuples of IPv6 connections are kept apart from IPv4 ones by a number no IPv4 address has.
      tuple: (h) => HANDLE6 + h,
    };
  }

  private decide(
    c: number,
    conn: Uint32Array,
    base: number,
    used: Set<string>,
    cursors: Map<string, number>,
    scratch: Uint32Array,
    entries: PlanEntry[],
    hostSeen: Set<string>,
    serverSeen: Set<string>,
    choices: { hosts: Map<string, string>; servers: Map<string, Map<string, string>> },
  ): number {
    if (this.pods.length === 0) return R_NO_PODS;
    const proto = this.proto.data[c]!;
    const order = this.order.data[c]!;
    const fam = this.family((order & 16) !== 0);
    if (fam.pods.length === 0) return R_NO_PODS;
    let clientIsB = (order & 2) !== 0 ? (order & 4) !== 0 : (order & 1) !== 0;
    const a = this.ipA.data[c]!;
    const b = this.ipB.data[c]!;
    const pa = this.ports.data[c]! >>> 16;
    const pb = this.ports.data[c]! & 0xffff;
    if (fam.isGroup(clientIsB ? b : a)) clientIsB = !clientIsB;
    const cIp = clientIsB ? b : a;
    const cPort = clientIsB ? pb : pa;
    const sIp = clientIsB ? a : b;
    const sPort = clientIsB ? pa : pb;
    if (fam.isGroup(cIp)) return R_BROADCAST_SOURCE;
    const ported = (order & 8) !== 0;
    conn[base + C_CLIENT_IP] = cIp;
    conn[base + C_CLIENT_PORT] = cPort;
    conn[base + C_FLAGS] = ported ? F_PORTS : 0;
    let pi: number;
    if (fam.v6) {
      const w = this.trace6At(cIp);
      pi = this.hostPod6(w[0], w[1], w[2], w[3]);
    } else pi = this.hostPod(cIp);
    if (pi < 0) return pi === HOST_REFUSED ? R_MAP_REFUSED : R_NOT_IN_MAP;
    const pod = this.pods[pi]!;
    const podIp = fam.handle(pod);
    const hostText = fam.traceText(cIp);
    if (!hostSeen.has(hostText)) {
      hostSeen.add(hostText);
      entries.push({ trace: hostText, mapped: `pod ${pod.name} (${fam.text(podIp)})` });
      choices.hosts.set(hostText, pod.name);
    }
    const fwd = base + C_FWD;
    const rev = base + C_REV;
    conn[fwd + D_SRC] = podIp;
    conn[fwd + D_SMAC_HI] = pod.mac![0];
    conn[fwd + D_SMAC_LO] = pod.mac![1];
    conn[fwd + D_INJECT] = this.podInject[pi]!;
    conn[rev + D_DST] = podIp;
    conn[rev + D_INJECT] = NO_INJECT;
    const sText = fam.traceText(sIp);
    const serverKey = ported ? `${sText}:${sPort}/${protoName(proto)}` : `${sText} ${protoName(proto)}`;

    // A broadcast or multicast destination stays as it is.
    if (fam.isGroup(sIp)) {
      const kept = fam.v6 ? this.mappedId6(this.trace6At(sIp)) : sIp;
      const cp = ported ? this.allocatePort(proto, fam.tuple(podIp), cPort, fam.tuple(kept), sPort, undefined, used, cursors) : 0;
      if (cp < 0) return R_PORTS_EXHAUSTED;
      conn[fwd + D_DST] = kept;
      conn[fwd + D_TP] = ((cp << 16) | sPort) >>> 0;
      conn[base + C_FLAGS] = conn[base + C_FLAGS]! | F_KEEP_DMAC;
      if (!serverSeen.has(serverKey)) {
        serverSeen.add(serverKey);
        entries.push({ trace: serverKey, mapped: "kept (broadcast or multicast)" });
      }
      return 0;
    }

    const usable = (e: Endpoint): boolean => e !== pod && (e.kind !== "service" || (ported && e.port!.proto === proto && e.lb!.backends.some((b) => this.backendPod(b) !== pod)));
    let server: Endpoint;
    const chosen = this.chosenServers?.get(`${hostText} -> ${serverKey}`) ?? this.chosenServers?.get(serverKey) ?? this.chosenServers?.get(sText);
    if (chosen !== undefined) {
      // As the file says, where the connection can use it.
      const reaches = chosen.kind !== "external" || chosen.access!.some((x) => x.switch === pod.switch);
      const backends = chosen.kind !== "service" || chosen.lb!.backends.every((b) => this.backendPod(b) !== undefined);
      if (!usable(chosen) || !reaches || !backends || (fam.v6 ? !chosen.ip6 : chosen.ip === undefined)) return R_MAP_REFUSED;
      server = chosen;
    } else {
      if (!this.mapsUnlisted) return R_NOT_IN_MAP;
      const list = (fam.candidates.get(pod.switch!) ?? []).filter(usable);
      if (list.length === 0) return R_NO_SERVER;
      const sHash = fam.v6 ? this.trace6At(sIp).reduce((h, w) => hashAdd(h, w), 0x36) : sIp;
      const h = hashFinish(hashAdd(hashAdd(hashAdd(hashAdd(this.seed | 0, 0x73727672), sHash), sPort), proto), 16);
      server = list[(h >>> 0) % list.length]!;
    }
    let perHost = choices.servers.get(serverKey);
    if (perHost === undefined) choices.servers.set(serverKey, (perHost = new Map()));
    if (!perHost.has(hostText)) perHost.set(hostText, server.name);
    const serverIp = fam.handle(server);
    const dPort = server.kind === "service" ? server.port!.port : sPort;
    const label = server.kind === "service" ? `service ${server.name}` : server.kind === "pod" ? `pod ${server.name} (${fam.text(serverIp)})${ported ? `:${dPort}` : ""}` : `external ${server.name}${ported ? `:${dPort}` : ""}`;
    const key = `${serverKey}\u0000${label}`;
    if (!serverSeen.has(key)) {
      serverSeen.add(key);
      entries.push({ trace: serverKey, mapped: label });
    }
    conn[fwd + D_DST] = serverIp;

    if (server.kind === "service") return this.decideService(fam, conn, base, proto, pod, cPort, server, used, cursors, scratch);

    const cp = ported ? this.allocatePort(proto, fam.tuple(podIp), cPort, fam.tuple(serverIp), dPort, undefined, used, cursors) : cPort;
    if (cp < 0) return R_PORTS_EXHAUSTED;
    conn[fwd + D_TP] = ((cp << 16) | dPort) >>> 0;
    conn[rev + D_SRC] = serverIp;
    conn[rev + D_TP] = ((dPort << 16) | cp) >>> 0;
    if (server.kind === "pod") {
      const sameSwitch = server.switch === pod.switch;
      const toServer = sameSwitch ? server.mac! : (pod.gateway ?? server.mac!);
      const toClient = sameSwitch ? pod.mac! : (server.gateway ?? pod.mac!);
      this.putMacs(conn, fwd, pod.mac!, toServer);
      this.putMacs(conn, rev, server.mac!, toClient);
      conn[rev + D_INJECT] = this.podInject[this.podIndex.get(server)!]!;
      return 0;
    }
    // External.
    const acc = server.access?.find((x) => x.switch === pod.switch && x.chassis === pod.chassis) ?? server.access?.find((x) => x.switch === pod.switch);
    if (!acc) return R_NO_SERVER;
    this.putMacs(conn, fwd, pod.mac!, acc.nextHopMac ?? pod.gateway ?? acc.fromMac);
    this.putMacs(conn, rev, acc.fromMac, acc.toMac ?? pod.mac!);
    conn[rev + D_INJECT] = this.injectionOf(acc.inject);
    return 0;
  }

  private decideService(fam: Family, conn: Uint32Array, base: number, proto: number, pod: Endpoint, cPort: number, svc: Endpoint, used: Set<string>, cursors: Map<string, number>, scratch: Uint32Array): number {
    const fwd = base + C_FWD;
    const rev = base + C_REV;
    const vport = svc.port!.port;
    // The backend the load balancer picks for this client port; a port whose backend would be the
    // client's own pod is refused (no hairpin; see the module comment).
    const pick = (cp: number): { pod: Endpoint; ip: number; port: number } | undefined => {
      scratch.fill(0);
      scratch[W_NW] = proto;
      if (fam.v6) {
        scratch[W_ETH_TYPE] = 0x86dd;
        scratch.set(pod.ip6!, W_IPV6_SRC);
        scratch.set(svc.ip6!, W_IPV6_DST);
      } else {
        scratch[W_ETH_TYPE] = 0x0800;
        scratch[W_NW_SRC] = pod.ip!;
        scratch[W_NW_DST] = svc.ip!;
      }
      scratch[W_TP] = ((cp << 16) | vport) >>> 0;
      scratch[W_ETH_SRC] = pod.mac![0];
      scratch[W_ETH_SRC + 1] = pod.mac![1];
      const t = tupleOf(scratch);
      const backend = t ? chooseBackend(scratch, t, svc.lb!.backends, svc.lb!.hashFields) : undefined;
      const bpod = backend ? this.backendPod(backend) : undefined;
      if (!backend || !bpod || bpod === pod) return undefined;
      return { pod: bpod, ip: fam.handle(bpod), port: backend.port !== undefined && backend.port !== 0 ? backend.port : vport };
    };
    const other = (cp: number): { ip: number; port: number } | undefined => {
      const be = pick(cp);
      return be ? { ip: fam.tuple(be.ip), port: be.port } : undefined;
    };
    const cp = this.allocatePort(proto, fam.tuple(fam.handle(pod)), cPort, fam.tuple(fam.handle(svc)), vport, other, used, cursors);
    if (cp < 0) return R_PORTS_EXHAUSTED;
    const be = pick(cp)!;
    const bpod = be.pod;
    // Without a gateway the frame goes straight to the backend the load balancer picks.
    conn[fwd + D_TP] = ((cp << 16) | vport) >>> 0;
    this.putMacs(conn, fwd, pod.mac!, pod.gateway ?? bpod.mac!);
    conn[rev + D_SRC] = be.ip;
    conn[rev + D_TP] = ((be.port << 16) | cp) >>> 0;
    this.putMacs(conn, rev, bpod.mac!, bpod.switch === pod.switch ? pod.mac! : (bpod.gateway ?? pod.mac!));
    conn[rev + D_INJECT] = this.podInject[this.podIndex.get(bpod)!]!;
    return 0;
  }

  private putMacs(conn: Uint32Array, at: number, src: MacWords, dst: MacWords): void {
    conn[at + D_SMAC_HI] = src[0];
    conn[at + D_SMAC_LO] = src[1];
    conn[at + D_DMAC_HI] = dst[0];
    conn[at + D_DMAC_LO] = dst[1];
  }

  /**
   * A client port for (proto, client, server:port): the trace's port when the mapped 5-tuple is
   * free, else the next free one from 32768 (wrapping to 1024). With `other`, the 5-tuple between
   * the client and the load balancer's backend for that port must be free too. -1 when none is.
   */
  private allocatePort(
    proto: number,
    cip: number,
    want: number,
    sip: number,
    sport: number,
    other: ((cp: number) => { ip: number; port: number } | undefined) | undefined,
    used: Set<string>,
    cursors: Map<string, number>,
  ): number {
    const free = (cp: number): boolean => {
      if (used.has(tupleText(proto, cip, cp, sip, sport))) return false;
      if (!other) return true;
      const be = other(cp);
      return be !== undefined && !used.has(tupleText(proto, cip, cp, be.ip, be.port));
    };
    const take = (cp: number): number => {
      used.add(tupleText(proto, cip, cp, sip, sport));
      const be = other?.(cp);
      if (be) used.add(tupleText(proto, cip, cp, be.ip, be.port));
      return cp;
    };
    if (want !== 0 && free(want)) return take(want);
    const group = `${proto}|${cip}|${sip}|${sport}`;
    let cur = cursors.get(group) ?? 32768 - 1024;
    for (let i = 0; i < 64512; i++) {
      const cp = 1024 + (cur % 64512);
      cur++;
      if (cp !== want && free(cp)) {
        cursors.set(group, cur);
        return take(cp);
      }
    }
    cursors.set(group, cur);
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Second pass

  /**
   * Second pass: rewrites `key` in place into the mapped packet (packet words only; metadata is
   * the caller's) and returns the index of its injection in `plan.injections`, or -1 when the
   * packet cannot be mapped (counted; see `unmapped()`). `icmp`, the packet's ICMP message as
   * conntrack reads it: an error's quoted packet is mapped too (see `mapError`).
   */
  map(key: Uint32Array, icmp?: IcmpMessage): number {
    const r = icmp !== undefined && icmp.kind === ICMP_ERROR ? this.mapError(key, icmp) : key[W_ETH_TYPE] === 0x86dd ? this.mapOne6(key) : this.mapOne(key);
    if (r >= 0) this.mappedCount++;
    return r;
  }

  /**
   * The plan's connection of a packet (by its canonical 5-tuple, or without ports its address
   * pair), or -1. `tp` is the protocol, with TAG_V6 for IPv6 (whose addresses are trace numbers).
   */
  private connectionOf(tp: number, ported: boolean, src: number, dst: number, sport: number, dport: number): number {
    const srcIsA = src >>> 0 < dst >>> 0 || (src === dst && sport <= dport);
    const a = srcIsA ? src : dst;
    const b = srcIsA ? dst : src;
    return ported ? this.table.get(tp | TAG_PORTS, a | 0, b | 0, srcIsA ? (sport << 16) | dport : (dport << 16) | sport) : this.table.get(tp | TAG_PAIR, a | 0, b | 0, 0);
  }

  private miss(reason: number): number {
    this.unmappedCount[reason] = this.unmappedCount[reason]! + 1;
    return -1;
  }

  private mapOne(key: Uint32Array): number {
    if (!this.plan) throw new Error("TraceMapper.map before freeze");
    const et = key[W_ETH_TYPE]!;
    if (et === 0x0806 || et === 0x8035) return this.mapArp(key);
    if (et !== 0x0800) return this.miss(R_NON_IP);
    if ((key[W_PARSE]! & P_L3) === 0) return this.miss(R_MALFORMED);
    if (this.pods4.length === 0) return this.miss(R_NO_PODS);
    const proto = key[W_NW]! & 0xff;
    const src = key[W_NW_SRC]! | 0;
    const dst = key[W_NW_DST]! | 0;
    const ported = hasPorts(proto) && (key[W_PARSE]! & P_L4) !== 0;
    const sport = ported ? key[W_TP]! >>> 16 : 0;
    const dport = ported ? key[W_TP]! & 0xffff : 0;
    const c = this.connectionOf(proto, ported, src, dst, sport, dport);
    if (c < 0) return this.miss(R_NOT_OBSERVED);
    return this.rewrite(key, c, false, ported, src, sport);
  }

  /** `mapOne` for IPv6: addresses are looked up as the trace numbers the first pass gave them. */
  private mapOne6(key: Uint32Array): number {
    if (!this.plan) throw new Error("TraceMapper.map before freeze");
    if (this.pods6.length === 0) return this.miss(R_IPV6);
    if ((key[W_PARSE]! & P_L3) === 0) return this.miss(R_MALFORMED);
    const proto = key[W_NW]! & 0xff;
    const l4 = (key[W_PARSE]! & P_L4) !== 0;
    if (proto === PROTO_ICMP6 && l4 && isNdType(key[W_TP]! >>> 16)) return this.mapNd(key);
    const src = this.traceId6(key, W_IPV6_SRC, false);
    const dst = this.traceId6(key, W_IPV6_DST, false);
    if (src < 0 || dst < 0) return this.miss(R_NOT_OBSERVED);
    const ported = hasPorts(proto) && l4;
    const sport = ported ? key[W_TP]! >>> 16 : 0;
    const dport = ported ? key[W_TP]! & 0xffff : 0;
    const c = this.connectionOf(proto | TAG_V6, ported, src, dst, sport, dport);
    if (c < 0) return this.miss(R_NOT_OBSERVED);
    return this.rewrite(key, c, true, ported, src, sport);
  }

  /**
   * Rewrites a packet of connection `c` sent from trace address `src` (an IPv6 one by its number)
   * and port `sport` into its mapped direction; returns its injection, or -1 (counted).
   */
  private rewrite(key: Uint32Array, c: number, v6: boolean, ported: boolean, src: number, sport: number): number {
    const cv = this.conn;
    const base = c * STRIDE;
    const status = cv[base + C_STATUS]!;
    if (status !== 0) return this.miss(status);
    // Forward when sent by the client (by address and, with ports, port).
    const fwdDir = src === (cv[base + C_CLIENT_IP]! | 0) && (!ported || (cv[base + C_FLAGS]! & F_PORTS) === 0 || sport === cv[base + C_CLIENT_PORT]);
    const d = base + (fwdDir ? C_FWD : C_REV);
    const inject = cv[d + D_INJECT]!;
    if (inject === NO_INJECT) return this.miss(R_BROADCAST_SOURCE);
    this.putDirection(key, d, v6, fwdDir && (cv[base + C_FLAGS]! & F_KEEP_DMAC) !== 0);
    if (ported && (cv[base + C_FLAGS]! & F_PORTS) !== 0) key[W_TP] = cv[d + D_TP]!;
    return inject;
  }

  /**
   * Writes the addresses and MACs of the plan's direction at `d` into `key` (the destination MAC
   * kept when `keepDmac`), and removes its VLAN tags.
   */
  private putDirection(key: Uint32Array, d: number, v6: boolean, keepDmac: boolean): void {
    const cv = this.conn;
    if (v6) {
      const m = this.mapped6;
      const s4 = cv[d + D_SRC]! * 4;
      const d4 = cv[d + D_DST]! * 4;
      for (let i = 0; i < 4; i++) {
        key[W_IPV6_SRC + i] = m[s4 + i]!;
        key[W_IPV6_DST + i] = m[d4 + i]!;
      }
    } else {
      key[W_NW_SRC] = cv[d + D_SRC]!;
      key[W_NW_DST] = cv[d + D_DST]!;
    }
    key[W_ETH_SRC] = cv[d + D_SMAC_HI]!;
    key[W_ETH_SRC + 1] = cv[d + D_SMAC_LO]!;
    if (!keepDmac) {
      key[W_ETH_DST] = cv[d + D_DMAC_HI]!;
      key[W_ETH_DST + 1] = cv[d + D_DMAC_LO]!;
    }
    key[W_VLAN0] = 0;
    key[W_VLAN1] = 0;
  }

  /**
   * An ICMP or ICMPv6 error whose quoted packet belongs to a connection of the plan travels as a
   * packet of that connection, in the other direction than the quoted one: it gets that
   * direction's addresses, MACs and entry (as if the quoted packet's receiver sent it: the network
   * has no router of the trace's), and its quoted packet becomes that direction's packet reversed,
   * so that it quotes what the mapped connection sent (after the load balancer, for a service).
   * Otherwise it is mapped as any ICMP packet, by its own addresses (`mapOne`, `mapOne6`).
   */
  private mapError(key: Uint32Array, m: IcmpMessage): number {
    if (!this.plan) throw new Error("TraceMapper.map before freeze");
    const v6 = m.innerV6;
    const other = (): number => (v6 ? this.mapOne6(key) : this.mapOne(key));
    // The outer packet must be of the quoted one's family (as a real error is).
    if (v6 !== (key[W_ETH_TYPE] === 0x86dd) || (v6 && this.pods6.length === 0)) return other();
    const proto = m.innerProto;
    const qs = m.innerSrc;
    const qd = m.innerDst;
    const src = v6 ? this.traceIds6.get(qs[0]!, qs[1]!, qs[2]!, qs[3]!) : qs[3]!;
    const dst = v6 ? this.traceIds6.get(qd[0]!, qd[1]!, qd[2]!, qd[3]!) : qd[3]!;
    if (src < 0 || dst < 0) return other();
    const ported = hasPorts(proto);
    const sport = ported ? m.innerSport : 0;
    const dport = ported ? m.innerDport : 0;
    const c = this.connectionOf(proto | (v6 ? TAG_V6 : 0), ported, src, dst, sport, dport);
    const cv = this.conn;
    const base = c * STRIDE;
    if (c < 0 || cv[base + C_STATUS] !== 0) return other();
    const flags = cv[base + C_FLAGS]!;
    const quotedFwd = src === cv[base + C_CLIENT_IP] && (!ported || (flags & F_PORTS) === 0 || sport === cv[base + C_CLIENT_PORT]);
    const e = base + (quotedFwd ? C_REV : C_FWD);
    const inject = cv[e + D_INJECT]!;
    if (inject === NO_INJECT) return other();
    this.putDirection(key, e, v6, false);
    // The quoted packet: that direction reversed.
    if (v6) {
      for (let i = 0; i < 4; i++) {
        qs[i] = key[W_IPV6_DST + i]!;
        qd[i] = key[W_IPV6_SRC + i]!;
      }
    } else {
      qs[3] = key[W_NW_DST]!;
      qd[3] = key[W_NW_SRC]!;
    }
    if (ported && (flags & F_PORTS) !== 0) {
      const tp = cv[e + D_TP]!;
      m.innerSport = tp & 0xffff;
      m.innerDport = tp >>> 16;
    }
    m.innerChanged = true;
    return inject;
  }


  private mapArp(key: Uint32Array): number {
    if ((key[W_PARSE]! & P_L3) === 0) return this.miss(R_MALFORMED);
    if (this.pods4.length === 0) return this.miss(R_NO_PODS);
    const spa = key[W_NW_SRC]!;
    const tpa = key[W_NW_DST]!;
    const s = this.hostPod(spa === 0 ? tpa : spa);
    let t = spa === 0 ? s : this.hostPod(tpa);
    if (s < 0 || t < 0) return this.miss(s === HOST_REFUSED || t === HOST_REFUSED ? R_MAP_REFUSED : R_NOT_IN_MAP);
    // Two trace hosts that became one pod: a pod does not resolve its own address, so the target
    // is the next pod of its switch.
    if (t === s && spa !== tpa && spa !== 0) t = this.podPeer4[s]!;
    const pm = this.podMac;
    // The target's address and MAC: its pod's, or, where that pod is on another switch, the
    // sender's gateway (a host resolves only addresses of its own segment).
    const off = this.asksGateway(s, t, false);
    const tIp = off ? this.podGwIp[s]! : this.podIp[t]!;
    const tm = off ? this.podGwMac : pm;
    const ti = off ? 2 * s : 2 * t;
    if (spa !== 0) key[W_NW_SRC] = this.podIp[s]!;
    if (tpa !== 0) key[W_NW_DST] = tIp;
    key[W_ARP_SHA] = pm[2 * s]!;
    key[W_ARP_SHA + 1] = pm[2 * s + 1]!;
    const thaHi = key[W_ARP_THA]!;
    const thaLo = key[W_ARP_THA + 1]!;
    if (!((thaHi === 0 && thaLo === 0) || (thaHi === 0xffff && thaLo === 0xffffffff))) {
      key[W_ARP_THA] = tm[ti]!;
      key[W_ARP_THA + 1] = tm[ti + 1]!;
    }
    key[W_ETH_SRC] = pm[2 * s]!;
    key[W_ETH_SRC + 1] = pm[2 * s + 1]!;
    // A group destination (broadcast, multicast: the I/G bit) stays; a unicast one is the target's.
    if ((key[W_ETH_DST]! & 0x0100) === 0) {
      key[W_ETH_DST] = tm[ti]!;
      key[W_ETH_DST + 1] = tm[ti + 1]!;
    }
    key[W_VLAN0] = 0;
    key[W_VLAN1] = 0;
    return this.podInject[s]!;
  }

  /**
   * Neighbour discovery, mapped as ARP is: a solicitation's sender (the target's pod for a
   * duplicate address check from ::) and target, an advertisement's sender and target, become
   * their hosts' pods, addresses and MACs (the link-layer options too, where the packet has them);
   * a solicited-node multicast destination is the mapped target's, other multicast destinations
   * stay, a unicast one is its host's pod; a target or unicast destination whose pod is on another
   * switch than the sender's is the sender's gateway instead, as in ARP. Router solicitations,
   * advertisements and redirects are not mapped (`nd-router`): the network's routers send their
   * own.
   */
  private mapNd(key: Uint32Array): number {
    const type = key[W_TP]! >>> 16;
    if (type !== ND_NS && type !== ND_NA) return this.miss(R_ND_ROUTER);
    const unspecified = (key[W_IPV6_SRC]! | key[W_IPV6_SRC + 1]! | key[W_IPV6_SRC + 2]! | key[W_IPV6_SRC + 3]!) === 0;
    let t = this.hostPod6(key[W_ND_TARGET]!, key[W_ND_TARGET + 1]!, key[W_ND_TARGET + 2]!, key[W_ND_TARGET + 3]!);
    const s = unspecified ? t : this.hostPod6(key[W_IPV6_SRC]!, key[W_IPV6_SRC + 1]!, key[W_IPV6_SRC + 2]!, key[W_IPV6_SRC + 3]!);
    if (s < 0 || t < 0) return this.miss(s === HOST_REFUSED || t === HOST_REFUSED ? R_MAP_REFUSED : R_NOT_IN_MAP);
    // As in ARP, a pod does not solicit (or advertise to) itself for another trace host.
    if (t === s && !unspecified && !sameWords6(key, W_ND_TARGET, W_IPV6_SRC)) t = this.podPeer6[s]!;
    const m = this.mapped6;
    const sa = this.podAddr6[s]! * 4;
    const pm = this.podMac;
    // A pod on another switch than the sender's is its gateway instead, as in ARP.
    const offT = this.asksGateway(s, t, true);
    const ta = (offT ? this.podGw6[s]! : this.podAddr6[t]!) * 4;
    const tm = offT ? this.podGwMac : pm;
    const ti = offT ? 2 * s : 2 * t;
    const dstGroup = key[W_IPV6_DST]! >>> 24 === 0xff;
    // The unicast destination's pod (before the addresses change).
    let u = dstGroup ? -1 : this.hostPod6(key[W_IPV6_DST]!, key[W_IPV6_DST + 1]!, key[W_IPV6_DST + 2]!, key[W_IPV6_DST + 3]!);
    if (!dstGroup && u < 0) return this.miss(u === HOST_REFUSED ? R_MAP_REFUSED : R_NOT_IN_MAP);
    if (u === s && !unspecified && !sameWords6(key, W_IPV6_DST, W_IPV6_SRC)) u = this.podPeer6[s]!;
    const solicited = dstGroup && key[W_IPV6_DST] === 0xff020000 && key[W_IPV6_DST + 1] === 0 && key[W_IPV6_DST + 2] === 1 && key[W_IPV6_DST + 3]! >>> 24 === 0xff;
    for (let i = 0; i < 4; i++) {
      if (!unspecified) key[W_IPV6_SRC + i] = m[sa + i]!;
      key[W_ND_TARGET + i] = m[ta + i]!;
    }
    if (solicited) {
      const low = m[ta + 3]! & 0xffffff;
      key[W_IPV6_DST + 3] = (0xff000000 | low) >>> 0;
      key[W_ETH_DST] = 0x3333;
      key[W_ETH_DST + 1] = (0xff000000 | low) >>> 0;
    } else if (u >= 0) {
      const offU = this.asksGateway(s, u, true);
      const ua = (offU ? this.podGw6[s]! : this.podAddr6[u]!) * 4;
      for (let i = 0; i < 4; i++) key[W_IPV6_DST + i] = m[ua + i]!;
      key[W_ETH_DST] = offU ? this.podGwMac[2 * s]! : pm[2 * u]!;
      key[W_ETH_DST + 1] = offU ? this.podGwMac[2 * s + 1]! : pm[2 * u + 1]!;
    }
    // Link-layer options: a solicitation's source (`arp_sha`), an advertisement's target
    // (`arp_tha`).
    if ((key[W_ARP_SHA]! | key[W_ARP_SHA + 1]!) !== 0) {
      key[W_ARP_SHA] = pm[2 * s]!;
      key[W_ARP_SHA + 1] = pm[2 * s + 1]!;
    }
    if ((key[W_ARP_THA]! | key[W_ARP_THA + 1]!) !== 0) {
      key[W_ARP_THA] = tm[ti]!;
      key[W_ARP_THA + 1] = tm[ti + 1]!;
    }
    key[W_ETH_SRC] = pm[2 * s]!;
    key[W_ETH_SRC + 1] = pm[2 * s + 1]!;
    key[W_VLAN0] = 0;
    key[W_VLAN1] = 0;
    return this.podInject[s]!;
  }

  /**
   * Whether pod `s` resolving pod `x` asks its gateway instead (ARP, or ND with `v6`): `x` is on
   * another switch, and `s` has a gateway of that family.
   */
  private asksGateway(s: number, x: number, v6: boolean): boolean {
    return x !== s && this.podSwitch[s] !== this.podSwitch[x] && (v6 ? this.podGw6[s] !== NO_ADDR : this.podGwIp[s] !== 0);
  }

  /** Packets mapped so far by `map`. */
  mapped(): number {
    return this.mappedCount;
  }

  /** Packets `map` could not map, by reason (reasons with no packet left out). */
  unmapped(): Record<string, number> {
    const out: Record<string, number> = {};
    REASONS.forEach((r, i) => {
      const v = this.unmappedCount[i + 1]!;
      if (v > 0) out[r] = v;
    });
    return out;
  }
}
