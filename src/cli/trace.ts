/**
 * `ovnsim trace NETWORK [DATAPATH] MICROFLOW` and the friendly form
 * `ovnsim trace NETWORK --from PORT --to IP|PORT [--tcp N|--udp N|--icmp|--arp]`.
 *
 * The options follow ovn-trace: `--detailed` (default), `--summary`, `--minimal`, `--ct STATE`
 * (repeatable; consumed in order by the conntrack actions, `est|trk` once they run out),
 * `--lb-dst IP[:PORT]`, `--select-id N`; plus `--json` for the documented JSON object, and
 * `--length N`, the packet's length for a gateway port's MTU check, which ovn-trace does not make
 * (without it no packet is larger, as there). The trace runs in ovn-trace mode (conntrack states
 * from `--ct`, not from a table), so its verdicts can be compared with ovn-trace's.
 *
 * Beyond OVN: a network with VPC NAT gateways is traced as a walk through OVN and the gateways;
 * in a network with node hosts (Kube-OVN nodes, whose natOutgoing is host iptables), a packet OVN
 * hands to a node's `ovn0` port is followed through that host (its route, the nat rule that
 * matched, the packet leaving the NIC or coming back into OVN) after the text trace. `--reply`
 * then also walks the answer of every packet that left the cluster, back in through the same
 * interface, so the host's (or gateway's) conntrack translates it back. The friendly form's TCP
 * packet is a SYN, the first packet of a connection (hosts do not NAT a TCP packet without SYN
 * that starts a connection).
 */
import { dirname, resolve } from "node:path";
import type { Argv } from "yargs";
import { TRACE } from "./commands.js";
import { addressKey, cidrContains, error, formatIpv6, parseCidr, parseIpv4, parseIpv6, unknownNameHint, type Diagnostic } from "../base/index.js";
import { compileMicroflow, natGatewayConfig, nodeHostConfig, portSecurityCalls, traceInputs } from "../compile/index.js";
import {
  DEFAULT_EXTERNAL_GATEWAY_MAC,
  LogicalExecutor,
  OVN0,
  createNatGateway,
  createNodeHost,
  parseCtState,
  replyKey,
  walkNetwork,
  type NatGatewayNode,
  type NodeHostNode,
  type OutputRecord,
  type WalkNode,
  type WalkOptions,
  type WalkResult,
  type WalkStart,
} from "../dataplane/index.js";
import { parseLbEndpoint, type Network, type SwitchPort } from "../model/index.js";
import { parseIpAddr, type LogicalProgram } from "../ofp/index.js";
import { TraceRecorder, renderDetailed, renderMinimal, renderSummary, renderWalk, traceJson } from "../trace/index.js";
import { InputError } from "./capture-input.js";
import { kubePort, needManifests } from "./kube-names.js";
import { UsageError, type Io } from "./io.js";
import { compileArg, loadNetworkArg } from "./network.js";
import { checkOutputFile } from "./output-path.js";
import { ndSolicitationMicroflow, type KubeNames, type Scenario } from "../scenario/index.js";
import { canFollow, followPath, renderPath, renderPathMermaid, writePathPcap } from "./trace-path.js";

function bad(message: string): InputError {
  return new InputError([error("usage.trace", message)]);
}

interface PortAddr {
  readonly mac: string;
  readonly ip4: string | undefined;
  /** The first IPv6 address, in RFC 5952 form. */
  readonly ip6: string | undefined;
}

/** IPv6 text in RFC 5952 form, or undefined when it is not IPv6. */
function ip6Text(text: string): string | undefined {
  const b = parseIpv6(text);
  return b ? formatIpv6(b) : undefined;
}

/** The first of a port's addresses that starts with a MAC: that MAC and its IPv4 and IPv6 addresses. */
function addrOf(p: SwitchPort): PortAddr | undefined {
  for (const a of p.addresses) {
    const [mac, ...ips] = a.trim().split(/\s+/);
    if (mac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) return { mac, ip4: ips.find((x) => parseIpv4(x) !== undefined), ip6: ips.map(ip6Text).find((x) => x !== undefined) };
  }
  return undefined;
}

function portAddr(net: Network, name: string): PortAddr | undefined {
  const p = net.switches.find((ls) => ls.ports.has(name))?.ports.get(name);
  return p === undefined ? undefined : addrOf(p);
}

