/**
 * The connection table with the datapath's conntrack state (`Conntrack.md`, OVS's `md.ct_state`)
 * and OVN's all-zero SNAT on plain commits (`zeroSnat`), as OVS 3.1's `lib/conntrack.c` has them:
 * a new zone starts afresh, one zone adds its bits up, a packet the zone translated is looked up
 * by its reverse tuple and not translated again, and a commit whose reply tuple is taken moves the
 * source port (or, without ports, commits nothing).
 */
import { describe, expect, it } from "vitest";
import { CT, W } from "../../src/flow/index.js";
import { Conntrack } from "../../src/dataplane/index.js";
import { ip, tcpKey } from "./build.js";

const A = ip(10, 0, 0, 1);
const C = ip(10, 9, 9, 9);
const VIP = ip(10, 96, 0, 1);
const udp = (s: number, d: number, sp: number, dp: number): Uint32Array => tcpKey(s, d, sp, dp, 17);
/** A key's source port, destination port. */
const ports = (k: Uint32Array): [number, number] => [k[W.TP]! >>> 16, k[W.TP]! & 0xffff];
const dnatToA = { kind: "dnat" as const, range: { ipMin: [A], portMin: 8080 } };

describe("Conntrack with the datapath's state and the all-zero SNAT", () => {
  it("a commit back in the zone that DNATed the packet finds the load balancer's connection through the state, and moves no port", () => {
    const ct = new Conntrack({ zeroSnat: true });
    const k = udp(C, VIP, 5000, 80);
    expect(ct.execute(k, { zone: 1, commit: true, nat: dnatToA }).state).toBe(CT.TRK | CT.NEW | CT.DNAT);
    const md = k[W.CT_STATE_ZONE]!;
    // Looked up by its reverse tuple, the load balancer's reply direction: its own direction, no
    // new connection, nothing translated again, and the zone's bits kept.
    ct.md = md;
    const out = ct.execute(k, { zone: 1, commit: true });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.DNAT);
    expect(out.committed).toBe(false);
    expect(ct.size).toBe(1);
    expect(ports(k)).toEqual([5000, 8080]);
    // `md` is read once: the next call starts without it.
    expect(ct.md).toBe(0);
  });

  it("without the state, the same commit finds the reply tuple taken and moves the source port; the connection keeps the move", () => {
    const ct = new Conntrack({ zeroSnat: true });
    ct.execute(udp(C, VIP, 5000, 80), { zone: 1, commit: true, nat: dnatToA });
    const k = udp(C, A, 5000, 8080);
    const out = ct.execute(k, { zone: 1, commit: true });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.SNAT);
    expect(out.nat).toBe("snat");
    expect(ct.size).toBe(2);
    expect(ports(k)).toEqual([5001, 8080]);
    // A later packet of it through a `ct` with NAT gets the moved port; the answer gets its own back.
    const again = udp(C, A, 5000, 8080);
    expect(ct.execute(again, { zone: 1, commit: false, nat: { kind: "restore" } }).state).toBe(CT.TRK | CT.NEW | CT.SNAT);
    expect(ports(again)).toEqual([5001, 8080]);
    const reply = udp(A, C, 8080, 5001);
    const r = ct.execute(reply, { zone: 1, commit: false, nat: { kind: "restore" } });
    expect(r.state).toBe(CT.TRK | CT.EST | CT.RPL | CT.DNAT);
    expect(ports(reply)).toEqual([8080, 5000]);
    // Without zeroSnat a plain commit binds nothing: the port stays.
    const plain = new Conntrack();
    plain.execute(udp(C, VIP, 5000, 80), { zone: 1, commit: true, nat: dnatToA });
    const p = udp(C, A, 5000, 8080);
    expect(plain.execute(p, { zone: 1, commit: true }).state).toBe(CT.TRK | CT.NEW);
    expect(ports(p)).toEqual([5000, 8080]);
  });

  it("a plain commit whose reply tuple is free binds the packet's own tuple: counted as translated, nothing moved", () => {
    const ct = new Conntrack({ zeroSnat: true });
    const k = tcpKey(C, A, 4000, 80);
    const out = ct.execute(k, { zone: 3, commit: true });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.SNAT);
    expect(out.nat).toBeUndefined();
    expect(ports(k)).toEqual([4000, 80]);
    const reply = tcpKey(A, C, 80, 4000);
    expect(ct.execute(reply, { zone: 3, commit: false, nat: { kind: "restore" } }).state).toBe(CT.TRK | CT.EST | CT.RPL | CT.DNAT);
    expect([reply[W.NW_DST], ...ports(reply)]).toEqual([C, 80, 4000]);
  });

  it("of a protocol without ports, a plain commit whose reply tuple is taken commits nothing", () => {
    const ct = new Conntrack({ zeroSnat: true });
    const gre = (s: number, d: number): Uint32Array => tcpKey(s, d, 0, 0, 47);
    ct.execute(gre(C, VIP), { zone: 1, commit: true, nat: { kind: "dnat", range: { ipMin: [A] } } });
    const out = ct.execute(gre(C, A), { zone: 1, commit: true });
    expect(out.state).toBe(CT.TRK | CT.NEW);
    expect(out.committed).toBe(false);
    expect(ct.size).toBe(1);
    // A free reply tuple commits as usual.
    expect(ct.execute(gre(C, ip(10, 0, 0, 7)), { zone: 1, commit: true }).committed).toBe(true);
    expect(ct.size).toBe(2);
  });

  it("the state counts only in its own zone, and in it the bits add up", () => {
    const ct = new Conntrack({ zeroSnat: true });
    const first = tcpKey(C, A, 4000, 80);
    ct.execute(first, { zone: 1, commit: true });
    const md = first[W.CT_STATE_ZONE]!;
    // Zone 1 again: established, with the commit's snat kept (the reverse lookup finds the
    // connection's reply direction, which is this packet's original one).
    const same = tcpKey(C, A, 4000, 80);
    ct.md = md;
    expect(ct.execute(same, { zone: 1, commit: false }).state).toBe(CT.TRK | CT.EST | CT.SNAT);
    // Another zone starts afresh.
    const other = tcpKey(C, A, 4000, 80);
    ct.md = md;
    expect(ct.execute(other, { zone: 2, commit: false }).state).toBe(CT.TRK | CT.NEW);
  });

  it("a translated packet whose reverse tuple has no connection but whose own tuple has one starts none", () => {
    const ct = new Conntrack();
    // An SNAT connection C:4000 -> A:80 whose replies come to 192.0.2.1: nothing holds A:80 -> C:4000.
    ct.execute(tcpKey(C, A, 4000, 80), { zone: 1, commit: true, nat: { kind: "snat", range: { ipMin: [ip(192, 0, 2, 1)] } } });
    const k = tcpKey(C, A, 4000, 80);
    ct.md = (1 << 16) | CT.TRK | CT.NEW | CT.DNAT;
    const out = ct.execute(k, { zone: 1, commit: true });
    expect(out.state).toBe(CT.TRK | CT.NEW | CT.DNAT);
    expect(out.committed).toBe(false);
    expect(out.connection).toBeUndefined();
    expect(ct.size).toBe(1);
    // With neither tuple known, it is new and committed.
    const fresh = tcpKey(C, A, 4001, 80);
    ct.md = (1 << 16) | CT.TRK | CT.NEW | CT.DNAT;
    const made = ct.execute(fresh, { zone: 1, commit: true });
    expect(made.state).toBe(CT.TRK | CT.NEW);
    expect(made.committed).toBe(true);
    expect(ct.size).toBe(2);
  });
});
