/**
 * The decode chain: from a capture's link type down through every header this layer knows.
 *
 * What: `decodeFrame(bytes, offset, length, linkType)` walks L2 (Ethernet, Linux cooked v1/v2,
 * BSD loopback, or nothing for raw IP) -> any number of VLAN tags -> ARP | IPv4 | IPv6 (and its
 * extension headers, and AH for both versions) -> ICMP | ICMPv6 | TCP | UDP | SCTP -> for UDP to
 * the Geneve or VXLAN port the tunnel header and the inner frame (Ethernet, or for Geneve a bare
 * IPv4/IPv6/ARP packet), again and again up to a nesting limit. The result lists the headers found,
 * in wire order, each with its frame-relative offset and tunnel depth.
 *
 * What it is not: a reassembler (a later fragment ends the walk after its IP header), an
 * application decoder (UDP/TCP payloads stay bytes), or a zero-allocation path (the flow-key
 * extractor in `flow/` reads views directly). Decoding allocates reprs; it serves `pcap dump`,
 * tests and the tracer.
 *
 * Robustness contract: malformed or truncated input never throws and never loops. Every step moves
 * strictly forward through a bounded buffer, tunnel nesting is capped, and each failure ends the
 * walk with what was decoded so far plus one of:
 * - `truncated`: a header runs past the captured bytes (the capture was cut, or is a runt);
 * - `issues`: one line per thing that is malformed (a length field that contradicts the data, a
 *   bad version, an option that runs past its area), with its frame offset;
 * - `stoppedAt`: the name of a protocol this decoder deliberately does not enter ("gre", "esp",
 *   "ipip", "mpls", "ipx/llc", "udp payload", "icmp error payload", ...), so a caller knows a
 *   deeper decoder could see more.
 *
 * Lengths: each layer is decoded inside the extent its enclosing length fields allow (IPv4 total
 * length, IPv6 payload length, UDP length), clamped to the captured bytes. Bytes past the IP
 * extent (Ethernet padding) are never read as headers. An IPv4 total length of 0 (TSO) and an IPv6
 * payload length of 0 (jumbogram or BIG TCP super-frame; a Jumbo Payload option gives the real
 * length when present) mean "to the end of the captured data".
 */
import type { Diagnostic, Result } from "../base/index.js";
import { AhView, parseAh } from "./ah.js";
import { ArpView, parseArp } from "./arp.js";
import { buildFrame } from "./build.js";
import { EthernetView, EtherType, etherTypeName, isEtherTypeLength, parseEthernet } from "./ethernet.js";
import { GeneveView, parseGeneve } from "./geneve.js";
import { IcmpView, isIcmpError, parseIcmp } from "./icmp.js";
import { icmpv6HeaderLen, Icmpv6View, isIcmpv6Error, parseIcmpv6, parseIcmpv6Header } from "./icmpv6.js";
import { IpProto, ipProtoName } from "./ip-proto.js";
import { Ipv4View, parseIpv4 } from "./ipv4.js";
import { Ipv6View, parseIpv6 } from "./ipv6.js";
import { checkIpv6OptionTlvs, Ipv6ExtView, ipv6ExtKindOf, jumboPayloadLength, parseIpv6Ext } from "./ipv6-ext.js";
import type { Layer, LayerSpec } from "./layer.js";
import { bsdAfToEtherType, LinkType, linkTypeName, NullView, parseNull, parseSll, parseSll2, Sll2View, SllView } from "./link.js";
import { parseSctp, SctpView } from "./sctp.js";
import { parseTcp, TcpView } from "./tcp.js";
import { parseUdp, UdpPort, UdpView } from "./udp.js";
import { isVlanTpid, parseVlan, VlanView } from "./vlan.js";
import { parseVxlan, VxlanView } from "./vxlan.js";
import { hex, PacketCode } from "./wire.js";

export interface DecodeOptions {
  /** UDP destination ports decoded as Geneve (default [6081]). */
  readonly genevePorts?: readonly number[];
  /** UDP destination ports decoded as VXLAN (default [4789]). */
  readonly vxlanPorts?: readonly number[];
  /** Maximum tunnel nesting (default 8): a tunnel header deeper than this is not entered. */
  readonly maxTunnelDepth?: number;
  /**
   * Original length of the packet on the wire, when known (pcap `origlen`). A header cut at the
   * end of the captured bytes counts as `truncated` when the wire length was longer (or unknown),
   * and as a malformed runt when the frame really ended there.
   */
  readonly wireLength?: number;
}

