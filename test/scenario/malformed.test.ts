/**
 * Malformed scenarios: each problem gives exactly one line, `file:line:col: [path: ]error: message`.
 * Besides the golden text, every location is checked independently: the source text at that line
 * and column must start with the token the message is about.
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/base/index.js";
import { loadScenario } from "../../src/scenario/index.js";

interface Case {
  readonly text: string;
  /** Expected lines, each with the token found at its line:col. */
  readonly expected: readonly (readonly [line: string, token: string])[];
}

const CASES: Record<string, Case> = {
  "yaml-syntax": {
    text: `name: x
switches:
  - name: sw
    ports: [{name: a, addresses: ["00:00:00:00:00:01 10.0.0.1"]
`,
    expected: [["yaml-syntax.yaml:5:1: error: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }", ""]],
  },
  "unknown-field": {
    text: `name: x
switches:
  - name: sw
    prots: []
    ports:
      - {name: a, adresses: ["00:00:00:00:00:01 10.0.0.1"]}
`,
    expected: [
      ['unknown-field.yaml:4:5: error: unknown field "prots" in switch; did you mean ports? allowed: name, ports, acls, loadBalancers, otherConfig, tunnelKey, externalIds', "prots"],
      ['unknown-field.yaml:6:19: error: unknown field "adresses" in port; did you mean addresses? allowed: name, type, addresses, portSecurity, options, tag, chassis, enabled, tunnelKey, externalIds', "adresses"],
    ],
  },
  "bad-cidr": {
    text: `name: x
addressSets:
  - {name: as1, addresses: [10.0.0.0/33]}
switches:
  - name: sw
    ports:
      - name: a
        addresses: ["00:00:00:00:00:01 10.0.0.1"]
        portSecurity: ["00:00:00:00:00:01 10.0.0.1/40"]
`,
    expected: [
      ['bad-cidr.yaml:3:29: addressSets[as1].addresses[0]: error: "10.0.0.0/33" is not an IP address, CIDR or MAC', "10.0.0.0/33"],
      ['bad-cidr.yaml:9:24: switches[sw].ports[a].portSecurity[0]: error: "10.0.0.1/40" is not an IP address or CIDR', '"00:00:00:00:00:01 10.0.0.1/40"'],
    ],
  },
  "dangling-reference": {
    text: `name: x
portGroups:
  - {name: pg1, ports: [a, ghost]}
switches:
  - name: sw
    loadBalancers: [nolb]
    ports:
      - {name: a, addresses: ["00:00:00:00:00:01 10.0.0.1"], chassis: hv9}
    acls:
      - {direction: to-lport, priority: 1000, match: 'ip4.src == $nope && outport == @pg1', action: allow}
      - {direction: to-lport, priority: 1001, match: 'outport == @pg2', action: drop}
`,
    expected: [
      ['dangling-reference.yaml:3:28: portGroups[pg1].ports[1]: error: port group member "ghost" is no switch port', "ghost"],
      ['dangling-reference.yaml:6:21: switches[sw].loadBalancers[0]: error: load balancer "nolb" does not exist', "nolb"],
      ['dangling-reference.yaml:8:71: switches[sw].ports[a].chassis: error: port is bound to chassis "hv9", which does not exist', "hv9"],
      ['dangling-reference.yaml:10:54: switches[sw].acls[0].match: error: ACL match refers to address set "$nope", which does not exist', "'ip4.src == $nope"],
      ['dangling-reference.yaml:11:54: switches[sw].acls[1].match: error: ACL match refers to port group "@pg2", which does not exist', "'outport == @pg2"],
    ],
  },
  "duplicate-address": {
    text: `name: x
switches:
  - name: sw
    ports:
      - {name: a, addresses: ["00:00:00:00:00:01 10.0.0.1"]}
      - {name: b, addresses: ["00:00:00:00:00:02 10.0.0.1"]}
      - {name: c, addresses: ["00:00:00:00:00:01 10.0.0.3"]}
  - name: sw2
    ports:
      - {name: a, addresses: ["00:00:00:00:00:01 10.0.0.1"]}
`,
    expected: [
      ['duplicate-address.yaml:6:31: switches[sw].ports[b].addresses[0]: error: IP 10.0.0.1 is already used by port "a" on this switch', '"00:00:00:00:00:02'],
      ['duplicate-address.yaml:7:31: switches[sw].ports[c].addresses[0]: error: MAC 00:00:00:00:00:01 is already used by port "a" on this switch', '"00:00:00:00:00:01 10.0.0.3'],
      ['duplicate-address.yaml:10:9: switches[sw2].ports[a]: error: port name "a" is already used on switch "sw"', "{name: a"],
    ],
  },
  "bad-vip": {
    text: `name: x
loadBalancers:
  - name: lb1
    protocol: tcp
    vips:
      "10.96.0.1:80": ["10.0.0.2:8080", "fd00::2"]
      "10.96.0.300:80": ["10.0.0.3:8080"]
      "10.96.0.2:99999": ["10.0.0.3"]
      "10.96.0.3:80": ["10.0.0.3"]
`,
    expected: [
      ["bad-vip.yaml:6:41: loadBalancers[lb1].vips[10.96.0.1:80][1]: error: backend fd00::2 is IPv6 but VIP 10.96.0.1:80 is IPv4", '"fd00::2"'],
      ['bad-vip.yaml:7:7: loadBalancers[lb1].vips[10.96.0.300:80]: error: bad VIP: "10.96.0.300" is not an IPv4 address', '"10.96.0.300:80"'],
      ['bad-vip.yaml:8:7: loadBalancers[lb1].vips[10.96.0.2:99999]: error: bad VIP: port "99999" in "10.96.0.2:99999" is not in 1..65535', '"10.96.0.2:99999"'],
      ["bad-vip.yaml:9:24: loadBalancers[lb1].vips[10.96.0.3:80][0]: error: backend 10.0.0.3 and VIP 10.96.0.3:80 must both have a port or both have none", '"10.0.0.3"'],
    ],
  },
  "wrong-types": {
    text: `name: x
switches:
  - name: sw
    ports:
      - {name: ln, type: bridge, tag: 5000, addresses: unknown}
    acls:
      - {direction: to-lport, priority: 100, match: 'ip4 &&', action: allow}
      - {direction: inbound, priority: 40000, match: 'ip4', action: allow}
`,
    expected: [
      ['wrong-types.yaml:5:26: error: port field "type" is "bridge"; expected one of "", router, localnet, remote, localport, external, virtual, l2gateway', "bridge"],
      ['wrong-types.yaml:5:39: error: port field "tag" is 5000; expected 1..4095', "5000"],
      ['wrong-types.yaml:5:56: error: port field "addresses" must be a list', "unknown"],
      ["wrong-types.yaml:7:53: switches[sw].acls[0].match: error: bad ACL match: Syntax error at end of input expecting constant.", "'ip4 &&'"],
      ['wrong-types.yaml:8:21: error: acl field "direction" is "inbound"; expected one of from-lport, to-lport', "inbound"],
      ['wrong-types.yaml:8:40: error: acl field "priority" is 40000; expected 0..32767', "40000"],
    ],
  },
  "bad-probe": {
    text: `name: x
switches:
  - name: sw
    ports:
      - {name: a, addresses: ["00:00:00:00:00:01 10.0.0.1"]}
probes:
  - {name: p1, microflow: 'inport == "zz" && ip4', expect: {drop: true}}
  - {name: p2, microflow: 'inport == "a" && ip4 &&', expect: {output: [b]}}
  - {name: p3, datapath: sw, microflow: 'ip4', ct: [new, "est,bogus"], lbDst: "1.2.3", expect: {}}
  - {name: p3, datapath: sw, microflow: 'ip4', expect: {drop: true}, extra: 1}
`,
    expected: [
      ['bad-probe.yaml:7:27: error: microflow inport "zz" is no switch port', "'inport =="],
      ["bad-probe.yaml:8:27: error: bad microflow: Syntax error at end of input expecting constant.", "'inport =="],
      ['bad-probe.yaml:8:72: error: expected output port "b" is no switch port', "b]"],
      ['bad-probe.yaml:9:58: error: ct flag "bogus" is not one of trk, new, est, rel, rpl, inv', '"est,bogus"'],
      ['bad-probe.yaml:9:79: error: bad lbDst: "1.2.3" is not an IPv4 address', '"1.2.3"'],
      ['bad-probe.yaml:9:96: error: expect needs "output: [PORT...]" or "drop: true"', "{}"],
      ['bad-probe.yaml:10:70: error: unknown field "extra" in probe; allowed: name, datapath, microflow, ct, lbDst, selectId, expect', "extra"],
      ['bad-probe.yaml:10:12: error: probe "p3" is defined twice', "p3"],
    ],
  },
  "router-shape": {
    text: `name: x
chassis: [{name: hv1}]
routers:
  - name: lr
    ports:
      - {name: lr-a, mac: "00:00:00:00:ff:01", networks: [10.0.0.1/24], colour: red}
      - {name: lr-b, mac: "00:00:00:00:ff:02", networks: 10.0.1.1/24, tunnelKey: 40000}
    staticRoutes:
      - {ipPrefix: 10.1.0.0/16, nexthop: 10.0.0.2, policy: dst}
    policies:
      - {priority: 100, match: ip4, action: forward}
    nat:
      - {type: snat, externalIp: 1.1.1.2, logicalIp: 10.0.0.0/24, stateless: "yes"}
haChassisGroups:
  - {name: g, chassis: [{chassis: hv1}]}
macBindings:
  - {logicalPort: lr-a, ip: 10.0.0.9, mac: "00:00:00:00:00:09", overrideDynamicMac: true}
natGateways:
  - {name: gw, vpc: lr, lanPort: a, lanIp: 10.0.0.3, externalMac: "00:00:00:00:ee:01", externalCidr: 172.17.0.10/24, externalGateway: 172.17.0.1,
     dnatRules: [{name: d, eip: e, protocol: icmp, externalPort: 80, internalIp: 10.0.0.2, internalPort: 0}]}
`,
    expected: [
      ['router-shape.yaml:6:73: error: unknown field "colour" in routerPort; allowed: name, mac, networks, peer, gatewayChassis, haChassisGroup, options, enabled, tunnelKey, externalIds', "colour"],
      ['router-shape.yaml:7:58: error: routerPort field "networks" must be a list', "10.0.1.1/24"],
      ['router-shape.yaml:7:82: error: routerPort field "tunnelKey" is 40000; expected 1..32767', "40000"],
      ['router-shape.yaml:7:9: routers[lr].ports[lr-b]: error: router port needs at least one network ("IP/PREFIX")', "{name: lr-b"],
      ['router-shape.yaml:9:60: error: staticRoute field "policy" is "dst"; expected one of dst-ip, src-ip', "dst"],
      ['router-shape.yaml:11:45: error: routerPolicy field "action" is "forward"; expected one of allow, drop, reroute', "forward"],
      ['router-shape.yaml:13:78: error: nat field "stateless" must be true or false', '"yes"'],
      ['router-shape.yaml:15:25: error: gatewayChassis lacks required field "priority"', "{chassis: hv1}"],
      ['router-shape.yaml:17:65: error: unknown field "overrideDynamicMac" in macBinding; allowed: logicalPort, ip, mac', "overrideDynamicMac"],
      ['router-shape.yaml:19:34: natGateways[gw].lanPort: error: LAN port "a" is no switch port', "a,"],
      ['router-shape.yaml:20:46: error: natGatewayDnat field "protocol" is "icmp"; expected one of tcp, udp', "icmp"],
      ['router-shape.yaml:20:106: error: natGatewayDnat field "internalPort" is 0; expected 1..65535', "0}"],
    ],
  },
  "router-meaning": {
    text: `name: x
addressSets:
  - {name: ext, addresses: [1.1.1.1]}
switches:
  - name: sw
    ports:
      - {name: a, addresses: ["00:00:00:00:00:01 10.0.0.2"]}
      - {name: sw-lr, type: router, addresses: [router], options: {router-port: lr-sw}}
      - {name: sw-x, type: router, addresses: [router], options: {router-port: nothere}}
routers:
  - name: lr
    loadBalancers: [nolb]
    ports:
      - {name: lr-sw, mac: "00:00:00:00:ff:01", networks: [10.0.0.0/24], gatewayChassis: [{chassis: hv2, priority: 1}]}
      - {name: lr-p, mac: "01:00:00:00:ff:02", networks: [169.254.0.1/30], peer: lr2-p, haChassisGroup: g}
      - {name: a, mac: "00:00:00:00:ff:03", networks: [169.254.1.1/30]}
    staticRoutes:
      - {ipPrefix: 10.1.0.1/16, nexthop: 1.2.3, outputPort: lr-zz}
    policies:
      - {priority: 100, match: 'ip4.src == $nope', action: reroute}
      - {priority: 101, match: 'ip4 &&', action: allow, nexthops: [1.1.1.1]}
    nat:
      - {type: snat, externalIp: 1.1.1.1, logicalIp: 10.0.0.0/24, logicalPort: a, allowedExtIps: ext, exemptedExtIps: ext}
      - {type: dnat, externalIp: 1.1.1.2, logicalIp: 10.0.0.0/24, gatewayPort: a, externalPortRange: "9-8"}
staticMacBindings:
  - {logicalPort: a, ip: 10.0.0.999, mac: "00:00:00:00:00:09"}
natGateways:
  - name: gw
    vpc: lr
    lanPort: a
    lanIp: 10.0.0.3
    externalMac: "00:00:00:00:ee:01"
    externalCidr: 172.17.0.0/24
    externalGateway: 172.17.0.1
    eips: [{name: e, ip: 172.17.0.11}]
    snatRules: [{name: s, eip: f, internalCidr: 10.0.0.0/24}]
`,
    expected: [
      ['router-meaning.yaml:9:66: switches[sw].ports[sw-x].options: error: options.router-port names "nothere", which is no router port', "{router-port"],
      ['router-meaning.yaml:12:21: routers[lr].loadBalancers[0]: error: load balancer "nolb" does not exist', "nolb"],
      ['router-meaning.yaml:14:60: routers[lr].ports[lr-sw].networks[0]: error: "10.0.0.0/24" is the network address itself; give the interface\'s own address in the prefix', "10.0.0.0/24"],
      ['router-meaning.yaml:14:101: routers[lr].ports[lr-sw].gatewayChassis[0].chassis: error: chassis "hv2" does not exist', "hv2"],
      ['router-meaning.yaml:15:27: routers[lr].ports[lr-p].mac: error: MAC 01:00:00:00:ff:02 is a multicast address', '"01:00'],
      ['router-meaning.yaml:15:82: routers[lr].ports[lr-p].peer: error: peer "lr2-p" is no router port', "lr2-p"],
      ['router-meaning.yaml:15:105: routers[lr].ports[lr-p].haChassisGroup: error: HA chassis group "g" does not exist', "g}"],
      ['router-meaning.yaml:16:9: routers[lr].ports[a]: error: port name "a" is already used on switch "sw"', "{name: a"],
      ['router-meaning.yaml:18:20: routers[lr].staticRoutes[0].ipPrefix: error: "10.1.0.1/16" has host bits set; write the prefix as 10.1.0.0/16', "10.1.0.1/16"],
      ['router-meaning.yaml:18:42: routers[lr].staticRoutes[0].nexthop: error: next hop "1.2.3" is not an IP address or "discard"', "1.2.3"],
      ['router-meaning.yaml:18:61: routers[lr].staticRoutes[0].outputPort: error: output port "lr-zz" is no port of router "lr"', "lr-zz"],
      ["router-meaning.yaml:20:9: routers[lr].policies[0]: error: a reroute policy needs at least one next hop", "{priority: 100"],
      ['router-meaning.yaml:20:32: routers[lr].policies[0].match: error: policy match refers to address set "$nope", which does not exist', "'ip4.src"],
      ["router-meaning.yaml:21:32: routers[lr].policies[1].match: error: bad policy match: Syntax error at end of input expecting constant.", "'ip4 &&'"],
      ["router-meaning.yaml:21:67: routers[lr].policies[1].nexthops: error: only reroute policies take next hops", "[1.1.1.1]"],
      ["router-meaning.yaml:23:80: routers[lr].nat[0].logicalPort: error: a distributed NAT needs both externalMac and logicalPort; logicalPort is set without externalMac", "a,"],
      ["router-meaning.yaml:23:119: routers[lr].nat[0].exemptedExtIps: error: a NAT takes allowedExtIps or exemptedExtIps, not both", "ext}"],
      ['router-meaning.yaml:24:54: routers[lr].nat[1].logicalIp: error: logical IP "10.0.0.0/24" is not an IP address (a prefix is allowed only for snat)', "10.0.0.0/24"],
      ['router-meaning.yaml:24:80: routers[lr].nat[1].gatewayPort: error: gateway port "a" is not a distributed gateway port (it has no gatewayChassis or haChassisGroup)', "a,"],
      ['router-meaning.yaml:24:102: routers[lr].nat[1].externalPortRange: error: external port range "9-8" is not "LOW-HIGH" within 1..65535', '"9-8"'],
      ['router-meaning.yaml:26:19: staticMacBindings[0].logicalPort: error: "a" is no router port', "a,"],
      ['router-meaning.yaml:26:26: staticMacBindings[0].ip: error: "10.0.0.999" is not an IP address', "10.0.0.999"],
      ['router-meaning.yaml:31:12: natGateways[gw].lanIp: error: LAN port "a" has no address 10.0.0.3', "10.0.0.3"],
      ['router-meaning.yaml:33:19: natGateways[gw].externalCidr: error: "172.17.0.0/24" is the network address itself; give the interface\'s own address in the prefix', "172.17.0.0/24"],
      ['router-meaning.yaml:36:32: natGateways[gw].snatRules[0].eip: error: EIP "f" is not defined on this gateway', "f,"],
    ],
  },
};

