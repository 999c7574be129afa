/**
 * Generated probes: packets worth tracing in any network, derived from the network alone, for
 * comparing ovnsim with real OVN (`ovnsim conformance`). They carry no expectation
 * (`expect: unchecked`): real OVN is the judge.
 *
 * What is generated, in this order (each group in model order):
 * - `gen/pair/SRC/DST`: for every ordered pair of endpoints with an IPv4 address, a TCP SYN from
 *   one to the other, TTL 64. Endpoints are VIFs (type "") and `remote` ports with a "MAC IP"
 *   address, and for a `localnet` port the underlay gateway of its provider network on its VLAN
 *   (a known host behind it). The frame goes to the peer's MAC when both are on one switch, and to
 *   the sender's gateway otherwise: the router port on its switch whose network holds its address
 *   (else the first router port there), else the underlay gateway on its VLAN. A pair is skipped
 *   when the destination's address is on the sender's own subnet but not on its switch (the sender
 *   would ARP for it on its segment, so no eth.dst is right), when the two have the same address,
 *   or when the sender has no gateway for an off-switch destination.
 * - `gen/pair6/SRC/DST`: the same over the endpoints' IPv6 addresses (the first IPv6 address of a
 *   "MAC IP..." entry, and a provider network's IPv6 gateways), hop limit 64; the gateway is the
 *   router port whose IPv6 network holds the sender's address (else the first router port with an
 *   IPv6 network there). IPv6 addresses are compared and written in RFC 5952 form.
 * - `gen/lb/SWITCH/VIP`: for every IPv4 VIP, from each switch that carries its load balancer or is
 *   attached to a router that does, one probe from the first endpoint there that is not the chosen
 *   backend, to the VIP and its port with the balancer's protocol. `lbDst` always names the
 *   backend: without `--lb-dst`, ovn-trace 23.03 picks a random backend on every run (seen here:
 *   9 of 24 runs chose one backend of two, 15 the other), so its verdict could not be recorded. The
 *   backend is rotated over the client switches of a VIP. The frame goes to the sender's gateway,
 *   or, on a switch without one, to the backend's MAC when the backend is on that switch (else the
 *   probe is skipped).
 * - `gen/lb6/SWITCH/[VIP]:PORT`: the same for every IPv6 VIP, with IPv6 clients.
 * - `gen/nat/ROUTER/KIND/ADDRESS`: per IPv4 NAT rule (IPv6 ones are skipped and counted), on its
 *   router's external side (the rule's gateway port, else the router's distributed gateway port,
 *   else the router port whose network holds the external address), with the first endpoint on that
 *   port's switch as the outside host: `dnat` (dnat and dnat_and_snat): outside host → external IP,
 *   to the rule's external MAC when it is a distributed one, else to the router port's;
 *   `dnat-reply`: the logical host answering the outside host, with `--ct est,rpl`; `snat` (snat
 *   and dnat_and_snat): the first logical host behind the router whose address is in the rule's
 *   logical IP → the outside host (8.8.8.8 when there is none); `snat-reply`: the outside host
 *   answering to the external IP with `--ct est,rpl`. ovn-trace has no connection table, so a reply
 *   is driven by its `--ct` flags alone, which is how it has to be traced.
 * - `gen/arp/ROUTER-PORT/IP`: an ARP request for each IPv4 address of a router port, from the
 *   first endpoint on the attached switch (one in the port's network if there is one).
 * - `gen/nd/ROUTER-PORT/IP`: a neighbour solicitation for each IPv6 address of a router port, from
 *   the first IPv6 endpoint on the attached switch (one in the port's network if there is one), as
 *   a host resolving it sends it: to the target's solicited-node group (ff02::1:ffXX:XXXX, MAC
 *   33:33:ff:XX:XX:XX), hop limit 255, with its own MAC as source link-layer address. OVN 23.03's
 *   ovn-trace aborts on these (src/ovn/conformance.ts says why), so real OVN gives no verdict on
 *   them.
 *
 * Forward probes carry `--ct new` eight times (ovn-trace takes one value per conntrack action in
 * order and assumes `est` when they run out; eight exceeds the conntrack actions of any path
 * here, and unused values change nothing), replies `est,rpl` eight times, ARP and ND none.
 *
 * Invariants: the same network gives the same probes in the same order with the same names; names
 * are unique; a network without IPv6 addresses gets exactly the IPv4 groups, unchanged. With `max`
 * below the total, an even spread over the whole list is kept (every group is sampled, not the
 * first N) and a note says how many of how many; every skip is counted in a note too, never
 * silent.
 */
