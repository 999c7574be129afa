/**
 * `replay --out DIR`: what a replay sends, as captures. One pcap per egress port (the frame as
 * delivered; a tagged localnet port's as it leaves on the provider network, VLAN tag included) and
 * per tunnel (Geneve or VXLAN encapsulated), and `dropped.pcapng`: every dropped packet as it was
 * where it was dropped, one interface per chassis, its comment the drop reason and the capture
 * packet it came from. Each file is written atomically when the replay ends.
 *
 * With worker processes (`--workers N`), each worker writes its own directory with `sequence` on: a
 * sidecar per file (`NAME.seq.json`) holds each record's packet number in the replay (and for
 * drops, its chassis and comment). `mergeOutDirs` then writes every file once, its records in
 * packet order (a packet's records, all from one worker, in the order that worker wrote them),
 * through the same writers: the files one worker would write, but for what state shared between
 * connections changes (workers.ts; for instance a source port that conntrack moves because another
 * connection, on the other worker, held it).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseIpv4 } from "../base/index.js";
import { localnetTpid } from "../compile/index.js";
import type { DropOp, OutputOp, PacketSink, TunnelOp } from "../dataplane/index.js";
import { W, frameFromKey, generatedFrame, rewriteFrame } from "../flow/index.js";
import { encapsulateGeneve, encapsulateVxlan, ovnGeneveOption, pushVlan } from "../packet/index.js";
import { PcapWriter, PcapngWriter, openCapture } from "../pcap/index.js";
import type { Replayer } from "./replay.js";

const DROPPED = "dropped.pcapng";

/** The records of one file of a worker's directory, in the order written (see the module header). */
interface Sidecar {
  readonly file: string;
  readonly seq: number[];
  readonly chassis?: string[];
  readonly comments?: string[];
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/**
 * The file name, without extension, of a port's or a wire's capture (see the module header):
 * `prefix` and `parts` joined by `-`. `parts` is a chassis (one of `chassis`) and a name that can
 * follow it (one of `names`: a port, or another chassis), or a name alone.
 */
export function outFileName(prefix: string, parts: readonly string[], chassis: ReadonlySet<string>, names: ReadonlySet<string>): string {
  const safe = parts.map(safeName);
  const joined = safe.join("-");
  // Another chassis and another name that join into the same file name?
  const clash = (c: string): boolean => c !== parts[0] && joined.startsWith(`${c}-`) && names.has(joined.slice(c.length + 1));
  const ambiguous = safe.some((s, i) => s !== parts[i]) || (parts.length > 1 && [...chassis].some(clash));
  const base = `${prefix}-${joined}`;
  if (!ambiguous) return base;
  return `${base}~${createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 8)}`;
}

/** The sink that writes `--out DIR` (see the module header); `close` ends every file. */
export class OutDir implements PacketSink {
  private readonly writers = new Map<string, PcapWriter>();
  /** `dropped.pcapng`, one interface per chassis, each packet's drop reason in its comment. */
  private dropped: { writer: PcapngWriter; ifaces: Map<string, number> } | undefined;
  private readonly buf = new Uint8Array(262144 + 64);
  private readonly replayer: Replayer;
  private readonly dir: string;
  private readonly encaps: ReadonlyMap<string, { readonly type: string; readonly ip: string }>;
  /** The VLAN tag (id and TPID) of each tagged localnet port, by name. */
  private readonly tags: ReadonlyMap<string, { readonly vid: number; readonly tpid: number }>;
  /** The network's chassis and its ports, for file names (`outFileName`). */
  private readonly chassisNames: ReadonlySet<string>;
  private readonly portNames: ReadonlySet<string>;
  /** With `sequence`: per file, each record's packet number (and for drops, chassis and comment). */
  private readonly sequence: Map<string, Sidecar> | undefined;
  problem: string | undefined;

  constructor(dir: string, replayer: Replayer, opts: { sequence?: boolean } = {}) {
    this.dir = dir;
    this.replayer = replayer;
    this.encaps = new Map([...replayer.network.chassis.values()].map((c) => [c.name, { type: c.encaps.first()?.type ?? "geneve", ip: c.encaps.first()?.ip ?? "" }] as const));
    const tags = new Map<string, { vid: number; tpid: number }>();
    for (const ls of replayer.network.switches.values()) for (const p of ls.ports.values()) if (p.type === "localnet" && p.tag !== undefined) tags.set(p.name, { vid: p.tag, tpid: localnetTpid(p.options) });
    this.tags = tags;
    const net = replayer.network;
    this.chassisNames = new Set(net.chassis.keys());
    this.portNames = new Set([...net.switches.values(), ...net.routers.values()].flatMap((d) => [...d.ports.keys()]));
    this.sequence = opts.sequence === true ? new Map() : undefined;
  }

