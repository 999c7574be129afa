/**
 * The replay oracle (scripts/ovs-replay.ts, recorded in fixtures/ovs/replay-*.json): a thousand
 * real packets that `--map auto` lays onto node1 of each network of its `ORACLES`, through
 * ovnsim's datapath and through real OVS, packet by packet.
 *
 * Always (with the shared captures): ovnsim sends, for every packet, what the recorded real OVS
 * sent: the same frames, byte for byte, on the same VIFs, and on the tunnel to node2 the same
 * inner frames between the same logical ports of the same datapath, including the packets that
 * OVS's conntrack finds outside their TCP window (network-policy has some), which both mark
 * invalid and drop. Where OVS/OVN are installed, the recordings are also checked against real
 * OVS now. Beside the capture, frame for frame the same way: two load-balancer hairpin
 * conversations (`hairpinPackets`), and ICMP errors and pings through a gateway router's NAT
 * (`icmpNatPackets`: the errors' quoted packets are translated too, byte for byte).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ovsAvailable } from "../../src/ovn/index.js";
import { FRAGMENT_EXPIRY, FRAGMENTS, HAIRPIN, ICMP_NAT, ORACLES, PORT_ZERO, TIMEOUTS, PACKETS, compareOutputs, oracleInputs, oracleName, ovnsimOutputs, pcapsDir, realOutputs, recordingFile, type ReplayRecording } from "../../scripts/ovs-replay.js";

const LIVE = ovsAvailable() && process.env.OVNSIM_NO_OVN !== "1";
/** The capture of an oracle, and whether it is at hand (the comparisons are skipped when not). */
function captureOf(scenario: string): { file: string; capture: string; have: boolean } {
  const capture = oracleName(scenario).capture;
  const file = join(pcapsDir(), capture);
  const have = existsSync(file);
  if (!have) console.warn(`ovs-replay: no capture ${file} (set OVNSIM_PCAPS); the comparisons of ${scenario} are skipped`);
  return { file, capture, have };
}
if (!LIVE) console.warn("ovs-replay: OVS/OVN not installed (or OVNSIM_NO_OVN=1); comparing with the recordings only");

function inputs(name: string) {
  const r = oracleInputs(name);
  if (!r.ok) throw new Error(r.diags[0]!.message);
  return r.value;
}

for (const scenario of ORACLES) {
  const rec = JSON.parse(readFileSync(recordingFile(scenario), "utf8")) as ReplayRecording;
  const { file: FILE, capture: CAPTURE, have: HAVE_CAPTURE } = captureOf(scenario);

  describe(`replay of ${scenario} against real OVS, packet by packet`, () => {
    it("the recording has every packet, and most of them send something", () => {
      expect(rec.scenario).toBe(scenario);
      expect(rec.capture).toBe(CAPTURE);
      expect(rec.outputs.length).toBe(PACKETS);
      expect(rec.outputs.filter((o) => o.length > 0).length).toBeGreaterThan(PACKETS * 0.6);
      // Deliveries on node1, and packets that leave it: tunnelled to node2 or onto a provider network.
      expect(rec.outputs.some((o) => o.some((l) => l.startsWith("vif ")))).toBe(true);
      expect(rec.outputs.some((o) => o.some((l) => l.startsWith("tun ") || l.startsWith("wire ")))).toBe(true);
    });

    it.skipIf(!HAVE_CAPTURE)("is about the capture at hand", () => {
      expect(createHash("sha256").update(readFileSync(FILE)).digest("hex"), "a different capture: re-record with npx tsx scripts/ovs-replay.ts --record").toBe(rec.captureSha256);
    });

    it.skipIf(!HAVE_CAPTURE)("ovnsim sends, for each packet, what real OVS sent", () => {
      const { net, packets } = inputs(scenario);
      const sim = ovnsimOutputs(net, packets);
      expect(sim.ok).toBe(true);
      if (!sim.ok) return;
      expect(compareOutputs(rec.outputs, sim.value)).toEqual([]);
    });

    it.skipIf(!HAVE_CAPTURE || !LIVE)("the recording is what real OVS sends now", () => {
      const { net, packets } = inputs(scenario);
      const real = realOutputs(net, packets);
      expect(real.ok, real.ok ? "" : real.diags.map((d) => d.message).join("; ")).toBe(true);
      if (!real.ok) return;
      expect(compareOutputs(rec.outputs, real.value.outputs), "stale recording: run npx tsx scripts/ovs-replay.ts --record").toEqual([]);
      expect(real.value.tcpSeqCheckFailed).toBe(rec.tcpSeqCheckFailed);
    }, 120_000);
  });
}

