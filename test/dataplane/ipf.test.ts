/**
 * IP fragments before conntrack (src/dataplane/ipf.ts): the fragment lists alone, and replays of
 * fragmented datagrams through a network with a stateful ACL, where conntrack's verdict decides
 * what is delivered. Frames are built byte by byte here.
 */
import { describe, expect, it } from "vitest";
import { be16, be32, getU16, getU32 } from "../../src/base/index.js";
import { FRAGMENT_LIST_PURGE_AFTER, FRAGMENT_LIST_TIMEOUT, FragmentLists, IpFragment, MIN_V4_FRAGMENT, isFragment, type PacketSink } from "../../src/dataplane/index.js";
import { KEY_WORDS, W, extractKey, fragAt } from "../../src/flow/index.js";
import { internetChecksum } from "../../src/packet/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { Replayer, injectAt, type ReplayReport } from "../../src/replay/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { twoPodNetwork } from "./build.js";


const A = 0x0a10000a; // 10.16.0.10, pod-a
const B = 0x0a10000b; // 10.16.0.11, pod-b

/** One IPv4 fragment of datagram `id` from A to B: `data` at byte `offset`, `more` fragments after it. */
function fragment(id: number, offset: number, more: boolean, data: Uint8Array, src = A, dst = B): Uint8Array {
  const total = 20 + data.length;
  const ip = new Uint8Array([0x45, 0, ...be16(total), ...be16(id), ...be16((more ? 0x2000 : 0) | (offset / 8)), 64, 17, 0, 0, ...be32(src), ...be32(dst)]);
  ip.set(be16(internetChecksum(ip, 0, 20)), 10);
  const eth = new Uint8Array([0, 0, 0, 0x16, 0, dst & 0xff, 0, 0, 0, 0x16, 0, src & 0xff, 8, 0]);
  const f = new Uint8Array(14 + total);
  f.set(eth);
  f.set(ip, 14);
  f.set(data, 34);
  return f;
}

/** A UDP datagram's bytes (header and `n` bytes of payload) from port 40000 to 9000. */
function datagram(n: number): Uint8Array {
  const d = new Uint8Array(8 + n).fill(0x61);
  d.set([...be16(40000), ...be16(9000), ...be16(8 + n), 0, 0]);
  return d;
}

function fragmentOf(frame: Uint8Array): IpFragment {
  const key = new Uint32Array(KEY_WORDS);
  extractKey(frame, 0, frame.length, frame.length, 1, key, 0, false);
  const f = new IpFragment();
  if (fragAt.header >= 0) f.read(frame, fragAt.header, fragAt.captured);
  return f;
}

/** fd00::`host` as 16 bytes. */
const v6addr = (host: number): number[] => [0xfd, 0, ...new Array<number>(13).fill(0), host];

/**
 * An IPv6 packet from fd00::a to fd00::b whose fragment header (next header `next`) has `offlg`
 * (offset | reserved bits | M) and identification `id`, carrying `data`.
 */
function fragment6(id: number, offlg: number, data: Uint8Array, next = 17): Uint8Array {
  const ip = [0x60, 0, 0, 0, ...be16(8 + data.length), 44, 64, ...v6addr(0x0a), ...v6addr(0x0b)];
  return new Uint8Array([0, 0, 0, 0x16, 0, 0x0b, 0, 0, 0, 0x16, 0, 0x0a, 0x86, 0xdd, ...ip, next, 0, ...be16(offlg), ...be32(id), ...data]);
}

/** The key and fragment fields of an IPv6 frame, as the replay reads them. */
function fragment6Of(frame: Uint8Array, recirc = 1): { key: Uint32Array; f: IpFragment } {
  const key = new Uint32Array(KEY_WORDS);
  extractKey(frame, 0, frame.length, frame.length, 1, key, 0, false);
  key[W.RECIRC_ID] = recirc;
  const f = new IpFragment();
  if (fragAt.header >= 0 && fragAt.v6) f.readV6(frame, fragAt.header, fragAt.frag, fragAt.l4, fragAt.captured);
  return { key, f };
}

