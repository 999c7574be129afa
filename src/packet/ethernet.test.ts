/**
 * Ethernet II: a real header parsed field by field and emitted back byte for byte.
 */
import { describe, expect, it } from "vitest";
import { formatMac, fromHex } from "../base/index.js";
import { emitEthernet, EthernetView, ETHERNET_HEADER_LEN, EtherType, etherTypeName, ethernetHeaderLen, isEtherTypeLength, parseEthernet } from "./ethernet.js";
import { PacketCode } from "./wire.js";

// Outer Ethernet header of packet 2 of tcpdump's vxlan.pcap (shared pcaps, tunnels/vxlan):
//   36 dc 85 1e b3 40   destination 36:dc:85:1e:b3:40
//   00 16 3e 08 71 cf   source      00:16:3e:08:71:cf
//   08 00               EtherType   IPv4
const ETH = fromHex("36dc851eb34000163e0871cf0800")!;

describe("Ethernet", () => {
  it("parses every field of a real header", () => {
    const v = new EthernetView(ETH, 0, ETH.length);
    expect(v.checkLen()).toBeUndefined();
    const r = parseEthernet(v);
    if (!r.ok) throw new Error("parse failed");
    expect(formatMac(r.value.dst)).toBe("36:dc:85:1e:b3:40");
    expect(formatMac(r.value.src)).toBe("00:16:3e:08:71:cf");
    expect(r.value.etherType).toBe(EtherType.IPV4);
    expect(v.dstHi).toBe(0x36dc);
    expect(v.dstLo).toBe(0x851eb340);
    expect(v.srcHi).toBe(0x0016);
    expect(v.srcLo).toBe(0x3e0871cf);
    expect(v.payloadOffset).toBe(14);
  });

  it("emits the same bytes back", () => {
    const r = parseEthernet(new EthernetView(ETH, 0, ETH.length));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(ethernetHeaderLen(r.value));
    emitEthernet(r.value, out, 0);
    expect(out).toEqual(ETH);
  });

  it("works at a non-zero offset inside a larger buffer", () => {
    const buf = new Uint8Array(40);
    buf.set(ETH, 7);
    const r = parseEthernet(new EthernetView(buf, 7, 14));
    expect(r.ok && formatMac(r.value.src)).toBe("00:16:3e:08:71:cf");
  });

  it("reports a short window as truncated, never reading past it", () => {
    const v = new EthernetView(ETH, 0, 13);
    expect(v.checkLen()?.code).toBe(PacketCode.TRUNCATED);
    const r = parseEthernet(v);
    expect(r.ok).toBe(false);
    expect(ETHERNET_HEADER_LEN).toBe(14);
  });

  it("reprs own their bytes, even when parsed from a Node Buffer", () => {
    const buf = Buffer.from(ETH);
    const r = parseEthernet(new EthernetView(buf, 0, buf.length));
    buf.fill(0);
    expect(r.ok && formatMac(r.value.dst)).toBe("36:dc:85:1e:b3:40");
    expect(r.ok && r.value.dst instanceof Buffer).toBe(false);
  });

  it("setters write in place", () => {
    const b = ETH.slice();
    const v = new EthernetView(b, 0, b.length);
    v.etherType = EtherType.IPV6;
    v.setDst(fromHex("ffffffffffff")!);
    expect(b.subarray(12)).toEqual(fromHex("86dd"));
    expect(formatMac(v.dst())).toBe("ff:ff:ff:ff:ff:ff");
  });

  it("names EtherTypes and tells lengths from types", () => {
    expect(etherTypeName(0x0800)).toBe("ipv4");
    expect(etherTypeName(0x88a8)).toBe("802.1ad");
    expect(etherTypeName(0x1234)).toBe("ethertype 0x1234");
    expect(isEtherTypeLength(1500)).toBe(true);
    expect(isEtherTypeLength(1501)).toBe(false);
    expect(isEtherTypeLength(0x0800)).toBe(false);
  });
});
