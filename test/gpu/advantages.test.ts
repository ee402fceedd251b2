// CUDA kernels of the advantage ops against the CPU path, through the addon. Runs only where the
// binding reports a CUDA device; elsewhere the core ctest (native/tests/advantages_test.cpp) and a
// skip with the reason in the title.
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/native/binding.ts';
import { bokTransform, denseRewards, effectiveRewards, effectiveRewardsAsync, stepAdvantages } from '../../src/ops/advantages.ts';
import { seededUniform as rng } from '../../src/random.ts';

const cuda = backendInfo().cuda;
const reason = cuda.devices > 0 ? '' : ` (skipped: ${cuda.compiled ? (cuda.error ?? 'no CUDA device') : 'addon built without CUDA'})`;


describe.skipIf(cuda.devices === 0)(`advantage ops: CUDA equals CPU${reason}`, () => {
  for (const Kind of [Float32Array, Float64Array]) {
    it(`${Kind.name}: bit-identical results (same double ops, no FMA contraction)`, async () => {
      const r = rng(3);
      const make = (len: number, g: () => number) =>
        Kind === Float32Array ? Float32Array.from({ length: len }, g) : Float64Array.from({ length: len }, g);
      const T = 50_000;
      const offsets = new Uint32Array(T + 1);
      for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + Math.floor(r() * 8);
      const n = offsets[T];
      const m = 10_007;
      const values = make(n, r);
      const rootValues = make(T, r);
      const parentQ = make(m, r);
      const parentIndex = Uint32Array.from({ length: n }, () => Math.floor(r() * m));
      for (const K of [1, 4, 7]) {
        expect(bokTransform(values, K, { device: 'cuda' })).toEqual(bokTransform(values, K, { device: 'cpu' }));
        const s = { values, offsets, rootValues, K };
        expect(stepAdvantages({ ...s, device: 'cuda' })).toEqual(stepAdvantages({ ...s, device: 'cpu' }));
        const d = { ...s, outcomes: make(T, () => (r() < 0.5 ? 1 : 0)), alpha: 3, baselines: make(n, r) };
        expect(denseRewards({ ...d, device: 'cuda' })).toEqual(denseRewards({ ...d, device: 'cpu' }));
        const e = { q: values, parentIndex, parentQ, alpha: 0.5, K };
        expect(effectiveRewards({ ...e, device: 'cuda' })).toEqual(effectiveRewards({ ...e, device: 'cpu' }));
        expect(await effectiveRewardsAsync({ ...e, device: 'cuda' })).toEqual(effectiveRewards({ ...e, device: 'cpu' }));
      }
    });
  }

  it('validates on the CPU before launch, with the same error', () => {
    const o = { q: new Float32Array([0.5, 0.5]), parentIndex: new Uint32Array([0, 5]), parentQ: new Float32Array([0.5]), alpha: 1 };
    expect(() => effectiveRewards({ ...o, device: 'cuda' })).toThrow('parentIndex[1] = 5 is out of range for parentQ (length 1)');
  });
});
