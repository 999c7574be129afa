/**
 * The compiled deployment: per chassis, the logical program as that chassis runs it and the
 * physical tables ovn-controller would install around it; plus the fabric between chassis
 * (tunnels, provider networks and their gateways). The compiler (`compile/physical.ts`) makes
 * it; the fabric executor (`dataplane/fabric.ts`) runs it. Data only.
 *
 * Table numbers are OVN 23.03.1's (the release installed here; 23.03.0 had no packet-size tables
 * and numbered the output tables from 37): 0 classifies packets from VIFs, tunnels and localnet
 * patch ports; 8 onwards is the logical ingress pipeline; 37 and 38 check packet sizes (only their
 * defaults, which go on to 39, are modelled); 39 sends to remote chassis; 40 outputs locally (and
 * swaps a chassis-redirect port for its distributed port, or a remote port behind a localnet port
 * for that localnet port); 41 drops loopback; 42 onwards is the logical egress pipeline; 64 saves
 * the input port for hairpins; 65 hands the packet to a VIF, a provider bridge or, for patch ports,
 * the peer datapath's ingress pipeline.
 */
import type { LogicalDatapath, LogicalPort, LogicalProgram } from "./logical.js";

export const OFTABLE = {
  PHY_TO_LOG: 0,
  LOG_INGRESS: 8,
  OUTPUT_LARGE_PKT_DETECT: 37,
  OUTPUT_LARGE_PKT_PROCESS: 38,
  REMOTE_OUTPUT: 39,
  LOCAL_OUTPUT: 40,
  CHECK_LOOPBACK: 41,
  LOG_EGRESS: 42,
  SAVE_INPORT: 64,
  LOG_TO_PHY: 65,
} as const;

export type TunnelType = "geneve" | "vxlan" | "stt";

/** Where an ingress `output` to one logical port goes, as seen from one chassis. */
export type Placement =
  /** The port is on this chassis (a bound VIF, a patch or localnet port, an active gateway port). */
  | { readonly kind: "local" }
  /** Through a tunnel to the chassis that hosts the port; its egress pipeline runs there. */
  | { readonly kind: "tunnel"; readonly chassis: string }
  /** A port on another chassis of a switch with a localnet port: out through that localnet port. */
  | { readonly kind: "localnet"; readonly port: number }
  /**
   * A chassis-redirect port of a gateway port with `redirect-type=bridged`, active on another
   * chassis: the packet leaves through localnet port `port` of the gateway port's switch
   * (`datapath`) with the gateway port's MAC `mac` as its source (`words`, as `parseMacWords`
   * gives them), without that switch's egress pipeline, for the gateway chassis to take from the
   * provider network (physical.c `put_remote_port_redirect_bridged`).
   */
  | { readonly kind: "bridged"; readonly datapath: number; readonly port: number; readonly mac: string; readonly words: readonly [number, number]; readonly chassis: string | undefined }
  /** Bound nowhere, or where no tunnel leads: OVN installs no flow and the packet is dropped. */
  | { readonly kind: "none"; readonly why: string };

/** One physical flow, for display (`--physical`, `ovnsim flows --physical`). */
export interface PhysicalFlow {
  readonly table: number;
  readonly priority: number;
  /** ovs-ofctl match text. */
  readonly match: string;
  /** ovs-ofctl actions text. */
  readonly actions: string;
  /** What the flow is for, in words. */
  readonly note: string;
}

/** A VIF bound to this chassis. */
export interface VifAttachment {
  readonly name: string;
  readonly datapath: number;
  readonly port: number;
  readonly ofport: number;
}

