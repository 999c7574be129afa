/**
 * ICMP in the connection table as OVS keys it (src/dataplane/conntrack-icmp.ts), from real frames:
 * what `IcmpMessage.read` takes from a message, how conntrack then treats queries and errors, and
 * how an error's quoted packet is rewritten after NAT. The frames are built byte by byte here and
 * go through `extractKey`, as replayed packets do.
 */
import { describe, expect, it } from "vitest";
import { be16, be32 } from "../../src/base/index.js";
import { CT, KEY_WORDS, W, extractKey, icmpAt } from "../../src/flow/index.js";
import { Conntrack, ICMP_BAD, ICMP_ERROR, ICMP_NONE, ICMP_QUERY, ICMP_REQUEST, IcmpMessage } from "../../src/dataplane/index.js";
import { checksumAdd, checksumFinish, internetChecksum, ipv4PseudoHeaderSum, verifyIpv4HeaderChecksum } from "../../src/packet/index.js";
import { ip } from "./build.js";

const A = ip(10, 0, 0, 1);
const B = ip(10, 0, 0, 2);
const R = ip(10, 0, 0, 254);
const S = ip(192, 0, 2, 1);


function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An IPv4 datagram (checksum filled in). */
function ipv4(src: number, dst: number, proto: number, payload: Uint8Array, fragWord = 0): Uint8Array {
  const h = new Uint8Array([0x45, 0, ...be16(20 + payload.length), 0, 1, ...be16(fragWord), 64, proto, 0, 0, ...be32(src), ...be32(dst)]);
  h.set(be16(internetChecksum(h, 0, 20)), 10);
  return cat(h, payload);
}

/** A UDP header and payload; `csum` as given (the quoted datagram's checksum is not checked). */
function udp(sport: number, dport: number, payload: Uint8Array, csum = 0): Uint8Array {
  return cat(be16(sport), be16(dport), be16(8 + payload.length), be16(csum), payload);
}

/** An ICMPv4 message (checksum filled in); `rest`: bytes 4-7. */
function icmp(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const m = cat([type, code, 0, 0], be32(rest), body);
  m.set(be16(internetChecksum(m, 0, m.length)), 2);
  return m;
}

function eth(l3: Uint8Array, type = 0x0800): Uint8Array {
  return cat([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], be16(type), l3);
}

/** An IPv6 packet; addresses as four words. */
function ipv6(src: number[], dst: number[], nxt: number, payload: Uint8Array): Uint8Array {
  return cat([0x60, 0, 0, 0], be16(payload.length), [nxt, 64], ...src.map(be32), ...dst.map(be32), payload);
}

/** The key of a frame, with `msg` read from it as the replay reads it. */
function packet(frame: Uint8Array, msg: IcmpMessage): Uint32Array {
  const key = new Uint32Array(KEY_WORDS);
  extractKey(frame, 0, frame.length, frame.length, 1, key, 0, false);
  if (icmpAt.header >= 0) msg.read(frame, icmpAt.header, icmpAt.end, icmpAt.v6);
  else msg.kind = ICMP_NONE;
  return key;
}

const echo = (src: number, dst: number, type: number, id: number, code = 0): Uint8Array => eth(ipv4(src, dst, 1, icmp(type, code, (id << 16) | 1, new Uint8Array(8))));
/** An ICMPv4 error from `from` to `to` quoting the UDP datagram `qsrc:qs -> qdst:qd`. */
const udpError = (from: number, to: number, qsrc: number, qdst: number, qs: number, qd: number, type = 3, code = 3): Uint8Array =>
  eth(ipv4(from, to, 1, icmp(type, code, 0, ipv4(qsrc, qdst, 17, udp(qs, qd, new Uint8Array(4), 0x1234)).slice(0, 28))));
const udpPacket = (src: number, dst: number, sp: number, dp: number): Uint8Array => eth(ipv4(src, dst, 17, udp(sp, dp, new Uint8Array(4))));