describe("malformed scenarios", () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: one line per problem, at the right place`, () => {
      const r = loadScenario(c.text, `${name}.yaml`);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const lines = r.diags.map(formatDiagnostic);
      expect(lines.sort()).toEqual(c.expected.map((e) => e[0]).sort());
      const src = c.text.split("\n");
      for (const d of r.diags) {
        const exp = c.expected.find((e) => e[0] === formatDiagnostic(d))!;
        const at = (src[d.loc!.line - 1] ?? "").slice(d.loc!.column - 1);
        expect(at.startsWith(exp[1]), `${exp[0]} should point at ${JSON.stringify(exp[1])}, points at ${JSON.stringify(at)}`).toBe(true);
      }
    });
  }

  it("never throws on arbitrary input", () => {
    const inputs = ["", "- 1\n- 2", "name: [", "name: x\nswitches: 5", "name: x\nswitches: [{name: a, ports: [1, null, {name: null}]}]", "\t\u0000", "name: &a x\nswitches: *a", "a: !!binary xyz",
      "name: x\nrouters: [{name: r, ports: [1, null, {name: null}, {name: p, gatewayChassis: [null, 3]}], nat: [5, {type: snat}], staticRoutes: [[]], policies: {}}]",
      "name: x\nnatGateways: [{name: g, eips: [null, {name: e}], snatRules: 4, dnatRules: [{}]}, 7]\nmacBindings: [null]\nhaChassisGroups: [{name: h, chassis: [{}]}]",
      "name: x\nrouters: [{name: r}, {name: r}]\nnatGateways: [{name: g, vpc: r, lanPort: r, lanIp: x, externalMac: y, externalCidr: z, externalGateway: w}]"];
    for (const t of inputs) {
      const r = loadScenario(t, "f.yaml");
      if (!r.ok) for (const d of r.diags) expect(d.loc?.line).toBeGreaterThan(0);
    }
  });
});
