// VerifierBackend<string> over vLLM's pooling endpoint, for process reward models served with
// `vllm serve <prm> --runner pooling` (e.g. Qwen2.5-Math-PRM-7B, whose STEP pooler returns one
// [p_bad, p_good] row per step tag). Same routing and retry rules as the policy (endpoints.ts).
//
// Request:  POST <root>/pooling  { model, input: string[] }      (root = server URL without /v1)
// Response: { id, object: 'list', created, model,
//             data: [{ index, object: 'pooling', data: number | number[] | number[][] }],
//             usage: { prompt_tokens, total_tokens, completion_tokens } }
// Per input, `data` is one row per step tag (STEP pooling), one row per token (ALL pooling: the
// input ends with a step tag, so the last row is the last step's), or one vector or scalar (LAST
// pooling). The value of a prefix is the last row's `rewardIndex` entry (a bare scalar as it is).
import { BackendError, ConfigError, PavRangeError } from '../errors.ts';
import type { ScoreBatch, ScoreRequestBatch, StepScoreBatch, VerifierBackend } from '../search/backends.ts';
import { EndpointPool, configNumber, describeConfig, endpointPoolFrom, orderByIndex, postJson, reportedTokens, type EndpointConfig, type PoolOptions, type RetryPolicy, type CircuitPolicy } from './endpoints.ts';
import { problemTextLookup } from './problems.ts';
import { prefixList, type PrefixList } from '../search/prefixes.ts';
import { everyStep, scoreStepPrefixes } from '../search/score_steps.ts';
import { plainInput, qwenPrmInput } from './prm_templates.ts';

export interface PoolingVerifierOptions {
  model: string;
  /** Server roots (http://host:8000); a trailing /v1 is dropped, since vLLM serves /pooling at the root. */
  endpoints: readonly (EndpointConfig | string)[] | EndpointPool;
  /** Problem text per problem index. */
  problems: readonly string[] | ((problem: number) => string);
  /** Tag after each step (default Qwen2.5-Math-PRM's "<extra_0>"). */
  stepTag?: string;
  /**
   * Input text of a prefix. Default: Qwen2.5-Math-PRM's chat format (system prompt, the problem as
   * the user turn, the steps each followed by the step tag as the assistant turn). 'plain' gives
   * problem + "\n" + steps each followed by the tag.
   */
  format?: 'qwen-prm' | 'plain' | ((problem: string, steps: readonly string[], stepTag: string) => string);
  /** Entry of the last row that holds P(step is good) (default 1: Qwen's [p_bad, p_good]). */
  rewardIndex?: number;
  /** 'sigmoid' when the model returns a logit rather than a probability (default 'none'). */
  transform?: 'none' | 'sigmoid';
  /** Value of an empty prefix; a PRM scores steps, so the bare problem gets this without a request (default 0.5). */
  emptyPrefixValue?: number;
  /** Inputs per HTTP request (default 16). */
  maxBatch?: number;
  retry?: Partial<RetryPolicy>;
  circuit?: Partial<CircuitPolicy>;
  onRetry?: PoolOptions['onRetry'];
  name?: string;
}

interface PoolingResponse {
  data?: { index?: number; data?: unknown }[];
  usage?: { prompt_tokens?: number };
}

/** The reward of one input from its `data` field (see the header). */
export function lastReward(data: unknown, rewardIndex: number): number | undefined {
  let row: unknown = data;
  if (Array.isArray(row) && Array.isArray(row[row.length - 1])) row = row[row.length - 1];
  if (typeof row === 'number') return row;
  if (Array.isArray(row)) {
    if (row.length === 1 && typeof row[0] === 'number') return row[0];
    const v = row[rewardIndex];
    return typeof v === 'number' ? v : undefined;
  }
  return undefined;
}

export class VllmPoolingVerifier implements VerifierBackend<string> {
  readonly name: string;
  readonly readsPrefixLists = true;
  readonly pool: EndpointPool;
  private readonly opts: PoolingVerifierOptions;
  private readonly stepTag: string;
  private readonly format: (problem: string, steps: readonly string[], stepTag: string) => string;
  private readonly problemText: (problem: number) => string;
  private warnedRows = false;

