// Plain TypeScript oracle for the advantage and aggregate ops: double arithmetic, one obvious loop
// each, no validation. Outputs take the kind of the main input (float32 results are rounded once).
export type FloatArray = Float32Array | Float64Array;

const like = (a: FloatArray, n: number): FloatArray => (a instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));

export function bok(q: number, K: number): number {
  if (K === 1) return q;
  let p = 1;
  for (let k = 0; k < K; k++) p *= 1 - q;
  return 1 - p;
}

export function bokTransform(q: FloatArray, K: number): FloatArray {
  const out = like(q, q.length);
  for (let i = 0; i < q.length; i++) out[i] = bok(q[i], K);
  return out;
}

export function stepAdvantages(values: FloatArray, offsets: Uint32Array, rootValues: FloatArray, K = 1): FloatArray {
  const out = like(values, values.length);
  for (let t = 0; t + 1 < offsets.length; t++) {
    for (let h = offsets[t]; h < offsets[t + 1]; h++) {
      const prev = h === offsets[t] ? rootValues[t] : values[h - 1];
      out[h] = bok(values[h], K) - bok(prev, K);
    }
  }
  return out;
}

export function effectiveRewards(o: {
  q: FloatArray;
  parentIndex: Uint32Array;
  parentQ: FloatArray;
  alpha: number;
  K: number;
  proverChild?: FloatArray;
  proverParent?: FloatArray;
}): FloatArray {
  const out = like(o.q, o.q.length);
  for (let i = 0; i < o.q.length; i++) {
    const p = o.parentIndex[i];
    const muChild = o.proverChild ? o.proverChild[i] : bok(o.q[i], o.K);
    const muParent = o.proverParent ? o.proverParent[p] : bok(o.parentQ[p], o.K);
    out[i] = o.q[i] + o.alpha * (muChild - muParent);
  }
  return out;
}

export function denseRewards(o: {
  offsets: Uint32Array;
  outcomes: FloatArray;
  values: FloatArray;
  rootValues: FloatArray;
  alpha: number;
  baselines?: FloatArray;
  K?: number;
}): FloatArray {
  const A = stepAdvantagesF64(o.values, o.offsets, o.rootValues, o.K ?? 1);
  const out = like(o.values, o.values.length);
  for (let t = 0; t + 1 < o.offsets.length; t++)
    for (let h = o.offsets[t]; h < o.offsets[t + 1]; h++)
      out[h] = o.outcomes[t] + o.alpha * A[h] - (o.baselines ? o.baselines[h] : 0);
  return out;
}

// Advantages kept in double (the dense weight uses them before any float rounding).
function stepAdvantagesF64(values: FloatArray, offsets: Uint32Array, rootValues: FloatArray, K: number): Float64Array {
  return stepAdvantages(Float64Array.from(values), offsets, Float64Array.from(rootValues), K) as Float64Array;
}

export function expandToTokens(stepWeights: FloatArray, tokenOffsets: Uint32Array): FloatArray {
  const out = like(stepWeights, tokenOffsets[tokenOffsets.length - 1]);
  for (let s = 0; s < stepWeights.length; s++)
    for (let k = tokenOffsets[s]; k < tokenOffsets[s + 1]; k++) out[k] = stepWeights[s];
  return out;
}

export function aggregateSteps(scores: FloatArray, offsets: Uint32Array, method: 'last' | 'min' | 'prod' | 'mean'): FloatArray {
  const T = offsets.length - 1;
  const out = like(scores, T);
  for (let t = 0; t < T; t++) {
    const row = Array.from(scores.subarray(offsets[t], offsets[t + 1]));
    if (row.length === 0) throw new Error(`trajectory ${t} is empty`);
    if (method === 'last') out[t] = row[row.length - 1];
    else if (method === 'min') out[t] = Math.min(...row);
    else if (method === 'prod') out[t] = row.reduce((a, b) => a * b, 1);
    else out[t] = row.reduce((a, b) => a + b, 0) / row.length;
  }
  return out;
}
