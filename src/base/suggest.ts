/**
 * Hints for a name that names nothing: the known names closest to it ("did you mean ...?"), else a
 * few of the known names, so an error says what would have worked.
 *
 * Closeness: letter case ignored; a known name that starts with the typed one followed by a
 * separator (`web-1` for `web-1.default`, `default` for `default/web`) is as close as one edit; a
 * typed name with fewer dot-separated parts is also compared with as many leading parts of the
 * known one (`web-9` with `web-1` of `web-1.default`); otherwise the optimal string alignment
 * distance (insertions, deletions, substitutions and swaps of two neighbouring characters). A
 * name is offered when that is less than half the length of the typed name's last `/` part, and
 * at most 2 (3 when that part is longer than 10 characters): `b` is not offered `a`, nor
 * `pod/default/pod-eip` `pod/default/pod-snt`. Only on error paths: the cost is that of
 * comparing with every known name.
 */

/** Edits (insert, delete, substitute, swap neighbours) from `a` to `b`; above `limit`, `limit + 1`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  // A swap reaches back two rows, so only two rows in a row above the limit end the search.
  let prevMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit && prevMin > limit) return limit + 1;
    prevMin = rowMin;
    prev2 = prev;
    prev = cur;
  }
  return Math.min(prev[b.length]!, limit + 1);
}

const SEPARATORS = ".:/-_";

/** The known names closest to `name`, closest first (ties in the order given), at most `max`. */
export function closestNames(name: string, known: Iterable<string>, max = 3): string[] {
  const typed = name.toLowerCase();
  // Path-like names (`pod/NS/NAME`) share most of their text: the limit comes from the last part.
  const last = typed.slice(typed.lastIndexOf("/") + 1).length;
  const limit = Math.min(last <= 10 ? 2 : 3, Math.floor((last - 1) / 2));
  // A name typed without its namespace (`web-9` for `web-1.default`) is also held to as many
  // leading dot-separated parts of each known name.
  const parts = typed.split(".").length;
  const scored: { name: string; score: number; order: number }[] = [];
  let order = 0;
  for (const k of known) {
    const lower = k.toLowerCase();
    const prefix = typed.length > 0 && lower.length > typed.length && lower.startsWith(typed) && SEPARATORS.includes(lower[typed.length]!);
    const head = lower.split(".").slice(0, parts).join(".");
    const score = Math.min(prefix ? 1 : Infinity, editDistance(typed, lower, limit), head !== lower ? editDistance(typed, head, limit) : Infinity);
    if (score <= limit && lower !== typed) scored.push({ name: k, score, order: order++ });
    else if (lower === typed && k !== name) scored.push({ name: k, score: 0, order: order++ });
  }
  return scored
    .sort((x, y) => x.score - y.score || x.order - y.order)
    .slice(0, max)
    .map((s) => s.name);
}

/** `did you mean A, B or C?` for the known names close to `name`, or undefined when none is. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const close = closestNames(name, known);
  if (close.length === 0) return undefined;
  return `did you mean ${close.length === 1 ? close[0] : `${close.slice(0, -1).join(", ")} or ${close.at(-1)}`}?`;
}

/**
 * What to say after "no such X": `did you mean A or B?` when known names are close to `name`,
 * else `<what>: a, b, ...` listing the first `show` known names (and how many there are in all),
 * or `there are no <what>`.
 */
export function unknownNameHint(name: string, known: readonly string[], what: string, show = 8): string {
  const close = didYouMean(name, known);
  if (close !== undefined) return close;
  if (known.length === 0) return `there are no ${what}`;
  return `${what}: ${known.slice(0, show).join(", ")}${known.length > show ? `, ... (${known.length} in all)` : ""}`;
}

/** `; did you mean ...?` to end a message with, or "" when no known name is close. */
export function didYouMeanSuffix(name: string, known: Iterable<string>): string {
  const d = didYouMean(name, known);
  return d === undefined ? "" : `; ${d}`;
}

/** `<label>: a, b, c`, every known name, after `did you mean ...? ` when some are close to `name`. */
export function allKnownHint(name: string, known: readonly string[], label = "known"): string {
  const d = didYouMean(name, known);
  return `${d === undefined ? "" : `${d} `}${label}: ${known.join(", ")}`;
}
