/**
 * Port security, which OVN 23.03 checks outside the logical flows.
 *
 * Since 23.03, northd emits only `reg0[15] = check_in_port_sec();` / `check_out_port_sec();` and
 * ovn-controller installs the real checks from each port's `port_security` column. This module gives
 * the executor those two functions for a compiled network (1 = violation, 0 = allowed).
 *
 * The rules follow ovn-nb(5) `port_security`: each entry is a MAC, optionally with IPv4/IPv6
 * addresses or prefixes.
 * - Ingress: `eth.src` must be an entry's MAC. When that entry lists IPv4 addresses, an IPv4
 *   packet's source must be one of them (or be the DHCP discovery 0.0.0.0 → 255.255.255.255
 *   udp 68 → 67), and an ARP packet's SHA must be the MAC and its SPA one of them; IPv4 traffic is
 *   dropped when the entry lists only IPv6 addresses, and likewise the other way. IPv6 sources may
 *   also be the unspecified address or link-local.
 * - Egress: `eth.dst` must be an entry's MAC, or broadcast/multicast. With IPv4 addresses listed,
 *   an IPv4 destination must be one of them, the limited broadcast, or multicast (IPv6 likewise).
 * A port with no `port_security` entries is never checked. ND option checks (SLL/TLL) are not
 * modelled.
 */
import { parseCidr, parseIpv4, parseIpv6, parseMac } from "../base/index.js";
import { W } from "../flow/index.js";
import type { Network } from "../model/index.js";
import type { LogicalProgram } from "../ofp/index.js";

interface Entry {
  readonly mac: readonly [number, number];
  readonly v4: readonly { readonly addr: number; readonly mask: number }[];
  readonly v6: readonly { readonly addr: readonly number[]; readonly mask: readonly number[] }[];
}

function words16(b: Uint8Array): number[] {
  return [0, 4, 8, 12].map((o) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0);
}

function prefixWords(len: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    out.push(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  }
  return out;
}

function parseEntry(text: string): Entry | undefined {
  const parts = text.trim().split(/\s+/);
  const mac = parseMac(parts[0] ?? "");
  if (!mac) return undefined;
  const v4: { addr: number; mask: number }[] = [];
  const v6: { addr: number[]; mask: number[] }[] = [];
  for (const p of parts.slice(1)) {
    const c = parseCidr(p);
    if (!c) continue;
    if (c.family === 4) {
      const mask = prefixWords(c.prefixLen, 1)[0]!;
      v4.push({ addr: (parseIpv4(p.split("/")[0]!)! & mask) >>> 0, mask });
    } else {
      const mask = prefixWords(c.prefixLen, 4);
      const a = words16(parseIpv6(p.split("/")[0]!)!);
      v6.push({ addr: a.map((w, i) => (w & mask[i]!) >>> 0), mask });
    }
  }
  return { mac: [(mac[0]! << 8) | mac[1]!, ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0], v4, v6 };
}

function v4In(e: Entry, ip: number): boolean {
  return e.v4.some((p) => ((ip & p.mask) >>> 0) === p.addr);
}

function v6In(e: Entry, k: Uint32Array, at: number): boolean {
  return e.v6.some((p) => p.addr.every((w, i) => ((k[at + i]! & p.mask[i]!) >>> 0) === w));
}

function macIs(k: Uint32Array, at: number, e: Entry): boolean {
  return k[at] === e.mac[0] && k[at + 1] === e.mac[1];
}

function checkIn(entries: readonly Entry[], k: Uint32Array): boolean {
  const et = k[W.ETH_TYPE]!;
  for (const e of entries) {
    if (!macIs(k, W.ETH_SRC, e)) continue;
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    if (et === 0x0800) {
      if (e.v4.length === 0) continue;
      const src = k[W.NW_SRC]!;
      const proto = k[W.NW]! & 0xff;
      if (v4In(e, src)) return true;
      if (src === 0 && k[W.NW_DST] === 0xffffffff && proto === 17 && k[W.TP] === ((68 << 16) | 67) >>> 0) return true;
      continue;
    }
    if (et === 0x0806) {
      if (e.v4.length === 0) continue;
      if (macIs(k, W.ARP_SHA, e) && v4In(e, k[W.NW_SRC]!)) return true;
      continue;
    }
    if (et === 0x86dd) {
      if (e.v6.length === 0) continue;
      const s = W.IPV6_SRC;
      const unspecified = k[s] === 0 && k[s + 1] === 0 && k[s + 2] === 0 && k[s + 3] === 0;
      const linkLocal = (k[s]! >>> 22) === 0x3fa;
      if (unspecified || linkLocal || v6In(e, k, s)) return true;
      continue;
    }
    return true;
  }
  return false;
}

