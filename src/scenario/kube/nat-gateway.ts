/**
 * Kube-OVN's VPC NAT gateway from manifests (kube-ovn-mapping.md §8): `VpcNatGateway`,
 * `IptablesEIP`, `IptablesSnatRule`, `IptablesDnatRule` and `IptablesFIPRule`, with the two
 * ConfigMaps and the Multus `NetworkAttachmentDefinition` they need → the gateway pod's switch
 * port and a model `NatGateway` (the pod's iptables nat table, which the dataplane simulates).
 *
 * What is built, as kube-ovn-controller v1.13 does it
 * ----------------------------------------------------
 * - The pod `<prefix>-<gw>-0` in `kube-system` (prefix `vpc-nat-gw`, or `natGwNamePrefix` of the
 *   ConfigMap `ovn-vpc-nat-config`): its `eth0` is the switch port `<pod>.kube-system` on
 *   `spec.subnet`, holding `spec.lanIp` (the pod's `ip_address` annotation, so a pinned address).
 *   `net1` is a macvlan attachment that never enters OVN: its address, the EIPs and the default
 *   route come from the Subnet whose `provider` is the attachment's provider — `<nad>.kube-system`
 *   for a NAD of any CNI type but `kube-ovn`, where `<nad>` is `spec.externalSubnets[0]`, else
 *   `ovn-vpc-external-network`. net1 takes that subnet's lowest free address (the pod exists
 *   before any EIP can be allocated); its gateway is the subnet's gateway.
 * - IptablesEIP: `v4ip`, or the lowest free address of the same external subnet (its gateway and
 *   excludeIps are never handed out; a pinned `v4ip` may lie in excludeIps, as Kube-OVN's static
 *   allocation allows, but not be the gateway). Pinned EIPs are claimed before the others are
 *   allocated, each group in document order, so the result does not depend on event order.
 * - IptablesSnatRule / IptablesDnatRule / IptablesFIPRule: rules of the EIP's gateway, in document
 *   order (= creation order, which is the order iptables appends them; the chains of §8.2 are the
 *   dataplane's). SNAT rules carry `--random-fully`: kube-ovn-controller adds it when the pod's
 *   iptables is newer than 1.6.2, and the v1.13 image (alpine) ships 1.8.
 *
 * Decisions
 * ---------
 * - The gateway's node: the first Node, in document order, whose labels satisfy every
 *   `"key: value"` entry of `spec.selector` (entries of another form are skipped, as Kube-OVN
 *   does); every node has the kubelet's labels `kubernetes.io/hostname=<name>` and
 *   `kubernetes.io/os=linux` unless it sets them itself. No selector: the first Node. Tolerations,
 *   affinity and taints are ignored. A selector that no node satisfies is an error (the pod would
 *   stay Pending).
 * - lanIp must be an IPv4 address inside the subnet, not excluded, not taken, and not the subnet's
 *   gateway: with lanIp = gateway, the switch port and the VPC router port would claim the same
 *   address, the VPC's `0.0.0.0/0 → lanIp` route would point at the router itself and the pod's
 *   own routes (via the subnet gateway) at itself. Kube-OVN's webhook only checks that lanIp is in
 *   the CIDR; the result could not forward anything, so it is refused here.
 * - The gateway pods' addresses are claimed before any other pod is placed (their lanIp is
 *   pinned), so a pod allocated the lowest free address never takes it.
 * - The ConfigMaps: Kube-OVN's webhook refuses every VpcNatGateway and Iptables* resource unless
 *   `ovn-vpc-nat-config` (kube-system) has a non-empty `image` and `ovn-vpc-nat-gw-config` has
 *   `enable-vpc-nat-gw: "true"`; so do we, with one error, and map no NAT gateway then.
 * - Errors, not silent fixes, where Kube-OVN would leave a resource not ready: a rule naming a
 *   missing EIP, an EIP naming a missing gateway or another external network than its gateway's,
 *   a second FIP on one EIP, two DNATs on one EIP and external port; and, as checks of our own, a
 *   DNAT or FIP whose internal IP no pod of the gateway's VPC has. IPv6 (`v6ip`) is not mapped.
 * - Not mapped: QoS, the BGP speaker, an external network that is itself an OVN attachment (a NAD
 *   of type `kube-ovn`), several external subnets (only the first is used, as in Kube-OVN v1.13).
 *
 * The pod's own routes (the VPC's other subnets via the subnet gateway on eth0, the default via
 * net1) are derived from the model by compile/nat-gateway.ts.
 */
