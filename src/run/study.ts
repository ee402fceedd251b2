// The prover study the paper ran (section 4, App. D): beam search with PAV over a grid of provers and
// the advantage weight alpha, at a few budgets, against PRM (alpha = 0). The provers are Best-of-K of
// the verifier (rows K) or, with a `prover` section, a separate prover verifier of each policy
// mu_gamma (rows gamma). It reports which setting wins on the embedded benchmark, whatever that is.
import { ConfigError, PavRangeError } from '../errors.ts';
import { requireFinite, requireInteger } from '../ops/common.ts';
import { runSearchBatch } from '../search/engine.ts';
import type { RunConfig } from './run_config.ts';
import { createToyBackends, createToyProver } from './toy_backends.ts';
import { formatTable } from './table.ts';
import { meanAndSe } from './summary.ts';

export interface StudyOptions {
  /** Best-of-K rows (without a separate prover). */
  ks: number[];
  /** Separate-prover rows: the prover policy's gamma (with a `prover` section; default its gamma). */
  proverGammas?: number[];
  alphas: number[];
  budgets: number[];
}

export interface StudyCell {
  /** The row: K of the Best-of-K prover, or gamma of the separate prover. */
  prover: number;
  alpha: number;
  budget: number;
  accuracy: number;
  policyTokens: number;
  /** 1 where the problem was solved, by problem index (for paired comparisons). */
  correct: Uint8Array;
}

export interface StudyResult {
  /** 'K' (Best-of-K of the verifier) or 'gamma' (a separate prover verifier of mu_gamma). */
  rowKind: 'K' | 'gamma';
  rows: number[];
  /** The alpha columns run: the study's, with 0 (PRM) first where it was not among them. */
  alphas: number[];
  cells: StudyCell[];
  /** Best (row, alpha) per budget by accuracy; ties go to the smaller alpha, then the smaller row. */
  best: {
    budget: number;
    prover: number;
    alpha: number;
    accuracy: number;
    prmAccuracy: number;
    /** Best minus PRM, paired by problem, and its standard error. */
    diff: number;
    se: number;
  }[];
  problems: number;
  /** The separate prover's kind, when there is one. */
  proverKind?: string;
}

export const DEFAULT_STUDY: StudyOptions = { ks: [1, 2, 4, 8, 16, 32], alphas: [0, 0.2, 0.5, 1, 2, 5], budgets: [2, 4, 8] };

