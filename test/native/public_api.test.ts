// The public entry point: what a user imports, and the types it promises (checked by tsc through
// expectTypeOf, and at run time for the exports a user reaches first).
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from '../../src/index.ts';
import type { ProblemResult, SearchConfig, SelectTopKResult, VerifierBackend } from '../../src/index.ts';

describe('public API', () => {
  it('exports the ops, the engine, the toy and real backends and the errors', () => {
    for (const name of [
      'bokTransform', 'stepAdvantages', 'effectiveRewards', 'denseRewards', 'expandToTokens', 'aggregateSteps',
      'selectTopK', 'voteAnswers', 'runSearchBatch', 'solve', 'parseSearchConfig', 'ToyPolicy', 'OracleVerifier',
      'NoisyVerifier', 'ToyTask', 'ProblemTable', 'generateSuite', 'paperTask', 'LearnedVerifier', 'createVerifierPool',
      'OpenAIPolicy', 'VllmPoolingVerifier', 'TextTask', 'answersEqual', 'PavError', 'PavRangeError', 'PavTypeError', 'ErrorCodes',
      'PrefixList', 'prefixList', 'StepTree',
    ])
      expect(['function', 'object'], name).toContain(typeof (api as Record<string, unknown>)[name]);
  });

  it('keeps the float kind of its inputs and types its results', () => {
    expectTypeOf(api.bokTransform(new Float32Array(1), 4)).toEqualTypeOf<Float32Array>();
    expectTypeOf(api.bokTransform(new Float64Array(1), 4)).toEqualTypeOf<Float64Array>();
    expectTypeOf(api.selectTopK).returns.toEqualTypeOf<SelectTopKResult>();
    expectTypeOf(api.runSearchBatch<number>).returns.resolves.toEqualTypeOf<ProblemResult<number>[]>();
    expectTypeOf(api.parseSearchConfig).returns.toEqualTypeOf<SearchConfig>();
    expectTypeOf<InstanceType<typeof api.OracleVerifier>>().toMatchTypeOf<VerifierBackend<number>>();
    const f32 = api.bokTransform(Float32Array.of(0.5), 2);
    expect(f32).toBeInstanceOf(Float32Array);
    expect(f32[0]).toBeCloseTo(0.75, 6);
  });

  it('errors carry stable codes', () => {
    let err: unknown;
    try {
      api.selectTopK({ scores: Float32Array.of(Number.NaN), offsets: Uint32Array.of(0, 1), k: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(api.isCodedError(err) && err.code).toBe(api.ErrorCodes.NON_FINITE);
    expect((err as Error).message).toContain('scores[0] is NaN');
  });
});
