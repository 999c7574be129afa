/**
 * Whole-network validation: every problem in a `Network`, each with the model path of its object.
 *
 * What: dangling references (port group members, switch load balancers, chassis bindings, and the
 * `$address_set` / `@port_group` names used in ACL matches; `$PG_ip4` and `$PG_ip6` name the
 * address sets ovn-northd derives from port group PG), port names used twice in the network,
 * MACs or IPs used twice within one switch, malformed addresses and port security, malformed load
 * balancer VIPs and backends, VLAN tags (1..4095, the NB `tag` column's range) and ACL priorities
 * out of range. Routers: port MACs and networks (the router's own address with its prefix), the
 * switch-to-router patches (`router-port`) and router-to-router `peer`s (both ends must agree),
 * static routes, policies (their matches go through the same checker as ACLs), NAT rules, gateway
 * chassis and HA chassis groups, static and learned MAC bindings, Kube-OVN NAT gateways (their
 * VPC, LAN port and address, and the EIPs their rules use), and node hosts (their `ovn0` port, NIC
 * address, routes, ipset entries and SNAT rules).
 *
 * Paths: keyed elements are written `kind[name]` and list elements by index, so a problem reads
 * `switches[ovn-default].ports[web-1].addresses[0]` once formatted (see base `formatPath`). Loaders
 * map these paths back to source locations, so every path produced here names a node that exists
 * in the model.
 *
 * Design: this layer imports only `base`, so it cannot parse OVN match expressions itself. The
 * caller passes a `MatchChecker` (the scenario loader passes one built on `expr`); without one, a
 * cheap scan finds `$name` and `@name` references and match syntax is not checked. Validation
 * never stops at the first problem and never throws.
 */
import { cidrIsNetwork, didYouMeanSuffix as hint, error, formatCidr, parseCidr, parseIpv4, parseIpv6, parseMac, type Cidr, type Diagnostic } from "../base/index.js";
import type { List } from "immutable";
import type { Acl, GatewayChassis, LoadBalancer, LogicalRouter, MacBinding, NatGateway, Network, NodeHost } from "./network.js";

/** What a match checker reports about one ACL match. */
export interface MatchCheck {
  /** Syntax or semantic errors, as messages (the caller attaches the path). */
  readonly errors: readonly string[];
  /** `$name` references. */
  readonly addressSets: readonly string[];
  /** `@name` references. */
  readonly portGroups: readonly string[];
}

/** Parses an OVN match and reports the sets it refers to. */
export type MatchChecker = (match: string) => MatchCheck;

export interface ValidateOptions {
  readonly checkMatch?: MatchChecker;
}

type Path = readonly (string | number)[];

/** The `$name` / `@name` references in a match, found without parsing (quoted strings skipped). */
export function scanMatchRefs(match: string): MatchCheck {
  const addressSets: string[] = [];
  const portGroups: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|([$@])([A-Za-z_.][A-Za-z0-9_.]*)/g;
  for (const m of match.matchAll(re)) {
    if (m[1] === "$") addressSets.push(m[2]!);
    else if (m[1] === "@") portGroups.push(m[2]!);
  }
  return { errors: [], addressSets, portGroups };
}

/** An IPv4 or IPv6 address (no prefix): its family and canonical text, or undefined. */
function parseIp(text: string): { family: 4 | 6; key: string } | undefined {
  if (parseIpv4(text) !== undefined) return { family: 4, key: text };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { family: 6, key: Array.from(v6).join(".") };
  return undefined;
}

/** An LB endpoint `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`. */
export interface LbEndpoint {
  readonly family: 4 | 6;
  readonly ip: string;
  readonly port: number | undefined;
}

/** Parses an LB VIP or backend; returns a message on failure. */
export function parseLbEndpoint(text: string): LbEndpoint | string {
  let ip = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return `"${text}" lacks the closing "]"`;
    ip = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return `"${text}" is not [IPv6]:PORT`;
      portText = rest.slice(1);
    }
    if (parseIpv6(ip) === undefined) return `"${ip}" is not an IPv6 address`;
  } else {
    const colons = text.split(":").length - 1;
    if (colons === 1) {
      ip = text.slice(0, text.indexOf(":"));
      portText = text.slice(text.indexOf(":") + 1);
    }
    if (colons > 1) {
      if (parseIpv6(text) === undefined) return `"${text}" is not an IP address (write IPv6 with a port as [IP]:PORT)`;
    } else if (parseIpv4(ip) === undefined) return `"${ip}" is not an IPv4 address`;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `port "${portText}" in "${text}" is not in 1..65535`;
    port = Number(portText);
  }
  const p = parseIp(ip);
  if (!p) return `"${ip}" is not an IP address`;
  return { family: p.family, ip, port };
}

const SELECTION_FIELDS: ReadonlySet<string> = new Set(["eth_src", "eth_dst", "ip_src", "ip_dst", "tp_src", "tp_dst"]);
const ACL_ACTIONS: ReadonlySet<string> = new Set(["allow", "allow-related", "allow-stateless", "drop", "reject"]);
const PORT_TYPES: ReadonlySet<string> = new Set(["", "router", "localnet", "remote", "localport", "external", "virtual", "l2gateway"]);
const ENCAP_TYPES: ReadonlySet<string> = new Set(["geneve", "vxlan", "stt"]);

