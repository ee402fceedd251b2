// PolicyBackend<string> over OpenAI-compatible completion servers (vLLM, SGLang, llama.cpp server):
// one step = the text up to the step delimiter; several endpoints with routing and retries.
import { setMaxListeners } from 'node:events';
import OpenAI from 'openai';
import { BackendError, ConfigError, PavRangeError } from '../errors.ts';
import type { CompletionBatch, PolicyBackend, StepBatch, StepRequestBatch } from '../search/backends.ts';
import { EndpointPool, configNumber, endpointPoolFrom, describeConfig, orderByIndex, reportedTokens, type Endpoint, type EndpointConfig, type PoolOptions, type RetryPolicy, type CircuitPolicy } from './endpoints.ts';
import { problemTextLookup } from './problems.ts';
import { prefixList } from '../search/prefixes.ts';

export interface OpenAIPolicyOptions {
  /** Model name as the server knows it. */
  model: string;
  /** Endpoints serving this model, or a pool shared with other backends. */
  endpoints: readonly (EndpointConfig | string)[] | EndpointPool;
  /** The problem text of each problem index. */
  problems: readonly string[] | ((problem: number) => string);
  /** Builds the prompt head from the problem text (default: the problem, then the delimiter). */
  template?: (problem: string) => string;
  /** Ends a step; prefixes are joined with it (default a blank line, "\n\n"). */
  delimiter?: string;
  /** Token cap of one step (default 512). */
  maxStepTokens?: number;
  /** Token cap of a full completion (default 2048). */
  maxCompletionTokens?: number;
  temperature?: number;
  topP?: number;
  /**
   * 'request' (default): one HTTP request per prefix asks for n samples with seed seeds[i]; cheap,
   * but whether sample j is independent of n is up to the server (vLLM: it is not guaranteed).
   * 'sample': n requests of one sample, seeded mix(seeds[i], j); sample j then depends only on
   * (seed, prefix, j), as the backend contract asks, at n times the requests (prefix caching on
   * the server keeps the prompt cost low).
   */
  seedMode?: 'request' | 'sample';
  /** Extra body fields sent as they are (vLLM's top_k, repetition_penalty, ...). */
  extraBody?: Record<string, unknown>;
  retry?: Partial<RetryPolicy>;
  /** When an endpoint that keeps failing leaves the rotation (see endpoints.ts). */
  circuit?: Partial<CircuitPolicy>;
  onRetry?: PoolOptions['onRetry'];
  name?: string;
}

/** The fields of a completion choice this backend reads; the extras are vLLM's and SGLang's. */
interface Choice {
  index: number;
  text: string;
  finish_reason: string | null;
  /** vLLM: the stop string or stop token id that ended generation; null for the EOS token. */
  stop_reason?: string | number | null;
  /** SGLang: the same information under another name. */
  matched_stop?: string | number | null;
  logprobs?: { tokens?: unknown[] | null } | null;
}

/**
 * Whether a step ended the response. 'length' (the token cap) ends it. 'stop' is either our step
 * delimiter (the step ended, the response goes on) or the end-of-sequence token (finished); vLLM
 * tells them apart with `stop_reason` (our stop string vs null for EOS or a stop token id), SGLang
 * with `matched_stop`. Servers that send neither (llama.cpp's OpenAI route) get a heuristic: the
 * step finished when it is empty or holds a final answer (\boxed or "answer is"), since a model
 * stops at EOS right after it answers; otherwise it ended at the delimiter.
 */
export function stepFinished(choice: Choice, stops: readonly string[]): boolean {
  if (choice.finish_reason === 'length') return true;
  if (choice.finish_reason !== 'stop') return true; // null or unknown reasons: nothing more will come
  const matched = 'stop_reason' in choice ? choice.stop_reason : 'matched_stop' in choice ? choice.matched_stop : undefined;
  if (matched !== undefined) return !(typeof matched === 'string' && stops.includes(matched));
  return choice.text.trim() === '' || /\\boxed|answer is/i.test(choice.text);
}

/**
 * Completion tokens per choice: logprobs token counts when the server returned them, else usage
 * split evenly. Counts land in a Uint32Array, where a negative, fractional or too large count would
 * wrap or truncate into a plausible number: such a usage is a malformed reply (BackendError,
 * retryable like the file's other malformed replies) rather than clamped to a made-up count.
 */
