/**
 * TCP window tracking for the connection table, with the rules of OVS's userspace conntrack
 * (`lib/conntrack-tcp.c`, itself after pf's sequence tracking).
 *
 * What
 * ----
 * A TCP connection committed while its packet's segment is known (`TcpSegment`: sequence and
 * acknowledgement numbers, window, payload length, window-scale option) gets a `TcpTrack`: per end
 * its state (OVS's numbering, `CLOSED` .. `TIME_WAIT`), the highest sequence number it sent
 * (`seqlo`), the highest the other end may send (`seqhi`), its largest window (unscaled) and its
 * window scale. Every later packet of the connection updates it (`tcpUpdate`) and gets one of:
 * - `VALID`: `est` (and `rpl` in the reply direction), as without tracking;
 * - `INVALID`: a segment outside the window the other end opened, an acknowledgement too far
 *   back or forward, a reset whose sequence number is not the expected one, or flags that are
 *   invalid together: OVS marks the packet `inv`;
 * - `VALID_NEW`: a SYN retransmitted before the other end answered: `new` again;
 * - `NEW`: a SYN after both ends closed: the old connection ends and the packet may start a
 *   new one.
 *
 * Updates per packet: OVS's conntrack remembers the connection a packet found (`md.conn`) and
 * answers a later `ct` in the same zone from it without updating (`process_one_fast`), as OVN's
 * `ct_next` and then `ct_commit` in one zone do. Any NAT forgets it, and OVN's `ct_commit` always
 * has one (an all-zero SNAT), so a packet that meets the zone again after a commit (routed back to
 * the port it came from) updates the connection again: a connection a mid-stream ACK opened is
 * `est` there, not `new`. Here the segment carries a serial number per packet, and the table keeps
 * the connection, zone and serial of the packet's last `ct` without NAT or commit (conntrack.ts);
 * a `ct` that finds that connection in that zone repeats its last result. A `ct_clear` that
 * reaches the datapath forgets it, as OVS's does (datapath.ts), so two lookups in one zone with such
 * a `ct_clear` between (a packet that crossed a router and came back without being committed)
 * update twice.
 *
 * Timeouts: an update that OVS lets refresh the connection's expiry says for how long, in
 * `TcpTrack.timeout` (milliseconds; 0 when it does not refresh it): a retransmitted SYN 30 s, a
 * segment in its window by the two ends' states (OVS's default policy: both closed 30 s, both
 * closing 45 s, either still opening 30 s, either closing 15 min, else established 24 h). The
 * loose acceptance and an invalid segment leave the expiry as it was (conntrack.ts applies it).
 *
 * Not modelled: OVS's switch to turn the sequence check off (`tcp_seq_chk`, on by default).
 *
 * Arithmetic: sequence numbers are unsigned 32-bit and compared modulo 2^32, as `SEQ_GEQ` does;
 * `maxWin` is 16 bits, as OVS stores it (a scale fix-up truncates it there too).
 */

/** TCP states of one end (`enum ct_dpif_tcp_state`). */
export const TCPS = { CLOSED: 0, LISTEN: 1, SYN_SENT: 2, SYN_RECV: 3, ESTABLISHED: 4, CLOSE_WAIT: 5, FIN_WAIT_1: 6, CLOSING: 7, LAST_ACK: 8, FIN_WAIT_2: 9, TIME_WAIT: 10 } as const;

/** Results of `tcpUpdate` (`enum ct_update_res`). */
export const TCP_UPDATE = { VALID: 0, INVALID: 1, NEW: 2, VALID_NEW: 3 } as const;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const URG = 0x20;

/** Window-scale bits: the option was seen (with the shift in `WSCALE_MASK`), or never can be. */
export const WSCALE_FLAG = 0x80;
export const WSCALE_UNKNOWN = 0x40;
const WSCALE_MASK = 0x0f;
const MAX_WSCALE = 14;
/** How far an acknowledgement may lag or lead (pf's `MAXACKWINDOW`). */
const MAX_ACK_WINDOW = 0xffff + 1500;

/**
 * What conntrack knows of the packet being processed beyond its flow key. The owner (the replay)
 * fills it in for every packet and bumps `serial`; `present` is false for a packet without a
 * complete TCP header, and then no window is checked.
 */
