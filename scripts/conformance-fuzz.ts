/**
 * Random networks against real OVN: each seed makes a scenario and probes, which
 * `ovnsim conformance --probes` traces through ovnsim and through real ovn-trace; the script
 * prints every disagreement and exits 1 if there was one. A documented difference (a forwarding
 * loop ovnsim cuts at its loop limits) is printed, and is no disagreement.
 *
 * The networks mix what OVN users build: 1 to 3 chassis; 1 to 4 switches of VIFs, some with port
 * security (an address, a prefix, an address written with host bits, a MAC alone), unknown
 * addresses or disabled ports, some with a localnet or a localport; 0 to 2 routers, joined by a
 * join switch with static routes; a gateway router or a distributed gateway port towards a public
 * switch, with snat, dnat and dnat_and_snat (stateless and distributed ones too) and
 * `lb_force_snat_ip=router_ip`; ACLs of every action at distinct priorities; a port group with an
 * address set; load balancers on switches and routers (hairpin SNAT, VIPs without backends);
 * reroute and drop policies, discard and src-ip routes; IPv4 or dual stack. Then the extras: routers
 * peered without a join switch, route tables on router ports, HA chassis groups and
 * `redirect-type=bridged` on distributed gateway ports, NAT with allowed or exempted external
 * addresses, load balancers with `skip_snat`, `neighbor_responder`, selection fields or
 * `affinity_timeout`, logged and labelled ACLs, reroutes to two next hops,
 * `always_learn_from_arp_request` and `dynamic_neigh_routers`. The probes: pod to pod on one switch and across routers, VIPs (with
 * `--lb-dst`), the routers' own addresses, ARP from pods and from upstream, TTL 1, inbound traffic
 * to the NAT addresses, under `--ct` new, est and est,rpl.
 *
 * What the probes leave out, because real OVN has no single answer to it: ECMP members (northd
 * numbers them in database UUID order), ACLs of one priority that overlap, and `--lb-dst` on a
 * packet whose TTL expires (ovn-trace applies an unused `--lb-dst` at every bare `ct_lb_mark`
 * without printing it).
 *
 * Run where OVN is installed: `npx tsx scripts/conformance-fuzz.ts [--seeds 1-100] [--v6 mixed|always|never]
 * [--probes 60] [--keep DIR] [--generate-only] [--v4less] [--vxlan] [--gateway-mtu] [--ecmp-symmetric]`
 * (`--v4less`: about a third of the VIFs of a dual-stack network have no IPv4 address; `--vxlan`:
 * the chassis tunnel with VXLAN, not Geneve; `--gateway-mtu`: most public router ports and a
 * quarter of the others have a `gateway_mtu` of 1000 to 1442 bytes; `--ecmp-symmetric`: a gateway
 * router's default route is an ECMP group to upstream and a second upstream, 172.16.0.5, with
 * `ecmp_symmetric_reply`, a reroute policy sends what else leaves by the public port to upstream,
 * and eight more probes come in through both from hosts beyond them; `--keep` writes the networks and probes of disagreeing
 * seeds there; with `--generate-only`, of every seed, and nothing runs).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { memoryIo } from "../src/cli/io.js";
import { run } from "../src/cli/main.js";
import { ovnAvailable } from "../src/ovn/index.js";

/** A small seeded generator (mulberry32), so a seed names one network on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const hex = (n: number): string => n.toString(16).padStart(2, "0");

interface RouterPortSpec {
  readonly name: string;
  readonly mac: string;
  readonly net: string;
  readonly net6: string | undefined;
  readonly join?: boolean;
  readonly public?: boolean;
  readonly gw?: readonly string[];
  /** More of the port's YAML (`, options: {...}`, `, peer: ...`), from the extras. */
  extra?: string;
}

interface Vif {
  readonly name: string;
  readonly mac: string;
  readonly ip: string;
  readonly ip6: string | undefined;
  readonly sw: SwitchSpec;
  readonly line: string;
}

interface SwitchSpec {
  readonly name: string;
  readonly index: number;
  readonly subnet: string;
  readonly ports: Vif[];
  readonly acls: string[];
  readonly lbs: string[];
  routerPort: RouterPortSpec | undefined;
  localnet: number | undefined;
  localport: boolean;
}

interface RouterSpec {
  readonly name: string;
  readonly ports: RouterPortSpec[];
  readonly routes: string[];
  readonly policies: string[];
  readonly nat: string[];
  readonly lbs: string[];
  readonly options: Map<string, string>;
  joinIp?: string;
  joinIp6?: string;
}

interface LbSpec {
  readonly name: string;
  readonly protocol: "tcp" | "udp";
  readonly vip: string;
  readonly ip: string;
  readonly port: number;
  readonly backends: readonly string[];
  readonly v6: boolean;
  readonly hairpin: boolean;
  readonly rejectVip: string | undefined;
}

export interface ProbeSpec {
  name: string;
  microflow: string;
  ct?: string[];
  lbDst?: string;
}

