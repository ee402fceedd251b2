// Process advantages of a Best-of-K prover (Setlur et al. 2024, arXiv 2410.08146): the BoK transform,
// per-step advantages, effective rewards for beam search, dense RL weights. One native call per op;
// the C++ core re-validates everything and throws the same typed errors (err.code).
import { addon } from '../native/binding.ts';
import { PavTypeError } from '../errors.ts';
import {
  type DeviceOptions,
  type FloatArray,
  requireFinite,
  requireFloatArray,
  requireInteger,
  requireUint32Array,
  resolveDevice,
  requireObject,
} from './common.ts';

export { aggregateSteps, aggregateStepsAsync, type AggregateMethod, type AggregateStepsOptions } from './aggregate.ts';

/** Output of an op: the same kind of float array as its main input. */
export type SameKind<A extends FloatArray> = A extends Float32Array ? Float32Array : Float64Array;

/** Largest K the native core accepts (an exact JS integer; squaring needs at most 53 steps). */
export const MAX_K = Number.MAX_SAFE_INTEGER;

type Dev = 'cpu' | 'cuda';
interface NativeCall {
  device: Dev;
  async: boolean;
}
/** The slice of the native addon this module calls (native/addon/advantages_binding.cpp). */
export interface AdvantagesBinding {
  bokTransform(o: { q: FloatArray; K: number } & NativeCall): FloatArray | Promise<FloatArray>;
  stepAdvantages(
    o: { values: FloatArray; offsets: Uint32Array; rootValues: FloatArray; K: number } & NativeCall,
  ): FloatArray | Promise<FloatArray>;
  effectiveRewards(
    o: {
      q: FloatArray;
      parentIndex: Uint32Array;
      parentQ: FloatArray;
      alpha: number;
      K: number;
      proverChild?: FloatArray;
      proverParent?: FloatArray;
      out?: FloatArray;
    } & NativeCall,
  ): FloatArray | Promise<FloatArray>;
  denseRewards(
    o: {
      offsets: Uint32Array;
      outcomes: FloatArray;
      values: FloatArray;
      rootValues: FloatArray;
      alpha: number;
      baselines?: FloatArray;
      K: number;
    } & NativeCall,
  ): FloatArray | Promise<FloatArray>;
  expandToTokens(o: { stepWeights: FloatArray; tokenOffsets: Uint32Array } & NativeCall): FloatArray | Promise<FloatArray>;
}

const native = () => addon<AdvantagesBinding>();

// Secondary float inputs share the main input's kind, so the core runs one instantiation per call.
function requireLike(name: string, v: unknown, like: FloatArray, likeName: string): FloatArray {
  const a = requireFloatArray(name, v);
  if (a.constructor !== like.constructor)
    throw new PavTypeError(`${name} must be a ${like.constructor.name} like ${likeName}, got a ${a.constructor.name}`);
  return a;
}

function requireOptions(name: string, o: unknown): Record<string, unknown> {
  requireObject(`${name} options`, o);
  return o as Record<string, unknown>;
}

function kOf(v: unknown, fallback: number): number {
  return v === undefined ? fallback : requireInteger('K', v, 1, MAX_K);
}

// ---------------------------------------------------------------- bokTransform

function bokCall(q: FloatArray, K: number, options: DeviceOptions | undefined, async: boolean) {
  requireFloatArray('q', q);
  requireInteger('K', K, 1, MAX_K);
  const device = resolveDevice(options?.device, q.length);
  return native().bokTransform({ q, K, device, async });
}

/**
 * Best-of-K prover value Q^BoK = 1 - (1 - q)^K (paper App. D), elementwise. K = 1 returns q unchanged.
 * @param q base-policy values Q^pi in [0, 1]
 * @param K integer >= 1 (the paper found K = 4 best)
 * @returns a new array of the same kind as q
 * @throws PavRangeError ERR_PAV_NON_FINITE / ERR_PAV_OUT_OF_RANGE naming the bad index; ERR_PAV_INVALID_ARG for K
 */
export function bokTransform<A extends FloatArray>(q: A, K: number, options?: DeviceOptions): SameKind<A> {
  return bokCall(q, K, options, false) as SameKind<A>;
}
/** {@link bokTransform} on the libuv thread pool. */
export function bokTransformAsync<A extends FloatArray>(q: A, K: number, options?: DeviceOptions): Promise<SameKind<A>> {
  return Promise.resolve().then(() => bokCall(q, K, options, true) as Promise<SameKind<A>>);
}

// ---------------------------------------------------------------- stepAdvantages

