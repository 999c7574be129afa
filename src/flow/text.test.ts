import { describe, expect, it } from "vitest";
import { catchAll, constrainWide, field, formatMatch, parseMatch, type Match } from "./index.js";

function m(...cs: [string, number[], number[]][]): Match {
  const x = catchAll();
  for (const [n, v, k] of cs) expect(constrainWide(x, field(n), v, k)).toBe(true);
  return x;
}

describe("match text", () => {
  const cases: [string, Match][] = [
    ["(any)", catchAll()],
    ["tcp,nw_src=10.0.0.0/8,tp_dst=80", m(["eth_type", [0x800], [0xffff]], ["nw_proto", [6], [0xff]], ["nw_src", [0x0a000000], [0xff000000]], ["tp_dst", [80], [0xffff]])],
    ["ip,nw_proto=47", m(["eth_type", [0x800], [0xffff]], ["nw_proto", [47], [0xff]])],
    ["arp,arp_op=1,arp_spa=10.0.0.1", m(["eth_type", [0x806], [0xffff]], ["nw_proto", [1], [0xff]], ["nw_src", [0x0a000001], [0xffffffff]])],
    ["metadata=0x5,reg14=0x1,dl_dst=00:00:00:00:00:01", m(["reg14", [1], [0xffffffff]], ["metadata", [5], [0xffffffff]], ["eth_dst", [0, 1], [0xffff, 0xffffffff]])],
    ["dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", m(["eth_dst", [0x100, 0], [0x100, 0]])],
    ["ct_state=+new-est+trk", m(["ct_state", [0x21], [0x23]])],
    ["ipv6,ipv6_dst=fd00::/64", m(["eth_type", [0x86dd], [0xffff]], ["ipv6_dst", [0xfd000000, 0, 0, 0], [0xffffffff, 0xffffffff, 0, 0]])],
    ["icmp,icmp_type=8,icmp_code=0", m(["eth_type", [0x800], [0xffff]], ["nw_proto", [1], [0xff]], ["tp_src", [8], [0xffff]], ["tp_dst", [0], [0xffff]])],
    ["reg0=0x4/0x4", m(["reg0", [4], [4]])],
  ];
  it.each(cases)("formats and parses %s", (text, match) => {
    expect(formatMatch(match)).toBe(text);
    const p = parseMatch(text);
    expect(p.ok).toBe(true);
    if (p.ok) expect(formatMatch(p.match)).toBe(text);
  });

  it("rejects unknown fields and bad values with a message", () => {
    expect(parseMatch("bogus=1")).toEqual({ ok: false, message: "unknown field 'bogus'" });
    const r = parseMatch("nw_src=300.1.1.1");
    expect(r.ok).toBe(false);
  });
});
