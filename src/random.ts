// Seeded randomness for TypeScript-side draws (fault injection, test inputs): pure-rand's
// xoroshiro128+ behind two small shapes. The native core has its own counter-based generator.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** Uniform draws in [0, 1), a pure function of the seed. */
export function seededUniform(seed: number): () => number {
  const g = xoroshiro128plus(seed | 0);
  return () => uniformFloat64(g);
}

export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  const next = seededUniform(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)] };
}
