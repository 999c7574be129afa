/**
 * `replay`'s conntrack timeouts on the captures' clock: the timeouts conversation of
 * scripts/ovs-replay.ts (connections through network-policy's stateful ACLs that expire, recorded
 * from real OVS on a stopped and warped clock) written as captures, each packet stamped with its
 * time, and replayed with `Replayer.run`. Where each packet goes must be where real OVS sent it:
 * from one capture, from two whose second starts before the first ended in absolute time (it
 * continues where the first ended), and with a packet stamped earlier than the one before it (it
 * happens at the same time as that one). Without timeouts, the three packets real OVS refused
 * because their connection had expired are delivered.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PacketSink } from "../../src/dataplane/index.js";
import { W } from "../../src/flow/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { Replayer, type Injector } from "../../src/replay/index.js";
import { TIMEOUTS, oracleNetwork, recordingFile, timeoutPackets, type OraclePacket, type ReplayRecording } from "../../scripts/ovs-replay.js";

const recording = JSON.parse(readFileSync(recordingFile(TIMEOUTS), "utf8")) as ReplayRecording;
/** Per packet, the ports real OVS sent it to. */
const wanted = recording.outputs.map((o) => o.map((l) => l.split(" ")[1]!).join(","));

function packets(): OraclePacket[] {
  const p = timeoutPackets();
  if (!p.ok) throw new Error(p.diags[0]!.message);
  return p.value;
}

/** A capture of `ps`, each stamped `base` + its time (+ `skew` ms for packet `skewAt`). */
function capture(ps: readonly OraclePacket[], base: number, skew?: { at: number; ms: number }): { file: string; bytes: Uint8Array } {
  const w = new PcapWriter();
  ps.forEach((p, i) => {
    const t = base + p.at! + (skew && skew.at === i ? skew.ms : 0);
    w.writePacket(Math.floor(t / 1000), (t % 1000) * 1e6, p.frame);
  });
  return { file: "timeouts.pcap", bytes: w.toBytes() };
}

/** Replays `captures`; returns, per packet, the ports it was sent to, and the report's connection counts. */
function replayCounting(captures: readonly { file: string; bytes: Uint8Array }[], ctTimeouts: boolean): { sent: string[]; created: number; expired: number; left: number } {
  const net = oracleNetwork("network-policy.yaml");
  if (!net.ok) throw new Error(net.diags[0]!.message);
  const r = new Replayer(net.value, { ctTimeouts });
  const ports = ["api-1.backend", "other-1.default"];
  const injections = ports.map((p) => r.injectionFor(p)!);
  const out: string[][] = [];
  // Each packet enters at the port of its source MAC address (the conversation's two pods).
  const injector: Injector = {
    injections,
    place: (key) => {
      out.push([]);
      return (key[W.ETH_SRC + 1]! & 0xff) === 0x20 ? 0 : 1;
    },
    unplaced: () => ({}),
  };
  const sink: PacketSink = {
    output: (chassis, op) => {
      if (chassis === "node1") out[out.length - 1]!.push(op.portName);
    },
    drop: () => {},
  };
  const rep = r.run(captures, injector, sink);
  expect(rep.error).toBeUndefined();
  return { sent: out.map((o) => o.sort().join(",")), created: rep.connectionsCreated, expired: rep.connectionsExpired, left: rep.connections };
}

function replay(captures: readonly { file: string; bytes: Uint8Array }[], ctTimeouts: boolean): string[] {
  return replayCounting(captures, ctTimeouts).sent;
}

describe("replay: conntrack timeouts on the captures' clock, against real OVS", () => {
  const ps = packets();
  const base = 1_700_000_000_000;

  it("sends every packet where real OVS sent it, from one capture", () => {
    expect(replay([capture(ps, base)], true)).toEqual(wanted);
  });

  it("runs a capture that starts before the previous one ended on from where that one ended", () => {
    // The second capture is stamped a day before the first, its own gaps kept.
    const cut = 9;
    const second = ps.slice(cut).map((p) => ({ ...p, at: p.at! - ps[cut]!.at! }));
    expect(replay([capture(ps.slice(0, cut), base), capture(second, base - 86_400_000 + ps[cut]!.at! - ps[cut - 1]!.at!)], true)).toEqual(wanted);
  });

  it("holds a packet stamped earlier than the one before it at that one's time", () => {
    // Packet 4 (api-1's new request, 119.1 s) stamped at the start: it happens at 119 s, with the
    // packet before it, and its connection lasts until other-1's reply at 119.2 s. Taken at its
    // stamp, the connection would have expired long before that reply.
    expect(replay([capture(ps, base, { at: 4, ms: -119_100 })], true)).toEqual(wanted);
  });

  it("counts the connections committed, expired and left", () => {
    // Each packet passes conntrack in the zones of both pods' ports, so each of the three expiries
    // real OVS showed is two connections; expired ones are made again. Nothing else ends a
    // connection here: what is left is what was committed less what expired.
    const on = replayCounting([capture(ps, base)], true);
    const off = replayCounting([capture(ps, base)], false);
    expect(off.expired).toBe(0);
    expect(off.left).toBe(off.created);
    expect(on.created).toBeGreaterThan(off.created);
    expect(on.expired).toBeGreaterThanOrEqual(6);
    expect(on.left).toBe(on.created - on.expired);
  });

  it("delivers what expired when timeouts are off", () => {
    const got = replay([capture(ps, base)], false);
    const differ = got.map((g, i) => (g === wanted[i] ? -1 : i)).filter((i) => i >= 0);
    expect(differ).toEqual([3, 8, 17]);
    for (const i of differ) expect(got[i]).toBe("api-1.backend");
  });
});
