/**
 * Action ops of compiled rules: what a rule does to a packet once it wins a table lookup.
 *
 * What: a closed discriminated union (`Action`, by `kind`) covering what OVN's logical flows and
 * ovn-controller's physical flows do: field writes (`set_field`, `load`, `move`), control flow
 * (`next`, `resubmit`, `clone`), delivery (`output`, `drop`), conntrack (`ct`, `ct_lb`,
 * `ct_clear`), tunnels and VLANs (`encap`, `decap`, `push_vlan`, `pop_vlan`), `dec_ttl`, packets
 * generated in reply (`arp_reply`, `icmp4_error`, `icmp4_echo_reply`, `icmp6_error`,
 * `icmp6_echo_reply`, `nd_na`) and side channels (`controller`, `log`, `note`).
 *
 * Not: an interpreter. Nothing here executes; the dataplane gives these ops their meaning.
 *
 * Representation: fields are `FieldDef`s of the flow layout (so an action can only name a field
 * that exists), values are `Words` — 32-bit words, most significant first, exactly as
 * `constrainWide` takes them — so a 48-bit MAC is `[hi16, lo32]`, an IPv6 address four words and an
 * IPv4 address one. A `Subfield` is a bit range of one field counted from the field's own bit 0
 * (its least significant bit), as OVS's `NXM_NX_REG0[8..15]` is.
 *
 * Invariants (checked by `checkActions`, guaranteed by the constructors below): subfields lie
 * inside their field; `load` values fit their subfield; `set_field` values and masks have the
 * field's word count and the value has no bit outside the mask; `move` source and destination
 * have the same width. Actions are plain data, deeply frozen by `freezeActions`.
 */
import { error, parseIpv4, parseIpv6, parseMac, type Diagnostic } from "../base/index.js";
import { FIELDS, field, type FieldDef } from "../flow/index.js";

/** A value as 32-bit words, most significant first (`[hi16, lo32]` for a MAC). */
export type Words = readonly number[];

/** An IP address: one word (IPv4) or four words (IPv6). */
export type IpAddr = Words;

/** A bit range of a field, from its least significant bit: `reg10[0..3]` is `{ ofs: 0, nbits: 4 }`. */
export interface Subfield {
  readonly field: FieldDef;
  readonly ofs: number;
  readonly nbits: number;
}

/** Writes `value` under `mask` into a whole field (OpenFlow `set_field`). */
export interface SetFieldAction {
  readonly kind: "set_field";
  readonly field: FieldDef;
  /** `field.nwords` words; no bit outside `mask`. */
  readonly value: Words;
  /** `field.nwords` words; all ones for a plain write. */
  readonly mask: Words;
}

/** Writes an immediate into a bit range (Nicira `load`). */
export interface LoadAction {
  readonly kind: "load";
  readonly dst: Subfield;
  /** Right-aligned in `ceil(dst.nbits / 32)` words, most significant first. */
  readonly value: Words;
}

/** Copies one bit range into another of the same width (Nicira `move`, OVN `dst = src`). */
export interface MoveAction {
  readonly kind: "move";
  readonly src: Subfield;
  readonly dst: Subfield;
}

/**
 * OVN `next`: continue in the logical table `table`, or in the one after the current table. With
 * `pipeline`, continue in table `table` of that pipeline of the same datapath
 * (`next(pipeline=egress, table=0)`); without it, in the current pipeline.
 */
export interface NextAction {
  readonly kind: "next";
  readonly table?: number;
  readonly pipeline?: "ingress" | "egress";
}

/** Swaps the contents of two bit ranges of the same width (OVN `a <-> b`). */
export interface ExchangeAction {
  readonly kind: "exchange";
  readonly a: Subfield;
  readonly b: Subfield;
}

/**
 * OVN `push(f);` / `pop(f);`: OpenFlow's stack actions. `push` saves the bits of `field` on a stack
 * that lives for one translation; `pop` takes the latest entry off and writes it into `field`
 * (right-aligned: a shorter entry is zero-extended, a longer one cut to its low bits).
 */
export interface StackAction {
  readonly kind: "stack";
  readonly push: boolean;
  readonly field: Subfield;
}

