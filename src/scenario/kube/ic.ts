/**
 * OVN-IC (kube-ovn-mapping.md §10): the ConfigMap `ovn-ic-config` of each availability zone (AZ),
 * and what ovn-ic and kube-ovn-controller's IC controller then write into that zone's Northbound
 * database, so that a pod of one cluster reaches a pod of another across the transit switch.
 *
 * Several clusters
 * ----------------
 * One AZ's manifests cannot know the other AZs: the other zones' gateways, router port addresses
 * and subnets come from the shared OVN-IC databases. So the AZs are given together, as a directory
 * whose subdirectories are the AZs, each one a directory of manifests with its own
 * `ovn-ic-config`:
 *
 *     ovn-ic/az1/*.yaml     (ConfigMap kube-system/ovn-ic-config: az-name az1, ic-db-host X, ...)
 *     ovn-ic/az2/*.yaml     (ConfigMap kube-system/ovn-ic-config: az-name az2, ic-db-host X, ...)
 *
 * Loading one AZ's directory (`ovnsim trace ovn-ic/az1 ...`) also reads its sibling directories:
 * every sibling whose `ovn-ic-config` is enabled and names the same IC database (`ic-db-host` and
 * `ic-nb-port`) is another zone of the same interconnection. The network built is the loaded
 * zone's NB, named after its `az-name`; the scenario's `zones` lists the sibling directories, so
 * `ovnsim trace` follows a packet into them (a pod of another zone can be named as `--to
 * pod/NS/NAME` when no pod of that name is in the loaded zone). The parent directory itself is not
 * a network; loading it is an error naming the zones in it. A single manifest file with an
 * enabled `ovn-ic-config` builds its own zone with no remote zones.
 *
 * The transit switch is the one start-ic-db.sh creates: `TS_NAME` (default `ts`) with subnet
 * `TS_CIDR` (default 169.254.100.0/24), two InstallConfig settings (settings.ts) that every zone
 * must give alike. Only one transit switch is mapped (the ovn-ic-server deployment's `TS_NUM > 1`,
 * with one switch per ECMP path, is not).
 *
 * What one zone's NB gets, when `enable-ic` is "true"
 * ----------------------------------------------------
 * - LS `<ts>`: `other_config:interconn-ts=<ts>`, datapath tunnel key 16711681 (OVN's first key for
 *   transit switches, `OVN_MIN_DP_KEY_GLOBAL`; exported as `other_config:requested-tnl-key`), so
 *   both zones agree on it.
 * - LSP `<ts>-<az>` (type router, addresses `router`, `router-port=<az>-<ts>`, external_ids
 *   `ls=<ts>`, `vendor=kube-ovn`) and, on `ovn-cluster`, LRP `<az>-<ts>` (`<address>/<plen>` of
 *   the transit subnet, external_ids `vendor=kube-ovn`) with a Gateway_Chassis per `gw-nodes` entry,
 *   priorities 100, 99, ... in list order: a distributed gateway port, so cross-zone traffic is
 *   centralized on the active IC gateway.
 * - This zone's `gw-nodes` chassis: `other_config:is-interconn` (kube-ovn-cni sets
 *   `ovn-is-interconn` on a node with the IC gateway label), so they build the tunnels to the other
 *   zones' gateways.
 * - For every other zone: a chassis per gateway node of that zone (`is-remote`, its tunnel type on
 *   its InternalIP), and an LSP `<ts>-<otherAz>` of type `remote`, addresses `"<mac> <ip>/<plen>"`
 *   (the other zone's router port, as ovn-ic copies it), bound to that zone's first gateway node
 *   (where its router port is active). The transit switch's port tunnel keys are 1, 2, ... in
 *   zone order, the same in every zone (exported as `options:requested-tnl-key`).
 * - `auto-route: "true"`: NB_Global `ic-route-adv=true`, `ic-route-learn=true` and
 *   `ic-route-blacklist` = the join CIDR, the `cidrBlock` of every Subnet with
 *   `disableInterConnection: true` (document order), then every node InternalIP (document order).
 *   Then what ovn-ic learns from every other zone with auto-route: each network of that zone's
 *   `ovn-cluster` router ports (not its transit port) that neither zone's blacklist covers, that
 *   is not link-local and has no local non-learned static route of the same prefix, becomes a
 *   static route on `ovn-cluster`: `ip_prefix` = that network (in network form, see below),
 *   `nexthop` = the other zone's
 *   transit address, external_ids `ic-learned-route=<IC-SB route uuid>`, options
 *   `origin=connected`. Kube-OVN then adds one policy per learned prefix: priority 29500,
 *   `ip4.dst == <prefix>`, allow, external_ids `origin=connected`, `vendor=kube-ovn` (without it the
 *   29000 reroute would send the packet to the local node).
 * - The network's name (its zone, as traces show it) is the `az-name` (NB_Global `name`).
 *
 * Deliberate difference: ovn-ic advertises a router port's network as written on the port
 * (`10.17.0.1/16`), so the learned route's `ip_prefix` and Kube-OVN's policy match carry the
 * gateway address; ovn-northd masks both, and `ovn-nbctl lr-route-list` prints `10.17.0.0/16`.
 * Here they are written in network form (`10.17.0.0/16`), which OVN treats the same and the
 * model requires of static routes.
 *
 * Decisions where the real thing is random or ordered by events
 * --------------------------------------------------------------
 * - Zone order is the `az-name` order (string order). It stands in for the order in which the
 *   zones registered in the IC databases, which fixes the port tunnel keys.
 * - The router port's transit address is random in Kube-OVN (the lower half of the transit subnet,
 *   redrawn on a clash); here the zone of index i (from 0, in zone order) takes network + i + 1:
 *   169.254.100.1 for the first zone, .2 for the second, and so on.
 * - MACs: Kube-OVN draws them at random; here they are derived from `<az>-<ts>` (ipam.ts), zone by
 *   zone in zone order, so every zone computes the same MAC for every transit port.
 * - The IC-SB route uuid in `ic-learned-route` is derived from (advertising zone, transit switch,
 *   prefix, next hop): a stable stand-in with the uuid's format.
 * - Chassis are named after their nodes (build.ts), so node names, and InternalIPs (tunnel
 *   endpoints), must be distinct across the zones of one interconnection.
 *
 * Errors (each names the resource and its file position; the zone is then left without OVN-IC):
 * a ConfigMap `ovn-ic-config` outside `kube-system` (kube-ovn-controller reads only its own
 * namespace), non-string or unknown data keys, `enable-ic`/`auto-route` other than "true"/"false",
 * a missing `az-name`, `ic-db-host` or `gw-nodes`, a gateway that is not a Node of the zone, VXLAN
 * tunnels (OVN does not support interconnection with VXLAN), a `TS_NAME`/`TS_CIDR` that is not a
 * name / an IPv4 CIDR or that differs between zones, two zones with the same `az-name`, a node name
 * or InternalIP used in two zones, too many zones for the transit subnet, and with auto-route a
 * learned prefix that overlaps a local network, the transit subnet or another zone's learned
 * prefix. Nothing here throws on bad input.
 */
