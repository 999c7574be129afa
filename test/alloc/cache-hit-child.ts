/**
 * Child process of cache-hit.test.ts: drives the datapath's cache-hit path (exact-match or
 * megaflow hits, conntrack of established connections, recirculation, tunnels to the other chassis)
 * between two markers while V8 traces every garbage collection.
 *
 * Packets: the kube-ovn-default scenario's probes (pod to pod on one node and across nodes, to
 * service VIPs, replies), as keys. Each TCP one also hands conntrack a TCP segment, read from a
 * frame as `replay` reads it (`Replayer.beginPacket`), so that window tracking runs on the path
 * too. A warm-up round installs the megaflows and commits the connections; the timed rounds only
 * hit.
 */
import { resolve } from "node:path";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import { KEY_WORDS, W, extractKey, field, setField } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const emc = Number(process.argv[2] ?? "1");
const sc = loadNetworkFile(resolve(import.meta.dirname, "../../scenarios/kube-ovn-default.yaml"));
if (!sc.ok) throw new Error("cannot load the scenario");
const plan = compilePhysical(sc.value.network);
if (!plan.ok) throw new Error("cannot compile the scenario");
const replayer = new Replayer(sc.value.network, { cache: { emcInsertInvProb: emc } });
const packets: { key: Uint32Array; tcp: boolean; at: NonNullable<ReturnType<Replayer["injectionFor"]>> }[] = [];
for (const p of sc.value.probes) {
  const port = /inport == "([^"]+)"/.exec(p.microflow)?.[1];
  const at = port === undefined ? undefined : replayer.injectionFor(port);
  const chassis = [...plan.value.chassis.values()].find((c) => c.name === at?.chassis);
  if (!at || !chassis || !/tcp|udp/.test(p.microflow)) continue;
  const mf = compileMicroflow(chassis.program, undefined, p.microflow);
  if (!mf.ok) continue;
  const key = mf.value.key.slice();
  key.fill(0, 0, W.REG0 + 16);
  // The probes give no TCP flags; replay's conntrack (OVS's rule) starts no connection from a
  // packet without SYN, ACK or RST, so the TCP ones are ACKs: picked up mid-stream, then established.
  if (/\btcp\b/.test(p.microflow)) setField(key, field("tcp_flags"), 0x10);
  packets.push({ key, tcp: /\btcp\b/.test(p.microflow), at });
}
// The segments: an IPv4/TCP ACK (sequence and acknowledgement 1000, no payload) for TCP probes,
// an ARP frame (no TCP header) for the others.
const hex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
// Both in one buffer: extraction keeps a view of the last buffer it read, as over a capture.
const tcpFrame = hex("0000000000020000000000010800" + "45000028000040004006000a0a0000010a000002" + "04d20050000003e8000003e85010ffff00000000");
const arpFrame = hex("ffffffffffff0000000000010806" + "0001080006040001000000000001" + "0a0000010000000000000a000002");
const frames = new Uint8Array(tcpFrame.length + arpFrame.length);
frames.set(tcpFrame, 0);
frames.set(arpFrame, tcpFrame.length);
const scratch = new Uint32Array(KEY_WORDS);
const g = replayer.group;
const round = (): void => {
  // An indexed loop: an array iterator is usually optimised away, but not always, and it would count.
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    const at = p.tcp ? 0 : tcpFrame.length;
    const len = p.tcp ? tcpFrame.length : arpFrame.length;
    extractKey(frames, at, len, len, 1, scratch, 0, false);
    replayer.beginPacket(frames, at, len);
    g.inject(p.at.datapath, p.at.entry, p.key);
  }
};
for (let i = 0; i < 2000; i++) round();
const before = g.stats();
process.stdout.write("BEGIN\n");
for (let i = 0; i < 40_000; i++) round();
process.stdout.write("END\n");
const after = g.stats();
process.stdout.write(`PACKETS ${after.packets - before.packets} PASSES ${after.passes - before.passes} UPCALLS ${after.upcalls - before.upcalls} EMC ${after.cache.emcHits - before.cache.emcHits} MEGAFLOW ${after.cache.megaflowHits - before.cache.megaflowHits} RECIRC ${after.recirculations - before.recirculations} DROPS ${Object.values(after.drops).reduce((a, b) => a + b, 0) - Object.values(before.drops).reduce((a, b) => a + b, 0)} CONNECTIONS ${g.datapaths().reduce((a, d) => a + d.conntrack.size, 0)} TRACKED ${g.datapaths().reduce((a, d) => a + d.conntrack.connections().filter((c) => c.tcp !== undefined).length, 0)}\n`);
