/**
 * Tests of `rewriteFrame`.
 *
 * Oracles, all independent of the code under test:
 * - key extraction: the rewritten frame must extract to the target key (every packet word), with
 *   the parse word's flags and error unchanged and its stop offset moved by the tags pushed/popped;
 * - a slow twin written here: it finds every field through the packet module's decoder (not the
 *   rewriter's own header walk), writes the changed fields at those offsets, and recomputes each
 *   checksum over the whole segment (the rewriter updates them incrementally). Both outputs must be
 *   equal byte for byte, except checksums that the twin cannot recompute (segments not whole, or
 *   wrong to begin with);
 * - the packet module's `verifyChecksums`: a checksum that was correct stays correct;
 * - truncation: rewriting a frame cut short (as a capture with a snap length cuts it) gives the
 *   prefix of rewriting the whole frame, which shows the incremental updates of a truncated packet
 *   are the ones its whole version gets (and so correct).
 * Inputs: random keys turned into frames by `frameFromKey`, and the packets of real captures
 * (../shared/pcaps `bench/` and `l2l3/`) with random target keys.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeL4Checksum,
  computeSctpChecksum,
  decodeFrame,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  verifyChecksums,
  verifyIpv4HeaderChecksum,
  type ChecksumCheck,
  type Layer,
} from "../packet/index.js";
import { readCaptureFile } from "../pcap/index.js";
import { EXTRACT_LINK, extractKey } from "./extract.js";
import { frameFromKey } from "./frame.js";
import { FRAG, PARSE, W, field, getField, newKey, setField } from "./layout.js";
import { rewriteFrame } from "./rewrite.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(repoRoot, "../shared/pcaps");
const havePcaps = existsSync(join(PCAPS, "MANIFEST.md"));
if (!havePcaps) console.warn(`rewrite: real-capture tests skipped, no capture collection at ${PCAPS} (set OVNSIM_PCAPS)`);

const F_ETH_TYPE = field("eth_type");
const F_NW_PROTO = field("nw_proto");
const F_NW_TOS = field("nw_tos");
const F_NW_TTL = field("nw_ttl");
const F_NW_FRAG = field("nw_frag");
const F_TP_SRC = field("tp_src");
const F_TP_DST = field("tp_dst");
const F_IPV6_LABEL = field("ipv6_label");
const F_TCP_FLAGS = field("tcp_flags");
const F_VLAN_TCI = field("vlan_tci");
const F_VLAN1_TCI = field("vlan1_tci");

const NO_TUNNELS = { genevePorts: [], vxlanPorts: [] } as const;

// ---------------------------------------------------------------------------------------------
// Keys and random target keys

function extract(frame: Uint8Array, wireLen = frame.length): Uint32Array {
  const k = newKey();
  extractKey(frame, 0, frame.length, wireLen, EXTRACT_LINK.ETHERNET, k, 0, false);
  return k;
}

function tagCount(key: Uint32Array): number {
  if ((getField(key, F_VLAN_TCI) & 0x1000) === 0) return 0;
  return (getField(key, F_VLAN1_TCI) & 0x1000) === 0 ? 1 : 2;
}

type Rng = () => number;

/** mulberry32: a small seeded generator, so that every failure can be replayed. */
function rngOf(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function u32Of(r: Rng): number {
  return Math.floor(r() * 4294967296) >>> 0;
}

function intOf(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/**
 * A target key: `from` with a random selection of the fields the rewriter handles changed to
 * random values, always ones the frame can carry (see the module comment of rewrite.ts).
 */
function changeKey(from: Uint32Array, r: Rng): Uint32Array {
  const to = from.slice();
  const maybe = (p: number): boolean => r() < p;
  if ((from[W.PARSE]! & PARSE.L2) === 0) return to; // shorter than an Ethernet header
  if (maybe(0.5)) {
    to[W.ETH_DST] = intOf(r, 0, 0xffff);
    to[W.ETH_DST + 1] = u32Of(r);
  }
  if (maybe(0.5)) {
    to[W.ETH_SRC] = intOf(r, 0, 0xffff);
    to[W.ETH_SRC + 1] = u32Of(r);
  }
  const et = getField(from, F_ETH_TYPE);
  // Extraction stopped inside the tags (a third tag, or one cut short): leave the tags alone.
  if (et !== 0x8100 && et !== 0x88a8 && maybe(0.4)) {
    const have = tagCount(from);
    const want = intOf(r, 0, 2);
    for (let slot = 0; slot < 2; slot++) {
      if (slot >= want) to[W.VLAN0 + slot] = 0;
      else if (slot < have && maybe(0.4)) continue;
      else to[W.VLAN0 + slot] = (((maybe(0.5) ? 0x8100 : 0x88a8) << 16) | intOf(r, 0, 0xffff) | 0x1000) >>> 0;
    }
  }
  const flags = from[W.PARSE]! & 0xff;
  if ((flags & PARSE.L3) === 0) return to;
  if (et === 0x0806 || et === 0x8035) {
    if (maybe(0.5)) setField(to, F_NW_PROTO, intOf(r, 1, 255));
    if (maybe(0.5)) to[W.NW_SRC] = u32Of(r);
    if (maybe(0.5)) to[W.NW_DST] = u32Of(r);
    if (maybe(0.5)) {
      to[W.ARP_SHA] = intOf(r, 0, 0xffff);
      to[W.ARP_SHA + 1] = u32Of(r);
    }
    if (maybe(0.5)) {
      to[W.ARP_THA] = intOf(r, 0, 0xffff);
      to[W.ARP_THA + 1] = u32Of(r);
    }
    return to;
  }
  const v6 = et === 0x86dd;
  if (maybe(0.6)) {
    if (v6) for (let i = 0; i < 4; i++) to[W.IPV6_SRC + i] = u32Of(r);
    else to[W.NW_SRC] = u32Of(r);
  }
  if (maybe(0.6)) {
    if (v6) for (let i = 0; i < 4; i++) to[W.IPV6_DST + i] = u32Of(r);
    else to[W.NW_DST] = u32Of(r);
  }
  if (maybe(0.3)) setField(to, F_NW_TOS, intOf(r, 0, 255));
  if (maybe(0.4)) setField(to, F_NW_TTL, intOf(r, 0, 255));
  if (v6 && maybe(0.3)) setField(to, F_IPV6_LABEL, intOf(r, 0, 0xfffff));
  if ((flags & PARSE.L4) === 0) return to;
  const proto = getField(from, F_NW_PROTO);
  if (proto === 6 || proto === 17 || proto === 132) {
    if (maybe(0.6)) setField(to, F_TP_SRC, intOf(r, 0, 0xffff));
    if (maybe(0.6)) setField(to, F_TP_DST, intOf(r, 0, 0xffff));
    if (proto === 6 && maybe(0.3)) setField(to, F_TCP_FLAGS, intOf(r, 0, 0xfff));
  } else if (proto === 1 && !v6) {
    if (maybe(0.5)) setField(to, F_TP_SRC, intOf(r, 0, 255));
    if (maybe(0.5)) setField(to, F_TP_DST, intOf(r, 0, 255));
  } else if (proto === 58 && v6) {
    const type = getField(from, F_TP_SRC);
    const nd = (type === 135 || type === 136) && getField(from, F_TP_DST) === 0;
    if (nd) {
      // Stay a Neighbor Solicitation/Advertisement: the ND fields exist only in those.
      if (maybe(0.3)) setField(to, F_TP_SRC, maybe(0.5) ? 135 : 136);
      if (maybe(0.5)) for (let i = 0; i < 4; i++) to[W.ND_TARGET + i] = u32Of(r);
      // The reserved word (an advertisement's flags), kept in the TCP flags' word.
      if (maybe(0.3)) to[W.TCP_FLAGS] = u32Of(r);
      for (const w of [W.ARP_SHA, W.ARP_THA]) {
        // Only an option the message carries can change (a zero address is taken as absent).
        if ((from[w] !== 0 || from[w + 1] !== 0) && maybe(0.5)) {
          to[w] = intOf(r, 0, 0xffff);
          to[w + 1] = u32Of(r);
        }
      }
    } else {
      if (maybe(0.5)) {
        // Not into an ND type (133-137): its fixed body would be missing.
        let t = intOf(r, 0, 255);
        while (t >= 133 && t <= 137) t = intOf(r, 0, 255);
        setField(to, F_TP_SRC, t);
      }
      if (maybe(0.5)) setField(to, F_TP_DST, intOf(r, 0, 255));
    }
  }
  return to;
}

// ---------------------------------------------------------------------------------------------
// The slow twin

interface TwinResult {
  readonly bytes: Uint8Array;
  /** Bytes whose value the twin does not know (a checksum it cannot recompute). */
  readonly unknown: Uint8Array;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
}

function get16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function same(from: Uint32Array, to: Uint32Array, w: number, n = 1): boolean {
  for (let i = 0; i < n; i++) if (from[w + i] !== to[w + i]) return false;
  return true;
}

function putMacWords(b: Uint8Array, o: number, key: Uint32Array, w: number): void {
  put16(b, o, key[w]!);
  put32(b, o + 2, key[w + 1]!);
}

/**
 * The rewrite done the slow way: offsets from `decodeFrame`, fields written one by one, checksums
 * recomputed from scratch. Undefined when the decoder sees the frame differently from extraction
 * (then there is nothing to compare with).
 */
function slowRewrite(frame: Uint8Array, wireLen: number, from: Uint32Array, to: Uint32Array): TwinResult | undefined {
  if (frame.length < 14) return { bytes: frame.slice(), unknown: new Uint8Array(frame.length) };
  const tagsFrom = tagCount(from);
  const tagsTo = tagCount(to);
  const head: number[] = [];
  const macs = new Uint8Array(12);
  macs.set(frame.subarray(0, 12));
  if (!same(from, to, W.ETH_DST, 2)) putMacWords(macs, 0, to, W.ETH_DST);
  if (!same(from, to, W.ETH_SRC, 2)) putMacWords(macs, 6, to, W.ETH_SRC);
  head.push(...macs);
  for (let slot = 0; slot < tagsTo; slot++) {
    const w = to[W.VLAN0 + slot]!;
    if (slot < tagsFrom && from[W.VLAN0 + slot] === w) {
      head.push(...frame.subarray(12 + 4 * slot, 16 + 4 * slot));
      continue;
    }
    const tpid = w >>> 16 === 0x88a8 ? 0x88a8 : 0x8100;
    const dei = slot < tagsFrom ? get16(frame, 14 + 4 * slot) & 0x1000 : 0;
    const tci = (w & 0xefff) | dei;
    head.push(tpid >>> 8, tpid & 0xff, tci >>> 8, tci & 0xff);
  }
  const restAt = 12 + 4 * tagsFrom;
  const bytes = new Uint8Array(head.length + frame.length - restAt);
  bytes.set(head);
  bytes.set(frame.subarray(restAt), head.length);
  const unknown = new Uint8Array(bytes.length);
  const shift = head.length - restAt;
  const flags = from[W.PARSE]! & 0xff;
  if ((flags & PARSE.L3) === 0) return { bytes, unknown };

  const d = decodeFrame(frame, 0, frame.length, EXTRACT_LINK.ETHERNET, { ...NO_TUNNELS, wireLength: wireLen });
  const l3i = d.layers.findIndex((l) => l.kind === "arp" || l.kind === "ipv4" || l.kind === "ipv6");
  if (l3i < 0) return undefined;
  const l3 = d.layers[l3i]!;
  const at = l3.offset + shift;
  const checks = verifyChecksums(d);
  const statusOf = (layer: number): ChecksumCheck | undefined => checks.find((c) => c.layer === layer);
  if (l3.kind === "arp") {
    if (getField(from, F_NW_PROTO) !== getField(to, F_NW_PROTO)) put16(bytes, at + 6, getField(to, F_NW_PROTO));
    if (!same(from, to, W.ARP_SHA, 2)) putMacWords(bytes, at + 8, to, W.ARP_SHA);
    if (!same(from, to, W.NW_SRC)) put32(bytes, at + 14, to[W.NW_SRC]!);
    if (!same(from, to, W.ARP_THA, 2)) putMacWords(bytes, at + 18, to, W.ARP_THA);
    if (!same(from, to, W.NW_DST)) put32(bytes, at + 24, to[W.NW_DST]!);
    return { bytes, unknown };
  }
  let ipEnd: number; // end of the datagram in the original frame (may pass the captured bytes)
  if (l3.kind === "ipv4") {
    const ihl = (frame[l3.offset]! & 0x0f) * 4;
    if (getField(from, F_NW_TOS) !== getField(to, F_NW_TOS)) bytes[at + 1] = getField(to, F_NW_TOS);
    if (getField(from, F_NW_TTL) !== getField(to, F_NW_TTL)) bytes[at + 8] = getField(to, F_NW_TTL);
    if (!same(from, to, W.NW_SRC)) put32(bytes, at + 12, to[W.NW_SRC]!);
    if (!same(from, to, W.NW_DST)) put32(bytes, at + 16, to[W.NW_DST]!);
    if (verifyIpv4HeaderChecksum(frame, l3.offset, ihl)) fillIpv4HeaderChecksum(bytes, at, ihl);
    else unknown.fill(1, at + 10, at + 12);
    ipEnd = l3.offset + l3.repr.totalLength;
  } else if (l3.kind === "ipv6") {
    const tc = getField(from, F_NW_TOS) !== getField(to, F_NW_TOS) ? getField(to, F_NW_TOS) : l3.repr.trafficClass;
    const label = getField(from, F_IPV6_LABEL) !== getField(to, F_IPV6_LABEL) ? getField(to, F_IPV6_LABEL) : l3.repr.flowLabel;
    put32(bytes, at, ((6 << 28) | (tc << 20) | label) >>> 0);
    if (getField(from, F_NW_TTL) !== getField(to, F_NW_TTL)) bytes[at + 7] = getField(to, F_NW_TTL);
    for (let i = 0; i < 4; i++) {
      if (!same(from, to, W.IPV6_SRC + i)) put32(bytes, at + 8 + 4 * i, to[W.IPV6_SRC + i]!);
      if (!same(from, to, W.IPV6_DST + i)) put32(bytes, at + 24 + 4 * i, to[W.IPV6_DST + i]!);
    }
    ipEnd = l3.repr.payloadLength === 0 ? frame.length : l3.offset + 40 + l3.repr.payloadLength;
  } else return undefined;

  // The transport header: the layer after the IP header and its extension headers.
  let l4i = l3i + 1;
  while (l4i < d.layers.length && (d.layers[l4i]!.kind === "ipv6-ext" || d.layers[l4i]!.kind === "ah")) l4i++;
  const l4: Layer | undefined = d.layers[l4i];
  const proto = getField(from, F_NW_PROTO);
  if (!l4 || (flags & PARSE.L4) === 0) {
    // No L4 fields in the key; an L4 checksum still follows address changes. Not known here.
    if (l4 && (l4.kind === "tcp" || l4.kind === "udp" || l4.kind === "icmpv6" || l4.kind === "sctp")) unknownChecksum(unknown, l4, shift);
    else if (!l4 && (proto === 6 || proto === 17 || proto === 58)) unknown.fill(1, at, unknown.length);
    return { bytes, unknown };
  }
  const p = l4.offset + shift;
  const tp = ((getField(to, F_TP_SRC) << 16) | getField(to, F_TP_DST)) >>> 0;
  const tpChanged = !same(from, to, W.TP);
  switch (l4.kind) {
    case "tcp":
    case "udp":
    case "sctp":
      if (tpChanged) put32(bytes, p, tp);
      if (l4.kind === "tcp" && getField(from, F_TCP_FLAGS) !== getField(to, F_TCP_FLAGS)) put16(bytes, p + 12, (get16(bytes, p + 12) & 0xf000) | getField(to, F_TCP_FLAGS));
      break;
    case "icmp":
      if (tpChanged) {
        bytes[p] = getField(to, F_TP_SRC) & 0xff;
        bytes[p + 1] = getField(to, F_TP_DST) & 0xff;
      }
      break;
    case "icmpv6": {
      const nd = (frame[l4.offset] === 135 || frame[l4.offset] === 136) && frame[l4.offset + 1] === 0;
      if (tpChanged) {
        bytes[p] = getField(to, F_TP_SRC) & 0xff;
        bytes[p + 1] = getField(to, F_TP_DST) & 0xff;
      }
      if (nd) {
        if (!same(from, to, W.TCP_FLAGS)) put32(bytes, p + 4, to[W.TCP_FLAGS]!);
        for (let i = 0; i < 4; i++) if (!same(from, to, W.ND_TARGET + i)) put32(bytes, p + 8 + 4 * i, to[W.ND_TARGET + i]!);
        const end = Math.min(ipEnd, frame.length) + shift;
        for (let o = p + 24; end - o >= 8 && bytes[o + 1]! > 0; o += bytes[o + 1]! * 8) {
          if (bytes[o + 1] !== 1) continue;
          if (bytes[o] === 1 && !same(from, to, W.ARP_SHA, 2)) putMacWords(bytes, o + 2, to, W.ARP_SHA);
          if (bytes[o] === 2 && !same(from, to, W.ARP_THA, 2)) putMacWords(bytes, o + 2, to, W.ARP_THA);
        }
      }
      break;
    }
    default:
      return { bytes, unknown };
  }
  const check = statusOf(l4i);
  if (!check || check.status === "bad") {
    unknownChecksum(unknown, l4, shift);
    return { bytes, unknown };
  }
  if (check.status === "absent") return { bytes, unknown };
  const len = ipEnd - l4.offset;
  if (l4.kind === "sctp") {
    put32(bytes, p + 8, computeSctpChecksum(bytes, p, len));
  } else if (l4.kind === "icmp") {
    fillL4Checksum(bytes, p, len, 2, 0);
  } else {
    const csumAt = l4.kind === "tcp" ? 16 : l4.kind === "udp" ? 6 : 2;
    const pseudo =
      l3.kind === "ipv4"
        ? ipv4PseudoHeaderSum(((bytes[at + 12]! << 24) | (bytes[at + 13]! << 16) | get16(bytes, at + 14)) >>> 0, ((bytes[at + 16]! << 24) | (bytes[at + 17]! << 16) | get16(bytes, at + 18)) >>> 0, proto, len)
        : ipv6PseudoHeaderSum(bytes.subarray(at + 8, at + 24), bytes.subarray(at + 24, at + 40), proto, len);
    fillL4Checksum(bytes, p, len, csumAt, pseudo, l4.kind === "udp");
  }
  return { bytes, unknown };
}

function unknownChecksum(unknown: Uint8Array, l4: Layer, shift: number): void {
  const p = l4.offset + shift;
  if (l4.kind === "sctp") unknown.fill(1, p + 8, p + 12);
  else if (l4.kind === "tcp") unknown.fill(1, p + 16, p + 18);
  else if (l4.kind === "udp") unknown.fill(1, p + 6, p + 8);
  else unknown.fill(1, p + 2, p + 4);
}

// ---------------------------------------------------------------------------------------------
// The checks

interface Tally {
  cases: number;
  twinCompared: number;
  checksumsKept: number;
}

function newTally(): Tally {
  return { cases: 0, twinCompared: 0, checksumsKept: 0 };
}

function rewrite(frame: Uint8Array, from: Uint32Array, to: Uint32Array): Uint8Array {
  const out = new Uint8Array(frame.length + 8);
  const n = rewriteFrame(frame, 0, frame.length, from, to, out);
  expect(n).toBe(frame.length + 4 * (tagCount(to) - tagCount(from)));
  return out.subarray(0, n);
}

function checksumsOf(frame: Uint8Array): ChecksumCheck[] {
  return verifyChecksums(decodeFrame(frame, 0, frame.length, EXTRACT_LINK.ETHERNET, NO_TUNNELS));
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Every check of one (frame, target) pair; `label` names the case in failures. */
function checkRewrite(frame: Uint8Array, wireLen: number, from: Uint32Array, to: Uint32Array, label: string, tally: Tally): void {
  tally.cases++;
  const out = rewrite(frame, from, to);
  const delta = out.length - frame.length;
  const got = extract(out, wireLen + delta);
  const ctx = `${label}: ${hexOf(frame)}`;
  for (let w = W.TUN_ID; w < W.PARSE; w++) {
    if (got[w] !== to[w]) expect.fail(`${ctx}: word ${w} is ${got[w]!.toString(16)}, expected ${to[w]!.toString(16)}; out ${hexOf(out)}`);
  }
  const pf = from[W.PARSE]!;
  const pg = got[W.PARSE]!;
  // Same flags and error, but for the VLAN flag, which follows the tags.
  const vlanFlag = tagCount(to) > 0 ? PARSE.VLAN : 0;
  expect(pg & 0xffff, ctx).toBe(((pf & 0xffff & ~PARSE.VLAN) | vlanFlag) >>> 0);
  if (pf >>> 16 < 0xffff - 8) expect(pg >>> 16, ctx).toBe((pf >>> 16) + delta);

  const twin = slowRewrite(frame, wireLen, from, to);
  if (twin) {
    tally.twinCompared++;
    expect(twin.bytes.length, ctx).toBe(out.length);
    for (let i = 0; i < out.length; i++) {
      if (twin.unknown[i] === 0 && twin.bytes[i] !== out[i]) expect.fail(`${ctx}: byte ${i} is ${out[i]}, the twin says ${twin.bytes[i]}; out ${hexOf(out)} twin ${hexOf(twin.bytes)}`);
    }
  }

  const before = checksumsOf(frame);
  const after = checksumsOf(out);
  // Matched by kind and rank among that kind (tags pushed or popped shift the layer indexes).
  const rank = (list: readonly ChecksumCheck[], c: ChecksumCheck): number => list.filter((y) => y.kind === c.kind).indexOf(c);
  for (const c of before) {
    const a = after.filter((y) => y.kind === c.kind)[rank(before, c)];
    if (c.status === "ok") {
      tally.checksumsKept++;
      expect(a?.status, `${ctx}: ${c.kind} checksum`).toBe("ok");
    } else if (c.status === "absent") expect(a?.status, `${ctx}: ${c.kind} checksum`).toBe("absent");
  }
}

// ---------------------------------------------------------------------------------------------
// Random frames

interface Spec {
  readonly kind: "tcp" | "udp" | "sctp" | "icmp" | "icmpv6" | "nd" | "other" | "arp";
  readonly v6: boolean;
  readonly frag: number;
  readonly tags: readonly { tpid: number; tci: number }[];
  readonly seed: number;
  readonly payload: Uint8Array;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom("tcp", "udp", "sctp", "icmp", "icmpv6", "nd", "other", "arp"),
  v6: fc.boolean(),
  frag: fc.constantFrom(0, 0, 0, FRAG.ANY, FRAG.ANY | FRAG.LATER),
  tags: fc.array(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), tci: fc.integer({ min: 0, max: 0xffff }) }), { maxLength: 2 }),
  seed: fc.integer(),
  payload: fc.uint8Array({ maxLength: 80 }),
});

