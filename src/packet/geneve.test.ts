/**
 * Geneve: a real header with a critical option, the decode through to the inner frame, and OVN's metadata option.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { decodeFrame, rebuildFrame } from "./decode.js";
import { EtherType } from "./ethernet.js";
import {
  decodeOvnOption,
  emitGeneve,
  formatGeneveOption,
  geneveHeaderLen,
  geneveRepr,
  GeneveView,
  isOvnOption,
  OVN_GENEVE_CLASS,
  ovnGeneveOption,
  ovnMetadataOf,
  parseGeneve,
} from "./geneve.js";

// Packet 1 of tcpdump's geneve.pcap (Open vSwitch, 2015), whole frame:
//   00 1b 21 3c ac 30 00 1b 21 3c ab 64 08 00                      Ethernet
//   45 00 00 8e df ad 40 00 40 11 32 af 14 00 00 01 14 00 00 02    IPv4 20.0.0.1 > 20.0.0.2, UDP
//   31 4a 17 c1 00 7a 00 00                                        UDP 12618 > 6081, len 122, no checksum
//   02 40 65 58 00 00 0a 00                                        Geneve: ver 0, opt len 2 (8 bytes), C, TEB, VNI 0xa
//   00 00 80 01 00 00 00 0c                                        option class 0, type 0x80 (critical), len 1: 0x0000000c
//   fe 71 d8 83 72 4f b6 9e d2 49 51 48 08 00                      inner Ethernet
//   45 00 00 54 bd a2 40 00 40 01 41 04 1e 00 00 01 1e 00 00 02    inner IPv4 30.0.0.1 > 30.0.0.2, ICMP
//   08 00 2c 54 29 52 00 17 + 48 data bytes                        echo request
const FRAME = fromHex(
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
const GENEVE_AT = 42;

describe("Geneve", () => {
  it("parses every header field and the option TLV", () => {
    const v = new GeneveView(FRAME, GENEVE_AT, FRAME.length - GENEVE_AT);
    expect(v.checkLen()).toBeUndefined();
    expect(v.headerLen).toBe(16);
    const r = parseGeneve(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value).toEqual({
      version: 0,
      oam: false,
      critical: true,
      reserved: 0,
      protocolType: EtherType.TEB,
      vni: 0xa,
      reserved2: 0,
      options: [{ optClass: 0, type: 0x80, flags: 0, data: fromHex("0000000c") }],
    });
  });

  it("emits the same header and options back", () => {
    const r = parseGeneve(new GeneveView(FRAME, GENEVE_AT, FRAME.length - GENEVE_AT));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(geneveHeaderLen(r.value));
    emitGeneve(r.value, out, 0);
    expect(out).toEqual(FRAME.subarray(GENEVE_AT, GENEVE_AT + 16));
  });

  it("decodes through to the inner ICMP and rebuilds the frame", () => {
    const d = decodeFrame(FRAME, 0, FRAME.length, 1);
    expect(d.layers.map((l) => `${l.kind}@${l.depth}`)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "geneve@0", "ethernet@1", "ipv4@1", "icmp@1"]);
    expect(rebuildFrame(d)).toEqual(FRAME);
  });

  it("decodes OVN's option: bit 31 clear, ingress in bits 30-16, egress in bits 15-0", () => {
    // `ovs-appctl dpctl/dump-flows` prints OVN's option as geneve({class=0x102,type=0x80,len=4,0x20003}):
    // logical ingress port key 2, egress port key 3.
    const o = { optClass: 0x0102, type: 0x80, flags: 0, data: fromHex("00020003")! };
    expect(isOvnOption(o)).toBe(true);
    expect(decodeOvnOption(o)).toEqual({ ingressPort: 2, egressPort: 3 });
    expect(ovnGeneveOption(2, 3)).toEqual(o);
    expect(decodeOvnOption(ovnGeneveOption(0x7fff, 0xffff))).toEqual({ ingressPort: 0x7fff, egressPort: 0xffff });
    expect(ovnGeneveOption(0x7fff, 0xffff).data).toEqual(fromHex("7fffffff"));
    expect(formatGeneveOption(o)).toBe("ovn(in=2,out=3)");
    expect(ovnMetadataOf(geneveRepr(5, [ovnGeneveOption(1, 3)]))).toEqual({ ingressPort: 1, egressPort: 3 });
    // The capture's option has OVN's shape but class 0: not OVN's.
    expect(isOvnOption({ optClass: 0, type: 0x80, flags: 0, data: fromHex("0000000c")! })).toBe(false);
    expect(OVN_GENEVE_CLASS).toBe(0x0102);
  });

  it("sets the C bit when a critical option is present", () => {
    expect(geneveRepr(1, [ovnGeneveOption(1, 2)]).critical).toBe(true);
    expect(geneveRepr(1, [{ optClass: 0xffff, type: 0x01, flags: 0, data: new Uint8Array(4) }]).critical).toBe(false);
  });

  it("rejects an option running past the option area, and a cut option area", () => {
    const bad = FRAME.slice();
    bad[GENEVE_AT + 11] = 0x02; // option length 2 words, but the area holds only 1
    const r = parseGeneve(new GeneveView(bad, GENEVE_AT, bad.length - GENEVE_AT));
    expect(!r.ok && r.diags[0]!.code).toBe("packet.malformed");
    expect(new GeneveView(FRAME, GENEVE_AT, 12).checkLen()?.code).toBe("packet.truncated");
  });
});
