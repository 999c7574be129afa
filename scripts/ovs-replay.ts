/**
 * The replay oracle: real packets through ovnsim's datapath and through a real OVS datapath,
 * packet by packet.
 *
 * The packets: `PACKETS` of those that `replay --map auto` lays onto node1 of a network from
 * `bench/ndpi-composite-99k.pcap` (the shared captures), or for an oracle named `NETWORK#NAME`
 * from `bench/NAME.pcap`, in capture order: the first ones, or for an oracle named `NETWORK@N`
 * those from the Nth on (both sides start with no connections there). Real OVS is the
 * dummy-datapath ovs-vswitchd that a real ovn-controller programs as chassis node1 (the chassis
 * scripts/ovs-megaflows.ts starts); each frame goes in through its VIF (`netdev-dummy/receive`) and
 * what the datapath sends is read back from the interfaces' `tx_pcap` files after each packet
 * (once the datapath counts the packet as received, and, after a packet that may have gone on to
 * ovn-controller, once the outputs have stayed the same for 25 ms; the commands go over one
 * connection to ovs-vswitchd's control socket, `UnixctlClient`):
 * frames on the VIFs, and on the underlay towards node2 the Geneve packet, read as its inner frame,
 * its VNI and its OVN port-key option (or the VXLAN packet: its inner frame, and the datapath and
 * output port its VNI carries; VXLAN has no input port, shown as `?`). ovnsim replays the same frames through `Replayer` and its
 * `PacketSink`. Datapath and port keys are compared by name, since ovnsim numbers them itself.
 *
 * Two real chassis (`TWO_CHASSIS`, `NETWORK+node2`, and the conversations named `NAME+node2`):
 * node2 gets its own ovs-vswitchd and ovn-controller too, the packets are those the mapping lays
 * onto either node, each going in on its own node, and the harness carries what one node sends
 * the other: a tunnel packet to the other's encap address goes into its `eth0` (where OVS's
 * native tunnelling pops it), a frame onto a provider network into the uplink of the same network
 * on the other node (a hub: it delivers to every other node, a superset of what a learning switch
 * would), until neither sends more. Every output line then starts with the node that sent it.
 * Otherwise node2 is fake (`ovn-sbctl chassis-add`): what node1 tunnels to it ends there, on both
 * sides.
 *
 * Set aside, so that the comparison is of forwarding and connection tracking alone:
 * - Checksums: every frame's IPv4, TCP, UDP, ICMP and ICMPv6 checksums are recomputed before it
 *   goes in (a fragmented datagram's TCP or UDP checksum over the reassembled datagram, when all
 *   its fragments are among the packets: OVS's conntrack reassembles and checks it).
 *   Captures hold the wrong checksums of offloading senders; OVS's conntrack marks those packets
 *   invalid, ovnsim's does not check (README, known differences).
 * - Time: real OVS's clock is stopped (`time/stop`) for the whole run, so that no connection
 *   expires while the packets go in over tens of seconds of real time; ovnsim's replay clock stands
 *   still too. (The capture's own times would change nothing in these windows: each spans 1 to 13 s
 *   of capture time, under every timeout.) The `timeouts` conversation moves both clocks on to each
 *   packet's time (`time/warp`).
 * - MTU: the interfaces' MTU is raised to 65000. The dummy interfaces drop a frame over their MTU
 *   (1500 by default; a 1482-byte packet no longer fits once Geneve wraps it); ovnsim models no
 *   interface MTU.
 * - Gateway chassis: a gateway port that may be active on node1 and others is kept on node1 alone.
 *   The real node2 runs no BFD, and ovn-controller makes a chassis active for a port of several
 *   chassis only while BFD reaches another of them (`ha_chassis_group_is_active`), so node1 never
 *   would be; ovnsim, like a healthy cluster, makes the highest priority active.
 * - Packets of OVS's own: ovn-controller's periodic announcements of ports on provider networks
 *   (unpadded ARP frames whose sender and target addresses are the same, or RARP requests for a
 *   port without an IPv4 address, on the provider network or a port of a switch with a localnet
 *   port, from a MAC and address that ovn-controller announces) and BFD between gateway chassis are left out of what real OVS sent; no packet of
 *   the capture causes them. A packet can make a frame of that very shape (a router asking for its
 *   own address); a conversation about that asks with `quietAnnouncements`, after ovn-controller's
 *   last announcement, and keeps every frame.
 * - VLAN tags: a frame ovnsim sends out a tagged localnet port gets the port's tag, as
 *   ovn-controller's physical flows push it (replay reports the logical port's frame); a frame the
 *   capture brings from a provider network goes to real OVS with the tag.
 *
 * Networks (`SCENARIOS`): each agrees with OVS on every packet. On network-policy that includes 28
 * packets of one connection that OVS's conntrack finds outside their TCP window and marks invalid
 * (its counter `conntrack_tcp_seq_chk_failed`, kept in the recording), as ovnsim's window tracking
 * does (src/dataplane/conntrack-tcp.ts).
 *
 * Beside the capture, `hairpinPackets` is a conversation of its own: two load-balancer hairpins
 * (web-1.default to its service's VIP, balanced to itself), recorded in replay-hairpin.json.
 *
 * Each recording (fixtures/ovs/replay-SCENARIO.json) keeps, per packet, each output as
 * `vif PORT sha256` or `tun FROM>TO dp=DATAPATH sha256` (TO a port or a multicast group such as
 * `_MC_flood`), sorted: digests only, so nothing of the
 * capture is copied into the repository.
 *
 * Run: `npx tsx scripts/ovs-replay.ts [NAME...]` compares real OVS now with the recordings (all,
 * or the named ones: a scenario file or `hairpin`; exit 1 when they differ); `--record` rewrites
 * them. test/ovn/ovs-replay.test.ts and ovs-replay-more.test.ts hold ovnsim to the recordings.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { List } from "immutable";
import { be16, be32, error, fail, formatMac, getU16, getU32, ok, parseIpv4, parseMac, type Result } from "../src/base/index.js";
import { announcedEntry, announcedMacBindings, announcedMacOwners, compileMicroflow, compilePhysical, localnetTpid, routerPortOf, traceInputs } from "../src/compile/index.js";
import type { PacketSink } from "../src/dataplane/index.js";
import { KEY_WORDS, extractKey, frameFromKey, generatedFrame, rewriteFrame } from "../src/flow/index.js";
import { MacBinding, switchOfPort, type Network } from "../src/model/index.js";
import { computeSctpChecksum, decodeFrame, fillIpv4HeaderChecksum, fillL4Checksum, internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, ovnMetadataOf, pushVlan } from "../src/packet/index.js";
import { isSupportedLinkType, openCapture } from "../src/pcap/index.js";
import { UnixctlClient, ovsAvailable, setOf, startRealChassis, type OvsChassis } from "../src/ovn/index.js";
import { Replayer, announcementFrame, announcementSource, mapInjector, refusedAnnouncements } from "../src/replay/index.js";
import { loadNetworkFile, macBindingCommand } from "../src/scenario/index.js";
import { mapOf, uuidOf, versionOf } from "./ovs-megaflows.js";
import { ovnsimKeyNames } from "../src/cli/conformance-run.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const CAPTURE = "bench/ndpi-composite-99k.pcap";
/**
 * The networks replayed: the Kube-OVN default install, the NetworkPolicy one (stateful ACLs), the
 * default VPC with its router (kube-ovn-cluster), custom VPCs with overlapping subnets, the
 * default install over VXLAN (the real chassis then runs with `ovn-encap-type=vxlan`), and two
 * underlay networks, where localnet ports send VLAN-tagged frames onto provider networks (the real
 * chassis then has `ovn-bridge-mappings` and a bridge with an uplink per provider network), and
 * gateway routers and a distributed gateway port with SNAT, DNAT and dnat_and_snat (gateway-nat),
 * and a custom VPC behind Kube-OVN's NAT gateway pod (vpc-nat-gateway: the OVN side of it).
 */
export const SCENARIOS = ["kube-ovn-default.yaml", "network-policy.yaml", "kube-ovn-cluster.yaml", "vpc-overlap.yaml", "kube-ovn-vxlan.yaml", "kube-ovn-underlay.yaml", "localnet-vlan.yaml", "gateway-nat.yaml", "vpc-nat-gateway.yaml"] as const;
/**
 * Later stretches of the capture, where it holds what the first packets do not: a NAT binding whose
 * reply tuple another connection holds (@2000, five packets get another source port), a
 * connection far outside its TCP window (@6000, 109 packets), an echo reply that answers no
 * request, which conntrack finds invalid and the NetworkPolicy's ACL stage drops (@14000), IP
 * fragments, whose datagrams conntrack reassembles, and some that never complete (@16000), and
 * ICMP errors, mapped with the connections they quote: 16 related to theirs and delivered, 4
 * about connections conntrack does not have, invalid and dropped (@18280); and on the default
 * install made dual-stack, the capture's IPv6 traffic laid onto the pods' IPv6 addresses: TCP and
 * UDP beside IPv4, with four ICMPv6 errors mapped with the connections they quote and related to
 * them (@20000), and a duplicate address check, flooded (@29000).
 */
export const LATER = ["kube-ovn-default.yaml@2000", "kube-ovn-default.yaml@6000", "network-policy.yaml@14000", "network-policy.yaml@16000", "network-policy.yaml@18280", "kube-ovn-dual-stack.yaml@20000", "kube-ovn-dual-stack.yaml@29000"] as const;
/**
 * Other real captures (`NETWORK#CAPTURE`, a capture of the shared `bench/` folder by its name
 * without `.pcap`), so that the traffic is not one capture's alone: two ISPs' traffic (one of them
 * fragment-heavy, in VLAN tags) and a mixed desktop capture through the NetworkPolicy scenario's
 * stateful ACLs, and another desktop capture, with 213 packets that OVS finds outside their TCP
 * window, through the default install; and an IPv6-only capture (reddit browsing over TLS) through
 * the default install made dual-stack, its IPv6 hosts laid onto the pods' IPv6 addresses.
 */
export const OTHER_CAPTURES = ["network-policy.yaml#wand-fragtest-isp-vlan-2010-10k", "network-policy.yaml#wand-lpi-isp-2007-10k", "kube-ovn-default.yaml#pcpp-example2-4709", "network-policy.yaml#pcpp-example-4631", "kube-ovn-dual-stack.yaml#ndpi-reddit-ipv6"] as const;
/**
 * Windows with node2 real too (`+node2`): the packets the mapping lays onto either node, each
 * going in where it enters, and what one node sends the other taken in there, so that both ends of
 * a connection between the nodes, and the receiving node's pipelines, are held to real OVS.
 */
export const TWO_CHASSIS = ["kube-ovn-default.yaml+node2", "network-policy.yaml+node2", "kube-ovn-vxlan.yaml+node2", "kube-ovn-underlay.yaml+node2", "gateway-nat.yaml+node2"] as const;
/** The second real chassis of a two-chassis oracle or conversation. */
export const NODE2 = "node2";
/** Every oracle of a capture: `SCENARIOS`, then `LATER`, then `OTHER_CAPTURES`, then `TWO_CHASSIS`. */
export const ORACLES: readonly string[] = [...SCENARIOS, ...LATER, ...OTHER_CAPTURES, ...TWO_CHASSIS];
export const CHASSIS = "node1";

/** Where a scenario's recording is kept (`NETWORK#CAPTURE` as `NETWORK--CAPTURE`). */
export function recordingFile(scenario: string): string {
  return join(ROOT, "fixtures/ovs", `replay-${scenario.replace(/\.yaml/, "").replace("#", "--")}.json`);
}

/**
 * An oracle name's network file, capture (under the shared captures), first packet and real
 * chassis: `NETWORK[#CAPTURE][@N][+CHASSIS...]`, where each `+CHASSIS` is made real beside
 * `CHASSIS` and the packets are those the mapping lays onto any of them.
 */