describe("IcmpMessage.read", () => {
  const msg = new IcmpMessage();

  it("takes a query's identifier and class, and refuses a query with a code", () => {
    packet(echo(A, B, 8, 0x1234), msg);
    expect([msg.kind, msg.id, msg.cls]).toEqual([ICMP_QUERY, 0x1234, 1 | ICMP_REQUEST]);
    packet(echo(B, A, 0, 0x1234), msg);
    expect([msg.kind, msg.cls]).toEqual([ICMP_QUERY, 1]);
    packet(echo(A, B, 13, 7), msg);
    expect([msg.kind, msg.cls]).toEqual([ICMP_QUERY, 2 | ICMP_REQUEST]);
    packet(echo(A, B, 8, 1, 1), msg);
    expect(msg.kind).toBe(ICMP_BAD);
  });

  it("refuses the types OVS makes no key of, and a message shorter than 8 bytes", () => {
    packet(echo(A, B, 9, 0), msg);
    expect(msg.kind).toBe(ICMP_BAD);
    packet(eth(ipv4(A, B, 1, new Uint8Array([8, 0, 0, 0, 0, 1]))), msg);
    expect(msg.kind).toBe(ICMP_BAD);
    packet(udpPacket(A, B, 1, 2), msg);
    expect(msg.kind).toBe(ICMP_NONE);
  });

  it("reads the quoted packet of an error", () => {
    packet(udpError(R, A, A, B, 40000, 53), msg);
    expect(msg.kind).toBe(ICMP_ERROR);
    expect([msg.innerV6, msg.innerProto, msg.innerSrc[3], msg.innerDst[3], msg.innerSport, msg.innerDport]).toEqual([false, 17, A, B, 40000, 53]);
    expect([msg.innerL3, msg.innerL4]).toEqual([8, 28]);
    // A quoted echo request: its identifier in both ports, its class.
    const quotedEcho = ipv4(A, B, 1, icmp(8, 0, 0x00070001, new Uint8Array(0)));
    packet(eth(ipv4(R, A, 1, icmp(11, 0, 0, quotedEcho))), msg);
    expect([msg.kind, msg.innerProto, msg.innerSport, msg.innerDport, msg.innerCls]).toEqual([ICMP_ERROR, 1, 7, 7, 1 | ICMP_REQUEST]);
  });

  it("refuses errors quoting a fragment, a short transport header or a port of 0", () => {
    const frag = ipv4(A, B, 17, udp(1, 2, new Uint8Array(0)), 0x2000).slice(0, 28);
    packet(eth(ipv4(R, A, 1, icmp(3, 3, 0, frag))), msg);
    expect(msg.kind).toBe(ICMP_BAD);
    packet(eth(ipv4(R, A, 1, icmp(3, 3, 0, ipv4(A, B, 17, udp(1, 2, new Uint8Array(0))).slice(0, 24)))), msg);
    expect(msg.kind).toBe(ICMP_BAD);
    packet(udpError(R, A, A, B, 0, 53), msg);
    expect(msg.kind).toBe(ICMP_BAD);
  });

  it("reads an ICMPv6 error through the quoted packet's extension headers, and wants a whole TCP header", () => {
    const a6 = [0x20010db8, 0, 0, 1];
    const b6 = [0x20010db8, 0, 0, 2];
    const tcp20 = cat(be16(5000), be16(443), new Uint8Array(8), [0x50, 0x02], new Uint8Array(6));
    // Hop-by-hop options (8 bytes) before TCP.
    const quoted = ipv6(a6, b6, 0, cat([6, 0, 1, 4, 0, 0, 0, 0], tcp20));
    const err = (q: Uint8Array): Uint8Array => eth(ipv6(b6, a6, 58, cat([1, 4, 0, 0, 0, 0, 0, 0], q)), 0x86dd);
    packet(err(quoted), msg);
    expect([msg.kind, msg.innerV6, msg.innerProto, msg.innerSport, msg.innerDport, msg.innerSrc, msg.innerDst]).toEqual([ICMP_ERROR, true, 6, 5000, 443, a6, b6]);
    expect(msg.innerL4).toBe(8 + 40 + 8);
    packet(err(quoted.slice(0, 40 + 8 + 8)), msg);
    expect(msg.kind).toBe(ICMP_BAD);
  });
});

