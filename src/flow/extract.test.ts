/**
 * Unit tests of key extraction on hand-assembled frames. Each frame is written out field by field
 * so the expected key words can be checked against the bytes by eye.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { extractKey } from "./extract.js";
import { FRAG, PARSE, ParseError, TUN, W, newKey } from "./layout.js";
import { formatMatch } from "./text.js";

function hex(s: string): Uint8Array {
  const b = fromHex(s.replace(/#.*$/gm, ""));
  if (!b) throw new Error("bad hex in test");
  return b;
}

function extract(frame: Uint8Array, decap = false, wireLen = frame.length, linkType = 1) {
  const key = newKey();
  const parse = extractKey(frame, 0, frame.length, wireLen, linkType, key, 7, decap);
  return { key, parse, err: (parse >>> 8) & 0xff, at: parse >>> 16, text: formatMatch({ value: key, mask: maskOfPacketFields() }) };
}

/** A mask covering every field extraction can set, so formatMatch prints the whole key. */
function maskOfPacketFields(): Uint32Array {
  const m = newKey();
  for (let i = W.TUN_ID; i < W.PARSE; i++) m[i] = 0xffffffff;
  m[W.ETH_DST] = 0xffff;
  m[W.ETH_SRC] = 0xffff;
  m[W.ARP_SHA] = 0xffff;
  m[W.ARP_THA] = 0xffff;
  m[W.ETH_TYPE] = 0xffff;
  m[W.NW] = 0x03ffffff;
  m[W.IPV6_LABEL] = 0xfffff;
  m[W.TCP_FLAGS] = 0xfff;
  return m;
}

const ETH = "000000000002 000000000001"; // dst 00:..:02, src 00:..:01
const IP4_TCP =
  "45 00 0028 1234 4000 40 06 0000 0a000001 0a000002" + // IPv4, len 40, DF, ttl 64, tcp, 10.0.0.1 > 10.0.0.2
  "c000 0050 00000001 00000000 5002 ffff 0000 0000"; // TCP 49152 > 80, SYN

