/**
 * The physical layout of a network: per chassis, what ovn-controller would compute from the
 * Southbound database (DESIGN.md §4), and the fabric between chassis.
 *
 * What: `compilePhysical(net)` gives a `PhysicalPlan`: for every chassis of this availability zone
 * the logical program compiled with `is_chassis_resident()` decided there, where an ingress
 * `output` to each logical port goes from there (`Placement`), its VIFs, usable localnet ports and
 * tunnel ports with OpenFlow port numbers, and its physical flows (tables 0, 37 to 41, 64, 65)
 * as text for display; the provider networks with their gateways; the hosts the underlay can reach.
 *
 * Rules (OVN 23.03's controller/physical.c):
 * - A VIF bound here, a patch port, a localport and a localnet port whose network has a bridge
 *   mapping here are local. A gateway router's ports are local only on its `options:chassis`, a
 *   chassis-redirect port only on its active gateway chassis; elsewhere they are remote.
 * - A port bound to another chassis (a gateway router's switch-side port too), on a switch with a
 *   usable localnet port here, is reached
 *   through that localnet port (table 40 rewrites the outport); otherwise through a tunnel to its
 *   chassis (table 39), carrying the datapath key and the port keys in the encapsulation.
 * - A port bound nowhere has no flow: output to it is dropped.
 * - Tunnels go to every other chassis with an encap, but to another zone's (`is-remote`) only from
 *   an OVN-IC gateway (`is-interconn`), as encaps.c builds them.
 * - Chassis MACs (`macMappings`, `ovn-chassis-mac-mappings`): on output to a localnet port, a frame
 *   from one of its switch's router port MACs gets this chassis's MAC on the network, unless the
 *   port's chassis-redirect port is active here; on input from a localnet port of a switch with a
 *   router port, a frame from any other chassis's MAC gets the first router port's MAC
 *   (`ChassisMacRules`).
 * - VXLAN mode (any chassis with a VXLAN encap, as ovn-northd decides it) limits datapath keys to
 *   12 bits (1..4095) and port keys to 11 bits (1..2047, the upper half of the 12-bit field
 *   encodes multicast groups). A network beyond those limits is refused here, naming the limit.
 *
 * Ports get OpenFlow port numbers in model order: VIFs first, then localnet patch ports, then
 * tunnels. These numbers are this program's; a real br-int numbers ports in creation order.
 */
import { error, fail, formatMac, ipv4FromBytes, ok, parseCidr, parseIpv4, parseMac, type Diagnostic, type Result } from "../base/index.js";
import type { Network, RouterPort } from "../model/index.js";
import {
  NO_CHASSIS_MACS,
  OFTABLE,
  flowId,
  parseMacWords,
  type ChassisMacRules,
  type MacOf,
  type LocalnetAttachment,
  type LogicalProgram,
  type PhysicalChassis,
  type PhysicalFlow,
  type PhysicalPlan,
  type PhysicalProviderNetwork,
  type Placement,
  type TunnelPort,
  type TunnelType,
  type UnderlayHost,
  type VifAttachment,
  servedWhereEntered,
} from "../ofp/index.js";
import { announcedEntry } from "./announcements.js";
import { compileNetwork, gatewayChassisOf, residentChassis } from "./compile.js";
import { isDgp, routerPortOf, switchPeerOf } from "./router-lrp.js";