export interface StepAdvantagesOptions<A extends FloatArray = FloatArray> extends DeviceOptions {
  /** Per step, prover values Q^mu in [0, 1] (or base values Q^pi when K > 1). */
  values: A;
  /** CSR over trajectories: trajectory t is steps [offsets[t], offsets[t+1]); length T + 1. */
  offsets: Uint32Array;
  /** Per trajectory, the value of the bare problem (the parent of step 1); same kind as values. */
  rootValues: FloatArray;
  /** BoK-transform values and rootValues first (default 1: they already are prover values). */
  K?: number;
}

function stepCall(o: StepAdvantagesOptions, async: boolean) {
  const opts = requireOptions('stepAdvantages', o);
  const values = requireFloatArray('values', opts.values);
  const offsets = requireUint32Array('offsets', opts.offsets);
  const rootValues = requireLike('rootValues', opts.rootValues, values, 'values');
  const K = kOf(opts.K, 1);
  const device = resolveDevice(o.device, values.length);
  return native().stepAdvantages({ values, offsets, rootValues, K, device, async });
}

/**
 * Per-step advantages A_h = Q^mu_h - Q^mu_{h-1}, with Q^mu_0 = the trajectory's root value.
 * The advantages of a trajectory telescope to (last value - root value).
 * @throws PavRangeError ERR_PAV_BAD_OFFSETS / ERR_PAV_LENGTH_MISMATCH / ERR_PAV_NON_FINITE / ERR_PAV_OUT_OF_RANGE
 */
export function stepAdvantages<A extends FloatArray>(o: StepAdvantagesOptions<A>): SameKind<A> {
  return stepCall(o, false) as SameKind<A>;
}
/** {@link stepAdvantages} on the libuv thread pool. */
export function stepAdvantagesAsync<A extends FloatArray>(o: StepAdvantagesOptions<A>): Promise<SameKind<A>> {
  return Promise.resolve().then(() => stepCall(o, true) as Promise<SameKind<A>>);
}

// ---------------------------------------------------------------- effectiveRewards

export interface EffectiveRewardsOptions<A extends FloatArray = FloatArray> extends DeviceOptions {
  /** Per candidate (child step): Q^pi in [0, 1]. */
  q: A;
  /** Per candidate: its parent's index into parentQ. */
  parentIndex: Uint32Array;
  /** Per parent: Q^pi of the parent prefix (for a first step, the bare problem's value); same kind as q. */
  parentQ: FloatArray;
  /** Weight of the advantage term: paper 0.5 (search, 2B/9B), 0.2 (27B), 3-5 (RL). Any finite value. */
  alpha: number;
  /** Best-of-K prover used when no prover values are given (default 4, the paper's best). */
  K?: number;
  /** A separate prover verifier's value per candidate; give it together with proverParent. */
  proverChild?: FloatArray;
  /** The prover's value per parent (gathered through parentIndex like parentQ). */
  proverParent?: FloatArray;
  /**
   * Write the rewards here instead of a new array (same kind and length as q, sharing no memory
   * with any input) and return it. For hot loops: a fresh multi-MB output costs more than the op.
   * With the async variant, do not touch it until the promise settles.
   */
  out?: SameKind<A>;
}

function effCall(o: EffectiveRewardsOptions, async: boolean) {
  const opts = requireOptions('effectiveRewards', o);
  const q = requireFloatArray('q', opts.q);
  const parentIndex = requireUint32Array('parentIndex', opts.parentIndex);
  const parentQ = requireLike('parentQ', opts.parentQ, q, 'q');
  const alpha = requireFinite('alpha', opts.alpha);
  const K = kOf(opts.K, 4);
  if ((opts.proverChild === undefined) !== (opts.proverParent === undefined))
    throw new PavTypeError('proverChild and proverParent must be given together');
  const device = resolveDevice(o.device, q.length);
  const call = { q, parentIndex, parentQ, alpha, K, device, async, ...(opts.out === undefined ? {} : { out: requireLike('out', opts.out, q, 'q') }) };
  if (opts.proverChild === undefined) return native().effectiveRewards(call);
  const proverChild = requireLike('proverChild', opts.proverChild, q, 'q');
  const proverParent = requireLike('proverParent', opts.proverParent, q, 'q');
  return native().effectiveRewards({ ...call, proverChild, proverParent });
}

/**
 * Effective reward of each candidate step for beam search (paper section 4):
 * r_i = q[i] + alpha * (mu(child i) - mu(parent of i)), with mu = the given prover values, or else
 * the Best-of-K transform of q[i] and parentQ[parentIndex[i]]. For alpha >= 0 and a BoK prover,
 * children of one parent are ranked exactly as by q alone; PAV re-ranks across parents.
 * @throws PavRangeError e.g. "parentIndex[3] = 9 is out of range for parentQ (length 4)" (ERR_PAV_OUT_OF_RANGE)
 */
