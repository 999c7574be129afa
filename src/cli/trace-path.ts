/**
 * The end-to-end part of `ovnsim trace`: the packet followed across chassis, tunnels and provider
 * networks (`dataplane/fabric.ts`), rendered as a hop list, as per-chassis physical flows
 * (`--physical`), as a Mermaid diagram (`--format mermaid`), and written as pcapng
 * (`--pcap-out FILE`: one interface per VIF and per wire, packets in hop order).
 */
import { error } from "../base/index.js";
import { compilePhysical, controllerMacBindings, portSecurityCalls, type NeighbourBinding } from "../compile/index.js";
import { Fabric, type FabricResult, type RunOptions } from "../dataplane/index.js";
import type { Network } from "../model/index.js";
import type { LogicalProgram, PhysicalPlan } from "../ofp/index.js";
import { PcapngWriter } from "../pcap/index.js";
import { TraceRecorder, renderDetailed, renderHops, renderMermaid, renderMinimal, renderPhysical, renderSummary, type HopNames } from "../trace/index.js";
import { InputError } from "./capture-input.js";
import { VERSION } from "./version.js";

export interface PathRun {
  readonly result: FabricResult;
  readonly names: HopNames;
}

/** Whether `port` is a VIF bound to a chassis of `net`, so that the path can be followed. */
export function canFollow(net: Network, port: string | undefined): boolean {
  if (port === undefined || net.chassis.size === 0) return false;
  const sp = net.switches.find((ls) => ls.ports.has(port))?.ports.get(port);
  const where = sp?.chassis ?? sp?.options.get("requested-chassis");
  return where !== undefined && net.chassis.has(where);
}

/**
 * Follows `key` from VIF `port` of `net` across the chassis of `net` and of the other availability
 * zones `others` (OVN-IC), with ovn-trace's conntrack assumptions on each chassis.
 */
export function followPath(net: Network, port: string, key: Uint32Array, runOptions: RunOptions, recorders: boolean, others: readonly Network[] = []): PathRun {
  const plans: PhysicalPlan[] = [];
  const byZone = new Map<string, Network>();
  for (const n of [net, ...others]) {
    const plan = compilePhysical(n);
    if (!plan.ok) throw new InputError(plan.diags);
    plans.push(plan.value);
    byZone.set(plan.value.zone, n);
  }
  const bindings = new Map<Network, NeighbourBinding[]>();
  const fabric = new Fabric(plans, {
    executorOptions: (c) => {
      const n = byZone.get(zoneOf(plans, c.name) ?? "") ?? net;
      // ovn-controller knows static MAC bindings and those of its announcements too (ovn-trace
      // reads only the learned ones).
      let macBindings = bindings.get(n);
      if (macBindings === undefined) bindings.set(n, (macBindings = controllerMacBindings(n)));
      return { ct: { kind: "trace" }, calls: portSecurityCalls(n, c.program), macBindings };
    },
    runOptions,
    ...(recorders ? { sink: (c, k) => new TraceRecorder(c.program, k) } : {}),
  });
  const result = fabric.trace(port, key);
  if (!result) throw new InputError([error("usage.trace", `--from ${port}: not bound to any chassis of the network, so its path cannot be followed`)]);
  const programs = new Map<string, LogicalProgram>();
  for (const plan of plans) {
    const any = [...plan.chassis.values()].find((c) => !c.remote);
    if (any) programs.set(plan.zone, any.program);
  }
  return { result, names: { programs } };
}

function zoneOf(plans: readonly PhysicalPlan[], chassis: string): string | undefined {
  return plans.find((p) => p.chassis.get(chassis)?.remote === false)?.zone;
}

/** The hop list, and with `physical` the physical flows and each chassis's logical trace. */
export function renderPath(run: PathRun, physical: boolean, style: "detailed" | "summary" | "minimal"): string {
  let s = `\nPath across chassis and wires:\n${renderHops(run.result, run.names)}`;
  if (!physical) return s;
  s += `\nPhysical flows, per chassis:\n${renderPhysical(run.result)}`;
  run.result.hops.forEach((h, i) => {
    if (h.kind !== "chassis" || !(h.sink instanceof TraceRecorder)) return;
    const text = style === "minimal" ? renderMinimal(h.sink.tree) : style === "summary" ? renderSummary(h.sink.tree) : renderDetailed(h.sink.tree);
    s += `\nLogical pipelines on chassis ${h.chassis} (hop ${i + 1}):\n${text}`;
  });
  return s;
}

export function renderPathMermaid(run: PathRun): string {
  return renderMermaid(run.result, run.names);
}

/** Writes the path's packets to `path` as pcapng (atomically). Returns how many were written. */
export function writePathPcap(run: PathRun, path: string): number {
  const w = PcapngWriter.create(path, { application: `ovnsim ${VERSION}` });
  if (!w.ok) throw new InputError(w.diags.map((d) => error("usage.pcap-out", `--pcap-out ${path}: cannot write the file (${d.message.replace(/^.*?: /, "")})`)));
  const writer = w.value;
  const ifaces = new Map<string, number>();
  const iface = (name: string, description: string): number => {
    let id = ifaces.get(name);
    if (id === undefined) {
      id = writer.addInterface({ name, description });
      ifaces.set(name, id);
    }
    return id;
  };
  let t = 0;
  const put = (id: number, bytes: Uint8Array, comment: string): void => {
    writer.writePacket(id, 0, t, bytes, bytes.length, comment);
    t += 1000;
  };
  const r = run.result;
  put(iface(`vif ${r.first.port}`, `VIF ${r.first.port} on chassis ${r.first.chassis}`), r.first.frame, `sent by ${r.first.port}`);
  r.hops.forEach((h, i) => {
    if (h.kind === "wire") put(iface(h.name, h.tunnel ? `${h.tunnel.type} tunnel ${h.from} - ${h.to}` : `provider network ${h.network}${h.vlan ? ` VLAN ${h.vlan}` : ""}`), h.frame, `hop ${i + 1}: ${h.from} -> ${h.to}`);
    else if (h.kind === "deliver") put(iface(`vif ${h.port}`, `VIF ${h.port} on chassis ${h.chassis}`), h.frame, `hop ${i + 1}: delivered to ${h.port}`);
  });
  const closed = writer.close();
  if (!closed.ok) throw new InputError(closed.diags);
  return writer.packets;
}
