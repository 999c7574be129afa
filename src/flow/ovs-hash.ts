/**
 * OVS's flow hashes, bit for bit, on a flow key: the ones that decide which bucket of a select
 * group a packet takes, so that `replay` sends each packet to the next hop or load-balancer
 * backend that OVS 3.1's userspace datapath would.
 *
 * - `flowHash5Tuple` is `flow_hash_5tuple` (lib/flow.c), equal to `miniflow_hash_5tuple`: what
 *   dpif-netdev stores as a packet's RSS hash when it first meets the packet (received, or just
 *   out of a tunnel), and what the `dp_hash` action with the L4 algorithm hashes again.
 * - `flowHashSymmetricL3L4` is `flow_hash_symmetric_l3l4` with UDP ports left out: the `dp_hash`
 *   action with the symmetric L4 algorithm, computed from the packet as it is at that action.
 * - `flowHashSymmetricL4` is `flow_hash_symmetric_l4`: the default select method's hash, which
 *   OVS falls back to for a group whose `dp_hash` table would need more than 256 slots.
 * - `hashInt` is `hash_int` (lib/hash.h).
 *
 * OVS reads these fields as they lie in `struct flow`, in network byte order, as 32-bit (or
 * 64-bit) words of a little-endian machine; the key holds them as numbers, so each is byte-swapped
 * first. The word hash is OVS's portable one (murmur3's steps, `hash_add` / `hash_finish`), the
 * one a build without SSE 4.2 uses, as Debian's OVS packages are built; a build with SSE 4.2 uses
 * CRC32 instead and picks other buckets.
 */
import { hashAdd, hashFinish } from "../base/index.js";
import { W } from "./layout.js";

const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const ETH_IPV6 = 0x86dd;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;

/** The 32 bits of `x` in the other byte order. */
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** The 16 bits of `x` in the other byte order. */
export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** OVS's `hash_int(x, basis)`: `hash_2words`. */
export function hashInt(x: number, basis: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), basis), 8);
}

/**
 * `flow_hash_5tuple(flow, basis)`: IPv6 addresses, or IPv4 (and ARP) addresses; then the protocol,
 * and both ports (ICMP type and code) for TCP, UDP, SCTP, ICMP and ICMPv6. Other frames hash to the
 * basis alone.
 */
export function flowHash5Tuple(key: Uint32Array, basis: number): number {
  let h = basis | 0;
  const type = key[W.ETH_TYPE]! & 0xffff;
  if (type === ETH_IPV6) {
    for (let i = 0; i < 4; i++) h = hashAdd(h, bswap32(key[W.IPV6_SRC + i]!));
    for (let i = 0; i < 4; i++) h = hashAdd(h, bswap32(key[W.IPV6_DST + i]!));
  } else if (type === ETH_IP || type === ETH_ARP) {
    h = hashAdd(h, bswap32(key[W.NW_SRC]!));
    h = hashAdd(h, bswap32(key[W.NW_DST]!));
  } else return hashFinish(h, 42);
  const proto = key[W.NW]! & 0xff;
  h = hashAdd(h, proto);
  if (proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP || proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    // tp_src then tp_dst, big-endian each, read as one little-endian word.
    h = hashAdd(h, bswap32(key[W.TP]!));
  }
  return hashFinish(h, 42);
}

/**
 * `flow_hash_symmetric_l3l4(flow, basis, false)`: the same for both directions of a connection.
 * The XOR of the two addresses, the protocol, and for TCP and SCTP (not UDP) the XOR of the two
 * ports, unless the packet is a fragment. A frame that is not IP hashes its Ethernet addresses,
 * VLAN IDs and EtherType (`flow_hash_symmetric_l2`).
 */
export function flowHashSymmetricL3L4(key: Uint32Array, basis: number): number {
  let h = basis | 0;
  const type = key[W.ETH_TYPE]! & 0xffff;
  if (type === ETH_IP) h = hashAdd(h, bswap32(key[W.NW_SRC]! ^ key[W.NW_DST]!));
  else if (type === ETH_IPV6) {
    for (let i = 0; i < 4; i++) h = hashAdd(h, bswap32(key[W.IPV6_SRC + i]! ^ key[W.IPV6_DST + i]!));
  } else return flowHashSymmetricL2(key, basis);
  const nw = key[W.NW]!;
  const proto = nw & 0xff;
  h = hashAdd(h, proto);
  const fragment = (nw >>> 24) & 3;
  if (fragment === 0 && (proto === PROTO_TCP || proto === PROTO_SCTP)) {
    const tp = key[W.TP]!;
    h = hashAdd(h, bswap16((tp >>> 16) ^ (tp & 0xffff)));
  }
  return hashFinish(h, basis);
}

