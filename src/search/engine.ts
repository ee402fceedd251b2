// Runs searches over many problems: a bounded window of problems in flight, split into lanes that
// run concurrently so one lane's verifier work overlaps another lane's generation; a cohort whose
// shared call fails is retried problem by problem so one bad problem cannot sink the others.
import { ErrorCodes, isCodedError, PavRangeError, PavTypeError } from '../errors.ts';
import { requireInteger, requireTimerMs } from '../ops/common.ts';
import { checkBackends } from './backend_checks.ts';
import { runBestOfN } from './best_of_n.ts';
import { runStepSearch } from './beam.ts';
import { PhaseClock } from './compute.ts';
import { parseSearchConfig, type SearchConfig, type SearchConfigInput } from './config.ts';
import { initKeys } from './keys.ts';
import { abortError, CallbackError, DeadlineReached, emptyResult, guardedProgress, type Backends, type DriverContext, type ProblemResult, type ProgressEvent } from './result.ts';

export interface BatchOptions {
  /** Problems in flight at once (bounds memory); split over `lanes`. */
  window?: number;
  /** Cohorts run concurrently; 2 lets generation of one overlap scoring of the other. */
  lanes?: number;
  signal?: AbortSignal;
  /** Called once per problem as soon as its result is final (in completion order). */
  onResult?: (r: ProblemResult<unknown>) => void | Promise<void>;
  onProgress?: (e: ProgressEvent) => void;
  /** Shared clock (phase totals and trace spans) when the caller wants them. */
  clock?: PhaseClock;
}

function driverFor(config: SearchConfig) {
  return config.algorithm === 'beam' || config.algorithm === 'dvts' ? runStepSearch : runBestOfN;
}

