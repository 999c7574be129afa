/**
 * Real OVN numbered as ovnsim numbers it: northd gives ports the keys ovnsim gives them only when
 * it sees each created on its own. `keyDifferences` finds the ports it numbered otherwise (here: a
 * switch's ports created in one transaction, which northd takes in its own order), and
 * `traceProbesWithOvn` builds the network again, waiting for northd after every command, when it
 * finds any. Live only: it needs real OVN.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { ovnsimKeyNames, traceWithRealOvn } from "../../src/cli/conformance-run.js";
import { keyDifferences, ovnAvailable, OvnSandbox, traceProbesWithOvn } from "../../src/ovn/index.js";
import { exportNbctl, loadNetworkFile, loadNetworkText } from "../../src/scenario/index.js";

const live = ovnAvailable();
if (!live) console.warn("conformance-keys: real OVN not installed; skipping");

const ROOT = resolve(import.meta.dirname, "../..");

describe.skipIf(!live)("tunnel keys of the real OVN a conformance run builds", () => {
  it("keyDifferences names the ports northd numbered otherwise, and none when built one command at a time", () => {
    const ports = Array.from({ length: 8 }, (_, i) => `      - {name: p${i + 1}, addresses: ["00:00:00:00:00:${(i + 2).toString(16).padStart(2, "0")} 10.0.0.${i + 2}"]}`);
    const loaded = loadNetworkText(`name: keys\nswitches:\n  - name: sw1\n    ports:\n${ports.join("\n")}\n`, "keys.yaml");
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const net = loaded.value.network;
    const keys = ovnsimKeyNames(net);
    expect([...keys.ports.values()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const oneTransaction of [false, true]) {
      const s = OvnSandbox.start();
      expect(s.ok).toBe(true);
      if (!s.ok) return;
      const sb = s.value;
      try {
        const cmds = exportNbctl(net);
        if (oneTransaction) {
          // Every command in one ovn-nbctl call: one transaction, so northd sees all ports at once.
          const joined = cmds.flatMap((c, i) => (i === 0 ? c : ["--", ...c]));
          expect(sb.nbctl(...joined).ok).toBe(true);
        } else for (const c of cmds) expect(sb.nbctl(...c).ok, c.join(" ")).toBe(true);
        expect(sb.sync().ok).toBe(true);
        const differ = keyDifferences(sb, keys);
        expect(differ.ok).toBe(true);
        if (!differ.ok) return;
        if (oneTransaction) expect(differ.value.length, "northd numbered the ports of one transaction in creation order").toBeGreaterThan(0);
        else expect(differ.value).toEqual([]);
        expect(differ.value.every((d) => /^port p[1-8]$/.test(d))).toBe(true);
      } finally {
        sb.stop();
      }
    }
  }, 60_000);

  it("a build whose keys differ is built again, and its traces are those of a build that agrees", () => {
    const loaded = loadNetworkFile(resolve(ROOT, "fixtures/conformance-found/ipv4-less-port.yaml"));
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const { network, probes } = loaded.value;
    const right = ovnsimKeyNames(network);
    // A key no build gives: the first build differs, and so does the second.
    const wrong = { datapaths: right.datapaths, ports: new Map([...right.ports, ["p1-1", 99]]) };
    const heard: string[][] = [];
    const rebuilt = traceProbesWithOvn(network, probes, wrong, (d) => heard.push([...d]));
    expect(heard).toEqual([["port p1-1"]]);
    const plain = traceWithRealOvn(network, probes, (d) => heard.push([...d]));
    expect(heard).toHaveLength(1);
    expect(rebuilt.ok && plain.ok).toBe(true);
    if (rebuilt.ok && plain.ok) expect([...rebuilt.value]).toEqual([...plain.value]);
  }, 60_000);
});
