/**
 * What ovn-northd derives from a router port's `mac` and `networks` (its `lrp_networks`), and how
 * router ports, switch ports of type "router" and chassis-redirect ports find each other.
 *
 * A router port's IPv6 list always ends with its EUI-64 link-local address (fe80::/64) unless one
 * is configured; addresses are canonical text, networks masked. Ports whose `networks` do not
 * parse are skipped entry by entry (northd refuses the whole port; validation reports it).
 */
import { formatIpv4, formatIpv6, formatMac, parseCidr, parseMac } from "../base/index.js";
import type { LogicalRouter, LogicalSwitch, Network, RouterPort, SwitchPort } from "../model/index.js";
import { solicitedNode } from "./switch.js";

export interface Ipv4Net {
  readonly addr: string;
  readonly plen: number;
  readonly network: string;
  readonly bcast: string;
  /** Host-order 32-bit address and mask, for containment tests. */
  readonly value: number;
  readonly mask: number;
}

export interface Ipv6Net {
  readonly addr: string;
  readonly plen: number;
  readonly network: string;
  readonly snAddr: string;
  readonly bytes: Uint8Array;
  readonly lla: boolean;
}

export interface LrpNetworks {
  readonly mac: string;
  readonly ipv4: readonly Ipv4Net[];
  readonly ipv6: readonly Ipv6Net[];
}

const u32 = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
const mask4 = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);

function maskBytes(b: Uint8Array, plen: number): Uint8Array {
  const out = new Uint8Array(b);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, plen - i * 8));
    out[i] = out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** A masked prefix as text ("10.0.0.0", "fd00::") with its length, or undefined. */
export function prefixOf(text: string): { v4: boolean; network: string; plen: number } | undefined {
  const c = parseCidr(text.trim());
  if (!c) return undefined;
  if (c.family === 4) return { v4: true, network: formatIpv4((u32(c.addr) & mask4(c.prefixLen)) >>> 0), plen: c.prefixLen };
  return { v4: false, network: formatIpv6(maskBytes(c.addr, c.prefixLen)), plen: c.prefixLen };
}

/** The EUI-64 link-local address of a MAC. */
export function linkLocalOf(mac: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b[8] = mac[0]! ^ 0x02;
  b[9] = mac[1]!;
  b[10] = mac[2]!;
  b[11] = 0xff;
  b[12] = 0xfe;
  b[13] = mac[3]!;
  b[14] = mac[4]!;
  b[15] = mac[5]!;
  return b;
}

function v6Net(bytes: Uint8Array, plen: number): Ipv6Net {
  const addr = formatIpv6(bytes);
  return { addr, plen, network: formatIpv6(maskBytes(bytes, plen)), snAddr: solicitedNode(addr), bytes, lla: bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80 };
}

/** The port's MAC and networks as northd sees them; undefined when the MAC does not parse. */
export function lrpNetworks(p: RouterPort): LrpNetworks | undefined {
  const macBytes = parseMac(p.mac);
  if (!macBytes) return undefined;
  const ipv4: Ipv4Net[] = [];
  const ipv6: Ipv6Net[] = [];
  for (const n of p.networks) {
    const c = parseCidr(n.trim());
    if (!c) continue;
    if (c.family === 4) {
      const value = u32(c.addr);
      const mask = mask4(c.prefixLen);
      ipv4.push({ addr: formatIpv4(value), plen: c.prefixLen, network: formatIpv4((value & mask) >>> 0), bcast: formatIpv4((value | ~mask) >>> 0), value, mask });
    } else {
      ipv6.push(v6Net(c.addr, c.prefixLen));
    }
  }
  if (!ipv6.some((n) => n.lla)) ipv6.push(v6Net(linkLocalOf(macBytes), 64));
  return { mac: formatMac(macBytes), ipv4, ipv6 };
}

/** The port's own address on the network that contains `ip` (northd's find_lrp_member_ip). */
export function memberIp(nets: LrpNetworks, ip: string): string | undefined {
  const c = parseCidr(ip.trim());
  if (!c || c.prefixLen !== (c.family === 4 ? 32 : 128)) return undefined;
  if (c.family === 4) {
    const v = u32(c.addr);
    return nets.ipv4.find((n) => ((v & n.mask) >>> 0) === ((n.value & n.mask) >>> 0))?.addr;
  }
  return nets.ipv6.find((n) => formatIpv6(maskBytes(c.addr, n.plen)) === n.network)?.addr;
}

/** A router port is a distributed gateway port when it has gateway chassis or an HA chassis group. */
export function isDgp(p: RouterPort): boolean {
  return p.gatewayChassis.size > 0 || p.haChassisGroup !== undefined;
}

/** A gateway router: a router pinned to one chassis by `options:chassis`. */
export function isGatewayRouter(lr: LogicalRouter): boolean {
  return lr.options.get("chassis") !== undefined;
}

/** The chassis-redirect port name of a distributed gateway port. */
export function crPortName(p: RouterPort): string {
  return `cr-${p.name}`;
}

/** JSON-quoted port name, as OVN writes it in matches and actions. */
export function q(name: string): string {
  return JSON.stringify(name);
}

/** The router port a switch port of type "router" names, with its router. */
export function routerPortOf(net: Network, sp: SwitchPort): { lr: LogicalRouter; port: RouterPort } | undefined {
  if (sp.type !== "router") return undefined;
  const name = sp.options.get("router-port");
  if (name === undefined) return undefined;
  for (const lr of net.routers.values()) {
    const port = lr.ports.get(name);
    if (port) return { lr, port };
  }
  return undefined;
}

/** Per network (immutable, so the index never goes stale): the first router-type switch port naming each router port. */
const switchPeers = new WeakMap<Network, ReadonlyMap<string, { ls: LogicalSwitch; port: SwitchPort }>>();

/** The switch port of type "router" whose peer is `lrp`, with its switch (the first, in switch and port order). */
export function switchPeerOf(net: Network, lrp: string): { ls: LogicalSwitch; port: SwitchPort } | undefined {
  let index = switchPeers.get(net);
  if (index === undefined) {
    const m = new Map<string, { ls: LogicalSwitch; port: SwitchPort }>();
    for (const ls of net.switches.values()) {
      for (const port of ls.ports.values()) {
        if (port.type !== "router") continue;
        const name = port.options.get("router-port");
        if (name !== undefined && !m.has(name)) m.set(name, { ls, port });
      }
    }
    switchPeers.set(net, m);
    index = m;
  }
  return index.get(lrp);
}

/** The router port at the other end of a router-to-router link (both ports name each other's router port as `peer`). */
export function routerPeerOf(net: Network, p: RouterPort): { lr: LogicalRouter; port: RouterPort } | undefined {
  if (p.peer === undefined) return undefined;
  for (const lr of net.routers.values()) {
    const port = lr.ports.get(p.peer);
    if (port) return { lr, port };
  }
  return undefined;
}

/** Switch ports of type "router" on `ls` whose router port exists, with it, in port order. */
export function routerPortsOfSwitch(net: Network, ls: LogicalSwitch): { sp: SwitchPort; lr: LogicalRouter; lrp: RouterPort }[] {
  const out: { sp: SwitchPort; lr: LogicalRouter; lrp: RouterPort }[] = [];
  for (const sp of ls.ports.values()) {
    const r = routerPortOf(net, sp);
    if (r) out.push({ sp, lr: r.lr, lrp: r.port });
  }
  return out;
}