  constructor(options: PoolingVerifierOptions) {
    if (!options.model) throw new ConfigError('model is required');
    this.opts = options;
    this.name = options.name ?? `vllm-pooling:${options.model}`;
    this.stepTag = options.stepTag ?? '<extra_0>';
    if (typeof this.stepTag !== 'string') throw new ConfigError(`stepTag must be a string, got ${describeConfig(this.stepTag)}`);
    if (this.stepTag === '') throw new ConfigError('stepTag must not be empty');
    const f = options.format ?? 'qwen-prm';
    if (f !== 'qwen-prm' && f !== 'plain' && typeof f !== 'function')
      throw new ConfigError(`format must be 'qwen-prm', 'plain' or a function, got ${JSON.stringify(f)}`);
    this.format = f === 'qwen-prm' ? qwenPrmInput : f === 'plain' ? plainInput : f;
    if (options.transform !== undefined && options.transform !== 'none' && options.transform !== 'sigmoid')
      throw new ConfigError(`transform must be 'none' or 'sigmoid', got ${JSON.stringify(options.transform)}`);
    configNumber('emptyPrefixValue', options.emptyPrefixValue ?? 0.5, 0, 1);
    configNumber('rewardIndex', this.rewardIndex, 0, Infinity, true);
    const maxBatch = configNumber('maxBatch', options.maxBatch ?? 16, 1, Infinity, true);
    const ep = options.endpoints;
    if (!(ep instanceof EndpointPool) && !Array.isArray(ep)) throw new ConfigError('endpoints must be an array of server URLs (or { baseURL }) or an EndpointPool');
    this.pool = endpointPoolFrom(
      ep instanceof EndpointPool
        ? ep
        : ep.map((e, i) => {
            const c = typeof e === 'string' ? { baseURL: e } : e;
            // The pool checks URLs, but this mapping reads baseURL first.
            if (c === null || typeof c !== 'object' || typeof c.baseURL !== 'string')
              throw new ConfigError(`endpoints[${i}] must be a URL string or { baseURL: string }, got ${JSON.stringify(e)}`);
            return { ...c, baseURL: c.baseURL.replace(/\/+$/, '').replace(/\/v1$/, '') };
          }),
      { retry: options.retry, circuit: options.circuit, onRetry: options.onRetry },
    );
    this.problemText = problemTextLookup(options.problems);
  }

  /** The text sent for a prefix. */
  input(problem: number, steps: readonly string[]): string {
    return this.format(this.problemText(problem), steps, this.stepTag);
  }

  async scorePrefixes(batch: ScoreRequestBatch<string>): Promise<ScoreBatch> {
    const prefixes = this.prefixesOf(batch);
    const m = prefixes.length;
    const values = new Float64Array(m);
    const todo: number[] = [];
    for (let i = 0; i < m; i++) {
      if (prefixes.lengthOf(i) === 0) values[i] = this.opts.emptyPrefixValue ?? 0.5;
      else todo.push(i);
    }
    const { data, tokens } = await this.pooled(batch, prefixes, todo);
    todo.forEach((i, k) => (values[i] = this.reward(lastReward(data[k], this.rewardIndex), k, data[k])));
    return { values, tokens };
  }

  /**
   * Every step's value from one request per prefix, when the server's pooler returns one row per
   * step tag (vLLM STEP pooling, as for Qwen2.5-Math-PRM). A prefix whose rows do not match its
   * steps (ALL or LAST pooling) has each of its prefixes scored instead, with one warning.
   */
  async scoreSteps(batch: ScoreRequestBatch<string>): Promise<StepScoreBatch> {
    const prefixes = this.prefixesOf(batch);
    const m = prefixes.length;
    const offsets = new Uint32Array(m + 1);
    const todo: number[] = [];
    for (let i = 0; i < m; i++) {
      offsets[i + 1] = offsets[i] + prefixes.lengthOf(i);
      if (prefixes.lengthOf(i) > 0) todo.push(i);
    }
    const values = new Float64Array(offsets[m]);
    const { data, tokens } = await this.pooled(batch, prefixes, todo);
    const unmatched: number[] = [];
    todo.forEach((i, k) => {
      const rows = data[k];
      const H = offsets[i + 1] - offsets[i];
      if (!Array.isArray(rows) || rows.length !== H || !rows.every(Array.isArray)) return void unmatched.push(i);
      for (let h = 0; h < H; h++) values[offsets[i] + h] = this.reward(lastReward(rows[h], this.rewardIndex), k, rows);
    });
    if (unmatched.length > 0) {
      if (!this.warnedRows) {
        this.warnedRows = true;
        process.emitWarning(
          `${this.name}: the pooling endpoint does not return one row per step tag (STEP pooling); PAV rerank scores every prefix of a response instead`,
          { code: 'PAVSEARCH_POOLING_NO_STEP_ROWS' },
        );
      }
      const which = everyStep(batch, unmatched);
      const r = await scoreStepPrefixes(this, batch, which);
      which.forEach(({ row, step }, k) => {
        values[offsets[row] + step] = r.values[k];
        tokens[row] += r.tokens[k];
      });
    }
    return { values, tokens };
  }

