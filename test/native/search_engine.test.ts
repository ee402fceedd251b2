import { describe, expect, it } from 'vitest';
import { runSearchBatch, solve } from '../../src/search/engine.ts';
import { parseSearchConfig, type SearchConfigInput } from '../../src/search/config.ts';
import { DeadlineReached, type Backends } from '../../src/search/result.ts';
import { runStepSearch } from '../../src/search/beam.ts';
import { PhaseClock } from '../../src/search/compute.ts';
import type { PolicyBackend, ScoreRequestBatch, TaskAdapter, VerifierBackend } from '../../src/search/backends.ts';
import { NoisyVerifier, OracleVerifier, ToyPolicy, ToyTask } from '../../src/toy/backends.ts';
import { generateSuite, paperTask, ProblemTable } from '../../src/toy/task.ts';
import { ConfigError } from '../../src/errors.ts';
import { referenceBestOfN, referenceBestOfNVote, referencePavRerank, referenceStepSearch } from '../reference/search.ts';

const table = new ProblemTable(generateSuite({ size: 24, seed: 7 }));
const noisy = (): Backends<number> => ({
  policy: new ToyPolicy(table, { gamma: 5 }),
  verifier: new NoisyVerifier(table, { gamma: 5, sigma: 1 }),
  task: new ToyTask(table),
});
const problems = Array.from({ length: table.size }, (_, i) => i);

