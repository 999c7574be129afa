/**
 * Checksum verification over a decoded frame.
 *
 * For each layer that carries a checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6, SCTP), reports the
 * carried value and the value the bytes call for. A transport checksum is checked only when its
 * whole segment was captured and is not part of a fragmented datagram (the checksum covers the
 * whole datagram then); a UDP checksum of 0 over IPv4 ("none") is reported as `absent`.
 */
import { getU16 } from "../base/index.js";
import {
  computeIpv4HeaderChecksum,
  computeL4Checksum,
  computeSctpChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
} from "./checksum.js";
import type { Decoded } from "./decode.js";
import { IpProto } from "./ip-proto.js";
import { ipv4HeaderLen } from "./ipv4.js";
import { jumboPayloadLength } from "./ipv6-ext.js";
import type { Layer } from "./layer.js";

export interface ChecksumCheck {
  /** Index of the layer in `Decoded.layers`. */
  readonly layer: number;
  readonly kind: "ipv4" | "tcp" | "udp" | "icmp" | "icmpv6" | "sctp";
  readonly carried: number;
  readonly computed: number;
  /** `ok`, `bad`, or `absent` (UDP over IPv4 without checksum). */
  readonly status: "ok" | "bad" | "absent";
}

interface IpContext {
  readonly layer: Layer;
  /** End of the IP datagram in the frame (may exceed the captured bytes). */
  readonly end: number;
  readonly fragmented: boolean;
}

/** Checks every checksum of `d` that can be checked. */
export function verifyChecksums(d: Decoded): ChecksumCheck[] {
  const out: ChecksumCheck[] = [];
  const b = d.frame;
  let ip: IpContext | undefined;
  d.layers.forEach((l, i) => {
    switch (l.kind) {
      case "ipv4": {
        const hl = ipv4HeaderLen(l.repr);
        const computed = computeIpv4HeaderChecksum(b, l.offset, hl);
        out.push({ layer: i, kind: "ipv4", carried: l.repr.checksum, computed, status: computed === l.repr.checksum ? "ok" : "bad" });
        const end = l.repr.totalLength === 0 ? b.length : l.offset + l.repr.totalLength;
        ip = { layer: l, end, fragmented: l.repr.moreFrags || l.repr.fragOffset !== 0 };
        return;
      }
      case "ipv6":
        ip = { layer: l, end: l.repr.payloadLength === 0 ? b.length : l.offset + 40 + l.repr.payloadLength, fragmented: false };
        return;
      case "ipv6-ext":
        if (ip && l.repr.kind === "fragment") ip = { ...ip, fragmented: true };
        if (ip && l.repr.kind === "hop-by-hop" && ip.layer.kind === "ipv6" && ip.layer.repr.payloadLength === 0) {
          const j = jumboPayloadLength(l.repr.options);
          if (j !== undefined) ip = { ...ip, end: ip.layer.offset + 40 + j };
        }
        return;
      case "tcp":
      case "udp":
      case "icmp":
      case "icmpv6":
      case "sctp": {
        if (!ip || ip.fragmented || ip.end > b.length || ip.end <= l.offset) return;
        const len = ip.end - l.offset;
        const carried = l.kind === "sctp" ? l.repr.checksum : getU16(b, l.offset + csumOffset(l.kind));
        if (l.kind === "udp" && carried === 0 && ip.layer.kind === "ipv4") {
          out.push({ layer: i, kind: "udp", carried, computed: 0, status: "absent" });
          return;
        }
        let computed: number;
        if (l.kind === "sctp") computed = computeSctpChecksum(b, l.offset, len);
        else if (l.kind === "icmp") computed = computeL4Checksum(b, l.offset, len, 2, 0);
        else {
          const proto = l.kind === "tcp" ? IpProto.TCP : l.kind === "udp" ? IpProto.UDP : IpProto.ICMPV6;
          const pseudo =
            ip.layer.kind === "ipv4"
              ? ipv4PseudoHeaderSum(ip.layer.repr.src, ip.layer.repr.dst, proto, len)
              : ip.layer.kind === "ipv6"
                ? ipv6PseudoHeaderSum(ip.layer.repr.src, ip.layer.repr.dst, proto, len)
                : 0;
          computed = computeL4Checksum(b, l.offset, len, csumOffset(l.kind), pseudo);
          if (l.kind === "udp" && computed === 0) computed = 0xffff;
        }
        out.push({ layer: i, kind: l.kind, carried, computed, status: carried === computed ? "ok" : "bad" });
        return;
      }
      default:
        return;
    }
  });
  return out;
}

function csumOffset(kind: "tcp" | "udp" | "icmp" | "icmpv6"): number {
  return kind === "tcp" ? 16 : kind === "udp" ? 6 : 2;
}
