// Several HTTP endpoints serving one model (data-parallel servers, several machines): least-loaded
// routing, a concurrency limit per endpoint, a per-attempt timeout, and retries with exponential
// backoff and full jitter on the errors that retrying can fix.
//
// Retries live here, not in the openai client (which the policy builds with maxRetries: 0): a retry
// may then go to another endpoint, and the attempt count and last status are known for the error.
//
// Circuit breaker. An endpoint that fails `failures` calls in a row (no answer: a dead server,
// timeouts; or 502/503/504) leaves the rotation for a cooldown; then it rejoins, and each further
// failure before a success takes it out again for twice as long. Without this a dead server kept
// its share of first attempts (its failures are fast, so it always had free slots), each costing a
// backoff. While every endpoint is out, calls go to them anyway, so errors still surface through
// the retry budget.
import { APIConnectionError, APIError } from 'openai';
import { BackendError, ConfigError, ErrorCodes, PavError } from '../errors.ts';
import { MAX_TIMER_MS } from '../ops/common.ts';

export interface EndpointConfig {
  /** Base URL, e.g. http://10.0.0.5:8000/v1 (OpenAI routes) or http://10.0.0.5:8000 (pooling). */
  baseURL: string;
  apiKey?: string;
  /** Requests in flight on this endpoint at most (default 32). */
  maxConcurrency?: number;
}

export interface RetryPolicy {
  /** Attempts per call, the first included (default 5). */
  maxAttempts: number;
  /** Backoff before retry k (1-based) is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(k-1))]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt timeout (default 120 s, at most 2^31-1 ms, Node's timer limit); a timed-out attempt is retried. */
  timeoutMs: number;
}

/**
 * A finite numeric option in [min, max] (max Infinity: no upper bound), a safe integer when
 * `integer` is set. Options are configuration, so a bad one is a ConfigError naming its key
 * (common.ts's checks throw argument errors instead).
 */
export function configNumber(key: string, v: unknown, min: number, max = Infinity, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v >= min && v <= max) || (integer && !Number.isSafeInteger(v))) {
    const kind = integer ? 'an integer' : 'a finite number';
    throw new ConfigError(`${key} must be ${kind} ${max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`}, got ${describeConfig(v)}`);
  }
  return v;
}

/** A configuration value for messages: strings quoted, so 5 and "5" read differently. */
export function describeConfig(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an Array';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

/**
 * The items of a server's reply placed by their `index`: each of 0..n-1 exactly once, or absent on
 * every item (then they are in order). Anything else would pair results with the wrong inputs, so it
 * is a retryable BackendError naming the item (`what` names the list: "choices", "result").
 */
export function orderByIndex<T extends object>(where: string, what: string, items: readonly unknown[], n: number): (T & { index: number })[] {
  const out: (T & { index: number })[] = new Array(n);
  const inOrder = items.every((c) => c !== null && typeof c === 'object' && (c as { index?: unknown }).index === undefined);
  items.forEach((c, k) => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new BackendError(`${where} returned ${what}[${k}] = ${describeConfig(c)}, not an object`, true);
    const index = inOrder ? k : (c as { index?: unknown }).index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n || out[index] !== undefined)
      throw new BackendError(`${where} returned ${what}[${k}] with index ${describeConfig(index)}: expected each of 0..${n - 1} once`, true);
    out[index] = { ...(c as T), index };
  });
  return out;
}

/**
 * A token count a server reported (usage.*_tokens), to be split over `parts` entries of a Uint32Array:
 * a negative, fractional or too large count would wrap or truncate into a plausible number there, so
 * the reply is rejected (retryable) rather than charged a made-up count. Absent counts are 0.
 */
export function reportedTokens(where: string, field: string, v: unknown, parts = 1): number {
  const total = v ?? 0;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || Math.ceil(total / Math.max(1, parts)) > 0xffffffff)
    throw new BackendError(`${where} reported ${field} ${describeConfig(v)}: expected an integer in [0, ${parts > 1 ? `${parts} x ` : ''}(2^32 - 1)]`, true);
  return total;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 8000, timeoutMs: 120_000 };

/** HTTP statuses worth retrying: timeouts, conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** An HTTP error response from a request this project makes with fetch (pooling verifier). */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'HttpStatusError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A call that failed for good: after its retries, or at once for an error retrying cannot fix. */
export class EndpointCallError extends BackendError {
  readonly endpoint: string;
  /** HTTP status of the last attempt, or undefined for a connection error or timeout. */
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(message: string, retryable: boolean, endpoint: string, status: number | undefined, attempts: number, cause: unknown) {
    super(message, retryable, { cause });
    this.name = 'EndpointCallError';
    this.endpoint = endpoint;
    this.status = status;
    this.attempts = attempts;
  }
}

interface Classified {
  retryable: boolean;
  status: number | undefined;
  /** Short reason for messages: "HTTP 503", "connection error", "timeout after 5000 ms". */
  reason: string;
  retryAfterMs?: number;
}

/** Sort an error into retryable or not; unknown errors (a reset socket surfaces as TypeError from fetch) retry. */
export function classifyError(err: unknown, timeoutMs: number): Classified {
  if (err instanceof APIError && err.status !== undefined) {
    return {
      retryable: isRetryableStatus(err.status),
      status: err.status,
      reason: `HTTP ${err.status}: ${firstLine(err.message)}`,
      retryAfterMs: retryAfter(err.headers),
    };
  }
  if (err instanceof HttpStatusError)
    return { retryable: isRetryableStatus(err.status), status: err.status, reason: `HTTP ${err.status}: ${firstLine(err.message)}`, retryAfterMs: err.retryAfterMs };
  if (err instanceof AttemptTimeout) return { retryable: true, status: undefined, reason: `timeout after ${timeoutMs} ms` };
  if (err instanceof APIConnectionError) {
    const timedOut = err.constructor.name === 'APIConnectionTimeoutError';
    return { retryable: true, status: undefined, reason: timedOut ? `timeout after ${timeoutMs} ms` : `connection error: ${firstLine(causeMessage(err))}` };
  }
  if (err instanceof BackendError) return { retryable: err.retryable, status: undefined, reason: err.message };
  return { retryable: true, status: undefined, reason: `connection error: ${firstLine(causeMessage(err))}` };
}

function causeMessage(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  for (let i = 0; i < 4 && e instanceof Error; i++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${e.message} (${code})` : e.message);
  }
  return parts.join(': ') || String(err);
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0];
  return line.length > 300 ? line.slice(0, 300) + '...' : line;
}