export function oracleName(name: string): { network: string; capture: string; from: number; chassis: readonly string[] } {
  const m = /^([^#@+]*)(?:#([^@+]+))?(?:@(\d+))?((?:\+[^+]+)*)$/.exec(name)!;
  const more = m[4] ? m[4].split("+").slice(1) : [];
  return { network: m[1]!, capture: m[2] !== undefined ? `bench/${m[2]}.pcap` : CAPTURE, from: m[3] !== undefined ? Number(m[3]) : 0, chassis: [CHASSIS, ...more] };
}
/** How many packets: enough for hundreds of connections, short enough for CI (about 20 s live). */
export const PACKETS = 1000;
const MTU = 65000;
/** pcap link type of an Ethernet frame. */
const LINKTYPE_ETHERNET = 1;

/** The shared captures' directory (`$OVNSIM_PCAPS`, else `../shared/pcaps`). */
export function pcapsDir(): string {
  return process.env.OVNSIM_PCAPS ?? resolve(ROOT, "../shared/pcaps");
}

export interface ReplayRecording {
  readonly ovs: string;
  readonly ovn: string;
  readonly scenario: string;
  readonly capture: string;
  /** SHA-256 of the capture file, so a different capture is told apart from a changed datapath. */
  readonly captureSha256: string;
  readonly notes: readonly string[];
  /** Per packet, the outputs (see the module header), sorted. */
  readonly outputs: readonly (readonly string[])[];
  /**
   * How many packets OVS's conntrack found outside their connection's TCP window (its coverage
   * counter `conntrack_tcp_seq_chk_failed`), which its ACLs then drop as invalid.
   */
  readonly tcpSeqCheckFailed: number;
}

/** One packet for a real chassis: the logical port it enters from and its frame. */
export interface OraclePacket {
  readonly port: string;
  readonly frame: Uint8Array;
  /** The chassis it enters on (default `CHASSIS`): a VIF's, or where a localnet port takes it in. */
  readonly chassis?: string;
  /** For a packet from the provider network: the localnet port's datapath and port keys. */
  readonly localnet?: { readonly datapath: number; readonly inport: number };
  /**
   * When it is sent, in milliseconds from the start, for a conversation about time: real OVS's
   * clock is stopped and moved on to it (`time/stop`, `time/warp`), ovnsim's replay clock set to it.
   */
  readonly at?: number;
}

/**
 * The scenario (a file of scenarios/, or a path from the repository's root) as `oracleView`
 * shows it.
 */
export function oracleNetwork(scenario: string, allBackends = false): Result<Network> {
  const sc = loadNetworkFile(join(ROOT, scenario.includes("/") ? "" : "scenarios", scenario));
  return sc.ok ? ok(oracleView(sc.value.network, allBackends)) : sc;
}

/**
 * `net` with gateway ports that include node1 on node1 alone, and one backend per VIP unless
 * `allBackends` (conversations about the backend choice itself).
 */
export function oracleView(net: Network, allBackends = false): Network {
  // A gateway port whose chassis include node1 is kept on node1 alone: the real node2 runs no BFD,
  // and a real chassis takes over a gateway port of several chassis only while BFD to another of
  // them is up, so node1 would never be active.
  const onlyHere = <T extends { readonly chassis: string }>(l: List<T>): List<T> => (l.some((g) => g.chassis === CHASSIS) ? l.filter((g) => g.chassis === CHASSIS) : l);
  return net
    .set("loadBalancers", allBackends ? net.loadBalancers : net.loadBalancers.map((lb) => lb.set("vips", lb.vips.map((bs) => (bs.isEmpty() ? bs : List([bs.first()!.split(",")[0]!.trim()]))))))
    .set("routers", net.routers.map((r) => r.set("ports", r.ports.map((p) => p.set("gatewayChassis", onlyHere(p.gatewayChassis))))))
    .set("haChassisGroups", net.haChassisGroups.map((g) => g.set("chassis", onlyHere(g.chassis))));
}

/**
 * Recomputes a frame's IPv4 header checksum and its TCP, UDP or ICMP checksum (an unfragmented
 * Ethernet/IPv4 frame), or its TCP, UDP or ICMPv6 checksum (an Ethernet/IPv6 frame whose
 * transport header follows the IPv6 header), in place; other frames are left alone.
 */
export function fixChecksums(f: Uint8Array): void {
  if (f.length >= 54 && f[12] === 0x86 && f[13] === 0xdd) {
    const len = (f[18]! << 8) | f[19]!;
    const proto = f[20]!;
    if (54 + len > f.length) return;
    const sum = ipv6PseudoHeaderSum(f.subarray(22, 38), f.subarray(38, 54), proto, len);
    if (proto === 6 && len >= 20) fillL4Checksum(f, 54, len, 16, sum);
    else if (proto === 17 && len >= 8) fillL4Checksum(f, 54, len, 6, sum, true);
    else if (proto === 58 && len >= 4) fillL4Checksum(f, 54, len, 2, sum);
    return;
  }
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return;
  const ihl = (f[14]! & 0xf) * 4;
  const total = (f[16]! << 8) | f[17]!;
  if (ihl < 20 || total < ihl || 14 + total > f.length) return;
  fillIpv4HeaderChecksum(f, 14, ihl);
  if (((f[20]! & 0x3f) | f[21]!) !== 0) return;
  const proto = f[23]!;
  const off = 14 + ihl;
  const len = total - ihl;
  const src = ((f[26]! << 24) | (f[27]! << 16) | (f[28]! << 8) | f[29]!) >>> 0;
  const dst = ((f[30]! << 24) | (f[31]! << 16) | (f[32]! << 8) | f[33]!) >>> 0;
  if (proto === 6 && len >= 20) fillL4Checksum(f, off, len, 16, ipv4PseudoHeaderSum(src, dst, 6, len));
  else if (proto === 17 && len >= 8 && (f[off + 6] !== 0 || f[off + 7] !== 0)) fillL4Checksum(f, off, len, 6, ipv4PseudoHeaderSum(src, dst, 17, len), true);
  else if (proto === 1 && len >= 4) fillL4Checksum(f, off, len, 2, 0);
}

/**
 * Recomputes the TCP or UDP checksum of each IPv4 datagram whose fragments are all among `frames`
 * (first fragment, then the rest, in any order), over the reassembled datagram, in its first
 * fragment: `fixChecksums` cannot, one frame at a time, and OVS's conntrack checks the checksum
 * of the datagram it reassembles.
 */
export function fixFragmentChecksums(frames: readonly Uint8Array[]): void {
  interface Part {
    readonly f: Uint8Array;
    readonly off: number;
    readonly more: boolean;
    readonly data: Uint8Array;
  }
  // Datagrams in capture order: an identification used again (a fragment overlapping one already
  // in the group) starts a new datagram.
  const open = new Map<string, Part[]>();
  const groups: Part[][] = [];
  for (const f of frames) {
    if (f.length < 34 || getU16(f, 12) !== 0x0800) continue;
    const frag = getU16(f, 20);
    if ((frag & 0x3fff) === 0) continue;
    const ihl = (f[14]! & 0xf) * 4;
    const part: Part = { f, off: (frag & 0x1fff) * 8, more: (frag & 0x2000) !== 0, data: f.subarray(14 + ihl, 14 + getU16(f, 16)) };
    const id = `${getU32(f, 26)} ${getU32(f, 30)} ${f[23]} ${getU16(f, 18)}`;
    let g = open.get(id);
    if (g === undefined || g.some((p) => part.off < p.off + p.data.length && p.off < part.off + part.data.length)) {
      g = [];
      open.set(id, g);
      groups.push(g);
    }
    g.push(part);
  }
  for (const g of groups) {
    const parts = [...g].sort((a, b) => a.off - b.off);
    let end = 0;
    let done = false;
    for (const p of parts) {
      if (p.off !== end) break;
      end += p.data.length;
      if (!p.more) done = true;
    }
    const first = parts[0]!;
    const proto = first.f[23]!;
    if (!done || first.off !== 0 || (proto !== 6 && proto !== 17)) continue;
    const all = new Uint8Array(end);
    for (const p of parts) all.set(p.data, p.off);
    const at = proto === 6 ? 16 : 6;
    if (proto === 17 && getU16(all, 6) === 0) continue;
    all[at] = 0;
    all[at + 1] = 0;
    let c = internetChecksum(all, 0, end, ipv4PseudoHeaderSum(getU32(first.f, 26), getU32(first.f, 30), proto, end));
    if (proto === 17 && c === 0) c = 0xffff;
    const l4 = 14 + (first.f[14]! & 0xf) * 4;
    first.f[l4 + at] = c >>> 8;
    first.f[l4 + at + 1] = c & 0xff;
  }
}

/**
 * The first `count` packets the mapping lays onto `chassis` (default `CHASSIS` alone), as frames
 * (checksums fixed), from the capture at `file`; frames cut short by the capture are skipped.
 */
export function oraclePackets(net: Network, file: string, count = PACKETS, chassis: readonly string[] = [CHASSIS]): Result<OraclePacket[]> {
  const bytes = new Uint8Array(readFileSync(file));
  const r = new Replayer(net, {});
  const inj = mapInjector(r, "auto", [{ file, bytes }]);
  const cap = openCapture(bytes, file);
  if (!cap.ok) return cap;
  const rd = cap.value;
  const key = new Uint32Array(KEY_WORDS);
  const orig = new Uint32Array(KEY_WORDS);
  const buf = new Uint8Array(262144);
  const out: OraclePacket[] = [];
  while (out.length < count && rd.next()) {
    if (!isSupportedLinkType(rd.linkType) || rd.caplen !== rd.origlen) continue;
    extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, key, 0, false);
    orig.set(key);
    r.beginPacket(rd.data, rd.offset, rd.origlen);
    const i = inj.place(key);
    if (i < 0) continue;
    const at = inj.injections[i]!;
    if (!chassis.includes(at.chassis)) continue;
    const n = rewriteFrame(rd.data, rd.offset, rd.caplen, orig, key, buf);
    // An ICMP error's quoted packet, mapped onto its connection.
    r.icmp.rewriteQuoted(buf, n);
    const frame = buf.slice(0, n);
    fixChecksums(frame);
    // Not a VIF: a localnet port, where the packet comes in from its provider network.
    const ln = r.injectionFor(at.portName) === undefined ? r.group.datapath(at.chassis)?.exec.program.portByName.get(at.portName) : undefined;
    const on = at.chassis === CHASSIS ? {} : { chassis: at.chassis };
    out.push(ln ? { port: at.portName, frame, localnet: { datapath: ln.datapath, inport: ln.key }, ...on } : { port: at.portName, frame, ...on });
  }
  if (out.length < count) return fail(error("oracle.short", `${file} lays only ${out.length} packets onto ${chassis.join(" and ")}, not ${count}`));
  fixFragmentChecksums(out.map((p) => p.frame));
  return ok(out);
}

/**
 * A NAT binding OVS cannot make: gr1 of gateway-nat.yaml SNATs vm-g1 and vm-g3 to 172.16.0.2.
 * OVS finds another tuple for a binding only by varying TCP and UDP ports, so a second ping with
 * the same identifier, or a second SCTP association (keyed by its addresses alone), to the same
 * server gets no binding while the first holds the reply tuple: the packet goes on untranslated.
 */
export const NAT_EXHAUSTION = "nat-exhaustion";

/** The nat-exhaustion conversation's packets (`NAT_EXHAUSTION`). */
export function natExhaustionPackets(net: Network): Result<OraclePacket[]> {
  const from = (mac: string, ip: string): string => `eth.src == ${mac} && eth.dst == 00:00:00:0b:00:01 && ip4.src == ${ip} && ip4.dst == 9.9.9.9 && ip.ttl == 64`;
  const g1 = { port: "vm-g1", head: from("00:00:00:0b:00:02", "10.11.0.2") };
  const g3 = { port: "vm-g3", head: from("00:00:00:0b:00:04", "10.11.0.4") };
  const up = { port: "upstream", head: "eth.src == 00:00:00:ac:00:01 && eth.dst == 00:00:00:ac:00:02 && ip4.src == 9.9.9.9 && ip4.dst == 172.16.0.2 && ip.ttl == 64" };
  const echo = (type: 0 | 8): string => `icmp4 && icmp4.type == ${type} && icmp4.code == 0`;
  const sctp = (s: number, d: number): string => `sctp && sctp.src == ${s} && sctp.dst == ${d}`;
  // Each step: who sends, what, and an echo message's identifier.
  const steps: { at: { port: string; head: string }; l4: string; id?: number }[] = [
    { at: g1, l4: echo(8), id: 0x77 },
    { at: g3, l4: echo(8), id: 0x77 },
    { at: up, l4: echo(0), id: 0x77 },
    { at: g3, l4: echo(8), id: 0x78 },
    { at: up, l4: echo(0), id: 0x78 },
    { at: g3, l4: echo(8), id: 0x77 },
    { at: g1, l4: sctp(5000, 5001) },
    { at: g3, l4: sctp(6000, 5001) },
    { at: up, l4: sctp(5001, 5000) },
  ];
  const frames = microflowPackets(
    net,
    steps.map((st) => ({ port: st.at.port, match: `${st.at.head} && ${st.l4}` })),
  );
  if (!frames.ok) return frames;
  return ok(
    frames.value.map((p, i) => {
      const id = steps[i]!.id;
      if (id === undefined) return p;
      const frame = p.frame.slice();
      frame.set(be16(id), 14 + 20 + 4);
      fixChecksums(frame);
      return { ...p, frame };
    }),
  );
}

/** The hairpin conversation's recording (`hairpinPackets`), beside the capture ones. */
export const HAIRPIN = "hairpin";

/** web-1.default's TCP packet to its service's VIP, as an ovn-trace microflow (ports and flags filled in). */
export function hairpinMicroflow(sport: number, dport: number, flags: number): string {
  return `inport == "web-1.default" && eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:02 && ip4.src == 10.16.0.2 && ip4.dst == 10.96.0.10 && ip.ttl == 64 && tcp && tcp.src == ${sport} && tcp.dst == ${dport} && tcp.flags == 0x${flags.toString(16)}`;
}

/**
 * Two load-balancer hairpins on kube-ovn-default (with one backend per VIP, web-1.default reaching
 * 10.96.0.10:80 always reaches itself): each a handshake, data both ways and a close. Both
 * directions leave web-1.default towards 10.96.0.10: the backend answers the address the request
 * came from, which the hairpin SNAT made the VIP.
 */
export function hairpinPackets(net: Network): Result<OraclePacket[]> {
  const plan = compilePhysical(net);
  if (!plan.ok) return plan;
  const program = plan.value.chassis.get(CHASSIS)!.program;
  const out: OraclePacket[] = [];
  for (const sport of [44010, 44011]) {
    const steps: [number, number, number, number][] = [
      [sport, 80, 0x02, 0],
      [8080, sport, 0x12, 0],
      [sport, 80, 0x10, 0],
      [sport, 80, 0x18, 40],
      [8080, sport, 0x18, 200],
      [sport, 80, 0x11, 0],
      [8080, sport, 0x11, 0],
      [sport, 80, 0x10, 0],
    ];
    for (const [s, d, flags, len] of steps) {
      const mf = compileMicroflow(program, undefined, hairpinMicroflow(s, d, flags));
      if (!mf.ok) return mf;
      const frame = frameFromKey(mf.value.key, { payload: new Uint8Array(len).fill(0x61) });
      fixChecksums(frame);
      out.push({ port: "web-1.default", frame });
    }
  }
  return ok(out);
}

/** The ICMP-through-NAT conversation's recording (`icmpNatPackets`), beside the capture ones. */
export const ICMP_NAT = "icmp-nat";

/**
 * ICMP through the gateway router of gateway-nat (all on node1), as conntrack keys it: errors
 * about connections that went through SNAT, DNAT and dnat_and_snat come back translated, their
 * quoted packet too; an error quoting no connection is not; pings are told apart by identifier,
 * and a reply that answers no request is not one. Each step: the sending port, its microflow, and
 * for an ICMP message the datagram it quotes (a microflow, and how many bytes past its IP header).
 */
export function icmpNatPackets(net: Network): Result<OraclePacket[]> {
  const plan = compilePhysical(net);
  if (!plan.ok) return plan;
  const program = plan.value.chassis.get(CHASSIS)!.program;
  const up = `eth.src == 00:00:00:ac:00:01 && eth.dst == 00:00:00:ac:00:02`;
  const l4 = (proto: "udp" | "tcp", s: number, d: number): string => `${proto} && ${proto}.src == ${s} && ${proto}.dst == ${d}${proto === "tcp" ? " && tcp.flags == 0x2" : ""}`;
  const ip = (src: string, dst: string, ttl = 64): string => `ip4.src == ${src} && ip4.dst == ${dst} && ip.ttl == ${ttl}`;
  const icmp = (type: number, code: number): string => `icmp4 && icmp4.type == ${type} && icmp4.code == ${code}`;
  // `id`: an echo message's identifier (bytes 4-5 of the ICMP header).
  const steps: { port: string; mf: string; payload?: number; id?: number; quote?: { mf: string; bytes: number; payload: number } }[] = [
    // vm-g3's UDP through the router's SNAT, and errors about it from the far end and from a router on the way.
    { port: "vm-g3", mf: `eth.src == 00:00:00:0b:00:04 && eth.dst == 00:00:00:0b:00:01 && ${ip("10.11.0.4", "1.1.1.1")} && ${l4("udp", 42002, 53)}`, payload: 20 },
    { port: "upstream", mf: `${up} && ${ip("1.1.1.1", "172.16.0.2")} && ${icmp(3, 3)}`, quote: { mf: `${ip("172.16.0.2", "1.1.1.1", 63)} && ${l4("udp", 42002, 53)}`, bytes: 8, payload: 20 } },
    { port: "upstream", mf: `${up} && ${ip("172.16.0.1", "172.16.0.2")} && ${icmp(11, 0)}`, quote: { mf: `${ip("172.16.0.2", "1.1.1.1", 1)} && ${l4("udp", 42002, 53)}`, bytes: 8, payload: 20 } },
    // An error about a port no connection has.
    { port: "upstream", mf: `${up} && ${ip("1.1.1.1", "172.16.0.2")} && ${icmp(3, 3)}`, quote: { mf: `${ip("172.16.0.2", "1.1.1.1", 63)} && ${l4("udp", 42999, 53)}`, bytes: 8, payload: 20 } },
    // vm-g2's TCP through its dnat_and_snat, and an error quoting the whole TCP header.
    { port: "vm-g2", mf: `eth.src == 00:00:00:0b:00:03 && eth.dst == 00:00:00:0b:00:01 && ${ip("10.11.0.3", "8.8.8.8")} && ${l4("tcp", 42001, 443)}` },
    { port: "upstream", mf: `${up} && ${ip("8.8.8.8", "172.16.0.11")} && ${icmp(3, 1)}`, quote: { mf: `${ip("172.16.0.11", "8.8.8.8", 63)} && ${l4("tcp", 42001, 443)}`, bytes: 20, payload: 0 } },
    // A ping through the SNAT, its reply, a reply with another identifier, and a request with the same one from outside.
    { port: "vm-g1", mf: `eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01 && ${ip("10.11.0.2", "9.9.9.9")} && ${icmp(8, 0)}`, payload: 8, id: 0x1234 },
    { port: "upstream", mf: `${up} && ${ip("9.9.9.9", "172.16.0.2")} && ${icmp(0, 0)}`, payload: 8, id: 0x1234 },
    { port: "upstream", mf: `${up} && ${ip("9.9.9.9", "172.16.0.2")} && ${icmp(0, 0)}`, payload: 8, id: 0x4321 },
    { port: "upstream", mf: `${up} && ${ip("9.9.9.9", "172.16.0.2")} && ${icmp(8, 0)}`, payload: 8, id: 0x1234 },
    // UDP from outside to the DNAT address, and vm-g1's port-unreachable back.
    { port: "upstream", mf: `${up} && ${ip("172.16.0.1", "172.16.0.10")} && ${l4("udp", 50001, 5000)}`, payload: 12 },
    { port: "vm-g1", mf: `eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01 && ${ip("10.11.0.2", "172.16.0.1")} && ${icmp(3, 3)}`, quote: { mf: `${ip("172.16.0.1", "10.11.0.2", 63)} && ${l4("udp", 50001, 5000)}`, bytes: 8, payload: 12 } },
  ];
  const out: OraclePacket[] = [];
  for (const st of steps) {
    const mf = compileMicroflow(program, undefined, `inport == "${st.port}" && ${st.mf}`);
    if (!mf.ok) return mf;
    let payload = new Uint8Array(st.payload ?? 0).fill(0x61);
    if (st.quote) {
      const q = compileMicroflow(program, undefined, `inport == "${st.port}" && ${st.quote.mf}`);
      if (!q.ok) return q;
      const dgram = frameFromKey(q.value.key, { payload: new Uint8Array(st.quote.payload).fill(0x62) });
      fixChecksums(dgram);
      // The quoted datagram: its IP header and the first bytes after it.
      payload = dgram.slice(14, 14 + 20 + st.quote.bytes);
    }
    const frame = frameFromKey(mf.value.key, { payload });
    const id = st.id;
    if (id !== undefined) {
      frame[14 + 20 + 4] = id >>> 8;
      frame[14 + 20 + 5] = id & 0xff;
    }
    fixChecksums(frame);
    out.push({ port: st.port, frame });
  }
  return ok(out);
}

/** The fragments conversation's recording (`fragmentPackets`), beside the capture ones. */
export const FRAGMENTS = "fragments";

/** A UDP or TCP datagram from web-1.frontend (10.16.0.10) to 10.16.0.`dst`, its checksum over the whole. */
function webDatagram(proto: 6 | 17, dst: number, sport: number, dport: number, n: number): Uint8Array {
  const l4 = new Uint8Array((proto === 6 ? 20 : 8) + n).fill(0x61);
  if (proto === 6) l4.set([...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
  else l4.set([...be16(sport), ...be16(dport), ...be16(l4.length), 0, 0]);
  const at = proto === 6 ? 16 : 6;
  const c = internetChecksum(l4, 0, l4.length, ipv4PseudoHeaderSum(0x0a10000a, 0x0a100000 | dst, proto, l4.length));
  l4[at] = c >>> 8;
  l4[at + 1] = c & 0xff;
  return l4;
}

/**
 * One IPv4 fragment (identification `id`, `data` at `offset`) of a web-1.frontend datagram to
 * 10.16.0.`dst`; at offset 0 without `more`, the whole datagram.
 */
function webFragment(proto: 6 | 17, dst: number, id: number, data: Uint8Array, offset: number, more: boolean, at?: number): OraclePacket {
  const ip = new Uint8Array([0x45, 0, ...be16(20 + data.length), ...be16(id), ...be16((more ? 0x2000 : 0) | (offset / 8)), 64, proto, 0, 0, 10, 16, 0, 10, 10, 16, 0, dst]);
  const frame = new Uint8Array([0, 0, 0, 0x16, 0, dst, 0, 0, 0, 0x16, 0, 0x10, 8, 0, ...ip, ...data]);
  fixChecksums(frame);
  return { port: "web-1.frontend", frame, ...(at !== undefined ? { at } : {}) };
}

/** A whole (unfragmented) datagram from web-1.frontend to 10.16.0.`dst` with 32 bytes of payload, sent at `at`. */
function webWhole(proto: 6 | 17, dst: number, sport: number, dport: number, at?: number): OraclePacket {
  return webFragment(proto, dst, 1, webDatagram(proto, dst, sport, dport, 32), 0, false, at);
}

/** A datagram's fragments, cut at the offsets `cuts` (the first 0). */
function webFragments(proto: 6 | 17, dst: number, id: number, d: Uint8Array, cuts: readonly number[]): OraclePacket[] {
  return cuts.map((c, i) => webFragment(proto, dst, id, d.subarray(c, cuts[i + 1] ?? d.length), c, i + 1 < cuts.length));
}

/**
 * IPv4 fragments through network-policy's stateful ACLs on node1 (OVS's conntrack reassembles
 * them): datagrams whose fragments come in order and out of order, one that never completes, one
 * with a fragment too short to reassemble, one whose fragments overlap, and a TCP one to a pod
 * whose policy allows its port, which a later fragment does not carry.
 */
export function fragmentPackets(): Result<OraclePacket[]> {
  const other = 0x40;
  const u = webDatagram(17, other, 40000, 9000, 3000);
  const [a1, a2, a3] = webFragments(17, other, 101, u, [0, 1480, 2960]);
  const [b1, b2] = webFragments(17, other, 102, u, [0, 1480]);
  const [c1] = webFragments(17, other, 103, u, [0, 1480]);
  const [d1, d2] = webFragments(17, other, 104, u, [0, 800]);
  const [e1, e2] = webFragments(17, other, 105, u, [0, 1480]);
  const e2overlap = webFragment(17, other, 105, u.subarray(1400), 1400, false);
  // TCP to api-1 (10.16.0.20), whose NetworkPolicy admits web-1 on port 8080 only.
  const t = webDatagram(6, 0x20, 41000, 8080, 2000);
  const [t1, t2] = webFragments(6, 0x20, 106, t, [0, 1480]);
  return ok([a1!, a2!, a3!, b2!, b1!, c1!, d1!, d2!, e1!, e2overlap, e2!, t1!, t2!]);
}

/** The IPv6 fragments conversation's recording (`fragmentV6Packets`), beside the capture ones. */
export const FRAGMENTS_V6 = "fragments-v6";

/** web-1.frontend's IPv6 address in the IPv6 conversations (fd00:10:16::10), and a pod's (fd00:10:16::`dst`). */
function web6Address(host: number): Uint8Array {
  return new Uint8Array([0xfd, 0, 0, 0x10, 0, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]);
}

/** A UDP datagram from web-1.frontend (fd00:10:16::10) to fd00:10:16::`dst`, its checksum over the whole. */
function web6Datagram(dst: number, sport: number, dport: number, n: number): Uint8Array {
  const l4 = new Uint8Array(8 + n).fill(0x61);
  l4.set([...be16(sport), ...be16(dport), ...be16(l4.length), 0, 0]);
  const c = internetChecksum(l4, 0, l4.length, ipv6PseudoHeaderSum(web6Address(0x10), web6Address(dst), 17, l4.length)) || 0xffff;
  l4[6] = c >>> 8;
  l4[7] = c & 0xff;
  return l4;
}

/**
 * An IPv6 packet from web-1.frontend to the pod with MAC 00:00:00:16:00:`dst` and address
 * fd00:10:16::`dst` carrying `data` after a fragment header (identification `id`, `data` at
 * `offset` of the datagram's UDP part, `more` fragments to come; an `offset` that is no multiple
 * of 8 sets the header's reserved bits; `next`, the header that follows it in a first fragment);
 * without a fragment header when `id` is undefined.
 */
function web6Packet(dst: number, id: number | undefined, data: Uint8Array, offset: number, more: boolean, next = 17): OraclePacket {
  const frag = id === undefined ? [] : [next, 0, ...be16(offset | (more ? 1 : 0)), ...be32(id)];
  const ip = [0x60, 0, 0, 0, ...be16(frag.length + data.length), id === undefined ? 17 : 44, 64, ...web6Address(0x10), ...web6Address(dst)];
  const frame = new Uint8Array([0, 0, 0, 0x16, 0, dst, 0, 0, 0, 0x16, 0, 0x10, 0x86, 0xdd, ...ip, ...frag, ...data]);
  return { port: "web-1.frontend", frame };
}

/**
 * A datagram's IPv6 fragments, cut at the offsets `cuts` (the first 0; each a multiple of 8), the
 * first's fragment header naming `next`.
 */
function web6Fragments(dst: number, id: number, d: Uint8Array, cuts: readonly number[], next = 17): OraclePacket[] {
  return cuts.map((c, i) => web6Packet(dst, id, d.subarray(c, cuts[i + 1] ?? d.length), c, i + 1 < cuts.length, i === 0 ? next : 17));
}

/**
 * IPv6 fragments through network-policy's stateful ACLs on node1 (the switch sends all its IP
 * traffic through conntrack; the pods need no IPv6 address of their own for it), which OVS's
 * conntrack reassembles as it does IPv4's: datagrams to other-1.default whose fragments come in
 * order and out of order, one that never completes, one with a first fragment too short to
 * reassemble (under 1,280 bytes), one to web-2.frontend on node2, one with a destination options
 * header after its fragment header, fragment headers that fragment nothing, and a datagram
 * without one.
 */
export function fragmentV6Packets(): Result<OraclePacket[]> {
  const other = 0x40;
  const web2 = 0x11;
  const u = web6Datagram(other, 40000, 9000, 3000);
  const [a1, a2, a3] = web6Fragments(other, 0x10001, u, [0, 1448, 2896]);
  const [b1, b2] = web6Fragments(other, 0x10002, u, [0, 1448]);
  const [c1] = web6Fragments(other, 0x10003, u, [0, 1448]);
  const [d1, d2] = web6Fragments(other, 0x10004, u, [0, 800]);
  const w = web6Datagram(web2, 40001, 9000, 2000);
  const [e1, e2] = web6Fragments(web2, 0x10005, w, [0, 1448]);
  const small = web6Datagram(other, 40002, 9000, 32);
  // A datagram whose fragmentable part starts with a destination options header (padding only):
  // OVS counts a first fragment's data from its L4 header, so the second fragment leaves a gap of
  // the options' 8 bytes and the datagram never completes.
  const withOptions = new Uint8Array([17, 0, 1, 4, 0, 0, 0, 0, ...web6Datagram(other, 40003, 9000, 2000)]);
  const [g1, g2] = web6Fragments(other, 0x10008, withOptions, [0, 1448], 60);
  // The last three: a fragment header of all zeros (no fragment: delivered), one with only its two
  // reserved bits set (6 in the offset's place: a fragment to the flow key, which OVS's reassembly
  // passes by and its conntrack cannot key), and no fragment header.
  return ok([a1!, a2!, a3!, b2!, b1!, c1!, d1!, d2!, e2!, e1!, g1!, g2!, web6Packet(other, 0x10006, small, 0, false), web6Packet(other, 0x10007, small, 6, false), web6Packet(other, undefined, small, 0, false)]);
}

/** The fragment expiry conversation's recording (`fragmentExpiryPackets`), beside the capture ones. */
export const FRAGMENT_EXPIRY = "fragment-expiry";

/**
 * Fragment lists that never complete, from web-1.frontend towards web-2.frontend on node2 through
 * network-policy's stateful ACLs, on a stopped and warped clock. OVS's reassembly gives a list 15 s
 * from its first fragment; then the next packet through conntrack takes its fragments along, as
 * invalid, from that conntrack action: the first one here goes on to the tunnel with another
 * packet's continuation. 10 s later still, a list is deleted instead. Each time only one list is
 * past its time, so that what OVS does does not depend on which packets its cache already knows
 * (a fragment that misses the cache runs before the packet it came with, and another list could
 * join it at its next conntrack action).
 */
export function fragmentExpiryPackets(): Result<OraclePacket[]> {
  const web2 = 0x11;
  const other = 0x40;
  const u = webDatagram(17, web2, 40000, 9000, 3000);
  const first = (id: number, at: number): OraclePacket => webFragment(17, web2, id, u.subarray(0, 1480), 0, true, at);
  const second = (id: number, at: number): OraclePacket => webFragment(17, web2, id, u.subarray(1480, 2960), 1480, true, at);
  const whole = (dst: number, sport: number, at: number): OraclePacket => webWhole(17, dst, sport, 9000, at);
  return ok([
    first(401, 0),
    whole(web2, 40001, 5_000),
    whole(web2, 40002, 15_000),
    whole(other, 40003, 15_001),
    second(401, 16_000),
    first(402, 17_000),
    whole(other, 40004, 32_000),
    whole(web2, 40005, 45_000),
    whole(other, 40006, 46_000),
  ]);
}

/** The port 0 conversation's recording (`portZeroPackets`), beside the capture ones. */
export const PORT_ZERO = "port-zero";

/**
 * TCP and UDP with port 0 from web-1.frontend to other-1.default through network-policy's stateful
 * ACLs: OVS's conntrack keys no such packet (port 0 is no port) and marks it invalid, which the
 * ACL stage drops; the same packets with ports go through.
 */
export function portZeroPackets(): Result<OraclePacket[]> {
  const other = 0x40;
  return ok([webWhole(17, other, 0, 9000), webWhole(17, other, 40000, 0), webWhole(6, other, 0, 443), webWhole(17, other, 40000, 9000), webWhole(6, other, 41000, 443)]);
}

/** The timeouts conversation's recording (`timeoutPackets`), beside the capture ones. */
export const TIMEOUTS = "timeouts";

/**
 * Two pods of network-policy on node1: api-1.backend accepts from other-1.default only what
 * belongs to a connection api-1 started.
 */
const API = { port: "api-1.backend", mac: 0x20, ip: 0x14 };
const OTHER = { port: "other-1.default", mac: 0x40, ip: 0x28 };
type End = typeof API;

/**
 * An IPv4 frame from one pod of 10.16.0.0/16 to another carrying `l4` of protocol `proto`, its
 * checksums filled in, sent at `at`.
 */
function podFrame(from: End, to: End, proto: number, l4: readonly number[], at?: number): OraclePacket {
  const ip = [0x45, 0, ...be16(20 + l4.length), 0, 1, 0, 0, 64, proto, 0, 0, 10, 16, 0, from.ip, 10, 16, 0, to.ip];
  const f = new Uint8Array([0, 0, 0, 0x16, 0, to.mac, 0, 0, 0, 0x16, 0, from.mac, 8, 0, ...ip, ...l4]);
  fixChecksums(f);
  return { port: from.port, frame: f, ...(at !== undefined ? { at } : {}) };
}

/**
 * Connections expiring by OVS's default timeouts, through network-policy's stateful ACLs on node1:
 * api-1.backend accepts from other-1.default only what belongs to a connection api-1 started, so
 * each of other-1's packets shows whether that connection was still there.
 * - UDP api-1 → other-1: a first reply 59 s after the request (the request's 60 s), another just
 *   inside the 30 s a replied connection has, one just after it (new: refused); then a new
 *   connection and its reply.
 * - UDP on another port: its reply just inside the first 60 s, and one after the 30 s that follow.
 * - TCP api-1 → other-1:443: handshake, a segment after 31 s (established: 24 h), both ends close,
 *   a late segment inside the 30 s a closed connection has (it refreshes them), and one after.
 */
export function timeoutPackets(): Result<OraclePacket[]> {
  const udp = (from: End, to: End, sport: number, dport: number, at: number): OraclePacket => podFrame(from, to, 17, [...be16(sport), ...be16(dport), 0, 12, 0, 0, 0x61, 0x61, 0x61, 0x61], at);
  const tcp = (from: End, to: End, sport: number, dport: number, flags: number, seq: number, ack: number, at: number): OraclePacket =>
    podFrame(from, to, 6, [...be16(sport), ...be16(dport), ...be32(seq), ...be32(ack), 0x50, flags, 0xff, 0xff, 0, 0, 0, 0], at);
  const SYN = 0x02;
  const ACK = 0x10;
  const FIN = 0x01;
  const T = 300_000;
  return ok([
    udp(API, OTHER, 50000, 9000, 0),
    udp(OTHER, API, 9000, 50000, 59_000),
    udp(OTHER, API, 9000, 50000, 88_900),
    udp(OTHER, API, 9000, 50000, 119_000),
    udp(API, OTHER, 50000, 9000, 119_100),
    udp(OTHER, API, 9000, 50000, 119_200),
    udp(API, OTHER, 50001, 9000, 120_000),
    udp(OTHER, API, 9000, 50001, 179_900),
    udp(OTHER, API, 9000, 50001, 210_000),
    tcp(API, OTHER, 50010, 443, SYN, 1000, 0, T),
    tcp(OTHER, API, 443, 50010, SYN | ACK, 5000, 1001, T + 10),
    tcp(API, OTHER, 50010, 443, ACK, 1001, 5001, T + 20),
    tcp(OTHER, API, 443, 50010, ACK, 5001, 1001, T + 31_000),
    tcp(API, OTHER, 50010, 443, FIN | ACK, 1001, 5001, T + 31_100),
    tcp(OTHER, API, 443, 50010, FIN | ACK, 5001, 1002, T + 31_200),
    tcp(API, OTHER, 50010, 443, ACK, 1002, 5002, T + 31_300),
    tcp(OTHER, API, 443, 50010, ACK, 5002, 1002, T + 61_200),
    tcp(OTHER, API, 443, 50010, ACK, 5002, 1002, T + 91_300),
  ]);
}

/** The SCTP conversation's recording (`sctpPackets`), beside the capture ones. */
export const SCTP = "sctp";

/**
 * An SCTP packet of one DATA chunk (4 bytes of data, stream 0), verification tag `tag`, its
 * checksum filled in.
 */
function sctpPacket(sport: number, dport: number, tag: number): number[] {
  const p = new Uint8Array([...be16(sport), ...be16(dport), ...be32(tag), 0, 0, 0, 0, 0, 3, ...be16(20), ...be32(1), 0, 0, 0, 0, ...be32(0), 0x61, 0x61, 0x61, 0x61]);
  p.set(be32(computeSctpChecksum(p, 0, p.length)), 8);
  return [...p];
}

/**
 * SCTP through network-policy's stateful ACLs on node1: OVS 3.1's userspace conntrack keys SCTP by
 * its addresses alone, so once api-1.backend has sent other-1.default SCTP, every SCTP packet
 * between the two, whatever its ports (0 included), belongs to that connection, and other-1's
 * packets are its replies. A UDP packet from other-1 on the same pair of addresses is no reply
 * (UDP is keyed by its ports), nor is SCTP from other-1 before api-1 sent any.
 */
export function sctpPackets(): Result<OraclePacket[]> {
  const sctp = (from: End, to: End, sport: number, dport: number): OraclePacket => podFrame(from, to, 132, sctpPacket(sport, dport, 0x1234));
  const udp = (from: End, to: End, sport: number, dport: number): OraclePacket => podFrame(from, to, 17, [...be16(sport), ...be16(dport), 0, 12, 0, 0, 0x61, 0x61, 0x61, 0x61]);
  return ok([
    sctp(OTHER, API, 3868, 5000),
    sctp(API, OTHER, 5000, 3868),
    sctp(OTHER, API, 3868, 5000),
    sctp(OTHER, API, 3869, 5001),
    sctp(OTHER, API, 7, 9),
    sctp(OTHER, API, 0, 0),
    sctp(API, OTHER, 6000, 6001),
    udp(OTHER, API, 3868, 5000),
  ]);
}

/** The port security conversation's recording (`portSecurityPackets`), beside the capture ones. */
/**
 * One packet of a conversation: the port it enters at, its microflow without the `inport`, its
 * payload's length (8 bytes of 0x61 by default) and, for TCP, its sequence and acknowledgement
 * numbers (0 when not given).
 */
export interface MicroflowPacket {
  readonly port: string;
  readonly match: string;
  readonly payload?: number;
  readonly seq?: number;
  readonly ack?: number;
}

/** The frames of `packets` as `program` reads their microflows, checksums filled in. */
export function microflowFrames(program: Parameters<typeof compileMicroflow>[0], packets: readonly MicroflowPacket[]): Result<OraclePacket[]> {
  const out: OraclePacket[] = [];
  for (const p of packets) {
    const mf = compileMicroflow(program, undefined, `inport == "${p.port}" && ${p.match}`);
    if (!mf.ok) return mf;
    const frame = frameFromKey(mf.value.key, { payload: new Uint8Array(p.payload ?? 8).fill(0x61) });
    // The TCP header follows an IPv4 header without options or an IPv6 header without extensions.
    const tcp = 14 + (getU16(frame, 12) === 0x86dd ? 40 : 20);
    if (p.seq !== undefined) frame.set(be32(p.seq), tcp + 4);
    if (p.ack !== undefined) frame.set(be32(p.ack), tcp + 8);
    fixChecksums(frame);
    out.push({ port: p.port, frame });
  }
  return ok(out);
}

/** `microflowFrames` on node1's program. */
function microflowPackets(net: Network, packets: readonly MicroflowPacket[]): Result<OraclePacket[]> {
  const plan = compilePhysical(net);
  if (!plan.ok) return plan;
  const program = plan.value.chassis.get(CHASSIS)!.program;
  const frames = microflowFrames(program, packets);
  if (!frames.ok) return frames;
  // A packet at a localnet port comes in from its provider network.
  return ok(
    frames.value.map((f) => {
      const p = program.portByName.get(f.port);
      return p?.type === "localnet" ? { ...f, localnet: { datapath: p.datapath, inport: p.key } } : f;
    }),
  );
}

export const PORT_SECURITY = "port-security";

/**
 * Port security on port-security.yaml's node1 ports, as ovn-controller's flows check it: sources
 * and destinations inside and outside each port's entries (an address, a prefix with host bits
 * clear, one with host bits set, a MAC alone, a dual-stack entry), ARP senders, frames of another
 * EtherType, IPv6 link-local and unspecified sources, MLD and neighbour advertisements (by target,
 * and for the port's own link-local address, which ovn-controller's flows refuse at hop limit 255).
 */
export function portSecurityPackets(net: Network): Result<OraclePacket[]> {
  const MAC: Record<string, string> = { exact: "05", prefix: "06", hostbits: "14", maconly: "07", dual: "08", open: "09", remote: "0a" };
  const mac = (port: string): string => `00:00:00:00:00:${MAC[port]!}`;
  const udp4 = (from: string, to: string, src: string, dst: string): [string, string] => [from, `eth.src == ${mac(from)} && eth.dst == ${mac(to)} && ip4.src == ${src} && ip4.dst == ${dst} && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53`];
  const udp6 = (from: string, to: string, src: string, dst: string): [string, string] => [from, `eth.src == ${mac(from)} && eth.dst == ${mac(to)} && ip6.src == ${src} && ip6.dst == ${dst} && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53`];
  const lldp = (from: string): [string, string] => [from, `eth.src == ${mac(from)} && eth.dst == 01:80:c2:00:00:0e && eth.type == 0x88cc`];
  const na = (target: string, ttl: number): [string, string] => ["dual", `eth.src == ${mac("dual")} && eth.dst == 33:33:00:00:00:01 && ip6.src == fe80::200:ff:fe00:8 && ip6.dst == ff02::1 && ip.ttl == ${ttl} && icmp6 && icmp6.type == 136 && icmp6.code == 0 && nd.target == ${target} && nd.tll == ${mac("dual")}`];
  const flows: [string, string][] = [
    udp4("exact", "open", "10.0.0.5", "10.0.0.9"),
    udp4("exact", "open", "10.0.0.99", "10.0.0.9"),
    lldp("exact"),
    udp6("exact", "open", "fe80::200:ff:fe00:5", "fd00::9"),
    udp4("prefix", "open", "10.0.0.6", "10.0.0.9"),
    udp4("prefix", "open", "10.0.0.30", "10.0.0.9"),
    udp4("hostbits", "open", "10.0.0.20", "10.0.0.9"),
    udp4("hostbits", "open", "10.0.0.21", "10.0.0.9"),
    udp4("maconly", "open", "10.0.0.77", "10.0.0.9"),
    ["maconly", `eth.src == ${mac("maconly")} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:00:00:99 && arp.spa == 10.0.0.7 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.0.0.99`],
    ["maconly", `eth.src == ${mac("maconly")} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == ${mac("maconly")} && arp.spa == 10.0.0.7 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.0.0.99`],
    lldp("maconly"),
    udp6("dual", "open", "fd00::8", "fd00::9"),
    udp6("dual", "open", "fe80::200:ff:fe00:8", "fd00::9"),
    udp6("dual", "open", "fe80::99", "fd00::9"),
    ["dual", `eth.src == ${mac("dual")} && eth.dst == ${mac("open")} && ip6.src == :: && ip6.dst == fd00::9 && ip.ttl == 64 && tcp && tcp.src == 5000 && tcp.dst == 80`],
    ["dual", `eth.src == ${mac("dual")} && eth.dst == 33:33:00:00:00:16 && ip6.src == :: && ip6.dst == ff02::16 && ip.ttl == 1 && icmp6 && icmp6.type == 143 && icmp6.code == 0`],
    na("fd00::8", 255),
    na("fd00::99", 255),
    na("fe80::200:ff:fe00:8", 255),
    udp4("open", "hostbits", "10.0.0.9", "10.0.0.255"),
    udp4("open", "hostbits", "10.0.0.9", "10.0.0.21"),
    udp4("open", "prefix", "10.0.0.9", "10.0.0.6"),
    udp4("open", "exact", "10.0.0.9", "10.0.0.55"),
    udp6("open", "dual", "fd00::9", "fe80::200:ff:fe00:8"),
    udp6("open", "dual", "fd00::9", "fe80::99"),
    udp4("open", "remote", "10.0.0.9", "10.0.0.10"),
  ];
  return microflowPackets(net, flows.map(([port, match]) => ({ port, match })));
}

export const GATEWAY_LOCALNET = "gateway-localnet";
/** The gateway-localnet packets on gateway-router-localnet-macs.yaml (chassis MACs set), with node2 real. */
export const GATEWAY_LOCALNET_MACS = "gateway-localnet-macs";

/**
 * Traffic between upstream on node1 and a gateway router on node2, on a switch with a localnet port
 * (fixtures/ovs/gateway-router-localnet.yaml): node1 sends it to the router over the provider
 * network, as to any port of another chassis on such a switch. Pings and TCP to the router's
 * address, TCP to the dnat_and_snat address, ARP for the router's address and for another.
 */
export function gatewayLocalnetPackets(net: Network): Result<OraclePacket[]> {
  const up = "eth.src == 00:00:00:ac:00:01";
  const to = (dst: string, l4: string): string => `${up} && eth.dst == 00:00:00:ac:00:02 && ip4.src == 172.16.0.1 && ip4.dst == ${dst} && ip.ttl == 64 && ${l4}`;
  const arp = (tpa: string): string => `${up} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ac:00:01 && arp.spa == 172.16.0.1 && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${tpa}`;
  const matches = [
    to("172.16.0.2", "icmp4 && icmp4.type == 8 && icmp4.code == 0"),
    to("172.16.0.2", "tcp && tcp.src == 40000 && tcp.dst == 22 && tcp.flags == 0x2"),
    to("172.16.0.10", "tcp && tcp.src == 40001 && tcp.dst == 80 && tcp.flags == 0x2"),
    to("172.16.0.55", "udp && udp.src == 40002 && udp.dst == 53"),
    arp("172.16.0.2"),
    arp("172.16.0.55"),
  ];
  return microflowPackets(net, matches.map((match) => ({ port: "upstream", match })));
}

export const DYNAMIC_NEIGHBOURS = "dynamic-neighbours";

/**
 * Pods a and b behind two routers that learn each other's MACs (fixtures/ovs/dynamic-neighbours.yaml):
 * UDP and then TCP each way, over IPv4 and IPv6. The first packet each way makes its router ask
 * (ARP, or a neighbour solicitation from the link-local address) and waits in ovn-controller until
 * the answer is learned; the rest find the neighbour known.
 */
export function dynamicNeighbourPackets(net: Network): Result<OraclePacket[]> {
  const a = { port: "a", mac: "00:00:00:01:00:0a", gw: "00:00:00:01:00:01", v4: "10.1.0.10", v6: "fd00:1::a" };
  const b = { port: "b", mac: "00:00:00:02:00:0b", gw: "00:00:00:02:00:01", v4: "10.2.0.11", v6: "fd00:2::b" };
  const packets: MicroflowPacket[] = [];
  for (const fam of ["ip4", "ip6"] as const) {
    const addr = (e: typeof a): string => (fam === "ip4" ? e.v4 : e.v6);
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (const l4 of ["udp && udp.src == 5000 && udp.dst == 53", "tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2"]) {
        packets.push({ port: from.port, match: `eth.src == ${from.mac} && eth.dst == ${from.gw} && ${fam}.src == ${addr(from)} && ${fam}.dst == ${addr(to)} && ip.ttl == 64 && ${l4}` });
      }
    }
  }
  return microflowPackets(net, packets);
}

export const REJECTS = "rejects";

/**
 * Answers ovn-controller makes for pod a (fixtures/ovs/rejects.yaml), over IPv4 and IPv6: ACL
 * rejects of UDP (port unreachable) and of TCP (a reset) towards pod b, and the router's answers
 * to TCP (a SYN, and a reset) and UDP for its own address. Pod a takes only replies to its own
 * connections.
 */
export function rejectPackets(net: Network): Result<OraclePacket[]> {
  const packets: MicroflowPacket[] = [];
  for (const [fam, b, gw] of [["ip4", "10.1.0.11", "10.1.0.1"], ["ip6", "fd00:1::b", "fd00:1::1"]] as const) {
    const src = fam === "ip4" ? "10.1.0.10" : "fd00:1::a";
    const flows: [string, string, string][] = [
      ["00:00:00:01:00:0b", b, "udp && udp.src == 5000 && udp.dst == 53"],
      ["00:00:00:01:00:0b", b, "tcp && tcp.src == 40000 && tcp.dst == 22 && tcp.flags == 0x2"],
      ["00:00:00:01:00:01", gw, "tcp && tcp.src == 40001 && tcp.dst == 8080 && tcp.flags == 0x2"],
      ["00:00:00:01:00:01", gw, "udp && udp.src == 5001 && udp.dst == 9999"],
      // A reset to the router's address is answered with a reset too.
      ["00:00:00:01:00:01", gw, "tcp && tcp.src == 40002 && tcp.dst == 8080 && tcp.flags == 0x4"],
    ];
    for (const [mac, dst, l4] of flows) {
      // TCP with a sequence number for the reset to acknowledge.
      packets.push({ port: "a", match: `eth.src == 00:00:00:01:00:0a && eth.dst == ${mac} && ${fam}.src == ${src} && ${fam}.dst == ${dst} && ip.ttl == 64 && ${l4}`, ...(l4.startsWith("tcp") ? { seq: 0x12345678 } : {}) });
    }
  }
  return microflowPackets(net, packets);
}

export const MADE_PACKETS = "made-packets";

/**
 * Packets that ovn-controller makes, from vm-g1 on gateway-nat.yaml's node1: ICMP time exceeded for
 * UDP and for a ping with TTL 1, port unreachable for UDP to the router's address, a TCP reset for
 * TCP to it, and (made by flows, for comparison) the router's ARP reply.
 */
export function madePackets(net: Network): Result<OraclePacket[]> {
  const from = "eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01 && ip4.src == 10.11.0.2";
  return microflowPackets(net, [
    { port: "vm-g1", match: `${from} && ip4.dst == 1.1.1.1 && ip.ttl == 1 && udp && udp.src == 42010 && udp.dst == 53`, payload: 20 },
    { port: "vm-g1", match: `${from} && ip4.dst == 1.1.1.1 && ip.ttl == 1 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "vm-g1", match: `${from} && ip4.dst == 10.11.0.1 && ip.ttl == 64 && udp && udp.src == 42011 && udp.dst == 5000`, payload: 12 },
    // With a sequence number for the reset to acknowledge.
    { port: "vm-g1", match: `${from} && ip4.dst == 10.11.0.1 && ip.ttl == 64 && tcp && tcp.src == 42012 && tcp.dst == 22 && tcp.flags == 0x2`, payload: 0, seq: 0x12345678 },
    { port: "vm-g1", match: "eth.src == 00:00:00:0b:00:02 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:0b:00:02 && arp.spa == 10.11.0.2 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.11.0.1", payload: 18 },
  ]);
}

export const GATEWAY_MTU = "gateway-mtu";

/**
 * Packets longer and shorter than the gateway MTUs of fixtures/ovs/gateway-mtu.yaml's public ports,
 * on node1: UDP from vm-g1 out through gr1 (MTU 1000) of 1242, 942, 1014 and 1015 bytes (the
 * limit is the MTU plus the Ethernet header, and a packet of exactly that passes), a ping of 1142
 * bytes; UDP from upstream in through gr1's public port to its DNAT address, of 1242 and 542
 * bytes; UDP from vm-d1 out through dr1's distributed gateway port (MTU 1200) of 1342 and 1142
 * bytes, and in to dr1's DNAT address of 1342 bytes.
 */
export function gatewayMtuPackets(net: Network): Result<OraclePacket[]> {
  const g1 = "eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01 && ip4.src == 10.11.0.2";
  const d1 = "eth.src == 00:00:00:0c:00:02 && eth.dst == 00:00:00:0c:00:01 && ip4.src == 10.12.0.2";
  const up = "eth.src == 00:00:00:ac:00:01 && ip4.src == 1.1.1.1 && ip.ttl == 64";
  const udp = (sport: number): string => `udp && udp.src == ${sport} && udp.dst == 53`;
  return microflowPackets(net, [
    { port: "vm-g1", match: `${g1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42020)}`, payload: 1200 },
    { port: "vm-g1", match: `${g1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42021)}`, payload: 900 },
    { port: "vm-g1", match: `${g1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42022)}`, payload: 972 },
    { port: "vm-g1", match: `${g1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42023)}`, payload: 973 },
    { port: "vm-g1", match: `${g1} && ip4.dst == 9.9.9.9 && ip.ttl == 64 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 1100 },
    { port: "upstream", match: `${up} && eth.dst == 00:00:00:ac:00:02 && ip4.dst == 172.16.0.10 && ${udp(42024)}`, payload: 1200 },
    { port: "upstream", match: `${up} && eth.dst == 00:00:00:ac:00:02 && ip4.dst == 172.16.0.10 && ${udp(42025)}`, payload: 500 },
    { port: "vm-d1", match: `${d1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42026)}`, payload: 1300 },
    { port: "vm-d1", match: `${d1} && ip4.dst == 8.8.8.8 && ip.ttl == 64 && ${udp(42027)}`, payload: 1100 },
    { port: "upstream", match: `${up} && eth.dst == 00:00:00:ac:00:03 && ip4.dst == 172.16.0.20 && ${udp(42028)}`, payload: 1300 },
  ]);
}

