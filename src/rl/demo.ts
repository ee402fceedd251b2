// `rl-demo`: the paper's didactic RL experiment (Setlur et al. 2024, section 5 / Fig. on the planted
// subsequence task). An MLP policy over the whole prefix, initialised by supervised fine-tuning on
// samples of mu_5, trained with REINFORCE using per-token weight Q^pi + alpha * A^{mu_gamma}
// (alpha = 1, the "PAV" arm) against outcome-only (alpha = 0), plus a sweep of the prover's gamma
// and Pass@N after training.
//
// Choices (ours, where the paper is silent):
// - Q^pi is the current policy's value, which no DP gives (the policy conditions on the whole prefix,
//   so its tree of continuations has 15^9 leaves). We estimate it per step by Monte Carlo: the
//   trajectory's own outcome plus `qpiRollouts` fresh rollouts of the current policy from the prefix
//   ending with that step, averaged (unbiased; 0 rollouts gives R(y), the section-5 form). It is exact
//   where the prefix is decided: 1 once the target occurred, R(y) once the response ended.
// - A^mu is exact: Q^{mu_gamma} of every prefix from the oracle DP, differenced per step by the native
//   denseRewards op (through src/rl/rewards.ts), each step its own advantage.
// - SFT: "50 iterations on 3,200 samples" read as 50 Adam steps on minibatches of 64 from 3,200
//   mu_5 rollouts (one epoch). Both arms of a seed start from the same SFT policy.
// - Accuracy is *sampled* accuracy (temperature 1): the fraction of `evalSamples` fresh responses
//   that contain the target. With one problem, greedy accuracy would be 0 or 1.
// - Pass@N uses the unbiased estimator 1 - C(n-c, N)/C(n, N) over `passSamples` samples.
// - Each run is a pure function of its options and seed (sfc32 streams keyed by seed and purpose;
//   evaluation samples share streams across arms so arms are compared on common random numbers).
import { performance } from 'node:perf_hooks';
import { PavRangeError, PavTypeError } from '../errors.ts';
import { requireFinite, requireInteger, requireObject } from '../ops/common.ts';
import { isSolved, paperTask, ProblemTable, validateTask, type PlantedTask } from '../toy/task.ts';
import { startValues, valuePrefixes } from '../toy/oracle.ts';
import { sampleRollouts } from '../toy/sampler.ts';
import { Adam, MlpPolicy, Rng, Sgd, type Trajectories } from './policy_model.ts';
import { computeRewards, type RewardForm } from './rewards.ts';

export type BaselineKind = 'none' | 'batch-mean';

export interface RlDemoOptions {
  /** Seeds 0 .. seeds-1 (default 3). */
  seeds?: number;
  /** REINFORCE iterations of the main comparison (default 300; the paper: 10,000). */
  iterations?: number;
  /** Trajectories per REINFORCE iteration (default 64, the paper's). */
  batchSize?: number;
  /** Weight of A^mu in the PAV arm (default 1, the paper's). */
  alpha?: number;
  /** The prover mu_gamma of the PAV arm (default 10). */
  proverGamma?: number;
  /** The policy the SFT data comes from (default mu_5). */
  baseGamma?: number;
  /** SFT samples (default 3,200) and Adam steps (default 50); minibatch = samples / steps. */
  sftSamples?: number;
  sftIterations?: number;
  sftLr?: number;
  /** Learning rate of REINFORCE (default 1e-3, for Adam). */
  lr?: number;
  /** REINFORCE's optimizer: 'adam' (default) or 'sgd' (plain gradient descent, the ablation). */
  optimizer?: 'adam' | 'sgd';
  /**
   * Also train a third arm weighted base + alpha * Q^mu (the prover's value of the step, not its
   * advantage): the paper's warning that rewarding Q^mu rather than progress collapses the policy.
   */
  qmuArm?: boolean;
  /** Hidden units of the MLP (default 64). */
  hidden?: number;
  /** Fresh rollouts per step for the Monte-Carlo Q^pi, besides the trajectory's own outcome (default 1; 0 = R(y)). */
  qpiRollouts?: number;
  /** Base term of the weight: 'q-pi' (default, the didactic experiment) or 'outcome' (R(y), section 5). */
  form?: RewardForm;
  /** Baseline subtracted per step (default 'none', as in the didactic weight Q^pi + alpha A^mu). */
  baseline?: BaselineKind;
  /** Evaluate every this many iterations (default 10) on this many samples (default 512). */
  evalEvery?: number;
  evalSamples?: number;
  /** Prover gammas of the sweep (default 5, 8, 10, 15, 30, 100); [] skips it. */
  sweepGammas?: number[];
  /** Iterations per sweep run (default 100: mid-rise at the default learning rate). */
  sweepIterations?: number;
  /** Budgets N of Pass@N after training (default 1, 2, 4, .., 64) and samples to estimate it (default 1024). */
  passAtN?: number[];
  passSamples?: number;
  /** The task (default the paper's: V = 15, L = 10, y* = [3, 6, 0, 3, 5]). */
  task?: PlantedTask;
}