describe("the replay oracle's coverage", () => {
  it("holds packets that real OVS found outside their TCP window", () => {
    const failed = ORACLES.map((s) => (JSON.parse(readFileSync(recordingFile(s), "utf8")) as ReplayRecording).tcpSeqCheckFailed);
    expect(failed.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });
});

/** The conversations beside the capture, each with what its recording must show (so that it tests something). */
const CONVERSATION_CHECKS: Record<string, { what: string; sane: (rec: ReplayRecording) => void }> = {
  [HAIRPIN]: {
    what: "load-balancer hairpins (the SNAT to the VIP, the un-NAT of the replies)",
    sane: (rec) => {
      // Real OVS sent every packet back to web-1.default.
      expect(rec.outputs.length).toBe(16);
      for (const o of rec.outputs) expect(o.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["vif web-1.default"]);
    },
  },
  [ICMP_NAT]: {
    what: "ICMP through NAT (errors and their quoted packets translated back, pings by identifier)",
    sane: (rec) => {
      // Where real OVS sent each packet: the errors about translated connections reach the pods that
      // made them, the unrelated error and the unanswered reply go nowhere, the ping from outside
      // with a pod's identifier is the router's to answer.
      const where = rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, 2).join(" ")).join(","));
      expect(where).toEqual(["vif upstream", "vif vm-g3", "vif vm-g3", "", "vif upstream", "vif vm-g2", "vif upstream", "vif vm-g1", "", "vif upstream", "vif vm-g1", "vif upstream"]);
    },
  },
  [FRAGMENTS]: {
    what: "IPv4 fragments through stateful ACLs (held until their datagram completes)",
    sane: (rec) => {
      // Real OVS sent a datagram's fragments all at once, when the last one came (packets 2, 4, 10);
      // nothing of the datagram that never completed (5), of the one with a short fragment (6, 7),
      // nor of the TCP one whose later fragment the port ACL refused (11, 12).
      const sent = rec.outputs.map((o) => o.length);
      expect(sent).toEqual([0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0]);
    },
  },
  [FRAGMENT_EXPIRY]: {
    what: "IPv4 fragment lists that never complete (sent on as invalid after 15 s, deleted after 25 s)",
    sane: (rec) => {
      // Real OVS sent the held first fragment (packet 0) to node2 with packet 3, the first packet
      // through conntrack after its list's 15 s (packet 2 came at exactly 15 s), and the later
      // fragment (4) with packet 6; the list of packet 5 was 25 s old at packet 7 and was deleted.
      const frames = rec.outputs.map((o) => o.length);
      expect(frames).toEqual([0, 1, 1, 2, 0, 0, 2, 1, 1]);
      expect(rec.outputs[3]!.filter((l) => l.startsWith("tun web-1.frontend>web-2.frontend"))).toHaveLength(1);
      expect(rec.outputs[6]!.filter((l) => l.startsWith("tun web-1.frontend>web-2.frontend"))).toHaveLength(1);
    },
  },
  [PORT_ZERO]: {
    what: "TCP and UDP with port 0 (invalid to OVS's conntrack)",
    sane: (rec) => {
      // Real OVS dropped UDP from port 0, UDP to port 0 and a TCP SYN from port 0, and sent on the
      // same UDP and TCP with ports.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "", "", "other-1.default", "other-1.default"]);
    },
  },
  [TIMEOUTS]: {
    what: "connections expiring by OVS's default timeouts (on a stopped and warped clock)",
    sane: (rec) => {
      // Real OVS refused other-1's packet once its connection had expired (3: 30 s after a reply;
      // 8: 60 s, then 30 s; 17: 30 s after the TCP close), and let through every other one.
      const sent = rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","));
      const api = "api-1.backend";
      const other = "other-1.default";
      expect(sent).toEqual([other, api, api, "", other, api, other, api, "", other, api, other, api, other, api, other, api, ""]);
    },
  },
};

for (const [name, check] of Object.entries(CONVERSATION_CHECKS)) {
  describe(`${check.what} against real OVS, packet by packet`, () => {
    const rec = JSON.parse(readFileSync(recordingFile(name), "utf8")) as ReplayRecording;

    it("the recording shows what the conversation is about", () => check.sane(rec));

    it("ovnsim sends, for each packet, the frame real OVS sent", () => {
      const { net, packets } = inputs(name);
      const sim = ovnsimOutputs(net, packets);
      expect(sim.ok).toBe(true);
      if (!sim.ok) return;
      expect(compareOutputs(rec.outputs, sim.value)).toEqual([]);
    });

    it.skipIf(!LIVE)("the recording is what real OVS sends now", () => {
      const { net, packets } = inputs(name);
      const real = realOutputs(net, packets);
      expect(real.ok, real.ok ? "" : real.diags.map((d) => d.message).join("; ")).toBe(true);
      if (!real.ok) return;
      expect(compareOutputs(rec.outputs, real.value.outputs), `stale recording: run npx tsx scripts/ovs-replay.ts --record ${name}`).toEqual([]);
    }, 120_000);
  });
}
