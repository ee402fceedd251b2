// One self-contained HTML report of a run: no scripts, fonts or network; the charts are inline SVG,
// so the file renders offline with JavaScript off. Every sentence is generated from the numbers.
import { PHASES } from '../search/compute.ts';
import type { ResultRow } from '../run/results_store.ts';
import { HEADLINE_METHOD, comparisonSentences, labelOf, methodOf, REFERENCE_METHOD, type MethodSummary, type Point, type RunSummary } from '../run/summary.ts';
import { atOther } from '../run/table.ts';
import { phaseTotals, renderCharts, type Chart } from './charts.ts';

/** What `manifest.json` holds (see run/main_job.ts manifestOf); every field is optional here. */
export type ReportManifest = Record<string, unknown>;

export interface ReportOptions {
  /** Time stamp printed in the footer (default: now). */
  generatedAt?: Date;
  /** Problems whose chosen traces are shown (default 4). */
  traceExamples?: number;
  /** Characters of a chosen trace shown before it is cut (default 800). */
  traceChars?: number;
}

// Same formatting as run/table.ts, so the report and the terminal table print the same numbers.
export const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
export const num = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);
const sci = (x: number) => x.toExponential(2);

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short human description of a manifest value: scalars as is, flat objects as "k v, k v". */
function describe(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (!isObj(v)) return Array.isArray(v) ? v.map(describe).join(', ') : String(v);
  const name = v.kind ?? v.name ?? v.id;
  const rest = Object.entries(v)
    .filter(([k, x]) => x !== undefined && x !== null && !['kind', 'name', 'id'].includes(k))
    .map(([k, x]) => (isObj(x) ? `${k}: ${describe(x)}` : `${k} ${describe(x)}`));
  if (name === undefined) return rest.join(', ');
  return rest.length ? `${String(name)} (${rest.join(', ')})` : String(name);
}

