/**
 * A Kubernetes node's host side as a node of the simulated network: the host's `ovn0` interface
 * (an OVS internal port that is OVN's switch port `node-<node>` on `join`), its NIC with the
 * node's InternalIP, its routing table, and the nat table kube-ovn-cni keeps in it (Kube-OVN's
 * `natOutgoing`, which is host iptables, not OVN).
 *
 * What
 * ----
 * `NodeHostConfig` is the host as plain data (addresses as text, model paths for provenance);
 * `compile/` builds it from the model. `createNodeHost(config)` checks it and returns a
 * `NodeHostNode`, whose `process(key, iface)` takes one packet arriving on `ovn0` or on the NIC and
 * says what the host does with it: every nat rule that matched (with the ipset members that made
 * the set matches hold, and so the resource behind them), the conntrack state, each translation,
 * the route, and the verdict (out of `ovn0` back into OVN, out of the NIC and so out of the
 * cluster, delivered locally, or dropped with a reason). The node keeps its connection table
 * across calls, so the reply to a MASQUERADEd packet is translated back to the pod.
 *
 * The nat table (Kube-OVN v1.13 `pkg/daemon/gateway_linux.go` `setIptables`, IPv4)
 * --------------------------------------------------------------------------------
 * `nodeHostRules` writes, as `iptables -S -t nat` prints them (`--random-fully` when configured):
 * ```
 * -A PREROUTING -m comment --comment "kube-ovn prerouting rules" -j OVN-PREROUTING
 * -A POSTROUTING -m comment --comment "kube-ovn postrouting rules" -j OVN-POSTROUTING
 * -A OVN-MASQUERADE -j MARK --set-xmark 0x0/0xffffffff
 * -A OVN-MASQUERADE -j MASQUERADE
 * -A OVN-POSTROUTING  1 -m set --match-set ovn40services src -m set --match-set ovn40subnets dst -m mark --mark 0x4000/0x4000 -j SNAT --to-source NODE_IP
 *                     2 -m mark --mark 0x4000/0x4000 -j OVN-MASQUERADE
 *                     3 -m set --match-set ovn40subnets src -m set --match-set ovn40subnets dst -j OVN-MASQUERADE
 *                     4 -m mark --mark 0x80000/0x80000 -m set --match-set ovn40subnets-distributed-gw dst -j RETURN
 *                     5 -m mark --mark 0x80000/0x80000 -j OVN-MASQUERADE
 *                     6 -p tcp -m tcp --tcp-flags SYN NONE -m conntrack --ctstate NEW -j RETURN
 *                     7 -m set ! --match-set ovn40subnets src -m set ! --match-set ovn40other-node src -m set --match-set ovn40subnets-nat dst -j RETURN
 *                     8 -m set --match-set ovn40subnets-nat-policy src -m set ! --match-set ovn40subnets dst -j OVN-NAT-POLICY
 *                     9 -m mark --mark 0x90001/0x90001 -j OVN-MASQUERADE
 *                    10 -m mark --mark 0x90002/0x90002 -j RETURN
 *                    11 -s CIDR -m set ! --match-set ovn40subnets dst -j SNAT --to-source IP   (one per centralized SNAT)
 *                    12 -m set --match-set ovn40subnets-nat src -m set ! --match-set ovn40subnets dst -j OVN-MASQUERADE
 * -A OVN-PREROUTING -i ovn0 -m set --match-set ovn40subnets src -m set --match-set ovn40services dst -j MARK --set-xmark 0x4000/0x4000
 * ```
 * The chain `OVN-NAT-POLICY` (natOutgoingPolicyRules) is empty: those rules are not modelled. The
 * marks 0x4000 (set by the PREROUTING rule above and by kube-proxy), 0x80000 (kube-proxy's NodePort
 * with `externalTrafficPolicy: Local`) and 0x9000x (nat policy) are honoured by the rules, but only
 * the PREROUTING rule ever sets one here: kube-proxy is not simulated. The ipsets are the config's;
 * a set the rules name that the config lacks is empty.
 *
 * Packet path (Linux's, for IPv4)
 * -------------------------------
 * 1. Link layer: a unicast frame not addressed to the interface's MAC is dropped; a broadcast or
 *    multicast frame is only delivered locally. ARP is answered by the kernel (reported as local;
 *    the answer is not generated).
 * 2. PREROUTING: a NEW connection goes through the nat PREROUTING chain (only the mark rule); a
 *    reply of a stored connection has its SNAT undone (the destination restored).
 * 3. The host's own addresses (the NIC's and ovn0's) are delivered locally. A destination in
 *    `ovn40services` is a Service address: kube-proxy on the node translates it (or rejects it when
 *    it has no endpoints), which is not simulated, so the walk stops there with a note.
 * 4. Routing: the longest prefix among ovn0's network, the NIC's network, the pod subnets via the
 *    join gateway on ovn0, and the default route out of the NIC (via its gateway, or on-link).
 *    TTL minus one; a packet whose TTL is 1 or less is dropped.
 * 5. POSTROUTING: a NEW connection goes through the nat POSTROUTING chain (with `-o` the chosen
 *    interface, the packet's TCP flags and mark); SNAT takes the rule's address, MASQUERADE the
 *    outgoing interface's own (the InternalIP out of the NIC, the join IP out of ovn0). A later
 *    packet is translated from its connection. A NEW connection is then stored.
 * 6. Link layer out: out of ovn0 to the join gateway (the router port) or a join address OVN
 *    knows; an unknown next hop there is dropped. Out of the NIC to the next hop's MAC when known
 *    (the gateway's MAC, if configured), else with destination MAC 00:00:00:00:00:00 and
 *    `unresolved` set: the packet has left the simulated network either way.
 *
 * The host's stack (tables, packet path, steps) is `LinuxBox` of linux-box.ts; this module adds
 * the host's config, its nat rules and ipsets, the Service stop and the `leaves` flag.
 *
 * Not modelled: the filter and mangle tables, kube-proxy, natOutgoingPolicyRules, IPv6, host
 * routing policy (`externalEgressGateway`), rp_filter, ICMP errors, conntrack timeouts.
 */
