// Charts of a run summary rendered server-side (Observable Plot on a linkedom document) to inline
// SVG markup, so the report needs no script and renders offline with JavaScript off.
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { PHASES, type Phase } from '../search/compute.ts';
import { HEADLINE_METHOD, type MethodSummary, type Point, type RunSummary } from '../run/summary.ts';

export interface Chart {
  /** Stable id, also the element id in the report ('chart-budget', ...). */
  id: string;
  title: string;
  /** One or two sentences on how to read it. */
  caption: string;
  /** Markup from Plot: an <svg>, or a <figure> holding a legend and an <svg>. */
  html: string;
}

/** The compute measures a chart can put on its x axis. */
export type ComputeAxis = 'policyTokens' | 'totalTokens' | 'flops';

const AXIS_LABEL: Record<ComputeAxis, string> = {
  policyTokens: 'policy tokens per problem',
  totalTokens: 'total tokens per problem (policy + verifier)',
  flops: 'FLOPs per problem (2 x params x tokens)',
};

// Observable's categorical palette, fixed here so a method keeps its colour in every chart.
const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'];
const PHASE_COLORS: Record<Phase, string> = { generate: '#4269d0', score: '#efb118', prune: '#ff725c', other: '#9498a0' };
const CEILING_COLOR = '#6b6b6b';
const WIDTH = 760;
const HEIGHT = 400;

const pct1 = (x: number) => `${x.toFixed(1)}%`;

/** A fresh linkedom document per chart: Plot appends nodes to it while it builds. */
function plotHtml(options: Plot.PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  const el = Plot.plot({ ...options, document: document as never, className: 'pavplot' }) as unknown as { outerHTML: string };
  return el.outerHTML;
}

/** Colour scale shared by the per-method charts. */
function methodColors(s: RunSummary, extra: { label: string; color: string }[] = []): Plot.ScaleOptions {
  return {
    domain: [...s.methods.map((m) => m.label), ...extra.map((e) => e.label)],
    range: [...s.methods.map((_, i) => PALETTE[i % PALETTE.length]), ...extra.map((e) => e.color)],
    legend: true,
  };
}

/** Log-scale domain that stays valid when every value is the same. */
function logDomain(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? [lo / 2, hi * 2] : [lo, hi];
}

interface Datum {
  label: string;
  method: string;
  budget: number;
  x: number;
  accuracy: number;
}

function tip(m: MethodSummary, p: Point): string {
  return `${m.label} N=${p.budget}: ${pct1(100 * p.accuracy)} over ${p.problems} problems, ` +
    `${p.policyTokens.toFixed(0)} policy / ${p.totalTokens.toFixed(0)} total tokens per problem`;
}

/** (1) Accuracy against the budget N per method, log2 x axis, Pass@N as a dashed ceiling. */
export function accuracyByBudgetChart(s: RunSummary): Chart | null {
  const data = s.methods.flatMap((m) => m.points.map((p) => ({ label: m.label, budget: p.budget, accuracy: 100 * p.accuracy, tip: tip(m, p) })));
  if (data.length === 0) return null;
  // The ceiling comes from the best-of-N family (any of the N samples correct under the true checker).
  const withPass = s.methods.find((m) => m.points.some((p) => p.passAtN !== undefined));
  const ceiling = (withPass?.points ?? [])
    .filter((p) => p.passAtN !== undefined)
    .map((p) => ({ label: 'Pass@N (ceiling)', budget: p.budget, accuracy: 100 * p.passAtN!, tip: `Pass@${p.budget}: ${pct1(100 * p.passAtN!)}` }));
  const extra = ceiling.length > 0 ? [{ label: 'Pass@N (ceiling)', color: CEILING_COLOR }] : [];
  const html = plotHtml({
    width: WIDTH,
    height: HEIGHT,
    marginRight: 30,
    x: { type: 'log', base: 2, domain: logDomain(data.map((d) => d.budget)), label: 'budget N →', tickFormat: (d: number) => String(d), grid: true },
    y: { label: '↑ accuracy (%)', grid: true, nice: true },
    color: methodColors(s, extra),
    marks: [
      Plot.line(ceiling, { x: 'budget', y: 'accuracy', stroke: 'label', strokeDasharray: '6,4', strokeWidth: 1.5 }),
      Plot.dot(ceiling, { x: 'budget', y: 'accuracy', stroke: 'label', r: 2.5, title: 'tip' }),
      Plot.line(data, { x: 'budget', y: 'accuracy', stroke: 'label', strokeWidth: 2 }),
      Plot.dot(data, { x: 'budget', y: 'accuracy', fill: 'label', r: 3.5, title: 'tip' }),
    ],
  });
  return {
    id: 'chart-budget',
    title: 'Accuracy against the budget N',
    caption:
      'One line per method; x is the budget N (beam width or number of samples), log2 scale.' +
      (ceiling.length > 0 ? ' The dashed grey line is Pass@N: the fraction of problems where any of the N best-of-N samples is correct, the ceiling a perfect verifier would reach.' : ''),
    html,
  };
}

function computeValue(p: Point, axis: ComputeAxis): number | undefined {
  return axis === 'flops' ? p.flops : p[axis];
}