export type ResolvedRlDemoOptions = Required<RlDemoOptions>;

export const RL_DEMO_DEFAULTS: Readonly<ResolvedRlDemoOptions> = Object.freeze({
  seeds: 3,
  iterations: 300,
  batchSize: 64,
  alpha: 1,
  proverGamma: 10,
  baseGamma: 5,
  sftSamples: 3200,
  sftIterations: 50,
  sftLr: 1e-2,
  lr: 1e-3,
  optimizer: 'adam',
  qmuArm: false,
  hidden: 64,
  qpiRollouts: 1,
  form: 'q-pi' as RewardForm,
  baseline: 'none' as BaselineKind,
  evalEvery: 10,
  evalSamples: 512,
  sweepGammas: [5, 8, 10, 15, 30, 100],
  sweepIterations: 100,
  passAtN: [1, 2, 4, 8, 16, 32, 64],
  passSamples: 1024,
  task: paperTask(),
});

/** The paper's scale: 10,000 iterations for the comparison and the sweep (hours on 2 cores). */
export const RL_DEMO_PAPER_SCALE: Readonly<RlDemoOptions> = Object.freeze({ iterations: 10_000, sweepIterations: 10_000, evalEvery: 100 });

export interface CurvePoint {
  iteration: number;
  /** Sampled accuracy on evalSamples fresh responses. */
  accuracy: number;
}

export interface RunResult {
  seed: number;
  /** Prover gamma, or null for outcome-only (alpha = 0). */
  gamma: number | null;
  alpha: number;
  iterations: number;
  curve: CurvePoint[];
  /** Accuracy at the last iteration. */
  finalAccuracy: number;
  /** First evaluated iteration with accuracy >= 50% (null: never). */
  reach50: number | null;
  /** Mean training-batch success over the run (what the learner saw). */
  meanBatchSuccess: number;
  /** Pass@N after training, aligned with options.passAtN (main runs only). */
  passAtN?: number[];
  seconds: number;
}

export interface ArmSummary {
  key: 'outcome' | 'pav' | 'qmu';
  label: string;
  gamma: number | null;
  alpha: number;
  runs: RunResult[];
  /** Mean and sd over seeds at each evaluated iteration. */
  curve: { iteration: number; mean: number; sd: number }[];
  /** First evaluated iteration whose seed-mean accuracy reaches 50% / 90% (null: never). */
  reach50: number | null;
  reach90: number | null;
  passAtN: { n: number; mean: number; sd: number }[];
  /** Pass@N at an early checkpoint (the eval nearest iterations/3), from that eval's samples. */
  passAtNEarly: { iteration: number; values: { n: number; mean: number; sd: number }[] };
}

export interface SweepRow {
  gamma: number;
  /** Exact V^{mu_gamma}(start). */
  startValue: number;
  /** Per seed: accuracy after sweepIterations. */
  finals: number[];
  mean: number;
  sd: number;
  /** Per seed: first evaluated iteration with accuracy >= 50% (null: not within sweepIterations). */
  reach50: (number | null)[];
}

export interface RlDemoResults {
  options: Omit<ResolvedRlDemoOptions, 'task'> & { task: PlantedTask };
  /** Sampled accuracy of each seed's SFT policy, and of mu_base itself (exact). */
  sft: { seed: number; accuracy: number; passAtN: number[] }[];
  baseStartValue: number;
  arms: ArmSummary[];
  sft_passAtN: { n: number; mean: number; sd: number }[];
  sweep: SweepRow[];
  /** Outcome-only (alpha = 0) at sweepIterations, the sweep's reference. */
  sweepReference: { mean: number; sd: number; finals: number[]; reach50: (number | null)[] } | null;
  seconds: { sft: number; main: number; sweep: number; total: number };
  machine: { cpus: number; node: string };
}

