/**
 * Lexer tables: each line is an input, then ` => ` and the tokens it lexes to, printed as OVN's
 * lexer test prints them (`error("...")` for a lexical error). A line without `=>` must print back
 * as itself. The cases follow OVN's own lexer test (tests/ovn.at, "lexer"), plus our own.
 */
import { describe, expect, it } from "vitest";
import { Lexer, formatToken, tokenize } from "../../src/expr/lexer.js";

const TABLE = String.raw`
foo bar baz quuxquuxquux _abcd_ a.b.c.d a123_.456
"abc\u0020def" => "abc def"
" => error("Input ends inside quoted string.")
"a\"b\\c" => "a\"b\\c"
"tab\there" => "tab\there"
"bad \q" => error("Invalid escape \\q in string.")

$foo $bar $baz $quuxquuxquux $_abcd_ $a.b.c.d $a123_.456
$1 => error("\`$' must be followed by a valid identifier.") 1
@pg1 @_x => @pg1 @_x
@ => error("\`@' must be followed by a valid identifier.")
^tmpl
^ => error("\`^' must be followed by a valid identifier.")

a/*b*/c => a c
a//b c => a
a/**/b => a b
a/*/b => a error("\`/*' without matching \`*/'.")
a/*/**/b => a b
a/b => a error("\`/' is only valid as part of \`//' or \`/*'.") b

0 1 12345 18446744073709551615
18446744073709551616 => error("Decimal constants must be less than 2**64.")
9999999999999999999999 => error("Decimal constants must be less than 2**64.")
01 => error("Decimal constants must not have leading zeros.")

0/0
0/1
1/0 => 0/0
1/1
128/384
1/3
1/ => error("Integer constant expected.")
1/0x123 => error("Value and mask have incompatible formats.")

0x1234
0x01234 => 0x1234
0x0 => 0
0x000 => 0
0xfedcba9876543210
0XFEDCBA9876543210 => 0xfedcba9876543210
0xfedcba9876543210fedcba9876543210
0x0000fedcba9876543210fedcba9876543210 => 0xfedcba9876543210fedcba9876543210
0x => error("Hex digits expected following 0x.")
0X => error("Hex digits expected following 0X.")
0x0/0x0 => 0/0
0x0/0x1 => 0/0x1
0x1/0x0 => 0/0
0xffff/0x1ffff
0x. => error("Invalid syntax in hexadecimal constant.")
0/0xff00 => 0/0xff00

192.168.128.1 1.2.3.4 255.255.255.255 0.0.0.0
256.1.2.3 => error("Invalid numeric constant.")
01.2.3.4 => error("Invalid numeric constant.")
192.168.0.0/16
192.168.0.0/255.255.0.0 => 192.168.0.0/16
192.168.0.0/255.255.255.0 => 192.168.0.0/24
192.168.0.0/255.255.0.255
192.168.0.0/255.0.0.0 => 192.0.0.0/8
192.168.0.0/32
192.168.0.0/255.255.255.255 => 192.168.0.0/32
192.168.0.2/32
192.168.0.2/30 => 192.168.0.0/30
192.168.0.2/24 => 192.168.0.0/24
10.0.0.0/33 => error("Value and mask have incompatible formats.")
1.2.3.4:5 => 1.2.3.4 : 5
10.0.0.1..10.0.0.9 => 10.0.0.1 .. 10.0.0.9

::
::1
ff00::1234 => ff00::1234
2001:db8:85a3::8a2e:370:7334
2001:db8:85a3:0:0:8a2e:370:7334 => 2001:db8:85a3::8a2e:370:7334
2001:0db8:85a3:0000:0000:8a2e:0370:7334 => 2001:db8:85a3::8a2e:370:7334
::ffff:192.0.2.128
::ffff:c000:0280 => ::ffff:192.0.2.128
::1/::1
::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff => ::1/128
::1/128
ff00::/8
ff00::/ff00:: => ff00::/8
fe80::1/10 => fe80::/10

01:23:45:67:ab:cd
01:23:45:67:AB:CD => 01:23:45:67:ab:cd
fe:dc:ba:98:76:54
FE:DC:ba:98:76:54 => fe:dc:ba:98:76:54
01:00:00:00:00:00/01:00:00:00:00:00
ff:ff:ff:ff:ff:ff/ff:ff:ff:ff:ff:ff
fe:ff:ff:ff:ff:ff/ff:ff:ff:ff:ff:ff
ff:ff:ff:ff:ff:ff/fe:ff:ff:ff:ff:ff => fe:ff:ff:ff:ff:ff/fe:ff:ff:ff:ff:ff
fe:x => error("Invalid numeric constant.")
00:01:02:03:04:x => error("Invalid numeric constant.")
eth.src == 00:00:00:00:00:01 => eth.src == 00:00:00:00:00:01

(){}[]==!=<<=>>=!&&||..,;=<->--: => ( ) { } [ ] == != < <= > >= ! && || .. , ; = <-> -- :
& => error("\`&' is only valid as part of \`&&'.")
| => error("\`|' is only valid as part of \`||'.")
. => error("\`.' is only valid as part of \`..' or a number.")
reg0[0..15] => reg0 [ 0 .. 15 ]
a # b => a error("Invalid character \`#' in input.") b
a \u0001 b => a error("Invalid byte 0x01 in input.") b
é => error("Invalid character U+00E9 in input.")
`;

