// CUDA paths of aggregateSteps, expandToTokens, voteAnswers and selectTopK with keys / groups /
// sample, against the CPU path through the facades: identical outputs, bit for bit (every kernel
// runs the CPU's double operations in the CPU's order; no tolerance is needed or allowed).
// Runs only where the addon reports a CUDA device; elsewhere the suite is skipped with the reason
// in its title, and the no-device block checks that device 'cuda' is refused with ERR_PAV_NO_GPU.
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/native/binding.ts';
import { aggregateSteps, aggregateStepsAsync } from '../../src/ops/aggregate.ts';
import { expandToTokens, expandToTokensAsync } from '../../src/ops/advantages.ts';
import { selectTopK, selectTopKAsync } from '../../src/ops/prune.ts';
import { voteAnswers, voteAnswersAsync } from '../../src/ops/vote.ts';
import { seededUniform as rng } from '../../src/random.ts';

const cuda = backendInfo().cuda;
const why = cuda.compiled ? (cuda.error ?? 'no CUDA device') : 'addon built without CUDA';
const reason = cuda.devices > 0 ? 'CUDA device present' : `skipped: no CUDA device (${why})`;


function csr(r: () => number, rows: number, minLen: number, maxLen: number): Uint32Array {
  const o = new Uint32Array(rows + 1);
  for (let i = 0; i < rows; i++) o[i + 1] = o[i] + minLen + Math.floor(r() * (maxLen - minLen + 1));
  return o;
}

const kinds = [Float32Array, Float64Array] as const;
const make = (Kind: (typeof kinds)[number], n: number, g: () => number) =>
  Kind === Float32Array ? Float32Array.from({ length: n }, g) : Float64Array.from({ length: n }, g);