export interface RlDemoContext {
  log?: (line: string) => void;
}

// ------------------------------------------------------------------------------------------ options

export function resolveRlDemoOptions(o: RlDemoOptions = {}): ResolvedRlDemoOptions {
  requireObject('rl-demo options', o);
  const d = RL_DEMO_DEFAULTS;
  const pick = <K extends keyof RlDemoOptions>(k: K) => (o[k] === undefined ? d[k] : o[k]) as ResolvedRlDemoOptions[K];
  const r: ResolvedRlDemoOptions = {
    seeds: requireInteger('seeds', pick('seeds'), 1, 1000),
    iterations: requireInteger('iterations', pick('iterations'), 1, 1e7),
    batchSize: requireInteger('batchSize', pick('batchSize'), 1, 1 << 16),
    alpha: requireFinite('alpha', pick('alpha')),
    proverGamma: requireFinite('proverGamma', pick('proverGamma')),
    baseGamma: requireFinite('baseGamma', pick('baseGamma')),
    sftSamples: requireInteger('sftSamples', pick('sftSamples'), 0, 1 << 24),
    sftIterations: requireInteger('sftIterations', pick('sftIterations'), 0, 1e7),
    sftLr: requireFinite('sftLr', pick('sftLr')),
    lr: requireFinite('lr', pick('lr')),
    optimizer: pick('optimizer'),
    qmuArm: pick('qmuArm') === true,
    hidden: requireInteger('hidden', pick('hidden'), 1, 4096),
    qpiRollouts: requireInteger('qpiRollouts', pick('qpiRollouts'), 0, 1024),
    form: pick('form'),
    baseline: pick('baseline'),
    evalEvery: requireInteger('evalEvery', pick('evalEvery'), 1, 1e7),
    evalSamples: requireInteger('evalSamples', pick('evalSamples'), 1, 1 << 24),
    sweepGammas: [...pick('sweepGammas')],
    sweepIterations: requireInteger('sweepIterations', pick('sweepIterations'), 1, 1e7),
    passAtN: [...pick('passAtN')],
    passSamples: requireInteger('passSamples', pick('passSamples'), 1, 1 << 24),
    task: pick('task'),
  };
  validateTask(r.task, 'task');
  if (r.task.vocab > 256) throw new PavRangeError(`task.vocab must be <= 256 for the MLP policy, got ${r.task.vocab}`);
  for (const [k, v] of [['proverGamma', r.proverGamma], ['baseGamma', r.baseGamma], ['lr', r.lr], ['sftLr', r.sftLr]] as const)
    if (!(v > 0)) throw new PavRangeError(`${k} must be > 0, got ${v}`);
  if (r.optimizer !== 'adam' && r.optimizer !== 'sgd') throw new PavTypeError(`optimizer must be 'adam' or 'sgd', got ${JSON.stringify(r.optimizer)}`);
  if (r.form !== 'q-pi' && r.form !== 'outcome') throw new PavTypeError(`form must be 'q-pi' or 'outcome', got ${JSON.stringify(r.form)}`);
  if (r.baseline !== 'none' && r.baseline !== 'batch-mean') throw new PavTypeError(`baseline must be 'none' or 'batch-mean', got ${JSON.stringify(r.baseline)}`);
  r.sweepGammas.forEach((g, i) => {
    requireFinite(`sweepGammas[${i}]`, g);
    if (!(g > 0)) throw new PavRangeError(`sweepGammas[${i}] must be > 0, got ${g}`);
  });
  r.passAtN.forEach((n, i) => requireInteger(`passAtN[${i}]`, n, 1, r.passSamples));
  if (r.sftIterations > 0 && r.sftSamples < r.sftIterations)
    throw new PavRangeError(`sftSamples (${r.sftSamples}) must be at least sftIterations (${r.sftIterations})`);
  return r;
}

// ------------------------------------------------------------------------------------------ pieces

// Stream ids of the PRNG, one per purpose, so changing one part of a run never shifts another's draws.
const STREAM = { init: 1, train: 2, qpi: 3, eval: 4, pass: 5, sft: 6 } as const;
const streamOf = (purpose: number, k = 0) => purpose * 1_000_003 + k;

