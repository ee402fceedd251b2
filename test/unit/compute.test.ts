import { describe, expect, it } from 'vitest';
import { addCounters, busySeconds, chargeCall, chargeScores, estimateFlops, zeroCounters, type Span } from '../../src/search/compute.ts';

const span = (phase: Span['phase'], ts: number, dur: number, lane = 0): Span => ({ name: phase, phase, ts, dur, lane });

describe('busySeconds', () => {
  it('is the union of the chosen phases across lanes', () => {
    const spans = [
      span('generate', 0, 100),
      span('score', 50, 100, 1), // overlaps the first: union [0, 150)
      span('prune', 150, 1000), // not a chosen phase
      span('score', 200, 10),
      span('generate', 205, 2, 1), // inside the previous
      span('generate', 300, 0),
    ];
    expect(busySeconds(spans, ['generate', 'score'])).toBeCloseTo(160e-6, 12);
    expect(busySeconds(spans, ['prune'])).toBeCloseTo(1000e-6, 12);
    expect(busySeconds([], ['generate'])).toBe(0);
  });
});

describe('estimateFlops', () => {
  const c = { ...zeroCounters(), policyTokens: 100, verifierTokens: 1000, proverTokens: 500 };
  it('is 2 x parameters x tokens per model; a prover defaults to the verifier size', () => {
    expect(estimateFlops(c, {})).toBeUndefined();
    expect(estimateFlops(c, { policyParams: 10 })).toBe(2 * 10 * 100);
    expect(estimateFlops(c, { policyParams: 10, verifierParams: 3 })).toBe(2 * 10 * 100 + 2 * 3 * 1000 + 2 * 3 * 500);
    expect(estimateFlops(c, { policyParams: 10, verifierParams: 3, proverParams: 7 })).toBe(2 * 10 * 100 + 2 * 3 * 1000 + 2 * 7 * 500);
    expect(estimateFlops(c, { proverParams: 7 })).toBe(2 * 7 * 500);
  });
  it('addCounters adds every counter, prover ones included', () => {
    const into = zeroCounters();
    addCounters(into, { ...c, proverCalls: 4, verifierCalls: 2, policyCalls: 1, policySamples: 9 });
    addCounters(into, { ...c, proverCalls: 4, verifierCalls: 2, policyCalls: 1, policySamples: 9 });
    expect(into).toEqual({ policySamples: 18, policyTokens: 200, policyCalls: 2, verifierCalls: 4, verifierTokens: 2000, proverCalls: 8, proverTokens: 1000 });
  });
});

describe('chargeScores', () => {
  it('charges a range of prefixes to the verifier and, when present, the prover', () => {
    const base = { values: new Float64Array(4), tokens: Uint32Array.of(1, 2, 3, 4) };
    const prov = { values: new Float64Array(4), tokens: Uint32Array.of(10, 20, 30, 40) };
    const c = zeroCounters();
    chargeScores(c, base, prov, 1, 3);
    chargeScores(c, base, undefined, 3, 4);
    expect(c).toMatchObject({ verifierCalls: 3, verifierTokens: 9, proverCalls: 2, proverTokens: 50 });
  });

  it('chargeCall charges one call to the verifier or to the prover', () => {
    const c = zeroCounters();
    chargeCall(c, false, 7);
    chargeCall(c, true, 5);
    chargeCall(c, true, 1);
    expect(c).toMatchObject({ verifierCalls: 1, verifierTokens: 7, proverCalls: 2, proverTokens: 6 });
  });
});
