/**
 * Renders ofp `Action`s back to OVN's action language, as `parseActions` reads it.
 *
 * Invariant (checked by test/compile/actions-northd.test.ts): for actions that `parseActions` produced,
 * `parseActions(formatActions(a))` gives `a` again (with the same context). The text need not be
 * the original one: a layout bit range prints as the first symbol of the match language that
 * covers exactly those bits (`nw_src` as `ip4.src`, `xxreg0[96..127]` as `reg0`), or as a
 * selection of the smallest symbol containing them (`reg0[3]`), writable symbols only; conntrack actions followed by
 * `next` print as OVN's combined forms (`ct_next;`, `ct_dnat;`, `ct_lb_mark(...)`).
 *
 * Port keys print as names through `portName`, or as `"#N"` when it does not know the key.
 * Actions OVN's language has no word for (tunnels, VLAN pushes, physical outputs) print as
 * comments.
 */
import { formatIntConstant, quoteString, resolveToRoot, SYMBOLS, type SymbolTable } from "../../expr/index.js";
import type { Action, CtAction, Subfield, Words } from "../../ofp/index.js";

export interface FormatContext {
  /** Name of a port or multicast group by key. */
  readonly portName?: (key: number) => string | undefined;
  readonly symbols?: SymbolTable;
}

interface SymRange {
  readonly name: string;
  readonly layout: string;
  readonly ofs: number;
  readonly nbits: number;
  readonly isString: boolean;
}

const rangeCache = new WeakMap<SymbolTable, SymRange[]>();

/** Every field, subfield and string symbol with the layout bits it covers, in table order. */
function ranges(symbols: SymbolTable): SymRange[] {
  let out = rangeCache.get(symbols);
  if (out) return out;
  out = [];
  for (const s of symbols.values()) {
    if (s.kind === "string") out.push({ name: s.name, layout: s.layout, ofs: 0, nbits: 32, isString: true });
    if (s.kind !== "field" && s.kind !== "subfield") continue;
    if (s.origin !== "ovn" || s.writable === "no") continue;
    const r = resolveToRoot(symbols, s);
    if (!r) continue;
    const nbits = Math.min(s.width, r.root.bits - r.ofs);
    if (nbits > 0) out.push({ name: s.name, layout: r.root.layout, ofs: r.root.layoutOfs + r.ofs, nbits, isString: false });
  }
  rangeCache.set(symbols, out);
  return out;
}

function wordsBig(w: Words): bigint {
  let v = 0n;
  for (const x of w) v = (v << 32n) | BigInt(x >>> 0);
  return v;
}

class Formatter {
  private readonly ctx: FormatContext;
  private readonly symbols: SymbolTable;

  constructor(ctx: FormatContext) {
    this.ctx = ctx;
    this.symbols = ctx.symbols ?? SYMBOLS;
  }

  /** The name of a bit range: an exact symbol, else the smallest containing symbol with a selection. */
  sub(s: Subfield, preferString = false): { text: string; isString: boolean; name: string } {
    const all = ranges(this.symbols);
    const exact = all.filter((r) => r.layout === s.field.name && r.ofs === s.ofs && r.nbits === s.nbits && r.isString === preferString);
    if (exact[0]) return { text: exact[0].name, isString: exact[0].isString, name: exact[0].name };
    let best: SymRange | undefined;
    for (const r of all) {
      if (r.isString || r.layout !== s.field.name || r.ofs > s.ofs || r.ofs + r.nbits < s.ofs + s.nbits) continue;
      if (!best || r.nbits < best.nbits) best = r;
    }
    if (!best) return { text: `/* ${s.field.name}[${s.ofs}..${s.ofs + s.nbits - 1}] */`, isString: false, name: s.field.name };
    const lo = s.ofs - best.ofs;
    const hi = lo + s.nbits - 1;
    return { text: `${best.name}[${lo === hi ? lo : `${lo}..${hi}`}]`, isString: false, name: best.name };
  }

  value(dstName: string, v: bigint, nbits: number): string {
    if (nbits === 48 && /^(eth\.|arp\.[st]ha|nd\.[st]ll)/.test(dstName)) return formatIntConstant(v, "mac");
    if (nbits === 32 && /^(ip4\.(src|dst)|arp\.[st]pa)$/.test(dstName)) return formatIntConstant(v, "ipv4");
    if (nbits === 128 && /^(ip6\.(src|dst)|nd\.target)$/.test(dstName)) return formatIntConstant(v, "ipv6");
    return v < 1n << 32n ? v.toString(10) : formatIntConstant(v, "hex");
  }

  port(key: number): string {
    return quoteString(this.ctx.portName?.(key) ?? `#${key}`);
  }