import { cidrContains, formatIpv6, parseCidr, parseIpv4, parseIpv6 } from "../base/index.js";
import { parseLbEndpoint, type LogicalRouter, type Nat, type Network, type RouterPort } from "../model/index.js";
import type { Probe } from "./probe.js";

export interface ProbeGenOptions {
  /** Keep at most this many probes (an even spread); default: all. */
  readonly max?: number;
}

export interface GeneratedProbes {
  readonly probes: Probe[];
  /** How many probes the network gives before `max` is applied. */
  readonly total: number;
  /** What was skipped or left out, and why; one sentence each. */
  readonly notes: string[];
}

/** A host a probe can start or end at. */
interface Endpoint {
  /** The switch port the host's frames enter by. */
  readonly port: string;
  readonly switchName: string;
  readonly mac: string;
  /** IPv4 dotted quad, or IPv6 in RFC 5952 form, as `family` says. */
  readonly ip: string;
  readonly family: 4 | 6;
  readonly kind: "vif" | "remote" | "localnet";
}

/** A router port attached to a switch. */
interface Attachment {
  readonly router: LogicalRouter;
  readonly lrp: RouterPort;
  /** The IPv4 networks of the router port, as written ("10.0.0.1/24"). */
  readonly nets4: readonly string[];
  /** Its IPv6 networks, as written ("fd00::1/64"). */
  readonly nets6: readonly string[];
}

/** Where a host sends off-link traffic: a MAC, and the subnet it considers on-link. */
interface Gateway {
  readonly mac: string;
  /** The subnet holding the host's address ("10.0.0.1/24"), when known. */
  readonly subnet: string | undefined;
  /** The router port it is, when it is one. */
  readonly lrp: RouterPort | undefined;
  readonly router: LogicalRouter | undefined;
}

const FORWARD_CT: readonly string[] = Array<string>(8).fill("new");
const REPLY_CT: readonly string[] = Array<string>(8).fill("est,rpl");
const CLIENT_PORT = 49152;
const SERVICE_PORT = 80;
const TCP_SYN = 0x002;
const TCP_ACK = 0x010;
const OUTSIDE_FALLBACK = "8.8.8.8";

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** The first "MAC IP" pair of a port's addresses with an address of `family` (IPv6 in RFC 5952 form). */
function macAndIp(addresses: Iterable<string>, family: 4 | 6): { mac: string; ip: string } | undefined {
  for (const a of addresses) {
    const [mac, ...ips] = a.trim().split(/\s+/);
    if (!mac || !MAC_RE.test(mac)) continue;
    const ip = ips.map((x) => (family === 4 ? (parseIpv4(x) !== undefined ? x : undefined) : normalIpv6(x))).find((x) => x !== undefined);
    if (ip !== undefined) return { mac: mac.toLowerCase(), ip };
  }
  return undefined;
}

/** IPv6 text in RFC 5952 form, or undefined when it is not IPv6. */
function normalIpv6(text: string): string | undefined {
  const b = parseIpv6(text);
  return b ? formatIpv6(b) : undefined;
}

/** Whether the address `ip` lies in `cidr` ("A.B.C.D/N", "X::/N" or a bare address) of its family. */
function inCidr(ip: string, cidr: string): boolean {
  const a = parseCidr(ip);
  const c = parseCidr(cidr);
  return a !== undefined && c !== undefined && a.prefixLen === a.addr.length * 8 && cidrContains(c, a.addr);
}