/** Validates a whole network; an empty array means it is consistent. */
export function validateNetwork(net: Network, opts: ValidateOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const bad = (code: string, message: string, path: Path): void => {
    out.push(error(`model.${code}`, message, { path }));
  };
  const checkMatch = opts.checkMatch ?? scanMatchRefs;

  for (const [cname, ch] of net.chassis) {
    const base = [`chassis[${cname}]`];
    if (ch.name !== cname) bad("name-mismatch", `chassis is stored under "${cname}" but named "${ch.name}"`, base);
    ch.encaps.forEach((e, i) => {
      if (!ENCAP_TYPES.has(e.type)) bad("bad-encap", `encap type "${e.type}" is not one of geneve, vxlan, stt`, [...base, "encaps", i, "type"]);
      if (parseIp(e.ip) === undefined) bad("bad-ip", `encap IP "${e.ip}" is not an IP address`, [...base, "encaps", i, "ip"]);
    });
  }

  for (const [asName, as] of net.addressSets) {
    as.addresses.forEach((a, i) => {
      if (parseCidr(a) === undefined && parseMac(a) === undefined) bad("bad-address", `"${a}" is not an IP address, CIDR or MAC`, [`addressSets[${asName}]`, "addresses", i]);
    });
  }

  const checkAcl = (acl: Acl, path: Path): void => {
    if (!Number.isInteger(acl.priority) || acl.priority < 0 || acl.priority > 32767) bad("bad-priority", `ACL priority ${acl.priority} is not in 0..32767`, [...path, "priority"]);
    if (!ACL_ACTIONS.has(acl.action)) bad("bad-action", `ACL action "${acl.action}" is not one of ${[...ACL_ACTIONS].join(", ")}`, [...path, "action"]);
    if (acl.direction !== "from-lport" && acl.direction !== "to-lport") bad("bad-direction", `ACL direction "${String(acl.direction)}" is not from-lport or to-lport`, [...path, "direction"]);
    if (!Number.isInteger(acl.label) || acl.label < 0 || acl.label > 0xffffffff) bad("bad-label", `ACL label ${acl.label} is not in 0..4294967295`, [...path, "label"]);
    if (acl.name !== undefined && acl.name.length > 63) bad("bad-name", `ACL name is ${acl.name.length} characters long; OVN allows 63`, [...path, "name"]);
    const r = checkMatch(acl.match);
    for (const e of r.errors) bad("bad-match", `bad ACL match: ${e}`, [...path, "match"]);
    for (const a of r.addressSets) if (!hasAddressSet(net, a)) bad("dangling-address-set", `ACL match refers to address set "$${a}", which does not exist`, [...path, "match"]);
    for (const g of r.portGroups) if (!net.portGroups.has(g)) bad("dangling-port-group", `ACL match refers to port group "@${g}", which does not exist`, [...path, "match"]);
  };

  const portOwner = new Map<string, string>();
  /** Every port name (switch and router ports) → who owns it first, for duplicate reports. */
  const owners = new Map<string, string>();
  for (const [lsName, ls] of net.switches) {
    const sw = `switches[${lsName}]`;
    if (ls.name !== lsName) bad("name-mismatch", `switch is stored under "${lsName}" but named "${ls.name}"`, [sw]);
    const macs = new Map<string, string>();
    const ips = new Map<string, string>();
    for (const [pName, p] of ls.ports) {
      const pp = [sw, `ports[${pName}]`];
      if (p.name !== pName) bad("name-mismatch", `port is stored under "${pName}" but named "${p.name}"`, pp);
      const prev = portOwner.get(pName);
      if (prev !== undefined) bad("duplicate-port", `port name "${pName}" is already used on switch "${prev}"`, pp);
      else portOwner.set(pName, lsName);
      owners.set(pName, owners.get(pName) ?? `switch "${lsName}"`);
      if (!PORT_TYPES.has(p.type)) bad("bad-port-type", `port type "${p.type}" is not one of ${[...PORT_TYPES].map((t) => t || '""').join(", ")}`, [...pp, "type"]);
      p.addresses.forEach((a, i) => {
        const ap = [...pp, "addresses", i];
        const words = a.trim().split(/\s+/);
        if (words.length === 1 && (words[0] === "unknown" || words[0] === "router" || words[0] === "dynamic")) {
          if (words[0] === "router" && p.type !== "router") bad("bad-address", `"router" addresses are only valid on router-type ports`, ap);
          return;
        }
        const mac = parseMac(words[0]!);
        if (!mac) {
          bad("bad-mac", `"${words[0]}" is not a MAC address (expected "MAC [IP...]", "unknown", "router" or "dynamic")`, ap);
          return;
        }
        const macKey = Array.from(mac).join(":");
        const mOwner = macs.get(macKey);
        if (mOwner !== undefined && mOwner !== pName) bad("duplicate-mac", `MAC ${words[0]} is already used by port "${mOwner}" on this switch`, ap);
        else macs.set(macKey, pName);
        if (mac[0]! & 1) bad("bad-mac", `MAC ${words[0]} is a multicast address`, ap);
        for (const w of words.slice(1)) {
          if (w === "dynamic") continue;
          // OVN also takes "IP/PREFIX" here (ovn-ic writes remote ports' addresses that way).
          const slash = w.indexOf("/");
          const ip = slash < 0 ? parseIp(w) : parseCidr(w) && parseIp(w.slice(0, slash));
          if (!ip) {
            bad("bad-ip", `"${w}" is not an IP address or IP/PREFIX`, ap);
            continue;
          }
          const iOwner = ips.get(ip.key);
          if (iOwner !== undefined && iOwner !== pName) bad("duplicate-ip", `IP ${w} is already used by port "${iOwner}" on this switch`, ap);
          else ips.set(ip.key, pName);
        }
      });
      p.portSecurity.forEach((s, i) => {
        const sp = [...pp, "portSecurity", i];
        const words = s.trim().split(/\s+/);
        if (!parseMac(words[0]!)) {
          bad("bad-mac", `"${words[0]}" is not a MAC address (expected "MAC [IP[/PREFIX]...]")`, sp);
          return;
        }
        for (const w of words.slice(1)) if (parseCidr(w) === undefined) bad("bad-cidr", `"${w}" is not an IP address or CIDR`, sp);
      });
      if (p.tag !== undefined && (!Number.isInteger(p.tag) || p.tag < 1 || p.tag > 4095)) bad("bad-tag", `VLAN tag ${p.tag} is not in 1..4095`, [...pp, "tag"]);
      if (p.chassis !== undefined && !net.chassis.has(p.chassis)) bad("dangling-chassis", `port is bound to chassis "${p.chassis}", which does not exist`, [...pp, "chassis"]);
      if (p.type === "localnet" && !p.options.has("network_name")) bad("missing-option", `localnet port needs options.network_name`, [...pp, "options"]);
      if (p.tunnelKey !== undefined && (!Number.isInteger(p.tunnelKey) || p.tunnelKey < 1 || p.tunnelKey > 32767)) bad("bad-tunnel-key", `tunnel key ${p.tunnelKey} is not in 1..32767`, [...pp, "tunnelKey"]);
    }
    ls.acls.forEach((acl, i) => checkAcl(acl, [sw, "acls", i]));
    ls.loadBalancers.forEach((lb, i) => {
      if (!net.loadBalancers.has(lb)) bad("dangling-load-balancer", `load balancer "${lb}" does not exist`, [sw, "loadBalancers", i]);
    });
    if (ls.tunnelKey !== undefined && (!Number.isInteger(ls.tunnelKey) || ls.tunnelKey < 1 || ls.tunnelKey > 16777215)) bad("bad-tunnel-key", `tunnel key ${ls.tunnelKey} is not in 1..16777215`, [sw, "tunnelKey"]);
  }

  for (const [pgName, pg] of net.portGroups) {
    const base = `portGroups[${pgName}]`;
    pg.ports.forEach((p, i) => {
      if (!portOwner.has(p)) bad("dangling-port", `port group member "${p}" is no switch port${hint(p, portOwner.keys())}`, [base, "ports", i]);
    });
    pg.acls.forEach((acl, i) => checkAcl(acl, [base, "acls", i]));
  }

  for (const [lbName, lb] of net.loadBalancers) validateLb(lb, [`loadBalancers[${lbName}]`], bad);

  const checkChassisList = (list: List<GatewayChassis>, path: Path): void => {
    const seen = new Set<string>();
    list.forEach((gc, i) => {
      if (!net.chassis.has(gc.chassis)) bad("dangling-chassis", `chassis "${gc.chassis}" does not exist`, [...path, i, "chassis"]);
      if (seen.has(gc.chassis)) bad("duplicate-chassis", `chassis "${gc.chassis}" is listed twice`, [...path, i, "chassis"]);
      seen.add(gc.chassis);
      if (!Number.isInteger(gc.priority) || gc.priority < 0 || gc.priority > 32767) bad("bad-priority", `priority ${gc.priority} is not in 0..32767`, [...path, i, "priority"]);
    });
  };
  for (const [gName, g] of net.haChassisGroups) {
    const base = [`haChassisGroups[${gName}]`];
    if (g.name !== gName) bad("name-mismatch", `HA chassis group is stored under "${gName}" but named "${g.name}"`, base);
    checkChassisList(g.chassis, [...base, "chassis"]);
  }

  // Router ports first, so that switch ports of type router can be checked against them.
  const routerPortOwner = new Map<string, string>();
  for (const [lrName, lr] of net.routers) {
    for (const pName of lr.ports.keys()) {
      const prev = owners.get(pName);
      if (prev !== undefined) bad("duplicate-port", `port name "${pName}" is already used on ${prev}`, [`routers[${lrName}]`, `ports[${pName}]`]);
      else {
        owners.set(pName, `router "${lrName}"`);
        routerPortOwner.set(pName, lrName);
      }
    }
  }
  /** Router port → the switch port patched to it. */
  const switchPeer = new Map<string, string>();
  for (const [lsName, ls] of net.switches) {
    for (const [pName, p] of ls.ports) {
      if (p.type !== "router") continue;
      const pp = [`switches[${lsName}]`, `ports[${pName}]`];
      const rp = p.options.get("router-port");
      if (rp === undefined) {
        bad("missing-option", `router-type port needs options.router-port naming a router port`, [...pp, "options"]);
        continue;
      }
      if (!routerPortOwner.has(rp)) {
        bad("dangling-router-port", `options.router-port names "${rp}", which is no router port`, [...pp, "options"]);
        continue;
      }
      const other = switchPeer.get(rp);
      if (other !== undefined) bad("duplicate-peer", `router port "${rp}" is already attached to switch port "${other}"`, [...pp, "options"]);
      else switchPeer.set(rp, pName);
    }
  }
  for (const [lrName, lr] of net.routers) validateRouter(net, lrName, lr, { bad, checkMatch, routerPortOwner, switchPeer, checkChassisList });

  const checkBindings = (list: List<MacBinding>, key: "staticMacBindings" | "macBindings"): void => {
    const seen = new Set<string>();
    list.forEach((mb, i) => {
      const path = [key, i];
      if (!routerPortOwner.has(mb.logicalPort)) bad("dangling-port", `"${mb.logicalPort}" is no router port`, [...path, "logicalPort"]);
      const ip = parseIp(mb.ip);
      if (!ip) bad("bad-ip", `"${mb.ip}" is not an IP address`, [...path, "ip"]);
      else {
        const k = `${mb.logicalPort}|${ip.key}`;
        if (seen.has(k)) bad("duplicate-binding", `port "${mb.logicalPort}" already has a binding for ${mb.ip}`, [...path, "ip"]);
        seen.add(k);
      }
      checkUnicastMac(mb.mac, [...path, "mac"], bad);
      if (key === "macBindings" && mb.overrideDynamicMac) bad("bad-value", `a learned (Southbound) MAC binding has no override_dynamic_mac`, [...path, "overrideDynamicMac"]);
    });
  };
  checkBindings(net.staticMacBindings, "staticMacBindings");
  checkBindings(net.macBindings, "macBindings");

  for (const [gwName, gw] of net.natGateways) validateNatGateway(net, gwName, gw, bad);
  const hostOfPort = new Map<string, string>();
  for (const [hName, h] of net.nodeHosts) {
    validateNodeHost(net, hName, h, bad);
    const other = hostOfPort.get(h.port);
    if (other !== undefined) bad("duplicate-port", `switch port "${h.port}" is already ovn0 of node host "${other}"`, [`nodeHosts[${hName}]`, "port"]);
    else hostOfPort.set(h.port, hName);
  }
  return out;
}

