/**
 * The megaflow oracle (fixtures/ovs/megaflows-kube-ovn-default.json): the flow-cache issue's five
 * packets, traced by real OVS `ofproto/trace` on a dummy-datapath ovs-vswitchd programmed by
 * ovn-controller as node1.
 *
 * Always: the recording has the packets of scripts/ovs-megaflows.ts with the flows and
 * frames derived from their microflows, is well formed (every pass's megaflow parses, the
 * recirculation chain is unbroken, in_port is the entry VIF), every megaflow matches the flow of
 * the pass that made it (a megaflow must cover the packet it was made for), and each packet ends
 * where its scenario says (delivered to the right port, tunnelled to node2 with the right keys, or
 * dropped). The normalization the live check relies on hides renumbering but not real changes.
 *
 * Where OVS/OVN are installed, the topologies are built again and the live traces must equal the
 * recording after normalization (recirculation ids, ct zones, port numbers, tunnel keys and
 * cookies named instead of numbered). Rewrite it with `npx tsx scripts/ovs-megaflows.ts --record`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flagBits, ovsAvailable, parseFlowFields, startRealChassis, type FlowField } from "../../src/ovn/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { checkRecordingShape, compareRecordings, odpPacketOf, ovsFlowOf, PACKETS, RECORDING, recordMegaflows, ROOT, type MegaflowRecording, type PacketRecord, type TopologyRecord } from "../../scripts/ovs-megaflows.js";
import { ovnsimKeyNames } from "../../src/cli/conformance-run.js";

const LIVE = ovsAvailable() && process.env.OVNSIM_NO_OVN !== "1";
if (!LIVE) console.warn("ovs-megaflow: OVS/OVN not installed (or OVNSIM_NO_OVN=1); checking the recording only");

const rec: MegaflowRecording | undefined = existsSync(RECORDING) ? (JSON.parse(readFileSync(RECORDING, "utf8")) as MegaflowRecording) : undefined;

function packet(name: string): { p: PacketRecord; topo: TopologyRecord } {
  const p = rec!.packets.find((x) => x.name === name)!;
  return { p, topo: rec!.topologies.find((t) => t.scenario === p.scenario)! };
}

function lsp(topo: TopologyRecord, name: string) {
  const port = topo.ports.find((x) => x.lsp === name);
  if (!port) throw new Error(`no port for ${name}`);
  return port;
}

function fieldsOf(text: string): ReadonlyMap<string, FlowField> {
  const r = parseFlowFields(text);
  if (!r.ok) throw new Error(`${text}: ${r.diags[0]?.message}`);
  return r.value.fields;
}

/** A field value as a number (MAC, IPv4, hex or decimal), for masked comparison. */
function num(v: string): bigint | undefined {
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v)) return BigInt(`0x${v.replace(/:/g, "")}`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v)) return v.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  if (/^0x[0-9a-f]+$/i.test(v) || /^\d+$/.test(v)) return BigInt(v);
  return undefined;
}

/** Top-level output port numbers of a datapath actions line (bare numbers between commas). */
function outputs(actions: string): number[] {
  const body = actions.replace(/^Datapath actions:\s*/, "");
  const out: number[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if ((c === "," && depth === 0) || i === body.length) {
      const tok = body.slice(start, i);
      if (/^\d+$/.test(tok)) out.push(Number(tok));
      start = i + 1;
    }
  }
  return out;
}

