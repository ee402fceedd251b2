// A pool of onnxruntime worker threads (piscina) behind a dynamic batcher: concurrent scoring calls from
// many searches are coalesced into large batches, run one session per worker, and split back.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { BackendError, ConfigError, PavRangeError } from '../errors.ts';
import { requireInteger } from '../ops/common.ts';
import { workerEntry } from './worker_entry.ts';
import { DynamicBatcher, batcherOptions, type BatcherStats, type RunOptions } from './batcher.ts';
import type { InitResult, WorkerConfig, WorkerTask } from './onnx_worker.ts';

export interface VerifierPoolOptions {
  /** Path of the .onnx model (or its bytes). */
  modelPath: string | Uint8Array;
  /** Worker threads, one InferenceSession each. Default: the number of cores. */
  workers?: number;
  /** onnxruntime intra-op threads per session. Default: floor(cores / workers), at least 1. */
  intraOpThreads?: number;
  /** e.g. ['cuda', 'cpu']; an unavailable accelerator falls back to CPU with one warning. Default ['cpu']. */
  executionProviders?: readonly string[];
  /** Largest batch handed to a worker. Piscina costs ~30-60 us a task: keep this in the thousands. */
  maxBatchRows?: number;
  /** Longest a request waits to be coalesced with others. */
  maxWaitMs?: number;
  /** Batches in flight at once; default 2 * workers (one running and one queued per worker). */
  maxInFlight?: number;
  maxQueuedRows?: number;
  onQueueFull?: 'wait' | 'reject';
  /** [ids input, mask input] of the model; default ['input_ids', 'attention_mask']. */
  inputNames?: readonly [string, string];
  /** Output returned by run(); default the model's first output. */
  outputName?: string;
  /**
   * Keep only these columns of the output's last axis, in this order (an LM-head PRM's label token
   * ids). The workers reduce the output before handing it back, so run() returns [rows, seq, k].
   */
  outputColumns?: readonly number[];
}

export interface PoolStats extends BatcherStats {
  workers: number;
  intraOpThreads: number;
  /** Worker thread ids that created a session at start-up. */
  threadIds: number[];
  /** Tasks piscina completed (batches plus the start-up tasks). */
  completedTasks: number;
}

