/**
 * The OVN sandbox runner: databases and daemons in a temp dir, commands as Results, flows and
 * traces read back, and a clean stop. The live part runs only where OVN is installed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OvnSandbox, ovnAvailable, parseOvsdbJson, withSandbox } from "../../src/ovn/index.js";

const live = ovnAvailable();
if (!live) console.warn("ovn-sandbox: OVN binaries not installed; skipping the live sandbox tests");

describe("parseOvsdbJson", () => {
  it("reads ovn-*ctl --format=json output into rows", () => {
    const text = '{"data":[[["uuid","8f0c"],["map",[["name","sw0"]]],1]],"headings":["_uuid","external_ids","tunnel_key"]}';
    const r = parseOvsdbJson(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toEqual([{ _uuid: ["uuid", "8f0c"], external_ids: ["map", [["name", "sw0"]]], tunnel_key: 1 }]);
  });

  it("gives a diagnostic for malformed output", () => {
    const a = parseOvsdbJson("not json");
    expect(!a.ok && a.diags[0]!.code).toBe("ovn.json");
    const b = parseOvsdbJson('{"rows": []}');
    expect(!b.ok && b.diags[0]!.code).toBe("ovn.json");
  });
});

describe.skipIf(!live)("OvnSandbox (live)", () => {
  it(
    "runs NB/SB/northd in its own dir, answers commands, traces, and stops cleanly",
    () => {
      const s = OvnSandbox.start();
      expect(s.ok).toBe(true);
      if (!s.ok) return;
      const sb = s.value;
      const pids: number[] = [];
      try {
        for (const f of ["nb.pid", "sb.pid", "northd.pid", "nb.sock", "sb.sock", "nb.db", "sb.db"]) expect(existsSync(join(sb.dir, f)), f).toBe(true);
        for (const f of ["nb.pid", "sb.pid", "northd.pid"]) pids.push(Number(readFileSync(join(sb.dir, f), "utf8").trim()));

        for (const args of [["ls-add", "sw0"], ["lsp-add", "sw0", "p1"], ["lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"], ["lsp-add", "sw0", "p2"], ["lsp-set-addresses", "p2", "00:00:00:00:00:02 10.0.0.2"]]) {
          const r = sb.nbctl(...args);
          expect(r.ok, args.join(" ")).toBe(true);
        }
        expect(sb.addChassis("hv1", "192.0.2.1").ok).toBe(true);
        expect(sb.sync().ok).toBe(true);

        const bad = sb.nbctl("no-such-command");
        expect(!bad.ok && bad.diags[0]!.code).toBe("ovn.command");
        expect(!bad.ok && bad.diags[0]!.message).toContain("unknown command");

        const ch = sb.sbList("Chassis", ["name", "other_config"]);
        expect(ch.ok && JSON.stringify(ch.value)).toContain("ct-no-masked-label");

        const flows = sb.lflows();
        expect(flows.ok).toBe(true);
        if (flows.ok) {
          const l2 = flows.value.filter((f) => f.stage === "ls_in_l2_lkup" && f.match === "eth.dst == 00:00:00:00:00:02");
          expect(l2).toHaveLength(1);
          expect(l2[0]).toMatchObject({ datapaths: ["sw0"], pipeline: "ingress", actions: 'outport = "p2"; output;' });
        }

        const t = sb.trace("sw0", 'inport == "p1" && eth.src == 00:00:00:00:00:01 && eth.dst == 00:00:00:00:00:02', ["--minimal"]);
        expect(t.ok).toBe(true);
        if (t.ok) expect(t.value).toContain('output("p2")');
      } finally {
        sb.stop();
      }
      expect(existsSync(sb.dir)).toBe(false);
      for (const pid of pids) {
        let state = "gone";
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        } catch {
          // No such process.
        }
        expect(["gone", "Z"]).toContain(state);
      }
      const after = sb.nbctl("show");
      expect(!after.ok && after.diags[0]!.code).toBe("ovn.stopped");
    },
    60_000,
  );

  it(
    "withSandbox stops the sandbox even when the callback fails",
    () => {
      let dir = "";
      expect(() =>
        withSandbox((sb) => {
          dir = sb.dir;
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(dir).not.toBe("");
      expect(existsSync(dir)).toBe(false);
    },
    60_000,
  );
});
