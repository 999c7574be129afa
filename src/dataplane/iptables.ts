/**
 * An iptables `nat` table: chains of rules, their printable text, and first-match evaluation.
 *
 * What
 * ----
 * The subset of iptables a Kube-OVN VPC NAT gateway uses: user chains reached by `-j CHAIN`
 * jumps from the built-in `PREROUTING` and `POSTROUTING` chains, rules that match on protocol
 * (`-p`), source and destination prefix (`-s`, `-d`), destination port (`--dport`) and interfaces
 * (`-i`, `-o`), and the terminating targets `DNAT --to-destination IP[:PORT]` and
 * `SNAT --to-source IP`. Each rule keeps its printable `iptables -S` text and, when it came from a
 * model object, that object's path, so a verdict names the rule and the resource behind it.
 *
 * Semantics (Linux's)
 * -------------------
 * - A chain is scanned in order; the first rule that matches decides. A jump runs the target chain
 *   and, when that chain ends without a terminating target, scanning resumes after the jump. The
 *   end of a built-in chain is its policy, ACCEPT here: no translation.
 * - `DNAT` and `SNAT` terminate the whole table for this packet. The caller consults the table only
 *   for the first packet of a connection (conntrack state NEW), as Linux does; later packets are
 *   translated from the connection (see iptables-natgw.ts).
 * - `--dport` needs `-p tcp` or `-p udp` (iptables refuses it otherwise), `-o` is only valid in
 *   POSTROUTING and `-i` only in PREROUTING; `buildNatTable` rejects rules that break this, jumps
 *   to chains that do not exist, and loops, each with a diagnostic.
 * - `--random-fully` is kept in the text but changes nothing: the translation keeps the source
 *   port unless it clashes (see iptables-conntrack.ts), which is deterministic.
 *
 * Only IPv4. Addresses are u32 numbers; evaluation allocates only the list of rule hits.
 */
import { error, fail, formatIpv4, ok, parseCidr, ipv4FromBytes, ipv4Mask, type Diagnostic, type Result } from "../base/index.js";

/** The hooks of the nat table a forwarded packet passes. */
export type NatHook = "PREROUTING" | "POSTROUTING";

export const NAT_HOOKS: readonly NatHook[] = ["PREROUTING", "POSTROUTING"];

/** An IPv4 prefix as numbers. */
export interface Prefix4 {
  readonly addr: number;
  readonly len: number;
}

export type IptProto = "tcp" | "udp" | "icmp";

export const IPT_PROTO_NUMBERS: Readonly<Record<IptProto, number>> = { tcp: 6, udp: 17, icmp: 1 };

export interface IptMatch {
  readonly proto?: IptProto;
  readonly src?: Prefix4;
  readonly dst?: Prefix4;
  readonly dport?: number;
  readonly inIface?: string;
  readonly outIface?: string;
}

export type IptTarget =
  | { readonly kind: "jump"; readonly chain: string }
  | { readonly kind: "DNAT"; readonly toIp: number; readonly toPort?: number }
  | { readonly kind: "SNAT"; readonly toIp: number; readonly randomFully?: boolean };

/** A rule as given to `buildNatTable`. */
export interface IptRuleSpec {
  readonly chain: string;
  readonly match: IptMatch;
  readonly target: IptTarget;
  /** The model object the rule came from, when it came from one. */
  readonly path?: readonly (string | number)[];
}

/** A rule in its chain. */
export interface IptRule extends IptRuleSpec {
  /** 1-based position in its chain, as `iptables -L --line-numbers` counts. */
  readonly index: number;
  /** `iptables -S` text: `-A SHARED_DNAT -p tcp -d 172.16.3.203 --dport 8888 -j DNAT ...`. */
  readonly text: string;
}

/** A rule that matched while a packet went through the table, jumps included, in order. */
export interface RuleHit {
  readonly hook: NatHook;
  readonly chain: string;
  readonly index: number;
  readonly text: string;
  readonly target: IptTarget["kind"];
  readonly path?: readonly (string | number)[];
}

/** What the rules look at. */
export interface NatPacket {
  readonly proto: number;
  readonly src: number;
  readonly dst: number;
  readonly dport: number;
  readonly inIface?: string;
  readonly outIface?: string;
}

/** The outcome of one hook: every rule that matched, and the translating rule if any. */
export interface NatDecision {
  readonly hits: readonly RuleHit[];
  readonly rule?: IptRule;
}

const MAX_JUMP_DEPTH = 32;

