// Piscina worker: one onnxruntime InferenceSession per worker thread, created on the first task from
// the pool's workerData. session.run() blocks its thread, which is why inference lives here.
import * as ort from 'onnxruntime-node';
import Piscina from 'piscina';
import { int64Words, LOW_WORD } from './int64.ts';

export interface WorkerConfig {
  /** Path of the .onnx file, or its bytes (copied into each worker). */
  model: string | Uint8Array;
  intraOpThreads: number;
  executionProviders: readonly string[];
  /** [ids input name, mask input name]; a model with one input gets only the ids. */
  inputNames: readonly [string, string];
  /** Output to return; default: the model's first output. */
  outputName?: string;
  /** Keep only these columns of the output's last axis (reduced here, before the transfer). */
  outputColumns?: readonly number[];
}

export interface InitResult {
  inputNames: string[];
  outputNames: string[];
  /** Providers the session actually uses. */
  providers: string[];
  /** Set when a requested provider could not be used and the session fell back to CPU. */
  fallback?: string;
  threadId: number;
}

export type WorkerTask =
  | { kind: 'init' }
  | { kind: 'run'; ids: BigInt64Array; mask: BigInt64Array; batch: number; seqLen: number }
  | { kind: 'fail'; message: string }; // test hook: makes this task throw inside the worker

let session: ort.InferenceSession | undefined;
let init: Promise<InitResult> | undefined;
let outputName = '';
let useMask = true;
/** Inputs the model has besides ids and mask, each computed from the mask. */
let derived: string[] = [];

/**
 * Inputs Hugging Face exports often add (optimum's text-generation and classification exports), made
 * from the attention mask so such models load as exported: positions count real tokens, as
 * transformers does for padded batches (cumsum(mask) - 1, 0 at padding); token types are all 0.
 */
const DERIVED_INPUTS: Record<string, (mask: BigInt64Array, batch: number, seqLen: number) => BigInt64Array> = {
  position_ids(mask, batch, seqLen) {
    const out = new BigInt64Array(batch * seqLen);
    // Through 32-bit views: a BigInt per element would cost more than the rest of the task's JS.
    const o32 = int64Words(out), m32 = int64Words(mask);
    for (let b = 0; b < batch; b++) {
      let pos = -1;
      for (let t = 0; t < seqLen; t++) {
        const i = b * seqLen + t;
        const real = m32[2 * i] !== 0 || m32[2 * i + 1] !== 0;
        if (real) pos++;
        o32[2 * i + LOW_WORD] = real && pos > 0 ? pos : 0;
      }
    }
    return out;
  },
  token_type_ids: (_mask, batch, seqLen) => new BigInt64Array(batch * seqLen),
};

async function createSession(cfg: WorkerConfig): Promise<InitResult> {
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: cfg.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const eps = cfg.executionProviders.length ? cfg.executionProviders : ['cpu'];
  let fallback: string | undefined;
  let providers = [...eps];
  const create = (o: ort.InferenceSession.SessionOptions) =>
    typeof cfg.model === 'string' ? ort.InferenceSession.create(cfg.model, o) : ort.InferenceSession.create(cfg.model, o);
  // onnxruntime logs a failed provider library load itself (once per worker) before throwing; the pool
  // reports the fallback once instead. The env log level is read when the first session is created.
  if (!eps.every((e) => e === 'cpu')) ort.env.logLevel = 'fatal';
  try {
    // Silence onnxruntime's own log of the failed provider load: the pool reports it once.
    session = await create({ ...base, executionProviders: eps as string[], logSeverityLevel: eps.every((e) => e === 'cpu') ? 2 : 4 });
  } catch (e) {
    // This onnxruntime-node install bundles only the CPU provider; asking for ['cuda','cpu'] throws
    // rather than falling back, so retry on CPU and report it (the pool warns once).
    if (eps.length === 1 && eps[0] === 'cpu') throw e;
    fallback = `execution providers [${eps.join(', ')}] unavailable (${(e as Error).message.split('\n')[0]}); using cpu`;
    providers = ['cpu'];
    session = await create({ ...base, executionProviders: ['cpu'] });
  }
  const names = session.inputNames;
  if (!names.includes(cfg.inputNames[0]))
    throw new Error(`model has no input named ${cfg.inputNames[0]} (inputs: ${names.join(', ')})`);
  useMask = names.includes(cfg.inputNames[1]);
  derived = names.filter((n) => n !== cfg.inputNames[0] && n !== cfg.inputNames[1]);
  const unknown = derived.filter((n) => !(n in DERIVED_INPUTS));
  if (unknown.length > 0)
    throw new Error(
      `model inputs [${names.join(', ')}] include ones the pool does not feed: ${unknown.join(', ')} ` +
        `(it feeds ${cfg.inputNames.join(', ')} and derives ${Object.keys(DERIVED_INPUTS).join(', ')})`,
    );
  outputName = cfg.outputName ?? session.outputNames[0];
  if (!session.outputNames.includes(outputName))
    throw new Error(`model has no output named ${outputName} (outputs: ${session.outputNames.join(', ')})`);
  const { threadId } = await import('node:worker_threads');
  return { inputNames: [...names], outputNames: [...session.outputNames], providers, fallback, threadId };
}

