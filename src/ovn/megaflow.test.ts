/**
 * The `ofproto/trace` reader, on text captured from real OVS 3.1 (a dummy-datapath ovs-vswitchd
 * programmed by ovn-controller 23.03; fixtures/ovs/ofproto-trace-*.txt). Where OVS itself printed
 * the same mask in another form (the datapath flow dump writes `ipv4(dst=10.16.0.3/255.192.0.0)`
 * for the megaflow's `nw_dst=10.0.0.0/10`), the expanded masks are checked against that.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CT_STATE_BITS, datapathActionsOf, flagBits, parseFlowFields, parseMegaflowLine, parseOfprotoTrace } from "./megaflow.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/ovs");
const sameSwitch = readFileSync(resolve(FIXTURES, "ofproto-trace-same-switch.txt"), "utf8");
const aclDrop = readFileSync(resolve(FIXTURES, "ofproto-trace-acl-drop.txt"), "utf8");

function fields(line: string): Map<string, { value: string; mask?: string }> {
  const r = parseMegaflowLine(line);
  if (!r.ok) throw new Error(r.diags.map((d) => d.message).join("; "));
  return new Map(r.value.fields);
}

describe("parseMegaflowLine", () => {
  it("reads the first pass of a pod-to-pod packet: shorthands expanded, masks split", () => {
    const f = fields("Megaflow: recirc_id=0,eth,ip,in_port=1,dl_src=00:00:00:00:00:00/01:00:00:00:00:00,dl_dst=00:00:00:16:00:03,nw_dst=10.0.0.0/10,nw_frag=no");
    expect([...f.keys()]).toEqual(["recirc_id", "packet_type", "dl_type", "in_port", "dl_src", "dl_dst", "nw_dst", "nw_frag"]);
    expect(f.get("recirc_id")).toEqual({ value: "0" });
    expect(f.get("packet_type")).toEqual({ value: "(0,0)" });
    expect(f.get("dl_type")).toEqual({ value: "0x0800" });
    expect(f.has("nw_proto")).toBe(false);
    expect(f.get("in_port")).toEqual({ value: "1" });
    expect(f.get("dl_src")).toEqual({ value: "00:00:00:00:00:00", mask: "01:00:00:00:00:00" });
    expect(f.get("dl_dst")).toEqual({ value: "00:00:00:16:00:03" });
    expect(f.get("nw_frag")).toEqual({ value: "no" });
  });

  it("turns IPv4 prefix lengths into the masks OVS's datapath dump prints for the same flows", () => {
    // Megaflow text and the matching `dpctl/dump-flows` masks, both from the recorded run.
    const pairs: [string, string, string][] = [
      ["nw_dst=10.0.0.0/10", "nw_dst", "255.192.0.0"],
      ["nw_src=10.16.0.2/31", "nw_src", "255.255.255.254"],
      ["nw_src=10.16.0.8/29", "nw_src", "255.255.255.248"],
      ["nw_dst=10.16.0.16/28", "nw_dst", "255.255.255.240"],
    ];
    for (const [text, name, mask] of pairs) expect(fields(text).get(name)?.mask, text).toBe(mask);
    expect(fields("nw_dst=10.16.0.0/0").get("nw_dst")?.mask).toBe("0.0.0.0");
    expect(fields("nw_dst=10.16.0.7/32").get("nw_dst")?.mask).toBe("255.255.255.255");
  });

  it("turns IPv6 prefix lengths into full masks", () => {
    expect(fields("ipv6_dst=fd00::/64").get("ipv6_dst")).toEqual({ value: "fd00::", mask: "ffff:ffff:ffff:ffff:0:0:0:0" });
    expect(fields("ipv6_src=fd00::1/127").get("ipv6_src")?.mask).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
  });

  it("reads a conntrack pass: ct_state kept as flags, ct_mark and tp_dst as value/mask, tcp expanded", () => {
    const f = fields("Megaflow: recirc_id=0x2,ct_state=+new-est-rel-rpl-inv+trk,ct_mark=0/0x1,eth,tcp,in_port=1,dl_src=00:00:00:16:00:10,nw_src=10.16.0.10,nw_frag=no,tp_dst=0x2000/0xe000");
    expect(f.get("ct_state")).toEqual({ value: "+new-est-rel-rpl-inv+trk" });
    expect(f.get("ct_mark")).toEqual({ value: "0", mask: "0x1" });
    expect(f.get("dl_type")).toEqual({ value: "0x0800" });
    expect(f.get("nw_proto")).toEqual({ value: "6" });
    expect(f.get("tp_dst")).toEqual({ value: "0x2000", mask: "0xe000" });
    // The packet's port 9090 (0x2382) is inside the masked range; 8080 (the allowed port) is not.
    expect(9090 & 0xe000).toBe(0x2000);
    expect(8080 & 0xe000).not.toBe(0x2000);
  });

  it("reads a dp_hash continuation and a frozen in_port", () => {
    const f = fields("Megaflow: recirc_id=0x5,dp_hash=0x4/0xf,eth,ip,in_port=1,nw_frag=no");
    expect(f.get("dp_hash")).toEqual({ value: "0x4", mask: "0xf" });
    expect(fields("recirc_id=0x2,eth,ip,in_port=ANY,nw_frag=no").get("in_port")).toEqual({ value: "ANY" });
  });

  it("keeps parenthesised values whole", () => {
    const f = fields("recirc_id=0,packet_type=(1,0x800),in_port=3");
    expect(f.get("packet_type")).toEqual({ value: "(1,0x800)" });
    expect(f.get("in_port")).toEqual({ value: "3" });
  });

  it("expands every shorthand to dl_type/nw_proto", () => {
    expect(Object.fromEntries([...fields("udp6").entries()].map(([k, v]) => [k, v.value]))).toEqual({ dl_type: "0x86dd", nw_proto: "17" });
    expect(Object.fromEntries([...fields("icmp").entries()].map(([k, v]) => [k, v.value]))).toEqual({ dl_type: "0x0800", nw_proto: "1" });
    expect(Object.fromEntries([...fields("arp").entries()].map(([k, v]) => [k, v.value]))).toEqual({ dl_type: "0x0806" });
  });

  it("gives diagnostics with offsets for bad input, never throws", () => {
    const cases: [string, string, number][] = [
      ["Megaflow: recirc_id=0,,eth", "megaflow.empty-field", 22],
      ["recirc_id=0,bogus,in_port=1", "megaflow.unknown-shorthand", 12],
      ["nw_dst=10.0.0.0/40", "megaflow.bad-mask", 7],
      ["ip,ipv6", "megaflow.conflict", 3],
      ["tp_dst=", "megaflow.no-value", 7],
      ["Megaflow: ", "megaflow.empty", 10],
      ["9x=1", "megaflow.bad-name", 0],
      ["nw_src=/24", "megaflow.bad-mask", 7],
    ];
    for (const [text, code, offset] of cases) {
      const r = parseFlowFields(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) {
        expect(r.diags[0]?.code, text).toBe(code);
        expect(r.diags[0]?.offset, text).toBe(offset);
      }
    }
  });
});

describe("flagBits", () => {
  it("gives value and mask of +flag-flag texts from OVS's bit numbers", () => {
    expect(flagBits("+new-est-rel-rpl-inv+trk")).toEqual({ ok: true, value: { value: 0x21, mask: 0x3f } });
    expect(flagBits("+new-est+trk")).toEqual({ ok: true, value: { value: 0x21, mask: 0x23 } });
    expect(flagBits("-est+trk")).toEqual({ ok: true, value: { value: 0x20, mask: 0x22 } });
    expect(flagBits("new|trk")).toEqual({ ok: true, value: { value: CT_STATE_BITS.new! | CT_STATE_BITS.trk!, mask: 0xff } });
  });

  it("rejects unknown flags and junk", () => {
    expect(flagBits("+new+bogus").ok).toBe(false);
    expect(flagBits("+new junk").ok).toBe(false);
    expect(flagBits("new|what").ok).toBe(false);
  });
});

describe("parseOfprotoTrace", () => {
  it("splits a three-pass pod-to-pod trace into its passes with their headers", () => {
    const r = parseOfprotoTrace(sameSwitch);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const passes = r.value;
    expect(passes.length).toBe(3);
    // Independent count: the raw text has one top-level Megaflow line per pass.
    expect(sameSwitch.split("\n").filter((l) => l.startsWith("Megaflow:")).length).toBe(passes.length);
    expect(passes[0]!.recircId).toBeUndefined();
    expect(passes[0]!.flow.startsWith("tcp,in_port=1,")).toBe(true);
    expect(passes[0]!.megaflow).toBe("Megaflow: recirc_id=0,eth,ip,in_port=1,dl_src=00:00:00:00:00:00/01:00:00:00:00:00,dl_dst=00:00:00:16:00:03,nw_dst=10.0.0.0/10,nw_frag=no");
    expect(datapathActionsOf(passes[0]!.actions)).toBe("ct(zone=2,nat),recirc(0x1)");
    expect(passes[1]!.recircId).toBe("0x1");
    expect(passes[1]!.ctState).toBe("new|trk");
    expect(passes[1]!.resume).toBe("resume conntrack with ct_state=new|trk");
    expect(passes[1]!.nat).toEqual({ initial: "", modified: "" });
    expect(passes[2]!.recircId).toBe("0x2");
    expect(datapathActionsOf(passes[2]!.actions)).toBe("ct(commit,zone=3,mark=0/0x1,nat(src)),4");
    // Each pass resumes the recirculation the previous one ended with.
    for (let i = 1; i < passes.length; i++) expect(passes[i - 1]!.actions.endsWith(`recirc(${passes[i]!.recircId})`)).toBe(true);
    for (const p of passes) expect(parseMegaflowLine(p.megaflow).ok).toBe(true);
  });

  it("reads the ACL drop trace: the last pass only logs (a controller action) and outputs nothing", () => {
    const r = parseOfprotoTrace(aclDrop);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.length).toBe(3);
    const last = r.value[2]!;
    expect(last.finalFlow.startsWith("recirc_id=0x2,")).toBe(true);
    expect(datapathActionsOf(last.actions)).toMatch(/^userspace\(pid=0,controller\(reason=1,.*\)\)$/);
    const f = fields(last.megaflow);
    expect(f.get("tp_dst")).toEqual({ value: "0x2000", mask: "0xe000" });
    expect(f.has("dl_dst")).toBe(false);
  });

  it("reads NAT simulation blocks and the default ct_state header", () => {
    const text = [
      "Flow: recirc_id=0,tcp,in_port=1",
      "Final flow: unchanged",
      "Megaflow: recirc_id=0,eth,ip,in_port=1,nw_frag=no",
      "Datapath actions: ct(zone=3,nat),recirc(0x9)",
      "",
      "===============================================================================",
      "recirc(0x9) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)",
      "Replacing src/dst IP/ports to simulate NAT:",
      " Initial flow: nw_src=10.16.0.2,tp_src=40001,nw_dst=10.96.0.10,tp_dst=80",
      " Modified flow: nw_src=10.16.0.2,tp_src=40001,nw_dst=10.16.0.3,tp_dst=8080",
      "===============================================================================",
      "",
      "Flow: recirc_id=0x9,ct_state=new|trk,tcp,in_port=1",
      "Final flow: unchanged",
      "Megaflow: recirc_id=0x9,eth,ip,in_port=1,nw_frag=no",
      "Datapath actions: drop",
      "Translation failed (No recirculation context), packet is dropped.",
    ].join("\n");
    const r = parseOfprotoTrace(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value[1]!.ctState).toBe("trk|new");
    expect(r.value[1]!.nat).toEqual({ initial: "nw_src=10.16.0.2,tp_src=40001,nw_dst=10.96.0.10,tp_dst=80", modified: "nw_src=10.16.0.2,tp_src=40001,nw_dst=10.16.0.3,tp_dst=8080" });
    expect(r.value[1]!.failure).toBe("Translation failed (No recirculation context), packet is dropped.");
    expect(r.value[0]!.finalFlow).toBe("unchanged");
  });

  it("gives diagnostics for text that is not a trace or is cut short", () => {
    const none = parseOfprotoTrace("ovs-appctl: server returned an error\n");
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.diags[0]?.code).toBe("megaflow.no-pass");
    const cut = sameSwitch.slice(0, sameSwitch.indexOf("Megaflow: recirc_id=0x1"));
    const r = parseOfprotoTrace(cut);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.diags[0]?.code).toBe("megaflow.truncated");
      expect(r.diags[0]?.message).toContain("Megaflow");
      // The offset points at the start of the unfinished pass's Flow line.
      expect(cut.slice(r.diags[0]!.offset!).startsWith("Flow: recirc_id=0x1,")).toBe(true);
    }
  });
});
