/**
 * ICMPv6 and Neighbor Discovery: real NS, NA, RS and RA messages parsed, checked and emitted back.
 */
import { describe, expect, it } from "vitest";
import { formatIpv6, formatMac, fromHex } from "../base/index.js";
import { ipv6PseudoHeaderSum, verifyL4Checksum } from "./checksum.js";
import {
  emitIcmpv6,
  icmpv6HeaderLen,
  Icmpv6Type,
  Icmpv6View,
  isIcmpv6Error,
  naFlags,
  ndLinkLayerAddr,
  ndLinkLayerOption,
  parseIcmpv6,
  parseIcmpv6Header,
} from "./icmpv6.js";

// Packets 1 and 2 of zeek's ipv6-http-atomic-frag.pcap (addresses 2001:db8:1::1 and ::2).
// Neighbor Advertisement:
//   88 00 54 6c                 type 136, code 0, checksum 0x546c
//   e0 00 00 00                 flags R S O
//   20 01 0d b8 00 01 00 .. 01  target 2001:db8:1::1
//   02 01 aa 00 04 00 0a 04     option 2 (target link-layer address), length 1 (8 bytes)
const NA = fromHex("8800546ce0000000" + "20010db8000100000000000000000001" + "0201aa0004000a04")!;
const NA_SRC = fromHex("20010db8000100000000000000000001")!;
const NA_DST = fromHex("20010db8000100000000000000000002")!;
// Neighbor Solicitation from 2001:db8:1::2 to ff02::1:ff00:1:
//   87 00 d4 17 00 00 00 00     type 135, checksum 0xd417, reserved
//   20 01 0d b8 .. 00 01        target 2001:db8:1::1
//   01 01 00 10 18 95 31 6a     option 1 (source link-layer address)
const NS = fromHex("8700d41700000000" + "20010db8000100000000000000000001" + "010100101895316a")!;

// Router Advertisement, packet 3655 of the nDPI composite: hop limit 64, flags 0xc0, lifetime
// 180, reachable 0, retransmit 0, then options 25 (RDNSS), 3 (prefix), 24 (route), 1 (source LLA).
const RA = fromHex(
  "860047e640c000b40000000000000000" +
    "190500000001518020010558feed0000000000000000000120010558feed0000000000000000000203" +
    "0440c00002fd1d0002fd1d0000000026010646840244b00000000000000000" +
    "18030000000000b40000000000000000000000000000000001012c7e81b04aa1",
)!;
// Router Solicitation, packet 3 of nDPI's gnutella.pcap: type 133, checksum 0xeedc, no options.
const RS = fromHex("8500eedc00000000")!;

function parse(b: Uint8Array) {
  const r = parseIcmpv6(new Icmpv6View(b, 0, b.length));
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

function reemit(b: Uint8Array): Uint8Array {
  const r = parse(b);
  const out = new Uint8Array(icmpv6HeaderLen(r));
  emitIcmpv6(r, out, 0);
  return out;
}

describe("ICMPv6 and Neighbor Discovery", () => {
  it("parses a Neighbor Advertisement: flags, target, target link-layer address", () => {
    const r = parse(NA);
    expect([r.type, r.code, r.checksum]).toEqual([Icmpv6Type.NEIGHBOR_ADVERT, 0, 0x546c]);
    expect(naFlags(r)).toEqual({ router: true, solicited: true, override: true });
    expect(formatIpv6(r.nd!.target!)).toBe("2001:db8:1::1");
    expect(r.nd!.options).toHaveLength(1);
    expect(formatMac(ndLinkLayerAddr(r, 2)!)).toBe("aa:00:04:00:0a:04");
    expect(ndLinkLayerAddr(r, 1)).toBeUndefined();
    expect(verifyL4Checksum(NA, 0, NA.length, ipv6PseudoHeaderSum(NA_SRC, NA_DST, 58, NA.length))).toBe(true);
  });

  it("parses a Neighbor Solicitation with a source link-layer address", () => {
    const r = parse(NS);
    expect(r.type).toBe(Icmpv6Type.NEIGHBOR_SOLICIT);
    expect(formatIpv6(r.nd!.target!)).toBe("2001:db8:1::1");
    expect(formatMac(ndLinkLayerAddr(r, 1)!)).toBe("00:10:18:95:31:6a");
    expect(r.nd!.options[0]).toEqual(ndLinkLayerOption(1, fromHex("00101895316a")!));
  });

  it("parses Router Advertisement timers and options, and a bare Router Solicitation", () => {
    const ra = parse(RA);
    expect(ra.type).toBe(Icmpv6Type.ROUTER_ADVERT);
    expect(ra.rest >>> 24).toBe(64);
    expect(ra.rest & 0xffff).toBe(180);
    expect([ra.nd!.reachableTime, ra.nd!.retransTimer]).toEqual([0, 0]);
    expect(ra.nd!.options.map((o) => [o.type, 2 + o.data.length])).toEqual([
      [25, 40],
      [3, 32],
      [24, 24],
      [1, 8],
    ]);
    const rs = parse(RS);
    expect([rs.type, rs.checksum, rs.nd?.options.length]).toEqual([133, 0xeedc, 0]);
  });

  it("re-emits every ND message byte for byte", () => {
    for (const b of [NA, NS, RA, RS]) expect(reemit(b)).toEqual(b);
  });

  it("rejects a zero-length option, keeping the header available", () => {
    const bad = NS.slice();
    bad[25] = 0;
    const v = new Icmpv6View(bad, 0, bad.length);
    const r = parseIcmpv6(v);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.diags[0]!.message).toMatch(/length 0/);
    const h = parseIcmpv6Header(v);
    expect(h.ok && h.value.type).toBe(135);
  });

  it("rejects an NS shorter than its target", () => {
    expect(new Icmpv6View(NS, 0, 20).checkLen()?.code).toBe("packet.truncated");
    expect([1, 2, 3, 4].every(isIcmpv6Error)).toBe(true);
    expect(isIcmpv6Error(128)).toBe(false);
  });
});