/** Fraction of n fresh samples that solve the task. */
export function sampledAccuracy(policy: MlpPolicy, task: PlantedTask, n: number, rng: Rng): { accuracy: number; correct: number } {
  const t = policy.sample(n, rng);
  let c = 0;
  for (let i = 0; i < n; i++) if (isSolved(task, t.tokens.subarray(t.offsets[i], t.offsets[i + 1]))) c++;
  return { accuracy: c / n, correct: c };
}

/** Unbiased Pass@k from n samples with c correct: 1 - C(n - c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  let r = 1;
  for (let i = n - c + 1; i <= n; i++) r *= 1 - k / i;
  return 1 - r;
}

/** SFT: Adam steps on minibatches of mu_base rollouts, maximising their log-likelihood. */
export function supervisedInit(opts: ResolvedRlDemoOptions, seed: number): MlpPolicy {
  const task = opts.task;
  const policy = MlpPolicy.create({ vocab: task.vocab, maxLen: task.maxLen, hidden: opts.hidden }, seed);
  if (opts.sftIterations === 0 || opts.sftSamples === 0) return policy;
  const table = ProblemTable.of(task);
  const data = sampleRollouts(table, 0, [[]], { gamma: opts.baseGamma, n: opts.sftSamples, seed: streamOf(STREAM.sft, seed) });
  const adam = new Adam(policy.size, { lr: opts.sftLr });
  const grad = new Float64Array(policy.size);
  const per = Math.floor(opts.sftSamples / opts.sftIterations);
  for (let it = 0; it < opts.sftIterations; it++) {
    const first = it * per;
    const a = data.offsets[first];
    const b = data.offsets[first + per];
    const offsets = new Uint32Array(per + 1);
    for (let i = 0; i <= per; i++) offsets[i] = data.offsets[first + i] - a;
    const batch: Trajectories = { tokens: Uint8Array.from(data.tokens.subarray(a, b)), offsets };
    const weights = new Float64Array(b - a).fill(1);
    grad.fill(0);
    policy.accumulateGrad(batch, weights, grad);
    const scale = -1 / (b - a); // descend the mean per-token negative log-likelihood
    for (let i = 0; i < grad.length; i++) grad[i] *= scale;
    adam.step(policy.params, grad);
  }
  return policy;
}

interface TrainSpec {
  seed: number;
  alpha: number;
  gamma: number;
  iterations: number;
  /** V^{mu_gamma}(start), the root value of every trajectory. */
  root: number;
  /** What the prover adds per step: its advantage A^mu (default, PAV) or its value Q^mu (the collapse arm). */
  progress?: 'advantage' | 'value';
}

/**
 * REINFORCE from a copy of `init`: per iteration, batchSize responses from the current policy, the
 * per-token weight base + alpha * A^mu - baseline from the Rewards API, one Adam step on
 * -(1/B) sum_t w_t log pi(a_t | s_t).
 */
