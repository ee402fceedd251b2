// The 'learned' toy verifier: a PRM fitted to collected (prefix, Q_hat) data (collect.ts, fit.ts),
// written as an ONNX file with a real PRM's signature and served by onnxruntime-node through the
// verifier pool. Also: the input encoding shared by fitting and serving, and the error report
// against the exact oracle (MAE, calibration table).
//
// Encoding (ours): input_ids = [target tokens padded to maxTarget | SEP | response canvas of maxLen
// slots]. The prefix is written most recent token first (canvas slot i holds prefix[len-1-i]), then
// FREE for each step the problem still allows (up to its maxLen), then PAD; attention_mask is 1 on
// everything but PAD. Newest-first puts the automaton state (how much of the target the prefix ends
// with) at fixed positions of the token-match features, and the FREE slots give the remaining
// budget; the value depends on exactly these two things.
import { readFileSync } from 'node:fs';
import { ConfigError, ErrorCodes, PavError, PavRangeError } from '../errors.ts';
import { decodeModel } from '../onnx/proto.ts';
import type { ScoreBatch, ScoreRequestBatch, VerifierBackend } from '../search/backends.ts';
import { prefixList, type Prefixes } from '../search/prefixes.ts';
import { packPrefixes } from './native.ts';
import { int64Words, LOW_WORD } from '../verifier/int64.ts';
import { createVerifierPool, type VerifierPool, type VerifierPoolOptions } from '../verifier/pool.ts';
import type { PlantedTask, ProblemTable } from './task.ts';

export interface ToyPrmEncoding {
  /** Task vocabulary V (tokens 0 .. V-1, V-1 the end token). */
  taskVocab: number;
  /** Target tokens are padded to this many positions. */
  maxTarget: number;
  /** Response canvas size: the largest maxLen served. */
  maxLen: number;
}

/** Special ids and sizes derived from an encoding. */
export function encodingLayout(e: ToyPrmEncoding) {
  const sep = e.taskVocab, free = e.taskVocab + 1, pad = e.taskVocab + 2;
  return { sep, free, pad, modelVocab: e.taskVocab + 3, seqLen: e.maxTarget + 1 + e.maxLen, prefixStart: e.maxTarget + 1 };
}

/** The smallest encoding that fits every task given. */
export function encodingFor(tasks: readonly PlantedTask[]): ToyPrmEncoding {
  if (!tasks.length) throw new PavRangeError('encodingFor needs at least one task');
  return {
    taskVocab: tasks[0].vocab,
    maxTarget: Math.max(...tasks.map((t) => t.target.length)),
    maxLen: Math.max(...tasks.map((t) => t.maxLen)),
  };
}

export function checkEncodingFits(e: ToyPrmEncoding, tasks: readonly PlantedTask[]): void {
  tasks.forEach((t, i) => {
    if (t.vocab !== e.taskVocab) throw new PavRangeError(`problem ${i} has vocab ${t.vocab}; the model was fitted for ${e.taskVocab}`);
    if (t.target.length > e.maxTarget) throw new PavRangeError(`problem ${i} has a target of ${t.target.length} tokens; the model takes at most ${e.maxTarget}`);
    if (t.maxLen > e.maxLen) throw new PavRangeError(`problem ${i} has maxLen ${t.maxLen}; the model takes at most ${e.maxLen}`);
  });
}