export default async function handle(task: WorkerTask): Promise<InitResult | Float32Array> {
  if (!init) init = createSession(Piscina.workerData as WorkerConfig);
  const info = await init;
  if (task.kind === 'init') return info;
  if (task.kind === 'fail') throw new Error(task.message);
  const { ids, mask, batch, seqLen } = task;
  const feeds: Record<string, ort.Tensor> = { [(Piscina.workerData as WorkerConfig).inputNames[0]]: new ort.Tensor('int64', ids, [batch, seqLen]) };
  if (useMask) feeds[(Piscina.workerData as WorkerConfig).inputNames[1]] = new ort.Tensor('int64', mask, [batch, seqLen]);
  for (const name of derived) feeds[name] = new ort.Tensor('int64', DERIVED_INPUTS[name](mask, batch, seqLen), [batch, seqLen]);
  const out = await session!.run(feeds, [outputName]);
  const t = out[outputName];
  if (t.type !== 'float32') throw new Error(`output ${outputName} is ${t.type}, expected float32`);
  // A rank-3 output is read as per-token [batch, seq, C]: a [batch, C, seq] one has the same size
  // and would be read as silently wrong logits.
  if (t.dims.length === 3 && (t.dims[0] !== batch || t.dims[1] !== seqLen))
    throw new Error(`output ${outputName} has dims [${t.dims.join(', ')}] for a [${batch}, ${seqLen}] input; expected per-token logits [batch, seq, C] = [${batch}, ${seqLen}, C]`);
  let data = t.data as Float32Array;
  const cols = (Piscina.workerData as WorkerConfig).outputColumns;
  if (cols) data = selectColumns(data, t.dims, cols);
  // Hand the buffer back without a copy when it is ours alone.
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (Piscina.move(data) as unknown as Float32Array) : data;
}

/**
 * The given columns of the last axis of an output, per position: an LM head's logits are
 * [batch, seq, vocabulary], and a PRM reads two of those columns, so moving the whole tensor to the
 * main thread would cost gigabytes per batch for nothing.
 */
function selectColumns(data: Float32Array, dims: readonly number[], cols: readonly number[]): Float32Array {
  const C = dims[dims.length - 1];
  const bad = cols.filter((c) => c >= C);
  if (bad.length > 0)
    throw new Error(`outputColumns asks for column(s) ${bad.join(', ')}, but output ${outputName} has ${C} columns per position (dims [${dims.join(', ')}])`);
  const k = cols.length;
  const positions = data.length / C;
  const out = new Float32Array(positions * k);
  for (let p = 0; p < positions; p++) for (let j = 0; j < k; j++) out[p * k + j] = data[p * C + cols[j]];
  return out;
}
