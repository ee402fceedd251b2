// The planted-subsequence toy task (paper section 3.3): problems, seeded suites, the true checker,
// and the problem table packed once for the native ops.
//
// Conventions (ours, shared with native/core/planted.h, where they are checked against the paper's
// reference values): tokens 0 .. vocab-1, vocab-1 is the end token; a response holds at most maxLen
// tokens, the end token included; it is correct iff the target occurs contiguously in it before the
// end token.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { PavRangeError, PavTypeError } from '../errors.ts';
import { requireInteger, requireObject } from '../ops/common.ts';

export interface PlantedTask {
  /** y*: tokens in [0, vocab-2], length >= 1. */
  target: number[];
  /** V: tokens 0 .. V-1; V-1 is the end token. */
  vocab: number;
  /** L: the most tokens a response holds, the end token included. */
  maxLen: number;
}

/** The paper's task: V = 15, L = 10, y* = [3, 6, 0, 3, 5]. */
export function paperTask(): PlantedTask {
  return { target: [3, 6, 0, 3, 5], vocab: 15, maxLen: 10 };
}

export interface SuiteOptions {
  /** Number of problems (default 500). */
  size?: number;
  /** Seed of the generator (default 0); the suite is a pure function of the options. */
  seed?: number;
  /** Vocabulary size (default 15). */
  vocab?: number;
  /** Target lengths are uniform in [minTargetLen, maxTargetLen] (default 3 .. 6). */
  minTargetLen?: number;
  maxTargetLen?: number;
  /** maxLen = |y*| + slack, slack uniform in [minSlack, maxSlack] (default 3 .. 8). */
  minSlack?: number;
  maxSlack?: number;
  /** Problem 0 is the paper's task (default true; needs vocab 15). */
  includePaperTask?: boolean;
}

/** A seeded list of problems with varied targets and lengths, so accuracy averages over difficulty. */
export function generateSuite(options: SuiteOptions = {}): PlantedTask[] {
  requireObject('options', options);
  const size = requireInteger('size', options.size ?? 500, 0, 1 << 24);
  const seed = requireInteger('seed', options.seed ?? 0, -(2 ** 31), 2 ** 32 - 1);
  const vocab = requireInteger('vocab', options.vocab ?? 15, 2, 1 << 16);
  const minT = requireInteger('minTargetLen', options.minTargetLen ?? 3, 1, 255);
  const maxT = requireInteger('maxTargetLen', options.maxTargetLen ?? 6, minT, 255);
  const minS = requireInteger('minSlack', options.minSlack ?? 3, 0, 1 << 15);
  const maxS = requireInteger('maxSlack', options.maxSlack ?? 8, minS, 1 << 15);
  const includePaper = options.includePaperTask ?? true;
  if (includePaper && vocab !== 15 && size > 0)
    throw new PavRangeError(`includePaperTask needs vocab 15, got vocab ${vocab} (pass includePaperTask: false)`);
  const rng = xoroshiro128plus(seed | 0);
  const suite: PlantedTask[] = [];
  for (let i = 0; i < size; i++) {
    if (i === 0 && includePaper) {
      suite.push(paperTask());
      continue;
    }
    const m = uniformInt(rng, minT, maxT);
    const target = Array.from({ length: m }, () => uniformInt(rng, 0, vocab - 2));
    suite.push({ target, vocab, maxLen: m + uniformInt(rng, minS, maxS) });
  }
  return suite;
}

/** Throws a typed error naming the field when a task is malformed. */
export function validateTask(task: PlantedTask, name = 'task'): void {
  if (task == null || typeof task !== 'object') throw new PavTypeError(`${name} must be a PlantedTask object`);
  requireInteger(`${name}.vocab`, task.vocab, 2, 1 << 16);
  requireInteger(`${name}.maxLen`, task.maxLen, 1, 1 << 16);
  if (!Array.isArray(task.target)) throw new PavTypeError(`${name}.target must be an array of token ids`);
  if (task.target.length < 1 || task.target.length > 255)
    throw new PavRangeError(`${name}.target has length ${task.target.length}, expected 1 .. 255`);
  task.target.forEach((t, j) => requireInteger(`${name}.target[${j}]`, t, 0, task.vocab - 2));
}