export interface Decoded {
  /** The frame's bytes (a subarray of the input; layer offsets are relative to it). */
  readonly frame: Uint8Array;
  readonly linkType: number;
  /** Headers in wire order. Together they cover `[0, payloadOffset)` of the frame without gaps. */
  readonly layers: readonly Layer[];
  /** A header was cut by the end of the captured data. */
  readonly truncated: boolean;
  /** What is malformed, one line each. */
  readonly issues: readonly string[];
  /** A protocol the decoder does not go into, where it stopped. */
  readonly stoppedAt: string | undefined;
  /** First byte not described by a layer header. */
  readonly payloadOffset: number;
  /** End of the innermost extent (e.g. the UDP length); bytes up to the frame end are trailer. */
  readonly payloadEnd: number;
}

/** Reasons `stoppedAt` may name beyond protocol names from the EtherType and IP protocol tables. */
export const StopReason = {
  LLC: "ipx/llc",
  UDP_PAYLOAD: "udp payload",
  ICMP_ERROR: "icmp error payload",
  ICMPV6_ERROR: "icmpv6 error payload",
  TUNNEL_DEPTH: "tunnel depth limit",
  IPIP: "ipip",
  ARP_OTHER: "arp (not ethernet/ipv4)",
} as const;

const DEFAULT_GENEVE_PORTS: readonly number[] = [UdpPort.GENEVE];
const DEFAULT_VXLAN_PORTS: readonly number[] = [UdpPort.VXLAN];

interface View {
  checkLen(): Diagnostic | undefined;
}

class Walker {
  readonly layers: Layer[] = [];
  truncated = false;
  readonly issues: string[] = [];
  stoppedAt: string | undefined = undefined;
  payloadOffset = 0;
  payloadEnd: number;
  private readonly genevePorts: readonly number[];
  private readonly vxlanPorts: readonly number[];
  private readonly maxDepth: number;
  private readonly wireLength: number | undefined;
  /** The innermost IP header so far is the first fragment of a datagram (its L4 length may exceed it). */
  private firstFragment = false;

  readonly b: Uint8Array;

  constructor(b: Uint8Array, options: DecodeOptions) {
    this.b = b;
    this.payloadEnd = b.length;
    this.genevePorts = options.genevePorts ?? DEFAULT_GENEVE_PORTS;
    this.vxlanPorts = options.vxlanPorts ?? DEFAULT_VXLAN_PORTS;
    this.maxDepth = options.maxTunnelDepth ?? 8;
    this.wireLength = options.wireLength;
  }

  private push(spec: LayerSpec, offset: number, depth: number, headerLen: number, end: number): void {
    this.layers.push({ ...spec, offset, depth } as Layer);
    this.payloadOffset = offset + headerLen;
    this.payloadEnd = end;
  }

  private stop(reason: string, off: number, end: number): void {
    if (off < end) this.stoppedAt = reason;
  }

  /**
   * Parses one header in `[off, end)`. On failure, records why: a header that fits in the captured
   * bytes but not in `end` is malformed (a length field is too small); one that runs past the
   * captured bytes is truncated, unless the wire length says the frame really ended there.
   */
  private parse<V extends View, R>(make: (len: number) => V, parse: (v: V) => Result<R>, off: number, end: number): R | undefined {
    const r = parse(make(Math.max(0, end - off)));
    if (r.ok) return r.value;
    const d = r.diags[0]!;
    if (d.code === PacketCode.TRUNCATED) {
      if (end < this.b.length) {
        const wider = make(this.b.length - off).checkLen();
        if (!wider || wider.code !== PacketCode.TRUNCATED) {
          this.issues.push(`${d.message} (enclosing length leaves ${Math.max(0, end - off)})`);
          return undefined;
        }
      }
      if (this.wireLength !== undefined && this.wireLength <= this.b.length) this.issues.push(`${d.message} (frame ends there)`);
      else this.truncated = true;
      return undefined;
    }
    if (d.code === PacketCode.UNSUPPORTED) this.stoppedAt = d.message;
    else this.issues.push(d.message);
    return undefined;
  }

