/**
 * Megaflows match the registers a pass reads, not all of them. A logical switch without routers
 * or ACLs keeps its state in the registers OVN documents for it (ovn-architecture, "logical
 * flows" registers): reg0 (flags of the pre-/stateful stages), reg10 (MFF_LOG_FLAGS), reg13
 * (the port's conntrack zone), reg14 (logical input port) and reg15 (logical output port). The
 * megaflows of the flow-cache issue's switch packets (scripts/ovs-megaflows.ts) must match no
 * other register, and `metadata` only where a tunnel arrival starts from it, as OVS keeps both out
 * of its datapath key.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compilePhysical } from "../../src/compile/index.js";
import { W } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";
import { readFileSync } from "node:fs";
import { PACKETS, RECORDING, type MegaflowRecording, type OraclePacket } from "../../scripts/ovs-megaflows.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SWITCH_REGS = new Set([0, 10, 13, 14, 15]);
/** The `recirc_id` of a tunnel arrival (datapath.ts: entry 1). */
const TUNNEL_ENTRY = 1;

/** A fresh replayer (megaflows only, no exact-match cache) after the packet `p` went through it once. */
function injectOnce(p: OraclePacket): { r: Replayer; chassis: string } {
  const sc = loadNetworkFile(join(ROOT, "scenarios", p.scenario));
  if (!sc.ok) throw new Error(sc.diags[0]!.message);
  const r = new Replayer(sc.value.network, { cache: { emcInsertInvProb: 0 } });
  const at = r.injectionFor(p.inport)!;
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error("physical plan");
  const mf = compileMicroflow(plan.value.chassis.get(at.chassis)!.program, undefined, p.microflow);
  if (!mf.ok) throw new Error(mf.diags[0]!.message);
  const key = mf.value.key.slice();
  key.fill(0, 0, W.REG0 + 16);
  r.group.inject(at.datapath, at.entry, key);
  return { r, chassis: at.chassis };
}

describe("megaflow registers", () => {
  for (const name of ["same-switch-pod-to-pod", "cross-chassis-pod-to-pod", "pod-to-service-vip"]) {
    it(`${name}: only reg0, reg10, reg13-15, and metadata only on a tunnel arrival`, () => {
      const p = PACKETS.find((x) => x.name === name)!;
      const { r } = injectOnce(p);
      const flows = r.group.datapaths().flatMap((d) => d.cache!.megaflows());
      // Three or four passes: conntrack recirculations, and the tunnel for the cross-chassis one.
      expect(flows.length).toBeGreaterThanOrEqual(3);
      for (const f of flows) {
        const regs = Array.from({ length: 16 }, (_, i) => i).filter((i) => f.mask[W.REG0 + i] !== 0);
        expect(regs.filter((i) => !SWITCH_REGS.has(i)), `registers matched by ${f.value[W.RECIRC_ID]}`).toEqual([]);
        expect(f.mask[W.METADATA] !== 0).toBe(f.value[W.RECIRC_ID] === TUNNEL_ENTRY);
        expect(f.mask[W.DP_HASH]).toBe(0);
        expect(f.mask[W.IN_PORT]).toBe(0);
      }
      // Some pass reads no register at all but the output port (the egress delivery after the
      // egress conntrack), so not every megaflow matches every switch register either.
      expect(flows.some((f) => f.mask[W.REG0 + 14] === 0)).toBe(true);
    });
  }

  // Real OVS recirculates at the conntrack actions that continue in another table (ct_next,
  // ct_lb_mark, ct_dnat, ...), not at ct_commit, and once more to pick a load balancer's backend
  // (the dp_hash pass, which ovnsim's ct_lb does not need).
  for (const p of PACKETS) {
    it(`${p.name}: node1 takes the passes real OVS takes there, less the dp_hash pass`, () => {
      const rec = JSON.parse(readFileSync(RECORDING, "utf8")) as MegaflowRecording;
      const real = rec.packets.find((x) => x.name === p.name)!;
      const { r, chassis } = injectOnce(p);
      expect(chassis).toBe("node1");
      // A fresh cache misses on every pass: one install per pass.
      const installed = r.group.datapath("node1")!.cache!.stats().installed;
      expect(installed).toBe(real.passes.filter((x) => x.dpHash === undefined).length);
    });
  }
});