function checkOut(entries: readonly Entry[], k: Uint32Array): boolean {
  const et = k[W.ETH_TYPE]!;
  const multicastMac = (k[W.ETH_DST]! & 0x100) !== 0;
  for (const e of entries) {
    if (!multicastMac && !macIs(k, W.ETH_DST, e)) continue;
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    if (et === 0x0800) {
      if (e.v4.length === 0) continue;
      const dst = k[W.NW_DST]!;
      if (v4In(e, dst) || dst === 0xffffffff || dst >>> 28 === 0xe) return true;
      continue;
    }
    if (et === 0x86dd) {
      if (e.v6.length === 0) continue;
      const d = W.IPV6_DST;
      if (k[d]! >>> 24 === 0xff || v6In(e, k, d)) return true;
      continue;
    }
    return true;
  }
  return false;
}

const ALL = 0xffffffff;

/**
 * Marks in `wc` (whole words) every key word `checkIn` may read for the packet `k`, so that a
 * megaflow matches them: `eth.src` and `eth.type`, then by type the IPv4 source (and, for source
 * 0.0.0.0 only, what the DHCP exception compares), ARP's SHA and SPA, or the IPv6 source. Whether
 * a word is read depends only on words marked before it, so the set is the same for every packet
 * the megaflow matches.
 */
function markInReads(wc: Uint32Array, k: Uint32Array): void {
  wc[W.ETH_SRC] = ALL;
  wc[W.ETH_SRC + 1] = ALL;
  wc[W.ETH_TYPE] = ALL;
  const et = k[W.ETH_TYPE];
  if (et === 0x0800) {
    wc[W.NW_SRC] = ALL;
    if (k[W.NW_SRC] === 0) {
      wc[W.NW_DST] = ALL;
      wc[W.NW] = ALL;
      wc[W.TP] = ALL;
    }
  } else if (et === 0x0806) {
    wc[W.ARP_SHA] = ALL;
    wc[W.ARP_SHA + 1] = ALL;
    wc[W.NW_SRC] = ALL;
  } else if (et === 0x86dd) {
    for (let i = 0; i < 4; i++) wc[W.IPV6_SRC + i] = ALL;
  }
}

/** As `markInReads`, for `checkOut`: `eth.dst`, `eth.type`, and the IPv4 or IPv6 destination. */
function markOutReads(wc: Uint32Array, k: Uint32Array): void {
  wc[W.ETH_DST] = ALL;
  wc[W.ETH_DST + 1] = ALL;
  wc[W.ETH_TYPE] = ALL;
  const et = k[W.ETH_TYPE];
  if (et === 0x0800) wc[W.NW_DST] = ALL;
  else if (et === 0x86dd) for (let i = 0; i < 4; i++) wc[W.IPV6_DST + i] = ALL;
}

/**
 * `check_in_port_sec` and `check_out_port_sec` handlers for the executor (`calls` option): each
 * returns 1 when the packet violates the port security of its input (ingress) or output (egress)
 * port.
 */
export function portSecurityCalls(net: Network, program: LogicalProgram): Record<string, (a: unknown, ctx: { key: Uint32Array; datapath: { key: number } }) => bigint> {
  const byPort = new Map<string, readonly Entry[]>();
  for (const ls of net.switches.values()) {
    const dp = program.datapathByName.get(ls.name);
    if (dp === undefined) continue;
    for (const p of ls.ports.values()) {
      const lp = program.portByName.get(p.name);
      if (!lp || p.portSecurity.size === 0) continue;
      const entries = p.portSecurity.toArray().map(parseEntry).filter((e): e is Entry => e !== undefined);
      byPort.set(`${dp}/${lp.key}`, entries);
    }
  }
  const check = (reg: number, markReads: (wc: Uint32Array, k: Uint32Array) => void, fn: (e: readonly Entry[], k: Uint32Array) => boolean) => (_a: unknown, ctx: { key: Uint32Array; datapath: { key: number }; wc?: Uint32Array }): bigint => {
    // For the flow cache: the port register picks the entries, then the check reads the packet.
    if (ctx.wc) ctx.wc[W.REG0 + reg] = ALL;
    const entries = byPort.get(`${ctx.datapath.key}/${ctx.key[W.REG0 + reg]}`);
    if (!entries) return 0n;
    if (ctx.wc) markReads(ctx.wc, ctx.key);
    return fn(entries, ctx.key) ? 0n : 1n;
  };
  return { check_in_port_sec: check(14, markInReads, checkIn), check_out_port_sec: check(15, markOutReads, checkOut) };
}
