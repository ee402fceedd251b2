// Tables and a self-contained HTML page (inline SVG charts from Observable Plot on linkedom, no
// scripts) for the rl-demo results, plus rl-results.json beside it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { formatTable } from '../run/table.ts';
import { meanSd, type RlDemoResults } from './demo.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pm = (m: number, sd: number) => `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
const it = (x: number | null) => (x === null ? 'never' : String(x));

/** Mean of the per-seed "first iteration >= 50%", with runs that never got there listed apart. */
function reachSummary(xs: (number | null)[], horizon: number): string {
  const hit = xs.filter((x): x is number => x !== null);
  if (hit.length === 0) return `> ${horizon} (all)`;
  const m = meanSd(hit).mean.toFixed(0);
  return hit.length === xs.length ? m : `${m} (${xs.length - hit.length} never)`;
}

/** Checkpoints shown in the text table: about 10 rows, always the first and last. */
function checkpoints(its: number[]): number[] {
  if (its.length <= 11) return its;
  const step = Math.ceil((its.length - 1) / 10);
  const out = its.filter((_, i) => i % step === 0);
  if (out[out.length - 1] !== its[its.length - 1]) out.push(its[its.length - 1]);
  return out;
}

export interface RlTables {
  setup: string;
  curve: string;
  summary: string;
  sweep: string;
  passAtN: string;
  passAtNEarly: string;
}

export function rlTables(r: RlDemoResults): RlTables {
  const o = r.options;
  const sftAcc = meanSd(r.sft.map((x) => x.accuracy));
  const setup = [
    `task y*=[${o.task.target.join(',')}], V=${o.task.vocab}, L=${o.task.maxLen}; ${o.seeds} seeds; batch ${o.batchSize}; ${o.optimizer === 'sgd' ? 'SGD' : 'Adam'} lr ${o.lr}; MLP hidden ${o.hidden}`,
    `SFT: ${o.sftIterations} steps on ${o.sftSamples} samples of mu_${o.baseGamma} -> sampled accuracy ${pm(sftAcc.mean, sftAcc.sd)}% (mu_${o.baseGamma} itself: ${pct(r.baseStartValue)})`,
    `weight per token: ${o.form === 'q-pi' ? 'Q^pi' : 'R(y)'} + alpha * A^mu${o.baseline === 'none' ? '' : ' - batch-mean baseline'}; Q^pi = Monte Carlo (own outcome + ${o.qpiRollouts} rollouts/step); A^mu exact (oracle DP)`,
    `accuracy = sampled (temperature 1) on ${o.evalSamples} fresh responses; mean ± sd over seeds, in %`,
  ].join('\n');
  const its = r.arms[0].curve.map((p) => p.iteration);
  const curve = formatTable(
    ['iteration', ...r.arms.map((a) => a.label)],
    checkpoints(its).map((i) => {
      const j = its.indexOf(i);
      return [String(i), ...r.arms.map((a) => pm(a.curve[j].mean, a.curve[j].sd))];
    }),
  );
  const summary = formatTable(
    ['arm', `accuracy @${o.iterations}`, 'iters to 50% (mean curve)', 'iters to 90% (mean curve)', 'per-seed iters to 50%', 'batch success'],
    r.arms.map((a) => {
      const fin = meanSd(a.runs.map((x) => x.finalAccuracy));
      return [
        a.label,
        pm(fin.mean, fin.sd),
        it(a.reach50),
        it(a.reach90),
        a.runs.map((x) => it(x.reach50)).join(', '),
        pct(meanSd(a.runs.map((x) => x.meanBatchSuccess)).mean),
      ];
    }),
  );
  const sweepRows: (string | number)[][] = r.sweep.map((s) => [
    String(s.gamma),
    s.startValue.toFixed(4),
    pm(s.mean, s.sd),
    reachSummary(s.reach50, o.sweepIterations),
    s.finals.map(pct).join(', '),
  ]);
  if (r.sweepReference)
    sweepRows.push([
      'outcome-only',
      '-',
      pm(r.sweepReference.mean, r.sweepReference.sd),
      reachSummary(r.sweepReference.reach50, o.sweepIterations),
      r.sweepReference.finals.map(pct).join(', '),
    ]);
  const sweep =
    r.sweep.length === 0
      ? '(no sweep)'
      : formatTable(['prover gamma', 'V^mu(start)', `accuracy @${o.sweepIterations}`, 'iters to 50%', 'per seed'], sweepRows);
  const passAtN = formatTable(
    ['N', 'SFT init', ...r.arms.map((a) => a.label)],
    o.passAtN.map((n, j) => [String(n), pm(r.sft_passAtN[j].mean, r.sft_passAtN[j].sd), ...r.arms.map((a) => pm(a.passAtN[j].mean, a.passAtN[j].sd))]),
  );
  const e = r.arms[0].passAtNEarly;
  const passAtNEarly = formatTable(
    ['N', ...r.arms.map((a) => a.label)],
    e.values.map((v, j) => [String(v.n), ...r.arms.map((a) => pm(a.passAtNEarly.values[j].mean, a.passAtNEarly.values[j].sd))]),
  );
  return { setup, curve, summary, sweep, passAtN, passAtNEarly };
}

