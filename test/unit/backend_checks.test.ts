import { describe, expect, it } from 'vitest';
import { checkCompletionBatch, checkScoreBatch, checkStepBatch, checkStepScoreBatch } from '../../src/search/backend_checks.ts';
import { BackendError } from '../../src/errors.ts';

describe('backend output checks', () => {
  const steps = { steps: [1, 2], tokens: Uint32Array.of(1, 1), finished: Uint8Array.of(0, 1) };
  it('accept what the contract promises', () => {
    expect(() => checkStepBatch('p', steps, 2)).not.toThrow();
    expect(() => checkCompletionBatch('p', { completions: [[1], []], tokens: Uint32Array.of(1, 0) }, 2)).not.toThrow();
    expect(() => checkScoreBatch('v', { values: Float64Array.of(0.5, 1), tokens: Uint32Array.of(3, 4) }, 2)).not.toThrow();
    expect(() => checkStepScoreBatch('v', { values: Float64Array.of(0.5, 1, 0.2), tokens: Uint32Array.of(3, 4) }, 3, 2)).not.toThrow();
  });

  it('name the backend and the field of anything else', () => {
    const cases: [() => void, RegExp][] = [
      [() => checkStepBatch('p', steps, 3), /^p returned 2 steps for 3 expected$/],
      [() => checkStepBatch('p', { ...steps, tokens: [1, 1] as unknown as Uint32Array }, 2), /p returned tokens that are not a Uint32Array/],
      [() => checkStepBatch('p', { ...steps, finished: undefined as unknown as Uint8Array }, 2), /p returned finished that is not a Uint8Array/],
      [() => checkStepBatch('p', undefined as never, 2), /p returned undefined instead of/],
      [() => checkCompletionBatch('p', { completions: [[1], 'x' as never], tokens: Uint32Array.of(1, 1) }, 2), /completions\[1\] that is not an array/],
      [() => checkScoreBatch('v', { values: [0.5] as unknown as Float64Array, tokens: Uint32Array.of(1) }, 1), /v returned values that are not a Float64Array/],
      [() => checkScoreBatch('v', { values: Float64Array.of(0.5, Infinity), tokens: Uint32Array.of(1, 1) }, 2), /v returned values\[1\] = Infinity/],
      [() => checkScoreBatch('v', { values: Float64Array.of(0.5), tokens: Uint32Array.of(1, 1) }, 1), /v returned 2 tokens for 1 expected/],
      [() => checkStepScoreBatch('v', { values: Float64Array.of(0.5, 1), tokens: Uint32Array.of(1, 1) }, 3, 2), /v returned 2 values for 3 expected/],
      [() => checkStepScoreBatch('v', { values: Float64Array.of(0.5, NaN, 1), tokens: Uint32Array.of(1, 1) }, 3, 2), /v returned values\[1\] = NaN/],
      [() => checkStepScoreBatch('v', { values: Float64Array.of(0.5, 1, 1), tokens: Uint32Array.of(1) }, 3, 2), /v returned 1 tokens for 2 expected/],
    ];
    for (const [f, re] of cases) {
      expect(f).toThrow(re);
      expect(f).toThrow(BackendError);
    }
  });
});