/** Why `name` is no port the friendly form can send from or to, with the names that are close. */
function noPortWithMac(net: Network, name: string): string {
  if (net.switches.some((ls) => ls.ports.has(name))) return "the switch port has no MAC address";
  const withMac = net.switches
    .valueSeq()
    .flatMap((ls) => ls.ports.filter((p) => addrOf(p) !== undefined).keySeq())
    .toArray();
  return `no switch port of that name; ${unknownNameHint(name, withMac, "ports")}`;
}

function portWithIp(net: Network, ip: string): string | undefined {
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      for (const a of p.addresses) if (a.trim().split(/\s+/).slice(1).some((x) => x === ip || (ip.includes(":") && ip6Text(x) === ip))) return p.name;
    }
  }
  return undefined;
}

/** Whether address `ip` is in the network of a router port's "A.B.C.D/N" or "X::/N" (of its family). */
function inNet(ip: string, network: string): boolean {
  const a = parseCidr(ip);
  const c = parseCidr(network);
  return a !== undefined && c !== undefined && a.prefixLen === a.addr.length * 8 && cidrContains(c, a.addr);
}

/**
 * The gateway a host on `port`'s switch uses for `srcIp`: the router port, attached to that switch,
 * whose network holds `srcIp` (or the first router port attached when none does), else the
 * underlay gateway of the switch's provider network and VLAN: its MAC.
 */
function gatewayOf(net: Network, port: string, srcIp: string): { mac: string } | undefined {
  const ls = net.switches.find((s) => s.ports.has(port));
  if (!ls) return undefined;
  let first: { mac: string } | undefined;
  for (const p of ls.ports.values()) {
    if (p.type !== "router") continue;
    const rpName = p.options.get("router-port");
    const rp = rpName === undefined ? undefined : net.routers.find((r) => r.ports.has(rpName))?.ports.get(rpName);
    if (!rp) continue;
    const nets = rp.networks.toArray().filter((n) => parseCidr(n)?.family === (srcIp.includes(":") ? 6 : 4));
    const gw = { mac: rp.mac };
    first ??= gw;
    if (nets.some((n) => inNet(srcIp, n))) return gw;
  }
  if (first) return first;
  // An underlay subnet without a router port: the provider network's gateway on its VLAN.
  for (const p of ls.ports.values()) {
    if (p.type !== "localnet") continue;
    const pn = net.providerNetworks.get(p.options.get("network_name") ?? "");
    const g = pn?.gateways.find((x) => x.vlan === (p.tag ?? 0) && inNet(srcIp, x.address));
    if (g) return { mac: g.mac };
  }
  return undefined;
}

/** What the friendly form sends: a TCP SYN, UDP, an ICMP echo (default), an ARP request or an ND solicitation; `ipv6` asks for IPv6. */
export interface FriendlyL4 {
  readonly tcp?: number;
  readonly udp?: number;
  readonly icmp?: boolean;
  readonly arp?: boolean;
  /** An IPv6 Neighbor Solicitation for the destination address (implies `ipv6`). */
  readonly nd?: boolean;
  readonly ipv6?: boolean;
}

/**
 * The microflow of the friendly form: a complete packet from `from` to `to` (TTL 64). A destination
 * on the sender's own switch gets its MAC; any other destination (another subnet, a router address,
 * the outside) is sent to the sender's gateway MAC, as a host would. The packet is IPv6 when `to`
 * is an IPv6 address, or a port with an IPv6 address and no IPv4 one (or the sender has none), or
 * a port with an IPv6 address and `l4.ipv6` asks for IPv6; the sender's address and gateway are
 * then those of its IPv6 network.
 */
