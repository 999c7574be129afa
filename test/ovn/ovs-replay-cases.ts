/**
 * The replay oracle's test cases (scripts/ovs-replay.ts), shared by the test files that run them:
 * ovs-replay.test.ts (the first window of the bench capture on each network) and
 * ovs-replay-more.test.ts (its later windows, the other captures and the conversations), two
 * files so that the runner can run them side by side.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePhysical } from "../../src/compile/index.js";
import { ovsAvailable } from "../../src/ovn/index.js";
import { pushVlan } from "../../src/packet/index.js";
import { CHASSIS, PACKETS, compareOutputs, microflowFrames, oracleInputs, oracleName, ovnsimOutputs, pcapsDir, realOptions, realOutputs, recordingFile, type MicroflowPacket, type ReplayRecording } from "../../scripts/ovs-replay.js";

export const LIVE = ovsAvailable() && process.env.OVNSIM_NO_OVN !== "1";
/** The capture of an oracle, and whether it is at hand (the comparisons are skipped when not). */
function captureOf(scenario: string): { file: string; capture: string; have: boolean } {
  const capture = oracleName(scenario).capture;
  const file = join(pcapsDir(), capture);
  const have = existsSync(file);
  if (!have) console.warn(`ovs-replay: no capture ${file} (set OVNSIM_PCAPS); the comparisons of ${scenario} are skipped`);
  return { file, capture, have };
}
if (!LIVE) console.warn("ovs-replay: OVS/OVN not installed (or OVNSIM_NO_OVN=1); comparing with the recordings only");