/**
 * The packets OVN's logical actions generate. Each is built from the current packet as OVN's
 * action of the same name builds it (ovn-sb(5) "Logical_Flow TABLE", actions): `arp` an ARP
 * request for an IPv4 packet, `nd_ns` a neighbour solicitation, `nd_na`/`nd_na_router` a
 * neighbour advertisement, `icmp4`/`icmp6` an ICMP destination unreachable, `icmp4_error` /
 * `icmp6_error` an ICMP error carrying the original header, `tcp_reset` a TCP RST, `sctp_abort`
 * an SCTP ABORT, `reject` whichever of TCP RST / ICMP unreachable fits the packet.
 */
export type GeneratedPacket = "arp" | "nd_ns" | "nd_na" | "nd_na_router" | "icmp4" | "icmp4_error" | "icmp6" | "icmp6_error" | "tcp_reset" | "sctp_abort" | "reject";

/**
 * Generates a packet of kind `packet` from a copy of the current packet and runs `actions` on it
 * (the nested actions set addresses and types and output it); the original packet is consumed,
 * as in OVN.
 */
export interface GenerateAction {
  readonly kind: "generate";
  readonly packet: GeneratedPacket;
  readonly actions: readonly Action[];
}

/** An argument of a `call`: a bit range of the packet, or a literal. */
export type CallArg =
  | { readonly kind: "field"; readonly src: Subfield }
  | { readonly kind: "value"; readonly value: Words; readonly text: string }
  /** A named option (`offerip = 10.0.0.2`, `name` set) or other literal text (a string, a set). */
  | { readonly kind: "text"; readonly name?: string; readonly text: string };

/**
 * An OVN action that consults or updates state outside the packet, or that the executor models
 * by name: `get_arp`, `put_arp`, `lookup_arp`, `lookup_arp_ip`, `get_nd`, `put_nd`,
 * `lookup_nd`, `lookup_nd_ip`, `get_fdb`, `put_fdb`, `lookup_fdb`, `check_in_port_sec`,
 * `check_out_port_sec`, `chk_lb_hairpin`, `chk_lb_hairpin_reply`, `ct_snat_to_vip`,
 * `check_pkt_larger`, `select`, `chk_lb_aff`, `commit_lb_aff`, `put_dhcp_opts`,
 * `put_dhcpv6_opts`, `handle_svc_check`, `trigger_event`, ... `result`, when present, is the bit
 * range the action writes its answer to (`reg0[11] = lookup_fdb(inport, eth.src)`). `text` is the
 * action's OVN text, for traces and dumps.
 */
export interface CallAction {
  readonly kind: "call";
  readonly fn: string;
  readonly args: readonly CallArg[];
  readonly result?: Subfield;
  readonly text: string;
}

/** OpenFlow `resubmit(,table)`: look the packet up in `table` and run its actions, then continue. */
export interface ResubmitAction {
  readonly kind: "resubmit";
  readonly table: number;
  /** Pretend the packet arrived on this port for the nested lookup. */
  readonly inPort?: number;
}

/** Where `output` sends a packet. */
export type OutputTarget =
  /** OVN `output`: to the logical port in the `outport` register (reg15). */
  | { readonly kind: "outport" }
  /** A physical port of the bridge, by number. */
  | { readonly kind: "port"; readonly port: number }
  /** The port number held in a bit range, as `output:NXM_NX_REG15[0..15]`. */
  | { readonly kind: "field"; readonly src: Subfield }
  /** Back out of the port it came in on. */
  | { readonly kind: "in_port" };

export interface OutputAction {
  readonly kind: "output";
  readonly to: OutputTarget;
}

/**
 * Drops the packet. `reason` names why, in kebab-case (`acl-deny`, `no-route`, `port-security`,
 * `no-match`); traces and statistics print it.
 */
export interface DropAction {
  readonly kind: "drop";
  readonly reason: string;
}

/** A conntrack zone: a constant or a bit range of a register (OVN keeps zones in reg11..reg13). */
export type CtZone = { readonly kind: "const"; readonly zone: number } | { readonly kind: "field"; readonly src: Subfield };

/** NAT addresses and ports: `ipMin`..`ipMax` and `portMin`..`portMax`, both ends included. */
export interface NatRange {
  readonly ipMin: IpAddr;
  readonly ipMax?: IpAddr;
  readonly portMin?: number;
  readonly portMax?: number;
}