export class TcpSegment {
  serial = 0;
  present = false;
  seq = 0;
  ack = 0;
  /** The window field, unscaled. */
  win = 0;
  /** Bytes of payload after the TCP header. */
  payload = 0;
  /** The window-scale option as OVS reads it: 0 without one, else `WSCALE_FLAG` | shift (max 14). */
  wscale = 0;
  /** The flags (the 9 bits after the data offset), as read; -1 when not known. */
  flags = -1;

  /** Makes this segment a copy of `o`. */
  copyFrom(o: TcpSegment): void {
    this.serial = o.serial;
    this.present = o.present;
    this.seq = o.seq;
    this.ack = o.ack;
    this.win = o.win;
    this.payload = o.payload;
    this.wscale = o.wscale;
    this.flags = o.flags;
  }

  /**
   * Fills the segment from the TCP header at `buf[h ..]`, whose segment ends at `end` (the IP
   * header's length; the bytes past the capture are not read, only counted).
   */
  read(buf: Uint8Array, h: number, end: number): void {
    const doff = (buf[h + 12]! >>> 4) * 4;
    this.seq = ((buf[h + 4]! << 24) | (buf[h + 5]! << 16) | (buf[h + 6]! << 8) | buf[h + 7]!) >>> 0;
    this.ack = ((buf[h + 8]! << 24) | (buf[h + 9]! << 16) | (buf[h + 10]! << 8) | buf[h + 11]!) >>> 0;
    this.win = (buf[h + 14]! << 8) | buf[h + 15]!;
    this.flags = ((buf[h + 12]! & 1) << 8) | buf[h + 13]!;
    this.payload = end - h - doff > 0 ? end - h - doff : 0;
    this.wscale = (buf[h + 13]! & SYN) !== 0 ? windowScale(buf, h + 20, Math.min(h + doff, buf.length)) : 0;
    this.present = true;
  }
}

/** The window-scale option among the options at `buf[p, end)`, as `tcp_get_wscale` reads it. */
function windowScale(buf: Uint8Array, p: number, end: number): number {
  let ws = 0;
  while (end - p >= 3) {
    const kind = buf[p]!;
    if (kind === 0) return ws;
    if (kind === 1) {
      p++;
      continue;
    }
    if (kind === 3) ws = Math.min(buf[p + 2]!, MAX_WSCALE) | WSCALE_FLAG;
    const len = buf[p + 1]! < 2 ? 2 : buf[p + 1]!;
    p += len;
  }
  return ws;
}

// Peer fields: the original direction's sender at 0, the reply direction's at 5.
const ST = 0;
const LO = 1;
const HI = 2;
const MW = 3;
const WS = 4;

/** One connection's TCP state: both ends, and the serial and result of its latest update. */
export class TcpTrack {
  readonly peers = new Uint32Array(10);
  serial = 0;
  last: number = TCP_UPDATE.VALID_NEW;
  /** How long the latest update keeps the connection, in milliseconds (0: it does not refresh it). */
  timeout = 0;

  /** Starts tracking from the segment that commits the connection (`tcp_new_conn`). */
  constructor(seg: TcpSegment, flags: number) {
    const p = this.peers;
    p[LO] = seg.seq;
    let hi = seg.seq + seg.payload + 1;
    if ((flags & SYN) !== 0) {
      hi++;
      p[WS] = seg.wscale;
    } else {
      p[WS] = WSCALE_UNKNOWN;
      p[5 + WS] = WSCALE_UNKNOWN;
    }
    let mw = Math.max(seg.win, 1);
    const sws = p[WS]! & WSCALE_MASK;
    if (sws !== 0) mw = ceilDiv(mw, 1 << sws);
    p[MW] = mw;
    if ((flags & FIN) !== 0) hi++;
    p[HI] = hi >>> 0;
    p[5 + HI] = 1;
    p[5 + MW] = 1;
    p[ST] = TCPS.SYN_SENT;
    p[5 + ST] = TCPS.CLOSED;
    this.serial = seg.serial;
  }
}