import { List, OrderedMap } from "immutable";
import { allKnownHint, error, formatIpv4, hashAdd, hashFinish, type Diagnostic } from "../../base/index.js";
import { Chassis, Encap, GatewayChassis, LogicalSwitch, RouterPolicy, RouterPort, StaticRoute, SwitchPort, type Network } from "../../model/index.js";
import { MacGenerator, formatSubnet, inSubnet, parseIpv4Cidr, type Ipv4Subnet } from "./ipam.js";
import { readSettings } from "./settings.js";
import { resourceName, type KubeObject } from "./types.js";

/** The ConfigMap's name, and the namespace kube-ovn-controller reads it from. */
export const IC_CONFIG = "ovn-ic-config";
export const IC_CONFIG_NAMESPACE = "kube-system";
/** The first datapath tunnel key OVN keeps for transit switches (`OVN_MIN_DP_KEY_GLOBAL`). */
export const TRANSIT_SWITCH_KEY = 16711681;
/** The cluster router every transit port is on. */
const CLUSTER_ROUTER = "ovn-cluster";
const POLICY_PRIORITY = 29500;

const KEYS = ["enable-ic", "az-name", "ic-db-host", "ic-nb-port", "ic-sb-port", "gw-nodes", "auto-route"] as const;
const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

/** One zone's `ovn-ic-config`, read and checked. */
export interface IcConfig {
  readonly obj: KubeObject;
  readonly enabled: boolean;
  readonly az: string;
  readonly dbHost: string;
  readonly nbPort: string;
  readonly sbPort: string;
  readonly gwNodes: readonly string[];
  readonly autoRoute: boolean;
}