/**
 * The NAT part of a `ct`: `snat`/`dnat` set up a binding for a committed connection (from `range`,
 * or keeping the addresses when absent); `restore` applies the binding a connection already has
 * (OpenFlow `ct(nat)`, OVN `ct_dnat;` / `ct_snat;` without arguments).
 */
export type CtNat =
  | { readonly kind: "restore" }
  | {
      readonly kind: "snat" | "dnat";
      readonly range?: NatRange;
      readonly random?: boolean;
      readonly persistent?: boolean;
    };

/** A masked write into a connection's mark or label when it is committed. */
export interface CtSetMark {
  readonly value: number;
  readonly mask: number;
}
export interface CtSetLabel {
  /** Four words (128 bits), most significant first. */
  readonly value: Words;
  readonly mask: Words;
}

/**
 * Sends the packet through conntrack in `zone`. Without `table` the packet continues with the
 * following actions and its `ct_*` fields filled in; with `table` processing of this pass ends and
 * the packet is recirculated into `table` (as OVS does). `commit` creates the connection entry;
 * `force` first ends a connection seen in the other direction.
 */
export interface CtAction {
  readonly kind: "ct";
  readonly zone: CtZone;
  readonly commit: boolean;
  readonly force?: boolean;
  readonly table?: number;
  readonly nat?: CtNat;
  readonly setMark?: CtSetMark;
  readonly setLabel?: CtSetLabel;
  /**
   * Writes into the committed connection's `ct_mark`/`ct_label` that copy packet bits
   * (`move` into those fields; OVN `ct_commit { ct_label.label = reg3; }`), applied after
   * `setMark`/`setLabel`. Constant writes go to `setMark`/`setLabel` instead.
   */
  readonly exec?: readonly MoveAction[];
}

/** A load-balancer backend: an address and, unless the VIP has no port, a port. */
export interface Backend {
  readonly ip: IpAddr;
  readonly port?: number;
}

/**
 * OVN `ct_lb` / `ct_lb_mark`: for a new connection choose one of `backends` (by a hash of
 * `hashFields`, or of the 5-tuple when absent), DNAT to it and commit; an established connection
 * keeps its backend. Recirculates into `table` when given.
 */
export interface CtLbAction {
  readonly kind: "ct_lb";
  readonly zone: CtZone;
  readonly table?: number;
  readonly backends: readonly Backend[];
  readonly hashFields?: readonly FieldDef[];
  /** `ct_lb_mark`: record the load-balanced state in `ct_mark` rather than `ct_label`. */
  readonly mark?: boolean;
}

/** Forgets the packet's conntrack state (`ct_state` back to 0). */
export interface CtClearAction {
  readonly kind: "ct_clear";
}

/** Tunnel kinds OVN uses between chassis. */
export type TunnelKind = "geneve" | "vxlan";

/** A Geneve option: class, type and up to 32 bits of data (OVN: class 0x0102, type 0x80). */
export interface GeneveOption {
  readonly cls: number;
  readonly type: number;
  readonly value: number;
  /** Bytes of option data (a multiple of 4; OVN uses 4). */
  readonly len: number;
}

/**
 * Wraps the packet in a tunnel header towards `remoteIp` with `vni` (Geneve: 24-bit VNI; OVN's
 * VXLAN mode: 24-bit VNI holding datapath and egress port keys), then sends it out of tunnel port
 * `port` when given.
 */
export interface EncapAction {
  readonly kind: "encap";
  readonly tunnel: TunnelKind;
  readonly remoteIp: IpAddr;
  readonly localIp?: IpAddr;
  readonly vni: number;
  readonly option?: GeneveOption;
  readonly port?: number;
}

/** Removes the outer tunnel header; the `tun_*` fields keep what it carried. */
export interface DecapAction {
  readonly kind: "decap";
}

/** Pushes an 802.1Q tag (`tpid` 0x8100 or 0x88a8) with VLAN id `vid` and priority `pcp`. */
export interface PushVlanAction {
  readonly kind: "push_vlan";
  readonly tpid: number;
  readonly vid: number;
  readonly pcp?: number;
}

export interface PopVlanAction {
  readonly kind: "pop_vlan";
}

/** Decrements the IP TTL / hop limit; a packet whose TTL would reach 0 is dropped instead. */
export interface DecTtlAction {
  readonly kind: "dec_ttl";
}

