/**
 * TCP: a real SYN with options, the NS/CWR/ECE and reserved bits, tcpdump flag letters, checkLen failures.
 */
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4 } from "../base/index.js";
import { ipv4PseudoHeaderSum, verifyL4Checksum } from "./checksum.js";
import { emitTcp, formatTcpFlags, parseTcp, TcpFlag, tcpHeaderLen, TcpView } from "./tcp.js";

// The SYN of packet 1 of zeek's vlan-qinqinq.pcap (141.142.228.5:59856 > 192.150.187.43:80):
//   e9 d0 00 50               ports 59856 > 80
//   fe 21 32 3a               sequence 4263588410
//   00 00 00 00               acknowledgment 0
//   b0 02 ff ff               data offset 11 (44 bytes), flags SYN, window 65535
//   3b c0 00 00               checksum 0x3bc0, urgent 0
//   02 04 05 b4 01 03 03 04 01 01 08 0a 16 4a dd 20 00 00 00 00 04 02 00 00   options (MSS, WS, TS, SACK ok)
const SYN = fromHex("e9d00050fe21323a00000000b002ffff3bc00000" + "020405b4010303040101080a164add200000000004020000")!;

describe("TCP", () => {
  it("parses every field of a SYN with options", () => {
    const v = new TcpView(SYN, 0, SYN.length);
    expect(v.checkLen()).toBeUndefined();
    const r = parseTcp(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value.srcPort).toBe(59856);
    expect(r.value.dstPort).toBe(80);
    expect(r.value.seq).toBe(4263588410);
    expect(r.value.ack).toBe(0);
    expect(r.value.flags).toBe(TcpFlag.SYN);
    expect(r.value.reserved).toBe(0);
    expect(r.value.window).toBe(65535);
    expect(r.value.checksum).toBe(0x3bc0);
    expect(r.value.urgent).toBe(0);
    expect(r.value.options).toEqual(SYN.subarray(20));
    expect(v.dataOffset).toBe(11);
    const pseudo = ipv4PseudoHeaderSum(parseIpv4("141.142.228.5")!, parseIpv4("192.150.187.43")!, 6, SYN.length);
    expect(verifyL4Checksum(SYN, 0, SYN.length, pseudo)).toBe(true);
  });

  it("emits the same bytes back", () => {
    const r = parseTcp(new TcpView(SYN, 0, SYN.length));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(tcpHeaderLen(r.value));
    emitTcp(r.value, out, 0);
    expect(out).toEqual(SYN);
  });

  it("keeps NS, CWR, ECE and the reserved bits", () => {
    const b = SYN.slice();
    b[12] = 0xbf; // data offset 11, reserved 0b111, NS
    b[13] = 0xc2; // CWR, ECE, SYN
    const r = parseTcp(new TcpView(b, 0, b.length));
    if (!r.ok) throw new Error("parse failed");
    expect(r.value.flags).toBe(TcpFlag.NS | TcpFlag.CWR | TcpFlag.ECE | TcpFlag.SYN);
    expect(r.value.reserved).toBe(7);
    expect(formatTcpFlags(r.value.flags)).toBe("SEWN");
    const out = new Uint8Array(tcpHeaderLen(r.value));
    emitTcp(r.value, out, 0);
    expect(out).toEqual(b);
  });

  it("formats flags as tcpdump does", () => {
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ACK)).toBe("S.");
    expect(formatTcpFlags(TcpFlag.PSH | TcpFlag.ACK)).toBe("P.");
    expect(formatTcpFlags(TcpFlag.FIN | TcpFlag.ACK)).toBe("F.");
    expect(formatTcpFlags(0)).toBe("none");
  });

  it("checkLen: short header, data offset below 5, options past the window", () => {
    expect(new TcpView(SYN, 0, 19).checkLen()?.code).toBe("packet.truncated");
    expect(new TcpView(SYN, 0, 40).checkLen()?.code).toBe("packet.truncated");
    const bad = SYN.slice();
    bad[12] = 0x40;
    expect(new TcpView(bad, 0, bad.length).checkLen()?.code).toBe("packet.malformed");
  });
});
