/**
 * A model `NodeHost` (a Kubernetes node's host side: ovn0, the NIC, host routes and the host NAT
 * of Kube-OVN's natOutgoing) turned into the plain data the dataplane's host node runs on.
 *
 * What: `nodeHostConfig(net, name)` returns the `NodeHostConfig` (ofp/linux-config.ts) that the
 * dataplane's host node runs. It reads, as kube-ovn-cni sets up the host:
 * - ovn0: the MAC and IPv4 address of the host's switch port (its `addresses`), with the prefix of
 *   the router port on that switch whose network holds the address (Kube-OVN's `join` network);
 *   that router port's address and MAC are the join gateway, the next hop of the pod routes;
 * - the NIC: its name, the model's MAC or else the MAC of the chassis of the same name (the NIC that
 *   carries the node's tunnels, `chassisMac`), its address and default gateway;
 * - neighbours on ovn0: every address the ovn0 switch's VIFs declare (OVN answers ARP for them);
 * - the pod routes, ipsets (members with their owners) and centralized SNATs in model order, each
 *   with its model path, and `randomFully`.
 *
 * Every problem is a diagnostic with the model path of the field at fault.
 */
import { error, fail, formatIpv4, ipv4FromBytes, ipv4Mask, ok, parseCidr, parseIpv4, type Diagnostic, type Result } from "../base/index.js";
import type { Network } from "../model/index.js";
import { chassisMac } from "./physical.js";
import type { NodeHostConfig } from "../ofp/index.js";
import { parsePortAddress } from "./switch.js";

type Path = readonly (string | number)[];

/** The node host `name` of `net` as dataplane config; see the module header. */
export function nodeHostConfig(net: Network, name: string): Result<NodeHostConfig> {
  const hPath = `nodeHosts[${name}]`;
  const h = net.nodeHosts.get(name);
  if (!h) return fail(error("nodehost.unknown", `there is no node host named ${name}`, { path: ["nodeHosts"] }));
  const diags: Diagnostic[] = [];
  const bad = (code: string, message: string, path: Path): void => {
    diags.push(error(`nodehost.${code}`, message, { path }));
  };

  // ovn0: the switch port, its address, and the router port on its switch.
  const ls = net.switches.find((s) => s.ports.has(h.port));
  const lsp = ls?.ports.get(h.port);
  if (!ls || !lsp) return fail(error("nodehost.no-port", `ovn0 port ${h.port} is not a port of any switch`, { path: [hPath, "port"] }));
  let ovn0: { mac: string; ip: number } | undefined;
  for (const a of lsp.addresses) {
    const pa = parsePortAddress(a);
    const ip = pa?.ipv4[0] !== undefined ? parseIpv4(pa.ipv4[0]) : undefined;
    if (pa && ip !== undefined) {
      ovn0 = { mac: pa.mac, ip };
      break;
    }
  }
  if (!ovn0) return fail(error("nodehost.no-ovn0-address", `ovn0 port ${h.port} has no "MAC IPv4" address`, { path: [hPath, "port"] }));
  let joinGw: { ip: number; len: number; mac: string } | undefined;
  for (const p of ls.ports.values()) {
    const rpName = p.type === "router" ? p.options.get("router-port") : undefined;
    const rp = rpName === undefined ? undefined : net.routers.find((r) => r.ports.has(rpName))?.ports.get(rpName);
    if (!rp) continue;
    for (const n of rp.networks) {
      const c = parseCidr(n);
      if (!c || c.family !== 4) continue;
      const ip = ipv4FromBytes(c.addr);
      if (((ip ^ ovn0.ip) & ipv4Mask(c.prefixLen)) >>> 0 === 0) {
        joinGw = { ip, len: c.prefixLen, mac: rp.mac };
        break;
      }
    }
    if (joinGw) break;
  }
  if (!joinGw) bad("no-router-port", `no router port on switch ${ls.name} has a network containing ovn0's address ${formatIpv4(ovn0.ip)}`, [hPath, "port"]);

  // The NIC.
  const addr = parseCidr(h.address);
  if (!addr || addr.family !== 4 || !h.address.includes("/")) bad("bad-cidr", `address "${h.address}" is not "IPv4/PREFIX"`, [hPath, "address"]);
  const ch = net.chassis.get(name);
  const nicMac = h.nicMac !== "" ? h.nicMac : chassisMac(ch?.mac ?? "", ch?.encaps.first()?.ip ?? h.address.split("/")[0]);
  if (h.gateway !== "" && parseIpv4(h.gateway) === undefined) bad("bad-ip", `gateway "${h.gateway}" is not an IPv4 address`, [hPath, "gateway"]);

  // Neighbours on ovn0: what the switch's VIFs declare.
  const neighbors: { ip: string; mac: string; dev: string }[] = [];
  for (const p of ls.ports.values()) {
    if (p.name === h.port || p.type !== "") continue;
    for (const a of p.addresses) {
      const pa = parsePortAddress(a);
      if (pa) for (const ip of pa.ipv4) neighbors.push({ ip, mac: pa.mac, dev: "ovn0" });
    }
  }
  if (diags.length > 0 || !joinGw) return fail(...diags);
  return ok({
    name,
    port: h.port,
    ovn0Mac: ovn0.mac,
    ovn0Cidr: `${formatIpv4(ovn0.ip)}/${joinGw.len}`,
    joinGatewayIp: formatIpv4(joinGw.ip),
    joinGatewayMac: joinGw.mac,
    nic: h.nic,
    nicMac,
    nicCidr: h.address,
    ...(h.gateway !== "" ? { gateway: h.gateway } : {}),
    ...(h.gatewayMac !== "" ? { gatewayMac: h.gatewayMac } : {}),
    ovn0Routes: h.ovn0Routes.toArray().map((cidr, i) => ({ cidr, path: [hPath, "ovn0Routes", i] })),
    ipsets: h.ipsets
      .valueSeq()
      .map((s) => ({
        name: s.name,
        members: s.members.toArray().map((m, i) => ({ address: m.address, ...(m.owner !== "" ? { owner: m.owner } : {}), path: [hPath, `ipsets[${s.name}]`, "members", i] })),
      }))
      .toArray(),
    centralizedSnats: h.centralizedSnats.toArray().map((s, i) => ({ cidr: s.cidr, ip: s.ip, ...(s.owner !== "" ? { owner: s.owner } : {}), path: [hPath, "centralizedSnats", i] })),
    randomFully: h.randomFully,
    neighbors,
    path: [hPath],
  });
}
