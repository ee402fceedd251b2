// Runs a grid of (method, budget) searches over a problem set, one append-only row per problem,
// skipping rows a resumed run already has. Rows depend only on (config, problem, seed), so a
// resumed run ends with exactly the rows of an uninterrupted one.
import type { Backends, ProblemResult } from '../search/result.ts';
import { runSearchBatch } from '../search/engine.ts';
import { PhaseClock, estimateFlops, type ModelSizes } from '../search/compute.ts';
import { parseSearchConfig, type SearchConfigInput } from '../search/config.ts';
import { ResultsStore, type ResultRow } from './results_store.ts';

export interface GridCell {
  /** 'best-of-n/orm', 'beam/prm', 'beam/pav', 'dvts/pav', 'pav-rerank/pav', ... */
  method: string;
  budget: number;
  config: SearchConfigInput;
}

/**
 * Expand methods x budgets into search configurations sharing the common options. Every cell is
 * checked here, so a grid with one bad cell fails before its first row rather than midway.
 */
export function gridCells(methods: readonly string[], budgets: readonly number[], common: Omit<SearchConfigInput, 'algorithm' | 'budget'>): GridCell[] {
  const cells: GridCell[] = [];
  for (const method of methods) {
    const [algorithm, score] = method.split('/');
    for (const budget of budgets) {
      const config: SearchConfigInput = { ...common, algorithm: algorithm as SearchConfigInput['algorithm'], budget };
      if (algorithm === 'beam' || algorithm === 'dvts') config.score = score as 'prm' | 'pav';
      parseSearchConfig(config, `search config of ${method} at N=${budget}`);
      cells.push({ method, budget, config });
    }
  }
  return cells;
}

export function configKey(cell: GridCell): string {
  return `${cell.method}@${cell.budget}`;
}

export interface GridOptions {
  window?: number;
  lanes?: number;
  signal?: AbortSignal;
  recordSpans?: boolean;
  /** Parameters of the models, for per-row FLOPs (2 x parameters x tokens). */
  modelSizes?: ModelSizes;
  /** Called after each row is durably written. */
  onRow?: (row: ResultRow, done: number, total: number) => void;
}

export function toRow<S>(
  cell: GridCell,
  r: ProblemResult<S>,
  render: (problem: number, trace: readonly S[]) => string,
  sizes: ModelSizes = {},
): ResultRow {
  const flops = estimateFlops(r.compute, sizes);
  return {
    configKey: configKey(cell),
    problem: r.problem,
    id: r.id,
    method: cell.method,
    algorithm: r.algorithm,
    score: r.score,
    budget: r.budget,
    correct: r.correct,
    ...(r.passAtN !== undefined ? { passAtN: r.passAtN } : {}),
    value: r.value,
    answer: r.answer,
    trace: r.trace ? render(r.problem, r.trace) : null,
    stepValues: r.stepValues ?? null,
    finished: r.finished,
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
    compute: r.compute,
    ...(flops !== undefined ? { flops } : {}),
    phases: r.phases,
  };
}

/** Run every cell over `problems`; returns the clock (phase totals, spans) of this invocation. */
export async function runGrid<S>(
  backends: Backends<S>,
  cells: readonly GridCell[],
  problems: readonly number[],
  store: ResultsStore,
  opts: GridOptions = {},
): Promise<PhaseClock> {
  const clock = new PhaseClock(opts.recordSpans ?? false);
  const total = cells.length * problems.length;
  let done = cells.reduce((n, c) => n + problems.filter((p) => store.has(configKey(c), p)).length, 0);
  for (const cell of cells) {
    const todo = problems.filter((p) => !store.has(configKey(cell), p));
    if (todo.length === 0) continue;
    await runSearchBatch(backends, cell.config, todo, {
      window: opts.window,
      lanes: opts.lanes,
      signal: opts.signal,
      clock,
      onResult: (r) => {
        const row = toRow(cell, r as ProblemResult<S>, backends.task.render.bind(backends.task), opts.modelSizes);
        store.append(row);
        done++;
        opts.onRow?.(row, done, total);
      },
    });
  }
  return clock;
}
