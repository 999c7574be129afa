/**
 * Parser of OVN's logical-flow action language (ovn-sb(5), Logical_Flow `actions`) into ofp
 * `Action`s.
 *
 * What it reads: a sequence of actions, each ended by `;`: `next;`, `next(N);`,
 * `next(pipeline=egress, table=N);`, `output;`, `drop;` (alone), assignments `F = constant;`,
 * `F = G;`, `F = "port";`, `F = fn(args);`, exchanges `F <-> G;`, `ip.ttl--;`, conntrack
 * actions (`ct_next`, `ct_commit { ... }`, `ct_dnat`, `ct_snat`, their `_in_czone` forms,
 * `ct_commit_nat`, `ct_lb`, `ct_lb_mark`, `ct_clear`, `ct_snat_to_vip`), `log(...)`, blocks that
 * generate packets (`arp`, `nd_ns`, `nd_na`, `nd_na_router`, `icmp4`, `icmp4_error`, `icmp6`,
 * `icmp6_error`, `tcp_reset`, `sctp_abort`, `reject`) and `clone { ... }`, and OVN's
 * function-like actions (`get_arp(...)`, `put_fdb(...)`, `reg0[11] = lookup_fdb(...)`, ...),
 * which become `call` actions the executor gives meaning by name. Field names are those of the
 * match language (`expr` SYMBOLS); constants are read by its lexer.
 *
 * How actions map: fields resolve to bit ranges of the flow layout; a constant write is a `load`,
 * a field copy a `move`, `<->` an `exchange`. OVN's conntrack actions that continue in the next
 * table (`ct_next`, `ct_dnat`, `ct_snat`, `ct_lb_mark`, `ct_commit_nat`) become a `ct`/`ct_lb`
 * followed by `next`. Zones follow OVN's registers: a switch's zone is in reg13, a router's DNAT
 * zone in reg11 and SNAT zone in reg12 (`_in_czone` uses the SNAT zone for both); `ct_dnat` and
 * `ct_snat` use reg11 and reg12 on a switch too, as OVN encodes them. `ct_lb_mark;`
 * without backends applies the connection's existing NAT (`ct` with `nat: restore`).
 *
 * Port names in `outport = "p1"` resolve through `ActionContext.portKey`; a name it does not know
 * loads 0 (no port), except `"#N"`, which is port key N (so formatted text reads back). Errors
 * are diagnostics in OVN's style ("Syntax error at `x' expecting `;'.") with the 1-based line
 * and column of the offending token; the first error wins. Parsing never throws on bad input.
 */
import { error, fail, ok, type Diagnostic, type Result } from "../../base/index.js";
import { Lexer, formatToken, SYMBOLS, resolveToRoot, type ExprSymbol, type SymbolTable, type Token } from "../../expr/index.js";
import { field as layoutField, type FieldDef } from "../../flow/index.js";
import { parseIpAddr, type Action, type Backend, type CallArg, type CtAction, type CtNat, type CtZone, type GeneratedPacket, type MoveAction, type Subfield, type Words } from "../../ofp/index.js";

export interface ActionContext {
  /** Tunnel key of a logical port or multicast group, by name. */
  readonly portKey?: (name: string) => number | undefined;
  /** Which kind of datapath the flow belongs to; decides conntrack zones. Default `switch`. */
  readonly datapath?: "switch" | "router";
  /** File name for diagnostics. Default `<actions>`. */
  readonly file?: string;
  /** Line and column of the text's first character in that file (default 1, 1). */
  readonly line?: number;
  readonly column?: number;
  readonly symbols?: SymbolTable;
}

/** Blocks that generate a packet, by OVN action name. */
const GENERATORS: ReadonlySet<string> = new Set<GeneratedPacket>(["arp", "nd_ns", "nd_na", "nd_na_router", "icmp4", "icmp4_error", "icmp6", "icmp6_error", "tcp_reset", "sctp_abort", "reject"]);

/** OVN actions written as statements `name(args);` or `name;`, executed by name. */
const CALL_STATEMENTS: ReadonlySet<string> = new Set([
  "get_arp",
  "put_arp",
  "get_nd",
  "put_nd",
  "put_fdb",
  "handle_svc_check",
  "handle_dhcpv6_reply",
  "trigger_event",
  "bind_vport",
  "fwd_group",
  "set_queue",
  "commit_lb_aff",
  "commit_ecmp_nh",
  "ct_snat_to_vip",
  "igmp",
  "mld",
  "ovn_field",
  "put_nd_ra_opts",
  "sample",
  "mac_cache_use",
]);

