/**
 * `validateNetwork` on networks built in code: every problem is reported, once, with its model path.
 */
import { List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { formatPath } from "../../src/base/index.js";
import { Acl, Chassis, LoadBalancer, LogicalRouter, LogicalSwitch, Network, parseLbEndpoint, PortGroup, RouterPort, scanMatchRefs, SwitchPort, validateNetwork } from "../../src/model/index.js";
import { exprMatchChecker } from "../../src/scenario/index.js";

function problems(net: Network, withExpr = true): string[] {
  return validateNetwork(net, withExpr ? { checkMatch: exprMatchChecker } : {}).map((d) => `${formatPath(d.path ?? [])}: ${d.code}`);
}

const port = (name: string, addr: string, extra: Partial<Parameters<typeof SwitchPort>[0]> = {}) => SwitchPort({ name, addresses: List([addr]), ...extra });

describe("validateNetwork", () => {
  it("accepts a consistent network", () => {
    const net = Network({
      name: "ok",
      chassis: OrderedMap({ hv1: Chassis({ name: "hv1" }) }),
      switches: OrderedMap({
        ls: LogicalSwitch({
          name: "ls",
          ports: OrderedMap({ a: port("a", "00:00:00:00:00:01 10.0.0.1", { chassis: "hv1" }), b: port("b", "00:00:00:00:00:02 10.0.0.2 fd00::2"), r: port("r", "router", { type: "router", options: OrderedMap({ "router-port": "lr-ls" }) }), u: port("u", "unknown") }),
        }),
      }),
      portGroups: OrderedMap({ pg: PortGroup({ name: "pg", ports: List(["a", "b"]), acls: List([Acl({ direction: "to-lport", priority: 1000, match: 'outport == @pg && inport == "a" && ip4.src == $pg_ip4', action: "drop" })]) }) }),
      routers: OrderedMap({ lr: LogicalRouter({ name: "lr", ports: OrderedMap({ "lr-ls": RouterPort({ name: "lr-ls", mac: "00:00:00:00:ff:01", networks: List(["10.0.0.254/24"]) }) }) }) }),
    });
    expect(problems(net)).toEqual([]);
  });

  it("reports each kind of problem with its path", () => {
    const net = Network({
      name: "bad",
      switches: OrderedMap({
        ls: LogicalSwitch({
          name: "ls",
          ports: OrderedMap({
            a: port("a", "00:00:00:00:00:01 10.0.0.1", { chassis: "nowhere", tag: 4096, portSecurity: List(["zz 10.0.0.1"]) }),
            b: port("b", "00:00:00:00:00:01 10.0.0.1"),
            c: port("c", "01:00:00:00:00:03 10.0.0.999"),
            d: port("d", "router"),
            ln: SwitchPort({ name: "ln", type: "localnet", addresses: List(["unknown"]) }),
          }),
          acls: List([
            Acl({ direction: "from-lport", priority: 32768, match: "ip4.src == $missing", action: "allow" }),
            Acl({ direction: "from-lport", priority: 1, match: "ip4.src ==", action: "drop" }),
          ]),
          loadBalancers: List(["nolb"]),
        }),
        ls2: LogicalSwitch({ name: "ls2", ports: OrderedMap({ a: port("a", "00:00:00:00:00:01 10.0.0.1") }) }),
      }),
      portGroups: OrderedMap({ pg: PortGroup({ name: "pg", ports: List(["a", "ghost"]) }) }),
      loadBalancers: OrderedMap({ lb: LoadBalancer({ name: "lb", vips: OrderedMap({ "10.0.0.300:80": List<string>([]), "10.0.0.101:80": List<string>([]), "[fd00::1]:80": List(["10.0.0.1:80"]) }), selectionFields: List(["ip_proto"]) }) }),
    });
    expect(problems(net).sort()).toEqual(
      [
        "switches[ls].ports[a].portSecurity[0]: model.bad-mac",
        "switches[ls].ports[a].tag: model.bad-tag",
        "switches[ls].ports[a].chassis: model.dangling-chassis",
        "switches[ls].ports[b].addresses[0]: model.duplicate-mac",
        "switches[ls].ports[b].addresses[0]: model.duplicate-ip",
        "switches[ls].ports[c].addresses[0]: model.bad-mac",
        "switches[ls].ports[c].addresses[0]: model.bad-ip",
        "switches[ls].ports[d].addresses[0]: model.bad-address",
        "switches[ls].ports[ln].options: model.missing-option",
        "switches[ls].acls[0].priority: model.bad-priority",
        "switches[ls].acls[0].match: model.dangling-address-set",
        "switches[ls].acls[1].match: model.bad-match",
        "switches[ls].loadBalancers[0]: model.dangling-load-balancer",
        "switches[ls2].ports[a]: model.duplicate-port",
        "portGroups[pg].ports[1]: model.dangling-port",
        "loadBalancers[lb].selectionFields[0]: model.bad-selection-field",
        "loadBalancers[lb].vips[10.0.0.300:80]: model.bad-vip",
        "loadBalancers[lb].vips[[fd00::1]:80][0]: model.bad-backend",
      ].sort(),
    );
  });

  it("without an expression checker still finds $ and @ references, ignoring quoted text", () => {
    expect(scanMatchRefs('inport == "@not" && ip4.src == $as1 && outport == @pg.x')).toEqual({ errors: [], addressSets: ["as1"], portGroups: ["pg.x"] });
    const net = Network({ switches: OrderedMap({ ls: LogicalSwitch({ name: "ls", acls: List([Acl({ match: "outport == @nope", priority: 1 })]) }) }) });
    expect(problems(net, false)).toEqual(["switches[ls].acls[0].match: model.dangling-port-group"]);
  });
});

describe("parseLbEndpoint", () => {
  it("reads IPv4 and IPv6 with and without ports, and rejects malformed ones", () => {
    expect(parseLbEndpoint("10.0.0.1:80")).toEqual({ family: 4, ip: "10.0.0.1", port: 80 });
    expect(parseLbEndpoint("10.0.0.1")).toEqual({ family: 4, ip: "10.0.0.1", port: undefined });
    expect(parseLbEndpoint("[fd00::1]:443")).toEqual({ family: 6, ip: "fd00::1", port: 443 });
    expect(parseLbEndpoint("fd00::1")).toEqual({ family: 6, ip: "fd00::1", port: undefined });
    for (const bad of ["10.0.0.1:0", "10.0.0.1:65536", "10.0.0:80", "[fd00::1", "[fd00::1]80", "fd00::1:80:zz", "", "[10.0.0.1]:80"]) expect(typeof parseLbEndpoint(bad)).toBe("string");
  });
});