describe('search engine against the one-problem reference', () => {
  const cases: SearchConfigInput[] = [
    { algorithm: 'beam', budget: 4, score: 'prm' },
    { algorithm: 'beam', budget: 8, score: 'pav', alpha: 0.5, proverK: 4 },
    { algorithm: 'beam', budget: 3, expansions: 2, score: 'pav', alpha: 2, proverK: 1, seed: 9 },
    { algorithm: 'dvts', budget: 8, dvtsWidth: 4, score: 'pav' },
    { algorithm: 'dvts', budget: 6, dvtsWidth: 2, score: 'prm' },
    { algorithm: 'dvts', budget: 2, dvtsWidth: 4, score: 'pav' },
    { algorithm: 'beam', budget: 8, expansions: 4, score: 'pav', dedupe: true },
    { algorithm: 'beam', budget: 16, expansions: 4, score: 'prm', dedupe: true, seed: 3 },
    { algorithm: 'dvts', budget: 8, dvtsWidth: 4, score: 'prm', dedupe: true },
    // A step cap short of most targets: step-capped traces compete with finished ones for the answer.
    { algorithm: 'beam', budget: 4, score: 'prm', maxSteps: 3 },
    { algorithm: 'beam', budget: 8, score: 'pav', maxSteps: 4 },
    { algorithm: 'dvts', budget: 8, dvtsWidth: 4, score: 'pav', maxSteps: 3 },
  ];
  for (const input of cases) {
    it(`${JSON.stringify(input)} chooses exactly the reference's traces`, async () => {
      const b = noisy();
      const config = parseSearchConfig(input);
      const got = await runSearchBatch(b, config, problems, { window: 10, lanes: 2 });
      for (const p of problems) {
        const want = await referenceStepSearch(b, config, p);
        expect(got[p].trace, `problem ${p}`).toEqual(want);
        expect(got[p].correct).toBe(want ? b.task.isCorrect(p, want) : false);
        expect(got[p].status).toBe('ok');
        // stepValues are the verifier's Q^pi of each prefix of the chosen trace.
        if (want) {
          const prefixes = want.map((_, h) => want.slice(0, h + 1));
          const q = await b.verifier.scorePrefixes({ problems: new Uint32Array(prefixes.length).fill(p), prefixes });
          expect(got[p].stepValues).toEqual(Array.from(q.values));
        }
      }
    });
  }

  for (const input of [
    { algorithm: 'beam', budget: 8, score: 'pav', alpha: 1 },
    { algorithm: 'dvts', budget: 8, dvtsWidth: 4, score: 'pav', alpha: 0.5 },
  ] as const)
    it(`${JSON.stringify(input)} with a separate prover verifier (the exact Q of mu_10) chooses the reference's traces`, async () => {
      const b = { ...noisy(), prover: new OracleVerifier(table, { gamma: 10 }) };
      const config = parseSearchConfig(input);
      const got = await runSearchBatch(b, config, problems, { window: 10, lanes: 2 });
      const bok = await runSearchBatch(noisy(), config, problems, { window: 10, lanes: 2 });
      let differs = 0;
      for (const p of problems) {
        expect(got[p].trace, `problem ${p}`).toEqual(await referenceStepSearch(b, config, p));
        if (got[p].trace?.join() !== bok[p].trace?.join()) differs++;
        // Both verifiers are charged, apart: every child is scored by each, the root only by the
        // prover (the first step's reward reads mu of the root, not its Q^pi).
        expect(got[p].compute.verifierCalls).toBe(got[p].compute.policySamples);
        expect(got[p].compute.proverCalls).toBe(got[p].compute.policySamples + 1);
        expect(got[p].compute.proverTokens).toBe(got[p].compute.verifierTokens);
      }
      // The prover matters: it is not the Best-of-K path under another name.
      expect(differs).toBeGreaterThan(0);
    });

  for (const input of [
    { algorithm: 'pav-rerank', budget: 8 },
    { algorithm: 'pav-rerank', budget: 6, rerankAggregate: 'mean', alpha: 2, proverK: 1 },
    { algorithm: 'pav-rerank', budget: 6, rerankAggregate: 'last', prover: true },
    { algorithm: 'pav-rerank', budget: 5, rerankAggregate: 'prod', prover: true },
  ] as const)
    it(`${JSON.stringify(input)} chooses the reference's traces`, async () => {
      const { prover, ...rest } = { prover: false, ...input };
      const b = prover ? { ...noisy(), prover: new OracleVerifier(table, { gamma: 10 }) } : noisy();
      const config = parseSearchConfig(rest);
      const got = await runSearchBatch(b, config, problems, { window: 7 });
      for (const p of problems) expect(got[p].trace, `problem ${p}`).toEqual(await referencePavRerank(b, config, p));
    });

  it('best-of-N with weighted and majority votes over answers chooses the reference traces', async () => {
    // Coarse answers (the response length mod 3) so that votes really pool samples: the toy's own
    // answer is the whole response, and distinct responses rarely repeat.
    const toy = noisy();
    const task: TaskAdapter<number> = {
      name: 'coarse',
      problemCount: toy.task.problemCount,
      problemId: (p) => toy.task.problemId(p),
      isCorrect: (p, t) => toy.task.isCorrect(p, t),
      answerKey: (_p, t) => String(t.length % 3),
      render: (p, t) => toy.task.render(p, t),
    };
    const b = { ...toy, task };
    const max = await runSearchBatch(b, { algorithm: 'best-of-n', budget: 16 }, problems);
    for (const selection of ['weighted', 'majority'] as const) {
      const config = parseSearchConfig({ algorithm: 'best-of-n', budget: 16, selection });
      const got = await runSearchBatch(b, config, problems, { window: 6 });
      let differs = 0;
      for (const p of problems) {
        expect(got[p].trace, `${selection}, problem ${p}`).toEqual(await referenceBestOfNVote(b, config, p));
        if (got[p].trace?.join() !== max[p].trace?.join()) differs++;
      }
      expect(differs, `${selection} differs from max somewhere`).toBeGreaterThan(0);
    }
  });

  it('dedupe changes what beam search keeps (the cases above are not vacuous)', async () => {
    const b = noisy();
    const base = { algorithm: 'beam', budget: 16, expansions: 4, score: 'prm', seed: 3 } as const;
    const plain = await runSearchBatch(b, base, problems);
    const deduped = await runSearchBatch(b, { ...base, dedupe: true }, problems);
    const changed = problems.filter((p) => plain[p].trace?.join() !== deduped[p].trace?.join()).length;
    expect(changed).toBeGreaterThan(0);
  });

  it('best-of-N (max) picks the reference trace and reports Pass@N', async () => {
    const b = noisy();
    const config = parseSearchConfig({ algorithm: 'best-of-n', budget: 16 });
    const got = await runSearchBatch(b, config, problems);
    for (const p of problems) {
      const want = await referenceBestOfN(b, config, p);
      expect(got[p].trace).toEqual(want.trace);
      expect(got[p].passAtN).toBe(want.pass);
      expect(got[p].compute.policyCalls).toBe(1);
      expect(got[p].compute.verifierCalls).toBe(16);
    }
  });

  it('budgets nest: best-of-4 samples are the first 4 of best-of-8', async () => {
    const b = noisy();
    const r4 = await runSearchBatch(b, { algorithm: 'best-of-n', budget: 4 }, problems);
    const r8 = await runSearchBatch(b, { algorithm: 'best-of-n', budget: 8 }, problems);
    for (const p of problems) if (r4[p].passAtN) expect(r8[p].passAtN).toBe(true);
  });
});

