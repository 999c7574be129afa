/**
 * Layers: one header of any protocol as a value, the unit that the decoder produces and the
 * builder consumes.
 *
 * `LayerSpec` is a discriminated union by `kind` holding that protocol's repr; `Layer` adds where
 * the header was found (`offset` in the decoded buffer) and its tunnel nesting `depth` (0 for the
 * outer headers, 1 for headers inside the first Geneve/VXLAN, ...). `layerHeaderLen` and
 * `emitLayer` dispatch to the protocol modules, so code that walks layers never needs its own
 * switch over protocols to size or write them.
 */
import { ahHeaderLen, emitAh, type AhRepr } from "./ah.js";
import { arpHeaderLen, emitArp, type ArpRepr } from "./arp.js";
import { emitEthernet, ethernetHeaderLen, type EthernetRepr } from "./ethernet.js";
import { emitGeneve, geneveHeaderLen, type GeneveRepr } from "./geneve.js";
import { emitIcmp, icmpHeaderLen, type IcmpRepr } from "./icmp.js";
import { emitIcmpv6, icmpv6HeaderLen, type Icmpv6Repr } from "./icmpv6.js";
import { emitIpv4, ipv4HeaderLen, type Ipv4Repr } from "./ipv4.js";
import { emitIpv6, ipv6HeaderLen, type Ipv6Repr } from "./ipv6.js";
import { emitIpv6Ext, ipv6ExtHeaderLen, type Ipv6ExtRepr } from "./ipv6-ext.js";
import {
  emitNull,
  emitSll,
  emitSll2,
  nullHeaderLen,
  sll2HeaderLen,
  sllHeaderLen,
  type NullRepr,
  type Sll2Repr,
  type SllRepr,
} from "./link.js";
import { emitSctp, sctpHeaderLen, type SctpRepr } from "./sctp.js";
import { emitTcp, tcpHeaderLen, type TcpRepr } from "./tcp.js";
import { emitUdp, udpHeaderLen, type UdpRepr } from "./udp.js";
import { emitVlan, vlanHeaderLen, type VlanRepr } from "./vlan.js";
import { emitVxlan, vxlanHeaderLen, type VxlanRepr } from "./vxlan.js";

export type LayerSpec =
  | { readonly kind: "ethernet"; readonly repr: EthernetRepr }
  | { readonly kind: "vlan"; readonly repr: VlanRepr }
  | { readonly kind: "sll"; readonly repr: SllRepr }
  | { readonly kind: "sll2"; readonly repr: Sll2Repr }
  | { readonly kind: "null"; readonly repr: NullRepr }
  | { readonly kind: "arp"; readonly repr: ArpRepr }
  | { readonly kind: "ipv4"; readonly repr: Ipv4Repr }
  | { readonly kind: "ipv6"; readonly repr: Ipv6Repr }
  | { readonly kind: "ipv6-ext"; readonly repr: Ipv6ExtRepr }
  | { readonly kind: "ah"; readonly repr: AhRepr }
  | { readonly kind: "icmp"; readonly repr: IcmpRepr }
  | { readonly kind: "icmpv6"; readonly repr: Icmpv6Repr }
  | { readonly kind: "tcp"; readonly repr: TcpRepr }
  | { readonly kind: "udp"; readonly repr: UdpRepr }
  | { readonly kind: "sctp"; readonly repr: SctpRepr }
  | { readonly kind: "geneve"; readonly repr: GeneveRepr }
  | { readonly kind: "vxlan"; readonly repr: VxlanRepr };

export type LayerKind = LayerSpec["kind"];

/** A decoded layer: the header, where it starts, and its tunnel nesting depth. */
export type Layer = LayerSpec & { readonly offset: number; readonly depth: number };

/** The layer of a given kind, narrowed. */
export type LayerOf<K extends LayerKind> = Extract<Layer, { kind: K }>;

/** The first layer of `kind` at index `from` or later, narrowed to its type. */
export function findLayer<K extends LayerKind>(layers: readonly Layer[], kind: K, from = 0): LayerOf<K> | undefined {
  for (let i = from; i < layers.length; i++) {
    const l = layers[i]!;
    if (l.kind === kind) return l as LayerOf<K>;
  }
  return undefined;
}

/** Number of bytes the header of `l` occupies on the wire. */
export function layerHeaderLen(l: LayerSpec): number {
  switch (l.kind) {
    case "ethernet":
      return ethernetHeaderLen(l.repr);
    case "vlan":
      return vlanHeaderLen(l.repr);
    case "sll":
      return sllHeaderLen(l.repr);
    case "sll2":
      return sll2HeaderLen(l.repr);
    case "null":
      return nullHeaderLen(l.repr);
    case "arp":
      return arpHeaderLen(l.repr);
    case "ipv4":
      return ipv4HeaderLen(l.repr);
    case "ipv6":
      return ipv6HeaderLen(l.repr);
    case "ipv6-ext":
      return ipv6ExtHeaderLen(l.repr);
    case "ah":
      return ahHeaderLen(l.repr);
    case "icmp":
      return icmpHeaderLen(l.repr);
    case "icmpv6":
      return icmpv6HeaderLen(l.repr);
    case "tcp":
      return tcpHeaderLen(l.repr);
    case "udp":
      return udpHeaderLen(l.repr);
    case "sctp":
      return sctpHeaderLen(l.repr);
    case "geneve":
      return geneveHeaderLen(l.repr);
    case "vxlan":
      return vxlanHeaderLen(l.repr);
    default: {
      const _: never = l;
      return _;
    }
  }
}

/** Writes the header of `l` at `offset`; the caller provides `layerHeaderLen(l)` bytes. */
export function emitLayer(l: LayerSpec, bytes: Uint8Array, offset: number): void {
  switch (l.kind) {
    case "ethernet":
      return emitEthernet(l.repr, bytes, offset);
    case "vlan":
      return emitVlan(l.repr, bytes, offset);
    case "sll":
      return emitSll(l.repr, bytes, offset);
    case "sll2":
      return emitSll2(l.repr, bytes, offset);
    case "null":
      return emitNull(l.repr, bytes, offset);
    case "arp":
      return emitArp(l.repr, bytes, offset);
    case "ipv4":
      return emitIpv4(l.repr, bytes, offset);
    case "ipv6":
      return emitIpv6(l.repr, bytes, offset);
    case "ipv6-ext":
      return emitIpv6Ext(l.repr, bytes, offset);
    case "ah":
      return emitAh(l.repr, bytes, offset);
    case "icmp":
      return emitIcmp(l.repr, bytes, offset);
    case "icmpv6":
      return emitIcmpv6(l.repr, bytes, offset);
    case "tcp":
      return emitTcp(l.repr, bytes, offset);
    case "udp":
      return emitUdp(l.repr, bytes, offset);
    case "sctp":
      return emitSctp(l.repr, bytes, offset);
    case "geneve":
      return emitGeneve(l.repr, bytes, offset);
    case "vxlan":
      return emitVxlan(l.repr, bytes, offset);
    default: {
      const _: never = l;
      return _;
    }
  }
}
