/**
 * Frames from flow keys: the inverse of key extraction.
 *
 * What: `frameFromKey` writes a complete Ethernet frame whose headers carry the packet fields of a
 * key (L2, L3, L4), with correct lengths and checksums, so that `extractKey` on the frame gives
 * back the same packet fields. It is how a packet that only exists as a key goes onto a wire: into
 * a pcap, or to the next chassis, which re-extracts its key from the bytes.
 *
 * What goes into the frame, field by field (the shared storage is layout.ts's):
 * - Ethernet: `eth_dst`, `eth_src`, then up to two VLAN tags, then `eth_type`. A tag is written
 *   when its TCI has the CFI bit (0x1000) set, the "present" marker extraction uses; the tag on the
 *   wire carries PCP and VID with DEI clear. `vlan_tpid` gives the TPID when it is 0x8100 or 0x88a8
 *   and 0x8100 otherwise. `vlan1_*` is the inner tag and is written only under an outer one.
 * - ARP and RARP (0x0806, 0x8035): Ethernet/IPv4 ARP with the opcode from `nw_proto`, SPA/TPA from
 *   `nw_src`/`nw_dst` and SHA/THA from `arp_sha`/`arp_tha`.
 * - IPv4: `nw_src`, `nw_dst`, `nw_proto`, `nw_tos` (the whole DSCP/ECN byte), `nw_ttl`, identifier
 *   0. An unfragmented packet has DF set. `nw_frag` ANY alone gives a first fragment (MF, offset
 *   0); with LATER, a later fragment (offset 1480 bytes, MF clear) that carries no L4 header.
 * - IPv6: `ipv6_src`, `ipv6_dst`, `ipv6_label`, `nw_tos` as the traffic class, `nw_ttl` as the
 *   hop limit and `nw_proto` as the next header. No extension headers, except a fragment header
 *   when `nw_frag` is set (the same first/later rule as IPv4), since nothing else can carry it.
 * - L4, unless the packet is a later fragment: TCP (`tp_src`, `tp_dst`, `tcp_flags` including the
 *   three reserved bits, data offset 5, window 64240, sequence numbers 0), UDP, SCTP (verification
 *   tag 0), ICMPv4 over IPv4 (type and code from the low 8 bits of `tp_src`/`tp_dst`, the other four
 *   bytes 0) and ICMPv6 over IPv6 (the same, plus for a Neighbor Solicitation or Advertisement with
 *   code 0 the `nd_target` and a source and a target link-layer address option from `arp_sha` and
 *   `arp_tha` when they are not zero). A Router Advertisement, and an NS or NA with another code,
 *   gets a zeroed fixed body so that it has the length its type calls for; other ICMPv6 bodies
 *   (echo data, an error's quoted packet, MLD, Redirect) are the payload's to supply.
 * - `opts.payload` after the innermost header written. After an ND message (RS, RA, NS, NA) the
 *   payload is its options area, and receivers read it as further options, link-layer addresses
 *   included. A later fragment carries only the payload (tshark calls an IPv6 fragment without
 *   data malformed). Any other EtherType gets the Ethernet header (and tags) and the payload; an
 *   `eth_type` below 0x600 is written as an 802.3 length field giving the payload length (at most
 *   1500), which extraction reads back as 0x05ff.
 *
 * Left out, because a frame cannot carry them or the key does not describe them: all metadata,
 * registers, conntrack and tunnel words (encapsulation is `packet/build.ts`'s job); a VLAN TCI
 * without the CFI bit; the DEI bit of a tag; an inner tag without an outer one; L4 fields of
 * protocols other than those above (including ICMPv4 over IPv6 and ICMPv6 over IPv4) and of later
 * fragments; ND fields of messages other than NS/NA with code 0; ICMP type or code bits above the
 * low 8. Payloads too long for a length field give that field the value 0, as `buildFrame` does.
 *
 * Never throws: every key, however odd, gives some frame. Not on the hot path (it allocates).
 */
import {
  arpRepr,
  buildFrame,
  EtherType,
  Icmpv6Type,
  IpProto,
  ipv4Repr,
  ipv6Repr,
  ndLinkLayerOption,
  tcpRepr,
  udpRepr,
  type Icmpv6Repr,
  type LayerSpec,
  type NdOption,
} from "../packet/index.js";
import { FRAG, KEY_WORDS, field, getField, type FieldDef } from "./layout.js";

export interface FrameOptions {
  /** Bytes after the innermost header (default: none). */
  readonly payload?: Uint8Array;
}