type Bad = (code: string, message: string, path: Path) => void;

/** An address set of the network, or one ovn-northd derives from a port group (`PG_ip4`, `PG_ip6`). */
function hasAddressSet(net: Network, name: string): boolean {
  if (net.addressSets.has(name)) return true;
  return /_ip[46]$/.test(name) && net.portGroups.has(name.slice(0, -4));
}

function checkUnicastMac(text: string, path: Path, bad: Bad): void {
  const mac = parseMac(text);
  if (!mac) bad("bad-mac", `"${text}" is not a MAC address`, path);
  else if (mac[0]! & 1) bad("bad-mac", `MAC ${text} is a multicast address`, path);
}

/** `IP/PREFIX` where IP is a host inside the prefix, as router port networks and NAT gateway interfaces are written. */
function checkHostCidr(text: string, path: Path, bad: Bad): Cidr | undefined {
  const c = text.includes("/") ? parseCidr(text) : undefined;
  if (!c) {
    bad("bad-cidr", `"${text}" is not "IP/PREFIX"`, path);
    return undefined;
  }
  const hostBits = (c.family === 4 ? 32 : 128) - c.prefixLen;
  if (hostBits >= 2 && cidrIsNetwork(c)) {
    bad("bad-cidr", `"${text}" is the network address itself; give the interface's own address in the prefix`, path);
    return undefined;
  }
  return c;
}

