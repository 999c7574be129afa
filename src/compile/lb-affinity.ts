/**
 * Load balancer affinity (`options:affinity_timeout`): the logical flows ovn-northd 23.03 adds for
 * it on switches and routers.
 *
 * A load balancer with `affinity_timeout=T` (seconds, 1 to 65535; northd caps larger values and
 * reads anything that is not an unsigned number as 0, off) keeps sending a client to the backend
 * its last new connection went to, per VIP, until T seconds pass without a new connection from
 * that client. Per VIP, northd writes:
 * - a check in `*_lb_aff_check` (priority 100): a new connection to the VIP asks ovn-controller's
 *   affinity table (`chk_lb_aff()`, OpenFlow table 78) into the known-session bit, `reg9[6]`; a
 *   hit also loads the remembered backend (`reg4`, or an IPv6 backend into `xxreg0` on a switch
 *   and `xxreg1` on a router) and its port (`reg8[0..15]`);
 * - per backend, in `ls_in_lb` / `lr_in_dnat` (priority 150), the load balancing of a known
 *   session to that one backend;
 * - per backend, in `*_lb_aff_learn` (priority 100), for a new connection the ordinary load
 *   balancing sent to that backend, `commit_lb_aff(...)`, which learns the client, VIP and backend
 *   into table 78 with an idle timeout of T. The flow has no `next`: in OVN 23.03 the packet that
 *   teaches the table is dropped there (the client's retransmission finds the session).
 *
 * The check matches what the switch's pre-stateful stage stored of the VIP (`reg1` / `xxreg1` and
 * `reg2[0..15]`); a router stores the destination itself (`reg0` / `xxreg0`, `reg9[16..31]`) in
 * the check. Known sessions on a router keep the load balancer's SNAT flags: `force_snat` when the
 * router has `lb_force_snat_ip` (whatever `skip_snat` says, as northd does it), else `skip_snat`
 * when the load balancer has it.
 */
import type { LoadBalancer } from "../model/index.js";

/** A VIP or backend: its address (as northd prints it), family and port. */
export interface AffinityEndpoint {
  readonly ip: string;
  readonly v6: boolean;
  readonly port: number | undefined;
}