export function splitTokens(choices: readonly Choice[], completionTokens: unknown, where = 'the server'): number[] {
  if (choices.every((c) => Array.isArray(c.logprobs?.tokens))) return choices.map((c) => c.logprobs!.tokens!.length);
  const n = choices.length;
  const total = reportedTokens(where, 'usage.completion_tokens', completionTokens, n);
  // Even split; the remainder goes to the first choices so the sum equals the server's count.
  return choices.map((_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

function mix(a: number, b: number): number {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Sampled {
  texts: string[];
  tokens: number[];
  finished: boolean[];
}

export class OpenAIPolicy implements PolicyBackend<string> {
  readonly name: string;
  readonly readsPrefixLists = true;
  readonly pool: EndpointPool;
  readonly delimiter: string;
  private readonly opts: OpenAIPolicyOptions;
  private readonly clients = new Map<Endpoint, OpenAI>();
  private readonly problemText: (problem: number) => string;

  constructor(options: OpenAIPolicyOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError(`options must be an object, got ${describeConfig(options)}`);
    if (!options.model) throw new ConfigError('model is required');
    if (typeof options.model !== 'string') throw new ConfigError(`model must be a string, got ${describeConfig(options.model)}`);
    if (options.name !== undefined && typeof options.name !== 'string') throw new ConfigError(`name must be a string, got ${describeConfig(options.name)}`);
    this.opts = options;
    this.name = options.name ?? `openai:${options.model}`;
    this.delimiter = options.delimiter ?? '\n\n';
    if (typeof this.delimiter !== 'string') throw new ConfigError(`delimiter must be a string, got ${describeConfig(this.delimiter)}`);
    if (this.delimiter === '') throw new ConfigError('delimiter must not be empty');
    if (options.template !== undefined && typeof options.template !== 'function') throw new ConfigError(`template must be a function, got ${describeConfig(options.template)}`);
    // Sent as they are: NaN would go out as null (the cap silently gone), a bad value fail only at the first call.
    if (options.maxStepTokens !== undefined) configNumber('maxStepTokens', options.maxStepTokens, 1, Infinity, true);
    if (options.maxCompletionTokens !== undefined) configNumber('maxCompletionTokens', options.maxCompletionTokens, 1, Infinity, true);
    if (options.temperature !== undefined) configNumber('temperature', options.temperature, 0);
    if (options.topP !== undefined && !(configNumber('topP', options.topP, 0, 1) > 0)) throw new ConfigError(`topP must be in (0, 1], got ${options.topP}`);
    if (options.seedMode !== undefined && options.seedMode !== 'request' && options.seedMode !== 'sample')
      throw new ConfigError(`seedMode must be 'request' or 'sample', got ${describeConfig(options.seedMode)}`);
    if (options.extraBody !== undefined && (options.extraBody === null || typeof options.extraBody !== 'object' || Array.isArray(options.extraBody)))
      throw new ConfigError(`extraBody must be an object, got ${describeConfig(options.extraBody)}`);
    this.pool = endpointPoolFrom(options.endpoints, { retry: options.retry, circuit: options.circuit, onRetry: options.onRetry });
    this.problemText = problemTextLookup(options.problems);
  }

  /** The prompt for a prefix: template(problem) then the steps, each followed by the delimiter. */
  prompt(problem: number, prefix: readonly string[]): string {
    const head = (this.opts.template ?? ((p: string) => p + this.delimiter))(this.problemText(problem));
    return head + prefix.map((s) => s + this.delimiter).join('');
  }

  async sampleSteps(batch: StepRequestBatch<string>): Promise<StepBatch<string>> {
    checkBatch(batch);
    const results = await this.sampleAll(batch, true);
    const steps: string[] = [];
    const tokens = new Uint32Array(batch.problems.length * batch.n);
    const finished = new Uint8Array(batch.problems.length * batch.n);
    results.forEach((r, i) => {
      for (let j = 0; j < batch.n; j++) {
        steps.push(r.texts[j]);
        tokens[i * batch.n + j] = r.tokens[j];
        finished[i * batch.n + j] = r.finished[j] ? 1 : 0;
      }
    });
    return { steps, tokens, finished };
  }

  async sampleCompletions(batch: StepRequestBatch<string>): Promise<CompletionBatch<string>> {
    checkBatch(batch);
    const results = await this.sampleAll(batch, false);
    const completions: string[][] = [];
    const tokens = new Uint32Array(batch.problems.length * batch.n);
    results.forEach((r, i) => {
      for (let j = 0; j < batch.n; j++) {
        completions.push(this.splitSteps(r.texts[j]));
        tokens[i * batch.n + j] = r.tokens[j];
      }
    });
    return { completions, tokens };
  }

  /** A full completion as steps: split at the delimiter, empty pieces dropped. */
  splitSteps(text: string): string[] {
    return text.split(this.delimiter).filter((s) => s.trim() !== '');
  }

  async close(): Promise<void> {
    this.clients.clear();
  }

  private client(ep: Endpoint): OpenAI {
    let c = this.clients.get(ep);
    if (!c) {
      // Retries and timeouts are the pool's (per endpoint, with routing); the client never retries.
      c = new OpenAI({ baseURL: ep.config.baseURL, apiKey: ep.config.apiKey ?? 'EMPTY', maxRetries: 0, timeout: this.pool.retry.timeoutMs });
      this.clients.set(ep, c);
    }
    return c;
  }

  /**
   * Every problem's samples. One failure fails the batch, so it aborts the other requests: their
   * results would be thrown away, and they would hold endpoint slots until they ended.
   */
  private async sampleAll(batch: StepRequestBatch<string>, step: boolean): Promise<Sampled[]> {
    const prefixes = prefixList(batch.prefixes);
    const ctl = new AbortController();
    // Every request of the batch listens to it, queued ones included: many listeners are expected.
    setMaxListeners(0, ctl.signal);
    const outer = batch.signal;
    const onAbort = () => ctl.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    // The first failure is what the caller sees, not the abort errors it causes in the others.
    let failed = false;
    let first: unknown;
    try {
      return await Promise.all(
        Array.from({ length: batch.problems.length }, (_, i) =>
          this.sample(batch.problems[i], prefixes.at(i), batch.n, batch.seeds[i], step, ctl.signal).catch((err: unknown) => {
            if (!failed) {
              failed = true;
              first = err;
              ctl.abort(err);
            }
            throw err;
          }),
        ),
      );
    } catch {
      throw first;
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
  }

  private async sample(problem: number, prefix: readonly string[], n: number, seed: number, step: boolean, signal?: AbortSignal): Promise<Sampled> {
    const prompt = this.prompt(problem, prefix);
    if (this.opts.seedMode === 'sample') {
      const parts = await Promise.all(Array.from({ length: n }, (_, j) => this.request(prompt, 1, mix(seed, j), step, problem, signal)));
      return { texts: parts.flatMap((p) => p.texts), tokens: parts.flatMap((p) => p.tokens), finished: parts.flatMap((p) => p.finished) };
    }
    return this.request(prompt, n, seed, step, problem, signal);
  }

  private async request(prompt: string, n: number, seed: number, step: boolean, problem: number, signal?: AbortSignal): Promise<Sampled> {
    const stops = step ? [this.delimiter] : [];
    const body = {
      ...this.opts.extraBody,
      model: this.opts.model,
      prompt,
      n,
      seed,
      max_tokens: step ? (this.opts.maxStepTokens ?? 512) : (this.opts.maxCompletionTokens ?? 2048),
      ...(this.opts.temperature !== undefined ? { temperature: this.opts.temperature } : {}),
      ...(this.opts.topP !== undefined ? { top_p: this.opts.topP } : {}),
      ...(step ? { stop: stops } : {}),
    };
    return this.pool.run(
      `completions for problem ${problem}`,
      async (ep, attemptSignal) => {
        const res = await this.client(ep).completions.create(body as OpenAI.CompletionCreateParamsNonStreaming, { signal: attemptSignal });
        const choices = checkChoices(ep.config.baseURL, (res as { choices?: unknown } | null)?.choices, n);
        return {
          texts: choices.map((c) => c.text),
          tokens: splitTokens(choices, res.usage?.completion_tokens, ep.config.baseURL),
          finished: choices.map((c) => !step || stepFinished(c, stops)),
        };
      },
      signal,
    );
  }
}

/**
 * The reply's choices ordered by index. Malformed replies are retryable BackendErrors (another
 * attempt, or another endpoint, may answer well), like a wrong number of choices. Samples are
 * matched to seeds by index, so indexes must be each of 0..n-1 once.
 */
function checkChoices(baseURL: string, raw: unknown, n: number): Choice[] {
  if (!Array.isArray(raw)) throw new BackendError(`${baseURL} returned a reply without a choices array (choices: ${describeConfig(raw)})`, true);
  if (raw.length !== n)
    throw new BackendError(
      `${baseURL} returned ${raw.length} choices for n=${n}` +
        (n > 1 && raw.length === 1 ? ' (a server that ignores n, as some llama.cpp builds do, needs seedMode: sample: one request per sample)' : ''),
      true,
    );
  const byIndex = orderByIndex<Choice>(baseURL, 'choices', raw, n);
  for (const c of byIndex) {
    const text: unknown = c.text;
    if (typeof text !== 'string') throw new BackendError(`${baseURL} returned choice ${c.index} with ${text === undefined ? 'no text' : `text ${describeConfig(text)}, not a string`}`, true);
  }
  return byIndex;
}

function checkBatch(batch: StepRequestBatch<string>): void {
  if (!Number.isInteger(batch.n) || batch.n < 1) throw new PavRangeError(`n must be a positive integer, got ${batch.n}`);
  if (batch.prefixes.length !== batch.problems.length)
    throw new PavRangeError(`prefixes.length (${batch.prefixes.length}) != problems.length (${batch.problems.length})`);
  if (batch.seeds.length !== batch.problems.length)
    throw new PavRangeError(`seeds.length (${batch.seeds.length}) != problems.length (${batch.problems.length})`);
}