/** VXLAN's limits in OVN's VXLAN mode. */
export const VXLAN_LIMITS = { maxDatapathKey: 4095, maxPortKey: 2047 } as const;

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The MAC of a chassis's NIC: the configured one, else 02:00 followed by its first encap IPv4 address. */
export function chassisMac(mac: string, encapIp: string | undefined): string {
  if (mac) return mac;
  const ip = encapIp === undefined ? undefined : parseIpv4(encapIp);
  if (ip === undefined) return "02:00:00:00:00:00";
  const b = [(ip >>> 24) & 255, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return ["02", "00", ...b.map((x) => x.toString(16).padStart(2, "0"))].join(":");
}

/**
 * The TPID ovn-controller pushes with a localnet port's tag: 0x88a8 when its `options:ethtype` is
 * `802.11ad` (OVN's spelling of 802.1ad; any case), else 0x8100 (`802.11q`, the default, and
 * anything else, which ovn-controller warns about).
 */
export function localnetTpid(options: { get(k: string): string | undefined }): number {
  return (options.get("ethtype") ?? "").toLowerCase() === "802.11ad" ? 0x88a8 : 0x8100;
}

/** ovn-controller's tunnel port name for a remote chassis (`ovn-` + the chassis name, cut to fit IFNAMSIZ). */
export function tunnelPortName(remote: string): string {
  return `ovn-${remote.slice(0, 6)}-0`;
}

/** The chassis each logical port of a gateway router lives on (the router's `options:chassis`). */
function gatewayRouterChassis(net: Network): Map<string, string> {
  const out = new Map<string, string>();
  for (const lr of net.routers.values()) {
    const ch = lr.options.get("chassis");
    if (ch === undefined) continue;
    for (const p of lr.ports.values()) {
      out.set(p.name, ch);
      const peer = switchPeerOf(net, p.name);
      if (peer) out.set(peer.port.name, ch);
    }
  }
  return out;
}

/**
 * The datapaths ovn-controller on chassis `me` treats as local (local_data.c), which it installs
 * flows for: those with a port bound here (a VIF, a gateway router's port, a chassis-redirect port
 * whose gateway chassis include this one), and every datapath reached from one through patch
 * ports, except across a distributed gateway port that always redirects (its router has no
 * distributed NAT and it is not `redirect-type=bridged`) to gateway chassis other than this one,
 * and across a gateway router's links (l3gateway bindings) anywhere but on the router's chassis
 * (`need_add_peer_to_local`).
 */
function localDatapaths(net: Network, me: string, program: LogicalProgram, gwRouterChassis: ReadonlyMap<string, string>): Set<number> {
  const here = (p: RouterPort): boolean => gatewayChassisOf(net, p).some((g) => g.chassis === me);
  const dgp = new Map<string, RouterPort>();
  const alwaysRedirect = new Set<string>();
  for (const lr of net.routers.values()) {
    const distributedNat = lr.nat.some((n) => n.type === "dnat_and_snat" && n.logicalPort !== undefined && n.externalMac !== undefined);
    for (const p of lr.ports.values()) {
      if (!isDgp(p)) continue;
      dgp.set(p.name, p);
      if (!distributedNat && p.options.get("redirect-type") !== "bridged") alwaysRedirect.add(p.name);
    }
  }
  const local = new Set<number>();
  const todo: number[] = [];
  const add = (dp: number | undefined): void => {
    if (dp === undefined || local.has(dp)) return;
    local.add(dp);
    todo.push(dp);
  };
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      if (p.type !== "" && p.type !== "virtual" && p.type !== "external" && p.type !== "l2gateway") continue;
      if (residentChassis(net, p.name) === me) add(program.portByName.get(p.name)?.datapath);
    }
  }
  for (const [port, chassis] of gwRouterChassis) if (chassis === me) add(program.portByName.get(port)?.datapath);
  for (const p of dgp.values()) if (here(p)) add(program.portByName.get(p.name)?.datapath);
  for (let dp = todo.pop(); dp !== undefined; dp = todo.pop()) {
    for (const p of program.datapaths.get(dp)?.ports.values() ?? []) {
      if (!p.peer) continue;
      // A link of a gateway router (l3gateway bindings) is followed only on the router's chassis.
      const gw = gwRouterChassis.get(p.name);
      if (gw !== undefined && gw !== me) continue;
      const d = dgp.get(p.name);
      if (d !== undefined && alwaysRedirect.has(p.name) && !here(d)) continue;
      add(p.peer.datapath);
    }
  }
  return local;
}

function checkVxlan(net: Network, program: LogicalProgram, via: string): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const dp of program.datapaths.values()) {
    const kind = dp.kind === "switch" ? "switches" : "routers";
    if (dp.key > VXLAN_LIMITS.maxDatapathKey) {
      diags.push(
        error(
          "physical.vxlan-datapath-key",
          `${dp.kind} ${dp.name} has datapath tunnel key ${dp.key}, beyond VXLAN's 12-bit datapath key limit of ${VXLAN_LIMITS.maxDatapathKey} (the network is in VXLAN mode because ${via})`,
          { path: [`${kind}[${dp.name}]`, "tunnelKey"] },
        ),
      );
    }
    for (const p of dp.ports.values()) {
      if (p.key <= VXLAN_LIMITS.maxPortKey) continue;
      diags.push(
        error(
          "physical.vxlan-port-key",
          `port ${p.name} of ${dp.kind} ${dp.name} has tunnel key ${p.key}, beyond VXLAN's limit of ${VXLAN_LIMITS.maxPortKey} for port keys (12 bits, half of them for multicast groups; the network is in VXLAN mode because ${via})`,
          { path: [`${kind}[${dp.name}]`, `ports[${p.name.startsWith("cr-") ? p.name.slice(3) : p.name}]`, "tunnelKey"] },
        ),
      );
    }
  }
  return diags;
}

