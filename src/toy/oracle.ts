// Exact values of the toy task: Q^{mu_gamma} of any prefix by the native DP over (automaton state,
// position), its Best-of-K transform, and per-step advantages. These are the 'oracle' verifier's
// scores and the labels a learned verifier is trained against.
import { requireFinite, requireInteger } from '../ops/common.ts';
import { PavRangeError } from '../errors.ts';
import { nativeBatch, toyAddon, type PrefixInput, type ProblemsInput } from './native.ts';
import type { ProblemTable } from './task.ts';

export interface OracleOptions {
  /** mu_gamma (default 5, the paper's base policy). */
  gamma?: number;
  /** Best-of-K prover: 1 - (1 - Q)^K (default 1: the policy itself). */
  K?: number;
  /** Worker threads for large batches (default 1); results do not depend on it. */
  threads?: number;
}

function nativeOptions(o: OracleOptions): { gamma: number; K: number; threads: number } {
  const gamma = requireFinite('gamma', o.gamma ?? 5);
  if (!(gamma > 0)) throw new PavRangeError(`gamma must be > 0, got ${gamma}`);
  return {
    gamma,
    K: requireInteger('K', o.K ?? 1, 1),
    threads: requireInteger('threads', o.threads ?? 1, 1, 256),
  };
}

/**
 * Q^{mu_gamma} (Best-of-K transformed) of each prefix: the probability that continuing prefix i of
 * problem problems[i] under mu_gamma ends correct. A prefix in which the target already occurred
 * scores 1; a finished prefix without it (end token, or maxLen tokens) scores 0; the empty prefix
 * scores the bare problem.
 */
export function valuePrefixes(
  table: ProblemTable,
  problems: ProblemsInput,
  prefixes: PrefixInput,
  options: OracleOptions = {},
): Float64Array {
  return toyAddon().toyValuePrefixes({ ...nativeBatch(table, problems, prefixes), ...nativeOptions(options) });
}

/** valuePrefixes on the libuv pool. */
export function valuePrefixesAsync(
  table: ProblemTable,
  problems: ProblemsInput,
  prefixes: PrefixInput,
  options: OracleOptions = {},
): Promise<Float64Array> {
  return toyAddon().toyValuePrefixes({ ...nativeBatch(table, problems, prefixes), ...nativeOptions(options), async: true });
}

/** The value of the bare problem (empty prefix) for every problem of the table: V^mu(start). */
export function startValues(table: ProblemTable, options: OracleOptions = {}): Float64Array {
  const n = table.size;
  return valuePrefixes(table, Uint32Array.from({ length: n }, (_, i) => i), { tokens: new Uint8Array(0), offsets: new Uint32Array(n + 1) }, options);
}

export interface PrefixStates {
  /** KMP automaton state: the longest suffix that is a prefix of the target (its length once it occurred). */
  state: Uint32Array;
  /** 1 where the target occurred (value 1 whatever follows). */
  solved: Uint8Array;
  /** 1 where the prefix ended (end token, or maxLen tokens). */
  finished: Uint8Array;
}

export function prefixStates(table: ProblemTable, problems: ProblemsInput, prefixes: PrefixInput): PrefixStates {
  return toyAddon().toyPrefixStates(nativeBatch(table, problems, prefixes));
}

export interface StepAdvantages {
  /** Q(s_h, a_h): the value after each prefix's last step. */
  values: Float64Array;
  /** Q(s_{h-1}, a_{h-1}): the value of the prefix without its last step (the bare problem for h = 1). */
  parents: Float64Array;
  /** values - parents (0 for an empty prefix). */
  advantages: Float64Array;
}

/**
 * Advantage of each prefix's last step under the prover: A^mu(s_h, a_h) = Q^mu(prefix) - Q^mu(prefix
 * minus its last token), with the Best-of-K transform applied to both (paper App. D). One native call
 * scores prefixes and parents together.
 */
export function stepAdvantages(
  table: ProblemTable,
  problems: ProblemsInput,
  prefixes: readonly (readonly number[])[],
  options: OracleOptions = {},
): StepAdvantages {
  const n = prefixes.length;
  const both: (readonly number[])[] = new Array(2 * n);
  for (let i = 0; i < n; i++) {
    both[i] = prefixes[i];
    both[n + i] = prefixes[i].length > 0 ? prefixes[i].slice(0, -1) : prefixes[i];
  }
  const probs = typeof problems === 'number' ? problems : [...problems, ...problems];
  const v = valuePrefixes(table, probs, both, options);
  const values = v.slice(0, n);
  const parents = v.slice(n);
  const advantages = new Float64Array(n);
  for (let i = 0; i < n; i++) advantages[i] = values[i] - parents[i];
  return { values, parents, advantages };
}

/** Best-of-K transform of a success probability (paper App. D). */
export function bestOfK(q: number, K: number): number {
  return K === 1 ? q : 1 - Math.pow(1 - q, K);
}