function retryAfter(headers: Headers | Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const v = headers instanceof Headers ? headers.get('retry-after') : headers['retry-after'];
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`attempt timed out after ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

export interface Endpoint {
  readonly config: Required<Pick<EndpointConfig, 'baseURL' | 'maxConcurrency'>> & EndpointConfig;
  inFlight: number;
  requests: number;
  failures: number;
  /** Failures that count against the endpoint (see the circuit breaker) since its last success. */
  failureRun: number;
  /** Time (the pool's clock) until which the circuit breaker keeps it out of the rotation (0: in it). */
  downUntil: number;
}

export interface EndpointStats {
  baseURL: string;
  inFlight: number;
  requests: number;
  failures: number;
  /** Out of the rotation (circuit breaker) at the time of the call. */
  down: boolean;
}

export interface CircuitPolicy {
  /** Failures in a row (no answer, or 502/503/504) that take an endpoint out of the rotation (default 3; 0 = never). */
  failures: number;
  /** First cooldown (default 1000 ms); it doubles with each further failure, up to maxCooldownMs. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export const DEFAULT_CIRCUIT: CircuitPolicy = { failures: 3, cooldownMs: 1000, maxCooldownMs: 30_000 };

export interface PoolOptions {
  retry?: Partial<RetryPolicy>;
  circuit?: Partial<CircuitPolicy>;
  /** Uniform [0, 1) source for the jitter (tests pass a seeded one). */
  random?: () => number;
  /** Milliseconds clock for the circuit breaker (default performance.now; tests pass their own). */
  now?: () => number;
  /** Called before each retry (logging). */
  onRetry?: (info: { what: string; endpoint: string; attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * The pool a backend runs on: the caller's own (shared by several backends), or a new one over the
 * given endpoints with these options. Options given with a pool are refused rather than ignored:
 * the pool carries its own, set where it was made.
 */
export function endpointPoolFrom(endpoints: EndpointPool | readonly (EndpointConfig | string)[], options: PoolOptions): EndpointPool {
  if (!(endpoints instanceof EndpointPool)) return new EndpointPool(endpoints, options);
  const given = (['retry', 'circuit', 'onRetry'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 0)
    throw new ConfigError(`${given.join(', ')} cannot be given with an EndpointPool, which has its own: set ${given.length > 1 ? 'them' : 'it'} where the pool is made`);
  return endpoints;
}

/**
 * Routes calls over endpoints. `run(what, fn)` waits for a free slot on the least-loaded endpoint
 * (in-flight / limit; ties go to the one used least), calls `fn(endpoint, signal)` with a signal
 * that fires at the attempt timeout or on the caller's abort, and retries retryable failures with
 * backoff, on another endpoint when there is one. Waiting for a slot is FIFO and does not count
 * against the attempt timeout.
 */
export class EndpointPool {
  readonly endpoints: readonly Endpoint[];
  readonly retry: RetryPolicy;
  readonly circuit: CircuitPolicy;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onRetry?: PoolOptions['onRetry'];
  private readonly waiters: (() => void)[] = [];

  constructor(endpoints: readonly (EndpointConfig | string)[], options: PoolOptions = {}) {
    if (!Array.isArray(endpoints) || endpoints.length === 0)
      throw new ConfigError(`endpoints must be a non-empty array of base URLs or { baseURL } objects, got ${describeConfig(endpoints)}`);
    this.endpoints = endpoints.map((e: unknown, i) => {
      if (typeof e !== 'string' && (e === null || typeof e !== 'object'))
        throw new ConfigError(`endpoints[${i}] must be a base URL or a { baseURL } object, got ${describeConfig(e)}`);
      const c = (typeof e === 'string' ? { baseURL: e } : e) as EndpointConfig;
      if (typeof c.baseURL !== 'string') throw new ConfigError(`endpoints[${i}].baseURL must be a string, got ${describeConfig(c.baseURL)}`);
      if (c.apiKey !== undefined && typeof c.apiKey !== 'string') throw new ConfigError(`endpoints[${i}].apiKey must be a string, got ${describeConfig(c.apiKey)}`);
      let url: URL;
      try {
        url = new URL(c.baseURL);
      } catch {
        throw new ConfigError(`endpoints[${i}].baseURL is not a URL: ${JSON.stringify(c.baseURL)}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`endpoints[${i}].baseURL must be http(s): ${c.baseURL}`);
      const maxConcurrency = c.maxConcurrency ?? 32;
      if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)
        throw new ConfigError(`endpoints[${i}].maxConcurrency must be a positive integer, got ${describeConfig(maxConcurrency)}`);
      return { config: { ...c, baseURL: c.baseURL.replace(/\/+$/, ''), maxConcurrency }, inFlight: 0, requests: 0, failures: 0, failureRun: 0, downUntil: 0 };
    });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    configNumber('retry.maxAttempts', this.retry.maxAttempts, 1, Infinity, true);
    // Delays and timeouts become Node timers, which fire after 1 ms for anything above 2^31-1 ms
    // (with a warning): a larger value would silently shorten them instead of lengthening them.
    configNumber('retry.baseDelayMs', this.retry.baseDelayMs, 0, MAX_TIMER_MS);
    configNumber('retry.maxDelayMs', this.retry.maxDelayMs, 0, MAX_TIMER_MS);
    configNumber('retry.timeoutMs', this.retry.timeoutMs, 1, MAX_TIMER_MS);
    this.circuit = { ...DEFAULT_CIRCUIT, ...options.circuit };
    const { failures, cooldownMs, maxCooldownMs } = this.circuit;
    configNumber('circuit.failures', failures, 0, Infinity, true);
    configNumber('circuit.cooldownMs', cooldownMs, 0, MAX_TIMER_MS);
    configNumber('circuit.maxCooldownMs', maxCooldownMs, 0, MAX_TIMER_MS);
    if (!(maxCooldownMs >= cooldownMs))
      throw new ConfigError(`circuit.cooldownMs must be <= circuit.maxCooldownMs, got ${cooldownMs} and ${maxCooldownMs}`);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.onRetry = options.onRetry;
  }

  stats(): EndpointStats[] {
    const now = this.now();
    return this.endpoints.map((e) => ({ baseURL: e.config.baseURL, inFlight: e.inFlight, requests: e.requests, failures: e.failures, down: e.downUntil > now }));
  }

  async run<T>(what: string, fn: (endpoint: Endpoint, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let avoid: Endpoint | undefined;
    for (let attempt = 1; ; attempt++) {
      const ep = await this.acquire(avoid, signal);
      ep.requests++;
      const attemptCtl = new AbortController();
      const onAbort = () => attemptCtl.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new AttemptTimeout(this.retry.timeoutMs);
          attemptCtl.abort(err);
          reject(err);
        }, this.retry.timeoutMs);
      });
      let delayMs: number;
      try {
        // The race makes the timeout hold even for an fn that ignores its signal.
        const out = await Promise.race([fn(ep, attemptCtl.signal), timeout]);
        ep.failureRun = 0;
        ep.downUntil = 0;
        return out;
      } catch (err) {
        if (signal?.aborted) throw new PavError(`${what} aborted`, ErrorCodes.ABORTED, { cause: signal.reason });
        ep.failures++;
        const c = classifyError(err, this.retry.timeoutMs);
        // Only what says the endpoint is unwell counts against it: no answer (connection errors,
        // timeouts, a malformed reply) or a gateway/unavailable status. A 500 or a 429 often belongs to
        // the request (a prompt that crashes the server, one client's rate), not to the endpoint.
        if (c.retryable && (c.status === undefined || c.status === 502 || c.status === 503 || c.status === 504)) this.noteFailure(ep);
        const where = `${what} on ${ep.config.baseURL}`;
        if (!c.retryable)
          throw new EndpointCallError(`${where} failed (${c.reason}); not retried: this error does not go away on retry`, false, ep.config.baseURL, c.status, attempt, err);
        if (attempt >= this.retry.maxAttempts)
          throw new EndpointCallError(`${where} failed after ${attempt} attempts; last error: ${c.reason}`, true, ep.config.baseURL, c.status, attempt, err);
        const backoff = this.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        delayMs = Math.min(this.retry.maxDelayMs, Math.max(backoff, c.retryAfterMs ?? 0));
        this.onRetry?.({ what, endpoint: ep.config.baseURL, attempt, delayMs, reason: c.reason });
        avoid = ep;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.release(ep); // the slot is free while this call sleeps before its retry
      }
      await sleep(delayMs, signal, what);
    }
  }

  /** A retryable failure: after `circuit.failures` in a row the endpoint leaves the rotation for a while. */
  private noteFailure(ep: Endpoint): void {
    ep.failureRun++;
    const { failures, cooldownMs, maxCooldownMs } = this.circuit;
    if (failures === 0 || ep.failureRun < failures) return;
    ep.downUntil = this.now() + Math.min(maxCooldownMs, cooldownMs * 2 ** (ep.failureRun - failures));
  }

  /**
   * Least-loaded endpoint with a free slot among those in the rotation (all of them when every one
   * is out), preferring one other than `avoid`; waits FIFO when all candidates are full.
   */
  private async acquire(avoid: Endpoint | undefined, signal: AbortSignal | undefined): Promise<Endpoint> {
    for (;;) {
      if (signal?.aborted) throw new PavError('request aborted', ErrorCodes.ABORTED, { cause: signal.reason });
      const now = this.now();
      const anyUp = this.endpoints.some((e) => e.downUntil <= now);
      let best: Endpoint | undefined;
      let bestLoad = Infinity;
      for (const e of this.endpoints) {
        if (e.inFlight >= e.config.maxConcurrency) continue;
        if (anyUp && e.downUntil > now) continue;
        // The endpoint that just failed counts as full while another has room.
        const load = e.inFlight / e.config.maxConcurrency + (e === avoid && this.endpoints.length > 1 ? 1 : 0);
        if (load < bestLoad || (load === bestLoad && best !== undefined && e.requests < best.requests)) {
          best = e;
          bestLoad = load;
        }
      }
      if (best) {
        best.inFlight++;
        return best;
      }
      // An endpoint out of the rotation with free slots will take calls when it rejoins, but the end
      // of a cooldown frees no slot, so no release would wake this call then: a timer does (1 ms
      // late, and the loop checks again, since timers and the clock can disagree by a millisecond).
      let rejoin = Infinity;
      for (const e of this.endpoints) if (e.downUntil > now && e.inFlight < e.config.maxConcurrency) rejoin = Math.min(rejoin, e.downUntil);
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const leave = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
        };
        const wake = () => {
          leave();
          resolve();
        };
        const onAbort = () => {
          leave();
          reject(new PavError('request aborted', ErrorCodes.ABORTED, { cause: signal?.reason }));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
        if (rejoin < Infinity) timer = setTimeout(wake, Math.min(rejoin - now + 1, MAX_TIMER_MS));
      });
    }
  }

  private release(ep: Endpoint): void {
    ep.inFlight--;
    this.waiters.shift()?.();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new PavError(`${what} aborted`, ErrorCodes.ABORTED, { cause: signal?.reason }));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** POST JSON with fetch; HTTP errors become HttpStatusError (status and retry-after kept). */
export async function postJson<T>(url: string, body: unknown, init: { signal: AbortSignal; apiKey?: string }): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.apiKey) headers.authorization = `Bearer ${init.apiKey}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: init.signal });
  const text = await res.text();
  if (!res.ok) throw new HttpStatusError(res.status, `${url}: ${text.slice(0, 500)}`, retryAfter(res.headers));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BackendError(`${url}: response is not JSON: ${text.slice(0, 200)}`, true);
  }
}