/** Encode one (task, prefix) into row `r` of ids/mask (number or bigint arrays of [rows, seqLen]). */
export function encodeRowInto(
  e: ToyPrmEncoding,
  task: PlantedTask,
  prefix: ArrayLike<number>,
  ids: Int32Array,
  mask: Uint8Array,
  r: number,
): void {
  const { sep, free, pad, seqLen, prefixStart } = encodingLayout(e);
  if (prefix.length > task.maxLen || prefix.length > e.maxLen)
    throw new PavRangeError(`a prefix of ${prefix.length} tokens is longer than its problem allows (${task.maxLen})`);
  const o = r * seqLen;
  for (let j = 0; j < e.maxTarget; j++) {
    const real = j < task.target.length;
    ids[o + j] = real ? task.target[j] : pad;
    mask[o + j] = real ? 1 : 0;
  }
  ids[o + e.maxTarget] = sep;
  mask[o + e.maxTarget] = 1;
  for (let i = 0; i < e.maxLen; i++) {
    let id = pad, m = 0;
    if (i < prefix.length) {
      id = prefix[prefix.length - 1 - i];
      if (!Number.isInteger(id) || id < 0 || id >= e.taskVocab)
        throw new PavRangeError(`prefix token ${prefix.length - 1 - i} is ${id}, expected a token in [0, ${e.taskVocab - 1}]`, ErrorCodes.OUT_OF_RANGE);
      m = 1;
    } else if (i < task.maxLen) {
      id = free;
      m = 1;
    }
    ids[o + prefixStart + i] = id;
    mask[o + prefixStart + i] = m;
  }
}

/** Encode a batch for the model: int64 [rows, seqLen] arrays (fresh buffers, ready to transfer). */
export function encodeBatch(
  e: ToyPrmEncoding,
  tasks: readonly PlantedTask[],
  problems: ArrayLike<number>,
  prefixes: Prefixes<number>,
): { ids: BigInt64Array; mask: BigInt64Array; rows: number; seqLen: number } {
  const { seqLen, prefixStart } = encodingLayout(e);
  const rows = prefixes.length;
  if (problems.length !== rows) throw new PavRangeError(`problems (${problems.length}) and prefixes (${rows}) differ in length`, ErrorCodes.LENGTH_MISMATCH);
  // Packed once (a search batch's children share their parents' steps; tokens checked here).
  const packed = packPrefixes(prefixes, e.taskVocab);
  // Written straight into the int64 tensors through 32-bit views (every value is a small
  // non-negative int, so high words stay 0): each row is its problem's empty-prefix row, copied,
  // with the prefix tokens written over the free slots. A row per BigInt, or encoding every row
  // from scratch, cost more than the model on the toy PRM.
  const ids = new BigInt64Array(rows * seqLen);
  const mask = new BigInt64Array(rows * seqLen);
  const ids32 = int64Words(ids);
  const mask32 = int64Words(mask);
  const templates = new Map<number, EmptyPrefixRow>();
  const tokens = packed.tokens;
  let lastProblem = -1;
  let t: EmptyPrefixRow | undefined;
  for (let r = 0; r < rows; r++) {
    const p = problems[r];
    // Rows come grouped by problem: look the template up only when the problem changes.
    if (p !== lastProblem) {
      t = templates.get(p);
      if (!t) {
        const task = tasks[p];
        if (!task) throw new PavRangeError(`problems[${r}] = ${p} is not in the table`);
        t = emptyPrefixRow(e, task);
        templates.set(p, t);
      }
      lastProblem = p;
    }
    const row = t!;
    const from = packed.offsets[r], to = packed.offsets[r + 1], len = to - from;
    if (len > row.task.maxLen || len > e.maxLen) throw new PavRangeError(`a prefix of ${len} tokens is longer than its problem allows (${row.task.maxLen})`);
    const o = 2 * r * seqLen + LOW_WORD;
    for (let k = 0; k < seqLen; k++) {
      ids32[o + 2 * k] = row.ids[k];
      mask32[o + 2 * k] = row.mask[k];
    }
    // Newest token first, as encodeRowInto lays a prefix out.
    for (let j = 0; j < len; j++) ids32[o + 2 * (prefixStart + j)] = tokens[to - 1 - j];
  }
  return { ids, mask, rows, seqLen };
}

interface EmptyPrefixRow {
  ids: Int32Array;
  mask: Uint8Array;
  task: PlantedTask;
}

