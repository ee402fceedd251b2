// voteAnswers against the plain TypeScript oracle on seeded random inputs with many ties
// (exact equality: same comparisons, same summation order), plus the documented edge rules.
import { describe, expect, it } from 'vitest';
import { NO_WINNER, voteAnswers, voteAnswersAsync } from '../../src/ops/vote.ts';
import * as vref from '../reference/vote.ts';
import { seededRandom as rng } from '../../src/random.ts';

type Kind = 'f32' | 'f64';


const make = (kind: Kind, n: number, f: (i: number) => number) =>
  kind === 'f32' ? Float32Array.from({ length: n }, (_, i) => f(i)) : Float64Array.from({ length: n }, (_, i) => f(i));

function randomOffsets(r: ReturnType<typeof rng>, T: number, maxLen: number): Uint32Array {
  const o = new Uint32Array(T + 1);
  for (let t = 0; t < T; t++) o[t + 1] = o[t] + r.int(maxLen + 1);
  return o;
}

describe('voteAnswers matches the reference exactly', () => {
  it.each(['majority', 'weighted', 'max'] as const)('%s, float32 and float64 weights, sync and async', async (method) => {
    const r = rng(7);
    for (let trial = 0; trial < 30; trial++) {
      const P = r.int(100);
      const offsets = randomOffsets(r, P, 40);
      const n = offsets[P];
      const distinct = 1 + r.int(8); // few answers: plenty of ties
      const keys = BigUint64Array.from({ length: n }, () => BigInt(r.int(distinct)) * 0x9e3779b97f4a7c15n % 2n ** 64n);
      // coarse weights so weight ties happen too
      const kind: Kind = trial % 2 ? 'f32' : 'f64';
      const weights = make(kind, n, () => r.int(5) / 4);
      for (const w of method === 'majority' ? [undefined, weights] : [weights]) {
        const o = { keys, offsets, method, ...(w ? { weights: w } : {}) };
        const expected = vref.voteAnswers(o);
        expect(voteAnswers(o)).toEqual(expected);
        expect(await voteAnswersAsync(o)).toEqual(expected);
      }
    }
  });

  it('an empty problem has no winner and score 0', () => {
    const res = voteAnswers({ keys: new BigUint64Array([5n]), offsets: new Uint32Array([0, 0, 1]) });
    expect(Array.from(res.winner)).toEqual([NO_WINNER, 0]);
    expect(Array.from(res.score)).toEqual([0, 1]);
  });

  it('weighted and max need weights', () => {
    expect(() => voteAnswers({ keys: new BigUint64Array([1n]), offsets: new Uint32Array([0, 1]), method: 'weighted' })).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_INVALID_ARG' }),
    );
  });
});

describe('voteAnswers edge rules', () => {
  it('ties: count, then weight sum (majority), then first appearance; representative = best weight, lowest index', () => {
    // answers 7 and 9 both have 2 votes; 9 has the larger weight sum; its best candidate is index 3
    const keys = new BigUint64Array([7n, 9n, 7n, 9n]);
    const offsets = new Uint32Array([0, 4]);
    const weights = new Float64Array([0.5, 0.25, 0.5, 0.8]);
    expect(voteAnswers({ keys, offsets, weights })).toEqual({ winner: new Uint32Array([3]), score: new Float64Array([2]) });
    expect(voteAnswers({ keys, offsets })).toEqual({ winner: new Uint32Array([0]), score: new Float64Array([2]) });
    const eq = new Float64Array([0.5, 0.5, 0.5, 0.5]);
    expect(voteAnswers({ keys, offsets, weights: eq, method: 'weighted' }).winner).toEqual(new Uint32Array([0]));
  });

  it('keys are compared as full 64-bit values', () => {
    const keys = new BigUint64Array([1n, (1n << 63n) | 1n, (1n << 63n) | 1n]);
    expect(voteAnswers({ keys, offsets: new Uint32Array([0, 3]) }).winner).toEqual(new Uint32Array([1]));
  });

  it('a large problem with many distinct answers matches the reference', () => {
    const r = rng(8);
    const n = 50_000;
    const keys = BigUint64Array.from({ length: n }, () => BigInt(r.int(3000)) << BigInt(r.int(40)));
    const weights = make('f64', n, () => r.next());
    const offsets = new Uint32Array([0, 20_000, 20_000, n]);
    for (const method of ['majority', 'weighted', 'max'] as const)
      expect(voteAnswers({ keys, weights, offsets, method })).toEqual(vref.voteAnswers({ keys, weights, offsets, method }));
  });
});
