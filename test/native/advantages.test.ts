// Native advantage and aggregate ops against the plain TypeScript oracle on seeded random
// inputs (float32 and float64, sync and async), plus the paper's within-parent ranking invariant.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  aggregateSteps,
  aggregateStepsAsync,
  bokTransform,
  bokTransformAsync,
  denseRewards,
  denseRewardsAsync,
  effectiveRewards,
  effectiveRewardsAsync,
  expandToTokens,
  expandToTokensAsync,
  stepAdvantages,
  stepAdvantagesAsync,
} from '../../src/ops/advantages.ts';
import { backendInfo } from '../../src/native/binding.ts';
import * as ref from '../reference/advantages.ts';
import { seededRandom as rng } from '../../src/random.ts';

type FA = Float32Array | Float64Array;
type Kind = 'f32' | 'f64';


const make = (kind: Kind, n: number, f: (i: number) => number): FA =>
  kind === 'f32' ? Float32Array.from({ length: n }, (_, i) => f(i)) : Float64Array.from({ length: n }, (_, i) => f(i));

function randomOffsets(r: ReturnType<typeof rng>, T: number, maxLen: number): Uint32Array {
  const o = new Uint32Array(T + 1);
  for (let t = 0; t < T; t++) o[t + 1] = o[t] + r.int(maxLen + 1); // includes empty trajectories
  return o;
}

function expectClose(actual: FA, expected: FA) {
  expect(actual.constructor).toBe(expected.constructor);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i],
      b = expected[i];
    if (!(Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12))
      throw new Error(`index ${i}: native ${a} vs reference ${b}`);
  }
}

const kinds: Kind[] = ['f32', 'f64'];
const Ks = [1, 2, 3, 4, 8, 13];

