/**
 * Probes: packets a scenario traces, with the outcome expected from real OVN.
 *
 * A probe is exactly the input of one `ovn-trace` run (datapath, microflow, `--ct`, `--lb-dst`,
 * `--select-id`) plus its expected verdict (or none: `unchecked`). `datapath` is always resolved:
 * when the file leaves it out, the loader takes the switch of the microflow's `inport`.
 */
import type { Diagnostic } from "../base/index.js";
import type { KubeNames } from "./kube/build.js";
import type { Network } from "../model/index.js";

/**
 * Where the packet ends: a set of output ports (with rewritten fields), or a drop; or `unchecked`
 * for a probe that states no expectation (generated probes, probes files without `expect`), whose
 * only judge is real OVN.
 */
export type ProbeExpect =
  | {
      readonly kind: "output";
      /** Ports the packet leaves by; order does not matter. */
      readonly ports: readonly string[];
      /** Header fields rewritten on the way, by OVN field name (`ip4.dst`, `eth.dst`, ...). */
      readonly fields: Readonly<Record<string, string>>;
    }
  | { readonly kind: "drop" }
  | { readonly kind: "unchecked" };

export interface Probe {
  readonly name: string;
  readonly datapath: string;
  readonly microflow: string;
  /** `--ct` values in order, each a comma-separated flag list (`est,rpl`). */
  readonly ct: readonly string[];
  readonly lbDst?: string;
  readonly selectId?: number;
  readonly expect: ProbeExpect;
}

/** A loaded scenario file. */
export interface Scenario {
  readonly network: Network;
  readonly probes: readonly Probe[];
  /**
   * Scenario files of the other availability zones this one is joined with by OVN-IC, as written
   * (relative to this file's directory); empty when there are none.
   */
  readonly zones: readonly string[];
  /** For networks built from Kube-OVN manifests: the pods, services and nodes by their Kubernetes names. */
  readonly kube?: KubeNames;
  /**
   * Warnings of the loader that do not stop the load (for OVN databases: what is not modelled,
   * with counts); the CLI prints them to stderr.
   */
  readonly warnings?: readonly Diagnostic[];
}
