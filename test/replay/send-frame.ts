/**
 * Sends one packet, made from a microflow, through a `Replayer` as `run` sends a captured one: its
 * frame becomes the current packet (what sinks rewrite and what `check_pkt_larger` measures),
 * conntrack sees its TCP segment or ICMP message, and it goes in at `at`.
 */
import { compileMicroflow } from "../../src/compile/index.js";
import type { LogicalProgram } from "../../src/ofp/index.js";
import { KEY_WORDS, extractKey, frameFromKey } from "../../src/flow/index.js";
import type { Injection, Replayer } from "../../src/replay/index.js";

export function sendMicroflow(r: Replayer, program: LogicalProgram, at: Injection, microflow: string, payload: number): void {
  const mf = compileMicroflow(program, undefined, microflow);
  if (!mf.ok) throw new Error(mf.diags[0]!.message);
  const frame = frameFromKey(mf.value.key, { payload: new Uint8Array(payload).fill(0x61) });
  const key = new Uint32Array(KEY_WORDS);
  extractKey(frame, 0, frame.length, frame.length, 1, key, 0, false);
  const cur = r.current;
  cur.data = frame;
  cur.offset = 0;
  cur.caplen = cur.origlen = frame.length;
  cur.key.set(key);
  r.beginPacket(frame, 0, frame.length);
  r.group.inject(at.datapath, at.entry, key);
}