/** Every table as terminal text. */
export function formatRlTables(r: RlDemoResults): string {
  const t = rlTables(r);
  const o = r.options;
  return [
    t.setup,
    '',
    'Accuracy (%) against REINFORCE iterations',
    t.curve,
    '',
    t.summary,
    '',
    `Prover sweep: Q^pi + ${o.alpha} A^{mu_gamma}, ${o.sweepIterations} iterations`,
    t.sweep,
    '',
    `Pass@N (%) at iteration ${r.arms[0].passAtNEarly.iteration} (from that evaluation's ${o.evalSamples} samples per seed)`,
    t.passAtNEarly,
    '',
    `Pass@N (%) after ${o.iterations} iterations (unbiased estimator over ${o.passSamples} samples per seed)`,
    t.passAtN,
    '',
    `runtime: SFT ${r.seconds.sft.toFixed(1)} s, comparison ${r.seconds.main.toFixed(1)} s, sweep ${r.seconds.sweep.toFixed(1)} s, total ${r.seconds.total.toFixed(1)} s`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ charts

export interface RlChart {
  id: string;
  title: string;
  caption: string;
  html: string;
}

const PALETTE = ['#9498a0', '#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#a463f2'];
const WIDTH = 760;
const HEIGHT = 380;

function plotHtml(options: Plot.PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  const el = Plot.plot({ ...options, document: document as never, className: 'rlplot' }) as unknown as { outerHTML: string };
  return el.outerHTML;
}

// One colour per arm in every chart: outcome-only orange, PAV blue, the SFT init grey.
const ARM_COLORS: Record<string, string> = { outcome: '#efb118', pav: '#4269d0', qmu: '#ff725c' };
const SFT_COLOR = '#9498a0';

function armColors(r: RlDemoResults, sftLabel?: string): Plot.ScaleOptions {
  const domain = [...(sftLabel ? [sftLabel] : []), ...r.arms.map((a) => a.label)];
  const range = [...(sftLabel ? [SFT_COLOR] : []), ...r.arms.map((a, i) => ARM_COLORS[a.key] ?? PALETTE[i % PALETTE.length])];
  return { domain, range, legend: true };
}

export function accuracyCurveChart(r: RlDemoResults): RlChart {
  const band = r.arms.flatMap((a) =>
    a.curve.map((p) => ({ label: a.label, iteration: p.iteration, lo: Math.max(0, 100 * (p.mean - p.sd)), hi: Math.min(100, 100 * (p.mean + p.sd)) })),
  );
  const mean = r.arms.flatMap((a) =>
    a.curve.map((p) => ({ label: a.label, iteration: p.iteration, accuracy: 100 * p.mean, tip: `${a.label}, iteration ${p.iteration}: ${pm(p.mean, p.sd)}%` })),
  );
  const seeds = r.arms.flatMap((a) => a.runs.flatMap((run) => run.curve.map((p) => ({ label: a.label, seed: `${a.label}/${run.seed}`, iteration: p.iteration, accuracy: 100 * p.accuracy }))));
  const html = plotHtml({
    width: WIDTH,
    height: HEIGHT,
    x: { label: 'REINFORCE iteration →', grid: true },
    y: { label: '↑ sampled accuracy (%)', domain: [0, 100], grid: true },
    color: armColors(r),
    marks: [
      Plot.areaY(band, { x: 'iteration', y1: 'lo', y2: 'hi', fill: 'label', fillOpacity: 0.15 }),
      Plot.line(seeds, { x: 'iteration', y: 'accuracy', z: 'seed', stroke: 'label', strokeOpacity: 0.3, strokeWidth: 1 }),
      Plot.line(mean, { x: 'iteration', y: 'accuracy', stroke: 'label', strokeWidth: 2.5 }),
      Plot.dot(mean, { x: 'iteration', y: 'accuracy', fill: 'label', r: 2, title: 'tip' }),
    ],
  });
  return {
    id: 'chart-rl-accuracy',
    title: 'Accuracy against iterations: effective reward vs outcome-only',
    caption: `Thick lines: mean over ${r.options.seeds} seeds; band: ± 1 sd; thin lines: single seeds. Accuracy is sampled (temperature 1) on ${r.options.evalSamples} fresh responses per point.`,
    html,
  };
}

export function sweepChart(r: RlDemoResults): RlChart | null {
  if (r.sweep.length === 0) return null;
  const o = r.options;
  const rows = r.sweep.map((s) => ({ gamma: s.gamma, accuracy: 100 * s.mean, lo: Math.max(0, 100 * (s.mean - s.sd)), hi: Math.min(100, 100 * (s.mean + s.sd)), tip: `gamma ${s.gamma}: ${pm(s.mean, s.sd)}%` }));
  const seedDots = r.sweep.flatMap((s) => s.finals.map((f) => ({ gamma: s.gamma, accuracy: 100 * f })));
  const ref = r.sweepReference;
  const gs = r.sweep.map((s) => s.gamma);
  const html = plotHtml({
    width: WIDTH,
    height: HEIGHT,
    x: { type: 'log', label: 'prover gamma (log scale) →', domain: [Math.min(...gs) / 1.2, Math.max(...gs) * 1.2], tickFormat: (d: number) => String(d), ticks: gs },
    y: { label: `↑ accuracy after ${o.sweepIterations} iterations (%)`, domain: [0, 100], grid: true },
    marks: [
      ...(ref ? [Plot.ruleY([100 * ref.mean], { stroke: '#9498a0', strokeDasharray: '6,4' }), Plot.text([`outcome-only: ${pm(ref.mean, ref.sd)}%`], { x: Math.min(...gs), y: 100 * ref.mean, text: (d: string) => d, dy: -8, textAnchor: 'start', fill: '#666' })] : []),
      Plot.ruleX(rows, { x: 'gamma', y1: 'lo', y2: 'hi', stroke: '#4269d0' }),
      Plot.dot(seedDots, { x: 'gamma', y: 'accuracy', r: 2, fill: '#4269d0', fillOpacity: 0.35 }),
      Plot.line(rows, { x: 'gamma', y: 'accuracy', stroke: '#4269d0', strokeWidth: 2 }),
      Plot.dot(rows, { x: 'gamma', y: 'accuracy', r: 4, fill: '#4269d0', title: 'tip' }),
    ],
  });
  return {
    id: 'chart-rl-sweep',
    title: 'Which provers help: accuracy against the prover gamma',
    caption: `Q^pi + ${o.alpha} A^{mu_gamma} for each gamma, ${o.sweepIterations} iterations, mean ± sd over seeds (small dots: seeds). The dashed line is outcome-only RL at the same iteration.`,
    html,
  };
}

export function passAtNChart(r: RlDemoResults): RlChart | null {
  const o = r.options;
  if (o.passAtN.length === 0) return null;
  const sftLabel = 'SFT init';
  const early = r.arms[0].passAtNEarly.iteration;
  const data = [
    ...o.passAtN.map((n, j) => ({ label: sftLabel, when: 'SFT init', n, value: 100 * r.sft_passAtN[j].mean })),
    ...r.arms.flatMap((a) => a.passAtNEarly.values.map((p) => ({ label: a.label, when: `iteration ${early}`, n: p.n, value: 100 * p.mean, tip: `${a.label}, iteration ${early}, Pass@${p.n}: ${pm(p.mean, p.sd)}%` }))),
    ...r.arms.flatMap((a) => a.passAtN.map((p) => ({ label: a.label, when: `iteration ${o.iterations}`, n: p.n, value: 100 * p.mean, tip: `${a.label}, iteration ${o.iterations}, Pass@${p.n}: ${pm(p.mean, p.sd)}%` }))),
  ];
  const ns = o.passAtN;
  const html = plotHtml({
    width: WIDTH,
    height: HEIGHT,
    x: { type: 'log', base: 2, label: 'N (samples) →', domain: ns.length > 1 ? [Math.min(...ns), Math.max(...ns)] : [ns[0] / 2, ns[0] * 2], tickFormat: (d: number) => String(d), grid: true },
    y: { label: '↑ Pass@N (%)', domain: [0, 100], grid: true },
    color: armColors(r, sftLabel),
    marks: [
      Plot.line(data.filter((d) => d.when !== `iteration ${early}`), { x: 'n', y: 'value', stroke: 'label', strokeWidth: 2 }),
      Plot.line(data.filter((d) => d.when === `iteration ${early}`), { x: 'n', y: 'value', stroke: 'label', strokeWidth: 1.5, strokeDasharray: '5,3' }),
      Plot.dot(data, { x: 'n', y: 'value', fill: 'label', r: 3, title: 'tip' }),
    ],
  });
  return {
    id: 'chart-rl-passn',
    title: `Pass@N at the SFT init, at iteration ${early} and after ${o.iterations} iterations`,
    caption: `Probability that at least one of N sampled responses is correct (unbiased estimator, mean over seeds); dashed: iteration ${early}, solid: after training. With one problem it is a function of the sampled accuracy p: about 1 - (1 - p)^N.`,
    html,
  };
}

export function renderRlCharts(r: RlDemoResults): RlChart[] {
  return [accuracyCurveChart(r), sweepChart(r), passAtNChart(r)].filter((c): c is RlChart => c !== null);
}

// ------------------------------------------------------------------------------------------ html

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Sentences comparing the measurements with the paper's claims, generated from the numbers. */
export function paperComparison(r: RlDemoResults): string[] {
  const o = r.options;
  const [out, pav] = r.arms;
  const lines: string[] = [];
  const finOut = meanSd(out.runs.map((x) => x.finalAccuracy)).mean;
  const finPav = meanSd(pav.runs.map((x) => x.finalAccuracy)).mean;
  lines.push(
    `Paper: the effective reward with gamma = 10 reaches 100% within a few hundred iterations. Measured: ${pav.label} reaches ${pct(finPav)} after ${o.iterations} iterations` +
      (pav.reach90 !== null ? ` (mean curve above 90% from iteration ${pav.reach90}).` : ' (the mean curve never reaches 90%).'),
  );
  lines.push(
    `Paper: outcome-only RL stays near 0. Measured: ${out.label} reaches ${pct(finOut)} after ${o.iterations} iterations` +
      (out.reach50 !== null ? ` (mean curve above 50% from iteration ${out.reach50}` + (pav.reach50 !== null ? `, against ${pav.reach50} with PAV)` : ')') : ', never above 50%') +
      (finOut > 0.2 ? ': unlike the paper, outcome-only learns here too, only later.' : '.'),
  );
  if (r.sweep.length > 0) {
    const best = r.sweep.reduce((a, b) => (b.mean > a.mean ? b : a));
    const helps = r.sweep.filter((s) => r.sweepReference && s.mean > r.sweepReference.mean + Math.max(0.05, s.sd));
    lines.push(
      `Paper: only provers with gamma in about [8, 15] help. Measured after ${o.sweepIterations} iterations: best gamma ${best.gamma} (${pct(best.mean)}); ` +
        (helps.length > 0 ? `gammas clearly above outcome-only (${pct(r.sweepReference!.mean)}): ${helps.map((s) => s.gamma).join(', ')}.` : 'no gamma is clearly above outcome-only.'),
    );
  }
  return lines;
}

function tableHtml(text: string): string {
  return `<pre class="table">${esc(text)}</pre>`;
}

export function buildRlReportHtml(r: RlDemoResults, generatedAt = new Date()): string {
  const t = rlTables(r);
  const o = r.options;
  const charts = renderRlCharts(r);
  const chartHtml = charts
    .map((c) => `<section id="${esc(c.id)}"><h2>${esc(c.title)}</h2><p class="caption">${esc(c.caption)}</p>${c.html}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pavsearch rl-demo</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em}
pre.table{background:#f6f7f9;padding:.8em;overflow-x:auto;font-size:12.5px;line-height:1.35}
.caption{color:#555;font-size:.92em}
svg.rlplot,figure.rlplot{max-width:100%;height:auto}
footer{margin-top:3em;color:#777;font-size:.85em}
</style></head><body>
<h1>Dense rewards from process advantages in online RL: the planted-subsequence experiment</h1>
<p>Reproduction of the didactic RL experiment of Setlur et al., "Rewarding Progress" (arXiv 2410.08146): REINFORCE on an autoregressive MLP policy with per-token weight ${o.form === 'q-pi' ? 'Q<sup>&pi;</sup>' : 'R(y)'} + &alpha; A<sup>&mu;</sup> (&alpha; = ${esc(o.alpha)}, prover &mu;<sub>${esc(o.proverGamma)}</sub>) against outcome-only (&alpha; = 0).</p>
<h2>Setup</h2><pre class="table" style="white-space:pre-wrap">${esc(t.setup)}</pre>
<h2>Compared with the paper</h2><ul>${paperComparison(r).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
${chartHtml}
<h2>Accuracy (%) against iterations</h2>${tableHtml(t.curve)}${tableHtml(t.summary)}
<h2>Prover sweep (${esc(o.sweepIterations)} iterations)</h2>${tableHtml(t.sweep)}
<h2>Pass@N during and after training</h2><p>At iteration ${esc(r.arms[0].passAtNEarly.iteration)}:</p>${tableHtml(t.passAtNEarly)}<p>After ${esc(o.iterations)} iterations:</p>${tableHtml(t.passAtN)}
<h2>Choices</h2><ul>
<li>Q<sup>&pi;</sup> of the current policy has no closed form (the MLP conditions on the whole prefix), so it is a Monte-Carlo estimate per step: the trajectory's own outcome plus ${esc(o.qpiRollouts)} fresh rollout(s) of the current policy from that prefix, averaged; exact (1, or R(y)) once the target occurred or the response ended.</li>
<li>A<sup>&mu;</sup>(s<sub>h</sub>, a<sub>h</sub>) = Q<sup>&mu;</sup>(prefix after step h) &minus; Q<sup>&mu;</sup>(prefix before), exact from the oracle DP; each token gets its own advantage (native denseRewards).</li>
<li>SFT: ${esc(o.sftIterations)} Adam steps on minibatches of ${esc(Math.floor(o.sftSamples / Math.max(1, o.sftIterations)))} drawn from ${esc(o.sftSamples)} samples of &mu;<sub>${esc(o.baseGamma)}</sub>; both arms of a seed start from the same SFT policy.</li>
<li>REINFORCE steps with ${o.optimizer === 'sgd' ? 'plain gradient descent' : 'Adam'} at learning rate ${esc(o.lr)}.</li>
<li>Accuracy is sampled accuracy at temperature 1 (greedy accuracy on a single problem is 0 or 1).</li>
</ul>
<footer>Generated ${esc(generatedAt.toISOString())} on ${esc(r.machine.cpus)} CPUs, Node ${esc(r.machine.node)}; total ${esc(r.seconds.total.toFixed(1))} s.</footer>
</body></html>
`;
}

export interface RlReportFiles {
  html: string;
  json: string;
}

/** Write rl-report.html and rl-results.json into dir (created if missing). */
export async function writeRlReport(r: RlDemoResults, dir: string): Promise<RlReportFiles> {
  await mkdir(dir, { recursive: true });
  const html = join(dir, 'rl-report.html');
  const json = join(dir, 'rl-results.json');
  await writeFile(html, buildRlReportHtml(r));
  await writeFile(json, JSON.stringify(r, null, 2) + '\n');
  return { html, json };
}
