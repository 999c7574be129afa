/**
 * The lexer of OVN's match language (ovn-sb(5), "Logical_Flow TABLE"; OVN's lib/lex.c).
 *
 * What: turns text into tokens, each with its 0-based `start`/`end` offsets and its 1-based
 * `line` and `column`. Tokens follow OVN's lexical rules:
 * - identifiers start with a letter, `_` or `.` and continue with those or digits (`ip4.src`,
 *   `ct.est`, `reg0`); `$name` is an address set, `@name` a port group, `^name` an (unexpanded)
 *   template;
 * - numbers: decimal (no leading zeros, below 2**64), `0x` hexadecimal (up to 1024 bits), IPv4,
 *   IPv6 and Ethernet addresses, each optionally followed by `/mask`. A mask has the value's
 *   format, or is a decimal prefix length after an IP address; `0/0x...` is also accepted. The
 *   value is always ANDed with its mask;
 * - an integer's extent takes letters, digits, `:` (until a `.` was seen, so `1.2.3.4:80` is three
 *   tokens) and `.` (unless doubled, so `1..3` is `1`, `..`, `3`). A token that begins with hex
 *   digits followed by `:` is a number (`fe:dc:...`, `ff02::1`), otherwise an identifier;
 * - strings in double quotes with JSON escapes; `//` and `/* *\/` comments;
 * - operators `== != < <= > >= ! && || .. , ; = <-> -- : - ( ) { } [ ]`.
 *
 * Invariants: lexing never throws. Bad input becomes an `error` token carrying OVN's message, and
 * the lexer continues after it, as OVN's does; the parser reports the first error it reaches.
 * Integer values are exact `bigint`s (IPv6 addresses and 128-bit masks included).
 */
import { parseIpv6 } from "../base/index.js";
import { bigintToBytes, bitWidth, bytesToBigint, formatHex, ones } from "./bits.js";
import { formatIpv4, formatIpv6 } from "../base/index.js";

export type IntFormat = "decimal" | "hex" | "ipv4" | "ipv6" | "mac";

export type PunctKind = "(" | ")" | "{" | "}" | "[" | "]" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "!" | "&&" | "||" | ".." | "," | ";" | "=" | "<->" | "--" | ":" | "-";

/** Where a token is: offsets into the text, and its 1-based line and column. */
export interface TokenPos {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

export type TokenBody =
  | { readonly kind: "end" }
  | { readonly kind: "id"; readonly text: string }
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "int"; readonly value: bigint; readonly format: IntFormat }
  | { readonly kind: "masked"; readonly value: bigint; readonly mask: bigint; readonly format: IntFormat }
  | { readonly kind: "macro"; readonly text: string }
  | { readonly kind: "port-group"; readonly text: string }
  | { readonly kind: "template"; readonly text: string }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: PunctKind };

export type Token = TokenPos & TokenBody;

/** Largest hexadecimal constant, in bits (OVS's `mf_subvalue` is 128 bytes). */
export const MAX_CONSTANT_BITS = 1024;

const PUNCT_KINDS: ReadonlySet<string> = new Set(["(", ")", "{", "}", "[", "]", "==", "!=", "<", "<=", ">", ">=", "!", "&&", "||", "..", ",", ";", "=", "<->", "--", ":", "-"]);

/** True for a token kind that is an operator or bracket. */
export function isPunct(kind: Token["kind"]): kind is PunctKind {
  return PUNCT_KINDS.has(kind);
}

