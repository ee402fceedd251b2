// Beam pruning: segmented top-k selection over candidate scores (one segment per beam/problem),
// with dedupe keys, diversity groups or seeded sampling, in one native call.
import { addon } from '../native/binding.ts';
import { PavRangeError, PavTypeError } from '../errors.ts';
import {
  type DeviceOptions,
  type FloatArray,
  requireBigUint64Array,
  requireFinite,
  requireFloatArray,
  requireInteger,
  requireUint32Array,
  resolveDevice,
  requireObject,
} from './common.ts';

export interface SampleOptions {
  /** Softmax temperature, finite and > 0. Lower is greedier. */
  temperature: number;
  /** Integer in [0, 2^53). The same seed, scores and layout always give the same draw. */
  seed: number;
}

export interface SelectTopKOptions extends DeviceOptions {
  /** One finite score per candidate; higher is better. */
  scores: FloatArray;
  /** CSR segments over scores (length S + 1): segment s is [offsets[s], offsets[s + 1]). */
  offsets: Uint32Array;
  /** How many to keep per segment (per group with `groups`); an integer >= 1. */
  k: number;
  /** Per candidate, a 64-bit dedupe key: among equal keys in a segment only the best survives. */
  keys?: BigUint64Array;
  /** Per candidate, a group id (e.g. its parent beam): keep k per (segment, group). */
  groups?: Uint32Array;
  /** Sample k without replacement with probability proportional to softmax(score / temperature). */
  sample?: SampleOptions;
  /**
   * Worker threads for large batches (segments are split between them; results are identical
   * for any count). Default 1 for selectTopK, 0 (= all cores) for selectTopKAsync.
   */
  threads?: number;
}

export interface SelectTopKResult {
  /** Global candidate indices, CSR by segment. */
  indices: Uint32Array;
  /** Length S + 1: segment s kept indices[offsets[s] .. offsets[s + 1]). */
  offsets: Uint32Array;
}

/** The slice of the native addon this module calls (native/addon/prune_binding.cpp). */
export interface PruneBinding {
  selectTopK(o: NativeSelectOptions): SelectTopKResult;
  selectTopKAsync(o: NativeSelectOptions): Promise<SelectTopKResult>;
}

interface NativeSelectOptions {
  scores: FloatArray;
  offsets: Uint32Array;
  k: number;
  keys?: BigUint64Array;
  groups?: Uint32Array;
  sample?: SampleOptions;
  device: 'cpu' | 'cuda';
  threads?: number;
}

function prepare(o: SelectTopKOptions): NativeSelectOptions {
  requireObject('selectTopK options', o);
  const scores = requireFloatArray('scores', o.scores);
  const offsets = requireUint32Array('offsets', o.offsets);
  const k = requireInteger('k', o.k, 1);
  const n: NativeSelectOptions = { scores, offsets, k, device: 'cpu' };
  if (o.keys !== undefined) n.keys = requireBigUint64Array('keys', o.keys);
  if (o.groups !== undefined) n.groups = requireUint32Array('groups', o.groups);
  if (o.sample !== undefined) {
    const s = o.sample;
    if (s === null || typeof s !== 'object') throw new PavTypeError('sample must be an object { temperature, seed }');
    const temperature = requireFinite('sample.temperature', s.temperature);
    if (!(temperature > 0)) throw new PavRangeError(`sample.temperature must be > 0, got ${temperature}`);
    n.sample = { temperature, seed: requireInteger('sample.seed', s.seed, 0) };
  }
  if (o.threads !== undefined) n.threads = requireInteger('threads', o.threads, 0, 1024);
  n.device = resolveDevice(o.device, scores.length);
  return n;
}

// The native side sizes indices for the worst case (dedupe and groups may keep fewer).
function trim(r: SelectTopKResult): SelectTopKResult {
  const used = r.offsets[r.offsets.length - 1];
  if (used === r.indices.length) return r;
  // Copy when most of the buffer is slack, so a small result does not pin a large one.
  const indices = used * 2 < r.indices.length ? r.indices.slice(0, used) : r.indices.subarray(0, used);
  return { indices, offsets: r.offsets };
}

/**
 * Keep the best `k` candidates of each segment: ordered by score descending, ties by lower index
 * (-0 and +0 tie). Segments shorter than k keep everything.
 *
 * - `keys`: equal keys within a segment are one candidate (the best of them); then top-k.
 * - `groups`: top-k per (segment, group); a segment's output lists groups by ascending id, each
 *   in score order. Combined with keys, dedupe happens first, across the whole segment.
 * - `sample`: Gumbel-top-k: candidate i gets score/temperature + Gumbel noise drawn from a
 *   counter-based generator keyed by (seed, global index i), and the k largest are kept in that
 *   order, which is a draw without replacement from softmax(score / temperature). Independent of
 *   threads. With keys, dedupe keeps each key's best candidate by the perturbed score. Note the
 *   noise depends on the global index, so a segment moved to another position of the batch gets
 *   different noise.
 *
 * Device: 'cpu', 'cuda', or 'auto' (default: CUDA for large batches when a device exists).
 * CUDA and CPU give identical results for every option (with keys, groups or sample, segments
 * longer than the device's shared-memory sort, 1024 or 2048 candidates, run on the CPU inside
 * the CUDA call). Runs on the calling thread; see {@link selectTopKAsync}.
 *
 * @throws TypeError ERR_PAV_INVALID_TYPE for a wrong kind of argument
 * @throws RangeError ERR_PAV_NON_FINITE ("scores[17] is NaN"), ERR_PAV_BAD_OFFSETS,
 *   ERR_PAV_LENGTH_MISMATCH (keys/groups), ERR_PAV_INVALID_ARG (k, temperature, seed)
 */
export function selectTopK(o: SelectTopKOptions): SelectTopKResult {
  return trim(addon<PruneBinding>().selectTopK(prepare(o)));
}

/** {@link selectTopK} on the libuv thread pool (split over all cores for large batches by default). */
export function selectTopKAsync(o: SelectTopKOptions): Promise<SelectTopKResult> {
  return Promise.resolve()
    .then(() => addon<PruneBinding>().selectTopKAsync(prepare(o)))
    .then(trim);
}
