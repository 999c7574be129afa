/**
 * `replay --map auto` on networks with a provider network: the hosts the mapper puts on a localnet
 * segment answer through the localnet port of the chassis their pod is on. The physical network
 * delivers a frame where its destination MAC lives; entered on another chassis, the frame would be
 * sent back out the localnet port it came in on, which OVN drops (the loopback check). Checked end
 * to end through the per-chassis datapaths: every TCP exchange with an external host is delivered
 * both ways, and nothing is dropped.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { OutputOp, PacketSink } from "../../src/dataplane/index.js";
import { field, frameFromKey, setField } from "../../src/flow/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { Replayer, mapInjector } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { tcpKey } from "../dataplane/build.js";

const SCENARIOS = resolve(import.meta.dirname, "../../scenarios");

function tcp(src: number, dst: number, sport: number, dport: number, flags: number): Uint8Array {
  const k = tcpKey(src, dst, sport, dport);
  setField(k, field("tcp_flags"), flags);
  return frameFromKey(k);
}

describe.each(["localnet-vlan", "kube-ovn-underlay"])("replay --map auto onto %s: external hosts on the provider network", (name) => {
  it("answer each pod through the localnet port of the pod's chassis, so every exchange is delivered both ways", () => {
    const sc = loadNetworkFile(join(SCENARIOS, `${name}.yaml`));
    expect(sc.ok, sc.ok ? "" : sc.diags.map((d) => d.message).join("; ")).toBe(true);
    if (!sc.ok) return;
    // 24 trace clients, each opening a connection to 24 servers (three-way handshakes): enough that
    // clients land on pods of every chassis and servers on the segment's external hosts.
    const w = new PcapWriter({ linkType: 1 });
    let t = 0;
    for (let c = 0; c < 24; c++) {
      for (let s = 0; s < 24; s++) {
        const client = 0xc0a80000 + c + 1;
        const server = 0xcb007100 + s + 1;
        const port = 30000 + c * 24 + s;
        w.writePacket(++t, 0, tcp(client, server, port, 443, 0x02));
        w.writePacket(++t, 0, tcp(server, client, 443, port, 0x12));
        w.writePacket(++t, 0, tcp(client, server, port, 443, 0x10));
      }
    }
    const capture = { file: "externals.pcap", bytes: w.toBytes() };
    const r = new Replayer(sc.value.network, { cache: {} });
    const inj = mapInjector(r, "auto", [capture]);
    const externals = new Set(inj.plan.entries.filter((e) => e.mapped.startsWith("external ")).map((e) => e.mapped.split(" ")[1]!.split(":")[0]!));
    const chassisOfPod = new Map<string, string>();
    for (const ls of sc.value.network.switches.values()) for (const p of ls.ports.values()) if (p.chassis !== undefined) chassisOfPod.set(p.name, p.chassis);

    // Where each packet enters, and where it leaves.
    let entered = -1;
    const deliveries: { entered: number; port: string; chassis: string }[] = [];
    const place = inj.place.bind(inj);
    const sink: PacketSink = {
      output: (chassis: string, op: OutputOp) => void deliveries.push({ entered, port: op.portName, chassis }),
      drop: () => {},
    };
    const rep = r.run([capture], { injections: inj.injections, place: (k) => (entered = place(k)), unplaced: () => inj.unplaced() }, sink);
    expect(rep.replayed).toBe(24 * 24 * 3);
    expect(rep.stats.drops).toEqual({});

    // Replies from external hosts: in at a localnet port, on the chassis of the pod they reach.
    const fromSegment = deliveries.filter((d) => inj.injections[d.entered]!.portName.startsWith("localnet"));
    expect(externals.size).toBeGreaterThan(0);
    expect(fromSegment.length).toBeGreaterThan(0);
    for (const d of fromSegment) {
      expect(chassisOfPod.has(d.port), `a reply from the segment reached ${d.port}, not a pod`).toBe(true);
      expect(inj.injections[d.entered]!.chassis, `reply to ${d.port}`).toBe(chassisOfPod.get(d.port));
      expect(d.chassis).toBe(chassisOfPod.get(d.port));
    }
    // Pods on more than one chassis received them (the case the per-chassis entry is for).
    expect(new Set(fromSegment.map((d) => d.chassis)).size).toBeGreaterThan(1);
  });
});
