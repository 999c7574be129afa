/**
 * `replay --out`: every port and wire gets a file of its own, also where the readable names of
 * two would be the same (a character replaced in a name, or a chassis and port that join into the
 * name of another chassis and port). A broadcast floods to every port of a switch whose names
 * clash in both ways; each port's file must hold its own copies and nobody else's.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileNetwork, compileMicroflow } from "../../src/compile/index.js";
import { frameFromKey } from "../../src/flow/index.js";
import { PcapWriter, openCapture } from "../../src/pcap/index.js";
import { OutDir, Replayer, injectAt, outFileName } from "../../src/replay/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";

const tmp = mkdtempSync(join(tmpdir(), "ovnsim-out-names-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NET = `
name: clashing-names
chassis:
  - {name: hv, hostname: hv, encaps: [{type: geneve, ip: 192.168.1.1}]}
  - {name: hv-1, hostname: hv-1, encaps: [{type: geneve, ip: 192.168.1.2}]}
  - {name: hv-1-x, hostname: hv-1-x, encaps: [{type: geneve, ip: 192.168.1.3}]}
  - {name: hv-1-x-y, hostname: hv-1-x-y, encaps: [{type: geneve, ip: 192.168.1.4}]}
switches:
  - name: ls
    ports:
      - {name: src, addresses: ["00:00:00:00:00:01 10.0.0.1"], chassis: hv}
      - {name: 1-a, addresses: ["00:00:00:00:00:02 10.0.0.2"], chassis: hv}
      - {name: a, addresses: ["00:00:00:00:00:03 10.0.0.3"], chassis: hv-1}
      - {name: x/y, addresses: ["00:00:00:00:00:04 10.0.0.4"], chassis: hv}
      - {name: "x:y", addresses: ["00:00:00:00:00:05 10.0.0.5"], chassis: hv}
      - {name: b, addresses: ["00:00:00:00:00:06 10.0.0.6"], chassis: hv-1-x}
      - {name: c, addresses: ["00:00:00:00:00:07 10.0.0.7"], chassis: hv-1-x-y}
`;

describe("replay --out file names", () => {
  it("keeps a readable name where no other port or wire can have it", () => {
    const none = new Set<string>();
    expect(outFileName("port", ["kube-ovn-worker", "web-1.default"], new Set(["kube-ovn-worker", "kube-ovn-control-plane"]), new Set(["web-1.default"]))).toBe("port-kube-ovn-worker-web-1.default");
    const hv = new Set(["hv"]);
    expect(outFileName("port", ["web-1.default"], none, none)).toBe("port-web-1.default");
    expect(outFileName("port", ["hv", "x/y"], hv, none)).toMatch(/^port-hv-x_y~[0-9a-f]{8}$/);
    // The suffix depends on the names alone.
    expect(outFileName("port", ["hv", "x/y"], new Set(["hv", "other"]), none)).toBe(outFileName("port", ["hv", "x/y"], hv, none));
    expect(outFileName("port", ["hv", "x/y"], hv, none)).not.toBe(outFileName("port", ["hv", "x:y"], hv, none));
    // Wires between chassis a-b and c, and between a and b-c.
    const chassis = new Set(["a-b", "c", "a", "b-c"]);
    const one = outFileName("wire", ["a-b", "c"], chassis, chassis);
    const two = outFileName("wire", ["a", "b-c"], chassis, chassis);
    expect(one).toMatch(/^wire-a-b-c~[0-9a-f]{8}$/);
    expect(two).toMatch(/^wire-a-b-c~[0-9a-f]{8}$/);
    expect(one).not.toBe(two);
    expect(outFileName("wire", ["a", "c"], chassis, chassis)).toBe("wire-a-c");
  });

  it("gives every egress port and wire its own file, holding exactly its packets", () => {
    const sc = loadNetworkText(NET, "clashing-names.yaml");
    expect(sc.ok, sc.ok ? "" : sc.diags.map((d) => d.message).join("; ")).toBe(true);
    if (!sc.ok) return;
    const c = compileNetwork(sc.value.network);
    if (!c.ok) throw new Error("compile");
    // Broadcast ARP requests for an address nobody has: flooded to every port but the sender's.
    const mf = compileMicroflow(c.value.program, undefined, 'inport == "src" && eth.src == 00:00:00:00:00:01 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:00:00:01 && arp.spa == 10.0.0.1 && arp.tpa == 10.0.0.99');
    expect(mf.ok).toBe(true);
    if (!mf.ok) return;
    const w = new PcapWriter();
    const sent = 3;
    for (let i = 0; i < sent; i++) w.writePacket(1_700_000_000 + i, 0, frameFromKey(mf.value.key));
    const bytes = w.toBytes();
    const r = new Replayer(sc.value.network, { cache: {} });
    const dir = join(tmp, "out");
    mkdirSync(dir);
    const out = new OutDir(dir, r);
    const report = r.run([{ file: "arp.pcap", bytes }], injectAt(r, "src"), out);
    expect(out.close()).toBeUndefined();
    // What the report says went where: each (chassis, port) and each wire a count.
    const outputs = Object.entries(report.stats.outputs);
    const wires = Object.entries(report.stats.tunnels);
    expect(outputs.map(([k]) => k).sort()).toEqual(["hv 1-a", "hv x/y", "hv x:y", "hv-1 a", "hv-1-x b", "hv-1-x-y c"].sort());
    const files = readdirSync(dir).filter((f) => f.endsWith(".pcap"));
    expect(files).toHaveLength(outputs.length + wires.length);
    const records = (f: string): number => {
      const rd = openCapture(readFileSync(join(dir, f)), f);
      if (!rd.ok) throw new Error(f);
      let n = 0;
      while (rd.value.next()) n++;
      return n;
    };
    for (const f of files) expect(records(f), f).toBe(sent);
    for (const [k, n] of outputs) expect(n, k).toBe(sent);
    // The readable part is there, with a suffix only where the name clashes.
    expect(files.filter((f) => f.startsWith("port-hv-1-a~"))).toHaveLength(2);
    expect(files.filter((f) => f.startsWith("port-hv-x_y~"))).toHaveLength(2);
  });
});