const familyOf = (cidr: string): 4 | 6 | undefined => parseCidr(cidr)?.family;

function ipOfCidr(cidr: string): string {
  const ip = cidr.split("/")[0]!;
  return normalIpv6(ip) ?? ip;
}

/** Everything the generator looks up, gathered once. */
class Topology {
  /** IPv4 endpoints. */
  readonly endpoints: Endpoint[] = [];
  /** IPv6 endpoints (the same hosts' IPv6 addresses, and IPv6-only ones). */
  readonly endpoints6: Endpoint[] = [];
  readonly attachments = new Map<string, Attachment[]>();
  /** Router port name → the switch it is attached to. */
  readonly switchOfLrp = new Map<string, string>();
  readonly localnetWithoutHost: string[] = [];

  readonly net: Network;

  constructor(net: Network) {
    this.net = net;
    for (const ls of net.switches.values()) {
      const atts: Attachment[] = [];
      for (const p of ls.ports.values()) {
        if (p.type === "router") {
          const rpName = p.options.get("router-port");
          if (rpName === undefined) continue;
          const router = net.routers.find((r) => r.ports.has(rpName));
          const lrp = router?.ports.get(rpName);
          if (!router || !lrp) continue;
          const nets4 = lrp.networks.toArray().filter((n) => familyOf(n) === 4);
          const nets6 = lrp.networks.toArray().filter((n) => familyOf(n) === 6);
          atts.push({ router, lrp, nets4, nets6 });
          this.switchOfLrp.set(lrp.name, ls.name);
        }
      }
      this.attachments.set(ls.name, atts);
      for (const p of ls.ports.values()) {
        if (p.type === "" || p.type === "remote") {
          const kind = p.type === "" ? "vif" : "remote";
          const a = macAndIp(p.addresses, 4);
          if (a) this.endpoints.push({ port: p.name, switchName: ls.name, mac: a.mac, ip: a.ip, family: 4, kind });
          const a6 = macAndIp(p.addresses, 6);
          if (a6) this.endpoints6.push({ port: p.name, switchName: ls.name, mac: a6.mac, ip: a6.ip, family: 6, kind });
        } else if (p.type === "localnet") {
          const pn = net.providerNetworks.get(p.options.get("network_name") ?? "");
          const gws = pn?.gateways.filter((g) => g.vlan === (p.tag ?? 0)).toArray() ?? [];
          if (!gws.some((g) => familyOf(g.address) === 4)) this.localnetWithoutHost.push(p.name);
          for (const g of gws) {
            const family = familyOf(g.address);
            if (family === undefined) continue;
            (family === 4 ? this.endpoints : this.endpoints6).push({ port: p.name, switchName: ls.name, mac: g.mac.toLowerCase(), ip: ipOfCidr(g.address), family, kind: "localnet" });
          }
        }
      }
    }
  }

  /** The gateway a host on `ep`'s switch uses, or undefined when it has none. */
  gatewayOf(ep: Endpoint): Gateway | undefined {
    const atts = this.attachments.get(ep.switchName) ?? [];
    const nets = (a: Attachment): readonly string[] => (ep.family === 4 ? a.nets4 : a.nets6);
    for (const a of atts) {
      const n = nets(a).find((x) => inCidr(ep.ip, x));
      if (n !== undefined) return { mac: a.lrp.mac.toLowerCase(), subnet: n, lrp: a.lrp, router: a.router };
    }
    const first = atts.find((a) => nets(a).length > 0);
    if (first) return { mac: first.lrp.mac.toLowerCase(), subnet: undefined, lrp: first.lrp, router: first.router };
    // An underlay subnet without a router port: the provider network's gateway on its VLAN.
    const ls = this.net.switches.get(ep.switchName);
    for (const p of ls?.ports.values() ?? []) {
      if (p.type !== "localnet") continue;
      const pn = this.net.providerNetworks.get(p.options.get("network_name") ?? "");
      const g = pn?.gateways.find((x) => x.vlan === (p.tag ?? 0) && inCidr(ep.ip, x.address));
      if (g && ipOfCidr(g.address) !== ep.ip) return { mac: g.mac.toLowerCase(), subnet: g.address, lrp: undefined, router: undefined };
    }
    return undefined;
  }