  /**
   * Writes `frame` (`origlen` long on the wire) to the capture of port or wire `parts` (see
   * `outFileName`), made on first use, with the current packet's time.
   */
  private write(prefix: string, parts: readonly string[], frame: Uint8Array, origlen: number): void {
    const c = this.replayer.current;
    const name = `${prefix}\0${parts.join("\0")}`;
    let w = this.writers.get(name);
    if (!w) {
      const file = `${outFileName(prefix, parts, this.chassisNames, prefix === "wire" ? this.chassisNames : this.portNames)}.pcap`;
      const r = PcapWriter.create(join(this.dir, file), { resolution: "ns" });
      if (!r.ok) {
        this.problem ??= r.diags[0]!.message;
        return;
      }
      w = r.value;
      this.writers.set(name, w);
      this.sequence?.set(name, { file, seq: [] });
    }
    w.writePacket(c.tsSec, c.tsNsec, frame, origlen);
    this.sequence?.get(name)?.seq.push(c.packet);
  }

  /**
   * The current packet rewritten to `key`'s fields (and an ICMP error's quoted packet to conntrack's
   * NAT), or the packet OVN made from it (an ICMP error, a TCP reset, an ARP request).
   */
  private frame(key: Uint32Array): Uint8Array {
    const c = this.replayer.current;
    const made = generatedFrame(c.data, c.offset, c.caplen, c.key, key, this.replayer.group.currentQuote());
    if (made !== undefined) return made;
    const n = rewriteFrame(c.data, c.offset, c.caplen, c.key, key, this.buf);
    if (n < 0) return frameFromKey(key);
    // An ICMP error whose quoted packet conntrack's NAT translated.
    this.replayer.icmp.rewriteQuoted(this.buf, n);
    return this.buf.slice(0, n);
  }

  output(chassis: string, op: OutputOp, key: Uint32Array): void {
    const c = this.replayer.current;
    // A tagged localnet port's packets, as its provider network carries them: with the tag that
    // ovn-controller pushes on the way out.
    const tag = op.portType === "localnet" ? this.tags.get(op.portName) : undefined;
    const f = tag === undefined ? this.frame(key) : pushVlan(this.frame(key), { pcp: 0, dei: false, vid: tag.vid }, tag.tpid);
    this.write("port", chassis === "local" ? [op.portName] : [chassis, op.portName], f, f.length + Math.max(0, c.origlen - c.caplen));
  }

  drop(chassis: string, op: DropOp, key: Uint32Array): void {
    if (this.dropped === undefined) {
      const r = PcapngWriter.create(join(this.dir, "dropped.pcapng"), { application: "ovnsim replay" });
      if (!r.ok) {
        this.problem ??= r.diags[0]!.message;
        return;
      }
      this.dropped = { writer: r.value, ifaces: new Map() };
      this.sequence?.set(DROPPED, { file: DROPPED, seq: [], chassis: [], comments: [] });
    }
    const d = this.dropped;
    let ifId = d.ifaces.get(chassis);
    if (ifId === undefined) {
      ifId = d.writer.addInterface({ name: chassis, description: `drops on chassis ${chassis}` });
      d.ifaces.set(chassis, ifId);
    }
    const c = this.replayer.current;
    const f = this.frame(key);
    const comment = `${this.replayer.group.drops.names[op.stat]!}; from ${basename(c.file)} packet ${c.record}`;
    d.writer.writePacket(ifId, c.tsSec, c.tsNsec, f, f.length + Math.max(0, c.origlen - c.caplen), comment);
    const side = this.sequence?.get(DROPPED);
    if (side) {
      side.seq.push(c.packet);
      side.chassis!.push(chassis);
      side.comments!.push(comment);
    }
  }