describe("FragmentLists", () => {
  const key = (recirc: number): Uint32Array => {
    const k = new Uint32Array(KEY_WORDS);
    k[W.RECIRC_ID] = recirc;
    k[W.NW_SRC] = A;
    k[W.NW_DST] = B;
    k[W.NW] = 17;
    return k;
  };
  const held = { key: new Uint32Array(0), resume: { actions: undefined, passKey: new Uint32Array(0), depth: 0, effect: 0, emitAfter: false }, context: undefined };
  const d = datagram(4000);

  it("holds a datagram's fragments until the first, the last and all between are there, in any order", () => {
    const l = new FragmentLists();
    const parts = [fragment(7, 1480, true, d.subarray(1480, 2960)), fragment(7, 0, true, d.subarray(0, 1480)), fragment(7, 2960, false, d.subarray(2960))];
    expect(l.add(fragmentOf(parts[0]!), key(1), 5, held).kind).toBe("held");
    expect(l.add(fragmentOf(parts[2]!), key(1), 5, held).kind).toBe("held");
    expect(l.held).toBe(2);
    const r = l.add(fragmentOf(parts[1]!), key(1), 5, held);
    expect(r.kind).toBe("complete");
    if (r.kind === "complete") expect(r.fragments.map((h) => [h.start, h.end])).toEqual([[0, 1480], [1480, 2960], [2960, 4008]]);
    expect(l.held).toBe(0);
  });

  it("keeps lists apart by recirculation, zone and identification, and waits for a gap to fill", () => {
    const l = new FragmentLists();
    const first = fragmentOf(fragment(7, 0, true, d.subarray(0, 1480)));
    const last = fragmentOf(fragment(7, 2960, false, d.subarray(2960)));
    expect(l.add(first, key(1), 5, held).kind).toBe("held");
    expect(l.add(last, key(2), 5, held).kind).toBe("held");
    expect(l.add(last, key(1), 6, held).kind).toBe("held");
    // First and last of one list, but 1480-2960 missing.
    expect(l.add(last, key(1), 5, held).kind).toBe("held");
    expect(l.add(fragmentOf(fragment(8, 1480, false, d.subarray(1480))), key(1), 5, held).kind).toBe("held");
    expect(l.held).toBe(5);
  });

  it("refuses what OVS does not reassemble: overlaps, short fragments before the last, fragments the frame cuts", () => {
    const l = new FragmentLists();
    expect(l.add(fragmentOf(fragment(9, 0, true, d.subarray(0, 1480))), key(1), 5, held).kind).toBe("held");
    expect(l.add(fragmentOf(fragment(9, 1000, false, d.subarray(1000))), key(1), 5, held).kind).toBe("invalid");
    const small = fragment(10, 0, true, d.subarray(0, MIN_V4_FRAGMENT - 20 - 8));
    expect(l.add(fragmentOf(small), key(1), 5, held).kind).toBe("invalid");
    expect(l.add(fragmentOf(fragment(10, 0, true, d.subarray(0, MIN_V4_FRAGMENT - 20))), key(1), 5, held).kind).toBe("held");
    const cut = fragment(11, 0, true, d.subarray(0, 1480));
    const f = new IpFragment();
    extractKey(cut, 0, cut.length - 10, cut.length, 1, new Uint32Array(KEY_WORDS), 0, false);
    f.read(cut, fragAt.header, fragAt.captured);
    expect(f.whole).toBe(false);
    expect(l.add(f, key(1), 5, held).kind).toBe("invalid");
  });

  it("reassembles IPv6 fragments by addresses and 32-bit identification, not protocol, and refuses what OVS does", () => {
    const l = new FragmentLists();
    // Offsets of the UDP part; 1448 + 8 + 40 = 1496 bytes, over OVS's 1,280.
    const first = fragment6Of(fragment6(0x12345678, 0 | 1, d.subarray(0, 1448)));
    expect(first.f).toMatchObject({ present: true, v6: true, id: 0x12345678, offset: 0, more: true, length: 1448, total: 1496, whole: true });
    expect(isFragment(first.key)).toBe(true);
    expect(l.add(first.f, first.key, 5, held).kind).toBe("held");
    // Another identification in the high 16 bits: another list.
    const other = fragment6Of(fragment6(0x02345678, 1448, d.subarray(1448, 2000)));
    expect(l.add(other.f, other.key, 5, held).kind).toBe("held");
    // The same datagram's last fragment, its fragment header naming another protocol: the same list.
    const last = fragment6Of(fragment6(0x12345678, 1448, d.subarray(1448, 2000), 6));
    const r = l.add(last.f, last.key, 5, held);
    expect(r.kind).toBe("complete");
    if (r.kind === "complete") expect(r.fragments.map((h) => [h.start, h.end])).toEqual([[0, 1448], [1448, 2000]]);
    // Before the last, shorter than 1,280 bytes with the IPv6 header: invalid; exactly 1,280: held.
    const short = fragment6Of(fragment6(7, 1, d.subarray(0, 1280 - 40 - 8 - 8)));
    expect(l.add(short.f, short.key, 5, held).kind).toBe("invalid");
    const enough = fragment6Of(fragment6(8, 1, d.subarray(0, 1280 - 40 - 8)));
    expect(l.add(enough.f, enough.key, 5, held).kind).toBe("held");
    // Only reserved bits set: a fragment to the flow key, not to the reassembly: invalid.
    const reserved = fragment6Of(fragment6(9, 6, d.subarray(0, 100)));
    expect(isFragment(reserved.key)).toBe(true);
    expect(l.add(reserved.f, reserved.key, 5, held).kind).toBe("invalid");
    // Options after a first fragment's fragment header: its data is counted from its UDP header, as
    // OVS counts it, so the next fragment (at 1,448 of the fragmentable part) leaves a gap.
    const opts = new Uint8Array([17, 0, 1, 4, 0, 0, 0, 0, ...d.subarray(0, 1440)]);
    const withOpts = fragment6Of(fragment6(11, 1, opts, 60));
    expect(withOpts.f).toMatchObject({ offset: 0, length: 1440, total: 1496 });
    expect(l.add(withOpts.f, withOpts.key, 5, held).kind).toBe("held");
    const after = fragment6Of(fragment6(11, 1448, d.subarray(1440, 2000)));
    expect(l.add(after.f, after.key, 5, held).kind).toBe("held");
    // All zeros: no fragment at all.
    const atomic = fragment6Of(fragment6(10, 0, d.subarray(0, 100)));
    expect(isFragment(atomic.key)).toBe(false);
    expect(atomic.f.present).toBe(false);
  });

  it("lets the oldest list go after 15 s, one list at a time, and deletes one 10 s later still", () => {
    const l = new FragmentLists<string>();
    const part = (id: number) => fragmentOf(fragment(id, 0, true, d.subarray(0, 1480)));
    const tagged = (t: string) => ({ ...held, resume: t });
    l.add(part(1), key(1), 5, tagged("a"), 1000);
    l.add(part(2), key(1), 5, tagged("b"), 2000);
    l.add(part(2), key(2), 5, tagged("c"), 2000);
    l.add(fragmentOf(fragment(1, 2960, false, d.subarray(2960))), key(1), 5, tagged("a2"), 9000);
    expect(l.size).toBe(3);
    // A list's time is up strictly after its first fragment's time plus 15 s.
    expect(l.expire(1000 + FRAGMENT_LIST_TIMEOUT)).toBeUndefined();
    expect(l.expire(1000 + FRAGMENT_LIST_TIMEOUT + 1)?.map((h) => h.resume)).toEqual(["a", "a2"]);
    // The next list is not yet due, so nothing goes, though a later one would be.
    expect(l.expire(1000 + FRAGMENT_LIST_TIMEOUT + 1)).toBeUndefined();
    const late = 2000 + FRAGMENT_LIST_TIMEOUT + FRAGMENT_LIST_PURGE_AFTER;
    expect(l.expire(late - 1)?.map((h) => h.resume)).toEqual(["b"]);
    expect(l.expire(late)).toEqual([]);
    expect(l.expire(late)).toBeUndefined();
    expect([l.size, l.held, l.expiredSent, l.purged]).toEqual([0, 0, 3, 1]);
    // A fragment of a datagram whose list has gone starts a new list, with time of its own.
    expect(l.add(part(1), key(1), 5, tagged("again"), late).kind).toBe("held");
    expect(l.expire(late + FRAGMENT_LIST_TIMEOUT)).toBeUndefined();
  });

  it("never lets a list go without a clock", () => {
    const l = new FragmentLists();
    l.add(fragmentOf(fragment(1, 0, true, d.subarray(0, 1480))), key(1), 5, held);
    expect(l.expire(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(l.held).toBe(1);
  });
});

const NETWORK = twoPodNetwork("ipf", [
  "{direction: to-lport, priority: 1001, match: 'outport == @all && ip4.src == 10.16.0.10', action: allow-related}",
  "{direction: to-lport, priority: 1001, match: 'outport == @all && ip6.src == fd00::a', action: allow-related}",
  "{direction: to-lport, priority: 1000, match: 'outport == @all && ip', action: drop}",
]);

/**
 * Replays `frames` from pod-a, one capture record each, a second apart or at `times` (seconds);
 * returns, per record, the frames delivered (as their IP identification and offset).
 */
function replay(frames: readonly Uint8Array[], cache: boolean, times?: readonly number[], report?: (r: ReplayReport) => void): string[][] {
  const sc = loadNetworkText(NETWORK, "ipf.yaml");
  if (!sc.ok) throw new Error(sc.diags.map((x) => x.message).join("; "));
  const w = new PcapWriter({ linkType: 1 });
  frames.forEach((f, i) => {
    const t = times?.[i] ?? i + 1;
    w.writePacket(Math.floor(t), Math.round((t % 1) * 1e9), f);
  });
  const capture = { file: "frags.pcap", bytes: w.toBytes() };
  const r = new Replayer(sc.value.network, { cache: cache ? {} : false });
  const out: string[][] = frames.map(() => []);
  let record = -1;
  let lastRead = -1;
  const sink: PacketSink = {
    output: (_c, op) => {
      const c = r.current;
      // The frame written out is the packet's own: its identification and offset (IPv6: those of
      // its fragment header, right after the IPv6 header).
      const b = c.data.subarray(c.offset);
      const v6 = b[12] === 0x86 && b[13] === 0xdd;
      const id = v6 ? getU32(b, 58) : getU16(b, 18);
      const off = v6 ? getU16(b, 56) & 0xfff8 : (getU16(b, 20) & 0x1fff) * 8;
      out[record]!.push(`${op.portName} id ${id} off ${off}`);
    },
    drop: () => {},
  };
  const rep = r.run([capture], { ...injectAt(r, "pod-a"), place: () => ((record = ++lastRead), 0) }, sink);
  expect(rep.replayed).toBe(frames.length);
  report?.(rep);
  return out;
}

describe("replaying fragments through conntrack", () => {
  const d = datagram(2000);
  const first = fragment(21, 0, true, d.subarray(0, 1480));
  const second = fragment(21, 1480, false, d.subarray(1480));

  it("delivers a datagram's fragments together when the last arrives, with the datagram's verdict", () => {
    for (const cache of [true, false]) {
      expect(replay([first, second], cache)).toEqual([[], ["pod-b id 21 off 0", "pod-b id 21 off 1480"]]);
      expect(replay([second, first], cache)).toEqual([[], ["pod-b id 21 off 0", "pod-b id 21 off 1480"]]);
    }
  });

  it("never delivers a datagram that does not complete, and keeps datagrams apart by identification", () => {
    const other = fragment(22, 1480, false, d.subarray(1480));
    expect(replay([first, other], true)).toEqual([[], []]);
  });

  it("sends a list on after 15 s with the next packet through conntrack, which holds it again in the egress pipeline", () => {
    // pod-a's fragment at 1 s; a whole packet at 16 s (its list's time is not yet up), one at
    // 16.5 s (it is): the fragment goes on from the ingress pipeline's conntrack as invalid and
    // untracked, and the egress pipeline's conntrack holds it again, in a list of its own (as real
    // OVS does, fixtures/ovs/replay-fragment-expiry.json). 25 s after that list began, it is deleted.
    const whole = fragment(30, 0, false, datagram(16));
    for (const cache of [true, false]) {
      const reports: ReplayReport[] = [];
      const frames = [first, whole, whole, whole];
      expect(replay(frames, cache, [1, 16, 16.5, 42], (r) => reports.push(r))).toEqual([[], ["pod-b id 30 off 0"], ["pod-b id 30 off 0"], ["pod-b id 30 off 0"]]);
      expect(reports[0]!.fragments).toEqual({ held: 0, expired: 1, deleted: 1 });
      replay(frames.slice(0, 3), cache, [1, 16, 16.5], (r) => reports.push(r));
      expect(reports[1]!.fragments).toEqual({ held: 1, expired: 1, deleted: 0 });
      replay(frames.slice(0, 2), cache, [1, 16], (r) => reports.push(r));
      expect(reports[2]!.fragments).toEqual({ held: 1, expired: 0, deleted: 0 });
    }
  });

  it("holds IPv6 fragments as IPv4's, with and without the cache", () => {
    const d6 = datagram(2000);
    const a = fragment6(0x10021, 1, d6.subarray(0, 1448));
    const b = fragment6(0x10021, 1448, d6.subarray(1448));
    const lone = fragment6(0x10022, 1, d6.subarray(0, 1448));
    for (const cache of [true, false]) {
      expect(replay([b, lone, a], cache)).toEqual([[], [], ["pod-b id 65569 off 0", "pod-b id 65569 off 1448"]]);
    }
  });

  it("treats a fragment OVS does not reassemble as invalid, which the ACL stage drops", () => {
    const short = fragment(23, 0, true, d.subarray(0, 800));
    const rest = fragment(23, 800, false, d.subarray(800));
    expect(replay([short, rest], true)).toEqual([[], []]);
  });
});
