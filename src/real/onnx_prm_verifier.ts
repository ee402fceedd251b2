// VerifierBackend<string> over a process reward model exported from Hugging Face to ONNX
// (input_ids, attention_mask int64 [B, T] in; logits float [B, T, C] out), tokenized offline from its
// tokenizer.json and run in the verifier pool (piscina workers, one onnxruntime session each, dynamic
// batching). A prefix is rendered with a template in which every step is followed by the step tag;
// the probability that a step is good is read at that step's tag position, either from a
// classification head (C labels, softmax, one positive label) or from an LM head (C = vocabulary:
// softmax over the two label token ids). One forward pass scores every step of a prefix.
//
// Shapes and padding. Sequences are right-padded (pad id, mask 0) to a multiple of `padMultiple`
// tokens, so prefixes of similar length share a sequence length and the pool's batcher, which merges
// only equal lengths, coalesces them across concurrent calls. Right padding leaves the positions of
// real tokens unchanged (a causal model gives them the same logits as unpadded).
//
// Truncation. A sequence longer than `maxLength` keeps its last `maxLength` tokens ('left', the
// default): the system prompt and problem go first, then the earliest steps, while the last steps and
// their tags stay; a step whose tag was cut has value NaN in stepValues(). 'error' refuses instead.
//
// Empty prefix. A PRM scores steps, and a prefix without steps has no tag position: it gets
// `emptyPrefixValue` (default 0.5) without a model call, and 0 tokens. The engine asks for it as the
// root value under PAV, where only differences between consecutive values matter for the first step.
import { basename } from 'node:path';
import { BackendError, ConfigError, ErrorCodes, PavError, PavRangeError, PavTypeError } from '../errors.ts';
import { describeType } from '../ops/common.ts';
import type { ScoreBatch, ScoreRequestBatch, StepScoreBatch, VerifierBackend } from '../search/backends.ts';
import { createVerifierPool, type VerifierPool, type VerifierPoolOptions } from '../verifier/pool.ts';
import { HfTokenizer } from './hf_tokenizer.ts';
import type { TextProblem } from './problems.ts';
import { templateFn, type PrmTemplate, type PrmTemplateFn } from './prm_templates.ts';
import { problemTextLookup } from './problems.ts';
import { prefixList, type PrefixList } from '../search/prefixes.ts';
import { scoreStepPrefixes, type StepRef } from '../search/score_steps.ts';
import { encodeError, encodePrmText, isEncodeFailure, renderPrmInput, type EncodedPrefix, type PrmEncodingSettings } from './prm_encoding.ts';
import { PrmTokenizerPool } from './tokenizer_pool.ts';
import type { TokenizeWorkerConfig } from './tokenize_worker.ts';
import { availableParallelism } from 'node:os';
import { int64Words, LOW_WORD } from '../verifier/int64.ts';

/** How the model's per-token logits turn into P(step is good) at a tag position. */
export type PrmHead =
  | {
      /** A token-classification head: logits [B, T, C] over C labels (Qwen2.5-Math-PRM: C = 2, [bad, good]). */
      kind: 'classification';
      /** Label whose probability is the step's value (default 1). */
      positiveIndex?: number;
      /** 'softmax' over the C labels (default), or 'sigmoid' of the positive label's logit alone. */
      activation?: 'softmax' | 'sigmoid';
    }
  | {
      /** A language-model head: logits [B, T, V]; softmax over the good and bad label tokens only (Math-Shepherd). */
      kind: 'lm';
      goodTokenId?: number;
      badTokenId?: number;
      /** Label tokens as text, looked up in the tokenizer when the ids are not given. */
      goodToken?: string;
      badToken?: string;
    };