export function trainReinforce(init: MlpPolicy, opts: ResolvedRlDemoOptions, spec: TrainSpec): RunResult {
  const t0 = performance.now();
  const task = opts.task;
  const table = ProblemTable.of(task);
  const policy = init.clone();
  const optimizer = opts.optimizer === 'sgd' ? new Sgd(opts.lr) : new Adam(policy.size, { lr: opts.lr });
  const grad = new Float64Array(policy.size);
  const trainRng = new Rng(spec.seed, streamOf(STREAM.train));
  const qpiRng = new Rng(spec.seed, streamOf(STREAM.qpi));
  const B = opts.batchSize;
  const L = task.maxLen;
  const curve: CurvePoint[] = [];
  let batchSuccess = 0;
  const evalAt = (it: number) => {
    const rng = new Rng(spec.seed, streamOf(STREAM.eval, it));
    curve.push({ iteration: it, accuracy: sampledAccuracy(policy, task, opts.evalSamples, rng).accuracy });
  };
  const buf = new Uint8Array(L);
  for (let it = 0; it < spec.iterations; it++) {
    if (it % opts.evalEvery === 0) evalAt(it);
    const traj = policy.sample(B, trainRng);
    const S = traj.tokens.length;
    const outcomes = new Float64Array(B);
    // Every non-empty prefix of every response, for Q^mu (steps are tokens: prefix ending at step h).
    let prefixTokens = 0;
    for (let i = 0; i < B; i++) {
      const n = traj.offsets[i + 1] - traj.offsets[i];
      prefixTokens += (n * (n + 1)) / 2;
    }
    const pTokens = new Uint8Array(prefixTokens);
    const pOffsets = new Uint32Array(S + 1);
    const policyValues = new Float64Array(S);
    let w = 0;
    for (let i = 0; i < B; i++) {
      const a0 = traj.offsets[i];
      const n = traj.offsets[i + 1] - a0;
      const resp = traj.tokens.subarray(a0, a0 + n);
      const R = isSolved(task, resp) ? 1 : 0;
      outcomes[i] = R;
      batchSuccess += R;
      for (let h = 0; h < n; h++) {
        const s = a0 + h;
        pTokens.set(resp.subarray(0, h + 1), w);
        w += h + 1;
        pOffsets[s + 1] = w;
        // Q^pi(s_h, a_h): exact once decided, else the mean of R(y) and qpiRollouts fresh rollouts.
        const prefix = resp.subarray(0, h + 1);
        const ended = h + 1 === L || resp[h] === task.vocab - 1;
        if (isSolved(task, prefix)) policyValues[s] = 1;
        else if (ended || opts.qpiRollouts === 0) policyValues[s] = R;
        else {
          let wins = R;
          for (let j = 0; j < opts.qpiRollouts; j++) {
            buf.set(prefix);
            const len = policy.continueInto(buf, h + 1, qpiRng);
            if (isSolved(task, buf.subarray(0, len))) wins++;
          }
          policyValues[s] = wins / (opts.qpiRollouts + 1);
        }
      }
    }
    const proverValues = valuePrefixes(table, 0, { tokens: pTokens, offsets: pOffsets }, { gamma: spec.gamma });
    let baselines: Float64Array | undefined;
    if (opts.baseline === 'batch-mean') {
      // Per position, the batch mean of the base term (Q^pi or R): a control variate independent of the token's own sample only in expectation (ours).
      const sum = new Float64Array(L);
      const cnt = new Float64Array(L);
      for (let i = 0; i < B; i++)
        for (let s = traj.offsets[i]; s < traj.offsets[i + 1]; s++) {
          const h = s - traj.offsets[i];
          sum[h] += opts.form === 'q-pi' ? policyValues[s] : outcomes[i];
          cnt[h]++;
        }
      baselines = new Float64Array(S);
      for (let i = 0; i < B; i++)
        for (let s = traj.offsets[i]; s < traj.offsets[i + 1]; s++) baselines[s] = sum[s - traj.offsets[i]] / cnt[s - traj.offsets[i]];
    }
    const rewards = computeRewards(
      {
        offsets: traj.offsets,
        outcomes,
        proverValues,
        proverRootValues: new Float64Array(B).fill(spec.root),
        policyValues,
        baselines,
      },
      { form: opts.form, alpha: spec.progress === 'value' ? 0 : spec.alpha, device: 'cpu' },
    );
    // The collapse arm: the prover's value of each step instead of its advantage.
    if (spec.progress === 'value') for (let s = 0; s < S; s++) rewards.stepWeights[s] += spec.alpha * proverValues[s];
    grad.fill(0);
    policy.accumulateGrad(traj, rewards.stepWeights, grad);
    const scale = -1 / B;
    for (let i = 0; i < grad.length; i++) grad[i] *= scale;
    optimizer.step(policy.params, grad);
  }
  evalAt(spec.iterations);
  const finalAccuracy = curve[curve.length - 1].accuracy;
  const reach50 = curve.find((c) => c.accuracy >= 0.5)?.iteration ?? null;
  let passAtN: number[] | undefined;
  if (opts.passAtN.length > 0) {
    const { correct } = sampledAccuracy(policy, task, opts.passSamples, new Rng(spec.seed, streamOf(STREAM.pass)));
    passAtN = opts.passAtN.map((k) => passAtK(opts.passSamples, correct, k));
  }
  return {
    seed: spec.seed,
    gamma: spec.alpha === 0 ? null : spec.gamma,
    alpha: spec.alpha,
    iterations: spec.iterations,
    curve,
    finalAccuracy,
    reach50,
    meanBatchSuccess: batchSuccess / (B * spec.iterations),
    passAtN,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------ stats

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd };
}