  /** The subnet `ep` considers on-link: its gateway's, else (IPv4) its switch's `other_config:subnet`. */
  subnetOf(ep: Endpoint): string | undefined {
    return this.gatewayOf(ep)?.subnet ?? (ep.family === 4 ? this.net.switches.get(ep.switchName)?.otherConfig.get("subnet") : undefined);
  }

  /** The MAC `ep` puts on a frame for `dstIp`, or a reason why there is no right one. */
  nextHopMac(ep: Endpoint, dstIp: string, dstOnSameSwitch: Endpoint | undefined): { mac: string } | { skip: "on-link" | "no-gateway" } {
    if (dstOnSameSwitch) return { mac: dstOnSameSwitch.mac };
    const subnet = this.subnetOf(ep);
    if (subnet !== undefined && inCidr(dstIp, subnet)) return { skip: "on-link" };
    const gw = this.gatewayOf(ep);
    return gw ? { mac: gw.mac } : { skip: "no-gateway" };
  }

  endpointsOn(switchName: string, family: 4 | 6 = 4): Endpoint[] {
    return (family === 4 ? this.endpoints : this.endpoints6).filter((e) => e.switchName === switchName);
  }
}

/** An IP packet of `src`'s family (TTL or hop limit 64). */
function ipMicroflow(src: Endpoint, dstMac: string, dstIp: string, l4: string): string {
  const ip = src.family === 4 ? "ip4" : "ip6";
  return `inport == ${JSON.stringify(src.port)} && eth.src == ${src.mac} && eth.dst == ${dstMac} && ${ip}.src == ${src.ip} && ${ip}.dst == ${dstIp} && ip.ttl == 64 && ${l4}`;
}

function tcp(sport: number, dport: number, flags: number): string {
  return `tcp && tcp.src == ${sport} && tcp.dst == ${dport} && tcp.flags == ${flags}`;
}

function l4For(protocol: "tcp" | "udp" | "sctp", sport: number, dport: number): string {
  switch (protocol) {
    case "tcp":
      return tcp(sport, dport, TCP_SYN);
    case "udp":
      return `udp && udp.src == ${sport} && udp.dst == ${dport}`;
    case "sctp":
      return `sctp && sctp.src == ${sport} && sctp.dst == ${dport}`;
    default: {
      const _: never = protocol;
      return _;
    }
  }
}

/** Collects probes with unique names, and counts of what was skipped. */
class Collector {
  readonly probes: Probe[] = [];
  private readonly names = new Set<string>();
  readonly skipped = new Map<string, number>();

  add(name: string, src: Endpoint, microflow: string, ct: readonly string[], lbDst?: string): void {
    let n = name;
    for (let i = 2; this.names.has(n); i++) n = `${name}#${i}`;
    this.names.add(n);
    this.probes.push({ name: n, datapath: src.switchName, microflow, ct: [...ct], expect: { kind: "unchecked" }, ...(lbDst !== undefined ? { lbDst } : {}) });
  }

  skip(why: string): void {
    this.skipped.set(why, (this.skipped.get(why) ?? 0) + 1);
  }
}

