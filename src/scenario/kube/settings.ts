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
 * Every key is optional and defaults to install.sh's value (`NETWORK_TYPE: vlan` installs `ovn-default` on the
 * provider network `provider`, see underlay.ts; TS_NAME and TS_CIDR default to the values the OVN-IC
 * database container's start-ic-db.sh uses). Unknown keys are errors, so a typo does
 * not silently fall back to a default.
 */
import { allKnownHint, error, parseCidr, type Diagnostic } from "../../base/index.js";
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
  LOGICAL_GATEWAY: "false",
  U2O_INTERCONNECTION: "false",
  EXCHANGE_LINK_NAME: "false",
  /** kube-ovn-controller's --external-gateway-switch: the subnet of the VPCs' external ports (OVN EIPs). */
  EXTERNAL_GATEWAY_SWITCH: "external",
  /** --external-gateway-net: `network_name` of the localnet port ovn-external-gw-config creates. */
  EXTERNAL_GATEWAY_NET: "external",
  /** --external-gateway-vlanid: that localnet port's VLAN tag (0: untagged). */
  EXTERNAL_GATEWAY_VLANID: "0",
  /** --enable-eip-snat: "false" ignores ovn-external-gw-config and the pods' eip/snat annotations. */
  ENABLE_EIP_SNAT: "true",
  ENABLE_LB: "true",
  // The OVN-IC database's transit switch (start-ic-db.sh's TS_NAME and TS_CIDR); used only with
  // an enabled ovn-ic-config, and every availability zone must give the same values (ic.ts).
  TS_NAME: "ts",
  TS_CIDR: "169.254.100.0/24",
} as const;

/** The settings that are switches. */
const BOOLEAN_SETTINGS = ["LOGICAL_GATEWAY", "U2O_INTERCONNECTION", "EXCHANGE_LINK_NAME", "ENABLE_EIP_SNAT", "ENABLE_LB"] as const;

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
        diags.push(error("kube.install-config", `${resourceName(c)}: unknown setting ${k} (${allKnownHint(k, Object.keys(DEFAULT_SETTINGS))})`, { loc: c.loc }));
        continue;
      }
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
        diags.push(error("kube.install-config", `${resourceName(c)}: ${k} must be a string`, { loc: c.loc }));
        continue;
      }
      settings[k as keyof Settings] = String(v);
    }
    // install.sh's switches reach kube-ovn-controller as boolean flags, which refuse other text.
    for (const k of BOOLEAN_SETTINGS) {
      if (settings[k] !== "true" && settings[k] !== "false") diags.push(error("kube.install-config", `${resourceName(c)}: ${k} ${JSON.stringify(settings[k])}: expected "true" or "false"`, { loc: c.loc }));
    }
    if (!["geneve", "vxlan"].includes(settings.TUNNEL_TYPE)) diags.push(error("kube.install-config", `${resourceName(c)}: TUNNEL_TYPE ${settings.TUNNEL_TYPE}: expected geneve or vxlan`, { loc: c.loc }));
    if (!["geneve", "vlan"].includes(settings.NETWORK_TYPE)) diags.push(error("kube.install-config", `${resourceName(c)}: NETWORK_TYPE ${settings.NETWORK_TYPE}: expected geneve or vlan`, { loc: c.loc }));
    diags.push(...checkVlanSettings(settings).map((m) => error("kube.install-config", `${resourceName(c)}: ${m}`, { loc: c.loc })));
    for (const m of checkCidrSettings(settings)) {
      diags.push(error("kube.install-config", `${resourceName(c)}: ${m.message}`, { loc: c.loc }));
      settings[m.key] = DEFAULT_SETTINGS[m.key]; // so that the rest still builds
    }
  }
  return { settings, diags };
}

/**
 * The address settings, which take "v4,v6" for a dual-stack install (install.sh's dual-stack
 * defaults: POD_CIDR 10.16.0.0/16,fd00:10:16::/112, JOIN_CIDR 100.64.0.0/16,fd00:100:64::/112,
 * SVC_CIDR 10.96.0.0/12,fd00:10:96::/112, POD_GATEWAY 10.16.0.1,fd00:10:16::1). JOIN_CIDR needs
 * an IPv4 CIDR (the nodes' join addresses and ovn0 are IPv4 first); POD_CIDR may also be IPv6
 * only. POD_GATEWAY is checked against POD_CIDR where the subnet is built, SVC_CIDR's entries
 * where the hosts' ipsets are (node-host.ts).
 */
function checkCidrSettings(s: Settings): { key: "POD_CIDR" | "JOIN_CIDR"; message: string }[] {
  const out: { key: "POD_CIDR" | "JOIN_CIDR"; message: string }[] = [];
  const families = (text: string): (4 | 6)[] | undefined => {
    const fams = text.split(",").map((x) => {
      const c = parseCidr(x.trim());
      return c && x.includes("/") ? c.family : undefined; // a bare address is no CIDR
    });
    if (fams.some((f) => f === undefined) || fams.length > 2 || (fams.length === 2 && fams[0] === fams[1])) return undefined;
    return fams as (4 | 6)[];
  };
  const pod = families(s.POD_CIDR);
  if (!pod) out.push({ key: "POD_CIDR", message: `POD_CIDR ${JSON.stringify(s.POD_CIDR)}: expected an IPv4 CIDR, an IPv6 CIDR, or one of each separated by a comma` });
  const join = families(s.JOIN_CIDR);
  if (!join?.includes(4)) out.push({ key: "JOIN_CIDR", message: `JOIN_CIDR ${JSON.stringify(s.JOIN_CIDR)}: expected an IPv4 CIDR, or an IPv4 and an IPv6 CIDR separated by a comma` });
  return out;
}

/** What is wrong with the vlan-mode settings (kube-ovn-mapping.md §6.2: the default install on a provider network). */
function checkVlanSettings(s: Settings): string[] {
  const out: string[] = [];
  for (const k of ["LOGICAL_GATEWAY", "U2O_INTERCONNECTION", "EXCHANGE_LINK_NAME", "ENABLE_EIP_SNAT"] as const) if (s[k] !== "true" && s[k] !== "false") out.push(`${k} ${s[k]}: expected true or false`);
  if (!/^\d+$/.test(s.EXTERNAL_GATEWAY_VLANID) || Number(s.EXTERNAL_GATEWAY_VLANID) > 4095) out.push(`EXTERNAL_GATEWAY_VLANID ${s.EXTERNAL_GATEWAY_VLANID}: expected a VLAN id in 0..4095`);
  if (s.NETWORK_TYPE !== "vlan") return out;
  if (!/^\d+$/.test(s.VLAN_ID) || Number(s.VLAN_ID) > 4095) out.push(`VLAN_ID ${s.VLAN_ID}: expected a VLAN id in 0..4095`);
  if (!/^[^/\s]{1,15}$/.test(s.VLAN_INTERFACE_NAME)) out.push(`NETWORK_TYPE vlan needs VLAN_INTERFACE_NAME, the NIC of the provider network (a name of 1 to 15 characters), got ${JSON.stringify(s.VLAN_INTERFACE_NAME)}`);
  if (s.LOGICAL_GATEWAY === "true" && s.U2O_INTERCONNECTION === "true") out.push("LOGICAL_GATEWAY and U2O_INTERCONNECTION cannot both be true");
  return out;
}
