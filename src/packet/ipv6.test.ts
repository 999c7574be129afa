/**
 * IPv6 and its extension headers (Hop-by-Hop, Destination Options, Routing, Fragment, AH) from real captures.
 */
import { describe, expect, it } from "vitest";
import { formatIpv6, fromHex } from "../base/index.js";
import { ahHeaderLen, AhView, emitAh, parseAh } from "./ah.js";
import { decodeFrame, rebuildFrame } from "./decode.js";
import { IpProto } from "./ip-proto.js";
import { emitIpv6, ipv6HeaderLen, Ipv6View, parseIpv6 } from "./ipv6.js";
import { checkIpv6OptionTlvs, emitIpv6Ext, ipv6ExtHeaderLen, Ipv6ExtView, jumboPayloadLength, parseIpv6Ext } from "./ipv6-ext.js";

// suricata-verify ipv6-hdr-keyword-02, the one packet (802.1Q, IPv6 with three extension headers):
//   ff ff ff ff ff ff 00 01 02 03 04 05 81 00   Ethernet, 802.1Q
//   00 06 86 dd                                VID 6, IPv6
//   60 00 00 00 00 20 00 40                    IPv6: payload length 32, next header 0 (HBH), hop limit 64
//   00 00 .. 00 01   00 00 .. 00 01            source ::1, destination ::1
//   3c 00 01 04 00 00 00 00                    Hop-by-Hop: next 60, len 0, PadN(4)
//   2b 00 01 04 00 00 00 00                    Destination Options: next 43, len 0, PadN(4)
//   11 00 00 00 00 00 00 00                    Routing: next 17 (UDP), len 0, type 0, segments left 0
//   00 35 00 50 00 08 ff 57                    UDP 53 > 80, length 8
const EXT = fromHex("ffffffffffff0001020304058100" + "000686dd" + "6000000000200040" + "00000000000000000000000000000001" + "00000000000000000000000000000001")!;
const EXT_FRAME = new Uint8Array([...EXT, ...fromHex("3c00010400000000" + "2b00010400000000" + "1100000000000000" + "003500500008ff57")!]);

// The IPv6 fragment header of packet 1 of PcapPlusPlus's ip6_fragments.pcap:
//   11 00 00 01 00 2c 53 23   next 17, reserved 0, offset 0, M=1, ident 0x002c5323
const FRAG = fromHex("11000001002c5323")!;

// The AH header of packet 1 of tcpdump's OSPFv3_with_AH.pcap:
//   59 04 00 00              next header 89 (OSPF), payload length 4 (24 bytes), reserved 0
//   00 00 01 00              SPI 0x100
//   00 00 00 13              sequence 19
//   21 d3 a9 5c 5f fd 4d 18 46 22 b9 f8   ICV (12 bytes)
const AH = fromHex("59040000" + "00000100" + "00000013" + "21d3a95c5ffd4d184622b9f8")!;

describe("IPv6", () => {
  it("parses every field of the fixed header and re-emits it", () => {
    const v = new Ipv6View(EXT, 18, 40);
    expect(v.checkLen()).toBeUndefined();
    const r = parseIpv6(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value.trafficClass).toBe(0);
    expect(r.value.flowLabel).toBe(0);
    expect(r.value.payloadLength).toBe(32);
    expect(r.value.nextHeader).toBe(IpProto.HOPOPT);
    expect(r.value.hopLimit).toBe(64);
    expect(formatIpv6(r.value.src)).toBe("::1");
    expect(formatIpv6(r.value.dst)).toBe("::1");
    expect(v.srcWord(3)).toBe(1);
    const out = new Uint8Array(ipv6HeaderLen(r.value));
    emitIpv6(r.value, out, 0);
    expect(out).toEqual(EXT.subarray(18, 58));
  });

  it("keeps traffic class and flow label apart", () => {
    const b = EXT.slice(18, 58);
    b[0] = 0x6a;
    b[1] = 0xbc;
    b[2] = 0xde;
    b[3] = 0xf1;
    const r = parseIpv6(new Ipv6View(b, 0, 40));
    expect(r.ok && [r.value.trafficClass, r.value.flowLabel]).toEqual([0xab, 0xcdef1]);
    if (!r.ok) return;
    const out = new Uint8Array(40);
    emitIpv6(r.value, out, 0);
    expect(out).toEqual(b);
  });

  it("walks Hop-by-Hop, Destination Options and Routing headers to UDP", () => {
    const d = decodeFrame(EXT_FRAME, 0, EXT_FRAME.length, 1);
    expect(d.layers.map((l) => (l.kind === "ipv6-ext" ? l.repr.kind : l.kind))).toEqual([
      "ethernet",
      "vlan",
      "ipv6",
      "hop-by-hop",
      "destination-options",
      "routing",
      "udp",
    ]);
    const rt = d.layers[5];
    expect(rt?.kind === "ipv6-ext" && rt.repr).toEqual({ kind: "routing", nextHeader: 17, routingType: 0, segmentsLeft: 0, data: new Uint8Array(4) });
    const udp = d.layers[6];
    expect(udp?.kind === "udp" && [udp.repr.srcPort, udp.repr.dstPort, udp.repr.length]).toEqual([53, 80, 8]);
    expect(d.issues).toEqual([]);
    expect(rebuildFrame(d)).toEqual(EXT_FRAME);
  });

  it("parses a fragment header and re-emits it", () => {
    const v = new Ipv6ExtView("fragment", FRAG, 0, FRAG.length);
    const r = parseIpv6Ext(v);
    expect(r.ok && r.value).toEqual({ kind: "fragment", nextHeader: 17, reserved: 0, fragOffset: 0, reserved2: 0, moreFrags: true, ident: 0x2c5323 });
    if (!r.ok) return;
    const out = new Uint8Array(ipv6ExtHeaderLen(r.value));
    emitIpv6Ext(r.value, out, 0);
    expect(out).toEqual(FRAG);
  });

  it("parses AH by its length and re-emits it", () => {
    const v = new AhView(AH, 0, AH.length);
    expect(v.headerLen).toBe(24);
    const r = parseAh(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value.nextHeader).toBe(IpProto.OSPF);
    expect(r.value.spi).toBe(0x100);
    expect(r.value.seq).toBe(19);
    expect(r.value.icv).toEqual(AH.subarray(12));
    const out = new Uint8Array(ahHeaderLen(r.value));
    emitAh(r.value, out, 0);
    expect(out).toEqual(AH);
  });

  it("rejects extension headers longer than their window", () => {
    const v = new Ipv6ExtView("hop-by-hop", fromHex("3c01010400000000")!, 0, 8);
    expect(v.headerLen).toBe(16);
    expect(v.checkLen()?.code).toBe("packet.truncated");
    expect(new AhView(AH, 0, 20).checkLen()?.code).toBe("packet.truncated");
  });

  it("reads the Jumbo Payload option and checks option TLVs", () => {
    expect(jumboPayloadLength(fromHex("c204000138a0")!)).toBe(0x138a0);
    expect(jumboPayloadLength(fromHex("0104000000000000")!)).toBeUndefined();
    expect(checkIpv6OptionTlvs(fromHex("010400000000")!)).toBeUndefined();
    expect(checkIpv6OptionTlvs(fromHex("00ca90")!)).toMatch(/past the header end/);
  });
});
