/**
 * Property tests: no input makes the decoder or the pretty printer throw or run away.
 *
 * Inputs are random bytes under every link type the decoder knows (and some it does not), and
 * real packets (from the shared captures when present, plus frames built here that reach every
 * protocol: VLAN stacks, IPv6 extension headers, ND, Geneve with OVN's option, nested VXLAN)
 * with random bytes overwritten, inserted or cut off. For every input: `decodeFrame` returns, its
 * layers tile the frame from 0 to `payloadOffset`, `formatLine` returns one line, and
 * `rebuildFrame` gives the input bytes back (every header it accepted re-emits exactly).
 */
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fromHex, parseIpv4, parseIpv6, parseMac } from "../../src/base/index.js";
import {
  buildFrame,
  decodeFrame,
  encapsulateGeneve,
  encapsulateVxlan,
  EtherType,
  formatLine,
  IpProto,
  ipv6Repr,
  layerHeaderLen,
  ndLinkLayerOption,
  ovnGeneveOption,
  pushVlan,
  rebuildFrame,
  tcpRepr,
  ipv4Repr,
} from "../../src/packet/index.js";
import { openCapture } from "../../src/pcap/index.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

function checkInvariants(bytes: Uint8Array, linkType: number, wireLength?: number): void {
  const d = decodeFrame(bytes, 0, bytes.length, linkType, wireLength === undefined ? {} : { wireLength });
  let at = 0;
  for (const l of d.layers) {
    expect(l.offset).toBe(at);
    at += layerHeaderLen(l);
  }
  expect(at).toBe(d.payloadOffset);
  expect(d.payloadOffset).toBeLessThanOrEqual(bytes.length);
  const line = formatLine(d);
  expect(typeof line).toBe("string");
  expect(line.includes("\n")).toBe(false);
  expect(rebuildFrame(d)).toEqual(bytes);
}

/** Frames that reach every protocol the decoder knows. */
function builtSamples(): Uint8Array[] {
  const m1 = parseMac("02:00:00:00:00:01")!;
  const m2 = parseMac("02:00:00:00:00:02")!;
  const opts = { fixLengths: true, computeChecksums: true };
  const tcp = buildFrame(
    [
      { kind: "ethernet", repr: { dst: m2, src: m1, etherType: EtherType.QINQ } },
      { kind: "vlan", repr: { pcp: 1, dei: true, vid: 300, etherType: EtherType.VLAN } },
      { kind: "vlan", repr: { pcp: 0, dei: false, vid: 100, etherType: EtherType.IPV4 } },
      { kind: "ipv4", repr: ipv4Repr(parseIpv4("10.0.0.1")!, parseIpv4("10.0.0.2")!, IpProto.TCP, { options: fromHex("94040000")! }) },
      { kind: "tcp", repr: tcpRepr(1234, 80, 0x12, { options: fromHex("020405b4")! }) },
    ],
    new Uint8Array(10),
    opts,
  );
  const nd = buildFrame(
    [
      { kind: "ethernet", repr: { dst: m2, src: m1, etherType: EtherType.IPV6 } },
      { kind: "ipv6", repr: ipv6Repr(parseIpv6("fe80::1")!, parseIpv6("fe80::2")!, IpProto.HOPOPT) },
      { kind: "ipv6-ext", repr: { kind: "hop-by-hop", nextHeader: IpProto.IPV6_FRAG, options: fromHex("010400000000")! } },
      { kind: "ipv6-ext", repr: { kind: "fragment", nextHeader: IpProto.AH, reserved: 0, fragOffset: 0, reserved2: 0, moreFrags: false, ident: 7 } },
      { kind: "ah", repr: { nextHeader: IpProto.ICMPV6, reserved: 0, spi: 1, seq: 2, icv: new Uint8Array(12) } },
      { kind: "icmpv6", repr: { type: 135, code: 0, checksum: 0, rest: 0, nd: { target: parseIpv6("fe80::2")!, options: [ndLinkLayerOption(1, m1)] } } },
    ],
    undefined,
    opts,
  );
  const outer = { ethSrc: m1, ethDst: m2, ipSrc: parseIpv4("192.0.2.1")!, ipDst: parseIpv4("192.0.2.2")!, udpSrc: 40000 };
  const geneve = encapsulateGeneve(tcp, outer, 7, [ovnGeneveOption(1, 2), { optClass: 0xffff, type: 1, flags: 0, data: new Uint8Array(8) }]);
  const nested = encapsulateVxlan(encapsulateVxlan(nd, outer, 1), { ...outer, ipSrc: parseIpv6("2001:db8::1")!, ipDst: parseIpv6("2001:db8::2")! }, 2);
  const bareIp = encapsulateGeneve(tcp.subarray(22), outer, 9, [], EtherType.IPV4);
  return [tcp, nd, geneve, nested, bareIp, pushVlan(geneve, { pcp: 0, dei: false, vid: 5 })];
}

/** A few packets of each shared capture (not the big benchmark traces). */
function capturedSamples(): { bytes: Uint8Array; linkType: number }[] {
  if (!existsSync(PCAPS)) {
    console.warn(`packet fuzz: no captures at ${PCAPS}; mutating built frames only`);
    return [];
  }
  const out: { bytes: Uint8Array; linkType: number }[] = [];
  for (const dir of ["tunnels/geneve", "tunnels/vxlan", "l2l3", "robustness", "formats"]) {
    const walk = (d: string): string[] => {
      const p = join(PCAPS, d);
      if (!existsSync(p)) return [];
      return readdir(p).flatMap((n) => (n.includes(".") ? [join(d, n)] : walk(join(d, n))));
    };
    for (const rel of walk(dir)) {
      if (!/\.pcap(ng)?$/.test(rel)) continue;
      const r = openCapture(readFileSync(join(PCAPS, rel)), rel);
      if (!r.ok) continue;
      let n = 0;
      while (r.value.next() && n++ < 3) {
        // A plain copy: the reader's buffer is a Node Buffer, whose slice() would share memory.
        out.push({ bytes: Uint8Array.from(r.value.data.subarray(r.value.offset, r.value.offset + r.value.caplen)), linkType: r.value.linkType });
      }
    }
  }
  return out;
}

function readdir(p: string): string[] {
  return readdirSync(p).sort();
}

describe("packet decoding never throws or hangs", () => {
  it("random bytes under every link type", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LINK_TYPES), (bytes, lt) => checkInvariants(bytes, lt)),
      { numRuns: 3000 },
    );
  });

  it("real and built packets with random mutations", () => {
    const samples = [...builtSamples().map((bytes) => ({ bytes, linkType: 1 })), ...capturedSamples()];
    expect(samples.length).toBeGreaterThan(5);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.nat({ max: samples.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: 70000 })), (i, muts, wire) => {
        const s = samples[i]!;
        let b = s.bytes.slice();
        for (const m of muts) {
          if (b.length === 0) break;
          const at = m.at % b.length;
          if (m.kind === "set") b[at] = m.value;
          else if (m.kind === "cut") b = b.slice(0, at);
          else b = new Uint8Array([...b.subarray(0, at), m.value, ...b.subarray(at)]);
        }
        checkInvariants(b, s.linkType, wire ?? undefined);
      }),
      { numRuns: 3000 },
    );
  });
});
