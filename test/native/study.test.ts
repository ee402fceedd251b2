// The prover study: Best-of-K rows or separate-prover rows, each cell the accuracy of the beam
// search it names, PRM (alpha = 0) shared by every row; and the `prover` run-config section.
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src/cli/main.ts';
import { ConfigError } from '../../src/errors.ts';
import { runSearchBatch } from '../../src/search/engine.ts';
import { parseRunConfig } from '../../src/run/run_config.ts';
import { formatStudy, runStudy } from '../../src/run/study.ts';
import { createToyBackends } from '../../src/run/toy_backends.ts';

const base = parseRunConfig({ benchmark: { problems: 60 } });
const accuracyOf = async (config: typeof base, search: Parameters<typeof runSearchBatch>[1]) => {
  const b = await createToyBackends(config);
  try {
    const rs = await runSearchBatch(b, search, Array.from({ length: 60 }, (_, i) => i));
    return rs.filter((r) => r.correct).length / rs.length;
  } finally {
    await b.close();
  }
};

describe('study', () => {
  it('Best-of-K rows: each cell is the beam search it names; PRM is shared by every K', async () => {
    const study = { ks: [1, 4], alphas: [0, 1], budgets: [2, 4] };
    const r = await runStudy(base, study);
    expect(r.rowKind).toBe('K');
    expect(r.cells).toHaveLength(8);
    for (const budget of study.budgets) {
      const prm = r.cells.filter((c) => c.budget === budget && c.alpha === 0);
      expect(prm.map((c) => c.accuracy)).toEqual([prm[0].accuracy, prm[0].accuracy]);
      expect(prm[0].accuracy).toBe(await accuracyOf(base, { ...base.search, algorithm: 'beam', score: 'prm', budget }));
    }
    const cell = r.cells.find((c) => c.prover === 4 && c.alpha === 1 && c.budget === 4)!;
    expect(cell.accuracy).toBe(await accuracyOf(base, { ...base.search, algorithm: 'beam', score: 'pav', budget: 4, alpha: 1, proverK: 4 }));
    expect(formatStudy(r, study)).toContain('rows K (Best-of-K prover)');
    // The paired difference of the best setting is the difference of the accuracies, with an SE.
    for (const b of r.best) {
      expect(b.diff).toBeCloseTo(b.accuracy - b.prmAccuracy, 12);
      if (b.alpha !== 0) expect(b.se).toBeGreaterThan(0);
    }
  });

  it('separate-prover rows sweep the prover policy gamma', async () => {
    const config = resolveRunConfig({ problems: 60, prover: 'oracle' });
    expect(config.prover).toMatchObject({ kind: 'oracle', gamma: 10 });
    const study = { ks: [1], proverGammas: [5, 15], alphas: [0, 1], budgets: [2] };
    const r = await runStudy(config, study);
    expect(r.rowKind).toBe('gamma');
    expect(r.rows).toEqual([5, 15]);
    const cell = r.cells.find((c) => c.prover === 15 && c.alpha === 1)!;
    const direct = await accuracyOf({ ...config, prover: { ...config.prover!, gamma: 15 } }, { ...config.search, algorithm: 'beam', score: 'pav', budget: 2, alpha: 1 });
    expect(cell.accuracy).toBe(direct);
    // The separate prover is not Best-of-K under another name.
    const bok = await accuracyOf(base, { ...base.search, algorithm: 'beam', score: 'pav', budget: 2, alpha: 1 });
    expect(r.cells.filter((c) => c.alpha === 1).some((c) => c.accuracy !== bok)).toBe(true);
    expect(formatStudy(r, study)).toContain('rows gamma (oracle prover of mu_gamma)');
  });

  it('bad prover settings are ConfigErrors that say what to do', async () => {
    await expect(runStudy(base, { ks: [1], proverGammas: [10], alphas: [0], budgets: [2] })).rejects.toThrow(/--prover-gammas sweeps a separate prover/);
    const learned = resolveRunConfig({ problems: 10, prover: 'learned', proverModel: 'x.onnx' });
    await expect(runStudy(learned, { ks: [1], proverGammas: [10], alphas: [0], budgets: [2] })).rejects.toThrow(ConfigError);
    await expect(createToyBackends(resolveRunConfig({ problems: 10, prover: 'learned' }))).rejects.toThrow(/prover.kind "learned" needs prover.model \(--prover-model/);
    expect(() => resolveRunConfig({ prover: 'exact' })).toThrow(/prover\.kind/);
    expect(() =>
      parseRunConfig({ prover: { kind: 'oracle' }, backend: { kind: 'openai', problemsFile: 'p.jsonl', policy: { endpoints: ['http://x/v1'], model: 'm' }, verifier: { kind: 'vllm-pooling', model: 'v', endpoints: ['http://y'] } } }),
    ).toThrow(/prover configures the embedded benchmark, which backend kind openai does not run \(.*in backend: .*prover\)/);
  });

  it('an empty or bad grid is refused with an error naming the flag', async () => {
    const ok = { ks: [1], alphas: [0, 1], budgets: [2] };
    await expect(runStudy(base, { ...ok, alphas: [] })).rejects.toThrow(/alphas \(--alphas\) must list at least one value/);
    await expect(runStudy(base, { ...ok, ks: [] })).rejects.toThrow(/ks \(--ks\) must list at least one value/);
    await expect(runStudy(base, { ...ok, ks: [0] })).rejects.toThrow(/ks\[0\] \(--ks\) must be an integer in \[1,/);
    await expect(runStudy(base, { ...ok, budgets: [2, 0] })).rejects.toThrow(/budgets\[1\] \(--study-budgets\) must be an integer in \[1,/);
    await expect(runStudy(base, { ...ok, alphas: [Number.NaN] })).rejects.toThrow(/alphas\[0\] \(--alphas\) is NaN/);
    const oracle = resolveRunConfig({ problems: 60, prover: 'oracle' });
    await expect(runStudy(oracle, { ...ok, proverGammas: [] })).rejects.toThrow(/proverGammas \(--prover-gammas\) must list at least one value/);
    await expect(runStudy(oracle, { ...ok, proverGammas: [-1] })).rejects.toThrow(/proverGammas\[0\] \(--prover-gammas\) must be > 0/);
  });

  it('without alpha 0 among the alphas, PRM is still run: the comparison needs it', async () => {
    const study = { ks: [2], alphas: [0.5], budgets: [2] };
    const r = await runStudy(resolveRunConfig({ problems: 20 }), study);
    expect(r.alphas).toEqual([0, 0.5]);
    expect(r.cells.map((c) => c.alpha)).toEqual([0, 0.5]);
    for (const b of r.best) {
      expect(Number.isFinite(b.prmAccuracy) && Number.isFinite(b.diff) && Number.isFinite(b.se)).toBe(true);
      expect(b.diff).toBeCloseTo(b.accuracy - b.prmAccuracy, 12);
    }
    const text = formatStudy(r, study);
    expect(text).not.toMatch(/NaN/);
    expect(text).toMatch(/K \\ alpha +0 +0\.5/);
  });

  it('noise correlation flows from the flags to the noisy verifier and prover; 1 is refused', async () => {
    const b = await createToyBackends(resolveRunConfig({ problems: 5, noiseCorrelation: 0.9, prover: 'noisy', proverNoiseCorrelation: 0.5 }));
    try {
      expect(b.verifier.name).toBe('toy-noisy(gamma=5,sigma=1,rho=0.9)');
      expect(b.prover?.name).toBe('toy-noisy(gamma=10,sigma=1,rho=0.5)');
    } finally {
      await b.close();
    }
    expect(() => resolveRunConfig({ noiseCorrelation: 1 })).toThrow(/noiseCorrelation/);
  });
});
