import { describe, expect, it } from "vitest";
import { formatVerdict, parseMinimalTrace, verdictOf } from "../src/ovn/index.js";

// Real `ovn-trace --minimal` outputs from OVN 23.03.1 (switch sw0 with p1, p2 and a load balancer).
const LB = `# tcp,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.96.0.10,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0
ct_lb_mark /* default (use --ct to customize) */ {
    reg0[6] = 0;
    reg0[12] = 0;
    ct_lb_mark /* default (use --ct to customize) */ {
        output("p2");
    };
};
`;
const ARP = `# arp,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00
eth.dst = 00:00:00:00:00:01;
eth.src = 00:00:00:00:00:02;
arp.op = 2;
arp.tha = 00:00:00:00:00:01;
arp.sha = 00:00:00:00:00:02;
arp.tpa = 10.0.0.1;
arp.spa = 10.0.0.2;
output("p1");
`;

describe("ovn-trace --minimal reader", () => {
  it("reads nested conntrack blocks and the output inside them", () => {
    const t = parseMinimalTrace(LB);
    expect(t.flow).toMatch(/^tcp,reg14=0x1,/);
    const v = verdictOf(t);
    expect(v.dropped).toBe(false);
    expect(v.outputs).toEqual([{ port: "p2", fields: { "reg0[6]": "0", "reg0[12]": "0" }, blocks: ["ct_lb_mark", "ct_lb_mark"] }]);
  });

  it("collects the rewritten fields of an ARP reply", () => {
    const v = verdictOf(parseMinimalTrace(ARP));
    expect(formatVerdict(v)).toBe("output(p1)[arp.op=2,arp.sha=00:00:00:00:00:02,arp.spa=10.0.0.2,arp.tha=00:00:00:00:00:01,arp.tpa=10.0.0.1,eth.dst=00:00:00:00:00:01,eth.src=00:00:00:00:00:02]");
  });

  it("a trace with no output is a drop; fields set in a finished block do not leak", () => {
    expect(verdictOf(parseMinimalTrace("# ip\nct_next {\n    reg0[1] = 1;\n};\n")).dropped).toBe(true);
    const v = verdictOf(parseMinimalTrace('# ip\nx {\n    ip.ttl = 1;\n};\noutput("a");\n'));
    expect(v.outputs[0]!.fields).toEqual({});
    expect(formatVerdict(verdictOf(parseMinimalTrace("# ip\ndrop;\n")))).toBe("drop");
  });

  it("several outputs (a flood) keep their order", () => {
    const v = verdictOf(parseMinimalTrace('# arp\noutput("p2");\noutput("p3");\noutput("ln");\n'));
    expect(v.outputs.map((o) => o.port)).toEqual(["p2", "p3", "ln"]);
  });

  it("ip.ttl-- decrements the TTL assigned before it, or the microflow's", () => {
    const routed = verdictOf(parseMinimalTrace('# icmp,reg14=0x1,nw_ttl=64,icmp_type=8\nip.ttl--;\noutput("b");\n'));
    expect(routed.outputs[0]!.fields["ip.ttl"]).toBe("63");
    const reply = verdictOf(parseMinimalTrace('# icmp,nw_ttl=64\nip.ttl = 255;\nicmp4.type = 0;\nip.ttl--;\noutput("a");\n'));
    expect(reply.outputs[0]!.fields["ip.ttl"]).toBe("254");
  });

  it("a NAT block's header rewrites the address it names", () => {
    const v = verdictOf(parseMinimalTrace('# udp,nw_ttl=64\nip4.src = 10.0.0.1;\nct_snat(ip4.src=172.16.0.2) {\n    output("a");\n};\n'));
    expect(v.outputs[0]!.fields["ip4.src"]).toBe("172.16.0.2");
  });

  it("a generated packet's TTL is its own: tcp_reset starts at 255, arp has none", () => {
    const reset = verdictOf(parseMinimalTrace('# tcp,nw_ttl=64\ntcp_reset {\n    ip.ttl--;\n    output("a");\n};\n'));
    expect(reset.outputs[0]!.fields["ip.ttl"]).toBe("254");
    const arp = verdictOf(parseMinimalTrace('# tcp,nw_ttl=64\nip.ttl--;\narp {\n    arp.op = 1;\n    output("a");\n};\n'));
    expect(arp.outputs[0]!.fields["ip.ttl"]).toBeUndefined();
  });

  // REAL: ovn-trace --minimal 23.03.1, a gateway router's dnat_and_snat then a switch's reject ACL
  // on TCP: the reset goes back with its addresses swapped, which ovn-trace does not print.
  const REJECT_AFTER_DNAT = `# tcp,reg14=0x2,vlan_tci=0x0000,dl_src=00:00:00:ac:00:01,dl_dst=00:00:00:ac:00:02,nw_src=172.16.0.1,nw_dst=172.16.0.11,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=49130,tp_dst=80,tcp_flags=0
ct_snatin_czone /* assuming no un-snat entry, so no change */ {
    ct_dnatin_czone(ip4.dst=10.3.0.12) {
        ip.ttl--;
        eth.src = 00:00:00:03:00:01;
        eth.dst = 00:00:00:03:00:03;
        ct_next(ct_state=est|trk) {
            tcp_reset {
                ip.ttl--;
                eth.src = 00:00:00:ac:00:02;
                eth.dst = 00:00:00:ac:00:01;
                ct_dnatin_czone /* assuming no un-dnat entry, so no change */ {
                    ct_snatin_czone(ip4.src=172.16.0.11) {
                        output("upstream");
                    };
                };
            };
        };
    };
};
`;

  it("a generated packet forgets the addresses printed before it (a reject swaps them unprinted)", () => {
    const v = verdictOf(parseMinimalTrace(REJECT_AFTER_DNAT));
    expect(formatVerdict(v)).toBe("output(upstream)[eth.dst=00:00:00:ac:00:01,eth.src=00:00:00:ac:00:02,ip.ttl=254,ip4.src=172.16.0.11]");
  });
});
