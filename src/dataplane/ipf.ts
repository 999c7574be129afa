/**
 * IP fragments in front of conntrack, as OVS's userspace datapath handles them (`lib/ipf.c`):
 * conntrack tracks whole datagrams, so the fragments of one are held until they are all there,
 * then the reassembled datagram goes through conntrack and every fragment goes on with its verdict.
 *
 * What
 * ----
 * `IpFragment` is what the key leaves out of a fragment (its identification, offset, more-fragments
 * flag, length): the replay fills it from each frame, as it fills `TcpSegment`. At a conntrack
 * action, a datapath with reassembly on (`DatapathOptions.reassembly`) hands an IPv4 fragment, or
 * an IPv6 packet with a fragment header, to `FragmentLists` instead of conntrack:
 * - A fragment OVS would not reassemble is `inv` and goes on at once: one whose datagram the frame
 *   does not wholly hold (IP total length, or IPv6 payload length, beyond the captured bytes), or
 *   whose frame was not read (a key injected without `Replayer.beginPacket`), one before the last
 *   that is shorter than 1,200 bytes (IPv6: 1,280 with its header; OVS's `min_v4_frag_size` and
 *   `min_v6_frag_size`), one that overlaps a fragment already held; and an IPv6 fragment header
 *   with neither offset nor more-fragments flag but some reserved bit, which OVS's reassembly
 *   passes by and its conntrack cannot key. (One with none of them set is no fragment at all, to
 *   the flow key as to OVS.)
 * - Otherwise it is held in the list of its datagram at that action: (recirculation id, zone,
 *   source, destination, protocol, identification), as OVS keys it; for IPv6 without the protocol,
 *   and with the fragment header's 32-bit identification. An IPv6 fragment's data is its L4 part
 *   as OVS counts it (`IpFragment.readV6`). Nothing more happens to it.
 * - The fragment that completes the list (first and last seen, the data contiguous from offset 0)
 *   releases it: the datagram (the first fragment's key, not a fragment any more) goes through
 *   conntrack, and each fragment, in offset order, gets its result (`ct_state`, zone, mark, label,
 *   the original tuple, and NAT's addresses, its ports for the first fragment) and goes on from the
 *   conntrack action, each as the packet it is: its own frame for outputs (`PacketContext`).
 * A datagram's fragments at the next conntrack action are reassembled again, as in OVS.
 *
 * Lists that never complete (with a clock: `add` and `expire` are given the time). A list has 15 s
 * from its first fragment (OVS's `IPF_FRAG_LIST_TIMEOUT`); until then, or until a conntrack action
 * looks at it, it may still complete. Each conntrack action after the current packet's own looks
 * at the oldest list (`expire`, one list per action, as OVS's `ipf_send_expired_frags`): past its
 * time, its fragments go on from that action as the packets they are, `ct_state` invalid alone (not
 * tracked), with the action's own continuation (the datapath's to say); 10 s later still
 * (`IPF_FRAG_LIST_PURGE_TIME_ADJ`), they are deleted instead. Counted in `expiredSent` and `purged`.
 *
 * Not modelled: the checksum of the fragment's IP header, the global limit on held fragments, OVS's
 * cleaning thread (which also deletes lists 10 s past their time, every minute of its own clock).
 */
import { getU16, getU32 } from "../base/index.js";
import { FRAG, W } from "../flow/index.js";

/** OVS's `IPF_V4_FRAG_SIZE_MIN_DEF`: a fragment before the last must have this many bytes of IP datagram. */
export const MIN_V4_FRAGMENT = 1200;

/** OVS's `IPF_V6_FRAG_SIZE_MIN_DEF`: the same for IPv6 (its IPv6 header included). */
export const MIN_V6_FRAGMENT = 1280;

/** OVS's `IPF_FRAG_LIST_TIMEOUT`: how long a list may wait for its fragments, in milliseconds. */
export const FRAGMENT_LIST_TIMEOUT = 15_000;

/** OVS's `IPF_FRAG_LIST_PURGE_TIME_ADJ`: past its time by this much, a list is deleted, not sent on. */
export const FRAGMENT_LIST_PURGE_AFTER = 10_000;

