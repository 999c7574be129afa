/**
 * IPv4: real headers with options and fragments, parsed and emitted back; checkLen and version failures.
 */
import { describe, expect, it } from "vitest";
import { formatIpv4, fromHex } from "../base/index.js";
import { verifyIpv4HeaderChecksum } from "./checksum.js";
import { decodeFrame } from "./decode.js";
import { IpProto } from "./ip-proto.js";
import { emitIpv4, ipv4HeaderLen, Ipv4View, isLaterFragment, parseIpv4 } from "./ipv4.js";

// Inner IPv4 header of packet 1 of zeek's vxlan-encapsulated-igmp-v2.pcap (IGMP with the Router
// Alert option):
//   46 00 00 20   version 4, IHL 6 (24 bytes), DSCP 0, ECN 0, total length 32
//   f4 66 00 00   ident 0xf466, no flags, offset 0
//   01 02 85 7d   TTL 1, protocol 2 (IGMP), checksum 0x857d
//   c0 a8 09 50   source 192.168.9.80
//   e0 00 00 fb   destination 224.0.0.251
//   94 04 00 00   option: Router Alert (type 0x94, length 4, value 0)
const OPTS = fromHex("46000020f46600000102857dc0a80950e00000fb94040000")!;

// Two fragments of one UDP datagram, packets 1 and 2 of zeek's ipv4/fragmented-1.pcap:
//   45 00 00 26 00 f2 20 00 40 11 1a f2 a4 01 7b a3 a4 01 7b 3d   MF set, offset 0
//   45 00 00 88 00 f2 00 06 40 11 3a 8a a4 01 7b a3 a4 01 7b 3d   last fragment, offset 6 (48 bytes)
const FRAG1 = fromHex("4500002600f2200040111af2a4017ba3a4017b3d")!;
const FRAG2 = fromHex("4500008800f2000640113a8aa4017ba3a4017b3d")!;

function parse(b: Uint8Array) {
  const r = parseIpv4(new Ipv4View(b, 0, b.length));
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

describe("IPv4", () => {
  it("parses every field of a header with options", () => {
    const r = parse(OPTS);
    expect(r.dscp).toBe(0);
    expect(r.ecn).toBe(0);
    expect(r.totalLength).toBe(32);
    expect(r.ident).toBe(0xf466);
    expect([r.reservedFlag, r.dontFrag, r.moreFrags, r.fragOffset]).toEqual([false, false, false, 0]);
    expect(r.ttl).toBe(1);
    expect(r.protocol).toBe(IpProto.IGMP);
    expect(r.checksum).toBe(0x857d);
    expect(formatIpv4(r.src)).toBe("192.168.9.80");
    expect(formatIpv4(r.dst)).toBe("224.0.0.251");
    expect(r.options).toEqual(fromHex("94040000"));
    expect(ipv4HeaderLen(r)).toBe(24);
    expect(verifyIpv4HeaderChecksum(OPTS, 0, 24)).toBe(true);
  });

  it("emits the same bytes back, options included", () => {
    for (const b of [OPTS, FRAG1, FRAG2]) {
      const r = parse(b);
      const out = new Uint8Array(ipv4HeaderLen(r));
      emitIpv4(r, out, 0);
      expect(out).toEqual(b);
    }
  });

  it("parses fragment flags and offsets", () => {
    const a = parse(FRAG1);
    expect([a.moreFrags, a.fragOffset, a.ident, isLaterFragment(a)]).toEqual([true, 0, 0xf2, false]);
    const b = parse(FRAG2);
    expect([b.moreFrags, b.fragOffset * 8, isLaterFragment(b)]).toEqual([false, 48, true]);
  });

  it("decodes the transport header of a first fragment only", () => {
    const eth = fromHex("006097122f580020afba78650800")!;
    const first = new Uint8Array([...eth, ...FRAG1, ...fromHex("007b00890012bfe2")!, ...new Uint8Array(10)]);
    const later = new Uint8Array([...eth, ...FRAG2, ...new Uint8Array(116)]);
    expect(decodeFrame(first, 0, first.length, 1).layers.map((l) => l.kind)).toEqual(["ethernet", "ipv4", "udp"]);
    const d = decodeFrame(later, 0, later.length, 1);
    expect(d.layers.map((l) => l.kind)).toEqual(["ethernet", "ipv4"]);
    expect(d.issues).toEqual([]);
    expect(d.stoppedAt).toBeUndefined();
  });

  it("checkLen: short window, IHL below 5, options past the window", () => {
    expect(new Ipv4View(OPTS, 0, 19).checkLen()?.code).toBe("packet.truncated");
    expect(new Ipv4View(OPTS, 0, 23).checkLen()?.code).toBe("packet.truncated");
    const bad = OPTS.slice();
    bad[0] = 0x44;
    expect(new Ipv4View(bad, 0, bad.length).checkLen()?.message).toBe("IPv4 header length 16 < 20 at offset 0");
  });

  it("parseIpv4 rejects a version other than 4", () => {
    const bad = OPTS.slice();
    bad[0] = 0x56;
    const r = parseIpv4(new Ipv4View(bad, 0, bad.length));
    expect(r.ok).toBe(false);
  });
});
