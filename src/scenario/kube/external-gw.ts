/**
 * The default VPC's external gateway: the ConfigMap `kube-system/ovn-external-gw-config` and the
 * pod annotations `ovn.kubernetes.io/eip` / `ovn.kubernetes.io/snat` → OVN objects on router
 * `ovn-cluster` (kube-ovn-mapping.md §9.1, §7 enableExternal; Kube-OVN v1.13
 * pkg/controller/external_gw.go, pod.go, vpc.go, gc.go, pkg/ovs/ovn-nb.go
 * CreateGatewayLogicalSwitch, pkg/ovs/ovn-nb-nat.go, pkg/daemon/gateway_linux.go setExGateway).
 *
 * What is built (names with the defaults `EXTERNAL_GATEWAY_SWITCH` = `external`,
 * `EXTERNAL_GATEWAY_NET` = `external`, `EXTERNAL_GATEWAY_VLANID` = 0):
 * - The switch `external`: when no Subnet of that name exists, a bare switch (external_ids vendor)
 *   with the localnet port `localnet.external` (addresses unknown, `network_name` =
 *   EXTERNAL_GATEWAY_NET, `tag` = EXTERNAL_GATEWAY_VLANID when 1..4095); when an underlay Subnet
 *   `external` exists, that subnet's switch and localnet port as underlay.ts made them.
 * - The router-type port `external-ovn-cluster` and the router port `ovn-cluster-external`: a
 *   distributed gateway port with `nic-ip` / `nic-mac`, or, with `nic-ip` empty, the address and
 *   MAC of the OvnEip `ovn-cluster-external` (type lrp) taken from the Subnet `external`, and one
 *   Gateway_Chassis per gateway node, priorities 100, 99, ...
 * - The gateway nodes: the Nodes labelled `ovn.kubernetes.io/external-gw=true`, then (type
 *   centralized, the default) the `external-gw-nodes` not among them; type distributed takes the
 *   labelled nodes only, as Kube-OVN's getGatewayChassis does. kube-ovn-controller labels the
 *   nodes it picks, so custom VPCs with enableExternal (ovn-nat.ts) use them too. Each gets the
 *   bridge mapping `external:br-external` with `external-gw-nic` in `br-external` (the daemon's
 *   setExGateway), unless its chassis already maps that name.
 * - Router `ovn-cluster` learns from ARP requests (the controller sets the default Vpc's
 *   enableExternal), and has the Southbound MAC binding of the physical gateway on
 *   `ovn-cluster-external`: the steady state after its first ARP reply, as ovn-nat.ts does.
 * - The physical gateway (`external-gw-addr`, else the Subnet `external`'s gateway) is an
 *   interface of the underlay's router on the provider network `network_name`, on the VLAN.
 * - Per pod of a default-VPC overlay (or logicalGateway) subnet, in document order:
 *   `ovn.kubernetes.io/eip` → NAT dnat_and_snat (external_ip = the EIP, logical_ip = the pod's
 *   address; with type distributed also logical_port `<pod>.<ns>`, external_mac = the pod's MAC
 *   and options:stateless=true, so the pod's chassis does it), `ovn.kubernetes.io/snat` → NAT snat
 *   (logical_ip = the pod's address); either adds the policy `29250 ip4.src == <podIP>` reroute to
 *   the physical gateway (external_ids subnet, vendor) and takes the pod out of its distributed
 *   port group `<subnet>.<node>`. After the NAT rows, one `src-ip` static route per distinct NAT
 *   logical IP to the physical gateway (the default Vpc's route reconcile).
 *
 * Decisions:
 * - Only `kube-system/ovn-external-gw-config` is read (`--external-gateway-config-ns`); a
 *   ConfigMap of that name elsewhere is an error, not silently ignored. Its data values must be
 *   strings and its keys Kube-OVN's (enable-external-gw, type, external-gw-nodes, external-gw-nic,
 *   external-gw-addr, nic-ip, nic-mac): a typo is an error. `enable-external-gw` disables only
 *   when "false", as in Kube-OVN. `ENABLE_EIP_SNAT: "false"` ignores the ConfigMap and the
 *   annotations, as the controller does.
 * - Kube-OVN writes the reconciled localnet port's external_ids (ls, vendor); a fresh one would
 *   have none. The reconciled form is the steady state after a controller restart.
 * - Address order: the router port's EIP (nic-ip empty) is taken after the custom VPCs' external
 *   ports and the OvnEips (ovn-nat.ts), before the pods. A `nic-ip` inside the Subnet `external`
 *   is claimed there, so no EIP or pod takes it (Kube-OVN expects an unused address and does not
 *   check). Without `nic-mac` the MAC is derived from the port's name (ipam.ts).
 * - Gateway node order: labelled nodes in document order (Kube-OVN lists them from an unordered
 *   cache), then `external-gw-nodes` in the order written. With type distributed the guide asks
 *   for every node to be a gateway node (labelled, with the NIC): a pod with an EIP on any other
 *   node has no bridge mapping for the external network, so its EIP traffic cannot leave, as in OVN.
 * - Errors, one per problem, name the ConfigMap or the Pod: the ConfigMap outside kube-system, an
 *   unknown key or a non-string value, a bad type, a gateway node that is no Node, no gateway node
 *   at all, no `external-gw-nic` (no node could bridge the external network), a malformed nic-ip
 *   (ip/len), nic-mac or external-gw-addr, an external gateway address outside the router port's
 *   network or equal to its address, nic-ip empty without a Subnet `external`, nic-ip outside or
 *   taken in that Subnet, a Subnet `external` that is not a plain underlay subnet (its own router
 *   port would be `ovn-cluster-external` too), a bare switch whose network_name is not the bridge
 *   mapping's name (nothing could leave); an eip/snat annotation that is not an IPv4 address, on a
 *   pod outside the default VPC's overlay subnets, without an enabled gateway or gateway address,
 *   an EIP that another pod already has or that is the router port's own address.
 *
 * Deviation, from stock OVN: Kube-OVN's OVN is patched so that `src-ip` static routes rank below
 * every `dst-ip` route (mapping doc §0). Stock OVN 23.03 (real OVN here, and so ovnsim) ranks a
 * /32 src-ip route above the connected routes: a pod with an eip or snat annotation that talks
 * through `ovn-cluster` to another subnet is sent to the physical gateway. Pods of one subnet
 * talk on their switch and are not affected; so are pods without the annotations.
 */
