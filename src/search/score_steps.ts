// Scoring steps as prefixes of their own: what a verifier's scoreSteps falls back to for the steps
// it cannot read in one pass over a response (the ONNX PRM's steps whose tags truncation cut, a
// pooling server without one row per step tag), and all a verifier without a one-pass reading does.
import { ErrorCodes, PavRangeError, PavTypeError } from '../errors.ts';
import type { ScoreBatch, ScoreRequestBatch, VerifierBackend } from './backends.ts';
import { PrefixList, prefixesFor, prefixList } from './prefixes.ts';
import { ROOT, StepTree } from './step_tree.ts';

/** Step `step` (0-based) of prefix `row` of a batch: the prefix of its first step + 1 steps. */
export interface StepRef {
  row: number;
  step: number;
}

/**
 * The value of each step in `which`, scored as its own prefix through `verifier.scorePrefixes`, in
 * one batch: values and tokens in the order of `which`. The prefixes are tree prefixes, so a
 * response's steps are stored once however many of its prefixes are scored.
 */
export async function scoreStepPrefixes<S>(verifier: VerifierBackend<S>, batch: ScoreRequestBatch<S>, which: readonly StepRef[]): Promise<ScoreBatch> {
  const prefixes = prefixList(batch.prefixes);
  // The problems are re-indexed per step below: a short or fractional list would silently score
  // steps as another problem's.
  const problems = batch.problems;
  if (!(problems instanceof Uint32Array)) throw new PavTypeError('problems must be a Uint32Array');
  if (problems.length !== prefixes.length)
    throw new PavRangeError(`problems has ${problems.length} entries for ${prefixes.length} prefixes`, ErrorCodes.LENGTH_MISMATCH);
  const tree = new StepTree<S>();
  const chains = new Map<number, Int32Array>(); // per row: the node after each of its steps
  const steps: S[] = [];
  const nodes = new Int32Array(which.length);
  for (let k = 0; k < which.length; k++) {
    const { row, step } = which[k];
    let chain = chains.get(row);
    if (!chain) {
      const n = prefixes.copySteps(row, steps, 0);
      chain = new Int32Array(n);
      for (let t = 0, node = ROOT; t < n; t++) chain[t] = node = tree.add(node, steps[t]);
      chains.set(row, chain);
    }
    nodes[k] = chain[step];
  }
  return verifier.scorePrefixes({
    problems: Uint32Array.from(which, (w) => problems[w.row]),
    prefixes: prefixesFor(verifier, PrefixList.inTree(tree, nodes)),
    signal: batch.signal,
  });
}

/** Every step of every prefix of a batch, prefix-major: the StepRefs whose values fill a StepScoreBatch. */
export function everyStep<S>(batch: ScoreRequestBatch<S>, rows?: readonly number[]): StepRef[] {
  const prefixes = prefixList(batch.prefixes);
  const out: StepRef[] = [];
  for (const row of rows ?? Array.from({ length: prefixes.length }, (_, i) => i))
    for (let step = 0; step < prefixes.lengthOf(row); step++) out.push({ row, step });
  return out;
}
