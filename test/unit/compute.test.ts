import { describe, expect, it } from 'vitest';
import { busySeconds, type Span } from '../../src/search/compute.ts';

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