  private get rewardIndex(): number {
    return this.opts.rewardIndex ?? 1;
  }

  private prefixesOf(batch: ScoreRequestBatch<string>): PrefixList<string> {
    const m = batch.problems.length;
    if (batch.prefixes.length !== m) throw new PavRangeError(`prefixes.length (${batch.prefixes.length}) != problems.length (${m})`);
    return prefixList(batch.prefixes);
  }

  /** P(step good) from one reward entry: transformed and checked to lie in [0, 1]. */
  private reward(raw: number | undefined, k: number, data: unknown): number {
    if (raw === undefined || !Number.isFinite(raw))
      throw new BackendError(`pooling result ${k} has no reward at index ${this.rewardIndex}: ${JSON.stringify(data).slice(0, 200)}`, false);
    const v = this.opts.transform === 'sigmoid' ? 1 / (1 + Math.exp(-raw)) : raw;
    if (v < 0 || v > 1) throw new BackendError(`pooling reward ${v} is outside [0, 1]: set transform: 'sigmoid' for logits, or check rewardIndex`, false);
    return v;
  }

  /**
   * POST the prefixes `todo` of a batch in requests of at most maxBatch inputs; per entry of `todo`
   * its pooling `data`, and per prefix of the batch its share of the reported prompt tokens.
   */
  private async pooled(batch: ScoreRequestBatch<string>, prefixes: PrefixList<string>, todo: number[]): Promise<{ data: unknown[]; tokens: Uint32Array }> {
    const data: unknown[] = new Array(todo.length);
    const tokens = new Uint32Array(prefixes.length);
    const maxBatch = this.opts.maxBatch ?? 16;
    const chunks: number[][] = [];
    for (let k = 0; k < todo.length; k += maxBatch) chunks.push(Array.from({ length: Math.min(maxBatch, todo.length - k) }, (_, j) => k + j));
    await Promise.all(
      chunks.map(async (chunk) => {
        const texts = chunk.map((k) => this.input(batch.problems[todo[k]], prefixes.at(todo[k])));
        const res = await this.pool.run(
          `pooling for problems ${[...new Set(chunk.map((k) => batch.problems[todo[k]]))].join(',')}`,
          async (ep, signal) => {
            const url = `${ep.config.baseURL}/pooling`;
            const r = await postJson<PoolingResponse>(url, { model: this.opts.model, input: texts }, { signal, apiKey: ep.config.apiKey });
            if (r === null || typeof r !== 'object' || !Array.isArray(r.data) || r.data.length !== texts.length)
              throw new BackendError(`${url} returned ${Array.isArray(r?.data) ? r.data.length : 'no'} results for ${texts.length} inputs`, true);
            const byIndex = orderByIndex<{ data?: unknown }>(url, 'data', r.data, texts.length).map((e) => e.data);
            return { data: byIndex, promptTokens: reportedTokens(url, 'usage.prompt_tokens', r.usage?.prompt_tokens) };
          },
          batch.signal,
        );
        const totalChars = texts.reduce((a, t) => a + t.length, 0);
        const { promptTokens } = res;
        chunk.forEach((k, j) => {
          data[k] = res.data[j];
          // usage covers the request; each input gets a share by its length in characters.
          tokens[todo[k]] = totalChars > 0 ? Math.round((promptTokens * texts[j].length) / totalChars) : 0;
        });
      }),
    );
    return { data, tokens };
  }
}