/** A localnet port usable on this chassis (its network has a bridge mapping here). */
export interface LocalnetAttachment {
  readonly name: string;
  readonly datapath: number;
  readonly port: number;
  readonly network: string;
  /** VLAN id; 0 is untagged. */
  readonly vlan: number;
  /** The TPID of the tag pushed on output: 0x8100, or 0x88a8 with `options:ethtype=802.11ad`. */
  readonly tpid: number;
  readonly bridge: string;
  /** The NIC plugged into the bridge ("" when the chassis does not say). */
  readonly nic: string;
  /** The OpenFlow port of the patch port from br-int to the bridge. */
  readonly ofport: number;
  /**
   * The MACs the provider bridge has learned behind this patch port, as a `trace` takes them: those
   * ovn-controller announces from this chassis on the switch (compile `announcedMacOwners`). The
   * bridge sends nothing back out the port a frame came in by, so a frame output here to one of
   * them goes nowhere. `replay` learns as packets go instead (execute.ts `learnedBehind`).
   */
  readonly learned: readonly MacOf[];
}

export interface TunnelPort {
  readonly remote: string;
  readonly type: TunnelType;
  readonly remoteIp: string;
  readonly ofport: number;
  /** The tunnel port's name, as ovn-controller names them (`ovn-REMOTE-0`). */
  readonly portName: string;
}

/** A MAC as text (lower case) and as the two key words it fills (`parseMacWords`). */
export interface MacOf {
  readonly text: string;
  readonly words: readonly [number, number];
}

/**
 * ovn-controller's chassis-MAC flows on one chassis (controller/physical.c), from
 * `ovn-chassis-mac-mappings`: a distributed router's frames leave onto a provider network with this
 * chassis's MAC instead of the router port's, so that the physical switches do not see one MAC on
 * every chassis, and the chassis that receives them puts the router port's MAC back.
 */
export interface ChassisMacRules {
  /**
   * The MACs of every other chassis, for any network. Table 0 matches every packet's source MAC
   * against them (one clause of a conjunction, priority 180), whatever port it came in on.
   */
  readonly remote: readonly (MacOf & { readonly chassis: string })[];
  /**
   * By localnet port (datapath key → port key): the router port MAC a frame gets back when it comes
   * in from that port with a remote chassis's MAC as its source: the first router port of the
   * switch (ovn-controller asks for one flow per router port, all with the same match).
   */
  readonly ingress: ReadonlyMap<number, ReadonlyMap<number, MacOf & { readonly port: string }>>;
  /**
   * By localnet port: the router port MACs replaced on output there (the switch's router ports but
   * those whose chassis-redirect port is active here), and this chassis's MAC on the network (table
   * 65, priority 150).
   */
  readonly egress: ReadonlyMap<number, ReadonlyMap<number, { readonly from: readonly (MacOf & { readonly port: string })[]; readonly to: MacOf }>>;
}

/** The first of `macs` that `key` holds at word `at` (its source or destination MAC's first word). */
export function macAt<T extends MacOf>(macs: readonly T[], key: Uint32Array, at: number): T | undefined {
  const hi = key[at]!;
  const lo = key[at + 1]!;
  for (const m of macs) if (m.words[0] === hi && m.words[1] === lo) return m;
  return undefined;
}

/** Writes `words` (a MAC's two key words) into `key` at word `at`. */
export function setMacAt(key: Uint32Array, at: number, words: readonly [number, number]): void {
  key[at] = words[0];
  key[at + 1] = words[1];
}

/** No chassis-MAC flows. */
export const NO_CHASSIS_MACS: ChassisMacRules = { remote: [], ingress: new Map(), egress: new Map() };

export interface PhysicalChassis {
  readonly name: string;
  readonly hostname: string;
  /** Another availability zone's chassis: a tunnel destination only. */
  readonly remote: boolean;
  readonly encap: { readonly type: TunnelType; readonly ip: string } | undefined;
  readonly mac: string;
  /** The logical program with `is_chassis_resident()` decided for this chassis. */
  readonly program: LogicalProgram;
  /** Datapath key → port key → where output to it goes. Ports absent are local. */
  readonly placement: ReadonlyMap<number, ReadonlyMap<number, Placement>>;
  readonly vifs: ReadonlyMap<string, VifAttachment>;
  /** Usable localnet port by datapath key (of local datapaths only). */
  readonly localnets: ReadonlyMap<number, LocalnetAttachment>;
  /**
   * The datapaths ovn-controller treats as local here, by key: it installs physical flows for
   * these only (a localnet port's patch to its provider bridge, too).
   */
  readonly localDatapaths: ReadonlySet<number>;
  /** Tunnel ports by remote chassis name. */
  readonly tunnels: ReadonlyMap<string, TunnelPort>;
  /** The chassis-MAC rewrites of the provider networks here (none without `ovn-chassis-mac-mappings`). */
  readonly chassisMacs: ChassisMacRules;
  /** Every physical flow, by id (`table/what/object`), in table order. */
  readonly flows: ReadonlyMap<string, PhysicalFlow>;
}