describe('search engine properties', () => {
  it('with the exact oracle and enough width, beam search finds y* on the paper task', async () => {
    const t = new ProblemTable([paperTask()]);
    const b: Backends<number> = { policy: new ToyPolicy(t, { gamma: 5 }), verifier: new OracleVerifier(t, { gamma: 5 }), task: new ToyTask(t) };
    for (const score of ['prm', 'pav'] as const) {
      const [r] = await runSearchBatch(b, { algorithm: 'beam', budget: 16, score }, [0]);
      expect(r.correct).toBe(true);
      expect(r.trace!.join(' ')).toContain('3 6 0 3 5');
    }
  });

  it('pav with alpha = 0 equals prm', async () => {
    const b = noisy();
    const prm = await runSearchBatch(b, { algorithm: 'beam', budget: 8, score: 'prm' }, problems);
    const pav0 = await runSearchBatch(b, { algorithm: 'beam', budget: 8, score: 'pav', alpha: 0 }, problems);
    expect(pav0.map((r) => r.trace)).toEqual(prm.map((r) => r.trace));
  });

  it('results do not depend on the window, the lanes or the order of problems', async () => {
    const b = noisy();
    const config = { algorithm: 'beam', budget: 6, score: 'pav' } as const;
    const a = await runSearchBatch(b, config, problems, { window: 64, lanes: 1 });
    const c = await runSearchBatch(b, config, problems, { window: 3, lanes: 3 });
    const reversed = [...problems].reverse();
    const d = await runSearchBatch(b, config, reversed, { window: 5, lanes: 2 });
    const strip = (r: (typeof a)[number]) => ({ trace: r.trace, value: r.value, compute: r.compute });
    expect(c.map(strip)).toEqual(a.map(strip));
    expect([...d].reverse().map(strip)).toEqual(a.map(strip));
  });

  it('counts compute: beam pays C samples per live beam per step', async () => {
    const b = noisy();
    const [r] = await runSearchBatch(b, { algorithm: 'beam', budget: 1, expansions: 3, score: 'prm' }, [0]);
    // One live beam, three samples a step, until the single kept child finishes.
    expect(r.compute.policySamples).toBe(3 * r.trace!.length);
    expect(r.compute.policyTokens).toBe(r.compute.policySamples);
  });

  it('bad configurations get a ConfigError naming the key', () => {
    expect(() => parseSearchConfig({ algorithm: 'beam', budget: 0 })).toThrow(ConfigError);
    expect(() => parseSearchConfig({ algorithm: 'beam', budget: 4, alpha: Number.NaN })).toThrow(/alpha/);
    expect(() => parseSearchConfig({ algorithm: 'nope', budget: 4 })).toThrow(/algorithm/);
    expect(() => parseSearchConfig({ algorithm: 'beam', budget: 4, expansion: 3 })).toThrow(/expansion/);
    // DVTS N=10 with width 4 would run N=8's two subtrees under the label N=10.
    expect(() => parseSearchConfig({ algorithm: 'dvts', budget: 10, dvtsWidth: 4 })).toThrow(/budget[\s\S]*multiple of dvtsWidth/);
    expect(parseSearchConfig({ algorithm: 'dvts', budget: 2, dvtsWidth: 4 }).budget).toBe(2);
    expect(parseSearchConfig({ algorithm: 'beam', budget: 10, dvtsWidth: 4 }).budget).toBe(10);
  });

  it('the answer is the best finished trace even when a step-capped one scores higher', async () => {
    // Problem 3 of this suite (target [1,0,5,4]): with a cap of 3 steps the beam ends with one trace
    // that stopped by itself (the end token, Q = 0) and capped prefixes of the target (Q ~ 0.27).
    const t = new ProblemTable(generateSuite({ size: 40, seed: 3 }));
    const b = { policy: new ToyPolicy(t, { gamma: 5 }), verifier: new OracleVerifier(t, { gamma: 5 }), task: new ToyTask(t) };
    const [r] = await runSearchBatch(b, { algorithm: 'beam', budget: 4, expansions: 3, score: 'prm', maxSteps: 3 }, [3]);
    expect(r.finished).toBe(true);
    expect(r.trace).toEqual([t.vocab - 1]);
    expect(r.value).toBe(0);
  });

  it('bad problems, options and backends are typed errors naming the argument (and index) before any work', async () => {
    const b = noisy();
    const config = { algorithm: 'beam', budget: 4 } as const;
    const n = table.size;
    await expect(runSearchBatch(b, config, [0, n])).rejects.toMatchObject({ name: 'PavRangeError', code: 'ERR_PAV_OUT_OF_RANGE', message: expect.stringContaining(`problems[1] is ${n}`) });
    await expect(runSearchBatch(b, config, [1.5])).rejects.toThrow(/problems\[0\] is 1.5/);
    await expect(runSearchBatch(b, config, [Number.NaN])).rejects.toThrow(/problems\[0\] is NaN/);
    await expect(runSearchBatch(b, config, [2, '3' as unknown as number])).rejects.toMatchObject({ code: 'ERR_PAV_INVALID_TYPE', message: expect.stringContaining('problems[1] must be a number') });
    await expect(runSearchBatch(b, config, 'all' as unknown as number[])).rejects.toThrow(TypeError);
    // NaN used to make zero lanes and return undefined for every problem.
    await expect(runSearchBatch(b, config, [0], { window: Number.NaN })).rejects.toThrow(/window/);
    await expect(runSearchBatch(b, config, [0], { window: 0 })).rejects.toThrow(/window/);
    await expect(runSearchBatch(b, config, [0], { lanes: -1 })).rejects.toThrow(/lanes/);
    await expect(runSearchBatch(b, config, [0], { lanes: 1.5 })).rejects.toThrow(/lanes/);
    // Missing parts are named, not failed rows with "cannot read properties of undefined".
    await expect(runSearchBatch({ ...b, verifier: undefined } as unknown as typeof b, config, [0])).rejects.toThrow(/backends\.verifier must be an object/);
    await expect(runSearchBatch({ ...b, prover: {} } as unknown as typeof b, config, [0])).rejects.toThrow(/backends\.prover\.scorePrefixes must be a function/);
    await expect(runSearchBatch(null as unknown as typeof b, config, [0])).rejects.toThrow(/backends must be an object/);
    // Best-of-N needs completions, beam needs steps.
    const stepsOnly = { ...b, policy: { name: 'steps-only', sampleSteps: b.policy.sampleSteps.bind(b.policy) } } as unknown as typeof b;
    await expect(runSearchBatch(stepsOnly, { algorithm: 'best-of-n', budget: 4 }, [0])).rejects.toThrow(/backends\.policy\.sampleCompletions/);
    expect((await runSearchBatch(stepsOnly, config, [0]))[0].status).toBe('ok');
    await expect(solve(b, config, n)).rejects.toThrow(new RegExp(`problem is ${n}`));
    await expect(solve(b, config, 0, { deadlineMs: -1 })).rejects.toThrow(/deadlineMs must be in \[0, 2147483647\]/);
    // Node fires longer timers after 1 ms: 2^31 ms used to cut the search at once.
    await expect(solve(b, config, 0, { deadlineMs: 2 ** 31 })).rejects.toThrow(/deadlineMs must be in/);
    await expect(solve(b, config, 0, { deadlineMs: Number.NaN })).rejects.toMatchObject({ code: 'ERR_PAV_NON_FINITE' });
    // Lanes beyond the window are fine: the window bounds them.
    expect((await runSearchBatch(b, config, [0, 1], { window: 1, lanes: 4 })).map((r) => r.status)).toEqual(['ok', 'ok']);
  });
});

