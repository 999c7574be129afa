/**
 * `ovnsim trace`, `flows` and `export` on the bundled scenarios, in-process; malformed scenario files
 * end every command with one line per problem (file:line:col) and exit code 2.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";
import { parseMinimalTrace, verdictOf } from "../../src/ovn/index.js";
import { PcapWriter } from "../../src/pcap/index.js";
import { testDir } from "../temp-dir.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SCEN = join(ROOT, "scenarios");

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("ovnsim trace", () => {
  const net = join(SCEN, "kube-ovn-default.yaml");
  const mf = 'inport == "client.default" && eth.src == 00:00:00:16:00:07 && eth.dst == 00:00:00:16:00:02 && ip4.src == 10.16.0.7 && ip4.dst == 10.96.0.10 && ip.ttl == 64 && tcp && tcp.src == 42000 && tcp.dst == 80';

  it("--minimal reads as ovn-trace's and names the output port", async () => {
    const r = await cli(["trace", net, "ovn-default", mf, "--minimal", "--ct", "new", "--ct", "new", "--lb-dst", "10.16.0.3:8080"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# tcp,/);
    const v = verdictOf(parseMinimalTrace(r.out));
    expect(v.outputs.map((o) => o.port)).toEqual(["web-1.default"]);
  });

  it("--json lists the output with the final packet, DNATed to --lb-dst", async () => {
    const r = await cli(["trace", net, mf, "--json", "--ct", "new", "--ct", "new", "--lb-dst", "10.16.0.3:8080"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs).toHaveLength(1);
    expect(j.outputs[0].port).toBe("web-1.default");
    expect(j.outputs[0].packet).toMatchObject({ "eth.src": "00:00:00:16:00:07", "eth.dst": "00:00:00:16:00:02", "ip4.src": "10.16.0.7", "ip4.dst": "10.16.0.3", "ip.ttl": 64, "tcp.dst": 8080 });
    expect(j.drops).toEqual([]);
    expect(j.hops.length).toBeGreaterThan(10);
  });

  it("the friendly form builds a complete packet; --detailed shows stages with provenance", async () => {
    const r = await cli(["trace", net, "--from", "client.default", "--to", "10.16.0.2", "--udp", "53"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ls_in_l2_lkup \(compile\/switch\.ts:[\w-]+\): eth\.dst == 00:00:00:16:00:02/);
    expect(r.out).toMatch(/output to "web-1\.default"/);
  });

  it("the friendly form to a load balancer's VIP is a new connection: balanced, or rejected without backends", async () => {
    const lb = join(SCEN, "router-lb.yaml");
    const balanced = await cli(["trace", lb, "--from", "client1", "--to", "10.96.0.1", "--tcp", "80", "--json"]);
    expect(balanced.code).toBe(0);
    const j = JSON.parse(balanced.out);
    expect(j.outputs.map((o: { port: string }) => o.port)).toEqual(["web1"]);
    expect(j.outputs[0].packet).toMatchObject({ "ip4.dst": "10.2.0.11", "tcp.dst": 8080 });
    // The same packet as an established one finds no connection to translate it: unroutable.
    const est = await cli(["trace", lb, "--from", "client1", "--to", "10.96.0.1", "--tcp", "80", "--json", "--ct", "est"]);
    expect(JSON.parse(est.out).outputs).toEqual([]);
    const rejected = await cli(["trace", lb, "--from", "client1", "--to", "10.96.0.3", "--tcp", "80", "--json"]);
    const r = JSON.parse(rejected.out);
    expect(r.outputs.map((o: { port: string }) => o.port)).toEqual(["client1"]);
    expect(r.outputs[0].packet).toMatchObject({ "ip4.src": "10.96.0.3", "ip4.dst": "10.1.0.11" });
  });

  it("a logged ACL drop prints its actions and LOG line as ovn-trace does", async () => {
    const np = join(SCEN, "network-policy.yaml");
    const mf = 'inport == "web-1.frontend" && eth.src == 00:00:00:16:00:10 && eth.dst == 00:00:00:16:00:20 && ip4.src == 10.16.0.10 && ip4.dst == 10.16.0.20 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 9090';
    const r = await cli(["trace", np, mf]);
    expect(r.code).toBe(0);
    // REAL: these lines of real ovn-trace 23.03.1's detailed output for the same packet.
    const real = [
      "    ct_commit { ct_mark.blocked = 1; };",
      '    log(name="backend/allow-frontend", verdict=drop, severity=warning);',
      "",
      'LOG: ACL name=backend/allow-frontend, direction=OUT, verdict=drop, severity=warning, packet="ct_state=est|trk,tcp,reg0=0x501,reg14=0x1,reg15=0x3,vlan_tci=0x0000,dl_src=00:00:00:16:00:10,dl_dst=00:00:00:16:00:20,nw_src=10.16.0.10,nw_dst=10.16.0.20,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=9090,tcp_flags=0"',
    ].join("\n");
    expect(r.out).toContain(real);
  });

  it("a drop is reported with the responsible object in JSON", async () => {
    const np = join(SCEN, "network-policy.yaml");
    const drop = 'inport == "other-1.default" && eth.src == 00:00:00:16:00:40 && eth.dst == 00:00:00:16:00:20 && ip4.src == 10.16.0.40 && ip4.dst == 10.16.0.20 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 8080';
    const r = await cli(["trace", np, drop, "--json", "--ct", "new", "--ct", "new"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs).toEqual([]);
    expect(j.drops.length).toBeGreaterThan(0);
    expect(j.drops[0].object).toMatch(/^portGroups\[/);
  });

  it("bad microflows and options: one line each, exit 2", async () => {
    const a = await cli(["trace", net, "inport == \"nope\" && ip4"]);
    expect(a.code).toBe(2);
    const b = await cli(["trace", net, "inport == \"client.default\" && ip4.dst == "]);
    expect(b.code).toBe(2);
    expect(b.err.trim().split("\n")).toHaveLength(1);
    expect(b.err).toMatch(/:1:\d+: error: /);
    const c = await cli(["trace", net, mf, "--ct", "bogus"]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--ct bogus/);
    const d = await cli(["trace", net, mf, "--minimal", "--json"]);
    expect(d.code).toBe(2);
    // An error found while parsing stops the command: nothing is traced or printed.
    expect(d.out).toBe("");
    const friendly = ["trace", net, "--from", "web-1.default", "--to", "web-2.default"];
    for (const r of [await cli(["trace", net, mf, "--bogus"]), await cli(["flows", net, "--format", "nope"]), await cli(["export", net, "--bogus"]), await cli([...friendly, "--tcp", "99999"]), await cli([...friendly, "--udp", "-1"])]) {
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^ovnsim: .*\nRun 'ovnsim --help' for usage\.\n$/);
    }
    // A mistyped command gets the suggestion and says what was wrong.
    const typo = await cli(["trcae", net]);
    expect(typo.code).toBe(2);
    expect(typo.err).toBe("ovnsim: unknown command. Did you mean trace?\nRun 'ovnsim --help' for usage.\n");
    // Output files that cannot be written are refused before the work, in one line.
    for (const r of [await cli([...friendly, "--tcp", "8080", "--pcap-out", SCEN]), await cli(["import", net, "--out", SCEN])]) {
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^ovnsim: error: --(pcap-)?out .*: is a directory; expected a file name\n$/);
    }
  });

  it("the friendly form between a port without IPv4 and an IPv4 address says which end lacks it", async () => {
    // p1-1 has only fd00:1::11; p2-1 has 10.2.0.11 and fd00:2::11.
    const v6only = join(ROOT, "fixtures/conformance-found/ipv4-less-port.yaml");
    const cases: [string[], RegExp][] = [
      [["--from", "p1-1", "--to", "10.2.0.11", "--tcp", "80"], /^ovnsim: error: --from p1-1 has no IPv4 address \(its address is fd00:1::11\): give an IPv6 --to, or a microflow$/],
      [["--from", "p2-1", "--to", "p1-1", "--arp"], /^ovnsim: error: --arp needs IPv4 addresses on both ends \(p1-1 has none\)$/],
      [["--from", "p1-1", "--to", "p2-1", "--arp"], /^ovnsim: error: --arp needs IPv4 addresses on both ends \(p1-1 has none\)$/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(["trace", v6only, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.out).toBe("");
      expect(r.err.trim().split("\n"), args.join(" ")).toEqual([expect.stringMatching(re)]);
    }
    // Between two ports, the packet is IPv6 when one end has no IPv4 address.
    const r = await cli(["trace", v6only, "--from", "p2-1", "--to", "p1-1", "--tcp", "80", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs.map((o: { port: string }) => o.port)).toEqual(["p1-1"]);
    expect(j.outputs[0].packet).toMatchObject({ "ip6.src": "fd00:2::11", "ip6.dst": "fd00:1::11" });
  });
});

describe("a name that names nothing: the close names, else some of the known ones, exit 2", () => {
  const net = join(SCEN, "kube-ovn-default.yaml");
  const one = async (args: string[]): Promise<string> => {
    const r = await cli(args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.out).toBe("");
    const lines = r.err.trimEnd().split("\n");
    expect(lines, r.err).toHaveLength(1);
    return lines[0]!;
  };
  it("trace: --from, --to, a datapath and a microflow's port", async () => {
    expect(await one(["trace", net, "--from", "web-9.default", "--to", "8.8.8.8"])).toBe("ovnsim: error: --from web-9.default: no switch port of that name; did you mean web-1.default, web-2.default or web-3.default?");
    expect(await one(["trace", net, "--from", "client", "--to", "8.8.8.8"])).toBe("ovnsim: error: --from client: no switch port of that name; did you mean client.default?");
    expect(await one(["trace", net, "--from", "web-1.default", "--to", "clinet.default"])).toBe(
      "ovnsim: error: --to clinet.default: neither an IP address nor a switch port with a MAC address (no switch port of that name; did you mean client.default?)",
    );
    expect(await one(["trace", net, "--from", "frontend", "--to", "8.8.8.8"])).toMatch(/^ovnsim: error: --from frontend: no switch port of that name; ports: web-1\.default, /);
    expect(await one(["trace", net, "ovn-defualt", 'inport == "web-1.default"'])).toBe('ovnsim: error: no logical datapath named "ovn-defualt"; did you mean ovn-default?');
    expect(await one(["trace", net, 'inport == "web-9" && ip4'])).toBe('ovnsim: error: the microflow names no logical port "web-9"; did you mean web-1.default, web-2.default or web-3.default?');
    expect(await one(["trace", net, 'inport == "web-1.default" && ip4 && ip6'])).toMatch(/^ovnsim: error: the microflow matches no packet \(its fields contradict each other\): /);
  });
  it("trace: a port of another datapath than the one given", async () => {
    const gw = join(SCEN, "gateway-nat.yaml");
    expect(await one(["trace", gw, "inside-gr", 'inport == "vm-d1" && ip4'])).toBe('ovnsim: error: the microflow\'s port "vm-d1" is on datapath inside-dr, not inside-gr');
  });
  it("flows --datapath", async () => {
    expect(await one(["flows", net, "--datapath", "ovn-defualt"])).toBe('ovnsim: error: no datapath named "ovn-defualt"; did you mean ovn-default?');
  });
});

describe("a reader that goes away", () => {
  it("ends the command quietly with exit code 0 (ovnsim pcap dump | head)", async () => {
    // 50,000 packets: megabytes of text, far more than a pipe holds, written line by line.
    const w = new PcapWriter();
    const frame = new Uint8Array(60);
    frame.set([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x06]);
    for (let i = 0; i < 50_000; i++) w.writePacket(i, 0, frame);
    const file = join(testDir("epipe"), "many.pcap");
    writeFileSync(file, w.toBytes());
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "pcap", "dump", file], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
    let got = 0;
    child.stdout.on("data", (d: Buffer) => {
      got += d.length;
      child.stdout.destroy(); // as head does after its first lines
    });
    const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
    expect(got).toBeGreaterThan(0);
    expect(err).toBe("");
    expect(code).toBe(0);
  }, 60_000);
});

describe("an exception no command expected", () => {
  it("is one line saying it is a bug, exit 70; OVNSIM_DEBUG=1 adds the stack", async () => {
    const failing = (): ReturnType<typeof memoryIo> => {
      const io = memoryIo();
      return { ...io, out: () => void (() => { throw new TypeError("write EPIPE\n  on stdout"); })() };
    };
    const net = join(SCEN, "kube-ovn-default.yaml");
    const io = failing();
    expect(await run(["flows", net], io)).toBe(70);
    expect(io.stderr()).toBe("ovnsim: internal error: write EPIPE on stdout (a bug in ovnsim; OVNSIM_DEBUG=1 prints where)\n");
    const before = process.env.OVNSIM_DEBUG;
    process.env.OVNSIM_DEBUG = "1";
    try {
      const dbg = failing();
      expect(await run(["flows", net], dbg)).toBe(70);
      expect(dbg.stderr()).toMatch(/^ovnsim: internal error: write EPIPE on stdout .*\nTypeError: write EPIPE\n {2}on stdout\n {4}at /);
    } finally {
      if (before === undefined) delete process.env.OVNSIM_DEBUG;
      else process.env.OVNSIM_DEBUG = before;
    }
  });
});

describe("ovnsim flows and export", () => {
  it("flows: lflow-list style with provenance, stable, and per datapath", async () => {
    const a = await cli(["flows", join(SCEN, "localnet-vlan.yaml")]);
    const b = await cli(["flows", join(SCEN, "localnet-vlan.yaml")]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out).toMatch(/^Datapath: "vlan100" Pipeline: ingress$/m);
    expect(a.out).toMatch(/table=25\(ls_in_l2_lkup\s*\), priority=\d+\s*, match=\(.*\), action=\(.*\)\s+\/\* switches\[vlan100\]/);
    const j = await cli(["flows", join(SCEN, "localnet-vlan.yaml"), "--format", "json"]);
    expect(JSON.parse(j.out)[0]).toHaveProperty("source");
    const o = await cli(["flows", join(SCEN, "localnet-vlan.yaml"), "--format", "ofctl"]);
    expect(o.out).toMatch(/table=25, priority=/);
    const u = await cli(["flows", join(SCEN, "localnet-vlan.yaml"), "--datapath", "nope"]);
    expect(u.code).toBe(2);
  });

  it("flows: router stages carry northd's table numbers, in table order", async () => {
    const r = await cli(["flows", join(SCEN, "kube-ovn-cluster.yaml"), "--datapath", "ovn-cluster"]);
    expect(r.code).toBe(0);
    // OVN 23.03 northd: lr_in_policy is ingress table 15, lr_out_snat egress table 3.
    expect(r.out).toMatch(/^ {2}table=15\(lr_in_policy\s*\), priority=31000/m);
    expect(r.out).toMatch(/^ {2}table=3 \(lr_out_snat\s*\)/m);
    expect(r.out).not.toMatch(/table=-/);
    for (const block of r.out.split(/^Datapath: .*$/m).slice(1)) {
      const tables = [...block.matchAll(/^ {2}table=(\d+)/gm)].map((m) => Number(m[1]));
      expect(tables).toEqual([...tables].sort((a, b) => a - b));
    }
  });

  it("export writes ovn-nbctl commands", async () => {
    const r = await cli(["export", join(SCEN, "kube-ovn-default.yaml"), "--format", "nbctl"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ovn-nbctl ls-add ovn-default$/m);
    expect(r.out).toMatch(/^ovn-nbctl lb-add /m);
  });
});

describe("malformed scenarios: one line per problem with file:line:col, exit 2", () => {
  const cases: [string, string, RegExp[]][] = [
    ["yaml-syntax", "name: x\nswitches:\n  - name: [unclosed\n", [/bad\.yaml:\d+:\d+: error: /]],
    ["unknown-field", "name: x\nswitches:\n  - name: s1\n    colour: blue\n", [/bad\.yaml:4:5: error: .*colour/]],
    ["bad-cidr", "name: x\nswitches:\n  - name: s1\n    ports:\n      - {name: p1, addresses: [\"00:00:00:00:00:01 10.0.0.300\"]}\n", [/bad\.yaml:5:32: switches\[s1\]\.ports\[p1\]\.addresses\[0\]: error: .*10\.0\.0\.300/]],
    ["dangling", "name: x\nportGroups:\n  - {name: pg1, ports: [nope]}\n", [/bad\.yaml:3:25: portGroups\[pg1\]\.ports\[0\]: error: .*"nope" is no switch port$/]],
    ["a collection as a key", "name: x\nswitches:\n  - {name: s1, [a]: b}\n", [/bad\.yaml:3:16: error: a key of switch must be a field name, not a collection; allowed: name, ports, /]],
    ["an alias without its anchor", "name: x\nswitches:\n  - name: *s1\n", [/bad\.yaml:3:11: error: switch field "name": the alias \*s1 names no anchor \(&s1 must come before it\)$/]],
    [
      "a typo in a port name",
      'name: x\nswitches:\n  - name: s1\n    ports:\n      - {name: web-1, addresses: ["00:00:00:00:00:01 10.0.0.1"]}\nportGroups:\n  - {name: pg1, ports: [wbe-1]}\nprobes:\n  - {name: p, microflow: \'inport == "web1" && ip4\', expect: {output: [web-2]}}\n',
      [
        /bad\.yaml:7:25: portGroups\[pg1\]\.ports\[0\]: error: port group member "wbe-1" is no switch port; did you mean web-1\?$/,
        /bad\.yaml:9:26: error: microflow inport "web1" is no switch port; did you mean web-1\?$/,
        /bad\.yaml:9:\d+: error: expected output port "web-2" is no switch port; did you mean web-1\?$/,
      ],
    ],
  ];
  it.each(cases)("%s", async (_name, text, expected) => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-bad-"));
    try {
      const f = join(dir, "bad.yaml");
      writeFileSync(f, text);
      for (const cmd of [["flows", f], ["trace", f, "inport == \"p1\""], ["export", f]]) {
        const r = await cli(cmd);
        expect(r.code).toBe(2);
        const lines = r.err.trimEnd().split("\n");
        expect(lines.length).toBe(expected.length);
        expected.forEach((re, i) => expect(lines[i]).toMatch(re));
        expect(r.err).not.toMatch(/\n\s+at /);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ovnsim trace through routers and NAT gateways", () => {
  it("the friendly form sends an off-subnet destination to the gateway MAC; the 29000 policy reroutes it to the node", async () => {
    const r = await cli(["trace", join(SCEN, "kube-ovn-cluster.yaml"), "--from", "web-1.default", "--to", "8.8.8.8", "--tcp", "443", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs.map((o: { port: string }) => o.port)).toEqual(["node-node1"]);
    expect(j.outputs[0].packet).toMatchObject({ "eth.src": "00:00:00:64:00:01", "eth.dst": "00:00:00:64:00:02", "ip4.dst": "8.8.8.8", "ip.ttl": 63 });
  });

  it("a routing loop ends with a named loop drop, not a hang", async () => {
    const r = await cli(["trace", join(SCEN, "routing-loop.yaml"), "--from", "pod1", "--to", "8.8.8.8", "--udp", "53", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs).toEqual([]);
    expect(j.drops.map((d: { reason: string }) => d.reason)).toContain("loop-crossings");
  });

  const vpc = join(SCEN, "vpc-nat-gateway.yaml");
  it("a pod's packet for the internet leaves the NAT gateway SNATed to the EIP, showing the rule that hit", async () => {
    const r = await cli(["trace", vpc, "--from", "app-1.ns1", "--to", "8.8.8.8", "--tcp", "443", "--minimal"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/POSTROUTING SHARED_SNAT rule 1: -A SHARED_SNAT -o net1 -s 10\.0\.1\.0\/24 -j SNAT --to-source 172\.16\.3\.208/);
    expect(r.out).toMatch(/=> left the cluster on net1 of NAT gateway gw1: tcp 172\.16\.3\.208:49152 > 8\.8\.8\.8:443/);
  });

  it("--from-external: TCP to the DNAT EIP reaches the pod on its own port", async () => {
    const r = await cli(["trace", vpc, "--from-external", "gw1", "--to", "172.16.3.203", "--tcp", "8888", "--src", "198.51.100.7"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/SHARED_DNAT rule 1: .*--to-destination 10\.0\.1\.2:80/);
    expect(r.out).toMatch(/=> delivered to "app-1\.ns1": tcp 198\.51\.100\.7:49152 > 10\.0\.1\.2:80/);
  });

  it("--from-external names an unknown gateway as a usage error", async () => {
    const r = await cli(["trace", vpc, "--from-external", "gw9", "--to", "172.16.3.203"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no NAT gateway of that name \(the network has gw1\)/);
  });
});