/** True when the prefix `c` contains the address `ip`. */
function cidrContains(c: Cidr, ip: string): boolean {
  const a = parseCidr(ip);
  if (!a || a.family !== c.family) return false;
  for (let bit = 0; bit < c.prefixLen; bit++) {
    const m = 7 - (bit & 7);
    if (((a.addr[bit >>> 3]! >>> m) & 1) !== ((c.addr[bit >>> 3]! >>> m) & 1)) return false;
  }
  return true;
}

interface RouterCtx {
  readonly bad: Bad;
  readonly checkMatch: MatchChecker;
  readonly routerPortOwner: ReadonlyMap<string, string>;
  readonly switchPeer: ReadonlyMap<string, string>;
  readonly checkChassisList: (list: List<GatewayChassis>, path: Path) => void;
}

const NAT_TYPES: ReadonlySet<string> = new Set(["snat", "dnat", "dnat_and_snat"]);
const POLICY_ACTIONS: ReadonlySet<string> = new Set(["allow", "drop", "reroute"]);

function validateRouter(net: Network, lrName: string, lr: LogicalRouter, ctx: RouterCtx): void {
  const { bad } = ctx;
  const base = [`routers[${lrName}]`];
  if (lr.name !== lrName) bad("name-mismatch", `router is stored under "${lrName}" but named "${lr.name}"`, base);
  if (lr.tunnelKey !== undefined && (!Number.isInteger(lr.tunnelKey) || lr.tunnelKey < 1 || lr.tunnelKey > 16777215)) bad("bad-tunnel-key", `tunnel key ${lr.tunnelKey} is not in 1..16777215`, [...base, "tunnelKey"]);
  lr.loadBalancers.forEach((lb, i) => {
    if (!net.loadBalancers.has(lb)) bad("dangling-load-balancer", `load balancer "${lb}" does not exist`, [...base, "loadBalancers", i]);
  });

  for (const [pName, p] of lr.ports) {
    const pp = [...base, `ports[${pName}]`];
    if (p.name !== pName) bad("name-mismatch", `router port is stored under "${pName}" but named "${p.name}"`, pp);
    checkUnicastMac(p.mac, [...pp, "mac"], bad);
    if (p.networks.size === 0) bad("missing-field", `router port needs at least one network ("IP/PREFIX")`, pp);
    p.networks.forEach((n, i) => checkHostCidr(n, [...pp, "networks", i], bad));
    if (p.peer !== undefined) {
      const peerRouter = net.routers.get(ctx.routerPortOwner.get(p.peer) ?? "");
      const peer = peerRouter?.ports.get(p.peer);
      if (!peer) bad("dangling-peer", `peer "${p.peer}" is no router port`, [...pp, "peer"]);
      else if (peer.peer !== pName) bad("peer-not-mutual", `peer "${p.peer}" has ${peer.peer === undefined ? "no peer" : `peer "${peer.peer}"`}, not "${pName}"`, [...pp, "peer"]);
      const sw = ctx.switchPeer.get(pName);
      if (sw !== undefined) bad("duplicate-peer", `router port has peer "${p.peer}" and is also attached to switch port "${sw}"`, [...pp, "peer"]);
    }
    ctx.checkChassisList(p.gatewayChassis, [...pp, "gatewayChassis"]);
    if (p.haChassisGroup !== undefined) {
      if (!net.haChassisGroups.has(p.haChassisGroup)) bad("dangling-ha-chassis-group", `HA chassis group "${p.haChassisGroup}" does not exist`, [...pp, "haChassisGroup"]);
      if (p.gatewayChassis.size > 0) bad("conflict", `a port takes gatewayChassis or haChassisGroup, not both`, [...pp, "haChassisGroup"]);
    }
    if (p.tunnelKey !== undefined && (!Number.isInteger(p.tunnelKey) || p.tunnelKey < 1 || p.tunnelKey > 32767)) bad("bad-tunnel-key", `tunnel key ${p.tunnelKey} is not in 1..32767`, [...pp, "tunnelKey"]);
  }

  const routes = new Set<string>();
  lr.staticRoutes.forEach((r, i) => {
    const rp = [...base, "staticRoutes", i];
    if (r.policy !== "dst-ip" && r.policy !== "src-ip") bad("bad-value", `route policy "${String(r.policy)}" is not dst-ip or src-ip`, [...rp, "policy"]);
    const prefix = parseCidr(r.ipPrefix);
    if (!prefix) bad("bad-cidr", `"${r.ipPrefix}" is not an IP address or prefix`, [...rp, "ipPrefix"]);
    else if (!cidrIsNetwork(prefix)) bad("bad-cidr", `"${r.ipPrefix}" has host bits set; write the prefix as ${formatCidr(zeroHostBits(prefix))}`, [...rp, "ipPrefix"]);
    if (r.nexthop !== "discard") {
      const nh = parseIp(r.nexthop);
      if (!nh) bad("bad-ip", `next hop "${r.nexthop}" is not an IP address or "discard"`, [...rp, "nexthop"]);
      else if (prefix && nh.family !== prefix.family) bad("bad-ip", `next hop ${r.nexthop} is IPv${nh.family} but prefix ${r.ipPrefix} is IPv${prefix.family}`, [...rp, "nexthop"]);
    } else if (r.outputPort !== undefined) bad("bad-value", `a discard route takes no outputPort`, [...rp, "outputPort"]);
    if (r.outputPort !== undefined && !lr.ports.has(r.outputPort)) bad("dangling-port", `output port "${r.outputPort}" is no port of router "${lrName}"`, [...rp, "outputPort"]);
    const key = `${r.routeTable}|${r.policy}|${r.ipPrefix}|${r.nexthop}|${r.outputPort ?? ""}`;
    if (routes.has(key)) bad("duplicate-route", `the same route (prefix, next hop, policy, table) is listed twice`, rp);
    routes.add(key);
  });

  const policies = new Set<string>();
  lr.policies.forEach((pol, i) => {
    const pp = [...base, "policies", i];
    if (!Number.isInteger(pol.priority) || pol.priority < 0 || pol.priority > 32767) bad("bad-priority", `policy priority ${pol.priority} is not in 0..32767`, [...pp, "priority"]);
    if (!POLICY_ACTIONS.has(pol.action)) bad("bad-action", `policy action "${pol.action}" is not one of allow, drop, reroute`, [...pp, "action"]);
    const m = ctx.checkMatch(pol.match);
    for (const e of m.errors) bad("bad-match", `bad policy match: ${e}`, [...pp, "match"]);
    for (const a of m.addressSets) if (!hasAddressSet(net, a)) bad("dangling-address-set", `policy match refers to address set "$${a}", which does not exist`, [...pp, "match"]);
    for (const g of m.portGroups) if (!net.portGroups.has(g)) bad("dangling-port-group", `policy match refers to port group "@${g}", which does not exist`, [...pp, "match"]);
    if (pol.action === "reroute" && pol.nexthops.size === 0) bad("missing-field", `a reroute policy needs at least one next hop`, pp);
    if (pol.action !== "reroute" && pol.nexthops.size > 0) bad("bad-value", `only reroute policies take next hops`, [...pp, "nexthops"]);
    pol.nexthops.forEach((nh, j) => {
      if (!parseIp(nh)) bad("bad-ip", `next hop "${nh}" is not an IP address`, [...pp, "nexthops", j]);
    });
    const key = `${pol.priority}|${pol.match}`;
    if (policies.has(key)) bad("duplicate-policy", `another policy has the same priority and match`, pp);
    policies.add(key);
  });

  lr.nat.forEach((n, i) => {
    const np = [...base, "nat", i];
    if (!NAT_TYPES.has(n.type)) bad("bad-value", `NAT type "${n.type}" is not one of snat, dnat, dnat_and_snat`, [...np, "type"]);
    const ext = parseIp(n.externalIp);
    if (!ext) bad("bad-ip", `external IP "${n.externalIp}" is not an IP address`, [...np, "externalIp"]);
    const logical = n.type === "snat" ? parseCidr(n.logicalIp) : parseIp(n.logicalIp) && parseCidr(n.logicalIp);
    if (!logical) bad("bad-ip", `logical IP "${n.logicalIp}" is not an IP address${n.type === "snat" ? " or prefix" : " (a prefix is allowed only for snat)"}`, [...np, "logicalIp"]);
    else if (!cidrIsNetwork(logical)) bad("bad-cidr", `logical IP "${n.logicalIp}" has host bits set; write the prefix as ${formatCidr(zeroHostBits(logical))}`, [...np, "logicalIp"]);
    else if (ext && logical.family !== ext.family) bad("bad-ip", `external IP ${n.externalIp} and logical IP ${n.logicalIp} are of different families`, [...np, "logicalIp"]);
    if ((n.externalMac === undefined) !== (n.logicalPort === undefined)) {
      const [has, lacks] = n.externalMac === undefined ? ["logicalPort", "externalMac"] : ["externalMac", "logicalPort"];
      bad("missing-field", `a distributed NAT needs both externalMac and logicalPort; ${has} is set without ${lacks}`, [...np, has]);
    } else if (n.externalMac !== undefined && n.type !== "dnat_and_snat") bad("bad-value", `externalMac and logicalPort are only for dnat_and_snat`, [...np, "externalMac"]);
    if (n.externalMac !== undefined) checkUnicastMac(n.externalMac, [...np, "externalMac"], bad);
    if (n.logicalPort !== undefined && !net.switches.some((ls) => ls.ports.has(n.logicalPort!))) bad("dangling-port", `logical port "${n.logicalPort}" is no switch port`, [...np, "logicalPort"]);
    if (n.externalPortRange !== undefined) {
      const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(n.externalPortRange);
      const lo = m ? Number(m[1]) : 0;
      const hi = m ? Number(m[2] ?? m[1]) : 0;
      if (!m || lo < 1 || hi > 65535 || lo > hi) bad("bad-value", `external port range "${n.externalPortRange}" is not "LOW-HIGH" within 1..65535`, [...np, "externalPortRange"]);
    }
    if (n.stateless && n.type !== "dnat_and_snat") bad("bad-value", `only dnat_and_snat can be stateless`, [...np, "stateless"]);
    if (n.options.has("stateless")) bad("bad-value", `options.stateless is written as the NAT's own "stateless" field`, [...np, "options"]);
    if (n.gatewayPort !== undefined) {
      const gp = lr.ports.get(n.gatewayPort);
      if (!gp) bad("dangling-port", `gateway port "${n.gatewayPort}" is no port of router "${lrName}"`, [...np, "gatewayPort"]);
      else if (gp.gatewayChassis.size === 0 && gp.haChassisGroup === undefined) bad("bad-value", `gateway port "${n.gatewayPort}" is not a distributed gateway port (it has no gatewayChassis or haChassisGroup)`, [...np, "gatewayPort"]);
    }
    for (const k of ["allowedExtIps", "exemptedExtIps"] as const) {
      const as = n[k];
      if (as !== undefined && !net.addressSets.has(as)) bad("dangling-address-set", `address set "${as}" does not exist`, [...np, k]);
    }
    if (n.allowedExtIps !== undefined && n.exemptedExtIps !== undefined) bad("conflict", `a NAT takes allowedExtIps or exemptedExtIps, not both`, [...np, "exemptedExtIps"]);
  });
}

