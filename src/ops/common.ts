// Shared argument handling of the op facades: typed-array checks, ragged-to-CSR packing, and
// device selection. Native code re-validates everything; these checks give earlier, JS-shaped errors.
import { backendInfo } from '../native/binding.ts';
import { ErrorCodes, PavError, PavRangeError, PavTypeError } from '../errors.ts';

export type FloatArray = Float32Array | Float64Array;
export type Device = 'cpu' | 'cuda' | 'auto';

export interface DeviceOptions {
  /** 'auto' (default) uses the GPU only when the batch is large enough to pay for the transfer. */
  device?: Device;
}

/** Batches below this many elements stay on the CPU under device 'auto' (host-device copies dominate). */
export const AUTO_GPU_MIN_ELEMENTS = 1 << 20;

/** Resolve 'auto' and refuse 'cuda' where no device exists, with a typed error. */
export function resolveDevice(device: Device | undefined, elements: number, minElements = AUTO_GPU_MIN_ELEMENTS): 'cpu' | 'cuda' {
  const d = device ?? 'auto';
  if (d !== 'cpu' && d !== 'cuda' && d !== 'auto')
    throw new PavTypeError(`device must be 'cpu', 'cuda' or 'auto', got ${JSON.stringify(device)}`);
  // Small 'auto' batches never go to the GPU: skip the device query on the hot path.
  if (d === 'cpu' || (d === 'auto' && elements < minElements)) return 'cpu';
  const { cuda } = backendInfo();
  if (d === 'cuda') {
    if (cuda.devices > 0) return 'cuda';
    const why = cuda.compiled ? (cuda.error ?? 'no CUDA device found') : 'the addon was built without CUDA';
    throw new PavError(`device 'cuda' was requested but no CUDA device is usable: ${why}`, ErrorCodes.NO_GPU);
  }
  return cuda.devices > 0 && elements >= minElements ? 'cuda' : 'cpu';
}

export function isFloatArray(v: unknown): v is FloatArray {
  return v instanceof Float32Array || v instanceof Float64Array;
}

export function requireFloatArray(name: string, v: unknown): FloatArray {
  if (!isFloatArray(v)) throw new PavTypeError(`${name} must be a Float32Array or Float64Array, got ${describeType(v)}`);
  return v;
}

export function requireUint32Array(name: string, v: unknown): Uint32Array {
  if (!(v instanceof Uint32Array)) throw new PavTypeError(`${name} must be a Uint32Array, got ${describeType(v)}`);
  return v;
}

export function requireBigUint64Array(name: string, v: unknown): BigUint64Array {
  if (!(v instanceof BigUint64Array)) throw new PavTypeError(`${name} must be a BigUint64Array, got ${describeType(v)}`);
  return v;
}

export function requireInteger(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw new PavTypeError(`${name} must be a number, got ${describeType(v)}`);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new PavRangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

/** An options or argument object (not null, not a primitive); returns it typed as T. */
export function requireObject<T extends object>(name: string, v: unknown): T {
  if (v === null || typeof v !== 'object') throw new PavTypeError(`${name} must be an object, got ${describeType(v)}`);
  return v as T;
}

export function requireFinite(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new PavTypeError(`${name} must be a number, got ${describeType(v)}`);
  if (!Number.isFinite(v)) throw new PavRangeError(`${name} is ${v}`, ErrorCodes.NON_FINITE);
  return v;
}

/** Pack ragged rows into one flat array plus CSR offsets (row i is [offsets[i], offsets[i+1])). */
export function packRagged(
  name: string,
  rows: readonly ArrayLike<number>[],
  kind: 'f32' | 'f64' = 'f64',
): { data: FloatArray; offsets: Uint32Array } {
  if (!Array.isArray(rows)) throw new PavTypeError(`${name} must be an array of rows, got ${describeType(rows)}`);
  const offsets = new Uint32Array(rows.length + 1);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r == null || typeof r.length !== 'number') throw new PavTypeError(`${name}[${i}] must be an array of numbers`);
    total += r.length;
    offsets[i + 1] = total;
  }
  const data = kind === 'f32' ? new Float32Array(total) : new Float64Array(total);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const base = offsets[i];
    for (let j = 0; j < r.length; j++) {
      const v = r[j];
      if (typeof v !== 'number') throw new PavTypeError(`${name}[${i}][${j}] must be a number, got ${describeType(v)}`);
      data[base + j] = v;
    }
  }
  return { data, offsets };
}

/** Offsets for equal-sized segments: n segments of `size` each. */
export function uniformOffsets(n: number, size: number): Uint32Array {
  const o = new Uint32Array(n + 1);
  for (let i = 1; i <= n; i++) o[i] = i * size;
  return o;
}

/** The longest delay a Node timer honours (2^31-1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay or deadline in milliseconds that a Node timer can hold: finite, in [0, MAX_TIMER_MS]. */
export function requireTimerMs(name: string, v: unknown): number {
  const ms = requireFinite(name, v);
  if (!(ms >= 0 && ms <= MAX_TIMER_MS)) throw new PavRangeError(`${name} must be in [0, ${MAX_TIMER_MS}], got ${ms}`);
  return ms;
}

/** What kind of value v is, for 'got ...' in error messages. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an Array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return typeof v;
}