/** Compiles the physical plan of `net`; every chassis that is not remote gets its tables. */
export function compilePhysical(net: Network): Result<PhysicalPlan> {
  // Read for its ports and tunnel keys, and as a remote chassis's program: lowered only where
  // read (each local chassis's own compilation below lowers, and checks, every flow).
  const base = compileNetwork(net, { lazy: true });
  if (!base.ok) return base;
  const diags: Diagnostic[] = [];
  const vx = net.chassis.find((c) => c.encaps.some((e) => e.type === "vxlan"));
  if (vx) diags.push(...checkVxlan(net, base.value.program, `chassis ${vx.name} has a vxlan encap`));
  net.chassis.forEach((c) => {
    c.encaps.forEach((e, i) => {
      if (parseIpv4(e.ip) === undefined) diags.push(error("physical.encap-ip", `encap IP ${JSON.stringify(e.ip)} is not an IPv4 address`, { path: [`chassis[${c.name}]`, "encaps", i, "ip"] }));
      if (e.type === "stt" && i === 0) diags.push(error("physical.stt", "STT tunnels are not simulated; give the chassis a geneve or vxlan encap first", { path: [`chassis[${c.name}]`, "encaps", i, "type"] }));
    });
    if (c.mac && !parseMac(c.mac)) diags.push(error("physical.chassis-mac", `MAC ${JSON.stringify(c.mac)} is not a MAC address`, { path: [`chassis[${c.name}]`, "mac"] }));
    c.macMappings.forEach((mac, network) => {
      if (!parseMac(mac)) diags.push(error("physical.chassis-mac-mapping", `chassis MAC ${JSON.stringify(mac)} for provider network ${network} is not a MAC address`, { path: [`chassis[${c.name}]`, "macMappings", network] }));
    });
  });
  const providerNetworks = new Map<string, PhysicalProviderNetwork>();
  for (const pn of net.providerNetworks.values()) {
    const gateways = pn.gateways.toArray().flatMap((g, i) => {
      const c = parseCidr(g.address);
      const path = [`providerNetworks[${pn.name}]`, "gateways", i];
      if (!c || c.family !== 4) {
        diags.push(error("physical.gateway-address", `gateway address ${JSON.stringify(g.address)}: expected IPv4 "IP/PREFIX"`, { path: [...path, "address"] }));
        return [];
      }
      if (!parseMac(g.mac)) {
        diags.push(error("physical.gateway-mac", `gateway MAC ${JSON.stringify(g.mac)} is not a MAC address`, { path: [...path, "mac"] }));
        return [];
      }
      return [{ vlan: g.vlan, ip: ipv4FromBytes(c.addr), plen: c.prefixLen, mac: g.mac.toLowerCase() }];
    });
    providerNetworks.set(pn.name, { name: pn.name, gateways });
  }
  if (diags.length) return fail(...diags);

  const gwRouterChassis = gatewayRouterChassis(net);
  const chassis = new Map<string, PhysicalChassis>();
  for (const ch of net.chassis.values()) {
    if (ch.isRemote) {
      const encap = ch.encaps.first();
      chassis.set(ch.name, {
        name: ch.name,
        hostname: ch.hostname,
        remote: true,
        encap: encap ? { type: encap.type as TunnelType, ip: encap.ip } : undefined,
        mac: chassisMac(ch.mac, encap?.ip),
        program: base.value.program,
        placement: new Map(),
        vifs: new Map(),
        localnets: new Map(),
        localDatapaths: new Set(),
        tunnels: new Map(),
        chassisMacs: NO_CHASSIS_MACS,
        flows: new Map(),
      });
      continue;
    }
    const compiled = compileNetwork(net, { chassis: ch.name });
    if (!compiled.ok) return compiled;
    chassis.set(ch.name, chassisPlan(net, ch.name, compiled.value.program, gwRouterChassis));
  }
  return ok({ zone: net.name, chassis, vxlanMode: vx !== undefined, providerNetworks, underlayHosts: underlayHosts(net) });
}

function underlayHosts(net: Network): UnderlayHost[] {
  const out: UnderlayHost[] = [];
  for (const ls of net.switches.values()) {
    const ln = ls.ports.find((p) => p.type === "localnet");
    const network = ln?.options.get("network_name");
    if (!ln || network === undefined) continue;
    const vlan = ln.tag ?? 0;
    for (const p of ls.ports.values()) {
      if (p.type === "router") {
        const lrp = routerPortOf(net, p)?.port;
        if (!lrp) continue;
        for (const n of lrp.networks) {
          const c = parseCidr(n);
          if (c && c.family === 4) out.push({ port: p.name, ip: ipv4FromBytes(c.addr), mac: lrp.mac.toLowerCase(), network, vlan });
        }
        continue;
      }
      if (p.type !== "" && p.type !== "virtual" && p.type !== "external") continue;
      for (const a of p.addresses) {
        const [mac, ...ips] = a.trim().split(/\s+/);
        if (!mac || !parseMac(mac)) continue;
        for (const ip of ips) {
          const v = parseIpv4(ip.split("/")[0]!);
          if (v !== undefined) out.push({ port: p.name, ip: v, mac: mac.toLowerCase(), network, vlan });
        }
      }
    }
  }
  return out;
}