import { error, fail, formatIpv4, ok, type Diagnostic, type Result } from "../base/index.js";
import type { NodeHostConfig } from "../ofp/index.js";
import { buildNatTable, formatPrefix4, type IpsetMember, type IptRuleSpec, type Prefix4 } from "./iptables.js";
import { LinuxBox, addNeighbors, configReader, linuxBoxDropReasons, networkOf, type LinuxBoxDropReason, type LinuxBoxParts, type LinuxBoxStep, type LinuxBoxVerdict, type LinuxRoute, type LinuxRouteChoice, type MacWords, type NatCtState } from "./linux-box.js";

type Path = readonly (string | number)[];

export type { NodeHostConfig, NodeHostIpsetConfig, NodeHostSnatConfig } from "../ofp/index.js";

/** The name of the host's OVS internal port into OVN. */
export const OVN0 = "ovn0";

/** The chains kube-ovn-cni creates in the nat table, in `iptables -S` order (sorted by name). */
export const NODE_HOST_CHAINS = ["OVN-MASQUERADE", "OVN-NAT-POLICY", "OVN-POSTROUTING", "OVN-PREROUTING"] as const;

/** The ipsets the rules name (`ovn40` is Kube-OVN's IPv4 prefix). */
export const NODE_HOST_IPSETS = ["ovn40services", "ovn40subnets", "ovn40subnets-nat", "ovn40subnets-distributed-gw", "ovn40other-node", "ovn40subnets-nat-policy"] as const;

export const NODE_HOST_DROP_REASONS = linuxBoxDropReasons("host", OVN0, "nothing in OVN");

export type NodeHostDropReason = LinuxBoxDropReason;

export type HostRouteChoice = LinuxRouteChoice<string>;

export type NodeHostVerdict = LinuxBoxVerdict<
  string,
  {
    /** Out of the NIC, i.e. out of the simulated network; false: back into OVN through ovn0. */
    readonly leaves: boolean;
  }
>;

/** What the host did with one packet. */
export interface NodeHostStep extends Omit<LinuxBoxStep<string>, "verdict"> {
  readonly host: string;
  readonly verdict: NodeHostVerdict;
}

const MARK_SERVICE = { value: 0x4000, mask: 0x4000 } as const;
const MARK_NODEPORT_LOCAL = { value: 0x80000, mask: 0x80000 } as const;
const MARK_POLICY_NAT = { value: 0x90001, mask: 0x90001 } as const;
const MARK_POLICY_FORWARD = { value: 0x90002, mask: 0x90002 } as const;

const set = (name: string, dir: "src" | "dst", negate = false) => ({ kind: "set", set: name, dir, ...(negate ? { negate: true } : {}) }) as const;
const mark = (m: { value: number; mask: number }) => ({ kind: "mark", value: m.value, mask: m.mask }) as const;

/**
 * The host's nat rules as kube-ovn-cni writes them (see the module header), for a node whose
 * InternalIP is `nodeIp` and whose centralized SNATs are `snats` (already parsed).
 */
