/**
 * Kube-OVN's address allocation, deterministic (kube-ovn-mapping.md §2.3), IPv4 and IPv6; a
 * dual-stack subnet has one allocator per family, and the two allocate independently.
 *
 * - A subnet's usable range is network+1 .. broadcast-1 (a /31 or /32 uses every address), minus
 *   the gateway and `excludeIps` (single addresses or `a..b` ranges), minus addresses to skip (the
 *   node InternalIPs, for default-VPC overlay subnets).
 * - `allocate()` hands out the lowest free address; `claim(ip)` takes a pinned one (which may lie
 *   in excludeIps, as Kube-OVN allows) and fails if it is outside the subnet or already taken.
 *   Addresses are bigints inside the pool, and the search for the lowest free one jumps over an
 *   excluded range in one step, so an IPv6 /64 is never enumerated.
 * - MACs: Kube-OVN draws random locally administered unicast MACs; here they are derived from a
 *   hash of the owner's name (byte 0 = (b | 0x02) & 0xfe), so the same manifests always give the
 *   same MACs, and a collision is resolved by hashing again.
 */
import { formatIpv4, formatIpv6, hashAdd, hashFinish, ipv4FromBytes, ipv4InPrefix, ipv4Mask, parseCidr, parseIpv4, parseIpv6 } from "../../base/index.js";

export interface Ipv4Subnet {
  readonly network: number;
  readonly plen: number;
}

export function parseIpv4Cidr(text: string): Ipv4Subnet | undefined {
  const c = parseCidr(text);
  if (!c || c.family !== 4) return undefined;
  const mask = ipv4Mask(c.prefixLen);
  return { network: (ipv4FromBytes(c.addr) & mask) >>> 0, plen: c.prefixLen };
}

export function inSubnet(ip: number, s: Ipv4Subnet): boolean {
  return ipv4InPrefix(ip, s.network, s.plen);
}

export function formatSubnet(s: Ipv4Subnet): string {
  return `${formatIpv4(s.network)}/${s.plen}`;
}

export interface Ipv6Subnet {
  readonly network: bigint;
  readonly plen: number;
}

const bigOf = (b: Uint8Array): bigint => b.reduce((v, x) => (v << 8n) | BigInt(x), 0n);

/** The 16 bytes of an IPv6 address as a bigint, or undefined when `text` is not IPv6. */
export function parseIpv6Big(text: string): bigint | undefined {
  const b = parseIpv6(text);
  return b ? bigOf(b) : undefined;
}

export function formatIpv6Big(v: bigint): string {
  const b = new Uint8Array(16);
  for (let i = 15, x = v; i >= 0; i--, x >>= 8n) b[i] = Number(x & 0xffn);
  return formatIpv6(b);
}

export function parseIpv6Cidr(text: string): Ipv6Subnet | undefined {
  const c = parseCidr(text);
  if (!c || c.family !== 6) return undefined;
  const host = (1n << BigInt(128 - c.prefixLen)) - 1n;
  return { network: bigOf(c.addr) & ~host, plen: c.prefixLen };
}

export function inSubnet6(ip: bigint, s: Ipv6Subnet): boolean {
  return ip >> BigInt(128 - s.plen) === s.network >> BigInt(128 - s.plen);
}

export function formatSubnet6(s: Ipv6Subnet): string {
  return `${formatIpv6Big(s.network)}/${s.plen}`;
}

/** excludeIps entries (`A` or `A..B`) as ranges by `parse`, and the entries that are not addresses of that family. */
function parseRanges<T extends number | bigint>(entries: readonly string[], parse: (text: string) => T | undefined): { ranges: [T, T][]; bad: string[] } {
  const ranges: [T, T][] = [];
  const bad: string[] = [];
  for (const e of entries) {
    const [a, b] = e.split("..");
    const lo = a === undefined ? undefined : parse(a.trim());
    const hi = b === undefined ? lo : parse(b.trim());
    if (lo === undefined || hi === undefined || hi < lo) bad.push(e);
    else ranges.push([lo, hi]);
  }
  return { ranges, bad };
}

/** Parses IPv4 excludeIps entries; returns the ranges and the entries that are not addresses. */
export function parseExcludes(entries: readonly string[]): { ranges: [number, number][]; bad: string[] } {
  return parseRanges(entries, parseIpv4);
}

/** The same for IPv6 entries. */
export function parseExcludes6(entries: readonly string[]): { ranges: [bigint, bigint][]; bad: string[] } {
  return parseRanges(entries, parseIpv6Big);
}

/** The lowest-free allocator of one family over [first, last], with excluded ranges and taken addresses. */
class AddressPool {
  private readonly taken = new Set<bigint>();
  private next: bigint;
  readonly first: bigint;
  readonly last: bigint;
  private readonly excluded: readonly (readonly [bigint, bigint])[];

