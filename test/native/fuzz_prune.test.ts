// Fuzzing selectTopK with thousands of seeded malformed inputs, at the raw binding and through the
// facade: every call either returns exactly the reference result (the input was valid after all)
// or throws a TypeError / RangeError (or ERR_PAV_NO_GPU) with a known code. Never a crash.
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/binding.ts';
import { ErrorCodes } from '../../src/errors.ts';
import { selectTopK, selectTopKAsync, type PruneBinding, type SelectTopKOptions } from '../../src/ops/prune.ts';
import { selectTopKRef } from '../reference/prune.ts';
import { seededUniform as rng } from '../../src/random.ts';

const CODES = new Set<string>(Object.values(ErrorCodes));


function detached<T>(a: T): T {
  if (!ArrayBuffer.isView(a)) return a;
  try {
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  } catch {
    // already detached
  }
  return a;
}

type Obj = Record<string, unknown>;

function mutate(seed: number): { opts: unknown; note: string } {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const S = int(6);
  const offsets = new Uint32Array(S + 1);
  for (let s = 0; s < S; s++) offsets[s + 1] = offsets[s] + int(9);
  const n = offsets[S];
  const scores = r() < 0.5 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = int(7) - 3;
  const o: Obj = { scores, offsets, k: 1 + int(4), device: 'cpu' };
  if (r() < 0.3) o.keys = new BigUint64Array(n).map(() => BigInt(int(3)));
  if (r() < 0.3) o.groups = new Uint32Array(n).map(() => int(3));
  if (r() < 0.3) o.sample = { temperature: 0.5, seed: int(100) };
  const notes: string[] = [];
  const count = 1 + int(3);
  for (let m = 0; m < count; m++) {
    const what = int(11);
    notes.push(String(what));
    switch (what) {
      case 0:
        o.scores = pick([null, undefined, 3, 'x', [1, 2], new Int32Array(n), new Uint8Array(n), {}, new Uint32Array(n)]);
        break;
      case 1:
        if (n > 0 && ArrayBuffer.isView(o.scores)) (o.scores as Float32Array)[int(n)] = pick([NaN, Infinity, -Infinity]);
        break;
      case 2:
        o.scores = detached(o.scores);
        break;
      case 3: {
        const off = new Uint32Array(pick([0, 1, 2, S + 1, S + 2]));
        for (let i = 0; i < off.length; i++) off[i] = pick([0, int(n + 2), n, 0xffffffff, int(5)]);
        o.offsets = pick([off, off, null, new Int32Array(2), [0, n], detached(new Uint32Array([0, n]))]);
        break;
      }
      case 4:
        o.k = pick([0, -1, 1.5, NaN, Infinity, -Infinity, '3', null, 2 ** 53, 2 ** 60, undefined, {}, 1e300]);
        if (o.k === undefined) delete o.k;
        break;
      case 5:
        o.keys = pick([new BigUint64Array(n + 1), new BigUint64Array(Math.max(0, n - 1)), new BigInt64Array(n), [1n], 'k', new Float64Array(n), detached(new BigUint64Array(n))]);
        break;
      case 6:
        o.groups = pick([new Uint32Array(n + 1), new Int32Array(n), new Float32Array(n), 7, detached(new Uint32Array(n))]);
        break;
      case 7:
        o.sample = pick([
          5,
          'x',
          [],
          { temperature: 0, seed: 1 },
          { temperature: -1, seed: 1 },
          { temperature: NaN, seed: 1 },
          { temperature: Infinity, seed: 1 },
          { temperature: '1', seed: 1 },
          { temperature: 1, seed: -1 },
          { temperature: 1, seed: 1.5 },
          { temperature: 1, seed: 2 ** 60 },
          { temperature: 1, seed: 'x' },
          { temperature: 1e-320, seed: 3 },
        ]);
        break;
      case 8:
        o.device = pick(['gpu', 1, 'cuda', null, 'CPU']);
        break;
      case 9:
        o.threads = pick([-1, 1.5, 5000, 'x', 0, 2]);
        break;
      default:
        return { opts: pick([null, undefined, 5, 'x', [], () => 1]), note: notes.join(',') };
    }
  }
  return { opts: o, note: notes.join(',') };
}

function checkError(e: unknown, note: string) {
  expect(e, note).toBeInstanceOf(Error);
  const code = (e as { code?: unknown }).code;
  expect(typeof code === 'string' && CODES.has(code), `${note}: code ${String(code)} (${(e as Error).message})`).toBe(true);
  if (code !== ErrorCodes.NO_GPU)
    expect(e instanceof TypeError || e instanceof RangeError, `${note}: ${(e as Error).message}`).toBe(true);
}

function checkResult(opts: unknown, r: { indices: Uint32Array; offsets: Uint32Array }, note: string) {
  const o = opts as SelectTopKOptions;
  const want = selectTopKRef(o);
  const used = r.offsets[r.offsets.length - 1];
  expect(Array.from(r.offsets), note).toEqual(want.offsets);
  expect(Array.from(r.indices.subarray(0, used)), note).toEqual(want.indices);
}

describe('selectTopK fuzz', () => {
  it('raw binding: typed errors or the reference result, never a crash', () => {
    const b = addon<PruneBinding>();
    let threw = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const { opts, note } = mutate(seed);
      let r;
      try {
        r = b.selectTopK(opts as never);
      } catch (e) {
        threw++;
        checkError(e, `seed ${seed} [${note}]`);
        continue;
      }
      checkResult(opts, r, `seed ${seed} [${note}]`);
    }
    expect(threw).toBeGreaterThan(1500);
  });

  it('facade: typed errors or the reference result, sync and async', async () => {
    for (let seed = 5001; seed <= 8000; seed++) {
      const { opts, note } = mutate(seed);
      const async = seed % 5 === 0;
      try {
        const r = async ? await selectTopKAsync(opts as SelectTopKOptions) : selectTopK(opts as SelectTopKOptions);
        checkResult(opts, r, `seed ${seed} [${note}]`);
      } catch (e) {
        checkError(e, `seed ${seed} [${note}]`);
      }
    }
  });

  it('raw async binding: argument errors reject rather than throw', async () => {
    const b = addon<PruneBinding>();
    for (let seed = 9001; seed <= 9300; seed++) {
      const { opts, note } = mutate(seed);
      let p: Promise<unknown>;
      try {
        p = b.selectTopKAsync(opts as never);
      } catch (e) {
        throw new Error(`seed ${seed} [${note}] threw synchronously: ${(e as Error).message}`);
      }
      try {
        checkResult(opts, (await p) as never, `seed ${seed} [${note}]`);
      } catch (e) {
        if ((e as Error).name === 'AssertionError') throw e;
        checkError(e, `seed ${seed} [${note}]`);
      }
    }
  });
});
