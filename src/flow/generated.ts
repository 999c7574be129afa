/**
 * Frames of packets that OVN makes rather than forwards: the ICMP errors, TCP resets and ARP
 * requests that ovn-controller builds (controller/pinctrl.c) when a logical flow's `icmp4 { }`,
 * `icmp6 { }`, `tcp_reset { }`, `reject { }` or `arp { }` sends a packet up to it.
 *
 * What: `generatedFrame(src, off, len, from, to)` is the frame of the packet whose key is `to`, made
 * from the packet `src[off, off+len)` whose key is `from`, when `to` is such a made packet; else
 * undefined, and `rewriteFrame` edits the frame as usual. A made packet is told from a forwarded
 * one by its key alone, since no logical flow changes these fields of a packet it forwards:
 * - another EtherType or IP protocol than `from` (an ARP request for an IPv4 packet, an ICMP error
 *   or a Neighbor Solicitation for a TCP or UDP packet);
 * - an ICMPv6 Neighbor Solicitation (type 135) for a packet that was not one (for an ICMPv6 packet
 *   the EtherType and protocol stay the same), and a Neighbor Advertisement (136) for a solicitation;
 * - an ICMPv4 destination unreachable, time exceeded or parameter problem (types 3, 11, 12), or an
 *   ICMPv6 error (types 1 to 4), for a packet that was not an ICMP error itself;
 * - a TCP segment with RST set for one without, or for a reset, one sent back to its sender (both
 *   addresses and both ports swapped, as pinctrl's reset has them; a reset forwarded keeps its
 *   direction).
 *
 * The bytes, as pinctrl composes them and the flows' nested actions then set the key's fields:
 * - ICMP errors: the key's Ethernet and IP headers (IPv4 identifier 0 and DF; DSCP, ECN, traffic
 *   class and flow label 0, which pinctrl writes and no flow sets), the ICMP header with four zero
 *   bytes, then the packet's IP header and data: up to 576 bytes for ICMPv4 and 1280 for ICMPv6 in
 *   all, as RFC 1122 and RFC 4443 ask.
 * - TCP resets: the key's headers, data offset 5, flags RST and ACK, sequence number 0, the
 *   acknowledgement number one past the segment's sequence number, window 0.
 * - ARP requests, Neighbor Solicitations and Advertisements: the key's fields alone (`frameFromKey`;
 *   an advertisement's flags are in the key, see flow/layout.ts).
 *
 * The quoted packet is `src`'s own IP packet as it reached the flow that made the error, as pinctrl
 * quotes it: with `quote`, the key it had there, `src` is rewritten to it first (a router before
 * that flow decremented the TTL, a NAT or load balancer rewrote an address or port; and conntrack's
 * NAT of the error on its way back translates the quote, conntrack.ts `madeQuote`). Without, the
 * packet as it came into the network.
 *
 * Not on the hot path: made packets are few, and each allocates its frame.
 */
import { fillL4Checksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum } from "../packet/index.js";
import { frameFromKey } from "./frame.js";
import { rewriteFrame } from "./rewrite.js";
import { KEY_WORDS, W, field, getField, setField } from "./layout.js";

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TOS = field("nw_tos");
const F_IPV6_LABEL = field("ipv6_label");
const F_TP_SRC = field("tp_src");

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const TCP = 6;
const ICMP = 1;
const ICMPV6 = 58;
/** ICMPv6 Neighbor Solicitation and Advertisement. */
const ND_NS = 135;
const ND_NA = 136;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
/**
 * How much of the offending datagram ovn-controller's ICMPv4 and ICMPv6 errors quote at most:
 * pinctrl fills at most 576 and 1280 bytes of their frame, Ethernet header included.
 */
export const ICMP4_ROOM = 576 - 14 - 20 - 8;
export const ICMP6_ROOM = 1280 - 14 - 40 - 8;

const isIcmp4Error = (t: number): boolean => t === 3 || t === 11 || t === 12;
const isIcmp6Error = (t: number): boolean => t >= 1 && t <= 4;

/**
 * Where the IP header of the Ethernet frame `src[off, off+len)` starts, after its VLAN tags; -1
 * when the frame carries neither IPv4 nor IPv6. The EtherType is the two bytes before it.
 */
export function ipHeaderOffset(src: Uint8Array, off: number, len: number): number {
  let at = off + 12;
  while (at + 2 <= off + len) {
    const t = (src[at]! << 8) | src[at + 1]!;
    if (t === 0x8100 || t === 0x88a8) {
      at += 4;
      continue;
    }
    return t === ETH_IP || t === ETH_IPV6 ? at + 2 : -1;
  }
  return -1;
}

/**
 * The frame of the packet `to` that OVN made from `src` (see the module header), or undefined;
 * `quote` is the key of the packet it was made from, as at the action that made it.
 */
