/**
 * Link-layer headers (Linux cooked v1/v2, BSD NULL/LOOP) and raw IP link types, decoded and rebuilt.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { decodeFrame, rebuildFrame } from "./decode.js";
import { bsdAfToEtherType, LinkType, NullView, parseNull, parseSll, parseSll2, Sll2View, SllView } from "./link.js";

// An IPv4/UDP/VXLAN/ARP packet (packet 2 of tcpdump's vxlan.pcap without its Ethernet header).
const IP = fromHex(
  "4500004eb80240003e116e48c0a8ca01c0a8cb01" + "a6d612b5003a0000" + "0800000000006400" + "ffffffffffff0030880100020806" + "0001080006040001003088010002c0a8cb05000000000000c0a8cb03",
)!;

// Linux cooked v1 header (checked against tshark's sll dissector):
//   00 00                    packet type 0 (to us)
//   00 01                    ARPHRD_ETHER
//   00 06                    address length 6
//   00 16 3e 08 71 cf 00 00  address (8 bytes)
//   08 00                    protocol IPv4
const SLL = fromHex("0000" + "0001" + "0006" + "00163e0871cf0000" + "0800")!;
// Linux cooked v2 header (checked against tshark):
//   08 00 00 00              protocol IPv4, reserved
//   00 00 00 03              interface index 3
//   00 01 04 06              ARPHRD_ETHER, packet type 4 (outgoing), address length 6
//   00 16 3e 08 71 cf 00 00  address
const SLL2 = fromHex("08000000" + "00000003" + "00010406" + "00163e0871cf0000")!;

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe("link-layer headers", () => {
  it("Linux cooked v1", () => {
    const r = parseSll(new SllView(SLL, 0, SLL.length));
    expect(r.ok && r.value).toEqual({ packetType: 0, arphrdType: 1, addrLen: 6, addr: fromHex("00163e0871cf0000"), protocol: 0x0800 });
    const f = cat(SLL, IP);
    const d = decodeFrame(f, 0, f.length, LinkType.LINUX_SLL);
    expect(d.layers.map((l) => l.kind)).toEqual(["sll", "ipv4", "udp", "vxlan", "ethernet", "arp"]);
    expect(rebuildFrame(d)).toEqual(f);
  });

  it("Linux cooked v2", () => {
    const r = parseSll2(new Sll2View(SLL2, 0, SLL2.length));
    expect(r.ok && r.value).toEqual({ protocol: 0x0800, reserved: 0, ifIndex: 3, arphrdType: 1, packetType: 4, addrLen: 6, addr: fromHex("00163e0871cf0000") });
    const f = cat(SLL2, IP);
    const d = decodeFrame(f, 0, f.length, LinkType.LINUX_SLL2);
    expect(d.layers.map((l) => l.kind)).toEqual(["sll2", "ipv4", "udp", "vxlan", "ethernet", "arp"]);
    expect(rebuildFrame(d)).toEqual(f);
  });

  it("BSD NULL in either host order, and LOOP in network order", () => {
    const le = fromHex("02000000")!; // as PcapPlusPlus's many_interfaces-1.pcapng stores it
    const be = fromHex("00000002")!;
    expect(parseNull(new NullView(le, 0, 4, false))).toEqual({ ok: true, value: { family: 2, bigEndian: false } });
    expect(parseNull(new NullView(be, 0, 4, false))).toEqual({ ok: true, value: { family: 2, bigEndian: true } });
    expect(parseNull(new NullView(be, 0, 4, true))).toEqual({ ok: true, value: { family: 2, bigEndian: true } });
    for (const [hdr, lt] of [
      [le, LinkType.NULL],
      [be, LinkType.NULL],
      [be, LinkType.LOOP],
    ] as const) {
      const f = cat(hdr, IP);
      const d = decodeFrame(f, 0, f.length, lt);
      expect(d.layers.map((l) => l.kind).slice(0, 2)).toEqual(["null", "ipv4"]);
      expect(rebuildFrame(d)).toEqual(f);
    }
    const v6 = cat(fromHex("1e000000")!, fromHex("6000000000003b40")!, new Uint8Array(32));
    expect(decodeFrame(v6, 0, v6.length, LinkType.NULL).layers.map((l) => l.kind)).toEqual(["null", "ipv6"]);
    expect([2, 24, 28, 30].map(bsdAfToEtherType)).toEqual([0x0800, 0x86dd, 0x86dd, 0x86dd]);
    expect(bsdAfToEtherType(7)).toBeUndefined();
  });

  it("raw IP by version nibble (101, 12, 14) or by link type (228, 229)", () => {
    for (const lt of [LinkType.RAW, LinkType.RAW_BSD, LinkType.RAW_OPENBSD, LinkType.IPV4]) {
      const d = decodeFrame(IP, 0, IP.length, lt);
      expect(d.layers[0]?.kind).toBe("ipv4");
      expect(d.layers[0]?.offset).toBe(0);
      expect(rebuildFrame(d)).toEqual(IP);
    }
    const v6 = cat(fromHex("6000000000003b40")!, new Uint8Array(32));
    expect(decodeFrame(v6, 0, v6.length, LinkType.IPV6).layers.map((l) => l.kind)).toEqual(["ipv6"]);
    expect(decodeFrame(v6, 0, v6.length, LinkType.RAW).layers.map((l) => l.kind)).toEqual(["ipv6"]);
    const junk = fromHex("30")!;
    expect(decodeFrame(junk, 0, 1, LinkType.RAW).issues).toEqual(["raw IP packet with version 3 at offset 0"]);
  });

  it("an unknown link type stops at once", () => {
    const d = decodeFrame(IP, 0, IP.length, 147);
    expect(d.layers).toEqual([]);
    expect(d.stoppedAt).toBe("linktype 147");
  });
});
