// Aggregates result rows into accuracy-against-compute points per method and the paper's
// compute-efficiency ratio: compute of ORM best-of-N at the largest budget over the compute of the
// cheapest budget of a PAV search that matches its accuracy.
import { PHASES, estimateFlops, zeroCounters, type ComputeCounters, type ModelSizes, type PhaseTimes } from '../search/compute.ts';
import type { ResultRow } from './results_store.ts';

export interface Point {
  budget: number;
  problems: number;
  failed: number;
  /** Fraction of problems solved; a failed problem counts as not solved. */
  accuracy: number;
  /** Best-of-N family: fraction of problems where any sample was correct (failed ones count as not). */
  passAtN?: number;
  /** Means per problem, over the problems that did not fail (a failed row records no compute). */
  policyTokens: number;
  verifierTokens: number;
  /** Tokens read by a separate prover verifier (0 without one). */
  proverTokens: number;
  totalTokens: number;
  policySamples: number;
  flops?: number;
  /** Seconds per phase, summed over problems. */
  phases: PhaseTimes;
}

export interface MethodSummary {
  method: string;
  label: string;
  points: Point[];
}

export interface Efficiency {
  method: string;
  label: string;
  /** Cheapest budget whose accuracy is at least the reference's, or null if none. */
  match: { budget: number; accuracy: number; policyTokens: number; totalTokens: number } | null;
  /**
   * Reference compute / compute of the cheapest matching budget by that measure (> 1: the method
   * needs less), as the paper defines it: the policy-token ratio is at `match`; the all-token ratio
   * at `totalMatchBudget`, which differs from match.budget where verifier tokens reorder the budgets.
   */
  ratioPolicyTokens: number | null;
  ratioTotalTokens: number | null;
  totalMatchBudget: number | null;
  /** The same for FLOPs, where model sizes were given (else null). */
  ratioFlops: number | null;
  flopsMatchBudget: number | null;
  bestAccuracy: number;
}

/** Paired difference of two methods' accuracy per budget, over the problems both answered. */
export interface Comparison {
  a: string;
  b: string;
  label: string;
  points: { budget: number; problems: number; diff: number; se: number }[];
}

export interface RunSummary {
  problems: number;
  methods: MethodSummary[];
  /** PAV against PRM (the paper's main comparison), paired by problem. */
  comparisons: Comparison[];
  reference: { method: string; budget: number; accuracy: number; policyTokens: number; totalTokens: number } | null;
  efficiency: Efficiency[];
}

export const REFERENCE_METHOD = 'best-of-n/orm';
/** The headline PAV search of the ratio (the paper's beam search with PAV). */
export const HEADLINE_METHOD = 'beam/pav';

const LABELS: Record<string, string> = {
  'best-of-n/orm': 'best-of-N (ORM)',
  'beam/prm': 'beam (PRM)',
  'beam/pav': 'beam (PAV)',
  'dvts/prm': 'DVTS (PRM)',
  'dvts/pav': 'DVTS (PAV)',
  'pav-rerank/pav': 'best-of-N (PAV rerank)',
};

export function methodOf(row: ResultRow | { algorithm: unknown; score: unknown }): string {
  return `${String(row.algorithm)}/${String(row.score)}`;
}

export function labelOf(method: string): string {
  return LABELS[method] ?? method;
}

export function summarize(rows: readonly ResultRow[], sizes: ModelSizes = {}): RunSummary {
  const groups = new Map<string, Map<number, ResultRow[]>>();
  const problems = new Set<number>();
  for (const r of rows) {
    const m = methodOf(r);
    const b = Number(r.budget);
    problems.add(r.problem);
    if (!groups.has(m)) groups.set(m, new Map());
    const byBudget = groups.get(m)!;
    if (!byBudget.has(b)) byBudget.set(b, []);
    byBudget.get(b)!.push(r);
  }
  const order = Object.keys(LABELS);
  const methods: MethodSummary[] = [...groups.entries()]
    .sort(([a], [b]) => rank(order, a) - rank(order, b) || a.localeCompare(b))
    .map(([method, byBudget]) => ({
      method,
      label: labelOf(method),
      points: [...byBudget.entries()].sort(([a], [b]) => a - b).map(([budget, rs]) => point(budget, rs, sizes)),
    }));

  const ref = methods.find((m) => m.method === REFERENCE_METHOD);
  const refPoint = ref?.points[ref.points.length - 1];
  const reference = refPoint
    ? { method: REFERENCE_METHOD, budget: refPoint.budget, accuracy: refPoint.accuracy, policyTokens: refPoint.policyTokens, totalTokens: refPoint.totalTokens }
    : null;
  const efficiency: Efficiency[] = reference
    ? methods
        .filter((m) => m.method !== REFERENCE_METHOD)
        .map((m) => {
          const matching = m.points.filter((p) => p.accuracy >= reference.accuracy);
          const cheapest = cheapestBy(matching, (p) => p.policyTokens);
          const cheapestTotal = cheapestBy(matching, (p) => p.totalTokens);
          const cheapestFlops = refPoint?.flops ? cheapestBy(matching.filter((p) => p.flops !== undefined), (p) => p.flops!) : undefined;
          return {
            method: m.method,
            label: m.label,
            match: cheapest
              ? { budget: cheapest.budget, accuracy: cheapest.accuracy, policyTokens: cheapest.policyTokens, totalTokens: cheapest.totalTokens }
              : null,
            ratioPolicyTokens: cheapest && cheapest.policyTokens > 0 ? reference.policyTokens / cheapest.policyTokens : null,
            ratioTotalTokens: cheapestTotal && cheapestTotal.totalTokens > 0 ? reference.totalTokens / cheapestTotal.totalTokens : null,
            totalMatchBudget: cheapestTotal ? cheapestTotal.budget : null,
            ratioFlops: cheapestFlops?.flops ? refPoint!.flops! / cheapestFlops.flops : null,
            flopsMatchBudget: cheapestFlops ? cheapestFlops.budget : null,
            bestAccuracy: Math.max(...m.points.map((p) => p.accuracy)),
          };
        })
    : [];
  const comparisons = COMPARISONS.map(([a, b]) => compare(rows, a, b)).filter((c): c is Comparison => c !== null);
  return { problems: problems.size, methods, comparisons, reference, efficiency };
}

