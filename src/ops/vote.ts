// Answer voting over sampled candidates: majority, weighted (sum of verifier scores) or max.
import { addon } from '../native/binding.ts';
import { PavRangeError, PavTypeError } from '../errors.ts';
import {
  type DeviceOptions,
  type FloatArray,
  requireBigUint64Array,
  requireFloatArray,
  requireUint32Array,
  resolveDevice,
  requireObject,
} from './common.ts';

export type VoteMethod = 'majority' | 'weighted' | 'max';
const METHODS: readonly VoteMethod[] = ['majority', 'weighted', 'max'];

/** winner[p] of a problem with no candidates (its score is 0). */
export const NO_WINNER = 0xffffffff;

export interface VoteAnswersOptions extends DeviceOptions {
  /** Per candidate, a 64-bit key of its normalised final answer (equal keys = same answer). */
  keys: BigUint64Array;
  /** Per candidate, a finite weight (e.g. the verifier's score). Required by 'weighted' and 'max'. */
  weights?: FloatArray;
  /** CSR over problems (length P + 1). */
  offsets: Uint32Array;
  /** Default 'majority'. */
  method?: VoteMethod;
}

export interface VoteResult {
  /** Per problem, the global index of the winning answer's best candidate (highest weight, lowest index on ties), or NO_WINNER. */
  winner: Uint32Array;
  /** Per problem, the winning answer's vote count / weight sum / max weight (0 for an empty problem). */
  score: Float64Array;
}

/** The slice of the native addon this module calls (native/addon/vote_binding.cpp). */
export interface VoteBinding {
  voteAnswers(o: {
    keys: BigUint64Array;
    weights?: FloatArray;
    offsets: Uint32Array;
    method: VoteMethod;
    device: 'cpu' | 'cuda';
    async: boolean;
  }): VoteResult | Promise<VoteResult>;
}

function call(o: VoteAnswersOptions, async: boolean) {
  requireObject('voteAnswers options', o);
  const keys = requireBigUint64Array('keys', o.keys);
  const offsets = requireUint32Array('offsets', o.offsets);
  const method = o.method ?? 'majority';
  if (typeof method !== 'string') throw new PavTypeError(`method must be a string, got ${typeof method}`);
  if (!METHODS.includes(method)) throw new PavRangeError(`method must be 'majority', 'weighted' or 'max', got '${method}'`);
  const device = resolveDevice(o.device, keys.length);
  const base = { keys, offsets, method, device, async };
  if (o.weights === undefined) return addon<VoteBinding>().voteAnswers(base);
  return addon<VoteBinding>().voteAnswers({ ...base, weights: requireFloatArray('weights', o.weights) });
}

/**
 * Pick one answer per problem. Ties between answers: higher score, then (majority, with weights)
 * higher weight sum, then the answer that appears first. Deterministic; weight sums are taken in
 * candidate order in double. CPU (a hash table per problem) or CUDA (`device`, default 'auto'):
 * identical winners and bit-identical scores; problems of more than 4096 candidates run on the
 * CPU within a CUDA call.
 * @throws PavRangeError for bad offsets, length mismatch, non-finite weights, 'weighted'/'max' without weights
 */
export function voteAnswers(o: VoteAnswersOptions): VoteResult {
  return call(o, false) as VoteResult;
}
/** {@link voteAnswers} on the libuv thread pool. */
export function voteAnswersAsync(o: VoteAnswersOptions): Promise<VoteResult> {
  return Promise.resolve().then(() => call(o, true) as Promise<VoteResult>);
}
