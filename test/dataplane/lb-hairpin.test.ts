/**
 * ovn-controller's hairpin tables (dataplane/lb-hairpin.ts) against a slow twin: the same tables
 * written out as masked flows (one per VIP and backend for table 68, per VIP for table 70, as
 * controller/lflow.c builds them) and scanned in priority order, with table 69 as the set of
 * flows the twin learned itself. On random packets built from the load balancers' addresses and
 * ports, `check`, `checkReply` and `snatAction` give the twin's answers, learn what it learns, and
 * keep their megaflow promise: flipping any key bit outside the returned mask changes no answer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LbHairpin } from "../../src/dataplane/lb-hairpin.js";
import { KEY_WORDS, W } from "../../src/flow/index.js";
import { parseIpAddr, type ProgramLoadBalancer } from "../../src/ofp/index.js";

const ip = (t: string): number[] => parseIpAddr(t)!.map((w) => w >>> 0);
const REG1 = W.REG0 + 1;
const REG2 = W.REG0 + 2;
const XXREG1 = W.REG0 + 4;

const LBS: ProgramLoadBalancer[] = [
  {
    name: "tcp",
    proto: 6,
    vips: [
      { ip: ip("10.96.0.10"), port: 80, backends: [{ ip: ip("10.16.0.2"), port: 8080 }, { ip: ip("10.16.0.3"), port: 8080 }] },
      { ip: ip("10.96.0.11"), port: 443, backends: [{ ip: ip("10.16.0.2"), port: 8443 }] },
      { ip: ip("fd00::10"), port: 80, backends: [{ ip: ip("fd00::2"), port: 8080 }] },
    ],
    hairpinSnatIp: { v4: undefined, v6: undefined },
    datapaths: [1],
  },
  {
    name: "udp-snat-ip",
    proto: 17,
    vips: [{ ip: ip("10.96.0.20"), port: 53, backends: [{ ip: ip("10.16.0.5"), port: 53 }, { ip: ip("10.16.0.2"), port: 5353 }] }],
    hairpinSnatIp: { v4: ip("169.254.0.9"), v6: undefined },
    datapaths: [2],
  },
  {
    name: "portless",
    proto: 6,
    vips: [{ ip: ip("10.96.0.30"), port: undefined, backends: [{ ip: ip("10.16.0.3") }] }],
    hairpinSnatIp: { v4: undefined, v6: undefined },
    datapaths: [1, 2],
  },
];

/** A flow of the twin: words that must equal `value` under `mask`, and what it answers. */
interface TwinFlow<T> {
  readonly priority: number;
  readonly mask: Uint32Array;
  readonly value: Uint32Array;
  readonly answer: T;
}

function flow<T>(priority: number, answer: T, fields: readonly [word: number, mask: number, value: number][]): TwinFlow<T> {
  const mask = new Uint32Array(KEY_WORDS);
  const value = new Uint32Array(KEY_WORDS);
  for (const [w, m, v] of fields) {
    mask[w] = (mask[w]! | m) >>> 0;
    value[w] = (value[w]! | (v & m)) >>> 0;
  }
  return { priority, mask, value, answer };
}

const addr = (w: number, a: readonly number[]): [number, number, number][] => a.map((x, i) => [w + (a.length === 1 ? 0 : i), 0xffffffff, x]);

