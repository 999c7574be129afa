/**
 * A model `NatGateway` (Kube-OVN's iptables VPC NAT gateway) turned into the plain data the
 * dataplane's gateway node runs on.
 *
 * What: `natGatewayConfig(net, name)` returns the `NatGatewayConfig` (ofp/linux-config.ts) that the
 * dataplane's gateway node runs. It reads, as Kube-OVN sets up the pod:
 * - eth0: the lan port's MAC (from its `addresses`), the gateway's `lanIp`, with the prefix of the
 *   VPC router port on the lan switch (the switch port of type `router` whose `router-port`
 *   option names a port of the VPC's router);
 * - the VPC gateway: that router port's address and MAC (the next hop of the VPC routes);
 * - routes: every other subnet of the VPC (the IPv4 networks of the VPC router's other
 *   switch-attached ports) via the VPC gateway on eth0 — the pod's own subnet is connected and
 *   needs none — and the default route via `externalGateway` on net1;
 * - neighbours on eth0: every address the lan switch's VIFs declare (OVN answers ARP for them);
 * - EIPs, FIPs, DNAT and SNAT rules in model order, each with its model path. A rule's `eip` is
 *   the name of one of the gateway's EIPs (as Kube-OVN's rule resources name their
 *   IptablesEIP), or else an IPv4 address.
 * The external gateway's MAC is not in the model; give it with `opts.externalGatewayMac`, or the
 * dataplane's documented placeholder is used.
 *
 * Every problem is a diagnostic with the model path of the field at fault.
 */
import { error, fail, ok, parseCidr, parseIpv4, ipv4FromBytes, formatIpv4, ipv4Mask, type Diagnostic, type Result } from "../base/index.js";
import { switchOfPort, type Network } from "../model/index.js";
import type { NatGatewayConfig, NatGatewayIface } from "../ofp/index.js";
import { parsePortAddress } from "./switch.js";

type Path = readonly (string | number)[];

export interface NatGatewayConfigOptions {
  /** The MAC of the external network's gateway (the model does not have it). */
  readonly externalGatewayMac?: string;
}

interface V4Net {
  readonly ip: number;
  readonly len: number;
}

function parseV4Net(text: string): V4Net | undefined {
  const c = parseCidr(text);
  if (!c || c.family !== 4) return undefined;
  return { ip: ipv4FromBytes(c.addr), len: c.prefixLen };
}

function networkText(n: V4Net): string {
  return `${formatIpv4((n.ip & ipv4Mask(n.len)) >>> 0)}/${n.len}`;
}

