/**
 * Reading the output of OVS `ofproto/trace`: its passes (one per recirculation), and in each the
 * `Megaflow:` line as OVS fields with values and masks, and the `Datapath actions:` line as text.
 *
 * What: `parseOfprotoTrace(text)` splits a trace into passes. A pass starts at a top-level
 * `Flow:` line, optionally preceded by a `recirc(0xN) - resume conntrack with ct_state=...` header
 * (OVS 3.1 follows conntrack recirculations itself, taking each pass's ct_state from `--ct-next`,
 * default `trk|new`), and ends with `Final flow:`, `Megaflow:` and `Datapath actions:`.
 * `parseFlowFields(text)` reads a flow in OVS's text syntax (`recirc_id=0,eth,tcp,in_port=1,
 * dl_src=00:00:00:00:00:00/01:00:00:00:00:00,nw_dst=10.0.0.0/10,nw_frag=no`) into a map from OVS
 * field name to `{ value, mask? }`.
 *
 * Conventions of the result: protocol shorthands are expanded to what they mean (`eth` →
 * `packet_type=(0,0)`, `ip` → `dl_type=0x0800`, `tcp` → `dl_type=0x0800` + `nw_proto=6`, and so
 * on, see `PROTOCOL_SHORTHANDS`). `a/b` is split into value `a` and mask `b`; an IPv4 or IPv6
 * prefix length mask (`/10`, `/64`) becomes the mask it stands for (`255.192.0.0`). Flag fields
 * (`ct_state`, `tcp_flags`, `tun_flags`) keep OVS's `+flag-flag` text as the value;
 * `flagBits()` turns a ct_state text into numbers. Values are otherwise the text OVS printed.
 *
 * Errors: bad input never throws; it is a `Diagnostic` (`megaflow.*`) with the offset into the
 * parsed text.
 */
import { error, fail, ok, type Result } from "../base/index.js";

/** One field of a flow or megaflow: OVS's text for the value, and for the mask when there is one. */
export interface FlowField {
  readonly value: string;
  readonly mask?: string;
}

/** A flow in OVS text form, read into fields; `text` is what was parsed. */
export interface ParsedFlow {
  readonly text: string;
  readonly fields: ReadonlyMap<string, FlowField>;
}

/** One translation pass of `ofproto/trace` (the first, then one per followed recirculation). */
export interface TracePass {
  /** The recirculation id this pass resumed (`0x1`), absent for the first pass. */
  readonly recircId?: string;
  /** The header's explanation, e.g. `resume conntrack with ct_state=new|trk`. */
  readonly resume?: string;
  /** The conntrack state the pass was resumed with, as OVS printed it (`new|trk`). */
  readonly ctState?: string;
  /** The NAT OVS simulated before this pass: the flow's addresses before and after. */
  readonly nat?: { readonly initial: string; readonly modified: string };
  /** The `Flow:` line's text (without the label). */
  readonly flow: string;
  /** The `Final flow:` line's text, or `unchanged`. */
  readonly finalFlow: string;
  /** The raw `Megaflow: ...` line. */
  readonly megaflow: string;
  /** The raw `Datapath actions: ...` line. */
  readonly actions: string;
  /** A `Translation failed (...)` line, when OVS printed one. */
  readonly failure?: string;
}

/**
 * OVS's protocol shorthands in flow text and the fields they stand for. `eth` is the Ethernet
 * packet type (namespace 0, type 0).
 */
export const PROTOCOL_SHORTHANDS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  eth: [["packet_type", "(0,0)"]],
  ip: [["dl_type", "0x0800"]],
  ipv6: [["dl_type", "0x86dd"]],
  icmp: [["dl_type", "0x0800"], ["nw_proto", "1"]],
  icmp6: [["dl_type", "0x86dd"], ["nw_proto", "58"]],
  igmp: [["dl_type", "0x0800"], ["nw_proto", "2"]],
  tcp: [["dl_type", "0x0800"], ["nw_proto", "6"]],
  tcp6: [["dl_type", "0x86dd"], ["nw_proto", "6"]],
  udp: [["dl_type", "0x0800"], ["nw_proto", "17"]],
  udp6: [["dl_type", "0x86dd"], ["nw_proto", "17"]],
  sctp: [["dl_type", "0x0800"], ["nw_proto", "132"]],
  sctp6: [["dl_type", "0x86dd"], ["nw_proto", "132"]],
  arp: [["dl_type", "0x0806"]],
  rarp: [["dl_type", "0x8035"]],
  mpls: [["dl_type", "0x8847"]],
  mplsm: [["dl_type", "0x8848"]],
};

