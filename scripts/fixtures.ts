/**
 * Synthetic captures that ovnsim ships as fixtures, built deterministically from code.
 *
 * No public capture carries OVN's Geneve option (class 0x0102, type 0x80), so the project makes its
 * own. `overlayPod2PodCapture()` is a small teaching network: two pods of Kube-OVN's default
 * subnet on two nodes, the same conversation seen at each pod's port, on the Geneve wire between
 * the nodes (overlay), and VLAN-tagged on a provider network (underlay).
 *
 * Network facts used:
 * - ovn-default (10.16.0.0/16) has datapath tunnel key 1; pod-a's port key is 2, pod-b's is 3.
 * - Geneve VNI = datapath key; OVN's option carries (ingress port key << 16) | egress port key.
 * - node1 192.168.0.11 and node2 192.168.0.12 are the chassis encap IPs; the provider network
 *   uses VLAN 100.
 * - The ARP request for pod-b is answered on node1 by OVN's ARP responder, so it never crosses.
 */
import { parseIpv4, parseMac } from "../src/base/index.js";
import {
  ArpOp,
  EtherType,
  IpProto,
  arpRepr,
  buildFrame,
  encapsulateGeneve,
  ipv4Repr,
  ovnGeneveOption,
  pushVlan,
  tcpRepr,
  type LayerSpec,
} from "../src/packet/index.js";
import { PcapngWriter } from "../src/pcap/index.js";

function mac(s: string): Uint8Array {
  const m = parseMac(s);
  if (!m) throw new Error(`bad MAC ${s}`);
  return m;
}

function ip(s: string): number {
  const v = parseIpv4(s);
  if (v === undefined) throw new Error(`bad IPv4 ${s}`);
  return v;
}

export const TEACHING = {
  datapathKey: 1,
  podA: { name: "pod-a", mac: mac("00:00:00:a1:00:02"), ip: ip("10.16.0.2"), portKey: 2, node: 0 },
  podB: { name: "pod-b", mac: mac("00:00:00:a1:00:03"), ip: ip("10.16.0.3"), portKey: 3, node: 1 },
  nodes: [
    { name: "node1", mac: mac("52:54:00:00:00:11"), ip: ip("192.168.0.11") },
    { name: "node2", mac: mac("52:54:00:00:00:12"), ip: ip("192.168.0.12") },
  ],
  providerVlan: 100,
} as const;

type Pod = typeof TEACHING.podA | typeof TEACHING.podB;

const TCP = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

function icmpEcho(src: Pod, dst: Pod, request: boolean, seq: number): Uint8Array {
  const payload = new Uint8Array(8);
  const icmp: LayerSpec = { kind: "icmp", repr: { type: request ? 8 : 0, code: 0, checksum: 0, rest: ((0x1234 << 16) | seq) >>> 0 } };
  return buildFrame(
    [{ kind: "ethernet", repr: { dst: dst.mac, src: src.mac, etherType: EtherType.IPV4 } }, { kind: "ipv4", repr: ipv4Repr(src.ip, dst.ip, IpProto.ICMP, { ttl: 64, dontFrag: true }) }, icmp],
    payload,
    { fixLengths: true, computeChecksums: true },
  );
}

