// Tokenizer workers for the ONNX PRM: a batch of prefixes is split into chunks encoded in parallel,
// so neither the policy's requests nor the verifier pool's batching wait behind the tokenizer.
import { Piscina } from 'piscina';
import { BackendError, ConfigError, ErrorCodes, isCodedError, PavError, PavRangeError } from '../errors.ts';
import { closedError } from '../verifier/batcher.ts';
import { workerEntry } from '../verifier/worker_entry.ts';
import type { EncodedPrefix, EncodeFailure } from './prm_encoding.ts';
import type { TokenizeItem, TokenizeTask, TokenizeWorkerConfig } from './tokenize_worker.ts';

export class PrmTokenizerPool {
  /** Encodes in flight: close() lets them finish, since destroying piscina under them crashes the process. */
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly piscina: Piscina,
    readonly workers: number,
  ) {}

  /** Start `workers` threads, each loading the tokenizer; a bad file fails here with a ConfigError. */
  static async create(workers: number, config: TokenizeWorkerConfig): Promise<PrmTokenizerPool> {
    if (!Number.isInteger(workers) || workers < 1) throw new PavRangeError(`tokenizerWorkers must be a positive integer, got ${workers}`);
    const { filename, execArgv } = workerEntry(import.meta.url, 'tokenize_worker');
    const piscina = new Piscina({ filename, execArgv, workerData: config, minThreads: workers, maxThreads: workers, idleTimeout: Number.MAX_SAFE_INTEGER });
    try {
      await Promise.all(Array.from({ length: workers }, () => piscina.run({ kind: 'init' } satisfies TokenizeTask)));
    } catch (e) {
      await piscina.destroy();
      throw new ConfigError(`tokenizer workers could not load ${config.tokenizerPath}: ${(e as Error).message}`, { cause: e });
    }
    return new PrmTokenizerPool(piscina, workers);
  }

  /** Encode the items in order; chunks of at least 8 go to the workers, about two per worker. */
  async encode(items: readonly TokenizeItem[], signal?: AbortSignal): Promise<(EncodedPrefix | EncodeFailure)[]> {
    if (this.closing) throw closedError();
    if (items.length === 0) return [];
    const size = Math.max(8, Math.ceil(items.length / (2 * this.workers)));
    const chunks: Promise<(EncodedPrefix | EncodeFailure)[]>[] = [];
    for (let k = 0; k < items.length; k += size)
      chunks.push(this.piscina.run({ kind: 'encode', items: items.slice(k, k + size) } satisfies TokenizeTask, signal ? { signal } : {}));
    // Tracked until every chunk settles: one failing chunk must not let close() destroy the others.
    const settled = Promise.allSettled(chunks);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    try {
      return (await Promise.all(chunks)).flat();
    } catch (e) {
      // Piscina's AbortError has no code: the engine recognises an abort by ERR_PAV_ABORTED only.
      if (signal?.aborted) throw new PavError('the request was aborted', ErrorCodes.ABORTED, { cause: signal.reason });
      if (isCodedError(e)) throw e;
      throw new BackendError(`tokenizer worker failed: ${(e as Error)?.message ?? String(e)}`, false, { cause: e });
    }
  }

  /** Let the encodes in flight finish, then stop the threads; later encodes get the closed BackendError. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await Promise.allSettled([...this.inflight]);
      await this.piscina.destroy();
    })());
  }
}
