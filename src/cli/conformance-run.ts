/**
 * The ovnsim side of a conformance check, and the comparison with real OVN's verdict.
 *
 * What: `OvnsimTracer` compiles a network once and runs probes through the logical executor in
 * ovn-trace mode, exactly as ovn-trace is driven: conntrack states from the probe's `--ct` list
 * (`est|trk` once it runs out), `--lb-dst`, `--select-id`, the learned MAC bindings ovn-trace reads,
 * and the gateway routers (where ovn-trace stops at a bare `ct_snat`). `compareVerdict` says where
 * ovnsim's result and real OVN's `ovn-trace --minimal` verdict disagree: a different set of output
 * ports (or a drop against outputs), or, on an output, a header field real OVN rewrote (eth.*,
 * ip4.*, ip6.*, ip.ttl, arp.*, tcp/udp/sctp ports, icmp4/icmp6, nd.*) whose value ovnsim's packet
 * does not have. Registers, flags and conntrack fields are internal to the pipelines and are not
 * compared. `compareProbes` does both for a list of probes and real OVN's raw outputs. One difference
 * is documented, not a disagreement (README, known differences): a forwarding loop that ovnsim cuts
 * at its loop limits while ovn-trace follows it until the TTL runs out. It is the known difference
 * only when ovnsim, run again with its limits raised (`OvnsimTracer.runUncut`), gives exactly real
 * OVN's verdict.
 *
 * Invariants: nothing here throws on a bad probe; a microflow that does not compile is a
 * disagreement with its reason. Real OVN's field values are read with the same expression parser
 * as microflows (`FIELD == VALUE`), so hex and dotted forms compare alike.
 */
import type { Result } from "../base/index.js";
import { fail, ok } from "../base/index.js";
import { assignTunnelKeys, compileMicroflow, compileNetwork, portSecurityCalls, traceInputs } from "../compile/index.js";
import { LogicalExecutor, parseCtState, type RunOptions } from "../dataplane/index.js";
import { evaluate, parseExpr } from "../expr/index.js";
import type { Network } from "../model/index.js";
import { parseIpAddr, type Backend, type LogicalProgram } from "../ofp/index.js";
import { formatVerdict, OVN_TRACE_ABORTED, parseMinimalTrace, traceProbesWithOvn, verdictOf, type TunnelKeyNames, type Verdict } from "../ovn/index.js";
import type { Probe } from "../scenario/index.js";
import { formatMicroflow, renderMinimal, TraceRecorder } from "../trace/index.js";

/** Header fields compared; registers, flags and conntrack fields are internal to the pipelines. */
export const HEADER_FIELD = /^(eth|ip4|ip6|ip|arp|tcp|udp|sctp|icmp4|icmp6|nd)\./;

/** What ovnsim did with one probe. */
export type OvnsimOutcome =
  | {
      readonly kind: "ran";
      /** Each output port with the packet as it leaves. */
      readonly outputs: readonly { readonly port: string; readonly key: Uint32Array }[];
      /** Why the packet (or a copy of it) was dropped, with the responsible object. */
      readonly drops: readonly string[];
      /** The loop limits (dataplane/limits.ts) that cut a branch short, as `maxCrossings 16`, in order; empty when none did. */
      readonly limits: readonly string[];
      /** The packet as the trace's first line gives it (`formatMicroflow`, without "# "). */
      readonly flow: string;
    }
  | { readonly kind: "bad-probe"; readonly message: string };

/** A verdict with only the header fields kept and outputs in port order. */
export function headerOnly(v: Verdict): Verdict {
  return {
    dropped: v.dropped,
    outputs: v.outputs
      .map((o) => ({ ...o, fields: Object.fromEntries(Object.entries(o.fields).filter(([k]) => HEADER_FIELD.test(k))) }))
      .sort((a, b) => a.port.localeCompare(b.port)),
  };
}

/** The one-line text of a verdict's header part (outputs in port order, header fields only). */
export function headerVerdict(v: Verdict): string {
  return formatVerdict(headerOnly(v));
}

/**
 * The members ovn-trace picked at random for the `select()` actions in its raw output (it marks
 * each such pick), in order; empty when it picked none at random.
 */
