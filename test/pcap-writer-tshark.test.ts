/**
 * Files written by PcapWriter and PcapngWriter, read back by our reader and by Wireshark.
 *
 * Each file is written to disk through the atomic file path, then: our reader must give the
 * packets that were written; `tshark -T ek -x` (when installed) must see the same number of
 * packets with the same bytes, lengths, timestamps and interface names, and `capinfos` the same
 * count. The atomic-write contract is checked separately: nothing appears under the final name
 * before `close()`, and nothing is left after `abort()` or a failed close.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LinkType, PcapWriter, PcapngWriter, openCapture } from "../src/pcap/index.js";

const haveTshark = spawnSync("tshark", ["-v"]).status === 0 && spawnSync("capinfos", ["-v"]).status === 0;
if (!haveTshark) console.warn("pcap-writer-tshark: tshark/capinfos not installed; the Wireshark half of these tests is skipped");

const dir = mkdtempSync(join(tmpdir(), "ovnsim-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Pkt {
  iface: number;
  sec: number;
  nsec: number;
  data: Uint8Array;
  origLen: number;
}

/** Deterministic packets: Ethernet-looking frames of varied lengths, one longer than 128 bytes. */
function packets(ifaces: number): Pkt[] {
  const out: Pkt[] = [];
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  for (let i = 0; i < 25; i++) {
    const len = i === 3 ? 1514 : 14 + (rnd() % 300);
    const data = new Uint8Array(len);
    for (let j = 0; j < len; j++) data[j] = rnd() >>> 24;
    data[12] = 0x88;
    data[13] = 0xb5; // local experimental EtherType: tshark shows it as data
    out.push({ iface: i % ifaces, sec: 1_700_000_000 + i * 3, nsec: (rnd() % 1_000_000_000) >>> 0, data, origLen: len + (i % 4 === 0 ? 100 : 0) });
  }
  return out;
}

interface Expected {
  ifName: string | undefined;
  ns: bigint;
  len: number;
  capLen: number;
  hex: string;
}

function expected(p: Pkt, digits: number, snaplen: number, ifName: string | undefined): Expected {
  const cap = Math.min(p.data.length, snaplen);
  const unit = 10 ** (9 - digits);
  return {
    ifName,
    ns: BigInt(p.sec) * 1_000_000_000n + BigInt(Math.floor(p.nsec / unit) * unit),
    len: Math.max(p.origLen, cap),
    capLen: cap,
    hex: Buffer.from(p.data.subarray(0, cap)).toString("hex"),
  };
}

function ours(path: string): Expected[] {
  const o = openCapture(readFileSync(path), path);
  if (!o.ok) throw new Error(o.diags[0]!.message);
  const r = o.value;
  const out: Expected[] = [];
  while (r.next()) {
    out.push({
      ifName: r.format === "pcapng" ? r.interfaces[r.interfaceId]!.name : undefined,
      ns: BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec),
      len: r.origlen,
      capLen: r.caplen,
      hex: Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString("hex"),
    });
  }
  expect(r.error).toBeUndefined();
  return out;
}

function wiresharkNs(t: string): bigint {
  const [sec, frac = ""] = t.split(".");
  return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
}

function tshark(path: string, pcapng: boolean): Expected[] {
  const r = spawnSync("tshark", ["-r", path, "-T", "ek", "-x"], { encoding: "utf8", maxBuffer: 1 << 26 });
  expect(r.status, r.stderr).toBe(0);
  const out: Expected[] = [];
  for (const line of r.stdout.split("\n")) {
    if (!line.includes('"layers"')) continue;
    const layers = (JSON.parse(line) as { layers: { frame_raw: string; frame: Record<string, string> } }).layers;
    const f = layers.frame;
    out.push({
      ifName: pcapng ? f.frame_frame_interface_name : undefined,
      ns: wiresharkNs(f.frame_frame_time_epoch!),
      len: Number(f.frame_frame_len),
      capLen: Number(f.frame_frame_cap_len),
      hex: layers.frame_raw,
    });
  }
  return out;
}

function capinfosCount(path: string): number {
  const r = spawnSync("capinfos", ["-c", "-M", "-T", "-r", path], { encoding: "utf8" });
  return Number(r.stdout.trim().split("\t")[1]);
}

describe("PcapWriter output", () => {
  for (const resolution of ["us", "ns"] as const) {
    for (const bigEndian of [false, true]) {
      const name = `${resolution}-${bigEndian ? "be" : "le"}.pcap`;
      const path = join(dir, name);
      const pkts = packets(1);
      const want = pkts.map((p) => expected(p, resolution === "ns" ? 9 : 6, 1024, undefined));

      it(`${name}: our reader gives the packets written`, () => {
        const w = PcapWriter.create(path, { resolution, bigEndian, snaplen: 1024 });
        if (!w.ok) throw new Error(w.diags[0]!.message);
        for (const p of pkts) w.value.writePacket(p.sec, p.nsec, p.data, p.origLen);
        expect(w.value.close()).toEqual({ ok: true, value: undefined });
        expect(ours(path)).toEqual(want);
      });

      it.skipIf(!haveTshark)(`${name}: tshark and capinfos read the same packets`, () => {
        expect(tshark(path, false)).toEqual(want);
        expect(capinfosCount(path)).toBe(pkts.length);
      });
    }
  }
});

