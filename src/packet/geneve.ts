/**
 * Geneve (RFC 8926), the tunnel OVN uses between chassis, and OVN's metadata option.
 *
 * Header (8 bytes): version (2 bits) and option length (6 bits, in 4-byte words), the O (control
 * packet) and C (critical options present) bits and 6 reserved bits, the protocol type of the
 * payload (0x6558 Ethernet, or 0x0800 / 0x86dd / 0x0806 for a bare IP or ARP payload), the 24-bit
 * VNI and a reserved byte. Options follow as TLVs: class (16 bits), type (8 bits, the top bit
 * marking the option critical), 3 reserved bits and a 5-bit length in 4-byte words, then data.
 *
 * OVN's option (class 0x0102, type 0x80, 4 data bytes), as ovn-controller writes it in
 * `put_encapsulation` (controller/physical.c) and ovn-architecture(7) documents: it loads the
 * logical egress port key into the 32-bit option value and then copies the 15 low bits of the
 * logical ingress port key into bits 16-30. So bit 31 is 0, bits 30-16 carry the ingress port key
 * (15 bits) and bits 15-0 the egress port key (16 bits); the VNI carries the 24-bit datapath key.
 *
 * `parseGeneve` rejects an option list that does not exactly fill the option length (an option
 * running past it, or a length that is not what the header says), since such a header has no
 * faithful repr.
 */
import { getU16, getU24, getU32, ok, setU16, setU24, type Diagnostic, type Result } from "../base/index.js";
import { copyIn, copyOut, failWith, hex, malformedDiag, truncatedDiag } from "./wire.js";
import { EtherType } from "./ethernet.js";

export const GENEVE_HEADER_LEN = 8;

/** Option class assigned to OVN. */
export const OVN_GENEVE_CLASS = 0x0102;
/** OVN's option type (critical bit set). */
export const OVN_GENEVE_TYPE = 0x80;
/** OVN's option data length in bytes. */
export const OVN_GENEVE_LEN = 4;

const F = { VER_OPTLEN: 0, FLAGS: 1, PROTOCOL: 2, VNI: 4, RESERVED: 7, OPTIONS: 8 } as const;

export class GeneveView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < GENEVE_HEADER_LEN) return truncatedDiag("Geneve header", GENEVE_HEADER_LEN, this.length, this.offset);
    if (this.length < this.headerLen) return truncatedDiag("Geneve header with options", this.headerLen, this.length, this.offset);
    return undefined;
  }

  get version(): number {
    return this.bytes[this.offset + F.VER_OPTLEN]! >>> 6;
  }
  /** Option length in 4-byte words. */
  get optLen(): number {
    return this.bytes[this.offset + F.VER_OPTLEN]! & 0x3f;
  }
  setVersionOptLen(version: number, optLen: number): void {
    this.bytes[this.offset + F.VER_OPTLEN] = ((version & 3) << 6) | (optLen & 0x3f);
  }
  get headerLen(): number {
    return GENEVE_HEADER_LEN + this.optLen * 4;
  }
  get flags(): number {
    return this.bytes[this.offset + F.FLAGS]!;
  }
  set flags(v: number) {
    this.bytes[this.offset + F.FLAGS] = v;
  }
  get oam(): boolean {
    return (this.flags & 0x80) !== 0;
  }
  get critical(): boolean {
    return (this.flags & 0x40) !== 0;
  }
  get protocolType(): number {
    return getU16(this.bytes, this.offset + F.PROTOCOL);
  }
  set protocolType(v: number) {
    setU16(this.bytes, this.offset + F.PROTOCOL, v);
  }
  get vni(): number {
    return getU24(this.bytes, this.offset + F.VNI);
  }
  set vni(v: number) {
    setU24(this.bytes, this.offset + F.VNI, v);
  }
  get reserved2(): number {
    return this.bytes[this.offset + F.RESERVED]!;
  }
  set reserved2(v: number) {
    this.bytes[this.offset + F.RESERVED] = v;
  }
}

export interface GeneveOption {
  readonly optClass: number;
  /** Option type; bit 0x80 is the critical bit. */
  readonly type: number;
  /** The 3 reserved bits before the length. */
  readonly flags: number;
  /** Data, a multiple of 4 bytes (at most 124). */
  readonly data: Uint8Array;
}

export interface GeneveRepr {
  readonly version: number;
  /** O bit: control packet. */
  readonly oam: boolean;
  /** C bit: critical options present. */
  readonly critical: boolean;
  /** The 6 reserved flag bits. */
  readonly reserved: number;
  readonly protocolType: number;
  readonly vni: number;
  /** The reserved byte after the VNI. */
  readonly reserved2: number;
  readonly options: readonly GeneveOption[];
}

