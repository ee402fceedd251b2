// The prefixes of one policy or verifier batch. A search round scores every child of every live
// beam, and a child is its parent's steps plus one new step: copying each child into its own array
// cost the engine more than the toy backends spend on it, and most children are pruned right after
// scoring. A PrefixList keeps a child as (its parent's steps, the new step) and lets a backend read
// the steps in place; an array is built only when a consumer asks for one.
import { ErrorCodes, PavRangeError, PavTypeError } from '../errors.ts';

export class PrefixList<S> {
  private constructor(
    /** The shared parts: prefix i starts with bases[baseOf[i]] (bases[i] without baseOf). */
    private readonly bases: readonly (readonly S[])[],
    private readonly baseOf: Uint32Array | undefined,
    /** The one step each prefix adds after its base (absent: the prefixes are the bases). */
    private readonly appended: readonly S[] | undefined,
  ) {}

  /** Plain prefixes, one array each (not copied). */
  static of<S>(prefixes: readonly (readonly S[])[]): PrefixList<S> {
    if (!Array.isArray(prefixes)) throw new PavTypeError('prefixes must be an array of step arrays or a PrefixList');
    for (let i = 0; i < prefixes.length; i++)
      if (!Array.isArray(prefixes[i])) throw new PavTypeError(`prefixes[${i}] must be an array of steps`);
    return new PrefixList(prefixes, undefined, undefined);
  }

  /** Prefix i is bases[baseOf[i]] followed by appended[i]: the children of a round, with no copies. */
  static extending<S>(bases: readonly (readonly S[])[], baseOf: Uint32Array, appended: readonly S[]): PrefixList<S> {
    if (!(baseOf instanceof Uint32Array)) throw new PavTypeError('baseOf must be a Uint32Array');
    if (appended.length !== baseOf.length)
      throw new PavRangeError(`appended has ${appended.length} steps for ${baseOf.length} prefixes`, ErrorCodes.LENGTH_MISMATCH);
    for (let i = 0; i < bases.length; i++) if (!Array.isArray(bases[i])) throw new PavTypeError(`bases[${i}] must be an array of steps`);
    for (let i = 0; i < baseOf.length; i++)
      if (baseOf[i] >= bases.length) throw new PavRangeError(`baseOf[${i}] is ${baseOf[i]}, expected an index below ${bases.length}`, ErrorCodes.OUT_OF_RANGE);
    return new PrefixList(bases, baseOf, appended);
  }

  get length(): number {
    return this.baseOf ? this.baseOf.length : this.bases.length;
  }

  /** Whether every prefix is a shared base plus one appended step. */
  get extended(): boolean {
    return this.appended !== undefined;
  }

  /** The distinct shared parts (each read once by a packer, however many children share it). */
  get baseArrays(): readonly (readonly S[])[] {
    return this.bases;
  }

  /** The shared part of prefix i (the whole prefix when the list does not extend). */
  base(i: number): readonly S[] {
    return this.bases[this.baseOf ? this.baseOf[i] : i];
  }

  /** The step prefix i adds after its base (only when `extended`). */
  appendedStep(i: number): S {
    if (!this.appended) throw new PavRangeError('this PrefixList appends no steps', ErrorCodes.INVALID_ARG);
    return this.appended[i];
  }

  /** Number of steps in prefix i. */
  lengthOf(i: number): number {
    return this.base(i).length + (this.appended ? 1 : 0);
  }

  /** Step t of prefix i, read in place. */
  stepAt(i: number, t: number): S {
    const b = this.base(i);
    return t < b.length ? b[t] : (this.appended as readonly S[])[i];
  }

  /** Last step of prefix i (undefined for an empty prefix). */
  last(i: number): S | undefined {
    if (this.appended) return this.appended[i];
    const b = this.bases[i];
    return b[b.length - 1];
  }

  /** Prefix i as an array: the caller's own array for plain prefixes, a fresh one for extended. */
  at(i: number): readonly S[] {
    const b = this.base(i);
    if (!this.appended) return b;
    const out: S[] = new Array(b.length + 1);
    for (let t = 0; t < b.length; t++) out[t] = b[t];
    out[b.length] = this.appended[i];
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