function chassisPlan(net: Network, me: string, program: LogicalProgram, gwRouterChassis: ReadonlyMap<string, string>): PhysicalChassis {
  const self = net.chassis.get(me)!;
  const encap = self.encaps.first();
  const local = localDatapaths(net, me, program, gwRouterChassis);
  let ofport = 1;
  const vifs = new Map<string, VifAttachment>();
  const localnets = new Map<number, LocalnetAttachment>();
  const tunnels = new Map<string, TunnelPort>();
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      if (p.type !== "" && p.type !== "virtual" && p.type !== "external") continue;
      if (residentChassis(net, p.name) !== me) continue;
      const lp = program.portByName.get(p.name);
      if (lp) vifs.set(p.name, { name: p.name, datapath: lp.datapath, port: lp.key, ofport: ofport++ });
    }
  }
  for (const ls of net.switches.values()) {
    for (const p of ls.ports.values()) {
      if (p.type !== "localnet") continue;
      const network = p.options.get("network_name");
      const bridge = network === undefined ? undefined : self.bridgeMappings.get(network);
      const lp = program.portByName.get(p.name);
      if (bridge === undefined || !lp || network === undefined || localnets.has(lp.datapath) || !local.has(lp.datapath)) continue;
      const learned = [...(announcedMacOwners(net).get(ls.name) ?? [])].flatMap(([mac, where]) => (where === me ? [macOf(mac)!] : []));
      localnets.set(lp.datapath, { name: p.name, datapath: lp.datapath, port: lp.key, network, vlan: p.tag ?? 0, tpid: localnetTpid(p.options), bridge, nic: self.nics.get(bridge) ?? "", ofport: ofport++, learned });
    }
  }
  for (const other of net.chassis.values()) {
    const e = other.encaps.first();
    if (other.name === me || !e) continue;
    // Another zone's chassis is reached only from this zone's interconnection gateways.
    if (other.isRemote && !self.isInterconn) continue;
    tunnels.set(other.name, { remote: other.name, type: e.type as TunnelType, remoteIp: e.ip, ofport: ofport++, portName: tunnelPortName(other.name) });
  }

  const placement = new Map<number, Map<number, Placement>>();
  const place = (dp: number, port: number, p: Placement): void => {
    let m = placement.get(dp);
    if (!m) placement.set(dp, (m = new Map()));
    m.set(port, p);
  };
  const toChassis = (where: string | undefined, what: string): Placement => {
    if (where === undefined) return { kind: "none", why: `${what} is not bound to any chassis` };
    if (where === me) return { kind: "local" };
    if (!tunnels.has(where)) {
      const remote = net.chassis.get(where)?.isRemote === true && !self.isInterconn;
      return { kind: "none", why: `${what} is on chassis ${where}, which has no tunnel from ${me}${remote ? ` (a chassis of another zone: only an OVN-IC gateway, is-interconn, has tunnels to one)` : ""}` };
    }
    return { kind: "tunnel", chassis: where };
  };
  for (const dp of program.datapaths.values()) {
    const ln = localnets.get(dp.key);
    for (const p of dp.ports.values()) {
      const gw = gwRouterChassis.get(p.name);
      if (gw !== undefined) {
        // A gateway router's port on another chassis is a remote port like any other: reached
        // through the switch's localnet port when it has one (ovn-controller's physical.c).
        if (gw !== me && ln) place(dp.key, p.key, { kind: "localnet", port: ln.port });
        else place(dp.key, p.key, toChassis(gw, `port ${p.name} of gateway router`));
        continue;
      }
      switch (p.type) {
        case "router":
        case "patch":
        case "localport":
          break;
        case "localnet":
          if (ln?.port !== p.key) place(dp.key, p.key, { kind: "none", why: `localnet port ${p.name}: chassis ${me} has no bridge mapping for its network` });
          break;
        case "chassisredirect": {
          const where = residentChassis(net, p.name);
          const bridged = where === me ? undefined : bridgedRedirect(net, program, localnets, p.name);
          place(dp.key, p.key, bridged === undefined ? toChassis(where, `gateway port ${p.name}`) : typeof bridged === "string" ? { kind: "none", why: bridged } : { ...bridged, chassis: where });
          break;
        }
        case "remote":
          place(dp.key, p.key, toChassis(residentChassis(net, p.name), `remote port ${p.name}`));
          break;
        default: {
          const where = residentChassis(net, p.name);
          if (where === me) break;
          if (ln) place(dp.key, p.key, { kind: "localnet", port: ln.port });
          else place(dp.key, p.key, toChassis(where, `port ${p.name}`));
        }
      }
    }
  }
  const c: PhysicalChassis = {
    name: me,
    hostname: self.hostname,
    remote: false,
    encap: encap ? { type: encap.type as TunnelType, ip: encap.ip } : undefined,
    mac: chassisMac(self.mac, encap?.ip),
    program,
    placement,
    vifs,
    localnets,
    localDatapaths: local,
    tunnels,
    chassisMacs: chassisMacRules(net, me, localnets),
    flows: new Map(),
  };
  return { ...c, flows: physicalFlows(c, program) };
}

/**
 * Where output to chassis-redirect port `cr` goes from a chassis it is not active on, when its
 * gateway port has `redirect-type=bridged`: the localnet port of the gateway port's switch, or why
 * there is none (ovn-controller then installs no flow, and the packet is dropped). Undefined for
 * a gateway port without the option.
 */
