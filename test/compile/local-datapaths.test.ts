/**
 * The datapaths each chassis treats as local (compile/physical.ts `localDatapaths`, after
 * ovn-controller's local_data.c): a gateway router's links are followed only on its own chassis.
 */
import { describe, expect, it } from "vitest";
import { compilePhysical } from "../../src/compile/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";

// sw1 has a VIF on node1 and a link to lr, a gateway router on node2; sw2 hangs off lr too, with
// a localnet port, a localport and a VIF on node3 (replay-fuzz seed 3284 in small).
const NETWORK = `
name: gw-links
chassis:
  - {name: node1, encaps: [{type: geneve, ip: 192.168.0.11}], bridgeMappings: {physnet1: br-ex}}
  - {name: node2, encaps: [{type: geneve, ip: 192.168.0.12}], bridgeMappings: {physnet1: br-ex}}
  - {name: node3, encaps: [{type: geneve, ip: 192.168.0.13}], bridgeMappings: {physnet1: br-ex}}
routers:
  - name: lr
    options: {chassis: node2}
    ports:
      - {name: lr-sw1, mac: "00:00:00:01:00:01", networks: [10.1.0.1/24]}
      - {name: lr-sw2, mac: "00:00:00:02:00:01", networks: [10.2.0.1/24]}
switches:
  - name: sw1
    ports:
      - {name: sw1-ln, type: localnet, addresses: [unknown], options: {network_name: physnet1}}
      - {name: sw1-rp, type: router, addresses: [router], options: {router-port: lr-sw1}}
      - {name: p1, addresses: ["00:00:00:01:00:02 10.1.0.11"], chassis: node1}
  - name: sw2
    ports:
      - {name: sw2-ln, type: localnet, addresses: [unknown], options: {network_name: physnet1}}
      - {name: sw2-rp, type: router, addresses: [router], options: {router-port: lr-sw2}}
      - {name: sw2-lp, type: localport, addresses: ["00:00:00:02:00:fe 10.2.0.254"]}
      - {name: p2, addresses: ["00:00:00:02:00:02 10.2.0.11"], chassis: node3}
`;

describe("local datapaths across a gateway router's links", () => {
  const sc = loadNetworkText(NETWORK, "gw-links.yaml");
  if (!sc.ok) throw new Error(sc.diags.map((d) => d.message).join("; "));
  const plan = compilePhysical(sc.value.network);
  if (!plan.ok) throw new Error(plan.diags.map((d) => d.message).join("; "));

  /** The names of the datapaths chassis `name` treats as local, sorted. */
  const local = (name: string): string[] => {
    const c = plan.value.chassis.get(name)!;
    return [...c.localDatapaths].map((k) => [...c.program.datapaths.values()].find((d) => d.key === k)!.name).sort();
  };

  it("the router's chassis: the router and every switch it links", () => {
    expect(local("node2")).toEqual(["lr", "sw1", "sw2"]);
  });

  it("another chassis: only the switches of its own VIFs, not the router nor what lies past it", () => {
    expect(local("node1")).toEqual(["sw1"]);
    expect(local("node3")).toEqual(["sw2"]);
  });

  it("so a chassis has a provider attachment only for its local switches", () => {
    expect([...plan.value.chassis.get("node1")!.localnets.values()].map((l) => l.name)).toEqual(["sw1-ln"]);
  });
});
