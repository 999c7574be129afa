/**
 * Kube-OVN's OVN-native NAT → OVN objects (kube-ovn-mapping.md §7 enableExternal, §9; Kube-OVN
 * v1.13 pkg/controller/vpc.go handleAddVpcExternalSubnet, ovn_eip.go, ovn_fip.go, ovn_snat.go,
 * ovn_dnat.go, pkg/ovs/ovn-nb-nat.go).
 *
 * What is mapped:
 * - `Vpc.spec.enableExternal` (custom VPCs): the external subnet (`EXTERNAL_GATEWAY_SWITCH`,
 *   `external` by default; normally an underlay subnet) gets the router-type port
 *   `<subnet>-<vpc>`, and the VPC's router the port `<vpc>-<subnet>` with the address and MAC of
 *   the OvnEip `<vpc>-<subnet>` (type lrp; taken from the subnet unless given as a manifest) and
 *   the Gateway_Chassis of every Node labelled `ovn.kubernetes.io/external-gw=true` (in document
 *   order, then the gateway nodes of `ovn-external-gw-config` that kube-ovn-controller labels; see
 *   external-gw.ts), priorities 100, 99, ...: a distributed gateway port. `extraExternalSubnets` does the
 *   same per extra subnet. An external subnet with logicalGateway connects nothing, as in
 *   Kube-OVN. Kube-OVN adds no default route: the VPC's `staticRoutes` gives it (§7).
 * - `OvnEip`: an address (and MAC) of its `externalSubnet` (default: the external subnet),
 *   `v4Ip` if given; type `lsp` adds the bare port `<eip>` ("MAC IP") on that subnet's switch and
 *   cannot be used by NAT.
 * - `OvnFip` (`ipName` = the IP resource of a pod, `<pod>.<namespace>`; or `vpc` + `v4Ip`): the NAT
 *   row dnat_and_snat external_ip = the EIP, logical_ip = the pod's address; with `ipName` also
 *   `logical_port` and `external_mac` (the pod's MAC), so OVN does it on the pod's chassis
 *   (distributed); with `vpc` + `v4Ip` neither, so it is done on the gateway chassis.
 * - `OvnSnatRule` (`vpc` + `v4IpCidr`, else `vpcSubnet`, else `ipName`, in Kube-OVN's order): the
 *   NAT row snat external_ip = the EIP, logical_ip = the CIDR or address.
 * - `OvnDnatRule`: not a NAT row but the load balancer `<rule name>` (its protocol, no options)
 *   with the VIP `<eip>:<externalPort>` → `<ip>:<internalPort>`, on the VPC's router.
 * - A router with an external port learns from ARP requests (no `always_learn_from_arp_request`)
 *   and has the Southbound MAC binding of the external subnet's physical gateway on that port (the
 *   steady state after its first ARP reply, as for U2O in underlay.ts).
 *
 * Decisions:
 * - The `staleless` typo of v1.13: FIPs carry `options:staleless` exactly as Kube-OVN writes it
 *   ("true" when `ovn-external-gw-config` has `type: distributed`, else "false"). OVN does not
 *   know the key, so every FIP is stateful, in real OVN and in ovnsim alike (the model's
 *   `stateless` stays false and the key is kept as an unknown option).
 * - Addresses: pinned EIPs (`v4Ip`) are claimed first, then the external ports' EIPs are taken
 *   (VPCs in document order, as Kube-OVN does when a VPC is created before its EIPs), then the
 *   other OvnEips in document order, all before the pods' addresses.
 * - Errors, one per problem, name the resource: a missing external subnet, no external gateway
 *   node, `enableBfd` (BFD is not mapped), an EIP that is missing, of type lsp, outside or
 *   taken, an OvnFip/OvnSnatRule/OvnDnatRule whose VPC has no external port, an ipName or v4Ip
 *   that no pod has, ipType vip (Vip resources are not mapped), a second FIP on one EIP, two DNAT
 *   rules on one EIP and external port, a bad protocol or port.
 */
