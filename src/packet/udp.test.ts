/**
 * UDP: real outer and inner headers, and checksums over the IPv4 and IPv6 pseudo-headers.
 */
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4 } from "../base/index.js";
import { ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, verifyL4Checksum } from "./checksum.js";
import { emitUdp, parseUdp, udpHeaderLen, UdpView } from "./udp.js";

// zeek's tunnels/geneve-ipv6.pcap, packet 1: the outer UDP (10.0.0.1:12345 > 10.0.0.2:6081) and
// the inner one (fd00::1:40000 > fd00::2:40001, payload "hello").
//   30 39 17 c1 00 45 43 26    ports 12345 > 6081, length 69, checksum 0x4326
//   9c 40 9c 41 00 0d 89 7b    ports 40000 > 40001, length 13, checksum 0x897b
const OUTER = fromHex("303917c100454326")!;
const INNER = fromHex("9c409c41000d897b" + "68656c6c6f")!;

describe("UDP", () => {
  it("parses ports, length and checksum", () => {
    const r = parseUdp(new UdpView(OUTER, 0, OUTER.length));
    expect(r.ok && r.value).toEqual({ srcPort: 12345, dstPort: 6081, length: 69, checksum: 0x4326 });
    const i = parseUdp(new UdpView(INNER, 0, INNER.length));
    expect(i.ok && i.value).toEqual({ srcPort: 40000, dstPort: 40001, length: 13, checksum: 0x897b });
  });

  it("emits the same bytes back", () => {
    const r = parseUdp(new UdpView(INNER, 0, 8));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(udpHeaderLen(r.value));
    emitUdp(r.value, out, 0);
    expect(out).toEqual(INNER.subarray(0, 8));
  });

  it("the inner checksum verifies with the IPv6 pseudo-header", () => {
    const src = fromHex("fd000000000000000000000000000001")!;
    const dst = fromHex("fd000000000000000000000000000002")!;
    expect(verifyL4Checksum(INNER, 0, INNER.length, ipv6PseudoHeaderSum(src, dst, 17, INNER.length))).toBe(true);
    const wrong = ipv4PseudoHeaderSum(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, 17, INNER.length);
    expect(verifyL4Checksum(INNER, 0, INNER.length, wrong)).toBe(false);
  });

  it("rejects a window shorter than the header", () => {
    expect(new UdpView(OUTER, 0, 7).checkLen()?.code).toBe("packet.truncated");
  });
});