function cases(): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of TABLE.replace(/\\`/g, "`").split("\n")) {
    if (raw.trim() === "") continue;
    const i = raw.indexOf(" => ");
    let input = i >= 0 ? raw.slice(0, i) : raw;
    const expected = i >= 0 ? raw.slice(i + 4) : raw;
    input = input.replace("\\u0001", "\u0001");
    out.push([input, expected]);
  }
  return out;
}

function lexLine(input: string): string {
  return tokenize(input)
    .filter((t) => t.kind !== "end")
    .map(formatToken)
    .join(" ");
}

describe("lexer (OVN's lexer cases and ours)", () => {
  const table = cases();
  it("has the table", () => expect(table.length).toBeGreaterThan(90));

  it.each(table)("%s", (input, expected) => {
    expect(lexLine(input)).toBe(expected);
  });

  it.each(table.filter(([, e]) => !e.includes("error(")))("prints %s in a form that lexes back to the same tokens", (input) => {
    const once = lexLine(input);
    expect(lexLine(once)).toBe(once);
    const a = tokenize(input).map((t) => ({ ...t, start: 0, end: 0, line: 0, column: 0 }));
    const b = tokenize(once).map((t) => ({ ...t, start: 0, end: 0, line: 0, column: 0 }));
    // Formats may change on reprinting (e.g. 0x0 becomes 0); values and kinds may not.
    expect(b.map((t) => ("value" in t ? [t.kind, t.value, "mask" in t ? t.mask : undefined] : t))).toEqual(a.map((t) => ("value" in t ? [t.kind, t.value, "mask" in t ? t.mask : undefined] : t)));
  });
});

describe("lexer positions and values", () => {
  it("gives each token its 1-based line and column", () => {
    const toks = tokenize('ip4.src == 10.0.0.1 &&\n  inport == "p1"');
    expect(toks.map((t) => [t.kind, t.line, t.column])).toEqual([
      ["id", 1, 1],
      ["==", 1, 9],
      ["int", 1, 12],
      ["&&", 1, 21],
      ["id", 2, 3],
      ["==", 2, 10],
      ["string", 2, 13],
      ["end", 2, 17],
    ]);
    expect(toks[2]!.start).toBe(11);
    expect(toks[2]!.end).toBe(19);
  });

  it("keeps 128-bit values exact", () => {
    const [t] = tokenize("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
    expect(t!.kind).toBe("masked");
    if (t!.kind === "masked") {
      expect(t!.value).toBe((1n << 128n) - 2n);
      expect(t!.mask).toBe((1n << 128n) - 2n);
      expect(t!.format).toBe("ipv6");
    }
    const [h] = tokenize("0x" + "f".repeat(256));
    expect(h!.kind).toBe("int");
    if (h!.kind === "int") expect(h!.value).toBe((1n << 1024n) - 1n);
    const [w] = tokenize("0x1" + "0".repeat(256));
    expect(w!.kind).toBe("error");
    if (w!.kind === "error") expect(w!.message).toBe("Hexadecimal constant requires more than 1024 bits.");
    const [z] = tokenize("0x" + "0".repeat(300) + "1");
    expect(z!.kind === "int" && z!.value === 1n).toBe(true);
  });

  it("decodes formats: decimal, hex, IPv4, IPv6, MAC", () => {
    const toks = tokenize("17 0x11 10.0.0.1 ::1 00:00:00:00:00:11");
    expect(toks.slice(0, 5).map((t) => (t.kind === "int" ? [t.format, t.value] : t.kind))).toEqual([
      ["decimal", 17n],
      ["hex", 17n],
      ["ipv4", 0x0a000001n],
      ["ipv6", 1n],
      ["mac", 17n],
    ]);
  });

  it("peek does not consume", () => {
    const lx = new Lexer("a (");
    expect(lx.next().kind).toBe("id");
    expect(lx.peek().kind).toBe("(");
    expect(lx.next().kind).toBe("(");
    expect(lx.next().kind).toBe("end");
    expect(lx.next().kind).toBe("end");
  });
});
