// The prover study the paper ran (section 4, App. D): beam search with PAV over a grid of the
// Best-of-K prover's K and the advantage weight alpha, at a few budgets, against PRM (alpha = 0).
// It reports which setting wins on the embedded benchmark, whatever that turns out to be.
import { runSearchBatch } from '../search/engine.ts';
import type { RunConfig } from './run_config.ts';
import { createToyBackends } from './toy_backends.ts';
import { formatTable } from './table.ts';

export interface StudyOptions {
  ks: number[];
  alphas: number[];
  budgets: number[];
}

export interface StudyCell {
  K: number;
  alpha: number;
  budget: number;
  accuracy: number;
  policyTokens: number;
}

export interface StudyResult {
  cells: StudyCell[];
  /** Best (K, alpha) per budget by accuracy; ties go to the smaller alpha, then smaller K. */
  best: { budget: number; K: number; alpha: number; accuracy: number; prmAccuracy: number }[];
  problems: number;
}

export const DEFAULT_STUDY: StudyOptions = { ks: [1, 2, 4, 8, 16, 32], alphas: [0, 0.2, 0.5, 1, 2, 5], budgets: [2, 4, 8] };

export async function runStudy(config: RunConfig, study: StudyOptions, onCell?: (c: StudyCell) => void): Promise<StudyResult> {
  const backends = await createToyBackends(config);
  const problems = Array.from({ length: backends.task.problemCount }, (_, i) => i);
  const cells: StudyCell[] = [];
  try {
    for (const budget of study.budgets)
      for (const K of study.ks)
        for (const alpha of study.alphas) {
          // alpha = 0 is PRM whatever K is: run it once per budget.
          if (alpha === 0 && K !== study.ks[0]) {
            const prm = cells.find((c) => c.budget === budget && c.alpha === 0)!;
            cells.push({ ...prm, K });
            continue;
          }
          const rs = await runSearchBatch(
            backends,
            { ...config.search, algorithm: 'beam', score: 'pav', budget, alpha, proverK: K },
            problems,
            { window: config.engine.window, lanes: config.engine.lanes },
          );
          const cell = {
            K,
            alpha,
            budget,
            accuracy: rs.filter((r) => r.correct).length / rs.length,
            policyTokens: rs.reduce((a, r) => a + r.compute.policyTokens, 0) / rs.length,
          };
          cells.push(cell);
          onCell?.(cell);
        }
  } finally {
    await backends.close();
  }
  const best = study.budgets.map((budget) => {
    const at = cells.filter((c) => c.budget === budget);
    const top = [...at].sort((a, b) => b.accuracy - a.accuracy || a.alpha - b.alpha || a.K - b.K)[0];
    const prm = at.find((c) => c.alpha === 0);
    return { budget, K: top.K, alpha: top.alpha, accuracy: top.accuracy, prmAccuracy: prm ? prm.accuracy : Number.NaN };
  });
  return { cells, best, problems: problems.length };
}

export function formatStudy(r: StudyResult, study: StudyOptions): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const parts: string[] = [];
  for (const budget of study.budgets) {
    parts.push(
      `beam (PAV) accuracy at N=${budget}, rows K, columns alpha (alpha = 0 is PRM):\n` +
        formatTable(
          ['K \\ alpha', ...study.alphas.map(String)],
          study.ks.map((K) => [String(K), ...study.alphas.map((a) => pct(r.cells.find((c) => c.budget === budget && c.K === K && c.alpha === a)!.accuracy))]),
        ),
    );
  }
  parts.push(
    r.best
      .map((b) =>
        b.alpha === 0
          ? `N=${b.budget}: no PAV setting beats PRM (${pct(b.prmAccuracy)}) on ${r.problems} problems`
          : `N=${b.budget}: best K=${b.K}, alpha=${b.alpha}: ${pct(b.accuracy)} vs PRM ${pct(b.prmAccuracy)} (${r.problems} problems; one standard error is about ${pct(Math.sqrt((b.accuracy * (1 - b.accuracy)) / r.problems))})`,
      )
      .join('\n'),
  );
  return parts.join('\n\n');
}
