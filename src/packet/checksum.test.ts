/**
 * Checksums: RFC 1071's example, a naive twin on random data, real IPv4/TCP checksums, CRC32c.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, getU16, parseIpv4 } from "../base/index.js";
import {
  checksumAdd,
  checksumFinish,
  computeIpv4HeaderChecksum,
  computeL4Checksum,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
} from "./checksum.js";

/** The slow, obviously correct twin: 16-bit words with the end-around carry folded at each step. */
function naiveChecksum(b: Uint8Array, acc = 0): number {
  let s = acc;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  for (let i = 0; i < b.length; i += 2) {
    s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return ~s & 0xffff;
}

// Outer IPv4 header of packet 1 of tcpdump's geneve.pcap (checksum 0x32af).
const IPV4 = fromHex("4500008edfad4000401132af1400000114000002")!;
// TCP SYN of zeek's vlan-qinqinq.pcap, 141.142.228.5 > 192.150.187.43 (checksum 0x3bc0 at byte 16).
const SYN = fromHex("e9d00050fe21323a00000000b002ffff3bc00000020405b4010303040101080a164add200000000004020000")!;

describe("Internet checksum", () => {
  it("matches RFC 1071's worked example", () => {
    // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (with carries folded).
    const b = fromHex("0001f203f4f5f6f7")!;
    expect(checksumFinish(checksumAdd(0, b, 0, b.length))).toBe(~0xddf2 & 0xffff);
    expect(internetChecksum(b, 0, b.length)).toBe(0x220d);
  });

  it("agrees with the naive twin on random data, odd lengths and large accumulators", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 0x3ffff }), (b, acc) => {
        expect(internetChecksum(b, 0, b.length, acc)).toBe(naiveChecksum(b, acc));
      }),
      { numRuns: 500 },
    );
  });

  it("verifies, recomputes and fills a real IPv4 header checksum", () => {
    expect(verifyIpv4HeaderChecksum(IPV4, 0, 20)).toBe(true);
    expect(computeIpv4HeaderChecksum(IPV4, 0, 20)).toBe(0x32af);
    const b = IPV4.slice();
    b[8] = 63; // TTL decremented
    expect(verifyIpv4HeaderChecksum(b, 0, 20)).toBe(false);
    fillIpv4HeaderChecksum(b, 0, 20);
    expect(verifyIpv4HeaderChecksum(b, 0, 20)).toBe(true);
    expect(getU16(b, 10)).toBe(0x33af);
  });

  it("computes a real TCP checksum over the IPv4 pseudo-header", () => {
    const pseudo = ipv4PseudoHeaderSum(parseIpv4("141.142.228.5")!, parseIpv4("192.150.187.43")!, 6, SYN.length);
    expect(computeL4Checksum(SYN, 0, SYN.length, 16, pseudo)).toBe(0x3bc0);
    const b = SYN.slice();
    b[16] = b[17] = 0;
    fillL4Checksum(b, 0, b.length, 16, pseudo);
    expect(b).toEqual(SYN);
    expect(verifyL4Checksum(SYN, 0, SYN.length, pseudo + 1)).toBe(false);
  });

  it("the IPv6 pseudo-header carries a 32-bit length", () => {
    const a = new Uint8Array(16);
    expect(ipv6PseudoHeaderSum(a, a, 17, 0x10008)).toBe(1 + 8 + 17);
  });

  it("sends a computed UDP checksum of 0 as 0xffff", () => {
    // Words ffff 0000 0000 0000 sum to ffff, whose complement is 0.
    const b = fromHex("ffff000000000000")!;
    fillL4Checksum(b, 0, 8, 6, 0, true);
    expect(getU16(b, 6)).toBe(0xffff);
    const c = fromHex("ffff000000000000")!;
    fillL4Checksum(c, 0, 8, 6, 0, false);
    expect(getU16(c, 6)).toBe(0);
  });
});
