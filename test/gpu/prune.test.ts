// CUDA selectTopK equals the CPU path exactly (tie order included); runs only where the addon
// reports a CUDA device.
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/native/binding.ts';
import { selectTopK, selectTopKAsync } from '../../src/ops/prune.ts';
import { seededUniform as rng } from '../../src/random.ts';

const cuda = backendInfo().cuda;
const reason = cuda.devices > 0 ? 'CUDA device present' : `skipped: no CUDA device (${cuda.compiled ? cuda.error : 'built without CUDA'})`;


describe.skipIf(cuda.devices === 0)(`selectTopK on CUDA (${reason})`, () => {
  it('equals the CPU on short, shared-memory-sized and streamed segments, float32 and float64', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const S = 1 + Math.floor(r() * 60);
      const maxLen = [8, 300, 3000, 9000][seed % 4];
      const offsets = new Uint32Array(S + 1);
      for (let s = 0; s < S; s++) offsets[s + 1] = offsets[s] + Math.floor(r() * (maxLen + 1));
      const n = offsets[S];
      const scores = seed % 2 ? new Float32Array(n) : new Float64Array(n);
      const levels = seed % 3 === 0 ? 0 : 9;
      for (let i = 0; i < n; i++) scores[i] = levels ? Math.floor(r() * levels) / 4 - 1 : r() * 2 - 1;
      const k = 1 + Math.floor(r() * (seed % 5 === 0 ? 1500 : 64));
      const cpu = selectTopK({ scores, offsets, k, device: 'cpu' });
      const gpu = selectTopK({ scores, offsets, k, device: 'cuda' });
      expect(Array.from(gpu.offsets)).toEqual(Array.from(cpu.offsets));
      expect(Array.from(gpu.indices)).toEqual(Array.from(cpu.indices));
      const gpuAsync = await selectTopKAsync({ scores, offsets, k, device: 'cuda' });
      expect(Array.from(gpuAsync.indices)).toEqual(Array.from(cpu.indices));
    }
  });

  it('reports the first non-finite score like the CPU', () => {
    const scores = new Float32Array(5000).fill(0.5);
    scores[4321] = NaN;
    scores[4400] = Infinity;
    const offsets = new Uint32Array([0, 100, 5000]);
    expect(() => selectTopK({ scores, offsets, k: 4, device: 'cuda' })).toThrow('scores[4321] is NaN');
  });
});
