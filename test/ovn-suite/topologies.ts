/**
 * Logical topologies taken from OVN's own test suite (ovn-org/ovn tests/ovn.at), written as the
 * `ovn-nbctl` / `ovn-sbctl` argument lists that build them, plus packets ("probes") with the
 * delivery the ovn.at test states for them.
 *
 * What: each `SuiteTopology` names the ovn.at test (`title`, the text of its AT_SETUP) it comes
 * from, and holds `nbctl`, a list of `ovn-nbctl` invocations (arguments only, no shell quoting;
 * a lone `--` separates commands chained in one invocation, as ovn.at does), and `sbctl`, the
 * `ovn-sbctl` invocations that stand in for the hypervisors of the test: fake chassis with the
 * tunnel IP the test gives `ovn_attach`, their bridge mappings, the ports bound to them, and the
 * MAC bindings the test's routers had learned by the time of its check. `sbctl` runs after
 * ovn-northd has caught up with `nbctl` (a binding needs its Port_Binding row). Where a test
 * changes the network as it goes, the lists build the state at the check the probes reproduce;
 * the probe's `what` says which.
 *
 * The probes: `microflow` is an ovn-trace microflow starting at a VIF; `flags` are ovn-trace
 * options (`--ct`, `--lb-dst`, `--select-id`); `expect` is the set of ports that receive the
 * packet (empty: dropped) and, per port, header fields as the test expects them on the wire.
 * `anyOf` lists alternatives when the test accepts either (ECMP). `minimal`, when present, is
 * the `ovn-trace --minimal` output the test itself asserts, line by line. `deviations` lists the
 * header values the test states that ovnsim's trace deliberately gives otherwise, with the reason
 * (the test checks that ovnsim gives exactly the documented value, so a change shows up).
 *
 * Only facts (names, addresses, topology, expected deliveries) come from ovn.at; the command lists
 * are written here. Fixture files made from these lists live in fixtures/ovn-suite/
 * (`scripts/ovn-suite-dbs.ts`).
 */

import { CHASSIS_FEATURES } from "../../src/ovn/index.js";

/** One packet field value as the JSON trace reports it (MAC/IP text, or a number). */
export type FieldValue = string | number;

export interface ExpectedOutput {
  readonly port: string;
  readonly fields?: Readonly<Record<string, FieldValue>>;
}

export interface SuiteProbe {
  readonly name: string;
  /** What the ovn.at test says happens to this packet. */
  readonly what: string;
  readonly microflow: string;
  readonly flags?: readonly string[];
  /** The receiving ports and their packets; empty when the packet must be dropped. */
  readonly expect: readonly ExpectedOutput[];
  /** Alternatives, each a full expectation, when the test accepts any of them (ECMP). */
  readonly anyOf?: readonly (readonly ExpectedOutput[])[];
  /** The `ovn-trace --minimal` output the test asserts, when it asserts one. */
  readonly minimal?: string;
  /** Header values the ovn.at test states that ovnsim's trace gives differently, on purpose. */
  readonly deviations?: readonly Deviation[];
}

/** A documented difference: on `port`, ovn.at expects `field` = `ovnAt`; ovnsim's trace gives `ovnsim`. */
export interface Deviation {
  readonly port: string;
  readonly field: string;
  readonly ovnAt: FieldValue;
  readonly ovnsim: FieldValue;
  readonly why: string;
}

export interface SuiteTopology {
  /** Fixture base name: fixtures/ovn-suite/<name>.nb.db. */
  readonly name: string;
  /** The AT_SETUP title of the test in tests/ovn.at. */
  readonly title: string;
  readonly nbctl: readonly (readonly string[])[];
  readonly sbctl: readonly (readonly string[])[];
  readonly probes: readonly SuiteProbe[];
}

/** `ovn-sbctl` lines for a fake chassis: Geneve at `ip`, the feature flags a 23.03 ovn-controller announces (DESIGN.md §7), bridge mappings. */
function chassis(name: string, ip: string, bridgeMappings?: string): string[][] {
  const set = ["set", "chassis", name, ...Object.entries(CHASSIS_FEATURES).map(([k, v]) => `other_config:${k}=${v}`)];
  if (bridgeMappings !== undefined) set.push(`other_config:ovn-bridge-mappings=${bridgeMappings}`);
  return [["chassis-add", name, "geneve", ip], set];
}

/** `ovn-sbctl` line for a neighbour a router port learned (as ovn-controller writes it). */
function macBinding(router: string, port: string, ip: string, mac: string): string[] {
  return ["--id=@dp", "get", "Datapath_Binding", router, "--", "create", "MAC_Binding", "datapath=@dp", `logical_port=${port}`, `ip=${ip}`, `mac="${mac}"`];
}

