/**
 * The compiled logical network: every logical datapath with its ingress and egress pipelines,
 * ports and multicast groups. This is what the compiler (`compile/`) produces from a model and
 * what the executor (`dataplane/`) runs, at the logical level (as ovn-trace does).
 *
 * Conventions (OVN's): a datapath has a 24-bit tunnel key, its ports 15-bit keys (1..32767) and
 * its multicast groups keys from 32768. The logical ingress port is in `reg14`, the egress port in
 * `reg15`, the datapath key in `metadata`, logical flags in `reg10`. A pipeline's tables are
 * numbered from 0 in stage order; `next` goes to the following table of the same pipeline. An
 * `output` in the ingress pipeline starts the egress pipeline of the same datapath for the port
 * in `reg15` (or every member of a multicast group); an `output` in the egress pipeline delivers
 * to that port: to the outside for a VIF or localnet port, or into the peer datapath's ingress for
 * a patch (router) port.
 */
import type { Backend, IpAddr } from "./action.js";
import type { Program } from "./program.js";

export type LogicalPortType = "" | "router" | "localnet" | "remote" | "localport" | "external" | "virtual" | "l2gateway" | "patch" | "chassisredirect";

export interface LogicalPort {
  readonly name: string;
  /** Tunnel key within its datapath (1..32767). */
  readonly key: number;
  readonly type: LogicalPortType;
  /** Datapath key of the datapath this port belongs to. */
  readonly datapath: number;
  /** For patch ports (switch port of type router, router ports): the other end. */
  readonly peer?: { readonly datapath: number; readonly port: number };
  /** Chassis the port is bound to, if any. */
  readonly chassis?: string;
  /**
   * A gateway router's port, or the switch port peering one (a Port_Binding of type `l3gateway`):
   * the router's chassis. ovn-controller gives such a port a conntrack zone of its own, where a
   * plain patch port has none.
   */
  readonly l3gateway?: string;
  /** localnet: the provider network name and VLAN tag. */
  readonly networkName?: string;
  readonly tag?: number;
}

export interface MulticastGroup {
  /** `_MC_flood`, `_MC_unknown`, `_MC_flood_l2`, ... */
  readonly name: string;
  /** Key, 32768 and above. */
  readonly key: number;
  /** Member port keys, in a stable order. */
  readonly ports: readonly number[];
}

export interface LogicalDatapath {
  readonly key: number;
  readonly name: string;
  readonly kind: "switch" | "router";
  readonly ingress: Program;
  readonly egress: Program;
  /** Ports by key. */
  readonly ports: ReadonlyMap<number, LogicalPort>;
  /** Multicast groups by key. */
  readonly multicast: ReadonlyMap<number, MulticastGroup>;
  /**
   * A transit switch of OVN-IC (`other_config:interconn-ts`): its multicast groups reach its router
   * ports also for packets from a tunnel, which come from another zone.
   */
  readonly transit?: boolean;
  /** Stage name of each table, by pipeline, for traces (`ls_in_acl`...). */
  readonly stageNames: { readonly ingress: readonly string[]; readonly egress: readonly string[] };
}

/**
 * A load balancer as ovn-controller reads it from the Southbound `Load_Balancer` table, which
 * holds the load balancers of logical switches (not those only on routers). ovn-controller builds
 * its hairpin flows from these (OpenFlow tables 68-70: `chk_lb_hairpin`, `chk_lb_hairpin_reply`,
 * `ct_snat_to_vip`); the logical flows carry the VIPs themselves.
 */
export interface ProgramLoadBalancer {
  readonly name: string;
  /** IP protocol number of its VIPs with a port: 6, 17 or 132. */
  readonly proto: number;
  readonly vips: readonly { readonly ip: IpAddr; readonly port: number | undefined; readonly backends: readonly Backend[] }[];
  /** `options:hairpin_snat_ip`: the source address of hairpinned packets, per family (else the VIP). */
  readonly hairpinSnatIp: { readonly v4: IpAddr | undefined; readonly v6: IpAddr | undefined };
  /** Keys of the switch datapaths it is attached to. */
  readonly datapaths: readonly number[];
}

export interface LogicalProgram {
  /**
   * The switches' load balancers (absent: none), for what ovn-controller derives from them
   * rather than from logical flows: the hairpin tables.
   */
  readonly loadBalancers?: readonly ProgramLoadBalancer[];
  /** Datapaths by key. */
  readonly datapaths: ReadonlyMap<number, LogicalDatapath>;
  /** Datapath keys by name. */
  readonly datapathByName: ReadonlyMap<string, number>;
  /** Every port by name. */
  readonly portByName: ReadonlyMap<string, LogicalPort>;
}
