/**
 * Flow-key extraction: packet bytes -> packed key, with OVS `miniflow_extract` semantics.
 *
 * What: `extractKey` reads one frame and fills the packet words of a key (tunnel, L2, L3, L4 and
 * the `parse` word). The metadata words (recirc_id, registers, conntrack, in_port) are the
 * caller's: extraction sets `in_port` and leaves the rest of the metadata untouched.
 *
 * Semantics follow OVS, so that a megaflow built on our keys means what it would mean in OVS:
 * - At most two VLAN headers (TPID 0x8100 or 0x88a8) go into the key, each TCI with the CFI bit
 *   set as a "present" marker; a third tag leaves `eth_type` at its TPID and stops parsing.
 * - An 802.3 length field in place of the EtherType gives the SNAP type when an LLC/SNAP header
 *   with OUI 0 follows, and 0x05ff ("no type") otherwise.
 * - IPv4 with a bad version, a header length below 20 bytes, or a total length beyond the frame
 *   fills no L3 field (`MALFORMED`); later fragments fill no L4 field; the first fragment does.
 * - IPv6 walks hop-by-hop, routing, destination options, AH and fragment headers; `nw_proto` is the
 *   last next-header value reached. A fragment header whose 16 bits of offset and flags are all
 *   zero sets no fragment bit (as in OVS's `parse_ipv6_ext_hdrs`).
 * - ARP opcodes go into `nw_proto`, SPA/TPA into `nw_src`/`nw_dst`; ICMP type/code into
 *   `tp_src`/`tp_dst`; ND target and link-layer options into `nd_target`, `arp_sha`, `arp_tha`.
 * - With `decap` set, a Geneve (UDP 6081) or VXLAN (UDP 4789) packet is decapsulated as a tunnel
 *   port would: the outer addresses and VNI go to `tun_*`, OVN's Geneve option (class 0x0102, type
 *   0x80, 4 bytes) to `tun_metadata0`, and the inner Ethernet frame fills the L2-L4 words.
 *
 * Hot path: no allocation, no closures, no exceptions; every read is bounds-checked against the
 * captured length first, so truncated input only stops parsing early. The `parse` word records how
 * far parsing got (`PARSE` flags, a `ParseError` code and the byte offset where it stopped).
 */
import { FRAG, KEY_WORDS, PARSE, ParseError, TUN, W } from "./layout.js";

// Layout offsets and flag values copied into module-local constants: V8 folds these into the
// machine code, whereas every read of an imported binding is a load plus a hole check, which
// doubled the cost of this function when measured.
const F_ANY = FRAG.ANY;
const F_LATER = FRAG.LATER;
const P_L2 = PARSE.L2;
const P_L3 = PARSE.L3;
const P_L4 = PARSE.L4;
const P_MALFORMED = PARSE.MALFORMED;
const P_TRUNCATED = PARSE.TRUNCATED;
const P_TUNNEL = PARSE.TUNNEL;
const P_VLAN = PARSE.VLAN;
const E_BAD_IPV4_IHL = ParseError.BAD_IPV4_IHL;
const E_BAD_IPV4_LENGTH = ParseError.BAD_IPV4_LENGTH;
const E_BAD_IPV4_VERSION = ParseError.BAD_IPV4_VERSION;
const E_BAD_IPV6_LENGTH = ParseError.BAD_IPV6_LENGTH;
const E_BAD_IPV6_VERSION = ParseError.BAD_IPV6_VERSION;
const E_BAD_TUNNEL = ParseError.BAD_TUNNEL;
const E_NONE = ParseError.NONE;
const E_SHORT_ARP = ParseError.SHORT_ARP;
const E_SHORT_ETH = ParseError.SHORT_ETH;
const E_SHORT_IPV4 = ParseError.SHORT_IPV4;
const E_SHORT_IPV6 = ParseError.SHORT_IPV6;
const E_SHORT_IPV6_EXT = ParseError.SHORT_IPV6_EXT;
const E_SHORT_L4 = ParseError.SHORT_L4;
const E_SHORT_TUNNEL = ParseError.SHORT_TUNNEL;
const E_SHORT_VLAN = ParseError.SHORT_VLAN;
const E_TOO_MANY_VLANS = ParseError.TOO_MANY_VLANS;
const T_MD0_PRESENT = TUN.MD0_PRESENT;
const T_OAM = TUN.OAM;
const T_PRESENT = TUN.PRESENT;
const T_UNKNOWN_CRIT = TUN.UNKNOWN_CRIT;
const T_VXLAN = TUN.VXLAN;
const W_ARP_SHA = W.ARP_SHA;
const W_ARP_THA = W.ARP_THA;
const W_ETH_DST = W.ETH_DST;
const W_ETH_SRC = W.ETH_SRC;
const W_ETH_TYPE = W.ETH_TYPE;
const W_IN_PORT = W.IN_PORT;
const W_IPV6_DST = W.IPV6_DST;
const W_IPV6_LABEL = W.IPV6_LABEL;
const W_IPV6_SRC = W.IPV6_SRC;
const W_ND_TARGET = W.ND_TARGET;
const W_NW = W.NW;
const W_NW_DST = W.NW_DST;
const W_NW_SRC = W.NW_SRC;
const W_PARSE = W.PARSE;
const W_TCP_FLAGS = W.TCP_FLAGS;
const W_TP = W.TP;
const W_TUN_DST = W.TUN_DST;
const W_TUN_FLAGS = W.TUN_FLAGS;
const W_TUN_ID = W.TUN_ID;
const W_TUN_MD0 = W.TUN_MD0;
const W_TUN_SRC = W.TUN_SRC;
const W_VLAN0 = W.VLAN0;
const W_VLAN1 = W.VLAN1;
const KEY_END = KEY_WORDS;