/** An oracle's network and packets (scripts/ovs-replay.ts `oracleInputs`), or a thrown error. */
export function inputs(name: string) {
  const r = oracleInputs(name);
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

/** The logical program of a conversation's network on node1, the real chassis. */
export function node1Program(name: string) {
  const plan = compilePhysical(inputs(name).net);
  if (!plan.ok) throw new Error(plan.diags[0]!.message);
  return plan.value.chassis.get(CHASSIS)!.program;
}

/** A frame's digest, as the recordings keep it. */
export const digest = (f: Uint8Array): string => createHash("sha256").update(f).digest("hex").slice(0, 32);

/** The digests of the frames the bridged-redirect conversation's first four packets must give, built here. */
export function bridgedFrames(name: string, chassisMac: string | undefined): string[] {
  const program = node1Program(name);
  const gw = "00:00:00:ac:00:02";
  const out = `eth.src == ${chassisMac ?? gw} && eth.dst == ${gw} && ip4.src == 10.1.0.10 && ip.ttl == 63`;
  const want: MicroflowPacket[] = [
    { port: "a", match: `${out} && ip4.dst == 172.16.0.1 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 },
    { port: "a", match: `${out} && ip4.dst == 172.16.0.55 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2` },
    { port: "a", match: `${out} && ip4.dst == 8.8.8.8 && icmp4 && icmp4.type == 8 && icmp4.code == 0` },
    { port: "a", match: "eth.src == 00:00:00:01:00:01 && eth.dst == 00:00:00:01:00:0a && ip4.src == 10.1.0.1 && ip4.dst == 10.1.0.10 && ip.ttl == 254 && icmp4 && icmp4.type == 0 && icmp4.code == 0" },
  ];
  const f = microflowFrames(program, want);
  if (!f.ok) throw new Error(f.diags[0]!.message);
  return f.value.map((x, i) => digest(i < 3 ? pushVlan(x.frame, { pcp: 0, dei: false, vid: 100 }) : x.frame));
}

/** The tests of a capture oracle (`NETWORK[#CAPTURE][@N]`) against its recording. */
export function captureOracle(scenario: string): void {
  const rec = JSON.parse(readFileSync(recordingFile(scenario), "utf8")) as ReplayRecording;
  const { file, capture, have } = captureOf(scenario);

  describe(`replay of ${scenario} against real OVS, packet by packet`, () => {
    it("the recording has every packet, and most of them send something", () => {
      expect(rec.scenario).toBe(scenario);
      expect(rec.capture).toBe(capture);
      expect(rec.outputs.length).toBe(PACKETS);
      expect(rec.outputs.filter((o) => o.length > 0).length).toBeGreaterThan(PACKETS * 0.6);
      // Deliveries on node1, and packets that leave it: tunnelled to node2 or onto a provider
      // network (with node2 real too, each line starts with the chassis that sent it).
      const real = oracleName(scenario).chassis;
      const what = (l: string): string => (real.length > 1 ? l.slice(l.indexOf(" ") + 1) : l);
      expect(rec.outputs.some((o) => o.some((l) => what(l).startsWith("vif ")))).toBe(true);
      expect(rec.outputs.some((o) => o.some((l) => what(l).startsWith("tun ") || what(l).startsWith("wire ")))).toBe(true);
      if (real.length > 1) for (const c of real) expect(rec.outputs.some((o) => o.some((l) => l.startsWith(`${c} vif `))), `deliveries on ${c}`).toBe(true);
    });

    it.skipIf(!have)("is about the capture at hand", () => {
      expect(createHash("sha256").update(readFileSync(file)).digest("hex"), "a different capture: re-record with npx tsx scripts/ovs-replay.ts --record").toBe(rec.captureSha256);
    });

    it.skipIf(!have)("ovnsim sends, for each packet, what real OVS sent", () => {
      const { net, packets, chassis } = inputs(scenario);
      const sim = ovnsimOutputs(net, packets, { chassis });
      expect(sim.ok).toBe(true);
      if (!sim.ok) return;
      expect(compareOutputs(rec.outputs, sim.value)).toEqual([]);
    });

    it.skipIf(!have || !LIVE)("the recording is what real OVS sends now", async () => {
      const { net, packets } = inputs(scenario);
      const real = await realOutputs(net, packets, realOptions(scenario));
      expect(real.ok, real.ok ? "" : real.diags.map((d) => d.message).join("; ")).toBe(true);
      if (!real.ok) return;
      expect(compareOutputs(rec.outputs, real.value.outputs), "stale recording: run npx tsx scripts/ovs-replay.ts --record").toEqual([]);
      expect(real.value.tcpSeqCheckFailed).toBe(rec.tcpSeqCheckFailed);
    }, 120_000);
  });
}

/** The tests of a conversation against its recording; `check` says what the recording must show. */
export function conversation(name: string, check: { what: string; sane: (rec: ReplayRecording) => void }): void {
  describe(`${check.what} against real OVS, packet by packet`, () => {
    const rec = JSON.parse(readFileSync(recordingFile(name), "utf8")) as ReplayRecording;

    it("the recording shows what the conversation is about", () => check.sane(rec));

    it("ovnsim sends, for each packet, the frame real OVS sent", () => {
      const { net, packets, chassis } = inputs(name);
      const sim = ovnsimOutputs(net, packets, { chassis });
      expect(sim.ok).toBe(true);
      if (!sim.ok) return;
      expect(compareOutputs(rec.outputs, sim.value)).toEqual([]);
    });

    it("the slow path alone sends the same (no flow cache)", () => {
      const { net, packets, chassis } = inputs(name);
      const sim = ovnsimOutputs(net, packets, { cache: false, chassis });
      expect(sim.ok).toBe(true);
      if (!sim.ok) return;
      expect(compareOutputs(rec.outputs, sim.value)).toEqual([]);
    });

    it.skipIf(!LIVE)("the recording is what real OVS sends now", async () => {
      const { net, packets } = inputs(name);
      const real = await realOutputs(net, packets, realOptions(name));
      expect(real.ok, real.ok ? "" : real.diags.map((d) => d.message).join("; ")).toBe(true);
      if (!real.ok) return;
      expect(compareOutputs(rec.outputs, real.value.outputs), `stale recording: run npx tsx scripts/ovs-replay.ts --record ${name}`).toEqual([]);
    }, 180_000);
  });
}
