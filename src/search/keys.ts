// 64-bit keys for beam dedupe and answer voting (xxhash and murmur mixing: stable across runs and
// machines).
import xxhash from 'xxhash-wasm';
import { fmix32, MIX_START, mixIn } from './seeds.ts';

type Hasher = Awaited<ReturnType<typeof xxhash>>;
let hasher: Hasher | undefined;

/** Load the wasm hasher once; call before stringKey and extendKeyInto. */
export async function initKeys(): Promise<void> {
  hasher ??= await xxhash();
}

/** xxhash64 of a string (answer keys for voting). */
export function stringKey(s: string): bigint {
  if (!hasher) throw new Error('initKeys() must be awaited before stringKey()');
  return hasher.h64(s);
}

// ---- chained prefix keys (beam dedupe)
//
// A child's key is its parent's key extended by the new step, so a round costs one step hash per
// child instead of hashing every whole prefix again. Keys are two 32-bit lanes stored as
// [lo, hi] pairs in a Uint32Array view of the BigUint64Array the native dedupe reads. Equal
// prefixes of a problem always get equal keys; the update is a bijection of the step hash for a
// fixed parent, so two children of one parent with different steps never collide, and other
// distinct prefixes collide with negligible probability (a 64-bit state, murmur3 mixing).

const LANE_A = 0x243f6a88;
const LANE_B = 0x85a308d3;
let stepA = 0;
let stepB = 0;

/** Two 32-bit hashes of one step into stepA/stepB: a uint32 as itself, anything else by its string. */
function hashStep(step: unknown): void {
  if (typeof step === 'number' && step >>> 0 === step) {
    stepA = step;
    stepB = step ^ LANE_B;
    return;
  }
  if (!hasher) throw new Error('initKeys() must be awaited before extendKeyInto()');
  const s = typeof step === 'string' ? step : String(step);
  stepA = hasher.h32(s, LANE_A);
  stepB = hasher.h32(s, LANE_B);
}

/** Write the key of problem `problem`'s empty prefix at pair i of `out`. */
export function rootKeyInto(out: Uint32Array, i: number, problem: number): void {
  out[2 * i] = fmix32(mixIn(MIX_START ^ LANE_A, problem));
  out[2 * i + 1] = fmix32(mixIn(MIX_START ^ LANE_B, problem));
}

/** Write at pair i of `out` the key of the prefix whose parent's key is the pair at j of `parents`, plus `step`. */
export function extendKeyInto(out: Uint32Array, i: number, parents: Uint32Array, j: number, step: unknown): void {
  hashStep(step);
  const lo = fmix32(mixIn(mixIn(parents[2 * j], stepA), parents[2 * j + 1]));
  out[2 * i] = lo;
  out[2 * i + 1] = fmix32(mixIn(mixIn(parents[2 * j + 1], stepB), lo));
}
