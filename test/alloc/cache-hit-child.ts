/**
 * Child process of cache-hit.test.ts: drives the datapath's cache-hit path (exact-match or
 * megaflow hits, conntrack of established connections, recirculation, tunnels to the other chassis)
 * between two markers while V8 traces every garbage collection.
 *
 * Packets: the kube-ovn-default scenario's probes (pod to pod on one node and across nodes, to
 * service VIPs, replies), as keys. A warm-up round installs the megaflows and commits the
 * connections; the timed rounds only hit.
 */
import { resolve } from "node:path";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import { W, field, setField } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const emc = Number(process.argv[2] ?? "1");
const sc = loadNetworkFile(resolve(import.meta.dirname, "../../scenarios/kube-ovn-default.yaml"));
if (!sc.ok) throw new Error("cannot load the scenario");
const plan = compilePhysical(sc.value.network);
if (!plan.ok) throw new Error("cannot compile the scenario");
const replayer = new Replayer(sc.value.network, { cache: { emcInsertInvProb: emc } });
const packets: { key: Uint32Array; at: NonNullable<ReturnType<Replayer["injectionFor"]>> }[] = [];
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
  packets.push({ key, at });
}
const g = replayer.group;
const round = (): void => {
  // An indexed loop: an array iterator is usually optimised away, but not always, and it would count.
  for (let i = 0; i < packets.length; i++) g.inject(packets[i]!.at.datapath, packets[i]!.at.entry, packets[i]!.key);
};
for (let i = 0; i < 2000; i++) round();
const before = g.stats();
process.stdout.write("BEGIN\n");
for (let i = 0; i < 40_000; i++) round();
process.stdout.write("END\n");
const after = g.stats();
process.stdout.write(`PACKETS ${after.packets - before.packets} PASSES ${after.passes - before.passes} UPCALLS ${after.upcalls - before.upcalls} EMC ${after.cache.emcHits - before.cache.emcHits} MEGAFLOW ${after.cache.megaflowHits - before.cache.megaflowHits} RECIRC ${after.recirculations - before.recirculations} DROPS ${Object.values(after.drops).reduce((a, b) => a + b, 0) - Object.values(before.drops).reduce((a, b) => a + b, 0)} CONNECTIONS ${g.datapaths().reduce((a, d) => a + d.conntrack.size, 0)}\n`);