export function nodeHostRules(nodeIp: number, snats: readonly { readonly cidr: Prefix4; readonly ip: number; readonly owner?: string; readonly path?: Path }[], randomFully: boolean, path?: Path): IptRuleSpec[] {
  const rf = randomFully ? { randomFully: true } : {};
  const masq = { kind: "jump", chain: "OVN-MASQUERADE" } as const;
  const post = "OVN-POSTROUTING";
  const rules: IptRuleSpec[] = [
    { chain: "PREROUTING", match: { modules: [{ kind: "comment", text: "kube-ovn prerouting rules" }] }, target: { kind: "jump", chain: "OVN-PREROUTING" } },
    { chain: "POSTROUTING", match: { modules: [{ kind: "comment", text: "kube-ovn postrouting rules" }] }, target: { kind: "jump", chain: post } },
    { chain: "OVN-MASQUERADE", match: {}, target: { kind: "MARK", value: 0, mask: 0xffffffff } },
    { chain: "OVN-MASQUERADE", match: {}, target: { kind: "MASQUERADE", ...rf } },
    { chain: post, match: { modules: [set("ovn40services", "src"), set("ovn40subnets", "dst"), mark(MARK_SERVICE)] }, target: { kind: "SNAT", toIp: nodeIp, ...rf }, ...(path ? { path: [...path, "address"] } : {}) },
    { chain: post, match: { modules: [mark(MARK_SERVICE)] }, target: masq },
    { chain: post, match: { modules: [set("ovn40subnets", "src"), set("ovn40subnets", "dst")] }, target: masq },
    { chain: post, match: { modules: [mark(MARK_NODEPORT_LOCAL), set("ovn40subnets-distributed-gw", "dst")] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [mark(MARK_NODEPORT_LOCAL)] }, target: masq },
    { chain: post, match: { proto: "tcp", modules: [{ kind: "tcp-flags", mask: 0x02, comp: 0 }, { kind: "ctstate", states: ["NEW"] }] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [set("ovn40subnets", "src", true), set("ovn40other-node", "src", true), set("ovn40subnets-nat", "dst")] }, target: { kind: "RETURN" } },
    { chain: post, match: { modules: [set("ovn40subnets-nat-policy", "src"), set("ovn40subnets", "dst", true)] }, target: { kind: "jump", chain: "OVN-NAT-POLICY" } },
    { chain: post, match: { modules: [mark(MARK_POLICY_NAT)] }, target: masq },
    { chain: post, match: { modules: [mark(MARK_POLICY_FORWARD)] }, target: { kind: "RETURN" } },
  ];
  for (const s of snats) rules.push({ chain: post, match: { src: s.cidr, modules: [set("ovn40subnets", "dst", true)] }, target: { kind: "SNAT", toIp: s.ip, ...rf }, ...(s.path ? { path: s.path } : {}), ...(s.owner ? { owner: s.owner } : {}) });
  rules.push({ chain: post, match: { modules: [set("ovn40subnets-nat", "src"), set("ovn40subnets", "dst", true)] }, target: masq });
  rules.push({ chain: "OVN-PREROUTING", match: { inIface: OVN0, modules: [set("ovn40subnets", "src"), set("ovn40services", "dst")] }, target: { kind: "MARK", value: MARK_SERVICE.value, mask: MARK_SERVICE.mask } });
  return rules;
}