function bridgedRedirect(net: Network, program: LogicalProgram, localnets: ReadonlyMap<number, LocalnetAttachment>, cr: string): Omit<Placement & { kind: "bridged" }, "chassis"> | string | undefined {
  const name = cr.slice(3);
  let lrp: RouterPort | undefined;
  for (const lr of net.routers.values()) lrp ??= lr.ports.get(name);
  if (!lrp || (lrp.options.get("redirect-type") ?? "").toLowerCase() !== "bridged") return undefined;
  const peer = switchPeerOf(net, name);
  const ls = peer === undefined ? undefined : program.portByName.get(peer.port.name)?.datapath;
  const ln = ls === undefined ? undefined : localnets.get(ls);
  const mac = macOf(lrp.mac);
  if (!ln || ls === undefined || !mac) return `gateway port ${cr} (redirect-type=bridged) is active elsewhere, and ${peer ? `switch ${peer.ls.name}` : `${name}'s switch`} has no localnet port usable here to reach it`;
  return { kind: "bridged", datapath: ls, port: ln.port, mac: mac.text, words: mac.words };
}

/** Per network (immutable, so the result never goes stale): `announcedMacOwners`. */
const announcedOwners = new WeakMap<Network, ReadonlyMap<string, ReadonlyMap<string, string>>>();

/**
 * The MACs ovn-controller announces by gratuitous ARP on a switch with a localnet port, and the
 * chassis it announces each from (switch name → MAC as `formatMac` writes it → chassis), the
 * first port to claim a MAC keeping it:
 * - each enabled VIF's announced MAC (`announcedEntry`), from the chassis it is bound to
 *   (pinctrl.c `send_garp_rarp_update`). A disabled VIF has none: the announcement enters its own
 *   ingress pipeline, which drops everything from a disabled port (external ports are not
 *   checked, and keep theirs);
 * - a router port's MAC where northd puts it in the switch port's `nat_addresses` for that
 *   (`add_router_port_garp`): a distributed gateway port's, from its active gateway chassis; a
 *   port with `reside-on-redirect-chassis` of a router with one distributed gateway port, from
 *   that port's; a gateway router's, from the router's chassis. Where that chassis has a chassis
 *   MAC for the network, the announcement leaves with it instead (replay/provider-segments.ts).
 * A provider network's bridges and switches learn these before any packet: a chassis's provider
 * bridge has the MACs it announces behind the localnet port's patch port
 * (`LocalnetAttachment.learned`).
 */
export function announcedMacOwners(net: Network): ReadonlyMap<string, ReadonlyMap<string, string>> {
  const known = announcedOwners.get(net);
  if (known) return known;
  const out = new Map<string, Map<string, string>>();
  for (const ls of net.switches.values()) {
    const owned = new Map<string, string>();
    const claim = (text: string | undefined, where: string | undefined): void => {
      const mac = parseMac(text ?? "");
      if (mac !== undefined && where !== undefined && !owned.has(formatMac(mac))) owned.set(formatMac(mac), where);
    };
    for (const p of ls.ports.values()) {
      if (p.type !== "" && p.type !== "virtual" && p.type !== "external") continue;
      if (!p.enabled && p.type !== "external") continue;
      claim(announcedEntry(p.addresses)?.mac, residentChassis(net, p.name));
    }
    for (const p of ls.ports.values()) {
      const r = p.type === "" || p.type === "virtual" || p.type === "external" ? undefined : routerPortOf(net, p);
      if (!r) continue;
      const dgps = [...r.lr.ports.values()].filter(isDgp);
      let where: string | undefined;
      if (dgps.length > 0) {
        if (isDgp(r.port)) where = residentChassis(net, `cr-${r.port.name}`);
        else if (r.port.options.get("reside-on-redirect-chassis") === "true" && dgps.length === 1) where = residentChassis(net, `cr-${dgps[0]!.name}`);
      } else where = r.lr.options.get("chassis");
      claim(r.port.mac, where);
    }
    out.set(ls.name, owned);
  }
  announcedOwners.set(net, out);
  return out;
}

function macOf(text: string): MacOf | undefined {
  const words = parseMacWords(text);
  return words === undefined ? undefined : { text: text.toLowerCase(), words: [words[0]!, words[1]!] };
}

/**
 * The chassis-MAC rewrites on chassis `me` (controller/physical.c): for each localnet port here,
 * the router ports of its switch that ovn-controller records as the switch's peers here
 * (local_data.c `need_add_peer_to_local`), in model order: every distributed router's port, and a
 * gateway router's only on the gateway router's own chassis (its switch port is an l3gateway
 * port, a peer only where it is bound).
 */
