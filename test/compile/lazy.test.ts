/**
 * Lazy lowering (`LowerInput.lazy`, `compileNetwork(net, { lazy: true })`, what `ovnsim trace`
 * uses): a datapath's pipelines are lowered when first read. The program must be the eager one,
 * datapath for datapath; a flow whose match does not parse fails the compilation at once, as
 * eagerly; a flow that fails only when normalized fails when its datapath is read, with the
 * diagnostics the eager compilation gives, and `ovnsim trace` prints them as it prints any.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { LowerError, compileNetwork, lowerLogicalFlows, type DatapathInput } from "../../src/compile/index.js";
import { BUNDLED_NETWORKS, SCEN, describeProgram, loadNetwork } from "./programs.js";

describe("lazy lowering gives the eager program", () => {
  it.each(BUNDLED_NETWORKS.map((p) => [p.slice(SCEN.length + 1), p]))("%s", (_name, path) => {
    const eager = compileNetwork(loadNetwork(path));
    const lazy = compileNetwork(loadNetwork(path), { lazy: true });
    if (!eager.ok || !lazy.ok) throw new Error("does not compile");
    expect(describeProgram(lazy.value.program)).toBe(describeProgram(eager.value.program));
  });

  it("serves a lazy request from an eager compilation already made", () => {
    const net = loadNetwork(BUNDLED_NETWORKS[0]!);
    const eager = compileNetwork(net);
    expect(compileNetwork(net, { lazy: true })).toBe(eager);
  });
});

/** 10,200 matches: past the normalizer's bound of 10,000, which only normalization finds. */
const TOO_BIG = `ip4.src == {${Array.from({ length: 200 }, (_, i) => `10.1.${i >> 8}.${i & 255}`).join(", ")}} && tcp.dst == {${Array.from({ length: 51 }, (_, i) => 1000 + i).join(", ")}}`;

function switchInput(key: number, name: string, match: string): DatapathInput {
  return {
    key,
    name,
    kind: "switch",
    ports: [{ name: `${name}-p1`, key: 1, type: "", datapath: key }],
    multicast: [],
    flows: [
      { pipeline: "ingress", stage: "ls_in_acl", priority: 100, match, actions: "drop;", source: "test" },
      { pipeline: "ingress", stage: "ls_in_acl", priority: 0, match: "1", actions: "next;", source: "test" },
    ],
  };
}

describe("lazy lowering and errors", () => {
  it("a match that does not parse fails the compilation at once, as eagerly", () => {
    const input = { datapaths: [switchInput(1, "a", "1"), switchInput(2, "b", "ip4.src == 1.2.3")] };
    const eager = lowerLogicalFlows(input);
    const lazy = lowerLogicalFlows({ ...input, lazy: true });
    expect(eager.ok).toBe(false);
    expect(lazy.ok).toBe(false);
    if (eager.ok || lazy.ok) return;
    expect(lazy.diags).toEqual(eager.diags);
    expect(lazy.diags[0]!.path).toEqual(["datapaths[b]", "flows", 0]);
  });

  it("a match that fails only when normalized fails when its datapath is read, with the eager diagnostics", () => {
    const input = { datapaths: [switchInput(1, "a", "tcp"), switchInput(2, "b", TOO_BIG)] };
    const eager = lowerLogicalFlows(input);
    expect(eager.ok).toBe(false);
    const lazy = lowerLogicalFlows({ ...input, lazy: true });
    if (!lazy.ok || eager.ok) throw new Error("the lazy compilation should stand until b is read");
    expect(lazy.value.datapaths.get(1)!.ingress.tables.length).toBeGreaterThan(0);
    const b = lazy.value.datapaths.get(2)!;
    expect(b.ports.get(1)?.name).toBe("b-p1");
    let thrown: unknown;
    try {
      void b.ingress;
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LowerError);
    expect((thrown as LowerError).diags).toEqual(eager.diags);
    expect(eager.diags[0]!.code).toBe("expr.too-many-matches");
  });
});

describe("ovnsim trace lowers the datapaths its packet meets", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-lazy-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = (aclMatch: string): string =>
    [
      "name: lazy",
      "switches:",
      "  - name: a",
      "    ports:",
      '      - {name: a1, addresses: ["00:00:00:00:0a:01 10.0.0.1"]}',
      '      - {name: a2, addresses: ["00:00:00:00:0a:02 10.0.0.2"]}',
      "  - name: b",
      "    ports:",
      '      - {name: b1, addresses: ["00:00:00:00:0b:01 10.0.1.1"]}',
      '      - {name: b2, addresses: ["00:00:00:00:0b:02 10.0.1.2"]}',
      "    acls:",
      `      - {direction: from-lport, priority: 1000, match: '${aclMatch}', action: drop}`,
      "",
    ].join("\n");
  const mf = (sw: "a" | "b"): string =>
    sw === "a"
      ? 'inport == "a1" && eth.src == 00:00:00:00:0a:01 && eth.dst == 00:00:00:00:0a:02 && ip4.src == 10.0.0.1 && ip4.dst == 10.0.0.2 && ip.ttl == 64 && tcp && tcp.src == 5000 && tcp.dst == 1001'
      : 'inport == "b1" && eth.src == 00:00:00:00:0b:01 && eth.dst == 00:00:00:00:0b:02 && ip4.src == 10.0.1.1 && ip4.dst == 10.0.1.2 && ip.ttl == 64 && tcp && tcp.src == 5000 && tcp.dst == 1001';
  async function cli(args: string[]) {
    const io = memoryIo();
    const code = await run(args, io);
    return { code, out: io.stdout(), err: io.stderr() };
  }

  it("an expansion past the bound on switch b: a trace on a runs, one on b fails as flows does", async () => {
    const file = join(dir, "too-big.yaml");
    writeFileSync(file, yaml(TOO_BIG));
    const flows = await cli(["flows", file]);
    expect(flows.code).toBe(2);
    expect(flows.err).toMatch(/expands to more than 10000 matches/);
    const onA = await cli(["trace", file, mf("a"), "--minimal"]);
    expect(onA.err).toBe("");
    expect(onA.code).toBe(0);
    expect(onA.out).toMatch(/output\("a2"\)/);
    const onB = await cli(["trace", file, mf("b"), "--minimal"]);
    expect(onB.code).toBe(2);
    expect(onB.out).toBe("");
    expect(onB.err).toBe(flows.err);
  });

  it("an ACL that does not parse on switch b fails a trace on a too", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, yaml("ip4.src == 1.2.3"));
    const flows = await cli(["flows", file]);
    expect(flows.code).toBe(2);
    const onA = await cli(["trace", file, mf("a"), "--minimal"]);
    expect(onA.code).toBe(2);
    expect(onA.err).toBe(flows.err);
  });
});
