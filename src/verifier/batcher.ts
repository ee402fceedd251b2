// Dynamic batching: coalesces concurrent scoring requests (from many searches) that share a sequence
// length into batches of up to maxBatchRows rows, waiting at most maxWaitMs for company, keeps at most
// maxInFlight batches dispatched, bounds the rows waiting, and splits each batch's output back.
import { BackendError, ErrorCodes, PavError, PavRangeError, PavTypeError, isCodedError } from '../errors.ts';
import { requireInteger, requireTimerMs } from '../ops/common.ts';

/** Runs one batch: ids/mask [rows, seqLen] row-major; returns the model output for those rows (row-major). */
export type BatchDispatch = (ids: BigInt64Array, mask: BigInt64Array, rows: number, seqLen: number) => Promise<Float32Array>;

export interface BatcherOptions {
  dispatch: BatchDispatch;
  /** Largest batch sent at once; larger requests are split into chunks of this size. */
  maxBatchRows: number;
  /** Longest a request waits for others to join its batch (0: only requests of the same tick). */
  maxWaitMs: number;
  /** Batches dispatched and not yet finished; while at the limit, waiting requests keep coalescing. */
  maxInFlight: number;
  /** Bound on rows waiting (not yet dispatched); default 64 * maxBatchRows. */
  maxQueuedRows?: number;
  /** At the bound: 'wait' (default) holds the caller until rows drain; 'reject' fails fast (retryable). */
  onQueueFull?: 'wait' | 'reject';
}

export interface RunOptions {
  signal?: AbortSignal;
}

export interface BatcherStats {
  requests: number;
  rows: number;
  batches: number;
  /** Batches that carried more than one request. */
  coalescedBatches: number;
  maxRequestsPerBatch: number;
  maxRowsPerBatch: number;
  failedBatches: number;
  aborted: number;
  inFlight: number;
  queuedRows: number;
}

