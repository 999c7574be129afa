/**
 * The fields compared between ovnsim's decoder and tshark, in one place: the tshark field names,
 * how each value is normalized, how the same lists are derived from a `Decoded` frame, how tshark
 * is run, and how its output is recorded for machines without tshark.
 *
 * A row is one packet: for every field, the list of its occurrences in wire order (outer headers
 * first, then the headers inside each tunnel), normalized so both sides print alike: numbers in
 * decimal, MACs lowercase, IPv6 addresses in RFC 5952 form, byte strings as lowercase hex.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatIpv4, formatIpv6, formatMac, parseIpv6, toHex } from "../../src/base/index.js";
import { EtherType, isEtherTypeLength, jumboPayloadLength, type Decoded, type Layer } from "../../src/packet/index.js";

type Norm = "num" | "mac" | "ip4" | "ip6" | "hex";

/** Compared fields: tshark name and value kind. The order is the column order of a row. */
export const FIELDS: readonly { readonly name: string; readonly norm: Norm }[] = [
  { name: "eth.src", norm: "mac" },
  { name: "eth.dst", norm: "mac" },
  { name: "eth.type", norm: "num" },
  { name: "vlan.id", norm: "num" },
  { name: "ieee8021ad.id", norm: "num" },
  { name: "arp.opcode", norm: "num" },
  { name: "arp.src.hw_mac", norm: "mac" },
  { name: "arp.src.proto_ipv4", norm: "ip4" },
  { name: "arp.dst.hw_mac", norm: "mac" },
  { name: "arp.dst.proto_ipv4", norm: "ip4" },
  { name: "ip.src", norm: "ip4" },
  { name: "ip.dst", norm: "ip4" },
  { name: "ip.proto", norm: "num" },
  { name: "ip.ttl", norm: "num" },
  { name: "ipv6.src", norm: "ip6" },
  { name: "ipv6.dst", norm: "ip6" },
  { name: "ipv6.nxt", norm: "num" },
  { name: "ipv6.hlim", norm: "num" },
  { name: "tcp.srcport", norm: "num" },
  { name: "tcp.dstport", norm: "num" },
  { name: "tcp.flags", norm: "num" },
  { name: "udp.srcport", norm: "num" },
  { name: "udp.dstport", norm: "num" },
  { name: "sctp.srcport", norm: "num" },
  { name: "sctp.dstport", norm: "num" },
  { name: "icmp.type", norm: "num" },
  { name: "icmp.code", norm: "num" },
  { name: "icmpv6.type", norm: "num" },
  { name: "icmpv6.code", norm: "num" },
  { name: "geneve.vni", norm: "num" },
  { name: "geneve.option.class", norm: "num" },
  { name: "geneve.option.type", norm: "num" },
  { name: "geneve.option.unknown.data", norm: "hex" },
  { name: "vxlan.vni", norm: "num" },
];

export const FIELD_INDEX: ReadonlyMap<string, number> = new Map(FIELDS.map((f, i) => [f.name, i]));

/** Column of a field name (throws on a name not in FIELDS: a bug in this file). */
function col(name: string): number {
  const i = FIELD_INDEX.get(name);
  if (i === undefined) throw new Error(`unknown field ${name}`);
  return i;
}

const C = {
  ethSrc: col("eth.src"),
  ethDst: col("eth.dst"),
  ethType: col("eth.type"),
  vlanId: col("vlan.id"),
  adId: col("ieee8021ad.id"),
  arpOp: col("arp.opcode"),
  arpSha: col("arp.src.hw_mac"),
  arpSpa: col("arp.src.proto_ipv4"),
  arpTha: col("arp.dst.hw_mac"),
  arpTpa: col("arp.dst.proto_ipv4"),
  ipSrc: col("ip.src"),
  ipDst: col("ip.dst"),
  ipProto: col("ip.proto"),
  ipTtl: col("ip.ttl"),
  ip6Src: col("ipv6.src"),
  ip6Dst: col("ipv6.dst"),
  ip6Nxt: col("ipv6.nxt"),
  ip6Hlim: col("ipv6.hlim"),
  tcpSrc: col("tcp.srcport"),
  tcpDst: col("tcp.dstport"),
  tcpFlags: col("tcp.flags"),
  udpSrc: col("udp.srcport"),
  udpDst: col("udp.dstport"),
  sctpSrc: col("sctp.srcport"),
  sctpDst: col("sctp.dstport"),
  icmpType: col("icmp.type"),
  icmpCode: col("icmp.code"),
  icmp6Type: col("icmpv6.type"),
  icmp6Code: col("icmpv6.code"),
  genVni: col("geneve.vni"),
  genClass: col("geneve.option.class"),
  genType: col("geneve.option.type"),
  genData: col("geneve.option.unknown.data"),
  vxlanVni: col("vxlan.vni"),
} as const;