import { List, OrderedMap } from "immutable";
import { allKnownHint, parseIpv4 } from "../../base/index.js";
import { LogicalSwitch, MacBinding, Nat, ProviderNetwork, RouterPolicy, StaticRoute, UnderlayGateway, type Network } from "../../model/index.js";
import { formatSubnet, inSubnet, parseIpv4Cidr, type Ipv4Subnet, type MacGenerator } from "./ipam.js";
import { externalGatewayNodes, externalRouterPort, externalSwitchPort, planExternal, type ExternalPlan, type NatSubnet } from "./ovn-nat.js";
import type { Settings } from "./settings.js";
import { hasRouterPort, localnetPort, routedAsOverlay, type UnderlaySubnet } from "./underlay.js";
import { resourceName, type KubeObject, type PodInfo } from "./types.js";

export const EXTERNAL_GW_CONFIG = "ovn-external-gw-config";
const CONTROLLER_NAMESPACE = "kube-system";
const DEFAULT_VPC = "ovn-cluster";
const EIP_ANNOTATION = "ovn.kubernetes.io/eip";
const SNAT_ANNOTATION = "ovn.kubernetes.io/snat";
/** util.NorthGatewayRoutePolicyPriority: the per-pod reroute. */
const POD_POLICY_PRIORITY = 29250;
const KEYS = ["enable-external-gw", "type", "external-gw-nodes", "external-gw-nic", "external-gw-addr", "nic-ip", "nic-mac"];
const NIC_NAME = /^[^/\s]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

const dots = (s: string): string => s.replace(/-/g, ".");
const KV = (o: Record<string, string>): OrderedMap<string, string> => OrderedMap(Object.entries(o));

/** The default VPC's connection to the external network, decided before the pods are placed. */
export interface ExternalGateway {
  /** The ConfigMap, for errors. */
  readonly obj: KubeObject;
  readonly type: "centralized" | "distributed";
  /** The external switch (EXTERNAL_GATEWAY_SWITCH). */
  readonly switchName: string;
  /** Whether the switch is built here (no Subnet of that name). */
  readonly bareSwitch: boolean;
  /** Where the switch meets the physical network: provider network name and VLAN id. */
  readonly attachment: UnderlaySubnet;
  /** The router port's address and network, and its MAC. */
  readonly ip: string;
  readonly network: Ipv4Subnet;
  readonly mac: string;
  /** The gateway nodes, highest priority first. */
  readonly chassis: readonly string[];
  /** external-gw-nic: the NIC each gateway node bridges into `br-<switch>`. */
  readonly nic: string;
  /** The physical gateway's address (external-gw-addr, else the external Subnet's gateway). */
  readonly nextHop: string | undefined;
}

