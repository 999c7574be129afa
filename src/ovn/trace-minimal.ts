/**
 * Reading `ovn-trace --minimal` output, and the verdict it means.
 *
 * The minimal form is a nested list of statements: field assignments (`ip4.dst = 10.0.0.2;`),
 * outputs (`output("p2");`), drops (`drop;`) and blocks (`ct_lb_mark /* ... *\/ {` ... `};`) for
 * conntrack and generated packets; the first line (`# ...`) is the microflow in OVS syntax. A
 * verdict is the list of outputs, each with the assignments in force on its path (innermost
 * last), or a drop when the trace outputs nothing. ovnsim's own `--minimal` output has the same
 * form, so the same reader serves conformance checks of both.
 */

export type MinimalStmt =
  | { readonly kind: "assign"; readonly field: string; readonly value: string; readonly line: number }
  | { readonly kind: "output"; readonly port: string; readonly line: number }
  | { readonly kind: "drop"; readonly line: number }
  | { readonly kind: "block"; readonly header: string; readonly body: readonly MinimalStmt[]; readonly line: number }
  | { readonly kind: "other"; readonly text: string; readonly line: number };

export interface MinimalTrace {
  /** The `# ...` microflow line, without the `# `. */
  readonly flow: string;
  readonly body: readonly MinimalStmt[];
}

export interface TraceOutput {
  readonly port: string;
  /**
   * Field → value assigned on the way, in order, the last assignment of a field winning; `ip.ttl--`
   * counts as an assignment of the decremented TTL.
   */
  readonly fields: Readonly<Record<string, string>>;
  /** The block headers around the output, outermost first (e.g. `ct_lb_mark`). */
  readonly blocks: readonly string[];
}

export interface Verdict {
  readonly outputs: readonly TraceOutput[];
  /** True when nothing was output. */
  readonly dropped: boolean;
}

/** Parses minimal-trace text. Unknown lines are kept as `other` statements, never rejected. */
export function parseMinimalTrace(text: string): MinimalTrace {
  const lines = text.split("\n");
  let i = 0;
  let flow = "";
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (i < lines.length && lines[i]!.startsWith("# ")) flow = lines[i++]!.slice(2).trim();
  const parseBlock = (): MinimalStmt[] => {
    const out: MinimalStmt[] = [];
    while (i < lines.length) {
      const raw = lines[i]!;
      const line = i + 1;
      const t = stripComments(raw).trim();
      i++;
      if (t === "") continue;
      if (t === "};" || t === "}") return out;
      if (t.endsWith("{")) {
        const header = t.slice(0, -1).trim();
        out.push({ kind: "block", header, body: parseBlock(), line });
        continue;
      }
      const outM = /^output\("([^"]*)"\);$/.exec(t);
      if (outM) {
        out.push({ kind: "output", port: outM[1]!, line });
        continue;
      }
      if (t === "drop;") {
        out.push({ kind: "drop", line });
        continue;
      }
      const asg = /^([A-Za-z_][\w.]*(?:\[[\d.]+\])?)\s*=\s*(.+);$/.exec(t);
      if (asg) {
        out.push({ kind: "assign", field: asg[1]!, value: asg[2]!.trim(), line });
        continue;
      }
      out.push({ kind: "other", text: t, line });
    }
    return out;
  };
  return { flow, body: parseBlock() };
}

function stripComments(s: string): string {
  return s.replace(/\/\*.*?\*\//g, "");
}

/**
 * Packets ovn-trace generates, with the TTL it gives them before their nested actions run
 * (undefined: not IP, or not fixed).
 */
const GENERATED_TTL: ReadonlyMap<string, number | undefined> = new Map([
  ["arp", undefined],
  ["tcp_reset", 255],
  ["sctp_abort", 255],
  ["icmp4", 255],
  ["icmp4_error", 255],
  ["icmp6", 255],
  ["icmp6_error", 255],
  ["nd_ns", undefined],
  ["nd_na", undefined],
  ["nd_na_router", undefined],
]);

/** Fields a generated packet may have changed without printing it. */
const UNPRINTED_IN_GENERATED = ["ip.ttl", "eth.src", "eth.dst", "ip4.src", "ip4.dst", "ip6.src", "ip6.dst"];

/** The verdict of a parsed minimal trace. */
export function verdictOf(t: MinimalTrace): Verdict {
  const outputs: TraceOutput[] = [];
  const ttlM = /(?:^|,)nw_ttl=(\d+)/.exec(t.flow);
  const startTtl = ttlM ? Number(ttlM[1]) : undefined;
  const walk = (body: readonly MinimalStmt[], fields: Record<string, string>, blocks: string[], baseTtl: number | undefined): void => {
    const local = { ...fields };
    for (const s of body) {
      switch (s.kind) {
        case "assign":
          local[s.field] = s.value;
          break;
        case "output":
          outputs.push({ port: s.port, fields: { ...local }, blocks: [...blocks] });
          break;
        case "block": {
          const head = s.header.split(/[\s(]/)[0]!;
          if (GENERATED_TTL.has(head)) {
            // A generated packet: its TTL is set without a printed assignment, and an ACL's
            // `reject` (which ovn-trace prints as the packet it makes) swaps its addresses
            // unprinted too; only what the block assigns is known of those.
            const inner = { ...local };
            for (const f of UNPRINTED_IN_GENERATED) delete inner[f];
            walk(s.body, inner, [...blocks, head], GENERATED_TTL.get(head));
          } else {
            // A NAT block names the rewrite it does: `ct_snat(ip4.src=172.16.0.2) {`.
            const nat = /^\w+\((ip[46]\.(?:src|dst))=([^)]+)\)/.exec(s.header);
            walk(s.body, nat ? { ...local, [nat[1]!]: nat[2]!.trim() } : local, [...blocks, head], baseTtl);
          }
          break;
        }
        case "other": {
          // `ip.ttl--;` decrements the TTL assigned earlier, or the microflow's own.
          if (/^ip\.ttl\s*--\s*;$/.test(s.text)) {
            const cur = local["ip.ttl"] !== undefined ? Number(local["ip.ttl"]) : baseTtl;
            if (cur !== undefined && Number.isInteger(cur) && cur > 0) local["ip.ttl"] = String(cur - 1);
          }
          break;
        }
        case "drop":
          break;
        default: {
          const _never: never = s;
          return _never;
        }
      }
    }
  };
  walk(t.body, {}, [], startTtl);
  return { outputs, dropped: outputs.length === 0 };
}

/** Canonical one-line text of a verdict, for comparisons and reports. */
export function formatVerdict(v: Verdict): string {
  if (v.dropped) return "drop";
  return v.outputs
    .map((o) => {
      const f = Object.entries(o.fields)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, val]) => `${k}=${val}`)
        .join(",");
      return `output(${o.port})${f ? `[${f}]` : ""}`;
    })
    .join(" ");
}
