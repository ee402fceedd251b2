import { describe, expect, it } from 'vitest';
import { generateSuite, paperTask, ProblemTable, type PlantedTask } from '../../src/toy/task.ts';
import { prefixStates, startValues, stepAdvantages, valuePrefixes, valuePrefixesAsync } from '../../src/toy/oracle.ts';
import { allPrefixes, bruteState, bruteValue } from '../reference/toy.ts';

describe('toy oracle (native DP)', () => {
  it('equals enumeration of every response on tiny tasks (V=4, L=5, |y*|=2..3), several gamma and K', () => {
    const tasks: PlantedTask[] = [[0, 1], [1, 1], [0, 1, 0], [2, 2, 2], [0, 0, 1]].map((target) => ({ target, vocab: 4, maxLen: 5 }));
    const table = new ProblemTable(tasks);
    // One multi-problem call per (gamma, K): every prefix of every task.
    const problems: number[] = [];
    const prefixes: number[][] = [];
    tasks.forEach((t, p) => {
      for (const s of allPrefixes(t)) {
        problems.push(p);
        prefixes.push(s);
      }
    });
    for (const gamma of [0.5, 1, 3, 10]) {
      const exact = prefixes.map((s, i) => bruteValue(tasks[problems[i]], [...s], gamma));
      for (const K of [1, 2, 4]) {
        const v = valuePrefixes(table, problems, prefixes, { gamma, K });
        let worst = 0;
        for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - (1 - (1 - exact[i]) ** K)));
        expect(worst).toBeLessThan(1e-12);
      }
    }
  });

  it("reproduces the paper's V^mu(start): 0.005, 0.024, 0.046, 0.12, 0.82 (half a printed unit)", () => {
    const table = ProblemTable.of(paperTask());
    const cases: [number, number, number, number][] = [
      // gamma, paper, half unit of its printed precision, exact under our conventions
      [5, 0.005, 0.0005, 0.005394742710195904],
      [8, 0.024, 0.0005, 0.024486650073018958],
      [10, 0.046, 0.0005, 0.04552422530237358],
      [15, 0.12, 0.005, 0.11810294402412942],
      [100, 0.82, 0.005, 0.8150877497634489],
    ];
    for (const [gamma, paper, tol, exact] of cases) {
      const v = startValues(table, { gamma })[0];
      expect(Math.abs(v - paper)).toBeLessThanOrEqual(tol);
      expect(v).toBeCloseTo(exact, 12);
    }
  });

  it('automaton states match the brute-force suffix check, self-overlap included', () => {
    const table = ProblemTable.of(paperTask());
    const fixed = [[3, 6, 0, 3], [3, 6, 0, 3, 6], [3, 6, 0, 3, 3], [3, 6, 0, 3, 5], [3, 6, 0, 3, 5, 1, 14], [1, 14]];
    const s = prefixStates(table, 0, fixed);
    expect(Array.from(s.state)).toEqual([4, 2, 1, 5, 5, 0]);
    expect(Array.from(s.solved)).toEqual([0, 0, 0, 1, 1, 0]);
    expect(Array.from(s.finished)).toEqual([0, 0, 0, 0, 1, 1]);
    // Random sequences over a small alphabet, where overlaps are frequent.
    const suite = generateSuite({ size: 50, seed: 3, vocab: 4, includePaperTask: false, minSlack: 10, maxSlack: 12 });
    const t2 = new ProblemTable(suite);
    const problems: number[] = [];
    const prefixes: number[][] = [];
    let x = 12345;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), (x >>> 16) % n);
    for (let i = 0; i < 2000; i++) {
      const p = i % suite.length;
      const len = rnd(suite[p].maxLen + 1);
      problems.push(p);
      prefixes.push(Array.from({ length: len }, () => rnd(3)));
    }
    const st = prefixStates(t2, problems, prefixes);
    for (let i = 0; i < prefixes.length; i++) expect(st.state[i]).toBe(bruteState(prefixes[i], suite[problems[i]].target));
  });

  it('step advantages are Q(prefix) - Q(parent) under the prover', () => {
    const table = ProblemTable.of(paperTask());
    const prefixes = [[], [3], [3, 6], [3, 6, 1], [3, 6, 0, 3, 5]];
    const a = stepAdvantages(table, 0, prefixes, { gamma: 10, K: 4 });
    const v = valuePrefixes(table, 0, prefixes, { gamma: 10, K: 4 });
    expect(Array.from(a.values)).toEqual(Array.from(v));
    expect(a.advantages[0]).toBe(0);
    for (let i = 1; i < 4; i++) expect(a.advantages[i]).toBeCloseTo(v[i] - v[i - 1], 15);
    const [parent] = valuePrefixes(table, 0, [[3, 6, 0, 3]], { gamma: 10, K: 4 });
    expect(a.parents[4]).toBe(parent);
    expect(a.advantages[1]).toBeGreaterThan(0);
    expect(a.advantages[3]).toBeLessThan(0);
    expect(a.values[4]).toBe(1);
  });

  it('threads and async do not change values', async () => {
    const suite = generateSuite({ size: 100, seed: 1 });
    const table = new ProblemTable(suite);
    const problems = Array.from({ length: 5000 }, (_, i) => i % 100);
    const prefixes = problems.map((p, i) => suite[p].target.slice(0, i % (suite[p].target.length + 1)));
    const a = valuePrefixes(table, problems, prefixes, { gamma: 8 });
    const b = valuePrefixes(table, problems, prefixes, { gamma: 8, threads: 4 });
    const c = await valuePrefixesAsync(table, problems, prefixes, { gamma: 8, threads: 2 });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });
});