  constructor(first: bigint, last: bigint, excluded: readonly (readonly [bigint, bigint])[], skip: Iterable<bigint>) {
    this.first = first;
    this.last = last;
    this.next = first;
    this.excluded = excluded;
    for (const s of skip) this.taken.add(s);
  }

  excludedRange(ip: bigint): readonly [bigint, bigint] | undefined {
    return this.excluded.find(([a, b]) => ip >= a && ip <= b);
  }

  allocate(): bigint | undefined {
    for (let ip = this.next; ip <= this.last; ) {
      const ex = this.excludedRange(ip);
      if (ex) ip = ex[1] + 1n;
      else if (this.taken.has(ip)) ip++;
      else {
        this.taken.add(ip);
        this.next = ip + 1n;
        return ip;
      }
    }
    return undefined;
  }

  claim(ip: bigint): "outside" | "taken" | undefined {
    if (ip < this.first || ip > this.last) return "outside";
    if (this.taken.has(ip)) return "taken";
    this.taken.add(ip);
    return undefined;
  }
}

/** A subnet's usable range: network+1 .. broadcast-1, or every address of a /31, /32, /127 or /128. */
function usableRange(network: bigint, plen: number, bits: number): [bigint, bigint] {
  const size = 1n << BigInt(bits - plen);
  return plen >= bits - 1 ? [network, network + size - 1n] : [network + 1n, network + size - 2n];
}

/** IPv6 allocation (see the module comment). */
export class SubnetIpam6 {
  readonly subnet: Ipv6Subnet;
  private readonly pool: AddressPool;

  constructor(subnet: Ipv6Subnet, excluded: readonly [bigint, bigint][], skip: Iterable<bigint> = []) {
    this.subnet = subnet;
    const [first, last] = usableRange(subnet.network, subnet.plen, 128);
    this.pool = new AddressPool(first, last, excluded, skip);
  }

  /** The lowest free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    const ip = this.pool.allocate();
    return ip === undefined ? undefined : formatIpv6Big(ip);
  }

  /** Takes a pinned address: "outside" the subnet, "taken" already, "bad" text, or undefined when done. */
  claim(text: string): "outside" | "taken" | "bad" | undefined {
    const ip = parseIpv6Big(text);
    return ip === undefined ? "bad" : this.pool.claim(ip);
  }

  /** Whether `text` falls in excludeIps. */
  excludes(text: string): boolean {
    const ip = parseIpv6Big(text);
    return ip !== undefined && this.pool.excludedRange(ip) !== undefined;
  }
}

export class SubnetIpam {
  readonly subnet: Ipv4Subnet;
  private readonly pool: AddressPool;

  constructor(subnet: Ipv4Subnet, excluded: readonly [number, number][], skip: Iterable<number> = []) {
    this.subnet = subnet;
    const [first, last] = usableRange(BigInt(subnet.network), subnet.plen, 32);
    const big = (v: number): bigint => BigInt(v >>> 0);
    this.pool = new AddressPool(first, last, excluded.map(([a, b]) => [big(a), big(b)] as const), [...skip].map(big));
  }

  /** The lowest free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    const ip = this.pool.allocate();
    return ip === undefined ? undefined : formatIpv4(Number(ip));
  }

  /** Takes a pinned address: "outside" the subnet, "taken" already, or undefined when done. */
  claim(text: string): "outside" | "taken" | "bad" | undefined {
    const ip = parseIpv4(text);
    return ip === undefined ? "bad" : this.pool.claim(BigInt(ip));
  }

  /** Whether `text` falls in excludeIps. */
  excludes(text: string): boolean {
    const ip = parseIpv4(text);
    return ip !== undefined && this.pool.excludedRange(BigInt(ip)) !== undefined;
  }
}

/** Deterministic MACs in Kube-OVN's form, unique among those handed out by this generator. */
export class MacGenerator {
  private readonly used = new Set<string>();

  /** Marks a MAC as used (a pinned one, or a router port's). */
  reserve(mac: string): void {
    this.used.add(mac.toLowerCase());
  }

  /** A MAC for `owner`. */
  macFor(owner: string): string {
    for (let round = 0; ; round++) {
      let h1 = 0x6b756265 + round;
      let h2 = 0x6f766e00 + round;
      for (let i = 0; i < owner.length; i++) {
        h1 = hashAdd(h1, owner.charCodeAt(i));
        h2 = hashAdd(h2, owner.charCodeAt(i) ^ 0x5a);
      }
      const a = hashFinish(h1, owner.length) >>> 0;
      const b = hashFinish(h2, owner.length) >>> 0;
      const bytes = [((a >>> 24) | 0x02) & 0xfe, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, (b >>> 8) & 255, b & 255];
      const mac = bytes.map((x) => x.toString(16).padStart(2, "0")).join(":");
      if (!this.used.has(mac)) {
        this.used.add(mac);
        return mac;
      }
    }
  }
}
