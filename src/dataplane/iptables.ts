/**
 * An iptables `nat` table: chains of rules, their printable text, and first-match evaluation.
 *
 * What
 * ----
 * The subset of iptables that Kube-OVN's VPC NAT gateway and its nodes' hosts use: user chains
 * reached by `-j CHAIN` jumps from the built-in `PREROUTING` and `POSTROUTING` chains, rules that
 * match on protocol (`-p`), source and destination prefix (`-s`, `-d`), destination port
 * (`--dport`), interfaces (`-i`, `-o`), and the match modules `-m set [!] --match-set SET src|dst`
 * (against the table's ipsets, `hash:net` semantics), `-m mark [!] --mark V/M`,
 * `-m tcp --tcp-flags MASK COMP`, `-m conntrack --ctstate STATES` and `-m comment --comment TEXT`;
 * the terminating targets `DNAT --to-destination IP[:PORT]`, `SNAT --to-source IP` and
 * `MASQUERADE`, and `RETURN` and `MARK --set-xmark V/M`. Each rule keeps its printable `iptables -S`
 * text and, when it came from a model object, that object's path, so a verdict names the rule and
 * the resource behind it; a rule hit also says which ipset member matched.
 *
 * Semantics (Linux's)
 * -------------------
 * - A chain is scanned in order; the first rule that matches decides. A jump runs the target chain
 *   and, when that chain ends (or a `RETURN` in it matches) without a terminating target, scanning
 *   resumes after the jump. The end of a built-in chain, or a `RETURN` in it, is its policy, ACCEPT
 *   here: no translation. `MARK` changes the packet's mark (`mark = (mark & ~M) ^ V`) and scanning
 *   goes on; later rules, and the next hook, see the new mark.
 * - `DNAT`, `SNAT` and `MASQUERADE` terminate the whole table for this packet. The caller consults
 *   the table only for the first packet of a connection (conntrack state NEW), as Linux does;
 *   later packets are translated from the connection (see iptables-conntrack.ts). `MASQUERADE`
 *   is SNAT to the primary address of the outgoing interface, which the caller knows.
 * - `--dport` needs `-p tcp` or `-p udp`, `--tcp-flags` needs `-p tcp` (iptables refuses them
 *   otherwise), `-o` is only valid in POSTROUTING and `-i` only in PREROUTING, SNAT and MASQUERADE
 *   only in POSTROUTING and DNAT only in PREROUTING, and a set must exist; `buildNatTable` rejects
 *   rules that break this, jumps to chains that do not exist, and loops, each with a diagnostic.
 * - `--random-fully` is kept in the text but changes nothing: the translation keeps the source
 *   port unless it clashes (see iptables-conntrack.ts), which is deterministic.
 * - A `hash:net` set holds prefixes; an address is in it when some prefix contains it, and the hit
 *   reports the longest such prefix (the one the kernel's per-prefix-length lookup finds first).
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

/** Conntrack states `-m conntrack --ctstate` can name. */
export type CtStateName = "NEW" | "ESTABLISHED" | "RELATED" | "INVALID" | "UNTRACKED";

/** TCP flag bits, as `--tcp-flags` names them (in the order iptables prints them). */
export const TCP_FLAG_BITS: readonly (readonly [string, number])[] = [
  ["FIN", 0x01],
  ["SYN", 0x02],
  ["RST", 0x04],
  ["PSH", 0x08],
  ["ACK", 0x10],
  ["URG", 0x20],
];

/** A match module (`-m NAME ...`), printed in the order the rule lists them. */
export type IptModule =
  | { readonly kind: "set"; readonly set: string; readonly dir: "src" | "dst"; readonly negate?: boolean }
  | { readonly kind: "mark"; readonly value: number; readonly mask: number; readonly negate?: boolean }
  | { readonly kind: "tcp-flags"; readonly mask: number; readonly comp: number }
  | { readonly kind: "ctstate"; readonly states: readonly CtStateName[] }
  | { readonly kind: "comment"; readonly text: string };

export interface IptMatch {
  readonly proto?: IptProto;
  readonly src?: Prefix4;
  readonly dst?: Prefix4;
  readonly dport?: number;
  readonly inIface?: string;
  readonly outIface?: string;
  readonly modules?: readonly IptModule[];
}

export type IptTarget =
  | { readonly kind: "jump"; readonly chain: string }
  | { readonly kind: "DNAT"; readonly toIp: number; readonly toPort?: number }
  | { readonly kind: "SNAT"; readonly toIp: number; readonly randomFully?: boolean }
  | { readonly kind: "MASQUERADE"; readonly randomFully?: boolean }
  | { readonly kind: "RETURN" }
  | { readonly kind: "MARK"; readonly value: number; readonly mask: number };

/** One member of a `hash:net` ipset, with the resource behind it. */
export interface IpsetMember {
  readonly prefix: Prefix4;
  /** Free text naming the resource the member comes from (e.g. `Subnet/ovn-default`). */
  readonly owner?: string;
  readonly path?: readonly (string | number)[];
}