export function friendlyMicroflow(net: Network, from: string, to: string, given: FriendlyL4): string {
  const l4 = given.nd ? { ...given, ipv6: true } : given;
  const flag = given.nd ? "--nd" : "--ipv6";
  const src = portAddr(net, from);
  if (!src) throw bad(`--from ${from}: ${noPortWithMac(net, from)}`);
  const srcSwitch = net.switches.find((s) => s.ports.has(from));
  let dstIp: string | undefined;
  let dstPort: string | undefined;
  let v6 = false;
  const to6 = ip6Text(to);
  if (parseIpv4(to) !== undefined) {
    if (l4.ipv6) throw bad(`--to ${to}: an IPv4 address, and ${flag} asks for an IPv6 packet`);
    dstIp = to;
    dstPort = portWithIp(net, to);
  } else if (to6 !== undefined) {
    dstIp = to6;
    dstPort = portWithIp(net, to6);
    v6 = true;
  } else {
    const d = portAddr(net, to);
    if (!d) throw bad(`--to ${to}: neither an IP address nor a switch port with a MAC address (${noPortWithMac(net, to)})`);
    dstPort = to;
    if (l4.ipv6 && d.ip6 === undefined) throw bad(`--to ${to}: ${flag}, and ${to} has no IPv6 address`);
    v6 = (l4.ipv6 === true || !d.ip4 || !src.ip4) && d.ip6 !== undefined && src.ip6 !== undefined && !l4.arp;
    dstIp = v6 ? d.ip6 : d.ip4;
  }
  if (l4.ipv6 && !v6) throw bad(`${flag}, and ${from} has no IPv6 address`);
  const head = `inport == ${JSON.stringify(from)} && eth.src == ${src.mac}`;
  if (l4.arp) {
    if (!src.ip4 || !dstIp) throw bad(`--arp needs IPv4 addresses on both ends (${!src.ip4 ? from : to} has none)`);
    return `${head} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == ${src.mac} && arp.spa == ${src.ip4} && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${dstIp}`;
  }
  if (l4.nd) {
    if (!src.ip6 || !dstIp) throw bad(`--nd needs IPv6 addresses on both ends (${from} has none)`);
    return ndSolicitationMicroflow(from, src.mac, src.ip6, parseIpv6(dstIp)!, dstIp);
  }
  const srcIp = v6 ? src.ip6 : src.ip4;
  if (!srcIp && v6) throw bad(`--to ${to}: IPv6, and ${from} has no IPv6 address`);
  // An IPv4 packet, and one end has no IPv4 address: say which, and what else there is.
  if (!srcIp) throw bad(`--from ${from} has no IPv4 address${src.ip6 !== undefined ? ` (its address is ${src.ip6}): give an IPv6 --to, or a microflow` : ""}`);
  if (!dstIp) throw bad(`--to ${to} has no IPv4 address${src.ip6 === undefined ? `, and ${from} has no IPv6 one` : ""}: give a microflow`);
  let dstMac: string;
  if (dstPort !== undefined && srcSwitch?.ports.has(dstPort)) dstMac = portAddr(net, dstPort)!.mac;
  else {
    const gw = gatewayOf(net, from, srcIp);
    if (!gw) {
      throw bad(
        dstPort === undefined
          ? `--to ${to}: no port has this address and ${from}'s switch has no router (give a microflow with the eth.dst you mean)`
          : `--to ${to}: on another switch, and ${from}'s switch has no router to reach it`,
      );
    }
    dstMac = gw.mac;
  }
  const ip = v6 ? "ip6" : "ip4";
  let s = `${head} && eth.dst == ${dstMac} && ${ip}.src == ${srcIp} && ${ip}.dst == ${dstIp} && ip.ttl == 64`;
  if (l4.tcp !== undefined) s += ` && tcp && tcp.src == 49152 && tcp.dst == ${l4.tcp} && tcp.flags == 0x002`;
  else if (l4.udp !== undefined) s += ` && udp && udp.src == 49152 && udp.dst == ${l4.udp}`;
  else s += v6 ? " && icmp6 && icmp6.type == 128 && icmp6.code == 0" : " && icmp4 && icmp4.type == 8 && icmp4.code == 0";
  return s;
}

/**
 * Kubernetes names in the friendly form, for networks built from manifests: `pod/NS/NAME` is the
 * pod's port (kube-names.ts, shared with `replay --inject`); `svc/NS/NAME[:PORT]` the service's
 * ClusterIP, with TCP/UDP to that port (the first port when none is given) unless --tcp/--udp
 * says otherwise; `node/NAME` the node's InternalIP. Address targets (`svc/`, `node/`, and pods of
 * another zone) take their IPv6 address with `--ipv6` or when the sender has IPv6 alone, else
 * their IPv4 one (a service's only ClusterIP whatever its family).
 * A `--to` pod or node that the network does not have is looked up in the other availability
 * zones `zones` (OVN-IC), in order.
 */