const udp = (sport: number, dport: number): string => `udp && udp.src == ${sport} && udp.dst == ${dport}`;

/**
 * A localnet port on physical network `network`, as newer ovn-nbctl's `lsp-add-localnet-port`
 * makes it (23.03's ovn-nbctl lacks that command): type localnet, addresses "unknown".
 */
function localnetPort(ls: string, name: string, network: string, ...more: string[]): string[] {
  return ["lsp-add", ls, name, "--", "lsp-set-type", name, "localnet", "--", "lsp-set-addresses", name, "unknown", "--", "lsp-set-options", name, `network_name=${network}`, ...more];
}

/** A switch port attached to router port `lrp`, as newer ovn-nbctl's `lsp-add-router-port` makes it. */
function routerPort(ls: string, name: string, lrp: string): string[] {
  return ["lsp-add", ls, name, "--", "lsp-set-type", name, "router", "--", "lsp-set-addresses", name, "router", "--", "lsp-set-options", name, `router-port=${lrp}`];
}

// ---------------------------------------------------------------------------------------------
// "3 HVs, 3 LS, 3 lports/LS, 1 LR": nine subnets 192.168.IJ.0/24 on one router, three per
// switch; VIF lpIJK has MAC f0:00:00:00:0I:JK and IP 192.168.IJ.K (lpI11 also "unknown"); router
// port lrpIJ has MAC 00:00:00:00:ff:IJ and 192.168.IJ.254/24; lp?11 on hv1, lp?12/lp?21/lp?22
// on hv2, the rest on hv3 (tunnel IPs 192.168.0.1-3).

const D3 = [1, 2, 3] as const;

function l3Hv(j: number, k: number): string {
  if (j === 1 && k === 1) return "hv1";
  if ((j === 1 && k === 2) || (j === 2 && k <= 2)) return "hv2";
  return "hv3";
}

function l3Network(): { nbctl: string[][]; sbctl: string[][] } {
  const nbctl: string[][] = [];
  const sbctl: string[][] = [];
  for (const i of D3) {
    nbctl.push(["ls-add", `ls${i}`]);
    for (const j of D3) {
      for (const k of D3) {
        const addr = [`f0:00:00:00:0${i}:${j}${k} 192.168.${i}${j}.${k}`];
        if (j === 1 && k === 1) addr.push("unknown");
        nbctl.push(["--", "lsp-add", `ls${i}`, `lp${i}${j}${k}`, "--", "lsp-set-addresses", `lp${i}${j}${k}`, ...addr]);
      }
    }
  }
  nbctl.push(["lr-add", "lr0"]);
  for (const i of D3) {
    for (const j of D3) {
      nbctl.push(["lrp-add", "lr0", `lrp${i}${j}`, `00:00:00:00:ff:${i}${j}`, `192.168.${i}${j}.254/24`]);
      nbctl.push([
        "--",
        "lsp-add",
        `ls${i}`,
        `lrp${i}${j}-attachment`,
        "--",
        "set",
        "Logical_Switch_Port",
        `lrp${i}${j}-attachment`,
        "type=router",
        `options:router-port=lrp${i}${j}`,
        `addresses="00:00:00:00:ff:${i}${j}"`,
      ]);
    }
  }
  nbctl.push(["set", "Logical_Switch_Port", "lrp33-attachment", `addresses="00:00:00:00:ff:33 192.168.33.254"`]);
  for (const i of D3) sbctl.push(...chassis(`hv${i}`, `192.168.0.${i}`));
  for (const i of D3) for (const j of D3) for (const k of D3) sbctl.push(["lsp-bind", `lp${i}${j}${k}`, l3Hv(j, k)]);
  return { nbctl, sbctl };
}

const l3 = l3Network();

