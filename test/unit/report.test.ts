// The HTML report from synthetic rows: self-contained, the same numbers as the text table, one SVG
// with marks per chart, a per-problem table, and sentences that follow the data.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReportHtml, efficiencySentences } from '../../src/report/html.ts';
import { renderCharts } from '../../src/report/charts.ts';
import { writeReport, writeReportFrom } from '../../src/report/write.ts';
import { formatSummary } from '../../src/run/table.ts';
import { summarize } from '../../src/run/summary.ts';
import type { ResultRow } from '../../src/run/results_store.ts';
import { DEFAULT_BUDGETS, DEFAULT_METHODS, syntheticManifest, syntheticRows, weakPav } from '../fixtures/report_rows.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pav-report-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function writeRun(dir: string, rows: ResultRow[], manifest: Record<string, unknown>): void {
  writeFileSync(join(dir, 'results.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

const doc = (html: string) => parseHTML(html).document;
const text = (el: { textContent: string | null } | null) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** Rows of one table as cell texts (header row first). */
function tableCells(html: string, id: string): string[][] {
  const t = doc(html).getElementById(id);
  expect(t, `table #${id}`).toBeTruthy();
  return [...t!.querySelectorAll('tr')].map((tr) => [...tr.querySelectorAll('th,td')].map((c) => text(c)));
}

/** Rows of the first `count` plain-text tables formatSummary prints (split on runs of 2+ spaces). */
function textTables(s: string): string[][][] {
  return s
    .split('\n\n')
    .map((block) => block.split('\n').filter((l) => l.trim() && !/^-+( +-+)*$/.test(l.trim())).map((l) => l.trim().split(/ {2,}/)));
}

function assertSelfContained(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/\b(src|href|xlink:href|action)\s*=\s*["']?\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/@import/i);
  expect(html).not.toMatch(/<(link|iframe|object|embed|img)\b/i);
  expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'/);
}

describe('report prices FLOPs as the run did', () => {
  it('a separate prover keeps its own size (it was priced at the verifier size)', async () => {
    const dir = tmp();
    const rows = syntheticRows({ problems: 10 }).map((r) => ({ ...r, compute: { ...(r.compute as object), proverTokens: 7 } }));
    const sizes = { policyParams: 1e9, verifierParams: 1e8, proverParams: 5e8 };
    writeRun(dir, rows, syntheticManifest(sizes, 10));
    const { summary } = await writeReport(dir);
    expect(summary).toEqual(JSON.parse(JSON.stringify(summarize(rows, sizes))));
    const p = summary.methods[0].points[0];
    expect(p.flops).toBeCloseTo(2 * (1e9 * p.policyTokens + 1e8 * p.verifierTokens + 5e8 * 7));
  });
});

describe('report from synthetic rows (strong PAV)', () => {
  const dir = tmp();
  const rows = syntheticRows({ problems: 40, failures: 2 });
  const manifest = syntheticManifest({}, 40);
  writeRun(dir, rows, manifest);
  let html = '';
  const summary = summarize(rows);

  it('writeReport(dir) writes summary.json (the summarize() of the rows) and report.html', async () => {
    const out = await writeReport(dir, { generatedAt: new Date('2025-01-01T00:00:00Z') });
    expect(out.reportPath).toBe(join(dir, 'report.html'));
    expect(JSON.parse(readFileSync(out.summaryPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(summary)));
    html = readFileSync(out.reportPath, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('is self-contained: no scripts, no external src/href, no imports, a CSP that forbids the network', () => {
    assertSelfContained(html);
  });

  it('the header says what was run, from the manifest', () => {
    const header = text(doc(html).querySelector('p.run'));
    for (const s of ['planted-subsequence', 'gamma = 5', 'noisy', 'seed 0', 'abc123def4567890', '2025-01-02T03:04:05.000Z', 'pavsearch 0.1.0', 'node v20.20.2', 'linux x64, 2 CPUs', '40 problems', 'N = 2, 4, 8, 16, 32, 64, 128', `${rows.length} result rows, of which 2 failed`])
      expect(header).toContain(s);
    expect(header).toContain("PAV's advantages came from the Best-of-4 transform of the verifier.");
    // A separate prover is named instead.
    const m = syntheticManifest({}, 40) as { config: Record<string, unknown> };
    const withProver = buildReportHtml(summary, rows, { ...m, config: { ...m.config, prover: { kind: 'oracle', gamma: 10 } } });
    expect(text(doc(withProver).querySelector('p.run'))).toContain("PAV's advantages came from a separate prover verifier (oracle (gamma 10)).");
  });

  it('the accuracy and policy-token tables hold the numbers of formatSummary', () => {
    const [acc, tok] = textTables(formatSummary(summary));
    // Both mark cells with failed problems (‡), the HTML as a superscript with a title.
    const unmarked = (t: string[][]) => t.map((r) => r.map((c) => c.replace(/[†‡]/g, '')));
    expect(unmarked(tableCells(html, 'table-accuracy'))).toEqual(unmarked(acc));
    expect(acc.flat().filter((c) => c.endsWith('‡')).length).toBeGreaterThan(0);
    expect(tableCells(html, 'table-policy-tokens')).toEqual(tok);
  });

  it('the efficiency table and sentences follow summary.efficiency', () => {
    const eff = tableCells(html, 'table-efficiency');
    expect(eff[0]).toContain('compute ratio (policy tok)');
    for (const e of summary.efficiency) {
      const row = eff.find((r) => r[0].replace(' *', '') === e.label)!;
      expect(row[2]).toBe(e.match ? `N=${e.match.budget} (${(100 * e.match.accuracy).toFixed(1)}%)` : 'never');
      expect(row[4]).toBe(e.ratioPolicyTokens === null ? '-' : `${e.ratioPolicyTokens.toFixed(2)}x`);
      expect(row[5]).toBe(e.ratioTotalTokens === null ? '-' : `${e.ratioTotalTokens.toFixed(2)}x`);
    }
    const pav = summary.efficiency.find((e) => e.method === 'beam/pav')!;
    expect(pav.match).not.toBeNull();
    const sentence = efficiencySentences(summary)[0];
    expect(sentence).toMatch(new RegExp(`^beam \\(PAV\\) reaches the accuracy of ORM best-of-128 \\(\\d+\\.\\d%\\) at N=${pav.match!.budget} `));
    expect(sentence).toContain(`${pav.ratioPolicyTokens!.toFixed(1)}x less policy compute`);
    expect(text(doc(html).querySelector('header'))).toContain(sentence);
  });

  it('has one chart per view, each an inline <svg> with plotted marks', () => {
    const d = doc(html);
    for (const id of ['chart-budget', 'chart-compute-policy', 'chart-compute-total', 'chart-phases']) {
      const svg = d.querySelector(`#${id} svg.pavplot`);
      expect(svg, id).toBeTruthy();
      const marks = svg!.querySelectorAll(id === 'chart-phases' ? 'g[aria-label="bar"] rect' : 'g[aria-label="line"] path, g[aria-label="dot"] circle');
      expect(marks.length, id).toBeGreaterThan(id === 'chart-phases' ? summary.methods.length : 2 * summary.methods.length);
    }
    // No model sizes in the manifest: no FLOPs chart.
    expect(d.querySelector('#chart-compute-flops')).toBeNull();
    // The Pass@N ceiling is drawn dashed.
    expect(d.querySelector('#chart-budget g[aria-label="line"][stroke-dasharray]')).toBeTruthy();
  });

  it('has a per-problem table: one row per problem, one mark per budget in each method cell', () => {
    const cells = tableCells(html, 'table-problems');
    expect(cells.length).toBe(1 + 40);
    expect(cells[0].length).toBe(1 + DEFAULT_METHODS.length + 1); // + Pass@N
    for (const r of cells.slice(1)) for (const c of r.slice(1)) expect([...c].length).toBe(DEFAULT_BUDGETS.length);
    // Marks agree with the rows: problem 5 under beam (PAV).
    const want = DEFAULT_BUDGETS.map((b) => (rows.find((r) => r.problem === 5 && r.method === 'beam/pav' && r.budget === b)!.correct ? '●' : '○')).join('');
    expect(cells[1 + 5][1 + DEFAULT_METHODS.indexOf('beam/pav')]).toBe(want);
    // Failed rows show as failed.
    expect(html).toContain('×');
    expect(doc(html).querySelectorAll('.example pre').length).toBeGreaterThan(0);
  });
});

describe('report text follows the data', () => {
  it('says plainly when the PAV search never reaches the reference', () => {
    const s = summarize(syntheticRows({ problems: 30, accuracy: weakPav }));
    const pav = s.efficiency.find((e) => e.method === 'beam/pav')!;
    expect(pav.match).toBeNull();
    const first = efficiencySentences(s)[0];
    expect(first).toMatch(/^beam \(PAV\) never reaches the accuracy of ORM best-of-128 \(\d+\.\d%\): its best is \d+\.\d% at N=\d+/);
    const html = buildReportHtml(s, [], {});
    expect(html).toContain('never reaches');
    expect(html).not.toContain('beam (PAV) reaches');
  });

  it('explains a missing reference and a missing manifest instead of failing', () => {
    const rows = syntheticRows({ problems: 10, methods: ['beam/pav', 'beam/prm'], budgets: [4, 16] });
    const s = summarize(rows);
    const html = buildReportHtml(s, rows, {});
    expect(html).toContain('no best-of-N (ORM) results');
    expect(html).toContain('No manifest was found');
    expect(renderCharts(s).map((c) => c.id)).toEqual(['chart-budget', 'chart-compute-policy', 'chart-compute-total', 'chart-phases']);
    assertSelfContained(html);
  });

  it('draws a FLOPs chart when the manifest gives model sizes', async () => {
    const dir = tmp();
    writeRun(dir, syntheticRows({ problems: 12 }), syntheticManifest({ policyParams: 1.5e9, verifierParams: 1.5e9 }, 12));
    const { reportPath, summary } = await writeReport(dir);
    expect(summary.methods[0].points[0].flops).toBeGreaterThan(0);
    const html = readFileSync(reportPath, 'utf8');
    expect(doc(html).querySelector('#chart-compute-flops svg.pavplot g[aria-label="dot"] circle')).toBeTruthy();
    expect(doc(html).getElementById('table-flops')).toBeTruthy();
  });

  it('escapes ids, answers and traces taken from the rows', () => {
    const rows = syntheticRows({ problems: 6, hostileIds: true });
    rows[0].trace = '</pre><script>alert(1)</script>';
    const html = buildReportHtml(summarize(rows), rows, { configHash: '<img src=x>' });
    expect(html).not.toMatch(/<b>p\d<\/b>/);
    expect(html).toContain('&lt;b&gt;p0&lt;/b&gt;');
    assertSelfContained(html);
  });

  it('stays small at full scale (200 problems x 35 configurations) through writeReportFrom', async () => {
    const dir = tmp();
    const rows = syntheticRows({ problems: 200 });
    const s = summarize(rows);
    const { reportPath } = await writeReportFrom(s, rows, syntheticManifest({}, 200), dir);
    expect(statSync(reportPath).size).toBeLessThan(400_000);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).problems).toBe(200);
  });

  it('rejects a folder without results', async () => {
    await expect(writeReport(tmp())).rejects.toThrow(/results\.jsonl does not exist/);
  });
});
