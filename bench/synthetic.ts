/**
 * Synthetic captures for benchmarks: classic pcap files built in memory.
 */

/**
 * A little-endian microsecond pcap of `count` Ethernet/IPv4/UDP frames of `frameLen` bytes, over
 * `flows` distinct 5-tuples (source port and address vary), so that key extraction sees varied
 * keys and a flow cache sees realistic reuse.
 */
export function syntheticPcap(count: number, frameLen = 64, flows = 4096): Uint8Array {
  const rec = 16 + frameLen;
  const out = new Uint8Array(24 + count * rec);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, 1, true);
  const frame = new Uint8Array(frameLen);
  const f = new DataView(frame.buffer);
  // Ethernet: 02:00:00:00:00:02 < 02:00:00:00:00:01, IPv4.
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  // IPv4 header: total length covers the rest of the frame, TTL 64, UDP.
  f.setUint8(14, 0x45);
  f.setUint16(16, frameLen - 14);
  f.setUint8(22, 64);
  f.setUint8(23, 17);
  f.setUint32(26, 0x0a100002);
  f.setUint32(30, 0x0a100003);
  f.setUint16(36, 53);
  f.setUint16(38, frameLen - 34);
  let pos = 24;
  for (let i = 0; i < count; i++) {
    const flow = i % flows;
    f.setUint32(26, (0x0a100000 | (flow >>> 8)) >>> 0);
    f.setUint16(34, 1024 + (flow & 0xff));
    dv.setUint32(pos, 1_700_000_000 + Math.floor(i / 1_000_000), true);
    dv.setUint32(pos + 4, i % 1_000_000, true);
    dv.setUint32(pos + 8, frameLen, true);
    dv.setUint32(pos + 12, frameLen, true);
    out.set(frame, pos + 16);
    pos += rec;
  }
  return out;
}
