/**
 * Capture timestamps: 64-bit counts of a file's time unit, converted to and from
 * (seconds since the epoch, nanoseconds).
 *
 * pcapng stores a timestamp as two 32-bit words (high, low) counting units of 10^-n or 2^-n
 * seconds, chosen per interface by the `if_tsresol` option (default 10^-6), plus an optional
 * per-interface offset in seconds (`if_tsoffset`). Such counts exceed 2^53 (nanoseconds since 1970
 * already do), so they are never formed as one exact JS number. `Timebase.toEpoch` is exact and
 * allocates nothing for every decimal resolution up to nanoseconds (a floating-point quotient
 * corrected by an exact 32-bit remainder, or long division in 16-bit steps for coarse units) and
 * every binary resolution up to 2^-32 (shifts). Finer resolutions are legal but unheard of in
 * practice; they take an exact BigInt path that allocates.
 *
 * Fractions finer than a nanosecond are truncated (rounded toward zero), as Wireshark does.
 */

/** Where a conversion writes its result (the reader object itself, so nothing is allocated). */
export interface TimeOut {
  tsSec: number;
  tsNsec: number;
}

const TWO32 = 4294967296;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000] as const;

const scratch = new DataView(new ArrayBuffer(8));

const MODE_DECIMAL = 0;
const MODE_BINARY = 1;
const MODE_BIG = 2;

/** The time unit of one pcapng interface (or of a classic pcap file), and its offset. */
export class Timebase {
  /** The raw `if_tsresol` byte: bit 7 clear means 10^-n seconds, set means 2^-n; n is bits 0-6. */
  readonly tsresol: number;
  /** Seconds added to every timestamp (`if_tsoffset`). */
  readonly offset: number;
  private readonly mode: number;
  /** Decimal: units per second. Binary: 2^n. */
  private readonly div: number;
  /** Decimal: nanoseconds per unit (10^(9-n)). */
  private readonly mul: number;
  /** Binary: n. */
  private readonly shift: number;
  private readonly bigDiv: bigint;

  constructor(tsresol = 6, offset = 0) {
    this.tsresol = tsresol & 0xff;
    this.offset = offset;
    const n = tsresol & 0x7f;
    const binary = (tsresol & 0x80) !== 0;
    this.shift = n;
    this.div = 1;
    this.mul = 1;
    this.bigDiv = 1n;
    if (!binary && n <= 9) {
      this.mode = MODE_DECIMAL;
      this.div = POW10[n]!;
      this.mul = POW10[9 - n]!;
    } else if (binary && n <= 32) {
      this.mode = MODE_BINARY;
      this.div = 2 ** n;
    } else {
      this.mode = MODE_BIG;
      this.bigDiv = binary ? 1n << BigInt(n) : 10n ** BigInt(n);
    }
  }

  /** Units per second as a number (may be inexact above 2^53; for display only). */
  get unitsPerSecond(): number {
    return this.mode === MODE_BIG ? Number(this.bigDiv) : this.div;
  }

  /** Converts a count of units given as two unsigned 32-bit words to seconds and nanoseconds. */
  toEpoch(hi: number, lo: number, out: TimeOut): void {
    scratch.setUint32(0, hi, false);
    scratch.setUint32(4, lo, false);
    this.readEpoch(scratch, 0, false, out);
  }

  /**
   * Converts the count stored at `view[off]` as two 32-bit words (high word first, each in the
   * given byte order, as pcapng stores them). The reader calls this form: it passes no 32-bit
   * values across the call, so nothing gets boxed on the way (values above 2^30 would be).
   */
  readEpoch(view: DataView, off: number, le: boolean, out: TimeOut): void {
    const hi = view.getUint32(off, le);
    const lo = view.getUint32(off + 4, le);
    if (this.mode === MODE_DECIMAL) {
      const d = this.div;
      if (d >= 1000) {
        // Estimate the quotient in floating point (off by a few units at most: the count has 64
        // bits, a double 53), then get the remainder exactly modulo 2^32 (it lies well inside the
        // int32 range) and correct the estimate.
        let q = Math.floor((hi * TWO32 + lo) / d);
        let r = (lo - Math.imul(q >>> 0, d)) | 0;
        while (r < 0) {
          q--;
          r += d;
        }
        while (r >= d) {
          q++;
          r -= d;
        }
        out.tsSec = q + this.offset;
        out.tsNsec = r * this.mul;
        return;
      }
      const qh = Math.floor(hi / d);
      const rh = hi - qh * d; // < d <= 1e9 < 2^30
      const t1 = rh * 65536 + (lo >>> 16); // < 2^46: exact
      const q1 = Math.floor(t1 / d);
      const r1 = t1 - q1 * d;
      const t2 = r1 * 65536 + (lo & 0xffff);
      const q2 = Math.floor(t2 / d);
      const r2 = t2 - q2 * d;
      out.tsSec = qh * TWO32 + q1 * 65536 + q2 + this.offset;
      out.tsNsec = r2 * this.mul;
      return;
    }
    if (this.mode === MODE_BINARY) {
      const n = this.shift;
      let sec: number;
      let frac: number;
      if (n === 32) {
        sec = hi;
        frac = lo;
      } else {
        const d = this.div;
        const q = Math.floor(lo / d);
        sec = hi * (TWO32 / d) + q;
        frac = lo - q * d;
      }
      // frac / 2^n seconds in nanoseconds, exactly: 1e9 = 2^9 * 1953125 and frac * 1953125 < 2^53.
      out.tsSec = sec + this.offset;
      out.tsNsec = n <= 9 ? frac * (1_000_000_000 / this.div) : Math.floor((frac * 1953125) / 2 ** (n - 9));
      return;
    }
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    out.tsSec = Number(units / this.bigDiv) + this.offset;
    out.tsNsec = Number(((units % this.bigDiv) * 1_000_000_000n) / this.bigDiv);
  }
}

/**
 * Splits `sec * 10^digits + floor(nsec / 10^(9-digits))` into two unsigned 32-bit words, exactly,
 * for 0 <= sec < 2^37 and digits <= 9 (what a pcapng writer with a decimal `if_tsresol` stores).
 */
export function splitUnits(sec: number, nsec: number, digits: number, out: { hi: number; lo: number }): void {
  const m = POW10[digits]!;
  const frac = Math.floor(nsec / POW10[9 - digits]!);
  const sh = Math.floor(sec / 65536);
  const sl = sec - sh * 65536;
  const a = sh * m; // < 2^51
  const b = sl * m + frac; // < 2^47
  const aHi = Math.floor(a / 65536);
  const mid = (a - aHi * 65536) * 65536 + b;
  const midHi = Math.floor(mid / TWO32);
  out.hi = aHi + midHi;
  out.lo = mid - midHi * TWO32;
}
