/**
 * Kube-OVN's install settings (install.sh variables, kube-ovn-mapping.md §1.1) as a manifest:
 *
 * ```yaml
 * apiVersion: ovnsim.io/v1
 * kind: InstallConfig
 * metadata: {name: install}
 * spec: {POD_CIDR: 10.16.0.0/16, TUNNEL_TYPE: vxlan}
 * ```
 *
 * Every key is optional and defaults to install.sh's value (for TS_NAME and TS_CIDR, to the value
 * the OVN-IC database container's start-ic-db.sh uses). Unknown keys are errors, so a typo does
 * not silently fall back to a default.
 */
import { error, type Diagnostic } from "../../base/index.js";
import { resourceName, type KubeObject } from "./types.js";

export const DEFAULT_SETTINGS = {
  POD_CIDR: "10.16.0.0/16",
  POD_GATEWAY: "10.16.0.1",
  JOIN_CIDR: "100.64.0.0/16",
  SVC_CIDR: "10.96.0.0/12",
  EXCLUDE_IPS: "",
  TUNNEL_TYPE: "geneve",
  NETWORK_TYPE: "geneve",
  VLAN_INTERFACE_NAME: "",
  VLAN_ID: "100",
  ENABLE_LB: "true",
  // The OVN-IC database's transit switch (start-ic-db.sh's TS_NAME and TS_CIDR); used only with
  // an enabled ovn-ic-config, and every availability zone must give the same values (ic.ts).
  TS_NAME: "ts",
  TS_CIDR: "169.254.100.0/24",
} as const;

export type Settings = { -readonly [K in keyof typeof DEFAULT_SETTINGS]: string };

export function readSettings(objs: readonly KubeObject[]): { settings: Settings; diags: Diagnostic[] } {
  const settings: Settings = { ...DEFAULT_SETTINGS };
  const diags: Diagnostic[] = [];
  const configs = objs.filter((o) => o.kind === "InstallConfig");
  if (configs.length > 1) diags.push(error("kube.install-config", `${resourceName(configs[1]!)}: only one InstallConfig may be given`, { loc: configs[1]!.loc }));
  const c = configs[0];
  if (c) {
    for (const [k, v] of Object.entries(c.spec)) {
      if (!(k in DEFAULT_SETTINGS)) {
        diags.push(error("kube.install-config", `${resourceName(c)}: unknown setting ${k} (known: ${Object.keys(DEFAULT_SETTINGS).join(", ")})`, { loc: c.loc }));
        continue;
      }
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
        diags.push(error("kube.install-config", `${resourceName(c)}: ${k} must be a string`, { loc: c.loc }));
        continue;
      }
      settings[k as keyof Settings] = String(v);
    }
    if (!["geneve", "vxlan"].includes(settings.TUNNEL_TYPE)) diags.push(error("kube.install-config", `${resourceName(c)}: TUNNEL_TYPE ${settings.TUNNEL_TYPE}: expected geneve or vxlan`, { loc: c.loc }));
    if (settings.NETWORK_TYPE !== "geneve") diags.push(error("kube.install-config", `${resourceName(c)}: NETWORK_TYPE ${settings.NETWORK_TYPE}: only the overlay install (geneve) is mapped so far`, { loc: c.loc }));
  }
  return { settings, diags };
}