import { List, OrderedMap } from "immutable";
import { error, formatIpv4, parseIpv4, type Diagnostic } from "../../base/index.js";
import { NatGateway, NatGatewayDnat, NatGatewayEip, NatGatewayFip, NatGatewaySnat, SwitchPort } from "../../model/index.js";
import { SubnetIpam, formatSubnet, inSubnet, parseExcludes, parseIpv4Cidr, type Ipv4Subnet, type MacGenerator } from "./ipam.js";
import { resourceName, type KubeObject, type PodInfo } from "./types.js";

/** The namespace kube-ovn-controller runs in, where the gateway pods, ConfigMaps and NADs live. */
const CONTROLLER_NAMESPACE = "kube-system";
const DEFAULT_EXTERNAL_NETWORK = "ovn-vpc-external-network";
const DEFAULT_NAME_PREFIX = "vpc-nat-gw";
const GW_CONFIG = "ovn-vpc-nat-gw-config";
const NAT_CONFIG = "ovn-vpc-nat-config";

/** An OVN subnet as the gateway needs it (build.ts's subnet state). */
export interface NatGatewaySubnet {
  readonly name: string;
  readonly obj: KubeObject | undefined;
  readonly cidr: Ipv4Subnet;
  readonly gateway: string;
  readonly vpc: string;
  readonly ipam: SubnetIpam;
  readonly isJoin: boolean;
  /** The switch's ports; the gateway pod's port is appended. */
  readonly ports: SwitchPort[];
}

export interface NatGatewayContext {
  readonly objs: readonly KubeObject[];
  readonly subnets: readonly NatGatewaySubnet[];
  /** The nodes that were mapped, in document order. */
  readonly nodes: readonly { readonly name: string }[];
  /** Every VPC (router) name. */
  readonly vpcs: readonly string[];
  readonly macs: MacGenerator;
}

/** An IPAM-only subnet for a non-OVN attachment (macvlan etc.): `provider` = `<nad>.<namespace>`. */
interface ExternalNet {
  readonly obj: KubeObject;
  readonly cidr: Ipv4Subnet;
  readonly gateway: string;
  readonly ipam: SubnetIpam;
}

