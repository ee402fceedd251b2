// Rewards on disk: JSONL (one header line, one line per trajectory) and a compact little-endian binary
// layout a Python trainer can numpy.memmap (docs/rl-binary-layout.md). Readers validate every size,
// offset and value and throw RewardsFormatError naming the field.
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCodes, PavRangeError, PavTypeError, type ErrorCode } from '../errors.ts';
import type { FloatArray } from '../ops/common.ts';
import type { RewardForm, Rewards } from './rewards.ts';

/** A malformed rewards file; `field` names the header field, array or JSONL key at fault. */
export class RewardsFormatError extends PavRangeError {
  readonly field: string;
  constructor(field: string, message: string, code: ErrorCode = ErrorCodes.INVALID_ARG) {
    super(`rewards file: ${field}: ${message}`, code);
    this.name = 'RewardsFormatError';
    this.field = field;
  }
}

export const REWARDS_MAGIC = 'PAVRWDS\0';
export const REWARDS_VERSION = 1;
export const REWARDS_HEADER_BYTES = 128;
/** Every array starts at a multiple of this many bytes (cache lines; any numpy dtype view is aligned). */
export const REWARDS_ALIGN = 64;

const DTYPE = { float32: 1, float64: 2 } as const;
const FORM: Record<RewardForm, number> = { outcome: 0, 'q-pi': 1 };
const FLAG_TOKENS = 1;
const FLAG_ADVANTAGES = 2;

/** Header field byte offsets (see docs/rl-binary-layout.md). */
export const HEADER = {
  magic: 0,
  version: 8,
  header_bytes: 12,
  dtype: 16,
  form: 20,
  flags: 24,
  K: 28,
  alpha: 32,
  num_trajectories: 40,
  num_steps: 48,
  num_tokens: 56,
  offsets_at: 64,
  outcomes_at: 72,
  step_weights_at: 80,
  advantages_at: 88,
  token_offsets_at: 96,
  token_weights_at: 104,
  file_bytes: 112,
  reserved: 120,
} as const;

const align = (n: number) => Math.ceil(n / REWARDS_ALIGN) * REWARDS_ALIGN;

function dtypeOf(a: FloatArray): 'float32' | 'float64' {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

/** Checks that the Rewards object is internally consistent before it is written. */
function checkRewards(r: Rewards): void {
  if (r === null || typeof r !== 'object') throw new PavTypeError('rewards must be a Rewards object');
  if (!(r.offsets instanceof Uint32Array)) throw new PavTypeError('rewards.offsets must be a Uint32Array');
  const kind = r.stepWeights?.constructor;
  for (const k of ['outcomes', 'stepWeights', 'advantages', 'tokenWeights'] as const) {
    const a = r[k];
    if (a === undefined && (k === 'advantages' || k === 'tokenWeights')) continue;
    if (!(a instanceof Float32Array || a instanceof Float64Array)) throw new PavTypeError(`rewards.${k} must be a Float32Array or Float64Array`);
    if (a.constructor !== kind) throw new PavTypeError(`rewards.${k} must be a ${kind!.name} like rewards.stepWeights`);
    // The readers refuse non-finite values: never write a file that cannot be read back.
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new PavRangeError(`rewards.${k}[${i}] is ${a[i]}`, ErrorCodes.NON_FINITE);
  }
  const T = r.offsets.length - 1;
  if (T < 0) throw new PavRangeError('rewards.offsets must have length T + 1', ErrorCodes.BAD_OFFSETS);
  checkOffsets('offsets', r.offsets, r.stepWeights.length, 'step_weights');
  if (r.outcomes.length !== T)
    throw new PavRangeError(`rewards.outcomes has length ${r.outcomes.length}, expected ${T}`, ErrorCodes.LENGTH_MISMATCH);
  if (r.advantages !== undefined && r.advantages.length !== r.stepWeights.length)
    throw new PavRangeError(`rewards.advantages has length ${r.advantages.length}, expected ${r.stepWeights.length}`, ErrorCodes.LENGTH_MISMATCH);
  if ((r.tokenOffsets === undefined) !== (r.tokenWeights === undefined))
    throw new PavTypeError('rewards.tokenOffsets and rewards.tokenWeights must be given together');
  if (r.tokenOffsets) {
    if (!(r.tokenOffsets instanceof Uint32Array)) throw new PavTypeError('rewards.tokenOffsets must be a Uint32Array');
    if (r.tokenOffsets.length !== r.stepWeights.length + 1)
      throw new PavRangeError(`rewards.tokenOffsets has length ${r.tokenOffsets.length}, expected ${r.stepWeights.length + 1}`, ErrorCodes.LENGTH_MISMATCH);
    checkOffsets('token_offsets', r.tokenOffsets, r.tokenWeights!.length, 'token_weights');
  }
  if (!Number.isFinite(r.alpha)) throw new PavRangeError(`rewards.alpha is ${r.alpha}`, ErrorCodes.NON_FINITE);
  if (!Number.isInteger(r.K) || r.K < 1 || r.K > 0xffffffff) throw new PavRangeError(`rewards.K must be an integer in [1, 2^32 - 1], got ${r.K}`);
  if (FORM[r.form] === undefined) throw new PavTypeError(`rewards.form must be 'outcome' or 'q-pi', got ${JSON.stringify(r.form)}`);
}

function checkOffsets(field: string, o: Uint32Array, total: number, of: string): void {
  if (o.length === 0 || o[0] !== 0) throw new RewardsFormatError(field, `${field}[0] must be 0`, ErrorCodes.BAD_OFFSETS);
  for (let i = 1; i < o.length; i++)
    if (o[i] < o[i - 1])
      throw new RewardsFormatError(field, `${field}[${i}] = ${o[i]} is less than ${field}[${i - 1}] = ${o[i - 1]}`, ErrorCodes.BAD_OFFSETS);
  if (o[o.length - 1] !== total)
    throw new RewardsFormatError(field, `${field}[${o.length - 1}] = ${o[o.length - 1]} but ${of} has ${total} entries`, ErrorCodes.BAD_OFFSETS);
}

function checkFinite(field: string, a: FloatArray): void {
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i])) throw new RewardsFormatError(field, `${field}[${i}] is ${a[i]}`, ErrorCodes.NON_FINITE);
}