describe("PcapngWriter output", () => {
  const path = join(dir, "multi.pcapng");
  const ifaces = [
    { name: "eth0", description: "node-1 uplink", tsresol: 9 as const, snaplen: 262144 },
    { name: "br-int", tsresol: 6 as const, snaplen: 128 },
    { name: "genev_sys_6081", description: "Geneve tunnel port", tsresol: 9 as const, snaplen: 65535 },
  ];
  const pkts = packets(ifaces.length);
  const want = pkts.map((p) => expected(p, ifaces[p.iface]!.tsresol, ifaces[p.iface]!.snaplen, ifaces[p.iface]!.name));

  it("our reader gives the packets written, with interface names", () => {
    const w = PcapngWriter.create(path, { application: "ovnsim tests", os: "Linux" });
    if (!w.ok) throw new Error(w.diags[0]!.message);
    const ids = ifaces.map((i) => w.value.addInterface({ ...i, linkType: LinkType.ETHERNET }));
    expect(ids).toEqual([0, 1, 2]);
    for (const [n, p] of pkts.entries()) w.value.writePacket(ids[p.iface]!, p.sec, p.nsec, p.data, p.origLen, n % 5 === 0 ? `packet ${n}` : undefined);
    expect(w.value.close()).toEqual({ ok: true, value: undefined });
    expect(ours(path)).toEqual(want);
  });

  it.skipIf(!haveTshark)("tshark and capinfos read the same packets and interface names", () => {
    expect(tshark(path, true)).toEqual(want);
    expect(capinfosCount(path)).toBe(pkts.length);
    const info = spawnSync("capinfos", ["-I", path], { encoding: "utf8" }).stdout;
    for (const i of ifaces) expect(info).toContain(`Name = ${i.name}`);
    expect(info).toContain("Description = node-1 uplink");
    expect(info).toContain("Number of interfaces in file: 3");
  });

  it.skipIf(!haveTshark)("a big-endian pcapng in memory reads the same in tshark", () => {
    const w = new PcapngWriter({ bigEndian: true });
    const a = w.addInterface({ name: "p1" });
    const b = w.addInterface({ name: "p2", tsresol: 6 });
    const few = pkts.slice(0, 6);
    for (const p of few) w.writePacket(p.iface % 2 === 0 ? a : b, p.sec, p.nsec, p.data, p.origLen);
    const file = join(dir, "be.pcapng");
    writeFileSync(file, w.toBytes());
    const wantBe = few.map((p) => expected(p, p.iface % 2 === 0 ? 9 : 6, 262144, p.iface % 2 === 0 ? "p1" : "p2"));
    expect(ours(file)).toEqual(wantBe);
    expect(tshark(file, true)).toEqual(wantBe);
  });
});

describe("atomic writes", () => {
  const tmpFiles = (d: string) => readdirSync(d).filter((n) => n.includes(".tmp-"));

  it("nothing appears under the final name before close()", () => {
    const d = join(dir, "close");
    mkdirSync(d);
    const path = join(d, "out.pcapng");
    const w = PcapngWriter.create(path);
    if (!w.ok) throw new Error("create");
    const id = w.value.addInterface({ name: "x" });
    // Enough data to force several flushes to the temporary file.
    for (let i = 0; i < 3000; i++) w.value.writePacket(id, i, 0, new Uint8Array(1000));
    expect(existsSync(path)).toBe(false);
    expect(tmpFiles(d)).toHaveLength(1);
    expect(tmpFiles(d)[0]).toMatch(new RegExp(`^out\\.pcapng\\.tmp-${process.pid}-[0-9a-f]{12}$`));
    expect(w.value.close().ok).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(tmpFiles(d)).toEqual([]);
    const o = openCapture(readFileSync(path), path);
    if (!o.ok) throw new Error("reopen");
    let n = 0;
    while (o.value.next()) n++;
    expect(n).toBe(3000);
  });

  it("abort() leaves no file, and an older file under the name untouched", () => {
    const d = join(dir, "abort");
    mkdirSync(d);
    const path = join(d, "out.pcap");
    writeFileSync(path, "old contents");
    const w = PcapWriter.create(path);
    if (!w.ok) throw new Error("create");
    for (let i = 0; i < 5000; i++) w.value.writePacket(i, 0, new Uint8Array(500));
    w.value.abort();
    w.value.abort();
    expect(readFileSync(path, "utf8")).toBe("old contents");
    expect(tmpFiles(d)).toEqual([]);
    rmSync(path);
    const w2 = PcapngWriter.create(path);
    if (!w2.ok) throw new Error("create");
    w2.value.abort();
    expect(readdirSync(d)).toEqual([]);
  });

  it("a failing close (the final name is a directory) reports it and removes the temporary file", () => {
    const d = join(dir, "fail");
    mkdirSync(d);
    const path = join(d, "out.pcap");
    mkdirSync(path);
    writeFileSync(join(path, "keep"), "x");
    const w = PcapWriter.create(path);
    if (!w.ok) throw new Error("create");
    w.value.writePacket(1, 2, new Uint8Array(60));
    const r = w.value.close();
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diags[0]!.code).toBe("pcap.cannot-write");
    expect(r.diags[0]!.file).toBe(path);
    expect(tmpFiles(d)).toEqual([]);
    expect(readdirSync(path)).toEqual(["keep"]);
    // The writer stays failed and quiet.
    w.value.writePacket(1, 2, new Uint8Array(60));
    expect(w.value.error?.code).toBe("pcap.cannot-write");
  });

  it("creating in a missing directory is a diagnostic, not a throw", () => {
    const r = PcapngWriter.create(join(dir, "no", "such", "dir", "x.pcapng"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diags[0]!.code).toBe("pcap.cannot-write");
  });
});