import { List, OrderedMap } from "immutable";
import { GatewayChassis, LoadBalancer, MacBinding, Nat, RouterPort, SwitchPort } from "../../model/index.js";
import { formatSubnet, parseIpv4Cidr, type Ipv4Subnet, type MacGenerator, type SubnetIpam } from "./ipam.js";
import type { UnderlaySubnet } from "./underlay.js";
import type { KubeObject, PodInfo } from "./types.js";

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const EXTERNAL_GW_LABEL = "ovn.kubernetes.io/external-gw";

/** The facts about a subnet the NAT mapping needs; `ports` receives the extra switch ports. */
export interface NatSubnet {
  readonly name: string;
  readonly cidr: Ipv4Subnet;
  readonly gateway: string;
  readonly vpc: string;
  readonly ipam: SubnetIpam;
  readonly underlay: UnderlaySubnet | undefined;
  ports: SwitchPort[];
}

interface Eip {
  readonly name: string;
  readonly subnet: string;
  readonly type: "nat" | "lrp" | "lsp";
  readonly ip: string;
  readonly mac: string;
}

/** An external port of a VPC router: `<vpc>-<subnet>` on subnet `<subnet>`. */
interface ExternalPort {
  readonly vpc: string;
  readonly subnet: string;
  readonly eip: Eip;
  readonly chassis: readonly string[];
}

/** The EIPs and external ports, decided before the pods take their addresses. */
export interface ExternalPlan {
  readonly eips: ReadonlyMap<string, Eip>;
  readonly ports: readonly ExternalPort[];
}

