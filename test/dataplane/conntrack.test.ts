/**
 * The connection table on its own: states, commit, force, mark/label, NAT, related and invalid.
 */
import { describe, expect, it } from "vitest";
import { CT, W, field, setField } from "../../src/flow/index.js";
import { Conntrack } from "../../src/dataplane/index.js";
import { ip, tcpKey } from "./build.js";

const A = ip(10, 0, 0, 1);
const B = ip(10, 0, 0, 2);

describe("Conntrack", () => {
  it("tracks new, commit, est and rpl per zone", () => {
    const ct = new Conntrack();
    const k = tcpKey(A, B, 1000, 80);
    expect(ct.execute(k, { zone: 1, commit: false }).state).toBe(CT.TRK | CT.NEW);
    expect(ct.size).toBe(0);
    expect(ct.execute(k, { zone: 1, commit: true }).state).toBe(CT.TRK | CT.NEW);
    expect(ct.size).toBe(1);
    expect(k[W.CT_STATE_ZONE]! >>> 16).toBe(1);
    expect(ct.execute(tcpKey(A, B, 1000, 80), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST);
    expect(ct.execute(tcpKey(B, A, 80, 1000), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST | CT.RPL);
    // Another zone knows nothing of it.
    expect(ct.execute(tcpKey(A, B, 1000, 80), { zone: 2, commit: false }).state).toBe(CT.TRK | CT.NEW);
    ct.clear();
    expect(ct.size).toBe(0);
    expect(ct.execute(tcpKey(A, B, 1000, 80), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.NEW);
  });

  it("keeps a UDP connection new in its original direction until the first reply, as OVS does", () => {
    const ct = new Conntrack();
    const udp = (s: number, d: number, sp: number, dp: number): Uint32Array => tcpKey(s, d, sp, dp, 17);
    expect(ct.execute(udp(A, B, 5000, 53), { zone: 1, commit: true }).state).toBe(CT.TRK | CT.NEW);
    expect(ct.execute(udp(A, B, 5000, 53), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.NEW);
    expect(ct.execute(udp(A, B, 5000, 53), { zone: 1, commit: true }).state).toBe(CT.TRK | CT.NEW);
    expect(ct.size).toBe(1);
    expect(ct.execute(udp(B, A, 53, 5000), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST | CT.RPL);
    expect(ct.execute(udp(A, B, 5000, 53), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST);
    // TCP without segments is established once committed.
    ct.execute(tcpKey(A, B, 1000, 80), { zone: 1, commit: true });
    expect(ct.execute(tcpKey(A, B, 1000, 80), { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST);
  });

  it("stores mark and label on commit and reads them back in both directions", () => {
    const ct = new Conntrack();
    ct.execute(tcpKey(A, B, 1, 2), { zone: 0, commit: true, setMark: { value: 0x10, mask: 0xf0 }, setLabel: { value: [1, 0, 0, 5], mask: [0xffffffff, 0, 0, 0xff] } });
    const k = tcpKey(B, A, 2, 1);
    ct.execute(k, { zone: 0, commit: false });
    expect(k[W.CT_MARK]).toBe(0x10);
    expect(Array.from(k.subarray(W.CT_LABEL, W.CT_LABEL + 4))).toEqual([1, 0, 0, 5]);
    // A later commit updates them under the mask.
    ct.execute(tcpKey(A, B, 1, 2), { zone: 0, commit: true, setMark: { value: 0x1, mask: 0x1 } });
    const k2 = tcpKey(A, B, 1, 2);
    ct.execute(k2, { zone: 0, commit: false });
    expect(k2[W.CT_MARK]).toBe(0x11);
  });

  it("force ends a connection seen in the reply direction", () => {
    const ct = new Conntrack();
    ct.execute(tcpKey(A, B, 1, 2), { zone: 0, commit: true });
    const r = ct.execute(tcpKey(B, A, 2, 1), { zone: 0, commit: true, force: true });
    expect(r.state).toBe(CT.TRK | CT.NEW);
    expect(ct.size).toBe(1);
    expect(ct.execute(tcpKey(B, A, 2, 1), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.EST);
  });

  it("SNAT rewrites the source and un-SNATs replies", () => {
    const ct = new Conntrack();
    const k = tcpKey(A, B, 1000, 80);
    const out = ct.execute(k, { zone: 0, commit: true, nat: { kind: "snat", range: { ipMin: [ip(192, 0, 2, 1)], portMin: 5000 } } });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.SNAT);
    expect(k[W.NW_SRC]).toBe(ip(192, 0, 2, 1));
    expect(k[W.TP]! >>> 16).toBe(5000);
    const reply = tcpKey(B, ip(192, 0, 2, 1), 80, 5000);
    const r = ct.execute(reply, { zone: 0, commit: false, nat: { kind: "restore" } });
    expect(r.state).toBe(CT.TRK | CT.EST | CT.RPL | CT.DNAT);
    expect(r.nat).toBe("unsnat");
    expect(reply[W.NW_DST]).toBe(A);
    expect(reply[W.TP]! & 0xffff).toBe(1000);
    // Without a NAT request the packet is tracked but not rewritten.
    const plain = tcpKey(B, ip(192, 0, 2, 1), 80, 5000);
    expect(ct.execute(plain, { zone: 0, commit: false }).state).toBe(CT.TRK | CT.EST | CT.RPL);
    expect(plain[W.NW_DST]).toBe(ip(192, 0, 2, 1));
  });

  it("gives a NAT binding whose reply tuple is taken the next free source port of its class, as OVS does", () => {
    const ct = new Conntrack();
    const VIP = ip(10, 96, 0, 10);
    const dnat = { kind: "dnat" as const, range: { ipMin: [B], portMin: 8080 } };
    // A direct connection A:1000 -> B:8080 holds the tuple a DNAT of A:1000 -> VIP:80 would reply with.
    ct.execute(tcpKey(A, B, 1000, 8080), { zone: 0, commit: true });
    const k = tcpKey(A, VIP, 1000, 80);
    ct.execute(k, { zone: 0, commit: true, nat: dnat });
    expect([k[W.NW_DST], k[W.TP]! >>> 16, k[W.TP]! & 0xffff]).toEqual([B, 1001, 8080]);
    // Later packets of the connection get the same port, and replies get their own back.
    const again = tcpKey(A, VIP, 1000, 80);
    ct.execute(again, { zone: 0, commit: false, nat: dnat });
    expect(again[W.TP]! >>> 16).toBe(1001);
    const reply = tcpKey(B, A, 8080, 1001);
    ct.execute(reply, { zone: 0, commit: false, nat: { kind: "restore" } });
    expect([reply[W.NW_SRC], reply[W.TP]! >>> 16, reply[W.TP]! & 0xffff]).toEqual([VIP, 80, 1000]);
    // At the top of a class the search wraps to its bottom (600-1023), and skips what is taken.
    ct.execute(tcpKey(A, B, 1023, 8080), { zone: 0, commit: true });
    ct.execute(tcpKey(A, B, 600, 8080), { zone: 0, commit: true });
    const top = tcpKey(A, VIP, 1023, 80);
    ct.execute(top, { zone: 0, commit: true, nat: dnat });
    expect(top[W.TP]! >>> 16).toBe(601);
    // Two clients SNATed to one address with the same source port.
    const snat = { kind: "snat" as const, range: { ipMin: [ip(192, 0, 2, 1)] } };
    const c1 = tcpKey(A, ip(8, 8, 8, 8), 40000, 443);
    const c2 = tcpKey(ip(10, 0, 0, 3), ip(8, 8, 8, 8), 40000, 443);
    ct.execute(c1, { zone: 5, commit: true, nat: snat });
    ct.execute(c2, { zone: 5, commit: true, nat: snat });
    expect([c1[W.TP]! >>> 16, c2[W.TP]! >>> 16]).toEqual([40000, 40001]);
    // Another zone's connections do not count.
    const z = tcpKey(A, VIP, 1000, 80);
    ct.execute(z, { zone: 9, commit: true, nat: dnat });
    expect(z[W.TP]! >>> 16).toBe(1000);
  });

  it("ICMP errors are related to a connection between the two hosts, else invalid", () => {
    const ct = new Conntrack();
    const icmpErr = (src: number, dst: number): Uint32Array => {
      const k = tcpKey(src, dst, 0, 0, 1);
      setField(k, field("tp_src"), 3);
      setField(k, field("tp_dst"), 3);
      return k;
    };
    expect(ct.execute(icmpErr(B, A), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.INV);
    ct.execute(tcpKey(A, B, 1, 2), { zone: 0, commit: true });
    expect(ct.execute(icmpErr(B, A), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.REL);
    expect(ct.execute(icmpErr(B, ip(10, 0, 0, 9)), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.INV);
  });

  it("ICMP echo request and reply share a connection", () => {
    const ct = new Conntrack();
    const echo = tcpKey(A, B, 0, 0, 1);
    setField(echo, field("tp_src"), 8);
    ct.execute(echo, { zone: 0, commit: true });
    const reply = tcpKey(B, A, 0, 0, 1);
    expect(ct.execute(reply, { zone: 0, commit: false }).state).toBe(CT.TRK | CT.EST | CT.RPL);
  });

  it("marks non-IP packets invalid, and with tcpNew syn TCP without a SYN too", () => {
    const ct = new Conntrack({ tcpNew: "syn" });
    const arp = tcpKey(A, B, 0, 0);
    setField(arp, field("eth_type"), 0x0806);
    expect(ct.execute(arp, { zone: 0, commit: true }).state).toBe(CT.TRK | CT.INV);
    const ack = tcpKey(A, B, 1, 2);
    ack[W.TCP_FLAGS] = 0x10;
    expect(ct.execute(ack, { zone: 0, commit: true }).state).toBe(CT.TRK | CT.INV);
    expect(ct.size).toBe(0);
    const syn = tcpKey(A, B, 1, 2);
    syn[W.TCP_FLAGS] = 0x02;
    expect(ct.execute(syn, { zone: 0, commit: true }).state).toBe(CT.TRK | CT.NEW);
    // Loose by default: a flagless microflow starts a connection.
    expect(new Conntrack().execute(tcpKey(A, B, 1, 2), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.NEW);
  });

  it("with tcpNew ovs, TCP and UDP with port 0 are invalid, as OVS keys no such packet; a later fragment is not judged by its ports", () => {
    const ct = new Conntrack({ tcpNew: "ovs" });
    const syn = (sport: number, dport: number): Uint32Array => {
      const k = tcpKey(A, B, sport, dport);
      k[W.TCP_FLAGS] = 0x02;
      return k;
    };
    expect(ct.execute(syn(0, 80), { zone: 0, commit: true }).state).toBe(CT.TRK | CT.INV);
    expect(ct.execute(syn(1000, 0), { zone: 0, commit: true }).state).toBe(CT.TRK | CT.INV);
    const udp = syn(0, 53);
    setField(udp, field("nw_proto"), 17);
    expect(ct.execute(udp, { zone: 0, commit: true }).state).toBe(CT.TRK | CT.INV);
    expect(ct.size).toBe(0);
    const later = syn(0, 0);
    setField(later, field("nw_frag"), 3);
    expect(ct.execute(later, { zone: 0, commit: true }).state).toBe(CT.TRK | CT.NEW);
    // Other rules keep port 0 (traces: a microflow often gives no ports).
    expect(new Conntrack().execute(syn(0, 80), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.NEW);
  });

  it("a protocol without ports keeps no port when load balanced to a backend that has one", () => {
    const ct = new Conntrack();
    const vip = ip(172, 30, 0, 1);
    const backend = ip(10, 1, 0, 1);
    const echo = tcpKey(A, vip, 0, 0, 1);
    setField(echo, field("tp_src"), 8); // ICMP echo request, as the key holds ICMP's type
    const out = ct.execute(echo, { zone: 0, commit: false, lb: { backends: [{ ip: [backend], port: 8080 }] } });
    expect(out.connection?.reply).toMatchObject({ proto: 1, src: [0, 0, 0, backend], sport: 0, dport: 0 });
    expect(echo[W.NW_DST]).toBe(backend);
    expect(echo[W.TP]! >>> 16).toBe(8);
    expect(echo[W.TP]! & 0xffff).toBe(0);
    // The reply finds the connection and is un-NATed back to the VIP.
    const reply = tcpKey(backend, A, 0, 0, 1);
    const r = ct.execute(reply, { zone: 0, commit: false, lb: { backends: [] } });
    expect(r.state & CT.RPL).toBe(CT.RPL);
    expect(reply[W.NW_SRC]).toBe(vip);
  });

  it("keys SCTP by its addresses alone and load balances it without translating its ports, as OVS 3.1's userspace conntrack does", () => {
    const ct = new Conntrack({ tcpNew: "ovs" });
    const vip = ip(172, 30, 0, 1);
    const backend = ip(10, 1, 0, 1);
    const first = tcpKey(A, vip, 40000, 3868, 132);
    const out = ct.execute(first, { zone: 0, commit: false, lb: { backends: [{ ip: [backend], port: 9000 }] } });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.DNAT);
    expect(first[W.NW_DST]).toBe(backend);
    expect(first[W.TP]).toBe(((40000 << 16) | 3868) >>> 0); // the port stays the VIP's
    // Other ports, port 0 included, between the same addresses: the same connection.
    const other = tcpKey(A, vip, 0, 7, 132);
    expect(ct.execute(other, { zone: 0, commit: false, lb: { backends: [] } }).state & CT.NEW).toBe(CT.NEW); // no reply yet
    expect(other[W.NW_DST]).toBe(backend);
    const reply = tcpKey(backend, A, 1, 2, 132);
    const r = ct.execute(reply, { zone: 0, commit: false, lb: { backends: [] } });
    expect(r.state & (CT.EST | CT.RPL)).toBe(CT.EST | CT.RPL);
    expect(reply[W.NW_SRC]).toBe(vip);
    expect(reply[W.TP]).toBe(((1 << 16) | 2) >>> 0);
    expect(ct.size).toBe(1);
    // UDP on the same addresses and ports is keyed by them: a connection of its own.
    expect(ct.execute(tcpKey(backend, A, 1, 2, 17), { zone: 0, commit: false }).state).toBe(CT.TRK | CT.NEW);
  });

  it("load balancing by selection fields keeps clients with the same source together", () => {
    const ct = new Conntrack();
    const backends = [{ ip: [ip(10, 1, 0, 1)] }, { ip: [ip(10, 1, 0, 2)] }, { ip: [ip(10, 1, 0, 3)] }];
    const chosen = new Set<number>();
    for (let p = 1; p < 50; p++) {
      const k = tcpKey(A, ip(172, 30, 0, 1), p, 80);
      ct.execute(k, { zone: 0, commit: false, lb: { backends, hashFields: [field("nw_src")] } });
      chosen.add(k[W.NW_DST]!);
    }
    expect(chosen.size).toBe(1);
  });
});
