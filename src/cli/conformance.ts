/**
 * `ovnsim conformance NETWORK [--sb FILE] [--probes FILE] [--record DIR] [--max-probes N] [--json]`:
 * the same probes through ovnsim and through real OVN, and where they disagree.
 *
 * Probes: those of `--probes FILE` (a `probes:` list in the scenario format; `expect` optional),
 * else the network's own probes followed by the generated ones (`scenario/probe-gen.ts`; at most
 * N of those with `--max-probes`, an even spread, said on stderr). Real OVN: the network is
 * exported as `ovn-nbctl` / `ovn-sbctl` commands and built in a throw-away sandbox, and each probe
 * is traced with `ovn-trace --minimal` (so an OVN database NETWORK makes the round trip import →
 * export → real OVN). With `--record DIR` its raw answers, the OVN version and the probe inputs
 * are also written to `DIR/<network>.json`; where OVN is not installed (or `OVNSIM_NO_OVN=1`), a
 * matching recording there answers instead, and stderr says so.
 *
 * Output: each disagreement (probe name, datapath, microflow, ovn-trace flags, ovnsim's verdict
 * beside real OVN's, and why they differ), each documented difference the same way (a forwarding
 * loop ovnsim cuts at its loop limits, conformance-run.ts `compareProbes`), then `agreement: A/N probes
 * (P%)` and how many more differ only as documented; `--json` prints one object instead. Exit
 * codes: 0 every probe agrees or differs only as documented, 1 some probe disagrees, 2 bad input,
 * or no real OVN and no recording.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "yargs";
import { CONFORMANCE } from "./commands.js";
import { error } from "../base/index.js";
import { missingOvnParts, ovnAvailable, ovnVersion, probeTraceFlags } from "../ovn/index.js";
import { generateProbes, loadProbesText, type Probe } from "../scenario/index.js";
import { InputError } from "./capture-input.js";
import { compareProbes, headerVerdict, OvnsimTracer, traceWithRealOvn, type ProbeComparison } from "./conformance-run.js";
import { makeRecording, readRecording, recordedOutputs, recordingFileName, writeRecording } from "./conformance-record.js";
import type { Io } from "./io.js";
import { loadNetworkArg } from "./network.js";

function bad(code: string, message: string, file?: string): InputError {
  return new InputError([error(code, message, file !== undefined ? { file } : {})]);
}

/** Where real OVN's answers came from. */
type OvnSource = { readonly kind: "live"; readonly version: string } | { readonly kind: "recording"; readonly version: string; readonly path: string };

/** The ovn-trace flags of a probe, without the output style. */
function flagsOf(p: Probe): string[] {
  return probeTraceFlags(p).filter((f) => f !== "--minimal");
}

function percent(a: number, n: number): string {
  return n === 0 ? "-" : `${((100 * a) / n).toFixed(1)}%`;
}

/** Reads the probes of a `--probes` file, checked against the network. */
function probesFromFile(path: string, s: ReturnType<typeof loadNetworkArg>): Probe[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad("io.open", code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory; expected a YAML probes file" : `cannot open (${code ?? String(e)})`, path);
  }
  const r = loadProbesText(text, path, s.network);
  if (!r.ok) throw new InputError(r.diags);
  return r.value;
}

