/** Link-type names, the supported set, and the skipped-packet counter. */
import { describe, expect, it } from "vitest";
import { LinkType, LinkTypeCounter, isSupportedLinkType, linkTypeName } from "./index.js";

describe("link types", () => {
  it("has the registry values the readers and decoders rely on", () => {
    expect([LinkType.NULL, LinkType.ETHERNET, LinkType.RAW, LinkType.LOOP, LinkType.LINUX_SLL, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL2]).toEqual([
      0, 1, 101, 108, 113, 228, 229, 276,
    ]);
  });

  it("names known types and falls back to the number", () => {
    expect(linkTypeName(1)).toBe("ETHERNET");
    expect(linkTypeName(276)).toBe("LINUX_SLL2");
    expect(linkTypeName(150)).toBe("USER3");
    expect(linkTypeName(65000)).toBe("LINKTYPE_65000");
  });

  it("supports ethernet, sll, sll2, raw IP and loopback only", () => {
    const supported = [...Array(400).keys()].filter(isSupportedLinkType);
    expect(supported).toEqual([0, 1, 101, 108, 113, 228, 229, 276]);
  });

  it("counts skipped packets per link type", () => {
    const c = new LinkTypeCounter();
    const seen = [1, 105, 105, 1, 127, 113, 105];
    const accepted = seen.filter((lt) => c.accept(lt));
    expect(accepted).toEqual([1, 1, 113]);
    expect([...c.skipped]).toEqual([
      [105, 3],
      [127, 1],
    ]);
    expect(c.skippedTotal).toBe(4);
    expect(c.describeSkipped()).toEqual([
      "3 packets skipped: link type IEEE802_11 (105) is not supported",
      "1 packet skipped: link type IEEE802_11_RADIOTAP (127) is not supported",
    ]);
  });

  it("takes a custom predicate", () => {
    const c = new LinkTypeCounter((lt) => lt === LinkType.ETHERNET);
    expect(c.accept(1)).toBe(true);
    expect(c.accept(113)).toBe(false);
    expect(c.skippedTotal).toBe(1);
  });
});
