/**
 * `ovnsim pcap info|dump`, driven in-process. Expected counts come from the shared captures'
 * MANIFEST.md (made with tshark/capinfos), not from our own output.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/main.js";
import { memoryIo } from "../../src/cli/io.js";
import { COMMANDS } from "../../src/cli/commands.js";

const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(import.meta.dirname, "../../../shared/pcaps");
const havePcaps = existsSync(join(PCAPS, "MANIFEST.md"));
if (!havePcaps) console.warn(`skipping tests on real captures: ${PCAPS} not found (set OVNSIM_PCAPS)`);

async function cli(args: string[], stdin?: NodeJS.ReadableStream) {
  const io = memoryIo(stdin);
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("ovnsim pcap info", () => {
  it.skipIf(!havePcaps)("summarizes a VLAN-tagged VXLAN capture as tshark counts it", async () => {
    const r = await cli(["pcap", "info", "--json", join(PCAPS, "tunnels/vxlan/ndpi-vxlan-vlan.pcap")]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    // MANIFEST: 127 packets; frames containing vlan 127, ipv4 127, tcp 119, udp 127, vxlan 127.
    expect(info.packets).toBe(127);
    expect(info.protocols).toMatchObject({ vlan: 127, ipv4: 127, tcp: 119, udp: 127, vxlan: 127 });
    expect(info.interfaces[0].linkTypeName).toBe("ETHERNET");
    expect(info.error).toBeNull();
  });

  it.skipIf(!havePcaps)("counts flows and time span of a real trace", async () => {
    const r = await cli(["pcap", "info", "--json", join(PCAPS, "formats/libtrace-100-packets.pcap")]);
    const info = JSON.parse(r.out);
    // MANIFEST: 100 packets, 27.8 ms, 61 unidirectional 5-tuples.
    expect(info.packets).toBe(100);
    expect(info.flows).toBe(61);
    expect(info.durationSeconds).toBeGreaterThan(0.027);
    expect(info.durationSeconds).toBeLessThan(0.029);
    const text = await cli(["pcap", "info", join(PCAPS, "formats/libtrace-100-packets.pcap")]);
    expect(text.out).toMatch(/^packets: +100 /m);
    expect(text.out).toMatch(/^flows: +61 distinct 5-tuples/m);
  });

  it.skipIf(!havePcaps)("reads standard input with -", async () => {
    const bytes = readFileSync(join(PCAPS, "l2l3/zeek-q-in-q.pcap"));
    const r = await cli(["pcap", "info", "--json", "-"], Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ file: "-", packets: 5 });
  });
});

describe("ovnsim pcap dump", () => {
  it.skipIf(!havePcaps)("prints one line per packet, with VLAN tags and the tunnel's inner headers", async () => {
    const r = await cli(["pcap", "dump", "-c", "3", join(PCAPS, "tunnels/vxlan/ndpi-vxlan-vlan.pcap")]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/802\.1Q vlan 5, IPv4 .*: VXLAN vni 1111: .* IPv4 /);
    const all = await cli(["pcap", "dump", "--time", "none", join(PCAPS, "tunnels/vxlan/ndpi-vxlan-vlan.pcap")]);
    expect(all.out.trimEnd().split("\n")).toHaveLength(127);
  });

  it.skipIf(!havePcaps)("shows Geneve options and a truncated packet as such", async () => {
    const g = await cli(["pcap", "dump", "-c", "1", join(PCAPS, "tunnels/geneve/tcpdump-geneve-ovs-critical-opt.pcap")]);
    expect(g.out).toMatch(/Geneve vni 0xa .*class 0x0000 type 0x80/);
    const t = await cli(["pcap", "dump", join(PCAPS, "robustness/zeek-geneve-truncated.pcapng")]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/\[truncated\]/);
  });
});

describe("broken input: one error line with the offset, exit 2", () => {
  const cases: [string, RegExp, number][] = [
    ["robustness/suricata-bogus-record-len-after-6.pcap", /offset 5035: error: .*4325376/, 6],
    ["robustness/suricata-fuzz-oversized-record.pcap", /offset \d+: error: .*1409179648/, 1],
    ["robustness/suricata-http-cut-short.pcap", /offset 2715459: error: file ends inside a packet record/, 2696],
    ["robustness/ndpi-fuzz-ns-magic-cut-short.pcap", /offset 237: error: file ends inside/, 1],
    ["formats/pcapng-suite/le/test901.pcapng", /offset \d+: error: .*version/i, 1],
  ];
  it.skipIf(!havePcaps).each(cases)("%s", async (file, message, packetsBefore) => {
    for (const cmd of ["info", "dump"]) {
      const r = await cli(["pcap", cmd, ...(cmd === "info" ? ["--json"] : []), join(PCAPS, file)]);
      expect(r.code).toBe(2);
      const errLines = r.err.trimEnd().split("\n");
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(message);
      expect(errLines[0]).toContain(file);
      expect(errLines[0]).not.toMatch(/\n\s+at /);
      if (cmd === "info") expect(JSON.parse(r.out).packets).toBe(packetsBefore);
      else expect(r.out === "" ? 0 : r.out.trimEnd().split("\n").length).toBe(packetsBefore);
    }
  });

  it("not a capture, a missing file, a directory, a bad option", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-cli-"));
    try {
      const junk = join(dir, "junk.pcap");
      writeFileSync(junk, "this is not a capture file at all");
      const a = await cli(["pcap", "info", junk]);
      expect(a.code).toBe(2);
      expect(a.err).toMatch(/^ovnsim: .*junk\.pcap: offset 0: error: expected a pcap magic/);
      const b = await cli(["pcap", "dump", join(dir, "missing.pcap")]);
      expect(b.code).toBe(2);
      expect(b.err).toMatch(/missing\.pcap: error: no such file/);
      const c = await cli(["pcap", "info", dir]);
      expect(c.code).toBe(2);
      expect(c.err).toMatch(/is a directory/);
      const d = await cli(["pcap", "dump", "-c", "-3", junk]);
      expect(d.code).toBe(2);
      const e = await cli(["pcap", "bogus"]);
      expect(e.code).toBe(2);
      expect(e.err).toMatch(/Unknown argument|Give a pcap subcommand/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ovnsim --help / --version", () => {
  it("prints help and the version, exit 0", async () => {
    const h = await cli(["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("ovnsim pcap");
    const v = await cli(["--version"]);
    expect(v.out.trim()).toBe(JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")).version);
    const ph = await cli(["pcap", "--help"]);
    expect(ph.out).toMatch(/info <file>/);
    expect(ph.out).toMatch(/dump <file>/);
  });

  it("lists every command without loading it, and loads the one whose help is asked for", async () => {
    const h = await cli(["--help"]);
    for (const c of COMMANDS) expect(h.out).toContain(`ovnsim ${c.usage}`);
    for (const c of COMMANDS) {
      const r = await cli([c.name, "--help"]);
      expect(r.code, c.name).toBe(0);
      expect(r.out.replace(/\s+/g, " ").startsWith(`ovnsim ${c.usage} ${c.describe}`), `${c.name}: ${r.out.slice(0, 200)}`).toBe(true);
      // Only the command's own module registers its options and subcommands: a stub has none.
      const own = c.name === "pcap" ? r.out.match(/ovnsim pcap (info|dump)/g) : r.out.match(/--(?!help\b|version\b)[a-z][\w-]*/g);
      expect(own, c.name).not.toBeNull();
      // Help is wrapped to the width (runs without help leave wrapping off).
      for (const line of r.out.split("\n")) expect(line.length, `${c.name}: ${line}`).toBeLessThanOrEqual(100);
    }
  });
});
