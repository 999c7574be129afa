/**
 * `ovnsim pcap info FILE` and `ovnsim pcap dump FILE`: what is in a capture.
 *
 * `info` summarizes: format, link types, packet and byte counts, time span, the protocol mix (as
 * tshark's "frames containing": a frame counts once for every protocol anywhere in it, tunnels
 * included), and the number of distinct 5-tuples (unidirectional, of the outermost IP layer, and
 * separately of the layer inside Geneve/VXLAN). `dump` prints one tcpdump-like line per packet.
 * Both read `-` as standard input. A damaged file ends the command with its error (one line, with
 * the byte offset) and exit code 2, after printing what was read before it.
 */
import type { Argv } from "yargs";
import { PCAP } from "./commands.js";
import { formatDiagnostic, formatIpv4, formatIpv6, type Diagnostic } from "../base/index.js";
import { decodeFrame, formatLine, type Decoded, type Layer } from "../packet/index.js";
import { isSupportedLinkType, linkTypeName } from "../pcap/index.js";
import { InputError, openCaptureInput, type CaptureSource } from "./capture-input.js";
import { STDIN_ARG, type Io } from "./io.js";

/** `ovnsim pcap info|dump`. */
export function registerPcapCommands(parser: Argv, io: Io, setExit: (code: number) => void): void {
  parser.command(PCAP.usage, PCAP.describe, (y) =>
    y
      .command(
        "info <file>",
        "Summarize a capture: link types, packets, time span, protocol mix, flows",
        (c) =>
          c
            .positional("file", { type: "string", demandOption: true, describe: "pcap or pcapng file, or - for standard input" })
            .option("json", { type: "boolean", default: false, describe: "print a JSON object instead of text" }),
        async (argv) => {
          const src = await openCaptureInput(argv.file, io.stdin);
          const info = await summarize(src, displayName(argv.file));
          io.out(argv.json ? JSON.stringify(info, null, 2) + "\n" : renderInfo(info));
          if (src.error) fail(io, src.error, setExit);
        },
      )
      .command(
        "dump <file>",
        "Print one line per packet (VLAN tags and Geneve/VXLAN inner headers included)",
        (c) =>
          c
            .positional("file", { type: "string", demandOption: true, describe: "pcap or pcapng file, or - for standard input" })
            .option("count", { alias: "c", type: "number", describe: "stop after this many packets" })
            .option("time", { choices: ["abs", "epoch", "rel", "none"] as const, default: "abs" as const, describe: "timestamps: UTC time of day, seconds since the epoch, seconds since the first packet, or none" }),
        async (argv) => {
          if (argv.count !== undefined && (!Number.isInteger(argv.count) || argv.count < 0)) {
            throw new InputError([{ code: "usage.count", severity: "error", message: `--count takes a whole number >= 0, got ${argv.count}` }]);
          }
          const src = await openCaptureInput(argv.file, io.stdin);
          await dump(src, io, argv.count ?? Infinity, argv.time);
          if (src.error) fail(io, src.error, setExit);
        },
      )
      .demandCommand(1, "Give a pcap subcommand: info or dump."),
  );
}

function fail(io: Io, d: Diagnostic, setExit: (code: number) => void): void {
  io.err(`ovnsim: ${renderDiag(d)}\n`);
  setExit(2);
}

function renderDiag(d: Diagnostic): string {
  return formatDiagnostic(d);
}

/** What `pcap info --json` prints. Stable field names; counts are integers. */
export interface CaptureInfo {
  file: string;
  format: "pcap" | "pcapng";
  interfaces: { id: number; linkType: number; linkTypeName: string; name: string | null; snaplen: number; packets: number }[];
  packets: number;
  bytesCaptured: number;
  bytesOnWire: number;
  truncatedPackets: number;
  firstTime: string | null;
  lastTime: string | null;
  durationSeconds: number;
  /** Frames containing each protocol, anywhere in the frame. */
  protocols: Record<string, number>;
  /** Distinct unidirectional (proto, src, dst, sport, dport) of the outermost IP layer. */
  flows: number;
  /** The same, counting both directions as one flow. */
  bidirectionalFlows: number;
  /** Distinct 5-tuples inside Geneve/VXLAN. */
  innerFlows: number;
  /** Packets on link types that cannot be decoded, by link type name. */
  skippedLinkTypes: Record<string, number>;
  /** Packets with a malformed header. */
  malformedPackets: number;
  /** The read error that ended the file early, if any. */
  error: string | null;
}

