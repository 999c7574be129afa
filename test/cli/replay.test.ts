/**
 * `ovnsim replay` end to end, in-process: the report, `--stats`, `--out` (byte-identical with and
 * without the cache, readable by tshark when it is installed, and the dropped packets with their
 * reasons), `--workers 2` against one
 * worker, `--inject`, `--save-map` and `--map FILE`, a capture that breaks mid-stream (exit 2, the
 * packet and the byte offset, the statistics of the packets before it kept), and usage errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/main.js";
import { memoryIo } from "../../src/cli/io.js";
import { compileMicroflow, compileNetwork } from "../../src/compile/index.js";
import { frameFromKey } from "../../src/flow/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NET = join(ROOT, "scenarios/kube-ovn-default.yaml");
const tmp = mkdtempSync(join(tmpdir(), "ovnsim-replay-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A capture of the scenario's own TCP/UDP probes (as frames), each sent `rounds` times. Each
 * frame's 16-byte payload is its round, or with `numbered` its frame number (from 1) in four
 * big-endian copies.
 */
function probeCapture(path: string, rounds: number, numbered = false): number {
  const sc = loadNetworkFile(NET);
  if (!sc.ok) throw new Error("scenario");
  const c = compileNetwork(sc.value.network);
  if (!c.ok) throw new Error("compile");
  const w = new PcapWriter();
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const p of sc.value.probes) {
      if (!/tcp|udp/.test(p.microflow)) continue;
      const mf = compileMicroflow(c.value.program, undefined, p.microflow);
      if (!mf.ok) continue;
      const payload = new Uint8Array(16).fill(r);
      if (numbered) for (let i = 0; i < 4; i++) new DataView(payload.buffer).setUint32(4 * i, n + 1);
      w.writePacket(1_700_000_000 + r, n * 1000, frameFromKey(mf.value.key, { payload }));
      n++;
    }
  }
  writeFileSync(path, w.toBytes());
  return n;
}