/** True for an operator or bracket token. */
export function isPunctToken(t: TokenBody): t is TokenBody & { readonly kind: PunctKind } {
  return PUNCT_KINDS.has(t.kind);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
/** Characters that may start an identifier. */
export function isIdStart(c: number): boolean {
  return isAlpha(c) || c === 0x5f /* _ */ || c === 0x2e /* . */;
}
/** Characters that may continue an identifier. */
export function isIdChar(c: number): boolean {
  return isIdStart(c) || isDigit(c);
}
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

type Scanned = { body: TokenBody; end: number };

/** Strict dotted-quad IPv4 (four decimal octets, no leading zeros), as `inet_pton` reads it. */
function parseDottedQuad(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const o = Number(p);
    if (o > 255) return undefined;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

/** Reads the extent of a number starting at `p` and converts it; see the module comment. */
function scanInteger(s: string, p: number): { ok: true; value: bigint; format: IntFormat; end: number } | { ok: false; message: string; end: number } {
  let end = p;
  let sawDot = false;
  for (;;) {
    const c = s.charCodeAt(end);
    if (isAlnum(c) || (c === 0x3a && !sawDot) || (c === 0x2e && s.charCodeAt(end + 1) !== 0x2e)) {
      if (c === 0x2e) sawDot = true;
      end++;
    } else break;
  }
  const text = s.slice(p, end);
  const len = text.length;
  if (len === 0) return { ok: false, message: "Integer constant expected.", end };
  if (len === 17 && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    return { ok: true, value: BigInt("0x" + text.replace(/:/g, "")), format: "mac", end };
  }
  if (/^[0-9]+$/.test(text)) {
    if (text[0] === "0" && len > 1) return { ok: false, message: "Decimal constants must not have leading zeros.", end };
    const v = BigInt(text);
    if (v >= 1n << 64n) return { ok: false, message: "Decimal constants must be less than 2**64.", end };
    return { ok: true, value: v, format: "decimal", end };
  }
  if (text[0] === "0" && (text[1] === "x" || text[1] === "X")) {
    if (len === 2) return { ok: false, message: `Hex digits expected following 0${text[1]}.`, end };
    // Digits are examined from the last one, so leading zeros never count against the width.
    let v = 0n;
    for (let i = 0; i < len - 2; i++) {
      const c = text.charCodeAt(len - 1 - i);
      if (!isHexDigit(c)) return { ok: false, message: "Invalid syntax in hexadecimal constant.", end };
      const d = parseInt(text[len - 1 - i]!, 16);
      if (d !== 0) {
        if (i >= MAX_CONSTANT_BITS / 4) return { ok: false, message: `Hexadecimal constant requires more than ${MAX_CONSTANT_BITS} bits.`, end };
        v |= BigInt(d) << BigInt(4 * i);
      }
    }
    return { ok: true, value: v, format: "hex", end };
  }
  if (len < 46) {
    const v4 = parseDottedQuad(text);
    if (v4 !== undefined) return { ok: true, value: v4, format: "ipv4", end };
    const v6 = parseIpv6(text);
    if (v6) return { ok: true, value: bytesToBigint(v6), format: "ipv6", end };
  }
  return { ok: false, message: "Invalid numeric constant.", end };
}

/** An IPv4 or IPv6 prefix mask of `n` bits in a `width`-bit field. */
function prefixMask(n: number, width: number): bigint {
  return ones(n) << BigInt(width - n);
}

function scanNumber(s: string, p: number): Scanned {
  const v = scanInteger(s, p);
  if (!v.ok) return { body: { kind: "error", message: v.message }, end: v.end };
  if (s.charCodeAt(v.end) !== 0x2f /* / */) return { body: { kind: "int", value: v.value, format: v.format }, end: v.end };
  const m = scanInteger(s, v.end + 1);
  if (!m.ok) return { body: { kind: "error", message: m.message }, end: m.end };
  let format = v.format;
  let mask: bigint;
  if (v.format === m.format) mask = m.value;
  else if (v.format === "ipv4" && m.format === "decimal" && m.value <= 32n) mask = prefixMask(Number(m.value), 32);
  else if (v.format === "ipv6" && m.format === "decimal" && m.value <= 128n) mask = prefixMask(Number(m.value), 128);
  else if (v.format === "decimal" && m.format === "hex" && v.value === 0n) {
    format = "hex";
    mask = m.value;
  } else return { body: { kind: "error", message: "Value and mask have incompatible formats." }, end: m.end };
  return { body: { kind: "masked", value: v.value & mask, mask, format }, end: m.end };
}

/** Decodes the inside of a JSON string literal; returns undefined with a message when malformed. */
function unescapeJson(raw: string): { ok: true; text: string } | { ok: false; message: string } {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = raw.charAt(++i);
    switch (e) {
      case '"':
      case "\\":
      case "/":
        out += e;
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case "u": {
        const hex = raw.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return { ok: false, message: "Malformed \\u escape in string." };
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        return { ok: false, message: `Invalid escape \\${e} in string.` };
    }
  }
  return { ok: true, text: out };
}

function scanString(s: string, p: number): Scanned {
  const start = p + 1;
  let i = start;
  for (;;) {
    if (i >= s.length) return { body: { kind: "error", message: "Input ends inside quoted string." }, end: i };
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      const u = unescapeJson(s.slice(start, i));
      return { body: u.ok ? { kind: "string", text: u.text } : { kind: "error", message: u.message }, end: i + 1 };
    }
    i += c === 0x5c && i + 1 < s.length ? 2 : 1;
  }
}

function scanId(s: string, p: number): number {
  let i = p + 1;
  while (i < s.length && isIdChar(s.charCodeAt(i))) i++;
  return i;
}

function scanSigil(s: string, p: number, kind: "macro" | "port-group" | "template"): Scanned {
  const sigil = s[p]!;
  if (!isIdStart(s.charCodeAt(p + 1))) return { body: { kind: "error", message: `\`${sigil}' must be followed by a valid identifier.` }, end: p + 1 };
  const end = scanId(s, p + 1);
  return { body: { kind, text: s.slice(p + 1, end) }, end };
}

/**
 * A lexer over one text. `next()` returns successive tokens; after the end it keeps returning an
 * `end` token. `peek()` looks one token ahead without consuming it.
 */
export class Lexer {
  private pos = 0;
  private lineStarts: number[] | undefined;
  private peeked: Token | undefined;

  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** 1-based line and column of an offset. */
  lineCol(offset: number): { line: number; column: number } {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 0x0a) this.lineStarts.push(i + 1);
    }
    const ls = this.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (ls[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - ls[lo]! + 1 };
  }

  next(): Token {
    if (this.peeked) {
      const t = this.peeked;
      this.peeked = undefined;
      return t;
    }
    return this.scan();
  }

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  private make(start: number, sc: Scanned): Token {
    this.pos = sc.end;
    const { line, column } = this.lineCol(start);
    // The body is a fresh object: adding the position to it avoids copying (this is the lexer's
    // inner loop).
    const t = sc.body as unknown as { start: number; end: number; line: number; column: number };
    t.start = start;
    t.end = sc.end;
    t.line = line;
    t.column = column;
    return t as unknown as Token;
  }

  private punct(start: number, kind: PunctKind, n: number): Token {
    return this.make(start, { body: { kind }, end: start + n });
  }

  private scan(): Token {
    const s = this.text;
    let p = this.pos;
    for (;;) {
      // White space and comments.
      while (p < s.length && isSpace(s.charCodeAt(p))) p++;
      if (s.charCodeAt(p) === 0x2f && s.charCodeAt(p + 1) === 0x2f) {
        while (p < s.length && s.charCodeAt(p) !== 0x0a) p++;
        continue;
      }
      if (s.charCodeAt(p) === 0x2f && s.charCodeAt(p + 1) === 0x2a) {
        const start = p;
        p += 2;
        for (;;) {
          if (p >= s.length || s.charCodeAt(p) === 0x0a) return this.make(start, { body: { kind: "error", message: "`/*' without matching `*/'." }, end: p });
          if (s.charCodeAt(p) === 0x2a && s.charCodeAt(p + 1) === 0x2f) {
            p += 2;
            break;
          }
          p++;
        }
        continue;
      }
      break;
    }
    const start = p;
    if (p >= s.length) return this.make(start, { body: { kind: "end" }, end: p });
    const c = s.charCodeAt(p);
    const c1 = s.charCodeAt(p + 1);
    const ch = s.charAt(p);
    switch (ch) {
      case "/":
        return this.make(start, { body: { kind: "error", message: "`/' is only valid as part of `//' or `/*'." }, end: p + 1 });
      case "(":
      case ")":
      case "{":
      case "}":
      case "[":
      case "]":
      case ",":
      case ";":
        return this.punct(start, ch, 1);
      case "=":
        return c1 === 0x3d ? this.punct(start, "==", 2) : this.punct(start, "=", 1);
      case "!":
        return c1 === 0x3d ? this.punct(start, "!=", 2) : this.punct(start, "!", 1);
      case "&":
        return c1 === 0x26 ? this.punct(start, "&&", 2) : this.make(start, { body: { kind: "error", message: "`&' is only valid as part of `&&'." }, end: p + 1 });
      case "|":
        return c1 === 0x7c ? this.punct(start, "||", 2) : this.make(start, { body: { kind: "error", message: "`|' is only valid as part of `||'." }, end: p + 1 });
      case "<":
        if (c1 === 0x3d) return this.punct(start, "<=", 2);
        if (c1 === 0x2d && s.charCodeAt(p + 2) === 0x3e) return this.punct(start, "<->", 3);
        return this.punct(start, "<", 1);
      case ">":
        return c1 === 0x3d ? this.punct(start, ">=", 2) : this.punct(start, ">", 1);
      case ".":
        return c1 === 0x2e ? this.punct(start, "..", 2) : this.make(start, { body: { kind: "error", message: "`.' is only valid as part of `..' or a number." }, end: p + 1 });
      case "-":
        return c1 === 0x2d ? this.punct(start, "--", 2) : this.punct(start, "-", 1);
      case "$":
        return this.make(start, scanSigil(s, p, "macro"));
      case "@":
        return this.make(start, scanSigil(s, p, "port-group"));
      case "^":
        return this.make(start, scanSigil(s, p, "template"));
      case ":":
        if (c1 !== 0x3a) return this.punct(start, ":", 1);
        return this.make(start, scanNumber(s, p));
      case '"':
        return this.make(start, scanString(s, p));
      default:
        break;
    }
    if (isDigit(c)) return this.make(start, scanNumber(s, p));
    if (isHexDigit(c)) {
      // A run of hex digits followed by `:` is a MAC or IPv6 address, never an identifier.
      let q = p;
      while (isHexDigit(s.charCodeAt(q))) q++;
      if (s.charCodeAt(q) === 0x3a) return this.make(start, scanNumber(s, p));
    }
    if (isIdStart(c)) {
      const end = scanId(s, p);
      return this.make(start, { body: { kind: "id", text: s.slice(p, end) }, end });
    }
    const cp = s.codePointAt(p)!;
    const width = cp > 0xffff ? 2 : 1;
    const message =
      cp >= 0x21 && cp <= 0x7e
        ? `Invalid character \`${String.fromCharCode(cp)}' in input.`
        : cp < 0x80
          ? `Invalid byte 0x${cp.toString(16).padStart(2, "0")} in input.`
          : `Invalid character U+${cp.toString(16).toUpperCase().padStart(4, "0")} in input.`;
    return this.make(start, { body: { kind: "error", message }, end: p + width });
  }
}

