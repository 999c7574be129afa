/**
 * `ovnsim import` and the `--sb` option of the commands that take a NETWORK, on the Northbound and
 * Southbound databases recorded from real OVN (fixtures/ovsdb), in-process.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { is } from "immutable";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { loadNetworkFile, loadScenario } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const FIX = join(ROOT, "fixtures/ovsdb");
const tmp = mkdtempSync(join(tmpdir(), "ovnsim-import-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("ovnsim import", () => {
  const nb = join(FIX, "kube-ovn-cluster.nb.db");
  const sb = join(FIX, "kube-ovn-cluster.sb.json");

  it("writes the network as scenario YAML to --out, atomically, with warnings on stderr", async () => {
    const out = join(tmp, "net.yaml");
    const r = await cli(["import", nb, "--sb", sb, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    const lines = r.err.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^ovnsim: .*kube-ovn-cluster\.nb\.db: warning: NB /);
    // An option Kube-OVN sets for its own build of OVN; OVN 23.03's northd has none such.
    // use_ct_inv_match, which the compiler reads, is no warning.
    expect(r.err).toContain("NB NB_Global options:ls_ct_skip_dst_lport_ips: set on 1 row, not modelled (kept as data)");
    expect(r.err).not.toContain("use_ct_inv_match");
    // Only the target is left in the directory (no temporary file).
    expect(readdirSync(tmp)).toEqual(["net.yaml"]);
    const back = loadScenario(readFileSync(out, "utf8"), out);
    const direct = loadNetworkFile(nb, { sb });
    expect(back.ok && direct.ok).toBe(true);
    if (back.ok && direct.ok) expect(is(back.value.network, direct.value.network)).toBe(true);
  });

  it("writes to standard output without --out; a JSON dump works the same", async () => {
    const a = await cli(["import", nb]);
    const b = await cli(["import", join(FIX, "kube-ovn-cluster.nb.json")]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.out).toMatch(/^name: kube-ovn-cluster\.nb\n/);
    expect(a.out).toContain("  - name: ovn-cluster\n");
  });

  it("a damaged database ends with exit code 2 and one line naming the offset and record", async () => {
    const bytes = readFileSync(nb);
    const bad = join(tmp, "bad.db");
    writeFileSync(bad, bytes.subarray(0, bytes.length - 7));
    const r = await cli(["import", bad, "--out", join(tmp, "never.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ovnsim: .*bad\.db: offset \d+: error: record \d+: the header promises \d+ bytes of data but the file has only \d+ left/);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(existsSync(join(tmp, "never.yaml"))).toBe(false);
  });

  it("a missing network file is named once, with why it cannot be read", async () => {
    const absent = join(tmp, "absent-network.yaml");
    const r = await cli(["import", absent]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`ovnsim: ${absent}: error: cannot read: no such file or directory\n`);
  });

  it("a file that is no network at all names every kind of input it could have been", async () => {
    const bad = join(tmp, "garbage.db");
    writeFileSync(bad, "garbage\n");
    const r = await cli(["import", bad]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^ovnsim: .*garbage\.db:1:1: error: expected a network: a scenario .*Kube-OVN manifests .*OVN Northbound database .*\n$/);
  });

  it("an unwritable --out is exit code 2, and nothing is left behind", async () => {
    const r = await cli(["import", nb, "--out", join(tmp, "no-such-dir", "x.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ovnsim: error: --out .*x\.yaml: no such directory .*no-such-dir\n$/);
    expect(r.out).toBe("");
    expect(readdirSync(tmp)).not.toContain("no-such-dir");
  });
});

describe("--sb on the commands that take a NETWORK", () => {
  it("flows --physical uses the Southbound's chassis and encaps", async () => {
    const r = await cli(["flows", join(FIX, "kube-ovn-cluster.nb.db"), "--sb", join(FIX, "kube-ovn-cluster.sb.json"), "--physical", "node1"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# chassis node1 \(geneve 192\.168\.0\.11\): bridge br-int\n/);
    expect(r.out).toContain("# from VIF web-1.default");
  });

  it("flows of the recorded database equal the scenario's", async () => {
    const a = await cli(["flows", join(FIX, "kube-ovn-default.nb.db")]);
    const b = await cli(["flows", join(ROOT, "scenarios/kube-ovn-default.yaml")]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
  });

  it("export --format sbctl writes the Southbound's chassis back", async () => {
    const r = await cli(["export", join(FIX, "gateway-nat.nb.db"), "--sb", join(FIX, "gateway-nat.sb.json"), "--format", "sbctl"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("ovn-sbctl chassis-add node1 geneve 192.168.0.11\n");
  });

  it("trace follows a packet across the chassis the Southbound binds", async () => {
    const r = await cli(["trace", join(FIX, "kube-ovn-cluster.nb.db"), "--sb", join(FIX, "kube-ovn-cluster.sb.json"), "--from", "client.default", "--to", "10.17.0.2", "--tcp", "80"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wire node2 -> node1: Geneve 192\.168\.0\.12 -> 192\.168\.0\.11/);
    expect(r.out).toMatch(/delivered to api-1\.apps on node1/);
  });

  it("--sb with a scenario file is bad usage", async () => {
    const r = await cli(["flows", join(ROOT, "scenarios/gateway-nat.yaml"), "--sb", join(FIX, "gateway-nat.sb.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--sb .* goes with an OVN Northbound database/);
  });
});
