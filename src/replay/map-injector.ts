/**
 * `replay --map auto|FILE`: the `Injector` over a `TraceMapper` (map.ts). A first pass over every
 * capture builds the plan; then each packet is rewritten onto the network and placed at the port
 * its mapped source sends from: a VIF on its chassis, or a localnet port on a chassis that has
 * the provider network.
 */
import { readFileSync } from "node:fs";
import { error } from "../base/index.js";
import { compileNetwork } from "../compile/index.js";
import { parseMapFile } from "./map-file.js";
import { TraceMapper, networkEndpoints, type MapChoices, type MapPlan } from "./map.js";
import { ReplayError, forEachRecordKey, type Injection, type Injector, type Replayer } from "./replay.js";

export interface MapInjector extends Injector {
  readonly plan: MapPlan;
}

/**
 * The injector for `--map MODE` over `captures` (read once here to build the plan): MODE is `auto`
 * or a mapping file (map-file.ts). `observe`, if given, also sees every packet's key of that pass.
 */
export function mapInjector(replayer: Replayer, mode: string, captures: readonly { file: string; bytes: Uint8Array }[], observe?: (key: Uint32Array) => void): MapInjector {
  const compiled = compileNetwork(replayer.network);
  if (!compiled.ok) throw new ReplayError(compiled.diags);
  const endpoints = networkEndpoints(replayer.network, compiled.value.program);
  // The provider networks' switches have learned the outside hosts the mapping sends from.
  for (const e of endpoints) if (e.kind === "external") for (const a of e.access ?? []) replayer.knowOutside(a.fromMac);
  let choices: MapChoices | undefined;
  if (mode !== "auto") {
    let text: string;
    try {
      text = readFileSync(mode, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ReplayError([error("usage.map", `--map ${mode}: ${code === "ENOENT" ? "no such file; expected 'auto' or a mapping file" : code === "EISDIR" ? "is a directory; expected 'auto' or a mapping file" : `cannot read it (${code ?? String(e)})`}`)]);
    }
    const parsed = parseMapFile(text, mode, endpoints);
    if (!parsed.ok) throw new ReplayError(parsed.diags);
    choices = parsed.value;
  }
  const mapper = new TraceMapper(endpoints, choices !== undefined ? { choices } : {});
  forEachRecordKey(captures, (key) => {
    if (key === undefined) return;
    mapper.observe(key);
    observe?.(key);
  });
  const plan = mapper.freeze();
  const resolved: (Injection | undefined)[] = plan.injections.map((e) => replayer.injectionFor(e.portName) ?? replayer.injectionAt(e.datapath, e.inport, e.portName, e.chassis));
  let unbound = 0;
  const injections = resolved.map((r, i) => r ?? { portName: plan.injections[i]!.portName, chassis: "", datapath: undefined!, entry: 0 });
  return {
    plan,
    injections,
    place(k: Uint32Array): number {
      // The packet's ICMP message, read by `beginPacket` before placing: an error's quoted packet is mapped too.
      const i = mapper.map(k, replayer.icmp);
      if (i < 0) return -1;
      if (resolved[i] === undefined) {
        unbound++;
        return -1;
      }
      return i;
    },
    unplaced(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const [why, n] of Object.entries(mapper.unmapped())) if (n > 0) out[`unmapped: ${why}`] = n;
      if (unbound > 0) out["unmapped: source port on no chassis"] = unbound;
      return out;
    },
  };
}