/** `gen/pair/` over the IPv4 endpoints, or `gen/pair6/` over the IPv6 ones (skip notes say which). */
function genPairs(t: Topology, c: Collector, family: 4 | 6): void {
  const eps = family === 4 ? t.endpoints : t.endpoints6;
  const v6 = family === 6 ? "IPv6 " : "";
  for (const src of eps) {
    for (const dst of eps) {
      if (src === dst || src.port === dst.port) continue;
      if (src.ip === dst.ip) {
        c.skip(`${v6}endpoint pairs with the same IPv${family} address (nothing to route)`);
        continue;
      }
      const same = dst.switchName === src.switchName ? dst : undefined;
      const hop = t.nextHopMac(src, dst.ip, same);
      if ("skip" in hop) {
        c.skip(
          hop.skip === "on-link"
            ? `${v6}endpoint pairs whose destination is on the sender's subnet but on another switch (the sender would ${family === 4 ? "ARP" : "solicit"} for it on its own segment)`
            : `${v6}endpoint pairs whose sender has no gateway towards another switch`,
        );
        continue;
      }
      c.add(`gen/pair${family === 4 ? "" : "6"}/${src.port}/${dst.port}`, src, ipMicroflow(src, hop.mac, dst.ip, tcp(CLIENT_PORT, SERVICE_PORT, TCP_SYN)), FORWARD_CT);
    }
  }
}

/** `gen/lb/` for the IPv4 VIPs, or `gen/lb6/` for the IPv6 ones. */
function genLoadBalancers(t: Topology, c: Collector, family: 4 | 6): void {
  const net = t.net;
  const v6 = family === 6 ? "IPv6 " : "";
  /** VIP text → its balancer's protocol, backends, and the client switches in network order. */
  const vips = new Map<string, { protocol: "tcp" | "udp" | "sctp"; backends: string[]; switches: Set<string> }>();
  for (const lb of net.loadBalancers.values()) {
    const carriers = new Set<string>();
    for (const ls of net.switches.values()) {
      const viaRouter = (t.attachments.get(ls.name) ?? []).some((a) => a.router.loadBalancers.includes(lb.name));
      if (ls.loadBalancers.includes(lb.name) || viaRouter) carriers.add(ls.name);
    }
    for (const [vip, backends] of lb.vips) {
      const v = parseLbEndpoint(vip);
      if (typeof v === "string") continue;
      if (v.family !== family) continue;
      const cur = vips.get(vip) ?? { protocol: lb.protocol, backends: backends.toArray(), switches: new Set<string>() };
      for (const s of carriers) cur.switches.add(s);
      vips.set(vip, cur);
    }
  }
  for (const [vip, info] of vips) {
    const v = parseLbEndpoint(vip);
    if (typeof v === "string" || info.backends.length === 0) continue;
    const clients = [...net.switches.keys()].filter((s) => info.switches.has(s));
    clients.forEach((sw, i) => {
      const backendText = info.backends[i % info.backends.length]!;
      const be = parseLbEndpoint(backendText);
      if (typeof be === "string") return;
      const beIp = family === 4 ? be.ip : (normalIpv6(be.ip) ?? be.ip);
      const here = t.endpointsOn(sw, family);
      const client = here.find((e) => e.ip !== beIp && e.kind !== "localnet") ?? here.find((e) => e.ip !== beIp);
      if (!client) {
        c.skip(`${v6}load-balancer (switch, VIP) pairs with no client on the switch`);
        return;
      }
      // Behind a router the VIP is off-link; on a switch without one, the frame goes to the
      // backend.
      const mac = (t.attachments.get(sw) ?? []).length > 0 ? t.gatewayOf(client)?.mac : here.find((e) => e.ip === beIp)?.mac;
      if (mac === undefined) {
        c.skip(`${v6}load-balancer (switch, VIP) pairs whose backend is off a switch without a router`);
        return;
      }
      const l4 = v.port === undefined ? tcp(CLIENT_PORT, SERVICE_PORT, TCP_SYN) : l4For(info.protocol, CLIENT_PORT, v.port);
      c.add(`gen/lb${family === 4 ? "" : "6"}/${sw}/${vip}`, client, ipMicroflow(client, mac, family === 4 ? v.ip : (normalIpv6(v.ip) ?? v.ip), l4), FORWARD_CT, backendText);
    });
  }
}