export function effectiveRewards<A extends FloatArray>(o: EffectiveRewardsOptions<A>): SameKind<A> {
  return effCall(o, false) as SameKind<A>;
}
/** {@link effectiveRewards} on the libuv thread pool. */
export function effectiveRewardsAsync<A extends FloatArray>(o: EffectiveRewardsOptions<A>): Promise<SameKind<A>> {
  return Promise.resolve().then(() => effCall(o, true) as Promise<SameKind<A>>);
}

// ---------------------------------------------------------------- denseRewards

export interface DenseRewardsOptions<A extends FloatArray = FloatArray> extends DeviceOptions {
  /** CSR over trajectories (length T + 1). */
  offsets: Uint32Array;
  /** Per trajectory: outcome reward R(y), any finite value; same kind as values. */
  outcomes: FloatArray;
  /** Per step: prover value Q^mu in [0, 1] (or Q^pi with K > 1). */
  values: A;
  /** Per trajectory: value of the bare problem. */
  rootValues: FloatArray;
  /** Weight of the advantage (paper RL: 3..5; toy: 1). */
  alpha: number;
  /** Optional per-step baseline subtracted from each weight. */
  baselines?: FloatArray;
  /** BoK-transform values first (default 1: values already are prover values). */
  K?: number;
}

function denseCall(o: DenseRewardsOptions, async: boolean) {
  const opts = requireOptions('denseRewards', o);
  const values = requireFloatArray('values', opts.values);
  const offsets = requireUint32Array('offsets', opts.offsets);
  const outcomes = requireLike('outcomes', opts.outcomes, values, 'values');
  const rootValues = requireLike('rootValues', opts.rootValues, values, 'values');
  const alpha = requireFinite('alpha', opts.alpha);
  const K = kOf(opts.K, 1);
  const device = resolveDevice(o.device, values.length);
  const call = { offsets, outcomes, values, rootValues, alpha, K, device, async };
  if (opts.baselines === undefined) return native().denseRewards(call);
  return native().denseRewards({ ...call, baselines: requireLike('baselines', opts.baselines, values, 'values') });
}

/**
 * Per-step REINFORCE weight of paper section 5: R(y) + alpha * A^mu(s_h, a_h) - baseline_h.
 * Each step gets its own advantage, not a sum of future ones. Spread it over tokens with expandToTokens.
 * @throws PavRangeError for bad offsets, mismatched lengths, non-finite or out-of-[0,1] values
 */
export function denseRewards<A extends FloatArray>(o: DenseRewardsOptions<A>): SameKind<A> {
  return denseCall(o, false) as SameKind<A>;
}
/** {@link denseRewards} on the libuv thread pool. */
export function denseRewardsAsync<A extends FloatArray>(o: DenseRewardsOptions<A>): Promise<SameKind<A>> {
  return Promise.resolve().then(() => denseCall(o, true) as Promise<SameKind<A>>);
}

// ---------------------------------------------------------------- expandToTokens

export interface ExpandToTokensOptions<A extends FloatArray = FloatArray> extends DeviceOptions {
  /** One weight per step (finite). */
  stepWeights: A;
  /** CSR of steps over tokens: step s covers tokens [tokenOffsets[s], tokenOffsets[s+1]); length S + 1. */
  tokenOffsets: Uint32Array;
}

function expandCall(o: ExpandToTokensOptions, async: boolean) {
  const opts = requireOptions('expandToTokens', o);
  const stepWeights = requireFloatArray('stepWeights', opts.stepWeights);
  const tokenOffsets = requireUint32Array('tokenOffsets', opts.tokenOffsets);
  const tokens = tokenOffsets.length > 0 ? tokenOffsets[tokenOffsets.length - 1] : 0;
  const device = resolveDevice(opts.device as DeviceOptions['device'], stepWeights.length + tokens);
  return native().expandToTokens({ stepWeights, tokenOffsets, device, async });
}

/**
 * Per-token weights: every token of step s gets stepWeights[s]. Output length is the last
 * tokenOffsets entry. CPU or CUDA (`device`, default 'auto'; a copy, so exact either way).
 * @throws PavRangeError ERR_PAV_LENGTH_MISMATCH / ERR_PAV_BAD_OFFSETS / ERR_PAV_NON_FINITE
 */
export function expandToTokens<A extends FloatArray>(o: ExpandToTokensOptions<A>): SameKind<A> {
  return expandCall(o, false) as SameKind<A>;
}
/** {@link expandToTokens} on the libuv thread pool. */
export function expandToTokensAsync<A extends FloatArray>(o: ExpandToTokensOptions<A>): Promise<SameKind<A>> {
  return Promise.resolve().then(() => expandCall(o, true) as Promise<SameKind<A>>);
}
