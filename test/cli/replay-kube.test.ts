/**
 * `ovnsim replay NETWORK PCAP --inject pod/NS/NAME` on a Kube-OVN docs scenario: the pod name
 * stands for the pod's switch port, as in `ovnsim trace --from`. A capture is built here: TCP SYNs
 * from client-1 (10.16.0.6) to web-2 (10.16.0.5, on the other node) in
 * scenarios/kube-ovn/default-vpc-eip. Injected at `pod/default/client-1` they must be delivered to
 * web-2's port exactly as when injected at the port name `client-1.default` (one worker and two);
 * bad names exit 2 with one line naming the option and the name.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { compileMicroflow, compileNetwork } from "../../src/compile/index.js";
import { frameFromKey } from "../../src/flow/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NET = join(ROOT, "scenarios/kube-ovn/default-vpc-eip");
const tmp = mkdtempSync(join(tmpdir(), "ovnsim-replay-kube-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function ovnsim(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** `n` TCP SYNs client-1 → web-2:80 (same switch: to web-2's MAC), source ports 40000 + i. */
function capture(path: string, n: number): void {
  const sc = loadNetworkFile(NET);
  if (!sc.ok) throw new Error("the scenario does not load");
  const c = compileNetwork(sc.value.network);
  if (!c.ok) throw new Error("the scenario does not compile");
  const ls = sc.value.network.switches.get("ovn-default")!;
  const mac = (p: string): string => ls.ports.get(p)!.addresses.first()!.split(" ")[0]!;
  const w = new PcapWriter();
  for (let i = 0; i < n; i++) {
    const mf = `inport == "client-1.default" && eth.src == ${mac("client-1.default")} && eth.dst == ${mac("web-2.default")} && ip4.src == 10.16.0.6 && ip4.dst == 10.16.0.5 && ip.ttl == 64 && tcp && tcp.src == ${40000 + i} && tcp.dst == 80 && tcp.flags == 2`;
    const k = compileMicroflow(c.value.program, undefined, mf);
    if (!k.ok) throw new Error(k.diags.map((d) => d.message).join("; "));
    w.writePacket(1_700_000_000, i * 1000, frameFromKey(k.value.key));
  }
  writeFileSync(path, w.toBytes());
}

const PCAP = join(tmp, "client-to-web.pcap");
const N = 12;
capture(PCAP, N);

const stats = (file: string): { packets: { replayed: number }; outputs: Record<string, number>; drops: Record<string, number>; tunnels: Record<string, number> } => JSON.parse(readFileSync(file, "utf8"));

describe("ovnsim replay --inject with Kubernetes names", () => {
  it("pod/default/client-1 is client-1's port: every packet reaches web-2, tunnelled to its node, as with the port name", async () => {
    const byPod = await ovnsim(["replay", NET, PCAP, "--inject", "pod/default/client-1", "--stats", join(tmp, "pod.json"), "--out", join(tmp, "out")]);
    expect(byPod.code, byPod.err).toBe(0);
    expect(byPod.out).toMatch(new RegExp(`packets: ${N} read, ${N} replayed`));
    const a = stats(join(tmp, "pod.json"));
    expect(a.packets.replayed).toBe(N);
    expect(Object.entries(a.outputs)).toEqual([[expect.stringContaining("web-2.default"), N]]);
    expect(Object.values(a.tunnels).reduce((x, y) => x + y, 0)).toBe(N); // client-1 and web-2 are on different nodes
    expect(readdirSync(join(tmp, "out")).some((f) => f.includes("web-2.default"))).toBe(true);

    const byPort = await ovnsim(["replay", NET, PCAP, "--inject", "client-1.default", "--stats", join(tmp, "port.json")]);
    expect(byPort.code, byPort.err).toBe(0);
    const b = stats(join(tmp, "port.json"));
    expect([b.outputs, b.drops, b.tunnels]).toEqual([a.outputs, a.drops, a.tunnels]);
  }, 60_000);

  it("with --workers 2 the pod name works too, with the same verdicts", async () => {
    const r = await ovnsim(["replay", NET, PCAP, "--inject", "pod/default/client-1", "--workers", "2", "--stats", join(tmp, "w2.json")]);
    expect(r.code, r.err).toBe(0);
    expect((await ovnsim(["replay", NET, PCAP, "--inject", "client-1.default", "--stats", join(tmp, "w1.json")])).code).toBe(0);
    const one = stats(join(tmp, "w1.json"));
    const two = stats(join(tmp, "w2.json"));
    expect([two.packets.replayed, two.outputs, two.drops]).toEqual([N, one.outputs, one.drops]);
  }, 120_000);

  it("bad names exit 2 with one line naming --inject and the name", async () => {
    const cases: [string[], RegExp][] = [
      [[NET, "--inject", "pod/default/nope"], /--inject pod\/default\/nope: no such pod; pods: pod\/default\/pod-snat, /],
      [[NET, "--inject", "pod/default/pod-snt"], /--inject pod\/default\/pod-snt: no such pod; did you mean pod\/default\/pod-snat\?$/m],
      [[NET, "--inject", "svc/default/web"], /--inject svc\/default\/web: names an address, not a port/],
      [[NET, "--inject", "node/kube-ovn-worker"], /--inject node\/kube-ovn-worker: names an address, not a port/],
      [[join(ROOT, "scenarios/kube-ovn-default.yaml"), "--inject", "pod/default/web-1"], /pod\/default\/web-1: Kubernetes names work only for networks built from Kube-OVN manifests/],
    ];
    for (const [[net, ...rest], re] of cases) {
      const r = await ovnsim(["replay", net!, PCAP, ...rest]);
      expect(r.code, rest.join(" ")).toBe(2);
      const lines = r.err.trim().split("\n");
      expect(lines, r.err).toHaveLength(1);
      expect(lines[0]).toMatch(re);
      expect(r.out).toBe("");
    }
  }, 60_000);
});
