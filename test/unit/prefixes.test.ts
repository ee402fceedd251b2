import { describe, expect, it } from 'vitest';
import { PrefixList, prefixList } from '../../src/search/prefixes.ts';
import { ROOT, StepTree } from '../../src/search/step_tree.ts';
import { packPrefixes } from '../../src/toy/native.ts';
import { fmix32, MIX_START, mixIn, mixSeed } from '../../src/search/seeds.ts';
import { PavRangeError, PavTypeError } from '../../src/errors.ts';
import { seededUniform } from '../../src/random.ts';

/** Prefix i = bases[baseOf[i]] + appended[i], as tree prefixes (each base a chain from ROOT). */
function children(bases: number[][], baseOf: readonly number[], appended: readonly number[]): { tree: StepTree<number>; list: PrefixList<number> } {
  const tree = new StepTree<number>();
  const ends = bases.map((b) => b.reduce((node, step) => tree.add(node, step), ROOT));
  return { tree, list: PrefixList.inTree(tree, Int32Array.from(baseOf, (j) => ends[j]), appended) };
}

describe('PrefixList', () => {
  const { tree, list } = children([[1, 2], [], [3]], [0, 0, 1, 2, 2], [7, 8, 9, 10, 11]);

  it('reads children of shared prefixes in place and as arrays', () => {
    expect(list.length).toBe(5);
    expect(list.toArrays()).toEqual([[1, 2, 7], [1, 2, 8], [9], [3, 10], [3, 11]]);
    expect([...list]).toEqual(list.toArrays());
    expect(Array.from({ length: 5 }, (_, i) => list.lengthOf(i))).toEqual([3, 3, 1, 2, 2]);
    expect(list.lengths()).toEqual(Uint32Array.of(3, 3, 1, 2, 2));
    expect([list.stepAt(0, 0), list.stepAt(0, 2), list.stepAt(2, 0), list.stepAt(4, 1)]).toEqual([1, 7, 9, 11]);
    expect(list.last(3)).toBe(10);
    // Materialised prefixes are fresh arrays: mutating one leaves the shared steps alone.
    (list.at(0) as number[]).push(99);
    expect(list.at(1)).toEqual([1, 2, 8]);
    expect(tree.path(1)).toEqual([1, 2]);
  });

  it('plain prefixes are the caller arrays, not copies', () => {
    const arrays = [[1], [2, 3]];
    const plain = prefixList(arrays);
    expect(plain.at(1)).toBe(arrays[1]);
    expect(plain.last(1)).toBe(3);
    expect(plain.last(0)).toBe(1);
    expect(prefixList(plain)).toBe(plain);
  });

  it('bad input gets typed errors naming the argument and index', () => {
    expect(() => PrefixList.of([[1], 'x' as unknown as number[]])).toThrow(/prefixes\[1\] must be an array/);
    expect(() => PrefixList.of({} as unknown as number[][])).toThrow(PavTypeError);
  });
});