describe.each(kinds)('advantage ops match the reference (%s)', (kind) => {
  it('bokTransform, sync and async', async () => {
    const r = rng(1);
    for (const K of Ks) {
      const q = make(kind, 1 + r.int(3000), () => (r.next() < 0.05 ? r.int(2) : r.next()));
      expectClose(bokTransform(q, K, { device: 'cpu' }), ref.bokTransform(q, K));
      expectClose(await bokTransformAsync(q, K, { device: 'cpu' }), ref.bokTransform(q, K));
    }
    const q = make(kind, 100, () => r.next());
    expect(bokTransform(q, 1)).toEqual(q); // K = 1 is the identity, exactly
  });

  it('stepAdvantages over ragged trajectories', async () => {
    const r = rng(2);
    for (let trial = 0; trial < 20; trial++) {
      const T = r.int(300);
      const offsets = randomOffsets(r, T, 12);
      const values = make(kind, offsets[T], () => r.next());
      const rootValues = make(kind, T, () => r.next());
      const K = Ks[trial % Ks.length];
      const expected = ref.stepAdvantages(values, offsets, rootValues, K);
      expectClose(stepAdvantages({ values, offsets, rootValues, K }), expected);
      expectClose(await stepAdvantagesAsync({ values, offsets, rootValues, K }), expected);
    }
  });

  it('effectiveRewards with a BoK prover and with explicit prover values', async () => {
    const r = rng(3);
    for (let trial = 0; trial < 24; trial++) {
      const m = 1 + r.int(200);
      const n = r.int(4000);
      const q = make(kind, n, () => r.next());
      const parentQ = make(kind, m, () => r.next());
      const parentIndex = Uint32Array.from({ length: n }, () => r.int(m));
      const alpha = (r.next() - 0.3) * 6;
      const K = Ks[trial % Ks.length];
      const o = { q, parentIndex, parentQ, alpha, K };
      expectClose(effectiveRewards(o), ref.effectiveRewards(o));
      expectClose(await effectiveRewardsAsync(o), ref.effectiveRewards(o));
      const p = { ...o, proverChild: make(kind, n, () => r.next()), proverParent: make(kind, m, () => r.next()) };
      expectClose(effectiveRewards(p), ref.effectiveRewards(p));
      expectClose(await effectiveRewardsAsync(p), ref.effectiveRewards(p));
    }
  });

  it('effectiveRewards writes into a caller-owned out array', async () => {
    const r = rng(9);
    const n = 500;
    const o = { q: make(kind, n, () => r.next()), parentIndex: Uint32Array.from({ length: n }, () => r.int(7)), parentQ: make(kind, 7, () => r.next()), alpha: 0.5, K: 4 };
    const out = make(kind, n, () => 0);
    expect(effectiveRewards({ ...o, out } as never)).toBe(out);
    expectClose(out, ref.effectiveRewards(o));
    out.fill(0);
    expect(await effectiveRewardsAsync({ ...o, out } as never)).toBe(out);
    expectClose(out, ref.effectiveRewards(o));
    expect(() => effectiveRewards({ ...o, out: o.q } as never)).toThrow(expect.objectContaining({ code: 'ERR_PAV_INVALID_ARG' }));
    expect(() => effectiveRewards({ ...o, out: make(kind, n + 1, () => 0) } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_LENGTH_MISMATCH' }),
    );
  });

  it('K defaults to 4 for effectiveRewards', () => {
    const o = { q: make(kind, 3, (i) => i / 4), parentIndex: new Uint32Array([0, 0, 0]), parentQ: make(kind, 1, () => 0.3), alpha: 0.5 };
    expectClose(effectiveRewards(o), ref.effectiveRewards({ ...o, K: 4 }));
  });

  it('denseRewards and expandToTokens', async () => {
    const r = rng(4);
    for (let trial = 0; trial < 20; trial++) {
      const T = r.int(200);
      const offsets = randomOffsets(r, T, 10);
      const n = offsets[T];
      const o = {
        offsets,
        outcomes: make(kind, T, () => r.int(2)),
        values: make(kind, n, () => r.next()),
        rootValues: make(kind, T, () => r.next()),
        alpha: r.next() * 5,
        K: Ks[trial % Ks.length],
        ...(trial % 2 ? { baselines: make(kind, n, () => r.next() - 0.5) } : {}),
      };
      const w = denseRewards(o);
      expectClose(w, ref.denseRewards(o));
      expectClose(await denseRewardsAsync(o), ref.denseRewards(o));
      const tokenOffsets = randomOffsets(r, n, 6);
      expectClose(expandToTokens({ stepWeights: w, tokenOffsets }), ref.expandToTokens(w, tokenOffsets));
      expectClose(await expandToTokensAsync({ stepWeights: w, tokenOffsets }), ref.expandToTokens(w, tokenOffsets));
    }
  });

  it('aggregateSteps: last, min, prod, mean', async () => {
    const r = rng(5);
    for (const method of ['last', 'min', 'prod', 'mean'] as const) {
      const T = 1 + r.int(300);
      const offsets = new Uint32Array(T + 1);
      for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + 1 + r.int(9);
      const scores = make(kind, offsets[T], () => r.next());
      const expected = ref.aggregateSteps(scores, offsets, method);
      expect(aggregateSteps({ scores, offsets, method })).toEqual(expected); // same order of double ops
      expect(await aggregateStepsAsync({ scores, offsets, method })).toEqual(expected);
    }
  });

  it('aggregateSteps refuses an empty trajectory, naming it', () => {
    const scores = make(kind, 2, () => 0.5);
    expect(() => aggregateSteps({ scores, offsets: new Uint32Array([0, 1, 1, 2]), method: 'mean' })).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_BAD_OFFSETS', message: expect.stringContaining('trajectory 1 is empty') }),
    );
  });
});

describe('paper invariant: a BoK prover with alpha >= 0 keeps the order of siblings', () => {
  it.each(kinds)('children of one parent rank as by q alone (%s)', (kind) => {
    const r = rng(6);
    for (const K of [1, 2, 4, 16, 64]) {
      for (const alpha of [0, 0.2, 0.5, 1, 5]) {
        const m = 64;
        const n = 4096;
        const q = make(kind, n, () => r.next());
        const parentQ = make(kind, m, () => r.next());
        const parentIndex = Uint32Array.from({ length: n }, () => r.int(m));
        const eff = effectiveRewards({ q, parentIndex, parentQ, alpha, K });
        const byParent = new Map<number, number[]>();
        for (let i = 0; i < n; i++) byParent.set(parentIndex[i], [...(byParent.get(parentIndex[i]) ?? []), i]);
        for (const kids of byParent.values()) {
          const byQ = [...kids].sort((a, b) => q[a] - q[b] || a - b);
          const byEff = [...kids].sort((a, b) => eff[a] - eff[b] || q[a] - q[b] || a - b);
          expect(byEff).toEqual(byQ);
        }
      }
    }
  });

  it('but ranks across parents differently from q once alpha > 0', () => {
    // same q, one parent nearly hopeless and one nearly solved: the step out of the hopeless state wins
    const eff = effectiveRewards({
      q: new Float64Array([0.5, 0.5]),
      parentIndex: new Uint32Array([0, 1]),
      parentQ: new Float64Array([0.05, 0.95]),
      alpha: 0.5,
      K: 4,
    });
    expect(eff[0]).toBeGreaterThan(eff[1]);
  });
});