async function ovnsim(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const capture = join(tmp, "probes.pcap");
const packets = probeCapture(capture, 20);

describe("ovnsim replay", () => {
  it("replays a capture mapped onto the network and prints the report", async () => {
    const r = await ovnsim(["replay", NET, capture]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`packets: ${packets} read, \\d+ replayed`));
    expect(r.out).toMatch(/delivered, by egress port/);
    expect(r.out).toMatch(/megaflow hits: +\d+/);
    expect(r.out).toMatch(/upcalls: +\d+/);
    expect(r.out).toMatch(/masks: +\d+/);
  }, 60_000);

  it("--out writes the same captures with and without the cache, and --stats its JSON", async () => {
    const on = join(tmp, "on");
    const off = join(tmp, "off");
    const a = await ovnsim(["replay", NET, capture, "--out", on, "--stats", join(tmp, "on.json")]);
    const b = await ovnsim(["replay", NET, capture, "--out", off, "--no-cache", "--stats", join(tmp, "off.json")]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const files = readdirSync(on).sort();
    expect(files.length).toBeGreaterThan(1);
    expect(files.some((f) => f.startsWith("wire-"))).toBe(true);
    expect(readdirSync(off).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(readFileSync(join(on, f)), readFileSync(join(off, f))), f).toBe(0);
    const s1 = JSON.parse(readFileSync(join(tmp, "on.json"), "utf8"));
    const s2 = JSON.parse(readFileSync(join(tmp, "off.json"), "utf8"));
    expect(s1.version).toBe(1);
    expect(s1.outputs).toEqual(s2.outputs);
    expect(s1.drops).toEqual(s2.drops);
    expect(s1.flowCache.upcalls).toBeLessThan(s2.flowCache.upcalls);
    expect(s1.flowCache.megaflowHits + s1.flowCache.emcHits + s1.flowCache.misses).toBe(s1.flowCache.lookups);
  }, 60_000);

  it("--out writes dropped.pcapng: every dropped packet, its comment the drop reason and the capture packet", async () => {
    const dir = join(tmp, "drops-out");
    const numbered = join(tmp, "numbered.pcap");
    probeCapture(numbered, 20, true);
    const r = await ovnsim(["replay", join(ROOT, "scenarios/network-policy.yaml"), numbered, "--out", dir, "--stats", join(tmp, "drops.json")]);
    expect(r.code).toBe(0);
    const drops: Record<string, number> = JSON.parse(readFileSync(join(tmp, "drops.json"), "utf8")).drops;
    expect(Object.keys(drops).length).toBeGreaterThan(0);
    // Read the enhanced packet blocks (type 6) and their opt_comment (code 1) ourselves.
    const b = readFileSync(join(dir, "dropped.pcapng"));
    const comments: string[] = [];
    /** The frame number each dropped frame's payload carries. */
    const carried: number[] = [];
    for (let off = 0; off < b.length; ) {
      const type = b.readUInt32LE(off);
      const len = b.readUInt32LE(off + 4);
      if (type === 6) {
        const caplen = b.readUInt32LE(off + 20);
        carried.push(b.readUInt32BE(off + 28 + caplen - 4));
        let o = off + 28 + ((caplen + 3) & ~3);
        while (o < off + len - 4) {
          const code = b.readUInt16LE(o);
          const n = b.readUInt16LE(o + 2);
          if (code === 0) break;
          if (code === 1) comments.push(b.toString("utf8", o + 4, o + 4 + n));
          o += 4 + ((n + 3) & ~3);
        }
      }
      off += len;
    }
    const counted: Record<string, number> = {};
    expect(comments).toHaveLength(carried.length);
    comments.forEach((c, i) => {
      const m = /^(.*); from numbered\.pcap packet (\d+)$/.exec(c);
      expect(m, c).not.toBeNull();
      // The capture packet named is the one the dropped frame came from.
      expect(Number(m![2]), c).toBe(carried[i]);
      counted[m![1]!] = (counted[m![1]!] ?? 0) + 1;
    });
    expect(counted).toEqual(drops);
    // The same file, byte for byte, without the cache.
    const off = join(tmp, "drops-out-no-cache");
    expect((await ovnsim(["replay", join(ROOT, "scenarios/network-policy.yaml"), numbered, "--out", off, "--no-cache"])).code).toBe(0);
    expect(Buffer.compare(readFileSync(join(off, "dropped.pcapng")), b)).toBe(0);
  }, 60_000);

  /**
   * Replays one frame of `microflow` (16 bytes of payload), injected at `port` of `file`, with
   * `--out`; returns the frame sent and the first frame of the output capture of `outPort`.
   */
  async function replayOne(file: string, port: string, microflow: string, outPort: string, name: string): Promise<{ sent: Uint8Array; frame: Buffer; caplen: number }> {
    const sc = loadNetworkFile(file);
    if (!sc.ok) throw new Error("scenario");
    const c = compileNetwork(sc.value.network);
    if (!c.ok) throw new Error("compile");
    const mf = compileMicroflow(c.value.program, undefined, microflow);
    if (!mf.ok) throw new Error("microflow");
    const sent = frameFromKey(mf.value.key, { payload: new Uint8Array(16) });
    const w = new PcapWriter();
    for (let i = 0; i < 3; i++) w.writePacket(1_700_000_000, i, sent);
    const input = join(tmp, `${name}.pcap`);
    writeFileSync(input, w.toBytes());
    const dir = join(tmp, `${name}-out`);
    const r = await ovnsim(["replay", file, input, "--inject", port, "--out", dir]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const pcap = readdirSync(dir).find((f) => f.includes(outPort));
    expect(pcap, readdirSync(dir).join(", ")).toBeDefined();
    const bytes = readFileSync(join(dir, pcap!));
    // The first record's frame, after the 24-byte file header and the 16-byte record header.
    return { sent, frame: bytes.subarray(40), caplen: bytes.readUInt32LE(32) };
  }

  it("--out writes a tagged localnet port's frames with their VLAN tag, as the provider network carries them", async () => {
    const net = join(ROOT, "scenarios/kube-ovn-underlay.yaml");
    const sc = loadNetworkFile(net);
    if (!sc.ok) throw new Error("scenario");
    // v1 (10.200.0.2) to u2 through the physical gateway: out localnet.vlan200 (tag 200).
    const probe = sc.value.probes.find((p) => p.name === "v1-to-u2-via-physical-gw")!;
    const { sent, frame, caplen } = await replayOne(net, "v1", probe.microflow, "localnet.vlan200", "underlay");
    // The MACs, then 802.1Q with VLAN 200, then IPv4, and one tag's bytes longer than was sent.
    expect([...frame.subarray(12, 18)]).toEqual([0x81, 0x00, 0x00, 0xc8, 0x08, 0x00]);
    expect(caplen).toBe(sent.length + 4);
  }, 60_000);

  it("--out writes an 802.1ad localnet port's frames with an 802.1ad tag (options:ethtype=802.11ad)", async () => {
    // app-1 (node1) to app-3 (node2): out ln-qinq, tag 100.
    const microflow = 'inport == "app-1" && eth.src == 00:00:00:17:00:02 && eth.dst == 00:00:00:17:00:04 && ip4.src == 172.17.0.2 && ip4.dst == 172.17.0.4 && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53';
    const { sent, frame, caplen } = await replayOne(join(ROOT, "fixtures/ovs/localnet-qinq.yaml"), "app-1", microflow, "ln-qinq", "qinq");
    expect([...frame.subarray(12, 18)]).toEqual([0x88, 0xa8, 0x00, 0x64, 0x08, 0x00]);
    expect(caplen).toBe(sent.length + 4);
  }, 60_000);

  it("--workers 2 gives the same verdicts as one worker", async () => {
    const one = join(tmp, "w1.json");
    const two = join(tmp, "w2.json");
    expect((await ovnsim(["replay", NET, capture, "--stats", one])).code).toBe(0);
    expect((await ovnsim(["replay", NET, capture, "--workers", "2", "--stats", two])).code).toBe(0);
    const a = JSON.parse(readFileSync(one, "utf8"));
    const b = JSON.parse(readFileSync(two, "utf8"));
    expect(b.packets.replayed).toBe(a.packets.replayed);
    expect(b.outputs).toEqual(a.outputs);
    expect(b.drops).toEqual(a.drops);
    expect(b.tunnels).toEqual(a.tunnels);
    expect(b.connections).toBe(a.connections);
  }, 120_000);

  it("--out with --workers 2 writes the same files, byte for byte, as one worker", async () => {
    const net = join(ROOT, "scenarios/network-policy.yaml");
    const numbered = join(tmp, "numbered-w.pcap");
    probeCapture(numbered, 20, true);
    const one = join(tmp, "out-w1");
    const two = join(tmp, "out-w2");
    expect((await ovnsim(["replay", net, numbered, "--out", one])).code).toBe(0);
    const r = await ovnsim(["replay", net, numbered, "--out", two, "--workers", "2"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const files = readdirSync(one).sort();
    // Ports, tunnels and drops, and no worker's directory left behind.
    expect(files).toContain("dropped.pcapng");
    expect(files.some((f) => f.startsWith("wire-"))).toBe(true);
    expect(readdirSync(two).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(readFileSync(join(one, f)), readFileSync(join(two, f))), f).toBe(0);
  }, 120_000);

  it("counts the fragments of datagrams that never complete: sent on after 15 s, held at the end", async () => {
    // client.default's UDP to coredns-2: a first fragment at 0 s, whole datagrams at 10 s and 20 s
    // (the fragment's list goes on with the second, from the ingress pipeline's conntrack, and the
    // egress pipeline's conntrack holds it again, as real OVS does), and the same fragment again at 30 s.
    const sc = loadNetworkFile(NET);
    const c = sc.ok ? compileNetwork(sc.value.network) : undefined;
    if (!sc.ok || !c?.ok) throw new Error("scenario");
    const probe = sc.value.probes.find((p) => p.name === "client-to-dns2-udp")!;
    const mf = compileMicroflow(c.value.program, undefined, probe.microflow);
    if (!mf.ok) throw new Error("microflow");
    const whole = frameFromKey(mf.value.key, { payload: new Uint8Array(32) });
    const first = frameFromKey(mf.value.key, { payload: new Uint8Array(1472) });
    first[14 + 6] = 0x20; // more fragments; the IP checksum is not checked
    const file = join(tmp, "fragments.pcap");
    const w = new PcapWriter();
    [first, whole, whole, first].forEach((f, i) => w.writePacket(1_700_000_000 + 10 * i, 0, f));
    writeFileSync(file, w.toBytes());
    const stats = join(tmp, "fragments.json");
    const r = await ovnsim(["replay", NET, file, "--inject", "client.default", "--stats", stats]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^IP fragments of datagrams that never completed: 2 held at the end, 1 sent on as invalid after 15 s, 0 deleted after 25 s$/m);
    expect((JSON.parse(readFileSync(stats, "utf8")) as { fragments: unknown }).fragments).toEqual({ held: 2, expired: 1, deleted: 0 });
    // Without the time limit the first list is still there at 30 s, and the same fragment again
    // overlaps it: invalid, not held.
    const off = await ovnsim(["replay", NET, file, "--inject", "client.default", "--no-ct-timeouts"]);
    expect(off.out).toMatch(/^IP fragments of datagrams that never completed: 1 held at the end, 0 sent on as invalid after 15 s, 0 deleted after 25 s$/m);
  }, 60_000);

  it("--recirc-depth: a packet that would nest a seventh recirculation is dropped as OVS's userspace datapath drops it; 0 lifts the limit", async () => {
    // fixtures/ovs/recirc-depth.yaml: a's UDP to lr1's VIP takes seven recirculations in OVS.
    const net = join(ROOT, "fixtures/ovs/recirc-depth.yaml");
    const sc = loadNetworkFile(net);
    if (!sc.ok) throw new Error("fixture");
    const c = compileNetwork(sc.value.network);
    if (!c.ok) throw new Error("compile");
    const mf = compileMicroflow(c.value.program, undefined, 'inport == "a" && eth.src == 00:00:00:01:00:0a && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.10 && ip4.dst == 10.96.0.1 && ip.ttl == 64 && udp && udp.src == 40000 && udp.dst == 80');
    if (!mf.ok) throw new Error("microflow");
    const w = new PcapWriter();
    w.writePacket(1_700_000_000, 0, frameFromKey(mf.value.key, { payload: new Uint8Array(12) }));
    const file = join(tmp, "recirc-depth.pcap");
    writeFileSync(file, w.toBytes());
    for (const cache of ["--cache", "--no-cache"]) {
      const limited = await ovnsim(["replay", net, file, "--inject", "a", cache]);
      expect(limited.code).toBe(0);
      expect(limited.out).toMatch(/^ +1 {2}recirc-depth \(more than 6 recirculations, OVS's userspace datapath\)$/m);
      expect(limited.out).not.toMatch(/node1 b$/m);
      const open = await ovnsim(["replay", net, file, "--inject", "a", cache, "--recirc-depth", "0"]);
      expect(open.code).toBe(0);
      expect(open.out).not.toMatch(/recirc-depth/);
      expect(open.out).toMatch(/^ +1 {2}node1 b$/m);
    }
  }, 60_000);

  it("--inject sends every packet in at one port", async () => {
    const r = await ovnsim(["replay", NET, capture, "--inject", "web-1.default", "--no-cache"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`packets: ${packets} read, ${packets} replayed`));
    const bad = await ovnsim(["replay", NET, capture, "--inject", "no-such-port"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--inject no-such-port: no such port/);
  }, 60_000);

  it("--save-map writes the mapping, which --map FILE replays the same; a bad mapping file is one line per problem", async () => {
    const saved = join(tmp, "map.yaml");
    const one = await ovnsim(["replay", NET, capture, "--save-map", saved]);
    expect(one.code).toBe(0);
    const text = readFileSync(saved, "utf8");
    expect(text).toMatch(/^# ovnsim replay mapping of .*probes\.pcap onto .*kube-ovn-default\.yaml \(\d+ of \d+ connections mapped\)\n/);
    expect(text).toMatch(/\nhosts:\n {2}10\.16\.0\.\d+: [a-z0-9.-]+\n/);
    const again = await ovnsim(["replay", NET, capture, "--map", saved]);
    expect(again.code).toBe(0);
    const body = (out: string): string => out.split("\n").slice(1).join("\n");
    expect(body(again.out)).toBe(body(one.out));
    // Two workers save the same plan.
    const saved2 = join(tmp, "map2.yaml");
    expect((await ovnsim(["replay", NET, capture, "--workers", "2", "--save-map", saved2])).code).toBe(0);
    expect(readFileSync(saved2, "utf8")).toBe(text);
    // A pod that is not there, and a server that is not a server: two lines, nothing replayed.
    const bad = join(tmp, "bad-map.yaml");
    writeFileSync(bad, text.replace(/^( {2}10\.16\.0\.\d+: ).*$/m, "$1no-such-pod").replace(/^servers:\n/m, "servers:\n  not-an-address: pod web-1.default\n"));
    const r = await ovnsim(["replay", NET, capture, "--map", bad]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/bad-map\.yaml:\d+:\d+: error: hosts\.10\.16\.0\.\d+: "no-such-pod" is not a pod of the network; pods: /);
    expect(lines[1]).toMatch(/bad-map\.yaml:\d+:3: error: servers: "not-an-address" is not a trace server/);
    // With workers, which find the problem themselves: the same lines, and no --out directory left.
    const w = await ovnsim(["replay", NET, capture, "--map", bad, "--workers", "2", "--out", join(tmp, "bad-map-out", "dir")]);
    expect(w.code).toBe(2);
    expect(w.err.trim().split("\n")).toEqual(lines);
    expect(readdirSync(tmp)).not.toContain("bad-map-out");
  }, 60_000);

  it("a capture that breaks mid-stream: exit 2, where it broke, and the statistics before it", async () => {
    const whole = readFileSync(capture);
    const cut = join(tmp, "cut.pcap");
    // Cut inside the 11th record: 24-byte file header, then records of 16 + length bytes.
    let off = 24;
    for (let i = 0; i < 10; i++) off += 16 + whole.readUInt32LE(off + 8);
    writeFileSync(cut, whole.subarray(0, off + 20));
    const r = await ovnsim(["replay", NET, cut, "--stats", join(tmp, "cut.json")]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/packets: 10 read/);
    expect(r.err).toMatch(/packet 11/);
    expect(r.err).toMatch(new RegExp(`${off}|0x${off.toString(16)}`));
    expect(r.err).not.toMatch(/\n\s+at /);
    const s = JSON.parse(readFileSync(join(tmp, "cut.json"), "utf8"));
    expect(s.packets.read).toBe(10);
    expect(s.error).toMatch(/packet 11/);
    // The file is named once; after a whole capture, the packet number counts both and the
    // record is numbered in its own file.
    expect(r.err.split(cut).length).toBe(2);
    const two = await ovnsim(["replay", NET, capture, cut]);
    expect(two.code).toBe(2);
    expect(two.out).toMatch(new RegExp(`packets: ${packets + 10} read`));
    expect(two.err).toMatch(new RegExp(`: packet ${packets + 11} \\(record 11 of this file\\): `));
  }, 60_000);

  it("output paths that cannot be written fail before the replay, with one line each", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "x");
    for (const [args, message] of [
      [["--out", file], /--out .*a-file: exists and is not a directory$/],
      [["--out", join(file, "sub", "dir")], /--out .*: .*a-file is not a directory$/],
      [["--stats", join(tmp, "absent-dir", "s.json")], /--stats .*: no such directory .*absent-dir$/],
      [["--stats", tmp], /--stats .*: is a directory; expected a file name$/],
    ] as const) {
      const r = await ovnsim(["replay", NET, capture, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.out, args.join(" ")).toBe("");
      expect(r.err.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.err.trim()).toMatch(message);
    }
    // A network that does not load leaves no output directory behind.
    const notANetwork = join(tmp, "list.yaml");
    writeFileSync(notANetwork, "- a\n");
    const r = await ovnsim(["replay", notANetwork, capture, "--out", join(tmp, "new-out", "dir")]);
    expect(r.code).toBe(2);
    expect(readdirSync(tmp)).not.toContain("new-out");
  }, 60_000);

  it("usage errors exit 2 with one line each, and nothing is replayed or written", async () => {
    const stats = join(tmp, "usage-stats.json");
    for (const args of [
      ["replay", NET, capture, "--inject", "web-1.default", "--map", "auto"],
      ["replay", NET, capture, "--workers", "0"],
      ["replay", NET, capture, "--workers", "65"],
      ["replay", NET, capture, "--emc-insert-inv-prob", "-1"],
      ["replay", NET, capture, "--recirc-depth", "-1"],
      ["replay", NET, capture, "--recirc-depth", "2.5"],
      ["replay", NET, capture, "--bogus"],
      ["replay", NET, capture, "--map", "other"],
      ["replay", NET, capture, "--map", tmp],
      ["replay", NET, capture, "--inject", "web-1.default", "--save-map", join(tmp, "m.yaml")],
      ["replay", NET, join(tmp, "absent.pcap")],
      ["replay", NET, "-"],
    ]) {
      const r = await ovnsim([...args, "--stats", stats]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(/^ovnsim: /);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out, args.join(" ")).toBe("");
      expect(readdirSync(tmp), args.join(" ")).not.toContain("usage-stats.json");
    }
  }, 60_000);
});