/** Link types the extractor understands (a subset of the pcap LINKTYPE_* numbers). */
export const EXTRACT_LINK = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const LINK_NULL = EXTRACT_LINK.NULL;
const LINK_ETHERNET = EXTRACT_LINK.ETHERNET;
const LINK_RAW = EXTRACT_LINK.RAW;
const LINK_LOOP = EXTRACT_LINK.LOOP;
const LINK_SLL = EXTRACT_LINK.LINUX_SLL;
const LINK_IPV4 = EXTRACT_LINK.IPV4;
const LINK_IPV6 = EXTRACT_LINK.IPV6;
const LINK_SLL2 = EXTRACT_LINK.LINUX_SLL2;

export const GENEVE_PORT = 6081;
export const VXLAN_PORT = 4789;

/** The first word that extraction owns; words below it are pipeline metadata. */
export const PACKET_WORDS_START = W_TUN_ID;

/**
 * Multi-byte fields are read through a DataView (one big-endian load each, where byte-wise reads
 * cost four loads and three shifts). The view of the last buffer is kept, so a reader that hands
 * over records of one buffer makes one view, not one per packet. 32-bit reads are signed: stored
 * into the key's Uint32Array they become the same bits, and V8 keeps int32 values unboxed where an
 * unsigned value above 2^31 would be a double.
 */
