// The prefixes of one policy or verifier batch. A search round scores every child of every live
// beam, and a child is its parent's steps plus one new step: copying each child into its own array
// cost the engine more than the toy backends spend on it, and most children are pruned right after
// scoring. A PrefixList keeps a child as (its parent's steps, the new step) and lets a backend read
// the steps in place; an array is built only when a consumer asks for one. The engine's own prefixes
// live in a StepTree (step_tree.ts), so live beams and children are node ids there.
import { ErrorCodes, PavRangeError, PavTypeError } from '../errors.ts';
import { ROOT, StepTree } from './step_tree.ts';

export class PrefixList<S> {
  private constructor(
    /** Plain prefixes: prefix i is bases[i]. */
    private readonly bases: readonly (readonly S[])[] | undefined,
    /** Tree bases: prefix i starts with the path to nodes[floor(i / fanout)] (ROOT: empty). */
    private readonly tree: StepTree<S> | undefined,
    private readonly nodes: Int32Array | undefined,
    private readonly fanout: number,
    /** The one step each prefix adds after its base (absent: the prefixes are the bases). */
    private readonly appended: readonly S[] | undefined,
  ) {
    this.size = nodes ? nodes.length * fanout : (bases as readonly S[][]).length;
  }

  /** Number of prefixes (fixed: the lists and node arrays are not resized). */
  private readonly size: number;

  /** Plain prefixes, one array each (not copied). */
  static of<S>(prefixes: readonly (readonly S[])[]): PrefixList<S> {
    if (!Array.isArray(prefixes)) throw new PavTypeError('prefixes must be an array of step arrays or a PrefixList');
    for (let i = 0; i < prefixes.length; i++)
      if (!Array.isArray(prefixes[i])) throw new PavTypeError(`prefixes[${i}] must be an array of steps`);
    return new PrefixList(prefixes, undefined, undefined, 1, undefined);
  }

  /**
   * Prefix i is the path to nodes[i] in `tree` (ROOT: the empty prefix), followed by appended[i]
   * when given: the engine's live beams. With `fanout` f, prefixes i*f .. i*f + f - 1 all extend
   * nodes[i] (f children per live beam, nodes.length * f prefixes in all): a round's children.
   */
  static inTree<S>(tree: StepTree<S>, nodes: Int32Array, appended?: readonly S[], fanout = 1): PrefixList<S> {
    if (!(tree instanceof StepTree)) throw new PavTypeError('tree must be a StepTree');
    if (!(nodes instanceof Int32Array)) throw new PavTypeError('nodes must be an Int32Array');
    if (!Number.isInteger(fanout) || fanout < 1) throw new PavRangeError(`fanout must be an integer >= 1, got ${fanout}`);
    if (fanout > 1 && appended === undefined) throw new PavRangeError('fanout > 1 needs appended steps (otherwise the prefixes repeat)');
    if (appended !== undefined) {
      if (!Array.isArray(appended)) throw new PavTypeError('appended must be an array of steps');
      if (appended.length !== nodes.length * fanout)
        throw new PavRangeError(`appended has ${appended.length} steps for ${nodes.length * fanout} prefixes`, ErrorCodes.LENGTH_MISMATCH);
    }
    const size = tree.size;
    for (let i = 0; i < nodes.length; i++)
      if (nodes[i] < ROOT || nodes[i] >= size) throw new PavRangeError(`nodes[${i}] is ${nodes[i]}, expected ${ROOT} or a node below ${size}`, ErrorCodes.OUT_OF_RANGE);
    return new PrefixList(undefined, tree, nodes, fanout, appended);
  }

  /**
   * Prefix index i of a public accessor: an integer in [0, length). Unchecked, a bad i read
   * undefined as a step or threw a bare TypeError from inside the list.
   */
  private check(i: number): void {
    // i >>> 0 === i: an integer in [0, 2^32) (NaN, fractions and negatives fail); one compare per read.
    if (!(i >>> 0 === i && i < this.size))
      throw new PavRangeError(`prefix index is ${i}, expected an integer in [0, ${this.length - 1}] (the list has ${this.length} prefixes)`, ErrorCodes.OUT_OF_RANGE);
  }