const L3_HVS: SuiteTopology = {
  name: "l3-3hv-3ls-27vif",
  title: "3 HVs, 3 LS, 3 lports/LS, 1 LR",
  nbctl: l3.nbctl,
  sbctl: l3.sbctl,
  probes: [
    {
      name: "routed-unicast",
      what: "step 1: a unicast IP packet to another switch's subnet reaches exactly the destination VIF, routed: TTL 63, source MAC the destination subnet's router port, destination MAC the VIF's",
      microflow: `inport == "lp111" && eth.src == f0:00:00:00:01:11 && eth.dst == 00:00:00:00:ff:11 && ip4.src == 192.168.11.1 && ip4.dst == 192.168.32.3 && ip.ttl == 64 && ${udp(53, 4369)}`,
      expect: [{ port: "lp323", fields: { "eth.src": "00:00:00:00:ff:32", "eth.dst": "f0:00:00:00:03:23", "ip4.src": "192.168.11.1", "ip4.dst": "192.168.32.3", "ip.ttl": 63, "udp.src": 53, "udp.dst": 4369 } }],
    },
    {
      name: "same-switch-unicast",
      what: "step 1: ports on the same logical switch (even in another of its subnets) receive exactly the packet sent",
      microflow: `inport == "lp111" && eth.src == f0:00:00:00:01:11 && eth.dst == f0:00:00:00:01:23 && ip4.src == 192.168.11.1 && ip4.dst == 192.168.12.3 && ip.ttl == 64 && ${udp(53, 4369)}`,
      expect: [{ port: "lp123", fields: { "eth.src": "f0:00:00:00:01:11", "eth.dst": "f0:00:00:00:01:23", "ip4.dst": "192.168.12.3", "ip.ttl": 64 } }],
    },
    {
      name: "broadcast",
      what: "step 2: an IP broadcast reaches every other VIF of the sender's switch and no other",
      microflow: `inport == "lp222" && eth.src == f0:00:00:00:02:22 && eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 192.168.22.2 && ip4.dst == 255.255.255.255 && ip.ttl == 64 && ${udp(53, 4369)}`,
      expect: D3.flatMap((j) => D3.map((k) => `lp2${j}${k}`))
        .filter((p) => p !== "lp222")
        .map((port) => ({ port, fields: { "eth.dst": "ff:ff:ff:ff:ff:ff", "ip4.dst": "255.255.255.255", "ip.ttl": 64 } })),
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// "1 LR with distributed router gateway port": R1 joins foo (192.168.1.0/24) and alice
// (172.16.1.0/24, gateway chassis hv2); alice and outside share 172.16.1.0/24 through localnet
// ports on physical network "phys"; foo1 on hv1, outside1 on hv3; later alice1 (hv1) and foo2
// (hv2). Tunnel keys are requested as the test requests them.

const DGP: SuiteTopology = {
  name: "dgp-localnet",
  title: "1 LR with distributed router gateway port",
  nbctl: [
    ["lr-add", "R1", "--", "set", "Logical_Router", "R1", "options:requested-tnl-key=1"],
    ["ls-add", "foo", "--", "set", "Logical_Switch", "foo", "other_config:requested-tnl-key=2"],
    ["ls-add", "alice", "--", "set", "Logical_Switch", "alice", "other_config:requested-tnl-key=3"],
    ["ls-add", "outside", "--", "set", "Logical_Switch", "outside", "other_config:requested-tnl-key=4"],
    ["lrp-add", "R1", "foo", "00:00:01:01:02:03", "192.168.1.1/24", "--", "set", "Logical_Router_Port", "foo", "options:requested-tnl-key=1"],
    ["lsp-add", "foo", "rp-foo", "--", "set", "Logical_Switch_Port", "rp-foo", "type=router", "options:router-port=foo", "options:requested-tnl-key=1", "--", "lsp-set-addresses", "rp-foo", "router"],
    ["lrp-add", "R1", "alice", "00:00:02:01:02:03", "172.16.1.1/24", "--", "set", "Logical_Router_Port", "alice", "options:requested-tnl-key=2", "--", "lrp-set-gateway-chassis", "alice", "hv2"],
    ["lsp-add", "alice", "rp-alice", "--", "set", "Logical_Switch_Port", "rp-alice", "type=router", "options:router-port=alice", "options:requested-tnl-key=1", "--", "lsp-set-addresses", "rp-alice", "router"],
    ["lsp-add", "foo", "foo1", "--", "set", "Logical_Switch_Port", "foo1", "options:requested-tnl-key=2", "--", "lsp-set-addresses", "foo1", "f0:00:00:01:02:03 192.168.1.2"],
    ["lsp-add", "outside", "outside1", "--", "set", "Logical_Switch_Port", "outside1", "options:requested-tnl-key=1", "--", "lsp-set-addresses", "outside1", "f0:00:00:01:02:04 172.16.1.3"],
    localnetPort("alice", "ln-alice", "phys", "--", "set", "Logical_Switch_Port", "ln-alice", "options:requested-tnl-key=2"),
    localnetPort("outside", "ln-outside", "phys", "--", "set", "Logical_Switch_Port", "ln-outside", "options:requested-tnl-key=2"),
    ["lsp-add", "alice", "alice1", "--", "lsp-set-addresses", "alice1", "f0:00:00:01:02:05 172.16.1.4"],
    ["lsp-add", "foo", "foo2", "--", "lsp-set-addresses", "foo2", "f0:00:00:01:02:06 192.168.1.3"],
  ],
  sbctl: [
    ...chassis("hv1", "192.168.0.1", "phys:br-phys"),
    ...chassis("hv2", "192.168.0.2", "phys:br-phys"),
    ...chassis("hv3", "192.168.0.3", "phys:br-phys"),
    ["lsp-bind", "foo1", "hv1"],
    ["lsp-bind", "outside1", "hv3"],
    ["lsp-bind", "alice1", "hv1"],
    ["lsp-bind", "foo2", "hv2"],
    // outside1 ARPed for the router's address first, so R1 knows its MAC.
    macBinding("R1", "alice", "172.16.1.3", "f0:00:00:01:02:04"),
  ],
  probes: [
    {
      name: "foo1-to-outside1",
      what: "foo1's packet to outside1 leaves through the gateway port onto the localnet port ln-alice, routed (the test's own ovn-trace --minimal check)",
      microflow: `inport == "foo1" && eth.src == f0:00:00:01:02:03 && eth.dst == 00:00:01:01:02:03 && ip4.src == 192.168.1.2 && ip4.dst == 172.16.1.3 && ip.ttl == 0xff`,
      expect: [{ port: "ln-alice", fields: { "eth.src": "00:00:02:01:02:03", "eth.dst": "f0:00:00:01:02:04", "ip.ttl": 254 } }],
      minimal: "ip.ttl--;\neth.src = 00:00:02:01:02:03;\neth.dst = f0:00:00:01:02:04;\noutput(\"ln-alice\");",
    },
    {
      name: "alice1-to-foo2",
      what: "a packet from alice1 to foo2 reaches foo2 routed: source MAC R1's foo port, TTL 63",
      microflow: `inport == "alice1" && eth.src == f0:00:00:01:02:05 && eth.dst == 00:00:02:01:02:03 && ip4.src == 172.16.1.4 && ip4.dst == 192.168.1.3 && ip.ttl == 64 && ${udp(53, 4369)}`,
      expect: [{ port: "foo2", fields: { "eth.src": "00:00:01:01:02:03", "eth.dst": "f0:00:00:01:02:06", "ip4.src": "172.16.1.4", "ip4.dst": "192.168.1.3", "ip.ttl": 63 } }],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// "DNAT_SNAT and LB traffic": sw0 (10.0.0.0/24, sw0-port1 on hv1) and public (172.168.0.0/24,
// localnet "phys", public-port1 on hv2) on lr0, whose public port is a distributed gateway port
// on hv2; SNAT of 10.0.0.0/24 to 172.168.0.1, a distributed dnat_and_snat 172.168.0.110 ↔
// 10.0.0.2 (external MAC f0:00:00:01:02:03), then a UDP load balancer 172.168.0.1:4369 →
// 10.0.0.2:4369 on lr0.

const DNAT_SNAT_LB: SuiteTopology = {
  name: "dgp-dnat-snat-lb",
  title: "DNAT_SNAT and LB traffic",
  nbctl: [
    ["ls-add", "sw0"],
    ["lsp-add", "sw0", "sw0-port1"],
    ["lsp-set-addresses", "sw0-port1", "50:54:00:00:00:01 10.0.0.2"],
    ["ls-add", "public"],
    localnetPort("public", "ln-public", "phys"),
    ["lsp-add", "public", "public-port1"],
    ["lsp-set-addresses", "public-port1", "50:54:00:00:00:88 172.168.0.200"],
    ["lr-add", "lr0"],
    ["lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24"],
    routerPort("sw0", "sw0-lr0", "lr0-sw0"),
    ["lrp-add", "lr0", "lr0-public", "00:00:20:20:12:13", "172.168.0.1/24"],
    routerPort("public", "public-lr0", "lr0-public"),
    ["lrp-set-gateway-chassis", "lr0-public", "hv2", "20"],
    ["lr-nat-add", "lr0", "snat", "172.168.0.1", "10.0.0.0/24"],
    ["lr-nat-add", "lr0", "dnat_and_snat", "172.168.0.110", "10.0.0.2", "sw0-port1", "f0:00:00:01:02:03"],
    ["lb-add", "lb0", "172.168.0.1:4369", "10.0.0.2:4369", "udp"],
    ["lr-lb-add", "lr0", "lb0"],
  ],
  sbctl: [...chassis("hv1", "192.168.0.1", "phys:br-phys"), ...chassis("hv2", "192.168.0.2", "phys:br-phys"), ["lsp-bind", "sw0-port1", "hv1"], ["lsp-bind", "public-port1", "hv2"]],
  probes: [
    {
      name: "request-to-fip",
      what: "a UDP request from public-port1 to the floating IP 172.168.0.110 (sent to its external MAC) reaches sw0-port1, translated to 10.0.0.2",
      microflow: `inport == "public-port1" && eth.src == 50:54:00:00:00:88 && eth.dst == f0:00:00:01:02:03 && ip4.src == 172.168.0.200 && ip4.dst == 172.168.0.110 && ip.ttl == 64 && ${udp(53, 4369)}`,
      flags: ["--ct=new", "--ct=new", "--ct=new", "--ct=new"],
      expect: [{ port: "sw0-port1", fields: { "eth.dst": "50:54:00:00:00:01", "ip4.src": "172.168.0.200", "ip4.dst": "10.0.0.2", "udp.dst": 4369 } }],
    },
    {
      name: "reply-from-fip",
      what: "sw0-port1's reply to 172.168.0.200 leaves from the floating IP: source MAC f0:00:00:01:02:03, source IP 172.168.0.110, TTL 63, to public-port1",
      microflow: `inport == "sw0-port1" && eth.src == 50:54:00:00:00:01 && eth.dst == 00:00:00:00:ff:01 && ip4.src == 10.0.0.2 && ip4.dst == 172.168.0.200 && ip.ttl == 64 && ${udp(4369, 53)}`,
      expect: [{ port: "public-port1", fields: { "eth.src": "f0:00:00:01:02:03", "eth.dst": "50:54:00:00:00:88", "ip4.src": "172.168.0.110", "ip4.dst": "172.168.0.200", "ip.ttl": 63, "udp.src": 4369, "udp.dst": 53 } }],
    },
    {
      name: "request-to-lb-vip",
      what: "a UDP request to the load balancer's VIP 172.168.0.1:4369 (sent to the gateway port's MAC) reaches the backend sw0-port1 at 10.0.0.2:4369",
      microflow: `inport == "public-port1" && eth.src == 50:54:00:00:00:88 && eth.dst == 00:00:20:20:12:13 && ip4.src == 172.168.0.200 && ip4.dst == 172.168.0.1 && ip.ttl == 64 && ${udp(53, 4369)}`,
      flags: ["--ct=new", "--ct=new", "--ct=new", "--ct=new", "--lb-dst", "10.0.0.2:4369"],
      expect: [{ port: "sw0-port1", fields: { "eth.dst": "50:54:00:00:00:01", "ip4.src": "172.168.0.200", "ip4.dst": "10.0.0.2", "udp.dst": 4369 } }],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// "ACLs on Port Groups": the 27-VIF, nine-subnet network of the L3 test (without "unknown"), with
// pg1 = lp[12]?1 and pg2 = lp[23]?2, and on pg1 two to-lport ACLs: drop at 1001 for traffic to
// pg1, allow-related at 1002 for traffic to pg1 from pg2's IPv4 addresses ($pg2_ip4).

function pgNetwork(): { nbctl: string[][]; sbctl: string[][] } {
  const nbctl: string[][] = [];
  const sbctl: string[][] = [];
  const pg1: string[] = [];
  const pg2: string[] = [];
  for (const i of D3) {
    nbctl.push(["ls-add", `ls${i}`]);
    for (const j of D3) {
      for (const k of D3) {
        const p = `lp${i}${j}${k}`;
        nbctl.push(["--", "lsp-add", `ls${i}`, p, "--", "lsp-set-addresses", p, `f0:00:00:00:0${i}:${j}${k} 192.168.${i}${j}.${k}`]);
        if (i !== 3 && k === 1) pg1.push(p);
        if (i !== 1 && k === 2) pg2.push(p);
      }
    }
  }
  nbctl.push(["lr-add", "lr0"]);
  for (const i of D3) {
    for (const j of D3) {
      nbctl.push(["lrp-add", "lr0", `lrp${i}${j}`, `00:00:00:00:ff:${i}${j}`, `192.168.${i}${j}.254/24`]);
      nbctl.push(["--", "lsp-add", `ls${i}`, `lrp${i}${j}-attachment`, "--", "set", "Logical_Switch_Port", `lrp${i}${j}-attachment`, "type=router", `options:router-port=lrp${i}${j}`, `addresses="00:00:00:00:ff:${i}${j}"`]);
    }
  }
  nbctl.push(["pg-add", "pg1", ...pg1]);
  nbctl.push(["pg-add", "pg2", ...pg2]);
  nbctl.push(["acl-add", "pg1", "to-lport", "1001", "outport == @pg1", "drop"]);
  nbctl.push(["--type=port-group", "acl-add", "pg1", "to-lport", "1002", "outport == @pg1 && ip4.src == $pg2_ip4", "allow-related"]);
  for (const i of D3) sbctl.push(...chassis(`hv${i}`, `192.168.0.${i}`));
  for (const i of D3) for (const j of D3) for (const k of D3) sbctl.push(["lsp-bind", `lp${i}${j}${k}`, l3Hv(j, k)]);
  return { nbctl, sbctl };
}

const pg = pgNetwork();

/** An ICMP echo request (type 8) microflow between two VIFs of the port-group network. */
function pgEcho(src: string, dst: string): string {
  const mac = (p: string): string => `f0:00:00:00:0${p[2]}:${p[3]}${p[4]}`;
  const ip = (p: string): string => `192.168.${p[2]}${p[3]}.${p[4]}`;
  const dmac = src[2] === dst[2] ? mac(dst) : `00:00:00:00:ff:${src[2]}${src[3]}`;
  return `inport == "${src}" && eth.src == ${mac(src)} && eth.dst == ${dmac} && ip.ttl == 64 && ip4.src == ${ip(src)} && ip4.dst == ${ip(dst)} && icmp4.type == 8 && icmp4.code == 0`;
}

/** Every conntrack pass of a new connection sees `new` (ovn-trace defaults to `est` otherwise). */
const NEW_CONN = ["--ct=new", "--ct=new", "--ct=new", "--ct=new"];

const PG_ACLS: SuiteTopology = {
  name: "port-group-acls",
  title: "ACLs on Port Groups",
  nbctl: pg.nbctl,
  sbctl: pg.sbctl,
  probes: [
    {
      name: "to-pg1-from-outside-pg2-dropped",
      what: "an echo request to a pg1 port from a port outside pg2 matches the drop ACL and is received nowhere",
      microflow: pgEcho("lp112", "lp111"),
      flags: NEW_CONN,
      expect: [],
    },
    {
      name: "to-pg1-from-pg2-allowed",
      what: "an echo request to a pg1 port from a pg2 port is allowed (allow-related at 1002) and arrives routed, TTL 63",
      microflow: pgEcho("lp212", "lp111"),
      flags: NEW_CONN,
      expect: [{ port: "lp111", fields: { "eth.src": "00:00:00:00:ff:11", "eth.dst": "f0:00:00:00:01:11", "ip4.src": "192.168.21.2", "ip4.dst": "192.168.11.1", "ip.ttl": 63, "icmp4.type": 8 } }],
    },
    {
      name: "to-non-member-allowed",
      what: "an echo request to a port outside pg1 is not filtered: same switch, the packet unchanged",
      microflow: pgEcho("lp112", "lp113"),
      flags: NEW_CONN,
      expect: [{ port: "lp113", fields: { "eth.src": "f0:00:00:00:01:12", "eth.dst": "f0:00:00:00:01:13", "ip.ttl": 64, "icmp4.type": 8 } }],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// "ECMP static routes": ls1 (192.168.1.0/24, lsp11) and ls2 (192.168.2.0/24, lsp21, lsp22) on
// lr1; two ECMP routes for 10.0.0.0/24 via 192.168.2.21 and 192.168.2.22; all on hv1.

const ECMP: SuiteTopology = {
  name: "ecmp-static-routes",
  title: "ECMP static routes",
  nbctl: [
    ["lr-add", "lr1"],
    ["ls-add", "ls1"],
    ["ls-add", "ls2"],
    ["lrp-add", "lr1", "lrp-lr1-ls1", "00:00:00:01:01:01", "192.168.1.1/24"],
    routerPort("ls1", "lsp-ls1-lr1", "lrp-lr1-ls1"),
    ["lrp-add", "lr1", "lrp-lr1-ls2", "00:00:00:01:02:01", "192.168.2.1/24"],
    routerPort("ls2", "lsp-ls2-lr1", "lrp-lr1-ls2"),
    ["lr-route-add", "lr1", "10.0.0.0/24", "192.168.2.21"],
    ["--ecmp", "lr-route-add", "lr1", "10.0.0.0/24", "192.168.2.22"],
    ["lsp-add", "ls1", "lsp11", "--", "lsp-set-addresses", "lsp11", "f0:00:00:00:01:11 192.168.1.11"],
    ["lsp-add", "ls2", "lsp21", "--", "lsp-set-addresses", "lsp21", "f0:00:00:00:02:21 192.168.2.21"],
    ["lsp-add", "ls2", "lsp22", "--", "lsp-set-addresses", "lsp22", "f0:00:00:00:02:22 192.168.2.22"],
  ],
  sbctl: [...chassis("hv1", "192.168.0.1"), ["lsp-bind", "lsp11", "hv1"], ["lsp-bind", "lsp21", "hv1"], ["lsp-bind", "lsp22", "hv1"]],
  probes: [1, 2].map((id) => ({
    name: `ecmp-member-${id}`,
    what: "lsp11's packets to 10.0.0.123 are spread over lsp21 and lsp22 (each gets some), routed: source MAC lrp-lr1-ls2's, TTL 63; each ECMP member is one of the two",
    microflow: `inport == "lsp11" && eth.src == f0:00:00:00:01:11 && eth.dst == 00:00:00:01:01:01 && ip4 && ip.ttl == 64 && ip4.src == 192.168.1.11 && ip4.dst == 10.0.0.123 && tcp && tcp.src == 5001 && tcp.dst == 80`,
    flags: ["--select-id", String(id)],
    expect: [],
    anyOf: [21, 22].map((n) => [{ port: `lsp${n}`, fields: { "eth.src": "00:00:00:01:02:01", "eth.dst": `f0:00:00:00:02:${n}`, "ip4.src": "192.168.1.11", "ip4.dst": "10.0.0.123", "ip.ttl": 63, "tcp.src": 5001, "tcp.dst": 80 } }]),
  })),
};

// ---------------------------------------------------------------------------------------------
// "policy-based routing: 1 HVs, 2 LSs, 1 lport/LS, 1 LR": R1 joins ls1 (192.168.1.0/24), ls2
// (172.16.1.0/24) and ls3 (20.20.1.0/24), one VIF each; the policies of the test's third check:
// drop at 10, allow at 20, reroute to 20.20.1.2 at 30, all for 192.168.1.0/24 → 172.16.1.0/24.

const PBR: SuiteTopology = {
  name: "policy-routing",
  title: "policy-based routing: 1 HVs, 2 LSs, 1 lport/LS, 1 LR",
  nbctl: [
    ["lr-add", "R1"],
    ["ls-add", "ls1"],
    ["ls-add", "ls2"],
    ["ls-add", "ls3"],
    ...[1, 2, 3].flatMap((n) => {
      const net = ["192.168.1.1/24", "172.16.1.1/24", "20.20.1.1/24"][n - 1]!;
      return [
        ["lrp-add", "R1", `ls${n}`, `00:00:00:01:02:f${n}`, net],
        ["lsp-add", `ls${n}`, `rp-ls${n}`, "--", "set", "Logical_Switch_Port", `rp-ls${n}`, "type=router", `options:router-port=ls${n}`, `addresses="00:00:00:01:02:f${n}"`],
      ];
    }),
    ["lsp-add", "ls1", "ls1-lp1", "--", "lsp-set-addresses", "ls1-lp1", "00:00:00:01:02:03 192.168.1.2"],
    ["lsp-add", "ls2", "ls2-lp1", "--", "lsp-set-addresses", "ls2-lp1", "00:00:00:01:02:04 172.16.1.2"],
    ["lsp-add", "ls3", "ls3-lp1", "--", "lsp-set-addresses", "ls3-lp1", "00:00:00:01:02:05 20.20.1.2"],
    ["lr-policy-add", "R1", "10", "ip4.src==192.168.1.0/24 && ip4.dst==172.16.1.0/24", "drop"],
    ["lr-policy-add", "R1", "20", "ip4.src==192.168.1.0/24 && ip4.dst==172.16.1.0/24", "allow"],
    ["lr-policy-add", "R1", "30", "ip4.src==192.168.1.0/24 && ip4.dst==172.16.1.0/24", "reroute", "20.20.1.2"],
  ],
  sbctl: [...chassis("pbr-hv", "192.168.0.1"), ["lsp-bind", "ls1-lp1", "pbr-hv"], ["lsp-bind", "ls2-lp1", "pbr-hv"], ["lsp-bind", "ls3-lp1", "pbr-hv"]],
  probes: [
    {
      name: "rerouted",
      what: "with the reroute policy at 30 above allow and drop, ls1-lp1's packet to ls2-lp1 arrives at ls3-lp1 instead: source MAC R1's ls3 port, destination ls3-lp1's MAC, TTL 63, addresses unchanged",
      microflow: `inport == "ls1-lp1" && eth.src == 00:00:00:01:02:03 && eth.dst == 00:00:00:01:02:f1 && ip4 && ip.ttl == 64 && ip4.src == 192.168.1.2 && ip4.dst == 172.16.1.2 && ${udp(53, 4369)}`,
      expect: [{ port: "ls3-lp1", fields: { "eth.src": "00:00:00:01:02:f3", "eth.dst": "00:00:00:01:02:05", "ip4.src": "192.168.1.2", "ip4.dst": "172.16.1.2", "ip.ttl": 63, "udp.src": 53, "udp.dst": 4369 } }],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// "Load Balancer LS hairpin": switch sw with one VIF lsp (MAC 00:00:00:00:00:01) and eight load
// balancers whose only backends are lsp's own addresses (42.42.42.1, 4200::1), attached to sw;
// router rtr (00:00:00:00:01:00, 42.42.42.254/24, 4200::ff/64) on sw; the state before the test
// sets hairpin_snat_ip.

const HAIRPIN: SuiteTopology = {
  name: "lb-ls-hairpin",
  title: "Load Balancer LS hairpin",
  nbctl: [
    ["ls-add", "sw"],
    ["lsp-add", "sw", "lsp", "--", "lsp-set-addresses", "lsp", "00:00:00:00:00:01"],
    ["lb-add", "lb-ipv4-tcp", "88.88.88.88:8080", "42.42.42.1:4041", "tcp"],
    ["lb-add", "lb-ipv4-tcp-dup", "88.88.88.89:8080", "42.42.42.1:4041", "tcp"],
    ["lb-add", "lb-ipv4-udp", "88.88.88.88:4040", "42.42.42.1:2021", "udp"],
    ["lb-add", "lb-ipv4-udp-dup", "88.88.88.89:4040", "42.42.42.1:2021", "udp"],
    ["lb-add", "lb-ipv6-tcp", "[8800::0088]:8080", "[4200::1]:4041", "tcp"],
    ["lb-add", "lb-ipv6-tcp-dup", "[8800::0089]:8080", "[4200::1]:4041", "tcp"],
    ["lb-add", "lb-ipv6-udp", "[8800::0088]:4040", "[4200::1]:2021", "udp"],
    ["lb-add", "lb-ipv6-udp-dup", "[8800::0089]:4040", "[4200::1]:2021", "udp"],
    ...["lb-ipv4-tcp", "lb-ipv4-tcp-dup", "lb-ipv4-udp", "lb-ipv4-udp-dup", "lb-ipv6-tcp", "lb-ipv6-tcp-dup", "lb-ipv6-udp", "lb-ipv6-udp-dup"].map((lb) => ["ls-lb-add", "sw", lb]),
    ["lr-add", "rtr"],
    ["lrp-add", "rtr", "rtr-sw", "00:00:00:00:01:00", "42.42.42.254/24", "4200::00ff/64"],
    routerPort("sw", "sw-rtr", "rtr-sw"),
  ],
  sbctl: [...chassis("hv1", "192.168.0.1"), ["lsp-bind", "lsp", "hv1"]],
  probes: [
    {
      name: "ipv4-tcp-hairpin",
      what: "lsp's TCP SYN from 42.42.42.1 to the VIP 88.88.88.88:8080 comes back to lsp from the VIP: Ethernet addresses swapped, source 88.88.88.88, destination port 4041",
      microflow: `inport == "lsp" && eth.src == 00:00:00:00:00:01 && eth.dst == 00:00:00:00:01:00 && ip4.src == 42.42.42.1 && ip4.dst == 88.88.88.88 && ip.ttl == 64 && tcp && tcp.src == 34000 && tcp.dst == 8080`,
      flags: ["--ct=new", "--ct=new", "--ct=new", "--lb-dst", "42.42.42.1:4041"],
      expect: [{ port: "lsp", fields: { "eth.src": "00:00:00:00:01:00", "eth.dst": "00:00:00:00:00:01", "ip4.dst": "42.42.42.1", "tcp.src": 34000, "tcp.dst": 4041 } }],
      deviations: [
        {
          port: "lsp",
          field: "ip4.src",
          ovnAt: "88.88.88.88",
          ovnsim: "42.42.42.1",
          why: "ls_in_nat_hairpin's ct_snat_to_vip is a source NAT done by conntrack in the datapath; ovn-trace only notes it (`/* nat(src=VIP) */`) and does not rewrite the packet, and ovnsim's trace, which follows ovn-trace's conntrack model, does the same",
        },
      ],
    },
  ],
};

/** Every topology, in a stable order. */
export const TOPOLOGIES: readonly SuiteTopology[] = [L3_HVS, DGP, DNAT_SNAT_LB, PG_ACLS, ECMP, PBR, HAIRPIN];