export interface UnderlayInterface {
  readonly vlan: number;
  /** IPv4 address, prefix length and MAC of the gateway on this VLAN. */
  readonly ip: number;
  readonly plen: number;
  readonly mac: string;
}

export interface PhysicalProviderNetwork {
  readonly name: string;
  readonly gateways: readonly UnderlayInterface[];
}

/** A host the underlay knows by address (a logical port reachable on a provider network). */
export interface UnderlayHost {
  /** The logical port (a VIF, or the switch port of a router port). */
  readonly port: string;
  readonly ip: number;
  readonly mac: string;
  readonly network: string;
  readonly vlan: number;
}

export interface PhysicalPlan {
  /** The availability zone's name (the network's). */
  readonly zone: string;
  readonly chassis: ReadonlyMap<string, PhysicalChassis>;
  /** VXLAN mode: some chassis has a VXLAN encap, so keys are limited to 12 bits. */
  readonly vxlanMode: boolean;
  readonly providerNetworks: ReadonlyMap<string, PhysicalProviderNetwork>;
  /** Logical ports reachable through provider networks, for the underlay's neighbour lookups. */
  readonly underlayHosts: readonly UnderlayHost[];
}

/** Ids of physical flows, shared by the compiler that makes them and the fabric executor that reports the ones it uses. */
export const flowId = {
  vifIn: (name: string): string => `0/vif/${name}`,
  localnetIn: (name: string): string => `0/localnet/${name}`,
  /** The conjunction's clauses on a remote chassis MAC and on a VLAN, and its flow for a localnet port. */
  chassisMacSrc: (mac: string): string => `0/chassis-mac/src/${mac}`,
  chassisMacVlan: (vlan: number): string => `0/chassis-mac/vlan/${vlan}`,
  chassisMacIn: (name: string): string => `0/chassis-mac/${name}`,
  tunnelIn: (remote: string): string => `0/tunnel/${remote}`,
  remote: (dp: number, port: number): string => `${OFTABLE.REMOTE_OUTPUT}/${dp}/${port}`,
  local: (dp: number, port: number): string => `${OFTABLE.LOCAL_OUTPUT}/${dp}/${port}`,
  loopback: (dp: number, port: number): string => `${OFTABLE.CHECK_LOOPBACK}/${dp}/${port}`,
  toPhy: (dp: number, port: number): string => `${OFTABLE.LOG_TO_PHY}/${dp}/${port}`,
  /** Output to a localnet port of a frame from router port MAC `mac`, which leaves with the chassis's MAC. */
  toPhyChassisMac: (dp: number, port: number, mac: string): string => `${OFTABLE.LOG_TO_PHY}/${dp}/${port}/${mac}`,
  /** A table's lowest-priority flow. */
  catchAll: (table: number): string => `${table}/default`,
} as const;

/**
 * Whether multicast group member `port` of `dp` is served only on the chassis where the packet
 * entered (in the remote-output table, which packets from tunnels skip): a router port, except
 * on an OVN-IC transit switch (whose senders are in other zones), and a localport.
 */
export function servedWhereEntered(dp: LogicalDatapath, port: LogicalPort): boolean {
  if (port.type === "localport") return true;
  return (port.type === "patch" || port.type === "router") && dp.transit !== true;
}

/** ovs-ofctl-style text of a flow. */
export function formatPhysicalFlow(f: PhysicalFlow): string {
  return `table=${f.table}, priority=${f.priority}${f.match ? `,${f.match}` : ""} actions=${f.actions}`;
}

