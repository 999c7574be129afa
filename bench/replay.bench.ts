/**
 * Replay benchmarks: the datapath flow cache against the slow path.
 *
 * Macro (`replay/kube-ovn-default`, `replay/network-policy`, `replay/kube-ovn-dual-stack`, where
 * the capture's IPv6 packets map too): `bench/ndpi-composite-99k.pcap`
 * from the shared captures, mapped onto the scenario (`--map auto`), replayed BENCH_RUNS times
 * (default 5) with the cache (default exact-match insertion 1/100) and without it, each run on a
 * fresh network; medians of the packet loop's rate (the mapping's first pass and the compile are
 * not in it), the speedup from the same run, the rate with the megaflow classifier alone (no
 * exact-match cache), hit rates, megaflows, masks and the peak RSS.
 * `replay/workers` replays the same capture (REPLAY_COPIES times in a row, default 4) onto
 * kube-ovn-default with one and with two worker processes and reports the aggregate rate (packets
 * over the slowest shard's loop time).
 *
 * Micro (tinybench, kube-ovn-default, the scenario's own TCP/UDP probes as packets):
 * `cache/emc-hit` and `cache/megaflow-hit` inject one already-cached packet (every pass hits),
 * `cache/slow-path` translates one pass without the cache, `cache/extract` extracts a key.
 * `cache/lookup-64-masks` looks keys up in a flow cache alone (no EMC) holding 1,650 megaflows
 * over 64 random masks of about 11 words, each probe key matching one megaflow, with the
 * subtables' specialised lookup and with the generic one, in one run.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Bench } from "tinybench";
import { printTinybench } from "./report.js";
import { pcapsDir } from "./pcap.bench.js";
import { compileMicroflow, compilePhysical } from "../src/compile/index.js";
import { KEY_WORDS, W, extractKey, field, frameFromKey, setField } from "../src/flow/index.js";
import { FlowCache, type FlowCacheOptions } from "../src/dataplane/index.js";
import { Replayer, mapInjector, replayInWorkers, type ReplayReport } from "../src/replay/index.js";
import { loadNetworkFile } from "../src/scenario/index.js";

export const cases = ["replay/kube-ovn-default", "replay/network-policy", "replay/kube-ovn-dual-stack", "replay/workers", "cache/emc-hit", "cache/megaflow-hit", "cache/slow-path", "cache/extract", "cache/lookup-64-masks"];

const SCEN = resolve(process.cwd(), "scenarios");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function once(scenario: string, file: string, bytes: Uint8Array, cache: boolean | FlowCacheOptions): ReplayReport {
  const sc = loadNetworkFile(join(SCEN, scenario));
  if (!sc.ok) throw new Error(`${scenario}: ${sc.diags[0]?.message}`);
  const r = new Replayer(sc.value.network, { cache: cache === true ? {} : cache });
  const inj = mapInjector(r, "auto", [{ file, bytes }]);
  return r.run([{ file, bytes }], inj);
}

const pps = (r: ReplayReport): number => r.replayed / (r.elapsedNs / 1e9);
const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} Mpps` : `${(x / 1e3).toFixed(1)} kpps`);

function macro(scenario: string, file: string): void {
  const bytes = new Uint8Array(readFileSync(file));
  const on: number[] = [];
  const off: number[] = [];
  const noEmc: number[] = [];
  let last: ReplayReport | undefined;
  for (let i = 0; i < RUNS; i++) {
    last = once(scenario, file, bytes, true);
    on.push(pps(last));
    off.push(pps(once(scenario, file, bytes, false)));
    noEmc.push(pps(once(scenario, file, bytes, { emcInsertInvProb: 0 })));
  }
  const c = last!.stats.cache;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`replay ${scenario} (${last!.replayed} of ${last!.read} packets mapped; ${last!.stats.passes} datapath passes), median of ${RUNS} runs:`);
  console.log(`  with the cache:    ${fmt(median(on))}  (runs: ${on.map(fmt).join(", ")})`);
  console.log(`  slow path only:    ${fmt(median(off))}  (runs: ${off.map(fmt).join(", ")})`);
  console.log(`  speedup:           ${(median(on) / median(off)).toFixed(2)}x`);
  console.log(`  cache without the exact-match cache (--emc-insert-inv-prob 0): ${fmt(median(noEmc))}  (runs: ${noEmc.map(fmt).join(", ")})`);
  console.log(`  exact-match hits ${((100 * c.emcHits) / c.lookups).toFixed(1)}%, megaflow hits ${((100 * c.megaflowHits) / c.lookups).toFixed(1)}% (${c.avgSubtablesPerHit.toFixed(2)} subtables per hit), upcalls ${((100 * c.misses) / c.lookups).toFixed(2)}%`);
  console.log(`  megaflows ${c.megaflows} (${last!.stats.exactMegaflows} exact), masks ${c.masks}, connections ${last!.connections}, peak RSS ${rss.toFixed(0)} MiB`);
}

async function workers(file: string): Promise<void> {
  // Copies of the capture in a row (REPLAY_COPIES, default four), so that each worker's loop
  // outlasts its JIT warm-up.
  const copies = Number(process.env.REPLAY_COPIES ?? 4);
  const job = { network: join(SCEN, "kube-ovn-default.yaml"), captures: Array.from({ length: copies }, () => file), map: "auto", cache: true };
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    one.push(pps(await replayInWorkers(job, 1)));
    two.push(pps(await replayInWorkers(job, 2)));
  }
  console.log(`replay workers (kube-ovn-default, cache on, ${copies} copies of the capture), median of ${RUNS} runs: 1 worker ${fmt(median(one))}, 2 workers ${fmt(median(two))}, ratio ${(median(two) / median(one)).toFixed(2)}x`);
  console.log(`  runs 1: ${one.map(fmt).join(", ")}; runs 2: ${two.map(fmt).join(", ")}`);
}

async function micro(filter: RegExp): Promise<void> {
  const sc = loadNetworkFile(join(SCEN, "kube-ovn-default.yaml"));
  if (!sc.ok) throw new Error("scenario");
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error("physical");
  const emc = new Replayer(sc.value.network, { cache: { emcInsertInvProb: 1 } });
  const mega = new Replayer(sc.value.network, { cache: { emcInsertInvProb: 0 } });
  const slow = new Replayer(sc.value.network, { cache: false });
  const p = sc.value.probes.find((x) => x.name === "web1-to-web3-tcp-cross-node")!;
  const at = (r: Replayer) => r.injectionFor("web-1.default")!;
  const mf = compileMicroflow(plan.value.chassis.get(at(emc).chassis)!.program, undefined, p.microflow);
  if (!mf.ok) throw new Error("microflow");
  const key = mf.value.key.slice();
  key.fill(0, 0, W.REG0 + 16);
  // An ACK: the probe gives no TCP flags, and replay's conntrack (OVS's rule) starts no connection
  // from a packet without SYN, ACK or RST.
  setField(key, field("tcp_flags"), 0x10);
  for (const r of [emc, mega]) for (let i = 0; i < 1000; i++) r.group.inject(at(r).datapath, at(r).entry, key);
  const frame = frameFromKey(key, { payload: new Uint8Array(64) });
  const k2 = new Uint32Array(KEY_WORDS);
  const bench = new Bench({ time: 1000, warmupTime: 300 });
  const ae = at(emc);
  const am = at(mega);
  const as = at(slow);
  const passKey = key.slice();
  passKey[W.RECIRC_ID] = as.entry;
  if (filter.test("cache/emc-hit")) bench.add("cache/emc-hit (one packet, every pass)", () => emc.group.inject(ae.datapath, ae.entry, key));
  if (filter.test("cache/megaflow-hit")) bench.add("cache/megaflow-hit (one packet, every pass)", () => mega.group.inject(am.datapath, am.entry, key));
  if (filter.test("cache/slow-path")) bench.add("cache/slow-path (one pass translated)", () => as.datapath.translate(passKey, false));
  if (filter.test("cache/extract")) bench.add("cache/extract (key from a frame)", () => extractKey(frame, 0, frame.length, frame.length, 1, k2, 0, false));
  if (filter.test("cache/lookup-64-masks")) {
    for (const specialise of [true, false]) {
      const { cache, probes } = lookupSetup(specialise);
      let i = 0;
      bench.add(`cache/lookup-64-masks (${specialise ? "specialised" : "generic"} subtable lookup)`, () => {
        cache.lookup(probes[i]!);
        i = i + 1 === probes.length ? 0 : i + 1;
      });
    }
  }
  await bench.run();
  const s = emc.group.stats();
  console.log(`micro: the packet takes ${(s.passes / s.packets).toFixed(1)} datapath passes (conntrack recirculations and the tunnel)`);
  printTinybench(bench);
}

/**
 * A flow cache without EMC holding 1,650 megaflows over 64 masks (recirc_id plus about 10 of 19
 * words a pipeline reads, whole or in part), and 4,096 probe keys that each match one megaflow.
 */