/** The scenario YAML and the probes (a `probes:` file) of `seed`. */
export function generate(seed: number, opts: { v6: "mixed" | "always" | "never"; probes: number; localnetChance?: number; v4less?: boolean; vxlan?: boolean; gatewayMtu?: boolean; ecmpSymmetric?: boolean }): { scenario: string; probes: string; list: readonly ProbeSpec[] } {
  const r = new Rng(seed);
  // The extras (route tables, peered routers, HA chassis groups, bridged redirects, NAT external
  // address sets, load balancer options, logged ACLs, multi-hop reroutes) draw from a second
  // stream, so that a seed's base network stays what it was before they were added.
  const x = new Rng(seed ^ 0x5bd1e995);
  const aff = new Rng(seed ^ 0x27d4eb2f);
  // With `v4less`, which VIFs of a dual-stack network lose their IPv4 address: a stream of its own.
  const v4l = new Rng(seed ^ 0x165667b1);
  // With `gatewayMtu`, which router ports get a gateway MTU, and which: a stream of its own.
  const mtuRng = new Rng(seed ^ 0x3c6ef372);
  // With `ecmpSymmetric`, where the second upstream is and what comes in through both: a stream of its own.
  const ecmpRng = new Rng(seed ^ 0x61c88647);
  const addressSets: string[] = [];
  const haGroups: string[] = [];
  const nCh = r.int(1, 3);
  const v6 = opts.v6 === "always" || (opts.v6 === "mixed" && r.chance(0.3));
  const chassis = Array.from({ length: nCh }, (_, i) => `node${i + 1}`);
  const switches: SwitchSpec[] = [];
  const vifs: Vif[] = [];
  for (let i = 1, n = r.int(1, 4); i <= n; i++) {
    const sw: SwitchSpec = { name: `sw${i}`, index: i, subnet: `10.${i}.0`, ports: [], acls: [], lbs: [], routerPort: undefined, localnet: undefined, localport: false };
    for (let j = 1, m = r.int(1, 4); j <= m; j++) {
      const mac = `00:00:00:${hex(i)}:00:${hex(j + 1)}`;
      const ip = `10.${i}.0.${j + 10}`;
      const ip6 = v6 ? `fd00:${i}::${j + 10}` : undefined;
      const a = ip6 ? (opts.v4less === true && v4l.chance(0.35) ? `${mac} ${ip6}` : `${mac} ${ip} ${ip6}`) : `${mac} ${ip}`;
      const addrs = r.chance(0.1) ? [a, "unknown"] : [a];
      let line = `      - {name: p${i}-${j}, addresses: [${addrs.map((x) => JSON.stringify(x)).join(", ")}]`;
      if (r.chance(0.4)) line += `, portSecurity: ["${mac}${r.pick([` ${ip}`, "", ` 10.${i}.0.0/28`, ` ${ip}/32`])}${v6 && r.chance(0.7) ? r.pick([` ${ip6}`, ` fd00:${i}::/64`]) : ""}"]`;
      if (r.chance(0.04)) line += ", enabled: false";
      line += `, chassis: ${r.pick(chassis)}}`;
      const vif: Vif = { name: `p${i}-${j}`, mac, ip, ip6, sw, line };
      sw.ports.push(vif);
      vifs.push(vif);
    }
    switches.push(sw);
  }
  for (const sw of switches) {
    if (r.chance(opts.localnetChance ?? 0.15)) sw.localnet = r.pick([1, 100]);
    if (r.chance(0.15)) sw.localport = true;
  }

  // Routers, each on up to three switches of its own; two of them meet on a join switch.
  const routers: RouterSpec[] = [];
  const free = [...switches];
  for (let k = 1, n = switches.length >= 2 ? r.int(0, 2) : r.int(0, 1); k <= n; k++) {
    const rt: RouterSpec = { name: `lr${k}`, ports: [], routes: [], policies: [], nat: [], lbs: [], options: new Map() };
    for (let t = 0, m = Math.min(free.length, r.int(1, 3)); t < m; t++) {
      const sw = free.splice(Math.floor(r.next() * free.length), 1)[0]!;
      const lrp: RouterPortSpec = { name: `${rt.name}-${sw.name}`, mac: `00:00:00:${hex(sw.index)}:00:01`, net: `${sw.subnet}.1/24`, net6: v6 ? `fd00:${sw.index}::1/64` : undefined };
      rt.ports.push(lrp);
      sw.routerPort = lrp;
    }
    if (rt.ports.length > 0) routers.push(rt);
  }
  const join = routers.length === 2;
  if (join) {
    routers.forEach((rt, i) => {
      rt.joinIp = `100.64.0.${i + 1}`;
      rt.joinIp6 = `fd00:64::${i + 1}`;
      rt.ports.push({ name: `${rt.name}-join`, mac: `00:00:00:64:00:${hex(i + 1)}`, net: `${rt.joinIp}/24`, net6: v6 ? `${rt.joinIp6}/64` : undefined, join: true });
    });
    routers.forEach((rt, i) => {
      const other = routers[1 - i]!;
      for (const p of other.ports) {
        if (p.join) continue;
        rt.routes.push(`{ipPrefix: ${p.net.replace(/\.1\/24$/, ".0/24")}, nexthop: ${other.joinIp}}`);
        if (p.net6) rt.routes.push(`{ipPrefix: "${p.net6.replace(/::1\/64$/, "::/64")}", nexthop: "${other.joinIp6}"}`);
      }
    });
  }

  // Sometimes the two routers meet on a peer link instead of the join switch.
  const peered = join && x.chance(0.5);
  if (peered) routers.forEach((rt, i) => (rt.ports.find((p) => p.join)!.extra = `, peer: ${routers[1 - i]!.name}-join`));
  // Sometimes a router port takes its routes from a route table of its own.
  for (const rt of routers) {
    const inner = rt.ports.filter((p) => !p.join && !p.public);
    if (inner.length < 2 || !x.chance(0.35)) continue;
    inner[0]!.extra = ", options: {route_table: rtb1}";
    const via = switches.find((s) => s.routerPort === inner[1])?.ports[0];
    rt.routes.push(`{ipPrefix: ${x.pick(["8.8.8.0/24", "0.0.0.0/0", "172.16.0.0/24"])}, nexthop: ${via && x.chance(0.7) ? via.ip : "discard"}, routeTable: rtb1}`);
  }

  // A gateway router or a distributed gateway port towards a public switch, with NAT.
  const pub = routers.length > 0 && r.chance(0.5);
  const upstreamChassis = r.pick(chassis);
  /** With `ecmpSymmetric` and a gateway router: the chassis of the second upstream, 172.16.0.5. */
  let ecmpUpstream2: string | undefined;
  if (pub) {
    const rt = routers[0]!;
    const dgp = r.chance(0.5);
    const pubPort: RouterPortSpec = { name: `${rt.name}-public`, mac: "00:00:00:ac:00:02", net: "172.16.0.2/24", net6: undefined, public: true, ...(dgp ? { gw: chassis } : {}) };
    rt.ports.push(pubPort);
    if (dgp && x.chance(0.5)) {
      haGroups.push(`  - {name: hag1, chassis: [${chassis.map((c, i) => `{chassis: ${c}, priority: ${10 + i}}`).join(", ")}]}`);
      pubPort.extra = ", haChassisGroup: hag1";
    }
    if (dgp && x.chance(0.4)) pubPort.extra = `${pubPort.extra ?? ""}, options: {redirect-type: bridged}`;
    if (!dgp) {
      rt.options.set("chassis", r.pick(chassis));
      if (r.chance(0.3)) rt.options.set("lb_force_snat_ip", "router_ip");
    }
    if (opts.ecmpSymmetric === true && !dgp) {
      // Two default routes that ask for symmetric replies, to upstream and upstream2; a reroute
      // policy (above any other) sends what leaves by the public port otherwise to upstream, so that no packet's
      // way depends on how northd numbers the ECMP members (by database UUID).
      ecmpUpstream2 = ecmpRng.pick(chassis.slice(0, 2));
      rt.routes.push('{ipPrefix: 0.0.0.0/0, nexthop: 172.16.0.1, options: {ecmp_symmetric_reply: "true"}}', '{ipPrefix: 0.0.0.0/0, nexthop: 172.16.0.5, options: {ecmp_symmetric_reply: "true"}}');
      rt.policies.push(`{priority: 32000, match: 'outport == "${rt.name}-public" && ip4.dst != 172.16.0.0/24', action: reroute, nexthops: [172.16.0.1]}`);
    } else rt.routes.push("{ipPrefix: 0.0.0.0/0, nexthop: 172.16.0.1}");
    const inside = rt.ports.find((p) => !p.join && !p.public);
    const sw = switches.find((s) => s.routerPort === inside);
    if (inside && sw) {
      rt.nat.push(`{type: snat, externalIp: 172.16.0.2, logicalIp: ${inside.net.replace(/\.1\/24$/, ".0/24")}}`);
      if (r.chance(0.7)) {
        let ext = "";
        if (x.chance(0.5)) {
          addressSets.push(`  - {name: ext1, addresses: [${x.pick(["172.16.0.1", "172.16.0.0/28", "172.16.0.99"])}]}`);
          ext = `, ${x.pick(["allowedExtIps", "exemptedExtIps"])}: ext1`;
        }
        rt.nat.push(`{type: ${r.pick(["dnat", "dnat_and_snat"])}, externalIp: 172.16.0.10, logicalIp: ${sw.ports[0]!.ip}${ext}}`);
      }
      const second = sw.ports[1];
      if (second && r.chance(0.5)) {
        const extra = dgp && r.chance(0.5) ? `, logicalPort: ${second.name}, externalMac: "00:00:00:ac:00:11"` : r.chance(0.3) ? ", stateless: true" : "";
        rt.nat.push(`{type: dnat_and_snat, externalIp: 172.16.0.11, logicalIp: ${second.ip}${extra}}`);
      }
    }
  }

  for (const rt of routers) {
    if (r.chance(0.3)) rt.policies.push(`{priority: ${r.int(1, 100) * 100}, match: 'ip4.src == ${r.pick(vifs).ip}', action: ${r.pick(["drop", "allow"])}}`);
    const mine = vifs.filter((v) => rt.ports.includes(v.sw.routerPort!));
    if (r.chance(0.3) && mine.length > 0) {
      const dst = r.pick(["8.8.8.0/24", r.pick(vifs).ip, "172.16.0.0/24"]);
      const prio = r.int(1, 100) * 100;
      const tcp = r.chance(0.5) ? " && tcp" : "";
      const hop = r.pick(mine).ip;
      const second = mine.find((v) => v.ip !== hop);
      rt.policies.push(`{priority: ${prio}, match: 'ip4.dst == ${dst}${tcp}', action: reroute, nexthops: [${hop}${second && x.chance(0.3) ? `, ${second.ip}` : ""}]}`);
    }
    if (r.chance(0.2)) rt.routes.push("{ipPrefix: 192.0.2.0/24, nexthop: discard}");
    if (r.chance(0.2) && mine.length > 0) rt.routes.push(`{ipPrefix: ${r.pick(mine).ip}, nexthop: ${r.pick(mine).ip}, policy: src-ip}`);
  }

  // A port group with an address set.
  const pgMembers = r.chance(0.5) ? vifs.filter(() => r.chance(0.5)) : [];
  const pgSet = vifs.filter(() => r.chance(0.4)).map((v) => v.ip);
  const pgAcls = [
    "{direction: to-lport, priority: 2000, match: 'outport == @pg1 && ip', action: drop}",
    `{direction: to-lport, priority: 2001, match: 'outport == @pg1 && ip4.src == $as1${r.chance(0.5) ? " && tcp.dst == 80" : ""}', action: allow-related}`,
    `{direction: from-lport, priority: 2001, match: 'inport == @pg1 && ip4.dst == $pg1_ip4', action: ${r.pick(["allow-related", "drop", "allow"])}${r.chance(0.5) ? ", applyAfterLb: true" : ""}}`,
  ].filter(() => r.chance(0.8));

  // Load balancers on a switch, and sometimes a router too.
  const lbs: LbSpec[] = [];
  for (let l = 1, n = r.int(0, 2); l <= n; l++) {
    const protocol = r.pick(["tcp", "udp"] as const);
    const port = r.pick([80, 53, 8080]);
    const nb = r.int(1, 3);
    const lbV6 = v6 && r.chance(0.5);
    const backends = new Set<string>();
    for (let b = 0; b < nb; b++) backends.add(lbV6 ? `[${r.pick(vifs).ip6!}]:${r.pick([port, 8000])}` : `${r.pick(vifs).ip}:${r.pick([port, 8000])}`);
    const ip = lbV6 ? `fd00:96::${l}` : `10.96.0.${l}`;
    const hairpin = r.chance(0.3);
    const rejectVip = !lbV6 && r.chance(0.2) ? `10.96.1.${l}:${port}` : undefined;
    const lb: LbSpec = { name: `lb${l}`, protocol, ip, port, vip: lbV6 ? `[${ip}]:${port}` : `${ip}:${port}`, backends: [...backends], v6: lbV6, hairpin, rejectVip };
    lbs.push(lb);
    r.pick(switches).lbs.push(lb.name);
    if (routers.length > 0 && r.chance(0.3)) r.pick(routers).lbs.push(lb.name);
  }

  // ACLs, at priorities distinct on each switch and from the port group's (overlapping ACLs of one
  // priority have no defined winner).
  for (const sw of switches) {
    const used = new Set([2000, 2001]);
    for (let a = 0, n = r.int(0, 3); a < n; a++) {
      const dir = r.pick(["from-lport", "to-lport"] as const);
      let prio = r.int(1, 30) * 100;
      while (used.has(prio)) prio += 7;
      used.add(prio);
      const parts: string[] = [];
      const port = r.pick(sw.ports);
      if (r.chance(0.4)) parts.push(`${dir === "from-lport" ? "inport" : "outport"} == "${port.name}"`);
      const other = r.pick(vifs);
      parts.push(r.pick([`ip4.src == ${other.ip}`, `ip4.dst == ${other.sw.subnet}.0/24`, `tcp.dst == ${r.pick([80, 22, 8080, 8000])}`, "udp", "icmp4", "ip4 && tcp.dst >= 1000 && tcp.dst <= 9000", "ip4"]));
      const logged = x.chance(0.3) ? `, name: acl${prio}, log: true, severity: ${x.pick(["info", "warning", "alert"])}${x.chance(0.5) ? `, label: ${x.int(1, 9)}` : ""}` : "";
      sw.acls.push(`{direction: ${dir}, priority: ${prio}, match: '${parts.join(" && ")}', action: ${r.pick(["allow", "allow-related", "drop", "reject", "allow-stateless"])}${logged}}`);
    }
  }

  // The scenario.
  const y: string[] = [`name: fuzz${seed}`, "chassis:"];
  for (const c of chassis) y.push(`  - {name: ${c}, encaps: [{type: ${opts.vxlan === true ? "vxlan" : "geneve"}, ip: 192.168.0.${10 + Number(c.slice(4))}}], bridgeMappings: {physnet1: br-ex}}`);
  if (lbs.length > 0) {
    y.push("loadBalancers:");
    for (const lb of lbs) {
      const options = [...(lb.hairpin ? ['hairpin_snat_ip: "169.254.169.5"'] : []), ...(lb.rejectVip ? ['reject: "true"'] : [])];
      if (x.chance(0.25)) options.push('skip_snat: "true"');
      if (x.chance(0.25)) options.push(`neighbor_responder: ${x.pick(["all", "none", "reachable"])}`);
      const fields = x.chance(0.2) ? `, selectionFields: [${x.pick(["ip_src, ip_dst", "ip_src, tp_src", "eth_src"])}]` : "";
      // From a generator of its own, so that the rest of each seed's network stays as it was.
      if (aff.chance(0.3)) options.push(`affinity_timeout: "${aff.pick([5, 60, 10800])}"`);
      y.push(`  - {name: ${lb.name}, protocol: ${lb.protocol}, vips: {"${lb.vip}": [${lb.backends.map((b) => `"${b}"`).join(", ")}]${lb.rejectVip ? `, "${lb.rejectVip}": []` : ""}}${options.length > 0 ? `, options: {${options.join(", ")}}` : ""}${fields}}`);
    }
  }
  if (pgMembers.length > 0) addressSets.unshift(`  - {name: as1, addresses: [${pgSet.join(", ")}]}`);
  if (addressSets.length > 0) y.push("addressSets:", ...addressSets);
  if (haGroups.length > 0) y.push("haChassisGroups:", ...haGroups);
  if (pgMembers.length > 0) {
    y.push("portGroups:", "  - name: pg1", `    ports: [${pgMembers.map((m) => m.name).join(", ")}]`);
    if (pgAcls.length > 0) y.push("    acls:", ...pgAcls.map((a) => `      - ${a}`));
  }
  y.push("switches:");
  for (const sw of switches) {
    y.push(`  - name: ${sw.name}`, `    otherConfig: {subnet: ${sw.subnet}.0/24}`, "    ports:", ...sw.ports.map((p) => p.line));
    if (sw.routerPort) y.push(`      - {name: ${sw.name}-rp, type: router, addresses: [router], options: {router-port: ${sw.routerPort.name}}}`);
    if (sw.localnet !== undefined) y.push(`      - {name: ${sw.name}-ln, type: localnet, addresses: [unknown], options: {network_name: physnet1}${sw.localnet > 1 ? `, tag: ${sw.localnet}` : ""}}`);
    if (sw.localport) y.push(`      - {name: ${sw.name}-lp, type: localport, addresses: ["00:00:00:${hex(sw.index)}:00:fe ${sw.subnet}.254"]}`);
    if (sw.acls.length > 0) y.push("    acls:", ...sw.acls.map((a) => `      - ${a}`));
    if (sw.lbs.length > 0) y.push(`    loadBalancers: [${sw.lbs.join(", ")}]`);
  }
  if (join && !peered) {
    y.push("  - name: join", "    otherConfig: {subnet: 100.64.0.0/24}", "    ports:");
    for (const rt of routers) y.push(`      - {name: join-${rt.name}, type: router, addresses: [router], options: {router-port: ${rt.name}-join}}`);
  }
  if (pub) {
    y.push("  - name: public", "    ports:");
    y.push("      - {name: ln-public, type: localnet, addresses: [unknown], options: {network_name: physnet1}}");
    y.push(`      - {name: upstream, addresses: ["00:00:00:ac:00:01 172.16.0.1"], chassis: ${upstreamChassis}}`);
    if (ecmpUpstream2 !== undefined) y.push(`      - {name: upstream2, addresses: ["00:00:00:ac:00:05 172.16.0.5"], chassis: ${ecmpUpstream2}}`);
    y.push(`      - {name: public-rp, type: router, addresses: [router], options: {router-port: ${routers[0]!.name}-public}}`);
  }
  if (routers.length > 0) {
    y.push("routers:");
    for (const rt of routers) {
      y.push(`  - name: ${rt.name}`);
      if (x.chance(0.2)) rt.options.set("always_learn_from_arp_request", "\"false\"");
      if (x.chance(0.2)) rt.options.set("dynamic_neigh_routers", "\"true\"");
      if (rt.options.size > 0) y.push(`    options: {${[...rt.options].map(([k, v]) => `${k}: ${v}`).join(", ")}}`);
      y.push("    ports:");
      for (const p of rt.ports) {
        const gw = p.gw && !p.extra?.includes("haChassisGroup") ? `, gatewayChassis: [${p.gw.map((c, i) => `{chassis: ${c}, priority: ${20 - i}}`).join(", ")}]` : "";
        // With `gatewayMtu`, a gateway MTU on most public ports and some others (a stream of its own).
        let extra = p.extra ?? "";
        const mtu = opts.gatewayMtu === true && mtuRng.chance(p.public ? 0.8 : 0.25) ? mtuRng.pick([1000, 1200, 1400, 1442]) : undefined;
        if (mtu !== undefined) extra = extra.includes("options: {") ? extra.replace("options: {", `options: {gateway_mtu: "${mtu}", `) : `${extra}, options: {gateway_mtu: "${mtu}"}`;
        y.push(`      - {name: ${p.name}, mac: "${p.mac}", networks: [${p.net}${p.net6 ? `, "${p.net6}"` : ""}]${gw}${extra}}`);
      }
      if (rt.routes.length > 0) y.push("    staticRoutes:", ...rt.routes.map((x) => `      - ${x}`));
      if (rt.policies.length > 0) y.push("    policies:", ...rt.policies.map((x) => `      - ${x}`));
      if (rt.nat.length > 0) y.push("    nat:", ...rt.nat.map((x) => `      - ${x}`));
      if (rt.lbs.length > 0) y.push(`    loadBalancers: [${rt.lbs.join(", ")}]`);
    }
  }

  // The probes.
  const probes: ProbeSpec[] = [];
  const cts = [undefined, "new", "est", "est,rpl", "new"];
  const gatewayMac = (sw: SwitchSpec): string | undefined => sw.routerPort?.mac;
  const add = (p: ProbeSpec, ct: string | undefined): void => {
    if (ct !== undefined) p.ct = Array<string>(6).fill(ct);
    probes.push(p);
  };
  for (let n = 0; n < opts.probes; n++) {
    const src = r.pick(vifs);
    if (src.ip6 && r.chance(0.5)) {
      let dmac: string;
      let dip: string;
      let lb: LbSpec | undefined;
      const kind = r.int(0, 4);
      const v6lbs = lbs.filter((l) => l.v6);
      if (kind === 0) {
        const d = r.pick(src.sw.ports);
        dmac = d.mac;
        dip = d.ip6!;
      } else if (kind === 2 && v6lbs.length > 0) {
        lb = r.pick(v6lbs);
        dip = lb.ip;
        dmac = gatewayMac(src.sw) ?? r.pick(src.sw.ports).mac;
      } else if (kind === 3 && src.sw.routerPort?.net6) {
        dip = src.sw.routerPort.net6.split("/")[0]!;
        dmac = src.sw.routerPort.mac;
      } else {
        const d = r.pick(vifs);
        dip = d.ip6!;
        dmac = d.sw === src.sw ? d.mac : (gatewayMac(src.sw) ?? d.mac);
      }
      const proto = lb?.protocol ?? r.pick(["tcp", "udp", "icmp6"]);
      const l4 = proto === "icmp6" ? "icmp6 && icmp6.type == 128 && icmp6.code == 0" : `${proto} && ${proto}.src == ${r.int(1024, 65000)} && ${proto}.dst == ${lb?.port ?? r.pick([80, 53, 8080])}`;
      const ttl = !lb && r.chance(0.1) ? 1 : 64;
      const p: ProbeSpec = { name: `v6p${n}`, microflow: `inport == "${src.name}" && eth.src == ${src.mac} && eth.dst == ${dmac} && ip6.src == ${src.ip6} && ip6.dst == ${dip} && ip.ttl == ${ttl} && ${l4}` };
      if (lb) p.lbDst = r.pick(lb.backends);
      add(p, r.pick(cts));
      continue;
    }
    const sip = r.chance(0.05) ? "10.9.9.9" : src.ip;
    let dmac: string;
    let dip: string;
    let lb: LbSpec | undefined;
    let lbPort: number | undefined;
    const kind = r.int(0, 7);
    const v4lbs = lbs.filter((l) => !l.v6);
    const rejecting = lbs.filter((l) => l.rejectVip !== undefined);
    if (kind === 0) {
      const d = r.pick(src.sw.ports);
      dmac = d.mac;
      dip = d.ip;
    } else if (kind === 3 && rejecting.length > 0 && r.chance(0.3)) {
      const l = r.pick(rejecting);
      [dip, lbPort] = [l.rejectVip!.split(":")[0]!, l.port];
      dmac = gatewayMac(src.sw) ?? r.pick(src.sw.ports).mac;
    } else if (kind === 3 && v4lbs.length > 0) {
      lb = r.pick(v4lbs);
      dip = lb.ip;
      if (r.chance(0.8)) lbPort = lb.port;
      dmac = gatewayMac(src.sw) ?? r.pick(src.sw.ports).mac;
    } else if (kind === 4) {
      dip = r.pick(["8.8.8.8", "172.16.0.1", "172.16.0.10", "100.64.0.1"]);
      dmac = gatewayMac(src.sw) ?? "00:00:00:ff:ff:01";
    } else if (kind === 5 && src.sw.routerPort) {
      dip = src.sw.routerPort.net.split("/")[0]!;
      dmac = src.sw.routerPort.mac;
    } else if (kind === 6) {
      const tpa = r.pick([...vifs.map((v) => v.ip), ...(src.sw.routerPort ? [src.sw.routerPort.net.split("/")[0]!] : []), "10.96.0.1"]);
      add({ name: `arp${n}`, microflow: `inport == "${src.name}" && eth.src == ${src.mac} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == ${src.mac} && arp.spa == ${sip} && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${tpa}` }, undefined);
      continue;
    } else {
      const d = r.pick(vifs);
      dip = d.ip;
      dmac = d.sw === src.sw || kind === 7 ? d.mac : (gatewayMac(src.sw) ?? d.mac);
    }
    const proto = lb && lbPort !== undefined ? lb.protocol : r.pick(["tcp", "udp", "icmp4", "tcp"]);
    let l4 = proto === "icmp4" ? "icmp4 && icmp4.type == 8 && icmp4.code == 0" : `${proto} && ${proto}.src == ${r.int(1024, 65000)} && ${proto}.dst == ${lbPort ?? r.pick([80, 53, 8080, 22, 8000, 443])}`;
    if (proto === "tcp" && r.chance(0.3)) l4 += ` && tcp.flags == ${r.pick([2, 16, 18, 4])}`;
    const ttl = !lb && r.chance(0.1) ? 1 : 64;
    const p: ProbeSpec = { name: `p${n}`, microflow: `inport == "${src.name}" && eth.src == ${src.mac} && eth.dst == ${dmac} && ip4.src == ${sip} && ip4.dst == ${dip} && ip.ttl == ${ttl} && ${l4}` };
    if (lb) p.lbDst = r.pick(lb.backends);
    add(p, r.pick(cts));
  }
  if (pub) {
    for (let n = 0; n < 8; n++) {
      const proto = r.pick(["tcp", "udp", "icmp4"]);
      const l4 = proto === "icmp4" ? "icmp4 && icmp4.type == 8 && icmp4.code == 0" : `${proto} && ${proto}.src == ${r.int(1024, 65000)} && ${proto}.dst == ${r.pick([80, 22])}`;
      const dip = r.pick(["172.16.0.2", "172.16.0.10", "172.16.0.11", "172.16.0.55"]);
      add({ name: `in${n}`, microflow: `inport == "upstream" && eth.src == 00:00:00:ac:00:01 && eth.dst == 00:00:00:ac:00:02 && ip4.src == 172.16.0.1 && ip4.dst == ${dip} && ip.ttl == 64 && ${l4}` }, r.pick(cts));
    }
  }
  if (ecmpUpstream2 !== undefined) {
    // Connections from hosts beyond the two upstreams, to the router's addresses and its inside.
    const inside = vifs.filter((v) => v.sw.routerPort !== undefined && v.sw.routerPort === routers[0]!.ports.find((p) => !p.join && !p.public));
    for (let n = 0; n < 8; n++) {
      const [port, mac] = ecmpRng.pick([["upstream", "00:00:00:ac:00:01"], ["upstream2", "00:00:00:ac:00:05"]] as const);
      const proto = ecmpRng.pick(["tcp", "udp", "tcp"]);
      const l4 = `${proto} && ${proto}.src == ${ecmpRng.int(1024, 65000)} && ${proto}.dst == ${ecmpRng.pick([80, 22, 53])}`;
      const dip = ecmpRng.pick(["172.16.0.2", "172.16.0.10", "172.16.0.11", ...inside.map((v) => v.ip)]);
      add({ name: `ecmp${n}`, microflow: `inport == "${port}" && eth.src == ${mac} && eth.dst == 00:00:00:ac:00:02 && ip4.src == 198.51.100.${ecmpRng.int(1, 250)} && ip4.dst == ${dip} && ip.ttl == 64 && ${l4}` }, ecmpRng.pick(cts));
    }
  }
  if (pub) {
    for (let n = 0; n < 3; n++) {
      const tpa = x.pick(["172.16.0.2", "172.16.0.10", "172.16.0.11", "172.16.0.55", "10.96.0.1"]);
      add({ name: `inarp${n}`, microflow: `inport == "upstream" && eth.src == 00:00:00:ac:00:01 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ac:00:01 && arp.spa == 172.16.0.1 && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${tpa}` }, undefined);
    }
  }
  return { scenario: y.join("\n") + "\n", probes: "probes:\n" + probes.map((p) => `  - ${JSON.stringify(p)}`).join("\n") + "\n", list: probes };
}

