/**
 * ICMPv4: a real echo request, checksum verification, and the ICMP error builder.
 */
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4 } from "../base/index.js";
import { buildIcmpv4Error } from "./build.js";
import { verifyL4Checksum } from "./checksum.js";
import { decodeFrame } from "./decode.js";
import { echoId, echoSeq, emitIcmp, icmpEchoRepr, icmpHeaderLen, IcmpType, IcmpView, isIcmpError, parseIcmp } from "./icmp.js";
import { verifyChecksums } from "./verify.js";

// Inner ICMP echo request of packet 1 of tcpdump's geneve.pcap, header and 56 data bytes:
//   08 00 2c 54   type 8 (echo request), code 0, checksum 0x2c54
//   29 52 00 17   id 0x2952 (10578), sequence 23
//   f1 a2 ce 54 ...                      data
const ECHO = fromHex(
  "08002c5429520017" + "f1a2ce540000000017780c0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
)!;

describe("ICMPv4", () => {
  it("parses type, code, checksum, id and sequence", () => {
    const v = new IcmpView(ECHO, 0, ECHO.length);
    expect(v.checkLen()).toBeUndefined();
    const r = parseIcmp(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value).toEqual({ type: IcmpType.ECHO_REQUEST, code: 0, checksum: 0x2c54, rest: 0x29520017 });
    expect([echoId(r.value), echoSeq(r.value), v.echoId, v.echoSeq]).toEqual([10578, 23, 10578, 23]);
    expect(verifyL4Checksum(ECHO, 0, ECHO.length, 0)).toBe(true);
  });

  it("emits the same header back", () => {
    const r = parseIcmp(new IcmpView(ECHO, 0, ECHO.length));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(icmpHeaderLen(r.value));
    emitIcmp(r.value, out, 0);
    expect(out).toEqual(ECHO.subarray(0, 8));
    expect(icmpEchoRepr(8, 10578, 23)).toEqual({ ...r.value, checksum: 0 });
  });

  it("rejects a header shorter than 8 bytes", () => {
    expect(new IcmpView(ECHO, 0, 6).checkLen()?.code).toBe("packet.truncated");
  });

  it("knows which types quote a datagram", () => {
    expect([3, 4, 5, 11, 12].every(isIcmpError)).toBe(true);
    expect([0, 8, 13].some(isIcmpError)).toBe(false);
  });

  it("builds an error that quotes the offending header and 8 bytes, with valid checksums", () => {
    // The inner IPv4 + ICMP of the same packet stands for the datagram that could not be delivered.
    const orig = fromHex("45000054bda24000400141041e0000011e000002")!;
    const dgram = new Uint8Array([...orig, ...ECHO]);
    const frame = buildIcmpv4Error(
      { ethSrc: fromHex("0a0000000001")!, ethDst: fromHex("0a0000000002")!, ipSrc: parseIpv4("30.0.0.254")!, type: 3, code: 1 },
      dgram,
      0,
      dgram.length,
    );
    const d = decodeFrame(frame, 0, frame.length, 1);
    expect(d.layers.map((l) => l.kind)).toEqual(["ethernet", "ipv4", "icmp"]);
    expect(d.stoppedAt).toBe("icmp error payload");
    const ip = d.layers[1];
    expect(ip?.kind === "ipv4" && ip.repr.dst).toBe(parseIpv4("30.0.0.1"));
    expect(frame.subarray(42)).toEqual(dgram.subarray(0, 28));
    expect(verifyChecksums(d).map((c) => c.status)).toEqual(["ok", "ok"]);
  });
});
