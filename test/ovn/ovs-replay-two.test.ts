/**
 * The replay oracle with two real chassis (scripts/ovs-replay.ts `TWO_CHASSIS` and the `+node2`
 * conversations): node1 and node2 both run real ovn-controller and ovs-vswitchd, each packet goes
 * in on the chassis where the mapping (or the conversation) makes it enter, and what one chassis
 * sends the other, a Geneve or VXLAN packet to its encap address or a frame onto a provider
 * network, goes into the other. So the receiving chassis's side of every crossing (tunnel
 * decapsulation and its egress pipeline, a frame from the VLAN with another chassis's MAC, a
 * gateway chassis routing what a bridged redirect sent it) is held to real OVS, frame for frame,
 * as are both directions of connections between pods on the two nodes.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { pushVlan } from "../../src/packet/index.js";
import { ANNOUNCED_NEIGHBOURS, BRIDGED_REDIRECT, BRIDGED_REDIRECT_NEAR, CHASSIS, CHASSIS_MACS, GATEWAY_LOCALNET, GATEWAY_LOCALNET_MACS, NODE2, PROVIDER_LEARNING, SHARED_VLAN, SHARED_VLAN_REJECT, TWO_CHASSIS, microflowFrames, recordingFile, type MicroflowPacket, type ReplayRecording } from "../../scripts/ovs-replay.js";
import { bridgedFrames, captureOracle, conversation, digest, node1Program } from "./ovs-replay-cases.js";

for (const scenario of TWO_CHASSIS) captureOracle(scenario);

/** Each packet's outputs as `CHASSIS WHERE` (the digests left out). */
const where = (rec: ReplayRecording): string[] => rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, l.split(" ")[1] === "vif" ? 3 : 2).join(" ")).join(","));

/** The recording of the same conversation with node1 alone real, its lines as node1's. */
function node1Alone(name: string): string[][] {
  const rec = JSON.parse(readFileSync(recordingFile(name), "utf8")) as ReplayRecording;
  return rec.outputs.map((o) => o.map((l) => `${CHASSIS} ${l}`));
}

/** node1's lines of each packet. */
const onNode1 = (rec: ReplayRecording): string[][] => rec.outputs.map((o) => o.filter((l) => l.startsWith(`${CHASSIS} `)));

/** A frame built from a microflow on a conversation's network, as its digest (with a VLAN tag when given). */
function frameDigest(name: string, p: MicroflowPacket, vlan?: number): string {
  const f = microflowFrames(node1Program(name), [p]);
  if (!f.ok) throw new Error(f.diags[0]!.message);
  const frame = f.value[0]!.frame;
  return digest(vlan === undefined ? frame : pushVlan(frame, { pcp: 0, dei: false, vid: vlan }));
}

