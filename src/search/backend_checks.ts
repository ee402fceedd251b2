// What the engine accepts back from a backend: the sizes and types its contract promises. A custom
// backend that returns too few samples or a NaN score fails here with a BackendError naming it and
// the field, instead of as undefined steps or a native error about an array it never saw.
import { BackendError } from '../errors.ts';
import type { CompletionBatch, ScoreBatch, StepBatch, StepScoreBatch } from './backends.ts';

function fail(backend: string, what: string): never {
  throw new BackendError(`${backend} returned ${what}`, false);
}

function checkLength(backend: string, field: string, v: { length: number } | undefined | null, expected: number): void {
  if (v == null || typeof v.length !== 'number') fail(backend, `no ${field}`);
  if (v.length !== expected) fail(backend, `${v.length} ${field} for ${expected} expected`);
}

/** A policy's next steps: n per request, with tokens (Uint32Array) and finished (Uint8Array) alongside. */
export function checkStepBatch<S>(backend: string, b: StepBatch<S>, expected: number): void {
  if (b == null || typeof b !== 'object') fail(backend, `${String(b)} instead of { steps, tokens, finished }`);
  checkLength(backend, 'steps', b.steps, expected);
  if (!(b.tokens instanceof Uint32Array)) fail(backend, 'tokens that are not a Uint32Array');
  checkLength(backend, 'tokens', b.tokens, expected);
  if (!(b.finished instanceof Uint8Array)) fail(backend, 'finished that is not a Uint8Array');
  checkLength(backend, 'finished', b.finished, expected);
}

/** A policy's completions: n per request, each an array of steps, with tokens alongside. */
export function checkCompletionBatch<S>(backend: string, b: CompletionBatch<S>, expected: number): void {
  if (b == null || typeof b !== 'object') fail(backend, `${String(b)} instead of { completions, tokens }`);
  checkLength(backend, 'completions', b.completions, expected);
  for (let i = 0; i < b.completions.length; i++) if (!Array.isArray(b.completions[i])) fail(backend, `completions[${i}] that is not an array of steps`);
  if (!(b.tokens instanceof Uint32Array)) fail(backend, 'tokens that are not a Uint32Array');
  checkLength(backend, 'tokens', b.tokens, expected);
}

/** A verifier's scores: one finite value per prefix (a Float64Array) and tokens alongside. */
export function checkScoreBatch(backend: string, b: ScoreBatch, expected: number): void {
  checkValues(backend, b, expected, expected);
}

/** A verifier's step scores: `steps` finite values (every step of every prefix) and tokens per prefix. */
export function checkStepScoreBatch(backend: string, b: StepScoreBatch, steps: number, prefixes: number): void {
  checkValues(backend, b, steps, prefixes);
}

function checkValues(backend: string, b: ScoreBatch | StepScoreBatch, values: number, prefixes: number): void {
  if (b == null || typeof b !== 'object') fail(backend, `${String(b)} instead of { values, tokens }`);
  if (!(b.values instanceof Float64Array)) fail(backend, 'values that are not a Float64Array');
  checkLength(backend, 'values', b.values, values);
  for (let i = 0; i < b.values.length; i++) if (!Number.isFinite(b.values[i])) fail(backend, `values[${i}] = ${b.values[i]}`);
  if (!(b.tokens instanceof Uint32Array)) fail(backend, 'tokens that are not a Uint32Array');
  checkLength(backend, 'tokens', b.tokens, prefixes);
}
