/**
 * The one-line printer: exact lines for the common packet shapes, tunnels, fragments and broken packets.
 */
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4, parseIpv6, parseMac } from "../base/index.js";
import { buildArpReply, buildFrame, encapsulateGeneve } from "./build.js";
import { decodeFrame } from "./decode.js";
import { EtherType } from "./ethernet.js";
import { ovnGeneveOption } from "./geneve.js";
import { IpProto } from "./ip-proto.js";
import { ipv4Repr } from "./ipv4.js";
import { ipv6Repr } from "./ipv6.js";
import type { LayerSpec } from "./layer.js";
import { formatLine } from "./pretty.js";
import { tcpRepr, TcpFlag } from "./tcp.js";
import { arpRepr } from "./arp.js";

const M1 = parseMac("00:00:00:00:00:01")!;
const M2 = parseMac("00:00:00:00:00:02")!;

function line(layers: LayerSpec[], payload?: Uint8Array): string {
  const f = buildFrame(layers, payload, { fixLengths: true, computeChecksums: true });
  return formatLine(decodeFrame(f, 0, f.length, 1));
}

const tcpSyn: LayerSpec[] = [
  { kind: "ethernet", repr: { dst: M2, src: M1, etherType: EtherType.VLAN } },
  { kind: "vlan", repr: { pcp: 0, dei: false, vid: 100, etherType: EtherType.IPV4 } },
  { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, IpProto.TCP) },
  { kind: "tcp", repr: tcpRepr(34567, 80, TcpFlag.SYN, { seq: 1, window: 64240 }) },
];

describe("formatLine", () => {
  it("a tagged TCP SYN", () => {
    expect(line(tcpSyn)).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, 802.1Q vlan 100, IPv4 10.0.0.1.34567 > 10.0.0.2.80: TCP [S] seq 1 win 64240 len 0");
  });

  it("Geneve with OVN's option, then the inner frame", () => {
    const inner = buildFrame(tcpSyn, undefined, { fixLengths: true, computeChecksums: true });
    const outer = { ethSrc: parseMac("02:00:00:00:00:0a")!, ethDst: parseMac("02:00:00:00:00:0b")!, ipSrc: parseIpv4("192.0.2.1")!, ipDst: parseIpv4("192.0.2.2")!, udpSrc: 49152 };
    const f = encapsulateGeneve(inner, outer, 5, [ovnGeneveOption(1, 3)]);
    expect(formatLine(decodeFrame(f, 0, f.length, 1))).toBe(
      "02:00:00:00:00:0a > 02:00:00:00:00:0b, IPv4 192.0.2.1.49152 > 192.0.2.2.6081: Geneve vni 0x5 ovn(in=1,out=3): " +
        "00:00:00:00:00:01 > 00:00:00:00:00:02, 802.1Q vlan 100, IPv4 10.0.0.1.34567 > 10.0.0.2.80: TCP [S] seq 1 win 64240 len 0",
    );
  });

  it("ARP, ICMP echo, UDP and IPv6 ND", () => {
    const req = arpRepr(1, M1, parseIpv4("10.0.0.1")!, new Uint8Array(6), parseIpv4("10.0.0.2")!);
    const arp = buildFrame([
      { kind: "ethernet", repr: { dst: parseMac("ff:ff:ff:ff:ff:ff")!, src: M1, etherType: EtherType.ARP } },
      { kind: "arp", repr: req },
    ]);
    expect(formatLine(decodeFrame(arp, 0, arp.length, 1))).toBe("00:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP who-has 10.0.0.2 tell 10.0.0.1");
    const reply = buildArpReply(req, M2);
    expect(formatLine(decodeFrame(reply, 0, reply.length, 1))).toBe("00:00:00:00:00:02 > 00:00:00:00:00:01, ARP reply 10.0.0.2 is-at 00:00:00:00:00:02");
    const ip = (p: number): LayerSpec[] => [
      { kind: "ethernet", repr: { dst: M2, src: M1, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, p) },
    ];
    expect(line([...ip(IpProto.ICMP), { kind: "icmp", repr: { type: 8, code: 0, checksum: 0, rest: 0x00070001 } }], new Uint8Array(56))).toBe(
      "00:00:00:00:00:01 > 00:00:00:00:00:02, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request id 7 seq 1, len 56",
    );
    expect(line([...ip(IpProto.UDP), { kind: "udp", repr: { srcPort: 5353, dstPort: 53, length: 0, checksum: 0 } }], new Uint8Array(12))).toBe(
      "00:00:00:00:00:01 > 00:00:00:00:00:02, IPv4 10.0.0.1.5353 > 10.0.0.2.53: UDP len 12",
    );
    const na: LayerSpec[] = [
      { kind: "ethernet", repr: { dst: M2, src: M1, etherType: EtherType.IPV6 } },
      { kind: "ipv6", repr: ipv6Repr(parseIpv6("fe80::1")!, parseIpv6("fe80::2")!, IpProto.ICMPV6, { hopLimit: 255 }) },
      { kind: "icmpv6", repr: { type: 136, code: 0, checksum: 0, rest: 0x60000000, nd: { target: parseIpv6("fe80::1")!, options: [{ type: 2, data: M1 }] } } },
    ];
    expect(line(na)).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, IPv6 fe80::1 > fe80::2: ICMPv6 neighbor advertisement tgt is fe80::1 [SO], tll 00:00:00:00:00:01");
  });

  it("fragments, protocols not decoded, malformed and truncated packets", () => {
    const frag: LayerSpec[] = [
      { kind: "ethernet", repr: { dst: M2, src: M1, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, IpProto.UDP, { ident: 0x1234, fragOffset: 185 }) },
    ];
    expect(line(frag, new Uint8Array(100))).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, IPv4 10.0.0.1 > 10.0.0.2 [frag id 0x1234 off 1480]: udp fragment, len 100");
    const gre: LayerSpec[] = [frag[0]!, { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, IpProto.GRE) }];
    expect(line(gre, new Uint8Array(24))).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, IPv4 10.0.0.1 > 10.0.0.2: gre, len 24");
    const f = buildFrame(tcpSyn, undefined, { fixLengths: true, computeChecksums: true });
    expect(formatLine(decodeFrame(f, 0, 50, 1))).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, 802.1Q vlan 100, IPv4 10.0.0.1 > 10.0.0.2: tcp, len 12 [truncated]");
    const bad = f.slice();
    bad[18] = 0x44; // IHL 4
    expect(formatLine(decodeFrame(bad, 0, bad.length, 1))).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, 802.1Q vlan 100 [malformed: IPv4 header length 16 < 20 at offset 18]");
    const mpls = new Uint8Array([...M2, ...M1, 0x88, 0x47, 0, 0, 0x11, 0x40]);
    expect(formatLine(decodeFrame(mpls, 0, mpls.length, 1))).toBe("00:00:00:00:00:01 > 00:00:00:00:00:02, mpls, len 4");
    expect(formatLine(decodeFrame(new Uint8Array(0), 0, 0, 1))).toBe("empty frame [truncated]");
    expect(formatLine(decodeFrame(fromHex("4500")!, 0, 2, 147))).toBe("linktype 147, len 2");
  });
});
