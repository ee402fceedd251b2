// What the engine accepts back from a backend: the sizes and types its contract promises. A custom
// backend that returns too few samples or a NaN score fails here with a BackendError naming it and
// the field, instead of as undefined steps or a native error about an array it never saw.
import { BackendError, PavTypeError } from '../errors.ts';
import type { CompletionBatch, ScoreBatch, StepBatch, StepScoreBatch } from './backends.ts';
import type { Algorithm } from './config.ts';
import { requireObject } from '../ops/common.ts';

/**
 * The backends a search is handed: each part an object with the methods its drivers call, checked
 * before any work so a missing verifier is a TypeError naming it, not a failed row per problem.
 */
export function checkBackends(b: unknown, algorithm: Algorithm): void {
  const need = (path: string, v: unknown, methods: readonly string[]) => {
    requireObject(path, v);
    for (const m of methods)
      if (typeof (v as Record<string, unknown>)[m] !== 'function') throw new PavTypeError(`${path}.${m} must be a function`);
  };
  need('backends', b, []);
  const { policy, verifier, prover, task } = b as Record<string, unknown>;
  const stepwise = algorithm === 'beam' || algorithm === 'dvts';
  need('backends.policy', policy, [stepwise ? 'sampleSteps' : 'sampleCompletions']);
  need('backends.verifier', verifier, ['scorePrefixes']);
  if (prover !== undefined) need('backends.prover', prover, ['scorePrefixes']);
  need('backends.task', task, ['problemId', 'isCorrect', 'answerKey']);
  const count = (task as { problemCount?: unknown }).problemCount;
  if (!Number.isInteger(count) || (count as number) < 0) throw new PavTypeError(`backends.task.problemCount must be an integer >= 0, got ${String(count)}`);
}

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
