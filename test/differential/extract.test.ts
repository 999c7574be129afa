/**
 * Flow-key extraction against its slow twin.
 *
 * `expectedKey` derives the key from the packet decoder's layers (plain objects, one per header),
 * applying OVS's extraction rules step by step; `extractKey` is the fast byte-level version. On every
 * packet of every shared capture they must agree, with and without tunnel decapsulation, and a key
 * reused across packets must equal a fresh one (extraction clears only what a packet can leave).
 * Packets the decoder reports as malformed or truncated are checked only for "no throw" and reuse:
 * the decoder and the extractor may stop at different points there by design.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ipv4FromBytes } from "../../src/base/index.js";
import { FIELDS, FRAG, KEY_WORDS, PARSE, TUN, W, extractKey, newKey, tcpAt } from "../../src/flow/index.js";
import { decodeFrame, type Decoded, type Layer, type LayerOf } from "../../src/packet/index.js";
import { openCapture } from "../../src/pcap/index.js";

const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(import.meta.dirname, "../../../shared/pcaps");
let files: string[] = [];
try {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : /\.pcap(ng)?$/.test(n) ? [join(d, n)] : []));
  files = walk(PCAPS).sort();
} catch {
  console.warn(`skipping extraction differential: no captures at ${PCAPS} (set OVNSIM_PCAPS)`);
}

function mac(k: Uint32Array, w: number, b: Uint8Array): void {
  k[w] = (b[0]! << 8) | b[1]!;
  k[w + 1] = ipv4FromBytes(b, 2);
}

function words(b: Uint8Array): number[] {
  return [0, 4, 8, 12].map((o) => ipv4FromBytes(b, o));
}

/** The key OVS would extract, derived from decoded layers. Undefined: a case the twin does not model. */
function expectedKey(d: Decoded, decap: boolean): Uint32Array | undefined {
  const k = newKey();
  k[W.IN_PORT] = 1;
  let ls: readonly Layer[] = d.layers;
  if (d.linkType !== 1) return undefined;
  if (decap) {
    // The outer headers up to a Geneve (TEB) or VXLAN header become tunnel metadata.
    const t = ls.findIndex((l) => l.kind === "geneve" || l.kind === "vxlan");
    const outerIp = ls.find((l) => l.kind === "ipv4" && l.depth === 0);
    const outerIp6 = ls.find((l) => l.kind === "ipv6" && l.depth === 0);
    const tl = ls[t] as LayerOf<"geneve"> | LayerOf<"vxlan"> | undefined;
    if (tl && outerIp?.kind === "ipv4" && !outerIp6 && ls.filter((l) => l.kind === "vlan" && l.depth === 0).length <= 2) {
      if (tl.kind === "geneve" && tl.repr.protocolType !== 0x6558) return undefined;
      if (outerIp.repr.moreFrags || outerIp.repr.fragOffset) return undefined;
      k[W.TUN_ID] = tl.repr.vni;
      k[W.TUN_SRC] = outerIp.repr.src;
      k[W.TUN_DST] = outerIp.repr.dst;
      let f = TUN.PRESENT;
      if (tl.kind === "vxlan") f |= TUN.VXLAN;
      else {
        if (tl.repr.oam) f |= TUN.OAM;
        for (const o of tl.repr.options) {
          if (o.optClass === 0x0102 && o.type === 0x80 && o.data.length === 4) {
            k[W.TUN_MD0] = ipv4FromBytes(o.data, 0);
            f |= TUN.MD0_PRESENT;
          } else if (o.type & 0x80) f |= TUN.UNKNOWN_CRIT;
        }
      }
      k[W.TUN_FLAGS] = f;
      ls = ls.filter((l) => l.depth === tl.depth + 1 && l.offset > tl.offset);
      if (ls[0]?.kind !== "ethernet") return undefined;
    }
  }
  const depth = ls[0]?.depth ?? 0;
  ls = ls.filter((l) => l.depth === depth);
  const eth = ls[0];
  if (eth?.kind !== "ethernet") return undefined;
  mac(k, W.ETH_DST, eth.repr.dst);
  mac(k, W.ETH_SRC, eth.repr.src);
  let type = eth.repr.etherType;
  let i = 1;
  let tags = 0;
  while (ls[i]?.kind === "vlan" && (type === 0x8100 || type === 0x88a8)) {
    const v = ls[i] as Extract<Layer, { kind: "vlan" }>;
    if (tags === 2) break;
    k[tags === 0 ? W.VLAN0 : W.VLAN1] = ((type << 16) | (v.repr.pcp << 13) | (v.repr.dei ? 0x1000 : 0) | v.repr.vid | 0x1000) >>> 0;
    type = v.repr.etherType;
    tags++;
    i++;
  }
  if (type < 0x600) return undefined; // 802.3 frames: LLC/SNAP is not decoded by the layer chain.
  k[W.ETH_TYPE] = type;
  const l3 = ls[i];
  if (type === 0x8100 || type === 0x88a8) return k;
  if (l3?.kind === "arp" && (type === 0x0806 || type === 0x8035)) {
    if (l3.repr.htype === 1 && l3.repr.ptype === 0x0800 && l3.repr.sha.length === 6 && l3.repr.tha.length === 6) {
      if (l3.repr.op <= 0xff) k[W.NW] = l3.repr.op;
      mac(k, W.ARP_SHA, l3.repr.sha);
      mac(k, W.ARP_THA, l3.repr.tha);
      k[W.NW_SRC] = l3.repr.spa;
      k[W.NW_DST] = l3.repr.tpa;
    }
    return k;
  }
  let proto: number;
  let later = false;
  let v6 = false;
  if (l3?.kind === "ipv4" && type === 0x0800) {
    const r = l3.repr;
    proto = r.protocol;
    let frag = 0;
    if (r.moreFrags || r.fragOffset) frag = FRAG.ANY;
    if (r.fragOffset) {
      frag |= FRAG.LATER;
      later = true;
    }
    k[W.NW] = (proto | (((r.dscp << 2) | r.ecn) << 8) | (r.ttl << 16) | (frag << 24)) >>> 0;
    k[W.NW_SRC] = r.src;
    k[W.NW_DST] = r.dst;
    i++;
  } else if (l3?.kind === "ipv6" && type === 0x86dd) {
    const r = l3.repr;
    v6 = true;
    proto = r.nextHeader;
    words(r.src).forEach((w, j) => (k[W.IPV6_SRC + j] = w));
    words(r.dst).forEach((w, j) => (k[W.IPV6_DST + j] = w));
    k[W.IPV6_LABEL] = r.flowLabel;
    let frag = 0;
    i++;
    for (; ls[i]?.kind === "ipv6-ext" || ls[i]?.kind === "ah"; i++) {
      const e = ls[i] as LayerOf<"ipv6-ext"> | LayerOf<"ah">;
      // A fragment header with offset, reserved bits and M all zero makes no fragment (OVS).
      if (e.kind === "ipv6-ext" && e.repr.kind === "fragment" && (e.repr.fragOffset !== 0 || e.repr.reserved2 !== 0 || e.repr.moreFrags)) {
        frag |= FRAG.ANY;
        if (e.repr.fragOffset) {
          frag |= FRAG.LATER;
          later = true;
        }
      }
      proto = e.kind === "ah" ? e.repr.nextHeader : e.repr.nextHeader;
      if (later) {
        i++;
        break;
      }
    }
    k[W.NW] = (proto | (r.trafficClass << 8) | (r.hopLimit << 16) | (frag << 24)) >>> 0;
  } else {
    return k;
  }
  if (later) return k;
  const l4 = ls[i];
  if (!l4) return k;
  if ((l4.kind === "tcp" && proto === 6) || (l4.kind === "udp" && proto === 17) || (l4.kind === "sctp" && proto === 132)) {
    k[W.TP] = ((l4.repr.srcPort << 16) | l4.repr.dstPort) >>> 0;
    if (l4.kind === "tcp") k[W.TCP_FLAGS] = ((l4.repr.reserved & 1) << 8) | (l4.repr.flags & 0xff);
  } else if (l4.kind === "icmp" && proto === 1 && !v6) {
    k[W.TP] = ((l4.repr.type << 16) | l4.repr.code) >>> 0;
  } else if (l4.kind === "icmpv6" && proto === 58 && v6) {
    k[W.TP] = ((l4.repr.type << 16) | l4.repr.code) >>> 0;
    const nd = l4.repr.nd;
    if ((l4.repr.type === 135 || l4.repr.type === 136) && l4.repr.code === 0 && nd?.target) {
      words(nd.target).forEach((w, j) => (k[W.ND_TARGET + j] = w));
      // The reserved word (an advertisement's flags) goes where a TCP segment's flags would.
      k[W.TCP_FLAGS] = l4.repr.rest >>> 0;
      let sll = false;
      let tll = false;
      for (const o of nd.options) {
        if ((o.type === 1 || o.type === 2) && o.data.length === 6) {
          if ((o.type === 1 && sll) || (o.type === 2 && tll)) {
            for (const w of [W.ND_TARGET, W.ND_TARGET + 1, W.ND_TARGET + 2, W.ND_TARGET + 3, W.ARP_SHA, W.ARP_SHA + 1, W.ARP_THA, W.ARP_THA + 1]) k[w] = 0;
            break;
          }
          mac(k, o.type === 1 ? W.ARP_SHA : W.ARP_THA, o.data);
          if (o.type === 1) sll = true;
          else tll = true;
        }
      }
    }
  }
  return k;
}