export function kubeEndpoints(
  scenario: Scenario,
  from: string,
  to: string,
  argv: { tcp?: number | undefined; udp?: number | undefined; icmp?: boolean | undefined; arp?: boolean | undefined; nd?: boolean | undefined; ipv6?: boolean | undefined },
  zones: readonly Scenario[] = [],
): { from: string; to: string; l4: FriendlyL4 } {
  const ipv6 = argv.ipv6 === true ? { ipv6: true } : {};
  let l4: FriendlyL4 = {
    ...(argv.tcp !== undefined ? { tcp: argv.tcp } : {}),
    ...(argv.udp !== undefined ? { udp: argv.udp } : {}),
    ...(argv.icmp ? { icmp: true } : {}),
    ...(argv.arp ? { arp: true } : {}),
    ...(argv.nd ? { nd: true } : {}),
    ...ipv6,
  };
  const k = scenario.kube;
  const needK8s = (what: string): never => needManifests(what, "usage.trace");
  const f = kubePort(scenario, "--from", from, "usage.trace");
  // The family of an address target (node/, svc/): IPv6 when asked for, or when the sender has
  // IPv6 alone.
  const sender = portAddr(scenario.network, f);
  const asked6 = argv.ipv6 === true || argv.nd === true;
  const want6 = asked6 || (sender !== undefined && sender.ip4 === undefined && sender.ip6 !== undefined);
  const family = want6 ? "IPv6" : "IPv4";
  let t = to;
  if (to.startsWith("pod/")) {
    const name = to.slice(4);
    if (k?.pods.has(name) || zones.length === 0) t = kubePort(scenario, "--to", to, "usage.trace");
    else {
      let remote: string | undefined;
      let found = false;
      for (const z of zones) {
        const port = z.kube?.pods.get(name);
        found ||= port !== undefined;
        const a = port === undefined ? undefined : portAddr(z.network, port);
        remote ??= want6 ? a?.ip6 : a?.ip4;
      }
      if (remote === undefined) throw bad(found ? `--to ${to}: the pod in the other zone has no ${family} address` : `--to ${to}: no such pod in this zone or the others`);
      t = remote;
    }
  } else if (to.startsWith("node/")) {
    if (!k) needK8s(to);
    const name = to.slice(5);
    const of = (n: KubeNames | undefined): string | undefined => (want6 ? n?.nodes6.get(name) : n?.nodes.get(name));
    const ip = of(k) ?? zones.map((z) => of(z.kube)).find((x) => x !== undefined);
    if (!ip) {
      const known = k!.nodes.has(name) || zones.some((z) => z.kube?.nodes.has(name));
      throw bad(known ? `--to ${to}: the node has no ${family} InternalIP` : `--to ${to}: no such node (nodes: ${[...k!.nodes.keys()].join(", ")})`);
    }
    t = ip;
  } else if (to.startsWith("svc/")) {
    if (!k) needK8s(to);
    const m = /^svc\/([^/]+\/[^:]+)(?::(\d+))?$/.exec(to);
    const svc = m ? k!.services.get(m[1]!) : undefined;
    if (!m || !svc) throw bad(`--to ${to}: no such service (expected svc/NAMESPACE/NAME[:PORT])`);
    if (svc.ips.length === 0) throw bad(`--to ${to}: the service has no ClusterIP`);
    // The ClusterIP of the family asked for (a single-stack service of the other family answers
    // with its own, and the packet says which).
    const ip = svc.ips.find((x) => x.includes(":") === want6) ?? (asked6 ? undefined : svc.ips[0]);
    if (ip === undefined) throw bad(`--to ${to}: ${argv.nd === true ? "--nd" : "--ipv6"}, and the service has no IPv6 ClusterIP (ClusterIPs: ${svc.ips.join(", ")})`);
    const port = m[2] !== undefined ? svc.ports.find((p) => p.port === Number(m[2])) : svc.ports[0];
    if (m[2] !== undefined && !port) throw bad(`--to ${to}: the service has no port ${m[2]} (ports: ${svc.ports.map((p) => p.port).join(", ")})`);
    t = ip;
    if (port && l4.tcp === undefined && l4.udp === undefined && !l4.icmp && !l4.arp && !l4.nd) l4 = { ...(port.protocol === "udp" ? { udp: port.port } : { tcp: port.port }), ...ipv6 };
  }
  return { from: f, to: t, l4 };
}

/** The network's VPC NAT gateways as runnable nodes; a gateway that does not build is a usage error. */
function natGatewayNodes(net: Network): NatGatewayNode[] {
  const out: NatGatewayNode[] = [];
  for (const name of net.natGateways.keys()) {
    const spec = natGatewayConfig(net, name);
    if (!spec.ok) throw new InputError(spec.diags);
    const node = createNatGateway(spec.value);
    if (!node.ok) throw new InputError(node.diags);
    out.push(node.value);
  }
  return out;
}

