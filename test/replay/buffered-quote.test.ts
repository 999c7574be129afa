/**
 * An ICMP error that waits for its next hop (pinctrl's buffered packets) quotes the packet as it
 * was where the error was made, not as it came in.
 *
 * Real OVS, in replay-fuzz seed 4192 (--shared-segments --v6 always --v4less), sent such an error
 * with the quoted hop limit 62: the packet had crossed two routers when a switch rejected it, and
 * the error waited while a router solicited its next hop. ovnsim sent the held error without a
 * quote of its own, and so quoted the packet as captured, hop limit 64.
 *
 * Here p1's addresses are a MAC alone, so lr1 knows no neighbour for fd00:1::11: p1's UDP to p2
 * crosses lr1 (hop limit 63) and sw2 rejects it; the ICMPv6 error waits while lr1 solicits
 * fd00:1::11, and p1's advertisement, the next packet, releases it.
 */
import { describe, expect, it } from "vitest";
import { compilePhysical } from "../../src/compile/index.js";
import { frameFromKey, generatedFrame } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkText } from "../../src/scenario/index.js";
import { sendMicroflow } from "./send-frame.js";

const NETWORK = `name: buffered-quote
chassis:
  - {name: node1, encaps: [{type: geneve, ip: 192.168.0.11}]}
switches:
  - name: sw1
    ports:
      - {name: p1, addresses: ["00:00:00:01:00:02"], chassis: node1}
      - {name: sw1-rp, type: router, addresses: [router], options: {router-port: lr1-sw1}}
  - name: sw2
    ports:
      - {name: p2, addresses: ["00:00:00:02:00:02 fd00:2::22"], chassis: node1}
      - {name: sw2-rp, type: router, addresses: [router], options: {router-port: lr1-sw2}}
    acls:
      - {direction: from-lport, priority: 2000, match: 'udp', action: reject}
routers:
  - name: lr1
    ports:
      - {name: lr1-sw1, mac: "00:00:00:01:00:01", networks: ["fd00:1::1/64"]}
      - {name: lr1-sw2, mac: "00:00:00:02:00:01", networks: ["fd00:2::1/64"]}
`;

const PACKETS = [
  // A: rejected in sw2 after lr1; the error waits for fd00:1::11's MAC.
  'inport == "p1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::11 && ip6.dst == fd00:2::22 && ip.ttl == 64 && udp && udp.src == 45156 && udp.dst == 8080',
  // B: p1 advertises fd00:1::11 to lr1, which learns it and sends the error on.
  'inport == "p1" && eth.src == 00:00:00:01:00:02 && eth.dst == 00:00:00:01:00:01 && ip6.src == fd00:1::11 && ip6.dst == fd00:1::1 && ip.ttl == 255 && icmp6 && icmp6.type == 136 && icmp6.code == 0 && nd.target == fd00:1::11 && nd.tll == 00:00:00:01:00:02',
];

/** The frames delivered to each port for each packet, as the replay writes them. */
function replay(cache: boolean): Map<string, Uint8Array[]>[] {
  const loaded = loadNetworkText(NETWORK, "buffered-quote.yaml");
  if (!loaded.ok) throw new Error(loaded.diags.map((d) => d.message).join("; "));
  const net = loaded.value.network;
  const plan = compilePhysical(net);
  if (!plan.ok) throw new Error("physical plan");
  const r = new Replayer(net, { cache: cache ? { emcInsertInvProb: 1 } : false });
  const at = r.injectionFor("p1")!;
  const program = plan.value.chassis.get(at.chassis)!.program;
  const cur = r.current;
  let got = new Map<string, Uint8Array[]>();
  r.group.sink = {
    output: (_chassis, op, k) => {
      const f = generatedFrame(cur.data, cur.offset, cur.caplen, cur.key, k, r.group.currentQuote()) ?? frameFromKey(k);
      got.set(op.portName, [...(got.get(op.portName) ?? []), f]);
    },
    drop: () => {},
  };
  const out: Map<string, Uint8Array[]>[] = [];
  for (const text of PACKETS) {
    got = new Map();
    sendMicroflow(r, program, at, text, 12);
    out.push(got);
  }
  return out;
}

/** The ICMPv6 destination unreachable messages among `frames`. */
const unreachables = (frames: readonly Uint8Array[] = []): Uint8Array[] => frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 58 && f[54] === 1);

describe("an ICMP error held for its next hop", () => {
  it.each([true, false])("quotes the packet as it was when rejected, one router on (cache %s)", (cache) => {
    const [a, b] = replay(cache);
    // A: no error yet, and lr1's solicitation for fd00:1::11 reaches p1.
    expect(unreachables(a!.get("p1"))).toEqual([]);
    expect((a!.get("p1") ?? []).some((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 58 && f[54] === 135)).toBe(true);
    // B: the error, sent on from lr1 (hop limit 255, one less for lr1's routing of it).
    const errors = unreachables(b!.get("p1"));
    expect(errors, `delivered: ${[...b!.keys()].join(", ")}`).toHaveLength(1);
    const e = errors[0]!;
    expect(e[21], "the error's hop limit").toBe(254);
    // The quoted IPv6 header starts after the outer Ethernet, IPv6 and ICMPv6 headers: A's,
    // after lr1's decrement.
    const q = 14 + 40 + 8;
    expect(e[q + 6], "quoted next header").toBe(17);
    expect(e[q + 7], "quoted hop limit").toBe(63);
    expect([...e.subarray(q + 40 + 8, q + 40 + 20)], "quoted payload").toEqual(Array(12).fill(0x61));
  });
});
