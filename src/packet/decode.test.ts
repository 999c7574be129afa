/**
 * The decode chain: tiling, truncation at every length, malformed lengths, stop reasons, tunnel depth.
 */
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4, parseMac, setU16 } from "../base/index.js";
import { buildFrame, encapsulateVxlan } from "./build.js";
import { decodeFrame, innermostLayers, rebuildFrame } from "./decode.js";
import { EtherType } from "./ethernet.js";
import { IpProto } from "./ip-proto.js";
import { ipv4Repr } from "./ipv4.js";
import { findLayer, layerHeaderLen } from "./layer.js";
import { verifyChecksums } from "./verify.js";

// Packet 1 of tcpdump's geneve.pcap (annotated in geneve.test.ts).
const GENEVE = fromHex(
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
const ETH_IP4 = fromHex("001b213cac30001b213cab640800")!;

function ipFrame(protocol: number, payload: Uint8Array, fields = {}): Uint8Array {
  return buildFrame(
    [
      { kind: "ethernet", repr: { dst: parseMac("02:00:00:00:00:02")!, src: parseMac("02:00:00:00:00:01")!, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, protocol, fields) },
    ],
    payload,
    { fixLengths: true, computeChecksums: true },
  );
}

describe("decodeFrame", () => {
  it("layers tile the frame up to payloadOffset", () => {
    const d = decodeFrame(GENEVE, 0, GENEVE.length, 1);
    let at = 0;
    for (const l of d.layers) {
      expect(l.offset).toBe(at);
      at += layerHeaderLen(l);
    }
    expect(d.payloadOffset).toBe(at);
    expect(d.payloadEnd).toBe(GENEVE.length);
    expect(innermostLayers(d).map((l) => l.kind)).toEqual(["ethernet", "ipv4", "icmp"]);
    expect(findLayer(d.layers, "geneve")?.repr.vni).toBe(0xa);
    expect(findLayer(d.layers, "ipv4", 2)?.offset).toBe(72);
    expect(findLayer(d.layers, "tcp")).toBeUndefined();
  });

  it("decodes a frame inside a bigger buffer at an offset, with frame-relative offsets", () => {
    const buf = new Uint8Array(GENEVE.length + 30);
    buf.set(GENEVE, 17);
    const d = decodeFrame(buf, 17, GENEVE.length, 1);
    expect(d.layers[1]?.offset).toBe(14);
    expect(rebuildFrame(d)).toEqual(GENEVE);
  });

  it("cut at every length: never throws, layers are a prefix of the full decode, and the cut is reported", () => {
    const full = decodeFrame(GENEVE, 0, GENEVE.length, 1).layers.map((l) => l.kind);
    for (let n = 0; n < GENEVE.length; n++) {
      const d = decodeFrame(GENEVE, 0, n, 1, { wireLength: GENEVE.length });
      const kinds = d.layers.map((l) => l.kind);
      expect(full.slice(0, kinds.length)).toEqual(kinds);
      if (kinds.length < full.length) expect(d.truncated || d.issues.length > 0 || d.stoppedAt !== undefined).toBe(true);
      expect(rebuildFrame(d)).toEqual(GENEVE.subarray(0, n));
    }
  });

  it("a header cut by capture is truncated; one cut where the frame really ends is malformed", () => {
    const cut = decodeFrame(GENEVE, 0, 30, 1, { wireLength: 156 });
    expect([cut.truncated, cut.issues]).toEqual([true, []]);
    const runt = decodeFrame(GENEVE, 0, 30, 1, { wireLength: 30 });
    expect(runt.truncated).toBe(false);
    expect(runt.issues).toEqual(["IPv4 header needs 20 bytes, 16 available at offset 14 (frame ends there)"]);
  });

  it("Ethernet padding after the IP datagram is not payload of the transport header", () => {
    const udp = fromHex("303917c1000c0000" + "68690000")!;
    const f = ipFrame(IpProto.UDP, udp);
    const padded = new Uint8Array(60);
    padded.set(f);
    const d = decodeFrame(padded, 0, 60, 1);
    expect([d.payloadOffset, d.payloadEnd]).toEqual([42, 46]);
    expect(rebuildFrame(d)).toEqual(padded);
  });

  it("reports malformed lengths, one issue each, and stops there", () => {
    const bad = GENEVE.slice();
    setU16(bad, 16, 10); // IPv4 total length 10 < 20
    expect(decodeFrame(bad, 0, bad.length, 1).issues).toEqual(["IPv4 total length 10 < header length 20 at offset 14"]);
    const udp = GENEVE.slice();
    setU16(udp, 38, 4); // UDP length 4
    const d = decodeFrame(udp, 0, udp.length, 1);
    expect(d.issues).toEqual(["UDP length 4 < 8 at offset 34"]);
    expect(d.layers.map((l) => l.kind)).toEqual(["ethernet", "ipv4", "udp"]);
    const ver = GENEVE.slice();
    ver[42] = 0x42; // Geneve version 1
    expect(decodeFrame(ver, 0, ver.length, 1).issues).toEqual(["Geneve version 1 at offset 42"]);
  });

  it("names the protocols it does not enter", () => {
    expect(decodeFrame(ipFrame(IpProto.GRE, new Uint8Array(8)), 0, 42, 1).stoppedAt).toBe("gre");
    expect(decodeFrame(ipFrame(IpProto.ESP, new Uint8Array(8)), 0, 42, 1).stoppedAt).toBe("esp");
    expect(decodeFrame(ipFrame(IpProto.IPIP, new Uint8Array(20)), 0, 54, 1).stoppedAt).toBe("ipip");
    const icmpErr = ipFrame(IpProto.ICMP, fromHex("0303000000000000" + "45000054bda24000400141041e0000011e000002")!);
    expect(decodeFrame(icmpErr, 0, icmpErr.length, 1).stoppedAt).toBe("icmp error payload");
    const llc = new Uint8Array([...ETH_IP4.subarray(0, 12), 0x00, 0x26, 0x42, 0x42, 0x03]);
    expect(decodeFrame(llc, 0, llc.length, 1).stoppedAt).toBe("ipx/llc");
    const mpls = new Uint8Array([...ETH_IP4.subarray(0, 12), 0x88, 0x47, 0, 0, 0x11, 0x40]);
    expect(decodeFrame(mpls, 0, mpls.length, 1).stoppedAt).toBe("mpls");
    const dns = ipFrame(IpProto.UDP, fromHex("303900350009000000")!);
    expect(decodeFrame(dns, 0, dns.length, 1).stoppedAt).toBe("udp payload");
    // An empty UDP payload is not a stop.
    const empty = ipFrame(IpProto.UDP, fromHex("3039003500080000")!);
    expect(decodeFrame(empty, 0, empty.length, 1).stoppedAt).toBeUndefined();
  });

  it("limits tunnel nesting", () => {
    let f = GENEVE.subarray(58);
    const outer = { ethSrc: parseMac("02:00:00:00:00:01")!, ethDst: parseMac("02:00:00:00:00:02")!, ipSrc: 1, ipDst: 2, udpSrc: 1000 };
    for (let i = 0; i < 4; i++) f = encapsulateVxlan(f, outer, i + 1);
    expect(decodeFrame(f, 0, f.length, 1).layers.filter((l) => l.kind === "vxlan")).toHaveLength(4);
    const d = decodeFrame(f, 0, f.length, 1, { maxTunnelDepth: 2 });
    expect(d.layers.filter((l) => l.kind === "vxlan")).toHaveLength(2);
    expect(d.stoppedAt).toBe("tunnel depth limit");
    expect(Math.max(...d.layers.map((l) => l.depth))).toBe(2);
  });

  it("notices a bad inner checksum", () => {
    const bad = GENEVE.slice();
    bad[94] = bad[94]! ^ 0xff; // inner ICMP checksum
    const checks = verifyChecksums(decodeFrame(bad, 0, bad.length, 1));
    expect(checks.map((c) => `${c.kind}:${c.status}`)).toEqual(["ipv4:ok", "udp:absent", "ipv4:ok", "icmp:bad"]);
  });

  it("survives nonsense offsets and lengths", () => {
    expect(decodeFrame(GENEVE, 500, 10, 1).frame.length).toBe(0);
    expect(decodeFrame(GENEVE, -5, -3, 1).frame.length).toBe(0);
    expect(decodeFrame(GENEVE, 150, 100, 1).frame.length).toBe(6);
  });
});