export const ICMP6_NAT = "icmp6-nat";

/**
 * From a on fixtures/ovs/icmp6-nat.yaml's node1, UDP to the load balancer's IPv6 VIP, addressed to
 * the router's MAC: 1,450 bytes of data (answered with "packet too big", whose source the load
 * balancer's conntrack translates back to the VIP, and whose MTU field OVS 3.1 changes with it),
 * then 100 (routed back to b).
 */
export function icmp6NatPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::10 && ip6.dst == fd00:96::2 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && udp && udp.src == 40000 && udp.dst == 80`, payload: 1450 },
    { port: "a", match: `${a} && udp && udp.src == 40001 && udp.dst == 80`, payload: 100 },
  ]);
}

export const ROUTER_ZONES = "router-zones";

/**
 * What a switch's ingress pipeline hands on to its egress pipeline (fixtures/ovs/router-zones.yaml):
 * UDP between c and e through the distributed router lr2, where the to-lport ACL that drops c's
 * datagrams towards the router runs in c's zone (the patch port has none) and blocks c's connection
 * once it is established, so e's second answer is dropped; the same between c and a through the
 * gateway router lr1, whose l3gateway port has a zone of its own, so a's second answer arrives;
 * then TCP from a to lr1's load balancer, SNATed to the router port's address in the router's
 * egress, and c's answer to that address; last, TCP from c towards e that a logged reject ACL
 * answers with a reset each time (its commit of `ct_mark.blocked` is not installed, so c's
 * connection is never blocked).
 */
export function routerZonePackets(net: Network): Result<OraclePacket[]> {
  const c = "eth.src == 00:00:00:02:00:0c && eth.dst == 00:00:00:02:00:01";
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01";
  const fromC = `${c} && ip4.src == 10.2.0.11 && ip4.dst == 10.1.0.10 && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53`;
  const fromA = `${a} && ip4.src == 10.1.0.10 && ip4.dst == 10.2.0.11 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5000`;
  const toE = "eth.src == 00:00:00:02:00:0c && eth.dst == 00:00:00:02:00:02 && ip4.src == 10.2.0.11 && ip4.dst == 10.4.0.14 && ip.ttl == 64 && udp && udp.src == 5001 && udp.dst == 53";
  const toE8080 = "eth.src == 00:00:00:02:00:0c && eth.dst == 00:00:00:02:00:02 && ip4.src == 10.2.0.11 && ip4.dst == 10.4.0.14 && ip.ttl == 64 && tcp && tcp.src == 40100 && tcp.dst == 8080";
  const fromE = "eth.src == 00:00:00:04:00:0e && eth.dst == 00:00:00:04:00:01 && ip4.src == 10.4.0.14 && ip4.dst == 10.2.0.11 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5001";
  return microflowPackets(net, [
    { port: "c", match: toE, payload: 12 },
    { port: "e", match: fromE, payload: 30 },
    { port: "c", match: toE, payload: 12 },
    { port: "e", match: fromE, payload: 30 },
    { port: "c", match: fromC, payload: 12 },
    { port: "a", match: fromA, payload: 30 },
    { port: "c", match: fromC, payload: 12 },
    { port: "a", match: fromA, payload: 30 },
    { port: "a", match: `${a} && ip4.src == 10.1.0.10 && ip4.dst == 10.3.0.100 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "c", match: `${c} && ip4.src == 10.2.0.11 && ip4.dst == 10.2.0.1 && ip.ttl == 64 && tcp && tcp.src == 8080 && tcp.dst == 40000 && tcp.flags == 0x12`, payload: 0, seq: 5000, ack: 1001 },
    { port: "c", match: `${toE8080} && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "c", match: `${toE8080} && tcp.flags == 0x10`, payload: 0, seq: 1001, ack: 70001 },
    { port: "c", match: `${toE8080} && tcp.flags == 0x18`, payload: 20, seq: 1001, ack: 70001 },
  ]);
}

export const QUOTED_PACKETS = "quoted-packets";

/**
 * ICMP errors made after the packet changed on its way (fixtures/ovs/quoted-packets.yaml), from a:
 * UDP to c rejected behind two routers (the quote's TTL two lower), UDP to c with TTL 2 whose time
 * runs out at the second router (the quote's TTL 1), and UDP to the load balancer rejected at its
 * backend b (the quote's destination b's until conntrack translates it back to the VIP).
 */
export function quotedPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && ip4.src == 10.1.0.10";
  return microflowPackets(net, [
    { port: "a", match: `${a} && eth.dst == 00:00:00:01:00:01 && ip4.dst == 10.3.0.12 && ip.ttl == 64 && udp && udp.src == 40000 && udp.dst == 53`, payload: 24 },
    { port: "a", match: `${a} && eth.dst == 00:00:00:01:00:01 && ip4.dst == 10.3.0.12 && ip.ttl == 2 && udp && udp.src == 40001 && udp.dst == 33434`, payload: 24 },
    { port: "a", match: `${a} && eth.dst == 00:00:00:01:00:0b && ip4.dst == 10.1.0.100 && ip.ttl == 64 && udp && udp.src == 40002 && udp.dst == 53`, payload: 24 },
  ]);
}

export const UNTRACKED_EGRESS = "untracked-egress";

/**
 * What a commit leaves of a packet's conntrack state (fixtures/ovs/untracked-egress.yaml): a pings
 * b and b answers, a opens TCP to b and b answers the SYN (both answers dropped: the egress towards
 * b committed nothing in b's zone), then b pings a and a answers (delivered).
 */
export function untrackedEgressPackets(net: Network): Result<OraclePacket[]> {
  const ab = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:0b && ip4.src == 10.1.0.10 && ip4.dst == 10.1.0.11 && ip.ttl == 64";
  const ba = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:0a && ip4.src == 10.1.0.11 && ip4.dst == 10.1.0.10 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${ab} && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "b", match: `${ba} && icmp4 && icmp4.type == 0 && icmp4.code == 0`, payload: 16 },
    { port: "a", match: `${ab} && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "b", match: `${ba} && tcp && tcp.src == 80 && tcp.dst == 40000 && tcp.flags == 0x12`, payload: 0, seq: 7000, ack: 1001 },
    { port: "b", match: `${ba} && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "a", match: `${ab} && icmp4 && icmp4.type == 0 && icmp4.code == 0`, payload: 16 },
  ]);
}

export const SAME_ZONE_AGAIN = "same-zone-again";

/**
 * A packet looked up twice in one zone with a commit between (fixtures/ovs/same-zone-again.yaml):
 * a's mid-stream ACK to 10.9.0.5, rerouted back to a, and c's answer from 10.9.0.5 (dropped:
 * the second lookup found the connection established and the drop blocked it); then the same with
 * a SYN and a SYN-ACK (the SYN still new at the second lookup: nothing blocked, the answer reaches a).
 */
export function sameZoneAgainPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip4.dst == 10.9.0.5 && ip.ttl == 64";
  const c = "eth.src == 00:00:00:01:00:0c && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.9.0.5 && ip4.dst == 10.1.0.10 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && tcp && tcp.src == 40000 && tcp.dst == 8000 && tcp.flags == 0x10`, payload: 0, seq: 1000, ack: 5000 },
    { port: "c", match: `${c} && tcp && tcp.src == 8000 && tcp.dst == 40000 && tcp.flags == 0x10`, payload: 0, seq: 5000, ack: 1000 },
    { port: "a", match: `${a} && tcp && tcp.src == 40001 && tcp.dst == 8000 && tcp.flags == 0x2`, payload: 0, seq: 2000 },
    { port: "c", match: `${c} && tcp && tcp.src == 8000 && tcp.dst == 40001 && tcp.flags == 0x12`, payload: 0, seq: 9000, ack: 2001 },
  ]);
}