function summarizeArm(
  key: 'outcome' | 'pav' | 'qmu',
  label: string,
  gamma: number | null,
  alpha: number,
  runs: RunResult[],
  opts: ResolvedRlDemoOptions,
): ArmSummary {
  const passAtN = opts.passAtN;
  const its = runs[0].curve.map((p) => p.iteration);
  // Early Pass@N from the eval samples at the checkpoint nearest a third of the run (no extra sampling).
  const early = its.reduce((a, b) => (Math.abs(b - opts.iterations / 3) < Math.abs(a - opts.iterations / 3) ? b : a));
  const ej = its.indexOf(early);
  const earlyValues = passAtN
    .filter((n) => n <= opts.evalSamples)
    .map((n) => ({ n, ...meanSd(runs.map((r) => passAtK(opts.evalSamples, Math.round(r.curve[ej].accuracy * opts.evalSamples), n))) }));
  const curve = its.map((iteration, j) => ({ iteration, ...meanSd(runs.map((r) => r.curve[j].accuracy)) }));
  const reach = (x: number) => curve.find((p) => p.mean >= x)?.iteration ?? null;
  return {
    key,
    label,
    gamma,
    alpha,
    runs,
    curve,
    reach50: reach(0.5),
    reach90: reach(0.9),
    passAtN: passAtN.map((n, j) => ({ n, ...meanSd(runs.map((r) => r.passAtN![j])) })),
    passAtNEarly: { iteration: early, values: earlyValues },
  };
}

// ------------------------------------------------------------------------------------------ demo

/**
 * The whole experiment: SFT per seed, outcome-only vs PAV (prover mu_proverGamma, alpha) for
 * `iterations`, the gamma sweep for `sweepIterations`, Pass@N after training.
 */
