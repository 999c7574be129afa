/**
 * `pcap`: capture files in and out. Readers for classic pcap and pcapng (zero-copy over a buffer,
 * or streaming with a bounded buffer), writers for both formats, and the link-type registry.
 * This layer frames records, timestamps and link types; it never decodes packets.
 */
export { openCapture, MAX_RECORD_CAP, MIN_RECORD_LIMIT, BLOCK_OVERHEAD } from "./reader.js";
export type { CaptureReader, CaptureRecord, CaptureFormat, InterfaceInfo, ReaderOptions, ReaderStats } from "./reader.js";
export { readCaptureStream } from "./stream.js";
export type { CaptureStreamReader, ByteStream } from "./stream.js";
export { readCaptureFile } from "./file.js";
export { PcapWriter, PcapngWriter } from "./writer.js";
export type { PcapWriterOptions, PcapngWriterOptions, PcapngInterface } from "./writer.js";
export { LinkType, linkTypeName, isSupportedLinkType, LinkTypeCounter } from "./link-type.js";
export { Timebase } from "./timestamp.js";
