/**
 * Port security, which OVN 23.03 checks outside the logical flows.
 *
 * Since 23.03, northd emits only `reg0[15] = check_in_port_sec();` / `check_out_port_sec();` and
 * ovn-controller installs the real checks from each port's `port_security` column: OpenFlow tables
 * of its own (in_port_sec, in_port_sec_nd, out_port_sec) whose answer is 1 for a violation and 0
 * otherwise, 0 also when no flow matches. This module gives the executor those two functions for a
 * compiled network, in one of two flavours:
 *
 * - `datapath` (the default): what ovn-controller's flows decide. Each entry is a MAC, optionally
 *   with IPv4/IPv6 addresses or prefixes; an address with host bits set (or a full-length prefix)
 *   allows that address alone, a prefix with host bits clear allows the whole prefix.
 *   - Ingress: an entry with no addresses lets everything from its MAC through (ARP only with that
 *     MAC as SHA). An entry with addresses lets through, from its MAC: IPv4 from one of its IPv4
 *     addresses (and the DHCP discovery 0.0.0.0 → 255.255.255.255 udp 68 → 67); ARP whose SHA is
 *     the MAC and SPA one of its IPv4 addresses; IPv6 from one of its IPv6 addresses or the MAC's
 *     own link-local address, and from the unspecified address only MLD reports (131, 143) and
 *     neighbour solicitations sent to ff02::/16. Anything else (another EtherType too) is dropped.
 *     Neighbour advertisements with hop limit 255 must carry an IPv6 address of the entry as target
 *     and the MAC or nothing as TLL (ovn-controller writes its other ND flows with hop limit 225,
 *     which no ND packet carries; solicitations pass).
 *   - Egress: the frame must go to an entry's MAC. An entry with addresses lets through IPv4 only to
 *     one of its IPv4 addresses, the broadcast of a prefix written with host bits, 255.255.255.255
 *     or 224.0.0.0/4; IPv6 only to one of its IPv6 addresses, the MAC's link-local address or
 *     ff00::/8; other EtherTypes freely. (Multicast frames skip the check in northd's flows.)
 * - `ovn-trace`: what ovn-trace 23.03 decides, for comparing with it. It takes the first entry
 *   whose MAC matches, compares addresses as written (a prefix only by its own address), accepts
 *   the MAC's link-local address as an IPv6 source even for an entry with IPv4 addresses only,
 *   checks neighbour discovery's SLL, TLL and target without regard to the hop limit, and lets
 *   frames of other EtherTypes through.
 *
 * Megaflows: the checks read the key through a `Reader`, which marks in the flow cache's mask
 * every bit they looked at, so a megaflow matches exactly what the answer depended on.
 */
import { parseCidr, parseIpv4, parseIpv6, parseMac } from "../base/index.js";
import { W } from "../flow/index.js";
import type { Network } from "../model/index.js";
import type { LogicalProgram } from "../ofp/index.js";

/** Which port security rules to apply (see the module comment). */
export type PortSecurityFlavour = "datapath" | "ovn-trace";

interface Prefix4 {
  /** The address as written. */
  readonly addr: number;
  readonly mask: number;
  /** The address alone (full length, or host bits set), else the whole prefix. */
  readonly exact: boolean;
  /** The prefix's broadcast address, allowed on egress for an address written with a shorter prefix. */
  readonly bcast: number | undefined;
}

interface Prefix6 {
  readonly addr: readonly number[];
  readonly mask: readonly number[];
  readonly exact: boolean;
}