  decodeLink(linkType: number): void {
    const end = this.b.length;
    switch (linkType) {
      case LinkType.ETHERNET:
        return this.ethernet(0, end, 0);
      case LinkType.NULL:
      case LinkType.LOOP: {
        const r = this.parse((n) => new NullView(this.b, 0, n, linkType === LinkType.LOOP), parseNull, 0, end);
        if (!r) return;
        this.push({ kind: "null", repr: r }, 0, 0, 4, end);
        const et = bsdAfToEtherType(r.family);
        if (et === undefined) return this.stop(`null family ${r.family}`, 4, end);
        return this.etherPayload(et, 4, end, 0);
      }
      case LinkType.LINUX_SLL: {
        const r = this.parse((n) => new SllView(this.b, 0, n), parseSll, 0, end);
        if (!r) return;
        this.push({ kind: "sll", repr: r }, 0, 0, 16, end);
        return this.cookedPayload(r.protocol, 16, end);
      }
      case LinkType.LINUX_SLL2: {
        const r = this.parse((n) => new Sll2View(this.b, 0, n), parseSll2, 0, end);
        if (!r) return;
        this.push({ kind: "sll2", repr: r }, 0, 0, 20, end);
        return this.cookedPayload(r.protocol, 20, end);
      }
      case LinkType.RAW:
      case LinkType.RAW_BSD:
      case LinkType.RAW_OPENBSD: {
        if (end < 1) {
          this.truncated = true;
          return;
        }
        const version = this.b[0]! >>> 4;
        if (version === 4) return this.ipv4(0, end, 0);
        if (version === 6) return this.ipv6(0, end, 0);
        this.issues.push(`raw IP packet with version ${version} at offset 0`);
        return;
      }
      case LinkType.IPV4:
        return this.ipv4(0, end, 0);
      case LinkType.IPV6:
        return this.ipv6(0, end, 0);
      default:
        return this.stop(linkTypeName(linkType), 0, end);
    }
  }

  private cookedPayload(protocol: number, off: number, end: number): void {
    if (protocol >= 0x0600) return this.etherPayload(protocol, off, end, 0);
    return this.stop(`linux cooked protocol ${protocol}`, off, end);
  }

