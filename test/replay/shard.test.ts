/**
 * Sharding for `replay --workers`: the shard table (replay.ts `balanceShards`) keeps both
 * directions of a connection on one shard, is the same for every worker, and balances the
 * shards by packets where `hash % count` does not. Synthetic captures always run; the real
 * captures under $OVNSIM_PCAPS (or ../shared/pcaps) when present.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KEY_WORDS, W, extractKey, field, frameFromKey, newKey, setField } from "../../src/flow/index.js";
import { PcapWriter, openCapture } from "../../src/pcap/index.js";
import { BucketCounts, SHARD_BUCKETS, balanceShards, forEachRecordKey, shardBucket, symmetricHash, type CaptureInput } from "../../src/replay/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(ROOT, "../shared/pcaps");
const BIG = join(PCAPS, "bench/ndpi-composite-99k.pcap");

/** Packets of every shard of `table` over the captures, and how many packets there are. */
function shardLoads(captures: readonly CaptureInput[], count: number, shardOf: (key: Uint32Array) => number): number[] {
  const loads = new Array<number>(count).fill(0);
  const key = new Uint32Array(KEY_WORDS);
  for (const c of captures) {
    const r = openCapture(c.bytes, c.file);
    if (!r.ok) throw new Error(r.diags[0]!.message);
    while (r.value.next()) {
      extractKey(r.value.data, r.value.offset, r.value.caplen, r.value.origlen, r.value.linkType, key, 0, false);
      loads[shardOf(key)]!++;
    }
  }
  return loads;
}

/** The shard table of `count` shards for `captures`, from their packets' bucket counts. */
function tableFor(captures: readonly CaptureInput[], count: number): Uint8Array {
  const counts = new BucketCounts();
  forEachRecordKey(captures, (key) => key && counts.add(key));
  return balanceShards(counts, count);
}

/** A TCP packet between two IPv4 endpoints. */
function tcpKey(src: number, dst: number, sport: number, dport: number): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), 0x0800);
  setField(k, field("nw_proto"), 6);
  setField(k, field("nw_ttl"), 64);
  k[W.NW_SRC] = src >>> 0;
  k[W.NW_DST] = dst >>> 0;
  setField(k, field("tp_src"), sport);
  setField(k, field("tp_dst"), dport);
  k[W.ETH_SRC + 1] = 0x02;
  k[W.ETH_DST + 1] = 0x03;
  return k;
}

/** A capture of connections with very different packet counts (a few elephants, many mice). */
function skewedCapture(): CaptureInput {
  const w = new PcapWriter({ linkType: 1 });
  let n = 0;
  for (let c = 0; c < 300; c++) {
    const packets = c < 5 ? 400 - 60 * c : 1 + (c % 7);
    const a = 0x0a000000 + c;
    const b = 0x0a100000 + ((c * 7919) & 0xffff);
    for (let i = 0; i < packets; i++) {
      const k = i % 2 === 0 ? tcpKey(a, b, 40000 + c, 80) : tcpKey(b, a, 80, 40000 + c);
      w.writePacket(n++, 0, frameFromKey(k));
    }
  }
  return { file: "skewed.pcap", bytes: w.toBytes() };
}

describe("replay shard table", () => {
  it("gives both directions of every connection the same hash, so the same shard", () => {
    for (let c = 0; c < 500; c++) {
      const a = (0x0a000000 + c * 37) >>> 0;
      const b = (0xc0a80000 + c * 101) >>> 0;
      const fwd = tcpKey(a, b, 1024 + c, 443);
      const rev = tcpKey(b, a, 443, 1024 + c);
      expect(symmetricHash(rev)).toBe(symmetricHash(fwd));
      expect(shardBucket(rev)).toBe(shardBucket(fwd));
    }
  });

  it("assigns every bucket to a shard below the count, the same way on every call", () => {
    const cap = skewedCapture();
    for (const count of [1, 2, 3, 4, 7]) {
      const t = tableFor([cap], count);
      expect(t.length).toBe(SHARD_BUCKETS);
      expect(t.every((s) => s < count)).toBe(true);
      expect([...tableFor([cap], count)]).toEqual([...t]);
    }
    expect(() => tableFor([cap], 0)).toThrow(RangeError);
  });

  it("balances skewed traffic by packets better than hash % count, and no shard is idle", () => {
    const cap = skewedCapture();
    for (const count of [2, 3, 4]) {
      const t = tableFor([cap], count);
      const balanced = shardLoads([cap], count, (k) => t[shardBucket(k)]!);
      const modulo = shardLoads([cap], count, (k) => symmetricHash(k) % count);
      const total = balanced.reduce((a, b) => a + b, 0);
      // Greedy (heaviest bucket first, onto the least loaded shard) is within one bucket of even;
      // the heaviest connection here is 400 of the packets.
      expect(Math.max(...balanced) - total / count).toBeLessThanOrEqual(400);
      expect(Math.max(...balanced)).toBeLessThanOrEqual(Math.max(...modulo));
      expect(Math.min(...balanced)).toBeGreaterThan(0);
    }
  });

  it.skipIf(!existsSync(BIG))("splits ndpi-composite-99k within a point of even for 2, 3 and 4 workers", () => {
    const cap = { file: BIG, bytes: new Uint8Array(readFileSync(BIG)) };
    for (const count of [2, 3, 4]) {
      const t = tableFor([cap], count);
      const loads = shardLoads([cap], count, (k) => t[shardBucket(k)]!);
      const total = loads.reduce((a, b) => a + b, 0);
      expect(Math.max(...loads) / total).toBeLessThan(1 / count + 0.01);
    }
  });
});
if (!existsSync(BIG)) console.warn(`replay shard table: ${BIG} is absent (set OVNSIM_PCAPS); the real-capture case is skipped`);