export async function runRlDemo(options: RlDemoOptions = {}, ctx: RlDemoContext = {}): Promise<RlDemoResults> {
  const opts = resolveRlDemoOptions(options);
  const log = ctx.log ?? (() => {});
  const t0 = performance.now();
  const task = opts.task;
  const table = ProblemTable.of(task);
  const gammas = [...new Set([opts.proverGamma, opts.baseGamma, ...opts.sweepGammas])];
  const roots = new Map(gammas.map((g) => [g, startValues(table, { gamma: g })[0]]));
  const seeds = Array.from({ length: opts.seeds }, (_, i) => i);
  const yield_ = () => new Promise<void>((r) => setImmediate(r));

  log(`rl-demo: task y*=[${task.target.join(',')}] V=${task.vocab} L=${task.maxLen}; ${opts.seeds} seeds, ${opts.iterations} iterations x batch ${opts.batchSize}; Q^pi = MC with ${opts.qpiRollouts} rollouts/step; form ${opts.form}`);
  const tSft = performance.now();
  const sftPolicies = seeds.map((s) => supervisedInit(opts, s));
  const sft = seeds.map((s, i) => {
    const acc = sampledAccuracy(sftPolicies[i], task, opts.passSamples, new Rng(s, streamOf(STREAM.pass)));
    return { seed: s, accuracy: acc.accuracy, passAtN: opts.passAtN.map((k) => passAtK(opts.passSamples, acc.correct, k)) };
  });
  const sftSeconds = (performance.now() - tSft) / 1000;
  log(`sft: ${opts.sftIterations} steps on ${opts.sftSamples} mu_${opts.baseGamma} samples: sampled accuracy ${sft.map((x) => (100 * x.accuracy).toFixed(1) + '%').join(', ')} (mu_${opts.baseGamma} itself: ${(100 * roots.get(opts.baseGamma)!).toFixed(2)}%) in ${sftSeconds.toFixed(1)} s`);

  const tMain = performance.now();
  const outcomeRuns: RunResult[] = [];
  const pavRuns: RunResult[] = [];
  for (const [i, s] of seeds.entries()) {
    await yield_();
    const o = trainReinforce(sftPolicies[i], opts, { seed: s, alpha: 0, gamma: opts.proverGamma, iterations: opts.iterations, root: roots.get(opts.proverGamma)! });
    outcomeRuns.push(o);
    log(`seed ${s} outcome-only: final accuracy ${(100 * o.finalAccuracy).toFixed(1)}% (${o.seconds.toFixed(1)} s)`);
    await yield_();
    const p = trainReinforce(sftPolicies[i], opts, { seed: s, alpha: opts.alpha, gamma: opts.proverGamma, iterations: opts.iterations, root: roots.get(opts.proverGamma)! });
    pavRuns.push(p);
    log(`seed ${s} PAV gamma=${opts.proverGamma}: final accuracy ${(100 * p.finalAccuracy).toFixed(1)}% (${p.seconds.toFixed(1)} s)`);
  }
  const qmuRuns: RunResult[] = [];
  if (opts.qmuArm)
    for (const [i, s] of seeds.entries()) {
      await yield_();
      const q = trainReinforce(sftPolicies[i], opts, { seed: s, alpha: opts.alpha, gamma: opts.proverGamma, iterations: opts.iterations, root: roots.get(opts.proverGamma)!, progress: 'value' });
      qmuRuns.push(q);
      log(`seed ${s} Q^mu bonus gamma=${opts.proverGamma}: final accuracy ${(100 * q.finalAccuracy).toFixed(1)}% (${q.seconds.toFixed(1)} s)`);
    }
  const mainSeconds = (performance.now() - tMain) / 1000;
  const formLabel = opts.form === 'q-pi' ? 'Q^pi' : 'R(y)';
  const arms = [
    summarizeArm('outcome', `outcome-only (${formLabel})`, null, 0, outcomeRuns, opts),
    summarizeArm('pav', `${formLabel} + ${opts.alpha} A^mu, gamma=${opts.proverGamma}`, opts.proverGamma, opts.alpha, pavRuns, opts),
    ...(opts.qmuArm ? [summarizeArm('qmu', `${formLabel} + ${opts.alpha} Q^mu, gamma=${opts.proverGamma}`, opts.proverGamma, opts.alpha, qmuRuns, opts)] : []),
  ];

  // The sweep reuses a main run's curve where it is the same computation (same seed, gamma, init).
  const tSweep = performance.now();
  const reuse = opts.sweepIterations <= opts.iterations && opts.sweepIterations % opts.evalEvery === 0;
  const truncated = (r: RunResult) => {
    const curve = r.curve.filter((p) => p.iteration <= opts.sweepIterations);
    return { final: curve[curve.length - 1].accuracy, reach50: curve.find((p) => p.accuracy >= 0.5)?.iteration ?? null };
  };
  const sweepOpts = { ...opts, passAtN: [] };
  const sweepRun = (i: number, alpha: number, gamma: number, main: RunResult) =>
    reuse && gamma === opts.proverGamma
      ? truncated(main)
      : truncated(trainReinforce(sftPolicies[i], sweepOpts, { seed: seeds[i], alpha, gamma, iterations: opts.sweepIterations, root: roots.get(gamma)! }));
  const sweep: SweepRow[] = [];
  for (const g of opts.sweepGammas) {
    const per: { final: number; reach50: number | null }[] = [];
    for (let i = 0; i < seeds.length; i++) {
      await yield_();
      per.push(sweepRun(i, opts.alpha, g, pavRuns[i]));
    }
    const finals = per.map((x) => x.final);
    const ms = meanSd(finals);
    sweep.push({ gamma: g, startValue: roots.get(g)!, finals, ...ms, reach50: per.map((x) => x.reach50) });
    log(`sweep gamma=${g}: accuracy after ${opts.sweepIterations} iterations ${(100 * ms.mean).toFixed(1)}% ± ${(100 * ms.sd).toFixed(1)}`);
  }
  let sweepReference: RlDemoResults['sweepReference'] = null;
  if (opts.sweepGammas.length > 0) {
    const per: { final: number; reach50: number | null }[] = [];
    for (let i = 0; i < seeds.length; i++) {
      await yield_();
      per.push(sweepRun(i, 0, opts.proverGamma, outcomeRuns[i]));
    }
    const finals = per.map((x) => x.final);
    sweepReference = { finals, ...meanSd(finals), reach50: per.map((x) => x.reach50) };
  }
  const sweepSeconds = (performance.now() - tSweep) / 1000;
  const sftPass = opts.passAtN.map((n, j) => ({ n, ...meanSd(sft.map((x) => x.passAtN[j])) }));
  const total = (performance.now() - t0) / 1000;
  log(`rl-demo done in ${total.toFixed(1)} s`);
  const { cpus } = await import('node:os');
  return {
    options: { ...opts, task: { ...task, target: [...task.target] } },
    sft,
    baseStartValue: roots.get(opts.baseGamma)!,
    arms,
    sft_passAtN: sftPass,
    sweep,
    sweepReference,
    seconds: { sft: sftSeconds, main: mainSeconds, sweep: sweepSeconds, total },
    machine: { cpus: cpus().length, node: process.version },
  };
}
