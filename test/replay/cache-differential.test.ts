/**
 * Cache on equals cache off: every packet of every real capture, replayed with the flow cache and
 * without it (every pass on the slow path), gives the same outputs (port and every packet field),
 * tunnels, drops (reason and rule), and the same conntrack table afterwards. The network is the
 * Kube-OVN default scenario with the capture mapped onto it (`--map auto`), and the policy
 * scenario; small captures are replayed whole, with the exact-match cache inserting always so both
 * cache levels are exercised. The captures that hold IPv6 are replayed onto the dual-stack
 * scenario too, where their IPv6 packets map. The bench captures go through the two networks whose
 * ovn-controller learns flows from packets (load-balancer affinity, symmetric ECMP replies), where
 * the cache revalidates megaflows one by one as those flows come and go.
 *
 * Mismatches are reported by capture, packet and event.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KEY_WORDS, W, extractKey, newKey } from "../../src/flow/index.js";
import { readCaptureFile } from "../../src/pcap/index.js";
import type { PacketSink } from "../../src/dataplane/index.js";
import { Replayer, mapInjector } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PCAPS = process.env.OVNSIM_PCAPS ?? resolve(ROOT, "../shared/pcaps");

function captures(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/.test(f) && !p.includes("robustness")) out.push(p);
    }
  };
  try {
    walk(PCAPS);
  } catch {
    // absent: the tests skip
  }
  return out;
}

const files = captures();
if (files.length === 0) console.warn(`cache differential: no captures under ${PCAPS} (set OVNSIM_PCAPS); skipped`);

/** Every event of a replay, one line each: packet index, chassis, what, and the packet's words. */
function replayLog(scenario: string, file: string, cache: boolean): { events: string[]; connections: string[]; replayed: number } {
  const sc = loadNetworkFile(join(ROOT, scenario.includes("/") ? scenario : join("scenarios", scenario)));
  if (!sc.ok) throw new Error(`cannot load ${scenario}`);
  const r = new Replayer(sc.value.network, { cache: cache ? { emcInsertInvProb: 1 } : false });
  const bytes = new Uint8Array(readFileSync(file));
  const inj = mapInjector(r, "auto", [{ file, bytes }]);
  const events: string[] = [];
  let n = 0;
  const words = (k: Uint32Array): string => Array.from(k.subarray(0, KEY_WORDS), (w, i) => (i === W.RECIRC_ID ? 0 : w)).join(",");
  const sink: PacketSink = {
    output: (c, op, k) => events.push(`${n} out ${c} ${op.portName} ${words(k)}`),
    drop: (c, op, k) => events.push(`${n} drop ${c} ${op.record.reason} ${op.record.ruleId ?? ""} ${words(k)}`),
    tunnel: (c, op, k) => events.push(`${n} tunnel ${c}->${op.chassis} ${op.outport} ${words(k)}`),
  };
  const counting: PacketSink = { output: (...a) => sink.output(...a), drop: (...a) => sink.drop(...a), tunnel: (...a) => sink.tunnel!(...a) };
  const rep = r.run([{ file, bytes }], { injections: inj.injections, place: (k) => (n++, inj.place(k)), unplaced: () => inj.unplaced() }, counting);
  const connections = r.group.datapaths().flatMap((d) => d.conntrack.connections().map((c) => `${d.chassis} ${c.zone} ${JSON.stringify(c.orig)} ${JSON.stringify(c.reply)} ${c.mark} ${c.label.join(",")} ${c.nat ?? ""}`));
  return { events, connections, replayed: rep.replayed };
}

function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return `event ${i}:\n  cache on:  ${a[i] ?? "(none)"}\n  cache off: ${b[i] ?? "(none)"}`;
  return undefined;
}

/** One case per capture: `scenario` replayed with the cache and without it gives the same log. */
function sameWithAndWithout(scenario: string, list: readonly string[]): void {
  if (list.length === 0) {
    // A suite must hold a test: without captures it holds one that says why it is skipped.
    it.skip(`no captures under ${PCAPS}`, () => {});
    return;
  }
  it.each(list.map((f) => [relative(PCAPS, f), f]))("%s", (_name, file) => {
    const on = replayLog(scenario, file, true);
    const off = replayLog(scenario, file, false);
    expect(on.replayed).toBe(off.replayed);
    expect(firstDifference(on.events, off.events)).toBeUndefined();
    expect(on.events.length).toBe(off.events.length);
    expect(on.connections).toEqual(off.connections);
  }, 120_000);
}

describe.each(["kube-ovn-default.yaml", "network-policy.yaml"])("cache on = cache off on %s", (scenario) => sameWithAndWithout(scenario, files));

/** Whether a capture holds an IPv6 packet (outside tunnels). */
function hasIpv6(file: string): boolean {
  const r = readCaptureFile(file);
  if (!r.ok) return false;
  const rd = r.value;
  const k = newKey();
  while (rd.next()) {
    extractKey(rd.data, rd.offset, rd.caplen, rd.origlen, rd.linkType, k, 0, false);
    if (k[W.ETH_TYPE] === 0x86dd) return true;
  }
  return false;
}

const files6 = files.filter(hasIpv6);

describe("cache on = cache off on kube-ovn-dual-stack.yaml", () => {
  it("some captures hold IPv6", () => {
    if (files.length > 0) expect(files6.length).toBeGreaterThan(0);
  });
  sameWithAndWithout("kube-ovn-dual-stack.yaml", files6);
});

describe.each(["fixtures/ovs/lb-affinity.yaml", "fixtures/ovs/ecmp-symmetric.yaml"])("cache on = cache off on %s (learned flows revalidate megaflows)", (network) => {
  sameWithAndWithout(
    network,
    files.filter((f) => relative(PCAPS, f).startsWith("bench/")),
  );
});
