/**
 * `replay --map auto` with ICMP errors: an error travels with the connection of the packet it
 * quotes, and its quoted packet is mapped too, so that conntrack relates it to the mapped
 * connection (real OVS relates by the quoted packet, src/dataplane/conntrack-icmp.ts). The network
 * has a stateful ACL on every port, so conntrack's verdict decides: related errors are delivered,
 * invalid ones dropped.
 */
import { describe, expect, it } from "vitest";
import type { OutputOp, PacketSink } from "../../src/dataplane/index.js";
import { KEY_WORDS, W, extractKey, frameFromKey, icmpAt, rewriteFrame } from "../../src/flow/index.js";
import { buildIcmpv4Error, internetChecksum } from "../../src/packet/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { Replayer, mapInjector } from "../../src/replay/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { tcpKey, twoPodNetwork } from "../dataplane/build.js";

const NETWORK = twoPodNetwork("icmp-map", ["{direction: to-lport, priority: 1001, match: 'outport == @all && ip', action: allow-related}"]);

const C = 0xc0a8010a; // 192.168.1.10, the trace's client
const S = 0xc0a80114; // 192.168.1.20, its server

function udp(src: number, dst: number, sport: number, dport: number): Uint8Array {
  return frameFromKey(tcpKey(src, dst, sport, dport, 17), { payload: new Uint8Array(12).fill(7) });
}

/** The server's port-unreachable about the client's datagram `quoted`. */
function unreachable(quoted: Uint8Array): Uint8Array {
  const mac = (ip: number): Uint8Array => new Uint8Array([0, 0, ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff]);
  return buildIcmpv4Error({ ethSrc: mac(S), ethDst: mac(C), ipSrc: S, type: 3, code: 3 }, quoted, 14, quoted.length - 14);
}

describe("replay --map auto: ICMP errors follow the connection they quote", () => {
  it("maps an error's quoted packet onto its connection, so conntrack relates it; an error quoting no connection is invalid", () => {
    const sc = loadNetworkText(NETWORK, "icmp-map.yaml");
    expect(sc.ok, sc.ok ? "" : sc.diags.map((d) => d.message).join("; ")).toBe(true);
    if (!sc.ok) return;
    const w = new PcapWriter({ linkType: 1 });
    const request = udp(C, S, 40000, 53);
    w.writePacket(1, 0, request);
    w.writePacket(2, 0, udp(S, C, 53, 40000));
    w.writePacket(3, 0, unreachable(request));
    // A datagram no connection of the trace has.
    w.writePacket(4, 0, unreachable(udp(C, S, 40001, 53)));
    const capture = { file: "icmp.pcap", bytes: w.toBytes() };

    const r = new Replayer(sc.value.network, { cache: {} });
    const inj = mapInjector(r, "auto", [capture]);
    const delivered: { port: string; frame: Uint8Array }[] = [];
    const buf = new Uint8Array(2048);
    const sink: PacketSink = {
      output: (_chassis: string, op: OutputOp, key: Uint32Array) => {
        const c = r.current;
        const n = rewriteFrame(c.data, c.offset, c.caplen, c.key, key, buf);
        r.icmp.rewriteQuoted(buf, n);
        delivered.push({ port: op.portName, frame: buf.slice(0, n) });
      },
      drop: () => {},
    };
    const rep = r.run([capture], inj, sink);
    expect(rep.replayed).toBe(4);
    // The datagram, its reply, and the related error: three deliveries; the fourth packet is dropped as invalid.
    expect(delivered.map((d) => d.port)).toHaveLength(3);
    const [req, , err] = delivered;
    const reqKey = new Uint32Array(KEY_WORDS);
    extractKey(req!.frame, 0, req!.frame.length, req!.frame.length, 1, reqKey, 0, false);
    const errKey = new Uint32Array(KEY_WORDS);
    extractKey(err!.frame, 0, err!.frame.length, err!.frame.length, 1, errKey, 0, false);
    // The error goes to the mapped client, from the mapped server, on the client's port.
    expect(err!.port).not.toBe(req!.port);
    expect([errKey[W.NW_SRC], errKey[W.NW_DST]]).toEqual([reqKey[W.NW_DST], reqKey[W.NW_SRC]]);
    // Its quoted packet is the mapped datagram: addresses and ports.
    const h = icmpAt.header;
    const view = new DataView(err!.frame.buffer, err!.frame.byteOffset);
    expect([view.getUint32(h + 8 + 12), view.getUint32(h + 8 + 16)]).toEqual([reqKey[W.NW_SRC], reqKey[W.NW_DST]]);
    expect(view.getUint32(h + 8 + 20)).toBe(reqKey[W.TP]);
    expect(internetChecksum(err!.frame, h, err!.frame.length - h)).toBe(0);
    // The invalid one: dropped by the ACL stage, as OVN drops ct.inv there.
    expect(rep.stats.drops).toEqual({ "drop-action (switches[ls]) at ls ls_in_acl (match: ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1))": 1 });
  });
});
