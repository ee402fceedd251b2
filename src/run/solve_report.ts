// `pavsearch search`: solve one problem and describe the chosen trace step by step (Q^pi, the
// prover's advantage A^mu, and the PAV score Q + alpha A), for any backends. The prover is the
// separate prover verifier when the backends have one, else Best-of-K of the verifier.
import { bokTransform } from '../ops/advantages.ts';
import { solve } from '../search/engine.ts';
import type { SearchConfig } from '../search/config.ts';
import type { Backends } from '../search/result.ts';
import { formatTable } from './table.ts';

/** Steps longer than this are cut in the table (text steps can be paragraphs). */
const STEP_CHARS = 60;

export async function solveAndDescribe<S>(
  backends: Backends<S>,
  search: SearchConfig,
  problem: number,
  opts: { deadlineMs?: number } = {},
): Promise<string> {
  const r = await solve(backends, search, problem, { deadlineMs: opts.deadlineMs });
  const { task, verifier, prover } = backends;
  const stepSearch = search.algorithm === 'beam' || search.algorithm === 'dvts';
  const lines = [
    `${search.algorithm}${stepSearch ? ` (${search.score})` : ''}, N=${search.budget}, verifier ${verifier.name}${prover ? `, prover ${prover.name}` : ''}: status ${r.status}`,
  ];
  if (!r.trace) return [...lines, `no trace: ${r.error ?? 'nothing finished'}`].join('\n');
  lines.push(`trace: ${task.render(problem, r.trace)}`, `answer: ${r.answer ?? '-'}  ->  ${r.correct ? 'correct' : 'wrong'}`);
  if (r.stepValues && r.stepValues.length === r.trace.length) {
    // Q of the bare problem, then after each step; mu the same from the prover.
    const root = (await verifier.scorePrefixes({ problems: Uint32Array.of(problem), prefixes: [[]] })).values[0];
    const q = Float64Array.from([root, ...r.stepValues]);
    const trace = r.trace;
    const mu = prover
      ? (await prover.scorePrefixes({ problems: new Uint32Array(trace.length + 1).fill(problem), prefixes: Array.from({ length: trace.length + 1 }, (_, h) => trace.slice(0, h)) })).values
      : bokTransform(q, search.proverK);
    const rows = r.trace.map((step, h) => {
      const adv = mu[h + 1] - mu[h];
      const text = (task.renderStep ? task.renderStep(problem, step) : String(step)).replace(/\s+/g, ' ');
      return [
        String(h + 1),
        text.length > STEP_CHARS ? text.slice(0, STEP_CHARS - 1) + '…' : text,
        q[h + 1].toFixed(4),
        adv.toFixed(4),
        (q[h + 1] + search.alpha * adv).toFixed(4),
      ];
    });
    const muName = prover ? prover.name : `BoK ${search.proverK}`;
    lines.push(formatTable(['step', 'text', 'Q^pi', `A^mu (${muName})`, `Q + ${search.alpha} A`], rows));
  }
  const c = r.compute;
  lines.push(
    `compute: ${c.policySamples} step samples, ${c.policyTokens} policy tokens, ${c.verifierCalls} verifier calls, ${c.verifierTokens} verifier tokens` +
      (c.proverCalls > 0 ? `, ${c.proverCalls} prover calls, ${c.proverTokens} prover tokens` : ''),
  );
  return lines.join('\n');
}
