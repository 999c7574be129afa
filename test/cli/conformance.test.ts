/**
 * `ovnsim conformance`, in-process: exit codes (0 all agree or differ only as documented, 1 a
 * disagreement, 2 bad input or no real OVN and no recording), a documented difference (a loop ovnsim
 * cuts at its limits), `--probes` files and their errors at file:line:col, the text and JSON
 * output, `--record` and the use of a recording where OVN is absent (OVNSIM_NO_OVN=1), and
 * disagreements forced by a recording edited to say something other than real OVN said.
 *
 * The recorded runs use the round-trip recording of routing-loop (fixtures/conformance-roundtrip),
 * copied under the name the command looks for, so they run on any machine; the live runs only
 * where OVN is installed.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { makeRecording, readRecording } from "../../src/cli/conformance-record.js";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { ovnAvailable } from "../../src/ovn/index.js";
import { loadNetworkFile, loadProbesText } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NB = join(ROOT, "fixtures/ovsdb/routing-loop.nb.db");
const SB = join(ROOT, "fixtures/ovsdb/routing-loop.sb.json");
const ROUNDTRIP = join(ROOT, "fixtures/conformance-roundtrip/routing-loop.json");
const SCENARIO = join(ROOT, "scenarios/routing-loop.yaml");
const LIVE = ovnAvailable();
const tmp = mkdtempSync(join(tmpdir(), "ovnsim-conformance-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const saved = { noOvn: process.env.OVNSIM_NO_OVN, path: process.env.PATH };
afterEach(() => {
  if (saved.noOvn === undefined) delete process.env.OVNSIM_NO_OVN;
  else process.env.OVNSIM_NO_OVN = saved.noOvn;
  process.env.PATH = saved.path;
});

async function cli(args: string[], env: { noOvn?: boolean } = {}) {
  if (env.noOvn) process.env.OVNSIM_NO_OVN = "1";
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** A directory holding the round-trip recording under the name the command gives the NB network. */
function recordedDir(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(ROUNDTRIP, join(dir, "routing-loop.nb.json"));
  return dir;
}

