/**
 * Packet lengths as OVS's `check_pkt_len` measures them (src/dataplane/packet-length.ts): an IP
 * packet by its own length field, without the frame's padding; anything else by its frame.
 */
import { describe, expect, it } from "vitest";
import { Answer, answerOfKey, frameL3Length, l2Length, madeL3Length, replayedL3Length } from "../../src/dataplane/index.js";
import { KEY_WORDS, W, extractKey, frameFromKey, l3At, newKey, setField, field } from "../../src/flow/index.js";
import { pushVlan } from "../../src/packet/index.js";

function udp4(payload: number): Uint8Array {
  const k = newKey();
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), 17);
  setField(k, field("nw_ttl"), 64);
  k[W.NW_SRC] = 0x0a000001;
  k[W.NW_DST] = 0x0a000002;
  return frameFromKey(k, { payload: new Uint8Array(payload) });
}

/** The L3 length of a frame of which `caplen` of `origlen` bytes were captured, as replay measures it (from extraction). */
function measured(f: Uint8Array, caplen: number, origlen: number): number {
  extractKey(f, 0, caplen, origlen, 1, new Uint32Array(KEY_WORDS), 0, false);
  return frameL3Length(l3At.start, l3At.length, origlen);
}

function keyOf(f: Uint8Array): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  extractKey(f, 0, f.length, f.length, 1, k, 0, false);
  return k;
}

describe("frameL3Length", () => {
  it("is an IPv4 datagram's total length, without the padding of a short frame", () => {
    const f = udp4(2);
    expect(f.length).toBe(14 + 20 + 8 + 2);
    const padded = new Uint8Array(60);
    padded.set(f);
    expect(measured(padded, padded.length, padded.length)).toBe(30);
    expect(measured(f, f.length, f.length)).toBe(30);
  });

  it("reads through VLAN tags, and takes a truncated capture's original length into account only through the IP header", () => {
    const f = pushVlan(udp4(1000), { pcp: 0, dei: false, vid: 10 }, 0x8100);
    expect(measured(f, f.length, f.length)).toBe(1028);
    // Only 64 bytes captured of the same frame: the IP header still says 1028.
    expect(measured(f, 64, f.length)).toBe(1028);
  });

  it("is the frame's when the length field claims more than the frame holds, and for ARP", () => {
    const f = udp4(10);
    f[16] = 0x05; // total length 0x05xx: far past the frame
    expect(measured(f, f.length, f.length)).toBe(f.length - 14);
    const arp = newKey();
    setField(arp, field("eth_type"), 0x0806);
    const a = frameFromKey(arp);
    const padded = new Uint8Array(60);
    padded.set(a);
    expect(measured(padded, 60, 60)).toBe(46);
  });

  it("is 40 plus an IPv6 packet's payload length", () => {
    const k = newKey();
    setField(k, field("eth_type"), 0x86dd);
    setField(k, field("nw_proto"), 17);
    const f = frameFromKey(k, { payload: new Uint8Array(100) });
    expect(measured(f, f.length, f.length)).toBe(40 + 8 + 100);
  });
});

describe("lengths of packets OVN makes", () => {
  it("follows pinctrl: ICMP errors quote at most 576 (IPv4) or 1280 (IPv6) bytes with their headers", () => {
    expect(madeL3Length("icmp4_error", false, 17, 1000)).toBe(562);
    expect(madeL3Length("icmp4", false, 17, 100)).toBe(128);
    expect(madeL3Length("icmp6_error", true, 17, 2000)).toBe(1266);
    expect(madeL3Length("reject", false, 6, 1000)).toBe(40);
    expect(madeL3Length("reject", true, 132, 1000)).toBe(56);
    expect(madeL3Length("reject", false, 17, 1000)).toBe(562);
    expect(madeL3Length("arp", false, 0, 1000)).toBe(28);
    expect(madeL3Length("nd_ns", true, 0, 1000)).toBe(72);
    expect(madeL3Length("icmp4_echo_reply", false, 1, 84)).toBe(84);
  });

  it("tells an answer OVN made from the packet replayed, by what each is", () => {
    const f = udp4(1000);
    const k = keyOf(f);
    expect(answerOfKey(k)).toBe(Answer.None);
    expect(answerOfKey(keyOf(f))).toBe(Answer.None);
    const err = k.slice();
    setField(err, field("nw_proto"), 1);
    setField(err, field("tp_src"), 3);
    setField(err, field("tp_dst"), 4);
    expect(answerOfKey(err)).toBe(Answer.Icmp4Error);
    // Once an answer is made, the error is the answer's length and the datagram its own.
    expect(replayedL3Length(err, 1028, Answer.None, true)).toBe(562);
    expect(replayedL3Length(k, 1028, Answer.None, true)).toBe(1028);
    expect(replayedL3Length(err, 1028, Answer.None, false)).toBe(1028);
    // A captured ICMP error is its own length.
    expect(replayedL3Length(err, 1028, Answer.Icmp4Error, true)).toBe(1028);
    expect(l2Length(k)).toBe(14);
  });
});