describe('errors are typed and name the argument and index', () => {
  const base = () => ({
    q: new Float64Array([0.1, 0.2, 0.3, 0.4]),
    parentIndex: new Uint32Array([0, 1, 2, 3]),
    parentQ: new Float64Array([0.5, 0.5, 0.5, 0.5]),
    alpha: 0.5,
    K: 4,
  });
  it.each([
    [{ q: new Float64Array([0.1, 0.2, 0.3, 0.4]).fill(NaN, 2, 3) }, RangeError, 'ERR_PAV_NON_FINITE', 'q[2] is NaN'],
    [{ parentIndex: new Uint32Array([0, 1, 2, 9]) }, RangeError, 'ERR_PAV_OUT_OF_RANGE', 'parentIndex[3] = 9 is out of range for parentQ (length 4)'],
    [{ q: new Float64Array([0.1, 1.5, 0.3, 0.4]) }, RangeError, 'ERR_PAV_OUT_OF_RANGE', 'q[1] = 1.5 is outside [0, 1]'],
    [{ parentIndex: new Uint32Array([0, 1]) }, RangeError, 'ERR_PAV_LENGTH_MISMATCH', 'parentIndex has length 2'],
    [{ K: 0 }, RangeError, 'ERR_PAV_INVALID_ARG', 'K'],
    [{ alpha: Infinity }, RangeError, 'ERR_PAV_NON_FINITE', 'alpha'],
    [{ q: [0.1, 0.2, 0.3, 0.4] }, TypeError, 'ERR_PAV_INVALID_TYPE', 'q must be a Float32Array or Float64Array'],
    [{ parentQ: new Float32Array(4) }, TypeError, 'ERR_PAV_INVALID_TYPE', 'parentQ must be a Float64Array like q'],
  ])('effectiveRewards %#', async (patch, Cls, code, message) => {
    const o = { ...base(), ...patch } as Parameters<typeof effectiveRewards>[0];
    const match = expect.objectContaining({ code, message: expect.stringContaining(message) });
    expect(() => effectiveRewards(o)).toThrow(Cls);
    expect(() => effectiveRewards(o)).toThrow(match);
    await expect(effectiveRewardsAsync(o)).rejects.toThrow(match);
  });

  it.skipIf(backendInfo().cuda.devices > 0)('device cuda without a usable device is ERR_PAV_NO_GPU', () => {
    expect(() => bokTransform(new Float32Array([0.5]), 2, { device: 'cuda' })).toThrow(expect.objectContaining({ code: 'ERR_PAV_NO_GPU' }));
  });
});

describe('worker threads', () => {
  it('the ops load and run in a worker (per-environment state, thread-local scratch)', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.path);
      const q = new Float64Array([0.5, 0.25]);
      const r = b.effectiveRewards({ q, parentIndex: new Uint32Array([0, 0]), parentQ: new Float64Array([0.5]), alpha: 0.5, K: 4, device: 'cpu', async: false });
      b.effectiveRewards({ q, parentIndex: new Uint32Array([0, 0]), parentQ: new Float64Array([0.5]), alpha: 0.5, K: 4, device: 'cpu', async: true })
        .then((a) => parentPort.postMessage({ sync: Array.from(r), async: Array.from(a) }));
    `;
    const w = new Worker(code, { eval: true, workerData: { path: backendInfo().path } });
    const msg = await new Promise<{ sync: number[]; async: number[] }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    const expected = Array.from(
      effectiveRewards({ q: new Float64Array([0.5, 0.25]), parentIndex: new Uint32Array([0, 0]), parentQ: new Float64Array([0.5]), alpha: 0.5, K: 4 }),
    );
    expect(msg.sync).toEqual(expected);
    expect(msg.async).toEqual(expected);
  });
});