/** OVN functions whose answer is assigned to a field: `reg0[3] = lookup_fdb(inport, eth.src);`. */
const CALL_FUNCTIONS: ReadonlySet<string> = new Set([
  "lookup_arp",
  "lookup_arp_ip",
  "lookup_nd",
  "lookup_nd_ip",
  "get_fdb",
  "lookup_fdb",
  "check_in_port_sec",
  "check_out_port_sec",
  "chk_lb_hairpin",
  "chk_lb_hairpin_reply",
  "check_pkt_larger",
  "select",
  "chk_lb_aff",
  "chk_ecmp_nh",
  "chk_ecmp_nh_mac",
  "put_dhcp_opts",
  "put_dhcpv6_opts",
  "put_nd_ra_opts",
  "dns_lookup",
]);

/** OVS field names allowed in `ct_lb(...; hash_fields="...")`, mapped onto the flow layout. */
const HASH_FIELDS: Readonly<Record<string, string>> = {
  eth_src: "eth_src",
  eth_dst: "eth_dst",
  ip_src: "nw_src",
  ip_dst: "nw_dst",
  ipv6_src: "ipv6_src",
  ipv6_dst: "ipv6_dst",
  tp_src: "tp_src",
  tp_dst: "tp_dst",
  tcp_src: "tp_src",
  tcp_dst: "tp_dst",
  udp_src: "tp_src",
  udp_dst: "tp_dst",
  sctp_src: "tp_src",
  sctp_dst: "tp_dst",
};

/** Deepest nesting of `{ ... }` blocks accepted (northd nests at most two). */
export const MAX_NESTING = 32;

class ParseError {
  readonly diag: Diagnostic;
  constructor(diag: Diagnostic) {
    this.diag = diag;
  }
}

/** A field reference resolved to layout bits, with what the action language knows about it. */
interface FieldRefBits {
  readonly name: string;
  /** The reference as written, selection included (`reg0[3]`). */
  readonly text: string;
  readonly sym: ExprSymbol;
  readonly sub: Subfield;
  /** OVN's width of the reference (may exceed `sub.nbits` where storage is narrower). */
  readonly width: number;
  readonly isString: boolean;
}

class Parser {
  private readonly toks: Token[] = [];
  private i = 0;
  private readonly symbols: SymbolTable;
  private readonly ctx: ActionContext;
  private readonly text: string;