export function parseGeneve(v: GeneveView): Result<GeneveRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  const options: GeneveOption[] = [];
  let off = v.offset + F.OPTIONS;
  const end = v.offset + v.headerLen;
  while (off < end) {
    if (end - off < 4) return failWith(malformedDiag(`Geneve option header at offset ${off} runs past the option area`, off));
    const len = (v.bytes[off + 3]! & 0x1f) * 4;
    if (off + 4 + len > end) return failWith(malformedDiag(`Geneve option at offset ${off} (length ${len}) runs past the option area`, off));
    options.push({ optClass: getU16(v.bytes, off), type: v.bytes[off + 2]!, flags: v.bytes[off + 3]! >>> 5, data: copyOut(v.bytes, off + 4, len) });
    off += 4 + len;
  }
  return ok({
    version: v.version,
    oam: v.oam,
    critical: v.critical,
    reserved: v.flags & 0x3f,
    protocolType: v.protocolType,
    vni: v.vni,
    reserved2: v.reserved2,
    options,
  });
}

export function geneveHeaderLen(repr: GeneveRepr): number {
  let n = GENEVE_HEADER_LEN;
  for (const o of repr.options) n += 4 + o.data.length;
  return n;
}

/** Writes the header and options; the option length field is derived from the options. */
export function emitGeneve(repr: GeneveRepr, bytes: Uint8Array, offset: number): void {
  const hl = geneveHeaderLen(repr);
  const v = new GeneveView(bytes, offset, hl);
  v.setVersionOptLen(repr.version, (hl - GENEVE_HEADER_LEN) >>> 2);
  v.flags = (repr.oam ? 0x80 : 0) | (repr.critical ? 0x40 : 0) | (repr.reserved & 0x3f);
  v.protocolType = repr.protocolType;
  v.vni = repr.vni;
  v.reserved2 = repr.reserved2;
  let off = offset + F.OPTIONS;
  for (const o of repr.options) {
    setU16(bytes, off, o.optClass);
    bytes[off + 2] = o.type;
    bytes[off + 3] = ((o.flags & 7) << 5) | ((o.data.length >>> 2) & 0x1f);
    copyIn(bytes, off + 4, o.data);
    off += 4 + o.data.length;
  }
}

/** OVN's logical port keys carried in the metadata option. */
export interface OvnGeneveMetadata {
  /** Logical ingress port key (15 bits). */
  readonly ingressPort: number;
  /** Logical egress port key (16 bits). */
  readonly egressPort: number;
}

/** True for OVN's option: class 0x0102, type 0x80, 4 data bytes. */
export function isOvnOption(o: GeneveOption): boolean {
  return o.optClass === OVN_GENEVE_CLASS && o.type === OVN_GENEVE_TYPE && o.data.length === OVN_GENEVE_LEN;
}

/** Decodes OVN's option value: bits 30-16 ingress port key, bits 15-0 egress port key. */
export function decodeOvnOption(o: GeneveOption): OvnGeneveMetadata {
  const v = getU32(o.data, 0);
  return { ingressPort: (v >>> 16) & 0x7fff, egressPort: v & 0xffff };
}

/** The OVN metadata of a Geneve header, if it carries OVN's option. */
export function ovnMetadataOf(repr: GeneveRepr): OvnGeneveMetadata | undefined {
  for (const o of repr.options) if (isOvnOption(o)) return decodeOvnOption(o);
  return undefined;
}

/** OVN's option for the given port keys (ingress truncated to 15 bits, egress to 16). */
export function ovnGeneveOption(ingressPort: number, egressPort: number): GeneveOption {
  const data = new Uint8Array(4);
  const v = (((ingressPort & 0x7fff) << 16) | (egressPort & 0xffff)) >>> 0;
  data[0] = v >>> 24;
  data[1] = (v >>> 16) & 0xff;
  data[2] = (v >>> 8) & 0xff;
  data[3] = v & 0xff;
  return { optClass: OVN_GENEVE_CLASS, type: OVN_GENEVE_TYPE, flags: 0, data };
}

/** A Geneve repr carrying an Ethernet frame, with the C bit set when any option is critical. */
export function geneveRepr(vni: number, options: readonly GeneveOption[] = [], protocolType: number = EtherType.TEB): GeneveRepr {
  return {
    version: 0,
    oam: false,
    critical: options.some((o) => (o.type & 0x80) !== 0),
    reserved: 0,
    protocolType,
    vni,
    reserved2: 0,
    options,
  };
}

/** Short text for one option: OVN's as `ovn(in=1,out=3)`, others as `opt(class 0x0100 type 0x01 len 16)`. */
export function formatGeneveOption(o: GeneveOption): string {
  if (isOvnOption(o)) {
    const m = decodeOvnOption(o);
    return `ovn(in=${m.ingressPort},out=${m.egressPort})`;
  }
  return `opt(class ${hex(o.optClass)} type ${hex(o.type, 2)} len ${o.data.length})`;
}