function lookupSetup(specialise: boolean): { cache: FlowCache<number>; probes: Uint32Array[] } {
  let x = 12345;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const cache = new FlowCache<number>({ emcInsertInvProb: 0, specialise });
  const read = [W.IN_PORT, W.METADATA, W.REG0, W.REG0 + 10, W.REG0 + 13, W.REG0 + 14, W.REG0 + 15, W.CT_STATE_ZONE, W.ETH_SRC, W.ETH_SRC + 1, W.ETH_DST, W.ETH_DST + 1, W.ETH_TYPE, W.NW, W.NW_SRC, W.NW_DST, W.TP, W.TCP_FLAGS, W.PARSE];
  const masks: Uint32Array[] = [];
  for (let m = 0; m < 64; m++) {
    const mask = new Uint32Array(KEY_WORDS);
    mask[W.RECIRC_ID] = 0xffffffff;
    for (const w of read) if (rnd() % 100 < 55) mask[w] = [0xffffffff, 0xffff, 0xff000000, 0xffffffff][rnd() % 4]!;
    masks.push(mask);
  }
  const keys: Uint32Array[] = [];
  for (let i = 0; i < 1650; i++) {
    const k = new Uint32Array(KEY_WORDS);
    k[W.RECIRC_ID] = i % 4;
    for (const w of read) k[w] = rnd();
    cache.install(k, masks[i % 64]!, i);
    keys.push(k);
  }
  const probes: Uint32Array[] = [];
  for (let i = 0; i < 4096; i++) {
    const k = Uint32Array.from(keys[rnd() % keys.length]!);
    k[W.TUN_ID] = rnd();
    probes.push(k);
  }
  return { cache, probes };
}

export async function main(filter: RegExp = /./): Promise<void> {
  const file = join(pcapsDir(), "bench/ndpi-composite-99k.pcap");
  let have = true;
  try {
    readFileSync(file);
  } catch {
    have = false;
    console.log(`replay: ${file} is absent (set OVNSIM_PCAPS); the macro cases are skipped`);
  }
  if (have && filter.test("replay/kube-ovn-default")) macro("kube-ovn-default.yaml", file);
  if (have && filter.test("replay/network-policy")) macro("network-policy.yaml", file);
  if (have && filter.test("replay/kube-ovn-dual-stack")) macro("kube-ovn-dual-stack.yaml", file);
  if (have && filter.test("replay/workers")) await workers(file);
  if (cases.filter((c) => c.startsWith("cache/")).some((c) => filter.test(c))) await micro(filter);
}