export async function runStudy(config: RunConfig, study: StudyOptions, onCell?: (c: StudyCell) => void): Promise<StudyResult> {
  const separate = config.prover;
  if (study.proverGammas && !separate) throw new ConfigError('--prover-gammas sweeps a separate prover: give --prover oracle|noisy (or a prover section)');
  if (study.proverGammas && separate?.kind === 'learned') throw new ConfigError('--prover-gammas needs an oracle or noisy prover: a learned prover has the gamma it was fitted on');
  // Checked before any search runs: an empty or bad grid would otherwise fail (or print NaN) after all the work.
  const nonEmpty = <T>(name: string, flag: string, v: readonly T[] | undefined, check: (name: string, x: T) => unknown) => {
    if (!Array.isArray(v) || v.length === 0) throw new PavRangeError(`${name} (${flag}) must list at least one value`);
    v.forEach((x, i) => check(`${name}[${i}] (${flag})`, x));
  };
  if (!separate) nonEmpty('ks', '--ks', study.ks, (n, k) => requireInteger(n, k, 1));
  if (study.proverGammas)
    nonEmpty('proverGammas', '--prover-gammas', study.proverGammas, (n, g) => {
      if (!(requireFinite(n, g) > 0)) throw new PavRangeError(`${n} must be > 0, got ${g}`);
    });
  nonEmpty('alphas', '--alphas', study.alphas, requireFinite);
  nonEmpty('budgets', '--study-budgets', study.budgets, (n, b) => requireInteger(n, b, 1));
  // The study's verdict is each budget's best setting against PRM, paired by problem, so the PRM
  // column (alpha = 0) is always run, asked for or not.
  const alphas = study.alphas.includes(0) ? study.alphas : [0, ...study.alphas];
  // A learned prover's policy is the one its training data came from (in the model's metadata).
  const learnedGamma =
    separate?.kind === 'learned' && separate.model ? (await import('../toy/learned.ts')).readToyPrmMetadata(separate.model).prover.gamma : undefined;
  const rows = separate ? (study.proverGammas ?? [learnedGamma ?? separate.gamma]) : study.ks;
  const cells: StudyCell[] = [];
  // The suite, policy and verifier are the same for every row: built once; only a separate prover
  // changes from row to row.
  const base = await createToyBackends({ ...config, prover: undefined });
  const problems = base.task.problemCount;
  const ids = Array.from({ length: problems }, (_, i) => i);
  try {
    for (const row of rows) {
      const prover = separate ? await createToyProver(base.table, { ...separate, gamma: learnedGamma ?? row }, config.verifier.workers) : undefined;
      try {
        for (const budget of study.budgets)
          for (const alpha of alphas) {
            // alpha = 0 is PRM whatever the prover is: run it once per budget.
            const prm = alpha === 0 ? cells.find((c) => c.budget === budget && c.alpha === 0) : undefined;
            if (prm) {
              cells.push({ ...prm, prover: row });
              continue;
            }
            const rs = await runSearchBatch(
              prover ? { ...base, prover } : base,
              { ...config.search, algorithm: 'beam', score: 'pav', budget, alpha, ...(separate ? {} : { proverK: row }) },
              ids,
              { window: config.engine.window, lanes: config.engine.lanes },
            );
            const cell = {
              prover: row,
              alpha,
              budget,
              accuracy: rs.filter((r) => r.correct).length / rs.length,
              policyTokens: rs.reduce((a, r) => a + r.compute.policyTokens, 0) / rs.length,
              correct: Uint8Array.from(rs, (r) => (r.correct ? 1 : 0)),
            };
            cells.push(cell);
            onCell?.(cell);
          }
      } finally {
        await prover?.close?.();
      }
    }
  } finally {
    await base.close();
  }
  const best = study.budgets.map((budget) => {
    const at = cells.filter((c) => c.budget === budget);
    const top = [...at].sort((a, b) => b.accuracy - a.accuracy || a.alpha - b.alpha || a.prover - b.prover)[0];
    const prm = at.find((c) => c.alpha === 0)!;
    const paired = meanAndSe(Array.from(top.correct, (x, i) => x - prm.correct[i]));
    return { budget, prover: top.prover, alpha: top.alpha, accuracy: top.accuracy, prmAccuracy: prm.accuracy, ...paired };
  });
  return { rowKind: separate ? 'gamma' : 'K', rows, alphas, cells, best, problems, ...(separate ? { proverKind: separate.kind } : {}) };
}

export function formatStudy(r: StudyResult, study: StudyOptions): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rowName = r.rowKind === 'K' ? 'K (Best-of-K prover)' : `gamma (${r.proverKind} prover of mu_gamma)`;
  const parts: string[] = [];
  for (const budget of study.budgets) {
    parts.push(
      `beam (PAV) accuracy at N=${budget}, rows ${rowName}, columns alpha (alpha = 0 is PRM):\n` +
        formatTable(
          [`${r.rowKind} \\ alpha`, ...r.alphas.map(String)],
          r.rows.map((row) => [String(row), ...r.alphas.map((a) => pct(r.cells.find((c) => c.budget === budget && c.prover === row && c.alpha === a)!.accuracy))]),
        ),
    );
  }
  parts.push(
    r.best
      .map((b) =>
        b.alpha === 0
          ? `N=${b.budget}: no PAV setting beats PRM (${pct(b.prmAccuracy)}) on ${r.problems} problems`
          : `N=${b.budget}: best ${r.rowKind}=${b.prover}, alpha=${b.alpha}: ${pct(b.accuracy)} vs PRM ${pct(b.prmAccuracy)}, ` +
            `${b.diff >= 0 ? '+' : ''}${(100 * b.diff).toFixed(1)} ± ${(100 * b.se).toFixed(1)} points paired by problem (${r.problems} problems; ` +
            `the best of ${r.rows.length * (r.alphas.length - 1)} PAV settings, so read it as an upper estimate)`,
      )
      .join('\n'),
  );
  return parts.join('\n\n');
}
