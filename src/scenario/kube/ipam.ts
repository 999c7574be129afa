/**
 * Kube-OVN's address allocation, deterministic (kube-ovn-mapping.md §2.3), IPv4.
 *
 * - A subnet's usable range is network+1 .. broadcast-1 (a /31 or /32 uses every address), minus
 *   the gateway and `excludeIps` (single addresses or `a..b` ranges), minus addresses to skip (the
 *   node InternalIPs, for default-VPC overlay subnets).
 * - `allocate()` hands out the lowest free address; `claim(ip)` takes a pinned one (which may lie
 *   in excludeIps, as Kube-OVN allows) and fails if it is outside the subnet or already taken.
 * - MACs: Kube-OVN draws random locally administered unicast MACs; here they are derived from a
 *   hash of the owner's name (byte 0 = (b | 0x02) & 0xfe), so the same manifests always give the
 *   same MACs, and a collision is resolved by hashing again.
 */
import { formatIpv4, hashAdd, hashFinish, ipv4FromBytes, ipv4InPrefix, ipv4Mask, parseCidr, parseIpv4 } from "../../base/index.js";

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

/** Parses excludeIps entries; returns the ranges and the entries that are not addresses. */
export function parseExcludes(entries: readonly string[]): { ranges: [number, number][]; bad: string[] } {
  const ranges: [number, number][] = [];
  const bad: string[] = [];
  for (const e of entries) {
    const [a, b] = e.split("..");
    const lo = a === undefined ? undefined : parseIpv4(a.trim());
    const hi = b === undefined ? lo : parseIpv4(b.trim());
    if (lo === undefined || hi === undefined || hi < lo) bad.push(e);
    else ranges.push([lo, hi]);
  }
  return { ranges, bad };
}

export class SubnetIpam {
  private readonly taken = new Set<number>();
  private next: number;
  private readonly first: number;
  private readonly last: number;
  readonly subnet: Ipv4Subnet;
  private readonly excluded: readonly [number, number][];

  constructor(subnet: Ipv4Subnet, excluded: readonly [number, number][], skip: Iterable<number> = []) {
    this.subnet = subnet;
    this.excluded = excluded;
    const size = 2 ** (32 - subnet.plen);
    this.first = subnet.plen >= 31 ? subnet.network : subnet.network + 1;
    this.last = subnet.plen >= 31 ? subnet.network + size - 1 : subnet.network + size - 2;
    this.next = this.first;
    for (const s of skip) this.taken.add(s >>> 0);
  }

  private isExcluded(ip: number): boolean {
    return this.excluded.some(([a, b]) => ip >= a && ip <= b);
  }

  /** The lowest free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    for (let ip = this.next; ip <= this.last; ip++) {
      if (this.taken.has(ip) || this.isExcluded(ip)) continue;
      this.taken.add(ip);
      this.next = ip + 1;
      return formatIpv4(ip);
    }
    return undefined;
  }

  /** Takes a pinned address: "outside" the subnet, "taken" already, or undefined when done. */
  claim(text: string): "outside" | "taken" | "bad" | undefined {
    const ip = parseIpv4(text);
    if (ip === undefined) return "bad";
    if (!inSubnet(ip, this.subnet) || ip < this.first || ip > this.last) return "outside";
    if (this.taken.has(ip)) return "taken";
    this.taken.add(ip);
    return undefined;
  }

  /** Whether `text` falls in excludeIps. */
  excludes(text: string): boolean {
    const ip = parseIpv4(text);
    return ip !== undefined && this.isExcluded(ip);
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