// Generated packets. Each turns a copy of the current packet into a reply (or an error) and runs
// `actions` on that copy; actions after it apply to the original packet, as OVN's `icmp4 { ... }`
// does. The parameters fix what the reply says; the nested actions usually set addresses and
// output it.


/** Answers an ARP request: "`ip` is at `mac`" back to the requester (OVN's ARP responder). */
export interface ArpReplyAction {
  readonly kind: "arp_reply";
  readonly mac: Words;
  readonly ip: IpAddr;
  readonly actions: readonly Action[];
}

/** An ICMPv4 error about the current packet (e.g. type 3 code 4 with `mtu`, type 11 code 0). */
export interface Icmp4ErrorAction {
  readonly kind: "icmp4_error";
  readonly icmpType: number;
  readonly icmpCode: number;
  /** Next-hop MTU for "fragmentation needed". */
  readonly mtu?: number;
  readonly actions: readonly Action[];
}

/** An ICMPv4 echo reply: addresses swapped, type 0, TTL 255. */
export interface Icmp4EchoReplyAction {
  readonly kind: "icmp4_echo_reply";
  readonly actions: readonly Action[];
}

/** An ICMPv6 error about the current packet (e.g. type 2 "packet too big" with `mtu`, type 3). */
export interface Icmp6ErrorAction {
  readonly kind: "icmp6_error";
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly mtu?: number;
  readonly actions: readonly Action[];
}

/** An ICMPv6 echo reply: addresses swapped, type 129, hop limit 255. */
export interface Icmp6EchoReplyAction {
  readonly kind: "icmp6_echo_reply";
  readonly actions: readonly Action[];
}

/** Answers a neighbour solicitation for `target` with target link-layer address `mac`. */
export interface NdNaAction {
  readonly kind: "nd_na";
  readonly target: IpAddr;
  readonly mac: Words;
  /** The router flag (OVN's `nd_na_router`). */
  readonly router: boolean;
  readonly actions: readonly Action[];
}

/** Runs `actions` on a copy of the packet; the original continues unchanged after it. */
export interface CloneAction {
  readonly kind: "clone";
  readonly actions: readonly Action[];
}

/** Sends the packet to the controller (ovn-controller's `pinctrl`), e.g. for `put_arp`. */
export interface ControllerAction {
  readonly kind: "controller";
  readonly reason: string;
  /** Opaque bytes as dotted hex, `00.00.00.01`, as OVS prints them. */
  readonly userdata?: string;
  readonly pause?: boolean;
}

/** OVN `log(...)`: an ACL log line; the verdict is what the ACL did. */
export interface LogAction {
  readonly kind: "log";
  readonly name?: string;
  readonly severity?: string;
  readonly verdict?: string;
  readonly meter?: string;
}

/** A note with no effect on the packet (OpenFlow `note`), for people reading dumps and traces. */
export interface NoteAction {
  readonly kind: "note";
  readonly text: string;
  /**
   * OVN's `icmp4.frag_mtu` / `icmp6.frag_mtu`: the MTU ovn-controller writes into the ICMP error
   * it made ("fragmentation needed", "packet too big"), a field of the ICMP header that no flow
   * key has. A trace shows the note; a packet in replay carries the MTU in its key's
   * `tcp_flags` word (flow/frame.ts).
   */
  readonly icmpFragMtu?: { readonly v6: boolean; readonly mtu: number };
}

export type Action =
  | SetFieldAction
  | LoadAction
  | MoveAction
  | ExchangeAction
  | StackAction
  | NextAction
  | ResubmitAction
  | OutputAction
  | DropAction
  | CtAction
  | CtLbAction
  | CtClearAction
  | EncapAction
  | DecapAction
  | PushVlanAction
  | PopVlanAction
  | DecTtlAction
  | ArpReplyAction
  | Icmp4ErrorAction
  | Icmp4EchoReplyAction
  | Icmp6ErrorAction
  | Icmp6EchoReplyAction
  | NdNaAction
  | CloneAction
  | GenerateAction
  | CallAction
  | ControllerAction
  | LogAction
  | NoteAction;

export type ActionKind = Action["kind"];