  tunnel(chassis: string, op: TunnelOp, key: Uint32Array): void {
    const inner = this.frame(key);
    const src = this.encaps.get(chassis);
    const dst = this.encaps.get(op.chassis);
    const outer = { ethSrc: new Uint8Array(6), ethDst: new Uint8Array(6), ipSrc: parseIpv4(src?.ip ?? "") ?? 0, ipDst: parseIpv4(dst?.ip ?? "") ?? 0, udpSrc: 32768 + (key[W.TP]! % 28232) };
    // OVN's VXLAN mode: a 12-bit datapath key and a 12-bit egress port key (bit 11: multicast).
    const p12 = op.outport >= 32768 ? 0x800 | (op.outport & 0x7ff) : op.outport & 0xfff;
    const f =
      dst?.type === "vxlan"
        ? encapsulateVxlan(inner, outer, (op.datapath & 0xfff) | (p12 << 12))
        : encapsulateGeneve(inner, outer, op.datapath & 0xffffff, [ovnGeneveOption(op.inport & 0x7fff, op.outport & 0xffff)]);
    this.write("wire", [chassis, op.chassis], f, f.length);
  }

  close(): string | undefined {
    for (const w of [...this.writers.values(), ...(this.dropped ? [this.dropped.writer] : [])]) {
      const r = w.close();
      if (!r.ok) this.problem ??= r.diags[0]!.message;
    }
    if (this.sequence !== undefined && this.problem === undefined) {
      for (const side of this.sequence.values()) writeFileSync(join(this.dir, `${side.file}.seq.json`), JSON.stringify(side));
    }
    return this.problem;
  }
}


/** One record on its way to a merged file. */
interface MergedRecord {
  readonly seq: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly data: Uint8Array;
  readonly origlen: number;
  readonly chassis: string | undefined;
  readonly comment: string | undefined;
}

/**
 * Merges the workers' directories `dirs` (written with `sequence`) into `into`: every file once,
 * its records in packet order. Returns the first problem met (a file that cannot be read or
 * written), or undefined.
 */
export function mergeOutDirs(dirs: readonly string[], into: string): string | undefined {
  const names = new Set<string>();
  for (const d of dirs) for (const f of readdirSync(d)) if (!f.endsWith(".seq.json")) names.add(f);
  for (const name of [...names].sort()) {
    const records: MergedRecord[] = [];
    for (const d of dirs) {
      let bytes: Uint8Array;
      let side: Sidecar;
      try {
        bytes = readFileSync(join(d, name));
        side = JSON.parse(readFileSync(join(d, `${name}.seq.json`), "utf8")) as Sidecar;
      } catch {
        continue; // this worker wrote nothing there
      }
      const r = openCapture(bytes, join(d, name));
      if (!r.ok) return `${name}: ${r.diags[0]!.message}`;
      const rd = r.value;
      for (let i = 0; rd.next(); i++) {
        const seq = side.seq[i];
        if (seq === undefined) return `${name}: more records than its sidecar lists`;
        records.push({ seq, tsSec: rd.tsSec, tsNsec: rd.tsNsec, data: rd.data.slice(rd.offset, rd.offset + rd.caplen), origlen: rd.origlen, chassis: side.chassis?.[i], comment: side.comments?.[i] });
      }
      if (rd.error) return `${name}: ${rd.error.message}`;
    }
    // Stable: a packet's records keep the order their worker wrote them in.
    records.sort((a, b) => a.seq - b.seq);
    const problem = name === DROPPED ? writeDropped(join(into, name), records) : writePcap(join(into, name), records);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function writePcap(path: string, records: readonly MergedRecord[]): string | undefined {
  const r = PcapWriter.create(path, { resolution: "ns" });
  if (!r.ok) return r.diags[0]!.message;
  for (const x of records) r.value.writePacket(x.tsSec, x.tsNsec, x.data, x.origlen);
  const c = r.value.close();
  return c.ok ? undefined : c.diags[0]!.message;
}

function writeDropped(path: string, records: readonly MergedRecord[]): string | undefined {
  const r = PcapngWriter.create(path, { application: "ovnsim replay" });
  if (!r.ok) return r.diags[0]!.message;
  const w = r.value;
  const ifaces = new Map<string, number>();
  for (const x of records) {
    const chassis = x.chassis ?? "";
    let id = ifaces.get(chassis);
    if (id === undefined) {
      id = w.addInterface({ name: chassis, description: `drops on chassis ${chassis}` });
      ifaces.set(chassis, id);
    }
    w.writePacket(id, x.tsSec, x.tsNsec, x.data, x.origlen, x.comment);
  }
  const c = w.close();
  return c.ok ? undefined : c.diags[0]!.message;
}

/** A worker's own directory under `out`, made empty. */
export function workerOutDir(out: string, index: number): string {
  const dir = join(out, `.worker-${index}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}
