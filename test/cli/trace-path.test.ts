/**
 * `ovnsim trace` across chassis, end to end through the CLI (in-process): the hop list, the pcapng
 * of `--pcap-out` cross-checked against the text, `--format mermaid`, `--physical`, and the
 * errors (exit 2, one line each).
 *
 * The pcapng is read back twice: with this project's pcapng reader and packet decoder, always; and
 * with `tshark`, an independent decoder, when it is on PATH (skipped with a printed reason when it
 * is not). Both must agree with what the text trace of the same run reports on its "wire" lines:
 * one capture interface per wire, the encapsulation's outer addresses, VNI and OVN Geneve option,
 * or the VLAN id, and the inner addresses.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatIpv4, getU32 } from "../../src/base/index.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { compileNetwork } from "../../src/compile/index.js";
import { decodeFrame, findLayer, type Decoded } from "../../src/packet/index.js";
import { openCapture } from "../../src/pcap/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const SCEN = resolve(import.meta.dirname, "../../scenarios");
const TMP = mkdtempSync(join(tmpdir(), "ovnsim-trace-path-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const haveTshark = spawnSync("tshark", ["-v"]).status === 0;
if (!haveTshark) console.warn("trace-path.test: tshark is not on PATH; the Wireshark cross-check of --pcap-out is skipped (the project's own reader still checks it)");

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** The one line of an error: exit 2 and a single `ovnsim: ...` line on stderr. */
function oneLine(r: { code: number; err: string }): string {
  expect(r.code).toBe(2);
  const lines = r.err.trim().split("\n");
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^ovnsim: /);
  return lines[0]!;
}

// ---------------------------------------------------------------------------------------------
// What the text says about each wire

interface WireFacts {
  /** The capture interface name the wire should have: `geneve node1-node2`, `provider vlan 200`. */
  readonly iface: string;
  readonly type: "geneve" | "vxlan" | "vlan";
  readonly outerSrc?: string;
  readonly outerDst?: string;
  readonly vni?: number;
  readonly inport?: number;
  readonly outport?: number;
  readonly vlan?: number;
  /** IPv4 source and destination of each IP header on the wire, outermost first. */
  readonly ips: readonly (readonly [string, string])[];
}

const IP4 = String.raw`\d+\.\d+\.\d+\.\d+`;

/** Parses the hop list's wire lines and the packet line below each. */
function textWires(out: string): WireFacts[] {
  const path = out.slice(out.indexOf("Path across chassis and wires:"));
  expect(path.length, "no hop list").toBeGreaterThan(0);
  const lines = path.split("\n");
  const wires: WireFacts[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*\d+\. wire (.+?) -> (.+?): (.*?)(?: \(from hop \d+\))?$/.exec(line);
    if (!m) return;
    const [, from, to, facts] = m as unknown as [string, string, string, string];
    const pkt = lines[i + 1] ?? "";
    const ips = [...pkt.matchAll(new RegExp(`IPv4 (${IP4})(?:\\.\\d+)? > (${IP4})(?:\\.\\d+)?:`, "g"))].map((x) => [x[1]!, x[2]!] as const);
    let g = new RegExp(`^Geneve (${IP4}) -> (${IP4}), VNI (\\d+) .*ingress port (\\d+) .*egress port (\\d+)`).exec(facts);
    if (g) {
      wires.push({ iface: `geneve ${from}-${to}`, type: "geneve", outerSrc: g[1]!, outerDst: g[2]!, vni: Number(g[3]), inport: Number(g[4]), outport: Number(g[5]), ips });
      return;
    }
    g = new RegExp(`^VXLAN (${IP4}) -> (${IP4}), VNI (\\d+) \\(datapath (\\d+) .*egress port (\\d+) `).exec(facts);
    if (g) {
      wires.push({ iface: `vxlan ${from}-${to}`, type: "vxlan", outerSrc: g[1]!, outerDst: g[2]!, vni: Number(g[3]), outport: Number(g[5]), ips });
      return;
    }
    g = /^(\S+): 802\.1Q VLAN (\d+), no tunnel$/.exec(facts);
    if (g) {
      wires.push({ iface: `${g[1]} vlan ${g[2]}`, type: "vlan", vlan: Number(g[2]), ips });
      return;
    }
    throw new Error(`unparsed wire line: ${line}`);
  });
  return wires;
}