/** OVS's `tcp_invalid_flags`: combinations no TCP stack sends. */
export function tcpInvalidFlags(flags: number): boolean {
  if ((flags & SYN) !== 0) {
    if ((flags & (RST | FIN)) !== 0) return true;
  } else if ((flags & (ACK | RST)) === 0) return true;
  return (flags & ACK) === 0 && (flags & (FIN | PSH | URG)) !== 0;
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** a >= b modulo 2^32. */
function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** a > b modulo 2^32. */
function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/**
 * Updates `t` with a packet (`seg`, TCP flags `flags`) in the original (`reply` false) or reply
 * direction; returns a `TCP_UPDATE` result (see the module header). `tcp_conn_update`, step by step.
 */
export function tcpUpdate(t: TcpTrack, reply: boolean, seg: TcpSegment, flags: number): number {
  const p = t.peers;
  const s = reply ? 5 : 0;
  const d = reply ? 0 : 5;
  t.timeout = 0;
  if (tcpInvalidFlags(flags)) return TCP_UPDATE.INVALID;

  if ((flags & (SYN | ACK)) === SYN) {
    if (p[d + ST]! >= TCPS.FIN_WAIT_2 && p[s + ST]! >= TCPS.FIN_WAIT_2) {
      p[s + ST] = TCPS.CLOSED;
      p[d + ST] = TCPS.CLOSED;
      return TCP_UPDATE.NEW;
    }
    if (p[s + ST]! <= TCPS.SYN_SENT) {
      p[s + ST] = TCPS.SYN_SENT;
      t.timeout = TCP_TIMEOUT.FIRST_PACKET;
      return TCP_UPDATE.VALID_NEW;
    }
  }

  let sws = 0;
  let dws = 0;
  if ((flags & SYN) === 0) {
    if ((p[s + WS]! & WSCALE_FLAG) !== 0 && (p[d + WS]! & WSCALE_FLAG) !== 0) {
      sws = p[s + WS]! & WSCALE_MASK;
      dws = p[d + WS]! & WSCALE_MASK;
    } else if ((p[s + WS]! & WSCALE_UNKNOWN) !== 0 && (p[d + WS]! & WSCALE_UNKNOWN) !== 0) {
      sws = MAX_WSCALE;
      dws = MAX_WSCALE;
    }
  }

  let win = seg.win;
  const origSeq = seg.seq;
  let seq = origSeq;
  let ack = seg.ack;
  let end = (seq + seg.payload) >>> 0;
  let checkAckskew = true;
  if (p[s + ST]! < TCPS.SYN_SENT) {
    // The first packet from this end.
    if ((flags & SYN) !== 0) {
      end = (end + 1) >>> 0;
      if ((p[d + WS]! & WSCALE_FLAG) !== 0) {
        p[s + WS] = seg.wscale;
        if ((p[s + WS]! & WSCALE_FLAG) !== 0) {
          sws = p[s + WS]! & WSCALE_MASK;
          win = ceilDiv(win, 1 << sws) & 0xffff;
          dws = p[d + WS]! & WSCALE_MASK;
        } else {
          // The other end offered scaling and this one did not: undo the other's scale.
          p[d + MW] = (p[d + MW]! << (p[d + WS]! & WSCALE_MASK)) & 0xffff;
          p[d + WS] = 0;
        }
      }
    }
    if ((flags & FIN) !== 0) end = (end + 1) >>> 0;
    p[s + LO] = seq;
    p[s + ST] = TCPS.SYN_SENT;
    const reach = (end + Math.max(1, p[d + MW]! << dws)) >>> 0;
    if (p[s + HI] === 1 || seqGeq(reach, p[s + HI]!)) {
      p[s + HI] = reach;
      // A connection picked up or just starting: acknowledgements are not checked.
      checkAckskew = false;
    }
    if (win > p[s + MW]!) p[s + MW] = win;
  } else {
    if ((flags & SYN) !== 0) end = (end + 1) >>> 0;
    if ((flags & FIN) !== 0) end = (end + 1) >>> 0;
  }

  if ((flags & ACK) === 0) ack = p[d + LO]!;
  else if (ack === 0 && (flags & (ACK | RST)) === (ACK | RST)) ack = p[d + LO]!;

  if (seq === end) {
    // No data: no sequence constraint.
    seq = p[s + LO]!;
    end = seq;
  }

  const ackskew = checkAckskew ? (p[d + LO]! - ack) | 0 : 0;
  const inWindow =
    seqGeq(p[s + HI]!, end) &&
    seqGeq(seq, (p[s + LO]! - (p[d + MW]! << dws)) >>> 0) &&
    ackskew >= -MAX_ACK_WINDOW &&
    ackskew <= MAX_ACK_WINDOW << sws &&
    ((flags & RST) === 0 || origSeq === p[s + LO] || origSeq === ((p[s + LO]! + 1) >>> 0) || ((origSeq + 1) >>> 0) === p[s + LO]);
  if (inWindow) {
    slide(p, s, d, win, sws, end, ack);
    if ((flags & SYN) !== 0 && p[s + ST]! < TCPS.SYN_SENT) p[s + ST] = TCPS.SYN_SENT;
    if ((flags & FIN) !== 0 && p[s + ST]! < TCPS.CLOSING) p[s + ST] = TCPS.CLOSING;
    if ((flags & ACK) !== 0) {
      if (p[d + ST] === TCPS.SYN_SENT) p[d + ST] = TCPS.ESTABLISHED;
      else if (p[d + ST] === TCPS.CLOSING) p[d + ST] = TCPS.FIN_WAIT_2;
    }
    if ((flags & RST) !== 0) {
      p[s + ST] = TCPS.TIME_WAIT;
      p[d + ST] = TCPS.TIME_WAIT;
    }
    t.timeout = stateTimeout(p[s + ST]!, p[d + ST]!);
    return TCP_UPDATE.VALID;
  }
  if (
    (p[d + ST]! < TCPS.SYN_SENT || p[d + ST]! >= TCPS.FIN_WAIT_2 || p[s + ST]! >= TCPS.FIN_WAIT_2) &&
    seqGeq((p[s + HI]! + MAX_ACK_WINDOW) >>> 0, end) &&
    seqGeq(seq, (p[s + LO]! - MAX_ACK_WINDOW) >>> 0)
  ) {
    // Loose: SYNs sent before the peer answered, a stream picked up late, stray packets after a
    // close. The window moves, the states advance only on FIN and RST.
    slide(p, s, d, win, sws, end, ack);
    if ((flags & FIN) !== 0 && p[s + ST]! < TCPS.CLOSING) p[s + ST] = TCPS.CLOSING;
    if ((flags & RST) !== 0) {
      p[s + ST] = TCPS.TIME_WAIT;
      p[d + ST] = TCPS.TIME_WAIT;
    }
    return TCP_UPDATE.VALID;
  }
  return TCP_UPDATE.INVALID;
}

/**
 * OVS's default timeout policy for TCP (`conntrack-tp.c`), in milliseconds, by the timeout each
 * state selects: the first packet (`tcp_syn_sent`), opening (`tcp_syn_recv`), established,
 * closing (`tcp_fin_wait`), both closing (`tcp_time_wait`) and closed (`tcp_close`).
 */
export const TCP_TIMEOUT = { FIRST_PACKET: 30_000, OPENING: 30_000, ESTABLISHED: 86_400_000, CLOSING: 900_000, FIN_WAIT: 45_000, CLOSED: 30_000 } as const;

/** The timeout an in-window segment sets, from the states of its sender and receiver. */
function stateTimeout(src: number, dst: number): number {
  if (src >= TCPS.FIN_WAIT_2 && dst >= TCPS.FIN_WAIT_2) return TCP_TIMEOUT.CLOSED;
  if (src >= TCPS.CLOSING && dst >= TCPS.CLOSING) return TCP_TIMEOUT.FIN_WAIT;
  if (src < TCPS.ESTABLISHED || dst < TCPS.ESTABLISHED) return TCP_TIMEOUT.OPENING;
  if (src >= TCPS.CLOSING || dst >= TCPS.CLOSING) return TCP_TIMEOUT.CLOSING;
  return TCP_TIMEOUT.ESTABLISHED;
}

/** The window bookkeeping of an accepted segment: largest window, highest sequence, peer's reach. */
function slide(p: Uint32Array, s: number, d: number, win: number, sws: number, end: number, ack: number): void {
  if (p[s + MW]! < win) p[s + MW] = win;
  if (seqGt(end, p[s + LO]!)) p[s + LO] = end;
  const w = win << sws;
  if (seqGeq((ack + w) >>> 0, p[d + HI]!)) p[d + HI] = (ack + Math.max(w, 1)) >>> 0;
}