/** The fragment fields of the packet being processed (a side channel of its frame). */
export class IpFragment {
  /**
   * The packet is an IPv4 fragment, or IPv6 with a fragment header that makes it one (offset,
   * flags or reserved bits not all zero), and the fields below are its own.
   */
  present = false;
  /** It is IPv6: `id` is the fragment header's, `total` the IPv6 header and its payload. */
  v6 = false;
  /** The frame holds the whole fragment the IP header declares. */
  whole = false;
  id = 0;
  /** Offset of its data in the datagram, in bytes. */
  offset = 0;
  /** Bytes of data (after the IP header). */
  length = 0;
  /** The more-fragments flag. */
  more = false;
  /** IP total length (header and data). */
  total = 0;

  /** Reads the fragment's IPv4 header at `buf[l3 ..]`, of which the frame holds `captured` bytes. */
  read(buf: Uint8Array, l3: number, captured: number): void {
    const ihl = (buf[l3]! & 0x0f) * 4;
    this.total = getU16(buf, l3 + 2);
    this.id = getU16(buf, l3 + 4);
    const f = getU16(buf, l3 + 6);
    this.offset = (f & 0x1fff) * 8;
    this.more = (f & 0x2000) !== 0;
    this.length = this.total - ihl;
    this.whole = captured >= this.total;
    this.present = true;
    this.v6 = false;
  }

  /**
   * Reads an IPv6 fragment: its IPv6 header at `buf[l3 ..]`, of which the frame holds `captured`
   * bytes, its fragment header at `buf[fh ..]`, and its L4 part at `buf[l4 ..]` (`fragAt`). Its
   * data is what OVS counts: from `l4` to the end, so that extension headers after the fragment
   * header of a first fragment leave a gap no later fragment fills (as in OVS, which then never
   * completes the datagram).
   */
  readV6(buf: Uint8Array, l3: number, fh: number, l4: number, captured: number): void {
    this.total = 40 + getU16(buf, l3 + 4);
    const f = getU16(buf, fh + 2);
    this.offset = f & 0xfff8;
    this.more = (f & 1) !== 0;
    this.id = getU32(buf, fh + 4);
    this.length = this.total - (l4 - l3);
    this.whole = captured >= this.total;
    this.present = true;
    this.v6 = true;
  }

  copyFrom(o: IpFragment): void {
    this.present = o.present;
    this.v6 = o.v6;
    this.whole = o.whole;
    this.id = o.id;
    this.offset = o.offset;
    this.length = o.length;
    this.more = o.more;
    this.total = o.total;
  }
}

/** Whether a key is an IPv4 or IPv6 fragment (first or later; its `nw_frag` says so). */
export function isFragment(key: Uint32Array): boolean {
  const et = key[W.ETH_TYPE];
  return (et === 0x0800 || et === 0x86dd) && ((key[W.NW]! >>> 24) & FRAG.ANY) !== 0;
}

/**
 * The packet a held fragment is, for whoever writes packets out: the datapath's owner saves it when
 * a fragment is held, and restores it while the fragment goes on (the replay's current frame, its
 * TCP segment, its `IpFragment`).
 */
export interface PacketContext<S = unknown> {
  save(): S;
  restore(saved: S): void;
  /** The `IpFragment` of the packet being processed. */
  readonly fragment: IpFragment;
}

/** A held fragment: what it is, and `resume`, where it goes on from (the holder's to say). */
export interface HeldFragment<R> {
  /** Its key at the conntrack action (a copy). */
  readonly key: Uint32Array;
  readonly resume: R;
  readonly start: number;
  readonly end: number;
  readonly more: boolean;
  /** Its `PacketContext`, saved. */
  readonly context: unknown;
}

interface FragList<R> {
  readonly held: HeldFragment<R>[];
  first: boolean;
  last: boolean;
  /** When its time is up (Infinity without a clock). */
  readonly expires: number;
}

/** Outcome of `FragmentLists.add`. */
export type AddResult<R> = { readonly kind: "invalid" } | { readonly kind: "held" } | { readonly kind: "complete"; readonly fragments: readonly HeldFragment<R>[] };

/** The fragment lists of one datapath (see the module header). */
export class FragmentLists<R> {
  /** By list key; a Map keeps them in the order they were made, oldest first. */
  private readonly lists = new Map<string, FragList<R>>();
  /** Fragments of expired lists sent on as invalid. */
  expiredSent = 0;
  /** Fragments of expired lists deleted. */
  purged = 0;

  /** Lists held now. */
  get size(): number {
    return this.lists.size;
  }

  /** Fragments held now. */
  get held(): number {
    let n = 0;
    for (const l of this.lists.values()) n += l.held.length;
    return n;
  }