/** The network's node hosts as runnable nodes; a host that does not build is a usage error. */
function nodeHostNodes(net: Network): NodeHostNode[] {
  const out: NodeHostNode[] = [];
  for (const name of net.nodeHosts.keys()) {
    const spec = nodeHostConfig(net, name);
    if (!spec.ok) throw new InputError(spec.diags);
    const node = createNodeHost(spec.value);
    if (!node.ok) throw new InputError(node.diags);
    out.push(node.value);
  }
  return out;
}

/** Walks, from the node host `ovn0` port it was output to, each output OVN handed to a host. */
function followIntoHosts(exec: LogicalExecutor, nodes: readonly WalkNode[], hosts: readonly NodeHostNode[], outputs: readonly OutputRecord[], opts: WalkOptions): { host: NodeHostNode; walk: WalkResult }[] {
  const byPort = new Map(hosts.map((h) => [h.port, h]));
  const out: { host: NodeHostNode; walk: WalkResult }[] = [];
  for (const o of outputs) {
    const host = o.portType === "" ? byPort.get(o.portName) : undefined;
    if (host) out.push({ host, walk: walkNetwork(exec, nodes, { kind: "host", host: host.name, iface: OVN0, key: o.key }, opts) });
  }
  return out;
}

/** The answers to every packet of `walk` that left the cluster, each walked back in from where it left. */
function walkReplies(exec: LogicalExecutor, nodes: readonly WalkNode[], walk: WalkResult, opts: WalkOptions): WalkResult[] {
  const out: WalkResult[] = [];
  for (const e of walk.ends) {
    if (e.kind !== "left") continue;
    const start: WalkStart = e.node === "node-host" ? { kind: "host", host: e.gateway, iface: e.iface, key: replyKey(e.key) } : { kind: "node", gateway: e.gateway, iface: "net1", key: replyKey(e.key) };
    out.push(walkNetwork(exec, nodes, start, opts));
  }
  return out;
}

/**
 * A complete packet arriving on a NAT gateway's external interface: from the external network's
 * gateway MAC to `net1`'s MAC, `src` → `to`, TCP/UDP to the given port or an ICMP echo, TTL 64.
 */
function externalKey(program: LogicalProgram, net: Network, gwName: string, src: string, to: string, l4: { tcp?: number | undefined; udp?: number | undefined }): Uint32Array {
  const gw = net.natGateways.get(gwName)!;
  if (parseIpv4(src) === undefined) throw bad(`--src ${src}: expected an IPv4 address`);
  if (parseIpv4(to) === undefined) throw bad(`--to ${to}: with --from-external, expected an IPv4 address (an EIP of ${gwName})`);
  const lanSwitch = net.switches.find((s) => s.ports.has(gw.lanPort));
  if (!lanSwitch) throw bad(`NAT gateway ${gwName}: its lan port ${gw.lanPort} is on no switch`);
  // The key is built by the microflow compiler on the gateway's switch; only the wire fields are kept.
  let mf = `inport == ${JSON.stringify(gw.lanPort)} && eth.src == ${DEFAULT_EXTERNAL_GATEWAY_MAC} && eth.dst == ${gw.externalMac} && ip4.src == ${src} && ip4.dst == ${to} && ip.ttl == 64`;
  if (l4.tcp !== undefined) mf += ` && tcp && tcp.src == 49152 && tcp.dst == ${l4.tcp}`;
  else if (l4.udp !== undefined) mf += ` && udp && udp.src == 49152 && udp.dst == ${l4.udp}`;
  else mf += " && icmp4 && icmp4.type == 8 && icmp4.code == 0";
  const r = compileMicroflow(program, lanSwitch.name, mf);
  if (!r.ok) throw new InputError(r.diags);
  return r.value.key;
}

