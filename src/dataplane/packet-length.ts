/**
 * Packet lengths, for `check_pkt_larger` (a gateway port's `gateway_mtu`).
 *
 * OVS's `check_pkt_len` compares the packet's length without its Ethernet padding
 * (odp-execute.c: the send length less `l2_pad_size`, which flow extraction sets for an IP packet
 * whose datagram is shorter than the frame). So a packet's length is its Ethernet header and VLAN
 * tags, as its key has them where the check runs, plus its L3 length: an IP datagram's own length
 * field (IPv4 total length, 40 plus the IPv6 payload length), or all that follows the Ethernet
 * header for anything else.
 *
 * A packet ovn-controller makes (pinctrl.c) has the length of what it composes: an ARP request
 * 28 bytes of ARP; a neighbour solicitation or advertisement 40 + 24 + an 8-byte address option;
 * a TCP reset an IP header and 20 bytes of TCP; an SCTP abort 12 bytes of header and a 4-byte
 * chunk; an ICMP error an IP header, 8 bytes of ICMP and as much of the offending datagram as
 * fits in 576 bytes (ICMPv4) or 1280 (ICMPv6), Ethernet header included. Flows that rewrite a
 * packet in place (an ARP reply, an echo reply) keep its length.
 */
import { W, ipHeaderOffset } from "../flow/index.js";
import type { GeneratedPacket } from "../ofp/index.js";

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;

/** The Ethernet header and VLAN tags of the packet `key` describes. */
export function l2Length(key: Uint32Array): number {
  return 14 + (key[W.VLAN0] !== 0 ? 4 : 0) + (key[W.VLAN1] !== 0 ? 4 : 0);
}

/**
 * The L3 length (see the module header) of the frame at `data[offset ..]`, `caplen` bytes of it
 * captured out of `origlen`. A datagram whose length field claims more than the frame holds is
 * not one OVS parses as IP: its length is then the frame's.
 */
export function frameL3Length(data: Uint8Array, offset: number, caplen: number, origlen: number): number {
  const l3 = ipHeaderOffset(data, offset, caplen);
  if (l3 < 0) return Math.max(0, origlen - etherHeaderLength(data, offset, caplen));
  const rest = origlen - (l3 - offset);
  const et = (data[l3 - 2]! << 8) | data[l3 - 1]!;
  if (et === ETH_IP && l3 + 4 <= offset + caplen) {
    const total = (data[l3 + 2]! << 8) | data[l3 + 3]!;
    return total <= rest ? total : rest;
  }
  if (et === ETH_IPV6 && l3 + 6 <= offset + caplen) {
    const total = 40 + ((data[l3 + 4]! << 8) | data[l3 + 5]!);
    return total <= rest ? total : rest;
  }
  return rest;
}

/** The Ethernet header and VLAN tags of a captured frame (14 when too short to tell). */
function etherHeaderLength(data: Uint8Array, offset: number, caplen: number): number {
  let at = offset + 12;
  while (at + 2 <= offset + caplen) {
    const t = (data[at]! << 8) | data[at + 1]!;
    if (t !== 0x8100 && t !== 0x88a8) break;
    at += 4;
  }
  return at + 2 - offset;
}

/** ICMP errors quote at most this much of the offending datagram (pinctrl.c, RFC 1812 and 4443). */
const ICMP4_QUOTE = 576 - 14 - 20 - 8;
const ICMP6_QUOTE = 1280 - 14 - 40 - 8;

/** The L3 length of an ICMP error about a datagram of L3 length `l3`. */
export function icmpErrorL3Length(v6: boolean, l3: number): number {
  return v6 ? 48 + Math.min(l3, ICMP6_QUOTE) : 28 + Math.min(l3, ICMP4_QUOTE);
}

/**
 * The L3 length of the packet a generating action makes from one of L3 length `l3`, whose IP
 * protocol is `proto` (`reject` answers by it) and family `v6`.
 */