// ---------------------------------------------------------------------------------------------
// What the pcapng holds

interface CapturedPacket {
  readonly iface: string;
  readonly frame: Uint8Array;
}

function readPcapng(path: string): CapturedPacket[] {
  const bytes = new Uint8Array(readFileSync(path));
  const r = openCapture(bytes, path);
  if (!r.ok) throw new Error(JSON.stringify(r.diags));
  const c = r.value;
  expect(c.format).toBe("pcapng");
  const out: CapturedPacket[] = [];
  while (c.next()) {
    out.push({ iface: c.interfaces[c.interfaceId]?.name ?? "?", frame: c.data.slice(c.offset, c.offset + c.caplen) });
    expect(c.caplen).toBe(c.origlen);
  }
  expect(c.error).toBeUndefined();
  return out;
}

/** The facts of one captured wire packet, from this project's decoder. */
function decodedFacts(p: CapturedPacket): Omit<WireFacts, "type"> & { type: string } {
  const d: Decoded = decodeFrame(p.frame, 0, p.frame.length, 1);
  expect(d.truncated).toBe(false);
  expect(d.issues).toEqual([]);
  const ips = d.layers.filter((l) => l.kind === "ipv4").map((l) => (l.kind === "ipv4" ? ([formatIpv4(l.repr.src), formatIpv4(l.repr.dst)] as const) : (["", ""] as const)));
  const gen = findLayer(d.layers, "geneve");
  const vx = findLayer(d.layers, "vxlan");
  const vlan = findLayer(d.layers, "vlan");
  if (gen) {
    const opt = gen.repr.options.find((o) => o.optClass === 0x0102 && o.type === 0x80);
    const v = opt && opt.data.length === 4 ? getU32(opt.data, 0) : -1;
    return { iface: p.iface, type: "geneve", outerSrc: ips[0]![0], outerDst: ips[0]![1], vni: gen.repr.vni, inport: (v >>> 16) & 0x7fff, outport: v & 0xffff, ips };
  }
  if (vx) return { iface: p.iface, type: "vxlan", outerSrc: ips[0]![0], outerDst: ips[0]![1], vni: vx.repr.vni, outport: ((vx.repr.vni >>> 12) & 0xfff), ips };
  if (vlan) return { iface: p.iface, type: "vlan", vlan: vlan.repr.vid, ips };
  return { iface: p.iface, type: "none", ips };
}

interface TsharkRow {
  readonly iface: string;
  readonly geneveVni: string;
  readonly vxlanVni: string;
  readonly vlanId: string;
  readonly ipSrc: string;
  readonly ipDst: string;
  readonly optClass: string;
  readonly optType: string;
  readonly optData: string;
}

function tsharkRows(path: string): TsharkRow[] {
  const fields = ["frame.interface_name", "geneve.vni", "vxlan.vni", "vlan.id", "ip.src", "ip.dst", "geneve.option.class", "geneve.option.type", "geneve.option.unknown.data"];
  const r = spawnSync("tshark", ["-n", "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,", ...fields.flatMap((f) => ["-e", f])], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [iface, geneveVni, vxlanVni, vlanId, ipSrc, ipDst, optClass, optType, optData] = l.split("|") as [string, string, string, string, string, string, string, string, string];
      return { iface, geneveVni, vxlanVni, vlanId, ipSrc, ipDst, optClass, optType, optData };
    });
}

// ---------------------------------------------------------------------------------------------

const pcapCases = [
  { name: "Geneve (kube-ovn-cluster)", file: "kube-ovn-cluster.yaml", from: "web-1.default", to: "web-3.default", type: "geneve", wires: 1 },
  { name: "VXLAN (kube-ovn-vxlan)", file: "kube-ovn-vxlan.yaml", from: "web-1.default", to: "web-3.default", type: "vxlan", wires: 1 },
  { name: "VLAN (kube-ovn-underlay v1 -> u2)", file: "kube-ovn-underlay.yaml", from: "v1", to: "u2", type: "vlan", wires: 2 },
] as const;