export function randomSelections(raw: string): number[] {
  const out: number[] = [];
  for (const m of raw.matchAll(/select: \S+ = (\d+) \/\* Randomly selected\./g)) out.push(Number(m[1]));
  return out;
}

/** Real OVN's verdict from its raw `ovn-trace --minimal` output. */
export function ovnVerdict(raw: string): Verdict {
  return verdictOf(parseMinimalTrace(raw));
}

/** `--lb-dst` text ("IP", "IP:PORT", "[IPv6]:PORT") as the executor's backend, or undefined when it does not parse. */
export function parseLbDst(text: string): Backend | undefined {
  let ipText = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    ipText = bracketed[1]!;
    portText = bracketed[2];
  } else if (text.split(":").length === 2) {
    [ipText, portText] = text.split(":") as [string, string];
    if (!/^\d+$/.test(portText)) return undefined;
  }
  const ip = parseIpAddr(ipText);
  if (!ip) return undefined;
  return { ip, ...(portText !== undefined ? { port: Number(portText) } : {}) };
}

/** ovnsim in ovn-trace mode over one compiled network. */
export class OvnsimTracer {
  readonly program: LogicalProgram;
  private readonly exec: LogicalExecutor;
  /** The same executor with the loop limits raised (`LOOP_LIMITS`), for `runUncut`. */
  private readonly uncut: LogicalExecutor;

  private constructor(program: LogicalProgram, exec: LogicalExecutor, uncut: LogicalExecutor) {
    this.program = program;
    this.exec = exec;
    this.uncut = uncut;
  }

  /** Compiles `net`; its compile errors are the failure. */
  static create(net: Network): Result<OvnsimTracer> {
    const c = compileNetwork(net);
    if (!c.ok) return fail(...c.diags);
    const program = c.value.program;
    const inputs = traceInputs(net);
    const opts = { ct: { kind: "trace" }, calls: portSecurityCalls(net, program, "ovn-trace"), macBindings: inputs.macBindings, gatewayRouters: new Set(inputs.gatewayRouters) } as const;
    return ok(new OvnsimTracer(program, new LogicalExecutor(program, opts), new LogicalExecutor(program, { ...opts, limits: LOOP_LIMITS })));
  }

  /** The packet and run options of a probe, or why it cannot run. */
  private prepare(p: Probe): { key: Uint32Array; at: { datapath: number; inport: number }; opts: RunOptions } | string {
    const mf = compileMicroflow(this.program, p.datapath, p.microflow);
    if (!mf.ok) return `microflow does not compile: ${mf.diags[0]?.message ?? ""}`;
    const states: number[] = [];
    for (const s of p.ct) {
      const r = parseCtState(s);
      if (!r.ok) return `bad --ct ${s}: unknown flag ${JSON.stringify(r.bad)}`;
      states.push(r.state);
    }
    let lbDst;
    if (p.lbDst !== undefined) {
      lbDst = parseLbDst(p.lbDst);
      if (!lbDst) return `bad --lb-dst ${p.lbDst}`;
    }
    const opts: RunOptions = { ctStates: states, ...(lbDst ? { lbDst } : {}), ...(p.selectId !== undefined ? { selectId: p.selectId } : {}) };
    return { key: mf.value.key, at: { datapath: mf.value.datapath, inport: mf.value.inport }, opts };
  }

  /** Runs one probe. */
  run(p: Probe): OvnsimOutcome {
    return this.runWith(this.exec, p);
  }

  /**
   * Runs one probe with the loop limits raised far past what a TTL allows (`LOOP_LIMITS`), so that
   * a loop the TTL ends runs to its end, as ovn-trace follows it.
   */
  runUncut(p: Probe): OvnsimOutcome {
    return this.runWith(this.uncut, p);
  }

  private runWith(exec: LogicalExecutor, p: Probe): OvnsimOutcome {
    const prep = this.prepare(p);
    if (typeof prep === "string") return { kind: "bad-probe", message: prep };
    const r = exec.run(prep.key, prep.at, undefined, prep.opts);
    return {
      kind: "ran",
      outputs: r.outputs.map((o) => ({ port: o.portName, key: o.key })),
      drops: r.drops.map((d) => d.reason + (d.origin ? ` by ${d.origin}` : "")),
      limits: r.limitHits.map((h) => `${h.limit} ${h.value}`),
      flow: formatMicroflow(prep.key),
    };
  }