/** The actions nested inside `a` (clone and generated packets), or an empty list. */
export function nestedActions(a: Action): readonly Action[] {
  switch (a.kind) {
    case "clone":
    case "arp_reply":
    case "icmp4_error":
    case "icmp4_echo_reply":
    case "icmp6_error":
    case "icmp6_echo_reply":
    case "nd_na":
    case "generate":
      return a.actions;
    case "set_field":
    case "load":
    case "move":
    case "exchange":
    case "stack":
    case "call":
    case "next":
    case "resubmit":
    case "output":
    case "drop":
    case "ct":
    case "ct_lb":
    case "ct_clear":
    case "encap":
    case "decap":
    case "push_vlan":
    case "pop_vlan":
    case "dec_ttl":
    case "controller":
    case "log":
    case "note":
      return [];
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Values

/** The words of the all-ones value of `nbits` bits, right-aligned, most significant first. */
export function onesWords(nbits: number): number[] {
  const n = Math.max(1, Math.ceil(nbits / 32));
  const out = new Array<number>(n).fill(0xffffffff);
  const top = nbits % 32;
  if (top !== 0) out[0] = ((1 << top) - 1) >>> 0;
  if (nbits === 0) out[0] = 0;
  return out;
}

/** The all-ones mask of a whole field, in the field's own bit positions (not shifted). */
export function fullMask(d: FieldDef): number[] {
  return onesWords(d.width);
}

/** Converts a number (u32 range), a bigint or words into `nwords` words, or undefined when it does not fit. */
export function toWords(v: number | bigint | Words, nwords: number): number[] | undefined {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) return undefined;
    const out = new Array<number>(nwords).fill(0);
    out[nwords - 1] = v >>> 0;
    return out;
  }
  if (typeof v === "bigint") {
    if (v < 0n) return undefined;
    let big = v;
    const out = new Array<number>(nwords).fill(0);
    for (let i = nwords - 1; i >= 0; i--) {
      out[i] = Number(big & 0xffffffffn);
      big >>= 32n;
    }
    return big === 0n ? out : undefined;
  }
  if (v.length > nwords) {
    for (let i = 0; i < v.length - nwords; i++) if (v[i] !== 0) return undefined;
    return v.slice(v.length - nwords).map((w) => w >>> 0);
  }
  return [...new Array<number>(nwords - v.length).fill(0), ...v.map((w) => w >>> 0)];
}

/** True when `words` (right-aligned) has no bit at or above `nbits`. */
export function fitsBits(words: Words, nbits: number): boolean {
  const ones = onesWords(nbits);
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const j = ones.length - n + i;
    const m = j >= 0 ? ones[j]! : 0;
    if ((words[i]! & ~m) >>> 0 !== 0) return false;
  }
  return true;
}

/** Parses an IPv4 or IPv6 address into `IpAddr` words. */
export function parseIpAddr(text: string): IpAddr | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return [v4];
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) out.push(((v6[4 * i]! << 24) | (v6[4 * i + 1]! << 16) | (v6[4 * i + 2]! << 8) | v6[4 * i + 3]!) >>> 0);
  return out;
}