describe.each(pcapCases)("--pcap-out: $name", (c) => {
  const pcap = join(TMP, `${c.type}.pcapng`);
  let text: { code: number; out: string; err: string } | undefined;
  const runOnce = async () => (text ??= await cli(["trace", join(SCEN, c.file), "--from", c.from, "--to", c.to, "--tcp", "80", "--pcap-out", pcap]));

  it("writes one packet per VIF and wire, in hop order, that the text's wire lines describe (own reader)", async () => {
    const r = await runOnce();
    expect(r.code, r.err).toBe(0);
    const wires = textWires(r.out);
    expect(wires).toHaveLength(c.wires);
    expect(wires.every((w) => w.type === c.type)).toBe(true);
    const pkts = readPcapng(pcap);
    expect(r.err).toContain(`wrote ${pkts.length} packets to ${pcap}`);
    expect(pkts[0]!.iface).toBe(`vif ${c.from}`);
    expect(pkts.at(-1)!.iface).toBe(`vif ${c.to}`);
    const onWire = pkts.filter((p) => !p.iface.startsWith("vif "));
    expect(onWire).toHaveLength(wires.length);
    onWire.forEach((p, i) => {
      const w = wires[i]!;
      expect(decodedFacts(p)).toEqual({ ...w });
    });
    // The VIF packets are plain frames: the sent one has the first wire's innermost addresses,
    // the delivered one the last wire's.
    const vifs = pkts.filter((x) => x.iface.startsWith("vif ")).map(decodedFacts);
    expect(vifs.map((f) => f.type)).toEqual(vifs.map(() => "none"));
    expect(vifs[0]!.ips).toEqual([wires[0]!.ips.at(-1)]);
    expect(vifs.at(-1)!.ips).toEqual([wires.at(-1)!.ips.at(-1)]);
  });

  it.skipIf(!haveTshark)("tshark reads the same interfaces, VNIs, Geneve options, VLAN ids and addresses", async () => {
    const r = await runOnce();
    expect(r.code, r.err).toBe(0);
    const wires = textWires(r.out);
    const rows = tsharkRows(pcap).filter((x) => !x.iface.startsWith("vif "));
    expect(rows).toHaveLength(wires.length);
    rows.forEach((row, i) => {
      const w = wires[i]!;
      expect(row.iface).toBe(w.iface);
      expect(row.ipSrc.split(",")).toEqual(w.ips.map((x) => x[0]));
      expect(row.ipDst.split(",")).toEqual(w.ips.map((x) => x[1]));
      switch (w.type) {
        case "geneve": {
          expect(Number(row.geneveVni)).toBe(w.vni);
          expect(row.vxlanVni).toBe("");
          expect(Number(row.optClass)).toBe(0x0102);
          expect(Number(row.optType)).toBe(0x80);
          const v = parseInt(row.optData, 16);
          expect([(v >>> 16) & 0x7fff, v & 0xffff]).toEqual([w.inport, w.outport]);
          expect(w.ips[0]).toEqual([w.outerSrc, w.outerDst]);
          break;
        }
        case "vxlan":
          expect(Number(row.vxlanVni)).toBe(w.vni);
          expect(row.geneveVni).toBe("");
          expect((Number(row.vxlanVni) >>> 12) & 0xfff).toBe(w.outport);
          expect(w.ips[0]).toEqual([w.outerSrc, w.outerDst]);
          break;
        case "vlan":
          expect(Number(row.vlanId)).toBe(w.vlan);
          expect(row.geneveVni + row.vxlanVni).toBe("");
          break;
        default: {
          const _never: never = w.type;
          return _never;
        }
      }
    });
  });
});

describe("--pcap-out: the text's VNI and ports are the compiled program's keys", () => {
  it("Geneve VNI = ovn-default's key; option = web-1.default's key and web-3.default's key", async () => {
    const file = join(SCEN, "kube-ovn-cluster.yaml");
    const loaded = loadNetworkFile(file);
    if (!loaded.ok) throw new Error("load");
    const compiled = compileNetwork(loaded.value.network);
    if (!compiled.ok) throw new Error("compile");
    const p = compiled.value.program;
    const r = await cli(["trace", file, "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80"]);
    expect(r.code, r.err).toBe(0);
    const [w] = textWires(r.out);
    expect(w).toMatchObject({ vni: p.datapathByName.get("ovn-default"), inport: p.portByName.get("web-1.default")!.key, outport: p.portByName.get("web-3.default")!.key, outerSrc: "192.168.0.11", outerDst: "192.168.0.12" });
  });
});

