/**
 * Kube-OVN's `natOutgoing` from manifests (kube-ovn-mapping.md §1.6, §1.7, §2.2): a model
 * `NodeHost` per Node, i.e. what kube-ovn-cni sets up on the node's host — `ovn0` (the switch port
 * `node-<node>` on `join`), the host routes to the pod subnets via `ovn0`, and the ipsets that the
 * host's nat rules consult. The dataplane builds the rules themselves (`OVN-POSTROUTING`,
 * `OVN-MASQUERADE`, ...) from them, as kube-ovn-cni does; egress NAT to the node is host iptables,
 * not an OVN NAT row, so nothing here touches the Northbound objects.
 *
 * What is built, as kube-ovn-cni v1.13 does it (`pkg/daemon/gateway.go`, `gateway_linux.go`)
 * ------------------------------------------------------------------------------------------
 * - `ovn40subnets`: the CIDR of every default-VPC subnet that is overlay (no `vlan`) or an underlay
 *   subnet with `logicalGateway` — `join` included. Custom-VPC subnets and pure underlay subnets
 *   are never in any set, so `natOutgoing` does nothing for them (Kube-OVN accepts the field there
 *   and ignores it; so do we).
 * - `ovn40subnets-nat`: those of them with `natOutgoing: true`. The field defaults to false for a
 *   Subnet resource; the `ovn-default` the controller creates itself (no Subnet manifest given) has
 *   it true, `join` false. A Subnet manifest named `ovn-default` is taken as written.
 * - `ovn40subnets-distributed-gw`: those of them whose `gatewayType` is distributed (the default).
 * - `ovn40services`: the IPv4 entries of SVC_CIDR. `ovn40other-node`: every other Node's
 *   InternalIP. `ovn40subnets-nat-policy`: empty (natOutgoingPolicyRules are not mapped).
 * - Centralized SNAT: a centralized subnet with `natOutgoing: true` whose `gatewayNode` entry for
 *   its active gateway node has the form `node:ip` gets, on that node, `-s CIDR -m set !
 *   --match-set ovn40subnets dst -j SNAT --to-source IP` (before the MASQUERADE rule). The active
 *   gateway is the first listed node, the one the 29000 policy reroutes to (build.ts; ECMP is not
 *   mapped). Several such subnets on one node: in subnet order (Kube-OVN iterates a map).
 * - Host routes: every CIDR of `ovn40subnets` but join's (ovn0's own network) and any that
 *   contains the node's InternalIP, via the join gateway on ovn0.
 * - Every member says which resource it comes from (`Subnet/<name> (natOutgoing: true)`,
 *   `Node/<name>`, `SVC_CIDR`), so a trace names the Subnet whose natOutgoing MASQUERADEd it.
 *
 * Decisions
 * ---------
 * - The NIC: named by the Node annotation `ovn.kubernetes.io/tunnel_interface` when it is a plain
 *   interface name (it may be a regex list, §11), else `eth0`; address `<InternalIP>/32` and a
 *   default route without a gateway: the node network's prefix and gateway are not in the
 *   manifests. Its MAC is the chassis's (the NIC that carries the tunnels).
 * - `--random-fully` on: kube-ovn-cni adds it when the node's iptables supports it (1.6.2 and
 *   later, every supported distribution).
 * - Errors: a `node:ip` whose ip is not an IPv4 address, a SVC_CIDR entry that is not a CIDR (a
 *   `natOutgoing` that is not a boolean is one where the manifests are read). IPv6 (`ovn60*`) is
 *   not mapped: build.ts passes only the subnets with an IPv4 CIDR, and of a dual-stack one its
 *   IPv4 half, so a dual-stack cluster's hosts handle its IPv4 traffic alone (the host model
 *   drops an IPv6 packet from ovn0 as `not-ipv4`, and a trace says so).
 */
import { List, OrderedMap } from "immutable";
import { error, formatIpv4, parseCidr, parseIpv4, type Diagnostic } from "../../base/index.js";
import { IpsetEntry, NodeHost, NodeHostIpset, NodeHostSnat } from "../../model/index.js";
import { formatSubnet, inSubnet, type Ipv4Subnet } from "./ipam.js";
import { resourceName, type KubeObject } from "./types.js";

const DEFAULT_VPC = "ovn-cluster";
const DEFAULT_NIC = "eth0";

/** A subnet as the host sets need it (build.ts's subnet state). */
export interface NodeHostSubnet {
  readonly name: string;
  readonly obj: KubeObject | undefined;
  readonly cidr: Ipv4Subnet;
  readonly vpc: string;
  readonly isJoin: boolean;
  readonly gatewayType: "distributed" | "centralized";
  /** Node names of `gatewayNode`, in order (without `:ip`). */
  readonly gatewayNodes: readonly string[];
}

export interface NodeHostContext {
  readonly objs: readonly KubeObject[];
  /** The Nodes that got a join address (and so a `node-<node>` port). */
  readonly nodes: readonly { readonly name: string; readonly internalIp: string; readonly joinIp: string }[];
  readonly subnets: readonly NodeHostSubnet[];
  readonly svcCidr: string;
}

