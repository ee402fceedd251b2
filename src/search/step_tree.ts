// The steps of every beam a search keeps, stored once as a tree: a kept child is one node (its
// parent node and its new step), not an array of all its steps. A round then costs the engine a
// few stores per kept child however deep the beams are, and nothing is allocated per beam; a
// prefix becomes an array only when a consumer asks for one (PrefixList.at, the final trace).

import { ErrorCodes, PavRangeError } from '../errors.ts';
import { requireInteger } from '../ops/common.ts';

/** The empty prefix (the bare problem): the parent of every first step. */
export const ROOT = -1;

/** The most nodes a StepTree reserves up front (2^26; it grows past this by doubling). */
export const MAX_INITIAL_CAPACITY = 1 << 26;

export class StepTree<S> {
  private parents: Int32Array;
  private depths: Uint32Array;
  // Sized up front like the typed columns: a push per node onto a long array cost more than the
  // rest of adding the node.
  private steps: S[];
  private count = 0;

  /** `capacity`: nodes to allocate room for up front (the tree grows past it by doubling). */
  constructor(capacity = 1024) {
    // Room up front only: past it the tree grows by doubling, so a cap here just keeps a typo from
    // asking for gigabytes at once.
    const n = Math.max(16, requireInteger('capacity', capacity, 0, MAX_INITIAL_CAPACITY));
    this.parents = new Int32Array(n);
    this.depths = new Uint32Array(n);
    this.steps = new Array(n);
  }

  /** Nodes added so far; node ids are 0 .. size - 1, in the order they were added. */
  get size(): number {
    return this.count;
  }

  /**
   * Add a node for the empty prefix (depth 0, no step): a search gives each problem's root its own
   * node so the root carries values like any beam. Its children start their prefixes afresh.
   */
  addRoot(): number {
    return this.append(ROOT, 0, undefined as S);
  }

  /** Add `step` after the prefix of `parent` (ROOT or a root node for a first step); returns the new node. */
  add(parent: number, step: S): number {
    this.checkNode('parent', parent);
    return this.append(parent, parent === ROOT ? 1 : this.depths[parent] + 1, step);
  }

  /** A node id argument: ROOT or an integer below size (a fractional id would index undefined). */
  private checkNode(name: string, node: number): void {
    // (node | 0) === node: an int32 (NaN and fractions fail), cheaper than Number.isInteger on this hot path.
    if (!((node | 0) === node && node >= ROOT && node < this.count))
      throw new PavRangeError(`${name} is ${node}, expected ${ROOT} (ROOT) or an integer node id below ${this.count}`, ErrorCodes.OUT_OF_RANGE);
  }

  private append(parent: number, depth: number, step: S): number {
    const n = this.count;
    if (n === this.parents.length) this.grow();
    this.parents[n] = parent;
    this.depths[n] = depth;
    this.steps[n] = step;
    this.count = n + 1;
    return n;
  }

  /** The parent of `node` (ROOT for a root node or a first step added after ROOT). */
  parentOf(node: number): number {
    this.checkNode('node', node);
    return node === ROOT ? ROOT : this.parents[node];
  }

  /** Steps from the root to `node` (0 for ROOT). */
  depthOf(node: number): number {
    this.checkNode('node', node);
    return node === ROOT ? 0 : this.depths[node];
  }

  /** The last step of `node`'s prefix (undefined for ROOT and root nodes). */
  stepOf(node: number): S {
    this.checkNode('node', node);
    return node === ROOT ? (undefined as S) : this.steps[node];
  }

  /** Write `node`'s prefix into out[at .. at + depth), walking up from its last step; returns depth. */
  copyPath(node: number, out: { [i: number]: S }, at: number): number {
    const d = this.depthOf(node);
    for (let n = node, i = at + d - 1; i >= at; n = this.parents[n], i--) out[i] = this.steps[n];
    return d;
  }

  /** `node`'s prefix as a fresh array. */
  path(node: number): S[] {
    const out: S[] = new Array(this.depthOf(node));
    this.copyPath(node, out, 0);
    return out;
  }

  private grow(): void {
    const size = 2 * this.parents.length;
    this.parents = grown(this.parents, size);
    this.depths = grown(this.depths, size);
    const steps: S[] = new Array(size);
    for (let i = 0; i < this.count; i++) steps[i] = this.steps[i];
    this.steps = steps;
  }
}

/** A typed array of `length` elements that starts with a copy of `a` (node columns growing). */
export function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