  private ethernet(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new EthernetView(this.b, off, n), parseEthernet, off, end);
    if (!r) return;
    this.push({ kind: "ethernet", repr: r }, off, depth, 14, end);
    this.etherPayload(r.etherType, off + 14, end, depth);
  }

  /** Decodes what an EtherType announces at `off`, stepping through any number of VLAN tags. */
  private etherPayload(type: number, off: number, end: number, depth: number): void {
    while (isVlanTpid(type)) {
      const at = off;
      const r = this.parse((n) => new VlanView(this.b, at, n), parseVlan, at, end);
      if (!r) return;
      this.push({ kind: "vlan", repr: r }, at, depth, 4, end);
      type = r.etherType;
      off += 4;
    }
    if (isEtherTypeLength(type)) return this.stop(StopReason.LLC, off, end);
    switch (type) {
      case EtherType.IPV4:
        return this.ipv4(off, end, depth);
      case EtherType.IPV6:
        return this.ipv6(off, end, depth);
      case EtherType.ARP:
        return this.arp(off, end, depth);
      default:
        return this.stop(etherTypeName(type), off, end);
    }
  }

  private arp(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new ArpView(this.b, off, n), parseArp, off, end);
    if (!r) {
      if (this.stoppedAt !== undefined) this.stoppedAt = StopReason.ARP_OTHER;
      return;
    }
    this.push({ kind: "arp", repr: r }, off, depth, 28, end);
  }

  private ipv4(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new Ipv4View(this.b, off, n), parseIpv4, off, end);
    if (!r) return;
    const hl = 20 + r.options.length;
    let ipEnd = end;
    if (r.totalLength !== 0) {
      if (r.totalLength < hl) {
        this.push({ kind: "ipv4", repr: r }, off, depth, hl, off + hl);
        this.issues.push(`IPv4 total length ${r.totalLength} < header length ${hl} at offset ${off}`);
        return;
      }
      ipEnd = off + r.totalLength;
      if (ipEnd > end) {
        if (!this.capturedShort(end)) this.issues.push(`IPv4 total length ${r.totalLength} exceeds the ${end - off} bytes available at offset ${off}`);
        ipEnd = end;
      }
    }
    this.push({ kind: "ipv4", repr: r }, off, depth, hl, ipEnd);
    if (r.fragOffset !== 0) return;
    this.firstFragment = r.moreFrags;
    this.ipPayload(r.protocol, off + hl, ipEnd, depth);
  }

  /** True when `end` is the end of the captured data and the wire frame was longer (or unknown). */
  private capturedShort(end: number): boolean {
    return end >= this.b.length && (this.wireLength === undefined || this.wireLength > this.b.length);
  }

  private ipv6(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new Ipv6View(this.b, off, n), parseIpv6, off, end);
    if (!r) return;
    let ipEnd = end;
    if (r.payloadLength !== 0) {
      ipEnd = off + 40 + r.payloadLength;
      if (ipEnd > end) {
        if (!this.capturedShort(end)) this.issues.push(`IPv6 payload length ${r.payloadLength} exceeds the ${end - off - 40} bytes available at offset ${off}`);
        ipEnd = end;
      }
    }
    this.push({ kind: "ipv6", repr: r }, off, depth, 40, ipEnd);
    this.firstFragment = false;
    let proto: number = r.nextHeader;
    let at = off + 40;
    for (;;) {
      const kind = ipv6ExtKindOf(proto);
      if (kind === undefined) break;
      const here = at;
      const e = this.parse((n) => new Ipv6ExtView(kind, this.b, here, n), parseIpv6Ext, here, ipEnd);
      if (!e) return;
      const len = new Ipv6ExtView(kind, this.b, here, ipEnd - here).headerLen;
      if (e.kind === "hop-by-hop" && here === off + 40 && r.payloadLength === 0) {
        const jumbo = jumboPayloadLength(e.options);
        if (jumbo !== undefined) ipEnd = Math.min(end, off + 40 + jumbo);
      }
      this.push({ kind: "ipv6-ext", repr: e }, here, depth, len, ipEnd);
      if (e.kind === "hop-by-hop" || e.kind === "destination-options") {
        const bad = checkIpv6OptionTlvs(e.options);
        if (bad !== undefined) {
          this.issues.push(`IPv6 ${e.kind} header at offset ${here}: ${bad}`);
          return;
        }
      }
      proto = e.nextHeader;
      at += len;
      if (e.kind === "fragment") {
        if (e.fragOffset !== 0) return;
        this.firstFragment = e.moreFrags;
      }
    }
    this.ipPayload(proto, at, ipEnd, depth);
  }

  /** Decodes the upper-layer protocol `proto` in `[off, end)`. */
  private ipPayload(proto: number, off: number, end: number, depth: number): void {
    switch (proto) {
      case IpProto.TCP:
        return this.tcp(off, end, depth);
      case IpProto.UDP:
        return this.udp(off, end, depth);
      case IpProto.SCTP:
        return this.sctp(off, end, depth);
      case IpProto.ICMP:
        return this.icmp(off, end, depth);
      case IpProto.ICMPV6:
        return this.icmpv6(off, end, depth);
      case IpProto.AH: {
        const r = this.parse((n) => new AhView(this.b, off, n), parseAh, off, end);
        if (!r) return;
        const len = 12 + r.icv.length;
        this.push({ kind: "ah", repr: r }, off, depth, len, end);
        return this.ipPayload(r.nextHeader, off + len, end, depth);
      }
      case IpProto.IPV6_NONXT:
        return;
      case IpProto.IPIP:
      case IpProto.IPV6:
        return this.stop(StopReason.IPIP, off, end);
      default:
        return this.stop(ipProtoName(proto), off, end);
    }
  }

  private tcp(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new TcpView(this.b, off, n), parseTcp, off, end);
    if (!r) return;
    this.push({ kind: "tcp", repr: r }, off, depth, 20 + r.options.length, end);
  }

  private sctp(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new SctpView(this.b, off, n), parseSctp, off, end);
    if (!r) return;
    this.push({ kind: "sctp", repr: r }, off, depth, 12, end);
  }

  private icmp(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new IcmpView(this.b, off, n), parseIcmp, off, end);
    if (!r) return;
    this.push({ kind: "icmp", repr: r }, off, depth, 8, end);
    if (isIcmpError(r.type)) this.stop(StopReason.ICMP_ERROR, off + 8, end);
  }

  private icmpv6(off: number, end: number, depth: number): void {
    let r = this.parse((n) => new Icmpv6View(this.b, off, n), parseIcmpv6, off, end);
    if (!r) {
      // A malformed ND body: keep the 8-byte header, and the issue already recorded.
      if (this.truncated || end - off < 8) return;
      const h = parseIcmpv6Header(new Icmpv6View(this.b, off, end - off));
      if (!h.ok) return;
      r = h.value;
    }
    this.push({ kind: "icmpv6", repr: r }, off, depth, icmpv6HeaderLen(r), end);
    if (isIcmpv6Error(r.type)) this.stop(StopReason.ICMPV6_ERROR, off + 8, end);
  }

  private udp(off: number, end: number, depth: number): void {
    const r = this.parse((n) => new UdpView(this.b, off, n), parseUdp, off, end);
    if (!r) return;
    let udpEnd = end;
    if (r.length !== 0 || end - off <= 0xffff) {
      if (r.length < 8) {
        this.push({ kind: "udp", repr: r }, off, depth, 8, end);
        this.issues.push(`UDP length ${r.length} < 8 at offset ${off}`);
        return;
      }
      udpEnd = off + r.length;
      if (udpEnd > end) {
        if (!this.capturedShort(end) && !this.firstFragment) {
          this.push({ kind: "udp", repr: r }, off, depth, 8, end);
          this.issues.push(`UDP length ${r.length} exceeds the ${end - off} bytes of its IP payload at offset ${off}`);
          return;
        }
        udpEnd = end;
      }
    }
    this.push({ kind: "udp", repr: r }, off, depth, 8, udpEnd);
    const at = off + 8;
    if (this.genevePorts.includes(r.dstPort)) return this.tunnel("geneve", at, udpEnd, depth);
    if (this.vxlanPorts.includes(r.dstPort)) return this.tunnel("vxlan", at, udpEnd, depth);
    this.stop(StopReason.UDP_PAYLOAD, at, udpEnd);
  }

  private tunnel(kind: "geneve" | "vxlan", off: number, end: number, depth: number): void {
    if (depth + 1 > this.maxDepth) return this.stop(StopReason.TUNNEL_DEPTH, off, end);
    if (kind === "vxlan") {
      const r = this.parse((n) => new VxlanView(this.b, off, n), parseVxlan, off, end);
      if (!r) return;
      this.push({ kind: "vxlan", repr: r }, off, depth, 8, end);
      return this.ethernet(off + 8, end, depth + 1);
    }
    const r = this.parse((n) => new GeneveView(this.b, off, n), parseGeneve, off, end);
    if (!r) return;
    const hl = new GeneveView(this.b, off, end - off).headerLen;
    this.push({ kind: "geneve", repr: r }, off, depth, hl, end);
    if (r.version !== 0) {
      this.issues.push(`Geneve version ${r.version} at offset ${off}`);
      return;
    }
    const at = off + hl;
    switch (r.protocolType) {
      case EtherType.TEB:
        return this.ethernet(at, end, depth + 1);
      case EtherType.IPV4:
        return this.ipv4(at, end, depth + 1);
      case EtherType.IPV6:
        return this.ipv6(at, end, depth + 1);
      case EtherType.ARP:
        return this.arp(at, end, depth + 1);
      default:
        return this.stop(`geneve protocol ${hex(r.protocolType)}`, at, end);
    }
  }
}

