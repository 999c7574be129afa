/**
 * Random networks replayed through ovnsim's datapath and through a real OVS datapath, packet by
 * packet: conformance-fuzz's networks and probes (scripts/conformance-fuzz.ts), turned into
 * conversations on node1, through the replay oracle (scripts/ovs-replay.ts: a real ovn-controller
 * programming a dummy-datapath ovs-vswitchd as node1; what each packet makes it send is compared
 * with what ovnsim's `Replayer` sends, by digest).
 *
 * Each probe that enters at a port bound to node1 becomes packets: a TCP probe towards a pod on
 * node1 a whole connection (handshake with real sequence numbers, data both ways, both ends
 * closing), a UDP or ICMP echo probe towards one a request and its reply, any other probe the one
 * packet. Replies come from the pod the probe was addressed to, so a probe whose load balancer or
 * NAT sent it elsewhere gets a reply that real OVS and ovnsim must both judge as the stray packet
 * it is. Where conformance holds ovnsim's logical pipeline to ovn-trace, this holds the physical
 * flows, tunnels and the stateful parts (conntrack across packets, NAT, load balancing, TCP window
 * tracking) to the real datapath.
 *
 * As in the replay oracle: every VIP with all its backends, gateway ports kept on node1 alone,
 * checksums filled in, OVS's clock stopped, and nothing comes back from the other (fake) chassis.
 * Each switch's localnet port gets a VLAN of its own. With `--shared-segments`, half the switches
 * get a localnet port instead (the generator's chance is 0.15), all on the public switch's
 * untagged segment, so that switches reach each other through a chassis's provider bridge. That
 * bridge learns MACs as frames go, and so do ovnsim's provider networks (README; seeds 2598, 3012,
 * 3249, 3319, 3396, 3416, 3424 and 3449, with node2 real, led there). Even seeds give every chassis
 * a MAC on the provider network (`ovn-chassis-mac-mappings`), and so does a network with a
 * distributed gateway port of `redirect-type=bridged`, which works only with them: without them the
 * gateway port's frames go out from its own MAC to itself, and the provider bridge drops them
 * (README).
 *
 * With `--v4less`, about a third of the VIFs of a dual-stack network have no IPv4 address (as
 * conformance-fuzz's), which ovn-controller announces on a provider network by RARP. With
 * `--vxlan` the chassis tunnel with VXLAN (the real chassis run with `ovn-encap-type=vxlan`), whose
 * packets carry no input port.
 *
 * The oracle leaves ovn-controller's announcements out of what real OVS sent (they come on a
 * timer), and with them a frame of the same shape that a packet makes: a gateway router with
 * `lb_force_snat_ip=router_ip` routes a packet for its own address back out, asking for that
 * address by ARP. So a seed that disagrees is asked again once ovn-controller has stopped
 * announcing (about 35 s later, `ANNOUNCEMENTS_MS`), with every frame kept, and that answer counts.
 *
 * With `--gateway-mtu`, the networks have conformance-fuzz's gateway MTUs, and half the IP packets
 * carry 1,000 to 1,440 bytes of data instead of a few (a TCP connection's sequence numbers count
 * them), so that some are over a gateway port's MTU and are answered with "fragmentation needed".
 *
 * With `--ecmp-symmetric`, the networks have conformance-fuzz's symmetric ECMP default route on a
 * gateway router (to upstream and upstream2), and its connections from hosts beyond the two
 * upstreams: a pod's answers must go back to the upstream they came through.
 *
 * With `--node2`, node2 is real too where the network has it (the replay oracle's two-chassis
 * mode): probes from ports bound to either node become packets, each going in on its own node,
 * replies come from pods on either, and what one node sends the other goes into it, so both ends
 * of every crossing are held to real OVS.
 *
 * Run where OVN is installed: `npx tsx scripts/replay-fuzz.ts [--seeds 1-20]
 * [--v6 mixed|always|never] [--probes 40] [--keep DIR] [--verbose] [--node2] [--shared-segments]
 * [--v4less] [--vxlan] [--gateway-mtu] [--ecmp-symmetric]`
 * (`--keep` writes the generated networks of disagreeing seeds there, before the VLAN and chassis
 * MAC changes above; `--verbose` prints every packet and what each side sent). Exit 1 when a seed
 * disagrees.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { error, fail, ok, type Result } from "../src/base/index.js";
import { compilePhysical } from "../src/compile/index.js";
import type { Network } from "../src/model/index.js";
import { ovsAvailable } from "../src/ovn/index.js";
import { loadNetworkText } from "../src/scenario/index.js";
import { Rng, fuzzOptions, generate, type ProbeSpec } from "./conformance-fuzz.js";
import { CHASSIS, NODE2, compareOutputs, microflowFrames, oracleView, ovnsimOutputs, realOutputs, type MicroflowPacket, type OraclePacket } from "./ovs-replay.js";

/** A pod's port: where it is bound, its addresses, and the MAC its packets to another subnet go to. */
interface Pod {
  readonly port: string;
  readonly mac: string;
  readonly chassis: string | undefined;
  readonly switchName: string;
  readonly gatewayMac: string | undefined;
}