const CHECKS: Record<string, { what: string; sane: (rec: ReplayRecording) => void }> = {
  [`${BRIDGED_REDIRECT}+${NODE2}`]: {
    what: "a bridged redirect taken in and routed by the gateway chassis",
    sane: (rec) => {
      const name = `${BRIDGED_REDIRECT}+${NODE2}`;
      // node1 sends what it sends with node2 fake; node2, where the gateway port is active,
      // routes the frames again (TTL 62), SNATs them to 172.16.0.2 and sends them on VLAN 100
      // from the gateway port's own MAC, and asks by ARP for 172.16.0.55, which no one answers.
      expect(onNode1(rec)).toEqual(node1Alone(BRIDGED_REDIRECT));
      const f = bridgedFrames(name, "0a:00:00:00:00:11");
      const gw = "eth.src == 00:00:00:ac:00:02 && eth.dst == 00:00:00:ac:00:01 && ip4.src == 172.16.0.2 && ip.ttl == 62";
      const g0 = frameDigest(name, { port: "a", match: `${gw} && ip4.dst == 172.16.0.1 && udp && udp.src == 5000 && udp.dst == 53`, payload: 12 }, 100);
      const g2 = frameDigest(name, { port: "a", match: `${gw} && ip4.dst == 8.8.8.8 && icmp4 && icmp4.type == 8 && icmp4.code == 0` }, 100);
      const arp = frameDigest(name, { port: "a", match: "eth.src == 00:00:00:ac:00:02 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ac:00:02 && arp.spa == 172.16.0.2 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 172.16.0.55", payload: 0 }, 100);
      const want = [
        [`${CHASSIS} wire ${f[0]}`, `${NODE2} wire ${g0}`],
        [`${CHASSIS} wire ${f[1]}`, `${NODE2} wire ${arp}`],
        [`${CHASSIS} wire ${f[2]}`, `${NODE2} wire ${g2}`],
        [`${CHASSIS} vif a ${f[3]}`],
        [],
      ];
      expect(rec.outputs).toEqual(want.map((o) => o.sort()));
    },
  },
  [`${CHASSIS_MACS}+${NODE2}`]: {
    what: "frames from another chassis's MAC on a VLAN, taken in by a real chassis",
    sane: (rec) => {
      const name = `${CHASSIS_MACS}+${NODE2}`;
      // node1 sends what it sends with node2 fake; node2 delivers node1's routed frames to its
      // pods from the router port's MAC, not node1's chassis MAC, and floods the router's ARP
      // request to u2.
      expect(onNode1(rec)).toEqual(node1Alone(CHASSIS_MACS));
      expect(where(rec).map((w) => w.split(",").filter((x) => x.startsWith(NODE2)).join(","))).toEqual([`${NODE2} vif u2`, `${NODE2} vif l2`, `${NODE2} vif l2`, `${NODE2} vif u2`, "", "", "", "", "", ""]);
      const u2 = frameDigest(name, { port: "u1", match: "eth.src == 00:00:00:0a:64:fe && eth.dst == 00:00:00:0a:64:03 && ip4.src == 10.16.0.2 && ip4.dst == 10.100.0.3 && ip.ttl == 63 && tcp && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 0x2" });
      expect(rec.outputs[0]).toContain(`${NODE2} vif u2 ${u2}`);
    },
  },
  [`${GATEWAY_LOCALNET}+${NODE2}`]: {
    what: "a gateway router on a real chassis reached over a provider network, its answers coming back",
    sane: (rec) => {
      const name = `${GATEWAY_LOCALNET}+${NODE2}`;
      // The ping to the router is answered over the VLAN (0); a SYN to the router's own address
      // gets nothing (1); the SYN to the dnat_and_snat address reaches p2-1, translated (2); a
      // packet for an unknown upstream address makes the router ask for it by ARP, which reaches
      // upstream over the VLAN (3); the switch answers ARP for the router itself (4); an ARP
      // request for an address no one has goes nowhere on node2 (5).
      expect(where(rec)).toEqual([
        `${CHASSIS} vif upstream,${CHASSIS} wire,${NODE2} wire`,
        `${CHASSIS} wire`,
        `${CHASSIS} wire,${NODE2} vif p2-1`,
        `${CHASSIS} vif upstream,${CHASSIS} wire,${NODE2} wire`,
        `${CHASSIS} vif upstream`,
        `${CHASSIS} wire`,
      ]);
      const p21 = frameDigest(name, { port: "upstream", match: "eth.src == 00:00:00:02:00:01 && eth.dst == 00:00:00:02:00:02 && ip4.src == 172.16.0.1 && ip4.dst == 10.2.0.11 && ip.ttl == 63 && tcp && tcp.src == 40001 && tcp.dst == 80 && tcp.flags == 0x2" });
      expect(rec.outputs[2]).toContain(`${NODE2} vif p2-1 ${p21}`);
    },
  },
  [`${GATEWAY_LOCALNET_MACS}+${NODE2}`]: {
    what: "a gateway router's frames from its chassis's MAC, left as they are where the router is not",
    sane: (rec) => {
      const name = `${GATEWAY_LOCALNET_MACS}+${NODE2}`;
      // Where each packet goes is as without chassis MACs; the router's echo reply (0) and its ARP
      // request (3) reach upstream on node1 from node2's chassis MAC, which node1 does not replace
      // (the router's port is a peer of the switch only on node2).
      expect(where(rec)).toEqual(where(JSON.parse(readFileSync(recordingFile(`${GATEWAY_LOCALNET}+${NODE2}`), "utf8")) as ReplayRecording));
      const reply = frameDigest(name, { port: "upstream", match: "eth.src == 0a:00:00:00:00:12 && eth.dst == 00:00:00:ac:00:01 && ip4.src == 172.16.0.2 && ip4.dst == 172.16.0.1 && ip.ttl == 254 && icmp4 && icmp4.type == 0 && icmp4.code == 0" });
      const arp = frameDigest(name, { port: "upstream", match: "eth.src == 0a:00:00:00:00:12 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 00:00:00:ac:00:02 && arp.spa == 172.16.0.2 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 172.16.0.55", payload: 0 });
      expect(rec.outputs[0]).toContain(`${CHASSIS} vif upstream ${reply}`);
      expect(rec.outputs[3]).toContain(`${CHASSIS} vif upstream ${arp}`);
    },
  },
  [`${BRIDGED_REDIRECT_NEAR}+${NODE2}`]: {
    what: "a bridged redirect to a host on the sending chassis, which its provider bridge drops",
    sane: (rec) => {
      // The router answers near's ARP itself (0); what a sends near through the gateway goes
      // nowhere: node1's provider bridge has near's MAC behind the patch port the frame comes in
      // by (1); what a sends upstream reaches node2 and leaves it routed (2); near's frame for the
      // gateway port crosses to node2, which has no connection to un-SNAT it to (3).
      expect(where(rec)).toEqual([`${CHASSIS} vif near`, "", `${CHASSIS} wire,${NODE2} wire`, `${CHASSIS} wire`]);
    },
  },
  [SHARED_VLAN]: {
    what: "two switches on one VLAN, joined by their chassis's provider bridge",
    sane: (rec) => {
      // a1's broadcast ARP reaches b1 through node1's provider bridge, and the wire (0); a1's
      // frame for b1's MAC reaches b1 and not the wire: the bridge has learned b1 behind vlan-b's
      // patch port (1); for b2's MAC, on node2, and for a MAC nobody has, the wire (2, 3); b1's
      // answer reaches a1 (4); c1's broadcast on VLAN 200 only the wire (5); a1's frame for b3's
      // MAC the wire: b3 is disabled, so no announcement taught the bridge its MAC, and vlan-b
      // drops the flooded copy (6).
      // node1 alone is real: its lines carry no chassis.
      const alone = rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, l.startsWith("vif ") ? 2 : 1).join(" ")).join(","));
      expect(alone).toEqual(["vif b1,wire", "vif b1", "wire", "wire", "vif a1", "wire", "wire"]);
      const b1 = frameDigest(SHARED_VLAN, { port: "a1", match: "eth.src == 00:00:00:01:00:0b && eth.dst == 00:00:00:02:00:0b && ip4.src == 10.1.0.11 && ip4.dst == 10.2.0.11 && ip.ttl == 64 && udp && udp.src == 5000 && udp.dst == 53", payload: 12 });
      expect(rec.outputs[1]).toEqual([`vif b1 ${b1}`]);
    },
  },
  [`${SHARED_VLAN}+${NODE2}`]: {
    what: "two switches on one VLAN across two real chassis",
    sane: (rec) => {
      // node1 sends what it sends with node2 fake; node2's provider bridge hands a1's broadcast to
      // both switches, which deliver it to a2 and b2 (0), and a1's frame for b2's MAC to vlan-b,
      // which delivers it to b2 (2).
      expect(onNode1(rec)).toEqual(node1Alone(SHARED_VLAN));
      expect(where(rec).map((w) => w.split(",").filter((x) => x.startsWith(NODE2)).join(","))).toEqual([`${NODE2} vif a2,${NODE2} vif b2`, "", `${NODE2} vif b2`, "", "", "", ""]);
    },
  },
  [ANNOUNCED_NEIGHBOURS]: {
    what: "the MAC bindings ovn-controller writes when it announces a VIF, disabled ones too",
    sane: (rec) => {
      // Routed to b1 (disabled, node1) and b2 (disabled, node2, whose binding the oracle writes as
      // node2's ovn-controller would): sent to their MACs and dropped by vlan-b, with no ARP
      // request (0, 1). To an address nobody has: the router asks by ARP, which b3 and the wire
      // get (2). To b3: delivered (3).
      // node1 alone is real: its lines carry no chassis.
      const alone = rec.outputs.map((o) => o.map((l) => l.split(" ").slice(0, l.startsWith("vif ") ? 2 : 1).join(" ")).join(","));
      expect(alone).toEqual(["", "", "vif b3,wire", "vif b3"]);
    },
  },
  [`${ANNOUNCED_NEIGHBOURS}+${NODE2}`]: {
    what: "the MAC bindings of announced VIFs, node2's written by its own ovn-controller",
    sane: (rec) => {
      expect(rec.outputs).toEqual(node1Alone(ANNOUNCED_NEIGHBOURS));
    },
  },
  [`${PROVIDER_LEARNING}+${NODE2}`]: {
    what: "what the provider bridges know from ovn-controller's announcements and learn from what is sent",
    sane: (rec) => {
      // The gateway router's port is announced from node2: a1's frames for it reach vlan-a there
      // alone (0, 5). a2's second MAC is not: flooded on node2, so vlan-u hands it to u2 (1) until
      // a2 sends from it (2), after which it goes to vlan-a alone (3).
      expect(where(rec)).toEqual([
        `${CHASSIS} wire,${NODE2} vif x2`,
        `${CHASSIS} wire,${NODE2} vif a2,${NODE2} vif u2`,
        `${CHASSIS} vif a1,${NODE2} wire`,
        `${CHASSIS} wire,${NODE2} vif a2`,
        `${CHASSIS} vif a1,${NODE2} wire`,
        `${CHASSIS} wire,${NODE2} vif x2`,
      ]);
    },
  },
  [`${PROVIDER_LEARNING}-macs+${NODE2}`]: {
    what: "a gateway router's port announced, and its frames sent, from its chassis's MAC",
    sane: (rec) => {
      // As provider-learning, but node2 announces the router's port from its chassis MAC, and the
      // router's answer (4) leaves from it too: the port's own MAC is never learned, and a1's
      // frames for it reach u2 as well (0, 5).
      const plain = where(JSON.parse(readFileSync(recordingFile(`${PROVIDER_LEARNING}+${NODE2}`), "utf8")) as ReplayRecording);
      const flooded = `${CHASSIS} wire,${NODE2} vif u2,${NODE2} vif x2`;
      expect(where(rec)).toEqual([flooded, ...plain.slice(1, 5), flooded]);
    },
  },
  [`${SHARED_VLAN_REJECT}+${NODE2}`]: {
    what: "a reject's answer made on a chassis, lost at a recirculation past the provider bridge's patch ports",
    sane: (rec) => {
      // vlan-b's answer to a1's UDP for b1 crosses node1's provider bridge into vlan-a, whose
      // conntrack recirculation ovs-vswitchd cannot thaw for a packet from the controller: nothing
      // (0). The answer to the UDP for b2 is made on node2 and comes over the wire: a1 has it (1).
      // TCP is not rejected: b1 has it (2).
      expect(where(rec)).toEqual(["", `${CHASSIS} vif a1,${CHASSIS} wire,${NODE2} wire`, `${CHASSIS} vif b1`]);
    },
  },
};

for (const [name, check] of Object.entries(CHECKS)) conversation(name, check);