/** The router port a NAT rule works on: its gateway port, a distributed gateway port, or the port whose network holds the external IP. */
function natPort(router: LogicalRouter, nat: Nat): RouterPort | undefined {
  if (nat.gatewayPort !== undefined) return router.ports.get(nat.gatewayPort);
  const ports = [...router.ports.values()];
  const dgps = ports.filter((p) => p.gatewayChassis.size > 0 || p.haChassisGroup !== undefined);
  const holding = (ps: RouterPort[]): RouterPort | undefined => ps.find((p) => p.networks.some((n) => inCidr(nat.externalIp, n)));
  if (dgps.length > 0) return holding(dgps) ?? dgps[0];
  return holding(ports);
}

function genNat(t: Topology, c: Collector): void {
  for (const router of t.net.routers.values()) {
    for (const nat of router.nat) {
      if (parseIpv4(nat.externalIp) === undefined) {
        c.skip("NAT rules that are not IPv4");
        continue;
      }
      const port = natPort(router, nat);
      const extSwitch = port ? t.switchOfLrp.get(port.name) : undefined;
      if (!port || extSwitch === undefined) {
        c.skip("NAT rules whose external side is no switch");
        continue;
      }
      const outside = t.endpointsOn(extSwitch)[0];
      // Logical hosts behind this router whose address the rule covers.
      const inside = t.endpoints.filter((e) => e.switchName !== extSwitch && inCidr(e.ip, nat.logicalIp) && t.gatewayOf(e)?.router === router);
      const dnatHost = inside.find((e) => e.ip === nat.logicalIp);
      const base = `gen/nat/${router.name}`;
      // A distributed dnat_and_snat answers on its own external MAC.
      const mac = nat.logicalPort !== undefined && nat.externalMac !== undefined ? nat.externalMac.toLowerCase() : port.mac.toLowerCase();
      if (!outside) c.skip("NAT rules with no host on their external switch");
      if (nat.type === "dnat" || nat.type === "dnat_and_snat") {
        if (outside) {
          c.add(`${base}/dnat/${nat.externalIp}`, outside, ipMicroflow(outside, mac, nat.externalIp, tcp(CLIENT_PORT, SERVICE_PORT, TCP_SYN)), FORWARD_CT);
          if (!dnatHost) c.skip("dnat rules whose logical IP is no host behind the router");
          else {
            const gw = t.gatewayOf(dnatHost)!;
            c.add(`${base}/dnat-reply/${nat.externalIp}`, dnatHost, ipMicroflow(dnatHost, gw.mac, outside.ip, tcp(SERVICE_PORT, CLIENT_PORT, TCP_SYN | TCP_ACK)), REPLY_CT);
          }
        }
      }
      if (nat.type === "snat" || nat.type === "dnat_and_snat") {
        const host = dnatHost ?? inside[0];
        if (!host) c.skip("snat rules with no host behind the router in their logical IP");
        else {
          const gw = t.gatewayOf(host)!;
          const dst = outside?.ip ?? OUTSIDE_FALLBACK;
          c.add(`${base}/snat/${nat.logicalIp}`, host, ipMicroflow(host, gw.mac, dst, tcp(CLIENT_PORT, SERVICE_PORT, TCP_SYN)), FORWARD_CT);
        }
        if (outside) {
          c.add(`${base}/snat-reply/${nat.externalIp}`, outside, ipMicroflow(outside, mac, nat.externalIp, tcp(SERVICE_PORT, CLIENT_PORT, TCP_SYN | TCP_ACK)), REPLY_CT);
        }
      }
    }
  }
}

/**
 * Calls `probe` with each address of `family` of a router port attached to a switch, and the
 * host there that asks for it: the first endpoint of that family in the port's network, else the
 * first one on the switch (counted as `skipWhy` when there is none).
 */
function eachRouterPortAddress(t: Topology, c: Collector, family: 4 | 6, skipWhy: string, probe: (lrp: RouterPort, target: Uint8Array, ip: string, src: Endpoint) => void): void {
  for (const router of t.net.routers.values()) {
    for (const lrp of router.ports.values()) {
      const sw = t.switchOfLrp.get(lrp.name);
      if (sw === undefined) continue;
      for (const n of lrp.networks) {
        const target = parseCidr(n);
        if (target?.family !== family) continue;
        const hosts = t.endpointsOn(sw, family);
        const src = hosts.find((e) => inCidr(e.ip, n)) ?? hosts[0];
        if (!src) c.skip(skipWhy);
        else probe(lrp, target.addr, ipOfCidr(n), src);
      }
    }
  }
}

