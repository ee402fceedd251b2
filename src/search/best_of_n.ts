// Whole-response search over a cohort of problems: best-of-N reranked by an outcome verifier
// (max score, weighted vote or majority vote over answers) and best-of-N reranked by the PAV
// score of every step. Pass@N with the true checker comes with both as the ceiling.
import { aggregateSteps, effectiveRewards } from '../ops/advantages.ts';
import { selectTopK } from '../ops/prune.ts';
import { voteAnswers } from '../ops/vote.ts';
import { ErrorCodes, PavError } from '../errors.ts';
import { chargeCall, chargeScores, type Phase } from './compute.ts';
import { checkCompletionBatch, checkScoreBatch, checkStepScoreBatch } from './backend_checks.ts';
import type { VerifierBackend } from './backends.ts';
import { PrefixList, prefixesFor } from './prefixes.ts';
import { StepTree } from './step_tree.ts';
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
    // PAV of every step: the value of every prefix (the bare problem included), then
    // r_h = Q_h + alpha * (mu_h - mu_{h-1}), aggregated over the trace. Layout of the values:
    // problem p's root at p, response i's step h at P + stepOffsets[i] + h.
    const stepOffsets = new Uint32Array(traces.length + 1);
    const withSteps: number[] = []; // responses with at least one step (an empty one has no values)
    for (let i = 0; i < traces.length; i++) {
      stepOffsets[i + 1] = stepOffsets[i] + traces[i].length;
      if (traces[i].length > 0) withSteps.push(i);
    }
    const layout: StepLayout<S> = { problems, traces, N, stepOffsets, withSteps, results, signal: ctx.signal };
    const [base, prov] = await timed('score', 'score steps', () =>
      Promise.all([scoreEveryStep(verifier, false, layout), prover ? scoreEveryStep(prover, true, layout) : undefined]),
    );
    const nSteps = stepOffsets[traces.length];
    scores = await timed('prune', 'rerank', () => {
      const parentIndex = new Uint32Array(nSteps);
      for (let i = 0; i < traces.length; i++)
        for (let s = stepOffsets[i]; s < stepOffsets[i + 1]; s++) parentIndex[s] = s === stepOffsets[i] ? sampleProblem(i) : P + s - 1;
      const r = effectiveRewards({
        q: base.subarray(P),
        parentIndex,
        parentQ: base,
        alpha: config.alpha,
        K: config.proverK,
        ...(prov ? { proverChild: prov.subarray(P), proverParent: prov } : {}),
      });
      // Aggregate over the traces that have steps; an empty response (a model that said nothing)
      // ranks below every real one without a special case in the native op.
      const segs = new Uint32Array(withSteps.length + 1);
      withSteps.forEach((i, j) => (segs[j + 1] = stepOffsets[i + 1]));
      const agg = withSteps.length > 0 ? aggregateSteps({ scores: r, offsets: segs, method: config.rerankAggregate }) : new Float64Array(0);
      const out = new Float64Array(traces.length).fill(EMPTY_TRACE_SCORE);
      withSteps.forEach((i, j) => (out[i] = agg[j]));
      return out;
    });
    stepValues = traces.map((_, i) => Array.from(base.subarray(P + stepOffsets[i], P + stepOffsets[i + 1])));
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

interface StepLayout<S> {
  problems: readonly number[];
  /** N responses per problem, problem-major. */
  traces: readonly (readonly S[])[];
  N: number;
  /** Response i's steps are [stepOffsets[i], stepOffsets[i + 1]) of all steps. */
  stepOffsets: Uint32Array;
  /** The responses with at least one step, in order. */
  withSteps: readonly number[];
  results: ProblemResult<S>[];
  signal: AbortSignal | undefined;
  /** The per-prefix request, once a backend without scoreSteps needed it (see everyPrefix). */
  everyPrefix?: { owner: Uint32Array; request: { problems: Uint32Array; prefixes: PrefixList<S> } };
}

/**
 * The value after every step of every response, and of each problem's bare root, in the layout of
 * runBestOfN's rerank (root p at p, response i's step h at P + stepOffsets[i] + h); each problem is
 * charged its calls and tokens. A backend with scoreSteps reads each response once; otherwise every
 * prefix goes to scorePrefixes, as tree prefixes (each step stored once, not a copy per prefix).
 */
async function scoreEveryStep<S>(backend: VerifierBackend<S>, asProver: boolean, l: StepLayout<S>): Promise<Float64Array> {
  const { problems, traces, N, stepOffsets, withSteps, results, signal } = l;
  const P = problems.length;
  const nSteps = stepOffsets[traces.length];
  const charge = (p: number, tokens: number) => chargeCall(results[p].compute, asProver, tokens);
  const roots = { problems: Uint32Array.from(problems), prefixes: problems.map(() => [] as S[]), signal };
  if (backend.scoreSteps) {
    // Responses without steps are left out; the others' values then fall exactly in the layout.
    const req = { problems: Uint32Array.from(withSteps, (i) => problems[Math.floor(i / N)]), prefixes: withSteps.map((i) => traces[i]), signal };
    const [root, steps] = await Promise.all([backend.scorePrefixes(roots), withSteps.length > 0 ? backend.scoreSteps(req) : undefined]);
    checkScoreBatch(backend.name, root, P);
    const values = new Float64Array(P + nSteps);
    values.set(root.values);
    for (let p = 0; p < P; p++) charge(p, root.tokens[p]);
    if (steps) {
      checkStepScoreBatch(backend.name, steps, nSteps, withSteps.length);
      values.set(steps.values, P);
      withSteps.forEach((i, k) => charge(Math.floor(i / N), steps.tokens[k]));
    }
    return values;
  }
  const { owner, request } = (l.everyPrefix ??= everyPrefix(l));
  const batch = await backend.scorePrefixes({ problems: request.problems, prefixes: prefixesFor(backend, request.prefixes), signal });
  checkScoreBatch(backend.name, batch, P + nSteps);
  for (let j = 0; j < owner.length; j++) charge(owner[j], batch.tokens[j]);
  return batch.values;
}

/**
 * Every prefix of every response, roots first, as one scorePrefixes request over a StepTree (each
 * step stored once; built once and shared by the verifier and the prover). owner[j] is the index
 * into `problems` of prefix j.
 */
function everyPrefix<S>(l: StepLayout<S>): NonNullable<StepLayout<S>['everyPrefix']> {
  const { problems, traces, N, stepOffsets } = l;
  const P = problems.length;
  const total = P + stepOffsets[traces.length];
  const tree = new StepTree<S>(total);
  const owner = new Uint32Array(total);
  for (let p = 0; p < P; p++) owner[tree.addRoot()] = p;
  for (let i = 0; i < traces.length; i++) {
    let node = Math.floor(i / N);
    for (const step of traces[i]) owner[(node = tree.add(node, step))] = Math.floor(i / N);
  }
  const nodes = new Int32Array(total);
  for (let j = 0; j < total; j++) nodes[j] = j;
  return { owner, request: { problems: Uint32Array.from(owner, (p) => problems[p]), prefixes: PrefixList.inTree(tree, nodes) } };
}