/** The router-type switch port `<subnet>-<vpc>` that patches subnet `subnet` to router port `<vpc>-<subnet>`. */
export function externalSwitchPort(subnet: string, vpc: string): SwitchPort {
  return SwitchPort({ name: `${subnet}-${vpc}`, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", `${vpc}-${subnet}`]]) });
}

/**
 * A VPC router's external port `<vpc>-<subnet>`: a distributed gateway port with one
 * Gateway_Chassis per gateway node, priorities 100, 99, ... in the given order.
 */
export function externalRouterPort(vpc: string, subnet: string, network: string, mac: string, chassis: readonly string[]): RouterPort {
  return RouterPort({
    name: `${vpc}-${subnet}`,
    mac,
    networks: List([network]),
    gatewayChassis: List(chassis.map((c, i) => GatewayChassis({ chassis: c, priority: 100 - i }))),
  });
}

/** The Nodes labelled `ovn.kubernetes.io/external-gw=true`, in document order, then `extra` ones not among them. */
export function externalGatewayNodes(objs: readonly KubeObject[], extra: readonly string[] = []): string[] {
  const labelled = objs.filter((o) => o.kind === "Node" && o.labels[EXTERNAL_GW_LABEL] === "true").map((n) => n.name);
  return [...labelled, ...extra.filter((n) => !labelled.includes(n))];
}

/**
 * Reads the VPCs' external connections and the OvnEips: allocates their addresses from the
 * external subnets and adds the switch ports (`<subnet>-<vpc>`, lsp-type EIPs) to those subnets.
 * `labelledNodes` are Nodes that carry the external-gw label without saying so in their manifest
 * (ovn-external-gw-config's gateway nodes, which kube-ovn-controller labels).
 */
export function planExternal(
  objs: readonly KubeObject[],
  subnets: ReadonlyMap<string, NatSubnet>,
  macs: MacGenerator,
  externalSwitch: string,
  bad: (o: KubeObject, msg: string) => void,
  labelledNodes: readonly string[] = [],
): ExternalPlan {
  const of = (kind: string): KubeObject[] => objs.filter((o) => o.kind === kind);
  const gwNodes = externalGatewayNodes(objs, labelledNodes);
  const eipObjs = of("OvnEip");
  const eips = new Map<string, Eip>();
  const take = (name: string, subnetName: string, type: Eip["type"], pinnedIp: string, pinnedMac: string, report: (m: string) => void): Eip | undefined => {
    const s = subnets.get(subnetName);
    if (!s) {
      report(`externalSubnet ${subnetName}: no Subnet of that name`);
      return undefined;
    }
    let ip: string | undefined = pinnedIp;
    if (pinnedIp !== "") {
      const r = s.ipam.claim(pinnedIp);
      if (r === "bad") report(`v4Ip ${JSON.stringify(pinnedIp)} is not an IPv4 address`);
      else if (r === "outside") report(`v4Ip ${pinnedIp} is outside Subnet ${s.name} (${formatSubnet(s.cidr)})`);
      else if (r === "taken") report(`v4Ip ${pinnedIp} is already taken in Subnet ${s.name}`);
      if (r !== undefined) return undefined;
    } else {
      ip = s.ipam.allocate();
      if (ip === undefined) {
        report(`Subnet ${s.name} has no free address`);
        return undefined;
      }
    }
    const mac = (pinnedMac || macs.macFor(name)).toLowerCase();
    macs.reserve(mac);
    const eip: Eip = { name, subnet: s.name, type, ip, mac };
    eips.set(name, eip);
    if (type === "lsp") s.ports.push(SwitchPort({ name, addresses: List([`${mac} ${ip}`]) }));
    return eip;
  };
  const eipType = (o: KubeObject): Eip["type"] | undefined => {
    const t = str(o.spec.type);
    if (t === "" || t === "nat") return "nat";
    if (t === "lrp" || t === "lsp") return t;
    bad(o, `spec.type ${JSON.stringify(t)}: expected nat, lrp or lsp`);
    return undefined;
  };
  const done = new Set<KubeObject>();
  const takeObj = (o: KubeObject): void => {
    if (done.has(o)) return;
    done.add(o);
    const type = eipType(o);
    if (type) take(o.name, str(o.spec.externalSubnet) || externalSwitch, type, str(o.spec.v4Ip), str(o.spec.macAddress), (m) => bad(o, m));
  };
  // Pinned addresses first, so that no allocation takes them.
  for (const o of eipObjs) if (str(o.spec.v4Ip) !== "") takeObj(o);

  const ports: ExternalPort[] = [];
  for (const v of of("Vpc")) {
    if (v.spec.enableExternal !== true) continue;
    if (v.name === "ovn-cluster") continue; // the default VPC connects through ovn-external-gw-config
    if (v.spec.enableBfd === true) bad(v, "enableBfd: BFD to the external gateway is not mapped");
    const extra = Array.isArray(v.spec.extraExternalSubnets) ? v.spec.extraExternalSubnets.filter((x): x is string => typeof x === "string") : [];
    const main = subnets.get(externalSwitch);
    if (!main) {
      bad(v, `enableExternal needs the external Subnet ${externalSwitch} (EXTERNAL_GATEWAY_SWITCH)`);
      continue;
    }
    if (main.underlay?.logicalGateway) continue; // Kube-OVN connects nothing for a logical-gateway external subnet
    if (gwNodes.length === 0) {
      bad(v, `enableExternal needs at least one Node labelled ${EXTERNAL_GW_LABEL}=true (the gateway chassis)`);
      continue;
    }
    for (const sn of [externalSwitch, ...extra]) {
      const name = `${v.name}-${sn}`;
      const s = subnets.get(sn);
      if (!s) {
        bad(v, `extraExternalSubnets: ${sn}: no Subnet of that name`);
        continue;
      }
      if (!eips.has(name)) {
        // An OvnEip of this name, given as a manifest, is the port's; else Kube-OVN creates it.
        const given = eipObjs.find((o) => o.name === name);
        if (given) takeObj(given);
        else take(name, sn, "lrp", "", "", (m) => bad(v, `the external port's address: ${m}`));
      }
      const e = eips.get(name);
      if (!e) continue;
      s.ports.push(externalSwitchPort(sn, v.name));
      ports.push({ vpc: v.name, subnet: sn, eip: e, chassis: gwNodes });
    }
  }
  for (const o of eipObjs) takeObj(o);
  return { eips, ports };
}

/** What the NAT resources add to one VPC router. */
export interface VpcNatRows {
  readonly ports: RouterPort[];
  readonly nat: Nat[];
  readonly loadBalancers: LoadBalancer[];
  readonly macBindings: MacBinding[];
}

/**
 * The router rows of every VPC (by name), once the pods have their addresses. `gatewayMac` gives
 * the MAC of an underlay subnet's physical gateway; `distributedExternalGateway`: whether
 * ovn-external-gw-config has `type: distributed` (it sets the FIPs' `staleless` option).
 */
export function ovnNatRows(
  objs: readonly KubeObject[],
  plan: ExternalPlan,
  subnets: ReadonlyMap<string, NatSubnet>,
  pods: readonly PodInfo[],
  gatewayMac: (s: NatSubnet) => string | undefined,
  bad: (o: KubeObject, msg: string) => void,
  distributedExternalGateway = false,
): Map<string, VpcNatRows> {
  const rows = new Map<string, VpcNatRows>();
  const rowsOf = (vpc: string): VpcNatRows => {
    let r = rows.get(vpc);
    if (!r) rows.set(vpc, (r = { ports: [], nat: [], loadBalancers: [], macBindings: [] }));
    return r;
  };
  for (const p of plan.ports) {
    const s = subnets.get(p.subnet)!;
    const name = `${p.vpc}-${p.subnet}`;
    const r = rowsOf(p.vpc);
    r.ports.push(externalRouterPort(p.vpc, p.subnet, `${p.eip.ip}/${s.cidr.plen}`, p.eip.mac, p.chassis));
    const mac = gatewayMac(s);
    if (mac !== undefined) r.macBindings.push(MacBinding({ logicalPort: name, ip: s.gateway, mac }));
  }
  const hasExternal = (vpc: string): boolean => plan.ports.some((p) => p.vpc === vpc);
  const eipOf = (o: KubeObject): Eip | undefined => {
    const name = str(o.spec.ovnEip);
    const e = plan.eips.get(name);
    if (name === "") bad(o, "spec.ovnEip is required");
    else if (!e) bad(o, `ovnEip ${name}: no OvnEip of that name (or it has no address)`);
    else if (e.type === "lsp") bad(o, `ovnEip ${name} is of type lsp, which NAT cannot use`);
    else return e;
    return undefined;
  };
  const podByIpName = (o: KubeObject): PodInfo | undefined => {
    if (str(o.spec.ipType) === "vip") {
      bad(o, "ipType vip: Vip resources are not mapped");
      return undefined;
    }
    const ipName = str(o.spec.ipName);
    const p = pods.find((x) => x.lsp === ipName);
    if (!p) bad(o, `ipName ${ipName}: no pod has that IP (a pod's IP resource is named <pod>.<namespace>)`);
    return p;
  };
  const podByIp = (o: KubeObject, vpc: string, ip: string): PodInfo | undefined => {
    const p = pods.find((x) => x.vpc === vpc && x.ips.includes(ip));
    if (!p) bad(o, `v4Ip ${ip}: no pod of VPC ${vpc} has that address`);
    return p;
  };
  const needExternal = (o: KubeObject, vpc: string): boolean => {
    if (hasExternal(vpc)) return true;
    bad(o, `VPC ${vpc} has no external gateway port (its Vpc needs enableExternal)`);
    return false;
  };

  const fipOnEip = new Map<string, string>();
  for (const o of objs.filter((x) => x.kind === "OvnFip")) {
    const eip = eipOf(o);
    let pod: PodInfo | undefined;
    let vpc = str(o.spec.vpc);
    let ip = str(o.spec.v4Ip);
    if (str(o.spec.ipName) !== "" || str(o.spec.ipType) === "vip") {
      pod = podByIpName(o);
      if (!pod) continue;
      vpc = pod.vpc;
      ip = pod.ips[0]!;
    } else if (vpc === "" || ip === "") {
      bad(o, "give spec.ipName, or spec.vpc with spec.v4Ip");
      continue;
    } else if (!podByIp(o, vpc, ip)) continue;
    if (!eip || !needExternal(o, vpc)) continue;
    const prev = fipOnEip.get(eip.name);
    if (prev !== undefined) {
      bad(o, `ovnEip ${eip.name} already has the FIP ${prev}`);
      continue;
    }
    fipOnEip.set(eip.name, o.name);
    rowsOf(vpc).nat.push(
      Nat({
        type: "dnat_and_snat",
        externalIp: eip.ip,
        logicalIp: ip,
        ...(pod ? { logicalPort: pod.lsp, externalMac: pod.mac } : {}),
        options: OrderedMap([["staleless", String(distributedExternalGateway)]]),
      }),
    );
  }

  for (const o of objs.filter((x) => x.kind === "OvnSnatRule")) {
    const eip = eipOf(o);
    let vpc = str(o.spec.vpc);
    let cidr = str(o.spec.v4IpCidr);
    if (cidr !== "") {
      const c = parseIpv4Cidr(cidr.includes("/") ? cidr : `${cidr}/32`);
      if (!c || vpc === "") {
        bad(o, c ? "v4IpCidr needs spec.vpc" : `v4IpCidr ${JSON.stringify(cidr)}: expected an IPv4 address or CIDR`);
        continue;
      }
      cidr = cidr.includes("/") ? formatSubnet(c) : cidr;
    } else if (str(o.spec.vpcSubnet) !== "") {
      const s = subnets.get(str(o.spec.vpcSubnet));
      if (!s) {
        bad(o, `vpcSubnet ${str(o.spec.vpcSubnet)}: no Subnet of that name`);
        continue;
      }
      vpc = s.vpc;
      cidr = formatSubnet(s.cidr);
    } else if (str(o.spec.ipName) !== "") {
      const p = podByIpName(o);
      if (!p) continue;
      vpc = p.vpc;
      cidr = p.ips[0]!;
    } else {
      bad(o, "give spec.vpcSubnet, spec.ipName, or spec.vpc with spec.v4IpCidr");
      continue;
    }
    if (!eip || !needExternal(o, vpc)) continue;
    rowsOf(vpc).nat.push(Nat({ type: "snat", externalIp: eip.ip, logicalIp: cidr }));
  }

  const dnatOn = new Map<string, string>();
  for (const o of objs.filter((x) => x.kind === "OvnDnatRule")) {
    const eip = eipOf(o);
    let vpc = str(o.spec.vpc);
    let ip = str(o.spec.v4Ip);
    if (str(o.spec.ipName) !== "" || str(o.spec.ipType) === "vip") {
      const p = podByIpName(o);
      if (!p) continue;
      vpc = p.vpc;
      ip = p.ips[0]!;
    } else if (vpc === "" || ip === "") {
      bad(o, "give spec.ipName, or spec.vpc with spec.v4Ip");
      continue;
    } else if (!podByIp(o, vpc, ip)) continue;
    const port = (k: "externalPort" | "internalPort"): number | undefined => {
      const v = o.spec[k];
      const n = typeof v === "number" ? v : /^\d+$/.test(str(v)) ? Number(v) : NaN;
      if (n >= 1 && n <= 65535) return n;
      bad(o, `spec.${k} ${JSON.stringify(v ?? "")}: expected a port in 1..65535`);
      return undefined;
    };
    const ext = port("externalPort");
    const int = port("internalPort");
    const protocol = str(o.spec.protocol);
    if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") {
      bad(o, `spec.protocol ${JSON.stringify(protocol)}: expected tcp, udp or sctp`);
      continue;
    }
    if (!eip || ext === undefined || int === undefined || !needExternal(o, vpc)) continue;
    const key = `${eip.name}:${ext}`;
    const prev = dnatOn.get(key);
    if (prev !== undefined) {
      bad(o, `ovnEip ${eip.name} port ${ext} already has the DNAT rule ${prev}`);
      continue;
    }
    dnatOn.set(key, o.name);
    rowsOf(vpc).loadBalancers.push(LoadBalancer({ name: o.name, protocol, vips: OrderedMap([[`${eip.ip}:${ext}`, List([`${ip}:${int}`])]]) }));
  }
  return rows;
}