describe("--format mermaid", () => {
  it("prints a sequence diagram with the chassis as participants and the wire as a message", async () => {
    const r = await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--format", "mermaid"]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toBe("sequenceDiagram");
    const participants = new Map<string, string>();
    for (const l of lines) {
      const m = /^\s+participant (\S+) as (.+)$/.exec(l);
      if (m) participants.set(m[2]!, m[1]!);
    }
    const n1 = participants.get("chassis node1");
    const n2 = participants.get("chassis node2");
    expect(n1).toBeDefined();
    expect(n2).toBeDefined();
    expect(participants.has("web-1.default")).toBe(true);
    expect(participants.has("web-3.default")).toBe(true);
    const wire = lines.find((l) => l.trim().startsWith(`${n1}->>${n2}:`));
    expect(wire, r.out).toBeDefined();
    expect(wire).toMatch(/: Geneve 192\.168\.0\.11\b.*\b192\.168\.0\.12, VNI \d+/);
    // Delivered by node2 to the pod; no logical trace text around the diagram.
    expect(lines.some((l) => l.trim() === `${n2}->>${participants.get("web-3.default")}: delivered`)).toBe(true);
    expect(r.out).not.toContain("ingress(dp=");
  });
});

describe("--physical", () => {
  it("shows tables 0 and 39 on the sending chassis and 0, 40, 65 on the receiving one (OVN 23.03.1's numbers)", async () => {
    const r = await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--physical"]);
    expect(r.code, r.err).toBe(0);
    const section = r.out.slice(r.out.indexOf("Physical flows, per chassis:"));
    expect(section).not.toBe("");
    const blocks = new Map<string, { hop: number; tables: number[]; lines: string[] }>();
    let cur: { hop: number; tables: number[]; lines: string[] } | undefined;
    for (const l of section.split("\n")) {
      const h = /^hop (\d+), chassis (\S+): bridge\("br-int"\)$/.exec(l);
      if (h) {
        cur = { hop: Number(h[1]), tables: [], lines: [] };
        blocks.set(h[2]!, cur);
        continue;
      }
      if (l.startsWith("Logical pipelines")) break;
      const t = /^\s+(\d+)\. /.exec(l);
      if (t && cur) cur.tables.push(Number(t[1]));
      if (cur) cur.lines.push(l);
    }
    const send = blocks.get("node1");
    const recv = blocks.get("node2");
    expect(send?.tables).toEqual(expect.arrayContaining([0, 39]));
    expect(send?.tables).not.toContain(65);
    expect(recv?.tables).toEqual(expect.arrayContaining([0, 40, 65]));
    expect(recv?.tables).not.toContain(39);
    for (const b of [send!, recv!]) expect([...b.tables].sort((x, y) => x - y)).toEqual(b.tables);
    // Table 39 loads ovn-default's key into the tunnel id; table 65 outputs to the ofport the hop list names.
    const loaded = loadNetworkFile(join(SCEN, "kube-ovn-cluster.yaml"));
    if (!loaded.ok) throw new Error("load");
    const compiled = compileNetwork(loaded.value.network);
    if (!compiled.ok) throw new Error("compile");
    const dp = compiled.value.program.datapathByName.get("ovn-default")!;
    expect(send!.lines.join("\n")).toContain(`load:0x${dp.toString(16)}->NXM_NX_TUN_ID[0..23]`);
    const ofport = /delivered to web-3\.default on node2 \(ofport (\d+)\)/.exec(r.out)?.[1];
    expect(ofport).toBeDefined();
    const t65 = recv!.lines.findIndex((l) => /^\s+65\. /.test(l));
    expect(recv!.lines[t65 + 1]).toMatch(new RegExp(`output:${ofport}$`));
    // Each chassis's logical pipelines follow, under the hop that ran them.
    expect(r.out).toContain(`Logical pipelines on chassis node1 (hop ${send!.hop}):`);
    expect(r.out).toContain(`Logical pipelines on chassis node2 (hop ${recv!.hop}):`);
  });
});

