/**
 * Addresses: MAC, IPv4, IPv6 and CIDR prefixes, parsed from and formatted to text.
 *
 * Representations: a MAC is 6 bytes (or, in flow keys, a 16-bit high part and a 32-bit low part);
 * an IPv4 address is a u32; an IPv6 address is 16 bytes. Formatting follows the conventions users
 * see in tcpdump, tshark and ovn-trace: lowercase, colon-separated MACs, dotted-quad IPv4, and
 * RFC 5952 compressed IPv6. Parsing returns `undefined` for malformed text; callers turn that into
 * a diagnostic that names where the text came from.
 */

/** Formats 6 bytes at `off` as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(b: Uint8Array, off = 0): string {
  let s = "";
  for (let i = 0; i < 6; i++) {
    if (i) s += ":";
    s += b[off + i]!.toString(16).padStart(2, "0");
  }
  return s;
}

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separated). */
export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})$/.exec(text);
  if (!m) return undefined;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(m[i + 1]!, 16);
  return out;
}

/** Formats a u32 as dotted-quad IPv4. */
export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Parses dotted-quad IPv4 (exactly four decimal octets) into a u32. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = (v << 8) | o;
  }
  return v >>> 0;
}

/** Formats 16 bytes at `off` as an RFC 5952 IPv6 address (longest zero run compressed). */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  // IPv4-mapped addresses keep the dotted tail, as inet_ntop does.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(((g[6]! << 16) | g[7]!) >>> 0)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += "::";
      i += bestLen - 1;
      continue;
    }
    if (s !== "" && !s.endsWith(":")) s += ":";
    s += g[i]!.toString(16);
  }
  return s;
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 16 bytes. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  let head = text;
  let tail4: number | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const parts = s.split(":");
    const out: number[] = [];
    for (const p of parts) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tail4 !== undefined) {
    out[12] = tail4 >>> 24;
    out[13] = (tail4 >>> 16) & 0xff;
    out[14] = (tail4 >>> 8) & 0xff;
    out[15] = tail4 & 0xff;
  }
  return out;
}

/** An IP prefix: `family` 4 or 6, the address bytes (4 or 16) and the prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly addr: Uint8Array;
  readonly prefixLen: number;
}

/** Parses `10.0.0.0/24`, `fd00::/64`, or a bare address (full-length prefix). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const lenText = slash >= 0 ? text.slice(slash + 1) : undefined;
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText)) return undefined;
  const v4 = parseIpv4(addrText);
  if (v4 !== undefined) {
    const prefixLen = lenText === undefined ? 32 : Number(lenText);
    if (prefixLen > 32) return undefined;
    const addr = new Uint8Array([v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff]);
    return { family: 4, addr, prefixLen };
  }
  const v6 = parseIpv6(addrText);
  if (v6 !== undefined) {
    const prefixLen = lenText === undefined ? 128 : Number(lenText);
    if (prefixLen > 128) return undefined;
    return { family: 6, addr: v6, prefixLen };
  }
  return undefined;
}

/**
 * The same text for the same IPv4 or IPv6 address however it is written (`fd00::1` and
 * `fd00:0::1`), for comparing addresses; a prefix length is ignored. Undefined when `text` is no
 * address.
 */
export function addressKey(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? `${c.family}:${c.addr.join(".")}` : undefined;
}

/** True when the host bits of the prefix are all zero (`10.0.0.0/24`, not `10.0.0.1/24`). */
export function cidrIsNetwork(c: Cidr): boolean {
  for (let bit = c.prefixLen; bit < c.addr.length * 8; bit++) {
    if ((c.addr[bit >>> 3]! >>> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/** Formats a prefix as `addr/len`. */
export function formatCidr(c: Cidr): string {
  return `${c.family === 4 ? formatIpv4(ipv4FromBytes(c.addr)) : formatIpv6(c.addr)}/${c.prefixLen}`;
}

/** Reads 4 bytes as a u32 IPv4 address. */
export function ipv4FromBytes(b: Uint8Array, off = 0): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** The u32 netmask of an IPv4 prefix length. */
export function ipv4Mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** True when IPv4 `ip` is in the prefix `network`/`prefixLen` (all as u32). */
export function ipv4InPrefix(ip: number, network: number, prefixLen: number): boolean {
  const m = ipv4Mask(prefixLen);
  return ((ip & m) >>> 0) === ((network & m) >>> 0);
}

/** True when `addr` (4 or 16 bytes) has the first `c.prefixLen` bits of `c`, in `c`'s family. */
export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  if (addr.length !== c.addr.length) return false;
  for (let bit = 0; bit < c.prefixLen; bit += 8) {
    const n = Math.min(8, c.prefixLen - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if (((addr[bit >>> 3]! ^ c.addr[bit >>> 3]!) & mask) !== 0) return false;
  }
  return true;
}
