/**
 * Networks built with ovn-nbctl for recording what ovn-northd generates (test/expr/ovn-lflows.test.ts).
 *
 * Each scenario is a list of commands for a fresh sandbox: `nb` runs ovn-nbctl, `sb` ovn-sbctl,
 * `chassis` adds a fake chassis with 23.03's feature flags. A command's output can be saved under
 * a name (`save`) and used in later arguments as `$name` (for the UUIDs that `create` prints).
 */
import type { OvnSandbox } from "../../src/ovn/index.js";

export type Step =
  | { readonly kind: "nb"; readonly args: readonly string[]; readonly save?: string }
  | { readonly kind: "sb"; readonly args: readonly string[] }
  | { readonly kind: "chassis"; readonly name: string; readonly ip: string };

export interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly steps: readonly Step[];
}

const nb = (...args: string[]): Step => ({ kind: "nb", args });
const nbSave = (save: string, ...args: string[]): Step => ({ kind: "nb", args, save });
const sb = (...args: string[]): Step => ({ kind: "sb", args });
const chassis = (name: string, ip: string): Step => ({ kind: "chassis", name, ip });

/** A VIF with addresses (and the same port security unless `ps` says otherwise). */
function vif(sw: string, port: string, addresses: string, ps: string | null = addresses): Step[] {
  const out = [nb("lsp-add", sw, port), nb("lsp-set-addresses", port, addresses)];
  if (ps !== null) out.push(nb("lsp-set-port-security", port, ps));
  return out;
}