/**
 * What the pods' annotations meet: `ignored` (ENABLE_EIP_SNAT false), `off` (no gateway, and why),
 * `broken` (the ConfigMap has errors, already reported: annotations are not checked further), or
 * `on` (the gateway).
 */
export type ExternalGatewayState =
  | { readonly kind: "ignored" }
  | { readonly kind: "off"; readonly why: string }
  | { readonly kind: "broken" }
  | { readonly kind: "on"; readonly gateway: ExternalGateway };

interface GatewayConfig {
  readonly obj: KubeObject;
  readonly type: "centralized" | "distributed";
  readonly chassis: string[];
  /** The nodes the controller labels (type centralized: external-gw-nodes). */
  readonly labels: string[];
  readonly nic: string;
  readonly gwAddr: string | undefined;
  readonly nicIp: { readonly ip: string; readonly cidr: Ipv4Subnet } | undefined;
  readonly nicMac: string;
}

/** Reads the ConfigMap: its settings, or the state the annotations meet when there is no gateway to build. */
function readConfig(objs: readonly KubeObject[], bad: (o: KubeObject, msg: string) => void): { readonly kind: "config"; readonly cfg: GatewayConfig } | Exclude<ExternalGatewayState, { kind: "on" | "ignored" }> {
  const cms = objs.filter((o) => o.kind === "ConfigMap" && o.name === EXTERNAL_GW_CONFIG);
  for (const o of cms) if (o.namespace !== CONTROLLER_NAMESPACE) bad(o, `kube-ovn-controller reads ${EXTERNAL_GW_CONFIG} only in namespace ${CONTROLLER_NAMESPACE}`);
  const o = cms.find((x) => x.namespace === CONTROLLER_NAMESPACE);
  if (!o) return cms.length ? { kind: "broken" } : { kind: "off", why: `there is no ConfigMap ${CONTROLLER_NAMESPACE}/${EXTERNAL_GW_CONFIG}` };
  const raw = o.raw.data;
  const data: Record<string, string> = {};
  let ok = true;
  const fail = (msg: string): void => {
    ok = false;
    bad(o, msg);
  };
  for (const [k, v] of Object.entries(raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {})) {
    if (!KEYS.includes(k)) fail(`data.${k}: not a key Kube-OVN reads (${allKnownHint(k, KEYS)})`);
    else if (typeof v !== "string") ok = false; // reported where the manifests are read (objects.ts)
    else data[k] = v.trim();
  }
  if (data["enable-external-gw"] === "false") return ok ? { kind: "off", why: `${resourceName(o)} has enable-external-gw: "false"` } : { kind: "broken" };
  const typeText = data.type ?? "";
  if (typeText !== "" && typeText !== "centralized" && typeText !== "distributed") fail(`data.type ${JSON.stringify(typeText)}: expected centralized or distributed`);
  const type = typeText === "distributed" ? "distributed" : "centralized";
  const nodeNames = new Set(objs.filter((x) => x.kind === "Node").map((x) => x.name));
  const listed = type === "centralized" ? (data["external-gw-nodes"] ?? "").split(",").map((n) => n.trim()).filter(Boolean) : [];
  for (const n of listed) if (!nodeNames.has(n)) fail(`data.external-gw-nodes: ${n}: no Node of that name`);
  const chassis = externalGatewayNodes(objs, listed.filter((n) => nodeNames.has(n)));
  if (chassis.length === 0 && listed.every((n) => nodeNames.has(n))) {
    fail(type === "distributed" ? "type distributed takes the gateway nodes from the Nodes labelled ovn.kubernetes.io/external-gw=true, and none is" : "no gateway node: list them in data.external-gw-nodes");
  }
  const nic = data["external-gw-nic"] ?? "";
  if (!NIC_NAME.test(nic)) fail(`data.external-gw-nic ${JSON.stringify(nic)}: expected the NIC the gateway nodes bridge into the external network (1 to 15 characters, no "/" or spaces)`);
  let gwAddr: string | undefined;
  const gwText = data["external-gw-addr"] ?? "";
  if (gwText !== "") {
    const ip = gwText.split("/")[0]!;
    if (parseIpv4(ip) === undefined || (gwText.includes("/") && !parseIpv4Cidr(gwText))) fail(`data.external-gw-addr ${JSON.stringify(gwText)}: expected the physical gateway's IPv4 address (optionally with /len)`);
    else gwAddr = ip;
  }
  let nicIp: GatewayConfig["nicIp"];
  const nicText = data["nic-ip"] ?? "";
  if (nicText !== "") {
    const ip = nicText.split("/")[0]!;
    const cidr = nicText.includes("/") ? parseIpv4Cidr(nicText) : undefined;
    if (parseIpv4(ip) === undefined || !cidr) fail(`data.nic-ip ${JSON.stringify(nicText)}: expected the router port's IPv4 address with its prefix length (ip/len)`);
    else nicIp = { ip, cidr };
  }
  const nicMac = (data["nic-mac"] ?? "").toLowerCase();
  if (nicMac !== "" && (!MAC.test(nicMac) || (parseInt(nicMac.slice(0, 2), 16) & 1) === 1)) fail(`data.nic-mac ${JSON.stringify(nicMac)}: expected a unicast MAC address`);
  if (!ok) return { kind: "broken" };
  return { kind: "config", cfg: { obj: o, type, chassis, labels: listed, nic, gwAddr, nicIp, nicMac } };
}

