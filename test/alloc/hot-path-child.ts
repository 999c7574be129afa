/**
 * Child process of hot-path.test.ts: runs the read + extract loop between two markers while V8
 * traces every garbage collection. A loop that allocates per packet fills the (deliberately tiny)
 * young generation again and again, and each refill shows up as a Scavenge line between the markers.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KEY_WORDS } from "../../src/flow/index.js";
import { readLoop, pcapsDir } from "../../bench/pcap.bench.js";
import { syntheticPcap } from "../../bench/synthetic.js";

const inputs: Uint8Array[] = [syntheticPcap(200_000, 64)];
for (const f of ["bench/ndpi-composite-99k.pcap", "bench/wand-fragtest-isp-vlan-2010-10k.pcap", "tunnels/vxlan/ndpi-vxlan-vlan.pcap"]) {
  try {
    inputs.push(new Uint8Array(readFileSync(join(pcapsDir(), f))));
  } catch {
    // Absent shared captures: the synthetic one still runs.
  }
}
const key = new Uint32Array(KEY_WORDS);
let packets = 0;
for (let warm = 0; warm < 5; warm++) for (const b of inputs) readLoop(b, true, key);
process.stdout.write("BEGIN\n");
for (let round = 0; round < 10; round++) for (const b of inputs) packets += readLoop(b, true, key).packets;
process.stdout.write("END\n");
process.stdout.write(`PACKETS ${packets} INPUTS ${inputs.length}\n`);
