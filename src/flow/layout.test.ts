import { describe, expect, it } from "vitest";
import { FIELDS, KEY_WORDS, LAYOUT_VERSION, SEGMENTS, field, getField, newKey, setField } from "./layout.js";

describe("flow layout", () => {
  it("is pinned: changing it must bump LAYOUT_VERSION and this test", () => {
    expect(LAYOUT_VERSION).toBe(1);
    expect(KEY_WORDS).toBe(74);
    const pinned: Record<string, [number, number, number]> = {
      recirc_id: [0, 0, 32],
      metadata: [3, 0, 32],
      reg14: [18, 0, 32],
      reg15: [19, 0, 32],
      ct_state: [20, 0, 8],
      ct_zone: [20, 16, 16],
      tun_id: [39, 0, 32],
      eth_dst: [44, 0, 48],
      eth_src: [46, 0, 48],
      vlan_tci: [48, 0, 16],
      eth_type: [50, 0, 16],
      nw_proto: [51, 0, 8],
      nw_ttl: [51, 16, 8],
      nw_src: [52, 0, 32],
      ipv6_dst: [58, 0, 128],
      tp_src: [71, 16, 16],
      tp_dst: [71, 0, 16],
      tcp_flags: [72, 0, 12],
    };
    for (const [name, [word, shift, width]] of Object.entries(pinned)) {
      const d = field(name);
      expect([name, d.word, d.shift, d.width]).toEqual([name, word, shift, width]);
    }
  });

  it("segments tile the key in lookup order", () => {
    let next = 0;
    for (const s of SEGMENTS) {
      expect(s.start).toBe(next);
      next = s.end;
    }
    expect(next).toBe(KEY_WORDS);
  });

  it("no two fields overlap unless one is a register alias or documented shared storage", () => {
    const owner = new Map<string, string>();
    // Documented in layout.ts: an ND message's reserved word is kept in the TCP flags' word.
    const shared = new Map([["nd_reserved", "tcp_flags"]]);
    for (const d of FIELDS.values()) {
      if (/^x+reg\d+$/.test(d.name)) continue;
      if (shared.has(d.name)) {
        expect(FIELDS.get(shared.get(d.name)!)!.word).toBe(d.word);
        continue;
      }
      for (let w = 0; w < d.nwords; w++) {
        const width = d.nwords > 1 ? 32 : d.width;
        const shift = d.nwords > 1 ? 0 : d.shift;
        for (let b = shift; b < shift + width; b++) {
          const k = `${d.word + w}:${b}`;
          const prev = owner.get(k);
          expect(prev, `${d.name} overlaps ${prev} at ${k}`).toBeUndefined();
          owner.set(k, d.name);
        }
      }
    }
  });

  it("setField and getField round-trip without disturbing neighbours", () => {
    const k = newKey();
    setField(k, field("tp_src"), 0xbeef);
    setField(k, field("tp_dst"), 0x1234);
    setField(k, field("nw_ttl"), 64);
    setField(k, field("nw_proto"), 6);
    expect(getField(k, field("tp_src"))).toBe(0xbeef);
    expect(getField(k, field("tp_dst"))).toBe(0x1234);
    expect(getField(k, field("nw_ttl"))).toBe(64);
    expect(getField(k, field("nw_proto"))).toBe(6);
    setField(k, field("tp_src"), 0);
    expect(getField(k, field("tp_dst"))).toBe(0x1234);
  });
});