/** A zone as built without OVN-IC: what the mapping reads from it. */
export interface IcZoneInput {
  readonly objs: readonly KubeObject[];
  /** The zone's network, as built from its manifests. */
  readonly network: Network;
  /** Node name → InternalIP, in document order. */
  readonly nodes: ReadonlyMap<string, string>;
  /** Problems found while building it. */
  readonly diags: readonly Diagnostic[];
}

/** Everything the interconnection needs to know about one zone. */
interface Zone {
  readonly cfg: IcConfig;
  /** Where to report transit-switch settings: the InstallConfig, else the ConfigMap. */
  readonly settingsObj: KubeObject;
  readonly tsName: string;
  readonly tsCidrText: string;
  readonly tsCidr: Ipv4Subnet;
  readonly tunnelType: string;
  readonly blacklist: readonly string[];
  /** The gateway nodes with their InternalIPs, in `gw-nodes` order. */
  readonly gateways: readonly { readonly name: string; readonly ip: string }[];
  /** Networks of `ovn-cluster`'s ports (what ovn-ic advertises from it), with the port's name. */
  readonly connected: readonly { readonly text: string; readonly prefix: string; readonly net: Ipv4Subnet; readonly port: string }[];
  readonly nodes: ReadonlyMap<string, string>;
  readonly network: Network;
  readonly objs: readonly KubeObject[];
}

const at = (o: KubeObject): string => `${o.loc.file}:${o.loc.line}:${o.loc.column}`;

/** The `data` of a ConfigMap (its values are checked by `readIcConfig`). */
function dataOf(o: KubeObject): Record<string, unknown> {
  const d = o.raw.data;
  return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
}

/**
 * Reads the zone's `ovn-ic-config`: undefined when there is none (OVN-IC off), with one error per
 * problem. A disabled config comes back with `enabled: false`.
 */