export const MANY_BACKENDS = "many-backends";

/**
 * A load balancer of 300 backends (fixtures/ovs/many-backends.yaml), past what OVS's dp_hash table
 * holds: from a, new TCP connections to its VIP, each from a port of its own, and UDP datagrams to
 * the UDP VIP (whose ports the fallback hash leaves out, so they all reach one backend); then TCP
 * through the reroute policy of 300 next hops.
 */
export function manyBackendPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  return microflowPackets(net, [
    ...range(46000, 16).map((p): MicroflowPacket => ({ port: "a", match: `${a} && ip4.dst == 10.96.0.30 && tcp && tcp.src == ${p} && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 })),
    ...range(47000, 4).map((p): MicroflowPacket => ({ port: "a", match: `${a} && ip4.dst == 10.96.0.31 && udp && udp.src == ${p} && udp.dst == 53`, payload: 12 })),
    ...range(48000, 8).map((p): MicroflowPacket => ({ port: "a", match: `${a} && ip4.dst == 10.7.0.${1 + (p % 4)} && tcp && tcp.src == ${p} && tcp.dst == 443 && tcp.flags == 0x2`, payload: 0, seq: 1000 })),
  ]);
}

export const RECIRC_DEPTH = "recirc-depth";

/**
 * Recirculation depth (fixtures/ovs/recirc-depth.yaml): a's UDP and TCP to lr1's VIP (seven
 * recirculations: dropped), a's UDP and TCP to b itself, and b's UDP and TCP to the VIP (fewer:
 * delivered).
 */
export function recircDepthPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const b = "eth.src == 00:00:00:02:00:0b && eth.dst == 00:00:00:02:00:01 && ip4.src == 10.2.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && ip4.dst == 10.96.0.1 && udp && udp.src == 40000 && udp.dst == 80`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 10.96.0.1 && tcp && tcp.src == 40001 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "a", match: `${a} && ip4.dst == 10.2.0.11 && udp && udp.src == 40002 && udp.dst == 80`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 10.2.0.11 && tcp && tcp.src == 40003 && tcp.dst == 8080 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "b", match: `${b} && ip4.dst == 10.96.0.1 && udp && udp.src == 40004 && udp.dst == 80`, payload: 12 },
    { port: "b", match: `${b} && ip4.dst == 10.96.0.1 && tcp && tcp.src == 40005 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
  ]);
}

export const MADE_UNTRACKED = "made-untracked";

/**
 * A made packet starts untracked (fixtures/ovs/made-untracked.yaml): c's SYN to s's port 8080
 * (rejected: a reset back to c), then c's ACK on the same ports (new in s's zone, rejected again).
 */
export function madeUntrackedPackets(net: Network): Result<OraclePacket[]> {
  const c = "eth.src == 00:00:00:01:00:0c && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.12 && ip4.dst == 10.2.0.11 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8080";
  return microflowPackets(net, [
    { port: "c", match: `${c} && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "c", match: `${c} && tcp.flags == 0x10`, payload: 0, seq: 1001, ack: 5000 },
  ]);
}

export const PEER_TYPES = "peer-types";

/**
 * Routers peered across binding types (fixtures/ovs/peer-types.yaml): UDP from a to b and from b
 * to a (both dropped where they would cross from one router to the other), then a ping from each
 * to its own router's address (answered).
 */
export function peerTypePackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const b = "eth.src == 00:00:00:02:00:0b && eth.dst == 00:00:00:02:00:01 && ip4.src == 10.2.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && ip4.dst == 10.2.0.11 && udp && udp.src == 40000 && udp.dst == 53`, payload: 12 },
    { port: "b", match: `${b} && ip4.dst == 10.1.0.10 && udp && udp.src == 40001 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "b", match: `${b} && ip4.dst == 10.2.0.1 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
  ]);
}

export const NEIGHBOUR_SOLICITATIONS = "neighbour-solicitations";

/**
 * Packets that make a router ask for a neighbour (fixtures/ovs/neighbour-solicitations.yaml):
 * from a, an ICMPv6 echo request and reply, a UDP datagram and a TCP SYN to addresses behind c
 * (which has only `unknown` addresses), and an ICMPv4 echo request; a ping to b, whose MAC the
 * router knows; b's solicitations of the router's address and of d's.
 */
export function neighbourSolicitationPackets(net: Network): Result<OraclePacket[]> {
  const a6 = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::a && ip.ttl == 64";
  const a4 = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  // b's solicitation of fd00:2::`low` (whose last 24 bits are `low`), to its solicited-node group.
  const solicit = (low: string): MicroflowPacket => ({ port: "b", match: `eth.src == 00:00:00:02:00:0b && eth.dst == 33:33:ff:00:00:${low.padStart(2, "0")} && ip6.src == fd00:2::b && ip6.dst == ff02::1:ff00:${low} && ip.ttl == 255 && nd_ns && nd.target == fd00:2::${low} && nd.sll == 00:00:00:02:00:0b`, payload: 0 });
  return microflowPackets(net, [
    { port: "a", match: `${a6} && ip6.dst == fd00:2::c && icmp6 && icmp6.type == 128 && icmp6.code == 0`, payload: 16 },
    { port: "a", match: `${a6} && ip6.dst == fd00:2::d && icmp6 && icmp6.type == 129 && icmp6.code == 0`, payload: 8 },
    { port: "a", match: `${a6} && ip6.dst == fd00:2::c && udp && udp.src == 40000 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a6} && ip6.dst == fd00:2::e && tcp && tcp.src == 40001 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "a", match: `${a4} && ip4.dst == 10.2.0.12 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "a", match: `${a6} && ip6.dst == fd00:2::b && icmp6 && icmp6.type == 128 && icmp6.code == 0`, payload: 16 },
    solicit("1"),
    solicit("20"),
  ]);
}

export const OWN_ADDRESS = "own-address";

/**
 * Packets from a and b for the addresses of a gateway router with `lb_force_snat_ip=router_ip`
 * (fixtures/ovs/own-address.yaml): TCP (a SYN and a reset), UDP and a ping to the address of the
 * router's port on their switch, TCP and UDP to its address on the public switch. Asked with
 * `quietAnnouncements`: the router's ARP requests for its own addresses have the shape of the
 * announcements the oracle otherwise leaves out.
 */
export function ownAddressPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const b = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 },
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && tcp && tcp.src == 40001 && tcp.dst == 22 && tcp.flags == 0x4`, payload: 0, seq: 5000 },
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && udp && udp.src == 40002 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
    { port: "b", match: `${b} && ip4.dst == 10.1.0.1 && tcp && tcp.src == 40003 && tcp.dst == 443 && tcp.flags == 0x2`, payload: 0, seq: 2000 },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.2 && tcp && tcp.src == 40004 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 3000 },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.2 && udp && udp.src == 40005 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.2 && icmp4 && icmp4.type == 8 && icmp4.code == 0`, payload: 16 },
  ]);
}

export const ZERO_SNAT = "zero-snat";

/**
 * OVN's `ct_commit` carries OVS's all-zero SNAT (fixtures/ovs/zero-snat.yaml): a, from an address
 * not its own, sends UDP (twice, then what a would answer) and TCP (a SYN and its retransmission)
 * to VIPs whose backend is a; the router sends them back to a, whose egress commit in a's zone
 * finds the reply tuple taken by the load balancer's connection there, so real OVS gives the first
 * packet of each flow the next source port. b sends to the UDP VIP from its own address, and
 * straight to a from that other address: with the source port of a's moved connection, and with a
 * port of its own. Real OVS moves the port of packets 0 and 3 and, as b's packet 6 belongs to a's
 * moved UDP connection, of 6.
 */
export function zeroSnatPackets(net: Network): Result<OraclePacket[]> {
  const spoofed = "eth.src == 00:00:00:01:00:0e && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.9.9.9 && ip.ttl == 64";
  const b = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.11 && ip.ttl == 64";
  const bToA = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:0e && ip4.src == 10.9.9.9 && ip4.dst == 10.1.0.14 && ip.ttl == 64";
  // Each of a's two flows sends its first packet twice.
  const udp: MicroflowPacket = { port: "a", match: `${spoofed} && ip4.dst == 10.96.0.1 && udp && udp.src == 51323 && udp.dst == 8080`, payload: 12 };
  const syn: MicroflowPacket = { port: "a", match: `${spoofed} && ip4.dst == 10.96.0.2 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 };
  return microflowPackets(net, [
    udp,
    udp,
    { port: "a", match: `eth.src == 00:00:00:01:00:0e && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.14 && ip4.dst == 10.9.9.9 && ip.ttl == 64 && udp && udp.src == 8080 && udp.dst == 51324`, payload: 12 },
    syn,
    syn,
    { port: "b", match: `${b} && ip4.dst == 10.96.0.1 && udp && udp.src == 5000 && udp.dst == 8080`, payload: 12 },
    { port: "b", match: `${bToA} && udp && udp.src == 51323 && udp.dst == 8080`, payload: 12 },
    { port: "b", match: `${bToA} && udp && udp.src == 51400 && udp.dst == 8080`, payload: 12 },
  ]);
}

export const CHASSIS_MACS = "chassis-macs";

/**
 * The chassis MACs of kube-ovn-underlay.yaml (`ovn-chassis-mac-mappings`): what the router sends
 * from node1 onto a VLAN, routed from the overlay and from another VLAN, and an ARP request it
 * floods, leaves with node1's MAC (the copy to a local port keeps the router's); what comes in from
 * the VLANs with node2's MAC as source gets the switch's router port MAC back, and nothing else
 * does (another MAC, node1's own, a switch without a router port), an ARP request of node2's router
 * too.
 */
export function chassisMacPackets(net: Network): Result<OraclePacket[]> {
  const node1 = "0a:00:00:00:00:11";
  const node2 = "0a:00:00:00:00:12";
  const o1 = "eth.src == 00:00:00:16:00:02 && eth.dst == 00:00:00:16:00:01 && ip4.src == 10.16.0.2 && ip.ttl == 64";
  const u1 = "eth.src == 00:00:00:0a:64:02 && eth.dst == 00:00:00:0a:64:fe && ip4.src == 10.100.0.2 && ip.ttl == 64";
  const toU1 = (src: string): string => `eth.src == ${src} && eth.dst == 00:00:00:0a:64:02 && ip4.src == 10.16.0.3 && ip4.dst == 10.100.0.2 && ip.ttl == 63 && tcp && tcp.src == 41000 && tcp.dst == 80 && tcp.flags == 0x2`;
  return microflowPackets(net, [
    { port: "o1", match: `${o1} && ip4.dst == 10.100.0.3 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2` },
    { port: "o1", match: `${o1} && ip4.dst == 10.102.0.3 && udp && udp.src == 40001 && udp.dst == 53`, payload: 12 },
    { port: "u1", match: `${u1} && ip4.dst == 10.102.0.3 && icmp4 && icmp4.type == 8 && icmp4.code == 0` },
    { port: "o1", match: `${o1} && ip4.dst == 10.100.0.99 && udp && udp.src == 40002 && udp.dst == 53`, payload: 12 },
    { port: "localnet.vlan100", match: toU1(node2) },
    { port: "localnet.vlan100", match: toU1("00:00:5e:00:01:64") },
    { port: "localnet.vlan100", match: toU1(node1) },
    { port: "localnet.vlan200", match: `eth.src == ${node2} && eth.dst == 00:00:00:0a:c8:02 && ip4.src == 10.200.0.3 && ip4.dst == 10.200.0.2 && ip.ttl == 64 && udp && udp.src == 41001 && udp.dst == 53`, payload: 12 },
    { port: "localnet.lgw", match: `eth.src == ${node2} && eth.dst == 00:00:00:0a:66:02 && ip4.src == 10.16.0.3 && ip4.dst == 10.102.0.2 && ip.ttl == 63 && udp && udp.src == 41002 && udp.dst == 53`, payload: 12 },
    { port: "localnet.vlan100", match: `eth.src == ${node2} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:0a:64:fe && arp.spa == 10.100.0.254 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.100.0.2` },
  ]);
}

export const BRIDGED_REDIRECT = "bridged-redirect";

/**
 * A distributed gateway port with `redirect-type: bridged`, active on node2
 * (fixtures/ovs/bridged-redirect.yaml): what a on node1 sends out through it (routed by default and
 * to the port's own subnet, TCP and UDP) goes onto the VLAN from node1, addressed to the port's
 * MAC, for node2 to route and SNAT; a ping of the router's own address is answered on node1; a
 * frame from the VLAN for the port's MAC is not node1's to take.
 */
export function bridgedRedirectPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a", match: `${a} && ip4.dst == 172.16.0.1 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.55 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2` },
    { port: "a", match: `${a} && ip4.dst == 8.8.8.8 && icmp4 && icmp4.type == 8 && icmp4.code == 0` },
    { port: "a", match: `${a} && ip4.dst == 10.1.0.1 && icmp4 && icmp4.type == 8 && icmp4.code == 0` },
    { port: "ln-pub", match: "eth.src == 00:00:00:ac:00:01 && eth.dst == 00:00:00:ac:00:02 && ip4.src == 172.16.0.1 && ip4.dst == 172.16.0.2 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5000", payload: 12 },
  ]);
}

export const BRIDGED_REDIRECT_PLAIN = "bridged-redirect-plain";
/** A bridged redirect to a host that lives on the sending chassis (`bridgedRedirectNearPackets`). */
export const BRIDGED_REDIRECT_NEAR = "bridged-redirect-near";

/**
 * The bridged-redirect-near conversation: `near` (on node1, on the public switch; ovn-controller's
 * gratuitous ARPs for it have taught node1's provider bridge its MAC) asks by ARP for the
 * gateway, `a` sends to it and to the upstream host through the router, whose gateway port is
 * active on node2, and `near` sends to the gateway port as if answering `a`.
 */
export function bridgedRedirectNearPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "near", match: "eth.src == 00:00:00:ac:00:05 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ac:00:05 && arp.spa == 172.16.0.5 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 172.16.0.2" },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.5 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${a} && ip4.dst == 172.16.0.1 && udp && udp.src == 5001 && udp.dst == 53`, payload: 12 },
    { port: "near", match: "eth.src == 00:00:00:ac:00:05 && eth.dst == 00:00:00:ac:00:02 && ip4.src == 172.16.0.5 && ip4.dst == 172.16.0.2 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5000", payload: 12 },
  ]);
}