/**
 * tshark preferences: IP reassembly off, so that a first fragment is dissected as itself (as our
 * decoder does) and a last fragment is not replaced by the reassembled datagram.
 */
export const TSHARK_PREFS: readonly string[] = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"];

/** The tshark command line for one capture. */
export function tsharkArgs(file: string): string[] {
  const args = ["-r", file, "-n", ...TSHARK_PREFS, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n", "-e", "frame.number", "-e", "frame.encap_type"];
  for (const f of FIELDS) args.push("-e", f.name);
  return args;
}

/** A packet's fields: one list of normalized occurrences per entry of `FIELDS`. */
export type Row = string[][];

function normValue(norm: Norm, v: string): string {
  switch (norm) {
    case "num": {
      const n = /^0x/i.test(v) ? parseInt(v.slice(2), 16) : Number(v);
      return Number.isFinite(n) ? String(n) : v;
    }
    case "mac":
      return v.toLowerCase();
    case "ip4":
      return v;
    case "ip6": {
      const a = parseIpv6(v);
      return a ? formatIpv6(a) : v;
    }
    case "hex":
      return v.toLowerCase().replace(/[:\s]/g, "");
    default: {
      const _: never = norm;
      return _;
    }
  }
}

/**
 * Parses one line of tshark output into its frame number and normalized row. `packet` is false
 * for records that are not packets (pcapng custom blocks, which tshark lists as frames with no
 * encapsulation type).
 */
export function parseTsharkLine(line: string): { frame: number; packet: boolean; row: Row } {
  const cols = line.split("\t");
  const row: Row = FIELDS.map((f, i) => {
    const cell = cols[i + 2] ?? "";
    return cell === "" ? [] : cell.split(",").map((v) => normValue(f.norm, v));
  });
  return { frame: Number(cols[0]), packet: (cols[1] ?? "") !== "", row };
}

/** A row as one line of text (fields by tab, occurrences by comma), for storage and hashing. */
export function rowText(row: Row): string {
  return row.map((l) => l.join(",")).join("\t");
}

export function rowFromText(text: string): Row {
  return text.split("\t").map((c) => (c === "" ? [] : c.split(",")));
}

/** The same fields derived from a list of our decoder's layers. */
export function ourRow(layers: readonly Layer[]): Row {
  const row: Row = FIELDS.map(() => []);
  const add = (column: number, v: string | number): void => {
    row[column]!.push(String(v));
  };
  let prevType = -1;
  for (const l of layers) {
    switch (l.kind) {
      case "ethernet":
        add(C.ethSrc, formatMac(l.repr.src));
        add(C.ethDst, formatMac(l.repr.dst));
        if (!isEtherTypeLength(l.repr.etherType)) add(C.ethType, l.repr.etherType);
        prevType = l.repr.etherType;
        break;
      case "vlan":
        add(prevType === EtherType.QINQ ? C.adId : C.vlanId, l.repr.vid);
        prevType = l.repr.etherType;
        break;
      case "sll":
      case "sll2":
        prevType = l.repr.protocol;
        break;
      case "null":
        break;
      case "arp":
        add(C.arpOp, l.repr.op);
        add(C.arpSha, formatMac(l.repr.sha));
        add(C.arpSpa, formatIpv4(l.repr.spa));
        add(C.arpTha, formatMac(l.repr.tha));
        add(C.arpTpa, formatIpv4(l.repr.tpa));
        break;
      case "ipv4":
        add(C.ipSrc, formatIpv4(l.repr.src));
        add(C.ipDst, formatIpv4(l.repr.dst));
        add(C.ipProto, l.repr.protocol);
        add(C.ipTtl, l.repr.ttl);
        break;
      case "ipv6":
        add(C.ip6Src, formatIpv6(l.repr.src));
        add(C.ip6Dst, formatIpv6(l.repr.dst));
        add(C.ip6Nxt, l.repr.nextHeader);
        add(C.ip6Hlim, l.repr.hopLimit);
        break;
      case "ipv6-ext":
      case "ah":
        break;
      case "tcp":
        add(C.tcpSrc, l.repr.srcPort);
        add(C.tcpDst, l.repr.dstPort);
        add(C.tcpFlags, (l.repr.reserved << 9) | l.repr.flags);
        break;
      case "udp":
        add(C.udpSrc, l.repr.srcPort);
        add(C.udpDst, l.repr.dstPort);
        break;
      case "sctp":
        add(C.sctpSrc, l.repr.srcPort);
        add(C.sctpDst, l.repr.dstPort);
        break;
      case "icmp":
        add(C.icmpType, l.repr.type);
        add(C.icmpCode, l.repr.code);
        break;
      case "icmpv6":
        add(C.icmp6Type, l.repr.type);
        add(C.icmp6Code, l.repr.code);
        break;
      case "geneve":
        add(C.genVni, l.repr.vni);
        for (const o of l.repr.options) {
          add(C.genClass, o.optClass);
          add(C.genType, o.type);
          if (!tsharkDecodesGeneveOption(o.optClass, o.type)) add(C.genData, toHex(o.data));
        }
        break;
      case "vxlan":
        add(C.vxlanVni, l.repr.vni);
        break;
      default: {
        const _: never = l;
        return _;
      }
    }
  }
  return row;
}

/**
 * Wireshark 4.0 decodes the Google Cloud options (class 0x0132, types 1-3) into named fields
 * instead of `geneve.option.unknown.data`; every other option shows its data raw.
 */
function tsharkDecodesGeneveOption(optClass: number, type: number): boolean {
  return optClass === 0x0132 && type >= 1 && type <= 3;
}

// ---------------------------------------------------------------------------------------------
// Comparison rules

/** How a packet is compared: exactly, or ours as a prefix of tshark's lists (with the reason). */
export interface Comparison {
  /** The layers whose fields are compared (exceptions below may drop some). */
  readonly layers: readonly Layer[];
  /** `exact`, or the reason ours may stop short of tshark. */
  readonly mode: "exact" | "prefix";
  /** A label for the summary: `exact`, `stopped: gre`, `truncated`, `malformed`, `exception: ...`. */
  readonly reason: string;
}

/**
 * Decides how one decoded packet is compared with tshark.
 *
 * Prefix comparisons: where our decoder stops before the end of the packet, tshark may go on, so
 * our lists must be a prefix of its lists: `stoppedAt` (a protocol we do not enter: GRE, ESP,
 * MPLS, IP-in-IP, ICMP error payloads, UDP payloads that tshark may decode heuristically, ...),
 * `truncated` (tshark shows the fields of a partially captured header; our views need the whole
 * header), and malformed packets (we stop at the first malformation; tshark sometimes goes on).
 *
 * Narrow, documented exceptions where tshark deliberately dissects differently:
 * - EtherType 0x8903 (Cisco FabricPath): tshark's `cfp` dissector takes the 16-byte FabricPath
 *   header in place of the Ethernet header and shows only the inner frame as `eth`; the outer
 *   Ethernet layer is left out of our side, and the rest is compared by prefix (we stop there).
 * - IPv6 with payload length 0 and no Jumbo Payload option (a Linux BIG TCP / GSO super-frame, as
 *   tcpdump's bigtcp test captures): tshark takes the payload to be empty and decodes nothing after
 *   the IPv6 header; we follow Linux and decode to the end of the captured data. Layers after such
 *   an IPv6 header are left out of our side.
 */
export function comparisonFor(d: Decoded): Comparison {
  let layers: readonly Layer[] = d.layers;
  let exception: string | undefined;
  const first = layers[0];
  if (first?.kind === "ethernet" && first.repr.etherType === 0x8903) {
    layers = layers.slice(1);
    exception = "cisco fabricpath";
  }
  const cut = bigTcpCut(layers);
  if (cut !== undefined) {
    layers = layers.slice(0, cut);
    return { layers, mode: "exact", reason: "exception: ipv6 payload length 0" };
  }
  if (exception !== undefined) return { layers, mode: "prefix", reason: `exception: ${exception}` };
  if (d.stoppedAt !== undefined) return { layers, mode: "prefix", reason: `stopped: ${d.stoppedAt}` };
  if (d.truncated) return { layers, mode: "prefix", reason: "truncated" };
  if (d.issues.length > 0) return { layers, mode: "prefix", reason: "malformed" };
  return { layers, mode: "exact", reason: "exact" };
}

/** Index just past an IPv6 header with payload length 0 and no jumbo option, if layers follow it. */
function bigTcpCut(layers: readonly Layer[]): number | undefined {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (l.kind !== "ipv6" || l.repr.payloadLength !== 0) continue;
    const next = layers[i + 1];
    if (next?.kind === "ipv6-ext" && next.repr.kind === "hop-by-hop" && jumboPayloadLength(next.repr.options) !== undefined) continue;
    return i + 1 < layers.length ? i + 1 : undefined;
  }
  return undefined;
}

