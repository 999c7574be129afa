/**
 * Building frames from layers, inside out.
 *
 * Design (gopacket's `SerializeLayers`, protobuf-es's growable writer): the payload goes into a
 * growable buffer first, then each layer, from the innermost to the outermost, prepends its
 * header. When a header is written, everything it encloses is already in place, so with
 * `fixLengths` it can set its own length field from the bytes after it (IPv4 total length, IPv6
 * payload length, UDP length), and with `computeChecksums` it can checksum them (TCP, UDP, ICMP,
 * ICMPv6, SCTP; then the IPv4 header checksum once its lengths are final). Without the options,
 * every field is written exactly as the repr says, so a parsed frame rebuilds byte for byte
 * (`rebuildFrame` in `decode.ts`).
 *
 * Fields that follow from the repr's own contents are always derived: IPv4 IHL from the options,
 * TCP data offset from the options, Geneve option length, AH and IPv6 extension header lengths,
 * ND option lengths. Protocol selectors (EtherType, IP protocol, next header, Geneve protocol
 * type) are never guessed: each repr names what follows it.
 *
 * L4 checksums use the nearest IPv4/IPv6 layer before them for the pseudo-header (the IPv6
 * destination as carried, not a routing header's final destination). A UDP checksum of 0 over IPv4
 * means "none"; the tunnel helpers below leave the outer UDP checksum 0 unless asked, as OVS does
 * by default.
 *
 * The helpers at the end build the frames the dataplane emits: Geneve and VXLAN encapsulation,
 * VLAN push/pop, ARP replies and ICMPv4 errors.
 */
import { invariant, setU16, setU32 } from "../base/index.js";
import { arpRepr, ArpOp, type ArpRepr } from "./arp.js";
import {
  computeSctpChecksum,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
} from "./checksum.js";
import { EtherType } from "./ethernet.js";
import { geneveRepr, type GeneveOption } from "./geneve.js";
import { IpProto } from "./ip-proto.js";
import { ipv4HeaderLen, ipv4Repr } from "./ipv4.js";
import { ipv6Repr } from "./ipv6.js";
import { emitLayer, layerHeaderLen, type LayerSpec } from "./layer.js";
import { UdpPort, udpRepr } from "./udp.js";
import { isVlanTpid, vlanTci, type VlanRepr } from "./vlan.js";
import { vxlanRepr } from "./vxlan.js";

export interface BuildOptions {
  /** Set IPv4 total length, IPv6 payload length and UDP length from the bytes they enclose. */
  readonly fixLengths?: boolean;
  /** Compute TCP/UDP/ICMP/ICMPv6/SCTP checksums and the IPv4 header checksum. */
  readonly computeChecksums?: boolean;
}

/** A byte buffer that grows at the front (reallocating, so read `bytes` after each `prepend`). */
export class PrependBuffer {
  private buf: Uint8Array;
  private start: number;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.start = this.buf.length;
  }

  /** Reserves `n` bytes at the front and returns their offset in `bytes`. */
  prepend(n: number): number {
    if (n > this.start) {
      const used = this.buf.length - this.start;
      const cap = Math.max(this.buf.length * 2, used + n + 64);
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(this.start), cap - used);
      this.buf = nb;
      this.start = cap - used;
    }
    this.start -= n;
    return this.start;
  }

  /** The backing array; the content is `[offset, bytes.length)`. `prepend` may replace it. */
  get bytes(): Uint8Array {
    return this.buf;
  }
  get offset(): number {
    return this.start;
  }
  /** Number of bytes written so far. */
  get length(): number {
    return this.buf.length - this.start;
  }
  /** A copy of the content. */
  toBytes(): Uint8Array {
    return this.buf.slice(this.start);
  }
}

const EMPTY = new Uint8Array(0);

/** The layer with its length fields set for `after` bytes following its header. */
function withFixedLength(l: LayerSpec, after: number): LayerSpec {
  switch (l.kind) {
    case "ipv4": {
      const total = ipv4HeaderLen(l.repr) + after;
      return { kind: "ipv4", repr: { ...l.repr, totalLength: total > 0xffff ? 0 : total } };
    }
    case "ipv6":
      return { kind: "ipv6", repr: { ...l.repr, payloadLength: after > 0xffff ? 0 : after } };
    case "udp": {
      const total = 8 + after;
      return { kind: "udp", repr: { ...l.repr, length: total > 0xffff ? 0 : total } };
    }
    default:
      return l;
  }
}

/** Length of the IP payload a (possibly fixed) IP layer announces, or undefined for "to the end". */
function ipPayloadLen(l: LayerSpec): number | undefined {
  if (l.kind === "ipv4") return l.repr.totalLength === 0 ? undefined : l.repr.totalLength - ipv4HeaderLen(l.repr);
  if (l.kind === "ipv6") return l.repr.payloadLength === 0 ? undefined : l.repr.payloadLength;
  return undefined;
}

/**
 * Builds a frame from `layers` (outermost first) followed by `payload`.
 * Layers are written exactly as given unless `options` asks for lengths or checksums.
 */