describe("Conntrack with ICMP messages read as OVS reads them", () => {
  function table(): { ct: Conntrack; msg: IcmpMessage; run: (frame: Uint8Array, req?: Parameters<Conntrack["execute"]>[1]) => { state: number; key: Uint32Array } } {
    const msg = new IcmpMessage();
    const ct = new Conntrack({ icmp: msg });
    return {
      ct,
      msg,
      run: (frame, req = { zone: 1, commit: false }) => {
        const key = packet(frame, msg);
        return { state: ct.execute(key, req).state, key };
      },
    };
  }

  it("keys pings by identifier: a reply meets only its request, and only a request starts a connection", () => {
    const { ct, run } = table();
    expect(run(echo(A, B, 8, 0x1234), { zone: 1, commit: true }).state).toBe(CT.TRK | CT.NEW);
    const reply = run(echo(B, A, 0, 0x1234));
    expect(reply.state).toBe(CT.TRK | CT.EST | CT.RPL);
    // The original tuple's "ports" are the request's type and code, as OVS writes them.
    expect(reply.key[W.CT_TP]).toBe((8 << 16) >>> 0);
    expect(run(echo(A, B, 8, 0x1234)).state).toBe(CT.TRK | CT.EST);
    // Another identifier is another connection; a reply of none is invalid.
    expect(run(echo(A, B, 8, 0x9999)).state).toBe(CT.TRK | CT.NEW);
    expect(run(echo(B, A, 0, 0x9999)).state).toBe(CT.TRK | CT.INV);
    // B's own request with A's identifier is not A's reply.
    expect(run(echo(B, A, 8, 0x1234)).state).toBe(CT.TRK | CT.NEW);
    expect(run(echo(A, B, 9, 0)).state).toBe(CT.TRK | CT.INV);
    expect(ct.size).toBe(1);
  });

  it("relates an error to the connection of the packet it quotes, in that connection's direction", () => {
    const { run } = table();
    run(udpPacket(A, B, 40000, 53), { zone: 1, commit: true });
    // B (or a router on the way, R) tells A about A's datagram: the reply direction.
    const back = run(udpError(R, A, A, B, 40000, 53));
    expect(back.state).toBe(CT.TRK | CT.REL | CT.RPL);
    expect(back.key[W.CT_NW_SRC]).toBe(A);
    // A tells B about B's datagram: the original direction.
    expect(run(udpError(A, B, B, A, 53, 40000)).state).toBe(CT.TRK | CT.REL);
    // Another port, or a quoted packet that did not come from the error's destination: invalid.
    expect(run(udpError(R, A, A, B, 40001, 53)).state).toBe(CT.TRK | CT.INV);
    expect(run(udpError(R, B, A, B, 40000, 53)).state).toBe(CT.TRK | CT.INV);
  });

  it("translates an error about an SNAT connection, and its quoted packet, back", () => {
    const { run, msg } = table();
    const out = run(udpPacket(A, B, 40000, 53), { zone: 1, commit: true, nat: { kind: "snat", range: { ipMin: [S] } } });
    expect(out.key[W.NW_SRC]).toBe(S);
    const err = run(udpError(R, S, S, B, 40000, 53), { zone: 1, commit: false, nat: { kind: "restore" } });
    // Backwards an SNAT restores the destination: `dnat`, as OVS sets it.
    expect(err.state).toBe(CT.TRK | CT.REL | CT.RPL | CT.DNAT);
    expect([err.key[W.NW_SRC], err.key[W.NW_DST]]).toEqual([R, A]);
    expect(msg.innerChanged).toBe(true);
    expect([msg.innerSrc[3], msg.innerDst[3], msg.innerSport, msg.innerDport]).toEqual([A, B, 40000, 53]);
    // Without a NAT action the error is related but not translated.
    const plain = run(udpError(R, S, S, B, 40000, 53));
    expect(plain.state).toBe(CT.TRK | CT.REL | CT.RPL);
    expect(plain.key[W.NW_DST]).toBe(S);
    expect(msg.innerChanged).toBe(false);
  });

  it("looks an error this zone translated up the other way and does not translate it again, as OVS does with the datapath's state", () => {
    const { ct, run, msg } = table();
    run(udpPacket(A, B, 40000, 53), { zone: 1, commit: true, nat: { kind: "snat", range: { ipMin: [S] } } });
    const err = run(udpError(R, S, S, B, 40000, 53), { zone: 1, commit: false, nat: { kind: "restore" } });
    const md = err.key[W.CT_STATE_ZONE]!;
    // The translated error (R -> A, quoting A:40000 -> B:53) meets the zone again with its state.
    ct.md = md;
    msg.innerChanged = false;
    const again = ct.execute(err.key, { zone: 1, commit: false, nat: { kind: "restore" } });
    expect(again.state).toBe(CT.TRK | CT.REL | CT.RPL | CT.DNAT);
    expect([err.key[W.NW_SRC], err.key[W.NW_DST]]).toEqual([R, A]);
    expect(msg.innerChanged).toBe(false);
    expect([msg.innerSrc[3], msg.innerDst[3]]).toEqual([A, B]);
    // Without the state the translated error quotes nothing this zone knows the right way round.
    expect(ct.execute(err.key, { zone: 1, commit: false, nat: { kind: "restore" } }).state).toBe(CT.TRK | CT.INV);
    // In another zone the state counts for nothing.
    ct.md = md;
    expect(ct.execute(err.key, { zone: 2, commit: false, nat: { kind: "restore" } }).state).toBe(CT.TRK | CT.INV);
  });

  it("without a message read for the packet, keeps judging ICMP from the key alone", () => {
    const { ct, msg } = table();
    const commit = packet(udpPacket(A, B, 40000, 53), msg);
    ct.execute(commit, { zone: 1, commit: true });
    // An error quoting another port, with the message not read: related by the two addresses.
    const key = packet(udpError(B, A, A, B, 1, 2), msg);
    msg.kind = ICMP_NONE;
    expect(ct.execute(key, { zone: 1, commit: false }).state).toBe(CT.TRK | CT.REL);
  });
});

