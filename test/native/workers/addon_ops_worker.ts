// Piscina worker for the addon test: runs every op family on inputs derived from the task seed and
// returns the outputs, so the main thread can compare them with its own.
import { effectiveRewards, stepAdvantages } from '../../../src/ops/advantages.ts';
import { selectTopK } from '../../../src/ops/prune.ts';
import { voteAnswers } from '../../../src/ops/vote.ts';
import { valuePrefixes } from '../../../src/toy/oracle.ts';
import { sampleRollouts } from '../../../src/toy/sampler.ts';
import { generateSuite, ProblemTable } from '../../../src/toy/task.ts';
import { opsInputs } from './addon_ops_inputs.ts';

const table = new ProblemTable(generateSuite({ size: 8, seed: 3 }));

export default function run(seed: number) {
  return computeAll(seed, table);
}

export function computeAll(seed: number, t: ProblemTable) {
  const x = opsInputs(seed);
  const top = selectTopK({ scores: x.scores, offsets: x.offsets, k: 5, device: 'cpu' });
  const eff = effectiveRewards({ q: x.q, parentIndex: x.parentIndex, parentQ: x.parentQ, alpha: 0.5, K: 4, device: 'cpu' });
  const adv = stepAdvantages({ values: x.q, offsets: x.trajOffsets, rootValues: x.roots, K: 4, device: 'cpu' });
  const vote = voteAnswers({ keys: x.keys, weights: x.scores.subarray(0, x.keys.length), offsets: x.voteOffsets, method: 'weighted' });
  const problems = Uint32Array.from({ length: 8 }, (_, i) => i);
  const roll = sampleRollouts(t, problems, Array.from({ length: 8 }, () => []), { gamma: 5, n: 16, seed });
  const vals = valuePrefixes(t, problems, Array.from({ length: 8 }, () => []), { gamma: 5 });
  return {
    top: Array.from(top.indices),
    eff: Array.from(eff),
    adv: Array.from(adv),
    winner: Array.from(vote.winner),
    rollouts: Array.from(roll.tokens),
    values: Array.from(vals),
  };
}