// ------------------------------------------------------------------------------------------ binary

/** The binary layout of a Rewards object (little-endian; see docs/rl-binary-layout.md). */
export function encodeRewardsBinary(r: Rewards): Uint8Array {
  checkRewards(r);
  const T = r.offsets.length - 1;
  const S = r.stepWeights.length;
  const N = r.tokenWeights?.length ?? 0;
  const f = r.stepWeights.BYTES_PER_ELEMENT;
  const arrays: { name: keyof typeof HEADER; data: ArrayBufferView | undefined }[] = [
    { name: 'offsets_at', data: r.offsets },
    { name: 'outcomes_at', data: r.outcomes },
    { name: 'step_weights_at', data: r.stepWeights },
    { name: 'advantages_at', data: r.advantages },
    { name: 'token_offsets_at', data: r.tokenOffsets },
    { name: 'token_weights_at', data: r.tokenWeights },
  ];
  let at = REWARDS_HEADER_BYTES;
  const placed: { name: keyof typeof HEADER; at: number; data: ArrayBufferView }[] = [];
  for (const a of arrays) {
    if (a.data === undefined) continue;
    at = align(at);
    placed.push({ name: a.name, at, data: a.data });
    at += a.data.byteLength;
  }
  const fileBytes = at;
  const out = new Uint8Array(fileBytes);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[HEADER.magic + i] = REWARDS_MAGIC.charCodeAt(i);
  dv.setUint32(HEADER.version, REWARDS_VERSION, true);
  dv.setUint32(HEADER.header_bytes, REWARDS_HEADER_BYTES, true);
  dv.setUint32(HEADER.dtype, f === 4 ? DTYPE.float32 : DTYPE.float64, true);
  dv.setUint32(HEADER.form, FORM[r.form], true);
  dv.setUint32(HEADER.flags, (r.tokenOffsets ? FLAG_TOKENS : 0) | (r.advantages ? FLAG_ADVANTAGES : 0), true);
  dv.setUint32(HEADER.K, r.K, true);
  dv.setFloat64(HEADER.alpha, r.alpha, true);
  dv.setBigUint64(HEADER.num_trajectories, BigInt(T), true);
  dv.setBigUint64(HEADER.num_steps, BigInt(S), true);
  dv.setBigUint64(HEADER.num_tokens, BigInt(N), true);
  dv.setBigUint64(HEADER.file_bytes, BigInt(fileBytes), true);
  // Typed arrays are in host order; every platform Node supports is little-endian, and this checks it.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new PavRangeError('big-endian hosts are not supported');
  for (const p of placed) {
    dv.setBigUint64(HEADER[p.name], BigInt(p.at), true);
    out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), p.at);
  }
  return out;
}

