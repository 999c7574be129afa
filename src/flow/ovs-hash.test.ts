/**
 * OVS's flow hashes against a twin that reads the frame itself: the header bytes, in network
 * order, taken four at a time as little-endian words (what OVS does on x86 with `struct flow`),
 * hashed with the same word hash. The key-based functions byte-swap the key's numbers instead;
 * both must agree on every packet. Then the properties the select groups rely on.
 */
import { describe, expect, it } from "vitest";
import { hashAdd, hashFinish } from "../base/index.js";
import { frameFromKey } from "./frame.js";
import { FRAG, W, field, newKey, setField } from "./layout.js";
import { bswap16, bswap32, flowHash5Tuple, flowHashSymmetricL3L4, flowHashSymmetricL4, hashInt, jhashBytes } from "./ovs-hash.js";

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** An Ethernet/IPv4 or IPv6 key with random addresses, protocol and ports. */
function randomKey(r: () => number, v6: boolean, proto: number): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), v6 ? 0x86dd : 0x0800);
  k[W.ETH_SRC] = r() & 0xffff;
  k[W.ETH_SRC + 1] = r();
  k[W.ETH_DST] = r() & 0xffff;
  k[W.ETH_DST + 1] = r();
  setField(k, field("nw_proto"), proto);
  setField(k, field("nw_ttl"), 64);
  if (v6) for (let i = 0; i < 4; i++) [k[W.IPV6_SRC + i], k[W.IPV6_DST + i]] = [r(), r()];
  else [k[W.NW_SRC], k[W.NW_DST]] = [r(), r()];
  setField(k, field("tp_src"), r() & 0xffff);
  setField(k, field("tp_dst"), r() & 0xffff);
  return k;
}

const le = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

/** Where a frame's addresses start, its protocol, and where its transport header starts. */
function headers(f: Uint8Array): { v6: boolean; addrs: number; proto: number; l4: number } {
  const v6 = ((f[12]! << 8) | f[13]!) === 0x86dd;
  return v6 ? { v6, addrs: 22, proto: f[20]!, l4: 54 } : { v6, addrs: 26, proto: f[23]!, l4: 14 + (f[14]! & 15) * 4 };
}

/** `flow_hash_5tuple` from the frame's bytes. */
function twin5Tuple(f: Uint8Array): number {
  const { v6, addrs, proto, l4 } = headers(f);
  let h = 0;
  for (let at = addrs; at < addrs + (v6 ? 32 : 8); at += 4) h = hashAdd(h, le(f, at));
  h = hashAdd(h, proto);
  if ([1, 6, 17, 58, 132].includes(proto)) {
    // ICMP's type and code are OVS's ports: one byte each, in the high byte of a 16-bit port.
    const ports = proto === 1 || proto === 58 ? f[l4]! << 8 | (f[l4 + 1]! << 24) : le(f, l4);
    h = hashAdd(h, ports);
  }
  return hashFinish(h, 42);
}

/** `flow_hash_symmetric_l3l4(flow, 0, false)` from the frame's bytes. */
function twinSymmetric(f: Uint8Array): number {
  const { v6, addrs, proto, l4 } = headers(f);
  const len = v6 ? 16 : 4;
  let h = 0;
  for (let at = addrs; at < addrs + len; at += 4) h = hashAdd(h, le(f, at) ^ le(f, at + len));
  h = hashAdd(h, proto);
  if (proto === 6 || proto === 132) h = hashAdd(h, (f[l4]! ^ f[l4 + 2]!) | ((f[l4 + 1]! ^ f[l4 + 3]!) << 8));
  return hashFinish(h, 0);
}

/** `flow_hash_symmetric_l4(flow, 0)` from the frame's bytes: its field struct, then lookup3. */
function twinSymmetricL4(f: Uint8Array): number {
  const { v6, addrs, proto, l4 } = headers(f);
  const s = new Uint8Array(32);
  const len = v6 ? 16 : 4;
  for (let i = 0; i < len; i++) s[i] = f[addrs + i]! ^ f[addrs + len + i]!;
  s[16] = f[12]!;
  s[17] = f[13]!;
  if (proto === 6 || proto === 132) for (let i = 0; i < 2; i++) s[20 + i] = f[l4 + i]! ^ f[l4 + 2 + i]!;
  for (let i = 0; i < 6; i++) s[22 + i] = f[i]! ^ f[6 + i]!;
  s[28] = proto;
  return jhashBytes(s, 0);
}

