/**
 * `replay`: the pcap replay driver (captures through a network's datapaths), endpoint mapping,
 * statistics, and worker processes.
 */
export * from "./replay.js";
export * from "./workers.js";
export * from "./map-injector.js";
export { formatMapFile, mapFileText } from "./map-file.js";
export { OutDir, outFileName } from "./out-dir.js";
export { announcementFrame, announcementSource, refusedAnnouncements } from "./provider-segments.js";