describe("errors: exit 2 with one clear line", () => {
  const noChassis = join(TMP, "no-chassis.yaml");
  writeFileSync(
    noChassis,
    `name: flat
switches:
  - name: sw0
    ports:
      - {name: p1, addresses: ["00:00:00:00:00:01 10.0.0.1"]}
      - {name: p2, addresses: ["00:00:00:00:00:02 10.0.0.2"]}
`,
  );
  const vxlanLimit = join(TMP, "vxlan-limit.yaml");
  writeFileSync(
    vxlanLimit,
    `name: limits
chassis:
  - {name: hv1, encaps: [{type: vxlan, ip: 192.0.2.1}]}
  - {name: hv2, encaps: [{type: vxlan, ip: 192.0.2.2}]}
switches:
  - name: sw0
    tunnelKey: 5000
    ports:
      - {name: p1, addresses: ["00:00:00:00:00:01 10.0.0.1"], chassis: hv1}
      - {name: p2, addresses: ["00:00:00:00:00:02 10.0.0.2"], chassis: hv2}
`,
  );

  it("--physical from a port in a network without chassis", async () => {
    const plain = await cli(["trace", noChassis, "--from", "p1", "--to", "p2", "--udp", "53"]);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).not.toContain("Path across chassis");
    const line = oneLine(await cli(["trace", noChassis, "--from", "p1", "--to", "p2", "--udp", "53", "--physical"]));
    expect(line).toMatch(/p1/);
    expect(line).toMatch(/bound to a chassis/);
  });

  it("--physical from a port that is not a VIF (a localnet port)", async () => {
    const mf = 'inport == "localnet.vlan100" && eth.src == 00:00:5e:00:01:64 && eth.dst == 00:00:00:0a:64:02 && ip4.src == 10.200.0.3 && ip4.dst == 10.100.0.2 && ip.ttl == 63 && tcp && tcp.src == 80 && tcp.dst == 40031';
    const line = oneLine(await cli(["trace", join(SCEN, "kube-ovn-underlay.yaml"), mf, "--physical"]));
    expect(line).toMatch(/localnet\.vlan100/);
  });

  it("--json with --physical", async () => {
    const line = oneLine(await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--json", "--physical"]));
    expect(line).toMatch(/--json/);
    expect(line).toMatch(/--physical/);
  });

  it("a network beyond VXLAN's limits names the limit and the switch", async () => {
    const line = oneLine(await cli(["trace", vxlanLimit, "--from", "p1", "--to", "p2", "--udp", "53", "--physical"]));
    expect(line).toMatch(/4095/);
    expect(line).toMatch(/switches\[sw0\]/);
  });

  it("without --physical, the same network still gets its logical trace, with a note why the path is missing", async () => {
    const r = await cli(["trace", vxlanLimit, "--from", "p1", "--to", "p2", "--udp", "53"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/output\("p2"\)|ingress\(dp=/);
    expect(r.out).not.toContain("Path across chassis");
    expect(r.err).toMatch(/note: the path across chassis is not shown: .*4095/);
  });

  it("--pcap-out into a missing directory fails and creates nothing", async () => {
    const dir = join(TMP, "missing");
    const line = oneLine(await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--pcap-out", join(dir, "x.pcapng")]));
    expect(line).toContain(dir);
    expect(existsSync(dir)).toBe(false);
  });

  it("an existing output file is left whole: untouched on a usage error, replaced by a complete capture on success", async () => {
    const dir = join(TMP, "existing");
    mkdirSync(dir);
    const target = join(dir, "out.pcapng");
    const before = "not a capture, and it must survive a failed run\n";
    writeFileSync(target, before);
    const bad = await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--json", "--pcap-out", target]);
    oneLine(bad);
    expect(readFileSync(target, "utf8")).toBe(before);
    const good = await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "web-3.default", "--tcp", "80", "--pcap-out", target]);
    expect(good.code, good.err).toBe(0);
    expect(readPcapng(target)).toHaveLength(3);
    // No temporary file is left beside it.
    expect(readdirSync(dir)).toEqual(["out.pcapng"]);
  });
});