function zeroHostBits(c: Cidr): Cidr {
  const addr = new Uint8Array(c.addr);
  for (let bit = c.prefixLen; bit < addr.length * 8; bit++) addr[bit >>> 3]! &= ~(1 << (7 - (bit & 7)));
  return { ...c, addr };
}

function validateNatGateway(net: Network, gwName: string, gw: NatGateway, bad: Bad): void {
  const base = [`natGateways[${gwName}]`];
  if (gw.name !== gwName) bad("name-mismatch", `NAT gateway is stored under "${gwName}" but named "${gw.name}"`, base);
  const vpc = net.routers.get(gw.vpc);
  if (!vpc) bad("dangling-router", `VPC router "${gw.vpc}" does not exist`, [...base, "vpc"]);
  const lanIp = parseIp(gw.lanIp);
  if (!lanIp) bad("bad-ip", `"${gw.lanIp}" is not an IP address`, [...base, "lanIp"]);
  const ls = net.switches.find((s) => s.ports.has(gw.lanPort));
  if (!ls) bad("dangling-port", `LAN port "${gw.lanPort}" is no switch port`, [...base, "lanPort"]);
  else {
    if (vpc && !ls.ports.some((p) => p.type === "router" && vpc.ports.has(p.options.get("router-port") ?? ""))) bad("not-attached", `LAN port "${gw.lanPort}" is on switch "${ls.name}", which is not attached to router "${gw.vpc}"`, [...base, "lanPort"]);
    const port = ls.ports.get(gw.lanPort)!;
    const has = port.addresses.some((a) => a.trim().split(/\s+/).slice(1).some((w) => lanIp !== undefined && parseIp(w)?.key === lanIp.key));
    if (lanIp && !has) bad("bad-ip", `LAN port "${gw.lanPort}" has no address ${gw.lanIp}`, [...base, "lanIp"]);
  }
  checkUnicastMac(gw.externalMac, [...base, "externalMac"], bad);
  const ext = checkHostCidr(gw.externalCidr, [...base, "externalCidr"], bad);
  const gwIp = parseIp(gw.externalGateway);
  if (!gwIp) bad("bad-ip", `external gateway "${gw.externalGateway}" is not an IP address`, [...base, "externalGateway"]);
  else if (ext && !cidrContains(ext, gw.externalGateway)) bad("bad-ip", `external gateway ${gw.externalGateway} is outside ${gw.externalCidr}`, [...base, "externalGateway"]);
  for (const [eName, e] of gw.eips) {
    if (e.name !== eName) bad("name-mismatch", `EIP is stored under "${eName}" but named "${e.name}"`, [...base, `eips[${eName}]`]);
    if (!parseIp(e.ip)) bad("bad-ip", `EIP "${e.ip}" is not an IP address`, [...base, `eips[${eName}]`, "ip"]);
  }
  const eipOf = (name: string, path: Path): void => {
    if (!gw.eips.has(name)) bad("dangling-eip", `EIP "${name}" is not defined on this gateway`, path);
  };
  gw.snatRules.forEach((r, i) => {
    const rp = [...base, "snatRules", i];
    eipOf(r.eip, [...rp, "eip"]);
    const c = parseCidr(r.internalCidr);
    if (!c) bad("bad-cidr", `"${r.internalCidr}" is not an IP address or prefix`, [...rp, "internalCidr"]);
  });
  gw.dnatRules.forEach((r, i) => {
    const rp = [...base, "dnatRules", i];
    eipOf(r.eip, [...rp, "eip"]);
    if (r.protocol !== "tcp" && r.protocol !== "udp") bad("bad-protocol", `protocol "${String(r.protocol)}" is not tcp or udp`, [...rp, "protocol"]);
    for (const k of ["externalPort", "internalPort"] as const) {
      if (!Number.isInteger(r[k]) || r[k] < 1 || r[k] > 65535) bad("bad-port", `${k} ${r[k]} is not in 1..65535`, [...rp, k]);
    }
    if (!parseIp(r.internalIp)) bad("bad-ip", `"${r.internalIp}" is not an IP address`, [...rp, "internalIp"]);
  });
  gw.fipRules.forEach((r, i) => {
    const rp = [...base, "fipRules", i];
    eipOf(r.eip, [...rp, "eip"]);
    if (!parseIp(r.internalIp)) bad("bad-ip", `"${r.internalIp}" is not an IP address`, [...rp, "internalIp"]);
  });
}

