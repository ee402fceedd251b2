// Seeded sampling from mu_gamma over many problems at once: next steps and complete rollouts from
// arbitrary prefixes. Randomness is counter-based in (seed, stream, sample index, position), so a
// request's samples depend only on its stream id (default: its index in the batch), its prefix and
// the sample index: never on threads, batch composition or n.
import { requireFinite, requireInteger, requireUint32Array } from '../ops/common.ts';
import { PavRangeError } from '../errors.ts';
import {
  nativeBatch,
  toyAddon,
  type NativeRollouts,
  type NativeSampleArgs,
  type PrefixInput,
  type ProblemsInput,
  type TokenArray,
} from './native.ts';
import type { ProblemTable } from './task.ts';

export interface SampleOptions {
  /** mu_gamma (default 5, the paper's base policy). */
  gamma?: number;
  /** Samples per prefix (default 1). */
  n?: number;
  /** Seed of the call (default 0), a non-negative safe integer. */
  seed?: number;
  /** Stream id per prefix (default: its index). Pass one per request to make batches splittable. */
  streams?: Uint32Array | readonly number[];
  /** std::threads for the call (default 1); results are identical for any value. */
  threads?: number;
}

export interface StepSamples {
  /** Sample j of prefix i at i*n + j. */
  tokens: TokenArray;
  /** 1 where the token ends the response (the end token, or the maxLen-th token). */
  finished: Uint8Array;
  n: number;
}

export interface Rollouts {
  /** Rollout r = i*n + j continues prefix i with tokens[offsets[r] .. offsets[r+1]). */
  tokens: TokenArray;
  offsets: Uint32Array;
  /** 1 where prefix + continuation is correct. */
  success: Uint8Array;
  n: number;
}

function sampleArgs(table: ProblemTable, problems: ProblemsInput, prefixes: PrefixInput, o: SampleOptions): NativeSampleArgs {
  const batch = nativeBatch(table, problems, prefixes);
  const gamma = requireFinite('gamma', o.gamma ?? 5);
  if (!(gamma > 0)) throw new PavRangeError(`gamma must be > 0, got ${gamma}`);
  const args: NativeSampleArgs = {
    ...batch,
    gamma,
    n: requireInteger('n', o.n ?? 1, 1),
    seed: requireInteger('seed', o.seed ?? 0, 0),
    threads: requireInteger('threads', o.threads ?? 1, 1, 256),
  };
  if (o.streams !== undefined)
    args.streams = Array.isArray(o.streams)
      ? Uint32Array.from(o.streams as number[], (s, i) => requireInteger(`streams[${i}]`, s, 0, 2 ** 32 - 1))
      : requireUint32Array('streams', o.streams);
  return args;
}

/** One next token per sample from each prefix (prefixes must not be finished). */
export function sampleSteps(table: ProblemTable, problems: ProblemsInput, prefixes: PrefixInput, options: SampleOptions = {}): StepSamples {
  const args = sampleArgs(table, problems, prefixes, options);
  return { ...toyAddon().toySampleSteps(args), n: args.n! };
}

export async function sampleStepsAsync(
  table: ProblemTable,
  problems: ProblemsInput,
  prefixes: PrefixInput,
  options: SampleOptions = {},
): Promise<StepSamples> {
  const args = sampleArgs(table, problems, prefixes, options);
  return { ...(await toyAddon().toySampleSteps({ ...args, async: true })), n: args.n! };
}

function trimRollouts(r: NativeRollouts, n: number): Rollouts {
  return { tokens: r.tokens.subarray(0, r.offsets[r.offsets.length - 1]), offsets: r.offsets, success: r.success, n };
}

/**
 * Complete continuations of each prefix to the end of the response, n per prefix, with success flags.
 * A finished prefix gets empty continuations flagged by the checker.
 */
export function sampleRollouts(table: ProblemTable, problems: ProblemsInput, prefixes: PrefixInput, options: SampleOptions = {}): Rollouts {
  const args = sampleArgs(table, problems, prefixes, options);
  return trimRollouts(toyAddon().toySampleRollouts(args), args.n!);
}

export async function sampleRolloutsAsync(
  table: ProblemTable,
  problems: ProblemsInput,
  prefixes: PrefixInput,
  options: SampleOptions = {},
): Promise<Rollouts> {
  const args = sampleArgs(table, problems, prefixes, options);
  return trimRollouts(await toyAddon().toySampleRollouts({ ...args, async: true }), args.n!);
}

/** Rollout r as a plain array. */
export function rolloutAt(r: Rollouts, index: number): number[] {
  return Array.from(r.tokens.subarray(r.offsets[index], r.offsets[index + 1]));
}

/** Every rollout as a plain array, in order (r = i*n + j). */
export function rolloutArrays(r: Rollouts): number[][] {
  const out: number[][] = new Array(r.offsets.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = rolloutAt(r, i);
  return out;
}

/** Fraction of successful rollouts per prefix (a Monte-Carlo estimate of Q^mu, e.g. training labels). */
export function successRates(r: Rollouts): Float64Array {
  const prefixes = r.success.length / r.n;
  const out = new Float64Array(prefixes);
  for (let i = 0; i < prefixes; i++) {
    let s = 0;
    for (let j = 0; j < r.n; j++) s += r.success[i * r.n + j];
    out[i] = s / r.n;
  }
  return out;
}
