/**
 * The inside-out builder: real frames rebuilt from blanked lengths and checksums, tunnel/VLAN/ND helpers.
 */
import { describe, expect, it } from "vitest";
import { formatMac, fromHex, parseIpv4, parseIpv6, parseMac, setU16 } from "../base/index.js";
import { buildFrame, encapsulateGeneve, encapsulateVxlan, popVlan, PrependBuffer, pushVlan } from "./build.js";
import { decodeFrame, type Decoded } from "./decode.js";
import { EtherType } from "./ethernet.js";
import { ovnGeneveOption, ovnMetadataOf } from "./geneve.js";
import { icmpv6HeaderLen, ndLinkLayerOption } from "./icmpv6.js";
import { IpProto } from "./ip-proto.js";
import { ipv4Repr } from "./ipv4.js";
import { ipv6Repr } from "./ipv6.js";
import type { LayerSpec } from "./layer.js";
import { tcpRepr, TcpFlag } from "./tcp.js";
import { verifyChecksums } from "./verify.js";

// Packet 1 of tcpdump's geneve.pcap (annotated in geneve.test.ts): outer UDP checksum 0, every
// other length and checksum filled in by the sender.
const GENEVE = fromHex(
  "001b213cac30001b213cab640800" +
    "4500008edfad4000401132af1400000114000002" +
    "314a17c1007a0000" +
    "0240655800000a00" +
    "000080010000000c" +
    "fe71d883724fb69ed24951480800" +
    "45000054bda24000400141041e0000011e000002" +
    "08002c5429520017" +
    "f1a2ce540000000017780c0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
)!;

// A Neighbor Advertisement (zeek's ipv6-http-atomic-frag.pcap, packet 1), whole frame.
const NA = fromHex(
  "00101895316aaa0004000a0486dd" +
    "6000000000203aff20010db800010000000000000000000120010db8000100000000000000000002" +
    "8800546ce000000020010db80001000000000000000000010201aa0004000a04",
)!;

function decode(b: Uint8Array): Decoded {
  return decodeFrame(b, 0, b.length, 1);
}

/** The layers of a decoded frame with every length and checksum field zeroed. */
function blanked(d: Decoded): LayerSpec[] {
  return d.layers.map((l): LayerSpec => {
    switch (l.kind) {
      case "ipv4":
        return { kind: "ipv4", repr: { ...l.repr, totalLength: 0, checksum: 0 } };
      case "ipv6":
        return { kind: "ipv6", repr: { ...l.repr, payloadLength: 0 } };
      case "udp":
        return { kind: "udp", repr: { ...l.repr, length: 0, checksum: 0 } };
      case "tcp":
        return { kind: "tcp", repr: { ...l.repr, checksum: 0 } };
      case "icmp":
        return { kind: "icmp", repr: { ...l.repr, checksum: 0 } };
      case "icmpv6":
        return { kind: "icmpv6", repr: { ...l.repr, checksum: 0 } };
      default:
        return l;
    }
  });
}

describe("buildFrame", () => {
  it("without options, writes the reprs exactly", () => {
    const d = decode(GENEVE);
    expect(buildFrame(d.layers, d.frame.subarray(d.payloadOffset))).toEqual(GENEVE);
  });

  it("fixes every length and checksum of a real Geneve frame from blank fields", () => {
    const d = decode(GENEVE);
    const out = buildFrame(blanked(d), d.frame.subarray(d.payloadOffset), { fixLengths: true, computeChecksums: true });
    // The sender left the outer UDP checksum 0 ("none"); everything else must match the capture.
    setU16(out, 40, 0);
    expect(out).toEqual(GENEVE);
  });

  it("computes an ICMPv6 checksum over the IPv6 pseudo-header, ND options included", () => {
    const d = decode(NA);
    const out = buildFrame(blanked(d), d.frame.subarray(d.payloadOffset), { fixLengths: true, computeChecksums: true });
    expect(out).toEqual(NA);
    const icmp = d.layers[2];
    expect(icmp?.kind === "icmpv6" && icmpv6HeaderLen(icmp.repr)).toBe(32);
  });

  it("builds a tagged TCP SYN whose checksums verify", () => {
    const frame = buildFrame(
      [
        { kind: "ethernet", repr: { dst: parseMac("00:00:00:00:00:02")!, src: parseMac("00:00:00:00:00:01")!, etherType: EtherType.VLAN } },
        { kind: "vlan", repr: { pcp: 0, dei: false, vid: 100, etherType: EtherType.IPV4 } },
        { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, IpProto.TCP) },
        { kind: "tcp", repr: tcpRepr(34567, 80, TcpFlag.SYN, { seq: 1, window: 64240 }) },
      ],
      undefined,
      { fixLengths: true, computeChecksums: true },
    );
    expect(frame.length).toBe(14 + 4 + 20 + 20);
    const d = decode(frame);
    expect(d.issues).toEqual([]);
    expect(verifyChecksums(d).map((c) => `${c.kind}:${c.status}`)).toEqual(["ipv4:ok", "tcp:ok"]);
  });

  it("builds ND messages with link-layer options", () => {
    const src = parseIpv6("fe80::1")!;
    const dst = parseIpv6("ff02::1:ff00:2")!;
    const frame = buildFrame(
      [
        { kind: "ethernet", repr: { dst: parseMac("33:33:ff:00:00:02")!, src: parseMac("0a:00:00:00:00:01")!, etherType: EtherType.IPV6 } },
        { kind: "ipv6", repr: ipv6Repr(src, dst, IpProto.ICMPV6, { hopLimit: 255 }) },
        {
          kind: "icmpv6",
          repr: { type: 135, code: 0, checksum: 0, rest: 0, nd: { target: parseIpv6("fe80::2")!, options: [ndLinkLayerOption(1, parseMac("0a:00:00:00:00:01")!)] } },
        },
      ],
      undefined,
      { fixLengths: true, computeChecksums: true },
    );
    const d = decode(frame);
    const ns = d.layers[2];
    expect(ns?.kind === "icmpv6" && formatMac(ns.repr.nd!.options[0]!.data)).toBe("0a:00:00:00:00:01");
    expect(verifyChecksums(d).map((c) => c.status)).toEqual(["ok"]);
  });
});