/** A problem's row for the empty prefix (the template every row of that problem starts from). */
function emptyPrefixRow(e: ToyPrmEncoding, task: PlantedTask): EmptyPrefixRow {
  const { seqLen } = encodingLayout(e);
  const ids = new Int32Array(seqLen);
  const mask = new Uint8Array(seqLen);
  encodeRowInto(e, task, [], ids, mask, 0);
  return { ids, mask, task };
}

/** What fit.ts writes into the model's metadata (key TOY_PRM_METADATA_KEY), read back when serving. */
export interface ToyPrmMetadata {
  encoding: ToyPrmEncoding;
  /** The policy whose Q the labels estimate. */
  prover: { gamma: number };
  hidden: number;
  trainRows: number;
  matchFeatures: boolean;
}
export const TOY_PRM_METADATA_KEY = 'pavsearch.toy_prm';

export function readToyPrmMetadata(modelPath: string): ToyPrmMetadata {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modelPath);
  } catch (e) {
    throw new ConfigError(`cannot read ${modelPath}: ${(e as Error).message}`, { cause: e });
  }
  const m = decodeModel(bytes, modelPath);
  const entry = m.metadataProps?.find((p) => p.key === TOY_PRM_METADATA_KEY);
  if (!entry) throw new PavError(`${modelPath} has no ${TOY_PRM_METADATA_KEY} metadata: not a toy PRM written by fit.ts`, ErrorCodes.CONFIG);
  return JSON.parse(entry.value) as ToyPrmMetadata;
}

export interface LearnedVerifierOptions extends Omit<VerifierPoolOptions, 'modelPath'> {
  modelPath: string;
  /** Serve through an existing pool (not closed by close()); otherwise one is created. */
  pool?: VerifierPool;
}

/** Q^pi of each prefix as predicted by the fitted ONNX PRM, served by the worker pool. */
export class LearnedVerifier implements VerifierBackend<number> {
  readonly name: string;
  readonly readsPrefixLists = true;

  private constructor(
    readonly table: ProblemTable,
    readonly pool: VerifierPool,
    readonly metadata: ToyPrmMetadata,
    private readonly ownsPool: boolean,
  ) {
    this.name = `toy-learned(gamma=${metadata.prover.gamma})`;
  }

  static async create(table: ProblemTable, options: LearnedVerifierOptions): Promise<LearnedVerifier> {
    const meta = readToyPrmMetadata(options.modelPath);
    checkEncodingFits(meta.encoding, table.tasks);
    const pool = options.pool ?? (await createVerifierPool({ maxBatchRows: 4096, maxWaitMs: 1, ...options }));
    return new LearnedVerifier(table, pool, meta, !options.pool);
  }

  async scorePrefixes(batch: ScoreRequestBatch<number>): Promise<ScoreBatch> {
    if (batch.signal?.aborted) throw new PavError('the request was aborted', ErrorCodes.ABORTED, { cause: batch.signal.reason });
    const n = batch.prefixes.length;
    const prefixes = prefixList(batch.prefixes);
    const tokens = prefixes.lengths();
    if (n === 0) return { values: new Float64Array(0), tokens };
    const { ids, mask, rows, seqLen } = encodeBatch(this.metadata.encoding, this.table.tasks, batch.problems, prefixes);
    const out = await this.pool.run(ids, mask, rows, seqLen, { signal: batch.signal });
    return { values: Float64Array.from(out), tokens };
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }
}

// ---- error against the oracle ----

export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number;
  meanOracle: number;
}

export interface OracleErrorReport {
  n: number;
  mae: number;
  /** MAE of predicting one constant for every prefix: the oracle median (the best constant for MAE). */
  bestConstant: { value: number; mae: number };
  /** MAE of predicting the mean training label, when given. */
  trainMeanConstant?: { value: number; mae: number };
  calibration: CalibrationBin[];
}