/** `a.b.c.d` for /32, `a.b.c.d/n` otherwise. */
export function formatPrefix4(p: Prefix4): string {
  return p.len === 32 ? formatIpv4(p.addr) : `${formatIpv4(p.addr)}/${p.len}`;
}

/** Parses an IPv4 address or prefix (`10.0.1.0/24`, `10.0.1.2`) to numbers; undefined when bad. */
export function parsePrefix4(text: string): Prefix4 | undefined {
  const c = parseCidr(text.trim());
  if (!c || c.family !== 4) return undefined;
  return { addr: ipv4FromBytes(c.addr), len: c.prefixLen };
}

/** True when `ip` is inside prefix `p`. */
export function prefixContains(p: Prefix4, ip: number): boolean {
  const m = ipv4Mask(p.len);
  return ((ip & m) >>> 0) === ((p.addr & m) >>> 0);
}

/** The `iptables -S` text of a rule. */
export function formatIptRule(r: IptRuleSpec): string {
  const parts = [`-A ${r.chain}`];
  const m = r.match;
  if (m.inIface !== undefined) parts.push(`-i ${m.inIface}`);
  if (m.outIface !== undefined) parts.push(`-o ${m.outIface}`);
  if (m.src) parts.push(`-s ${formatPrefix4(m.src)}`);
  if (m.proto) parts.push(`-p ${m.proto}`);
  if (m.dst) parts.push(`-d ${formatPrefix4(m.dst)}`);
  if (m.dport !== undefined) parts.push(`--dport ${m.dport}`);
  const t = r.target;
  switch (t.kind) {
    case "jump":
      parts.push(`-j ${t.chain}`);
      break;
    case "DNAT":
      parts.push(`-j DNAT --to-destination ${formatIpv4(t.toIp)}${t.toPort !== undefined ? `:${t.toPort}` : ""}`);
      break;
    case "SNAT":
      parts.push(`-j SNAT --to-source ${formatIpv4(t.toIp)}${t.randomFully ? " --random-fully" : ""}`);
      break;
    default: {
      const _never: never = t;
      return _never;
    }
  }
  return parts.join(" ");
}

/** A built, checked nat table. */
export class NatTable {
  private readonly chains: ReadonlyMap<string, readonly IptRule[]>;

  private constructor(chains: ReadonlyMap<string, readonly IptRule[]>) {
    this.chains = chains;
  }

  /** Builds the table; see `buildNatTable`. */
  static build(chainNames: readonly string[], specs: readonly IptRuleSpec[]): Result<NatTable> {
    const diags: Diagnostic[] = [];
    const chains = new Map<string, IptRule[]>();
    for (const h of NAT_HOOKS) chains.set(h, []);
    for (const c of chainNames) {
      if (!/^[A-Za-z0-9_-]{1,28}$/.test(c)) diags.push(error("iptables.bad-chain", `chain name "${c}" is not a valid iptables chain name`));
      else if (!chains.has(c)) chains.set(c, []);
    }
    for (const s of specs) {
      const where = s.path ? { path: s.path } : {};
      const rules = chains.get(s.chain);
      if (!rules) {
        diags.push(error("iptables.no-chain", `rule for chain ${s.chain}, which does not exist`, where));
        continue;
      }
      const m = s.match;
      if (m.dport !== undefined && m.proto !== "tcp" && m.proto !== "udp") diags.push(error("iptables.dport-needs-proto", `--dport needs -p tcp or -p udp (${formatIptRule(s)})`, where));
      if (m.dport !== undefined && (!Number.isInteger(m.dport) || m.dport < 0 || m.dport > 65535)) diags.push(error("iptables.bad-port", `--dport ${m.dport} is not a port number`, where));
      const t = s.target;
      if (t.kind === "DNAT" && t.toPort !== undefined) {
        if (!Number.isInteger(t.toPort) || t.toPort < 1 || t.toPort > 65535) diags.push(error("iptables.bad-port", `--to-destination port ${t.toPort} is not a port number`, where));
        if (m.proto !== "tcp" && m.proto !== "udp") diags.push(error("iptables.port-needs-proto", `a port in --to-destination needs -p tcp or -p udp (${formatIptRule(s)})`, where));
      }
      if (t.kind === "jump" && !chains.has(t.chain)) diags.push(error("iptables.no-chain", `jump to chain ${t.chain}, which does not exist`, where));
      rules.push({ ...s, index: rules.length + 1, text: formatIptRule(s) });
    }
    if (diags.length > 0) return fail(...diags);
    // Which hooks reach each chain: -i only from PREROUTING, -o only from POSTROUTING; no loops.
    const reach = new Map<string, Set<NatHook>>();
    const visit = (chain: string, hook: NatHook, stack: string[]): void => {
      if (stack.includes(chain)) {
        diags.push(error("iptables.loop", `chain ${chain} jumps back to itself (${[...stack, chain].join(" → ")})`));
        return;
      }
      let set = reach.get(chain);
      if (!set) reach.set(chain, (set = new Set()));
      set.add(hook);
      for (const r of chains.get(chain) ?? []) if (r.target.kind === "jump") visit(r.target.chain, hook, [...stack, chain]);
    };
    for (const h of NAT_HOOKS) visit(h, h, []);
    for (const [name, rules] of chains) {
      const hooks = reach.get(name);
      for (const r of rules) {
        const where = r.path ? { path: r.path } : {};
        if (r.match.outIface !== undefined && hooks?.has("PREROUTING")) diags.push(error("iptables.bad-iface", `-o is not valid in a chain reached from PREROUTING (${r.text})`, where));
        if (r.match.inIface !== undefined && hooks?.has("POSTROUTING")) diags.push(error("iptables.bad-iface", `-i is not valid in a chain reached from POSTROUTING (${r.text})`, where));
        if (r.target.kind === "DNAT" && hooks?.has("POSTROUTING")) diags.push(error("iptables.bad-target", `DNAT is only valid in PREROUTING and OUTPUT (${r.text})`, where));
        if (r.target.kind === "SNAT" && hooks?.has("PREROUTING")) diags.push(error("iptables.bad-target", `SNAT is only valid in POSTROUTING and INPUT (${r.text})`, where));
      }
    }
    if (diags.length > 0) return fail(...diags);
    return ok(new NatTable(chains));
  }

