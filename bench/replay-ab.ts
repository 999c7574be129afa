/**
 * Two builds of ovnsim replaying the same capture alternately in one process, so that the
 * machine's drift, which moves separate sittings by more than most changes do, falls on both
 * alike.
 *
 * Run: `npx tsc -p tsconfig.bench.json` here and in OTHER (a checkout of another commit, e.g. a
 * `git worktree`, with its own `dist-bench`), then
 * `node dist-bench/bench/replay-ab.js OTHER [ROUNDS] [--no-cache] [--scenario FILE]`: ROUNDS
 * (default 16) rounds each replay `bench/ndpi-composite-99k.pcap` (from `$OVNSIM_PCAPS` or
 * `../shared/pcaps`) mapped onto the scenario (default kube-ovn-default), once with this build
 * and once with OTHER, in an order that alternates from round to round, each on a fresh
 * network. Prints, per build, the median packets/s of the rounds after the third (the first
 * ones are V8's warm-up) and every round's figure.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as ReplayModule from "../src/replay/index.js";
import type * as ScenarioModule from "../src/scenario/index.js";

interface Build {
  readonly name: string;
  readonly root: string;
  readonly replay: typeof ReplayModule;
  readonly scenario: typeof ScenarioModule;
}

const WARM = 3;

async function load(name: string, root: string): Promise<Build> {
  const dist = join(root, "dist-bench/src");
  if (!existsSync(join(dist, "replay/index.js"))) throw new Error(`${root}: no dist-bench build (run npx tsc -p tsconfig.bench.json there)`);
  const replay = (await import(pathToFileURL(join(dist, "replay/index.js")).href)) as Build["replay"];
  const scenario = (await import(pathToFileURL(join(dist, "scenario/index.js")).href)) as Build["scenario"];
  return { name, root, replay, scenario };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(args: readonly string[]): Promise<number> {
  const positional = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--scenario");
  const other = positional[0];
  const rounds = Number(positional[1] ?? 16);
  if (other === undefined || !Number.isInteger(rounds) || rounds <= WARM) {
    console.error(`usage: node dist-bench/bench/replay-ab.js OTHER [ROUNDS > ${WARM}] [--no-cache] [--scenario FILE]`);
    return 2;
  }
  const scenarioAt = args.indexOf("--scenario");
  const scenarioFile = scenarioAt >= 0 ? args[scenarioAt + 1]! : "scenarios/kube-ovn-default.yaml";
  const cache = !args.includes("--no-cache");
  const pcaps = process.env.OVNSIM_PCAPS ?? resolve(import.meta.dirname, "../../../shared/pcaps");
  const file = join(pcaps, "bench/ndpi-composite-99k.pcap");
  if (!existsSync(file)) {
    console.error(`replay-ab: no capture ${file} (set OVNSIM_PCAPS)`);
    return 2;
  }
  const bytes = new Uint8Array(readFileSync(file));
  const builds = [await load("this", resolve(import.meta.dirname, "../..")), await load("other", resolve(other))];
  const pps = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  for (let i = 0; i < rounds; i++) {
    for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
      const sc = b.scenario.loadNetworkFile(join(b.root, scenarioFile));
      if (!sc.ok) throw new Error(`${b.root}: ${sc.diags.map((d) => d.message).join("; ")}`);
      const r = new b.replay.Replayer(sc.value.network, cache ? {} : { cache: false });
      const inj = b.replay.mapInjector(r, "auto", [{ file, bytes }]);
      const rep = r.run([{ file, bytes }], inj);
      pps.get(b.name)!.push(rep.replayed / (rep.elapsedNs / 1e9) / 1e3);
    }
  }
  console.log(`replay of ${file} on ${scenarioFile}, ${cache ? "with the cache" : "slow path only"}, ${rounds} alternated rounds in one process:`);
  for (const b of builds) {
    const xs = pps.get(b.name)!;
    console.log(`  ${b.name.padEnd(5)} ${b.root}: median ${median(xs.slice(WARM)).toFixed(1)} kpps (rounds: ${xs.map((x) => x.toFixed(1)).join(", ")})`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