/** Checks `config` and builds the node; every problem is a diagnostic with the config's paths. */
export function createNodeHost(config: NodeHostConfig): Result<NodeHostNode> {
  const diags: Diagnostic[] = [];
  const base = config.path ?? [];
  const read = configReader("nodehost", base, diags);
  if (config.nic === OVN0) diags.push(error("nodehost.bad-nic", `the NIC may not be called ${OVN0}`, { path: [...base, "nic"] }));
  const ovn0 = read.prefix(config.ovn0Cidr, [...base, "port"], "ovn0 address");
  const nic = read.prefix(config.nicCidr, [...base, "address"], "NIC address");
  const ovn0Mac = read.mac(config.ovn0Mac, [...base, "port"], "ovn0 MAC");
  const nicMac = read.mac(config.nicMac, [...base, "nicMac"], "NIC MAC");
  const joinGwIp = read.ip4(config.joinGatewayIp, [...base, "port"], "join gateway");
  const joinGwMac = read.mac(config.joinGatewayMac, [...base, "port"], "join gateway MAC");
  const gwIp = config.gateway !== undefined ? read.ip4(config.gateway, [...base, "gateway"], "gateway") : undefined;
  const gwMac = config.gatewayMac !== undefined ? read.mac(config.gatewayMac, [...base, "gatewayMac"], "gateway MAC") : undefined;

  const routes: LinuxRoute<string>[] = [];
  if (ovn0) routes.push({ prefix: networkOf(ovn0), dev: OVN0, connected: true });
  if (nic) routes.push({ prefix: networkOf(nic), dev: config.nic, connected: true });
  for (const r of config.ovn0Routes) {
    const p = read.prefix(r.cidr, r.path, "route destination");
    if (p && joinGwIp !== undefined) routes.push({ prefix: networkOf(p), dev: OVN0, via: joinGwIp, connected: false, ...(r.path ? { path: r.path } : {}) });
  }
  routes.push({ prefix: { addr: 0, len: 0 }, dev: config.nic, connected: false, ...(gwIp !== undefined ? { via: gwIp, path: [...base, "gateway"] } : {}) });

  const neighbors = new Map<string, MacWords>();
  if (joinGwIp !== undefined && joinGwMac) neighbors.set(`${OVN0}/${joinGwIp}`, joinGwMac);
  if (gwIp !== undefined && gwMac) neighbors.set(`${config.nic}/${gwIp}`, gwMac);
  addNeighbors(neighbors, config.neighbors, read, base);

  const ipsets = new Map<string, IpsetMember[]>();
  for (const name of NODE_HOST_IPSETS) ipsets.set(name, []);
  for (const s of config.ipsets) {
    const members: IpsetMember[] = ipsets.get(s.name) ?? [];
    for (const m of s.members) {
      const p = read.prefix(m.address, m.path, `ipset ${s.name} member`);
      if (p) members.push({ prefix: networkOf(p), ...(m.owner ? { owner: m.owner } : {}), ...(m.path ? { path: m.path } : {}) });
    }
    ipsets.set(s.name, members);
  }
  const snats: { cidr: Prefix4; ip: number; owner?: string; path?: Path }[] = [];
  for (const s of config.centralizedSnats) {
    const c = read.prefix(s.cidr, s.path, "SNAT source");
    const ip = read.ip4(s.ip, s.path, "SNAT address");
    if (c && ip !== undefined) snats.push({ cidr: networkOf(c), ip, ...(s.owner ? { owner: s.owner } : {}), ...(s.path ? { path: s.path } : {}) });
  }
  if (diags.length > 0 || !ovn0 || !nic || !ovn0Mac || !nicMac) return fail(...diags);
  const table = buildNatTable(NODE_HOST_CHAINS, nodeHostRules(nic.addr, snats, config.randomFully, config.path), ipsets);
  if (!table.ok) return table;
  return ok(
    new NodeHostNode({
      name: config.name,
      port: config.port,
      nic: config.nic,
      table: table.value,
      addrs: { [OVN0]: ovn0.addr, [config.nic]: nic.addr },
      routes,
      neighbors,
      macs: { [OVN0]: ovn0Mac, [config.nic]: nicMac },
    }),
  );
}

/** A node's host network stack; see the module header. */
export class NodeHostNode extends LinuxBox<string> {
  /** The OVN switch port of ovn0. */
  readonly port: string;
  /** The NIC's name. */
  readonly nic: string;

  constructor(parts: LinuxBoxParts<string> & { readonly port: string; readonly nic: string }) {
    super(parts, {
      ovnIface: OVN0,
      arpNote: `ARP is answered by node ${parts.name}'s kernel (the answer is not simulated)`,
      self: `node ${parts.name}`,
      listeners: true,
    });
    this.port = parts.port;
    this.nic = parts.nic;
  }

  /** The interfaces: ovn0 and the NIC. */
  get interfaces(): readonly string[] {
    return [OVN0, this.nic];
  }

  /** The IPv4 address of an interface (the InternalIP for the NIC, the join IP for ovn0). */
  addressOf(iface: string): number | undefined {
    return this.addrs[iface];
  }

  /** The nat table as `iptables -t nat -S` prints it. */
  iptablesSave(): string[] {
    return this.table.dump();
  }

  /** Processes one packet arriving on `iface` (ovn0 or the NIC); see the module header. `key` is not modified. */
  process(key: Uint32Array, iface: string): NodeHostStep {
    const step = this.run(key, iface);
    const v = step.verdict;
    return { host: this.name, ...step, verdict: v.kind === "forward" ? { ...v, leaves: v.iface !== OVN0 } : v };
  }

  /** A NEW packet for a Service address stops here: kube-proxy's translation is not simulated. */
  protected override intercept(dst: number, ct: NatCtState): string | undefined {
    const svc = this.table.lookupSet("ovn40services", dst);
    if (!svc || ct !== "new") return undefined;
    return `${formatIpv4(dst)} is a Service address (${formatPrefix4(svc.prefix)} in ovn40services${svc.owner ? `, ${svc.owner}` : ""}): kube-proxy on node ${this.name} translates it, or rejects it when it has no endpoints (not simulated)`;
  }
}

/** The description of a host drop reason. */
export function describeNodeHostDrop(r: NodeHostDropReason): string {
  return NODE_HOST_DROP_REASONS[r];
}