describe("the recorded real-OVS megaflows", () => {
  it("exists (npx tsx scripts/ovs-megaflows.ts --record where OVS is installed)", () => {
    expect(rec).toBeDefined();
  });

  it("has the packets of the script, each with the OVS flow and frame its microflow gives", () => {
    expect(rec!.packets.map((p) => p.name)).toEqual(PACKETS.map((p) => p.name));
    for (const def of PACKETS) {
      const { p, topo } = packet(def.name);
      expect(p.inport).toBe(def.inport);
      expect(p.microflow).toBe(def.microflow);
      expect(p.microflow.startsWith(`inport == "${def.inport}"`)).toBe(true);
      const flow = ovsFlowOf(def.microflow, lsp(topo, def.inport).ofport);
      expect(flow.ok && flow.value).toBe(p.ovsFlow);
      const frame = odpPacketOf(def.microflow);
      expect(frame.ok && frame.value).toBe(p.injected);
    }
  });

  it("is well formed: megaflows parse, recirculations chain, in_port is the entry VIF", () => {
    expect(checkRecordingShape(rec!)).toEqual([]);
  });

  it("every megaflow matches the flow of the pass that made it", () => {
    const problems: string[] = [];
    for (const p of rec!.packets) {
      p.passes.forEach((pass, i) => {
        const mf = fieldsOf(pass.megaflow);
        const flow = fieldsOf(pass.flow);
        for (const [name, f] of mf) {
          if (name === "ct_state") {
            const want = flagBits(f.value);
            const have = flagBits(flow.get("ct_state")?.value ?? "0");
            if (!want.ok || !have.ok || (have.value.value & want.value.mask) !== want.value.value) problems.push(`${p.name} pass ${i}: ct_state ${f.value} does not match ${flow.get("ct_state")?.value}`);
            continue;
          }
          // What OVS leaves out of a printed flow is its default: zero metadata, an Ethernet packet.
          const fv = flow.get(name)?.value ?? (name.startsWith("ct_") || name === "recirc_id" || name === "dp_hash" ? "0" : name === "packet_type" ? "(0,0)" : undefined);
          if (fv === undefined) {
            problems.push(`${p.name} pass ${i}: the flow has no ${name}`);
            continue;
          }
          const a = num(f.value);
          const b = num(fv);
          const m = f.mask !== undefined ? num(f.mask) : undefined;
          if (a === undefined || b === undefined) {
            if (f.value !== fv) problems.push(`${p.name} pass ${i}: ${name}=${f.value} but the flow has ${fv}`);
          } else if (m !== undefined ? (a & m) !== (b & m) : a !== b) {
            problems.push(`${p.name} pass ${i}: ${name}=${f.value}${f.mask ? `/${f.mask}` : ""} does not match the flow's ${fv}`);
          }
        }
      });
    }
    expect(problems).toEqual([]);
  });

  it("same switch: the last pass outputs to web-2.default's datapath port, and only there", () => {
    const { p, topo } = packet("same-switch-pod-to-pod");
    expect(outputs(p.passes.at(-1)!.actions)).toEqual([lsp(topo, "web-2.default").odpPort]);
    expect(p.passes.slice(0, -1).every((x) => outputs(x.actions).length === 0)).toBe(true);
  });

  it("cross chassis: the last pass pushes geneve to node2 with ovn-default's VNI and web-1 → web-3 port keys", () => {
    const { p, topo } = packet("cross-chassis-pod-to-pod");
    const last = p.passes.at(-1)!.actions;
    const m = /tnl_push\(tnl_port\(\d+\),header\(.*ipv4\(src=([\d.]+),dst=([\d.]+),proto=17.*udp\(src=0,dst=6081.*geneve\(crit,vni=0x([0-9a-f]+),options\(\{class=0x102,type=0x80,len=4,0x([0-9a-f]+)\}\)\)\),out_port\((\d+)\)\)/.exec(last);
    expect(m, last).not.toBeNull();
    const [, src, dst, vni, opt, outPort] = m!;
    expect(src).toBe("192.168.0.11");
    expect(dst).toBe("192.168.0.12");
    expect(parseInt(vni!, 16)).toBe(topo.tunnelKeys.datapaths["ovn-default"]);
    const o = parseInt(opt!, 16);
    expect(o >>> 16).toBe(topo.tunnelKeys.ports["web-1.default"]);
    expect(o & 0xffff).toBe(topo.tunnelKeys.ports["web-3.default"]);
    expect(Number(outPort)).toBe(topo.datapathPorts["br-phys"]);
    // br-phys forwards the encapsulated frame out of its uplink.
    expect(outputs(last)).toEqual([topo.datapathPorts["eth0"]]);
  });

  it("service VIP: a dp_hash pass picks 10.16.0.3:8080, and the last pass outputs to web-2.default", () => {
    const { p, topo } = packet("pod-to-service-vip");
    const hashed = p.passes.findIndex((x) => x.dpHash !== undefined);
    expect(hashed).toBeGreaterThan(0);
    expect(p.passes[hashed - 1]!.actions).toMatch(/hash\(l4\(0\)\),recirc\(0x[0-9a-f]+\)$/);
    expect(p.passes[hashed]!.actions).toContain("nat(dst=10.16.0.3:8080)");
    expect(fieldsOf(p.passes[hashed]!.megaflow).get("dp_hash")?.mask).toBe("0xf");
    // The pass after the DNAT sees the backend's address (OVS simulates the NAT for the trace).
    expect(fieldsOf(p.passes[hashed + 1]!.flow).get("nw_dst")?.value).toBe("10.16.0.3");
    expect(p.continuations.length).toBe(1);
    expect(outputs(p.passes.at(-1)!.actions)).toEqual([lsp(topo, "web-2.default").odpPort]);
  });

  it("router: the packet is routed (MACs rewritten, TTL 63) and delivered to api-1.apps", () => {
    const { p, topo } = packet("pod-to-router-to-other-subnet");
    const all = p.passes.map((x) => x.actions).join("\n");
    expect(all).toContain("set(eth(src=00:00:00:17:00:01,dst=00:00:00:17:00:02))");
    expect(all).toContain("set(ipv4(ttl=63))");
    expect(outputs(p.passes.at(-1)!.actions)).toEqual([lsp(topo, "api-1.apps").odpPort]);
  });

  it("ACL drop: no pass outputs anything; the last one only sends the log to the controller", () => {
    const { p } = packet("acl-drop");
    for (const x of p.passes) {
      expect(outputs(x.actions), x.actions).toEqual([]);
      expect(x.actions).not.toContain("tnl_push");
    }
    expect(p.passes.at(-1)!.actions).toMatch(/^Datapath actions: userspace\(pid=\d+,controller\(/);
  });

  it("normalization hides renumbering and keeps real differences", () => {
    const shifted: MegaflowRecording = JSON.parse(
      JSON.stringify(rec!)
        .replace(/recirc(_id)?([=(])0x([0-9a-f]+)/g, (_m, id: string | undefined, sep: string, h: string) => `recirc${id ?? ""}${sep}0x${(parseInt(h, 16) + 0x40).toString(16)}`)
        .replace(/recirc_id=(\d+)/g, (_m, n: string) => (n === "0" ? "recirc_id=0" : `recirc_id=${Number(n) + 0x40}`)),
    ) as MegaflowRecording;
    // Add 100 to every ct zone number, in the maps and in the lines.
    const renumbered = shifted.topologies.map((t) => ({ ...t, ctZones: Object.fromEntries(Object.entries(t.ctZones).map(([k, v]) => [k, v + 100])) }));
    const bump = (s: string) => s.replace(/\b(ct_zone|zone)([=(])(\d+)/g, (_m, k: string, sep: string, n: string) => `${k}${sep}${Number(n) + 100}`);
    const moved: MegaflowRecording = {
      ...shifted,
      topologies: renumbered,
      packets: shifted.packets.map((p) => ({ ...p, passes: p.passes.map((x) => ({ ...x, megaflow: bump(x.megaflow), actions: bump(x.actions) })), datapathFlows: p.datapathFlows.map(bump) })),
    };
    expect(JSON.stringify(moved)).not.toBe(JSON.stringify(rec));
    expect(compareRecordings(rec!, moved)).toEqual([]);
    // A real change: one mask bit more in one megaflow.
    const changed: MegaflowRecording = JSON.parse(JSON.stringify(rec!).replace("nw_dst=10.0.0.0/10", "nw_dst=10.0.0.0/11")) as MegaflowRecording;
    expect(compareRecordings(rec!, changed).length).toBeGreaterThan(0);
  });

  it.skipIf(!LIVE)("is what real OVS says now", () => {
    const live = recordMegaflows();
    expect(live.ok, live.ok ? "" : live.diags.map((d) => `${d.message} ${(d.notes ?? []).join(" ")}`).join("\n")).toBe(true);
    if (!live.ok) return;
    expect(checkRecordingShape(live.value)).toEqual([]);
    expect(compareRecordings(rec!, live.value), "stale recording: run npx tsx scripts/ovs-megaflows.ts --record").toEqual([]);
  });
});

describe("a real chassis beside the sandbox", () => {
  it("refuses a chassis the network does not have, with a diagnostic", () => {
    const l = loadNetworkFile(join(ROOT, "scenarios/kube-ovn-default.yaml"));
    expect(l.ok).toBe(true);
    if (!l.ok) return;
    const r = startRealChassis(l.value.network, "node9");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diags[0]?.code).toBe("ovs.no-chassis");
  });

  it.skipIf(!LIVE)("plugs node1's VIFs, builds the tunnel to node2, and stops exactly what it started", () => {
    const l = loadNetworkFile(join(ROOT, "scenarios/kube-ovn-default.yaml"));
    expect(l.ok).toBe(true);
    if (!l.ok) return;
    const t = startRealChassis(l.value.network, "node1", { expectKeys: ovnsimKeyNames(l.value.network) });
    expect(t.ok, t.ok ? "" : t.diags.map((d) => d.message).join("; ")).toBe(true);
    if (!t.ok) return;
    const dir = t.value.chassis.dir;
    const pids = ["ovsdb-server", "ovs-vswitchd", "ovn-controller"].map((n) => Number(readFileSync(join(dir, `${n}.pid`), "utf8").trim()));
    try {
      const ports = t.value.chassis.ports();
      expect(ports.ok).toBe(true);
      if (!ports.ok) return;
      const vifs = ports.value.filter((p) => p.lsp !== undefined).map((p) => p.lsp).sort();
      expect(vifs).toEqual(["coredns-1.kube-system", "web-1.default", "web-2.default"]);
      expect(ports.value.filter((p) => p.type === "geneve").length).toBe(1);
      for (const p of ports.value) expect(p.odpPort, p.name).toBeDefined();
      const zones = t.value.chassis.ctZones();
      expect(zones.ok && [...zones.value.keys()].filter((k) => !k.includes("_")).sort()).toEqual(["coredns-1.kube-system", "web-1.default", "web-2.default"]);
      const sbChassis = t.value.sandbox.sbList("Chassis", ["name"]);
      expect(sbChassis.ok && sbChassis.value.map((c) => String(c.name)).sort()).toEqual(["node1", "node2"]);
      expect(t.value.flows).toBeGreaterThan(100);
    } finally {
      t.value.stop();
    }
    expect(existsSync(dir)).toBe(false);
    for (const pid of pids) {
      let gone = false;
      try {
        process.kill(pid, 0);
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        gone = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
      } catch {
        gone = true;
      }
      expect(gone, `pid ${pid}`).toBe(true);
    }
  });
});
