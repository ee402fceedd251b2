// What one search of one problem produced, and the context a driver runs in.
import type { PolicyBackend, TaskAdapter, VerifierBackend } from './backends.ts';
import { ErrorCodes, PavError } from '../errors.ts';
import { zeroCounters, zeroPhases, type ComputeCounters, type Phase, type PhaseClock, type PhaseTimes } from './compute.ts';
import type { Algorithm, SearchConfig } from './config.ts';

export type ResultStatus = 'ok' | 'deadline' | 'failed';

export interface ProblemResult<S> {
  problem: number;
  id: string;
  algorithm: Algorithm;
  /** Which step score drove beam/dvts ('prm' or 'pav'); best-of-n uses the ORM, pav-rerank the PAV. */
  score: 'orm' | 'prm' | 'pav';
  budget: number;
  /** The chosen trace (null when the search failed). */
  trace: S[] | null;
  /** Canonical answer of the chosen trace. */
  answer: string | null;
  /** Verifier value of the chosen trace (Q^pi of its last prefix, or the rerank score). */
  value: number | null;
  /** Per-step Q^pi of the chosen trace where the search computed them. */
  stepValues?: number[];
  correct: boolean;
  /** Best-of-N family: whether any of the N samples was correct (the true-checker ceiling). */
  passAtN?: boolean;
  /** The chosen trace ended by itself (not cut by the step cap or a deadline). */
  finished: boolean;
  status: ResultStatus;
  error?: string;
  compute: ComputeCounters;
  /** Seconds of each phase attributed to this problem (a shared batch's time split evenly). */
  phases: PhaseTimes;
}

export interface Backends<S> {
  policy: PolicyBackend<S>;
  verifier: VerifierBackend<S>;
  /** A separate prover verifier for PAV scores; without it the prover is Best-of-K of `verifier`. */
  prover?: VerifierBackend<S>;
  task: TaskAdapter<S>;
}

export interface ProgressEvent {
  lane: number;
  depth: number;
  liveBeams: number;
  activeProblems: number;
  /** Best value among finished traces so far (single-problem solves). */
  bestValue?: number;
}

export interface DriverContext<S> extends Backends<S> {
  config: SearchConfig;
  clock: PhaseClock;
  lane: number;
  signal?: AbortSignal;
  /** performance.now() time after which the driver stops and returns the best so far. */
  deadline?: number;
  onProgress?: (e: ProgressEvent) => void;
}

/** Which score chose the answer: best-of-N uses the ORM, PAV rerank the PAV, beam and DVTS their setting. */
export function scoreKindOf(config: SearchConfig): ProblemResult<unknown>['score'] {
  if (config.algorithm === 'best-of-n') return 'orm';
  if (config.algorithm === 'pav-rerank') return 'pav';
  return config.score;
}

/** A result with nothing found yet; drivers fill it in. */
export function emptyResult<S>(task: TaskAdapter<S>, config: SearchConfig, problem: number): ProblemResult<S> {
  return {
    problem,
    id: task.problemId(problem),
    algorithm: config.algorithm,
    score: scoreKindOf(config),
    budget: config.budget,
    trace: null,
    answer: null,
    value: null,
    correct: false,
    finished: false,
    status: 'ok',
    compute: zeroCounters(),
    phases: zeroPhases(),
  };
}

/** Time a call shared by several problems, splitting its duration evenly over their results. */
export async function timeShared<S, T>(
  ctx: DriverContext<S>,
  phase: Phase,
  name: string,
  served: readonly ProblemResult<S>[],
  fn: () => Promise<T> | T,
): Promise<T> {
  const t0 = performance.now();
  const out = await ctx.clock.time(phase, name, ctx.lane, fn, { problems: served.length });
  const share = (performance.now() - t0) / 1000 / Math.max(1, served.length);
  for (const r of served) r.phases[phase] += share;
  return out;
}

/**
 * The reason solve() aborts its backend calls with when the deadline passes. Drivers recognise the
 * deadline by this reason as well as by the clock: a Node timer may fire a little before
 * performance.now() reaches the deadline (it counts from the event loop's cached time), and the
 * call it cuts short must still count as cut by the deadline, not as a failure.
 */
export class DeadlineReached extends Error {
  constructor() {
    super('deadline reached');
  }
}

/**
 * An exception from a caller's callback (onProgress, onResult): the caller's own error, passed on
 * as it is. Never a backend failure: it must not mark problems failed or rerun finished work.
 */
export class CallbackError extends Error {
  constructor(
    readonly callback: string,
    readonly error: unknown,
  ) {
    super(`${callback} threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** A progress callback whose exceptions arrive as CallbackErrors (undefined stays undefined). */
export function guardedProgress(onProgress: ((e: ProgressEvent) => void) | undefined): ((e: ProgressEvent) => void) | undefined {
  if (!onProgress) return undefined;
  return (e) => {
    try {
      onProgress(e);
    } catch (err) {
      throw new CallbackError('onProgress', err);
    }
  };
}

/** Whether `ctx`'s deadline has passed: by the clock, or because its signal fired for the deadline. */
export function pastDeadline(ctx: Pick<DriverContext<unknown>, 'deadline' | 'signal'>): boolean {
  if (ctx.deadline === undefined) return false;
  return performance.now() >= ctx.deadline || (ctx.signal?.aborted === true && ctx.signal.reason instanceof DeadlineReached);
}

/** The error every search throws when its AbortSignal fires (code ERR_PAV_ABORTED). */
export function abortError(signal: AbortSignal): PavError {
  return new PavError(`search aborted: ${String(signal.reason ?? 'aborted')}`, ErrorCodes.ABORTED, { cause: signal.reason });
}
