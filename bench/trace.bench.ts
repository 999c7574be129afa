/**
 * Trace benchmark: one packet through a 1,000-port logical switch, warm.
 *
 * The switch has 1,000 VIFs (MAC + IP, half with port security), a TCP load balancer with three
 * backends and a dozen ACLs on a port group of 100 members. Reported: compile time (model to
 * runnable program, once), and with tinybench the time of one trace run (executor only, and with
 * the trace recorder and the detailed rendering), median per operation.
 */
import { List, OrderedMap } from "immutable";
import { Bench } from "tinybench";
import { printTinybench } from "./report.js";
import { compileMicroflow, compileNetwork, portSecurityCalls } from "../src/compile/index.js";
import { LogicalExecutor } from "../src/dataplane/index.js";
import { Acl, LoadBalancer, LogicalSwitch, Network, PortGroup, SwitchPort } from "../src/model/index.js";
import { TraceRecorder, renderDetailed } from "../src/trace/index.js";

export const cases = ["trace/1000-ports"];

function mac(i: number): string {
  return `00:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
}

function ip(i: number): string {
  return `10.16.${i >> 8}.${(i & 0xff) + 1}`;
}

export function bigSwitch(n = 1000): Network {
  let ports = OrderedMap<string, SwitchPort>();
  for (let i = 0; i < n; i++) {
    const name = `pod-${i}`;
    const addr = `${mac(i)} ${ip(i)}`;
    ports = ports.set(name, SwitchPort({ name, addresses: List([addr]), portSecurity: i % 2 ? List([addr]) : List() }));
  }
  const acls = List(
    Array.from({ length: 12 }, (_, k) =>
      Acl({ direction: k % 2 ? "to-lport" : "from-lport", priority: 1000 + k, match: `${k % 2 ? "outport" : "inport"} == @pg_web && ip4 && tcp.dst == ${8000 + k}`, action: k % 3 === 0 ? "drop" : "allow-related" }),
    ),
  );
  const pg = PortGroup({ name: "pg_web", ports: List(Array.from({ length: 100 }, (_, i) => `pod-${i}`)), acls });
  const lb = LoadBalancer({ name: "lb-web", protocol: "tcp", vips: OrderedMap([["10.96.0.10:80", List(["10.16.0.2:8080", "10.16.0.3:8080", "10.16.0.4:8080"])]]) });
  const ls = LogicalSwitch({ name: "ovn-default", ports, loadBalancers: List(["lb-web"]) });
  return Network({ name: "big", switches: OrderedMap([["ovn-default", ls]]), portGroups: OrderedMap([["pg_web", pg]]), loadBalancers: OrderedMap([["lb-web", lb]]) });
}

export async function main(filter: RegExp = /./): Promise<void> {
  if (!filter.test("trace/1000-ports")) return;
  const net = bigSwitch(1000);
  const t0 = process.hrtime.bigint();
  const c = compileNetwork(net);
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!c.ok) throw new Error(`compile failed: ${c.diags[0]?.message}`);
  const program = c.value.program;
  const rules = [...program.datapaths.values()].reduce((n, d) => n + d.ingress.tables.reduce((m, t) => m + t.rules.length, 0) + d.egress.tables.reduce((m, t) => m + t.rules.length, 0), 0);
  const mf = compileMicroflow(program, "ovn-default", `inport == "pod-7" && eth.src == ${mac(7)} && eth.dst == ${mac(900)} && ip4.src == ${ip(7)} && ip4.dst == ${ip(900)} && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8001`);
  if (!mf.ok) throw new Error(`microflow: ${mf.diags[0]?.message}`);
  const exec = new LogicalExecutor(program, { ct: { kind: "trace" }, calls: portSecurityCalls(net, program) });
  const inject = { datapath: mf.value.datapath, inport: mf.value.inport };
  const first = exec.run(mf.value.key, inject, undefined, { ctStates: [] });
  if (first.outputs.length !== 1) throw new Error(`expected one output, got ${first.outputs.length} (drops: ${first.drops.map((d) => d.reason).join(",")})`);
  const bench = new Bench({ time: 1000, warmupTime: 300 });
  bench.add("trace/1000-ports run", () => {
    exec.run(mf.value.key, inject, undefined, { ctStates: [] });
  });
  bench.add("trace/1000-ports run+record+render", () => {
    const rec = new TraceRecorder(program, mf.value.key);
    exec.run(mf.value.key, inject, rec, { ctStates: [] });
    renderDetailed(rec.tree);
  });
  await bench.run();
  console.log(`trace on a 1,000-port switch (${rules} rules after lowering); compile ${compileMs.toFixed(0)} ms once`);
  printTinybench(bench);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(new RegExp(process.argv[2] ?? "."));
