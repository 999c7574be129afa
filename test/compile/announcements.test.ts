/**
 * What ovn-controller does when it announces a VIF (src/compile/announcements.ts): which address
 * entry it announces, and the MAC bindings it writes for the routers of the VIF's switch.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { List, Map as IMap } from "immutable";
import { announcedEntry, announcedMacBindings, announcedMacOwners, controllerMacBindings } from "../../src/compile/index.js";
import { MacBinding, type Network } from "../../src/model/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const ROOT = resolve(import.meta.dirname, "../..");

function load(file: string): Network {
  const sc = loadNetworkFile(resolve(ROOT, file));
  if (!sc.ok) throw new Error(sc.diags.map((d) => d.message).join("; "));
  return sc.value.network;
}

const key = (b: { port: string; ip: string; mac: string }): string => `${b.port} ${b.ip} ${b.mac}`;

describe("announcedEntry", () => {
  it("the first entry in string order that starts with a MAC, with its first IPv4 address", () => {
    expect(announcedEntry(["00:00:00:00:00:09 10.0.0.9 10.0.0.10", "00:00:00:00:00:01 fd00::1 10.0.0.1"])).toEqual({ mac: "00:00:00:00:00:01", ipv4: "10.0.0.1" });
    expect(announcedEntry(["unknown", "0A:00:00:00:00:02 10.0.0.2"])).toEqual({ mac: "0a:00:00:00:00:02", ipv4: "10.0.0.2" });
  });

  it("an entry without IPv4 (a RARP), or none with a MAC", () => {
    expect(announcedEntry(["00:00:00:00:00:03 fd00::3"])).toEqual({ mac: "00:00:00:00:00:03", ipv4: undefined });
    expect(announcedEntry(["unknown", "dynamic"])).toBeUndefined();
  });
});

describe("announcedMacBindings (fixtures/ovs/announced-neighbours.yaml)", () => {
  const net = load("fixtures/ovs/announced-neighbours.yaml");

  it("every VIF on a switch with a localnet port, disabled ones too, for each router port of its switch", () => {
    expect(announcedMacBindings(net, []).map(key).sort()).toEqual([
      "lr-a 10.1.0.11 00:00:00:01:00:0b",
      "lr-b 10.2.0.11 00:00:00:02:00:0b",
      "lr-b 10.2.0.12 00:00:00:02:00:0c",
      "lr-b 10.2.0.13 00:00:00:02:00:0d",
    ]);
  });

  it("only the VIFs of the chassis asked for", () => {
    expect(announcedMacBindings(net, [], (c) => c === "node2").map(key)).toEqual(["lr-b 10.2.0.12 00:00:00:02:00:0c"]);
  });

  it("a learned binding of the same port and address is overwritten in place; others stay", () => {
    const learned = [
      { port: "lr-b", ip: "10.2.0.99", mac: "00:00:00:09:09:09" },
      { port: "lr-b", ip: "10.2.0.11", mac: "00:00:00:00:00:ee" },
    ];
    const out = announcedMacBindings(net, learned);
    expect(out.slice(0, 2).map(key)).toEqual(["lr-b 10.2.0.99 00:00:00:09:09:09", "lr-b 10.2.0.11 00:00:00:02:00:0b"]);
    expect(out).toHaveLength(5);
  });

  it("with always_learn_from_arp_request=false, only existing bindings are updated", () => {
    const quiet = net.setIn(["routers", "lr", "options"], IMap({ always_learn_from_arp_request: "false" }));
    expect(announcedMacBindings(quiet, [])).toEqual([]);
    expect(announcedMacBindings(quiet, [{ port: "lr-b", ip: "10.2.0.12", mac: "00:00:00:00:00:ee" }]).map(key)).toEqual(["lr-b 10.2.0.12 00:00:00:02:00:0c"]);
  });

  it("a gateway router's port only for the VIFs of its own chassis", () => {
    const pinned = net.setIn(["routers", "lr", "options"], IMap({ chassis: "node2" }));
    expect(announcedMacBindings(pinned, []).map(key)).toEqual(["lr-b 10.2.0.12 00:00:00:02:00:0c"]);
  });

  it("no localnet port, no announcement", () => {
    const plain = net.setIn(["switches", "vlan-b", "ports"], net.switches.get("vlan-b")!.ports.filter((p) => p.type !== "localnet"));
    expect(announcedMacBindings(plain, []).map(key)).toEqual(["lr-a 10.1.0.11 00:00:00:01:00:0b"]);
  });

  it("controllerMacBindings: the learned ones with the announced over them, then the static ones", () => {
    const withRows = net
      .set("macBindings", List([MacBinding({ logicalPort: "lr-b", ip: "10.2.0.11", mac: "00:00:00:00:00:ee" })]))
      .set("staticMacBindings", List([MacBinding({ logicalPort: "lr-a", ip: "10.1.0.50", mac: "00:00:00:00:00:50" })]));
    const out = controllerMacBindings(withRows).map(key);
    expect(out[0]).toBe("lr-b 10.2.0.11 00:00:00:02:00:0b");
    expect(out.at(-1)).toBe("lr-a 10.1.0.50 00:00:00:00:00:50");
    expect(out).toHaveLength(5);
  });
});

describe("announcedMacOwners: what the provider bridges know before the first packet", () => {
  const owners = (file: string, ls: string): Record<string, string> => Object.fromEntries(announcedMacOwners(load(file)).get(ls) ?? []);

  it("each enabled VIF's announced MAC from its chassis, and a gateway router's port from the router's chassis", () => {
    // a2's second MAC is not announced; gw (options:chassis node2) announces gw-a from node2.
    expect(owners("fixtures/ovs/provider-learning.yaml", "vlan-a")).toEqual({ "00:00:00:01:00:0b": "node1", "00:00:00:01:00:0c": "node2", "00:00:00:01:00:01": "node2" });
  });

  it("a disabled VIF, and a distributed router's port that is no gateway port: nothing", () => {
    // shared-vlan: b3 is disabled. announced-neighbours: lr is distributed, without gateway ports.
    expect(Object.keys(owners("fixtures/ovs/shared-vlan.yaml", "vlan-b")).sort()).toEqual(["00:00:00:02:00:0b", "00:00:00:02:00:0c"]);
    expect(owners("fixtures/ovs/announced-neighbours.yaml", "vlan-a")).toEqual({ "00:00:00:01:00:0b": "node1" });
  });

  it("a distributed gateway port from its active gateway chassis", () => {
    expect(owners("fixtures/ovs/bridged-redirect.yaml", "pub")["00:00:00:ac:00:02"]).toBe("node2");
  });
});
