import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { generateSuite, paperTask, ProblemTable } from '../../src/toy/task.ts';
import { NoisyVerifier, OracleVerifier, ToyPolicy, ToyTask } from '../../src/toy/backends.ts';
import { valuePrefixes } from '../../src/toy/oracle.ts';
import { backendInfo } from '../../src/native/binding.ts';
import type { PolicyBackend, TaskAdapter, VerifierBackend } from '../../src/search/backends.ts';

const suite = generateSuite({ size: 20, seed: 2 });
const table = new ProblemTable(suite);

describe('toy backends', () => {
  it('a tiny beam search end to end: sample steps, score, check', async () => {
    const policy: PolicyBackend<number> = new ToyPolicy(table, { gamma: 5 });
    const verifier: VerifierBackend<number> = new OracleVerifier(table, { gamma: 5 });
    const task: TaskAdapter<number> = new ToyTask(table);
    const B = 4, C = 3;
    let solved = 0;
    let policyTokens = 0, verifierTokens = 0;
    for (let p = 0; p < table.size; p++) {
      let beams: number[][] = [[]];
      const done: number[][] = [];
      const doneValue: number[] = [];
      for (let step = 0; beams.length > 0 && step < 40; step++) {
        const s = await policy.sampleSteps({ problems: new Uint32Array(beams.length).fill(p), prefixes: beams, n: C, seeds: Uint32Array.from(beams, (_, i) => step * 1000 + i) });
        expect(s.steps).toHaveLength(beams.length * C);
        policyTokens += s.tokens.reduce((a, b) => a + b, 0);
        const children = s.steps.map((t, k) => [...beams[Math.floor(k / C)], t]);
        const scored = await verifier.scorePrefixes({ problems: new Uint32Array(children.length).fill(p), prefixes: children });
        verifierTokens += scored.tokens.reduce((a, b) => a + b, 0);
        expect(Array.from(scored.tokens)).toEqual(children.map((c) => c.length));
        const order = children.map((_, k) => k).sort((a, b) => scored.values[b] - scored.values[a] || a - b).slice(0, B - done.length);
        beams = [];
        for (const k of order) {
          if (s.finished[k]) {
            done.push(children[k]);
            doneValue.push(scored.values[k]);
          } else beams.push(children[k]);
        }
      }
      // The final answer: the finished trace with the highest Q^pi.
      const best = done.length ? done[doneValue.indexOf(Math.max(...doneValue))] : [];
      if (task.isCorrect(p, best)) solved++;
      expect(task.render(p, best)).toMatch(/^(\d+ )*(\d+|<eos>)$|^$/);
    }
    expect(policyTokens).toBeGreaterThan(0);
    expect(verifierTokens).toBeGreaterThan(policyTokens);
    // The oracle-guided beam beats the base policy's ~1% by far.
    expect(solved).toBeGreaterThan(table.size / 2);
  });

  it('policy samples depend only on (seed, prefix, sample index), not on batch composition', async () => {
    const policy = new ToyPolicy(table, { gamma: 8 });
    const a = await policy.sampleCompletions({ problems: Uint32Array.of(3, 5), prefixes: [[1], [2, 2]], n: 4, seeds: Uint32Array.of(10, 20) });
    const b = await policy.sampleCompletions({ problems: Uint32Array.of(5), prefixes: [[2, 2]], n: 2, seeds: Uint32Array.of(20) });
    expect(b.completions).toEqual(a.completions.slice(4, 6));
    expect(Array.from(a.tokens)).toEqual(a.completions.map((c) => c.length));
    const other = await new ToyPolicy(table, { gamma: 8, seed: 1 }).sampleCompletions({ problems: Uint32Array.of(5), prefixes: [[2, 2]], n: 2, seeds: Uint32Array.of(20) });
    expect(other.completions).not.toEqual(b.completions);
  });

  it('the noisy verifier is the oracle plus noise fixed per prefix', async () => {
    const oracle = new OracleVerifier(table, { gamma: 5 });
    const noisy = new NoisyVerifier(table, { gamma: 5, sigma: 1, seed: 4 });
    const prefixes = [[], [1], [1, 2], suite[7].target.slice(0, 2)];
    const problems = Uint32Array.of(0, 3, 3, 7);
    const q = (await oracle.scorePrefixes({ problems, prefixes })).values;
    const v1 = (await noisy.scorePrefixes({ problems, prefixes })).values;
    const v2 = (await noisy.scorePrefixes({ problems: Uint32Array.of(7, 3), prefixes: [prefixes[3], prefixes[1]] })).values;
    expect(v2[0]).toBe(v1[3]);
    expect(v2[1]).toBe(v1[1]);
    expect(Array.from(v1)).not.toEqual(Array.from(q));
    const zero = (await new NoisyVerifier(table, { sigma: 0 }).scorePrefixes({ problems, prefixes })).values;
    for (let i = 0; i < q.length; i++) expect(zero[i]).toBeCloseTo(Math.min(1 - 1e-4, Math.max(1e-4, q[i])), 12);
    // The noise is in logit space: a large sigma spreads values but keeps them in (0, 1).
    const wide = (await new NoisyVerifier(table, { sigma: 5 }).scorePrefixes({ problems, prefixes })).values;
    for (const v of wide) expect(v > 0 && v < 1).toBe(true);
    expect(() => new NoisyVerifier(table, { sigma: -1 })).toThrow(RangeError);
  });

  it('the oracle verifier can report a Best-of-K prover', async () => {
    const v = new OracleVerifier(table, { gamma: 10, K: 4 });
    const got = (await v.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [[3]] })).values[0];
    const q = valuePrefixes(table, 0, [[3]], { gamma: 10 })[0];
    expect(got).toBeCloseTo(1 - (1 - q) ** 4, 14);
    expect(v.name).toBe('toy-oracle(gamma=10,K=4)');
  });

  it('task adapter: ids, checker, answer keys', () => {
    const task = new ToyTask(ProblemTable.of(paperTask()));
    expect(task.problemCount).toBe(1);
    expect(task.problemId(0)).toBe('planted/0');
    expect(task.isCorrect(0, [3, 6, 0, 3, 5, 14])).toBe(true);
    expect(task.answerKey(0, [3, 6, 0, 3, 5, 14])).toBe('3 6 0 3 5 <eos>');
    expect(task.render(0, [1, 14])).toBe('1 <eos>');
    expect(() => task.problemId(1)).toThrow(RangeError);
  });

  it('bad construction and mismatched batches are typed errors, never silently another problem', async () => {
    expect(() => new ToyPolicy(table, null as unknown as object)).toThrow(/options must be an object, got null/);
    expect(() => new ToyPolicy(null as unknown as ProblemTable)).toThrow(/table must be a ProblemTable/);
    expect(() => new OracleVerifier({} as ProblemTable)).toThrow(/table must be a ProblemTable/);
    expect(() => new NoisyVerifier(table, null as unknown as { sigma: number })).toThrow(/options must be an object/);
    expect(() => new ToyTask(undefined as unknown as ProblemTable)).toThrow(/table must be a ProblemTable/);
    expect(() => generateSuite(null as unknown as object)).toThrow(/options must be an object, got null/);
    for (const v of [new OracleVerifier(table, { gamma: 5 }), new NoisyVerifier(table, { gamma: 5, sigma: 1 })]) {
      // One problem for two prefixes used to score prefix 1 as problem 0.
      await expect(v.scoreSteps({ problems: Uint32Array.of(2), prefixes: [[3, 6], [3, 6]] })).rejects.toMatchObject({
        code: 'ERR_PAV_LENGTH_MISMATCH',
        message: 'problems has 1 entries for 2 prefixes',
      });
      await expect(v.scoreSteps({ problems: Uint32Array.of(2, 2, 2), prefixes: [[3, 6], [3, 6]] })).rejects.toThrow(/problems has 3 entries/);
      await expect(v.scoreSteps({ problems: [0, 1.7] as unknown as Uint32Array, prefixes: [[3], [3]] })).rejects.toThrow(/problems must be a Uint32Array/);
    }
    expect(() => valuePrefixes(table, 0, { tokens: Uint8Array.of(1, 2), offsets: new Uint32Array(0) })).toThrow(
      expect.objectContaining({ code: 'ERR_PAV_BAD_OFFSETS' }),
    );
  });

  it('aborted requests reject with ERR_PAV_ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new ToyPolicy(table).sampleSteps({ problems: Uint32Array.of(0), prefixes: [[]], n: 1, seeds: Uint32Array.of(0), signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_PAV_ABORTED' });
  });

  it('the addon works inside a worker thread (per-environment state)', async () => {
    const path = backendInfo().path;
    const src = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.path);
      const v = b.toyValuePrefixes({ targets: Int32Array.of(3,6,0,3,5), targetOffsets: Uint32Array.of(0,5), maxLen: Uint32Array.of(10), vocab: 15,
        problems: Uint32Array.of(0), tokens: new Uint8Array(0), offsets: Uint32Array.of(0,0), gamma: 15 });
      const r = b.toySampleRollouts({ targets: Int32Array.of(3,6,0,3,5), targetOffsets: Uint32Array.of(0,5), maxLen: Uint32Array.of(10), vocab: 15,
        problems: Uint32Array.of(0), tokens: new Uint8Array(0), offsets: Uint32Array.of(0,0), n: 4, seed: 1, threads: 2 });
      parentPort.postMessage({ v: v[0], offsets: Array.from(r.offsets) });`;
    const out = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ v: number; offsets: number[] }>((resolve, reject) => {
            const w = new Worker(src, { eval: true, workerData: { path } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    expect(out[0].v).toBeCloseTo(0.11810294402412942, 12);
    expect(out[1]).toEqual(out[0]);
  });
});