/**
 * Decodes the frame at `[offset, offset+length)` of `bytes`, captured with `linkType`.
 * Never throws on any input.
 */
export function decodeFrame(bytes: Uint8Array, offset: number, length: number, linkType: number, options: DecodeOptions = {}): Decoded {
  const start = Math.max(0, Math.min(offset, bytes.length));
  const frame = bytes.subarray(start, Math.max(start, Math.min(bytes.length, start + Math.max(0, length))));
  const w = new Walker(frame, options);
  w.decodeLink(linkType);
  return {
    frame,
    linkType,
    layers: w.layers,
    truncated: w.truncated,
    issues: w.issues,
    stoppedAt: w.stoppedAt,
    payloadOffset: w.payloadOffset,
    payloadEnd: Math.max(w.payloadOffset, w.payloadEnd),
  };
}

/**
 * Re-emits a decoded frame from its layers' reprs followed by the undecoded bytes (payload and
 * trailer). For a frame decoded without issues, the result equals the original bytes.
 */
export function rebuildFrame(d: Decoded): Uint8Array {
  return buildFrame(d.layers, d.frame.subarray(d.payloadOffset));
}

/** The layers of the innermost tunnel level (the highest depth present). */
export function innermostLayers(d: Decoded): readonly Layer[] {
  let max = 0;
  for (const l of d.layers) if (l.depth > max) max = l.depth;
  return d.layers.filter((l) => l.depth === max);
}