describe.skipIf(cuda.devices === 0)(`aggregate / expand / vote / selectTopK options on CUDA equal the CPU (${reason})`, () => {
  for (const Kind of kinds) {
    it(`${Kind.name}: aggregateSteps, every method, bit-identical`, async () => {
      const r = rng(31);
      const offsets = csr(r, 20_000, 1, 40);
      const scores = make(Kind, offsets[offsets.length - 1], () => (r() < 0.3 ? Math.floor(r() * 4) / 4 : r() * 2 - 1));
      for (const method of ['last', 'min', 'prod', 'mean'] as const) {
        const cpu = aggregateSteps({ scores, offsets, method, device: 'cpu' });
        expect(aggregateSteps({ scores, offsets, method, device: 'cuda' })).toEqual(cpu);
        expect(await aggregateStepsAsync({ scores, offsets, method, device: 'cuda' })).toEqual(cpu);
      }
    });

    it(`${Kind.name}: expandToTokens, empty steps included`, async () => {
      const r = rng(32);
      const tokenOffsets = csr(r, 30_000, 0, 50);
      const stepWeights = make(Kind, 30_000, () => r() * 6 - 3);
      const cpu = expandToTokens({ stepWeights, tokenOffsets, device: 'cpu' });
      expect(expandToTokens({ stepWeights, tokenOffsets, device: 'cuda' })).toEqual(cpu);
      expect(await expandToTokensAsync({ stepWeights, tokenOffsets, device: 'cuda' })).toEqual(cpu);
    });

    it(`${Kind.name}: voteAnswers, every method, with problems past the device size limit`, async () => {
      const r = rng(33);
      const small = csr(r, 2000, 0, 40);
      // Two problems above 4096 candidates run on the CPU inside the CUDA call.
      const offsets = new Uint32Array(small.length + 2);
      offsets.set(small);
      offsets[small.length] = small[small.length - 1] + 4097;
      offsets[small.length + 1] = offsets[small.length] + 7000;
      const n = offsets[offsets.length - 1];
      const keys = BigUint64Array.from({ length: n }, () => BigInt(Math.floor(r() * 5)) * 0x9e3779b97f4a7c15n % 2n ** 64n);
      const weights = make(Kind, n, () => (r() < 0.5 ? Math.floor(r() * 3) : r() * 2 - 1));
      for (const method of ['majority', 'weighted', 'max'] as const) {
        const cpu = voteAnswers({ keys, weights, offsets, method, device: 'cpu' });
        expect(voteAnswers({ keys, weights, offsets, method, device: 'cuda' })).toEqual(cpu);
        expect(await voteAnswersAsync({ keys, weights, offsets, method, device: 'cuda' })).toEqual(cpu);
      }
      expect(voteAnswers({ keys, offsets, device: 'cuda' })).toEqual(voteAnswers({ keys, offsets, device: 'cpu' }));
    });
  }

  it('selectTopK with keys, groups and sample equals the CPU on short, cap-sized and long segments', async () => {
    for (let seed = 1; seed <= 24; seed++) {
      const r = rng(100 + seed);
      const maxLen = [10, 300, 2048, 5000][seed % 4];
      const offsets = csr(r, 1 + Math.floor(r() * 30), 0, maxLen);
      const n = offsets[offsets.length - 1];
      const scores = make(seed % 2 ? Float32Array : Float64Array, n, () =>
        seed % 3 === 0 ? Math.floor(r() * 5) / 4 - 0.5 : r() * 2 - 1,
      );
      const keys = BigUint64Array.from({ length: n }, () => BigInt(Math.floor(r() * (1 + (seed % 11)))));
      const groups = Uint32Array.from({ length: n }, () => Math.floor(r() * (1 + (seed % 4))) * 1000);
      const k = 1 + Math.floor(r() * (seed % 5 === 0 ? 600 : 8));
      for (let mode = 1; mode < 8; mode++) {
        const o = {
          scores,
          offsets,
          k,
          ...(mode & 1 ? { keys } : {}),
          ...(mode & 2 ? { groups } : {}),
          ...(mode & 4 ? { sample: { temperature: seed % 2 ? 0.5 : 3, seed: seed * 7919 } } : {}),
        };
        const cpu = selectTopK({ ...o, device: 'cpu' });
        const gpu = selectTopK({ ...o, device: 'cuda' });
        expect(Array.from(gpu.offsets), `seed ${seed} mode ${mode}`).toEqual(Array.from(cpu.offsets));
        expect(Array.from(gpu.indices), `seed ${seed} mode ${mode}`).toEqual(Array.from(cpu.indices));
        if (mode === 7) {
          const a = await selectTopKAsync({ ...o, device: 'cuda' });
          expect(Array.from(a.indices)).toEqual(Array.from(cpu.indices));
        }
      }
    }
  });

  it('validates on the CPU before launch, with the CPU error', () => {
    const scores = new Float32Array(3000).fill(0.5);
    scores[2100] = NaN;
    const offsets = new Uint32Array([0, 1000, 3000]);
    const keys = new BigUint64Array(3000);
    expect(() => selectTopK({ scores, offsets, k: 4, keys, device: 'cuda' })).toThrow('scores[2100] is NaN');
    expect(() =>
      aggregateSteps({ scores: new Float64Array([1, 2]), offsets: new Uint32Array([0, 0, 2]), device: 'cuda' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PAV_BAD_OFFSETS' }));
    expect(() =>
      voteAnswers({ keys: new BigUint64Array(2), offsets: new Uint32Array([0, 2]), method: 'max', device: 'cuda' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PAV_INVALID_ARG' }));
  });
});

describe.skipIf(cuda.devices > 0)(`without a CUDA device, device 'cuda' is refused (${cuda.devices > 0 ? 'skipped: a device is present' : why})`, () => {
  it('every op throws ERR_PAV_NO_GPU; the same call with device cpu or auto runs', () => {
    const noGpu = expect.objectContaining({ code: 'ERR_PAV_NO_GPU' });
    const scores = new Float64Array([0.2, 0.9, 0.4, 0.4]);
    const offsets = new Uint32Array([0, 2, 4]);
    const keys = new BigUint64Array([1n, 2n, 1n, 1n]);
    expect(() => aggregateSteps({ scores, offsets, method: 'mean', device: 'cuda' })).toThrow(noGpu);
    expect(() => expandToTokens({ stepWeights: scores, tokenOffsets: new Uint32Array([0, 1, 2, 3, 4]), device: 'cuda' })).toThrow(noGpu);
    expect(() => voteAnswers({ keys, offsets, device: 'cuda' })).toThrow(noGpu);
    for (const extra of [{ keys }, { groups: new Uint32Array(4) }, { sample: { temperature: 1, seed: 1 } }])
      expect(() => selectTopK({ scores, offsets, k: 1, ...extra, device: 'cuda' })).toThrow(noGpu);
    expect(Array.from(aggregateSteps({ scores, offsets, method: 'min', device: 'auto' }))).toEqual([0.2, 0.4]);
    expect(Array.from(voteAnswers({ keys, offsets, device: 'cpu' }).winner)).toEqual([0, 2]);
    expect(Array.from(selectTopK({ scores, offsets, k: 1, keys }).indices)).toEqual([1, 2]);
  });
});