  zoneCt(a: CtAction): "dnat" | "snat" | "ct" | "czone" {
    if (a.zone.kind !== "field") return "ct";
    const n = a.zone.src.field.name;
    return n === "reg11" ? "dnat" : n === "reg12" ? "snat" : "ct";
  }

  /** One action; `nextFollows` says whether the following action is a plain `next`, which it absorbs. */
  one(a: Action, nextFollows: boolean): { text: string; absorbs: boolean } {
    switch (a.kind) {
      case "load": {
        const str = a.dst.field.name === "reg14" || a.dst.field.name === "reg15";
        const d = this.sub(a.dst, str && a.dst.ofs === 0 && a.dst.nbits === 32);
        const v = wordsBig(a.value);
        return { text: `${d.text} = ${d.isString ? this.port(Number(v)) : this.value(d.name, v, a.dst.nbits)};`, absorbs: false };
      }
      case "move": {
        const str = (s: Subfield): boolean => (s.field.name === "reg14" || s.field.name === "reg15") && s.ofs === 0 && s.nbits === 32;
        const both = str(a.src) && str(a.dst);
        return { text: `${this.sub(a.dst, both).text} = ${this.sub(a.src, both).text};`, absorbs: false };
      }
      case "exchange": {
        const str = (s: Subfield): boolean => (s.field.name === "reg14" || s.field.name === "reg15") && s.ofs === 0 && s.nbits === 32;
        const both = str(a.a) && str(a.b);
        return { text: `${this.sub(a.a, both).text} <-> ${this.sub(a.b, both).text};`, absorbs: false };
      }
      case "stack": {
        const str = (a.field.field.name === "reg14" || a.field.field.name === "reg15") && a.field.ofs === 0 && a.field.nbits === 32;
        return { text: `${a.push ? "push" : "pop"}(${this.sub(a.field, str).text});`, absorbs: false };
      }
      case "set_field": {
        const d = this.sub({ field: a.field, ofs: 0, nbits: a.field.width });
        return { text: `${d.text} = ${this.value(d.name, wordsBig(a.value), a.field.width)};`, absorbs: false };
      }
      case "next":
        if (a.pipeline !== undefined) return { text: `next(pipeline=${a.pipeline}, table=${a.table ?? 0});`, absorbs: false };
        return { text: a.table === undefined ? "next;" : `next(${a.table});`, absorbs: false };
      case "output":
        return { text: a.to.kind === "outport" ? "output;" : `/* output to ${a.to.kind} */`, absorbs: false };
      case "drop":
        return { text: "drop;", absorbs: false };
      case "ct":
        return this.ct(a, nextFollows);
      case "ct_lb": {
        const backends = a.backends
          .map((b) => {
            const ip = b.ip.length === 1 ? formatIntConstant(wordsBig(b.ip), "ipv4") : formatIntConstant(wordsBig(b.ip), "ipv6");
            if (b.port === undefined) return ip;
            return b.ip.length === 1 ? `${ip}:${b.port}` : `[${ip}]:${b.port}`;
          })
          .join(",");
        const hash = a.hashFields?.length ? `; hash_fields=${quoteString(a.hashFields.map(hashName).join(","))}` : "";
        const text = `${a.mark ? "ct_lb_mark" : "ct_lb"}(backends=${backends}${hash});`;
        return nextFollows ? { text, absorbs: true } : { text: `${text} /* without next */`, absorbs: false };
      }
      case "ct_clear":
        return { text: "ct_clear;", absorbs: false };
      case "dec_ttl":
        return { text: "ip.ttl--;", absorbs: false };
      case "clone":
        return { text: `clone { ${this.list(a.actions)} };`, absorbs: false };
      case "generate":
        return { text: `${a.packet} { ${this.list(a.actions)} };`, absorbs: false };
      case "call": {
        const body = a.text.endsWith(";") ? a.text : `${a.text};`;
        if (!a.result) return { text: body, absorbs: false };
        const r = a.result;
        const str = (r.field.name === "reg14" || r.field.name === "reg15") && r.ofs === 0 && r.nbits === 32;
        return { text: `${this.sub(r, str).text} = ${body}`, absorbs: false };
      }
      case "log": {
        const parts: string[] = [];
        if (a.name !== undefined) parts.push(`name=${quoteString(a.name)}`);
        if (a.severity !== undefined) parts.push(`severity=${a.severity}`);
        if (a.verdict !== undefined) parts.push(`verdict=${a.verdict}`);
        if (a.meter !== undefined) parts.push(`meter=${quoteString(a.meter)}`);
        return { text: `log(${parts.join(", ")});`, absorbs: false };
      }
      case "note":
        return { text: `/* ${a.text.replace(/\*\//g, "* /")} */`, absorbs: false };
      case "resubmit":
      case "encap":
      case "decap":
      case "push_vlan":
      case "pop_vlan":
      case "arp_reply":
      case "icmp4_error":
      case "icmp6_error":
      case "icmp4_echo_reply":
      case "icmp6_echo_reply":
      case "nd_na":
      case "controller":
        return { text: `/* ${a.kind} */`, absorbs: false };
      default: {
        const _never: never = a;
        return _never;
      }
    }
  }