/** One logical flow of a stage, before the caller files it under its pipeline. */
export interface AffinityFlow<S extends string> {
  readonly stage: S;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

/** The affinity timeout northd reads from the load balancer's options, in seconds (0: none). */
export function affinityTimeout(lb: LoadBalancer): number {
  const v = lb.options.get("affinity_timeout");
  // smap_get_uint: an unsigned decimal number, anything else the default.
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  const n = Number(v);
  return n > 0xffff ? 0xffff : n;
}

/** A VIP or backend as northd writes it: `IP`, `IP:PORT` or `[IP6]:PORT`. */
export function endpointText(e: AffinityEndpoint): string {
  if (e.port === undefined) return e.ip;
  return e.v6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** `commit_lb_aff(...)` for one backend of a VIP. */
function learnAction(lb: LoadBalancer, vip: AffinityEndpoint, b: AffinityEndpoint, timeout: number): string {
  const proto = vip.port === undefined ? "" : `, proto = ${lb.protocol}`;
  return `commit_lb_aff(vip = "${endpointText(vip)}", backend = "${endpointText(b)}"${proto}, timeout = ${timeout}); /* drop */`;
}

/** The affinity flows of one VIP of `lb` on a switch (none without a timeout). */
export function switchAffinityFlows(lb: LoadBalancer, vip: AffinityEndpoint, backends: readonly AffinityEndpoint[]): AffinityFlow<"ls_in_lb_aff_check" | "ls_in_lb" | "ls_in_lb_aff_learn">[] {
  const timeout = affinityTimeout(lb);
  if (timeout === 0) return [];
  const ipm = vip.v6 ? "ip6" : "ip4";
  const regVip = vip.v6 ? "xxreg1" : "reg1";
  const regBackend = vip.v6 ? "xxreg0" : "reg4";
  const portMatch = vip.port === undefined ? "" : ` && reg2[0..15] == ${vip.port}`;
  const out: AffinityFlow<"ls_in_lb_aff_check" | "ls_in_lb" | "ls_in_lb_aff_learn">[] = [{ stage: "ls_in_lb_aff_check", priority: 100, match: `ct.new && ${ipm} && ${regVip} == ${vip.ip}${portMatch}`, actions: "reg9[6] = chk_lb_aff(); next;" }];
  const setVip = `reg0[1] = 0; ${regVip} = ${vip.ip}; ${vip.port === undefined ? "" : `reg2[0..15] = ${vip.port}; `}`;
  for (const b of backends) {
    const bPort = b.port === undefined ? "" : ` && ${lb.protocol}.dst == ${b.port}`;
    out.push({ stage: "ls_in_lb_aff_learn", priority: 100, match: `reg9[6] == 0 && ct.new && ${ipm} && ${regVip} == ${vip.ip}${portMatch} && ${ipm}.dst == ${b.ip}${bPort}`, actions: learnAction(lb, vip, b, timeout) });
    const known = `reg9[6] == 1 && ct.new && ${ipm} && ${regBackend} == ${b.ip}${b.port === undefined ? "" : ` && reg8[0..15] == ${b.port}`}`;
    out.push({ stage: "ls_in_lb", priority: 150, match: known, actions: `${setVip}ct_lb_mark(backends=${endpointText(b)});` });
  }
  return out;
}

/**
 * The affinity flows of one VIP of `lb` on a router (none without a timeout). `newMatch` is the
 * VIP's match for new connections in `lr_in_dnat` (without a gateway port's residence check);
 * `forceSnat` says whether the router has `lb_force_snat_ip`.
 */
export function routerAffinityFlows(lb: LoadBalancer, vip: AffinityEndpoint, backends: readonly AffinityEndpoint[], newMatch: string, forceSnat: boolean): AffinityFlow<"lr_in_lb_aff_check" | "lr_in_dnat" | "lr_in_lb_aff_learn">[] {
  const timeout = affinityTimeout(lb);
  if (timeout === 0) return [];
  const ipm = vip.v6 ? "ip6" : "ip4";
  const regVip = vip.v6 ? "xxreg0" : "reg0";
  const regBackend = vip.v6 ? "xxreg1" : "reg4";
  const portSet = vip.port === undefined ? "" : `reg9[16..31] = ${lb.protocol}.dst; `;
  const out: AffinityFlow<"lr_in_lb_aff_check" | "lr_in_dnat" | "lr_in_lb_aff_learn">[] = [{ stage: "lr_in_lb_aff_check", priority: 100, match: newMatch, actions: `${regVip} = ${ipm}.dst; ${portSet}reg9[6] = chk_lb_aff(); next;` }];
  const skipSnat = lb.options.get("skip_snat") === "true";
  const flag = forceSnat ? "flags.force_snat_for_lb = 1; " : skipSnat ? "flags.skip_snat_for_lb = 1; " : "";
  const ctFlag = forceSnat ? "; force_snat" : skipSnat ? "; skip_snat" : "";
  const portMatch = vip.port === undefined ? "" : ` && reg9[16..31] == ${vip.port}`;
  for (const b of backends) {
    const bPort = b.port === undefined ? "" : ` && ${lb.protocol}.dst == ${b.port}`;
    out.push({ stage: "lr_in_lb_aff_learn", priority: 100, match: `reg9[6] == 0 && ct.new && ${ipm} && ${regVip} == ${vip.ip}${portMatch} && ${ipm}.dst == ${b.ip}${bPort}`, actions: learnAction(lb, vip, b, timeout) });
    const known = `reg9[6] == 1 && ct.new && ${ipm} && ${regBackend} == ${b.ip}${b.port === undefined ? "" : ` && reg8[0..15] == ${b.port}`}`;
    out.push({ stage: "lr_in_dnat", priority: 150, match: known, actions: `${regVip} = ${vip.ip}; ${flag}ct_lb_mark(backends=${endpointText(b)}${ctFlag});` });
  }
  return out;
}