function genArp(t: Topology, c: Collector): void {
  eachRouterPortAddress(t, c, 4, "router port addresses with no host on their switch to ARP from", (lrp, _target, ip, src) => {
    const mf = `inport == ${JSON.stringify(src.port)} && eth.src == ${src.mac} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == ${src.mac} && arp.spa == ${src.ip} && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${ip}`;
    c.add(`gen/arp/${lrp.name}/${ip}`, src, mf, []);
  });
}

/**
 * `gen/nd/ROUTER-PORT/IP`: a neighbour solicitation for each IPv6 address of a router port, as a
 * host resolving it sends one: to the solicited-node multicast group of the target
 * (ff02::1:ffXX:XXXX, MAC 33:33:ff:XX:XX:XX), hop limit 255, with the sender's MAC as source
 * link-layer address.
 */
function genNd(t: Topology, c: Collector): void {
  eachRouterPortAddress(t, c, 6, "router port IPv6 addresses with no IPv6 host on their switch to solicit from", (lrp, target, ip, src) => {
    c.add(`gen/nd/${lrp.name}/${ip}`, src, ndSolicitationMicroflow(src.port, src.mac, src.ip, target, ip), []);
  });
}

/**
 * The microflow of a Neighbor Solicitation for `target` (its 16 bytes and its text) from port
 * `inport` with `mac` and IPv6 address `srcIp`, as a host resolving it sends one: to the target's
 * solicited-node group (ff02::1:ffXX:XXXX, MAC 33:33:ff:XX:XX:XX), hop limit 255, with its own MAC
 * as source link-layer address.
 */
export function ndSolicitationMicroflow(inport: string, mac: string, srcIp: string, target: Uint8Array, targetText: string): string {
  const hex = (b: number): string => b.toString(16).padStart(2, "0");
  const [b13, b14, b15] = [hex(target[13]!), hex(target[14]!), hex(target[15]!)];
  const groupIp = normalIpv6(`ff02::1:ff${b13}:${b14}${b15}`)!;
  return `inport == ${JSON.stringify(inport)} && eth.src == ${mac} && eth.dst == 33:33:ff:${b13}:${b14}:${b15} && ip6.src == ${srcIp} && ip6.dst == ${groupIp} && ip.ttl == 255 && nd_ns && nd.target == ${targetText} && nd.sll == ${mac}`;
}

/** Indices of an even spread of `keep` elements over `total` (first included), ascending. */
export function spreadIndices(total: number, keep: number): number[] {
  const k = Math.max(0, Math.min(total, Math.floor(keep)));
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(Math.floor((i * total) / k));
  return out;
}

/** The probes the network gives (see the module comment); deterministic. */
export function generateProbes(net: Network, opts: ProbeGenOptions = {}): GeneratedProbes {
  const t = new Topology(net);
  const c = new Collector();
  genPairs(t, c, 4);
  genPairs(t, c, 6);
  genLoadBalancers(t, c, 4);
  genLoadBalancers(t, c, 6);
  genNat(t, c);
  genArp(t, c);
  genNd(t, c);
  const notes: string[] = [];
  for (const [why, n] of c.skipped) notes.push(`skipped ${n} ${why}`);
  if (t.localnetWithoutHost.length > 0) notes.push(`localnet ports with no known host on their VLAN (no provider-network gateway) are no endpoints: ${t.localnetWithoutHost.join(", ")}`);
  const total = c.probes.length;
  let probes = c.probes;
  if (opts.max !== undefined && opts.max < total) {
    probes = spreadIndices(total, opts.max).map((i) => c.probes[i]!);
    notes.push(`kept ${probes.length} of ${total} generated probes (an even spread over all of them)`);
  }
  return { probes, total, notes };
}