export function buildFrame(layers: readonly LayerSpec[], payload: Uint8Array = EMPTY, options: BuildOptions = {}): Uint8Array {
  let total = payload.length;
  for (const l of layers) total += layerHeaderLen(l);
  const buf = new PrependBuffer(total);
  const at = buf.prepend(payload.length);
  buf.bytes.set(payload, at);
  for (let i = layers.length - 1; i >= 0; i--) {
    const following = buf.length;
    const spec = options.fixLengths ? withFixedLength(layers[i]!, following) : layers[i]!;
    const hl = layerHeaderLen(spec);
    const off = buf.prepend(hl);
    emitLayer(spec, buf.bytes, off);
    if (options.computeChecksums) fillChecksum(layers, i, spec, buf.bytes, off, hl + following, options.fixLengths === true);
  }
  return buf.toBytes();
}

/**
 * Computes the checksum of layer `i` (written as `spec` at `off`, with `avail` bytes from `off` to
 * the end of the frame). Outer layers are not written yet; only their addresses and, without
 * `fixed`, their length fields are read, and those do not change when they are written.
 */
function fillChecksum(layers: readonly LayerSpec[], i: number, spec: LayerSpec, b: Uint8Array, off: number, avail: number, fixed: boolean): void {
  if (spec.kind === "ipv4") {
    fillIpv4HeaderChecksum(b, off, ipv4HeaderLen(spec.repr));
    return;
  }
  if (spec.kind !== "tcp" && spec.kind !== "udp" && spec.kind !== "icmp" && spec.kind !== "icmpv6" && spec.kind !== "sctp") return;
  // The enclosing IP layer, and the bytes of the headers between it and this one.
  let j = i - 1;
  let between = 0;
  while (j >= 0 && layers[j]!.kind !== "ipv4" && layers[j]!.kind !== "ipv6") {
    between += layerHeaderLen(layers[j]!);
    j--;
  }
  const ip = j >= 0 ? layers[j]! : undefined;
  let len = avail;
  if (ip && !fixed) {
    const ipl = ipPayloadLen(ip);
    if (ipl !== undefined) len = Math.max(layerHeaderLen(spec), Math.min(avail, ipl - between));
  }
  switch (spec.kind) {
    case "icmp":
      fillL4Checksum(b, off, len, 2, 0);
      return;
    case "sctp":
      setU32(b, off + 8, computeSctpChecksum(b, off, len));
      return;
    case "tcp":
    case "udp":
    case "icmpv6": {
      const proto = spec.kind === "tcp" ? IpProto.TCP : spec.kind === "udp" ? IpProto.UDP : IpProto.ICMPV6;
      const csumAt = spec.kind === "tcp" ? 16 : spec.kind === "udp" ? 6 : 2;
      let pseudo: number;
      if (ip?.kind === "ipv4") pseudo = ipv4PseudoHeaderSum(ip.repr.src, ip.repr.dst, proto, len);
      else if (ip?.kind === "ipv6") pseudo = ipv6PseudoHeaderSum(ip.repr.src, ip.repr.dst, proto, len);
      else return;
      fillL4Checksum(b, off, len, csumAt, pseudo, spec.kind === "udp");
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for frames the dataplane emits

/** The outer headers of a tunnel packet. */
export interface TunnelOuter {
  readonly ethSrc: Uint8Array;
  readonly ethDst: Uint8Array;
  /** IPv4 as a u32, or IPv6 as 16 bytes. */
  readonly ipSrc: number | Uint8Array;
  readonly ipDst: number | Uint8Array;
  /** UDP source port (OVS derives it from a hash of the inner flow). */
  readonly udpSrc: number;
  readonly ttl?: number;
  /** An 802.1Q tag on the outer frame (underlay VLAN). */
  readonly vlan?: number;
  /** Compute the outer UDP checksum (default: leave it 0). */
  readonly udpChecksum?: boolean;
}

function outerLayers(o: TunnelOuter, dstPort: number): LayerSpec[] {
  const v6 = typeof o.ipSrc !== "number";
  const l: LayerSpec[] = [];
  const ipType = v6 ? EtherType.IPV6 : EtherType.IPV4;
  l.push({ kind: "ethernet", repr: { dst: o.ethDst, src: o.ethSrc, etherType: o.vlan !== undefined ? EtherType.VLAN : ipType } });
  if (o.vlan !== undefined) l.push({ kind: "vlan", repr: { pcp: 0, dei: false, vid: o.vlan, etherType: ipType } });
  if (typeof o.ipSrc === "number" && typeof o.ipDst === "number") {
    l.push({ kind: "ipv4", repr: ipv4Repr(o.ipSrc, o.ipDst, IpProto.UDP, { ttl: o.ttl ?? 64, dontFrag: true }) });
  } else {
    invariant(typeof o.ipSrc !== "number" && typeof o.ipDst !== "number", "tunnel outer addresses must be of one family");
    l.push({ kind: "ipv6", repr: ipv6Repr(o.ipSrc, o.ipDst, IpProto.UDP, { hopLimit: o.ttl ?? 64 }) });
  }
  l.push({ kind: "udp", repr: udpRepr(o.udpSrc, dstPort) });
  return l;
}

function buildTunnel(layers: LayerSpec[], inner: Uint8Array, o: TunnelOuter): Uint8Array {
  const frame = buildFrame(layers, inner, { fixLengths: true, computeChecksums: true });
  if (!o.udpChecksum) {
    let off = 0;
    for (const l of layers) {
      if (l.kind === "udp") break;
      off += layerHeaderLen(l);
    }
    setU16(frame, off + 6, 0);
  }
  return frame;
}

/**
 * Wraps `inner` (an Ethernet frame, or with `protocolType` an IP/ARP packet) in
 * Ethernet/[VLAN]/IP/UDP(6081)/Geneve with `options` (e.g. `ovnGeneveOption(in, out)`).
 */
export function encapsulateGeneve(inner: Uint8Array, outer: TunnelOuter, vni: number, options: readonly GeneveOption[] = [], protocolType: number = EtherType.TEB): Uint8Array {
  const layers = outerLayers(outer, UdpPort.GENEVE);
  layers.push({ kind: "geneve", repr: geneveRepr(vni, options, protocolType) });
  return buildTunnel(layers, inner, outer);
}

/** Wraps the Ethernet frame `inner` in Ethernet/[VLAN]/IP/UDP(4789)/VXLAN. */
export function encapsulateVxlan(inner: Uint8Array, outer: TunnelOuter, vni: number): Uint8Array {
  const layers = outerLayers(outer, UdpPort.VXLAN);
  layers.push({ kind: "vxlan", repr: vxlanRepr(vni) });
  return buildTunnel(layers, inner, outer);
}

/** Inserts a VLAN tag after the MAC addresses of an Ethernet frame (outermost tag). */
export function pushVlan(frame: Uint8Array, tag: Omit<VlanRepr, "etherType">, tpid: number = EtherType.VLAN): Uint8Array {
  invariant(frame.length >= 14, "pushVlan needs an Ethernet frame");
  const out = new Uint8Array(frame.length + 4);
  out.set(frame.subarray(0, 12), 0);
  setU16(out, 12, tpid);
  setU16(out, 14, vlanTci({ ...tag, etherType: 0 }));
  out.set(frame.subarray(12), 16);
  return out;
}

/** Removes the outermost VLAN tag of an Ethernet frame; returns the frame unchanged if untagged. */
export function popVlan(frame: Uint8Array): Uint8Array {
  if (frame.length < 18 || !isVlanTpid((frame[12]! << 8) | frame[13]!)) return frame;
  const out = new Uint8Array(frame.length - 4);
  out.set(frame.subarray(0, 12), 0);
  out.set(frame.subarray(16), 12);
  return out;
}

/** The Ethernet frame answering an ARP request for `request.tpa` with `mac`. */
export function buildArpReply(request: ArpRepr, mac: Uint8Array): Uint8Array {
  const reply = arpRepr(ArpOp.REPLY, mac, request.tpa, request.sha, request.spa);
  return buildFrame([
    { kind: "ethernet", repr: { dst: request.sha, src: mac, etherType: EtherType.ARP } },
    { kind: "arp", repr: reply },
  ]);
}

export interface Icmpv4ErrorSpec {
  readonly ethSrc: Uint8Array;
  readonly ethDst: Uint8Array;
  /** Source address of the error (the router's address). */
  readonly ipSrc: number;
  readonly type: number;
  readonly code: number;
  /** Bytes 4-7 of the ICMP header (next-hop MTU for "fragmentation needed"). */
  readonly rest?: number;
  readonly ttl?: number;
}

/**
 * An ICMPv4 error about the IPv4 datagram at `[offset, offset+length)` of `original`: its header
 * plus the first 8 bytes of its payload are quoted, and the error goes back to its source.
 */
export function buildIcmpv4Error(spec: Icmpv4ErrorSpec, original: Uint8Array, offset: number, length: number): Uint8Array {
  invariant(length >= 20, "buildIcmpv4Error needs an IPv4 header");
  const ihl = (original[offset]! & 0x0f) * 4;
  const quoted = original.slice(offset, offset + Math.min(length, ihl + 8));
  const origSrc = ((original[offset + 12]! << 24) | (original[offset + 13]! << 16) | (original[offset + 14]! << 8) | original[offset + 15]!) >>> 0;
  const icmp = { type: spec.type, code: spec.code, checksum: 0, rest: spec.rest ?? 0 };
  return buildFrame(
    [
      { kind: "ethernet", repr: { dst: spec.ethDst, src: spec.ethSrc, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(spec.ipSrc, origSrc, IpProto.ICMP, { ttl: spec.ttl ?? 64 }) },
      { kind: "icmp", repr: icmp },
    ],
    quoted,
    { fixLengths: true, computeChecksums: true },
  );
}
