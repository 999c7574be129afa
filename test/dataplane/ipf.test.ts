/**
 * IPv4 fragments before conntrack (src/dataplane/ipf.ts): the fragment lists alone, and replays of
 * fragmented datagrams through a network with a stateful ACL, where conntrack's verdict decides
 * what is delivered. Frames are built byte by byte here.
 */
import { describe, expect, it } from "vitest";
import { be16, be32 } from "../../src/base/index.js";
import { FragmentLists, IpFragment, MIN_V4_FRAGMENT, type PacketSink } from "../../src/dataplane/index.js";
import { KEY_WORDS, W, extractKey, fragAt } from "../../src/flow/index.js";
import { internetChecksum } from "../../src/packet/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { Replayer, injectAt } from "../../src/replay/index.js";
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
});

const NETWORK = twoPodNetwork("ipf", [
  "{direction: to-lport, priority: 1001, match: 'outport == @all && ip4.src == 10.16.0.10', action: allow-related}",
  "{direction: to-lport, priority: 1000, match: 'outport == @all && ip', action: drop}",
]);

/** Replays `frames` from pod-a, one capture record each; returns, per record, the frames delivered (as their IP identification and offset). */
function replay(frames: readonly Uint8Array[], cache: boolean): string[][] {
  const sc = loadNetworkText(NETWORK, "ipf.yaml");
  if (!sc.ok) throw new Error(sc.diags.map((x) => x.message).join("; "));
  const w = new PcapWriter({ linkType: 1 });
  frames.forEach((f, i) => w.writePacket(i + 1, 0, f));
  const capture = { file: "frags.pcap", bytes: w.toBytes() };
  const r = new Replayer(sc.value.network, { cache: cache ? {} : false });
  const out: string[][] = frames.map(() => []);
  let record = -1;
  let lastRead = -1;
  const sink: PacketSink = {
    output: (_c, op) => {
      const c = r.current;
      // The frame written out is the packet's own: its identification and offset.
      const id = (c.data[c.offset + 18]! << 8) | c.data[c.offset + 19]!;
      const off = (((c.data[c.offset + 20]! << 8) | c.data[c.offset + 21]!) & 0x1fff) * 8;
      out[record]!.push(`${op.portName} id ${id} off ${off}`);
    },
    drop: () => {},
  };
  const rep = r.run([capture], { ...injectAt(r, "pod-a"), place: () => ((record = ++lastRead), 0) }, sink);
  expect(rep.replayed).toBe(frames.length);
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

  it("treats a fragment OVS does not reassemble as invalid, which the ACL stage drops", () => {
    const short = fragment(23, 0, true, d.subarray(0, 800));
    const rest = fragment(23, 800, false, d.subarray(800));
    expect(replay([short, rest], true)).toEqual([[], []]);
  });
});
