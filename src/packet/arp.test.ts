/**
 * ARP: a real request parsed and emitted back, and the reply builder checked against the reply in the same capture.
 */
import { describe, expect, it } from "vitest";
import { formatIpv4, formatMac, fromHex, parseIpv4, parseMac } from "../base/index.js";
import { arpHeaderLen, ArpOp, arpRepr, ArpView, emitArp, parseArp } from "./arp.js";
import { buildArpReply } from "./build.js";
import { decodeFrame } from "./decode.js";

// The ARP request inside packet 2 of tcpdump's vxlan.pcap:
//   00 01 08 00 06 04 00 01     Ethernet/IPv4, hlen 6, plen 4, request
//   00 30 88 01 00 02           sender MAC 00:30:88:01:00:02
//   c0 a8 cb 05                 sender IP  192.168.203.5
//   00 00 00 00 00 00           target MAC (unknown)
//   c0 a8 cb 03                 target IP  192.168.203.3
const ARP = fromHex("0001080006040001" + "003088010002" + "c0a8cb05" + "000000000000" + "c0a8cb03")!;

describe("ARP", () => {
  it("parses every field of a real request", () => {
    const v = new ArpView(ARP, 0, ARP.length);
    expect(v.checkLen()).toBeUndefined();
    const r = parseArp(v);
    if (!r.ok) throw new Error("parse failed");
    expect(r.value.htype).toBe(1);
    expect(r.value.ptype).toBe(0x0800);
    expect(r.value.op).toBe(ArpOp.REQUEST);
    expect(formatMac(r.value.sha)).toBe("00:30:88:01:00:02");
    expect(formatIpv4(r.value.spa)).toBe("192.168.203.5");
    expect(formatMac(r.value.tha)).toBe("00:00:00:00:00:00");
    expect(formatIpv4(r.value.tpa)).toBe("192.168.203.3");
  });

  it("emits the same bytes back", () => {
    const r = parseArp(new ArpView(ARP, 0, ARP.length));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(arpHeaderLen(r.value));
    emitArp(r.value, out, 0);
    expect(out).toEqual(ARP);
  });

  it("rejects other address sizes as unsupported and short windows as truncated", () => {
    const odd = ARP.slice();
    odd[4] = 8;
    expect(new ArpView(odd, 0, odd.length).checkLen()?.code).toBe("packet.unsupported");
    expect(new ArpView(ARP, 0, 27).checkLen()?.code).toBe("packet.truncated");
  });

  it("builds the reply a responder sends", () => {
    const req = parseArp(new ArpView(ARP, 0, ARP.length));
    if (!req.ok) throw new Error("parse failed");
    const mac = parseMac("00:16:3e:37:f6:04")!;
    const frame = buildArpReply(req.value, mac);
    const d = decodeFrame(frame, 0, frame.length, 1);
    const arp = d.layers[1];
    expect(d.layers[0]?.kind === "ethernet" && formatMac(d.layers[0].repr.dst)).toBe("00:30:88:01:00:02");
    expect(arp?.kind === "arp" && arp.repr).toEqual(arpRepr(ArpOp.REPLY, mac, parseIpv4("192.168.203.3")!, parseMac("00:30:88:01:00:02")!, parseIpv4("192.168.203.5")!));
    // This is the reply the capture itself carries (packet 3 of vxlan.pcap, ARP part).
    expect(frame.subarray(14)).toEqual(fromHex("0001080006040002" + "00163e37f604" + "c0a8cb03" + "003088010002" + "c0a8cb05"));
  });
});