function tcpSegment(src: Pod, dst: Pod, sport: number, dport: number, flags: number, seq: number, ack: number, payload: Uint8Array): Uint8Array {
  return buildFrame(
    [
      { kind: "ethernet", repr: { dst: dst.mac, src: src.mac, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(src.ip, dst.ip, IpProto.TCP, { ttl: 64, dontFrag: true }) },
      { kind: "tcp", repr: tcpRepr(sport, dport, flags, { seq, ack, window: 64240 }) },
    ],
    payload,
    { fixLengths: true, computeChecksums: true },
  );
}

function arp(op: number, from: Pod, to: Pod, dstMac: Uint8Array): Uint8Array {
  return buildFrame([{ kind: "ethernet", repr: { dst: dstMac, src: op === ArpOp.REQUEST ? from.mac : to.mac, etherType: EtherType.ARP } }, { kind: "arp", repr: op === ArpOp.REQUEST ? arpRepr(op, from.mac, from.ip, new Uint8Array(6), to.ip) : arpRepr(op, to.mac, to.ip, from.mac, from.ip) }], new Uint8Array(0), { fixLengths: true });
}

/** The Geneve frame that carries `inner` from `src`'s node to `dst`'s node. */
function geneve(inner: Uint8Array, src: Pod, dst: Pod, udpSrc: number): Uint8Array {
  const a = TEACHING.nodes[src.node];
  const b = TEACHING.nodes[dst.node];
  return encapsulateGeneve(inner, { ethSrc: a.mac, ethDst: b.mac, ipSrc: a.ip, ipDst: b.ip, udpSrc }, TEACHING.datapathKey, [ovnGeneveOption(src.portKey, dst.portKey)]);
}

/** The overlay/underlay teaching capture as pcapng bytes. */
export function overlayPod2PodCapture(): Uint8Array {
  const { podA: a, podB: b } = TEACHING;
  const w = new PcapngWriter({ application: "ovnsim fixtures" });
  const vifA = w.addInterface({ name: "node1/pod-a", description: "pod-a's port (ovn-default port key 2) on node1" });
  const wire = w.addInterface({ name: "node1<->node2 geneve", description: "overlay: Geneve between the chassis encap IPs, VNI = datapath key 1" });
  const vifB = w.addInterface({ name: "node2/pod-b", description: "pod-b's port (ovn-default port key 3) on node2" });
  const prov = w.addInterface({ name: "net1 vlan 100", description: "underlay: the same pods on a provider network, VLAN 100" });
  let t = 1_700_000_000;
  let ns = 0;
  const at = (stepUs: number) => {
    ns += stepUs * 1000;
    if (ns >= 1e9) {
      t += Math.floor(ns / 1e9);
      ns %= 1e9;
    }
    return [t, ns] as const;
  };
  const put = (ifId: number, frame: Uint8Array, stepUs = 20) => {
    const [s, n] = at(stepUs);
    w.writePacket(ifId, s, n, frame);
  };
  /** One packet crossing: seen at the sender's port, on the wire, at the receiver's port. */
  const cross = (frame: Uint8Array, src: Pod, dst: Pod, udpSrc: number) => {
    put(src === a ? vifA : vifB, frame, 1000);
    put(wire, geneve(frame, src, dst, udpSrc));
    put(dst === a ? vifA : vifB, frame);
  };
  // ARP for pod-b, answered on node1 by the ARP responder.
  put(vifA, arp(ArpOp.REQUEST, a, b, mac("ff:ff:ff:ff:ff:ff")), 0);
  put(vifA, arp(ArpOp.REPLY, a, b, a.mac));
  // Ping there and back.
  for (let seq = 1; seq <= 2; seq++) {
    cross(icmpEcho(a, b, true, seq), a, b, 50001);
    cross(icmpEcho(b, a, false, seq), b, a, 50002);
  }
  // A TCP connection to port 80: handshake, a request, the close.
  const req = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: pod-b\r\n\r\n");
  cross(tcpSegment(a, b, 40000, 80, TCP.SYN, 1000, 0, new Uint8Array(0)), a, b, 50003);
  cross(tcpSegment(b, a, 80, 40000, TCP.SYN | TCP.ACK, 5000, 1001, new Uint8Array(0)), b, a, 50004);
  cross(tcpSegment(a, b, 40000, 80, TCP.ACK, 1001, 5001, new Uint8Array(0)), a, b, 50003);
  cross(tcpSegment(a, b, 40000, 80, TCP.PSH | TCP.ACK, 1001, 5001, req), a, b, 50003);
  cross(tcpSegment(b, a, 80, 40000, TCP.FIN | TCP.ACK, 5001, 1001 + req.length, new Uint8Array(0)), b, a, 50004);
  cross(tcpSegment(a, b, 40000, 80, TCP.FIN | TCP.ACK, 1001 + req.length, 5002, new Uint8Array(0)), a, b, 50003);
  // Underlay: the same ping on the provider network, tagged, with no tunnel.
  put(prov, pushVlan(icmpEcho(a, b, true, 3), { pcp: 0, dei: false, vid: TEACHING.providerVlan }), 1000);
  put(prov, pushVlan(icmpEcho(b, a, false, 3), { pcp: 0, dei: false, vid: TEACHING.providerVlan }));
  return w.toBytes();
}

/** Every fixture: path under fixtures/ → its bytes. */
export function allFixtures(): Record<string, Uint8Array> {
  return { "pcap/ovn-overlay-pod2pod.pcapng": overlayPod2PodCapture() };
}
