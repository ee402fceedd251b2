// Tokenizer workers for the ONNX PRM: a batch of prefixes is split into chunks encoded in parallel,
// so neither the policy's requests nor the verifier pool's batching wait behind the tokenizer.
import { Piscina } from 'piscina';
import { ConfigError, PavRangeError } from '../errors.ts';
import { workerEntry } from '../verifier/worker_entry.ts';
import type { EncodedPrefix, EncodeFailure } from './prm_encoding.ts';
import type { TokenizeItem, TokenizeTask, TokenizeWorkerConfig } from './tokenize_worker.ts';

export class PrmTokenizerPool {
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
    if (items.length === 0) return [];
    const size = Math.max(8, Math.ceil(items.length / (2 * this.workers)));
    const chunks: Promise<(EncodedPrefix | EncodeFailure)[]>[] = [];
    for (let k = 0; k < items.length; k += size)
      chunks.push(this.piscina.run({ kind: 'encode', items: items.slice(k, k + size) } satisfies TokenizeTask, signal ? { signal } : {}));
    return (await Promise.all(chunks)).flat();
  }

  close(): Promise<void> {
    return this.piscina.destroy();
  }
}