/** Compares everything but the parse word; names the fields of the first words that differ. */
function diff(a: Uint32Array, b: Uint32Array): string | undefined {
  const out: string[] = [];
  for (let i = 0; i < KEY_WORDS; i++) {
    if (i === W.PARSE || a[i] === b[i]) continue;
    const names = [...FIELDS.values()].filter((f) => !/^x+reg/.test(f.name) && i >= f.word && i < f.word + f.nwords).map((f) => f.name);
    out.push(`word ${i} (${names.join("/")}): fast 0x${a[i]!.toString(16)}, twin 0x${b[i]!.toString(16)}`);
  }
  return out.length ? out.join("; ") : undefined;
}

describe("extractKey agrees with the decoder-based twin on every real packet", () => {
  it.skipIf(files.length === 0)("all shared captures", () => {
    const problems: string[] = [];
    let compared = 0;
    let skipped = 0;
    let tcpHeaders = 0;
    const reused = newKey();
    const fresh = newKey();
    for (const file of files) {
      const r = openCapture(new Uint8Array(readFileSync(file)), file);
      if (!r.ok) continue;
      const rd = r.value;
      while (rd.next()) {
        for (const decap of [false, true]) {
          fresh.fill(0);
          expect(() => extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, fresh, 1, decap)).not.toThrow();
          extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, reused, 1, decap);
          const reuse = diff(reused, fresh);
          if (reuse) problems.push(`${relative(PCAPS, file)} #${rd.index + 1} decap=${decap}: reused key differs from a fresh one: ${reuse}`);
          if (reused[W.PARSE] !== fresh[W.PARSE]) problems.push(`${relative(PCAPS, file)} #${rd.index + 1}: parse word differs on reuse`);
          const d = decodeFrame(rd.data, rd.offset, rd.caplen, rd.linkType, { wireLength: rd.origlen });
          const clean = d.issues.length === 0 && !d.truncated && (fresh[W.PARSE]! & PARSE.MALFORMED) === 0 && ((fresh[W.PARSE]! >>> 8) & 0xff) === 0;
          const twin = clean ? expectedKey(d, decap) : undefined;
          if (!twin) {
            skipped++;
            continue;
          }
          compared++;
          if (!decap) {
            // Where the TCP header is, for conntrack's window tracking (not a key field).
            extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, fresh, 1, false);
            const tcp = d.layers.find((l) => l.kind === "tcp" && l.depth === 0);
            const want = tcp && (fresh[W.PARSE]! & PARSE.L4) !== 0 ? tcp.offset : -1;
            if (tcpAt.header !== want && problems.length < 40) problems.push(`${relative(PCAPS, file)} #${rd.index + 1}: TCP header at ${tcpAt.header}, twin ${want}`);
            if (want >= 0) tcpHeaders++;
          }
          const dd = diff(fresh, twin);
          if (dd && problems.length < 40) problems.push(`${relative(PCAPS, file)} #${rd.index + 1} decap=${decap}: ${dd}`);
        }
      }
    }
    console.log(`extraction twin: ${compared} packet extractions compared, ${skipped} not modelled or not clean`);
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(200_000);
    expect(tcpHeaders).toBeGreaterThan(10_000);
  });
});