/** Parses a MAC into `[hi16, lo32]`. */
export function parseMacWords(text: string): Words | undefined {
  const b = parseMac(text);
  if (!b) return undefined;
  return [(b[0]! << 8) | b[1]!, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
}

// ---------------------------------------------------------------------------------------------
// Constructors. They take layout field names; an unknown name or an out-of-range value is a bug in
// the caller (compiled code builds these from known names), so they throw. Data from outside is
// checked with `checkActions`, which returns diagnostics instead.

/** `name[ofs..ofs+nbits-1]`; the whole field when `ofs`/`nbits` are omitted. */
export function subfield(name: string, ofs = 0, nbits?: number): Subfield {
  const d = field(name);
  const n = nbits ?? d.width - ofs;
  if (ofs < 0 || n <= 0 || ofs + n > d.width) throw new Error(`subfield ${name}[${ofs}..${ofs + n - 1}] outside the ${d.width}-bit field`);
  return { field: d, ofs, nbits: n };
}

/** `set_field`: writes `value` (under `mask`, whole field by default) into field `name`. */
export function setField(name: string, value: number | bigint | Words, mask?: number | bigint | Words): SetFieldAction {
  const d = field(name);
  const v = toWords(value, d.nwords);
  const m = mask === undefined ? fullMask(d) : toWords(mask, d.nwords);
  if (!v || !m || !fitsBits(v, d.width) || !fitsBits(m, d.width)) throw new Error(`set_field value does not fit ${name}`);
  return { kind: "set_field", field: d, value: v.map((w, i) => (w & m[i]!) >>> 0), mask: m };
}

/** `load`: writes the immediate `value` into `dst`. */
export function load(dst: Subfield, value: number | bigint | Words): LoadAction {
  const v = toWords(value, Math.ceil(dst.nbits / 32));
  if (!v || !fitsBits(v, dst.nbits)) throw new Error(`load value does not fit ${dst.field.name}[${dst.ofs}..${dst.ofs + dst.nbits - 1}]`);
  return { kind: "load", dst, value: v };
}

/** `move`: copies `src` into `dst` (same width). */
export function move(src: Subfield, dst: Subfield): MoveAction {
  if (src.nbits !== dst.nbits) throw new Error(`move from ${src.nbits} bits into ${dst.nbits} bits`);
  return { kind: "move", src, dst };
}

/** OVN `next` (to the following table) or `next(table)`. */
export function next(table?: number): NextAction {
  return table === undefined ? { kind: "next" } : { kind: "next", table };
}

export function resubmit(table: number): ResubmitAction {
  return { kind: "resubmit", table };
}

/** `output` to the logical outport, or to physical port `port`. */
export function output(port?: number): OutputAction {
  return port === undefined ? { kind: "output", to: { kind: "outport" } } : { kind: "output", to: { kind: "port", port } };
}

export function drop(reason: string): DropAction {
  return { kind: "drop", reason };
}

// ---------------------------------------------------------------------------------------------
// Checking

function checkSubfield(s: Subfield, path: readonly (string | number)[], out: Diagnostic[]): void {
  if (FIELDS.get(s.field.name) !== s.field) {
    out.push(error("ofp.unknown-field", `field ${s.field.name} is not a field of the flow layout`, { path }));
    return;
  }
  if (!Number.isInteger(s.ofs) || !Number.isInteger(s.nbits) || s.ofs < 0 || s.nbits < 1 || s.ofs + s.nbits > s.field.width) {
    out.push(error("ofp.bad-subfield", `${s.field.name}[${s.ofs}..${s.ofs + s.nbits - 1}] is outside the ${s.field.width}-bit field`, { path }));
  }
}

function isU(v: unknown, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

function checkWords(w: Words, n: number): boolean {
  return w.length === n && w.every((x) => isU(x, 0xffffffff));
}

function checkIp(ip: IpAddr, path: readonly (string | number)[], out: Diagnostic[]): void {
  if (!checkWords(ip, ip.length) || (ip.length !== 1 && ip.length !== 4)) out.push(error("ofp.bad-ip", "an IP address is one word (IPv4) or four words (IPv6)", { path }));
}

function checkMac(mac: Words, path: readonly (string | number)[], out: Diagnostic[]): void {
  if (!checkWords(mac, 2) || mac[0]! > 0xffff) out.push(error("ofp.bad-mac", "a MAC is two words: 16 high bits, then 32 low bits", { path }));
}

function checkZone(z: CtZone, path: readonly (string | number)[], out: Diagnostic[]): void {
  if (z.kind === "const") {
    if (!isU(z.zone, 0xffff)) out.push(error("ofp.bad-zone", `conntrack zone ${z.zone} is not in 0..65535`, { path }));
  } else {
    checkSubfield(z.src, path, out);
    if (z.src.nbits > 16) out.push(error("ofp.bad-zone", `a conntrack zone has 16 bits, not ${z.src.nbits}`, { path }));
  }
}

function checkTable(t: number | undefined, path: readonly (string | number)[], out: Diagnostic[]): void {
  if (t !== undefined && !isU(t, 254)) out.push(error("ofp.bad-table", `table ${t} is not in 0..254`, { path }));
}

/**
 * Checks the invariants listed in the module header for every action (nested ones included).
 * Returns one diagnostic per problem, each with the `path` of the offending action.
 */
export function checkActions(actions: readonly Action[], path: readonly (string | number)[] = ["actions"]): Diagnostic[] {
  const out: Diagnostic[] = [];
  actions.forEach((a, i) => checkAction(a, [...path, i], out));
  return out;
}

function checkAction(a: Action, path: readonly (string | number)[], out: Diagnostic[]): void {
  switch (a.kind) {
    case "set_field": {
      const d = a.field;
      if (FIELDS.get(d.name) !== d) {
        out.push(error("ofp.unknown-field", `field ${d.name} is not a field of the flow layout`, { path }));
        return;
      }
      if (!checkWords(a.value, d.nwords) || !checkWords(a.mask, d.nwords) || !fitsBits(a.value, d.width) || !fitsBits(a.mask, d.width)) {
        out.push(error("ofp.bad-value", `set_field of ${d.name} needs ${d.nwords} word(s) within ${d.width} bits for value and mask`, { path }));
      } else if (a.value.some((w, i) => (w & ~a.mask[i]!) >>> 0 !== 0)) {
        out.push(error("ofp.bad-value", `set_field of ${d.name} has value bits outside its mask`, { path }));
      }
      return;
    }
    case "load":
      checkSubfield(a.dst, path, out);
      if (!checkWords(a.value, Math.ceil(a.dst.nbits / 32)) || !fitsBits(a.value, a.dst.nbits)) {
        out.push(error("ofp.bad-value", `load value does not fit ${a.dst.nbits} bits`, { path }));
      }
      return;
    case "move":
      checkSubfield(a.src, path, out);
      checkSubfield(a.dst, path, out);
      if (a.src.nbits !== a.dst.nbits) out.push(error("ofp.bad-move", `move from ${a.src.nbits} bits into ${a.dst.nbits} bits`, { path }));
      return;
    case "exchange":
      checkSubfield(a.a, path, out);
      checkSubfield(a.b, path, out);
      if (a.a.nbits !== a.b.nbits) out.push(error("ofp.bad-move", `exchange of ${a.a.nbits} bits with ${a.b.nbits} bits`, { path }));
      return;
    case "stack":
      checkSubfield(a.field, path, out);
      return;
    case "call":
      if (a.result) checkSubfield(a.result, path, out);
      for (const x of a.args) if (x.kind === "field") checkSubfield(x.src, path, out);
      return;
    case "next":
      checkTable(a.table, path, out);
      return;
    case "resubmit":
      checkTable(a.table, path, out);
      if (a.inPort !== undefined && !isU(a.inPort, 0xffffffff)) out.push(error("ofp.bad-port", `in_port ${a.inPort} is not a port number`, { path }));
      return;
    case "output":
      if (a.to.kind === "port" && !isU(a.to.port, 0xffffffff)) out.push(error("ofp.bad-port", `output port ${a.to.port} is not a port number`, { path }));
      if (a.to.kind === "field") checkSubfield(a.to.src, path, out);
      return;
    case "drop":
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(a.reason)) out.push(error("ofp.bad-drop-reason", `drop reason '${a.reason}' is not a kebab-case name`, { path }));
      return;
    case "ct":
      checkZone(a.zone, path, out);
      checkTable(a.table, path, out);
      if (a.nat && a.nat.kind !== "restore" && a.nat.range) {
        const r = a.nat.range;
        checkIp(r.ipMin, path, out);
        if (r.ipMax) {
          checkIp(r.ipMax, path, out);
          if (r.ipMax.length !== r.ipMin.length) out.push(error("ofp.bad-nat", "NAT range ends are of different IP families", { path }));
        }
        if ((r.portMin !== undefined && !isU(r.portMin, 0xffff)) || (r.portMax !== undefined && (!isU(r.portMax, 0xffff) || r.portMin === undefined || r.portMax < r.portMin))) {
          out.push(error("ofp.bad-nat", "NAT port range is not within 0..65535 with min <= max", { path }));
        }
      }
      if (a.setMark && (!isU(a.setMark.value, 0xffffffff) || !isU(a.setMark.mask, 0xffffffff))) out.push(error("ofp.bad-value", "ct mark is a 32-bit value", { path }));
      if (a.setLabel && (!checkWords(a.setLabel.value, 4) || !checkWords(a.setLabel.mask, 4))) out.push(error("ofp.bad-value", "ct label is four words", { path }));
      for (const m of a.exec ?? []) {
        checkSubfield(m.src, path, out);
        checkSubfield(m.dst, path, out);
        if (m.dst.field.name !== "ct_mark" && m.dst.field.name !== "ct_label") out.push(error("ofp.bad-ct", "ct exec writes only ct_mark and ct_label", { path }));
      }
      if ((a.setMark || a.setLabel || a.exec?.length) && !a.commit) out.push(error("ofp.bad-ct", "ct sets mark or label only when it commits", { path }));
      return;
    case "ct_lb":
      checkZone(a.zone, path, out);
      checkTable(a.table, path, out);
      if (a.backends.length === 0) out.push(error("ofp.bad-ct-lb", "ct_lb needs at least one backend", { path }));
      a.backends.forEach((b, i) => {
        checkIp(b.ip, [...path, "backends", i], out);
        if (b.port !== undefined && !isU(b.port, 0xffff)) out.push(error("ofp.bad-ct-lb", `backend port ${b.port} is not in 0..65535`, { path: [...path, "backends", i] }));
      });
      return;
    case "encap":
      checkIp(a.remoteIp, path, out);
      if (a.localIp) checkIp(a.localIp, path, out);
      if (!isU(a.vni, 0xffffff)) out.push(error("ofp.bad-encap", `VNI ${a.vni} is not a 24-bit value`, { path }));
      if (a.option && (a.tunnel !== "geneve" || !isU(a.option.cls, 0xffff) || !isU(a.option.type, 0xff) || !isU(a.option.value, 0xffffffff) || a.option.len % 4 !== 0)) {
        out.push(error("ofp.bad-encap", "a tunnel option needs Geneve, a 16-bit class, an 8-bit type and a length that is a multiple of 4", { path }));
      }
      return;
    case "push_vlan":
      if (a.tpid !== 0x8100 && a.tpid !== 0x88a8) out.push(error("ofp.bad-vlan", `TPID 0x${a.tpid.toString(16)} is neither 0x8100 nor 0x88a8`, { path }));
      if (!isU(a.vid, 4095) || (a.pcp !== undefined && !isU(a.pcp, 7))) out.push(error("ofp.bad-vlan", "VLAN id is 12 bits and priority 3 bits", { path }));
      return;
    case "arp_reply":
      checkMac(a.mac, path, out);
      if (a.ip.length !== 1) out.push(error("ofp.bad-ip", "an ARP reply is for an IPv4 address", { path }));
      else checkIp(a.ip, path, out);
      checkActionsInto(a.actions, path, out);
      return;
    case "nd_na":
      checkMac(a.mac, path, out);
      if (a.target.length !== 4) out.push(error("ofp.bad-ip", "a neighbour advertisement is for an IPv6 address", { path }));
      else checkIp(a.target, path, out);
      checkActionsInto(a.actions, path, out);
      return;
    case "icmp4_error":
    case "icmp6_error":
      if (!isU(a.icmpType, 255) || !isU(a.icmpCode, 255)) out.push(error("ofp.bad-icmp", "ICMP type and code are 8-bit values", { path }));
      if (a.mtu !== undefined && !isU(a.mtu, 0xffffffff)) out.push(error("ofp.bad-icmp", "MTU is a 32-bit value", { path }));
      checkActionsInto(a.actions, path, out);
      return;
    case "icmp4_echo_reply":
    case "icmp6_echo_reply":
    case "clone":
    case "generate":
      checkActionsInto(a.actions, path, out);
      return;
    case "ct_clear":
    case "decap":
    case "pop_vlan":
    case "dec_ttl":
    case "controller":
    case "log":
    case "note":
      return;
    default: {
      const _never: never = a;
      return _never;
    }
  }
}

function checkActionsInto(actions: readonly Action[], path: readonly (string | number)[], out: Diagnostic[]): void {
  actions.forEach((a, i) => checkAction(a, [...path, "actions", i], out));
}

/**
 * Deeply freezes a list of actions (plain objects and arrays; the layout's `FieldDef`s are shared
 * and left as they are). Returns the same list.
 */
export function freezeActions(actions: readonly Action[]): readonly Action[] {
  freezeDeep(actions);
  return actions;
}

function freezeDeep(v: unknown): void {
  if (typeof v !== "object" || v === null || Object.isFrozen(v) || ArrayBuffer.isView(v)) return;
  if (isFieldDef(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) freezeDeep(x);
}

function isFieldDef(v: object): boolean {
  const name = (v as { name?: unknown }).name;
  return typeof name === "string" && FIELDS.get(name) === v;
}
