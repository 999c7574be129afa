/**
 * Renderings of an end-to-end path (`dataplane/fabric.ts`): the hop list, its physical detail in
 * the style of `ofproto/trace`, and a Mermaid sequence diagram.
 *
 * The hop list numbers hops in the order they happened; a hop that does not follow the one before
 * it (a flood's second copy) says which hop it came from. Wire hops print the on-wire packet in
 * tcpdump's style (outer headers, then the inner frame), plus the facts that matter for OVN: the
 * Geneve VNI and OVN option (ingress and egress port keys, with names), the VXLAN VNI split into
 * datapath and egress port, the VLAN id.
 */
import { decodeFrame, formatLine } from "../packet/index.js";
import type { ChassisHop, FabricResult, Hop, WireHop } from "../dataplane/index.js";
import type { LogicalProgram, PhysicalFlow } from "../ofp/index.js";

const LINKTYPE_ETHERNET = 1;

/** Port and datapath names for keys, per zone. */
export interface HopNames {
  readonly programs: ReadonlyMap<string, LogicalProgram>;
}

function frameLine(frame: Uint8Array): string {
  return formatLine(decodeFrame(frame, 0, frame.length, LINKTYPE_ETHERNET));
}

function portName(p: LogicalProgram | undefined, dp: number, port: number): string {
  const d = p?.datapaths.get(dp);
  const name = port >= 32768 ? [...(d?.multicast.values() ?? [])].find((g) => g.key === port)?.name : d?.ports.get(port)?.name;
  return name ?? (port === 0 ? "unknown" : `key ${port}`);
}

function dpName(p: LogicalProgram | undefined, dp: number): string {
  return p?.datapaths.get(dp)?.name ?? `datapath ${dp}`;
}

/** A one-line description of a wire hop's tunnel or VLAN facts. */
export function wireFacts(h: WireHop, program: LogicalProgram | undefined): string {
  if (h.tunnel) {
    const t = h.tunnel;
    if (t.type === "vxlan") {
      const dp = t.vni & 0xfff;
      const p12 = (t.vni >>> 12) & 0xfff;
      const out = (p12 & 0x800) !== 0 ? 0x8000 | (p12 & 0x7ff) : p12;
      return `VXLAN ${t.srcIp} -> ${t.dstIp}, VNI ${t.vni} (datapath ${dp} ${dpName(program, dp)}, egress port ${out} ${portName(program, dp, out)}; no ingress port)`;
    }
    return `Geneve ${t.srcIp} -> ${t.dstIp}, VNI ${t.vni} (${dpName(program, t.vni)}), option class 0x0102 type 0x80: ingress port ${t.inport} (${portName(program, t.vni, t.inport ?? 0)}), egress port ${t.outport} (${portName(program, t.vni, t.outport ?? 0)})`;
  }
  return `${h.network}: ${h.vlan ? `802.1Q VLAN ${h.vlan}` : "untagged"}, no tunnel${h.bridgeOnly === true ? `; within ${h.from}'s provider bridge, from one switch's patch port to another's, not on the uplink` : ""}`;
}

function entryText(h: ChassisHop, program: LogicalProgram | undefined): string {
  const e = h.entry;
  switch (e.via) {
    case "vif":
      return `from VIF ${e.port} (ofport ${e.ofport})`;
    case "tunnel":
      return `from ${e.type} tunnel of ${e.from} (ofport ${e.ofport}): ${dpName(program, e.datapath)}, outport ${portName(program, e.datapath, e.outport)}`;
    case "localnet":
      return `from provider network ${e.network}${e.vlan ? ` VLAN ${e.vlan}` : ""} on localnet port ${e.port} (ofport ${e.ofport})`;
    default: {
      const _never: never = e;
      return _never;
    }
  }
}

function chassisOutcome(h: ChassisHop): string {
  const r = h.result;
  const parts: string[] = [];
  for (const o of r.outputs) parts.push(`output to ${o.portName}${o.portType ? ` (${o.portType})` : ""}`);
  for (const t of r.tunnels) parts.push(`${t.outportName} is on ${t.chassis}: tunnel`);
  for (const d of r.drops) parts.push(`dropped: ${d.reason}${d.stage ? ` in ${d.stage}` : ""}${d.origin ? ` by ${d.origin}` : ""}${d.detail ? ` (${d.detail})` : ""}`);
  return parts.join("; ") || "nothing";
}

function hopLines(h: Hop, names: HopNames): string[] {
  switch (h.kind) {
    case "chassis": {
      const p = names.programs.get(h.zone);
      return [`chassis ${h.chassis}${names.programs.size > 1 ? ` (${h.zone})` : ""}: ${entryText(h, p)}`, ...h.notes.map((n) => `   ${n}`), `   ${chassisOutcome(h)}`];
    }
    case "wire": {
      const p = h.tunnel ? programOfWire(h, names) : undefined;
      return [`wire ${h.from} -> ${h.to}: ${wireFacts(h, p)}`, `   ${frameLine(h.frame)}`];
    }
    case "gateway":
      return [`underlay gateway on ${h.network}${h.inVlan ? ` VLAN ${h.inVlan}` : ""}: ${h.detail}`];
    case "deliver":
      return [`delivered to ${h.port} on ${h.chassis}${h.ofport !== undefined ? ` (ofport ${h.ofport})` : ""}`, `   ${frameLine(h.frame)}`];
    case "drop":
      return [`dropped at ${h.where}: ${h.reason}`];
    default: {
      const _never: never = h;
      return _never;
    }
  }
}

