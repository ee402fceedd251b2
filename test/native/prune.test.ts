// Native selectTopK against the plain TypeScript reference on seeded random inputs: exact equality
// for top-k, dedupe, groups and Gumbel sampling (float32 and float64, sync and async, any thread
// count), sampling statistics, typed errors, and a call from a worker thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { selectTopK, selectTopKAsync, type SelectTopKOptions } from '../../src/ops/prune.ts';
import { addonCandidates, backendInfo } from '../../src/native/binding.ts';
import { existsSync } from 'node:fs';
import { gumbelKey, portableLog, selectTopKRef } from '../reference/prune.ts';
import { seededUniform as rng } from '../../src/random.ts';


interface Case {
  opts: SelectTopKOptions;
  label: string;
}

function randomCase(seed: number, extra: { keys?: boolean; groups?: boolean; sample?: boolean } = {}): Case {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const S = 1 + int(30);
  const maxLen = [0, 3, 20, 90, 400][int(5)];
  const offsets = new Uint32Array(S + 1);
  for (let s = 0; s < S; s++) offsets[s + 1] = offsets[s] + int(maxLen + 1);
  const n = offsets[S];
  const f64 = r() < 0.5;
  const scores = f64 ? new Float64Array(n) : new Float32Array(n);
  const levels = [0, 2, 5, 17][int(4)]; // 0: continuous, else quantised (many ties)
  for (let i = 0; i < n; i++) {
    const v = levels ? (int(levels) - (levels >> 1)) / 4 : (r() * 2 - 1) * (r() < 0.5 ? 1 : 1e-30);
    scores[i] = r() < 0.05 ? -v : v; // -0 appears next to +0
  }
  const k = 1 + int(r() < 0.5 ? 6 : 120);
  const opts: SelectTopKOptions = { scores, offsets, k, device: 'cpu' };
  if (extra.keys) {
    const space = 1 + int(30);
    opts.keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) opts.keys[i] = BigInt(int(space)) << 40n;
  }
  if (extra.groups) {
    const space = 1 + int(6);
    opts.groups = new Uint32Array(n);
    for (let i = 0; i < n; i++) opts.groups[i] = r() < 0.1 ? int(2 ** 32) : int(space) * 977;
  }
  if (extra.sample) opts.sample = { temperature: [0.05, 0.5, 1, 3][int(4)], seed: int(2 ** 40) };
  return { opts, label: `seed ${seed} ${f64 ? 'f64' : 'f32'} S=${S} n=${n} k=${k} levels=${levels}` };
}

function expectRef(opts: SelectTopKOptions, got: { indices: Uint32Array; offsets: Uint32Array }, label: string) {
  const want = selectTopKRef(opts);
  expect(Array.from(got.offsets), label).toEqual(want.offsets);
  expect(Array.from(got.indices), label).toEqual(want.indices);
}

