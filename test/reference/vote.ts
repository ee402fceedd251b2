// Plain TypeScript oracle for voteAnswers: a Map per problem, answers scored and compared exactly
// as documented in src/ops/vote.ts.
import type { FloatArray } from './advantages.ts';

export function voteAnswers(o: {
  keys: BigUint64Array;
  weights?: FloatArray;
  offsets: Uint32Array;
  method: 'majority' | 'weighted' | 'max';
}): { winner: Uint32Array; score: Float64Array } {
  const P = o.offsets.length - 1;
  const winner = new Uint32Array(P);
  const score = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    // Map iteration order is insertion order = first occurrence.
    const answers = new Map<bigint, { count: number; wsum: number; maxW: number; rep: number; repW: number }>();
    for (let i = o.offsets[p]; i < o.offsets[p + 1]; i++) {
      const w = o.weights ? o.weights[i] : 1;
      const a = answers.get(o.keys[i]);
      if (!a) answers.set(o.keys[i], { count: 1, wsum: w, maxW: w, rep: i, repW: w });
      else {
        a.count++;
        a.wsum += w;
        a.maxW = Math.max(a.maxW, w);
        if (w > a.repW) [a.rep, a.repW] = [i, w];
      }
    }
    const scoreOf = (a: { count: number; wsum: number; maxW: number }) =>
      o.method === 'majority' ? a.count : o.method === 'weighted' ? a.wsum : a.maxW;
    let best: ReturnType<typeof answers.get>;
    for (const a of answers.values()) {
      if (!best) best = a;
      else if (scoreOf(a) > scoreOf(best)) best = a;
      else if (o.method === 'majority' && o.weights && a.count === best.count && a.wsum > best.wsum) best = a;
    }
    winner[p] = best ? best.rep : 0xffffffff;
    score[p] = best ? scoreOf(best) : 0;
  }
  return { winner, score };
}