  /** The tree node prefix i starts from (tree form only). */
  private nodeOf(i: number): number {
    const nodes = this.nodes as Int32Array;
    return this.fanout === 1 ? nodes[i] : nodes[Math.floor(i / this.fanout)];
  }

  get length(): number {
    return this.size;
  }

  /** Steps of prefix i before its appended one (all of them for plain prefixes). */
  private baseLength(i: number): number {
    if (this.tree) return this.tree.depthOf(this.nodeOf(i));
    return (this.bases as readonly S[][])[i].length;
  }

  /** Number of steps in prefix i. */
  lengthOf(i: number): number {
    this.check(i);
    return this.lengthAt(i);
  }

  /** lengthOf for an index already checked. */
  private lengthAt(i: number): number {
    return this.baseLength(i) + (this.appended ? 1 : 0);
  }

  /** Number of steps of every prefix (a toy verifier's tokens read per prefix). */
  lengths(): Uint32Array {
    // A plain loop: TypedArray.from with a map function is many times slower in V8.
    const out = new Uint32Array(this.length);
    // Every i is in range here: no per-prefix check.
    for (let i = 0; i < out.length; i++) out[i] = this.lengthAt(i);
    return out;
  }

  /** Step t of prefix i, read in place (a walk up the tree for tree bases: use copySteps to read them all). */
  stepAt(i: number, t: number): S {
    this.check(i);
    const n = this.baseLength(i);
    const len = this.lengthAt(i);
    if (!(Number.isInteger(t) && t >= 0 && t < len))
      throw new PavRangeError(`step index is ${t}, expected an integer in [0, ${len - 1}] (prefix ${i} has ${len} steps)`, ErrorCodes.OUT_OF_RANGE);
    if (t >= n) return (this.appended as readonly S[])[i];
    if (!this.tree) return (this.bases as readonly S[][])[i][t];
    let node = this.nodeOf(i);
    for (let up = n - 1 - t; up > 0; up--) node = this.tree.parentOf(node);
    return this.tree.stepOf(node);
  }

  /** Last step of prefix i (undefined for an empty prefix). */
  last(i: number): S | undefined {
    this.check(i);
    if (this.appended) return this.appended[i];
    if (this.tree) return this.tree.stepOf(this.nodeOf(i));
    const b = (this.bases as readonly S[][])[i];
    return b[b.length - 1];
  }

  /** Write prefix i's steps into out[at ..]; returns how many. */
  copySteps(i: number, out: { [k: number]: S }, at: number): number {
    this.check(i);
    return this.copyChecked(i, out, at);
  }

  /** copySteps for an index already checked (at() checks once, not once per read). */
  private copyChecked(i: number, out: { [k: number]: S }, at: number): number {
    let n: number;
    if (this.tree) n = this.tree.copyPath(this.nodeOf(i), out, at);
    else {
      const b = (this.bases as readonly S[][])[i];
      n = b.length;
      for (let t = 0; t < n; t++) out[at + t] = b[t];
    }
    if (!this.appended) return n;
    out[at + n] = this.appended[i];
    return n + 1;
  }

  /** Prefix i as an array: the caller's own array for plain prefixes, a fresh one otherwise. */
  at(i: number): readonly S[] {
    this.check(i);
    if (this.bases) return this.bases[i];
    const out: S[] = new Array(this.lengthAt(i));
    this.copyChecked(i, out, 0);
    return out;
  }

  /** Every prefix as an array. */
  toArrays(): (readonly S[])[] {
    const out: (readonly S[])[] = new Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.at(i);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<readonly S[]> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}


/** Prefixes as backends receive them: a PrefixList, or plain arrays from a direct caller. */
export type Prefixes<S> = PrefixList<S> | readonly (readonly S[])[];

/** A PrefixList for either form (plain arrays are checked, not copied). */
export function prefixList<S>(prefixes: Prefixes<S>): PrefixList<S> {
  return prefixes instanceof PrefixList ? prefixes : PrefixList.of(prefixes);
}

/** The engine's prefixes as `backend` takes them: in place if it reads PrefixLists, else plain arrays. */
export function prefixesFor<S>(backend: { readonly readsPrefixLists?: boolean }, list: PrefixList<S>): Prefixes<S> {
  return backend.readsPrefixLists === true ? list : list.toArrays();
}