describe('StepTree and tree prefixes', () => {
  // Root nodes 0 and 1 (depth 0); 2 = [5], 3 = [5, 6], 4 = [5, 7], 5 = [8] under root 1; 6 = [9] under ROOT.
  const tree = new StepTree<number>();
  const r0 = tree.addRoot();
  const r1 = tree.addRoot();
  const a = tree.add(r0, 5);
  const b = tree.add(a, 6);
  const c = tree.add(a, 7);
  const d = tree.add(r1, 8);
  const e = tree.add(ROOT, 9);

  it('stores each step once and reads prefixes back by walking parents', () => {
    expect([r0, r1, a, b, c, d, e]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([tree.depthOf(ROOT), tree.depthOf(r0), tree.depthOf(b), tree.depthOf(e)]).toEqual([0, 0, 2, 1]);
    expect([tree.path(r0), tree.path(b), tree.path(c), tree.path(d), tree.path(e)]).toEqual([[], [5, 6], [5, 7], [8], [9]]);
    expect(tree.parentOf(b)).toBe(a);
    expect(tree.stepOf(ROOT)).toBeUndefined();
    const out = [0, 0, 0, 0];
    expect(tree.copyPath(b, out, 1)).toBe(2);
    expect(out).toEqual([0, 5, 6, 0]);
  });

  it('grows past its initial capacity', () => {
    const t = new StepTree<string>();
    let n = t.addRoot();
    for (let i = 0; i < 5000; i++) n = t.add(n, `s${i}`);
    expect(t.size).toBe(5001);
    expect(t.depthOf(n)).toBe(5000);
    const p = t.path(n);
    expect([p[0], p[4999]]).toEqual(['s0', 's4999']);
  });

  it('PrefixList.inTree reads live beams and their children in place', () => {
    const live = PrefixList.inTree(tree, Int32Array.of(b, r1, ROOT, e));
    expect(live.toArrays()).toEqual([[5, 6], [], [], [9]]);
    expect([live.last(0), live.last(1), live.last(3)]).toEqual([6, undefined, 9]);
    const kids = PrefixList.inTree(tree, Int32Array.of(b, b, r1, c), [1, 2, 3, 4]);
    expect(kids.toArrays()).toEqual([[5, 6, 1], [5, 6, 2], [3], [5, 7, 4]]);
    expect(Array.from({ length: 4 }, (_, i) => kids.lengthOf(i))).toEqual([3, 3, 1, 3]);
    expect([kids.stepAt(0, 0), kids.stepAt(0, 1), kids.stepAt(0, 2), kids.stepAt(3, 1)]).toEqual([5, 6, 1, 7]);
    const packed = packPrefixes(kids, 15);
    const plain = packPrefixes(kids.toArrays(), 15);
    expect(packed.offsets).toEqual(plain.offsets);
    expect(packed.tokens).toEqual(plain.tokens);
  });

  it('with a fanout, every live beam has that many children in a row (no per-child node array)', () => {
    const kids = PrefixList.inTree(tree, Int32Array.of(b, r1), [1, 2, 3, 4, 5, 6], 3);
    expect(kids.length).toBe(6);
    expect(kids.toArrays()).toEqual([[5, 6, 1], [5, 6, 2], [5, 6, 3], [4], [5], [6]]);
    expect([kids.lengthOf(2), kids.lengthOf(3), kids.stepAt(2, 1), kids.last(4)]).toEqual([3, 1, 6, 5]);
    const packed = packPrefixes(kids, 15);
    expect(packed.tokens).toEqual(packPrefixes(kids.toArrays(), 15).tokens);
    expect(() => PrefixList.inTree(tree, Int32Array.of(b, r1), [1, 2, 3], 2)).toThrow(/appended has 3 steps for 4 prefixes/);
    expect(() => PrefixList.inTree(tree, Int32Array.of(b), [1, 2], 0)).toThrow(/fanout must be an integer >= 1/);
    expect(() => PrefixList.inTree(tree, Int32Array.of(b), undefined, 2)).toThrow(/fanout > 1 needs appended steps/);
  });

  it('bad nodes and parents get typed errors naming the index', () => {
    expect(() => PrefixList.inTree(tree, Int32Array.of(0, 7))).toThrow(/nodes\[1\] is 7, expected -1 or a node below 7/);
    expect(() => PrefixList.inTree(tree, Int32Array.of(-2))).toThrow(PavRangeError);
    expect(() => PrefixList.inTree(tree, [0] as unknown as Int32Array)).toThrow(PavTypeError);
    expect(() => PrefixList.inTree(tree, Int32Array.of(0, 1), [1])).toThrow(/appended has 1 steps for 2 prefixes/);
    expect(() => tree.add(99, 1)).toThrow(/parent is 99/);
    expect(() => new StepTree(Number.NaN)).toThrow(/capacity must be an integer in \[0, 67108864\], got NaN/);
    expect(() => new StepTree(-1)).toThrow(PavRangeError);
    // A typo asking for a terabyte is named, not a bare 'Invalid typed array length'.
    expect(() => new StepTree(1e12)).toThrow(/capacity must be an integer in/);
    expect(() => new StepTree('5' as unknown as number)).toThrow(/capacity must be a number, got string/);
    // Fractional and string parents used to add a node of depth 0 under node 0.
    expect(() => tree.add(0.5, 1)).toThrow(/parent is 0.5/);
    expect(() => tree.add('0' as unknown as number, 1)).toThrow(PavRangeError);
    for (const node of [99, -5, 1.5])
      for (const read of [() => tree.path(node), () => tree.depthOf(node), () => tree.parentOf(node), () => tree.stepOf(node)])
        expect(read, `node ${node}`).toThrow(new RegExp(`node is ${node}, expected -1 \\(ROOT\\) or an integer node id below`));
    expect(tree.parentOf(ROOT)).toBe(ROOT);
    expect(() => PrefixList.inTree(null as unknown as StepTree<number>, Int32Array.of(0))).toThrow(/tree must be a StepTree/);
    expect(() => packPrefixes(PrefixList.inTree(tree, Int32Array.of(b, c), [1, 300]), 15)).toThrow(/prefixes\[1\]\[2\] is 300/);
  });
});

describe('PrefixList accessors', () => {
  it('a bad prefix or step index is a typed error naming it, in both forms', () => {
    const t = new StepTree<number>();
    const a = t.add(ROOT, 1);
    const b = t.add(a, 2);
    const lists = [PrefixList.of([[1, 2], [3]]), PrefixList.inTree(t, Int32Array.of(b, a, ROOT)), PrefixList.inTree(t, Int32Array.of(a), [7, 8], 2)];
    for (const list of lists) {
      const n = list.length;
      for (const i of [n, -1, 1.5, Number.NaN])
        for (const read of [() => list.at(i), () => list.lengthOf(i), () => list.stepAt(i, 0), () => list.copySteps(i, [], 0), () => list.last(i)]) {
          expect(read, `i = ${i}`).toThrow(PavRangeError);
          expect(read, `i = ${i}`).toThrow(new RegExp(`prefix index is ${i}, expected an integer in \\[0, ${n - 1}\\]`));
        }
      expect(() => list.stepAt(0, -1)).toThrow(/step index is -1/);
      expect(() => list.stepAt(0, list.lengthOf(0))).toThrow(new RegExp(`step index is ${list.lengthOf(0)}`));
      // The good reads still agree with the arrays.
      for (let i = 0; i < n; i++) for (let s = 0; s < list.lengthOf(i); s++) expect(list.stepAt(i, s)).toBe(list.at(i)[s]);
    }
  });
});

describe('packing a PrefixList for the toy addon', () => {
  it('packs exactly what the materialised arrays pack (500 seeded cases)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const r = seededUniform(seed);
      const int = (n: number) => Math.floor(r() * n);
      const bases = Array.from({ length: 1 + int(6) }, () => Array.from({ length: int(7) }, () => int(15)));
      const kids = int(20);
      const { list } = children(bases, Array.from({ length: kids }, () => int(bases.length)), Array.from({ length: kids }, () => int(15)));
      const a = packPrefixes(list, 15);
      const b = packPrefixes(list.toArrays(), 15);
      expect(a.offsets).toEqual(b.offsets);
      expect(a.tokens).toEqual(b.tokens);
    }
  });

  it('names the bad token in a shared prefix or in an appended step', () => {
    expect(() => packPrefixes(children([[1], [2, 300]], [1], [3]).list, 15)).toThrow(/prefixes\[0\]\[1\] is 300/);
    expect(() => packPrefixes(children([[1]], [0, 0], [3, 1.5]).list, 15)).toThrow(/prefixes\[1\]\[1\] is 1.5/);
    expect(() => packPrefixes(children([[1]], [0], ['a' as unknown as number]).list, 15)).toThrow(PavTypeError);
    expect(() => packPrefixes(children([[-1]], [0], [3]).list, 15)).toThrow(PavRangeError);
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
