// Per-trajectory aggregation of per-step verifier scores (a PRM used as an ORM for reranking).
import { addon } from '../native/binding.ts';
import { PavRangeError, PavTypeError } from '../errors.ts';
import { type DeviceOptions, type FloatArray, requireFloatArray, requireUint32Array, resolveDevice, requireObject } from './common.ts';
import type { SameKind } from './advantages.ts';

export type AggregateMethod = 'last' | 'min' | 'prod' | 'mean';
const METHODS: readonly AggregateMethod[] = ['last', 'min', 'prod', 'mean'];

export interface AggregateStepsOptions<A extends FloatArray = FloatArray> extends DeviceOptions {
  /** Per step, finite scores. */
  scores: A;
  /** CSR over trajectories (length T + 1); every trajectory needs at least one step. */
  offsets: Uint32Array;
  /** How to reduce a trajectory's steps (default 'last'). */
  method?: AggregateMethod;
}

/** The slice of the native addon this module calls. */
export interface AggregateBinding {
  aggregateSteps(o: {
    scores: FloatArray;
    offsets: Uint32Array;
    method: string;
    device: 'cpu' | 'cuda';
    async: boolean;
  }): FloatArray | Promise<FloatArray>;
}

function call(o: AggregateStepsOptions, async: boolean) {
  requireObject('aggregateSteps options', o);
  const scores = requireFloatArray('scores', o.scores);
  const offsets = requireUint32Array('offsets', o.offsets);
  const method = o.method ?? 'last';
  if (typeof method !== 'string') throw new PavTypeError(`method must be a string, got ${typeof method}`);
  if (!METHODS.includes(method)) throw new PavRangeError(`method must be 'last', 'min', 'prod' or 'mean', got '${method}'`);
  const device = resolveDevice(o.device, scores.length);
  return addon<AggregateBinding>().aggregateSteps({ scores, offsets, method, device, async });
}

/**
 * One score per trajectory: the last, minimum, product or mean of its step scores (accumulated in
 * double, in step order). An empty trajectory has no such value and throws ERR_PAV_BAD_OFFSETS
 * naming it, rather than returning NaN or an empty product of 1. CPU or CUDA (`device`, default
 * 'auto'): the CUDA path runs the same double operations in the same order, so results are
 * bit-identical.
 */
export function aggregateSteps<A extends FloatArray>(o: AggregateStepsOptions<A>): SameKind<A> {
  return call(o, false) as SameKind<A>;
}
/** {@link aggregateSteps} on the libuv thread pool. */
export function aggregateStepsAsync<A extends FloatArray>(o: AggregateStepsOptions<A>): Promise<SameKind<A>> {
  return Promise.resolve().then(() => call(o, true) as Promise<SameKind<A>>);
}