  constructor(text: string, ctx: ActionContext) {
    this.ctx = ctx;
    this.text = text;
    this.symbols = ctx.symbols ?? SYMBOLS;
    const lx = new Lexer(text);
    for (;;) {
      const t = lx.next();
      this.toks.push(t);
      if (t.kind === "end") break;
    }
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private advance(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private fail(t: Token, message: string): never {
    const line = (this.ctx.line ?? 1) + t.line - 1;
    const column = t.line === 1 ? (this.ctx.column ?? 1) + t.column - 1 : t.column;
    throw new ParseError(error("actions.syntax", message, { loc: { file: this.ctx.file ?? "<actions>", line, column, length: Math.max(1, t.end - t.start) } }));
  }

  /** OVN's message for an unexpected token; an error token reports its own message. */
  private syntax(expecting: string): never {
    const t = this.peek();
    if (t.kind === "error") this.fail(t, t.message);
    const at = t.kind === "end" ? "end of input" : `\`${formatToken(t)}'`;
    this.fail(t, `Syntax error at ${at} expecting ${expecting}.`);
  }

  private is(kind: Token["kind"], text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || (t as { text?: string }).text === text);
  }

  private expect(kind: Token["kind"], what = `\`${kind}'`): Token {
    if (!this.is(kind)) this.syntax(what);
    return this.advance();
  }

  private id(): string {
    const t = this.peek();
    if (t.kind !== "id") this.syntax("identifier");
    this.advance();
    return t.text;
  }

  private int(): bigint {
    const t = this.peek();
    if (t.kind !== "int") this.syntax("integer");
    this.advance();
    return t.value;
  }

  private smallInt(max: number, what: string): number {
    const t = this.peek();
    const v = this.int();
    if (v > BigInt(max)) this.fail(t, `${what} ${v} is out of range 0 to ${max}.`);
    return Number(v);
  }

  parseAll(): Action[] {
    const out = this.actions("end", false);
    return out;
  }

  /** Actions up to (not including) a token of kind `until`. */
  private actions(until: "end" | "}", inCommit: boolean): Action[] {
    const out: Action[] = [];
    while (!this.is(until)) {
      const t = this.peek();
      if (t.kind === "id" && t.text === "drop" && this.peek(1).kind === ";") {
        if (out.length > 0 && until === "end") this.syntax("action");
        this.advance();
        this.advance();
        out.push({ kind: "drop", reason: "drop-action" });
        if (until === "end" && !this.is("end")) this.syntax("end of input");
        continue;
      }
      this.action(out, inCommit);
      this.expect(";", "`;'");
    }
    return out;
  }

  private action(out: Action[], inCommit: boolean): void {
    const t = this.peek();
    if (t.kind === "error") this.fail(t, t.message);
    if (t.kind !== "id") this.syntax("action");
    const name = t.text;
    const after = this.peek(1);
    // OVN's `icmp4.frag_mtu` / `icmp6.frag_mtu` fill the MTU of a generated ICMP "too big" error.
    // The flow key has no such field (the MTU lives in the ICMP header), so the assignment is kept
    // as a note: traces and dumps show it, and replay writes it into the packet it made.
    if ((name === "icmp4.frag_mtu" || name === "icmp6.frag_mtu") && after.kind === "=") {
      this.advance();
      this.advance();
      const mtu = this.int();
      if (mtu > 0xffffn) this.fail(t, `${name} must fit in 16 bits.`);
      out.push({ kind: "note", text: `${name} = ${mtu}`, icmpFragMtu: { v6: name === "icmp6.frag_mtu", mtu: Number(mtu) } });
      return;
    }
    // Assignments, exchanges and `--` start with a field name.
    if (after.kind === "=" || after.kind === "<->" || after.kind === "--" || after.kind === "[") {
      this.assignment(out, inCommit);
      return;
    }
    this.advance();
    switch (name) {
      case "next":
        out.push(this.next());
        return;
      case "output":
        out.push({ kind: "output", to: { kind: "outport" } });
        return;
      case "drop":
        // `drop` followed by `;` was handled by the caller.
        this.syntax("`;'");
        break;
      case "ct_next":
        this.optionalEmptyParens();
        out.push(this.ct({ commit: false }), { kind: "next" });
        return;
      case "ct_clear":
        out.push({ kind: "ct_clear" });
        return;
      case "ct_commit":
        out.push(this.ctCommit());
        return;
      case "ct_commit_nat":
        out.push(this.ct({ commit: true, nat: { kind: "restore" } }), { kind: "next" });
        return;
      case "ct_dnat":
      case "ct_snat":
      case "ct_dnat_in_czone":
      case "ct_snat_in_czone":
        out.push(this.ctNat(name), { kind: "next" });
        return;
      case "ct_lb":
      case "ct_lb_mark":
        out.push(this.ctLb(name === "ct_lb_mark"), { kind: "next" });
        return;
      case "clone":
        out.push({ kind: "clone", actions: this.block(false) });
        return;
      case "push":
      case "pop": {
        this.expect("(", "`('");
        const f = this.fieldRef(name === "pop");
        this.expect(")", "`)'");
        out.push({ kind: "stack", push: name === "push", field: f.sub });
        return;
      }
      case "log":
        out.push(this.log());
        return;
      default:
        break;
    }
    if (GENERATORS.has(name)) {
      out.push({ kind: "generate", packet: name as GeneratedPacket, actions: this.block(false) });
      return;
    }
    if (CALL_STATEMENTS.has(name)) {
      out.push(this.call(name, t.start, undefined));
      return;
    }
    this.i--;
    this.syntax("action");
  }

  private optionalEmptyParens(): void {
    if (this.is("(")) {
      this.advance();
      this.expect(")");
    }
  }

  private depth = 0;

  /** `{ actions }`, nested at most `MAX_NESTING` deep. */
  private block(inCommit: boolean): Action[] {
    const open = this.expect("{", "`{'");
    if (++this.depth > MAX_NESTING) this.fail(open, `Actions nested more than ${MAX_NESTING} deep.`);
    const acts = this.actions("}", inCommit);
    this.expect("}", "`}'");
    this.depth--;
    return acts;
  }

  private next(): Action {
    if (!this.is("(")) return { kind: "next" };
    this.advance();
    let table: number | undefined;
    let pipeline: "ingress" | "egress" | undefined;
    if (this.is("int")) table = this.smallInt(254, "Table");
    else {
      for (;;) {
        const key = this.peek();
        const k = this.id();
        this.expect("=", "`='");
        if (k === "table") table = this.smallInt(254, "Table");
        else if (k === "pipeline") {
          const p = this.peek();
          const v = this.id();
          if (v !== "ingress" && v !== "egress") this.fail(p, `Syntax error at \`${v}' expecting \`ingress' or \`egress'.`);
          pipeline = v;
        } else this.fail(key, `Syntax error at \`${k}' expecting \`pipeline' or \`table'.`);
        if (!this.is(",")) break;
        this.advance();
      }
      if (table === undefined) this.syntax("`table'");
    }
    this.expect(")", "`)'");
    return { kind: "next", ...(table === undefined ? {} : { table }), ...(pipeline === undefined ? {} : { pipeline }) };
  }

  private zone(which: "ct" | "dnat" | "snat"): CtZone {
    // As OVN's encoders have it: `ct_snat` / `ct_dnat` use the SNAT / DNAT zone register on a
    // switch too (its hairpin flows `ct_snat;`); the other conntrack actions use the switch's zone.
    const reg = which === "snat" ? "reg12" : which === "dnat" || (this.ctx.datapath ?? "switch") === "router" ? "reg11" : "reg13";
    return { kind: "field", src: { field: layoutField(reg), ofs: 0, nbits: 16 } };
  }

  private ct(o: { commit: boolean; nat?: CtNat; zone?: CtZone }): CtAction {
    return { kind: "ct", zone: o.zone ?? this.zone("ct"), commit: o.commit, ...(o.nat ? { nat: o.nat } : {}) };
  }

  /** `ct_commit;`, `ct_commit { ct_mark.x = ...; ct_label.y = ...; };`, or OVN's older `ct_commit(ct_mark=...)`. */
  private ctCommit(): CtAction {
    let mark: { value: number; mask: number } | undefined;
    let label: { value: bigint; mask: bigint } | undefined;
    const exec: MoveAction[] = [];
    const apply = (acts: readonly Action[]): void => {
      for (const a of acts) {
        if (a.kind === "load" && a.dst.field.name === "ct_mark") {
          const m = (((1 << a.dst.nbits) - 1) << a.dst.ofs) >>> 0;
          const v = ((a.value[a.value.length - 1]! << a.dst.ofs) & m) >>> 0;
          const cur = mark ?? { value: 0, mask: 0 };
          mark = { value: ((cur.value & ~m) | v) >>> 0, mask: (cur.mask | m) >>> 0 };
        } else if (a.kind === "load" && a.dst.field.name === "ct_label") {
          let v = 0n;
          for (const w of a.value) v = (v << 32n) | BigInt(w);
          const m = ((1n << BigInt(a.dst.nbits)) - 1n) << BigInt(a.dst.ofs);
          const cur = label ?? { value: 0n, mask: 0n };
          label = { value: (cur.value & ~m) | ((v << BigInt(a.dst.ofs)) & m), mask: cur.mask | m };
        } else if (a.kind === "move") exec.push(a);
      }
    };
    if (this.is("{")) {
      const start = this.peek();
      const acts = this.block(true);
      for (const a of acts) {
        const ok = (a.kind === "load" || a.kind === "move") && (a.dst.field.name === "ct_mark" || a.dst.field.name === "ct_label");
        if (!ok) this.fail(start, "Only assignments to ct_mark and ct_label are allowed inside ct_commit.");
      }
      apply(acts);
    } else if (this.is("(")) {
      this.advance();
      const acts: Action[] = [];
      while (!this.is(")")) {
        this.assignment(acts, true);
        if (!this.is(",")) break;
        this.advance();
      }
      this.expect(")", "`)'");
      apply(acts);
    }
    const labelWords = (v: bigint): Words => [Number((v >> 96n) & 0xffffffffn), Number((v >> 64n) & 0xffffffffn), Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
    return {
      kind: "ct",
      zone: this.zone("ct"),
      commit: true,
      ...(mark ? { setMark: mark } : {}),
      ...(label ? { setLabel: { value: labelWords(label.value), mask: labelWords(label.mask) } } : {}),
      ...(exec.length ? { exec } : {}),
    };
  }

  /** An IP address token (IPv4, IPv6 or `[IPv6]`). */
  private ip(): Words {
    const t = this.peek();
    if (t.kind === "[") {
      this.advance();
      const v = this.ip();
      this.expect("]", "`]'");
      return v;
    }
    if (t.kind !== "int" || (t.format !== "ipv4" && t.format !== "ipv6")) this.syntax("IP address");
    this.advance();
    return parseIpAddr(this.text.slice(t.start, t.end))!;
  }

  private ctNat(name: string): CtAction {
    const snat = name.startsWith("ct_snat");
    const czone = name.endsWith("_in_czone");
    const zone = this.zone(czone || snat ? "snat" : "dnat");
    if (!this.is("(")) return this.ct({ commit: false, nat: { kind: "restore" }, zone });
    this.advance();
    const ipMin = this.ip();
    let ipMax: Words | undefined;
    if (this.is("-")) {
      this.advance();
      ipMax = this.ip();
    }
    let portMin: number | undefined;
    let portMax: number | undefined;
    let random = false;
    let persistent = false;
    while (this.is(",")) {
      this.advance();
      if (this.is("int")) {
        portMin = this.smallInt(65535, "Port");
        if (this.is("-")) {
          this.advance();
          portMax = this.smallInt(65535, "Port");
        }
      } else {
        const f = this.id();
        if (f === "random") random = true;
        else if (f === "persistent") persistent = true;
        else if (f !== "hash") this.syntax("`random', `hash' or `persistent'");
      }
    }
    this.expect(")", "`)'");
    const range = { ipMin, ...(ipMax ? { ipMax } : {}), ...(portMin === undefined ? {} : { portMin }), ...(portMax === undefined ? {} : { portMax }) };
    return {
      kind: "ct",
      zone,
      commit: true,
      nat: { kind: snat ? "snat" : "dnat", range, ...(random ? { random } : {}), ...(persistent ? { persistent } : {}) },
    };
  }

  /** `ct_lb;`, `ct_lb(backends=IP[:PORT],...; hash_fields="..."; force_snat);` or the older `ct_lb(IP[:PORT],...)`. */
  private ctLb(mark: boolean): Action {
    if (!this.is("(")) return this.ct({ commit: false, nat: { kind: "restore" } });
    this.advance();
    const backends: Backend[] = [];
    let hashFields: FieldDef[] | undefined;
    const readBackends = (): void => {
      for (;;) {
        const ip = this.ip();
        let port: number | undefined;
        if (this.is(":")) {
          this.advance();
          port = this.smallInt(65535, "Port");
        }
        backends.push(port === undefined ? { ip } : { ip, port });
        if (!this.is(",")) return;
        this.advance();
      }
    };
    if (this.is("id", "backends")) {
      this.advance();
      this.expect("=", "`='");
      readBackends();
    } else if (!this.is(")")) readBackends();
    while (this.is(";")) {
      this.advance();
      const k = this.peek();
      const key = this.id();
      if (key === "hash_fields") {
        this.expect("=", "`='");
        const s = this.peek();
        if (s.kind !== "string") this.syntax("string");
        this.advance();
        hashFields = [];
        for (const n of s.text.split(",").map((x) => x.trim())) {
          const l = HASH_FIELDS[n];
          if (!l) this.fail(s, `${n} is not a supported hash field.`);
          hashFields.push(layoutField(l));
        }
      } else if (key === "force_snat" || key === "skip_snat") {
        // The SNAT choice is expressed by flags set before ct_lb in the flows northd emits.
      } else this.fail(k, `Syntax error at \`${key}' expecting \`hash_fields'.`);
    }
    this.expect(")", "`)'");
    if (backends.length === 0) return this.ct({ commit: false, nat: { kind: "restore" } });
    return { kind: "ct_lb", zone: this.zone("ct"), backends, ...(hashFields ? { hashFields } : {}), ...(mark ? { mark } : {}) };
  }

  private log(): Action {
    const out: { name?: string; severity?: string; verdict?: string; meter?: string } = {};
    if (!this.is("(")) return { kind: "log" };
    this.advance();
    while (!this.is(")")) {
      const k = this.peek();
      const key = this.id();
      this.expect("=", "`='");
      const v = this.peek();
      if (v.kind === "string") out[key as "name"] = v.text;
      else if (v.kind === "id") out[key as "name"] = v.text;
      else this.syntax("value");
      if (key !== "name" && key !== "severity" && key !== "verdict" && key !== "meter") this.fail(k, `Syntax error at \`${key}' expecting \`name', \`severity', \`verdict' or \`meter'.`);
      this.advance();
      if (!this.is(",")) break;
      this.advance();
    }
    this.expect(")", "`)'");
    return { kind: "log", ...out };
  }

  /** `fn(args)` or a bare `fn`; the name is already consumed. */
  private call(fn: string, start: number, result: Subfield | undefined): Action {
    const args: CallArg[] = [];
    if (this.is("(")) {
      this.advance();
      while (!this.is(")")) {
        args.push(this.callArg());
        if (!this.is(",")) break;
        this.advance();
      }
      this.expect(")", "`)'");
    }
    const end = this.toks[this.i - 1]!.end;
    return { kind: "call", fn, args, ...(result ? { result } : {}), text: this.text.slice(start, end).trim() };
  }

  /** The raw text of balanced tokens up to a `,` or `)` at depth 0. */
  private rawValue(): string {
    const first = this.peek();
    let depth = 0;
    let last = first;
    for (;;) {
      const t = this.peek();
      if (t.kind === "end") this.syntax("`)'");
      if (t.kind === "error") this.fail(t, t.message);
      if (depth === 0 && (t.kind === "," || t.kind === ")")) break;
      if (t.kind === "(" || t.kind === "{" || t.kind === "[") depth++;
      if (t.kind === ")" || t.kind === "}" || t.kind === "]") depth--;
      last = this.advance();
    }
    if (last === first && (first.kind === "," || first.kind === ")")) this.syntax("value");
    return this.text.slice(first.start, last.end);
  }

  private callArg(): CallArg {
    const t = this.peek();
    if (t.kind === "id" && this.peek(1).kind === "=") {
      this.advance();
      this.advance();
      return { kind: "text", name: t.text, text: this.rawValue() };
    }
    if (t.kind === "id" && this.symbols.has(t.text)) {
      const r = this.fieldRef(false);
      return { kind: "field", src: r.sub };
    }
    if (t.kind === "int") {
      this.advance();
      return { kind: "value", value: bigToWords(t.value), text: this.text.slice(t.start, t.end) };
    }
    return { kind: "text", text: this.rawValue() };
  }

  /** A field reference with an optional `[n]` or `[lo..hi]` selection, resolved to layout bits. */
  private fieldRef(forWrite: boolean, inCommit = false): FieldRefBits {
    const t = this.peek();
    const name = this.id();
    const sym = this.symbols.get(name);
    if (!sym) this.fail(t, `Syntax error at \`${name}' expecting field name.`);
    if (sym.kind === "predicate") this.fail(t, `Predicate symbol ${name} used where field is expected.`);
    if (forWrite) {
      const w = sym.kind === "string" ? sym.writable : sym.writable;
      if (w === "no" || (w === "ct-commit" && !inCommit)) this.fail(t, `Field ${name} is not modifiable.`);
    }
    if (sym.kind === "string") {
      if (this.is("[")) this.fail(this.peek(), `Cannot select subfield of string field ${name}.`);
      return { name, text: name, sym, sub: { field: layoutField(sym.layout), ofs: 0, nbits: 32 }, width: 32, isString: true };
    }
    const root = resolveToRoot(this.symbols, sym);
    if (!root) this.fail(t, `Field ${name} cannot be resolved.`);
    let lo = 0;
    let width = sym.width;
    if (this.is("[")) {
      const open = this.advance();
      const a = this.int();
      let b = a;
      if (this.is("..")) {
        this.advance();
        b = this.int();
      }
      this.expect("]", "`]'");
      if (b < a || b >= BigInt(sym.width)) this.fail(open, `Invalid bit range ${a} to ${b} in ${sym.width}-bit field ${name}.`);
      lo = Number(a);
      width = Number(b - a) + 1;
    }
    const ofsInRoot = root.ofs + lo;
    const stored = Math.min(width, root.root.bits - ofsInRoot);
    if (stored <= 0) this.fail(t, `Field ${name} has no storage for bits ${lo} to ${lo + width - 1}.`);
    const sub: Subfield = { field: layoutField(root.root.layout), ofs: root.root.layoutOfs + ofsInRoot, nbits: stored };
    return { name, text: this.text.slice(t.start, this.toks[this.i - 1]!.end), sym, sub, width, isString: false };
  }

  private assignment(out: Action[], inCommit: boolean): void {
    const lhsTok = this.peek();
    const dst = this.fieldRef(true, inCommit);
    if (this.is("--")) {
      this.advance();
      if (dst.name !== "ip.ttl" || dst.sub.nbits !== 8) this.fail(lhsTok, "`--' is only valid for ip.ttl.");
      out.push({ kind: "dec_ttl" });
      return;
    }
    if (this.is("<->")) {
      this.advance();
      const srcTok = this.peek();
      const other = this.fieldRef(true, inCommit);
      if (other.isString !== dst.isString || other.width !== dst.width) this.fail(srcTok, `Can't exchange ${other.width}-bit field with ${dst.width}-bit field.`);
      out.push({ kind: "exchange", a: dst.sub, b: other.sub });
      return;
    }
    this.expect("=", "`='");
    const v = this.peek();
    if (v.kind === "id" && (CALL_FUNCTIONS.has(v.text) || CALL_STATEMENTS.has(v.text)) && this.peek(1).kind === "(") {
      this.advance();
      out.push(this.call(v.text, v.start, dst.sub));
      return;
    }
    if (v.kind === "id") {
      const src = this.fieldRef(false);
      if (src.isString !== dst.isString || src.width !== dst.width) this.fail(v, `Can't assign ${src.width}-bit value to ${dst.width}-bit destination.`);
      if (src.sub.nbits !== dst.sub.nbits) {
        const n = Math.min(src.sub.nbits, dst.sub.nbits);
        out.push({ kind: "move", src: { ...src.sub, nbits: n }, dst: { ...dst.sub, nbits: n } });
      } else out.push({ kind: "move", src: src.sub, dst: dst.sub });
      return;
    }
    if (v.kind === "string") {
      if (!dst.isString) this.fail(v, `String constant cannot be assigned to integer field ${dst.name}.`);
      this.advance();
      let key = this.ctx.portKey?.(v.text);
      if (key === undefined && /^#[0-9]{1,10}$/.test(v.text)) key = Number(v.text.slice(1));
      out.push({ kind: "load", dst: dst.sub, value: [(key ?? 0) >>> 0] });
      return;
    }
    if (v.kind === "int" || v.kind === "masked") {
      if (dst.isString) this.fail(v, `Integer constant cannot be assigned to string field ${dst.name}.`);
      if (v.kind === "masked") this.fail(v, "Masked constant is not allowed in an assignment.");
      this.advance();
      const bits = v.value.toString(2).length;
      if (v.value !== 0n && bits > dst.width) this.fail(v, `${bits}-bit constant is not compatible with ${dst.width}-bit field ${dst.text}.`);
      const stored = v.value & ((1n << BigInt(dst.sub.nbits)) - 1n);
      if (stored !== v.value) this.fail(v, `Constant does not fit the ${dst.sub.nbits} bits that hold field ${dst.name}.`);
      out.push({ kind: "load", dst: dst.sub, value: bigToWords(stored, Math.ceil(dst.sub.nbits / 32)) });
      return;
    }
    if (v.kind === "{") this.fail(v, "Assignments require a single value.");
    this.syntax("constant or field");
  }
}

/** A non-negative bigint as 32-bit words, most significant first (at least `n` words). */
function bigToWords(v: bigint, n = 1): number[] {
  const out: number[] = [];
  let x = v;
  while (x > 0n || out.length < n) {
    out.unshift(Number(x & 0xffffffffn));
    x >>= 32n;
  }
  return out;
}

/** Parses OVN action text into actions; the first error as a diagnostic. */
export function parseActions(text: string, ctx: ActionContext = {}): Result<Action[]> {
  const p = new Parser(text, ctx);
  try {
    return ok(p.parseAll());
  } catch (x) {
    if (x instanceof ParseError) return fail(x.diag);
    throw x;
  }
}