/**
 * A key of the spec's kind with random fields, and the frame `frameFromKey` makes of it, with the
 * DEI bit of its tags set at random (the builder clears it; extraction reads it as the CFI marker).
 */
function frameOf(s: Spec): Uint8Array {
  const f = frameOfKey(s);
  const r = rngOf(s.seed ^ 0x0de1);
  for (let i = 0; i < s.tags.length; i++) if (r() < 0.5) f[14 + 4 * i]! |= 0x10;
  return f;
}

function frameOfKey(s: Spec): Uint8Array {
  const r = rngOf(s.seed);
  const k = newKey();
  k[W.ETH_DST] = intOf(r, 0, 0xffff);
  k[W.ETH_DST + 1] = u32Of(r);
  k[W.ETH_SRC] = intOf(r, 0, 0xffff);
  k[W.ETH_SRC + 1] = u32Of(r);
  s.tags.forEach((t, i) => (k[W.VLAN0 + i] = ((t.tpid << 16) | t.tci | 0x1000) >>> 0));
  if (s.kind === "arp") {
    setField(k, F_ETH_TYPE, r() < 0.8 ? 0x0806 : 0x8035);
    setField(k, F_NW_PROTO, intOf(r, 0, 255));
    k[W.NW_SRC] = u32Of(r);
    k[W.NW_DST] = u32Of(r);
    k[W.ARP_SHA] = intOf(r, 0, 0xffff);
    k[W.ARP_SHA + 1] = u32Of(r);
    k[W.ARP_THA] = intOf(r, 0, 0xffff);
    k[W.ARP_THA + 1] = u32Of(r);
    return frameFromKey(k, { payload: s.payload });
  }
  const v6 = s.kind === "icmpv6" || s.kind === "nd" ? true : s.kind === "icmp" ? false : s.v6;
  setField(k, F_ETH_TYPE, v6 ? 0x86dd : 0x0800);
  const proto = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58, nd: 58, other: 47 }[s.kind];
  setField(k, F_NW_PROTO, proto);
  setField(k, F_NW_TOS, intOf(r, 0, 255));
  setField(k, F_NW_TTL, intOf(r, 0, 255));
  setField(k, F_NW_FRAG, s.kind === "nd" ? 0 : s.frag);
  if (v6) {
    for (let i = 0; i < 4; i++) {
      k[W.IPV6_SRC + i] = u32Of(r);
      k[W.IPV6_DST + i] = u32Of(r);
    }
    setField(k, F_IPV6_LABEL, intOf(r, 0, 0xfffff));
  } else {
    k[W.NW_SRC] = u32Of(r);
    k[W.NW_DST] = u32Of(r);
  }
  setField(k, F_TP_SRC, intOf(r, 0, 0xffff));
  setField(k, F_TP_DST, intOf(r, 0, 0xffff));
  setField(k, F_TCP_FLAGS, intOf(r, 0, 0xfff));
  if (s.kind === "icmp" || s.kind === "icmpv6") {
    let t = intOf(r, 0, 255);
    while (s.kind === "icmpv6" && (t === 135 || t === 136)) t = intOf(r, 0, 255);
    setField(k, F_TP_SRC, t);
    setField(k, F_TP_DST, intOf(r, 0, 255));
  }
  if (s.kind === "nd") {
    setField(k, F_TP_SRC, r() < 0.5 ? 135 : 136);
    setField(k, F_TP_DST, 0);
    for (let i = 0; i < 4; i++) k[W.ND_TARGET + i] = u32Of(r);
    if (r() < 0.7) {
      k[W.ARP_SHA] = intOf(r, 0, 0xffff);
      k[W.ARP_SHA + 1] = u32Of(r) | 1;
    }
    if (r() < 0.7) {
      k[W.ARP_THA] = intOf(r, 0, 0xffff);
      k[W.ARP_THA + 1] = u32Of(r) | 1;
    }
    return frameFromKey(k);
  }
  return frameFromKey(k, { payload: s.payload });
}

