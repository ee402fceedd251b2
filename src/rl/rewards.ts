// Dense REINFORCE weights from process advantages (Setlur et al. 2024, arXiv 2410.08146, section 5 and
// the didactic RL experiment): per step, a base term + alpha * A^mu(s_h, a_h) - baseline, and per token.
//
// Two forms of the base term, both supported explicitly:
//   'outcome'  R(y) + alpha * A^mu - b   (paper section 5: the trajectory's outcome reward)
//   'q-pi'     Q^pi(s_h, a_h) + alpha * A^mu - b   (paper's didactic experiment: the current policy's value)
// R(y) is the one-sample Monte-Carlo estimate of Q^pi(s_h, a_h), so the two agree in expectation.
//
// Each step gets its own A^mu(s_h, a_h) = Q^mu(after step h) - Q^mu(before step h), never a sum of
// future advantages and never Q^mu itself (the paper shows Q^mu as a bonus collapses the policy).
// The arithmetic is the native batched denseRewards / stepAdvantages / expandToTokens ops.
import { denseRewards, expandToTokens, stepAdvantages } from '../ops/advantages.ts';
import {
  type DeviceOptions,
  type FloatArray,
  requireFinite,
  requireFloatArray,
  requireInteger,
  requireUint32Array,
} from '../ops/common.ts';
import { ErrorCodes, PavRangeError, PavTypeError } from '../errors.ts';
import type { VerifierBackend } from '../search/backends.ts';

/** 'outcome': R(y) + alpha A^mu - b (section 5). 'q-pi': Q^pi(s_h, a_h) + alpha A^mu - b (didactic). */
export type RewardForm = 'outcome' | 'q-pi';
export const REWARD_FORMS: readonly RewardForm[] = ['outcome', 'q-pi'];

/** A batch of trajectories whose prover values are already known. Float arrays share one kind. */
export interface RewardBatch<A extends FloatArray = FloatArray> {
  /** CSR of trajectories over steps: trajectory t is steps [offsets[t], offsets[t+1]); length T + 1. */
  offsets: Uint32Array;
  /** Per trajectory: outcome reward R(y) (any finite value; usually 0 or 1). */
  outcomes: A;
  /** Per step h: Q^mu of the prefix that ends with step h (the value after the step), in [0, 1]. */
  proverValues: A;
  /** Per trajectory: Q^mu of the bare problem (the value before step 1), in [0, 1]. */
  proverRootValues: A;
  /** Per step: Q^pi(s_h, a_h) of the policy being trained, in [0, 1]. Required by form 'q-pi'. */
  policyValues?: A;
  /** Per step: a baseline subtracted from the weight (e.g. a batch mean); default none. */
  baselines?: A;
  /** CSR of steps over tokens: step s covers tokens [tokenOffsets[s], tokenOffsets[s+1]); length S + 1. */
  tokenOffsets?: Uint32Array;
}

export interface RewardOptions extends DeviceOptions {
  /** Base term of the weight (see RewardForm). */
  form: RewardForm;
  /** Weight of the advantage (paper: 1 in the toy, 3..5 for LLM RL; 0 = outcome-only / Q^pi-only). */
  alpha: number;
  /** Best-of-K transform of the prover values before differencing (default 1: they are Q^mu already). */
  K?: number;
}

/** Per-step (and per-token) weights for a REINFORCE loss: loss = -sum_t w_t log pi(token_t | prefix). */
export interface Rewards<A extends FloatArray = FloatArray> {
  form: RewardForm;
  alpha: number;
  K: number;
  offsets: Uint32Array;
  outcomes: A;
  /** Per step: base + alpha * A^mu - baseline. */
  stepWeights: A;
  /** Per step: A^mu(s_h, a_h), the progress of that step alone (computeRewards always fills it; files may omit it). */
  advantages?: A;
  /** Present when the batch had tokenOffsets. */
  tokenOffsets?: Uint32Array;
  /** Per token: the weight of its step. */
  tokenWeights?: A;
}

function like<A extends FloatArray>(name: string, v: unknown, ref: A, refName: string): A {
  const a = requireFloatArray(name, v);
  if (a.constructor !== ref.constructor)
    throw new PavTypeError(`${name} must be a ${ref.constructor.name} like ${refName}, got a ${a.constructor.name}`);
  return a as A;
}

function requireLength(name: string, a: ArrayLike<number>, n: number, what: string) {
  if (a.length !== n)
    throw new PavRangeError(`${name} has length ${a.length}, expected ${n} (${what})`, ErrorCodes.LENGTH_MISMATCH);
}

