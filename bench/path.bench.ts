/**
 * Path benchmark: one packet followed end to end across chassis, warm.
 *
 * Cases: `path/geneve` (kube-ovn-cluster, a pod to a pod on the other node: two chassis, one
 * Geneve wire), `path/underlay-gw` (kube-ovn-underlay, a VLAN 200 pod to a VLAN 100 pod through the
 * underlay's gateway: two VLAN wires), `path/ovn-ic` (az1 to az2: four chassis, three tunnels).
 * Reported: the physical compile of each network (once), and with tinybench the median time of
 * one `Fabric.trace` (logical runs on every chassis, frames built and re-extracted on every wire).
 */
import { join, resolve } from "node:path";
import { Bench } from "tinybench";
import { printTinybench } from "./report.js";
import { compileMicroflow, compileNetwork, compilePhysical } from "../src/compile/index.js";
import { Fabric } from "../src/dataplane/index.js";
import type { Network } from "../src/model/index.js";
import type { PhysicalPlan } from "../src/ofp/index.js";
import { loadNetworkFile } from "../src/scenario/index.js";

export const cases = ["path/geneve", "path/underlay-gw", "path/ovn-ic"];

const SCEN = resolve(process.cwd(), "scenarios");

function load(file: string): Network {
  const r = loadNetworkFile(join(SCEN, file));
  if (!r.ok) throw new Error(`${file}: ${r.diags[0]?.message}`);
  return r.value.network;
}

function plan(net: Network): { plan: PhysicalPlan; ms: number } {
  const t0 = process.hrtime.bigint();
  const p = compilePhysical(net);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!p.ok) throw new Error(`physical compile: ${p.diags[0]?.message}`);
  return { plan: p.value, ms };
}

interface Case {
  readonly name: string;
  readonly nets: readonly Network[];
  readonly from: string;
  /** The packet, as `ovnsim trace --from/--to` would build it. */
  readonly microflow: string;
}

const tcp = (from: string, smac: string, dmac: string, sip: string, dip: string): string =>
  `inport == "${from}" && eth.src == ${smac} && eth.dst == ${dmac} && ip4.src == ${sip} && ip4.dst == ${dip} && ip.ttl == 64 && tcp && tcp.src == 49152 && tcp.dst == 80`;

export async function main(filter: RegExp = /./): Promise<void> {
  const all: Case[] = [
    { name: "path/geneve", nets: [load("kube-ovn-cluster.yaml")], from: "web-1.default", microflow: tcp("web-1.default", "00:00:00:16:00:02", "00:00:00:16:00:04", "10.16.0.2", "10.16.0.4") },
    { name: "path/underlay-gw", nets: [load("kube-ovn-underlay.yaml")], from: "v1", microflow: tcp("v1", "00:00:00:0a:c8:02", "00:00:5e:00:01:c8", "10.200.0.2", "10.100.0.3") },
    { name: "path/ovn-ic", nets: [load("ovn-ic-az1.yaml"), load("ovn-ic-az2.yaml")], from: "p1a", microflow: tcp("p1a", "00:00:00:01:01:02", "00:00:00:01:01:01", "10.1.1.2", "10.2.1.3") },
  ];
  const bench = new Bench({ time: 1000, warmupTime: 300 });
  const notes: string[] = [];
  for (const c of all.filter((x) => filter.test(x.name))) {
    const plans = c.nets.map(plan);
    const fabric = new Fabric(
      plans.map((p) => p.plan),
      { executorOptions: () => ({ ct: { kind: "trace" } }) },
    );
    const net = c.nets[0]!;
    const compiled = compileNetwork(net);
    if (!compiled.ok) throw new Error("compile");
    const mf = compileMicroflow(compiled.value.program, undefined, c.microflow);
    if (!mf.ok) throw new Error(`microflow: ${mf.diags[0]?.message}`);
    const first = fabric.trace(c.from, mf.value.key);
    const hops = first?.hops ?? [];
    if (hops[hops.length - 1]?.kind !== "deliver") throw new Error(`${c.name}: the path does not end in a delivery`);
    notes.push(`${c.name}: ${hops.length} hops; physical compile ${plans.map((p) => p.ms.toFixed(0)).join(" + ")} ms once`);
    bench.add(c.name, () => {
      fabric.trace(c.from, mf.value.key);
    });
  }
  if (notes.length === 0) return;
  await bench.run();
  for (const n of notes) console.log(n);
  printTinybench(bench);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(new RegExp(process.argv[2] ?? "."));
