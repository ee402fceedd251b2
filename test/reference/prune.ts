// Plain, obviously-correct TypeScript selectTopK: a comparator sort per segment, a Map for dedupe
// and groups, and the same counter-based Gumbel keys as native/core/prune.cpp, bit for bit.

export interface RefSelectOptions {
  scores: ArrayLike<number>;
  offsets: ArrayLike<number>;
  k: number;
  keys?: ArrayLike<bigint>;
  groups?: ArrayLike<number>;
  sample?: { temperature: number; seed: number };
}

export interface RefSelectResult {
  indices: number[];
  offsets: number[];
}

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/** native/core/rng.h mix64 (SplitMix64's finalizer). */
export function mix64(z: bigint): bigint {
  z &= M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/** rng::stream_key(seed, a, b). */
export function streamKey(seed: bigint, a: bigint, b = 0n): bigint {
  let k = mix64(seed + GOLDEN);
  k = mix64(k ^ ((a + 0x632be59bd9b4e019n) & M64));
  k = mix64(k ^ ((b + 0x8cb92ba72f3d8dd7n) & M64));
  return k;
}

/** rng::draw(key, counter) then rng::to_open_unit: uniform in (0, 1). */
export function openUnit(key: bigint, counter: bigint): number {
  const x = mix64(key + (counter + 1n) * GOLDEN);
  return (Number(x >> 11n) + 0.5) * 2 ** -53;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian: u32[1] is the high word

/** fdlibm's log kernel with basic IEEE operations only (select_portable_log in prune.cpp). */
export function portableLog(x: number): number {
  f64[0] = x;
  let k = 0;
  if ((u32[1] >>> 20) === 0) {
    f64[0] = x * 18014398509481984.0; // 2^54: subnormals into the normal range
    k = -54;
  }
  k += ((u32[1] >>> 20) & 0x7ff) - 1023;
  u32[1] = (u32[1] & 0x000fffff) | 0x3ff00000;
  let m = f64[0];
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    k += 1;
  }
  const Lg1 = 6.66666666666673513e-1, Lg2 = 3.999999999940941908e-1, Lg3 = 2.857142874366239149e-1;
  const Lg4 = 2.222219843214978396e-1, Lg5 = 1.818357216161805012e-1, Lg6 = 1.531383769920937332e-1;
  const Lg7 = 1.479819860511658591e-1;
  const ln2Hi = 6.9314718036912381649e-1, ln2Lo = 1.90821492927058770002e-10;
  const f = m - 1.0;
  const s = f / (2.0 + f);
  const dk = k;
  const z = s * s;
  const w = z * z;
  const t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const R = t2 + t1;
  const hfsq = 0.5 * f * f;
  return dk * ln2Hi - ((hfsq - (s * (hfsq + R) + dk * ln2Lo)) - f);
}

const PRUNE_STREAM = 0x7072756e65n; // "prune"

/** select_gumbel_key: score / T - log(-log(u)), u from (seed, global index). */
export function gumbelKey(score: number, temperature: number, seed: number, index: number): number {
  const u = openUnit(streamKey(BigInt(seed), PRUNE_STREAM), BigInt(index));
  const g = -portableLog(-portableLog(u));
  return score / temperature + g;
}

export function selectTopKRef(o: RefSelectOptions): RefSelectResult {
  const indices: number[] = [];
  const offsets = [0];
  const S = o.offsets.length - 1;
  for (let s = 0; s < S; s++) {
    const lo = o.offsets[s];
    const hi = o.offsets[s + 1];
    const key = (i: number) =>
      o.sample ? gumbelKey(o.scores[i], o.sample.temperature, o.sample.seed, i) : o.scores[i];
    const keyOf = new Map<number, number>();
    for (let i = lo; i < hi; i++) keyOf.set(i, key(i));
    // -0 === 0 in JS, so -0 and +0 tie, as in the native order.
    const better = (a: number, b: number) => {
      const ka = keyOf.get(a)!;
      const kb = keyOf.get(b)!;
      if (ka > kb) return -1;
      if (ka < kb) return 1;
      return a - b;
    };
    let cand: number[] = [];
    if (o.keys) {
      const best = new Map<bigint, number>();
      for (let i = lo; i < hi; i++) {
        const cur = best.get(o.keys[i]);
        if (cur === undefined || better(i, cur) < 0) best.set(o.keys[i], i);
      }
      cand = [...best.values()];
    } else {
      for (let i = lo; i < hi; i++) cand.push(i);
    }
    const byGroup = new Map<number, number[]>();
    for (const i of cand) {
      const g = o.groups ? o.groups[i] : 0;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(i);
    }
    for (const g of [...byGroup.keys()].sort((a, b) => a - b)) {
      const list = byGroup.get(g)!.sort(better);
      indices.push(...list.slice(0, o.k));
    }
    offsets.push(indices.length);
  }
  return { indices, offsets };
}