export function readIcConfig(objs: readonly KubeObject[]): { config: IcConfig | undefined; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  let config: IcConfig | undefined;
  for (const o of objs) {
    if (o.kind !== "ConfigMap" || o.name !== IC_CONFIG) continue;
    const bad = (msg: string): void => void diags.push(error("kube.ic-config", `${resourceName(o)}: ${msg}`, { loc: o.loc }));
    if (o.namespace !== IC_CONFIG_NAMESPACE) {
      bad(`kube-ovn-controller reads ${IC_CONFIG} from namespace ${IC_CONFIG_NAMESPACE} only`);
      continue;
    }
    const data = dataOf(o);
    const val: Record<string, string> = {};
    let broken = false;
    for (const [k, v] of Object.entries(data)) {
      if (!(KEYS as readonly string[]).includes(k)) {
        bad(`unknown key ${k} (${allKnownHint(k, KEYS)})`);
        broken = true;
      } else if (typeof v !== "string") {
        broken = true; // reported where the manifests are read (objects.ts)
      } else val[k] = v.trim();
    }
    const flag = (k: "enable-ic" | "auto-route"): boolean => {
      const v = val[k];
      if (v === undefined) return false;
      if (v !== "true" && v !== "false") {
        bad(`${k} ${JSON.stringify(v)}: expected "true" or "false"`);
        broken = true;
      }
      return v === "true";
    };
    const enabled = flag("enable-ic");
    const autoRoute = flag("auto-route");
    const az = val["az-name"] ?? "";
    const dbHost = val["ic-db-host"] ?? "";
    const gwNodes = (val["gw-nodes"] ?? "").split(",").map((g) => g.trim()).filter((g) => g !== "");
    const nbPort = val["ic-nb-port"] || "6645";
    const sbPort = val["ic-sb-port"] || "6646";
    if (enabled) {
      if (az === "") bad("az-name is required when enable-ic is \"true\"");
      else if (!NAME.test(az)) bad(`az-name ${JSON.stringify(az)}: expected letters, digits, '-', '_' or '.' (it names OVN ports)`);
      if (dbHost === "") bad("ic-db-host is required when enable-ic is \"true\" (the address of the OVN-IC databases)");
      if (gwNodes.length === 0) bad("gw-nodes is required when enable-ic is \"true\" (the nodes that carry traffic to the other zones)");
      for (const [k, p] of [["ic-nb-port", nbPort], ["ic-sb-port", sbPort]] as const) {
        if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) bad(`${k} ${JSON.stringify(p)}: expected a TCP port`);
      }
      broken ||= az === "" || !NAME.test(az) || dbHost === "" || gwNodes.length === 0;
    }
    if (!broken) config = { obj: o, enabled, az, dbHost, nbPort, sbPort, gwNodes, autoRoute };
  }
  return { config, diags };
}

/**
 * The IC database a zone's manifests join, as `host:nb-port`, when their `ovn-ic-config` is
 * enabled; zones with the same value are interconnected. Undefined otherwise (no diagnostics:
 * `mapOvnIc` reports the problems of the zone being built).
 */
export function icDatabaseOf(objs: readonly KubeObject[]): string | undefined {
  const { config } = readIcConfig(objs);
  return config?.enabled ? `${config.dbHost}:${config.nbPort}` : undefined;
}

/** Whether `p` falls in an entry of ovn-ic's blacklist (entries as CIDRs or bare addresses). */
function blacklisted(p: Ipv4Subnet, list: readonly string[]): boolean {
  for (const e of list) {
    const b = parseIpv4Cidr(e);
    if (!b || p.plen < b.plen) continue;
    if (inSubnet(p.network, b)) return true;
  }
  return false;
}

/** ovn-ic neither advertises nor learns link-local prefixes (169.254.0.0/16 and longer). */
function linkLocal(p: Ipv4Subnet): boolean {
  return p.plen >= 16 && inSubnet(p.network, { network: 0xa9fe0000, plen: 16 });
}

function overlaps(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const plen = Math.min(a.plen, b.plen);
  return inSubnet(a.network, { network: b.network, plen }) || inSubnet(b.network, { network: a.network, plen });
}

