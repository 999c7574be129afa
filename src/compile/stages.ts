/**
 * The stages of OVN 23.03's logical pipelines: for logical switches and logical routers, the
 * ingress and egress stages in table order, with OVN's names and table numbers (ovn-northd's
 * `PIPELINE_STAGES`, as ovn-northd 23.03.1 numbers them in the Southbound `Logical_Flow` table).
 *
 * This is the one place stage names and numbers are defined; the compiler and the lowering of
 * logical flows look stages up here by name or by (datapath, pipeline, table).
 *
 * Invariants (checked by test/compile/lower.test.ts): within each (datapath, pipeline) the tables
 * are 0, 1, 2, ... without gaps; names are unique; a name starts with `ls_in_`, `ls_out_`,
 * `lr_in_` or `lr_out_` according to its datapath and pipeline.
 */
export type DatapathKind = "switch" | "router";
export type PipelineName = "ingress" | "egress";

export interface Stage {
  readonly datapath: DatapathKind;
  readonly pipeline: PipelineName;
  readonly table: number;
  readonly name: string;
}

/** Every stage, switch ingress first, then switch egress, router ingress, router egress. */
export const STAGES: readonly Stage[] = Object.freeze([
  { datapath: "switch", pipeline: "ingress", table: 0, name: "ls_in_check_port_sec" },
  { datapath: "switch", pipeline: "ingress", table: 1, name: "ls_in_apply_port_sec" },
  { datapath: "switch", pipeline: "ingress", table: 2, name: "ls_in_lookup_fdb" },
  { datapath: "switch", pipeline: "ingress", table: 3, name: "ls_in_put_fdb" },
  { datapath: "switch", pipeline: "ingress", table: 4, name: "ls_in_pre_acl" },
  { datapath: "switch", pipeline: "ingress", table: 5, name: "ls_in_pre_lb" },
  { datapath: "switch", pipeline: "ingress", table: 6, name: "ls_in_pre_stateful" },
  { datapath: "switch", pipeline: "ingress", table: 7, name: "ls_in_acl_hint" },
  { datapath: "switch", pipeline: "ingress", table: 8, name: "ls_in_acl" },
  { datapath: "switch", pipeline: "ingress", table: 9, name: "ls_in_qos_mark" },
  { datapath: "switch", pipeline: "ingress", table: 10, name: "ls_in_qos_meter" },
  { datapath: "switch", pipeline: "ingress", table: 11, name: "ls_in_lb_aff_check" },
  { datapath: "switch", pipeline: "ingress", table: 12, name: "ls_in_lb" },
  { datapath: "switch", pipeline: "ingress", table: 13, name: "ls_in_lb_aff_learn" },
  { datapath: "switch", pipeline: "ingress", table: 14, name: "ls_in_pre_hairpin" },
  { datapath: "switch", pipeline: "ingress", table: 15, name: "ls_in_nat_hairpin" },
  { datapath: "switch", pipeline: "ingress", table: 16, name: "ls_in_hairpin" },
  { datapath: "switch", pipeline: "ingress", table: 17, name: "ls_in_acl_after_lb" },
  { datapath: "switch", pipeline: "ingress", table: 18, name: "ls_in_stateful" },
  { datapath: "switch", pipeline: "ingress", table: 19, name: "ls_in_arp_rsp" },
  { datapath: "switch", pipeline: "ingress", table: 20, name: "ls_in_dhcp_options" },
  { datapath: "switch", pipeline: "ingress", table: 21, name: "ls_in_dhcp_response" },
  { datapath: "switch", pipeline: "ingress", table: 22, name: "ls_in_dns_lookup" },
  { datapath: "switch", pipeline: "ingress", table: 23, name: "ls_in_dns_response" },
  { datapath: "switch", pipeline: "ingress", table: 24, name: "ls_in_external_port" },
  { datapath: "switch", pipeline: "ingress", table: 25, name: "ls_in_l2_lkup" },
  { datapath: "switch", pipeline: "ingress", table: 26, name: "ls_in_l2_unknown" },
  { datapath: "switch", pipeline: "egress", table: 0, name: "ls_out_pre_acl" },
  { datapath: "switch", pipeline: "egress", table: 1, name: "ls_out_pre_lb" },
  { datapath: "switch", pipeline: "egress", table: 2, name: "ls_out_pre_stateful" },
  { datapath: "switch", pipeline: "egress", table: 3, name: "ls_out_acl_hint" },
  { datapath: "switch", pipeline: "egress", table: 4, name: "ls_out_acl" },
  { datapath: "switch", pipeline: "egress", table: 5, name: "ls_out_qos_mark" },
  { datapath: "switch", pipeline: "egress", table: 6, name: "ls_out_qos_meter" },
  { datapath: "switch", pipeline: "egress", table: 7, name: "ls_out_stateful" },
  { datapath: "switch", pipeline: "egress", table: 8, name: "ls_out_check_port_sec" },
  { datapath: "switch", pipeline: "egress", table: 9, name: "ls_out_apply_port_sec" },
  { datapath: "router", pipeline: "ingress", table: 0, name: "lr_in_admission" },
  { datapath: "router", pipeline: "ingress", table: 1, name: "lr_in_lookup_neighbor" },
  { datapath: "router", pipeline: "ingress", table: 2, name: "lr_in_learn_neighbor" },
  { datapath: "router", pipeline: "ingress", table: 3, name: "lr_in_ip_input" },
  { datapath: "router", pipeline: "ingress", table: 4, name: "lr_in_unsnat" },
  { datapath: "router", pipeline: "ingress", table: 5, name: "lr_in_defrag" },
  { datapath: "router", pipeline: "ingress", table: 6, name: "lr_in_lb_aff_check" },
  { datapath: "router", pipeline: "ingress", table: 7, name: "lr_in_dnat" },
  { datapath: "router", pipeline: "ingress", table: 8, name: "lr_in_lb_aff_learn" },
  { datapath: "router", pipeline: "ingress", table: 9, name: "lr_in_ecmp_stateful" },
  { datapath: "router", pipeline: "ingress", table: 10, name: "lr_in_nd_ra_options" },
  { datapath: "router", pipeline: "ingress", table: 11, name: "lr_in_nd_ra_response" },
  { datapath: "router", pipeline: "ingress", table: 12, name: "lr_in_ip_routing_pre" },
  { datapath: "router", pipeline: "ingress", table: 13, name: "lr_in_ip_routing" },
  { datapath: "router", pipeline: "ingress", table: 14, name: "lr_in_ip_routing_ecmp" },
  { datapath: "router", pipeline: "ingress", table: 15, name: "lr_in_policy" },
  { datapath: "router", pipeline: "ingress", table: 16, name: "lr_in_policy_ecmp" },
  { datapath: "router", pipeline: "ingress", table: 17, name: "lr_in_arp_resolve" },
  { datapath: "router", pipeline: "ingress", table: 18, name: "lr_in_chk_pkt_len" },
  { datapath: "router", pipeline: "ingress", table: 19, name: "lr_in_larger_pkts" },
  { datapath: "router", pipeline: "ingress", table: 20, name: "lr_in_gw_redirect" },
  { datapath: "router", pipeline: "ingress", table: 21, name: "lr_in_arp_request" },
  { datapath: "router", pipeline: "egress", table: 0, name: "lr_out_chk_dnat_local" },
  { datapath: "router", pipeline: "egress", table: 1, name: "lr_out_undnat" },
  { datapath: "router", pipeline: "egress", table: 2, name: "lr_out_post_undnat" },
  { datapath: "router", pipeline: "egress", table: 3, name: "lr_out_snat" },
  { datapath: "router", pipeline: "egress", table: 4, name: "lr_out_post_snat" },
  { datapath: "router", pipeline: "egress", table: 5, name: "lr_out_egr_loop" },
  { datapath: "router", pipeline: "egress", table: 6, name: "lr_out_delivery" },
]);

const byName = new Map<string, Stage>(STAGES.map((s) => [s.name, s]));

/** The stage called `name` (`ls_in_acl`), if any. */
export function stageByName(name: string): Stage | undefined {
  return byName.get(name);
}

const byPipeline = new Map<string, readonly Stage[]>();

/** The stages of one pipeline, in table order (one frozen list per pipeline, made once). */
export function pipelineStages(datapath: DatapathKind, pipeline: PipelineName): readonly Stage[] {
  const key = `${datapath} ${pipeline}`;
  let list = byPipeline.get(key);
  if (list === undefined) {
    list = Object.freeze(STAGES.filter((s) => s.datapath === datapath && s.pipeline === pipeline));
    byPipeline.set(key, list);
  }
  return list;
}

/** The stage at `table` of a pipeline, if the pipeline has that many tables. */
export function stageAt(datapath: DatapathKind, pipeline: PipelineName, table: number): Stage | undefined {
  return STAGES.find((s) => s.datapath === datapath && s.pipeline === pipeline && s.table === table);
}

/** The table number of stage `name`; undefined for an unknown name. */
export function stageTable(name: string): number | undefined {
  return byName.get(name)?.table;
}
