// The Rewards API against a hand computation: both forms, per-step (not summed future) advantages,
// baselines, per-token expansion, float32, typed errors naming the field, and the verifier path.
import { describe, expect, it } from 'vitest';
import { computeRewards, computeRewardsWithVerifier } from '../../src/rl/rewards.ts';
import { OracleVerifier } from '../../src/toy/backends.ts';
import { paperTask, ProblemTable } from '../../src/toy/task.ts';
import { startValues, valuePrefixes } from '../../src/toy/oracle.ts';
import type { VerifierBackend } from '../../src/search/backends.ts';

// Two trajectories: 3 steps then 2 steps.
const offsets = Uint32Array.from([0, 3, 5]);
const outcomes = Float64Array.from([1, 0]);
const root = Float64Array.from([0.2, 0.5]);
const values = Float64Array.from([0.3, 0.25, 0.9, 0.4, 0.1]);
const qpi = Float64Array.from([0.6, 0.5, 1, 0.3, 0]);
const base = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5]);
// A^mu by hand: each step's value minus the value before it.
const A = [0.3 - 0.2, 0.25 - 0.3, 0.9 - 0.25, 0.4 - 0.5, 0.1 - 0.4];
const traj = [0, 0, 0, 1, 1];

describe('computeRewards', () => {
  it("form 'outcome': R(y) + alpha * A^mu - baseline, each step its own advantage", () => {
    const r = computeRewards({ offsets, outcomes, proverValues: values, proverRootValues: root, baselines: base }, { form: 'outcome', alpha: 2 });
    A.forEach((a, i) => {
      expect(r.advantages![i]).toBeCloseTo(a, 14);
      expect(r.stepWeights[i]).toBeCloseTo(outcomes[traj[i]] + 2 * a - base[i], 14);
    });
    // Not the sum of future advantages (which would be value(last) - value(before step)).
    const future0 = 0.9 - 0.2;
    expect(Math.abs(r.stepWeights[0] - (1 + 2 * future0 - 0.1))).toBeGreaterThan(0.5);
    expect(r.form).toBe('outcome');
    expect(r.tokenWeights).toBeUndefined();
  });

  it("form 'q-pi': Q^pi(s_h, a_h) + alpha * A^mu (- baseline), per token through tokenOffsets", () => {
    const tokenOffsets = Uint32Array.from([0, 2, 3, 3, 6, 7]); // steps of 2, 1, 0, 3, 1 tokens
    const r = computeRewards(
      { offsets, outcomes, proverValues: values, proverRootValues: root, policyValues: qpi, tokenOffsets },
      { form: 'q-pi', alpha: 1 },
    );
    A.forEach((a, i) => expect(r.stepWeights[i]).toBeCloseTo(qpi[i] + a, 14));
    const expected = [0, 0, 1, 3, 3, 3, 4].map((s) => r.stepWeights[s]);
    expect(Array.from(r.tokenWeights!)).toEqual(expected);
    expect(r.tokenOffsets).toBe(tokenOffsets);
    const withBase = computeRewards(
      { offsets, outcomes, proverValues: values, proverRootValues: root, policyValues: qpi, baselines: base },
      { form: 'q-pi', alpha: 1 },
    );
    A.forEach((a, i) => expect(withBase.stepWeights[i]).toBeCloseTo(qpi[i] + a - base[i], 14));
  });

  it('alpha = 0 is outcome-only; K applies Best-of-K to the prover values first', () => {
    const r0 = computeRewards({ offsets, outcomes, proverValues: values, proverRootValues: root }, { form: 'outcome', alpha: 0 });
    expect(Array.from(r0.stepWeights)).toEqual([1, 1, 1, 0, 0]);
    const rk = computeRewards({ offsets, outcomes, proverValues: values, proverRootValues: root }, { form: 'outcome', alpha: 1, K: 4 });
    const bok = (q: number) => 1 - (1 - q) ** 4;
    expect(rk.stepWeights[1]).toBeCloseTo(1 + bok(0.25) - bok(0.3), 14);
    expect(rk.stepWeights[3]).toBeCloseTo(0 + bok(0.4) - bok(0.5), 14);
  });

  it('float32 in, float32 out', () => {
    const f = (a: Float64Array) => Float32Array.from(a);
    const r = computeRewards(
      { offsets, outcomes: f(outcomes), proverValues: f(values), proverRootValues: f(root), policyValues: f(qpi) },
      { form: 'q-pi', alpha: 1 },
    );
    expect(r.stepWeights).toBeInstanceOf(Float32Array);
    A.forEach((a, i) => expect(r.stepWeights[i]).toBeCloseTo(qpi[i] + a, 6));
  });

  it('typed errors name the field', () => {
    const ok = { offsets, outcomes, proverValues: values, proverRootValues: root };
    expect(() => computeRewards(ok, { form: 'q-pi', alpha: 1 })).toThrow(/policyValues/);
    expect(() => computeRewards(ok, { form: 'bogus' as never, alpha: 1 })).toThrow(TypeError);
    expect(() => computeRewards({ ...ok, outcomes: Float64Array.from([1]) }, { form: 'outcome', alpha: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_LENGTH_MISMATCH', message: expect.stringMatching(/outcomes/) }),
    );
    expect(() => computeRewards({ ...ok, policyValues: Float64Array.from([0, 0, 1.5, 0, 0]) }, { form: 'q-pi', alpha: 1 })).toThrow(/policyValues\[2\]/);
    expect(() => computeRewards({ ...ok, outcomes: Float32Array.from(outcomes) } as never, { form: 'outcome', alpha: 1 })).toThrow(/outcomes must be a Float64Array/);
    expect(() => computeRewards({ ...ok, baselines: Float64Array.from([0]) }, { form: 'outcome', alpha: 1 })).toThrow(/baselines/);
    expect(() => computeRewards({ ...ok, proverValues: Float64Array.from([0.3, 0.25, NaN, 0.4, 0.1]) }, { form: 'outcome', alpha: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_NON_FINITE' }),
    );
    expect(() => computeRewards(ok, { form: 'outcome', alpha: Infinity })).toThrow(/alpha/);
    // 'q-pi' does not compute with the outcomes but returns them: a NaN one used to pass through.
    const qpi = { ...ok, policyValues: Float64Array.from([0.3, 0.25, 0.5, 0.4, 0.1]) };
    for (const form of ['outcome', 'q-pi'] as const)
      expect(() => computeRewards({ ...qpi, outcomes: Float64Array.from(outcomes, (x, i) => (i === 1 ? NaN : x)) }, { form, alpha: 1 })).toThrow(
        expect.objectContaining({ code: 'ERR_PAV_NON_FINITE', message: 'outcomes[1] is NaN' }),
      );
  });

  it('refuses weights that overflow the dtype, naming the step and alpha', () => {
    const f = (a: Float64Array) => Float32Array.from(a);
    const f32 = { offsets, outcomes: f(outcomes), proverValues: f(values), proverRootValues: f(root) };
    expect(() => computeRewards(f32, { form: 'outcome', alpha: 1e300 })).toThrow(
      expect.objectContaining({ name: 'PavRangeError', code: 'ERR_PAV_NON_FINITE', message: expect.stringMatching(/stepWeights\[0\] is Infinity.*alpha.*Float32Array/) }),
    );
    // The same alpha fits float64, and a huge alpha is harmless where every advantage is 0.
    expect(computeRewards({ offsets, outcomes, proverValues: values, proverRootValues: root }, { form: 'outcome', alpha: 1e300 }).stepWeights[0]).toBeCloseTo(1e299, -285);
    const flat = { offsets, outcomes: f(outcomes), proverValues: new Float32Array(5).fill(0.5), proverRootValues: new Float32Array(2).fill(0.5) };
    expect(Array.from(computeRewards(flat, { form: 'outcome', alpha: 1e39 }).stepWeights)).toEqual([1, 1, 1, 0, 0]);
    // float64 overflows too once the baseline pushes past the range.
    const big = Float64Array.from([0, 0, -1.7e308, 0, 0]);
    expect(() => computeRewards({ offsets, outcomes, proverValues: values, proverRootValues: root, baselines: big }, { form: 'outcome', alpha: 1e308 })).toThrow(
      /stepWeights\[2\] is Infinity/,
    );
  });
});

describe('computeRewardsWithVerifier', () => {
  const table = ProblemTable.of(paperTask());
  const steps = [[3, 6, 0, 3, 5, 14], [1, 3, 6], [14]];
  const R = Float64Array.from([1, 0, 0]);

  it('scores every prefix and the root in one call and matches computeRewards on the oracle values', async () => {
    const oracle = new OracleVerifier(table, { gamma: 10 });
    let calls = 0;
    const counting: VerifierBackend<number> = {
      name: 'counting',
      scorePrefixes: (b) => {
        calls++;
        return oracle.scorePrefixes(b);
      },
    };
    const stepTokens = Uint32Array.from({ length: 10 }, () => 1);
    const r = await computeRewardsWithVerifier({ problems: new Uint32Array(3), steps, outcomes: R, stepTokens }, counting, { form: 'outcome', alpha: 1 });
    expect(calls).toBe(1);
    const prefixes = steps.flatMap((s) => s.map((_, h) => s.slice(0, h + 1)));
    const v = valuePrefixes(table, 0, prefixes, { gamma: 10 });
    const root = startValues(table, { gamma: 10 })[0];
    const direct = computeRewards(
      { offsets: Uint32Array.from([0, 6, 9, 10]), outcomes: R, proverValues: v, proverRootValues: Float64Array.from([root, root, root]) },
      { form: 'outcome', alpha: 1 },
    );
    expect(Array.from(r.stepWeights)).toEqual(Array.from(direct.stepWeights));
    expect(Array.from(r.tokenWeights!)).toEqual(Array.from(direct.stepWeights));
    // The step that completes y* has the largest advantage; the end token after it adds nothing.
    expect(r.advantages![4]).toBeGreaterThan(0.3);
    expect(r.advantages![5]).toBe(0);
    expect(r.verifierTokens).toBe(21 + 6 + 1); // the oracle counts prefix lengths
  });

  it('rejects a verifier value outside [0, 1] and a wrong count', async () => {
    const bad: VerifierBackend<number> = {
      name: 'bad',
      scorePrefixes: async (b) => ({ values: new Float64Array(b.prefixes.length).fill(1.5), tokens: new Uint32Array(b.prefixes.length) }),
    };
    await expect(computeRewardsWithVerifier({ problems: new Uint32Array(3), steps, outcomes: R }, bad, { form: 'outcome', alpha: 1 })).rejects.toThrow(/verifier values/);
    const short: VerifierBackend<number> = { name: 'short', scorePrefixes: async () => ({ values: new Float64Array(2), tokens: new Uint32Array(2) }) };
    await expect(computeRewardsWithVerifier({ problems: new Uint32Array(3), steps, outcomes: R }, short, { form: 'outcome', alpha: 1 })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_PAV_LENGTH_MISMATCH' }),
    );
  });
});