interface Entry {
  readonly mac: readonly [number, number];
  readonly v4: readonly Prefix4[];
  readonly v6: readonly Prefix6[];
  /** The link-local address made from the MAC (EUI-64), as four words. */
  readonly lla: readonly number[];
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

function linkLocal(mac: Uint8Array): number[] {
  return [0xfe800000, 0, (((mac[0]! ^ 0x02) << 24) | (mac[1]! << 16) | (mac[2]! << 8) | 0xff) >>> 0, ((0xfe << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0];
}

function parseEntry(text: string): Entry | undefined {
  const parts = text.trim().split(/\s+/);
  const mac = parseMac(parts[0] ?? "");
  if (!mac) return undefined;
  const v4: Prefix4[] = [];
  const v6: Prefix6[] = [];
  for (const p of parts.slice(1)) {
    const c = parseCidr(p);
    if (!c) continue;
    if (c.family === 4) {
      const mask = prefixWords(c.prefixLen, 1)[0]!;
      const addr = parseIpv4(p.split("/")[0]!)!;
      const exact = c.prefixLen === 32 || (addr & ~mask) !== 0;
      v4.push({ addr, mask, exact, bcast: c.prefixLen !== 32 && exact ? (addr | ~mask) >>> 0 : undefined });
    } else {
      const mask = prefixWords(c.prefixLen, 4);
      const addr = words16(parseIpv6(p.split("/")[0]!)!);
      v6.push({ addr, mask, exact: c.prefixLen === 128 || addr.some((w, i) => (w & ~mask[i]!) !== 0) });
    }
  }
  return { mac: [(mac[0]! << 8) | mac[1]!, ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0], v4, v6, lla: linkLocal(mac) };
}

/**
 * The packet being checked: each read marks the bits it looked at in `wc` (when the flow cache
 * wants them), so the answer depends on marked bits alone.
 */
class Reader {
  key: Uint32Array = new Uint32Array(0);
  wc: Uint32Array | undefined = undefined;

  word(w: number, mask = 0xffffffff): number {
    if (this.wc) this.wc[w] = (this.wc[w]! | mask) >>> 0;
    return (this.key[w]! & mask) >>> 0;
  }

  /** Whether the MAC at word `w` is the entry's. */
  mac(w: number, e: Entry): boolean {
    return this.word(w, 0xffff) === e.mac[0] && this.word(w + 1) === e.mac[1];
  }

  macZero(w: number): boolean {
    return this.word(w, 0xffff) === 0 && this.word(w + 1) === 0;
  }

  proto(): number {
    return this.word(W.NW, 0xff);
  }

  ttl(): number {
    return this.word(W.NW, 0xff0000) >>> 16;
  }

  /** ICMPv6 type and code (OVS keeps them in tp_src and tp_dst). */
  icmpType(): number {
    return this.word(W.TP, 0xffff0000) >>> 16;
  }

  icmpCode(): number {
    return this.word(W.TP, 0xffff);
  }

  v4In(w: number, p: Prefix4, asWritten: boolean): boolean {
    if (p.exact || asWritten) return this.word(w) === p.addr;
    return this.word(w, p.mask) === ((p.addr & p.mask) >>> 0);
  }

  v6Is(w: number, addr: readonly number[]): boolean {
    for (let i = 0; i < 4; i++) if (this.word(w + i) !== addr[i]) return false;
    return true;
  }

  v6In(w: number, p: Prefix6, asWritten: boolean): boolean {
    if (p.exact || asWritten) return this.v6Is(w, p.addr);
    for (let i = 0; i < 4; i++) if (this.word(w + i, p.mask[i]!) !== ((p.addr[i]! & p.mask[i]!) >>> 0)) return false;
    return true;
  }

  v6Zero(w: number): boolean {
    return this.v6Is(w, ZERO6);
  }

  /** Whether the IPv6 address at word `w` is in `net`/`len` (len at most 32). */
  v6Under(w: number, net: number, len: number): boolean {
    const mask = prefixWords(len, 1)[0]!;
    return this.word(w, mask) === net;
  }
}

const ZERO6: readonly number[] = [0, 0, 0, 0];
const IP4 = 0x0800;
const ARP = 0x0806;
const IP6 = 0x86dd;
const ICMP6 = 58;

// --- The datapath: ovn-controller 23.03's port security flows (controller/lflow.c). ---

/** in_port_sec: true when the packet may enter. */
function datapathIn(entries: readonly Entry[], r: Reader): boolean {
  const et = r.word(W.ETH_TYPE);
  // Priority 95: every ARP goes on to the ND table.
  if (et === ARP) return datapathInNd(entries, r);
  // Priority 90, by entry; priority 80 drops the rest.
  for (const e of entries) {
    if (!r.mac(W.ETH_SRC, e)) continue;
    if (e.v4.length === 0 && e.v6.length === 0) return datapathInNd(entries, r);
    if (et === IP4 && e.v4.length > 0) {
      for (const p of e.v4) if (r.v4In(W.NW_SRC, p, false)) return true;
      if (r.word(W.NW_SRC) === 0 && r.word(W.NW_DST) === 0xffffffff && r.proto() === 17 && r.word(W.TP) === ((68 << 16) | 67) >>> 0) return true;
    } else if (et === IP6 && e.v6.length > 0) {
      for (const p of e.v6) if (r.v6In(W.IPV6_SRC, p, false)) return datapathInNd(entries, r);
      if (r.v6Is(W.IPV6_SRC, e.lla)) return datapathInNd(entries, r);
      if (r.v6Zero(W.IPV6_SRC) && r.v6Under(W.IPV6_DST, 0xff020000, 16) && r.proto() === ICMP6 && r.icmpCode() === 0) {
        const t = r.icmpType();
        if (t === 131 || t === 143) return true;
        if (t === 135) return datapathInNd(entries, r);
      }
    }
  }
  return false;
}

/** in_port_sec_nd: ARP and neighbour discovery; a packet no flow matches passes. */
function datapathInNd(entries: readonly Entry[], r: Reader): boolean {
  const et = r.word(W.ETH_TYPE);
  if (et === ARP) {
    for (const e of entries) {
      if (e.v4.length === 0 && e.v6.length > 0) continue;
      if (!r.mac(W.ETH_SRC, e) || !r.mac(W.ARP_SHA, e)) continue;
      if (e.v4.length === 0) return true;
      for (const p of e.v4) if (r.v4In(W.NW_SRC, p, false)) return true;
    }
    return false;
  }
  // Solicitations pass whatever they carry: the flows that check their SLL require hop limit 225,
  // and the one for hop limit 255 allows them.
  if (et !== IP6 || r.proto() !== ICMP6 || r.icmpType() !== 136) return true;
  // Advertisements: those with hop limit 255 are dropped unless an entry's flow allows them (the
  // flows for the link-local target and for entries without IPv6 addresses also require hop
  // limit 225 and the MAC as SLL, which an advertisement does not carry).
  if (r.ttl() !== 255) return true;
  if (r.icmpCode() !== 0) return false;
  for (const e of entries) {
    if (e.v6.length === 0 || !r.mac(W.ETH_SRC, e)) continue;
    if (!r.macZero(W.ARP_THA) && !r.mac(W.ARP_THA, e)) continue;
    for (const p of e.v6) if (r.v6In(W.ND_TARGET, p, false)) return true;
  }
  return false;
}

/** out_port_sec: true when the packet may leave. */
function datapathOut(entries: readonly Entry[], r: Reader): boolean {
  const et = r.word(W.ETH_TYPE);
  for (const e of entries) {
    if (!r.mac(W.ETH_DST, e)) continue;
    // Priority 85: the MAC alone, unless (90) the entry has addresses and this is IP.
    if ((e.v4.length === 0 && e.v6.length === 0) || (et !== IP4 && et !== IP6)) return true;
    // Priority 95.
    if (et === IP4 && e.v4.length > 0) {
      for (const p of e.v4) if (r.v4In(W.NW_DST, p, false) || (p.bcast !== undefined && r.word(W.NW_DST) === p.bcast)) return true;
      const d = r.word(W.NW_DST);
      if (d === 0xffffffff || r.word(W.NW_DST, 0xf0000000) === 0xe0000000) return true;
    } else if (et === IP6 && e.v6.length > 0) {
      for (const p of e.v6) if (r.v6In(W.IPV6_DST, p, false)) return true;
      if (r.v6Is(W.IPV6_DST, e.lla) || r.v6Under(W.IPV6_DST, 0xff000000, 8)) return true;
    }
  }
  return false;
}

// --- ovn-trace 23.03's own checks (utilities/ovn-trace.c), for comparing with it. ---

function traceIn(entries: readonly Entry[], r: Reader): boolean {
  const e = entries.find((x) => r.mac(W.ETH_SRC, x));
  if (e === undefined) return false;
  const et = r.word(W.ETH_TYPE);
  if (et === IP4) {
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    for (const p of e.v4) if (r.v4In(W.NW_SRC, p, true)) return true;
    return r.proto() === 17 && r.word(W.TP) === ((68 << 16) | 67) >>> 0 && r.word(W.NW_SRC) === 0 && r.word(W.NW_DST) === 0xffffffff;
  }
  if (et === ARP) {
    if (!r.mac(W.ARP_SHA, e)) return false;
    if (e.v4.length === 0) return true;
    for (const p of e.v4) if (r.word(W.NW_SRC) === p.addr) return true;
    return false;
  }
  if (et === IP6) {
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    let passed = false;
    for (const p of e.v6) if (r.v6In(W.IPV6_SRC, p, true)) passed = true;
    if (!passed && !r.v6Is(W.IPV6_SRC, e.lla)) return false;
    if (r.proto() !== ICMP6) return true;
    const t = r.icmpType();
    if (t === 135 && !r.macZero(W.ARP_SHA) && !r.mac(W.ARP_SHA, e)) return false;
    if (t === 136) {
      if (!r.macZero(W.ARP_THA) && !r.mac(W.ARP_THA, e)) return false;
      if (e.v6.length > 0) {
        let target = false;
        for (const p of e.v6) if (r.v6In(W.ND_TARGET, p, true)) target = true;
        if (!target && !r.v6Is(W.ND_TARGET, e.lla)) return false;
      }
    }
    return true;
  }
  return true;
}

function traceOut(entries: readonly Entry[], r: Reader): boolean {
  const e = entries.find((x) => r.mac(W.ETH_DST, x));
  if (e === undefined) return false;
  const et = r.word(W.ETH_TYPE);
  if (et === IP4) {
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    if (e.v4.length === 0) return false;
    for (const p of e.v4) if (r.word(W.NW_DST) === p.addr) return true;
    return r.word(W.NW_DST) === 0xffffffff || r.word(W.NW_DST, 0xf0000000) === 0xe0000000;
  }
  if (et === IP6) {
    if (e.v4.length === 0 && e.v6.length === 0) return true;
    if (e.v6.length === 0) return false;
    for (const p of e.v6) if (r.v6Is(W.IPV6_DST, p.addr)) return true;
    return r.v6Is(W.IPV6_DST, e.lla) || r.v6Under(W.IPV6_DST, 0xff000000, 8);
  }
  return true;
}

const CHECKS: Readonly<Record<PortSecurityFlavour, { readonly in: typeof datapathIn; readonly out: typeof datapathOut }>> = {
  datapath: { in: datapathIn, out: datapathOut },
  "ovn-trace": { in: traceIn, out: traceOut },
};

/**
 * `check_in_port_sec` and `check_out_port_sec` handlers for the executor (`calls` option): each
 * returns 1 when the packet violates the port security of its input (ingress) or output (egress)
 * port, by the rules of `flavour`.
 */
export function portSecurityCalls(net: Network, program: LogicalProgram, flavour: PortSecurityFlavour = "datapath"): Record<string, (a: unknown, ctx: { key: Uint32Array; datapath: { key: number } }) => bigint> {
  const byPort = new Map<string, readonly Entry[]>();
  for (const ls of net.switches.values()) {
    const dp = program.datapathByName.get(ls.name);
    if (dp === undefined) continue;
    for (const p of ls.ports.values()) {
      const lp = program.portByName.get(p.name);
      if (!lp || p.portSecurity.size === 0) continue;
      const entries = p.portSecurity.toArray().map(parseEntry).filter((e): e is Entry => e !== undefined);
      // As ovn-controller: a port whose entries all fail to parse is not checked.
      if (entries.length > 0) byPort.set(`${dp}/${lp.key}`, entries);
    }
  }
  const reader = new Reader();
  const check = (reg: number, fn: (e: readonly Entry[], r: Reader) => boolean) => (_a: unknown, ctx: { key: Uint32Array; datapath: { key: number }; wc?: Uint32Array }): bigint => {
    // For the flow cache: the port register picks the entries, then the check reads the packet.
    if (ctx.wc) ctx.wc[W.REG0 + reg] = 0xffffffff;
    const entries = byPort.get(`${ctx.datapath.key}/${ctx.key[W.REG0 + reg]}`);
    if (!entries) return 0n;
    reader.key = ctx.key;
    reader.wc = ctx.wc;
    return fn(entries, reader) ? 0n : 1n;
  };
  const f = CHECKS[flavour];
  return { check_in_port_sec: check(14, f.in), check_out_port_sec: check(15, f.out) };
}