interface Pending {
  ids: BigInt64Array;
  mask: BigInt64Array;
  rows: number;
  seqLen: number;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Group {
  reqs: Pending[];
  rows: number;
  /** When its oldest request arrived (performance.now()). */
  since: number;
}

export function closedError(): BackendError {
  return new BackendError('the verifier pool is closed', false);
}

function abortedError(signal: AbortSignal): PavError {
  return new PavError('scoring request aborted', ErrorCodes.ABORTED, { cause: signal.reason });
}

/** True when the array owns its whole (non-shared) buffer, so it can be transferred as is. */
export function ownsBuffer(a: BigInt64Array | Float32Array): boolean {
  return !(a.buffer instanceof SharedArrayBuffer) && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

/**
 * Checked batching options with defaults filled in. Exported so that the pool can refuse bad options
 * before it starts any worker.
 */
export function batcherOptions(o: Omit<BatcherOptions, 'dispatch'>): Required<Omit<BatcherOptions, 'dispatch'>> {
  const maxBatchRows = requireInteger('maxBatchRows', o.maxBatchRows, 1);
  const maxWaitMs = requireTimerMs('maxWaitMs', o.maxWaitMs);
  const onQueueFull = o.onQueueFull ?? 'wait';
  if (onQueueFull !== 'wait' && onQueueFull !== 'reject')
    throw new PavTypeError(`onQueueFull must be 'wait' or 'reject', got ${JSON.stringify(o.onQueueFull)}`);
  return {
    maxBatchRows,
    maxWaitMs,
    maxInFlight: requireInteger('maxInFlight', o.maxInFlight, 1),
    maxQueuedRows: o.maxQueuedRows === undefined ? Math.min(64 * maxBatchRows, Number.MAX_SAFE_INTEGER) : requireInteger('maxQueuedRows', o.maxQueuedRows, 1),
    onQueueFull,
  };
}

export class DynamicBatcher {
  private readonly opts: Required<BatcherOptions>;
  private readonly groups = new Map<number, Group>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly admission: { rows: number; go: () => void; fail: (e: unknown) => void }[] = [];
  private timer: (() => void) | undefined; // cancels the armed timer
  private timerAt = Infinity;
  private closed = false;
  private draining = false;
  private s: BatcherStats = {
    requests: 0, rows: 0, batches: 0, coalescedBatches: 0, maxRequestsPerBatch: 0, maxRowsPerBatch: 0,
    failedBatches: 0, aborted: 0, inFlight: 0, queuedRows: 0,
  };

  constructor(options: BatcherOptions) {
    this.opts = { ...batcherOptions(options), dispatch: options.dispatch };
  }

  stats(): BatcherStats {
    return { ...this.s, inFlight: this.inflight.size };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Score `rows` sequences of length `seqLen`. Takes ownership of ids and mask (their buffers may be
   * transferred to a worker and detached here). Resolves with this request's rows of the output.
   */
  run(ids: BigInt64Array, mask: BigInt64Array, rows: number, seqLen: number, opts: RunOptions = {}): Promise<Float32Array> {
    try {
      if (!(ids instanceof BigInt64Array)) throw new PavTypeError('inputIds must be a BigInt64Array');
      if (!(mask instanceof BigInt64Array)) throw new PavTypeError('attentionMask must be a BigInt64Array');
      if (!Number.isInteger(rows) || rows < 1) throw new PavRangeError(`batch must be a positive integer, got ${rows}`);
      if (!Number.isInteger(seqLen) || seqLen < 1) throw new PavRangeError(`seqLen must be a positive integer, got ${seqLen}`);
      if (ids.length !== rows * seqLen || mask.length !== rows * seqLen)
        throw new PavRangeError(`inputIds (${ids.length}) and attentionMask (${mask.length}) must hold batch*seqLen = ${rows * seqLen} values`, ErrorCodes.LENGTH_MISMATCH);
      if (this.closed) throw closedError();
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      if (rows > this.opts.maxBatchRows) return this.runChunked(ids, mask, rows, seqLen, opts);
      // Rows are reserved against the queue bound at admission, synchronously, so that a burst of calls
      // made in one tick sees its own earlier members.
      const admitted = this.admit(rows);
      if (admitted === true) return this.enqueue(ids, mask, rows, seqLen, opts.signal);
      return admitted.then(() => {
        if (opts.signal?.aborted) {
          this.s.queuedRows -= rows;
          this.releaseAdmission();
          throw abortedError(opts.signal);
        }
        return this.enqueue(ids, mask, rows, seqLen, opts.signal);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async runChunked(ids: BigInt64Array, mask: BigInt64Array, rows: number, seqLen: number, opts: RunOptions): Promise<Float32Array> {
    // Chunks are views here and are copied at dispatch; outputs are stitched back in order.
    const max = this.opts.maxBatchRows;
    const parts: Promise<Float32Array>[] = [];
    for (let r = 0; r < rows; r += max) {
      const n = Math.min(max, rows - r);
      parts.push(this.run(ids.subarray(r * seqLen, (r + n) * seqLen), mask.subarray(r * seqLen, (r + n) * seqLen), n, seqLen, opts));
    }
    const outs = await Promise.all(parts);
    const all = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
    let off = 0;
    for (const o of outs) {
      all.set(o, off);
      off += o.length;
    }
    return all;
  }

  private enqueue(ids: BigInt64Array, mask: BigInt64Array, rows: number, seqLen: number, signal?: AbortSignal): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      const p: Pending = { ids, mask, rows, seqLen, resolve, reject, settled: false, signal };
      let g = this.groups.get(seqLen);
      if (!g) this.groups.set(seqLen, (g = { reqs: [], rows: 0, since: performance.now() }));
      g.reqs.push(p);
      g.rows += rows;
      this.s.requests++;
      this.s.rows += rows;
      if (signal) {
        p.onAbort = () => this.abort(p);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pump();
    });
  }

  /** Reserve rows now (true), or wait for room (a promise resolved once they are reserved). */
  private admit(rows: number): true | Promise<void> {
    if (this.s.queuedRows + rows <= this.opts.maxQueuedRows || this.s.queuedRows === 0) {
      this.s.queuedRows += rows;
      return true;
    }
    if (this.opts.onQueueFull === 'reject')
      throw new BackendError(`verifier queue is full (${this.s.queuedRows} rows waiting, bound ${this.opts.maxQueuedRows})`, true);
    return new Promise<void>((go, fail) => this.admission.push({ rows, go, fail }));
  }

  private releaseAdmission(): void {
    while (this.admission.length) {
      const w = this.admission[0];
      if (this.s.queuedRows + w.rows > this.opts.maxQueuedRows && this.s.queuedRows > 0) break;
      this.admission.shift();
      this.s.queuedRows += w.rows;
      w.go();
    }
  }

  private settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    return true;
  }

  private abort(p: Pending): void {
    const g = this.groups.get(p.seqLen);
    const i = g ? g.reqs.indexOf(p) : -1;
    if (g && i >= 0) {
      g.reqs.splice(i, 1);
      g.rows -= p.rows;
      this.s.queuedRows -= p.rows;
      if (!g.reqs.length) this.groups.delete(p.seqLen);
      this.releaseAdmission();
    }
    // A dispatched request is rejected now; its rows are still computed and dropped.
    if (this.settle(p)) {
      this.s.aborted++;
      p.reject(abortedError(p.signal!));
    }
  }

  /** Dispatch ready groups while there is room; otherwise arm a timer for the next deadline. */
  private pump(): void {
    const now = performance.now();
    while (this.inflight.size < this.opts.maxInFlight) {
      let best: Group | undefined;
      let bestKey = 0;
      for (const [k, g] of this.groups) {
        const ready = this.draining || g.rows >= this.opts.maxBatchRows || now - g.since >= this.opts.maxWaitMs;
        if (ready && (!best || g.since < best.since)) { best = g; bestKey = k; }
      }
      if (!best) break;
      this.dispatchFrom(bestKey, best);
    }
    this.arm();
  }

  private arm(): void {
    let next = Infinity;
    if (this.inflight.size < this.opts.maxInFlight) for (const g of this.groups.values()) next = Math.min(next, g.since + this.opts.maxWaitMs);
    if (next === this.timerAt) return;
    this.timer?.();
    this.timer = undefined;
    this.timerAt = next;
    if (next === Infinity) return;
    const delay = Math.max(0, next - performance.now());
    // maxWaitMs 0 still lets requests made in the same tick share a batch.
    if (delay === 0) {
      const h = setImmediate(() => this.fire());
      this.timer = () => clearImmediate(h);
    } else {
      const h = setTimeout(() => this.fire(), delay);
      this.timer = () => clearTimeout(h);
    }
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.pump();
  }

  private dispatchFrom(key: number, g: Group): void {
    // Spread what is waiting over the free slots rather than handing one worker everything while the
    // others idle; under load slots are rarely free, and batches grow toward maxBatchRows.
    const free = Math.max(1, this.opts.maxInFlight - this.inflight.size);
    const target = Math.min(this.opts.maxBatchRows, Math.ceil(g.rows / free));
    const take: Pending[] = [];
    let rows = 0;
    while (g.reqs.length && (rows === 0 || rows + g.reqs[0].rows <= target)) {
      const p = g.reqs.shift()!;
      take.push(p);
      rows += p.rows;
    }
    g.rows -= rows;
    if (!g.reqs.length) this.groups.delete(key); // the rest keep their wait: they go as slots free
    this.s.queuedRows -= rows;
    this.releaseAdmission();

    const seqLen = key;
    let ids: BigInt64Array, mask: BigInt64Array;
    if (take.length === 1 && ownsBuffer(take[0].ids) && ownsBuffer(take[0].mask) && take[0].ids.buffer !== take[0].mask.buffer) {
      ids = take[0].ids;
      mask = take[0].mask;
    } else {
      ids = new BigInt64Array(rows * seqLen);
      mask = new BigInt64Array(rows * seqLen);
      let off = 0;
      for (const p of take) {
        ids.set(p.ids, off);
        mask.set(p.mask, off);
        off += p.rows * seqLen;
      }
    }
    this.s.batches++;
    if (take.length > 1) this.s.coalescedBatches++;
    this.s.maxRequestsPerBatch = Math.max(this.s.maxRequestsPerBatch, take.length);
    this.s.maxRowsPerBatch = Math.max(this.s.maxRowsPerBatch, rows);

    let run: Promise<Float32Array>;
    try {
      run = this.opts.dispatch(ids, mask, rows, seqLen);
    } catch (e) {
      run = Promise.reject(e);
    }
    const done = run.then(
      (out) => {
        if (out.length % rows !== 0) throw new BackendError(`model output of ${out.length} values does not split into ${rows} rows`, false);
        const per = out.length / rows;
        let off = 0;
        for (const p of take) {
          if (this.settle(p)) p.resolve(take.length === 1 ? out : out.subarray(off * per, (off + p.rows) * per));
          off += p.rows;
        }
      },
    ).catch((e) => {
      // A failed batch fails only its own requests.
      this.s.failedBatches++;
      const err = isCodedError(e) ? e : new BackendError(`verifier batch of ${rows} rows failed: ${(e as Error)?.message ?? e}`, false, { cause: e });
      for (const p of take) if (this.settle(p)) p.reject(err);
    }).finally(() => {
      this.inflight.delete(done);
      this.pump();
    });
    this.inflight.add(done);
  }

  /**
   * Stop taking requests. drain (default): waiting requests are still dispatched and finish;
   * otherwise they reject with the closed error. Resolves when nothing is in flight.
   */
  async close({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const w of this.admission.splice(0)) w.fail(closedError());
    if (drain) {
      this.draining = true;
      this.pump();
    } else {
      for (const g of this.groups.values()) for (const p of g.reqs) if (this.settle(p)) p.reject(closedError());
      this.groups.clear();
      this.s.queuedRows = 0;
    }
    while (this.inflight.size || (drain && this.groups.size)) {
      await Promise.race(this.inflight);
      this.pump();
    }
    this.timer?.();
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