/** Real verifier behind fault injection: fails for chosen problems, or delays every call. */
class FaultyVerifier implements VerifierBackend<number> {
  readonly name = 'faulty';
  constructor(
    private readonly inner: VerifierBackend<number>,
    private readonly opts: { failProblems?: Set<number>; delayMs?: number },
  ) {}
  async scorePrefixes(batch: ScoreRequestBatch<number>) {
    if (this.opts.delayMs)
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.opts.delayMs);
        batch.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
      });
    for (const p of batch.problems) if (this.opts.failProblems?.has(p)) throw new Error(`verifier exploded on problem ${p}`);
    return this.inner.scorePrefixes(batch);
  }
}

describe('faults, cancellation and deadlines', () => {
  it('PAV rerank ranks empty responses last instead of failing the problem', async () => {
    const b = noisy();
    const inner = b.policy;
    // Every third response is empty, as from a model that stops at once.
    const policy: PolicyBackend<number> = {
      name: 'sometimes-silent',
      sampleSteps: (batch) => inner.sampleSteps(batch),
      async sampleCompletions(batch) {
        const r = await inner.sampleCompletions(batch);
        r.completions.forEach((_, i) => {
          if (i % 3 === 0) {
            r.completions[i] = [];
            r.tokens[i] = 0;
          }
        });
        return r;
      },
    };
    const got = await runSearchBatch({ ...b, policy }, { algorithm: 'pav-rerank', budget: 6 }, problems);
    for (const r of got) {
      expect(r.status, r.error).toBe('ok');
      expect(r.trace!.length).toBeGreaterThan(0);
    }
  });

  it('PAV rerank through scoreSteps (one pass per response) equals per-prefix scoring and charges one call per response', async () => {
    for (const withProver of [false, true]) {
      const b = withProver ? { ...noisy(), prover: new OracleVerifier(table, { gamma: 10 }) } : noisy();
      // The same verifiers without scoreSteps: every prefix of every response scored on its own.
      const slowBackends = { ...b, verifier: perPrefix(b.verifier), ...(b.prover ? { prover: perPrefix(b.prover) } : {}) };
      const config = parseSearchConfig({ algorithm: 'pav-rerank', budget: 6, rerankAggregate: 'min' });
      const slow = await runSearchBatch(slowBackends, config, problems, { window: 7 });
      const got = await runSearchBatch(b, config, problems, { window: 7 });
      for (const p of problems) {
        expect(got[p].trace, `problem ${p}`).toEqual(slow[p].trace);
        expect(got[p].value).toBe(slow[p].value);
        expect(got[p].stepValues).toEqual(slow[p].stepValues);
        expect(got[p].compute.verifierCalls).toBe(6 + 1);
        expect(slow[p].compute.verifierCalls).toBe(slow[p].compute.policySamples + 1);
        expect(got[p].compute.proverCalls).toBe(withProver ? 6 + 1 : 0);
        // One pass per response: its length, against the sum of all its prefixes' lengths.
        expect(got[p].compute.verifierTokens).toBe(got[p].compute.policySamples);
      }
    }
    // A scoreSteps that returns a value too few fails its problems with a BackendError naming it.
    const b = noisy();
    const short: VerifierBackend<number> = {
      name: 'short-steps',
      scorePrefixes: (batch) => b.verifier.scorePrefixes(batch),
      async scoreSteps(batch) {
        const r = await b.verifier.scoreSteps!(batch);
        return { values: r.values.subarray(1), tokens: r.tokens };
      },
    };
    const rs = await runSearchBatch({ ...b, verifier: short }, { algorithm: 'pav-rerank', budget: 4 }, [0, 1]);
    for (const r of rs) expect(r.error).toMatch(/ERR_PAV_BACKEND: short-steps returned \d+ values for \d+ expected/);
  });

  it('a backend that does not declare readsPrefixLists gets plain arrays it can index, and the same results', async () => {
    const b = noisy();
    const seen: string[] = [];
    // Written against arrays, as a JavaScript backend might be: it indexes batch.prefixes.
    const arraysOnly = <T extends object>(inner: T, name: string): T =>
      new Proxy(inner, {
        get(target, key, receiver) {
          if (key === 'readsPrefixLists') return undefined;
          if (key === 'name') return name;
          const v = Reflect.get(target, key, receiver);
          if (key !== 'sampleSteps' && key !== 'scorePrefixes') return typeof v === 'function' ? v.bind(target) : v;
          return (batch: { prefixes: unknown }) => {
            const prefixes = batch.prefixes as number[][];
            seen.push(`${name}:${Array.isArray(prefixes) && prefixes.every((p) => Array.isArray(p))}`);
            return (v as (x: unknown) => unknown).call(target, { ...batch, prefixes: prefixes.map((p) => [...p]) });
          };
        },
      });
    const plain = { ...b, policy: arraysOnly(b.policy, 'policy'), verifier: arraysOnly(b.verifier, 'verifier') };
    for (const algorithm of ['beam', 'dvts'] as const) {
      const config = { algorithm, budget: 8, score: 'pav' as const };
      const want = await runSearchBatch(b, config, problems);
      const got = await runSearchBatch(plain, config, problems);
      for (const p of problems) expect(got[p].trace, `${algorithm} problem ${p}`).toEqual(want[p].trace);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((x) => x.endsWith(':true'))).toBe(true);
    expect(b.verifier.readsPrefixLists && b.policy.readsPrefixLists).toBe(true);
  });

  it('malformed backend output fails the problem with a BackendError naming the backend and the field', async () => {
    const b = noisy();
    const inner = b.verifier;
    // NaN for every prefix of problem 5; a policy that drops the last sample for problem 7.
    const verifier: VerifierBackend<number> = {
      name: 'nan-on-5',
      async scorePrefixes(batch) {
        const r = await inner.scorePrefixes(batch);
        batch.problems.forEach((p, i) => p === 5 && (r.values[i] = NaN));
        return r;
      },
    };
    const policy: PolicyBackend<number> = {
      name: 'short-on-7',
      async sampleSteps(batch) {
        const r = await b.policy.sampleSteps(batch);
        if (!batch.problems.includes(7)) return r;
        return { steps: r.steps.slice(0, -1), tokens: r.tokens, finished: r.finished };
      },
      sampleCompletions: (batch) => b.policy.sampleCompletions(batch),
    };
    const rs = await runSearchBatch({ ...b, verifier, policy }, { algorithm: 'beam', budget: 4, score: 'pav' }, problems, { window: 10 });
    expect(rs[5].status).toBe('failed');
    expect(rs[5].error).toMatch(/ERR_PAV_BACKEND: nan-on-5 returned values\[0\] = NaN/);
    expect(rs[7].status).toBe('failed');
    expect(rs[7].error).toMatch(/ERR_PAV_BACKEND: short-on-7 returned \d+ steps for \d+ expected/);
    expect(rs.filter((r) => r.status === 'ok')).toHaveLength(problems.length - 2);
    // Best-of-N checks what it gets back too.
    const bon = await runSearchBatch({ ...b, verifier }, { algorithm: 'best-of-n', budget: 4 }, problems);
    expect(bon[5].error).toMatch(/nan-on-5 returned values\[0\] = NaN/);
  });

  it('a problem whose calls fail is recorded as failed; the others finish unchanged', async () => {
    const clean = noisy();
    const faulty = { ...clean, verifier: new FaultyVerifier(clean.verifier, { failProblems: new Set([3, 11]) }) };
    const config = { algorithm: 'beam', budget: 4, score: 'pav' } as const;
    const want = await runSearchBatch(clean, config, problems);
    const seen: number[] = [];
    const got = await runSearchBatch(faulty, config, problems, { window: 8, onResult: (r) => void seen.push(r.problem) });
    expect(seen.sort((a, b) => a - b)).toEqual(problems);
    for (const p of problems) {
      if (p === 3 || p === 11) {
        expect(got[p].status).toBe('failed');
        expect(got[p].error).toContain(`problem ${p}`);
      } else expect(got[p].trace).toEqual(want[p].trace);
    }
  });

  it('an aborted batch rejects with ERR_PAV_ABORTED', async () => {
    const b = noisy();
    const slow = { ...b, verifier: new FaultyVerifier(b.verifier, { delayMs: 20 }) };
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user cancelled')), 50);
    await expect(runSearchBatch(slow, { algorithm: 'beam', budget: 4 }, problems, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ERR_PAV_ABORTED',
    });
  });

  it('solve() returns the best answer so far at the deadline and says so', async () => {
    const b = noisy();
    // 50 ms a verifier call: the root and a few rounds fit in 300 ms, the ~10 rounds of problem 0 do not.
    const slow = { ...b, verifier: new FaultyVerifier(b.verifier, { delayMs: 50 }) };
    const events: number[] = [];
    const r = await solve(slow, { algorithm: 'beam', budget: 4, score: 'pav' }, 0, { deadlineMs: 300, onProgress: (e) => events.push(e.depth) });
    expect(r.status).toBe('deadline');
    expect(events.length).toBeGreaterThan(0);
    // Some rounds completed before the deadline, so there is a partial trace to return.
    expect(r.trace!.length).toBeGreaterThan(0);
    const full = await solve(b, { algorithm: 'beam', budget: 4, score: 'pav' }, 0);
    expect(full.status).toBe('ok');
  });

  it('a call cut by the deadline timer counts as the deadline even when the clock is not past it yet', async () => {
    // Node timers may fire a little before performance.now() reaches the deadline; the driver must
    // still keep the rounds it finished instead of failing the problem.
    const b = noisy();
    const ac = new AbortController();
    let calls = 0;
    const verifier: VerifierBackend<number> = {
      name: 'cut-by-timer',
      readsPrefixLists: true,
      async scorePrefixes(batch) {
        // Root and two rounds score; the third round's call is cut as solve()'s timer would cut it.
        if (++calls === 4) {
          ac.abort(new DeadlineReached());
          throw new Error('aborted');
        }
        return b.verifier.scorePrefixes(batch);
      },
    };
    const ctx = {
      ...b,
      verifier,
      config: parseSearchConfig({ algorithm: 'beam', budget: 4, score: 'pav' }),
      clock: new PhaseClock(false),
      lane: 0,
      signal: ac.signal,
      deadline: performance.now() + 3_600_000,
    };
    const [r] = await runStepSearch(ctx, [0]);
    expect(r.status).toBe('deadline');
    expect(r.trace!.length).toBe(2);
    // Any other abort is still an abort.
    const other = new AbortController();
    other.abort(new Error('user cancelled'));
    await expect(runStepSearch({ ...ctx, verifier: b.verifier, signal: other.signal }, [0])).rejects.toMatchObject({ code: 'ERR_PAV_ABORTED' });
  });

  it('a throwing onResult or onProgress is the caller\'s error: no problem is marked failed, rerun or reported twice', async () => {
    const b = noisy();
    const config = { algorithm: 'beam', budget: 4, score: 'pav' } as const;
    const counted = (v: VerifierBackend<number>) => {
      const calls = { n: 0 };
      return { calls, verifier: { name: v.name, readsPrefixLists: true, scorePrefixes: (batch: ScoreRequestBatch<number>) => (calls.n++, v.scorePrefixes(batch)) } };
    };
    const seen: number[] = [];
    const c = counted(b.verifier);
    const sinkError = new Error('sink full');
    await expect(
      runSearchBatch({ ...b, verifier: c.verifier }, config, problems.slice(0, 8), {
        window: 4,
        lanes: 1,
        onResult: (r) => {
          seen.push(r.problem);
          if (r.problem === 1) throw sinkError;
        },
      }),
    ).rejects.toBe(sinkError);
    // Problems 0 and 1 were delivered once each; nothing was rerun problem by problem.
    expect(seen).toEqual([0, 1]);
    const clean = counted(b.verifier);
    await runSearchBatch({ ...b, verifier: clean.verifier }, config, problems.slice(0, 4), { window: 4, lanes: 1 });
    expect(c.calls.n).toBe(clean.calls.n);
    const progressError = new Error('progress boom');
    const onProgress = () => {
      throw progressError;
    };
    await expect(runSearchBatch(b, config, problems.slice(0, 8), { window: 4, lanes: 1, onProgress })).rejects.toBe(progressError);
    await expect(solve(b, config, 0, { onProgress })).rejects.toBe(progressError);
  });

  it('a window larger than the batch still spreads it over the lanes', async () => {
    const lanes = new Set<number>();
    await runSearchBatch(noisy(), { algorithm: 'beam', budget: 4 }, problems.slice(0, 10), { window: 64, lanes: 3, onProgress: (e) => void lanes.add(e.lane) });
    expect([...lanes].sort()).toEqual([0, 1, 2]);
  });

  it('a failing lane stops the others', async () => {
    const b = noisy();
    const slow = { ...b, verifier: new FaultyVerifier(b.verifier, { delayMs: 5 }) };
    let after = 0;
    let failed = false;
    await expect(
      runSearchBatch(slow, { algorithm: 'beam', budget: 4, score: 'pav' }, problems, {
        window: 2,
        lanes: 2,
        onResult: (r) => {
          if (failed) after++;
          if (r.problem === 0) {
            failed = true;
            throw new Error('stop');
          }
        },
      }),
    ).rejects.toThrow('stop');
    // The other lane's cohort in flight may finish its round, but no new cohort starts.
    await new Promise((r) => setTimeout(r, 300));
    expect(after).toBeLessThanOrEqual(1);
  });

  it('an abort is an abort even when the backend ignores the signal and the search finishes', async () => {
    const b = noisy();
    // A verifier that ignores signals and takes 40 ms a call.
    const deaf: VerifierBackend<number> = {
      name: 'deaf',
      readsPrefixLists: true,
      scorePrefixes: async (batch) => {
        await new Promise((r) => setTimeout(r, 40));
        return b.verifier.scorePrefixes({ ...batch, signal: undefined });
      },
    };
    for (const algorithm of ['best-of-n', 'beam'] as const) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('user cancelled')), 10);
      await expect(solve({ ...b, verifier: deaf }, { algorithm, budget: 4 }, 0, { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_PAV_ABORTED' });
      const bc = new AbortController();
      setTimeout(() => bc.abort(new Error('user cancelled')), 10);
      await expect(runSearchBatch({ ...b, verifier: deaf }, { algorithm, budget: 4 }, [0, 1], { signal: bc.signal })).rejects.toMatchObject({ code: 'ERR_PAV_ABORTED' });
    }
  });

  it('a deadline before the first round finished gives no trace and says so, under PRM and PAV alike', async () => {
    const b = noisy();
    const slow = { ...b, verifier: new FaultyVerifier(b.verifier, { delayMs: 50 }) };
    for (const score of ['prm', 'pav'] as const) {
      const r = await solve(slow, { algorithm: 'beam', budget: 4, score }, 0, { deadlineMs: 10 });
      expect(r.status, score).toBe('deadline');
      expect(r.trace, score).toBeNull();
      expect(r.value, score).toBeNull();
      expect(r.error, score).toMatch(/deadline/);
    }
  });

  it('solve() rejects when its signal aborts', async () => {
    const b = noisy();
    const slow = { ...b, verifier: new FaultyVerifier(b.verifier, { delayMs: 30 }) };
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 40);
    await expect(solve(slow, { algorithm: 'beam', budget: 4 }, 0, { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_PAV_ABORTED' });
  });

  it('concurrent solves share the backends and match the batch results', async () => {
    const b = noisy();
    const config = { algorithm: 'dvts', budget: 8, score: 'pav' } as const;
    const batch = await runSearchBatch(b, config, problems);
    const single = await Promise.all(problems.map((p) => solve(b, config, p)));
    expect(single.map((r) => r.trace)).toEqual(batch.map((r) => r.trace));
  });
});

/** `inner` without scoreSteps: PAV rerank then scores every prefix through scorePrefixes. */
function perPrefix(inner: VerifierBackend<number>): VerifierBackend<number> {
  return { name: inner.name, scorePrefixes: (batch) => inner.scorePrefixes(batch) };
}