/** A probes file in the temp dir. */
function probesFile(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const POD1_TO_POD2 =
  'inport == "pod1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.2 && ip4.dst == 10.2.0.2 && ip.ttl == 64 && tcp && tcp.src == 49152 && tcp.dst == 80 && tcp.flags == 2';

describe("ovnsim conformance: bad input exits 2 before anything runs", () => {
  it("a network that does not exist", async () => {
    const r = await cli(["conformance", join(tmp, "nope.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml.*cannot read/);
  });

  it("--max-probes that is not a count, or with --probes", async () => {
    expect((await cli(["conformance", SCENARIO, "--max-probes", "-1"])).code).toBe(2);
    expect((await cli(["conformance", SCENARIO, "--max-probes", "2.5"])).code).toBe(2);
    const f = probesFile("one.yaml", `probes:\n  - {name: x, microflow: '${POD1_TO_POD2}'}\n`);
    const r = await cli(["conformance", SCENARIO, "--probes", f, "--max-probes", "1"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--max-probes limits the generated probes");
  });

  it("--probes errors name file:line:col", async () => {
    const cases: [string, string, RegExp][] = [
      ["syntax.yaml", "probes:\n  - {name: x, microflow: 'a'\n", /syntax\.yaml:3:1: error: YAML syntax error/],
      ["unknown.yaml", `probes:\n  - name: x\n    colour: red\n    microflow: '${POD1_TO_POD2}'\n`, /unknown\.yaml:3:5: error: unknown field "colour" in probe; allowed: name, datapath, microflow, ct, lbDst, selectId, expect/],
      ["dangling.yaml", `probes:\n  - name: x\n    microflow: 'inport == "pod9" && ip4'\n`, /dangling\.yaml:3:16: error: microflow inport "pod9" is no switch port/],
      ["badct.yaml", `probes:\n  - name: x\n    ct: [new, fresh]\n    microflow: '${POD1_TO_POD2}'\n`, /badct\.yaml:3:15: error: ct flag "fresh" is not one of/],
      ["noprobes.yaml", "name: x\n", /noprobes\.yaml:1:1: error: unknown field "name" in probesFile; allowed: probes/],
      ["notmap.yaml", "- a\n", /notmap\.yaml:1:1: error: a probes file must be a mapping with a "probes" list/],
    ];
    for (const [file, text, re] of cases) {
      const r = await cli(["conformance", SCENARIO, "--probes", probesFile(file, text)]);
      expect(r.code, file).toBe(2);
      expect(r.err, file).toMatch(re);
      expect(r.out, file).toBe("");
    }
    const missing = await cli(["conformance", SCENARIO, "--probes", join(tmp, "absent.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/absent\.yaml: error: no such file/);
  });

  it("no real OVN and no recording: one line naming what is missing", async () => {
    // A PATH without the OVN tools hides the ones installed in PATH directories.
    process.env.PATH = join(tmp, "empty-bin");
    const r = await cli(["conformance", SCENARIO]);
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ovnsim: error: real OVN is not installed \(missing [^)]*ovn-trace[^)]*\), and there is no recording to use instead \(give --record DIR\)$/);
    expect(r.out).toBe("");
  });

  it("OVNSIM_NO_OVN=1 and an empty --record directory", async () => {
    const dir = join(tmp, "empty-rec");
    mkdirSync(dir, { recursive: true });
    const r = await cli(["conformance", SCENARIO, "--record", dir], { noOvn: true });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/(disabled by OVNSIM_NO_OVN=1|not installed).*no recording to use instead \(no .*empty-rec\/routing-loop\.json\)/);
  });
});

describe("ovnsim conformance with a recording (OVNSIM_NO_OVN=1)", () => {
  it("all agree: exit 0, the source on stderr, the agreement line", async () => {
    const dir = recordedDir("agree");
    const r = await cli(["conformance", NB, "--sb", SB, "--record", dir], { noOvn: true });
    expect(r.err).toContain(`; using the recording ${join(dir, "routing-loop.nb.json")} (made with ovn-nbctl 23.03.1)`);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toBe(`conformance of routing-loop.nb with real OVN (ovn-nbctl 23.03.1, recorded in ${join(dir, "routing-loop.nb.json")}): 4 probes (0 of the network's own, 4 generated)`);
    expect(lines.at(-1)).toBe("agreement: 4/4 probes (100.0%)");
    expect(r.out).not.toContain("DISAGREE");
  });

  it("--max-probes keeps a spread of the generated probes and says so", async () => {
    const dir = recordedDir("max");
    const r = await cli(["conformance", NB, "--sb", SB, "--record", dir, "--max-probes", "2"], { noOvn: true });
    expect(r.code).toBe(0);
    expect(r.err).toContain("ovnsim: note: kept 2 of 4 generated probes (an even spread over all of them)");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("agreement: 2/2 probes (100.0%)");
  });

  it("--json: one object with every probe", async () => {
    const dir = recordedDir("json");
    const r = await cli(["conformance", NB, "--sb", SB, "--record", dir, "--json"], { noOvn: true });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { network: string; ovn: { kind: string; version: string }; probes: number; agreed: number; rate: number; results: { name: string; agree: boolean; ovnsim: string; ovn: string; flags: string[] }[] };
    expect(doc.network).toBe("routing-loop.nb");
    expect(doc.ovn).toMatchObject({ kind: "recording", version: "ovn-nbctl 23.03.1" });
    expect([doc.probes, doc.agreed, doc.rate]).toEqual([4, 4, 1]);
    expect(doc.results.map((x) => x.name)).toEqual(["gen/pair/pod1/pod2", "gen/pair/pod2/pod1", "gen/arp/r1-lan1/10.1.0.1", "gen/arp/r2-lan2/10.2.0.1"]);
    const pair = doc.results[0]!;
    expect(pair.flags).toEqual(Array(8).fill("--ct=new"));
    // Real OVN's recorded answer: two routers, two TTLs, delivered to pod2 with r2's MAC.
    expect(pair.ovn).toBe("output(pod2)[eth.dst=00:00:00:02:00:02,eth.src=00:00:00:02:00:01,ip.ttl=62]");
    expect(pair.ovnsim).toBe(pair.ovn);
  });

  it("a recording edited to disagree: exit 1, the probe side by side with why", async () => {
    const dir = recordedDir("edited");
    const path = join(dir, "routing-loop.nb.json");
    const rec = JSON.parse(readFileSync(path, "utf8")) as { probes: Record<string, { output: string }> };
    // Real OVN "said" pod1 → pod2 reaches pod2 with another MAC, and pod2 → pod1 is dropped.
    rec.probes["gen/pair/pod1/pod2"]!.output = rec.probes["gen/pair/pod1/pod2"]!.output.replace("eth.dst = 00:00:00:02:00:02;", "eth.dst = 00:00:00:02:00:99;");
    rec.probes["gen/pair/pod2/pod1"]!.output = rec.probes["gen/pair/pod2/pod1"]!.output.split("\n")[0] + "\ndrop;\n";
    writeFileSync(path, JSON.stringify(rec));
    const r = await cli(["conformance", NB, "--sb", SB, "--record", dir], { noOvn: true });
    expect(r.code).toBe(1);
    const text = r.out;
    expect(text).toContain(
      [
        "DISAGREE gen/pair/pod1/pod2",
        "  datapath:  lan1",
        `  microflow: ${POD1_TO_POD2}`,
        `  flags:     ${Array(8).fill("--ct=new").join(" ")}`,
        "  ovnsim:    output(pod2)[eth.dst=00:00:00:02:00:02,eth.src=00:00:00:02:00:01,ip.ttl=62]  |  real OVN: output(pod2)[eth.dst=00:00:00:02:00:99,eth.src=00:00:00:02:00:01,ip.ttl=62]",
        "  why:       on output pod2, real OVN has eth.dst = 00:00:00:02:00:99; ovnsim differs",
      ].join("\n"),
    );
    expect(text).toContain("DISAGREE gen/pair/pod2/pod1\n");
    expect(text).toMatch(/ovnsim: {4}output\(pod1\)\[[^\]]*\] {2}\| {2}real OVN: drop\n {2}why: {7}ovnsim pod1, real OVN drop\n/);
    expect(text.trimEnd().split("\n").at(-1)).toBe("agreement: 2/4 probes (50.0%)");
  });

  it("a --probes file against a recording that says something else: exit 1", async () => {
    const f = probesFile("pair.yaml", `probes:\n  - {name: across, microflow: '${POD1_TO_POD2}', ct: [new]}\n`);
    const loaded = loadNetworkFile(NB, { sb: SB });
    if (!loaded.ok) throw new Error("routing-loop.nb.db does not load");
    const probes = loadProbesText(readFileSync(f, "utf8"), f, loaded.value.network);
    if (!probes.ok) throw new Error("the probes file does not load");
    expect(probes.value[0]!.expect).toEqual({ kind: "unchecked" });
    const dir = join(tmp, "probes-edited");
    mkdirSync(dir, { recursive: true });
    // The recording says the packet went to pod1 (it goes to pod2).
    const said = "# tcp\nip.ttl--;\noutput(\"pod1\");\n";
    writeFileSync(join(dir, "routing-loop.nb.json"), JSON.stringify(makeRecording(loaded.value.network, probes.value, new Map([["across", said]]), "edited by hand")));
    const r = await cli(["conformance", NB, "--sb", SB, "--probes", f, "--record", dir], { noOvn: true });
    expect(r.code).toBe(1);
    expect(r.out).toContain("  why:       ovnsim pod2, real OVN pod1\n");
    expect(r.out).toContain("(edited by hand, recorded in");
    expect(r.out).toContain("1 probes (from ");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("agreement: 0/1 probes (0.0%)");
  });

  it("a loop ovnsim cuts at its limits, where real OVN follows it to the TTL's end: a documented difference, exit 0", async () => {
    // Real OVN's answer for the loop probe, recorded in fixtures/conformance-loops/ (and re-checked
    // against real OVN by test/cli/conformance-compare.test.ts).
    const said = (JSON.parse(readFileSync(join(ROOT, "fixtures/conformance-loops/routing-loop.json"), "utf8")) as { probes: Record<string, string> }).probes["pod1-loop-ttl64"]!;
    const microflow = 'inport == "pod1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip4.src == 10.1.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && udp && udp.src == 46064 && udp.dst == 33434';
    const f = probesFile("loop.yaml", `probes:\n  - {name: pod1-loop-ttl64, datapath: lan1, microflow: '${microflow}'}\n  - {name: across, microflow: '${POD1_TO_POD2}', ct: [new]}\n`);
    const loaded = loadNetworkFile(SCENARIO);
    if (!loaded.ok) throw new Error("routing-loop does not load");
    const probes = loadProbesText(readFileSync(f, "utf8"), f, loaded.value.network);
    if (!probes.ok) throw new Error("the probes file does not load");
    const across = "# tcp,reg14=0x2,vlan_tci=0x0000,dl_src=00:00:00:01:00:02,dl_dst=00:00:00:01:00:01,nw_src=10.1.0.2,nw_dst=10.2.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=49152,tp_dst=80,tcp_flags=syn\nip.ttl--;\neth.src = 00:00:00:a9:00:01;\neth.dst = 00:00:00:a9:00:02;\nip.ttl--;\neth.src = 00:00:00:02:00:01;\neth.dst = 00:00:00:02:00:02;\noutput(\"pod2\");\n";
    const dir = join(tmp, "loop-rec");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "routing-loop.json"), JSON.stringify(makeRecording(loaded.value.network, probes.value, new Map([["pod1-loop-ttl64", said], ["across", across]]), "ovn-nbctl 23.03.1")));
    const r = await cli(["conformance", SCENARIO, "--probes", f, "--record", dir], { noOvn: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain("KNOWN DIFFERENCE pod1-loop-ttl64\n");
    expect(r.out).toContain("  why:       a forwarding loop: ovnsim cut it at its limit (maxCrossings 16) after 0 outputs; run to the loop's end it gives real OVN's 1 output exactly (a documented difference)\n");
    expect(r.out).not.toContain("DISAGREE");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("agreement: 1/2 probes (50.0%); 1 more differs only as documented");
    const j = await cli(["conformance", SCENARIO, "--probes", f, "--record", dir, "--json"], { noOvn: true });
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out) as { agreed: number; known: number; results: { name: string; agree: boolean; known?: string }[] };
    expect([doc.agreed, doc.known]).toEqual([1, 1]);
    expect(doc.results.find((x) => x.name === "pod1-loop-ttl64")).toMatchObject({ agree: false, known: expect.stringMatching(/^a forwarding loop/) });
  });

  it("a recording for other probe inputs or another network is refused with exit 2", async () => {
    const dir = recordedDir("mismatch");
    const path = join(dir, "routing-loop.nb.json");
    const rec = JSON.parse(readFileSync(path, "utf8")) as { digest: string; probes: Record<string, { input: { ct: string[] } }> };
    rec.probes["gen/pair/pod1/pod2"]!.input.ct = ["est"];
    writeFileSync(path, JSON.stringify(rec));
    const r1 = await cli(["conformance", NB, "--sb", SB, "--record", dir], { noOvn: true });
    expect(r1.code).toBe(2);
    expect(r1.err).toContain("the recording does not match the probes: 1 probe(s) recorded with other inputs (gen/pair/pod1/pod2)");
    rec.digest = "0".repeat(64);
    writeFileSync(path, JSON.stringify(rec));
    const r2 = await cli(["conformance", NB, "--sb", SB, "--record", dir], { noOvn: true });
    expect(r2.code).toBe(2);
    expect(r2.err).toContain("the recording was made for another network");
    writeFileSync(path, "{not json");
    const r3 = await cli(["conformance", NB, "--sb", SB, "--record", dir], { noOvn: true });
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/routing-loop\.nb\.json: error: recording not JSON/);
  });
});

describe.skipIf(!LIVE)("ovnsim conformance with real OVN", () => {
  it("--record writes real OVN's answers, which then answer with OVNSIM_NO_OVN=1", { timeout: 60_000 }, async () => {
    const dir = join(tmp, "live");
    const live = await cli(["conformance", SCENARIO, "--record", dir]);
    expect(live.err).toContain(`ovnsim: recorded real OVN's answers in ${join(dir, "routing-loop.json")}`);
    expect(live.code).toBe(0);
    expect(readdirSync(dir)).toEqual(["routing-loop.json"]);
    const rec = readRecording(join(dir, "routing-loop.json"));
    expect(rec.ok).toBe(true);
    if (!rec.ok) return;
    expect(rec.value.ovn).toMatch(/^ovn-nbctl 23\./);
    expect(Object.keys(rec.value.probes)).toHaveLength(34);
    expect(rec.value.probes["gen/pair/pod1/pod2"]!.input).toEqual({ datapath: "lan1", microflow: POD1_TO_POD2, ct: Array(8).fill("new") });
    const lastLive = live.out.trimEnd().split("\n").at(-1);
    expect(lastLive).toBe("agreement: 34/34 probes (100.0%)");
    const again = await cli(["conformance", SCENARIO, "--record", dir], { noOvn: true });
    expect(again.code).toBe(0);
    expect(again.err).toContain("using the recording");
    expect(again.out.trimEnd().split("\n").at(-1)).toBe(lastLive);
    expect(existsSync(join(dir, "routing-loop.json"))).toBe(true);
  });
});
