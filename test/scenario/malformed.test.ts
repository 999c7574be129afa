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
      ['unknown-field.yaml:4:5: error: unknown field "prots" in switch; allowed: name, ports, acls, loadBalancers, otherConfig, tunnelKey, externalIds', "prots"],
      ['unknown-field.yaml:6:19: error: unknown field "adresses" in port; allowed: name, type, addresses, portSecurity, options, tag, chassis, enabled, tunnelKey, externalIds', "adresses"],
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
    const inputs = ["", "- 1\n- 2", "name: [", "name: x\nswitches: 5", "name: x\nswitches: [{name: a, ports: [1, null, {name: null}]}]", "\t\u0000", "name: &a x\nswitches: *a", "a: !!binary xyz"];
    for (const t of inputs) {
      const r = loadScenario(t, "f.yaml");
      if (!r.ok) for (const d of r.diags) expect(d.loc?.line).toBeGreaterThan(0);
    }
  });
});