/** The ipsets a table's `-m set` matches consult, by name. */
export type Ipsets = ReadonlyMap<string, readonly IpsetMember[]>;

/** How one `-m set` match of a rule that matched was satisfied. */
export interface SetHit {
  readonly set: string;
  readonly dir: "src" | "dst";
  readonly negate: boolean;
  /** The address looked up. */
  readonly addr: number;
  /** The member that contains it (absent for a negated match, which holds because none does). */
  readonly member?: IpsetMember;
}

/** A rule as given to `buildNatTable`. */
export interface IptRuleSpec {
  readonly chain: string;
  readonly match: IptMatch;
  readonly target: IptTarget;
  /** The model object the rule came from, when it came from one. */
  readonly path?: readonly (string | number)[];
  /** Free text naming the resource behind the rule (e.g. `Subnet/ovn-default`), when known. */
  readonly owner?: string;
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
  readonly owner?: string;
  /** The rule's `-m set` matches, in rule order, when it has any. */
  readonly sets?: readonly SetHit[];
}

/** What the rules look at. */
export interface NatPacket {
  readonly proto: number;
  readonly src: number;
  readonly dst: number;
  readonly dport: number;
  readonly inIface?: string;
  readonly outIface?: string;
  /** The packet's mark (skb->mark); 0 when absent. */
  readonly mark?: number;
  /** TCP flags (TCP only); 0 when absent. */
  readonly tcpFlags?: number;
  /** The connection's state; NEW when absent (the nat table sees only NEW packets). */
  readonly ctState?: CtStateName;
}