export function registerTraceCommand(parser: Argv, io: Io): void {
  parser.command(
    TRACE.usage,
    TRACE.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "scenario YAML, Kube-OVN manifests, or an OVN NB database (file or JSON dump)" })
        .option("sb", { type: "string", describe: "the Southbound database (file or ovsdb-client JSON dump) of an NB database NETWORK" })
        .positional("datapath", { type: "string", describe: "logical datapath (optional when the microflow's inport names it)" })
        .positional("microflow", { type: "string", describe: 'ovn-trace microflow, e.g. \'inport == "p1" && eth.src == ... && ip4.dst == 10.0.0.2 && tcp.dst == 80\'' })
        .option("detailed", { type: "boolean", describe: "every table, match and action (default)" })
        .option("summary", { type: "boolean", describe: "actions only, nested by pipeline" })
        .option("minimal", { type: "boolean", describe: "only changes to the packet and where it goes" })
        .option("json", { type: "boolean", describe: "the documented JSON object (outputs, drops, hops)" })
        .option("ct", { type: "string", array: true, describe: "conntrack state for the next ct action, e.g. new or est,rpl (repeatable); default est, or new for a friendly trace to a service or a load-balancer VIP" })
        .option("lb-dst", { type: "string", describe: "backend the load balancer picks, IP[:PORT]: as ovn-trace, the first backend with that IP (its port counts only for a load balancer without backends)" })
        .option("select-id", { type: "number", describe: "ECMP member to select" })
        .option("length", { type: "number", describe: "the packet's length in bytes, Ethernet header included, which a gateway port's MTU check (check_pkt_larger, gateway_mtu) compares; without it no packet is larger, as in ovn-trace" })
        .option("friendly-names", { type: "boolean", default: true, describe: "print port and datapath names (always on)" })
        .option("from", { type: "string", describe: "friendly form: the sending port (or pod/NS/NAME for manifests)" })
        .option("to", { type: "string", describe: "friendly form: the receiving port or IPv4 or IPv6 address (or pod/NS/NAME, svc/NS/NAME[:PORT], node/NAME)" })
        .option("tcp", { type: "number", describe: "friendly form: a TCP SYN to this port" })
        .option("udp", { type: "number", describe: "friendly form: UDP to this port" })
        .option("icmp", { type: "boolean", describe: "friendly form: ICMP echo request (default)" })
        .option("arp", { type: "boolean", describe: "friendly form: ARP request for --to" })
        .option("nd", { type: "boolean", describe: "friendly form: IPv6 Neighbor Solicitation for --to's IPv6 address (to its solicited-node group)" })
        .option("ipv6", { alias: "6", type: "boolean", describe: "friendly form: an IPv6 packet; pods, ports, svc/ and node/ give their IPv6 address (the default is IPv4 where both ends have it)" })
        .option("from-external", { type: "string", describe: "friendly form: a packet arriving from outside on net1 of this VPC NAT gateway (with --to EIP, --src IP)" })
        .option("reply", { type: "boolean", describe: "also trace the answer to every packet that leaves the cluster (through a node's NIC or a NAT gateway), back in" })
        .option("src", { type: "string", default: "203.0.113.10", describe: "with --from-external: the outside source address" })
        .option("physical", { type: "boolean", describe: "also show, per chassis, the physical flows used and the logical pipelines run there" })
        .option("pcap-out", { type: "string", describe: "write the packet at every VIF and wire of its path to this pcapng file" })
        .option("format", { type: "string", choices: ["text", "mermaid"], default: "text", describe: "text, or a Mermaid sequence diagram of the path across chassis" })
        .option("path", { type: "boolean", default: true, describe: "follow the packet across chassis when its VIF is bound (--no-path: the logical trace only)" })
        .conflicts("tcp", ["udp", "icmp", "arp"])
        .conflicts("udp", ["icmp", "arp"])
        .conflicts("icmp", "arp")
        .conflicts("ipv6", "arp")
        .conflicts("nd", ["tcp", "udp", "icmp", "arp"])
        .conflicts("from-external", ["from", "arp"])
        .check((a) => {
          for (const flag of ["tcp", "udp"] as const) {
            const v = a[flag];
            if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new UsageError(`--${flag} ${String(v)}: a port is a whole number from 0 to 65535`);
          }
          if (a["select-id"] !== undefined && (!Number.isInteger(a["select-id"]) || a["select-id"] < 0)) throw new UsageError(`--select-id ${String(a["select-id"])}: expected a whole number`);
          if (a.length !== undefined && (!Number.isInteger(a.length) || a.length < 14 || a.length > 65535)) throw new UsageError(`--length ${String(a.length)}: expected a whole number of bytes from 14 to 65535`);
          return true;
        }),
    (argv) => {
      const modes = ["detailed", "summary", "minimal", "json"].filter((m) => argv[m as "detailed"] === true);
      if (modes.length > 1) throw bad(`choose one of --detailed, --summary, --minimal, --json (got ${modes.map((m) => `--${m}`).join(", ")})`);
      if (argv["pcap-out"] !== undefined) checkOutputFile("--pcap-out", argv["pcap-out"]);
      const scenario = loadNetworkArg(argv.network, { sb: argv.sb, io });
      // Lowered datapath by datapath as the packet meets them: a trace on a large network meets few.
      const compiled = compileArg(scenario, { lazy: true });
      // The other availability zones (OVN-IC), relative to the network's directory.
      const zoneScenarios = scenario.zones.map((z) => loadNetworkArg(resolve(dirname(argv.network), z)));
      let datapath = argv.datapath;
      let microflow = argv.microflow;
      const external = argv["from-external"];
      if (external !== undefined) {
        if (argv.to === undefined) throw bad("--from-external needs --to (an address of the gateway, e.g. an EIP)");
        if (argv.microflow !== undefined || argv.datapath !== undefined) throw bad("give either a microflow or --from-external/--to, not both");
      } else if (argv.from !== undefined || argv.to !== undefined) {
        if (argv.from === undefined || argv.to === undefined) throw bad("the friendly form needs both --from and --to");
        if (microflow !== undefined || (datapath !== undefined && microflow === undefined && argv.from !== undefined && false)) throw bad("give either a microflow or --from/--to, not both");
        const ends = kubeEndpoints(scenario, argv.from, argv.to, argv, zoneScenarios);
        microflow = friendlyMicroflow(scenario.network, ends.from, ends.to, ends.l4);
        if (datapath !== undefined && argv.microflow === undefined) {
          // `trace NET DATAPATH --from ...`: the second positional is the datapath.
        }
      } else if (microflow === undefined) {
        if (datapath === undefined) throw bad("give a microflow (and optionally a datapath before it), or --from and --to");
        microflow = datapath;
        datapath = undefined;
      }
      const gateways = natGatewayNodes(scenario.network);
      const hosts = nodeHostNodes(scenario.network);
      const walkNodes: WalkNode[] = [...gateways, ...hosts];
      let start: WalkStart;
      if (external !== undefined) {
        const gw = gateways.find((g) => g.name === external);
        if (!gw) throw bad(`--from-external ${external}: no NAT gateway of that name (the network has ${gateways.length ? gateways.map((g) => g.name).join(", ") : "none"})`);
        start = { kind: "node", gateway: gw.name, iface: "net1", key: externalKey(compiled.program, scenario.network, external, argv.src, argv.to!, argv) };
      } else {
        const mf = compileMicroflow(compiled.program, datapath, microflow!);
        if (!mf.ok) throw new InputError(mf.diags);
        start = { kind: "ovn", datapath: mf.value.datapath, inport: mf.value.inport, key: mf.value.key };
      }
      const diags: Diagnostic[] = [];
      // A trace to a service (by name, or to a load balancer's VIP) is the first packet of a
      // connection unless --ct says otherwise.
      const toService = (argv.to?.startsWith("svc/") === true && scenario.kube !== undefined) || (argv.to !== undefined && isVipAddress(scenario.network, argv.to));
      const ctArgs = argv.ct ?? (toService ? Array<string>(16).fill("new") : []);
      const states = ctArgs.map((c) => {
        const r = parseCtState(c);
        if (!r.ok) diags.push(error("usage.ct", `--ct ${c}: unknown flag ${JSON.stringify(r.bad)} (expected new, est, rel, rpl, inv, trk, snat, dnat)`));
        return r.ok ? r.state : 0;
      });
      let lbDst;
      if (argv["lb-dst"] !== undefined) {
        const m = /^(\[?[^\]]*?\]?)(?::(\d+))?$/.exec(argv["lb-dst"]);
        const ip = m ? parseIpAddr(m[1]!.replace(/^\[|\]$/g, "")) : undefined;
        if (!m || !ip) diags.push(error("usage.lb-dst", `--lb-dst ${argv["lb-dst"]}: expected IP[:PORT]`));
        else lbDst = { ip, ...(m[2] ? { port: Number(m[2]) } : {}) };
      }
      if (diags.length) throw new InputError(diags);
      const runOptions = { ctStates: states, ...(lbDst ? { lbDst } : {}), ...(argv["select-id"] !== undefined ? { selectId: argv["select-id"] } : {}), ...(argv.length !== undefined ? { frameLength: argv.length } : {}) };
      if (gateways.length > 0 || start.kind === "node") {
        // Through NAT gateways: OVN segments and gateway steps, in order.
        if (argv.json) throw bad("--json is not available for networks with NAT gateways yet; use --detailed, --summary or --minimal");
        const exec = new LogicalExecutor(compiled.program, { ct: { kind: "trace" }, calls: portSecurityCalls(scenario.network, compiled.program), macBindings: traceInputs(scenario.network).macBindings });
        const style = argv.minimal ? "minimal" : argv.summary ? "summary" : "detailed";
        const walkOpts: WalkOptions = { runOptions, ovnSink: (key) => new TraceRecorder(compiled.program, key) };
        const walk = walkNetwork(exec, walkNodes, start, walkOpts);
        io.out(renderWalk(walk, { ovn: style }));
        if (argv.reply) for (const r of walkReplies(exec, walkNodes, walk, walkOpts)) io.out(`\nThe answer from outside, back in:\n${renderWalk(r, { ovn: style })}`);
        return;
      }
      const mf = { value: start };
      const srcPort = compiled.program.datapaths.get(mf.value.datapath)?.ports.get(mf.value.inport)?.name;
      const wantsPath = argv.physical === true || argv["pcap-out"] !== undefined || argv.format === "mermaid";
      const follow = canFollow(scenario.network, srcPort);
      if (wantsPath && !follow) {
        throw bad(`--physical, --pcap-out and --format mermaid follow the packet across chassis: the input port ${srcPort ?? "?"} must be a VIF bound to a chassis (set its chassis)`);
      }
      if (wantsPath && argv.json) throw bad("--json describes the logical trace; it does not combine with --physical, --pcap-out or --format mermaid");
      const zones = zoneScenarios.map((z) => z.network);
      let path;
      if (follow && argv.path !== false && !argv.json) {
        try {
          path = followPath(scenario.network, srcPort!, mf.value.key, runOptions, argv.physical === true, zones);
        } catch (e) {
          // Asked for explicitly, a path that cannot be followed is an error; otherwise the
          // logical trace stands on its own and a note says why the path is missing.
          if (wantsPath || !(e instanceof InputError)) throw e;
          io.err(`ovnsim: note: the path across chassis is not shown: ${e.diags.map((d) => d.message).join("; ")}\n`);
        }
      }
      if (path && argv["pcap-out"] !== undefined) {
        const n = writePathPcap(path, argv["pcap-out"]);
        io.err(`wrote ${n} packets to ${argv["pcap-out"]}\n`);
      }
      if (path && argv.format === "mermaid") {
        io.out(renderPathMermaid(path));
        return;
      }
      const exec = new LogicalExecutor(compiled.program, { ct: { kind: "trace" }, calls: portSecurityCalls(scenario.network, compiled.program), macBindings: traceInputs(scenario.network).macBindings });
      const rec = new TraceRecorder(compiled.program, mf.value.key);
      const result = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, rec, runOptions);
      const mode = modes[0] ?? "detailed";
      if (mode === "json") io.out(JSON.stringify(traceJson(rec.tree, result), null, 2) + "\n");
      else if (mode === "minimal") io.out(renderMinimal(rec.tree));
      else if (mode === "summary") io.out(renderSummary(rec.tree));
      else io.out(renderDetailed(rec.tree));
      if (path) io.out(renderPath(path, argv.physical === true, mode === "minimal" ? "minimal" : mode === "summary" ? "summary" : "detailed"));
      if (mode !== "json" && hosts.length > 0) {
        // Past OVN: the node hosts the packet was handed to.
        const style = mode === "minimal" ? "minimal" : mode === "summary" ? "summary" : "detailed";
        const hostExec = new LogicalExecutor(compiled.program, { ct: { kind: "trace" }, calls: portSecurityCalls(scenario.network, compiled.program), macBindings: traceInputs(scenario.network).macBindings });
        const walkOpts: WalkOptions = { runOptions, ovnSink: (key) => new TraceRecorder(compiled.program, key) };
        for (const { host, walk } of followIntoHosts(hostExec, walkNodes, hosts, result.outputs, walkOpts)) {
          io.out(`\nOn node ${host.name}'s host (ovn0 is "${host.port}"):\n${renderWalk(walk, { ovn: style })}`);
          if (argv.reply) for (const r of walkReplies(hostExec, walkNodes, walk, walkOpts)) io.out(`\nThe answer from outside, back in:\n${renderWalk(r, { ovn: style })}`);
        }
      }
    },
  );
}

/** Whether `text` is the address of a load balancer's VIP in `net`. */
function isVipAddress(net: Network, text: string): boolean {
  const want = addressKey(text);
  if (want === undefined) return false;
  for (const lb of net.loadBalancers.values()) {
    for (const vip of lb.vips.keys()) {
      const e = parseLbEndpoint(vip);
      if (typeof e !== "string" && addressKey(e.ip) === want) return true;
    }
  }
  return false;
}
