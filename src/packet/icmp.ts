/**
 * ICMP for IPv4 (RFC 792): the 8-byte header.
 *
 * What: type, code, checksum and the 4 "rest of header" bytes, kept as one u32 (`rest`) because
 * their meaning depends on the type: identifier and sequence number for echo (`echoId`,
 * `echoSeq`), the gateway address for redirects, the next-hop MTU for "fragmentation needed",
 * unused otherwise. Everything after the 8 bytes (echo data, or the quoted IP header of an error
 * message) is payload; `isIcmpError` says when that payload is a quoted datagram.
 */
import { getU16, getU32, ok, setU16, setU32, type Diagnostic, type Result } from "../base/index.js";
import { failWith, truncatedDiag } from "./wire.js";

export const ICMP_HEADER_LEN = 8;

/** ICMPv4 message types (open set). */
export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERTISEMENT: 9,
  ROUTER_SOLICITATION: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
} as const;
export type IcmpType = (typeof IcmpType)[keyof typeof IcmpType] | number;

const ICMP_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [IcmpType.ECHO_REPLY, "echo reply"],
  [IcmpType.DEST_UNREACHABLE, "destination unreachable"],
  [IcmpType.SOURCE_QUENCH, "source quench"],
  [IcmpType.REDIRECT, "redirect"],
  [IcmpType.ECHO_REQUEST, "echo request"],
  [IcmpType.ROUTER_ADVERTISEMENT, "router advertisement"],
  [IcmpType.ROUTER_SOLICITATION, "router solicitation"],
  [IcmpType.TIME_EXCEEDED, "time exceeded"],
  [IcmpType.PARAMETER_PROBLEM, "parameter problem"],
  [IcmpType.TIMESTAMP, "timestamp request"],
  [IcmpType.TIMESTAMP_REPLY, "timestamp reply"],
]);

export function icmpTypeName(t: number): string {
  return ICMP_TYPE_NAMES.get(t) ?? `type ${t}`;
}

/** True for the types whose payload quotes the offending datagram's IP header. */
export function isIcmpError(type: number): boolean {
  return (
    type === IcmpType.DEST_UNREACHABLE ||
    type === IcmpType.SOURCE_QUENCH ||
    type === IcmpType.REDIRECT ||
    type === IcmpType.TIME_EXCEEDED ||
    type === IcmpType.PARAMETER_PROBLEM
  );
}

const F = { TYPE: 0, CODE: 1, CHECKSUM: 2, REST: 4, ECHO_ID: 4, ECHO_SEQ: 6 } as const;

export class IcmpView {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(bytes: Uint8Array, offset: number, length: number) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  checkLen(): Diagnostic | undefined {
    if (this.length < ICMP_HEADER_LEN) return truncatedDiag("ICMP header", ICMP_HEADER_LEN, this.length, this.offset);
    return undefined;
  }

  get type(): number {
    return this.bytes[this.offset + F.TYPE]!;
  }
  set type(v: number) {
    this.bytes[this.offset + F.TYPE] = v;
  }
  get code(): number {
    return this.bytes[this.offset + F.CODE]!;
  }
  set code(v: number) {
    this.bytes[this.offset + F.CODE] = v;
  }
  get checksum(): number {
    return getU16(this.bytes, this.offset + F.CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.bytes, this.offset + F.CHECKSUM, v);
  }
  get rest(): number {
    return getU32(this.bytes, this.offset + F.REST);
  }
  set rest(v: number) {
    setU32(this.bytes, this.offset + F.REST, v);
  }
  get echoId(): number {
    return getU16(this.bytes, this.offset + F.ECHO_ID);
  }
  get echoSeq(): number {
    return getU16(this.bytes, this.offset + F.ECHO_SEQ);
  }
}

export interface IcmpRepr {
  readonly type: IcmpType;
  readonly code: number;
  readonly checksum: number;
  /** Bytes 4-7: echo id << 16 | seq, gateway, MTU, or unused, depending on the type. */
  readonly rest: number;
}

export function parseIcmp(v: IcmpView): Result<IcmpRepr> {
  const d = v.checkLen();
  if (d) return failWith(d);
  return ok({ type: v.type, code: v.code, checksum: v.checksum, rest: v.rest });
}

export function icmpHeaderLen(_repr: IcmpRepr): number {
  return ICMP_HEADER_LEN;
}

export function emitIcmp(repr: IcmpRepr, bytes: Uint8Array, offset: number): void {
  const v = new IcmpView(bytes, offset, ICMP_HEADER_LEN);
  v.type = repr.type;
  v.code = repr.code;
  v.checksum = repr.checksum;
  v.rest = repr.rest;
}

/** Echo identifier of an echo request/reply repr. */
export function echoId(repr: IcmpRepr): number {
  return repr.rest >>> 16;
}

/** Echo sequence number of an echo request/reply repr. */
export function echoSeq(repr: IcmpRepr): number {
  return repr.rest & 0xffff;
}

/** An echo request or reply repr (checksum to be computed by the builder). */
export function icmpEchoRepr(type: 0 | 8, id: number, seq: number): IcmpRepr {
  return { type, code: 0, checksum: 0, rest: (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0 };
}