export const SHARED_VLAN = "shared-vlan";

/**
 * Two switches on one provider network and VLAN (fixtures/ovs/shared-vlan.yaml): a1 (vlan-a,
 * node1) asks by broadcast ARP, sends to b1 (vlan-b, node1) and to b2 (vlan-b, node2) by their
 * MACs, and to a MAC nobody has; b1 answers a1 by its MAC; c1 on VLAN 200 broadcasts; a1 sends to
 * b3 (vlan-b, node1, disabled), whose MAC no bridge has learned. Each chassis's provider bridge
 * carries frames between the two switches' patch ports as between its uplink and them.
 */
export function sharedVlanPackets(net: Network): Result<OraclePacket[]> {
  const a1 = "eth.src == 00:00:00:01:00:0b && ip4.src == 10.1.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a1", match: "eth.src == 00:00:00:01:00:0b && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:01:00:0b && arp.spa == 10.1.0.11 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.1.0.99" },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0b && ip4.dst == 10.2.0.11 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0c && ip4.dst == 10.2.0.12 && udp && udp.src == 5001 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:09:09:09 && ip4.dst == 10.9.0.9 && udp && udp.src == 5002 && udp.dst == 53`, payload: 12 },
    { port: "b1", match: "eth.src == 00:00:00:02:00:0b && eth.dst == 00:00:00:01:00:0b && ip4.src == 10.2.0.11 && ip4.dst == 10.1.0.11 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5000", payload: 12 },
    { port: "c1", match: "eth.src == 00:00:00:03:00:0b && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:03:00:0b && arp.spa == 10.3.0.11 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.3.0.99" },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0d && ip4.dst == 10.2.0.13 && udp && udp.src == 5003 && udp.dst == 53`, payload: 12 },
  ]);
}

export const SHARED_VLAN_REJECT = "shared-vlan-reject";

/**
 * The shared-vlan-reject conversation (fixtures/ovs/shared-vlan-reject.yaml): a1 sends UDP to b1
 * (on node1) and to b2 (on node2), which vlan-b rejects, and TCP to b1, which it lets through.
 */
export function sharedVlanRejectPackets(net: Network): Result<OraclePacket[]> {
  const a1 = "eth.src == 00:00:00:01:00:0b && ip4.src == 10.1.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0b && ip4.dst == 10.2.0.11 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0c && ip4.dst == 10.2.0.12 && udp && udp.src == 5001 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:02:00:0b && ip4.dst == 10.2.0.11 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2` },
  ]);
}

export const ANNOUNCED_NEIGHBOURS = "announced-neighbours";

/**
 * The announced-neighbours conversation (fixtures/ovs/announced-neighbours.yaml): a1 sends through
 * the router to b1 (disabled, node1), to b2 (disabled, node2), to an address nobody has and to b3.
 * Only the third makes the router ask by ARP: ovn-controller wrote the bindings of b1 and b2 when
 * it announced them.
 */
export function announcedNeighbourPackets(net: Network): Result<OraclePacket[]> {
  const a1 = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.11 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "a1", match: `${a1} && ip4.dst == 10.2.0.11 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && ip4.dst == 10.2.0.12 && udp && udp.src == 5001 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && ip4.dst == 10.2.0.99 && udp && udp.src == 5002 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && ip4.dst == 10.2.0.13 && udp && udp.src == 5003 && udp.dst == 53`, payload: 12 },
  ]);
}

export const PROVIDER_LEARNING = "provider-learning";

/**
 * The provider-learning conversations (fixtures/ovs/provider-learning.yaml, and with chassis MACs
 * provider-learning-macs.yaml; node1 and node2 real): a1 sends to x2 through the gateway router on
 * node2 (0); a1 sends to a2's second MAC, which no announcement taught the bridges (1); a2 answers
 * from it (2); a1 sends to it again (3); x2 answers a1 through the router (4); a1 sends to x2
 * again (5).
 */
export function providerLearningPackets(net: Network): Result<OraclePacket[]> {
  const a1 = "eth.src == 00:00:00:01:00:0b && ip4.src == 10.1.0.11 && ip.ttl == 64";
  const r = microflowPackets(net, [
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:01:00:01 && ip4.dst == 10.9.0.11 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:01:00:0d && ip4.dst == 10.1.0.13 && udp && udp.src == 5001 && udp.dst == 53`, payload: 12 },
    { port: "a2", match: "eth.src == 00:00:00:01:00:0d && eth.dst == 00:00:00:01:00:0b && ip4.src == 10.1.0.13 && ip4.dst == 10.1.0.11 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5001", payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:01:00:0d && ip4.dst == 10.1.0.13 && udp && udp.src == 5002 && udp.dst == 53`, payload: 12 },
    { port: "x2", match: "eth.src == 00:00:00:09:00:0b && eth.dst == 00:00:00:09:00:01 && ip4.src == 10.9.0.11 && ip4.dst == 10.1.0.11 && ip.ttl == 64 && udp && udp.src == 53 && udp.dst == 5000", payload: 12 },
    { port: "a1", match: `${a1} && eth.dst == 00:00:00:01:00:01 && ip4.dst == 10.9.0.11 && udp && udp.src == 5003 && udp.dst == 53`, payload: 12 },
  ]);
  // a2 and x2 live on node2.
  return r.ok ? ok(r.value.map((p) => (p.port === "a2" || p.port === "x2" ? { ...p, chassis: NODE2 } : p))) : r;
}

export const LOCALNET_QINQ = "localnet-qinq";

/**
 * A localnet port with `options:ethtype=802.11ad` (fixtures/ovs/localnet-qinq.yaml): app-1's frames
 * for app-3 on node2, for a MAC no port has and broadcast ARP leave with an 802.1ad tag; a frame
 * that comes in with one reaches app-1.
 */
export function localnetQinqPackets(net: Network): Result<OraclePacket[]> {
  const app1 = "eth.src == 00:00:00:17:00:02 && ip4.src == 172.17.0.2 && ip.ttl == 64";
  return microflowPackets(net, [
    { port: "app-1", match: `${app1} && eth.dst == 00:00:00:17:00:04 && ip4.dst == 172.17.0.4 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2` },
    { port: "app-1", match: `${app1} && eth.dst == 00:00:5e:00:01:01 && ip4.dst == 8.8.8.8 && udp && udp.src == 40001 && udp.dst == 53`, payload: 12 },
    { port: "app-1", match: "eth.src == 00:00:00:17:00:02 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:17:00:02 && arp.spa == 172.17.0.2 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 172.17.0.99" },
    { port: "ln-qinq", match: "eth.src == 00:00:5e:00:01:01 && eth.dst == 00:00:00:17:00:02 && ip4.src == 8.8.8.8 && ip4.dst == 172.17.0.2 && ip.ttl == 60 && udp && udp.src == 53 && udp.dst == 40001", payload: 12 },
  ]);
}

export const SELECT_GROUPS = "select-groups";

/**
 * Select groups (fixtures/ovs/select-groups.yaml), every VIP with all its backends: from a, new
 * TCP connections and UDP datagrams to three load balancers (one hashing its selection fields),
 * TCP and UDP through the two-way and the three-way reroute policy, and connections to the VIP
 * whose backends lie behind the two-way policy, each answered through b1 by both backends (only the
 * chosen one's answer belongs to the connection) and then acknowledged by a. Each flow has ports of its own, so real OVS spreads them over the buckets.
 */
export function selectGroupPackets(net: Network): Result<OraclePacket[]> {
  const a = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const syn = (dst: string, sport: number, dport: number): MicroflowPacket => ({ port: "a", match: `${a} && ip4.dst == ${dst} && tcp && tcp.src == ${sport} && tcp.dst == ${dport} && tcp.flags == 0x2`, payload: 0, seq: 1000 });
  const udp = (dst: string, sport: number, dport: number): MicroflowPacket => ({ port: "a", match: `${a} && ip4.dst == ${dst} && udp && udp.src == ${sport} && udp.dst == ${dport}`, payload: 12 });
  const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const far: MicroflowPacket[] = [];
  for (const sport of range(45000, 6)) {
    // An answer from each backend: only the one the load balancer chose has the connection.
    const synAck = (server: string): MicroflowPacket => ({ port: "b1", match: `eth.src == 00:00:00:02:00:0b && eth.dst == 00:00:00:02:00:01 && ip4.src == ${server} && ip4.dst == 10.1.0.10 && ip.ttl == 64 && tcp && tcp.src == 80 && tcp.dst == ${sport} && tcp.flags == 0x12`, payload: 0, seq: 7000, ack: 1001 });
    far.push(syn("10.96.0.20", sport, 80), synAck("10.8.9.5"), synAck("10.8.9.6"), { port: "a", match: `${a} && ip4.dst == 10.96.0.20 && tcp && tcp.src == ${sport} && tcp.dst == 80 && tcp.flags == 0x10`, payload: 0, seq: 1001, ack: 7001 });
  }
  return microflowPackets(net, [
    ...range(40000, 8).map((p) => syn("10.96.0.10", p, 80)),
    ...range(50000, 6).map((p) => udp("10.96.0.11", p, 53)),
    ...range(41000, 6).map((p) => syn("10.96.0.12", p, 80)),
    ...range(42000, 8).map((p) => syn("10.8.9.5", p, 80)),
    ...range(43000, 4).map((p) => udp("10.8.9.5", p, 53)),
    ...range(43100, 4).map((p) => udp(`10.8.9.${7 + p - 43100}`, p, 53)),
    ...range(44000, 6).map((p) => syn(`10.8.0.${1 + (p % 3)}`, p, 443)),
    ...far,
  ]);
}

export const LB_AFFINITY = "lb-affinity";

/**
 * Load balancer affinity (fixtures/ovs/lb-affinity.yaml), on a clock that moves (affinity_timeout
 * 10 s): from a, to each of the five VIPs (`LB_AFFINITY_VIPS`, sent in that order at each time),
 * a first new connection (its first packet teaches the session and is dropped), its
 * retransmission 1 s later, new connections from other ports at 2 s and 9 s (all to the learned
 * backend, where the hash alone would spread them), one at 17 s (8 s after the last use: still the
 * session's), one at 40 s (the session expired: learned again, and dropped) and its retransmission
 * at 41 s.
 */
export function lbAffinityPackets(net: Network): Result<OraclePacket[]> {
  const a4 = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip.ttl == 64";
  const a6 = "eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip6.src == fd01::10 && ip.ttl == 64";
  const flows: { p: MicroflowPacket; at: number }[] = [];
  LB_AFFINITY_VIPS.forEach(([vip, dport, proto, base], n) => {
    const dst = vip.includes(":") ? `${a6} && ip6.dst == ${vip}` : `${a4} && ip4.dst == ${vip}`;
    LB_AFFINITY_TIMES.forEach((at, i) => {
      // The second packet retransmits the first, the last the one before; the rest are connections of their own.
      const sport = base + (i === 1 ? 0 : i === 7 ? 6 : i);
      const match = proto === "tcp" ? `${dst} && tcp && tcp.src == ${sport} && tcp.dst == ${dport} && tcp.flags == 0x2` : `${dst} && udp && udp.src == ${sport} && udp.dst == ${dport}`;
      flows.push({ p: { port: "a", match, ...(proto === "tcp" ? { payload: 0, seq: 1000 } : { payload: 12 }) }, at: at + 100 * n });
    });
  });
  flows.sort((x, y) => x.at - y.at);
  const frames = microflowPackets(net, flows.map((f) => f.p));
  if (!frames.ok) return frames;
  return ok(frames.value.map((f, i) => ({ ...f, at: flows[i]!.at })));
}

/** The VIPs of the lb-affinity conversation: address, port, protocol, first source port. */
export const LB_AFFINITY_VIPS: readonly (readonly [string, number, "tcp" | "udp", number])[] = [
  ["10.96.0.10", 80, "tcp", 41000],
  ["10.96.0.11", 53, "udp", 42000],
  ["10.96.0.20", 80, "tcp", 43000],
  ["fd00::10", 80, "tcp", 44000],
  ["fd00::20", 80, "tcp", 45000],
];

/** When the lb-affinity conversation sends to each VIP, in milliseconds. */
export const LB_AFFINITY_TIMES: readonly number[] = [0, 1000, 2000, 2000, 9000, 17_000, 40_000, 41_000];

export const ECMP_SYMMETRIC = "ecmp-symmetric";

/**
 * Symmetric ECMP replies (fixtures/ovs/ecmp-symmetric.yaml), on a clock that moves: gr1's default
 * routes go to up1 and up2, both with ecmp_symmetric_reply=true, and a reroute policy sends what
 * vm1 sends to up2 unless the symmetric flows route it (the policy keeps the ECMP hash, whose
 * member numbering changes from run to run, out of every packet's way).
 * - At 0 s, eight TCP connections come in to vm1, from up1 and up2 in turn (four IPv4, four
 *   IPv6); vm1 answers each, and the client acknowledges: the answers go back to the next hop the
 *   connection came from.
 * - vm1 answers them again at 10 s and 25 s (ovn-controller's learned flows still there), at 35 s
 *   (learned more than 30 s ago: gone by their hard timeout, so the policy sends them to up2),
 *   then the clients send again at 36 s (which learns the flows again) and vm1 answers at 37 s.
 * - UDP: a query comes in from up1 at 0.5 s and is answered at once (to up1) and at 22 s (the
 *   learned flows idle for more than 20 s: gone, so to up2); vm1 queries a server at 1 s (to up2,
 *   by the policy), the answer comes back from up1 (a new connection there: committed and learned
 *   with up1's MAC), and vm1's next query at 1.2 s goes to up1.
 */
export function ecmpSymmetricPackets(net: Network): Result<OraclePacket[]> {
  const gw = "eth.dst == 00:00:00:ac:00:02";
  const hop = (n: number): { port: string; eth: string } => (n === 1 ? { port: "up1", eth: `eth.src == 00:00:00:ac:00:01 && ${gw}` } : { port: "up2", eth: `eth.src == 00:00:00:ac:00:05 && ${gw}` });
  const vm = "eth.src == 00:00:00:0b:00:02 && eth.dst == 00:00:00:0b:00:01";
  const flows: { p: MicroflowPacket; at: number }[] = [];
  const addr = (v6: boolean, client: number): { fam: string; client: string; vm: string } => (v6 ? { fam: "ip6", client: `2001:db8::${client}`, vm: "fd11::2" } : { fam: "ip4", client: `198.51.100.${client}`, vm: "10.11.0.2" });
  for (let i = 0; i < 8; i++) {
    const v6 = i >= 4;
    const h = hop(1 + (i % 2));
    const a = addr(v6, 10 + i);
    const sport = 40000 + i;
    const inward = (flags: number, seq: number, ack: number): MicroflowPacket => ({ port: h.port, match: `${h.eth} && ${a.fam}.src == ${a.client} && ${a.fam}.dst == ${a.vm} && ip.ttl == 64 && tcp && tcp.src == ${sport} && tcp.dst == 80 && tcp.flags == ${flags}`, payload: 0, seq, ...(ack ? { ack } : {}) });
    const back = (flags: number, seq: number, ack: number): MicroflowPacket => ({ port: "vm1", match: `${vm} && ${a.fam}.src == ${a.vm} && ${a.fam}.dst == ${a.client} && ip.ttl == 64 && tcp && tcp.src == 80 && tcp.dst == ${sport} && tcp.flags == ${flags}`, payload: 0, seq, ack });
    flows.push({ p: inward(0x2, 1000, 0), at: 10 * i }, { p: back(0x12, 7000, 1001), at: 10 * i + 1 }, { p: inward(0x10, 1001, 7001), at: 10 * i + 2 });
    for (const at of [10_000, 25_000, 35_000, 37_000]) flows.push({ p: back(0x10, 7001, 1001), at: at + 10 * i });
    flows.push({ p: inward(0x10, 1001, 7001), at: 36_000 + 10 * i });
  }
  const udp = (port: string, eth: string, src: string, dst: string, sport: number, dport: number): MicroflowPacket => ({ port, match: `${eth} && ip4.src == ${src} && ip4.dst == ${dst} && ip.ttl == 64 && udp && udp.src == ${sport} && udp.dst == ${dport}`, payload: 12 });
  const up1 = hop(1);
  flows.push({ p: udp("up1", up1.eth, "198.51.100.30", "10.11.0.2", 5000, 53), at: 500 });
  for (const at of [510, 22_000]) flows.push({ p: udp("vm1", vm, "10.11.0.2", "198.51.100.30", 53, 5000), at });
  flows.push({ p: udp("vm1", vm, "10.11.0.2", "198.51.100.40", 5353, 53), at: 1000 });
  flows.push({ p: udp("up1", up1.eth, "198.51.100.40", "10.11.0.2", 53, 5353), at: 1100 });
  flows.push({ p: udp("vm1", vm, "10.11.0.2", "198.51.100.40", 5353, 53), at: 1200 });
  flows.sort((x, y) => x.at - y.at);
  const frames = microflowPackets(net, flows.map((f) => f.p));
  if (!frames.ok) return frames;
  return ok(frames.value.map((f, i) => ({ ...f, at: flows[i]!.at })));
}