/** Fields whose values are `+flag-flag` lists (a `/` inside them is not a mask separator). */
const FLAG_FIELDS = new Set(["ct_state", "tcp_flags", "tun_flags"]);

/** Bits of the conntrack state flags, as OVS numbers them. */
export const CT_STATE_BITS: Readonly<Record<string, number>> = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
  snat: 0x40,
  dnat: 0x80,
};

/** Splits `text` at commas outside parentheses; each piece with its offset. */
function splitTopLevel(text: string): { part: string; at: number }[] {
  const out: { part: string; at: number }[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) {
      out.push({ part: text.slice(start, i), at: start });
      start = i + 1;
    }
  }
  out.push({ part: text.slice(start), at: start });
  return out;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function ipv4Mask(len: number): string {
  const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return [m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff].join(".");
}

function ipv6Mask(len: number): string {
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, len - g * 16));
    groups.push((bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff).toString(16));
  }
  return groups.join(":");
}

/** Turns a prefix-length mask into the mask it stands for, when the value is an IP address. */
function expandMask(value: string, mask: string): string | undefined {
  if (!/^\d+$/.test(mask)) return mask;
  const len = Number(mask);
  if (IPV4.test(value)) return len <= 32 ? ipv4Mask(len) : undefined;
  if (value.includes(":") && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) return len <= 128 ? ipv6Mask(len) : undefined;
  return mask;
}

/**
 * Reads a flow in OVS text syntax into fields (see the module header for the conventions). A
 * leading `Megaflow:`, `Flow:` or `Final flow:` label is skipped.
 */
export function parseFlowFields(text: string): Result<ParsedFlow> {
  const label = /^\s*(Megaflow|Flow|Final flow):\s*/.exec(text);
  const base = label ? label[0].length : 0;
  const body = text.slice(base).trimEnd();
  const fields = new Map<string, FlowField>();
  const put = (name: string, f: FlowField, at: number): Result<void> => {
    const was = fields.get(name);
    if (was && (was.value !== f.value || was.mask !== f.mask)) {
      return fail(error("megaflow.conflict", `field ${name} is given twice with different values (${was.value} and ${f.value})`, { offset: base + at }));
    }
    fields.set(name, f);
    return ok(undefined);
  };
  if (body.trim() === "") return fail(error("megaflow.empty", "the flow text is empty", { offset: base }));
  for (const { part, at } of splitTopLevel(body)) {
    const token = part.trim();
    const off = at + (part.length - part.trimStart().length);
    if (token === "") return fail(error("megaflow.empty-field", "empty field between commas", { offset: base + off }));
    const eq = token.indexOf("=");
    if (eq < 0) {
      const expansion = PROTOCOL_SHORTHANDS[token];
      if (!expansion) return fail(error("megaflow.unknown-shorthand", `"${token}" is neither name=value nor a protocol shorthand OVS prints`, { offset: base + off }));
      for (const [name, value] of expansion) {
        const r = put(name, { value }, off);
        if (!r.ok) return r;
      }
      continue;
    }
    const name = token.slice(0, eq);
    const raw = token.slice(eq + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) return fail(error("megaflow.bad-name", `"${name}" is not a field name`, { offset: base + off }));
    if (raw === "") return fail(error("megaflow.no-value", `field ${name} has no value`, { offset: base + off + eq + 1 }));
    let field: FlowField = { value: raw };
    const slash = raw.indexOf("/");
    if (!FLAG_FIELDS.has(name) && slash >= 0 && !raw.startsWith("(")) {
      const value = raw.slice(0, slash);
      const mask = expandMask(value, raw.slice(slash + 1));
      if (value === "" || mask === undefined || mask === "") return fail(error("megaflow.bad-mask", `field ${name} has a bad value/mask "${raw}"`, { offset: base + off + eq + 1 }));
      field = { value, mask };
    }
    const r = put(name, field, off);
    if (!r.ok) return r;
  }
  return ok({ text: body, fields });
}

/** Reads a `Megaflow:` line (the label is optional). */
export function parseMegaflowLine(line: string): Result<ParsedFlow> {
  return parseFlowFields(line);
}

/**
 * The value and mask bits of a flag text: `+new-est+trk` → value 0x21, mask 0x23; `new|trk` (the
 * form of a flow's exact state) → value 0x21, mask 0xff. Names are looked up in `bits`
 * (default: conntrack states).
 */