function u64(dv: DataView, field: keyof typeof HEADER, max = 0xffffffff): number {
  const v = dv.getBigUint64(HEADER[field], true);
  if (v > BigInt(max)) throw new RewardsFormatError(field, `${field} = ${v} exceeds ${max}`, ErrorCodes.OUT_OF_RANGE);
  return Number(v);
}

// A view when the bytes are aligned for the element type (zero copy), else an aligned copy.
function arrayAt<T extends Uint32Array | Float32Array | Float64Array>(
  bytes: Uint8Array,
  Ctor: { new (b: ArrayBufferLike, off: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number },
  at: number,
  n: number,
): T {
  const off = bytes.byteOffset + at;
  if (off % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, off, n);
  const copy = new Ctor(n);
  new Uint8Array(copy.buffer).set(bytes.subarray(at, at + n * Ctor.BYTES_PER_ELEMENT));
  return copy;
}

/**
 * Parse and validate the binary layout. Arrays are views into `bytes` when aligned (keep the
 * buffer alive and unmodified), otherwise copies.
 * @throws RewardsFormatError naming the header field or array at fault
 */
export function decodeRewardsBinary(input: Uint8Array | ArrayBuffer): Rewards {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) throw new PavTypeError('input must be a Uint8Array, Buffer or ArrayBuffer');
  if (bytes.byteLength < REWARDS_HEADER_BYTES)
    throw new RewardsFormatError('header', `the file has ${bytes.byteLength} bytes, fewer than the ${REWARDS_HEADER_BYTES}-byte header`, ErrorCodes.LENGTH_MISMATCH);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== REWARDS_MAGIC) throw new RewardsFormatError('magic', `expected ${JSON.stringify(REWARDS_MAGIC)}, got ${JSON.stringify(magic)}`);
  const version = dv.getUint32(HEADER.version, true);
  if (version !== REWARDS_VERSION) throw new RewardsFormatError('version', `unsupported version ${version} (this reader reads ${REWARDS_VERSION})`);
  const headerBytes = dv.getUint32(HEADER.header_bytes, true);
  if (headerBytes !== REWARDS_HEADER_BYTES) throw new RewardsFormatError('header_bytes', `expected ${REWARDS_HEADER_BYTES}, got ${headerBytes}`);
  const dtype = dv.getUint32(HEADER.dtype, true);
  if (dtype !== DTYPE.float32 && dtype !== DTYPE.float64) throw new RewardsFormatError('dtype', `expected 1 (float32) or 2 (float64), got ${dtype}`);
  const formCode = dv.getUint32(HEADER.form, true);
  const form = (Object.keys(FORM) as RewardForm[]).find((k) => FORM[k] === formCode);
  if (form === undefined) throw new RewardsFormatError('form', `expected 0 (outcome) or 1 (q-pi), got ${formCode}`);
  const flags = dv.getUint32(HEADER.flags, true);
  if ((flags & ~(FLAG_TOKENS | FLAG_ADVANTAGES)) !== 0) throw new RewardsFormatError('flags', `unknown bits set in ${flags}`);
  const K = dv.getUint32(HEADER.K, true);
  if (K < 1) throw new RewardsFormatError('K', `must be >= 1, got ${K}`);
  const alpha = dv.getFloat64(HEADER.alpha, true);
  if (!Number.isFinite(alpha)) throw new RewardsFormatError('alpha', `is ${alpha}`, ErrorCodes.NON_FINITE);
  const T = u64(dv, 'num_trajectories', 0xfffffffe);
  const S = u64(dv, 'num_steps', 0xfffffffe);
  const N = u64(dv, 'num_tokens');
  const fileBytes = u64(dv, 'file_bytes', Number.MAX_SAFE_INTEGER);
  if (fileBytes !== bytes.byteLength)
    throw new RewardsFormatError('file_bytes', `header says ${fileBytes} bytes but the file has ${bytes.byteLength} (truncated or padded?)`, ErrorCodes.LENGTH_MISMATCH);
  if (dv.getBigUint64(HEADER.reserved, true) !== 0n) throw new RewardsFormatError('reserved', 'must be 0');
  const hasTokens = (flags & FLAG_TOKENS) !== 0;
  const hasAdv = (flags & FLAG_ADVANTAGES) !== 0;
  if (!hasTokens && N !== 0) throw new RewardsFormatError('num_tokens', `is ${N} but flags say there are no token arrays`);
  const F = dtype === DTYPE.float32 ? Float32Array : Float64Array;
  const fb = F.BYTES_PER_ELEMENT;
  const layout: { field: keyof typeof HEADER; present: boolean; bytes: number }[] = [
    { field: 'offsets_at', present: true, bytes: 4 * (T + 1) },
    { field: 'outcomes_at', present: true, bytes: fb * T },
    { field: 'step_weights_at', present: true, bytes: fb * S },
    { field: 'advantages_at', present: hasAdv, bytes: fb * S },
    { field: 'token_offsets_at', present: hasTokens, bytes: 4 * (S + 1) },
    { field: 'token_weights_at', present: hasTokens, bytes: fb * N },
  ];
  const at: Partial<Record<keyof typeof HEADER, number>> = {};
  let end = REWARDS_HEADER_BYTES;
  for (const a of layout) {
    const p = u64(dv, a.field, Number.MAX_SAFE_INTEGER);
    if (!a.present) {
      if (p !== 0) throw new RewardsFormatError(a.field, `is ${p} but flags say the array is absent (expected 0)`);
      continue;
    }
    if (p % 8 !== 0) throw new RewardsFormatError(a.field, `${p} is not a multiple of 8`, ErrorCodes.OUT_OF_RANGE);
    if (p < end) throw new RewardsFormatError(a.field, `${p} overlaps the header or the previous array (which ends at ${end})`, ErrorCodes.OUT_OF_RANGE);
    if (p + a.bytes > bytes.byteLength)
      throw new RewardsFormatError(a.field, `the array needs bytes [${p}, ${p + a.bytes}) but the file has ${bytes.byteLength}`, ErrorCodes.LENGTH_MISMATCH);
    at[a.field] = p;
    end = p + a.bytes;
  }
  const offsets = arrayAt(bytes, Uint32Array, at.offsets_at!, T + 1);
  checkOffsets('offsets', offsets, S, 'num_steps');
  const outcomes = arrayAt(bytes, F as typeof Float64Array, at.outcomes_at!, T);
  checkFinite('outcomes', outcomes);
  const stepWeights = arrayAt(bytes, F as typeof Float64Array, at.step_weights_at!, S);
  checkFinite('step_weights', stepWeights);
  const r: Rewards = { form, alpha, K, offsets, outcomes, stepWeights };
  if (hasAdv) {
    r.advantages = arrayAt(bytes, F as typeof Float64Array, at.advantages_at!, S);
    checkFinite('advantages', r.advantages);
  }
  if (hasTokens) {
    r.tokenOffsets = arrayAt(bytes, Uint32Array, at.token_offsets_at!, S + 1);
    checkOffsets('token_offsets', r.tokenOffsets, N, 'num_tokens');
    r.tokenWeights = arrayAt(bytes, F as typeof Float64Array, at.token_weights_at!, N);
    checkFinite('token_weights', r.tokenWeights);
  }
  return r;
}

