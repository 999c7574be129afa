/**
 * Conformance of the Kube-OVN docs scenarios (scenarios/kube-ovn/<name>/) with real OVN: each
 * scenario's manifests are loaded as kube-ovn-controller would build them, a probe set is
 * generated (every pod pair, service VIP, NAT rule and router ARP, and for IPv6 every pod pair,
 * VIP and router neighbour solicitation; at least 30 per scenario), and real ovn-trace and ovnsim
 * must agree on every probe but the solicitations, on which ovn-trace 23.03 aborts. Real OVN's
 * answers are recorded in fixtures/conformance-kube/<name>.json (see suite.ts). What is outside
 * OVN (host iptables, the NAT gateway pod) is checked against the documented rules in the
 * scenario tests under test/scenario/.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { generateProbes, loadNetworkFile } from "../../src/scenario/index.js";
import { conformanceCases, LIVE } from "./suite.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DOCS = join(ROOT, "scenarios/kube-ovn");
const RECORDINGS = join(ROOT, "fixtures/conformance-kube");
if (!LIVE) console.warn("Kube-OVN docs conformance: real OVN not installed (or OVNSIM_NO_OVN=1); comparing against recordings only");

/** A docs scenario directory holds manifests directly (a multi-zone one holds one directory per zone). */
function networks(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const d of readdirSync(DOCS).sort()) {
    const dir = join(DOCS, d);
    if (!statSync(dir).isDirectory()) continue;
    const hasManifests = readdirSync(dir).some((f) => /\.ya?ml$/.test(f));
    if (hasManifests) out.push({ name: d, path: dir });
    else for (const z of readdirSync(dir).sort()) if (statSync(join(dir, z)).isDirectory()) out.push({ name: `${d}-${z}`, path: join(dir, z) });
  }
  return out;
}

const all = existsSync(DOCS) ? networks() : [];

it("there are docs scenarios to check", () => {
  if (all.length === 0) throw new Error(`no scenarios under ${DOCS}`);
});

describe.each(all)("Kube-OVN docs scenario $name with real OVN", ({ name, path }) => {
  const loaded = loadNetworkFile(path);
  if (!loaded.ok) throw new Error(`${path} does not load: ${loaded.diags.map(formatDiagnostic).join("; ")}`);
  const net = loaded.value.network;
  const generated = generateProbes(net);
  // Real ovn-trace 23.03 aborts on every neighbour solicitation for a router port's address (see
  // OVN_TRACE_ABORTED in src/ovn/conformance.ts), so those probes have no verdict to agree with.
  const known = Object.fromEntries(generated.probes.filter((p) => p.name.startsWith("gen/nd/")).map((p) => [p.name, "ovn-trace 23.03 aborts on nd_na_router"]));
  conformanceCases({ net, probes: [...loaded.value.probes, ...generated.probes], recording: join(RECORDINGS, `${name}.json`), minProbes: 30, known });
});
