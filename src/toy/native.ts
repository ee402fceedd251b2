// The toy task's slice of the native surface, and the packing of prefixes and problem indices into
// the flat arrays it reads. The facades (oracle.ts, sampler.ts) make one native call per operation.
import { addon } from '../native/binding.ts';
import { ErrorCodes, PavRangeError, PavTypeError } from '../errors.ts';
import { requireInteger } from '../ops/common.ts';
import { PrefixList } from '../search/prefixes.ts';
import type { NativeProblemTable, ProblemTable } from './task.ts';

/** Token ids as they cross the boundary: bytes while the vocabulary fits, else Int32. */
export type TokenArray = Uint8Array | Int32Array;

/** Prefixes already packed: prefix i is tokens[offsets[i] .. offsets[i+1]). */
export interface PackedPrefixes {
  tokens: TokenArray;
  offsets: Uint32Array;
}

/** Prefixes as plain arrays, a search batch's PrefixList, or already packed. */
export type PrefixInput = readonly (readonly number[] | ArrayLike<number>)[] | PrefixList<number> | PackedPrefixes;

/** Problem index per prefix. A single number applies to every prefix. */
export type ProblemsInput = Uint32Array | readonly number[] | number;

export interface NativeBatch extends NativeProblemTable {
  problems: Uint32Array;
  tokens: TokenArray;
  offsets: Uint32Array;
}

export interface NativeSampleArgs extends NativeBatch {
  gamma?: number;
  n?: number;
  seed?: number;
  streams?: Uint32Array;
  threads?: number;
}

export interface NativeSteps {
  tokens: TokenArray;
  finished: Uint8Array;
}

export interface NativeRollouts {
  /** Worst-case sized; the used part is tokens[0 .. offsets[last]). */
  tokens: TokenArray;
  offsets: Uint32Array;
  success: Uint8Array;
}

export interface ToyBinding {
  toyValuePrefixes(o: NativeBatch & { gamma?: number; K?: number; threads?: number; async?: false }): Float64Array;
  toyValuePrefixes(o: NativeBatch & { gamma?: number; K?: number; threads?: number; async: true }): Promise<Float64Array>;
  toyPrefixStates(o: NativeBatch): { state: Uint32Array; solved: Uint8Array; finished: Uint8Array };
  toySampleSteps(o: NativeSampleArgs & { async?: false }): NativeSteps;
  toySampleSteps(o: NativeSampleArgs & { async: true }): Promise<NativeSteps>;
  toySampleRollouts(o: NativeSampleArgs & { async?: false }): NativeRollouts;
  toySampleRollouts(o: NativeSampleArgs & { async: true }): Promise<NativeRollouts>;
}

export function toyAddon(): ToyBinding {
  return addon<ToyBinding>();
}

function isPacked(p: PrefixInput): p is PackedPrefixes {
  return !Array.isArray(p) && typeof p === 'object' && p !== null && 'tokens' in p && 'offsets' in p;
}

/**
 * Pack prefixes for a table's vocabulary (Uint8Array while vocab <= 256). Plain arrays are checked
 * here, with the prefix and position in the message, because a typed array would silently wrap a bad id.
 */
export function packPrefixes(prefixes: PrefixInput, vocab: number): PackedPrefixes {
  if (isPacked(prefixes)) {
    if (!(prefixes.tokens instanceof Uint8Array || prefixes.tokens instanceof Int32Array))
      throw new PavTypeError('prefixes.tokens must be a Uint8Array or Int32Array');
    if (!(prefixes.offsets instanceof Uint32Array)) throw new PavTypeError('prefixes.offsets must be a Uint32Array');
    // The prefix count is offsets.length - 1; the native side checks the offsets themselves.
    if (prefixes.offsets.length < 1)
      throw new PavRangeError('prefixes.offsets must have one entry more than there are prefixes (at least [0])', ErrorCodes.BAD_OFFSETS);
    return prefixes;
  }
  if (prefixes instanceof PrefixList) return packPrefixList(prefixes, vocab);
  if (!Array.isArray(prefixes)) throw new PavTypeError('prefixes must be an array of token arrays or { tokens, offsets }');
  const offsets = new Uint32Array(prefixes.length + 1);
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i];
    if (p == null || typeof p.length !== 'number') throw new PavTypeError(`prefixes[${i}] must be an array of token ids`);
    offsets[i + 1] = offsets[i] + p.length;
  }
  const tokens = vocab <= 256 ? new Uint8Array(offsets[prefixes.length]) : new Int32Array(offsets[prefixes.length]);
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i];
    const base = offsets[i];
    for (let j = 0; j < p.length; j++) {
      const t = p[j];
      if (typeof t !== 'number') throw new PavTypeError(`prefixes[${i}][${j}] must be a number, got ${typeof t}`);
      if (!Number.isInteger(t) || t < 0 || t >= vocab)
        throw new PavRangeError(`prefixes[${i}][${j}] is ${t}, expected a token in [0, ${vocab - 1}]`, ErrorCodes.OUT_OF_RANGE);
      tokens[base + j] = t;
    }
  }
  return { tokens, offsets };
}

function badToken(where: string, t: unknown, vocab: number): Error {
  if (typeof t !== 'number') return new PavTypeError(`${where} must be a number, got ${typeof t}`);
  return new PavRangeError(`${where} is ${t}, expected a token in [0, ${vocab - 1}]`, ErrorCodes.OUT_OF_RANGE);
}

/**
 * Pack a PrefixList (the engine's per-child hot path): each prefix is read in place through
 * copySteps (tree bases are walked, not materialised) into one reused scratch array, checked and
 * written. The scratch keeps a bad step's type for the error (a typed array would coerce it).
 */
function packPrefixList(list: PrefixList<number>, vocab: number): PackedPrefixes {
  const n = list.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + list.lengthOf(i);
  const tokens = vocab <= 256 ? new Uint8Array(offsets[n]) : new Int32Array(offsets[n]);
  const scratch = packScratch;
  for (let i = 0; i < n; i++) {
    const len = list.copySteps(i, scratch, 0);
    const o = offsets[i];
    for (let j = 0; j < len; j++) {
      const t = scratch[j];
      // (t >>> 0) === t holds only for integers in [0, 2^32): one test for type, integrality and sign.
      if (!(t >>> 0 === t && t < vocab)) throw badToken(`prefixes[${i}][${j}]`, t, vocab);
      tokens[o + j] = t;
    }
  }
  return { tokens, offsets };
}
const packScratch: number[] = [];

/** Problem index per prefix as a Uint32Array (a number broadcasts). */
export function packProblems(problems: ProblemsInput, count: number): Uint32Array {
  if (typeof problems === 'number') {
    requireInteger('problems', problems, 0, 2 ** 32 - 1);
    return new Uint32Array(count).fill(problems);
  }
  if (problems instanceof Uint32Array) return problems;
  if (!Array.isArray(problems)) throw new PavTypeError('problems must be a Uint32Array, an array of indices or one index');
  const out = new Uint32Array(problems.length);
  problems.forEach((p, i) => (out[i] = requireInteger(`problems[${i}]`, p, 0, 2 ** 32 - 1)));
  return out;
}

/** One batch in native form. */
export function nativeBatch(table: ProblemTable, problems: ProblemsInput, prefixes: PrefixInput): NativeBatch {
  const packed = packPrefixes(prefixes, table.vocab);
  const count = packed.offsets.length - 1;
  return { ...table.native, problems: packProblems(problems, count), tokens: packed.tokens, offsets: packed.offsets };
}
