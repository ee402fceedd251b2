// rl-demo end to end on tiny configurations: REINFORCE with the effective reward improves sampled
// accuracy, a run is a pure function of its options and seed, and the tables, HTML and JSON are written.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passAtK, resolveRlDemoOptions, runRlDemo, sampledAccuracy, supervisedInit, trainReinforce, type RlDemoResults } from '../../src/rl/demo.ts';
import { Rng } from '../../src/rl/policy_model.ts';
import { buildRlReportHtml, formatRlTables, writeRlReport } from '../../src/rl/report.ts';
import { ProblemTable } from '../../src/toy/task.ts';
import { startValues } from '../../src/toy/oracle.ts';

const tiny = { seeds: 2, iterations: 20, evalEvery: 10, evalSamples: 64, passSamples: 64, sweepGammas: [5, 10], sweepIterations: 10, hidden: 16, passAtN: [1, 4, 16] };

function withoutTimes(r: RlDemoResults): unknown {
  return JSON.parse(JSON.stringify(r, (k, v) => (k === 'seconds' ? undefined : v)));
}

describe('REINFORCE', () => {
  it('with Q^pi + A^mu (gamma 10) lifts sampled accuracy on the paper task from the SFT init', () => {
    const opts = resolveRlDemoOptions({ lr: 3e-3, qpiRollouts: 0, evalSamples: 256 });
    const init = supervisedInit(opts, 0);
    const before = sampledAccuracy(init, opts.task, 1024, new Rng(1)).accuracy;
    const root = startValues(ProblemTable.of(opts.task), { gamma: 10 })[0];
    const run = trainReinforce(init, opts, { seed: 0, alpha: 1, gamma: 10, iterations: 80, root });
    expect(before).toBeLessThan(0.02);
    expect(run.finalAccuracy).toBeGreaterThan(0.3);
    expect(run.curve[0].accuracy).toBeLessThan(0.05);
    // The init is left untouched.
    expect(sampledAccuracy(init, opts.task, 1024, new Rng(1)).accuracy).toBe(before);
  });

  it('with plain SGD (the optimizer ablation) PAV also learns, and the SFT init is shared', () => {
    const opts = resolveRlDemoOptions({ optimizer: 'sgd', lr: 0.3, qpiRollouts: 0, evalSamples: 256 });
    const init = supervisedInit(opts, 0);
    const root = startValues(ProblemTable.of(opts.task), { gamma: 10 })[0];
    const run = trainReinforce(init, opts, { seed: 0, alpha: 1, gamma: 10, iterations: 60, root });
    expect(run.finalAccuracy).toBeGreaterThan(0.3);
    // The option really switches the optimizer: Adam at the same learning rate takes other steps.
    const adam = trainReinforce(init, { ...opts, optimizer: 'adam' }, { seed: 0, alpha: 1, gamma: 10, iterations: 60, root });
    expect(adam.curve.map((c) => c.accuracy)).not.toEqual(run.curve.map((c) => c.accuracy));
  });

  it('Pass@k estimator: exact small cases', () => {
    expect(passAtK(4, 0, 2)).toBe(0);
    expect(passAtK(4, 4, 1)).toBe(1);
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 14);
    expect(passAtK(4, 1, 2)).toBeCloseTo(0.5, 14); // 1 - C(3,2)/C(4,2)
    expect(passAtK(4, 3, 2)).toBe(1);
  });
});

describe('runRlDemo', () => {
  it('is deterministic for a seed, and writes tables, HTML and JSON', async () => {
    const lines: string[] = [];
    const a = await runRlDemo(tiny, { log: (l) => lines.push(l) });
    const b = await runRlDemo(tiny);
    expect(withoutTimes(a)).toEqual(withoutTimes(b));
    expect(lines.some((l) => l.includes('sft'))).toBe(true);
    expect(a.arms.map((x) => x.key)).toEqual(['outcome', 'pav']);
    expect(a.arms[0].runs).toHaveLength(2);
    expect(a.arms[0].curve.map((p) => p.iteration)).toEqual([0, 10, 20]);
    expect(a.sweep.map((s) => s.gamma)).toEqual([5, 10]);
    // The sweep's gamma = 10 row reuses the main PAV runs at iteration 10.
    expect(a.sweep[1].finals).toEqual(a.arms[1].runs.map((r) => r.curve[1].accuracy));
    expect(a.arms[1].passAtN.map((p) => p.n)).toEqual([1, 4, 16]);
    expect(a.arms[1].runs.map((r) => r.seed)).toEqual([0, 1]);

    const text = formatRlTables(a);
    for (const s of ['Accuracy (%) against REINFORCE iterations', 'Prover sweep', 'Pass@N', 'outcome-only']) expect(text).toContain(s);
    const dir = mkdtempSync(join(tmpdir(), 'rl-demo-'));
    const files = await writeRlReport(a, dir);
    const html = readFileSync(files.html, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    for (const id of ['chart-rl-accuracy', 'chart-rl-sweep', 'chart-rl-passn']) expect(html).toContain(`id="${id}"`);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).arms).toHaveLength(2);
    expect(buildRlReportHtml(a, new Date(0))).toContain('1970-01-01');
  });

  it('validates options with typed errors', async () => {
    await expect(runRlDemo({ seeds: 0 })).rejects.toThrow(/seeds/);
    await expect(runRlDemo({ proverGamma: -1 })).rejects.toThrow(/proverGamma/);
    await expect(runRlDemo({ form: 'value' as never })).rejects.toThrow(TypeError);
    await expect(runRlDemo({ passAtN: [1, 5000] })).rejects.toThrow(/passAtN\[1\]/);
    await expect(runRlDemo({ sweepGammas: [0] })).rejects.toThrow(/sweepGammas\[0\]/);
    await expect(runRlDemo({ optimizer: 'rmsprop' as never })).rejects.toThrow(/optimizer must be 'adam' or 'sgd'/);
  });

  it('the Q^mu-bonus arm trains on the prover value, not the advantage, and is reported as a third arm', async () => {
    const r = await runRlDemo({ ...tiny, seeds: 1, qmuArm: true, sweepGammas: [], passAtN: [] });
    expect(r.arms.map((a) => a.key)).toEqual(['outcome', 'pav', 'qmu']);
    expect(r.arms[2].label).toContain('Q^mu');
    expect(formatRlTables(r)).toContain('1 Q^mu, gamma=10');
    // Same seed, init and prover: only the per-step term differs, so training does.
    const opts = resolveRlDemoOptions({ optimizer: 'sgd', lr: 0.3, qpiRollouts: 0, evalSamples: 256, evalEvery: 10 });
    const init = supervisedInit(opts, 0);
    const root = startValues(ProblemTable.of(opts.task), { gamma: 10 })[0];
    const spec = { seed: 0, alpha: 1, gamma: 10, iterations: 40, root };
    const adv = trainReinforce(init, opts, spec);
    const val = trainReinforce(init, opts, { ...spec, progress: 'value' });
    expect(val.curve.map((c) => c.accuracy)).not.toEqual(adv.curve.map((c) => c.accuracy));
  });

  it('also runs the section-5 form R(y) + alpha A^mu with a batch-mean baseline', async () => {
    const r = await runRlDemo({ ...tiny, seeds: 1, form: 'outcome', baseline: 'batch-mean', sweepGammas: [], passAtN: [] });
    expect(r.arms[1].label).toContain('R(y)');
    expect(r.sweep).toEqual([]);
    expect(formatRlTables(r)).toContain('(no sweep)');
  });
});
