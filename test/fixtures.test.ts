/**
 * The generated fixtures: the committed bytes are what scripts/fixtures.ts makes (so they cannot
 * drift from their documented contents), and tshark, an independent decoder, reads OVN's Geneve
 * option, the VNI and the provider VLAN as the generator meant them.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { TEACHING, allFixtures } from "../scripts/fixtures.js";

const ROOT = resolve(import.meta.dirname, "..");
const haveTshark = spawnSync("tshark", ["--version"]).status === 0 && process.env.OVNSIM_NO_TSHARK !== "1";

describe("generated fixtures", () => {
  it.each(Object.entries(allFixtures()))("%s is up to date (npx tsx scripts/make-fixtures.ts)", (rel, bytes) => {
    const committed = new Uint8Array(readFileSync(resolve(ROOT, "fixtures", rel)));
    expect(committed.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(committed), Buffer.from(bytes))).toBe(0);
  });

  it.skipIf(!haveTshark)("tshark decodes the overlay capture's Geneve option and the underlay VLAN", () => {
    const out = execFileSync("tshark", ["-r", resolve(ROOT, "fixtures/pcap/ovn-overlay-pod2pod.pcapng"), "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "geneve.vni", "-e", "geneve.option.class", "-e", "geneve.option.type", "-e", "geneve.option.unknown.data", "-e", "vlan.id", "-e", "ip.src"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const rows = out.trimEnd().split("\n").map((l) => l.split("|"));
    const wire = rows.filter((r) => r[0] === "node1<->node2 geneve");
    expect(wire.length).toBe(10);
    for (const [, vni, cls, type, data, , ipSrc] of wire) {
      expect(Number(vni)).toBe(TEACHING.datapathKey);
      expect(cls).toBe("0x0102");
      expect(type).toBe("0x80");
      const value = parseInt(data!.replace(/:/g, ""), 16);
      // Outer source node1 carries pod-a -> pod-b (in 2, out 3); node2 the reverse.
      const fromNode1 = ipSrc!.startsWith("192.168.0.11");
      expect(value >>> 16).toBe(fromNode1 ? TEACHING.podA.portKey : TEACHING.podB.portKey);
      expect(value & 0xffff).toBe(fromNode1 ? TEACHING.podB.portKey : TEACHING.podA.portKey);
    }
    const underlay = rows.filter((r) => r[0] === "net1 vlan 100");
    expect(underlay.map((r) => r[5])).toEqual(["100", "100"]);
    expect(underlay.every((r) => r[1] === "")).toBe(true);
  });
});
