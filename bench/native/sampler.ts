// Throughput of the toy task's native sampler and oracle: full rollouts from the start (100k), continuations
// from many prefixes, next-step sampling, and exact prefix values; single thread and with threads.
// Prints a table and one JSON line.
//   npx tsx bench/native/sampler.ts [--threads 2] [--reps 5] [--rollouts 100000] [--prefixes 100000]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { backendInfo } from '../../src/native/binding.ts';
import { valuePrefixes } from '../../src/toy/oracle.ts';
import { packPrefixes } from '../../src/toy/native.ts';
import { sampleRollouts, sampleSteps } from '../../src/toy/sampler.ts';
import { generateSuite, paperTask, ProblemTable } from '../../src/toy/task.ts';

const { values: a } = parseArgs({
  options: {
    threads: { type: 'string', default: String(Math.min(availableParallelism(), 4)) },
    reps: { type: 'string', default: '5' },
    rollouts: { type: 'string', default: '100000' },
    prefixes: { type: 'string', default: '100000' },
  },
});
const THREADS = Number(a.threads), REPS = Number(a.reps), ROLLOUTS = Number(a.rollouts), PREFIXES = Number(a.prefixes);

const paper = ProblemTable.of(paperTask());
const suite = generateSuite({ size: 500, seed: 1 });
const table = new ProblemTable(suite);

// Prefixes as the collection pipeline would see them: cut points along mu_5 rollouts of every problem
// (each cut lies before the rollout's last token, so none is finished and next steps can be sampled).
const seeds = sampleRollouts(table, Uint32Array.from({ length: 500 }, (_, i) => i), [...Array(500)].map(() => []), { n: Math.ceil(PREFIXES / 500 / 4), seed: 3 });
const probs: number[] = [];
const pre: number[][] = [];
for (let r = 0; r + 1 < seeds.offsets.length && probs.length < PREFIXES; r++) {
  const p = Math.floor(r / seeds.n);
  const roll = Array.from(seeds.tokens.subarray(seeds.offsets[r], seeds.offsets[r + 1]));
  for (let h = 0; h < roll.length && probs.length < PREFIXES; h++) {
    const s = roll.slice(0, h);
    if (s.length < suite[p].maxLen) {
      probs.push(p);
      pre.push(s);
    }
  }
}
while (probs.length < PREFIXES) {
  probs.push(probs.length % 500);
  pre.push([]);
}
const problems = Uint32Array.from(probs);
const packed = packPrefixes(pre, 15);

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

interface Row {
  scenario: string;
  threads: number;
  items: number;
  tokens: number;
  ms: number;
  mtokPerS: number;
  perCoreMtokPerS: number;
}
const rows: Row[] = [];

function bench(scenario: string, threads: number, fn: () => { items: number; tokens: number }): void {
  fn(); // warm up
  const times: number[] = [];
  let last = { items: 0, tokens: 0 };
  for (let i = 0; i < REPS; i++) {
    const t0 = process.hrtime.bigint();
    last = fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = median(times);
  const mtok = last.tokens / ms / 1e3;
  rows.push({ scenario, threads, items: last.items, tokens: last.tokens, ms: +ms.toFixed(3), mtokPerS: +mtok.toFixed(1), perCoreMtokPerS: +(mtok / Math.min(threads, availableParallelism())).toFixed(1) });
}

for (const threads of [...new Set([1, THREADS])]) {
  bench('rollouts from start, paper task, gamma 5', threads, () => {
    const r = sampleRollouts(paper, 0, [[]], { n: ROLLOUTS, gamma: 5, seed: 1, threads });
    return { items: ROLLOUTS, tokens: r.tokens.length };
  });
  bench('rollouts from start, 500-problem suite, gamma 10', threads, () => {
    const per = Math.ceil(ROLLOUTS / 500);
    const r = sampleRollouts(table, Uint32Array.from({ length: 500 }, (_, i) => i), { tokens: new Uint8Array(0), offsets: new Uint32Array(501) }, { n: per, gamma: 10, seed: 1, threads });
    return { items: per * 500, tokens: r.tokens.length };
  });
  bench(`continuations from ${PREFIXES} prefixes x 4, gamma 5`, threads, () => {
    const r = sampleRollouts(table, problems, packed, { n: 4, gamma: 5, seed: 2, threads });
    return { items: PREFIXES * 4, tokens: r.tokens.length };
  });
  bench(`next steps from ${PREFIXES} prefixes x 8`, threads, () => {
    const s = sampleSteps(table, problems, packed, { n: 8, seed: 4, threads });
    return { items: s.tokens.length, tokens: s.tokens.length };
  });
  bench(`exact values of ${PREFIXES} prefixes (tokens = prefixes)`, threads, () => {
    const v = valuePrefixes(table, problems, packed, { gamma: 5, threads });
    return { items: v.length, tokens: v.length };
  });
}

const info = backendInfo();
console.log(`toy sampler bench (${availableParallelism()} cores, addon ${info.path}, debug=${info.debug})`);
console.table(rows.map((r) => ({ scenario: r.scenario, threads: r.threads, items: r.items, tokens: r.tokens, 'ms (median)': r.ms, 'M tok/s': r.mtokPerS, 'M tok/s/core': r.perCoreMtokPerS })));
console.log(JSON.stringify({ bench: 'toy-sampler', cores: availableParallelism(), reps: REPS, rows }));
