/**
 * Child process of alloc.test.ts: runs classifier lookups between markers while V8 traces every
 * garbage collection (`--trace-gc`, 1 MiB semi-space). Phase 1 is the real hot loop: lookups with
 * a reused wildcard mask, ranking refreshes included. Phase 2 is a control that allocates one
 * small array per lookup, to show the method notices allocation.
 */
import { Classifier } from "../../src/classifier/index.js";
import { KEY_WORDS } from "../../src/flow/index.js";
import { makeKey, makeRules, makeShapes, prng } from "./acl-rules.js";

const rand = prng(99);
const rules = makeRules(rand, makeShapes(rand, 30), 2000);
const cls = Classifier.from(rules, { rankInterval: 1024 });
const KEYS = 4096;
const keys: Uint32Array[] = [];
for (let i = 0; i < KEYS; i++) keys.push(makeKey(rand, rules));
const wc = new Uint32Array(KEY_WORDS);
let found = 0;

function run(n: number): void {
  for (let i = 0; i < n; i++) {
    wc.fill(0);
    if (cls.lookup(keys[i & (KEYS - 1)]!, wc) !== undefined) found++;
  }
}

function runAllocating(n: number): void {
  for (let i = 0; i < n; i++) {
    const fresh = new Uint32Array(4);
    if (cls.lookup(keys[i & (KEYS - 1)]!, wc) !== undefined) found += fresh.length & 1;
  }
}

run(300_000);
runAllocating(50_000);
process.stdout.write("BEGIN\n");
run(2_000_000);
process.stdout.write("END\n");
process.stdout.write("BEGIN2\n");
runAllocating(2_000_000);
process.stdout.write("END2\n");
process.stdout.write(`LOOKUPS ${cls.stats().lookups} FOUND ${found}\n`);