describe("OVS's flow hashes", () => {
  it("jhash_bytes is lookup3's hashlittle (its published values)", () => {
    const text = new TextEncoder().encode("Four score and seven years ago");
    expect(jhashBytes(new Uint8Array(0), 0)).toBe(0xdeadbeef);
    expect(jhashBytes(text, 0)).toBe(0x17770551);
    expect(jhashBytes(text, 1)).toBe(0xcd628161);
  });

  it("flow_hash_symmetric_l4 agrees with the frame's bytes, both ways, and leaves UDP ports out", () => {
    const r = rng(0xab);
    for (let i = 0; i < 1000; i++) {
      const v6 = i % 2 === 1;
      const proto = [6, 17, 132][(i >> 1) % 3]!;
      const k = randomKey(r, v6, proto);
      const f = frameFromKey(k, { payload: new Uint8Array(8) });
      expect(flowHashSymmetricL4(k, 0), `packet ${i}`).toBe(twinSymmetricL4(f));
      const back = k.slice();
      [back[W.NW_SRC], back[W.NW_DST]] = [k[W.NW_DST]!, k[W.NW_SRC]!];
      for (let j = 0; j < 4; j++) [back[W.IPV6_SRC + j], back[W.IPV6_DST + j]] = [k[W.IPV6_DST + j]!, k[W.IPV6_SRC + j]!];
      [back[W.ETH_SRC], back[W.ETH_DST], back[W.ETH_SRC + 1], back[W.ETH_DST + 1]] = [k[W.ETH_DST]!, k[W.ETH_SRC]!, k[W.ETH_DST + 1]!, k[W.ETH_SRC + 1]!];
      back[W.TP] = ((k[W.TP]! << 16) | (k[W.TP]! >>> 16)) >>> 0;
      expect(flowHashSymmetricL4(back, 0)).toBe(flowHashSymmetricL4(k, 0));
      const ports = k.slice();
      ports[W.TP] = r();
      if (proto === 17) expect(flowHashSymmetricL4(ports, 0)).toBe(flowHashSymmetricL4(k, 0));
      else expect(flowHashSymmetricL4(ports, 0)).not.toBe(flowHashSymmetricL4(k, 0));
    }
  });

  it("swap bytes", () => {
    expect(bswap32(0x0a01000b) >>> 0).toBe(0x0b00010a);
    expect(bswap32(0xff000001) >>> 0).toBe(0x010000ff);
    expect(bswap16(0x1f90)).toBe(0x901f);
  });

  it("hash_int is hash_2words: the word, a zero, then the basis, finished over 8 bytes", () => {
    expect(hashInt(12345, 0)).toBe(hashFinish(hashAdd(hashAdd(12345, 0), 0), 8));
    expect(hashInt(1, 7)).not.toBe(hashInt(1, 0));
  });

  it("agree with the frame's bytes read as OVS reads struct flow (TCP, UDP, SCTP, ICMP; IPv4 and IPv6)", () => {
    const r = rng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const v6 = i % 2 === 1;
      const proto = [6, 17, 132, v6 ? 58 : 1][(i >> 1) % 4]!;
      const k = randomKey(r, v6, proto);
      if (proto === 1 || proto === 58) {
        setField(k, field("tp_src"), r() & 0xff);
        setField(k, field("tp_dst"), r() & 0xff);
      }
      const f = frameFromKey(k, { payload: new Uint8Array(8) });
      expect(flowHash5Tuple(k, 0), `packet ${i}`).toBe(twin5Tuple(f));
      expect(flowHashSymmetricL3L4(k, 0), `packet ${i}`).toBe(twinSymmetric(f));
    }
  });

  it("the symmetric hash is the same both ways, leaves UDP ports and a fragment's ports out", () => {
    const r = rng(7);
    const reverse = (k: Uint32Array): Uint32Array => {
      const b = k.slice();
      [b[W.NW_SRC], b[W.NW_DST]] = [k[W.NW_DST]!, k[W.NW_SRC]!];
      for (let i = 0; i < 4; i++) [b[W.IPV6_SRC + i], b[W.IPV6_DST + i]] = [k[W.IPV6_DST + i]!, k[W.IPV6_SRC + i]!];
      b[W.TP] = ((k[W.TP]! << 16) | (k[W.TP]! >>> 16)) >>> 0;
      return b;
    };
    for (let i = 0; i < 200; i++) {
      const tcp = randomKey(r, i % 2 === 0, i % 3 === 0 ? 132 : 6);
      expect(flowHashSymmetricL3L4(reverse(tcp), 0)).toBe(flowHashSymmetricL3L4(tcp, 0));
      const other = tcp.slice();
      setField(other, field("tp_src"), (tcp[W.TP]! >>> 16) ^ 1);
      expect(flowHashSymmetricL3L4(other, 0)).not.toBe(flowHashSymmetricL3L4(tcp, 0));
      // A fragment carries no ports in the hash.
      setField(other, field("nw_frag"), FRAG.ANY);
      const frag = tcp.slice();
      setField(frag, field("nw_frag"), FRAG.ANY);
      expect(flowHashSymmetricL3L4(other, 0)).toBe(flowHashSymmetricL3L4(frag, 0));
      const udp = randomKey(r, i % 2 === 0, 17);
      const udp2 = udp.slice();
      udp2[W.TP] = r();
      expect(flowHashSymmetricL3L4(udp2, 0)).toBe(flowHashSymmetricL3L4(udp, 0));
      // The 5-tuple hash takes UDP ports.
      expect(flowHash5Tuple(udp2, 0)).not.toBe(flowHash5Tuple(udp, 0));
    }
  });

  it("hash a frame that is not IP by its basis alone (5-tuple) or its Ethernet addresses (symmetric)", () => {
    const a = newKey();
    setField(a, field("eth_type"), 0x88cc);
    a[W.ETH_SRC + 1] = 1;
    a[W.ETH_DST + 1] = 2;
    const b = a.slice();
    b[W.ETH_SRC + 1] = 2;
    b[W.ETH_DST + 1] = 1;
    const c = a.slice();
    c[W.ETH_DST + 1] = 3;
    expect(flowHash5Tuple(c, 0)).toBe(flowHash5Tuple(a, 0));
    expect(flowHash5Tuple(a, 0)).toBe(hashFinish(0, 42));
    expect(flowHashSymmetricL3L4(b, 0)).toBe(flowHashSymmetricL3L4(a, 0));
    expect(flowHashSymmetricL3L4(c, 0)).not.toBe(flowHashSymmetricL3L4(a, 0));
  });
});
