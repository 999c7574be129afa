/**
 * Every probe of every scenario through the whole program: scenario file → model → logical flows
 * → rules → executor (in ovn-trace mode, with the probe's --ct and --lb-dst), compared with the
 * probe's expected verdict, which was checked against real ovn-trace.
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseLbDst } from "../../src/cli/conformance-run.js";
import { compileMicroflow, compileNetwork, portSecurityCalls, traceInputs } from "../../src/compile/index.js";
import { LogicalExecutor, parseCtState } from "../../src/dataplane/index.js";
import { evaluate, parseExpr } from "../../src/expr/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const DIR = resolve(import.meta.dirname, "../../scenarios");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));

describe.each(files)("scenario %s", (file) => {
  const loaded = loadNetworkFile(join(DIR, file));
  it("loads and compiles", () => {
    expect(loaded.ok, loaded.ok ? "" : JSON.stringify(loaded.diags)).toBe(true);
    if (!loaded.ok) return;
    const c = compileNetwork(loaded.value.network);
    expect(c.ok, c.ok ? "" : JSON.stringify(c.diags.slice(0, 3))).toBe(true);
  });
  if (!loaded.ok) return;
  const compiled = compileNetwork(loaded.value.network);
  if (!compiled.ok) return;
  const program = compiled.value.program;
  const exec = new LogicalExecutor(program, { ct: { kind: "trace" }, calls: portSecurityCalls(loaded.value.network, program, "ovn-trace"), macBindings: traceInputs(loaded.value.network).macBindings });
  it.each(loaded.value.probes.map((p) => [p.name, p] as const))("probe %s", (_name, probe) => {
    const mf = compileMicroflow(program, probe.datapath, probe.microflow);
    expect(mf.ok, mf.ok ? "" : JSON.stringify(mf.diags)).toBe(true);
    if (!mf.ok) return;
    const states = probe.ct.map((c) => {
      const s = parseCtState(c);
      if (!s.ok) throw new Error(`bad ct state ${c}`);
      return s.state;
    });
    let lbDst;
    if (probe.lbDst) {
      lbDst = parseLbDst(probe.lbDst);
    }
    const r = exec.run(mf.value.key, { datapath: mf.value.datapath, inport: mf.value.inport }, undefined, { ctStates: states, ...(lbDst ? { lbDst } : {}), ...(probe.selectId !== undefined ? { selectId: probe.selectId } : {}) });
    const ports = r.outputs.map((o) => o.portName).sort();
    if (probe.expect.kind === "drop") {
      expect(ports).toEqual([]);
      return;
    }
    // A probe without an expectation is judged only by the conformance comparison with real OVN.
    if (probe.expect.kind === "unchecked") return;
    expect(ports).toEqual([...probe.expect.ports].sort());
    // Every expected rewritten field holds on every output.
    for (const [f, v] of Object.entries(probe.expect.fields)) {
      const e = parseExpr(`${f} == ${v}`);
      expect(e.ok, `field ${f} = ${v}`).toBe(true);
      if (!e.ok) continue;
      for (const o of r.outputs) expect(evaluate(e.value, o.key, {}), `${f} == ${v} on ${o.portName}`).toEqual({ ok: true, value: true });
    }
  });
});