const F_ETH_DST = field("eth_dst");
const F_ETH_SRC = field("eth_src");
const F_VLAN_TCI = field("vlan_tci");
const F_VLAN_TPID = field("vlan_tpid");
const F_VLAN1_TCI = field("vlan1_tci");
const F_VLAN1_TPID = field("vlan1_tpid");
const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TOS = field("nw_tos");
const F_NW_TTL = field("nw_ttl");
const F_NW_FRAG = field("nw_frag");
const F_NW_SRC = field("nw_src");
const F_NW_DST = field("nw_dst");
const F_IPV6_SRC = field("ipv6_src");
const F_IPV6_DST = field("ipv6_dst");
const F_IPV6_LABEL = field("ipv6_label");
const F_ND_TARGET = field("nd_target");
const F_ND_RESERVED = field("nd_reserved");
const F_ARP_SHA = field("arp_sha");
const F_ARP_THA = field("arp_tha");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_TCP_FLAGS = field("tcp_flags");

/** The CFI bit of a TCI in the key: set when the tag is present. */
const VLAN_PRESENT = 0x1000;
/** TCP window of built segments (a common Linux initial window). */
const TCP_WINDOW = 64240;
/** Offset of a later fragment, in 8-byte units (1480 bytes: one full Ethernet-MTU fragment). */
const LATER_FRAG_OFFSET = 185;
/** Largest value of an 802.3 length field. */
const MAX_8023_LENGTH = 1500;

const EMPTY = new Uint8Array(0);