/** The point with the least `cost` (the smallest budget on ties), or undefined for none. */
function cheapestBy(points: readonly Point[], cost: (p: Point) => number): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (!best || cost(p) < cost(best) || (cost(p) === cost(best) && p.budget < best.budget)) best = p;
  return best;
}

const COMPARISONS: [string, string][] = [
  ['beam/pav', 'beam/prm'],
  ['dvts/pav', 'dvts/prm'],
];

/** a minus b in accuracy at each budget both ran, paired by problem; se is the paired standard error. */
function compare(rows: readonly ResultRow[], a: string, b: string): Comparison | null {
  // Only problems both methods answered: a failed row (a backend error) says nothing about the
  // method, and counting it as wrong made one method's failures read as the other being ahead.
  const byKey = new Map<string, boolean>();
  for (const r of rows) if (r.status !== 'failed') byKey.set(`${methodOf(r)}@${r.budget}#${r.problem}`, r.correct === true);
  const budgets = [...new Set(rows.filter((r) => methodOf(r) === a).map((r) => Number(r.budget)))].sort((x, y) => x - y);
  const points: Comparison['points'] = [];
  for (const budget of budgets) {
    const d: number[] = [];
    for (const r of rows) {
      if (methodOf(r) !== a || Number(r.budget) !== budget || r.status === 'failed') continue;
      const other = byKey.get(`${b}@${budget}#${r.problem}`);
      if (other !== undefined) d.push((r.correct === true ? 1 : 0) - (other ? 1 : 0));
    }
    if (d.length === 0) continue;
    points.push({ budget, problems: d.length, ...meanAndSe(d) });
  }
  return points.length > 0 ? { a, b, label: `${labelOf(a)} - ${labelOf(b)}`, points } : null;
}

/** Mean of per-problem differences and its standard error (sample variance / n). */
export function meanAndSe(d: readonly number[]): { diff: number; se: number } {
  const mean = d.reduce((x, y) => x + y, 0) / d.length;
  const variance = d.length > 1 ? d.reduce((x, y) => x + (y - mean) ** 2, 0) / (d.length - 1) : 0;
  return { diff: mean, se: Math.sqrt(variance / d.length) };
}

/** One line per comparison: the paired differences and how many budgets are clear of 2 standard errors. */
export function comparisonSentences(s: RunSummary): string[] {
  return s.comparisons.map((c) => {
    const pts = c.points.map((p) => `N=${p.budget}: ${(100 * p.diff).toFixed(1)} ± ${(100 * p.se).toFixed(1)}`).join(', ');
    const ahead = c.points.filter((p) => p.diff > 2 * p.se).length;
    const behind = c.points.filter((p) => p.diff < -2 * p.se).length;
    return `${labelOf(c.a)} against ${labelOf(c.b)} (accuracy points, paired by problem, ± one standard error): ${pts}. Ahead by more than two standard errors at ${ahead} of ${c.points.length} budgets, behind at ${behind}.`;
  });
}

function rank(order: string[], m: string): number {
  const i = order.indexOf(m);
  return i < 0 ? order.length : i;
}

function point(budget: number, rows: ResultRow[], sizes: ModelSizes): Point {
  const n = rows.length;
  const sum = (f: (r: ResultRow) => number, of: readonly ResultRow[] = rows) => of.reduce((a, r) => a + f(r), 0);
  const compute = (r: ResultRow) => r.compute as ComputeCounters;
  const phases = Object.fromEntries(PHASES.map((k) => [k, sum((r) => (r.phases as PhaseTimes)[k])])) as PhaseTimes;
  // A failed row counts as not solved (accuracy and Pass@N are over every problem) but records no
  // compute: its zeros would pull the per-problem means, the reference and every ratio down, so
  // compute is the mean over the problems that finished.
  const finished = rows.filter((r) => r.status !== 'failed');
  const m = Math.max(1, finished.length);
  const policyTokens = sum((r) => compute(r).policyTokens, finished) / m;
  const verifierTokens = sum((r) => compute(r).verifierTokens, finished) / m;
  // Rows written before provers were counted apart have no proverTokens.
  const proverTokens = sum((r) => compute(r).proverTokens ?? 0, finished) / m;
  const p: Point = {
    budget,
    problems: n,
    failed: n - finished.length,
    accuracy: sum((r) => (r.correct ? 1 : 0)) / n,
    policyTokens,
    verifierTokens,
    proverTokens,
    totalTokens: policyTokens + verifierTokens + proverTokens,
    policySamples: sum((r) => compute(r).policySamples, finished) / m,
    phases,
  };
  // Best-of-N family rows carry passAtN; failed ones do not, and count as not passed like accuracy.
  if (rows.some((r) => typeof r.passAtN === 'boolean')) p.passAtN = rows.filter((r) => r.passAtN === true).length / n;
  const flops = estimateFlops({ ...zeroCounters(), policyTokens, verifierTokens, proverTokens }, sizes);
  if (flops !== undefined) p.flops = flops;
  return p;
}