/** All tokens of `text`, up to and including the `end` token. */
export function tokenize(text: string): Token[] {
  const lx = new Lexer(text);
  const out: Token[] = [];
  for (;;) {
    const t = lx.next();
    out.push(t);
    if (t.kind === "end") return out;
  }
}

/** Writes a string as a JSON string literal (quotes, backslashes and control characters escaped). */
export function quoteString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c < 0x20) {
      const named: Record<number, string> = { 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t" };
      out += named[c] ?? "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

/** The bits a value of `format` occupies; a value or mask beyond them is printed in hex. */
const FORMAT_BITS: Record<IntFormat, number> = { decimal: 64, hex: MAX_CONSTANT_BITS, ipv4: 32, ipv6: 128, mac: 48 };

function effectiveFormat(format: IntFormat, value: bigint, mask?: bigint): IntFormat {
  const limit = FORMAT_BITS[format];
  return bitWidth(value) <= limit && (mask === undefined || bitWidth(mask) <= limit) ? format : "hex";
}

function formatMacValue(v: bigint): string {
  return [...bigintToBytes(v, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Prints an integer value in a format. */
export function formatIntValue(value: bigint, format: IntFormat): string {
  switch (format) {
    case "decimal":
      return value.toString(10);
    case "hex":
      return formatHex(value);
    case "ipv4":
      return formatIpv4(Number(value));
    case "ipv6":
      return formatIpv6(bigintToBytes(value, 16));
    case "mac":
      return formatMacValue(value);
    default: {
      const _never: never = format;
      return _never;
    }
  }
}

/** The prefix length when `mask` is a `width`-bit prefix mask. */
function prefixLength(mask: bigint, width: number): number | undefined {
  for (let n = 0; n <= width; n++) if (prefixMask(n, width) === mask) return n;
  return undefined;
}

/** Prints an integer constant (possibly masked) so that the lexer reads it back to the same value. */
export function formatIntConstant(value: bigint, format: IntFormat, mask?: bigint): string {
  const f = effectiveFormat(format, value, mask);
  if (mask === undefined) return formatIntValue(value, f);
  let m: string;
  const p4 = f === "ipv4" ? prefixLength(mask, 32) : undefined;
  const p6 = format === "ipv6" && bitWidth(mask) <= 128 ? prefixLength(mask, 128) : undefined;
  if (p4 !== undefined) m = String(p4);
  else if (p6 !== undefined) m = String(p6);
  else m = formatIntValue(mask, f);
  return `${formatIntValue(value, f)}/${m}`;
}

/** Prints a token the way OVN's lexer tests show it (`error("...")` for errors, `$` for the end). */
export function formatToken(t: TokenBody): string {
  if (isPunctToken(t)) return t.kind;
  switch (t.kind) {
    case "end":
      return "$";
    case "id":
      return t.text;
    case "string":
      return quoteString(t.text);
    case "int":
      return formatIntConstant(t.value, t.format);
    case "masked":
      return formatIntConstant(t.value, t.format, t.mask);
    case "macro":
      return "$" + t.text;
    case "port-group":
      return "@" + t.text;
    case "template":
      return "^" + t.text;
    case "error":
      return `error(${quoteString(t.message)})`;
    default: {
      const _never: never = t;
      return _never;
    }
  }
}
