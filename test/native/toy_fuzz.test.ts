// Malformed input at the raw binding: every call either succeeds or throws a typed error with a
// stable code; nothing crashes the process.
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/binding.ts';
import type { ToyBinding } from '../../src/toy/native.ts';

const b = addon<ToyBinding>() as unknown as Record<string, (o: unknown) => unknown>;
const OPS = ['toyValuePrefixes', 'toyPrefixStates', 'toySampleSteps', 'toySampleRollouts'];

function valid(): Record<string, unknown> {
  return {
    targets: Int32Array.of(3, 6, 0, 3, 5, 1, 2),
    targetOffsets: Uint32Array.of(0, 5, 7),
    maxLen: Uint32Array.of(10, 6),
    vocab: 15,
    problems: Uint32Array.of(0, 1, 0),
    tokens: Uint8Array.of(3, 6, 1, 2),
    offsets: Uint32Array.of(0, 2, 4, 4),
    gamma: 5,
    K: 1,
    n: 2,
    seed: 1,
    threads: 1,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return (e as { code?: string }).code ?? 'NO_CODE';
  }
  return undefined;
}

describe('toy binding rejects malformed input with typed errors', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['token >= vocab', { tokens: Uint8Array.of(3, 15, 1, 2) }, 'ERR_PAV_OUT_OF_RANGE', /tokens\[1\] is 15/],
    ['negative Int32 token', { tokens: Int32Array.of(3, -1, 1, 2) }, 'ERR_PAV_OUT_OF_RANGE', /tokens\[1\] is -1/],
    ['end token mid-prefix', { tokens: Uint8Array.of(14, 6, 1, 2) }, 'ERR_PAV_INVALID_ARG', /end token/],
    ['prefix longer than L', { problems: Uint32Array.of(0), tokens: new Uint8Array(11), offsets: Uint32Array.of(0, 11) }, 'ERR_PAV_OUT_OF_RANGE', /maxLen 10/],
    ['offsets not starting at 0', { offsets: Uint32Array.of(1, 2, 4, 4) }, 'ERR_PAV_BAD_OFFSETS', /offsets\[0\]/],
    ['decreasing offsets', { offsets: Uint32Array.of(0, 3, 2, 4) }, 'ERR_PAV_BAD_OFFSETS', /offsets\[2\]/],
    ['offsets past the end', { offsets: Uint32Array.of(0, 2, 4, 9) }, 'ERR_PAV_BAD_OFFSETS', /offsets\[3\]/],
    ['offsets/problems mismatch', { offsets: Uint32Array.of(0, 2, 4) }, 'ERR_PAV_LENGTH_MISMATCH', /offsets/],
    ['problem out of range', { problems: Uint32Array.of(0, 2, 0) }, 'ERR_PAV_OUT_OF_RANGE', /problems\[1\] is 2/],
    ['vocab 1', { vocab: 1 }, 'ERR_PAV_INVALID_ARG', /vocab/],
    ['vocab huge', { vocab: 1e6 }, 'ERR_PAV_INVALID_ARG', /vocab/],
    ['vocab not an integer', { vocab: 2.5 }, 'ERR_PAV_INVALID_ARG', /vocab/],
    ['target uses the end token', { targets: Int32Array.of(3, 6, 0, 3, 14, 1, 2) }, 'ERR_PAV_OUT_OF_RANGE', /targets\[4\]/],
    ['empty target', { targetOffsets: Uint32Array.of(0, 0, 7) }, 'ERR_PAV_BAD_OFFSETS', /problem 0/],
    ['maxLen 0', { maxLen: Uint32Array.of(0, 6) }, 'ERR_PAV_INVALID_ARG', /maxLen\[0\]/],
    ['table size mismatch', { maxLen: Uint32Array.of(10) }, 'ERR_PAV_LENGTH_MISMATCH', /targetOffsets/],
    ['gamma 0', { gamma: 0 }, 'ERR_PAV_INVALID_ARG', /gamma/],
    ['gamma negative', { gamma: -2 }, 'ERR_PAV_INVALID_ARG', /gamma/],
    ['gamma NaN', { gamma: NaN }, 'ERR_PAV_NON_FINITE', /gamma is NaN/],
    ['gamma Infinity', { gamma: Infinity }, 'ERR_PAV_NON_FINITE', /gamma is Infinity/],
    ['gamma a string', { gamma: '5' }, 'ERR_PAV_INVALID_TYPE', /gamma/],
    ['threads 0', { threads: 0 }, 'ERR_PAV_INVALID_ARG', /threads/],
    ['threads 10000', { threads: 10000 }, 'ERR_PAV_INVALID_ARG', /threads/],
    ['tokens Float64Array', { tokens: new Float64Array(4) }, 'ERR_PAV_INVALID_TYPE', /tokens/],
    ['tokens a plain array', { tokens: [3, 6, 1, 2] }, 'ERR_PAV_INVALID_TYPE', /tokens/],
    ['problems Int32Array', { problems: Int32Array.of(0, 1, 0) }, 'ERR_PAV_INVALID_TYPE', /problems/],
    ['targets Uint32Array', { targets: Uint32Array.of(3, 6, 0, 3, 5, 1, 2) }, 'ERR_PAV_INVALID_TYPE', /targets/],
    ['missing offsets', { offsets: undefined }, 'ERR_PAV_INVALID_TYPE', /offsets/],
  ];
  for (const op of OPS)
    it(`${op}: each malformed argument`, () => {
      for (const [what, patch, code, msg] of cases) {
        if (op === 'toyPrefixStates' && /gamma|threads/.test(what)) continue; // options it does not read
        const o = { ...valid(), ...patch };
        let err: unknown;
        try {
          b[op](o);
        } catch (e) {
          err = e;
        }
        expect(err, `${op}: ${what}`).toBeInstanceOf(Error);
        expect((err as { code: string }).code, `${op}: ${what}: ${(err as Error).message}`).toBe(code);
        expect((err as Error).message, `${op}: ${what}`).toMatch(msg);
      }
    });

  it('op-specific arguments', () => {
    expect(codeOf(() => b.toyValuePrefixes({ ...valid(), K: 0 }))).toBe('ERR_PAV_INVALID_ARG');
    expect(codeOf(() => b.toyValuePrefixes({ ...valid(), K: 1.5 }))).toBe('ERR_PAV_INVALID_ARG');
    expect(codeOf(() => b.toyValuePrefixes({ ...valid(), K: NaN }))).toBe('ERR_PAV_NON_FINITE');
    for (const op of ['toySampleSteps', 'toySampleRollouts']) {
      expect(codeOf(() => b[op]({ ...valid(), n: 0 }))).toBe('ERR_PAV_INVALID_ARG');
      expect(codeOf(() => b[op]({ ...valid(), seed: -1 }))).toBe('ERR_PAV_INVALID_ARG');
      expect(codeOf(() => b[op]({ ...valid(), streams: Uint32Array.of(1) }))).toBe('ERR_PAV_LENGTH_MISMATCH');
      expect(codeOf(() => b[op]({ ...valid(), n: 2 ** 31 }))).toBe('ERR_PAV_INVALID_ARG');
      expect(codeOf(() => b[op]({ ...valid(), n: 2 ** 30 }))).toBe('ERR_PAV_OUT_OF_RANGE'); // 3 * 2^30 samples
    }
    expect(codeOf(() => b.toyValuePrefixes(undefined))).toBe('ERR_PAV_INVALID_TYPE');
    expect(codeOf(() => b.toyValuePrefixes(42))).toBe('ERR_PAV_INVALID_TYPE');
    // Uint8 tokens cannot carry a vocabulary above 256.
    const big = { ...valid(), vocab: 300 };
    expect(codeOf(() => b.toySampleSteps(big))).toBe('ERR_PAV_INVALID_ARG');
    expect(codeOf(() => b.toySampleSteps({ ...big, tokens: Int32Array.of(3, 6, 1, 2) }))).toBeUndefined();
  });

  it('async calls reject with the same typed errors', async () => {
    await expect(b.toyValuePrefixes({ ...valid(), tokens: Uint8Array.of(3, 15, 1, 2), async: true })).rejects.toMatchObject({ code: 'ERR_PAV_OUT_OF_RANGE' });
    await expect(b.toySampleRollouts({ ...valid(), problems: Uint32Array.of(0), tokens: Uint8Array.of(1, 14), offsets: Uint32Array.of(0, 2), async: true })).resolves.toBeTruthy();
    await expect(b.toySampleSteps({ ...valid(), problems: Uint32Array.of(0), tokens: Uint8Array.of(1, 14), offsets: Uint32Array.of(0, 2), async: true })).rejects.toMatchObject({ code: 'ERR_PAV_INVALID_ARG' });
  });

  it('random mutations never crash and only throw coded errors', () => {
    let x = 987654321;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), (x >>> 8) % n);
    const junk = (): unknown => {
      switch (rnd(12)) {
        case 0: return undefined;
        case 1: return null;
        case 2: return -1;
        case 3: return 2 ** 40;
        case 4: return NaN;
        case 5: return 'x';
        case 6: return new Uint8Array(rnd(8)).map(() => rnd(20));
        case 7: return new Int32Array(rnd(8)).map(() => rnd(40) - 5);
        case 8: return new Uint32Array(rnd(6)).map(() => rnd(12));
        case 9: return Uint32Array.of(0, rnd(3), rnd(6), 4);
        case 10: return rnd(20);
        default: return {};
      }
    };
    const keys = Object.keys(valid()).concat(['streams']);
    let threw = 0;
    for (let i = 0; i < 4000; i++) {
      const o = valid();
      for (let m = 0; m <= rnd(3); m++) o[keys[rnd(keys.length)]] = junk();
      const code = codeOf(() => b[OPS[rnd(OPS.length)]](o));
      if (code !== undefined) {
        expect(code).toMatch(/^ERR_PAV_/);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(1000);
  });
});