export interface OnnxPrmVerifierOptions {
  /** The exported .onnx file (external-data files beside it are found by onnxruntime). */
  modelPath: string;
  /** The model's tokenizer.json (a tokenizer_config.json beside it is read when present). */
  tokenizerPath: string;
  /** Problem per problem index (TextProblem or its text). */
  problems: readonly (TextProblem | string)[];
  template?: PrmTemplate;
  /** Text after each step whose position is read (default Qwen's "<extra_0>"). */
  stepTag?: string;
  /** Id of the tag when its text does not encode to one token by itself (Math-Shepherd: 12902). */
  stepTagId?: number;
  /** Default { kind: 'classification', positiveIndex: 1 }. */
  head?: PrmHead;
  /** Longest sequence fed to the model (default 4096). */
  maxLength?: number;
  /** 'left' (default): keep the last maxLength tokens; 'error': a PavRangeError. */
  truncation?: 'left' | 'error';
  /** Sequence lengths are rounded up to a multiple of this (default 64); 1 turns bucketing off. */
  padMultiple?: number;
  /** Id written at padded positions (masked out; default 0). */
  padTokenId?: number;
  /** Value of a prefix without steps (default 0.5). */
  emptyPrefixValue?: number;
  /** Pool settings (ignored with `pool`). maxBatchRows defaults to 64 here: rows are long sequences. */
  workers?: number;
  intraOpThreads?: number;
  maxBatchRows?: number;
  maxWaitMs?: number;
  executionProviders?: readonly string[];
  inputNames?: readonly [string, string];
  /** Output holding the logits (default the model's first output). */
  outputName?: string;
  /** A pool already serving this model (it is not closed by close()). */
  pool?: VerifierPool;
  /**
   * Threads that render and tokenize prefixes (0: the main thread). Default: up to 4 of the cores the
   * verifier workers leave, 0 on a machine with no spare core or with a template function (which
   * cannot cross threads).
   */
  tokenizerWorkers?: number;
  name?: string;
}

const DEFAULT_MAX_LENGTH = 4096;
const DEFAULT_PAD_MULTIPLE = 64;

function softmaxAt(logits: Float32Array, base: number, C: number, k: number): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) if (logits[base + c] > mx) mx = logits[base + c];
  let z = 0;
  for (let c = 0; c < C; c++) z += Math.exp(logits[base + c] - mx);
  return Math.exp(logits[base + k] - mx) / z;
}

interface ResolvedHead {
  kind: 'classification' | 'lm';
  positive: number;
  /** lm: the bad label's column. */
  negative: number;
  sigmoid: boolean;
}

export class OnnxPrmVerifier implements VerifierBackend<string> {
  readonly name: string;
  readonly readsPrefixLists = true;
  readonly tokenizer: HfTokenizer;
  readonly pool: VerifierPool;
  readonly stepTag: string;
  readonly stepTagId: number;
  readonly maxLength: number;
  readonly padMultiple: number;
  /** Columns of the logits output per position (labels, or the vocabulary), read from a probe run. */
  readonly outputColumns: number;
  private readonly head: ResolvedHead;
  private readonly template: PrmTemplateFn;
  private readonly problemText: (p: number) => string;
  private readonly opts: OnnxPrmVerifierOptions;
  private readonly ownsPool: boolean;
  private readonly encoding: PrmEncodingSettings;
  /** Tokenizer workers (undefined: prefixes are tokenized on the main thread). */
  private readonly tokenizers: PrmTokenizerPool | undefined;
  /** Calls in flight: close() lets them finish before it stops the tokenizer workers and the pool. */
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(
    o: OnnxPrmVerifierOptions,
    tok: HfTokenizer,
    tagId: number,
    head: ResolvedHead,
    pool: VerifierPool,
    columns: number,
    encoding: PrmEncodingSettings,
    tokenizers: PrmTokenizerPool | undefined,
  ) {
    this.opts = o;
    this.name = o.name ?? `onnx-prm:${basename(o.modelPath)}`;
    this.tokenizer = tok;
    this.stepTag = o.stepTag ?? '<extra_0>';
    this.stepTagId = tagId;
    this.head = head;
    this.pool = pool;
    this.ownsPool = !o.pool;
    this.outputColumns = columns;
    this.maxLength = o.maxLength ?? DEFAULT_MAX_LENGTH;
    this.padMultiple = o.padMultiple ?? DEFAULT_PAD_MULTIPLE;
    this.template = templateFn(o.template);
    this.problemText = problemTextLookup(o.problems);
    this.tokenizers = tokenizers;
    this.encoding = encoding;
  }