/** An IPv4 address or prefix (`hash:net` entries, routes, SNAT sources). */
function checkIpv4Prefix(text: string, path: Path, bad: Bad, what: string): void {
  const c = parseCidr(text);
  if (!c || c.family !== 4) bad("bad-cidr", `${what} "${text}" is not an IPv4 address or prefix`, path);
}

/** An ipset name: at most 31 characters (IPSET_MAXNAMELEN - 1), no blanks. */
const IPSET_NAME = /^[^\s]{1,31}$/;

function validateNodeHost(net: Network, hName: string, h: NodeHost, bad: Bad): void {
  const base = [`nodeHosts[${hName}]`];
  if (h.name !== hName) bad("name-mismatch", `node host is stored under "${hName}" but named "${h.name}"`, base);
  const ls = net.switches.find((s) => s.ports.has(h.port));
  if (!ls) bad("dangling-port", `ovn0 port "${h.port}" is no switch port`, [...base, "port"]);
  else {
    const p = ls.ports.get(h.port)!;
    if (p.type !== "") bad("bad-port-type", `ovn0 port "${h.port}" is of type "${p.type}"; it must be a VIF (type "")`, [...base, "port"]);
    else if (!p.addresses.some((a) => a.trim().split(/\s+/).slice(1).some((w) => parseIpv4(w) !== undefined))) bad("bad-ip", `ovn0 port "${h.port}" has no "MAC IPv4" address`, [...base, "port"]);
  }
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(h.nic)) bad("bad-value", `NIC name "${h.nic}" is not an interface name (1..15 characters)`, [...base, "nic"]);
  if (h.nicMac !== "") checkUnicastMac(h.nicMac, [...base, "nicMac"], bad);
  const addr = checkHostCidr(h.address, [...base, "address"], bad);
  if (addr && addr.family !== 4) bad("bad-cidr", `"${h.address}" is not IPv4 (node hosts are IPv4 only)`, [...base, "address"]);
  if (h.gateway !== "" && parseIpv4(h.gateway) === undefined) bad("bad-ip", `gateway "${h.gateway}" is not an IPv4 address`, [...base, "gateway"]);
  if (h.gatewayMac !== "") {
    checkUnicastMac(h.gatewayMac, [...base, "gatewayMac"], bad);
    if (h.gateway === "") bad("bad-value", `gatewayMac is given but gateway is not`, [...base, "gatewayMac"]);
  }
  h.ovn0Routes.forEach((r, i) => checkIpv4Prefix(r, [...base, "ovn0Routes", i], bad, "route"));
  for (const [sName, set] of h.ipsets) {
    const sp = [...base, `ipsets[${sName}]`];
    if (set.name !== sName) bad("name-mismatch", `ipset is stored under "${sName}" but named "${set.name}"`, sp);
    if (!IPSET_NAME.test(sName)) bad("bad-value", `ipset name "${sName}" is not 1..31 characters without blanks`, [...sp, "name"]);
    set.members.forEach((e, i) => checkIpv4Prefix(e.address, [...sp, "members", i, "address"], bad, "ipset entry"));
  }
  h.centralizedSnats.forEach((r, i) => {
    checkIpv4Prefix(r.cidr, [...base, "centralizedSnats", i, "cidr"], bad, "SNAT source");
    if (parseIpv4(r.ip) === undefined) bad("bad-ip", `SNAT address "${r.ip}" is not an IPv4 address`, [...base, "centralizedSnats", i, "ip"]);
  });
}