/** A switch port peered with a router port. */
function routerPort(sw: string, lrp: string): Step[] {
  const p = `${sw}-${lrp}`;
  return [nb("lsp-add", sw, p), nb("lsp-set-type", p, "router"), nb("lsp-set-addresses", p, "router"), nb("lsp-set-options", p, `router-port=${lrp}`)];
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "switch",
    what: "a switch with VIFs (addresses, port security, unknown), a localport, a tagged localnet port and DHCPv4/v6 options",
    steps: [
      chassis("hv1", "192.0.2.1"),
      nb("ls-add", "sw0"),
      ...vif("sw0", "sw0-p1", "00:00:00:00:01:01 10.0.0.11 fd00::11"),
      ...vif("sw0", "sw0-p2", "00:00:00:00:01:02 10.0.0.12", "00:00:00:00:01:02 10.0.0.12 10.0.0.0/24"),
      ...vif("sw0", "sw0-p3", "unknown", null),
      ...vif("sw0", "sw0-p4", "00:00:00:00:01:04", "00:00:00:00:01:04"),
      nb("lsp-add", "sw0", "sw0-lp"),
      nb("lsp-set-type", "sw0-lp", "localport"),
      nb("lsp-set-addresses", "sw0-lp", "00:00:00:00:01:fe 10.0.0.254"),
      nb("lsp-add", "sw0", "ln-sw0", "", "100"),
      nb("lsp-set-type", "ln-sw0", "localnet"),
      nb("lsp-set-addresses", "ln-sw0", "unknown"),
      nb("lsp-set-options", "ln-sw0", "network_name=physnet1"),
      nbSave("dhcp4", "create", "DHCP_Options", "cidr=10.0.0.0/24", 'options="lease_time"="3600" "router"="10.0.0.1" "server_id"="10.0.0.1" "server_mac"="00:00:00:00:ff:01" "dns_server"="10.0.0.1"'),
      nb("lsp-set-dhcpv4-options", "sw0-p1", "$dhcp4"),
      nbSave("dhcp6", "create", "DHCP_Options", "cidr=fd00\\:\\:/64", 'options="server_id"="00:00:00:00:ff:02"'),
      nb("lsp-set-dhcpv6-options", "sw0-p1", "$dhcp6"),
      sb("lsp-bind", "sw0-p1", "hv1"),
    ],
  },
  {
    name: "acl",
    what: "ACLs of every action 23.03 has (allow, allow-related, allow-stateless, drop, reject; with logging, a label, after-LB) on a switch and on port groups, with address sets and port groups",
    steps: [
      nb("ls-add", "sw1"),
      ...vif("sw1", "sw1-p1", "00:00:00:00:11:01 10.1.0.11"),
      ...vif("sw1", "sw1-p2", "00:00:00:00:11:02 10.1.0.12 fd01::12"),
      ...vif("sw1", "sw1-p3", "00:00:00:00:11:03 10.1.0.13"),
      nb("pg-add", "pg_web", "sw1-p1", "sw1-p2"),
      nb("pg-add", "pg_db", "sw1-p3"),
      nb("create", "Address_Set", "name=as_allow", 'addresses="10.1.0.0/24","192.168.0.5"'),
      nb("create", "Address_Set", "name=as_v6", 'addresses="fd01::/64"'),
      nb("acl-add", "sw1", "from-lport", "1002", "inport == @pg_web && ip4", "allow-related"),
      nb("acl-add", "sw1", "to-lport", "1002", "outport == @pg_web && ip4.src == $as_allow && tcp.dst == {80, 443}", "allow-related"),
      nb("acl-add", "sw1", "to-lport", "1001", "outport == @pg_web && ip4", "drop"),
      nb("acl-add", "pg_db", "to-lport", "1000", "outport == @pg_db && ip4.src == $pg_web_ip4 && tcp.dst == 5432", "allow"),
      nb("--log", "--severity=alert", "--name=db-reject", "acl-add", "pg_db", "to-lport", "900", "outport == @pg_db && ip", "reject"),
      nb("acl-add", "sw1", "from-lport", "800", "udp.dst == 53", "allow-stateless"),
      nb("acl-add", "sw1", "from-lport", "700", "ip6.src == $as_v6 && icmp6", "allow"),
      nb("acl-add", "sw1", "to-lport", "600", "outport == \"sw1-p3\" && arp", "allow"),
      nb("--log", "acl-add", "sw1", "from-lport", "500", "inport == \"sw1-p3\" && (tcp.dst >= 1000 && tcp.dst <= 2000)", "drop"),
      nb("--label=1234", "acl-add", "sw1", "to-lport", "400", "outport == @pg_db && ip6", "allow-related"),
      nb("--apply-after-lb", "acl-add", "sw1", "from-lport", "300", "ip4.dst == 10.1.0.100 && udp", "allow"),
    ],
  },
  {
    name: "lb",
    what: "load balancers with TCP, UDP, IPv6 and port-less VIPs on a switch",
    steps: [
      nb("ls-add", "sw2"),
      ...vif("sw2", "sw2-p1", "00:00:00:00:22:01 10.2.0.11 fd02::11"),
      ...vif("sw2", "sw2-p2", "00:00:00:00:22:02 10.2.0.12 fd02::12"),
      nb("lb-add", "lb-tcp", "10.2.0.100:80", "10.2.0.11:8080,10.2.0.12:8080", "tcp"),
      nb("lb-add", "lb-udp", "10.2.0.100:53", "10.2.0.11:53,10.2.0.12:53", "udp"),
      nb("lb-add", "lb-v6", "[fd02::100]:80", "[fd02::11]:8080", "tcp"),
      nb("lb-add", "lb-any", "10.2.0.200", "10.2.0.11,10.2.0.12"),
      nb("ls-lb-add", "sw2", "lb-tcp"),
      nb("ls-lb-add", "sw2", "lb-udp"),
      nb("ls-lb-add", "sw2", "lb-v6"),
      nb("ls-lb-add", "sw2", "lb-any"),
    ],
  },
  {
    name: "router",
    what: "a router between two switches with a distributed gateway port, static and ECMP routes, policies, SNAT/DNAT/dnat_and_snat NAT and a load balancer",
    steps: [
      chassis("hv1", "192.0.2.1"),
      nb("lr-add", "lr3"),
      nb("ls-add", "sw3a"),
      nb("ls-add", "sw3b"),
      nb("ls-add", "pub3"),
      nb("lrp-add", "lr3", "lr3-sw3a", "00:00:00:00:33:01", "10.3.1.1/24", "fd03:1::1/64"),
      nb("lrp-add", "lr3", "lr3-sw3b", "00:00:00:00:33:02", "10.3.2.1/24"),
      nb("lrp-add", "lr3", "lr3-pub", "00:00:00:00:33:ff", "172.16.3.1/24"),
      ...routerPort("sw3a", "lr3-sw3a"),
      ...routerPort("sw3b", "lr3-sw3b"),
      ...routerPort("pub3", "lr3-pub"),
      nb("lrp-set-gateway-chassis", "lr3-pub", "hv1", "10"),
      ...vif("sw3a", "sw3a-p1", "00:00:00:00:3a:01 10.3.1.11 fd03:1::11"),
      ...vif("sw3b", "sw3b-p1", "00:00:00:00:3b:01 10.3.2.11"),
      nb("lsp-add", "pub3", "ln-pub3"),
      nb("lsp-set-type", "ln-pub3", "localnet"),
      nb("lsp-set-addresses", "ln-pub3", "unknown"),
      nb("lsp-set-options", "ln-pub3", "network_name=physnet1"),
      nb("lr-route-add", "lr3", "0.0.0.0/0", "172.16.3.254"),
      nb("lr-route-add", "lr3", "192.168.30.0/24", "10.3.1.100"),
      nb("--ecmp", "lr-route-add", "lr3", "192.168.31.0/24", "10.3.1.101"),
      nb("--ecmp", "lr-route-add", "lr3", "192.168.31.0/24", "10.3.1.102"),
      nb("lr-route-add", "lr3", "fd99::/64", "fd03:1::100"),
      nb("lr-policy-add", "lr3", "1000", "ip4.src == 10.3.1.0/24 && ip4.dst == 10.3.2.0/24", "allow"),
      nb("lr-policy-add", "lr3", "900", "ip4.dst == 8.8.8.8", "reroute", "10.3.1.100"),
      nb("lr-policy-add", "lr3", "800", "ip4.src == 10.3.2.11 && tcp", "drop"),
      nb("lr-nat-add", "lr3", "snat", "172.16.3.10", "10.3.1.0/24"),
      nb("lr-nat-add", "lr3", "dnat_and_snat", "172.16.3.20", "10.3.2.11"),
      nb("lr-nat-add", "lr3", "dnat", "172.16.3.30", "10.3.1.11"),
      nb("lr-nat-add", "lr3", "dnat_and_snat", "172.16.3.40", "10.3.1.11", "sw3a-p1", "00:00:00:00:3a:40"),
      nb("lb-add", "lb3", "172.16.3.100:80", "10.3.1.11:80,10.3.2.11:80", "tcp"),
      nb("lr-lb-add", "lr3", "lb3"),
      sb("lsp-bind", "sw3a-p1", "hv1"),
    ],
  },
  {
    name: "gateway",
    what: "a gateway router bound to a chassis, joined to a distributed router, with SNAT, a load balancer (with force-SNAT) and static routes",
    steps: [
      chassis("hv1", "192.0.2.1"),
      chassis("gw1", "192.0.2.100"),
      nb("lr-add", "gr4"),
      nb("set", "Logical_Router", "gr4", "options:chassis=gw1", "options:lb_force_snat_ip=router_ip", "options:dynamic_neigh_routers=true"),
      nb("lr-add", "lr4"),
      nb("ls-add", "join4"),
      nb("ls-add", "sw4"),
      nb("ls-add", "ext4"),
      nb("lrp-add", "gr4", "gr4-join", "00:00:00:00:44:01", "100.64.0.1/16"),
      nb("lrp-add", "lr4", "lr4-join", "00:00:00:00:44:02", "100.64.0.2/16"),
      nb("lrp-add", "lr4", "lr4-sw4", "00:00:00:00:44:03", "10.4.0.1/24"),
      nb("lrp-add", "gr4", "gr4-ext", "00:00:00:00:44:ff", "172.16.4.1/24"),
      ...routerPort("join4", "gr4-join"),
      ...routerPort("join4", "lr4-join"),
      ...routerPort("sw4", "lr4-sw4"),
      ...routerPort("ext4", "gr4-ext"),
      ...vif("sw4", "sw4-p1", "00:00:00:00:4a:01 10.4.0.11"),
      nb("lsp-add", "ext4", "ln-ext4", "", "200"),
      nb("lsp-set-type", "ln-ext4", "localnet"),
      nb("lsp-set-addresses", "ln-ext4", "unknown"),
      nb("lsp-set-options", "ln-ext4", "network_name=physnet2"),
      nb("lr-route-add", "gr4", "10.4.0.0/24", "100.64.0.2"),
      nb("lr-route-add", "gr4", "0.0.0.0/0", "172.16.4.254"),
      nb("lr-route-add", "lr4", "0.0.0.0/0", "100.64.0.1"),
      nb("lr-nat-add", "gr4", "snat", "172.16.4.1", "10.4.0.0/24"),
      nb("lb-add", "lb4", "172.16.4.100:8080", "10.4.0.11:80", "tcp"),
      nb("lr-lb-add", "gr4", "lb4"),
      nb("ls-lb-add", "sw4", "lb4"),
      sb("lsp-bind", "sw4-p1", "hv1"),
    ],
  },
];

/**
 * Applies a scenario's steps to a running sandbox and waits for ovn-northd. A step may save its
 * output (a row UUID) under a name that later `nb` steps use as `$name`. Throws on any failure.
 */
export function applyScenario(sb: OvnSandbox, sc: Scenario): void {
  const saved = new Map<string, string>();
  for (const st of sc.steps) {
    const r =
      st.kind === "nb"
        ? sb.nbctl(...st.args.map((a) => (a.startsWith("$") && saved.has(a.slice(1)) ? saved.get(a.slice(1))! : a)))
        : st.kind === "sb"
          ? sb.sbctl(...st.args)
          : sb.addChassis(st.name, st.ip);
    if (!r.ok) throw new Error(`${sc.name}: ${r.diags[0]!.message}`);
    if (st.kind === "nb" && st.save) saved.set(st.save, r.value.trim());
  }
  const y = sb.sync();
  if (!y.ok) throw new Error(y.diags[0]!.message);
}