interface ConformanceJson {
  readonly probes: number;
  readonly agreed: number;
  readonly known: number;
  readonly results: readonly { readonly name: string; readonly agree: boolean; readonly known?: string; readonly ovnsim: string; readonly ovn: string; readonly disagreements: readonly string[] }[];
}

/** The value after `name` in `args`, or `fallback`. */
function option(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

/** The options both fuzzers take. */
export interface FuzzOptions {
  readonly first: number;
  readonly last: number;
  readonly v6: "mixed" | "always" | "never";
  readonly probes: number;
  readonly keep: string | undefined;
}

/**
 * `--seeds A[-B]` (default 1-20), `--v6` (default mixed), `--probes` (default `probes`) and
 * `--keep DIR` from `args`, beside the bare `flags` the caller reads itself; undefined, after
 * printing `usage` and what is wrong, when one is malformed or unknown; `help` for `--help`.
 */
export function fuzzOptions(args: readonly string[], probes: number, usage: string, flags: readonly string[] = []): FuzzOptions | "help" | undefined {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(`usage: ${usage}`);
    return "help";
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (["--seeds", "--v6", "--probes", "--keep"].includes(a) && args[i + 1] !== undefined) i++;
    else if (!flags.includes(a)) {
      console.error(`${a.startsWith("-") ? `unknown option or missing value: ${a}` : `unexpected argument: ${a}`}\nusage: ${usage}`);
      return undefined;
    }
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(option(args, "--seeds", "1-20"));
  const v6 = option(args, "--v6", "mixed");
  const count = Number(option(args, "--probes", String(probes)));
  if (!m || (v6 !== "mixed" && v6 !== "always" && v6 !== "never") || !Number.isInteger(count) || count < 1) {
    console.error(`usage: ${usage}`);
    return undefined;
  }
  return { first: Number(m[1]), last: Number(m[2] ?? m[1]), v6, probes: count, keep: args.includes("--keep") ? option(args, "--keep", "") : undefined };
}

async function main(args: readonly string[]): Promise<number> {
  const generateOnly = args.includes("--generate-only");
  const o = fuzzOptions(args, 60, "conformance-fuzz [--seeds A[-B]] [--v6 mixed|always|never] [--probes N] [--keep DIR] [--generate-only] [--v4less] [--vxlan] [--gateway-mtu] [--ecmp-symmetric]", ["--generate-only", "--v4less", "--vxlan", "--gateway-mtu", "--ecmp-symmetric"]);
  if (o === "help") return 0;
  if (!o) return 2;
  if (!generateOnly && !ovnAvailable()) {
    console.error("conformance-fuzz: real OVN is not installed (ovn-nbctl, ovn-northd, ovn-trace)");
    return 2;
  }
  const { v6, keep } = o;
  if (generateOnly && !keep) {
    console.error("conformance-fuzz: --generate-only writes every seed's network and probes to the --keep directory; give one");
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), "ovnsim-fuzz-"));
  let bad = 0;
  try {
    for (let seed = o.first; seed <= o.last; seed++) {
      const g = generate(seed, { v6, probes: o.probes, v4less: args.includes("--v4less"), vxlan: args.includes("--vxlan"), gatewayMtu: args.includes("--gateway-mtu"), ecmpSymmetric: args.includes("--ecmp-symmetric") });
      if (generateOnly) {
        mkdirSync(keep!, { recursive: true });
        writeFileSync(join(keep!, `fuzz${seed}.yaml`), g.scenario);
        writeFileSync(join(keep!, `fuzz${seed}-probes.yaml`), g.probes);
        continue;
      }
      const net = join(work, `fuzz${seed}.yaml`);
      const probes = join(work, `fuzz${seed}-probes.yaml`);
      writeFileSync(net, g.scenario);
      writeFileSync(probes, g.probes);
      const io = memoryIo();
      const code = await run(["conformance", net, "--probes", probes, "--json"], io);
      if (code !== 0 && code !== 1) {
        console.log(`seed ${seed}: conformance exit ${code}: ${io.stderr().trim()}`);
        bad++;
        continue;
      }
      const j = JSON.parse(io.stdout()) as ConformanceJson;
      console.log(`seed ${seed}: ${j.agreed}/${j.probes} probes agree${j.known > 0 ? `, ${j.known} ${j.known === 1 ? "differs" : "differ"} only as documented` : ""}`);
      for (const d of j.results.filter((x) => x.known !== undefined)) console.log(`  ${d.name}: ${d.known}`);
      for (const d of j.results.filter((x) => !x.agree && x.known === undefined)) console.log(`  ${d.name}: ovnsim ${d.ovnsim} | real ${d.ovn} | ${d.disagreements.join("; ")}`);
      if (j.agreed + j.known !== j.probes) {
        bad++;
        if (keep) {
          mkdirSync(keep, { recursive: true });
          writeFileSync(join(keep, `fuzz${seed}.yaml`), g.scenario);
          writeFileSync(join(keep, `fuzz${seed}-probes.yaml`), g.probes);
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (generateOnly) return 0;
  console.log(bad === 0 ? "every seed agrees" : `${bad} seed(s) disagree`);
  return bad === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