function chassisMacRules(net: Network, me: string, localnets: ReadonlyMap<number, LocalnetAttachment>): ChassisMacRules {
  const remote: (MacOf & { chassis: string })[] = [];
  for (const other of net.chassis.values()) {
    if (other.name === me) continue;
    for (const text of other.macMappings.values()) {
      const m = macOf(text);
      if (m) remote.push({ ...m, chassis: other.name });
    }
  }
  const own = net.chassis.get(me)?.macMappings;
  const ingress = new Map<number, Map<number, MacOf & { port: string }>>();
  const egress = new Map<number, Map<number, { from: (MacOf & { port: string })[]; to: MacOf }>>();
  if (!remote.length && !own?.size) return NO_CHASSIS_MACS;
  for (const ln of localnets.values()) {
    const ls = net.switches.find((s) => s.ports.has(ln.name));
    if (!ls) continue;
    const peers: (MacOf & { port: string })[] = [];
    for (const p of ls.ports.values()) {
      const peer = routerPortOf(net, p);
      const gatewayChassis = peer?.lr.options.get("chassis");
      if (!peer || (gatewayChassis !== undefined && gatewayChassis !== me)) continue;
      const m = macOf(peer.port.mac);
      if (m) peers.push({ ...m, port: peer.port.name });
    }
    if (!peers.length) continue;
    if (remote.length) ingress.set(ln.datapath, new Map([[ln.port, peers[0]!]]));
    const mine = own?.get(ln.network);
    const to = mine === undefined ? undefined : macOf(mine);
    // A router port whose chassis-redirect port is active here sends with its own MAC.
    const from = peers.filter((p) => residentChassis(net, `cr-${p.port}`) !== me);
    if (to && from.length) egress.set(ln.datapath, new Map([[ln.port, { from, to }]]));
  }
  return { remote, ingress, egress };
}

const regs09 = Array.from({ length: 10 }, (_, i) => `load:0->NXM_NX_REG${i}[]`).join(",");