/** A stable stand-in for an IC-SB row uuid, in the uuid format. */
function pseudoUuid(text: string): string {
  const words: number[] = [];
  for (let round = 0; round < 4; round++) {
    let h = 0x69637362 + round * 0x9e3779b9;
    for (let i = 0; i < text.length; i++) h = hashAdd(h, text.charCodeAt(i));
    words.push(hashFinish(h, text.length) >>> 0);
  }
  const hex = words.map((w) => w.toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Reads one zone's facts; problems go to `diags`. Undefined when the zone cannot take part. */
function zoneOf(input: IcZoneInput, diags: Diagnostic[]): Zone | undefined {
  const r = readIcConfig(input.objs);
  diags.push(...r.diags);
  const cfg = r.config;
  if (!cfg || !cfg.enabled) return undefined;
  const bad = (o: KubeObject, msg: string): void => void diags.push(error("kube.ic", `${resourceName(o)}: ${msg}`, { loc: o.loc }));
  const { settings } = readSettings(input.objs);
  const settingsObj = input.objs.find((o) => o.kind === "InstallConfig") ?? cfg.obj;
  let ok = true;
  if (settings.TUNNEL_TYPE !== "geneve") {
    bad(cfg.obj, `OVN-IC needs Geneve tunnels, but TUNNEL_TYPE is ${settings.TUNNEL_TYPE} (OVN does not support interconnection with VXLAN)`);
    ok = false;
  }
  if (!NAME.test(settings.TS_NAME)) {
    bad(settingsObj, `TS_NAME ${JSON.stringify(settings.TS_NAME)}: expected a switch name`);
    ok = false;
  }
  const tsCidr = parseIpv4Cidr(settings.TS_CIDR);
  if (!tsCidr || tsCidr.plen > 30) {
    bad(settingsObj, `TS_CIDR ${JSON.stringify(settings.TS_CIDR)}: expected an IPv4 CIDR of /30 or larger (IPv6 transit subnets are not mapped)`);
    ok = false;
  }
  const gateways: { name: string; ip: string }[] = [];
  for (const g of cfg.gwNodes) {
    const ip = input.nodes.get(g);
    if (ip === undefined) {
      bad(cfg.obj, `gw-nodes: ${g} is not a Node of this zone (with an IPv4 InternalIP)`);
      ok = false;
    } else gateways.push({ name: g, ip });
  }
  if (!ok || !tsCidr) return undefined;
  const blacklist = [settings.JOIN_CIDR];
  for (const s of input.objs) {
    if (s.kind === "Subnet" && s.spec.disableInterConnection === true && typeof s.spec.cidrBlock === "string") blacklist.push(s.spec.cidrBlock);
  }
  blacklist.push(...input.nodes.values());
  const connected: { text: string; prefix: string; net: Ipv4Subnet; port: string }[] = [];
  for (const p of input.network.routers.get(CLUSTER_ROUTER)?.ports.values() ?? []) {
    for (const n of p.networks) {
      const net = parseIpv4Cidr(n);
      if (net) connected.push({ text: n, prefix: formatSubnet(net), net, port: p.name });
    }
  }
  return {
    cfg,
    settingsObj,
    tsName: settings.TS_NAME,
    tsCidrText: settings.TS_CIDR,
    tsCidr,
    tunnelType: settings.TUNNEL_TYPE,
    blacklist,
    gateways,
    connected,
    nodes: input.nodes,
    network: input.network,
    objs: input.objs,
  };
}

/** The resource a network of `ovn-cluster` comes from: `Subnet/<name>`, or `subnet <name>` when implicit. */
function ownerOf(z: Zone, port: string): string {
  const subnet = port.startsWith(`${CLUSTER_ROUTER}-`) ? port.slice(CLUSTER_ROUTER.length + 1) : port;
  const o = z.objs.find((x) => x.kind === "Subnet" && x.name === subnet);
  return o ? `${resourceName(o)} (${at(o)})` : `subnet ${subnet}`;
}

/**
 * Adds OVN-IC to `self.network` (see the header): nothing when the zone has no enabled
 * `ovn-ic-config`. `peers` are the other zones of the same IC database; problems of theirs that
 * stop the interconnection are reported too.
 */
export function mapOvnIc(self: IcZoneInput, peers: readonly IcZoneInput[]): { network: Network; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const me = zoneOf(self, diags);
  if (!me) return { network: self.network, diags };
  const others: Zone[] = [];
  for (const p of peers) {
    diags.push(...p.diags);
    const z = zoneOf(p, diags);
    if (z) others.push(z);
  }
  const bad = (o: KubeObject, msg: string): void => void diags.push(error("kube.ic", `${resourceName(o)}: ${msg}`, { loc: o.loc }));
  const before = diags.length;

  // The zones must agree with each other.
  const zones = [me, ...others].sort((a, b) => (a.cfg.az < b.cfg.az ? -1 : a.cfg.az > b.cfg.az ? 1 : 0));
  for (let i = 0; i < zones.length; i++) {
    for (let j = i + 1; j < zones.length; j++) {
      const a = zones[i]!;
      const b = zones[j]!;
      if (a.cfg.az === b.cfg.az) bad(b.cfg.obj, `az-name ${b.cfg.az} is also the az-name of ${resourceName(a.cfg.obj)} (${at(a.cfg.obj)}): every zone of one IC database needs its own`);
      for (const [n, ip] of b.nodes) {
        if (a.nodes.has(n)) bad(b.cfg.obj, `node ${n} is in zones ${a.cfg.az} and ${b.cfg.az}: node names must differ across interconnected zones (they name the chassis)`);
        for (const [m, ip2] of a.nodes) if (ip === ip2) bad(b.cfg.obj, `node ${n} of zone ${b.cfg.az} has the InternalIP ${ip} of node ${m} of zone ${a.cfg.az}: tunnel endpoints must differ`);
      }
    }
  }
  for (const o of others) {
    if (o.tsName !== me.tsName || o.tsCidrText !== me.tsCidrText) {
      bad(me.settingsObj, `the transit switch ${me.tsName} ${me.tsCidrText} differs from zone ${o.cfg.az}'s ${o.tsName} ${o.tsCidrText} (${at(o.settingsObj)}): TS_NAME and TS_CIDR must be the same in every zone of one IC database`);
    }
  }
  const half = 2 ** (32 - me.tsCidr.plen) / 2;
  if (zones.length >= half) bad(me.settingsObj, `TS_CIDR ${me.tsCidrText} is too small for ${zones.length} zones (each takes an address in its lower half)`);
  if (me.network.switches.has(me.tsName)) bad(me.settingsObj, `TS_NAME ${me.tsName} is already the name of a logical switch of this zone (a Subnet's)`);
  for (const c of me.connected) {
    if (overlaps(c.net, me.tsCidr)) bad(me.settingsObj, `TS_CIDR ${me.tsCidrText} overlaps ${ownerOf(me, c.port)}'s ${c.text}`);
  }
  if (diags.length > before) return { network: self.network, diags };

  // Per zone: its transit address, MAC and port key, the same from every zone's point of view.
  const ts = me.tsName;
  const macs = new MacGenerator();
  const port = new Map(zones.map((z, i) => [z.cfg.az, { ip: formatIpv4(me.tsCidr.network + i + 1), mac: macs.macFor(`${z.cfg.az}-${ts}`), key: i + 1 }]));
  const mine = port.get(me.cfg.az)!;
  const plen = me.tsCidr.plen;

  let ports = OrderedMap<string, SwitchPort>();
  // The gateways of this zone: Kube-OVN sets ovn-is-interconn on them (its IC gateway label).
  let chassis = me.network.chassis;
  for (const g of me.gateways) {
    const c = chassis.get(g.name);
    if (c) chassis = chassis.set(g.name, c.set("isInterconn", true));
  }
  for (const z of zones) {
    const p = port.get(z.cfg.az)!;
    const name = `${ts}-${z.cfg.az}`;
    if (z === me) {
      ports = ports.set(name, SwitchPort({ name, type: "router", addresses: List(["router"]), options: OrderedMap([["router-port", `${me.cfg.az}-${ts}`]]), tunnelKey: p.key, externalIds: OrderedMap([["ls", ts], ["vendor", "kube-ovn"]]) }));
      continue;
    }
    for (const g of z.gateways) {
      chassis = chassis.set(g.name, Chassis({ name: g.name, hostname: g.name, encaps: List([Encap({ type: z.tunnelType, ip: g.ip })]), isRemote: true }));
    }
    ports = ports.set(name, SwitchPort({ name, type: "remote", addresses: List([`${p.mac} ${p.ip}/${plen}`]), tunnelKey: p.key, chassis: z.gateways[0]!.name }));
  }
  const transit = LogicalSwitch({ name: ts, ports, otherConfig: OrderedMap([["interconn-ts", ts]]), tunnelKey: TRANSIT_SWITCH_KEY });
  const lrp = RouterPort({
    name: `${me.cfg.az}-${ts}`,
    mac: mine.mac,
    networks: List([`${mine.ip}/${plen}`]),
    gatewayChassis: List(me.gateways.map((g, i) => GatewayChassis({ chassis: g.name, priority: 100 - i }))),
    externalIds: OrderedMap([["vendor", "kube-ovn"]]),
  });

  // Routes ovn-ic learns from the zones that advertise, and Kube-OVN's policy for each.
  const routes: StaticRoute[] = [];
  const learned: { net: Ipv4Subnet; text: string; zone: Zone; port: string }[] = [];
  const lr = me.network.routers.get(CLUSTER_ROUTER)!;
  if (me.cfg.autoRoute) {
    for (const z of others) {
      if (!z.cfg.autoRoute) continue;
      const nexthop = port.get(z.cfg.az)!.ip;
      for (const c of z.connected) {
        if (c.net.plen === 0 || linkLocal(c.net)) continue;
        if (blacklisted(c.net, z.blacklist) || blacklisted(c.net, me.blacklist)) continue;
        if (lr.staticRoutes.some((r) => r.routeTable === "" && r.ipPrefix === c.prefix && !r.externalIds.has("ic-learned-route"))) continue;
        for (const mc of me.connected) {
          if (overlaps(c.net, mc.net)) bad(me.cfg.obj, `auto-route: zone ${z.cfg.az}'s ${ownerOf(z, c.port)} network ${c.text} overlaps this zone's ${ownerOf(me, mc.port)} network ${mc.text}: interconnected subnets must not overlap`);
        }
        if (overlaps(c.net, me.tsCidr)) bad(me.cfg.obj, `auto-route: zone ${z.cfg.az}'s ${ownerOf(z, c.port)} network ${c.text} overlaps the transit subnet ${me.tsCidrText}`);
        for (const l of learned) {
          if (l.zone !== z && overlaps(c.net, l.net)) bad(me.cfg.obj, `auto-route: zone ${z.cfg.az}'s ${ownerOf(z, c.port)} network ${c.text} overlaps zone ${l.zone.cfg.az}'s ${ownerOf(l.zone, l.port)} network ${l.text}`);
        }
        learned.push({ net: c.net, text: c.text, zone: z, port: c.port });
        routes.push(
          StaticRoute({
            ipPrefix: c.prefix,
            nexthop,
            options: OrderedMap([["origin", "connected"]]),
            externalIds: OrderedMap([["ic-learned-route", pseudoUuid(`${z.cfg.az}/${ts}/${c.prefix}/${nexthop}`)]]),
          }),
        );
      }
    }
  }
  if (diags.length > before) return { network: self.network, diags };
  const policies: RouterPolicy[] = [];
  for (const p of [...new Set(routes.map((r) => r.ipPrefix))]) {
    policies.push(RouterPolicy({ priority: POLICY_PRIORITY, match: `ip4.dst == ${p}`, action: "allow", externalIds: OrderedMap([["origin", "connected"], ["vendor", "kube-ovn"]]) }));
  }
  const router = lr.set("ports", lr.ports.set(lrp.name, lrp)).set("staticRoutes", lr.staticRoutes.concat(routes)).set("policies", lr.policies.concat(policies));
  let options = me.network.options;
  if (me.cfg.autoRoute) options = options.set("ic-route-adv", "true").set("ic-route-learn", "true").set("ic-route-blacklist", me.blacklist.join(","));
  const network = me.network
    .set("name", me.cfg.az)
    .set("chassis", chassis)
    .set("switches", me.network.switches.set(ts, transit))
    .set("routers", me.network.routers.set(CLUSTER_ROUTER, router))
    .set("options", options);
  return { network, diags };
}