export function registerConformanceCommand(parser: Argv, io: Io, setExit: (code: number) => void): void {
  parser.command(
    CONFORMANCE.usage,
    CONFORMANCE.describe,
    (c) =>
      c
        .positional("network", { type: "string", demandOption: true, describe: "scenario YAML, Kube-OVN manifests, or an OVN NB database (file or JSON dump)" })
        .option("sb", { type: "string", describe: "the Southbound database (file or ovsdb-client JSON dump) of an NB database NETWORK" })
        .option("probes", { type: "string", describe: "a YAML file with a probes: list (scenario probe format, expect optional) to run instead of the network's own and the generated probes" })
        .option("record", { type: "string", describe: "write real OVN's answers to DIR/<network>.json; where OVN is not installed, read them from there" })
        .option("max-probes", { type: "number", describe: "run at most N generated probes (an even spread over all of them; the network's own probes always run)" })
        .option("json", { type: "boolean", describe: "print the result as one JSON object" })
        .example("$0 conformance scenarios/gateway-nat.yaml", "the scenario's probes and the generated ones, through ovnsim and real OVN")
        .example("$0 conformance fixtures/ovsdb/gateway-nat.nb.db --sb fixtures/ovsdb/gateway-nat.sb.json --record rec/", "an NB database round trip (import, export, real OVN), recorded for machines without OVN"),
    (argv) => {
      const max = argv["max-probes"];
      if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw bad("usage.max-probes", `--max-probes ${String(max)}: expected a whole number of probes, 0 or more`);
      if (max !== undefined && argv.probes !== undefined) throw bad("usage.max-probes", "--max-probes limits the generated probes; it does not apply to a --probes file");
      const s = loadNetworkArg(argv.network, { sb: argv.sb, io });
      const net = s.network;
      const tracer = OvnsimTracer.create(net);
      if (!tracer.ok) throw new InputError(tracer.diags);

      let probes: Probe[];
      let own = 0;
      const notes: string[] = [];
      if (argv.probes !== undefined) probes = probesFromFile(argv.probes, s);
      else {
        const gen = generateProbes(net, max !== undefined ? { max } : {});
        const ownNames = new Set(s.probes.map((p) => p.name));
        const generated = gen.probes.filter((p) => !ownNames.has(p.name));
        if (generated.length < gen.probes.length) notes.push(`left out ${gen.probes.length - generated.length} generated probes named like the network's own`);
        notes.unshift(...gen.notes);
        own = s.probes.length;
        probes = [...s.probes, ...generated];
      }
      for (const n of notes) io.err(`ovnsim: note: ${n}\n`);

      const recPath = argv.record !== undefined ? join(argv.record, recordingFileName(net)) : undefined;
      let outputs: Map<string, string>;
      let source: OvnSource;
      if (ovnAvailable()) {
        const live = traceWithRealOvn(net, probes, (differ) => io.err(`ovnsim: note: real northd numbered ${differ.length} datapaths and ports otherwise than ovnsim at first (it fell behind the commands); built again, waiting for it after each\n`));
        if (!live.ok) throw new InputError(live.diags);
        outputs = live.value;
        source = { kind: "live", version: ovnVersion() ?? "unknown" };
        if (recPath !== undefined) {
          try {
            mkdirSync(argv.record!, { recursive: true });
          } catch (e) {
            throw bad("io.write", `cannot create the directory: ${(e as Error).message}`, argv.record);
          }
          writeRecording(recPath, makeRecording(net, probes, outputs, source.version));
          io.err(`ovnsim: recorded real OVN's answers in ${recPath}\n`);
        }
      } else {
        const missing = missingOvnParts();
        const why = missing.length > 0 ? `real OVN is not installed (missing ${missing.join(", ")})` : "real OVN is disabled by OVNSIM_NO_OVN=1";
        if (recPath === undefined || !existsSync(recPath)) {
          throw bad("conformance.no-ovn", `${why}, and there is no recording to use instead${recPath !== undefined ? ` (no ${recPath})` : " (give --record DIR)"}`);
        }
        const rec = readRecording(recPath);
        if (!rec.ok) throw new InputError(rec.diags);
        const got = recordedOutputs(rec.value, recPath, net, probes);
        if (!got.ok) throw new InputError(got.diags);
        outputs = got.value;
        source = { kind: "recording", version: rec.value.ovn, path: recPath };
        io.err(`ovnsim: ${why}; using the recording ${recPath} (made with ${rec.value.ovn})\n`);
      }

      const results = compareProbes(tracer.value, probes, outputs);
      const agreed = results.filter((r) => r.disagreements.length === 0 && r.known === undefined).length;
      const known = results.filter((r) => r.known !== undefined).length;
      const ovnsimText = (r: ProbeComparison): string => {
        if (r.ovnsim.kind === "bad-probe") return `error: ${r.ovnsim.message}`;
        const v = tracer.value.displayVerdict(r.probe);
        return v ? headerVerdict(v) : "error";
      };
      if (argv.json) {
        const doc = {
          network: net.name,
          ovn: source,
          probes: results.length,
          own,
          generated: results.length - own,
          agreed,
          known,
          rate: results.length === 0 ? null : agreed / results.length,
          notes,
          results: results.map((r) => ({
            name: r.probe.name,
            datapath: r.probe.datapath,
            microflow: r.probe.microflow,
            flags: flagsOf(r.probe),
            agree: r.disagreements.length === 0 && r.known === undefined,
            ...(r.known !== undefined ? { known: r.known } : {}),
            ovnsim: ovnsimText(r),
            ovn: r.ovnAborted ? "ovn-trace aborted" : headerVerdict(r.ovn),
            disagreements: r.disagreements,
          })),
        };
        io.out(JSON.stringify(doc, null, 2) + "\n");
      } else {
        const from = source.kind === "live" ? `${source.version}, live` : `${source.version}, recorded in ${source.path}`;
        const mix = argv.probes !== undefined ? `from ${argv.probes}` : `${own} of the network's own, ${results.length - own} generated`;
        io.out(`conformance of ${net.name} with real OVN (${from}): ${results.length} probes (${mix})\n`);
        for (const r of results) {
          if (r.disagreements.length === 0 && r.known === undefined) continue;
          io.out(`\n${r.known !== undefined ? "KNOWN DIFFERENCE" : "DISAGREE"} ${r.probe.name}\n`);
          io.out(`  datapath:  ${r.probe.datapath}\n`);
          io.out(`  microflow: ${r.probe.microflow}\n`);
          const flags = flagsOf(r.probe);
          io.out(`  flags:     ${flags.length ? flags.join(" ") : "(none)"}\n`);
          io.out(`  ovnsim:    ${ovnsimText(r)}  |  real OVN: ${r.ovnAborted ? "ovn-trace aborted" : headerVerdict(r.ovn)}\n`);
          for (const d of r.known !== undefined ? [r.known] : r.disagreements) io.out(`  why:       ${d}\n`);
        }
        const documented = known > 0 ? `; ${known} more ${known === 1 ? "differs" : "differ"} only as documented` : "";
        io.out(`${agreed < results.length ? "\n" : ""}agreement: ${agreed}/${results.length} probes (${percent(agreed, results.length)})${documented}\n`);
      }
      // A documented difference is no failure.
      setExit(agreed + known < results.length ? 1 : 0);
    },
  );
}
