/**
 * Child process of conntrack.test.ts: runs the connection table between two markers while V8
 * traces every garbage collection.
 *
 * Mode `known` (the default): packets of committed connections, IPv4 and IPv6, in both directions,
 * some with NAT bindings to undo or apply, some re-committed with a mark and a label, and new
 * packets that are tracked but not committed. Mode `commit`: every packet commits a connection of
 * its own, which must allocate (the parent checks that this is seen).
 */
import { Conntrack, type CtRequest } from "../../src/dataplane/index.js";
import { W, field, newKey, setField } from "../../src/flow/index.js";

const mode = process.argv[2] ?? "known";

function packet(v6: boolean, src: number, dst: number, sport: number, dport: number): Uint32Array {
  const k = newKey();
  setField(k, field("eth_type"), v6 ? 0x86dd : 0x0800);
  setField(k, field("nw_proto"), 6);
  if (v6) {
    k.set([0x20010db8, 0, 0, src], W.IPV6_SRC);
    k.set([0x20010db8, 0, 0, dst], W.IPV6_DST);
  } else {
    k[W.NW_SRC] = src;
    k[W.NW_DST] = dst;
  }
  setField(k, field("tp_src"), sport);
  setField(k, field("tp_dst"), dport);
  return k;
}

const ct = new Conntrack();
const plain: CtRequest = { zone: 3, commit: false };
const restore: CtRequest = { zone: 3, commit: false, nat: { kind: "restore" } };
const recommit: CtRequest = { zone: 3, commit: true, setMark: { value: 1, mask: 1 }, setLabel: { value: [0, 0, 0, 4], mask: [0, 0, 0, 4] } };
const snat: CtRequest = { zone: 3, commit: true, nat: { kind: "snat", range: { ipMin: [0xc0000201], portMin: 5000 } } };
const templates: { key: Uint32Array; req: CtRequest }[] = [];
for (let i = 0; i < 2000; i++) {
  const v6 = i % 2 === 1;
  const a = 0x0a000000 + i;
  const b = 0x0a100000 + (i % 50);
  const sport = 1024 + (i % 3000);
  // Committed, with an SNAT binding for one connection in four.
  const nat = i % 4 === 0 && !v6;
  ct.execute(packet(v6, a, b, sport, 80), nat ? snat : { zone: 3, commit: true });
  templates.push({ key: packet(v6, a, b, sport, 80), req: i % 3 === 0 ? recommit : restore });
  templates.push({ key: nat ? packet(false, b, 0xc0000201, 80, 5000) : packet(v6, b, a, 80, sport), req: restore });
  // Never committed: new every time.
  templates.push({ key: packet(v6, a, b, sport, 443), req: plain });
}
const work = newKey();
let packets = 0;
let fresh = 0x0b000000;
const commit: CtRequest = { zone: 3, commit: true };
// An indexed loop: a `for ... of` over the templates may allocate its iterator results when V8
// does not optimise them away, which would hide what the table does.
const round = (): void => {
  for (let i = 0; i < templates.length; i++) {
    const t = templates[i]!;
    work.set(t.key);
    if (mode === "commit") {
      // A fresh source address (IPv4, or the last IPv6 word): a new connection every time.
      work[W.NW_SRC] = fresh;
      work[W.IPV6_SRC + 3] = fresh++;
      ct.execute(work, commit);
    } else ct.execute(work, t.req);
    packets++;
  }
};
for (let i = 0; i < 50; i++) round();
const states = new Set<number>();
for (const t of templates) {
  work.set(t.key);
  states.add(ct.execute(work, t.req).state);
}
packets = 0;
const before = ct.size;
process.stdout.write("BEGIN\n");
for (let i = 0; i < (mode === "commit" ? 100 : 400); i++) round();
process.stdout.write("END\n");
process.stdout.write(`PACKETS ${packets} CONNECTIONS ${before} ${ct.size} STATES ${[...states].sort((x, y) => x - y).join(",")}\n`);