function programOfWire(h: WireHop, names: HopNames): LogicalProgram | undefined {
  // A tunnel carries the sender's keys (a transit switch has the same keys in every zone).
  return names.programs.get(h.zone);
}

/** The numbered hop list. */
export function renderHops(r: FabricResult, names: HopNames): string {
  const out: string[] = [];
  out.push(`${r.first.port} on chassis ${r.first.chassis} sends:`, `   ${frameLine(r.first.frame)}`);
  r.hops.forEach((h, i) => {
    const lines = hopLines(h, names);
    const from = h.parent !== undefined && h.parent !== i - 1 ? ` (from hop ${h.parent + 1})` : "";
    out.push(`${String(i + 1).padStart(3)}. ${lines[0]}${from}`);
    for (const l of lines.slice(1)) out.push(`     ${l}`);
  });
  return out.join("\n") + "\n";
}

/** One physical flow in ofproto/trace's style. */
export function physicalFlowLines(f: PhysicalFlow): string[] {
  return [`${String(f.table).padStart(2)}. ${f.match ? `${f.match}, ` : ""}priority ${f.priority}${f.note ? `   /* ${f.note} */` : ""}`, `    ${f.actions}`];
}

/** Per chassis hop, the physical flows it used, as ofproto/trace lists them. */
export function renderPhysical(r: FabricResult): string {
  const out: string[] = [];
  r.hops.forEach((h, i) => {
    if (h.kind !== "chassis") return;
    out.push(`hop ${i + 1}, chassis ${h.chassis}: bridge("br-int")`);
    for (const f of h.flows) out.push(...physicalFlowLines(f).map((l) => `  ${l}`));
    out.push("");
  });
  return out.join("\n");
}

function mid(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function label(s: string): string {
  return s.replace(/->|>/g, "→").replace(/[;#"<]/g, " ").replace(/\s+/g, " ").trim();
}

/** The network part of a packet line, without ports' payload detail: `IPv4 10.0.0.1.80 > 10.0.0.2.81`. */
function packetGist(frame: Uint8Array): string {
  const line = frameLine(frame);
  const net = line.includes(", ") ? line.slice(line.indexOf(", ") + 2) : line;
  return net.replace(/^802\.1Q vlan \d+, /, "").split(": ")[0] ?? net;
}

/** A Mermaid sequence diagram of the path: VIFs, chassis, wires, the underlay gateway. */
export function renderMermaid(r: FabricResult, names: HopNames): string {
  const lines = ["sequenceDiagram"];
  const seen = new Set<string>();
  const participant = (id: string, text: string): string => {
    const m = mid(id);
    if (!seen.has(m)) {
      seen.add(m);
      lines.push(`  participant ${m} as ${label(text)}`);
    }
    return m;
  };
  const src = participant(`vif:${r.first.port}`, `${r.first.port}`);
  const first = participant(`ch:${r.first.chassis}`, `chassis ${r.first.chassis}`);
  const body: string[] = [`  ${src}->>${first}: ${label(packetGist(r.first.frame))}`];
  r.hops.forEach((h) => {
    switch (h.kind) {
      case "chassis":
        body.push(`  Note over ${participant(`ch:${h.chassis}`, `chassis ${h.chassis}`)}: ${label(chassisOutcome(h))}`);
        break;
      case "wire": {
        const a = participant(h.from === "underlay gateway" ? "gw" : `ch:${h.from}`, h.from === "underlay gateway" ? "underlay gateway" : `chassis ${h.from}`);
        const text = label(h.tunnel ? wireFacts(h, programOfWire(h, names)).replace(/, option class.*$/, "") : wireFacts(h, undefined));
        for (const to of h.to.split(", ")) {
          if (to === "nobody") continue;
          const b = participant(to === "underlay gateway" ? "gw" : `ch:${to}`, to === "underlay gateway" ? "underlay gateway" : `chassis ${to}`);
          body.push(`  ${a}->>${b}: ${text}`);
        }
        break;
      }
      case "gateway":
        body.push(`  Note over ${participant("gw", "underlay gateway")}: ${label(h.detail)}`);
        break;
      case "deliver": {
        const a = participant(`ch:${h.chassis}`, `chassis ${h.chassis}`);
        const b = participant(`vif:${h.port}`, h.port);
        body.push(`  ${a}->>${b}: delivered`);
        break;
      }
      case "drop":
        body.push(`  Note right of ${first}: dropped at ${label(h.where)}: ${label(h.reason)}`);
        break;
      default: {
        const _never: never = h;
        return _never;
      }
    }
  });
  return [...lines, ...body].join("\n") + "\n";
}