/** The conversations beside the capture: name → network and packets. */
export const CONVERSATIONS: Readonly<Record<string, { readonly network: string; readonly packets: (net: Network) => Result<OraclePacket[]>; readonly note: string; readonly allBackends?: boolean; readonly quietAnnouncements?: boolean; readonly chassis?: readonly string[] }>> = {
  [HAIRPIN]: { network: "kube-ovn-default.yaml", packets: hairpinPackets, note: `Two load-balancer hairpins of web-1.default on ${CHASSIS} of kube-ovn-default.yaml with one backend per VIP (hairpinPackets)` },
  [ICMP_NAT]: { network: "gateway-nat.yaml", packets: icmpNatPackets, note: `ICMP errors and pings through the NAT of gr1 on ${CHASSIS} of gateway-nat.yaml (icmpNatPackets)` },
  [FRAGMENTS]: { network: "network-policy.yaml", packets: fragmentPackets, note: `IPv4 fragments through the stateful ACLs of network-policy.yaml on ${CHASSIS} (fragmentPackets)` },
  [FRAGMENTS_V6]: { network: "network-policy.yaml", packets: fragmentV6Packets, note: `IPv6 fragments through the stateful ACLs of network-policy.yaml on ${CHASSIS} (fragmentV6Packets)` },
  [FRAGMENT_EXPIRY]: { network: "network-policy.yaml", packets: fragmentExpiryPackets, note: `IPv4 fragment lists that never complete, from web-1.frontend through the stateful ACLs of network-policy.yaml on ${CHASSIS}, on a stopped and warped clock (fragmentExpiryPackets)` },
  [PORT_ZERO]: { network: "network-policy.yaml", packets: portZeroPackets, note: `TCP and UDP with port 0 from web-1.frontend through the stateful ACLs of network-policy.yaml on ${CHASSIS} (portZeroPackets)` },
  [SCTP]: { network: "network-policy.yaml", packets: sctpPackets, note: `SCTP between two pods through the stateful ACLs of network-policy.yaml on ${CHASSIS}, keyed by addresses alone as OVS 3.1's userspace conntrack keys it (sctpPackets)` },
  [PORT_SECURITY]: { network: "port-security.yaml", packets: portSecurityPackets, note: `Port security of port-security.yaml's ports on ${CHASSIS}: addresses, prefixes, a MAC alone, ARP senders, other EtherTypes, IPv6 link-local and unspecified sources, MLD and neighbour advertisements (portSecurityPackets)` },
  [GATEWAY_LOCALNET]: { network: "fixtures/ovs/gateway-router-localnet.yaml", packets: gatewayLocalnetPackets, note: `Traffic from upstream on ${CHASSIS} to a gateway router on node2 over a switch with a localnet port (gatewayLocalnetPackets)` },
  [DYNAMIC_NEIGHBOURS]: { network: "fixtures/ovs/dynamic-neighbours.yaml", packets: dynamicNeighbourPackets, note: `Pods behind two routers that learn each other's MACs, on ${CHASSIS}: the first packet each way waits for the neighbour (dynamicNeighbourPackets)` },
  [REJECTS]: { network: "fixtures/ovs/rejects.yaml", packets: rejectPackets, note: `ACL rejects and a router's answers for pod a on ${CHASSIS}, which takes only replies (rejectPackets)` },
  [MADE_PACKETS]: { network: "gateway-nat.yaml", packets: madePackets, note: `Packets ovn-controller makes for vm-g1 on ${CHASSIS} of gateway-nat.yaml: ICMP time exceeded and port unreachable, a TCP reset, beside the router's ARP reply (madePackets)` },
  [GATEWAY_MTU]: { network: "fixtures/ovs/gateway-mtu.yaml", packets: gatewayMtuPackets, note: `Packets over and under the gateway MTU of a gateway router's and a distributed gateway port on ${CHASSIS}, out and in: ovn-controller answers the long ones with ICMP "fragmentation needed" carrying the MTU (gatewayMtuPackets)` },
  [ICMP6_NAT]: { network: "fixtures/ovs/icmp6-nat.yaml", packets: icmp6NatPackets, note: `An ICMPv6 "packet too big" made for a UDP datagram to an IPv6 load balancer's VIP on ${CHASSIS}, translated back by the balancer's conntrack, its MTU field with it (icmp6NatPackets)` },
  [ROUTER_ZONES]: { network: "fixtures/ovs/router-zones.yaml", packets: routerZonePackets, note: `Conntrack zones and flags from a switch's or router's ingress into its egress, on ${CHASSIS}: a to-lport drop towards a distributed router blocking the sender's connection in its own zone but not towards a gateway router, and a gateway router's load balancer SNATed by lb_force_snat_ip (routerZonePackets)` },
  [QUOTED_PACKETS]: { network: "fixtures/ovs/quoted-packets.yaml", packets: quotedPackets, note: `ICMP errors ovn-controller makes for a on ${CHASSIS} after the packet changed on its way: behind two routers, at the second router, after a load balancer (quotedPackets)` },
  [UNTRACKED_EGRESS]: { network: "fixtures/ovs/untracked-egress.yaml", packets: untrackedEgressPackets, note: `A stateful switch's ingress commit leaves the packet untracked for its egress on ${CHASSIS}: b's answers to a find no connection in b's zone and are dropped as invalid (untrackedEgressPackets)` },
  [SAME_ZONE_AGAIN]: { network: "fixtures/ovs/same-zone-again.yaml", packets: sameZoneAgainPackets, note: `A packet looked up in a's zone on ${CHASSIS} on its way in and again on its way back to a, with a commit between: OVS updates the connection's TCP state at the second lookup (sameZoneAgainPackets)` },
  [MANY_BACKENDS]: { network: "fixtures/ovs/many-backends.yaml", packets: manyBackendPackets, allBackends: true, note: `A load balancer of 300 backends on ${CHASSIS}, more than OVS's dp_hash table holds: and a reroute policy of 300 next hops, more than OVS's dp_hash table holds: OVS picks by its default method, the symmetric L4 hash of each packet (manyBackendPackets)` },
  [RECIRC_DEPTH]: { network: "fixtures/ovs/recirc-depth.yaml", packets: recircDepthPackets, note: `Packets through a gateway router's load balancer and lb_force_snat_ip on ${CHASSIS}: OVS's userspace datapath drops those that would nest a seventh recirculation (recircDepthPackets)` },
  [MADE_UNTRACKED]: { network: "fixtures/ovs/made-untracked.yaml", packets: madeUntrackedPackets, note: `A reset ovn-controller makes for a rejected SYN on ${CHASSIS} starts untracked, so nothing commits it in the rejecting port's zone (madeUntrackedPackets)` },
  [PEER_TYPES]: { network: "fixtures/ovs/peer-types.yaml", packets: peerTypePackets, note: `A gateway router peered with a distributed router without a switch, on ${CHASSIS}: the l3gateway and patch bindings are never linked, so nothing crosses between the routers (peerTypePackets)` },
  [NEIGHBOUR_SOLICITATIONS]: { network: "fixtures/ovs/neighbour-solicitations.yaml", packets: neighbourSolicitationPackets, note: `Packets that make a distributed router ask for a neighbour on ${CHASSIS}, ICMPv6 ones among them, and a pod's solicitation of the router (neighbourSolicitationPackets)` },
  [OWN_ADDRESS]: { network: "fixtures/ovs/own-address.yaml", packets: ownAddressPackets, quietAnnouncements: true, note: `Packets for the addresses of a gateway router with lb_force_snat_ip=router_ip on ${CHASSIS}, which routes them and asks for its own address by ARP; asked once ovn-controller's announcements were over, every frame kept (ownAddressPackets)` },
  [ZERO_SNAT]: { network: "fixtures/ovs/zero-snat.yaml", packets: zeroSnatPackets, note: `Packets that come back into the zone of a load balancer that translated them, on ${CHASSIS}: the egress commit's all-zero SNAT finds the reply tuple taken and moves the source port of each flow's first packet (zeroSnatPackets)` },
  [CHASSIS_MACS]: { network: "kube-ovn-underlay.yaml", packets: chassisMacPackets, note: `Frames a distributed router sends from ${CHASSIS} onto kube-ovn-underlay.yaml's VLANs, which leave with ${CHASSIS}'s chassis MAC, and frames that come in from them with node2's (chassisMacPackets)` },
  [BRIDGED_REDIRECT]: { network: "fixtures/ovs/bridged-redirect.yaml", packets: bridgedRedirectPackets, note: `A distributed gateway port with redirect-type bridged active on node2: ${CHASSIS} sends its traffic for the gateway onto the VLAN, not through a tunnel (bridgedRedirectPackets)` },
  [BRIDGED_REDIRECT_PLAIN]: { network: "fixtures/ovs/bridged-redirect-plain.yaml", packets: bridgedRedirectPackets, note: `The bridged-redirect packets without chassis MACs: ${CHASSIS}'s frames for the gateway go to their own source MAC, and the provider bridge drops them (bridgedRedirectPackets)` },
  [`${BRIDGED_REDIRECT_NEAR}+${NODE2}`]: { network: "fixtures/ovs/bridged-redirect-near.yaml", packets: bridgedRedirectNearPackets, chassis: [CHASSIS, NODE2], note: `A bridged redirect from ${CHASSIS} to a host that lives on ${CHASSIS} itself, node2 real: ${CHASSIS}'s provider bridge has that host's MAC behind its own patch port and drops the frame (bridgedRedirectNearPackets)` },
  [SHARED_VLAN]: { network: "fixtures/ovs/shared-vlan.yaml", packets: sharedVlanPackets, note: `Two switches on one provider network and VLAN, on ${CHASSIS}: its provider bridge carries frames between their localnet ports' patch ports (sharedVlanPackets)` },
  [`${SHARED_VLAN}+${NODE2}`]: { network: "fixtures/ovs/shared-vlan.yaml", packets: sharedVlanPackets, chassis: [CHASSIS, NODE2], note: `The shared-vlan packets with node2 real too: frames between the two switches on the VLAN reach node2's pods of both (sharedVlanPackets)` },
  [`${SHARED_VLAN_REJECT}+${NODE2}`]: { network: "fixtures/ovs/shared-vlan-reject.yaml", packets: sharedVlanRejectPackets, chassis: [CHASSIS, NODE2], note: `A reject's answer made on ${CHASSIS} crosses its provider bridge into a stateful switch, where ovs-vswitchd drops it at the conntrack recirculation (no input port for a packet from the controller past a patch port); the one made on node2 comes over the wire and reaches a1 (sharedVlanRejectPackets)` },
  [ANNOUNCED_NEIGHBOURS]: { network: "fixtures/ovs/announced-neighbours.yaml", packets: announcedNeighbourPackets, note: `Packets routed on ${CHASSIS} to disabled VIFs on switches with localnet ports, one on ${CHASSIS} and one on node2: ovn-controller wrote their MAC bindings when it announced them, so the router sends to their MACs and asks no one by ARP (announcedNeighbourPackets)` },
  [`${ANNOUNCED_NEIGHBOURS}+${NODE2}`]: { network: "fixtures/ovs/announced-neighbours.yaml", packets: announcedNeighbourPackets, chassis: [CHASSIS, NODE2], note: `The announced-neighbours packets with node2 real too, whose ovn-controller writes b2's binding itself (announcedNeighbourPackets)` },
  [`${PROVIDER_LEARNING}+${NODE2}`]: { network: "fixtures/ovs/provider-learning.yaml", packets: providerLearningPackets, chassis: [CHASSIS, NODE2], note: `What the provider bridges know from ovn-controller's announcements (a gateway router's port on node2 among them) and learn from what is sent: a MAC of a2 that was not announced is flooded on node2, to another switch's unknown port too, until a2 sends from it (providerLearningPackets)` },
  [`${PROVIDER_LEARNING}-macs+${NODE2}`]: { network: "fixtures/ovs/provider-learning-macs.yaml", packets: providerLearningPackets, chassis: [CHASSIS, NODE2], note: `The provider-learning packets with chassis MACs: node2 announces the gateway router's port, and sends what the router routes, from its chassis MAC, so the router port's MAC is never learned and ${CHASSIS}'s frames for it are flooded on node2 (providerLearningPackets)` },
  [LOCALNET_QINQ]: { network: "fixtures/ovs/localnet-qinq.yaml", packets: localnetQinqPackets, note: `A localnet port with options:ethtype=802.11ad on ${CHASSIS}: its frames carry an 802.1ad tag (localnetQinqPackets)` },
  [SELECT_GROUPS]: { network: "fixtures/ovs/select-groups.yaml", packets: selectGroupPackets, allBackends: true, note: `Load-balancer backends and reroute next hops real OVS picks on ${CHASSIS}, every VIP with all its backends: select groups by the L4 and the symmetric L4 dp_hash, and by a load balancer's selection fields (selectGroupPackets)` },
  [LB_AFFINITY]: { network: "fixtures/ovs/lb-affinity.yaml", packets: lbAffinityPackets, allBackends: true, note: `Load balancer affinity on ${CHASSIS}, on a stopped and warped clock: ovn-controller's learned sessions (table 78) send a client's new connections to its last backend until the idle timeout, and the packet that teaches a session is dropped (lbAffinityPackets)` },
  [`${BRIDGED_REDIRECT}+${NODE2}`]: { network: "fixtures/ovs/bridged-redirect.yaml", packets: bridgedRedirectPackets, chassis: [CHASSIS, NODE2], note: `The bridged-redirect packets with node2 real too: node2, the gateway chassis, takes ${CHASSIS}'s frames for the gateway port from the VLAN and routes them again, SNATed, onto it (bridgedRedirectPackets)` },
  [`${CHASSIS_MACS}+${NODE2}`]: { network: "kube-ovn-underlay.yaml", packets: chassisMacPackets, chassis: [CHASSIS, NODE2], note: `The chassis-macs packets with node2 real too: ${CHASSIS}'s routed frames reach node2's pods from the VLANs with the router port's MAC put back in place of ${CHASSIS}'s chassis MAC (chassisMacPackets)` },
  [`${GATEWAY_LOCALNET_MACS}+${NODE2}`]: { network: "fixtures/ovs/gateway-router-localnet-macs.yaml", packets: gatewayLocalnetPackets, chassis: [CHASSIS, NODE2], note: `The gateway-localnet packets with chassis MACs and node2, the gateway router's chassis, real too: the router's frames leave node2 with node2's chassis MAC, which ${CHASSIS}, where the router is not, leaves in place (gatewayLocalnetPackets)` },
  [`${GATEWAY_LOCALNET}+${NODE2}`]: { network: "fixtures/ovs/gateway-router-localnet.yaml", packets: gatewayLocalnetPackets, chassis: [CHASSIS, NODE2], note: `The gateway-localnet packets with node2, the gateway router's chassis, real too: its answers and what it routes come back over the provider network (gatewayLocalnetPackets)` },
  [NAT_EXHAUSTION]: { network: "gateway-nat.yaml", packets: natExhaustionPackets, note: `Pings and SCTP from vm-g1 and vm-g3 through gr1's SNAT on ${CHASSIS}: a second binding to the same reply tuple, which OVS cannot move to another port, is not made, and its packets go on untranslated (natExhaustionPackets)` },
  [ECMP_SYMMETRIC]: { network: "fixtures/ovs/ecmp-symmetric.yaml", packets: ecmpSymmetricPackets, note: `Symmetric ECMP replies through gateway router gr1 on ${CHASSIS}, on a stopped and warped clock: the answers of a connection that came in from one of two next hops go back to it while ovn-controller's learned flows last (20 s idle, 30 s hard), and where a reroute policy sends them after (ecmpSymmetricPackets)` },
  [TIMEOUTS]: { network: "network-policy.yaml", packets: timeoutPackets, note: `Connections expiring by OVS's default timeouts through the stateful ACLs of network-policy.yaml on ${CHASSIS}, on a stopped and warped clock (timeoutPackets)` },
};

/** A frame's digest in the outputs; with `OVNSIM_ORACLE_FRAMES=1`, the whole frame in hex (to see how two differ). */
const sha = (b: Uint8Array): string => (process.env.OVNSIM_ORACLE_FRAMES === "1" ? Buffer.from(b).toString("hex") : createHash("sha256").update(b).digest("hex").slice(0, 32));

/**
 * What ovnsim's datapath sends for each packet (the recording's form): from `CHASSIS`, or from
 * each of `opts.chassis` (their lines then start with the chassis, as `realOutputs` writes them).
 */
export function ovnsimOutputs(net: Network, packets: readonly OraclePacket[], opts: { readonly cache?: boolean; readonly chassis?: readonly string[] } = {}): Result<string[][]> {
  const names = opts.chassis ?? [CHASSIS];
  const multi = names.length > 1;
  const plan = compilePhysical(net);
  if (!plan.ok) return plan;
  // A port, or a multicast group (keys from 32768), by name; datapath and port keys are the same
  // on every chassis.
  const program = plan.value.chassis.get(CHASSIS)!.program;
  const ports = new Map([...program.portByName.values()].map((p) => [`${p.datapath}/${p.key}`, p.name]));
  const portName = (dp: number, key: number): string => program.datapaths.get(dp)?.multicast.get(key)?.name ?? ports.get(`${dp}/${key}`) ?? `${dp}/${key}`;
  // Real OVS has no underlay gateway behind its uplinks: what ovnsim's would route leaves.
  const r = new Replayer(net, { underlayRouting: false, ...(opts.cache === false ? { cache: false } : {}) });
  // Only the chassis named are real: the others are fake and send nothing back, so what ovnsim
  // tunnels to them ends there too (a packet's answer made on another chassis is not compared).
  const own = r.group.datapath.bind(r.group);
  r.group.datapath = (c: string) => (names.includes(c) ? own(c) : undefined);
  const buf = new Uint8Array(262144);
  let now: string[] = [];
  // The frame as it leaves: the packet's own (the replay's current one, which is a held fragment's
  // while it goes on) rewritten to the key, and an ICMP error's quoted packet to what conntrack's
  // NAT made of it.
  const cur = r.current;
  const leaving = (k: Uint32Array): Uint8Array => {
    const made = generatedFrame(cur.data, cur.offset, cur.caplen, cur.key, k, r.group.currentQuote());
    if (made !== undefined) return made;
    const n = rewriteFrame(cur.data, cur.offset, cur.caplen, cur.key, k, buf);
    r.icmp.rewriteQuoted(buf, n);
    return buf.subarray(0, n);
  };
  const rewritten = (k: Uint32Array): string => sha(leaving(k));
  const sink: PacketSink = {
    output: (chassis, op, k) => {
      // A localnet port's packets leave on the provider network's uplink, with the port's VLAN
      // tag pushed (ovn-controller's physical flows do that; replay reports the logical port's
      // frame), unless the provider bridge sends them only to another switch's patch port.
      if (!names.includes(chassis)) return;
      const at = multi ? `${chassis} ` : "";
      if (op.portType !== "localnet") now.push(`${at}vif ${op.portName} ${rewritten(k)}`);
      else if (op.uplink) now.push(`${at}wire ${sha(tagged(net, op.portName, leaving(k)))}`);
    },
    drop: () => {},
    tunnel: (chassis, op, k) => {
      if (!names.includes(chassis)) return;
      // VXLAN carries no input port.
      const vxlan = net.chassis.get(chassis)?.encaps.first()?.type === "vxlan";
      now.push(`${multi ? `${chassis} ` : ""}tun ${vxlan ? "?" : portName(op.datapath, op.inport)}>${portName(op.datapath, op.outport)} dp=${program.datapaths.get(op.datapath)?.name} ${rewritten(k)}`);
    },
  };
  r.group.sink = sink;
  // What comes in from a provider network comes from hosts outside, which its switches have learned.
  for (const p of packets) if (p.localnet && p.frame.length >= 12) r.knowOutside([getU16(p.frame, 6), getU32(p.frame, 8)]);
  const out: string[][] = [];
  for (const p of packets) {
    const on = p.chassis ?? CHASSIS;
    const at = p.localnet ? r.injectionAt(p.localnet.datapath, p.localnet.inport, p.port, on) : r.injectionFor(p.port);
    if (!at || at.chassis !== on) return fail(error("oracle.port", `no injection point for ${p.port} on ${on}`));
    const injected = new Uint32Array(KEY_WORDS);
    extractKey(p.frame, 0, p.frame.length, p.frame.length, 1, injected, 0, false);
    cur.data = p.frame;
    cur.offset = 0;
    cur.caplen = cur.origlen = p.frame.length;
    cur.key.set(injected);
    r.beginPacket(p.frame, 0, p.frame.length);
    if (p.at !== undefined && r.clock !== undefined) r.clock.now = p.at;
    now = [];
    r.group.inject(at.datapath, at.entry, injected);
    out.push(now.sort());
  }
  return ok(out);
}

/**
 * How long ovn-controller 23.03 goes on announcing after it first sees the ports (pinctrl.c
 * `send_garp_rarp_update`: announcements 1, 3, 7, 15 and 31 s after, the backoff doubling to 16 s,
 * then none), with some margin.
 */
export const ANNOUNCEMENTS_MS = 35_000;

export interface RealOutputOptions {
  /**
   * Wait until ovn-controller has made its last announcement (`ANNOUNCEMENTS_MS`) before the first
   * packet, and then keep every frame: a gratuitous ARP that a packet makes (a router's ARP request
   * for its own address has that shape) is then seen, where otherwise it is left out with the
   * announcements. Slow, for a run that needs it.
   */
  readonly quietAnnouncements?: boolean;
  /** The chassis made real, the first of them `CHASSIS` (default: `CHASSIS` alone). */
  readonly chassis?: readonly string[];
}

/**
 * One real chassis of a run: its daemons, its control connection, the interfaces whose `tx_pcap`
 * is read (VIFs and localports, `eth0` towards the other chassis, the provider networks'
 * uplinks), and how far each has been read.
 */
interface RealNode {
  readonly ch: OvsChassis;
  readonly ctl: UnixctlClient;
  /** Plugged interface → LSP name. */
  readonly plugged: ReadonlyMap<string, string>;
  readonly ifaces: readonly string[];
  /** Provider uplink → the provider networks (`ovn-bridge-mappings` names) its bridge carries. */
  readonly nicNetworks: ReadonlyMap<string, readonly string[]>;
  readonly announced: ReadonlySet<string>;
  readonly seen: Map<string, number>;
  readonly seenSize: Map<string, number>;
  received: number;
  upcalls: number;
}

/** A frame one real chassis sent that another takes in: on its `iface`, as it was on the wire. */
interface Forward {
  readonly to: number;
  readonly iface: string;
  readonly frame: Uint8Array;
}

/** The longest chain of frames handed between real chassis for one packet. */
const MAX_HANDOFFS = 64;

/**
 * What real OVS sends for each packet, and its count of TCP sequence-check failures, with the
 * chassis `opts.chassis` real (default `CHASSIS` alone). With more than one, every real chassis's
 * frames are read, each output line starts with the chassis that sent it, and a frame one sends
 * to another goes in there: a tunnel packet to that chassis's encap address on its `eth0`, a frame
 * on a provider network on the uplink of the same network of every other real chassis (the wire
 * is a hub, which delivers at least what a learning switch would).
 */