  /**
   * Takes fragment `f` of the packet whose key at a conntrack action in `zone` is `key`: invalid,
   * held, or completing its datagram (then the list's fragments in offset order, and the list is
   * gone).
   */
  add(f: IpFragment, key: Uint32Array, zone: number, held: Omit<HeldFragment<R>, "start" | "end" | "more">, now = Infinity): AddResult<R> {
    if (!f.present || !f.whole || (f.more && f.total < (f.v6 ? MIN_V6_FRAGMENT : MIN_V4_FRAGMENT))) return { kind: "invalid" };
    // An IPv6 fragment header with neither offset nor more-fragments flag (its reserved bits set):
    // OVS's reassembly passes it by, and its conntrack keys no packet its flow key calls a fragment.
    if (f.v6 && f.offset === 0 && !f.more) return { kind: "invalid" };
    // OVS's list key: for IPv6 the addresses and identification, without the protocol.
    const id = f.v6
      ? `${key[W.RECIRC_ID]}/${zone}/6/${key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4).join(".")}/${key.subarray(W.IPV6_DST, W.IPV6_DST + 4).join(".")}/${f.id}`
      : `${key[W.RECIRC_ID]}/${zone}/${key[W.NW_SRC]}/${key[W.NW_DST]}/${key[W.NW]! & 0xff}/${f.id}`;
    let list = this.lists.get(id);
    const start = f.offset;
    const end = f.offset + f.length;
    // OVS's overlap test (`ipf_is_frag_duped`): either end of the new fragment inside a held one.
    // A fragment that wholly covers a held one passes it, as it does in OVS.
    if (list !== undefined && list.held.some((h) => (start >= h.start && start < h.end) || (end > h.start && end <= h.end))) return { kind: "invalid" };
    if (list === undefined) {
      list = { held: [], first: false, last: false, expires: now + FRAGMENT_LIST_TIMEOUT };
      this.lists.set(id, list);
    }
    list.held.push({ ...held, start, end, more: f.more });
    if (start === 0) list.first = true;
    if (!f.more) list.last = true;
    if (!list.first || !list.last) return { kind: "held" };
    const sorted = [...list.held].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const h of sorted) {
      if (h.start !== at) return { kind: "held" };
      at = h.end;
      if (!h.more) break;
    }
    if (sorted[sorted.length - 1]!.more) return { kind: "held" };
    this.lists.delete(id);
    return { kind: "complete", fragments: sorted };
  }

  /**
   * At a conntrack action at time `now`: the oldest list, when its time is up, leaves. Its
   * fragments in the order they came are returned to go on (as invalid), or, 10 s later still,
   * deleted (an empty array). Undefined when no list's time is up.
   */
  expire(now: number): readonly HeldFragment<R>[] | undefined {
    for (const [id, list] of this.lists) {
      if (now <= list.expires) return undefined;
      this.lists.delete(id);
      if (now >= list.expires + FRAGMENT_LIST_PURGE_AFTER) {
        this.purged += list.held.length;
        return [];
      }
      this.expiredSent += list.held.length;
      return list.held;
    }
    return undefined;
  }

  clear(): void {
    this.lists.clear();
  }
}

/** The conntrack words a reassembled datagram's result gives each of its fragments. */
const CT_WORDS: readonly number[] = [W.CT_STATE_ZONE, W.CT_MARK, W.CT_LABEL, W.CT_LABEL + 1, W.CT_LABEL + 2, W.CT_LABEL + 3, W.CT_NW_SRC, W.CT_NW_DST, W.CT_NW_PROTO, W.CT_TP];

/**
 * Gives fragment `frag` the result conntrack gave its reassembled datagram `datagram`: the
 * conntrack fields, the addresses (NAT), and for the first fragment the transport ports.
 */
export function applyDatagramResult(datagram: Uint32Array, frag: Uint32Array, first: boolean): void {
  for (const w of CT_WORDS) frag[w] = datagram[w]!;
  for (let i = 0; i < 8; i++) frag[W.CT_IPV6_SRC + i] = datagram[W.CT_IPV6_SRC + i]!;
  frag[W.NW_SRC] = datagram[W.NW_SRC]!;
  frag[W.NW_DST] = datagram[W.NW_DST]!;
  for (let i = 0; i < 4; i++) {
    frag[W.IPV6_SRC + i] = datagram[W.IPV6_SRC + i]!;
    frag[W.IPV6_DST + i] = datagram[W.IPV6_DST + i]!;
  }
  if (first) frag[W.TP] = datagram[W.TP]!;
}