/** `flow_hash_symmetric_l2`: EtherType and the XOR of the VLAN IDs, then the XOR of the MACs. */
function flowHashSymmetricL2(key: Uint32Array, basis: number): number {
  const type = key[W.ETH_TYPE]! & 0xffff;
  const vid = (key[W.VLAN0]! ^ key[W.VLAN1]!) & 0x0fff;
  const hi = (key[W.ETH_SRC]! ^ key[W.ETH_DST]!) & 0xffff;
  const lo = key[W.ETH_SRC + 1]! ^ key[W.ETH_DST + 1]!;
  let h = basis | 0;
  h = hashAdd(h, bswap16(type) | (bswap16(vid) << 16));
  h = hashAdd(h, bswap16(hi) | (bswap16(lo >>> 16) << 16));
  h = hashAdd(h, bswap16(lo & 0xffff));
  return hashFinish(h, basis);
}

/** The 32 bytes of `flow_hash_symmetric_l4`'s field struct (reused: the hash allocates nothing). */
const symL4 = new Uint8Array(32);

/**
 * `flow_hash_symmetric_l4(flow, basis)`: Bob Jenkins' lookup3 (`jhash_bytes`) over a 32-byte
 * struct, zeroed first, as it lies in memory on a little-endian machine: the XOR of the two IPv4
 * or IPv6 addresses (bytes 0-15), the EtherType (16), the XOR of the VLAN IDs (18), for TCP and
 * SCTP the XOR of the two ports (20), the XOR of the two MACs (22) and the IP protocol (28). UDP
 * ports are left out, as are, for a frame that is not IP, the addresses and protocol.
 */
export function flowHashSymmetricL4(key: Uint32Array, basis: number): number {
  const b = symL4;
  b.fill(0);
  const type = key[W.ETH_TYPE]! & 0xffff;
  const put32 = (at: number, x: number): void => {
    b[at] = x >>> 24;
    b[at + 1] = (x >>> 16) & 0xff;
    b[at + 2] = (x >>> 8) & 0xff;
    b[at + 3] = x & 0xff;
  };
  const put16 = (at: number, x: number): void => {
    b[at] = (x >>> 8) & 0xff;
    b[at + 1] = x & 0xff;
  };
  let ip = false;
  if (type === ETH_IP) {
    put32(0, key[W.NW_SRC]! ^ key[W.NW_DST]!);
    ip = true;
  } else if (type === ETH_IPV6) {
    for (let i = 0; i < 4; i++) put32(4 * i, key[W.IPV6_SRC + i]! ^ key[W.IPV6_DST + i]!);
    ip = true;
  }
  put16(16, type);
  put16(18, (key[W.VLAN0]! ^ key[W.VLAN1]!) & 0x0fff);
  if (ip) {
    const proto = key[W.NW]! & 0xff;
    b[28] = proto;
    if (proto === PROTO_TCP || proto === PROTO_SCTP) {
      const tp = key[W.TP]!;
      put16(20, (tp >>> 16) ^ (tp & 0xffff));
    }
  }
  put16(22, (key[W.ETH_SRC]! ^ key[W.ETH_DST]!) & 0xffff);
  put32(24, key[W.ETH_SRC + 1]! ^ key[W.ETH_DST + 1]!);
  return jhashBytes(b, basis);
}

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
const le32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** `jhash_bytes(p, n, basis)` (lib/jhash.c, lookup3) over all of `bytes`, read as little-endian words. */
export function jhashBytes(bytes: Uint8Array, basis: number): number {
  let n = bytes.length;
  let a = (0xdeadbeef + n + basis) >>> 0;
  let b = a;
  let c = a;
  let at = 0;
  while (n >= 12) {
    a = (a + le32(bytes, at)) >>> 0;
    b = (b + le32(bytes, at + 4)) >>> 0;
    c = (c + le32(bytes, at + 8)) >>> 0;
    // jhash_mix
    a = ((a - c) ^ rot(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = ((b - a) ^ rot(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = ((c - b) ^ rot(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = ((a - c) ^ rot(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = ((b - a) ^ rot(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = ((c - b) ^ rot(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    n -= 12;
    at += 12;
  }
  if (n > 0) {
    // The tail, zero-padded to three words.
    const w = (i: number): number => {
      let x = 0;
      for (let j = 0; j < 4; j++) if (i + j < bytes.length) x |= bytes[i + j]! << (8 * j);
      return x >>> 0;
    };
    a = (a + w(at)) >>> 0;
    b = (b + w(at + 4)) >>> 0;
    c = (c + w(at + 8)) >>> 0;
    // jhash_final
    c = ((c ^ b) - rot(b, 14)) >>> 0;
    a = ((a ^ c) - rot(c, 11)) >>> 0;
    b = ((b ^ a) - rot(a, 25)) >>> 0;
    c = ((c ^ b) - rot(b, 16)) >>> 0;
    a = ((a ^ c) - rot(c, 4)) >>> 0;
    b = ((b ^ a) - rot(a, 14)) >>> 0;
    c = ((c ^ b) - rot(b, 24)) >>> 0;
  }
  return c;
}
