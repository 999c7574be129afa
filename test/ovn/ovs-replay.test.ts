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
 * OVS now. This file: the first window of the bench capture on each network (`SCENARIOS`);
 * ovs-replay-more.test.ts: its later windows, the other captures and the conversations.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ORACLES, SCENARIOS, recordingFile, type ReplayRecording } from "../../scripts/ovs-replay.js";
import { captureOracle } from "./ovs-replay-cases.js";

for (const scenario of SCENARIOS) captureOracle(scenario);

describe("the replay oracle's coverage", () => {
  it("holds packets that real OVS found outside their TCP window", () => {
    const failed = ORACLES.map((s) => (JSON.parse(readFileSync(recordingFile(s), "utf8")) as ReplayRecording).tcpSeqCheckFailed);
    expect(failed.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });
});