function podsByAddress(net: Network): Map<string, Pod> {
  const out = new Map<string, Pod>();
  for (const ls of net.switches.values()) {
    let gatewayMac: string | undefined;
    for (const p of ls.ports.values()) {
      if (p.type !== "router") continue;
      const rp = p.options.get("router-port");
      for (const lr of net.routers.values()) gatewayMac ??= rp === undefined ? undefined : lr.ports.get(rp)?.mac;
    }
    for (const p of ls.ports.values()) {
      if (p.type !== "") continue;
      for (const a of p.addresses) {
        const [mac, ...ips] = a.split(/\s+/);
        if (!mac || mac === "unknown" || mac === "router") continue;
        for (const ip of ips) out.set(ip, { port: p.name, mac, chassis: p.chassis, switchName: ls.name, gatewayMac });
      }
    }
  }
  return out;
}

/** The value of `field == VALUE` in a conformance-fuzz microflow. */
function fieldOf(microflow: string, field: string): string | undefined {
  const m = new RegExp(`(?:^|&& )${field.replace(/\./g, "\\.")} == ("[^"]*"|\\S+)`).exec(microflow);
  return m?.[1]?.replace(/^"|"$/g, "");
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const PSH = 0x08;

/**
 * The packets of one probe (see the module header). `size`, given, picks the data length of an IP
 * packet instead of the usual one (`--gateway-mtu`).
 */
function conversation(p: ProbeSpec, pods: Map<string, Pod>, real: readonly string[], size: (usual: number) => number = (n) => n): MicroflowPacket[] {
  const mf = p.microflow;
  const inport = fieldOf(mf, "inport")!;
  const v6 = mf.includes("ip6.src");
  const src = fieldOf(mf, v6 ? "ip6.src" : "ip4.src");
  const dst = fieldOf(mf, v6 ? "ip6.dst" : "ip4.dst");
  const peer = dst === undefined ? undefined : pods.get(dst);
  const proto = ["tcp", "udp"].find((x) => mf.includes(`&& ${x} &&`)) ?? (mf.includes("icmp4.type == 8") || mf.includes("icmp6.type == 128") ? "echo" : undefined);
  const answerable = peer !== undefined && peer.chassis !== undefined && real.includes(peer.chassis) && src !== undefined && proto !== undefined && !mf.includes("ip.ttl == 1");
  if (!answerable) return [{ port: inport, match: mf.replace(/^inport == "[^"]*" && /, ""), ...(/\bip[46]\b/.test(mf) ? { payload: size(8) } : {}) }];
  // The reply's microflow: from the pod the probe was addressed to, back to the sender's address.
  const sender = pods.get(src);
  const ethSrc = fieldOf(mf, "eth.src")!;
  const replyDst = sender && sender.switchName === peer.switchName ? ethSrc : (peer.gatewayMac ?? ethSrc);
  const fam = v6 ? "ip6" : "ip4";
  const head = (fromMac: string, toMac: string, a: string, b: string): string => `eth.src == ${fromMac} && eth.dst == ${toMac} && ${fam}.src == ${a} && ${fam}.dst == ${b} && ip.ttl == 64`;
  const fwd = (rest: string, more: Omit<MicroflowPacket, "port" | "match"> = {}): MicroflowPacket => ({ port: inport, match: `${head(ethSrc, fieldOf(mf, "eth.dst")!, src, dst!)} && ${rest}`, ...more });
  const back = (rest: string, more: Omit<MicroflowPacket, "port" | "match"> = {}): MicroflowPacket => ({ port: peer.port, match: `${head(peer.mac, replyDst, dst!, src)} && ${rest}`, ...more });
  if (proto === "echo") {
    const icmp = v6 ? "icmp6 && icmp6.code == 0 && icmp6.type == " : "icmp4 && icmp4.code == 0 && icmp4.type == ";
    const n = size(8);
    return [fwd(`${icmp}${v6 ? 128 : 8}`, { payload: n }), back(`${icmp}${v6 ? 129 : 0}`, { payload: n })];
  }
  const sport = fieldOf(mf, `${proto}.src`)!;
  const dport = fieldOf(mf, `${proto}.dst`)!;
  const there = `${proto} && ${proto}.src == ${sport} && ${proto}.dst == ${dport}`;
  const here = `${proto} && ${proto}.src == ${dport} && ${proto}.dst == ${sport}`;
  if (proto === "udp") return [fwd(there, { payload: size(12) }), back(here, { payload: size(30) })];
  const a = 1000;
  const b = 70000;
  const x = size(20);
  const y = size(40);
  return [
    fwd(`${there} && tcp.flags == ${SYN}`, { seq: a, ack: 0 }),
    back(`${here} && tcp.flags == ${SYN | ACK}`, { seq: b, ack: a + 1 }),
    fwd(`${there} && tcp.flags == ${ACK}`, { seq: a + 1, ack: b + 1 }),
    fwd(`${there} && tcp.flags == ${PSH | ACK}`, { seq: a + 1, ack: b + 1, payload: x }),
    back(`${here} && tcp.flags == ${PSH | ACK}`, { seq: b + 1, ack: a + 1 + x, payload: y }),
    fwd(`${there} && tcp.flags == ${FIN | ACK}`, { seq: a + 1 + x, ack: b + 1 + y }),
    back(`${here} && tcp.flags == ${FIN | ACK}`, { seq: b + 1 + y, ack: a + 2 + x }),
    fwd(`${there} && tcp.flags == ${ACK}`, { seq: a + 2 + x, ack: b + 2 + y }),
  ];
}

/** The network (as the replay oracle sees it) and the packets of a seed. */
export function fuzzInputs(seed: number, v6: "mixed" | "always" | "never", probes: number, node2 = false, sharedSegments = false, v4less = false, vxlan = false, gatewayMtu = false, ecmpSymmetric = false): Result<{ net: Network; packets: OraclePacket[]; what: string[]; scenario: string; chassis: readonly string[] }> {
  // Each switch's localnet on a VLAN of its own, or all on the public switch's segment (see the
  // module header).
  const shared = sharedSegments;
  const g = generate(seed, { v6, probes, v4less, vxlan, gatewayMtu, ecmpSymmetric, ...(shared ? { localnetChance: 0.5 } : {}) });
  // With gateway MTUs, half the IP packets carry 1,000 to 1,440 bytes of data (a stream of its own).
  const sizes = new Rng(seed ^ 0x7f4a7c15);
  const size = gatewayMtu ? (usual: number): number => (sizes.chance(0.5) ? sizes.pick([1000, 1160, 1180, 1360, 1380, 1440]) : usual) : undefined;
  const loaded = loadNetworkText(g.scenario, `fuzz${seed}.yaml`);
  if (!loaded.ok) return loaded;
  let i = 0;
  let j = 0;
  const bridged = loaded.value.network.routers.some((lr) => lr.ports.some((p) => (p.options.get("redirect-type") ?? "").toLowerCase() === "bridged"));
  const net = oracleView(loaded.value.network, true)
    .update("switches", (all) => all.map((ls) => (ls.name === "public" ? ls : ls.update("ports", (ports) => ports.map((p) => (p.type !== "localnet" ? p : shared ? p.remove("tag") : p.set("tag", 100 + ++i)))))))
    // Every other seed gives the chassis MACs on the provider network (ovn-chassis-mac-mappings),
    // and so does a network with a bridged redirect, which needs them (see the module header).
    .update("chassis", (all) => (seed % 2 === 0 || bridged ? all.map((c) => c.set("macMappings", c.bridgeMappings.map(() => `0a:00:00:00:01:${(++j).toString(16).padStart(2, "0")}`))) : all));
  const plan = compilePhysical(net);
  if (!plan.ok) return plan;
  const here = plan.value.chassis.get(CHASSIS);
  if (!here) return fail(error("fuzz.chassis", `the network has no ${CHASSIS}`));
  const program = here.program;
  const pods = podsByAddress(net);
  const real = node2 && net.chassis.has(NODE2) ? [CHASSIS, NODE2] : [CHASSIS];
  const boundTo = new Map([...net.switches.values()].flatMap((ls) => [...ls.ports.values()].filter((p) => p.chassis !== undefined && real.includes(p.chassis)).map((p) => [p.name, p.chassis!] as const)));
  const steps = g.list.filter((p) => boundTo.has(fieldOf(p.microflow, "inport") ?? "")).flatMap((p) => conversation(p, pods, real, size));
  const packets = microflowFrames(program, steps);
  if (!packets.ok) return packets;
  // Each packet goes in on the chassis its port is bound to.
  const placed = packets.value.map((p) => (boundTo.get(p.port) === CHASSIS ? p : { ...p, chassis: boundTo.get(p.port)! }));
  return ok({ net, packets: placed, what: steps.map((s) => `inport == "${s.port}" && ${s.match}`), scenario: g.scenario, chassis: real });
}

async function main(args: readonly string[]): Promise<number> {
  const o = fuzzOptions(args, 40, "replay-fuzz [--seeds A[-B]] [--v6 mixed|always|never] [--probes N] [--keep DIR] [--verbose] [--node2] [--shared-segments] [--v4less] [--vxlan] [--gateway-mtu] [--ecmp-symmetric]", ["--verbose", "--node2", "--shared-segments", "--v4less", "--vxlan", "--gateway-mtu", "--ecmp-symmetric"]);
  if (o === "help") return 0;
  if (!o) return 2;
  if (!ovsAvailable()) {
    console.error("replay-fuzz: real OVN and OVS are not installed (ovn-northd, ovn-controller, ovs-vswitchd)");
    return 2;
  }
  const { keep } = o;
  let bad = 0;
  for (let seed = o.first; seed <= o.last; seed++) {
    const inputs = fuzzInputs(seed, o.v6, o.probes, args.includes("--node2"), args.includes("--shared-segments"), args.includes("--v4less"), args.includes("--vxlan"), args.includes("--gateway-mtu"), args.includes("--ecmp-symmetric"));
    if (!inputs.ok) {
      console.log(`seed ${seed}: ${inputs.diags.map((d) => d.message).join("; ")}`);
      bad++;
      continue;
    }
    const { net, packets, what, scenario, chassis } = inputs.value;
    if (packets.length === 0) {
      // Not a disagreement, and not an agreement worth the name: said as what it is.
      console.log(`seed ${seed}: no probe enters at a port bound to ${chassis.join(" or ")}; nothing to replay`);
      continue;
    }
    const mine = ovnsimOutputs(net, packets, { chassis });
    const real = await realOutputs(net, packets, { chassis });
    if (!mine.ok || !real.ok) {
      console.log(`seed ${seed}: ${[...(mine.ok ? [] : mine.diags), ...(real.ok ? [] : real.diags)].map((d) => d.message).join("; ")}`);
      bad++;
      continue;
    }
    let diff = compareOutputs(real.value.outputs, mine.value);
    let outputs = real.value.outputs;
    if (diff.length > 0) {
      // The oracle leaves ovn-controller's announcements out, and with them any frame of the same
      // shape that a packet makes: ask again once the announcements are over, keeping every frame.
      const quiet = await realOutputs(net, packets, { quietAnnouncements: true, chassis });
      if (!quiet.ok) {
        console.log(`seed ${seed}: ${quiet.diags.map((d) => d.message).join("; ")}`);
        bad++;
        continue;
      }
      const again = compareOutputs(quiet.value.outputs, mine.value);
      console.log(`seed ${seed}: ${packets.length - diff.length}/${packets.length} packets agree; asked again after ovn-controller's announcements, ${packets.length - again.length}/${packets.length}`);
      diff = again;
      outputs = quiet.value.outputs;
    }
    if (args.includes("--verbose")) {
      packets.forEach((_, i) => console.log(`  ${i} ${what[i]}\n     real   [${outputs[i]!.join(", ")}]\n     ovnsim [${mine.value[i]!.join(", ")}]`));
    }
    console.log(`seed ${seed}: ${packets.length - diff.length}/${packets.length} packets agree`);
    for (const d of diff.slice(0, 10)) console.log(`  ${d}\n    (${what[Number(/^packet (\d+)/.exec(d)?.[1])] ?? "?"})`);
    if (diff.length > 0) {
      bad++;
      if (keep) {
        mkdirSync(keep, { recursive: true });
        writeFileSync(join(keep, `fuzz${seed}.yaml`), scenario);
      }
    }
  }
  console.log(bad === 0 ? "every seed agrees" : `${bad} seed(s) disagree`);
  return bad === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