// ------------------------------------------------------------------------------------------ JSONL

interface JsonlHeader {
  format: 'pavsearch-rewards';
  version: number;
  form: RewardForm;
  alpha: number;
  K: number;
  dtype: 'float32' | 'float64';
  trajectories: number;
}

interface JsonlTrajectory {
  outcome: number;
  stepWeights: number[];
  advantages?: number[];
  /** Tokens per step; present with tokenWeights. */
  stepTokens?: number[];
  tokenWeights?: number[];
}

/**
 * JSONL: a header line {format, version, form, alpha, K, dtype, trajectories}, then one line per
 * trajectory {outcome, stepWeights, advantages?, stepTokens?, tokenWeights?}. Float32 values are
 * written as the doubles they equal, so a round trip is exact.
 */
export function encodeRewardsJsonl(r: Rewards): string {
  checkRewards(r);
  const T = r.offsets.length - 1;
  const header: JsonlHeader = {
    format: 'pavsearch-rewards',
    version: REWARDS_VERSION,
    form: r.form,
    alpha: r.alpha,
    K: r.K,
    dtype: dtypeOf(r.stepWeights),
    trajectories: T,
  };
  const lines = [JSON.stringify(header)];
  for (let t = 0; t < T; t++) {
    const a = r.offsets[t];
    const b = r.offsets[t + 1];
    const line: JsonlTrajectory = { outcome: r.outcomes[t], stepWeights: Array.from(r.stepWeights.subarray(a, b)) };
    if (r.advantages) line.advantages = Array.from(r.advantages.subarray(a, b));
    if (r.tokenOffsets && r.tokenWeights) {
      line.stepTokens = Array.from({ length: b - a }, (_, i) => r.tokenOffsets![a + i + 1] - r.tokenOffsets![a + i]);
      line.tokenWeights = Array.from(r.tokenWeights.subarray(r.tokenOffsets[a], r.tokenOffsets[b]));
    }
    lines.push(JSON.stringify(line));
  }
  return lines.join('\n') + '\n';
}

