/**
 * VXLAN: a real header, reserved bits kept, inner frame decoding and configurable ports.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { decodeFrame, rebuildFrame } from "./decode.js";
import { emitVxlan, parseVxlan, VXLAN_FLAG_I, vxlanHeaderLen, vxlanRepr, VxlanView } from "./vxlan.js";

// Packet 2 of tcpdump's vxlan.pcap:
//   36 dc 85 1e b3 40 00 16 3e 08 71 cf 08 00                      Ethernet
//   45 00 00 4e b8 02 40 00 3e 11 6e 48 c0 a8 ca 01 c0 a8 cb 01    IPv4 192.168.202.1 > 192.168.203.1
//   a6 d6 12 b5 00 3a 00 00                                        UDP 42710 > 4789
//   08 00 00 00 00 00 64 00                                        VXLAN: flags I, VNI 100
//   ff ff ff ff ff ff 00 30 88 01 00 02 08 06                      inner Ethernet, ARP
//   00 01 08 00 06 04 00 01 ...                                    ARP request
const FRAME = fromHex(
  "36dc851eb34000163e0871cf0800" +
    "4500004eb80240003e116e48c0a8ca01c0a8cb01" +
    "a6d612b5003a0000" +
    "0800000000006400" +
    "ffffffffffff0030880100020806" +
    "0001080006040001003088010002c0a8cb05000000000000c0a8cb03",
)!;

describe("VXLAN", () => {
  it("parses flags and VNI", () => {
    const r = parseVxlan(new VxlanView(FRAME, 42, 8));
    expect(r.ok && r.value).toEqual({ flags: VXLAN_FLAG_I, reserved1: 0, vni: 100, reserved2: 0 });
    expect(r.ok && r.value).toEqual(vxlanRepr(100));
  });

  it("emits the same bytes back, reserved bits included", () => {
    const b = fromHex("0c123456abcdef99")!;
    const r = parseVxlan(new VxlanView(b, 0, 8));
    if (!r.ok) throw new Error("parse failed");
    expect(r.value).toEqual({ flags: 0x0c, reserved1: 0x123456, vni: 0xabcdef, reserved2: 0x99 });
    const out = new Uint8Array(vxlanHeaderLen(r.value));
    emitVxlan(r.value, out, 0);
    expect(out).toEqual(b);
  });

  it("decodes the inner ARP at depth 1 and rebuilds the frame", () => {
    const d = decodeFrame(FRAME, 0, FRAME.length, 1);
    expect(d.layers.map((l) => `${l.kind}@${l.depth}`)).toEqual(["ethernet@0", "ipv4@0", "udp@0", "vxlan@0", "ethernet@1", "arp@1"]);
    expect(rebuildFrame(d)).toEqual(FRAME);
  });

  it("leaves other ports alone unless configured", () => {
    const f = FRAME.slice();
    f[36] = 0x21; // destination port 8472
    f[37] = 0x18;
    expect(decodeFrame(f, 0, f.length, 1).stoppedAt).toBe("udp payload");
    const d = decodeFrame(f, 0, f.length, 1, { vxlanPorts: [4789, 8472] });
    expect(d.layers.map((l) => l.kind)).toContain("vxlan");
  });

  it("rejects a window shorter than the header", () => {
    expect(new VxlanView(FRAME, 42, 7).checkLen()?.code).toBe("packet.truncated");
  });
});