/**
 * The first phase, before the pods are placed: reads ovn-external-gw-config, plans the VPCs'
 * external ports and the OvnEips (ovn-nat.ts, with the ConfigMap's gateway nodes labelled), then
 * gives the default VPC's router port its address; adds `external-ovn-cluster` to an external
 * Subnet's switch.
 */
export function planExternalGateway(
  objs: readonly KubeObject[],
  settings: Settings,
  subnets: ReadonlyMap<string, NatSubnet>,
  macs: MacGenerator,
  bad: (o: KubeObject, msg: string) => void,
): { external: ExternalPlan; gateway: ExternalGatewayState } {
  const read = settings.ENABLE_EIP_SNAT !== "false" ? readConfig(objs, bad) : ({ kind: "ignored" } as const);
  const sw = settings.EXTERNAL_GATEWAY_SWITCH;
  const external = planExternal(objs, subnets, macs, sw, bad, read.kind === "config" ? read.cfg.labels : []);
  if (read.kind !== "config") return { external, gateway: read };
  const cfg = read.cfg;
  const o = cfg.obj;
  const broken = { external, gateway: { kind: "broken" } } as const;
  const lrp = `${DEFAULT_VPC}-${sw}`;
  const s = subnets.get(sw);
  if (s && (!s.underlay || hasRouterPort(s.underlay))) {
    bad(o, `Subnet ${sw} (EXTERNAL_GATEWAY_SWITCH) must be an underlay subnet without logicalGateway or u2oInterconnection: otherwise its own router port would also be ${lrp}`);
    return broken;
  }
  if (!s && settings.EXTERNAL_GATEWAY_NET !== sw) {
    bad(o, `the localnet port's network_name ${settings.EXTERNAL_GATEWAY_NET} (EXTERNAL_GATEWAY_NET) is not the name the gateway nodes map, ${sw}:br-${sw} (EXTERNAL_GATEWAY_SWITCH): no packet could leave`);
    return broken;
  }
  let ip: string;
  let network: Ipv4Subnet;
  let mac: string;
  if (cfg.nicIp) {
    ip = cfg.nicIp.ip;
    network = cfg.nicIp.cidr;
    if (s) {
      const r = s.ipam.claim(ip);
      if (r !== undefined) {
        bad(o, `data.nic-ip ${ip} is ${r === "taken" ? "already taken in" : "outside"} Subnet ${sw} (${formatSubnet(s.cidr)})`);
        return broken;
      }
    }
    mac = cfg.nicMac || macs.macFor(lrp);
  } else if (s) {
    // Kube-OVN keeps the port's address in the OvnEip `ovn-cluster-<switch>` (type lrp): a given one is used.
    const given = external.eips.get(lrp);
    const got = given?.ip ?? s.ipam.allocate();
    if (got === undefined) {
      bad(o, `Subnet ${sw} has no free address for the router port ${lrp}`);
      return broken;
    }
    ip = got;
    mac = given?.mac ?? macs.macFor(lrp);
    network = s.cidr;
  } else {
    bad(o, `data.nic-ip is empty and there is no Subnet ${sw} to take the router port's address from`);
    return broken;
  }
  macs.reserve(mac);
  const nextHop = cfg.gwAddr ?? s?.gateway;
  if (nextHop !== undefined) {
    const n = parseIpv4(nextHop)!;
    if (!inSubnet(n, network) || nextHop === ip) {
      bad(o, `${cfg.gwAddr !== undefined ? "data.external-gw-addr" : `Subnet ${sw}'s gateway`} ${nextHop} ${nextHop === ip ? "is the router port's own address" : `is outside the router port's network ${formatSubnet(network)}`}`);
      return broken;
    }
  }
  if (s) s.ports.push(externalSwitchPort(sw, DEFAULT_VPC));
  const vlanId = Number(settings.EXTERNAL_GATEWAY_VLANID);
  const attachment: UnderlaySubnet = s?.underlay ?? { vlan: "", vlanId: vlanId >= 1 && vlanId <= 4095 ? vlanId : 0, provider: settings.EXTERNAL_GATEWAY_NET, logicalGateway: false, u2o: false, u2oIp: undefined };
  return {
    external,
    gateway: { kind: "on", gateway: { obj: o, type: cfg.type, switchName: sw, bareSwitch: !s, attachment, ip, network, mac, chassis: cfg.chassis, nic: cfg.nic, nextHop } },
  };
}

/** What the second phase needs from the rest of the mapping. */
export interface ExternalGatewayContext {
  readonly objs: readonly KubeObject[];
  readonly pods: readonly PodInfo[];
  readonly subnets: ReadonlyMap<string, NatSubnet>;
  /** The MAC of the physical gateway `ip` on an underlay attachment (underlay.ts providerNetworks). */
  readonly gatewayMac: (u: UnderlaySubnet, ip: string) => string;
  readonly bad: (o: KubeObject, msg: string) => void;
}

/**
 * The second phase, on the assembled network: the external switch (when bare), the router port,
 * the pods' NAT rows, policies and routes, the MAC binding, the provider network's gateway and the
 * gateway nodes' bridge mappings. Reports the annotations that cannot be honoured.
 */
export function withExternalGateway(net: Network, state: ExternalGatewayState, ctx: ExternalGatewayContext): Network {
  if (state.kind === "ignored") return net;
  const gw = state.kind === "on" ? state.gateway : undefined;
  const nats: Nat[] = [];
  const policies: RouterPolicy[] = [];
  let portGroups = net.portGroups;
  const eipOwner = new Map<string, KubeObject>();
  for (const p of ctx.objs) {
    if (p.kind !== "Pod" || p.spec.hostNetwork === true) continue;
    const eip = p.annotations[EIP_ANNOTATION] ?? "";
    const snat = p.annotations[SNAT_ANNOTATION] ?? "";
    if (eip === "" && snat === "") continue;
    const pod = ctx.pods.find((x) => x.namespace === (p.namespace ?? "default") && x.name === p.name);
    if (!pod) continue; // not placed: its error is reported already
    const which = [eip !== "" ? EIP_ANNOTATION : "", snat !== "" ? SNAT_ANNOTATION : ""].filter(Boolean).join(" and ");
    const sn = ctx.subnets.get(pod.subnet);
    const bads = [[EIP_ANNOTATION, eip], [SNAT_ANNOTATION, snat]].filter(([, v]) => v !== "" && parseIpv4(v!) === undefined);
    if (bads.length) {
      for (const [k, v] of bads) ctx.bad(p, `${k} ${JSON.stringify(v)}: expected an IPv4 address`);
      continue;
    }
    if (pod.vpc !== DEFAULT_VPC || !routedAsOverlay(sn?.underlay)) {
      ctx.bad(p, `${which}: only pods of the default VPC's overlay (or logicalGateway) subnets get them; subnet ${pod.subnet} is ${pod.vpc !== DEFAULT_VPC ? `in VPC ${pod.vpc} (use OvnFip / OvnSnatRule)` : "a plain underlay subnet"}`);
      continue;
    }
    if (state.kind === "broken") continue;
    if (!gw) {
      ctx.bad(p, `${which}: the default VPC has no external gateway: ${state.kind === "off" ? state.why : ""}`);
      continue;
    }
    if (gw.nextHop === undefined) {
      ctx.bad(p, `${which}: ${resourceName(gw.obj)} has no external-gw-addr and there is no Subnet ${gw.switchName} whose gateway could be used`);
      continue;
    }
    const podIp = pod.ips[0]!;
    if (eip !== "") {
      const prev = eipOwner.get(eip);
      if (prev) ctx.bad(p, `${EIP_ANNOTATION} ${eip} is already the EIP of ${resourceName(prev)}`);
      else if (eip === gw.ip) ctx.bad(p, `${EIP_ANNOTATION} ${eip} is the router port ${DEFAULT_VPC}-${gw.switchName}'s own address`);
      if (prev || eip === gw.ip) continue;
      eipOwner.set(eip, p);
      nats.push(Nat({ type: "dnat_and_snat", externalIp: eip, logicalIp: podIp, ...(gw.type === "distributed" ? { logicalPort: pod.lsp, externalMac: pod.mac, stateless: true } : {}) }));
    }
    if (snat !== "") nats.push(Nat({ type: "snat", externalIp: snat, logicalIp: podIp }));
    policies.push(RouterPolicy({ priority: POD_POLICY_PRIORITY, match: `ip4.src == ${podIp}`, action: "reroute", nexthops: List([gw.nextHop]), externalIds: KV({ subnet: pod.subnet, vendor: "kube-ovn" }) }));
    const pg = dots(`${pod.subnet}.${pod.node ?? ""}`);
    const g = pod.node !== undefined ? portGroups.get(pg) : undefined;
    if (g) portGroups = portGroups.set(pg, g.set("ports", g.ports.filter((x) => x !== pod.lsp)));
  }
  if (!gw) return net;

  const lrpName = `${DEFAULT_VPC}-${gw.switchName}`;
  const routes = [...new Set(nats.map((n) => n.logicalIp))].map((ip) => StaticRoute({ ipPrefix: ip, nexthop: gw.nextHop!, policy: "src-ip" }));
  let lr = net.routers.get(DEFAULT_VPC)!;
  lr = lr
    .set("ports", lr.ports.set(lrpName, externalRouterPort(DEFAULT_VPC, gw.switchName, `${gw.ip}/${gw.network.plen}`, gw.mac, gw.chassis)))
    .set("options", lr.options.delete("always_learn_from_arp_request"))
    .set("nat", lr.nat.concat(nats))
    .set("policies", lr.policies.concat(policies))
    .set("staticRoutes", lr.staticRoutes.concat(routes));
  let switches = net.switches;
  if (gw.bareSwitch) {
    const ln = localnetPort(gw.switchName, undefined, gw.attachment);
    const patch = externalSwitchPort(gw.switchName, DEFAULT_VPC);
    switches = switches.set(gw.switchName, LogicalSwitch({ name: gw.switchName, ports: OrderedMap([[ln.name, ln], [patch.name, patch]]), externalIds: KV({ vendor: "kube-ovn" }) }));
  }
  let macBindings = net.macBindings;
  let providerNetworks = net.providerNetworks;
  const u = gw.attachment;
  if (gw.nextHop !== undefined) {
    const mac = ctx.gatewayMac(u, gw.nextHop);
    macBindings = macBindings.push(MacBinding({ logicalPort: lrpName, ip: gw.nextHop, mac }));
    const pn = providerNetworks.get(u.provider) ?? ProviderNetwork({ name: u.provider });
    const address = `${gw.nextHop}/${gw.network.plen}`;
    const known = pn.gateways.some((g) => g.vlan === u.vlanId && g.address.split("/")[0] === gw.nextHop);
    providerNetworks = providerNetworks.set(u.provider, known ? pn : pn.set("gateways", pn.gateways.push(UnderlayGateway({ vlan: u.vlanId, address, mac }))));
  } else if (!providerNetworks.has(u.provider)) providerNetworks = providerNetworks.set(u.provider, ProviderNetwork({ name: u.provider }));
  let chassis = net.chassis;
  const bridge = `br-${gw.switchName}`;
  for (const n of gw.chassis) {
    const c = chassis.get(n);
    if (!c || c.bridgeMappings.has(gw.switchName)) continue;
    chassis = chassis.set(n, c.set("bridgeMappings", c.bridgeMappings.set(gw.switchName, bridge)).set("nics", c.nics.set(bridge, gw.nic)));
  }
  return net
    .set("routers", net.routers.set(DEFAULT_VPC, lr))
    .set("switches", switches)
    .set("portGroups", portGroups)
    .set("macBindings", macBindings)
    .set("providerNetworks", providerNetworks)
    .set("chassis", chassis);
}