describe("extractKey", () => {
  it("Ethernet / IPv4 / TCP", () => {
    const r = extract(hex(ETH + "0800" + IP4_TCP));
    expect(r.text).toContain("tcp,tun_id=0x0,");
    expect(r.text).toContain(",dl_dst=00:00:00:00:00:02,dl_src=00:00:00:00:00:01,");
    expect(r.text).toContain(",nw_ttl=64,nw_tos=0,nw_src=10.0.0.1,nw_dst=10.0.0.2,");
    expect(r.text).toContain(",tp_src=49152,tp_dst=80,tcp_flags=0x2");
    expect(r.parse & (PARSE.L2 | PARSE.L3 | PARSE.L4)).toBe(PARSE.L2 | PARSE.L3 | PARSE.L4);
    expect(r.key[W.IN_PORT]).toBe(7);
    expect(r.at).toBe(14 + 20 + 20);
  });

  it("two VLAN tags are kept, with the present bit; a third stops parsing", () => {
    const two = extract(hex(ETH + "88a8 2064 8100 00c8 0800" + IP4_TCP));
    expect(two.key[W.VLAN0]).toBe(((0x88a8 << 16) | 0x2064 | 0x1000) >>> 0);
    expect(two.key[W.VLAN1]).toBe(((0x8100 << 16) | 0x00c8 | 0x1000) >>> 0);
    expect(two.key[W.ETH_TYPE]).toBe(0x0800);
    expect(two.key[W.TP]).toBe(((49152 << 16) | 80) >>> 0);
    const three = extract(hex(ETH + "8100 0001 8100 0002 8100 0003 0800" + IP4_TCP));
    expect(three.key[W.ETH_TYPE]).toBe(0x8100);
    expect(three.err).toBe(ParseError.TOO_MANY_VLANS);
    expect(three.key[W.NW_SRC]).toBe(0);
  });

  it("ARP request fills op, SPA/TPA and SHA/THA", () => {
    const r = extract(hex("ffffffffffff 000000000001 0806 0001 0800 06 04 0001 000000000001 0a000001 000000000000 0a000002"));
    expect(r.key[W.ETH_TYPE]).toBe(0x0806);
    expect(r.key[W.NW]! & 0xff).toBe(1);
    expect(r.key[W.NW_SRC]).toBe(0x0a000001);
    expect(r.key[W.NW_DST]).toBe(0x0a000002);
    expect([r.key[W.ARP_SHA], r.key[W.ARP_SHA + 1]]).toEqual([0, 1]);
  });

  it("IPv6 hop-by-hop then ICMPv6 neighbour solicitation with a source link-layer option", () => {
    const r = extract(
      hex(
        ETH +
          "86dd 6000 0000 0028 00 ff fe800000000000000000000000000001 ff020000000000000000000000000002" + // IPv6, plen 40, next HBH, hlim 255
          "3a 00 0000 00000000" + // HBH: next 58, len 0 (8 bytes)
          "87 00 0000 00000000 fe800000000000000000000000000099" + // NS for fe80::99
          "01 01 000000000001", // SLL option
      ),
    );
    expect(r.key[W.NW]! & 0xff).toBe(58);
    expect((r.key[W.NW]! >>> 16) & 0xff).toBe(255);
    expect(r.key[W.TP]).toBe(135 << 16);
    expect(r.key[W.ND_TARGET + 3]).toBe(0x99);
    expect(r.key[W.ARP_SHA + 1]).toBe(1);
  });

  it("IPv4 later fragments have no L4 fields; first fragments do", () => {
    const later = extract(hex(ETH + "0800 45000028 1234 0010 40 06 0000 0a000001 0a000002 c0000050000000010000000050020000ffff0000"));
    expect((later.key[W.NW]! >>> 24) & 3).toBe(FRAG.ANY | FRAG.LATER);
    expect(later.key[W.TP]).toBe(0);
    const first = extract(hex(ETH + "0800 45000028 1234 2000 40 06 0000 0a000001 0a000002 c0000050000000010000000050020000ffff0000"));
    expect((first.key[W.NW]! >>> 24) & 3).toBe(FRAG.ANY);
    expect(first.key[W.TP]).toBe(((49152 << 16) | 80) >>> 0);
  });

  it("malformed and truncated headers stop parsing with a named reason and never throw", () => {
    const ihl = extract(hex(ETH + "0800 43000028 1234 4000 40 06 0000 0a000001 0a000002"));
    expect(ihl.err).toBe(ParseError.BAD_IPV4_IHL);
    expect(ihl.key[W.NW_SRC]).toBe(0);
    const longTot = extract(hex(ETH + "0800 45000400 1234 4000 40 06 0000 0a000001 0a000002"));
    expect(longTot.err).toBe(ParseError.BAD_IPV4_LENGTH);
    // The same length is fine when the capture's snap length cut the frame.
    const snapped = extract(hex(ETH + "0800 45000400 1234 4000 40 06 0000 0a000001 0a000002 c000 0050 00000001 00000000 5002 ffff 0000 0000"), false, 14 + 0x400);
    expect(snapped.err).toBe(ParseError.NONE);
    expect(snapped.parse & PARSE.TRUNCATED).toBe(PARSE.TRUNCATED);
    expect(snapped.key[W.TP]).toBe(((49152 << 16) | 80) >>> 0);
    const short = extract(hex("0000000000"));
    expect(short.err).toBe(ParseError.SHORT_ETH);
    for (let n = 0; n < 14 + 40; n++) {
      const full = hex(ETH + "0800" + IP4_TCP);
      expect(() => extract(full.subarray(0, n))).not.toThrow();
    }
  });

  it("Geneve with OVN's option is decapsulated into tun_* and the inner frame", () => {
    const inner = ETH + "0800" + IP4_TCP;
    const innerLen = inner.replace(/\s/g, "").length / 2;
    const udpLen = 8 + 16 + innerLen;
    const frame = hex(
      "aaaaaaaaaaaa bbbbbbbbbbbb 0800" +
        `4500 ${(20 + udpLen).toString(16).padStart(4, "0")} 0000 4000 40 11 0000 c0000201 c0000202` + // 192.0.2.1 > 192.0.2.2
        `d431 17c1 ${udpLen.toString(16).padStart(4, "0")} 0000` + // UDP 54321 > 6081
        "02 00 6558 000005 00" + // Geneve, optlen 2 words, TEB, VNI 5
        "0102 80 01 00010003" + // class 0x0102 type 0x80 len 1 word: ingress 1, egress 3
        inner,
    );
    const r = extract(frame, true);
    expect(r.key[W.TUN_ID]).toBe(5);
    expect(r.key[W.TUN_SRC]).toBe(0xc0000201);
    expect(r.key[W.TUN_DST]).toBe(0xc0000202);
    expect(r.key[W.TUN_FLAGS]).toBe(TUN.PRESENT | TUN.MD0_PRESENT);
    expect(r.key[W.TUN_MD0]).toBe(0x00010003);
    expect(r.key[W.NW_SRC]).toBe(0x0a000001);
    expect(r.key[W.TP]).toBe(((49152 << 16) | 80) >>> 0);
    expect(r.parse & PARSE.TUNNEL).toBe(PARSE.TUNNEL);
    // The stop offset counts from the outer frame: the inner TCP header ends the frame.
    expect(r.at).toBe(frame.length);
    expect(r.key[W.IN_PORT]).toBe(7);
    // Cut inside the inner IPv4 header: stopped at the inner header's start, as an outer offset.
    const cut = extract(frame.subarray(0, frame.length - 30), true, frame.length);
    expect(cut.err).toBe(ParseError.SHORT_IPV4);
    expect(cut.at).toBe(frame.length - 40);
    expect(cut.parse & PARSE.TUNNEL).toBe(PARSE.TUNNEL);
    const plain = extract(frame, false);
    expect(plain.key[W.TUN_ID]).toBe(0);
    expect(plain.key[W.NW_SRC]).toBe(0xc0000201);
  });

  it("VXLAN is decapsulated with its VNI", () => {
    const inner = ETH + "0800" + IP4_TCP;
    const innerLen = inner.replace(/\s/g, "").length / 2;
    const udpLen = 8 + 8 + innerLen;
    const frame = hex("aaaaaaaaaaaa bbbbbbbbbbbb 0800" + `4500 ${(20 + udpLen).toString(16).padStart(4, "0")} 0000 4000 40 11 0000 c0000201 c0000202` + `d431 12b5 ${udpLen.toString(16).padStart(4, "0")} 0000` + "08000000 00006400" + inner);
    const r = extract(frame, true);
    expect(r.key[W.TUN_ID]).toBe(100);
    expect(r.key[W.TUN_FLAGS]).toBe(TUN.PRESENT | TUN.VXLAN);
    expect(r.key[W.NW_DST]).toBe(0x0a000002);
  });
});