/** Run one configuration over `problems`; returns results in the order of `problems`. */
export async function runSearchBatch<S>(
  backends: Backends<S>,
  configInput: SearchConfigInput | SearchConfig,
  problems: readonly number[],
  opts: BatchOptions = {},
): Promise<ProblemResult<S>[]> {
  const config = parseSearchConfig(configInput);
  checkBackends(backends, config.algorithm);
  checkProblems(problems, backends.task.problemCount);
  // A window past the problem count is the problem count: 10 problems with a window of 64 and
  // 3 lanes would otherwise all go to one lane (cohorts of 22), losing the overlap.
  const window = Math.min(requireInteger('window', opts.window ?? 64, 1), Math.max(1, problems.length));
  // More lanes than problems in flight would leave lanes with nothing to run.
  const lanes = Math.min(requireInteger('lanes', opts.lanes ?? 2, 1), window);
  await initKeys();
  const cohortSize = Math.max(1, Math.ceil(window / lanes));
  const clock = opts.clock ?? new PhaseClock(false);
  const drive = driverFor(config);
  const out = new Map<number, ProblemResult<S>>();
  let next = 0;

  // The caller's signal, or a lane's failure: either stops every lane (and their backend calls).
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const onProgress = guardedProgress(opts.onProgress);

  // A result is emitted outside the driver's try: an onResult error is the caller's, never a reason
  // to rerun finished problems or to mark them failed.
  const emit = async (r: ProblemResult<S>) => {
    out.set(r.problem, r);
    await opts.onResult?.(r as ProblemResult<unknown>);
  };

  const runCohort = async (lane: number, cohort: number[]): Promise<void> => {
    const ctx: DriverContext<S> = { ...backends, config, clock, lane, signal: stop.signal, onProgress };
    let results: ProblemResult<S>[];
    try {
      results = await drive(ctx, cohort);
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (err instanceof CallbackError) throw err.error;
      if (stop.signal.aborted || (isCodedError(err) && err.code === ErrorCodes.ABORTED)) throw err;
      if (cohort.length > 1) {
        // Isolate the failure: requests are seeded per problem, so rerunning alone gives the same results.
        for (const p of cohort) await runCohort(lane, [p]);
        return;
      }
      results = [failedResult(backends, config, cohort[0], err)];
    }
    for (const r of results) await emit(r);
  };

  const lane = async (id: number) => {
    while (next < problems.length) {
      if (stop.signal.aborted) throw opts.signal?.aborted ? abortError(opts.signal) : stop.signal.reason;
      const cohort = problems.slice(next, next + cohortSize);
      next += cohort.length;
      await runCohort(id, [...cohort]);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: lanes }, (_, i) =>
        lane(i).catch((err: unknown) => {
          stop.abort(err);
          throw err;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // A backend that ignored the signal may have let the batch finish after all: it was still aborted.
  if (opts.signal?.aborted) throw abortError(opts.signal);
  return problems.map((p) => out.get(p)!);
}

/**
 * Problem indices into the task: integers in [0, count). `name` is the argument's name in errors
 * (problems[i] for a batch, problem for solve).
 */
function checkProblems(problems: unknown, count: number, name?: string): asserts problems is readonly number[] {
  if (!Array.isArray(problems)) throw new PavTypeError(`problems must be an array of problem indices`);
  for (let i = 0; i < problems.length; i++) {
    const p: unknown = problems[i];
    const what = name ?? `problems[${i}]`;
    if (typeof p !== 'number') throw new PavTypeError(`${what} must be a number, got ${typeof p}`);
    if (!Number.isInteger(p) || p < 0 || p >= count)
      throw new PavRangeError(`${what} is ${p}, expected an integer in [0, ${count - 1}] (the task has ${count} problems)`, ErrorCodes.OUT_OF_RANGE);
  }
}

function failedResult<S>(backends: Backends<S>, config: SearchConfig, problem: number, err: unknown): ProblemResult<S> {
  const reason = err instanceof Error ? `${isCodedError(err) ? err.code + ': ' : ''}${err.message}` : String(err);
  return { ...emptyResult(backends.task, config, problem), status: 'failed', error: reason };
}

export interface SolveOptions {
  /** Milliseconds from the call; on expiry the best answer so far is returned with status 'deadline'. */
  deadlineMs?: number;
  /** Aborting rejects with ERR_PAV_ABORTED and cancels backend calls that honour signals. */
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

/**
 * Solve one problem (services with a latency budget). Concurrent calls share the backends, so an
 * ONNX verifier pool coalesces their scoring requests.
 */
export async function solve<S>(
  backends: Backends<S>,
  configInput: SearchConfigInput | SearchConfig,
  problem: number,
  opts: SolveOptions = {},
): Promise<ProblemResult<S>> {
  const config = parseSearchConfig(configInput);
  checkBackends(backends, config.algorithm);
  checkProblems([problem], backends.task.problemCount, 'problem');
  // Node fires a longer timer after 1 ms: a deadline past its range would cut every search at once.
  if (opts.deadlineMs !== undefined) requireTimerMs('deadlineMs', opts.deadlineMs);
  await initKeys();
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const deadline = opts.deadlineMs === undefined ? undefined : performance.now() + opts.deadlineMs;
  // Abort in-flight backend calls at the deadline too; the driver then returns what it has.
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = opts.deadlineMs === undefined ? undefined : setTimeout(() => controller.abort(new DeadlineReached()), opts.deadlineMs);
  const ctx: DriverContext<S> = {
    ...backends,
    config,
    clock: new PhaseClock(false),
    lane: 0,
    signal: controller.signal,
    deadline,
    onProgress: guardedProgress(opts.onProgress),
  };
  try {
    const [r] = await driverFor(config)(ctx, [problem]);
    // A backend that ignored the signal let the search finish after the caller aborted: still aborted.
    if (opts.signal?.aborted) throw abortError(opts.signal);
    return r;
  } catch (err) {
    if (err instanceof CallbackError) throw err.error;
    if (controller.signal.reason instanceof DeadlineReached && !opts.signal?.aborted) {
      // The deadline hit inside a backend call: nothing of this round is usable; report it.
      const r = failedResult(backends, config, problem, err);
      r.status = 'deadline';
      r.error = `deadline of ${opts.deadlineMs} ms reached before any trace was complete`;
      return r;
    }
    if (opts.signal?.aborted) throw abortError(opts.signal);
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