export function endToken(task: PlantedTask): number {
  return task.vocab - 1;
}

/**
 * The true checker: the target occurs contiguously in the first maxLen tokens, before any end token.
 * Tokens after the end token (or past maxLen) are ignored.
 */
export function isSolved(task: PlantedTask, trace: ArrayLike<number>): boolean {
  const { target, maxLen } = task;
  const end = task.vocab - 1;
  let n = Math.min(trace.length, maxLen);
  for (let i = 0; i < n; i++)
    if (trace[i] === end) {
      n = i;
      break;
    }
  const m = target.length;
  outer: for (let i = 0; i + m <= n; i++) {
    for (let j = 0; j < m; j++) if (trace[i + j] !== target[j]) continue outer;
    return true;
  }
  return false;
}

/** Whether a trace is complete: it ends with the end token or has maxLen tokens. */
export function isFinished(task: PlantedTask, trace: ArrayLike<number>): boolean {
  return trace.length >= task.maxLen || (trace.length > 0 && trace[trace.length - 1] === task.vocab - 1);
}

/** "3 6 0 3 5 <eos>". */
export function renderTokens(task: PlantedTask, trace: ArrayLike<number>): string {
  const end = task.vocab - 1;
  // A plain loop: Array.from with a map function and join cost the engine's answer step 2x.
  let s = '';
  for (let i = 0; i < trace.length; i++) s += (i > 0 ? ' ' : '') + (trace[i] === end ? '<eos>' : String(trace[i]));
  return s;
}

/** The native form of a problem table (see native/addon/toy_binding.cpp). */
export interface NativeProblemTable {
  targets: Int32Array;
  targetOffsets: Uint32Array;
  maxLen: Uint32Array;
  vocab: number;
}

/**
 * Problems packed once into the flat arrays the native ops read; reuse one table across calls.
 * Every problem of a table shares one vocabulary.
 */
export class ProblemTable {
  readonly tasks: readonly PlantedTask[];
  readonly vocab: number;
  readonly native: Readonly<NativeProblemTable>;

  constructor(tasks: readonly PlantedTask[]) {
    if (!Array.isArray(tasks)) throw new PavTypeError('tasks must be an array of PlantedTask');
    if (tasks.length === 0) throw new PavRangeError('a problem table needs at least one task');
    tasks.forEach((t, i) => validateTask(t, `tasks[${i}]`));
    const vocab = tasks[0].vocab;
    tasks.forEach((t, i) => {
      if (t.vocab !== vocab)
        throw new PavRangeError(`tasks[${i}].vocab is ${t.vocab} but tasks[0].vocab is ${vocab}: one table, one vocabulary`);
    });
    const targetOffsets = new Uint32Array(tasks.length + 1);
    for (let i = 0; i < tasks.length; i++) targetOffsets[i + 1] = targetOffsets[i] + tasks[i].target.length;
    const targets = new Int32Array(targetOffsets[tasks.length]);
    const maxLen = new Uint32Array(tasks.length);
    tasks.forEach((t, i) => {
      targets.set(t.target, targetOffsets[i]);
      maxLen[i] = t.maxLen;
    });
    // Frozen copies: later edits to the caller's objects cannot desynchronise the packed arrays.
    this.tasks = Object.freeze(tasks.map((t) => Object.freeze({ target: [...t.target], vocab: t.vocab, maxLen: t.maxLen })));
    this.vocab = vocab;
    this.native = Object.freeze({ targets, targetOffsets, maxLen, vocab });
  }

  static of(tasks: PlantedTask | readonly PlantedTask[]): ProblemTable {
    return new ProblemTable(Array.isArray(tasks) ? (tasks as readonly PlantedTask[]) : [tasks as PlantedTask]);
  }

  get size(): number {
    return this.tasks.length;
  }

  task(problem: number): PlantedTask {
    const t = this.tasks[problem];
    if (t === undefined) throw new PavRangeError(`problem ${problem} is not in the table (size ${this.size})`);
    return t;
  }
}