  ct(a: CtAction, nextFollows: boolean): { text: string; absorbs: boolean } {
    const z = this.zoneCt(a);
    if (a.commit && !a.nat) {
      const inner: string[] = [];
      if (a.setMark) inner.push(...maskedParts("ct_mark", BigInt(a.setMark.value), BigInt(a.setMark.mask), 32, this));
      if (a.setLabel) inner.push(...maskedParts("ct_label", wordsBig(a.setLabel.value), wordsBig(a.setLabel.mask), 128, this));
      for (const m of a.exec ?? []) inner.push(this.one(m, false).text);
      return { text: inner.length ? `ct_commit { ${inner.join(" ")} };` : "ct_commit;", absorbs: false };
    }
    if (!nextFollows) return { text: `/* ct without next */`, absorbs: false };
    if (!a.commit && !a.nat) return { text: "ct_next;", absorbs: true };
    if (a.nat?.kind === "restore") {
      if (a.commit) return { text: "ct_commit_nat;", absorbs: true };
      return { text: z === "dnat" ? "ct_dnat;" : z === "snat" ? "ct_snat;" : "ct_lb_mark;", absorbs: true };
    }
    if (a.nat && a.commit) {
      const r = a.nat.range;
      const ipText = (w: Words): string => (w.length === 1 ? formatIntConstant(wordsBig(w), "ipv4") : formatIntConstant(wordsBig(w), "ipv6"));
      const parts: string[] = [];
      if (r) {
        parts.push(r.ipMax ? `${ipText(r.ipMin)}-${ipText(r.ipMax)}` : ipText(r.ipMin));
        if (r.portMin !== undefined) parts.push(r.portMax !== undefined ? `${r.portMin}-${r.portMax}` : String(r.portMin));
      }
      if (a.nat.random) parts.push("random");
      if (a.nat.persistent) parts.push("persistent");
      const name = a.nat.kind === "dnat" ? (z === "snat" ? "ct_dnat_in_czone" : "ct_dnat") : "ct_snat";
      return { text: `${name}(${parts.join(", ")});`, absorbs: true };
    }
    return { text: "/* ct */", absorbs: false };
  }

  list(actions: readonly Action[]): string {
    const out: string[] = [];
    for (let i = 0; i < actions.length; i++) {
      const nx = actions[i + 1];
      const nextFollows = nx !== undefined && nx.kind === "next" && nx.table === undefined && nx.pipeline === undefined;
      const r = this.one(actions[i]!, nextFollows);
      out.push(r.text);
      if (r.absorbs) i++;
    }
    return out.join(" ");
  }
}

/** `ct_mark.blocked = 1;`-style writes for each named subfield covering the mask, else a selection. */
function maskedParts(fieldName: "ct_mark" | "ct_label", value: bigint, mask: bigint, width: number, f: Formatter): string[] {
  const out: string[] = [];
  let bit = 0;
  while (bit < width) {
    if (((mask >> BigInt(bit)) & 1n) === 0n) {
      bit++;
      continue;
    }
    let end = bit;
    while (end + 1 < width && ((mask >> BigInt(end + 1)) & 1n) === 1n) end++;
    const nbits = end - bit + 1;
    const v = (value >> BigInt(bit)) & ((1n << BigInt(nbits)) - 1n);
    const name = f.sub({ field: { name: fieldName } as Subfield["field"], ofs: bit, nbits }).text;
    out.push(`${name} = ${v < 1n << 32n ? v.toString(10) : formatIntConstant(v, "hex")};`);
    bit = end + 1;
  }
  return out;
}

function hashName(d: { readonly name: string }): string {
  switch (d.name) {
    case "nw_src":
      return "ip_src";
    case "nw_dst":
      return "ip_dst";
    default:
      return d.name;
  }
}

/** OVN action text for `actions` (see the module comment for what reads back). */
export function formatActions(actions: readonly Action[], ctx: FormatContext = {}): string {
  if (actions.length === 0) return "/* drop */";
  return new Formatter(ctx).list(actions);
}