export async function realOutputs(net: Network, packets: readonly OraclePacket[], opts: RealOutputOptions = {}): Promise<Result<{ outputs: string[][]; tcpSeqCheckFailed: number }>> {
  const names = opts.chassis ?? [CHASSIS];
  const multi = names.length > 1;
  // Localports too, as a deployment plugs its metadata port into every chassis.
  const started = startRealChassis(withAnnouncedBindings(net, names), names, { localports: true, expectKeys: ovnsimKeyNames(net) });
  if (!started.ok) return started;
  const t = started.value;
  const nodes: RealNode[] = [];
  try {
    const ports = t.sandbox.sbList("Port_Binding", ["logical_port", "tunnel_key", "datapath"]);
    if (!ports.ok) return ports;
    const dps = t.sandbox.sbList("Datapath_Binding", ["_uuid", "tunnel_key", "external_ids"]);
    if (!dps.ok) return dps;
    const dpName = new Map<number, string>();
    const dpUuid = new Map<string, number>();
    for (const d of dps.value) {
      dpName.set(Number(d.tunnel_key), mapOf(d.external_ids).get("name") ?? "");
      dpUuid.set(uuidOf(d._uuid), Number(d.tunnel_key));
    }
    const portName = new Map<string, string>();
    for (const p of ports.value) portName.set(`${dpUuid.get(uuidOf(p.datapath))}/${Number(p.tunnel_key)}`, String(p.logical_port));
    const groups = t.sandbox.sbList("Multicast_Group", ["name", "tunnel_key", "datapath"]);
    if (!groups.ok) return groups;
    for (const g of groups.value) portName.set(`${dpUuid.get(uuidOf(g.datapath))}/${Number(g.tunnel_key)}`, String(g.name));
    // Where a port's frames go in: its chassis's index and interface.
    const byPort = new Map<string, { node: number; iface: string }>();
    // A real chassis by its encap address, for the tunnel packets another sends it.
    const byEncap = new Map<string, number>();
    for (const [i, ch] of t.all.entries()) {
      const plugged = new Map([...ch.vifs, ...ch.localports]);
      const ifaces = [...plugged.keys(), "eth0", ...ch.providerNics];
      for (const iface of [...ifaces, "br-phys"]) {
        const r = ch.vsctl("set", "Interface", iface, `mtu_request=${MTU}`);
        if (!r.ok) return r;
      }
      for (const iface of ifaces) {
        const r = ch.vsctl("set", "Interface", iface, `options:tx_pcap=${join(ch.dir, `${iface}.pcap`)}`);
        if (!r.ok) return r;
      }
      const model = net.chassis.get(ch.name)!;
      const nicNetworks = new Map<string, string[]>();
      for (const [network, bridge] of model.bridgeMappings) {
        const nic = model.nics.get(bridge) ?? `${bridge}-nic`;
        nicNetworks.set(nic, [...(nicNetworks.get(nic) ?? []), network]);
      }
      const announced = announcedPairs(t.sandbox, ch.name);
      if (!announced.ok) return announced;
      const conn = await UnixctlClient.connect(ch.vswitchdCtl);
      if (!conn.ok) return conn;
      nodes.push({ ch, ctl: conn.value, plugged, ifaces, nicNetworks, announced: announced.value, seen: new Map(), seenSize: new Map(), received: 0, upcalls: 0 });
      for (const [iface, lsp] of ch.vifs) byPort.set(lsp, { node: i, iface });
      byEncap.set(model.encaps.first()!.ip, i);
    }
    // Where ovn-controller's announcements go: the provider networks and the ports of switches
    // with a localnet port.
    const announcedOn = (node: RealNode, iface: string): boolean => {
      if (node.ch.providerNics.includes(iface)) return true;
      const lsp = node.plugged.get(iface);
      const ls = lsp === undefined ? undefined : switchOfPort(net, lsp);
      return ls !== undefined && [...ls.ports.values()].some((p) => p.type === "localnet");
    };
    // Another node's announcements reach this one's VIFs through the wire (`teachUplinks`), and so
    // do those made up for the chassis the oracle does not run.
    const fake = fakeAnnouncements(net, names);
    const allAnnounced = new Set([...nodes.flatMap((n) => [...n.announced]), ...fake.map((a) => a.pair)]);
    // With `quietAnnouncements`, every frame once the announcements are over.
    let keepAll = false;
    /** The frames chassis `k` sent since the last call, as output lines, and those another real chassis takes in. */
    const sent = (k: number, forwards: Forward[]): Result<string[]> => {
      const node = nodes[k]!;
      const { ch } = node;
      const at = multi ? `${ch.name} ` : "";
      const out: string[] = [];
      for (const iface of node.ifaces) {
        const file = join(ch.dir, `${iface}.pcap`);
        if (!existsSync(file)) continue;
        const size = statSync(file).size;
        if (size === node.seenSize.get(iface)) continue;
        node.seenSize.set(iface, size);
        const cap = openCapture(new Uint8Array(readFileSync(file)), file);
        if (!cap.ok) return cap;
        const rd = cap.value;
        let n = 0;
        const skip = node.seen.get(iface) ?? 0;
        while (rd.next()) {
          if (++n <= skip) continue;
          const f = rd.data.subarray(rd.offset, rd.offset + rd.caplen);
          // ovn-controller announces ports on provider networks by gratuitous ARPs (RARPs for a
          // port without an IPv4 address) of its own, on a timer, to the network and to local
          // ports of those networks' switches: no packet causes them, and ovnsim models no timers. Only a chassis on a provider network sends
          // them, and only for the addresses it announces. (A pod's own gratuitous ARP comes from
          // a capture: padded to 60 bytes, it stays; an unpadded one stays where no announcement
          // goes or when its addresses are not announced, as does a router's ARP request for its
          // own address, made by the `arp` action in the same shape.)
          if (!keepAll && iface !== "eth0" && ch.providerNics.length > 0 && announcedOn(node, iface) && isPinctrlAnnouncement(f, allAnnounced)) continue;
          const networks = node.nicNetworks.get(iface);
          if (networks !== undefined) {
            out.push(`${at}wire ${sha(f)}`);
            for (const [j, other] of nodes.entries()) {
              if (j === k) continue;
              for (const [nic, theirs] of other.nicNetworks) if (theirs.some((x) => networks.includes(x))) forwards.push({ to: j, iface: nic, frame: f.slice() });
            }
            continue;
          }
          if (iface !== "eth0") {
            out.push(`${at}vif ${node.plugged.get(iface)} ${sha(f)}`);
            continue;
          }
          const g = tunnelOf(f);
          if (!g) {
            // BFD between gateway chassis (OVS's own, on a timer, in Geneve without OVN's option).
            if (isBfd(f)) continue;
            return fail(error("oracle.tunnel", `${ch.name} ${iface}: frame ${n} is neither a Geneve packet with OVN's option nor a VXLAN packet`));
          }
          const from = g.inport === undefined ? "?" : portName.get(`${g.datapath}/${g.inport}`);
          out.push(`${at}tun ${from}>${portName.get(`${g.datapath}/${g.outport}`)} dp=${dpName.get(g.datapath)} ${sha(g.inner)}`);
          const to = byEncap.get(outerDestination(f));
          if (to !== undefined && to !== k) forwards.push({ to, iface: "eth0", frame: f.slice() });
        }
        node.seen.set(iface, n);
      }
      return ok(out);
    };
    /**
     * Feeds `frame` into chassis `k` by `iface`, waits until its datapath has taken it in, and
     * (when it may have gone on to ovn-controller) until nothing more comes; its frames are
     * appended to `lines`, what goes on to other real chassis to `forwards`.
     */
    const feed = async (k: number, iface: string, frame: Uint8Array, lines: string[], forwards: Forward[]): Promise<Result<void>> => {
      const node = nodes[k]!;
      const r = await node.ctl.call("netdev-dummy/receive", iface, Buffer.from(frame).toString("hex"));
      if (!r.ok) return r;
      // The datapath takes the packet in on a later turn of ovs-vswitchd's main loop than the one
      // that queued it: wait until it has.
      node.received++;
      const v = await receivedBy(node.ctl, node.received);
      if (!v.ok) return v;
      const s = sent(k, forwards);
      if (!s.ok) return s;
      lines.push(...s.value);
      // A packet that went to ovn-controller (DNS, ARP and ICMP replies, MAC learning) goes on, if
      // at all, when ovn-controller sends it back: after a packet that may have, wait until
      // nothing more comes.
      const n = await upcalls(node.ctl);
      if (!n.ok) return n;
      if (n.value !== node.upcalls) {
        node.upcalls = n.value;
        const more = await settle(node.ctl, () => sent(k, forwards));
        if (!more.ok) return more;
        lines.push(...more.value);
        // A neighbour it learned releases the packets ovn-controller held for it (pinctrl.c's
        // buffered packets), once the binding has gone through the Southbound and back: on a
        // loaded machine, later than the settle above (seed 4139 with --node2 --v6 always
        // --v4less saw the release among the next packet's outputs). So when the packet added a
        // binding, wait until every real chassis has its neighbour flow, and read again. An ARP or
        // ND packet, which routers learn from, is given `LEARN_WAIT_MS` for its binding to show
        // (seed 4193 with --shared-segments --v6 always --v4less: a pod's gratuitous ARP).
        const learned = await bindingsLearned(isNeighbourPacket(frame) ? LEARN_WAIT_MS : 0);
        if (!learned.ok) return learned;
        if (learned.value) {
          const late = await settle(node.ctl, () => sent(k, forwards));
          if (!late.ok) return late;
          lines.push(...late.value);
        }
      }
      return ok(undefined);
    };
    // The Southbound's MAC bindings seen so far, as `PORT|IP|MAC`.
    let bindings: ReadonlySet<string> | undefined;
    /**
     * Whether the Southbound has MAC bindings it did not have when last asked, polling up to
     * `waitMs` for one to show; if so, once each real chassis has installed the new ones'
     * neighbour flows (table 66, as `announcedBindingsInstalled` waits for them; at most
     * `SETTLE_MAX_MS`, since a router with no datapath on a chassis never shows there).
     */
    const bindingsLearned = async (waitMs = 0): Promise<Result<boolean>> => {
      const before = bindings;
      let added: string[] = [];
      for (const until = Date.now() + waitMs; ; ) {
        const rows = t.sandbox.sbList("MAC_Binding", ["logical_port", "ip", "mac"]);
        if (!rows.ok) return rows;
        const now = new Set(rows.value.map((r) => `${String(r.logical_port)}|${String(r.ip)}|${String(r.mac)}`));
        bindings = now;
        added = before === undefined ? [] : [...now].filter((b) => !before.has(b));
        if (added.length > 0 || Date.now() >= until) break;
        await delay(20);
      }
      if (added.length === 0) return ok(false);
      const flows = added.map((b) => {
        const [, ip = "", mac = ""] = b.split("|");
        const v4 = parseIpv4(ip);
        return { match: v4 !== undefined ? `reg0=0x${v4.toString(16)},` : "", mac: `set_field:${mac}->eth_dst` };
      });
      const deadline = Date.now() + SETTLE_MAX_MS;
      for (const nd of nodes) {
        for (;;) {
          const dump = nd.ch.ofctl("dump-flows", "br-int", "table=66");
          if (!dump.ok) return dump;
          const dumped = dump.value.split("\n");
          if (flows.every((w) => dumped.some((l) => l.includes(w.match) && l.includes(w.mac))) || Date.now() >= deadline) break;
          await delay(20);
        }
      }
      return ok(true);
    };
    /**
     * A provider bridge learns a VIF's MAC behind its switch's patch port from ovn-controller's
     * first announcement of it (a gratuitous ARP, 1 s after it claims the port), and, between
     * learning switches, every other node's bridge learns it at its uplink. So before the first
     * packet: wait until each node has made its first round of announcements (under load it may
     * come after the first packets otherwise), and, the wire here carrying no frame unasked, feed
     * each into every other node's uplinks of the same network. What the other node sends
     * meanwhile (the announcements flooded to its VIFs) is read and left out. Without this, a
     * node's bridge floods a frame for a VIF not yet announced, or on another node, to every
     * patch port of its segment, where a switch sharing the segment takes it.
     */
    const teachUplinks = async (): Promise<Result<void>> => {
      const garps: { from: number; nic: string; frame: Uint8Array }[] = [];
      const seen = new Set<string>();
      // Each node's announced pairs seen so far, as `NODE PAIR`.
      const pairs = new Set<string>();
      const deadline = Date.now() + ANNOUNCE_WAIT_MS;
      for (;;) {
        for (const [k, node] of nodes.entries()) {
          for (const nic of node.nicNetworks.keys()) {
            const file = join(node.ch.dir, `${nic}.pcap`);
            if (!existsSync(file)) continue;
            const cap = openCapture(new Uint8Array(readFileSync(file)), file);
            if (!cap.ok) return cap;
            while (cap.value.next()) {
              const f = cap.value.data.subarray(cap.value.offset, cap.value.offset + cap.value.caplen);
              const id = `${k} ${nic} ${Buffer.from(f).toString("hex")}`;
              const pair = announcementPair(f);
              if (pair === undefined || !node.announced.has(pair) || seen.has(id)) continue;
              seen.add(id);
              pairs.add(`${k} ${pair}`);
              garps.push({ from: k, nic, frame: f.slice() });
            }
          }
        }
        // Every pair a node announces on its networks, once (a VIF whose port security refuses
        // its announcement never shows: wait out the deadline then).
        const want = nodes.reduce((a, n) => a + (n.nicNetworks.size > 0 ? n.announced.size : 0), 0);
        if (pairs.size >= want || Date.now() >= deadline) break;
        await delay(200);
      }
      for (const g of garps) {
        const networks = nodes[g.from]!.nicNetworks.get(g.nic) ?? [];
        for (const [j, other] of nodes.entries()) {
          if (j === g.from) continue;
          for (const [nic, theirs] of other.nicNetworks) {
            if (!theirs.some((x) => networks.includes(x))) continue;
            const r = await feed(j, nic, g.frame, [], []);
            if (!r.ok) return r;
          }
        }
      }
      // A chassis the oracle does not run would announce its VIFs too: their first address, out
      // each localnet port of their switch, into every real node's uplinks of that network.
      for (const a of fake) {
        for (const [j, node] of nodes.entries()) {
          for (const [nic, networks] of node.nicNetworks) {
            if (!networks.includes(a.network)) continue;
            const r = await feed(j, nic, a.frame, [], []);
            if (!r.ok) return r;
          }
        }
      }
      return ok(undefined);
    };
    if (nodes.some((n) => n.nicNetworks.size > 0)) {
      const taught = await teachUplinks();
      if (!taught.ok) return taught;
      const bound = await announcedBindingsInstalled(t.sandbox, nodes.map((n) => n.ch), net, names);
      if (!bound.ok) return bound;
    }
    // The bindings before the first packet, which `bindingsLearned` compares with.
    const baseline = await bindingsLearned();
    if (!baseline.ok) return baseline;
    const out: string[][] = [];
    // OVS's clock is stopped, so that no connection expires while the packets go in (ovnsim's
    // replay clock stands still too); a conversation about time moves it on to each packet's time,
    // in steps of a second that let ovs-vswitchd's main loop run as it would have.
    let clock = 0;
    for (const node of nodes) {
      const r = await node.ctl.call("time/stop");
      if (!r.ok) return r;
    }
    if (opts.quietAnnouncements === true) {
      // ovn-controller's announcements run on its own clock, which cannot be stopped. What came
      // before the first packet is read and left out; after it, an announcement would show as a
      // difference rather than pass unseen.
      await delay(ANNOUNCEMENTS_MS);
      for (const k of nodes.keys()) {
        const before = sent(k, []);
        if (!before.ok) return before;
      }
      keepAll = true;
    }
    for (const p of packets) {
      if (p.at !== undefined && p.at > clock) {
        for (const node of nodes) {
          const r = await node.ctl.call("time/warp", String(p.at - clock), String(Math.min(1000, p.at - clock)));
          if (!r.ok) return r;
        }
        clock = p.at;
      }
      const on = p.chassis ?? CHASSIS;
      const k = names.indexOf(on);
      const wire = p.localnet ? providerWire(net, on, p.port, p.frame) : undefined;
      const iface = wire?.nic ?? (byPort.get(p.port)?.node === k ? byPort.get(p.port)!.iface : undefined);
      if (k < 0 || !iface) return fail(error("oracle.port", `${p.port} is not a VIF or localnet port of a real chassis ${on}`));
      const lines: string[] = [];
      const forwards: Forward[] = [];
      const first = await feed(k, iface, wire?.frame ?? p.frame, lines, forwards);
      if (!first.ok) return first;
      for (let hops = 0; forwards.length > 0; hops++) {
        if (hops === MAX_HANDOFFS) return fail(error("oracle.loop", `packet ${out.length}: more than ${MAX_HANDOFFS} frames handed between the real chassis`));
        const f = forwards.shift()!;
        const r = await feed(f.to, f.iface, f.frame, lines, forwards);
        if (!r.ok) return r;
      }
      out.push(lines.sort());
      if (process.env.OVNSIM_ORACLE_CT === "1") {
        // To see why the two disagree on a packet: real conntrack after it, TCP states and windows.
        for (const node of nodes) {
          const ct = await node.ctl.call("dpctl/dump-conntrack", "-s");
          if (!ct.ok) return ct;
          process.stderr.write(`${node.ch.name} after packet ${out.length - 1}:\n${ct.value}`);
        }
      }
      if (process.env.OVNSIM_ORACLE_FLOWS === "1") {
        // The datapath flows so far, with their actions: which passes and conntrack actions a
        // packet took.
        for (const node of nodes) {
          const fl = await node.ctl.call("dpctl/dump-flows");
          if (!fl.ok) return fl;
          process.stderr.write(`${node.ch.name} flows after packet ${out.length - 1}:\n${fl.value}`);
          if (out.length === packets.length) {
            const of = node.ch.ofctl("dump-flows", "br-int");
            if (of.ok) process.stderr.write(`openflow:\n${of.value}`);
          }
        }
      }
    }
    // Coverage counters reach the totals in batches, on the main loop's timer: move the stopped
    // clock on past it (every packet is in by now) and give the main loop a moment.
    for (const node of nodes) {
      const r = await node.ctl.call("time/warp", "5000", "1000");
      if (!r.ok) return r;
    }
    await delay(1500);
    let failed = 0;
    for (const node of nodes) {
      const cov = await node.ctl.call("coverage/show");
      if (!cov.ok) return cov;
      const m = /conntrack_tcp_seq_chk_failed\s.*total:\s*(\d+)/.exec(cov.value);
      failed += m ? Number(m[1]) : 0;
    }
    return ok({ outputs: out, tcpSeqCheckFailed: failed });
  } finally {
    for (const node of nodes) node.ctl.close();
    t.stop();
  }
}

/** The outer IPv4 destination of an Ethernet frame (a tunnel packet's remote endpoint), or "". */
function outerDestination(f: Uint8Array): string {
  return f.length >= 34 && f[12] === 0x08 && f[13] === 0x00 ? [...f.subarray(30, 34)].join(".") : "";
}

/**
 * Packets that may have gone on to ovn-controller so far: those the datapath missed
 * (`dpctl/show`), each of which ovs-vswitchd translated itself, and those of datapath flows that
 * send their packets up to it (`userspace(...)` actions, `dpctl/dump-flows`; such a flow's every
 * packet counts, also one that took another branch of a `check_pkt_len`).
 */