async function summarize(src: CaptureSource, file: string): Promise<CaptureInfo> {
  const perIf = new Map<number, number>();
  const protocols: Record<string, number> = {};
  const flows = new Set<string>();
  const bidir = new Set<string>();
  const inner = new Set<string>();
  const skipped: Record<string, number> = {};
  let packets = 0;
  let bytesCaptured = 0;
  let bytesOnWire = 0;
  let truncated = 0;
  let malformed = 0;
  let first: [number, number] | undefined;
  let last: [number, number] | undefined;
  while (await src.next()) {
    packets++;
    bytesCaptured += src.caplen;
    bytesOnWire += src.origlen;
    if (src.caplen < src.origlen) truncated++;
    perIf.set(src.interfaceId, (perIf.get(src.interfaceId) ?? 0) + 1);
    const ts: [number, number] = [src.tsSec, src.tsNsec];
    if (!first || before(ts, first)) first = ts;
    if (!last || before(last, ts)) last = ts;
    if (!isSupportedLinkType(src.linkType)) {
      const n = linkTypeName(src.linkType);
      skipped[n] = (skipped[n] ?? 0) + 1;
      continue;
    }
    const d = decodeFrame(src.data, src.offset, src.caplen, src.linkType, { wireLength: src.origlen });
    if (d.issues.length > 0) malformed++;
    const seen = new Set<string>();
    for (const l of d.layers) seen.add(protocolName(l));
    for (const p of seen) protocols[p] = (protocols[p] ?? 0) + 1;
    const outer = fiveTuple(d, 0);
    if (outer) {
      flows.add(outer.key);
      bidir.add(outer.bidirKey);
    }
    const maxDepth = d.layers.reduce((m, l) => Math.max(m, l.depth), 0);
    for (let depth = 1; depth <= maxDepth; depth++) {
      const t = fiveTuple(d, depth);
      if (t) inner.add(`${depth}|${t.key}`);
    }
  }
  const interfaces = src.interfaces.map((i) => ({ id: i.id, linkType: i.linkType, linkTypeName: linkTypeName(i.linkType), name: i.name ?? null, snaplen: i.snaplen, packets: perIf.get(i.id) ?? 0 }));
  const sortedProtocols: Record<string, number> = {};
  for (const k of Object.keys(protocols).sort((a, b) => protocols[b]! - protocols[a]! || a.localeCompare(b))) sortedProtocols[k] = protocols[k]!;
  return {
    file,
    format: src.format,
    interfaces,
    packets,
    bytesCaptured,
    bytesOnWire,
    truncatedPackets: truncated,
    firstTime: first ? isoTime(first) : null,
    lastTime: last ? isoTime(last) : null,
    durationSeconds: first && last ? last[0] - first[0] + (last[1] - first[1]) / 1e9 : 0,
    protocols: sortedProtocols,
    flows: flows.size,
    bidirectionalFlows: bidir.size,
    innerFlows: inner.size,
    skippedLinkTypes: skipped,
    malformedPackets: malformed,
    error: src.error ? renderDiag(src.error) : null,
  };
}

function before(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function protocolName(l: Layer): string {
  switch (l.kind) {
    case "ipv6-ext":
      return "ipv6";
    case "sll":
    case "sll2":
      return "sll";
    default:
      return l.kind;
  }
}

/** The (proto, src, dst, sport, dport) of the first IP layer at `depth`, with its L4 ports if any. */
function fiveTuple(d: Decoded, depth: number): { key: string; bidirKey: string } | undefined {
  let src = "";
  let dst = "";
  let proto = -1;
  let sport = 0;
  let dport = 0;
  let later = false;
  for (const l of d.layers) {
    if (l.depth !== depth) continue;
    if (proto < 0) {
      if (l.kind === "ipv4") {
        src = formatIpv4(l.repr.src);
        dst = formatIpv4(l.repr.dst);
        proto = l.repr.protocol;
        later = l.repr.fragOffset !== 0;
      } else if (l.kind === "ipv6") {
        src = formatIpv6(l.repr.src);
        dst = formatIpv6(l.repr.dst);
        proto = l.repr.nextHeader;
      }
      continue;
    }
    if (l.kind === "ipv6-ext") {
      proto = l.repr.nextHeader;
      continue;
    }
    if (!later && (l.kind === "tcp" || l.kind === "udp" || l.kind === "sctp")) {
      sport = l.repr.srcPort;
      dport = l.repr.dstPort;
    }
    break;
  }
  if (proto < 0) return undefined;
  const fwd = `${proto}|${src}|${sport}|${dst}|${dport}`;
  const rev = `${proto}|${dst}|${dport}|${src}|${sport}`;
  return { key: fwd, bidirKey: fwd < rev ? fwd : rev };
}

function isoTime([sec, nsec]: [number, number]): string {
  const d = new Date(sec * 1000);
  const base = Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 19) : `${sec}`;
  return `${base}.${String(nsec).padStart(9, "0")}Z`;
}

