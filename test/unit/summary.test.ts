import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/run/summary.ts';
import { formatSummary } from '../../src/run/table.ts';
import { traceEventsJson } from '../../src/run/trace_events.ts';
import { zeroPhases } from '../../src/search/compute.ts';
import type { ResultRow } from '../../src/run/results_store.ts';

/** Rows for one method and budget: `correct` of `n` problems right, each spending `tokens` policy tokens. */
function rows(algorithm: string, score: string, budget: number, n: number, correct: number, tokens: number, pass?: number): ResultRow[] {
  return Array.from({ length: n }, (_, p) => ({
    configKey: `${algorithm}/${score}@${budget}`,
    problem: p,
    algorithm,
    score,
    budget,
    correct: p < correct,
    ...(pass !== undefined ? { passAtN: p < pass } : {}),
    status: 'ok',
    compute: { policySamples: tokens, policyTokens: tokens, policyCalls: 1, verifierCalls: 1, verifierTokens: 2 * tokens },
    phases: { ...zeroPhases(), generate: 0.5 },
  }));
}

describe('summarize', () => {
  const all = [
    ...rows('best-of-n', 'orm', 4, 10, 2, 40, 3),
    ...rows('best-of-n', 'orm', 128, 10, 5, 1280, 9),
    ...rows('beam', 'pav', 2, 10, 3, 60),
    ...rows('beam', 'pav', 8, 10, 6, 200),
    ...rows('beam', 'pav', 16, 10, 8, 400),
    ...rows('beam', 'prm', 8, 10, 4, 200),
  ];
  const s = summarize(all, { policyParams: 1e9 });

  it('aggregates accuracy, Pass@N, mean compute and phases per method and budget', () => {
    const bon = s.methods.find((m) => m.method === 'best-of-n/orm')!;
    expect(bon.label).toBe('best-of-N (ORM)');
    expect(bon.points.map((p) => [p.budget, p.accuracy, p.passAtN, p.policyTokens, p.totalTokens])).toEqual([
      [4, 0.2, 0.3, 40, 120],
      [128, 0.5, 0.9, 1280, 3840],
    ]);
    expect(bon.points[0].phases.generate).toBeCloseTo(5);
    expect(bon.points[0].flops).toBe(2 * 1e9 * 40);
    expect(s.problems).toBe(10);
    // The reference method comes first, then the paper's order.
    expect(s.methods.map((m) => m.method)).toEqual(['best-of-n/orm', 'beam/prm', 'beam/pav']);
  });

  it('computes the compute-efficiency ratio at the cheapest budget that matches the largest ORM budget', () => {
    expect(s.reference).toMatchObject({ budget: 128, accuracy: 0.5, policyTokens: 1280 });
    const pav = s.efficiency.find((e) => e.method === 'beam/pav')!;
    expect(pav.match).toMatchObject({ budget: 8, accuracy: 0.6 });
    expect(pav.ratioPolicyTokens).toBeCloseTo(1280 / 200);
    expect(pav.ratioTotalTokens).toBeCloseTo(3840 / 600);
    const prm = s.efficiency.find((e) => e.method === 'beam/prm')!;
    expect(prm.match).toBeNull();
    expect(prm.ratioPolicyTokens).toBeNull();
    expect(prm.bestAccuracy).toBe(0.4);
    const text = formatSummary(s);
    expect(text).toContain('6.40x');
    expect(text).toContain('never');
  });

  it('compares PAV with PRM paired by problem, with a standard error', () => {
    const c = s.comparisons.find((x) => x.a === 'beam/pav' && x.b === 'beam/prm')!;
    // Only N=8 has both; PAV solves problems 0-5, PRM 0-3: differences 1 at problems 4 and 5.
    expect(c.points).toHaveLength(1);
    expect(c.points[0].budget).toBe(8);
    expect(c.points[0].problems).toBe(10);
    expect(c.points[0].diff).toBeCloseTo(0.2);
    expect(c.points[0].se).toBeCloseTo(Math.sqrt((2 * 0.8 ** 2 + 8 * 0.2 ** 2) / 9 / 10));
    expect(formatSummary(s)).toContain('beam (PAV) against beam (PRM)');
    expect(formatSummary(s)).toContain('N=8: 20.0 ± 13.3');
  });

  it('each compute ratio is at the cheapest matching budget by its own measure', () => {
    // PAV matches the reference (50%) at N=4 and N=8; N=4 reads many more verifier tokens.
    const withVerifier = (rs: ResultRow[], verifierTokens: number) => rs.map((r) => ({ ...r, compute: { ...(r.compute as object), verifierTokens } }));
    const t = summarize([
      ...rows('best-of-n', 'orm', 128, 10, 5, 1280, 9),
      ...withVerifier(rows('beam', 'pav', 4, 10, 5, 100), 1500),
      ...withVerifier(rows('beam', 'pav', 8, 10, 6, 150), 200),
    ]);
    const e = t.efficiency.find((x) => x.method === 'beam/pav')!;
    expect(e.match!.budget).toBe(4);
    expect(e.ratioPolicyTokens).toBeCloseTo(1280 / 100);
    expect(e.totalMatchBudget).toBe(8);
    expect(e.ratioTotalTokens).toBeCloseTo(3840 / 350);
    expect(formatSummary(t)).toMatch(/beam \(PAV\) \* +60\.0% +N=4 +12\.80x +10\.97x \(N=8\)/);
    expect([e.ratioFlops, e.flopsMatchBudget]).toEqual([null, null]);
    // FLOPs the same way: with both models priced alike they follow all tokens, to N=8.
    const priced = summarize(
      [
        ...rows('best-of-n', 'orm', 128, 10, 5, 1280, 9),
        ...withVerifier(rows('beam', 'pav', 4, 10, 5, 100), 1500),
        ...withVerifier(rows('beam', 'pav', 8, 10, 6, 150), 200),
      ],
      { policyParams: 1e9, verifierParams: 1e9 },
    ).efficiency.find((x) => x.method === 'beam/pav')!;
    expect(priced.flopsMatchBudget).toBe(8);
    expect(priced.ratioFlops).toBeCloseTo(3840 / 350);
  });

  it('failed rows count as not solved but add no compute, and leave the paired comparison', () => {
    // PRM fails on problems 0-2 (a backend error: zero compute, not correct); PAV solves 0-5, PRM 0-3.
    const failed = (r: ResultRow, i: number): ResultRow =>
      i < 3
        ? { ...r, passAtN: undefined, status: 'failed', correct: false, compute: { policySamples: 0, policyTokens: 0, policyCalls: 0, verifierCalls: 0, verifierTokens: 0 } }
        : r;
    const bon = rows('best-of-n', 'orm', 8, 10, 4, 80, 6).map(failed);
    const t = summarize([...rows('beam', 'pav', 8, 10, 6, 200), ...rows('beam', 'prm', 8, 10, 4, 200).map(failed), ...bon]);
    const prm = t.methods.find((m) => m.method === 'beam/prm')!.points[0];
    expect([prm.problems, prm.failed, prm.accuracy, prm.policyTokens, prm.totalTokens]).toEqual([10, 3, 0.1, 200, 600]);
    const orm = t.methods.find((m) => m.method === 'best-of-n/orm')!.points[0];
    // Pass@N like accuracy: over all 10 problems, the failed ones not passed.
    expect([orm.accuracy, orm.passAtN, orm.policyTokens]).toEqual([0.1, 0.3, 80]);
    // Paired over the 7 problems both answered: PAV 3..5 right against PRM 3 right.
    const c = t.comparisons.find((x) => x.a === 'beam/pav' && x.b === 'beam/prm')!;
    expect(c.points[0].problems).toBe(7);
    expect(c.points[0].diff).toBeCloseTo(2 / 7);
    const text = formatSummary(t);
    expect(text).toMatch(/beam \(PRM\) +10\.0%‡/);
    expect(text).toContain('‡ 6 results failed (backend errors): they count as incorrect; compute / problem is over the rest');
  });

  it('has no reference or ratios without ORM rows', () => {
    const t = summarize(rows('beam', 'pav', 8, 4, 2, 100));
    expect(t.reference).toBeNull();
    expect(t.efficiency).toEqual([]);
  });
});

describe('trace events', () => {
  it('writes complete events per span and a thread per lane, loadable as JSON', () => {
    const json = traceEventsJson([
      { name: 'generate d0', phase: 'generate', ts: 10.4, dur: 5.2, lane: 0 },
      { name: 'score d0', phase: 'score', ts: 16, dur: 0.2, lane: 1, args: { problems: 3 } },
    ]);
    const ev = JSON.parse(json) as { ph: string; name: string; tid: number; dur?: number; cat?: string }[];
    expect(ev.filter((e) => e.ph === 'M').map((e) => e.tid).sort()).toEqual([0, 0, 1]);
    const x = ev.filter((e) => e.ph === 'X');
    expect(x.map((e) => [e.name, e.cat, e.tid])).toEqual([['generate d0', 'generate', 0], ['score d0', 'score', 1]]);
    expect(x[1].dur).toBe(1); // sub-microsecond spans stay visible
  });
});