  /** The rules of a chain, in order (empty for an unknown chain). */
  rules(chain: string): readonly IptRule[] {
    return this.chains.get(chain) ?? [];
  }

  /** Chain names: the built-in ones first, then the user chains in creation order. */
  chainNames(): readonly string[] {
    return [...this.chains.keys()];
  }

  /** Every rule as `iptables -S` prints it: the `-N` lines of user chains, then every `-A`. */
  dump(): string[] {
    const out: string[] = [];
    for (const h of NAT_HOOKS) out.push(`-P ${h} ACCEPT`);
    for (const name of this.chains.keys()) if (!NAT_HOOKS.includes(name as NatHook)) out.push(`-N ${name}`);
    for (const rules of this.chains.values()) for (const r of rules) out.push(r.text);
    return out;
  }

  /** Runs `pkt` through the hook's chain; see the module header. */
  evaluate(hook: NatHook, pkt: NatPacket): NatDecision {
    const hits: RuleHit[] = [];
    const rule = this.scan(hook, hook, pkt, hits, 0);
    return rule ? { hits, rule } : { hits };
  }

  private scan(hook: NatHook, chain: string, pkt: NatPacket, hits: RuleHit[], depth: number): IptRule | undefined {
    // The build checks rule loops out; the depth bound is a second guard.
    if (depth > MAX_JUMP_DEPTH) return undefined;
    for (const r of this.chains.get(chain) ?? []) {
      if (!matches(r.match, pkt)) continue;
      hits.push({ hook, chain, index: r.index, text: r.text, target: r.target.kind, ...(r.path ? { path: r.path } : {}) });
      if (r.target.kind !== "jump") return r;
      const hit = this.scan(hook, r.target.chain, pkt, hits, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
}

/**
 * Builds a nat table from user chain names and rules (appended in the order given, so the first
 * rule given for a chain is rule 1). Bad rules are diagnostics, never exceptions.
 */
export function buildNatTable(chainNames: readonly string[], specs: readonly IptRuleSpec[]): Result<NatTable> {
  return NatTable.build(chainNames, specs);
}

function matches(m: IptMatch, p: NatPacket): boolean {
  if (m.proto !== undefined && IPT_PROTO_NUMBERS[m.proto] !== p.proto) return false;
  if (m.src && !prefixContains(m.src, p.src)) return false;
  if (m.dst && !prefixContains(m.dst, p.dst)) return false;
  if (m.dport !== undefined && m.dport !== p.dport) return false;
  if (m.inIface !== undefined && m.inIface !== p.inIface) return false;
  if (m.outIface !== undefined && m.outIface !== p.outIface) return false;
  return true;
}