/** The outcome of one hook: every rule that matched, the translating rule if any, and the mark after it. */
export interface NatDecision {
  readonly hits: readonly RuleHit[];
  readonly rule?: IptRule;
  readonly mark: number;
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

/** `0x4000`: a mark value as iptables prints it. */
function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** `SYN`, `FIN,SYN,RST,ACK`, `NONE` or `ALL`: a set of TCP flags as `--tcp-flags` prints it. */
export function formatTcpFlags(bits: number): string {
  if ((bits & 0x3f) === 0) return "NONE";
  if ((bits & 0x3f) === 0x3f) return "ALL";
  return TCP_FLAG_BITS.filter(([, b]) => (bits & b) !== 0)
    .map(([n]) => n)
    .join(",");
}

/** A comment as iptables-save writes it: bare when it is only letters, digits, `_` and `-`, else quoted. */
function formatComment(text: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(text)) return text;
  return `"${text.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function formatModule(m: IptModule): string {
  switch (m.kind) {
    case "set":
      return `-m set ${m.negate ? "! " : ""}--match-set ${m.set} ${m.dir}`;
    case "mark":
      return `-m mark ${m.negate ? "! " : ""}--mark ${hex(m.value)}${m.mask >>> 0 === 0xffffffff ? "" : `/${hex(m.mask)}`}`;
    case "tcp-flags":
      return `-m tcp --tcp-flags ${formatTcpFlags(m.mask)} ${formatTcpFlags(m.comp)}`;
    case "ctstate":
      return `-m conntrack --ctstate ${m.states.join(",")}`;
    case "comment":
      return `-m comment --comment ${formatComment(m.text)}`;
    default: {
      const _never: never = m;
      return _never;
    }
  }
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
  for (const mod of m.modules ?? []) parts.push(formatModule(mod));
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
    case "MASQUERADE":
      parts.push(`-j MASQUERADE${t.randomFully ? " --random-fully" : ""}`);
      break;
    case "RETURN":
      parts.push("-j RETURN");
      break;
    case "MARK":
      parts.push(`-j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`);
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
  private readonly sets: Ipsets;

  private constructor(chains: ReadonlyMap<string, readonly IptRule[]>, sets: Ipsets) {
    this.chains = chains;
    this.sets = sets;
  }

  /** Builds the table; see `buildNatTable`. */
  static build(chainNames: readonly string[], specs: readonly IptRuleSpec[], ipsets: Ipsets = new Map()): Result<NatTable> {
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
      if (t.kind === "MARK" && (!isU32(t.value) || !isU32(t.mask))) diags.push(error("iptables.bad-mark", `--set-xmark ${t.value}/${t.mask} is not two 32-bit values`, where));
      for (const mod of m.modules ?? []) {
        if (mod.kind === "set" && !ipsets.has(mod.set)) diags.push(error("iptables.no-set", `set ${mod.set} does not exist (${formatIptRule(s)})`, where));
        if (mod.kind === "tcp-flags" && m.proto !== "tcp") diags.push(error("iptables.tcp-flags-needs-proto", `--tcp-flags needs -p tcp (${formatIptRule(s)})`, where));
        if (mod.kind === "mark" && (!isU32(mod.value) || !isU32(mod.mask))) diags.push(error("iptables.bad-mark", `--mark ${mod.value}/${mod.mask} is not two 32-bit values`, where));
        if (mod.kind === "ctstate" && mod.states.length === 0) diags.push(error("iptables.bad-ctstate", `--ctstate needs at least one state (${formatIptRule(s)})`, where));
      }
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
        if (r.target.kind === "MASQUERADE" && hooks?.has("PREROUTING")) diags.push(error("iptables.bad-target", `MASQUERADE is only valid in POSTROUTING (${r.text})`, where));
      }
    }
    if (diags.length > 0) return fail(...diags);
    return ok(new NatTable(chains, ipsets));
  }

  /** The members of an ipset (empty for an unknown set). */
  ipset(name: string): readonly IpsetMember[] {
    return this.sets.get(name) ?? [];
  }

  /** The names of the table's ipsets. */
  ipsetNames(): readonly string[] {
    return [...this.sets.keys()];
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
    const state = { mark: (pkt.mark ?? 0) >>> 0 };
    const rule = this.scan(hook, hook, pkt, state, hits, 0);
    return rule ? { hits, rule, mark: state.mark } : { hits, mark: state.mark };
  }

  /** The longest member of set `name` that contains `ip`. */
  lookupSet(name: string, ip: number): IpsetMember | undefined {
    let best: IpsetMember | undefined;
    for (const m of this.sets.get(name) ?? []) if (prefixContains(m.prefix, ip) && (!best || m.prefix.len > best.prefix.len)) best = m;
    return best;
  }

  private scan(hook: NatHook, chain: string, pkt: NatPacket, state: { mark: number }, hits: RuleHit[], depth: number): IptRule | undefined {
    // The build checks rule loops out; the depth bound is a second guard.
    if (depth > MAX_JUMP_DEPTH) return undefined;
    for (const r of this.chains.get(chain) ?? []) {
      const sets = this.matches(r.match, pkt, state.mark);
      if (!sets) continue;
      hits.push({ hook, chain, index: r.index, text: r.text, target: r.target.kind, ...(r.path ? { path: r.path } : {}), ...(r.owner !== undefined ? { owner: r.owner } : {}), ...(sets.length ? { sets } : {}) });
      const t = r.target;
      switch (t.kind) {
        case "jump": {
          const hit = this.scan(hook, t.chain, pkt, state, hits, depth + 1);
          if (hit) return hit;
          break;
        }
        case "RETURN":
          return undefined;
        case "MARK":
          state.mark = (((state.mark & ~t.mask) >>> 0) ^ t.value) >>> 0;
          break;
        case "DNAT":
        case "SNAT":
        case "MASQUERADE":
          return r;
        default: {
          const _never: never = t;
          return _never;
        }
      }
    }
    return undefined;
  }

  /** The rule's set hits when `m` matches the packet, else undefined. */
  private matches(m: IptMatch, p: NatPacket, mark: number): SetHit[] | undefined {
    if (m.proto !== undefined && IPT_PROTO_NUMBERS[m.proto] !== p.proto) return undefined;
    if (m.src && !prefixContains(m.src, p.src)) return undefined;
    if (m.dst && !prefixContains(m.dst, p.dst)) return undefined;
    if (m.dport !== undefined && m.dport !== p.dport) return undefined;
    if (m.inIface !== undefined && m.inIface !== p.inIface) return undefined;
    if (m.outIface !== undefined && m.outIface !== p.outIface) return undefined;
    const sets: SetHit[] = [];
    for (const mod of m.modules ?? []) {
      switch (mod.kind) {
        case "set": {
          const addr = mod.dir === "src" ? p.src : p.dst;
          const member = this.lookupSet(mod.set, addr);
          if ((member !== undefined) === (mod.negate === true)) return undefined;
          sets.push({ set: mod.set, dir: mod.dir, negate: mod.negate === true, addr, ...(member ? { member } : {}) });
          break;
        }
        case "mark":
          if ((((mark & mod.mask) >>> 0) === (mod.value & mod.mask) >>> 0) === (mod.negate === true)) return undefined;
          break;
        case "tcp-flags":
          if ((((p.tcpFlags ?? 0) & mod.mask) >>> 0) !== mod.comp) return undefined;
          break;
        case "ctstate":
          if (!mod.states.includes(p.ctState ?? "NEW")) return undefined;
          break;
        case "comment":
          break;
        default: {
          const _never: never = mod;
          return _never;
        }
      }
    }
    return sets;
  }
}

/**
 * Builds a nat table from user chain names, rules (appended in the order given, so the first rule
 * given for a chain is rule 1) and the ipsets its `-m set` matches consult. Bad rules are
 * diagnostics, never exceptions.
 */
export function buildNatTable(chainNames: readonly string[], specs: readonly IptRuleSpec[], ipsets: Ipsets = new Map()): Result<NatTable> {
  return NatTable.build(chainNames, specs, ipsets);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
