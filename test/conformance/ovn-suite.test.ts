/**
 * Topologies from OVN's own test suite (test/ovn-suite/topologies.ts: rebuilt with ovn-nbctl in a
 * real OVN sandbox, saved as NB/SB database files in fixtures/ovn-suite/) loaded from the database
 * files, and traced with a generated probe set (every port pair, VIP, NAT rule and router ARP) by
 * real ovn-trace and by ovnsim. At least 99% of the probes must agree on each topology; the ones
 * that do not are listed below with their reasons, and must keep disagreeing until fixed (so a
 * fix, or a new difference, shows). Recordings in fixtures/conformance-ovn-suite/ (see suite.ts).
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { generateProbes, loadNetworkFile } from "../../src/scenario/index.js";
import { TOPOLOGIES } from "../ovn-suite/topologies.js";
import { conformanceCases, LIVE } from "./suite.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DBS = join(ROOT, "fixtures/ovn-suite");
const RECORDINGS = join(ROOT, "fixtures/conformance-ovn-suite");
if (!LIVE) console.warn("OVN test-suite conformance: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

/** Probes on which ovnsim and real ovn-trace differ, with why. */
const KNOWN: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

/**
 * Topologies no probe can be generated for: lb-ls-hairpin's one VIF has a MAC and no IP address
 * (ovn.at drives it with hand-made packets; test/ovn-suite/load.test.ts checks those).
 */
const NO_PROBES = new Set(["lb-ls-hairpin"]);

function load(name: string) {
  const loaded = loadNetworkFile(join(DBS, `${name}.nb.db`), { sb: join(DBS, `${name}.sb.db`) });
  if (!loaded.ok) throw new Error(`${name} does not load: ${loaded.diags.map(formatDiagnostic).join("; ")}`);
  return loaded.value.network;
}

it("the topologies left out give no probe, and at least three are checked", () => {
  for (const name of NO_PROBES) expect(generateProbes(load(name)).probes, name).toEqual([]);
  expect(TOPOLOGIES.filter((t) => !NO_PROBES.has(t.name)).length).toBeGreaterThanOrEqual(3);
});

describe.each(TOPOLOGIES.filter((t) => !NO_PROBES.has(t.name)).map((t) => ({ name: t.name })))("OVN test-suite topology $name with real OVN", ({ name }) => {
  const net = load(name);
  const generated = generateProbes(net);
  conformanceCases({ net, probes: generated.probes, recording: join(RECORDINGS, `${name}.json`), minProbes: 8, minAgreement: 0.99, known: KNOWN[name] ?? {} });
});