interface PlacedGateway {
  readonly obj: KubeObject;
  readonly vpc: string;
  readonly lanPort: string;
  readonly lanIp: string;
  readonly nad: string;
  readonly ext: ExternalNet;
  readonly externalMac: string;
  readonly externalCidr: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Kube-OVN's provider of a Subnet is OVN's own (`ovn`, or `<nad>.<ns>.ovn` for OVN attachments). */
function isOvnProvider(provider: string): boolean {
  return provider === "" || provider === "ovn" || provider.endsWith(".ovn");
}

/**
 * True for a Subnet that only does IPAM for a non-OVN attachment network (its `provider` is
 * `<nad>.<namespace>`): it has no logical switch (kube-ovn-mapping.md §2.2).
 */
export function isAttachmentSubnet(o: KubeObject): boolean {
  return o.kind === "Subnet" && !isOvnProvider(str(o.spec.provider) ?? "");
}

/** A port number given as a string or a number; undefined unless an integer in 1..65535. */
function portOf(v: unknown): number | undefined {
  const t = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : "";
  if (!/^\d{1,5}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The first phase, before the other pods are placed: checks the ConfigMaps and each
 * VpcNatGateway, claims its lanIp, adds its pod's switch port, and allocates net1's address.
 * `finish` then maps the EIPs and rules once the pods are known.
 */
export function placeNatGateways(ctx: NatGatewayContext): NatGatewayPlan {
  return new NatGatewayPlan(ctx);
}

export class NatGatewayPlan {
  readonly diags: Diagnostic[] = [];
  /** `kube-system/<pod>` → the gateway pod's switch port, for `ovnsim trace --from pod/...`. */
  readonly podPorts = new Map<string, string>();
  private readonly ctx: NatGatewayContext;
  private readonly placed = new Map<string, PlacedGateway>();
  /** Every VpcNatGateway object by name, placed or not. */
  private readonly gatewayObjs = new Map<string, KubeObject>();
  private enabled = true;

  constructor(ctx: NatGatewayContext) {
    this.ctx = ctx;
    const gws = this.of("VpcNatGateway");
    for (const g of gws) this.gatewayObjs.set(g.name, g);
    const natObjs = ctx.objs.filter((o) => ["VpcNatGateway", "IptablesEIP", "IptablesSnatRule", "IptablesDnatRule", "IptablesFIPRule"].includes(o.kind));
    const externals = this.readAttachmentSubnets();
    if (natObjs.length === 0) return;
    const prefix = this.checkConfigMaps(natObjs[0]!);
    if (prefix === undefined) {
      this.enabled = false;
      return;
    }
    for (const g of gws) this.place(g, prefix, externals);
  }

  private of(kind: string): KubeObject[] {
    return this.ctx.objs.filter((o) => o.kind === kind);
  }

  private bad(o: KubeObject, message: string): void {
    this.diags.push(error("kube.natgw", `${resourceName(o)}: ${message}`, { loc: o.loc }));
  }

  private configMap(name: string): KubeObject | undefined {
    return this.ctx.objs.find((o) => o.kind === "ConfigMap" && o.name === name && o.namespace === CONTROLLER_NAMESPACE);
  }

  /** The ConfigMaps Kube-OVN's webhook requires; the pod name prefix, or undefined when refused. */
  private checkConfigMaps(first: KubeObject): string | undefined {
    const data = (o: KubeObject | undefined): Record<string, unknown> => {
      const d = o?.raw.data;
      return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
    };
    const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "boolean" || typeof v === "number" ? String(v) : "");
    const gwCfg = this.configMap(GW_CONFIG);
    const natCfg = this.configMap(NAT_CONFIG);
    let ok = true;
    if (!gwCfg) {
      this.bad(first, `ConfigMap ${CONTROLLER_NAMESPACE}/${GW_CONFIG} is missing: Kube-OVN refuses VPC NAT gateway resources unless it sets enable-vpc-nat-gw: "true"`);
      ok = false;
    } else if (text(data(gwCfg)["enable-vpc-nat-gw"]) !== "true") {
      const v = data(gwCfg)["enable-vpc-nat-gw"];
      this.bad(gwCfg, `enable-vpc-nat-gw is ${v === undefined ? "not set" : JSON.stringify(text(v))}: the VPC NAT gateway feature is off, so Kube-OVN refuses every VpcNatGateway and Iptables* resource (set it to "true")`);
      ok = false;
    }
    if (!natCfg) {
      this.bad(first, `ConfigMap ${CONTROLLER_NAMESPACE}/${NAT_CONFIG} is missing: Kube-OVN needs its image to create the NAT gateway pod`);
      ok = false;
    } else if (text(data(natCfg).image) === "") {
      this.bad(natCfg, "image is empty: Kube-OVN needs it to create the NAT gateway pod");
      ok = false;
    }
    if (!ok) return undefined;
    return text(data(natCfg).natGwNamePrefix) || DEFAULT_NAME_PREFIX;
  }

  /** Every IPAM-only attachment Subnet, checked, by provider (the first of each provider wins). */
  private readAttachmentSubnets(): Map<string, ExternalNet> {
    const out = new Map<string, ExternalNet>();
    for (const s of this.of("Subnet")) {
      if (!isAttachmentSubnet(s)) continue;
      const provider = str(s.spec.provider)!;
      const cidrText = str(s.spec.cidrBlock) ?? "";
      const cidr = parseIpv4Cidr(cidrText);
      if (!cidr) {
        this.bad(s, `cidrBlock ${JSON.stringify(cidrText)}: expected an IPv4 CIDR (IPv6 is not mapped yet)`);
        continue;
      }
      const gateway = str(s.spec.gateway) ?? formatIpv4(cidr.network + 1);
      const gw = parseIpv4(gateway);
      if (gw === undefined || !inSubnet(gw, cidr)) {
        this.bad(s, `gateway ${gateway} is outside cidrBlock ${formatSubnet(cidr)}`);
        continue;
      }
      const excl = Array.isArray(s.spec.excludeIps) ? s.spec.excludeIps.filter((x): x is string => typeof x === "string") : [];
      const ex = parseExcludes([...excl, gateway]);
      for (const b of ex.bad) this.bad(s, `excludeIps entry ${JSON.stringify(b)}: expected an address or A..B`);
      if (out.has(provider)) continue;
      out.set(provider, { obj: s, cidr, gateway, ipam: new SubnetIpam(cidr, ex.ranges) });
    }
    return out;
  }

  /** The external network of a NAD in kube-system, by name: its provider's Subnet. */
  private externalNet(nad: string, who: KubeObject, externals: Map<string, ExternalNet>): ExternalNet | undefined {
    const def = this.ctx.objs.find((o) => o.kind === "NetworkAttachmentDefinition" && o.name === nad && o.namespace === CONTROLLER_NAMESPACE);
    if (!def) {
      this.bad(who, `NetworkAttachmentDefinition ${CONTROLLER_NAMESPACE}/${nad} is missing: Kube-OVN finds the external network (net1) through it`);
      return undefined;
    }
    const cfgText = str(def.spec.config);
    let type: unknown;
    try {
      type = cfgText === undefined ? undefined : (JSON.parse(cfgText) as Record<string, unknown>).type;
    } catch {
      type = undefined;
    }
    if (typeof type !== "string") {
      this.bad(def, "spec.config must be a CNI configuration (JSON) with a type");
      return undefined;
    }
    if (type === "kube-ovn") {
      this.bad(def, "an external network attached through OVN (CNI type kube-ovn) is not mapped: net1 is a macvlan-like attachment outside OVN");
      return undefined;
    }
    const provider = `${nad}.${CONTROLLER_NAMESPACE}`;
    const ext = externals.get(provider);
    if (!ext) this.bad(who, `no Subnet has provider ${provider}: the external network ${nad} needs one for its addresses (EIPs, net1) and gateway`);
    return ext;
  }

  /** Node selection; see the module header. */
  private nodeFor(g: KubeObject): string | undefined | false {
    const selector: [string, string][] = [];
    for (const e of Array.isArray(g.spec.selector) ? g.spec.selector : []) {
      if (typeof e !== "string") continue;
      const parts = e.trim().split(":");
      if (parts.length === 2) selector.push([parts[0]!.trim(), parts[1]!.trim()]);
    }
    const nodeObjs = new Map(this.of("Node").map((n) => [n.name, n]));
    for (const n of this.ctx.nodes) {
      const labels: Record<string, string> = { "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", ...(nodeObjs.get(n.name)?.labels ?? {}) };
      if (selector.every(([k, v]) => labels[k] === v)) return n.name;
    }
    if (this.ctx.nodes.length === 0) return undefined;
    this.bad(g, `selector ${selector.map(([k, v]) => `${k}: ${v}`).join(", ")} matches no Node: the gateway pod would stay Pending`);
    return false;
  }

  private place(g: KubeObject, prefix: string, externals: Map<string, ExternalNet>): void {
    const vpc = str(g.spec.vpc) ?? "";
    const subnetName = str(g.spec.subnet) ?? "";
    const lanIp = str(g.spec.lanIp) ?? "";
    let ok = true;
    if (vpc === "") {
      this.bad(g, "spec.vpc is required");
      ok = false;
    } else if (!this.ctx.vpcs.includes(vpc)) {
      this.bad(g, `vpc ${vpc}: no Vpc of that name`);
      ok = false;
    }
    const found = this.ctx.subnets.find((s) => s.name === subnetName && !s.isJoin);
    const snName = found?.obj ? resourceName(found.obj) : `subnet ${subnetName}`;
    let sn: NatGatewaySubnet | undefined;
    if (subnetName === "") this.bad(g, "spec.subnet is required");
    else if (!found) this.bad(g, `subnet ${subnetName}: no OVN Subnet of that name`);
    else if (ok && found.vpc !== vpc) this.bad(g, `subnet ${subnetName} is in VPC ${found.vpc}, not in ${vpc}`);
    else sn = found;
    if (!sn) ok = false;
    const ip = parseIpv4(lanIp);
    if (ip === undefined) {
      this.bad(g, `lanIp ${JSON.stringify(lanIp)} is not an IPv4 address`);
      ok = false;
    } else if (sn) {
      if (!inSubnet(ip, sn.cidr)) {
        this.bad(g, `lanIp ${lanIp} is outside ${snName} (${formatSubnet(sn.cidr)})`);
        ok = false;
      } else if (lanIp === sn.gateway) {
        this.bad(g, `lanIp ${lanIp} is the gateway of ${snName} (the VPC router's port): the NAT gateway needs an address of its own, and the VPC's default route points at it`);
        ok = false;
      } else if (sn.ipam.excludes(lanIp)) {
        this.bad(g, `lanIp ${lanIp} is in ${snName}'s excludeIps`);
        ok = false;
      } else if (ok) {
        const r = sn.ipam.claim(lanIp);
        if (r !== undefined) {
          this.bad(g, r === "taken" ? `lanIp ${lanIp} is already taken` : `lanIp ${lanIp} is not a usable address of ${snName} (${formatSubnet(sn.cidr)})`);
          ok = false;
        }
      }
    }
    const nads = Array.isArray(g.spec.externalSubnets) ? g.spec.externalSubnets.filter((x): x is string => typeof x === "string" && x !== "") : [];
    const nad = nads[0] ?? DEFAULT_EXTERNAL_NETWORK;
    const ext = this.externalNet(nad, g, externals);
    const node = this.nodeFor(g);
    if (!ok || !sn || !ext || node === false) return;
    const pod = `${prefix}-${g.name}-0`;
    const lsp = `${pod}.${CONTROLLER_NAMESPACE}`;
    const net1 = ext.ipam.allocate();
    if (net1 === undefined) {
      this.bad(g, `the external ${resourceName(ext.obj)} has no free address for net1`);
      return;
    }
    const mac = this.ctx.macs.macFor(lsp);
    sn.ports.push(
      SwitchPort({
        name: lsp,
        addresses: List([`${mac} ${lanIp}`]),
        ...(node !== undefined ? { chassis: node } : {}),
        externalIds: OrderedMap([
          ["pod", `${CONTROLLER_NAMESPACE}/${pod}`],
          ["ls", sn.name],
          ["vendor", "kube-ovn"],
        ]),
      }),
    );
    this.podPorts.set(`${CONTROLLER_NAMESPACE}/${pod}`, lsp);
    this.placed.set(g.name, {
      obj: g,
      vpc,
      lanPort: lsp,
      lanIp,
      nad,
      ext,
      externalMac: this.ctx.macs.macFor(`${pod}.${CONTROLLER_NAMESPACE}.${nad}.${CONTROLLER_NAMESPACE}`),
      externalCidr: `${net1}/${ext.cidr.plen}`,
    });
  }

  /** The second phase: EIPs and rules, checked against the pods; the model's NAT gateways. */
  finish(pods: readonly PodInfo[]): OrderedMap<string, NatGateway> {
    if (!this.enabled) return OrderedMap();
    // EIPs: pinned ones first, then the lowest free ones, each in document order.
    const eipObjs = this.of("IptablesEIP");
    const eips = new Map<string, { gw: string; ip: string }>();
    const pending: { o: KubeObject; gw: PlacedGateway }[] = [];
    for (const o of eipObjs) {
      const gwName = str(o.spec.natGwDp) ?? "";
      if (gwName === "") {
        this.bad(o, "spec.natGwDp is required (the VpcNatGateway that holds the EIP)");
        continue;
      }
      const gw = this.placed.get(gwName);
      if (!gw) {
        // A gateway that exists but failed has its own error already.
        if (!this.gatewayObjs.has(gwName)) this.bad(o, `natGwDp ${gwName}: no VpcNatGateway of that name`);
        continue;
      }
      const nad = str(o.spec.externalSubnet) || DEFAULT_EXTERNAL_NETWORK;
      if (nad !== gw.nad) {
        this.bad(o, `externalSubnet ${nad} is not the external network of VpcNatGateway ${gwName} (${gw.nad}); a gateway has one external network`);
        continue;
      }
      if ((str(o.spec.v6ip) ?? "") !== "") {
        this.bad(o, "v6ip: IPv6 EIPs are not mapped yet");
        continue;
      }
      pending.push({ o, gw });
    }
    for (const { o, gw } of pending) {
      const v4 = str(o.spec.v4ip) ?? "";
      if (v4 === "") continue;
      const ipNum = parseIpv4(v4);
      const extName = resourceName(gw.ext.obj);
      if (ipNum === undefined) this.bad(o, `v4ip ${JSON.stringify(v4)} is not an IPv4 address`);
      else if (!inSubnet(ipNum, gw.ext.cidr)) this.bad(o, `v4ip ${v4} is outside the external ${extName} (${formatSubnet(gw.ext.cidr)})`);
      else if (v4 === gw.ext.gateway) this.bad(o, `v4ip ${v4} is the gateway of the external ${extName}`);
      else {
        const r = gw.ext.ipam.claim(v4);
        if (r === "taken") this.bad(o, `v4ip ${v4} is already taken (by net1 of a NAT gateway or another EIP)`);
        else if (r !== undefined) this.bad(o, `v4ip ${v4} is not a usable address of the external ${extName} (${formatSubnet(gw.ext.cidr)})`);
        else eips.set(o.name, { gw: gw.obj.name, ip: v4 });
      }
    }
    for (const { o, gw } of pending) {
      if ((str(o.spec.v4ip) ?? "") !== "") continue;
      const ip = gw.ext.ipam.allocate();
      if (ip === undefined) this.bad(o, `the external ${resourceName(gw.ext.obj)} has no free address`);
      else eips.set(o.name, { gw: gw.obj.name, ip });
    }

    // Rules: each names its EIP, which names the gateway.
    const eipOf = (o: KubeObject): { gw: string; ip: string } | undefined => {
      const name = str(o.spec.eip) ?? "";
      if (name === "") {
        this.bad(o, "spec.eip is required");
        return undefined;
      }
      const e = eips.get(name);
      if (!e && !eipObjs.some((x) => x.name === name)) this.bad(o, `eip ${name}: no IptablesEIP of that name`);
      return e;
    };
    const podIp = (o: KubeObject, field: string, value: unknown, gw: string): string | undefined => {
      const ip = str(value) ?? "";
      if (parseIpv4(ip) === undefined) {
        this.bad(o, `${field} ${JSON.stringify(ip)} is not an IPv4 address`);
        return undefined;
      }
      const vpc = this.placed.get(gw)!.vpc;
      if (!pods.some((p) => p.vpc === vpc && p.ips.includes(ip))) {
        this.bad(o, `${field} ${ip}: no pod in VPC ${vpc} has this address`);
        return undefined;
      }
      return ip;
    };
    const rules = new Map<string, { snat: NatGatewaySnat[]; dnat: NatGatewayDnat[]; fip: NatGatewayFip[] }>();
    const rulesOf = (gw: string): { snat: NatGatewaySnat[]; dnat: NatGatewayDnat[]; fip: NatGatewayFip[] } => {
      let r = rules.get(gw);
      if (!r) rules.set(gw, (r = { snat: [], dnat: [], fip: [] }));
      return r;
    };
    for (const o of this.of("IptablesSnatRule")) {
      const e = eipOf(o);
      const cidrText = str(o.spec.internalCIDR) ?? "";
      const cidr = cidrText.includes("/") ? parseIpv4Cidr(cidrText) : undefined;
      if (!cidr) {
        this.bad(o, `internalCIDR ${JSON.stringify(cidrText)} is not an IPv4 CIDR`);
        continue;
      }
      if (!e) continue;
      rulesOf(e.gw).snat.push(NatGatewaySnat({ name: o.name, eip: str(o.spec.eip)!, internalCidr: cidrText, randomFully: true }));
    }
    const dnatPorts = new Map<string, string>();
    for (const o of this.of("IptablesDnatRule")) {
      const e = eipOf(o);
      const ext = portOf(o.spec.externalPort);
      const int = portOf(o.spec.internalPort);
      const proto = (str(o.spec.protocol) ?? "").toLowerCase();
      let ok = true;
      if (ext === undefined) {
        this.bad(o, `externalPort ${JSON.stringify(o.spec.externalPort ?? "")} is not a port (1..65535)`);
        ok = false;
      }
      if (int === undefined) {
        this.bad(o, `internalPort ${JSON.stringify(o.spec.internalPort ?? "")} is not a port (1..65535)`);
        ok = false;
      }
      if (proto !== "tcp" && proto !== "udp") {
        this.bad(o, `protocol ${JSON.stringify(o.spec.protocol ?? "")}: expected tcp or udp`);
        ok = false;
      }
      if (!e) continue;
      const ip = podIp(o, "internalIp", o.spec.internalIp, e.gw);
      if (!ok || ip === undefined) continue;
      const key = `${str(o.spec.eip)}:${ext}`;
      const prev = dnatPorts.get(key);
      if (prev !== undefined) {
        this.bad(o, `eip ${str(o.spec.eip)} external port ${ext} is already used by IptablesDnatRule/${prev}`);
        continue;
      }
      dnatPorts.set(key, o.name);
      rulesOf(e.gw).dnat.push(NatGatewayDnat({ name: o.name, eip: str(o.spec.eip)!, protocol: proto as "tcp" | "udp", externalPort: ext!, internalIp: ip, internalPort: int! }));
    }
    const fipEips = new Map<string, string>();
    for (const o of this.of("IptablesFIPRule")) {
      const e = eipOf(o);
      if (!e) continue;
      const ip = podIp(o, "internalIp", o.spec.internalIp, e.gw);
      if (ip === undefined) continue;
      const eipName = str(o.spec.eip)!;
      const prev = fipEips.get(eipName);
      if (prev !== undefined) {
        this.bad(o, `eip ${eipName} is already used by IptablesFIPRule/${prev} (an EIP has one floating IP)`);
        continue;
      }
      fipEips.set(eipName, o.name);
      rulesOf(e.gw).fip.push(NatGatewayFip({ name: o.name, eip: eipName, internalIp: ip }));
    }

    let out = OrderedMap<string, NatGateway>();
    for (const [name, gw] of this.placed) {
      let gwEips = OrderedMap<string, NatGatewayEip>();
      for (const o of eipObjs) {
        const e = eips.get(o.name);
        if (e?.gw === name) gwEips = gwEips.set(o.name, NatGatewayEip({ name: o.name, ip: e.ip }));
      }
      const r = rulesOf(name);
      out = out.set(
        name,
        NatGateway({
          name,
          vpc: gw.vpc,
          lanPort: gw.lanPort,
          lanIp: gw.lanIp,
          externalMac: gw.externalMac,
          externalCidr: gw.externalCidr,
          externalGateway: gw.ext.gateway,
          eips: gwEips,
          snatRules: List(r.snat),
          dnatRules: List(r.dnat),
          fipRules: List(r.fip),
        }),
      );
    }
    return out;
  }
}
