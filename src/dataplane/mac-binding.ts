/**
 * The neighbour table a logical router consults: OVN's Southbound `MAC_Binding` rows (IP → MAC per
 * router port), and the `call` handlers that give OVN's neighbour actions their meaning over it.
 *
 * What: `MacBindingTable` holds bindings keyed by (datapath key, port key, IP). It is built from
 * `MacBindingEntry` rows that name the port (`lrp1`) and give the IP and MAC as text, the way
 * `ovn-sbctl list MAC_Binding` shows them; a row whose port the program does not have, or whose
 * IP or MAC does not parse, is skipped and counted in `skipped` (ovn-trace skips such rows too,
 * with a warning). `macBindingCalls(table, { learn })` returns handlers for:
 * - `get_arp(P, A)` / `get_nd(P, A)`: `eth.dst` = the MAC bound to A on port P, or
 *   00:00:00:00:00:00 when there is none (ovn-trace's `execute_get_mac_bind`);
 * - `R = lookup_arp(P, A, M)` / `R = lookup_nd(P, A, M)`: 1 when A is bound to exactly M on P;
 * - `R = lookup_arp_ip(P, A)` / `R = lookup_nd_ip(P, A)`: 1 when A has any binding on P;
 * - `put_arp(P, A, M)` / `put_nd(P, A, M)`: with `learn`, binds A to M on P (what ovn-controller
 *   does when the packet reaches it); without, nothing (ovn-trace's behaviour).
 *
 * Invariants: IPv4 and IPv6 addresses never collide (the key carries the family); a lookup reads
 * only the packet's bits the action names. Nothing here throws on bad input.
 */
import { parseIpv4, parseIpv6, parseMac } from "../base/index.js";
import { W } from "../flow/index.js";
import type { CallAction, CallArg, LogicalProgram } from "../ofp/index.js";
import type { CallContext, CallHandler } from "./execute.js";
import { readBits, wordsToBig } from "./key-bits.js";

/** One binding as the Southbound database shows it: the router port's name, an IP and a MAC. */
export interface MacBindingEntry {
  readonly port: string;
  readonly ip: string;
  readonly mac: string;
}

function ipKey(v6: boolean, ip: bigint): string {
  return `${v6 ? 6 : 4}:${ip.toString(16)}`;
}

/** Bytes, most significant first, as an unsigned bigint. */
function bigOfBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export class MacBindingTable {
  private readonly map = new Map<string, bigint>();
  /** Rows that were skipped: unknown port, bad IP or bad MAC. */
  readonly skipped: readonly MacBindingEntry[];

  constructor(program: LogicalProgram, entries: readonly MacBindingEntry[] = []) {
    const skipped: MacBindingEntry[] = [];
    for (const e of entries) {
      const port = program.portByName.get(e.port);
      const mac = parseMac(e.mac);
      const v4 = parseIpv4(e.ip);
      const v6 = v4 === undefined ? parseIpv6(e.ip) : undefined;
      if (!port || !mac || (v4 === undefined && !v6)) {
        skipped.push(e);
        continue;
      }
      const ip = v4 !== undefined ? BigInt(v4 >>> 0) : bigOfBytes(v6!);
      this.map.set(this.key(port.datapath, port.key, v4 === undefined, ip), bigOfBytes(mac));
    }
    this.skipped = skipped;
  }

  private key(datapath: number, port: number, v6: boolean, ip: bigint): string {
    return `${datapath}/${port}/${ipKey(v6, ip)}`;
  }

  /** The MAC (48 bits) bound to `ip` on port `port` of `datapath`, if any. */
  lookup(datapath: number, port: number, v6: boolean, ip: bigint): bigint | undefined {
    return this.map.get(this.key(datapath, port, v6, ip));
  }

  /** Bumped by every change to the table (a flow cache that read it must start again). */
  version = 0;

  /** Binds `ip` to `mac` on a port (replacing any earlier binding). */
  learn(datapath: number, port: number, v6: boolean, ip: bigint, mac: bigint): void {
    const k = this.key(datapath, port, v6, ip);
    if (this.map.get(k) === mac) return;
    this.map.set(k, mac);
    this.version++;
  }

  /** Number of bindings held. */
  get size(): number {
    return this.map.size;
  }
}

/** The value of a `call` argument, with its width in bits (undefined for text). */
function argValue(a: CallArg | undefined, key: Uint32Array): { v: bigint; bits: number } | undefined {
  if (!a) return undefined;
  switch (a.kind) {
    case "field":
      return { v: readBits(key, a.src.field, a.src.ofs, a.src.nbits), bits: a.src.nbits };
    case "value":
      return { v: wordsToBig(a.value), bits: a.value.length * 32 };
    case "text":
      return undefined;
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

interface Args {
  readonly port: number;
  readonly v6: boolean;
  readonly ip: bigint;
}

function portAndIp(a: CallAction, key: Uint32Array, nd: boolean): Args | undefined {
  const p = argValue(a.args[0], key);
  const ip = argValue(a.args[1], key);
  if (!p || !ip) return undefined;
  return { port: Number(p.v & 0xffffn), v6: nd || ip.bits > 32, ip: ip.v };
}

function setEthDst(key: Uint32Array, mac: bigint): void {
  key[W.ETH_DST] = Number((mac >> 32n) & 0xffffn) >>> 0;
  key[W.ETH_DST + 1] = Number(mac & 0xffffffffn) >>> 0;
}

/** The neighbour-table handlers over `table` (see the module header). */
export function macBindingCalls(table: MacBindingTable, opts: { readonly learn?: boolean } = {}): Readonly<Record<string, CallHandler>> {
  const get =
    (nd: boolean): CallHandler =>
    (a: CallAction, c: CallContext): undefined => {
      const x = portAndIp(a, c.key, nd);
      setEthDst(c.key, x ? (table.lookup(c.datapath.key, x.port, x.v6, x.ip) ?? 0n) : 0n);
      return undefined;
    };
  const lookup =
    (nd: boolean, withMac: boolean): CallHandler =>
    (a: CallAction, c: CallContext): bigint => {
      const x = portAndIp(a, c.key, nd);
      if (!x) return 0n;
      const bound = table.lookup(c.datapath.key, x.port, x.v6, x.ip);
      if (bound === undefined) return 0n;
      if (!withMac) return 1n;
      const mac = argValue(a.args[2], c.key);
      return mac !== undefined && mac.v === bound ? 1n : 0n;
    };
  const put =
    (nd: boolean): CallHandler =>
    (a: CallAction, c: CallContext): undefined => {
      if (!opts.learn) return undefined;
      const x = portAndIp(a, c.key, nd);
      const mac = argValue(a.args[2], c.key);
      if (x && mac) table.learn(c.datapath.key, x.port, x.v6, x.ip, mac.v & 0xffffffffffffn);
      return undefined;
    };
  return Object.freeze({
    get_arp: get(false),
    get_nd: get(true),
    lookup_arp: lookup(false, true),
    lookup_nd: lookup(true, true),
    lookup_arp_ip: lookup(false, false),
    lookup_nd_ip: lookup(true, false),
    put_arp: put(false),
    put_nd: put(true),
  });
}