let viewBuf: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(buf: Uint8Array): DataView<ArrayBufferLike> {
  if (buf !== viewBuf) {
    viewBuf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return view;
}

/**
 * Where the TCP header of the frame last given to `extractKey` is, for readers of what the key
 * leaves out (sequence numbers, window, options: conntrack's window tracking): `header` is its
 * offset from the frame's start, -1 when the frame has no complete TCP header; `end` is where the
 * IP header says the segment ends (which a short capture may cut off).
 */
export const tcpAt = { header: -1, end: 0 };

/**
 * Where the ICMP (`v6`: ICMPv6) message of the frame last given to `extractKey` is, for readers of
 * what the key leaves out (a query's identifier, the packet an error quotes: conntrack): `header`
 * is its offset from the frame's start, -1 when the frame has no ICMP message; `end` is where it
 * ends (the IP header's length, or the capture's end if sooner). Set even for a message too short
 * for the key's fields.
 */
export const icmpAt = { header: -1, end: 0, v6: false };

/**
 * Where the IP header of the frame last given to `extractKey` is when the frame is a fragment (for
 * conntrack's reassembly, which needs the identification and offset the key leaves out): `header`
 * is its offset from the frame's start, -1 for a frame that is not an IPv4 fragment and has no
 * IPv6 fragment header; `captured` is how many bytes of the datagram the frame holds from there
 * (the IP header's length, or less when the capture cut it short). For IPv6 (`v6`), `frag` is the
 * offset of its (first) fragment header, and `l4` where the headers the walk reads end: after the
 * fragment header in a later fragment, after every extension header in a first one (OVS's L4).
 */
export const fragAt = { header: -1, captured: 0, v6: false, frag: -1, l4: -1 };

/**
 * Where the network layer of the frame last given to `extractKey` starts (`start`, from the
 * frame's start; -1 when the link layer could not be read), and an IP datagram's own length there
 * (`length`: the IPv4 total length, or 40 plus the IPv6 payload length; -1 for anything else and
 * for a header whose length field the frame cannot hold): what OVS's `check_pkt_len` measures,
 * the frame's Ethernet padding left out (dataplane/packet-length.ts).
 */
export const l3At = { start: -1, length: -1 };

/** Writes the stop offset and error into the parse word and returns it (as int32, see `u32`). */
function done(key: Uint32Array, flags: number, err: number, at: number): number {
  const word = flags | (err << 8) | ((at > 0xffff ? 0xffff : at) << 16);
  key[W_PARSE] = word;
  return word;
}

/**
 * Clears the packet words of a key that is either all zero or was last filled by `extractKey`.
 * Words that nearly every packet sets are cleared one by one; the tunnel, IPv6/ND and ARP blocks
 * only when the key shows they were used (tunnel flags set, EtherType IPv6 or ARP). Clearing all
 * 35 packet words in a loop cost more than the whole Ethernet/IPv4/TCP parse.
 */
function clearPacketWords(key: Uint32Array): void {
  if (key[W_TUN_FLAGS] !== 0) {
    key[W_TUN_ID] = 0;
    key[W_TUN_SRC] = 0;
    key[W_TUN_DST] = 0;
    key[W_TUN_FLAGS] = 0;
    key[W_TUN_MD0] = 0;
  }
  const prevType = key[W_ETH_TYPE];
  if (prevType === 0x86dd) {
    for (let i = W_IPV6_SRC; i < W_TP; i++) key[i] = 0;
  } else if (prevType === 0x0806 || prevType === 0x8035) {
    key[W_ARP_SHA] = 0;
    key[W_ARP_SHA + 1] = 0;
    key[W_ARP_THA] = 0;
    key[W_ARP_THA + 1] = 0;
  }
  key[W_ETH_DST] = 0;
  key[W_ETH_DST + 1] = 0;
  key[W_ETH_SRC] = 0;
  key[W_ETH_SRC + 1] = 0;
  key[W_VLAN0] = 0;
  key[W_VLAN1] = 0;
  key[W_ETH_TYPE] = 0;
  key[W_NW] = 0;
  key[W_NW_SRC] = 0;
  key[W_NW_DST] = 0;
  key[W_TP] = 0;
  key[W_TCP_FLAGS] = 0;
}

/**
 * Fills the packet words of `key` from the frame at `buf[off, off+len)` captured with link type
 * `linkType`, arriving on `inPort`. Returns the `parse` word (as a signed 32-bit integer; the key
 * holds the same bits unsigned). With `decap`, Geneve and VXLAN
 * packets are decapsulated into the tunnel words plus the inner frame.
 *
 * `key` must be all zero in its packet words or last filled by `extractKey` (the usual case: one
 * key reused for every packet); only the words that can hold something are cleared.
 */
export function extractKey(buf: Uint8Array, off: number, len: number, wireLen: number, linkType: number, key: Uint32Array, inPort: number, decap: boolean): number {
  // The whole parse, link layer to transport, is this one function: V8 does not inline functions
  // this large, and each call between layers cost more than the parsing they did (measured: 46 ns
  // against 15 ns for the straight-line equivalent on an Ethernet/IPv4/UDP frame; a separate
  // parse function behind this entry point still cost 4-5 ns of its 25). Only the rare
  // decapsulation path is a separate function, which calls back in for the inner frame.
  clearPacketWords(key);
  key[W_IN_PORT] = inPort;
  tcpAt.header = -1;
  icmpAt.header = -1;
  fragAt.header = -1;
  l3At.start = -1;
  l3At.length = -1;
  // Bytes the capture cut off (snap length): length fields are checked against the wire length,
  // reads against the captured length.
  // A length beyond the buffer is cut to the buffer, so that no read can fall outside it. That is
  // a call of its own: a typed array's length may exceed int32, so mixing it into `end` here would
  // make V8 do every later length check in floating point.
  if (off + len > buf.length) return extractKey(buf, off, buf.length - off, wireLen, linkType, key, inPort, decap);
  const end = off + len;
  const dv = viewOf(buf);
  const base = off;
  const slack = wireLen > len ? wireLen - len : 0;
  let p = off;
  let flags = 0;
  let ethType: number;
  // Link layer.
  if (linkType === LINK_ETHERNET) {
    if (end - p < 14) return done(key, 0, E_SHORT_ETH, p - base);
    key[W_ETH_DST] = dv.getUint16(p);
    key[W_ETH_DST + 1] = dv.getInt32(p + 2);
    key[W_ETH_SRC] = dv.getUint16(p + 6);
    key[W_ETH_SRC + 1] = dv.getInt32(p + 8);
    flags = P_L2;
    ethType = dv.getUint16(p + 12);
    p += 14;
    let tags = 0;
    while (ethType === 0x8100 || ethType === 0x88a8) {
      if (tags === 2) {
        key[W_ETH_TYPE] = ethType;
        return done(key, flags, E_TOO_MANY_VLANS, p - base);
      }
      if (end - p < 4) {
        key[W_ETH_TYPE] = ethType;
        return done(key, flags | P_TRUNCATED, E_SHORT_VLAN, p - base);
      }
      key[tags === 0 ? W_VLAN0 : W_VLAN1] = (ethType << 16) | dv.getUint16(p) | 0x1000;
      flags |= P_VLAN;
      tags++;
      ethType = dv.getUint16(p + 2);
      p += 4;
    }
    if (ethType < 0x600) {
      // 802.3 length: LLC/SNAP with OUI 0 carries an EtherType; anything else has none.
      if (end - p >= 8 && buf[p] === 0xaa && buf[p + 1] === 0xaa && buf[p + 2] === 0x03 && buf[p + 3] === 0 && buf[p + 4] === 0 && buf[p + 5] === 0) {
        ethType = dv.getUint16(p + 6);
        p += 8;
      } else {
        key[W_ETH_TYPE] = 0x05ff;
        return done(key, flags, E_NONE, p - base);
      }
    }
  } else if (linkType === LINK_RAW || linkType === LINK_IPV4 || linkType === LINK_IPV6) {
    if (p >= end) return done(key, 0, E_SHORT_IPV4, 0);
    const v = buf[p]! >>> 4;
    ethType = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
    if (ethType === 0) return done(key, 0, E_BAD_IPV4_VERSION, 0);
    flags = P_L2;
  } else if (linkType === LINK_NULL || linkType === LINK_LOOP) {
    if (end - p < 4) return done(key, 0, E_SHORT_ETH, 0);
    // The family is host order for NULL and network order for LOOP; files from both little- and
    // big-endian hosts occur, so either reading is accepted.
    const be = dv.getInt32(p);
    const le = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    const fam = linkType === LINK_LOOP ? be : le;
    const f = fam === 2 || be === 2 ? 2 : fam === 24 || fam === 28 || fam === 30 || be === 24 || be === 28 || be === 30 ? 6 : 0;
    p += 4;
    if (f === 0) return done(key, 0, E_NONE, 4);
    ethType = f === 2 ? 0x0800 : 0x86dd;
    flags = P_L2;
  } else if (linkType === LINK_SLL) {
    if (end - p < 16) return done(key, 0, E_SHORT_ETH, end - p);
    ethType = dv.getUint16(p + 14);
    p += 16;
    flags = P_L2;
  } else if (linkType === LINK_SLL2) {
    if (end - p < 20) return done(key, 0, E_SHORT_ETH, end - p);
    ethType = dv.getUint16(p);
    p += 20;
    flags = P_L2;
  } else {
    return done(key, 0, E_NONE, 0);
  }
  key[W_ETH_TYPE] = ethType;
  l3At.start = p - base;

  // Network layer.
  let proto: number;
  let l4end: number;
  let declaredEnd: number;
  let v6 = false;
  if (ethType === 0x0800) {
    if (end - p < 20) return done(key, flags | P_TRUNCATED, E_SHORT_IPV4, p - base);
    const vihl = buf[p]!;
    if (vihl >>> 4 !== 4) return done(key, flags | P_MALFORMED, E_BAD_IPV4_VERSION, p - base);
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20) return done(key, flags | P_MALFORMED, E_BAD_IPV4_IHL, p - base);
    if (end - p < ihl) return done(key, flags | P_TRUNCATED, E_SHORT_IPV4, p - base);
    const tot = dv.getUint16(p + 2);
    if (tot < ihl || tot > end - p + slack) return done(key, flags | P_MALFORMED, E_BAD_IPV4_LENGTH, p - base);
    proto = buf[p + 9]!;
    l3At.length = tot;
    const fragWord = dv.getUint16(p + 6);
    const fragOff = fragWord & 0x1fff;
    const frag = fragOff !== 0 ? F_ANY | F_LATER : (fragWord & 0x2000) !== 0 ? F_ANY : 0;
    key[W_NW] = proto | (buf[p + 1]! << 8) | (buf[p + 8]! << 16) | (frag << 24);
    key[W_NW_SRC] = dv.getInt32(p + 12);
    key[W_NW_DST] = dv.getInt32(p + 16);
    flags |= P_L3;
    l4end = p + tot;
    declaredEnd = l4end;
    if (l4end > end) {
      l4end = end;
      flags |= P_TRUNCATED;
    }
    if (frag !== 0) {
      fragAt.header = p - base;
      fragAt.captured = l4end - p;
      fragAt.v6 = false;
    }
    p += ihl;
    if (fragOff !== 0) return done(key, flags, E_NONE, p - base);
  } else if (ethType === 0x86dd) {
    if (end - p < 40) return done(key, flags | P_TRUNCATED, E_SHORT_IPV6, p - base);
    const w0 = dv.getInt32(p);
    if (w0 >>> 28 !== 6) return done(key, flags | P_MALFORMED, E_BAD_IPV6_VERSION, p - base);
    const plen = dv.getUint16(p + 4);
    if (plen > end - p - 40 + slack) return done(key, flags | P_MALFORMED, E_BAD_IPV6_LENGTH, p - base);
    l3At.length = 40 + plen;
    // A payload length of zero with a hop-by-hop header is a jumbogram; its length is in the
    // Jumbo Payload option, and the captured frame bounds it anyway.
    l4end = plen === 0 && buf[p + 6] === 0 ? end : p + 40 + plen;
    declaredEnd = l4end;
    if (l4end > end) {
      l4end = end;
      flags |= P_TRUNCATED;
    }
    for (let i = 0; i < 4; i++) {
      key[W_IPV6_SRC + i] = dv.getInt32(p + 8 + 4 * i);
      key[W_IPV6_DST + i] = dv.getInt32(p + 24 + 4 * i);
    }
    key[W_IPV6_LABEL] = w0 & 0xfffff;
    const nwBits = (((w0 >>> 20) & 0xff) << 8) | (buf[p + 7]! << 16);
    proto = buf[p + 6]!;
    const ip6 = p;
    p += 40;
    v6 = true;
    let frag = 0;
    let later = false;
    flags |= P_L3;
    // Extension headers: bounded by the payload, each at least 8 bytes, so the walk ends.
    while (proto === 0 || proto === 43 || proto === 60 || proto === 51 || proto === 44) {
      if (l4end - p < 8) {
        key[W_NW] = proto | nwBits | (frag << 24);
        return done(key, flags | P_TRUNCATED, E_SHORT_IPV6_EXT, p - base);
      }
      const nxt = buf[p]!;
      if (proto === 44) {
        // As OVS: a fragment header whose offset, flags and reserved bits are all zero (an
        // "atomic" fragment) makes no fragment.
        const offlg = dv.getUint16(p + 2);
        if (offlg !== 0) {
          frag |= F_ANY;
          if (fragAt.header < 0) {
            fragAt.header = ip6 - base;
            fragAt.captured = l4end - ip6;
            fragAt.v6 = true;
            fragAt.frag = p - base;
            fragAt.l4 = p + 8 - base;
          }
        }
        if ((offlg & 0xfff8) !== 0) {
          frag |= F_LATER;
          later = true;
        }
        p += 8;
      } else {
        const hlen = proto === 51 ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
        if (l4end - p < hlen) {
          key[W_NW] = proto | nwBits | (frag << 24);
          return done(key, flags | P_TRUNCATED, E_SHORT_IPV6_EXT, p - base);
        }
        p += hlen;
      }
      proto = nxt;
      if (later) break;
    }
    key[W_NW] = proto | nwBits | (frag << 24);
    if (frag !== 0) fragAt.l4 = p - base;
    if (later) return done(key, flags, E_NONE, p - base);
  } else if (ethType === 0x0806 || ethType === 0x8035) {
    if (end - p < 28) return done(key, flags | P_TRUNCATED, E_SHORT_ARP, p - base);
    // Only Ethernet/IPv4 ARP fills the ARP fields, as in OVS.
    if (dv.getUint16(p) === 1 && dv.getUint16(p + 2) === 0x0800 && buf[p + 4] === 6 && buf[p + 5] === 4) {
      const op = dv.getUint16(p + 6);
      if (op <= 0xff) key[W_NW] = op;
      key[W_ARP_SHA] = dv.getUint16(p + 8);
      key[W_ARP_SHA + 1] = dv.getInt32(p + 10);
      key[W_NW_SRC] = dv.getInt32(p + 14);
      key[W_ARP_THA] = dv.getUint16(p + 18);
      key[W_ARP_THA + 1] = dv.getInt32(p + 20);
      key[W_NW_DST] = dv.getInt32(p + 24);
      flags |= P_L3;
    }
    return done(key, flags, E_NONE, p + 28 - base);
  } else {
    return done(key, flags, E_NONE, p - base);
  }

  // Transport layer.
  const room = l4end - p;
  if (proto === 6) {
    if (room < 20) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
    const doff = (buf[p + 12]! >>> 4) * 4;
    if (doff < 20 || doff > room) return done(key, flags | P_MALFORMED, E_SHORT_L4, p - base);
    key[W_TP] = dv.getInt32(p);
    key[W_TCP_FLAGS] = dv.getUint16(p + 12) & 0x0fff;
    tcpAt.header = p - base;
    tcpAt.end = declaredEnd - base;
    return done(key, flags | P_L4, E_NONE, p + doff - base);
  }
  if (proto === 17) {
    if (room < 8) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
    const ports = dv.getInt32(p);
    key[W_TP] = ports;
    const dport = ports & 0xffff;
    if (decap && !v6 && (dport === GENEVE_PORT || dport === VXLAN_PORT)) {
      return decapsulate(buf, dv, p + 8, l4end, key, flags | P_L4, dport === VXLAN_PORT, base, slack, inPort);
    }
    return done(key, flags | P_L4, E_NONE, p + 8 - base);
  }
  if (proto === 132) {
    if (room < 12) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
    key[W_TP] = dv.getInt32(p);
    return done(key, flags | P_L4, E_NONE, p + 12 - base);
  }
  if (proto === 1 && !v6) {
    icmpAt.header = p - base;
    icmpAt.end = l4end - base;
    icmpAt.v6 = false;
    if (room < 8) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
    key[W_TP] = (buf[p]! << 16) | buf[p + 1]!;
    return done(key, flags | P_L4, E_NONE, p + 8 - base);
  }
  if (proto === 58 && v6) {
    icmpAt.header = p - base;
    icmpAt.end = l4end - base;
    icmpAt.v6 = true;
    if (room < 4) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
    const type = buf[p]!;
    const code = buf[p + 1]!;
    key[W_TP] = (type << 16) | code;
    if ((type === 135 || type === 136) && code === 0) {
      if (room < 24) return done(key, flags | P_TRUNCATED, E_SHORT_L4, p - base);
      for (let i = 0; i < 4; i++) key[W_ND_TARGET + i] = dv.getInt32(p + 8 + 4 * i);
      // The reserved word (an advertisement's router, solicited and override flags), kept where a
      // TCP segment's flags go, as OVS keys it beside the target.
      key[W_TCP_FLAGS] = dv.getInt32(p + 4);
      // Options: a source (1) or target (2) link-layer address of 8 bytes fills arp_sha or
      // arp_tha, in a solicitation or an advertisement alike. A repeated address option makes
      // the message invalid, and as in OVS it then clears the target and both addresses.
      let o = p + 24;
      let sll = false;
      let tll = false;
      while (l4end - o >= 8) {
        const ot = buf[o]!;
        const olen = buf[o + 1]! * 8;
        if (olen === 0 || olen > l4end - o) break;
        if (olen === 8 && (ot === 1 || ot === 2)) {
          if ((ot === 1 && sll) || (ot === 2 && tll)) {
            for (let i = 0; i < 4; i++) key[W_ND_TARGET + i] = 0;
            key[W_ARP_SHA] = 0;
            key[W_ARP_SHA + 1] = 0;
            key[W_ARP_THA] = 0;
            key[W_ARP_THA + 1] = 0;
            break;
          }
          const w = ot === 1 ? W_ARP_SHA : W_ARP_THA;
          key[w] = dv.getUint16(o + 2);
          key[w + 1] = dv.getInt32(o + 4);
          if (ot === 1) sll = true;
          else tll = true;
        }
        o += olen;
      }
    }
    return done(key, flags | P_L4, E_NONE, p + 4 - base);
  }
  return done(key, flags, E_NONE, p - base);
}