/** Table 68: per VIP and backend; the answer is the learned reply flow's text. */
function table68(): TwinFlow<{ snat: number[]; port: boolean }>[] {
  const out: TwinFlow<{ snat: number[]; port: boolean }>[] = [];
  for (const lb of LBS) {
    for (const vip of lb.vips) {
      const v6 = vip.ip.length === 4;
      const snat = (v6 ? lb.hairpinSnatIp.v6 : lb.hairpinSnatIp.v4) ?? vip.ip;
      for (const b of vip.backends) {
        const f: [number, number, number][] = [[W.CT_MARK, 2, 2], [W.ETH_TYPE, 0xffff, v6 ? 0x86dd : 0x0800], ...addr(v6 ? W.IPV6_SRC : W.NW_SRC, b.ip), ...addr(v6 ? W.IPV6_DST : W.NW_DST, b.ip), ...addr(v6 ? XXREG1 : REG1, vip.ip)];
        if (b.port) f.push([W.NW, 0xff, lb.proto], [W.TP, 0xffff, b.port], [REG2, 0xffff, vip.port ?? 0]);
        out.push(flow(100, { snat: [...snat], port: b.port !== undefined }, f));
      }
    }
  }
  return out;
}

/** Table 70: per VIP (per datapath for a load balancer with hairpin_snat_ip, at 200). */
function table70(): TwinFlow<number[]>[] {
  const out: TwinFlow<number[]>[] = [];
  for (const lb of LBS) {
    for (const vip of lb.vips) {
      const v6 = vip.ip.length === 4;
      const own = v6 ? lb.hairpinSnatIp.v6 : lb.hairpinSnatIp.v4;
      const f: [number, number, number][] = [[W.ETH_TYPE, 0xffff, v6 ? 0x86dd : 0x0800], ...addr(v6 ? XXREG1 : REG1, vip.ip), [W.NW, 0xff, lb.proto]];
      if (vip.port !== undefined) f.push([REG2, 0xffff, vip.port]);
      if (own) for (const dp of lb.datapaths) out.push(flow(200, [...own], [...f, [W.METADATA, 0xffffffff, dp]]));
      else out.push(flow(100, [...vip.ip], f));
    }
  }
  return out;
}

function lookup<T>(flows: readonly TwinFlow<T>[], key: Uint32Array): T | undefined {
  let best: TwinFlow<T> | undefined;
  for (const f of flows) {
    let hit = true;
    for (let w = 0; w < KEY_WORDS && hit; w++) if (((key[w]! ^ f.value[w]!) & f.mask[w]!) !== 0) hit = false;
    if (hit && (!best || f.priority > best.priority)) best = f;
  }
  return best?.answer;
}

const T68 = table68();
const T70 = table70();

/** The twin's table 69: learned flows as text, in the form the twin builds them. */
function learnedText(key: Uint32Array, snat: readonly number[], port: boolean): string {
  const v6 = snat.length === 4;
  const src = v6 ? [...key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4)].join(":") : String(key[W.NW_SRC]);
  return `${key[W.METADATA]}|${src}|${snat.join(":")}|${key[W.NW]! & 0xff}|${port ? key[W.TP]! & 0xffff : "-"}`;
}

function twinReply(learned: ReadonlySet<string>, key: Uint32Array): boolean {
  const et = key[W.ETH_TYPE]! & 0xffff;
  if (et !== 0x0800 && et !== 0x86dd) return false;
  const v6 = et === 0x86dd;
  const src = v6 ? [...key.subarray(W.IPV6_SRC, W.IPV6_SRC + 4)].join(":") : String(key[W.NW_SRC]);
  const dst = v6 ? [...key.subarray(W.IPV6_DST, W.IPV6_DST + 4)].join(":") : String(key[W.NW_DST]);
  const base = `${key[W.METADATA]}|${src}|${dst}|${key[W.NW]! & 0xff}|`;
  return learned.has(base + (key[W.TP]! >>> 16)) || learned.has(base + "-");
}

const v4s = ["10.16.0.2", "10.16.0.3", "10.16.0.5", "10.96.0.10", "10.96.0.11", "10.96.0.20", "10.96.0.30", "169.254.0.9"].map((t) => ip(t)[0]!);
const v6s = ["fd00::2", "fd00::10"].map(ip);
const ports = [80, 443, 53, 5353, 8080, 8443, 44000];

/** Each VIP and backend of the load balancers, flattened. */
const PAIRS = LBS.flatMap((lb) => lb.vips.flatMap((vip) => vip.backends.map((b) => ({ lb, vip, b }))));

