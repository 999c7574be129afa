/**
 * Conformance with real OVN: every probe of every scenario, traced by real `ovn-trace --minimal`
 * and by ovnsim, must agree on the verdict: the same set of output ports (or a drop), and on each
 * output, every header field real OVN rewrote (eth.*, ip4.*, ip6.*, ip.ttl, arp.*, tcp/udp/sctp
 * ports, icmp) must have that value in ovnsim's delivered packet.
 *
 * Real OVN's outputs are recorded in fixtures/conformance/<scenario>.json, so the comparison runs
 * on any machine. Where OVN is installed the test also traces live and fails when a recording no
 * longer says what real OVN says; OVNSIM_RECORD=1 rewrites the recordings.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compileNetwork, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { LogicalExecutor, parseCtState } from "../../src/dataplane/index.js";
import { evaluate, parseExpr } from "../../src/expr/index.js";
import { parseIpAddr } from "../../src/ofp/index.js";
import { formatVerdict, ovnAvailable, ovnVersion, parseMinimalTrace, traceProbesWithOvn, verdictOf, type Verdict } from "../../src/ovn/index.js";
import { loadNetworkFile, type Probe } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const RECORDINGS = join(ROOT, "fixtures/conformance");
const RECORD = process.env.OVNSIM_RECORD === "1";
const LIVE = ovnAvailable() && process.env.OVNSIM_NO_OVN !== "1";
if (!LIVE) console.warn("conformance: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

interface Recording {
  readonly ovn: string;
  readonly probes: Record<string, string>;
}

/** Header fields compared; registers, flags and conntrack fields are internal to the pipelines. */
const HEADER = /^(eth|ip4|ip6|ip|arp|tcp|udp|sctp|icmp4|icmp6|nd)\./;

function headerVerdict(v: Verdict): string {
  return formatVerdict({
    dropped: v.dropped,
    outputs: v.outputs.map((o) => ({ ...o, fields: Object.fromEntries(Object.entries(o.fields).filter(([k]) => HEADER.test(k))) })).sort((a, b) => a.port.localeCompare(b.port)),
  });
}

function lbDstOf(p: Probe) {
  if (!p.lbDst) return undefined;
  const m = /^(.*?)(?::(\d+))?$/.exec(p.lbDst)!;
  return { ip: parseIpAddr(m[1]!)!, ...(m[2] ? { port: Number(m[2]) } : {}) };
}

const files = readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml")).sort();

describe.each(files)("conformance of %s with real OVN", (file) => {
  const name = basename(file, ".yaml");
  const recPath = join(RECORDINGS, `${name}.json`);
  const loaded = loadNetworkFile(join(SCENARIOS, file));
  if (!loaded.ok) throw new Error(`${file} does not load`);
  const { network, probes } = loaded.value;
  let recording: Recording | undefined = existsSync(recPath) ? (JSON.parse(readFileSync(recPath, "utf8")) as Recording) : undefined;

  it.skipIf(!LIVE)("the recording is what real OVN says now", () => {
    const live = traceProbesWithOvn(network, probes);
    expect(live.ok, live.ok ? "" : live.diags.map((d) => d.message).join("\n")).toBe(true);
    if (!live.ok) return;
    if (RECORD || !recording) {
      const rec: Recording = { ovn: ovnVersion() ?? "unknown", probes: Object.fromEntries(live.value) };
      const tmp = `${recPath}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(rec, null, 2) + "\n");
      renameSync(tmp, recPath);
      recording = rec;
    }
    const stale: string[] = [];
    for (const p of probes) {
      const was = recording.probes[p.name];
      const now = headerVerdict(verdictOf(parseMinimalTrace(live.value.get(p.name)!)));
      if (was === undefined || headerVerdict(verdictOf(parseMinimalTrace(was))) !== now) stale.push(`${p.name}: recorded ${was === undefined ? "nothing" : headerVerdict(verdictOf(parseMinimalTrace(was)))}, real OVN now ${now}`);
    }
    expect(stale, "stale recordings: run with OVNSIM_RECORD=1").toEqual([]);
  });

  it("has a recording for every probe", () => {
    expect(recording, `no recording at ${recPath}: run with OVNSIM_RECORD=1 where OVN is installed`).toBeDefined();
    for (const p of probes) expect(recording!.probes[p.name], p.name).toBeDefined();
  });

  it("every probe: ovnsim's verdict equals real OVN's", () => {
    expect(recording).toBeDefined();
    if (!recording) return;
    const c = compileNetwork(network);
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const program = c.value.program;
    const inputs = traceInputs(network);
    const exec = new LogicalExecutor(program, { ct: { kind: "trace" }, calls: portSecurityCalls(network, program), macBindings: inputs.macBindings, gatewayRouters: new Set(inputs.gatewayRouters) });
    const disagreements: string[] = [];
    for (const p of probes) {
      const ovn = verdictOf(parseMinimalTrace(recording.probes[p.name] ?? ""));
      const mf = compileMicroflow(program, p.datapath, p.microflow);
      if (!mf.ok) {
        disagreements.push(`${p.name}: microflow does not compile: ${mf.diags[0]?.message}`);
        continue;
      }
      const states = p.ct.map((s) => {
        const r = parseCtState(s);
        return r.ok ? r.state : 0;
      });
      const lbDst = lbDstOf(p);
      const r = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, undefined, { ctStates: states, ...(lbDst ? { lbDst } : {}), ...(p.selectId !== undefined ? { selectId: p.selectId } : {}) });
      const ours = r.outputs.map((o) => o.portName).sort();
      const theirs = ovn.outputs.map((o) => o.port).sort();
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        disagreements.push(`${p.name}: ovnsim ${ours.length ? ours.join(",") : "drop"} (${r.drops.map((d) => d.reason + (d.origin ? ` by ${d.origin}` : "")).join("; ")}), real OVN ${theirs.length ? theirs.join(",") : "drop"}`);
        continue;
      }
      for (const o of ovn.outputs) {
        const mine = r.outputs.find((x) => x.portName === o.port)!;
        for (const [f, v] of Object.entries(o.fields)) {
          if (!HEADER.test(f)) continue;
          const e = parseExpr(`${f} == ${v}`);
          if (!e.ok) {
            disagreements.push(`${p.name}: cannot read real OVN's field ${f} = ${v}`);
            continue;
          }
          const ok = evaluate(e.value, mine.key, {});
          if (!ok.ok || !ok.value) disagreements.push(`${p.name}: on output ${o.port}, real OVN has ${f} = ${v}; ovnsim differs`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });
});
