// Plain-text tables of a run summary for the terminal and the README.
import { HEADLINE_METHOD, comparisonSentences, type Efficiency, type RunSummary } from './summary.ts';

export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Marks a cell where some problems failed, as the HTML report does. */
const FAILED_MARK = '‡';
const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
const num = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** " (N=8)" where the all-token ratio is at another budget than the policy-token match. */
export function atOther(e: Efficiency): string {
  return e.match && e.totalMatchBudget !== null && e.totalMatchBudget !== e.match.budget ? ` (N=${e.totalMatchBudget})` : '';
}

/** Accuracy at each budget per method, the compute it took, Pass@N, and the efficiency ratios. */
export function formatSummary(s: RunSummary): string {
  const budgets = [...new Set(s.methods.flatMap((m) => m.points.map((p) => p.budget)))].sort((a, b) => a - b);
  const acc = formatTable(
    ['accuracy', ...budgets.map((b) => `N=${b}`)],
    [
      ...s.methods.map((m) => [
        m.label,
        ...budgets.map((b) => {
          const p = m.points.find((q) => q.budget === b);
          return p ? pct(p.accuracy) + (p.failed > 0 ? FAILED_MARK : '') : '';
        }),
      ]),
      ...s.methods
        .filter((m) => m.points.some((p) => p.passAtN !== undefined))
        .slice(0, 1)
        .map((m) => ['Pass@N (true checker)', ...budgets.map((b) => pct(m.points.find((p) => p.budget === b)?.passAtN))]),
    ],
  );
  const tok = formatTable(
    ['policy tokens / problem', ...budgets.map((b) => `N=${b}`)],
    s.methods.map((m) => [m.label, ...budgets.map((b) => {
      const p = m.points.find((q) => q.budget === b);
      return p ? num(p.policyTokens) : '';
    })]),
  );
  const lines = [acc, '', tok, ''];
  const failed = s.methods.reduce((n, m) => n + m.points.reduce((k, p) => k + p.failed, 0), 0);
  if (failed > 0) lines.push(`${FAILED_MARK} ${failed} results failed (backend errors): they count as incorrect; compute / problem is over the rest`, '');
  if (s.reference) {
    lines.push(
      `reference: ${s.reference.method} at N=${s.reference.budget}: accuracy ${pct(s.reference.accuracy)}, ` +
        `${num(s.reference.policyTokens)} policy tokens / problem`,
    );
    lines.push(
      formatTable(
        ['method', 'best accuracy', 'matches at', 'compute ratio (policy tok)', 'compute ratio (all tok)'],
        s.efficiency.map((e) => [
          e.label + (e.method === HEADLINE_METHOD ? ' *' : ''),
          pct(e.bestAccuracy),
          e.match ? `N=${e.match.budget}` : 'never',
          e.ratioPolicyTokens === null ? '-' : `${e.ratioPolicyTokens.toFixed(2)}x`,
          e.ratioTotalTokens === null ? '-' : `${e.ratioTotalTokens.toFixed(2)}x` + atOther(e),
        ]),
      ),
    );
    lines.push('* the paper\'s measure: compute of ORM best-of-N at the largest budget / compute of the cheapest beam (PAV) that matches its accuracy');
  }
  const comparisons = comparisonSentences(s);
  if (comparisons.length > 0) lines.push('', ...comparisons);
  return lines.join('\n');
}