export interface VerifierPool {
  readonly workers: number;
  readonly intraOpThreads: number;
  /** Execution providers the sessions use (after any fallback). */
  readonly providers: readonly string[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The columns the workers keep of the output's last axis (undefined: all of them). */
  readonly outputColumns?: readonly number[];
  /**
   * Raw model output for `batch` sequences of length `seqLen` (row-major int64 inputs). Takes ownership
   * of both arrays: when a request is dispatched alone its buffers are transferred to the worker
   * and detached here. The result may be a view into a larger batch's output.
   */
  run(inputIds: BigInt64Array, attentionMask: BigInt64Array, batch: number, seqLen: number, opts?: RunOptions): Promise<Float32Array>;
  stats(): PoolStats;
  /** Let queued work finish (drain, default) or reject it with BackendError, then stop every worker. */
  close(opts?: { drain?: boolean }): Promise<void>;
  /** Test hook: a task that throws inside a worker, routed like a batch. */
  failTask(message: string): Promise<never>;
}

const warned = new Set<string>();

export async function createVerifierPool(options: VerifierPoolOptions): Promise<VerifierPool> {
  const cores = availableParallelism();
  const workers = requireInteger('workers', options.workers ?? cores, 1);
  const intraOpThreads = requireInteger('intraOpThreads', options.intraOpThreads ?? Math.max(1, Math.floor(cores / workers)), 1);
  if (workers * intraOpThreads > cores) {
    const msg = `verifier pool: ${workers} workers x ${intraOpThreads} threads oversubscribes ${cores} cores`;
    if (!warned.has(msg)) { warned.add(msg); process.emitWarning(msg, { code: 'PAVSEARCH_POOL_OVERSUBSCRIBED' }); }
  }
  if (typeof options.modelPath === 'string' && !existsSync(options.modelPath))
    throw new ConfigError(`verifier model not found: ${options.modelPath}`);
  const cols = options.outputColumns;
  if (cols !== undefined) {
    if (!Array.isArray(cols) || cols.length === 0) throw new PavRangeError('outputColumns must be a non-empty array of column indices');
    cols.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0) throw new PavRangeError(`outputColumns[${i}] must be an integer >= 0, got ${c}`);
    });
  }
  // Checked here, before any worker starts, so that a bad option leaves no threads behind.
  const batching = batcherOptions({
    maxBatchRows: options.maxBatchRows ?? 4096,
    maxWaitMs: options.maxWaitMs ?? 2,
    maxInFlight: options.maxInFlight ?? 2 * workers,
    maxQueuedRows: options.maxQueuedRows,
    onQueueFull: options.onQueueFull,
  });
  const config: WorkerConfig = {
    model: options.modelPath,
    intraOpThreads,
    executionProviders: options.executionProviders ?? ['cpu'],
    inputNames: options.inputNames ?? ['input_ids', 'attention_mask'],
    outputName: options.outputName,
    outputColumns: cols ? [...cols] : undefined,
  };

  const { filename, execArgv } = workerEntry(import.meta.url, 'onnx_worker');
  const piscina = new Piscina({
    filename,
    execArgv,
    workerData: config,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.MAX_SAFE_INTEGER, // a worker holds a session; never let it idle out
  });

  // Options were checked above, so building the batcher cannot fail; it dispatches nothing until run().
  const batcher = new DynamicBatcher({
    ...batching,
    dispatch: (ids, mask, batch, seqLen) =>
      piscina.run({ kind: 'run', ids, mask, batch, seqLen } satisfies WorkerTask, {
        transferList: (ids.buffer === mask.buffer ? [ids.buffer] : [ids.buffer, mask.buffer]) as ArrayBuffer[],
      }) as Promise<Float32Array>,
  });

  // One start-up task per worker (each worker is busy with one, so all get one): sessions are built and
  // checked before the first request, and a broken model fails here with a typed error (and stops the
  // workers: idleTimeout would otherwise keep them forever).
  let infos: InitResult[];
  try {
    infos = (await Promise.all(Array.from({ length: workers }, () => piscina.run({ kind: 'init' } satisfies WorkerTask)))) as InitResult[];
  } catch (e) {
    await piscina.destroy();
    throw new ConfigError(`verifier pool could not start a session for ${typeof options.modelPath === 'string' ? options.modelPath : 'the model bytes'}: ${(e as Error).message}`, { cause: e });
  }
  const fallback = infos.find((i) => i.fallback)?.fallback;
  if (fallback && !warned.has(fallback)) {
    warned.add(fallback);
    process.emitWarning(fallback, { code: 'PAVSEARCH_ORT_FALLBACK' });
  }

  let closing: Promise<void> | undefined;
  const threadIds = infos.map((i) => i.threadId);
  return {
    workers,
    intraOpThreads,
    providers: infos[0].providers,
    inputNames: infos[0].inputNames,
    outputNames: infos[0].outputNames,
    outputColumns: config.outputColumns,
    run: (ids, mask, batch, seqLen, opts) => batcher.run(ids, mask, batch, seqLen, opts),
    stats: () => ({ ...batcher.stats(), workers, intraOpThreads, threadIds, completedTasks: piscina.completed }),
    close: (opts) =>
      (closing ??= (async () => {
        await batcher.close(opts);
        await piscina.destroy();
      })()),
    failTask: async (message) => {
      if (batcher.isClosed) throw new BackendError('the verifier pool is closed', false);
      try {
        await piscina.run({ kind: 'fail', message } satisfies WorkerTask);
      } catch (e) {
        throw new BackendError(`verifier worker task failed: ${(e as Error).message}`, false, { cause: e });
      }
      throw new BackendError('fail task did not fail', false);
    },
  };
}
