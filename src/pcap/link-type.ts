/**
 * Link-layer header types of capture files (the LINKTYPE_* registry of tcpdump.org).
 *
 * A capture's link type says what the first bytes of each packet are: an Ethernet header, a Linux
 * "cooked" header, a bare IP header, and so on. The set is open: `LinkType` names the values this
 * project meets or prints, and any other number passes through the readers untouched. Readers only
 * report link types; deciding what to do with a packet of an unsupported type is the consumer's job,
 * and `LinkTypeCounter` is the small helper for that (accept or count as skipped, per type).
 *
 * Values are the file-format values (LINKTYPE_*), which differ from some platforms' DLT_* values
 * (for example LINKTYPE_RAW is 101 in files, whatever DLT_RAW is on the capturing host).
 */

/** LINKTYPE_* values as stored in pcap headers and pcapng interface description blocks. */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the capturing host's byte order, then the packet. */
  NULL: 0,
  ETHERNET: 1,
  AX25: 3,
  IEEE802_5: 6,
  ARCNET_BSD: 7,
  SLIP: 8,
  PPP: 9,
  FDDI: 10,
  PPP_HDLC: 50,
  PPP_ETHER: 51,
  ATM_RFC1483: 100,
  /** A bare IPv4 or IPv6 packet; the version nibble tells which. */
  RAW: 101,
  C_HDLC: 104,
  IEEE802_11: 105,
  FRELAY: 107,
  /** OpenBSD loopback: a 4-byte address family in network byte order, then the packet. */
  LOOP: 108,
  ENC: 109,
  /** Linux "cooked" capture, version 1 (16-byte header). */
  LINUX_SLL: 113,
  LTALK: 114,
  PFLOG: 117,
  IEEE802_11_PRISM: 119,
  IP_OVER_FC: 122,
  SUNATM: 123,
  IEEE802_11_RADIOTAP: 127,
  ARCNET_LINUX: 129,
  APPLE_IP_OVER_IEEE1394: 138,
  MTP2_WITH_PHDR: 139,
  MTP2: 140,
  MTP3: 141,
  SCCP: 142,
  DOCSIS: 143,
  LINUX_IRDA: 144,
  USER0: 147,
  USER15: 162,
  IEEE802_11_AVS: 163,
  BACNET_MS_TP: 165,
  PPP_PPPD: 166,
  GPRS_LLC: 169,
  LINUX_LAPD: 177,
  BLUETOOTH_HCI_H4: 187,
  USB_LINUX: 189,
  PPI: 192,
  IEEE802_15_4_WITHFCS: 195,
  SITA: 196,
  ERF: 197,
  BLUETOOTH_HCI_H4_WITH_PHDR: 201,
  AX25_KISS: 202,
  LAPD: 203,
  PPP_WITH_DIR: 204,
  C_HDLC_WITH_DIR: 205,
  I2C_LINUX: 209,
  IEEE802_15_4_NONASK_PHY: 215,
  USB_LINUX_MMAPPED: 220,
  FC_2: 224,
  IPNET: 226,
  CAN_SOCKETCAN: 227,
  /** A bare IPv4 packet. */
  IPV4: 228,
  /** A bare IPv6 packet. */
  IPV6: 229,
  IEEE802_15_4_NOFCS: 230,
  DBUS: 231,
  DVB_CI: 235,
  MUX27010: 236,
  STANAG_5066_D_PDU: 237,
  NFLOG: 239,
  NETANALYZER: 240,
  NETANALYZER_TRANSPARENT: 241,
  IPOIB: 242,
  MPEG_2_TS: 243,
  NG40: 244,
  NFC_LLCP: 245,
  INFINIBAND: 247,
  SCTP: 248,
  USBPCAP: 249,
  RTAC_SERIAL: 250,
  BLUETOOTH_LE_LL: 251,
  WIRESHARK_UPPER_PDU: 252,
  NETLINK: 253,
  BLUETOOTH_LINUX_MONITOR: 254,
  BLUETOOTH_BREDR_BB: 255,
  BLUETOOTH_LE_LL_WITH_PHDR: 256,
  PROFIBUS_DL: 257,
  PKTAP: 258,
  EPON: 259,
  IPMI_HPM_2: 260,
  ZWAVE_R1_R2: 261,
  ZWAVE_R3: 262,
  WATTSTOPPER_DLM: 263,
  ISO_14443: 264,
  RDS: 265,
  USB_DARWIN: 266,
  SDLC: 268,
  LORATAP: 270,
  VSOCK: 271,
  NORDIC_BLE: 272,
  DOCSIS31_XRA31: 273,
  ETHERNET_MPACKET: 274,
  DISPLAYPORT_AUX: 275,
  /** Linux "cooked" capture, version 2 (20-byte header with the interface index). */
  LINUX_SLL2: 276,
  OPENVIZSLA: 278,
  EBHSCR: 279,
  VPP_DISPATCH: 280,
  DSA_TAG_BRCM: 281,
  DSA_TAG_BRCM_PREPEND: 282,
  IEEE802_15_4_TAP: 283,
  DSA_TAG_DSA: 284,
  DSA_TAG_EDSA: 285,
  ELEE: 286,
  Z_WAVE_SERIAL: 287,
  USB_2_0: 288,
  ATSC_ALP: 289,
  ETW: 290,
  ZBOSS_NCP: 292,
  USB_2_0_LOW_SPEED: 293,
  USB_2_0_FULL_SPEED: 294,
  USB_2_0_HIGH_SPEED: 295,
  AUERSWALD_LOG: 296,
  ZWAVE_TAP: 297,
  SILABS_DEBUG_CHANNEL: 298,
  FIRA_UCI: 299,
  MDB: 300,
  DECT_NR: 301,
} as const;

