/**
 * `packet`: wire formats. One module per protocol with a zero-copy view and a plain repr
 * (`parseXxx`, `emitXxx`, `xxxHeaderLen`), checksums, the layer chain decoder, the inside-out
 * frame builder and a one-line pretty printer. Imports only `base`.
 *
 * The view contract (smoltcp's): after a view's `checkLen()` returns `undefined`, none of its
 * accessors reads outside its window; parsing untrusted bytes always goes through it. Emitting
 * never checks: the caller sizes the buffer with `xxxHeaderLen(repr)`.
 */
export * from "./ah.js";
export * from "./arp.js";
export * from "./build.js";
export * from "./checksum.js";
export * from "./decode.js";
export * from "./ethernet.js";
export * from "./geneve.js";
export * from "./icmp.js";
export * from "./icmpv6.js";
export * from "./ip-proto.js";
export * from "./ipv4.js";
export * from "./ipv6.js";
export * from "./ipv6-ext.js";
export * from "./layer.js";
export * from "./link.js";
export * from "./pretty.js";
export * from "./sctp.js";
export * from "./tcp.js";
export * from "./udp.js";
export * from "./verify.js";
export * from "./vlan.js";
export * from "./vxlan.js";
export { PacketCode } from "./wire.js";
