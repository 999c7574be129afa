/**
 * The replay oracle (scripts/ovs-replay.ts), continued from ovs-replay.test.ts: the later windows
 * of the bench capture (`LATER`), the windows of the other real captures (`OTHER_CAPTURES`), and
 * the conversations beside the captures, frame for frame the same way: load-balancer hairpins, ICMP
 * errors and pings through a gateway router's NAT (the errors' quoted packets translated too, byte
 * for byte), packets ovn-controller makes (rejects, router answers, errors quoting a packet changed on its way) or holds for a neighbour, a gateway router reached over a provider network, conntrack zones and flags from ingress into egress, IPv4 fragments, fragment lists that never complete, TCP and UDP with port 0, SCTP
 * keyed by its addresses alone, connections that expire, port security, gateway MTUs, the backend or next hop a select group picks, symmetric ECMP replies, and a
 * gateway router asking for its own addresses by ARP, routers soliciting neighbours, the
 * all-zero SNAT of a commit, and SNAT bindings OVS cannot make.
 */
import { expect } from "vitest";
import { pushVlan } from "../../src/packet/index.js";
import { BRIDGED_REDIRECT, BRIDGED_REDIRECT_PLAIN, CHASSIS_MACS, LOCALNET_QINQ, DYNAMIC_NEIGHBOURS, ECMP_SYMMETRIC, REJECTS, FRAGMENT_EXPIRY, FRAGMENTS, FRAGMENTS_V6, GATEWAY_LOCALNET, GATEWAY_MTU, HAIRPIN, ICMP6_NAT, ICMP_NAT, LATER, LB_AFFINITY, LB_AFFINITY_TIMES, LB_AFFINITY_VIPS, MADE_PACKETS, MADE_UNTRACKED, MANY_BACKENDS, NAT_EXHAUSTION, NEIGHBOUR_SOLICITATIONS, OTHER_CAPTURES, OWN_ADDRESS, PORT_SECURITY, PORT_ZERO, PEER_TYPES, QUOTED_PACKETS, RECIRC_DEPTH, ROUTER_ZONES, SAME_ZONE_AGAIN, SCTP, SELECT_GROUPS, TIMEOUTS, UNTRACKED_EGRESS, ZERO_SNAT, fixChecksums, microflowFrames, type MicroflowPacket, type ReplayRecording } from "../../scripts/ovs-replay.js";
import { bridgedFrames, captureOracle, conversation, digest, inputs, node1Program } from "./ovs-replay-cases.js";

for (const scenario of [...LATER, ...OTHER_CAPTURES]) captureOracle(scenario);


