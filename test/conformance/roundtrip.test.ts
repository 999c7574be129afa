/**
 * The Northbound round trip against real OVN: for every scenario, the NB database real OVN made for
 * it (fixtures/ovsdb/<scenario>.nb.db, with the Southbound dump <scenario>.sb.json where the
 * scenario has chassis) is loaded, exported again as ovn-nbctl / ovn-sbctl commands, built in real
 * OVN and traced there; ovnsim traces the loaded database. Every probe must agree: the scenario's
 * own probes and every probe generated from the database's network. No `max` is needed: the
 * largest set is 111 probes, and the whole file runs live in 45 to 75 s on two cores shared with
 * other work (about 1.5 s to build each network in OVN, 25 to 50 ms per ovn-trace run), in
 * seconds against the recordings.
 *
 * Real OVN's answers are recorded in fixtures/conformance-roundtrip/<scenario>.json (the format of
 * `ovnsim conformance --record`), so the comparison runs on any machine. Where OVN is installed the
 * test also traces live and fails when a recording no longer says what real OVN says;
 * OVNSIM_RECORD=1 rewrites the recordings; OVNSIM_NO_OVN=1 forces the recorded path.
 */
import { readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { generateProbes, loadNetworkFile, type Probe } from "../../src/scenario/index.js";
import { conformanceCases, LIVE } from "./suite.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = join(ROOT, "scenarios");
const DATABASES = join(ROOT, "fixtures/ovsdb");
const RECORDINGS = join(ROOT, "fixtures/conformance-roundtrip");
if (!LIVE) console.warn("conformance round trip: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

const files = readdirSync(SCENARIOS).filter((f) => f.endsWith(".yaml")).sort();

describe.each(files)("%s: NB database → ovn-nbctl → real OVN, against ovnsim", (file) => {
  const name = basename(file, ".yaml");
  const scenario = loadNetworkFile(join(SCENARIOS, file));
  if (!scenario.ok) throw new Error(`${file} does not load: ${scenario.diags.map(formatDiagnostic).join("; ")}`);
  const withSb = scenario.value.network.chassis.size > 0;
  const loaded = loadNetworkFile(join(DATABASES, `${name}.nb.db`), withSb ? { sb: join(DATABASES, `${name}.sb.json`) } : {});
  if (!loaded.ok) throw new Error(`${name}.nb.db does not load: ${loaded.diags.map(formatDiagnostic).join("; ")}`);
  const net = loaded.value.network;
  const generated = generateProbes(net);
  const probes: Probe[] = [...scenario.value.probes, ...generated.probes];
  const kinds = new Set(generated.probes.map((p) => p.name.split("/")[1]));

  it("generates probes of every kind the network has", () => {
    expect(generated.total).toBe(generated.probes.length);
    expect(kinds.has("pair")).toBe(true);
    expect(kinds.has("lb")).toBe([...net.switches.values()].some((s) => s.loadBalancers.size > 0) || [...net.routers.values()].some((r) => r.loadBalancers.size > 0));
    expect(kinds.has("nat")).toBe([...net.routers.values()].some((r) => r.nat.size > 0));
    expect(kinds.has("arp")).toBe(net.routers.size > 0);
  });

  conformanceCases({
    net,
    probes,
    recording: join(RECORDINGS, `${name}.json`),
    // The probes exercise delivery, not only drops.
    check: (results) => expect(results.filter((r) => !r.ovn.dropped).length).toBeGreaterThan(results.length / 2),
  });
});
