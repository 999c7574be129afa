/**
 * ovn-trace's MICROFLOW argument: an OVN match expression that pins down one packet.
 *
 * As ovn-trace does, the expression is normalized (prerequisites added) and must come out as one
 * conjunction: its values become the packet's fields, every other field is zero. `inport` names the
 * logical port the packet enters by (and so its datapath, when none is given).
 */
import { error, fail, ok, unknownNameHint, type Result } from "../base/index.js";
import { compileMatch } from "../expr/index.js";
import { W } from "../flow/index.js";
import type { LogicalProgram } from "../ofp/index.js";

export interface Microflow {
  /** The packet: flow-key words, with `metadata` (datapath) and `reg14` (inport) set. */
  readonly key: Uint32Array;
  readonly datapath: number;
  readonly inport: number;
}

/**
 * Builds the packet of `text` in `datapathName` (or the datapath of its `inport` when undefined).
 * Errors name the column in the expression.
 */
export function compileMicroflow(program: LogicalProgram, datapathName: string | undefined, text: string, file = "microflow"): Result<Microflow> {
  let dpKey: number | undefined;
  if (datapathName !== undefined) {
    dpKey = program.datapathByName.get(datapathName);
    if (dpKey === undefined) {
      return fail(error("trace.unknown-datapath", `no logical datapath named ${JSON.stringify(datapathName)}; ${unknownNameHint(datapathName, [...program.datapathByName.keys()], "datapaths", Infinity)}`));
    }
  }
  // Port names that name no port, or a port of another datapath: each makes its test false.
  const unknown: string[] = [];
  const elsewhere: string[] = [];
  const portKey = (name: string): number | undefined => {
    const p = program.portByName.get(name);
    if (!p) return void unknown.push(name);
    if (dpKey === undefined) dpKey = p.datapath;
    if (p.datapath === dpKey) return p.key;
    elsewhere.push(name);
    return undefined;
  };
  const m = compileMatch(text, { portKey }, { file });
  if (!m.ok) return m;
  if (m.value.length === 0) {
    const dpName = (k: number | undefined): string => program.datapaths.get(k ?? -1)?.name ?? "?";
    if (unknown.length > 0) return fail(error("trace.unknown-port", `the microflow names no logical port ${JSON.stringify(unknown[0])}; ${unknownNameHint(unknown[0]!, [...program.portByName.keys()], "ports")}`));
    if (elsewhere.length > 0) return fail(error("trace.port-elsewhere", `the microflow's port ${JSON.stringify(elsewhere[0])} is on datapath ${dpName(program.portByName.get(elsewhere[0]!)?.datapath)}, not ${dpName(dpKey)}`));
    return fail(error("trace.empty-microflow", `the microflow matches no packet (its fields contradict each other): ${text}`));
  }
  if (m.value.length > 1) return fail(error("trace.ambiguous-microflow", `the microflow must describe one packet (a conjunction of == tests), but it allows ${m.value.length} alternatives`));
  const match = m.value[0]!;
  const key = match.value.slice();
  const inport = key[W.REG0 + 14]!;
  if ((match.mask[W.REG0 + 14]! >>> 0) !== 0xffffffff || inport === 0) {
    return fail(error("trace.no-inport", 'the microflow must name the input port, e.g. inport == "p1"'));
  }
  if (dpKey === undefined) return fail(error("trace.no-datapath", "give the datapath, or an inport that names a known port"));
  key[W.METADATA] = dpKey;
  return ok({ key, datapath: dpKey, inport });
}
