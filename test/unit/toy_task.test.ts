import { describe, expect, it } from 'vitest';
import { generateSuite, isFinished, isSolved, paperTask, ProblemTable, renderTokens, validateTask } from '../../src/toy/task.ts';
import { driftingPrefixNoise, prefixNoise } from '../../src/toy/backends.ts';
import { bestOfK } from '../../src/toy/oracle.ts';
import { packPrefixes, packProblems } from '../../src/toy/native.ts';

describe('toy task (no addon)', () => {
  it('paperTask is V=15, L=10, y*=[3,6,0,3,5]', () => {
    expect(paperTask()).toEqual({ target: [3, 6, 0, 3, 5], vocab: 15, maxLen: 10 });
  });

  it('generateSuite is deterministic in the seed, varied, within the ranges, paper task first', () => {
    const a = generateSuite({ size: 200, seed: 7 });
    const b = generateSuite({ size: 200, seed: 7 });
    const c = generateSuite({ size: 200, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a[0]).toEqual(paperTask());
    for (const t of a.slice(1)) {
      validateTask(t);
      expect(t.target.length).toBeGreaterThanOrEqual(3);
      expect(t.target.length).toBeLessThanOrEqual(6);
      expect(t.maxLen - t.target.length).toBeGreaterThanOrEqual(3);
      expect(t.maxLen - t.target.length).toBeLessThanOrEqual(8);
      expect(Math.max(...t.target)).toBeLessThanOrEqual(13);
    }
    expect(new Set(a.map((t) => t.target.length)).size).toBe(4);
    expect(new Set(a.map((t) => t.maxLen - t.target.length)).size).toBe(6);
    expect(generateSuite()).toHaveLength(500);
    expect(generateSuite({ size: 3, includePaperTask: false, vocab: 4 })[0].vocab).toBe(4);
    expect(() => generateSuite({ vocab: 4 })).toThrow(/includePaperTask/);
  });

  it('the checker: contiguous, before the end token, within maxLen', () => {
    const t = paperTask();
    expect(isSolved(t, [3, 6, 0, 3, 5])).toBe(true);
    expect(isSolved(t, [1, 3, 6, 0, 3, 6, 0, 3, 5, 14])).toBe(true); // self-overlap
    expect(isSolved(t, [3, 6, 0, 3, 14, 5])).toBe(false);
    expect(isSolved(t, [3, 6, 0, 1, 3, 5])).toBe(false);
    expect(isSolved(t, [1, 1, 1, 1, 1, 1, 3, 6, 0, 3, 5])).toBe(false); // ends past L = 10
    expect(isSolved(t, [1, 1, 1, 1, 1, 3, 6, 0, 3, 5])).toBe(true);
    expect(isFinished(t, [1, 14])).toBe(true);
    expect(isFinished(t, new Array(10).fill(1))).toBe(true);
    expect(isFinished(t, [3, 6])).toBe(false);
    expect(renderTokens(t, [3, 6, 0, 3, 5, 14])).toBe('3 6 0 3 5 <eos>');
  });

  it('ProblemTable packs once and checks its input', () => {
    const table = new ProblemTable([paperTask(), { target: [1, 2], vocab: 15, maxLen: 6 }]);
    expect(Array.from(table.native.targets)).toEqual([3, 6, 0, 3, 5, 1, 2]);
    expect(Array.from(table.native.targetOffsets)).toEqual([0, 5, 7]);
    expect(Array.from(table.native.maxLen)).toEqual([10, 6]);
    expect(table.size).toBe(2);
    expect(() => new ProblemTable([paperTask(), { target: [1], vocab: 16, maxLen: 3 }])).toThrow(/one vocabulary/);
    expect(() => new ProblemTable([{ target: [14], vocab: 15, maxLen: 3 }])).toThrow(/target\[0\]/);
    expect(() => new ProblemTable([])).toThrow(RangeError);
    expect(() => table.task(2)).toThrow(RangeError);
  });

  it('packing names the bad prefix token instead of wrapping it', () => {
    expect(() => packPrefixes([[1, 2], [3, 300]], 15)).toThrow(/prefixes\[1\]\[1\] is 300/);
    expect(() => packPrefixes([[1.5]], 15)).toThrow(RangeError);
    expect(packPrefixes([[1, 2], []], 15).tokens).toBeInstanceOf(Uint8Array);
    expect(packPrefixes([[1, 2], []], 1000).tokens).toBeInstanceOf(Int32Array);
    expect(Array.from(packProblems(3, 2))).toEqual([3, 3]);
    expect(() => packProblems([-1], 1)).toThrow(RangeError);
  });

  it('prefix noise is a fixed function of (seed, problem, prefix) and roughly standard normal', () => {
    expect(prefixNoise(1, 2, [3, 4])).toBe(prefixNoise(1, 2, [3, 4]));
    expect(prefixNoise(1, 2, [3, 4])).not.toBe(prefixNoise(2, 2, [3, 4]));
    expect(prefixNoise(1, 2, [3, 4])).not.toBe(prefixNoise(1, 3, [3, 4]));
    expect(prefixNoise(1, 2, [3, 4])).not.toBe(prefixNoise(1, 2, [4, 3]));
    const z: number[] = [];
    for (let p = 0; p < 20000; p++) z.push(prefixNoise(9, p % 100, [p % 7, (p >> 3) % 11, p >> 7]));
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length);
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(sd - 1)).toBeLessThan(0.04);
  });

  it('drifting noise: the AR(1) recursion over the per-prefix draws, standard normal, correlated rho with the extension', () => {
    const prefix = [3, 1, 4, 1, 5, 9, 2];
    for (const rho of [0.3, 0.9]) {
      let z = prefixNoise(4, 7, []);
      for (let h = 1; h <= prefix.length; h++) z = rho * z + Math.sqrt(1 - rho * rho) * prefixNoise(4, 7, prefix.slice(0, h));
      expect(driftingPrefixNoise(4, 7, prefix, rho)).toBeCloseTo(z, 12);
    }
    const rho = 0.8;
    const a: number[] = [], b: number[] = [];
    for (let p = 0; p < 20000; p++) {
      const x = [p % 13, (p >> 4) % 13, (p >> 8) % 13, p % 7];
      a.push(driftingPrefixNoise(1, p, x, rho));
      b.push(driftingPrefixNoise(1, p, [...x, (p >> 2) % 13], rho));
    }
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const ma = mean(a), mb = mean(b);
    const sd = (v: number[], m: number) => Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
    const corr = a.reduce((s, x, i) => s + (x - ma) * (b[i] - mb), 0) / a.length / (sd(a, ma) * sd(b, mb));
    expect(Math.abs(ma)).toBeLessThan(0.05);
    expect(Math.abs(sd(a, ma) - 1)).toBeLessThan(0.05);
    expect(Math.abs(corr - rho)).toBeLessThan(0.03);
  });

  it('bestOfK', () => {
    expect(bestOfK(0.5, 1)).toBe(0.5);
    expect(bestOfK(0.5, 2)).toBeCloseTo(0.75, 15);
  });
});