function decapsulate(buf: Uint8Array, dv: DataView<ArrayBufferLike>, p: number, end: number, key: Uint32Array, flags: number, vxlan: boolean, base: number, slack: number, inPort: number): number {
  const outerSrc = key[W_NW_SRC]!;
  const outerDst = key[W_NW_DST]!;
  let vni: number;
  let tflags = T_PRESENT;
  let md0 = 0;
  let inner: number;
  if (end - p < 8) return done(key, flags | P_TRUNCATED, E_SHORT_TUNNEL, p - base);
  if (vxlan) {
    if ((buf[p]! & 0x08) === 0) return done(key, flags | P_MALFORMED, E_BAD_TUNNEL, p - base);
    vni = (dv.getInt32(p + 4) >>> 8) & 0xffffff;
    tflags |= T_VXLAN;
    inner = p + 8;
  } else {
    const ver = buf[p]! >>> 6;
    const optLen = (buf[p]! & 0x3f) * 4;
    if (ver !== 0) return done(key, flags | P_MALFORMED, E_BAD_TUNNEL, p - base);
    if (buf[p + 1]! & 0x80) tflags |= T_OAM;
    const ptype = dv.getUint16(p + 2);
    vni = (dv.getInt32(p + 4) >>> 8) & 0xffffff;
    if (end - p < 8 + optLen) return done(key, flags | P_TRUNCATED, E_SHORT_TUNNEL, p - base);
    let o = p + 8;
    const oend = o + optLen;
    while (oend - o >= 4) {
      const cls = dv.getUint16(o);
      const type = buf[o + 2]!;
      const dlen = (buf[o + 3]! & 0x1f) * 4;
      if (dlen > oend - o - 4) return done(key, flags | P_MALFORMED, E_BAD_TUNNEL, o - base);
      if (cls === 0x0102 && type === 0x80 && dlen === 4) {
        md0 = dv.getInt32(o + 4);
        tflags |= T_MD0_PRESENT;
      } else if (type & 0x80) {
        tflags |= T_UNKNOWN_CRIT;
      }
      o += 4 + dlen;
    }
    inner = oend;
    // Only Ethernet payloads are decapsulated; anything else stays an outer packet.
    if (ptype !== 0x6558) return done(key, flags, E_NONE, inner - base);
  }
  // The inner frame is parsed by a call back into extractKey on the cleared key; the tunnel words
  // are filled after it (extractKey clears them when it finds them set), and its stop offset is
  // moved to count from the outer frame's start.
  for (let i = W_ETH_DST; i < KEY_END; i++) key[i] = 0;
  const r = extractKey(buf, inner, end - inner, end - inner + slack, LINK_ETHERNET, key, inPort, false);
  key[W_TUN_ID] = vni;
  key[W_TUN_SRC] = outerSrc;
  key[W_TUN_DST] = outerDst;
  key[W_TUN_FLAGS] = tflags;
  key[W_TUN_MD0] = md0;
  const at = (r >>> 16) + inner - base;
  const word = (r & 0xffff) | P_TUNNEL | ((at > 0xffff ? 0xffff : at) << 16);
  key[W_PARSE] = word;
  return word;
}