describe('selectTopK', () => {
  it('keeps the k best per segment, ties by lower index, -0 equal to +0', () => {
    const r = selectTopK({
      scores: new Float32Array([0.1, 0.5, 0.5, 0.9, -0, 0, 3, -1]),
      offsets: new Uint32Array([0, 6, 6, 8]),
      k: 3,
    });
    expect(Array.from(r.indices)).toEqual([3, 1, 2, 6, 7]);
    expect(Array.from(r.offsets)).toEqual([0, 3, 3, 5]);
    const z = selectTopK({ scores: new Float64Array([-0, 0, -0]), offsets: new Uint32Array([0, 3]), k: 2 });
    expect(Array.from(z.indices)).toEqual([0, 1]);
  });

  it('dedupes keys and keeps k per group, groups by ascending id', () => {
    const scores = new Float32Array([5, 4, 3, 2, 1, 0]);
    const offsets = new Uint32Array([0, 6]);
    const keys = new BigUint64Array([1n, 1n, 2n, 3n, 3n, 4n]);
    const groups = new Uint32Array([9, 9, 2, 9, 2, 2]);
    expect(Array.from(selectTopK({ scores, offsets, k: 3, keys }).indices)).toEqual([0, 2, 3]);
    expect(Array.from(selectTopK({ scores, offsets, k: 1, groups }).indices)).toEqual([2, 0]);
    expect(Array.from(selectTopK({ scores, offsets, k: 2, keys, groups }).indices)).toEqual([2, 5, 0, 3]);
  });

  it('equals the reference exactly on random inputs (plain, keys, groups, both; sync and async)', async () => {
    const modes = [{}, { keys: true }, { groups: true }, { keys: true, groups: true }];
    for (let seed = 1; seed <= 240; seed++) {
      const { opts, label } = randomCase(seed, modes[seed % 4]);
      const sync = selectTopK(opts);
      expectRef(opts, sync, label);
      if (seed % 8 === 0) {
        const a = await selectTopKAsync({ ...opts, threads: 3 });
        expect(Array.from(a.indices), label).toEqual(Array.from(sync.indices));
        expect(Array.from(a.offsets), label).toEqual(Array.from(sync.offsets));
      }
    }
  });

  it('the Gumbel keys and the portable log agree with the native build bit for bit', () => {
    // Sampling results are compared exactly below; here, the log is also a good log.
    const r = rng(5);
    for (let i = 0; i < 2000; i++) {
      const x = r() * 2 ** (Math.floor(r() * 60) - 30) + 1e-300;
      expect(Math.abs(portableLog(x) - Math.log(x))).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(Math.log(x))));
    }
    expect(Number.isFinite(gumbelKey(1, 0.5, 7, 3))).toBe(true);
  });

  it('samples exactly like the reference, reproducibly and independently of threads', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const { opts, label } = randomCase(1000 + seed, { sample: true, keys: seed % 3 === 0, groups: seed % 4 === 0 });
      const a = selectTopK(opts);
      expectRef(opts, a, label);
      const b = selectTopK(opts);
      expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
      const c = await selectTopKAsync({ ...opts, threads: 4 });
      expect(Array.from(c.indices)).toEqual(Array.from(a.indices));
    }
  });

  it('sampling frequencies follow softmax(score / T) and seeds change the draw', () => {
    const base = [1.0, 0.5, 0.0, -1.0];
    const T = 0.7;
    const P = 4000; // 4000 independent segments of 4 candidates, k = 1, one call
    const scores = new Float64Array(P * 4);
    for (let p = 0; p < P; p++) scores.set(base, p * 4);
    const offsets = new Uint32Array(P + 1).map((_, i) => i * 4);
    const hits = [0, 0, 0, 0];
    const r = selectTopK({ scores, offsets, k: 1, sample: { temperature: T, seed: 42 } });
    for (const i of r.indices) hits[i % 4]++;
    const z = base.reduce((acc, s) => acc + Math.exp(s / T), 0);
    base.forEach((s, i) => {
      const p = Math.exp(s / T) / z;
      const sd = Math.sqrt((p * (1 - p)) / P);
      expect(Math.abs(hits[i] / P - p)).toBeLessThan(5 * sd);
    });
    const other = selectTopK({ scores, offsets, k: 1, sample: { temperature: T, seed: 43 } });
    expect(Array.from(other.indices)).not.toEqual(Array.from(r.indices));
    // k = all: a full random permutation per segment, still a permutation of the segment.
    const all = selectTopK({ scores, offsets, k: 4, sample: { temperature: T, seed: 1 } });
    for (let p = 0; p < 10; p++) expect([...all.indices.slice(p * 4, p * 4 + 4)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3].map((x) => x + p * 4));
  });

  it('large batches give identical results for any thread count (sync and async)', async () => {
    const S = 4096;
    const L = 96;
    const r = rng(77);
    const scores = new Float32Array(S * L).map(() => Math.round(r() * 50) / 50);
    const offsets = new Uint32Array(S + 1).map((_, i) => i * L);
    const one = selectTopK({ scores, offsets, k: 16, threads: 1 });
    const many = selectTopK({ scores, offsets, k: 16, threads: 4 });
    const auto = await selectTopKAsync({ scores, offsets, k: 16 });
    expect(Array.from(many.indices)).toEqual(Array.from(one.indices));
    expect(Array.from(auto.indices)).toEqual(Array.from(one.indices));
    expectRef({ scores, offsets, k: 16 }, one, 'large');
  });

  it('reports bad input with typed errors (sync throws, async rejects)', async () => {
    const scores = new Float32Array(20).fill(1);
    scores[17] = NaN;
    const offsets = new Uint32Array([0, 10, 20]);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('did not throw');
    };
    let e = err(() => selectTopK({ scores, offsets, k: 2 }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe('ERR_PAV_NON_FINITE');
    expect(e.message).toBe('scores[17] is NaN');
    await expect(selectTopKAsync({ scores, offsets, k: 2 })).rejects.toMatchObject({
      code: 'ERR_PAV_NON_FINITE',
      message: 'scores[17] is NaN',
    });
    scores[17] = 0;
    for (const k of [0, -1, 1.5, NaN, Infinity]) {
      e = err(() => selectTopK({ scores, offsets, k }));
      expect(e).toBeInstanceOf(RangeError);
      expect(e.code).toBe('ERR_PAV_INVALID_ARG');
    }
    e = err(() => selectTopK({ scores, offsets, k: '2' as unknown as number }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_PAV_INVALID_TYPE');
    e = err(() => selectTopK({ scores, offsets: new Uint32Array([0, 21]), k: 2 }));
    expect(e.code).toBe('ERR_PAV_BAD_OFFSETS');
    e = err(() => selectTopK({ scores, offsets, k: 2, keys: new BigUint64Array(19) }));
    expect(e.code).toBe('ERR_PAV_LENGTH_MISMATCH');
    e = err(() => selectTopK({ scores, offsets, k: 2, groups: new Uint32Array(21) }));
    expect(e.code).toBe('ERR_PAV_LENGTH_MISMATCH');
    e = err(() => selectTopK({ scores: [1, 2] as unknown as Float32Array, offsets, k: 2 }));
    expect(e).toBeInstanceOf(TypeError);
    e = err(() => selectTopK({ scores, offsets: new Int32Array(3) as unknown as Uint32Array, k: 2 }));
    expect(e.code).toBe('ERR_PAV_INVALID_TYPE');
    e = err(() => selectTopK({ scores, offsets, k: 2, keys: new BigInt64Array(20) as unknown as BigUint64Array }));
    expect(e.code).toBe('ERR_PAV_INVALID_TYPE');
    e = err(() => selectTopK({ scores, offsets, k: 2, sample: { temperature: 0, seed: 1 } }));
    expect(e.code).toBe('ERR_PAV_INVALID_ARG');
    e = err(() => selectTopK({ scores, offsets, k: 2, sample: { temperature: NaN, seed: 1 } }));
    expect(e.code).toBe('ERR_PAV_NON_FINITE');
    e = err(() => selectTopK({ scores, offsets, k: 2, sample: { temperature: 1, seed: -1 } }));
    expect(e.code).toBe('ERR_PAV_INVALID_ARG');
    // keys / groups / sample run on CUDA too (test/gpu/ops_cuda.test.ts); without a device, 'cuda' is refused.
    if (backendInfo().cuda.devices === 0) {
      e = err(() => selectTopK({ scores, offsets, k: 2, keys: new BigUint64Array(20), device: 'cuda' }));
      expect(e.code).toBe('ERR_PAV_NO_GPU');
    }
    e = err(() => selectTopK({ scores, offsets, k: 2, device: 'gpu' as 'cuda' }));
    expect(e).toBeInstanceOf(TypeError);
    await expect(selectTopKAsync({ scores, offsets, k: 0 })).rejects.toMatchObject({ code: 'ERR_PAV_INVALID_ARG' });
  });

  it('handles empty inputs, empty segments and k beyond every segment', () => {
    const e = selectTopK({ scores: new Float32Array(0), offsets: new Uint32Array([0]), k: 3 });
    expect(e.indices.length).toBe(0);
    expect(Array.from(e.offsets)).toEqual([0]);
    const s = selectTopK({ scores: new Float64Array([1, 2, 3]), offsets: new Uint32Array([0, 0, 3, 3]), k: 2 ** 40 });
    expect(Array.from(s.indices)).toEqual([2, 1, 0]);
    expect(Array.from(s.offsets)).toEqual([0, 0, 3, 3]);
  });

  it('works inside a worker thread', async () => {
    const path = addonCandidates().find((p) => existsSync(p));
    expect(path).toBeTruthy();
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData);
      const r = b.selectTopK({ scores: new Float32Array([1, 3, 2]), offsets: new Uint32Array([0, 3]), k: 2, device: 'cpu' });
      b.selectTopKAsync({ scores: new Float32Array([1, 3, 2]), offsets: new Uint32Array([0, 3]), k: 1, device: 'cpu' })
        .then((a) => parentPort.postMessage([Array.from(r.indices), Array.from(a.indices)]));`;
    const w = new Worker(code, { eval: true, workerData: path });
    const msg = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toEqual([[1, 2], [1]]);
  });
});