export function madeL3Length(packet: GeneratedPacket | "arp_reply" | "icmp4_echo_reply" | "icmp6_echo_reply", v6: boolean, proto: number, l3: number): number {
  switch (packet) {
    case "arp":
      return 28;
    case "nd_ns":
    case "nd_na":
    case "nd_na_router":
      return 72;
    case "icmp4":
    case "icmp4_error":
      return icmpErrorL3Length(false, l3);
    case "icmp6":
    case "icmp6_error":
      return icmpErrorL3Length(true, l3);
    case "tcp_reset":
      return v6 ? 60 : 40;
    case "sctp_abort":
      return v6 ? 56 : 36;
    case "reject":
      return proto === 6 ? (v6 ? 60 : 40) : proto === 132 ? (v6 ? 56 : 36) : icmpErrorL3Length(v6, l3);
    case "arp_reply":
    case "icmp4_echo_reply":
    case "icmp6_echo_reply":
      return l3;
    default: {
      const _never: never = packet;
      return _never;
    }
  }
}

/** What a packet is, as far as telling an answer OVN made from the packet it answers goes. */
export const Answer = { None: 0, Icmp4Error: 1, Icmp6Error: 2, TcpReset: 3 } as const;
export type Answer = (typeof Answer)[keyof typeof Answer];

const ICMP4_ERRORS = new Set([3, 4, 5, 11, 12]);
const ICMP6_ERRORS = new Set([1, 2, 3, 4]);
const TCP_RST = 0x04;

/** Whether `key` is an ICMP error or a TCP reset, and which. */
export function answerOfKey(key: Uint32Array): Answer {
  const et = key[W.ETH_TYPE]! & 0xffff;
  if (et !== ETH_IP && et !== ETH_IPV6) return Answer.None;
  const proto = key[W.NW]! & 0xff;
  const type = (key[W.TP]! >>> 16) & 0xff;
  if (proto === 1 && et === ETH_IP) return ICMP4_ERRORS.has(type) ? Answer.Icmp4Error : Answer.None;
  if (proto === 58 && et === ETH_IPV6) return ICMP6_ERRORS.has(type) ? Answer.Icmp6Error : Answer.None;
  if (proto === 6 && (key[W.TCP_FLAGS]! & TCP_RST) !== 0) return Answer.TcpReset;
  return Answer.None;
}

/** `answerOfKey` for a captured frame (without IPv4 options or IPv6 extension headers in the way: None). */
export function answerOfFrame(data: Uint8Array, offset: number, caplen: number): Answer {
  const l3 = ipHeaderOffset(data, offset, caplen);
  if (l3 < 0) return Answer.None;
  const end = offset + caplen;
  const v6 = ((data[l3 - 2]! << 8) | data[l3 - 1]!) === ETH_IPV6;
  const proto = v6 ? data[l3 + 6] : data[l3 + 9];
  const l4 = v6 ? l3 + 40 : l3 + (data[l3]! & 0x0f) * 4;
  if (l4 + 14 > end || proto === undefined) return Answer.None;
  if (proto === 6) return (data[l4 + 13]! & TCP_RST) !== 0 ? Answer.TcpReset : Answer.None;
  if (proto === 1 && !v6) return ICMP4_ERRORS.has(data[l4]!) ? Answer.Icmp4Error : Answer.None;
  if (proto === 58 && v6) return ICMP6_ERRORS.has(data[l4]!) ? Answer.Icmp6Error : Answer.None;
  return Answer.None;
}

/**
 * The L3 length of packet `key` while a packet whose frame has L3 length `l3` and is an answer of
 * kind `frame` is replayed, once OVN has made an answer to it (`made`): an ICMP error or a reset
 * that the frame is not is that answer, with the length ovn-controller composed it with; anything
 * else is the frame's own packet.
 */
export function replayedL3Length(key: Uint32Array, l3: number, frame: Answer, made: boolean): number {
  if (!made) return l3;
  const a = answerOfKey(key);
  if (a === Answer.None || a === frame) return l3;
  if (a === Answer.TcpReset) return (key[W.ETH_TYPE]! & 0xffff) === ETH_IPV6 ? 60 : 40;
  return icmpErrorL3Length(a === Answer.Icmp6Error, l3);
}