async function upcalls(ctl: UnixctlClient): Promise<Result<number>> {
  const d = await ctl.call("dpctl/show");
  if (!d.ok) return d;
  const m = /lookups: hit:\d+ missed:(\d+)/.exec(d.value);
  if (!m) return fail(error("oracle.dpctl", "dpctl/show gave no lookup counts"));
  let n = Number(m[1]);
  const f = await ctl.call("dpctl/dump-flows");
  if (!f.ok) return f;
  for (const line of f.value.split("\n")) {
    // Also inside a branch of `check_pkt_len(size=N,gt(userspace(...)),le(...))` (a gateway MTU).
    if (!/[:,(]userspace\(/.test(line)) continue;
    const p = /\bpackets:(\d+)/.exec(line);
    if (p) n += Number(p[1]);
  }
  return ok(n);
}

/** The longest wait for the datapath to take a packet in. */
const RECEIVE_MAX_MS = 10_000;

/**
 * Waits until ovs-vswitchd's datapath has taken in `n` packets from its ports in all
 * (`dpif-netdev/pmd-stats-show`, summed over its threads): it handles each batch it takes in to
 * the end before it reads its counters again.
 */
async function receivedBy(ctl: UnixctlClient, n: number): Promise<Result<number>> {
  const start = Date.now();
  for (;;) {
    const r = await ctl.call("dpif-netdev/pmd-stats-show");
    if (!r.ok) return r;
    let got = 0;
    for (const m of r.value.matchAll(/packets received: (\d+)/g)) got += Number(m[1]);
    if (got >= n) return ok(got);
    if (Date.now() - start > RECEIVE_MAX_MS) return fail(error("oracle.receive", `ovs-vswitchd took in ${got} packets, not ${n}, within ${RECEIVE_MAX_MS} ms`));
  }
}

/** How long an ARP or ND packet's learned neighbour may take to show in the Southbound. */
const LEARN_WAIT_MS = 250;

/** Where frame `f`'s EtherType is: after one VLAN tag (802.1Q or 802.1ad) if it has one. */
function etherTypeAt(f: Uint8Array): number {
  return f.length >= 16 && ((f[12] === 0x81 && f[13] === 0x00) || (f[12] === 0x88 && f[13] === 0xa8)) ? 16 : 12;
}

/** True for an ARP frame or an ICMPv6 Neighbor Solicitation or Advertisement (VLAN-tagged or not). */
function isNeighbourPacket(f: Uint8Array): boolean {
  const at = etherTypeAt(f);
  if (f[at] === 0x08 && f[at + 1] === 0x06) return true;
  // IPv6 with ICMPv6 as its next header, type 135 or 136.
  return f[at] === 0x86 && f[at + 1] === 0xdd && f[at + 8] === 58 && (f[at + 42] === 135 || f[at + 42] === 136);
}

/** How long outputs must stay the same before a packet sent to ovn-controller counts as done. */
const SETTLE_MS = 25;
/** The longest wait for a packet sent to ovn-controller. */
const SETTLE_MAX_MS = 2000;

/**
 * What ovs-vswitchd sends after a packet went to ovn-controller: its outputs, read until they have
 * not changed for `SETTLE_MS` (at most `SETTLE_MAX_MS`).
 */
async function settle(ctl: UnixctlClient, sent: () => Result<string[]>): Promise<Result<string[]>> {
  const out: string[] = [];
  const start = Date.now();
  let quiet = start;
  while (Date.now() - quiet < SETTLE_MS && Date.now() - start < SETTLE_MAX_MS) {
    await delay(2);
    const v = await ctl.call("version");
    if (!v.ok) return v;
    const s = sent();
    if (!s.ok) return s;
    if (s.value.length > 0) {
      out.push(...s.value);
      quiet = Date.now();
    }
  }
  return ok(out);
}

/**
 * Where a frame for localnet port `port` arrives on the real chassis: the uplink of its network's
 * bridge, with the port's VLAN tag pushed when it has one (OVN strips it on the way in).
 */
function providerWire(net: Network, chassis: string, port: string, frame: Uint8Array): { nic: string; frame: Uint8Array } | undefined {
  const lsp = switchOfPort(net, port)?.ports.get(port);
  const bridge = net.chassis.get(chassis)?.bridgeMappings.get(lsp?.options.get("network_name") ?? "");
  if (!lsp || bridge === undefined) return undefined;
  return { nic: net.chassis.get(chassis)!.nics.get(bridge) ?? `${bridge}-nic`, frame: tagged(net, port, frame) };
}

/** True for a BFD control packet (UDP port 3784) inside a tunnel. */
function isBfd(f: Uint8Array): boolean {
  return decodeFrame(f, 0, f.length, LINKTYPE_ETHERNET).layers.some((l) => l.kind === "udp" && l.depth > 0 && l.repr.dstPort === 3784);
}

/**
 * True for an announcement as ovn-controller sends one (`announcementPair`) whose pair is among
 * those `announced` (`announcedPairs`).
 */
function isPinctrlAnnouncement(f: Uint8Array, announced: ReadonlySet<string>): boolean {
  const pair = announcementPair(f);
  return pair !== undefined && announced.has(pair);
}

/**
 * The pair `announcedPairs` writes for a frame shaped as ovn-controller's announcements are
 * (pinctrl.c `send_garp_rarp`), tagged or not, with nothing after the ARP header (no padding):
 * `MAC IPv4` for a gratuitous ARP (sender and target address the same), `MAC rarp` for a RARP
 * request of the MAC for itself with no addresses. Undefined for any other frame.
 */
function announcementPair(f: Uint8Array): string | undefined {
  const at = etherTypeAt(f);
  if (f.length !== at + 30) return undefined;
  const arp = at + 2;
  const mac = [...f.subarray(arp + 8, arp + 14)].map((b) => b.toString(16).padStart(2, "0")).join(":");
  if (f[at] === 0x80 && f[at + 1] === 0x35) {
    // RARP request (opcode 3): sender and target hardware address the MAC, no protocol addresses.
    if (f[arp + 6] !== 0 || f[arp + 7] !== 3) return undefined;
    for (let i = 0; i < 6; i++) if (f[arp + 8 + i] !== f[arp + 18 + i]) return undefined;
    for (let i = 0; i < 4; i++) if (f[arp + 14 + i] !== 0 || f[arp + 24 + i] !== 0) return undefined;
    return `${mac} rarp`;
  }
  if (f[at] !== 0x08 || f[at + 1] !== 0x06) return undefined;
  for (let i = 0; i < 4; i++) if (f[arp + 14 + i] !== f[arp + 24 + i]) return undefined;
  return `${mac} ${f.subarray(arp + 14, arp + 18).join(".")}`;
}

/**
 * What ovn-controller announces of a VIF from its address entries (compile `announcedEntry`):
 * the MAC of its first entry that starts with a MAC, and that entry's first IPv4 address, or
 * none (a RARP then); and the announcement's pair as `announcementPair` writes it.
 */
function announcedAddress(entries: readonly unknown[]): { mac: string; ip: string | undefined; pair: string } | undefined {
  const a = announcedEntry(entries.filter((e): e is string => typeof e === "string"));
  return a === undefined ? undefined : { mac: a.mac, ip: a.ipv4, pair: `${a.mac} ${a.ipv4 ?? "rarp"}` };
}

/**
 * `net` with the MAC bindings that ovn-controller on each chassis the oracle does not run would
 * have written for its announcements (compile `announcedMacBindings`), for the Southbound: the
 * real chassis write their own.
 */
function withAnnouncedBindings(net: Network, real: readonly string[]): Network {
  const all = announcedMacBindings(net, traceInputs(net).macBindings, (c) => !real.includes(c));
  return net.set("macBindings", List(all.map((b) => MacBinding({ logicalPort: b.port, ip: b.ip, mac: b.mac }))));
}

/**
 * The announcements ovn-controller would send on a chassis that is not among `real` (the
 * oracle's fake chassis) for the VIFs bound there on switches with localnet ports: a gratuitous
 * ARP for the first address entry's MAC and first IPv4 address, or a RARP for a MAC without one
 * (as `announcedPairs`), out each localnet port of
 * the switch, with its tag; none for a disabled port, or one whose port security refuses its
 * announcement (replay `refusedAnnouncements`), whose ingress pipeline drops them; and the
 * router ports announced from there (compile `announcedMacOwners`). Other NAT addresses of
 * gateway ports there are not made up.
 */
function fakeAnnouncements(net: Network, real: readonly string[]): { network: string; pair: string; frame: Uint8Array }[] {
  const out: { network: string; pair: string; frame: Uint8Array }[] = [];
  const plan = compilePhysical(net);
  // What the VIF's own ingress pipeline drops (port security) does not go out.
  const refused = plan.ok ? refusedAnnouncements(net, plan.value) : new Set<string>();
  const owners = announcedMacOwners(net);
  for (const ls of net.switches.values()) {
    const localnets = [...ls.ports.values()].filter((p) => p.type === "localnet");
    if (localnets.length === 0) continue;
    for (const p of ls.ports.values()) {
      // A disabled port's announcement goes no further than its own ingress pipeline.
      if (p.type !== "" || !p.enabled || p.chassis === undefined || real.includes(p.chassis) || refused.has(p.name)) continue;
      const a = announcedAddress(p.addresses.toArray());
      const mac = parseMac(a?.mac ?? "");
      if (a === undefined || mac === undefined) continue;
      const frame = announcementFrame(mac, mac, a.ip);
      for (const ln of localnets) out.push({ network: ln.options.get("network_name") ?? "", pair: a.pair, frame: tagged(net, ln.name, frame) });
    }
    // A router port northd gives `nat_addresses` (compile `announcedMacOwners`), announced from a
    // fake chassis: for its first IPv4 address, from the chassis MAC where that chassis swaps it in.
    for (const p of ls.ports.values()) {
      const r = routerPortOf(net, p);
      const mac = r === undefined ? undefined : parseMac(r.port.mac);
      const where = mac === undefined ? undefined : owners.get(ls.name)?.get(formatMac(mac));
      const c = where === undefined || !plan.ok ? undefined : plan.value.chassis.get(where);
      const ip = r?.port.networks.map((n) => n.split("/")[0] ?? "").find((n) => parseIpv4(n) !== undefined);
      if (c === undefined || mac === undefined || real.includes(c.name) || ip === undefined) continue;
      for (const ln of localnets) {
        const lp = c.program.portByName.get(ln.name);
        const src = lp === undefined ? mac : (parseMac(announcementSource(c, lp.datapath, lp.key, formatMac(mac))) ?? mac);
        out.push({ network: ln.options.get("network_name") ?? "", pair: `${formatMac(mac)} ${ip}`, frame: tagged(net, ln.name, announcementFrame(src, mac, ip)) });
      }
    }
  }
  return out;
}

/**
 * Sees that the MAC bindings the real chassis' ovn-controllers write for their announcements
 * (compile `announcedMacBindings`) are in place before the first packet: in the Southbound, and in
 * every real chassis's neighbour table (OpenFlow table 66: a flow that matches the address in reg0
 * and sets the MAC), each wait up to `ANNOUNCE_WAIT_MS`. A binding reaches the other chassis
 * through the Southbound, and without this the first packets may find a router still without it,
 * and make it ask by ARP.
 *
 * ovn-controller writes such a binding once, when it first prepares the VIF's announcement, and
 * only if a Southbound transaction is open at that moment (pinctrl.c `send_garp_locally`); if not,
 * it never does. That is a race at its start (a run of `announced-neighbours+node2` in about four
 * lost one). A binding still missing after the wait is written here, as ovn-controller writes it
 * when it wins, so that a recording does not depend on that race. IPv4 bindings of routers with no
 * datapath on a chassis never show in its table 66; the second wait runs out then.
 */
async function announcedBindingsInstalled(sandbox: { sbList(table: string, columns?: readonly string[]): Result<Record<string, unknown>[]>; sbctl(...args: string[]): Result<string> }, chassis: readonly OvsChassis[], net: Network, real: readonly string[]): Promise<Result<void>> {
  const want = announcedMacBindings(net, [], (c) => real.includes(c));
  if (want.length === 0) return ok(undefined);
  let missing = want;
  for (const deadline = Date.now() + ANNOUNCE_WAIT_MS; ; ) {
    const rows = sandbox.sbList("MAC_Binding", ["logical_port", "ip", "mac"]);
    if (!rows.ok) return rows;
    const have = new Set(rows.value.map((r) => `${String(r.logical_port)}|${String(r.ip)}|${String(r.mac)}`));
    missing = want.filter((b) => !have.has(`${b.port}|${b.ip}|${b.mac}`));
    if (missing.length === 0 || Date.now() >= deadline) break;
    await delay(200);
  }
  for (const b of missing) {
    const cmd = macBindingCommand(net, MacBinding({ logicalPort: b.port, ip: b.ip, mac: b.mac }));
    if (cmd === undefined) continue;
    const r = sandbox.sbctl(...cmd);
    if (!r.ok) return r;
  }
  const flows = want.map((b) => ({ reg0: `reg0=0x${(parseIpv4(b.ip) ?? 0).toString(16)},`, mac: `set_field:${b.mac}->eth_dst` }));
  const deadline = Date.now() + ANNOUNCE_WAIT_MS;
  for (const ch of chassis) {
    for (;;) {
      const dump = ch.ofctl("dump-flows", "br-int", "table=66");
      if (!dump.ok) return dump;
      const lines = dump.value.split("\n");
      if (flows.every((w) => lines.some((l) => l.includes(w.reg0) && l.includes(w.mac))) || Date.now() >= deadline) break;
      await delay(100);
    }
  }
  return ok(undefined);
}

/** How long `realOutputs` waits for the first round of ovn-controller's announcements. */
const ANNOUNCE_WAIT_MS = 4000;

/**
 * The pairs (as `announcementPair` writes them) ovn-controller on chassis `name` may announce
 * (pinctrl.c `send_garp_rarp_prepare`): the first address of each VIF (its MAC alone, by RARP,
 * when that entry has no IPv4 address) bound to it on a switch with
 * a localnet port, and the NAT addresses northd gives l3gateway and patch ports of such switches.
 * A superset: whether a NAT address's chassis-resident condition holds here is not checked.
 */
function announcedPairs(sandbox: { sbList(table: string, columns?: readonly string[]): Result<Record<string, unknown>[]> }, name: string): Result<Set<string>> {
  const chassis = sandbox.sbList("Chassis", ["_uuid", "name"]);
  if (!chassis.ok) return chassis;
  const self = uuidOf(chassis.value.find((c) => c.name === name)?._uuid);
  const ports = sandbox.sbList("Port_Binding", ["type", "mac", "nat_addresses", "chassis", "datapath"]);
  if (!ports.ok) return ports;
  const withLocalnet = new Set(ports.value.filter((p) => p.type === "localnet").map((p) => uuidOf(p.datapath)));
  const out = new Set<string>();
  // A NAT address entry: its MAC with each of its IPv4 addresses.
  const addNat = (text: string): void => {
    const [mac, ...rest] = text.trim().split(/\s+/);
    for (const ip of rest.filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x))) out.add(`${(mac ?? "").toLowerCase()} ${ip}`);
  };
  for (const p of ports.value) {
    if (!withLocalnet.has(uuidOf(p.datapath))) continue;
    if (p.type === "" && uuidOf(p.chassis) === self) {
      const a = announcedAddress(setOf(p.mac));
      if (a !== undefined) out.add(a.pair);
    }
    if ((p.type === "l3gateway" && uuidOf(p.chassis) === self) || p.type === "patch") for (const n of setOf(p.nat_addresses)) if (typeof n === "string") addNat(n);
  }
  return ok(out);
}

/** `frame` with localnet port `port`'s VLAN tag pushed (with its TPID), when it has one. */
function tagged(net: Network, port: string, frame: Uint8Array): Uint8Array {
  const p = switchOfPort(net, port)?.ports.get(port);
  return p?.tag === undefined ? frame : pushVlan(frame, { pcp: 0, dei: false, vid: p.tag }, localnetTpid(p.options));
}

/** A Geneve frame's VNI, OVN port keys and inner frame (the project's decoder reads it). */
function tunnelOf(f: Uint8Array): { datapath: number; inport: number | undefined; outport: number; inner: Uint8Array } | undefined {
  const layers = decodeFrame(f, 0, f.length, LINKTYPE_ETHERNET).layers;
  const i = layers.findIndex((l) => l.kind === "geneve" || l.kind === "vxlan");
  const g = layers[i];
  const inner = layers[i + 1];
  if (!g || !inner) return undefined;
  if (g.kind === "vxlan") {
    // OVN's VXLAN: the datapath's key in the VNI's low 12 bits, the output port's above them (a
    // multicast group's as bit 11 and its key's low 11 bits); no input port.
    const p12 = (g.repr.vni >>> 12) & 0xfff;
    return { datapath: g.repr.vni & 0xfff, inport: undefined, outport: (p12 & 0x800) !== 0 ? 0x8000 | (p12 & 0x7ff) : p12, inner: f.subarray(inner.offset) };
  }
  if (g.kind !== "geneve") return undefined;
  const ovn = ovnMetadataOf(g.repr);
  return ovn ? { datapath: g.repr.vni, inport: ovn.ingressPort, outport: ovn.egressPort, inner: f.subarray(inner.offset) } : undefined;
}


/**
 * An oracle's network and packets: one of `ORACLES`, from the capture under `pcaps`, or
 * `HAIRPIN`.
 */
export function oracleInputs(name: string, pcaps = pcapsDir()): Result<{ net: Network; packets: OraclePacket[]; chassis: readonly string[] }> {
  const { network, capture, from, chassis } = oracleName(name);
  const conv = CONVERSATIONS[name];
  // A capture's window keeps every backend; a conversation only when it says so (the hairpin's
  // needs web-1.default balanced to itself).
  const net = oracleNetwork(conv ? conv.network : network, conv ? conv.allBackends === true : true);
  if (!net.ok) return net;
  const file = join(pcaps, capture);
  if (!conv && !existsSync(file)) return fail(error("oracle.capture", `no capture ${file} (set OVNSIM_PCAPS)`));
  const real = conv?.chassis ?? chassis;
  const packets = conv ? conv.packets(net.value) : oraclePackets(net.value, file, from + PACKETS, real);
  if (!packets.ok) return packets;
  return ok({ net: net.value, packets: packets.value.slice(from), chassis: real });
}

/**
 * How real OVS is asked about an oracle's packets: the chassis made real, and whether the
 * conversation needs `quietAnnouncements`.
 */
export function realOptions(name: string): RealOutputOptions {
  const conv = CONVERSATIONS[name];
  const chassis = conv?.chassis ?? oracleName(name).chassis;
  return { ...(conv?.quietAnnouncements === true ? { quietAnnouncements: true } : {}), ...(chassis.length > 1 ? { chassis } : {}) };
}

/** Records real OVS's outputs for an oracle's packets (`oracleInputs`). */
export async function recordReplay(scenario: string, pcaps = pcapsDir()): Promise<Result<ReplayRecording>> {
  if (!ovsAvailable()) return fail(error("oracle.unavailable", "OVS/OVN binaries are not installed"));
  const inputs = oracleInputs(scenario, pcaps);
  if (!inputs.ok) return inputs;
  const { network, capture, from } = oracleName(scenario);
  const file = join(pcaps, capture);
  const conv = CONVERSATIONS[scenario];
  const real = await realOutputs(inputs.value.net, inputs.value.packets, realOptions(scenario));
  if (!real.ok) return real;
  return ok({
    ovs: versionOf("ovs-vswitchd"),
    ovn: versionOf("ovn-controller"),
    scenario,
    capture: conv ? "" : capture,
    captureSha256: conv ? "" : createHash("sha256").update(readFileSync(file)).digest("hex"),
    notes: [
      conv
        ? `${conv.note}, a ${MTU}-byte MTU (scripts/ovs-replay.ts).`
        : `${from === 0 ? `The first ${PACKETS} packets` : `Packets ${from} to ${from + PACKETS - 1} (from 0) of those`} that --map auto lays onto ${inputs.value.chassis.join(" and ")} of ${network}, checksums recomputed and a ${MTU}-byte MTU (scripts/ovs-replay.ts).`,
      ...(inputs.value.chassis.length > 1 ? [`Real chassis: ${inputs.value.chassis.join(", ")}; each output starts with the chassis that sent it, and what one sends another takes in (scripts/ovs-replay.ts realOutputs).`] : []),
      "Each output: `vif PORT DIGEST`, `wire DIGEST` (onto a provider network) or `tun FROM>TO dp=DATAPATH DIGEST` (the inner frame of the Geneve packet), DIGEST the first 32 hex digits of the frame's SHA-256.",
    ],
    outputs: real.value.outputs,
    tcpSeqCheckFailed: real.value.tcpSeqCheckFailed,
  });
}

/** Packets whose outputs differ between two runs, as lines (empty when they agree). */
export function compareOutputs(want: readonly (readonly string[])[], got: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  if (want.length !== got.length) out.push(`${got.length} packets, not ${want.length}`);
  for (let i = 0; i < Math.min(want.length, got.length); i++) {
    const a = want[i]!.join("\n");
    const b = got[i]!.join("\n");
    if (a !== b) out.push(`packet ${i}: expected [${want[i]!.join(", ")}], got [${got[i]!.join(", ")}]`);
  }
  return out;
}

async function main(): Promise<number> {
  let status = 0;
  const all: string[] = [...ORACLES, ...Object.keys(CONVERSATIONS)];
  const named = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  for (const n of named) if (!all.includes(n)) return (process.stderr.write(`ovs-replay: no oracle ${n} (${all.join(", ")})\n`), 2);
  for (const scenario of named.length > 0 ? named : all) {
    const file = recordingFile(scenario);
    const rec = await recordReplay(scenario);
    if (!rec.ok) {
      for (const d of rec.diags) process.stderr.write(`ovs-replay: ${scenario}: ${d.message}\n`);
      return 2;
    }
    if (process.argv.includes("--record")) {
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify(rec.value, null, 1) + "\n");
      renameSync(tmp, file);
      process.stdout.write(`wrote ${file}\n`);
      continue;
    }
    if (!existsSync(file)) {
      process.stderr.write(`ovs-replay: no recording at ${file} (run with --record)\n`);
      return 2;
    }
    const old = JSON.parse(readFileSync(file, "utf8")) as ReplayRecording;
    const diff = compareOutputs(old.outputs, rec.value.outputs);
    if (old.tcpSeqCheckFailed !== rec.value.tcpSeqCheckFailed) diff.push(`TCP sequence-check failures: ${rec.value.tcpSeqCheckFailed}, recorded ${old.tcpSeqCheckFailed}`);
    for (const l of diff.slice(0, 20)) process.stdout.write(`${scenario}: ${l}\n`);
    process.stdout.write(diff.length === 0 ? `${scenario}: real OVS sends what the recording says, for all ${rec.value.outputs.length} packets\n` : `${scenario}: ${diff.length} differences\n`);
    if (diff.length > 0) status = 1;
  }
  return status;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
