import { describe, expect, it } from "vitest";
import { KEY_WORDS } from "./layout.js";
import { copyKey, transientKey } from "./key-alloc.js";

describe("transient keys", () => {
  it("are zeroed, KEY_WORDS long and never share words, across slab boundaries", () => {
    const keys: Uint32Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const k = transientKey();
      expect(k.length).toBe(KEY_WORDS);
      expect(k.every((w) => w === 0)).toBe(true);
      k.fill(i + 1);
      keys.push(k);
    }
    // Every key still holds what was written to it: no two views overlap.
    keys.forEach((k, i) => expect(k.every((w) => w === i + 1)).toBe(true));
  });

  it("copies are equal to their source and independent of it", () => {
    const src = Uint32Array.from({ length: KEY_WORDS }, (_, i) => (i * 0x9e3779b1) >>> 0);
    const c = copyKey(src);
    expect([...c]).toEqual([...src]);
    c[3] = 0;
    expect(src[3]).toBe((3 * 0x9e3779b1) >>> 0);
    const longer = new Uint32Array(KEY_WORDS + 5).fill(9);
    expect(copyKey(longer).length).toBe(KEY_WORDS);
  });
});