/** The machine as main_job.ts records it ("linux x64, 2 CPUs (model), 24 GiB"), else generically. */
function describeMachine(m: unknown): string {
  if (!isObj(m) || m.platform === undefined) return describe(m);
  return [
    [m.platform, m.arch].filter((x) => x !== undefined).join(' '),
    m.cpus !== undefined ? `${m.cpus} CPUs${m.cpuModel ? ` (${m.cpuModel})` : ''}` : undefined,
    m.memoryGiB !== undefined ? `${m.memoryGiB} GiB memory` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

function get(o: unknown, ...path: string[]): unknown {
  let v: unknown = o;
  for (const k of path) v = isObj(v) ? v[k] : undefined;
  return v;
}

function first(...vs: unknown[]): unknown {
  return vs.find((v) => v !== undefined && v !== null && v !== '');
}

const budgetsOf = (s: RunSummary) => [...new Set(s.methods.flatMap((m) => m.points.map((p) => p.budget)))].sort((a, b) => a - b);
const labelFor = (s: RunSummary, method: string) => s.methods.find((m) => m.method === method)?.label ?? labelOf(method);
const bestPoint = (m: MethodSummary) => m.points.reduce((a, p) => (p.accuracy > a.accuracy ? p : a), m.points[0]);
const lastPoint = (m: MethodSummary) => m.points[m.points.length - 1];
const times = (r: number) => (r >= 1 ? `${r.toFixed(1)}x less` : `${(1 / r).toFixed(1)}x more`);

/** The header paragraph: what was run, from the manifest, plus the row counts from the data. */
export function describeRun(s: RunSummary, rows: readonly ResultRow[], manifest: ReportManifest): string {
  const cfg = get(manifest, 'config');
  const parts: string[] = [];
  const bench = get(cfg, 'benchmark');
  const task = first(manifest.task, isObj(bench) ? `the embedded planted-subsequence benchmark (${describe(bench)})` : undefined);
  const gamma = get(cfg, 'policy', 'gamma');
  const policy = first(manifest.policy, manifest.basePolicy, gamma !== undefined ? `mu_gamma with gamma = ${gamma}` : get(cfg, 'policy'));
  const verifier = first(manifest.verifier, get(cfg, 'verifier'));
  const seed = first(manifest.seed, get(cfg, 'search', 'seed'));
  const hash = first(manifest.configHash, manifest.hash);
  const date = first(manifest.date, manifest.startedAt, manifest.createdAt);
  const budgets = budgetsOf(s);
  const failed = rows.filter((r) => r.status === 'failed').length;
  parts.push(
    `This run searched ${task ? esc(describe(task)) : 'an unnamed task (the manifest does not say)'}` +
      (policy ? ` with the base policy ${esc(describe(policy))}` : '') +
      (verifier ? ` and the verifier ${esc(describe(verifier))}` : '') +
      `: ${s.problems} problems, ${s.methods.length} method${s.methods.length === 1 ? '' : 's'} ` +
      `(${s.methods.map((m) => esc(m.label)).join(', ')})` +
      (budgets.length ? ` at budgets N = ${budgets.join(', ')}` : '') +
      `, ${rows.length} result rows${failed ? `, of which ${failed} failed` : ''}.`,
  );
  const search = get(cfg, 'search');
  if (isObj(search)) parts.push(`Search options: ${esc(describe(search))}.`);
  // PAV's prover: a separate verifier when the run had one (toy section or backend.prover), else Best-of-K.
  const prover = first(get(cfg, 'prover'), get(cfg, 'backend', 'prover'));
  if (isObj(cfg) && s.methods.some((m) => m.method.endsWith('/pav')))
    parts.push(
      prover !== undefined
        ? `PAV's advantages came from a separate prover verifier (${esc(describe(prover))}).`
        : `PAV's advantages came from the Best-of-${esc(describe(get(cfg, 'search', 'proverK') ?? 4))} transform of the verifier.`,
    );
  const facts: string[] = [];
  if (seed !== undefined) facts.push(`seed ${esc(describe(seed))}`);
  if (hash !== undefined) facts.push(`config hash <code>${esc(describe(hash))}</code>`);
  if (date !== undefined) facts.push(`started ${esc(describe(date))}`);
  if (facts.length) parts.push(`Run: ${facts.join(', ')}.`);
  const versions = first(
    manifest.versions,
    [manifest.tool && manifest.version ? `${manifest.tool} ${manifest.version}` : manifest.version, manifest.node ? `node ${manifest.node}` : undefined]
      .filter(Boolean)
      .join(', ') || undefined,
  );
  if (versions !== undefined) parts.push(`Versions: ${esc(describe(versions))}.`);
  const addon = manifest.addon;
  if (isObj(addon)) {
    const cuda = addon.cuda;
    const cudaText = isObj(cuda) ? `CUDA ${cuda.compiled ? 'compiled in' : 'not compiled in'}, ${cuda.devices ?? 0} GPU${cuda.devices === 1 ? '' : 's'} seen` : cuda !== undefined ? `CUDA ${describe(cuda)}` : '';
    parts.push(`Native addon: backends ${esc(describe(addon.backends ?? 'unknown'))}${cudaText ? `; ${esc(cudaText)}` : ''}.`);
  }
  if (manifest.machine !== undefined) parts.push(`Machine: ${esc(describeMachine(manifest.machine))}.`);
  if (Object.keys(manifest).length === 0) parts.push('No manifest was found, so what was run is known only from the rows.');
  return parts.join(' ');
}

/** Plain sentences on the compute-efficiency ratio, headline method first. */
export function efficiencySentences(s: RunSummary): string[] {
  const ref = s.reference;
  if (!ref)
    return [`This run has no ${labelFor(s, REFERENCE_METHOD)} results, so the compute-efficiency ratio (which uses ORM best-of-N at its largest budget as the reference) is not computed.`];
  const refName = `ORM best-of-${ref.budget}`;
  const out: string[] = [];
  if (!s.efficiency.some((e) => e.method === HEADLINE_METHOD))
    out.push(`${labelFor(s, HEADLINE_METHOD)}, the paper's headline search, was not part of this run.`);
  const order = [...s.efficiency].sort((a, b) => Number(b.method === HEADLINE_METHOD) - Number(a.method === HEADLINE_METHOD));
  for (const e of order) {
    const m = s.methods.find((x) => x.method === e.method);
    if (!e.match) {
      const best = m ? bestPoint(m) : undefined;
      out.push(
        `${e.label} never reaches the accuracy of ${refName} (${pct(ref.accuracy)}): its best is ${pct(e.bestAccuracy)}` +
          (best ? ` at N=${best.budget}` : '') +
          (best ? `, ${pct(ref.accuracy - e.bestAccuracy).replace('%', '')} points short.` : '.'),
      );
      continue;
    }
    const r = e.ratioPolicyTokens;
    const rt = e.ratioTotalTokens;
    out.push(
      `${e.label} reaches the accuracy of ${refName} (${pct(ref.accuracy)}) at N=${e.match.budget} (${pct(e.match.accuracy)}), ` +
        (r === null
          ? 'but its policy compute there is zero, so no ratio is defined.'
          : r === 1
            ? `with the same policy compute (${num(e.match.policyTokens)} tokens per problem)`
            : `with ${times(r)} policy compute (${num(e.match.policyTokens)} vs ${num(ref.policyTokens)} policy tokens per problem)`) +
        (r !== null && rt !== null
          ? `; counting verifier tokens too, ${rt === 1 ? 'the same' : times(rt)} compute (${num(ref.totalTokens / rt)} vs ${num(ref.totalTokens)}${atOther(e) ? `, cheapest at N=${e.totalMatchBudget}` : ''}).`
          : r !== null
            ? '.'
            : ''),
    );
  }
  return out;
}

/** Standard error of an accuracy near the reference's, in percentage points: the noise floor of comparisons. */
function noiseNote(s: RunSummary): string {
  const p = s.reference?.accuracy ?? 0.5;
  const n = s.problems;
  if (n === 0) return '';
  const se = 100 * Math.sqrt(Math.max(p * (1 - p), 1 / (4 * n)) / n);
  return `With ${n} problems, one accuracy near ${pct(p)} has a standard error of about ${se.toFixed(1)} points; differences smaller than about twice that are within sampling noise.`;
}

function table(head: string[], body: string[][], cls = '', id = ''): string {
  return `<table${id ? ` id="${id}"` : ''}${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>` +
    body.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('') +
    '</tbody></table>';
}

/** Accuracy and compute at each budget per method: the numbers of run/table.ts formatSummary. */
function accuracySection(s: RunSummary): string {
  const budgets = budgetsOf(s);
  const at = (m: MethodSummary, b: number) => m.points.find((p) => p.budget === b);
  const notes = new Set<string>();
  const flag = (p: Point) => {
    let f = '';
    if (p.problems < s.problems) {
      f += '<sup>†</sup>';
      notes.add('† computed over fewer problems than the run has (a partial or resumed run).');
    }
    if (p.failed > 0) {
      f += `<sup title="${p.failed} failed">‡</sup>`;
      notes.add('‡ some problems failed at this budget (backend errors); they count as incorrect, and compute per problem is over the rest.');
    }
    return f;
  };
  const bestAt = (b: number) => Math.max(...s.methods.map((m) => at(m, b)?.accuracy ?? -1));
  const accRows = s.methods.map((m) => [
    esc(m.label),
    ...budgets.map((b) => {
      const p = at(m, b);
      if (!p) return '';
      const v = pct(p.accuracy);
      return (p.accuracy === bestAt(b) && s.methods.length > 1 ? `<b>${v}</b>` : v) + flag(p);
    }),
  ]);
  const passMethod = s.methods.find((m) => m.points.some((p) => p.passAtN !== undefined));
  if (passMethod) accRows.push(['<i>Pass@N (true checker)</i>', ...budgets.map((b) => `<i>${pct(at(passMethod, b)?.passAtN)}</i>`)]);
  const head = (what: string) => [what, ...budgets.map((b) => `N=${b}`)];
  const computeTable = (what: string, id: string, f: (p: Point) => string) =>
    table(head(what), s.methods.map((m) => [esc(m.label), ...budgets.map((b) => {
      const p = at(m, b);
      return p ? f(p) : '';
    })]), 'num', id);
  const hasFlops = s.methods.some((m) => m.points.some((p) => p.flops !== undefined));
  const hasProver = s.methods.some((m) => m.points.some((p) => (p.proverTokens ?? 0) > 0));
  return [
    '<h2 id="accuracy">Accuracy against compute</h2>',
    `<p>Fraction of the ${s.problems} problems answered correctly at each budget N (best per budget in bold).` +
      (passMethod ? ' Pass@N is the fraction where any of the N best-of-N samples is correct: the ceiling a perfect verifier would reach.' : '') +
      '</p>',
    table(head('accuracy'), accRows, 'num', 'table-accuracy'),
    computeTable('policy tokens / problem', 'table-policy-tokens', (p) => num(p.policyTokens)),
    computeTable('verifier tokens / problem', 'table-verifier-tokens', (p) => num(p.verifierTokens)),
    ...(hasProver ? [computeTable('prover tokens / problem (a separate prover verifier)', 'table-prover-tokens', (p) => num(p.proverTokens ?? 0))] : []),
    ...(hasFlops ? [computeTable('FLOPs / problem', 'table-flops', (p) => (p.flops === undefined ? '' : sci(p.flops)))] : []),
    notes.size ? `<p class="note">${[...notes].join('<br>')}</p>` : '',
  ].join('\n');
}

function efficiencySection(s: RunSummary): string {
  const parts = ['<h2 id="efficiency">Compute efficiency</h2>'];
  parts.push(
    '<p>The paper\'s measure: the compute of ORM best-of-N at the largest budget divided by the compute of the cheapest budget of a search that matches its accuracy (above 1: the search needs less compute).</p>',
  );
  parts.push(`<ul class="findings">${[...efficiencySentences(s), ...comparisonSentences(s)].map((t) => `<li>${esc(t)}</li>`).join('')}</ul>`);
  if (s.reference) {
    const ref = s.reference;
    const refPoint = s.methods.find((m) => m.method === ref.method)?.points.find((p) => p.budget === ref.budget);
    const hasFlops = refPoint?.flops !== undefined;
    const head = ['method', 'best accuracy', 'matches at', 'policy tokens there', 'compute ratio (policy tok)', 'compute ratio (all tok)', ...(hasFlops ? ['compute ratio (FLOPs)'] : [])];
    const body = s.efficiency.map((e) => {
      const fr =
        hasFlops && e.ratioFlops !== null ? ratio(e.ratioFlops) + (e.flopsMatchBudget !== e.match?.budget ? ` (N=${e.flopsMatchBudget})` : '') : '-';
      return [
        esc(e.label) + (e.method === HEADLINE_METHOD ? ' *' : ''),
        pct(e.bestAccuracy),
        e.match ? `N=${e.match.budget} (${pct(e.match.accuracy)})` : 'never',
        e.match ? num(e.match.policyTokens) : '-',
        ratio(e.ratioPolicyTokens),
        ratio(e.ratioTotalTokens) + atOther(e),
        ...(hasFlops ? [fr] : []),
      ];
    });
    parts.push(`<p>Reference: ${esc(labelFor(s, ref.method))} at N=${ref.budget}: accuracy ${pct(ref.accuracy)}, ${num(ref.policyTokens)} policy tokens / problem, ${num(ref.totalTokens)} in all.</p>`);
    parts.push(table(head, body, 'num', 'table-efficiency'));
    parts.push(`<p class="note">* the paper's headline search. ${esc(noiseNote(s))}</p>`);
  }
  return parts.join('\n');
}

function chartSection(c: Chart, level = 3): string {
  return `<section class="chart" id="${esc(c.id)}"><h${level}>${esc(c.title)}</h${level}><p class="caption">${esc(c.caption)}</p>\n${c.html}\n</section>`;
}

function phaseSection(s: RunSummary, chart: Chart | undefined): string {
  const body = s.methods.map((m) => {
    const t = phaseTotals(m);
    const total = PHASES.reduce((a, k) => a + t[k], 0);
    const last = lastPoint(m);
    const lastTotal = last ? PHASES.reduce((a, k) => a + last.phases[k], 0) / Math.max(1, last.problems) : 0;
    return [
      esc(m.label),
      ...PHASES.map((k) => `${t[k].toFixed(2)}${total > 0 ? ` <span class="share">(${((100 * t[k]) / total).toFixed(0)}%)</span>` : ''}`),
      total.toFixed(2),
      last ? `${(1000 * lastTotal).toFixed(1)} ms (N=${last.budget})` : '',
    ];
  });
  const slowest = s.methods.map((m) => ({ m, t: phaseTotals(m) })).map(({ m, t }) => ({ m, total: PHASES.reduce((a, k) => a + t[k], 0), t }));
  const lines: string[] = [];
  for (const { m, total, t } of slowest) {
    if (total <= 0) continue;
    const top = PHASES.reduce((a, k) => (t[k] > t[a] ? k : a), PHASES[0]);
    lines.push(`${m.label}: ${((100 * t[top]) / total).toFixed(0)}% of its ${total.toFixed(2)} s in ${top}`);
  }
  return [
    '<h2 id="phases">Time per phase</h2>',
    '<p>Seconds per phase summed over every budget and problem of a method (the share of its total in brackets), and the wall time per problem at its largest budget. A shared batch\'s time is split evenly over its problems.</p>',
    table(['method', ...PHASES, 'total s', 'per problem at largest N'], body, 'num', 'table-phases'),
    lines.length ? `<p>${esc(lines.join('; '))}.</p>` : '<p>No phase times were recorded.</p>',
    chart ? chartSection(chart) : '',
  ].join('\n');
}

const MARK = { correct: '●', wrong: '○', failed: '×', missing: '·' } as const;

function markOf(r: ResultRow | undefined): string {
  if (!r) return MARK.missing;
  if (r.status === 'failed') return MARK.failed;
  return r.correct ? MARK.correct : MARK.wrong;
}

/** Per-problem correctness: one cell per method with one mark per budget, ascending. */
function problemSection(s: RunSummary, rows: readonly ResultRow[], opts: ReportOptions): string {
  const index = new Map<string, ResultRow>();
  const ids = new Map<number, string>();
  for (const r of rows) {
    index.set(`${r.problem}\u0000${methodOf(r)}\u0000${Number(r.budget)}`, r);
    if (!ids.has(r.problem)) ids.set(r.problem, typeof r.id === 'string' && r.id ? r.id : `#${r.problem}`);
  }
  const find = (problem: number, method: string, budget: number) => index.get(`${problem}\u0000${method}\u0000${budget}`);
  const problems = [...ids.keys()].sort((a, b) => a - b);
  const lastOk = (problem: number, m: MethodSummary) => {
    const p = lastPoint(m);
    return p ? find(problem, m.method, p.budget)?.correct === true : false;
  };
  let all = 0;
  let none = 0;
  const disagree: number[] = [];
  for (const q of problems) {
    const ok = s.methods.map((m) => lastOk(q, m));
    if (ok.every(Boolean)) all++;
    else if (!ok.some(Boolean)) none++;
    else disagree.push(q);
  }
  const passMethod = s.methods.find((m) => m.points.some((p) => p.passAtN !== undefined));
  const head = [
    'problem',
    ...s.methods.map((m) => `${esc(m.label)}<br><small>N=${m.points.map((p) => p.budget).join(',')}</small>`),
    ...(passMethod ? [`Pass@N<br><small>N=${passMethod.points.map((p) => p.budget).join(',')}</small>`] : []),
  ];
  const body = problems.map((q) => {
    const cells = s.methods.map((m) => {
      const marks = m.points.map((p) => markOf(find(q, m.method, p.budget))).join('');
      return `<td class="${lastOk(q, m) ? 'ok' : 'bad'}">${marks}</td>`;
    });
    if (passMethod) {
      const marks = passMethod.points
        .map((p) => {
          const r = find(q, passMethod.method, p.budget);
          return r === undefined || typeof r.passAtN !== 'boolean' ? MARK.missing : r.passAtN ? MARK.correct : MARK.wrong;
        })
        .join('');
      cells.push(`<td class="pass">${marks}</td>`);
    }
    return `<tr${disagree.includes(q) ? ' class="split"' : ''}><th scope="row">${esc(ids.get(q))}</th>${cells.join('')}</tr>`;
  });
  const matrix =
    `<table id="table-problems" class="problems"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
  return [
    '<h2 id="problems">Per problem</h2>',
    `<p>At each method's largest budget, ${all} of ${problems.length} problems are solved by every method, ${none} by none, and ${disagree.length} split the methods.</p>`,
    `<details><summary>Correctness of every problem under every method and budget (${problems.length} problems x ${s.methods.reduce((a, m) => a + m.points.length, 0)} configurations)</summary>`,
    `<p class="note">One mark per budget, smallest N first: ${MARK.correct} correct, ${MARK.wrong} wrong, ${MARK.failed} failed, ${MARK.missing} no row. A cell is green when the method is correct at its largest budget; rows where the methods disagree there are outlined.</p>`,
    matrix,
    '</details>',
    traceSection(s, problems, find, ids, opts),
  ].join('\n');
}

/** The chosen traces of a few problems, preferring ones where the headline search and the reference disagree. */
function traceSection(
  s: RunSummary,
  problems: number[],
  find: (problem: number, method: string, budget: number) => ResultRow | undefined,
  ids: Map<number, string>,
  opts: ReportOptions,
): string {
  const k = opts.traceExamples ?? 4;
  const maxChars = opts.traceChars ?? 800;
  if (k <= 0 || s.methods.length === 0 || problems.length === 0) return '';
  const a = s.methods.find((m) => m.method === HEADLINE_METHOD) ?? s.methods[s.methods.length - 1];
  const b = s.methods.find((m) => m.method === REFERENCE_METHOD && m !== a) ?? s.methods.find((m) => m !== a);
  const shown = b ? [a, b] : [a];
  const rowOf = (q: number, m: MethodSummary) => find(q, m.method, lastPoint(m).budget);
  const ok = (q: number, m: MethodSummary) => rowOf(q, m)?.correct === true;
  // Half where the first wins, half where the second wins, then fill with anything else.
  const wins = b ? problems.filter((q) => ok(q, a) && !ok(q, b)) : [];
  const losses = b ? problems.filter((q) => !ok(q, a) && ok(q, b)) : [];
  const picked = [...wins.slice(0, Math.ceil(k / 2)), ...losses.slice(0, Math.floor(k / 2))];
  for (const q of [...wins, ...losses, ...problems]) if (picked.length < k && !picked.includes(q)) picked.push(q);
  picked.sort((x, y) => x - y);
  const why = b
    ? `${wins.length} problems are solved by ${a.label} but not ${b.label} at their largest budgets, ${losses.length} the other way round.`
    : '';
  const blocks = picked.map((q) => {
    const items = shown.map((m) => {
      const r = rowOf(q, m);
      if (!r) return `<div class="trace"><h4>${esc(m.label)} N=${lastPoint(m).budget}: no row</h4></div>`;
      const trace = typeof r.trace === 'string' ? r.trace : r.trace == null ? '' : JSON.stringify(r.trace);
      const cut = trace.length > maxChars ? `${trace.slice(0, maxChars)}\n… (${trace.length - maxChars} more characters)` : trace;
      const value = typeof r.value === 'number' ? r.value.toFixed(3) : '-';
      return (
        `<div class="trace"><h4>${esc(m.label)} N=${esc(r.budget)}: ${markOf(r)} ${r.status === 'failed' ? 'failed' : r.correct ? 'correct' : 'wrong'}</h4>` +
        `<p>answer <code>${esc(r.answer ?? '-')}</code>, verifier value ${value}${r.finished === false ? ', cut before it finished' : ''}${r.error ? `, error: ${esc(r.error)}` : ''}</p>` +
        (cut ? `<pre>${esc(cut)}</pre>` : '<p class="note">no trace</p>') +
        '</div>'
      );
    });
    return `<div class="example"><h4>problem ${esc(ids.get(q))}</h4><div class="pair">${items.join('')}</div></div>`;
  });
  return [
    `<details><summary>Chosen traces of ${picked.length} problems (${esc(shown.map((m) => m.label).join(' vs '))})</summary>`,
    why ? `<p>${esc(why)}</p>` : '',
    ...blocks,
    '</details>',
  ].join('\n');
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;max-width:1020px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #e4e4e4}
thead th{border-bottom:2px solid #bbb;text-align:right;vertical-align:bottom}thead th:first-child,tbody th{text-align:left;font-weight:600}
table.num td{text-align:right;font-variant-numeric:tabular-nums}
table.problems td{font-family:ui-monospace,monospace;letter-spacing:1px;text-align:left}
table.problems td.ok{background:#e3f4e1}table.problems td.bad{background:#fbe7e4}table.problems td.pass{color:#666}
table.problems tr.split th{outline:2px solid #efb118}
.caption,.note{color:#555;font-size:13px}.share{color:#777}
ul.findings li{margin:.3em 0}
.chart{margin:1.5em 0}.chart svg{background:#fff}
details{margin:1em 0}summary{cursor:pointer;font-weight:600}
.pair{display:flex;gap:1em;flex-wrap:wrap}.trace{flex:1 1 420px;min-width:0}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;word-break:break-word;font-size:12px;max-height:20em;overflow:auto}
footer{margin-top:3em;color:#777;font-size:12px}
`;

/** The whole report as one HTML string. */
export function buildReportHtml(summary: RunSummary, rows: readonly ResultRow[], manifest: ReportManifest, opts: ReportOptions = {}): string {
  const charts = renderCharts(summary);
  const phaseChart = charts.find((c) => c.id === 'chart-phases');
  const mainCharts = charts.filter((c) => c !== phaseChart);
  const hash = first(manifest.configHash, manifest.hash);
  const headline = summary.reference ? efficiencySentences(summary)[0] : undefined;
  const generated = (opts.generatedAt ?? new Date()).toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>pavsearch report${hash ? ` ${esc(describe(hash))}` : ''}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>pavsearch report</h1>
<p class="run">${describeRun(summary, rows, manifest)}</p>
${headline ? `<p><b>In short:</b> ${esc(headline)}</p>` : ''}
</header>
<main>
${accuracySection(summary)}
${efficiencySection(summary)}
<h2 id="charts">Charts</h2>
${mainCharts.length ? mainCharts.map((c) => chartSection(c)).join('\n') : '<p>No points to plot.</p>'}
${phaseSection(summary, phaseChart)}
${problemSection(summary, rows, opts)}
</main>
<footer>Generated ${esc(generated)} by pavsearch from results.jsonl; summary.json holds the same numbers. Method: Setlur et al., "Rewarding Progress: Scaling Automated Process Verifiers for LLM Reasoning", arXiv 2410.08146.</footer>
</body>
</html>
`;
}
