// Plain, one-problem-at-a-time reference implementations of the search drivers: obvious loops and
// Array sorts, the same per-request seeds, so the batched engine must reproduce them exactly.
import type { Backends } from '../../src/search/result.ts';
import type { SearchConfig } from '../../src/search/config.ts';
import { mixSeed, stringCode } from '../../src/search/seeds.ts';

const bok = (q: number, K: number) => 1 - (1 - q) ** K;

interface RefBeam {
  steps: number[];
  q: number;
  /** The separate prover's value (0 without one). */
  mu: number;
  group: number;
  finished: boolean;
}

/** Beam search or DVTS on one problem; returns the chosen trace. */
export async function referenceStepSearch(b: Backends<number>, c: SearchConfig, p: number): Promise<number[] | null> {
  const dvts = c.algorithm === 'dvts';
  const width = Math.min(c.dvtsWidth, c.budget);
  const subtrees = dvts ? Math.max(1, Math.floor(c.budget / width)) : 1;
  const capacity = dvts ? subtrees : c.budget;
  const n = dvts ? width : c.expansions;
  const code = stringCode(c.algorithm);
  let root = 0;
  let rootMu = 0;
  const one = (v: typeof b.verifier, steps: number[]) => v.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] }).then((r) => r.values[0]);
  if (c.score === 'pav') {
    root = await one(b.verifier, []);
    if (b.prover) rootMu = await one(b.prover, []);
  }
  let live: RefBeam[] = Array.from({ length: subtrees }, (_, g) => ({ steps: [], q: root, mu: rootMu, group: g, finished: false }));
  const done: RefBeam[] = [];
  for (let depth = 0; depth < c.maxSteps && live.length > 0 && done.length < capacity; depth++) {
    let children: (RefBeam & { score: number; index: number })[] = [];
    for (let bi = 0; bi < live.length; bi++) {
      const parent = live[bi];
      const seeds = Uint32Array.of(mixSeed(c.seed, code, p, depth, bi, parent.group));
      const gen = await b.policy.sampleSteps({ problems: Uint32Array.of(p), prefixes: [parent.steps], n, seeds });
      for (let j = 0; j < n; j++) {
        const steps = [...parent.steps, gen.steps[j]];
        const q = await one(b.verifier, steps);
        // PAV: the advantage under a separate prover verifier's values when there is one, else under
        // Best-of-K of the verifier itself.
        const mu = c.score === 'pav' && b.prover ? await one(b.prover, steps) : 0;
        const advantage = b.prover ? mu - parent.mu : bok(q, c.proverK) - bok(parent.q, c.proverK);
        const score = c.score === 'pav' ? q + c.alpha * advantage : q;
        children.push({ steps, q, mu, group: parent.group, finished: gen.finished[j] === 1, score, index: children.length });
      }
    }
    children.sort((x, y) => y.score - x.score || x.index - y.index);
    if (c.dedupe) {
      // Of identical prefixes only the best (first after the sort) survives.
      const seen = new Set<string>();
      children = children.filter((ch) => !seen.has(ch.steps.join(',')) && seen.add(ch.steps.join(',')) !== undefined);
    }
    let kept: typeof children;
    if (dvts) {
      kept = [];
      for (let g = 0; g < subtrees; g++) {
        const best = children.find((ch) => ch.group === g);
        if (best) kept.push(best);
      }
    } else kept = children.slice(0, capacity - done.length);
    live = [];
    for (const ch of kept) (ch.finished || ch.steps.length >= c.maxSteps ? done : live).push(ch);
  }
  // The paper's answer: the finished trace with the highest Q^pi; only without one, a step-capped
  // trace, and only without those, a live beam (a deadline).
  const ended = done.filter((x) => x.finished);
  const pool = ended.length > 0 ? ended : done.length > 0 ? done : live;
  let best: RefBeam | undefined;
  for (const x of pool) if (!best || x.q > best.q) best = x;
  return best ? best.steps : null;
}

