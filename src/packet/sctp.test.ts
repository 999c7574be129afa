/**
 * SCTP: a real INIT's common header and its CRC32c.
 */
import { describe, expect, it } from "vitest";
import { fromHex } from "../base/index.js";
import { computeSctpChecksum, crc32c } from "./checksum.js";
import { emitSctp, parseSctp, sctpHeaderLen, SctpView } from "./sctp.js";

// Packet 7 of PcapPlusPlus's ip-frag.pcap: an SCTP INIT from 10.118.213.211.
//   0b 7c 0b 7c          ports 2940 > 2940
//   00 00 00 00          verification tag 0 (INIT)
//   ea 06 aa 8b          CRC32c, least significant byte first
//   01 00 00 22 ...      INIT chunk (34 bytes + 2 padding)
const INIT = fromHex("0b7c0b7c00000000ea06aa8b" + "010000220badab02000190000400040000000001000500080a76d5d3000c000600050000")!;

describe("SCTP", () => {
  it("parses the common header", () => {
    const r = parseSctp(new SctpView(INIT, 0, INIT.length));
    expect(r.ok && r.value).toEqual({ srcPort: 2940, dstPort: 2940, verificationTag: 0, checksum: 0xea06aa8b });
  });

  it("emits the same bytes back", () => {
    const r = parseSctp(new SctpView(INIT, 0, INIT.length));
    if (!r.ok) throw new Error("parse failed");
    const out = new Uint8Array(sctpHeaderLen(r.value));
    emitSctp(r.value, out, 0);
    expect(out).toEqual(INIT.subarray(0, 12));
  });

  it("computes the CRC32c the packet carries", () => {
    // RFC 3720's check value for CRC32c of "123456789".
    expect(crc32c(new TextEncoder().encode("123456789"), 0, 9)).toBe(0xe3069283);
    expect(computeSctpChecksum(INIT, 0, INIT.length)).toBe(0xea06aa8b);
  });

  it("rejects a window shorter than the common header", () => {
    expect(new SctpView(INIT, 0, 11).checkLen()?.code).toBe("packet.truncated");
  });
});
