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
import { ICMP4_ROOM, ICMP6_ROOM, W } from "../flow/index.js";
import type { GeneratedPacket } from "../ofp/index.js";
import { isIcmpErrorType } from "./conntrack-icmp.js";

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;

/** The Ethernet header and VLAN tags of the packet `key` describes. */
export function l2Length(key: Uint32Array): number {
  return 14 + (key[W.VLAN0] !== 0 ? 4 : 0) + (key[W.VLAN1] !== 0 ? 4 : 0);
}

/**
 * The L3 length (see the module header) of a captured frame of `origlen` bytes on the wire, whose
 * network layer starts `start` bytes in and holds an IP datagram of `ipLength` bytes by its own
 * length field (-1: none), as extraction found them (flow/extract.ts `l3At`). A datagram longer
 * than the frame holds is not one OVS parses as IP: its length is then the frame's.
 */
export function frameL3Length(start: number, ipLength: number, origlen: number): number {
  if (start < 0) return 0;
  const rest = Math.max(0, origlen - start);
  return ipLength >= 0 && ipLength <= rest ? ipLength : rest;
}

/** The L3 length of an ICMP error about a datagram of L3 length `l3` (what it quotes: generated.ts). */
export function icmpErrorL3Length(v6: boolean, l3: number): number {
  return v6 ? 48 + Math.min(l3, ICMP6_ROOM) : 28 + Math.min(l3, ICMP4_ROOM);
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

const TCP_RST = 0x04;

/** Whether `key` is an ICMP error or a TCP reset, and which. */
export function answerOfKey(key: Uint32Array): Answer {
  const et = key[W.ETH_TYPE]! & 0xffff;
  if (et !== ETH_IP && et !== ETH_IPV6) return Answer.None;
  const v6 = et === ETH_IPV6;
  const proto = key[W.NW]! & 0xff;
  if (proto === (v6 ? 58 : 1)) return isIcmpErrorType(v6, (key[W.TP]! >>> 16) & 0xff) ? (v6 ? Answer.Icmp6Error : Answer.Icmp4Error) : Answer.None;
  if (proto === 6 && (key[W.TCP_FLAGS]! & TCP_RST) !== 0) return Answer.TcpReset;
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