  /** Load the tokenizer, start the pool, and check the model's output against the head with one probe row. */
  static async create(o: OnnxPrmVerifierOptions): Promise<OnnxPrmVerifier> {
    const posInt = (v: number | undefined, key: string, min: number) => {
      if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new ConfigError(`${key} must be an integer >= ${min}, got ${v}`);
    };
    posInt(o.maxLength, 'maxLength', 2);
    posInt(o.padMultiple, 'padMultiple', 1);
    posInt(o.padTokenId, 'padTokenId', 0);
    // Ids are written as int32 low words of the int64 inputs.
    if (o.padTokenId !== undefined && o.padTokenId > 0x7fffffff) throw new ConfigError(`padTokenId must be below 2^31, got ${o.padTokenId}`);
    posInt(o.stepTagId, 'stepTagId', 0);
    if (o.truncation !== undefined && o.truncation !== 'left' && o.truncation !== 'error') throw new ConfigError(`truncation must be 'left' or 'error', got ${JSON.stringify(o.truncation)}`);
    const empty = o.emptyPrefixValue ?? 0.5;
    if (!(empty >= 0 && empty <= 1)) throw new ConfigError(`emptyPrefixValue must be in [0, 1], got ${o.emptyPrefixValue}`);
    if (!o.modelPath) throw new ConfigError('modelPath is required (the PRM exported to ONNX)');
    if (!o.tokenizerPath) throw new ConfigError('tokenizerPath is required (the model\'s tokenizer.json)');
    templateFn(o.template);
    const fnTemplate = typeof o.template === 'function';
    posInt(o.tokenizerWorkers, 'tokenizerWorkers', 0);
    if (fnTemplate && (o.tokenizerWorkers ?? 0) > 0)
      throw new ConfigError('tokenizerWorkers needs a template by name or spec: a template function cannot cross threads');
    const tokenizerWorkers = o.tokenizerWorkers ?? (fnTemplate ? 0 : Math.max(0, Math.min(4, availableParallelism() - (o.workers ?? 1) - 1)));
    const tag = o.stepTag ?? '<extra_0>';
    if (tag === '') throw new ConfigError('stepTag must not be empty');

    const tok = HfTokenizer.load(o.tokenizerPath);
    const tagId = o.stepTagId ?? tok.singleId(tag, 'stepTag');
    // An id past the embedding table fails every padded call inside the model's Gather.
    if (o.padTokenId !== undefined && o.padTokenId >= tok.vocabSize)
      throw new ConfigError(`padTokenId ${o.padTokenId} is out of range: ${o.tokenizerPath} has ${tok.vocabSize} token ids`);
    const maxLength = o.maxLength ?? DEFAULT_MAX_LENGTH;
    {
      // Left truncation keeps the last maxLength tokens: they must reach back to the last step's tag,
      // or every prefix would lose its value to the template's closing tokens.
      let ids: number[] | Int32Array = [];
      try {
        ids = tok.encode(renderPrmInput(templateFn(o.template), tag, 'x', ['x']));
      } catch {
        // A template function that fails here fails each call with its own error.
      }
      const last = ids.lastIndexOf(tagId);
      if (last >= 0 && maxLength < ids.length - last)
        throw new ConfigError(`maxLength ${maxLength} is too small for the template: it has ${ids.length - last - 1} tokens after the last step tag, so maxLength must be at least ${ids.length - last}`);
    }
    const h = o.head ?? { kind: 'classification' };
    let head: ResolvedHead;
    if (h.kind === 'classification') {
      const k = h.positiveIndex ?? 1;
      posInt(k, 'head.positiveIndex', 0);
      // Anything else would silently be read as softmax.
      if (h.activation !== undefined && h.activation !== 'softmax' && h.activation !== 'sigmoid')
        throw new ConfigError(`head.activation must be 'softmax' or 'sigmoid', got ${JSON.stringify(h.activation)}`);
      head = { kind: 'classification', positive: k, negative: -1, sigmoid: h.activation === 'sigmoid' };
    } else if (h.kind === 'lm') {
      const good = h.goodTokenId ?? (h.goodToken !== undefined ? tok.singleId(h.goodToken, 'head.goodToken') : undefined);
      const bad = h.badTokenId ?? (h.badToken !== undefined ? tok.singleId(h.badToken, 'head.badToken') : undefined);
      if (good === undefined || bad === undefined) throw new ConfigError('head kind "lm" needs goodTokenId and badTokenId (or goodToken and badToken)');
      posInt(good, 'head.goodTokenId', 0);
      posInt(bad, 'head.badTokenId', 0);
      if (good === bad) throw new ConfigError(`head.goodTokenId and head.badTokenId are the same id (${good})`);
      head = { kind: 'lm', positive: good, negative: bad, sigmoid: false };
    } else {
      throw new ConfigError(`head.kind must be 'classification' or 'lm', got ${JSON.stringify((h as { kind?: unknown }).kind)}`);
    }

    const poolOpts: VerifierPoolOptions = {
      modelPath: o.modelPath,
      workers: o.workers ?? 1,
      intraOpThreads: o.intraOpThreads,
      maxBatchRows: o.maxBatchRows ?? 64,
      maxWaitMs: o.maxWaitMs ?? 2,
      executionProviders: o.executionProviders,
      inputNames: o.inputNames,
      outputName: o.outputName,
      // An LM head's logits are [B, T, vocabulary]: the workers keep the two label columns only.
      ...(head.kind === 'lm' ? { outputColumns: [head.negative, head.positive] } : {}),
    };
    // The pool names a bad option (workers, maxBatchRows, maxWaitMs...) as an argument error; here
    // they are this verifier's options, so they are ConfigErrors like the rest of them.
    const pool =
      o.pool ??
      (await createVerifierPool(poolOpts).catch((e: unknown) => {
        throw e instanceof PavRangeError || e instanceof PavTypeError ? new ConfigError(e.message, { cause: e }) : e;
      }));
    try {
      const kept = pool.outputColumns;
      if (kept) {
        // The pool returns only these columns: read the labels at their places among them.
        if (head.kind === 'classification')
          throw new ConfigError(`the pool keeps only output columns [${kept.join(', ')}]; a classification head reads every label: give a pool without outputColumns`);
        const pos = kept.indexOf(head.positive), neg = kept.indexOf(head.negative);
        if (pos < 0 || neg < 0)
          throw new ConfigError(`the pool keeps output columns [${kept.join(', ')}], which do not include the label token ids ${head.positive} (good) and ${head.negative} (bad)`);
        head = { ...head, positive: pos, negative: neg };
      }
      const outputName = o.outputName ?? pool.outputNames[0];
      // Probe: one row of T tag tokens, for two lengths. A per-token output holds T*C values with the
      // same C for both; a pooled [B, k] output fails one of them. A [B, C, T] output has the same
      // sizes, but the workers refuse a rank-3 output whose second axis is not T, and C cannot equal
      // both 2 and 3.
      let C = 0;
      for (const T of [2, 3]) {
        const out = await pool.run(new BigInt64Array(T).fill(BigInt(tagId)), new BigInt64Array(T).fill(1n), 1, T);
        const c = out.length / T;
        if (!Number.isInteger(c) || c < 1 || (C !== 0 && c !== C))
          throw new ConfigError(`${o.modelPath}: output ${outputName} has ${out.length} values for a [1, ${T}] input; expected per-token logits [batch, seq, C] (set outputName if the logits are another output)`);
        C = c;
      }
      if (head.kind === 'classification') {
        if (head.positive >= C) throw new ConfigError(`head.positiveIndex ${head.positive} is out of range: ${o.modelPath} output ${outputName} has ${C} labels per position`);
        // A label head has a few columns; one as wide as the vocabulary is an LM head, whose softmax
        // over every token would silently stand in for P(good).
        if (C >= tok.vocabSize)
          throw new ConfigError(`${o.modelPath} output ${outputName} has ${C} columns per position, as many as the vocabulary of ${o.tokenizerPath}: it is an LM head; use head kind 'lm' with the label tokens`);
        if (C === 1 && !head.sigmoid) throw new ConfigError(`${o.modelPath} output ${outputName} has one logit per position: set head.activation to 'sigmoid'`);
      } else if (!kept) {
        // (With kept columns the workers check the label ids against the real width.)
        const top = Math.max(head.positive, head.negative);
        if (top >= C) throw new ConfigError(`head label token id ${top} is out of range: ${o.modelPath} output ${outputName} has ${C} columns per position (is it an LM head? use kind 'classification' for a label head)`);
      }
      // One set of encoding settings for this thread and the tokenizer workers.
      const encoding: PrmEncodingSettings = {
        stepTag: tag,
        stepTagId: tagId,
        maxLength,
        truncation: o.truncation ?? 'left',
        tokenizerPath: o.tokenizerPath,
      };
      const tokenizers =
        tokenizerWorkers > 0
          ? await PrmTokenizerPool.create(tokenizerWorkers, { ...encoding, template: (o.template as TokenizeWorkerConfig['template']) ?? 'qwen-prm' })
          : undefined;
      return new OnnxPrmVerifier(o, tok, tagId, head, pool, C, encoding, tokenizers);
    } catch (e) {
      if (!o.pool) await pool.close({ drain: false });
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`${o.modelPath}: probe run failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The text the model reads for a prefix (occurrences of the tag inside the problem or steps are removed). */
  input(problem: number, steps: readonly string[]): string {
    return renderPrmInput(this.template, this.stepTag, this.problemText(problem), steps);
  }

  /** Tokenize a prefix on this thread and locate its step tags; truncate per the options. */
  encode(problem: number, steps: readonly string[]): EncodedPrefix {
    const e = encodePrmText(this.tokenizer, this.encoding, this.problemId(problem), this.input(problem, steps), steps.length);
    if (isEncodeFailure(e)) throw encodeError(e);
    return e;
  }

  /** Whether prefixes are tokenized in worker threads (and how many). */
  get tokenizerWorkers(): number {
    return this.tokenizers?.workers ?? 0;
  }

  /** Padded length of a sequence of `n` tokens. */
  paddedLength(n: number): number {
    const m = this.padMultiple;
    return Math.min(Math.max(m, Math.ceil(n / m) * m), Math.max(this.maxLength, n));
  }

  /**
   * P(step good) of every step of each prefix, from one forward pass per prefix (batched); NaN for a
   * step whose tag truncation cut. Also the tokens read per prefix.
   */
  stepValues(batch: ScoreRequestBatch<string>): Promise<{ values: Float64Array[]; tokens: Uint32Array }> {
    return this.track(this.run(batch));
  }

  /** stepValues, and which prefixes truncation cut. */
  private async run(batch: ScoreRequestBatch<string>): Promise<{ values: Float64Array[]; tokens: Uint32Array; truncated: boolean[] }> {
    if (batch.signal?.aborted) throw new PavError('the request was aborted', ErrorCodes.ABORTED, { cause: batch.signal.reason });
    const m = batch.problems.length;
    if (batch.prefixes.length !== m) throw new PavRangeError(`prefixes.length (${batch.prefixes.length}) != problems.length (${m})`, ErrorCodes.LENGTH_MISMATCH);
    const prefixes = prefixList(batch.prefixes);
    const values: Float64Array[] = new Array(m);
    const tokens = new Uint32Array(m);
    const truncated: boolean[] = new Array(m).fill(false);
    const enc = await this.encodeAll(batch.problems, prefixes, values, batch.signal);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < m; i++) {
      const e = enc[i];
      if (!e) continue;
      tokens[i] = e.ids.length;
      truncated[i] = e.truncated > 0;
      const L = this.paddedLength(e.ids.length);
      let g = groups.get(L);
      if (!g) groups.set(L, (g = []));
      g.push(i);
    }
    const pad = BigInt(this.opts.padTokenId ?? 0);
    await Promise.all(
      [...groups].map(async ([L, rows]) => {
        const ids = new BigInt64Array(rows.length * L).fill(pad);
        const mask = new BigInt64Array(rows.length * L);
        const ids32 = int64Words(ids), mask32 = int64Words(mask);
        rows.forEach((i, r) => {
          const e = enc[i]!.ids;
          for (let t = 0, k = 2 * r * L + LOW_WORD; t < e.length; t++, k += 2) {
            // Token ids are non-negative int32 and the pad's high word is 0: the low word is the value.
            ids32[k] = e[t];
            mask32[k] = 1;
          }
        });
        const out = await this.pool.run(ids, mask, rows.length, L, { signal: batch.signal });
        const C = out.length / (rows.length * L);
        if (C !== this.outputColumns)
          throw new BackendError(`${this.opts.modelPath}: output of ${out.length} values for [${rows.length}, ${L}] is not ${this.outputColumns} columns per position`, false);
        rows.forEach((i, r) => {
          const pos = enc[i]!.tagPositions;
          const v = new Float64Array(pos.length);
          for (let s = 0; s < pos.length; s++) v[s] = pos[s] < 0 ? NaN : this.probability(out, (r * L + pos[s]) * C, C);
          values[i] = v;
        });
      }),
    );
    return { values, tokens, truncated };
  }

  /**
   * Every non-empty prefix encoded (in the tokenizer workers when there are any); an empty one gets
   * no encoding and an empty row of `values`. The first failing prefix throws its typed error.
   */
  private async encodeAll(
    problems: Uint32Array,
    prefixes: PrefixList<string>,
    values: Float64Array[],
    signal: AbortSignal | undefined,
  ): Promise<(EncodedPrefix | undefined)[]> {
    const m = problems.length;
    const out: (EncodedPrefix | undefined)[] = new Array(m);
    const todo: number[] = [];
    const steps: (readonly string[])[] = new Array(m);
    const known = Array.isArray(this.opts.problems) ? this.opts.problems.length : Infinity;
    // Checked before any encoding: a non-string step would otherwise throw inside the template or
    // fail to cross to a tokenizer worker, and an empty prefix of a bad problem would get a value.
    for (let i = 0; i < m; i++) {
      if (!(problems[i] < known)) throw new PavRangeError(`problems[${i}] is ${problems[i]}, out of range [0, ${known})`, ErrorCodes.OUT_OF_RANGE);
      if (prefixes.lengthOf(i) === 0) {
        values[i] = new Float64Array(0);
        continue;
      }
      const s = (steps[i] = prefixes.at(i));
      for (let t = 0; t < s.length; t++)
        if (typeof s[t] !== 'string') throw new PavTypeError(`prefixes[${i}][${t}] must be a string, got ${describeType(s[t])}`);
      todo.push(i);
    }
    if (!this.tokenizers) {
      for (const i of todo) out[i] = this.encode(problems[i], steps[i]);
      return out;
    }
    const items = todo.map((i) => ({ problem: this.problemText(problems[i]), problemId: this.problemId(problems[i]), steps: steps[i] }));
    const encoded = await this.tokenizers.encode(items, signal);
    encoded.forEach((e, j) => {
      if (isEncodeFailure(e)) throw encodeError(e);
      out[todo[j]] = e;
    });
    return out;
  }

  scorePrefixes(batch: ScoreRequestBatch<string>): Promise<ScoreBatch> {
    return this.track(this.lastValues(batch));
  }

  private async lastValues(batch: ScoreRequestBatch<string>): Promise<ScoreBatch> {
    const { values: per, tokens } = await this.run(batch);
    const empty = this.opts.emptyPrefixValue ?? 0.5;
    const values = Float64Array.from(per, (v) => (v.length === 0 ? empty : v[v.length - 1]));
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i])) throw new BackendError(`${this.opts.modelPath}: non-finite value ${values[i]} for problem ${this.problemId(batch.problems[i])}`, false);
    return { values, tokens };
  }

  /**
   * Every step's value from one forward pass per prefix (PAV rerank reads each response once). In a
   * prefix that truncation cut, every step before the last is scored as its own shorter prefix, as
   * scorePrefixes would (those prefixes' tokens are added to the response's): a shorter prefix is cut
   * less or not at all, so even a tag that survived the full prefix's cut reads other logits there.
   * So every value is the one scorePrefixes gives.
   */
  scoreSteps(batch: ScoreRequestBatch<string>): Promise<StepScoreBatch> {
    return this.track(this.allSteps(batch));
  }

  private async allSteps(batch: ScoreRequestBatch<string>): Promise<StepScoreBatch> {
    const { values: per, tokens, truncated } = await this.run(batch);
    const cut: StepRef[] = [];
    per.forEach((v, row) => {
      if (truncated[row]) for (let step = 0; step < v.length - 1; step++) cut.push({ row, step });
    });
    if (cut.length > 0) {
      // Through the untracked path: this call is already tracked, and close() may have begun.
      const again = await scoreStepPrefixes({ name: this.name, readsPrefixLists: true, scorePrefixes: (b) => this.lastValues(b) }, batch, cut);
      cut.forEach((c, k) => {
        per[c.row][c.step] = again.values[k];
        tokens[c.row] += again.tokens[k];
      });
    }
    let total = 0;
    for (const v of per) total += v.length;
    const values = new Float64Array(total);
    for (let i = 0, o = 0; i < per.length; o += per[i].length, i++) values.set(per[i], o);
    return { values, tokens };
  }

  /**
   * Let the calls in flight finish (their encodes and model runs), then stop the tokenizer workers and
   * the pool; later calls get the pools' closed BackendError.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.tokenizers?.close();
    if (this.ownsPool) await this.pool.close();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private probability(out: Float32Array, base: number, C: number): number {
    const h = this.head;
    if (h.kind === 'lm') {
      const g = out[base + h.positive], b = out[base + h.negative];
      return 1 / (1 + Math.exp(b - g));
    }
    if (h.sigmoid) return 1 / (1 + Math.exp(-out[base + h.positive]));
    return softmaxAt(out, base, C, h.positive);
  }

  private problemId(p: number): string {
    const x = this.opts.problems[p];
    return x === undefined ? String(p) : typeof x === 'string' ? String(p) : x.id;
  }
}