/** Field-by-field differences between our row and tshark's under `mode` (empty when they agree). */
export function diffRows(ours: Row, theirs: Row, mode: "exact" | "prefix"): string[] {
  const out: string[] = [];
  FIELDS.forEach((f, i) => {
    const a = ours[i]!;
    const b = theirs[i]!;
    const same = mode === "exact" ? a.length === b.length && a.every((v, k) => v === b[k]) : a.length <= b.length && a.every((v, k) => v === b[k]);
    if (!same) out.push(`${f.name}: ours [${a.join(",")}] tshark [${b.join(",")}]${mode === "prefix" ? " (prefix)" : ""}`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running tshark

export interface TsharkResult {
  /** Normalized rows, one per packet (records that are not packets left out), in frame order. */
  readonly rows: Row[];
  /** tshark exited non-zero or printed a read error. */
  readonly readError: boolean;
  readonly stderr: string;
}

/** True when tshark should be used: present on PATH and not disabled by OVNSIM_NO_TSHARK=1. */
export async function tsharkAvailable(): Promise<boolean> {
  if (process.env.OVNSIM_NO_TSHARK === "1") return false;
  return new Promise((resolveP) => {
    const p = spawn("tshark", ["-v"], { stdio: "ignore" });
    p.on("error", () => resolveP(false));
    p.on("close", (code) => resolveP(code === 0));
  });
}

/**
 * Runs tshark on one file and parses its rows. Its output goes to a temporary file rather than a
 * pipe, so tshark never waits for this process (which may be busy decoding) to drain a pipe.
 */
export function runTshark(file: string): Promise<TsharkResult> {
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-tshark-"));
  const outPath = join(dir, "out.tsv");
  const fd = openSync(outPath, "w");
  return new Promise<TsharkResult>((resolveP, reject) => {
    const p = spawn("tshark", tsharkArgs(file), { stdio: ["ignore", fd, "pipe"] });
    const err: Buffer[] = [];
    p.stderr?.on("data", (c: Buffer) => err.push(c));
    p.on("error", reject);
    p.on("close", (code) => {
      const text = readFileSync(outPath, "utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const rows: Row[] = [];
      let expect = 1;
      for (const line of text.split("\n")) {
        if (line === "") continue;
        const { frame, packet, row } = parseTsharkLine(line);
        if (frame !== expect) return reject(new Error(`${file}: tshark frame ${frame}, expected ${expect}`));
        expect++;
        if (packet) rows.push(row);
      }
      const readError = code !== 0 || /appears to be damaged|cut short|isn't a capture file|unknown format/i.test(stderr);
      resolveP({ rows, readError, stderr: stderr.replace(/^Running as user.*\n?/m, "").trim() });
    });
  }).finally(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Captures and recordings

/** Every capture under `dir`, as paths relative to it, sorted. */
export function listCaptures(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) walk(p, r);
      else if (/\.(pcap|pcapng)$/i.test(name)) out.push(r);
    }
  };
  walk(dir, "");
  return out;
}

/** Files with at most this many packets are recorded row by row; bigger ones by block hashes. */
export const FULL_ROWS_LIMIT = 5000;
export const BLOCK_SIZE = 1000;

/** What tshark said about one capture, as stored under `fixtures/tshark/`. */
export interface Recording {
  /** SHA-256 of the capture file, so a changed capture is noticed. */
  readonly sha256: string;
  readonly packets: number;
  readonly readError: boolean;
  /** Every row as text (small files). */
  readonly rows?: readonly string[];
  /** SHA-256 of each block of BLOCK_SIZE row texts joined by newlines (big files). */
  readonly blocks?: readonly string[];
  /**
   * Big files: the tshark rows that differ from ours at recording time (packet index -> row
   * text). With them, tshark's rows are ours with these substituted, which the block hashes check.
   */
  readonly exceptions?: Readonly<Record<string, string>>;
}

export interface RecordingFile {
  readonly tshark: string;
  readonly fields: readonly string[];
  readonly prefs: readonly string[];
  readonly files: Readonly<Record<string, Recording>>;
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Hashes of the blocks of a list of row texts. */
export function blockHashes(texts: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < texts.length; i += BLOCK_SIZE) out.push(sha256(texts.slice(i, i + BLOCK_SIZE).join("\n")));
  return out;
}

/** Makes the recording of one capture from tshark's rows (and ours, for big-file exceptions). */
export function makeRecording(fileSha: string, t: TsharkResult, ours: readonly string[]): Recording {
  const texts = t.rows.map(rowText);
  if (texts.length <= FULL_ROWS_LIMIT) return { sha256: fileSha, packets: texts.length, readError: t.readError, rows: texts };
  const exceptions: Record<string, string> = {};
  texts.forEach((tx, i) => {
    if (ours[i] !== tx) exceptions[String(i)] = tx;
  });
  return { sha256: fileSha, packets: texts.length, readError: t.readError, blocks: blockHashes(texts), exceptions };
}