  /** ovnsim's `--minimal` trace of a probe, as ovn-trace prints it; undefined when the probe cannot run. */
  minimal(p: Probe): string | undefined {
    const prep = this.prepare(p);
    if (typeof prep === "string") return undefined;
    const rec = new TraceRecorder(this.program, prep.key);
    this.exec.run(prep.key, prep.at, rec, prep.opts);
    return renderMinimal(rec.tree);
  }

  /**
   * ovnsim's verdict for display, read from its own `--minimal` trace with the same reader as real
   * OVN's (so the two print alike); undefined when the probe cannot run.
   */
  displayVerdict(p: Probe): Verdict | undefined {
    const text = this.minimal(p);
    return text === undefined ? undefined : verdictOf(parseMinimalTrace(text));
  }
}

/**
 * Where ovnsim's outcome disagrees with real OVN's verdict, one sentence each; empty when they
 * agree. Output ports are compared as a multiset; on each of real OVN's outputs every header field
 * it assigned must hold in ovnsim's packet at that port.
 */
export function compareVerdict(ours: OvnsimOutcome, theirs: Verdict): string[] {
  if (ours.kind === "bad-probe") return [ours.message];
  const mine = ours.outputs.map((o) => o.port).sort();
  const real = theirs.outputs.map((o) => o.port).sort();
  if (JSON.stringify(mine) !== JSON.stringify(real)) {
    return [`ovnsim ${mine.length ? mine.join(",") : "drop"}${ours.drops.length ? ` (${ours.drops.join("; ")})` : ""}, real OVN ${real.length ? real.join(",") : "drop"}`];
  }
  const out: string[] = [];
  for (const o of theirs.outputs) {
    const at = ours.outputs.find((x) => x.port === o.port)!;
    // ovn-trace builds an `nd_ns` packet from the one that triggered it, changing only its
    // addresses and ICMPv6 type (execute_nd_ns), so its protocol and hop limit stay the trigger's
    // and no `nd.` prerequisite holds. It builds an `arp` packet the same way (execute_arp: the
    // EtherType, opcode and hardware addresses change, the L4 ports stay), so an ICMP error's
    // `icmp4.type` assigned before the `arp` that resolves its next hop is printed, and no
    // `icmp4` prerequisite holds on the ARP request. ovnsim builds both the same way, and such
    // fields are compared as stored.
    const prereqs = !o.blocks.includes("nd_ns") && !o.blocks.includes("arp");
    for (const [f, v] of Object.entries(o.fields)) {
      if (!HEADER_FIELD.test(f)) continue;
      const e = parseExpr(`${f} == ${v}`);
      if (!e.ok) {
        out.push(`cannot read real OVN's field ${f} = ${v}`);
        continue;
      }
      const holds = evaluate(e.value, at.key, {}, { prereqs });
      if (!holds.ok || !holds.value) out.push(`on output ${o.port}, real OVN has ${f} = ${v}; ovnsim differs`);
    }
  }
  return out;
}

/**
 * Loop limits for `OvnsimTracer.runUncut`: a TTL of 255 ends a routing loop within 255 router hops,
 * a few datapath crossings and nesting levels each, well inside these.
 */
const LOOP_LIMITS = { maxDepth: 4096, maxLookups: 1 << 20, maxCrossings: 2048, maxBranches: 1 << 16 } as const;

/** One probe's comparison. */
export interface ProbeComparison {
  readonly probe: Probe;
  /** Real OVN's verdict. */
  readonly ovn: Verdict;
  readonly ovnsim: OvnsimOutcome;
  /** Empty when the two agree. */
  readonly disagreements: readonly string[];
  /** True when ovn-trace aborted on the probe, so `ovn` is no verdict of real OVN. */
  readonly ovnAborted?: boolean;
  /** With no disagreement: the documented difference the two show (a loop cut short), if any. */
  readonly known?: string;
}

