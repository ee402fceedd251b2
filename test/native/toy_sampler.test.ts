import { describe, expect, it } from 'vitest';
import { generateSuite, isSolved, paperTask, ProblemTable } from '../../src/toy/task.ts';
import { valuePrefixes } from '../../src/toy/oracle.ts';
import {
  rolloutArrays,
  sampleRollouts,
  sampleRolloutsAsync,
  sampleSteps,
  sampleStepsAsync,
  successRates,
} from '../../src/toy/sampler.ts';
import { nextTokenProbs } from '../reference/toy.ts';

const suite = generateSuite({ size: 60, seed: 11 });
const table = new ProblemTable(suite);

// A fixed batch of unfinished prefixes over the suite: pieces of each target, sometimes after noise.
function batch(count: number) {
  const problems: number[] = [];
  const prefixes: number[][] = [];
  for (let i = 0; i < count; i++) {
    const p = (i * 7) % suite.length;
    const t = suite[p];
    const pre = [...[1, 2, 4].slice(0, i % 3), ...t.target.slice(0, i % (t.target.length + 1))];
    problems.push(p);
    prefixes.push(pre.slice(0, t.maxLen - 1));
  }
  return { problems, prefixes };
}

describe('toy sampler', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const { problems, prefixes } = batch(50);
    const a = sampleRollouts(table, problems, prefixes, { n: 8, seed: 5 });
    const b = sampleRollouts(table, problems, prefixes, { n: 8, seed: 5 });
    const c = sampleRollouts(table, problems, prefixes, { n: 8, seed: 6 });
    expect(rolloutArrays(b)).toEqual(rolloutArrays(a));
    expect(rolloutArrays(c)).not.toEqual(rolloutArrays(a));
  });

  it('is identical across thread counts, batch splits, n, and sync/async', async () => {
    const { problems, prefixes } = batch(300);
    const base = sampleRollouts(table, problems, prefixes, { n: 8, seed: 9, gamma: 10 });
    for (const threads of [2, 3, 8]) {
      const t = sampleRollouts(table, problems, prefixes, { n: 8, seed: 9, gamma: 10, threads });
      expect(t.tokens).toEqual(base.tokens);
      expect(t.offsets).toEqual(base.offsets);
      expect(t.success).toEqual(base.success);
    }
    const asy = await sampleRolloutsAsync(table, problems, prefixes, { n: 8, seed: 9, gamma: 10, threads: 2 });
    expect(rolloutArrays(asy)).toEqual(rolloutArrays(base));
    // Split into two batches (in reverse order) with the stream ids of the original positions.
    const all = rolloutArrays(base);
    const cut = 137;
    const idx = Array.from({ length: 300 }, (_, i) => i);
    const second = idx.slice(cut);
    const r2 = sampleRollouts(table, second.map((i) => problems[i]), second.map((i) => prefixes[i]), { n: 8, seed: 9, gamma: 10, streams: second });
    expect(rolloutArrays(r2)).toEqual(all.slice(cut * 8));
    // Budgets nest: the first 3 of 8 samples equal a 3-sample call.
    const r3 = rolloutArrays(sampleRollouts(table, problems, prefixes, { n: 3, seed: 9, gamma: 10 }));
    expect(r3).toEqual(Array.from({ length: 300 }, (_, i) => all.slice(i * 8, i * 8 + 3)).flat(1));
    // The next-step sampler draws each rollout's first token.
    const steps = sampleSteps(table, problems, prefixes, { n: 8, seed: 9, gamma: 10, threads: 3 });
    expect(Array.from(steps.tokens)).toEqual(all.map((c) => c[0]));
    const stepsAsync = await sampleStepsAsync(table, problems, prefixes, { n: 8, seed: 9, gamma: 10 });
    expect(stepsAsync.tokens).toEqual(steps.tokens);
  });

  it('rollouts are well formed and flagged by the checker', () => {
    const { problems, prefixes } = batch(200);
    const r = sampleRollouts(table, problems, prefixes, { n: 5, seed: 1, gamma: 20 });
    const conts = rolloutArrays(r);
    let solved = 0;
    conts.forEach((c, k) => {
      const i = Math.floor(k / 5);
      const t = suite[problems[i]];
      const full = [...prefixes[i], ...c];
      expect(full.length).toBeLessThanOrEqual(t.maxLen);
      expect(full.length === t.maxLen || c[c.length - 1] === t.vocab - 1).toBe(true);
      expect(c.slice(0, -1).includes(t.vocab - 1)).toBe(false);
      expect(r.success[k]).toBe(isSolved(t, full) ? 1 : 0);
      solved += r.success[k];
    });
    expect(solved).toBeGreaterThan(50);
    // A finished prefix gets an empty continuation flagged by the checker.
    const done = sampleRollouts(ProblemTable.of(paperTask()), 0, [[3, 6, 0, 3, 5, 14], [1, 14]], { n: 2 });
    expect(Array.from(done.offsets)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(done.success)).toEqual([1, 1, 0, 0]);
  });

  it('Monte-Carlo success rates lie within 4 sigma of the exact oracle', () => {
    const { problems, prefixes } = batch(40);
    const n = 4000;
    for (const gamma of [5, 12]) {
      const q = valuePrefixes(table, problems, prefixes, { gamma });
      const f = successRates(sampleRollouts(table, problems, prefixes, { n, gamma, seed: 77 }));
      for (let i = 0; i < q.length; i++) {
        const sd = Math.sqrt((q[i] * (1 - q[i])) / n);
        expect(Math.abs(f[i] - q[i])).toBeLessThanOrEqual(4 * sd + 1e-12);
      }
    }
    // From the start of the paper's task at gamma 15: V = 0.1181.
    const paper = ProblemTable.of(paperTask());
    const f = successRates(sampleRollouts(paper, 0, [[]], { n: 200_000, gamma: 15, seed: 3 }))[0];
    expect(Math.abs(f - 0.11810294402412942)).toBeLessThan(4 * Math.sqrt((0.118 * 0.882) / 200_000));
  });

  it('next tokens follow mu_gamma (chi-square, p > 0.001)', () => {
    const task = paperTask();
    const paper = ProblemTable.of(task);
    const n = 100_000;
    // state 0, a self-overlap state (4), a mid state, the solved state (weight moves to the end token)
    for (const prefix of [[], [3, 6, 0, 3], [1, 3, 6], [3, 6, 0, 3, 5]]) {
      for (const gamma of [5, 30]) {
        const s = sampleSteps(paper, 0, [prefix], { n, gamma, seed: 21 });
        const counts = new Array(15).fill(0);
        for (const t of s.tokens) counts[t]++;
        const p = nextTokenProbs(task, prefix, gamma);
        const chi2 = counts.reduce((acc, c, i) => acc + (c - n * p[i]) ** 2 / (n * p[i]), 0);
        expect(chi2).toBeLessThan(36.12); // chi-square 0.999 quantile, 14 degrees of freedom
        // finished flags: the end token, or the L-th token
        let wrong = 0;
        s.tokens.forEach((t, j) => (wrong += s.finished[j] !== (t === 14 || prefix.length + 1 === 10 ? 1 : 0) ? 1 : 0));
        expect(wrong).toBe(0);
      }
    }
  });

  it('steps from a finished prefix are refused', () => {
    expect(() => sampleSteps(ProblemTable.of(paperTask()), 0, [[1, 14]])).toThrow(/finished/);
  });
});
