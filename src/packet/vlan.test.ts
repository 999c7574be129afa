/**
 * 802.1Q / 802.1ad tags: real stacked tags (QinQ, 802.1ad, PCP/DEI) parsed, emitted and decoded in order.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { decodeFrame, rebuildFrame } from "./decode.js";
import { EtherType } from "./ethernet.js";
import { emitVlan, isVlanTpid, parseVlan, vlanHeaderLen, vlanTci, VlanView } from "./vlan.js";

// arkime's dot1ad.pcap, packet 1: an 802.1ad service tag over an 802.1Q customer tag.
//   40 8f 9d 6e c7 d8 88 d9 8f 5f c5 48 88 a8   Ethernet, TPID 0x88a8
//   05 f5 81 00                                S-tag: PCP 0, DEI 0, VID 1525; next TPID 0x8100
//   00 1e 08 00                                C-tag: VID 30; next IPv4
//   45 00 00 1c 00 01 00 00 40 01 e1 e6 2f f5 9f 9c 5c 68 6d 00   IPv4 47.245.159.156 > 92.104.109.0, ICMP
//   08 00 f7 ff 00 00 00 00                    ICMP echo request
const DOT1AD = fromHex("408f9d6ec7d888d98f5fc54888a8" + "05f58100" + "001e0800" + "4500001c000100004001e1e62ff59f9c5c686d00" + "0800f7ff00000000")!;

// zeek's vlan-pcp-dei.pcapng, packet 1: two 802.1Q tags with priority and drop-eligible bits.
//   ff ff ff ff ff ff 16 4b df 50 b2 93 81 00   Ethernet, TPID 0x8100
//   e0 0a 81 00                                PCP 7, DEI 0, VID 10; next 0x8100
//   b0 14 08 00                                PCP 5, DEI 1, VID 20; next IPv4
const PCP_DEI = fromHex("ffffffffffff164bdf50b2938100" + "e00a8100" + "b0140800")!;

describe("VLAN tags", () => {
  it("parses the TCI fields of a tag with PCP and DEI", () => {
    const v = new VlanView(PCP_DEI, 18, 4);
    expect(v.checkLen()).toBeUndefined();
    const r = parseVlan(v);
    expect(r.ok && r.value).toEqual({ pcp: 5, dei: true, vid: 20, etherType: EtherType.IPV4 });
    const first = parseVlan(new VlanView(PCP_DEI, 14, 4));
    expect(first.ok && first.value).toEqual({ pcp: 7, dei: false, vid: 10, etherType: EtherType.VLAN });
  });

  it("emits the same 4 bytes back", () => {
    const r = parseVlan(new VlanView(PCP_DEI, 18, 4));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(vlanHeaderLen(r.value));
    emitVlan(r.value, out, 0);
    expect(out).toEqual(PCP_DEI.subarray(18, 22));
    expect(vlanTci(r.value)).toBe(0xb014);
  });

  it("decodes an 802.1ad tag over an 802.1Q tag in order", () => {
    const d = decodeFrame(DOT1AD, 0, DOT1AD.length, 1);
    expect(d.layers.map((l) => l.kind)).toEqual(["ethernet", "vlan", "vlan", "ipv4", "icmp"]);
    const tags = d.layers.filter((l) => l.kind === "vlan").map((l) => (l.kind === "vlan" ? l.repr.vid : -1));
    expect(tags).toEqual([1525, 30]);
    expect(d.issues).toEqual([]);
    expect(rebuildFrame(d)).toEqual(DOT1AD);
  });

  it("accepts the three TPIDs, and a 0x9100 stack decodes too", () => {
    expect([0x8100, 0x88a8, 0x9100].every(isVlanTpid)).toBe(true);
    expect(isVlanTpid(0x0800)).toBe(false);
    const f = DOT1AD.slice();
    f[12] = 0x91;
    f[13] = 0x00;
    const d = decodeFrame(f, 0, f.length, 1);
    expect(d.layers.filter((l) => l.kind === "vlan")).toHaveLength(2);
  });

  it("rejects a window shorter than a tag", () => {
    expect(new VlanView(PCP_DEI, 18, 3).checkLen()?.code).toBe("packet.truncated");
  });
});
