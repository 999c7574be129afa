/**
 * Text of the address words the ofp layer uses (`IpAddr`: one word for IPv4, four for IPv6).
 */
import { formatIpv4, formatIpv6 } from "../base/index.js";

/** `10.0.0.2` for one word, `fd00::2` for four. */
export function formatIp(words: readonly number[]): string {
  if (words.length === 1) return formatIpv4(words[0]! >>> 0);
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[i * 4] = (w >>> 24) & 0xff;
    b[i * 4 + 1] = (w >>> 16) & 0xff;
    b[i * 4 + 2] = (w >>> 8) & 0xff;
    b[i * 4 + 3] = w & 0xff;
  });
  return formatIpv6(b);
}