/** Best-of-N with max selection on one problem. */
export async function referenceBestOfN(b: Backends<number>, c: SearchConfig, p: number): Promise<{ trace: number[]; pass: boolean }> {
  const seeds = Uint32Array.of(mixSeed(c.seed, stringCode('completions'), p));
  const gen = await b.policy.sampleCompletions({ problems: Uint32Array.of(p), prefixes: [[]], n: c.budget, seeds });
  const q = (await b.verifier.scorePrefixes({ problems: new Uint32Array(c.budget).fill(p), prefixes: gen.completions })).values;
  let best = 0;
  for (let i = 1; i < c.budget; i++) if (q[i] > q[best]) best = i;
  return { trace: gen.completions[best], pass: gen.completions.some((t) => b.task.isCorrect(p, t)) };
}

/**
 * Best-of-N reranked by PAV on one problem: every prefix of every sample scored, r_h = Q_h +
 * alpha * (mu_h - mu_{h-1}) with mu the separate prover's value or Best-of-K of Q, r aggregated over
 * the trace; an empty trace ranks last; ties go to the first sample.
 */
export async function referencePavRerank(b: Backends<number>, c: SearchConfig, p: number): Promise<number[]> {
  const seeds = Uint32Array.of(mixSeed(c.seed, stringCode('completions'), p));
  const gen = await b.policy.sampleCompletions({ problems: Uint32Array.of(p), prefixes: [[]], n: c.budget, seeds });
  const value = async (v: typeof b.verifier, steps: number[]) => (await v.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] })).values[0];
  const mu = async (steps: number[]) => (b.prover ? value(b.prover, steps) : bok(await value(b.verifier, steps), c.proverK));
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < gen.completions.length; i++) {
    const t = gen.completions[i];
    let score = -Number.MAX_VALUE;
    if (t.length > 0) {
      const r: number[] = [];
      let prevMu = await mu([]);
      for (let h = 1; h <= t.length; h++) {
        const q = await value(b.verifier, t.slice(0, h));
        const m = await mu(t.slice(0, h));
        r.push(q + c.alpha * (m - prevMu));
        prevMu = m;
      }
      if (c.rerankAggregate === 'last') score = r[r.length - 1];
      else if (c.rerankAggregate === 'min') score = Math.min(...r);
      else if (c.rerankAggregate === 'prod') score = r.reduce((x, y) => x * y, 1);
      else score = r.reduce((x, y) => x + y, 0) / r.length;
    }
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return gen.completions[best];
}

/**
 * Best-of-N with a vote on one problem: samples grouped by the task's answer string; 'majority' takes
 * the largest group (ties: the larger ORM score sum, then the first seen), 'weighted' the largest
 * sum of ORM scores (ties: the first seen); the answer's representative is its best-scored sample.
 */
export async function referenceBestOfNVote(b: Backends<number>, c: SearchConfig, p: number): Promise<number[]> {
  const seeds = Uint32Array.of(mixSeed(c.seed, stringCode('completions'), p));
  const gen = await b.policy.sampleCompletions({ problems: Uint32Array.of(p), prefixes: [[]], n: c.budget, seeds });
  const q = (await b.verifier.scorePrefixes({ problems: new Uint32Array(c.budget).fill(p), prefixes: gen.completions })).values;
  const groups = new Map<string, { count: number; sum: number; rep: number }>();
  gen.completions.forEach((t, i) => {
    const key = b.task.answerKey(p, t);
    const g = groups.get(key);
    if (!g) groups.set(key, { count: 1, sum: q[i], rep: i });
    else {
      g.count++;
      g.sum += q[i];
      if (q[i] > q[g.rep]) g.rep = i;
    }
  });
  let best: { count: number; sum: number; rep: number } | undefined;
  for (const g of groups.values()) {
    if (!best) best = g;
    else if (c.selection === 'majority' ? g.count > best.count || (g.count === best.count && g.sum > best.sum) : g.sum > best.sum) best = g;
  }
  return gen.completions[best!.rep];
}