describe("tunnel, VLAN and buffer helpers", () => {
  const inner = GENEVE.subarray(58);

  it("Geneve encapsulation with OVN's option round-trips through the decoder", () => {
    const frame = encapsulateGeneve(
      inner,
      { ethSrc: parseMac("02:00:00:00:00:01")!, ethDst: parseMac("02:00:00:00:00:02")!, ipSrc: parseIpv4("192.0.2.1")!, ipDst: parseIpv4("192.0.2.2")!, udpSrc: 49152 },
      5,
      [ovnGeneveOption(1, 3)],
    );
    const d = decode(frame);
    expect(d.layers.map((l) => `${l.kind}@${l.depth}`)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "geneve@0", "ethernet@1", "ipv4@1", "icmp@1"]);
    const g = d.layers[3];
    expect(g?.kind === "geneve" && [g.repr.vni, g.repr.critical, ovnMetadataOf(g.repr)]).toEqual([5, true, { ingressPort: 1, egressPort: 3 }]);
    expect(frame.subarray(frame.length - inner.length)).toEqual(inner);
    expect(verifyChecksums(d).map((c) => `${c.kind}:${c.status}`)).toEqual(["ipv4:ok", "udp:absent", "ipv4:ok", "icmp:ok"]);
  });

  it("VXLAN encapsulation over IPv6 on a tagged underlay, with a UDP checksum", () => {
    const frame = encapsulateVxlan(
      inner,
      {
        ethSrc: parseMac("02:00:00:00:00:01")!,
        ethDst: parseMac("02:00:00:00:00:02")!,
        ipSrc: parseIpv6("2001:db8::1")!,
        ipDst: parseIpv6("2001:db8::2")!,
        udpSrc: 50000,
        vlan: 42,
        udpChecksum: true,
      },
      100,
    );
    const d = decode(frame);
    expect(d.layers.map((l) => l.kind)).toEqual(["ethernet", "vlan", "ipv6", "udp", "vxlan", "ethernet", "ipv4", "icmp"]);
    expect(verifyChecksums(d).map((c) => `${c.kind}:${c.status}`)).toEqual(["udp:ok", "ipv4:ok", "icmp:ok"]);
  });

  it("pushVlan then popVlan gives the original frame", () => {
    const tagged = pushVlan(GENEVE, { pcp: 3, dei: false, vid: 7 });
    const d = decode(tagged);
    expect(d.layers.slice(0, 3).map((l) => l.kind)).toEqual(["ethernet", "vlan", "ipv4"]);
    const v = d.layers[1];
    expect(v?.kind === "vlan" && [v.repr.vid, v.repr.pcp]).toEqual([7, 3]);
    expect(popVlan(tagged)).toEqual(GENEVE);
    expect(popVlan(GENEVE)).toBe(GENEVE);
  });

  it("PrependBuffer grows at the front and keeps its content", () => {
    const b = new PrependBuffer(1);
    for (let i = 0; i < 100; i++) {
      const at = b.prepend(1); // may reallocate: read `bytes` after it
      b.bytes[at] = i;
    }
    expect(b.length).toBe(100);
    expect(Array.from(b.toBytes())).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
  });
});