export function generatedFrame(src: Uint8Array, off: number, len: number, from: Uint32Array, to: Uint32Array, quote?: Uint32Array): Uint8Array | undefined {
  const type = getField(to, F_ETH_TYPE);
  const proto = getField(to, F_NW_PROTO);
  const ip = type === ETH_IP || type === ETH_IPV6;
  const sameKind = getField(from, F_ETH_TYPE) === type && getField(from, F_NW_PROTO) === proto;
  // An ARP reply is the request rewritten by flows; an ARP request for an IP packet is made.
  if (!ip) return getField(from, F_ETH_TYPE) === type ? undefined : frameFromKey(to);
  const l4type = getField(to, F_TP_SRC) & 0xff;
  const fromType = getField(from, F_TP_SRC) & 0xff;
  const icmpError = type === ETH_IP ? proto === ICMP && isIcmp4Error(l4type) && !(sameKind && isIcmp4Error(fromType)) : proto === ICMPV6 && isIcmp6Error(l4type) && !(sameKind && isIcmp6Error(fromType));
  const reset = proto === TCP && (to[W.TCP_FLAGS]! & TCP_RST) !== 0 && (!sameKind || (from[W.TCP_FLAGS]! & TCP_RST) === 0 || sentBack(type === ETH_IPV6, from, to));
  // A Neighbor Solicitation for an ICMPv6 packet (a ping routed to a neighbour not yet known) has
  // the packet's EtherType and protocol, but is made all the same; so is an advertisement for a
  // solicitation (`nd_na`, `nd_na_router`), never the solicitation edited.
  const nd = type === ETH_IPV6 && proto === ICMPV6 && ((l4type === ND_NS && !(sameKind && fromType === ND_NS)) || (l4type === ND_NA && sameKind && fromType === ND_NS));
  if (nd) return frameFromKey(to);
  if (!icmpError && !reset) return sameKind ? undefined : frameFromKey(to);

  const k = new Uint32Array(KEY_WORDS);
  k.set(to.subarray(0, KEY_WORDS));
  setField(k, F_NW_TOS, 0);
  setField(k, F_IPV6_LABEL, 0);
  const l3 = ipHeaderOffset(src, off, len);
  const ipLen = type === ETH_IP ? 20 : 40;
  if (reset) {
    k[W.TCP_FLAGS] = TCP_RST | TCP_ACK;
    const f = frameFromKey(k);
    const fl3 = ipHeaderOffset(f, 0, f.length);
    const hdr = fl3 + ipLen;
    // The segment's sequence number, when the packet was a TCP segment whose header is captured.
    const sl4 = l3 < 0 ? -1 : getField(from, F_NW_PROTO) !== TCP ? -1 : type === ETH_IP ? l3 + (src[l3]! & 0x0f) * 4 : l3 + 40;
    const seq = sl4 >= 0 && sl4 + 8 <= off + len ? ((src[sl4 + 4]! << 24) | (src[sl4 + 5]! << 16) | (src[sl4 + 6]! << 8) | src[sl4 + 7]!) >>> 0 : 0xffffffff;
    const ack = (seq + 1) >>> 0;
    f.fill(0, hdr + 4, hdr + 8);
    f[hdr + 8] = ack >>> 24;
    f[hdr + 9] = (ack >>> 16) & 0xff;
    f[hdr + 10] = (ack >>> 8) & 0xff;
    f[hdr + 11] = ack & 0xff;
    f[hdr + 14] = 0;
    f[hdr + 15] = 0;
    fillChecksum(f, type, TCP, fl3, 20, 16);
    return f;
  }
  // The packet's IP header and data, as it was where the error was made, as much as was captured
  // and fits.
  let q = src;
  let qOff = off;
  let qLen = len;
  if (quote !== undefined) {
    const buf = new Uint8Array(len + 16);
    const n = rewriteFrame(src, off, len, from, quote, buf);
    if (n >= 0) {
      q = buf;
      qOff = 0;
      qLen = n;
    }
  }
  const ql3 = ipHeaderOffset(q, qOff, qLen);
  let quoted = new Uint8Array(0);
  if (ql3 >= 0) {
    const total = getField(from, F_ETH_TYPE) === ETH_IPV6 ? 40 + ((q[ql3 + 4]! << 8) | q[ql3 + 5]!) : (q[ql3 + 2]! << 8) | q[ql3 + 3]!;
    quoted = q.slice(ql3, ql3 + Math.max(0, Math.min(total, qOff + qLen - ql3, type === ETH_IP ? ICMP4_ROOM : ICMP6_ROOM)));
  }
  const f = frameFromKey(k, { payload: quoted });
  const fl3 = ipHeaderOffset(f, 0, f.length);
  fillChecksum(f, type, type === ETH_IP ? ICMP : ICMPV6, fl3, f.length - fl3 - ipLen, 2);
  return f;
}

/** True when `to` goes back to where `from` came from: both addresses and both ports swapped. */
function sentBack(v6: boolean, from: Uint32Array, to: Uint32Array): boolean {
  const tp = (from[W.TP]! >>> 16) | ((from[W.TP]! & 0xffff) << 16);
  if ((tp >>> 0) !== to[W.TP]) return false;
  if (!v6) return to[W.NW_SRC] === from[W.NW_DST] && to[W.NW_DST] === from[W.NW_SRC];
  for (let i = 0; i < 4; i++) if (to[W.IPV6_SRC + i] !== from[W.IPV6_DST + i] || to[W.IPV6_DST + i] !== from[W.IPV6_SRC + i]) return false;
  return true;
}

/**
 * Recomputes the L4 checksum (at `at` in the L4 header, over `l4len` bytes) of an unfragmented
 * frame built above, whose IP header starts at `l3` and has no options or extension headers.
 */
function fillChecksum(f: Uint8Array, type: number, proto: number, l3: number, l4len: number, at: number): void {
  const v6 = type === ETH_IPV6;
  const l4 = l3 + (v6 ? 40 : 20);
  const u32 = (o: number): number => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
  let pseudo = 0;
  if (v6) pseudo = ipv6PseudoHeaderSum(f.subarray(l3 + 8, l3 + 24), f.subarray(l3 + 24, l3 + 40), proto, l4len);
  else if (proto !== ICMP) pseudo = ipv4PseudoHeaderSum(u32(l3 + 12), u32(l3 + 16), proto, l4len);
  fillL4Checksum(f, l4, l4len, at, pseudo);
}