describe("lengths that disagree with the buffer", () => {
  it("a captured length beyond the buffer is cut to the buffer, never a throw", () => {
    // Ethernet + IPv4 + TCP, whole; then the same frame with its last 30 bytes missing from the buffer.
    const frame = fromHex("020000000002 020000000001 0800 4500002800010000 4006 0000 0a000001 0a000002 04d2 0050 00000000 00000000 5002 2000 0000 0000")!;
    const full = newKey();
    extractKey(frame, 0, frame.length, frame.length, 1, full, 1, false);
    expect(full[W.TP]).toBe((1234 << 16) | 80);
    const cut = frame.subarray(0, frame.length - 30);
    const key = newKey();
    expect(() => extractKey(cut, 0, frame.length, frame.length, 1, key, 1, false)).not.toThrow();
    expect(key[W.PARSE]! & PARSE.L4).toBe(0);
    expect(key[W.ETH_TYPE]).toBe(0x0800);
    expect((key[W.PARSE]! >>> 8) & 0xff).not.toBe(ParseError.NONE);
    for (const off of [cut.length, cut.length + 5, 1 << 20]) expect(() => extractKey(cut, off, 100, 100, 1, newKey(), 1, false)).not.toThrow();
  });
  it("keys from two buffers in turn stay apart (the view follows the buffer)", () => {
    const a = fromHex("020000000002 020000000001 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002")!;
    const b = fromHex("020000000004 020000000003 0806 0001 0800 0604 0002 020000000003 0a000003 020000000004 0a000004")!;
    const ka = newKey();
    const kb = newKey();
    for (let i = 0; i < 3; i++) {
      extractKey(a, 0, a.length, a.length, 1, ka, 1, false);
      extractKey(b, 0, b.length, b.length, 1, kb, 1, false);
    }
    expect([ka[W.NW_SRC], ka[W.NW_DST], ka[W.NW]! & 0xff]).toEqual([0x0a000001, 0x0a000002, 1]);
    expect([kb[W.NW_SRC], kb[W.NW_DST], kb[W.NW]! & 0xff]).toEqual([0x0a000003, 0x0a000004, 2]);
  });
});