/** The physical flows of one chassis, keyed by id (see `flowId`), in table order. */
function physicalFlows(c: PhysicalChassis, program: LogicalProgram): Map<string, PhysicalFlow> {
  const flows: [string, PhysicalFlow][] = [];
  const add = (id: string, table: number, priority: number, match: string, actions: string, note: string): void => {
    flows.push([id, { table, priority, match, actions, note }]);
  };
  const dpMatch = (dp: number, port: number): string => `reg15=${hex(port)},metadata=${hex(dp)}`;
  for (const v of c.vifs.values()) {
    add(flowId.vifIn(v.name), OFTABLE.PHY_TO_LOG, 100, `in_port=${v.ofport}`, `load:${hex(v.datapath)}->OXM_OF_METADATA[],load:${hex(v.port)}->NXM_NX_REG14[],resubmit(,${OFTABLE.LOG_INGRESS})`, `from VIF ${v.name}`);
  }
  for (const l of c.localnets.values()) {
    const m = l.vlan ? `in_port=${l.ofport},dl_vlan=${l.vlan}` : `in_port=${l.ofport},vlan_tci=0x0000/0x1000`;
    add(flowId.localnetIn(l.name), OFTABLE.PHY_TO_LOG, l.vlan ? 150 : 100, m, `${l.vlan ? "strip_vlan," : ""}load:${hex(l.datapath)}->OXM_OF_METADATA[],load:${hex(l.port)}->NXM_NX_REG14[],resubmit(,${OFTABLE.LOG_INGRESS})`, `from provider network ${l.network} (${l.bridge}) on localnet port ${l.name}`);
  }
  // Chassis MACs (OVN's conjunction id 100): a remote chassis's MAC coming in on a localnet port
  // gets the router port's MAC back.
  const CONJ = 100;
  const seenMac = new Set<string>();
  for (const r of c.chassisMacs.remote) {
    if (seenMac.has(r.text)) continue;
    seenMac.add(r.text);
    add(flowId.chassisMacSrc(r.text), OFTABLE.PHY_TO_LOG, 180, `dl_src=${r.text}`, `conjunction(${CONJ},1/2)`, `the MAC of chassis ${r.chassis} on a provider network`);
  }
  for (const l of c.localnets.values()) {
    const back = c.chassisMacs.ingress.get(l.datapath)?.get(l.port);
    if (!back) continue;
    const vlanMatch = l.vlan ? `dl_vlan=${l.vlan}` : "vlan_tci=0x0000/0x1000";
    add(flowId.chassisMacVlan(l.vlan), OFTABLE.PHY_TO_LOG, 180, vlanMatch, `conjunction(${CONJ},2/2)`, l.vlan ? `VLAN ${l.vlan}` : "untagged");
    add(
      flowId.chassisMacIn(l.name),
      OFTABLE.PHY_TO_LOG,
      180,
      `conj_id=${CONJ},in_port=${l.ofport},${vlanMatch}`,
      `${l.vlan ? "strip_vlan," : ""}load:${hex(l.datapath)}->OXM_OF_METADATA[],load:${hex(l.port)}->NXM_NX_REG14[],set_field:${back.text}->eth_src,resubmit(,${OFTABLE.LOG_INGRESS})`,
      `from provider network ${l.network} on localnet port ${l.name}, sent by another chassis for router port ${back.port}: its MAC back`,
    );
  }
  for (const t of c.tunnels.values()) {
    const acts =
      t.type === "vxlan"
        ? `move:NXM_NX_TUN_ID[12..23]->NXM_NX_REG15[0..11],move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11],resubmit(,${OFTABLE.LOCAL_OUTPUT})`
        : `move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,${OFTABLE.LOCAL_OUTPUT})`;
    add(flowId.tunnelIn(t.remote), OFTABLE.PHY_TO_LOG, 100, `in_port=${t.ofport}`, acts, `from ${t.type} tunnel ${t.portName} (chassis ${t.remote})`);
  }
  add(flowId.catchAll(OFTABLE.PHY_TO_LOG), OFTABLE.PHY_TO_LOG, 0, "", "drop", "anything else");
  for (const dp of program.datapaths.values()) {
    if (!c.localDatapaths.has(dp.key)) continue;
    const pl = c.placement.get(dp.key);
    for (const p of dp.ports.values()) {
      const where = pl?.get(p.key) ?? { kind: "local" as const };
      const m = dpMatch(dp.key, p.key);
      switch (where.kind) {
        case "tunnel": {
          const t = c.tunnels.get(where.chassis)!;
          add(flowId.remote(dp.key, p.key), OFTABLE.REMOTE_OUTPUT, 100, m, `${encapActions(t.type, dp.key, p.key)},output:${t.ofport}`, `${p.name} is on chassis ${where.chassis}`);
          break;
        }
        case "localnet":
          add(flowId.local(dp.key, p.key), OFTABLE.LOCAL_OUTPUT, 100, m, `load:${hex(where.port)}->NXM_NX_REG15[],resubmit(,${OFTABLE.LOCAL_OUTPUT})`, `${p.name} is on another chassis, reached through the localnet port`);
          break;
        case "none":
          break;
        case "bridged":
          add(
            flowId.local(dp.key, p.key),
            OFTABLE.LOCAL_OUTPUT,
            100,
            m,
            `set_field:${where.mac}->eth_src,set_field:${hex(where.datapath)}->metadata,set_field:${hex(where.port)}->reg15,resubmit(,${OFTABLE.LOG_TO_PHY})`,
            `${p.name} is active on ${where.chassis ?? "no chassis"}: redirect-type=bridged sends the packet there over the provider network, to the gateway port's MAC`,
          );
          break;
        case "local": {
          if (p.type === "chassisredirect") {
            const dist = program.portByName.get(p.name.slice(3));
            add(flowId.local(dp.key, p.key), OFTABLE.LOCAL_OUTPUT, 100, m, `load:${hex(dist?.key ?? 0)}->NXM_NX_REG15[],resubmit(,${OFTABLE.CHECK_LOOPBACK})`, `${p.name} is active here: output to its distributed port`);
            break;
          }
          add(flowId.local(dp.key, p.key), OFTABLE.LOCAL_OUTPUT, 100, m, `resubmit(,${OFTABLE.CHECK_LOOPBACK})`, `${p.name} is local`);
          add(flowId.loopback(dp.key, p.key), OFTABLE.CHECK_LOOPBACK, 100, `reg10=0/0x1,reg14=${hex(p.key)},${m}`, "drop", `no hairpin to ${p.name}`);
          const out = logToPhy(c, program, dp.key, p);
          if (out) add(flowId.toPhy(dp.key, p.key), OFTABLE.LOG_TO_PHY, 100, m, out.actions, out.note);
          const swap = c.chassisMacs.egress.get(dp.key)?.get(p.key);
          const ln = c.localnets.get(dp.key);
          for (const f of swap && ln ? swap.from : []) {
            const tag = ln!.vlan ? [`push_vlan:${hex(ln!.tpid)},set_field:${4096 | ln!.vlan}->vlan_vid`] : [];
            const acts = [`set_field:${swap!.to.text}->eth_src`, ...tag, `output:${ln!.ofport}`, `set_field:${f.text}->eth_src`, ...(ln!.vlan ? ["strip_vlan"] : [])];
            add(flowId.toPhyChassisMac(dp.key, p.key, f.text), OFTABLE.LOG_TO_PHY, 150, `${m},dl_src=${f.text}`, acts.join(","), `from router port ${f.port}: leaves with this chassis's MAC on ${ln!.network}`);
          }
        }
      }
    }
    for (const g of dp.multicast.values()) {
      const remote = new Set<string>();
      // Local output serves packets from tunnels too; remote output only those that entered here.
      const local: string[] = [];
      const here: string[] = [];
      for (const k of g.ports) {
        const w = pl?.get(k) ?? { kind: "local" as const };
        const port = dp.ports.get(k);
        const toPort = `load:${hex(k)}->NXM_NX_REG15[]`;
        if (w.kind === "tunnel" && port?.type === "remote") {
          // OVN-IC's port in another zone: a copy addressed to it, not to the group.
          const t = c.tunnels.get(w.chassis)!;
          here.push(`${toPort},${encapActions(t.type, dp.key, k)},output:${t.ofport}`);
        } else if (w.kind === "tunnel" && !c.localnets.has(dp.key)) remote.add(w.chassis);
        else if (w.kind === "local") (port !== undefined && servedWhereEntered(dp, port) ? here : local).push(`${toPort},resubmit(,${OFTABLE.CHECK_LOOPBACK})`);
      }
      const m = dpMatch(dp.key, g.key);
      const toGroup = `load:${hex(g.key)}->NXM_NX_REG15[]`;
      if (local.length) add(flowId.local(dp.key, g.key), OFTABLE.LOCAL_OUTPUT, 100, m, `${local.join(",")},${toGroup}`, `${g.name}: its local members`);
      if (remote.size || here.length) {
        const outs = [...remote].map((r) => {
          const t = c.tunnels.get(r)!;
          return `${encapActions(t.type, dp.key, g.key)},output:${t.ofport}`;
        });
        const acts = [...here, ...(here.length ? [toGroup] : []), ...outs, ...(local.length ? [`resubmit(,${OFTABLE.LOCAL_OUTPUT})`] : [])];
        const note = remote.size ? `one copy to each chassis with members (${[...remote].join(", ")})` : "its members served where the packet entered";
        add(flowId.remote(dp.key, g.key), OFTABLE.REMOTE_OUTPUT, 100, m, acts.join(","), `${g.name}: ${note}`);
      }
    }
  }
  add(flowId.catchAll(OFTABLE.OUTPUT_LARGE_PKT_DETECT), OFTABLE.OUTPUT_LARGE_PKT_DETECT, 0, "", `resubmit(,${OFTABLE.REMOTE_OUTPUT})`, "no packet-size check: on to output");
  add(`${OFTABLE.OUTPUT_LARGE_PKT_PROCESS}/loopback`, OFTABLE.OUTPUT_LARGE_PKT_PROCESS, 10, "reg10=0x1/0x1", `resubmit(,${OFTABLE.LOCAL_OUTPUT})`, "flags.loopback: output locally");
  add(flowId.catchAll(OFTABLE.OUTPUT_LARGE_PKT_PROCESS), OFTABLE.OUTPUT_LARGE_PKT_PROCESS, 0, "", `resubmit(,${OFTABLE.REMOTE_OUTPUT})`, "on to output");
  add(flowId.catchAll(OFTABLE.REMOTE_OUTPUT), OFTABLE.REMOTE_OUTPUT, 0, "", `resubmit(,${OFTABLE.LOCAL_OUTPUT})`, "not remote: output locally");
  add(flowId.catchAll(OFTABLE.LOCAL_OUTPUT), OFTABLE.LOCAL_OUTPUT, 0, "", "drop", "no local port");
  add(flowId.catchAll(OFTABLE.CHECK_LOOPBACK), OFTABLE.CHECK_LOOPBACK, 0, "", `${regs09},resubmit(,${OFTABLE.LOG_EGRESS})`, "into the egress pipeline");
  add(flowId.catchAll(OFTABLE.SAVE_INPORT), OFTABLE.SAVE_INPORT, 0, "", `resubmit(,${OFTABLE.LOG_TO_PHY})`, "");
  const rank = (f: PhysicalFlow): number => f.table * 100000 - f.priority;
  flows.sort((a, b) => rank(a[1]) - rank(b[1]));
  return new Map(flows);
}