// A float32 file stores Math.fround(x): a finite double beyond float32's range would come back as Infinity.
function fitsDtype(x: number, dtype: 'float32' | 'float64'): boolean {
  return dtype === 'float64' || Number.isFinite(Math.fround(x));
}

function numArray(where: string, v: unknown, as: 'float32' | 'float64' | 'count'): number[] {
  if (!Array.isArray(v)) throw new RewardsFormatError(where, 'must be an array of numbers');
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new RewardsFormatError(where, `[${i}] is ${JSON.stringify(x)}, not a finite number`, ErrorCodes.NON_FINITE);
    if (as === 'count' && (!Number.isInteger(x) || x < 0 || x > 0xffffffff)) throw new RewardsFormatError(where, `[${i}] = ${x} is not a token count`);
    if (as !== 'count' && !fitsDtype(x, as)) throw new RewardsFormatError(where, `[${i}] = ${x} is outside the finite range of ${as}`, ErrorCodes.OUT_OF_RANGE);
  });
  return v as number[];
}

/**
 * Parse and validate the JSONL form.
 * @throws RewardsFormatError naming the line and key at fault ("line 3 stepTokens")
 */
export function decodeRewardsJsonl(text: string): Rewards {
  if (typeof text !== 'string') throw new PavTypeError('text must be a string');
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new RewardsFormatError('header', 'the file is empty');
  const parse = (i: number): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(lines[i]);
    } catch (e) {
      throw new RewardsFormatError(`line ${i + 1}`, `not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RewardsFormatError(`line ${i + 1}`, 'must be a JSON object');
    return v as Record<string, unknown>;
  };
  const h = parse(0);
  if (h.format !== 'pavsearch-rewards') throw new RewardsFormatError('header.format', `expected "pavsearch-rewards", got ${JSON.stringify(h.format)}`);
  if (h.version !== REWARDS_VERSION) throw new RewardsFormatError('header.version', `unsupported version ${JSON.stringify(h.version)}`);
  if (h.form !== 'outcome' && h.form !== 'q-pi') throw new RewardsFormatError('header.form', `expected "outcome" or "q-pi", got ${JSON.stringify(h.form)}`);
  if (typeof h.alpha !== 'number' || !Number.isFinite(h.alpha)) throw new RewardsFormatError('header.alpha', `must be a finite number, got ${JSON.stringify(h.alpha)}`);
  if (typeof h.K !== 'number' || !Number.isInteger(h.K) || h.K < 1) throw new RewardsFormatError('header.K', `must be an integer >= 1, got ${JSON.stringify(h.K)}`);
  if (h.dtype !== 'float32' && h.dtype !== 'float64') throw new RewardsFormatError('header.dtype', `expected "float32" or "float64", got ${JSON.stringify(h.dtype)}`);
  const T = h.trajectories;
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 0) throw new RewardsFormatError('header.trajectories', `must be a count, got ${JSON.stringify(T)}`);
  if (lines.length - 1 !== T)
    throw new RewardsFormatError('header.trajectories', `says ${T} but the file has ${lines.length - 1} trajectory lines`, ErrorCodes.LENGTH_MISMATCH);
  const rows: JsonlTrajectory[] = [];
  let hasAdv: boolean | undefined;
  let hasTok: boolean | undefined;
  for (let t = 0; t < T; t++) {
    const where = `line ${t + 2}`;
    const o = parse(t + 1);
    if (typeof o.outcome !== 'number' || !Number.isFinite(o.outcome))
      throw new RewardsFormatError(`${where} outcome`, `must be a finite number, got ${JSON.stringify(o.outcome)}`);
    if (!fitsDtype(o.outcome, h.dtype))
      throw new RewardsFormatError(`${where} outcome`, `${o.outcome} is outside the finite range of ${h.dtype}`, ErrorCodes.OUT_OF_RANGE);
    const sw = numArray(`${where} stepWeights`, o.stepWeights, h.dtype);
    const row: JsonlTrajectory = { outcome: o.outcome, stepWeights: sw };
    const adv = o.advantages !== undefined;
    const tok = o.stepTokens !== undefined || o.tokenWeights !== undefined;
    if (hasAdv === undefined) hasAdv = adv;
    else if (hasAdv !== adv) throw new RewardsFormatError(`${where} advantages`, `present on some lines and not others`);
    if (hasTok === undefined) hasTok = tok;
    else if (hasTok !== tok) throw new RewardsFormatError(`${where} stepTokens`, `present on some lines and not others`);
    if (adv) {
      row.advantages = numArray(`${where} advantages`, o.advantages, h.dtype);
      if (row.advantages.length !== sw.length)
        throw new RewardsFormatError(`${where} advantages`, `has ${row.advantages.length} entries but stepWeights has ${sw.length}`, ErrorCodes.LENGTH_MISMATCH);
    }
    if (tok) {
      row.stepTokens = numArray(`${where} stepTokens`, o.stepTokens, 'count');
      row.tokenWeights = numArray(`${where} tokenWeights`, o.tokenWeights, h.dtype);
      if (row.stepTokens.length !== sw.length)
        throw new RewardsFormatError(`${where} stepTokens`, `has ${row.stepTokens.length} entries but stepWeights has ${sw.length}`, ErrorCodes.LENGTH_MISMATCH);
      const n = row.stepTokens.reduce((a, b) => a + b, 0);
      if (row.tokenWeights.length !== n)
        throw new RewardsFormatError(`${where} tokenWeights`, `has ${row.tokenWeights.length} entries but stepTokens sum to ${n}`, ErrorCodes.LENGTH_MISMATCH);
    }
    rows.push(row);
  }
  const F = h.dtype === 'float32' ? Float32Array : Float64Array;
  const offsets = new Uint32Array(T + 1);
  rows.forEach((r, t) => (offsets[t + 1] = offsets[t] + r.stepWeights.length));
  const S = offsets[T];
  const out: Rewards = {
    form: h.form,
    alpha: h.alpha,
    K: h.K,
    offsets,
    outcomes: F.from(rows.map((r) => r.outcome)),
    stepWeights: F.from(rows.flatMap((r) => r.stepWeights)),
  };
  if (hasAdv) out.advantages = F.from(rows.flatMap((r) => r.advantages!));
  if (hasTok) {
    const tokenOffsets = new Uint32Array(S + 1);
    let s = 0;
    for (const r of rows) for (const n of r.stepTokens!) (tokenOffsets[s + 1] = tokenOffsets[s] + n), s++;
    out.tokenOffsets = tokenOffsets;
    out.tokenWeights = F.from(rows.flatMap((r) => r.tokenWeights!));
  }
  return out;
}

// ------------------------------------------------------------------------------------------ files

export type RewardsFileFormat = 'jsonl' | 'binary';

function formatOf(path: string, format?: RewardsFileFormat): RewardsFileFormat {
  if (format === 'jsonl' || format === 'binary') return format;
  if (format !== undefined) throw new PavTypeError(`format must be 'jsonl' or 'binary', got ${JSON.stringify(format)}`);
  return path.endsWith('.jsonl') ? 'jsonl' : 'binary';
}

/** Write rewards to a file; the format defaults to JSONL for `*.jsonl`, else binary. */
export async function writeRewardsFile(path: string, r: Rewards, format?: RewardsFileFormat): Promise<void> {
  const f = formatOf(path, format);
  await writeFile(path, f === 'jsonl' ? encodeRewardsJsonl(r) : encodeRewardsBinary(r));
}

/** Read rewards from a file; the format defaults to JSONL for `*.jsonl`, else binary. */
export async function readRewardsFile(path: string, format?: RewardsFileFormat): Promise<Rewards> {
  const f = formatOf(path, format);
  if (f === 'jsonl') return decodeRewardsJsonl(await readFile(path, 'utf8'));
  return decodeRewardsBinary(await readFile(path));
}
