import { describe, expect, it } from 'vitest';
import { PrefixList, prefixList } from '../../src/search/prefixes.ts';
import { packPrefixes } from '../../src/toy/native.ts';
import { fmix32, MIX_START, mixIn, mixSeed } from '../../src/search/seeds.ts';
import { PavRangeError, PavTypeError } from '../../src/errors.ts';
import { seededUniform } from '../../src/random.ts';

describe('PrefixList', () => {
  const bases = [[1, 2], [], [3]];
  const list = PrefixList.extending(bases, Uint32Array.of(0, 0, 1, 2, 2), [7, 8, 9, 10, 11]);

  it('reads extended prefixes in place and as arrays', () => {
    expect(list.length).toBe(5);
    expect(list.extended).toBe(true);
    expect(list.toArrays()).toEqual([[1, 2, 7], [1, 2, 8], [9], [3, 10], [3, 11]]);
    expect([...list]).toEqual(list.toArrays());
    expect(Array.from({ length: 5 }, (_, i) => list.lengthOf(i))).toEqual([3, 3, 1, 2, 2]);
    expect([list.stepAt(0, 0), list.stepAt(0, 2), list.stepAt(2, 0), list.stepAt(4, 1)]).toEqual([1, 7, 9, 11]);
    expect(list.last(3)).toBe(10);
    expect(list.base(1)).toBe(bases[0]);
    expect(list.base(3)).toBe(bases[2]);
    // Materialised prefixes are fresh arrays: mutating one leaves the shared base alone.
    (list.at(0) as number[]).push(99);
    expect(bases[0]).toEqual([1, 2]);
  });

  it('plain prefixes are the caller arrays, not copies', () => {
    const arrays = [[1], [2, 3]];
    const plain = prefixList(arrays);
    expect(plain.extended).toBe(false);
    expect(plain.at(1)).toBe(arrays[1]);
    expect(plain.last(1)).toBe(3);
    expect(plain.last(0)).toBe(1);
    expect(prefixList(plain)).toBe(plain);
    expect(() => plain.appendedStep(0)).toThrow(PavRangeError);
  });

  it('bad input gets typed errors naming the argument and index', () => {
    expect(() => PrefixList.of([[1], 'x' as unknown as number[]])).toThrow(/prefixes\[1\] must be an array/);
    expect(() => PrefixList.of({} as unknown as number[][])).toThrow(PavTypeError);
    expect(() => PrefixList.extending([[1]], Uint32Array.of(0, 1), [2, 3])).toThrow(/baseOf\[1\] is 1, expected an index below 1/);
    expect(() => PrefixList.extending([[1]], Uint32Array.of(0), [2, 3])).toThrow(/appended has 2 steps for 1 prefixes/);
    expect(() => PrefixList.extending([[1]], [0] as unknown as Uint32Array, [2])).toThrow(PavTypeError);
    expect(() => PrefixList.extending([null as unknown as number[]], Uint32Array.of(0), [2])).toThrow(/bases\[0\]/);
  });
});

describe('packing a PrefixList for the toy addon', () => {
  it('packs exactly what the materialised arrays pack (500 seeded cases)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const r = seededUniform(seed);
      const int = (n: number) => Math.floor(r() * n);
      const bases = Array.from({ length: 1 + int(6) }, () => Array.from({ length: int(7) }, () => int(15)));
      const kids = int(20);
      const list = PrefixList.extending(bases, Uint32Array.from({ length: kids }, () => int(bases.length)), Array.from({ length: kids }, () => int(15)));
      const a = packPrefixes(list, 15);
      const b = packPrefixes(list.toArrays(), 15);
      expect(a.offsets).toEqual(b.offsets);
      expect(a.tokens).toEqual(b.tokens);
    }
  });

  it('names the bad token in a base or in an appended step', () => {
    expect(() => packPrefixes(PrefixList.extending([[1], [2, 300]], Uint32Array.of(1), [3]), 15)).toThrow(/bases\[1\]\[1\] is 300/);
    expect(() => packPrefixes(PrefixList.extending([[1]], Uint32Array.of(0, 0), [3, 1.5]), 15)).toThrow(/prefixes\[1\]\[1\] is 1.5/);
    expect(() => packPrefixes(PrefixList.extending([[1]], Uint32Array.of(0), ['a' as unknown as number]), 15)).toThrow(PavTypeError);
    expect(() => packPrefixes(PrefixList.extending([[-1]], Uint32Array.of(0), [3]), 15)).toThrow(PavRangeError);
  });
});

describe('seeds', () => {
  it('folding a shared head with mixIn equals mixSeed over all the parts', () => {
    const r = seededUniform(3);
    for (let c = 0; c < 500; c++) {
      const parts = Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 2 ** 32));
      let h = MIX_START;
      for (const p of parts) h = mixIn(h, p);
      expect(fmix32(h)).toBe(mixSeed(...parts));
    }
  });
});