/** A wide field (MAC, IPv6 address) as its `width / 8` bytes in network order. */
function wideBytes(key: Uint32Array, d: FieldDef): Uint8Array {
  const all = new Uint8Array(d.nwords * 4);
  for (let i = 0; i < d.nwords; i++) {
    const w = key[d.word + i]!;
    all[4 * i] = w >>> 24;
    all[4 * i + 1] = (w >>> 16) & 0xff;
    all[4 * i + 2] = (w >>> 8) & 0xff;
    all[4 * i + 3] = w & 0xff;
  }
  return all.subarray(all.length - d.width / 8);
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/** A TPID the key can say a tag had; anything else is written as 0x8100. */
function tpidOf(v: number): number {
  return v === EtherType.QINQ ? EtherType.QINQ : EtherType.VLAN;
}

/** The tags of the key, outermost first, as (TPID, TCI without the present bit) pairs. */
function vlanTags(key: Uint32Array): { tpid: number; tci: number }[] {
  const tags: { tpid: number; tci: number }[] = [];
  const tci0 = getField(key, F_VLAN_TCI);
  if ((tci0 & VLAN_PRESENT) === 0) return tags;
  tags.push({ tpid: tpidOf(getField(key, F_VLAN_TPID)), tci: tci0 & ~VLAN_PRESENT });
  const tci1 = getField(key, F_VLAN1_TCI);
  if ((tci1 & VLAN_PRESENT) !== 0) tags.push({ tpid: tpidOf(getField(key, F_VLAN1_TPID)), tci: tci1 & ~VLAN_PRESENT });
  return tags;
}

/** The L2 layers: Ethernet and its tags, the last naming `type`. */
function l2Layers(key: Uint32Array, type: number): LayerSpec[] {
  const tags = vlanTags(key);
  const layers: LayerSpec[] = [
    { kind: "ethernet", repr: { dst: wideBytes(key, F_ETH_DST), src: wideBytes(key, F_ETH_SRC), etherType: tags.length > 0 ? tags[0]!.tpid : type } },
  ];
  tags.forEach((t, i) => {
    const next = i + 1 < tags.length ? tags[i + 1]!.tpid : type;
    layers.push({ kind: "vlan", repr: { pcp: t.tci >>> 13, dei: false, vid: t.tci & 0x0fff, etherType: next } });
  });
  return layers;
}

/** The L4 header for `proto`, or undefined when the key describes none (see the module comment). */
function l4Layer(key: Uint32Array, proto: number, v6: boolean): LayerSpec | undefined {
  const sport = getField(key, F_TP_SRC);
  const dport = getField(key, F_TP_DST);
  switch (proto) {
    case IpProto.TCP: {
      const flags = getField(key, F_TCP_FLAGS);
      return { kind: "tcp", repr: tcpRepr(sport, dport, flags & 0x1ff, { reserved: (flags >>> 9) & 7, window: TCP_WINDOW }) };
    }
    case IpProto.UDP:
      return { kind: "udp", repr: udpRepr(sport, dport) };
    case IpProto.SCTP:
      return { kind: "sctp", repr: { srcPort: sport, dstPort: dport, verificationTag: 0, checksum: 0 } };
    case IpProto.ICMP: {
      // "Fragmentation needed" carries the next hop's MTU in the rest of its header, which the
      // key keeps in the TCP flags' word (dataplane/execute.ts, `icmp4.frag_mtu`).
      const type = sport & 0xff;
      const code = dport & 0xff;
      return v6 ? undefined : { kind: "icmp", repr: { type, code, checksum: 0, rest: type === 3 && code === 4 ? getField(key, F_ND_RESERVED) & 0xffff : 0 } };
    }
    case IpProto.ICMPV6:
      return v6 ? { kind: "icmpv6", repr: icmpv6Repr(key, sport & 0xff, dport & 0xff) } : undefined;
    default:
      return undefined;
  }
}

function icmpv6Repr(key: Uint32Array, type: number, code: number): Icmpv6Repr {
  const base = { type, code, checksum: 0, rest: 0 };
  if (type === Icmpv6Type.NEIGHBOR_SOLICIT || type === Icmpv6Type.NEIGHBOR_ADVERT) {
    // With a code other than 0 the message is invalid and the key holds no ND fields for it;
    // it still gets a (zero) target, so that it has the length of its type.
    if (code !== 0) return { ...base, nd: { target: new Uint8Array(16), options: [] } };
    const options: NdOption[] = [];
    const sll = wideBytes(key, F_ARP_SHA);
    const tll = wideBytes(key, F_ARP_THA);
    if (!isZero(sll)) options.push(ndLinkLayerOption(1, sll));
    if (!isZero(tll)) options.push(ndLinkLayerOption(2, tll));
    // The reserved word (an advertisement's flags) is kept in the TCP flags' word of the key.
    return { ...base, rest: getField(key, F_ND_RESERVED), nd: { target: wideBytes(key, F_ND_TARGET), options } };
  }
  if (type === Icmpv6Type.ROUTER_ADVERT) return { ...base, nd: { reachableTime: 0, retransTimer: 0, options: [] } };
  // "Packet too big" carries the MTU, kept in the TCP flags' word of the key as for ND.
  if (type === Icmpv6Type.PACKET_TOO_BIG) return { ...base, rest: getField(key, F_ND_RESERVED) };
  return base;
}

/**
 * A complete Ethernet frame carrying the packet fields of `key` and then `opts.payload`; see the
 * module comment for what is written and what is left out.
 */
export function frameFromKey(key: Uint32Array, opts: FrameOptions = {}): Uint8Array {
  let k = key;
  if (k.length < KEY_WORDS) {
    k = new Uint32Array(KEY_WORDS);
    k.set(key);
  }
  const payload = opts.payload ?? EMPTY;
  const ethType = getField(k, F_ETH_TYPE);

  if (ethType < 0x600) {
    // 802.3: the type field is the length of what follows the header.
    return buildFrame(l2Layers(k, Math.min(payload.length, MAX_8023_LENGTH)), payload);
  }
  const layers = l2Layers(k, ethType);
  const proto = getField(k, F_NW_PROTO);
  const frag = getField(k, F_NW_FRAG);
  const fragmented = frag !== 0;
  const later = (frag & FRAG.LATER) !== 0;

  switch (ethType) {
    case EtherType.ARP:
    case EtherType.RARP:
      layers.push({ kind: "arp", repr: arpRepr(proto, wideBytes(k, F_ARP_SHA), getField(k, F_NW_SRC), wideBytes(k, F_ARP_THA), getField(k, F_NW_DST)) });
      break;
    case EtherType.IPV4: {
      const tos = getField(k, F_NW_TOS);
      layers.push({
        kind: "ipv4",
        repr: ipv4Repr(getField(k, F_NW_SRC), getField(k, F_NW_DST), proto, {
          dscp: tos >>> 2,
          ecn: tos & 3,
          ttl: getField(k, F_NW_TTL),
          dontFrag: !fragmented,
          moreFrags: fragmented && !later,
          fragOffset: later ? LATER_FRAG_OFFSET : 0,
        }),
      });
      const l4 = later ? undefined : l4Layer(k, proto, false);
      if (l4) layers.push(l4);
      break;
    }
    case EtherType.IPV6: {
      const fields = { trafficClass: getField(k, F_NW_TOS), flowLabel: getField(k, F_IPV6_LABEL), hopLimit: getField(k, F_NW_TTL) };
      const src = wideBytes(k, F_IPV6_SRC);
      const dst = wideBytes(k, F_IPV6_DST);
      layers.push({ kind: "ipv6", repr: ipv6Repr(src, dst, fragmented ? IpProto.IPV6_FRAG : proto, fields) });
      if (fragmented) {
        layers.push({
          kind: "ipv6-ext",
          repr: { kind: "fragment", nextHeader: proto, reserved: 0, fragOffset: later ? LATER_FRAG_OFFSET : 0, reserved2: 0, moreFrags: !later, ident: 0 },
        });
      }
      const l4 = later ? undefined : l4Layer(k, proto, true);
      if (l4) layers.push(l4);
      break;
    }
    default:
      break;
  }
  return buildFrame(layers, payload, { fixLengths: true, computeChecksums: true });
}
