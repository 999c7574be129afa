/**
 * Which bucket of a select group a packet takes, as OVS 3.1 picks it for the groups
 * ovn-controller 23.03 installs.
 *
 * ovn-controller turns `select(...)` (ECMP routes, reroute policies with several next hops) and
 * `ct_lb_mark(backends=...)` into OpenFlow groups of type select, one bucket per member in the
 * action's order, each of weight 100 unless the action gives one, with `selection_method=dp_hash`.
 * For `select` it also asks for the symmetric L4 hash when the datapath has it (the userspace
 * datapath does); `ct_lb_mark` keeps the default L4 hash. OVS then makes the datapath compute
 * `dp_hash` and recirculate, and maps `dp_hash` to a bucket through a table of `n` slots (the
 * smallest power of two, at least 16, that holds the total weight in units of the smallest
 * weight), filled by the Webster method so that each bucket gets slots in proportion to its
 * weight (`group_setup_dp_hash_table` in ofproto-dpif.c). Every bucket is live here (OVN's
 * buckets watch no port).
 *
 * A group whose table would need more than 256 slots (more than 256 equal buckets: a load balancer
 * with more than 256 backends) makes OVS fall back to its default method (`dpHashFits` false):
 * the translation hashes the packet itself (`flow_hash_symmetric_l4`, ovs-hash.ts) and takes the
 * best-scoring bucket for that hash (`bestBucket`), with no `dp_hash` and no recirculation.
 */
import { hashInt } from "../flow/index.js";

/** The slot table of a group with these bucket weights: the bucket index of each slot. */
export function dpHashTable(weights: readonly number[]): Int32Array {
  const n = weights.length;
  const slots = dpHashSlots(weights);
  if (slots === 0) return new Int32Array(0);
  const divisor = new Float64Array(n).fill(1);
  const value = Float64Array.from(weights);
  const table = new Int32Array(slots);
  for (let s = 0; s < slots; s++) {
    let win = 0;
    for (let i = 1; i < n; i++) if (value[i]! > value[win]!) win = i;
    divisor[win]! += 2;
    value[win] = weights[win]! / divisor[win]!;
    table[s] = win;
  }
  return table;
}

/** The slots of the `dp_hash` table of buckets of these weights (`group_setup_dp_hash_table`); 0 without weight. */
function dpHashSlots(weights: readonly number[]): number {
  let total = 0;
  let min = Infinity;
  for (const w of weights) {
    if (w > 0 && w < min) min = w;
    total += w;
  }
  return total === 0 ? 0 : Math.max(16, nextPowerOfTwo(Math.ceil(total / min)));
}

/** True when OVS selects among buckets of these weights by `dp_hash`: its table fits in 256 slots. */
export function dpHashFits(weights: readonly number[]): boolean {
  const n = dpHashSlots(weights);
  return n > 0 && n <= 256;
}

/**
 * `group_best_live_bucket`: the bucket with the highest score, `hash_int(bucket_id, basis)`'s low
 * 16 bits times its weight, the later bucket on a tie (bucket ids are the indexes). -1 without one.
 */
export function bestBucket(weights: readonly number[], basis: number): number {
  let best = -1;
  let bestScore = 0;
  for (let i = 0; i < weights.length; i++) {
    const score = (hashInt(i, basis) & 0xffff) * weights[i]!;
    if (score >= bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** The bucket index `dpHash` selects among buckets of these weights. */
export function dpHashBucket(weights: readonly number[], dpHash: number): number {
  const n = weights.length;
  if (n === 0) return -1;
  let equal = true;
  for (let i = 1; i < n && equal; i++) equal = weights[i] === weights[0];
  if (equal && weights[0]! > 0) {
    // Equal weights fill the table round-robin: slot s holds bucket s mod n.
    const mask = Math.max(16, nextPowerOfTwo(n)) - 1;
    return (dpHash & mask) % n;
  }
  const table = dpHashTable(weights);
  return table.length === 0 ? -1 : table[dpHash & (table.length - 1)]!;
}

function nextPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