function requireUnit(name: string, a: FloatArray) {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) throw new PavRangeError(`${name}[${i}] is ${v}`, ErrorCodes.NON_FINITE);
    if (v < 0 || v > 1) throw new PavRangeError(`${name}[${i}] = ${v} is outside [0, 1]`, ErrorCodes.OUT_OF_RANGE);
  }
}

export function requireForm(v: unknown): RewardForm {
  if (v !== 'outcome' && v !== 'q-pi') throw new PavTypeError(`form must be 'outcome' or 'q-pi', got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Per-step weights base + alpha * A^mu - baseline through the native denseRewards op, the advantages
 * through stepAdvantages, and per-token weights through expandToTokens when tokenOffsets is given.
 * For form 'q-pi' the base term rides in the baseline slot: denseRewards(outcome 0, baseline b - Q^pi).
 * @throws PavTypeError for a wrong kind, PavRangeError naming the field for bad lengths or values
 */
export function computeRewards<A extends FloatArray>(batch: RewardBatch<A>, options: RewardOptions): Rewards<A> {
  if (batch === null || typeof batch !== 'object') throw new PavTypeError('batch must be an object');
  if (options === null || typeof options !== 'object') throw new PavTypeError('options must be an object');
  const form = requireForm(options.form);
  const alpha = requireFinite('alpha', options.alpha);
  const K = requireInteger('K', options.K ?? 1, 1);
  const device = options.device;
  const offsets = requireUint32Array('offsets', batch.offsets);
  const values = requireFloatArray('proverValues', batch.proverValues) as A;
  const outcomes = like('outcomes', batch.outcomes, values, 'proverValues');
  const rootValues = like('proverRootValues', batch.proverRootValues, values, 'proverValues');
  if (offsets.length < 1) throw new PavRangeError('offsets must have length T + 1 >= 1', ErrorCodes.BAD_OFFSETS);
  const T = offsets.length - 1;
  requireLength('outcomes', outcomes, T, 'one per trajectory');
  // Checked for every form: 'q-pi' does not compute with them but returns them in Rewards.outcomes.
  for (let t = 0; t < T; t++) if (!Number.isFinite(outcomes[t])) throw new PavRangeError(`outcomes[${t}] is ${outcomes[t]}`, ErrorCodes.NON_FINITE);
  requireLength('proverRootValues', rootValues, T, 'one per trajectory');
  const S = values.length;
  const baselines = batch.baselines === undefined ? undefined : like('baselines', batch.baselines, values, 'proverValues');
  if (baselines) requireLength('baselines', baselines, S, 'one per step');

  let call: { outcomes: FloatArray; baselines?: FloatArray };
  if (form === 'outcome') {
    call = baselines ? { outcomes, baselines } : { outcomes };
  } else {
    if (batch.policyValues === undefined) throw new PavTypeError("form 'q-pi' needs policyValues (Q^pi per step)");
    const qpi = like('policyValues', batch.policyValues, values, 'proverValues');
    requireLength('policyValues', qpi, S, 'one per step');
    requireUnit('policyValues', qpi);
    const shifted = new (values.constructor as { new (n: number): A })(S);
    for (let i = 0; i < S; i++) shifted[i] = (baselines ? baselines[i] : 0) - qpi[i];
    const zeros = new (values.constructor as { new (n: number): A })(T);
    call = { outcomes: zeros, baselines: shifted };
  }
  const stepWeights = denseRewards({ offsets, values, rootValues, alpha, K, device, ...call }) as A;
  // Finite inputs can still overflow the output dtype. The weights are checked, not alpha against the
  // dtype: overflow depends on alpha, A^mu and the baseline together (a huge alpha is harmless where
  // A^mu = 0; float64 overflows through a huge baseline), so an alpha bound would be both too strict and too lax.
  for (let i = 0; i < S; i++)
    if (!Number.isFinite(stepWeights[i]))
      throw new PavRangeError(
        `stepWeights[${i}] is ${stepWeights[i]}: base + alpha * A^mu - baseline overflows ${values.constructor.name} (alpha = ${alpha} too large for it?)`,
        ErrorCodes.NON_FINITE,
      );
  const advantages = stepAdvantages({ values, offsets, rootValues, K, device }) as A;
  const out: Rewards<A> = { form, alpha, K, offsets, outcomes, stepWeights, advantages };
  if (batch.tokenOffsets !== undefined) {
    const tokenOffsets = requireUint32Array('tokenOffsets', batch.tokenOffsets);
    out.tokenOffsets = tokenOffsets;
    out.tokenWeights = expandToTokens({ stepWeights, tokenOffsets }) as A;
  }
  return out;
}

/** Trajectories as steps, for scoring every prefix with a verifier. */
export interface VerifierRewardBatch<S> {
  /** Problem index per trajectory (into the verifier's problem table). */
  problems: Uint32Array;
  /** The steps of each trajectory. */
  steps: readonly (readonly S[])[];
  /** Per trajectory: R(y). */
  outcomes: Float64Array;
  /** Per step (flattened in trajectory order): Q^pi, for form 'q-pi'. */
  policyValues?: Float64Array;
  /** Per step (flattened): baseline. */
  baselines?: Float64Array;
  /** Tokens per step (flattened); tokenOffsets is built from it. Omit for no per-token weights. */
  stepTokens?: Uint32Array;
}

export interface VerifierRewardOptions extends RewardOptions {
  signal?: AbortSignal;
}

/**
 * computeRewards with Q^mu fetched from a verifier (the prover): every non-empty prefix of every
 * trajectory and each bare problem, in one scorePrefixes call. Any VerifierBackend works (the toy
 * oracle, a learned model, an HTTP pooling endpoint); its values must lie in [0, 1].
 */
export async function computeRewardsWithVerifier<S>(
  batch: VerifierRewardBatch<S>,
  verifier: VerifierBackend<S>,
  options: VerifierRewardOptions,
): Promise<Rewards<Float64Array> & { verifierTokens: number }> {
  if (batch === null || typeof batch !== 'object') throw new PavTypeError('batch must be an object');
  if (verifier === null || typeof verifier !== 'object' || typeof verifier.scorePrefixes !== 'function')
    throw new PavTypeError('verifier must be a VerifierBackend (an object with scorePrefixes)');
  const problems = requireUint32Array('problems', batch.problems);
  if (!Array.isArray(batch.steps)) throw new PavTypeError('steps must be an array of step arrays');
  const T = batch.steps.length;
  requireLength('problems', problems, T, 'one per trajectory');
  const offsets = new Uint32Array(T + 1);
  for (let t = 0; t < T; t++) {
    const s = batch.steps[t];
    if (!Array.isArray(s)) throw new PavTypeError(`steps[${t}] must be an array of steps`);
    offsets[t + 1] = offsets[t] + s.length;
  }
  const S = offsets[T];
  // Request layout: T roots first, then each trajectory's prefixes of length 1 .. n in order.
  const reqProblems = new Uint32Array(T + S);
  const prefixes: (readonly S[])[] = new Array(T + S);
  for (let t = 0; t < T; t++) {
    const s = batch.steps[t];
    reqProblems[t] = problems[t];
    prefixes[t] = [];
    for (let h = 0; h < s.length; h++) {
      reqProblems[T + offsets[t] + h] = problems[t];
      prefixes[T + offsets[t] + h] = s.slice(0, h + 1);
    }
  }
  const scored = await verifier.scorePrefixes({ problems: reqProblems, prefixes, signal: options.signal });
  const v = requireFloatArray('verifier values', scored?.values);
  requireLength('verifier values', v, T + S, 'one per prefix requested');
  const proverRootValues = Float64Array.from(v.subarray(0, T));
  const proverValues = Float64Array.from(v.subarray(T));
  requireUnit('verifier values (roots)', proverRootValues);
  requireUnit('verifier values (prefixes)', proverValues);
  let tokenOffsets: Uint32Array | undefined;
  if (batch.stepTokens !== undefined) {
    const st = requireUint32Array('stepTokens', batch.stepTokens);
    requireLength('stepTokens', st, S, 'one per step');
    tokenOffsets = new Uint32Array(S + 1);
    for (let i = 0; i < S; i++) tokenOffsets[i + 1] = tokenOffsets[i] + st[i];
  }
  const rewards = computeRewards(
    {
      offsets,
      outcomes: requireFloatArray('outcomes', batch.outcomes) as Float64Array,
      proverValues,
      proverRootValues,
      policyValues: batch.policyValues,
      baselines: batch.baselines,
      tokenOffsets,
    },
    options,
  );
  let verifierTokens = 0;
  if (scored.tokens) for (let i = 0; i < scored.tokens.length; i++) verifierTokens += scored.tokens[i];
  return { ...rewards, verifierTokens };
}
