// Plain, one-problem-at-a-time reference implementations of the search drivers: obvious loops and
// Array sorts, the same per-request seeds, so the batched engine must reproduce them exactly.
import type { Backends } from '../../src/search/result.ts';
import type { SearchConfig } from '../../src/search/config.ts';
import { mixSeed, stringCode } from '../../src/search/seeds.ts';

const bok = (q: number, K: number) => 1 - (1 - q) ** K;

interface RefBeam {
  steps: number[];
  q: number;
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
  if (c.score === 'pav') root = (await b.verifier.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [[]] })).values[0];
  let live: RefBeam[] = Array.from({ length: subtrees }, (_, g) => ({ steps: [], q: root, group: g, finished: false }));
  const done: RefBeam[] = [];
  for (let depth = 0; depth < c.maxSteps && live.length > 0 && done.length < capacity; depth++) {
    let children: (RefBeam & { score: number; index: number })[] = [];
    for (let bi = 0; bi < live.length; bi++) {
      const parent = live[bi];
      const seeds = Uint32Array.of(mixSeed(c.seed, code, p, depth, bi, parent.group));
      const gen = await b.policy.sampleSteps({ problems: Uint32Array.of(p), prefixes: [parent.steps], n, seeds });
      for (let j = 0; j < n; j++) {
        const steps = [...parent.steps, gen.steps[j]];
        const q = (await b.verifier.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] })).values[0];
        const score = c.score === 'pav' ? q + c.alpha * (bok(q, c.proverK) - bok(parent.q, c.proverK)) : q;
        children.push({ steps, q, group: parent.group, finished: gen.finished[j] === 1, score, index: children.length });
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
  const pool = done.length > 0 ? done : live;
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