/** MAE and a calibration table (bins of predicted value) of predictions against exact values. */
export function oracleErrorReport(predicted: ArrayLike<number>, oracle: ArrayLike<number>, opts: { bins?: number; trainMean?: number } = {}): OracleErrorReport {
  const n = predicted.length;
  if (oracle.length !== n) throw new PavRangeError('predicted and oracle differ in length', ErrorCodes.LENGTH_MISMATCH);
  if (n === 0) throw new PavRangeError('no predictions to report on');
  const bins = opts.bins ?? 10;
  const maeOf = (c: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(c - oracle[i]);
    return s / n;
  };
  let mae = 0;
  for (let i = 0; i < n; i++) mae += Math.abs(predicted[i] - oracle[i]);
  mae /= n;
  const sorted = Float64Array.from(oracle).sort();
  const median = sorted[Math.floor((n - 1) / 2)];
  const table: CalibrationBin[] = Array.from({ length: bins }, (_, b) => ({ lo: b / bins, hi: (b + 1) / bins, count: 0, meanPredicted: 0, meanOracle: 0 }));
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(predicted[i] * bins)));
    table[b].count++;
    table[b].meanPredicted += predicted[i];
    table[b].meanOracle += oracle[i];
  }
  for (const b of table) if (b.count) { b.meanPredicted /= b.count; b.meanOracle /= b.count; }
  return {
    n,
    mae,
    bestConstant: { value: median, mae: maeOf(median) },
    trainMeanConstant: opts.trainMean === undefined ? undefined : { value: opts.trainMean, mae: maeOf(opts.trainMean) },
    calibration: table,
  };
}

export function formatOracleErrorReport(r: OracleErrorReport): string {
  const lines = [
    `prefixes ${r.n}: MAE ${r.mae.toFixed(4)} vs best constant ${r.bestConstant.value.toFixed(4)} (MAE ${r.bestConstant.mae.toFixed(4)})` +
      (r.trainMeanConstant ? `, train-mean constant ${r.trainMeanConstant.value.toFixed(4)} (MAE ${r.trainMeanConstant.mae.toFixed(4)})` : ''),
    'predicted bin      count  mean predicted  mean oracle',
  ];
  for (const b of r.calibration)
    if (b.count) lines.push(`[${b.lo.toFixed(1)}, ${b.hi.toFixed(1)})`.padEnd(16) + String(b.count).padStart(8) + b.meanPredicted.toFixed(4).padStart(16) + b.meanOracle.toFixed(4).padStart(13));
  return lines.join('\n');
}

/**
 * Error of a toy verifier against the exact oracle on fresh data: every prefix of `n` new rollouts
 * of mu_gamma per problem (seeded apart from the collection's), scored by the verifier in one batch.
 */
export async function evaluateAgainstOracle(
  verifier: VerifierBackend<number>,
  table: ProblemTable,
  opts: { gamma: number; n?: number; seed?: number; bins?: number; trainMean?: number },
): Promise<OracleErrorReport> {
  const { sampleRollouts, rolloutArrays } = await import('./sampler.ts');
  const { valuePrefixes } = await import('./oracle.ts');
  const n = opts.n ?? 4;
  const all = Array.from({ length: table.size }, (_, i) => i);
  const rollouts = rolloutArrays(
    sampleRollouts(table, Uint32Array.from(all), all.map(() => []), { gamma: opts.gamma, n, seed: opts.seed ?? 0x5eed }),
  );
  const problems: number[] = [];
  const prefixes: number[][] = [];
  rollouts.forEach((r, k) => {
    for (let h = 0; h <= r.length; h++) {
      problems.push(Math.floor(k / n));
      prefixes.push(r.slice(0, h));
    }
  });
  const { values } = await verifier.scorePrefixes({ problems: Uint32Array.from(problems), prefixes });
  const oracle = valuePrefixes(table, problems, prefixes, { gamma: opts.gamma });
  return oracleErrorReport(values, oracle, { bins: opts.bins, trainMean: opts.trainMean });
}