/** The host of every Node; see the module header. */
export function mapNodeHosts(ctx: NodeHostContext): { nodeHosts: OrderedMap<string, NodeHost>; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const bad = (o: KubeObject, msg: string): void => void diags.push(error("kube.invalid", `${resourceName(o)}: ${msg}`, { loc: o.loc }));

  // The default VPC's subnets that the host knows, with natOutgoing.
  const known: { s: NodeHostSubnet; nat: boolean }[] = [];
  for (const s of ctx.subnets) {
    const spec = s.obj?.spec ?? {};
    let nat = !s.obj && !s.isJoin && s.name === "ovn-default";
    // Another type than boolean is reported where the manifests are read (validate.ts).
    if (s.obj && typeof spec.natOutgoing === "boolean") nat = spec.natOutgoing;
    const vlan = typeof spec.vlan === "string" ? spec.vlan : "";
    if (s.vpc !== DEFAULT_VPC || (vlan !== "" && spec.logicalGateway !== true)) continue;
    known.push({ s, nat });
  }
  const owner = (s: NodeHostSubnet): string => `Subnet/${s.name}`;

  // SVC_CIDR: its IPv4 entries.
  const install = ctx.objs.find((o) => o.kind === "InstallConfig");
  const services: string[] = [];
  for (const part of ctx.svcCidr.split(",").map((x) => x.trim()).filter(Boolean)) {
    const c = parseCidr(part);
    if (!c) {
      if (install) bad(install, `SVC_CIDR entry ${JSON.stringify(part)}: expected a CIDR`);
      continue;
    }
    if (c.family === 4) services.push(part);
  }

  // Centralized SNATs per node: the active gateway's `node:ip`.
  const snats = new Map<string, NodeHostSnat[]>();
  for (const { s, nat } of known) {
    if (s.gatewayType !== "centralized" || !s.obj) continue;
    const raw = s.obj.spec.gatewayNode;
    const entries = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === "string") : typeof raw === "string" ? raw.split(",") : [];
    const active = s.gatewayNodes[0];
    for (const e of entries.map((x) => x.trim()).filter(Boolean)) {
      const [node = "", ip] = e.split(":").map((x) => x.trim());
      if (ip === undefined) continue;
      if (parseIpv4(ip) === undefined) {
        bad(s.obj, `gatewayNode ${JSON.stringify(e)}: ${JSON.stringify(ip)} is not an IPv4 address`);
        continue;
      }
      if (!nat || node !== active) continue;
      const list = snats.get(node) ?? [];
      list.push(NodeHostSnat({ cidr: formatSubnet(s.cidr), ip, owner: `${owner(s)}: natOutgoing with gatewayNode ${node}:${ip}` }));
      snats.set(node, list);
    }
  }

  let nodeHosts = OrderedMap<string, NodeHost>();
  for (const n of ctx.nodes) {
    if (!n.joinIp) continue;
    const nodeIp = parseIpv4(n.internalIp)!;
    const obj = ctx.objs.find((o) => o.kind === "Node" && o.name === n.name);
    const iface = obj?.annotations["ovn.kubernetes.io/tunnel_interface"];
    const nic = iface !== undefined && /^[A-Za-z0-9_.-]{1,15}$/.test(iface) && iface !== "ovn0" ? iface : DEFAULT_NIC;
    const entry = (address: string, who: string): IpsetEntry => IpsetEntry({ address, owner: who });
    const sets: [string, IpsetEntry[]][] = [
      ["ovn40services", services.map((c) => entry(c, "SVC_CIDR"))],
      ["ovn40subnets", known.map(({ s }) => entry(formatSubnet(s.cidr), owner(s)))],
      ["ovn40subnets-nat", known.filter((k) => k.nat).map(({ s }) => entry(formatSubnet(s.cidr), `${owner(s)} (natOutgoing: true)`))],
      ["ovn40subnets-distributed-gw", known.filter((k) => k.s.gatewayType === "distributed").map(({ s }) => entry(formatSubnet(s.cidr), `${owner(s)} (gatewayType: distributed)`))],
      ["ovn40other-node", ctx.nodes.filter((o) => o.name !== n.name).map((o) => entry(o.internalIp, `Node/${o.name}`))],
      ["ovn40subnets-nat-policy", []],
    ];
    const routes = known.filter(({ s }) => !s.isJoin && !inSubnet(nodeIp, s.cidr)).map(({ s }) => formatSubnet(s.cidr));
    nodeHosts = nodeHosts.set(
      n.name,
      NodeHost({
        name: n.name,
        port: `node-${n.name}`,
        nic,
        address: `${formatIpv4(nodeIp)}/32`,
        ovn0Routes: List(routes),
        ipsets: OrderedMap(sets.map(([name, members]) => [name, NodeHostIpset({ name, members: List(members) })])),
        centralizedSnats: List(snats.get(n.name) ?? []),
        randomFully: true,
      }),
    );
  }
  return { nodeHosts, diags };
}
