// Whole-response search over a cohort of problems: best-of-N reranked by an outcome verifier
// (max score, weighted vote or majority vote over answers) and best-of-N reranked by the PAV
// score of every step. Pass@N with the true checker comes with both as the ceiling.
import { aggregateSteps, effectiveRewards } from '../ops/advantages.ts';
import { selectTopK } from '../ops/prune.ts';
import { voteAnswers } from '../ops/vote.ts';
import { ErrorCodes, PavError } from '../errors.ts';
import { chargeScores, type Phase } from './compute.ts';
import { checkCompletionBatch, checkScoreBatch } from './backend_checks.ts';
import { stringKey } from './keys.ts';
import { abortError, emptyResult, timeShared, type DriverContext, type ProblemResult } from './result.ts';
import { mixSeed, stringCode } from './seeds.ts';

/** Score of an empty response under PAV rerank: finite (the native ops refuse Infinity) and below all others. */
const EMPTY_TRACE_SCORE = -Number.MAX_VALUE;

export async function runBestOfN<S>(ctx: DriverContext<S>, problems: readonly number[]): Promise<ProblemResult<S>[]> {
  const { config, policy, verifier, prover, task } = ctx;
  const rerank = config.algorithm === 'pav-rerank';
  if (config.algorithm !== 'best-of-n' && !rerank) throw new PavError(`runBestOfN cannot run ${config.algorithm}`, ErrorCodes.INTERNAL);
  if (ctx.signal?.aborted) throw abortError(ctx.signal);
  const N = config.budget;
  const P = problems.length;
  const results: ProblemResult<S>[] = problems.map((p) => emptyResult(task, config, p));
  const timed = <T>(phase: Phase, name: string, fn: () => Promise<T> | T): Promise<T> => timeShared(ctx, phase, name, results, fn);

  // Samples do not depend on N (one seed per problem), so budgets nest: BoN-4 sees the first 4 of BoN-8.
  const problemIds = Uint32Array.from(problems);
  const gen = await timed('generate', 'generate', () =>
    policy.sampleCompletions({
      problems: problemIds,
      prefixes: problems.map(() => [] as S[]),
      n: N,
      seeds: Uint32Array.from(problems, (p) => mixSeed(config.seed, stringCode('completions'), p)),
      signal: ctx.signal,
    }),
  );
  checkCompletionBatch(policy.name, gen, P * N);
  const traces = gen.completions;
  const sampleProblem = (i: number) => Math.floor(i / N);
  for (let i = 0; i < traces.length; i++) {
    const c = results[sampleProblem(i)].compute;
    c.policySamples += traces[i].length;
    c.policyTokens += gen.tokens[i];
  }
  for (const r of results) r.compute.policyCalls += 1;
  const offsets = new Uint32Array(P + 1);
  for (let p = 0; p < P; p++) offsets[p + 1] = (p + 1) * N;

  let scores: Float64Array;
  let stepValues: number[][] | undefined;
  if (!rerank) {
    // Outcome verifier: the value of the complete response.
    const orm = await timed('score', 'score', () =>
      verifier.scorePrefixes({ problems: Uint32Array.from(traces, (_, i) => problems[sampleProblem(i)]), prefixes: traces, signal: ctx.signal }),
    );
    checkScoreBatch(verifier.name, orm, traces.length);
    for (let i = 0; i < traces.length; i++) chargeScores(results[sampleProblem(i)].compute, orm, undefined, i, i + 1);
    scores = orm.values;
  } else {
    // PAV of every step: score every prefix (the bare problem included), then
    // r_h = Q_h + alpha * (mu_h - mu_{h-1}) and aggregate r over the trace.
    const prefixProblems: number[] = [];
    const prefixes: S[][] = [];
    const rootAt = new Uint32Array(P);
    const stepOffsets = new Uint32Array(traces.length + 1);
    for (let p = 0; p < P; p++) {
      rootAt[p] = prefixes.length;
      prefixes.push([]);
      prefixProblems.push(problems[p]);
    }
    const stepAt = new Uint32Array(traces.length);
    for (let i = 0; i < traces.length; i++) {
      stepAt[i] = prefixes.length;
      for (let h = 1; h <= traces[i].length; h++) {
        prefixes.push(traces[i].slice(0, h));
        prefixProblems.push(problems[sampleProblem(i)]);
      }
      stepOffsets[i + 1] = stepOffsets[i] + traces[i].length;
    }
    const req = { problems: Uint32Array.from(prefixProblems), prefixes, signal: ctx.signal };
    const [base, prov] = await timed('score', 'score steps', () => Promise.all([verifier.scorePrefixes(req), prover?.scorePrefixes(req)]));
    checkScoreBatch(verifier.name, base, prefixes.length);
    if (prover && prov) checkScoreBatch(prover.name, prov, prefixes.length);
    for (let j = 0; j < prefixes.length; j++) {
      const p = j < P ? j : sampleProblem(traceOfPrefix(stepAt, j));
      chargeScores(results[p].compute, base, prov, j, j + 1);
    }
    const nSteps = stepOffsets[traces.length];
    scores = await timed('prune', 'rerank', () => {
      const q = new Float64Array(nSteps);
      const parentIndex = new Uint32Array(nSteps);
      const child = new Uint32Array(nSteps);
      for (let i = 0; i < traces.length; i++)
        for (let h = 0; h < traces[i].length; h++) {
          const s = stepOffsets[i] + h;
          child[s] = stepAt[i] + h;
          q[s] = base.values[child[s]];
          parentIndex[s] = h === 0 ? rootAt[sampleProblem(i)] : stepAt[i] + h - 1;
        }
      const r = effectiveRewards({
        q,
        parentIndex,
        parentQ: base.values,
        alpha: config.alpha,
        K: config.proverK,
        ...(prov ? { proverChild: Float64Array.from(child, (j) => prov.values[j]), proverParent: prov.values } : {}),
      });
      // Aggregate over the traces that have steps; an empty response (a model that said nothing)
      // ranks below every real one without a special case in the native op.
      const withSteps: number[] = [];
      for (let i = 0; i < traces.length; i++) if (traces[i].length > 0) withSteps.push(i);
      const segs = new Uint32Array(withSteps.length + 1);
      withSteps.forEach((i, j) => (segs[j + 1] = stepOffsets[i + 1]));
      const agg = withSteps.length > 0 ? aggregateSteps({ scores: r, offsets: segs, method: config.rerankAggregate }) : new Float64Array(0);
      const out = new Float64Array(traces.length).fill(EMPTY_TRACE_SCORE);
      withSteps.forEach((i, j) => (out[i] = agg[j]));
      return out;
    });
    stepValues = traces.map((t, i) => Array.from(base.values.subarray(stepAt[i], stepAt[i] + t.length)));
  }

  // Selection: one native call for all problems.
  const chosen = await timed('prune', 'select', () => {
    if (config.selection === 'max' || rerank) {
      const top = selectTopK({ scores, offsets, k: 1 });
      return Uint32Array.from({ length: P }, (_, p) => (top.offsets[p + 1] > top.offsets[p] ? top.indices[top.offsets[p]] : 0xffffffff));
    }
    const keys = BigUint64Array.from(traces, (t, i) => stringKey(task.answerKey(problems[sampleProblem(i)], t)));
    return voteAnswers({ keys, weights: scores, offsets, method: config.selection === 'weighted' ? 'weighted' : 'majority' }).winner;
  });

  for (let p = 0; p < P; p++) {
    const r = results[p];
    let pass = false;
    for (let i = p * N; i < (p + 1) * N; i++) if (task.isCorrect(problems[p], traces[i])) pass = true;
    r.passAtN = pass;
    const i = chosen[p];
    if (i === 0xffffffff) continue;
    r.trace = traces[i];
    r.value = scores[i];
    if (stepValues) r.stepValues = stepValues[i];
    r.finished = true;
    r.answer = task.answerKey(problems[p], traces[i]);
    r.correct = task.isCorrect(problems[p], traces[i]);
  }
  return results;
}

/** The trace whose prefixes start at or before prefix j (stepAt is increasing). */
function traceOfPrefix(stepAt: Uint32Array, j: number): number {
  let lo = 0;
  let hi = stepAt.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (stepAt[mid] <= j) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