/** A link type: one of the named values, or any other number (the set is open). */
export type LinkType = (typeof LinkType)[keyof typeof LinkType] | number;

const NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, value] of Object.entries(LinkType)) if (!m.has(value)) m.set(value, name);
  for (let i = 1; i < 15; i++) m.set(LinkType.USER0 + i, `USER${i}`);
  return m;
})();

/** The registry name of a link type (`ETHERNET`, `LINUX_SLL2`), or `LINKTYPE_<n>` when unknown. */
export function linkTypeName(lt: number): string {
  return NAMES.get(lt) ?? `LINKTYPE_${lt}`;
}

/**
 * True for the link types the packet layer decodes: Ethernet, Linux cooked v1 and v2, bare IP
 * (RAW, IPV4, IPV6) and the BSD/OpenBSD loopback headers (NULL, LOOP).
 */
export function isSupportedLinkType(lt: number): boolean {
  switch (lt) {
    case LinkType.ETHERNET:
    case LinkType.LINUX_SLL:
    case LinkType.LINUX_SLL2:
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.NULL:
    case LinkType.LOOP:
      return true;
    default:
      return false;
  }
}

/**
 * Decides per packet whether its link type is wanted and counts the ones that are not.
 *
 * `accept(linkType)` is cheap for accepted types (one predicate call) and increments a per-type
 * counter otherwise; `skipped` and `describeSkipped()` say what was left out, so a consumer can
 * report "12 packets skipped: link type IEEE802_11 (105)" instead of dropping them silently.
 */
export class LinkTypeCounter {
  readonly skipped = new Map<number, number>();
  private readonly wanted: (lt: number) => boolean;

  constructor(wanted: (lt: number) => boolean = isSupportedLinkType) {
    this.wanted = wanted;
  }

  /** True when packets of this link type should be processed; otherwise counts one skipped packet. */
  accept(linkType: number): boolean {
    if (this.wanted(linkType)) return true;
    this.skipped.set(linkType, (this.skipped.get(linkType) ?? 0) + 1);
    return false;
  }

  /** Total number of packets skipped. */
  get skippedTotal(): number {
    let n = 0;
    for (const c of this.skipped.values()) n += c;
    return n;
  }

  /** One line per skipped link type, in increasing link-type order. */
  describeSkipped(): string[] {
    return [...this.skipped.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([lt, n]) => `${n} packet${n === 1 ? "" : "s"} skipped: link type ${linkTypeName(lt)} (${lt}) is not supported`);
  }
}
