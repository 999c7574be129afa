/**
 * How the replay counts drops (`GroupStats.drops`): a logged drop ACL (OVN's `log(...); /* drop
 * *\/`) is an ACL drop naming its ACL, like one without a log; a rule of a whole switch (such as
 * the ACL stage's drop of invalid connections) carries its match, which tells it from the stage's
 * other rules of that switch.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileMicroflow, compileNetwork } from "../../src/compile/index.js";
import { W, field, setField } from "../../src/flow/index.js";
import { Replayer } from "../../src/replay/index.js";
import { loadNetworkFile } from "../../src/scenario/index.js";

const NET = join(resolve(import.meta.dirname, "../.."), "scenarios/network-policy.yaml");

/** The drops of one packet of the scenario's probe `name` (changed by `edit`), injected at its input port. */
function dropsOf(name: string, edit?: (key: Uint32Array) => void): Record<string, number> {
  const sc = loadNetworkFile(NET);
  if (!sc.ok) throw new Error("scenario");
  const c = compileNetwork(sc.value.network);
  if (!c.ok) throw new Error("compile");
  const probe = sc.value.probes.find((p) => p.name === name)!;
  const mf = compileMicroflow(c.value.program, undefined, probe.microflow);
  if (!mf.ok) throw new Error(mf.diags[0]!.message);
  const r = new Replayer(sc.value.network, {});
  const at = r.injectionFor(/inport == "([^"]+)"/.exec(probe.microflow)![1]!)!;
  const key = mf.value.key.slice();
  key[W.RECIRC_ID] = at.entry;
  edit?.(key);
  r.group.inject(at.datapath, at.entry, key);
  return r.group.stats().drops;
}

describe("drop counts", () => {
  it("a logged drop ACL counts as an ACL drop of that ACL", () => {
    // api-1.backend's ingress policy: a SYN to a port it does not admit meets the logged drop ACL.
    const syn = (k: Uint32Array): void => setField(k, field("tcp_flags"), 0x02);
    expect(dropsOf("web1-to-api1-9090-dropped", syn)).toEqual({ "acl-drop (portGroups[allow.frontend.backend].acls[0]) at ovn-default ls_out_acl": 1 });
    // db-1's egress policy drops without a log: the same reason.
    expect(Object.keys(dropsOf("db1-to-web1-dropped", syn))).toEqual(["acl-drop (portGroups[db.egress.backend].acls[0]) at ovn-default ls_in_acl_after_lb"]);
  });

  it("a switch's own rule carries its match", () => {
    // An ICMP error (destination unreachable) about no connection: conntrack finds it invalid.
    const drops = dropsOf("web1-to-api1-icmp-dropped", (k) => setField(k, field("tp_src"), 3));
    expect(drops).toEqual({ "drop-action (switches[ovn-default]) at ovn-default ls_in_acl (match: ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1))": 1 });
  });
});