/** The gateway `name` of `net` as dataplane config; see the module header. */
export function natGatewayConfig(net: Network, name: string, opts: NatGatewayConfigOptions = {}): Result<NatGatewayConfig> {
  const gwPath = `natGateways[${name}]`;
  const gw = net.natGateways.get(name);
  if (!gw) return fail(error("natgw.unknown", `there is no NAT gateway named ${name}`, { path: ["natGateways"] }));
  const diags: Diagnostic[] = [];
  const bad = (code: string, message: string, path: Path): void => {
    diags.push(error(`natgw.${code}`, message, { path }));
  };

  // eth0: the lan port and its switch.
  const ls = switchOfPort(net, gw.lanPort);
  const lsp = ls?.ports.get(gw.lanPort);
  if (!ls || !lsp) return fail(error("natgw.no-lan-port", `lan port ${gw.lanPort} is not a port of any switch`, { path: [gwPath, "lanPort"] }));
  let lanMac: string | undefined;
  for (const a of lsp.addresses) {
    const pa = parsePortAddress(a);
    if (pa) {
      lanMac = pa.mac;
      break;
    }
  }
  if (!lanMac) bad("no-lan-mac", `lan port ${gw.lanPort} has no "MAC IP" address`, [gwPath, "lanPort"]);
  const lanIp = parseIpv4(gw.lanIp);
  if (lanIp === undefined) bad("bad-ip", `lanIp "${gw.lanIp}" is not an IPv4 address`, [gwPath, "lanIp"]);

  // The VPC router and its port on the lan switch.
  const lr = net.routers.get(gw.vpc);
  if (!lr) return fail(...diags, error("natgw.unknown-vpc", `VPC router ${gw.vpc} does not exist`, { path: [gwPath, "vpc"] }));
  const attached = new Map<string, string>(); // router port → switch name
  for (const sw of net.switches.values()) {
    for (const p of sw.ports.values()) {
      const rp = p.type === "router" ? p.options.get("router-port") : undefined;
      if (rp !== undefined && lr.ports.has(rp)) attached.set(rp, sw.name);
    }
  }
  let vpcGw: { ip: number; len: number; mac: string } | undefined;
  let lanPortName: string | undefined;
  for (const [rpName, swName] of attached) {
    if (swName !== ls.name) continue;
    const rp = lr.ports.get(rpName)!;
    for (const n of rp.networks) {
      const v = parseV4Net(n);
      if (v && lanIp !== undefined && ((v.ip ^ lanIp) & ipv4Mask(v.len)) >>> 0 === 0) {
        vpcGw = { ip: v.ip, len: v.len, mac: rp.mac };
        lanPortName = rpName;
        break;
      }
    }
    if (vpcGw) break;
  }
  if (!vpcGw && lanIp !== undefined) bad("no-vpc-port", `no port of router ${gw.vpc} on switch ${ls.name} has a network containing lanIp ${gw.lanIp}`, [gwPath, "vpc"]);

  // Routes: the VPC's other subnets via the VPC gateway, the default via net1.
  const routes: { cidr: string; dev: NatGatewayIface; via?: string; path?: Path }[] = [];
  if (vpcGw) {
    const seen = new Set<string>();
    for (const rpName of attached.keys()) {
      if (rpName === lanPortName) continue;
      const rp = lr.ports.get(rpName)!;
      rp.networks.forEach((n, i) => {
        const v = parseV4Net(n);
        if (!v) return;
        const cidr = networkText(v);
        if (seen.has(cidr)) return;
        seen.add(cidr);
        routes.push({ cidr, dev: "eth0", via: formatIpv4(vpcGw.ip), path: [`routers[${gw.vpc}]`, `ports[${rpName}]`, "networks", i] });
      });
    }
  }
  if (parseIpv4(gw.externalGateway) === undefined) bad("bad-ip", `externalGateway "${gw.externalGateway}" is not an IPv4 address`, [gwPath, "externalGateway"]);
  routes.push({ cidr: "0.0.0.0/0", dev: "net1", via: gw.externalGateway, path: [gwPath, "externalGateway"] });

  // Neighbours on eth0: what the lan switch's VIFs declare.
  const neighbors: { ip: string; mac: string; dev: NatGatewayIface }[] = [];
  for (const p of ls.ports.values()) {
    if (p.name === gw.lanPort || p.type !== "") continue;
    for (const a of p.addresses) {
      const pa = parsePortAddress(a);
      if (pa) for (const ip of pa.ipv4) neighbors.push({ ip, mac: pa.mac, dev: "eth0" });
    }
  }

  // EIPs and rules.
  const eipIp = (ref: string, path: Path): string | undefined => {
    const byKey = gw.eips.get(ref) ?? gw.eips.find((e) => e.name === ref);
    if (byKey) return byKey.ip;
    if (parseIpv4(ref) !== undefined) return ref;
    bad("unknown-eip", `EIP "${ref}" is neither an EIP of gateway ${name} nor an IPv4 address`, path);
    return undefined;
  };
  const eips = [...gw.eips.entries()].map(([k, e]) => ({ ip: e.ip, path: [gwPath, `eips[${k}]`, "ip"] as Path }));
  const fips: NatGatewayConfig["fips"][number][] = [];
  gw.fipRules.forEach((f, i) => {
    const path: Path = [gwPath, "fipRules", i];
    const eip = eipIp(f.eip, [...path, "eip"]);
    if (eip !== undefined) fips.push({ eip, internalIp: f.internalIp, path });
  });
  const dnats: NatGatewayConfig["dnats"][number][] = [];
  gw.dnatRules.forEach((d, i) => {
    const path: Path = [gwPath, "dnatRules", i];
    const eip = eipIp(d.eip, [...path, "eip"]);
    if (eip !== undefined) dnats.push({ eip, protocol: d.protocol, externalPort: d.externalPort, internalIp: d.internalIp, internalPort: d.internalPort, path });
  });
  const snats: NatGatewayConfig["snats"][number][] = [];
  gw.snatRules.forEach((s, i) => {
    const path: Path = [gwPath, "snatRules", i];
    const eip = eipIp(s.eip, [...path, "eip"]);
    if (eip !== undefined) snats.push({ eip, internalCidr: s.internalCidr, ...(s.randomFully ? { randomFully: true } : {}), path });
  });
  if (diags.length > 0 || !vpcGw || !lanMac) return fail(...diags);
  return ok({
    name,
    lanPort: gw.lanPort,
    lanMac,
    lanCidr: `${gw.lanIp}/${vpcGw.len}`,
    vpcGatewayIp: formatIpv4(vpcGw.ip),
    vpcGatewayMac: vpcGw.mac,
    externalMac: gw.externalMac,
    externalCidr: gw.externalCidr,
    externalGateway: gw.externalGateway,
    ...(opts.externalGatewayMac !== undefined ? { externalGatewayMac: opts.externalGatewayMac } : {}),
    eips,
    fips,
    dnats,
    snats,
    routes,
    neighbors,
    path: [gwPath],
  });
}