/** Where the transport header of a frame ends (so a cut there or later keeps every key field). */
function headersEnd(frame: Uint8Array): number {
  const d = decodeFrame(frame, 0, frame.length, EXTRACT_LINK.ETHERNET, NO_TUNNELS);
  return d.payloadOffset;
}

// ---------------------------------------------------------------------------------------------

describe("rewriteFrame on random frames", () => {
  it("extracts to the target key, agrees with the slow twin and keeps checksums correct", () => {
    const tally = newTally();
    fc.assert(
      fc.property(specArb, fc.integer(), (s, seed) => {
        const frame = frameOf(s);
        const from = extract(frame);
        const r = rngOf(seed);
        checkRewrite(frame, frame.length, from, changeKey(from, r), s.kind, tally);
        // The identity rewrite changes nothing.
        expect(hexOf(rewrite(frame, from, from))).toBe(hexOf(frame));
      }),
      { numRuns: 3000 },
    );
    expect(tally.twinCompared).toBeGreaterThan(tally.cases * 0.95);
    expect(tally.checksumsKept).toBeGreaterThan(1000);
  });

  it("rewrites a truncated frame into the prefix of the rewritten whole frame", () => {
    let compared = 0;
    fc.assert(
      fc.property(specArb, fc.integer(), fc.nat(), (s, seed, cutSeed) => {
        const frame = frameOf(s);
        const from = extract(frame);
        const to = changeKey(from, rngOf(seed));
        const whole = rewrite(frame, from, to);
        const lo = headersEnd(frame);
        if (lo >= frame.length) return;
        const cut = lo + (cutSeed % (frame.length - lo));
        const part = frame.slice(0, cut);
        const fromT = extract(part, frame.length);
        // The cut keeps every header, so the key is the same but for the parse word.
        for (let w = W.TUN_ID; w < W.PARSE; w++) if (fromT[w] !== from[w]) return;
        const toT = to.slice();
        toT[W.PARSE] = fromT[W.PARSE]!;
        const got = rewrite(part, fromT, toT);
        const want = whole.subarray(0, got.length);
        const ip = getField(from, F_ETH_TYPE) === 0x0800 || getField(from, F_ETH_TYPE) === 0x86dd;
        const sctp = ip && getField(from, F_NW_PROTO) === 132 && (getField(from, F_NW_FRAG) & FRAG.LATER) === 0;
        if (sctp) {
          // The CRC32c cannot be updated without the whole packet: it is left as it was.
          const at = lo - 4 + (got.length - part.length);
          expect(hexOf(got.subarray(0, at)) + hexOf(got.subarray(at + 4))).toBe(hexOf(want.subarray(0, at)) + hexOf(want.subarray(at + 4)));
          expect(hexOf(got.subarray(at, at + 4))).toBe(hexOf(part.subarray(at - (got.length - part.length), at - (got.length - part.length) + 4)));
        } else expect(hexOf(got)).toBe(hexOf(want));
        compared++;
      }),
      { numRuns: 2000 },
    );
    expect(compared).toBeGreaterThan(500);
  });

  it("updates the L4 checksum of a first fragment as for the whole datagram", () => {
    // A first fragment carries the checksum of the whole datagram; here the "datagram" is the
    // fragment's own bytes (the builder sums what it has), so it must verify after the rewrite too.
    let checked = 0;
    fc.assert(
      fc.property(specArb, fc.integer(), (s0, seed) => {
        if (!["tcp", "udp", "icmpv6"].includes(s0.kind)) return;
        const s = { ...s0, frag: FRAG.ANY };
        const frame = frameOf(s);
        const from = extract(frame);
        const out = rewrite(frame, from, changeKey(from, rngOf(seed)));
        for (const f of [frame, out]) {
          const d = decodeFrame(f, 0, f.length, EXTRACT_LINK.ETHERNET, NO_TUNNELS);
          const ip = d.layers.find((l) => l.kind === "ipv4" || l.kind === "ipv6")!;
          const l4 = d.layers.find((l) => l.kind === "tcp" || l.kind === "udp" || l.kind === "icmpv6");
          if (!l4) return;
          const end = ip.kind === "ipv4" ? ip.offset + ip.repr.totalLength : ip.offset + 40 + ip.repr.payloadLength;
          const len = end - l4.offset;
          const proto = getField(from, F_NW_PROTO);
          const at = l4.kind === "tcp" ? 16 : l4.kind === "udp" ? 6 : 2;
          const pseudo = ip.kind === "ipv4" ? ipv4PseudoHeaderSum(ip.repr.src, ip.repr.dst, proto, len) : ip.kind === "ipv6" ? ipv6PseudoHeaderSum(ip.repr.src, ip.repr.dst, proto, len) : 0;
          let c = computeL4Checksum(f, l4.offset, len, at, pseudo);
          if (l4.kind === "udp" && c === 0) c = 0xffff;
          expect(get16(f, l4.offset + at)).toBe(c);
        }
        checked++;
      }),
      { numRuns: 600 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});

describe("rewriteFrame contract", () => {
  const base = frameOf({ kind: "tcp", v6: false, frag: 0, tags: [{ tpid: 0x8100, tci: 0x2064 }], seed: 7, payload: new Uint8Array([1, 2, 3, 4, 5]) });
  const from = extract(base);

  it("returns -1 when out is too small, and writes nothing", () => {
    const to = from.slice();
    to[W.VLAN1] = ((0x8100 << 16) | 0x1005) >>> 0; // push an inner tag: 4 bytes more
    const out = new Uint8Array(base.length + 3).fill(0xee);
    expect(rewriteFrame(base, 0, base.length, from, to, out)).toBe(-1);
    expect(out.every((x) => x === 0xee)).toBe(true);
    expect(rewriteFrame(base, 0, base.length, from, to, new Uint8Array(base.length + 4))).toBe(base.length + 4);
  });

  it("reads nothing outside [off, off+len) and accepts an offset", () => {
    const to = changeKey(from, rngOf(3));
    const want = rewrite(base, from, to);
    for (const fill of [0x00, 0xff, 0x5a]) {
      const buf = new Uint8Array(base.length + 40).fill(fill);
      buf.set(base, 17);
      const out = new Uint8Array(200);
      const n = rewriteFrame(buf, 17, base.length, from, to, out);
      expect(hexOf(out.subarray(0, n))).toBe(hexOf(want));
    }
  });

  it("rewrites in place, pushing and popping tags", () => {
    const r = rngOf(11);
    for (let i = 0; i < 200; i++) {
      const to = changeKey(from, r);
      const want = rewrite(base, from, to);
      const buf = new Uint8Array(base.length + 8);
      buf.set(base);
      const n = rewriteFrame(buf, 0, base.length, from, to, buf);
      expect(hexOf(buf.subarray(0, n))).toBe(hexOf(want));
      // And into a view of the same buffer that starts earlier than the frame.
      const buf2 = new Uint8Array(base.length + 16);
      buf2.set(base, 8);
      const n2 = rewriteFrame(buf2, 8, base.length, from, to, buf2.subarray(4));
      expect(hexOf(buf2.subarray(4, 4 + n2))).toBe(hexOf(want));
    }
  });

  it("copies frames shorter than an Ethernet header as they are", () => {
    const tiny = new Uint8Array([1, 2, 3, 4, 5, 6, 7]);
    const k = extract(tiny);
    const to = k.slice();
    to[W.ETH_DST] = 0x1234;
    const out = new Uint8Array(16);
    expect(rewriteFrame(tiny, 0, tiny.length, k, to, out)).toBe(7);
    expect([...out.subarray(0, 7)]).toEqual([...tiny]);
  });

  it("leaves a UDP checksum of zero alone", () => {
    const f = frameOf({ kind: "udp", v6: false, frag: 0, tags: [], seed: 5, payload: new Uint8Array(9) });
    const ipOff = 14;
    const udpOff = ipOff + 20;
    f[udpOff + 6] = 0;
    f[udpOff + 7] = 0;
    const k = extract(f);
    const to = k.slice();
    to[W.NW_SRC] = 0x0a000001;
    to[W.TP] = 0x12345678;
    const out = rewrite(f, k, to);
    expect(get16(out, udpOff + 6)).toBe(0);
    expect(checksumsOf(out).find((c) => c.kind === "udp")?.status).toBe("absent");
  });
});

// ---------------------------------------------------------------------------------------------
// Real captures

function captureFiles(): string[] {
  if (!havePcaps) return [];
  const l2l3 = readdirSync(join(PCAPS, "l2l3"))
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => join("l2l3", f));
  return ["bench/pcpp-example2-4709.pcap", "bench/wand-fragtest-isp-vlan-2010-10k.pcap", "bench/wand-lpi-isp-2007-10k.pcap", "bench/ndpi-reddit-ipv6.pcap", "bench/ndpi-gnutella-p2p.pcap", ...l2l3.sort()];
}

describe.skipIf(!havePcaps)("rewriteFrame on real captures", () => {
  it.each(captureFiles())("%s: addresses, ports, TTL, MACs and tags", (file) => {
    const r = readCaptureFile(join(PCAPS, file));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const rd = r.value;
    const tally = newTally();
    const rng = rngOf(0x5eed ^ file.length);
    let n = 0;
    while (rd.next() && n < 2500) {
      if (rd.linkType !== 1) continue;
      n++;
      const frame = rd.data.slice(rd.offset, rd.offset + rd.caplen);
      const from = extract(frame, rd.origlen);
      checkRewrite(frame, rd.origlen, from, changeKey(from, rng), `${file}#${rd.index}`, tally);
    }
    expect(rd.error).toBeUndefined();
    expect(tally.cases).toBeGreaterThan(0);
    // The decoder and extraction agree on nearly every packet, so the twin compares nearly all.
    expect(tally.twinCompared).toBeGreaterThan(tally.cases * 0.9);
  });

  it("keeps an L4 checksum over a routing header's final destination when ipv6_dst changes", () => {
    const r = readCaptureFile(join(PCAPS, "l2l3/tcpdump-ipv6-routing-header.pcap"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    let checked = 0;
    while (r.value.next()) {
      const frame = r.value.data.slice(r.value.offset, r.value.offset + r.value.caplen);
      const d = decodeFrame(frame, 0, frame.length, EXTRACT_LINK.ETHERNET, NO_TUNNELS);
      const ip = d.layers.find((l) => l.kind === "ipv6");
      const rh = d.layers.find((l) => l.kind === "ipv6-ext" && l.repr.kind === "routing");
      const l4 = d.layers.find((l) => l.kind === "udp" || l.kind === "icmpv6");
      if (!ip || ip.kind !== "ipv6" || !rh || rh.kind !== "ipv6-ext" || rh.repr.kind !== "routing" || !l4 || rh.repr.segmentsLeft === 0) continue;
      // Type 0: 4 reserved bytes, then the addresses; the last one is the final destination.
      const data = rh.repr.data;
      const finalDst = data.subarray(data.length - 16);
      const proto = l4.kind === "udp" ? 17 : 58;
      const len = ip.offset + 40 + ip.repr.payloadLength - l4.offset;
      const at = l4.kind === "udp" ? 6 : 2;
      const valid = (f: Uint8Array, src: Uint8Array): boolean => computeL4Checksum(f, l4.offset, len, at, ipv6PseudoHeaderSum(src, finalDst, proto, len)) === get16(f, l4.offset + at);
      expect(valid(frame, ip.repr.src)).toBe(true);
      const from = extract(frame, r.value.origlen);
      const to = from.slice();
      for (let i = 0; i < 4; i++) {
        to[W.IPV6_DST + i] = (to[W.IPV6_DST + i]! ^ (0x01010101 * (i + 1))) >>> 0;
        to[W.IPV6_SRC + i] = (to[W.IPV6_SRC + i]! + 77) >>> 0;
      }
      const out = rewrite(frame, from, to);
      expect(valid(out, out.subarray(ip.offset + 8, ip.offset + 24))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