/** The conversations beside the capture, each with what its recording must show (so that it tests something). */
const CONVERSATION_CHECKS: Record<string, { what: string; sane: (rec: ReplayRecording) => void }> = {
  [HAIRPIN]: {
    what: "load-balancer hairpins (the SNAT to the VIP, the un-NAT of the replies)",
    sane: (rec) => {
      // Real OVS sent every packet back to web-1.default.
      expect(rec.outputs.length).toBe(16);
      for (const o of rec.outputs) expect(o.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["vif web-1.default"]);
    },
  },
  [ICMP_NAT]: {
    what: "ICMP through NAT (errors and their quoted packets translated back, pings by identifier)",
    sane: (rec) => {
      // Where real OVS sent each packet: the errors about translated connections reach the pods
      // that made them, the unrelated error and the unanswered reply go nowhere, the ping from
      // outside with a pod's identifier is the router's to answer.
      const where = rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, 2).join(" ")).join(","));
      expect(where).toEqual(["vif upstream", "vif vm-g3", "vif vm-g3", "", "vif upstream", "vif vm-g2", "vif upstream", "vif vm-g1", "", "vif upstream", "vif vm-g1", "vif upstream"]);
    },
  },
  [FRAGMENTS]: {
    what: "IPv4 fragments through stateful ACLs (held until their datagram completes)",
    sane: (rec) => {
      // Real OVS sent a datagram's fragments all at once, when the last one came (packets 2, 4,
      // 10); nothing of the datagram that never completed (5), of the one with a short fragment (6,
      // 7), nor of the TCP one whose later fragment the port ACL refused (11, 12).
      const sent = rec.outputs.map((o) => o.length);
      expect(sent).toEqual([0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0]);
    },
  },
  [FRAGMENTS_V6]: {
    what: "IPv6 fragments through stateful ACLs (held until their datagram completes, as IPv4's)",
    sane: (rec) => {
      // Real OVS sent a datagram's fragments all at once, when the last one came (packets 2, 4 and,
      // to node2, 9); nothing of the datagram that never completed (5), of the one with a short
      // first fragment (6, 7), nor of the one with options after its fragment header (10, 11); it
      // delivered the packet whose fragment header is all zeros (12) and the one without (14), and
      // dropped the one with only reserved bits set (13).
      expect(rec.outputs.map((o) => o.length)).toEqual([0, 0, 3, 0, 2, 0, 0, 0, 0, 2, 0, 0, 1, 0, 1]);
      expect(rec.outputs[9]!.every((l) => l.startsWith("tun web-1.frontend>web-2.frontend"))).toBe(true);
    },
  },
  [FRAGMENT_EXPIRY]: {
    what: "IPv4 fragment lists that never complete (sent on as invalid after 15 s, deleted after 25 s)",
    sane: (rec) => {
      // Real OVS sent the held first fragment (packet 0) to node2 with packet 3, the first packet
      // through conntrack after its list's 15 s (packet 2 came at exactly 15 s), and the later
      // fragment (4) with packet 6; the list of packet 5 was 25 s old at packet 7 and was deleted.
      const frames = rec.outputs.map((o) => o.length);
      expect(frames).toEqual([0, 1, 1, 2, 0, 0, 2, 1, 1]);
      expect(rec.outputs[3]!.filter((l) => l.startsWith("tun web-1.frontend>web-2.frontend"))).toHaveLength(1);
      expect(rec.outputs[6]!.filter((l) => l.startsWith("tun web-1.frontend>web-2.frontend"))).toHaveLength(1);
    },
  },
  [PORT_ZERO]: {
    what: "TCP and UDP with port 0 (invalid to OVS's conntrack)",
    sane: (rec) => {
      // Real OVS dropped UDP from port 0, UDP to port 0 and a TCP SYN from port 0, and sent on the
      // same UDP and TCP with ports.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "", "", "other-1.default", "other-1.default"]);
    },
  },
  [SCTP]: {
    what: "SCTP keyed by its addresses alone (OVS 3.1's userspace conntrack reads no SCTP ports)",
    sane: (rec) => {
      // Real OVS refused other-1's SCTP before api-1 had sent any (0) and its UDP on the same
      // addresses (7), and let through every SCTP packet between the two after that, whatever
      // its ports (3 to 5 have ports api-1 never used; 5 has port 0).
      const sent = rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","));
      const api = "api-1.backend";
      const other = "other-1.default";
      expect(sent).toEqual(["", other, api, api, api, api, other, ""]);
    },
  },
  [TIMEOUTS]: {
    what: "connections expiring by OVS's default timeouts (on a stopped and warped clock)",
    sane: (rec) => {
      // Real OVS refused other-1's packet once its connection had expired (3: 30 s after a reply;
      // 8: 60 s, then 30 s; 17: 30 s after the TCP close), and let through every other one.
      const sent = rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","));
      const api = "api-1.backend";
      const other = "other-1.default";
      expect(sent).toEqual([other, api, api, "", other, api, other, api, "", other, api, other, api, other, api, other, api, ""]);
    },
  },
  [PORT_SECURITY]: {
    what: "port security as ovn-controller's flows check it",
    sane: (rec) => {
      // Where real OVS sent each packet (portSecurityPackets, in order): refused are a spoofed
      // source (1), another EtherType and IPv6 from a port whose entry has IPv4 only (2, 3), an
      // address outside the prefix or beside the one written with host bits (5, 7), ARP with
      // another sender MAC (9), another link-local or the unspecified source (14, 15), neighbour
      // advertisements for an address not the port's, or for its own link-local address (18, 19),
      // and destinations outside the entries (21, 23, 25). Let through: a prefix's other address
      // (4, 22), a MAC-only port's other EtherType (11), MLD from the unspecified address (16), the
      // broadcast of a prefix written with host bits (20), the link-local address (13, 24).
      const where = rec.outputs.map((o) => (o.length === 0 ? "" : o.some((l) => l.includes("_MC_flood")) ? "flood" : o.map((l) => l.split(" ")[1]).join(",")));
      expect(where).toEqual(["open", "", "", "", "open", "", "open", "", "open", "", "flood", "flood", "open", "open", "", "", "flood", "flood", "", "", "hostbits", "", "prefix", "", "dual", "", "open>remote"]);
    },
  },
  [GATEWAY_LOCALNET]: {
    what: "traffic to a gateway router on another chassis over a switch with a localnet port",
    sane: (rec) => {
      // Everything for the router leaves on the provider network, none through a tunnel; the
      // switch answers ARP for the router's address itself.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, l.startsWith("vif") ? 2 : 1).join(" ")).join(","))).toEqual(["wire", "wire", "wire", "wire", "vif upstream", "wire"]);
    },
  },
  [DYNAMIC_NEIGHBOURS]: {
    what: "packets that wait in ovn-controller for their next hop's MAC",
    sane: (rec) => {
      // Every packet arrives, the first each way too (held until the neighbour was learned).
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["b", "b", "a", "a", "b", "b", "a", "a"]);
    },
  },
  [REJECTS]: {
    what: "ACL rejects and a router's answers, to a pod that takes only replies",
    sane: (rec) => {
      // Each of the ten packets is answered, back to a: ICMP port unreachable or a TCP reset (a
      // reset to the router's address too).
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(Array(10).fill("a"));
    },
  },
  [MADE_PACKETS]: {
    what: "packets ovn-controller makes (ICMP errors quoting the packet, TCP resets) and an ARP reply",
    sane: (rec) => {
      // Time exceeded for the UDP datagram and the ping, both back to vm-g1; nothing for UDP or TCP
      // to the gateway router's own address; the ARP reply.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["vm-g1", "vm-g1", "", "", "vm-g1"]);
    },
  },
  [QUOTED_PACKETS]: {
    what: "ICMP errors that quote the packet as it was where they were made",
    sane: (rec) => {
      // Each of the three is answered with an ICMP error, back to a.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["a", "a", "a"]);
    },
  },
  [ROUTER_ZONES]: {
    what: "conntrack zones and flags carried from a pipeline's ingress into its egress, and a logged reject's commit",
    sane: (rec) => {
      // c's datagrams towards either router are dropped. Through the distributed router, e's
      // first answer reaches c and its second does not: the drop committed c's connection as
      // blocked, in c's zone. Through the gateway router both of a's answers do: the commit landed
      // in the l3gateway port's own zone. The balanced SYN reaches c from the router port's
      // address (force SNAT) and c's answer to that address reaches a. Each of c's three TCP
      // segments towards e is answered by the logged reject with a reset that reaches c.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "c", "", "", "", "c", "", "c", "c", "a", "c", "c", "c"]);
    },
  },
  [PEER_TYPES]: {
    what: "a gateway router and a distributed router peered without a switch, never linked",
    sane: (rec) => {
      // Neither datagram gets across; each ping to a router's own address is answered.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "", "a", "b"]);
    },
  },
  [NEIGHBOUR_SOLICITATIONS]: {
    what: "a router soliciting neighbours it does not know, for ICMPv6 packets too",
    sane: (rec) => {
      // Each packet to an address behind c makes one request, flooded to b, c and d (the same
      // frame for the two packets to fd00:2::c, ping and datagram); the ping to b reaches b, and
      // b's solicitations of the router and of d are answered, each with a frame of its own.
      const where = rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","));
      expect(where).toEqual(["b,c,d", "b,c,d", "b,c,d", "b,c,d", "b,c,d", "b", "b", "b"]);
      const frame = (i: number): string => rec.outputs[i]![0]!.split(" ")[2]!;
      expect(frame(0)).toBe(frame(2));
      expect(new Set([0, 1, 3, 4, 5, 6, 7].map(frame)).size).toBe(7);
    },
  },
  [OWN_ADDRESS]: {
    what: "a gateway router with lb_force_snat_ip=router_ip routing packets for its own addresses, asking for them by ARP",
    sane: (rec) => {
      // Every TCP and UDP packet to the router's address on sw1 is routed back out to sw1 and
      // waits there for an ARP answer: the request, one frame, goes to a, b and the wire; the
      // ping is answered. To the address on the public switch: the request goes out on the
      // public provider network (VLAN 100), and that ping is answered too.
      // `vif PORT DIGEST` or `wire DIGEST`: where, without the digest.
      const where = rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, -1).join(" ")).join(","));
      expect(where).toEqual(["vif a,vif b,wire", "vif a,vif b,wire", "vif a,vif b,wire", "vif a", "vif a,vif b,wire", "wire", "wire", "vif a"]);
      // The same ARP request each time on sw1, with the router's address as sender and target:
      // the shape the oracle leaves out unless it waits for the announcements to end.
      expect(new Set([0, 1, 2, 4].flatMap((i) => rec.outputs[i]!.map((l) => l.split(" ").at(-1)))).size).toBe(1);
      expect(rec.notes[0]).toMatch(/announcements were over/);
    },
  },
  [SELECT_GROUPS]: {
    what: "the load-balancer backend and reroute next hop each flow takes (OVS's select-group hashes)",
    sane: (rec) => {
      const to = rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","));
      expect(to.length).toBe(66);
      // Every packet but the backends' answers (to a) goes to one of b1 to b3, and each group's
      // flows are spread over more than one of them: the choice is the hash's, not a constant.
      const groups: [number, number][] = [[0, 8], [8, 14], [14, 20], [20, 28], [36, 42]];
      for (const [from, to_] of groups) expect(new Set(to.slice(from, to_)).size).toBeGreaterThan(1);
      // UDP through the two-way policy to one address: the symmetric hash leaves UDP ports out,
      // so the four datagrams take one next hop.
      expect(new Set(to.slice(28, 32)).size).toBe(1);
      // Of the two answers to each connection through the far VIP, one reaches a: the chosen
      // backend's.
      for (let i = 0; i < 6; i++) expect([to[42 + 4 * i + 1], to[42 + 4 * i + 2]].sort()).toEqual(["", "a"]);
    },
  },
  [MANY_BACKENDS]: {
    what: "a load balancer and a reroute policy of more members than a dp_hash table holds",
    sane: (rec) => {
      // Every packet reaches b; the TCP connections spread over many backends (distinct frames),
      // the UDP datagrams, whose ports the hash leaves out, over one (their frames differ only in
      // the source port, so they are all distinct too).
      expect(rec.outputs.slice(0, 20).every((o) => o.length === 1 && o[0]!.startsWith("vif b "))).toBe(true);
      expect(new Set(rec.outputs.slice(0, 16).map((o) => o[0])).size).toBe(16);
      // Through the policy: an ARP request for the chosen next hop, flooded to b; the 8 flows
      // take more than one next hop.
      const arps = rec.outputs.slice(20).map((o) => o.join(","));
      expect(arps.every((o) => o.startsWith("vif b "))).toBe(true);
      expect(new Set(arps).size).toBeGreaterThan(1);
    },
  },
  [MADE_UNTRACKED]: {
    what: "a made reset that starts untracked",
    sane: (rec) => {
      // Both of c's segments are rejected: a reset back to c each time, nothing to s.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["c", "c"]);
    },
  },
  [LB_AFFINITY]: {
    what: "load balancer affinity: learned sessions, the dropped packet that teaches one, the idle timeout",
    sane: (rec) => {
      // Per VIP, in time order (LB_AFFINITY_TIMES): the first packet teaches a session and is
      // dropped (0, and 6 once the session expired); a switch's load balancer (web, dns, web6)
      // drops the retransmission of that packet too (1, 7), a router's (gw, gw6) sends it; every
      // later new connection goes to the VIP's one learned backend (2-5), the last of them 8 s
      // after the session was last used (5).
      // The packets' order: by time, VIP v sending 100 ms after VIP v - 1 (lbAffinityPackets).
      const order = LB_AFFINITY_VIPS.flatMap((_, v) => LB_AFFINITY_TIMES.map((t, i) => ({ at: t + 100 * v, v, i }))).sort((x, y) => x.at - y.at);
      expect(rec.outputs.length).toBe(order.length);
      LB_AFFINITY_VIPS.forEach(([vip], v) => {
        const where = LB_AFFINITY_TIMES.map((_, i) => rec.outputs[order.findIndex((o) => o.v === v && o.i === i)]!.map((l) => l.split(" ")[1]).join(","));
        const router = vip === "10.96.0.20" || vip === "fd00::20";
        expect(where[0]).toBe("");
        expect(where[6]).toBe("");
        expect(where[2]).not.toBe("");
        expect(new Set(where.slice(2, 6))).toEqual(new Set([where[2]]));
        expect(where[1] === "" && where[7] === "").toBe(!router);
        if (router) expect(where[1]).toBe(where[2]);
      });
    },
  },
  [RECIRC_DEPTH]: {
    what: "packets that would nest a seventh recirculation",
    sane: (rec) => {
      // a's packets to the VIP are dropped; a's to b and b's to the VIP reach b.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "", "b", "b", "b", "b"]);
    },
  },
  [SAME_ZONE_AGAIN]: {
    what: "a packet looked up twice in one zone, its TCP state updated at each lookup",
    sane: (rec) => {
      // Both of a's packets come back towards a and are dropped there; c's answer to the ACK is
      // dropped (its connection blocked), c's SYN-ACK reaches a.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["", "", "", "a"]);
    },
  },
  [UNTRACKED_EGRESS]: {
    what: "a packet left untracked by its ingress commit, so its egress commits nothing",
    sane: (rec) => {
      // a's ping and SYN reach b; b's echo reply and SYN-ACK find no connection in b's zone and
      // are dropped as invalid; b's own ping reaches a and a's reply reaches b.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["b", "", "b", "", "a", "b"]);
    },
  },
  [ZERO_SNAT]: {
    what: "the all-zero SNAT of OVN's ct_commit moving the source port of packets back in their load balancer's zone",
    sane: (rec) => {
      // Every packet but a's answer (2), which the router has no route for, reaches a as the frame
      // built here from what it must be: the router's MACs and TTL on what came through it, the
      // load balancer's backend as destination, and the next source port on the first packet of
      // each of a's flows (0, 3) and on b's packet of the 5-tuple of a's moved UDP connection (6).
      const program = node1Program(ZERO_SNAT);
      const routed = "eth.src == 00:00:00:01:00:01 && eth.dst == 00:00:00:01:00:0e && ip4.dst == 10.1.0.14 && ip.ttl == 63";
      const direct = "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:01:00:0e && ip4.dst == 10.1.0.14 && ip.ttl == 64";
      const udp = (head: string, src: string, sport: number): MicroflowPacket => ({ port: "a", match: `${head} && ip4.src == ${src} && udp && udp.src == ${sport} && udp.dst == 8080`, payload: 12 });
      const syn = (sport: number): MicroflowPacket => ({ port: "a", match: `${routed} && ip4.src == 10.9.9.9 && tcp && tcp.src == ${sport} && tcp.dst == 80 && tcp.flags == 0x2`, payload: 0, seq: 1000 });
      const want: (MicroflowPacket | undefined)[] = [udp(routed, "10.9.9.9", 51324), udp(routed, "10.9.9.9", 51323), undefined, syn(40001), syn(40000), udp(routed, "10.1.0.11", 5000), udp(direct, "10.9.9.9", 51324), udp(direct, "10.9.9.9", 51400)];
      const frames = microflowFrames(program, want.filter((p) => p !== undefined));
      if (!frames.ok) throw new Error(frames.diags[0]!.message);
      let next = 0;
      expect(rec.outputs).toEqual(want.map((p) => (p === undefined ? [] : [`vif a ${digest(frames.value[next++]!.frame)}`])));
    },
  },
  [CHASSIS_MACS]: {
    what: "chassis MACs on provider networks (the router's frames leave a chassis with its MAC, and get the router port's back on another)",
    sane: (rec) => {
      // Each packet's frames, built here from what they must be: routed onto a VLAN, node1's MAC
      // as source (and the VLAN tag); the ARP request the router floods, node1's MAC on the wire
      // and the router port's to u1; from a VLAN with node2's MAC, the router port's MAC instead
      // where the switch has a router port (4, 8, 9), and nothing changed otherwise (5, 6, 7).
      const program = node1Program(CHASSIS_MACS);
      const node1 = "0a:00:00:00:00:11";
      const node2 = "0a:00:00:00:00:12";
      const lrp100 = "00:00:00:0a:64:fe";
      const routed = (src: string, dst: string, ips: string, l4: string, payload?: number): MicroflowPacket => ({ port: "u1", match: `eth.src == ${src} && eth.dst == ${dst} && ${ips} && ip.ttl == 63 && ${l4}`, ...(payload === undefined ? {} : { payload }) });
      const toU1 = (src: string): MicroflowPacket => routed(src, "00:00:00:0a:64:02", "ip4.src == 10.16.0.3 && ip4.dst == 10.100.0.2", "tcp && tcp.src == 41000 && tcp.dst == 80 && tcp.flags == 0x2");
      // ovn-controller's ARP request has nothing after the ARP header; node2's keeps the payload sent.
      const arp = (src: string, tpa: string, payload?: number): MicroflowPacket => ({ port: "u1", match: `eth.src == ${src} && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == ${lrp100} && arp.spa == 10.100.0.254 && arp.tha == 00:00:00:00:00:00 && arp.tpa == ${tpa}`, ...(payload === undefined ? {} : { payload }) });
      const want: [string, MicroflowPacket, number?][][] = [
        [["wire", routed(node1, "00:00:00:0a:64:03", "ip4.src == 10.16.0.2 && ip4.dst == 10.100.0.3", "tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2"), 100]],
        [["wire", routed(node1, "00:00:00:0a:66:03", "ip4.src == 10.16.0.2 && ip4.dst == 10.102.0.3", "udp && udp.src == 40001 && udp.dst == 53", 12), 102]],
        [["wire", routed(node1, "00:00:00:0a:66:03", "ip4.src == 10.100.0.2 && ip4.dst == 10.102.0.3", "icmp4 && icmp4.type == 8 && icmp4.code == 0"), 102]],
        [["vif u1", arp(lrp100, "10.100.0.99", 0)], ["wire", arp(node1, "10.100.0.99", 0), 100]],
        [["vif u1", toU1(lrp100)]],
        [["vif u1", toU1("00:00:5e:00:01:64")]],
        [["vif u1", toU1(node1)]],
        [["vif v1", { port: "v1", match: `eth.src == ${node2} && eth.dst == 00:00:00:0a:c8:02 && ip4.src == 10.200.0.3 && ip4.dst == 10.200.0.2 && ip.ttl == 64 && udp && udp.src == 41001 && udp.dst == 53`, payload: 12 }]],
        [["vif l1", routed("00:00:00:0a:66:01", "00:00:00:0a:66:02", "ip4.src == 10.16.0.3 && ip4.dst == 10.102.0.2", "udp && udp.src == 41002 && udp.dst == 53", 12)]],
        [["vif u1", arp(lrp100, "10.100.0.2")]],
      ];
      const expected = want.map((outs) =>
        outs
          .map(([where, p, vlan]) => {
            const f = microflowFrames(program, [p]);
            if (!f.ok) throw new Error(f.diags[0]!.message);
            const frame = f.value[0]!.frame;
            return `${where} ${digest(vlan === undefined ? frame : pushVlan(frame, { pcp: 0, dei: false, vid: vlan }))}`;
          })
          .sort(),
      );
      expect(rec.outputs).toEqual(expected);
    },
  },
  [BRIDGED_REDIRECT]: {
    what: "a bridged redirect to the gateway chassis over the provider network, with chassis MACs",
    sane: (rec) => {
      // What a sends for the gateway (0, 1, 2) leaves node1 on VLAN 100, routed (TTL 63) but not
      // SNATed (the gateway chassis does that), from node1's chassis MAC to the gateway port's;
      // the router answers a's ping itself (3); node1 does not take a frame for the gateway
      // port's MAC from the VLAN (4).
      const frames = bridgedFrames(BRIDGED_REDIRECT, "0a:00:00:00:00:11");
      expect(rec.outputs).toEqual([[`wire ${frames[0]}`], [`wire ${frames[1]}`], [`wire ${frames[2]}`], [`vif a ${frames[3]}`], []]);
    },
  },
  [BRIDGED_REDIRECT_PLAIN]: {
    what: "a bridged redirect without chassis MACs, which the provider bridge drops",
    sane: (rec) => {
      // The frames for the gateway go from the gateway port's MAC to that same MAC: the provider
      // bridge learns the source on its patch port and drops them there.
      expect(rec.outputs).toEqual([[], [], [], [`vif a ${bridgedFrames(BRIDGED_REDIRECT_PLAIN, undefined)[3]}`], []]);
    },
  },
  [NAT_EXHAUSTION]: {
    what: "SNAT bindings OVS cannot make (a second ping with the same identifier, a second SCTP association)",
    sane: (rec) => {
      // vm-g3's ping with vm-g1's identifier (1, 5) and its SCTP to the server vm-g1 already
      // talks to (7) leave with vm-g3's own address; its ping with another identifier (3) is
      // SNATed and its reply comes back (4).
      const program = node1Program(NAT_EXHAUSTION);
      const out = (src: string, l4: string, id?: number): string => {
        const f = microflowFrames(program, [{ port: "vm-g3", match: `eth.src == 00:00:00:ac:00:02 && eth.dst == 00:00:00:ac:00:01 && ip4.src == ${src} && ip4.dst == 9.9.9.9 && ip.ttl == 63 && ${l4}` }]);
        if (!f.ok) throw new Error(f.diags[0]!.message);
        const frame = f.value[0]!.frame;
        if (id !== undefined) frame.set([id >> 8, id & 0xff], 14 + 20 + 4);
        fixChecksums(frame);
        return `vif upstream ${digest(frame)}`;
      };
      const ping = "icmp4 && icmp4.type == 8 && icmp4.code == 0";
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, 2).join(" ")).join(","))).toEqual(["vif upstream", "vif upstream", "vif vm-g1", "vif upstream", "vif vm-g3", "vif upstream", "vif upstream", "vif upstream", "vif vm-g1"]);
      expect(rec.outputs[1]).toEqual([out("10.11.0.4", ping, 0x77)]);
      expect(rec.outputs[3]).toEqual([out("172.16.0.2", ping, 0x78)]);
      expect(rec.outputs[5]).toEqual([out("10.11.0.4", ping, 0x77)]);
      expect(rec.outputs[7]).toEqual([out("10.11.0.4", "sctp && sctp.src == 6000 && sctp.dst == 5001")]);
    },
  },
  [GATEWAY_MTU]: {
    what: "gateway MTUs (ICMP fragmentation needed for packets over a gateway port's MTU, out and in)",
    sane: (rec) => {
      // gr1 (MTU 1000): UDP of 1242 and 1015 bytes and the long ping are answered back to vm-g1,
      // 942 and 1014 bytes go out SNATed (built here); from upstream, 1242 bytes are answered
      // back to it and 542 reach vm-g1. dr1 (MTU 1200): 1342 bytes answered to vm-d1, 1142 out;
      // 1342 bytes in to its DNAT address answered back upstream.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["vm-g1", "upstream", "upstream", "vm-g1", "vm-g1", "upstream", "vm-g1", "vm-d1", "upstream", "upstream"]);
      const program = node1Program(GATEWAY_MTU);
      const out = (sport: number, payload: number): string => {
        const f = microflowFrames(program, [{ port: "upstream", match: `eth.src == 00:00:00:ac:00:02 && eth.dst == 00:00:00:ac:00:01 && ip4.src == 172.16.0.2 && ip4.dst == 8.8.8.8 && ip.ttl == 63 && udp && udp.src == ${sport} && udp.dst == 53`, payload }]);
        if (!f.ok) throw new Error(f.diags[0]!.message);
        return `vif upstream ${digest(f.value[0]!.frame)}`;
      };
      expect(rec.outputs[1]).toEqual([out(42021, 900)]);
      expect(rec.outputs[2]).toEqual([out(42022, 972)]);
    },
  },
  [ICMP6_NAT]: {
    what: "an ICMPv6 packet too big translated by a load balancer's conntrack (OVS 3.1 changes its MTU field with the source)",
    sane: (rec) => {
      // The long datagram is answered back to a; the short one is balanced to b.
      expect(rec.outputs.map((o) => o.map((l) => l.split(" ")[1]).join(","))).toEqual(["a", "b"]);
    },
  },
  [ECMP_SYMMETRIC]: {
    what: "symmetric ECMP replies: back to the next hop a connection came from while the learned flows last",
    sane: (rec) => {
      // By time (ecmpSymmetricPackets): where each packet went, as its port.
      const { packets } = inputs(ECMP_SYMMETRIC);
      const at = (ms: number): string => rec.outputs[packets.findIndex((p) => p.at === ms)]!.map((l) => l.split(" ")[1]).join(",");
      const hop = (i: number): string => (i % 2 === 0 ? "up1" : "up2");
      for (let i = 0; i < 8; i++) {
        // vm1's answers go back to the connection's next hop while the flows learned at its SYN
        // last (the policy alone would send them all to up2), to up2 once they are gone (35 s),
        // and to it again after the client's packet at 36 s learned them again.
        for (const t of [1, 10_000, 25_000, 37_000]) expect(at(t + 10 * i)).toBe(hop(i));
        expect(at(35_000 + 10 * i)).toBe("up2");
        for (const t of [0, 2, 36_000]) expect(at(t + 10 * i)).toBe("vm1");
      }
      // UDP: answered to up1 at once, to up2 after 20 s idle; vm1's query goes to up2 by the
      // policy, the answer from up1 makes the next one go to up1.
      expect([510, 22_000, 1000, 1100, 1200].map(at)).toEqual(["up1", "up2", "up2", "vm1", "up1"]);
    },
  },
  [LOCALNET_QINQ]: {
    what: "a localnet port's tag pushed as 802.1ad (options:ethtype=802.11ad)",
    sane: (rec) => {
      // app-1's three frames leave as sent, with an 802.1ad tag for VLAN 100; the frame from the
      // provider network reaches app-1 untagged.
      const { net, packets } = inputs(LOCALNET_QINQ);
      const qinq = (f: Uint8Array): string => digest(pushVlan(f, { pcp: 0, dei: false, vid: 100 }, 0x88a8));
      expect(net.switches.get("qinq")!.ports.get("ln-qinq")!.options.get("ethtype")).toBe("802.11ad");
      expect(rec.outputs).toEqual([[`wire ${qinq(packets[0]!.frame)}`], [`wire ${qinq(packets[1]!.frame)}`], [`wire ${qinq(packets[2]!.frame)}`], [`vif app-1 ${digest(packets[3]!.frame)}`]]);
    },
  },
};

for (const [name, check] of Object.entries(CONVERSATION_CHECKS)) conversation(name, check);
