/**
 * IP protocol numbers (IPv4 `protocol`, IPv6 `next header`), shared by both IP versions.
 *
 * An open set: values without a name pass through parsing and building untouched and print as
 * `ip-proto-N`.
 */

export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  EGP: 8,
  UDP: 17,
  IPV6: 41,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  RSVP: 46,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
  EIGRP: 88,
  OSPF: 89,
  ETHERIP: 97,
  PIM: 103,
  VRRP: 112,
  L2TP: 115,
  SCTP: 132,
  MOBILITY: 135,
  UDPLITE: 136,
  MPLS_IN_IP: 137,
} as const;
export type IpProto = (typeof IpProto)[keyof typeof IpProto] | number;

const IP_PROTO_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [IpProto.HOPOPT, "hop-by-hop"],
  [IpProto.ICMP, "icmp"],
  [IpProto.IGMP, "igmp"],
  [IpProto.IPIP, "ipip"],
  [IpProto.TCP, "tcp"],
  [IpProto.EGP, "egp"],
  [IpProto.UDP, "udp"],
  [IpProto.IPV6, "ipv6-in-ip"],
  [IpProto.IPV6_ROUTE, "ipv6-route"],
  [IpProto.IPV6_FRAG, "ipv6-frag"],
  [IpProto.RSVP, "rsvp"],
  [IpProto.GRE, "gre"],
  [IpProto.ESP, "esp"],
  [IpProto.AH, "ah"],
  [IpProto.ICMPV6, "icmpv6"],
  [IpProto.IPV6_NONXT, "ipv6-nonxt"],
  [IpProto.IPV6_OPTS, "ipv6-opts"],
  [IpProto.EIGRP, "eigrp"],
  [IpProto.OSPF, "ospf"],
  [IpProto.ETHERIP, "etherip"],
  [IpProto.PIM, "pim"],
  [IpProto.VRRP, "vrrp"],
  [IpProto.L2TP, "l2tp"],
  [IpProto.SCTP, "sctp"],
  [IpProto.MOBILITY, "ipv6-mobility"],
  [IpProto.UDPLITE, "udplite"],
  [IpProto.MPLS_IN_IP, "mpls-in-ip"],
]);

/** A short lowercase name (`tcp`, `gre`), or `ip-proto-N`. */
export function ipProtoName(p: number): string {
  return IP_PROTO_NAMES.get(p) ?? `ip-proto-${p}`;
}
