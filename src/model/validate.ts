/**
 * Whole-network validation: every problem in a `Network`, each with the model path of its object.
 *
 * What: dangling references (port group members, switch load balancers, chassis bindings, and the
 * `$address_set` / `@port_group` names used in ACL matches), port names used twice in the network,
 * MACs or IPs used twice within one switch, malformed addresses and port security, malformed load
 * balancer VIPs and backends, VLAN tags (1..4095, the NB `tag` column's range) and ACL priorities
 * out of range.
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
import { error, parseCidr, parseIpv4, parseIpv6, parseMac, type Diagnostic } from "../base/index.js";
import type { Acl, LoadBalancer, Network } from "./network.js";

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
    for (const a of r.addressSets) if (!net.addressSets.has(a)) bad("dangling-address-set", `ACL match refers to address set "$${a}", which does not exist`, [...path, "match"]);
    for (const g of r.portGroups) if (!net.portGroups.has(g)) bad("dangling-port-group", `ACL match refers to port group "@${g}", which does not exist`, [...path, "match"]);
  };

  const portOwner = new Map<string, string>();
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
          const ip = parseIp(w);
          if (!ip) {
            bad("bad-ip", `"${w}" is not an IP address`, ap);
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
      if (!portOwner.has(p)) bad("dangling-port", `port group member "${p}" is no switch port`, [base, "ports", i]);
    });
    pg.acls.forEach((acl, i) => checkAcl(acl, [base, "acls", i]));
  }

  for (const [lbName, lb] of net.loadBalancers) validateLb(lb, [`loadBalancers[${lbName}]`], bad);
  return out;
}

function validateLb(lb: LoadBalancer, base: Path, bad: (code: string, message: string, path: Path) => void): void {
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
    if (backends.size === 0) bad("bad-vip", `VIP ${vipText} has no backends`, vp);
    backends.forEach((b, i) => {
      const be = parseLbEndpoint(b);
      const bp = [...vp, i];
      if (typeof be === "string") bad("bad-backend", `bad backend: ${be}`, bp);
      else if (be.family !== vip.family) bad("bad-backend", `backend ${b} is IPv${be.family} but VIP ${vipText} is IPv${vip.family}`, bp);
      else if ((be.port === undefined) !== (vip.port === undefined)) bad("bad-backend", `backend ${b} and VIP ${vipText} must both have a port or both have none`, bp);
    });
  }
}