export function flagBits(text: string, bits: Readonly<Record<string, number>> = CT_STATE_BITS): Result<{ value: number; mask: number }> {
  const t = text.trim();
  if (t === "" || t === "0") return ok({ value: 0, mask: t === "0" ? 0xff : 0 });
  if (!/^[+-]/.test(t)) {
    let value = 0;
    for (const name of t.split("|")) {
      const b = bits[name];
      if (b === undefined) return fail(error("megaflow.bad-flag", `unknown flag "${name}" in "${text}"`));
      value |= b;
    }
    return ok({ value, mask: 0xff });
  }
  let value = 0;
  let mask = 0;
  for (const m of t.matchAll(/([+-])([a-z]+)/g)) {
    const b = bits[m[2]!];
    if (b === undefined) return fail(error("megaflow.bad-flag", `unknown flag "${m[2]}" in "${text}"`));
    mask |= b;
    if (m[1] === "+") value |= b;
  }
  if (t.replace(/[+-][a-z]+/g, "") !== "") return fail(error("megaflow.bad-flag", `"${text}" is not a +flag-flag list`));
  return ok({ value, mask });
}

/** The text after `Datapath actions: `. */
export function datapathActionsOf(line: string): string {
  return line.replace(/^\s*Datapath actions:\s*/, "").trimEnd();
}

/** Splits an `ofproto/trace` output into its passes. */
export function parseOfprotoTrace(text: string): Result<TracePass[]> {
  const lines = text.split("\n");
  const passes: TracePass[] = [];
  let header: { recircId: string; resume?: string; ctState?: string } | undefined;
  let nat: { initial: string; modified: string } | undefined;
  let cur: { flow: string; finalFlow?: string; megaflow?: string; actions?: string; failure?: string; offset: number } | undefined;
  let offset = 0;
  const close = (): Result<void> => {
    if (!cur) return ok(undefined);
    if (cur.megaflow === undefined || cur.actions === undefined || cur.finalFlow === undefined) {
      const missing = [cur.finalFlow === undefined ? "Final flow" : "", cur.megaflow === undefined ? "Megaflow" : "", cur.actions === undefined ? "Datapath actions" : ""].filter(Boolean).join(", ");
      return fail(error("megaflow.truncated", `a trace pass lacks its ${missing} line`, { offset: cur.offset }));
    }
    passes.push({
      ...(header ? { recircId: header.recircId } : {}),
      ...(header?.resume !== undefined ? { resume: header.resume } : {}),
      ...(header?.ctState !== undefined ? { ctState: header.ctState } : {}),
      ...(nat ? { nat } : {}),
      flow: cur.flow,
      finalFlow: cur.finalFlow,
      megaflow: cur.megaflow,
      actions: cur.actions,
      ...(cur.failure !== undefined ? { failure: cur.failure } : {}),
    });
    cur = undefined;
    header = undefined;
    nat = undefined;
    return ok(undefined);
  };
  for (const line of lines) {
    const here = offset;
    offset += line.length + 1;
    const rc = /^recirc\((0x[0-9a-f]+)\)(?: - (.*))?$/.exec(line);
    if (rc) {
      const c = close();
      if (!c.ok) return c;
      const resume = rc[2]?.trim();
      const st = resume ? /ct_state=([a-z|]+)/.exec(resume) : null;
      header = { recircId: rc[1]!, ...(resume ? { resume } : {}), ...(st ? { ctState: st[1]! } : {}) };
      continue;
    }
    if (line.startsWith(" Initial flow:")) {
      nat = { initial: line.slice(" Initial flow:".length).trim(), modified: nat?.modified ?? "" };
      continue;
    }
    if (line.startsWith(" Modified flow:")) {
      nat = { initial: nat?.initial ?? "", modified: line.slice(" Modified flow:".length).trim() };
      continue;
    }
    if (line.startsWith("Flow: ")) {
      if (cur) {
        const c = close();
        if (!c.ok) return c;
      }
      cur = { flow: line.slice("Flow: ".length).trim(), offset: here };
      continue;
    }
    if (!cur) continue;
    if (line.startsWith("Final flow:")) cur.finalFlow = line.slice("Final flow:".length).trim();
    else if (line.startsWith("Megaflow:")) cur.megaflow = line.trimEnd();
    else if (line.startsWith("Datapath actions:")) cur.actions = line.trimEnd();
    else if (line.startsWith("Translation failed")) cur.failure = line.trim();
  }
  const c = close();
  if (!c.ok) return c;
  if (passes.length === 0) return fail(error("megaflow.no-pass", "no `Flow:` line: this is not ofproto/trace output", { offset: 0 }));
  return ok(passes);
}