function validateLb(lb: LoadBalancer, base: Path, bad: Bad): void {
  if (lb.protocol !== "tcp" && lb.protocol !== "udp" && lb.protocol !== "sctp") bad("bad-protocol", `protocol "${String(lb.protocol)}" is not tcp, udp or sctp`, [...base, "protocol"]);
  lb.selectionFields.forEach((f, i) => {
    if (!SELECTION_FIELDS.has(f)) bad("bad-selection-field", `selection field "${f}" is not one of ${[...SELECTION_FIELDS].join(", ")}`, [...base, "selectionFields", i]);
  });
  for (const [vipText, backends] of lb.vips) {
    const vp = [...base, `vips[${vipText}]`];
    const vip = parseLbEndpoint(vipText);
    if (typeof vip === "string") {
      bad("bad-vip", `bad VIP: ${vip}`, vp);
      continue;
    }
    backends.forEach((b, i) => {
      const be = parseLbEndpoint(b);
      const bp = [...vp, i];
      if (typeof be === "string") bad("bad-backend", `bad backend: ${be}`, bp);
      else if (be.family !== vip.family) bad("bad-backend", `backend ${b} is IPv${be.family} but VIP ${vipText} is IPv${vip.family}`, bp);
      else if ((be.port === undefined) !== (vip.port === undefined)) bad("bad-backend", `backend ${b} and VIP ${vipText} must both have a port or both have none`, bp);
    });
  }
}