/**
 * A packet key: random values from the load balancers' own addresses and ports, or a hairpin of
 * one VIP and backend, or that backend's reply to the hairpin address; then a few fields changed.
 */
const packet = fc
  .record({
    mode: fc.constantFrom("random", "hairpin", "reply"),
    pair: fc.nat(PAIRS.length - 1),
    ctMark: fc.constantFrom(0, 1, 2, 3, 0xff),
    v6: fc.boolean(),
    arp: fc.boolean(),
    src: fc.nat(v4s.length),
    dst: fc.nat(v4s.length),
    orig: fc.nat(v4s.length),
    proto: fc.constantFrom(6, 17, 1),
    sport: fc.nat(ports.length),
    dport: fc.nat(ports.length),
    origPort: fc.nat(ports.length),
    metadata: fc.constantFrom(1, 2, 3),
    noise: fc.array(fc.tuple(fc.nat(KEY_WORDS - 1), fc.nat()), { maxLength: 3 }),
  })
  .map((p) => {
    const k = new Uint32Array(KEY_WORDS);
    const pick = (i: number, xs: readonly number[]): number => xs[i] ?? (0x0a100000 + i) >>> 0;
    const port = (i: number): number => ports[i] ?? 1234;
    const { lb, vip, b } = PAIRS[p.pair]!;
    const v6 = p.mode === "random" ? p.v6 : vip.ip.length === 4;
    k[W.ETH_TYPE] = p.mode === "random" && p.arp ? 0x0806 : v6 ? 0x86dd : 0x0800;
    k[W.CT_MARK] = p.mode === "hairpin" ? 2 : p.ctMark;
    k[W.METADATA] = p.mode === "random" ? p.metadata : lb.datapaths[p.metadata % lb.datapaths.length]!;
    k[W.NW] = p.mode === "random" ? p.proto : lb.proto;
    const put = (w: number, a: readonly number[]): void => {
      if (a.length === 1) k[w] = a[0]!;
      else k.set(a, w);
    };
    if (p.mode === "random") {
      if (v6) {
        k.set(v6s[p.src % 2]!, W.IPV6_SRC);
        k.set(v6s[p.dst % 2]!, W.IPV6_DST);
        k.set(v6s[p.orig % 2]!, XXREG1);
      } else {
        k[W.NW_SRC] = pick(p.src, v4s);
        k[W.NW_DST] = pick(p.dst, v4s);
        k[REG1] = pick(p.orig, v4s);
      }
      k[W.TP] = ((port(p.sport) << 16) | port(p.dport)) >>> 0;
      k[REG2] = port(p.origPort);
    } else if (p.mode === "hairpin") {
      put(v6 ? W.IPV6_SRC : W.NW_SRC, b.ip);
      put(v6 ? W.IPV6_DST : W.NW_DST, b.ip);
      put(v6 ? XXREG1 : REG1, vip.ip);
      k[W.TP] = ((port(p.sport) << 16) | (b.port ?? port(p.dport))) >>> 0;
      k[REG2] = vip.port ?? 0;
    } else {
      const snat = (v6 ? lb.hairpinSnatIp.v6 : lb.hairpinSnatIp.v4) ?? vip.ip;
      put(v6 ? W.IPV6_SRC : W.NW_SRC, b.ip);
      put(v6 ? W.IPV6_DST : W.NW_DST, snat);
      k[W.TP] = (((b.port ?? port(p.sport)) << 16) | port(p.dport)) >>> 0;
    }
    for (const [w, v] of p.noise) k[w] = v >>> 0;
    return k;
  });

/** `key` with every bit outside `wc` replaced by a random one. */
function outside(key: Uint32Array, wc: Uint32Array, noise: readonly number[]): Uint32Array {
  const k = key.slice();
  for (let w = 0; w < KEY_WORDS; w++) k[w] = ((key[w]! & wc[w]!) | ((noise[w % noise.length] ?? 0) & ~wc[w]!)) >>> 0;
  return k;
}

