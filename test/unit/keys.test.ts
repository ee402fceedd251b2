import { beforeAll, describe, expect, it } from 'vitest';
import { extendKeyInto, initKeys, rootKeyInto } from '../../src/search/keys.ts';
import { seededUniform } from '../../src/random.ts';

/** The chained key of a whole prefix, as a bigint. */
function keyOf(problem: number, steps: readonly unknown[]): bigint {
  const buf = new BigUint64Array(1);
  const k = new Uint32Array(buf.buffer);
  rootKeyInto(k, 0, problem);
  for (const s of steps) extendKeyInto(k, 0, k.slice(0, 2), 0, s);
  return buf[0];
}

describe('chained prefix keys', () => {
  beforeAll(initKeys);

  it('equal prefixes get equal keys however they are reached; problem and order matter', () => {
    expect(keyOf(3, [1, 2, 3])).toBe(keyOf(3, [1, 2, 3]));
    expect(keyOf(3, [1, 2, 3])).not.toBe(keyOf(4, [1, 2, 3]));
    expect(keyOf(3, [1, 2, 3])).not.toBe(keyOf(3, [1, 3, 2]));
    expect(keyOf(3, [1, 2])).not.toBe(keyOf(3, [1, 2, 0]));
    expect(keyOf(0, [])).not.toBe(keyOf(1, []));
    expect(keyOf(0, ['Step 1: x = 2', 'so x^2 = 4'])).toBe(keyOf(0, ['Step 1: x = 2', 'so x^2 = 4']));
    expect(keyOf(0, ['ab', 'c'])).not.toBe(keyOf(0, ['a', 'bc']));
    // Non-uint32 numbers go through their string.
    expect(keyOf(0, [-1, 2.5])).toBe(keyOf(0, [-1, 2.5]));
    expect(keyOf(0, [-1])).not.toBe(keyOf(0, [4294967295 + 1]));
  });

  it('no collisions among 50k random distinct prefixes (and siblings never collide)', () => {
    const r = seededUniform(11);
    const seen = new Map<bigint, string>();
    for (let c = 0; c < 50_000; c++) {
      const steps = Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 16));
      const s = steps.join(',');
      const k = keyOf(c % 7, steps);
      const prev = seen.get(k);
      if (prev !== undefined) expect(prev).toBe(`${c % 7}:${s}`);
      seen.set(k, `${c % 7}:${s}`);
    }
    const parent = new Uint32Array(2);
    rootKeyInto(parent, 0, 5);
    const kids = new Uint32Array(2 * 65536);
    for (let s = 0; s < 65536; s++) extendKeyInto(kids, s, parent, 0, s);
    const lows = new Set(Array.from({ length: 65536 }, (_, s) => kids[2 * s]));
    expect(lows.size).toBe(65536);
  });
});