/** (2)/(3) Accuracy against compute per problem (log x), with the reference accuracy as a rule. */
export function accuracyByComputeChart(s: RunSummary, axis: ComputeAxis): Chart | null {
  const data: (Datum & { tip: string })[] = s.methods.flatMap((m) =>
    m.points
      .map((p) => ({ label: m.label, method: m.method, budget: p.budget, x: computeValue(p, axis) ?? NaN, accuracy: 100 * p.accuracy, tip: tip(m, p) }))
      .filter((d) => Number.isFinite(d.x) && d.x > 0),
  );
  if (data.length === 0) return null;
  const ref = s.reference;
  const refLabel = ref ? `ORM best-of-${ref.budget}: ${pct1(100 * ref.accuracy)}` : '';
  // Mark where the headline PAV search first matches the reference (the ratio's denominator).
  const head = s.efficiency.find((e) => e.method === HEADLINE_METHOD);
  const headMethod = s.methods.find((m) => m.method === HEADLINE_METHOD);
  const matchPoint = head?.match ? headMethod?.points.find((p) => p.budget === head.match!.budget) : undefined;
  const matchX = matchPoint ? computeValue(matchPoint, axis) : undefined;
  const match = matchPoint && matchX !== undefined && matchX > 0 ? [{ x: matchX, accuracy: 100 * matchPoint.accuracy, text: `${head!.label} N=${matchPoint.budget}` }] : [];
  const html = plotHtml({
    width: WIDTH,
    height: HEIGHT,
    marginRight: 56,
    x: { type: 'log', domain: logDomain(data.map((d) => d.x)), label: `${AXIS_LABEL[axis]} →`, tickFormat: '~s', grid: true },
    y: { label: '↑ accuracy (%)', grid: true, nice: true },
    color: methodColors(s),
    marks: [
      ...(ref ? [Plot.ruleY([100 * ref.accuracy], { stroke: '#444', strokeDasharray: '2,3' }), Plot.text([refLabel], { x: data.reduce((a, d) => Math.min(a, d.x), Infinity), y: 100 * ref.accuracy, text: (d: string) => d, dy: -7, textAnchor: 'start', fill: '#444' })] : []),
      Plot.line(data, { x: 'x', y: 'accuracy', stroke: 'label', z: 'label', strokeWidth: 2 }),
      Plot.dot(data, { x: 'x', y: 'accuracy', fill: 'label', r: 3.5, title: 'tip' }),
      Plot.text(data, Plot.selectLast({ x: 'x', y: 'accuracy', z: 'label', text: (d: Datum) => `N=${d.budget}`, dx: 6, textAnchor: 'start', fontSize: 9, fill: '#555' })),
      Plot.dot(match, { x: 'x', y: 'accuracy', r: 8, stroke: '#111', strokeWidth: 1.5 }),
      Plot.text(match, { x: 'x', y: 'accuracy', text: 'text', dy: 16, fontSize: 10, fill: '#111' }),
    ],
  });
  const id = axis === 'policyTokens' ? 'chart-compute-policy' : axis === 'totalTokens' ? 'chart-compute-total' : 'chart-compute-flops';
  const titles: Record<ComputeAxis, string> = {
    policyTokens: 'Accuracy against policy compute',
    totalTokens: 'Accuracy against total compute (policy + verifier tokens)',
    flops: 'Accuracy against estimated FLOPs',
  };
  return {
    id,
    title: titles[axis],
    caption:
      `x is the mean ${AXIS_LABEL[axis]} at each budget (log scale); points further left reach the same accuracy with less compute.` +
      (ref ? ` The dotted rule is the reference, ORM best-of-N at its largest budget.` : '') +
      (match.length > 0 ? ` The ring marks the cheapest ${head!.label} budget that matches it.` : ''),
    html,
  };
}

/** Seconds per phase for each method, summed over its budgets and problems. */
export function phaseTotals(m: MethodSummary): Record<Phase, number> {
  const t = { generate: 0, score: 0, prune: 0, other: 0 } as Record<Phase, number>;
  for (const p of m.points) for (const k of PHASES) t[k] += p.phases[k] ?? 0;
  return t;
}

/** (4) Where the wall time went: stacked bars of phase seconds per method. */
export function phaseChart(s: RunSummary): Chart | null {
  const data = s.methods.flatMap((m) => {
    const t = phaseTotals(m);
    return PHASES.map((phase) => ({ label: m.label, phase, seconds: t[phase], tip: `${m.label}, ${phase}: ${t[phase].toFixed(2)} s` }));
  });
  if (!data.some((d) => d.seconds > 0)) return null;
  const longest = Math.max(...s.methods.map((m) => m.label.length));
  const html = plotHtml({
    width: WIDTH,
    height: 60 + 34 * s.methods.length,
    marginLeft: Math.min(220, 12 + 6.5 * longest),
    marginRight: 30,
    x: { label: 'seconds (all budgets and problems) →', grid: true },
    y: { label: null, domain: s.methods.map((m) => m.label) },
    color: { domain: [...PHASES], range: PHASES.map((p) => PHASE_COLORS[p]), legend: true },
    marks: [Plot.barX(data, { x: 'seconds', y: 'label', fill: 'phase', order: [...PHASES], title: 'tip' }), Plot.ruleX([0])],
  });
  return {
    id: 'chart-phases',
    title: 'Seconds per phase, by method',
    caption: 'Wall-clock seconds each method spent generating steps, scoring them with the verifier, pruning beams and on everything else, summed over all its budgets and problems (a shared batch\'s time is split evenly over its problems).',
    html,
  };
}

/** Every chart the summary supports, in report order. The FLOPs chart needs Point.flops. */
export function renderCharts(s: RunSummary): Chart[] {
  const hasFlops = s.methods.length > 0 && s.methods.every((m) => m.points.every((p) => p.flops !== undefined && p.flops > 0));
  return [
    accuracyByBudgetChart(s),
    accuracyByComputeChart(s, 'policyTokens'),
    accuracyByComputeChart(s, 'totalTokens'),
    hasFlops ? accuracyByComputeChart(s, 'flops') : null,
    phaseChart(s),
  ].filter((c): c is Chart => c !== null);
}