describe("ovn-controller's hairpin tables", () => {
  it("answer, learn and mark as the flows they stand for", () => {
    const seen = { hairpins: 0, replies: 0, snats: 0 };
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 8 }), (keys, noise) => {
        const h = new LbHairpin(LBS);
        const learned = new Set<string>();
        for (const key of keys) {
          // Table 68.
          const want = lookup(T68, key);
          seen.hairpins += want ? 1 : 0;
          if (want) learned.add(learnedText(key, want.snat, want.port));
          const wc = new Uint32Array(KEY_WORDS);
          expect(h.check(key, wc)).toBe(want !== undefined);
          expect(new Set(h.learnedFlows())).toEqual(learned);
          const flipped = outside(key, wc, noise);
          expect(h.check(flipped, new Uint32Array(KEY_WORDS))).toBe(want !== undefined);
          // The twin key learns nothing new: the learned flow was all marked bits.
          expect(h.learnedFlows().length).toBe(learned.size);
          // Table 69.
          const wcr = new Uint32Array(KEY_WORDS);
          const reply = twinReply(learned, key);
          seen.replies += reply ? 1 : 0;
          expect(h.checkReply(key, wcr)).toBe(reply);
          expect(h.checkReply(outside(key, wcr, noise), new Uint32Array(KEY_WORDS))).toBe(reply);
          // Table 70.
          const wcs = new Uint32Array(KEY_WORDS);
          const snat = lookup(T70, key);
          seen.snats += snat ? 1 : 0;
          const got = h.snatAction(key, wcs);
          expect(got?.to).toEqual(snat);
          if (got) expect(got.action.nat).toEqual({ kind: "snat", range: { ipMin: got.to } });
          expect(h.snatAction(outside(key, wcs, noise), new Uint32Array(KEY_WORDS))).toBe(got);
        }
      }),
      { numRuns: 300 },
    );
    // The packets reach every table's flows often, not only their misses.
    expect(seen.hairpins).toBeGreaterThan(200);
    expect(seen.replies).toBeGreaterThan(40);
    expect(seen.snats).toBeGreaterThan(200);
  });

  it("moves its version only when it learns a new reply flow", () => {
    const h = new LbHairpin(LBS);
    const k = new Uint32Array(KEY_WORDS);
    k[W.CT_MARK] = 2;
    k[W.ETH_TYPE] = 0x0800;
    k[W.NW_SRC] = k[W.NW_DST] = ip("10.16.0.2")[0]!;
    k[REG1] = ip("10.96.0.10")[0]!;
    k[W.NW] = 6;
    k[W.TP] = (44000 << 16) | 8080;
    k[REG2] = 80;
    k[W.METADATA] = 1;
    expect(h.version).toBe(0);
    expect(h.check(k, undefined)).toBe(true);
    expect(h.version).toBe(1);
    k[W.TP] = (44001 << 16) | 8080;
    expect(h.check(k, undefined)).toBe(true);
    expect(h.version).toBe(1);
    expect(h.learnedFlows()).toEqual([`1|${ip("10.16.0.2")[0]}|${ip("10.96.0.10")[0]}|6|8080`]);
    // The backend's reply to the VIP, from its port, is a hairpin reply; from another port it is not.
    const r = new Uint32Array(KEY_WORDS);
    r[W.ETH_TYPE] = 0x0800;
    r[W.NW_SRC] = ip("10.16.0.2")[0]!;
    r[W.NW_DST] = ip("10.96.0.10")[0]!;
    r[W.NW] = 6;
    r[W.METADATA] = 1;
    r[W.TP] = (8080 << 16) | 44000;
    expect(h.checkReply(r, undefined)).toBe(true);
    r[W.TP] = (8081 << 16) | 44000;
    expect(h.checkReply(r, undefined)).toBe(false);
  });
});