function renderInfo(i: CaptureInfo): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${(k + ":").padEnd(14)}${v}`);
  row("file", i.file);
  row("format", i.format);
  for (const f of i.interfaces) row(`interface ${f.id}`, `${f.linkTypeName} (${f.linkType})${f.name ? ` "${f.name}"` : ""}, snaplen ${f.snaplen}, ${f.packets} packets`);
  row("packets", `${i.packets} (${i.bytesCaptured} bytes captured, ${i.bytesOnWire} on the wire${i.truncatedPackets ? `, ${i.truncatedPackets} cut by the snap length` : ""})`);
  row("first", i.firstTime ?? "-");
  row("last", i.lastTime ?? "-");
  row("duration", `${i.durationSeconds.toFixed(6)} s`);
  row("protocols", Object.entries(i.protocols).map(([k, v]) => `${k} ${v}`).join(", ") || "-");
  row("flows", `${i.flows} distinct 5-tuples (${i.bidirectionalFlows} counting both directions as one)${i.innerFlows ? `, ${i.innerFlows} inside tunnels` : ""}`);
  if (i.malformedPackets) row("malformed", `${i.malformedPackets} packets with a malformed header`);
  const sk = Object.entries(i.skippedLinkTypes);
  if (sk.length) row("skipped", sk.map(([k, v]) => `${v} packets of unsupported link type ${k}`).join(", "));
  return lines.join("\n") + "\n";
}

async function dump(src: CaptureSource, io: Io, count: number, time: "abs" | "epoch" | "rel" | "none"): Promise<void> {
  let first: [number, number] | undefined;
  const skipped: Record<string, number> = {};
  let printed = 0;
  const width = 6;
  while (printed < count && (await src.next())) {
    const ts: [number, number] = [src.tsSec, src.tsNsec];
    first ??= ts;
    const num = String(src.index + 1).padStart(width);
    const stamp = formatStamp(ts, first, time);
    let text: string;
    if (!isSupportedLinkType(src.linkType)) {
      const n = linkTypeName(src.linkType);
      skipped[n] = (skipped[n] ?? 0) + 1;
      text = `[link type ${n} (${src.linkType}) not decoded, ${src.caplen} bytes]`;
    } else {
      text = formatLine(decodeFrame(src.data, src.offset, src.caplen, src.linkType, { wireLength: src.origlen }));
    }
    io.out(`${num} ${stamp ? stamp + " " : ""}${text}\n`);
    printed++;
  }
  const sk = Object.entries(skipped);
  if (sk.length) io.err(`ovnsim: skipped decoding ${sk.map(([k, v]) => `${v} packets of link type ${k}`).join(", ")}\n`);
}

function formatStamp(ts: [number, number], first: [number, number], time: "abs" | "epoch" | "rel" | "none"): string {
  switch (time) {
    case "none":
      return "";
    case "epoch":
      return `${ts[0]}.${String(ts[1]).padStart(9, "0")}`;
    case "rel": {
      let s = ts[0] - first[0];
      let ns = ts[1] - first[1];
      if (ns < 0) {
        s--;
        ns += 1e9;
      }
      return `${s}.${String(ns).padStart(9, "0")}`;
    }
    case "abs": {
      const d = new Date(ts[0] * 1000);
      const hms = Number.isFinite(d.getTime()) ? d.toISOString().slice(11, 19) : String(ts[0]);
      return `${hms}.${String(ts[1]).padStart(9, "0")}`;
    }
    default: {
      const _never: never = time;
      return _never;
    }
  }
}


function displayName(arg: string): string {
  return arg === STDIN_ARG ? "-" : arg;
}