describe("IcmpMessage.rewriteQuoted", () => {
  it("writes the translated quoted packet with the checksums OVS updates", () => {
    const msg = new IcmpMessage();
    const ct = new Conntrack({ icmp: msg });
    ct.execute(packet(udpPacket(A, B, 40000, 53), msg), { zone: 1, commit: true, nat: { kind: "snat", range: { ipMin: [S], portMin: 7000 } } });
    // The whole quoted datagram (header and 4 bytes of payload), with a real UDP checksum.
    const payload = new Uint8Array([1, 2, 3, 4]);
    const q = ipv4(S, B, 17, udp(7000, 53, payload));
    q.set(be16(internetChecksum(q, 20, 12, ipv4PseudoHeaderSum(S, B, 17, 12))), 26);
    const frame = eth(ipv4(R, S, 1, icmp(3, 3, 0, q)));
    const key = packet(frame, msg);
    ct.execute(key, { zone: 1, commit: false, nat: { kind: "restore" } });
    expect(key[W.NW_DST]).toBe(A);
    msg.rewriteQuoted(frame, frame.length);
    const l3 = 14 + 20 + 8;
    const view = new DataView(frame.buffer);
    expect([view.getUint32(l3 + 12), view.getUint32(l3 + 16), view.getUint16(l3 + 20), view.getUint16(l3 + 22)]).toEqual([A, B, 40000, 53]);
    expect(verifyIpv4HeaderChecksum(frame, l3, 20)).toBe(true);
    // The quoted UDP checksum, updated step by step, is the one the translated datagram has.
    expect(checksumFinish(checksumAdd(ipv4PseudoHeaderSum(A, B, 17, 12), frame, l3 + 20, 12))).toBe(0);
    expect(internetChecksum(frame, 14 + 20, frame.length - 14 - 20)).toBe(0);
  });

  it("leaves a frame alone when conntrack translated nothing", () => {
    const msg = new IcmpMessage();
    const frame = udpError(R, A, A, B, 40000, 53);
    packet(frame, msg);
    const before = frame.slice();
    msg.rewriteQuoted(frame, frame.length);
    expect(frame).toEqual(before);
  });
});