/**
 * Compares every probe: ovnsim's outcome against real OVN's raw output for it (`outputs`, by probe
 * name): the packet as each prints it first (the same microflow must make the same packet), then
 * the verdict (`compareVerdict`). A probe with no output from real OVN is a disagreement saying so.
 */
export function compareProbes(tracer: OvnsimTracer, probes: readonly Probe[], outputs: ReadonlyMap<string, string>): ProbeComparison[] {
  return probes.map((probe) => {
    const raw = outputs.get(probe.name);
    // Without --select-id, ovn-trace picks a select() member at random (and says so): ovnsim
    // follows the member it picked, as if --select-id had named it.
    const picked = probe.selectId === undefined && raw !== undefined ? randomSelections(raw) : [];
    const ovnsim = tracer.run(picked.length > 0 ? { ...probe, selectId: picked[0]! } : probe);
    if (raw === undefined) return { probe, ovn: { outputs: [], dropped: true }, ovnsim, disagreements: ["real OVN has no output for this probe"] };
    if (raw.startsWith(OVN_TRACE_ABORTED)) return { probe, ovn: { outputs: [], dropped: true }, ovnsim, disagreements: [`real ovn-trace aborted (${raw.slice(OVN_TRACE_ABORTED.length).trim()}), so there is no verdict to compare`], ovnAborted: true };
    const members = [...new Set(picked)];
    if (members.length > 1) return { probe, ovn: ovnVerdict(raw), ovnsim, disagreements: [`real ovn-trace picked select() members ${members.join(" and ")} at random, which no one --select-id reproduces; give the probe a selectId`] };
    const ovn = ovnVerdict(raw);
    // The packet itself, as both print it first: the same microflow must make the same packet.
    const header = raw.startsWith("# ") ? raw.slice(2).split("\n", 1)[0] : undefined;
    const packet = ovnsim.kind === "ran" && header !== undefined && header !== ovnsim.flow ? [`the packet differs: ovnsim # ${ovnsim.flow}, real OVN # ${header}`] : [];
    const disagreements = [...packet, ...compareVerdict(ovnsim, ovn)];
    if (disagreements.length > 0 && packet.length === 0 && ovnsim.kind === "ran" && ovnsim.limits.length > 0) {
      // A loop ovnsim's limits cut: the documented difference when, run to the loop's end, ovnsim
      // gives exactly what real OVN gives.
      let uncut: OvnsimOutcome | undefined;
      try {
        uncut = tracer.runUncut(picked.length > 0 ? { ...probe, selectId: picked[0]! } : probe);
      } catch (e) {
        // A loop deeper than the stack: no verdict to compare it by.
        if (!(e instanceof RangeError)) throw e;
      }
      if (uncut !== undefined && uncut.kind === "ran" && uncut.limits.length === 0 && compareVerdict(uncut, ovn).length === 0) {
        const known = `a forwarding loop: ovnsim cut it at its limit (${[...new Set(ovnsim.limits)].join(", ")}) after ${ovnsim.outputs.length} outputs; run to the loop's end it gives real OVN's ${ovn.outputs.length} output${ovn.outputs.length === 1 ? "" : "s"} exactly (a documented difference)`;
        return { probe, ovn, ovnsim, disagreements: [], known };
      }
    }
    return { probe, ovn, ovnsim, disagreements };
  });
}

/**
 * Each probe's `ovn-trace --minimal` output from real OVN (`traceProbesWithOvn`), on a network
 * numbered as ovnsim numbers it: the datapaths and ports northd gave other tunnel keys (a northd
 * that fell behind) are built again.
 */
export function traceWithRealOvn(net: Network, probes: readonly Probe[], onRebuild?: (differ: readonly string[]) => void): Result<Map<string, string>> {
  return traceProbesWithOvn(net, probes, ovnsimKeyNames(net), onRebuild);
}

/** The tunnel keys ovnsim gives `net`'s datapaths and ports, by name. */
export function ovnsimKeyNames(net: Network): TunnelKeyNames {
  const keys = assignTunnelKeys(net);
  const all = [...keys.switches, ...keys.routers];
  return { datapaths: new Map(all.map(([name, k]) => [name, k.datapath])), ports: new Map(all.flatMap(([, k]) => [...k.ports])) };
}