function encapActions(type: TunnelType, dp: number, port: number): string {
  if (type === "vxlan") {
    const p12 = port >= 32768 ? 0x800 | (port & 0x7ff) : port;
    return `load:${hex(dp | (p12 << 12))}->NXM_NX_TUN_ID[0..23]`;
  }
  return `load:${hex(dp)}->NXM_NX_TUN_ID[0..23],set_field:${hex(port)}->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]`;
}

function logToPhy(c: PhysicalChassis, program: LogicalProgram, dp: number, p: { name: string; key: number; type: string; peer?: { datapath: number; port: number } }): { actions: string; note: string } | undefined {
  const vif = c.vifs.get(p.name);
  if (vif) return { actions: `output:${vif.ofport}`, note: `to VIF ${p.name}` };
  const ln = c.localnets.get(dp);
  if (ln && ln.port === p.key) {
    return { actions: `${ln.vlan ? `push_vlan:${hex(ln.tpid)},set_field:${4096 | ln.vlan}->vlan_vid,` : ""}output:${ln.ofport}`, note: `to provider network ${ln.network} through ${ln.bridge}${ln.nic ? ` (${ln.nic})` : ""}${ln.vlan ? `, VLAN ${ln.vlan}` : ""}` };
  }
  if (p.peer) {
    const peerDp = program.datapaths.get(p.peer.datapath);
    const peerPort = peerDp?.ports.get(p.peer.port);
    return {
      actions: `clone(ct_clear,load:0->NXM_NX_REG11[],load:0->NXM_NX_REG12[],load:0->NXM_NX_REG13[],load:${hex(p.peer.datapath)}->OXM_OF_METADATA[],load:${hex(p.peer.port)}->NXM_NX_REG14[],load:0->NXM_NX_REG10[],load:0->NXM_NX_REG15[],${regs09},resubmit(,${OFTABLE.LOG_INGRESS}))`,
      note: `patch to ${peerPort?.name ?? hex(p.peer.port)} of ${peerDp?.name ?? hex(p.peer.datapath)}`,
    };
  }
  return undefined;
}
