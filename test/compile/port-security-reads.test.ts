/**
 * The port security checks tell the flow cache which key words they read (`wc`), and a megaflow
 * matches exactly those. So, as a property: for a packet P, any packet Q that agrees with P on
 * every bit the check marked must get the same answer from the check. Packets come from pools
 * around the ports' own entries (their MACs and addresses, 0.0.0.0 and the DHCP discovery's
 * broadcast and ports, the MACs' link-local addresses and others, the unspecified address,
 * multicast destinations, neighbour discovery and MLD with their hop limits and targets) so that
 * every branch of both checks is taken, in both flavours; Q fills the unmarked bits at random.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileNetwork, portSecurityCalls, type PortSecurityFlavour } from "../../src/compile/index.js";
import { KEY_WORDS, W } from "../../src/flow/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";

const SCENARIO = `
name: port-security-reads
switches:
  - name: ls1
    ports:
      - {name: mac-only, addresses: ["00:00:00:00:00:01"], portSecurity: ["00:00:00:00:00:01"]}
      - {name: v4, addresses: ["00:00:00:00:00:02 10.0.0.2"], portSecurity: ["00:00:00:00:00:02 10.0.0.2"]}
      - {name: v6, addresses: ["00:00:00:00:00:03 fd00::3"], portSecurity: ["00:00:00:00:00:03 fd00::3"]}
      - {name: both, addresses: ["00:00:00:00:00:04 10.0.0.4 fd00::4"], portSecurity: ["00:00:00:00:00:04 10.0.0.4/24 fd00::4/64"]}
      - {name: open, addresses: ["00:00:00:00:00:05 10.0.0.5"]}
      - {name: prefix, addresses: ["00:00:00:00:00:06 10.0.0.6"], portSecurity: ["00:00:00:00:00:06 10.0.0.0/28 fd00::/120"]}
`;

const loaded = loadNetworkText(SCENARIO, "port-security-reads.yaml");
if (!loaded.ok) throw new Error(loaded.diags.map((d) => d.message).join("\n"));
const net = loaded.value.network;
const compiled = compileNetwork(net);
if (!compiled.ok) throw new Error(compiled.diags.map((d) => d.message).join("\n"));
const program = compiled.value.program;
const dp = program.datapathByName.get("ls1")!;
const PORTS = ["mac-only", "v4", "v6", "both", "open", "prefix"];
const portKeys = PORTS.map((n) => program.portByName.get(n)!.key);

// Each port's own MAC and addresses, by port key.
const own = new Map<number, { mac: readonly number[]; v4: number; v6: readonly number[] }>(
  PORTS.map((n, i) => [program.portByName.get(n)!.key, { mac: [0, i + 1], v4: 0x0a000001 + i + 1, v6: [0xfd000000, 0, 0, i + 1] }]),
);

const mac = fc.constantFrom([0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0, 6], [0, 0], [0x100, 0], [0xffff, 0xffffffff], [0x0200, 0x99]);
const ethType = fc.constantFrom(0x0800, 0x0806, 0x86dd, 0x88cc);
const v4 = fc.constantFrom(0x0a000002, 0x0a000004, 0x0a000063, 0x0a000000, 0x0a000009, 0x0a0000ff, 0, 0xffffffff, 0xe0000001, 0x0b000001);
// fe80::200:ff:fe00:3 is the link-local address of port v6's MAC (00:00:00:00:00:03).
const v6 = fc.constantFrom([0xfd000000, 0, 0, 3], [0xfd000000, 0, 0, 4], [0xfd000000, 0, 0, 0x99], [0xfd000000, 0, 0, 0x1ff], [0xfe800000, 0, 0, 1], [0xfe800000, 0, 0x020000ff, 0xfe000003], [0xfe800000, 0, 0x020000ff, 0xfe000004], [0, 0, 0, 0], [0xff020000, 0, 0, 1], [0xff020000, 0, 0, 0x16], [0x20010db8, 0, 0, 1]);
const packet = fc.record({
  src: mac,
  dst: mac,
  et: ethType,
  nwSrc: v4,
  nwDst: v4,
  proto: fc.constantFrom(17, 6, 1, 58),
  ttl: fc.constantFrom(64, 255, 1, 225),
  // UDP ports (DHCP and others), or ICMPv6 type and code: MLD reports, solicitations, advertisements.
  tp: fc.constantFrom(((68 << 16) | 67) >>> 0, ((67 << 16) | 68) >>> 0, ((40000 << 16) | 80) >>> 0, (143 << 16) >>> 0, (131 << 16) >>> 0, (135 << 16) >>> 0, (136 << 16) >>> 0, ((136 << 16) | 1) >>> 0),
  sha: mac,
  tha: mac,
  target: v6,
  v6src: v6,
  v6dst: v6,
  inport: fc.constantFrom(...portKeys, 99),
  outport: fc.constantFrom(...portKeys, 99),
  // Most packets are made to pass up to one field of the ports' checks: their own MACs and
  // addresses, sometimes a DHCP discovery, then `spoil` of them (0-2) replaced by the pool's.
  own: fc.boolean(),
  dhcp: fc.boolean(),
  spoil: fc.constantFrom("none", "src", "sha", "nwSrc", "nwDst", "tp", "proto", "v6src", "v6dst", "dst"),
});
type Packet = typeof packet extends fc.Arbitrary<infer T> ? T : never;

function keyOf(p: Packet): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  const i = own.get(p.inport);
  const o = own.get(p.outport);
  const pick = <T>(field: string, mine: T | undefined, pool: T): T => (p.own && mine !== undefined && p.spoil !== field ? mine : pool);
  const src = pick<readonly number[]>("src", i?.mac, p.src);
  const dst = pick<readonly number[]>("dst", o?.mac, p.dst);
  const sha = pick<readonly number[]>("sha", i?.mac, p.sha);
  const nwSrc = pick<number>("nwSrc", p.dhcp ? 0 : i?.v4, p.nwSrc);
  const nwDst = pick<number>("nwDst", p.dhcp ? 0xffffffff : o?.v4, p.nwDst);
  const proto = pick<number>("proto", p.dhcp ? 17 : undefined, p.proto);
  const tp = pick<number>("tp", p.dhcp ? ((68 << 16) | 67) >>> 0 : undefined, p.tp);
  const v6src = pick<readonly number[]>("v6src", i?.v6, p.v6src);
  const v6dst = pick<readonly number[]>("v6dst", o?.v6, p.v6dst);
  k[W.ETH_SRC] = src[0]!;
  k[W.ETH_SRC + 1] = src[1]! >>> 0;
  k[W.ETH_DST] = dst[0]!;
  k[W.ETH_DST + 1] = dst[1]! >>> 0;
  k[W.ETH_TYPE] = p.et;
  k[W.NW_SRC] = nwSrc >>> 0;
  k[W.NW_DST] = nwDst >>> 0;
  k[W.NW] = proto | (p.ttl << 16);
  k[W.TP] = tp;
  k[W.ARP_SHA] = sha[0]!;
  k[W.ARP_SHA + 1] = sha[1]! >>> 0;
  k[W.ARP_THA] = p.tha[0]!;
  k[W.ARP_THA + 1] = p.tha[1]! >>> 0;
  for (let j = 0; j < 4; j++) {
    k[W.IPV6_SRC + j] = v6src[j]! >>> 0;
    k[W.IPV6_DST + j] = v6dst[j]! >>> 0;
    k[W.ND_TARGET + j] = p.target[j]! >>> 0;
  }
  k[W.REG0 + 14] = p.inport;
  k[W.REG0 + 15] = p.outport;
  return k;
}

describe.each<PortSecurityFlavour>(["datapath", "ovn-trace"])("port security checks (%s) mark what they read", (flavour) => {
  const calls = portSecurityCalls(net, program, flavour);
  for (const fn of ["check_in_port_sec", "check_out_port_sec"] as const) {
    it(`${fn}: a packet that agrees on the marked bits gets the same answer`, () => {
      const check = calls[fn]!;
      const answers = new Set<bigint>();
      fc.assert(
        fc.property(packet, fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: KEY_WORDS, maxLength: KEY_WORDS }), (p, noise) => {
          const key = keyOf(p);
          const wc = new Uint32Array(KEY_WORDS);
          const want = check(undefined, { key, datapath: { key: dp }, wc } as never);
          answers.add(want);
          const q = new Uint32Array(KEY_WORDS);
          for (let i = 0; i < KEY_WORDS; i++) q[i] = ((key[i]! & wc[i]!) | (noise[i]! & ~wc[i]!)) >>> 0;
          expect(check(undefined, { key: q, datapath: { key: dp } } as never)).toBe(want);
        }),
        { numRuns: 5000 },
      );
      // Both answers occurred, so the property was not checked on one constant branch only.
      expect([...answers].sort()).toEqual([0n, 1n]);
    });
  }
});
